"""What makes the client copy worth sending, applied by the export after the formulas have
become values or portable formulas (:mod:`aicapex.excel.export`):

* :func:`plot_only_numbers` — a chart never draws a missing figure. LibreOffice (and Excel for
  text) plot a cell holding ``n/a`` or an error as 0, so every chart series that reads such a
  cell is pointed at a "Chart data" block written under the charts, in which a missing figure
  is an empty cell (a gap in a line, no bar). The tables keep showing ``n/a`` to readers.
* :func:`checks_and_alerts` and :func:`tier_shares` — the words the client Cover shows: every
  failing check and every alert (staleness included) by sheet, and the share of figures by
  source tier.
* :func:`summarise_changes` — the analyst's cell-by-cell audit trail stays in the analyst
  workbook; the client copy gets a short "what changed" summary.
* :func:`client_print_layout` — print areas stop at the last populated column (the notes
  move next to it), narrower label columns, so every page reads at print size.
* :data:`PDF_SHEETS` — the sheets the client PDF prints, each with the reason it is there.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any
from xml.sax.saxutils import unescape

from openpyxl.chart.data_source import NumData, NumRef, NumVal
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import get_column_letter, range_boundaries

from aicapex.excel import layout as L
from aicapex.formula import ParseError, parse

#: Sheets of the client PDF, in order, and why each is there (the .xlsx keeps every sheet).
PDF_SHEETS: dict[str, str] = {
    "Cover": "what the copy is, its date, its checks and alerts, the source mix and disclaimer",
    "Dashboard": "the report's exhibits",
    "Ratios": "the figures and ratios behind the exhibits, per company and for the AI peers",
    "Guidance": "what management guided and how the guidance moved",
    "Scenarios": "the financing scenario and its assumptions' effects",
    "Power_Cloud": "data-center power economics and AI-cloud backlog",
    "ROI": "the return AI capex must earn against what it earns",
    "Inputs": "every assumption, with its source",
    "Changes": "what changed since the previous refresh (a summary)",
    "Notes": "every line's definition and every default's source, gathered from the sheets",
}
#: Left out of the PDF (kept in the .xlsx): hundreds of rows no reader pages through on paper.
PDF_LEFT_OUT = {
    "Data": "one row per reported figure (hundreds of rows): in the .xlsx",
    "Sources": "the filing behind each figure (hundreds of rows): in the .xlsx",
}

CHART_DATA_TITLE = "Chart data: the values plotted above (blank = not reported; see the source sheet)"
MAX_CHANGE_LINES = 25


def _value(ws: Any, stamp: dict, row: int, col: int) -> Any:
    coord = f"{get_column_letter(col)}{row}"
    if (ws.title, coord) in stamp:
        return stamp[(ws.title, coord)]
    return ws.cell(row, col).value


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _split_ref(ref: str) -> tuple[str, tuple[int, int, int, int]]:
    sheet, rng = ref.rsplit("!", 1)
    sheet = sheet.strip("'").replace("''", "'")
    c1, r1, c2, r2 = range_boundaries(rng.replace("$", ""))
    return sheet, (r1, c1, r2, c2)


def _cells(wb: Any, stamp: dict, ref: str) -> list[Any]:
    sheet, (r1, c1, r2, c2) = _split_ref(ref)
    if sheet not in wb.sheetnames:
        return []
    ws = wb[sheet]
    return [_value(ws, stamp, r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def series_title(series: Any) -> str:
    """A chart series' name as shown in its legend."""
    tx = getattr(series, "tx", None)
    if tx is not None and tx.strRef is not None and tx.strRef.strCache is not None:
        pts = tx.strRef.strCache.pt
        if pts:
            return str(pts[0].v)
    if tx is not None and tx.v:
        return str(tx.v)
    return "series"


def chart_title(chart: Any) -> str:
    """A chart's title text."""
    try:
        runs = chart.title.tx.rich.p[0].r
        return "".join(r.t for r in runs)
    except (AttributeError, IndexError, TypeError):
        return "chart"


