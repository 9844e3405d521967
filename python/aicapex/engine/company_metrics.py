"""Company × fiscal year tables of the capex metrics, computed from a :class:`Dataset`.

:data:`METRICS` is the single registry: metric name → (function, input fields, unit). The
command line, the ``CPX_RATIOS``/``CPX_PEER`` Excel functions and the workbook all read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aicapex.data.dataset import Dataset
from aicapex.engine import metrics as m
from aicapex.errors import DataError


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    func: Callable[..., object]
    fields: tuple[str, ...]
    unit: str  # "%", "x" or "$m"
    #: For peer aggregates: numerator and denominator expressions as field sums, or None
    #: when the metric is a sum (``fcf``, ``net_debt``, ``debt_issued``).
    peer: tuple[tuple[str, ...], tuple[str, ...]] | None = None


def _identity(x: object) -> object:
    return np.asarray(x, dtype=float)


METRICS: dict[str, Metric] = {
    mt.name: mt
    for mt in [
        Metric("capex_to_ocf", "Capex / operating cash flow", m.capex_to_ocf, ("capex", "ocf"), "%",
               (("capex",), ("ocf",))),
        Metric("fcf", "Free cash flow (OCF - capex)", m.fcf, ("ocf", "capex"), "$m"),
        Metric("fcf_margin", "FCF margin", m.fcf_margin, ("ocf", "capex", "revenue"), "%",
               (("ocf", "-capex"), ("revenue",))),
        Metric("capex_to_revenue", "Capex / revenue", m.capex_to_revenue, ("capex", "revenue"), "%",
               (("capex",), ("revenue",))),
        Metric("da_to_revenue", "D&A / revenue", m.da_to_revenue, ("da_cashflow", "revenue"), "%",
               (("da_cashflow",), ("revenue",))),
        Metric("da_to_capex", "D&A / capex", m.da_to_capex, ("da_cashflow", "capex"), "%",
               (("da_cashflow",), ("capex",))),
        Metric("lease_to_fixed_assets", "Operating-lease ROU assets / net PP&E",
               m.lease_to_fixed_assets, ("op_lease_rou_assets", "ppe_net"), "%",
               (("op_lease_rou_assets",), ("ppe_net",))),
        Metric("net_debt", "Net debt (debt - cash & securities)", m.net_debt,
               ("total_debt", "cash_and_marketable_securities"), "$m"),
        Metric("debt_issued", "Debt issuance proceeds", _identity, ("debt_issuance_proceeds",), "$m"),
        Metric("capex_growth", "Capex growth, year on year", m.growth, ("capex",), "%"),
    ]
}

#: The metric columns the ``metrics`` command prints by default (an interface: keep).
DEFAULT_METRICS = [
    "capex_to_ocf",
    "fcf",
    "fcf_margin",
    "capex_to_revenue",
    "da_to_revenue",
    "lease_to_fixed_assets",
    "net_debt",
    "debt_issued",
]


def check_metric(name: str) -> Metric:
    key = str(name).strip().lower()
    if key not in METRICS:
        raise DataError(f"unknown metric {name!r}; choose from {', '.join(METRICS)}")
    return METRICS[key]


def metric_frame(
    ds: Dataset,
    ticker: str,
    metric_names: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One company: index fiscal_year, one column per metric (NaN where an input is missing)."""
    names = list(metric_names or DEFAULT_METRICS)
    wide = ds.wide(ticker)
    if years is not None:
        wide = wide.reindex(list(years))
    out = pd.DataFrame(index=wide.index)
    for name in names:
        mt = check_metric(name)
        args = [wide[f].to_numpy(dtype=float) if f in wide else np.full(len(wide), np.nan)
                for f in mt.fields]
        out[name] = np.asarray(mt.func(*args), dtype=float)
    return out


def metrics_long(
    ds: Dataset,
    tickers: Iterable[str] | None = None,
    metric_names: Sequence[str] | None = None,
    years: tuple[int | None, int | None] = (None, None),
) -> pd.DataFrame:
    """Tidy table with columns ``ticker, fiscal_year, metric, value`` (value NaN = missing)."""
    names = list(metric_names or DEFAULT_METRICS)
    rows = []
    for t in (list(tickers) if tickers is not None else ds.tickers):
        t = ds.check_ticker(t)
        frame = metric_frame(ds, t, names)
        lo, hi = years
        if lo is not None:
            frame = frame[frame.index >= int(lo)]
        if hi is not None:
            frame = frame[frame.index <= int(hi)]
        for fy, row in frame.iterrows():
            for name in names:
                rows.append({"ticker": t, "fiscal_year": int(fy), "metric": name, "value": row[name]})
    return pd.DataFrame(rows, columns=["ticker", "fiscal_year", "metric", "value"])


def _field_sum(ds: Dataset, terms: tuple[str, ...], tickers: list[str], years: list[int]) -> np.ndarray:
    total = np.zeros((len(tickers), len(years)))
    for term in terms:
        sign = -1.0 if term.startswith("-") else 1.0
        panel = ds.panel(term.lstrip("-"), tickers).reindex(years)
        total = total + sign * panel.to_numpy(dtype=float).T
    return total


def peer_series(
    ds: Dataset,
    tickers: Sequence[str],
    metric: str,
    years: Sequence[int] | None = None,
) -> pd.Series:
    """Correctly weighted peer aggregate of ``metric`` over ``tickers`` by fiscal year.

    Ratios are ratios of sums (Σ capex / Σ OCF over the same companies); money metrics are
    sums. A year in which any of the companies lacks an input is NaN, so every value covers
    the same company set. Fiscal years are summed as reported (not calendarised).
    """
    mt = check_metric(metric)
    names = [ds.check_ticker(t) for t in tickers]
    if years is None:
        years = sorted(set(ds.annual.loc[ds.annual["ticker"].isin(names), "fiscal_year"]))
    years = [int(y) for y in years]
    if mt.peer is not None:
        num = _field_sum(ds, mt.peer[0], names, years)
        den = _field_sum(ds, mt.peer[1], names, years)
        values = m.peer_ratio(num, den, axis=0)
    elif mt.name == "capex_growth":
        values = m.growth(m.peer_sum(_field_sum(ds, ("capex",), names, years), axis=0))
    else:
        per_company = np.vstack([metric_frame(ds, t, [mt.name], years)[mt.name].to_numpy() for t in names])
        values = m.peer_sum(per_company, axis=0)
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index(years, name="fiscal_year"),
                     name=f"{mt.name} ({'+'.join(names)})")
