"""Monte Carlo of a financing scenario: stochastic OCF growth and capex overruns.

Each year, OCF growth and the capex overrun are a correlated pair of normals::

    g[t] = g_det[t] + ocf_growth_sd * z1[t]
    o[t] = capex_overrun_mean + capex_overrun_sd * (rho * z1[t] + sqrt(1 - rho^2) * z2[t])
    ocf[t] = ocf[t-1] * (1 + g[t])            (ocf[-1] = base pre-interest OCF)
    capex[t] = max(plan[t] * (1 + o[t]), 0)

where ``g_det`` is the deterministic scenario's OCF growth, so zero volatility reproduces
:func:`aicapex.engine.financing.project_financing`. Every path then runs the same funding
waterfall kernel (:func:`aicapex.engine.waterfall.waterfall_chunk`), vectorized across paths
(the only Python loop is over years; paths are processed in cache-sized chunks of
:data:`~aicapex.engine.waterfall.CHUNK`). An unfunded need (the funding gap) lowers cash, so
it counts in net debt on every path. Draws come from a
``numpy.random.Generator`` on the SFC64 bit generator seeded with ``seed`` (:func:`make_rng`),
drawn chunk by chunk in a fixed order: the same seed gives the same result, and
:func:`draw_shocks` returns exactly the shocks :func:`monte_carlo` uses.

Leverage is ``net_debt / ebitda`` with the EBITDA proxy of
:func:`~aicapex.engine.financing.ebitda_proxy`. For ranking paths (percentiles) and counting
breaches, a path whose EBITDA proxy is <= 0 ranks as ``+inf`` with net debt > 0 (a breach)
and 0 with net cash; the deterministic scenario shows such a year as n.m. A breach is
leverage above ``threshold``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aicapex.engine.financing import (
    CompanyBase,
    FinancingStructure,
    ScenarioInputs,
    ebitda_proxy,
    minimum_cash,
    other_uses,
    project_operations,
)
from aicapex.engine.validation import check_number
from aicapex.engine.waterfall import CHUNK, WaterfallStart, waterfall_chunk
from aicapex.errors import ArgumentError

__all__ = [
    "BAND_COLUMNS",
    "SIM_OUTPUTS",
    "MonteCarloResult",
    "make_rng",
    "draw_shocks",
    "simulate_paths",
    "percentiles",
    "monte_carlo",
]

#: Arrays :func:`simulate_paths` can return.
SIM_OUTPUTS = ("ocf", "capex", "fcf", "net_debt", "ebitda", "leverage")

#: Columns of :attr:`MonteCarloResult.bands`.
BAND_COLUMNS = (
    "year", "fcf_p5", "fcf_p50", "fcf_p95", "leverage_p5", "leverage_p50", "leverage_p95",
    "p_breach", "p_breach_cum",
)


@dataclass(frozen=True)
class MonteCarloResult:
    """``bands``: one row per year (:data:`BAND_COLUMNS`; ``p_breach`` = share of paths above
    the threshold that year, ``p_breach_cum`` = share that breached in any year so far);
    ``p_breach_any``: the horizon-wide probability; ``n_paths``, ``threshold``, ``seed``."""

    bands: pd.DataFrame
    p_breach_any: float
    n_paths: int
    threshold: float
    seed: int | None


def _dtype(dtype: type) -> type:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ArgumentError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt.type


def make_rng(seed: int | None = 0) -> np.random.Generator:
    """The Monte Carlo's random generator: ``Generator(SFC64(seed))`` (fast, reproducible)."""
    return np.random.Generator(np.random.SFC64(seed))


