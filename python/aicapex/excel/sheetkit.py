"""What every sheet writer shares: the build context, the timeline header, checks and alerts
formats, notes, print setup, spilled engine blocks and charts that leave gaps.

Every sheet module (Cover, Inputs, Ratios, Scenarios, ...) writes through these helpers, so the
FAST conventions of WORKBOOK_STYLE.md live in one place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aicapex.data.dataset import Dataset
from aicapex.excel import layout as L
from aicapex.excel.styles import TAB_COLOURS, Styles
from aicapex.xlerrors import XlError


@dataclass
class BuildContext:
    """Everything a sheet writer needs: the XlsxWriter workbook, styles, data, timeline."""

    wb: Any
    styles: Styles
    ds: Dataset
    timeline: L.Timeline
    ratios: L.RatiosLayout
    sheets: dict[str, Any]
    #: Extra Inputs sections contributed by the extra sheets: (title, rows).
    input_sections: list[tuple[str, list[L.InputRow]]] = field(default_factory=list)
    #: Absolute references of the extra sheets' alert counts (added up on the Cover).
    alert_refs: list[str] = field(default_factory=list)
    #: Inputs whose default is decided by the data at build time (name -> value).
    input_defaults: dict[str, Any] = field(default_factory=dict)
    #: The covered tickers at build time, in slot order (the rest of the slots are empty).
    coverage: list[str] = field(default_factory=lambda: list(L.COVERAGE))


def abs_ref(r: int, c: int = 3) -> str:
    """Absolute reference of a 0-based cell, column D by default: ``$D$12``."""
    return L.cell(r, c, True, True)


def row_head(ctx: BuildContext, ws: Any, r: int, label: str, unit: str,
             indent: bool = False) -> None:
    """The label (column B) and unit (column C) of a line."""
    s = ctx.styles
    ws.write_string(r, 1, label, s("label_indent" if indent else "label"))
    ws.write_string(r, 2, unit, s("unit"))


def note(ctx: BuildContext, ws: Any, r: int, text: str) -> None:
    """A note in the notes column (FAST: notes beside the line, not in cell comments)."""
    ws.write_string(r, ctx.timeline.notes_col, text, ctx.styles("note"))


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


def print_setup(ws: Any, title: str, timeline: L.Timeline | None = None,
                last_row: int = 400) -> None:
    """Landscape, one page wide, title rows repeated; a timeline sheet also repeats its label
    columns and prints to its notes column."""
    ws.set_landscape()
    ws.set_paper(1)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, 4)
    if timeline is not None:
        ws.repeat_columns(0, 2)
        ws.print_area(0, 0, last_row, timeline.notes_col)
    ws.set_header(f"&L&8{title.replace('&', '&&')}&R&8AI Capex Monitor")
    ws.set_footer("&L&8Source: company filings; see Sources&C&8&A&R&8Page &P of &N")


def timeline_header(ctx: BuildContext, ws: Any, title: str, purpose: str) -> None:
    """Rows 1-5 of a timeline sheet: title, purpose, checks, fiscal year, actual flag."""
    s = ctx.styles
    tl = ctx.timeline
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3, 12)
    ws.set_column(4, 4, 3)
    ws.set_column(L.FIRST_PERIOD_COL, tl.last_period_col, 11)
    ws.set_column(tl.notes_col, tl.notes_col, 40)
    ws.write_string(0, 1, title, s("title"))
    ws.write_string(1, 1, purpose, s("subtitle"))
    ws.write_string(2, 1, "Sheet check / master check", s("label"))
    ws.write_string(2, 2, "flag", s("unit"))
    ws.write_string(3, 1, "Fiscal year", s("label_bold"))
    ws.write_string(4, 1, "Actual period flag (1 = reported, 0 = estimate)", s("label"))
    ws.write_string(4, 2, "flag", s("unit"))
    first = L.FIRST_PERIOD_COL
    for c in range(first, tl.last_period_col + 1):
        fy = tl.year_of(c)
        role = "period_actual" if fy <= tl.last_actual_fy else "period_estimate"
        if c == first:
            ws.write_formula(3, c, "=in_FirstFY", s(role), fy)
        else:
            ws.write_formula(3, c, f"={L.cell(3, c - 1)}+1", s(role), fy)
        ws.write_formula(4, c, f"=--({L.cell(3, c, True)}<=in_LastActualFY)", s("calc", "year"),
                         int(fy <= tl.last_actual_fy))
    ws.write_string(3, tl.notes_col, "Notes and sources", s("label_bold"))
    ws.freeze_panes(5, 5)
    ws.set_tab_color(TAB_COLOURS.get(ws.name, "#7F7F7F"))
    print_setup(ws, title, tl)


def check_format(ctx: BuildContext, ws: Any, rng: str) -> None:
    """Green OK / red ERROR on check flags (0 = pass)."""
    s = ctx.styles
    ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": 0,
                                "format": s.conditional["ok"]})
    ws.conditional_format(rng, {"type": "cell", "criteria": ">", "value": 0,
                                "format": s.conditional["error"]})


def alert_format(ctx: BuildContext, ws: Any, rng: str) -> None:
    ws.conditional_format(rng, {"type": "cell", "criteria": ">", "value": 0,
                                "format": ctx.styles.conditional["alert"]})


def write_alert_total(ctx: BuildContext, ws: Any, r: int, alert_rows: Iterable[int],
                      cached: int = 0) -> None:
    """Row ``r``: "Alerts total", the sum of the sheet's alert flags in column D (the rows
    from the first to the last of ``alert_rows``); the Cover adds these up."""
    s = ctx.styles
    rows = list(alert_rows)
    ws.write_string(r, 1, "Alerts total", s("total"))
    ws.write_string(r, 2, "alert", s("unit"))
    ws.write_formula(r, 3, f"=SUM({L.cell(min(rows), 3)}:{L.cell(max(rows), 3)})",
                     s("total", "alert"), cached)
    alert_format(ctx, ws, L.cell(r, 3))


def write_check_total(ctx: BuildContext, ws: Any, r: int, check_rows: Iterable[int]) -> None:
    """Row ``r``: the sheet check, 1 when any check flag from the first to the last of
    ``check_rows`` (column D) fails, else 0; the sheet's D3 and the master check read it."""
    s = ctx.styles
    rows = list(check_rows)
    ws.write_string(r, 1, "Sheet check (0 = all checks pass)", s("total"))
    ws.write_string(r, 2, "flag", s("unit"))
    ws.write_formula(r, 3, f"=MIN(1,SUM({L.cell(min(rows), 3)}:{L.cell(max(rows), 3)}))",
                     s("total", "check"), 0)
    check_format(ctx, ws, L.cell(r, 3))


