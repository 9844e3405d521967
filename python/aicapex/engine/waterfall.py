"""The funding waterfall kernel, vectorized over paths: one deterministic scenario is one path,
a Monte Carlo run is many (:mod:`aicapex.engine.financing` and
:mod:`aicapex.engine.montecarlo` both call :func:`waterfall_chunk`).

Each year, on arrays of shape (years, paths)::

    funding_need = capex + interest + lease_payment + repayment + other_uses - ocf
    cash_used    = min(funding_need, max(cash - min_cash, 0))   # a surplus (< 0) adds to cash
    then, each capped by its terms: bonds, term_loans, spv_lease, private_credit, equity
    funding_gap  = what the steps leave (>= 0): carried as a cash shortfall
    cash[t]      = cash[t-1] - cash_used - funding_gap

so ``cash`` falls below the minimum balance (and below zero) by the unfunded amount and net
debt includes it: nothing is funded for free. The gap carries no interest in the model.

Timing: financing is drawn at year end; interest accrues on opening balances (existing debt at
its implied rate, refinanced at maturity); bonds are bullets repaid after ``tenor_years``;
term loans and private credit amortize straight-line from the year after the draw; SPV rent
starts the year after the SPV funds the asset and runs ``amortization_years``.

Money in USD millions; rates as fractions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aicapex.engine.terms import FinancingStructure, LeaseTerms

__all__ = [
    "CHUNK",
    "FULL_OUTPUTS",
    "LIGHT_OUTPUTS",
    "WaterfallStart",
    "lease_factors",
    "age_matrix",
    "run_waterfall",
    "waterfall_chunk",
]

#: Paths per chunk: small enough for the chunk's working set to stay in the L2 cache.
CHUNK = 8192

#: What :func:`run_waterfall` returns with ``full=False`` (enough for net debt and EBITDA).
LIGHT_OUTPUTS = ("cash", "gross_debt", "lease_payment")
#: ... and with ``full=True``.
FULL_OUTPUTS = LIGHT_OUTPUTS + (
    "interest", "repayment", "funding_need", "cash_used", "bonds", "term_loans", "spv_lease",
    "private_credit", "equity", "funding_gap",
)


@dataclass(frozen=True)
class WaterfallStart:
    """Opening position of every path.

    Parameters
    ----------
    cash : float
        Opening cash and marketable securities, USD m.
    min_cash : float
        Minimum cash balance, USD m (the cash step spends only what is above it).
    debt : float
        Existing gross debt, USD m (held flat: refinanced at maturity).
    debt_rate : float
        Its interest rate, fraction a year.
    other_uses : tuple of float
        Uses of cash besides capex, interest, rent and repayments (buybacks + dividends), one
        value per year, USD m; empty = none.
    """

    cash: float
    min_cash: float
    debt: float
    debt_rate: float
    other_uses: tuple[float, ...] = ()


def _annuity(y: float, n: np.ndarray) -> np.ndarray:
    """Present value of 1 a year for ``n`` years at ``y`` (the limit ``n`` as y -> 0)."""
    n = np.asarray(n, dtype=float)
    return n if abs(y) < 1e-12 else -np.expm1(-n * np.log1p(y)) / y


def lease_factors(terms: LeaseTerms, n_ages: int) -> dict[str, np.ndarray | float]:
    """Per unit of SPV cost: level rent, and lease liability and RVG exposure by age.

    Parameters
    ----------
    terms : LeaseTerms
        Lease yield, term, amortization and guarantee years.
    n_ages : int
        Ages to tabulate (0 = the end of the funding year).

    Returns
    -------
    dict
        ``rent`` (float, paid at ages 1..A), ``liability`` and ``rvg`` (arrays over ages
        0..n_ages-1).

    Notes
    -----
    ``rent = y / (1 - (1+y)^-A)``; remaining payments in the current block
    ``m(a) = min(T - a mod T, A - a)``; ``liability(a) = rent * annuity(y, m(a))``;
    lessor balance ``B(a) = rent * annuity(y, A - a)``; ``rvg(a) = B(a) - liability(a)`` while
    ``a < rvg_years``.

    Examples
    --------
    Cost 1, yield 10%, 2-year term, 2-year amortization: rent 0.5762, liability 1 then 0.5238.

    >>> f = lease_factors(LeaseTerms(lease_yield=0.1, term_years=2, amortization_years=2), 3)
    >>> round(f["rent"], 4), f["liability"].round(4).tolist()
    (0.5762, [1.0, 0.5238, 0.0])
    """
    y, T, A = float(terms.lease_yield), int(terms.term_years), int(terms.amortization_years)
    rent = 1.0 / float(_annuity(y, A))
    age = np.arange(n_ages)
    live = age < A
    m = np.where(live, np.minimum(T - age % T, A - age), 0)
    liability = np.where(live, rent * _annuity(y, m), 0.0)
    balance = np.where(live, rent * _annuity(y, np.maximum(A - age, 0)), 0.0)
    rvg = np.where(age < int(terms.rvg_years), balance - liability, 0.0)
    return {"rent": rent, "liability": liability, "rvg": rvg}


def age_matrix(factor: np.ndarray, n: int) -> np.ndarray:
    """``M[t, v] = factor[t - v]`` for t >= v, else 0 (a lower-triangular Toeplitz matrix).

    Parameters
    ----------
    factor : ndarray
        A value per age (at least ``n`` ages).
    n : int
        Years.

    Examples
    --------
    >>> age_matrix(np.array([1.0, 0.5, 0.25]), 3)
    array([[1.  , 0.  , 0.  ],
           [0.5 , 1.  , 0.  ],
           [0.25, 0.5 , 1.  ]])
    """
    age = np.subtract.outer(np.arange(n), np.arange(n))
    return np.where(age >= 0, factor[np.clip(age, 0, n - 1)], 0.0)


def run_waterfall(
    ocf: np.ndarray,
    capex: np.ndarray,
    start: WaterfallStart,
    structure: FinancingStructure,
    *,
    full: bool = True,
) -> dict[str, np.ndarray]:
    """Run the waterfall on arrays of shape (years, paths).

    Parameters
    ----------
    ocf, capex : ndarray, shape (years, paths)
        Pre-interest operating cash flow and capex per year and path, USD m.
    start : WaterfallStart
        Opening cash, minimum cash, existing debt and its rate, other uses.
    structure : FinancingStructure
        The steps' terms (validated by the caller).
    full : bool
        Return every flow (:data:`FULL_OUTPUTS`) or only :data:`LIGHT_OUTPUTS`.

    Returns
    -------
    dict of ndarray, each (years, paths)

    Notes
    -----
    See the module docstring. Paths are independent: they are processed in cache-sized
    chunks, and within a chunk the only Python loop is over years.

    Examples
    --------
    One path, no debt steps: year one breaks even; in year two a need of 50 is met by the 30
    of cash above the 50 minimum, leaving a funding gap of 20 that takes cash to 30.

    >>> s = FinancingStructure()
    >>> out = run_waterfall(np.array([[100.0], [100.0]]), np.array([[100.0], [150.0]]),
    ...                     WaterfallStart(cash=80, min_cash=50, debt=0, debt_rate=0), s)
    >>> [out[k][:, 0].tolist() for k in ("funding_need", "cash_used", "funding_gap", "cash")]
    [[0.0, 50.0], [0.0, 30.0], [0.0, 20.0], [80.0, 30.0]]
    """
    n, p = ocf.shape
    names = FULL_OUTPUTS if full else LIGHT_OUTPUTS
    out = {k: np.empty((n, p)) for k in names}
    for lo in range(0, p, CHUNK):
        sl = slice(lo, min(lo + CHUNK, p))
        waterfall_chunk(ocf[:, sl], capex[:, sl], {k: v[:, sl] for k, v in out.items()},
                        start, structure, full=full)
    return out


def waterfall_chunk(
    ocf: np.ndarray,
    capex: np.ndarray,
    out: dict[str, np.ndarray],
    start: WaterfallStart,
    structure: FinancingStructure,
    *,
    full: bool,
    scratch: dict[str, np.ndarray] | None = None,
) -> None:
    """One chunk of paths: arrays (years, paths); writes the rows of ``out`` in place.

    Parameters
    ----------
    ocf, capex : ndarray, shape (years, paths)
        float64, or float32 for a fast Monte Carlo.
    out : dict of ndarray
        Preallocated (years, paths) arrays for :data:`FULL_OUTPUTS` (``full``) or
        :data:`LIGHT_OUTPUTS`.
    start, structure
        As for :func:`run_waterfall`.
    full : bool
        Whether ``out`` holds every flow.
    scratch : dict, optional
        Work arrays reused across chunks of the same shape (saves page faults).

    Notes
    -----
    Written for speed (in-place numpy operations, nothing computed that is not needed): the
    funding need accumulates interest, rent and repayments directly; ``interest`` and
    ``repayment`` are tracked separately only when ``full``.
    """
    n, p = ocf.shape
    s = structure
    b, tl, le, pc, eq = s.bonds, s.term_loans, s.lease, s.private_credit, s.equity
    use_b, use_tl, use_le, use_pc, use_eq = b.used, tl.used, le.used, pc.used, eq.used
    use_debt = use_b or use_tl or use_pc
    pc_rate = pc.effective_rate
    rent_f = lease_factors(le, 1)["rent"] if use_le else 0.0
    T_b, T_tl, T_pc, A = b.tenor_years, tl.tenor_years, pc.tenor_years, le.amortization_years
    b_cap = b.max_per_year if math.isfinite(b.max_per_year) else None
    other = np.zeros(n) if not start.other_uses else np.asarray(start.other_uses, dtype=float)
    if other.shape != (n,):
        raise ValueError(f"other_uses has {other.size} values for {n} years")

    scratch = {} if scratch is None else scratch
    dtype = ocf.dtype

    def buf(name: str, shape: tuple[int, ...]) -> np.ndarray:
        arr = scratch.get(name)
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            arr = scratch[name] = np.empty(shape, dtype=dtype)
        return arr

    def draws(name: str, used: bool) -> np.ndarray:
        if full:
            if not used:
                out[name][...] = 0.0
            return out[name]
        return buf(name, (n, p)) if used else np.empty((0, 0))  # unused: never read

    d_b, d_tl = draws("bonds", use_b), draws("term_loans", use_tl)
    d_le, d_pc = draws("spv_lease", use_le), draws("private_credit", use_pc)
    if full and not use_eq:
        out["equity"][...] = 0.0
    if not use_le:
        out["lease_payment"][...] = 0.0
    if not use_debt:
        out["gross_debt"][...] = start.debt
    cash = np.full(p, float(start.cash), dtype=dtype)
    bal_b, bal_tl, bal_pc, win_tl, win_pc, win_le = (
        buf(k, (p,)) for k in ("bal_b", "bal_tl", "bal_pc", "win_tl", "win_pc", "win_le")
    )  # balances and rolling sums of draws
    for a in (bal_b, bal_tl, bal_pc, win_tl, win_pc, win_le):
        a.fill(0.0)
    base_interest = start.debt_rate * start.debt
    min_cash = start.min_cash
    need_buf, x_buf, r_buf, tmp = (buf(k, (p,)) for k in ("need", "x", "r", "tmp"))
    interest = repay = tmp  # placeholders when not ``full``
    for t in range(n):
        cap = capex[t]
        need = out["funding_need"][t] if full else need_buf
        np.subtract(cap, ocf[t], out=need)
        fixed = base_interest + other[t]
        if fixed:
            need += fixed
        if full:
            interest = out["interest"][t]
            repay = out["repayment"][t]
            interest.fill(base_interest)
            repay.fill(0.0)
        # scheduled interest (on opening balances) and repayments of earlier draws
        if use_b:
            np.multiply(bal_b, b.coupon, out=tmp)
            need += tmp
            if full:
                interest += tmp
            if t >= T_b:
                due = d_b[t - T_b]
                need += due
                bal_b -= due
                if full:
                    repay += due
        for use, rate, bal, win, d, T in (
            (use_tl, tl.rate, bal_tl, win_tl, d_tl, T_tl),
            (use_pc, pc_rate, bal_pc, win_pc, d_pc, T_pc),
        ):
            if not use:
                continue
            np.multiply(bal, rate, out=tmp)
            need += tmp
            if full:
                interest += tmp
            if t >= 1:
                win += d[t - 1]
                if t - 1 >= T:
                    win -= d[t - 1 - T]
                np.multiply(win, 1.0 / T, out=tmp)
                need += tmp
                bal -= tmp
                if full:
                    repay += tmp
        if use_le:
            rent = out["lease_payment"][t]
            if t >= 1:
                win_le += d_le[t - 1]
                if t - 1 >= A:
                    win_le -= d_le[t - 1 - A]
            np.multiply(win_le, rent_f, out=rent)
            need += rent
        # step 1: cash above the minimum (a surplus, need < 0, goes to cash)
        x = out["cash_used"][t] if full else x_buf
        np.subtract(cash, min_cash, out=x)
        np.maximum(x, 0.0, out=x)
        np.minimum(need, x, out=x)
        row = out["cash"][t]
        np.subtract(cash, x, out=row)
        cash = row
        r = out["funding_gap"][t] if full else r_buf
        np.subtract(need, x, out=r)
        # steps 2-6, each capped by its own terms
        if use_b:
            np.multiply(cap, b.capex_share, out=tmp)
            if b_cap is not None:
                np.minimum(tmp, b_cap, out=tmp)
            np.minimum(r, tmp, out=d_b[t])
            r -= d_b[t]
            bal_b += d_b[t]
        if use_tl:
            np.minimum(r, tl.max_per_year, out=d_tl[t])
            r -= d_tl[t]
            bal_tl += d_tl[t]
        if use_le:
            np.multiply(cap, le.capex_share, out=tmp)
            np.minimum(r, tmp, out=d_le[t])
            r -= d_le[t]
        if use_pc:
            np.minimum(r, pc.max_per_year, out=d_pc[t])
            r -= d_pc[t]
            bal_pc += d_pc[t]
        if use_eq:
            e = out["equity"][t] if full else tmp
            np.minimum(r, eq.max_per_year, out=e)
            r -= e
        # the rest is unfunded: a shortfall below the minimum cash balance
        cash -= r
        if use_debt:
            debt = out["gross_debt"][t]
            np.add(bal_b, bal_tl, out=debt)
            debt += bal_pc
            debt += start.debt
