"""Excel value semantics: coercion, comparison, arithmetic, broadcasting, date serials.

Values are plain Python: ``float`` (``int`` accepted), ``str``, ``bool``, ``None`` for a
blank cell, :data:`MISSING` for an empty argument slot, :class:`~aicapex.xlerrors.XlError`
for an error, and a list of row lists for an array or range. Following Excel (en-US):

- a blank is 0 in arithmetic and ``""`` in text; numeric text converts in arithmetic;
- errors propagate, the left operand's first;
- comparisons order numbers < text < FALSE < TRUE, text case-insensitively, numbers equal
  to about 15 significant digits;
- an operation on arrays applies elementwise, a 1-wide dimension repeating, cells outside
  the smaller array giving ``#N/A``;
- dates are serial numbers; the 1900 system keeps Excel's fictitious 29 February 1900.

>>> binary_scalar("+", "3", None), compare("<", 1, "a"), text(0.25)
(3.0, True, '0.25')
>>> broadcast(lambda a, b: a * b, [[[1.0], [2.0]], [[10.0, 20.0]]])
[[10.0, 20.0], [20.0, 40.0]]
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from collections.abc import Callable
from typing import Any

from openpyxl.utils.datetime import to_excel

from aicapex.xlerrors import XlError

__all__ = [
    "MISSING", "NOTSET", "REL_TOL", "MissingType", "approx_eq", "as_2d", "binary_scalar",
    "broadcast", "compare", "date_arg", "date_to_serial", "err", "finite", "has_wildcards",
    "int_arg", "iter_values", "lift", "na_outside", "num", "numeric", "num_to_text", "rank", "round_key",
    "serial_to_ymd", "text", "text_to_number", "to_serial", "truth", "unary_scalar", "unwrap",
    "wildcard_regex",
]


def err(code: str, reason: str | None = None) -> XlError:
    return XlError(code, reason)


class MissingType:
    """An empty argument slot, as in ``IF(A1,,1)`` or ``ROUND(x,)``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = MissingType()
NOTSET = object()


def text_to_number(text: str) -> float | None:
    """Excel's text->number coercion (en-US): ``" 1,234.5 "``, ``"5%"``, ``"1e3"``, ISO dates."""
    s = text.strip()
    if not s:
        return None
    pct = s.endswith("%")
    if pct:
        s = s[:-1].strip()
    try:
        value = float(s.replace(",", "")) if re.fullmatch(r"[+-]?[\d,]*\.?\d*(?:[eE][+-]?\d+)?",
                                                        s) else None
    except ValueError:
        value = None
    if value is None and not pct and re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        try:
            d = _dt.date.fromisoformat(s)
        except ValueError:
            return None
        return float(date_to_serial(d.year, d.month, d.day, 1900))
    if value is None:
        return None
    return value / 100.0 if pct else value


def num(v: Any) -> Any:
    """Coerce for arithmetic: a float or an XlError."""
    t = type(v)
    if t is float:
        return v
    if t is int:
        return float(v)
    if v is None or v is MISSING:
        return 0.0
    if t is bool:
        return 1.0 if v else 0.0
    if t is XlError:
        return v
    if isinstance(v, str):
        n = text_to_number(v)
        if n is None:
            return err("#VALUE!", f"text {v!r} used as a number")
        return n
    if isinstance(v, (int, float)):
        return float(v)
    return err("#VALUE!", f"cannot use {type(v).__name__} as a number")