def _chunk_shocks(
    rng: np.random.Generator, n: int, c: int, rho: float, dtype: type = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    z = rng.standard_normal((2, n, c), dtype=dtype)
    z1, z2 = z[0], z[1]
    if rho != 0:
        z2 *= math.sqrt(1.0 - rho * rho)
        z2 += rho * z1
    return z1, z2


def draw_shocks(
    n_years: int,
    n_paths: int,
    *,
    correlation: float = 0.0,
    seed: int | None = 0,
    dtype: type = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """The two standard-normal shock arrays (years, paths) :func:`monte_carlo` draws for
    ``seed`` and ``dtype``: ``z1`` drives OCF growth, ``z2`` the capex overrun, correlation
    ``correlation``.

    Examples
    --------
    >>> z1, z2 = draw_shocks(3, 200_000, correlation=0.6, seed=1)
    >>> round(float(np.corrcoef(z1.ravel(), z2.ravel())[0, 1]), 2)
    0.6
    """
    rho = check_number("correlation", correlation, -1, 1, "correlation coefficient")
    n, p = int(n_years), int(n_paths)
    rng = make_rng(seed)
    dtype = _dtype(dtype)
    z1, z2 = np.empty((n, p), dtype=dtype), np.empty((n, p), dtype=dtype)
    for lo in range(0, p, CHUNK):
        hi = min(lo + CHUNK, p)
        z1[:, lo:hi], z2[:, lo:hi] = _chunk_shocks(rng, n, hi - lo, rho, dtype)
    return z1, z2


class _Simulator:
    """Per-chunk kernel shared by :func:`simulate_paths` and :func:`monte_carlo`."""

    def __init__(
        self,
        base: CompanyBase,
        structure: FinancingStructure,
        inputs: ScenarioInputs,
        ocf_growth_sd: float,
        capex_overrun_mean: float,
        capex_overrun_sd: float,
        dtype: type = np.float64,
    ) -> None:
        structure.validate()
        self.dtype = dt = _dtype(dtype)
        ops = project_operations(base, inputs)
        ocf_det, plan = ops["ocf"], ops["capex"]
        self.n = ocf_det.size
        self.ocf0 = base.ocf + base.interest
        prev = np.concatenate(([self.ocf0], ocf_det[:-1]))
        with np.errstate(divide="ignore", invalid="ignore"):
            g_det = np.where(prev != 0, ocf_det / prev - 1.0, 0.0)
        self.one_plus_g = (1.0 + g_det)[:, None].astype(dt)
        self.sd = float(ocf_growth_sd)
        self.overrun = (plan * (1.0 + capex_overrun_mean))[:, None].astype(dt)
        self.plan_sd = (plan * capex_overrun_sd)[:, None].astype(dt)
        uses = sum(other_uses(base, inputs))
        self.start = WaterfallStart(
            cash=base.cash, min_cash=minimum_cash(base, inputs, structure), debt=base.debt,
            debt_rate=base.debt_rate, other_uses=(uses,) * self.n,
        )
        self.structure = structure
        self.scratch: dict[str, np.ndarray] = {}

    def _buf(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        arr = self.scratch.get(name)
        if arr is None or arr.shape != shape:
            arr = self.scratch[name] = np.empty(shape, dtype=self.dtype)
        return arr

    def run(self, z1: np.ndarray, z2: np.ndarray, result: dict[str, np.ndarray], sl: slice):
        n, c = self.n, z1.shape[1]
        ocf = np.multiply(z1, self.sd, out=self._buf("ocf", (n, c)))
        ocf += self.one_plus_g
        for t in range(1, n):  # cumulative product over years (faster than np.cumprod here)
            np.multiply(ocf[t], ocf[t - 1], out=ocf[t])
        ocf *= self.ocf0
        capex = np.multiply(z2, self.plan_sd, out=self._buf("capex", (n, c)))
        capex += self.overrun
        np.maximum(capex, 0.0, out=capex)
        wf = {k: self._buf(k, (n, c)) for k in ("cash", "gross_debt", "lease_payment")}
        waterfall_chunk(ocf, capex, wf, self.start, self.structure, full=False,
                        scratch=self.scratch)
        net_debt = wf["gross_debt"]
        net_debt -= wf["cash"]
        ebitda = ebitda_proxy(ocf, wf["lease_payment"], out=wf["lease_payment"])
        if "leverage" in result:
            lev = result["leverage"][:, sl]
            pos = ebitda > 0
            np.divide(net_debt, ebitda, out=lev, where=pos)
            if not pos.all():
                lev[~pos] = np.where(net_debt[~pos] > 0, np.inf, 0.0)
        if "fcf" in result:
            np.subtract(ocf, capex, out=result["fcf"][:, sl])
        for name, arr in (("ocf", ocf), ("capex", capex), ("net_debt", net_debt),
                          ("ebitda", ebitda)):
            if name in result:
                result[name][:, sl] = arr


def _keep(keep: tuple[str, ...]) -> None:
    unknown = set(keep) - set(SIM_OUTPUTS)
    if unknown:
        raise ArgumentError(f"unknown output(s) {sorted(unknown)}; use {', '.join(SIM_OUTPUTS)}")


def simulate_paths(
    base: CompanyBase,
    structure: FinancingStructure,
    inputs: ScenarioInputs,
    z1: np.ndarray,
    z2: np.ndarray,
    *,
    ocf_growth_sd: float = 0.05,
    capex_overrun_mean: float = 0.0,
    capex_overrun_sd: float = 0.10,
    keep: tuple[str, ...] = SIM_OUTPUTS,
) -> dict[str, np.ndarray]:
    """Run every path given the shocks ``z1, z2`` (years, paths), e.g. from
    :func:`draw_shocks`. Computes in float32 when the shocks are float32, else float64.

    Returns the arrays named in ``keep`` (default all of :data:`SIM_OUTPUTS`: ``ocf``,
    ``capex``, ``fcf``, ``net_debt``, ``ebitda``, ``leverage``), each (years, paths).
    """
    z1, z2 = np.asarray(z1), np.asarray(z2)
    dtype = np.float32 if z1.dtype == np.float32 else np.float64
    z1, z2 = z1.astype(dtype, copy=False), z2.astype(dtype, copy=False)
    sim = _Simulator(base, structure, inputs, ocf_growth_sd, capex_overrun_mean,
                     capex_overrun_sd, dtype)
    if z1.ndim != 2 or z1.shape[0] != sim.n or z2.shape != z1.shape:
        raise ArgumentError(
            f"shocks must have shape ({sim.n}, paths), got {z1.shape}, {z2.shape}"
        )
    _keep(keep)
    p = z1.shape[1]
    result = {k: np.empty((sim.n, p), dtype=dtype) for k in keep}
    for lo in range(0, p, CHUNK):
        sl = slice(lo, min(lo + CHUNK, p))
        sim.run(z1[:, sl], z2[:, sl], result, sl)
    return result


def percentiles(x: np.ndarray, q: tuple[float, ...] = (5.0, 50.0, 95.0)) -> np.ndarray:
    """Percentiles along the last axis, equal to ``np.percentile(x, q, axis=-1)`` (linear).

    Faster than ``np.percentile`` for a few ``q``: one single-``kth`` partition per order
    statistic, each on the part of the array left by the previous one.

    Examples
    --------
    >>> percentiles(np.array([[4.0, 1.0, 3.0, 2.0, 5.0]]), (5.0, 50.0, 95.0))
    array([[1.2],
           [3. ],
           [4.8]])
    """
    x = np.array(x, copy=True)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(float)
    m = x.shape[-1]
    if m == 0:
        raise ArgumentError("percentiles of an empty sample")
    rows = x.reshape(-1, m)
    out = np.empty((len(q), rows.shape[0]))  # float64 results
    pos = [(float(qq) / 100.0) * (m - 1) for qq in q]
    order = sorted(range(len(q)), key=lambda i: pos[i])
    for r_i, row in enumerate(rows):
        lo = 0  # everything before ``lo`` is <= row[lo:]
        for i in order:
            k = int(math.floor(pos[i]))
            frac = pos[i] - k
            part = row[lo:]
            part.partition(k - lo)
            v = float(part[k - lo])
            if frac > 0:
                v = v + frac * (float(part[k - lo + 1:].min()) - v)
            out[i, r_i] = v
            lo = k
    return out.reshape((len(q),) + x.shape[:-1])


def monte_carlo(
    base: CompanyBase,
    structure: FinancingStructure,
    inputs: ScenarioInputs | None = None,
    *,
    n_paths: int = 10_000,
    ocf_growth_sd: float = 0.05,
    capex_overrun_mean: float = 0.0,
    capex_overrun_sd: float = 0.10,
    correlation: float = 0.0,
    threshold: float = 3.0,
    seed: int | None = 0,
    dtype: type = np.float32,
) -> MonteCarloResult:
    """P5/P50/P95 bands of FCF and leverage per year and the probability of a breach.

    Parameters
    ----------
    base, structure, inputs
        As for :func:`aicapex.engine.financing.project_financing`.
    n_paths : int
        Number of simulated paths (>= 1).
    ocf_growth_sd : float
        Standard deviation of the yearly OCF growth shock (fraction, e.g. 0.05).
    capex_overrun_mean, capex_overrun_sd : float
        Mean and standard deviation of the yearly capex overrun (fraction of plan).
    correlation : float
        Correlation between the OCF growth shock and the capex overrun (-1..1).
    threshold : float
        Net debt / EBITDA above which a path is in breach (multiple, e.g. 3.0).
    seed : int or None
        Seed of the generator (:func:`make_rng`); the same seed gives the same bands.
    dtype : {numpy.float32, numpy.float64}
        Working precision. float32 (default) is about twice as fast; its ~7 significant
        digits (about 0.01 of a USD 100bn figure) are far below the model's uncertainty.
        float64 reproduces :func:`~aicapex.engine.financing.project_financing` to the last
        digits.

    Returns
    -------
    MonteCarloResult

    Notes
    -----
    See the module docstring for the processes. Percentiles use numpy's linear method.

    Examples
    --------
    With no volatility every path is the deterministic scenario:

    >>> from aicapex.engine.presets import get_preset
    >>> b = CompanyBase("X", 2025, revenue=1000, ocf=290, capex=200, da=100, ppe_net=500,
    ...                 cash=100, debt=200, interest=10)
    >>> r = monte_carlo(b, get_preset("bonds"), ScenarioInputs(years=2, revenue_growth=0.1,
    ...                 capex_growth=0.5), n_paths=4, ocf_growth_sd=0, capex_overrun_sd=0)
    >>> r.bands[["fcf_p5", "fcf_p95"]].round(1).to_numpy().tolist()
    [[30.0, 30.0], [-87.0, -87.0]]
    """
    inputs = inputs or ScenarioInputs()
    structure.validate()
    if isinstance(n_paths, bool) or int(n_paths) != n_paths or n_paths < 1:
        raise ArgumentError(f"n_paths must be a whole number >= 1, got {n_paths!r}")
    check_number("ocf_growth_sd", ocf_growth_sd, 0, 5, "fraction per year")
    check_number("capex_overrun_sd", capex_overrun_sd, 0, 5, "fraction of plan")
    check_number("capex_overrun_mean", capex_overrun_mean, -1, 10, "fraction of plan")
    check_number("threshold", threshold, -math.inf, math.inf, "multiple of EBITDA")
    n = int(inputs.years)
    rho = check_number("correlation", correlation, -1, 1, "correlation coefficient")
    dtype = _dtype(dtype)
    simulator = _Simulator(base, structure, inputs, ocf_growth_sd, capex_overrun_mean,
                           capex_overrun_sd, dtype)
    p = int(n_paths)
    sim = {k: np.empty((n, p), dtype=dtype) for k in ("fcf", "leverage")}
    rng = make_rng(seed)
    for lo in range(0, p, CHUNK):
        hi = min(lo + CHUNK, p)
        z1, z2 = _chunk_shocks(rng, n, hi - lo, rho, dtype)
        simulator.run(z1, z2, sim, slice(lo, hi))
    fcf_q = percentiles(sim["fcf"])
    with np.errstate(invalid="ignore"):
        lev_q = percentiles(sim["leverage"])
    breach = sim["leverage"] > threshold
    p_breach = breach.mean(axis=1)
    p_cum = np.logical_or.accumulate(breach, axis=0).mean(axis=1)
    bands = pd.DataFrame(
        {
            "year": base.fiscal_year + np.arange(1, n + 1),
            "fcf_p5": fcf_q[0], "fcf_p50": fcf_q[1], "fcf_p95": fcf_q[2],
            "leverage_p5": lev_q[0], "leverage_p50": lev_q[1], "leverage_p95": lev_q[2],
            "p_breach": p_breach, "p_breach_cum": p_cum,
        },
        columns=list(BAND_COLUMNS),
    )
    return MonteCarloResult(
        bands=bands, p_breach_any=float(p_cum[-1]), n_paths=int(n_paths),
        threshold=float(threshold), seed=seed,
    )
