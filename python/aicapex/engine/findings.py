"""The report's findings, recomputed from filings: latest ratios and where they stand.

Each company's latest fiscal year with a capex/OCF ratio, its standing against its own
history in words that match the numbers ("record high", "highest since FY…", "below the
FY… peak"; :func:`aicapex.engine.metrics.standing`), its free cash flow on its own
definition, and the definitions and basis breaks behind them. The AI-peer aggregate
(:data:`aicapex.engine.definitions.PEER_SET`, ratio of sums) closes the table; the control
company (AAPL) is reported on its own and marked as such.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from aicapex.data.dataset import Dataset
from aicapex.engine import definitions as d
from aicapex.engine.company_metrics import metric_frame, peer_members, peer_series
from aicapex.engine.metrics import Standing, period_label, standing

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
    # added with stated definitions (issue 15); the columns above are the original interface
    "role",
    "capex_basis",
    "capex_to_ocf_standing",
    "da_to_revenue_standing",
    "fcf_definition",
    "da_definition",
    "debt_definition",
    "lease_definition",
    "notes",
]

_FIELDS = ["capex_to_ocf", "fcf", "da_to_revenue", "lease_to_fixed_assets", "debt_issued"]
_INPUTS = {"capex_to_ocf": ("capex", "ocf"), "da_to_revenue": ("da_cashflow", "revenue")}


def since_phrase(metric_label: str, since: object, is_record: bool, first: object) -> str:
    """Words for :func:`aicapex.engine.metrics.highest_since`'s answer (kept for callers of
    the old interface; :meth:`aicapex.engine.metrics.Standing.phrase` is the full story)."""
    if since is None:
        return f"{metric_label}: not enough history"
    if is_record:
        return f"{metric_label} record high (data from {period_label(first)})"
    return f"{metric_label} highest since {period_label(since)}"


def standing_at(series: pd.Series, fiscal_year: int) -> Standing | None:
    """Standing of ``series`` (indexed by fiscal year) in ``fiscal_year``; None when that
    year's value is missing."""
    s = series.loc[:fiscal_year].dropna()
    if s.empty or int(s.index[-1]) != int(fiscal_year):
        return None
    return standing(s.to_numpy(), [int(y) for y in s.index])


def _reference(st: Standing) -> object:
    """The earliest period a standing compares the latest value with."""
    if st.kind == "record":
        return st.first_period
    if st.kind == "highest_since":
        return st.since
    return min(st.peak_period, st.previous_period)


def _clause(label: str, value: float, st: Standing | None, fy: int, pct: bool = True) -> str:
    if st is None:
        return f"{label}: FY{fy} not reported"
    shown = f"{value:.1%}" if pct else f"{value:,.0f}"
    return f"{label} {shown}, {st.phrase()}"


def _since_column(st: Standing | None) -> object:
    return st.since if st is not None and st.kind == "highest_since" else None


def _crossing(tickers: list[str], metric: str, st: Standing | None, fy: int) -> list[str]:
    """Basis breaks that a standing's comparison crosses."""
    if st is None or st.kind == "insufficient":
        return []
    since = int(_reference(st))
    out = []
    for t in tickers:
        note = d.break_note(t, _INPUTS[metric], fy, since=since)
        if note:
            out.append(f"{metric} compares across the {t} {note}")
    return out