def _number_format(wb: Any, ref: str) -> str:
    """The number format of the first cell of a range (the chart data keeps the table's)."""
    sheet, (r1, c1, _, _) = _split_ref(ref)
    fmt = wb[sheet].cell(r1, c1).number_format if sheet in wb.sheetnames else "General"
    return fmt if fmt and fmt != "General" else "#,##0.0"


def plot_only_numbers(wb: Any, stamp: dict) -> int:
    """Point every chart series that reads a non-number (``n/a``, text, an error) at a chart
    data block on its sheet, where a missing figure is an empty cell. Returns the number of
    series moved."""
    moved = 0
    small = Font(name="Arial", size=8)
    for ws in wb.worksheets:
        todo: dict[int, list[tuple[Any, str]]] = {}
        charts = getattr(ws, "_charts", [])
        for i, chart in enumerate(charts):
            for series in chart.series:
                ref = series.val.numRef.f if series.val is not None and series.val.numRef else None
                if ref and any(not _is_number(v) for v in _cells(wb, stamp, ref)):
                    todo.setdefault(i, []).append((series, ref))
        if not todo:
            continue
        r = ws.max_row + 3
        ws.cell(r, 2).value = CHART_DATA_TITLE
        ws.cell(r, 2).font = Font(name="Arial", size=10, bold=True)
        r += 1
        for i, items in todo.items():
            chart = charts[i]
            ws.cell(r, 2).value = chart_title(chart)
            ws.cell(r, 2).font = Font(name="Arial", size=8, bold=True)
            cat_ref = next((s.cat.numRef.f for s, _ in items
                            if s.cat is not None and s.cat.numRef is not None), None)
            n = len(_cells(wb, stamp, items[0][1]))
            span = f"${get_column_letter(3)}${r}:${get_column_letter(2 + n)}${r}"
            if cat_ref:  # the years once per chart, so the block reads on its own
                for j, v in enumerate(_cells(wb, stamp, cat_ref)):
                    c = ws.cell(r, 3 + j)
                    c.value = v
                    c.number_format = '"FY"0'
                    c.font = Font(name="Arial", size=8, bold=True)
            r += 1
            for series, ref in items:
                values = _cells(wb, stamp, ref)
                fmt = _number_format(wb, ref)
                ws.cell(r, 2).value = series_title(series)
                ws.cell(r, 2).font = small
                pts = []
                for j, v in enumerate(values):
                    c = ws.cell(r, 3 + j)
                    c.value = float(v) if _is_number(v) else None
                    c.font = small
                    c.number_format = fmt
                    if _is_number(v):
                        pts.append(NumVal(idx=j, v=float(v)))
                if cat_ref and series.cat is not None and series.cat.numRef is not None:
                    series.cat.numRef.f = f"'{ws.title}'!{span}"
                first, last = f"${get_column_letter(3)}${r}", \
                    f"${get_column_letter(2 + len(values))}${r}"
                series.val.numRef = NumRef(f=f"'{ws.title}'!{first}:{last}",
                                           numCache=NumData(formatCode=fmt, ptCount=len(values),
                                                            pt=pts))
                moved += 1
                r += 1
            r += 1
    return moved


def checks_and_alerts(wb: Any, stamp: dict) -> tuple[list[str], list[str]]:
    """(failing checks, alerts) in words: every row of a workings sheet whose unit is ``flag``
    or ``alert`` and whose total (column D) is above 0, as "Sheet: label (n)"."""
    failing, alerts = [], []
    for ws in wb.worksheets:
        if ws.title in ("Cover", "Inputs", "Data", "Sources", "Changes", "Dashboard"):
            continue
        for r in range(L.HEADER_ROWS + 1, ws.max_row + 1):
            unit = ws.cell(r, 3).value
            if unit not in ("flag", "alert"):
                continue
            v = _value(ws, stamp, r, 4)
            if not _is_number(v) or v <= 0:
                continue
            label = str(ws.cell(r, 2).value or "").strip()
            if label.lower().startswith("sheet check") or label.lower() == "alerts total":
                continue
            text = f"{ws.title}: {label.removeprefix('Alert: ')}" + (
                f" ({int(v):,})" if unit == "alert" and v != 1 else "")
            (failing if unit == "flag" else alerts).append(text)
    return failing, alerts


