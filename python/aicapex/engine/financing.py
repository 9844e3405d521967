"""Financing scenario engine: project capex, OCF and the funding-gap waterfall year by year.

A scenario is three pieces of plain data (so an Inputs sheet can override any term):

- :class:`CompanyBase` — the latest reported base year (from the dataset with
  :func:`base_from_dataset`, or typed in);
- :class:`ScenarioInputs` — horizon, revenue growth, OCF margin or growth, capex growth or
  an explicit path, minimum cash, depreciation terms;
- :class:`FinancingStructure` — the terms of each waterfall step (presets in
  :mod:`aicapex.engine.presets`).

:func:`project_financing` returns one row per projected year (:data:`COLUMNS`).

Conventions (read before using the numbers)
-------------------------------------------
- **OCF is before interest.** ``ocf`` = operating cash flow *before* interest paid and before
  the scenario's lease rent: the base year adds reported interest expense (proxy for interest
  paid) back to reported OCF. Interest on all debt and the SPV lease rent are paid separately
  in the cash roll-forward. ``fcf = ocf - capex`` is therefore a pre-financing free cash flow.
  Taxes are not re-computed (no interest tax shield).
- **Timing.** Financing is drawn at year end; interest accrues on opening balances; SPV
  leases commence at the end of the year the SPV funds the asset; rent is paid in arrears.
- **Funding gap** ``= capex + interest + lease_payment + repayment - ocf``. The waterfall
  covers it in order: cash down to the minimum balance -> IG bonds -> term loans -> SPV lease
  -> private credit -> equity (the plug). A negative gap (surplus) is added to cash; debt is
  not prepaid.
- **Existing debt** stays outstanding (refinanced at maturity) at its implied rate
  ``interest_expense / total_debt``. Existing lease liabilities are held flat.
- **Bonds** are bullets repaid after ``tenor_years``; **term loans** and **private credit**
  amortize straight-line over their tenor, starting the year after the draw.
- **SPV lease (operating lease, off balance sheet).** The SPV pays for its share of capex;
  the company pays a level rent that amortizes the SPV's cost over ``amortization_years`` at
  ``lease_yield`` (renewal assumed at each term end). Only the current ``term_years`` block of
  rent is a lease liability (extensions are not reasonably certain), remeasured at each
  renewal; with level rent the ROU asset equals the liability. ``rvg_exposure`` is the part of
  the lessor's unrecovered cost outside the liability, within the guarantee period — the
  residual value guarantee's maximum call. The SPV's asset is not in the company's D&A; rent
  is an operating cost, so ``ebitda = ocf - lease_payment`` (a proxy: OCF is after tax).
- **D&A** = existing net PP&E over a remaining life (default ``ppe_net / da``) + the
  on-balance-sheet capex vintages by asset class (:mod:`aicapex.engine.depreciation`).

Identities (checked by property tests every year)::

    cash[t]       = cash[t-1] + ocf - capex_on_balance_sheet - interest - lease_payment
                    + new_debt - repayment + equity
    gross_debt[t] = gross_debt[t-1] + new_debt - repayment
    ocf + cash_used + new_debt + spv_lease + equity
                  = capex + interest + lease_payment + repayment        (sources = uses)

Money in USD millions; rates as fractions.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aicapex.engine.depreciation import (
    DepreciationTerms,
    depreciation_schedule,
    opening_base_depreciation,
)
from aicapex.errors import ArgumentError, DataError

__all__ = [
    "COLUMNS",
    "FIRST_COLUMNS",
    "BASE_FIELDS",
    "CashTerms",
    "BondTerms",
    "TermLoanTerms",
    "LeaseTerms",
    "PrivateCreditTerms",
    "FinancingStructure",
    "CompanyBase",
    "ScenarioInputs",
    "base_from_dataset",
    "project_operations",
    "project_financing",
    "lease_factors",
    "apply_overrides",
    "compare_scenarios",
    "grid_2d",
    "sensitivity_grid",
]

#: The per-year output columns; the first 13 are the CLI's fixed leading columns.
FIRST_COLUMNS = (
    "year", "capex", "ocf", "fcf", "new_debt", "interest", "gross_debt", "cash", "net_debt",
    "lease_liability", "da", "da_to_revenue", "net_debt_to_ebitda",
)
COLUMNS = FIRST_COLUMNS + (
    "revenue", "ebitda", "operating_margin", "funding_gap", "cash_used", "bonds",
    "term_loans", "spv_lease", "private_credit", "equity", "repayment", "lease_payment",
    "capex_on_balance_sheet", "rou_asset", "rvg_exposure", "existing_lease_liabilities",
    "debt_plus_leases_to_ebitda", "interest_coverage", "capex_to_ocf",
)

MAX_YEARS = 30


# -- validation helpers -------------------------------------------------------------------------
def _check(name: str, value: float, lo: float, hi: float, unit: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be a number ({unit}), got {value!r}") from None
    if not (lo <= v <= hi):
        raise ArgumentError(f"{name} = {value} is out of range; expected {unit} in [{lo}, {hi}]")
    return v


def _check_int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or float(value) != int(value):
        raise ArgumentError(f"{name} must be a whole number of years, got {value!r}")
    v = int(value)
    if not (lo <= v <= hi):
        raise ArgumentError(f"{name} = {v} is out of range; expected years in [{lo}, {hi}]")
    return v


# -- financing terms (plain data) ---------------------------------------------------------------
@dataclass(frozen=True)
class CashTerms:
    """Step 1: spend cash down to a minimum balance.

    ``keep_share`` of the opening cash is the minimum balance unless
    :attr:`ScenarioInputs.min_cash` gives one in USD m (1.0 = keep today's cash pile and spend
    only cash generated during the horizon; 0.0 = spend it all).
    """

    keep_share: float = 1.0


@dataclass(frozen=True)
class BondTerms:
    """Step 2: investment-grade bonds, bullet. Per-year cap ``min(max_per_year,
    capex_share * capex)``; ``coupon`` fixed; repaid at par after ``tenor_years``."""

    max_per_year: float = 0.0
    capex_share: float = 1.0
    coupon: float = 0.05
    tenor_years: int = 10


@dataclass(frozen=True)
class TermLoanTerms:
    """Step 3: bank term loans, straight-line amortizing over ``tenor_years``."""

    max_per_year: float = 0.0
    rate: float = 0.055
    tenor_years: int = 5


@dataclass(frozen=True)
class LeaseTerms:
    """Step 4: off-balance-sheet SPV/JV lease (operating lease). Up to ``capex_share`` of the
    year's capex is paid by the SPV; see the module notes for rent, liability and RVG."""

    capex_share: float = 0.0
    lease_yield: float = 0.066
    term_years: int = 4
    amortization_years: int = 24
    rvg_years: int = 16
    jv_stake: float = 0.20


