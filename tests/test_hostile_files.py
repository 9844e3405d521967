"""Hostile files and failures around refresh and export: nothing is ever lost or half-written.

* Atomic writes: ``python -m aicapex refresh`` / ``export`` killed with SIGKILL at several
  points, including deterministically while its temporary file exists; afterwards the target
  is the old file byte for byte (or, if the kill came after the final rename, the complete new
  one) and opens in openpyxl. SIGKILL cannot be caught, so the temporary files of a killed run
  stay behind (hidden ``.<stem>.*.tmp<suffix>`` names next to the target); the next write to
  the same target removes those older than a minute.
* What the analyst added (a sheet with notes and a formula) and the Inputs survive a refresh.
* A data load that fails, or a target that is read-only, missing, not a workbook, a zip bomb
  or an XML entity bomb: one line on stderr, a non-zero exit, the file unchanged.
* Reading a zip bomb never inflates it (tracemalloc peak far below the inflated size).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from aicapex.errors import AicapexError
from aicapex.excel import headless, safety
from aicapex.excel.headless import refresh_file
from workbook_fixtures import NOW

CLI = [sys.executable, "-m", "aicapex"]
BOMB_SIZE = 50_000_000  # 50 MB of zeros: deflates to ~50 KB


def _temps(folder: Path) -> list[Path]:
    """The hidden temporary files atomic_write and its writers leave if killed."""
    return sorted(p for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name)


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def _one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    """Non-zero exit, exactly one line on stderr (``--quiet``: no progress lines), no traceback."""
    assert r.returncode != 0, r
    assert r.stderr.startswith("error:") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


@pytest.fixture
def workbook(refreshed_workbook, tmp_path) -> Path:
    """A private copy of the refreshed analyst workbook, alone in its folder."""
    folder = tmp_path / "book"
    folder.mkdir()
    return Path(shutil.copy2(refreshed_workbook, folder / refreshed_workbook.name))


# -- atomic writes under SIGKILL ----------------------------------------------------------------


def _run_and_kill(cmd: list[str], folder: Path, when, env=None) -> tuple[bool, bool]:
    """Start ``cmd``; SIGKILL it after ``when`` seconds, or as soon as a file whose name
    contains ``when`` (a str) appears in ``folder``. Returns (killed, temp_seen_at_kill)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    start = time.monotonic()
    killed = seen = False
    try:
        while proc.poll() is None and time.monotonic() - start < 60:
            names = os.listdir(folder)
            tmp_now = any(n.startswith(".") and ".tmp" in n for n in names)
            due = (time.monotonic() - start >= when) if isinstance(when, float) else \
                any(when in n for n in names)
            if due:
                proc.send_signal(signal.SIGKILL)
                killed, seen = True, tmp_now
                break
            time.sleep(0.0005)
    finally:
        if proc.poll() is None and not killed:
            proc.kill()
        proc.wait(timeout=30)
    return killed and proc.returncode == -signal.SIGKILL, seen


def _assert_old_or_new(target: Path, before: bytes, sheets: tuple[str, ...]) -> None:
    """Readers see the old file or a complete new one, never part of one."""
    now = target.read_bytes()
    leftover_tmp = [p for p in _temps(target.parent) if p.name.endswith(".tmp" + target.suffix)]
    if leftover_tmp or now == before:
        assert now == before, "the target changed although the new file was never moved in"
    else:  # the kill came after the final rename: the new file is complete
        bak = target.with_name(target.name + ".bak")
        assert bak.read_bytes() == before
    wb = openpyxl.load_workbook(target, keep_vba=target.suffix == ".xlsm")
    assert set(sheets) <= set(wb.sheetnames)


KILL_POINTS = [0.05, 0.2, 0.5, 1.0, ".tmp.xlsm", ".bak.tmp"]


def test_refresh_killed_at_any_point_leaves_the_workbook_intact(workbook, tmp_path):
    before = workbook.read_bytes()
    mid_write = 0
    for when in KILL_POINTS:
        shutil.copy2(workbook, tmp_path / "pristine.xlsm")
        killed, seen = _run_and_kill([*CLI, "refresh", "--quiet", str(workbook)],
                                     workbook.parent, when)
        mid_write += killed and seen
        _assert_old_or_new(workbook, before, ("Cover", "Data", "Ratios", "Changes"))
        # Start the next kill from the same original, with no leftovers.
        shutil.copy2(tmp_path / "pristine.xlsm", workbook)
        for p in _temps(workbook.parent):
            p.unlink()
        workbook.with_name(workbook.name + ".bak").unlink(missing_ok=True)
    # The deterministic kill points (a temp file appeared) really hit the write in progress.
    assert mid_write >= 1


