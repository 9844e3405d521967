"""The bridge to custom functions (the ``CPX_`` UDFs): arguments in, results out.

A custom function receives what xlwings would give it: a scalar for a single cell or value,
a list of row lists for a range (blank cells as ``None``), ``None`` for an empty argument and
:class:`~aicapex.xlerrors.XlError` for an error. Its result becomes a scalar or a rectangular
array: ``None`` shows as ``""`` (as xlwings writes it), NaN/inf as ``#NUM!``, a 1-D sequence
is one row, dates become serial numbers, error-code strings become errors.

>>> udf_result([[1, None], [2.5]], None)
[[1, ''], [2.5, XlError('#N/A', 'ragged array')]]
>>> call_key("CPX_X", [True]) == call_key("CPX_X", [1])  # TRUE is not 1 to a function
False
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal
from typing import Any

from openpyxl.utils.datetime import to_excel

from aicapex.formula.values import MISSING, err, unwrap
from aicapex.xlerrors import ERROR_CODES, XlError

__all__ = ["call_key", "udf_argument", "udf_result", "udf_scalar"]


def _typed(v: Any) -> tuple:
    # TRUE == 1 in Python, but not to a custom function: the type is part of the key.
    return (type(v).__name__, v)


def call_key(name: str, args: list[Any]) -> tuple | None:
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


def udf_argument(v: Any) -> Any:
    if v is MISSING:
        return None
    if type(v) is list:
        v = unwrap(v)
        if type(v) is list:
            return [list(row) for row in v]
    return v


def udf_scalar(v: Any, epoch: Any) -> Any:
    if v is None:
        return ""  # xlwings returns "" for None
    t = type(v)
    if t is float:
        return v if math.isfinite(v) else err("#NUM!", "function returned NaN or infinity")
    if t is int or t is bool or t is XlError:
        return v
    if isinstance(v, str):
        return XlError(v) if v in ERROR_CODES else str(v)
    if getattr(v, "ndim", None) == 0 and hasattr(v, "item"):  # numpy scalar
        return udf_scalar(v.item(), epoch)
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return udf_scalar(float(v), epoch)
    if isinstance(v, (_dt.datetime, _dt.date)):
        if not isinstance(v, _dt.datetime):
            v = _dt.datetime.combine(v, _dt.time())
        return to_excel(v, epoch)
    if isinstance(v, Decimal):
        return udf_scalar(float(v), epoch)
    return err("#VALUE!", f"function returned an unsupported {type(v).__name__}")


def _as_list(x: Any) -> list[Any] | None:
    """A list for sequences and numpy arrays (1-D or more), else None."""
    if isinstance(x, (list, tuple)):
        return list(x)
    if getattr(x, "ndim", 0) and hasattr(x, "tolist"):
        return x.tolist()
    return None


def udf_result(v: Any, epoch: Any) -> Any:
    """A custom function's result as a scalar or a rectangular list of rows."""
    seq = _as_list(v)
    if seq is None:
        return udf_scalar(v, epoch)
    rows = [_as_list(r) for r in seq]
    if seq and all(r is None for r in rows):
        rows = [seq]  # a 1-D result is one row, as xlwings writes it
    else:
        rows = [r if r is not None else [x] for r, x in zip(rows, seq, strict=True)]
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        return err("#CALC!", "function returned an empty array")
    out = [[udf_scalar(x, epoch) for x in r] + [err("#N/A", "ragged array")] * (width - len(r))
           for r in rows]
    return unwrap(out)