@dataclass(frozen=True)
class PrivateCreditTerms:
    """Step 5: GPU-backed private credit (delayed-draw term loans), floating at
    ``base_rate + spread`` plus annualized fees, straight-line amortizing over the tenor."""

    max_per_year: float = 0.0
    base_rate: float = 0.043
    spread: float = 0.06
    fee_rate: float = 0.01
    tenor_years: int = 5

    @property
    def effective_rate(self) -> float:
        return self.base_rate + self.spread + self.fee_rate


@dataclass(frozen=True)
class FinancingStructure:
    """All waterfall terms. Step 6, equity, is the unlimited plug and has no terms."""

    name: str = "custom"
    cash: CashTerms = field(default_factory=CashTerms)
    bonds: BondTerms = field(default_factory=BondTerms)
    term_loans: TermLoanTerms = field(default_factory=TermLoanTerms)
    lease: LeaseTerms = field(default_factory=LeaseTerms)
    private_credit: PrivateCreditTerms = field(default_factory=PrivateCreditTerms)
    description: str = ""

    def validate(self) -> FinancingStructure:
        inf = math.inf
        _check("cash.keep_share", self.cash.keep_share, 0, 1, "fraction of opening cash")
        b, t, le, pc = self.bonds, self.term_loans, self.lease, self.private_credit
        _check("bonds.max_per_year", b.max_per_year, 0, inf, "USD m")
        _check("bonds.capex_share", b.capex_share, 0, inf, "fraction of capex")
        _check("bonds.coupon", b.coupon, 0, 1, "fraction")
        _check_int("bonds.tenor_years", b.tenor_years, 1, 100)
        _check("term_loans.max_per_year", t.max_per_year, 0, inf, "USD m")
        _check("term_loans.rate", t.rate, 0, 1, "fraction")
        _check_int("term_loans.tenor_years", t.tenor_years, 1, 100)
        _check("lease.capex_share", le.capex_share, 0, 1, "fraction of capex")
        _check("lease.lease_yield", le.lease_yield, 0, 1, "fraction")
        _check_int("lease.term_years", le.term_years, 1, 100)
        _check_int("lease.amortization_years", le.amortization_years, 1, 100)
        _check_int("lease.rvg_years", le.rvg_years, 0, 100)
        _check("lease.jv_stake", le.jv_stake, 0, 1, "fraction")
        _check("private_credit.max_per_year", pc.max_per_year, 0, inf, "USD m")
        _check("private_credit.base_rate", pc.base_rate, -0.05, 1, "fraction")
        _check("private_credit.spread", pc.spread, 0, 1, "fraction")
        _check("private_credit.fee_rate", pc.fee_rate, 0, 1, "fraction")
        _check_int("private_credit.tenor_years", pc.tenor_years, 1, 100)
        return self


