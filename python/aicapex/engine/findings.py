"""The report's findings, recomputed from filings: latest ratios and "highest since FY…"."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from aicapex.data.dataset import Dataset
from aicapex.engine.company_metrics import metric_frame
from aicapex.engine.metrics import highest_since

FINDING_COLUMNS = [
    "ticker",
    "fiscal_year",
    "capex_to_ocf",
    "capex_to_ocf_highest_since",
    "fcf",
    "da_to_revenue",
    "da_to_revenue_highest_since",
    "lease_to_fixed_assets",
    "debt_issued",
    "finding",
]


def since_phrase(metric_label: str, since: object, is_record: bool, first: object) -> str:
    """Words for :func:`aicapex.engine.metrics.highest_since`'s answer."""
    if since is None:
        return f"{metric_label}: not enough history"
    if is_record:
        return f"{metric_label} at its highest in the data (since FY{first})"
    return f"{metric_label} highest since FY{since}"


def _since(series: pd.Series) -> tuple[object, bool, object]:
    s = series.dropna()
    if s.empty:
        return None, False, None
    since, record = highest_since(s.to_numpy(), s.index.to_numpy())
    return since, record, int(s.index[0])


def company_findings(ds: Dataset, tickers: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per company for its latest fiscal year with a capex/OCF ratio."""
    rows = []
    for t in (list(tickers) if tickers is not None else ds.tickers):
        t = ds.check_ticker(t)
        frame = metric_frame(
            ds, t, ["capex_to_ocf", "fcf", "da_to_revenue", "lease_to_fixed_assets", "debt_issued"]
        )
        ratio = frame["capex_to_ocf"].dropna()
        if ratio.empty:
            continue
        fy = int(ratio.index[-1])
        upto = frame.loc[:fy]
        c_since, c_rec, c_first = _since(upto["capex_to_ocf"])
        d_since, d_rec, d_first = _since(upto["da_to_revenue"])
        latest = frame.loc[fy]
        words = [
            f"{t} FY{fy}: capex/OCF {latest['capex_to_ocf']:.1%}",
            since_phrase("capex/OCF", c_since, c_rec, c_first),
        ]
        if not np.isnan(latest["da_to_revenue"]):
            words.append(
                since_phrase(f"D&A/revenue {latest['da_to_revenue']:.1%}", d_since, d_rec, d_first)
            )
        rows.append(
            {
                "ticker": t,
                "fiscal_year": fy,
                "capex_to_ocf": latest["capex_to_ocf"],
                "capex_to_ocf_highest_since": c_first if c_rec else c_since,
                "fcf": latest["fcf"],
                "da_to_revenue": latest["da_to_revenue"],
                "da_to_revenue_highest_since": d_first if d_rec else d_since,
                "lease_to_fixed_assets": latest["lease_to_fixed_assets"],
                "debt_issued": latest["debt_issued"],
                "finding": "; ".join(words),
            }
        )
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)
