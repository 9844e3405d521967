"""AI-cloud backlog: remaining performance obligations (RPO) against cloud-segment revenue.

Backlog coverage divides RPO by the **cloud segment's** revenue (``cloud_segment_revenue``: AWS,
Google Cloud, Microsoft Intelligent Cloud, Oracle "cloud services and license support"), the
business the backlog mostly belongs to; coverage on total revenue is kept as a second line.
Companies without a cloud segment (META, AAPL) have no cloud coverage: missing, never zero.
Microsoft's Intelligent Cloud has a basis break between FY2022 and FY2023 (the segment was
redefined in August 2024, recast back to FY2023 only); each year uses its own basis.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from aicapex.engine.company_metrics import yearly_columns
from aicapex.engine.metrics import divide, growth
from aicapex.engine.validation import as_output, check_range

__all__ = ["BACKLOG_COLUMNS", "backlog_coverage", "backlog_growth", "backlog_table"]

USD_M = "USD millions >= 0"


def backlog_coverage(rpo: ArrayLike, revenue: ArrayLike) -> NDArray | float:
    """Years of revenue in the backlog: remaining performance obligations over annual revenue.

    Parameters
    ----------
    rpo : array_like
        Remaining performance obligations (contracted backlog), USD millions, >= 0.
    revenue : array_like
        Annual revenue, USD millions, >= 0.

    Returns
    -------
    ndarray or float
        Years; NaN where revenue is 0 or an input is NaN.

    Notes
    -----
    .. math:: \\text{coverage} = \\text{RPO} / \\text{revenue}

    The denominator says what the coverage means: on the cloud segment's revenue
    (``cloud_segment_revenue``) it is years of cloud revenue under contract, the AI-exposed
    business the backlog mostly belongs to; on total revenue it mixes in retail, ads and devices.

    Examples
    --------
    AMZN FY2025: RPO 244,000 / AWS net sales 128,725 = 1.90 years of AWS revenue; on total
    revenue (716,924) only 0.34 years.

    >>> round(backlog_coverage(244_000, 128_725), 2)
    1.9
    >>> round(backlog_coverage(244_000, 716_924), 2)
    0.34
    >>> backlog_coverage([100, 50], [0, 25]).tolist()
    [nan, 2.0]
    """
    r = check_range("rpo", rpo, 0, math.inf, USD_M)
    v = check_range("revenue", revenue, 0, math.inf, USD_M)
    return as_output(divide(r, v))


def backlog_growth(rpo: ArrayLike, axis: int = -1) -> NDArray:
    """Period-on-period growth of the backlog along ``axis``; the first period is NaN.

    Parameters
    ----------
    rpo : array_like
        Backlog (RPO) by consecutive period, USD millions, >= 0.
    axis : int, default -1
        Time axis.

    Returns
    -------
    ndarray
        Growth rates (0.1 = 10%); NaN for the first period and where the prior value is 0 or
        either value is NaN (a missing year breaks the chain; nothing is filled).

    Notes
    -----
    .. math:: g_t = \\text{RPO}_t / \\text{RPO}_{t-1} - 1

    Examples
    --------
    MSFT RPO 229,000 (FY2023) -> 275,000 (FY2024) -> 375,000 (FY2025):
    275/229 - 1 = 0.2009; 375/275 - 1 = 0.3636.

    >>> np.round(backlog_growth([229_000, 275_000, 375_000]), 4).tolist()
    [nan, 0.2009, 0.3636]
    """
    return growth(check_range("rpo", rpo, 0, math.inf, USD_M), axis=axis)


#: Columns of :func:`backlog_table`: the cloud-revenue coverage first, then the total-revenue
#: line kept for comparison (``revenue``, ``backlog_coverage_years``).
BACKLOG_COLUMNS = [
    "ticker",
    "fiscal_year",
    "rpo",
    "cloud_segment_revenue",
    "backlog_coverage_cloud_years",
    "revenue",
    "backlog_coverage_years",
    "backlog_growth",
    "cloud_basis",
]

#: Basis notes per company for ``cloud_basis`` (MSFT: by fiscal year, see :func:`cloud_basis`).
CLOUD_BASIS = {
    "AMZN": "AWS segment net sales",
    "GOOGL": "Google Cloud segment revenues",
    "ORCL": "cloud services and license support (includes on-premise license support)",
}


def cloud_basis(ticker: str, fiscal_year: int) -> str:
    """What ``cloud_segment_revenue`` is for ``ticker`` in ``fiscal_year`` ('' = no segment).

    Examples
    --------
    >>> cloud_basis("MSFT", 2022)
    'Intelligent Cloud, pre-August-2024 segment definition (basis break before FY2023)'
    >>> cloud_basis("META", 2025)
    ''
    """
    if ticker == "MSFT":
        if fiscal_year >= 2023:
            return "Intelligent Cloud, segment definition of August 2024 (recast from FY2023)"
        return "Intelligent Cloud, pre-August-2024 segment definition (basis break before FY2023)"
    return CLOUD_BASIS.get(ticker, "")


def backlog_table(ds: object, tickers: Iterable[str] | None = None) -> pd.DataFrame:
    """RPO, cloud-segment and total revenue, coverage on each, and backlog growth by year.

    Parameters
    ----------
    ds : aicapex.data.dataset.Dataset
        Anything with ``tickers`` and ``wide(ticker)`` (index fiscal_year, one column per
        field; NaN = missing).
    tickers : iterable of str, optional
        Companies, in order. Default: every company that reports any RPO.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BACKLOG_COLUMNS`: ticker, fiscal_year, rpo, cloud_segment_revenue,
        backlog_coverage_cloud_years (RPO / cloud revenue), revenue, backlog_coverage_years
        (RPO / total revenue, the second line), backlog_growth (fraction) and cloud_basis (what
        the cloud figure is). Missing figures stay NaN (a company without a cloud segment has
        no cloud coverage); growth compares with the previous fiscal year only, so a missing
        year leaves NaN on both sides of the gap.

    Notes
    -----
    .. math:: \\text{coverage}^{\\text{cloud}}_t = \\text{RPO}_t / R^{\\text{cloud}}_t,
              \\qquad \\text{coverage}_t = \\text{RPO}_t / R_t, \\qquad
              g_t = \\text{RPO}_t / \\text{RPO}_{t-1} - 1
    """
    names = list(ds.tickers) if tickers is None else [str(t).strip().upper() for t in tickers]
    parts = []
    for t in names:
        w = ds.wide(t)
        if tickers is None and ("rpo" not in w.columns or w["rpo"].isna().all()):
            continue
        if w.empty:
            continue
        full, (rpo, rev, cloud) = yearly_columns(w, ["rpo", "revenue", "cloud_segment_revenue"])
        part = pd.DataFrame(
            {
                "ticker": t,
                "fiscal_year": full,
                "rpo": rpo,
                "cloud_segment_revenue": cloud,
                "backlog_coverage_cloud_years": backlog_coverage(rpo, cloud),
                "revenue": rev,
                "backlog_coverage_years": backlog_coverage(rpo, rev),
                "backlog_growth": backlog_growth(rpo),
                "cloud_basis": [cloud_basis(t, int(y)) if not np.isnan(c) else ""
                                for y, c in zip(full, cloud, strict=True)],
            }
        )
        parts.append(part[part["fiscal_year"].isin(w.index.astype(int))])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in BACKLOG_COLUMNS})
    return pd.concat(parts, ignore_index=True)[BACKLOG_COLUMNS]