# -- the base year ------------------------------------------------------------------------------
#: CompanyBase attribute -> dataset field it is read from.
BASE_FIELDS: dict[str, str] = {
    "revenue": "revenue",
    "ocf": "ocf",
    "capex": "capex",
    "da": "da_cashflow",
    "ppe_net": "ppe_net",
    "cash": "cash_and_marketable_securities",
    "debt": "total_debt",
    "interest": "interest_expense",
    "op_lease_liabilities": "op_lease_liabilities_total",
    "fin_lease_liabilities": "fin_lease_liabilities_total",
}


@dataclass(frozen=True)
class CompanyBase:
    """The reported base year (USD m). ``ocf`` is as reported (after interest paid);
    ``revenue_growth`` / ``capex_growth`` are the latest year-on-year growth rates (used as
    defaults by :class:`ScenarioInputs`; NaN when not known)."""

    ticker: str
    fiscal_year: int
    revenue: float
    ocf: float
    capex: float
    da: float
    ppe_net: float
    cash: float
    debt: float
    interest: float
    op_lease_liabilities: float = 0.0
    fin_lease_liabilities: float = 0.0
    revenue_growth: float = math.nan
    capex_growth: float = math.nan

    @property
    def lease_liabilities(self) -> float:
        return self.op_lease_liabilities + self.fin_lease_liabilities

    @property
    def debt_rate(self) -> float:
        """Implied cost of existing debt: ``interest / debt`` (0 without debt).

        Raises :class:`ArgumentError` above 100%: the two figures do not belong together.
        """
        if self.debt <= 0:
            return 0.0
        rate = self.interest / self.debt
        if not rate <= 1.0:
            raise ArgumentError(
                f"{self.ticker}: interest {self.interest} on debt {self.debt} implies a "
                f"cost of debt of {rate:.3g} (> 100%); check interest_expense and total_debt"
            )
        return rate


