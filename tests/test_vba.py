"""The analyst workbook's macros: xlwings' VBA project embedded by XlsxWriter, no Excel needed.

Expected values come from the installed xlwings package itself (read here with zipfile, not
with the code under test) and from the VBA source text.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import xlwings
from defusedxml import ElementTree as ET

with warnings.catch_warnings():  # oletools 0.60 uses deprecated pyparsing names
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Parser

from aicapex.errors import ArgumentError
from aicapex.excel import vba

XLWINGS_DIR = Path(xlwings.__file__).parent
STANDALONE = XLWINGS_DIR / "quickstart_standalone.xlsm"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"


@pytest.fixture(scope="module")
def package_vba() -> bytes:
    with zipfile.ZipFile(STANDALONE) as zf:
        return zf.read("xl/vbaProject.bin")


@pytest.fixture(scope="module")
def built(tmp_path_factory, package_vba) -> Path:
    """A small .xlsm: two sheets, the config sheet, two buttons."""
    path = tmp_path_factory.mktemp("vba") / "capex_demo.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    dash = wb.add_worksheet("Dashboard")
    inputs = wb.add_worksheet("Inputs")
    inputs.write("A1", "capex")
    vba.add_conf_sheet(wb, vba.xlwings_conf_rows("aicapex.udfs", None))
    codes = vba.attach_vba(wb, [dash, inputs])
    assert codes == {"Dashboard": "Sheet1", "Inputs": "Sheet2", "xlwings.conf": "Sheet3"}
    vba.add_button(dash, "B2", "SampleCall", "Refresh")
    vba.add_button(dash, (5, 1), "ImportPythonUDFs", "Import Functions", width=120)
    wb.close()
    return path


def _olevba_modules(data: bytes) -> dict[str, str]:
    parser = VBA_Parser("vbaProject.bin", data=data)
    try:
        return {
            re.search(r'VB_Name = "([^"]+)"', code).group(1): code
            for _f, _s, _n, code in parser.extract_macros()
        }
    finally:
        parser.close()


# --- the VBA project and what it runs ------------------------------------------------------


def test_extract_vba_project_is_the_installed_packages_bytes(package_vba):
    assert vba.extract_vba_project() == package_vba
    assert vba.standalone_template_path() == STANDALONE
    assert vba.extract_vba_project(STANDALONE) == package_vba


def test_modules_and_procedures(package_vba):
    modules = vba.vba_modules(package_vba)
    assert {"xlwings", "Module1", "Dictionary", "ThisWorkbook", "Sheet1", "Sheet2"} == set(modules)
    procs = vba.vba_procedures(package_vba)
    assert procs["Module1"] == {"SampleCall"}
    assert {"ImportPythonUDFs", "ImportPythonUDFsToAddin", "RunPython", "KillPy"} <= procs[
        "xlwings"
    ]
    assert "Private" not in " ".join(procs["xlwings"])
    # Document modules hold no code.
    assert procs["ThisWorkbook"] == procs["Sheet1"] == procs["Sheet2"] == set()


def test_document_modules_match_vb_base_attributes(package_vba):
    docs = vba.document_modules(package_vba)
    assert docs == vba.DocumentModules("ThisWorkbook", ("Sheet1", "Sheet2"))
    src = vba.vba_modules(package_vba)
    assert '"0{00020819-0000-0000-C000-000000000046}"' in src["ThisWorkbook"]  # Workbook
    assert '"0{00020820-0000-0000-C000-000000000046}"' in src["Sheet1"]  # Worksheet


def test_sample_call_runs_import_of_workbook_name_then_main(package_vba):
    code = vba.vba_modules(package_vba)["Module1"]
    assert re.search(
        r'mymodule = Left\(ThisWorkbook\.Name, \(InStrRev\(ThisWorkbook\.Name, "\.", -1, '
        r"vbTextCompare\) - 1\)\)",
        code,
    )
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in code
    assert vba.sample_call_module("capex_demo.xlsm") == "capex_demo"
    assert vba.sample_call_module(Path("/x/y/capex_2025.xlsm")) == "capex_2025"
    for bad in ("AI Capex.xlsm", "ai-capex.xlsm", "2024.xlsm", "Book.v2.xlsm"):
        with pytest.raises(ArgumentError):
            vba.sample_call_module(bad)


def test_import_python_udfs_reads_udf_modules_and_calls_import_udfs(package_vba):
    src = vba.vba_modules(package_vba)["xlwings"]
    sig = vba.vba_procedure_signatures(package_vba)["xlwings"]
    assert sig["ImportPythonUDFs"].params == ""
    assert "ImportPythonUDFsBase" in src
    assert 'GetUdfModules = GetConfig("UDF MODULES")' in src
    assert '"import_udfs", XLPy.Tuple(GetUdfModules(wb), wb)' in src


def test_project_name_and_conf_sheet(package_vba):
    src = vba.vba_modules(package_vba)["xlwings"]
    assert 'Public Const PROJECT_NAME As String = "xlwings"' in src
    assert vba.project_name(package_vba) == "xlwings"
    assert vba.conf_sheet_name(package_vba) == "xlwings.conf"
    # The sheet is found by that name and read upper-cased from A1 down.
    assert 'Set sht = wb.Sheets(PROJECT_NAME & ".conf")' in src
    assert "d.Add UCase(cell.Value), cell.Offset(0, 1).Value" in src


def test_runnable_macros_and_ribbon_callbacks(package_vba):
    macros = vba.runnable_macros(package_vba)
    assert {"SampleCall", "Module1.SampleCall", "ImportPythonUDFs", "KillPy"} <= macros
    assert "RunPython" not in macros  # takes a required argument
    assert "Add" not in macros  # Dictionary is a class module
    assert vba.find_macro(package_vba, "[0]!SampleCall") == "Module1.SampleCall"
    assert vba.find_macro(package_vba, "samplecall") == "Module1.SampleCall"
    assert vba.find_macro(package_vba, "NoSuchMacro") is None
    assert vba.ribbon_callbacks(package_vba) == set()


# --- config rows -------------------------------------------------------------------------


def test_xlwings_conf_rows():
    assert vba.xlwings_conf_rows("aicapex.udfs", None) == [("UDF Modules", "aicapex.udfs")]
    assert vba.xlwings_conf_rows(" aicapex.udfs; other ;", r"%USERPROFILE%\capex") == [
        ("UDF Modules", "aicapex.udfs;other"),
        ("PYTHONPATH", r"%USERPROFILE%\capex"),
    ]
    rows = vba.xlwings_conf_rows(
        "aicapex.udfs", None, interpreter_win=r"C:\py\pythonw.exe", conda_env="base"
    )
    assert rows == [
        ("UDF Modules", "aicapex.udfs"),
        ("Interpreter_Win", r"C:\py\pythonw.exe"),
        ("Conda Env", "base"),
    ]
    for bad in ("", ";", "aicapex-udfs", "aicapex..udfs", "1mod"):
        with pytest.raises(ArgumentError):
            vba.xlwings_conf_rows(bad, None)
    with pytest.raises(ArgumentError):
        vba.xlwings_conf_rows("aicapex.udfs", "  ")


def test_conf_keys_are_the_ones_the_vba_asks_for(package_vba):
    src = vba.vba_modules(package_vba)["xlwings"]
    rows = vba.xlwings_conf_rows(
        "m", "p", interpreter_win="w", interpreter_mac="m", conda_path="c", conda_env="e"
    )
    for key, _ in rows:
        assert f'GetConfig("{key.upper()}"' in src, key


# --- the built workbook ------------------------------------------------------------------


def test_built_workbook_embeds_identical_vba_project(built, package_vba):
    with zipfile.ZipFile(built) as zf:
        assert zf.read("xl/vbaProject.bin") == package_vba
        ct = ET.fromstring(zf.read("[Content_Types].xml"))
    overrides = {
        o.get("PartName"): o.get("ContentType") for o in ct.findall(f"{{{CT_NS}}}Override")
    }
    defaults = {d.get("Extension"): d.get("ContentType") for d in ct.findall(f"{{{CT_NS}}}Default")}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    vba_type = overrides.get("/xl/vbaProject.bin", defaults.get("bin"))
    assert vba_type == "application/vnd.ms-office.vbaProject"


def test_built_workbook_olevba_finds_modules_and_procedures(built):
    with zipfile.ZipFile(built) as zf:
        modules = _olevba_modules(zf.read("xl/vbaProject.bin"))
    assert {"xlwings", "Module1"} <= set(modules)
    assert re.search(r"^Sub SampleCall\(\)", modules["Module1"], re.M)
    assert re.search(r"^Sub ImportPythonUDFs\(\)", modules["xlwings"], re.M)


def test_built_workbook_code_names(built):
    with zipfile.ZipFile(built) as zf:
        wb_xml = ET.fromstring(zf.read("xl/workbook.xml"))
        sheet_codes = [
            ET.fromstring(zf.read(f"xl/worksheets/sheet{i}.xml"))
            .find(f"{{{MAIN_NS}}}sheetPr")
            .get("codeName")
            for i in (1, 2, 3)
        ]
    assert wb_xml.find(f"{{{MAIN_NS}}}workbookPr").get("codeName") == "ThisWorkbook"
    assert sheet_codes == ["Sheet1", "Sheet2", "Sheet3"]


def test_every_button_macro_exists(built):
    with zipfile.ZipFile(built) as zf:
        vml = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml"))
        data = zf.read("xl/vbaProject.bin")
    assert "<x:FmlaMacro>[0]!SampleCall</x:FmlaMacro>" in vml
    macros = vba.button_macros(built)
    assert macros == ["SampleCall", "ImportPythonUDFs"]
    procs = vba.vba_procedures(data)
    standard = {name for mod in ("Module1", "xlwings") for name in procs[mod]}
    assert set(macros) <= standard


def test_conf_sheet_in_built_workbook(built):
    wb = openpyxl.load_workbook(built)
    ws = wb["xlwings.conf"]
    assert [[c.value for c in row] for row in ws.iter_rows()] == [["UDF Modules", "aicapex.udfs"]]
    assert ws["A2"].value is None  # the VBA reads A1 down to the first gap


def test_openpyxl_keep_vba_round_trip(built, tmp_path, package_vba):
    out = tmp_path / "capex_demo_resaved.xlsm"
    wb = openpyxl.load_workbook(built, keep_vba=True)
    wb["Inputs"]["A2"] = 42
    wb.save(out)
    with zipfile.ZipFile(out) as zf:
        assert zf.read("xl/vbaProject.bin") == package_vba
        vml = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml"))
    assert "<x:FmlaMacro>[0]!SampleCall</x:FmlaMacro>" in vml
    assert vba.button_macros(out) == ["SampleCall", "ImportPythonUDFs"]


# --- argument checks ---------------------------------------------------------------------


def test_add_button_rejects_unknown_or_argument_macros(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "b.xlsm"))
    ws = wb.add_worksheet()
    vba.attach_vba(wb)
    for bad in ("NoSuchMacro", "RunPython", "Dictionary.Add"):
        with pytest.raises(ArgumentError):
            vba.add_button(ws, "A1", bad, "x")
    with pytest.raises(ArgumentError):
        vba.add_button(ws, "A1", "SampleCall", "")
    wb.close()


def test_attach_vba_requires_xlsm(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "b.xlsx"))
    wb.add_worksheet()
    with pytest.raises(ArgumentError):
        vba.attach_vba(wb)
    wb.close()


def test_attach_vba_names_unlisted_sheets_without_clash(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "c.xlsm"))
    a, b, c = (wb.add_worksheet(n) for n in ("A", "B", "C"))
    # C is listed and takes Sheet1; A and B take the project's next module, then a new name.
    assert vba.attach_vba(wb, [c]) == {"C": "Sheet1", "A": "Sheet2", "B": "Sheet3"}
    wb.close()


def test_add_conf_sheet_rejects_duplicate_or_empty_keys(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "d.xlsm"))
    with pytest.raises(ArgumentError):
        vba.add_conf_sheet(wb, [("UDF Modules", "a"), ("udf modules", "b")])
    with pytest.raises(ArgumentError):
        vba.add_conf_sheet(wb, [("", "a")])
    wb.close()
