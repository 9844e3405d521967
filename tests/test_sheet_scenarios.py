"""The Scenarios sheet of the analyst workbook: one spilled CPX_ call per block, formula rules,
checks, the funding gap line, the per-year capex path on Inputs, and headless evaluation
against the engine."""

from __future__ import annotations

import math
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from aicapex.data.dataset import load_dataset
from aicapex.engine.presets import PRESET_NAMES
from aicapex.engine.scenario import compare_presets, run_scenario
from aicapex.excel import layout as L
from aicapex.excel import sheet_scenarios as S
from aicapex.excel.headless import refresh_file
from openpyxl.formula.translate import Translator
from workbook_fixtures import (
    TIMELINE,
    checked_cpx_calls,
    formula_cells,
    master_check_inputs,
    name_cell,
)

SHEET = "Scenarios"
DS = load_dataset(overrides=None)
LAY = S.scenarios_layout(DS)
PERIODS = [L.col(c) for c in range(L.FIRST_PERIOD_COL, TIMELINE.last_period_col + 1)]
COL = {TIMELINE.year_of(c): L.col(c) for c in range(L.FIRST_PERIOD_COL,
                                                     TIMELINE.last_period_col + 1)}
#: The sheet's budget (issue #19): with the Guidance sheet, at most 25 CPX_ calls.
BUDGET = 25


def values_of(path: Path):
    return openpyxl.load_workbook(path, data_only=True)[SHEET]


def sheet_overrides(values: dict) -> dict:
    """The overrides the sheet passes for these Inputs values (blank/default dropped)."""
    out = {}
    for name, key, *_ in S.terms(DS):
        v = values.get(name)
        if v is None or (isinstance(v, str) and v.strip().lower() == "default"):
            continue
        out[key] = int(v) if key.endswith("years") and float(v).is_integer() else v
    return out


def defaults() -> dict:
    values = {r.name: r.value for r in L.INPUT_ROWS if r.name}
    values.update({r.name: r.value for r in S.scenario_inputs(DS)})
    return values


def row_values(ws, key: str, years: list[int]) -> list:
    r = LAY.rows[key] + 1
    return [ws[f"{COL[y]}{r}"].value for y in years]


# --- layout and formula rules -------------------------------------------------------------------


def test_sheet_sits_on_the_shared_timeline(template_book):
    assert template_book.sheetnames.index(SHEET) == template_book.sheetnames.index("Ratios") + 1
    ws = template_book[SHEET]
    assert ws["B1"].value == "Scenarios" and "USD millions unless stated" in ws["B2"].value
    assert ws.freeze_panes == "F6"
    assert ws["F4"].value == "=in_FirstFY" and ws.sheet_properties.tabColor.rgb.endswith("7F7F7F")
    labels = [ws.cell(r, 2).value for r in range(6, ws.max_row + 1)
              if isinstance(ws.cell(r, 2).value, str) and not ws.cell(r, 2).value.startswith("=")]
    labels = [x for x in labels if x != S.CHART_SOURCE]  # the caption under the charts
    assert len(labels) == len(set(labels))  # every line label is unique


def test_each_block_is_one_spilled_call_and_the_budget_holds(template_book):
    calls = checked_cpx_calls(formula_cells(template_book[SHEET]))
    assert sorted(calls) == sorted(["CPX_FINANCING", "CPX_MONTE_CARLO", "CPX_SCENARIOS",
                                    "CPX_SCENARIO_SOURCES"])
    guidance = checked_cpx_calls(formula_cells(template_book["Guidance"]))
    assert len(calls) + len(guidance) <= BUDGET
    ws = template_book[SHEET]
    first = LAY.rows[S.SCENARIO_ROWS[0][0]] + 1
    last = LAY.rows[S.SCENARIO_ROWS[-1][0]] + 1
    terms = sorted(LAY.terms.values())
    f = ws[f"F{first}"].value
    # the key column and the year row fix the block's shape; it never moves
    assert f.text if hasattr(f, "text") else f
    text = f.text if hasattr(f, "text") else f
    assert text == (f"=CPX_FINANCING(in_ScenTicker,in_Scenario,in_Horizon,"
                    f"$D${terms[0] + 1}:$F${terms[-1] + 1},FALSE,$D{first}:$D{last},"
                    f"F$4:{PERIODS[-1]}$4)")
    for key, r in LAY.rows.items():
        assert ws[f"D{r + 1}"].value == key


def _text(v):
    return v.text if hasattr(v, "text") else v


def test_one_formula_per_row(template_book):
    """Every period cell of a native row holds the same formula, shifted by its column."""
    ws = template_book[SHEET]
    checked = 0
    for r in range(L.HEADER_ROWS + 1, ws.max_row + 1):
        cells = [(c, _text(ws[f"{c}{r}"].value)) for c in PERIODS]
        cells = [(c, v) for c, v in cells if isinstance(v, str) and v.startswith("=")]
        if len(cells) < 2:
            continue
        (c0, f0), rest = cells[0], cells[1:]
        for c, f in rest:
            assert f == Translator(f0, origin=f"{c0}{r}").translate_formula(f"{c}{r}"), (r, c)
        checked += 1
    assert checked >= len(S.CHECKS) + 1  # the checks and the debt corkscrew


