"""CPX_ ratio functions over ranges, and the company and peer tables."""

from __future__ import annotations

from typing import Any

import numpy as np

from aicapex.data.dataset import current_dataset
from aicapex.engine import definitions as defs
from aicapex.engine import metrics as m
from aicapex.engine.company_metrics import (
    DEFAULT_METRICS,
    check_metric,
    metric_frame,
    peer_members,
    peer_series,
)
from aicapex.udfs.arguments import (
    cpx_function,
    elementwise,
    flag,
    optional_number,
    shape,
    table,
    text,
    text_list,
    vector,
    year,
)
from aicapex.xlerrors import XlError

BASIS = ('Capex basis: "cash" (default, each company\'s cash-flow line) or '
         '"incl-finance-leases" (plus finance-lease principal payments)')
CAPEX = "Capex, USD m, positive = cash spent (cell or row/column range)"
OCF = "Operating cash flow, USD m (same shape as capex)"
REVENUE = "Revenue, USD m"


@cpx_function(capex=CAPEX, ocf=OCF)
def cpx_capex_to_ocf(capex, ocf) -> Any:
    """Capex / operating cash flow (fraction; above 1 = capex exceeds OCF)."""
    return elementwise(m.capex_to_ocf, [vector(capex, "capex"), vector(ocf, "ocf")], ["capex", "ocf"])


@cpx_function(ocf=OCF, capex=CAPEX)
def cpx_fcf(ocf, capex) -> Any:
    """Free cash flow = OCF - capex, USD m."""
    return elementwise(m.fcf, [vector(ocf, "ocf"), vector(capex, "capex")], ["ocf", "capex"])


@cpx_function(ocf=OCF, capex=CAPEX, revenue=REVENUE)
def cpx_fcf_margin(ocf, capex, revenue) -> Any:
    """FCF margin = (OCF - capex) / revenue."""
    args = [vector(ocf, "ocf"), vector(capex, "capex"), vector(revenue, "revenue")]
    return elementwise(m.fcf_margin, args, ["ocf", "capex", "revenue"])


@cpx_function(capex=CAPEX, revenue=REVENUE)
def cpx_capex_to_revenue(capex, revenue) -> Any:
    """Capex intensity = capex / revenue."""
    return elementwise(m.capex_to_revenue, [vector(capex, "capex"), vector(revenue, "revenue")],
                       ["capex", "revenue"])


@cpx_function(da="Depreciation & amortization, USD m", revenue=REVENUE)
def cpx_da_to_revenue(da, revenue) -> Any:
    """D&A / revenue."""
    return elementwise(m.da_to_revenue, [vector(da, "da"), vector(revenue, "revenue")], ["da", "revenue"])


@cpx_function(rou="Operating-lease right-of-use assets, USD m", ppe="Net PP&E, USD m")
def cpx_lease_to_fixed(rou, ppe) -> Any:
    """Operating-lease ROU assets / net PP&E (leasing relative to self-build)."""
    return elementwise(m.lease_to_fixed_assets, [vector(rou, "rou"), vector(ppe, "ppe")], ["rou", "ppe"])


@cpx_function(debt="Total debt, USD m", cash="Cash and marketable securities, USD m")
def cpx_net_debt(debt, cash) -> Any:
    """Net debt = debt - cash & securities, USD m (negative = net cash)."""
    return elementwise(m.net_debt, [vector(debt, "debt"), vector(cash, "cash")], ["debt", "cash"])


def _zero_prior(values: np.ndarray):
    def reason(i: int) -> XlError:
        if i == 0:
            return XlError("#N/A", "no prior period")
        return XlError("#DIV/0!", "prior period is zero")

    return reason


@cpx_function(values="A series in time order (row or column)")
def cpx_growth(values) -> Any:
    """Period-on-period growth; the first period is #N/A (no prior period)."""
    v = vector(values, "values")
    out = elementwise(lambda x: m.growth(x), [v], ["values"], nan_reason=_zero_prior(v.values))
    if len(v) > 1:  # the first cell has no prior period, whatever its value
        out[0][0] = XlError("#N/A", "no prior period")
    return out


@cpx_function(values="A series in time order", years="Years from first to last (optional; default count - 1)")
def cpx_cagr(values, years=None) -> Any:
    """Compound annual growth rate from the first to the last value."""
    v = vector(values, "values")
    err = next((e for e in v.errors if e is not None), None)
    if err is not None:
        return err
    n = optional_number(years, "years")
    if len(v) < 2 and n is None:
        return XlError("#VALUE!", "values: need at least two values")
    first, last = v.values[0], v.values[-1]
    if np.isnan(first) or np.isnan(last):
        return XlError("#N/A", "missing first or last value")
    r = m.cagr(v.values, years=n)
    if np.isnan(r):
        return XlError("#NUM!", "CAGR needs positive first and last values and years > 0")
    return float(r)


@cpx_function(quarterly="Quarterly values in time order (row or column)")
def cpx_ttm(quarterly) -> Any:
    """Trailing-twelve-month sums; the first three quarters and gaps give #N/A."""
    v = vector(quarterly, "quarterly")

    def reason(i: int) -> XlError:
        return XlError("#N/A", "needs four consecutive reported quarters")

    out = m.ttm(v.values)
    cells = []
    for i in range(len(v)):
        window = v.errors[max(0, i - 3): i + 1]
        err = next((e for e in window if e is not None), None)
        cells.append(err if err is not None else (reason(i) if np.isnan(out[i]) else float(out[i])))
    return shape(cells, v.orientation)


