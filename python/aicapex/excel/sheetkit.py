"""Small writing helpers shared by the extra timeline sheets (Scenarios, Power_Cloud, ROI)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aicapex.excel import layout as L
from aicapex.xlerrors import XlError


def abs_ref(r: int, c: int = 3) -> str:
    """Absolute reference of a 0-based cell, column D by default: ``$D$12``."""
    return L.cell(r, c, True, True)


def row_head(ctx: Any, ws: Any, r: int, label: str, unit: str, indent: bool = False) -> None:
    """The label (column B) and unit (column C) of a line."""
    s = ctx.styles
    ws.write_string(r, 1, label, s("label_indent" if indent else "label"))
    ws.write_string(r, 2, unit, s("unit"))


def note(ctx: Any, ws: Any, r: int, text: str) -> None:
    """A note in the notes column (FAST: notes beside the line, not in cell comments)."""
    ws.write_string(r, L.NOTES_COL, text, ctx.styles("note"))


def cached_value(v: Any) -> Any:
    """A formula's result as XlsxWriter stores it: errors as their code, a missing number as
    ``#N/A``, an overflow as ``#NUM!``."""
    if isinstance(v, XlError):
        return str(v)
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return "#N/A"
        if math.isinf(v):
            return "#NUM!"
        return float(v)
    return v