def test_terms_block_links_every_input_under_its_engine_key(template_book):
    ws = template_book[SHEET]
    for name, key, *_ in S.terms(DS):
        r = LAY.terms[name] + 1
        assert ws[f"D{r}"].value == key and ws[f"E{r}"].value is None
        assert ws[f"F{r}"].value == f"={name}"
        assert ws[f"F{r}"].font.color.rgb.endswith("008000")  # a green link
    # the per-year capex path runs from the first year a covered company projects (FY2026:
    # the December filers' base is FY2025) to the end of the longest horizon
    years = [k for _, k, *_ in S.terms(DS) if k.startswith("capex.")]
    assert years[0] == "capex.2026"
    assert years[-1] == f"capex.{TIMELINE.last_actual_fy + L.MAX_HORIZON}"


def test_inputs_are_named_validated_and_cite_their_source(template_book):
    inputs = template_book["Inputs"]
    validations = {str(dv.sqref): dv for dv in inputs.data_validations.dataValidation}
    assert template_book.defined_names["in_Horizon"].attr_text == L.input_ref("in_Horizon")  # reused
    for row in S.scenario_inputs(DS):
        cell = name_cell(template_book, row.name)
        assert cell.parent.title == "Inputs", row.name
        assert cell.value == row.value and cell.font.color.rgb.endswith("0000FF")
        assert inputs.cell(cell.row, 3).value == row.unit and row.note
        dv = validations[cell.coordinate]
        assert dv.errorStyle in (None, "stop")
        if dv.type == "custom":  # a number in bounds or a word, on this very cell
            assert dv.formula1.startswith(f"OR({cell.coordinate}=")
    assert validations[name_cell(template_book, "in_ScenTicker").coordinate].formula1 == (
        L.coverage_ref().split("!", 1)[1])
    assert name_cell(template_book, "in_Scenario").value == "all-cash"
    # buybacks and dividends are not in the data: the default (0) says so
    assert "not in the data set" in S.scenario_inputs(DS)[
        [r.name for r in S.scenario_inputs(DS)].index("in_Buybacks")].note


def test_row_3_checks_and_the_cover(template_book):
    ws = template_book[SHEET]
    total = LAY.total_row + 1
    assert ws["D3"].value == f"=$D${total}" and ws["F3"].value == "=chk_Master"
    cover = template_book["Cover"]
    # the sheet's total reaches the master check through its row of the Cover's sheet checks
    assert any(f"{SHEET}!$D$3" in f for f in master_check_inputs(template_book))
    alerts = [c.value for row in cover.iter_rows() for c in row
              if isinstance(c.value, str) and S.alert_ref(DS) in c.value]
    assert alerts
    funding = _text(ws[f"M{LAY.checks['funding'] + 1}"].value)
    need = LAY.rows["funding_need"] + 1
    assert funding == (f"=IF(ISNUMBER(M{need}),--(ABS(SUM(M{LAY.rows['cash_used'] + 1}:"
                       f"M{LAY.rows['funding_gap'] + 1})-M{need})>in_CheckTol),0)")


def test_charts_show_the_funding_gap_and_the_leverage_band(template):
    with zipfile.ZipFile(template) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    mix = [c for c in charts if "Funding mix and funding gap by year" in c]
    lev = [c for c in charts if "Net debt / EBITDA proxy with Monte Carlo" in c]
    assert len(mix) == 1 and len(lev) == 1
    assert "($bn)" in mix[0] and "(x)" in lev[0]
    assert '<c:grouping val="stacked"/>' in mix[0] and mix[0].count("<c:ser>") == 7
    assert "Funding gap (not funded)" in mix[0]
    assert lev[0].count("<c:ser>") == 4 and lev[0].count('<a:prstDash val="dash"/>') == 3
    first, last = COL[2026], PERIODS[-1]
    for xml in (mix[0], lev[0]):
        assert f"{SHEET}!${first}$4:${last}$4" in xml
        assert '<c16r3:dispNaAsBlank val="1"/>' in xml


# --- headless evaluation ----------------------------------------------------------------------


def assert_block_equals_engine(ws, values: dict) -> None:
    result = run_scenario(DS, values["in_ScenTicker"], values["in_Scenario"],
                          sheet_overrides(values), years=int(values["in_Horizon"]))
    frame = result.frame.set_index("year")
    years = frame.index.tolist()
    for key, *_ in S.SCENARIO_ROWS:
        got = row_values(ws, key, years)
        want = frame[key].tolist()
        for y, g, w in zip(years, got, want, strict=True):
            if isinstance(w, str):
                assert g == w, key
            elif math.isnan(w) and y <= result.base_year:
                assert g in ("", None), key  # outside the projection: empty
            elif math.isnan(w):
                assert g == "#N/A", key  # inside it: a gap with its reason (n.m. leverage)
            else:
                assert g == pytest.approx(w, rel=1e-9, abs=1e-6), key
    # the base year's column holds its own figures; years outside the scenario are empty,
    # never numbers (and never drawn)
    base = result.base_year
    r = LAY.rows["gross_debt"] + 1
    assert ws[f"{COL[base]}{r}"].value == DS.value(values["in_ScenTicker"], "total_debt", base)
    assert ws[f"{COL[base - 1]}{r}"].value in ("", None)
    after = [y for y in COL if y > years[-1]]
    assert all(ws[f"{COL[y]}{LAY.rows['capex'] + 1}"].value in ("", None) for y in after)
    return result


