"""Return on AI capex: what each year's capex must earn, and whether it is earning it.

*Required* side: a vintage of capex, split across asset classes with their own useful lives
(servers ~5-6 years, buildings ~15-40), must earn its cost of capital over those lives. The
capital-recovery factor turns it into a level annual charge; running costs and the operating
margin on the revenue it enables turn the charge into the revenue it must generate
(:func:`required_revenue`), vintage by vintage and cumulated across vintages
(:func:`required_revenue_schedule`). :func:`revenue_gap` is the industry-level version
(Sequoia's "$600B question").

*Realised* side, from filings: the change in operating cash flow per dollar of earlier capex
(:func:`incremental_return`), simple payback, and capex and D&A growth against revenue growth
(:func:`roi_table`). The data set has no operating-income field, so operating cash flow (OCF)
is the documented proxy for the income the capex produces.

Functions follow numpy-financial's pattern: scalars or arrays in, broadcast like ufuncs, a
float back for scalar input. NaN or a zero denominator gives NaN; out-of-range arguments
(negative life, margin <= 0, hurdle <= -1...) raise :class:`~aicapex.errors.ArgumentError`.
Money in USD millions, rates as fractions (0.10 = 10%).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from aicapex.engine.company_metrics import yearly_columns
from aicapex.engine.metrics import divide, growth
from aicapex.engine.validation import as_output, check_range, check_whole
from aicapex.errors import ArgumentError

__all__ = [
    "RANGES",
    "ROI_COLUMNS",
    "blended_recovery_factor",
    "capital_recovery_factor",
    "cumulative_required_revenue",
    "growth_gap",
    "incremental_return",
    "payback_years",
    "required_revenue",
    "required_ai_revenue",
    "required_revenue_schedule",
    "REVENUE_GAP_MODES",
    "SEQUOIA_SOURCE",
    "cloud_revenue_growth",
    "GAP_COLUMNS",
    "revenue_gap_table",
    "revenue_gap",
    "roi_table",
]


#: The range of each kind of argument, for :func:`aicapex.engine.validation.check_range`.
RANGES: dict[str, dict] = {
    "life": {"lo": 0.0, "hi": 50.0, "lo_open": True,
             "expected": "a useful life in years > 0 (at most 50)", "hint_hi": "did you pass months?"},
    "rate": {"lo": -1.0, "hi": 1.0, "lo_open": True,
             "expected": "a rate as a fraction > -1 and <= 1 (0.10 = 10%)",
             "hint_hi": "did you pass a percentage?"},
    "margin": {"lo": 0.0, "hi": 1.0, "lo_open": True,
               "expected": "a margin as a fraction in (0, 1]", "hint_lo": "margin must be positive",
               "hint_hi": "did you pass a percentage?"},
    "share": {"lo": 0.0, "hi": 1.0, "expected": "a fraction in [0, 1]",
              "hint_hi": "did you pass a percentage?"},
    "money": {"lo": 0.0, "expected": "USD millions >= 0 (outflows are positive)"},
    "multiple": {"lo": 1.0, "expected": "a multiple >= 1 (total cost per dollar of capex)"},
}


def _checked(kind: str, name: str, value: ArrayLike) -> NDArray:
    return check_range(name, value, **RANGES[kind])


# -- required revenue -------------------------------------------------------------------------


def capital_recovery_factor(rate: ArrayLike, life: ArrayLike) -> NDArray | float:
    """Level annual charge per dollar of capital that earns ``rate`` over ``life`` years.

    Parameters
    ----------
    rate : array_like
        Required pre-tax return (hurdle), a fraction in (-1, 1].
    life : array_like
        Useful life, years, in (0, 50] (longer looks like months).

    Returns
    -------
    ndarray or float
        Annual charge per unit of capital (end-of-year payments).

    Notes
    -----
    The annuity whose present value at ``rate`` equals 1:

    .. math:: \\text{CRF}(r, n) = \\frac{r}{1 - (1+r)^{-n}}, \\qquad \\text{CRF}(0, n) = 1/n

    Examples
    --------
    10% over 6 years: 0.1 / (1 - 1.1**-6) = 0.1 / 0.435526 = 0.229607.

    >>> round(capital_recovery_factor(0.10, 6), 6)
    0.229607
    >>> capital_recovery_factor(0.0, [4, 5]).tolist()
    [0.25, 0.2]
    """
    r = _checked("rate", "rate", rate)
    n = _checked("life", "life", life)
    r, n = np.broadcast_arrays(r, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        # 1 - (1+r)^-n computed as -expm1(-n log1p(r)): exact for tiny r (-> r n)
        denom = -np.expm1(-n * np.log1p(r))
        crf = np.where(r == 0, 1.0 / n, r / np.where(denom == 0, 1.0, denom))
    return as_output(crf)


def _lives_split(lives: ArrayLike, split: ArrayLike | None) -> tuple[NDArray, NDArray]:
    lv = np.atleast_1d(_checked("life", "lives", lives))
    sp = np.ones(lv.shape[-1:]) / lv.shape[-1] if split is None and lv.shape[-1] == 1 else split
    if sp is None:
        raise ArgumentError(
            f"split is required with {lv.shape[-1]} lives: give the share of capex in each"
        )
    sp = np.atleast_1d(_checked("share", "split", sp))
    try:
        lv, sp = np.broadcast_arrays(lv, sp)
    except ValueError as exc:
        raise ArgumentError(
            f"lives ({lv.shape[-1]} values) and split ({sp.shape[-1]} values) must have the "
            "same length: one share per asset class"
        ) from exc
    total = sp.sum(axis=-1)
    bad = ~np.isnan(total) & (np.abs(total - 1.0) > 1e-6)
    if np.any(bad):
        v = np.asarray(total)[bad].flat[0]
        raise ArgumentError(f"split sums to {v:g}: expected shares that sum to 1")
    return lv, sp


def blended_recovery_factor(
    lives: ArrayLike, split: ArrayLike | None, hurdle: ArrayLike
) -> NDArray | float:
    """Capital-recovery factor of a capex mix: the split-weighted CRF of each asset class.

    Parameters
    ----------
    lives : array_like
        Useful life of each asset class, years (last axis = asset class).
    split : array_like or None
        Share of capex in each class (last axis), summing to 1; None with a single life.
    hurdle : array_like
        Required pre-tax return, fraction in (-1, 1]; broadcasts over the leading axes.

    Returns
    -------
    ndarray or float
        Annual capital charge per dollar of capex, while every class is in service.

    Notes
    -----
    .. math:: \\text{CRF}_{\\text{mix}} = \\sum_k s_k\\, \\text{CRF}(h, n_k)

    Examples
    --------
    70% servers over 6 years and 30% buildings over 20 years at 10%:
    0.7 x 0.229607 + 0.3 x 0.117460 = 0.160725 + 0.035238 = 0.195963.

    >>> round(blended_recovery_factor([6, 20], [0.7, 0.3], 0.10), 6)
    0.195963
    """
    lv, sp = _lives_split(lives, split)
    h = _checked("rate", "hurdle", hurdle)
    crf = capital_recovery_factor(np.asarray(h)[..., np.newaxis], lv)
    return as_output(np.sum(sp * crf, axis=-1))


def required_revenue(
    capex: ArrayLike,
    lives: ArrayLike,
    split: ArrayLike | None,
    hurdle: ArrayLike,
    margin: ArrayLike,
    opex_share: ArrayLike = 0.0,
) -> NDArray | float:
    """Annual revenue a vintage of capex must generate to earn its hurdle over its lives.

    Parameters
    ----------
    capex : array_like
        Capex of the vintage, USD millions (>= 0).
    lives : array_like
        Useful life of each asset class, years, in (0, 50] (last axis = asset class,
        e.g. ``[6, 20]`` for servers and buildings).
    split : array_like or None
        Share of the capex in each class (last axis), in [0, 1], summing to 1. May be None
        when ``lives`` has a single value.
    hurdle : array_like
        Required pre-tax return on the capex, a fraction in (-1, 1].
    margin : array_like
        Operating margin on the revenue the capex enables, in (0, 1]: the share of each
        revenue dollar left to pay for this capex after every cost that is *not* this
        vintage's capital charge or running cost (other cost of sales, R&D, sales...).
    opex_share : array_like, default 0
        Running costs of the vintage (energy, staff, maintenance) per year, as a fraction of
        its capex, in [0, 1].

    Returns
    -------
    ndarray or float
        Required revenue, USD millions per year, for each year in which every asset class is
        in service (see :func:`required_revenue_schedule` for the year-by-year profile).

    Notes
    -----
    With capex :math:`K`, classes :math:`k` (life :math:`n_k`, share :math:`s_k`), hurdle
    :math:`h`, opex share :math:`o` and margin :math:`m`:

    .. math::

        \\text{charge} &= K \\sum_k s_k \\frac{h}{1 - (1+h)^{-n_k}} \\\\
        \\text{running} &= o\\,K \\\\
        R_{\\text{req}} &= \\frac{\\text{charge} + \\text{running}}{m}

    That is, margin :math:`m` of the revenue must cover the capital charge (return of and on
    capital) plus the running costs. Pre-tax; taxes and working capital are ignored.

    Examples
    --------
    $100 over 6 years at 10%: charge 100 x 0.1 / (1 - 1.1**-6) = 22.96 a year. At a 100%
    margin and no running costs that is the required revenue; at a 50% margin 45.92; with
    running costs of 5% of capex a year, (22.96 + 5) / 0.5 = 55.92.

    >>> round(required_revenue(100, 6, None, 0.10, 1.0), 2)
    22.96
    >>> round(required_revenue(100, 6, None, 0.10, 0.5), 2)
    45.92
    >>> round(required_revenue(100, 6, None, 0.10, 0.5, opex_share=0.05), 2)
    55.92
    >>> np.round(required_revenue([100, 200], [6, 20], [0.7, 0.3], 0.10, 1.0), 4).tolist()
    [19.5963, 39.1926]
    """
    k = _checked("money", "capex", capex)
    m = _checked("margin", "margin", margin)
    o = _checked("share", "opex_share", opex_share)
    crf = np.asarray(blended_recovery_factor(lives, split, hurdle))
    return as_output((k * crf + k * o) / m)


def required_revenue_schedule(
    capex: ArrayLike,
    lives: ArrayLike,
    split: ArrayLike | None,
    hurdle: float,
    margin: float,
    opex_share: float = 0.0,
    delay: int = 1,
    horizon: int | None = None,
) -> NDArray:
    """Required revenue by capex vintage and year: the vintage matrix.

    Parameters
    ----------
    capex : array_like
        Capex by consecutive year (1-D, one entry per vintage), USD millions, >= 0.
    lives, split, hurdle, margin, opex_share
        As in :func:`required_revenue`; ``lives`` and ``split`` are 1-D (one entry per asset
        class), the others scalars.
    delay : int, default 1
        Years from spending to the first year of required revenue (1: capex in year v must
        earn from year v+1, matching the annuity's end-of-year payments).
    horizon : int, optional
        Number of years (columns). Default: long enough for the last vintage to run out,
        ``len(capex) + delay + ceil(max(lives)) - 1``.

    Returns
    -------
    ndarray, shape (n_vintages, horizon)
        Row v, column t: revenue vintage v requires in year t (year 0 = the first vintage's
        year). Sum over rows (:func:`cumulative_required_revenue`) for the industry total.

    Notes
    -----
    Asset class :math:`k` of vintage :math:`v` is charged in year :math:`t` with weight
    :math:`w = \\mathrm{clip}(n_k - a, 0, 1)` where :math:`a = t - v - \\text{delay} \\ge 0` is
    its age, so a fractional life charges a fraction of its last year:

    .. math::

        R_{v,t} = \\frac{K_v}{m} \\sum_k s_k\\, w_{k,v,t}\\,
                  \\left(\\text{CRF}(h, n_k) + o\\right)

    Examples
    --------
    Two vintages of $100, 2-year life, 0% hurdle (CRF = 1/2 = 0.5), 100% margin:
    vintage 0 requires 50 in years 1 and 2, vintage 1 in years 2 and 3.

    >>> required_revenue_schedule([100, 100], 2, None, 0.0, 1.0).tolist()
    [[0.0, 50.0, 50.0, 0.0], [0.0, 0.0, 50.0, 50.0]]
    >>> cumulative_required_revenue([100, 100], 2, None, 0.0, 1.0).tolist()
    [0.0, 50.0, 100.0, 50.0]
    """
    k = np.asarray(_checked("money", "capex", capex), dtype=float)
    if k.ndim != 1:
        raise ArgumentError(f"capex must be 1-D (one value per vintage year), got shape {k.shape}")
    lv, sp = _lives_split(lives, split)
    if lv.ndim != 1:
        raise ArgumentError("lives and split must be 1-D in a schedule (one entry per class)")
    m = float(_checked("margin", "margin", margin))
    o = float(_checked("share", "opex_share", opex_share))
    crf = np.asarray(capital_recovery_factor(hurdle, lv), dtype=float)
    delay = check_whole("delay", delay, 0, math.inf)
    n_v = k.shape[0]
    if horizon is None:
        horizon = n_v + delay + int(np.ceil(np.nanmax(lv))) - 1
    horizon = check_whole("horizon", horizon, 0, math.inf)
    v = np.arange(n_v)[:, None, None]
    t = np.arange(int(horizon))[None, :, None]
    age = t - v - delay
    weight = np.where(age >= 0, np.clip(lv - age, 0.0, 1.0), 0.0)
    per_class = sp * weight * (crf + o)
    return k[:, None] * per_class.sum(axis=-1) / m


def cumulative_required_revenue(
    capex: ArrayLike,
    lives: ArrayLike,
    split: ArrayLike | None,
    hurdle: float,
    margin: float,
    opex_share: float = 0.0,
    delay: int = 1,
    horizon: int | None = None,
) -> NDArray:
    """Required revenue by year summed across every vintage still in service.

    Parameters and Notes as :func:`required_revenue_schedule`;
    :math:`R_t = \\sum_v R_{v,t}`.

    Returns
    -------
    ndarray, shape (horizon,)
        USD millions per year.

    Examples
    --------
    $100 a year for 3 years, 2-year life, 0% hurdle, 50% margin: each live vintage requires
    50 / 0.5 = 100; years 1..4 have 1, 2, 2, 1 live vintages.

    >>> cumulative_required_revenue([100, 100, 100], 2, None, 0.0, 0.5).tolist()
    [0.0, 100.0, 200.0, 200.0, 100.0]
    """
    sched = required_revenue_schedule(
        capex, lives, split, hurdle, margin, opex_share, delay, horizon
    )
    return sched.sum(axis=0)


#: The two framings of the "$600B question": the cost multiple each applies to the spend.
#: ``sequoia``: accelerator (GPU) spend x 2 = total data-center cost (GPUs are about half of it);
#: ``capex``: total hyperscaler capex, which already includes buildings and power, x 1.
REVENUE_GAP_MODES: dict[str, float] = {"sequoia": 2.0, "capex": 1.0}

SEQUOIA_SOURCE = ("David Cahn, Sequoia Capital, \"AI's $600B Question\" (June 2024): NVIDIA "
                  "data-center run-rate ~$150B x 2 = total data-center cost, / 50% end-customer "
                  "margin = ~$600B of AI revenue needed a year")


def revenue_gap(
    capex: ArrayLike,
    cost_multiple: ArrayLike,
    margin: ArrayLike,
    ai_revenue: ArrayLike,
    life_years: ArrayLike = 1.0,
) -> NDArray | float:
    """Industry-level AI revenue gap: revenue the infrastructure spend implies, less actual.

    Parameters
    ----------
    capex : array_like
        Annual spend, USD millions: accelerator spend (e.g. NVIDIA data-center revenue) with
        ``cost_multiple=2``, or total capex with ``cost_multiple=1`` (see
        :data:`REVENUE_GAP_MODES` and :func:`required_ai_revenue`).
    cost_multiple : array_like
        Total data-center cost per dollar of that spend, >= 1 (Sequoia: 2 on GPU spend; 1 on
        total capex, which already includes buildings, power and cooling).
    margin : array_like
        End-customer gross margin, in (0, 1] (Sequoia: 0.5).
    ai_revenue : array_like
        AI revenue actually earned, USD millions, >= 0: a labelled estimate (e.g.
        :func:`cloud_revenue_growth`, an upper-bound proxy). 0 shows the requirement alone.
    life_years : array_like, default 1
        Years over which a year's spend must be earned back, > 0. Sequoia's framing is 1 (a
        year's spend against a year's revenue); a longer life spreads the requirement
        (straight line, no return on capital).

    Returns
    -------
    ndarray or float
        Gap, USD millions (positive = revenue short of what the spend requires).

    Notes
    -----
    .. math:: \\text{gap} = \\frac{K \\times c}{m \\times L} - R_{\\text{AI}}

    Framing from David Cahn (Sequoia Capital), "AI's $600B Question" (June 2024).

    Examples
    --------
    Sequoia's numbers: $150B run-rate x 2 / 0.5 = $600B required; less ~$100B of AI revenue
    leaves a $500B gap.

    >>> revenue_gap(150_000, 2, 0.5, 100_000)
    500000.0
    >>> revenue_gap(150_000, 2, 0.5, 0, life_years=5)  # 600 / 5
    120000.0
    """
    k = _checked("money", "capex", capex)
    c = _checked("multiple", "cost_multiple", cost_multiple)
    m = _checked("margin", "margin", margin)
    r = _checked("money", "ai_revenue", ai_revenue)
    life = _checked("life", "life_years", life_years)
    return as_output(k * c / (m * life) - r)


def required_ai_revenue(
    spend: ArrayLike, mode: str, margin: ArrayLike = 0.5, life_years: ArrayLike = 1.0
) -> NDArray | float:
    """AI revenue a year of spend requires, in one of the two "$600B question" modes.

    Parameters
    ----------
    spend : array_like
        USD millions a year: accelerator (GPU) spend in mode ``'sequoia'``; total capex in
        mode ``'capex'``.
    mode : {'sequoia', 'capex'}
        ``'sequoia'``: Sequoia's original, accelerator spend x 2 (total data-center cost) /
        margin. ``'capex'``: total hyperscaler capex x 1 / margin (capex already includes
        buildings and power, so doubling it again would count them twice).
    margin : array_like, default 0.5
        End-customer gross margin, in (0, 1].
    life_years : array_like, default 1
        Years over which the spend must be earned back (1 = Sequoia's year-for-year framing).

    Returns
    -------
    ndarray or float
        Required revenue, USD millions a year.

    Notes
    -----
    .. math:: R_{\\text{req}} = \\frac{K\\, c_{\\text{mode}}}{m\\, L}, \\qquad
              c_{\\text{sequoia}} = 2, \\quad c_{\\text{capex}} = 1

    Examples
    --------
    Sequoia: $150B of GPU spend x 2 / 50% = $600B. Total capex of $400B x 1 / 50% = $800B; over
    a stated 5-year life, $160B a year.

    >>> required_ai_revenue(150_000, "sequoia")
    600000.0
    >>> required_ai_revenue(400_000, "capex"), required_ai_revenue(400_000, "capex", 0.5, 5)
    (800000.0, 160000.0)
    """
    key = str(mode).strip().lower()
    if key not in REVENUE_GAP_MODES:
        raise ArgumentError(f"mode={mode!r} is not a $600B-question mode: expected one of "
                            f"{', '.join(REVENUE_GAP_MODES)}")
    return revenue_gap(spend, REVENUE_GAP_MODES[key], margin, 0.0, life_years)


def cloud_revenue_growth(
    ds: object, tickers: Iterable[str], base_year: int
) -> pd.DataFrame:
    """Cloud-segment revenue growth since a base year: an upper-bound proxy for AI revenue.

    Parameters
    ----------
    ds : aicapex.data.dataset.Dataset
        Anything with ``wide(ticker)``; uses ``cloud_segment_revenue`` and, for Microsoft's
        basis break, ``cloud_segment_revenue_pre_fy25_basis``.
    tickers : iterable of str
        Companies to add up. Companies without a cloud segment (META, AAPL) are listed in
        ``no_segment`` and add nothing: the proxy covers the cloud businesses only.
    base_year : int
        Fiscal year the growth is measured from (e.g. 2022, the last year before ChatGPT).

    Returns
    -------
    pandas.DataFrame
        Index fiscal_year (base year to the last year with data). Columns: one per company with
        a segment (its growth since the base year, USD millions), ``total`` (NaN in a year
        where any of them is missing: no partial sums), ``no_segment`` (comma-separated) and
        ``label``. Years before the base year are not returned: there is no gap before it.

    Notes
    -----
    Growth :math:`G_t = C_t - C_{\\text{base}}`. Where a series changes basis (Microsoft's
    Intelligent Cloud from FY2023; FY2023 and FY2024 are reported on both), the growth is
    chained through the overlap year :math:`o`:
    :math:`G_t = (C^{\\text{old}}_o - C^{\\text{old}}_{\\text{base}}) + (C^{\\text{new}}_t -
    C^{\\text{new}}_o)`. This is an **upper bound**: it counts all cloud growth (storage,
    databases, SaaS, license support at Oracle) as AI revenue, and fiscal years differ (MSFT
    June, ORCL May).
    """
    rows: dict[str, pd.Series] = {}
    none: list[str] = []
    for t in [str(x).strip().upper() for x in tickers]:
        w = ds.wide(t)
        if "cloud_segment_revenue" not in w.columns or w["cloud_segment_revenue"].isna().all():
            none.append(t)
            continue
        new = w["cloud_segment_revenue"].astype(float)
        old = (w["cloud_segment_revenue_pre_fy25_basis"].astype(float)
               if "cloud_segment_revenue_pre_fy25_basis" in w.columns else None)
        growth_t = pd.Series(np.nan, index=new.index)
        overlap = old.dropna().index.min() if old is not None and old.notna().any() else None
        for y in new.index:
            if y < base_year:
                continue
            if overlap is None or base_year >= overlap:
                growth_t[y] = new.get(y, np.nan) - new.get(base_year, np.nan)
            elif y <= overlap - 1:
                growth_t[y] = new.get(y, np.nan) - new.get(base_year, np.nan)
            else:  # base on the old basis, year on the new: chain through the overlap year
                growth_t[y] = ((old.get(overlap, np.nan) - new.get(base_year, np.nan))
                               + (new.get(y, np.nan) - new.get(overlap, np.nan)))
        rows[t] = growth_t
    frame = pd.DataFrame(rows).sort_index()
    frame = frame[frame.index >= base_year]
    frame["total"] = frame.sum(axis=1, min_count=len(rows)) if rows else np.nan
    if rows:
        frame.loc[frame[list(rows)].isna().any(axis=1), "total"] = np.nan
    frame.index.name = "fiscal_year"
    frame["no_segment"] = ", ".join(none)
    frame["label"] = (f"upper-bound proxy for AI revenue: cloud-segment revenue growth since "
                      f"FY{base_year} ({', '.join(rows) or 'no company'}); counts all cloud "
                      "growth, AI or not"
                      + (f"; {', '.join(none)}: no cloud segment, not counted" if none else ""))
    return frame


#: Columns of :func:`revenue_gap_table`.
GAP_COLUMNS = ["fiscal_year", "mode", "spend", "cost_multiple", "margin", "life_years",
               "required_revenue", "ai_revenue", "gap", "ai_revenue_label"]


def revenue_gap_table(
    ds: object,
    tickers: Iterable[str],
    base_year: int,
    margin: float = 0.5,
    life_years: float = 1.0,
) -> pd.DataFrame:
    """The "$600B question" in mode ``capex`` for every fiscal year from the base year.

    Parameters
    ----------
    ds : aicapex.data.dataset.Dataset
        Anything with ``wide(ticker)`` (fields ``capex``, ``cloud_segment_revenue``).
    tickers : iterable of str
        The AI peers whose capex is summed (a year with any of them missing is NaN).
    base_year : int
        First fiscal year shown, and the year cloud growth is measured from: no gap is shown
        before it.
    margin, life_years : float
        As in :func:`required_ai_revenue`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GAP_COLUMNS`: the peers' total capex (``spend``, x1), the revenue it
        requires, the AI-revenue proxy (:func:`cloud_revenue_growth`, an upper bound, labelled)
        and the gap. Mode ``sequoia`` needs accelerator spend, which the data set does not hold:
        use :func:`required_ai_revenue` with a sourced figure (Sequoia: ~$150B).
    """
    names = [str(t).strip().upper() for t in tickers]
    capex = pd.DataFrame({t: ds.wide(t)["capex"].astype(float) if "capex" in ds.wide(t).columns
                          else pd.Series(dtype=float) for t in names}).sort_index()
    capex = capex[capex.index >= base_year]
    spend = capex.sum(axis=1, min_count=len(names))
    spend[capex.isna().any(axis=1)] = np.nan
    proxy = cloud_revenue_growth(ds, names, base_year)
    ai = proxy["total"].reindex(spend.index)
    req = np.asarray(required_ai_revenue(spend.to_numpy(), "capex", margin, life_years))
    label = proxy["label"].iloc[0] if len(proxy) else "no cloud-segment data"
    return pd.DataFrame({
        "fiscal_year": spend.index.astype(int),
        "mode": "capex",
        "spend": spend.to_numpy(),
        "cost_multiple": REVENUE_GAP_MODES["capex"],
        "margin": margin,
        "life_years": life_years,
        "required_revenue": req,
        "ai_revenue": ai.to_numpy(),
        "gap": req - ai.to_numpy(),
        "ai_revenue_label": label,
    })[GAP_COLUMNS].reset_index(drop=True)


# -- realised returns -------------------------------------------------------------------------


def incremental_return(op_income: ArrayLike, capex: ArrayLike, lag: int = 1) -> NDArray:
    """Change in income per dollar of earlier capex, along the last axis (time).

    Parameters
    ----------
    op_income : array_like
        Operating income or its proxy (operating cash flow) by consecutive year, USD millions.
    capex : array_like
        Capex by the same years, USD millions (>= 0, outflows positive).
    lag : int, default 1
        Years between the capex and the income change it is credited with.

    Returns
    -------
    ndarray
        Same shape as the broadcast inputs; NaN for the first ``max(1, lag)`` years, where
        capex is 0 and where an input is missing.

    Notes
    -----
    .. math:: r_t = \\frac{I_t - I_{t-1}}{K_{t-\\text{lag}}}

    A crude, pre-tax, undiscounted proxy: it credits all of the income change to capex.

    Examples
    --------
    Income 10, 12, 15 and capex 20, 25, 30: (12 - 10) / 20 = 0.1, (15 - 12) / 25 = 0.12.

    >>> incremental_return([10, 12, 15], [20, 25, 30]).tolist()
    [nan, 0.1, 0.12]
    >>> incremental_return([10, 12, 15], [20, 25, 30], lag=0).tolist()
    [nan, 0.08, 0.1]
    """
    lag = check_whole("lag", lag, 0, math.inf)
    i = np.asarray(op_income, dtype=float)
    k = _checked("money", "capex", capex)
    i, k = np.broadcast_arrays(np.atleast_1d(i), np.atleast_1d(k))
    out = np.full(i.shape, np.nan)
    n = i.shape[-1]
    start = max(1, lag)
    if n > start:
        delta = i[..., start:] - i[..., start - 1 : n - 1]
        base = k[..., start - lag : n - lag]
        out[..., start:] = divide(delta, base)
    return out


def payback_years(capex: ArrayLike, annual_cash_flow: ArrayLike) -> NDArray | float:
    """Simple payback: years of cash flow needed to recover the capex.

    Parameters
    ----------
    capex : array_like
        Capex, USD millions (>= 0).
    annual_cash_flow : array_like
        Annual cash flow (or income) the capex produces, USD millions.

    Returns
    -------
    ndarray or float
        Years; NaN where the cash flow is zero, negative (never pays back) or missing.

    Notes
    -----
    .. math:: P = K / CF, \\quad CF > 0

    Undiscounted and pre-tax.

    Examples
    --------
    >>> payback_years(100, 25)
    4.0
    >>> payback_years([100, 100], [0, -5]).tolist()
    [nan, nan]
    """
    k = _checked("money", "capex", capex)
    cf = np.asarray(annual_cash_flow, dtype=float)
    k, cf = np.broadcast_arrays(k, cf)
    return as_output(divide(k, np.where(cf > 0, cf, np.where(np.isnan(cf), np.nan, 0.0))))


def growth_gap(x: ArrayLike, revenue: ArrayLike, axis: int = -1) -> NDArray:
    """Growth of ``x`` minus growth of revenue, period on period along ``axis``.

    Parameters
    ----------
    x : array_like
        The series to compare (capex, D&A...), by consecutive period.
    revenue : array_like
        Revenue by the same periods.
    axis : int, default -1
        Time axis.

    Returns
    -------
    ndarray
        Percentage-point difference as a fraction (0.2 = capex grew 20 points faster); NaN
        for the first period and wherever a growth rate is missing.

    Notes
    -----
    .. math:: \\Delta g_t = \\left(\\frac{x_t}{x_{t-1}} - 1\\right)
              - \\left(\\frac{R_t}{R_{t-1}} - 1\\right)

    Examples
    --------
    Capex 100 -> 150 (+50%), revenue 200 -> 220 (+10%): gap 0.4.

    >>> np.round(growth_gap([100, 150], [200, 220]), 10).tolist()
    [nan, 0.4]
    """
    return growth(x, axis=axis) - growth(revenue, axis=axis)


#: Columns of :func:`roi_table`.
ROI_COLUMNS = [
    "ticker",
    "fiscal_year",
    "revenue",
    "ocf",
    "capex",
    "da_cashflow",
    "revenue_growth",
    "capex_growth",
    "da_growth",
    "capex_growth_minus_revenue_growth",
    "da_growth_minus_revenue_growth",
    "incremental_return",
    "payback_years",
]


def roi_table(ds: object, tickers: Iterable[str] | None = None, lag: int = 1) -> pd.DataFrame:
    """Realised-return proxies per company and fiscal year, from the reported figures.

    Parameters
    ----------
    ds : aicapex.data.dataset.Dataset
        Anything with ``tickers`` and ``wide(ticker)`` (index fiscal_year, one column per
        field; NaN = missing). Fields used: ``revenue``, ``ocf``, ``capex``, ``da_cashflow``.
    tickers : iterable of str, optional
        Companies, in order (default: ``ds.tickers``).
    lag : int, default 1
        Years between capex and the OCF change credited to it.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ROI_COLUMNS`: ticker, fiscal_year, the four inputs (USD millions),
        year-on-year growth of revenue, capex and D&A, capex and D&A growth minus revenue
        growth, ``incremental_return`` (ΔOCF_t / capex_{t-lag}) and ``payback_years``
        (capex_{t-lag} / ΔOCF_t, NaN when OCF did not rise). Missing figures stay NaN;
        growth and changes compare consecutive fiscal years only.

    Notes
    -----
    OCF stands in for operating income (not in the data set): it is after cash taxes and
    working capital and before D&A. ``da_cashflow`` is the cash-flow statement's D&A line;
    for MSFT it includes other non-cash items.

    .. math::

        r_t = \\frac{OCF_t - OCF_{t-1}}{K_{t-\\text{lag}}}, \\qquad
        P_t = \\frac{K_{t-\\text{lag}}}{OCF_t - OCF_{t-1}}
    """
    lag = check_whole("lag", lag, 0, math.inf)
    names = list(ds.tickers) if tickers is None else [str(t).strip().upper() for t in tickers]
    parts = []
    for t in names:
        w = ds.wide(t)
        if w.empty:
            continue
        full, (rev, ocf, capex, da) = yearly_columns(w, ["revenue", "ocf", "capex", "da_cashflow"])
        inc = incremental_return(ocf, capex, lag)
        delta = np.full(ocf.shape, np.nan)
        delta[1:] = ocf[1:] - ocf[:-1]
        base = np.full(ocf.shape, np.nan)
        if lag < len(capex):
            base[lag:] = capex[: len(capex) - lag]
        base[: max(1, lag)] = np.nan
        part = pd.DataFrame(
            {
                "ticker": t,
                "fiscal_year": full,
                "revenue": rev,
                "ocf": ocf,
                "capex": capex,
                "da_cashflow": da,
                "revenue_growth": growth(rev),
                "capex_growth": growth(capex),
                "da_growth": growth(da),
                "capex_growth_minus_revenue_growth": growth_gap(capex, rev),
                "da_growth_minus_revenue_growth": growth_gap(da, rev),
                "incremental_return": inc,
                "payback_years": payback_years(base, delta),
            }
        )
        parts.append(part[part["fiscal_year"].isin(w.index.astype(int))])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in ROI_COLUMNS})
    return pd.concat(parts, ignore_index=True)[ROI_COLUMNS]
