"""Structured references to Excel Tables, resolved to A1 ranges.

Covered: ``tbl[col]``, ``tbl[[col1]:[col2]]``, ``tbl[]`` / ``tbl[#Data]``, ``tbl[#All]``,
``tbl[#Headers]``, ``tbl[#Totals]``, the combinations ``tbl[[#Headers],[col]]``,
``tbl[[#Headers],[#Data],[col]]``, ``tbl[[#Data],[#Totals],[col]]``, and this row:
``tbl[[#This Row],[col]]`` (how Excel stores ``tbl[@col]``), ``tbl[@col]``, ``[@col]`` (the
table around the cell). Table and column names are case-insensitive; ``'`` escapes in
column names are honoured.

>>> from openpyxl import Workbook
>>> from openpyxl.worksheet.table import Table
>>> wb = Workbook()
>>> ws = wb.active
>>> for row in (["ticker", "value musd"], ["MSFT", 1], ["AMZN", 2]):
...     ws.append(row)
>>> ws.add_table(Table(displayName="tblData", ref="A1:B3"))
>>> tables = TableIndex(wb)
>>> from aicapex.formula.parser import parse
>>> ref = tables.resolve(parse("=tblData[value musd]").structs[0], ("Sheet", 9, 9))
>>> ref.sheet, ref.r1, ref.c1, ref.r2, ref.c2
('Sheet', 2, 2, 3, 2)
>>> tables.resolve(parse("=tblData[[#This Row],[ticker]]").structs[0], ("Sheet", 3, 5)).text
"'Sheet'!A3"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openpyxl.utils.cell import get_column_letter, range_boundaries

from aicapex.formula.parser import Literal, Node, Ref, StructRef
from aicapex.xlerrors import XlError

__all__ = ["TableIndex", "TableInfo", "UnresolvedTable"]


class UnresolvedTable(Exception):
    """A structured reference that names no table or column of the workbook."""


@dataclass(frozen=True)
class TableInfo:
    name: str
    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int
    header_rows: int
    totals_rows: int
    columns: dict[str, int]  # lower-cased name -> 0-based position


class TableIndex:
    """The tables of a workbook, by name and by sheet."""

    def __init__(self, wb: Any) -> None:
        self.by_name: dict[str, TableInfo] = {}
        for ws in wb.worksheets:
            for table in getattr(ws, "tables", {}).values():
                c1, r1, c2, r2 = range_boundaries(table.ref)
                header = 1 if table.headerRowCount is None else int(table.headerRowCount)
                totals = int(table.totalsRowCount or 0)
                names = [c.name for c in (table.tableColumns or [])]
                if not names and header:  # a table written without its column list
                    names = [str(ws.cell(row=r1, column=c).value or "") for c in range(c1, c2 + 1)]
                cols = {str(n).strip().lower(): i for i, n in enumerate(names)}
                info = TableInfo(table.displayName or table.name, ws.title, r1, c1, r2, c2,
                                 header, totals, cols)
                self.by_name[info.name.lower()] = info

    def around(self, key: tuple[str, int, int]) -> TableInfo | None:
        sheet, r, c = key
        for t in self.by_name.values():
            if t.sheet == sheet and t.r1 <= r <= t.r2 and t.c1 <= c <= t.c2:
                return t
        return None

    def resolve(self, node: StructRef, key: tuple[str, int, int] | None) -> Node:
        """The A1 :class:`Ref` a structured reference means in the cell ``key`` (None
        outside a cell, e.g. in a defined name), or a :class:`Literal` error value.

        Raises :class:`UnresolvedTable` for an unknown table or column.
        """
        if node.table is None:
            table = self.around(key) if key is not None else None
            if table is None:
                raise UnresolvedTable(f"structured reference {node.text} is not inside a table")
        else:
            table = self.by_name.get(node.table.lower())
            if table is None:
                raise UnresolvedTable(f"structured reference {node.text}: no table named {node.table}")
        c1, c2 = table.c1, table.c2
        if node.first is not None:
            idx = []
            for col in (node.first, node.last):
                pos = table.columns.get(col.lower())
                if pos is None:
                    raise UnresolvedTable(f"structured reference {node.text}: table {table.name} "
                                          f"has no column {col!r}")
                idx.append(table.c1 + pos)
            c1, c2 = min(idx), max(idx)
        data_r1 = table.r1 + table.header_rows
        data_r2 = table.r2 - table.totals_rows
        items = set(node.items)
        if "#this row" in items:
            if key is None or key[0] != table.sheet or not data_r1 <= key[1] <= data_r2:
                return Literal(XlError("#VALUE!", f"{node.text} used outside the table's rows"))
            r1 = r2 = key[1]
        elif "#all" in items:
            r1, r2 = table.r1, table.r2
        else:
            want_h, want_t = "#headers" in items, "#totals" in items
            want_d = "#data" in items or not (want_h or want_t)
            if (want_h and not table.header_rows) or (want_t and not table.totals_rows):
                return Literal(XlError("#REF!", f"{node.text}: the table has no such row"))
            if want_h and want_t and not want_d:
                return Literal(XlError("#REF!", f"{node.text}: headers and totals only"))
            sections = []  # headers, data, totals: contiguous, in sheet order
            if want_h:
                sections.append((table.r1, data_r1 - 1))
            if want_d:
                sections.append((data_r1, data_r2))
            if want_t:
                sections.append((data_r2 + 1, table.r2))
            r1, r2 = sections[0][0], sections[-1][1]
            if r1 > r2:
                return Literal(XlError("#REF!", f"{node.text}: the table has no data rows"))
        a = f"{get_column_letter(c1)}{r1}"
        b = f"{get_column_letter(c2)}{r2}"
        sheet = table.sheet.replace("'", "''")
        text = f"'{sheet}'!{a}" if (r1, c1) == (r2, c2) else f"'{sheet}'!{a}:{b}"
        return Ref(table.sheet, r1, c1, r2, c2, text)
