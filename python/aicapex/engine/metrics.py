"""Capex metrics: one definition of every ratio the report tracks.

Functions follow numpy-financial's pattern: they take scalars or arrays, broadcast like ufuncs,
and return a numpy scalar for scalar input or an array otherwise. Money is USD millions,
ratios are fractions (0.474 = 47.4%). A missing input (NaN) or a zero denominator gives NaN,
never an exception; :func:`divide_reason` says which of the two it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aicapex.engine.validation import as_output

__all__ = [
    "divide",
    "divide_reason",
    "capex_to_ocf",
    "fcf",
    "fcf_margin",
    "capex_to_revenue",
    "da_to_revenue",
    "da_to_capex",
    "lease_to_fixed_assets",
    "net_debt",
    "growth",
    "cagr",
    "ttm",
    "highest_since",
    "Standing",
    "standing",
    "period_label",
    "historical_rank",
    "peer_ratio",
    "peer_sum",
]

#: Reasons a ratio is missing, as returned by :func:`divide_reason`.
REASON_OK = ""
REASON_MISSING = "missing input"
REASON_ZERO = "zero denominator"


def _float(a: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(a, dtype=float)


def divide(numerator: ArrayLike, denominator: ArrayLike) -> NDArray | float:
    """Element-wise ``numerator / denominator`` with NaN for a zero or missing denominator.

    Parameters
    ----------
    numerator, denominator : array_like
        Broadcast against each other.

    Returns
    -------
    ndarray or scalar
        The quotient; NaN where either input is NaN or the denominator is 0.

    Notes
    -----
    .. math:: q = n / d, \\quad q = \\mathrm{NaN} \\text{ if } d = 0

    Examples
    --------
    >>> import numpy as np
    >>> divide([1, 2, 3], [2, 0, np.nan])
    array([0.5, nan, nan])
    """
    n, d = np.broadcast_arrays(_float(numerator), _float(denominator))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(d == 0, np.nan, n / np.where(d == 0, 1.0, d))
    return as_output(np.asarray(q, dtype=float))


def divide_reason(numerator: ArrayLike, denominator: ArrayLike) -> NDArray[np.str_]:
    """Why :func:`divide` gives NaN: ``''``, ``'missing input'`` or ``'zero denominator'``.

    Examples
    --------
    >>> import numpy as np
    >>> divide_reason([1, 1, np.nan], [2, 0, 3]).tolist()
    ['', 'zero denominator', 'missing input']
    """
    n, d = np.broadcast_arrays(_float(numerator), _float(denominator))
    missing = np.isnan(n) | np.isnan(d)
    return np.where(missing, REASON_MISSING, np.where(d == 0, REASON_ZERO, REASON_OK))


def capex_to_ocf(capex: ArrayLike, ocf: ArrayLike) -> NDArray | float:
    """Capital expenditure as a share of operating cash flow.

    Parameters
    ----------
    capex : array_like
        Capital expenditure, a positive outflow (USD millions).
    ocf : array_like
        Net cash from operating activities (USD millions).

    Returns
    -------
    ndarray or scalar
        The ratio as a fraction; above 1 means capex exceeds operating cash flow.

    Notes
    -----
    .. math:: \\text{capex/OCF} = \\frac{\\text{capex}}{\\text{OCF}}

    Examples
    --------
    Microsoft FY2025: capex 64,551, operating cash flow 136,162.

    >>> round(float(capex_to_ocf(64551, 136162)), 4)
    0.4741
    """
    return divide(capex, ocf)


def fcf(ocf: ArrayLike, capex: ArrayLike) -> NDArray | float:
    """Free cash flow: operating cash flow less capital expenditure.

    Notes
    -----
    .. math:: \\text{FCF} = \\text{OCF} - \\text{capex}

    Examples
    --------
    Alphabet FY2025: OCF 164,713, capex 91,447.

    >>> float(fcf(164713, 91447))
    73266.0
    """
    o, c = np.broadcast_arrays(_float(ocf), _float(capex))
    return as_output(np.asarray(o - c))


def fcf_margin(ocf: ArrayLike, capex: ArrayLike, revenue: ArrayLike) -> NDArray | float:
    """Free cash flow as a share of revenue.

    Notes
    -----
    .. math:: \\text{FCF margin} = \\frac{\\text{OCF} - \\text{capex}}{\\text{revenue}}

    Examples
    --------
    >>> round(float(fcf_margin(136162, 64551, 281724)), 4)
    0.2542
    """
    return divide(fcf(ocf, capex), revenue)


def capex_to_revenue(capex: ArrayLike, revenue: ArrayLike) -> NDArray | float:
    """Capex intensity: capital expenditure as a share of revenue.

    Notes
    -----
    .. math:: \\text{capex intensity} = \\frac{\\text{capex}}{\\text{revenue}}

    Examples
    --------
    >>> float(capex_to_revenue(25, 100))
    0.25
    """
    return divide(capex, revenue)


def da_to_revenue(da: ArrayLike, revenue: ArrayLike) -> NDArray | float:
    """Depreciation & amortization as a share of revenue.

    Notes
    -----
    .. math:: \\text{D\\&A/revenue} = \\frac{\\text{D\\&A}}{\\text{revenue}}

    Examples
    --------
    >>> float(da_to_revenue([10, 12], [100, 0])[0])
    0.1
    """
    return divide(da, revenue)


def da_to_capex(da: ArrayLike, capex: ArrayLike) -> NDArray | float:
    """Depreciation & amortization as a share of capex (below 1: the asset base is growing).

    Notes
    -----
    .. math:: \\text{D\\&A/capex} = \\frac{\\text{D\\&A}}{\\text{capex}}

    Examples
    --------
    >>> float(da_to_capex(50, 200))
    0.25
    """
    return divide(da, capex)


def lease_to_fixed_assets(rou_assets: ArrayLike, ppe_net: ArrayLike) -> NDArray | float:
    """Operating-lease right-of-use assets relative to net PP&E (leasing vs self-build).

    Notes
    -----
    .. math:: \\text{lease/fixed} = \\frac{\\text{operating-lease ROU assets}}{\\text{PP\\&E, net}}

    Examples
    --------
    >>> float(lease_to_fixed_assets(20, 80))
    0.25
    """
    return divide(rou_assets, ppe_net)


def net_debt(debt: ArrayLike, cash: ArrayLike) -> NDArray | float:
    """Net debt: total debt less cash and marketable securities (negative = net cash).

    Notes
    -----
    .. math:: \\text{net debt} = \\text{debt} - \\text{cash \\& securities}

    Examples
    --------
    >>> float(net_debt(40, 100))
    -60.0
    """
    d, c = np.broadcast_arrays(_float(debt), _float(cash))
    return as_output(np.asarray(d - c))


def growth(values: ArrayLike, axis: int = -1) -> NDArray:
    """Period-on-period growth along ``axis``; the first period is NaN.

    Notes
    -----
    .. math:: g_t = \\frac{x_t}{x_{t-1}} - 1

    A zero or missing prior value gives NaN.

    Examples
    --------
    >>> growth([100, 110, 0, 5]).tolist()
    [nan, 0.1..., -1.0, nan]
    """
    x = np.moveaxis(_float(values), axis, -1)
    out = np.full(x.shape, np.nan)
    if x.shape[-1] > 1:
        out[..., 1:] = divide(x[..., 1:], x[..., :-1]) - 1.0
    return np.moveaxis(out, -1, axis)


def cagr(values: ArrayLike, years: ArrayLike | None = None, axis: int = -1) -> NDArray | float:
    """Compound annual growth rate from the first to the last value along ``axis``.

    Parameters
    ----------
    values : array_like
        A series of positive values.
    years : array_like, optional
        Number of years between first and last value; default ``n - 1``.

    Notes
    -----
    .. math:: \\text{CAGR} = \\left(\\frac{x_{last}}{x_{first}}\\right)^{1/\\text{years}} - 1

    NaN when an end point is missing or not positive, or years is not positive.

    Examples
    --------
    >>> round(float(cagr([100, 110, 121])), 6)
    0.1
    >>> round(float(cagr([100, 150, 121], years=2)), 6)
    0.1
    """
    x = np.moveaxis(_float(values), axis, -1)
    first, last = x[..., 0], x[..., -1]
    n = _float(x.shape[-1] - 1 if years is None else years)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (first > 0) & (last > 0) & (n > 0)
        r = np.where(ok, np.power(np.where(ok, last / np.where(ok, first, 1), 1), 1 / np.where(n > 0, n, 1)) - 1, np.nan)
    return as_output(np.asarray(r, dtype=float))


def ttm(quarterly: ArrayLike, axis: int = -1) -> NDArray:
    """Trailing-twelve-month sums of consecutive quarters along ``axis``.

    The first three positions, and any window with a missing quarter, are NaN.

    Notes
    -----
    .. math:: \\text{TTM}_t = \\sum_{k=0}^{3} q_{t-k}

    Examples
    --------
    >>> ttm([1, 2, 3, 4, 5]).tolist()
    [nan, nan, nan, 10.0, 14.0]
    """
    q = np.moveaxis(_float(quarterly), axis, -1)
    out = np.full(q.shape, np.nan)
    if q.shape[-1] >= 4:
        c = np.cumsum(np.nan_to_num(q), axis=-1)
        s = c[..., 3:] - np.concatenate([np.zeros(q.shape[:-1] + (1,)), c[..., :-4]], axis=-1)
        nans = np.cumsum(np.isnan(q), axis=-1)
        bad = nans[..., 3:] - np.concatenate([np.zeros(q.shape[:-1] + (1,)), nans[..., :-4]], axis=-1)
        out[..., 3:] = np.where(bad > 0, np.nan, s)
    return np.moveaxis(out, -1, axis)


def highest_since(values: ArrayLike, periods: ArrayLike) -> tuple[object, bool]:
    """When the latest value was last matched: "the highest since FY…".

    Parameters
    ----------
    values : array_like
        A series in time order; NaN entries are skipped.
    periods : array_like
        The period label of each value (fiscal years, say).

    Returns
    -------
    since : object
        The most recent earlier period whose value was at least as high as the latest
        value, or the first period with data when the latest value is a record.
        ``None`` when there are fewer than two values.
    is_record : bool
        True when the latest value is the highest in the series.

    Notes
    -----
    With latest value :math:`x_T`, ``since`` is :math:`p_j` for the largest :math:`j<T`
    with :math:`x_j \\ge x_T`.

    Examples
    --------
    >>> highest_since([5, 9, 4, 7], [2019, 2020, 2021, 2022])
    (2020, False)
    >>> highest_since([5, 6, 7], [2019, 2020, 2021])
    (2019, True)
    """
    x, p = _reported(values, periods)
    if x.size < 2:
        return None, False
    last = x[-1]
    earlier = np.flatnonzero(x[:-1] >= last)
    if earlier.size == 0:
        return _plain(p[0]), True
    return _plain(p[earlier[-1]]), False


def period_label(period: object) -> str:
    """``FY2024`` for a fiscal year, the label itself otherwise ("2025Q3").

    Examples
    --------
    >>> period_label(2024), period_label(2024.0), period_label("2025Q3")
    ('FY2024', 'FY2024', '2025Q3')
    """
    if isinstance(period, (int, np.integer)) and not isinstance(period, bool):
        return f"FY{int(period)}"
    if isinstance(period, (float, np.floating)) and float(period).is_integer():
        return f"FY{int(period)}"
    return str(period)


@dataclass(frozen=True)
class Standing:
    """Where the latest value of a series stands against its history.

    ``kind`` is one of

    * ``"record"``: above every earlier value;
    * ``"highest_since"``: above the previous value, not above ``since`` (the most recent
      earlier period at least as high);
    * ``"below_peak"``: at or below the previous value (a fall, or no change) and not above
      the earlier ``peak``;
    * ``"insufficient"``: fewer than two values.
    """

    kind: str
    latest_period: object = None
    latest: float = float("nan")
    previous_period: object = None
    previous: float = float("nan")
    since: object = None
    peak_period: object = None
    peak: float = float("nan")
    first_period: object = None

    @property
    def is_record(self) -> bool:
        return self.kind == "record"

    def phrase(self) -> str:
        """The words: "record high (data from FY2019)", "highest since FY2022", "below the
        FY2024 peak", "below the FY2022 peak, down from FY2024", "unchanged from FY2024"…"""
        if self.kind == "insufficient":
            return "not enough history"
        if self.kind == "record":
            return f"record high (data from {period_label(self.first_period)})"
        if self.kind == "highest_since":
            return f"highest since {period_label(self.since)}"
        peak, prev = period_label(self.peak_period), period_label(self.previous_period)
        if self.latest == self.previous:
            if self.latest == self.peak:
                return f"unchanged from {prev}, level with the {peak} high"
            return f"unchanged from {prev}, below the {peak} peak"
        if self.latest == self.peak:
            return f"down from {prev}, level with the {peak} high"
        if self.peak_period == self.previous_period:
            return f"below the {peak} peak"
        return f"below the {peak} peak, down from {prev}"


