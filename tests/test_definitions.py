"""Stated definitions (issue 15): each company's own FCF, the capex basis switch, D&A/debt/lease
definitions, basis breaks, the AI-peer set without the control company, and "highest since"
words that match the numbers. Expected values are the reported figures, read from the
snapshot CSV with the csv module (not the engine), or the figures SOURCES.md and the issue
cite."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys

import pytest
from aicapex.engine import definitions as d
from aicapex.engine import metrics as m
from aicapex.engine.company_metrics import metric_frame, metrics_long, peer_long, peer_series
from aicapex.engine.findings import company_findings
from conftest import REPO
from hypothesis import given
from hypothesis import strategies as st

ANNUAL = REPO / "python" / "aicapex" / "data" / "snapshot" / "hyperscalers_annual.csv"


def reported() -> dict[tuple[str, int, str], float]:
    with ANNUAL.open(newline="", encoding="utf-8") as f:
        return {(r["ticker"], int(r["fiscal_year"]), r["field"]): float(r["value_musd"])
                for r in csv.DictReader(f)}


R = reported()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aicapex", *args], capture_output=True,
                          text=True, timeout=300)


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# -- free cash flow on each company's own definition ------------------------------------------


def test_fcf_is_each_companys_own_definition_and_says_so():
    """The issue's done-when command and figures: AMZN 11,194; META 43,585; MSFT 71,611;
    GOOGL 73,266 (main printed 7,695 for AMZN and 46,109 for META)."""
    r = cli("metrics", "--tickers", "AMZN,META,MSFT,GOOGL", "--metrics", "fcf", "--from", "2025",
            "--to", "2025", "--format", "csv")
    assert r.returncode == 0, r.stderr
    header = r.stdout.splitlines()[0].split(",")
    assert header[:4] == ["ticker", "fiscal_year", "metric", "value"]
    assert "definition" in header and "basis" in header
    rows = {x["ticker"]: x for x in csv_rows(r.stdout)}
    assert float(rows["AMZN"]["value"]) == 11194 == 139514 - 128320  # SOURCES.md cross-check
    assert float(rows["META"]["value"]) == 43585
    assert float(rows["MSFT"]["value"]) == 71611 == 136162 - 64551
    assert float(rows["GOOGL"]["value"]) == 73266 == 164713 - 91447
    # the same figures from the reported lines of each definition
    assert float(rows["META"]["value"]) == (R["META", 2025, "ocf"] - R["META", 2025, "capex"]
                                           - R["META", 2025, "fin_lease_principal_payments"])
    assert float(rows["AMZN"]["value"]) == (R["AMZN", 2025, "ocf"]
                                           - R["AMZN", 2025, "capex_net_of_proceeds"])
    assert "net of proceeds" in rows["AMZN"]["definition"] and "Amazon" in rows["AMZN"]["definition"]
    assert "principal payments on finance leases" in rows["META"]["definition"]
    assert rows["MSFT"]["definition"].startswith("OCF - capex")
    assert {x["basis"] for x in rows.values()} == {"cash"}


def test_fcf_margin_uses_the_same_fcf(dataset):
    amzn = metric_frame(dataset, "AMZN", ["fcf_margin"]).loc[2025, "fcf_margin"]
    assert amzn == pytest.approx(11194 / R["AMZN", 2025, "revenue"])


def test_uniform_fcf_is_offered_and_stated(dataset):
    frame = metric_frame(dataset, "AMZN", ["fcf_ocf_less_capex"])
    assert frame.loc[2025, "fcf_ocf_less_capex"] == R["AMZN", 2025, "ocf"] - R["AMZN", 2025, "capex"]
    assert "same rule for every company" in d.metric_definition("AMZN", "fcf_ocf_less_capex")


# -- capex as a metric, and the capex basis -----------------------------------------------------


def test_capex_and_other_reported_fields_are_metrics():
    r = cli("metrics", "--tickers", "MSFT", "--metrics", "capex,ocf,revenue", "--from", "2025",
            "--to", "2025", "--format", "json")
    assert r.returncode == 0, r.stderr  # main: error: unknown metric 'capex'
    got = {x["metric"]: x for x in json.loads(r.stdout)}
    assert got["capex"]["value"] == 64551 and got["ocf"]["value"] == 136162
    assert got["revenue"]["value"] == R["MSFT", 2025, "revenue"]
    assert "excludes assets acquired under finance leases" in got["capex"]["definition"]


def test_capex_including_finance_leases_is_capex_plus_principal_payments():
    r = cli("metrics", "--tickers", "META,MSFT,ORCL", "--metrics", "capex,capex_to_ocf",
            "--from", "2025", "--to", "2025", "--capex-basis", "incl-finance-leases",
            "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = {(x["ticker"], x["metric"]): x for x in csv_rows(r.stdout)}
    # Meta's own headline "capex incl. principal payments on finance leases", reported
    # separately (titanstockanalysis.com; SOURCES.md): 69,691 + 2,524 = 72,215.
    assert float(rows["META", "capex"]["value"]) == R["META", 2025, "capex_incl_fin_lease_principal"]
    assert float(rows["MSFT", "capex"]["value"]) == 64551 + R["MSFT", 2025, "fin_lease_principal_payments"]
    assert float(rows["META", "capex_to_ocf"]["value"]) == pytest.approx(72215 / R["META", 2025, "ocf"])
    # Oracle reports no finance-lease principal: missing (empty), never the cash line or zero
    assert rows["ORCL", "capex"]["value"] == "" and rows["ORCL", "capex_to_ocf"]["value"] == ""
    assert "fin_lease_principal_payments not reported" in rows["ORCL", "capex"]["note"]
    assert {x["basis"] for x in rows.values()} == {"incl-finance-leases"}


def test_capex_basis_reaches_fcf_and_peer(dataset):
    msft = metric_frame(dataset, "MSFT", ["fcf"], basis="incl-finance-leases").loc[2025, "fcf"]
    assert msft == 136162 - 64551 - R["MSFT", 2025, "fin_lease_principal_payments"]
    meta = metric_frame(dataset, "META", ["fcf"], basis="incl-finance-leases").loc[2025, "fcf"]
    assert meta == 43585  # Meta's own definition already deducts the principal
    four = ["MSFT", "GOOGL", "AMZN", "META"]
    peer = peer_series(dataset, four, "capex", [2025], basis="incl-finance-leases")
    assert peer.loc[2025] == sum(R[t, 2025, "capex"] + R[t, 2025, "fin_lease_principal_payments"]
                                 for t in four)


def test_unknown_basis_is_refused():
    with pytest.raises(Exception, match="unknown capex basis 'gross'"):
        d.check_capex_basis("gross")
    r = cli("metrics", "--capex-basis", "gross")
    assert r.returncode == 2 and "invalid choice" in r.stderr and "Traceback" not in r.stderr


# -- D&A, debt and lease definitions; basis breaks ----------------------------------------------


@pytest.mark.parametrize(("ticker", "field", "words"), [
    ("GOOGL", "da_cashflow", "Depreciation of property and equipment only"),
    ("ORCL", "da_cashflow", "amortization of intangible assets"),
    ("MSFT", "da_cashflow", "Depreciation, amortization, and other"),
    ("AMZN", "da_cashflow", "capitalized content"),
    ("GOOGL", "total_debt", "finance-lease liabilities"),
    ("MSFT", "total_debt", "excludes leases and commercial paper"),
    ("AAPL", "total_debt", "Commercial paper plus term debt"),
])
def test_da_and_debt_definitions_are_stated_per_company(ticker, field, words):
    assert words in d.field_definition(ticker, field)
    metric = "da_to_revenue" if field == "da_cashflow" else "net_debt"
    assert words in d.metric_definition(ticker, metric)


def test_lease_ratio_says_operating_leases_only_and_offers_both_kinds(dataset):
    assert "operating leases only" in d.metric_definition("MSFT", "lease_to_fixed_assets")
    v = metric_frame(dataset, "MSFT", ["lease_liabilities_to_fixed_assets"]).loc[2025].iloc[0]
    w = {f: R["MSFT", 2025, f] for f in ("op_lease_liabilities_total",
                                          "fin_lease_liabilities_total", "ppe_net")}
    assert v == pytest.approx((w["op_lease_liabilities_total"] + w["fin_lease_liabilities_total"])
                              / w["ppe_net"])
    assert "finance-lease" in d.metric_definition("MSFT", "lease_liabilities_to_fixed_assets")


def test_basis_breaks_are_flagged_where_they_apply(dataset):
    rows = metrics_long(dataset, ["GOOGL"], ["da_to_revenue"], (2019, 2025))
    notes = dict(zip(rows["fiscal_year"], rows["note"], strict=True))
    assert "basis break FY2020->FY2021" in notes[2021] and "impairment" in notes[2021]
    assert all(notes[y] == "" for y in (2019, 2020, 2022, 2025))
    msft = metrics_long(dataset, ["MSFT"], ["cloud_segment_revenue"], (2022, 2023))
    note = dict(zip(msft["fiscal_year"], msft["note"], strict=True))
    assert "basis break FY2022->FY2023" in note[2023] and note[2022] == ""
    assert "no recast" in note[2023]


def test_data_command_states_definition_tier_source_and_breaks():
    r = cli("data", "--tickers", "GOOGL,META", "--fields", "da_cashflow,rpo", "--from", "2020",
            "--to", "2021", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = csv_rows(r.stdout)
    assert list(rows[0])[:5] == ["ticker", "fiscal_year", "fiscal_year_end", "field", "value_musd"]
    assert {"definition", "tier", "source"} <= set(rows[0])
    by = {(x["ticker"], int(x["fiscal_year"]), x["field"]): x for x in rows}
    g21 = by["GOOGL", 2021, "da_cashflow"]
    assert float(g21["value_musd"]) == R["GOOGL", 2021, "da_cashflow"] == 10273
    assert g21["tier"] in ("filing", "release", "secondary") and g21["source"]
    assert "basis break FY2020->FY2021" in g21["basis_break"]
    # META reports no RPO: the asked-for figure is listed as missing, not dropped or zero
    gap = by["META", 2021, "rpo"]
    assert gap["value_musd"] == "" and "not reported" in gap["note"]


def test_data_command_quarterly_and_errors():
    r = cli("data", "--tickers", "AMZN", "--fields", "capex", "--freq", "quarterly", "--from",
            "2025", "--to", "2025", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["fiscal_quarter"] for x in rows] == ["Q1", "Q2", "Q3", "Q4"]
    assert sum(x["value_musd"] for x in rows) == R["AMZN", 2025, "capex"]  # SOURCES.md check
    bad = cli("data", "--fields", "capx,ocff")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "'capx' (did you mean 'capex'?)" in bad.stderr and "'ocff'" in bad.stderr


# -- the AI peers and the control company -------------------------------------------------------


def test_peer_aggregate_excludes_the_control_company(dataset):
    assert "AAPL" not in d.PEER_SET and "AAPL" in d.CONTROL_SET
    peers = ["MSFT", "GOOGL", "AMZN", "META", "ORCL"]
    s = peer_series(dataset, None, "capex_to_ocf", [2025])
    assert s.loc[2025] == pytest.approx(sum(R[t, 2025, "capex"] for t in peers)
                                        / sum(R[t, 2025, "ocf"] for t in peers))
    assert "AAPL" not in s.name
    frame = peer_long(dataset, None, ["capex_to_ocf"], (2025, 2025))
    assert frame.iloc[0]["members"] == "MSFT+GOOGL+AMZN+META+ORCL"


def test_metrics_peer_on_the_command_line():
    r = cli("metrics", "--peer", "--metrics", "fcf,capex_to_ocf", "--from", "2025", "--to", "2025",
            "--format", "json")
    assert r.returncode == 0, r.stderr  # main: no --peer; --tickers PEER was an unknown ticker
    rows = {x["metric"]: x for x in json.loads(r.stdout)}
    assert rows["fcf"]["ticker"] == "PEER"
    assert rows["fcf"]["value"] == 71611 + 73266 + 11194 + 43585 + (20821 - 21215)
    assert "ratio of sums" in rows["capex_to_ocf"]["definition"]
    assert rows["capex_to_ocf"]["members"] == "MSFT+GOOGL+AMZN+META+ORCL"
    mixed = cli("metrics", "--tickers", "AAPL,PEER", "--metrics", "capex", "--from", "2025",
                "--to", "2025", "--format", "csv")
    assert mixed.returncode == 0, mixed.stderr
    got = {x["ticker"]: x for x in csv_rows(mixed.stdout)}
    assert set(got) == {"AAPL", "PEER"} and "AAPL" not in got["PEER"]["members"]


def test_report_marks_aapl_as_control_and_ends_with_the_peer_row(dataset):
    f = company_findings(dataset, basis="cash", peer=True).set_index("ticker")
    assert f.loc["AAPL", "role"] == "control" and "control" in f.loc["AAPL", "finding"]
    assert f.loc["MSFT", "role"] == "AI peer"
    assert "AAPL" not in f.loc["PEER", "finding"] and f.index[-1] == "PEER"
    assert f.loc["AMZN", "fcf"] == 11194 and "Amazon" in f.loc["AMZN", "fcf_definition"]


def test_report_takes_the_capex_basis():
    r = cli("report", "--tickers", "META", "--capex-basis", "incl-finance-leases", "--format",
            "json")
    assert r.returncode == 0, r.stderr
    meta = json.loads(r.stdout)[0]
    assert meta["capex_basis"] == "incl-finance-leases"
    assert meta["capex_to_ocf"] == pytest.approx(72215 / R["META", 2025, "ocf"])


# -- "highest since": words that match the numbers ----------------------------------------------


def test_issue_examples_read_right(dataset):
    f = company_findings(dataset, peer=True).set_index("ticker")
    # META's D&A/revenue fell in FY2025 (9.27% after 9.42%): not "highest since FY2024"
    assert R["META", 2025, "da_cashflow"] / R["META", 2025, "revenue"] < (
        R["META", 2024, "da_cashflow"] / R["META", 2024, "revenue"])
    assert "highest since FY2024" not in f.loc["META", "finding"]
    assert "D&A/revenue 9.3%, below the FY2024 peak" in f.loc["META", "finding"]
    # AAPL below its FY2019 level: says so; MSFT a record: says so, and no "since" year
    assert "below the FY2019 peak" in f.loc["AAPL", "finding"]
    assert "capex/OCF 63.4%, record high" in f.loc["MSFT", "finding"]
    assert f.loc["MSFT", "capex_to_ocf_highest_since"] is None
    # MSFT has no FY2026 D&A: no standing is claimed for it
    assert "D&A/revenue: FY2026 not reported" in f.loc["MSFT", "finding"]
    assert f.loc["MSFT", "da_to_revenue_highest_since"] is None


def _series_by_hand(ticker: str, num: str, den: str, upto: int) -> dict[int, float]:
    """Ratio series from the CSV, including every year where both figures are reported."""
    out = {}
    for (t, y, f), v in R.items():
        if t == ticker and f == num and y <= upto and (t, y, den) in R and R[t, y, den] != 0:
            out[y] = v / R[t, y, den]
    return dict(sorted(out.items()))


def _peer_by_hand(num: str, den: str, upto: int) -> dict[int, float]:
    peers = ["MSFT", "GOOGL", "AMZN", "META", "ORCL"]
    out = {}
    for y in range(2015, upto + 1):
        if all((t, y, num) in R and (t, y, den) in R for t in peers):
            out[y] = sum(R[t, y, num] for t in peers) / sum(R[t, y, den] for t in peers)
    return out


def check_clause(clause: str, series: dict[int, float]) -> None:
    """Check one "<label> <pct>%, <standing>" clause against the series (by hand)."""
    match = re.fullmatch(r"[^ ]+ (-?[\d.]+)%, (.*)", clause)
    assert match, clause
    years = list(series)
    latest_year = years[-1]
    latest = series[latest_year]
    assert float(match.group(1)) == pytest.approx(latest * 100, abs=0.05), clause
    words = match.group(2)
    earlier = {y: v for y, v in series.items() if y < latest_year}
    prev_year = max(earlier)
    if words.startswith("record high"):
        assert all(v < latest for v in earlier.values()), clause
        assert f"(data from FY{years[0]})" in words
    elif words.startswith("highest since"):
        since = int(re.search(r"FY(\d{4})", words).group(1))
        assert series[since] >= latest, clause
        assert all(v < latest for y, v in earlier.items() if y > since), clause
        assert latest > series[prev_year], clause  # a rise, never a fall
    elif "peak" in words or "level with" in words:
        peak = int(re.search(r"the FY(\d{4}) (peak|high)", words).group(1))
        assert series[peak] == max(earlier.values()) and latest <= series[peak], clause
        assert latest <= series[prev_year], clause  # a fall or no change
        down = re.search(r"down from FY(\d{4})", words)
        if down:
            assert int(down.group(1)) == prev_year and latest < series[prev_year]
    else:
        raise AssertionError(f"unrecognised standing: {clause}")


def test_every_generated_sentence_matches_its_series(dataset):
    f = company_findings(dataset, peer=True)
    for row in f.itertuples(index=False):
        fy = row.fiscal_year
        body = re.sub(r" \[[^\]]*\]", "", row.finding.split(": ", 1)[1])
        clauses = body.split("; ")
        for clause in clauses:
            if clause.startswith("capex/OCF"):
                series = (_peer_by_hand("capex", "ocf", fy) if row.ticker == "PEER"
                          else _series_by_hand(row.ticker, "capex", "ocf", fy))
            elif clause.startswith("D&A/revenue"):
                if "not reported" in clause:
                    assert (row.ticker, fy, "da_cashflow") not in R
                    continue
                series = (_peer_by_hand("da_cashflow", "revenue", fy) if row.ticker == "PEER"
                          else _series_by_hand(row.ticker, "da_cashflow", "revenue", fy))
            else:
                continue
            assert max(series) == fy
            check_clause(clause, series)


def test_a_comparison_across_a_basis_break_says_so(dataset):
    f = company_findings(dataset, ["GOOGL"]).set_index("ticker")
    # GOOGL D&A/revenue FY2025 is compared with FY2020, across the 2020->2021 break
    assert "highest since FY2020" in f.loc["GOOGL", "finding"]
    assert "basis break FY2020->FY2021" in f.loc["GOOGL", "notes"]


@given(st.lists(st.one_of(st.floats(-100, 100, allow_nan=False), st.just(math.nan)),
                min_size=2, max_size=12))
def test_standing_words_match_any_series(values):
    periods = list(range(2000, 2000 + len(values)))
    s = m.standing(values, periods)
    series = {p: v for p, v in zip(periods, values, strict=True) if not math.isnan(v)}
    if len(series) < 2:
        assert s.kind == "insufficient"
        return
    check_clause(f"x {series[max(series)] * 100:.6f}%, {s.phrase()}", series)


def test_highest_since_text_function():
    import aicapex.udfs as udfs

    assert udfs.cpx_highest_since_text([[5, 6, 7]], [[2019, 2020, 2021]]) == (
        "record high (data from FY2019)")
    assert udfs.cpx_highest_since_text([[5, 9, 4, 7]], [[2019, 2020, 2021, 2022]]) == (
        "highest since FY2020")
    assert udfs.cpx_highest_since_text([[5, 9, 8, 7]], [[2019, 2020, 2021, 2022]]) == (
        "below the FY2020 peak, down from FY2021")
    missing_latest = udfs.cpx_highest_since_text([[5, 9, None]], [[2019, 2020, 2021]])
    assert missing_latest == "#N/A"
    # Naming the period, the words describe the latest *reported* year (FY2021 not out yet).
    assert udfs.cpx_highest_since_text([[5, 9, None]], [[2019, 2020, 2021]], True) == (
        "FY2020: record high (data from FY2019)")
    from aicapex.xlerrors import XlError

    na = XlError("#N/A", "not reported")
    assert udfs.cpx_highest_since_text([[9, 7, 5, na]], [[2019, 2020, 2021, 2022]], True) == (
        "FY2021: below the FY2019 peak, down from FY2020")


def test_fcf_is_ocf_less_the_capex_its_definition_deducts_everywhere(dataset):
    """The identity the Ratios sheet checks per company block: FCF = OCF - fcf_capex."""
    for t in dataset.tickers:
        for basis in d.CAPEX_BASES:
            f = metric_frame(dataset, t, ["ocf", "fcf_capex", "fcf"], basis=basis)
            both = f.dropna()
            assert (both["fcf"] == both["ocf"] - both["fcf_capex"]).all(), (t, basis)
            assert f["fcf"].isna().equals(f["fcf_capex"].isna() | f["ocf"].isna()), (t, basis)
    amzn = metric_frame(dataset, "AMZN", ["fcf_capex"]).loc[2025, "fcf_capex"]
    assert amzn == R["AMZN", 2025, "capex_net_of_proceeds"] == 128320
    assert "net of proceeds" in d.metric_definition("AMZN", "fcf_capex")