def tier_shares(wb: Any) -> str:
    """"N% from filings, M% from earnings releases, K% secondary" over the figures of the
    Data table (column ``tier``)."""
    if "Data" not in wb.sheetnames:
        return ""
    ws = wb["Data"]
    header = [ws.cell(L.DATA_HEADER_ROW + 1, c).value for c in range(1, ws.max_column + 1)]
    if "tier" not in header:
        return ""
    col = header.index("tier") + 1
    tiers = Counter(ws.cell(r, col).value for r in range(L.DATA_HEADER_ROW + 2, ws.max_row + 1)
                    if ws.cell(r, col).value)
    total = sum(tiers.values())
    if not total:
        return ""
    words = {"filing": "from filings", "release": "from earnings releases",
             "secondary": "secondary", "unstated": "from analyst overrides (tier not stated)"}
    parts = [f"{round(100 * tiers[t] / total)}% {words.get(t, t)}"
             for t in ("filing", "release", "secondary", "unstated") if tiers[t]]
    return f"{', '.join(parts)} ({total:,} figures)"


def summarise_changes(wb: Any) -> None:
    """Replace the Changes table of the client copy by a short summary: how many figures and
    computed cells changed per sheet, and the first changed figures."""
    if "Changes" not in wb.sheetnames:
        return
    ws = wb["Changes"]
    first = L.DATA_HEADER_ROW + 2
    rows = []
    for r in range(first, ws.max_row + 1):
        row = [ws.cell(r, c).value for c in range(1, len(L.CHANGES_COLUMNS) + 1)]
        if any(v not in (None, "") for v in row):
            rows.append(row)
    per_sheet = Counter(str(row[0]) for row in rows if row[0])
    figures = [row for row in rows if row[0] == "Data"]
    lines: list[list[Any]] = []
    if not per_sheet:
        lines.append(["", "", "No change since the previous refresh", "", "", ""])
    for sheet, n in per_sheet.items():
        what = "reported figures" if sheet == "Data" else "computed cells"
        lines.append([sheet, "", f"{n:,} {what} changed", "", "", ""])
    for row in figures[:MAX_CHANGE_LINES]:
        lines.append(["Data", "", row[2], row[3], row[4], row[5]])
    if len(figures) > MAX_CHANGE_LINES:
        lines.append(["Data", "", f"... and {len(figures) - MAX_CHANGE_LINES:,} more figures "
                      "(the analyst workbook lists every change)", "", "", ""])
    for r in range(first, ws.max_row + 1):
        for c in range(1, len(L.CHANGES_COLUMNS) + 1):
            ws.cell(r, c).value = None
    for i, line in enumerate(lines):
        for j, v in enumerate(line):
            cell = ws.cell(first + i, j + 1)
            cell.value = v
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                cell.number_format = "#,##0_);(#,##0)"
    ws.cell(2, 1).value = ("What changed since the previous refresh (summary; the analyst "
                           "workbook keeps the cell-by-cell audit trail)")
    for table in ws.tables.values():
        last = first + max(1, len(lines)) - 1
        table.ref = f"A{first - 1}:{get_column_letter(len(L.CHANGES_COLUMNS))}{last}"
        if table.autoFilter is not None:
            table.autoFilter.ref = table.ref


def _last_populated(ws: Any, first_row: int, cols: range) -> int | None:
    last = None
    for c in cols:
        for r in range(first_row, ws.max_row + 1):
            v = ws.cell(r, c).value
            if v not in (None, ""):
                last = c
                break
    return last


