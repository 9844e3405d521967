"""Arithmetic functions: ABS, ROUND, ROUNDUP, ROUNDDOWN, INT, MOD, POWER, SQRT, EXP, LN.

Rounding works on the 15-significant-digit decimal Excel displays, so ``ROUND(2.675, 2)`` is
2.68 (the binary double is 2.67499...), as in Excel.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from typing import Any

from aicapex.formula.functions.registry import register
from aicapex.formula.values import binary_scalar, err, numeric

__all__ = ["excel_round"]

MATH = "math"


def excel_round(x: float, digits: int, rounding: str = ROUND_HALF_UP) -> float:
    """Round the displayed 15-digit decimal of ``x`` to ``digits`` places (negative: to
    tens, hundreds...), half away from zero by default.

    >>> excel_round(2.675, 2), excel_round(1234.5, -2), excel_round(-2.5, 0)
    (2.68, 1200.0, -3.0)
    """
    if not math.isfinite(x):
        return x
    try:
        d = Decimal(f"{x:.15g}")
        q = Decimal(1).scaleb(-digits)
        if digits >= 0:
            return float(d.quantize(q, rounding=rounding))
        return float((d / q).quantize(Decimal(1), rounding=rounding) * q)
    except InvalidOperation:
        return x


@register("ABS", MATH, (1, 1), portable=True)
@numeric
def fn_abs(x: float) -> Any:
    return abs(x)


@register("ROUND", MATH, (2, 2), portable=True)
@numeric
def fn_round(x: float, digits: float) -> Any:
    return excel_round(x, int(digits))


@register("ROUNDUP", MATH, (2, 2), portable=True)
@numeric
def fn_roundup(x: float, digits: float) -> Any:
    return excel_round(x, int(digits), ROUND_UP)


@register("ROUNDDOWN", MATH, (2, 2), portable=True)
@numeric
def fn_rounddown(x: float, digits: float) -> Any:
    return excel_round(x, int(digits), ROUND_DOWN)


@register("INT", MATH, (1, 1), portable=True)
@numeric
def fn_int(x: float) -> Any:
    return float(math.floor(x))


@register("MOD", MATH, (2, 2), portable=True)
@numeric
def fn_mod(n: float, d: float) -> Any:
    if d == 0:
        return err("#DIV/0!", "MOD by zero")
    return n - d * math.floor(n / d)  # the result takes the divisor's sign


@register("POWER", MATH, (2, 2), portable=True)
@numeric
def fn_power(x: float, y: float) -> Any:
    return binary_scalar("^", x, y)


@register("SQRT", MATH, (1, 1), portable=True)
@numeric
def fn_sqrt(x: float) -> Any:
    if x < 0:
        return err("#NUM!", "SQRT of a negative number")
    return math.sqrt(x)


@register("EXP", MATH, (1, 1), portable=True)
@numeric
def fn_exp(x: float) -> Any:
    try:
        return math.exp(x)
    except OverflowError:
        return err("#NUM!", "EXP overflows")


@register("LN", MATH, (1, 1), portable=True)
@numeric
def fn_ln(x: float) -> Any:
    if x <= 0:
        return err("#NUM!", "LN of a number <= 0")
    return math.log(x)
