"""atomic_write / check_writable, and stamping cached values into a saved workbook."""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import xlwings
from aicapex.errors import AicapexError
from aicapex.excel.atomic import atomic_write, backup_path, check_writable
from aicapex.excel.cached import read_cached_values, sheet_parts, stamp_cached_values
from aicapex.xlerrors import XlError


# --------------------------------------------------------------------------- atomic_write
def test_atomic_write_creates_then_keeps_one_backup(tmp_path):
    target = tmp_path / "book.xlsx"
    atomic_write(target, lambda p: p.write_bytes(b"v1"))
    assert target.read_bytes() == b"v1" and not backup_path(target).exists()
    atomic_write(target, lambda p: p.write_bytes(b"v2"))
    atomic_write(target, lambda p: p.write_bytes(b"v3"))
    assert target.read_bytes() == b"v3"
    assert backup_path(target).read_bytes() == b"v2"  # one backup, replaced each time
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "book.xlsx.bak"]
    atomic_write(target, lambda p: p.write_bytes(b"v4"), backup=False)
    assert backup_path(target).read_bytes() == b"v2"


def test_new_file_gets_normal_permissions_not_mkstemp_0600(tmp_path):
    target = tmp_path / "book.xlsx"
    atomic_write(target, lambda p: p.write_bytes(b"x"))
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt(), AicapexError("bad")])
def test_a_failing_writer_leaves_target_and_backup_untouched(tmp_path, exc):
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")
    backup_path(target).write_bytes(b"older")

    def writer(p: Path) -> None:
        p.write_bytes(b"half")
        raise exc

    with pytest.raises(type(exc)):
        atomic_write(target, writer)
    assert target.read_bytes() == b"old"
    assert backup_path(target).read_bytes() == b"older"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "book.xlsx.bak"]


def test_check_writable_one_line_errors(tmp_path):
    check_writable(tmp_path / "new.xlsx")
    with pytest.raises(AicapexError, match="folder .* does not exist"):
        check_writable(tmp_path / "nope" / "x.xlsx")
    with pytest.raises(AicapexError, match="it is a folder"):
        check_writable(tmp_path)
    ro = tmp_path / "ro.xlsx"
    ro.write_bytes(b"x")
    ro.chmod(0o444)
    ro_dir = tmp_path / "ro_dir"
    ro_dir.mkdir()
    ro_dir.chmod(0o555)
    try:
        with pytest.raises(AicapexError, match="the file is read-only") as info:
            check_writable(ro)
        assert "\n" not in str(info.value)
        with pytest.raises(AicapexError, match="is read-only"):
            check_writable(ro_dir / "x.xlsx")
        with pytest.raises(AicapexError, match="read-only"):
            atomic_write(ro, lambda p: p.write_bytes(b"new"))
        assert ro.read_bytes() == b"x"
    finally:
        ro.chmod(0o644)
        ro_dir.chmod(0o755)


# --------------------------------------------------------------------------- stamping
@pytest.fixture
def book(tmp_path) -> Path:
    """An openpyxl-saved .xlsm with the xlwings VBA project and formulas without results."""
    src = tmp_path / "src.xlsm"
    template = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    vba = tmp_path / "vbaProject.bin"
    with zipfile.ZipFile(template) as zf:
        vba.write_bytes(zf.read("xl/vbaProject.bin"))
    wb = xlsxwriter.Workbook(str(src))
    wb.add_vba_project(str(vba))
    ws = wb.add_worksheet("My Sheet")
    ws.write_number("A1", 2)
    ws.write_number("C1", 3)
    ws.write_formula("B1", "=A1*C1", None, 0)
    ws.write_formula("B2", "=A1>1")
    ws.write_formula("B3", '=IF(A1>1,"big","small")')
    ws.write_formula("B4", "=CPX_VALUE(A1)")
    ws.write_formula("B5", "=A1+1")
    ws.write_formula("B6", "=A1")
    ws.write_string("D3", "shared text")
    wb.add_worksheet("Other").write_number("A1", 1)
    wb.close()
    # round-trip through openpyxl: formulas come back with empty <v/>, as in the export
    saved = tmp_path / "book.xlsm"
    wb = openpyxl.load_workbook(src, keep_vba=True)
    wb.save(saved)
    wb.vba_archive.close()  # not left to the garbage collector (its finaliser order varies)
    return saved