#: Inputs: the notes column (F) wraps at this width, so the page is not shrunk to fit text
#: that would run on to the right.
INPUTS_NOTES_COL = 6
INPUTS_NOTES_WIDTH = 70


def _wrap_notes(ws: Any, col: int, width: int) -> None:
    ws.column_dimensions[get_column_letter(col)].width = width
    for r in range(1, ws.max_row + 1):
        cell = ws.cell(r, col)
        if isinstance(cell.value, str) and len(cell.value) > width:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.row_dimensions[r].height = LINE_HEIGHT_PT * math.ceil(len(cell.value) /
                                                                     (width * 1.3))
    ws.print_area = f"A1:{get_column_letter(col)}{ws.max_row}"
    ws.page_margins.left = ws.page_margins.right = 0.4


#: Height of one line of 10 pt text, for rows whose text wraps (spreadsheets do not grow a
#: row for wrapped text by themselves when they open a file).
LINE_HEIGHT_PT = 12.75


def _last_printed_row(ws: Any) -> int:
    """The last row worth printing: above the free coverage slots when none is filled."""
    from aicapex.excel.sheet_ratios import FREE_SLOTS_TITLE

    for r in range(1, ws.max_row + 1):
        if ws.cell(r, 2).value == FREE_SLOTS_TITLE:
            filled = any(_is_section(ws, rr) and isinstance(ws.cell(rr, 4).value, str)
                         and ws.cell(rr, 4).value for rr in range(r + 1, ws.max_row + 1))
            return ws.max_row if filled else r - 1
    return ws.max_row


def client_print_layout(ws: Any, stamp: dict) -> None:
    """Print setup of the client copy. A timeline sheet (fiscal years in row 4 from column F)
    prints from A to its last populated period column, one page wide, one line per row; its
    notes (definitions, sources) stay beside the rows on screen and print on the Notes sheet
    (:func:`gather_notes`), where they wrap at a readable width."""
    if ws.title == "Inputs":
        _wrap_notes(ws, INPUTS_NOTES_COL, INPUTS_NOTES_WIDTH)
        return
    if ws.title == "Dashboard":  # charts start on row 4: repeating rows 1-5 would cut them
        ws.print_title_rows = "1:2"
        return
    if ws.title == NOTES_SHEET or not _is_number(
            _value(ws, stamp, L.YEAR_ROW + 1, L.FIRST_PERIOD_COL + 1)):
        return
    notes_col = _notes_col(ws)
    period_cols = range(L.FIRST_PERIOD_COL + 1, (notes_col or ws.max_column + 1) - 1)
    last = _last_populated(ws, L.HEADER_ROWS + 1, period_cols) or L.FIRST_PERIOD_COL + 1
    for c in range(last + 1, (notes_col or last) + 1):  # unused estimate years go
        if _value(ws, stamp, L.FLAG_ROW + 1, c) != 0:  # never an actual year's heading
            continue
        for r in (L.YEAR_ROW + 1, L.FLAG_ROW + 1):
            ws.cell(r, c).value = None
            stamp.pop((ws.title, f"{get_column_letter(c)}{r}"), None)
    last = max(last, _last_chart_col(ws))
    ws.print_area = f"A1:{get_column_letter(last)}{_last_printed_row(ws)}"
    ws.print_options.horizontalCentered = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    # One page wide when that keeps the text at MIN_SCALE or more; else as many pages wide as
    # that scale needs (the labels repeat on each page), so every page reads at print size.
    width_px = sum(_column_px(ws, c) for c in range(1, last + 1))
    ws.page_setup.fitToWidth = max(1, math.ceil(width_px * MIN_SCALE / PRINTABLE_PX))


#: Printable width of a landscape Letter page with 0.4" margins, in screen pixels (96 dpi).
PRINTABLE_PX = (11 - 0.8) * 96
#: Smallest print scale: 8 pt notes print at 6.4 pt or more.
MIN_SCALE = 0.8


