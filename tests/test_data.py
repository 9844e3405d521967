"""The bundled snapshot, the Dataset API and the SEC companyfacts loader."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from aicapex.data.companyfacts import load_companyfacts
from aicapex.data.dataset import SNAPSHOT_DIR, load_dataset
from aicapex.errors import DataError
from conftest import SHARED, require_or_skip

SHARED_DATA = SHARED / "data"
SNAPSHOT_FILES = sorted(
    str(p.relative_to(SHARED_DATA)) for p in SHARED_DATA.rglob("*") if p.is_file()
) if SHARED_DATA.is_dir() else [
    str(p.relative_to(SNAPSHOT_DIR)) for p in SNAPSHOT_DIR.rglob("*") if p.is_file()
]
AAPL_JSON = SNAPSHOT_DIR / "companyfacts" / "CIK0000320193.json"


@pytest.mark.parametrize("name", SNAPSHOT_FILES)
def test_snapshot_is_a_byte_copy_of_shared_data(name):
    require_or_skip(SHARED_DATA.is_dir(), f"{SHARED_DATA} not present")
    assert (SNAPSHOT_DIR / name).read_bytes() == (SHARED_DATA / name).read_bytes(), (
        f"python/aicapex/data/snapshot/{name} differs from ../shared/data/{name}: copy it over"
    )


def test_every_row_has_a_source(dataset):
    assert (dataset.annual["source"].str.len() > 10).all()
    assert (dataset.quarterly["source"].str.len() > 10).all()


def test_reported_figures_read_as_filed(dataset):
    assert dataset.value("MSFT", "capex", 2025) == 64551
    assert dataset.value("MSFT", "ocf", 2025) == 136162
    assert dataset.value("GOOGL", "ocf", 2025) == 164713
    assert dataset.value("AMZN", "capex_net_of_proceeds", 2025) == 128320


def test_missing_figures_stay_missing(dataset):
    # SOURCES.md: META reports no RPO and GOOGL 2019 has no total debt; never filled.
    assert math.isnan(dataset.value("GOOGL", "total_debt", 2019))
    assert dataset.row("GOOGL", "total_debt", 2019) is None
    assert "rpo" not in dataset.wide("META").columns or dataset.wide("META")["rpo"].isna().all()


def test_wide_and_panel_agree(dataset):
    wide = dataset.wide("ORCL")
    panel = dataset.panel("capex", ["ORCL", "MSFT"])
    assert wide.loc[2025, "capex"] == panel.loc[2025, "ORCL"] == 21215
    assert list(panel.columns) == ["ORCL", "MSFT"]


def test_quarterly_ttm_equals_annual_for_amzn(dataset):
    # SOURCES.md cross-check: AMZN's four quarters sum exactly to the annual rows 2024-2025.
    ttm = dataset.ttm("AMZN", "capex")
    assert ttm["2024-12-31"] == dataset.value("AMZN", "capex", 2024) == 82999
    assert ttm["2025-12-31"] == dataset.value("AMZN", "capex", 2025)
    # 2023Q1-Q2 capex is missing, so no TTM can end before 2023Q4 + 3 quarters.
    assert pd.isna(ttm.get("2023-12-31", float("nan")))


def test_ttm_of_a_balance_is_refused(dataset):
    with pytest.raises(DataError, match="balance"):
        dataset.ttm("MSFT", "ppe_net")


def test_calendar_year_view_weights_fiscal_years(dataset):
    cy = dataset.calendar_year("capex", ["MSFT", "ORCL", "AAPL", "GOOGL"])
    # MSFT FY ends June: CY2024 = half FY2024 + half FY2025.
    assert cy.loc[2024, "MSFT"] == pytest.approx(0.5 * 44477 + 0.5 * 64551)
    # ORCL FY ends May: CY2024 = 5/12 FY2024 + 7/12 FY2025.
    assert cy.loc[2024, "ORCL"] == pytest.approx(5 / 12 * 6866 + 7 / 12 * 21215)
    # AAPL FY ends September: 9/12 and 3/12.
    assert cy.loc[2024, "AAPL"] == pytest.approx(0.75 * 9447 + 0.25 * 12715)
    assert cy.loc[2024, "GOOGL"] == 52535
    # CY2025 for MSFT: half FY2025 + half FY2026 (10-K, 115,948).
    assert cy.loc[2025, "MSFT"] == pytest.approx(0.5 * 64551 + 0.5 * 115948)
    # CY2026 needs FY2027, which is not in the data: missing, not guessed.
    assert math.isnan(cy.loc[2026, "MSFT"])
    mapping = dataset.calendar_mapping().set_index("ticker")
    assert mapping.loc["MSFT", "fiscal_year_end_month"] == 6
    assert mapping.loc["ORCL", "fiscal_year_end_month"] == 5


def test_source_lookup_names_the_filing(dataset):
    row = dataset.row("MSFT", "capex", 2025)
    assert "10-K" in row["source"] and "acc" in row["source"]
    q = dataset.row("AMZN", "capex", "2025Q4")
    assert q["value_musd"] == 39522


def test_unknown_ticker_and_field_are_one_line_errors(dataset):
    with pytest.raises(DataError, match="unknown ticker 'NOPE'"):
        dataset.wide("NOPE")
    with pytest.raises(DataError, match="unknown field 'capx'"):
        dataset.series("MSFT", "capx")


# --- companyfacts ----------------------------------------------------------------------------


def test_companyfacts_reproduces_every_aapl_snapshot_figure(dataset):
    cf = load_companyfacts(AAPL_JSON)
    snap = dataset.annual[dataset.annual["ticker"] == "AAPL"]
    merged = snap.merge(cf.annual, on=["ticker", "fiscal_year", "field"], suffixes=("_snap", "_cf"))
    # Every snapshot field the loader maps is produced for every year the snapshot has.
    assert len(merged) == len(snap), set(snap["field"]) - set(cf.annual["field"])
    diff = merged[merged["value_musd_snap"] != merged["value_musd_cf"]]
    assert diff.empty, diff[["fiscal_year", "field", "value_musd_snap", "value_musd_cf"]]
    # And the accession number of the filing the snapshot cites is kept as the source.
    for _, r in merged.iterrows():
        accn = r["source_snap"].rsplit("accn ", 1)[-1].strip()
        assert accn in r["source_cf"], (r["field"], r["fiscal_year"])


def test_companyfacts_quarters_sum_to_the_year():
    cf = load_companyfacts(AAPL_JSON)
    q = cf.quarterly[(cf.quarterly["field"] == "capex") & (cf.quarterly["fiscal_year"] == 2024)]
    assert sorted(q["fiscal_quarter"]) == ["Q1", "Q2", "Q3", "Q4"]
    annual = cf.annual[(cf.annual["field"] == "capex") & (cf.annual["fiscal_year"] == 2024)]
    assert q["value_musd"].sum() == pytest.approx(annual["value_musd"].iloc[0]) == 9447


def _write_facts(tmp_path: Path, facts: dict, cik: int = 320193) -> Path:
    path = tmp_path / f"CIK{cik:010d}.json"
    path.write_text(json.dumps({"cik": cik, "entityName": "X", "facts": {"us-gaap": facts}}))
    return path


def _usd(*entries):
    return {"units": {"USD": list(entries)}}


def _fact(start, end, val, accn, filed, form="10-K"):
    return {"start": start, "end": end, "val": val, "accn": accn, "form": form, "filed": filed,
            "fy": 0, "fp": "FY"}


def test_companyfacts_latest_filing_wins_and_fallback_concept(tmp_path):
    path = _write_facts(
        tmp_path,
        {
            # No PaymentsToAcquirePropertyPlantAndEquipment: falls back to ProductiveAssets.
            "PaymentsToAcquireProductiveAssets": _usd(
                _fact("2023-01-01", "2023-12-31", 100e6, "A-1", "2024-02-01"),
                _fact("2023-01-01", "2023-12-31", 120e6, "A-2", "2025-02-01"),  # restated
            ),
        },
    )
    cf = load_companyfacts(path)
    row = cf.annual.iloc[0]
    assert (row["field"], row["fiscal_year"], row["value_musd"]) == ("capex", 2023, 120.0)
    assert "A-2" in row["source"] and "PaymentsToAcquireProductiveAssets" in row["source"]


def test_companyfacts_derives_q4_from_nine_months(tmp_path):
    path = _write_facts(
        tmp_path,
        {
            "PaymentsToAcquirePropertyPlantAndEquipment": _usd(
                _fact("2023-01-01", "2023-12-31", 100e6, "K", "2024-02-01"),
                _fact("2023-01-01", "2023-09-30", 70e6, "Q3", "2023-11-01", form="10-Q"),
                _fact("2023-07-01", "2023-09-30", 25e6, "Q3", "2023-11-01", form="10-Q"),
            ),
        },
    )
    q = load_companyfacts(path).quarterly.set_index("fiscal_quarter")
    assert q.loc["Q4", "value_musd"] == 30.0  # 100 - 70
    assert q.loc["Q3", "value_musd"] == 25.0
    assert "derived" in q.loc["Q4", "note"] and "Q3" in q.loc["Q4", "note"]


def test_companyfacts_negative_capex_is_stored_as_outflow(tmp_path):
    path = _write_facts(
        tmp_path,
        {"PaymentsToAcquirePropertyPlantAndEquipment": _usd(
            _fact("2023-01-01", "2023-12-31", -50e6, "K", "2024-02-01"))},
    )
    row = load_companyfacts(path).annual.iloc[0]
    assert row["value_musd"] == 50.0 and "sign flipped" in row["note"]


def test_companyfacts_bad_inputs_name_file_and_concept(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="bad.json: malformed companyfacts JSON"):
        load_companyfacts(bad)
    shares = _write_facts(tmp_path, {"Revenues": {"units": {"shares": []}}})
    with pytest.raises(DataError, match="Revenues is reported in shares, expected USD"):
        load_companyfacts(shares)
    text = _write_facts(tmp_path, {"Revenues": _usd(_fact("2023-01-01", "2023-12-31", "12", "K", "x"))})
    with pytest.raises(DataError, match=r"Revenues USD\[0\]: value '12' is not a number"):
        load_companyfacts(text)
    unknown = _write_facts(tmp_path, {}, cik=1)
    with pytest.raises(DataError, match="CIK 1 is not a covered company"):
        load_companyfacts(unknown)


# --- overrides -------------------------------------------------------------------------------

HEADER = "ticker,fiscal_year,fiscal_year_end,field,value_musd,source,note\n"


def test_override_csv_replaces_and_adds_with_its_own_provenance(tmp_path):
    (tmp_path / "fix.csv").write_text(
        HEADER
        + "MSFT,2025,2025-06-30,capex,65000,My model (analyst estimate),override\n"
        + "CRWV,2025,2025-12-31,capex,12000,CoreWeave 10-K FY2025,new company\n"
    )
    ds = load_dataset(tmp_path)
    assert ds.value("MSFT", "capex", 2025) == 65000
    assert ds.row("MSFT", "capex", 2025)["origin"].endswith("fix.csv")
    assert ds.value("MSFT", "capex", 2024) == 44477  # untouched
    assert "CRWV" in ds.tickers


def test_override_companyfacts_json_is_picked_up(tmp_path):
    (tmp_path / AAPL_JSON.name).write_bytes(AAPL_JSON.read_bytes())
    ds = load_dataset(tmp_path)
    # Pre-2019 years come only from the companyfacts file.
    assert ds.value("AAPL", "capex", 2016) == 12734
    assert "companyfacts" in ds.row("AAPL", "capex", 2016)["source"]


@pytest.mark.parametrize(
    "body, message",
    [
        ("MSFT,2025,2025-06-30,capex,lots,src,\n", r"bad.csv: row 2 \(MSFT 2025 capex\): value_musd 'lots' is not a number"),
        ("MSFT,2025,2025-06-30,capex,1,src,\nMSFT,2025,2025-06-30,capex,2,src,\n", "bad.csv: duplicate fact MSFT 2025 capex"),
        ("MSFT,20x5,2025-06-30,capex,1,src,\n", "fiscal_year '20x5' is not an integer"),
        ("MSFT,2025,2025-06-30,capex,-5,src,\n", "capex is negative"),
    ],
)
def test_bad_override_rows_are_named(tmp_path, body, message):
    (tmp_path / "bad.csv").write_text(HEADER + body)
    with pytest.raises(DataError, match=message):
        load_dataset(tmp_path)


def test_missing_overrides_folder_is_an_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
