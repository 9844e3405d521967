"""Company × fiscal year tables of the capex metrics, computed from a :class:`Dataset`.

:data:`METRICS` is the single registry: metric name → (function, inputs, unit, peer rule).
The command line, the ``CPX_RATIOS``/``CPX_PEER`` Excel functions and the workbook all read
it. Inputs are reported fields, except ``capex`` (the company's capex on the chosen basis)
and ``fcf_capex`` (what the company's own free cash flow deducts), whose reported fields
come from :mod:`aicapex.engine.definitions`. Any reported field is also a metric (its
reported value; ``capex`` on the chosen basis).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aicapex.data.dataset import Dataset
from aicapex.engine import definitions as d
from aicapex.engine import metrics as m
from aicapex.errors import DataError


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    func: Callable[..., object]
    fields: tuple[str, ...]  # inputs: reported fields, or the derived "capex" / "fcf_capex"
    unit: str  # "%" (a fraction), "x" or "$m"
    #: For peer aggregates: numerator and denominator as sums of inputs ("-name" subtracts),
    #: or None when the peer value is the sum of the company values.
    peer: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    @property
    def unit_name(self) -> str:
        return "USD m" if self.unit == "$m" else "fraction"


def _identity(x: object) -> object:
    return np.asarray(x, dtype=float)


METRICS: dict[str, Metric] = {
    mt.name: mt
    for mt in [
        Metric("capex_to_ocf", "Capex / operating cash flow", m.capex_to_ocf, ("capex", "ocf"), "%",
               (("capex",), ("ocf",))),
        Metric("capex_on_basis", "Capex on the chosen basis (cash, or incl. finance leases)",
               _identity, ("capex",), "$m"),
        Metric("fcf_capex", "Capex deducted in free cash flow (company definition)", _identity,
               ("fcf_capex",), "$m"),
        Metric("fcf", "Free cash flow (company definition)", m.fcf, ("ocf", "fcf_capex"), "$m"),
        Metric("fcf_margin", "FCF margin", m.fcf_margin, ("ocf", "fcf_capex", "revenue"), "%",
               (("ocf", "-fcf_capex"), ("revenue",))),
        Metric("fcf_ocf_less_capex", "OCF - capex (same rule for all)", m.fcf, ("ocf", "capex"),
               "$m"),
        Metric("capex_to_revenue", "Capex / revenue", m.capex_to_revenue, ("capex", "revenue"), "%",
               (("capex",), ("revenue",))),
        Metric("da_to_revenue", "D&A / revenue", m.da_to_revenue, ("da_cashflow", "revenue"), "%",
               (("da_cashflow",), ("revenue",))),
        Metric("da_to_capex", "D&A / capex", m.da_to_capex, ("da_cashflow", "capex"), "%",
               (("da_cashflow",), ("capex",))),
        Metric("lease_to_fixed_assets", "Operating-lease ROU assets / net PP&E",
               m.lease_to_fixed_assets, ("op_lease_rou_assets", "ppe_net"), "%",
               (("op_lease_rou_assets",), ("ppe_net",))),
        Metric("lease_liabilities_to_fixed_assets",
               "Operating + finance lease liabilities / net PP&E",
               lambda op, fin, ppe: m.divide(np.asarray(op, float) + np.asarray(fin, float), ppe),
               ("op_lease_liabilities_total", "fin_lease_liabilities_total", "ppe_net"), "%",
               (("op_lease_liabilities_total", "fin_lease_liabilities_total"), ("ppe_net",))),
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

#: Columns of :func:`metrics_long`; the first four are the original interface.
LONG_COLUMNS = ["ticker", "fiscal_year", "metric", "value", "unit", "basis", "definition", "note"]


def check_metric(name: str, fields: Iterable[str] = ()) -> Metric:
    """The metric called ``name``: a registered metric or, when ``fields`` (the reported
    field names) holds it, the reported field as a metric."""
    raw = str(name).strip()
    key = raw.lower()
    if key in METRICS:
        return METRICS[key]
    fields = list(fields)
    if raw in fields or key in fields:
        field = raw if raw in fields else key
        return Metric(field, field, _identity, (field,), "$m")
    raise DataError(f"unknown metric {name!r}{d.suggest(key, [*METRICS, *fields])}; choose from "
                    f"{', '.join(METRICS)} or a reported field ({', '.join(fields) or 'see CPX_FIELDS'})")


def input_values(wide: pd.DataFrame, ticker: str, name: str, basis: str) -> np.ndarray:
    """One metric input over ``wide``'s fiscal years: the sum of its reported fields; NaN
    where any of them is missing (never a partial sum)."""
    total = np.zeros(len(wide))
    for term in d.input_terms(ticker, name, basis):
        values = wide[term].to_numpy(dtype=float) if term in wide else np.full(len(wide), np.nan)
        total = total + values
    return total


def missing_inputs(wide: pd.DataFrame, ticker: str, mt: Metric, basis: str, fiscal_year: int) -> list[str]:
    """The reported fields ``mt`` needs for ``fiscal_year`` that ``ticker`` did not report."""
    out = []
    for name in mt.fields:
        for term in d.input_terms(ticker, name, basis):
            value = wide[term].get(fiscal_year, np.nan) if term in wide else np.nan
            if np.isnan(value) and term not in out:
                out.append(term)
    return out


def metric_frame(
    ds: Dataset,
    ticker: str,
    metric_names: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    basis: str = d.DEFAULT_CAPEX_BASIS,
) -> pd.DataFrame:
    """One company: index fiscal_year, one column per metric (NaN where an input is missing)."""
    basis = d.check_capex_basis(basis)
    names = list(metric_names or DEFAULT_METRICS)
    wide = ds.wide(ticker)
    if years is not None:
        wide = wide.reindex(list(years))
    out = pd.DataFrame(index=wide.index)
    for name in names:
        mt = check_metric(name, ds.fields)
        args = [input_values(wide, ds.check_ticker(ticker), f, basis) for f in mt.fields]
        out[mt.name] = np.asarray(mt.func(*args), dtype=float)
    return out


def _note(wide: pd.DataFrame, ticker: str, mt: Metric, basis: str, fiscal_year: int,
          value: float) -> str:
    """Why a value is missing, and any basis break that starts in ``fiscal_year``."""
    fields = [t for f in mt.fields for t in d.input_terms(ticker, f, basis)]
    notes = [d.break_note(ticker, fields, fiscal_year)]
    if np.isnan(value):
        gone = missing_inputs(wide, ticker, mt, basis, fiscal_year)
        if not gone and mt.name == "capex_growth":
            prior = missing_inputs(wide, ticker, mt, basis, fiscal_year - 1)
            gone = [f"{f} FY{fiscal_year - 1}" for f in prior]
        notes.append(f"missing: {', '.join(gone)} not reported" if gone
                     else "missing: zero denominator")
    return "; ".join(n for n in notes if n)


def metrics_long(
    ds: Dataset,
    tickers: Iterable[str] | None = None,
    metric_names: Sequence[str] | None = None,
    years: tuple[int | None, int | None] = (None, None),
    basis: str = d.DEFAULT_CAPEX_BASIS,
) -> pd.DataFrame:
    """Tidy table with columns :data:`LONG_COLUMNS` (value NaN = missing, and ``note`` says
    why; ``note`` also names a basis break starting in that year)."""
    basis = d.check_capex_basis(basis)
    metrics = [check_metric(n, ds.fields) for n in (metric_names or DEFAULT_METRICS)]
    rows = []
    for t in (list(tickers) if tickers is not None else ds.tickers):
        t = ds.check_ticker(t)
        frame = metric_frame(ds, t, [mt.name for mt in metrics], basis=basis)
        wide = ds.wide(t)
        lo, hi = years
        if lo is not None:
            frame = frame[frame.index >= int(lo)]
        if hi is not None:
            frame = frame[frame.index <= int(hi)]
        definitions = {mt.name: d.metric_definition(t, mt.name, basis) for mt in metrics}
        for fy, row in frame.iterrows():
            for mt in metrics:
                value = row[mt.name]
                rows.append({"ticker": t, "fiscal_year": int(fy), "metric": mt.name,
                             "value": value, "unit": mt.unit_name, "basis": basis,
                             "definition": definitions[mt.name],
                             "note": _note(wide, t, mt, basis, int(fy), value)})
    return pd.DataFrame(rows, columns=LONG_COLUMNS)


def _input_sum(ds: Dataset, terms: tuple[str, ...], tickers: list[str], years: list[int],
               basis: str) -> np.ndarray:
    """Companies × years: the signed sum of metric inputs (``"-name"`` subtracts)."""
    total = np.zeros((len(tickers), len(years)))
    for i, t in enumerate(tickers):
        wide = ds.wide(t, years)
        for term in terms:
            sign = -1.0 if term.startswith("-") else 1.0
            total[i] = total[i] + sign * input_values(wide, t, term.lstrip("-"), basis)
    return total


def peer_members(ds: Dataset, tickers: Sequence[str] | None = None) -> list[str]:
    """The companies of a peer aggregate: ``tickers`` (``PEER`` expands to the AI-peer set),
    default :data:`aicapex.engine.definitions.PEER_SET` as covered by ``ds``."""
    if tickers is None:
        return [t for t in d.PEER_SET if t in ds.tickers]
    names: list[str] = []
    for t in tickers:
        if str(t).strip().upper() == d.PEER:
            names += [p for p in d.PEER_SET if p in ds.tickers]
        else:
            names.append(ds.check_ticker(t))
    return list(dict.fromkeys(names))


def peer_series(
    ds: Dataset,
    tickers: Sequence[str] | None,
    metric: str,
    years: Sequence[int] | None = None,
    basis: str = d.DEFAULT_CAPEX_BASIS,
) -> pd.Series:
    """Correctly weighted peer aggregate of ``metric`` over ``tickers`` by fiscal year.

    Ratios are ratios of sums (Σ capex / Σ OCF over the same companies); money metrics are
    sums of the company values (each company's FCF on its own definition). A year in which
    any of the companies lacks an input is NaN, so every value covers the same company set.
    Fiscal years are summed as reported (not calendarised). ``tickers`` None: the AI peers.
    """
    basis = d.check_capex_basis(basis)
    mt = check_metric(metric, ds.fields)
    names = peer_members(ds, tickers)
    if years is None:
        years = sorted(set(ds.annual.loc[ds.annual["ticker"].isin(names), "fiscal_year"]))
    years = [int(y) for y in years]
    if mt.peer is not None:
        num = _input_sum(ds, mt.peer[0], names, years, basis)
        den = _input_sum(ds, mt.peer[1], names, years, basis)
        values = m.peer_ratio(num, den, axis=0)
    elif mt.name == "capex_growth":
        values = m.growth(m.peer_sum(_input_sum(ds, ("capex",), names, years, basis), axis=0))
    else:
        per_company = np.vstack([metric_frame(ds, t, [mt.name], years, basis)[mt.name].to_numpy()
                                 for t in names])
        values = m.peer_sum(per_company, axis=0)
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index(years, name="fiscal_year"),
                     name=f"{mt.name} ({'+'.join(names)})")


#: Columns of :func:`peer_long`: the metrics columns plus the members.
PEER_COLUMNS = [*LONG_COLUMNS, "members"]


def peer_long(
    ds: Dataset,
    tickers: Sequence[str] | None = None,
    metric_names: Sequence[str] | None = None,
    years: tuple[int | None, int | None] = (None, None),
    basis: str = d.DEFAULT_CAPEX_BASIS,
) -> pd.DataFrame:
    """The peer aggregate in :func:`metrics_long`'s layout: ticker ``PEER`` and a
    ``members`` column; ``note`` names the members missing an input in a missing year."""
    basis = d.check_capex_basis(basis)
    names = peer_members(ds, tickers)
    if not names:
        raise DataError("no companies in the peer set")
    metrics = [check_metric(n, ds.fields) for n in (metric_names or DEFAULT_METRICS)]
    series = {mt.name: peer_series(ds, names, mt.name, basis=basis) for mt in metrics}
    definitions = {mt.name: d.peer_definition(mt.name, names, basis, ratio=mt.peer is not None)
                   for mt in metrics}
    lo, hi = years
    rows = []
    for fy in series[metrics[0].name].index:
        if (lo is not None and fy < int(lo)) or (hi is not None and fy > int(hi)):
            continue
        for mt in metrics:
            value = series[mt.name][fy]
            notes = []
            for t in names:
                fields = [x for f in mt.fields for x in d.input_terms(t, f, basis)]
                notes.append(d.break_note(t, fields, int(fy)))
            if np.isnan(value):
                gaps = []
                for t in names:
                    gone = missing_inputs(ds.wide(t), t, mt, basis, int(fy))
                    if gone:
                        gaps.append(f"{t} {', '.join(gone)}")
                notes.append("missing: " + ("; ".join(gaps) + " not reported" if gaps
                                            else "a member's value is missing"))
            rows.append({"ticker": d.PEER, "fiscal_year": int(fy), "metric": mt.name,
                         "value": value, "unit": mt.unit_name, "basis": basis,
                         "definition": definitions[mt.name],
                         "note": "; ".join(n for n in notes if n),
                         "members": "+".join(names)})
    return pd.DataFrame(rows, columns=PEER_COLUMNS)


def yearly_columns(wide: pd.DataFrame, fields: Sequence[str]
                   ) -> tuple[pd.RangeIndex, list[np.ndarray]]:
    """A company's annual fields on every fiscal year from its first to its last.

    A year the data skip, or a field the company does not report, is NaN, so a year-on-year
    comparison never spans a hole.

    Parameters
    ----------
    wide : DataFrame
        One company's annual figures, a row per fiscal year (``Dataset.wide``).
    fields : sequence of str
        Column names; absent ones give NaN throughout.

    Returns
    -------
    years : RangeIndex
        First to last fiscal year of ``wide`` (empty when ``wide`` is).
    columns : list of ndarray
        One float array per field, aligned on ``years``.

    Examples
    --------
    >>> w = pd.DataFrame({"capex": [1.0, 3.0]}, index=[2020, 2022])
    >>> years, (capex, rpo) = yearly_columns(w, ["capex", "rpo"])
    >>> list(years), capex.tolist(), rpo.tolist()
    ([2020, 2021, 2022], [1.0, nan, 3.0], [nan, nan, nan])
    """
    present = [int(y) for y in wide.index]
    years = pd.RangeIndex(min(present), max(present) + 1) if present else pd.RangeIndex(0)
    columns = []
    for name in fields:
        s = wide[name] if name in wide.columns else pd.Series(np.nan, index=wide.index)
        columns.append(s.astype(float).reindex(years).to_numpy())
    return years, columns