def test_stale_temporary_files_of_a_killed_run_are_removed_by_the_next_write(workbook):
    before = workbook.read_bytes()
    killed, seen = _run_and_kill([*CLI, "refresh", "--quiet", str(workbook)], workbook.parent,
                                 ".tmp.xlsm")
    assert killed and seen
    stale = _temps(workbook.parent)
    assert stale, "SIGKILL cannot be caught: the killed run's temp files are expected here"
    assert workbook.read_bytes() == before
    # A temp file of a write that may still be running (fresh) is left alone...
    fresh = workbook.parent / f".{workbook.stem}.concurrent.tmp{workbook.suffix}"
    fresh.write_bytes(b"another writer's work in progress")
    # ...those of the killed run, once older than a minute, are cleaned up by the next write.
    old = time.time() - 120
    for p in stale:
        os.utime(p, (old, old))
    refresh_file(workbook, now=NOW)
    assert _temps(workbook.parent) == [fresh]
    assert openpyxl.load_workbook(workbook, keep_vba=True)["Cover"] is not None


def test_export_killed_at_any_point_leaves_the_client_copy_intact(workbook, tmp_path):
    pytest.importorskip("aicapex.excel.export")
    out = workbook.parent / "client.xlsx"
    cmd = [*CLI, "export", str(workbook), "--client", "Hostile", "--out", str(out)]
    assert subprocess.run(cmd, capture_output=True, timeout=120).returncode == 0
    before = out.read_bytes()
    analyst = workbook.read_bytes()
    # export also works in a private folder under the system temp dir; point that here.
    systmp = tmp_path / "systmp"
    systmp.mkdir()
    env = {**os.environ, "TMPDIR": str(systmp)}
    mid_write = 0
    for when in [0.05, 0.3, 0.6, ".tmp.xlsx"]:
        killed, seen = _run_and_kill(cmd, workbook.parent, when, env=env)
        mid_write += killed and seen
        _assert_old_or_new(out, before, ("Cover", "Ratios"))
        assert workbook.read_bytes() == analyst  # the export never writes the analyst file
        out.write_bytes(before)
        for p in _temps(workbook.parent):
            p.unlink()
    assert mid_write >= 1
    # Nothing of ours is left in the system temp folder: the export's intermediate file sits
    # beside its target (and the next write's stale-temp cleanup removes it).
    assert not [p for p in systmp.iterdir() if p.name.startswith("aicapex")]


# -- what the analyst added survives ------------------------------------------------------------


def test_user_sheet_and_inputs_survive_refresh(workbook):
    wb = openpyxl.load_workbook(workbook, keep_vba=True)
    from aicapex.excel import layout as L

    b = L.ratios_layout().blocks["MSFT"]
    fy25 = L.cell(b.rows["capex_to_ocf"], L.FIRST_PERIOD_COL + 2025 - L.FIRST_FY)
    ratio = openpyxl.load_workbook(workbook, data_only=True)["Ratios"][fy25].value
    assert ratio == pytest.approx(64551 / 136162)  # MSFT FY2025 capex / OCF (10-K)
    inputs_before = {c.coordinate: c.value for row in wb["Inputs"].iter_rows() for c in row}
    notes = wb.create_sheet("MyNotes")
    notes["A1"] = "My view: capex peaks in FY2027"
    notes["B2"] = f"=Ratios!{fy25}*2"
    wb.save(workbook)

    r = _cli("refresh", "--quiet", str(workbook))
    assert r.returncode == 0, r.stderr

    wb = openpyxl.load_workbook(workbook, keep_vba=True)
    assert "MyNotes" in wb.sheetnames
    assert wb["MyNotes"]["A1"].value == "My view: capex peaks in FY2027"
    assert wb["MyNotes"]["B2"].value == f"=Ratios!{fy25}*2"
    assert {c.coordinate: c.value for row in wb["Inputs"].iter_rows() for c in row} == inputs_before
    # The headless refresh evaluated the analyst's formula too (same data, same ratio).
    cached = openpyxl.load_workbook(workbook, data_only=True)["MyNotes"]["B2"].value
    assert cached == pytest.approx(2 * ratio)


# -- failures change nothing and say why in one line --------------------------------------------


