"""Financing scenario engine: project revenue, OCF and capex, then run the funding waterfall.

A scenario is three pieces of plain data (so an Inputs sheet can override any term):

- :class:`CompanyBase` — the reported base year (from the dataset with
  :func:`base_from_dataset`, or typed in);
- :class:`ScenarioInputs` — horizon, growth paths, capex path, other uses of cash, minimum
  cash, depreciation terms;
- :class:`~aicapex.engine.terms.FinancingStructure` — the terms of each waterfall step
  (presets in :mod:`aicapex.engine.presets`).

:func:`project_financing` returns one row per projected year (:data:`COLUMNS`, defined in
:data:`COLUMN_NOTES`). :mod:`aicapex.engine.scenario` builds the three from a ticker, a preset
and overrides, with guidance as the default first year: the one entry point the command line,
the CPX_ functions and the workbook use.

The base year (:mod:`aicapex.engine.base_year`) is the latest fiscal year with revenue, OCF,
capex, cash and total debt reported; other base figures may come from the year before, stated.

Default paths (each default names its source in :mod:`aicapex.engine.scenario`)
----------------------------------------------------------------------------------
- **Capex**: a guided fiscal year is set at the latest guidance midpoint on the capex basis;
  a year the user sets (``capex.2026``) is set at that value; any other year grows at
  ``g[t] = g0 + (g_lr - g0) * min((t - 1) / fade_years, 1)`` (t = 1, 2, ...), capped at
  ``growth_cap``. ``g0`` is the first year's growth (to its guided or set level) or, without
  one, the latest reported growth, both capped; ``g_lr`` is the long-run capex growth, by
  default the long-run revenue growth (capex/revenue levels off). ``inputs.capex_growth``
  replaces the whole default with one constant growth.
- **Revenue**: the same fade from the latest reported growth (capped) to the long-run revenue
  growth (default: the revenue CAGR over the five years to the base year).
- **OCF** (before interest) = the base year's pre-interest margin ``(ocf + interest) / revenue``
  times revenue, so it follows the revenue fade; or ``ocf_margin`` / ``ocf_growth``.

Conventions
-----------
- **OCF is before interest**: the base year adds reported interest expense back; interest on
  all debt and the SPV rent are paid in the waterfall. ``fcf = ocf - capex`` is a
  pre-financing free cash flow. Taxes are not re-computed (no interest tax shield).
- **Uses** = capex + interest + SPV rent + debt repayment + buybacks + dividends. Buybacks and
  dividends default to the base year's reported ``buybacks`` / ``dividends_paid`` when the data
  has them (the bundled snapshot does not: then 0, with a note).
- **Waterfall** (:mod:`aicapex.engine.waterfall`): cash above the minimum, IG bonds, term
  loans, SPV lease, private credit, equity (only where the structure allows it); what remains
  is the **funding gap**, carried as a cash shortfall (cash below the minimum, then negative),
  so net debt includes it.
- **EBITDA** here is a proxy, defined once (:func:`ebitda_proxy`): OCF before interest less SPV
  rent. OCF is after cash taxes and working capital, so it is not reported EBITDA.
  **Leverage** (:func:`leverage`) is n.m. (NaN) where the proxy is zero or negative.
- **Existing debt** stays outstanding (refinanced) at ``interest_expense / total_debt``;
  existing lease liabilities are held flat.
- **SPV lease (operating lease, off balance sheet).** The SPV pays for its share of capex;
  the company pays a level rent that amortizes the SPV's cost over ``amortization_years`` at
  ``lease_yield``. Only the current ``term_years`` block of rent is a lease liability,
  remeasured at each renewal; with level rent the ROU asset equals the liability.
  ``rvg_exposure`` is the lessor's unrecovered cost outside the liability within the guarantee
  period. The SPV's asset is not in the company's D&A.
- **D&A** = existing net PP&E over a remaining life (default ``ppe_net / da``) plus the
  on-balance-sheet capex vintages by asset class (:mod:`aicapex.engine.depreciation`).

Identities (checked by property tests every year)::

    cash[t]       = cash[t-1] + ocf - capex_on_balance_sheet - interest - lease_payment
                    - repayment - buybacks - dividends + new_debt + equity
    gross_debt[t] = gross_debt[t-1] + new_debt - repayment
    ocf + cash_used + new_debt + spv_lease + equity + funding_gap
                  = capex + interest + lease_payment + repayment + buybacks + dividends

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

from aicapex.engine.base_year import (
    BASE_FIELDS,
    CORE_FIELDS,
    MAX_FIELD_LAG,
    OPTIONAL_BASE_FIELDS,
    CompanyBase,
    base_from_dataset,
)
from aicapex.engine.depreciation import (
    DepreciationTerms,
    depreciation_schedule,
    opening_base_depreciation,
)
from aicapex.engine.terms import (
    BondTerms,
    CashTerms,
    EquityTerms,
    FinancingStructure,
    LeaseTerms,
    PrivateCreditTerms,
    TermLoanTerms,
)
from aicapex.engine.validation import as_output, check_number, check_whole
from aicapex.engine.waterfall import (
    CHUNK,
    WaterfallStart,
    age_matrix,
    lease_factors,
    run_waterfall,
)
from aicapex.errors import ArgumentError, DataError

__all__ = [
    "COLUMNS",
    "FIRST_COLUMNS",
    "COLUMN_NOTES",
    "TEXT_COLUMNS",
    "BASE_FIELDS",
    "CORE_FIELDS",
    "OPTIONAL_BASE_FIELDS",
    "MAX_FIELD_LAG",
    "MAX_YEARS",
    "CHUNK",
    "CashTerms",
    "BondTerms",
    "TermLoanTerms",
    "LeaseTerms",
    "PrivateCreditTerms",
    "EquityTerms",
    "FinancingStructure",
    "CompanyBase",
    "ScenarioInputs",
    "base_from_dataset",
    "growth_path",
    "project_operations",
    "project_financing",
    "minimum_cash",
    "other_uses",
    "ebitda_proxy",
    "leverage",
    "lease_factors",
    "apply_overrides",
    "pick",
    "pick_many",
    "grid_2d",
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
    "debt_plus_leases_to_ebitda", "interest_coverage", "capex_to_ocf", "funding_need",
    "buybacks", "dividends", "cumulative_funding_gap", "capex_growth", "revenue_growth",
    "capex_source",
)
#: The one text column: where each year's capex comes from.
TEXT_COLUMNS = frozenset({"capex_source"})

#: Every output column in words (units: USD m unless stated). The one place the columns
#: are defined: the CLI help, the CPX_ help and the workbook's notes read it.
COLUMN_NOTES: dict[str, str] = {
    "year": "fiscal year projected",
    "capex": "capex, cash purchases of property and equipment (positive = spent)",
    "ocf": "operating cash flow before interest",
    "fcf": "free cash flow before financing: ocf - capex",
    "new_debt": "bonds + term_loans + private_credit drawn this year",
    "interest": "interest paid on opening debt (existing at its implied rate + new)",
    "gross_debt": "gross debt at year end (existing + new - repaid)",
    "cash": "cash and marketable securities at year end (below the minimum by any "
            "funding gap, negative when the gap exceeds it)",
    "net_debt": "gross_debt - cash",
    "lease_liability": "SPV lease liability (off balance sheet; = ROU asset)",
    "da": "depreciation and amortization",
    "da_to_revenue": "da / revenue (fraction)",
    "net_debt_to_ebitda": "net_debt / ebitda (x); n.m. (empty) where ebitda <= 0",
    "revenue": "revenue",
    "ebitda": "EBITDA proxy: ocf before interest - SPV rent (OCF-based: after cash taxes and "
              "working capital; not reported EBITDA)",
    "operating_margin": "(ebitda - da) / revenue (fraction)",
    "funding_gap": "need left after every funding step (not funded: a cash shortfall)",
    "cash_used": "cash drawn above the minimum balance (negative = surplus kept)",
    "bonds": "IG bonds issued",
    "term_loans": "bank term loans drawn",
    "spv_lease": "capex paid by the SPV/JV (off balance sheet)",
    "private_credit": "private credit drawn",
    "equity": "new equity issued (only where the structure allows it)",
    "repayment": "debt repaid",
    "lease_payment": "SPV lease rent paid",
    "capex_on_balance_sheet": "capex - spv_lease",
    "rou_asset": "right-of-use asset of the SPV lease (= lease_liability)",
    "rvg_exposure": "residual value guarantee exposure outside the lease liability",
    "existing_lease_liabilities": "reported operating + finance lease liabilities, held flat",
    "debt_plus_leases_to_ebitda": "(gross_debt + lease liabilities) / ebitda (x); n.m. where "
                                  "ebitda <= 0",
    "interest_coverage": "(ebitda - da) / interest (x)",
    "capex_to_ocf": "capex / ocf (x)",
    "funding_need": "uses - ocf: capex + interest + rent + repayment + buybacks + dividends - "
                    "ocf (negative = surplus)",
    "buybacks": "share buybacks (a use of cash)",
    "dividends": "dividends paid (a use of cash)",
    "cumulative_funding_gap": "funding_gap summed over the years so far",
    "capex_growth": "capex growth on the year before (fraction)",
    "revenue_growth": "revenue growth on the year before (fraction)",
    "capex_source": "where the year's capex comes from: guidance (the latest guide, on the capex "
                    "basis), input (set by the user) or model (the fading growth path)",
}

MAX_YEARS = 30
# -- scenario inputs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioInputs:
    """Projection inputs. ``None`` means the default stated per field (module docstring).

    - ``years``: horizon, 1..30;
    - ``revenue_growth``: one constant growth instead of the default fade;
    - ``long_run_revenue_growth``: where the revenue fade ends (default the base's revenue
      CAGR); ``long_run_capex_growth``: where the capex fade ends (default the long-run
      revenue growth);
    - ``growth_cap``: the most a model year grows (fraction; default 0.5, a model assumption);
      ``fade_years``: years from the first growth to the long-run rate (default 4);
    - ``ocf_margin`` (pre-interest OCF / revenue) or ``ocf_growth`` (not both);
    - ``capex_growth``: one constant capex growth instead of the default path;
      ``capex_path``: capex of the first years (USD m, in order); ``capex_by_year``: capex of
      given fiscal years ``((2026, 135000.0), ...)``; ``capex_guidance``: guided capex per
      fiscal year on the capex basis (filled by :mod:`aicapex.engine.scenario`);
    - ``buybacks``, ``dividends``: USD m a year (default: the base's reported, else 0);
    - ``min_cash`` (USD m): default ``cash.keep_share * opening cash`` from the structure;
    - ``opening_life``: remaining life of existing net PP&E, default ``ppe_net / da``.
    """

    years: int = 5
    revenue_growth: float | None = None
    long_run_revenue_growth: float | None = None
    long_run_capex_growth: float | None = None
    growth_cap: float = 0.5
    fade_years: int = 4
    ocf_margin: float | None = None
    ocf_growth: float | None = None
    capex_growth: float | None = None
    capex_path: tuple[float, ...] | None = None
    capex_by_year: tuple[tuple[int, float], ...] = ()
    capex_guidance: tuple[tuple[int, float], ...] = ()
    buybacks: float | None = None
    dividends: float | None = None
    min_cash: float | None = None
    opening_life: float | None = None
    depreciation: DepreciationTerms = field(default_factory=DepreciationTerms)


def growth_path(start: float, long_run: float, years: int, fade_years: int,
                cap: float = math.inf) -> np.ndarray:
    """Growth per year fading linearly from ``start`` to ``long_run``, capped at ``cap``.

    Parameters
    ----------
    start : float
        Growth in the first year (fraction).
    long_run : float
        Growth reached after ``fade_years`` and held after (fraction).
    years : int
        Years in the path.
    fade_years : int
        Years of fade (0 = the long-run rate from the first year).
    cap : float
        No year grows faster than this (fraction).

    Returns
    -------
    ndarray, shape (years,)

    Notes
    -----
    ``g[t] = min(start + (long_run - start) * min((t - 1) / fade_years, 1), cap)``, t = 1..n.

    Examples
    --------
    >>> growth_path(0.5, 0.1, 6, 4).round(3).tolist()
    [0.5, 0.4, 0.3, 0.2, 0.1, 0.1]
    >>> growth_path(0.9, 0.1, 3, 2, cap=0.5).round(3).tolist()
    [0.5, 0.5, 0.1]
    """
    t = np.arange(years, dtype=float)
    weight = np.ones(years) if fade_years <= 0 else np.minimum(t / fade_years, 1.0)
    return np.minimum(start + (long_run - start) * weight, cap)


def _pins(base: CompanyBase, inputs: ScenarioInputs, years: np.ndarray) -> dict[int, float]:
    pins: dict[int, float] = {}
    if inputs.capex_path is not None:
        path = np.atleast_1d(np.asarray(inputs.capex_path, dtype=float))
        if path.ndim != 1 or path.size == 0:
            raise ArgumentError("capex_path needs one or more yearly values (USD m)")
        for year, value in zip(years, path, strict=False):
            pins[int(year)] = float(value)
    for year, value in inputs.capex_by_year:
        y = check_whole("capex year", year, 1900, 2200, "fiscal years")
        if y not in set(years.tolist()):
            raise ArgumentError(
                f"capex.{y}: FY{y} is not a projected year (FY{base.fiscal_year} is the base "
                f"year; the projection covers FY{years[0]}..FY{years[-1]})"
            )
        if y in pins and inputs.capex_path is not None:
            raise ArgumentError(f"capex of FY{y} is given twice (capex_path and capex.{y})")
        pins[y] = float(value)
    for y, v in pins.items():
        check_number(f"capex.{y}", v, 0, math.inf, "USD m")
    return pins


def _missing(ticker: str, problems: list[str]) -> None:
    if problems:
        raise DataError(f"{ticker}: no default for " + "; ".join(problems))


def project_operations(base: CompanyBase, inputs: ScenarioInputs) -> dict[str, np.ndarray]:
    """Revenue, pre-interest OCF and capex for each projected year (length ``inputs.years``).

    Parameters
    ----------
    base : CompanyBase
        The base year.
    inputs : ScenarioInputs
        Paths and terms; see the module docstring ("Default paths").

    Returns
    -------
    dict
        ``revenue``, ``ocf``, ``capex``, ``revenue_growth``, ``capex_growth`` (arrays, one value
        a year) and ``capex_origin`` (per year: ``"input"``, ``"guidance"`` or ``"model"``).

    Raises
    ------
    DataError
        Listing every default that cannot be formed (e.g. no prior-year revenue).

    Notes
    -----
    ``revenue[t] = revenue[t-1] * (1 + g_rev[t])``; ``ocf[t] = margin * revenue[t]`` with
    ``margin = (ocf0 + interest0) / revenue0``, or ``(ocf0 + interest0) * (1 + g_ocf)^t``;
    ``capex[t]`` = the set or guided level, else ``capex[t-1] * (1 + g_capex[t])``.

    Examples
    --------
    Constant growths as given:

    >>> b = CompanyBase("X", 2025, revenue=1000, ocf=290, capex=200, da=100, ppe_net=500,
    ...                 cash=100, debt=200, interest=10)
    >>> p = project_operations(b, ScenarioInputs(years=2, revenue_growth=0.1, capex_growth=0.5))
    >>> [p[k].round(1).tolist() for k in ("revenue", "ocf", "capex")]
    [[1100.0, 1210.0], [330.0, 363.0], [300.0, 450.0]]

    The default capex path: the first year at its guided 500 (+150%), then growth fading
    from the cap (50%) to the long-run 10% over 2 years:

    >>> i = ScenarioInputs(years=4, revenue_growth=0.1, long_run_capex_growth=0.1,
    ...                    fade_years=2, capex_guidance=((2026, 500.0),))
    >>> p = project_operations(b, i)
    >>> p["capex"].round(1).tolist(), p["capex_growth"].round(2).tolist()
    ([500.0, 650.0, 715.0, 786.5], [1.5, 0.3, 0.1, 0.1])
    """
    n = check_whole("years", inputs.years, 1, MAX_YEARS)
    years = base.fiscal_year + np.arange(1, n + 1)
    cap = check_number("growth_cap", inputs.growth_cap, 0, 10, "fraction per year")
    fade = check_whole("fade_years", inputs.fade_years, 0, MAX_YEARS)
    problems: list[str] = []

    # revenue
    if inputs.revenue_growth is not None:
        g_rev = np.full(n, check_number("revenue_growth", inputs.revenue_growth, -0.99, 10,
                                        "fraction per year"))
        long_run_rev = float(g_rev[0])
    else:
        start = base.revenue_growth
        long_run_rev = (base.revenue_cagr if inputs.long_run_revenue_growth is None else
                        check_number("long_run_revenue_growth", inputs.long_run_revenue_growth,
                                     -0.99, 10, "fraction per year"))
        if not np.isfinite(start):
            problems.append("revenue_growth (the prior year's revenue is not reported; pass "
                            "inputs.revenue_growth)")
        if not np.isfinite(long_run_rev):
            problems.append("long_run_revenue_growth (no 3-5 year revenue history; pass "
                            "inputs.long_run_revenue_growth)")
        g_rev = growth_path(min(start, cap), long_run_rev, n, fade, cap)
    # capex
    pins = _pins(base, inputs, years)
    constant = inputs.capex_growth is not None
    if constant:
        g_cap = np.full(n, check_number("capex_growth", inputs.capex_growth, -0.99, 10,
                                        "fraction per year"))
        guided: dict[int, float] = {}
    else:
        guided = {int(y): float(v) for y, v in inputs.capex_guidance}
        first = pins.get(int(years[0]), guided.get(int(years[0])))
        if first is not None and base.capex > 0:
            start = first / base.capex - 1.0
        else:
            start = base.capex_growth
            if not np.isfinite(start):
                problems.append("capex_growth (the prior year's capex is not reported; pass "
                                "inputs.capex_growth or capex.YEAR)")
        long_run_cap = (long_run_rev if inputs.long_run_capex_growth is None else
                        check_number("long_run_capex_growth", inputs.long_run_capex_growth,
                                     -0.99, 10, "fraction per year"))
        g_cap = growth_path(min(start, cap), long_run_cap, n, fade, cap)
    _missing(base.ticker, problems)

    revenue = base.revenue * np.cumprod(1.0 + g_rev)
    capex = np.empty(n)
    origin = np.empty(n, dtype=object)
    level = base.capex
    for t, year in enumerate(years.tolist()):
        if year in pins:
            level, origin[t] = pins[year], "input"
        elif year in guided:
            level, origin[t] = guided[year], "guidance"
        else:
            level, origin[t] = level * (1.0 + g_cap[t]), "model"
        capex[t] = level
    prev = np.concatenate(([base.capex], capex[:-1]))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        capex_growth = np.where(prev > 0, capex / np.where(prev > 0, prev, 1.0) - 1.0, np.nan)

    ocf0 = base.ocf + base.interest
    if inputs.ocf_margin is not None and inputs.ocf_growth is not None:
        raise ArgumentError("give ocf_margin or ocf_growth, not both")
    if inputs.ocf_growth is not None:
        g = check_number("ocf_growth", inputs.ocf_growth, -0.99, 10, "fraction")
        ocf = ocf0 * (1.0 + g) ** np.arange(1, n + 1)
    else:
        if inputs.ocf_margin is None:
            if base.revenue <= 0:
                raise ArgumentError(f"revenue must be > 0 for an OCF margin, got {base.revenue}")
            margin = ocf0 / base.revenue
        else:
            margin = check_number("ocf_margin", inputs.ocf_margin, -1, 1, "fraction of revenue")
        ocf = margin * revenue
    return {"revenue": revenue, "ocf": ocf, "capex": capex, "revenue_growth": g_rev.copy(),
            "capex_growth": capex_growth, "capex_origin": origin}


def minimum_cash(base: CompanyBase, inputs: ScenarioInputs, structure: FinancingStructure
                 ) -> float:
    """The minimum cash balance, USD m: ``inputs.min_cash`` or ``keep_share * opening cash``.

    Parameters
    ----------
    base : CompanyBase
        Its ``cash`` is the opening balance.
    inputs : ScenarioInputs
        ``min_cash`` (USD m), when given, wins.
    structure : FinancingStructure
        ``cash.keep_share`` of the opening cash otherwise.

    Returns
    -------
    float

    Examples
    --------
    >>> b = CompanyBase("X", 2025, revenue=1000, ocf=290, capex=200, da=100, ppe_net=500,
    ...                 cash=100, debt=200, interest=10)
    >>> minimum_cash(b, ScenarioInputs(), FinancingStructure(cash=CashTerms(keep_share=0.5)))
    50.0
    """
    if inputs.min_cash is not None:
        return check_number("min_cash", inputs.min_cash, 0, math.inf, "USD m")
    return structure.cash.keep_share * max(base.cash, 0.0)


def other_uses(base: CompanyBase, inputs: ScenarioInputs) -> tuple[float, float]:
    """Buybacks and dividends a year, USD m: the inputs, else the base's reported, else 0.

    Parameters
    ----------
    base : CompanyBase
        ``buybacks`` / ``dividends`` as reported (NaN when the data has none).
    inputs : ScenarioInputs
        ``buybacks`` / ``dividends`` given by the user (None = default).

    Returns
    -------
    (float, float)
        Buybacks and dividends, USD m a year (0 where neither is given nor reported).

    Examples
    --------
    >>> b = CompanyBase("X", 2025, revenue=1000, ocf=290, capex=200, da=100, ppe_net=500,
    ...                 cash=100, debt=200, interest=10)
    >>> other_uses(b, ScenarioInputs(dividends=30))
    (0.0, 30.0)
    """
    out = []
    for name in ("buybacks", "dividends"):
        given = getattr(inputs, name)
        if given is not None:
            out.append(check_number(name, given, 0, math.inf, "USD m a year"))
        else:
            reported = getattr(base, name)
            out.append(float(reported) if np.isfinite(reported) else 0.0)
    return out[0], out[1]


def _opening_life(base: CompanyBase, inputs: ScenarioInputs) -> float:
    if inputs.opening_life is not None:
        return check_number("opening_life", inputs.opening_life, 1e-9, 100, "years")
    if base.da <= 0:
        raise ArgumentError(f"{base.ticker}: da = {base.da}; pass opening_life (years)")
    # any life <= 1 year depreciates the whole base in year one; guard float underflow
    return max(base.ppe_net / base.da, 1e-9)


def ebitda_proxy(ocf: Any, lease_payment: Any, out: np.ndarray | None = None
                 ) -> float | np.ndarray:
    """The EBITDA proxy used everywhere in the scenarios: OCF before interest less SPV rent.

    Parameters
    ----------
    ocf : array_like
        Operating cash flow before interest, USD m.
    lease_payment : array_like
        SPV lease rent paid (an operating cost), USD m.
    out : ndarray, optional
        Where to write the result (e.g. ``lease_payment`` itself, in the Monte Carlo).

    Returns
    -------
    float or ndarray

    Notes
    -----
    ``ebitda = ocf_before_interest - lease_payment``. OCF is after cash taxes and working
    capital, so this is a cash proxy, not reported EBITDA (the data set has no operating
    income).

    Examples
    --------
    >>> ebitda_proxy(200.0, 10.0)
    190.0
    """
    if out is not None:
        return np.subtract(ocf, lease_payment, out=out)
    return as_output(np.subtract(ocf, lease_payment))


def leverage(debt: Any, ebitda: Any) -> float | np.ndarray:
    """Debt (or net debt) over the EBITDA proxy, n.m. (NaN) where EBITDA <= 0.

    Parameters
    ----------
    debt : array_like
        Net debt or debt plus leases, USD m.
    ebitda : array_like
        The EBITDA proxy (:func:`ebitda_proxy`), USD m.

    Returns
    -------
    float or ndarray
        A multiple; NaN where EBITDA is zero or negative (never a negative multiple with
        positive debt).

    Notes
    -----
    ``leverage = debt / ebitda`` if ``ebitda > 0``, else NaN.

    Examples
    --------
    >>> leverage([300.0, 300.0, -50.0], [100.0, -20.0, 100.0]).tolist()
    [3.0, nan, -0.5]
    """
    d, e = np.broadcast_arrays(np.asarray(debt, dtype=float), np.asarray(ebitda, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(e > 0, d / np.where(e > 0, e, 1.0), np.nan)
    return as_output(out)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
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
        or multiples (``*_to_ebitda``, ``interest_coverage``); NaN for a zero denominator and
        for leverage where the EBITDA proxy is <= 0 (n.m.).

    Notes
    -----
    See the module docstring for the conventions and the identities, e.g.
    ``cash[t] = cash[t-1] + ocf - capex_on_balance_sheet - interest - lease_payment
    - repayment - buybacks - dividends + new_debt + equity``.

    Examples
    --------
    A base with 1,000 revenue, OCF 290 + interest 10 (pre-interest margin 30%) and capex
    growing 50% a year; no external funding, so once cash above 100 is used up the rest is a
    funding gap. Year 1: OCF 330, capex 300, interest 10: surplus 20 -> cash 120. Year 2: OCF
    363, capex 450, interest 10: need 97, cash gives 20, gap 77 -> cash 100 - 77 = 23.

    >>> from aicapex.engine.presets import get_preset
    >>> b = CompanyBase("X", 2025, revenue=1000, ocf=290, capex=200, da=100, ppe_net=500,
    ...                 cash=100, debt=200, interest=10)
    >>> s = get_preset("all-cash")
    >>> s = dataclasses.replace(s, cash=CashTerms(keep_share=1.0))
    >>> f = project_financing(b, s, ScenarioInputs(years=2, revenue_growth=0.1,
    ...                                             capex_growth=0.5))
    >>> cols = ["year", "funding_need", "cash_used", "funding_gap", "cash"]
    >>> f[cols].round(1).to_numpy().tolist()
    [[2026.0, -20.0, -20.0, 0.0, 120.0], [2027.0, 97.0, 20.0, 77.0, 23.0]]
    """
    inputs = inputs or ScenarioInputs()
    structure.validate()
    ops = project_operations(base, inputs)
    n = int(inputs.years)
    ocf, capex, revenue = ops["ocf"], ops["capex"], ops["revenue"]
    buybacks, dividends = other_uses(base, inputs)
    start = WaterfallStart(
        cash=base.cash, min_cash=minimum_cash(base, inputs, structure), debt=base.debt,
        debt_rate=base.debt_rate, other_uses=(buybacks + dividends,) * n,
    )
    res = run_waterfall(ocf[:, None], capex[:, None], start, structure, full=True)
    col = {k: v[:, 0] for k, v in res.items()}
    spv = col["spv_lease"]
    capex_bs = capex - spv
    dep = inputs.depreciation
    bridge = np.asarray(base.bridge_capex, dtype=float)
    m = bridge.size
    vintages = np.concatenate((bridge, capex_bs))
    da = depreciation_schedule(vintages, dep.lives, dep.split, convention=dep.convention).sum(-1)
    if base.ppe_net:
        da = da + opening_base_depreciation(base.ppe_net, _opening_life(base, inputs), n + m)
    da = da[m:]
    lf = lease_factors(structure.lease, n)
    lease_liability = age_matrix(lf["liability"], n) @ spv
    rvg = age_matrix(lf["rvg"], n) @ spv
    new_debt = col["bonds"] + col["term_loans"] + col["private_credit"]
    ebitda = ebitda_proxy(ocf, col["lease_payment"])
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
        "net_debt_to_ebitda": leverage(net_debt, ebitda),
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
        "debt_plus_leases_to_ebitda": leverage(
            col["gross_debt"] + existing_leases + lease_liability, ebitda
        ),
        "interest_coverage": _div(ebitda - da, col["interest"]),
        "capex_to_ocf": _div(capex, ocf),
        "funding_need": col["funding_need"],
        "buybacks": np.full(n, buybacks),
        "dividends": np.full(n, dividends),
        "cumulative_funding_gap": np.cumsum(col["funding_gap"]),
        "capex_growth": ops["capex_growth"],
        "revenue_growth": ops["revenue_growth"],
        "capex_source": ops["capex_origin"],
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


def _capex_year(key: str, parts: list[str]) -> int:
    if len(parts) != 2 or not parts[1].strip().isdigit():
        raise ArgumentError(f"{key!r}: a capex override is capex.YEAR, e.g. capex.2026")
    return int(parts[1])


def apply_overrides(
    structure: FinancingStructure,
    inputs: ScenarioInputs,
    overrides: Mapping[str, Any],
    base: CompanyBase | None = None,
) -> tuple[FinancingStructure, ScenarioInputs, CompanyBase | None]:
    """Override terms by dotted name.

    Parameters
    ----------
    structure : FinancingStructure
        The preset (or custom) terms to start from.
    inputs : ScenarioInputs
        The projection inputs to start from.
    overrides : mapping
        ``{name: value}``. Names start with a structure field (``cash``, ``bonds``,
        ``term_loans``, ``lease``, ``private_credit``, ``equity``), ``inputs``,
        ``depreciation`` (short for ``inputs.depreciation``), ``base`` or ``capex`` (``capex.2026``:
        the capex of fiscal year 2026, USD m).
    base : CompanyBase, optional
        Needed for ``base.*`` names.

    Returns
    -------
    (FinancingStructure, ScenarioInputs, CompanyBase or None)

    Raises
    ------
    ArgumentError
        For an unknown name.

    Examples
    --------
    >>> s, i, _ = apply_overrides(FinancingStructure(), ScenarioInputs(),
    ...                           {"bonds.coupon": 0.07, "depreciation.server_life": 5.5,
    ...                            "capex.2026": 135000})
    >>> s.bonds.coupon, i.depreciation.server_life, i.capex_by_year
    (0.07, 5.5, ((2026, 135000.0),))
    """
    by_year: dict[int, float] = {}
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
        elif head == "capex":
            by_year[_capex_year(str(key), parts)] = check_number(str(key), value, 0, math.inf,
                                                                 "USD m")
        else:
            if len(parts) < 2:
                raise ArgumentError(f"unknown parameter {key!r}; use e.g. 'bonds.coupon'")
            structure = _replace_path(structure, parts, value)
    if by_year:
        merged = {**dict(inputs.capex_by_year), **by_year}
        inputs = dataclasses.replace(inputs, capex_by_year=tuple(sorted(merged.items())))
    return structure, inputs, base


def pick(frame: pd.DataFrame, metric: str, year: int | str | None) -> float:
    """One metric of a projection at a year.

    Parameters
    ----------
    frame : DataFrame
        A projection (:func:`project_financing`).
    metric : str
        One of :data:`COLUMNS`.
    year : int or {"last", "peak", "min"} or None
        A projected fiscal year, the final year (``"last"`` or None), the max over the horizon
        (``"peak"``; n.m. years skipped) or the min.

    Returns
    -------
    float

    Examples
    --------
    >>> f = pd.DataFrame({"year": [2026, 2027], "capex": [10.0, 30.0]})
    >>> pick(f, "capex", "peak"), pick(f, "capex", 2026)
    (30.0, 10.0)
    """
    return pick_many(frame, [metric], year)[0]


def pick_many(frame: pd.DataFrame, metrics: Sequence[str], year: int | str | None) -> list[float]:
    """Several metrics of a projection at one year: :func:`pick` of each, read in one pass
    (a table of presets asks for 14 metrics of each run).

    Examples
    --------
    >>> f = pd.DataFrame({"year": [2026, 2027], "capex": [10.0, 30.0], "fcf": [5.0, -2.0]})
    >>> pick_many(f, ["capex", "fcf"], "min"), pick_many(f, ["capex", "fcf"], 2027)
    ([10.0, -2.0], [30.0, -2.0])
    """
    for metric in metrics:
        if metric not in frame.columns or metric in TEXT_COLUMNS:
            numeric = [c for c in COLUMNS if c not in TEXT_COLUMNS]
            raise ArgumentError(f"unknown metric {metric!r}; use one of {', '.join(numeric)}")
    block = frame[list(metrics)]
    if year is None or year == "last":
        row = block.iloc[-1]
    elif year == "peak":
        row = block.max()
    elif year == "min":
        row = block.min()
    else:
        hit = frame.index[frame["year"] == int(year)]
        if len(hit) == 0:
            raise ArgumentError(
                f"year {year} is not projected; use {frame['year'].iloc[0]}.."
                f"{frame['year'].iloc[-1]} or 'last'/'peak'/'min'"
            )
        row = block.loc[hit[0]]
    return [float(v) for v in row.to_numpy(dtype=float)]


def grid_2d(
    fn: Callable[[Any, Any], float],
    row_values: Sequence[Any],
    col_values: Sequence[Any],
    *,
    row_name: str = "row",
    col_name: str = "col",
) -> pd.DataFrame:
    """Generic 2-D grid: ``out.loc[r, c] = fn(r, c)`` for every pair.

    Parameters
    ----------
    fn : callable
        ``fn(row_value, col_value) -> float``.
    row_values, col_values : sequence
        The values down the rows and across the columns.
    row_name, col_name : str
        Names of the two axes.

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
