"""The main job, end to end: ``python -m aicapex build`` on the bundled data."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import openpyxl
import pytest
from aicapex.excel.export import verify_client_copy
from aicapex.excel.libreoffice import compare_with_libreoffice


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    r = subprocess.run([sys.executable, "-m", "aicapex", "build", "--out", str(out), "--client", "Acme Capital"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "master check OK" in r.stdout
    return out


def test_build_writes_the_workbook_glue_export_and_addin(built):
    names = sorted(p.name for p in built.iterdir())
    assert "ai_capex_monitor.xlsm" in names and "ai_capex_monitor.py" in names
    assert "aicapex.xlam" in names
    assert [n for n in names if n.startswith("AI_Capex_Monitor_Acme_Capital_") and n.endswith(".xlsx")]
    assert not [n for n in names if n.endswith(".bak")]


def _export(built):
    return next(built.glob("AI_Capex_Monitor_Acme_Capital_*.xlsx"))


def test_client_export_has_no_forbidden_parts(built):
    path = _export(built)
    assert verify_client_copy(path) == []
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert "xl/vbaProject.bin" not in names
        assert not [n for n in names if "externalLink" in n or "comments" in n]
        sheets = b"".join(z.read(n) for n in names if n.startswith("xl/worksheets/sheet"))
        formulas = re.findall(rb"<f[^>]*>(.*?)</f>", sheets)
        assert formulas and not [f for f in formulas if b"CPX_" in f.upper()]
    cover = openpyxl.load_workbook(path)["Cover"]
    assert cover["D3"].value is None and cover["D5"].value is None  # button captions gone
    assert cover["D7"].value is None  # "Stamped by Refresh": analyst-only


def test_client_export_keeps_auditable_native_formulas_and_charts(built):
    wb = openpyxl.load_workbook(_export(built))
    assert "xlwings.conf" not in wb.sheetnames
    formulas = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    assert any(f.startswith("=SUM(") for f in formulas)  # the peer block stays auditable
    assert wb["Dashboard"]._charts
    assert wb.calculation.fullCalcOnLoad


def test_libreoffice_recalculates_the_client_export_to_the_same_values(built, soffice):
    assert compare_with_libreoffice(_export(built)) == []


def test_fast_formula_reader_agrees_with_openpyxl(built):
    from aicapex.excel.cached import read_cached_values, read_formula_results

    path = built / "ai_capex_monitor.xlsm"
    fast, slow = read_formula_results(path), read_cached_values(path)
    assert len(fast) > 1000
    for key, value in fast.items():
        if value == "":  # an empty-text result (an empty coverage slot): openpyxl reads None
            assert key not in slow, key
            continue
        assert slow[key] == value and type(slow[key]) is type(value), key
    wb = openpyxl.load_workbook(path)
    formulas = {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
                for c in row if c.data_type == "f"}
    assert set(fast) == formulas  # every formula has its stored result, nothing else


# --- what build does to an existing output folder ----------------------------------------------


def _build(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aicapex", "build", *args],
                          capture_output=True, text=True, timeout=600)


def test_build_replaces_its_own_workbook_but_refuses_an_edited_one(tmp_path):
    workbook = tmp_path / "ai_capex_monitor.xlsm"
    assert _build("--template-only", "--out", str(tmp_path)).returncode == 0
    first = workbook.read_bytes()
    # built again: the file is still what build wrote, so it is replaced without a backup
    assert _build("--template-only", "--out", str(tmp_path)).returncode == 0
    assert not workbook.with_name(workbook.name + ".bak").exists()
    # an analyst saves work in it: the next build refuses, one error line, nothing touched
    edited = first + b"analyst's work"
    workbook.write_bytes(edited)
    r = _build("--template-only", "--out", str(tmp_path))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ")
    assert "was changed since build wrote it" in r.stderr and "--force" in r.stderr
    assert workbook.read_bytes() == edited
    # --force replaces it and keeps the analyst's file as .bak
    r = _build("--template-only", "--force", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert workbook.with_name(workbook.name + ".bak").read_bytes() == edited
    assert "ai_capex_monitor.xlsm.bak" in r.stdout


def test_build_says_in_words_why_the_master_check_is_not_ok(tmp_path, monkeypatch, capsys):
    """A master check that could not be computed is reported as the refresh reports it (not as
    "FAILING (None)"); the client copy is not written and the exit code is refresh's 3."""
    from aicapex import cli
    from aicapex.excel import headless

    def refresh_without_master_check(path, **kwargs):
        return headless.RefreshResult(path=path, formulas=12, changes=0, errors=[],
                                      master_check=None, seconds=0.1,
                                      engine_errors=["Ratios!F12 #VALUE!: capex=-5 is out of range"])

    monkeypatch.setattr(headless, "refresh_file", refresh_without_master_check)
    assert cli.main(["build", "--out", str(tmp_path)]) == 3
    out, err = capsys.readouterr()
    assert "master check not computed: the master check cell (chk_Master) has no value" in out
    assert "None" not in out and "FAILING (" not in out
    assert "failing: Ratios!F12 #VALUE!: capex=-5 is out of range" in err
    assert "client    not written" in out
    assert not list(tmp_path.glob("AI_Capex_Monitor_*.xlsx"))
