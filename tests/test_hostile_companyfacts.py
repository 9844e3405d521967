"""Hostile SEC companyfacts JSON: every defect is a one-line DataError naming the file, the
concept and (for a fact) the period -- or is resolved by a documented rule.

Extends tests/test_data.py (which covers ``{not json``, shares-only units, a string value, an
unknown CIK, latest-filing-wins for annual figures and a negative annual capex).

Documented resolutions (``aicapex.data.companyfacts`` module docstring):
* same period, several filings: the latest filing wins (``filed`` date, then accession);
* same period, same filing, identical values (EDGAR repeats facts under several frames): fine;
* same period, same filing, different values: refused, naming file, concept, period, filing;
* an outflow (capex) tagged negative: stored positive with the note "sign flipped", also when
  a quarter is derived from year-to-date figures of differently signed filings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aicapex.data import companyfacts as cfm
from aicapex.data.companyfacts import load_companyfacts
from aicapex.data.dataset import SNAPSHOT_DIR, load_dataset
from aicapex.errors import DataError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

AAPL_JSON = SNAPSHOT_DIR / "companyfacts" / "CIK0000320193.json"
CAPEX = "PaymentsToAcquirePropertyPlantAndEquipment"


def _write(path: Path, doc) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def _doc(facts: dict, cik: int = 320193) -> dict:
    return {"cik": cik, "entityName": "X", "facts": {"us-gaap": facts}}


def _fact(start, end, val, accn="A-1", filed="2024-02-01", form="10-K"):
    return {"start": start, "end": end, "val": val, "accn": accn, "form": form, "filed": filed}


def _usd(*facts):
    return {"units": {"USD": list(facts)}}


def _one_line(exc: pytest.ExceptionInfo, *needles: str) -> None:
    msg = str(exc.value)
    assert "\n" not in msg
    for n in needles:
        assert n in msg, (n, msg)


# -- malformed documents ------------------------------------------------------------------------


def test_truncated_download_is_named(tmp_path):
    text = AAPL_JSON.read_text()
    bad = _write(tmp_path / "CIK0000320193.json", text[: len(text) // 2])
    with pytest.raises(DataError) as exc:
        load_companyfacts(bad)
    _one_line(exc, "CIK0000320193.json", "malformed companyfacts JSON")


def test_binary_garbage_is_named(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError) as exc:
        load_companyfacts(bad)
    _one_line(exc, "x.json")


@pytest.mark.parametrize(
    "doc, needles",
    [
        ([], ["no 'facts' object"]),
        ("\"just a string\"", ["no 'facts' object"]),
        ("null", ["no 'facts' object"]),
        ({"cik": 320193}, ["no 'facts' object"]),  # facts missing
        ({"cik": 320193, "facts": []}, ["no 'facts' object"]),
        ({"cik": 320193, "facts": {"us-gaap": []}}, ["'us-gaap' is not an object"]),
        ({"cik": 320193, "facts": {"us-gaap": None}}, ["'us-gaap' is not an object"]),
        (_doc({"Revenues": "text"}), ["concept Revenues is not an object"]),
        (_doc({"Revenues": {"label": "no units"}}), ["concept Revenues has no 'units' object"]),
        (_doc({"Revenues": {"units": ["USD"]}}), ["concept Revenues has no 'units' object"]),
        (_doc({"Revenues": {"units": {"USD": None}}}), ["Revenues USD facts are not a list"]),
        (_doc({"Revenues": {"units": {"USD": {"val": 1}}}}), ["Revenues USD facts are not a list"]),
        (_doc({"Revenues": _usd("a fact")}), ["Revenues USD[0]", "lacks 'end' or 'val'"]),
        (_doc({"Revenues": _usd({"end": "2023-12-31"})}), ["Revenues USD[0]", "lacks"]),
        ({"facts": {"us-gaap": {}}}, ["no numeric 'cik'"]),
        ({"cik": "three", "facts": {"us-gaap": {}}}, ["no numeric 'cik'"]),
    ],
    ids=["list", "string", "null", "no-facts", "facts-list", "us-gaap-list", "us-gaap-null",
         "concept-text", "no-units", "units-list", "usd-null", "usd-dict", "fact-text",
         "fact-no-val", "no-cik", "cik-text"],
)
def test_wrong_shapes_are_one_line_errors_naming_file_and_concept(tmp_path, doc, needles):
    path = _write(tmp_path / "facts.json", doc)
    with pytest.raises(DataError) as exc:
        load_companyfacts(path)
    _one_line(exc, "facts.json", *needles)


@pytest.mark.parametrize(
    "raw, needle",
    [('"12"', "is not a number"), ("null", "is not a number"), ("true", "is not a number"),
     ("[1]", "is not a number"), ("NaN", "is not a finite number"),
     ("Infinity", "is not a finite number"), ("-Infinity", "is not a finite number"),
     ("1" + "0" * 400, "is not a finite number")],
    ids=["text", "null", "bool", "list", "nan", "inf", "-inf", "huge-int"],
)
def test_bad_values_name_file_concept_and_period(tmp_path, raw, needle):
    """``raw`` is JSON text: Python's json reads NaN/Infinity and 400-digit integers."""
    text = json.dumps(_doc({"Revenues": _usd(_fact("2023-01-01", "2023-12-31", "VAL"))}))
    path = _write(tmp_path / "vals.json", text.replace('"VAL"', raw))
    with pytest.raises(DataError) as exc:
        load_companyfacts(path)
    _one_line(exc, "vals.json", "Revenues USD[0]", needle, "2023-01-01 to 2023-12-31")


