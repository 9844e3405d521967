"""Formula text -> expression tree, from openpyxl's tokenizer (the one formula parser).

The tree is permissive: it represents everything a formula may contain -- references the
evaluator refuses (external, 3-D, ``@``), structured references to Excel Tables, the union and
intersection operators -- so that the evaluator can say *why* it refuses a formula and the
client export can say why a formula is not portable, both from the same tree. A formula that
cannot be read at all raises :class:`ParseError`.

Examples
--------
>>> tree = parse("=SUM(A1:B2)*-2%").tree
>>> type(tree).__name__, tree.op, tree.left.name, tree.left.args[0].text
('Binary', '*', 'SUM', 'A1:B2')
>>> sorted(functions_in_formula('=IF(SUM(A1)>0, _xlfn.XLOOKUP(1, B1:B3, C1:C3), "MAX(")'))
['IF', 'SUM', 'XLOOKUP']
>>> function_calls("=ROUND(SUM(A1,,B2), 2)+NA()")
[('SUM', 3), ('ROUND', 2), ('NA', 0)]

Each call knows where it is in the text (name, arguments, closing parenthesis), which is how
a formula is rewritten without a regular expression:

>>> f = '=1 +  Max(A1, "MIN(")'
>>> call = parse(f).calls[0]
>>> call.span, f[call.span[0]:call.span[2]]
((6, 10, 21), 'Max(A1, "MIN(")')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.utils.cell import column_index_from_string

from aicapex.xlerrors import ERROR_CODES, XlError

__all__ = [
    "MAX_COL",
    "MAX_ROW",
    "ArrayLit",
    "BadRef",
    "Binary",
    "Call",
    "Literal",
    "Missing",
    "Name",
    "Node",
    "ParseError",
    "Parsed",
    "Ref",
    "StructRef",
    "Unary",
    "function_calls",
    "functions_in_formula",
    "normalize_function_name",
    "parse",
    "parse_area",
    "parsed_from_tree",
    "substitute",
    "walk",
]

MAX_ROW = 1_048_576
MAX_COL = 16_384

FUNCTION_PREFIXES = ("_XLFN.", "_XLUDF.", "_XLWS.")
#: Binding power of the infix operators; the reference operators bind tightest.
BINARY_BP = {
    "=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1,
    "&": 2,
    "+": 3, "-": 3,
    "*": 4, "/": 4,
    "^": 5,
    ",": 6,  # union, inside parentheses: (A1,B1)
    " ": 7,  # intersection: A1:B5 B2:C3
}


class ParseError(Exception):
    """The formula cannot be read (the message says where)."""


class Node:
    __slots__ = ()


class Literal(Node):
    """A number (float), text, boolean or error literal (:class:`XlError`)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Missing(Node):
    """An empty argument slot, as in ``IF(A1,,1)``."""

    __slots__ = ()


class Ref(Node):
    """An A1 cell or range; ``r2``/``c2`` of ``None`` mean to the sheet's last row/column."""

    __slots__ = ("sheet", "r1", "c1", "r2", "c2", "single", "text")

    def __init__(self, sheet: str | None, r1: int, c1: int, r2: int | None, c2: int | None,
                 text: str) -> None:
        self.sheet = sheet
        self.r1, self.c1, self.r2, self.c2 = r1, c1, r2, c2
        self.single = r1 == r2 and c1 == c2
        self.text = text

    @property
    def whole(self) -> bool:
        """A whole-column (``B:B``) or whole-row (``3:5``) range."""
        return self.r2 is None or self.c2 is None


class Name(Node):
    """A defined name (``sheet`` set for ``Sheet1!name``)."""

    __slots__ = ("name", "sheet", "text")

    def __init__(self, name: str, sheet: str | None, text: str) -> None:
        self.name = name
        self.sheet = sheet
        self.text = text


class StructRef(Node):
    """A structured reference to an Excel Table: ``tbl[col]``, ``tbl[[#This Row],[a]:[b]]``.

    ``table`` is ``None`` for the table-less form ``[@col]`` (the table around the cell);
    ``items`` holds the special items (``#All``, ``#Data``, ``#Headers``, ``#Totals``,
    ``#This Row``), lower-cased; ``first``/``last`` the column names (``None``: all columns).
    """

    __slots__ = ("table", "items", "first", "last", "text")

    def __init__(self, table: str | None, items: tuple[str, ...], first: str | None,
                 last: str | None, text: str) -> None:
        self.table = table
        self.items = items
        self.first = first
        self.last = last
        self.text = text