def test_cli_refresh_with_bad_overrides_changes_nothing(workbook, tmp_path):
    bad = tmp_path / "overrides"
    bad.mkdir()
    (bad / "fix.csv").write_text("ticker,fiscal_year,fiscal_year_end,field,value_musd,source,note\n"
                                 "MSFT,2025,2025-06-30,capex,oops,src,\n")
    before = workbook.read_bytes()
    r = _cli("refresh", "--quiet", str(workbook), "--overrides", str(bad))
    _one_line_error(r, "fix.csv", "oops")
    assert workbook.read_bytes() == before
    assert sorted(p.name for p in workbook.parent.iterdir()) == [workbook.name]  # no .bak, no temp


def _zip_not_a_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "a zip, but not a workbook")


def _foreign_workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "someone else's model"
    wb.save(path)


@pytest.mark.parametrize(
    "kind, name, make, needle",
    [
        ("missing", "gone.xlsm", None, "no such file"),
        ("text", "x.xlsm", lambda p: p.write_text("not a workbook"), "not a zip package"),
        ("csv", "x.csv", lambda p: p.write_text("a,b\n1,2\n"), "not an .xlsx or .xlsm"),
        ("zip", "x.xlsx", _zip_not_a_workbook, "cannot be read as a workbook"),
        ("foreign", "x.xlsx", _foreign_workbook, "not an AI Capex"),
        ("truncated", "x.xlsm", None, "x.xlsm"),
    ],
)
def test_cli_refresh_bad_target_is_one_line_and_unchanged(workbook, kind, name, make, needle):
    target = workbook.parent / name
    if make is not None:
        make(target)
    if kind == "truncated":  # half a download: the zip directory is missing
        target.write_bytes(workbook.read_bytes()[: len(workbook.read_bytes()) // 2])
    before = target.read_bytes() if target.exists() else None
    r = _cli("refresh", "--quiet", str(target))
    _one_line_error(r, needle, name)
    assert (target.read_bytes() if target.exists() else None) == before
    assert not _temps(workbook.parent)


def test_read_only_file_and_folder_are_refused_before_any_work(workbook, monkeypatch):
    """Refused from the permission bits: a file or folder with no write bit was made read-only
    on purpose. (As root, os.access() says "writable" for both, so an access()-only check would
    go ahead; the mode bits are what an analyst sets. A read-only mount is refused by
    os.access() as well -- not reproducible in this sandbox.)"""
    before = workbook.read_bytes()
    folder = workbook.parent

    def no_data_load(*args, **kwargs):
        raise AssertionError("data loaded although the target cannot be written")

    monkeypatch.setattr(headless, "dataset_for_refresh", no_data_load)
    try:
        workbook.chmod(0o444)
        with pytest.raises(AicapexError, match="read-only"):
            refresh_file(workbook)
        r = _cli("refresh", "--quiet", str(workbook))
        _one_line_error(r, "read-only", workbook.name)
        assert workbook.read_bytes() == before
        workbook.chmod(0o644)

        folder.chmod(0o555)
        with pytest.raises(AicapexError, match="read-only"):
            refresh_file(workbook)
        r = _cli("refresh", "--quiet", str(workbook))
        _one_line_error(r, "read-only", str(folder))
        assert workbook.read_bytes() == before
    finally:
        folder.chmod(0o755)
        workbook.chmod(0o644)
    assert sorted(p.name for p in folder.iterdir()) == [workbook.name]


# -- hostile packages: XML entity bomb, zip bomb -------------------------------------------------

LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                    for i in range(1, 10))
          + "]>")


