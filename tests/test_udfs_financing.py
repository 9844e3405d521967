"""CPX_ financing functions: the engine's own numbers, hand-worked values, overrides, error
values with reasons, and the Office.js path."""

from __future__ import annotations

import math

import aicapex.engine.depreciation as depreciation
import aicapex.udfs as udfs
import numpy as np
import pytest
from aicapex.engine.depreciation import depreciation_schedule
from aicapex.engine.financing import (
    COLUMNS,
    ScenarioInputs,
    base_from_dataset,
    project_financing,
)
from aicapex.engine.montecarlo import BAND_COLUMNS, monte_carlo
from aicapex.engine.presets import PRESET_NAMES, get_preset
from aicapex.engine.scenario import build_scenario, compare_scenarios, sensitivity_grid
from aicapex.udfs.financing import MAX_DEPRECIATION_CELLS, MAX_PATHS
from officejs import call_officejs

MSFT_CAPEX_FY2026 = 115948.0  # MSFT 10-K FY2026, additions to property and equipment
MSFT_INTEREST_FY2025 = 2385.0  # MSFT 10-K FY2025, interest expense (FY2026 not in the data)
MSFT_DEBT_FY2026 = 40294.0  # MSFT FY2026 total debt in the snapshot (10-K)


def engine_frame(dataset, ticker, preset, years, terms=None, base_overrides=None):
    """The engine, called directly: the base from the data, the preset, the overrides and the
    guidance the service adds (no UDF code involved)."""
    sc = build_scenario(dataset, ticker, preset, {**(base_overrides or {}), **(terms or {})},
                        years=years)
    return project_financing(sc.base, sc.structure, sc.inputs)


def assert_table_equals_frame(table, frame, columns):
    assert table[0] == list(columns)
    assert len(table) == len(frame) + 1
    for row, (_, rec) in zip(table[1:], frame.iterrows(), strict=True):
        for col, got in zip(columns, row, strict=True):
            want = rec[col]
            if col == "year":
                assert got == int(want) and isinstance(got, int)
            elif isinstance(want, str):
                assert got == want, col
            elif math.isnan(want):
                assert got in ("#DIV/0!", "#N/A")
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
    assert first["year"] == 2027  # the year after MSFT's latest reported FY2026
    assert first["capex"] == pytest.approx(MSFT_CAPEX_FY2026 * 1.3)
    assert rows[1]["capex"] == pytest.approx(MSFT_CAPEX_FY2026 * 1.3 ** 2)
    # all-cash issues no debt: interest is the existing debt's, reported interest expense
    assert first["interest"] == pytest.approx(MSFT_INTEREST_FY2025)
    assert first["gross_debt"] == pytest.approx(MSFT_DEBT_FY2026)
    for r in rows:
        sources = sum(r[k] for k in ("cash_used", "bonds", "term_loans", "spv_lease",
                                     "private_credit", "equity", "funding_gap"))
        assert sources == pytest.approx(r["funding_need"])
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


def test_terms_apply_as_given_and_the_comparison_tunes_each_presets_own_steps(dataset):
    share = [["lease.capex_share", 0.4]]
    # CPX_FINANCING: an override applies as given, even where the preset has no SPV step
    cash = udfs.cpx_financing("META", "all-cash", 4, share)
    assert_table_equals_frame(cash, engine_frame(dataset, "META", "all-cash", 4,
                                                 {"lease.capex_share": 0.4}), COLUMNS)
    assert any(r[COLUMNS.index("spv_lease")] > 0 for r in cash[1:])
    # CPX_SCENARIOS feeds one block to all five presets: only presets with an SPV use it
    side = udfs.cpx_scenarios("META", "spv_lease", "peak", share, False)[0]
    assert side[0] == "spv_lease"
    by_preset = dict(zip(PRESET_NAMES, side[1:], strict=True))
    assert by_preset["all-cash"] == 0 and by_preset["bonds"] == 0
    assert by_preset["spv-lease"] > 0
    want = engine_frame(dataset, "META", "spv-lease", 5, {"lease.capex_share": 0.4})
    assert by_preset["spv-lease"] == pytest.approx(want["spv_lease"].max(), rel=1e-12)
    # a misspelt term is an error whether the step is used or not
    typo = udfs.cpx_financing("META", "all-cash", 4, [["lease.capex_shar", 0.4]])
    assert typo == "#VALUE!" and "capex_shar" in typo.reason
    typo = udfs.cpx_scenarios("META", None, None, [["lease.capex_shar", 0.4]])
    assert typo == "#VALUE!" and "capex_shar" in typo.reason


