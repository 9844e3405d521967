"""The table sheets: Data (``tblData``), Sources (``tblSources``) and Changes (``tblChanges``).

One Excel Table each, header on row 5, snake_case headers that match the CSV; the refresh
rewrites their bodies (WORKBOOK_STYLE.md §2).
"""

from __future__ import annotations

from typing import Any

from aicapex.data.dataset import Dataset
from aicapex.data.provenance import parse_source
from aicapex.excel import layout as L
from aicapex.excel.sheetkit import BuildContext, check_format, print_setup
from aicapex.excel.styles import TAB_COLOURS


def table_sheet(ctx: BuildContext, ws: Any, title: str, purpose: str, name: str,
                columns: list[str], rows: list[list[Any]], widths: list[int]) -> None:
    s = ctx.styles
    ws.set_tab_color(TAB_COLOURS.get(ws.name, "#595959"))
    ws.write_string(0, 0, title, s("title"))
    ws.write_string(1, 0, purpose, s("subtitle"))
    ws.write_string(2, 0, "Master check", s("label"))
    ws.write_formula(2, 1, "=chk_Master", s("link", "check"), 0)
    check_format(ctx, ws, "B3")
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    write_table(ctx, ws, name, columns, rows)
    ws.freeze_panes(L.DATA_HEADER_ROW + 1, 0)
    print_setup(ws, title)


def write_table(ctx: BuildContext, ws: Any, name: str, columns: list[str],
                rows: list[list[Any]]) -> None:
    """An Excel Table with its header on row 5; text written as text, never as a formula."""
    s = ctx.styles
    body = rows or [[""] * len(columns)]
    first = L.DATA_HEADER_ROW
    ws.add_table(first, 0, first + len(body), len(columns) - 1, {
        "name": name, "style": "Table Style Light 9",
        "columns": [{"header": c} for c in columns]})
    for i, row in enumerate(body):
        for j, v in enumerate(row):
            rr = first + 1 + i
            if isinstance(v, str):
                if columns[j] == "url" and v:
                    ws.write_url(rr, j, v, s("hyperlink"), string=v)
                else:
                    ws.write_string(rr, j, v, s("table_text"))
            elif v is None:
                ws.write_blank(rr, j, None)
            elif columns[j] in ("fiscal_year",):
                ws.write_number(rr, j, v, s("calc", "year"))
            else:
                ws.write_number(rr, j, v, s("calc", "musd"))


def data_rows(ds: Dataset) -> list[list[Any]]:
    """The body of ``tblData``: every annual figure with its tier and source."""
    frame = ds.annual
    return [[r.ticker, int(r.fiscal_year), r.fiscal_year_end, r.field, float(r.value_musd),
             r.tier, r.source, r.note or ""]
            for r in frame[L.DATA_COLUMNS].itertuples(index=False)]


def source_rows(ds: Dataset) -> list[list[Any]]:
    """The body of ``tblSources``: form, accession and EDGAR address behind each figure."""
    out = []
    for r in ds.annual.itertuples(index=False):
        p = parse_source(r.ticker, r.source)
        out.append([r.ticker, int(r.fiscal_year), r.field, float(r.value_musd), r.tier, p.form,
                    p.accession, r.source, p.url, r.note or ""])
    return out


def write_data(ctx: BuildContext, ws: Any) -> None:
    table_sheet(ctx, ws, "Data", "Reported figures, USD millions, one per row, with the grade of "
                "its source (tier: filing / release / secondary) and the source (refresh rewrites "
                "this table)", "tblData", L.DATA_COLUMNS, data_rows(ctx.ds),
                [8, 11, 15, 30, 13, 10, 80, 50])


def write_sources(ctx: BuildContext, ws: Any) -> None:
    table_sheet(ctx, ws, "Sources", "The filing behind each figure (EDGAR link where the accession "
                "number is known) and its tier", "tblSources", L.SOURCES_COLUMNS,
                source_rows(ctx.ds), [8, 11, 30, 13, 10, 8, 22, 80, 60, 50])


def write_changes(ctx: BuildContext, ws: Any) -> None:
    table_sheet(ctx, ws, "Changes", "What the last refresh changed", "tblChanges",
                L.CHANGES_COLUMNS, [], [12, 10, 50, 14, 14, 14])
