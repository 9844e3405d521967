"""The ROI sheet of the analyst workbook: layout, the CPX_ budget, formula rules, both "$600B
question" modes, the chart, and a headless refresh against the engine and hand-computed values."""

from __future__ import annotations

import shutil
import zipfile

import openpyxl
import pytest
from aicapex.engine import roi
from aicapex.excel import layout as L
from aicapex.excel import sheet_roi as R
from aicapex.excel.headless import refresh_file
from openpyxl.worksheet.formula import ArrayFormula
from workbook_fixtures import TIMELINE, checked_cpx_calls, formula_cells, name_cell
from workbook_fixtures import function_calls as calls

SHEET = "ROI"
LAY = R.roi_layout()
FY = {fy: L.col(TIMELINE.period_col(fy)) for fy in TIMELINE.actual_years}
FIRST, LAST = FY[TIMELINE.first_fy], FY[TIMELINE.last_actual_fy]
#: MSFT 10-K figures (purchases of property and equipment; operating cash flow; revenue).
MSFT = {"capex": {2024: 44477.0, 2025: 64551.0}, "ocf": {2024: 118548.0, 2025: 136162.0},
        "revenue": {2022: 198270.0, 2025: 281724.0}}
PEERS = ["MSFT", "GOOGL", "AMZN", "META", "ORCL"]


def crf(rate: float, life: float) -> float:
    """Capital-recovery factor by hand: r / (1 - (1 + r)^-n)."""
    return rate / (1 - (1 + rate) ** -life)


@pytest.fixture(scope="module")
def values(refreshed_workbook):
    return openpyxl.load_workbook(refreshed_workbook, data_only=True)


def row(key: str, ticker: str | None = None) -> int:
    """1-based row of a company-block row (or a peer row without ticker)."""
    return (LAY.peer[key] if ticker is None else LAY.blocks[ticker][key]) + 1


# --- layout, budget and formula rules ------------------------------------------------------------


def test_sheet_sits_after_power_cloud_on_the_shared_timeline(template_book):
    names = template_book.sheetnames
    assert names.index(SHEET) == names.index("Power_Cloud") + 1
    ws = template_book[SHEET]
    assert ws["B1"].value == R.TITLE and ws["F4"].value == "=in_FirstFY"
    assert list(LAY.blocks) == PEERS  # AI peers only: AAPL, the control, is not aggregated


def test_power_and_roi_fit_the_budget_of_25_cpx_calls(template_book):
    def count(ws):
        return sum(n.startswith("CPX_") for _, f in formula_cells(ws) for n, _ in calls(f))

    assert count(template_book[SHEET]) + count(template_book["Power_Cloud"]) <= 25
    seen = set(checked_cpx_calls(formula_cells(template_book[SHEET])))
    assert seen == {"CPX_REQUIRED_REVENUE", "CPX_INCREMENTAL_RETURN", "CPX_CLOUD_GROWTH",
                    "CPX_REVENUE_GAP"}
    assert "CPX_VALUE" not in seen  # reported figures are links to Ratios


def test_links_come_from_ratios_and_each_engine_row_is_one_spilled_call(template_book):
    ws = template_book[SHEET]
    ratios = L.ratios_layout()
    for t, b in LAY.blocks.items():
        for fld in R.LINKS:
            assert ws[f"D{b[fld] + 1}"].value == fld
            assert ws[f"{FIRST}{b[fld] + 1}"].value == (
                f"=Ratios!{FIRST}{ratios.blocks[t].rows[fld] + 1}")
        cap, ocf = b["capex"] + 1, b["ocf"] + 1
        req = ws[f"{FIRST}{b['required'] + 1}"].value
        assert isinstance(req, ArrayFormula)
        assert req.text == (f"=CPX_REQUIRED_REVENUE({FIRST}{cap}:{LAST}{cap},$D$8:$D$9,"
                            "$D$10:$D$11,in_ROIHurdle,in_ROIMargin,in_ROIOpex)")
        assert ws[f"{FIRST}{b['inc_return'] + 1}"].value.text == (
            f"=CPX_INCREMENTAL_RETURN({FIRST}{ocf}:{LAST}{ocf},{FIRST}{cap}:{LAST}{cap})")
    gap = ws[f"{FIRST}{row('gap')}"].value
    assert gap.text == (f"=CPX_REVENUE_GAP({FIRST}{row('capex')}:{LAST}{row('capex')},"
                        f"in_CostMultiple,in_EndMargin,{FIRST}{row('cloud_growth')}:"
                        f"{LAST}{row('cloud_growth')},,in_CapexLife)")
    seq = ws[f"D{LAY.sequoia + 1}"].value
    assert seq == "=CPX_REVENUE_GAP(in_SequoiaSpend,in_SequoiaMultiple,in_EndMargin,0)"


def test_inputs_are_named_validated_and_cite_their_source(template_book):
    inputs = template_book["Inputs"]
    for r in R.INPUTS:
        cell = name_cell(template_book, r.name)
        assert cell.parent.title == "Inputs", r.name
        assert cell.value == r.value and inputs.cell(cell.row, 6).value == r.note
    d = {r.name: name_cell(template_book, r.name).value for r in R.INPUTS}
    # mode capex: total capex already includes buildings and power -> x1, not x2
    assert d["in_CostMultiple"] == 1 and d["in_CapexLife"] == 1
    # mode sequoia: $150B of GPU spend x 2 / 50% (Sequoia's own inputs)
    assert (d["in_SequoiaSpend"], d["in_SequoiaMultiple"], d["in_EndMargin"]) == (150_000, 2, 0.5)
    assert d["in_ROIBaseFY"] == 2022
    assert "in_AIRevenue" not in template_book.defined_names  # no unlabelled 0 of AI revenue
    notes = {r.name: r.note for r in R.INPUTS}
    for name in ("in_CostMultiple", "in_SequoiaSpend", "in_SequoiaMultiple", "in_EndMargin"):
        assert "AI's $600B Question" in notes[name]


