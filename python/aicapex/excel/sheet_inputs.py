"""The Inputs sheet: coverage, timeline, tolerances and every assumption, blue input cells with
validation; each extra sheet contributes its own section (WORKBOOK_STYLE.md §2)."""

from __future__ import annotations

from typing import Any

from aicapex.excel import layout as L
from aicapex.excel.sheetkit import BuildContext, check_format, print_setup
from aicapex.excel.styles import TAB_COLOURS


def write_inputs(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    ws.set_tab_color(TAB_COLOURS["Inputs"])
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3, 12)
    ws.set_column(4, 4, 3)
    ws.set_column(5, 5, 60)
    ws.write_string(0, 1, "Inputs", s("title"))
    ws.write_string(1, 1, "Every assumption of the model; blue cells are inputs. Refresh never changes them.",
                    s("subtitle"))
    ws.write_string(2, 1, "Master check", s("label"))
    ws.write_formula(2, 3, "=chk_Master", s("link", "check"), 0)
    check_format(ctx, ws, "D3")
    ws.freeze_panes(5, 0)
    r = L.COVERAGE_HEADER_ROW
    ws.write_string(r, 1, "Coverage: one company block each on Ratios (type a ticker into a "
                    "free slot)", s("section"))
    for c in range(2, 6):
        ws.write_string(r, c, "", s("section"))
    tickers = ctx.ds.tickers
    for i, t in enumerate(L.coverage_slots(ctx.coverage)):
        rr = r + 1 + i
        label = (f"{L.COMPANY_NAMES.get(t, t)} (FY ends {L.FY_END.get(t, 'as reported')})" if t
                 else f"Free slot {i + 1}")
        ws.write_string(rr, 1, label, s("label_indent"))
        ws.write_string(rr, 2, "ticker", s("unit"))
        if t:
            ws.write_string(rr, 3, t, s("input"))
        else:
            ws.write_blank(rr, 3, None, s("input"))
        ws.data_validation(rr, 3, rr, 3, {
            "validate": "list", "source": tickers, "error_type": "warning",
            "input_title": "Ticker", "input_message": "A company in the data (see Data); for "
            "another SEC filer run: python -m aicapex fetch --tickers T",
            "error_title": "Not in the data yet",
            "error_message": "Fetch it first: python -m aicapex fetch --tickers T (or add an "
            "override file); until then its block shows nothing."})
        if t is None:
            ws.write_string(rr, 5, "Empty: its Ratios block stays blank until a ticker is typed "
                            "here", s("note"))
    sections = [("Timeline, checks and alerts", L.INPUT_ROWS)] + list(ctx.input_sections)
    r = L.INPUTS_FIRST_ROW - 1
    for title, rows in sections:
        ws.write_string(r, 1, title, s("section"))
        for c in range(2, 6):
            ws.write_string(r, c, "", s("section"))
        for i, row in enumerate(rows):
            _write_input_row(ctx, ws, r + 1 + i, row)
        r += len(rows) + 2
    print_setup(ws, "Inputs")


def _write_input_row(ctx: BuildContext, ws: Any, rr: int, row: L.InputRow) -> None:
    s = ctx.styles
    ws.write_string(rr, 1, row.label, s("label"))
    ws.write_string(rr, 2, row.unit, s("unit"))
    value = ctx.input_defaults.get(row.name, row.value) if row.name else row.value
    if value is None:  # no sourced default: an empty input for the user, with its note
        ws.write_blank(rr, 3, None, s("input"))
    elif isinstance(value, str):
        ws.write_string(rr, 3, value, s("input"))
    else:
        num = {"FY": "year", "years": "year", "days": "year", "%": "pct", "$m": "musd1",
               "x": "phys", "MW": "phys", "$/MWh": "musd1", "$/Mtok": "phys"}.get(row.unit)
        ws.write_number(rr, 3, float(value), s("input", num))
    if row.validation:
        ws.data_validation(rr, 3, rr, 3, {**row.validation, "error_type": "stop",
                                           "input_title": row.label[:32],
                                           "input_message": f"{row.unit}: {row.note}"[:255]})
    ws.write_string(rr, 5, row.note, s("note"))
    if row.name:
        ctx.wb.define_name(row.name, f"=Inputs!{L.cell(rr, 3, True, True)}")
