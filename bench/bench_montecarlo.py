"""Monte Carlo throughput (path-years per second) against a per-path Python loop.

Run as a script (``python bench/bench_montecarlo.py``) or import and call :func:`run`, which
returns rows ``{name, value, unit, baseline, ratio, target}`` for a bench runner.

- Vectorized: :func:`aicapex.engine.montecarlo.monte_carlo`, the whole call (random draws,
  the waterfall for every path, percentile bands and breach probabilities).
- Baseline, measured in the same run: a straightforward loop over paths, each path a
  scalar Python loop over years through the same waterfall, on the same shocks, followed by
  ``np.percentile``. The baseline is *not* charged for drawing its shocks (they are drawn
  vectorized beforehand), so the ratio is conservative. The baseline's answers are checked
  against the vectorized engine before timing.

Targets: >= 20 million path-years/s on one core, and >= 50x the loop.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

try:
    from aicapex.engine.financing import CompanyBase, ScenarioInputs, lease_factors
    from aicapex.engine.montecarlo import draw_shocks, monte_carlo, simulate_paths
    from aicapex.engine.presets import get_preset
except ModuleNotFoundError:  # running from a checkout without the editable install
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
    from aicapex.engine.financing import CompanyBase, ScenarioInputs, lease_factors
    from aicapex.engine.montecarlo import draw_shocks, monte_carlo, simulate_paths
    from aicapex.engine.presets import get_preset

TARGET_PATH_YEARS_PER_S = 20e6
TARGET_RATIO = 50.0

#: A hyperscaler-sized base (USD m; round numbers in the range of the FY2025 filings).
BASE = CompanyBase(
    "BENCH", 2025, revenue=280_000, ocf=136_000, capex=65_000, da=34_000, ppe_net=205_000,
    cash=95_000, debt=43_000, interest=2_400, op_lease_liabilities=23_000,
    fin_lease_liabilities=46_000, revenue_growth=0.12, capex_growth=0.30, revenue_cagr=0.10,
)
INPUTS = ScenarioInputs(years=10)
MC = dict(ocf_growth_sd=0.08, capex_overrun_mean=0.05, capex_overrun_sd=0.15)
CORRELATION = -0.3


def loop_baseline(base, structure, inputs, z1, z2, *, ocf_growth_sd, capex_overrun_mean,
                  capex_overrun_sd):
    """Per-path scalar loop: returns (fcf, leverage) arrays (years, paths)."""
    from aicapex.engine.financing import minimum_cash, other_uses, project_operations

    ops = project_operations(base, inputs)
    ocf_det, plan = ops["ocf"].tolist(), ops["capex"].tolist()
    n, p = z1.shape
    ocf0 = base.ocf + base.interest
    g_det = [ocf_det[t] / (ocf_det[t - 1] if t else ocf0) - 1.0 for t in range(n)]
    s = structure
    b, tl, le, pc = s.bonds, s.term_loans, s.lease, s.private_credit
    rent_f = lease_factors(le, 1)["rent"]
    pc_rate = pc.effective_rate
    min_cash = minimum_cash(base, inputs, s)
    uses = sum(other_uses(base, inputs))
    eq_cap = s.equity.max_per_year
    base_interest = base.debt_rate * base.debt
    fcf_out = np.empty((n, p))
    lev_out = np.empty((n, p))
    for j in range(p):
        ocf = ocf0
        cash = base.cash
        bal_b = bal_tl = bal_pc = 0.0
        d_b, d_tl, d_le, d_pc = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
        for t in range(n):
            ocf = ocf * (1.0 + g_det[t] + ocf_growth_sd * z1[t, j])
            capex = max(plan[t] * (1.0 + capex_overrun_mean + capex_overrun_sd * z2[t, j]), 0.0)
            interest = base_interest + b.coupon * bal_b + tl.rate * bal_tl + pc_rate * bal_pc
            rep_b = d_b[t - b.tenor_years] if t >= b.tenor_years else 0.0
            rep_tl = sum(d_tl[max(0, t - tl.tenor_years):t]) / tl.tenor_years
            rep_pc = sum(d_pc[max(0, t - pc.tenor_years):t]) / pc.tenor_years
            rent = rent_f * sum(d_le[max(0, t - le.amortization_years):t])
            bal_b -= rep_b
            bal_tl -= rep_tl
            bal_pc -= rep_pc
            gap = capex + interest + rent + rep_b + rep_tl + rep_pc + uses - ocf
            used = min(gap, max(cash - min_cash, 0.0))
            cash -= used
            r = gap - used
            if b.max_per_year > 0 and b.capex_share > 0:
                d_b[t] = min(r, b.max_per_year, b.capex_share * capex)
                r -= d_b[t]
                bal_b += d_b[t]
            if tl.max_per_year > 0:
                d_tl[t] = min(r, tl.max_per_year)
                r -= d_tl[t]
                bal_tl += d_tl[t]
            if le.capex_share > 0:
                d_le[t] = min(r, le.capex_share * capex)
                r -= d_le[t]
            if pc.max_per_year > 0:
                d_pc[t] = min(r, pc.max_per_year)
                r -= d_pc[t]
                bal_pc += d_pc[t]
            if eq_cap > 0:
                r -= min(r, eq_cap)
            cash -= r  # the funding gap: unfunded, a cash shortfall
            net_debt = base.debt + bal_b + bal_tl + bal_pc - cash
            ebitda = ocf - rent
            if ebitda > 0:
                lev = net_debt / ebitda
            else:
                lev = math.inf if net_debt > 0 else 0.0
            fcf_out[t, j] = ocf - capex
            lev_out[t, j] = lev
    return fcf_out, lev_out


def _best(fn, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_preset(preset: str, n_paths: int = 200_000, loop_paths: int = 2_000) -> list[dict]:
    s = get_preset(preset)
    n = INPUTS.years
    # correctness first: the loop and the engine agree on the same shocks
    z1, z2 = draw_shocks(n, loop_paths, correlation=CORRELATION, seed=7, dtype=np.float64)
    fcf_loop, lev_loop = loop_baseline(BASE, s, INPUTS, z1, z2, **MC)
    sim = simulate_paths(BASE, s, INPUTS, z1, z2, keep=("fcf", "leverage"), **MC)
    np.testing.assert_allclose(sim["fcf"], fcf_loop, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(sim["leverage"], lev_loop, rtol=1e-9, atol=1e-9)

    def vectorized():
        monte_carlo(BASE, s, INPUTS, n_paths=n_paths, correlation=CORRELATION, seed=1, **MC)

    def loop():
        f, lv = loop_baseline(BASE, s, INPUTS, z1, z2, **MC)
        np.percentile(f, [5, 50, 95], axis=1)
        np.percentile(lv, [5, 50, 95], axis=1)

    vectorized()  # warm-up
    t_vec = _best(vectorized, 5)
    t_loop = _best(loop, 2)
    value = n_paths * n / t_vec
    baseline = loop_paths * n / t_loop
    ratio = value / baseline
    return [
        {"name": f"montecarlo_{preset}_throughput", "value": value, "unit": "path-years/s",
         "baseline": baseline, "ratio": ratio, "target": TARGET_PATH_YEARS_PER_S},
        {"name": f"montecarlo_{preset}_speedup_vs_loop", "value": ratio, "unit": "x",
         "baseline": 1.0, "ratio": ratio, "target": TARGET_RATIO},
    ]


def run() -> list[dict]:
    """Benchmark rows for a bench runner (one core; see the module docstring)."""
    rows: list[dict] = []
    for preset in ("bonds", "hybrid"):
        rows += bench_preset(preset)
    return rows


def main() -> int:
    rows = run()
    print(f"{'name':42} {'value':>14} {'unit':>13} {'baseline':>12} {'ratio':>8} {'target':>10}")
    ok = True
    for r in rows:
        met = r["value"] >= r["target"]
        ok &= met
        print(f"{r['name']:42} {r['value']:14,.1f} {r['unit']:>13} {r['baseline']:12,.1f} "
              f"{r['ratio']:8.1f} {r['target']:10,.0f} {'ok' if met else 'BELOW TARGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
