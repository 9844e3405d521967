"""Issue #20 on the refresh side: never lose an analyst's work, never pass a wrong number.

* Point 1: an analyst's save during a refresh (Excel, a sync client) is never reverted: the
  refresh notices the change between its read and its replace and writes nothing; a workbook
  open in Excel (owner file ``~$<name>``) or in LibreOffice (``.~lock.<name>#``) is refused;
  a second refresh of a workbook being refreshed is refused (exclusive lock).
* Point 3: only our template is refreshed: the builder's version stamp (custom document
  property), or for workbooks built before the stamp the legacy signature; look-alikes are
  refused in one line, even with text in Data!B.
* Point 4: a symlinked workbook is refreshed through the link; the link stays a link.
* Point 6: a client copy is refused.
* Point 7: a refresh with no data change lists no change (error values equal themselves).
* Point 12: a master check that fails gives exit code 3 and says so in words.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from aicapex.errors import AicapexError
from aicapex.excel import headless
from aicapex.excel import layout as L
from aicapex.excel.headless import refresh_file
from workbook_fixtures import NOW

CLI = [sys.executable, "-m", "aicapex"]
LATER = NOW.replace(hour=9)  # a second refresh: only the "last refreshed" stamp differs


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=180)


def _one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.startswith("error:") and r.stderr.count("\n") == 1, r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def workbook(refreshed_workbook, tmp_path) -> Path:
    folder = tmp_path / "book"
    folder.mkdir()
    return Path(shutil.copy2(refreshed_workbook, folder / refreshed_workbook.name))


def _excel_style_save(path: Path, value: float) -> bytes:
    """What Excel does on Save: the whole file rewritten (here: an Inputs edit), new inode."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb["Inputs"]["D19"] = value  # in_CheckTol
    tmp = path.with_name("excel-save.tmp")
    wb.save(tmp)
    wb.vba_archive.close()  # not left to the garbage collector (its finaliser order varies)
    os.replace(tmp, path)
    return path.read_bytes()


def _during_refresh(monkeypatch, action) -> None:
    """Run ``action`` after the refresh has read the workbook and before it writes it."""
    real = headless.udf_registry

    def registry():
        action()
        return real()

    monkeypatch.setattr(headless, "udf_registry", registry)


# -- point 1: a save during the refresh -----------------------------------------------------------


def test_an_analyst_save_during_refresh_is_kept_and_nothing_is_written(workbook, monkeypatch):
    saved = {}
    _during_refresh(monkeypatch, lambda: saved.setdefault("bytes", _excel_style_save(workbook, 0.25)))
    with pytest.raises(AicapexError, match="changed while it was being refreshed") as err:
        refresh_file(workbook, now=LATER)
    assert "nothing was written" in str(err.value) and "\n" not in str(err.value)
    assert workbook.read_bytes() == saved["bytes"]  # the analyst's save survives
    assert openpyxl.load_workbook(workbook)["Inputs"]["D19"].value == 0.25
    assert _listing(workbook.parent) == [workbook.name]  # no .bak rotated, no temp left


