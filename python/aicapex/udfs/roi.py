"""CPX_ return-on-capex functions: required revenue, the industry revenue gap, incremental
return and payback (thin wrappers over :mod:`aicapex.engine.roi`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aicapex.data.dataset import current_dataset
from aicapex.engine import roi
from aicapex.errors import ArgumentError
from aicapex.udfs.arguments import (
    align,
    complete,
    cpx_function,
    elementwise,
    is_blank,
    number,
    optional_vector,
    shape,
    text,
    text_list,
    vector,
)
from aicapex.xlerrors import XlError

CAPEX = "Capex, USD m, positive = cash spent (cell or row/column range)"


@cpx_function(
    capex=CAPEX,
    lives="Useful life of each asset class, years (one cell, or a row/column: servers, buildings...)",
    split="Share of capex in each asset class, fractions summing to 1 (same length as lives)",
    hurdle="Required pre-tax return, fraction (0.10 = 10%)",
    margin="Operating margin on the revenue the capex enables, fraction in (0, 1]",
    opex_share="Running costs a year as a fraction of capex (optional; default 0)",
)
def cpx_required_revenue(capex, lives, split, hurdle, margin, opex_share=None) -> Any:
    """Revenue a year each capex vintage must earn: (capital-recovery charge + running) / margin."""
    lv = complete(lives, "lives")
    sp = None if is_blank(split) else complete(split, "split")  # None: one life only
    h = number(hurdle, "hurdle")
    m = number(margin, "margin")
    o = number(opex_share, "opex_share", default=0.0)
    return elementwise(lambda k: roi.required_revenue(k, lv, sp, h, m, o),
                       [vector(capex, "capex")], ["capex"])


@cpx_function(
    capex="Annual spend, USD m: accelerator (GPU) spend in mode sequoia, total capex in mode capex",
    cost_multiple="Total cost per dollar of that spend, >= 1 (blank with a mode: 2 sequoia, 1 capex)",
    margin="End-customer gross margin, fraction in (0, 1] (Sequoia: 0.5)",
    ai_revenue="AI revenue earned, USD m: a labelled estimate (0 for the required revenue alone)",
    mode="Optional: sequoia (GPU spend x 2 / margin) or capex (total capex x 1 / margin)",
    life_years="Optional: years a year's spend must be earned back over (default 1, Sequoia's)",
)
def cpx_revenue_gap(capex, cost_multiple, margin, ai_revenue, mode=None, life_years=None) -> Any:
    """The "$600B question", USD m: spend x cost multiple / (margin x life) - AI revenue."""
    chosen = None if is_blank(mode) else text(mode, "mode").lower()
    if chosen is not None and chosen not in roi.REVENUE_GAP_MODES:
        raise ArgumentError(f"mode={chosen!r}: expected one of {', '.join(roi.REVENUE_GAP_MODES)}")
    if chosen is None:
        multiple = vector(cost_multiple, "cost_multiple")
    else:
        implied = roi.REVENUE_GAP_MODES[chosen]
        multiple = optional_vector(cost_multiple, "cost_multiple", implied)
        given = multiple.values[~np.isnan(multiple.values)]
        if given.size and np.any(given != implied):
            why = ("total capex already includes buildings and power: doubling it counts them "
                   "twice" if chosen == "capex" else "Sequoia doubles GPU spend to total cost")
            raise ArgumentError(f"cost_multiple={given[given != implied][0]:g} contradicts "
                                f"mode {chosen!r} (x{implied:g}): {why}")
    names = ["capex", "cost_multiple", "margin", "ai_revenue", "life_years"]
    args = [vector(capex, "capex"), multiple, vector(margin, "margin"),
            vector(ai_revenue, "ai_revenue"), optional_vector(life_years, "life_years", 1.0)]
    return elementwise(roi.revenue_gap, args, names,
                       nan_reason=lambda i: XlError("#NUM!", "revenue gap cannot be computed"))


@cpx_function(
    op_income="Operating income or its proxy (OCF), USD m, a series in time order (row or column)",
    capex="Capex, USD m, the same years (same shape)",
    lag="Years between capex and the income change credited to it (optional; default 1)",
)
def cpx_incremental_return(op_income, capex, lag=None) -> Any:
    """Change in income per dollar of earlier capex: (I_t - I_t-1) / capex_t-lag, same shape."""
    i, k = vector(op_income, "op_income"), vector(capex, "capex")
    n = align(i, k, names=["op_income", "capex"])
    lag_years = number(lag, "lag", default=1.0)
    lag_n = int(lag_years) if float(lag_years).is_integer() else lag_years
    ii = i.values if len(i) == n else i.values.repeat(n)
    kk = k.values if len(k) == n else k.values.repeat(n)
    out = roi.incremental_return(ii, kk, lag_n)
    start = max(1, int(lag_n))

    def at(v, j):
        return (v.values[0], v.errors[0]) if len(v) == 1 else (v.values[j], v.errors[j])

    cells: list[Any] = []
    for t in range(n):
        if t < start:
            reason = "no prior capex" if lag_n >= 1 else "no prior year"
            cells.append(XlError("#N/A", reason))
            continue
        used = [("op_income", *at(i, t)), ("op_income", *at(i, t - 1)), ("capex", *at(k, t - lag_n))]
        err = next((e for _, _, e in used if e is not None), None)
        if err is not None:
            cells.append(err)
        elif any(math.isnan(x) for _, x, _ in used):
            missing = sorted({nm for nm, x, _ in used if math.isnan(x)})
            cells.append(XlError("#N/A", f"missing {', '.join(missing)}"))
        elif math.isnan(out[t]):
            cells.append(XlError("#DIV/0!", f"capex {lag_n} year(s) earlier is zero"))
        else:
            cells.append(float(out[t]))
    orientation = next((v.orientation for v in (i, k) if v.orientation != "cell"), "cell")
    return shape(cells, orientation)


@cpx_function(
    capex="Capex, USD m (cell or row/column range)",
    annual_cash_flow="Annual cash flow the capex produces, USD m (same shape)",
)
def cpx_payback(capex, annual_cash_flow) -> Any:
    """Simple payback, years: capex / annual cash flow (undiscounted; #NUM! if it never pays back)."""
    args = [vector(capex, "capex"), vector(annual_cash_flow, "annual_cash_flow")]
    return elementwise(
        roi.payback_years, args, ["capex", "annual_cash_flow"],
        nan_reason=lambda i: XlError("#NUM!", "never pays back: annual_cash_flow is zero or negative"),
    )


@cpx_function(
    tickers="Companies to add up (a row or column of tickers; those without a cloud segment add "
            "nothing)",
    base_year="Fiscal year the growth is measured from (e.g. 2022)",
    fiscal_years="Fiscal years (a row), e.g. the timeline's year row",
)
def cpx_cloud_growth(tickers, base_year, fiscal_years) -> Any:
    """Cloud-segment revenue growth since the base year, USD m: an upper-bound AI-revenue proxy."""
    ds = current_dataset()
    names = [ds.check_ticker(t) for t in text_list(tickers, "tickers")]
    base = int(number(base_year, "base_year"))
    years = [int(y) for y in vector(fiscal_years, "fiscal_years").values]
    frame = roi.cloud_revenue_growth(ds, names, base)
    out: list[Any] = []
    for y in years:
        if y < base:
            out.append(XlError("#N/A", f"FY{y} is before the base year FY{base}: no proxy"))
        elif y not in frame.index or np.isnan(frame.loc[y, "total"]):
            out.append(XlError("#N/A", f"FY{y}: a company's cloud segment revenue is not "
                                       "reported (no partial sums)"))
        else:
            out.append(float(frame.loc[y, "total"]))
    return [out]
