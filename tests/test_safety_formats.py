"""Issue #20 point 12: a legacy .xls or an encrypted workbook is named as such.

Both are OLE compound files (CFB), not zip packages. The legacy file is written by LibreOffice
("MS Excel 97" filter); the encrypted one by msoffcrypto-tool (Agile encryption, what Excel's
"Encrypt with Password" writes). Refresh and export say which it is and what to do, in one
line, and change nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "aicapex"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=180)


def _one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.startswith("error:") and r.stderr.count("\n") == 1, r.stderr
    low = r.stderr.lower()
    for n in needles:
        assert n.lower() in low, (n, r.stderr)
    assert "zip" not in low, r.stderr


@pytest.fixture(scope="module")
def legacy_xls(refreshed_workbook, tmp_path_factory) -> Path:
    from conftest import require_or_skip, soffice_path

    binary = soffice_path()
    require_or_skip(binary is not None, "LibreOffice (soffice) is not installed")
    work = tmp_path_factory.mktemp("xls")
    src = Path(shutil.copy2(refreshed_workbook, work / "monitor.xlsm"))
    subprocess.run([binary, f"-env:UserInstallation=file://{work}/profile", "--headless",
                    "--convert-to", "xls:MS Excel 97", "--outdir", str(work), str(src)],
                   capture_output=True, timeout=240, check=True)
    out = work / "monitor.xls"
    assert out.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # a CFB file
    return out


@pytest.fixture(scope="module")
def encrypted(refreshed_workbook, tmp_path_factory) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = tmp_path_factory.mktemp("enc") / "locked.xlsm"
    with open(refreshed_workbook, "rb") as src, open(out, "wb") as dst:
        OOXMLFile(src).encrypt("s3cret", dst)
    assert out.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
    return out


@pytest.mark.parametrize("name", ["monitor.xls", "monitor.xlsm"])
def test_refresh_names_a_legacy_xls(legacy_xls, tmp_path, name):
    target = Path(shutil.copy2(legacy_xls, tmp_path / name))  # also when renamed .xlsm
    before = target.read_bytes()
    _one_line_error(_cli("refresh", "--quiet", str(target)), name, "legacy", ".xls",
                    "save it as")
    assert target.read_bytes() == before


def test_export_names_a_legacy_xls(legacy_xls, tmp_path):
    r = _cli("export", str(legacy_xls), "--client", "Acme", "--out", str(tmp_path / "c.xlsx"))
    _one_line_error(r, "legacy", ".xls")
    assert not (tmp_path / "c.xlsx").exists()


def test_refresh_and_export_name_an_encrypted_workbook(encrypted, tmp_path):
    before = encrypted.read_bytes()
    _one_line_error(_cli("refresh", "--quiet", str(encrypted)), "locked.xlsm", "encrypted",
                    "password")
    r = _cli("export", str(encrypted), "--client", "Acme", "--out", str(tmp_path / "c.xlsx"))
    _one_line_error(r, "encrypted", "password")
    assert encrypted.read_bytes() == before


def test_any_other_file_is_still_not_a_workbook(tmp_path):
    target = tmp_path / "notes.xlsm"
    target.write_text("meeting notes, not a workbook")
    r = subprocess.run([*CLI, "refresh", "--quiet", str(target)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "not a workbook" in r.stderr and r.stderr.count("\n") == 1
