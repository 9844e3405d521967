"""Dates as Excel serial numbers: DATE, YEAR, MONTH, DAY, EOMONTH, EDATE, YEARFRAC, DATEDIF,
WEEKDAY, NETWORKDAYS, TODAY (the refresh date, so a refresh is reproducible).

A date argument must be a number in 0..2958465 (9999-12-31) or text Excel reads as a date:
other text is ``#VALUE!`` (Excel's documented answer for an invalid start date of
``EDATE``/``EOMONTH``), an out-of-range number or result is ``#NUM!``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from aicapex.formula.functions.registry import CONTEXT, NEVER, args_at, register
from aicapex.formula.values import (
    MISSING,
    date_arg,
    date_to_serial,
    err,
    int_arg,
    iter_values,
    lift,
    serial_to_ymd,
    text,
)
from aicapex.xlerrors import XlError

__all__ = ["yearfrac"]

DATE = "date"
MAX_SERIAL = 2_958_465


def _ymd_args(ctx: Any, *values: Any) -> Any:
    """Each value as (serial, (y, m, d)), or the first error."""
    out = []
    for v in values:
        n = date_arg(v)
        if type(n) is XlError:
            return n
        out.append((float(int(n)), serial_to_ymd(n, ctx.system)))
    return out


@register("DATE", DATE, (3, 3), kind=CONTEXT, portable=True)
def fn_date(ctx: Any, y: Any, m: Any, d: Any) -> Any:
    system = ctx.system

    def one(y: Any, m: Any, d: Any) -> Any:
        parts = []
        for v in (y, m, d):
            n = int_arg(v)
            if type(n) is XlError:
                return n
            parts.append(n)
        year, month, day = parts
        if 0 <= year < 1900 and system == 1900:
            year += 1900
        if not 0 <= year <= 9999:
            return err("#NUM!", f"DATE year {year} outside 1900-9999")
        try:
            serial = date_to_serial(year, month, day, system)
        except (ValueError, OverflowError):
            return err("#NUM!", "DATE outside the calendar")
        if serial < 0 or serial > MAX_SERIAL:
            return err("#NUM!", "DATE outside the calendar")
        return serial

    return lift(one)(y, m, d)


def _part(ctx: Any, v: Any, index: int) -> Any:
    def one(x: Any) -> Any:
        n = date_arg(x)
        if type(n) is XlError:
            return n
        return serial_to_ymd(n, ctx.system)[index]

    return lift(one)(v)


@register("YEAR", DATE, (1, 1), kind=CONTEXT, portable=True)
def fn_year(ctx: Any, v: Any) -> Any:
    return _part(ctx, v, 0)


@register("MONTH", DATE, (1, 1), kind=CONTEXT, portable=True)
def fn_month(ctx: Any, v: Any) -> Any:
    return _part(ctx, v, 1)


@register("DAY", DATE, (1, 1), kind=CONTEXT, portable=True)
def fn_day(ctx: Any, v: Any) -> Any:
    return _part(ctx, v, 2)


def _shift_months(ctx: Any, start: Any, months: Any, name: str, end_of_month: bool) -> Any:
    system = ctx.system

    def one(s: Any, k: Any) -> Any:
        n = date_arg(s)
        if type(n) is XlError:
            return n
        kk = int_arg(k)
        if type(kk) is XlError:
            return kk
        y, m, d = serial_to_ymd(n, system)
        total = y * 12 + (m - 1) + kk
        ny, nm0 = divmod(total, 12)
        if not 1900 <= ny <= 9999:
            return err("#NUM!", f"{name} outside the calendar")
        last = calendar.monthrange(ny, nm0 + 1)[1]
        day = last if end_of_month else min(d, last)
        serial = date_to_serial(ny, nm0 + 1, day, system)
        if serial < 0 or serial > MAX_SERIAL:
            return err("#NUM!", f"{name} outside the calendar")
        return serial

    return lift(one)(start, months)


@register("EOMONTH", DATE, (2, 2), kind=CONTEXT, portable=True)
def fn_eomonth(ctx: Any, start: Any, months: Any) -> Any:
    return _shift_months(ctx, start, months, "EOMONTH", True)


@register("EDATE", DATE, (2, 2), kind=CONTEXT, portable=True)
def fn_edate(ctx: Any, start: Any, months: Any) -> Any:
    return _shift_months(ctx, start, months, "EDATE", False)


def _last_of_feb(y: int, m: int, d: int) -> bool:
    return m == 2 and d == calendar.monthrange(y, 2)[1]


def yearfrac(a: tuple[int, int, int], b: tuple[int, int, int], basis: int) -> float:
    """Fraction of a year between two (y, m, d) dates, ``a`` <= ``b``, in Excel's day-count
    ``basis`` (0 US 30/360, 1 actual/actual, 2 actual/360, 3 actual/365, 4 European 30/360).

    Notes
    -----
    Basis 0 and 1 follow Excel's observed rules (D. A. Wheeler's analysis of YEARFRAC, the
    rules LibreOffice and Gnumeric implement): 30/360 with Excel's February end-of-month
    cases; actual/actual divides by 365 or 366 for spans up to a year (366 when a 29 February
    lies inside), else by the average year length of the years touched.

    Examples
    --------
    >>> round(yearfrac((2024, 1, 31), (2024, 7, 31), 0), 6), yearfrac((2023, 1, 1), (2024, 1, 1), 1)
    (0.5, 1.0)
    """
    (y1, m1, d1), (y2, m2, d2) = a, b
    da, db = dt.date(y1, m1, d1), dt.date(y2, m2, d2)
    days = (db - da).days
    if basis == 0:
        if d1 == 31 and d2 == 31:
            d1 = d2 = 30
        elif d1 == 31:
            d1 = 30
        elif d1 == 30 and d2 == 31:
            d2 = 30
        elif _last_of_feb(y1, m1, d1) and _last_of_feb(y2, m2, d2):
            d1 = d2 = 30
        elif _last_of_feb(y1, m1, d1):
            d1 = 30
        return ((y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1)) / 360
    if basis == 1:
        if days == 0:
            return 0.0
        within_a_year = y1 == y2 or (y2 == y1 + 1 and (m1, d1) >= (m2, d2))
        if within_a_year:
            leap = (y1 == y2 and calendar.isleap(y1)) or any(
                calendar.isleap(y) and da <= dt.date(y, 2, 29) <= db for y in range(y1, y2 + 1))
            return days / (366 if leap else 365)
        span = (dt.date(y2 + 1, 1, 1) - dt.date(y1, 1, 1)).days
        return days / (span / (y2 - y1 + 1))
    if basis == 2:
        return days / 360
    if basis == 3:
        return days / 365
    d1, d2 = min(d1, 30), min(d2, 30)
    return ((y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1)) / 360


@register("YEARFRAC", DATE, (2, 3), kind=CONTEXT, portable=True)
def fn_yearfrac(ctx: Any, start: Any, end: Any, basis: Any = MISSING) -> Any:
    def one(s: Any, e: Any, b: Any) -> Any:
        dates = _ymd_args(ctx, s, e)
        if type(dates) is XlError:
            return dates
        bb = 0 if b is MISSING else int_arg(b)
        if type(bb) is XlError:
            return bb
        if bb not in (0, 1, 2, 3, 4):
            return err("#NUM!", f"YEARFRAC basis {bb} is not 0-4")
        (sa, ya), (sb, yb) = dates
        if sa > sb:
            ya, yb = yb, ya
        return yearfrac(ya, yb, bb)

    return lift(one)(start, end, basis)


def _days_in_month(y: int, m: int) -> int:
    return calendar.monthrange(y, m)[1]


@register("DATEDIF", DATE, (3, 3), kind=CONTEXT, portable=True,
          note='unit "MD" is documented by Microsoft as unreliable')
def fn_datedif(ctx: Any, start: Any, end: Any, unit: Any) -> Any:
    def one(s: Any, e: Any, u: Any) -> Any:
        dates = _ymd_args(ctx, s, e)
        if type(dates) is XlError:
            return dates
        (sa, (y1, m1, d1)), (sb, (y2, m2, d2)) = dates
        if sa > sb:
            return err("#NUM!", "DATEDIF: the start date is after the end date")
        code = text(u)
        if type(code) is XlError:
            return code
        code = code.upper()
        if code == "D":
            return sb - sa
        if code == "Y":
            return float(y2 - y1 - ((m2, d2) < (m1, d1)))
        if code == "M":
            return float((y2 - y1) * 12 + m2 - m1 - (d2 < d1))
        if code == "YM":
            return float((m2 - m1 - (d2 < d1)) % 12)
        if code == "MD":
            if d2 >= d1:
                return float(d2 - d1)
            py, pm = (y2, m2 - 1) if m2 > 1 else (y2 - 1, 12)
            return float(_days_in_month(py, pm) - d1 + d2)
        if code == "YD":
            year = y2 if (m1, d1) <= (m2, d2) else y2 - 1
            anchor = dt.date(year, m1, min(d1, _days_in_month(year, m1)))
            return float((dt.date(y2, m2, d2) - anchor).days)
        return err("#NUM!", f"DATEDIF unit {u!r} is not Y, M, D, MD, YM or YD")

    return lift(one)(start, end, unit)


_WEEKDAY_FIRST = {1: 7, 2: 1, 3: 1, 11: 1, 12: 2, 13: 3, 14: 4, 15: 5, 16: 6, 17: 7}


def _iso_weekday(serial: float, system: int) -> int:
    """Monday 1 .. Sunday 7, as Excel counts (1900-01-01, serial 1, was a Sunday to Excel)."""
    s = int(serial)
    if system == 1904:
        s += 1462
    return (s + 5) % 7 + 1


@register("WEEKDAY", DATE, (1, 2), kind=CONTEXT, portable=True)
def fn_weekday(ctx: Any, serial: Any, kind: Any = MISSING) -> Any:
    def one(s: Any, k: Any) -> Any:
        n = date_arg(s)
        if type(n) is XlError:
            return n
        kk = 1 if k is MISSING else int_arg(k)
        if type(kk) is XlError:
            return kk
        first = _WEEKDAY_FIRST.get(kk)
        if first is None:
            return err("#NUM!", f"WEEKDAY return type {kk} is not 1, 2, 3 or 11-17")
        day = _iso_weekday(n, ctx.system)
        pos = (day - first) % 7  # 0 for the week's first day
        return float(pos if kk == 3 else pos + 1)

    return lift(one)(serial, kind)


@register("NETWORKDAYS", DATE, (2, 3), kind=CONTEXT, refs=args_at(2), spill=NEVER,
          portable=True)
def fn_networkdays(ctx: Any, start: Any, end: Any, holidays: Any = MISSING) -> Any:
    dates = _ymd_args(ctx, start, end)
    if type(dates) is XlError:
        return dates
    (a, _), (b, _) = dates
    sign = 1.0
    if a > b:
        a, b, sign = b, a, -1.0
    off: set[int] = set()
    if holidays is not MISSING:
        for v, _ in iter_values([holidays]):
            if v is None:
                continue
            h = date_arg(v)
            if type(h) is XlError:
                return h
            off.add(int(h))
    a_i, b_i = int(a), int(b)
    full_weeks, rest = divmod(b_i - a_i + 1, 7)
    count = full_weeks * 5
    for s in range(a_i + full_weeks * 7, b_i + 1):
        if _iso_weekday(s, ctx.system) <= 5:
            count += 1
    count -= sum(1 for h in off if a_i <= h <= b_i and _iso_weekday(h, ctx.system) <= 5)
    return sign * count


@register("TODAY", DATE, (0, 0), kind=CONTEXT, spill=NEVER,
          note="volatile; the headless refresh uses the refresh date")
def fn_today(ctx: Any) -> Any:
    return ctx.today