def num_to_text(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    s = f"{x:.15g}"
    if "e" in s:
        mant, _, exp = s.partition("e")
        s = f"{mant}E{exp[0]}{exp[1:].rjust(2, '0')}"
    return s


def text(v: Any) -> Any:
    t = type(v)
    if t is str:
        return v
    if v is None or v is MISSING:
        return ""
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is XlError:
        return v
    if t is int or t is float:
        return num_to_text(float(v))
    return str(v)


def truth(v: Any) -> Any:
    """Coerce a condition: bool or XlError."""
    t = type(v)
    if t is bool:
        return v
    if t is float or t is int:
        return v != 0
    if v is None or v is MISSING:
        return False
    if t is XlError:
        return v
    if isinstance(v, str):
        u = v.strip().upper()
        if u == "TRUE":
            return True
        if u == "FALSE":
            return False
        return err("#VALUE!", f"text {v!r} used as a condition")
    return err("#VALUE!", "bad condition")


REL_TOL = 2.0 ** -48  # LibreOffice's approxEqual; Excel compares to ~15 significant digits


def approx_eq(a: float, b: float) -> bool:
    if a == b:
        return True
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def rank(v: Any) -> int:
    t = type(v)
    if t is bool:
        return 2
    if t is float or t is int:
        return 0
    return 1  # text


def compare(op: str, a: Any, b: Any) -> Any:
    if type(a) is XlError:
        return a
    if type(b) is XlError:
        return b
    if a is MISSING:
        a = None
    if b is MISSING:
        b = None
    if a is None and b is None:
        c = 0
    else:
        if a is None:
            a = False if type(b) is bool else ("" if isinstance(b, str) else 0.0)
        if b is None:
            b = False if type(a) is bool else ("" if isinstance(a, str) else 0.0)
        ra, rb = rank(a), rank(b)
        if ra != rb:
            c = -1 if ra < rb else 1
        elif ra == 0:
            fa, fb = float(a), float(b)
            c = 0 if approx_eq(fa, fb) else (-1 if fa < fb else 1)
        elif ra == 1:
            la, lb = a.casefold(), b.casefold()
            c = 0 if la == lb else (-1 if la < lb else 1)
        else:
            c = (a > b) - (a < b)
    if op == "=":
        return c == 0
    if op == "<>":
        return c != 0
    if op == "<":
        return c < 0
    if op == ">":
        return c > 0
    if op == "<=":
        return c <= 0
    return c >= 0


def finite(x: float, what: str) -> Any:
    if math.isfinite(x):
        return x
    return err("#NUM!", f"{what} is not a finite number")


def binary_scalar(op: str, a: Any, b: Any) -> Any:
    if op in ("+", "-", "*", "/", "^"):
        x = num(a)
        if type(x) is XlError:
            return x
        y = num(b)
        if type(y) is XlError:
            return y
        if op == "+":
            return finite(x + y, "sum")
        if op == "-":
            return finite(x - y, "difference")
        if op == "*":
            return finite(x * y, "product")
        if op == "/":
            if y == 0:
                return err("#DIV/0!", "division by zero")
            return finite(x / y, "quotient")
        if x == 0 and y == 0:
            return err("#NUM!", "0^0")
        if x == 0 and y < 0:
            return err("#DIV/0!", "0 raised to a negative power")
        if x < 0 and y != int(y):
            return err("#NUM!", "fractional power of a negative number")
        try:
            return finite(math.pow(x, y), "power")
        except OverflowError:
            return err("#NUM!", "power overflows")
    if op == "&":
        sa = text(a)
        if type(sa) is XlError:
            return sa
        sb = text(b)
        if type(sb) is XlError:
            return sb
        return sa + sb
    return compare(op, a, b)


def unary_scalar(op: str, a: Any) -> Any:
    if op == "+":
        return a
    x = num(a)
    if type(x) is XlError:
        return x
    if op == "-":
        return -x
    return x / 100.0  # %


# --------------------------------------------------------------------------------------------
# Arrays (list of row lists)
# --------------------------------------------------------------------------------------------
def unwrap(v: Any) -> Any:
    if type(v) is list and len(v) == 1 and len(v[0]) == 1:
        return v[0][0]
    return v


def as_2d(v: Any) -> list[list[Any]]:
    return v if type(v) is list else [[v]]


def na_outside() -> XlError:
    return err("#N/A", "array sizes do not match")


def broadcast(fn: Callable[..., Any], args: list[Any]) -> Any:
    """Apply a scalar function elementwise, expanding 1-wide dimensions as Excel does."""
    args = [unwrap(a) for a in args]
    dims = [(len(a), len(a[0])) if type(a) is list else None for a in args]
    if all(d is None for d in dims):
        return fn(*args)
    height = max(d[0] for d in dims if d)
    width = max(d[1] for d in dims if d)
    rectangular = all(len(row) == d[1] for a, d in zip(args, dims, strict=True) if d for row in a)
    if len(args) == 1 and rectangular:  # one array (a sheet-wide ISERROR): nothing to expand
        return [[fn(v) for v in row] for row in args[0]]
    if rectangular and all(d is None or d == (height, width) for d in dims):  # same sizes
        rows = [a if d else [[a] * width] * height for a, d in zip(args, dims, strict=True)]
        return [[fn(*vals) for vals in zip(*cols, strict=True)] for cols in zip(*rows, strict=True)]
    out = []
    for i in range(height):
        row = []
        for j in range(width):
            vals = []
            for a, d in zip(args, dims, strict=True):
                if d is None:
                    vals.append(a)
                    continue
                ii = 0 if d[0] == 1 else i
                jj = 0 if d[1] == 1 else j
                if ii >= d[0] or jj >= d[1]:
                    vals = None
                    break
                vals.append(a[ii][jj])
            row.append(na_outside() if vals is None else fn(*vals))
        out.append(row)
    return out


def lift(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make a scalar function accept arrays in any argument (elementwise)."""

    def lifted(*args: Any) -> Any:
        for a in args:
            if type(a) is list:
                return broadcast(fn, list(args))
        return fn(*args)

    functools.update_wrapper(lifted, fn)
    return lifted


def iter_values(args: list[Any]):
    """Yield (value, from_array) over aggregate-function arguments."""
    for a in args:
        if type(a) is list:
            for row in a:
                for v in row:
                    yield v, True
        else:
            yield a, False


def round_key(x: float) -> float:
    return float(f"{x:.15g}")


# --------------------------------------------------------------------------------------------
# Dates (Excel serial numbers)
# --------------------------------------------------------------------------------------------
BASE_1900 = _dt.date(1899, 12, 30)
BASE_1904 = _dt.date(1904, 1, 1)


def date_to_serial(year: int, month: int, day: int, system: int) -> int:
    """DATE(year, month, day) with Excel's month/day overflow; 1900 system keeps the leap bug."""
    total = year * 12 + (month - 1)
    y, m0 = divmod(total, 12)
    first = _dt.date(y, m0 + 1, 1)
    if system == 1904:
        return (first - BASE_1904).days + day - 1
    serial = (first - BASE_1900).days + day - 1
    if serial < 61:  # before 1900-03-01 Excel counts a fictitious 29 Feb 1900
        serial -= 1
    return serial


def serial_to_ymd(serial: float, system: int) -> tuple[int, int, int]:
    days = math.floor(serial)
    if system == 1904:
        d = BASE_1904 + _dt.timedelta(days=days)
        return d.year, d.month, d.day
    if days == 0:
        return 1900, 1, 0
    if days == 60:
        return 1900, 2, 29
    if days < 60:
        days += 1
    d = BASE_1900 + _dt.timedelta(days=days)
    return d.year, d.month, d.day


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "~" and i + 1 < len(pattern) and pattern[i + 1] in "*?~":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def has_wildcards(text: str) -> bool:
    return any(ch in text for ch in "*?~")


def int_arg(v: Any) -> Any:
    n = num(v)
    if type(n) is XlError:
        return n
    return int(math.floor(n)) if n >= 0 else -int(math.floor(-n))


def date_arg(v: Any) -> Any:
    n = num(v)
    if type(n) is XlError:
        return n
    if n < 0 or n > 2_958_465:
        return err("#NUM!", f"{n} is not a valid date serial")
    return n


def to_serial(v: Any, epoch: Any) -> float:
    """A date, datetime, time or timedelta as an Excel serial number."""
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        v = _dt.datetime.combine(v, _dt.time())
    return to_excel(v, epoch)


def numeric(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make a function of floats an Excel scalar function: each argument coerced with
    :func:`num` (the first error returned), arrays applied elementwise, a non-finite result
    turned into ``#NUM!``."""

    def scalar(*args: Any) -> Any:
        nums = []
        for a in args:
            x = num(a)
            if type(x) is XlError:
                return x
            nums.append(x)
        out = fn(*nums)
        if type(out) is float and not math.isfinite(out):
            return err("#NUM!", f"{fn.__name__.removeprefix('fn_').upper()} result is not a "
                       "finite number")
        return out

    functools.update_wrapper(scalar, fn)
    return lift(scalar)