def test_bad_dates_name_file_and_concept(tmp_path):
    path = _write(tmp_path / "d.json", _doc({CAPEX: _usd(_fact("2023-01-01", "2023-13-45", 1))}))
    with pytest.raises(DataError) as exc:
        load_companyfacts(path)
    _one_line(exc, "d.json", CAPEX, "bad date '2023-13-45'")


# -- wrong units --------------------------------------------------------------------------------


def test_shares_where_usd_expected_names_the_concept(tmp_path):
    doc = _doc({CAPEX: {"units": {"shares": [_fact("2023-01-01", "2023-12-31", 5)],
                                  "USD/shares": [_fact("2023-01-01", "2023-12-31", 1.5)]}}})
    path = _write(tmp_path / "u.json", doc)
    with pytest.raises(DataError) as exc:
        load_companyfacts(path)
    _one_line(exc, "u.json", CAPEX, "reported in shares, USD/shares, expected USD")


def test_usd_is_used_when_other_units_sit_alongside(tmp_path):
    doc = _doc({CAPEX: {"units": {"shares": [_fact("2023-01-01", "2023-12-31", 5)],
                                  "USD": [_fact("2023-01-01", "2023-12-31", 7e6)]}}})
    row = load_companyfacts(_write(tmp_path / "u.json", doc)).annual.iloc[0]
    assert (row["field"], row["value_musd"]) == ("capex", 7.0)


# -- sign conventions -----------------------------------------------------------------------------


def test_negative_quarterly_capex_is_stored_positive_with_a_note(tmp_path):
    doc = _doc({CAPEX: _usd(
        _fact("2023-01-01", "2023-12-31", -100e6, "K"),
        _fact("2023-07-01", "2023-09-30", -25e6, "Q3", "2023-11-01", "10-Q"),
    )})
    q = load_companyfacts(_write(tmp_path / "s.json", doc)).quarterly.set_index("fiscal_quarter")
    assert q.loc["Q3", "value_musd"] == 25.0 and "sign flipped" in q.loc["Q3", "note"]


