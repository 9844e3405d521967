"""Lookup and reference: INDEX, MATCH, VLOOKUP, HLOOKUP, LOOKUP, CHOOSE, OFFSET, ROW, ROWS,
COLUMN, COLUMNS.

Exact lookups (``MATCH(..., 0)``, ``VLOOKUP(..., FALSE)``) are type-strict, compare text
case-insensitively and honour ``*``/``?`` wildcards; approximate lookups return the last
value not greater (``MATCH`` type 1, ``VLOOKUP`` TRUE, ``LOOKUP``) or not smaller (type -1)
than the lookup value among values of its type, which is Excel's answer for sorted data.
"""

from __future__ import annotations

from typing import Any

from aicapex.formula.functions.registry import (
    ALWAYS,
    CONTEXT,
    LAZY,
    NEVER,
    args_at,
    register,
)
from aicapex.formula.parser import MAX_COL, MAX_ROW, Missing
from aicapex.formula.values import (
    MISSING,
    as_2d,
    broadcast,
    compare,
    err,
    has_wildcards,
    int_arg,
    num,
    rank,
    text,
    truth,
    unwrap,
    wildcard_regex,
)
from aicapex.xlerrors import XlError

__all__ = ["approximate_position"]

LOOKUP = "lookup"
VOLATILE = "volatile (recomputed on every change), so a client copy keeps its value"


@register("INDEX", LOOKUP, (2, 3), refs=args_at(0), portable=True)
def fn_index(array: Any, row: Any = MISSING, col: Any = MISSING) -> Any:
    if type(array) is XlError:
        return array
    arr = as_2d(array)
    h, w = len(arr), len(arr[0])
    r = 0 if row is MISSING else int_arg(row)
    if type(r) is XlError:
        return r
    c_given = col is not MISSING
    c = int_arg(col) if c_given else 0
    if type(c) is XlError:
        return c
    if r < 0 or c < 0:
        return err("#VALUE!", "INDEX with a negative position")
    if not c_given:
        if h == 1:  # a single row: the one number is a column position
            r, c = 1, r
        elif w == 1:
            c = 1
    if r > h or c > w:
        return err("#REF!", f"INDEX position ({r}, {c}) outside a {h}x{w} range")
    if r and c:
        return arr[r - 1][c - 1]
    if r:
        return [list(arr[r - 1])]
    if c:
        return [[row_[c - 1]] for row_ in arr]
    return arr


def approximate_position(flat: list[Any], lookup: Any, match_type: float) -> int | None:
    """0-based position of the last value <= ``lookup`` (``match_type`` > 0) or >= it
    (< 0) among the values of the lookup's type, or None."""
    best = None
    best_val: Any = None
    kind = rank(lookup)
    for i, v in enumerate(flat):
        if v is None or type(v) is XlError or rank(v) != kind:
            continue
        if match_type > 0:
            if compare("<=", v, lookup) is True and (
                    best is None or compare(">=", v, best_val) is True):
                best, best_val = i, v
        elif compare(">=", v, lookup) is True and (
                best is None or compare("<=", v, best_val) is True):
            best, best_val = i, v
    return best


def _exact_position(ctx: Any, array: Any, flat: list[Any], lookup: Any) -> int | None:
    if type(lookup) is str and has_wildcards(lookup):
        rx = wildcard_regex(lookup)
        for i, v in enumerate(flat):
            if type(v) is str and rx.fullmatch(v):
                return i
        return None
    return ctx.index.exact_position(array, lookup)


def _lookup_value(lookup: Any, name: str) -> Any:
    if type(lookup) is list:
        lookup = unwrap(lookup)
    if lookup is None or lookup is MISSING:
        return err("#N/A", f"{name} of an empty value")
    return lookup


@register("MATCH", LOOKUP, (2, 3), kind=CONTEXT, refs=args_at(1),
          spill=lambda f: bool(f) and f[0], portable=True)
def fn_match(ctx: Any, lookup: Any, array: Any, match_type: Any = 1.0) -> Any:
    if match_type is MISSING:
        match_type = 1.0
    if type(lookup) is list:
        lookup = unwrap(lookup)
        if type(lookup) is list:
            return broadcast(lambda x: fn_match(ctx, x, array, match_type), [lookup])
    if type(lookup) is XlError:
        return lookup
    if type(array) is XlError:
        return array
    arr = as_2d(array)
    if len(arr) != 1 and len(arr[0]) != 1:
        return err("#N/A", "MATCH needs a single row or column")
    mt = num(match_type)
    if type(mt) is XlError:
        return mt
    lookup = _lookup_value(lookup, "MATCH")
    if type(lookup) is XlError:
        return lookup
    flat = ctx.index.flat(array)
    shown = text(lookup)
    if mt == 0:
        pos = _exact_position(ctx, array, flat, lookup)
        if pos is None:
            return err("#N/A", f"MATCH: {shown!r} not found")
        return pos + 1
    pos = approximate_position(flat, lookup, mt)
    if pos is None:
        return err("#N/A", f"MATCH: no value {'<=' if mt > 0 else '>='} {shown!r}")
    return pos + 1


