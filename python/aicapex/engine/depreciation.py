"""Depreciation of capex vintages by asset class, and the effect of server-life changes.

Capex is split between asset classes (servers & network, buildings, land/other), each
depreciated straight-line over its useful life. Every vintage (the capex of one year) follows
the same age profile: ``D&A[t, class] = sum_v capex[v] * split[class] * w_class(t - v)``.
Without a change of life this is computed in time linear in the number of periods, whatever
the life (prefix sums of the cumulative depreciation, :func:`straight_line_schedule`); a
change of life uses the "vintage matrix" (:func:`vintage_weights`), quadratic in periods, so
it is limited to :data:`MAX_MATRIX_PERIODS` periods.

Convention (documented choice): **half-year** by default — capex is placed in service evenly
through the year, so a vintage gets half a year of depreciation in its first year, a full year
after that, and the remainder in its last year. ``convention="full-year"`` gives a full year
in the first year instead. Lives may be fractional (Meta's 5.5 years) or ``inf`` (land:
never depreciated).

A change of useful life is a change in estimate (ASC 250): it applies **prospectively** — at
the start of the change year every vintage's remaining net book value is depreciated over its
remaining new life (new life minus the years already in service); when that is zero or less,
the remaining book value is charged in the change year.

Money in USD millions; lives in years.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from aicapex.errors import ArgumentError

__all__ = [
    "ASSET_CLASSES",
    "CONVENTIONS",
    "SERVER_LIFE_CHANGES",
    "DepreciationTerms",
    "MAX_MATRIX_PERIODS",
    "vintage_weights",
    "straight_line_schedule",
    "depreciation_schedule",
    "opening_base_depreciation",
    "total_depreciation",
    "server_life_effect",
]

#: Asset classes, in the order of the ``lives`` and ``split`` arguments.
ASSET_CLASSES = ("servers_network", "buildings", "land_other")

#: Depreciation conventions -> the fraction of the first year *not* depreciated.
CONVENTIONS = {"half-year": 0.5, "full-year": 0.0}

#: The vintage matrix (a change of useful life) is n x n: above this many periods it is refused.
MAX_MATRIX_PERIODS = 2_000
#: Up to this many ages, :func:`straight_line_schedule` sums the ages directly (exact);
#: beyond (lives over ~256 years), by prefix sums.
_DIRECT_AGES = 256

#: Reported changes of server (and network equipment) useful lives, as the companies stated
#: them in their 10-K/10-Q filings and earnings calls. ``old``/``new`` in years; ``effective``
#: is the fiscal year from which the new life applies.
SERVER_LIFE_CHANGES: tuple[dict, ...] = (
    {
        "ticker": "MSFT", "effective": 2023, "old": 4.0, "new": 6.0,
        "note": "Servers and network equipment 4 -> 6 years from the start of FY2023 "
        "(announced July 2022; 10-K FY2022/FY2023).",
    },
    {
        "ticker": "GOOGL", "effective": 2023, "old": 4.0, "new": 6.0,
        "note": "Servers 4 -> 6 years (and certain network equipment 5 -> 6) from "
        "January 2023 (Q4 2022 release; 10-K FY2023).",
    },
    {
        "ticker": "META", "effective": 2025, "old": 4.5, "new": 5.5,
        "note": "Servers and network assets 4.5 -> 5.5 years from January 2025 "
        "(Q4 2024 release; 10-K FY2024).",
    },
    {
        "ticker": "AMZN", "effective": 2025, "old": 6.0, "new": 5.0,
        "note": "A subset of servers and networking equipment 6 -> 5 years from January 1, "
        "2025, after raising 5 -> 6 in 2024 (10-K FY2024).",
    },
)


@dataclass(frozen=True)
class DepreciationTerms:
    """Useful lives and capex split by asset class (plain data: an Inputs sheet overrides any).

    Defaults are **model assumptions**, not reported figures: servers 6 years (MSFT/GOOGL
    policy since 2023), buildings 25 years (inside the 7–50-year ranges the 10-Ks give),
    land/other not depreciated; about half of AI capex on servers and network equipment.
    """

    server_life: float = 6.0
    building_life: float = 25.0
    other_life: float = float("inf")
    server_share: float = 0.50
    building_share: float = 0.45
    other_share: float = 0.05
    convention: str = "half-year"

    @property
    def lives(self) -> tuple[float, float, float]:
        return (self.server_life, self.building_life, self.other_life)

    @property
    def split(self) -> tuple[float, float, float]:
        return (self.server_share, self.building_share, self.other_share)


# -- validation ------------------------------------------------------------------------------
def _lives(lives: ArrayLike, name: str = "lives") -> NDArray[np.float64]:
    arr = np.atleast_1d(np.asarray(lives, dtype=float))
    if arr.ndim != 1:
        raise ArgumentError(f"{name} must be one life per asset class (years), got shape {arr.shape}")
    bad = ~(arr > 0)
    if bad.any():
        raise ArgumentError(f"{name} must be > 0 years (inf = never depreciated), got {arr[bad][0]}")
    return arr


def _split(split: ArrayLike | None, k: int) -> NDArray[np.float64]:
    if split is None:
        if k != 1:
            raise ArgumentError("split is required when there is more than one asset class")
        return np.ones(1)
    arr = np.atleast_1d(np.asarray(split, dtype=float))
    if arr.shape != (k,):
        raise ArgumentError(f"split must have one share per asset class ({k}), got shape {arr.shape}")
    if (arr < 0).any() or not np.isfinite(arr).all() or abs(arr.sum() - 1.0) > 1e-9:
        raise ArgumentError(f"split must be shares >= 0 summing to 1, got {arr.tolist()}")
    return arr


def _convention(convention: str) -> float:
    try:
        return CONVENTIONS[convention]
    except KeyError:
        raise ArgumentError(
            f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}"
        ) from None


def _cum(age: NDArray, life: float, s: float) -> NDArray:
    """Fraction of a vintage depreciated by the end of ``age`` (0 = its first year)."""
    if np.isinf(life):
        return np.zeros_like(age, dtype=float)
    return np.clip((age + 1.0 - s) / life, 0.0, 1.0)


# -- the vintage matrix -----------------------------------------------------------------------
def vintage_weights(
    n_out: int,
    n_in: int,
    life: float,
    *,
    convention: str = "half-year",
    change_index: int | None = None,
    new_life: float | None = None,
) -> NDArray[np.float64]:
    """Vintage matrix ``W[t, v]``: share of vintage ``v``'s cost depreciated in period ``t``.

    Parameters
    ----------
    n_out, n_in : int
        Periods of output and of capex vintages (period 0 of both is the same year).
    life : float
        Useful life in years (> 0; ``inf`` = not depreciated).
    convention : {"half-year", "full-year"}
    change_index : int, optional
        Period from which ``new_life`` applies prospectively (see module notes).
    new_life : float, optional
        The new useful life.

    Returns
    -------
    ndarray, shape (n_out, n_in)

    Notes
    -----
    With ``s`` = 0.5 (half-year) or 0 (full-year), the cumulative share depreciated by the end
    of age ``a`` is ``F(a) = clip((a + 1 - s) / L, 0, 1)`` and ``W[t, v] = F(t-v) - F(t-v-1)``.
    After a change at period ``c``, a vintage ``v < c`` has book value ``1 - F(c-v-1)``,
    depreciated straight-line over ``R = L_new - (c - v - s)`` years (at once if ``R <= 0``).

    Examples
    --------
    >>> vintage_weights(4, 1, 3.0)[:, 0]   # half-year: 1/6, 1/3, 1/3, 1/6
    array([0.16666667, 0.33333333, 0.33333333, 0.16666667])
    >>> vintage_weights(3, 1, 2.0, convention="full-year")[:, 0]
    array([0.5, 0.5, 0. ])
    """
    life = float(_lives(life, "life")[0])
    s = _convention(convention)
    t = np.arange(n_out, dtype=float)[:, None]
    v = np.arange(n_in, dtype=float)[None, :]
    age = t - v
    w = _cum(age, life, s) - _cum(age - 1.0, life, s)
    w = np.where(age >= 0, w, 0.0)
    if change_index is None or new_life is None:
        return w
    new_life = float(_lives(new_life, "new_life")[0])
    c = int(change_index)
    w_new = _cum(age, new_life, s) - _cum(age - 1.0, new_life, s)
    w_new = np.where(age >= 0, w_new, 0.0)
    # Vintages in service before the change: remaining book value over the remaining new life.
    a0 = c - v  # age at the start of the change year (>= 1 for v < c)
    nbv = 1.0 - _cum(a0 - 1.0, life, s)
    remaining = new_life - (a0 - s)
    k = t - c
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.isinf(new_life):
            share = np.zeros_like(k + remaining)
        else:
            r = np.where(remaining > 0, remaining, 1.0)
            share = np.clip((k + 1.0) / r, 0, 1) - np.clip(k / r, 0, 1)
            share = np.where(remaining > 0, share, (k == 0).astype(float))
    w_old_after = np.where(k >= 0, nbv * share, 0.0)
    before = v < c
    out = np.where(before, np.where(t < c, w, w_old_after), w_new)
    return out


def straight_line_schedule(
    capex: ArrayLike, life: float, *, convention: str = "half-year",
    n_years: int | None = None,
) -> NDArray[np.float64]:
    """D&A per year of a capex series in one asset class, in time linear in the periods.

    Parameters
    ----------
    capex : array_like, shape (..., n)
        Capex per year (USD m); leading axes are independent paths. NaN = missing.
    life : float
        Useful life in years (> 0, may be fractional; ``inf`` = never depreciated).
    convention : {"half-year", "full-year"}
    n_years : int, optional
        Output years (default ``n``; more shows the run-off tail).

    Returns
    -------
    ndarray, shape (..., n_years)
        NaN in every year a missing vintage would depreciate into.

    Notes
    -----
    With ``s`` the convention's unused share of the first year, a vintage is depreciated by
    ``F(a) = min((a + 1 - s) / L, 1)`` of its cost by the end of age ``a`` (fully from age
    ``m = ceil(L - 1 + s)``). The cumulative D&A to year ``t`` is then
    ``C[t] = P0[t-m] + ((t + 1 - s)(P0[t] - P0[t-m]) - (P1[t] - P1[t-m])) / L`` with the
    prefix sums ``P0[k] = sum_{v<=k} capex[v]`` and ``P1[k] = sum_{v<=k} v capex[v]``, and
    ``D&A[t] = C[t] - C[t-1]``: equal to the vintage-matrix product, in O(n). Lives up to
    ~256 years sum the ``m + 1`` ages directly instead (O(m n), exact to rounding).

    Examples
    --------
    >>> straight_line_schedule([60, 0, 0, 0], 3)
    array([10., 20., 20., 10.])
    >>> straight_line_schedule([60, 0, 0], 2, convention="full-year")
    array([30., 30.,  0.])
    """
    capex = np.asarray(capex, dtype=float)
    if capex.ndim == 0:
        capex = capex[None]
    life = float(_lives(life, "life")[0])
    s = _convention(convention)
    n = capex.shape[-1]
    n_out = n if n_years is None else int(n_years)
    if n_out < 1:
        raise ArgumentError(f"n_years must be >= 1, got {n_years}")
    lead = capex.shape[:-1]
    if np.isinf(life):
        out = np.zeros(lead + (n_out,))
        return out
    c = np.zeros(lead + (n_out,))
    k = min(n, n_out)
    c[..., :k] = capex[..., :k]
    missing = np.isnan(c)
    c = np.where(missing, 0.0, c)
    m = max(int(math.ceil(life - 1.0 + s - 1e-12)), 0)
    zero = np.zeros(lead + (1,))
    t = np.arange(n_out)
    if m <= _DIRECT_AGES:
        # direct sum over the m + 1 ages a vintage depreciates in (exact for short lives)
        ages = np.arange(m + 1, dtype=float)
        cum_f = np.minimum((ages + 1.0 - s) / life, 1.0)
        w = np.diff(cum_f, prepend=0.0)
        if c.ndim == 1:
            out = np.convolve(c, w)[:n_out]
        else:
            out = np.zeros(lead + (n_out,))
            for a in range(min(m, n_out - 1), -1, -1):
                out[..., a:] += w[a] * c[..., : n_out - a]
    else:
        out = _prefix_sum_schedule(c, life, s, m, zero, t)
    if missing.any():
        q = np.concatenate((zero, np.cumsum(missing, axis=-1)), axis=-1)
        hit = (q[..., t + 1] - q[..., np.clip(t - m, 0, None)]) > 0
        out = np.where(hit, np.nan, out)
    return out



def _prefix_sum_schedule(c: NDArray, life: float, s: float, m: int, zero: NDArray,
                         t: NDArray) -> NDArray:
    n_out = c.shape[-1]
    idx = np.arange(n_out, dtype=float)
    p0 = np.concatenate((zero, np.cumsum(c, axis=-1)), axis=-1)  # p0[k + 1] = P0[k]
    p1 = np.concatenate((zero, np.cumsum(c * idx, axis=-1)), axis=-1)
    lo = np.clip(t - m + 1, 0, None)  # P0[t-m] = p0[t-m+1]
    window0 = p0[..., t + 1] - p0[..., lo]
    window1 = p1[..., t + 1] - p1[..., lo]
    cum = p0[..., lo] + ((t + 1.0 - s) * window0 - window1) / life
    return np.diff(cum, axis=-1, prepend=0.0)


def depreciation_schedule(
    capex: ArrayLike,
    lives: ArrayLike,
    split: ArrayLike | None = None,
    *,
    convention: str = "half-year",
    n_years: int | None = None,
    change_index: int | None = None,
    new_lives: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """D&A per year and per asset class from a capex path (vectorized vintage matrix).

    Parameters
    ----------
    capex : array_like, shape (..., n)
        Capex per year (USD m, positive = spent); leading axes are independent paths.
    lives : array_like, shape (k,)
        Useful life of each asset class in years (> 0, may be fractional; ``inf`` = land).
    split : array_like, shape (k,), optional
        Share of capex going to each class, >= 0 and summing to 1 (optional when k = 1).
    convention : {"half-year", "full-year"}
        First-year convention (default half-year, see module notes).
    n_years : int, optional
        Output years (default ``n``); more than ``n`` shows the run-off tail.
    change_index, new_lives : optional
        Period from which the classes use ``new_lives`` (prospective change of estimate).

    Returns
    -------
    ndarray, shape (..., n_years, k)
        D&A (USD m) by year and class. A NaN capex makes the years it depreciates into NaN.

    Notes
    -----
    ``D[..., t, c] = sum_v capex[..., v] * split[c] * W_c[t, v]`` with ``W_c`` from
    :func:`vintage_weights`.

    Examples
    --------
    100 of capex a year for 3 years, 60% servers (life 3), 40% land (never depreciated),
    half-year convention: servers depreciate 60/6 = 10 in the first year, 10 + 20 = 30 in the
    second and 10 + 20 + 20 = 50 in the third.

    >>> depreciation_schedule([100, 100, 100], [3, float("inf")], [0.6, 0.4])
    array([[10.,  0.],
           [30.,  0.],
           [50.,  0.]])
    """
    capex = np.asarray(capex, dtype=float)
    if capex.ndim == 0:
        capex = capex[None]
    n = capex.shape[-1]
    n_out = n if n_years is None else int(n_years)
    if n_out < 1:
        raise ArgumentError(f"n_years must be >= 1, got {n_years}")
    life_arr = _lives(lives)
    shares = _split(split, life_arr.size)
    new_arr = None if new_lives is None else _lives(new_lives, "new_lives")
    if new_arr is not None and new_arr.shape != life_arr.shape:
        raise ArgumentError(f"new_lives must match lives ({life_arr.size} classes)")
    out = np.empty(capex.shape[:-1] + (n_out, life_arr.size))
    if change_index is None or new_arr is None:
        for c, (life, share) in enumerate(zip(life_arr, shares, strict=True)):
            out[..., c] = straight_line_schedule(capex, life, convention=convention,
                                                 n_years=n_out) * share
        return out
    if max(n, n_out) > MAX_MATRIX_PERIODS:
        raise ArgumentError(f"a change of useful life is computed for up to "
                            f"{MAX_MATRIX_PERIODS:,} periods, got {max(n, n_out):,}")
    missing = np.isnan(capex)
    clean = np.where(missing, 0.0, capex)
    for c, (life, share) in enumerate(zip(life_arr, shares, strict=True)):
        w = vintage_weights(
            n_out, n, life, convention=convention, change_index=change_index,
            new_life=None if new_arr is None else new_arr[c],
        )
        out[..., c] = (clean @ w.T) * share
        if missing.any():
            hit = (missing.astype(float) @ (w.T != 0).astype(float)) > 0
            out[..., c] = np.where(hit, np.nan, out[..., c])
    return out


def opening_base_depreciation(
    ppe_net: ArrayLike, remaining_life: ArrayLike, n_years: int
) -> NDArray[np.float64]:
    """Depreciation of an existing net PP&E base over its remaining life (straight-line).

    The assets are in service all year, so year ``t`` (1-based) gets
    ``ppe_net * (min(t/L, 1) - min((t-1)/L, 1))``.

    Parameters
    ----------
    ppe_net : array_like
        Opening net PP&E (USD m).
    remaining_life : array_like
        Remaining life in years (> 0).
    n_years : int

    Returns
    -------
    ndarray, shape (..., n_years)

    Examples
    --------
    >>> opening_base_depreciation(100.0, 2.5, 4)
    array([40., 40., 20.,  0.])
    """
    ppe = np.asarray(ppe_net, dtype=float)
    life = np.asarray(remaining_life, dtype=float)
    if np.any(life <= 0):
        raise ArgumentError(f"remaining_life must be > 0 years, got {np.min(life)}")
    ppe, life = np.broadcast_arrays(ppe, life)
    t = np.arange(1, int(n_years) + 1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.clip(t / life[..., None], 0, 1) - np.clip((t - 1) / life[..., None], 0, 1)
    return ppe[..., None] * f


def total_depreciation(
    capex: ArrayLike,
    terms: DepreciationTerms = DepreciationTerms(),  # noqa: B008 - frozen dataclass
    *,
    opening_ppe: float = 0.0,
    opening_life: float | None = None,
    n_years: int | None = None,
) -> NDArray[np.float64]:
    """Total D&A per year: new capex vintages by class plus the opening asset base.

    Examples
    --------
    100 a year, half servers (2 years), half buildings (4 years), half-year convention, plus
    40 of existing PP&E over 4 years. Year 1: 50/4 + 50/8 + 10 = 28.75. Year 2:
    (25 + 12.5) + (12.5 + 6.25) + 10 = 66.25.

    >>> total_depreciation([100, 100], DepreciationTerms(server_life=2, building_life=4,
    ...     server_share=0.5, building_share=0.5, other_share=0.0),
    ...     opening_ppe=40.0, opening_life=4.0)
    array([28.75, 66.25])
    """
    capex = np.asarray(capex, dtype=float)
    n_out = capex.shape[-1] if n_years is None else int(n_years)
    d = depreciation_schedule(
        capex, terms.lives, terms.split, convention=terms.convention, n_years=n_out
    ).sum(axis=-1)
    if opening_ppe:
        if opening_life is None:
            raise ArgumentError("opening_life is required with opening_ppe")
        d = d + opening_base_depreciation(opening_ppe, opening_life, n_out)
    return d


def server_life_effect(
    capex: ArrayLike,
    revenue: ArrayLike,
    ebitda: ArrayLike,
    *,
    old_life: float,
    new_life: float,
    change_index: int = 0,
    terms: DepreciationTerms = DepreciationTerms(),  # noqa: B008 - frozen dataclass
    opening_ppe: float = 0.0,
    opening_life: float | None = None,
    years: ArrayLike | None = None,
) -> pd.DataFrame:
    """Effect of changing the server useful life on D&A, D&A/revenue and operating margin.

    Both cases use ``terms`` for buildings and land; servers use ``old_life`` throughout in
    the "old" case and switch to ``new_life`` prospectively from ``change_index`` in the "new"
    case (pass earlier capex so vintages already in service are re-depreciated, as with
    Microsoft 4 -> 6 years from FY2023, Alphabet -> 6, Meta -> 5.5, Amazon 6 -> 5; see
    :data:`SERVER_LIFE_CHANGES`). The opening base (if any) is the same in both cases.

    Parameters
    ----------
    capex, revenue, ebitda : array_like, shape (n,)
        Per-year capex, revenue and EBITDA (USD m), aligned.
    old_life, new_life : float
        Server useful lives (years).
    change_index : int
        Period index (0-based) from which ``new_life`` applies.
    years : array_like, optional
        Labels for the ``year`` column (default 1..n).

    Returns
    -------
    DataFrame
        Columns ``year, da_old, da_new, da_change, da_to_revenue_old, da_to_revenue_new,
        operating_margin_old, operating_margin_new, margin_change`` (margin in fractions).

    Notes
    -----
    ``operating_margin = (ebitda - da) / revenue``; ``margin_change = -da_change / revenue``.

    Examples
    --------
    All capex on servers, 120 a year, 4 -> 6 years from the first year (half-year):
    D&A falls from 15 to 10 in year one (120/8 vs 120/12).

    >>> t = DepreciationTerms(server_share=1.0, building_share=0.0, other_share=0.0)
    >>> out = server_life_effect([120, 120], [1000, 1000], [300, 300], old_life=4,
    ...                          new_life=6, terms=t)
    >>> out[["da_old", "da_new", "margin_change"]].round(3).to_numpy().tolist()
    [[15.0, 10.0, 0.005], [45.0, 30.0, 0.015]]
    """
    capex = np.asarray(capex, dtype=float)
    revenue = np.asarray(revenue, dtype=float)
    ebitda = np.asarray(ebitda, dtype=float)
    n = capex.shape[-1]
    if revenue.shape != (n,) or ebitda.shape != (n,):
        raise ArgumentError("capex, revenue and ebitda must be 1-D and of the same length")
    lives_old = (old_life, terms.building_life, terms.other_life)
    lives_new = (new_life, terms.building_life, terms.other_life)
    kw = dict(convention=terms.convention)
    d_old = depreciation_schedule(capex, lives_old, terms.split, **kw).sum(-1)
    d_new = depreciation_schedule(
        capex, lives_old, terms.split, change_index=change_index, new_lives=lives_new, **kw
    ).sum(-1)
    if opening_ppe:
        if opening_life is None:
            raise ArgumentError("opening_life is required with opening_ppe")
        base = opening_base_depreciation(opening_ppe, opening_life, n)
        d_old, d_new = d_old + base, d_new + base
    with np.errstate(divide="ignore", invalid="ignore"):
        rev = np.where(revenue == 0, np.nan, revenue)
        out = pd.DataFrame(
            {
                "year": np.arange(1, n + 1) if years is None else np.asarray(years),
                "da_old": d_old,
                "da_new": d_new,
                "da_change": d_new - d_old,
                "da_to_revenue_old": d_old / rev,
                "da_to_revenue_new": d_new / rev,
                "operating_margin_old": (ebitda - d_old) / rev,
                "operating_margin_new": (ebitda - d_new) / rev,
                "margin_change": (d_old - d_new) / rev,
            }
        )
    return out
