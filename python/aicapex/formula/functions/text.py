"""Text functions: LEFT, RIGHT, MID, LEN, FIND, SEARCH, SUBSTITUTE, REPLACE, TRIM, UPPER,
LOWER, CONCATENATE, CONCAT, VALUE, TEXT.

Arguments convert to text as ``&`` converts them (numbers in General format, TRUE/FALSE,
blank as ``""``); positions are 1-based characters.
"""

from __future__ import annotations

import re
from typing import Any

from aicapex.formula.functions.registry import CONTEXT, NEVER, all_args, register
from aicapex.formula.numfmt import format_value
from aicapex.formula.values import (
    MISSING,
    err,
    int_arg,
    iter_values,
    lift,
    text,
    text_to_number,
    wildcard_regex,
)
from aicapex.xlerrors import XlError

__all__: list[str] = []

TEXT = "text"


def _texts(*values: Any) -> Any:
    out = []
    for v in values:
        s = text(v)
        if type(s) is XlError:
            return s
        out.append(s)
    return out


def _count(v: Any, default: int, name: str) -> Any:
    if v is MISSING:
        return default
    n = int_arg(v)
    if type(n) is XlError:
        return n
    if n < 0:
        return err("#VALUE!", f"{name}: a negative number of characters")
    return n


@register("LEFT", TEXT, (1, 2), portable=True)
@lift
def fn_left(value: Any, n: Any = MISSING) -> Any:
    s = text(value)
    k = _count(n, 1, "LEFT")
    for v in (s, k):
        if type(v) is XlError:
            return v
    return s[:k]


@register("RIGHT", TEXT, (1, 2), portable=True)
@lift
def fn_right(value: Any, n: Any = MISSING) -> Any:
    s = text(value)
    k = _count(n, 1, "RIGHT")
    for v in (s, k):
        if type(v) is XlError:
            return v
    return s[len(s) - k:] if k else ""


@register("MID", TEXT, (3, 3), portable=True)
@lift
def fn_mid(value: Any, start: Any, n: Any) -> Any:
    s = text(value)
    if type(s) is XlError:
        return s
    st = int_arg(start)
    if type(st) is XlError:
        return st
    if st < 1:
        return err("#VALUE!", "MID: start below 1")
    k = _count(n, 0, "MID")
    if type(k) is XlError:
        return k
    return s[st - 1:st - 1 + k]


@register("LEN", TEXT, (1, 1), portable=True)
@lift
def fn_len(value: Any) -> Any:
    s = text(value)
    return s if type(s) is XlError else float(len(s))


def _find(needle: Any, haystack: Any, start: Any, name: str, fold: bool) -> Any:
    parts = _texts(needle, haystack)
    if type(parts) is XlError:
        return parts
    find, within = parts
    st = 1 if start is MISSING else int_arg(start)
    if type(st) is XlError:
        return st
    if st < 1 or st > len(within) + 1:
        return err("#VALUE!", f"{name}: start {st} outside the text")
    if fold:
        rx = wildcard_regex(find)
        m = re.compile(rx.pattern.replace(".*", ".*?"), rx.flags).search(within, st - 1)
        pos = m.start() if m else -1
    else:
        pos = within.find(find, st - 1)
    if pos < 0:
        return err("#VALUE!", f"{name}: {find!r} not found")
    return float(pos + 1)


@register("FIND", TEXT, (2, 3), portable=True)
@lift
def fn_find(needle: Any, haystack: Any, start: Any = MISSING) -> Any:
    return _find(needle, haystack, start, "FIND", fold=False)


@register("SEARCH", TEXT, (2, 3), portable=True)
@lift
def fn_search(needle: Any, haystack: Any, start: Any = MISSING) -> Any:
    return _find(needle, haystack, start, "SEARCH", fold=True)


@register("SUBSTITUTE", TEXT, (3, 4), portable=True)
@lift
def fn_substitute(value: Any, old: Any, new: Any, instance: Any = MISSING) -> Any:
    parts = _texts(value, old, new)
    if type(parts) is XlError:
        return parts
    s, o, n = parts
    if not o:
        return s
    if instance is MISSING:
        return s.replace(o, n)
    k = int_arg(instance)
    if type(k) is XlError:
        return k
    if k < 1:
        return err("#VALUE!", "SUBSTITUTE: instance below 1")
    pos = -1
    for _ in range(k):
        pos = s.find(o, pos + 1)
        if pos < 0:
            return s
    return s[:pos] + n + s[pos + len(o):]


@register("REPLACE", TEXT, (4, 4), portable=True)
@lift
def fn_replace(value: Any, start: Any, n: Any, new: Any) -> Any:
    parts = _texts(value, new)
    if type(parts) is XlError:
        return parts
    s, replacement = parts
    st = int_arg(start)
    if type(st) is XlError:
        return st
    if st < 1:
        return err("#VALUE!", "REPLACE: start below 1")
    k = _count(n, 0, "REPLACE")
    if type(k) is XlError:
        return k
    return s[:st - 1] + replacement + s[st - 1 + k:]


@register("TRIM", TEXT, (1, 1), portable=True)
@lift
def fn_trim(value: Any) -> Any:
    s = text(value)
    return s if type(s) is XlError else " ".join(p for p in s.split(" ") if p)


@register("UPPER", TEXT, (1, 1), portable=True)
@lift
def fn_upper(value: Any) -> Any:
    s = text(value)
    return s if type(s) is XlError else s.upper()


@register("LOWER", TEXT, (1, 1), portable=True)
@lift
def fn_lower(value: Any) -> Any:
    s = text(value)
    return s if type(s) is XlError else s.lower()


@register("CONCATENATE", TEXT, (1, None), portable=True)
@lift
def fn_concatenate(*values: Any) -> Any:
    parts = _texts(*values)
    return parts if type(parts) is XlError else "".join(parts)


@register("CONCAT", TEXT, (1, None), refs=all_args, spill=NEVER,
          note="stored with the _xlfn. prefix (Excel 2019+)")
def fn_concat(*values: Any) -> Any:
    out = []
    for v, _ in iter_values(list(values)):
        s = text(v)
        if type(s) is XlError:
            return s
        out.append(s)
    return "".join(out)


@register("VALUE", TEXT, (1, 1), portable=True)
@lift
def fn_value(value: Any) -> Any:
    t = type(value)
    if t is float or t is int:
        return float(value)
    if t is XlError:
        return value
    if value is None or value is MISSING:
        return 0.0
    if t is bool:
        return err("#VALUE!", "VALUE of a logical value")
    n = text_to_number(value)
    if n is None:
        return err("#VALUE!", f"VALUE: {value!r} is not a number")
    return n


@register("TEXT", TEXT, (2, 2), kind=CONTEXT,
          note="format codes are read in the spreadsheet's locale (LibreOffice's differ)")
def fn_text(ctx: Any, value: Any, fmt: Any) -> Any:
    def one(v: Any, f: Any) -> Any:
        code = text(f)
        if type(code) is XlError:
            return code
        if type(v) is XlError:
            return v
        if v is None or v is MISSING:
            v = 0.0
        if type(v) is bool:
            return "TRUE" if v else "FALSE"
        if type(v) is str:
            n = text_to_number(v)
            v = n if n is not None else v
        try:
            return format_value(v, code, ctx.system)
        except (ValueError, OverflowError) as exc:
            return err("#VALUE!", f"TEXT: {exc}")

    return lift(one)(value, fmt)
