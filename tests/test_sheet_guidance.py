"""The Guidance sheet: four spilled CPX_GUIDANCE tables, checks, charts, and headless refresh
values equal to the engine's (capex_guidance.csv, reported capex from the snapshot)."""

from __future__ import annotations

import math
import zipfile

import openpyxl
import pytest
from aicapex.data.dataset import load_dataset
from aicapex.data.guidance import snapshot_guidance
from aicapex.engine.guidance import (
    LATEST_COLUMNS,
    OUTCOME_COLUMNS,
    REVISION_COLUMNS,
    guidance_dates,
    guidance_path,
    guidance_vs_outcome,
    latest_guidance,
    revisions,
)
from aicapex.excel import sheet_guidance as G
from workbook_fixtures import checked_cpx_calls, formula_cells, master_check_inputs, name_cell

SHEET = "Guidance"
DS = load_dataset(overrides=None)
TABLE = snapshot_guidance()
LAY = G.guidance_layout(G.block_values(DS))


def table_at(ws, first: int, columns: tuple[str, ...], n: int) -> list[dict]:
    """The table spilled at (0-based) row ``first`` from column B: header row then ``n - 1``
    rows, as records."""
    header = [ws.cell(first + 1, 2 + i).value for i in range(len(columns))]
    assert header == list(columns)
    return [{k: ws.cell(first + 1 + r, 2 + i).value for i, k in enumerate(columns)}
            for r in range(1, n)]


def same(got, want) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got in ("#N/A", "")
    if isinstance(want, float):
        return got == pytest.approx(want, rel=1e-9)
    return got == want


def test_sheet_is_registered_after_scenarios_with_its_checks_in_the_master(template_book):
    assert template_book.sheetnames.index(SHEET) == template_book.sheetnames.index("Scenarios") + 1
    ws = template_book[SHEET]
    assert ws["B1"].value == "Guidance" and "USD millions" in ws["B2"].value
    assert ws["D3"].value == f"=$D${LAY.total_row + 1}" and ws["F3"].value == "=chk_Master"
    assert any(f"{SHEET}!$D$3" in f for f in master_check_inputs(template_book))
    assert name_cell(template_book, "in_GuidanceYear").value == "FY2026"


def test_four_spilled_calls(template_book):
    calls = checked_cpx_calls(formula_cells(template_book[SHEET]))
    assert calls == ["CPX_GUIDANCE"] * 4


def test_charts_never_draw_a_missing_figure(template):
    with zipfile.ZipFile(template) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    raised = [c for c in charts if "Expectations raised" in c]
    outcome = [c for c in charts if "Guidance vs outcome" in c]
    assert len(raised) == 1 and len(outcome) == 1
    assert raised[0].count("<c:ser>") == len(G.guided_tickers())
    assert outcome[0].count("<c:ser>") == 3
    for xml in (raised[0], outcome[0]):
        # #N/A is a gap (Excel's dispNaAsBlank); blanks are gaps by default (no dispBlanksAs
        # other than "gap")
        assert '<c16r3:dispNaAsBlank val="1"/>' in xml
        assert "<c:dispBlanksAs" not in xml or '<c:dispBlanksAs val="gap"/>' in xml


def test_headless_refresh_equals_the_engine(refreshed_workbook):
    ws = openpyxl.load_workbook(refreshed_workbook, data_only=True)[SHEET]
    assert ws["D3"].value == 0
    tickers = G.guided_tickers()
    # expectations raised: the guide in force at each date (META FY2026: 125,000 from
    # 2026-01-28, 135,000 from 2026-04-29)
    path = guidance_path(TABLE, tickers, "FY2026", guidance_dates(TABLE))
    for d, r in LAY.dates.items():
        assert ws.cell(r + 1, 2).value == d
        for i, t in enumerate(tickers):
            assert same(ws.cell(r + 1, 3 + i).value, path.at[d, t]), (d, t)
    assert ws.cell(LAY.dates["2026-04-29"] + 1, 3 + tickers.index("META")).value == 135000
    latest = latest_guidance(TABLE, DS, tickers)
    got = table_at(ws, LAY.latest_first, LATEST_COLUMNS, LAY.latest_rows)
    assert len(got) == len(latest)
    for g, (_, w) in zip(got, latest.iterrows(), strict=True):
        for k in LATEST_COLUMNS:
            assert same(g[k], w[k]), (g["ticker"], g["guided_fiscal_year"], k)
    outcome = guidance_vs_outcome(TABLE, DS, tickers)
    got = table_at(ws, LAY.outcome_first, OUTCOME_COLUMNS, LAY.outcome_rows)
    for g, (_, w) in zip(got, outcome.iterrows(), strict=True):
        for k in OUTCOME_COLUMNS:
            assert same(g[k], w[k]), (g["ticker"], g["guided_fiscal_year"], k)
    meta = next(g for g in got if (g["ticker"], g["guided_fiscal_year"]) == ("META", "FY2025"))
    assert (meta["first_low_musd"], meta["latest_high_musd"], meta["actual_musd"]) == (
        60000, 72000, 72215)
    history = revisions(TABLE, tickers)
    got = table_at(ws, LAY.history_first, REVISION_COLUMNS, LAY.history_rows)
    assert len(got) == len(history) == 47  # SOURCES.md: 47 rows
    qualitative = [g for g in got if g["mid_musd"] == "#N/A" and g["low_musd"] == "#N/A"]
    assert qualitative and all(len(g["statement"]) > 10 for g in qualitative)
    # alerts: ORCL FY2025 (guided ~$16bn, reported 21,215) and FY2026 (~$50bn, 55,663) missed
    # their latest guide by more than 10%
    assert ws[f"D{LAY.alerts['missed'] + 1}"].value == 2
