"""Logical functions: IF, IFERROR, IFNA, IFS, SWITCH (lazy: only the branch taken is
evaluated, so a custom function in another branch is never called), AND, OR, XOR, NOT,
TRUE, FALSE."""

from __future__ import annotations

from typing import Any

from aicapex.formula.functions.registry import LAZY, NEVER, all_args, register
from aicapex.formula.values import MISSING, broadcast, compare, err, iter_values, lift, truth
from aicapex.xlerrors import XlError

__all__: list[str] = []

LOGIC = "logic"
XLFN = "stored with the _xlfn. prefix (Excel 2013+/2019+): not in Excel 2010"


def _pick(cond: Any, yes: Any, no: Any) -> Any:
    if type(cond) is XlError:
        return cond
    return yes if cond else no


def _value(ctx: Any, node: Any, sheet: str) -> Any:
    v = ctx.eval(node, sheet)
    return 0.0 if v is MISSING else v  # an empty branch: IF(TRUE,,1) is 0


@register("IF", LOGIC, (2, 3), kind=LAZY, portable=True)
def fn_if(ctx: Any, args: list[Any], sheet: str) -> Any:
    cond = ctx.eval(args[0], sheet)

    def branch(i: int) -> Any:
        if i >= len(args):
            return False  # omitted: IF(FALSE, 1) is FALSE
        return _value(ctx, args[i], sheet)

    if type(cond) is list:
        yes, no = branch(1), branch(2)
        return broadcast(lambda c, y, n: _pick(truth(c), y, n), [cond, yes, no])
    b = truth(cond)
    if type(b) is XlError:
        return b
    return branch(1) if b else branch(2)


def _if_error(ctx: Any, args: list[Any], sheet: str, only_na: bool) -> Any:
    def caught(x: Any) -> bool:
        return type(x) is XlError and (not only_na or x == "#N/A")

    v = ctx.eval(args[0], sheet)
    if type(v) is list:
        alt = ctx.eval(args[1], sheet)
        return broadcast(lambda x, a: a if caught(x) else x, [v, alt])
    if caught(v):
        return _value(ctx, args[1], sheet)
    return v


@register("IFERROR", LOGIC, (2, 2), kind=LAZY, portable=True)
def fn_iferror(ctx: Any, args: list[Any], sheet: str) -> Any:
    return _if_error(ctx, args, sheet, only_na=False)


@register("IFNA", LOGIC, (2, 2), kind=LAZY, note=XLFN)
def fn_ifna(ctx: Any, args: list[Any], sheet: str) -> Any:
    return _if_error(ctx, args, sheet, only_na=True)


def _ifs_scalar(*flat: Any) -> Any:
    for i in range(0, len(flat), 2):
        b = truth(flat[i])
        if type(b) is XlError:
            return b
        if b:
            v = flat[i + 1]
            return 0.0 if v is MISSING else v
    return err("#N/A", "IFS: no condition is TRUE")


@register("IFS", LOGIC, (2, None), kind=LAZY, note=XLFN)
def fn_ifs(ctx: Any, args: list[Any], sheet: str) -> Any:
    if len(args) % 2:
        return err("#N/A", "IFS needs pairs of condition and value")
    for i in range(0, len(args), 2):
        cond = ctx.eval(args[i], sheet)
        if type(cond) is list:  # array conditions: every branch, elementwise
            return broadcast(_ifs_scalar, [ctx.eval(a, sheet) for a in args])
        b = truth(cond)
        if type(b) is XlError:
            return b
        if b:
            return _value(ctx, args[i + 1], sheet)
    return err("#N/A", "IFS: no condition is TRUE")


def _switch_scalar(*flat: Any) -> Any:
    expr, rest = flat[0], flat[1:]
    if type(expr) is XlError:
        return expr
    for i in range(0, len(rest) - 1, 2):
        if compare("=", expr, rest[i]) is True:
            v = rest[i + 1]
            return 0.0 if v is MISSING else v
    if len(rest) % 2:
        return rest[-1]
    return err("#N/A", "SWITCH: no value matches and there is no default")


@register("SWITCH", LOGIC, (3, None), kind=LAZY, note=XLFN)
def fn_switch(ctx: Any, args: list[Any], sheet: str) -> Any:
    expr = ctx.eval(args[0], sheet)
    if type(expr) is list:
        return broadcast(_switch_scalar, [ctx.eval(a, sheet) for a in args])
    if type(expr) is XlError:
        return expr
    rest = args[1:]
    for i in range(0, len(rest) - 1, 2):
        candidate = ctx.eval(rest[i], sheet)
        if type(candidate) is XlError:
            return candidate
        if compare("=", expr, candidate) is True:
            return _value(ctx, rest[i + 1], sheet)
    if len(rest) % 2:
        return _value(ctx, rest[-1], sheet)
    return err("#N/A", "SWITCH: no value matches and there is no default")


def _logicals(args: list[Any], name: str) -> Any:
    """The logical values of AND/OR/XOR arguments (ranges skip text and blanks)."""
    out: list[bool] = []
    for v, in_array in iter_values(args):
        t = type(v)
        if t is XlError:
            return v
        if t is bool or t is float or t is int:
            out.append(bool(v))
        elif in_array or v is None or v is MISSING:
            continue
        else:
            b = truth(v)
            if type(b) is XlError:
                return b
            out.append(b)
    if not out:
        return err("#VALUE!", f"{name} has no logical values")
    return out


@register("AND", LOGIC, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_and(*args: Any) -> Any:
    vals = _logicals(list(args), "AND")
    return vals if type(vals) is XlError else all(vals)


@register("OR", LOGIC, (1, None), refs=all_args, spill=NEVER, portable=True)
def fn_or(*args: Any) -> Any:
    vals = _logicals(list(args), "OR")
    return vals if type(vals) is XlError else any(vals)


@register("XOR", LOGIC, (1, None), refs=all_args, spill=NEVER, note=XLFN)
def fn_xor(*args: Any) -> Any:
    vals = _logicals(list(args), "XOR")
    return vals if type(vals) is XlError else sum(vals) % 2 == 1


@register("NOT", LOGIC, (1, 1), portable=True)
@lift
def fn_not(x: Any) -> Any:
    b = truth(x)
    return b if type(b) is XlError else not b


@register("TRUE", LOGIC, (0, 0), spill=NEVER, portable=True)
def fn_true() -> Any:
    return True


@register("FALSE", LOGIC, (0, 0), spill=NEVER, portable=True)
def fn_false() -> Any:
    return False
