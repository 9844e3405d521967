"""Statistics: MEDIAN, STDEV(.S), STDEVP/STDEV.P, PERCENTILE(.INC), LARGE, SMALL, RANK(.EQ),
SLOPE, INTERCEPT, FORECAST(.LINEAR), TREND.

Numbers are collected as ``SUM`` collects them (ranges contribute only their numbers). The
regression functions pair the two ranges cell by cell and drop a pair when either cell is not
a number, as Excel does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aicapex.formula.functions.aggregate import collect_numbers
from aicapex.formula.functions.registry import ALWAYS, NEVER, all_args, args_at, register
from aicapex.formula.values import MISSING, approx_eq, as_2d, err, lift, num, truth
from aicapex.xlerrors import XlError

__all__: list[str] = []

STATS = "statistics"
XLFN = "stored with the _xlfn. prefix (new names of Excel 2010); the legacy name is portable"


@register("MEDIAN", STATS, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_median(*args: Any) -> Any:
    nums = collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    if not nums:
        return err("#NUM!", "MEDIAN of no numbers")
    nums.sort()
    mid = len(nums) // 2
    return nums[mid] if len(nums) % 2 else (nums[mid - 1] + nums[mid]) / 2


def _stdev(args: tuple[Any, ...], sample: bool, name: str) -> Any:
    nums = collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    n = len(nums)
    if n < (2 if sample else 1):
        return err("#DIV/0!", f"{name} needs at least {2 if sample else 1} numbers")
    mean = math.fsum(nums) / n
    ss = math.fsum((x - mean) ** 2 for x in nums)
    return math.sqrt(ss / (n - 1 if sample else n))


@register("STDEV.S", STATS, (1, None), refs=all_args, spill=NEVER, note=XLFN)
def fn_stdev_s(*args: Any) -> Any:
    return _stdev(args, True, "STDEV.S")


@register("STDEV", STATS, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_stdev(*args: Any) -> Any:
    return _stdev(args, True, "STDEV")


@register("STDEV.P", STATS, (1, None), refs=all_args, spill=NEVER, note=XLFN)
def fn_stdev_p(*args: Any) -> Any:
    return _stdev(args, False, "STDEV.P")


@register("STDEVP", STATS, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_stdevp(*args: Any) -> Any:
    return _stdev(args, False, "STDEVP")


def _array_numbers(array: Any) -> Any:
    if type(array) is XlError:
        return array
    return collect_numbers([array if type(array) is list else [[array]]])


def _kth(array: Any, k: Any, largest: bool, name: str) -> Any:
    nums = _array_numbers(array)
    if type(nums) is XlError:
        return nums

    def one(kk: Any) -> Any:
        x = num(kk)
        if type(x) is XlError:
            return x
        i = math.ceil(x)  # Excel rounds k up
        if not 1 <= i <= len(nums):
            return err("#NUM!", f"{name}: k={x:g} outside 1..{len(nums)}")
        ordered = sorted(nums, reverse=largest)
        return ordered[i - 1]

    return lift(one)(k)


@register("LARGE", STATS, (2, 2), refs=args_at(0), spill=lambda f: len(f) > 1 and f[1],
          portable=True)
def fn_large(array: Any, k: Any) -> Any:
    return _kth(array, k, True, "LARGE")


@register("SMALL", STATS, (2, 2), refs=args_at(0), spill=lambda f: len(f) > 1 and f[1],
          portable=True)
def fn_small(array: Any, k: Any) -> Any:
    return _kth(array, k, False, "SMALL")


def _percentile(array: Any, k: Any, name: str) -> Any:
    nums = _array_numbers(array)
    if type(nums) is XlError:
        return nums
    nums = sorted(nums)

    def one(kk: Any) -> Any:
        x = num(kk)
        if type(x) is XlError:
            return x
        if not nums:
            return err("#NUM!", f"{name} of no numbers")
        if not 0 <= x <= 1:
            return err("#NUM!", f"{name}: k={x:g} outside 0..1")
        pos = x * (len(nums) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(nums) - 1)
        return nums[lo] + (pos - lo) * (nums[hi] - nums[lo])

    return lift(one)(k)


@register("PERCENTILE", STATS, (2, 2), refs=args_at(0), spill=lambda f: len(f) > 1 and f[1],
          portable=True)
def fn_percentile(array: Any, k: Any) -> Any:
    return _percentile(array, k, "PERCENTILE")


@register("PERCENTILE.INC", STATS, (2, 2), refs=args_at(0),
          spill=lambda f: len(f) > 1 and f[1], note=XLFN)
def fn_percentile_inc(array: Any, k: Any) -> Any:
    return _percentile(array, k, "PERCENTILE.INC")


def _rank(number: Any, ref: Any, order: Any, name: str) -> Any:
    nums = _array_numbers(ref)
    if type(nums) is XlError:
        return nums
    ascending = order is not MISSING and order is not None
    if ascending:
        o = num(order)
        if type(o) is XlError:
            return o
        ascending = o != 0

    def one(x: Any) -> Any:
        v = num(x)
        if type(v) is XlError:
            return v
        if not any(approx_eq(v, n) for n in nums):
            return err("#N/A", f"{name}: {v:g} is not in the list")
        if ascending:
            return float(1 + sum(1 for n in nums if n < v and not approx_eq(n, v)))
        return float(1 + sum(1 for n in nums if n > v and not approx_eq(n, v)))

    return lift(one)(number)


@register("RANK", STATS, (2, 3), refs=args_at(1), spill=lambda f: bool(f) and f[0],
          portable=True)
def fn_rank(number: Any, ref: Any, order: Any = MISSING) -> Any:
    return _rank(number, ref, order, "RANK")


@register("RANK.EQ", STATS, (2, 3), refs=args_at(1), spill=lambda f: bool(f) and f[0],
          note=XLFN)
def fn_rank_eq(number: Any, ref: Any, order: Any = MISSING) -> Any:
    return _rank(number, ref, order, "RANK.EQ")


def _pairs(known_y: Any, known_x: Any, name: str) -> Any:
    """(xs, ys) of the cells where both ranges hold numbers, or an error."""
    for a in (known_y, known_x):
        if type(a) is XlError:
            return a
    ya, xa = as_2d(known_y), as_2d(known_x)
    fy = [v for row in ya for v in row]
    fx = [v for row in xa for v in row]
    if len(fy) != len(fx):
        return err("#N/A", f"{name}: known_y's and known_x's differ in size")
    xs, ys = [], []
    for y, x in zip(fy, fx, strict=True):
        if type(y) is XlError:
            return y
        if type(x) is XlError:
            return x
        if type(y) in (float, int) and type(x) in (float, int):
            xs.append(float(x))
            ys.append(float(y))
    return xs, ys


def _fit(known_y: Any, known_x: Any, name: str) -> Any:
    """(slope, intercept) of the least-squares line, or an error."""
    pairs = _pairs(known_y, known_x, name)
    if type(pairs) is XlError:
        return pairs
    xs, ys = pairs
    if not xs:
        return err("#DIV/0!", f"{name}: no pairs of numbers")
    mx = math.fsum(xs) / len(xs)
    my = math.fsum(ys) / len(ys)
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return err("#DIV/0!", f"{name}: the known_x's do not vary")
    slope = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return slope, my - slope * mx


@register("SLOPE", STATS, (2, 2), refs=all_args, spill=NEVER, portable=True)
def fn_slope(known_y: Any, known_x: Any) -> Any:
    fit = _fit(known_y, known_x, "SLOPE")
    return fit if type(fit) is XlError else fit[0]


@register("INTERCEPT", STATS, (2, 2), refs=all_args, spill=NEVER, portable=True)
def fn_intercept(known_y: Any, known_x: Any) -> Any:
    fit = _fit(known_y, known_x, "INTERCEPT")
    return fit if type(fit) is XlError else fit[1]


def _forecast(x: Any, known_y: Any, known_x: Any, name: str) -> Any:
    fit = _fit(known_y, known_x, name)
    if type(fit) is XlError:
        return fit
    slope, intercept = fit

    def one(v: Any) -> Any:
        n = num(v)
        return n if type(n) is XlError else intercept + slope * n

    return lift(one)(x)


@register("FORECAST", STATS, (3, 3), refs=args_at(1, 2), spill=lambda f: bool(f) and f[0],
          portable=True)
def fn_forecast(x: Any, known_y: Any, known_x: Any) -> Any:
    return _forecast(x, known_y, known_x, "FORECAST")


@register("FORECAST.LINEAR", STATS, (3, 3), refs=args_at(1, 2),
          spill=lambda f: bool(f) and f[0], note="stored with the _xlfn. prefix (Excel 2016+)")
def fn_forecast_linear(x: Any, known_y: Any, known_x: Any) -> Any:
    return _forecast(x, known_y, known_x, "FORECAST.LINEAR")


def _numbers_2d(v: Any, name: str) -> Any:
    rows = as_2d(v)
    out = np.empty((len(rows), len(rows[0])))
    for i, row in enumerate(rows):
        for j, x in enumerate(row):
            if type(x) is XlError:
                return x
            if type(x) not in (float, int):
                return err("#VALUE!", f"{name}: {x!r} is not a number")
            out[i, j] = x
    return out


@register("TREND", STATS, (1, 4), refs=args_at(0, 1, 2), spill=ALWAYS, portable=True)
def fn_trend(known_y: Any, known_x: Any = MISSING, new_x: Any = MISSING,
             const: Any = MISSING) -> Any:
    """Least-squares fit of ``known_y`` on one or more regressors, evaluated at ``new_x``."""
    y = _numbers_2d(known_y, "TREND")
    if type(y) is XlError:
        return y
    column = y.shape[1] == 1
    n = y.size
    if known_x is MISSING:
        x = np.arange(1.0, n + 1).reshape(y.shape)
    else:
        x = _numbers_2d(known_x, "TREND")
        if type(x) is XlError:
            return x
    if x.shape == y.shape:
        design = x.reshape(n, 1)
        by_rows = None  # one regressor: the result has new_x's shape
    elif column and x.shape[0] == n:
        design, by_rows = x, True
    elif not column and y.shape[0] == 1 and x.shape[1] == n:
        design, by_rows = x.T, False
    else:
        return err("#REF!", "TREND: known_x's do not fit known_y's")
    if new_x is MISSING:
        nx = x
    else:
        nx = _numbers_2d(new_x, "TREND")
        if type(nx) is XlError:
            return nx
    with_const = True
    if const is not MISSING and const is not None:
        b = truth(const)
        if type(b) is XlError:
            return b
        with_const = b
    a = np.hstack([design, np.ones((n, 1))]) if with_const else design
    coef, *_ = np.linalg.lstsq(a, y.reshape(n), rcond=None)
    k = design.shape[1]
    if by_rows is None:
        points = nx.reshape(-1, 1)
        shape = nx.shape
    elif by_rows:
        if nx.shape[1] != k:
            return err("#REF!", "TREND: new_x's have a different number of regressors")
        points, shape = nx, (nx.shape[0], 1)
    else:
        if nx.shape[0] != k:
            return err("#REF!", "TREND: new_x's have a different number of regressors")
        points, shape = nx.T, (1, nx.shape[1])
    pred = points @ coef[:k] + (coef[k] if with_const else 0.0)
    return [[float(v) for v in row] for row in pred.reshape(shape)]
