"""Evaluate every formula of an openpyxl workbook: :func:`evaluate_workbook`.

The interpreter walks the expression trees of :mod:`aicapex.formula.parser` over the
dependency graph of :mod:`aicapex.formula.graph`, with Excel's value semantics
(:mod:`aicapex.formula.values`), the native functions of
:mod:`aicapex.formula.functions` and custom functions through :mod:`aicapex.formula.udf`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils.cell import get_column_letter

from aicapex.errors import AicapexError
from aicapex.formula.criteria import RangeIndex
from aicapex.formula.functions import FUNCTIONS
from aicapex.formula.functions.registry import CONTEXT, LAZY, VALUES
from aicapex.formula.graph import Circular, Key, WorkbookGraph, quote_sheet
from aicapex.formula.parser import (
    MAX_COL,
    MAX_ROW,
    ArrayLit,
    BadRef,
    Binary,
    Call,
    Literal,
    Missing,
    Name,
    Node,
    Parsed,
    Ref,
    Unary,
    normalize_function_name,
)
from aicapex.formula.udf import call_key, udf_argument, udf_result
from aicapex.formula.values import (
    MISSING,
    binary_scalar,
    broadcast,
    date_to_serial,
    err,
    unary_scalar,
    unwrap,
)
from aicapex.xlerrors import XlError

__all__ = [
    "CellError",
    "EvaluationResult",
    "UnsupportedCell",
    "UnsupportedFormulas",
    "evaluate_workbook",
]

#: How many cells an :class:`UnsupportedFormulas` message lists before "... and N more".
LISTED = 20


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
        where_ = f" (from {self.origin})" if self.origin and self.origin != self.ref else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.ref} {self.code}{why}{where_}"

    @property
    def ref(self) -> str:
        return f"{quote_sheet(self.sheet)}!{self.coord}"


@dataclass(frozen=True)
class UnsupportedCell:
    """A formula cell the evaluator cannot compute, and why."""

    sheet: str
    coord: str
    reason: str

    def __str__(self) -> str:
        return f"{quote_sheet(self.sheet)}!{self.coord}: {' '.join(self.reason.split())}"


class UnsupportedFormulas(AicapexError):
    """Formulas that cannot be evaluated, all of them (``cells``), in one message."""

    def __init__(self, cells: list[UnsupportedCell]) -> None:
        self.cells = cells
        shown = "; ".join(str(c) for c in cells[:LISTED])
        more = f"; ... and {len(cells) - LISTED} more" if len(cells) > LISTED else ""
        n = len(cells)
        super().__init__(f"{n} formula{'s' if n != 1 else ''} cannot be evaluated: {shown}{more}")


@dataclass
class EvaluationResult:
    """What :func:`evaluate_workbook` computed.

    Attributes
    ----------
    values : dict
        ``(sheet_title, coord) -> value`` for every formula cell (for a spilling formula, its
        top-left value; for a blocked spill, ``#SPILL!``; for a formula that could not be
        evaluated, the cached value it keeps).
    spills : dict
        ``(sheet_title, coord) -> value`` for the other cells of spilled arrays and of array
        formula ranges; these cells hold no formula, so the caller writes plain values.
    errors : list of CellError
        Formula and spill cells whose value is an error, with the reason where known.
    not_recomputed : list of UnsupportedCell
        Formula cells that kept their cached value (``keep_unsupported=True``).
    """

    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    spills: dict[tuple[str, str], Any] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)
    not_recomputed: list[UnsupportedCell] = field(default_factory=list)

    def get(self, sheet: str, coord: str, default: Any = None) -> Any:
        """The value of a formula or spill cell, or ``default``."""
        key = (sheet, coord.replace("$", "").upper())
        if key in self.values:
            return self.values[key]
        return self.spills.get(key, default)


class Interpreter(WorkbookGraph):
    """Evaluation state for one workbook; functions receive it as their context."""

    def __init__(self, wb: Any, functions: Mapping[str, Callable[..., Any]] | None,
                 progress: Callable[[int, int], None] | None, today: dt.date | None) -> None:
        self.udfs: dict[str, Callable[..., Any]] = {}
        for name, fn in (functions or {}).items():
            norm = normalize_function_name(name)
            if norm not in FUNCTIONS:  # a native function wins over a custom one
                self.udfs[norm] = fn
        super().__init__(wb, set(self.udfs))
        self.progress = progress
        self.udf_cache: dict[tuple, Any] = {}
        self.index = RangeIndex()
        day = today or dt.date.today()
        self.today = float(date_to_serial(day.year, day.month, day.day, self.system))

    @property
    def current(self) -> Key:
        """The formula cell being evaluated."""
        return self.on_stack[-1]

    # -- expression evaluation --------------------------------------------------------------
    def eval(self, node: Node, title: str) -> Any:
        t = type(node)
        if t is Literal:
            return node.value
        if t is Ref:
            return self.eval_ref(node, title, False)
        if t is Binary:
            a = self.eval(node.left, title)
            b = self.eval(node.right, title)
            if type(a) is list or type(b) is list:
                op = node.op
                return broadcast(lambda x, y: binary_scalar(op, x, y), [a, b])
            return binary_scalar(node.op, a, b)
        if t is Unary:
            a = self.eval(node.operand, title)
            if type(a) is list:
                op = node.op
                return broadcast(lambda x: unary_scalar(op, x), [a])
            return unary_scalar(node.op, a)
        if t is Call:
            return self.eval_call(node, title)
        if t is Name:
            return self.eval_name(node, title, False)
        if t is Missing:
            return MISSING
        if t is ArrayLit:
            return [[unwrap(self.eval(x, title)) for x in row] for row in node.rows]
        if t is BadRef and node.error is not None:
            return node.error
        raise AssertionError(f"unexpected node {t.__name__}")  # pragma: no cover - checked

    def eval_ref(self, node: Ref, title: str, as_range: bool) -> Any:
        t = self.sheet_title(node.sheet, title) if node.sheet is not None else title
        if t is None:
            return err("#REF!", f"no sheet named {node.sheet!r}")
        if node.single and not as_range:
            return self.cell_value(t, node.r1, node.c1)
        return self.area_value(t, node.r1, node.c1, node.r2, node.c2)

    def eval_name(self, node: Name, title: str, as_range: bool) -> Any:
        parsed = self.name_parsed(node, title)
        if type(parsed) is XlError:
            return parsed
        lname = node.name.lower()
        if lname in self.name_stack:
            self.raise_name_cycle(node)
        self.name_stack.append(lname)
        try:
            tree = parsed.tree
            if as_range and type(tree) is Ref:
                return self.eval_ref(tree, title, True)
            if as_range and type(tree) is Name:
                return self.eval_name(tree, title, True)
            return self.eval(tree, title)
        finally:
            self.name_stack.pop()

    def raise_name_cycle(self, node: Name) -> None:
        raise Circular(f"circular reference: defined name {node.name} refers to itself")

    def eval_arg(self, node: Node, title: str, as_range: bool) -> Any:
        if as_range:
            if type(node) is Ref:
                return self.eval_ref(node, title, True)
            if type(node) is Name:
                return self.eval_name(node, title, True)
        return self.eval(node, title)

    def eval_call(self, node: Call, title: str) -> Any:
        fn = FUNCTIONS.get(node.name)
        if fn is None:
            return self.call_udf(node, title)
        kind = fn.kind
        if kind == LAZY:
            return fn.impl(self, node.args, title)
        ref_args = fn.ref_args
        args = [self.eval_arg(a, title, ref_args(i)) for i, a in enumerate(node.args)]
        if kind == VALUES:
            return fn.impl(*args)
        assert kind == CONTEXT
        return fn.impl(self, *args)

    def call_udf(self, node: Call, title: str) -> Any:
        fn = self.udfs[node.name]
        args = [udf_argument(self.eval(a, title)) for a in node.args]
        # Custom functions are pure for the length of one evaluation (non-volatile, same data),
        # so identical calls -- e.g. one CPX_FINANCING table indexed by hundreds of cells --
        # are computed once.
        key = call_key(node.name, args)
        if key is not None and key in self.udf_cache:
            return self.udf_cache[key]
        try:
            result = fn(*args)
        except Exception as exc:  # noqa: BLE001 - Excel shows #VALUE! when a UDF raises
            msg = " ".join(str(exc).split()) or type(exc).__name__
            return err("#VALUE!", f"{node.name} raised {type(exc).__name__}: {msg}")
        out = udf_result(result, self.wb.epoch)
        if key is not None:
            self.udf_cache[key] = out
        return out

    # -- references for ROW, COLUMN(S), ROWS, OFFSET -----------------------------------------
    def reference(self, node: Node, title: str, quiet: bool = False) -> Any:
        """``(sheet, r1, c1, r2, c2)`` of a reference argument (whole columns/rows to the
        sheet's edge), an error value, or with ``quiet`` None when it is no reference."""
        seen = 0
        while type(node) is Name and seen < 20:
            parsed = self.name_parsed(node, title)
            if type(parsed) is XlError:
                return parsed
            assert isinstance(parsed, Parsed)
            node = parsed.tree
            seen += 1
        if type(node) is BadRef and node.error is not None:
            return node.error
        if type(node) is not Ref:
            if quiet:
                return None
            return err("#VALUE!", "a reference (cell or range) is needed here")
        t = self.sheet_title(node.sheet, title) if node.sheet is not None else title
        if t is None:
            return err("#REF!", f"no sheet named {node.sheet!r}")
        r2 = node.r2 if node.r2 is not None else MAX_ROW
        c2 = node.c2 if node.c2 is not None else MAX_COL
        return t, node.r1, node.c1, r2, c2

    # -- driver -----------------------------------------------------------------------------
    def run(self, cached: Mapping[tuple[str, str], Any] | None, keep: bool) -> EvaluationResult:
        letters: dict[int, str] = {}

        def coord(r: int, c: int) -> str:
            col = letters.get(c)
            if col is None:
                col = letters[c] = get_column_letter(c)
            return f"{col}{r}"

        def sort_key(k: Key) -> tuple[int, int, int]:
            return self.sheet_order[k[0]], k[1], k[2]

        unsupported = [UnsupportedCell(k[0], coord(k[1], k[2]), self.unsupported[k])
                       for k in sorted(self.unsupported, key=sort_key)]
        if unsupported and not keep:
            raise UnsupportedFormulas(unsupported)
        self.fallback = cached or {}
        order = sorted(self.formulas, key=sort_key)
        total = len(order)
        step = max(1, total // 100)
        for n, key in enumerate(order, 1):
            self.ensure(key)
            if self.progress is not None and (n % step == 0 or n == total):
                self.progress(n, total)
        if self.progress is not None and total == 0:
            self.progress(0, 0)
        result = EvaluationResult(not_recomputed=unsupported)
        for key in order:
            v = self.values[key]
            result.values[(key[0], coord(key[1], key[2]))] = v
            if type(v) is XlError:
                result.errors.append(CellError(key[0], coord(key[1], key[2]), str(v), v.reason,
                                               v.origin))
        for key in sorted(self.spill_values, key=sort_key):
            v = self.spill_values[key]
            result.spills[(key[0], coord(key[1], key[2]))] = v
            if type(v) is XlError:
                result.errors.append(CellError(key[0], coord(key[1], key[2]), str(v), v.reason,
                                               v.origin, in_spill=True))
        return result


def evaluate_workbook(
    wb: Any,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    today: dt.date | None = None,
    keep_unsupported: bool = False,
    cached: Mapping[tuple[str, str], Any] | None = None,
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
    today : datetime.date, optional
        What ``TODAY()`` returns (default: the system date); the refresh passes its date.
    keep_unsupported : bool, default False
        False: formulas that cannot be evaluated raise :class:`UnsupportedFormulas` listing
        every one of them. True: they keep their value from ``cached`` (an error value
        saying so when there is none), the other formulas use it, and
        ``EvaluationResult.not_recomputed`` lists them.
    cached : mapping, optional
        ``(sheet, coord) -> value``: the workbook's cached values (dates as datetimes,
        errors as their code).

    Returns
    -------
    EvaluationResult
        ``values`` for formula cells, ``spills`` for spilled/array-range cells, ``errors``.

    Raises
    ------
    UnsupportedFormulas
        Without ``keep_unsupported``: every formula that cannot be evaluated, with why.
    AicapexError
        For a circular reference, naming the cycle.

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
    >>> ws["B3"] = "=XLOOKUP(1, A1:A2, A1:A2)"
    >>> evaluate_workbook(wb)
    Traceback (most recent call last):
    ...
    aicapex.formula.interpreter.UnsupportedFormulas: 1 formula cannot be evaluated: Sheet!B3: unsupported function XLOOKUP
    """
    return Interpreter(wb, functions, progress, today).run(cached, keep_unsupported)