def base_from_dataset(
    ds: Any, ticker: str, overrides: Mapping[str, float] | None = None
) -> CompanyBase:
    """The latest reported base year of ``ticker`` from a dataset (``load_dataset()``).

    The base year is the latest fiscal year with reported revenue. Every figure comes from
    that same year (never an older one, never filled in): a missing figure raises
    :class:`DataError` naming ticker, year and field unless ``overrides`` supplies it.
    ``overrides`` keys: dataset field names (see :data:`BASE_FIELDS`), ``fiscal_year``,
    ``revenue_growth`` and ``capex_growth`` (fractions). Growth defaults come from the prior
    year's revenue and capex; when those are missing the growth is NaN and a projection
    that needs it raises.
    """
    overrides = dict(overrides or {})
    ticker = ds.check_ticker(ticker) if hasattr(ds, "check_ticker") else str(ticker).upper()
    known = set(BASE_FIELDS.values()) | {"fiscal_year", "revenue_growth", "capex_growth"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ArgumentError(
            f"unknown base override(s) {', '.join(unknown)}; use {', '.join(sorted(known))}"
        )
    wide = ds.wide(ticker)
    if "fiscal_year" in overrides:
        year = int(overrides["fiscal_year"])
    else:
        year, _ = ds.latest(ticker, "revenue")
    values: dict[str, float] = {}
    for attr, fld in BASE_FIELDS.items():
        if fld in overrides:
            values[attr] = float(overrides[fld])
            continue
        v = wide.at[year, fld] if (year in wide.index and fld in wide.columns) else np.nan
        if not np.isfinite(v):
            raise DataError(
                f"{ticker}: {fld} is missing for FY{year} (the scenario base year); "
                f"supply it as an override ({fld}=VALUE; CLI: --set {fld}=VALUE)"
            )
        values[attr] = float(v)

    def prior_growth(fld: str) -> float:
        if year - 1 in wide.index and fld in wide.columns:
            prev = wide.at[year - 1, fld]
            if np.isfinite(prev) and prev > 0:
                return values[[a for a, f in BASE_FIELDS.items() if f == fld][0]] / prev - 1.0
        return math.nan

    return CompanyBase(
        ticker=ticker,
        fiscal_year=year,
        revenue_growth=float(overrides.get("revenue_growth", prior_growth("revenue"))),
        capex_growth=float(overrides.get("capex_growth", prior_growth("capex"))),
        **values,
    )


# -- scenario inputs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioInputs:
    """Projection inputs. ``None`` means the default stated per field:

    - ``revenue_growth``: the base's latest year-on-year growth;
    - ``ocf_margin`` (pre-interest OCF / revenue) or ``ocf_growth`` (not both): default holds
      the base-year pre-interest margin ``(ocf + interest) / revenue``;
    - ``capex_path`` (one value per projected year) or ``capex_growth``: default the base's
      latest year-on-year capex growth;
    - ``min_cash`` (USD m): default ``cash.keep_share * opening cash`` from the structure;
    - ``opening_life``: remaining life of existing net PP&E, default ``ppe_net / da``.
    """

    years: int = 5
    revenue_growth: float | None = None
    ocf_margin: float | None = None
    ocf_growth: float | None = None
    capex_growth: float | None = None
    capex_path: tuple[float, ...] | None = None
    min_cash: float | None = None
    opening_life: float | None = None
    depreciation: DepreciationTerms = field(default_factory=DepreciationTerms)


def _growth(name: str, given: float | None, default: float, ticker: str) -> float:
    g = default if given is None else given
    if g is None or not np.isfinite(g):
        raise DataError(
            f"{ticker}: no default {name} (prior-year figure missing); pass {name} explicitly"
        )
    return _check(name, g, -0.99, 10.0, "fraction per year")


def project_operations(base: CompanyBase, inputs: ScenarioInputs) -> dict[str, np.ndarray]:
    """Revenue, pre-interest OCF and capex for each projected year (length ``inputs.years``).

    Notes
    -----
    ``revenue[t] = revenue0 * (1 + g)^t``; ``ocf[t] = margin * revenue[t]`` or
    ``(ocf0 + interest0) * (1 + g_ocf)^t``; ``capex[t] = capex0 * (1 + g_capex)^t`` or the path.

    Examples
    --------
    >>> b = CompanyBase("X", 2025, revenue=1000, ocf=290, capex=200, da=100, ppe_net=500,
    ...                 cash=100, debt=200, interest=10)
    >>> p = project_operations(b, ScenarioInputs(years=2, revenue_growth=0.1, capex_growth=0.5))
    >>> [p[k].round(1).tolist() for k in ("revenue", "ocf", "capex")]
    [[1100.0, 1210.0], [330.0, 363.0], [300.0, 450.0]]
    """
    n = _check_int("years", inputs.years, 1, MAX_YEARS)
    t = np.arange(1, n + 1, dtype=float)
    g_rev = _growth("revenue_growth", inputs.revenue_growth, base.revenue_growth, base.ticker)
    revenue = base.revenue * (1.0 + g_rev) ** t
    ocf0 = base.ocf + base.interest
    if inputs.ocf_margin is not None and inputs.ocf_growth is not None:
        raise ArgumentError("give ocf_margin or ocf_growth, not both")
    if inputs.ocf_growth is not None:
        ocf = ocf0 * (1.0 + _check("ocf_growth", inputs.ocf_growth, -0.99, 10, "fraction")) ** t
    else:
        if inputs.ocf_margin is None:
            if base.revenue <= 0:
                raise ArgumentError(f"revenue must be > 0 for an OCF margin, got {base.revenue}")
            margin = ocf0 / base.revenue
        else:
            margin = _check("ocf_margin", inputs.ocf_margin, -1, 1, "fraction of revenue")
        ocf = margin * revenue
    if inputs.capex_path is not None:
        if inputs.capex_growth is not None:
            raise ArgumentError("give capex_path or capex_growth, not both")
        path = np.asarray(inputs.capex_path, dtype=float)
        if path.ndim != 1 or path.size < n:
            raise ArgumentError(f"capex_path needs {n} yearly values (USD m), got {path.size}")
        capex = path[:n].copy()
        if not np.all(np.isfinite(capex)) or (capex < 0).any():
            raise ArgumentError("capex_path values must be finite and >= 0 (USD m)")
    else:
        g_cap = _growth("capex_growth", inputs.capex_growth, base.capex_growth, base.ticker)
        capex = base.capex * (1.0 + g_cap) ** t
    return {"revenue": revenue, "ocf": ocf, "capex": capex}


# -- SPV lease factors ----------------------------------------------------------------------
def _annuity(y: float, n: np.ndarray) -> np.ndarray:
    """Present value of 1 a year for ``n`` years at ``y`` (the limit ``n`` as y -> 0)."""
    n = np.asarray(n, dtype=float)
    return n if abs(y) < 1e-12 else -np.expm1(-n * np.log1p(y)) / y


def lease_factors(terms: LeaseTerms, n_ages: int) -> dict[str, np.ndarray | float]:
    """Per unit of SPV cost: level rent, and lease liability and RVG exposure by age.

    Returns
    -------
    dict
        ``rent`` (float, paid at ages 1..A), ``liability`` and ``rvg`` (arrays over ages
        0..n_ages-1, age 0 = the end of the funding year).

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


def _age_matrix(factor: np.ndarray, n: int) -> np.ndarray:
    """``M[t, v] = factor[t - v]`` for t >= v, else 0 (a lower-triangular Toeplitz matrix)."""
    age = np.subtract.outer(np.arange(n), np.arange(n))
    return np.where(age >= 0, factor[np.clip(age, 0, n - 1)], 0.0)


# -- the waterfall core (vectorized over paths) --------------------------------------------------
#: Paths per chunk: small enough for the chunk's working set to stay in the L2 cache.
CHUNK = 8192


def _waterfall(
    ocf: np.ndarray,
    capex: np.ndarray,
    *,
    cash0: float,
    min_cash: float,
    debt0: float,
    rate0: float,
    s: FinancingStructure,
    full: bool = True,
) -> dict[str, np.ndarray]:
    """Run the waterfall on arrays of shape (years, paths).

    Paths are independent: they are processed in cache-sized chunks, and within a chunk the
    only Python loop is over years (every operation is vectorized across the chunk's paths).
    """
    n, p = ocf.shape
    names = ["cash", "gross_debt", "lease_payment"]
    if full:
        names += ["interest", "repayment", "funding_gap", "cash_used", "equity",
                  "bonds", "term_loans", "spv_lease", "private_credit"]
    out = {k: np.empty((n, p)) for k in names}
    for lo in range(0, p, CHUNK):
        sl = slice(lo, min(lo + CHUNK, p))
        _waterfall_chunk(
            ocf[:, sl], capex[:, sl], {k: v[:, sl] for k, v in out.items()},
            cash0=cash0, min_cash=min_cash, debt0=debt0, rate0=rate0, s=s, full=full,
        )
    return out


def _waterfall_chunk(
    ocf: np.ndarray,
    capex: np.ndarray,
    out: dict[str, np.ndarray],
    *,
    cash0: float,
    min_cash: float,
    debt0: float,
    rate0: float,
    s: FinancingStructure,
    full: bool,
    scratch: dict[str, np.ndarray] | None = None,
) -> None:
    """One chunk of paths: arrays (years, paths); writes the rows of ``out`` in place.

    Written for speed (in-place numpy operations, nothing computed that is not needed): the
    funding gap accumulates interest, rent and repayments directly; ``interest`` and
    ``repayment`` are tracked separately only when ``full``.
    """
    n, p = ocf.shape
    b, tl, le, pc = s.bonds, s.term_loans, s.lease, s.private_credit
    use_b = b.max_per_year > 0 and b.capex_share > 0
    use_tl = tl.max_per_year > 0
    use_le = le.capex_share > 0
    use_pc = pc.max_per_year > 0
    use_debt = use_b or use_tl or use_pc
    later = use_debt or use_le or full  # anything after the cash step?
    pc_rate = pc.effective_rate
    rent_f = lease_factors(le, 1)["rent"] if use_le else 0.0
    T_b, T_tl, T_pc, A = b.tenor_years, tl.tenor_years, pc.tenor_years, le.amortization_years
    b_cap = b.max_per_year if math.isfinite(b.max_per_year) else None

    scratch = {} if scratch is None else scratch
    dtype = ocf.dtype  # float64, or float32 for a fast Monte Carlo

    def buf(name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A work array, reused across chunks of the same shape (saves page faults)."""
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
    if not use_le:
        out["lease_payment"][...] = 0.0
    if not use_debt:
        out["gross_debt"][...] = debt0
    cash = np.full(p, float(cash0), dtype=dtype)
    bal_b, bal_tl, bal_pc, win_tl, win_pc, win_le = (
        buf(k, (p,)) for k in ("bal_b", "bal_tl", "bal_pc", "win_tl", "win_pc", "win_le")
    )  # balances and rolling sums of draws
    for a in (bal_b, bal_tl, bal_pc, win_tl, win_pc, win_le):
        a.fill(0.0)
    base_interest = rate0 * debt0
    gap_buf, x_buf, r, tmp = (buf(k, (p,)) for k in ("gap", "x", "r", "tmp"))
    interest = repay = tmp  # placeholders when not ``full``
    for t in range(n):
        cap = capex[t]
        gap = out["funding_gap"][t] if full else gap_buf
        np.subtract(cap, ocf[t], out=gap)
        if base_interest:
            gap += base_interest
        if full:
            interest = out["interest"][t]
            repay = out["repayment"][t]
            interest.fill(base_interest)
            repay.fill(0.0)
        # scheduled interest (on opening balances) and repayments of earlier draws
        if use_b:
            np.multiply(bal_b, b.coupon, out=tmp)
            gap += tmp
            if full:
                interest += tmp
            if t >= T_b:
                due = d_b[t - T_b]
                gap += due
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
            gap += tmp
            if full:
                interest += tmp
            if t >= 1:
                win += d[t - 1]
                if t - 1 >= T:
                    win -= d[t - 1 - T]
                np.multiply(win, 1.0 / T, out=tmp)
                gap += tmp
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
            gap += rent
        # step 1: cash down to the minimum balance (a surplus, gap < 0, goes to cash)
        x = out["cash_used"][t] if full else x_buf
        np.subtract(cash, min_cash, out=x)
        np.maximum(x, 0.0, out=x)
        np.minimum(gap, x, out=x)
        row = out["cash"][t]
        np.subtract(cash, x, out=row)
        cash = row
        if not later:
            continue
        np.subtract(gap, x, out=r)
        # steps 2-5, each capped by its own terms; step 6 (equity) takes the rest
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
        if use_debt:
            debt = out["gross_debt"][t]
            np.add(bal_b, bal_tl, out=debt)
            debt += bal_pc
            debt += debt0
        if full:
            out["equity"][t] = r


def _min_cash(base: CompanyBase, inputs: ScenarioInputs, s: FinancingStructure) -> float:
    if inputs.min_cash is not None:
        return _check("min_cash", inputs.min_cash, 0, math.inf, "USD m")
    return s.cash.keep_share * max(base.cash, 0.0)


def _opening_life(base: CompanyBase, inputs: ScenarioInputs) -> float:
    if inputs.opening_life is not None:
        return _check("opening_life", inputs.opening_life, 1e-9, 100, "years")
    if base.da <= 0:
        raise ArgumentError(f"{base.ticker}: da = {base.da}; pass opening_life (years)")
    # any life <= 1 year depreciates the whole base in year one; guard float underflow
    return max(base.ppe_net / base.da, 1e-9)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b))


