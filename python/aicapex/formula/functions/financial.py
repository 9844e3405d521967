"""Financial functions: NPV, IRR, PMT, PV, FV, RATE (through numpy-financial) and XNPV,
XIRR (dated cash flows, which numpy-financial does not cover).

Sign convention as in Excel and numpy-financial: money paid out is negative. ``type``/``when``
is 0 for payments at the end of each period, 1 at the beginning.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy_financial as npf

from aicapex.formula.functions.aggregate import collect_numbers
from aicapex.formula.functions.registry import NEVER, args_at, register
from aicapex.formula.values import MISSING, as_2d, err, lift, num
from aicapex.xlerrors import XlError

__all__ = ["xirr", "xnpv"]

FIN = "financial"


def _number(v: float, name: str) -> Any:
    v = float(v)
    if not math.isfinite(v):
        return err("#NUM!", f"{name} has no finite solution for these arguments")
    return v


def _scalars(args: tuple[Any, ...], defaults: tuple[float, ...]) -> Any:
    """Arguments as floats (a missing optional one takes its default), or the first error."""
    out = []
    for a, d in zip(args, defaults, strict=False):
        if a is MISSING or a is None:
            out.append(d)
            continue
        x = num(a)
        if type(x) is XlError:
            return x
        out.append(x)
    return out


def _tvm(name: str, fn: Callable[..., Any], defaults: tuple[float, ...]) -> Callable[..., Any]:
    def one(*args: Any) -> Any:
        vals = _scalars(args, defaults)
        if type(vals) is XlError:
            return vals
        *main, when = vals
        if when not in (0.0, 1.0):
            when = 1.0 if when else 0.0
        with np.errstate(all="ignore"):  # rate 0 takes numpy-financial's other branch
            return _number(fn(*main, when=int(when)), name)

    one.__name__ = name
    return lift(one)


_PMT = _tvm("PMT", npf.pmt, (0.0, 0.0, 0.0, 0.0, 0.0))
_PV = _tvm("PV", npf.pv, (0.0, 0.0, 0.0, 0.0, 0.0))
_FV = _tvm("FV", npf.fv, (0.0, 0.0, 0.0, 0.0, 0.0))


@register("PMT", FIN, (3, 5), portable=True)
def fn_pmt(rate: Any, nper: Any, pv: Any, fv: Any = MISSING, when: Any = MISSING) -> Any:
    return _PMT(rate, nper, pv, fv, when)


@register("PV", FIN, (3, 5), portable=True)
def fn_pv(rate: Any, nper: Any, pmt: Any, fv: Any = MISSING, when: Any = MISSING) -> Any:
    return _PV(rate, nper, pmt, fv, when)


@register("FV", FIN, (3, 5), portable=True)
def fn_fv(rate: Any, nper: Any, pmt: Any, pv: Any = MISSING, when: Any = MISSING) -> Any:
    return _FV(rate, nper, pmt, pv, when)


@register("RATE", FIN, (3, 6), portable=True)
def fn_rate(nper: Any, pmt: Any, pv: Any, fv: Any = MISSING, when: Any = MISSING,
            guess: Any = MISSING) -> Any:
    def one(*args: Any) -> Any:
        vals = _scalars(args, (0.0, 0.0, 0.0, 0.0, 0.0, 0.1))
        if type(vals) is XlError:
            return vals
        n, p, v, f, w, g = vals
        # Excel iterates Newton's method from the guess (10%) until it moves less than 1e-7
        with np.errstate(all="ignore"):
            r = npf.rate(n, p, v, f, when=1 if w else 0, guess=g, tol=1e-10, maxiter=100)
        return _number(r, "RATE")

    return lift(one)(nper, pmt, pv, fv, when, guess)


@register("NPV", FIN, (2, None), refs=lambda i: i > 0, spill=NEVER, portable=True)
def fn_npv(rate: Any, *values: Any) -> Any:
    r = num(rate)
    if type(r) is XlError:
        return r
    flows = collect_numbers(list(values))
    if type(flows) is XlError:
        return flows
    if r == -1:
        return err("#DIV/0!", "NPV at a rate of -100%")
    # Excel discounts the first value by one period; numpy-financial's npv starts at t=0
    with np.errstate(all="ignore"):
        return _number(npf.npv(r, [0.0, *flows]), "NPV")


@register("IRR", FIN, (1, 2), refs=args_at(0), spill=NEVER, portable=True,
          note="with several sign changes, the root nearest 0 (numpy-financial) may differ "
               "from the one Excel's iteration from the guess finds")
def fn_irr(values: Any, guess: Any = MISSING) -> Any:
    flows = collect_numbers([values])
    if type(flows) is XlError:
        return flows
    if not (any(x > 0 for x in flows) and any(x < 0 for x in flows)):
        return err("#NUM!", "IRR needs at least one positive and one negative cash flow")
    with np.errstate(all="ignore"):
        return _number(npf.irr(flows), "IRR")


def xnpv(rate: float, flows: list[float], days: list[float]) -> float:
    """Net present value of cash flows on dates: sum of v / (1 + rate)^((d - d0) / 365).

    Examples
    --------
    >>> round(xnpv(0.1, [-100, 110], [0, 365]), 12)
    0.0
    """
    d0 = days[0]
    return math.fsum(v / (1 + rate) ** ((d - d0) / 365) for v, d in zip(flows, days, strict=True))


def xirr(flows: list[float], days: list[float], guess: float = 0.1) -> float:
    """The rate at which :func:`xnpv` is zero, or NaN when none is found.

    Notes
    -----
    Newton's method from ``guess`` (Excel's default 10%), at most 100 steps, stopping when a
    step is below 1e-12 -- the scheme numpy-financial's ``rate`` uses -- then, if Newton
    leaves the domain (rate <= -1) or does not converge, bisection on a bracketing interval
    of [-0.999999, 1e6]. numpy-financial has no XIRR and SciPy is not a runtime dependency;
    the function is smooth and monotone for the usual one-sign-change flows, where both
    methods find the one root.

    Examples
    --------
    >>> round(xirr([-100, 110], [0, 365]), 10)
    0.1
    """
    d0 = days[0]
    years = [(d - d0) / 365 for d in days]

    def f(r: float) -> float:
        return math.fsum(v / (1 + r) ** t for v, t in zip(flows, years, strict=True))

    def df(r: float) -> float:
        return math.fsum(-t * v / (1 + r) ** (t + 1) for v, t in zip(flows, years, strict=True))

    r = guess
    for _ in range(100):
        try:
            step = f(r) / df(r)
        except (ZeroDivisionError, OverflowError):
            break
        r_next = r - step
        if r_next <= -1 or not math.isfinite(r_next):
            break
        if abs(r_next - r) < 1e-12:
            return r_next
        r = r_next
    lo, hi = -0.999999, 1e6
    try:
        f_lo, f_hi = f(lo), f(hi)
    except OverflowError:
        return math.nan
    if f_lo * f_hi > 0:
        return math.nan
    for _ in range(300):
        mid = (lo + hi) / 2
        f_mid = f(mid)
        if f_mid == 0 or hi - lo < 1e-15 * max(1.0, abs(mid)):
            return mid
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2


def _dated(values: Any, dates: Any, name: str) -> Any:
    """(flows, day serials) from two ranges of one size, or an error (Excel's rules)."""
    for v in (values, dates):
        if type(v) is XlError:
            return v
    flows = [v for row in as_2d(values) for v in row]
    days = [v for row in as_2d(dates) for v in row]
    if len(flows) != len(days):
        return err("#NUM!", f"{name}: values and dates differ in number")
    out_v, out_d = [], []
    for v, d in zip(flows, days, strict=True):
        for x in (v, d):
            if type(x) is XlError:
                return x
        if type(v) not in (float, int) or type(d) not in (float, int):
            return err("#VALUE!", f"{name}: every value and date must be a number")
        out_v.append(float(v))
        out_d.append(float(int(d)))
    if not out_v:
        return err("#NUM!", f"{name}: no cash flows")
    if any(d < out_d[0] for d in out_d[1:]):
        return err("#NUM!", f"{name}: a date precedes the first date")
    return out_v, out_d


@register("XNPV", FIN, (3, 3), refs=args_at(1, 2), spill=NEVER, portable=True)
def fn_xnpv(rate: Any, values: Any, dates: Any) -> Any:
    r = num(rate)
    if type(r) is XlError:
        return r
    data = _dated(values, dates, "XNPV")
    if type(data) is XlError:
        return data
    if r <= -1:
        return err("#NUM!", "XNPV at a rate of -100% or below")
    try:
        return _number(xnpv(r, *data), "XNPV")
    except (OverflowError, ZeroDivisionError):
        return err("#NUM!", "XNPV overflows")


@register("XIRR", FIN, (2, 3), refs=args_at(0, 1), spill=NEVER, portable=True)
def fn_xirr(values: Any, dates: Any, guess: Any = MISSING) -> Any:
    data = _dated(values, dates, "XIRR")
    if type(data) is XlError:
        return data
    flows, days = data
    if not (any(x > 0 for x in flows) and any(x < 0 for x in flows)):
        return err("#NUM!", "XIRR needs at least one positive and one negative cash flow")
    g = 0.1 if guess is MISSING or guess is None else num(guess)
    if type(g) is XlError:
        return g
    r = xirr(flows, days, g)
    if math.isnan(r):
        return err("#NUM!", "XIRR found no rate (Newton and bisection did not converge)")
    return r
