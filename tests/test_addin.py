"""The aicapex.xlam add-in built from xlwings' ribbon add-in template.

The template is read here independently (zipfile + olevba), so expected values come from the
installed xlwings package and its VBA source, not from the code under test.
"""

from __future__ import annotations

import re
import subprocess
import warnings
import zipfile
from pathlib import Path

import pytest
import xlwings
from defusedxml import ElementTree as ET

with warnings.catch_warnings():  # oletools 0.60 uses deprecated pyparsing names
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Parser

from aicapex.errors import ArgumentError, DataError
from aicapex.excel import addin
from aicapex.excel.addin import RibbonButton, build_addin

TEMPLATE = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"
CUI = "{http://schemas.microsoft.com/office/2006/01/customui}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
EDITED = {
    "customUI/customUI.xml",
    "xl/workbook.xml",
    "xl/worksheets/sheet1.xml",
    "xl/sharedStrings.xml",
}


@pytest.fixture(scope="module")
def xlam(tmp_path_factory) -> Path:
    return build_addin(tmp_path_factory.mktemp("addin"))


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {n: zf.read(n) for n in zf.namelist()}


def _olevba(data: bytes) -> dict[str, str]:
    parser = VBA_Parser("vbaProject.bin", data=data)
    try:
        return {
            re.search(r'VB_Name = "([^"]+)"', code).group(1): code
            for _f, _s, _n, code in parser.extract_macros()
        }
    finally:
        parser.close()


def _ribbon_subs(modules: dict[str, str]) -> set[str]:
    """Module.Sub for every Sub(control As IRibbonControl), read from the source text."""
    out = set()
    for mod, code in modules.items():
        for m in re.finditer(r"^Sub (\w+)\(\w+ As IRibbonControl\)", code, re.M):
            out.add(f"{mod}.{m.group(1)}")
    return out


def _conf_sheet(parts: dict[str, bytes]) -> tuple[str, list[list[str]]]:
    wb = ET.fromstring(parts["xl/workbook.xml"])
    rels = {
        r.get("Id"): r.get("Target")
        for r in ET.fromstring(parts["xl/_rels/workbook.xml.rels"]).findall(
            f"{PKG_REL}Relationship"
        )
    }
    sst = [
        "".join(t.text or "" for t in si.iter(f"{MAIN}t"))
        for si in ET.fromstring(parts["xl/sharedStrings.xml"]).findall(f"{MAIN}si")
    ]
    (sheet,) = wb.findall(f"{MAIN}sheets/{MAIN}sheet")
    ws = ET.fromstring(parts["xl/" + rels[sheet.get(f"{REL}id")]])
    rows = []
    for row in ws.iter(f"{MAIN}row"):
        values = []
        for c in row.findall(f"{MAIN}c"):
            v = c.find(f"{MAIN}v")
            values.append(sst[int(v.text)] if c.get("t") == "s" else v.text)
        rows.append(values)
    return sheet.get("name"), rows


def test_file_name_and_no_leftovers(xlam):
    assert xlam.name == "aicapex.xlam"
    assert [p.name for p in xlam.parent.iterdir()] == ["aicapex.xlam"]


def test_is_an_addin_package(xlam):
    parts = _parts(xlam)
    ct = ET.fromstring(parts["[Content_Types].xml"])
    overrides = {o.get("PartName"): o.get("ContentType") for o in ct.findall(f"{CT}Override")}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    # Everything else is the template's, byte for byte (VBA included).
    template = _parts(TEMPLATE)
    assert set(parts) == set(template)
    for name in set(parts) - EDITED:
        assert parts[name] == template[name], name


def test_runmain_imports_the_addin_file_name(xlam):
    modules = _olevba(_parts(xlam)["xl/vbaProject.bin"])
    code = modules["RibbonMyAddin"]
    assert "Sub RunMain(control As IRibbonControl)" in code
    assert re.search(r"mymodule = Left\(ThisWorkbook\.Name, \(InStrRev\(ThisWorkbook\.Name", code)
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in code
    # so for aicapex.xlam: import aicapex; aicapex.main()
    assert xlam.stem == "aicapex"


def test_customui_onactions_are_ribbon_callbacks_in_the_vba(xlam):
    parts = _parts(xlam)
    root = ET.fromstring(parts["customUI/customUI.xml"])
    assert root.tag == f"{CUI}customUI"
    (tab,) = root.findall(f"{CUI}ribbon/{CUI}tabs/{CUI}tab")
    assert tab.get("label") == "AI Capex"
    buttons = tab.findall(f"{CUI}group/{CUI}button")
    assert [b.get("label") for b in buttons] == ["Refresh"]
    modules = _olevba(parts["xl/vbaProject.bin"])
    callbacks = _ribbon_subs(modules)
    actions = [el.get("onAction") for el in root.iter() if el.get("onAction")]
    assert actions == ["RibbonMyAddin.RunMain"]
    for action in actions:
        assert action in callbacks
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    # The relationship to the part is the template's (Office 2007 customUI).
    rels = ET.fromstring(parts["_rels/.rels"])
    assert any(
        r.get("Target") == "customUI/customUI.xml"
        and r.get("Type").endswith("/2007/relationships/ui/extensibility")
        for r in rels.findall(f"{PKG_REL}Relationship")
    )