def _column_px(ws: Any, c: int) -> float:
    """A column's width in pixels (Excel's rule for Arial 10: 7 px per character + 5)."""
    dim = ws.column_dimensions.get(get_column_letter(c))
    width = dim.width if dim is not None and dim.width else 8.43
    return 7 * width + 5


def _last_chart_col(ws: Any) -> int:
    """The last column a chart on the sheet covers (1-based; 0 without charts)."""
    last = 0
    for chart in getattr(ws, "_charts", []):
        to = getattr(chart.anchor, "to", None)
        if to is not None:  # a two-cell anchor (what XlsxWriter writes): its last column
            last = max(last, to.col + 1)
    return last


def _notes_col(ws: Any) -> int | None:
    for c in range(ws.max_column, L.FIRST_PERIOD_COL, -1):
        if ws.cell(L.YEAR_ROW + 1, c).value == "Notes and sources":
            return c
    return None


#: The client copy's appendix of every timeline sheet's notes column, for print.
NOTES_SHEET = "Notes"
NOTES_TEXT_WIDTH = 95
NOTES_WHO_WIDTH = 24


def gather_notes(wb: Any, stamp: dict) -> int:
    """Add the Notes sheet: every note of the timeline sheets (definitions, sources, what a
    check tests), sheet by sheet, with the line it belongs to and the company block it sits
    in, wrapped at a width that prints at full size. Returns the number of notes."""
    sheets = [ws for ws in wb.worksheets if _notes_col(ws) is not None]
    if not sheets:
        return 0
    out = wb.create_sheet(NOTES_SHEET)
    out["B1"] = "Notes"
    out["B1"].font = Font(name="Arial", size=14, bold=True)
    out["B2"] = ("The notes column of each sheet, gathered for print: what each line means for "
                 "each company, and where each default comes from")
    out["B2"].font = Font(name="Arial", size=10, italic=True, color="595959")
    out.column_dimensions["A"].width = 2
    out.column_dimensions["B"].width = NOTES_WHO_WIDTH
    out.column_dimensions["C"].width = 38
    out.column_dimensions["D"].width = NOTES_TEXT_WIDTH
    r = 4
    n = 0
    for ws in sheets:
        col = _notes_col(ws)
        last = _last_printed_row(ws)
        out.cell(r, 2).value = ws.title
        out.cell(r, 2).font = Font(name="Arial", size=10, bold=True, color="FFFFFF")
        for c in range(2, 5):
            out.cell(r, c).fill = PatternFill("solid", fgColor="1F3864")
        r += 1
        # One line per (line, note): a note that reads the same for several companies (OCF,
        # revenue...) is printed once with the companies it applies to.
        grouped: dict[tuple[str, str], list[str]] = {}
        block = ""
        for rr in range(L.HEADER_ROWS + 1, last + 1):
            label = _text_of(ws, stamp, rr, 2)
            if _is_section(ws, rr) and label:
                block = label.split(",")[0]
            note = _text_of(ws, stamp, rr, col)
            if note.strip():
                where = grouped.setdefault((label, note), [])
                if block not in where:
                    where.append(block)
        for (label, note), blocks in grouped.items():
            out.cell(r, 2).value = _companies(blocks)
            out.cell(r, 3).value = label
            out.cell(r, 4).value = note
            for c in (2, 3, 4):  # 9 pt: 7 pt or more once fitted to the page
                out.cell(r, c).font = Font(name="Arial", size=9)
                out.cell(r, c).alignment = Alignment(wrap_text=True, vertical="top")
            # spreadsheets do not fit a row to wrapped text when they open a file: set it
            lines = max(math.ceil(len(note) / (NOTES_TEXT_WIDTH * 1.25)),
                        math.ceil(len(label) / (38 * 1.25)),
                        math.ceil(len(out.cell(r, 2).value) / (NOTES_WHO_WIDTH * 1.2)), 1)
            if lines > 1:
                out.row_dimensions[r].height = 11.5 * lines + 2  # 9 pt lines
            r += 1
            n += 1
        r += 1
    out.print_title_rows = "1:2"
    out.page_setup.orientation = "landscape"
    out.page_setup.fitToWidth = 1
    out.page_setup.fitToHeight = 0
    out.sheet_properties.pageSetUpPr.fitToPage = True
    out.page_margins.left = out.page_margins.right = 0.4
    return n


