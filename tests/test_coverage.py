"""The coverage list on Inputs drives the company blocks (issue #18 point 3): a ticker typed
into a free slot gets its block at the next refresh; the refresh warns about covered tickers
without data and data without a block."""

from __future__ import annotations

import openpyxl
from aicapex.excel import layout as L
from aicapex.excel.headless import refresh_file
from workbook_fixtures import NOW, TIMELINE

CRWV = ("ticker,fiscal_year,fiscal_year_end,field,value_musd,source,note\n"
        "CRWV,2025,2025-12-31,capex,12000,analyst test figure,\n"
        "CRWV,2025,2025-12-31,ocf,3000,analyst test figure,\n")


def _slot_cell(slot: int) -> str:
    return L.coverage_cell(slot).split("!")[1].replace("$", "")


def test_a_ticker_typed_into_a_free_slot_gets_its_block(template_copy, tmp_path):
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "crwv.csv").write_text(CRWV, encoding="utf-8")
    path = template_copy
    wb = openpyxl.load_workbook(path, keep_vba=True)
    slot = len(L.COVERAGE)  # the first free slot
    assert wb["Inputs"][_slot_cell(slot)].value is None
    wb["Inputs"][_slot_cell(slot)].value = "CRWV"
    wb.save(path)
    result = refresh_file(path, overrides=overrides, now=NOW)
    ws = openpyxl.load_workbook(path, data_only=True)["Ratios"]
    b = L.ratios_layout().blocks[f"slot{slot + 1}"]
    fy25 = L.col(TIMELINE.period_col(2025))
    assert ws.cell(b.header_row + 1, 4).value == "CRWV"
    assert ws[f"{fy25}{b.rows['capex'] + 1}"].value == 12000
    assert ws[f"{fy25}{b.rows['capex_to_ocf'] + 1}"].value == 12000 / 3000
    assert not result.warnings


def test_empty_slots_are_blank_not_errors(refreshed_workbook):
    ws = openpyxl.load_workbook(refreshed_workbook, data_only=True)["Ratios"]
    b = L.ratios_layout().blocks[f"slot{L.COVERAGE_SLOTS}"]
    fy25 = L.col(TIMELINE.period_col(2025))
    assert ws[f"{fy25}{b.rows['capex'] + 1}"].value in (None, "")
    assert ws.cell(b.highest_since_row + 1, 4).value in (None, "")


def test_refresh_warns_about_coverage_without_data_and_data_without_a_block(template_copy,
                                                                              tmp_path):
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "crwv.csv").write_text(CRWV, encoding="utf-8")
    path = template_copy
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb["Inputs"][_slot_cell(len(L.COVERAGE))].value = "NBIS"
    wb.save(path)
    result = refresh_file(path, overrides=overrides, now=NOW)
    text = " | ".join(result.warnings)
    assert "NBIS is on the coverage list (Inputs) but has no data" in text
    assert "python -m aicapex fetch --tickers NBIS" in text
    assert "data without a company block: CRWV" in text