def standing(values: ArrayLike, periods: ArrayLike) -> Standing:
    """Classify the latest value: record high, highest since a period, or below a peak.

    Parameters
    ----------
    values : array_like
        A series in time order; NaN entries are skipped.
    periods : array_like
        The period label of each value.

    Returns
    -------
    Standing
        ``kind``, the periods it names and :meth:`Standing.phrase` for the words.

    Notes
    -----
    With latest value :math:`x_T` and previous non-missing value :math:`x_{T-1}`:
    record if :math:`x_T > \\max_{j<T} x_j`; highest since :math:`p_j` (largest :math:`j<T`
    with :math:`x_j \\ge x_T`) if :math:`x_T > x_{T-1}`; otherwise below the peak
    :math:`\\arg\\max_{j<T} x_j` (the most recent one on ties).

    Examples
    --------
    >>> standing([5, 6, 7], [2019, 2020, 2021]).phrase()
    'record high (data from FY2019)'
    >>> standing([5, 9, 4, 7], [2019, 2020, 2021, 2022]).phrase()
    'highest since FY2020'
    >>> standing([5, 9, 8, 7], [2019, 2020, 2021, 2022]).phrase()
    'below the FY2020 peak, down from FY2021'
    >>> standing([5, 6, 9, 7], [2019, 2020, 2021, 2022]).phrase()
    'below the FY2021 peak'
    """
    x, p = _reported(values, periods)
    if x.size < 2:
        return Standing("insufficient", latest_period=_plain(p[-1]) if x.size else None,
                        latest=float(x[-1]) if x.size else float("nan"))
    last, earlier = float(x[-1]), x[:-1]
    peak_i = int(np.flatnonzero(earlier == earlier.max())[-1])
    common = dict(latest_period=_plain(p[-1]), latest=last, previous_period=_plain(p[-2]),
                  previous=float(x[-2]), peak_period=_plain(p[peak_i]), peak=float(earlier[peak_i]),
                  first_period=_plain(p[0]))
    if last > earlier.max():
        return Standing("record", **common)
    if last > x[-2]:
        since = _plain(p[int(np.flatnonzero(earlier >= last)[-1])])
        return Standing("highest_since", since=since, **common)
    return Standing("below_peak", **common)


