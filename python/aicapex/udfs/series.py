"""CPX_SERIES: one company's reported figures and metrics as a block, in one call.

Excel calls a function once per formula cell; a company block of the Ratios sheet read cell by
cell (CPX_VALUE per figure, a ratio function per metric cell) costs ~100 calls. One spilled
call returns the whole block: one row per key (a field of CPX_FIELDS() or a metric name of
CPX_RATIOS), one column per fiscal year.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aicapex.data.dataset import current_dataset
from aicapex.engine import definitions as defs
from aicapex.engine.company_metrics import METRICS, metric_frame
from aicapex.errors import ArgumentError
from aicapex.udfs.arguments import cpx_function, grid, text
from aicapex.xlerrors import XlError


def _keys(arg: Any) -> list[str]:
    rows = grid(arg, "keys")
    if len(rows) > 1 and len(rows[0]) > 1:
        raise ArgumentError(f"keys: expected a single row or column, got {len(rows)}×{len(rows[0])}")
    flat = rows[0] if len(rows) == 1 else [r[0] for r in rows]
    return ["" if c is None else str(c).strip() for c in flat]


def _years(arg: Any) -> list[int]:
    rows = grid(arg, "fiscal_years")
    if len(rows) > 1 and len(rows[0]) > 1:
        raise ArgumentError("fiscal_years: expected a single row or column of years")
    flat = rows[0] if len(rows) == 1 else [r[0] for r in rows]
    out = []
    for c in flat:
        if isinstance(c, bool) or not isinstance(c, (int, float)) or float(c) != int(c):
            raise ArgumentError(f"fiscal_years: {c!r} is not a whole fiscal year")
        out.append(int(c))
    return out


@cpx_function(
    ticker="Ticker, e.g. MSFT",
    keys="Row keys (a column): field names (CPX_FIELDS) or metric names (capex_to_ocf, fcf, ...)",
    fiscal_years="Fiscal years (a row), e.g. the timeline's year row",
    basis='Capex basis of the metrics: "cash" (default) or "incl-finance-leases"',
)
def cpx_series(ticker, keys, fiscal_years, basis=None) -> Any:
    """One company's figures and metrics: one row per key, one column per fiscal year (USD m,
    fractions for ratios). A figure the company did not report is #N/A with the reason; a blank
    key gives a blank row."""
    ds = current_dataset()
    names = _keys(keys)
    years = _years(fiscal_years)
    if text(ticker, "ticker", default="") == "":  # an empty coverage slot: an empty block
        return [[""] * len(years) for _ in names]
    t = ds.check_ticker(text(ticker, "ticker"))
    capex_basis = defs.check_capex_basis(text(basis, "basis", default=defs.DEFAULT_CAPEX_BASIS))
    metrics = [k for k in names if k in METRICS]
    unknown = [k for k in names if k and k not in METRICS and k not in ds.fields]
    if unknown:
        return XlError("#VALUE!", f"keys: unknown field or metric {unknown[0]!r} "
                                  "(see CPX_FIELDS() and the metric names of CPX_RATIOS)")
    wide = ds.wide(t, years)
    computed = metric_frame(ds, t, metrics, years, basis=capex_basis) if metrics else None
    out: list[list[Any]] = []
    for k in names:
        if not k:
            out.append([""] * len(years))
            continue
        if k in METRICS:
            values = computed[k].to_numpy(dtype=float)
            why = "missing input (" + ", ".join(METRICS[k].fields) + f", {capex_basis} basis) " \
                  "or zero denominator"
        else:
            values = wide[k].to_numpy(dtype=float) if k in wide else np.full(len(years), np.nan)
            why = "not reported"
        out.append([XlError("#N/A", f"{t} FY{y} {k}: {why}") if np.isnan(v) else float(v)
                    for y, v in zip(years, values, strict=True)])
    return out
