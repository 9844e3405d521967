"""The workbook as a dependency graph of formula cells: discovery, checks, order, spills.

- Every formula cell is parsed once (trees are shared per formula text), its structured
  references resolved for its own cell, and checked: a formula the evaluator cannot compute
  (unknown function, wrong argument count, unreadable text, an external or 3-D reference...)
  is recorded in :attr:`WorkbookGraph.unsupported` with the reason -- all of them, before
  anything is evaluated.
- A formula's references (cells, ranges, defined names) give its precedents. Cells are
  evaluated in dependency order by an iterative depth-first search, each once; a circular
  reference raises :class:`Circular` naming the cycle (Excel reports a cycle from the
  references whatever branch an ``IF`` takes).
- A result larger than 1x1 spills right and down from its cell unless a non-empty cell is in
  the way (``#SPILL!``); an array formula (``<f t="array" ref=...>``) fills its range. A read
  of an empty cell first evaluates the formulas that may spill into it (found statically).

The expression evaluation itself (:meth:`WorkbookGraph.eval`) is the interpreter's
(:mod:`aicapex.formula.interpreter`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from typing import Any

from openpyxl.utils.cell import get_column_letter

from aicapex.errors import AicapexError
from aicapex.formula.functions import FUNCTIONS
from aicapex.formula.parser import (
    MAX_COL,
    MAX_ROW,
    ArrayLit,
    BadRef,
    Binary,
    Call,
    Literal,
    Name,
    Node,
    Parsed,
    ParseError,
    Ref,
    Unary,
    parse,
    parse_area,
    parsed_from_tree,
    substitute,
)
from aicapex.formula.tables import TableIndex, UnresolvedTable
from aicapex.formula.values import MISSING, NOTSET, as_2d, err, to_serial
from aicapex.xlerrors import ERROR_CODES, XlError

__all__ = ["Circular", "Key", "Located", "Unsupported", "WorkbookGraph", "quote_sheet", "where"]

Key = tuple[str, int, int]


class Located(AicapexError):
    """An error whose message already names the cell (or defined name) at fault."""


class Circular(Located):
    """A circular reference."""


class Unsupported(Exception):
    """A formula the evaluator cannot compute; the message is the reason."""


def quote_sheet(title: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def where(key: Key) -> str:
    """``Sheet!B7`` for a (sheet, row, column) key."""
    return f"{quote_sheet(key[0])}!{get_column_letter(key[2])}{key[1]}"


def iter_defined_names(names: Any):
    """(name, formula text) pairs from openpyxl's DefinedNameDict (or a legacy list)."""
    items = names.items() if hasattr(names, "items") else ((dn.name, dn) for dn in names)
    for name, dn in items:
        text = getattr(dn, "attr_text", None) or getattr(dn, "value", None)
        if text:
            yield name, str(text)


#: Functions that read some argument's position, not its value (ROW, OFFSET's base...).
POSITION_ONLY = frozenset(n for n, f in FUNCTIONS.items() if any(f.ref_only(i) for i in range(5)))
_NODE_PROBLEMS = {",": "the union operator (A1,B1)", " ": "the intersection operator (A1 B1)"}


