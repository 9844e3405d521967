"""Monte Carlo: reproducibility, agreement with the deterministic engine, band properties."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from aicapex.engine.financing import CompanyBase, ScenarioInputs, project_financing
from aicapex.engine.montecarlo import (
    BAND_COLUMNS,
    draw_shocks,
    monte_carlo,
    percentiles,
    simulate_paths,
)
from aicapex.engine.presets import PRESET_NAMES, get_preset
from aicapex.engine.waterfall import CHUNK
from aicapex.errors import ArgumentError
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

BASE = CompanyBase(
    "MC", 2025, revenue=1000, ocf=190, capex=150, da=80, ppe_net=400, cash=300, debt=200,
    interest=10, op_lease_liabilities=50, revenue_growth=0.10, capex_growth=0.35,
    revenue_cagr=0.08,
)
INPUTS = ScenarioInputs(years=6)


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_zero_volatility_reproduces_the_deterministic_scenario(preset):
    s = get_preset(preset)
    det = project_financing(BASE, s, INPUTS)
    r = monte_carlo(BASE, s, INPUTS, n_paths=5, ocf_growth_sd=0, capex_overrun_sd=0, seed=3,
                    dtype=np.float64)
    for q in ("p5", "p50", "p95"):
        np.testing.assert_allclose(r.bands[f"fcf_{q}"], det["fcf"], rtol=1e-12)
        np.testing.assert_allclose(r.bands[f"leverage_{q}"], det["net_debt_to_ebitda"],
                                   rtol=1e-9, atol=1e-12)
    expected_breach = (det["net_debt_to_ebitda"] > r.threshold).astype(float)
    np.testing.assert_allclose(r.bands["p_breach"], expected_breach)
    # the default float32 working precision agrees to ~7 significant digits
    r32 = monte_carlo(BASE, s, INPUTS, n_paths=5, ocf_growth_sd=0, capex_overrun_sd=0)
    np.testing.assert_allclose(r32.bands["fcf_p50"], det["fcf"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(r32.bands["leverage_p50"], det["net_debt_to_ebitda"],
                               rtol=1e-4, atol=1e-5)


def test_zero_volatility_reproduces_a_scenario_with_a_funding_gap_and_buybacks():
    # buybacks and dividends are uses of cash and an unfunded need lowers cash on every path
    inputs = ScenarioInputs(years=5, capex_growth=0.3, buybacks=60, dividends=40)
    s = get_preset("all-cash")
    det = project_financing(BASE, s, inputs)
    assert det["funding_gap"].sum() > 0 and (det["ebitda"] > 0).all()
    r = monte_carlo(BASE, s, inputs, n_paths=3, ocf_growth_sd=0, capex_overrun_sd=0,
                    dtype=np.float64)
    np.testing.assert_allclose(r.bands["leverage_p50"], det["net_debt_to_ebitda"], rtol=1e-9)


def test_float32_and_float64_bands_agree():
    s = get_preset("hybrid")
    a = monte_carlo(BASE, s, INPUTS, n_paths=3000, seed=9, dtype=np.float32)
    z1, z2 = draw_shocks(INPUTS.years, 3000, seed=9, dtype=np.float32)
    sim64 = simulate_paths(BASE, s, INPUTS, z1.astype(np.float64), z2.astype(np.float64))
    np.testing.assert_allclose(a.bands["fcf_p50"], np.percentile(sim64["fcf"], 50, axis=1),
                               rtol=1e-4)
    np.testing.assert_allclose(a.bands["leverage_p95"],
                               np.percentile(sim64["leverage"], 95, axis=1), rtol=1e-3,
                               atol=1e-4)


@pytest.mark.parametrize("preset", ["hybrid", "spv-lease", "private-credit"])
def test_each_path_matches_a_deterministic_run_with_its_capex(preset):
    # z1 = 0 keeps OCF on its deterministic path; z2 moves capex path by path. Each path must
    # equal project_financing with that path's capex as an explicit plan.
    s = get_preset(preset)
    n, p = INPUTS.years, 7
    rng = np.random.default_rng(11)
    z1 = np.zeros((n, p))
    z2 = rng.standard_normal((n, p))
    sim = simulate_paths(BASE, s, INPUTS, z1, z2, capex_overrun_sd=0.4)
    for j in range(p):
        inputs = dataclasses.replace(INPUTS, capex_path=tuple(sim["capex"][:, j]),
                                     capex_growth=None)
        det = project_financing(BASE, s, inputs)
        np.testing.assert_allclose(sim["net_debt"][:, j], det["net_debt"], rtol=1e-10,
                                   atol=1e-6)
        np.testing.assert_allclose(sim["ebitda"][:, j], det["ebitda"], rtol=1e-12)
        np.testing.assert_allclose(sim["fcf"][:, j], det["fcf"], rtol=1e-12, atol=1e-9)


def test_same_seed_same_result_and_draws_match_monte_carlo():
    s = get_preset("hybrid")
    a = monte_carlo(BASE, s, INPUTS, n_paths=CHUNK + 123, correlation=-0.4, seed=42)
    b = monte_carlo(BASE, s, INPUTS, n_paths=CHUNK + 123, correlation=-0.4, seed=42)
    c = monte_carlo(BASE, s, INPUTS, n_paths=CHUNK + 123, correlation=-0.4, seed=43)
    assert a.bands.equals(b.bands)
    assert not a.bands.equals(c.bands)
    z1, z2 = draw_shocks(INPUTS.years, CHUNK + 123, correlation=-0.4, seed=42)
    sim = simulate_paths(BASE, s, INPUTS, z1, z2)
    np.testing.assert_allclose(a.bands["fcf_p50"], np.percentile(sim["fcf"], 50, axis=1))
    lev = sim["leverage"]
    np.testing.assert_allclose(a.bands["p_breach"], (lev > 3.0).mean(axis=1))


def test_bands_are_ordered_and_breach_probability_accumulates():
    r = monte_carlo(BASE, get_preset("private-credit"), ScenarioInputs(years=8),
                    n_paths=4000, ocf_growth_sd=0.15, capex_overrun_sd=0.3, threshold=1.0)
    bd = r.bands
    assert list(bd.columns) == list(BAND_COLUMNS)
    assert bd["year"].tolist() == list(range(2026, 2034))
    assert (bd["fcf_p5"] <= bd["fcf_p50"]).all() and (bd["fcf_p50"] <= bd["fcf_p95"]).all()
    assert (bd["leverage_p5"] <= bd["leverage_p50"]).all()
    assert (bd["leverage_p50"] <= bd["leverage_p95"]).all()
    assert (np.diff(bd["p_breach_cum"]) >= 0).all()
    assert (bd["p_breach_cum"] >= bd["p_breach"]).all()
    assert r.p_breach_any == bd["p_breach_cum"].iloc[-1]
    assert 0 < r.p_breach_any < 1


def test_shock_correlation_and_moments():
    z1, z2 = draw_shocks(4, 100_000, correlation=0.7, seed=5)
    assert abs(np.corrcoef(z1.ravel(), z2.ravel())[0, 1] - 0.7) < 0.01
    assert abs(z2.std() - 1.0) < 0.01 and abs(z1.mean()) < 0.01


def test_capex_overrun_raises_fcf_spread():
    s = get_preset("bonds")
    calm = monte_carlo(BASE, s, INPUTS, n_paths=2000, ocf_growth_sd=0.0, capex_overrun_sd=0.05)
    wild = monte_carlo(BASE, s, INPUTS, n_paths=2000, ocf_growth_sd=0.0, capex_overrun_sd=0.30)
    spread = lambda r: (r.bands["fcf_p95"] - r.bands["fcf_p5"]).to_numpy()  # noqa: E731
    assert (spread(wild) > spread(calm)).all()


@settings()
@given(arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 60)),
              elements=st.floats(-1e6, 1e6)))
def test_percentiles_equal_numpy(x):
    np.testing.assert_allclose(percentiles(x), np.percentile(x, [5, 50, 95], axis=-1),
                               rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(n_paths=0), "n_paths"),
        (dict(correlation=1.5), "correlation"),
        (dict(ocf_growth_sd=-0.1), "ocf_growth_sd"),
        (dict(capex_overrun_sd=-1), "capex_overrun_sd"),
        (dict(dtype=np.int64), "dtype"),
    ],
)
def test_bad_arguments(kwargs, word):
    with pytest.raises(ArgumentError, match=word):
        monte_carlo(BASE, get_preset("bonds"), INPUTS, **kwargs)