def project_financing(
    base: CompanyBase,
    structure: FinancingStructure,
    inputs: ScenarioInputs | None = None,
) -> pd.DataFrame:
    """Project one scenario: one row per year with the columns of :data:`COLUMNS`.

    Parameters
    ----------
    base : CompanyBase
        Reported base year (``base_from_dataset`` or typed in).
    structure : FinancingStructure
        Waterfall terms (a preset from :mod:`aicapex.engine.presets` or custom).
    inputs : ScenarioInputs, optional
        Horizon and operating assumptions (defaults: see :class:`ScenarioInputs`).

    Returns
    -------
    DataFrame
        ``year`` is the fiscal year (base year + 1, ...); money in USD m; ratios as fractions
        or multiples (``*_to_ebitda``, ``interest_coverage``); NaN for a zero denominator.

    Notes
    -----
    See the module docstring for the conventions and the identities, e.g.
    ``cash[t] = cash[t-1] + ocf - capex_on_balance_sheet - interest - lease_payment
    + new_debt - repayment + equity``.

    Examples
    --------
    A base with 1,000 revenue, OCF 290 + interest 10 (pre-interest margin 30%) and capex
    growing 50% a year; no debt capacity, so once cash above 100 is used up equity fills the
    gap. Year 1: OCF 330, capex 300, interest 10: surplus 20 -> cash 120. Year 2: OCF 363,
    capex 450, interest 10: gap 97, cash gives 20, equity 77.

    >>> from aicapex.engine.presets import get_preset
    >>> b = CompanyBase("X", 2025, revenue=1000, ocf=290, capex=200, da=100, ppe_net=500,
    ...                 cash=100, debt=200, interest=10)
    >>> s = get_preset("all-cash")
    >>> s = dataclasses.replace(s, cash=CashTerms(keep_share=1.0))
    >>> f = project_financing(b, s, ScenarioInputs(years=2, revenue_growth=0.1,
    ...                                             capex_growth=0.5))
    >>> f[["year", "funding_gap", "cash_used", "equity", "cash"]].round(1).to_numpy().tolist()
    [[2026.0, -20.0, -20.0, 0.0, 120.0], [2027.0, 97.0, 20.0, 77.0, 100.0]]
    """
    inputs = inputs or ScenarioInputs()
    structure.validate()
    ops = project_operations(base, inputs)
    n = inputs.years
    ocf, capex, revenue = ops["ocf"], ops["capex"], ops["revenue"]
    res = _waterfall(
        ocf[:, None], capex[:, None],
        cash0=base.cash, min_cash=_min_cash(base, inputs, structure),
        debt0=base.debt, rate0=base.debt_rate, s=structure, full=True,
    )
    col = {k: v[:, 0] for k, v in res.items()}
    spv = col["spv_lease"]
    capex_bs = capex - spv
    dep = inputs.depreciation
    da = depreciation_schedule(capex_bs, dep.lives, dep.split, convention=dep.convention).sum(-1)
    if base.ppe_net:
        da = da + opening_base_depreciation(base.ppe_net, _opening_life(base, inputs), n)
    lf = lease_factors(structure.lease, n)
    lease_liability = _age_matrix(lf["liability"], n) @ spv
    rvg = _age_matrix(lf["rvg"], n) @ spv
    new_debt = col["bonds"] + col["term_loans"] + col["private_credit"]
    ebitda = ocf - col["lease_payment"]
    net_debt = col["gross_debt"] - col["cash"]
    existing_leases = np.full(n, base.lease_liabilities)
    data = {
        "year": base.fiscal_year + np.arange(1, n + 1),
        "capex": capex,
        "ocf": ocf,
        "fcf": ocf - capex,
        "new_debt": new_debt,
        "interest": col["interest"],
        "gross_debt": col["gross_debt"],
        "cash": col["cash"],
        "net_debt": net_debt,
        "lease_liability": lease_liability,
        "da": da,
        "da_to_revenue": _div(da, revenue),
        "net_debt_to_ebitda": _div(net_debt, ebitda),
        "revenue": revenue,
        "ebitda": ebitda,
        "operating_margin": _div(ebitda - da, revenue),
        "funding_gap": col["funding_gap"],
        "cash_used": col["cash_used"],
        "bonds": col["bonds"],
        "term_loans": col["term_loans"],
        "spv_lease": spv,
        "private_credit": col["private_credit"],
        "equity": col["equity"],
        "repayment": col["repayment"],
        "lease_payment": col["lease_payment"],
        "capex_on_balance_sheet": capex_bs,
        "rou_asset": lease_liability.copy(),
        "rvg_exposure": rvg,
        "existing_lease_liabilities": existing_leases,
        "debt_plus_leases_to_ebitda": _div(
            col["gross_debt"] + existing_leases + lease_liability, ebitda
        ),
        "interest_coverage": _div(ebitda - da, col["interest"]),
        "capex_to_ocf": _div(capex, ocf),
    }
    return pd.DataFrame(data, columns=list(COLUMNS))