class BadRef(Node):
    """A reference the evaluator cannot follow; ``kind`` names it (``external link``,
    ``3-D reference``, ``dynamic-array reference``, ``broken reference``...). A broken
    reference (``#REF!``) evaluates to ``error``; the others make the formula unsupported."""

    __slots__ = ("kind", "text", "error")

    def __init__(self, kind: str, text: str, error: XlError | None = None) -> None:
        self.kind = kind
        self.text = text
        self.error = error


class Unary(Node):
    __slots__ = ("op", "operand")

    def __init__(self, op: str, operand: Node) -> None:
        self.op = op
        self.operand = operand


class Binary(Node):
    """An infix operation; ``op`` ``","`` is the union and ``" "`` the intersection."""

    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Node, right: Node) -> None:
        self.op = op
        self.left = left
        self.right = right


class Call(Node):
    """A function call; ``name`` upper-cased without ``_xlfn.``-style prefixes, ``raw`` as
    written.

    ``span`` says where the call is in the formula text as given to :func:`parse`:
    ``(start, args_start, end)`` -- the offset of the function name, just after its ``(`` and
    just after the matching ``)`` -- so a tool can rewrite a call without touching anything
    else (``None`` for a call that is not from formula text).
    """

    __slots__ = ("name", "raw", "args", "span")

    def __init__(self, name: str, raw: str, args: list[Node],
                 span: tuple[int, int, int] | None = None) -> None:
        self.name = name
        self.raw = raw
        self.args = args
        self.span = span


class ArrayLit(Node):
    """An array constant ``{1,2;3,4}`` (rows of nodes)."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[list[Node]]) -> None:
        self.rows = rows


_CELL_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")
_COL_RE = re.compile(r"\$?([A-Za-z]{1,3})")
_ROW_RE = re.compile(r"\$?(\d{1,7})")
_NAME_RE = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\?]*")
_SHEET_RE = re.compile(r"(?:'((?:[^']|'')+)'|([^'!:\[\]]+))!(.+)")
_TABLE_RE = re.compile(r"([A-Za-z_\\][A-Za-z0-9_.\\]*)?(\[.*\])")
_ITEMS = {"#all": "#all", "#data": "#data", "#headers": "#headers", "#totals": "#totals",
          "#this row": "#this row"}


def normalize_function_name(raw: str) -> str:
    """``_xlfn.stdev.s`` -> ``STDEV.S``: upper case, storage prefixes stripped."""
    name = raw.strip().upper()
    stripped = True
    while stripped:
        stripped = False
        for prefix in FUNCTION_PREFIXES:
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


def parse_area(text: str) -> tuple[int, int, int | None, int | None] | None:
    """``A1``, ``A1:B5``, ``B:B`` or ``3:5`` (``$`` allowed) -> (r1, c1, r2, c2) or None.

    >>> parse_area("$B$2:A10"), parse_area("C:D"), parse_area("nope")
    ((2, 1, 10, 2), (1, 3, None, 4), None)
    """
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
        if 1 <= min(r1, r2) and max(r1, r2) <= MAX_ROW:
            return min(r1, r2), 1, max(r1, r2), None
    return None


def _unquote_sheet(m: re.Match[str]) -> str:
    return (m.group(1) or "").replace("''", "'") or m.group(2)


def _split_brackets(spec: str) -> list[str] | None:
    """Top-level ``[...]`` groups of a structured-reference specifier, ``'`` escapes kept."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(spec):
        ch = spec[i]
        if ch == "'":
            i += 2
            continue
        if ch == "[":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                parts.append(spec[start:i + 1])
        elif depth == 0 and ch not in ", :":
            return None
        i += 1
    return parts if depth == 0 else None


def _column_name(part: str) -> str:
    """``[x y]`` -> ``x y`` with the ``'`` escapes (``'#``, ``'[``, ``']``, ``''``) removed."""
    inner = part[1:-1] if part.startswith("[") and part.endswith("]") else part
    return re.sub(r"'(.)", r"\1", inner).strip()