def test_headless_refresh_passes_the_checks_and_matches_the_engine(refreshed_workbook):
    ws = values_of(refreshed_workbook)
    assert ws["D3"].value == 0
    cover = openpyxl.load_workbook(refreshed_workbook, data_only=True)["Cover"]
    assert cover[L.cell(*L.COVER_MASTER)].value == 0
    values = defaults()
    result = assert_block_equals_engine(ws, values)
    # Defaults: MSFT (base FY2026, its 10-K), all-cash; no fiscal-year guidance for FY2027
    # (the ~$190bn is calendar 2026), so FY2026's 79.6% capex growth is capped at 50%
    assert result.base_year == 2026
    assert ws[f"{COL[2027]}{LAY.rows['capex'] + 1}"].value == pytest.approx(115948 * 1.5)
    assert ws[f"{COL[2027]}{LAY.rows['capex_source'] + 1}"].value == "model"
    # the funding gap is a visible line and raises its alert
    gap = row_values(ws, "funding_gap", result.frame["year"].tolist())
    assert gap[-1] > 0
    assert ws[f"D{LAY.alerts['gap'] + 1}"].value == sum(g > 0.5 for g in gap)
    # Monte Carlo, comparison and sources blocks
    p5, p50, p95 = ([ws[f"{COL[y]}{LAY.mc[k] + 1}"].value for y in range(2027, 2032)]
                    for k in ("leverage_p5", "leverage_p50", "leverage_p95"))
    assert all(a <= b <= c for a, b, c in zip(p5, p50, p95, strict=True))
    compare = compare_presets(DS, "MSFT", sheet_overrides(values), metrics=S.COMPARE_METRICS,
                              year="last", years=5)
    for m, r in LAY.metrics.items():
        got = [ws.cell(r + 1, 6 + i).value for i in range(len(PRESET_NAMES))]
        assert got == pytest.approx(compare.loc[m].tolist(), rel=1e-9), m
    src = {item: ws.cell(r + 1, 6).value for item, r in LAY.sources.items()}
    assert src["base_year"] == 2026 and src["capex_first_year"] == pytest.approx(115948 * 1.5)
    assert src["interest_expense"] == 2385  # FY2025 10-K: FY2026's is not in the data
    assert "FY2025 reported" in ws.cell(LAY.sources["interest_expense"] + 1, 8).value


def test_changed_inputs_flow_through_with_guidance_and_a_year_of_capex(template, tmp_path):
    path = tmp_path / template.name
    shutil.copyfile(template, path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    changes = {"in_ScenTicker": "META", "in_Scenario": "hybrid", "in_Horizon": 7,
               "in_BondCoupon": 0.055, "in_CapexFY2027": 200000, "in_Buybacks": 30000}
    for name, value in changes.items():
        name_cell(wb, name).value = value
    wb.save(path)
    refresh_file(path, backup=False)
    ws = values_of(path)
    assert ws["D3"].value == 0
    assert ws[f"B{LAY.scenario_header + 1}"].value == "Selected scenario: META / hybrid"
    values = {**defaults(), **changes}
    result = assert_block_equals_engine(ws, values)
    frame = result.frame.set_index("year")
    # META's FY2026 starts at its latest guide ($125-145bn incl. finance-lease principal,
    # less FY2025's 2,524); FY2027 is the typed 200,000
    assert frame.loc[2026, "capex"] == pytest.approx(132476)
    assert row_values(ws, "capex_source", [2026, 2027, 2028]) == ["guidance", "input", "model"]
    assert row_values(ws, "capex", [2027]) == [200000]
    assert (frame["buybacks"] == 30000).all()
    assert frame["bonds"].sum() > 0 and frame["spv_lease"].sum() > 0  # the waterfall is live
    assert ws[f"D{LAY.alerts['scenario'] + 1}"].value == 1


def test_a_year_the_scenario_does_not_project_is_an_error_with_its_reason(template, tmp_path):
    path = tmp_path / template.name
    shutil.copyfile(template, path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    name_cell(wb, "in_CapexFY2026").value = 150000  # MSFT's FY2026 is reported: its base year
    wb.save(path)
    refresh_file(path, backup=False)
    ws = values_of(path)
    cell = ws[f"{COL[2027]}{LAY.rows['capex'] + 1}"].value
    assert cell == "#VALUE!"
