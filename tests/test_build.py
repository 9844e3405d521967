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
