"""Criteria of SUMIFS/COUNTIFS/AVERAGEIFS (``">5"``, ``"M*"``, ``"<>"``) and the keys of exact
lookups, with Excel's coercions: ``"2025"`` finds the number 2025, text matches
case-insensitively, ``*``/``?`` are wildcards (``~`` escapes), ``""`` finds blanks.

>>> c = Criterion(">=5")
>>> c.num_cmp
('>=', 5.0)
>>> Criterion("msft").keys, Criterion("").keys
([('s', 'msft')], [('blank',), ('s', '')])
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

from aicapex.formula.values import (
    MISSING,
    approx_eq,
    as_2d,
    compare,
    has_wildcards,
    rank,
    round_key,
    text_to_number,
    wildcard_regex,
)
from aicapex.xlerrors import ERROR_CODES, XlError

__all__ = ["CRITERION_OPERATORS", "Criterion", "RangeIndex", "criterion_keys", "index_keys", "match_key"]

CRITERION_OPERATORS = (">=", "<=", "<>", "=", ">", "<")


def index_keys(v: Any) -> list[tuple]:
    """Keys under which a cell value is found by an '=' criterion (COUNTIF coercion)."""
    t = type(v)
    if v is None:
        return [("blank",)]
    if t is bool:
        return [("b", v)]
    if t is float or t is int:
        return [("n", round_key(float(v)))]
    if t is XlError:
        return [("e", str(v))]
    if isinstance(v, str):
        keys = [("s", v.casefold())]
        n = text_to_number(v)
        if n is not None:
            keys.append(("n", round_key(n)))
        return keys
    return []


class Criterion:
    """One parsed SUMIFS/COUNTIFS criterion: index keys for '=' or a predicate."""

    __slots__ = ("keys", "negate", "pred", "num_cmp")

    def __init__(self, crit: Any) -> None:
        self.keys: list[tuple] | None = None
        self.negate = False
        self.pred: Callable[[Any], bool] | None = None
        self.num_cmp: tuple[str, float] | None = None  # (op, number) for >, >=, <, <=
        if crit is None or crit is MISSING:
            crit = 0.0  # an empty criterion cell counts as 0 (Excel)
        t = type(crit)
        if t is bool:
            self.keys = [("b", crit)]
            return
        if t is float or t is int:
            self.keys = [("n", round_key(float(crit)))]
            return
        if t is XlError:
            self.keys = [("e", str(crit))]
            return
        s = str(crit)
        op = "="
        explicit = False
        for cand in CRITERION_OPERATORS:
            if s.startswith(cand):
                op, s, explicit = cand, s[len(cand):], True
                break
        if s == "":
            if op == "=":
                self.keys = [("blank",)] if explicit else [("blank",), ("s", "")]
                return
            if op == "<>":
                self.keys, self.negate = [("blank",)], True
                return
            self.pred = lambda v, _op=op: isinstance(v, str) and type(v) is not XlError and \
                compare(_op, v, "")
            return
        value: Any
        n = text_to_number(s)
        if n is not None:
            value = n
        elif s.upper() in ("TRUE", "FALSE"):
            value = s.upper() == "TRUE"
        elif s.upper() in ERROR_CODES:
            value = XlError(s.upper())
        else:
            value = s
        if op in ("=", "<>"):
            if type(value) is str and has_wildcards(value):
                rx = wildcard_regex(value)
                self.pred = lambda v, _rx=rx: (
                    isinstance(v, str) and type(v) is not XlError and _rx.fullmatch(v) is not None
                )
            else:
                self.keys = criterion_keys(value)
            self.negate = op == "<>"
            return
        if type(value) is float:
            self.num_cmp = (op, value)
            return
        value_rank = rank(value) if type(value) is not XlError else -1

        def pred(v: Any, _op: str = op, _value: Any = value, _rank_v: int = value_rank) -> bool:
            if v is None or type(v) is XlError or _rank_v < 0:
                return False
            if rank(v) != _rank_v:
                return False
            return compare(_op, v, _value) is True

        self.pred = pred


def criterion_keys(value: Any) -> list[tuple]:
    t = type(value)
    if t is bool:
        return [("b", value)]
    if t is float or t is int:
        return [("n", round_key(float(value)))]
    if t is XlError:
        return [("e", str(value))]
    return [("s", str(value).casefold())]


def match_key(v: Any) -> tuple | None:
    """Key for MATCH(..., 0): type-strict, text case-insensitive."""
    t = type(v)
    if t is bool:
        return ("b", v)
    if t is float or t is int:
        return ("n", round_key(float(v)))
    if t is str:
        return ("s", v.casefold())
    return None




class RangeIndex:
    """Indexes of the arrays criteria and exact lookups scan, built once per array object.

    One evaluation reads the same range (the same list object, from the interpreter's range
    cache) in thousands of ``COUNTIFS``/``MATCH`` calls; each index is keyed by the array's
    ``id`` and holds the array so the id cannot be reused while the index lives.
    """

    def __init__(self) -> None:
        self.flat_cache: dict[int, tuple[Any, list[Any]]] = {}
        self.crit_index: dict[int, tuple[Any, dict[tuple, list[int]]]] = {}
        self.exact_index: dict[int, tuple[Any, dict[tuple, int]]] = {}
        self.sorted_index: dict[int, tuple[Any, tuple[list[float], list[int]]]] = {}

    def flat(self, arr: Any) -> list[Any]:
        """The values of an array in reading order (a scalar as one value)."""
        hit = self.flat_cache.get(id(arr))
        if hit is not None and hit[0] is arr:
            return hit[1]
        flat = [v for row in as_2d(arr) for v in row]
        if type(arr) is list:
            self.flat_cache[id(arr)] = (arr, flat)
        return flat

    def positions(self, arr: Any, crit: Criterion, n: int) -> set[int]:
        """Flat positions of the cells of ``arr`` (``n`` cells) meeting ``crit``."""
        flat = self.flat(arr)
        if crit.keys is not None:
            hit = self.crit_index.get(id(arr))
            if hit is None or hit[0] is not arr:
                index: dict[tuple, list[int]] = {}
                for i, v in enumerate(flat):
                    for k in index_keys(v):
                        index.setdefault(k, []).append(i)
                if type(arr) is list:
                    self.crit_index[id(arr)] = (arr, index)
            else:
                index = hit[1]
            pos: set[int] = set()
            for k in crit.keys:
                pos.update(index.get(k, ()))
            if crit.negate:
                return set(range(n)) - pos
            return pos
        if crit.num_cmp is not None:
            return self.numeric_positions(arr, flat, *crit.num_cmp)
        pred = crit.pred
        assert pred is not None
        if crit.negate:
            return {i for i, v in enumerate(flat) if not pred(v)}
        return {i for i, v in enumerate(flat) if pred(v)}

    def numeric_positions(self, arr: Any, flat: list[Any], op: str, value: float) -> set[int]:
        """Positions of the numbers (not booleans, text or blanks) satisfying ``op value``."""
        hit = self.sorted_index.get(id(arr))
        if hit is None or hit[0] is not arr:
            pairs = sorted((float(v), i) for i, v in enumerate(flat)
                           if type(v) is float or type(v) is int)
            index = ([p[0] for p in pairs], [p[1] for p in pairs])
            if type(arr) is list:
                self.sorted_index[id(arr)] = (arr, index)
        else:
            index = hit[1]
        vals, pos = index
        n = len(vals)
        if op in (">", "<="):
            i = bisect_right(vals, value)
            while i < n and approx_eq(vals[i], value):
                i += 1
        else:
            i = bisect_left(vals, value)
            while i > 0 and approx_eq(vals[i - 1], value):
                i -= 1
        return set(pos[i:]) if op in (">", ">=") else set(pos[:i])

    def exact_position(self, array: Any, lookup: Any) -> int | None:
        """0-based position of the first cell equal to ``lookup`` (type-strict, text
        case-insensitive, no wildcards), or None."""
        hit = self.exact_index.get(id(array))
        if hit is None or hit[0] is not array:
            index: dict[tuple, int] = {}
            for i, v in enumerate(self.flat(array)):
                k = match_key(v)
                if k is not None and k not in index:
                    index[k] = i
            if type(array) is list:
                self.exact_index[id(array)] = (array, index)
        else:
            index = hit[1]
        return index.get(match_key(lookup))