def _reported(values: ArrayLike, periods: ArrayLike) -> tuple[NDArray[np.float64], NDArray]:
    """The values that are numbers and their periods (a gap is skipped, never read as 0)."""
    x = _float(values).ravel()
    p = np.asarray(periods, dtype=object).ravel()
    if x.shape != p.shape:
        from aicapex.errors import ArgumentError

        raise ArgumentError(f"values ({x.size}) and periods ({p.size}) differ in length")
    ok = ~np.isnan(x)
    return x[ok], p[ok]


def _plain(v: object) -> object:
    return v.item() if hasattr(v, "item") else v


def historical_rank(values: ArrayLike) -> int | None:
    """Rank of the latest value among all non-missing values (1 = highest).

    Examples
    --------
    >>> historical_rank([3, 1, 2])
    2
    """
    x = _float(values).ravel()
    x = x[~np.isnan(x)]
    if x.size == 0:
        return None
    return int(np.sum(x > x[-1]) + 1)


def _peer_mask(num: NDArray, den: NDArray, axis: int, require_all: bool) -> tuple[NDArray, NDArray]:
    both = ~np.isnan(num) & ~np.isnan(den)
    complete = np.all(both, axis=axis, keepdims=True) if require_all else np.ones_like(both)
    return both & complete, complete