def test_stamp_writes_typed_results_and_keeps_everything_else(book, tmp_path):
    out = tmp_path / "out.xlsm"
    n = stamp_cached_values(book, out, {
        ("My Sheet", "B1"): 6.0,
        ("My Sheet", "B2"): True,
        ("My Sheet", "B3"): "big <&> ",
        ("My Sheet", "B4"): XlError("#N/A", "not reported"),
        ("My Sheet", "B5"): float("nan"),
        ("My Sheet", "B6"): dt.datetime(2026, 3, 31, 12),
        ("My Sheet", "D3"): 7.25,  # a non-formula cell gets a plain value
        ("My Sheet", "$C$2"): "spilled text",  # missing cell inserted in its row, in order
        ("My Sheet", "E9"): 1.5,  # missing row created
    })
    assert n == 9
    with zipfile.ZipFile(book) as a, zipfile.ZipFile(out) as b:
        assert a.namelist() == b.namelist()
        stamped = sheet_parts(a)["My Sheet"]
        for name in a.namelist():
            if name != stamped:
                assert a.read(name) == b.read(name), name  # vbaProject.bin included
        xml = b.read(stamped).decode()
    assert re.search(r'<c r="B1"[^>]*><f>A1\*C1</f><v>6</v></c>', xml)
    assert re.search(r'<c r="B2"[^>]* t="b"><f>A1&gt;1</f><v>1</v></c>', xml)
    assert re.search(r'<c r="B3"[^>]* t="str"><f>.*?</f><v>big &lt;&amp;&gt; </v></c>', xml)
    assert re.search(r'<c r="B4"[^>]* t="e"><f>CPX_VALUE\(A1\)</f><v>#N/A</v></c>', xml)
    assert re.search(r'<c r="B5"[^>]* t="e"><f>A1\+1</f><v>#NUM!</v></c>', xml)
    assert re.search(r'<c r="C2" t="inlineStr"><is><t>spilled text</t></is></c>', xml)
    row2 = re.search(r'<row r="2".*?</row>', xml).group(0)
    assert row2.index('r="B2"') < row2.index('r="C2"')
    assert '<row r="9"><c r="E9"><v>1.5</v></c></row>' in xml
    assert re.search(r'<dimension ref="A1:E9"', xml)

    values = read_cached_values(out)
    assert values[("My Sheet", "B1")] == 6
    assert values[("My Sheet", "B2")] is True
    assert values[("My Sheet", "B3")] == "big <&> "
    assert values[("My Sheet", "B4")] == "#N/A"
    # General number format: the serial number (2026-03-31 is day 46112; noon is .5)
    assert values[("My Sheet", "B6")] == pytest.approx(46112.5)
    assert values[("My Sheet", "D3")] == 7.25
    assert values[("My Sheet", "C2")] == "spilled text"
    wb = openpyxl.load_workbook(out, keep_vba=True)
    assert wb["My Sheet"]["B1"].value == "=A1*C1"  # formulas intact
    assert wb["My Sheet"]["C2"].data_type == "s"


def test_stamp_none_clears_a_result_and_unknown_sheet_is_an_error(book, tmp_path):
    first = tmp_path / "a.xlsm"
    stamp_cached_values(book, first, {("My Sheet", "B1"): 6})
    second = tmp_path / "b.xlsm"
    stamp_cached_values(first, second, {("My Sheet", "B1"): None})
    assert ("My Sheet", "B1") not in read_cached_values(second)
    with pytest.raises(AicapexError, match="no sheet named 'Nope'"):
        stamp_cached_values(book, tmp_path / "c.xlsm", {("Nope", "A1"): 1})
    with pytest.raises(AicapexError, match="not a cell address"):
        stamp_cached_values(book, tmp_path / "c.xlsm", {("My Sheet", "A1:B2"): 1})
    with pytest.raises(AicapexError, match="same"):
        stamp_cached_values(book, book, {})


def test_stamped_values_read_back_in_libreoffice(book, tmp_path, soffice):
    from aicapex.excel.libreoffice import recalculate

    out = tmp_path / "out.xlsx"
    plain = tmp_path / "plain.xlsx"
    wb = openpyxl.load_workbook(book)
    wb.save(plain)
    stamp_cached_values(plain, out, {("My Sheet", "B1"): 6, ("My Sheet", "C2"): "spilled text",
                                     ("My Sheet", "E9"): 1.5, ("My Sheet", "D3"): "=not a formula"})
    values = read_cached_values(recalculate(out, tmp_path / "lo"))
    assert values[("My Sheet", "B1")] == 6
    assert values[("My Sheet", "C2")] == "spilled text"  # inlineStr read as text
    assert values[("My Sheet", "E9")] == 1.5
    assert values[("My Sheet", "D3")] == "=not a formula"


def test_stamp_handles_a_large_sheet(tmp_path):
    # 30,000 formula cells: every one gets its value (speed is measured in the report/bench)
    src = tmp_path / "big.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Big"
    for r in range(1, 1501):
        ws.cell(r, 1, r)
        for c in range(2, 22):
            ws.cell(r, c, f"=A{r}*{c}")
    wb.save(src)
    values = {("Big", f"{openpyxl.utils.get_column_letter(c)}{r}"): r * c
              for r in range(1, 1501) for c in range(2, 22)}
    out = tmp_path / "big_out.xlsx"
    assert stamp_cached_values(src, out, values) == 30_000
    back = read_cached_values(out)
    assert all(back[k] == v for k, v in values.items())