def test_derived_quarter_of_differently_signed_filings_is_not_inflated(tmp_path):
    # The 10-K tags capex positive, the 10-Q negative: Q4 = 100 - 70 = 30, not 100 - (-70).
    doc = _doc({CAPEX: _usd(
        _fact("2023-01-01", "2023-12-31", 100e6, "K"),
        _fact("2023-01-01", "2023-09-30", -70e6, "Q3", "2023-11-01", "10-Q"),
    )})
    q = load_companyfacts(_write(tmp_path / "s.json", doc)).quarterly.set_index("fiscal_quarter")
    assert q.loc["Q4", "value_musd"] == 30.0
    assert "derived" in q.loc["Q4", "note"] and "sign flipped" in q.loc["Q4", "note"]


def test_revenue_is_not_sign_flipped(tmp_path):
    # Only outflows follow the "stored positive" convention; a negative revenue stays as filed.
    doc = _doc({"Revenues": _usd(_fact("2023-01-01", "2023-12-31", -5e6))})
    row = load_companyfacts(_write(tmp_path / "r.json", doc)).annual.iloc[0]
    assert row["value_musd"] == -5.0 and "sign flipped" not in row["note"]


# -- duplicated and conflicting facts -----------------------------------------------------------


def test_quarterly_restatement_latest_filing_wins(tmp_path):
    doc = _doc({CAPEX: _usd(
        _fact("2023-01-01", "2023-12-31", 100e6, "K-1", "2024-02-01"),
        _fact("2023-07-01", "2023-09-30", 25e6, "Q-1", "2023-11-01", "10-Q"),
        _fact("2023-07-01", "2023-09-30", 27e6, "Q-2", "2024-05-01", "10-Q/A"),  # restated
    )})
    q = load_companyfacts(_write(tmp_path / "q.json", doc)).quarterly.set_index("fiscal_quarter")
    assert q.loc["Q3", "value_musd"] == 27.0 and "Q-2" in q.loc["Q3", "source"]


def test_same_filing_date_later_accession_wins_whatever_the_file_order(tmp_path):
    facts = [_fact("2023-01-01", "2023-12-31", 100e6, "0001-24-000002", "2024-02-01"),
             _fact("2023-01-01", "2023-12-31", 90e6, "0001-24-000001", "2024-02-01")]
    for order in (facts, facts[::-1]):
        doc = _doc({CAPEX: _usd(*order)})
        row = load_companyfacts(_write(tmp_path / "o.json", doc)).annual.iloc[0]
        assert row["value_musd"] == 100.0 and "0001-24-000002" in row["source"]


def test_identical_repeats_in_one_filing_are_fine(tmp_path):
    f = _fact("2023-01-01", "2023-12-31", 100e6, "K")
    doc = _doc({CAPEX: _usd(f, dict(f, frame="CY2023"), f)})
    cf = load_companyfacts(_write(tmp_path / "r.json", doc))
    assert cf.annual["value_musd"].tolist() == [100.0]


@pytest.mark.parametrize("form", ["10-K", "10-Q"])
def test_one_filing_with_two_values_for_a_period_is_refused(tmp_path, form):
    start = "2023-01-01" if form == "10-K" else "2023-07-01"
    end = "2023-12-31" if form == "10-K" else "2023-09-30"
    doc = _doc({CAPEX: _usd(
        _fact("2023-01-01", "2023-12-31", 100e6, "K-0", "2024-01-15"),
        _fact(start, end, 30e6, "X-1", "2024-02-01", form),
        _fact(start, end, 31e6, "X-1", "2024-02-01", form),
    )})
    path = _write(tmp_path / "c.json", doc)
    with pytest.raises(DataError) as exc:
        load_companyfacts(path)
    _one_line(exc, "c.json", CAPEX, f"{start} to {end}", "filing X-1",
              "two different values", "30,000,000", "31,000,000")


def test_conflict_in_an_overrides_file_stops_a_dataset_load_with_the_same_message(tmp_path):
    doc = _doc({CAPEX: _usd(_fact("2023-01-01", "2023-12-31", 1e6, "K"),
                            _fact("2023-01-01", "2023-12-31", 2e6, "K"))})
    _write(tmp_path / "CIK0000320193.json", doc)
    with pytest.raises(DataError, match="CIK0000320193.json: .*two different values"):
        load_dataset(tmp_path)


