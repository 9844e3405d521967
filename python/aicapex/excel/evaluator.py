"""Headless formula evaluator for openpyxl workbooks (used by ``python -m aicapex refresh``).

:func:`evaluate_workbook` computes every formula cell of a workbook and returns the values, so
the caller can store them as cached results. It understands the portable formula subset of the
workbook style guide (section 5) plus the registered custom functions (the ``CPX_`` UDFs).

How it works
------------
- Formulas are split into tokens by openpyxl's :class:`~openpyxl.formula.tokenizer.Tokenizer`
  and parsed (precedence climbing) into a small expression tree; trees are cached per formula
  text.
- Every formula cell's references (cells, ranges, defined names) give a static dependency
  graph. Cells are evaluated in dependency order (an iterative depth-first search, so long
  chains do not hit Python's recursion limit), each once; a circular reference raises
  :class:`~aicapex.errors.AicapexError` naming the cycle, as Excel reports a cycle from the
  references whatever branch an ``IF`` takes.
- Values follow Excel: a blank is 0 in arithmetic and ``""`` in text; errors are
  :class:`XlError` values that propagate; ``SUM`` and friends ignore text and booleans inside
  ranges; comparisons order numbers < text < FALSE < TRUE, text case-insensitively.
- A formula whose result is an array larger than 1x1 spills right and down from its cell
  (dynamic-array behaviour); a non-empty cell in the way gives ``#SPILL!``. openpyxl
  :class:`~openpyxl.worksheet.formula.ArrayFormula` cells fill their ``ref`` range instead.

Examples
--------
>>> from openpyxl import Workbook
>>> wb = Workbook()
>>> ws = wb.active
>>> ws["A1"], ws["A2"], ws["A3"] = 2, 3, "=-A1^2+A2*4"
>>> evaluate_workbook(wb).values[("Sheet", "A3")]
16.0
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import to_excel

from aicapex.errors import AicapexError
from aicapex.xlerrors import ERROR_CODES, XlError

__all__ = [
    "ERROR_CODES",
    "SUPPORTED_FUNCTIONS",
    "CellError",
    "EvaluationResult",
    "XlError",
    "evaluate_workbook",
    "functions_in_formula",
]

MAX_ROW = 1_048_576
MAX_COL = 16_384

_FN_PREFIXES = ("_XLFN.", "_XLUDF.", "_XLWS.")


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------
def _err(code: str, reason: str | None = None) -> XlError:
    return XlError(code, reason)


class _MissingType:
    """An empty argument slot, as in ``IF(A1,,1)`` or ``ROUND(x,)``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


_MISSING = _MissingType()
_NOTSET = object()


@dataclass(frozen=True)
class CellError:
    """A cell whose computed value is an error value."""

    sheet: str
    coord: str
    code: str
    reason: str | None
    origin: str | None
    in_spill: bool = False

    def __str__(self) -> str:
        where = f" (from {self.origin})" if self.origin and self.origin != self.ref else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.ref} {self.code}{why}{where}"

    @property
    def ref(self) -> str:
        return f"{_quote_sheet(self.sheet)}!{self.coord}"


@dataclass
class EvaluationResult:
    """What :func:`evaluate_workbook` computed.

    Attributes
    ----------
    values : dict
        ``(sheet_title, coord) -> value`` for every formula cell (for a spilling formula, its
        top-left value; for a blocked spill, ``#SPILL!``).
    spills : dict
        ``(sheet_title, coord) -> value`` for the other cells of spilled arrays and of array
        formula ranges; these cells hold no formula, so the caller writes plain values.
    errors : list of CellError
        Formula and spill cells whose value is an error, with the reason where known.
    """

    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    spills: dict[tuple[str, str], Any] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)

    def get(self, sheet: str, coord: str, default: Any = None) -> Any:
        """The value of a formula or spill cell, or ``default``."""
        key = (sheet, coord.replace("$", "").upper())
        if key in self.values:
            return self.values[key]
        return self.spills.get(key, default)


def _quote_sheet(title: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def _where(key: tuple[str, int, int]) -> str:
    return f"{_quote_sheet(key[0])}!{get_column_letter(key[2])}{key[1]}"


# --------------------------------------------------------------------------------------------
# Parsing: tokens (openpyxl) -> expression tree
# --------------------------------------------------------------------------------------------
class _ParseError(Exception):
    pass


class _Node:
    __slots__ = ()


class _Lit(_Node):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Missing(_Node):
    __slots__ = ()


class _Ref(_Node):
    """A cell or range; ``r2``/``c2`` of ``None`` mean to the sheet's last row/column."""

    __slots__ = ("sheet", "r1", "c1", "r2", "c2", "single", "text")

    def __init__(self, sheet, r1, c1, r2, c2, text) -> None:
        self.sheet = sheet
        self.r1, self.c1, self.r2, self.c2 = r1, c1, r2, c2
        self.single = r1 == r2 and c1 == c2
        self.text = text


class _Name(_Node):
    __slots__ = ("name", "sheet")

    def __init__(self, name: str, sheet: str | None) -> None:
        self.name = name
        self.sheet = sheet


class _Unary(_Node):
    __slots__ = ("op", "operand")

    def __init__(self, op: str, operand: _Node) -> None:
        self.op = op
        self.operand = operand


class _Binary(_Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: _Node, right: _Node) -> None:
        self.op = op
        self.left = left
        self.right = right


class _Call(_Node):
    __slots__ = ("name", "raw", "args")

    def __init__(self, name: str, raw: str, args: list[_Node]) -> None:
        self.name = name
        self.raw = raw
        self.args = args


class _ArrayLit(_Node):
    __slots__ = ("rows",)

    def __init__(self, rows: list[list[_Node]]) -> None:
        self.rows = rows


_BINARY_BP = {
    "=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1,
    "&": 2,
    "+": 3, "-": 3,
    "*": 4, "/": 4,
    "^": 5,
}

_CELL_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")
_COL_RE = re.compile(r"\$?([A-Za-z]{1,3})")
_ROW_RE = re.compile(r"\$?(\d{1,7})")
_NAME_RE = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\?]*")
_SHEET_RE = re.compile(r"(?:'((?:[^']|'')+)'|([^'!:\[\]]+))!(.+)")


def _normalize_function_name(raw: str) -> str:
    name = raw.strip().upper()
    stripped = True
    while stripped:
        stripped = False
        for prefix in _FN_PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix):]
                stripped = True
    return name


def _cell_pos(text: str) -> tuple[int, int] | None:
    m = _CELL_RE.fullmatch(text)
    if not m:
        return None
    col = column_index_from_string(m.group(1).upper())
    row = int(m.group(2))
    if col > MAX_COL or not 1 <= row <= MAX_ROW:
        return None
    return row, col


def _parse_area(text: str) -> tuple[int, int, int | None, int | None] | None:
    """``A1``, ``A1:B5``, ``B:B`` or ``3:5`` (``$`` allowed) -> (r1, c1, r2, c2) or None."""
    if ":" not in text:
        pos = _cell_pos(text)
        return None if pos is None else (pos[0], pos[1], pos[0], pos[1])
    left, _, right = text.partition(":")
    a, b = _cell_pos(left), _cell_pos(right)
    if a is not None and b is not None:
        return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])
    ma, mb = _COL_RE.fullmatch(left), _COL_RE.fullmatch(right)
    if ma and mb:
        c1 = column_index_from_string(ma.group(1).upper())
        c2 = column_index_from_string(mb.group(1).upper())
        if c1 <= MAX_COL and c2 <= MAX_COL:
            return 1, min(c1, c2), None, max(c1, c2)
    ma, mb = _ROW_RE.fullmatch(left), _ROW_RE.fullmatch(right)
    if ma and mb:
        r1, r2 = int(ma.group(1)), int(mb.group(1))
        return min(r1, r2), 1, max(r1, r2), None
    return None


def _operand_node(text: str) -> _Node:
    """A RANGE operand token: reference, defined name, or something we refuse clearly."""
    if text.startswith("["):
        raise _ParseError(f"external workbook reference {text} is not supported")
    sheet = None
    rest = text
    m = _SHEET_RE.fullmatch(text)
    if m:
        sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
        rest = m.group(3)
        if ":" in rest and "!" in rest:  # Sheet1!A1:Sheet1!B2
            left, _, right = rest.partition(":")
            m2 = _SHEET_RE.fullmatch(right)
            other = m2 and ((m2.group(1) or "").replace("''", "'") or m2.group(2))
            if not m2 or other.lower() != sheet.lower():
                raise _ParseError(f"3-D or cross-sheet range {text} is not supported")
            rest = f"{left}:{m2.group(3)}"
    if "[" in rest:
        raise _ParseError(
            f"structured reference {text} is not supported (banned by the workbook style "
            "guide; use an A1 range)"
        )
    if rest.upper() == "#REF!":
        return _Lit(_err("#REF!", f"invalid reference {text}"))
    area = _parse_area(rest)
    if area is not None:
        return _Ref(sheet, *area, text)
    if _NAME_RE.fullmatch(rest):
        return _Name(rest, sheet)
    raise _ParseError(f"cannot read reference {text!r}")


def _text_literal(token_value: str) -> str:
    return token_value[1:-1].replace('""', '"')


def _number_literal(text: str) -> float:
    return float(text)


