"""CPX_ data functions: reported figures and their filings."""

from __future__ import annotations

from typing import Any

from aicapex.data.dataset import current_dataset
from aicapex.udfs.arguments import cpx_function, flag, table, text, year
from aicapex.xlerrors import XlError


@cpx_function(
    ticker="Ticker, e.g. MSFT",
    field="Field name, e.g. capex (see CPX_FIELDS)",
    from_year="First fiscal year (optional)",
    to_year="Last fiscal year (optional)",
    freq='"annual" (default) or "quarterly"',
    headers="TRUE (default) to include a header row",
)
def cpx_data(ticker, field, from_year=None, to_year=None, freq=None, headers=None) -> Any:
    """Reported figures for one company and field, USD millions: a spilled period/value table."""
    ds = current_dataset()
    t, f = ds.check_ticker(text(ticker, "ticker")), ds.check_field(text(field, "field"))
    frequency = text(freq, "freq", default="annual").lower()
    rows = ds.select([t], [f], (year(from_year, "from_year"), year(to_year, "to_year")), frequency)
    if frequency.startswith("q"):
        rows = rows.sort_values("period_end")
        body = [[f"{fy}{q}", pe, v] for fy, q, pe, v in
                rows[["fiscal_year", "fiscal_quarter", "period_end", "value_musd"]].itertuples(index=False)]
        header = ["period", "period_end", f]
    else:
        body = [[int(fy), v] for fy, v in rows[["fiscal_year", "value_musd"]].itertuples(index=False)]
        header = ["fiscal_year", f]
    if not body:
        return XlError("#N/A", f"{t} reports no {f} in that range")
    return table(header if flag(headers, "headers", True) else None, body)


@cpx_function(ticker="Ticker", field="Field name", fiscal_year="Fiscal year, e.g. 2025")
def cpx_value(ticker, field, fiscal_year) -> Any:
    """One reported annual figure, USD millions; #N/A (with the reason) when not reported."""
    ds = current_dataset()
    t, f = ds.check_ticker(text(ticker, "ticker")), ds.check_field(text(field, "field"))
    fy = year(fiscal_year, "fiscal_year")
    if fy is None:
        return XlError("#VALUE!", "fiscal_year: required")
    row = ds.row(t, f, fy)
    if row is None:
        return XlError("#N/A", f"{t} FY{fy} {f} not reported")
    return float(row["value_musd"])


@cpx_function()
def cpx_tickers() -> Any:
    """The covered companies' tickers, as a column."""
    return [[t] for t in current_dataset().tickers]


@cpx_function()
def cpx_fields() -> Any:
    """The field names available to CPX_DATA and CPX_VALUE, as a column."""
    return [[f] for f in current_dataset().fields]


@cpx_function(ticker="Ticker", field="Field name", period='Fiscal year (2025) or quarter ("2025Q3")')
def cpx_source(ticker, field, period) -> Any:
    """The filing a figure came from (form, accession number, copy used)."""
    ds = current_dataset()
    t, f = ds.check_ticker(text(ticker, "ticker")), ds.check_field(text(field, "field"))
    p = text(period, "period")
    row = ds.row(t, f, p)
    if row is None:
        return XlError("#N/A", f"{t} {p} {f} not reported")
    return str(row["source"])