def _struct_ref(text: str) -> Node:
    m = _TABLE_RE.fullmatch(text)
    if not m:
        return BadRef("structured reference", text)
    table, spec = m.group(1), m.group(2)
    inner = spec[1:-1].strip()
    items: list[str] = []
    columns: list[str] = []
    if inner.startswith("@"):  # [@col] / [@[col x]] / [@] : this row
        items.append("#this row")
        rest = inner[1:].strip()
        if rest:
            columns.append(_column_name(rest))
    elif inner.startswith("["):
        parts = _split_brackets(inner)
        if parts is None:
            return BadRef("structured reference", text)
        cols_text = inner
        for p in parts:
            name = _column_name(p)
            if name.lower() in _ITEMS:
                items.append(_ITEMS[name.lower()])
            else:
                columns.append(name)
        if ":" in cols_text and len(columns) != 2:
            return BadRef("structured reference", text)
    elif inner:
        name = _column_name(inner)
        if name.lower() in _ITEMS:
            items.append(_ITEMS[name.lower()])
        else:
            columns.append(name)
    if len(columns) > 2:
        return BadRef("structured reference", text)
    first = columns[0] if columns else None
    last = columns[-1] if columns else None
    return StructRef(table, tuple(items), first, last, text)


def _operand_node(text: str) -> Node:
    """A RANGE operand token: reference, defined name, table reference or a BadRef."""
    if text.startswith("@"):
        return BadRef("dynamic-array reference", text)
    if text.startswith("[") and not text.startswith("[@") and "]" in text \
            and ("!" in text or re.match(r"\[\d+\]", text)):
        return BadRef("external link", text)
    sheet = None
    rest = text
    m = _SHEET_RE.fullmatch(text)
    if m:
        sheet = _unquote_sheet(m)
        rest = m.group(3)
        if ":" in rest and "!" in rest:  # Sheet1!A1:Sheet1!B2
            left, _, right = rest.partition(":")
            m2 = _SHEET_RE.fullmatch(right)
            if not m2 or _unquote_sheet(m2).lower() != sheet.lower():
                return BadRef("3-D reference", text)
            rest = f"{left}:{m2.group(3)}"
    elif "!" in text and ":" in text.split("!", 1)[0]:  # Sheet1:Sheet3!A1
        return BadRef("3-D reference", text)
    if "[" in rest:
        if sheet is not None and "[" in text.split("!", 1)[0]:
            return BadRef("external link", text)
        return _struct_ref(rest)
    if rest.upper() == "#REF!" or "#REF!" in rest.upper():
        return BadRef("broken reference", text, XlError("#REF!", f"invalid reference {text}"))
    if rest.endswith("#"):
        return BadRef("dynamic-array reference", text)
    area = parse_area(rest)
    if area is not None:
        return Ref(sheet, *area, text)
    if _NAME_RE.fullmatch(rest):
        return Name(rest, sheet, text)
    return BadRef("unsupported reference", text)


_BLANKS_RE = re.compile(r"[ \n]+")  # what the tokenizer folds into one WHITE-SPACE token


def _tokens(formula: str) -> tuple[list[Token], list[int]]:
    """The tokens of a formula and where each starts in ``formula`` as given.

    openpyxl's tokens carry no positions, and a run of blanks comes back as one token holding
    only its first character, so the offsets are counted here.
    """
    text = formula if formula.startswith("=") else "=" + formula
    try:
        items = Tokenizer(text).items
    except TokenizerError as exc:
        raise ParseError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the tokenizer raises bare errors on bad input
        raise ParseError(f"cannot tokenize: {exc}") from None
    shift = len(text) - len(formula)  # the "=" added above
    starts: list[int] = []
    pos = 1
    for tok in items:
        starts.append(pos - shift)
        if tok.type == Token.WSPACE:
            blanks = _BLANKS_RE.match(text, pos)
            pos = blanks.end() if blanks else pos + len(tok.value)
        else:
            pos += len(tok.value)
    return items, starts


def _is_operand_start(tok: Token) -> bool:
    return tok.type == Token.OPERAND or (
        tok.type in (Token.FUNC, Token.PAREN, Token.ARRAY) and tok.subtype == Token.OPEN)


