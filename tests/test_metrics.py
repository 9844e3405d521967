"""Metrics engine against hand-computed values from the reported figures."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from aicapex.engine import metrics as m
from aicapex.engine.company_metrics import metric_frame, peer_series
from aicapex.engine.findings import company_findings
from hypothesis import given
from hypothesis import strategies as st


def test_msft_fy2025_capex_to_ocf_by_hand(dataset):
    frame = metric_frame(dataset, "MSFT")
    assert frame.loc[2025, "capex_to_ocf"] == pytest.approx(64551 / 136162, rel=1e-15)


def test_googl_fy2025_fcf_by_hand(dataset):
    frame = metric_frame(dataset, "GOOGL")
    assert frame.loc[2025, "fcf"] == 164713 - 91447 == 73266


def test_amzn_fy2025_fcf_on_net_capex_matches_release():
    # SOURCES.md: OCF 139,514 - net capex 128,320 = 11,194 = the release's "$11.2 billion".
    assert m.fcf(139514, 128320) == 11194


def test_other_metrics_by_hand(dataset):
    msft = metric_frame(dataset, "MSFT").loc[2025]
    assert msft["fcf_margin"] == pytest.approx((136162 - 64551) / 281724)
    assert msft["capex_to_revenue"] == pytest.approx(64551 / 281724)
    assert msft["da_to_revenue"] == pytest.approx(34153 / 281724)
    w = dataset.wide("MSFT").loc[2025]
    assert msft["lease_to_fixed_assets"] == pytest.approx(w["op_lease_rou_assets"] / w["ppe_net"])
    assert msft["net_debt"] == w["total_debt"] - w["cash_and_marketable_securities"]


def test_missing_input_gives_nan_not_zero(dataset):
    orcl = metric_frame(dataset, "ORCL").loc[2019]
    assert math.isnan(orcl["lease_to_fixed_assets"])  # SOURCES.md: ORCL FY2019 leases missing
    meta = metric_frame(dataset, "META").loc[2025]
    assert math.isnan(meta["debt_issued"])  # SOURCES.md: META 2025 debt proceeds missing


def test_divide_reasons():
    assert m.divide_reason([1, 1, np.nan, 1], [2, 0, 3, np.nan]).tolist() == [
        "", "zero denominator", "missing input", "missing input"]
    assert np.isnan(m.capex_to_ocf(5, 0))


def test_peer_ratio_is_ratio_of_sums_not_mean_of_ratios(dataset):
    tickers = ["MSFT", "GOOGL", "AMZN", "META"]
    peer = peer_series(dataset, tickers, "capex_to_ocf", [2025])
    capex = sum(dataset.value(t, "capex", 2025) for t in tickers)
    ocf = sum(dataset.value(t, "ocf", 2025) for t in tickers)
    assert peer.loc[2025] == pytest.approx(capex / ocf)
    mean_of_ratios = np.mean([dataset.value(t, "capex", 2025) / dataset.value(t, "ocf", 2025)
                              for t in tickers])
    assert abs(peer.loc[2025] - mean_of_ratios) > 1e-3


def test_peer_year_with_a_gap_is_missing(dataset):
    # META has no revenue for FY2019: a peer FCF margin for 2019 would change company set;
    # nor finance-lease principal for FY2020, which Meta's own FCF deducts.
    s = peer_series(dataset, ["MSFT", "META"], "fcf_margin", [2019, 2020, 2022])
    assert math.isnan(s.loc[2019]) and math.isnan(s.loc[2020])
    expected = ((89035 - 23886) + (50475 - 31186 - 850)) / (198270 + 116609)
    assert s.loc[2022] == pytest.approx(expected)


def test_peer_sum_of_fcf_equals_sum_of_company_fcf(dataset):
    tickers = ["MSFT", "ORCL"]
    s = peer_series(dataset, tickers, "fcf", [2025])
    assert s.loc[2025] == (136162 - 64551) + (20821 - 21215)


def test_growth_cagr_ttm_by_hand():
    assert m.growth([100, 150])[1] == pytest.approx(0.5)
    assert m.cagr([13925, 64551], years=6) == pytest.approx((64551 / 13925) ** (1 / 6) - 1)
    assert m.ttm([1, 2, np.nan, 4, 5, 6, 7]).tolist()[-1] == 22.0
    assert np.isnan(m.ttm([1, 2, np.nan, 4, 5, 6, 7])[5])


def test_highest_since_on_reported_data(dataset):
    # AMZN capex/OCF FY2025 = 131,819/139,514 = 94.5%; last higher: FY2022 (63,645/46,752).
    f = company_findings(dataset, ["AMZN", "ORCL"]).set_index("ticker")
    assert f.loc["AMZN", "capex_to_ocf_highest_since"] == 2022
    assert f.loc["AMZN", "capex_to_ocf"] == pytest.approx(131819 / 139514)
    # ORCL FY2026 capex exceeded OCF (55,663 > 31,977): a record in the data.
    assert f.loc["ORCL", "capex_to_ocf"] > 1
    assert "capex/OCF 174.1%, record high (data from FY2019)" in f.loc["ORCL", "finding"]


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=30))
def test_highest_since_definition(values):
    since, record = m.highest_since(values, list(range(len(values))))
    last = values[-1]
    if record:
        assert all(v < last for v in values[:-1])
    else:
        assert values[since] >= last and all(v < last for v in values[since + 1:-1])


@given(
    st.lists(st.floats(0, 1e6), min_size=1, max_size=8),
    st.lists(st.floats(1, 1e6), min_size=1, max_size=8),
)
def test_peer_ratio_lies_between_company_ratios(nums, dens):
    n = min(len(nums), len(dens))
    nums, dens = np.array(nums[:n]), np.array(dens[:n])
    r = m.peer_ratio(nums, dens)
    ratios = nums / dens
    assert ratios.min() - 1e-9 <= r <= ratios.max() + 1e-9


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "aicapex", *args], capture_output=True, text=True)


def test_metrics_command_columns_and_values():
    r = _cli("metrics", "--tickers", "MSFT,GOOGL", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert list(rows[0])[:4] == ["ticker", "fiscal_year", "metric", "value"]
    assert {"unit", "basis", "definition", "note"} <= set(rows[0])
    hit = [x for x in rows if x["ticker"] == "MSFT" and x["fiscal_year"] == 2025
           and x["metric"] == "capex_to_ocf"]
    assert hit[0]["value"] == pytest.approx(64551 / 136162)
    names = {x["metric"] for x in rows}
    assert {"capex_to_ocf", "fcf", "fcf_margin", "capex_to_revenue", "da_to_revenue",
            "lease_to_fixed_assets", "net_debt"} <= names


def test_metrics_command_csv_and_missing_is_empty():
    r = _cli("metrics", "--tickers", "ORCL", "--metrics", "lease_to_fixed_assets", "--format", "csv")
    assert r.returncode == 0
    assert "ORCL,2019,lease_to_fixed_assets,,fraction," in r.stdout
    assert "missing: op_lease_rou_assets not reported" in r.stdout


def test_report_command_recomputes_findings():
    r = _cli("report")
    assert r.returncode == 0, r.stderr
    # MSFT FY2026: 115,948 / 182,935 = 63.4% (SOURCES.md update: FY2026 10-K)
    assert "MSFT FY2026: capex/OCF 63.4%, record high (data from FY2019)" in r.stdout
    assert "AMZN FY2025: capex/OCF 94.5%, highest since FY2022" in r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["metrics", "--tickers", "XXX"], "error: unknown ticker 'XXX'"),
        (["metrics", "--metrics", "nope"], "error: unknown metric 'nope'"),
        (["metrics", "--overrides", "/nonexistent/dir"], "error: overrides folder"),
    ],
)
def test_command_line_errors_are_one_line(args, message):
    r = _cli(*args)
    assert r.returncode != 0
    assert r.stderr.startswith(message) and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.parametrize(
    "name, body, message",
    [
        ("bad.csv", "ticker,fiscal_year,fiscal_year_end,field,value_musd,source,note\n"
                    "MSFT,2025,2025-06-30,capex,n/a,src,\n", "bad.csv: row 2 (MSFT 2025 capex)"),
        ("dup.csv", "ticker,fiscal_year,fiscal_year_end,field,value_musd,source,note\n"
                    "MSFT,2025,2025-06-30,capex,1,src,\nMSFT,2025,2025-06-30,capex,2,src,\n",
         "dup.csv: duplicate fact MSFT 2025 capex"),
        ("CIK0000789019.json", "{truncated", "CIK0000789019.json: malformed companyfacts JSON"),
    ],
)
def test_bad_data_files_give_one_line_errors_on_the_command_line(tmp_path, name, body, message):
    (tmp_path / name).write_text(body)
    r = _cli("metrics", "--overrides", str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and message in r.stderr and r.stderr.count("\n") == 1
