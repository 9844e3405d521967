"""CPX_ financing functions: the engine's own numbers, hand-worked values, overrides, error
values with reasons, and the Office.js path."""

from __future__ import annotations

import math

import aicapex.udfs as udfs
import numpy as np
import pytest
from aicapex.engine.depreciation import depreciation_schedule
from aicapex.engine.financing import (
    COLUMNS,
    ScenarioInputs,
    apply_overrides,
    base_from_dataset,
    compare_scenarios,
    project_financing,
    sensitivity_grid,
)
from aicapex.engine.montecarlo import BAND_COLUMNS, monte_carlo
from aicapex.engine.presets import PRESET_NAMES, get_preset
from aicapex.udfs.financing import MAX_PATHS
from officejs import call_officejs

MSFT_CAPEX_FY2025 = 64551.0  # MSFT 10-K FY2025, purchases of property and equipment
MSFT_INTEREST_FY2025 = 2385.0  # MSFT 10-K FY2025, interest expense
MSFT_DEBT_FY2025 = 43151.0  # MSFT FY2025 total debt in the snapshot


def engine_frame(dataset, ticker, preset, years, terms=None, base_overrides=None):
    base = base_from_dataset(dataset, ticker, base_overrides)
    s, i, b = apply_overrides(get_preset(preset), ScenarioInputs(years=years), terms or {}, base)
    return project_financing(b, s, i)


def assert_table_equals_frame(table, frame, columns):
    assert table[0] == list(columns)
    assert len(table) == len(frame) + 1
    for row, (_, rec) in zip(table[1:], frame.iterrows(), strict=True):
        for col, got in zip(columns, row, strict=True):
            want = rec[col]
            if col == "year":
                assert got == int(want) and isinstance(got, int)
            elif math.isnan(want):
                assert got == "#DIV/0!"
            else:
                assert got == pytest.approx(float(want), rel=1e-12, abs=1e-9), col


# --- CPX_FINANCING ----------------------------------------------------------------------------


def test_financing_is_the_engines_projection(dataset):
    terms = {"bonds.coupon": 0.05, "inputs.capex_growth": 0.3}
    out = udfs.cpx_financing("MSFT", "bonds", 3, [["bonds.coupon", 0.05],
                                                  ["inputs.capex_growth", 0.3]])
    assert_table_equals_frame(out, engine_frame(dataset, "MSFT", "bonds", 3, terms), COLUMNS)


def test_financing_by_hand_capex_interest_and_funding_identity():
    out = udfs.cpx_financing("msft", " All-Cash ", 2, [["inputs.capex_growth", 0.3]], False)
    assert len(out) == 2  # no header row, one row per projected year
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in out]
    first = rows[0]
    assert first["year"] == 2026  # the year after MSFT's latest reported FY2025
    assert first["capex"] == pytest.approx(MSFT_CAPEX_FY2025 * 1.3)
    assert rows[1]["capex"] == pytest.approx(MSFT_CAPEX_FY2025 * 1.3 ** 2)
    # all-cash issues no debt: interest is the existing debt's, reported interest expense
    assert first["interest"] == pytest.approx(MSFT_INTEREST_FY2025)
    assert first["gross_debt"] == pytest.approx(MSFT_DEBT_FY2025)
    for r in rows:
        sources = sum(r[k] for k in ("cash_used", "bonds", "term_loans", "spv_lease",
                                     "private_credit", "equity"))
        assert sources == pytest.approx(r["funding_gap"])
        assert r["fcf"] == pytest.approx(r["ocf"] - r["capex"])
        assert r["net_debt"] == pytest.approx(r["gross_debt"] - r["cash"])


def test_base_field_overrides_reach_the_base_year(dataset):
    out = udfs.cpx_financing("MSFT", "all-cash", 2, [["interest_expense", 3000]], False)
    assert out[0][COLUMNS.index("interest")] == pytest.approx(3000.0)
    # AAPL does not report FY2025 interest expense: #N/A with the reason, or supply it
    missing = udfs.cpx_financing("AAPL", "all-cash")
    assert missing == "#N/A" and "interest_expense is missing" in missing.reason
    fixed = udfs.cpx_financing("AAPL", "all-cash", 2, [["interest_expense", 0]], False)
    want = engine_frame(dataset, "AAPL", "all-cash", 2, base_overrides={"interest_expense": 0})
    assert fixed[1][COLUMNS.index("capex")] == pytest.approx(want["capex"].iloc[1])