def test_cli_reports_a_broken_companyfacts_override_in_one_line(tmp_path):
    _write(tmp_path / "CIK0000320193.json", {"cik": 320193, "facts": {"us-gaap": []}})
    r = subprocess.run([sys.executable, "-m", "aicapex", "metrics", "--tickers", "AAPL",
                        "--overrides", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert r.stderr.startswith("error:") and r.stderr.count("\n") == 1, r.stderr
    assert "CIK0000320193.json" in r.stderr and "'us-gaap' is not an object" in r.stderr


def test_the_real_aapl_file_has_no_conflicting_facts():
    # The refusal above must not trip on EDGAR's own data (repeats there are identical).
    cf = load_companyfacts(AAPL_JSON)
    assert len(cf.annual) > 50 and len(cf.quarterly) > 50


# -- property: whatever the JSON, a DataError or a valid frame ----------------------------------

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
                      st.sampled_from(["2023-12-31", "2023-01-01", "10-K", "10-Q", "USD"]))
json_any = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=12)
fact_like = st.fixed_dictionaries(
    {"end": st.one_of(st.sampled_from(["2023-12-31", "2023-09-30", "2024-06-30"]), json_leaf)},
    optional={"start": st.one_of(st.sampled_from(["2023-01-01", "2023-07-01"]), json_leaf),
              "val": st.one_of(st.floats(), st.integers(), json_leaf),
              "accn": json_leaf, "form": st.sampled_from(["10-K", "10-Q", "8-K", ""]),
              "filed": st.sampled_from(["2024-02-01", "2023-11-01", ""])})
concept_entry = st.one_of(
    json_any,
    st.fixed_dictionaries({"units": st.one_of(
        json_any, st.dictionaries(st.sampled_from(["USD", "shares"]),
                                  st.one_of(json_any, st.lists(st.one_of(fact_like, json_any),
                                                               max_size=4)), max_size=2))}),
)
companyfacts_doc = st.one_of(
    json_any,
    st.fixed_dictionaries({
        "cik": st.one_of(st.just(320193), json_leaf),
        "facts": st.one_of(json_any, st.fixed_dictionaries({"us-gaap": st.one_of(
            json_any, st.dictionaries(st.sampled_from([CAPEX, "Revenues", "InterestExpense",
                                                       "NetCashProvidedByUsedInOperatingActivities"]),
                                      concept_entry, max_size=3))})),
    }),
)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=companyfacts_doc)
def test_any_json_gives_a_data_error_or_tidy_frames(tmp_path, doc):
    path = tmp_path / "any.json"
    path.write_text(json.dumps(doc))  # Python's json writes NaN/Infinity, as hostile files may
    try:
        cf = load_companyfacts(path)
    except DataError as exc:
        assert "any.json" in str(exc) and "\n" not in str(exc)
        return
    for frame, columns in ((cf.annual, cfm.TIDY_COLUMNS), (cf.quarterly, cfm.QUARTER_COLUMNS)):
        assert list(frame.columns) == columns
        values = frame["value_musd"].astype(float)
        assert values.notna().all() and (values.abs() < float("inf")).all()
        capex = frame[frame["field"].isin(cfm.OUTFLOW_FIELDS)]
        assert (capex["value_musd"] >= 0).all()


@pytest.mark.parametrize("cik", [float("inf"), float("-inf"), float("nan"), "x", None, [1]])
def test_a_cik_that_is_not_a_number_is_a_one_line_error(tmp_path, cik):
    # Found by the CI hypothesis profile: an infinite CIK raised OverflowError.
    path = tmp_path / "cf.json"
    path.write_text(json.dumps({"cik": cik, "facts": {"us-gaap": {}}}))
    with pytest.raises(DataError, match="no numeric 'cik'"):
        load_companyfacts(path)