def sheet_check_cells(ctx: BuildContext, ws: Any, total_ref: str) -> None:
    """Row 3 of a timeline sheet: the sheet's check total (D3) and the master check (F3)."""
    s = ctx.styles
    ws.write_formula(2, 3, f"={total_ref}", s("calc", "check"), 0)
    ws.write_formula(2, 5, "=chk_Master", s("link", "check"), 0)
    check_format(ctx, ws, "D3:F3")


def section(ctx: BuildContext, ws: Any, r: int, text: str) -> None:
    """A section-header row spanning B to the last period column (never merged)."""
    s = ctx.styles
    ws.write_string(r, 1, text, s("section"))
    for c in range(2, ctx.timeline.last_period_col + 1):
        ws.write_blank(r, c, None, s("section"))


# -- spilled engine blocks -----------------------------------------------------------------------


def write_block(ws: Any, r: int, c: int, formula: str, values: Sequence[Sequence[Any]],
                fmt: Any = None, row_formats: Sequence[Any] | None = None,
                col_formats: Sequence[Any] | None = None) -> tuple[int, int]:
    """One CPX_ call whose result spills over a block: a dynamic-array formula anchored at
    (r, c) over exactly the shape of ``values`` (its build-time result, stored as the cached
    values). The block's shape follows from the formula's arguments (a key column and a year
    row), so it never moves. Excel calls the function once for the whole block, not once per
    cell. ``row_formats`` (one per row) or ``col_formats`` (one per column, for a table)
    override ``fmt``. Returns (last row, last column)."""
    rows = [list(v) for v in values]
    h, w = len(rows), len(rows[0])
    r2, c2 = r + h - 1, c + w - 1
    fmts = list(row_formats) if row_formats is not None else [fmt] * h

    def fmt_of(i: int, j: int) -> Any:
        return col_formats[j] if col_formats is not None else fmts[i]

    ws.write_dynamic_array_formula(r, c, r2, c2, formula, fmt_of(0, 0), cached_value(rows[0][0]))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if i == 0 and j == 0:
                continue
            v = cached_value(v)
            if v is None or (isinstance(v, str) and v.startswith("#")):
                # An error result has no plain-cell form: left blank until the refresh stamps
                # the spilled values (error codes included) into the file.
                ws.write_blank(r + i, c + j, None, fmt_of(i, j))
            elif isinstance(v, str):
                ws.write_string(r + i, c + j, v, fmt_of(i, j))
            else:
                ws.write_number(r + i, c + j, v, fmt_of(i, j))
    return r2, c2


# -- charts --------------------------------------------------------------------------------------

GRIDLINES = {"visible": True, "line": {"color": "#D9D9D9"}}


def new_chart(ctx: BuildContext, kind: str, title: str, num_format: str,
              subtype: str | None = None, y_min: float | None = None) -> Any:
    """A chart in the house style (WORKBOOK_STYLE.md §7) that never draws a missing figure:
    blank cells and ``#N/A`` are gaps (``show_na_as_empty_cell`` + ``show_blanks_as('gap')``).
    The client export goes further for viewers that plot errors as zero (LibreOffice): the
    cells a chart reads hold numbers or nothing."""
    opts = {"type": kind}
    if subtype:
        opts["subtype"] = subtype
    ch = ctx.wb.add_chart(opts)
    ch.set_title({"name": title, "name_font": {"size": 11}})
    ch.set_legend({"position": "bottom"})
    ch.set_y_axis({"num_format": num_format, "major_gridlines": GRIDLINES, "min": y_min})
    ch.set_x_axis({"num_format": '"FY"0'})
    ch.set_size({"width": 480, "height": 288})
    ch.show_blanks_as("gap")
    ch.show_na_as_empty_cell()
    return ch
