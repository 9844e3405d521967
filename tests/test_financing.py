"""Financing waterfall: a hand-worked example, reported base figures, identities, presets."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from aicapex.data.dataset import Dataset
from aicapex.engine.depreciation import DepreciationTerms
from aicapex.engine.financing import (
    COLUMN_NOTES,
    COLUMNS,
    FIRST_COLUMNS,
    BondTerms,
    CashTerms,
    CompanyBase,
    EquityTerms,
    FinancingStructure,
    LeaseTerms,
    PrivateCreditTerms,
    ScenarioInputs,
    TermLoanTerms,
    apply_overrides,
    base_from_dataset,
    grid_2d,
    growth_path,
    lease_factors,
    leverage,
    project_financing,
    project_operations,
)
from aicapex.engine.presets import CITED_TERMS, PRESET_NAMES, PRESETS, get_preset, get_term
from aicapex.engine.scenario import compare_scenarios, sensitivity_grid
from aicapex.errors import ArgumentError, DataError
from hypothesis import given, settings
from hypothesis import strategies as st

# --------------------------------------------------------------------------------------------
# Hand-worked example (round numbers, computed by hand)
#
# Base FY2025: revenue 1,000 (no growth); reported OCF 190 after interest 10 on debt 200
# (5%) -> pre-interest OCF 200 a year; cash 100, minimum cash 50; PP&E 300 over 3 years;
# no existing leases. Capex plan 150, 300, 400 (and 0 in a 4th year, to see repayments).
# Terms: bonds up to 100 a year, 5% bullet, 2 years; SPV up to 10% of capex, lease yield 0,
# 2-year term, rent over 4 years, RVG 3 years; private credit 4% + 6% = 10%, 2-year
# amortizing, uncapped. Depreciation: all servers, 2 years, full-year convention.
#
# FY2026: interest 10, gap = 150 + 10 - 200 = -40 -> cash 140. Nothing drawn.
#   D&A = 100 (opening) + 150/2 = 175; operating margin (200 - 175)/1000 = 2.5%.
# FY2027: interest 10, gap = 300 + 10 - 200 = 110; cash gives 140 - 50 = 90 -> cash 50;
#   bonds 20. Gross debt 220. D&A = 100 + 75 + 150 = 325.
# FY2028: interest = 10 + 5% x 20 = 11; gap = 400 + 11 - 200 = 211; cash 0; bonds 100 (cap);
#   SPV min(111, 10% x 400) = 40; private credit 71; equity 0. New debt 171; gross debt
#   200 + 120 + 71 = 391; net debt 341; EBITDA 200 -> 1.705x. On-BS capex 360:
#   D&A = 100 + 150 + 180 = 430. SPV rent = 40/4 = 10 a year from FY2029; liability =
#   2 payments = 20 = ROU asset; RVG exposure = lessor balance 40 - 20 = 20.
#   (debt + leases)/EBITDA = (391 + 20)/200 = 2.055; coverage (200 - 430)/11 = -20.909.
# FY2029: interest = 10 + 5% x 120 + 10% x 71 = 23.1; repayment = bonds of FY2027 (20) +
#   71/2 = 55.5; rent 10; gap = 0 + 23.1 + 10 + 55.5 - 200 = -111.4 -> cash 161.4.
#   Gross debt 391 - 55.5 = 335.5. Liability: 1 payment left in the term = 10; RVG 30 - 10.
#   EBITDA = 200 - 10 = 190. D&A = 180 (opening base fully depreciated after 3 years).
# --------------------------------------------------------------------------------------------
HAND_BASE = CompanyBase(
    "HAND", 2025, revenue=1000, ocf=190, capex=100, da=100, ppe_net=300, cash=100, debt=200,
    interest=10,
)
HAND_STRUCTURE = FinancingStructure(
    name="hand",
    cash=CashTerms(keep_share=0.0),
    bonds=BondTerms(max_per_year=100, capex_share=1.0, coupon=0.05, tenor_years=2),
    term_loans=TermLoanTerms(max_per_year=0),
    lease=LeaseTerms(capex_share=0.1, lease_yield=0.0, term_years=2, amortization_years=4,
                     rvg_years=3),
    private_credit=PrivateCreditTerms(max_per_year=math.inf, base_rate=0.04, spread=0.06,
                                      fee_rate=0.0, tenor_years=2),
)
HAND_INPUTS = ScenarioInputs(
    years=4, revenue_growth=0.0, capex_path=(150, 300, 400, 0), min_cash=50, opening_life=3,
    depreciation=DepreciationTerms(server_life=2, server_share=1.0, building_share=0.0,
                                   other_share=0.0, convention="full-year"),
)


def test_hand_worked_example():
    f = project_financing(HAND_BASE, HAND_STRUCTURE, HAND_INPUTS).set_index("year")
    expect = {
        "ocf": [200, 200, 200, 200],
        "fcf": [50, -100, -200, 200],
        "interest": [10, 10, 11, 23.1],
        "funding_need": [-40, 110, 211, -111.4],
        "funding_gap": [0, 0, 0, 0],
        "cash_used": [-40, 90, 0, -111.4],
        "cash": [140, 50, 50, 161.4],
        "bonds": [0, 20, 100, 0],
        "spv_lease": [0, 0, 40, 0],
        "private_credit": [0, 0, 71, 0],
        "equity": [0, 0, 0, 0],
        "new_debt": [0, 20, 171, 0],
        "repayment": [0, 0, 0, 55.5],
        "gross_debt": [200, 220, 391, 335.5],
        "net_debt": [60, 170, 341, 174.1],
        "lease_payment": [0, 0, 0, 10],
        "lease_liability": [0, 0, 20, 10],
        "rou_asset": [0, 0, 20, 10],
        "rvg_exposure": [0, 0, 20, 20],
        "capex_on_balance_sheet": [150, 300, 360, 0],
        "da": [175, 325, 430, 180],
        "ebitda": [200, 200, 200, 190],
        "operating_margin": [0.025, -0.125, -0.23, 0.01],
        "da_to_revenue": [0.175, 0.325, 0.43, 0.18],
        "net_debt_to_ebitda": [0.3, 0.85, 1.705, 174.1 / 190],
        "debt_plus_leases_to_ebitda": [1.0, 1.1, 2.055, 345.5 / 190],
        "interest_coverage": [2.5, -12.5, -230 / 11, 10 / 23.1],
        "capex_to_ocf": [0.75, 1.5, 2.0, 0.0],
        "capex_growth": [0.5, 1.0, 1 / 3, -1.0],
        "buybacks": [0, 0, 0, 0],
    }
    assert f.index.tolist() == [2026, 2027, 2028, 2029]
    for col, values in expect.items():
        np.testing.assert_allclose(f[col].to_numpy(), values, atol=1e-9, err_msg=col)


def test_columns_start_with_the_cli_columns():
    assert FIRST_COLUMNS == (
        "year", "capex", "ocf", "fcf", "new_debt", "interest", "gross_debt", "cash",
        "net_debt", "lease_liability", "da", "da_to_revenue", "net_debt_to_ebitda",
    )
    f = project_financing(HAND_BASE, HAND_STRUCTURE, HAND_INPUTS)
    assert tuple(f.columns) == COLUMNS
    assert tuple(f.columns[: len(FIRST_COLUMNS)]) == FIRST_COLUMNS


def test_lease_factors_with_yield():
    # Cost 1 at 10% over 2 years: rent = 0.1 / (1 - 1.1^-2) = 0.57619; after one payment the
    # liability is 1.1 - 0.57619 = 0.52381.
    f = lease_factors(LeaseTerms(lease_yield=0.1, term_years=2, amortization_years=2), 3)
    assert f["rent"] == pytest.approx(0.1 / (1 - 1.1**-2))
    np.testing.assert_allclose(f["liability"], [1.0, 1.1 - f["rent"], 0.0])


def test_lease_liability_remeasured_at_renewal():
    # yield 0, rent 1/6 over 6 years, 2-year terms: liability 2, 1, 2, 1, 2, 1 payments.
    f = lease_factors(LeaseTerms(lease_yield=0.0, term_years=2, amortization_years=6,
                                 rvg_years=6), 7)
    np.testing.assert_allclose(f["liability"] * 6, [2, 1, 2, 1, 2, 1, 0])
    np.testing.assert_allclose(f["rvg"] * 6, [4, 4, 2, 2, 0, 0, 0])


# -- base from the dataset (reported figures) ---------------------------------------------------
# MSFT FY2026 10-K (snapshot): revenue 331,839, OCF 182,935, capex 115,948, cash 76,843,
# total debt 40,294. Interest expense, D&A, net PP&E and lease liabilities are not in the data
# for FY2026: the FY2025 10-K figures are used (2,385; 34,153; 204,966; 22,861 + 46,172).
def test_base_year_is_the_latest_with_the_core_fields_msft_fy2026(dataset):
    b = base_from_dataset(dataset, "MSFT")
    assert b.fiscal_year == 2026
    assert (b.revenue, b.ocf, b.capex, b.cash, b.debt) == (331839, 182935, 115948, 76843, 40294)
    assert (b.interest, b.da, b.ppe_net) == (2385, 34153, 204966)
    assert b.lease_liabilities == 22861 + 46172
    # PP&E is FY2025's, so FY2026's reported capex depreciates as its own vintage
    assert b.bridge_capex == (115948,)
    assert b.revenue_growth == pytest.approx(331839 / 281724 - 1)
    assert b.capex_growth == pytest.approx(115948 / 64551 - 1)
    assert b.revenue_cagr == pytest.approx((331839 / 168088) ** (1 / 5) - 1)  # FY2021-FY2026
    prov = dict(b.provenance)
    assert prov["interest_expense"].startswith("FY2025 reported (FY2026 is not in the data)")
    assert prov["capex"].startswith("FY2026 reported")


def test_base_fiscal_year_override_reproduces_the_fy2025_base(dataset):
    b = base_from_dataset(dataset, "MSFT", {"fiscal_year": 2025})
    assert (b.revenue, b.ocf, b.capex, b.interest) == (281724, 136162, 64551, 2385)
    assert (b.debt, b.cash, b.ppe_net, b.da) == (43151, 94565, 204966, 34153)
    assert b.bridge_capex == ()


def test_orcl_base_is_fy2026_with_fy2025_lease_liabilities(dataset):
    b = base_from_dataset(dataset, "ORCL")
    assert (b.fiscal_year, b.capex, b.ppe_net, b.interest) == (2026, 55663, 99957, 4599)
    assert b.lease_liabilities == 13450 + 2934  # FY2025, not reported for FY2026
    assert b.bridge_capex == ()


def test_base_missing_figure_raises_naming_ticker_and_field(dataset):
    with pytest.raises(DataError, match="AAPL.*interest_expense"):
        base_from_dataset(dataset, "AAPL")
    b = base_from_dataset(dataset, "AAPL", {"interest_expense": 3000})
    assert b.interest == 3000
    assert b.revenue == 416161


def _one_company(rows):
    annual = pd.DataFrame(
        [{"ticker": "NEWCO", "fiscal_year": y, "fiscal_year_end": f"{y}-12-31", "field": f,
          "value_musd": v, "tier": "filing", "source": "test", "note": "", "origin": "test"}
         for y, f, v in rows])
    quarterly = pd.DataFrame(columns=[*annual.columns, "fiscal_quarter", "period_end"])
    return Dataset(annual=annual, quarterly=quarterly)


def test_every_missing_base_field_is_listed_in_one_error():
    # issue 22: a new company's scenario stopped once per missing field
    core = [(2025, "revenue", 1000), (2025, "ocf", 300), (2025, "capex", 200),
            (2025, "cash_and_marketable_securities", 100), (2025, "total_debt", 50)]
    with pytest.raises(DataError) as err:
        base_from_dataset(_one_company(core), "NEWCO")
    message = str(err.value)
    for name in ("da_cashflow", "ppe_net", "interest_expense", "op_lease_liabilities_total",
                 "fin_lease_liabilities_total"):
        assert name in message and f"--set {name}=VALUE" in message
    assert len(message.splitlines()) == 1
    # and a missing core field names every one that is missing, with the year it looked at
    with pytest.raises(DataError, match="FY2025 lacks ocf, total_debt"):
        base_from_dataset(_one_company([r for r in core if r[1] not in ("ocf", "total_debt")]),
                          "NEWCO")


def test_base_unknown_ticker_and_override(dataset):
    with pytest.raises(DataError, match="ZZZZ"):
        base_from_dataset(dataset, "ZZZZ")
    with pytest.raises(ArgumentError, match="bogus"):
        base_from_dataset(dataset, "MSFT", {"bogus": 1})


def test_msft_year_one_from_reported_base(dataset):
    b = base_from_dataset(dataset, "MSFT")
    f = project_financing(b, get_preset("all-cash"), ScenarioInputs(years=1))
    g_rev = 331839 / 281724 - 1  # 17.8%: under the 50% cap
    assert f["year"].iloc[0] == 2027
    assert f["revenue"].iloc[0] == pytest.approx(331839 * (1 + g_rev))
    # pre-interest OCF margin held: (182,935 + 2,385) / 331,839
    assert f["ocf"].iloc[0] == pytest.approx((182935 + 2385) * (1 + g_rev))
    # no fiscal-year guidance for FY2027 (the ~$190bn is calendar 2026): capex growth of
    # 79.6% in FY2026 is capped at 50%
    assert f["capex"].iloc[0] == pytest.approx(115948 * 1.5)
    assert f["interest"].iloc[0] == pytest.approx(2385)


# -- default paths, uses of cash, the funding gap (hand-worked) ------------------------------------
def test_growth_path_fades_linearly_and_is_capped():
    # 50% fading to 10% over 4 years: steps of 10 points
    np.testing.assert_allclose(growth_path(0.5, 0.1, 6, 4), [0.5, 0.4, 0.3, 0.2, 0.1, 0.1])
    np.testing.assert_allclose(growth_path(0.9, 0.1, 3, 2, cap=0.5), [0.5, 0.5, 0.1])
    np.testing.assert_allclose(growth_path(-0.2, 0.1, 4, 3), [-0.2, -0.1, 0.0, 0.1])
    np.testing.assert_allclose(growth_path(0.3, 0.05, 2, 0), [0.05, 0.05])


FADE_BASE = CompanyBase(
    "FADE", 2025, revenue=1000, ocf=190, capex=100, da=50, ppe_net=500, cash=100, debt=200,
    interest=10, revenue_growth=0.30, capex_growth=0.80, revenue_cagr=0.10,
)


def test_default_capex_path_without_guidance_fades_from_the_capped_growth():
    # latest capex growth 80% capped at 50%, fading to the long-run revenue growth (10%)
    # over 4 years: 50, 40, 30, 20, 10, 10 percent
    p = project_operations(FADE_BASE, ScenarioInputs(years=6))
    want = 100 * np.cumprod([1.5, 1.4, 1.3, 1.2, 1.1, 1.1])
    np.testing.assert_allclose(p["capex"], want)
    np.testing.assert_allclose(p["capex_growth"], [0.5, 0.4, 0.3, 0.2, 0.1, 0.1])
    # revenue: 30% (under the cap) fading to 10%: 30, 25, 20, 15, 10, 10 percent
    np.testing.assert_allclose(p["revenue"], 1000 * np.cumprod([1.3, 1.25, 1.2, 1.15, 1.1, 1.1]))
    # OCF follows revenue at the base year's pre-interest margin (190 + 10) / 1000
    np.testing.assert_allclose(p["ocf"], 0.2 * p["revenue"])
    assert list(p["capex_origin"]) == ["model"] * 6


def test_default_capex_path_starts_at_guidance_and_user_years_win():
    # guided 250 for FY2026 (+150%): the fade starts from the cap, 50%, in FY2027
    guided = ScenarioInputs(years=3, capex_guidance=((2026, 250.0),))
    p = project_operations(FADE_BASE, guided)
    np.testing.assert_allclose(p["capex"], [250, 250 * 1.4, 250 * 1.4 * 1.3])
    assert list(p["capex_origin"]) == ["guidance", "model", "model"]
    # a year set by the user replaces the guide and the path continues from it
    mine = dataclasses.replace(guided, capex_by_year=((2026, 120.0), (2028, 200.0)))
    p = project_operations(FADE_BASE, mine)
    # FY2026 at 120 is +20%: the fade runs from 20% to 10%, so FY2027 grows 17.5%
    np.testing.assert_allclose(p["capex"], [120, 141, 200])
    np.testing.assert_allclose(p["capex_growth"], [0.2, 0.175, 200 / 141 - 1])
    assert list(p["capex_origin"]) == ["input", "model", "input"]
    # a list of the first years' capex is the old form; later years follow the path
    p = project_operations(FADE_BASE, ScenarioInputs(years=3, capex_path=(150.0,)))
    np.testing.assert_allclose(p["capex"], [150, 150 * 1.4, 150 * 1.4 * 1.3])
    # one constant growth replaces the default path, guidance included
    p = project_operations(FADE_BASE, dataclasses.replace(guided, capex_growth=0.1))
    np.testing.assert_allclose(p["capex"], [110, 121, 133.1])


def test_capex_year_overrides_by_dotted_name():
    _, i, _ = apply_overrides(FinancingStructure(), ScenarioInputs(years=2),
                              {"capex.2027": 400, "capex.2026": 300})
    assert i.capex_by_year == ((2026, 300.0), (2027, 400.0))
    p = project_operations(FADE_BASE, i)
    np.testing.assert_allclose(p["capex"], [300, 400])
    # later inputs.* overrides keep the years already set (order does not matter)
    _, j, _ = apply_overrides(FinancingStructure(), ScenarioInputs(years=2),
                              {"capex.2026": 300, "inputs.buybacks": 5})
    assert j.capex_by_year == ((2026, 300.0),) and j.buybacks == 5
    with pytest.raises(ArgumentError, match="capex.YEAR"):
        apply_overrides(FinancingStructure(), ScenarioInputs(), {"capex.next": 1})
    with pytest.raises(ArgumentError, match="capex.2026"):
        apply_overrides(FinancingStructure(), ScenarioInputs(), {"capex.2026": -1})


# Base: cash 100, minimum 50; OCF 190 after interest 10 on debt 200 -> 200 before interest;
# capex 150 then 300; buybacks 20 and dividends 10 a year; no debt steps.
# FY2026: need = 150 + 10 + 30 - 200 = -10 -> cash 110.
# FY2027: need = 300 + 10 + 30 - 200 = 140; cash above the minimum 60; gap 80 -> cash
#   110 - 60 - 80 = -30 (below zero: the gap is unfunded); net debt 200 + 30 = 230; EBITDA
#   proxy 200 -> 1.15x. With equity allowed up to 50: equity 50, gap 30, cash 20.
GAP_INPUTS = ScenarioInputs(years=2, revenue_growth=0.0, capex_path=(150, 300), min_cash=50,
                            buybacks=20, dividends=10)


def test_funding_gap_is_a_visible_line_not_silent_equity():
    f = project_financing(HAND_BASE, FinancingStructure(), GAP_INPUTS).set_index("year")
    np.testing.assert_allclose(f["funding_need"], [-10, 140])
    np.testing.assert_allclose(f["cash_used"], [-10, 60])
    np.testing.assert_allclose(f["funding_gap"], [0, 80])
    np.testing.assert_allclose(f["equity"], [0, 0])
    np.testing.assert_allclose(f["cash"], [110, -30])
    np.testing.assert_allclose(f["net_debt"], [90, 230])
    np.testing.assert_allclose(f["net_debt_to_ebitda"], [0.45, 1.15])
    np.testing.assert_allclose(f["cumulative_funding_gap"], [0, 80])
    np.testing.assert_allclose(f[["buybacks", "dividends"]].to_numpy(), [[20, 10], [20, 10]])
    allowed = FinancingStructure(equity=EquityTerms(max_per_year=50))
    g = project_financing(HAND_BASE, allowed, GAP_INPUTS).set_index("year")
    np.testing.assert_allclose(g["equity"], [0, 50])
    np.testing.assert_allclose(g["funding_gap"], [0, 30])
    np.testing.assert_allclose(g["cash"], [110, 20])


def test_presets_issue_no_equity_and_show_the_gap(dataset):
    # the issue's AMZN all-cash case issued $2.1T of equity; now the need is a gap
    b = base_from_dataset(dataset, "AMZN")
    for name in PRESET_NAMES:
        f = project_financing(b, get_preset(name), ScenarioInputs(years=5))
        assert (f["equity"] == 0).all(), name
        np.testing.assert_allclose(f["cumulative_funding_gap"].iloc[-1], f["funding_gap"].sum())


def test_leverage_is_nm_when_ebitda_is_not_positive():
    # an OCF margin of -5%: EBITDA proxy negative, net debt positive -> n.m., never negative
    f = project_financing(HAND_BASE, FinancingStructure(),
                          dataclasses.replace(GAP_INPUTS, ocf_margin=-0.05))
    assert (f["ebitda"] < 0).all() and (f["net_debt"] > 0).all()
    assert f["net_debt_to_ebitda"].isna().all()
    assert f["debt_plus_leases_to_ebitda"].isna().all()
    assert math.isnan(leverage(100.0, 0.0)) and leverage(-100.0, 50.0) == -2.0
    assert "OCF" in COLUMN_NOTES["ebitda"] and "proxy" in COLUMN_NOTES["ebitda"]
    assert set(COLUMN_NOTES) == set(COLUMNS)


# -- identities (property tests) ----------------------------------------------------------------
money = st.floats(0, 5e5, allow_nan=False)
rate = st.floats(0, 0.2)
cap = st.one_of(st.just(0.0), st.just(math.inf), st.floats(0, 1e5))


@st.composite
def scenarios(draw):
    base = CompanyBase(
        "PROP", 2025,
        revenue=draw(st.floats(1e3, 1e6)), ocf=draw(st.floats(-1e4, 3e5)),
        capex=draw(st.floats(0, 3e5)), da=draw(st.floats(1, 5e4)),
        ppe_net=draw(st.floats(0, 5e5)), cash=draw(money), debt=(debt := draw(money)),
        interest=debt * draw(st.floats(0, 0.1)), op_lease_liabilities=draw(money),
        revenue_growth=draw(st.floats(-0.3, 0.5)), capex_growth=draw(st.floats(-0.5, 1.0)),
        revenue_cagr=draw(st.floats(-0.1, 0.3)),
        bridge_capex=tuple(draw(st.lists(st.floats(0, 3e5), max_size=1))),
    )
    structure = FinancingStructure(
        cash=CashTerms(keep_share=draw(st.floats(0, 1))),
        bonds=BondTerms(max_per_year=draw(cap), capex_share=draw(st.floats(0, 1.5)),
                        coupon=draw(rate), tenor_years=draw(st.integers(1, 12))),
        term_loans=TermLoanTerms(max_per_year=draw(cap), rate=draw(rate),
                                 tenor_years=draw(st.integers(1, 8))),
        lease=LeaseTerms(capex_share=draw(st.floats(0, 1)), lease_yield=draw(rate),
                         term_years=draw(st.integers(1, 6)),
                         amortization_years=draw(st.integers(1, 25)),
                         rvg_years=draw(st.integers(0, 20))),
        private_credit=PrivateCreditTerms(max_per_year=draw(cap), base_rate=draw(rate),
                                          spread=draw(rate), fee_rate=draw(rate),
                                          tenor_years=draw(st.integers(1, 8))),
        equity=EquityTerms(max_per_year=draw(cap)),
    )
    years = draw(st.integers(1, 15))
    path = draw(st.one_of(st.none(), st.lists(st.floats(0, 4e5), min_size=1,
                                              max_size=years)))
    inputs = ScenarioInputs(
        years=years, capex_path=None if path is None else tuple(path),
        min_cash=draw(st.one_of(st.none(), money)),
        ocf_margin=draw(st.one_of(st.none(), st.floats(-0.2, 0.6))),
        buybacks=draw(st.one_of(st.none(), st.floats(0, 5e4))),
        dividends=draw(st.one_of(st.none(), st.floats(0, 5e4))),
        growth_cap=draw(st.floats(0, 1)), fade_years=draw(st.integers(0, 6)),
    )
    return base, structure, inputs


@settings()
@given(scenarios())
def test_accounting_identities_hold_every_year(scenario):
    base, s, inputs = scenario
    f = project_financing(base, s, inputs)
    tol = 1e-6 * max(1.0, float(np.abs(f[["capex", "ocf", "cash", "gross_debt"]]).max().max()))
    cash_open = np.concatenate(([base.cash], f["cash"].to_numpy()[:-1]))
    debt_open = np.concatenate(([base.debt], f["gross_debt"].to_numpy()[:-1]))
    other = f["buybacks"] + f["dividends"]
    # cash roll-forward (an unfunded gap lowers cash: nothing is funded for free)
    np.testing.assert_allclose(
        f["cash"],
        cash_open + f["ocf"] - f["capex_on_balance_sheet"] - f["interest"] - f["lease_payment"]
        - other + f["new_debt"] - f["repayment"] + f["equity"],
        atol=tol,
    )
    # debt roll-forward
    np.testing.assert_allclose(f["gross_debt"], debt_open + f["new_debt"] - f["repayment"],
                               atol=tol)
    # sources = uses, the funding gap being the part no source covers
    np.testing.assert_allclose(
        f["ocf"] + f["cash_used"] + f["new_debt"] + f["spv_lease"] + f["equity"]
        + f["funding_gap"],
        f["capex"] + f["interest"] + f["lease_payment"] + f["repayment"] + other,
        atol=tol,
    )
    np.testing.assert_allclose(f["funding_need"] + f["ocf"],
                               f["capex"] + f["interest"] + f["lease_payment"] + f["repayment"]
                               + other, atol=tol)
    np.testing.assert_allclose(f["cash_used"] + f["funding_gap"], cash_open - f["cash"],
                               atol=tol)
    np.testing.assert_allclose(f["cumulative_funding_gap"], np.cumsum(f["funding_gap"]),
                               atol=tol)
    np.testing.assert_allclose(f["new_debt"], f["bonds"] + f["term_loans"] + f["private_credit"],
                               atol=tol)
    np.testing.assert_allclose(f["net_debt"], f["gross_debt"] - f["cash"], atol=tol)
    np.testing.assert_allclose(f["fcf"], f["ocf"] - f["capex"], atol=tol)
    # every step within its terms; equity only where the structure allows it
    for c in ("bonds", "term_loans", "spv_lease", "private_credit", "equity", "funding_gap"):
        assert (f[c] >= -tol).all(), c
    bond_cap = np.minimum(s.bonds.max_per_year, s.bonds.capex_share * f["capex"])
    assert (f["bonds"] <= bond_cap + tol).all()
    assert (f["term_loans"] <= s.term_loans.max_per_year + tol).all()
    assert (f["spv_lease"] <= s.lease.capex_share * f["capex"] + tol).all()
    assert (f["private_credit"] <= s.private_credit.max_per_year + tol).all()
    assert (f["equity"] <= s.equity.max_per_year + tol).all()
    # the cash step never takes cash below the minimum (a surplus only adds to it)
    min_cash = inputs.min_cash if inputs.min_cash is not None else s.cash.keep_share * base.cash
    after_cash_step = cash_open - f["cash_used"]
    spent = f["cash_used"] > tol
    assert (after_cash_step[spent] >= np.minimum(min_cash, cash_open[spent]) - tol).all()
    # external money, or a gap, only once the cash step is exhausted
    external = f["new_debt"] + f["spv_lease"] + f["equity"] + f["funding_gap"] > tol
    assert (after_cash_step[external] <= np.maximum(min_cash, cash_open[external]) + tol).all()
    # a gap only when every step is at its cap
    gap = f["funding_gap"] > tol
    if s.bonds.used:
        assert (f.loc[gap, "bonds"] >= bond_cap[gap] - tol).all()
    assert (f.loc[gap, "equity"] >= s.equity.max_per_year - tol).all() or not s.equity.used
    assert (f["gross_debt"] >= base.debt - tol).all()
    assert (f["lease_liability"] >= -tol).all()
    np.testing.assert_allclose(f["rou_asset"], f["lease_liability"])
    # leverage is n.m. (NaN) where the EBITDA proxy is <= 0: never negative with net debt > 0
    for col in ("net_debt_to_ebitda", "debt_plus_leases_to_ebitda"):
        assert f.loc[f["ebitda"] <= 0, col].isna().all()
    assert not ((f["net_debt"] > 0) & (f["net_debt_to_ebitda"] < 0)).any()


# -- presets -------------------------------------------------------------------------------------
def test_preset_names_are_exact():
    assert PRESET_NAMES == ("all-cash", "bonds", "spv-lease", "private-credit", "hybrid")
    assert set(CITED_TERMS) == set(PRESET_NAMES)


@pytest.mark.parametrize("name", ["all-cash", "bonds", "spv-lease", "private-credit", "hybrid"])
def test_each_preset_reproduces_its_cited_terms(name):
    s = get_preset(name)
    assert s.name == name
    for term in CITED_TERMS[name]:
        value = get_term(s, term.path)
        assert term.low - 1e-12 <= value <= term.high + 1e-12, (name, term)


def test_cited_deal_terms_by_hand():
    bonds = get_preset("bonds").bonds
    assert bonds.max_per_year == 30_000  # Meta $30B
    assert 0.039 <= bonds.coupon <= 0.0555  # Amazon 3.9%-5.55%
    lease = get_preset("spv-lease").lease
    assert (lease.lease_yield, lease.term_years, lease.jv_stake) == (0.066, 4, 0.20)
    pc = get_preset("private-credit").private_credit
    assert pc.spread == 0.06 and 0.11 <= pc.effective_rate <= 0.15


def test_unknown_preset():
    with pytest.raises(ArgumentError, match="unknown preset"):
        get_preset("junk-bonds")


def test_presets_are_plain_data_that_can_be_overridden():
    s = dataclasses.replace(PRESETS["bonds"], bonds=dataclasses.replace(PRESETS["bonds"].bonds,
                                                                      coupon=0.07))
    assert s.bonds.coupon == 0.07 and PRESETS["bonds"].bonds.coupon != 0.07
    s2, i2, _ = apply_overrides(PRESETS["bonds"], ScenarioInputs(), {"bonds.coupon": 0.07})
    assert s2 == s
    with pytest.raises(ArgumentError, match="copon"):
        apply_overrides(PRESETS["bonds"], ScenarioInputs(), {"bonds.copon": 0.07})


# -- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes, word",
    [
        (dict(years=0), "years"),
        (dict(years=31), "years"),
        (dict(ocf_margin=0.2, ocf_growth=0.1), "ocf_margin"),
        (dict(revenue_growth=-2.0), "revenue_growth"),
        (dict(min_cash=-5.0), "min_cash"),
        (dict(buybacks=-1.0), "buybacks"),
        (dict(growth_cap=-0.1), "growth_cap"),
        (dict(fade_years=2.5), "fade_years"),
        (dict(capex_by_year=((2025, 10.0),)), "FY2025 is not a projected year"),
        (dict(capex_by_year=((2026, -10.0),)), "capex.2026"),
        (dict(capex_by_year=((2026, 10.0),)), "given twice"),
    ],
)
def test_bad_inputs(changes, word):
    with pytest.raises(ArgumentError, match=word):
        project_financing(HAND_BASE, HAND_STRUCTURE, dataclasses.replace(HAND_INPUTS, **changes))


def test_bad_terms():
    bad = dataclasses.replace(HAND_STRUCTURE, bonds=BondTerms(max_per_year=1, tenor_years=0))
    with pytest.raises(ArgumentError, match="bonds.tenor_years"):
        project_financing(HAND_BASE, bad, HAND_INPUTS)
    bad = dataclasses.replace(HAND_STRUCTURE, lease=LeaseTerms(capex_share=1.5))
    with pytest.raises(ArgumentError, match="lease.capex_share"):
        project_financing(HAND_BASE, bad, HAND_INPUTS)


def test_implausible_cost_of_existing_debt():
    b = dataclasses.replace(HAND_BASE, debt=1.0)
    with pytest.raises(ArgumentError, match="cost of debt"):
        project_financing(b, HAND_STRUCTURE, HAND_INPUTS)


def test_missing_growth_defaults_are_listed_together():
    b = dataclasses.replace(HAND_BASE, revenue_growth=math.nan, capex_growth=math.nan)
    with pytest.raises(DataError, match="revenue_growth.*long_run_revenue_growth.*capex_growth"):
        project_financing(b, HAND_STRUCTURE, ScenarioInputs())


# -- analysis ----------------------------------------------------------------------------------
def test_compare_scenarios_side_by_side():
    t = compare_scenarios(HAND_BASE, HAND_INPUTS,
                          metrics=["bonds", "funding_gap", "equity", "gross_debt"], year=2028)
    assert list(t.columns) == list(PRESET_NAMES)
    assert list(t.index) == ["bonds", "funding_gap", "equity", "gross_debt"]
    # same operations, different funding: all-cash leaves FY2028 unfunded (a visible gap, no
    # silent equity); bonds fund part of it
    assert t.loc["bonds", "all-cash"] == 0 and t.loc["funding_gap", "all-cash"] > 0
    assert (t.loc["equity"] == 0).all()
    assert t.loc["bonds", "bonds"] > 0
    own = compare_scenarios(HAND_BASE, HAND_INPUTS, presets=[HAND_STRUCTURE],
                            metrics=["gross_debt"], year=2028)
    assert own.loc["gross_debt", "hand"] == pytest.approx(391)
    peak = compare_scenarios(HAND_BASE, HAND_INPUTS, presets=[HAND_STRUCTURE],
                             metrics=["net_debt_to_ebitda"], year="peak")
    assert peak.iloc[0, 0] == pytest.approx(1.705)
    with pytest.raises(ArgumentError, match="year"):
        compare_scenarios(HAND_BASE, HAND_INPUTS, year=2040)


def test_grid_2d_is_generic():
    g = grid_2d(lambda r, c: r + c, [1, 2, 3], [10, 20], row_name="a", col_name="b")
    assert g.shape == (3, 2) and g.loc[3, 20] == 23
    assert g.index.name == "a" and g.columns.name == "b"


def test_sensitivity_debt_share_by_coupon():
    grid = sensitivity_grid(
        HAND_BASE, HAND_STRUCTURE, HAND_INPUTS,
        "bonds.max_per_year", [0, 100, 1000], "bonds.coupon", [0.0, 0.05, 0.10],
        metric="interest", year=2029,
    )
    # cell (100, 5%) is the hand-worked example: FY2029 interest 23.1
    assert grid.loc[100, 0.05] == pytest.approx(23.1)
    assert isinstance(grid, pd.DataFrame) and grid.shape == (3, 3)
    # more coupon never lowers interest
    assert (np.diff(grid.to_numpy(), axis=1) >= -1e-9).all()


def test_sensitivity_server_life_by_capex_growth():
    grid = sensitivity_grid(
        HAND_BASE, "all-cash", ScenarioInputs(years=5, revenue_growth=0.05, opening_life=3),
        "depreciation.server_life", [4.0, 5.5, 6.0], "inputs.capex_growth", [0.0, 0.3],
        metric="da_to_revenue", year="last",
    )
    assert (np.diff(grid.to_numpy(), axis=0) < 0).all()  # longer life, lower D&A/revenue
    assert (np.diff(grid.to_numpy(), axis=1) > 0).all()  # faster capex, higher D&A/revenue