def _companies(blocks: list[str]) -> str:
    """The company blocks a note applies to, by ticker where the block header names one."""
    tickers = [b.split("(")[-1].rstrip(")") if "(" in b else b for b in blocks]
    return ", ".join(t for t in tickers if t)


def _text_of(ws: Any, stamp: dict, r: int, c: int) -> str:
    """A cell's text as the reader sees it (a kept formula's result, never its source)."""
    v = _value(ws, stamp, r, c)
    if isinstance(v, str) and v.startswith("="):
        return ""
    return "" if v is None else str(v)


def _is_section(ws: Any, r: int) -> bool:
    fill = ws.cell(r, 2).fill
    colour = getattr(getattr(fill, "fgColor", None), "rgb", None)
    return isinstance(colour, str) and colour.upper().endswith("1F3864")


def pdf_copy(xlsx: Any, dest: Any) -> None:
    """Write ``dest``: the client ``xlsx`` without the sheets of :data:`PDF_LEFT_OUT` (their
    ``<sheet>`` entries and the defined names that point at them), for rendering the PDF."""
    import zipfile

    from aicapex.excel.cached import workbook_part

    with zipfile.ZipFile(xlsx) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        wb_part = workbook_part(zin)
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == wb_part:
                data = _without_sheets(data.decode("utf-8"), set(PDF_LEFT_OUT)).encode("utf-8")
            zout.writestr(info, data)


def refers_to_sheets(formula: str, sheets: set[str]) -> bool:
    """Whether a formula (a defined name's) refers to any of ``sheets`` (case ignored, as in
    Excel), read with the formula package's parser; an unreadable formula refers to none.

    >>> refers_to_sheets("'xlwings.conf'!$A$1,Ratios!$1:$5", {"XLWINGS.CONF"})
    True
    >>> refers_to_sheets('SUM(Data!A1:A3)&"Changes!A1"', {"Changes"})
    False
    """
    wanted = {s.lower() for s in sheets}
    try:
        parsed = parse(formula)
    except ParseError:
        return False
    return any((node.sheet or "").lower() in wanted for node in (*parsed.refs, *parsed.names))


def _without_sheets(xml: str, drop: set[str]) -> str:
    """workbook.xml without the ``drop`` sheets: their ``<sheet>`` entries go, names that
    point at them go, and sheet-local names are renumbered (``localSheetId`` is a position)."""
    import re

    sheets = re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"[^>]*/>', xml)
    kept = [s for s in sheets if s not in drop]
    new_index = {i: kept.index(s) for i, s in enumerate(sheets) if s in kept}
    for name in drop:
        xml = re.sub(rf'<(\w+:)?sheet\b[^>]*\bname="{re.escape(name)}"[^>]*/>', "", xml)

    def name_entry(m: re.Match) -> str:
        text, local = m.group(0), re.search(r'localSheetId="(\d+)"', m.group(0))
        if refers_to_sheets(unescape(m.group("body"), {"&apos;": "'", "&quot;": '"'}), drop):
            return ""
        if local:
            i = int(local.group(1))
            if i not in new_index:
                return ""
            text = text.replace(local.group(0), f'localSheetId="{new_index[i]}"')
        return text

    return re.sub(r"<(?:\w+:)?definedName\b[^>]*>(?P<body>[^<]*)</(?:\w+:)?definedName>",
                  name_entry, xml)
