"""What the headless refresh writes besides the values: the one-pass save with cached results
(:mod:`aicapex.excel.stamped_save`) against openpyxl's save followed by the stamp, and the
parts openpyxl drops that the refresh carries through (dynamic-array metadata, the Cover's
``xlwings_button`` text box, issue #19)."""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from aicapex.excel import web
from aicapex.excel.cached import (
    WithAttributes,
    read_cached_values,
    read_formula_results,
    sheet_parts,
    stamp_cached_values,
)
from aicapex.excel.headless import refresh_file
from aicapex.excel.stamped_save import PackageAdditions, save_with_cached_values
from aicapex.xlerrors import XlError
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.worksheet.formula import ArrayFormula
from workbook_fixtures import NOW, build_template

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DRAWING_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"


def sheet_cells(xml: bytes) -> tuple[dict, dict, bytes]:
    """Cells (attributes, formula, stored value, inline text) and row attributes of a
    worksheet part, and the part without its sheetData, re-serialised for comparison."""
    root = ET.fromstring(xml)
    data = root.find(NS + "sheetData")
    cells, rows = {}, {}
    for row in data:
        rows[row.get("r")] = dict(row.attrib)
        for c in row:
            f, v, inline = c.find(NS + "f"), c.find(NS + "v"), c.find(NS + "is")
            cells[c.get("r")] = (
                dict(c.attrib),
                None if f is None else (f.text, dict(f.attrib)),
                None if v is None or not v.text else v.text,  # <v/> is no value
                None if inline is None else "".join(inline.itertext()))
    root.remove(data)
    return cells, rows, ET.tostring(root)


def assert_same_package(a: Path, b: Path, ignore: tuple[str, ...] = ("docProps/core.xml",)):
    """Same parts; worksheets equal cell by cell; [Content_Types] equal as a set."""
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert sorted(za.namelist()) == sorted(zb.namelist())
        sheets = set(sheet_parts(za).values())
        for name in za.namelist():
            x, y = za.read(name), zb.read(name)
            if name in ignore or x == y:
                continue
            if name in sheets:
                (ca, ra, rest_a), (cb, rb, rest_b) = sheet_cells(x), sheet_cells(y)
                assert ca == cb, (name, sorted(k for k in set(ca) | set(cb)
                                               if ca.get(k) != cb.get(k))[:5])
                assert ra == rb, name
                assert rest_a == rest_b, name
            elif name == "[Content_Types].xml":
                assert ({tuple(sorted(e.attrib.items())) for e in ET.fromstring(x)}
                        == {tuple(sorted(e.attrib.items())) for e in ET.fromstring(y)})
            else:
                raise AssertionError(f"{name} differs")


def openpyxl_then_stamp(wb, path: Path, values) -> None:
    raw = path.with_name(path.name + ".raw")
    wb.save(raw)
    stamp_cached_values(raw, path, values)


# -- one-pass save == openpyxl save + stamp ---------------------------------------------------


def test_one_pass_save_writes_what_openpyxl_and_the_stamp_write(refreshed_workbook, tmp_path):
    def load():  # a workbook per save: openpyxl's save sets a few defaults on the workbook
        return openpyxl.load_workbook(refreshed_workbook, keep_vba=True)

    values = dict(read_formula_results(refreshed_workbook))
    # every kind of result, on existing cells, missing cells and a missing row
    values.update({
        ("Ratios", "F8"): XlError("#N/A", "not reported"),
        ("Ratios", "G8"): True,
        ("Ratios", "H8"): "text <&> with spaces ",
        ("Ratios", "I8"): float("nan"),
        ("Ratios", "J8"): dt.datetime(2026, 3, 31, 12),
        ("Ratios", "K8"): None,
        ("Cover", "B2"): 7.25,  # a cell without a formula gets the value itself
        ("Cover", "ZZ3"): "inserted at the end of a row",
        ("Dashboard", "C999"): 1.5,  # a new row
        ("Scenarios", "F36"): WithAttributes(1.0, (("cm", "1"),)),
    })
    expected, got = tmp_path / "expected.xlsm", tmp_path / "got.xlsm"
    openpyxl_then_stamp(load(), expected, values)
    assert save_with_cached_values(load(), got, values) == len(values)
    assert_same_package(expected, got)


def _small_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "My Sheet"
    ws["A1"] = 4
    ws["A2"] = "  padded  "
    ws["A3"] = dt.datetime(2026, 1, 2, 3, 4)
    ws["A4"] = True
    ws["A5"] = "=A1*2"
    ws["A6"] = ArrayFormula("A6:A7", "=A1:A2")
    ws["A8"] = "=\"quoted & <escaped>\""
    ws["B1"].font = Font(bold=True)  # styled, no value: kept
    ws["B2"].comment = Comment("a note", "me")
    ws["B3"] = "link"
    ws["B3"].hyperlink = "https://example.com/?a=1&b=2"
    ws["B4"] = "=#N/A"
    ws.row_dimensions[10].height = 30  # a row with no cells
    ws.row_dimensions[2].hidden = True
    ws.merge_cells("C1:D2")
    wb.create_sheet("Other")["A1"] = 1
    return wb


