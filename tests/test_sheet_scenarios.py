"""The Scenarios sheet of the analyst workbook: layout, CPX_ calls, formula rules, checks and
headless evaluation against the engine."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from aicapex.data.dataset import load_dataset
from aicapex.engine.financing import (
    COLUMNS,
    ScenarioInputs,
    apply_overrides,
    base_from_dataset,
    project_financing,
)
from aicapex.engine.montecarlo import BAND_COLUMNS
from aicapex.engine.presets import PRESET_NAMES, get_preset
from aicapex.excel import layout as L
from aicapex.excel import sheet_scenarios as S
from aicapex.excel.builder import build_analyst_workbook
from aicapex.excel.evaluator import SUPPORTED_FUNCTIONS, functions_in_formula
from aicapex.excel.headless import refresh_file
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from workbook_fixtures import TIMELINE, checked_cpx_calls, name_cell
from workbook_fixtures import formula_cells as formulas

SHEET = "Scenarios"
LAY = S.scenarios_layout()
M = L.col(TIMELINE.period_col(2026))  # the first projected year's column on every timeline sheet
EST = [L.col(c) for c in S.EST_COLS]
#: Numbers allowed inside formulas: flags, MIN(1, ...) caps, INDEX's first row.
ALLOWED_NUMBERS = {0.0, 1.0}
MSFT_CAPEX = {2024: 44477.0, 2025: 64551.0}  # MSFT 10-K, purchases of property and equipment


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenarios") / "ai_capex_monitor.xlsm"
    build_analyst_workbook(path, load_dataset(overrides=None))
    return path


@pytest.fixture(scope="module")
def book(workbook):
    return openpyxl.load_workbook(workbook, keep_vba=True)


@pytest.fixture(scope="module")
def refreshed(workbook, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenarios_refreshed") / workbook.name
    shutil.copyfile(workbook, path)
    refresh_file(path, backup=False)
    return path





def row_of(ws, label: str) -> int:
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, 2).value == label:
            return r
    raise KeyError(label)


# --- layout and formula rules -------------------------------------------------------------------


def test_sheet_sits_on_the_shared_timeline(book):
    assert book.sheetnames.index(SHEET) == book.sheetnames.index("Ratios") + 1
    ws = book[SHEET]
    assert ws["B1"].value == "Scenarios" and "USD millions unless stated" in ws["B2"].value
    assert ws.freeze_panes == "F6"
    assert ws["F4"].value == "=in_FirstFY" and ws.sheet_properties.tabColor.rgb.endswith("7F7F7F")
    assert M == "M" and TIMELINE.period_col(2019) == 5  # FY2019 = F ... FY2026 = M, as on Ratios
    labels = [ws.cell(r, 2).value for r in range(6, ws.max_row + 1)
              if isinstance(ws.cell(r, 2).value, str) and not ws.cell(r, 2).value.startswith("=")]
    labels = [x for x in labels if x != S.CHART_SOURCE]  # the caption under each chart
    assert len(labels) == len(set(labels))  # every line label is unique
    # projection formulas live in the estimate columns only (M..V)
    r = LAY.rows["capex"] + 1
    assert ws[f"L{r}"].value is None and ws[f"{M}{r}"].value.startswith("=INDEX(CPX_FINANCING(")
    assert ws[f"{EST[-1]}{r}"].value.startswith("=INDEX(CPX_FINANCING(")


def test_every_cpx_call_names_a_udf_with_a_valid_argument_count(book):
    seen = set(checked_cpx_calls(formulas(book[SHEET])))
    assert {"CPX_FINANCING", "CPX_SCENARIOS", "CPX_MONTE_CARLO", "CPX_VALUE"} <= seen


def test_formulas_are_short_portable_and_carry_no_constants(book):
    texts = []
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
                texts.append(coord)
        assert '"MSFT"' not in f and "2025" not in f and "2026" not in f, (coord, f)
    # text only in the two block titles ("Selected scenario: MSFT / all-cash")
    assert {re.sub(r"\d", "", c) for c in texts} == {"B"}
    assert {int(re.sub(r"\D", "", c)) for c in texts} == {LAY.scenario_header + 1,
                                                          LAY.compare_header + 1}


def test_one_formula_per_row(book):
    """Every period cell of a row holds the same formula, shifted by its column."""
    ws = book[SHEET]
    periods = [L.col(c) for c in range(L.FIRST_PERIOD_COL, TIMELINE.last_period_col + 1)]
    checked = 0
    for r in range(L.HEADER_ROWS + 1, ws.max_row + 1):
        cells = [(c, ws[f"{c}{r}"].value) for c in periods]
        cells = [(c, v) for c, v in cells if isinstance(v, str) and v.startswith("=")]
        if len(cells) < 2:
            continue
        (c0, f0), rest = cells[0], cells[1:]
        for c, f in rest:
            assert f == Translator(f0, origin=f"{c0}{r}").translate_formula(f"{c}{r}"), (r, c)
        checked += 1
    assert checked >= len(S.SCENARIO_ROWS) + len(S.MC_ROWS) + len(S.CHECKS)


def test_engine_rows_read_the_column_their_key_names(book):
    ws = book[SHEET]
    notes = L.col(TIMELINE.notes_col)
    for key, r in LAY.rows.items():
        f = ws[f"{M}{r + 1}"].value
        if key in COLUMNS:
            assert f == (f"=INDEX(CPX_FINANCING(in_ScenTicker,in_Scenario,in_Horizon,"
                         f"$D$8:$F$16,FALSE),{M}${LAY.index_row + 1},$D{r + 1})")
            assert ws[f"D{r + 1}"].value == COLUMNS.index(key) + 1
            assert f"Engine column {key} " in ws[f"{notes}{r + 1}"].value
    for key, r in LAY.mc.items():
        assert ws[f"D{r + 1}"].value == BAND_COLUMNS.index(key) + 1
        assert "CPX_MONTE_CARLO(in_ScenTicker,in_Scenario,in_MCPaths,in_MCSeed" in ws[f"{M}{r + 1}"].value
    for m, r in LAY.metrics.items():
        assert ws[f"D{r + 1}"].value == m and "CPX_SCENARIOS(" in ws[f"F{r + 1}"].value
    names = [ws.cell(LAY.preset_row + 1, c + 1).value for c in S.PRESET_COLS]
    assert names == list(PRESET_NAMES)


def test_terms_block_links_every_input_under_its_engine_key(book):
    ws = book[SHEET]
    rows = sorted(LAY.terms.values())
    assert f"$D${rows[0] + 1}:$F${rows[-1] + 1}" == "$D$8:$F$16"
    for name, key, *_ in S.TERMS:
        r = LAY.terms[name] + 1
        assert ws[f"D{r}"].value == key and ws[f"E{r}"].value is None
        assert ws[f"F{r}"].value == f"={name}"
        assert ws[f"F{r}"].font.color.rgb.endswith("008000")  # a green link


def test_inputs_are_named_validated_and_cite_their_source(book):
    inputs = book["Inputs"]
    validations = {str(dv.sqref): dv for dv in inputs.data_validations.dataValidation}
    assert book.defined_names["in_Horizon"].attr_text == L.input_ref("in_Horizon")  # reused
    for row in S.INPUTS:
        cell = name_cell(book, row.name)
        assert cell.parent.title == "Inputs", row.name
        assert cell.value == row.value and cell.font.color.rgb.endswith("0000FF")
        assert inputs.cell(cell.row, 3).value == row.unit and row.note
        dv = validations[cell.coordinate]
        assert dv.errorStyle in (None, "stop")
        if dv.type == "custom":  # a number in bounds or the word default, on this very cell
            assert dv.formula1.startswith(f'OR({cell.coordinate}="default",')
    assert validations[name_cell(book, "in_ScenTicker").coordinate].formula1 == "$D$8:$D$13"
    assert validations[name_cell(book, "in_Scenario").coordinate].formula1 == (
        '"' + ",".join(PRESET_NAMES) + '"')
    assert name_cell(book, "in_Scenario").value == "all-cash"


def test_row_3_checks_and_the_cover(book):
    ws = book[SHEET]
    total = LAY.total_row + 1
    assert ws["D3"].value == f"=$D${total}" and ws["F3"].value == "=chk_Master"
    assert ws[f"D{total}"].value.startswith("=MIN(1,SUM(D")
    cover = book["Cover"]
    assert f"{SHEET}!$D$3" in cover.cell(L.COVER_MASTER[0] + 1, L.COVER_MASTER[1] + 1).value
    alerts = [c.value for row in cover.iter_rows() for c in row
              if isinstance(c.value, str) and S.alert_ref(None) in c.value]
    assert alerts
    checks = {ws.cell(r + 1, 2).value: r + 1 for r in LAY.checks.values()}
    funding = ws[f"{M}{checks['Funding sources equal the funding need']}"].value
    assert "in_CheckTol" in funding and "SUM(" in funding
    debt = ws[f"{M}{checks['Debt: closing = opening + new - repaid']}"].value
    assert debt.startswith("=IF(ISNUMBER(") and "in_CheckTol" in debt


def test_charts_funding_mix_and_leverage_band(workbook):
    with zipfile.ZipFile(workbook) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    mix = [c for c in charts if "Funding mix by year" in c]
    lev = [c for c in charts if "Net debt / EBITDA with Monte Carlo" in c]
    assert len(mix) == 1 and len(lev) == 1
    assert "($bn)" in mix[0] and "(x)" in lev[0]
    assert '<c:grouping val="stacked"/>' in mix[0] and mix[0].count("<c:ser>") == 6
    assert lev[0].count("<c:ser>") == 4 and lev[0].count('<a:prstDash val="dash"/>') == 3
    for xml in (mix[0], lev[0]):
        assert f"{SHEET}!$M$4:$V$4" in xml and "FY2026–FY2035" in xml
    ws = openpyxl.load_workbook(workbook)[SHEET]
    captions = [r for r in range(LAY.chart_row, ws.max_row + 1)
                if (ws.cell(r, 2).value or "").startswith("Source:")]
    assert len(captions) == 2


# --- headless evaluation ----------------------------------------------------------------------


def values_of(path: Path):
    return openpyxl.load_workbook(path, data_only=True)[SHEET]


def cached_row(ws, key: str, horizon: int) -> list[float]:
    r = LAY.rows[key] + 1
    return [ws[f"{c}{r}"].value for c in EST[:horizon]]


def assert_identities(ws, horizon: int, opening_debt: float) -> None:
    rows = {k: cached_row(ws, k, horizon) for k in LAY.rows}
    for i in range(horizon):
        sources = sum(rows[k][i] for k in S.SOURCES)
        assert sources == pytest.approx(rows["funding_gap"][i], abs=1e-6)
        opening = opening_debt if i == 0 else rows["gross_debt"][i - 1]
        assert rows["opening"][i] == pytest.approx(opening)
        assert rows["gross_debt"][i] == pytest.approx(
            opening + rows["new_debt"][i] - rows["repayment"][i], abs=1e-6)
        assert rows["net_debt"][i] == pytest.approx(rows["gross_debt"][i] - rows["cash"][i])
        assert rows["fcf"][i] == pytest.approx(rows["ocf"][i] - rows["capex"][i])
        assert rows["year"][i] == 2026 + i
    for c in EST[horizon:]:  # beyond the horizon: a gap, never a number
        assert ws[f"{c}{LAY.rows['capex'] + 1}"].value == "#N/A"


def test_headless_refresh_passes_the_checks_and_matches_the_engine(refreshed, dataset):
    ws = values_of(refreshed)
    assert ws["D3"].value == 0
    assert openpyxl.load_workbook(refreshed, data_only=True)["Cover"][
        L.cell(*L.COVER_MASTER)].value == 0
    # Defaults: MSFT, all-cash, 5 years, capex growing at its latest year-on-year rate.
    capex = ws[f"{M}{LAY.rows['capex'] + 1}"].value
    assert capex == pytest.approx(MSFT_CAPEX[2025] * MSFT_CAPEX[2025] / MSFT_CAPEX[2024])
    base = base_from_dataset(dataset, "MSFT")
    s, i, _ = apply_overrides(get_preset("all-cash"), ScenarioInputs(years=5),
                              {"depreciation.server_life": 6.0})
    frame = project_financing(base, s, i)
    for key in ("capex", "ocf", "cash", "da", "net_debt_to_ebitda"):
        assert cached_row(ws, key, 5) == pytest.approx(frame[key].tolist(), rel=1e-12), key
    assert_identities(ws, 5, dataset.value("MSFT", "total_debt", 2025))
    assert ws[f"D{LAY.alert_total + 1}"].value == 0  # the base case, every value present
    p5, p50, p95 = (cached_row_mc(ws, k) for k in ("leverage_p5", "leverage_p50", "leverage_p95"))
    assert all(a <= b <= c for a, b, c in zip(p5, p50, p95, strict=True))
    compare = {ws.cell(r + 1, 4).value: [ws.cell(r + 1, c + 1).value for c in S.PRESET_COLS]
               for r in LAY.metrics.values()}
    assert compare["capex"] == pytest.approx([frame["capex"].iloc[-1]] * len(PRESET_NAMES))
    assert compare["net_debt"][0] == pytest.approx(frame["net_debt"].iloc[-1])


def cached_row_mc(ws, key: str, horizon: int = 5) -> list[float]:
    return [ws[f"{c}{LAY.mc[key] + 1}"].value for c in EST[:horizon]]


def test_changed_inputs_flow_through_and_raise_the_scenario_alert(workbook, tmp_path, dataset):
    path = tmp_path / workbook.name
    shutil.copyfile(workbook, path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    for name, value in (("in_ScenTicker", "ORCL"), ("in_Scenario", "hybrid"), ("in_Horizon", 8),
                        ("in_CapexGrowth", 0.3), ("in_BondCoupon", 0.055)):
        name_cell(wb, name).value = value
    wb.save(path)
    refresh_file(path, backup=False)
    ws = values_of(path)
    assert ws["D3"].value == 0
    assert ws[f"B{LAY.scenario_header + 1}"].value == "Selected scenario: ORCL / hybrid"
    base = base_from_dataset(dataset, "ORCL")
    s, i, _ = apply_overrides(get_preset("hybrid"), ScenarioInputs(years=8),
                              {"bonds.coupon": 0.055, "lease.capex_share": 0.25,
                               "lease.lease_yield": 0.066, "private_credit.spread": 0.06,
                               "inputs.capex_growth": 0.3, "depreciation.server_life": 6.0})
    frame = project_financing(base, s, i)
    for key in ("capex", "bonds", "spv_lease", "equity", "interest", "gross_debt"):
        assert cached_row(ws, key, 8) == pytest.approx(frame[key].tolist(), rel=1e-12), key
    assert frame["bonds"].sum() > 0 and frame["spv_lease"].sum() > 0  # the waterfall is live
    assert_identities(ws, 8, dataset.value("ORCL", "total_debt", 2025))
    assert ws[f"D{LAY.alerts['scenario'] + 1}"].value == 1
    assert ws[f"D{LAY.alert_total + 1}"].value == 1