def test_capex_of_one_year_through_the_overrides(dataset):
    # issue 22: "Meta 2026 at its $125-145bn guidance" as one year's figure
    out = udfs.cpx_financing("META", "bonds", 3, [["capex.2026", 135000]], False)
    capex = [r[COLUMNS.index("capex")] for r in out]
    assert capex[0] == 135000
    want = engine_frame(dataset, "META", "bonds", 3, {"capex.2026": 135000})
    assert capex == pytest.approx(want["capex"].tolist(), rel=1e-12)
    late = udfs.cpx_financing("META", "bonds", 3, [["capex.2030", 1]])
    assert late == "#VALUE!" and "FY2030 is not a projected year" in late.reason


def test_leverage_is_nm_not_negative_when_ebitda_is_not_positive():
    # an OCF margin of -10% of revenue: the EBITDA proxy is negative every year
    out = udfs.cpx_financing("ORCL", "hybrid", 3, [["inputs.ocf_margin", -0.1]], False)
    for r in out:
        row = dict(zip(COLUMNS, r, strict=True))
        assert row["ebitda"] < 0 and row["net_debt"] > 0
        cell = row["net_debt_to_ebitda"]
        assert cell == "#N/A" and cell.reason.startswith("n.m.")


def test_scenario_sources_name_every_default(dataset):
    out = udfs.cpx_scenario_sources("GOOGL", "bonds", 3)
    assert out[0] == ["item", "value", "unit", "source"]
    items = {r[0]: r for r in out[1:]}
    assert items["base_year"][1] == 2025
    assert items["capex FY2026"][1] == 185000  # GOOGL 2026 guide $180-190bn, midpoint
    assert "2026-04-29" in items["capex FY2026"][3] and "https://" in items["capex FY2026"][3]
    assert items["capex FY2027"][3].startswith("model:")
    assert items["buybacks"][1] == 0 and "not in the data set" in items["buybacks"][3]
    assert "proxy" in items["ebitda"][3]
    for row in out[1:]:
        assert row[3], row[0]  # every row names its source


