"""Information functions: ISERROR, ISERR, ISNA, ISNUMBER, ISTEXT, ISNONTEXT, ISLOGICAL,
ISBLANK, ISEVEN, ISODD, N, TYPE, NA."""

from __future__ import annotations

import math
from typing import Any

from aicapex.formula.functions.registry import NEVER, register
from aicapex.formula.values import MISSING, err, lift, num
from aicapex.xlerrors import XlError

__all__: list[str] = []

INFO = "info"


@register("ISERROR", INFO, (1, 1), portable=True)
@lift
def fn_iserror(x: Any) -> Any:
    return type(x) is XlError


@register("ISERR", INFO, (1, 1), portable=True)
@lift
def fn_iserr(x: Any) -> Any:
    return type(x) is XlError and x != "#N/A"


@register("ISNA", INFO, (1, 1), portable=True)
@lift
def fn_isna(x: Any) -> Any:
    return type(x) is XlError and x == "#N/A"


@register("ISNUMBER", INFO, (1, 1), portable=True)
@lift
def fn_isnumber(x: Any) -> Any:
    t = type(x)
    return t is float or t is int


@register("ISTEXT", INFO, (1, 1), portable=True)
@lift
def fn_istext(x: Any) -> Any:
    return type(x) is str


@register("ISNONTEXT", INFO, (1, 1), portable=True)
@lift
def fn_isnontext(x: Any) -> Any:
    return type(x) is not str


@register("ISLOGICAL", INFO, (1, 1), portable=True)
@lift
def fn_islogical(x: Any) -> Any:
    return type(x) is bool


@register("ISBLANK", INFO, (1, 1), portable=True)
@lift
def fn_isblank(x: Any) -> Any:
    return x is None


def _parity(x: Any, name: str) -> Any:
    if type(x) is bool:
        return err("#VALUE!", f"{name} of a logical value")
    n = num(x)
    if type(n) is XlError:
        return n
    return int(math.trunc(n)) % 2


@register("ISEVEN", INFO, (1, 1), portable=True)
@lift
def fn_iseven(x: Any) -> Any:
    p = _parity(x, "ISEVEN")
    return p if type(p) is XlError else p == 0


@register("ISODD", INFO, (1, 1), portable=True)
@lift
def fn_isodd(x: Any) -> Any:
    p = _parity(x, "ISODD")
    return p if type(p) is XlError else p == 1


@register("N", INFO, (1, 1), portable=True)
@lift
def fn_n(x: Any) -> Any:
    t = type(x)
    if t is float or t is int:
        return float(x)
    if t is bool:
        return 1.0 if x else 0.0
    if t is XlError:
        return x
    return 0.0  # text and blanks


@register("TYPE", INFO, (1, 1), spill=NEVER,
          note="LibreOffice's logical values are numbers: TYPE(TRUE) is 1 there, 4 in Excel")
def fn_type(x: Any) -> Any:
    t = type(x)
    if t is list:
        return 64.0
    if t is XlError:
        return 16.0
    if t is bool:
        return 4.0
    if t is str:
        return 2.0
    if x is None or x is MISSING or t is float or t is int:
        return 1.0
    return err("#VALUE!", f"TYPE of a {t.__name__}")


@register("NA", INFO, (0, 0), spill=NEVER, portable=True)
def fn_na() -> Any:
    return err("#N/A", "NA()")