def test_import_functions_has_no_ribbon_callback_in_the_template(tmp_path):
    """Why the tab has no Import Functions button: the template's only ribbon callback is
    RunMain; ImportPythonUDFs is a parameterless Sub, which a ribbon cannot call."""
    modules = _olevba(_parts(TEMPLATE)["xl/vbaProject.bin"])
    assert _ribbon_subs(modules) == {"RibbonMyAddin.RunMain"}
    assert re.search(r"^Sub ImportPythonUDFs\(\)$", modules["xlwings"], re.M)
    bad = RibbonButton("imp", "Import Functions", "ImportPythonUDFs", "FunctionWizard", "t", "t")
    with pytest.raises(DataError, match="IRibbonControl"):
        addin.build_addin(tmp_path, buttons=(bad,), template=TEMPLATE)
    assert list(tmp_path.iterdir()) == []  # refused before anything is written


def test_config_sheet_names_our_udf_module(xlam):
    parts = _parts(xlam)
    xlwings_module = _olevba(parts["xl/vbaProject.bin"])["xlwings"]
    project = re.search(r'PROJECT_NAME As String = "(\w+)"', xlwings_module).group(1)
    assert project == "myaddin"
    name, rows = _conf_sheet(parts)
    assert name == f"{project}.conf"  # active (no leading underscore)
    assert rows == [["UDF Modules", "aicapex.udfs"]]
    assert "UCase(cell.Value)" in xlwings_module and 'GetConfig("UDF MODULES")' in xlwings_module


def test_shared_strings_are_consistent(xlam):
    parts = _parts(xlam)
    sst = ET.fromstring(parts["xl/sharedStrings.xml"])
    items = sst.findall(f"{MAIN}si")
    refs = [
        int(c.find(f"{MAIN}v").text)
        for c in ET.fromstring(parts["xl/worksheets/sheet1.xml"]).iter(f"{MAIN}c")
        if c.get("t") == "s"
    ]
    assert int(sst.get("uniqueCount")) == len(items)
    assert int(sst.get("count")) == len(refs)
    assert sorted(set(refs)) == list(range(len(items)))  # every string used, none dangling
    dim = ET.fromstring(parts["xl/worksheets/sheet1.xml"]).find(f"{MAIN}dimension")
    assert dim.get("ref") == "A1:B1"
    # Namespace declarations the mc:Ignorable attribute names are still there.
    assert b'xmlns:x14ac="' in parts["xl/worksheets/sheet1.xml"]


def test_options_and_rebuild(tmp_path):
    first = build_addin(tmp_path, udf_module="aicapex.udfs;extra", pythonpath=r"%USERPROFILE%\x")
    _, rows = _conf_sheet(_parts(first))
    assert rows == [["UDF Modules", "aicapex.udfs;extra"], ["PYTHONPATH", r"%USERPROFILE%\x"]]
    second = build_addin(tmp_path)  # replaces the file in place
    assert second == first
    assert _conf_sheet(_parts(second))[1] == [["UDF Modules", "aicapex.udfs"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aicapex.xlam"]


@pytest.mark.parametrize("name", ["ai-capex", "ai capex", "1capex", ""])
def test_addin_name_must_be_importable(tmp_path, name):
    with pytest.raises(ArgumentError):
        build_addin(tmp_path, addin_name=name)
    assert list(tmp_path.iterdir()) == []


def test_bad_udf_module_writes_nothing(tmp_path):
    with pytest.raises(ArgumentError):
        build_addin(tmp_path, udf_module="aicapex-udfs")
    assert list(tmp_path.iterdir()) == []


def test_libreoffice_opens_the_addin(xlam, tmp_path, soffice):
    # `soffice` (conftest): skips when LibreOffice is absent, fails under CI=true.
    out = tmp_path / "out"
    # A private profile so concurrent LibreOffice runs do not share one; LibreOffice's type
    # detection does not know the add-in content type, so the filter is named explicitly.
    cmd = [
        soffice,
        f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
        "--headless",
        "--infilter=Calc MS Excel 2007 VBA XML",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(out),
        str(xlam),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    converted = out / "aicapex.xlsx"
    assert proc.returncode == 0, proc.stderr
    assert "Error" not in proc.stderr, proc.stderr
    assert converted.is_file(), proc.stdout + proc.stderr
    name, rows = _conf_sheet(_parts(converted))
    assert name == "myaddin.conf"
    assert rows == [["UDF Modules", "aicapex.udfs"]]


def test_ribbon_has_a_help_group_without_callbacks(tmp_path):
    import xml.etree.ElementTree as ET
    import zipfile

    from aicapex.excel.addin import CUSTOMUI_NS, build_addin

    path = build_addin(tmp_path)
    with zipfile.ZipFile(path) as z:
        part = next(n for n in z.namelist() if n.lower().endswith("customui.xml"))
        root = ET.fromstring(z.read(part))
    ns = {"c": CUSTOMUI_NS}
    tab = root.find(".//c:tab", ns)
    assert tab.get("label") == "AI Capex"
    help_group = root.find(".//c:group[@id='aicapexHelp']", ns)
    labels = help_group.findall("c:labelControl", ns)
    assert labels and all(lc.get("onAction") is None for lc in labels)