def test_blank_and_default_values_leave_the_preset_and_engine_defaults():
    plain = udfs.cpx_financing("META", "hybrid", 4)
    same = udfs.cpx_financing("META", "hybrid", 4, [["bonds.coupon", None],
                                                    ["inputs.capex_growth", "default"],
                                                    [None, None]])
    assert same == plain
    # keys in the first column, values in the last; a blank column between is skipped
    wide = udfs.cpx_financing("META", "hybrid", 4, [["bonds.coupon", None, 0.06]])
    narrow = udfs.cpx_financing("META", "hybrid", 4, [["bonds.coupon", 0.06]])
    assert wide == narrow and wide != plain
    bad = udfs.cpx_financing("META", "hybrid", 4, [["bonds.coupon", "x", 0.06]])
    assert bad == "#VALUE!" and "must be blank" in bad.reason


def test_terms_of_a_step_the_preset_does_not_use_are_ignored(dataset):
    share = [["lease.capex_share", 0.4]]
    cash = udfs.cpx_financing("META", "all-cash", 4, share, False)
    assert cash == udfs.cpx_financing("META", "all-cash", 4, None, False)
    assert all(r[COLUMNS.index("spv_lease")] == 0 for r in cash)
    spv = udfs.cpx_financing("META", "spv-lease", 4, share)
    want = engine_frame(dataset, "META", "spv-lease", 4, {"lease.capex_share": 0.4})
    assert_table_equals_frame(spv, want, COLUMNS)
    # but a misspelt term is an error whether the step is used or not
    typo = udfs.cpx_financing("META", "all-cash", 4, [["lease.capex_shar", 0.4]])
    assert typo == "#VALUE!" and "capex_shar" in typo.reason


@pytest.mark.parametrize(("args", "code", "reason"), [
    (["MSFT", "junk-bonds"], "#VALUE!", "unknown preset 'junk-bonds'"),
    (["XX", "bonds"], "#N/A", "unknown ticker 'XX'"),
    (["MSFT", "bonds", 0], "#VALUE!", "years = 0"),
    (["MSFT", "bonds", 31], "#VALUE!", "years = 31"),
    (["MSFT", "bonds", 2.5], "#VALUE!", "whole number"),
    (["MSFT", "bonds", 3, [["bonds.coupon"]]], "#VALUE!", "2 columns"),
    (["MSFT", "bonds", 3, [["bonds.coupn", 0.05]]], "#VALUE!", "unknown parameter 'coupn'"),
    (["MSFT", "bonds", 3, [["bonds.coupon", 1.5]]], "#VALUE!", "bonds.coupon = 1.5"),
    (["MSFT", "bonds", 3, [["bonds.coupon", "5%"]]], "#VALUE!", "expected a number"),
    (["MSFT", "bonds", 3, [["bonds.coupon", True]]], "#VALUE!", "TRUE/FALSE"),
    (["MSFT", "bonds", 3, [[None, 0.05]]], "#VALUE!", "has no key"),
    (["MSFT", "bonds", 3, [["bonds.coupon", 0.05], ["bonds.coupon", 0.06]]], "#VALUE!",
     "given twice"),
    (["MSFT", "bonds", 3, [["bonds.coupon", "#N/A"]]], "#N/A", "bonds.coupon"),
    (["MSFT", "bonds", "#REF!"], "#REF!", "years"),
    (["MSFT", "bonds", [[1, 2]]], "#VALUE!", "years: expected one cell"),
])
def test_financing_errors_name_what_is_wrong(args, code, reason):
    out = udfs.cpx_financing(*args)
    assert out == code, out
    assert reason in out.reason, out.reason


def test_zero_denominators_are_div0_with_the_column_named():
    # no debt, no interest: interest coverage has a zero denominator every year
    out = udfs.cpx_financing("MSFT", "all-cash", 2, [["interest_expense", 0],
                                                     ["total_debt", 0]], False)
    cell = out[0][COLUMNS.index("interest_coverage")]
    assert cell == "#DIV/0!" and "interest_coverage" in cell.reason


# --- CPX_SCENARIOS ----------------------------------------------------------------------------


def test_scenarios_is_the_engines_comparison(dataset):
    out = udfs.cpx_scenarios("GOOGL", "capex, net_debt_to_ebitda, equity", 2028,
                             [["inputs.years", 3], ["inputs.capex_growth", 0.4]])
    base = base_from_dataset(dataset, "GOOGL")
    want = compare_scenarios(base, ScenarioInputs(years=3, capex_growth=0.4), None,
                             ["capex", "net_debt_to_ebitda", "equity"], 2028)
    assert out[0] == ["metric", *PRESET_NAMES]
    for row in out[1:]:
        assert row[1:] == pytest.approx(want.loc[row[0]].tolist(), rel=1e-12)
    # capex does not depend on the funding: the same in every preset, 40% a year from FY2025
    capex = out[1][1:]
    assert capex == pytest.approx([dataset.value("GOOGL", "capex", 2025) * 1.4 ** 3] * 5)