@cpx_function(values="A series in time order", periods="The period label of each value (same length)")
def cpx_highest_since(values, periods) -> Any:
    """The most recent earlier period whose value was at least the latest one ("highest since");
    for a record high, the first period with data."""
    v = vector(values, "values")
    p_rows = [c for row in (periods if isinstance(periods, list) else [[periods]]) for c in row]
    if len(p_rows) != len(v):
        return XlError("#VALUE!", f"values ({len(v)}) and periods ({len(p_rows)}) differ in length")
    since, _record = m.highest_since(v.values, np.asarray(p_rows, dtype=object))
    if since is None:
        return XlError("#N/A", "need at least two values")
    return since


@cpx_function(values="A series in time order", periods="The period label of each value (same length)",
              with_period="TRUE to start with the latest reported period (\"FY2025: ...\")")
def cpx_highest_since_text(values, periods, with_period=None) -> Any:
    """Where the latest reported value stands, in words: "record high (data from FY2019)",
    "highest since FY2022" or "below the FY2024 peak" (a fall), matching the numbers for rises
    and falls. With ``with_period`` the words name the latest reported period and missing values
    (blank or #N/A: not reported yet) are left out; without it a missing latest value is #N/A.
    Any other error is returned."""
    v = vector(values, "values")
    p_rows = [c for row in (periods if isinstance(periods, list) else [[periods]]) for c in row]
    if len(p_rows) != len(v):
        return XlError("#VALUE!", f"values ({len(v)}) and periods ({len(p_rows)}) differ in length")
    err = next((e for e in v.errors if e is not None and str(e) != "#N/A"), None)
    if err is not None:
        return err
    named = flag(with_period, "with_period", False)
    if not named and np.isnan(v.values[-1]):  # unnamed words must be about the last period
        return XlError("#N/A", "the latest value is missing")
    st = m.standing(v.values, np.asarray(p_rows, dtype=object))
    if st.kind == "insufficient":
        return XlError("#N/A", "need at least two reported values")
    phrase = st.phrase()
    if named:
        label = st.latest_period
        label = f"FY{int(label)}" if isinstance(label, (int, float)) else str(label)
        phrase = f"{label}: {phrase}"
    return phrase


@cpx_function(
    tickers="Tickers: a range or comma-separated text",
    from_year="First fiscal year (optional)",
    to_year="Last fiscal year (optional)",
    headers="TRUE (default) to include a header row",
    basis=BASIS,
)
def cpx_ratios(tickers, from_year=None, to_year=None, headers=None, basis=None) -> Any:
    """Companies × fiscal years × metrics: one row per company and year, one column per metric
    (FCF on each company's own definition; capex on the chosen basis)."""
    ds = current_dataset()
    names = [ds.check_ticker(t) for t in text_list(tickers, "tickers")]
    lo, hi = year(from_year, "from_year"), year(to_year, "to_year")
    capex_basis = defs.check_capex_basis(text(basis, "basis", default=defs.DEFAULT_CAPEX_BASIS))
    rows = []
    for t in names:
        frame = metric_frame(ds, t, DEFAULT_METRICS, basis=capex_basis)
        for fy, r in frame.iterrows():
            if (lo is None or fy >= lo) and (hi is None or fy <= hi):
                rows.append([t, int(fy)] + [r[c] for c in DEFAULT_METRICS])
    return table(["ticker", "fiscal_year", *DEFAULT_METRICS] if flag(headers, "headers", True) else None, rows)


@cpx_function(
    tickers='Tickers of the peer set ("PEER" = the AI peers MSFT, GOOGL, AMZN, META, ORCL)',
    metric="Metric name, e.g. capex_to_ocf, or a reported field such as capex",
    from_year="First fiscal year (optional)",
    to_year="Last fiscal year (optional)",
    headers="TRUE (default) to include a header row",
    basis=BASIS,
)
def cpx_peer(tickers, metric, from_year=None, to_year=None, headers=None, basis=None) -> Any:
    """Correctly weighted peer aggregate by fiscal year: ratio of sums, not mean of ratios; the
    header names the members."""
    ds = current_dataset()
    names = peer_members(ds, text_list(tickers, "tickers"))
    capex_basis = defs.check_capex_basis(text(basis, "basis", default=defs.DEFAULT_CAPEX_BASIS))
    series = peer_series(ds, names, text(metric, "metric"), basis=capex_basis)
    lo, hi = year(from_year, "from_year"), year(to_year, "to_year")
    rows = [[int(fy), v] for fy, v in series.items()
            if (lo is None or fy >= lo) and (hi is None or fy <= hi)]
    return table(["fiscal_year", series.name] if flag(headers, "headers", True) else None, rows)


@cpx_function(
    ticker='Ticker, or "PEER" for the AI-peer aggregate',
    metric="Metric (e.g. fcf, capex_to_ocf, lease_to_fixed_assets) or reported field (capex)",
    basis=BASIS,
)
def cpx_definition(ticker, metric, basis=None) -> Any:
    """What a metric or reported figure means for a company on the chosen capex basis, in
    words (e.g. Amazon's FCF: OCF less capex net of proceeds and incentives)."""
    ds = current_dataset()
    capex_basis = defs.check_capex_basis(text(basis, "basis", default=defs.DEFAULT_CAPEX_BASIS))
    mt = check_metric(text(metric, "metric"), ds.fields)
    who = text(ticker, "ticker")
    if who.upper() == defs.PEER:
        members = peer_members(ds, [defs.PEER])
        return defs.peer_definition(mt.name, members, capex_basis, ratio=mt.peer is not None)
    return defs.metric_definition(ds.check_ticker(who), mt.name, capex_basis)