def test_one_pass_save_of_comments_links_merges_arrays_and_row_formats(tmp_path):
    values = {("My Sheet", "A5"): 8, ("My Sheet", "A6"): 4, ("My Sheet", "A7"): "  padded  ",
              ("My Sheet", "A8"): "quoted & <escaped>", ("My Sheet", "B4"): XlError("#N/A"),
              ("My Sheet", "E5"): "spill", ("Other", "B1"): False}
    expected, got = tmp_path / "expected.xlsx", tmp_path / "got.xlsx"
    openpyxl_then_stamp(_small_workbook(), expected, values)
    save_with_cached_values(_small_workbook(), got, values)
    assert_same_package(expected, got)
    wb = openpyxl.load_workbook(got)
    ws = wb["My Sheet"]
    assert ws["B2"].comment.text == "a note"
    assert ws["B3"].hyperlink.target == "https://example.com/?a=1&b=2"
    assert ws.row_dimensions[10].height == 30 and ws.row_dimensions[2].hidden
    assert str(ws.merged_cells) == "C1:D2"
    assert read_cached_values(got)[("My Sheet", "A8")] == "quoted & <escaped>"


# -- carried through the refresh ----------------------------------------------------------------


def _part_target(part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def _rels(zf: zipfile.ZipFile, part: str) -> list[ET.Element]:
    folder, name = posixpath.split(part)
    root = ET.fromstring(zf.read(posixpath.join(folder, "_rels", name + ".rels")))
    return list(root.iter(PKG + "Relationship"))


def web_button(path: Path) -> tuple[str, str] | None:
    """(shape name, its hyperlink target) of the Cover's shape named xlwings_button."""
    with zipfile.ZipFile(path) as zf:
        cover = sheet_parts(zf)["Cover"]
        rid = re.search(rb'<drawing [^>]*r:id="([^"]+)"', zf.read(cover))
        if rid is None:
            return None
        rel = {r.get("Id"): r for r in _rels(zf, cover)}[rid.group(1).decode()]
        assert rel.get("Type") == DRAWING_REL
        drawing = _part_target(cover, rel.get("Target"))
        xml = zf.read(drawing).decode()
        types = zf.read("[Content_Types].xml").decode()
        assert f'PartName="/{drawing}"' in types  # Excel needs the part's content type
        links = {r.get("Id"): r.get("Target") for r in _rels(zf, drawing)}
    shape = re.search(r'<xdr:cNvPr [^>]*name="(xlwings_button)"[^>]*>(.*?)</xdr:cNvPr>', xml)
    if shape is None:
        return None
    link = re.search(r'r:id="([^"]+)"', shape.group(2)).group(1)
    return shape.group(1), links[link]


@pytest.fixture(scope="module")
def refreshed_twice(tmp_path_factory) -> Path:
    path = build_template(tmp_path_factory.mktemp("button"))
    assert web_button(path) == (web.WEB_BUTTON, "#Cover!B3")  # the template has it
    refresh_file(path, now=NOW, backup=False)
    refresh_file(path, now=NOW, backup=False)
    return path


def test_the_cover_web_button_survives_the_headless_refresh(refreshed_twice):
    # openpyxl drops shapes on save: before issue #19 the refreshed file had no button
    assert web_button(refreshed_twice) == (web.WEB_BUTTON, f"#{'!'.join(web.WEB_BUTTON_CELL)}")
    with zipfile.ZipFile(refreshed_twice) as zf:
        names = zf.namelist()
        charts = [n for n in names if n.startswith("xl/charts/chart")]
        assert len(charts) == 12  # every other sheet keeps its charts
        assert len(set(names)) == len(names)
        assert "xl/drawings/vmlDrawing1.vml" in names  # the desktop form buttons too


def test_the_refreshed_workbook_with_its_button_opens_in_libreoffice(refreshed_twice, tmp_path,
                                                                      soffice):
    from aicapex.excel.libreoffice import recalculate

    out = recalculate(refreshed_twice, tmp_path / "lo")  # LibreOffice opens and saves it
    assert web_button(out) == (web.WEB_BUTTON, "#Cover!B3")  # and reads the button
    wb = openpyxl.load_workbook(out)
    assert {"Cover", "Data", "Ratios"} <= set(wb.sheetnames)


def test_spilled_blocks_stay_dynamic_arrays_through_the_refresh(refreshed_twice):
    with zipfile.ZipFile(refreshed_twice) as zf:
        assert zf.read("xl/metadata.xml").count(b"XLDAPR") >= 1
        assert 'PartName="/xl/metadata.xml"' in zf.read("[Content_Types].xml").decode()
        assert "sheetMetadata" in zf.read("xl/_rels/workbook.xml.rels").decode()
        xml = zf.read(sheet_parts(zf)["Scenarios"]).decode()
    anchor = re.search(r'<c r="F36"[^>]*>', xml).group(0)
    assert 'cm="1"' in anchor


def test_shapes_beside_charts_are_named_in_a_warning(tmp_path):
    from aicapex.excel.shapes import ShapeDrawing, carry_shapes

    wb = openpyxl.Workbook()
    wb.active.title = "Dash"
    wb.active._charts.append(object())  # a sheet whose drawing openpyxl rewrites
    additions = PackageAdditions()
    drawing = ShapeDrawing("Dash", "xl/drawings/drawing1.xml", b"<x/>", None, ("Note 1",),
                           shapes_only=True)
    warnings = carry_shapes(wb, {"Dash": drawing}, additions)
    assert additions.drawings == {}
    assert warnings == ["Dash: shapes beside charts or pictures are not kept by the headless "
                        "refresh (Note 1)"]


def test_a_workbook_saved_by_openpyxl_alone_refreshes_without_shapes(tmp_path):
    path = build_template(tmp_path)
    plain = tmp_path / "plain.xlsm"
    openpyxl.load_workbook(path, keep_vba=True).save(plain)  # shapes gone
    shutil.copy(plain, path)
    refresh_file(path, now=NOW, backup=False)
    assert web_button(path) is None


def test_cells_with_finds_only_cell_start_tags_holding_the_marker():
    from aicapex.excel.cached import cells_with

    xml = ('<x:sheetData><x:row r="1">'
           '<x:c r="A1" t="e"><x:v>#N/A</x:v></x:c>'          # prefixed element
           '<x:c r="B1" t="e"/>'                               # self-closing: no value
           '<x:c r="C1" t="inlineStr"><x:is><x:t>t="e"</x:t></x:is></x:c>'  # marker in text
           '<x:c r="D1"><x:f>IF(A1="t=""e""",1,2)</x:f><x:v>2</x:v></x:c>'
           '<x:c r="E1" s="2" t="e"><x:f>1/0</x:f><x:v>#DIV/0!</x:v></x:c>'
           '</x:row></x:sheetData>')
    assert list(cells_with(xml, 't="e"')) == [
        ('r="A1" t="e"', "<x:v>#N/A</x:v>"),
        ('r="E1" s="2" t="e"', "<x:f>1/0</x:f><x:v>#DIV/0!</x:v>"),
    ]
    assert list(cells_with("<c r=\"A1\"></c>", 't="e"')) == []


# -- the refresh's load == openpyxl's load ------------------------------------------------------


def workbook_model(wb) -> dict:
    """What a loaded workbook holds, sheet by sheet, for comparing two loaders."""
    out = {"names": sorted((n, d.attr_text) for n, d in wb.defined_names.items()),
           "sheets": wb.sheetnames}
    for ws in wb.worksheets:
        cells = {(r, c): (type(cell).__name__, cell._value if not hasattr(cell._value, "text")
                          else (cell._value.text, cell._value.ref), cell.data_type,
                          tuple(cell._style) if cell._style is not None else None,
                          cell.hyperlink.target if cell.hyperlink else None,
                          cell.comment.text if getattr(cell, "comment", None) else None)
                 for (r, c), cell in ws._cells.items()}
        out[ws.title] = (cells, sorted(ws.tables.items()),
                         len(ws._charts), ws.legacy_drawing, str(ws.merged_cells),
                         sorted((k, dict(v)) for k, v in ws.row_dimensions.items()),
                         ws.sheet_state)
    return out


def test_the_refresh_loads_the_workbook_openpyxl_loads(refreshed_workbook, tmp_path):
    from aicapex.excel.fast_load import load_workbook

    # the analyst workbook, and a small one with rich text, blanks, whitespace and a comment
    small = tmp_path / "small.xlsx"
    wb = _small_workbook()
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    wb["Other"]["A2"] = CellRichText("plain ", TextBlock(InlineFont(b=True), "bold"))
    wb["Other"]["A3"] = ""
    wb["Other"]["A4"] = " \n "
    wb.save(small)
    for path, vba in ((refreshed_workbook, True), (small, False)):
        theirs = openpyxl.load_workbook(path, keep_vba=vba, keep_links=False)
        ours = load_workbook(path, keep_vba=vba, keep_links=False)
        assert workbook_model(ours) == workbook_model(theirs), path.name
        for book in (theirs, ours):
            if book.vba_archive is not None:
                book.vba_archive.close()