def test_chart_compares_the_requirement_with_cloud_growth_not_total_revenue(template):
    with zipfile.ZipFile(template) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    mine = [c for c in charts if "cloud-segment revenue growth" in c]
    assert len(mine) == 1
    xml = mine[0]
    assert xml.count("<c:ser>") == 2
    for key, (name, _colour) in R.CHART_SERIES.items():
        r = LAY.peer[key] + 1
        assert f"{SHEET}!$F${r}:${LAST}${r}" in xml and name in xml
    assert f"{SHEET}!$F${row('incremental')}" not in xml  # total revenue growth is not charted
    # a missing year is a gap, never a zero bar: #N/A shown as empty, blanks as gaps (default)
    assert '<c16r3:dispNaAsBlank val="1"/>' in xml and 'dispBlanksAs val="zero"' not in xml
    ws = openpyxl.load_workbook(template)[SHEET]
    note = ws.cell(LAY.chart_row + 17, 2).value
    assert "Does not show AI revenue itself" in note and "upper bound" in note


# --- headless refresh --------------------------------------------------------------------------


def test_refresh_passes_the_checks(values):
    ws = values[SHEET]
    assert ws["D3"].value == 0
    assert values["Cover"][L.cell(*L.COVER_MASTER)].value == 0


def test_msft_required_revenue_matches_the_engine_and_the_hand_formula(values):
    ws = values[SHEET]
    got = ws[f"{FY[2025]}{row('required', 'MSFT')}"].value
    capex = MSFT["capex"][2025]
    assert ws[f"{FY[2025]}{row('capex', 'MSFT')}"].value == capex
    assert got == pytest.approx(roi.required_revenue(capex, [6, 20], [0.5, 0.5], 0.10, 0.5, 0.05))
    # by hand: 64,551 x (0.5 x CRF(10%, 6) + 0.5 x CRF(10%, 20) + 5%) / 50%
    assert got == pytest.approx(capex * (0.5 * crf(0.10, 6) + 0.5 * crf(0.10, 20) + 0.05) / 0.5)


def test_realised_rows_by_hand(values):
    ws = values[SHEET]
    m = MSFT
    assert ws[f"{FY[2025]}{row('incremental', 'MSFT')}"].value == (
        m["revenue"][2025] - m["revenue"][2022])
    assert ws[f"{FY[2021]}{row('incremental', 'MSFT')}"].value == 0  # before the base year
    d_ocf = m["ocf"][2025] - m["ocf"][2024]
    assert ws[f"{FY[2025]}{row('inc_return', 'MSFT')}"].value == pytest.approx(d_ocf / m["capex"][2024])
    assert ws[f"{FY[2025]}{row('payback', 'MSFT')}"].value == pytest.approx(m["capex"][2024] / d_ocf)
    assert ws[f"{FY[2023]}{row('payback', 'MSFT')}"].value == "#N/A"  # OCF fell in FY2023


def test_600b_question_both_modes_and_nothing_before_the_base_year(values, dataset):
    ws = values[SHEET]
    capex = sum(dataset.value(t, "capex", 2025) for t in PEERS)
    assert ws[f"{FY[2025]}{row('capex')}"].value == capex == 378_723.0
    growth = roi.cloud_revenue_growth(dataset, PEERS, 2022).loc[2025, "total"]
    assert ws[f"{FY[2025]}{row('cloud_growth')}"].value == pytest.approx(growth) == 141_172
    # mode capex: total capex x 1 / 50% less the cloud-growth proxy (was capex x 2 - 0)
    assert ws[f"{FY[2025]}{row('gap')}"].value == pytest.approx(capex / 0.5 - growth)
    for fy in (2019, 2020, 2021):  # no "gap" before generative AI
        assert ws[f"{FY[fy]}{row('gap')}"].value == "#N/A"
        assert ws[f"{FY[fy]}{row('cloud_growth')}"].value == "#N/A"
    # mode sequoia: $150B x 2 / 50% = $600B
    assert ws[f"D{LAY.sequoia + 1}"].value == pytest.approx(600_000)


def test_cumulative_requirement_equals_the_engine_vintage_schedule(values, dataset):
    ws = values[SHEET]
    years = list(range(2022, 2026))
    capex = [sum(dataset.value(t, "capex", fy) for t in PEERS) for fy in years]
    expected = roi.cumulative_required_revenue(capex, [6, 20], [0.5, 0.5], 0.10, 0.5, 0.05,
                                               delay=1, horizon=len(years))
    got = [ws[f"{FY[fy]}{row('cumulative')}"].value for fy in years]
    assert got == pytest.approx(expected.tolist(), rel=1e-12)


def test_changed_inputs_flow_through(template, tmp_path, dataset):
    path = tmp_path / template.name
    shutil.copyfile(template, path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    for name, value in (("in_ROIBaseFY", 2023), ("in_CapexLife", 5.0)):
        name_cell(wb, name).value = value
    wb.save(path)
    refresh_file(path, backup=False)
    ws = openpyxl.load_workbook(path, data_only=True)[SHEET]
    assert ws["D3"].value == 0
    capex = sum(dataset.value(t, "capex", 2025) for t in PEERS)
    growth = roi.cloud_revenue_growth(dataset, PEERS, 2023).loc[2025, "total"]
    # a stated 5-year capex life: capex / (50% x 5) less cloud growth since FY2023
    assert ws[f"{FY[2025]}{row('gap')}"].value == pytest.approx(capex / (0.5 * 5) - growth)
    assert ws[f"{FY[2022]}{row('gap')}"].value == "#N/A"
