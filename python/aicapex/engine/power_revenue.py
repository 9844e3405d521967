"""The facility's revenue by two methods, and the cross-check between them.

* **token-based**: peak benchmark throughput x serving derate x utilisation x token price
  (:func:`token_revenue`);
* **capacity-based**: GPUs x hours x utilisation x rental price per GPU-hour
  (:func:`gpu_hour_revenue`).

The headline (payback, return on capital in :func:`aicapex.engine.power.dc_economics`) uses the
more conservative of the two unless the analyst chooses one (:func:`headline_revenue`). The
cross-check compares what a busy GPU-hour earns selling tokens with what the market pays to
rent the same GPU for an hour, and says so in words (:func:`revenue_words`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aicapex.engine.power_sources import (
    REVENUE_METHOD_DEFAULT,
    REVENUE_METHOD_WHY,
    REVENUE_METHODS,
)
from aicapex.engine.power_units import (
    HOURS_PER_YEAR,
    SECONDS_PER_YEAR,
    as_output,
    check_bound,
    nonnegative,
)
from aicapex.errors import ArgumentError

__all__ = ["REVENUE_METHOD_CODES", "REVENUE_WORD_FIELDS", "gpu_hour_revenue", "headline_revenue", "revenue_method",
           "revenue_words", "token_revenue"]

#: ``revenue_method_used`` codes: which method the headline revenue (and so payback and return on
#: capital) comes from.
REVENUE_METHOD_CODES = {1: "token", 2: "capacity"}

#: Keys of :func:`revenue_words`: the rows of words that follow the figures.
REVENUE_WORD_FIELDS = ("revenue_method", "rental_cross_check")


def token_revenue(
    tokens_per_s: ArrayLike, serving_derate: ArrayLike, utilization: ArrayLike,
    price_per_mtok: ArrayLike,
) -> NDArray | float:
    """Token-based revenue a year, USD millions: peak throughput x serving derate x utilisation
    x token price.

    Parameters
    ----------
    tokens_per_s : array_like
        Peak (benchmark Offline) throughput of the whole facility, tokens/s, >= 0.
    serving_derate : array_like
        Served over peak throughput, in (0, 1] (MLPerf Server / Offline on the same system).
    utilization : array_like
        Share of the year spent serving paid requests, in [0, 1].
    price_per_mtok : array_like
        Selling price, USD per million tokens.

    Returns
    -------
    ndarray or float
        USD millions a year.

    Notes
    -----
    .. math:: R_T = S\\,d\\,u\\,T\\,p_{\\text{Mtok}} / 10^{12}, \\qquad T = 31{,}536{,}000 \\text{ s}

    Examples
    --------
    The default GB200 facility: 50,000 GPUs x 12,013.9 tokens/s = 600.69M tokens/s, served at
    0.955 of peak, busy 75% of the year, at $0.72 per million tokens:
    600,694,444 x 0.954831 x 0.75 x 31,536,000 x 0.72 / 1e12 = $9,767M a year.

    >>> round(token_revenue(865_000 / 72 * 50_000, 10_755.6 / 11_264.4, 0.75, 0.72))
    9767
    >>> token_revenue(1e6, 1.0, 1.0, 1.0)  # a million tokens a second for a year, $1 per Mtok
    31.536
    """
    t = nonnegative("tokens_per_s", tokens_per_s, "tokens/s")
    d = check_bound("serving_derate", serving_derate)
    u = check_bound("utilization", utilization)
    p = check_bound("price_per_mtok", price_per_mtok)
    return as_output(t * d * u * SECONDS_PER_YEAR / 1e6 * p / 1e6)


def gpu_hour_revenue(
    accelerators: ArrayLike, utilization: ArrayLike, rental_usd_per_gpu_hour: ArrayLike
) -> NDArray | float:
    """Capacity-based revenue a year, USD millions: GPUs x hours x utilisation x rental price.

    Parameters
    ----------
    accelerators : array_like
        GPUs installed, >= 0.
    utilization : array_like
        Share of the year's GPU-hours rented out, in [0, 1].
    rental_usd_per_gpu_hour : array_like
        Rental price, USD per GPU-hour, in [0.05, 40] (NaN: missing, NaN out).

    Returns
    -------
    ndarray or float
        USD millions a year.

    Notes
    -----
    .. math:: R_C = N\\,H\\,u\\,p_{\\text{GPUh}} / 10^6, \\qquad H = 8760 \\text{ h}

    Examples
    --------
    50,000 GPUs rented 75% of the year at $4.54 an hour: 50,000 x 8760 x 0.75 x 4.54 / 1e6 =
    $1,491.4M a year.

    >>> round(gpu_hour_revenue(50_000, 0.75, 4.54), 1)
    1491.4
    """
    n = nonnegative("accelerators", accelerators, "GPUs")
    u = check_bound("utilization", utilization)
    r = check_bound("rental_usd_per_gpu_hour", rental_usd_per_gpu_hour)
    return as_output(n * HOURS_PER_YEAR * u * r / 1e6)


def revenue_method(method: object) -> str:
    """``method`` checked and lower-cased: one of :data:`REVENUE_METHODS`."""
    key = str(method).strip().lower()
    if key not in REVENUE_METHODS:
        raise ArgumentError(f"revenue_method={method!r} is not one of {', '.join(REVENUE_METHODS)}")
    return key


def headline_revenue(method: str, token: NDArray, capacity: NDArray) -> tuple[NDArray, NDArray]:
    """The headline revenue of ``method`` and its code (1 token, 2 capacity, NaN neither)."""
    if method == "token":
        return token, np.where(np.isnan(token), np.nan, 1.0)
    if method == "capacity":
        return capacity, np.where(np.isnan(capacity), np.nan, 2.0)
    # conservative: the lower of the two; the one that exists where the other is missing
    use_capacity = ~np.isnan(capacity) & (np.isnan(token) | (capacity < token))
    revenue = np.where(use_capacity, capacity, token)
    return revenue, np.where(use_capacity, 2.0, np.where(np.isnan(token), np.nan, 1.0))


def revenue_words(
    result: Mapping[str, float], alert_multiple: float, method_asked: str = REVENUE_METHOD_DEFAULT
) -> dict[str, str]:
    """The headline revenue method and the rental cross-check, in words, for one facility.

    Parameters
    ----------
    result : mapping
        One :func:`aicapex.engine.power.dc_economics` result (scalar inputs).
    alert_multiple : float
        Alert when the token method earns more than this multiple of the rental price per
        sold GPU-hour (the facility default ``rental_alert_multiple``), in (0, 100].
    method_asked : str, default 'conservative'
        The revenue method asked for (see :func:`aicapex.engine.power.dc_economics`).

    Returns
    -------
    dict
        ``revenue_method``: which revenue the headline uses and why; ``rental_cross_check``:
        the token method's revenue per sold GPU-hour against the rental benchmark, starting
        ``ALERT:`` above ``alert_multiple`` (or saying why there is no cross-check).

    Examples
    --------
    >>> from aicapex.engine.power import dc_economics
    >>> r = dc_economics(1.2, 1.2, 1250, 3000, 0.5, 100, 2.0, rental_usd_per_gpu_hour=2.5)
    >>> w = revenue_words(r, 1.5)
    >>> w["rental_cross_check"][:60]
    'ALERT: selling tokens earns $21.60 per busy GPU-hour, 8.6x t'
    >>> w["revenue_method"][:40]
    'capacity-based (GPUs x hours x utilisati'
    """
    method = revenue_method(method_asked)
    limit = float(np.asarray(check_bound("rental_alert_multiple", alert_multiple)))
    code = float(result["revenue_method_used"])
    token, capacity = (float(result[k]) for k in ("token_revenue_musd_per_year",
                                                  "capacity_revenue_musd_per_year"))
    names = {1.0: "token-based (throughput x serving derate x utilisation x token price)",
             2.0: "capacity-based (GPUs x hours x utilisation x rental price per GPU-hour)"}
    if math.isnan(code):
        used = ("none: neither revenue method can be computed from these inputs"
                if method == "conservative" else
                f"none: the {method} method (chosen by the analyst) misses an input")
    elif method == "conservative" and not (math.isnan(token) or math.isnan(capacity)):
        other = token if code == 2.0 else capacity
        used = (f"{names[code]}: conservative, {REVENUE_METHOD_WHY}; the other method gives "
                f"${other:,.{0 if abs(other) >= 100 else 2}f}M a year")
    elif method == "conservative":
        used = f"{names[code]}: the only method with its inputs (no rental price or token figure)"
    else:
        used = f"{names[code]}: chosen by the analyst (revenue_method={method})"
    per_hour, rental, multiple = (float(result[k]) for k in (
        "token_revenue_usd_per_sold_gpu_hour", "rental_usd_per_gpu_hour",
        "token_to_rental_multiple"))
    if math.isnan(multiple):
        check = ("no cross-check: " + ("no rental price per GPU-hour" if math.isnan(rental)
                                       else "no token revenue per GPU-hour"))
    else:
        says = (f"selling tokens earns ${per_hour:,.2f} per busy GPU-hour, {multiple:.1f}x the "
                f"${rental:,.2f} rental benchmark")
        check = (f"ALERT: {says}, above the {limit:g}x alert level: the token inputs (peak "
                 "benchmark throughput, list token price) overstate what these GPUs earn"
                 if multiple > limit else f"OK: {says}, within the {limit:g}x alert level")
    return {"revenue_method": used, "rental_cross_check": check}