class WorkbookGraph:
    """Formula cells of one openpyxl workbook, their precedents and their values."""

    def __init__(self, wb: Any, udf_names: set[str]) -> None:
        self.wb = wb
        self.system = 1904 if getattr(wb, "epoch", None) and wb.epoch.year == 1904 else 1900
        self.udf_names = udf_names
        self.sheets: dict[str, Any] = {}
        self.titles: dict[str, str] = {}
        for ws in wb.worksheets:
            self.sheets[ws.title] = ws
            self.titles[ws.title.lower()] = ws.title
        self.sheet_order = {title: i for i, title in enumerate(self.sheets)}
        self.tables = TableIndex(wb)
        # workbook-scope and sheet-scope defined names
        self.names: dict[str, str] = {}
        for name, dn in iter_defined_names(wb.defined_names):
            self.names[name.lower()] = dn
        self.local_names: dict[tuple[str, str], str] = {}
        for ws in wb.worksheets:
            for name, dn in iter_defined_names(getattr(ws, "defined_names", None) or {}):
                self.local_names[(ws.title, name.lower())] = dn

        self.formulas: dict[Key, str] = {}  # formula text
        self.array_ref: dict[Key, tuple[int, int, int, int]] = {}  # array formula anchors
        self.array_member: dict[Key, Key] = {}
        self.by_col: dict[str, dict[int, list[int]]] = {}
        self.unsupported: dict[Key, str] = {}  # formula cells not computed, with the reason
        self.collect_formulas()

        self.values: dict[Key, Any] = {}  # evaluated formula cells (display value)
        self.spill_values: dict[Key, Any] = {}
        self.spill_owner: dict[Key, Key] = {}
        self.spill_area: dict[Key, tuple[int, int, int, int]] = {}
        self.on_stack: list[Key] = []
        self.on_stack_set: set[Key] = set()
        self.range_cache: dict[tuple, list[list[Any]]] = {}
        self.parsed_names: dict[str, Parsed | XlError] = {}
        self.name_stack: list[str] = []
        self.may_spill_memo: dict[tuple[int, str], bool] = {}
        self.pending_spill: dict[str, list[tuple[int, int]]] = {}  # per sheet, sorted (r, c)
        self.blind_reads: dict[Key, list[tuple[str, int, int, int, int]]] = {}
        self.prepared: dict[Key, Parsed] = {}
        self.dep_cache: dict[Key, list[Key]] = {}
        self.dep_refs: dict[int, tuple[Parsed, tuple[Ref, ...]]] = {}
        self.checked: dict[int, tuple[Parsed, str]] = {}
        self.fallback: Mapping[tuple[str, str], Any] = {}
        self.check_formulas()
        self.init_pending_spills()

    # -- discovery -------------------------------------------------------------------------
    def collect_formulas(self) -> None:
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
                    self.add_array(key, str(value.ref), str(text))
                elif isinstance(value, str):
                    attr = attrs.get(cell.coordinate) if isinstance(attrs, Mapping) else None
                    if attr and attr.get("t") == "array" and attr.get("ref"):
                        self.add_array(key, attr["ref"], value)
                    else:
                        self.formulas[key] = value
                else:
                    self.formulas[key] = ""
                    self.unsupported[key] = (
                        f"unsupported formula object {type(value).__name__} (data tables and "
                        "other special formulas cannot be evaluated)")
                cols.setdefault(c, []).append(r)
            for rows in cols.values():
                rows.sort()
            self.by_col[title] = cols

    def add_array(self, key: Key, ref: str, text: str) -> None:
        area = parse_area(ref.replace("$", "").split("!")[-1])
        self.formulas[key] = text
        if area is None or area[2] is None or area[3] is None:
            self.unsupported[key] = f"array formula with unreadable range {ref!r}"
            return
        r1, c1, r2, c2 = area
        self.array_ref[key] = (r1, c1, r2, c2)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != key[1:]:
                    self.array_member[(key[0], r, c)] = key

    def check_formulas(self) -> None:
        """Parse and check every formula now, recording all that cannot be computed."""
        for key in self.formulas:
            if key in self.unsupported:
                continue
            try:
                self.dep_cache[key] = self.deps(key)
            except Unsupported as exc:
                self.unsupported[key] = str(exc)

    def init_pending_spills(self) -> None:
        for key in self.formulas:
            if key in self.array_ref or key in self.unsupported:
                continue
            if self.may_spill(self.prepared[key].tree, key[0]):
                self.pending_spill.setdefault(key[0], []).append((key[1], key[2]))
        for lst in self.pending_spill.values():
            lst.sort()

    # -- parsing and static analysis ---------------------------------------------------------
    def prepare(self, key: Key) -> Parsed:
        """The checked tree of a formula cell, its structured references resolved."""
        parsed = self.prepared.get(key)
        if parsed is not None:
            return parsed
        text = self.formulas[key]
        try:
            parsed = parse(text)
        except ParseError as exc:
            raise Unsupported(f"cannot parse formula {text!r}: {exc}") from None
        if parsed.structs:
            replace: dict[int, Node] = {}
            for node in parsed.structs:
                try:
                    replace[id(node)] = self.tables.resolve(node, key)
                except UnresolvedTable as exc:
                    raise Unsupported(f"cannot evaluate formula {text!r}: {exc}") from None
            parsed = parsed_from_tree(substitute(parsed.tree, replace))
        self.check(parsed, text)
        self.prepared[key] = parsed
        return parsed

    def check(self, parsed: Parsed, text: str) -> None:
        """Raise :class:`Unsupported` unless every function and node can be evaluated
        (checked once per parsed formula: cells with the same text share it)."""
        hit = self.checked.get(id(parsed))
        if hit is not None and hit[0] is parsed:
            if hit[1]:
                raise Unsupported(hit[1])
            return
        try:
            self.check_tree(parsed, text)
        except Unsupported as exc:
            self.checked[id(parsed)] = (parsed, str(exc))
            raise
        self.checked[id(parsed)] = (parsed, "")

    def check_tree(self, parsed: Parsed, text: str) -> None:
        unknown: list[str] = []
        for call in parsed.calls:
            fn = FUNCTIONS.get(call.name)
            if fn is None:
                if call.name not in self.udf_names and call.name not in unknown:
                    unknown.append(call.name)
                continue
            n = len(call.args)
            if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
                raise Unsupported(f"{call.name} takes {fn.arity_text()} arguments, not {n}")
        if unknown:
            s = "s" if len(unknown) > 1 else ""
            raise Unsupported(f"unsupported function{s} {', '.join(unknown)}")
        for node in parsed.refused:
            t = type(node)
            if t is BadRef:
                raise Unsupported(f"cannot evaluate formula {text!r}: {node.kind} {node.text} "
                                  "is not supported")
            if t is Binary and node.op in _NODE_PROBLEMS:
                raise Unsupported(f"cannot evaluate formula {text!r}: "
                                  f"{_NODE_PROBLEMS[node.op]} is not supported")

    def may_spill(self, node: Node, title: str) -> bool:
        """Static, conservative: may this expression return an array larger than 1x1?"""
        memo = self.may_spill_memo.get((id(node), title))
        if memo is not None:
            return memo
        t = type(node)
        if t is Ref:
            out = not node.single
        elif t is Name:
            parsed = self.name_parsed(node, title)
            out = isinstance(parsed, Parsed) and self.may_spill(parsed.tree, title)
        elif t is ArrayLit:
            out = len(node.rows) > 1 or len(node.rows[0]) > 1
        elif t is Unary:
            out = self.may_spill(node.operand, title)
        elif t is Binary:
            out = self.may_spill(node.left, title) or self.may_spill(node.right, title)
        elif t is Call:
            fn = FUNCTIONS.get(node.name)
            if fn is None:
                out = True
            elif node.name == "INDEX":
                out = self.index_may_spill(node, title)
            else:
                out = bool(fn.spill([self.may_spill(a, title) for a in node.args]))
        else:
            out = False
        self.may_spill_memo[(id(node), title)] = out
        return out

    def index_may_spill(self, node: Call, title: str) -> bool:
        """INDEX returns a whole row/column for a 0 position: flag it unless that cannot be."""
        array, positions = node.args[0], node.args[1:]
        if not self.may_spill(array, title):
            return False
        if any(self.may_spill(p, title) for p in positions):
            return True

        def never_zero(p: Node) -> bool:  # a positive literal, or MATCH (1-based or #N/A)
            if type(p) is Literal:
                return type(p.value) is float and p.value >= 1
            return type(p) is Call and p.name == "MATCH"

        one_d = type(array) is Ref and array.r2 is not None and array.c2 is not None and (
            array.r1 == array.r2 or array.c1 == array.c2)
        if len(positions) == 1:
            return not (one_d and never_zero(positions[0]))
        return not all(never_zero(p) for p in positions)

    def name_parsed(self, node: Name, title: str) -> Parsed | XlError:
        lname = node.name.lower()
        scope = self.titles.get(node.sheet.lower()) if node.sheet else title
        text = self.local_names.get((scope, lname)) if scope else None
        cache_key = f"{scope}\x00{lname}" if text is not None else lname
        if text is None:
            text = self.names.get(lname)
        if text is None:
            return err("#NAME?", f"unknown name {node.name!r}")
        parsed = self.parsed_names.get(cache_key)
        if parsed is None:
            try:
                parsed = parse(text)
                if parsed.structs:
                    replace = {id(s): self.tables.resolve(s, None) for s in parsed.structs}
                    parsed = parsed_from_tree(substitute(parsed.tree, replace))
                self.check(parsed, text)
            except (ParseError, UnresolvedTable) as exc:
                raise Unsupported(f"defined name {node.name}: cannot read {text!r}: {exc}") \
                    from None
            except Unsupported as exc:
                raise Unsupported(f"defined name {node.name} ({text}): {exc}") from None
            self.parsed_names[cache_key] = parsed
        return parsed

    def sheet_title(self, sheet: str | None, context: str) -> str | None:
        if sheet is None:
            return context
        return self.titles.get(sheet.lower())

    def deps(self, key: Key) -> list[Key]:
        """The formula cells ``key`` reads (raises :class:`Unsupported`)."""
        hit = self.dep_cache.pop(key, None)
        if hit is not None:
            return hit
        if key in self.unsupported:
            return []
        out: list[Key] = []
        self.deps_of(self.prepare(key), key[0], out, set())
        return out

    def value_refs(self, parsed: Parsed) -> tuple[Ref, ...]:
        """The references whose values a formula reads (not ``ROW(A1)``'s position-only one)."""
        hit = self.dep_refs.get(id(parsed))
        if hit is not None and hit[0] is parsed:
            return hit[1]
        skip: set[int] = set()
        for call in parsed.calls:
            if call.name in POSITION_ONLY:
                fn = FUNCTIONS[call.name]
                skip.update(id(a) for i, a in enumerate(call.args)
                            if type(a) is Ref and fn.ref_only(i))
        refs = tuple(r for r in parsed.refs if id(r) not in skip) if skip else parsed.refs
        self.dep_refs[id(parsed)] = (parsed, refs)
        return refs

    def deps_of(self, parsed: Parsed, title: str, out: list[Key], names_seen: set) -> None:
        for ref in self.value_refs(parsed):
            t = self.sheet_title(ref.sheet, title)
            if t is not None:
                self.formula_cells_in(t, ref, out)
        for name in parsed.names:
            np_ = self.name_parsed(name, title)
            if isinstance(np_, Parsed):
                marker = (name.name.lower(), name.sheet, title)
                if marker in names_seen:
                    continue
                names_seen.add(marker)
                self.deps_of(np_, title, out, names_seen)

    def formula_cells_in(self, title: str, ref: Ref, out: list[Key]) -> None:
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
    def ensure(self, key: Key) -> None:
        """Evaluate ``key`` after its (not yet evaluated) precedents, without recursion."""
        if key in self.values:
            return
        if key in self.on_stack_set:
            self.raise_cycle(self.on_stack[self.on_stack.index(key):] + [key])
        visiting = {key}
        path: list[Key] = [key]
        stack = [iter(self.deps(key))]
        order: list[Key] = []
        done: set[Key] = set()
        while stack:
            for dep in stack[-1]:
                if dep in self.values or dep in done:
                    continue
                if dep in visiting:
                    self.raise_cycle(path[path.index(dep):] + [dep])
                if dep in self.on_stack_set:
                    self.raise_cycle(self.on_stack[self.on_stack.index(dep):] + path + [dep])
                visiting.add(dep)
                path.append(dep)
                stack.append(iter(self.deps(dep)))
                break
            else:
                stack.pop()
                node = path.pop()
                visiting.discard(node)
                done.add(node)
                order.append(node)
        for k in order:
            if k not in self.values:
                self.evaluate_cell(k)

    def raise_cycle(self, cycle: list[Key]) -> None:
        raise Circular("circular reference: " + " -> ".join(where(k) for k in cycle))

    # -- cell evaluation -------------------------------------------------------------------
    def eval(self, node: Node, title: str) -> Any:  # pragma: no cover - the interpreter's
        raise NotImplementedError

    def kept_value(self, key: Key) -> Any:
        """The cached value kept for a formula cell that is not recomputed."""
        coord = f"{get_column_letter(key[2])}{key[1]}"
        v = self.fallback.get((key[0], coord), NOTSET)
        if v is NOTSET:
            anchor = self.array_member.get(key, key)
            reason = self.unsupported.get(anchor, "")
            return XlError("#N/A", f"not recomputed ({reason}) and no cached value", where(key))
        if type(v) is str and v in ERROR_CODES:
            return XlError(v, "cached value of a formula that is not recomputed", where(key))
        if v is None or type(v) in (str, float, int, bool, XlError):
            return v
        try:
            return to_serial(v, self.wb.epoch)
        except (TypeError, ValueError, AttributeError):
            return str(v)

    def evaluate_cell(self, key: Key) -> None:
        title = key[0]
        if key in self.unsupported:
            self.values[key] = self.kept_value(key)
            area = self.array_ref.get(key)
            if area is not None:
                for r in range(area[0], area[2] + 1):
                    for c in range(area[1], area[3] + 1):
                        if (title, r, c) != key:
                            self.spill_values[(title, r, c)] = self.kept_value((title, r, c))
            self.done_pending(key)
            return
        parsed = self.prepare(key)
        self.on_stack.append(key)
        self.on_stack_set.add(key)
        try:
            result = self.eval(parsed.tree, title)
        except Located:
            raise
        except AicapexError as exc:
            raise Located(f"{where(key)}: {exc}") from None
        finally:
            self.on_stack.pop()
            self.on_stack_set.discard(key)
        if type(result) is list and len(result) == 1 and len(result[0]) == 1:
            result = result[0][0]
        if key in self.array_ref:
            value = self.fill_array_formula(key, result)
        elif type(result) is list:
            value = self.spill(key, result)
        else:
            value = self.final_scalar(result, key)
        self.values[key] = value
        self.done_pending(key)

    def done_pending(self, key: Key) -> None:
        pend = self.pending_spill.get(key[0])
        if pend:
            pos = (key[1], key[2])
            i = bisect_left(pend, pos)
            if i < len(pend) and pend[i] == pos:
                del pend[i]

    def final_scalar(self, v: Any, key: Key) -> Any:
        if v is None or v is MISSING:
            return 0.0
        if type(v) is XlError and v.origin is None:
            return XlError(str(v), v.reason, where(key))
        return v

    def spill(self, key: Key, arr: list[list[Any]]) -> Any:
        title, r0, c0 = key
        h, w = len(arr), len(arr[0])
        r2, c2 = r0 + h - 1, c0 + w - 1
        area = f"{get_column_letter(c0)}{r0}:{get_column_letter(min(c2, MAX_COL))}{min(r2, MAX_ROW)}"
        if r2 > MAX_ROW or c2 > MAX_COL:
            return XlError("#SPILL!", f"spill range {area} runs off the sheet", where(key))
        cells = self.sheets[title]._cells
        for r in range(r0, r2 + 1):
            for c in range(c0, c2 + 1):
                if r == r0 and c == c0:
                    continue
                k = (title, r, c)
                cell = cells.get((r, c))
                if (cell is not None and cell._value is not None) or k in self.array_member \
                        or k in self.spill_owner:
                    return XlError("#SPILL!", f"spill range {area} is blocked by {where(k)}",
                                   where(key))
        for (t, br1, bc1, br2, bc2) in self.blind_reads.pop(key, ()):
            if t == title and br1 <= r2 and r0 <= br2 and bc1 <= c2 and c0 <= bc2:
                raise Circular(f"circular reference: {where(key)} spills into {area}, which "
                               "its own precedents read")
        for i, row in enumerate(arr):
            for j, v in enumerate(row):
                if i == 0 and j == 0:
                    continue
                k = (title, r0 + i, c0 + j)
                self.spill_owner[k] = key
                self.spill_values[k] = self.final_scalar(v, k)
        self.spill_area[key] = (r0, c0, r2, c2)
        return self.final_scalar(arr[0][0], key)

    def fill_array_formula(self, key: Key, result: Any) -> Any:
        title = key[0]
        r1, c1, r2, c2 = self.array_ref[key]
        arr = as_2d(result)
        h, w = len(arr), len(arr[0])
        anchor_value = None
        for i in range(r2 - r1 + 1):
            for j in range(c2 - c1 + 1):
                # Excel repeats a single row/column over the range and pads the rest with #N/A
                ii = 0 if h == 1 else i
                jj = 0 if w == 1 else j
                v = arr[ii][jj] if ii < h and jj < w else err("#N/A", "outside the array result")
                k = (title, r1 + i, c1 + j)
                if k == key:
                    anchor_value = v
                else:
                    self.spill_values[k] = self.final_scalar(v, k)
        return self.final_scalar(anchor_value, key)

    # -- reading cells ----------------------------------------------------------------------
    def cell_value(self, title: str, r: int, c: int, resolve: bool = True) -> Any:
        key = (title, r, c)
        v = self.values.get(key, NOTSET)
        if v is not NOTSET:
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
            return self.plain(cell)
        v = self.spill_values.get(key, NOTSET)
        if v is not NOTSET:
            return v
        if resolve and self.pending_spill.get(title):
            self.resolve_spills(title, r, c, r, c)
            return self.spill_values.get(key)
        return None

    def plain(self, cell: Any) -> Any:
        v = cell._value
        t = type(v)
        if t is int or t is float or t is bool:
            return v
        if t is str:
            if cell.data_type == "e" and v in ERROR_CODES:
                return XlError(v, "error value stored in the cell")
            return v
        if hasattr(v, "year") or hasattr(v, "days") or hasattr(v, "hour"):
            return to_serial(v, self.wb.epoch)
        if isinstance(v, (int, float)):
            return v
        return str(v)  # rich text and other objects read as their text

    def resolve_spills(self, title: str, r1: int, c1: int, r2: int, c2: int) -> None:
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
            except Circular:
                self.blind_reads.setdefault(key, []).append((title, r1, c1, r2, c2))

    def area_value(self, title: str, r1: int, c1: int, r2: int | None,
                   c2: int | None) -> list[list[Any]]:
        """The values of a rectangle (``None``: to the sheet's last row/column)."""
        ws = self.sheets[title]
        r2 = r2 if r2 is not None else max(ws.max_row, r1)
        c2 = c2 if c2 is not None else max(ws.max_column, c1)
        ck = (title, r1, c1, r2, c2)
        arr = self.range_cache.get(ck)
        if arr is not None:
            return arr
        if self.pending_spill.get(title):
            self.resolve_spills(title, r1, c1, r2, c2)
        cv = self.cell_value
        arr = [[cv(title, r, c, False) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        self.range_cache[ck] = arr
        return arr
