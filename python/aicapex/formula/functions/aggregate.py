"""Aggregates: SUM, AVERAGE, MIN, MAX, COUNT, COUNTA, SUMPRODUCT and the criteria family
(SUMIF(S), COUNTIF(S), AVERAGEIF(S)).

Inside ranges only numbers count (text, booleans and blanks are skipped); a number, boolean
or numeric text given directly counts; any error propagates.
"""

from __future__ import annotations

from typing import Any

from aicapex.formula.criteria import Criterion
from aicapex.formula.functions.registry import (
    CONTEXT,
    NEVER,
    all_args,
    args_at,
    register,
)
from aicapex.formula.values import (
    MISSING,
    as_2d,
    err,
    iter_values,
    lift,
    num,
    text_to_number,
)
from aicapex.xlerrors import XlError

__all__ = ["collect_numbers"]

AGG = "aggregate"


def collect_numbers(args: list[Any]) -> Any:
    """Numbers for SUM/AVERAGE/MIN/MAX: numbers in ranges, coerced direct arguments (a list,
    or the first error)."""
    nums: list[float] = []
    for v, in_array in iter_values(args):
        t = type(v)
        if t is XlError:
            return v
        if t is float or t is int:
            nums.append(float(v))
        elif in_array:
            continue
        elif v is None or v is MISSING:
            continue
        else:
            x = num(v)
            if type(x) is XlError:
                return x
            nums.append(x)
    return nums


