"""Capex guidance engine: the file's checks, basis reading, latest guide, outcome, path and the
conversion to the scenario's capex basis (capex_guidance.csv and the reported snapshot)."""

from __future__ import annotations

import math

import pytest
from aicapex.data.guidance import FILE_COLUMNS, load_guidance, snapshot_guidance
from aicapex.engine.guidance import (
    REVISION_COLUMNS,
    classify_basis,
    guidance_path,
    guidance_vs_outcome,
    latest_guidance,
    outcome_on_basis,
    revisions,
    scenario_capex_guidance,
)
from aicapex.errors import DataError

TABLE = snapshot_guidance()
ROW = {
    "ticker": "META", "guided_fiscal_year": "FY2026", "date_given": "2026-04-29",
    "event": "Q1 2026 call", "low_musd": "125000", "high_musd": "145000", "point_musd": "",
    "basis": "including principal payments on finance leases", "statement": "2026 capex",
    "source_1": "https://a.example/1", "source_2": "https://b.example/2", "note": "",
}


def write(tmp_path, *rows):
    import csv

    path = tmp_path / "g.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FILE_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def test_the_snapshot_file_is_read_with_its_counts():
    # SOURCES.md: 47 rows, META 16, GOOGL 11, AMZN 8, MSFT 7, ORCL 5; Apple gives none
    assert len(TABLE) == 47
    assert TABLE["ticker"].value_counts().to_dict() == {"META": 16, "GOOGL": 11, "AMZN": 8,
                                                         "MSFT": 7, "ORCL": 5}
    orcl = TABLE[(TABLE.ticker == "ORCL") & (TABLE.date_given == "2025-06-11")].iloc[0]
    assert orcl.low_musd == 25000 and math.isnan(orcl.high_musd) and math.isnan(orcl.mid_musd)
    assert (TABLE["guided_fiscal_year"] == "CY2026").sum() == 1


@pytest.mark.parametrize(("change", "words"), [
    ({"guided_fiscal_year": "2026"}, "guided_fiscal_year must look like FY2026"),
    ({"date_given": "29/04/2026"}, "date_given must be a date"),
    ({"low_musd": "-5"}, "low_musd '-5' is not a number >= 0"),
    ({"low_musd": "150000"}, "above high_musd"),
    ({"source_2": ""}, "source_2 must be a web address (two sources per row)"),
    ({"source_2": "https://a.example/1"}, "repeats source_1"),
    ({"statement": ""}, "statement is empty"),
])
def test_a_malformed_row_is_one_line_naming_file_row_and_column(tmp_path, change, words):
    path = write(tmp_path, {**ROW, **change})
    with pytest.raises(DataError) as err:
        load_guidance(path)
    assert str(err.value).startswith(f"{path}: row 2 (META") and words in str(err.value)


def test_missing_columns_and_duplicates(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("ticker,guided_fiscal_year\nMETA,FY2026\n")
    with pytest.raises(DataError, match="missing column"):
        load_guidance(path)
    with pytest.raises(DataError, match="repeats another row"):
        load_guidance(write(tmp_path, ROW, ROW))


def test_basis_reading():
    assert classify_basis("META", "").code == "capex_incl_fin_lease_principal"  # convention
    assert classify_basis("AMZN", "not stated").code == "cash_capex"
    assert classify_basis("GOOGL", "not stated").how.startswith("basis not stated")
    assert classify_basis("MSFT", "").flag  # incl. finance leases: not comparable
    assert classify_basis("MSFT", "investment to build out AI-enabled datacenters").code == "other"
    cy = classify_basis("GOOGL", "", "CY", "CY2026")
    assert cy.code == "capex" and "calendar year" in cy.flag


def test_outcome_on_each_basis(dataset):
    # META 2025: capex 69,691 + finance-lease principal 2,524 = 72,215 (reported as such)
    assert outcome_on_basis(dataset, "META", 2025, "capex_incl_fin_lease_principal")[0] == 72215
    # META 2023 has no capex_incl_fin_lease_principal row: capex 27,045 + principal 1,058
    v, how = outcome_on_basis(dataset, "META", 2023, "capex_incl_fin_lease_principal")
    assert v == 27045 + 1058 and "capex + fin_lease_principal_payments" in how
    assert outcome_on_basis(dataset, "AMZN", 2025, "cash_capex")[0] == 128320
    v, how = outcome_on_basis(dataset, "MSFT", 2025, "capex_incl_finance_leases")
    assert math.isnan(v) and "not comparable" in how


def test_latest_outcome_and_path(dataset):
    latest = latest_guidance(TABLE, dataset, ["META", "AAPL"]).set_index("guided_fiscal_year")
    assert latest.loc["FY2026", "mid_musd"] == 135000  # AAPL (no guidance) is left out
    assert latest.loc["FY2026", "guided_growth"] == pytest.approx(135000 / 72215 - 1)
    with pytest.raises(DataError, match="no capex guidance for AAPL"):
        latest_guidance(TABLE, dataset, ["AAPL"])
    out = guidance_vs_outcome(TABLE, dataset, ["GOOGL"]).set_index("guided_fiscal_year")
    # Alphabet 2025: ~$75bn guided first, $91-93bn last; 91,447 reported
    assert out.loc["FY2025", "first_mid_musd"] == 75000
    assert out.loc["FY2025", "actual_musd"] == 91447
    assert math.isnan(out.loc["FY2026", "actual_musd"])  # not reported yet
    path = guidance_path(TABLE, ["GOOGL"], "FY2025", ["2025-02-03", "2025-02-04", "2025-07-23",
                                                      "2025-10-29"])
    assert math.isnan(path.iloc[0, 0])
    assert path["GOOGL"].tolist()[1:] == [75000, 85000, 92000]
    assert list(revisions(TABLE, ["ORCL"]).columns) == list(REVISION_COLUMNS)


def test_scenario_conversion_to_the_capex_basis(dataset):
    # META: guide includes finance-lease principal -> less FY2025's 2,524
    assert scenario_capex_guidance(TABLE, dataset, "META", [2026]).levels == {2026: 132476.0}
    # AMZN: cash capex -> plus FY2025 proceeds 131,819 - 128,320 = 3,499
    assert scenario_capex_guidance(TABLE, dataset, "AMZN", [2026]).levels == {2026: 203499.0}
    # GOOGL: basis not stated -> the midpoint as is, flagged in the note
    g = scenario_capex_guidance(TABLE, dataset, "GOOGL", [2026, 2027])
    assert g.levels == {2026: 185000.0} and "not stated" in g.notes[2026]
    assert "no figure" in g.notes[2027]  # "2027 CapEx will significantly increase"
    # MSFT: the ~$190bn is calendar 2026: never a fiscal year's capex
    m = scenario_capex_guidance(TABLE, dataset, "MSFT", [2027, 2028])
    assert m.levels == {} and "calendar year" in m.other[0]
