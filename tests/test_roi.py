"""ROI on capex: required revenue (annuity), the revenue gap, and realised-return proxies."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from aicapex.engine.roi import (
    REVENUE_GAP_MODES,
    ROI_COLUMNS,
    blended_recovery_factor,
    capital_recovery_factor,
    cloud_revenue_growth,
    cumulative_required_revenue,
    growth_gap,
    incremental_return,
    payback_years,
    required_ai_revenue,
    required_revenue,
    required_revenue_schedule,
    revenue_gap,
    revenue_gap_table,
    roi_table,
)
from aicapex.errors import ArgumentError
from hypothesis import given
from hypothesis import strategies as st

SNAPSHOT = (
    Path(__file__).resolve().parents[1]
    / "python/aicapex/data/snapshot/hyperscalers_annual.csv"
)

# -- capital recovery ------------------------------------------------------------------------


def test_capital_charge_hand_worked():
    # $100, 6 years, 10%: 100 x 0.1 / (1 - 1.1^-6); 1.1^6 = 1.771561 -> 1 - 0.564474 = 0.435526
    assert 100 * capital_recovery_factor(0.10, 6) == pytest.approx(22.9607, abs=1e-4)
    assert required_revenue(100, 6, None, 0.10, 1.0) == pytest.approx(22.9607, abs=1e-4)


def test_crf_zero_rate_is_straight_line():
    assert capital_recovery_factor(0.0, 5) == pytest.approx(0.2)
    np.testing.assert_allclose(capital_recovery_factor([0.0, 0.0], [4, 8]), [0.25, 0.125])


@given(r=st.floats(-0.5, 0.5), n=st.integers(1, 50))
def test_crf_annuity_present_value_is_one(r, n):
    crf = capital_recovery_factor(r, n)
    pv = sum(crf / (1 + r) ** t for t in range(1, n + 1))
    assert pv == pytest.approx(1.0, rel=1e-9)


# -- required revenue ------------------------------------------------------------------------


def test_required_revenue_margin_and_opex():
    charge = 100 * 0.1 / (1 - 1.1**-6)
    # margin 40%: revenue x 0.4 must cover the charge
    assert required_revenue(100, 6, None, 0.10, 0.4) == pytest.approx(charge / 0.4)
    # running costs of 8% of capex a year: (charge + 8) / 0.4
    assert required_revenue(100, 6, None, 0.10, 0.4, opex_share=0.08) == pytest.approx(
        (charge + 8) / 0.4
    )


def test_required_revenue_life_mix():
    # 60% servers over 5 years, 40% buildings over 25 years, at 8%, margin 50%
    crf5 = 0.08 / (1 - 1.08**-5)
    crf25 = 0.08 / (1 - 1.08**-25)
    mix = 0.6 * crf5 + 0.4 * crf25
    assert blended_recovery_factor([5, 25], [0.6, 0.4], 0.08) == pytest.approx(mix)
    assert required_revenue(1_000, [5, 25], [0.6, 0.4], 0.08, 0.5) == pytest.approx(
        1_000 * mix / 0.5
    )


def test_required_revenue_broadcasts_over_vintages_and_hurdles():
    out = required_revenue([100, 200, np.nan], 6, None, 0.10, 1.0)
    assert out.shape == (3,)
    assert out[1] == pytest.approx(2 * out[0])
    assert np.isnan(out[2])
    by_hurdle = required_revenue(100, 4, None, [0.0, 0.1], 1.0)
    np.testing.assert_allclose(by_hurdle, [25.0, 100 * 0.1 / (1 - 1.1**-4)])
    assert isinstance(required_revenue(100, 6, None, 0.1, 1.0), float)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(lives=-6), ["lives=-6", "> 0"]),
        (dict(lives=0), ["lives=0"]),
        (dict(lives=72), ["lives=72", "months"]),
        (dict(margin=0.0), ["margin=0", "(0, 1]"]),
        (dict(margin=-0.2), ["margin=-0.2"]),
        (dict(margin=40), ["margin=40", "percentage"]),
        (dict(hurdle=-1.0), ["hurdle=-1", "> -1"]),
        (dict(hurdle=-1.5), ["hurdle=-1.5"]),
        (dict(hurdle=10), ["hurdle=10", "percentage"]),
        (dict(opex_share=1.5), ["opex_share=1.5"]),
        (dict(capex=-100), ["capex=-100"]),
        (dict(lives=[6, 20], split=[0.7, 0.4]), ["split sums to 1.1"]),
        (dict(lives=[6, 20], split=None), ["split is required"]),
        (dict(lives=[6, 20, 30], split=[0.5, 0.5]), ["same length"]),
    ],
)
def test_required_revenue_bad_arguments(kwargs, words):
    args = dict(capex=100, lives=6, split=None, hurdle=0.1, margin=0.5, opex_share=0.0)
    args.update(kwargs)
    with pytest.raises(ArgumentError) as info:
        required_revenue(**args)
    for w in words:
        assert w in str(info.value)


# -- vintage schedule ------------------------------------------------------------------------


def test_schedule_hand_matrix():
    # capex 100 then 300, life 3, 0% hurdle -> CRF 1/3; margin 0.5 -> 100/3/0.5 = 66.67 a year
    s = required_revenue_schedule([100, 300], 3, None, 0.0, 0.5)
    a, b = 100 / 3 / 0.5, 300 / 3 / 0.5
    np.testing.assert_allclose(
        s, [[0, a, a, a, 0], [0, 0, b, b, b]]
    )
    np.testing.assert_allclose(
        cumulative_required_revenue([100, 300], 3, None, 0.0, 0.5), [0, a, a + b, a + b, b]
    )


def test_schedule_delay_zero_and_fractional_life():
    # life 2.5 at 0%: CRF 0.4 -> 40, 40, then half a year 20
    s = required_revenue_schedule([100], 2.5, None, 0.0, 1.0, delay=0)
    np.testing.assert_allclose(s, [[40, 40, 20]])


def test_schedule_mixed_lives_steps_down_when_servers_retire():
    # 50/50 split, lives 2 and 4 at 0%: years 1-2 charge 0.5/2 + 0.5/4 = 0.375; years 3-4 0.125
    s = required_revenue_schedule([100], [2, 4], [0.5, 0.5], 0.0, 1.0)
    np.testing.assert_allclose(s, [[0, 37.5, 37.5, 12.5, 12.5]])


@given(
    capex=st.floats(1, 1e5),
    hurdle=st.floats(0.0, 0.3),
    life=st.integers(1, 30),
    opex=st.floats(0, 0.2),
    margin=st.floats(0.05, 1.0),
)
def test_schedule_identities(capex, hurdle, life, opex, margin):
    s = required_revenue_schedule([capex], life, None, hurdle, margin, opex)[0]
    # in every year of service the row equals the annual requirement
    live = s[1 : life + 1]
    np.testing.assert_allclose(live, required_revenue(capex, life, None, hurdle, margin, opex))
    # with margin 1 and no running costs the charges' PV at the hurdle returns the capex
    base = required_revenue_schedule([capex], life, None, hurdle, 1.0)[0]
    pv = sum(base[t] / (1 + hurdle) ** t for t in range(len(base)))
    assert pv == pytest.approx(capex, rel=1e-9)


def test_schedule_rejects_bad_shapes():
    with pytest.raises(ArgumentError, match="1-D"):
        required_revenue_schedule([[1, 2]], 3, None, 0.1, 0.5)
    with pytest.raises(ArgumentError, match="delay=-1"):  # named as the argument is
        required_revenue_schedule([1, 2], 3, None, 0.1, 0.5, delay=-1)


# -- revenue gap ------------------------------------------------------------------------------


def test_revenue_gap_sequoia():
    # Sept 2023: $50B x 2 / 0.5 = $200B required, ~$75B earned -> $125B hole
    assert revenue_gap(50_000, 2, 0.5, 75_000) == pytest.approx(125_000)
    # June 2024: $150B x 2 / 0.5 = $600B required, ~$100B earned -> $500B hole
    assert revenue_gap(150_000, 2, 0.5, 100_000) == pytest.approx(500_000)
    assert revenue_gap(150_000, 2, 0.5, 0) == pytest.approx(600_000)
    np.testing.assert_allclose(revenue_gap([100, 200], 2, 0.5, [0, 1000]), [400, -200])


def test_revenue_gap_bad_arguments():
    with pytest.raises(ArgumentError, match="cost_multiple=0.5"):
        revenue_gap(100, 0.5, 0.5, 0)
    with pytest.raises(ArgumentError, match="margin=0"):
        revenue_gap(100, 2, 0, 0)
    with pytest.raises(ArgumentError, match="ai_revenue=-1"):
        revenue_gap(100, 2, 0.5, -1)


def test_600b_question_two_modes_by_hand():
    # (a) Sequoia's original: $150B of accelerator spend x 2 (total data-center cost) / 50%
    assert required_ai_revenue(150_000, "sequoia", 0.5) == pytest.approx(600_000)
    # (b) total hyperscaler capex already includes buildings and power: x 1, not x 2
    assert required_ai_revenue(400_000, "capex", 0.5) == pytest.approx(800_000)
    assert REVENUE_GAP_MODES == {"sequoia": 2.0, "capex": 1.0}
    # with the capex life stated: $400B over 5 years at 50% = $160B a year
    assert required_ai_revenue(400_000, "capex", 0.5, 5) == pytest.approx(160_000)
    assert revenue_gap(150_000, 2, 0.5, 0, life_years=2) == pytest.approx(300_000)
    with pytest.raises(ArgumentError, match="mode='gpu'"):
        required_ai_revenue(1, "gpu")
    with pytest.raises(ArgumentError, match="life_years=0"):
        revenue_gap(1, 1, 0.5, 0, life_years=0)


class _Wide:
    def __init__(self, frames):
        self._frames = frames
        self.tickers = list(frames)

    def wide(self, t):
        return self._frames[t]


def test_cloud_growth_proxy_chains_a_basis_break_and_skips_companies_without_a_segment():
    idx = pd.Index([2021, 2022, 2023, 2024, 2025], name="fiscal_year")
    ds = _Wide({
        # basis break in 2023: 2023 and 2024 on both bases (old 120 / new 100 in 2023)
        "BRK": pd.DataFrame({"cloud_segment_revenue": [90, 110, 100, 130, 160.0],
                             "cloud_segment_revenue_pre_fy25_basis": [np.nan, np.nan, 120, 150,
                                                                      np.nan]}, index=idx),
        "PLN": pd.DataFrame({"cloud_segment_revenue": [10, 20, 25, np.nan, 40.0]}, index=idx),
        "ADS": pd.DataFrame({"revenue": [1.0, 2, 3, 4, 5]}, index=idx),
    })
    g = cloud_revenue_growth(ds, ["BRK", "PLN", "ADS"], 2022)
    assert list(g.index) == [2022, 2023, 2024, 2025]  # nothing before the base year
    # BRK: 2023 = old 120 - 110 = 10; 2024 = 10 + (new 130 - new 100) = 40; 2025 = 10 + 60
    assert g["BRK"].tolist() == [0, 10, 40, 70]
    assert g.loc[2023, "total"] == 10 + 5
    assert np.isnan(g.loc[2024, "total"])  # PLN 2024 missing: no partial sum
    assert "ADS" not in g.columns and g["no_segment"].iloc[0] == "ADS"
    assert "upper-bound proxy" in g["label"].iloc[0] and "ADS: no cloud segment" in g["label"].iloc[0]


def test_gap_table_on_reported_figures_capex_mode_and_nothing_before_the_base_year():
    from aicapex.data.dataset import load_dataset

    raw = pd.read_csv(SNAPSHOT)

    def fig(t, y, f):
        q = raw.query("ticker == @t and fiscal_year == @y and field == @f")["value_musd"]
        return float(q.iloc[0])

    peers = ["MSFT", "GOOGL", "AMZN", "META", "ORCL"]
    t = revenue_gap_table(load_dataset(), peers, 2022).set_index("fiscal_year")
    assert t.index.min() == 2022  # no FY2019 "gap" before generative AI
    capex = sum(fig(c, 2025, "capex") for c in peers)
    assert t.loc[2025, "spend"] == pytest.approx(capex)
    assert t.loc[2025, "required_revenue"] == pytest.approx(capex * 1 / 0.5)  # x1, not x2
    # AI revenue proxy: cloud growth FY2022 -> FY2025; MSFT chained through FY2023's two bases
    msft = (fig("MSFT", 2023, "cloud_segment_revenue_pre_fy25_basis")
            - fig("MSFT", 2022, "cloud_segment_revenue")
            + fig("MSFT", 2025, "cloud_segment_revenue") - fig("MSFT", 2023, "cloud_segment_revenue"))
    others = sum(fig(c, 2025, "cloud_segment_revenue") - fig(c, 2022, "cloud_segment_revenue")
                 for c in ("GOOGL", "AMZN", "ORCL"))
    assert t.loc[2025, "ai_revenue"] == pytest.approx(msft + others)
    assert t.loc[2025, "gap"] == pytest.approx(2 * capex - msft - others)
    assert t.loc[2022, "ai_revenue"] == 0
    assert "META: no cloud segment" in t.loc[2025, "ai_revenue_label"]


# -- realised proxies ------------------------------------------------------------------------


def test_incremental_return_hand():
    inc = incremental_return([50, 60, 66, 80], [100, 120, 140, 200], lag=1)
    # (60-50)/100, (66-60)/120, (80-66)/140
    np.testing.assert_allclose(inc, [np.nan, 0.10, 0.05, 0.10])
    inc2 = incremental_return([50, 60, 66, 80], [100, 120, 140, 200], lag=2)
    # first two NaN; (66-60)/100, (80-66)/120
    np.testing.assert_allclose(inc2, [np.nan, np.nan, 0.06, 14 / 120])


def test_incremental_return_nan_zero_and_2d():
    inc = incremental_return([1, np.nan, 3, 5], [0, 10, 10, 10])
    np.testing.assert_allclose(inc, [np.nan, np.nan, np.nan, 0.2])
    assert np.isnan(incremental_return([1, 2], [0, 5])[1])  # zero capex -> NaN
    two = incremental_return([[0, 10], [0, 20]], [100, 100])
    np.testing.assert_allclose(two, [[np.nan, 0.1], [np.nan, 0.2]])
    with pytest.raises(ArgumentError, match="lag"):
        incremental_return([1, 2], [1, 2], lag=1.5)
    with pytest.raises(ArgumentError, match="capex=-5"):
        incremental_return([1, 2], [-5, 2])


def test_payback_years():
    assert payback_years(120, 30) == pytest.approx(4.0)
    np.testing.assert_allclose(payback_years([100, 100, 100], [0, -1, np.nan]), [np.nan] * 3)


def test_growth_gap():
    # capex 100 -> 130 (+30%), revenue 50 -> 55 (+10%) -> 0.2
    np.testing.assert_allclose(growth_gap([100, 130], [50, 55]), [np.nan, 0.2])


class FakeDataset:
    def __init__(self, frames):
        self._frames = frames
        self.tickers = list(frames)

    def wide(self, ticker):
        return self._frames[ticker]


def test_roi_table_fake_dataset():
    w = pd.DataFrame(
        {
            "revenue": [100.0, 110.0, 121.0, 150.0],
            "ocf": [30.0, 40.0, 35.0, 50.0],
            "capex": [20.0, 50.0, 40.0, np.nan],
            "da_cashflow": [10.0, 12.0, 15.0, 18.0],
        },
        index=pd.Index([2020, 2021, 2022, 2024], name="fiscal_year"),  # 2023 missing
    )
    t = roi_table(FakeDataset({"AAA": w}))
    assert list(t.columns) == ROI_COLUMNS
    t = t.set_index("fiscal_year")
    assert list(t.index) == [2020, 2021, 2022, 2024]
    assert t.loc[2021, "incremental_return"] == pytest.approx(10 / 20)  # (40-30)/20
    assert t.loc[2021, "payback_years"] == pytest.approx(2.0)  # 20 / 10
    assert t.loc[2022, "incremental_return"] == pytest.approx(-5 / 50)
    assert np.isnan(t.loc[2022, "payback_years"])  # OCF fell: never pays back
    assert t.loc[2021, "capex_growth"] == pytest.approx(1.5)  # 50/20 - 1
    assert t.loc[2021, "capex_growth_minus_revenue_growth"] == pytest.approx(1.5 - 0.1)
    assert t.loc[2022, "da_growth_minus_revenue_growth"] == pytest.approx(0.25 - 0.1)
    # 2024 follows a missing year: nothing is compared across the gap
    for c in ("revenue_growth", "incremental_return", "payback_years"):
        assert np.isnan(t.loc[2024, c])
    assert np.isnan(t.loc[2024, "capex"])


def test_roi_table_reported_figures():
    from aicapex.data.dataset import load_dataset

    raw = pd.read_csv(SNAPSHOT)

    def fig(t, y, f):
        q = raw[(raw.ticker == t) & (raw.fiscal_year == y) & (raw.field == f)]
        return float(q["value_musd"].iloc[0])

    t = roi_table(load_dataset(), ["MSFT", "GOOGL"]).set_index(["ticker", "fiscal_year"])
    expected = (fig("MSFT", 2025, "ocf") - fig("MSFT", 2024, "ocf")) / fig("MSFT", 2024, "capex")
    assert t.loc[("MSFT", 2025), "incremental_return"] == pytest.approx(expected)
    assert t.loc[("MSFT", 2025), "payback_years"] == pytest.approx(1 / expected)
    g = fig("GOOGL", 2025, "capex") / fig("GOOGL", 2024, "capex") - 1
    assert t.loc[("GOOGL", 2025), "capex_growth"] == pytest.approx(g)
    assert math.isnan(t.loc[("MSFT", 2019), "incremental_return"])