@pytest.mark.parametrize(("args", "code", "reason"), [
    (["MSFT", "junk-bonds"], "#VALUE!", "unknown preset 'junk-bonds'"),
    (["XX", "bonds"], "#N/A", "unknown ticker 'XX'"),
    (["MSFT", "bonds", 0], "#VALUE!", "years = 0"),
    (["MSFT", "bonds", 31], "#VALUE!", "years = 31"),
    (["MSFT", "bonds", 2.5], "#VALUE!", "whole number"),
    (["MSFT", "bonds", 3, [["bonds.coupon"]]], "#VALUE!", "2 columns"),
    (["MSFT", "bonds", 3, [["bonds.coupn", 0.05]]], "#VALUE!", "unknown parameter 'coupn'"),
    (["MSFT", "bonds", 3, [["bonds.coupon", 1.5]]], "#VALUE!", "bonds.coupon=1.5"),
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
    # (a constant growth replaces the default path and the FY2026 guidance)
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


# --- CPX_GUIDANCE -----------------------------------------------------------------------------
# capex_guidance.csv (SOURCES.md): META's 2026 guide was $115-135bn (2026-01-28), raised to
# $125-145bn (2026-04-29); its 2025 guide went from $60-65bn to $70-72bn and 2025 capex incl.
# finance-lease principal was 72,215 (Q4 2025 release; capex 69,691 + principal 2,524).


def test_guidance_latest_is_the_last_revision_with_growth_on_the_same_basis():
    out = udfs.cpx_guidance("META", 2026)
    assert out[0][:6] == ["ticker", "guided_fiscal_year", "date_given", "mid_musd",
                          "last_actual_musd", "guided_growth"]
    row = dict(zip(out[0], out[1], strict=True))
    assert (row["date_given"], row["low_musd"], row["high_musd"], row["mid_musd"]) == (
        "2026-04-29", 125000, 145000, 135000)
    assert row["point_musd"] == "#N/A"  # a range, no single figure
    assert row["revisions"] == 4 and row["first_mid_musd"] == 125000
    # guided growth against FY2025 on Meta's basis: 135,000 / 72,215 - 1
    assert row["last_actual_musd"] == 72215
    assert row["guided_growth"] == pytest.approx(135000 / 72215 - 1)
    assert "principal" in row["basis"]


def test_guidance_history_lists_every_revision_with_its_words():
    out = udfs.cpx_guidance([["META"]], "FY2026", "history", False)
    assert [r[2] for r in out] == ["2025-07-30", "2025-10-29", "2026-01-28", "2026-04-29"]
    qualitative = out[0]
    assert qualitative[3] == "#N/A" and "similarly significant" in qualitative[8]
    assert [r[3:5] for r in out[2:]] == [[115000, 135000], [125000, 145000]]
    assert all(r[9].count("https://") == 2 for r in out)  # two sources per row


def test_guidance_vs_outcome_and_basis_flags():
    out = udfs.cpx_guidance("META, MSFT", None, "outcome")
    rows = {(r[0], r[1]): dict(zip(out[0], r, strict=True)) for r in out[1:]}
    meta = rows[("META", "FY2025")]
    assert (meta["first_low_musd"], meta["first_high_musd"]) == (60000, 65000)
    assert (meta["latest_low_musd"], meta["latest_high_musd"]) == (70000, 72000)
    assert meta["actual_musd"] == 72215
    assert meta["actual_vs_latest_mid"] == pytest.approx(72215 / 71000 - 1)
    # Microsoft's ~$190bn is for calendar 2026: flagged, never compared with a fiscal year
    msft = rows[("MSFT", "CY2026")]
    assert msft["actual_musd"] == "#N/A" and "calendar year" in msft["actual_musd"].reason
    assert "calendar year" in msft["basis_note"]


def test_guidance_errors():
    none = udfs.cpx_guidance("AAPL")
    assert none == "#N/A" and "no capex guidance for AAPL" in none.reason
    bad = udfs.cpx_guidance("META", None, "forecast")
    assert bad == "#VALUE!" and "latest, history, outcome" in bad.reason
    year = udfs.cpx_guidance("META", "2031")
    assert year == "#N/A" and "FY2031" in year.reason


# --- CPX_DEPRECIATION size ----------------------------------------------------------------------


def test_depreciation_of_a_long_row_never_builds_a_vintage_matrix(monkeypatch):
    # issue 20: a 10,000-cell row made the server grow to 4 GB (an n x n matrix per class).
    # The schedule is now linear: the matrix function must not be called at all.
    def refuse(*args, **kwargs):
        raise AssertionError("quadratic vintage matrix built")

    monkeypatch.setattr(depreciation, "vintage_weights", refuse)
    out = udfs.cpx_depreciation([[100.0] * 10_000], [[6, 25, "inf"]], [[0.5, 0.45, 0.05]])
    row = out[0]
    assert len(row) == 10_000
    # steady state: 100 a year, 50 on 6-year servers and 45 on 25-year buildings, both fully
    # ramped after 26 years (half-year convention): 50 + 45 = 95 a year
    assert row[-1] == pytest.approx(95.0)
    # year one: half a year on each vintage: 50/12 + 45/50
    assert row[0] == pytest.approx(50 / 12 + 45 / 50)


def test_depreciation_size_cap_is_a_value_error_with_the_reason():
    classes = MAX_DEPRECIATION_CELLS // 1000 + 1
    out = udfs.cpx_depreciation([[1.0] * 1000], [[5] * classes], [[1 / classes] * classes])
    assert out == "#VALUE!" and f"{MAX_DEPRECIATION_CELLS:,}" in out.reason


def test_guidance_and_sources_through_officejs():
    calls = [
        ("cpx_guidance", ["META", 2026]),
        ("cpx_guidance", ["GOOGL", None, "outcome"]),
        ("cpx_guidance", ["AAPL"]),
        ("cpx_scenario_sources", ["ORCL", "hybrid", 2]),
        ("cpx_financing", ["META", "bonds", 3, None, None, [["capex"], ["capex_source"]],
                           [[2025, 2026, 2027, 2028, 2029]]]),
        ("cpx_guidance", [[["META", "ORCL"]], "FY2026", "path", None,
                          [["2025-09-09"], ["2026-04-29"]]]),
    ]
    results = call_officejs([{"func_name": n, "args": a} for n, a in calls])
    for (name, args), res in zip(calls, results, strict=True):
        assert "result" in res, (name, res)
        direct = getattr(udfs, name)(*args)
        got = _norm(res["result"])
        want = _norm(direct) if isinstance(direct, list) else [[_norm(direct)]]
        assert got == want, name
    assert "no capex guidance for AAPL" in results[2]["result"][0][0]["message"]


# --- timeline layouts (one spilled call per sheet block) -------------------------------------


def test_financing_along_a_timeline_is_the_projection_by_year(dataset):
    keys = [["capex"], ["capex_source"], ["gross_debt"], ["bonds"], ["net_debt_to_ebitda"]]
    years = [[2024, 2025, 2026, 2027, 2028, 2029]]
    out = udfs.cpx_financing("GOOGL", "bonds", 3, None, None, keys, years)
    want = engine_frame(dataset, "GOOGL", "bonds", 3).set_index("year")
    assert len(out) == 5 and all(len(r) == 6 for r in out)
    capex, source, debt, bonds, lev = out
    # FY2025 is GOOGL's base year: its own figures open the corkscrews (10-K: capex 91,447,
    # total debt 51,043); projection lines have no base-year value
    assert capex[1] == 91447 and debt[1] == 51043 and source[1] == "reported"
    # outside the scenario (a projection line in the base year, years before it, years after
    # the horizon) a cell is empty: not a missing figure, and no chart draws it
    assert bonds[1] == ""
    assert capex[2:5] == pytest.approx(want.loc[[2026, 2027, 2028], "capex"].tolist())
    assert source[2:5] == ["guidance", "model", "model"]
    assert lev[2:5] == pytest.approx(want.loc[[2026, 2027, 2028], "net_debt_to_ebitda"].tolist())
    assert capex[0] == "" and capex[5] == ""
    bad = udfs.cpx_financing("GOOGL", "bonds", 3, None, None, [["capx"]], years)
    assert bad == "#VALUE!" and "capx" in bad.reason
    half = udfs.cpx_financing("GOOGL", "bonds", 3, None, None, [["capex"]])
    assert half == "#VALUE!" and "go together" in half.reason


def test_monte_carlo_along_a_timeline():
    table = udfs.cpx_monte_carlo("MSFT", "bonds", 500, 3, 3.0)
    by_year = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    out = udfs.cpx_monte_carlo("MSFT", "bonds", 500, 3, 3.0, None, None,
                               [["leverage_p50"], ["p_breach_cum"]], [[2026, 2027, 2031]])
    assert out[0][0] == ""  # the base year: no simulated value
    assert out[0][1:] == pytest.approx([by_year[2027]["leverage_p50"],
                                        by_year[2031]["leverage_p50"]])
    assert out[1][2] == pytest.approx(by_year[2031]["p_breach_cum"])


def test_scenario_sources_by_item_keep_their_order():
    out = udfs.cpx_scenario_sources("META", "bonds", 3, None, None,
                                    [["capex_first_year"], ["base_year"], ["dividends"]])
    assert [r[0] for r in out] == [132476, 2025, 0]
    assert "less FY2025 finance-lease principal payments 2,524" in out[0][2]
    bad = udfs.cpx_scenario_sources("META", "bonds", 3, None, None, [["nothing"]])
    assert bad == "#VALUE!" and "nothing" in bad.reason


def test_guidance_path_is_the_guide_in_force_at_each_date():
    # META's FY2026 guide: none with a figure before 2026-01-28, then $115-135bn (mid 125,000),
    # raised on 2026-04-29 to $125-145bn (mid 135,000); ORCL's FY2026: ~$35bn on 2025-09-09,
    # ~$50bn on 2025-12-10 (the 2025-06-11 floor has no midpoint)
    out = udfs.cpx_guidance([["META", "ORCL"]], "FY2026", "path", None,
                            [["2025-06-11"], ["2025-09-09"], ["2026-01-28"], ["2026-04-29"]])
    assert out[0][0] == "#N/A" and out[0][1] == "#N/A"
    assert out[1][1] == 35000 and out[2] == [125000, 50000] and out[3] == [135000, 50000]
    assert "path" in udfs.cpx_guidance("META", None, "path").reason