class _Parser:
    def __init__(self, tokens: list[Token], formula: str) -> None:
        self.toks = tokens
        self.i = 0
        self.formula = formula

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise _ParseError("formula ends unexpectedly")
        self.i += 1
        return tok

    def parse(self) -> _Node:
        if not self.toks:
            raise _ParseError("empty formula")
        node = self.expr(0)
        tok = self.peek()
        if tok is not None:
            if tok.type == Token.OPERAND or (tok.type == Token.FUNC and tok.subtype == Token.OPEN):
                raise _ParseError(
                    f"unexpected {tok.value!r} (the intersection operator is not supported)"
                )
            raise _ParseError(f"unexpected {tok.value!r}")
        return node

    def expr(self, min_bp: int) -> _Node:
        left = self.prefix()
        while True:
            tok = self.peek()
            if tok is None:
                return left
            if tok.type == Token.OP_POST:  # % binds tighter than every infix operator
                self.i += 1
                left = _Unary("%", left)
                continue
            if tok.type == Token.OP_IN:
                op = tok.value
                bp = _BINARY_BP.get(op)
                if bp is None:
                    what = "the union operator (A1,B1)" if op == "," else f"operator {op!r}"
                    raise _ParseError(f"{what} is not supported")
                if bp < min_bp:
                    return left
                self.i += 1
                right = self.expr(bp + 1)  # all Excel binary operators are left-associative
                left = _Binary(op, left, right)
                continue
            return left

    def prefix(self) -> _Node:
        tok = self.take()
        if tok.type == Token.OP_PRE:
            # Excel's negation binds tighter than ^ and %: =-2^2 is 4
            return _Unary(tok.value, self.prefix())
        return self.primary(tok)

    def primary(self, tok: Token) -> _Node:
        t, s = tok.type, tok.subtype
        if t == Token.OPERAND:
            if s == Token.NUMBER:
                return _Lit(_number_literal(tok.value))
            if s == Token.TEXT:
                return _Lit(_text_literal(tok.value))
            if s == Token.LOGICAL:
                return _Lit(tok.value.upper() == "TRUE")
            if s == Token.ERROR:
                code = tok.value.upper()
                if code not in ERROR_CODES:
                    raise _ParseError(f"unknown error literal {tok.value}")
                return _Lit(_err(code, "error literal in formula"))
            return _operand_node(tok.value)
        if t == Token.FUNC and s == Token.OPEN:
            raw = tok.value[:-1]
            if ":" in raw or "!" in raw:
                raise _ParseError(f"range built from a function result ({tok.value}) is not "
                                  "supported")
            args: list[_Node] = []
            nxt = self.peek()
            if nxt is not None and nxt.type == Token.FUNC and nxt.subtype == Token.CLOSE:
                self.i += 1
                return _Call(_normalize_function_name(raw), raw, args)
            while True:
                nxt = self.peek()
                if nxt is not None and (
                    (nxt.type == Token.SEP and nxt.subtype == Token.ARG)
                    or (nxt.type == Token.FUNC and nxt.subtype == Token.CLOSE)
                ):
                    args.append(_Missing())
                else:
                    args.append(self.expr(0))
                sep = self.take()
                if sep.type == Token.SEP and sep.subtype == Token.ARG:
                    continue
                if sep.type == Token.FUNC and sep.subtype == Token.CLOSE:
                    break
                hint = " (the intersection operator is not supported)" if sep.type in (
                    Token.OPERAND, Token.FUNC) else ""
                raise _ParseError(f"unexpected {sep.value!r} in the arguments of {raw}{hint}")
            return _Call(_normalize_function_name(raw), raw, args)
        if t == Token.PAREN and s == Token.OPEN:
            node = self.expr(0)
            close = self.take()
            if close.type == Token.SEP and close.subtype == Token.ARG:
                raise _ParseError("the union operator (A1,B1) is not supported")
            if not (close.type == Token.PAREN and close.subtype == Token.CLOSE):
                raise _ParseError(f"expected ')' but found {close.value!r}")
            return node
        if t == Token.ARRAY and s == Token.OPEN:
            rows: list[list[_Node]] = [[]]
            while True:
                rows[-1].append(self.expr(0))
                sep = self.take()
                if sep.type == Token.SEP and sep.subtype == Token.ARG:
                    continue
                if sep.type == Token.SEP and sep.subtype == Token.ROW:
                    rows.append([])
                    continue
                if sep.type == Token.ARRAY and sep.subtype == Token.CLOSE:
                    break
                raise _ParseError(f"unexpected {sep.value!r} in an array constant")
            if len({len(r) for r in rows}) != 1:
                raise _ParseError("array constant rows have different lengths")
            return _ArrayLit(rows)
        raise _ParseError(f"unexpected {tok.value!r}")


def _tokens(formula: str) -> list[Token]:
    text = formula if formula.startswith("=") else "=" + formula
    try:
        items = Tokenizer(text).items
    except TokenizerError as exc:  # pragma: no cover - message depends on openpyxl
        raise _ParseError(str(exc)) from None
    except Exception as exc:  # the tokenizer raises bare errors on some malformed input
        raise _ParseError(f"cannot tokenize: {exc}") from None
    return [t for t in items if t.type != Token.WSPACE]


@dataclass(frozen=True)
class _Parsed:
    tree: _Node
    refs: tuple[_Ref, ...]
    names: tuple[_Name, ...]
    calls: tuple[_Call, ...]


@lru_cache(maxsize=100_000)
def _parse(formula: str) -> _Parsed:
    """Parse a formula (with or without the leading ``=``); cached per text."""
    tree = _Parser(_tokens(formula), formula).parse()
    refs: list[_Ref] = []
    names: list[_Name] = []
    calls: list[_Call] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, _Ref):
            refs.append(node)
        elif isinstance(node, _Name):
            names.append(node)
        elif isinstance(node, _Call):
            calls.append(node)
            stack.extend(node.args)
        elif isinstance(node, _Unary):
            stack.append(node.operand)
        elif isinstance(node, _Binary):
            stack.extend((node.left, node.right))
        elif isinstance(node, _ArrayLit):
            for row in node.rows:
                stack.extend(row)
    return _Parsed(tree, tuple(refs), tuple(names), tuple(calls))


def functions_in_formula(text: str) -> set[str]:
    """The function names a formula calls, upper-cased, ``_xlfn.``/``_xludf.`` stripped.

    Uses openpyxl's tokenizer, so names inside string literals are not counted.

    >>> sorted(functions_in_formula('=IF(SUM(A1:A3)>0, _xlfn.XLOOKUP(1, B1:B3, C1:C3), "MAX(")'))
    ['IF', 'SUM', 'XLOOKUP']
    """
    return {
        _normalize_function_name(t.value[:-1])
        for t in _tokens(text)
        if t.type == Token.FUNC and t.subtype == Token.OPEN
    }


# --------------------------------------------------------------------------------------------
# Scalar semantics
# --------------------------------------------------------------------------------------------
def _text_to_number(text: str) -> float | None:
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
        return float(_date_to_serial(d.year, d.month, d.day, 1900))
    if value is None:
        return None
    return value / 100.0 if pct else value


def _num(v: Any) -> Any:
    """Coerce for arithmetic: a float or an XlError."""
    t = type(v)
    if t is float:
        return v
    if t is int:
        return float(v)
    if v is None or v is _MISSING:
        return 0.0
    if t is bool:
        return 1.0 if v else 0.0
    if t is XlError:
        return v
    if isinstance(v, str):
        n = _text_to_number(v)
        if n is None:
            return _err("#VALUE!", f"text {v!r} used as a number")
        return n
    if isinstance(v, (int, float)):
        return float(v)
    return _err("#VALUE!", f"cannot use {type(v).__name__} as a number")