def _rewrite(src: Path, dst: Path, member: str, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == member:
                data = change(data)
            zout.writestr(info, data)


def _billion_laughs(used: bool):
    def change(data: bytes) -> bytes:
        text = data.decode("utf-8")
        decl_end = text.index("?>") + 2 if text.startswith("<?xml") else 0
        body = text[decl_end:]
        if used:  # and reference the biggest entity (1e9 x "lol") in an inline-string cell
            body = body.replace("<sheetData>", '<sheetData><row r="1000"><c r="A1000" '
                                't="inlineStr"><is><t>&lol9;</t></is></c></row>', 1)
        return (text[:decl_end] + LAUGHS + body).encode("utf-8")

    return change


def test_defusedxml_is_what_openpyxl_parses_with():
    assert openpyxl.xml.DEFUSEDXML is True


@pytest.mark.parametrize("used", [False, True], ids=["declared", "referenced"])
def test_entity_expansion_bomb_is_refused_in_one_line(workbook, used):
    """Declared only: calamine ignores the DTD, openpyxl (defusedxml) raises EntitiesForbidden.
    Referenced in a cell: calamine refuses the unknown entity first. Neither expands it."""
    bomb = workbook.parent / "laughs.xlsm"
    _rewrite(workbook, bomb, "xl/worksheets/sheet1.xml", _billion_laughs(used))
    assert b"<!ENTITY lol9" in zipfile.ZipFile(bomb).read("xl/worksheets/sheet1.xml")
    before = bomb.read_bytes()
    start = time.monotonic()
    r = _cli("refresh", "--quiet", str(bomb))
    _one_line_error(r, "laughs.xlsm")
    assert "entit" in r.stderr.lower(), r.stderr  # says why
    if not used:
        assert "EntitiesForbidden" in r.stderr, r.stderr
    assert time.monotonic() - start < 60  # not expanded (a hang guard, not a timing claim)
    assert bomb.read_bytes() == before
    assert not _temps(workbook.parent)


def _zip_bomb(src: Path, dst: Path) -> None:
    """The workbook plus a part of 50 MB of zeros (deflated to ~50 KB), written in chunks."""
    shutil.copy2(src, dst)
    with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED) as z, \
            z.open("xl/media/padding.bin", "w", force_zip64=True) as part:
        chunk = bytes(1_000_000)
        for _ in range(BOMB_SIZE // len(chunk)):
            part.write(chunk)


@pytest.fixture
def zip_bomb(workbook) -> Path:
    path = workbook.parent / "bomb.xlsm"
    _zip_bomb(workbook, path)
    info = zipfile.ZipFile(path).getinfo("xl/media/padding.bin")
    assert info.file_size == BOMB_SIZE and info.compress_size < BOMB_SIZE / safety.MAX_RATIO
    return path


def test_zip_bomb_is_refused_before_opening(zip_bomb, monkeypatch):
    before = zip_bomb.read_bytes()
    r = _cli("refresh", "--quiet", str(zip_bomb))
    _one_line_error(r, "bomb.xlsm", "zip bomb", "xl/media/padding.bin")
    assert zip_bomb.read_bytes() == before

    opened = []

    def spy(source):  # the workbook's bytes, read once by the refresh
        opened.append(source)
        raise AicapexError("stop here")

    monkeypatch.setattr(headless, "read_values", spy)
    with pytest.raises(AicapexError, match="zip bomb"):
        refresh_file(zip_bomb)
    assert not opened, "the package was opened although it is a zip bomb"
    # Without the limits the same file would be opened: the refusal is check_zip_limits'.
    monkeypatch.setattr(safety, "check_zip_limits", lambda path: None)
    with pytest.raises(AicapexError, match="stop here"):
        refresh_file(zip_bomb)
    assert opened == [zip_bomb.read_bytes()]


def test_reading_a_zip_bomb_never_inflates_it(zip_bomb):
    tracemalloc.start()
    try:
        with pytest.raises(AicapexError, match="zip bomb"):
            refresh_file(zip_bomb)
        _, peak = tracemalloc.get_traced_memory()
        assert peak < 50_000_000 // 4, f"peak {peak:,} bytes"
        # Control: a reader that opened the part would have had to hold all of it.
        tracemalloc.reset_peak()
        with zipfile.ZipFile(zip_bomb) as z:
            assert len(z.read("xl/media/padding.bin")) == BOMB_SIZE
        _, peak = tracemalloc.get_traced_memory()
        assert peak >= BOMB_SIZE
    finally:
        tracemalloc.stop()


def test_export_refuses_a_zip_bomb_in_one_line(zip_bomb):
    pytest.importorskip("aicapex.excel.export")
    r = _cli("export", str(zip_bomb), "--client", "X", "--out", str(zip_bomb.parent / "c.xlsx"))
    _one_line_error(r, "zip bomb")
    assert not (zip_bomb.parent / "c.xlsx").exists()


def test_temp_file_names_keep_the_target_suffix_and_are_hidden(tmp_path):
    """What _temps() looks for is what atomic_write creates (a contract of this test file)."""
    from aicapex.excel.atomic import atomic_write

    seen = []
    atomic_write(tmp_path / "t.xlsm", lambda tmp: (seen.append(tmp.name), tmp.write_bytes(b"x")))
    assert seen[0].startswith(".t.") and seen[0].endswith(".tmp.xlsm")
    assert stat.S_IMODE((tmp_path / "t.xlsm").stat().st_mode) & 0o600 == 0o600