def peer_sum(values: ArrayLike, axis: int = 0, require_all: bool = True) -> NDArray | float:
    """Sum across companies (``axis``); NaN where a company is missing if ``require_all``.

    Examples
    --------
    >>> import numpy as np
    >>> peer_sum([[1, 2], [3, np.nan]]).tolist()
    [4.0, nan]
    """
    x = _float(values)
    s = np.nansum(x, axis=axis)
    if require_all:
        s = np.where(np.any(np.isnan(x), axis=axis), np.nan, s)
    else:
        s = np.where(np.all(np.isnan(x), axis=axis), np.nan, s)
    return as_output(np.asarray(s, dtype=float))


def peer_ratio(
    numerators: ArrayLike, denominators: ArrayLike, axis: int = 0, require_all: bool = True
) -> NDArray | float:
    """Correctly weighted peer ratio: the ratio of sums, not the mean of ratios.

    Parameters
    ----------
    numerators, denominators : array_like
        Companies along ``axis`` (e.g. shape ``(companies, years)`` with ``axis=0``).
    require_all : bool
        If True (default) a period where any company lacks either figure is NaN, so every
        period covers the same company set. If False, each period sums the companies that
        report both figures.

    Notes
    -----
    .. math:: R_t = \\frac{\\sum_i n_{i,t}}{\\sum_i d_{i,t}}

    Examples
    --------
    Capex/OCF of two companies, (10/100) and (90/100): the peer ratio is 100/200 = 0.5,
    while the mean of the two ratios would be the same here but not in general:

    >>> float(peer_ratio([10, 90], [100, 100]))
    0.5
    >>> float(peer_ratio([10, 90], [20, 180]))
    0.5
    """
    n, d = np.broadcast_arrays(_float(numerators), _float(denominators))
    both, _ = _peer_mask(n, d, axis, require_all)
    sn = np.sum(np.where(both, n, 0.0), axis=axis)
    sd = np.sum(np.where(both, d, 0.0), axis=axis)
    none = ~np.any(both, axis=axis)
    if require_all:
        none |= ~np.all(~np.isnan(n) & ~np.isnan(d), axis=axis)
    r = divide(sn, np.where(none, np.nan, sd))
    return as_output(np.asarray(r, dtype=float))

