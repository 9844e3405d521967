"""Excel-facing plumbing shared by every CPX_ function: argument conversion, result shaping
and the decorator that turns any failure into an Excel error value with a reason.

The same code serves classic desktop Excel (xlwings add-in / standalone VBA), xlwings Server
and xlwings Lite (Office.js), and the headless refresh: arguments arrive as Excel shapes
(a scalar for one cell, a list of lists for a range, ``None`` for a blank), results leave as
a scalar or a 2-D list.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from aicapex.errors import AicapexError, ArgumentError, DataError
from aicapex.xlerrors import XlError, error_of

log = logging.getLogger("aicapex.udfs")

CATEGORY = "AI Capex"
#: Cells beyond this make a call refuse with #VALUE! rather than hang Excel.
MAX_CELLS = 1_000_000

Cell = Any
Grid = list[list[Cell]]


# -- argument conversion -------------------------------------------------------------------------


_SEQUENCES = (list, tuple, np.ndarray)


def grid(arg: Cell, name: str) -> Grid:
    """Any Excel argument as a rectangular 2-D list (a scalar is 1×1; ``None`` is 1×1 blank)."""
    if isinstance(arg, np.ndarray):
        arg = arg.tolist()
    if not isinstance(arg, (list, tuple)):
        return [[arg]]
    if len(arg) == 0:
        return [[None]]
    kinds = {type(r) for r in arg}
    if kinds == {list}:
        rows = arg  # the usual shape: read, never modified
    elif all(issubclass(k, _SEQUENCES) for k in kinds):
        rows = [list(r) for r in arg]
    elif any(issubclass(k, _SEQUENCES) for k in kinds):
        raise ArgumentError(f"{name}: ragged range (mixes cells and rows)")
    else:
        rows = [list(arg)]
    widths = {len(r) for r in rows}
    if len(widths) != 1 or 0 in widths:
        raise ArgumentError(f"{name}: ragged range (rows of different lengths)")
    width = widths.pop()
    if len(rows) * width > MAX_CELLS:
        raise ArgumentError(f"{name}: {len(rows) * width:,} cells is more than {MAX_CELLS:,}")
    return rows


@dataclass
class Vector:
    """A numeric row or column read from Excel: values (NaN = missing) plus per-cell errors."""

    values: np.ndarray
    errors: list[XlError | None]
    orientation: str  # "row", "column" or "cell"

    def __len__(self) -> int:
        return len(self.values)


def _number(cell: Cell, name: str) -> tuple[float, XlError | None]:
    err = error_of(cell)
    if err is not None:
        return math.nan, XlError(err, err.reason or f"{name}: input is {err}")
    if cell is None or (isinstance(cell, str) and cell.strip() == ""):
        return math.nan, None  # a blank cell is a missing value
    if isinstance(cell, bool):
        return math.nan, XlError("#VALUE!", f"{name}: TRUE/FALSE where a number is expected")
    if isinstance(cell, (int, float, np.integer, np.floating)):
        x = float(cell)
        if math.isnan(x):
            return math.nan, None
        if math.isinf(x):
            return math.nan, XlError("#NUM!", f"{name}: infinite value")
        return x, None
    if isinstance(cell, str):
        try:
            float(cell.replace(",", ""))
        except ValueError:
            return math.nan, XlError("#VALUE!", f"{name}: text {cell[:30]!r} where a number is expected")
        return math.nan, XlError("#VALUE!", f"{name}: number stored as text ({cell[:30]!r})")
    if isinstance(cell, (dt.date, dt.datetime)):
        return math.nan, XlError("#VALUE!", f"{name}: a date where a number is expected")
    return math.nan, XlError("#VALUE!", f"{name}: unsupported value {type(cell).__name__}")


def vector(arg: Cell, name: str) -> Vector:
    """A single row or column of numbers; a 2-D block is refused with a clear message."""
    rows = grid(arg, name)
    n_rows, n_cols = len(rows), len(rows[0])
    if n_rows > 1 and n_cols > 1:
        raise ArgumentError(f"{name}: expected a single row or column, got {n_rows}×{n_cols}")
    flat = rows[0] if n_rows == 1 else [r[0] for r in rows]
    orientation = "cell" if len(flat) == 1 else ("row" if n_rows == 1 else "column")
    if all(type(c) is float or type(c) is int or c is None for c in flat):
        # Fast path: plain numbers and blanks (the usual case); infinities still need their
        # #NUM! reason, so they take the cell-by-cell path below.
        values = np.array([math.nan if c is None else c for c in flat], dtype=float)
        if not np.isinf(values).any():
            return Vector(values, [None] * len(flat), orientation)
    values = np.empty(len(flat))
    errors: list[XlError | None] = []
    for i, cell in enumerate(flat):
        values[i], err = _number(cell, name)
        errors.append(err)
    return Vector(values, errors, orientation)


def scalar_number(arg: Cell, name: str, default: float | None = None) -> float:
    """One number (an optional argument falls back to ``default``)."""
    rows = grid(arg, name)
    if len(rows) * len(rows[0]) != 1:
        raise ArgumentError(f"{name}: expected one cell, got a {len(rows)}×{len(rows[0])} range")
    cell = rows[0][0]
    if (cell is None or cell == "") and default is not None:
        return float(default)
    value, err = _number(cell, name)
    if err is not None:
        raise ArgumentError(err.reason or f"{name}: {err}")
    if math.isnan(value):
        raise ArgumentError(f"{name}: a number is required")
    return value


def optional_number(arg: Cell, name: str) -> float | None:
    rows = grid(arg, name)
    cell = rows[0][0] if len(rows) * len(rows[0]) == 1 else rows
    if cell is None or cell == "":
        return None
    return scalar_number(arg, name)


def text(arg: Cell, name: str, default: str | None = None) -> str:
    rows = grid(arg, name)
    if len(rows) * len(rows[0]) != 1:
        raise ArgumentError(f"{name}: expected one cell, got a {len(rows)}×{len(rows[0])} range")
    cell = rows[0][0]
    if error_of(cell) is not None:
        raise ArgumentError(f"{name}: is the error value {cell}")
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        if default is not None:
            return default
        raise ArgumentError(f"{name}: required")
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def text_list(arg: Cell, name: str) -> list[str]:
    """Non-blank cells of a range, or a comma-separated string, as a list of strings."""
    rows = grid(arg, name)
    out: list[str] = []
    for row in rows:
        for cell in row:
            if error_of(cell) is not None:
                raise ArgumentError(f"{name}: contains the error value {cell}")
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue
            out += [p.strip() for p in str(cell).split(",") if p.strip()]
    if not out:
        raise ArgumentError(f"{name}: no values given")
    return out


def flag(arg: Cell, name: str, default: bool) -> bool:
    rows = grid(arg, name)
    cell = rows[0][0]
    if cell is None or cell == "":
        return default
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, (int, float)):
        return bool(cell)
    if isinstance(cell, str) and cell.strip().upper() in ("TRUE", "FALSE"):
        return cell.strip().upper() == "TRUE"
    raise ArgumentError(f"{name}: expected TRUE or FALSE, got {cell!r}")


def year(arg: Cell, name: str) -> int | None:
    value = optional_number(arg, name)
    if value is None:
        return None
    if value != int(value) or not 1900 <= value <= 2200:
        raise ArgumentError(f"{name}: {value:g} is not a fiscal year")
    return int(value)


# -- argument helpers for functions that need complete inputs ------------------------------------


class Propagate(Exception):  # noqa: N818 - a control-flow signal, not an error condition
    """Carry an Excel error (an input's own error, or a missing input) out of argument reading;
    :func:`excel_errors` returns it as the cell's value."""

    def __init__(self, error: XlError) -> None:
        super().__init__(error.reason)
        self.error = error


def is_blank(arg: Any) -> bool:
    """True for an omitted argument or a single blank cell."""
    rows = grid(arg, "argument")
    if len(rows) * len(rows[0]) != 1:
        return False
    cell = rows[0][0]
    return cell is None or (isinstance(cell, str) and not cell.strip())


def number(arg: Any, name: str, default: float | None = None) -> float:
    """One number; an input error propagates, a blank is ``default`` or ``#N/A`` "missing"."""
    if default is not None and is_blank(arg):
        return float(default)
    v = vector(arg, name)
    if len(v) != 1:
        raise ArgumentError(f"{name}: expected one cell, got {len(v)} cells")
    if v.errors[0] is not None:
        raise Propagate(v.errors[0])
    if math.isnan(v.values[0]):
        raise Propagate(XlError("#N/A", f"missing {name}"))
    return float(v.values[0])


def optional_vector(arg: Any, name: str, default: float) -> Vector:
    """A row or column of numbers; an omitted argument or blank cell is ``default``."""
    if is_blank(arg):
        return Vector(np.array([float(default)]), [None], "cell")
    return vector(arg, name)


def complete(arg: Any, name: str) -> np.ndarray:
    """Every cell of a row or column, none blank; an input error propagates."""
    v = vector(arg, name)
    err = next((e for e in v.errors if e is not None), None)
    if err is not None:
        raise Propagate(err)
    if np.isnan(v.values).any():
        raise Propagate(XlError("#N/A", f"missing {name} (blank cell)"))
    return v.values


# -- element-wise results ------------------------------------------------------------------------


def align(*vectors: Vector, names: Sequence[str]) -> int:
    """Common length of the vectors (1-cell vectors broadcast); mismatches are refused."""
    lengths = {len(v) for v in vectors if len(v) != 1}
    if len(lengths) > 1:
        sizes = ", ".join(f"{n} {len(v)}" for n, v in zip(names, vectors, strict=True))
        raise ArgumentError(f"ranges differ in length ({sizes})")
    return lengths.pop() if lengths else 1


def _at(v: Vector, i: int) -> tuple[float, XlError | None]:
    j = 0 if len(v) == 1 else i
    return v.values[j], v.errors[j]


def elementwise(
    func: Callable[..., Any],
    args: Sequence[Vector],
    names: Sequence[str],
    nan_reason: Callable[[int], XlError] | None = None,
) -> Any:
    """Apply an engine function to aligned vectors and shape the result like the inputs.

    Per cell: an error passed in is passed on; a missing input gives ``#N/A``; a NaN result
    with all inputs present takes ``nan_reason(i)`` (default ``#DIV/0!``, a zero denominator).
    """
    n = align(*args, names=names)
    full = [np.broadcast_to(a.values, (n,)) if len(a) == 1 else a.values for a in args]
    result = np.asarray(func(*full), dtype=float).reshape(-1)
    if result.size == 1 and n > 1:
        result = np.repeat(result, n)
    orientation = next((a.orientation for a in args if a.orientation != "cell"), "cell")
    out: list[Any] = result.tolist()
    # Only cells with an input error, a missing input or a non-finite result need a look of
    # their own; the rest (usually nearly all) are plain numbers already.
    bad = ~np.isfinite(result)
    for a in args:
        bad |= np.isnan(a.values) if len(a) == n else bool(np.isnan(a.values[0]))
        if any(e is not None for e in a.errors):
            flags = np.array([e is not None for e in a.errors])
            bad |= flags if len(a) == n else bool(flags[0])
    for i in np.flatnonzero(bad).tolist():
        cells = [_at(a, i) for a in args]
        err = next((e for _, e in cells if e is not None), None)
        if err is not None:
            out[i] = err
        elif any(math.isnan(x) for x, _ in cells):
            missing = [nm for nm, (x, _) in zip(names, cells, strict=True) if math.isnan(x)]
            out[i] = XlError("#N/A", f"missing {', '.join(missing)}")
        elif math.isnan(result[i]):
            out[i] = nan_reason(i) if nan_reason else XlError("#DIV/0!", f"{names[-1]} is zero")
        # else: an infinite result (overflow) stays a float; excel_errors makes it #NUM!
    return shape(out, orientation)


def shape(values: list[Any], orientation: str) -> Any:
    """A flat result as Excel expects it: one cell → scalar; a row → 1×N; a column → N×1."""
    if len(values) == 1 and orientation == "cell":
        return values[0]
    if orientation == "row":
        return [values]
    return [[v] for v in values]


def table(header: Sequence[str] | None, rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """A 2-D table with an optional header row; NaN becomes ``#N/A`` with a reason."""
    out: list[list[Any]] = [list(header)] if header is not None else []
    for row in rows:
        out.append([_cell_out(v) for v in row])
    if not out:
        return [[XlError("#N/A", "no data for these arguments")]]
    return out


def _cell_out(v: Any) -> Any:
    if v is None:
        return XlError("#N/A", "not reported")
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return XlError("#N/A", "not reported")
    if isinstance(v, np.generic):
        return v.item()
    return v


# -- the decorator --------------------------------------------------------------------------------


def _error_result(exc: BaseException) -> XlError:
    if isinstance(exc, Propagate):
        return exc.error
    if isinstance(exc, DataError):
        return XlError("#N/A", str(exc))
    if isinstance(exc, (AicapexError, ValueError, TypeError)):
        return XlError("#VALUE!", str(exc))
    log.exception("unexpected error in a CPX_ function")
    return XlError("#VALUE!", f"internal error: {type(exc).__name__}: {exc}")


def _finite(value: Any) -> Any:
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return XlError("#NUM!", "result is not a finite number (overflow or undefined)")
    return value


def _finite_result(result: Any) -> Any:
    """NaN or ±inf never reaches a cell (Excel has no such value): it becomes ``#NUM!``."""
    if isinstance(result, list):
        rows = [r if isinstance(r, list) else [r] for r in result]
        isfinite = math.isfinite
        if all(isfinite(c) for row in rows for c in row
               if type(c) is float or isinstance(c, np.floating)):
            return result  # nothing to replace (the usual case): no copy
        return [[_finite(c) for c in row] if isinstance(row, list) else _finite(row)
                for row in result]
    return _finite(result)


def excel_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Never let an exception reach Excel: return an error value with the reason instead.
    A non-finite float in the result (an overflow such as 1e308 - -1e308) becomes ``#NUM!``."""

    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        try:
            return _finite_result(func(*args))
        except Exception as exc:  # noqa: BLE001 - the whole point: a cell never sees a traceback
            return _error_result(exc)

    return wrapper


#: Office.js error types (custom functions runtime 1.4+) for our error codes.
_OFFICEJS_ERROR_TYPES = {
    "#DIV/0!": "Div0",
    "#N/A": "NotAvailable",
    "#NAME?": "Name",
    "#NULL!": "Null",
    "#NUM!": "Num",
    "#REF!": "Ref",
    "#VALUE!": "Value",
}


def _officejs_error(value: Any, runtime: float) -> Any:
    if isinstance(value, XlError) and runtime >= 1.4 and str(value) in _OFFICEJS_ERROR_TYPES:
        error = {"type": "Error", "errorType": _OFFICEJS_ERROR_TYPES[str(value)]}
        if value.reason:
            error["message"] = value.reason[:255]
        return error
    return value


#: SCODEs of Excel's cell errors as COM carries them (the values xlwings' Windows engine reads
#: back from error cells), for returning real error values to desktop Excel on Windows.
COM_ERROR_CODES = {
    "#DIV/0!": -2146826281,
    "#N/A": -2146826246,
    "#NAME?": -2146826259,
    "#NULL!": -2146826288,
    "#NUM!": -2146826252,
    "#REF!": -2146826265,
    "#VALUE!": -2146826273,
}


def com_error_variant() -> Callable[[int], Any] | None:
    """``code -> VARIANT(VT_ERROR, code)`` under pywin32 on Windows, else None.

    Without it an error would reach a desktop cell as the text "#N/A", which ISERROR does not
    see and SUM silently skips. (Not verified in Excel on this Linux build machine.)
    """
    if sys.platform != "win32":
        return None
    try:
        import pythoncom
        from win32com.client import VARIANT
    except ImportError:
        return None
    return lambda code: VARIANT(pythoncom.VT_ERROR, code)


def _desktop_error(value: Any, variant: Callable[[int], Any]) -> Any:
    if isinstance(value, XlError) and str(value) in COM_ERROR_CODES:
        return variant(COM_ERROR_CODES[str(value)])
    return value


def write_error_reasons(value: Any, options: dict[str, Any]) -> Any:
    """How :class:`ErrorReasons` returns a result holding :class:`XlError` values, per runtime:

    * Office.js (xlwings Server / Lite, runtime 1.4+): an error object *with its message*,
      which Excel shows on the cell;
    * desktop Excel on Windows (no runtime option; pywin32 present): a COM error VARIANT, so
      the cell holds a real error value;
    * anywhere else (Office.js 1.3, macOS desktop, headless): the error code itself, which
      xlwings' Office.js engine and openpyxl turn into an error and the evaluator propagates.
    """
    try:
        runtime = float(options.get("runtime") or 0)
    except (TypeError, ValueError):
        runtime = 0.0
    if runtime < 1.4:
        variant = com_error_variant() if not options.get("runtime") else None
        if variant is None:
            return value
        if isinstance(value, list):
            return [[_desktop_error(c, variant) for c in row] for row in value]
        return _desktop_error(value, variant)
    if isinstance(value, list):
        return [[_officejs_error(c, runtime) for c in row] for row in value]
    return _officejs_error(value, runtime)


@functools.cache
def error_reasons_converter() -> type:
    """The xlwings return converter ``ErrorReasons`` (:func:`write_error_reasons`); defined
    on first use, as it subclasses xlwings' ``Converter``."""
    from xlwings.conversion import Converter

    class ErrorReasons(Converter):
        __doc__ = write_error_reasons.__doc__
        write_value = staticmethod(write_error_reasons)

    ErrorReasons.__qualname__ = "ErrorReasons"
    return ErrorReasons


def __getattr__(name: str) -> Any:
    if name == "ErrorReasons":  # needs xlwings: built on first access
        return error_reasons_converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def registers_with_xlwings() -> bool:
    """Whether xlwings' UDF decorators do anything here. They register functions with desktop
    Excel (Windows, macOS) and with xlwings Server / Lite (``XLWINGS_ON_SERVER=true``, set
    before xlwings is imported); on Linux without it they are pass-through, so the headless
    refresh and the command line skip importing xlwings (about 50 ms)."""
    return os.environ.get("XLWINGS_ON_SERVER") == "true" or not sys.platform.startswith("linux")


def cpx_function(volatile: bool = False, **arg_docs: str) -> Callable[[Callable[..., Any]], Any]:
    """Register a CPX_ function with xlwings: help text for each argument, errors as values.

    Every argument is read as a 2-D range (``ndim=2``) with error cells passed as their code
    (``err_to_str=True``) so that an ``#N/A`` input propagates instead of looking blank.
    """

    def decorate(func: Callable[..., Any]) -> Any:
        f = excel_errors(func)
        if not registers_with_xlwings():
            return f  # what xlwings' pass-through decorators would return
        import xlwings as xw

        f = xw.ret(error_reasons_converter())(f)
        for name, doc in arg_docs.items():
            f = xw.arg(name, ndim=2, err_to_str=True, doc=doc)(f)
        return xw.func(category=CATEGORY, volatile=volatile)(f)

    return decorate