@register("SUM", AGG, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_sum(*args: Any) -> Any:
    nums = collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    total = 0.0
    for x in nums:
        total += x
    return total


@register("AVERAGE", AGG, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_average(*args: Any) -> Any:
    nums = collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    if not nums:
        return err("#DIV/0!", "AVERAGE of no numbers")
    total = 0.0
    for x in nums:
        total += x
    return total / len(nums)


@register("MIN", AGG, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_min(*args: Any) -> Any:
    nums = collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    return min(nums) if nums else 0.0


@register("MAX", AGG, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_max(*args: Any) -> Any:
    nums = collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    return max(nums) if nums else 0.0


@register("COUNT", AGG, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_count(*args: Any) -> Any:
    n = 0
    for v, in_array in iter_values(list(args)):
        t = type(v)
        if t is float or t is int:
            n += 1
        elif not in_array and (t is bool or (t is str and text_to_number(v) is not None)):
            n += 1
    return n


@register("COUNTA", AGG, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_counta(*args: Any) -> Any:
    return sum(1 for v, _ in iter_values(list(args)) if v is not None and v is not MISSING)


@register("SUMPRODUCT", AGG, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_sumproduct(*args: Any) -> Any:
    arrays = [as_2d(a) for a in args]
    h, w = len(arrays[0]), len(arrays[0][0])
    for a in arrays:
        if len(a) != h or len(a[0]) != w:
            return err("#VALUE!", "SUMPRODUCT arrays have different sizes")
    total = 0.0
    for i in range(h):
        for j in range(w):
            prod = 1.0
            for a in arrays:
                v = a[i][j]
                t = type(v)
                if t is XlError:
                    return v
                if t is float or t is int:
                    prod *= v
                else:
                    prod = 0.0
            total += prod
    return total


def _shape(v: Any) -> tuple[int, int]:
    a = as_2d(v)
    return len(a), len(a[0])


def criteria_aggregate(ctx: Any, mode: str, target: Any, pairs: list[Any], name: str) -> Any:
    """``sum``/``count``/``average`` of ``target`` (None: count) over the cells meeting every
    (range, criterion) pair; an array of criteria gives an array of results."""
    ranges = pairs[0::2]
    crits = pairs[1::2]
    shape_src = target if target is not None else ranges[0]
    if type(shape_src) is XlError:
        return shape_src
    shape = _shape(shape_src)
    for rng in ranges:
        if type(rng) is XlError:
            return rng
        if _shape(rng) != shape:
            return err("#VALUE!", f"{name}: criteria ranges differ in size from the first range")
    n = shape[0] * shape[1]
    index = ctx.index

    def scalar(*cs: Any) -> Any:
        positions: set[int] | None = None
        for rng, c in zip(ranges, cs, strict=True):
            if type(c) is XlError:
                return c
            pos = index.positions(rng, Criterion(c), n)
            positions = pos if positions is None else positions & pos
            if not positions:
                break
        if mode == "count":
            return len(positions or ())
        flat = index.flat(target)
        total = 0.0
        count = 0
        for i in sorted(positions or ()):
            v = flat[i]
            t = type(v)
            if t is XlError:
                return v
            if t is float or t is int:
                total += v
                count += 1
        if mode == "sum":
            return total
        if count == 0:
            return err("#DIV/0!", f"{name}: no numbers meet the criteria")
        return total / count

    return lift(scalar)(*crits)


@register("SUMIFS", AGG, (3, None), kind=CONTEXT,
          refs=lambda i: i == 0 or i % 2 == 1, spill=lambda f: any(f[2::2]), portable=True)
def fn_sumifs(ctx: Any, sum_range: Any, *pairs: Any) -> Any:
    if len(pairs) % 2:
        return err("#VALUE!", "SUMIFS needs pairs of range and criterion")
    return criteria_aggregate(ctx, "sum", sum_range, list(pairs), "SUMIFS")


@register("COUNTIFS", AGG, (2, None), kind=CONTEXT,
          refs=lambda i: i % 2 == 0, spill=lambda f: any(f[1::2]), portable=True)
def fn_countifs(ctx: Any, *pairs: Any) -> Any:
    if len(pairs) % 2:
        return err("#VALUE!", "COUNTIFS needs pairs of range and criterion")
    return criteria_aggregate(ctx, "count", None, list(pairs), "COUNTIFS")


@register("AVERAGEIFS", AGG, (3, None), kind=CONTEXT,
          refs=lambda i: i == 0 or i % 2 == 1, spill=lambda f: any(f[2::2]), portable=True)
def fn_averageifs(ctx: Any, avg_range: Any, *pairs: Any) -> Any:
    if len(pairs) % 2:
        return err("#VALUE!", "AVERAGEIFS needs pairs of range and criterion")
    return criteria_aggregate(ctx, "average", avg_range, list(pairs), "AVERAGEIFS")


def _same_size(target: Any, rng: Any, name: str) -> Any:
    if target is MISSING:
        return rng
    if type(target) is not XlError and _shape(target) != _shape(rng):
        return err("#VALUE!", f"{name}: the sum/average range differs in size from the range "
                   "(Excel would resize it from its top-left cell; give ranges of one size)")
    return target


@register("SUMIF", AGG, (2, 3), kind=CONTEXT, refs=args_at(0, 2),
          spill=lambda f: len(f) > 1 and f[1], portable=True)
def fn_sumif(ctx: Any, rng: Any, crit: Any, sum_range: Any = MISSING) -> Any:
    target = _same_size(sum_range, rng, "SUMIF")
    if type(target) is XlError and target.reason.startswith("SUMIF:"):
        return target
    return criteria_aggregate(ctx, "sum", target, [rng, crit], "SUMIF")


@register("COUNTIF", AGG, (2, 2), kind=CONTEXT, refs=args_at(0),
          spill=lambda f: len(f) > 1 and f[1], portable=True)
def fn_countif(ctx: Any, rng: Any, crit: Any) -> Any:
    return criteria_aggregate(ctx, "count", None, [rng, crit], "COUNTIF")


@register("AVERAGEIF", AGG, (2, 3), kind=CONTEXT, refs=args_at(0, 2),
          spill=lambda f: len(f) > 1 and f[1], portable=True)
def fn_averageif(ctx: Any, rng: Any, crit: Any, avg_range: Any = MISSING) -> Any:
    target = _same_size(avg_range, rng, "AVERAGEIF")
    if type(target) is XlError and target.reason.startswith("AVERAGEIF:"):
        return target
    return criteria_aggregate(ctx, "average", target, [rng, crit], "AVERAGEIF")