# -- overrides by dotted path (for an Inputs sheet) ---------------------------------------------
def _replace_path(obj: Any, path: Sequence[str], value: Any) -> Any:
    name = path[0]
    if not dataclasses.is_dataclass(obj) or name not in {f.name for f in dataclasses.fields(obj)}:
        raise ArgumentError(f"unknown parameter {name!r} in {type(obj).__name__}")
    if len(path) == 1:
        return dataclasses.replace(obj, **{name: value})
    return dataclasses.replace(obj, **{name: _replace_path(getattr(obj, name), path[1:], value)})


def apply_overrides(
    structure: FinancingStructure,
    inputs: ScenarioInputs,
    overrides: Mapping[str, Any],
    base: CompanyBase | None = None,
) -> tuple[FinancingStructure, ScenarioInputs, CompanyBase | None]:
    """Override terms by dotted name, e.g. ``{"bonds.coupon": 0.05,
    "inputs.capex_growth": 0.3, "depreciation.server_life": 5.5, "base.cash": 0}``.

    Paths start with a structure field (``cash``, ``bonds``, ``term_loans``, ``lease``,
    ``private_credit``), ``inputs``, ``depreciation`` (short for ``inputs.depreciation``) or
    ``base``. Unknown names raise :class:`ArgumentError`.

    Examples
    --------
    >>> s, i, _ = apply_overrides(FinancingStructure(), ScenarioInputs(),
    ...                           {"bonds.coupon": 0.07, "depreciation.server_life": 5.5})
    >>> s.bonds.coupon, i.depreciation.server_life
    (0.07, 5.5)
    """
    for key, value in overrides.items():
        parts = str(key).strip().split(".")
        head = parts[0]
        if head == "inputs":
            inputs = _replace_path(inputs, parts[1:], value)
        elif head == "depreciation":
            inputs = _replace_path(inputs, ["depreciation", *parts[1:]], value)
        elif head == "base":
            if base is None:
                raise ArgumentError(f"{key}: no base to override")
            base = _replace_path(base, parts[1:], value)
        else:
            if len(parts) < 2:
                raise ArgumentError(f"unknown parameter {key!r}; use e.g. 'bonds.coupon'")
            structure = _replace_path(structure, parts, value)
    return structure, inputs, base