def test_scenarios_defaults_and_errors():
    out = udfs.cpx_scenarios("MSFT", None, "peak", None, False)
    assert out[0][0] == "capex" and len(out[0]) == 1 + len(PRESET_NAMES)
    bad = udfs.cpx_scenarios("MSFT", "capex,leverage")
    assert bad == "#VALUE!" and "unknown metric 'leverage'" in bad.reason
    late = udfs.cpx_scenarios("MSFT", "capex", 2040)
    assert late == "#VALUE!" and "year 2040 is not projected" in late.reason
    assert udfs.cpx_scenarios("NOPE") == "#N/A"


# --- CPX_DEPRECIATION -------------------------------------------------------------------------


def test_depreciation_by_hand():
    # 60 spent in year one, one class, 3-year life, full-year convention: 20 a year
    assert udfs.cpx_depreciation([[60, 0, 0]], 3, None, "full-year") == [[pytest.approx(20.0)] * 3]
    # half-year convention (the default): 10, 20, 20, 10
    assert udfs.cpx_depreciation([[60, 0, 0, 0]], 3) == [[pytest.approx(v) for v in
                                                           (10, 20, 20, 10)]]
    # 100 a year as a column; 60% servers over 3 years, 40% land ("inf") never depreciated:
    # 60/6 = 10, then 10 + 20 = 30, then 10 + 20 + 20 = 50; the result is a column too
    out = udfs.cpx_depreciation([[100], [100], [100]], [[3, "inf"]], [[0.6, 0.4]])
    assert out == [[pytest.approx(10.0)], [pytest.approx(30.0)], [pytest.approx(50.0)]]


def test_depreciation_is_the_engines_schedule():
    capex = [120.0, 80.0, 200.0, 0.0, 50.0]
    lives, split = [5.5, 25.0, math.inf], [0.5, 0.45, 0.05]
    out = udfs.cpx_depreciation([capex], [[5.5], [25], ["inf"]], [split])
    want = depreciation_schedule(capex, lives, split).sum(axis=-1)
    assert out[0] == pytest.approx(want.tolist(), rel=1e-12)


def test_depreciation_gaps_and_errors():
    out = udfs.cpx_depreciation([[60, None, 60]], 2, None, "full-year")[0]
    assert out[0] == pytest.approx(30.0)
    assert out[1] == "#N/A" and "missing capex" in out[1].reason
    err = udfs.cpx_depreciation([[60, "#REF!", 60]], 2)[0]
    assert err[0] == pytest.approx(15.0) and err[1] == "#REF!"
    assert "convention" in udfs.cpx_depreciation([[60]], 3, None, "monthly").reason
    assert "summing to 1" in udfs.cpx_depreciation([[60]], [[3, 5]], [[0.5, 0.6]]).reason
    assert "> 0" in udfs.cpx_depreciation([[60]], 0).reason
    assert "split is required" in udfs.cpx_depreciation([[60]], [[3, 5]]).reason


# --- CPX_SENSITIVITY --------------------------------------------------------------------------


def test_sensitivity_is_the_engines_grid(dataset):
    out = udfs.cpx_sensitivity("ORCL", "bonds", "bonds.capex_share", [[0.25], [0.5], [1.0]],
                               "bonds.coupon", [[0.04, 0.06]], "interest", "last",
                               [["inputs.years", 4]])
    base = base_from_dataset(dataset, "ORCL")
    want = sensitivity_grid(base, "bonds", ScenarioInputs(years=4), "bonds.capex_share",
                            [0.25, 0.5, 1.0], "bonds.coupon", [0.04, 0.06], "interest", "last")
    assert out[0] == ["bonds.capex_share \\ bonds.coupon", 0.04, 0.06]
    assert [r[0] for r in out[1:]] == [0.25, 0.5, 1.0]
    assert [r[1:] for r in out[1:]] == [pytest.approx(r, rel=1e-12) for r in want.to_numpy()]
    # a higher coupon costs more interest once ORCL borrows
    assert out[3][2] > out[3][1]


