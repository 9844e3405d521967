"""Save an openpyxl workbook with cached formula results, in one pass.

openpyxl writes every cell as an ElementTree element (the slowest part of a save) and every
formula with an empty ``<v/>``; :func:`aicapex.excel.cached.stamp_cached_values` then rewrites
the saved zip to put the results in. :func:`save_with_cached_values` does both at once: the
workbook is written by openpyxl's own :class:`~openpyxl.writer.excel.ExcelWriter` except each
worksheet's ``<sheetData>``, which is written here as text, with the results already stamped
(same cell types and rules as :func:`~aicapex.excel.cached.stamp_cached_values`). It also adds
what openpyxl does not keep, given as :class:`PackageAdditions`: the dynamic-array metadata
part (:mod:`aicapex.excel.dynamic_arrays`) and the shape drawings of sheets without charts,
such as the Cover's web Refresh button (:mod:`aicapex.excel.shapes`).

The worksheet writer mirrors openpyxl 3.1's (``WorksheetWriter.write_rows`` and
``ExcelWriter.write_worksheet``): rows from the cells and the row dimensions, a cell skipped
when it has no value, style or comment, comments and hyperlinks collected in cell order. The
tests compare its output cell by cell with openpyxl's save followed by the stamp.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl.cell._writer import _set_attributes
from openpyxl.cell.rich_text import CellRichText
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.relationship import Relationship
from openpyxl.utils.cell import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.constants import ARC_WORKBOOK_RELS
from openpyxl.xml.functions import tostring

from aicapex.errors import AicapexError
from aicapex.excel.cached import WithAttributes, encode_value, grow_dimension, split_coord, xml_text

__all__ = ["DRAWING_TYPE", "PackageAdditions", "save_with_cached_values"]

DRAWING_TYPE = "application/vnd.openxmlformats-officedocument.drawing+xml"
DRAWING_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_PLACEHOLDER = "AICAPEX-SHEETDATA-PLACEHOLDER"
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
#: Worksheet elements that come after ``<drawing>`` (ECMA-376 CT_Worksheet order).
_AFTER_DRAWING = re.compile(
    r"<(?:legacyDrawing|legacyDrawingHF|drawingHF|picture|oleObjects|controls|"
    r"webPublishItems|tableParts|extLst)\b|</worksheet>")


@dataclass
class PackageAdditions:
    """Parts openpyxl does not keep, added to the saved package.

    ``parts``: part name -> bytes; ``content_types``: part name -> content type (an
    ``Override``); ``workbook_rels``: ``(type, target)`` relationships of the workbook part;
    ``drawings``: sheet title -> ``(drawing XML, its .rels XML or None)``, a shape drawing for
    a sheet that has no chart or image of openpyxl's (named ``xl/drawings/drawingN.xml`` after
    openpyxl's own and linked from the sheet).
    """

    parts: dict[str, bytes] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)
    workbook_rels: list[tuple[str, str]] = field(default_factory=list)
    drawings: dict[str, tuple[bytes, bytes | None]] = field(default_factory=dict)


def save_with_cached_values(
    wb: Any,
    path: str | Path,
    values: Mapping[tuple[str, str], object],
    additions: PackageAdditions | None = None,
) -> int:
    """Save ``wb`` to ``path`` with ``values`` stored as cached cell results.

    Parameters
    ----------
    wb : openpyxl.Workbook
        Not write-only. Left as after ``wb.save`` (openpyxl's writer sets some bookkeeping).
    path
        The file to write (.xlsx/.xlsm).
    values
        ``(sheet title, "F12") -> value``, as for
        :func:`~aicapex.excel.cached.stamp_cached_values`: a formula cell keeps its formula and
        gets the value as its cached result; any other cell gets the value itself (inserted if
        missing, style kept). A :class:`~aicapex.excel.cached.WithAttributes` adds attributes
        to the cell (``cm`` of a dynamic array).
    additions : PackageAdditions, optional
        Parts to add (see the class).

    Returns
    -------
    int
        The number of cells whose value came from ``values``.
    """
    if getattr(wb, "write_only", False):
        raise AicapexError("save_with_cached_values: a write-only workbook cannot be stamped")
    additions = additions or PackageAdditions()
    by_sheet: dict[str, dict[tuple[int, int], object]] = defaultdict(dict)
    for (sheet, coord), value in values.items():
        by_sheet[sheet][split_coord(coord)] = value
    missing = sorted(set(by_sheet) - set(wb.sheetnames))
    if missing:
        raise AicapexError(f"no sheet named {missing[0]!r} to store cached values in")
    unknown = sorted(set(additions.drawings) - set(wb.sheetnames))
    if unknown:
        raise AicapexError(f"no sheet named {unknown[0]!r} to carry a drawing for")
    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True) as zf:
        archive = _Archive(zf, additions)
        writer = _StampingExcelWriter(wb, archive, by_sheet, additions)
        writer.write_data()
        archive.finish(writer)
    return sum(len(cells) for cells in by_sheet.values())


class _Archive:
    """The zip openpyxl writes into: adds the workbook relationships on the way and checks
    that no part is written twice (a carried drawing must not take openpyxl's name)."""

    def __init__(self, zf: ZipFile, additions: PackageAdditions) -> None:
        self.zf = zf
        self.additions = additions
        self.names: set[str] = set()

    def _claim(self, name: str) -> None:
        if name in self.names:
            raise AicapexError(f"save_with_cached_values: part {name} written twice")
        self.names.add(name)

    def writestr(self, name: str, data: bytes | str, *args: Any, **kwargs: Any) -> None:
        self._claim(name)
        if name == ARC_WORKBOOK_RELS and self.additions.workbook_rels:
            data = _add_relationships(data, self.additions.workbook_rels)
        self.zf.writestr(name, data, *args, **kwargs)

    def write(self, filename: str, arcname: str, *args: Any, **kwargs: Any) -> None:
        self._claim(arcname)
        self.zf.write(filename, arcname, *args, **kwargs)

    def namelist(self) -> list[str]:
        return self.zf.namelist()

    def finish(self, writer: _StampingExcelWriter) -> None:
        for name, data in self.additions.parts.items():
            self.writestr(name, data)
        for name, (xml, rels) in writer.carried.items():
            self.writestr(name, xml)
            if rels is not None:
                folder, base = posixpath.split(name)
                self.writestr(posixpath.join(folder, "_rels", base + ".rels"), rels)


def _add_relationships(data: bytes | str, rels: list[tuple[str, str]]) -> bytes:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    used = set(re.findall(r'\bId="([^"]+)"', text))
    extra = []
    n = 1
    for rel_type, target in rels:
        if f'Type="{rel_type}"' in text:
            continue
        while f"rId{n}" in used:
            n += 1
        used.add(f"rId{n}")
        extra.append(f'<Relationship Id="rId{n}" Type="{rel_type}" Target="{target}"/>')
    end = text.rfind("</")
    if end < 0:
        raise AicapexError("workbook relationships part has no closing tag")
    return (text[:end] + "".join(extra) + text[end:]).encode("utf-8")


class _StampingExcelWriter(ExcelWriter):
    """openpyxl's package writer with :class:`_StampingSheetWriter` for worksheets."""

    def __init__(self, wb: Any, archive: _Archive,
                 by_sheet: Mapping[str, dict[tuple[int, int], object]],
                 additions: PackageAdditions) -> None:
        super().__init__(wb, archive)
        self.by_sheet = by_sheet
        self.additions = additions
        self.carried: dict[str, tuple[bytes, bytes | None]] = {}
        # openpyxl numbers its drawings 1..n in sheet order (one per worksheet with charts or
        # images, one per chartsheet); carried drawings follow.
        self.next_drawing = 1 + sum(1 for ws in wb.worksheets if ws._charts or ws._images) \
            + len(wb.chartsheets)

    def write_worksheet(self, ws: Any) -> None:  # mirrors ExcelWriter.write_worksheet
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        cells = self.by_sheet.get(ws.title, {})
        writer = _StampingSheetWriter(ws, cells, ws.parent.epoch)
        writer.write()
        ws._rels = writer._rels
        xml = Path(writer.out).read_text(encoding="utf-8")
        placeholder = f"<sheetData>{_PLACEHOLDER}</sheetData>"
        if xml.count(placeholder) != 1:
            raise AicapexError(f"{ws.title}: unexpected worksheet XML from openpyxl")
        xml = xml.replace(placeholder, writer.sheet_data)
        xml = grow_dimension(xml, _by_row(cells))
        carried = self.additions.drawings.get(ws.title)
        if carried is not None:
            if ws._charts or ws._images:
                raise AicapexError(f"{ws.title}: a carried drawing cannot join charts or images")
            name = f"xl/drawings/drawing{self.next_drawing}.xml"
            self.next_drawing += 1
            self.carried[name] = carried
            rel = Relationship(Id="aicapexShapes", Type=DRAWING_REL, Target="/" + name)
            ws._rels.append(rel)
            self.manifest.append(SimpleNamespace(path="/" + name, mime_type=DRAWING_TYPE))
            xml = _insert_drawing(xml, rel.Id)
        self._archive.writestr(ws.path[1:], xml.encode("utf-8"))
        self.manifest.append(ws)
        writer.cleanup()

    def write_data(self) -> None:
        for name, content_type in self.additions.content_types.items():
            self.manifest.append(SimpleNamespace(path="/" + name.lstrip("/"),
                                                 mime_type=content_type))
        super().write_data()


def _quoteattr(value: object) -> str:
    """An attribute value in double quotes, escaped as ElementTree escapes it."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
    return '"' + text.replace("\t", "&#09;") + '"'


def _insert_drawing(xml: str, rel_id: str) -> str:
    m = _AFTER_DRAWING.search(xml)
    if m is None or "<drawing " in xml:
        raise AicapexError("worksheet XML: no place for a drawing")
    element = f'<drawing xmlns:r="{NS_R}" r:id="{rel_id}"/>'
    return xml[:m.start()] + element + xml[m.start():]


def _by_row(cells: Mapping[tuple[int, int], object]) -> dict[int, dict[int, object]]:
    out: dict[int, dict[int, object]] = defaultdict(dict)
    for (r, c), v in cells.items():
        out[r][c] = v
    return out


class _StampingSheetWriter(WorksheetWriter):
    """openpyxl's worksheet writer; ``<sheetData>`` is built as text with the results in."""

    def __init__(self, ws: Any, cells: Mapping[tuple[int, int], object],
                 epoch: dt.datetime) -> None:
        super().__init__(ws)
        self.cells = cells
        self.epoch = epoch
        self.sheet_data = ""

    def write_rows(self) -> None:
        xf = self.xf.send(True)
        with xf.element("sheetData"):
            xf.write(_PLACEHOLDER)
        self.xf.send(None)
        self.sheet_data = "<sheetData>" + "".join(self._rows()) + "</sheetData>"

    def _rows(self):
        ws = self.ws
        stamped = self.cells
        styles = ws.parent._cell_styles
        rows: dict[int, list[tuple[int, Any]]] = defaultdict(list)
        for (r, c), cell in ws._cells.items():
            rows[r].append((c, cell))
        for (r, c) in stamped:
            if (r, c) not in ws._cells:
                rows[r].append((c, None))
        for r in ws.row_dimensions.keys() - rows.keys():
            rows[r] = []
        dims = ws.row_dimensions
        letters: dict[int, str] = {}
        for r in sorted(rows):
            attrs = {"r": f"{r}"}
            attrs.update(dims.get(r, {}))
            yield "<row" + "".join(f" {k}={_quoteattr(v)}" for k, v in attrs.items()) + ">"
            for c, cell in sorted(rows[r], key=lambda x: x[0]):
                col = letters.get(c) or letters.setdefault(c, get_column_letter(c))
                key = (r, c)
                if cell is None:
                    yield _value_cell(f' r="{col}{r}"', stamped[key], self.epoch)
                    continue
                if cell._comment is not None:
                    ws._comments.append(CommentRecord.from_cell(cell))
                style = cell._style
                styled = style is not None and any(style)
                if key not in stamped and cell._value is None and not styled \
                        and not cell._comment:
                    continue
                if cell.data_type == "d":  # dates: openpyxl's own conversion
                    value, attrs = _set_attributes(cell, styled)
                    head = "".join(f' {k}="{v}"' for k, v in attrs.items() if k != "t")
                    kind = attrs.get("t")
                else:  # as _set_attributes, without a dict per cell
                    if cell.hyperlink:
                        ws._hyperlinks.append(cell.hyperlink)
                    head = f' r="{col}{r}" s="{styles.add(style)}"' if styled else f' r="{col}{r}"'
                    value = cell._value
                    kind = "inlineStr" if cell.data_type == "s" else cell.data_type
                if key in stamped:
                    yield self._stamped_cell(cell, head, stamped[key])
                else:
                    yield _openpyxl_cell(cell, head, kind, value)
            yield "</row>"

    def _stamped_cell(self, cell: Any, head: str, value: object) -> str:
        """``head``: the cell's attributes but ``t``."""
        if isinstance(value, WithAttributes):
            names = {k for k, _ in value.attrs}
            head = "".join(f' {k}="{v}"' for k, v in _ATTR.findall(head) if k not in names)
            head += "".join(f" {k}={_quoteattr(v)}" for k, v in value.attrs)
            value = value.value
        if cell.data_type != "f":
            return _value_cell(head, value, self.epoch)
        formula = _formula_xml(cell._value)
        kind, text = encode_value(value, self.epoch)
        if text is None:
            return f"<c{head}>{formula}</c>"
        t = f' t="{kind}"' if kind is not None else ""
        return f"<c{head}{t}>{formula}<v>{xml_text(text)}</v></c>"


def _formula_xml(value: Any) -> str:
    if isinstance(value, ArrayFormula):
        attrs = "".join(f" {k}={_quoteattr(v)}" for k, v in dict(value).items())
        return f"<f{attrs}>{xml_text(value.text[1:])}</f>" if value.text else f"<f{attrs}/>"
    if isinstance(value, DataTableFormula):
        attrs = "".join(f" {k}={_quoteattr(v)}" for k, v in dict(value).items())
        return f"<f{attrs}/>"
    return f"<f>{xml_text(str(value)[1:])}</f>"


def _value_cell(head: str, value: object, epoch: dt.datetime) -> str:
    """A cell without a formula holding ``value`` (``head``: its attributes but ``t``)."""
    kind, text = encode_value(value, epoch)
    if text is None:
        return f"<c{head}/>"
    if kind == "str":
        space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
        return f'<c{head} t="inlineStr"><is><t{space}>{xml_text(text)}</t></is></c>'
    t = f' t="{kind}"' if kind is not None else ""
    return f"<c{head}{t}><v>{xml_text(text)}</v></c>"


def _openpyxl_cell(cell: Any, head: str, kind: str | None, value: Any) -> str:
    """The XML openpyxl writes for a cell (``etree_write_cell``), as text; ``head``: the
    attributes but ``t``, ``kind``: the ``t`` attribute (none for a formula)."""
    if kind and kind != "f":
        head += f' t="{kind}"'
    if value is None or value == "":
        return f"<c{head}/>"
    if kind == "f":
        return f"<c{head}>{_formula_xml(value)}<v/></c>"
    if kind == "inlineStr":
        if isinstance(value, CellRichText):
            return f"<c{head}>{tostring(value.to_tree()).decode('utf-8')}</c>"
        stripped = value.strip()
        space = ' xml:space="preserve"' if stripped and value != stripped else ""
        return f"<c{head}><is><t{space}>{xml_text(value)}</t></is></c>"
    return f"<c{head}><v>{xml_text(safe_string(value))}</v></c>"