def _resolve(preset: str | FinancingStructure) -> FinancingStructure:
    if isinstance(preset, FinancingStructure):
        return preset
    from aicapex.engine.presets import get_preset

    return get_preset(preset)


def _pick(frame: pd.DataFrame, metric: str, year: int | str | None) -> float:
    if metric not in frame.columns:
        raise ArgumentError(f"unknown metric {metric!r}; use one of {', '.join(COLUMNS)}")
    col = frame[metric]
    if year is None or year == "last":
        return float(col.iloc[-1])
    if year == "peak":
        return float(col.max())
    if year == "min":
        return float(col.min())
    hit = frame.index[frame["year"] == int(year)]
    if len(hit) == 0:
        raise ArgumentError(
            f"year {year} is not projected; use {frame['year'].iloc[0]}..{frame['year'].iloc[-1]}"
            " or 'last'/'peak'/'min'"
        )
    return float(col.loc[hit[0]])


DEFAULT_COMPARE_METRICS = (
    "capex", "fcf", "new_debt", "equity", "gross_debt", "cash", "net_debt", "lease_liability",
    "interest", "da_to_revenue", "operating_margin", "net_debt_to_ebitda",
    "debt_plus_leases_to_ebitda", "interest_coverage",
)


def compare_scenarios(
    base: CompanyBase,
    inputs: ScenarioInputs | None = None,
    presets: Sequence[str | FinancingStructure] | None = None,
    metrics: Sequence[str] | None = None,
    year: int | str | None = None,
) -> pd.DataFrame:
    """Presets side by side: one row per metric, one column per preset, at one year.

    ``year``: a projected fiscal year, ``None``/``"last"`` (final year), ``"peak"`` (max over
    the horizon) or ``"min"``. Default presets: all five; default metrics
    :data:`DEFAULT_COMPARE_METRICS`.
    """
    from aicapex.engine.presets import PRESET_NAMES

    inputs = inputs or ScenarioInputs()
    structures = [_resolve(p) for p in (presets or PRESET_NAMES)]
    metrics = list(metrics or DEFAULT_COMPARE_METRICS)
    table = {}
    for s in structures:
        frame = project_financing(base, s, inputs)
        table[s.name] = [_pick(frame, m, year) for m in metrics]
    out = pd.DataFrame(table, index=pd.Index(metrics, name="metric"))
    return out


