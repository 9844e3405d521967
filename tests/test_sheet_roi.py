"""The ROI sheet of the analyst workbook: layout, CPX_ calls, formula rules, checks, chart and
headless refresh against hand-computed values and the engine."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import aicapex.udfs as udfs
import numpy as np
import openpyxl
import pytest
from aicapex.engine import roi
from aicapex.excel import layout as L
from aicapex.excel import sheet_roi as R
from aicapex.excel.evaluator import SUPPORTED_FUNCTIONS, functions_in_formula
from aicapex.excel.headless import refresh_file
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from workbook_fixtures import TIMELINE, build_template, checked_cpx_calls, name_cell
from workbook_fixtures import formula_cells as formulas

SHEET = "ROI"
LAY = R.roi_layout()
FY = {fy: L.col(TIMELINE.period_col(fy)) for fy in range(TIMELINE.first_fy, TIMELINE.last_actual_fy + 1)}
ACTUAL = list(FY.values())
#: Numbers allowed inside formulas: check flags, MIN(1, ...) caps, INDEX's row 1 and the 1 of
#: "+1" / "1 - share".
ALLOWED_NUMBERS = {0.0, 1.0}
#: MSFT 10-K figures (purchases of property and equipment; operating cash flow; revenue).
MSFT = {"capex": {2024: 44477.0, 2025: 64551.0}, "ocf": {2024: 118548.0, 2025: 136162.0},
        "revenue": {2020: 143015.0, 2025: 281724.0}}


def crf(rate: float, life: float) -> float:
    """Capital-recovery factor by hand: r / (1 - (1 + r)^-n)."""
    return rate / (1 - (1 + rate) ** -life)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory.mktemp("roi"))


@pytest.fixture(scope="module")
def book(workbook):
    return openpyxl.load_workbook(workbook, keep_vba=True)


@pytest.fixture(scope="module")
def values(refreshed_workbook):
    return openpyxl.load_workbook(refreshed_workbook, data_only=True)





def defaults(book) -> dict[str, float]:
    return {row.name: name_cell(book, row.name).value for row in R.INPUTS}


def row(key: str, ticker: str | None = None) -> int:
    """1-based row of a company-block row (or a peer row without ticker)."""
    return (LAY.peer[key] if ticker is None else LAY.blocks[ticker][key]) + 1


# --- layout and formula rules -------------------------------------------------------------------


def test_sheet_sits_after_power_cloud_on_the_shared_timeline(book):
    assert book.sheetnames == [n for n in L.SHEETS if n in book.sheetnames]
    assert book.sheetnames.index(SHEET) == book.sheetnames.index("Power_Cloud") + 1
    assert SHEET in L.TIMELINE_SHEETS
    ws = book[SHEET]
    assert ws["B1"].value == R.TITLE and "USD millions unless stated" in ws["B2"].value
    assert ws.freeze_panes == "F6"
    assert ws["F4"].value == "=in_FirstFY" and ws.sheet_properties.tabColor.rgb.endswith("7F7F7F")
    assert FY[2019] == "F" and FY[2025] == "L"  # the same columns as Ratios
    labels = [ws.cell(r, 2).value for r in range(6, ws.max_row + 1) if ws.cell(r, 2).value]
    assert len(labels) == len(set(labels))  # every line label is unique
    headers = [ws.cell(b["header"] + 1, 4).value for b in LAY.blocks.values()]
    assert headers == L.COVERAGE  # blocks in the fixed coverage order
    for r in range(L.HEADER_ROWS + 1, ws.max_row + 1):  # estimate columns stay empty
        assert ws[f"M{r}"].value is None


def test_every_cpx_call_names_a_udf_with_a_valid_argument_count(book):
    seen = set(checked_cpx_calls(formulas(book[SHEET])))
    assert seen == {"CPX_VALUE", "CPX_REQUIRED_REVENUE", "CPX_REVENUE_GAP",
                    "CPX_INCREMENTAL_RETURN", "CPX_PAYBACK"}


def test_formulas_are_short_portable_and_carry_no_constants(book):
    for coord, f in formulas(book[SHEET]):
        assert len(f) <= 120, (coord, len(f), f)
        native = {n for n in functions_in_formula(f) if not n.startswith("CPX_")}
        assert native <= SUPPORTED_FUNCTIONS, (coord, native)
        for banned in ("OFFSET(", "INDIRECT(", "TODAY(", "NOW(", "_xlfn", "[", "IFERROR("):
            assert banned not in f, (coord, f)
        for tok in Tokenizer(f).items:
            if tok.type == Token.OPERAND and tok.subtype == Token.NUMBER:
                assert float(tok.value) in ALLOWED_NUMBERS, (coord, f)
            if tok.type == Token.OPERAND and tok.subtype == Token.TEXT:
                assert tok.value == '"<"' and "COUNTIFS(" in f, (coord, f)  # "<"&-in_CheckTol
        assert "MSFT" not in f and not re.search(r"20\d\d", f), (coord, f)


def test_one_formula_per_row(book):
    """Every period cell of a row holds the same formula, shifted by its column."""
    ws = book[SHEET]
    checked = 0
    for r in range(L.HEADER_ROWS + 1, ws.max_row + 1):
        cells = [(c, ws[f"{c}{r}"].value) for c in ACTUAL]
        cells = [(c, v) for c, v in cells if isinstance(v, str) and v.startswith("=")]
        if not cells:
            continue
        assert len(cells) == len(ACTUAL), r  # a formula row fills every actual year
        (c0, f0), rest = cells[0], cells[1:]
        for c, f in rest:
            assert f == Translator(f0, origin=f"{c0}{r}").translate_formula(f"{c}{r}"), (r, c)
        checked += 1
    assert checked == len(L.COVERAGE) * len(R.BLOCK_ROWS) + len(R.PEER_ROWS) + len(
        R.PER_YEAR_CHECKS)


def test_link_rows_follow_the_ratios_pattern_and_engine_rows_read_them(book):
    ws = book[SHEET]
    for b in LAY.blocks.values():
        key = f"$D${b['header'] + 1}"
        for fld in R.LINKS:
            r = b[fld] + 1
            assert ws[f"D{r}"].value == fld
            assert ws[f"F{r}"].value == f"=CPX_VALUE({key},$D{r},F$4)"
            assert ws[f"F{r}"].font.color.rgb.endswith("7030A0")  # engine purple, as on Ratios
        cap, ocf, rev = (b[k] + 1 for k in R.LINKS)
        assert ws[f"F{b['required'] + 1}"].value == (
            f"=CPX_REQUIRED_REVENUE(F{cap},$D$8:$D$9,$D$10:$D$11,in_ROIHurdle,in_ROIMargin,"
            "in_ROIOpex)")
        cum, req = b["cumulative"] + 1, b["required"] + 1
        assert ws[f"G{cum}"].value == f"=F{cum}+F{req}*(F$4>=in_ROIBaseFY)"  # a corkscrew
        assert ws[f"F{b['inc_return'] + 1}"].value == (
            f"=INDEX(CPX_INCREMENTAL_RETURN($F{ocf}:$L{ocf},$F{cap}:$L{cap}),1,F$4-in_FirstFY+1)")
        assert ws[f"G{b['payback'] + 1}"].value == (
            f"=IF(G{b['inc_return'] + 1}>0,CPX_PAYBACK(F{cap},G{ocf}-F{ocf}),NA())")
        assert f"INDEX($F{rev}:$L{rev},1,in_ROIBaseFY-in_FirstFY+1)" in ws[
            f"F{b['incremental'] + 1}"].value
    peer = LAY.peer["capex"] + 1
    parts = ",".join(f"F{LAY.blocks[t]['capex'] + 1}" for t in L.PEER_SET)
    assert ws[f"F{peer}"].value == f"=SUM({parts})"
    gap = ws[f"L{row('gap')}"].value
    assert gap == f"=CPX_REVENUE_GAP(L{peer},in_CostMultiple,in_EndMargin,L{row('ai_revenue')})"


def test_lives_and_split_ranges_link_the_inputs_and_sum_to_one(book):
    ws = book[SHEET]
    t = {k: r + 1 for k, r in LAY.terms.items()}
    assert [t[k] for k in R.TERMS] == [8, 9, 10, 11]
    assert ws["D8"].value == "=in_ROIServerLife" and ws["D9"].value == "=in_ROIBuildingLife"
    assert ws["D10"].value == "=in_ROIServerShare" and ws["D11"].value == "=1-$D$10"
    for r in (8, 9, 10):
        assert ws[f"D{r}"].font.color.rgb.endswith("008000")  # green links


def test_inputs_are_named_validated_and_cite_their_source(book):
    inputs = book["Inputs"]
    validations = {str(dv.sqref): dv for dv in inputs.data_validations.dataValidation}
    for r in R.INPUTS:
        cell = name_cell(book, r.name)
        assert cell.parent.title == "Inputs", r.name
        assert cell.value == r.value and cell.font.color.rgb.endswith("0000FF")
        assert inputs.cell(cell.row, 3).value == r.unit and r.note
        assert inputs.cell(cell.row, 6).value == r.note
        dv = validations[cell.coordinate]
        assert dv.errorStyle in (None, "stop") and dv.type in ("decimal", "whole")
    header = inputs.cell(name_cell(book, R.INPUTS[0].name).row - 1, 2).value
    assert header == "ROI assumptions (illustrative)"
    d = defaults(book)
    assert d["in_ROIHurdle"] == 0.10 and d["in_CostMultiple"] == 2 and d["in_EndMargin"] == 0.5
    notes = {r.name: r.note for r in R.INPUTS}
    for name in ("in_CostMultiple", "in_EndMargin", "in_ROIServerShare"):
        assert "AI's $600B Question" in notes[name] and "June 2024" in notes[name]
    assert d["in_AIRevenue"] == 0  # never an invented AI revenue figure
    assert notes["in_AIRevenue"].startswith("0 = show the whole requirement; enter your own "
                                            "estimate")


def test_row_3_checks_the_cover_and_the_checks_block(book):
    ws = book[SHEET]
    total = LAY.total_row + 1
    assert ws["D3"].value == f"=$D${total}" and ws["F3"].value == "=chk_Master"
    assert ws[f"D{total}"].value.startswith("=MIN(1,SUM(D")
    cover = book["Cover"]
    assert f"{SHEET}!$D$3" in cover.cell(L.COVER_MASTER[0] + 1, L.COVER_MASTER[1] + 1).value
    texts = [c.value for r in cover.iter_rows() for c in r if isinstance(c.value, str)]
    assert any(R.alert_ref(None) in v for v in texts)  # the alert count reaches the Cover
    assert any("revenue each vintage must earn" in v for v in texts)  # contents line
    checks = {ws.cell(r + 1, 2).value: r + 1 for r in LAY.checks.values()}
    f = ws[f"F{checks['Peer capex (sum of companies) = Ratios peer capex']}"].value
    assert f.startswith("=IF(ISNUMBER(F") and "--(ABS(" in f and ">in_CheckTol)" in f
    assert ws[f"F{row('capex_ratios')}"].value == (
        f"=Ratios!F{L.ratios_layout().peer_rows['capex'] + 1}")
    nonneg = ws[f"D{checks['MSFT: required revenue >= 0 wherever computed']}"].value
    assert nonneg == f'=MIN(1,COUNTIFS(F{row("required", "MSFT")}:L{row("required", "MSFT")},' \
                     '"<"&-in_CheckTol))'
    for r in checks.values():
        assert ws[f"D{r}"].number_format == '"ERROR";"ERROR";"OK"'


def test_chart_required_vs_actual_peer_sum(workbook):
    with zipfile.ZipFile(workbook) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    mine = [c for c in charts if "Required vs actual" in c]
    assert len(mine) == 1
    xml = mine[0]
    assert "peer sum, FY2019–FY2025 ($bn)" in xml
    assert '<c:barDir val="col"/>' in xml and '<c:grouping val="clustered"/>' in xml
    assert xml.count("<c:ser>") == 2
    for key, (name, colour) in R.CHART_SERIES.items():
        r = LAY.peer[key] + 1
        assert f"{SHEET}!$F${r}:$L${r}" in xml and name in xml
        assert colour.lstrip("#") in xml
    assert f"{SHEET}!$F$4:$L$4" in xml and "#,##0," in xml
    ws = openpyxl.load_workbook(workbook)[SHEET]
    assert ws.cell(LAY.chart_row + 16, 2).value.startswith("Source: company 10-K filings")


# --- headless refresh ----------------------------------------------------------------------


def test_refresh_passes_the_checks_and_leaves_only_documented_gaps(refreshed_workbook, values):
    ws = values[SHEET]
    assert ws["D3"].value == 0
    assert values["Cover"][L.cell(*L.COVER_MASTER)].value == 0
    wf = openpyxl.load_workbook(refreshed_workbook)[SHEET]
    for coord, _ in formulas(wf):
        v = ws[coord].value
        assert v is not None, coord
        if isinstance(v, str) and v.startswith("#"):
            assert v == "#N/A", (coord, v)
    # the only missing reported figure: META FY2019 revenue (one alert)
    assert ws[f"F{row('revenue', 'META')}"].value == "#N/A"
    assert ws[f"D{LAY.alerts['gaps_META'] + 1}"].value == 1
    assert ws[f"D{LAY.alert_total + 1}"].value == 1


def test_msft_required_revenue_matches_the_engine_and_the_hand_formula(book, values):
    ws = values[SHEET]
    d = defaults(book)
    lives = [d["in_ROIServerLife"], d["in_ROIBuildingLife"]]
    split = [d["in_ROIServerShare"], 1 - d["in_ROIServerShare"]]
    got = ws[f"L{row('required', 'MSFT')}"].value
    capex = MSFT["capex"][2025]
    assert ws[f"L{row('capex', 'MSFT')}"].value == capex
    engine = roi.required_revenue(capex, lives, split, d["in_ROIHurdle"], d["in_ROIMargin"],
                                  d["in_ROIOpex"])
    assert got == pytest.approx(engine, rel=1e-12)
    # by hand: 64,551 x (0.5 x CRF(10%, 6) + 0.5 x CRF(10%, 20) + 5%) / 50%
    hand = capex * (0.5 * crf(0.10, 6) + 0.5 * crf(0.10, 20) + 0.05) / 0.5
    assert (lives, split, d["in_ROIHurdle"], d["in_ROIMargin"], d["in_ROIOpex"]) == (
        [6, 20], [0.5, 0.5], 0.10, 0.5, 0.05)
    assert got == pytest.approx(hand, rel=1e-12)
    assert got == pytest.approx(28858.6, abs=0.05)


def test_required_revenue_udf_simple_case_by_hand():
    # $100 over 6 years at 10%, margin 1, no running costs: 100 x 0.1 / (1 - 1.1^-6) = 22.96
    assert udfs.cpx_required_revenue(100, 6, None, 0.10, 1.0) == pytest.approx(22.96, abs=0.005)
    # the sheet's call shape: lives and split as two-cell column ranges
    got = udfs.cpx_required_revenue(100, [[6.0], [20.0]], [[1.0], [0.0]], 0.10, 1.0, 0.0)
    assert got == pytest.approx(100 * 0.1 / (1 - 1.1 ** -6), rel=1e-12)


def test_realised_rows_match_the_filings_by_hand(values):
    ws = values[SHEET]
    m = MSFT
    assert ws[f"L{row('incremental', 'MSFT')}"].value == m["revenue"][2025] - m["revenue"][2020]
    assert ws[f"F{row('incremental', 'MSFT')}"].value == 0  # before the base year
    d_ocf = m["ocf"][2025] - m["ocf"][2024]
    assert ws[f"L{row('inc_return', 'MSFT')}"].value == pytest.approx(
        d_ocf / m["capex"][2024], rel=1e-12)
    assert ws[f"L{row('payback', 'MSFT')}"].value == pytest.approx(
        m["capex"][2024] / d_ocf, rel=1e-12)
    assert ws[f"F{row('inc_return', 'MSFT')}"].value == "#N/A"  # no prior year
    # OCF fell (MSFT FY2023): no payback, shown as #N/A, never a number
    assert ws[f"{FY[2023]}{row('payback', 'MSFT')}"].value == "#N/A"


def test_cumulative_requirement_equals_the_engine_vintage_schedule(book, values, dataset):
    ws = values[SHEET]
    d = defaults(book)
    base = int(d["in_ROIBaseFY"])
    years = list(range(base, TIMELINE.last_actual_fy + 1))
    capex = [sum(dataset.value(t, "capex", fy) for t in L.PEER_SET) for fy in years]
    expected = roi.cumulative_required_revenue(
        capex, [d["in_ROIServerLife"], d["in_ROIBuildingLife"]],
        [d["in_ROIServerShare"], 1 - d["in_ROIServerShare"]], d["in_ROIHurdle"],
        d["in_ROIMargin"], d["in_ROIOpex"], delay=1, horizon=len(years))
    got = [ws[f"{FY[fy]}{row('cumulative')}"].value for fy in years]
    assert got == pytest.approx(expected.tolist(), rel=1e-12)
    assert ws[f"F{row('cumulative')}"].value == 0  # before the base year nothing is counted
    inc = [ws[f"{FY[fy]}{row('incremental')}"].value for fy in years]
    short = [ws[f"{FY[fy]}{row('shortfall')}"].value for fy in years]
    assert short == pytest.approx((np.array(got) - np.array(inc)).tolist())
    assert ws[f"F{row('incremental')}"].value == "#N/A"  # META FY2019 revenue not reported


def test_peer_revenue_gap_by_hand(values, dataset):
    ws = values[SHEET]
    capex = sum(dataset.value(t, "capex", 2025) for t in L.PEER_SET)
    assert ws[f"L{row('capex')}"].value == capex == 378723.0
    # Sequoia's framing: capex x 2 / 50% - AI revenue (default 0)
    assert ws[f"L{row('gap')}"].value == pytest.approx(capex * 2 / 0.5 - 0)
    assert ws[f"K{row('ai_revenue')}"].value == 0


def test_changed_inputs_flow_through(workbook, tmp_path, dataset):
    path = tmp_path / workbook.name
    shutil.copyfile(workbook, path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    for name, value in (("in_ROIServerShare", 1.0), ("in_ROIServerLife", 5.0),
                        ("in_ROIMargin", 1.0), ("in_ROIOpex", 0.0), ("in_ROIHurdle", 0.10),
                        ("in_ROIBaseFY", 2019), ("in_AIRevenue", 100_000.0),
                        ("in_CostMultiple", 1.5)):
        name_cell(wb, name).value = value
    wb.save(path)
    refresh_file(path, backup=False)
    ws = openpyxl.load_workbook(path, data_only=True)[SHEET]
    assert ws["D3"].value == 0
    # all servers, 5 years, 10%, margin 1, no running costs: capex x 0.1 / (1 - 1.1^-5)
    assert ws[f"L{row('required', 'MSFT')}"].value == pytest.approx(
        MSFT["capex"][2025] * 0.1 / (1 - 1.1 ** -5), rel=1e-12)
    capex = sum(dataset.value(t, "capex", 2025) for t in L.PEER_SET)
    assert ws[f"L{row('gap')}"].value == pytest.approx(capex * 1.5 / 0.5 - 100_000)
    assert ws[f"K{row('gap')}"].value == pytest.approx(
        sum(dataset.value(t, "capex", 2024) for t in L.PEER_SET) * 1.5 / 0.5)  # AI revenue: latest FY only
    # a 5-year life from FY2019: the FY2019 vintage retires before FY2025 -> the alert is raised
    assert ws[f"D{LAY.alerts['retire'] + 1}"].value == 1
    assert ws[f"G{row('cumulative', 'MSFT')}"].value == pytest.approx(
        ws[f"F{row('required', 'MSFT')}"].value)  # FY2019 vintages now count from FY2020
