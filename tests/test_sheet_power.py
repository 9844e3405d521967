"""The Power_Cloud sheet of the analyst workbook: layout, CPX_ calls, checks, formula rules."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from aicapex.data.dataset import load_dataset
from aicapex.excel import layout as L
from aicapex.excel.builder import build_analyst_workbook
from openpyxl.formula.tokenizer import Token, Tokenizer
from workbook_fixtures import TIMELINE, checked_cpx_calls
from workbook_fixtures import formula_cells as formulas
from workbook_fixtures import function_calls as calls

SHEET = "Power_Cloud"
PORTABLE = {"SUM", "MIN", "MAX", "ABS", "ROUND", "IF", "IFERROR", "AND", "OR", "NOT", "INDEX",
            "MATCH", "ISERROR", "ISNUMBER", "SUMPRODUCT", "COUNTIFS"}
#: Numbers allowed inside formulas: unit conversions (1000), check flags and MIN(1, ...) caps,
#: MATCH's exact-match 0 and the value column (2) of CPX_DC_ECONOMICS's field/value table.
ALLOWED_NUMBERS = {0.0, 1.0, 2.0, 1000.0}


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("power") / "ai_capex_monitor.xlsm"
    build_analyst_workbook(path, load_dataset(overrides=None))
    return path


@pytest.fixture(scope="module")
def book(workbook):
    return openpyxl.load_workbook(workbook, keep_vba=True)




def test_calls_parser_counts_arguments():
    assert calls("=INDEX(CPX_X(A1,B1,FALSE),MATCH(X1,X1:X9,0),2)") == [
        ("CPX_X", 3), ("MATCH", 3), ("INDEX", 3)]
    assert calls("=CPX_TICKERS()") == [("CPX_TICKERS", 0)]


def test_sheet_exists_in_tab_order_with_title_and_grid(book):
    assert SHEET in book.sheetnames
    from aicapex.excel import layout as L

    expected = [n for n in L.SHEETS if n in book.sheetnames]
    assert book.sheetnames == expected  # tab order as WORKBOOK_STYLE lays it out
    ws = book[SHEET]
    assert ws["B1"].value == "Power & Cloud"
    assert "USD millions unless stated" in ws["B2"].value
    assert ws.freeze_panes == "F6"
    assert ws["F4"].value == "=in_FirstFY"
    assert ws.sheet_properties.tabColor.rgb.endswith("7F7F7F")


def test_every_cpx_call_names_a_udf_with_a_valid_argument_count(book):
    seen = set(checked_cpx_calls(formulas(book[SHEET]), PORTABLE))
    assert {"CPX_TOKENS_PER_WATT", "CPX_CAPEX_PER_MW", "CPX_DC_ECONOMICS", "CPX_BACKLOG_COVERAGE",
            "CPX_VALUE"} <= seen


def test_formulas_are_short_and_carry_no_embedded_assumptions(book):
    for coord, f in formulas(book[SHEET]):
        assert len(f) <= 120, (coord, len(f), f)
        for tok in Tokenizer(f).items:
            if tok.type == Token.OPERAND and tok.subtype == Token.NUMBER:
                assert float(tok.value) in ALLOWED_NUMBERS, (coord, f)
            if tok.type == Token.OPERAND and tok.subtype == Token.TEXT:
                pytest.fail(f"{coord}: text literal in {f}")
        for banned in ("OFFSET(", "INDIRECT(", "TODAY(", "NOW(", "_xlfn", "#", "["):
            assert banned not in f, (coord, f)


def test_row_3_holds_the_sheet_check_and_master_check(book):
    ws = book[SHEET]
    total = ws["D3"].value
    assert total.startswith("=$D$")
    target = ws[total[1:].replace("$", "")]
    assert target.value.startswith("=MIN(1,SUM(D")
    assert ws.cell(target.row, 2).value == "Sheet check (0 = all checks pass)"
    assert ws["F3"].value == "=chk_Master"
    cover = book["Cover"]
    master = cover.cell(L.COVER_MASTER[0] + 1, L.COVER_MASTER[1] + 1).value
    assert f"{SHEET}!$D$3" in master


def test_checks_block_has_the_capex_identity_with_tolerance(book):
    ws = book[SHEET]
    labels = {ws.cell(r, 2).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value}
    r = labels["IT MW x capex per MW (engine) equals capex"]
    f = ws.cell(r, 4).value
    assert "in_CheckTol" in f and f.startswith("=--(ABS(")
    assert ws.cell(r, 4).number_format == '"ERROR";"ERROR";"OK"'
    assert "Facility MW x capex per MW (CPX_CAPEX_PER_MW) equals capex" in labels
    assert ws.cell(r, 3).value == "flag"


def test_labels_are_unique_and_backlog_links_follow_the_ratios_pattern(book):
    ws = book[SHEET]
    labels = [ws.cell(r, 2).value for r in range(6, ws.max_row + 1) if ws.cell(r, 2).value]
    assert len(labels) == len(set(labels))
    hits = [(c, f) for c, f in formulas(ws) if f.startswith("=CPX_VALUE(")]
    assert hits
    for coord, f in hits:
        cell = ws[coord]
        assert f.startswith("=CPX_VALUE($D$") and f.endswith(f",{cell.column_letter}$4)")
        assert f",$D{cell.row}," in f
        assert ws.cell(cell.row, 4).value in ("rpo", "revenue")
    cov = [f for _, f in formulas(ws) if f.startswith("=CPX_BACKLOG_COVERAGE(")]
    assert len(cov) == 4 * TIMELINE.n_actual  # MSFT, GOOGL, AMZN, ORCL report RPO; META, AAPL do not


def test_assumptions_are_validated_inputs_with_names(book):
    ws = book[SHEET]
    names = {n: book.defined_names[n].attr_text for n in book.defined_names}
    for name in ("in_PowerMW", "in_PUE", "in_Utilization", "in_PowerPrice", "in_TokenPrice",
                 "in_FacilityCapexMW", "in_RefChip"):
        assert name in names, name
        sheet, ref = names[name].split("!")
        if sheet != SHEET:
            continue
        cell = ws[ref.replace("$", "")]
        assert cell.font.color.rgb.endswith("0000FF") and cell.fill.fgColor.rgb.endswith("FFF2CC")
        assert any(cell.coordinate in dv.sqref for dv in ws.data_validations.dataValidation), name


def test_chart_is_a_horizontal_bar_of_tokens_per_joule_by_chip(workbook):
    with zipfile.ZipFile(workbook) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    mine = [c for c in charts if "Tokens per joule by chip generation" in c]
    assert len(mine) == 1
    xml = mine[0]
    assert '<c:barDir val="bar"/>' in xml
    assert f"{SHEET}!$B$" in xml and f"{SHEET}!$D$" in xml


def test_headless_evaluation_passes_the_checks_and_matches_hand_values(book):
    from aicapex.excel.evaluator import evaluate_workbook
    from aicapex.excel.headless import udf_registry

    res = evaluate_workbook(book, udf_registry())
    ws = book[SHEET]

    def value(label: str, col: str = "D"):
        for r in range(1, ws.max_row + 1):
            if ws.cell(r, 2).value == label:
                return res.values[(SHEET, f"{col}{r}")]
        raise KeyError(label)

    assert res.values[(SHEET, "D3")] == 0
    assert value("H100") == pytest.approx(0.18)  # 180,000 tokens/s / 1,000,000 W
    assert value("GB300-NVL72") == pytest.approx(9.0)  # 50 x Hopper
    assert value("B200") == "#N/A"  # no sourced throughput figure
    # GB200: $5.9M / 72 per GPU over 120 kW / 72 = $49.167M per MW of racks + $10.7M facility
    assert value("GB200: capex per MW of IT load") == pytest.approx(5.9e6 / 120_000 + 10.7)
    # 100 MW at PUE 1.2 = 83.33 MW of IT load; capex = 83.33 x 59.867
    it_mw = 100 / 1.2
    assert value("IT load (facility power / PUE)") == pytest.approx(it_mw)
    assert value("Capex: facility plus accelerators") == pytest.approx(it_mw * (5.9e6 / 120_000 + 10.7))
    # energy: 100 MW x 8,760 h x 60% = 525,600 MWh x $80 = $42.048M
    assert value("Energy cost a year") == pytest.approx(42.048)
    fy2025 = L.col(TIMELINE.period_col(2025))
    assert value("MSFT: backlog coverage (RPO / revenue)", fy2025) == pytest.approx(375_000 / 281_724)