def _num_to_text(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    s = f"{x:.15g}"
    if "e" in s:
        mant, _, exp = s.partition("e")
        s = f"{mant}E{exp[0]}{exp[1:].rjust(2, '0')}"
    return s


def _text(v: Any) -> Any:
    t = type(v)
    if t is str:
        return v
    if v is None or v is _MISSING:
        return ""
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is XlError:
        return v
    if t is int or t is float:
        return _num_to_text(float(v))
    return str(v)


def _truth(v: Any) -> Any:
    """Coerce a condition: bool or XlError."""
    t = type(v)
    if t is bool:
        return v
    if t is float or t is int:
        return v != 0
    if v is None or v is _MISSING:
        return False
    if t is XlError:
        return v
    if isinstance(v, str):
        u = v.strip().upper()
        if u == "TRUE":
            return True
        if u == "FALSE":
            return False
        return _err("#VALUE!", f"text {v!r} used as a condition")
    return _err("#VALUE!", "bad condition")


_REL_TOL = 2.0 ** -48  # LibreOffice's approxEqual; Excel compares to ~15 significant digits


def _approx_eq(a: float, b: float) -> bool:
    if a == b:
        return True
    return abs(a - b) <= _REL_TOL * max(abs(a), abs(b))


def _rank(v: Any) -> int:
    t = type(v)
    if t is bool:
        return 2
    if t is float or t is int:
        return 0
    return 1  # text


def _compare(op: str, a: Any, b: Any) -> Any:
    if type(a) is XlError:
        return a
    if type(b) is XlError:
        return b
    if a is _MISSING:
        a = None
    if b is _MISSING:
        b = None
    if a is None and b is None:
        c = 0
    else:
        if a is None:
            a = False if type(b) is bool else ("" if isinstance(b, str) else 0.0)
        if b is None:
            b = False if type(a) is bool else ("" if isinstance(a, str) else 0.0)
        ra, rb = _rank(a), _rank(b)
        if ra != rb:
            c = -1 if ra < rb else 1
        elif ra == 0:
            fa, fb = float(a), float(b)
            c = 0 if _approx_eq(fa, fb) else (-1 if fa < fb else 1)
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


def _finite(x: float, what: str) -> Any:
    if math.isfinite(x):
        return x
    return _err("#NUM!", f"{what} is not a finite number")


def _binary_scalar(op: str, a: Any, b: Any) -> Any:
    if op in ("+", "-", "*", "/", "^"):
        x = _num(a)
        if type(x) is XlError:
            return x
        y = _num(b)
        if type(y) is XlError:
            return y
        if op == "+":
            return _finite(x + y, "sum")
        if op == "-":
            return _finite(x - y, "difference")
        if op == "*":
            return _finite(x * y, "product")
        if op == "/":
            if y == 0:
                return _err("#DIV/0!", "division by zero")
            return _finite(x / y, "quotient")
        if x == 0 and y == 0:
            return _err("#NUM!", "0^0")
        if x == 0 and y < 0:
            return _err("#DIV/0!", "0 raised to a negative power")
        if x < 0 and y != int(y):
            return _err("#NUM!", "fractional power of a negative number")
        try:
            return _finite(math.pow(x, y), "power")
        except OverflowError:
            return _err("#NUM!", "power overflows")
    if op == "&":
        sa = _text(a)
        if type(sa) is XlError:
            return sa
        sb = _text(b)
        if type(sb) is XlError:
            return sb
        return sa + sb
    return _compare(op, a, b)


def _unary_scalar(op: str, a: Any) -> Any:
    if op == "+":
        return a
    x = _num(a)
    if type(x) is XlError:
        return x
    if op == "-":
        return -x
    return x / 100.0  # %


# --------------------------------------------------------------------------------------------
# Arrays (list of row lists)
# --------------------------------------------------------------------------------------------
def _unwrap(v: Any) -> Any:
    if type(v) is list and len(v) == 1 and len(v[0]) == 1:
        return v[0][0]
    return v


def _as_2d(v: Any) -> list[list[Any]]:
    return v if type(v) is list else [[v]]


def _na_outside() -> XlError:
    return _err("#N/A", "array sizes do not match")


def _broadcast(fn: Callable[..., Any], args: list[Any]) -> Any:
    """Apply a scalar function elementwise, expanding 1-wide dimensions as Excel does."""
    args = [_unwrap(a) for a in args]
    dims = [(len(a), len(a[0])) if type(a) is list else None for a in args]
    if all(d is None for d in dims):
        return fn(*args)
    height = max(d[0] for d in dims if d)
    width = max(d[1] for d in dims if d)
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
            row.append(_na_outside() if vals is None else fn(*vals))
        out.append(row)
    return out


def _lift(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make a scalar function accept arrays in any argument (elementwise)."""

    def lifted(*args: Any) -> Any:
        for a in args:
            if type(a) is list:
                return _broadcast(fn, list(args))
        return fn(*args)

    lifted.__name__ = fn.__name__
    return lifted


def _iter_values(args: list[Any]):
    """Yield (value, from_array) over aggregate-function arguments."""
    for a in args:
        if type(a) is list:
            for row in a:
                for v in row:
                    yield v, True
        else:
            yield a, False


def _round_key(x: float) -> float:
    return float(f"{x:.15g}")


# --------------------------------------------------------------------------------------------
# Dates (Excel serial numbers)
# --------------------------------------------------------------------------------------------
_BASE_1900 = _dt.date(1899, 12, 30)
_BASE_1904 = _dt.date(1904, 1, 1)


def _date_to_serial(year: int, month: int, day: int, system: int) -> int:
    """DATE(year, month, day) with Excel's month/day overflow; 1900 system keeps the leap bug."""
    total = year * 12 + (month - 1)
    y, m0 = divmod(total, 12)
    first = _dt.date(y, m0 + 1, 1)
    if system == 1904:
        return (first - _BASE_1904).days + day - 1
    serial = (first - _BASE_1900).days + day - 1
    if serial < 61:  # before 1900-03-01 Excel counts a fictitious 29 Feb 1900
        serial -= 1
    return serial


def _serial_to_ymd(serial: float, system: int) -> tuple[int, int, int]:
    days = math.floor(serial)
    if system == 1904:
        d = _BASE_1904 + _dt.timedelta(days=days)
        return d.year, d.month, d.day
    if days == 0:
        return 1900, 1, 0
    if days == 60:
        return 1900, 2, 29
    if days < 60:
        days += 1
    d = _BASE_1900 + _dt.timedelta(days=days)
    return d.year, d.month, d.day


# --------------------------------------------------------------------------------------------
# Criteria (SUMIFS / COUNTIFS) and exact lookups
# --------------------------------------------------------------------------------------------
_CRIT_OPS = (">=", "<=", "<>", "=", ">", "<")


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
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


def _has_wildcards(text: str) -> bool:
    return any(ch in text for ch in "*?~")


def _index_keys(v: Any) -> list[tuple]:
    """Keys under which a cell value is found by an '=' criterion (COUNTIF coercion)."""
    t = type(v)
    if v is None:
        return [("blank",)]
    if t is bool:
        return [("b", v)]
    if t is float or t is int:
        return [("n", _round_key(float(v)))]
    if t is XlError:
        return [("e", str(v))]
    if isinstance(v, str):
        keys = [("s", v.casefold())]
        n = _text_to_number(v)
        if n is not None:
            keys.append(("n", _round_key(n)))
        return keys
    return []


class _Criterion:
    """One parsed SUMIFS/COUNTIFS criterion: index keys for '=' or a predicate."""

    __slots__ = ("keys", "negate", "pred", "num_cmp")

    def __init__(self, crit: Any) -> None:
        self.keys: list[tuple] | None = None
        self.negate = False
        self.pred: Callable[[Any], bool] | None = None
        self.num_cmp: tuple[str, float] | None = None  # (op, number) for >, >=, <, <=
        if crit is None or crit is _MISSING:
            crit = 0.0  # an empty criterion cell counts as 0 (Excel)
        t = type(crit)
        if t is bool:
            self.keys = [("b", crit)]
            return
        if t is float or t is int:
            self.keys = [("n", _round_key(float(crit)))]
            return
        if t is XlError:
            self.keys = [("e", str(crit))]
            return
        s = str(crit)
        op = "="
        explicit = False
        for cand in _CRIT_OPS:
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
                _compare(_op, v, "")
            return
        value: Any
        n = _text_to_number(s)
        if n is not None:
            value = n
        elif s.upper() in ("TRUE", "FALSE"):
            value = s.upper() == "TRUE"
        elif s.upper() in ERROR_CODES:
            value = XlError(s.upper())
        else:
            value = s
        if op in ("=", "<>"):
            if type(value) is str and _has_wildcards(value):
                rx = _wildcard_regex(value)
                self.pred = lambda v, _rx=rx: (
                    isinstance(v, str) and type(v) is not XlError and _rx.fullmatch(v) is not None
                )
            else:
                self.keys = _criterion_keys(value)
            self.negate = op == "<>"
            return
        if type(value) is float:
            self.num_cmp = (op, value)
            return
        rank = _rank(value) if type(value) is not XlError else -1

        def pred(v: Any, _op: str = op, _value: Any = value, _rank_v: int = rank) -> bool:
            if v is None or type(v) is XlError or _rank_v < 0:
                return False
            if _rank(v) != _rank_v:
                return False
            return _compare(_op, v, _value) is True

        self.pred = pred


def _criterion_keys(value: Any) -> list[tuple]:
    t = type(value)
    if t is bool:
        return [("b", value)]
    if t is float or t is int:
        return [("n", _round_key(float(value)))]
    if t is XlError:
        return [("e", str(value))]
    return [("s", str(value).casefold())]


def _match_key(v: Any) -> tuple | None:
    """Key for MATCH(..., 0): type-strict, text case-insensitive."""
    t = type(v)
    if t is bool:
        return ("b", v)
    if t is float or t is int:
        return ("n", _round_key(float(v)))
    if t is str:
        return ("s", v.casefold())
    return None


# --------------------------------------------------------------------------------------------
# Native functions
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Fn:
    impl: Callable[..., Any] | None  # None: computed by the interpreter (lazy or contextual)
    min_args: int
    max_args: int | None
    ref_args: Callable[[int], bool]  # which arguments are taken as ranges (not single values)
    arrays_out: Callable[[list[bool]], bool]  # may the result be an array, given args' status


def _all(_i: int) -> bool:
    return True


def _none(_i: int) -> bool:
    return False


def _scalar_out(_flags: list[bool]) -> bool:
    return False


def _any_out(flags: list[bool]) -> bool:
    return any(flags)


def _collect_numbers(args: list[Any]) -> Any:
    """Numbers for SUM/AVERAGE/MIN/MAX: numbers in ranges, coerced direct arguments."""
    nums: list[float] = []
    for v, in_array in _iter_values(args):
        t = type(v)
        if t is XlError:
            return v
        if t is float or t is int:
            nums.append(float(v))
        elif in_array:
            continue
        elif v is None or v is _MISSING:
            continue
        else:
            x = _num(v)
            if type(x) is XlError:
                return x
            nums.append(x)
    return nums


def _fn_sum(*args: Any) -> Any:
    nums = _collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    total = 0.0
    for x in nums:
        total += x
    return total


def _fn_average(*args: Any) -> Any:
    nums = _collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    if not nums:
        return _err("#DIV/0!", "AVERAGE of no numbers")
    total = 0.0
    for x in nums:
        total += x
    return total / len(nums)


def _fn_min(*args: Any) -> Any:
    nums = _collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    return min(nums) if nums else 0.0


def _fn_max(*args: Any) -> Any:
    nums = _collect_numbers(list(args))
    if type(nums) is XlError:
        return nums
    return max(nums) if nums else 0.0


def _fn_count(*args: Any) -> Any:
    n = 0
    for v, in_array in _iter_values(list(args)):
        t = type(v)
        if t is float or t is int:
            n += 1
        elif not in_array and (t is bool or (t is str and _text_to_number(v) is not None)):
            n += 1
    return n


def _fn_counta(*args: Any) -> Any:
    return sum(1 for v, _ in _iter_values(list(args)) if v is not None and v is not _MISSING)


def _fn_and_or(is_and: bool, args: list[Any]) -> Any:
    seen = False
    result = is_and
    for v, in_array in _iter_values(args):
        t = type(v)
        if t is XlError:
            return v
        if t is bool or t is float or t is int:
            b = bool(v)
        elif in_array or v is None or v is _MISSING:
            continue
        else:
            b = _truth(v)
            if type(b) is XlError:
                return b
        seen = True
        result = (result and b) if is_and else (result or b)
    if not seen:
        return _err("#VALUE!", f"{'AND' if is_and else 'OR'} has no logical values")
    return result


def _fn_and(*args: Any) -> Any:
    return _fn_and_or(True, list(args))


def _fn_or(*args: Any) -> Any:
    return _fn_and_or(False, list(args))


def _fn_sumproduct(*args: Any) -> Any:
    arrays = [_as_2d(a) for a in args]
    h, w = len(arrays[0]), len(arrays[0][0])
    for a in arrays:
        if len(a) != h or len(a[0]) != w:
            return _err("#VALUE!", "SUMPRODUCT arrays have different sizes")
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


@_lift
def _fn_abs(x: Any) -> Any:
    n = _num(x)
    return n if type(n) is XlError else abs(n)


def _excel_round(x: float, digits: int) -> float:
    if not math.isfinite(x):
        return x
    try:
        d = Decimal(f"{x:.15g}")  # Excel rounds the 15-digit decimal it shows
        q = Decimal(1).scaleb(-digits)
        return float(d.quantize(q, rounding=ROUND_HALF_UP)) if digits >= 0 else \
            float((d / q).quantize(Decimal(1), rounding=ROUND_HALF_UP) * q)
    except InvalidOperation:
        return x


@_lift
def _fn_round(x: Any, digits: Any = 0.0) -> Any:
    n = _num(x)
    if type(n) is XlError:
        return n
    d = _num(digits)
    if type(d) is XlError:
        return d
    return _excel_round(n, int(d))


@_lift
def _fn_not(x: Any) -> Any:
    b = _truth(x)
    return b if type(b) is XlError else not b


@_lift
def _fn_iserror(x: Any) -> Any:
    return type(x) is XlError


@_lift
def _fn_isnumber(x: Any) -> Any:
    t = type(x)
    return t is float or t is int


@_lift
def _fn_isblank(x: Any) -> Any:
    return x is None


def _fn_na() -> Any:
    return _err("#N/A", "NA()")


def _int_arg(v: Any) -> Any:
    n = _num(v)
    if type(n) is XlError:
        return n
    return int(math.floor(n)) if n >= 0 else -int(math.floor(-n))


def _fn_index(array: Any, row: Any = _MISSING, col: Any = _MISSING) -> Any:
    if type(array) is XlError:
        return array
    arr = _as_2d(array)
    h, w = len(arr), len(arr[0])
    r = 0 if row is _MISSING else _int_arg(row)
    if type(r) is XlError:
        return r
    c_given = col is not _MISSING
    c = _int_arg(col) if c_given else 0
    if type(c) is XlError:
        return c
    if r < 0 or c < 0:
        return _err("#VALUE!", "INDEX with a negative position")
    if not c_given:
        if h == 1:  # a single row: the one number is a column position
            r, c = 1, r
        elif w == 1:
            c = 1
    if r > h or c > w:
        return _err("#REF!", f"INDEX position ({r}, {c}) outside a {h}x{w} range")
    if r and c:
        return arr[r - 1][c - 1]
    if r:
        return [list(arr[r - 1])]
    if c:
        return [[row_[c - 1]] for row_ in arr]
    return arr


def _fn_date(y: Any, m: Any, d: Any, *, system: int) -> Any:
    parts = []
    for v in (y, m, d):
        n = _int_arg(v)
        if type(n) is XlError:
            return n
        parts.append(n)
    year, month, day = parts
    if 0 <= year < 1900 and system == 1900:
        year += 1900
    if not 0 <= year <= 9999:
        return _err("#NUM!", f"DATE year {year} outside 1900-9999")
    try:
        serial = _date_to_serial(year, month, day, system)
    except (ValueError, OverflowError):
        return _err("#NUM!", "DATE outside the calendar")
    if serial < 0 or serial > 2_958_465:
        return _err("#NUM!", "DATE outside the calendar")
    return serial


def _date_arg(v: Any) -> Any:
    n = _num(v)
    if type(n) is XlError:
        return n
    if n < 0 or n > 2_958_465:
        return _err("#NUM!", f"{n} is not a valid date serial")
    return n


def _fn_year(v: Any, *, system: int) -> Any:
    n = _date_arg(v)
    if type(n) is XlError:
        return n
    return _serial_to_ymd(n, system)[0]


def _fn_eomonth(start: Any, months: Any, *, system: int) -> Any:
    n = _date_arg(start)
    if type(n) is XlError:
        return n
    k = _int_arg(months)
    if type(k) is XlError:
        return k
    y, m, _ = _serial_to_ymd(n, system)
    total = y * 12 + (m - 1) + k + 1
    ny, nm0 = divmod(total, 12)
    if not 1900 <= ny <= 9999:
        return _err("#NUM!", "EOMONTH outside the calendar")
    serial = _date_to_serial(ny, nm0 + 1, 1, system) - 1
    if serial < 0:
        return _err("#NUM!", "EOMONTH outside the calendar")
    return serial


_NATIVE: dict[str, _Fn] = {
    "SUM": _Fn(_fn_sum, 1, None, _all, _scalar_out),
    "AVERAGE": _Fn(_fn_average, 1, None, _all, _scalar_out),
    "MIN": _Fn(_fn_min, 1, None, _all, _scalar_out),
    "MAX": _Fn(_fn_max, 1, None, _all, _scalar_out),
    "COUNT": _Fn(_fn_count, 1, None, _all, _scalar_out),
    "COUNTA": _Fn(_fn_counta, 1, None, _all, _scalar_out),
    "AND": _Fn(_fn_and, 1, None, _all, _scalar_out),
    "OR": _Fn(_fn_or, 1, None, _all, _scalar_out),
    "SUMPRODUCT": _Fn(_fn_sumproduct, 1, None, _all, _scalar_out),
    "ABS": _Fn(_fn_abs, 1, 1, _none, _any_out),
    "ROUND": _Fn(_fn_round, 2, 2, _none, _any_out),
    "NOT": _Fn(_fn_not, 1, 1, _none, _any_out),
    "ISERROR": _Fn(_fn_iserror, 1, 1, _none, _any_out),
    "ISNUMBER": _Fn(_fn_isnumber, 1, 1, _none, _any_out),
    "ISBLANK": _Fn(_fn_isblank, 1, 1, _none, _any_out),
    "NA": _Fn(_fn_na, 0, 0, _none, _scalar_out),
    "INDEX": _Fn(_fn_index, 2, 3, lambda i: i == 0, _any_out),  # refined in _may_spill
    # evaluated by the interpreter itself (lazy arguments or workbook context):
    "IF": _Fn(None, 2, 3, _none, lambda f: any(f)),
    "IFERROR": _Fn(None, 2, 2, _none, lambda f: any(f)),
    "MATCH": _Fn(None, 2, 3, lambda i: i == 1, lambda f: bool(f) and f[0]),
    "SUMIFS": _Fn(None, 3, None, lambda i: i == 0 or i % 2 == 1,
                  lambda f: any(f[2::2])),
    "COUNTIFS": _Fn(None, 2, None, lambda i: i % 2 == 0,
                    lambda f: any(f[1::2])),
    "DATE": _Fn(None, 3, 3, _none, _any_out),
    "YEAR": _Fn(None, 1, 1, _none, _any_out),
    "EOMONTH": _Fn(None, 2, 2, _none, _any_out),
}

#: Functions the evaluator computes natively (the portable list of the style guide, plus
#: COUNT, COUNTA, ISBLANK and NA).
SUPPORTED_FUNCTIONS: frozenset[str] = frozenset(_NATIVE)


# --------------------------------------------------------------------------------------------
# Custom function (UDF) argument and result conversion
# --------------------------------------------------------------------------------------------
def _typed(v: Any) -> tuple:
    # TRUE == 1 in Python, but not to a custom function: the type is part of the key.
    return (type(v).__name__, v)


def _call_key(name: str, args: list[Any]) -> tuple | None:
    """A hashable key for a custom-function call, or None when an argument is not hashable."""
    try:
        parts = tuple(
            tuple(tuple(_typed(c) for c in row) for row in a) if type(a) is list else _typed(a)
            for a in args
        )
        key = (name, parts)
        hash(key)
    except TypeError:
        return None
    return key


def _udf_arg(v: Any) -> Any:
    if v is _MISSING:
        return None
    if type(v) is list:
        v = _unwrap(v)
        if type(v) is list:
            return [list(row) for row in v]
    return v


def _udf_scalar(v: Any, epoch: Any) -> Any:
    if v is None:
        return ""  # xlwings returns "" for None
    t = type(v)
    if t is float:
        return v if math.isfinite(v) else _err("#NUM!", "function returned NaN or infinity")
    if t is int or t is bool or t is XlError:
        return v
    if isinstance(v, str):
        return XlError(v) if v in ERROR_CODES else str(v)
    if getattr(v, "ndim", None) == 0 and hasattr(v, "item"):  # numpy scalar
        return _udf_scalar(v.item(), epoch)
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return _udf_scalar(float(v), epoch)
    if isinstance(v, (_dt.datetime, _dt.date)):
        if not isinstance(v, _dt.datetime):
            v = _dt.datetime.combine(v, _dt.time())
        return to_excel(v, epoch)
    if isinstance(v, Decimal):
        return _udf_scalar(float(v), epoch)
    return _err("#VALUE!", f"function returned an unsupported {type(v).__name__}")


def _as_list(x: Any) -> list[Any] | None:
    """A list for sequences and numpy arrays (1-D or more), else None."""
    if isinstance(x, (list, tuple)):
        return list(x)
    if getattr(x, "ndim", 0) and hasattr(x, "tolist"):
        return x.tolist()
    return None


def _udf_result(v: Any, epoch: Any) -> Any:
    """A custom function's result as a scalar or a rectangular list of rows."""
    seq = _as_list(v)
    if seq is None:
        return _udf_scalar(v, epoch)
    rows = [_as_list(r) for r in seq]
    if seq and all(r is None for r in rows):
        rows = [seq]  # a 1-D result is one row, as xlwings writes it
    else:
        rows = [r if r is not None else [x] for r, x in zip(rows, seq, strict=True)]
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        return _err("#CALC!", "function returned an empty array")
    out = [[_udf_scalar(x, epoch) for x in r] + [_err("#N/A", "ragged array")] * (width - len(r))
           for r in rows]
    return _unwrap(out)


# --------------------------------------------------------------------------------------------
# The evaluator
# --------------------------------------------------------------------------------------------
class _Located(AicapexError):
    """An error whose message already names the cell (or defined name) at fault."""


class _Circular(_Located):
    pass


_Key = tuple[str, int, int]


class _Workbook:
    """Evaluation state for one workbook."""

    def __init__(self, wb: Any, functions: Mapping[str, Callable[..., Any]] | None,
                 progress: Callable[[int, int], None] | None) -> None:
        self.wb = wb
        self.system = 1904 if getattr(wb, "epoch", None) and wb.epoch.year == 1904 else 1900
        self.progress = progress
        self.sheets: dict[str, Any] = {}
        self.titles: dict[str, str] = {}
        for ws in wb.worksheets:
            self.sheets[ws.title] = ws
            self.titles[ws.title.lower()] = ws.title
        self.sheet_order = {title: i for i, title in enumerate(self.sheets)}
        self.udfs: dict[str, Callable[..., Any]] = {}
        self.udf_cache: dict[tuple, Any] = {}
        for name, fn in (functions or {}).items():
            norm = _normalize_function_name(name)
            if norm not in _NATIVE:
                self.udfs[norm] = fn
        # workbook-scope and sheet-scope defined names
        self.names: dict[str, str] = {}
        for name, dn in _iter_defined_names(wb.defined_names):
            self.names[name.lower()] = dn
        self.local_names: dict[tuple[str, str], str] = {}
        for ws in wb.worksheets:
            for name, dn in _iter_defined_names(getattr(ws, "defined_names", None) or {}):
                self.local_names[(ws.title, name.lower())] = dn

        self.formulas: dict[_Key, str] = {}  # formula text
        self.array_ref: dict[_Key, tuple[int, int, int, int]] = {}  # ArrayFormula anchors
        self.array_member: dict[_Key, _Key] = {}
        self.by_col: dict[str, dict[int, list[int]]] = {}
        self._collect_formulas()

        self.values: dict[_Key, Any] = {}  # evaluated formula cells (display value)
        self.spill_values: dict[_Key, Any] = {}
        self.spill_owner: dict[_Key, _Key] = {}
        self.spill_area: dict[_Key, tuple[int, int, int, int]] = {}
        self.on_stack: list[_Key] = []
        self.on_stack_set: set[_Key] = set()
        self.range_cache: dict[tuple, list[list[Any]]] = {}
        self.flat_cache: dict[int, tuple[Any, list[Any]]] = {}
        self.crit_index: dict[int, tuple[Any, dict[tuple, list[int]]]] = {}
        self.match_index: dict[int, tuple[Any, dict[tuple, int]]] = {}
        self.sorted_index: dict[int, tuple[Any, tuple[list[float], list[int]]]] = {}
        self.parsed_names: dict[str, _Parsed | XlError] = {}
        self.name_stack: list[str] = []
        self.may_spill_memo: dict[tuple[int, str], bool] = {}
        self.pending_spill: dict[str, list[tuple[int, int]]] = {}  # per sheet, sorted (r, c)
        self.blind_reads: dict[_Key, list[tuple[str, int, int, int, int]]] = {}
        self.prepared: dict[_Key, _Parsed] = {}
        self._init_pending_spills()

    # -- discovery -------------------------------------------------------------------------
    def _collect_formulas(self) -> None:
        for title, ws in self.sheets.items():
            cols: dict[int, list[int]] = {}
            attrs = getattr(ws, "formula_attributes", None) or {}
            for (r, c), cell in ws._cells.items():
                if cell.data_type != "f":
                    continue
                value = cell.value
                key = (title, r, c)
                text = getattr(value, "text", None)
                if text is not None and hasattr(value, "ref"):  # ArrayFormula
                    self._add_array(key, str(value.ref), str(text))
                elif isinstance(value, str):
                    attr = attrs.get(cell.coordinate) if isinstance(attrs, Mapping) else None
                    if attr and attr.get("t") == "array" and attr.get("ref"):
                        self._add_array(key, attr["ref"], value)
                    else:
                        self.formulas[key] = value
                else:
                    raise AicapexError(
                        f"{_where(key)}: unsupported formula object {type(value).__name__} "
                        "(data tables and other special formulas cannot be evaluated)"
                    )
                cols.setdefault(c, []).append(r)
            for rows in cols.values():
                rows.sort()
            self.by_col[title] = cols

    def _add_array(self, key: _Key, ref: str, text: str) -> None:
        area = _parse_area(ref.replace("$", "").split("!")[-1])
        if area is None or area[2] is None or area[3] is None:
            raise AicapexError(f"{_where(key)}: array formula with unreadable range {ref!r}")
        r1, c1, r2, c2 = area
        self.formulas[key] = text
        self.array_ref[key] = (r1, c1, r2, c2)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != key[1:]:
                    self.array_member[(key[0], r, c)] = key

    def _init_pending_spills(self) -> None:
        for key in self.formulas:
            if key in self.array_ref:
                continue
            try:
                parsed = self._prepare(key)
            except AicapexError:
                continue  # reported when the cell is evaluated
            if self._may_spill(parsed.tree, key[0]):
                self.pending_spill.setdefault(key[0], []).append((key[1], key[2]))
        for lst in self.pending_spill.values():
            lst.sort()

    # -- parsing and static analysis ---------------------------------------------------------
    def _prepare(self, key: _Key) -> _Parsed:
        parsed = self.prepared.get(key)
        if parsed is not None:
            return parsed
        text = self.formulas[key]
        try:
            parsed = _parse(text)
        except _ParseError as exc:
            raise _Located(f"{_where(key)}: cannot parse formula {text!r}: {exc}") from None
        self._check_calls(parsed, f"{_where(key)} ({text})")
        self.prepared[key] = parsed
        return parsed

    def _check_calls(self, parsed: _Parsed, where: str) -> None:
        for call in parsed.calls:
            fn = _NATIVE.get(call.name)
            if fn is None:
                if call.name in self.udfs:
                    continue
                raise _Located(
                    f"{where}: unsupported function {call.raw}: the evaluator computes only "
                    f"{', '.join(sorted(SUPPORTED_FUNCTIONS))} and registered custom functions"
                )
            n = len(call.args)
            if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
                raise _Located(f"{where}: {call.name} takes "
                                   f"{_arity_text(fn)} arguments, not {n}")

    def _may_spill(self, node: _Node, title: str) -> bool:
        """Static, conservative: may this expression return an array larger than 1x1?"""
        memo = self.may_spill_memo.get((id(node), title))
        if memo is not None:
            return memo
        if isinstance(node, _Ref):
            out = not node.single
        elif isinstance(node, _Name):
            parsed = self._name_parsed(node, title)
            out = isinstance(parsed, _Parsed) and self._may_spill(parsed.tree, title)
        elif isinstance(node, _ArrayLit):
            out = len(node.rows) > 1 or len(node.rows[0]) > 1
        elif isinstance(node, _Unary):
            out = self._may_spill(node.operand, title)
        elif isinstance(node, _Binary):
            out = self._may_spill(node.left, title) or self._may_spill(node.right, title)
        elif isinstance(node, _Call):
            fn = _NATIVE.get(node.name)
            if fn is None:
                out = True
            elif node.name == "INDEX":
                out = self._index_may_spill(node, title)
            else:
                out = bool(fn.arrays_out([self._may_spill(a, title) for a in node.args]))
        else:
            out = False
        self.may_spill_memo[(id(node), title)] = out
        return out

    def _index_may_spill(self, node: _Call, title: str) -> bool:
        """INDEX returns a whole row/column for a 0 position: flag it unless that cannot be."""
        array, positions = node.args[0], node.args[1:]
        if not self._may_spill(array, title):
            return False
        if any(self._may_spill(p, title) for p in positions):
            return True

        def never_zero(p: _Node) -> bool:  # a positive literal, or MATCH (1-based or #N/A)
            if type(p) is _Lit:
                return type(p.value) is float and p.value >= 1
            return type(p) is _Call and p.name == "MATCH"

        one_d = type(array) is _Ref and array.r2 is not None and array.c2 is not None and (
            array.r1 == array.r2 or array.c1 == array.c2)
        if len(positions) == 1:
            return not (one_d and never_zero(positions[0]))
        return not all(never_zero(p) for p in positions)

    def _name_parsed(self, node: _Name, title: str) -> _Parsed | XlError:
        lname = node.name.lower()
        scope = self.titles.get(node.sheet.lower()) if node.sheet else title
        text = self.local_names.get((scope, lname)) if scope else None
        cache_key = f"{scope}\x00{lname}" if text is not None else lname
        if text is None:
            text = self.names.get(lname)
        if text is None:
            return _err("#NAME?", f"unknown name {node.name!r}")
        parsed = self.parsed_names.get(cache_key)
        if parsed is None:
            try:
                parsed = _parse(text)
                self._check_calls(parsed, f"defined name {node.name} ({text})")
            except _ParseError as exc:
                raise _Located(
                    f"defined name {node.name}: cannot parse {text!r}: {exc}"
                ) from None
            self.parsed_names[cache_key] = parsed
        return parsed

    def _sheet_title(self, sheet: str | None, context: str) -> str | None:
        if sheet is None:
            return context
        return self.titles.get(sheet.lower())

    def _deps(self, key: _Key) -> list[_Key]:
        out: list[_Key] = []
        self._deps_of(self._prepare(key), key[0], out, set())
        return out

    def _deps_of(self, parsed: _Parsed, title: str, out: list[_Key], names_seen: set) -> None:
        for ref in parsed.refs:
            t = self._sheet_title(ref.sheet, title)
            if t is not None:
                self._formula_cells_in(t, ref, out)
        for name in parsed.names:
            np_ = self._name_parsed(name, title)
            if isinstance(np_, _Parsed):
                marker = (name.name.lower(), name.sheet, title)
                if marker in names_seen:
                    continue
                names_seen.add(marker)
                self._deps_of(np_, title, out, names_seen)

    def _formula_cells_in(self, title: str, ref: _Ref, out: list[_Key]) -> None:
        ws = self.sheets[title]
        r1, c1 = ref.r1, ref.c1
        r2 = ref.r2 if ref.r2 is not None else max(ws.max_row, r1)
        c2 = ref.c2 if ref.c2 is not None else max(ws.max_column, c1)
        if ref.single:
            key = (title, r1, c1)
            if key in self.formulas:
                out.append(key)
            elif key in self.array_member:
                out.append(self.array_member[key])
            return
        cols = self.by_col.get(title, {})
        if c2 - c1 + 1 <= len(cols):
            col_iter = (c for c in range(c1, c2 + 1) if c in cols)
        else:
            col_iter = (c for c in cols if c1 <= c <= c2)
        for c in col_iter:
            rows = cols[c]
            lo = bisect_left(rows, r1)
            hi = bisect_right(rows, r2)
            out.extend((title, r, c) for r in rows[lo:hi])
        for anchor, (ar1, ac1, ar2, ac2) in self.array_ref.items():
            if anchor[0] == title and ar1 <= r2 and r1 <= ar2 and ac1 <= c2 and c1 <= ac2:
                out.append(anchor)

    # -- ordering --------------------------------------------------------------------------
    def ensure(self, key: _Key) -> None:
        """Evaluate ``key`` after its (not yet evaluated) precedents, without recursion."""
        if key in self.values:
            return
        if key in self.on_stack_set:
            self._raise_cycle(self.on_stack[self.on_stack.index(key):] + [key])
        visiting = {key}
        path: list[_Key] = [key]
        stack = [iter(self._deps(key))]
        order: list[_Key] = []
        done: set[_Key] = set()
        while stack:
            for dep in stack[-1]:
                if dep in self.values or dep in done:
                    continue
                if dep in visiting:
                    self._raise_cycle(path[path.index(dep):] + [dep])
                if dep in self.on_stack_set:
                    self._raise_cycle(self.on_stack[self.on_stack.index(dep):] + path + [dep])
                visiting.add(dep)
                path.append(dep)
                stack.append(iter(self._deps(dep)))
                break
            else:
                stack.pop()
                node = path.pop()
                visiting.discard(node)
                done.add(node)
                order.append(node)
        for k in order:
            if k not in self.values:
                self._evaluate_cell(k)

    def _raise_cycle(self, cycle: list[_Key]) -> None:
        raise _Circular("circular reference: " + " -> ".join(_where(k) for k in cycle))

    # -- cell evaluation -------------------------------------------------------------------
    def _evaluate_cell(self, key: _Key) -> None:
        parsed = self._prepare(key)
        title = key[0]
        self.on_stack.append(key)
        self.on_stack_set.add(key)
        try:
            result = self.eval(parsed.tree, title)
        except _Located:
            raise
        except AicapexError as exc:
            raise _Located(f"{_where(key)}: {exc}") from None
        finally:
            self.on_stack.pop()
            self.on_stack_set.discard(key)
        if type(result) is list:
            result = _unwrap(result)
        if key in self.array_ref:
            value = self._fill_array_formula(key, result)
        elif type(result) is list:
            value = self._spill(key, result)
        else:
            value = self._final_scalar(result, key)
        self.values[key] = value
        pend = self.pending_spill.get(title)
        if pend:
            pos = (key[1], key[2])
            i = bisect_left(pend, pos)
            if i < len(pend) and pend[i] == pos:
                del pend[i]

    def _final_scalar(self, v: Any, key: _Key) -> Any:
        if v is None or v is _MISSING:
            return 0.0
        if type(v) is XlError and v.origin is None:
            return XlError(str(v), v.reason, _where(key))
        return v

    def _spill(self, key: _Key, arr: list[list[Any]]) -> Any:
        title, r0, c0 = key
        h, w = len(arr), len(arr[0])
        r2, c2 = r0 + h - 1, c0 + w - 1
        area = f"{get_column_letter(c0)}{r0}:{get_column_letter(min(c2, MAX_COL))}{min(r2, MAX_ROW)}"
        if r2 > MAX_ROW or c2 > MAX_COL:
            return XlError("#SPILL!", f"spill range {area} runs off the sheet", _where(key))
        ws = self.sheets[title]
        cells = ws._cells
        for r in range(r0, r2 + 1):
            for c in range(c0, c2 + 1):
                if r == r0 and c == c0:
                    continue
                k = (title, r, c)
                cell = cells.get((r, c))
                if (cell is not None and cell._value is not None) or k in self.array_member \
                        or k in self.spill_owner:
                    return XlError("#SPILL!", f"spill range {area} is blocked by {_where(k)}",
                                   _where(key))
        for (t, br1, bc1, br2, bc2) in self.blind_reads.pop(key, ()):
            if t == title and br1 <= r2 and r0 <= br2 and bc1 <= c2 and c0 <= bc2:
                raise _Circular(f"circular reference: {_where(key)} spills into {area}, which "
                                "its own precedents read")
        for i, row in enumerate(arr):
            for j, v in enumerate(row):
                if i == 0 and j == 0:
                    continue
                k = (title, r0 + i, c0 + j)
                self.spill_owner[k] = key
                self.spill_values[k] = self._final_scalar(v, k)
        self.spill_area[key] = (r0, c0, r2, c2)
        return self._final_scalar(arr[0][0], key)

    def _fill_array_formula(self, key: _Key, result: Any) -> Any:
        title = key[0]
        r1, c1, r2, c2 = self.array_ref[key]
        arr = _as_2d(result)
        h, w = len(arr), len(arr[0])
        anchor_value = None
        for i in range(r2 - r1 + 1):
            for j in range(c2 - c1 + 1):
                # Excel repeats a single row/column over the range and pads the rest with #N/A
                ii = 0 if h == 1 else i
                jj = 0 if w == 1 else j
                v = arr[ii][jj] if ii < h and jj < w else _err("#N/A", "outside the array result")
                k = (title, r1 + i, c1 + j)
                if k == key:
                    anchor_value = v
                else:
                    self.spill_values[k] = self._final_scalar(v, k)
        return self._final_scalar(anchor_value, key)

    # -- reading cells ----------------------------------------------------------------------
    def cell_value(self, title: str, r: int, c: int, resolve: bool = True) -> Any:
        key = (title, r, c)
        v = self.values.get(key, _NOTSET)
        if v is not _NOTSET:
            return v
        if key in self.formulas:
            self.ensure(key)
            return self.values[key]
        anchor = self.array_member.get(key)
        if anchor is not None:
            self.ensure(anchor)
            return self.spill_values.get(key)
        cell = self.sheets[title]._cells.get((r, c))
        if cell is not None and cell._value is not None:
            return self._plain(cell)
        v = self.spill_values.get(key, _NOTSET)
        if v is not _NOTSET:
            return v
        if resolve and self.pending_spill.get(title):
            self._resolve_spills(title, r, c, r, c)
            return self.spill_values.get(key)
        return None

    def _plain(self, cell: Any) -> Any:
        v = cell._value
        t = type(v)
        if t is int or t is float or t is bool:
            return v
        if t is str:
            if cell.data_type == "e" and v in ERROR_CODES:
                return XlError(v, "error value stored in the cell")
            return v
        if isinstance(v, (_dt.datetime, _dt.date, _dt.time, _dt.timedelta)):
            if isinstance(v, (_dt.datetime, _dt.date)) and not isinstance(v, _dt.datetime):
                v = _dt.datetime.combine(v, _dt.time())
            return to_excel(v, self.wb.epoch)
        if isinstance(v, (int, float)):
            return v
        return str(v)  # rich text and other objects read as their text

    def _resolve_spills(self, title: str, r1: int, c1: int, r2: int, c2: int) -> None:
        """Evaluate pending formulas that might spill into the empty cells of a rectangle."""
        pend = self.pending_spill.get(title)
        if not pend:
            return
        hi = bisect_right(pend, (r2, MAX_COL + 1))
        candidates = [(r, c) for (r, c) in pend[:hi] if c <= c2]
        for r, c in candidates:
            key = (title, r, c)
            if key in self.values:
                continue
            if key in self.on_stack_set:
                self.blind_reads.setdefault(key, []).append((title, r1, c1, r2, c2))
                continue
            try:
                self.ensure(key)
            except _Circular:
                self.blind_reads.setdefault(key, []).append((title, r1, c1, r2, c2))

    def range_value(self, title: str, ref: _Ref) -> list[list[Any]]:
        ws = self.sheets[title]
        r2 = ref.r2 if ref.r2 is not None else max(ws.max_row, ref.r1)
        c2 = ref.c2 if ref.c2 is not None else max(ws.max_column, ref.c1)
        ck = (title, ref.r1, ref.c1, r2, c2)
        arr = self.range_cache.get(ck)
        if arr is not None:
            return arr
        if self.pending_spill.get(title):
            self._resolve_spills(title, ref.r1, ref.c1, r2, c2)
        cv = self.cell_value
        arr = [[cv(title, r, c, False) for c in range(ref.c1, c2 + 1)]
               for r in range(ref.r1, r2 + 1)]
        self.range_cache[ck] = arr
        return arr

    # -- expression evaluation --------------------------------------------------------------
    def eval(self, node: _Node, title: str) -> Any:
        t = type(node)
        if t is _Lit:
            return node.value
        if t is _Ref:
            return self._eval_ref(node, title, False)
        if t is _Binary:
            a = self.eval(node.left, title)
            b = self.eval(node.right, title)
            if type(a) is list or type(b) is list:
                op = node.op
                return _broadcast(lambda x, y: _binary_scalar(op, x, y), [a, b])
            return _binary_scalar(node.op, a, b)
        if t is _Unary:
            a = self.eval(node.operand, title)
            if type(a) is list:
                op = node.op
                return _broadcast(lambda x: _unary_scalar(op, x), [a])
            return _unary_scalar(node.op, a)
        if t is _Call:
            return self._eval_call(node, title)
        if t is _Name:
            return self._eval_name(node, title, False)
        if t is _Missing:
            return _MISSING
        if t is _ArrayLit:
            return [[_unwrap(self.eval(x, title)) for x in row] for row in node.rows]
        raise AssertionError(f"unknown node {t}")  # pragma: no cover

    def _eval_ref(self, node: _Ref, title: str, as_range: bool) -> Any:
        t = self._sheet_title(node.sheet, title) if node.sheet is not None else title
        if t is None:
            return _err("#REF!", f"no sheet named {node.sheet!r}")
        if node.single and not as_range:
            return self.cell_value(t, node.r1, node.c1)
        return self.range_value(t, node)

    def _eval_name(self, node: _Name, title: str, as_range: bool) -> Any:
        parsed = self._name_parsed(node, title)
        if type(parsed) is XlError:
            return parsed
        lname = node.name.lower()
        if lname in self.name_stack:
            raise _Circular(f"circular reference: defined name {node.name} refers to itself")
        self.name_stack.append(lname)
        try:
            tree = parsed.tree
            if as_range and type(tree) is _Ref:
                return self._eval_ref(tree, title, True)
            if as_range and type(tree) is _Name:
                return self._eval_name(tree, title, True)
            return self.eval(tree, title)
        finally:
            self.name_stack.pop()

    def _eval_arg(self, node: _Node, title: str, as_range: bool) -> Any:
        if as_range:
            if type(node) is _Ref:
                return self._eval_ref(node, title, True)
            if type(node) is _Name:
                return self._eval_name(node, title, True)
        return self.eval(node, title)

    def _eval_call(self, node: _Call, title: str) -> Any:
        name = node.name
        fn = _NATIVE.get(name)
        if fn is None:
            return self._call_udf(node, title)
        if name == "IF":
            return self._fn_if(node, title)
        if name == "IFERROR":
            return self._fn_iferror(node, title)
        ref_args = fn.ref_args
        args = [self._eval_arg(a, title, ref_args(i)) for i, a in enumerate(node.args)]
        if fn.impl is not None:
            return fn.impl(*args)
        if name == "MATCH":
            return self._fn_match(*args)
        if name == "SUMIFS":
            if len(args) % 2 == 0:
                return _err("#VALUE!", "SUMIFS needs pairs of range and criterion")
            return self._fn_ifs(args[0], args[1:])
        if name == "COUNTIFS":
            if len(args) % 2 == 1:
                return _err("#VALUE!", "COUNTIFS needs pairs of range and criterion")
            return self._fn_ifs(None, args)
        system = self.system
        if name == "DATE":
            return _lift(lambda y, m, d: _fn_date(y, m, d, system=system))(*args)
        if name == "YEAR":
            return _lift(lambda v: _fn_year(v, system=system))(*args)
        if name == "EOMONTH":
            return _lift(lambda s, m: _fn_eomonth(s, m, system=system))(*args)
        raise AssertionError(name)  # pragma: no cover

    def _call_udf(self, node: _Call, title: str) -> Any:
        fn = self.udfs.get(node.name)
        if fn is None:  # pragma: no cover - rejected when the formula is prepared
            raise AicapexError(f"unsupported function {node.raw}")
        args = [_udf_arg(self.eval(a, title)) for a in node.args]
        # Custom functions are pure for the length of one evaluation (non-volatile, same data),
        # so identical calls -- e.g. one CPX_FINANCING table indexed by hundreds of cells --
        # are computed once.
        key = _call_key(node.name, args)
        if key is not None and key in self.udf_cache:
            return self.udf_cache[key]
        try:
            result = fn(*args)
        except Exception as exc:  # Excel shows #VALUE! when a UDF raises
            msg = " ".join(str(exc).split()) or type(exc).__name__
            return _err("#VALUE!", f"{node.name} raised {type(exc).__name__}: {msg}")
        out = _udf_result(result, self.wb.epoch)
        if key is not None:
            self.udf_cache[key] = out
        return out

    def _fn_if(self, node: _Call, title: str) -> Any:
        cond = self.eval(node.args[0], title)
        args = node.args

        def branch(i: int) -> Any:
            if i >= len(args):
                return False  # omitted: IF(FALSE, 1) is FALSE
            v = self.eval(args[i], title)
            return 0.0 if v is _MISSING else v  # empty: IF(TRUE,,1) is 0

        if type(cond) is list:
            yes, no = branch(1), branch(2)
            return _broadcast(lambda c, y, n: _pick(_truth(c), y, n), [cond, yes, no])
        b = _truth(cond)
        if type(b) is XlError:
            return b
        return branch(1) if b else branch(2)

    def _fn_iferror(self, node: _Call, title: str) -> Any:
        v = self.eval(node.args[0], title)
        if type(v) is list:
            alt = self.eval(node.args[1], title)
            return _broadcast(lambda x, a: a if type(x) is XlError else x, [v, alt])
        if type(v) is XlError:
            alt = self.eval(node.args[1], title)
            return 0.0 if alt is _MISSING else alt
        return v

    def _flat(self, arr: Any) -> list[Any]:
        hit = self.flat_cache.get(id(arr))
        if hit is not None and hit[0] is arr:
            return hit[1]
        flat = [v for row in _as_2d(arr) for v in row]
        if type(arr) is list:
            self.flat_cache[id(arr)] = (arr, flat)
        return flat

    def _crit_positions(self, arr: Any, crit: _Criterion, n: int) -> set[int]:
        flat = self._flat(arr)
        if crit.keys is not None:
            hit = self.crit_index.get(id(arr))
            if hit is None or hit[0] is not arr:
                index: dict[tuple, list[int]] = {}
                for i, v in enumerate(flat):
                    for k in _index_keys(v):
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
            return self._numeric_positions(arr, flat, *crit.num_cmp)
        pred = crit.pred
        assert pred is not None
        if crit.negate:
            return {i for i, v in enumerate(flat) if not pred(v)}
        return {i for i, v in enumerate(flat) if pred(v)}

    def _numeric_positions(self, arr: Any, flat: list[Any], op: str, value: float) -> set[int]:
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
            while i < n and _approx_eq(vals[i], value):
                i += 1
        else:
            i = bisect_left(vals, value)
            while i > 0 and _approx_eq(vals[i - 1], value):
                i -= 1
        return set(pos[i:]) if op in (">", ">=") else set(pos[:i])

    def _fn_ifs(self, sum_range: Any, pairs: list[Any]) -> Any:
        ranges = pairs[0::2]
        crits = pairs[1::2]
        shape_src = sum_range if sum_range is not None else ranges[0]
        if type(shape_src) is XlError:
            return shape_src
        shape = (len(_as_2d(shape_src)), len(_as_2d(shape_src)[0]))
        for rng in ranges:
            if type(rng) is XlError:
                return rng
            a = _as_2d(rng)
            if (len(a), len(a[0])) != shape:
                return _err("#VALUE!", "criteria ranges differ in size from the first range")
        n = shape[0] * shape[1]

        def scalar(*cs: Any) -> Any:
            positions: set[int] | None = None
            for rng, c in zip(ranges, cs, strict=True):
                if type(c) is XlError:
                    return c
                pos = self._crit_positions(rng, _Criterion(c), n)
                positions = pos if positions is None else positions & pos
                if not positions:
                    break
            if sum_range is None:
                return len(positions or ())
            flat = self._flat(sum_range)
            total = 0.0
            for i in sorted(positions or ()):
                v = flat[i]
                t = type(v)
                if t is XlError:
                    return v
                if t is float or t is int:
                    total += v
            return total

        return _lift(scalar)(*crits)

    def _fn_match(self, lookup: Any, array: Any, match_type: Any = 1.0) -> Any:
        if match_type is _MISSING:
            match_type = 1.0
        if type(lookup) is list:
            lookup = _unwrap(lookup)
            if type(lookup) is list:
                return _broadcast(lambda x: self._fn_match(x, array, match_type), [lookup])
        if type(lookup) is XlError:
            return lookup
        if type(array) is XlError:
            return array
        arr = _as_2d(array)
        if len(arr) != 1 and len(arr[0]) != 1:
            return _err("#N/A", "MATCH needs a single row or column")
        mt = _num(match_type)
        if type(mt) is XlError:
            return mt
        flat = self._flat(array)
        if lookup is None or lookup is _MISSING:
            return _err("#N/A", "MATCH of an empty value")
        shown = _text(lookup)
        if mt == 0:
            if type(lookup) is str and _has_wildcards(lookup):
                rx = _wildcard_regex(lookup)
                for i, v in enumerate(flat):
                    if type(v) is str and rx.fullmatch(v):
                        return i + 1
                return _err("#N/A", f"MATCH: {shown!r} not found")
            hit = self.match_index.get(id(array))
            if hit is None or hit[0] is not array:
                index: dict[tuple, int] = {}
                for i, v in enumerate(flat):
                    k = _match_key(v)
                    if k is not None and k not in index:
                        index[k] = i
                if type(array) is list:
                    self.match_index[id(array)] = (array, index)
            else:
                index = hit[1]
            pos = index.get(_match_key(lookup))
            if pos is None:
                return _err("#N/A", f"MATCH: {shown!r} not found")
            return pos + 1
        best = None
        best_val: Any = None
        rank = _rank(lookup)
        for i, v in enumerate(flat):
            if v is None or type(v) is XlError or _rank(v) != rank:
                continue
            if mt > 0:
                if _compare("<=", v, lookup) is True and (
                        best is None or _compare(">=", v, best_val) is True):
                    best, best_val = i, v
            else:
                if _compare(">=", v, lookup) is True and (
                        best is None or _compare("<=", v, best_val) is True):
                    best, best_val = i, v
        if best is None:
            return _err("#N/A", f"MATCH: no value {'<=' if mt > 0 else '>='} {shown!r}")
        return best + 1

    # -- driver -----------------------------------------------------------------------------
    def run(self) -> EvaluationResult:
        order = sorted(self.formulas, key=lambda k: (self._sheet_index(k[0]), k[1], k[2]))
        total = len(order)
        step = max(1, total // 100)
        for n, key in enumerate(order, 1):
            self.ensure(key)
            if self.progress is not None and (n % step == 0 or n == total):
                self.progress(n, total)
        if self.progress is not None and total == 0:
            self.progress(0, 0)
        result = EvaluationResult()
        letters: dict[int, str] = {}

        def coord(r: int, c: int) -> str:
            col = letters.get(c)
            if col is None:
                col = letters[c] = get_column_letter(c)
            return f"{col}{r}"

        for key in order:
            v = self.values[key]
            result.values[(key[0], coord(key[1], key[2]))] = v
            if type(v) is XlError:
                result.errors.append(CellError(key[0], coord(key[1], key[2]), str(v), v.reason,
                                               v.origin))
        for key in sorted(self.spill_values,
                          key=lambda k: (self._sheet_index(k[0]), k[1], k[2])):
            v = self.spill_values[key]
            result.spills[(key[0], coord(key[1], key[2]))] = v
            if type(v) is XlError:
                result.errors.append(CellError(key[0], coord(key[1], key[2]), str(v), v.reason,
                                               v.origin, in_spill=True))
        return result

    def _sheet_index(self, title: str) -> int:
        return self.sheet_order[title]


def _pick(cond: Any, yes: Any, no: Any) -> Any:
    if type(cond) is XlError:
        return cond
    return yes if cond else no


def _arity_text(fn: _Fn) -> str:
    if fn.max_args is None:
        return f"at least {fn.min_args}"
    if fn.min_args == fn.max_args:
        return str(fn.min_args)
    return f"{fn.min_args} to {fn.max_args}"


def _iter_defined_names(names: Any):
    """(name, formula text) pairs from openpyxl's DefinedNameDict (or a legacy list)."""
    items = names.items() if hasattr(names, "items") else ((dn.name, dn) for dn in names)
    for name, dn in items:
        text = getattr(dn, "attr_text", None) or getattr(dn, "value", None)
        if text:
            yield name, str(text)


def evaluate_workbook(
    wb: Any,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationResult:
    """Evaluate every formula cell of an openpyxl workbook.

    Parameters
    ----------
    wb : openpyxl.Workbook
        Loaded with formulas (``data_only=False``). It is only read, never modified.
    functions : mapping of str to callable, optional
        Custom functions by name (case-insensitive; ``_xludf.``/``_xlfn.`` prefixes ignored),
        e.g. the ``CPX_`` UDFs. Native functions (``SUPPORTED_FUNCTIONS``) win over a custom
        function of the same name. Each is called with Excel-shaped arguments: a scalar for a
        single cell or value, a list of row lists for a range (blank cells as ``None``), ``None``
        for an empty argument, error values as :class:`XlError`. A 2-D result spills; an
        exception becomes ``#VALUE!`` with the message as reason.
    progress : callable, optional
        Called as ``progress(done, total)`` about every 1% of the formula cells.

    Returns
    -------
    EvaluationResult
        ``values`` for formula cells, ``spills`` for spilled/array-range cells, ``errors``.

    Raises
    ------
    AicapexError
        For a circular reference (naming the cycle), an unsupported function or a formula that
        cannot be parsed (naming the sheet!cell), a structured or external reference.

    Notes
    -----
    Blank results read as 0 (as ``=A1`` shows 0 for a blank ``A1``); a ``None`` element returned
    by a custom function becomes ``""`` (as xlwings returns it). Dates in cells are read as
    serial numbers in the workbook's date system.

    Examples
    --------
    >>> from openpyxl import Workbook
    >>> wb = Workbook()
    >>> ws = wb.active
    >>> ws["A1"], ws["A2"], ws["B1"] = 4, 0, '=IFERROR(A1/A2, "n/a") & "!"'
    >>> ws["B2"] = "=A1/A2"
    >>> res = evaluate_workbook(wb)
    >>> res.values[("Sheet", "B1")], res.values[("Sheet", "B2")]
    ('n/a!', XlError('#DIV/0!', 'division by zero'))
    >>> [str(e) for e in res.errors]
    ['Sheet!B2 #DIV/0!: division by zero']
    """
    return _Workbook(wb, functions, progress).run()