def _table_lookup(ctx: Any, lookup: Any, table: Any, index: Any, approx: Any,
                  vertical: bool) -> Any:
    name = "VLOOKUP" if vertical else "HLOOKUP"
    if type(table) is XlError:
        return table
    lookup = _lookup_value(lookup, name)
    if type(lookup) is XlError:
        return lookup
    k = int_arg(index)
    if type(k) is XlError:
        return k
    rows = as_2d(table)
    lines = [list(col) for col in zip(*rows, strict=True)] if not vertical else rows
    keys = [line[0] for line in lines] if vertical else list(rows[0])
    width = len(rows[0]) if vertical else len(rows)
    if k < 1:
        return err("#VALUE!", f"{name}: index {k} is below 1")
    if k > width:
        return err("#REF!", f"{name}: index {k} is beyond the table's {width}")
    approximate = True
    if approx is not MISSING and approx is not None:
        b = truth(approx)
        if type(b) is XlError:
            return b
        approximate = b
    if approximate:
        pos = approximate_position(keys, lookup, 1)
    elif type(lookup) is str and has_wildcards(lookup):
        pos = _exact_position(ctx, keys, keys, lookup)
    else:
        pos = next((i for i, v in enumerate(keys)
                    if type(v) is not XlError and v is not None
                    and rank(v) == rank(lookup) and compare("=", v, lookup) is True), None)
    if pos is None:
        return err("#N/A", f"{name}: {text(lookup)!r} not found")
    return rows[pos][k - 1] if vertical else rows[k - 1][pos]


@register("VLOOKUP", LOOKUP, (3, 4), kind=CONTEXT, refs=args_at(1),
          spill=lambda f: bool(f) and f[0], portable=True)
def fn_vlookup(ctx: Any, lookup: Any, table: Any, col: Any, approx: Any = MISSING) -> Any:
    if type(lookup) is list and type(unwrap(lookup)) is list:
        return broadcast(lambda x: fn_vlookup(ctx, x, table, col, approx), [lookup])
    return _table_lookup(ctx, lookup, table, col, approx, vertical=True)


@register("HLOOKUP", LOOKUP, (3, 4), kind=CONTEXT, refs=args_at(1),
          spill=lambda f: bool(f) and f[0], portable=True)
def fn_hlookup(ctx: Any, lookup: Any, table: Any, row: Any, approx: Any = MISSING) -> Any:
    if type(lookup) is list and type(unwrap(lookup)) is list:
        return broadcast(lambda x: fn_hlookup(ctx, x, table, row, approx), [lookup])
    return _table_lookup(ctx, lookup, table, row, approx, vertical=False)


@register("LOOKUP", LOOKUP, (2, 3), refs=args_at(1, 2), spill=lambda f: bool(f) and f[0],
          portable=True)
def fn_lookup(lookup: Any, vector: Any, result: Any = MISSING) -> Any:
    if type(lookup) is list and type(unwrap(lookup)) is list:
        return broadcast(lambda x: fn_lookup(x, vector, result), [lookup])
    lookup = _lookup_value(lookup, "LOOKUP")
    for v in (lookup, vector, result):
        if type(v) is XlError:
            return v
    rows = as_2d(vector)
    h, w = len(rows), len(rows[0])
    if result is MISSING:
        if w > h:  # search the first row, return from the last
            keys, values = list(rows[0]), list(rows[-1])
        else:
            keys, values = [r[0] for r in rows], [r[-1] for r in rows]
    else:
        if h != 1 and w != 1:
            return err("#N/A", "LOOKUP's lookup vector must be one row or column")
        keys = [v for r in rows for v in r]
        values = [v for r in as_2d(result) for v in r]
    pos = approximate_position(keys, lookup, 1)
    if pos is None:
        return err("#N/A", f"LOOKUP: no value <= {text(lookup)!r}")
    if pos >= len(values):
        return err("#N/A", "LOOKUP: the result vector is shorter than the lookup vector")
    return values[pos]