def test_sensitivity_whole_year_terms_and_limits():
    out = udfs.cpx_sensitivity("ORCL", "bonds", "bonds.tenor_years", [[2, 10]],
                               "inputs.capex_growth", [[0.1, 0.5]], "repayment", "peak")
    assert out[0][0] == "bonds.tenor_years \\ inputs.capex_growth" and out[1][0] == 2
    big = udfs.cpx_sensitivity("MSFT", "bonds", "bonds.coupon", [list(range(60))],
                               "bonds.capex_share", [list(range(60))])
    assert big == "#VALUE!" and "2,500" in big.reason
    gap = udfs.cpx_sensitivity("MSFT", "bonds", "bonds.coupon", [[0.04, None]],
                               "bonds.capex_share", [[1]])
    assert gap == "#N/A" and "row_values" in gap.reason


# --- CPX_MONTE_CARLO --------------------------------------------------------------------------


def test_monte_carlo_is_the_engines_bands(dataset):
    out = udfs.cpx_monte_carlo("ORCL", "hybrid", 2000, 11, 2.5, [["inputs.years", 4]])
    base = base_from_dataset(dataset, "ORCL")
    want = monte_carlo(base, get_preset("hybrid"), ScenarioInputs(years=4), n_paths=2000,
                       seed=11, threshold=2.5).bands
    assert_table_equals_frame(out, want, BAND_COLUMNS)
    for row in out[1:]:
        r = dict(zip(BAND_COLUMNS, row, strict=True))
        assert r["leverage_p5"] <= r["leverage_p50"] <= r["leverage_p95"]
        assert 0 <= r["p_breach"] <= r["p_breach_cum"] <= 1


def test_monte_carlo_defaults_cap_and_reproducibility():
    default = udfs.cpx_monte_carlo("MSFT", "bonds")
    assert default == udfs.cpx_monte_carlo("MSFT", "bonds", 10_000, 0, 3.0)
    assert len(default) == 1 + 5  # header + the default 5-year horizon
    over = udfs.cpx_monte_carlo("MSFT", "bonds", MAX_PATHS + 1)
    assert over == "#VALUE!" and "200,000" in over.reason
    assert "whole number" in udfs.cpx_monte_carlo("MSFT", "bonds", 10.5).reason
    assert "seed" in udfs.cpx_monte_carlo("MSFT", "bonds", 100, -1).reason


# --- Office.js --------------------------------------------------------------------------------


def _norm(v):
    codes = {"Div0": "#DIV/0!", "NotAvailable": "#N/A", "Num": "#NUM!", "Value": "#VALUE!"}
    if isinstance(v, dict) and v.get("type") == "Error":
        return codes[v["errorType"]]
    if isinstance(v, list):
        rows = v if v and isinstance(v[0], list) else [v]
        return [[_norm(c) for c in r] for r in rows]
    return v


def test_officejs_path_equals_direct_calls():
    calls = [
        ("cpx_financing", ["AMZN", "spv-lease", 4, [["lease.capex_share", 0.4],
                                                    ["inputs.capex_growth", "default"]]]),
        ("cpx_financing", ["MSFT", "all-cash", 2, [["interest_expense", 0],
                                                   ["total_debt", 0]], False]),
        ("cpx_scenarios", ["META", "capex,net_debt_to_ebitda", "peak"]),
        ("cpx_depreciation", [[[100], [100], [100]], [[3, "inf"]], [[0.6, 0.4]]]),
        ("cpx_sensitivity", ["ORCL", "bonds", "bonds.capex_share", [[0.5, 1.0]],
                             "bonds.coupon", [[0.04], [0.06]]]),
        ("cpx_monte_carlo", ["GOOGL", "private-credit", 1000, 3, 2.0]),
        ("cpx_monte_carlo", ["GOOGL", "bonds", 1_000_000]),
        ("cpx_financing", ["MSFT", "nope"]),
    ]
    results = call_officejs([{"func_name": n, "args": a} for n, a in calls])
    for (name, args), res in zip(calls, results, strict=True):
        assert "result" in res, (name, res)
        direct = getattr(udfs, name)(*args)
        got = _norm(res["result"])
        want = _norm(direct) if isinstance(direct, list) else [[_norm(direct)]]
        assert np.shape(got) == np.shape(want), name
        for a_row, b_row in zip(got, want, strict=True):
            for a, b in zip(a_row, b_row, strict=True):
                if isinstance(b, float):
                    assert a == pytest.approx(b, rel=1e-12), name
                else:
                    assert a == b, name
    capped = results[-2]["result"][0][0]
    assert capped["errorType"] == "Value" and "200,000" in capped["message"]
    assert "unknown preset" in results[-1]["result"][0][0]["message"]