def test_a_same_size_change_with_the_old_mtime_is_still_caught(workbook, monkeypatch):
    """A sync client may write in place and keep the modification time: the content hash
    catches what size, inode and mtime cannot."""
    st = workbook.stat()
    theirs = bytearray(workbook.read_bytes())
    theirs[len(theirs) // 2] ^= 0xFF

    def sync_client_writes():
        with open(workbook, "r+b") as f:  # same inode, same size
            f.write(theirs)
        os.utime(workbook, ns=(st.st_atime_ns, st.st_mtime_ns))

    _during_refresh(monkeypatch, sync_client_writes)
    with pytest.raises(AicapexError, match="changed while it was being refreshed"):
        refresh_file(workbook, now=LATER)
    assert workbook.read_bytes() == bytes(theirs)
    assert _listing(workbook.parent) == [workbook.name]


@pytest.mark.parametrize("owner", ["~${name}", ".~lock.{name}#"], ids=["excel", "libreoffice"])
def test_a_workbook_open_in_excel_is_refused(workbook, owner):
    lock = workbook.parent / owner.format(name=workbook.name)
    lock.write_bytes(b"\x0bJane Analyst")
    before = workbook.read_bytes()
    r = _cli("refresh", "--quiet", str(workbook))
    _one_line_error(r, workbook.name, "is open in", lock.name)
    assert workbook.read_bytes() == before
    assert _listing(workbook.parent) == sorted([workbook.name, lock.name])


def test_a_workbook_opened_in_excel_during_the_refresh_is_not_replaced(workbook, monkeypatch):
    lock = workbook.parent / f"~${workbook.name}"
    before = workbook.read_bytes()
    _during_refresh(monkeypatch, lambda: lock.write_bytes(b"\x0bJane"))
    with pytest.raises(AicapexError, match="is open in Excel"):
        refresh_file(workbook, now=LATER)
    assert workbook.read_bytes() == before
    assert _listing(workbook.parent) == sorted([workbook.name, lock.name])


HOLD = """
import sys, time
from pathlib import Path
from aicapex.excel.atomic import exclusive_lock
with exclusive_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def lock_held_elsewhere():
    """Hold a file's lock from another process (as a running refresh or export would)."""
    procs = []

    def hold(path: Path) -> None:
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        line = proc.stdout.readline()
        assert line.strip() == "held", proc.stderr.read()

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait(timeout=30)


def test_a_second_refresh_of_the_same_workbook_is_refused(workbook, lock_held_elsewhere):
    before = workbook.read_bytes()
    lock_held_elsewhere(workbook)
    r = _cli("refresh", "--quiet", str(workbook))
    _one_line_error(r, workbook.name, "another aicapex")
    assert workbook.read_bytes() == before


def test_the_lock_leaves_nothing_beside_the_workbook(workbook):
    from aicapex.excel.atomic import exclusive_lock

    with exclusive_lock(workbook), pytest.raises(AicapexError, match="another aicapex"), \
            exclusive_lock(workbook):
        pass
    refresh_file(workbook, now=LATER)
    assert _listing(workbook.parent) == sorted([workbook.name, workbook.name + ".bak"])


# -- point 4: symlinks -----------------------------------------------------------------------------


def test_a_symlinked_workbook_is_refreshed_through_the_link(workbook, tmp_path):
    elsewhere = tmp_path / "shortcuts"
    elsewhere.mkdir()
    link = elsewhere / "monitor.xlsm"
    link.symlink_to(workbook)
    before = workbook.read_bytes()
    refresh_file(link, now=LATER)
    assert link.is_symlink() and link.resolve() == workbook.resolve()
    assert workbook.read_bytes() != before  # the real workbook was refreshed...
    stamp = openpyxl.load_workbook(workbook)["Cover"][L.cell(*L.COVER_REFRESHED)].value
    assert stamp == LATER
    # ...its backup sits beside it, and nothing was left beside the link
    assert (workbook.parent / (workbook.name + ".bak")).read_bytes() == before
    assert _listing(elsewhere) == ["monitor.xlsm"]


# -- points 3 and 6: only our template --------------------------------------------------------------


def _look_alike(path: Path, data_text: bool) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    wb["Cover"]["A1"] = "Budget 2027 (finance team)"
    for name in ("Data", "Sources", "Changes"):
        wb.create_sheet(name)
    wb["Data"]["A6"] = "Travel"
    wb["Data"]["B6"] = "Q1 offsite" if data_text else 2026
    wb["Data"]["E6"] = 12500
    wb.save(path)


@pytest.mark.parametrize("data_text", [False, True], ids=["numbers", "text-in-Data-B"])
def test_a_look_alike_workbook_is_refused_in_one_line(tmp_path, data_text):
    target = tmp_path / "budget.xlsx"
    _look_alike(target, data_text)
    before = target.read_bytes()
    r = _cli("refresh", "--quiet", str(target))
    _one_line_error(r, "budget.xlsx", "not an AI Capex analyst workbook")
    assert "Traceback" not in r.stderr
    assert target.read_bytes() == before
    assert _listing(tmp_path) == ["budget.xlsx"]


def test_the_builder_stamps_the_template_version(refreshed_workbook):
    from aicapex.excel.safety import TEMPLATE_PROPERTY, TEMPLATE_VERSION, custom_properties

    with zipfile.ZipFile(refreshed_workbook) as zf:
        assert custom_properties(zf) == {TEMPLATE_PROPERTY: str(TEMPLATE_VERSION)}
    # the refresh keeps it (openpyxl round trip plus the cached-value stamping)
    wb = openpyxl.load_workbook(refreshed_workbook)
    assert [(p.name, p.value) for p in wb.custom_doc_props.props] == \
        [(TEMPLATE_PROPERTY, TEMPLATE_VERSION)]


def _without_stamp(src: Path, dst: Path) -> Path:
    """The workbook as the builder wrote it before the stamp existed."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == "docProps/custom.xml":
                continue
            data = zin.read(info)
            if info.filename in ("[Content_Types].xml", "_rels/.rels"):
                text = data.decode()
                assert "custom" in text
                import re

                text = re.sub(r"<(Override|Relationship)\b[^>]*custom[^>]*/>", "", text)
                data = text.encode()
            zout.writestr(info, data)
    return dst


def test_a_legacy_workbook_with_the_template_signature_is_refreshed_and_stamped(workbook):
    from aicapex.excel.safety import TEMPLATE_PROPERTY, custom_properties, identify_workbook

    legacy = _without_stamp(workbook, workbook.with_name("legacy.xlsm"))
    workbook.unlink()
    assert identify_workbook(legacy) == "legacy template"
    refresh_file(legacy, now=LATER)
    with zipfile.ZipFile(legacy) as zf:
        assert TEMPLATE_PROPERTY in custom_properties(zf)
    assert identify_workbook(legacy) == "template"


def test_a_legacy_workbook_whose_layout_moved_is_refused_with_a_rebuild_hint(workbook):
    legacy = _without_stamp(workbook, workbook.with_name("legacy.xlsm"))
    wb = openpyxl.load_workbook(legacy, keep_vba=True)
    wb.defined_names["chk_Master"].attr_text = "Cover!$C$12"  # an older layout
    wb.save(legacy)
    before = legacy.read_bytes()
    r = _cli("refresh", "--quiet", str(legacy))
    _one_line_error(r, "legacy.xlsm", "rebuild")
    assert legacy.read_bytes() == before


def test_a_workbook_from_a_newer_version_is_refused(workbook):
    from aicapex.excel.safety import TEMPLATE_PROPERTY

    wb = openpyxl.load_workbook(workbook, keep_vba=True)
    wb.custom_doc_props[TEMPLATE_PROPERTY].value = 99
    wb.save(workbook)
    before = workbook.read_bytes()
    r = _cli("refresh", "--quiet", str(workbook))
    _one_line_error(r, "template version 99", "newer")
    assert workbook.read_bytes() == before


def test_a_client_copy_is_refused(workbook, tmp_path):
    from aicapex.excel.export import export_client_copy

    client = export_client_copy(workbook, "Acme", tmp_path)
    before = client.read_bytes()
    r = _cli("refresh", "--quiet", str(client))
    _one_line_error(r, client.name, "client copy")
    assert client.read_bytes() == before
    assert not client.with_name(client.name + ".bak").exists()


# -- the xlwings adapter ---------------------------------------------------------------------------


class _Sheet:
    def __init__(self, name):
        self.name = name


class _Name:
    def __init__(self, name, refers_to):
        self.name, self.refers_to = name, refers_to


class _RemoteBook:
    """The parts of an Office.js ``xw.Book`` that is_template reads: sheets and names (the
    Office.js payload carries no document properties; ``api`` is the JSON dict)."""

    def __init__(self, sheets, names):
        self.sheets = [_Sheet(s) for s in sheets]
        self.names = [_Name(n, r) for n, r in names]
        self.api = {"client": "Office.js"}


TEMPLATE_NAMES = [("chk_Master", f"=Cover!{L.cell(*L.COVER_MASTER, True, True)}"),
                  ("in_AsOf", f"=Cover!{L.cell(*L.COVER_AS_OF, True, True)}")]


def test_is_template_needs_more_than_four_sheet_names():
    from aicapex.excel.refresh import is_template

    look_alike = _RemoteBook(["Cover", "Data", "Sources", "Changes"], [])
    assert not is_template(look_alike)
    ours = _RemoteBook(L.SHEETS, TEMPLATE_NAMES)
    assert is_template(ours)
    moved = _RemoteBook(L.SHEETS, [("chk_Master", "=Cover!$C$99"), TEMPLATE_NAMES[1]])
    assert not is_template(moved)


class _Props:
    def __init__(self, props):
        self._props = props

    def __call__(self, name):
        if name not in self._props:
            raise KeyError(name)  # COM raises com_error for a missing property
        return type("Prop", (), {"Value": self._props[name]})()


class _Api:
    def __init__(self, props):
        self.CustomDocumentProperties = _Props(props)


def test_is_template_reads_the_stamp_where_excel_exposes_it():
    from aicapex.excel.refresh import is_template
    from aicapex.excel.safety import CLIENT_COPY_PROPERTY, TEMPLATE_PROPERTY

    book = _RemoteBook(["Cover", "Data", "Sources", "Changes"], [])
    book.api = _Api({TEMPLATE_PROPERTY: 1})  # desktop Excel through COM
    assert is_template(book)
    client = _RemoteBook(L.SHEETS, TEMPLATE_NAMES)
    client.api = _Api({CLIENT_COPY_PROPERTY: 1})
    assert not is_template(client)


# -- point 7: no false changes ---------------------------------------------------------------------


def _changes(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)["Changes"]
    rows = ws.iter_rows(min_row=L.DATA_HEADER_ROW + 2, values_only=True)
    return [r[:6] for r in rows if any(v not in (None, "") for v in r[:6])]


def test_a_refresh_without_data_change_lists_no_change(workbook):
    result = refresh_file(workbook, now=LATER)
    rows = _changes(workbook)
    assert rows == [("", "", "no change since the last refresh", "", "", "")] or \
        rows == [(None, None, "no change since the last refresh", None, None, None)], rows[:5]
    assert result.changes == 0


def test_cached_error_values_are_read_back_as_errors(workbook):
    from aicapex.excel.refresh import value_changes
    from aicapex.xlerrors import XlError

    old = headless.read_values(workbook)
    errors = {k: v for k, v in old.items() if v == "#N/A"}
    assert errors, "the refreshed template has #N/A gaps (unreported figures)"
    new = {k: XlError("#N/A", "not reported") for k in errors}
    assert value_changes(old, new) == []
    assert value_changes({}, new)  # a genuinely new error is still a change


# -- point 12: exit codes and words ----------------------------------------------------------------


def test_refresh_with_failing_checks_exits_3_and_says_so(workbook):
    wb = openpyxl.load_workbook(workbook, keep_vba=True)
    sheet, ref = wb.defined_names["in_CheckTol"].attr_text.split("!")
    wb[sheet][ref.replace("$", "")] = -1  # a negative tolerance: every check fails
    wb.save(workbook)
    r = _cli("refresh", "--quiet", str(workbook))
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert "master check FAILING" in r.stdout and "None" not in r.stdout
    assert r.stderr == ""
    # the refresh itself completed: the file holds the new results
    cached = openpyxl.load_workbook(workbook, data_only=True)["Cover"]
    assert cached[L.cell(*L.COVER_MASTER)].value == 1


def test_master_check_descriptions_are_words():
    from aicapex.excel.safety import describe_master_check
    from aicapex.xlerrors import XlError

    assert describe_master_check(0) == (True, "OK")
    ok, text = describe_master_check(None)
    assert not ok and "None" not in text and "no value" in text
    ok, text = describe_master_check(XlError("#N/A", "not reported"))
    assert not ok and "#N/A" in text and "could not be computed" in text
    ok, text = describe_master_check(1)
    assert not ok and text.startswith("FAILING")