@register("CHOOSE", LOOKUP, (2, None), kind=LAZY, spill=lambda f: any(f), portable=True)
def fn_choose(ctx: Any, args: list[Any], sheet: str) -> Any:
    index = ctx.eval(args[0], sheet)

    def pick(i: Any, *values: Any) -> Any:
        k = int_arg(i)
        if type(k) is XlError:
            return k
        if not 1 <= k <= len(values):
            return err("#VALUE!", f"CHOOSE: index {k} outside 1..{len(values)}")
        v = values[k - 1]
        return 0.0 if v is MISSING else v

    if type(index) is list and type(unwrap(index)) is list:
        return broadcast(pick, [index] + [ctx.eval(a, sheet) for a in args[1:]])
    k = int_arg(unwrap(index))
    if type(k) is XlError:
        return k
    if not 1 <= k <= len(args) - 1:
        return err("#VALUE!", f"CHOOSE: index {k} outside 1..{len(args) - 1}")
    v = ctx.eval(args[k], sheet)
    return 0.0 if v is MISSING else v


@register("OFFSET", LOOKUP, (3, 5), kind=LAZY, spill=ALWAYS, note=VOLATILE,
          ref_only=args_at(0))
def fn_offset(ctx: Any, args: list[Any], sheet: str) -> Any:
    area = ctx.reference(args[0], sheet)
    if type(area) is XlError:
        return area
    title, r1, c1, r2, c2 = area
    nums = []
    for i, default in ((1, 0), (2, 0), (3, r2 - r1 + 1), (4, c2 - c1 + 1)):
        if i >= len(args) or isinstance(args[i], Missing):
            nums.append(default)
            continue
        n = int_arg(unwrap(ctx.eval(args[i], sheet)))
        if type(n) is XlError:
            return n
        nums.append(n)
    dr, dc, h, w = nums
    if h < 1 or w < 1:
        return err("#REF!", f"OFFSET with a height or width of {min(h, w)}")
    top, left, bottom, right = r1 + dr, c1 + dc, r1 + dr + h - 1, c1 + dc + w - 1
    if top < 1 or left < 1 or bottom > MAX_ROW or right > MAX_COL:
        return err("#REF!", "OFFSET reaches beyond the edge of the sheet")
    return ctx.area_value(title, top, left, bottom, right)


def _position(ctx: Any, args: list[Any], sheet: str, rows: bool) -> Any:
    if not args or isinstance(args[0], Missing):
        key = ctx.current
        return float(key[1] if rows else key[2])
    area = ctx.reference(args[0], sheet)
    if type(area) is XlError:
        return area
    _, r1, c1, r2, c2 = area
    if rows:
        return float(r1) if r1 == r2 else [[float(r)] for r in range(r1, r2 + 1)]
    return float(c1) if c1 == c2 else [[float(c) for c in range(c1, c2 + 1)]]


@register("ROW", LOOKUP, (0, 1), kind=LAZY, ref_only=args_at(0), portable=True)
def fn_row(ctx: Any, args: list[Any], sheet: str) -> Any:
    return _position(ctx, args, sheet, rows=True)


@register("COLUMN", LOOKUP, (0, 1), kind=LAZY, ref_only=args_at(0), portable=True)
def fn_column(ctx: Any, args: list[Any], sheet: str) -> Any:
    return _position(ctx, args, sheet, rows=False)


def _dimension(ctx: Any, args: list[Any], sheet: str, rows: bool) -> Any:
    area = ctx.reference(args[0], sheet, quiet=True)
    if area is None:  # not a reference: the size of the value
        v = ctx.eval(args[0], sheet)
        if type(v) is XlError:
            return v
        a = as_2d(v)
        return float(len(a) if rows else len(a[0]))
    if type(area) is XlError:
        return area
    _, r1, c1, r2, c2 = area
    return float(r2 - r1 + 1 if rows else c2 - c1 + 1)


@register("ROWS", LOOKUP, (1, 1), kind=LAZY, spill=NEVER, ref_only=args_at(0), portable=True)
def fn_rows(ctx: Any, args: list[Any], sheet: str) -> Any:
    return _dimension(ctx, args, sheet, rows=True)


@register("COLUMNS", LOOKUP, (1, 1), kind=LAZY, spill=NEVER, ref_only=args_at(0),
          portable=True)
def fn_columns(ctx: Any, args: list[Any], sheet: str) -> Any:
    return _dimension(ctx, args, sheet, rows=False)