def company_findings(ds: Dataset, tickers: Iterable[str] | None = None,
                     basis: str = d.DEFAULT_CAPEX_BASIS, peer: bool = False) -> pd.DataFrame:
    """One row per company for its latest fiscal year with a capex/OCF ratio; with ``peer``
    a last row ``PEER`` for the AI-peer aggregate (ratio of sums over the companies of
    :data:`~aicapex.engine.definitions.PEER_SET` among ``tickers``)."""
    basis = d.check_capex_basis(basis)
    names = [ds.check_ticker(t) for t in (list(tickers) if tickers is not None else ds.tickers)]
    rows = []
    for t in names:
        frame = metric_frame(ds, t, _FIELDS, basis=basis)
        ratio = frame["capex_to_ocf"].dropna()
        if ratio.empty:
            continue
        fy = int(ratio.index[-1])
        latest = frame.loc[fy]
        c_st = standing_at(frame["capex_to_ocf"], fy)
        d_st = standing_at(frame["da_to_revenue"], fy)
        role = d.company_role(t)
        who = f"{t} FY{fy}" + (" (control, outside the AI-peer aggregate)" if role == "control"
                               else "")
        words = [_clause("capex/OCF", latest["capex_to_ocf"], c_st, fy),
                 f"FCF {latest['fcf']:,.0f} ({d.fcf_definition(t, basis)})"
                 if not np.isnan(latest["fcf"]) else f"FCF: FY{fy} not reported",
                 _clause("D&A/revenue", latest["da_to_revenue"], d_st, fy)]
        notes = _crossing([t], "capex_to_ocf", c_st, fy) + _crossing([t], "da_to_revenue", d_st, fy)
        rows.append({
            "ticker": t, "fiscal_year": fy,
            "capex_to_ocf": latest["capex_to_ocf"],
            "capex_to_ocf_highest_since": _since_column(c_st),
            "fcf": latest["fcf"],
            "da_to_revenue": latest["da_to_revenue"],
            "da_to_revenue_highest_since": _since_column(d_st),
            "lease_to_fixed_assets": latest["lease_to_fixed_assets"],
            "debt_issued": latest["debt_issued"],
            "finding": f"{who}: " + "; ".join(words) + "".join(f" [{n}]" for n in notes),
            "role": role, "capex_basis": basis,
            "capex_to_ocf_standing": c_st.phrase() if c_st else None,
            "da_to_revenue_standing": d_st.phrase() if d_st else None,
            "fcf_definition": d.fcf_definition(t, basis),
            "da_definition": d.field_definition(t, "da_cashflow"),
            "debt_definition": d.metric_definition(t, "debt_issued", basis),
            "lease_definition": d.metric_definition(t, "lease_to_fixed_assets", basis),
            "notes": "; ".join(notes) or None,
        })
    if peer:
        members = [t for t in names if t in d.PEER_SET]
        if len(members) > 1:
            rows.append(_peer_row(ds, members, basis))
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    for col in ("capex_to_ocf_highest_since", "da_to_revenue_highest_since"):
        out[col] = pd.Series([None if v is None or pd.isna(v) else int(v) for v in out[col]],
                             index=out.index, dtype=object)
    return out


def _peer_row(ds: Dataset, members: list[str], basis: str) -> dict:
    series = {name: peer_series(ds, members, name, basis=basis)
              for name in ("capex_to_ocf", "fcf", "da_to_revenue", "lease_to_fixed_assets",
                           "debt_issued")}
    ratio = series["capex_to_ocf"].dropna()
    fy = int(ratio.index[-1]) if not ratio.empty else None
    if fy is None:
        return {"ticker": d.PEER, "role": "AI-peer aggregate", "capex_basis": basis,
                "finding": f"AI peers ({'+'.join(members)}): no year in which every member "
                           "reports capex and OCF"}
    c_st = standing_at(series["capex_to_ocf"], fy)
    d_st = standing_at(series["da_to_revenue"], fy)
    fcf = series["fcf"].get(fy, np.nan)
    words = [_clause("capex/OCF", series["capex_to_ocf"][fy], c_st, fy),
             f"FCF {fcf:,.0f} (sum of each company's own definition)" if not np.isnan(fcf)
             else f"FCF: FY{fy} not reported by every member",
             _clause("D&A/revenue", series["da_to_revenue"][fy], d_st, fy)]
    notes = _crossing(members, "capex_to_ocf", c_st, fy) + _crossing(members, "da_to_revenue",
                                                                    d_st, fy)
    return {
        "ticker": d.PEER, "fiscal_year": fy,
        "capex_to_ocf": series["capex_to_ocf"][fy],
        "capex_to_ocf_highest_since": _since_column(c_st),
        "fcf": fcf,
        "da_to_revenue": series["da_to_revenue"][fy],
        "da_to_revenue_highest_since": _since_column(d_st),
        "lease_to_fixed_assets": series["lease_to_fixed_assets"].get(fy, np.nan),
        "debt_issued": series["debt_issued"].get(fy, np.nan),
        "finding": f"AI peers ({'+'.join(members)}) FY{fy}, ratio of sums: " + "; ".join(words)
                   + "".join(f" [{n}]" for n in notes),
        "role": "AI-peer aggregate", "capex_basis": basis,
        "capex_to_ocf_standing": c_st.phrase() if c_st else None,
        "da_to_revenue_standing": d_st.phrase() if d_st else None,
        "fcf_definition": "sum of each member's own free-cash-flow definition",
        "da_definition": "sum of each member's D&A (definitions differ: see the company rows)",
        "debt_definition": "sum of each member's debt issuance proceeds",
        "lease_definition": d.peer_definition("lease_to_fixed_assets", members, basis),
        "notes": "; ".join(notes) or None,
    }


__all__ = ["FINDING_COLUMNS", "company_findings", "since_phrase", "standing_at",
           "peer_members"]