def grid_2d(
    fn: Callable[[Any, Any], float],
    row_values: Sequence[Any],
    col_values: Sequence[Any],
    *,
    row_name: str = "row",
    col_name: str = "col",
) -> pd.DataFrame:
    """Generic 2-D grid: ``out.loc[r, c] = fn(r, c)`` for every pair.

    Examples
    --------
    >>> grid_2d(lambda r, c: r * c, [1, 2], [10, 20]).to_numpy().tolist()
    [[10.0, 20.0], [20.0, 40.0]]
    """
    data = np.array([[float(fn(r, c)) for c in col_values] for r in row_values], dtype=float)
    return pd.DataFrame(
        data,
        index=pd.Index(list(row_values), name=row_name),
        columns=pd.Index(list(col_values), name=col_name),
    )


def sensitivity_grid(
    base: CompanyBase,
    structure: str | FinancingStructure,
    inputs: ScenarioInputs | None,
    row_param: str,
    row_values: Sequence[float],
    col_param: str,
    col_values: Sequence[float],
    metric: str = "net_debt_to_ebitda",
    year: int | str | None = "peak",
) -> pd.DataFrame:
    """Metric of a scenario over a grid of two parameters (dotted names, see
    :func:`apply_overrides`).

    Examples: ``row_param="bonds.capex_share"`` (debt share of capex) × ``col_param=
    "bonds.coupon"`` -> peak ``net_debt_to_ebitda``; ``"depreciation.server_life"`` ×
    ``"inputs.capex_growth"`` -> ``da_to_revenue`` at the last year.
    """
    s0 = _resolve(structure)
    i0 = inputs or ScenarioInputs()

    def fn(r: float, c: float) -> float:
        s, i, b = apply_overrides(s0, i0, {row_param: r, col_param: c}, base)
        return _pick(project_financing(b, s, i), metric, year)

    return grid_2d(fn, row_values, col_values, row_name=row_param, col_name=col_param)