class _Parser:
    """Precedence climbing over the token list."""

    def __init__(self, tokens: list[Token], starts: list[int]) -> None:
        self.toks = tokens
        self.starts = starts
        self.i = 0

    def skip_space(self) -> None:
        while self.i < len(self.toks) and self.toks[self.i].type == Token.WSPACE:
            self.i += 1

    def peek(self) -> Token | None:
        self.skip_space()
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise ParseError("formula ends unexpectedly")
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.peek() is None:
            raise ParseError("empty formula")
        node = self.expr(0)
        tok = self.peek()
        if tok is not None:
            raise ParseError(f"unexpected {tok.value!r}")
        return node

    def intersection_follows(self) -> bool:
        """Whitespace between two operands is Excel's intersection operator."""
        if self.i >= len(self.toks) or self.toks[self.i].type != Token.WSPACE:
            return False
        j = self.i
        while j < len(self.toks) and self.toks[j].type == Token.WSPACE:
            j += 1
        return j < len(self.toks) and _is_operand_start(self.toks[j])

    def expr(self, min_bp: int) -> Node:
        left = self.prefix()
        while True:
            if self.intersection_follows():
                op = " "
            else:
                tok = self.peek()
                if tok is None:
                    return left
                if tok.type == Token.OP_POST:  # % binds tighter than every infix operator
                    self.i += 1
                    left = Unary("%", left)
                    continue
                if tok.type != Token.OP_IN:
                    return left
                op = tok.value
            bp = BINARY_BP.get(op)
            if bp is None:
                raise ParseError(f"operator {op!r} is not supported")
            if bp < min_bp:
                return left
            if op == " ":
                self.skip_space()
            else:
                self.i += 1
            right = self.expr(bp + 1)  # all Excel binary operators are left-associative
            left = Binary(op, left, right)

    def prefix(self) -> Node:
        tok = self.take()
        if tok.type == Token.OP_PRE:
            # Excel's negation binds tighter than ^ and %: =-2^2 is 4
            return Unary(tok.value, self.prefix())
        return self.primary(tok)

    def primary(self, tok: Token) -> Node:
        t, s = tok.type, tok.subtype
        if t == Token.OPERAND:
            if s == Token.NUMBER:
                return Literal(float(tok.value))
            if s == Token.TEXT:
                return Literal(tok.value[1:-1].replace('""', '"'))
            if s == Token.LOGICAL:
                return Literal(tok.value.upper() == "TRUE")
            if s == Token.ERROR:
                code = tok.value.upper()
                if code not in ERROR_CODES:
                    raise ParseError(f"unknown error literal {tok.value}")
                return Literal(XlError(code, "error literal in formula"))
            return _operand_node(tok.value)
        if t == Token.FUNC and s == Token.OPEN:
            start = self.starts[self.i - 1]
            return self.call(tok.value[:-1], start, start + len(tok.value))
        if t == Token.PAREN and s == Token.OPEN:
            node = self.expr(0)
            close = self.take()
            if not (close.type == Token.PAREN and close.subtype == Token.CLOSE):
                raise ParseError(f"expected ')' but found {close.value!r}")
            return node
        if t == Token.ARRAY and s == Token.OPEN:
            return self.array()
        raise ParseError(f"unexpected {tok.value!r}")

    def call(self, raw: str, start: int, args_start: int) -> Node:
        if ":" in raw or "!" in raw:
            raise ParseError(f"range built from a function result ({raw}) is not supported")
        args: list[Node] = []
        nxt = self.peek()
        if nxt is not None and nxt.type == Token.FUNC and nxt.subtype == Token.CLOSE:
            self.i += 1
            return Call(normalize_function_name(raw), raw, args,
                        (start, args_start, self.starts[self.i - 1] + 1))
        while True:
            nxt = self.peek()
            if nxt is not None and (
                (nxt.type == Token.SEP and nxt.subtype == Token.ARG)
                or (nxt.type == Token.FUNC and nxt.subtype == Token.CLOSE)
            ):
                args.append(Missing())
            else:
                args.append(self.expr(0))
            sep = self.take()
            if sep.type == Token.SEP and sep.subtype == Token.ARG:
                continue
            if sep.type == Token.FUNC and sep.subtype == Token.CLOSE:
                break
            raise ParseError(f"unexpected {sep.value!r} in the arguments of {raw}")
        return Call(normalize_function_name(raw), raw, args,
                    (start, args_start, self.starts[self.i - 1] + 1))

    def array(self) -> Node:
        rows: list[list[Node]] = [[]]
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
            raise ParseError(f"unexpected {sep.value!r} in an array constant")
        if len({len(r) for r in rows}) != 1:
            raise ParseError("array constant rows have different lengths")
        return ArrayLit(rows)


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, parents before children, arguments in order."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        t = type(n)
        if t is Call:
            stack.extend(reversed(n.args))
        elif t is Binary:
            stack.extend((n.right, n.left))
        elif t is Unary:
            stack.append(n.operand)
        elif t is ArrayLit:
            stack.extend(reversed([x for row in n.rows for x in row]))


