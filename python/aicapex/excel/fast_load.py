"""openpyxl's ``load_workbook``, with a faster reading of plain text cells.

openpyxl writes every text cell inline (``<c t="inlineStr"><is><t>text</t></is></c>``) and
reads each one back through its generic ``Text.from_tree`` (descriptor objects for rich-text
runs and phonetic hints that a plain string does not have): in the analyst workbook, whose
Data and Sources tables are mostly text, that is about a sixth of a load. :func:`load_workbook`
reads a plain inline string (one ``<t>``, no formula) directly and leaves every other cell to
openpyxl; the workbook it returns is the one openpyxl builds (the tests compare them cell by
cell).

The loop over the worksheets (:meth:`_Reader.read_worksheets`) is openpyxl 3.1's
``ExcelReader.read_worksheets`` (MIT licence, (c) 2010-2024 openpyxl) with our worksheet
reader in place of its own, the one thing that method does not let a caller choose.
"""

from __future__ import annotations

import warnings
from typing import Any

from openpyxl.cell import MergedCell
from openpyxl.comments.comment_sheet import CommentSheet
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.relationship import RelationshipList, get_dependents, get_rels_path
from openpyxl.pivot.table import TableDefinition
from openpyxl.reader.drawings import find_images
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import (
    FORMULA_TAG,
    INLINE_STRING,
    WorkSheetParser,
    WorksheetReader,
)
from openpyxl.worksheet.table import Table
from openpyxl.xml.constants import COMMENTS_NS, SHEET_MAIN_NS
from openpyxl.xml.functions import fromstring

__all__ = ["load_workbook"]

_TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"


def load_workbook(source: Any, *, keep_vba: bool = False, keep_links: bool = True) -> Any:
    """openpyxl's ``load_workbook(source, keep_vba=..., keep_links=...)`` (formulas, not
    cached values; no rich text), faster on text cells."""
    reader = _Reader(source, False, keep_vba, False, keep_links, False)
    reader.read()
    return reader.wb


class _Parser(WorkSheetParser):
    def parse_cell(self, element: Any) -> dict[str, Any]:
        if element.get("t") == "inlineStr" and not self.rich_text:
            inline = element.find(INLINE_STRING)
            if (inline is not None and len(inline) == 1 and inline[0].tag == _TEXT_TAG
                    and element.find(FORMULA_TAG) is None):
                # What openpyxl's Text.from_tree(inline).content gives for one plain <t>.
                coordinate = element.get("r")
                if coordinate:
                    row, column = coordinate_to_tuple(coordinate)
                    self.col_counter = column
                else:
                    self.col_counter += 1
                    row, column = self.row_counter, self.col_counter
                style_id = element.get("s", 0)
                return {"row": row, "column": column, "value": inline[0].text or "",
                        "data_type": "s", "style_id": int(style_id) if style_id else 0}
        return super().parse_cell(element)


class _WorksheetReader(WorksheetReader):
    def __init__(self, ws: Any, xml_source: Any, shared_strings: Any, data_only: bool,
                 rich_text: bool) -> None:
        super().__init__(ws, xml_source, shared_strings, data_only, rich_text)
        self.parser = _Parser(xml_source, shared_strings, data_only, ws.parent.epoch,
                              ws.parent._date_formats, ws.parent._timedelta_formats, rich_text)


class _Reader(ExcelReader):
    def read_worksheets(self) -> None:  # openpyxl 3.1.5, with _WorksheetReader
        comment_warning = ("Cell '{0}':{1} is part of a merged range but has a comment which "
                           "will be removed because merged cells cannot contain any data.")
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue

            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue

            rels_path = get_rels_path(rel.target)
            rels = RelationshipList()
            if rels_path in self.valid_files:
                rels = get_dependents(self.archive, rels_path)

            if self.read_only:
                ws = ReadOnlyWorksheet(self.wb, sheet.name, rel.target, self.shared_strings)
                ws.sheet_state = sheet.state
                self.wb._sheets.append(ws)
                continue
            fh = self.archive.open(rel.target)
            ws = self.wb.create_sheet(sheet.name)
            ws._rels = rels
            ws_parser = _WorksheetReader(ws, fh, self.shared_strings, self.data_only,
                                         self.rich_text)
            ws_parser.bind_all()
            fh.close()

            # assign any comments to cells
            for r in rels.find(COMMENTS_NS):
                src = self.archive.read(r.target)
                comment_sheet = CommentSheet.from_tree(fromstring(src))
                for ref, comment in comment_sheet.comments:
                    try:
                        ws[ref].comment = comment
                    except AttributeError:
                        c = ws[ref]
                        if isinstance(c, MergedCell):
                            warnings.warn(comment_warning.format(ws.title, c.coordinate),
                                          stacklevel=2)
                            continue

            # preserve link to VML file if VBA
            if self.wb.vba_archive and ws.legacy_drawing:
                ws.legacy_drawing = rels.get(ws.legacy_drawing).target
            else:
                ws.legacy_drawing = None

            for t in ws_parser.tables:
                src = self.archive.read(t)
                xml = fromstring(src)
                table = Table.from_tree(xml)
                ws.add_table(table)

            drawings = rels.find(SpreadsheetDrawing._rel_type)
            for drawing in drawings:
                charts, images = find_images(self.archive, drawing.target)
                for c in charts:
                    ws.add_chart(c, c.anchor)
                for im in images:
                    ws.add_image(im, im.anchor)

            pivot_rel = rels.find(TableDefinition.rel_type)
            pivot_caches = self.parser.pivot_caches
            for r in pivot_rel:
                pivot_path = r.Target
                src = self.archive.read(pivot_path)
                tree = fromstring(src)
                pivot = TableDefinition.from_tree(tree)
                pivot.cache = pivot_caches[pivot.cacheId]
                ws.add_pivot(pivot)

            ws.sheet_state = sheet.state