@dataclass(frozen=True)
class Parsed:
    """A parsed formula: its tree and, for the dependency graph, its nodes by kind."""

    tree: Node
    refs: tuple[Ref, ...]
    names: tuple[Name, ...]
    calls: tuple[Call, ...]
    structs: tuple[StructRef, ...]
    #: what no evaluator here follows: BadRefs other than ``#REF!``, union and intersection
    refused: tuple[Node, ...] = ()


def parsed_from_tree(tree: Node) -> Parsed:
    """A :class:`Parsed` for a tree (its nodes collected by kind)."""
    refs: list[Ref] = []
    names: list[Name] = []
    calls: list[Call] = []
    structs: list[StructRef] = []
    refused: list[Node] = []
    for node in walk(tree):
        t = type(node)
        if t is Ref:
            refs.append(node)
        elif t is Name:
            names.append(node)
        elif t is Call:
            calls.append(node)
        elif t is StructRef:
            structs.append(node)
        elif (t is BadRef and node.error is None) or (t is Binary and node.op in (",", " ")):
            refused.append(node)
    return Parsed(tree, tuple(refs), tuple(names), tuple(calls), tuple(structs),
                  tuple(refused))


@lru_cache(maxsize=100_000)
def parse(formula: str) -> Parsed:
    """Parse a formula (with or without the leading ``=``); cached per text.

    Raises :class:`ParseError` when the text cannot be read.
    """
    return parsed_from_tree(_Parser(*_tokens(formula)).parse())


def substitute(node: Node, replace: dict[int, Node]) -> Node:
    """A copy of a tree with the nodes whose ``id`` is in ``replace`` swapped (the trees of
    :func:`parse` are shared between cells, so they are never changed in place)."""
    hit = replace.get(id(node))
    if hit is not None:
        return hit
    t = type(node)
    if t is Call:
        return Call(node.name, node.raw, [substitute(a, replace) for a in node.args])
    if t is Binary:
        return Binary(node.op, substitute(node.left, replace), substitute(node.right, replace))
    if t is Unary:
        return Unary(node.op, substitute(node.operand, replace))
    if t is ArrayLit:
        return ArrayLit([[substitute(x, replace) for x in row] for row in node.rows])
    return node


def functions_in_formula(text: str) -> set[str]:
    """The function names a formula calls, upper-cased, ``_xlfn.``/``_xludf.`` stripped.

    Names inside string literals are not counted.

    >>> sorted(functions_in_formula("=cpx_value(A1, IF(B1, 1, 2))"))
    ['CPX_VALUE', 'IF']
    """
    return {c.name for c in parse(text).calls}


def function_calls(text: str) -> list[tuple[str, int]]:
    """(function name, argument count) for every call in the order the calls close (inner
    calls first); ``F()`` has 0 arguments and ``F(,)`` has 2."""
    out: list[tuple[str, int]] = []

    def visit(node: Node) -> None:  # formulas nest at most 64 deep in Excel
        t = type(node)
        if t is Call:
            for a in node.args:
                visit(a)
            out.append((node.name, len(node.args)))
        elif t is Binary:
            visit(node.left)
            visit(node.right)
        elif t is Unary:
            visit(node.operand)
        elif t is ArrayLit:
            for row in node.rows:
                for x in row:
                    visit(x)

    visit(parse(text).tree)
    return out
