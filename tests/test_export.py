"""Client export: leak-free .xlsx, values equal to the analyst copy, LibreOffice reproduces it.

The analyst workbook here is a realistic miniature built with XlsxWriter: Cover with a form
button and a comment, Inputs with ``in_CheckTol``, Data with ``tblData`` and source texts
beginning ``=``/``-``/``+``/``@``, Ratios with ``CPX_`` formulas (cached values passed to
``write_formula``, one ``#N/A`` gap), native formulas over them, a checks block and
``chk_Master``, a Dashboard chart, Sources/Changes tables, the xlwings VBA project and an
``xlwings.conf`` sheet. Expected values are the figures written into the fixture (hand-typed
reported numbers), never the export's own output.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import xlwings
from aicapex.cli import main
from aicapex.errors import AicapexError
from aicapex.excel.cached import read_cached_values, stamp_cached_values
from aicapex.excel.export import (
    DISCLAIMER,
    analyse_formula,
    client_file_name,
    export_client_copy,
    portability_problems,
    verify_client_copy,
)

YEARS = [2023, 2024, 2025]
COLS = "FGH"
AS_OF = "2026-03-31"
MSFT_CAPEX = [28107.0, 44477.0, 64551.0]
MSFT_OCF = [87582.0, 118548.0, 136162.0]
GOOG_CAPEX = [32251.0, 52535.0, None]  # FY2025 a gap: the UDF returns #N/A
GOOG_OCF = [101746.0, 125299.0, 164713.0]
FACTS = [
    ("MSFT", 2025, "capex", 64551.0, "10-K 2025", "ok"),
    ("MSFT", 2025, "ocf", 136162.0, '=HYPERLINK("http://example.invalid")', "formula-like"),
    ("GOOGL", 2025, "capex", 91447.0, "-gross of leases", "minus-leading"),
    ("GOOGL", 2025, "ocf", 164713.0, "+10-K", "plus-leading"),
    ("AMZN", 2025, "capex", 131819.0, "@import", "at-leading"),
]
LEADING_TEXT_CELLS = ["Data!E7", "Data!E8", "Data!E9", "Data!E10"]
N_SHEETS_EXPORTED = 7  # Cover Inputs Data Ratios Dashboard Sources Changes


def vba_project_bin() -> bytes:
    template = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    with zipfile.ZipFile(template) as zf:
        return zf.read("xl/vbaProject.bin")


def build_analyst(path: Path, *, master_fail: bool = False, cover: bool = True,
                  hidden_sheet: bool = False, hidden_content: bool = False,
                  secret_names: bool = False, stamp: bool = True) -> Path:
    """Write the miniature analyst .xlsm; ``master_fail`` makes every check genuinely fail;
    ``hidden_content`` hides a Ratios row and an Inputs column that hold analyst-only notes;
    ``secret_names`` adds defined names holding constants (a price target, a rate) and a
    hidden one; ``stamp`` writes the template version stamp the builder writes."""
    vba_path = path.with_name(path.stem + "_vbaProject.bin")
    vba_path.write_bytes(vba_project_bin())
    wb = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False,
        "default_format_properties": {"font_name": "Arial", "font_size": 10}})
    wb.set_properties({"author": "Jane Analyst", "company": "Broker LLC", "comments": "internal"})
    if stamp:  # what build_analyst_workbook writes (safety.TEMPLATE_PROPERTY, TEMPLATE_VERSION)
        wb.set_custom_property("aicapex_template", 1)
    wb.add_vba_project(str(vba_path))
    wb.set_vba_name("ThisWorkbook")
    musd = '#,##0_);(#,##0);"-"_)'
    engine = wb.add_format({"font_color": "#7030A0", "num_format": musd})
    pct = wb.add_format({"font_color": "#7030A0", "num_format": "0.0%"})
    calc = wb.add_format({"num_format": musd})
    check = wb.add_format({"num_format": '"ERROR";"ERROR";"OK"'})
    date = wb.add_format({"num_format": "yyyy-mm-dd", "font_color": "#0000FF"})
    bold = wb.add_format({"bold": True, "font_size": 14})
    year = wb.add_format({"num_format": '"FY"0"A"', "bold": True})

    tol = -1.0 if master_fail else 0.5  # a negative tolerance makes every check fail
    flag = 1 if master_fail else 0
    cover_ws = None
    if cover:
        cover_ws = wb.add_worksheet("Cover")
        cover_ws.set_vba_name("Sheet1")
    inputs = wb.add_worksheet("Inputs")
    inputs.set_vba_name("Sheet2")
    data = wb.add_worksheet("Data")
    ratios = wb.add_worksheet("Ratios")
    dash = wb.add_worksheet("Dashboard")
    sources = wb.add_worksheet("Sources")
    changes = wb.add_worksheet("Changes")
    scratch = wb.add_worksheet("Scratch") if hidden_sheet else None
    conf = wb.add_worksheet("xlwings.conf")

    ctl = cover_ws or inputs  # without a Cover, the control cells live on Inputs
    ctl.write_string("A1", "AI Capex Monitor", bold)
    ctl.insert_button("B3", {"macro": "SampleCall", "caption": "Refresh"})
    ctl.write_string("B10", "As of")
    ctl.write_datetime("C10", dt.datetime(2026, 3, 31), date)
    ctl.write_string("B11", "Master check")
    ctl.write_formula("C11", "=MIN(1,SUM(Ratios!D3))", check, flag)
    ctl.write_comment("C11", "analyst-only note: ask Bob")
    wb.define_name("in_AsOf", f"={ctl.name}!$C$10")
    wb.define_name("chk_Master", f"={ctl.name}!$C$11")

    inputs.write_string("B7", "Check tolerance")
    inputs.write_string("C7", "$m")
    inputs.write_number("D7", tol)
    inputs.write_string("B8", "Scenario")
    inputs.write_string("D8", "Base")
    wb.define_name("in_CheckTol", "=Inputs!$D$7")
    wb.define_name("in_Scenario", "=Inputs!$D$8")
    wb.define_name("cfg_Modules", "='xlwings.conf'!$B$1")

    header = ["ticker", "fiscal_year", "field", "value_musd", "source", "note"]
    data.write_string("A1", "Data", bold)
    data.add_table(4, 0, 4 + len(FACTS), len(header) - 1,
                   {"name": "tblData", "columns": [{"header": h} for h in header]})
    for i, fact in enumerate(FACTS):
        for j, v in enumerate(fact):
            if isinstance(v, str):
                data.write_string(5 + i, j, v)
            else:
                data.write_number(5 + i, j, v)

    ratios.write_string("A1", "Ratios", bold)
    ratios.write_string("B2", "USD millions unless stated; fiscal years as reported")
    ratios.write_string("B3", "Sheet check")
    labels = {7: "MSFT", 8: "Capex", 9: "Operating cash flow", 10: "Capex / OCF", 11: "FCF",
              12: "Capex above OCF?", 13: "Band", 15: "GOOGL", 16: "Capex",
              17: "Operating cash flow", 18: "Capex / OCF", 19: "FCF",
              21: "Peer capex (sum of fiscal years)", 22: "Peer OCF", 23: "Peer capex / OCF",
              24: "Gap count", 25: "Data total (structured)", 26: "Volatile",
              27: "AMZN capex via INDEX/MATCH", 28: "Modules (xlwings.conf)", 30: "Checks",
              31: "Peer total = sum of companies", 32: "FCF = OCF - capex"}
    for r, text in labels.items():
        ratios.write_string(f"B{r}", text)
    for r, t in ((8, "MSFT"), (9, "MSFT"), (16, "GOOGL"), (17, "GOOGL")):
        ratios.write_string(f"D{r}", t)
    for i, c in enumerate(COLS):
        ratios.write_number(f"{c}4", YEARS[i], year)
        ratios.write_number(f"{c}5", 1)
        mc, mo, gc, go = MSFT_CAPEX[i], MSFT_OCF[i], GOOG_CAPEX[i], GOOG_OCF[i]
        na = gc is None
        ratios.write_formula(f"{c}8", f'=CPX_VALUE($D8,"capex",{c}$4)', engine, mc)
        ratios.write_formula(f"{c}9", f'=CPX_VALUE($D9,"ocf",{c}$4)', engine, mo)
        ratios.write_formula(f"{c}10", f"=CPX_CAPEX_TO_OCF({c}8,{c}9)", pct, mc / mo)
        ratios.write_formula(f"{c}11", f"={c}9-{c}8", calc, mo - mc)
        ratios.write_formula(f"{c}12", f"={c}10>1", None, mc / mo > 1)
        ratios.write_formula(f"{c}13", f'=IF({c}10>0.4,"high","normal")', None,
                             "high" if mc / mo > 0.4 else "normal")
        ratios.write_formula(f"{c}16", f'=CPX_VALUE($D16,"capex",{c}$4)', engine,
                             "#N/A" if na else gc)
        ratios.write_formula(f"{c}17", f'=CPX_VALUE($D17,"ocf",{c}$4)', engine, go)
        ratios.write_formula(f"{c}18", f"=CPX_CAPEX_TO_OCF({c}16,{c}17)", pct,
                             "#N/A" if na else gc / go)
        ratios.write_formula(f"{c}19", f"={c}17-{c}16", calc, "#N/A" if na else go - gc)
        ratios.write_formula(f"{c}21", f"={c}8+{c}16", calc, "#N/A" if na else mc + gc)
        ratios.write_formula(f"{c}22", f"=SUM({c}9,{c}17)", calc, mo + go)
        ratios.write_formula(f"{c}23", f"=SUM({c}8,{c}16)/SUM({c}9,{c}17)", pct,
                             "#N/A" if na else (mc + gc) / (mo + go))
        ratios.write_formula(f"{c}31", f"=--(ABS({c}21-({c}8+{c}16))>in_CheckTol)", check,
                             "#N/A" if na else flag)
        ratios.write_formula(f"{c}32", f"=--(ABS({c}11-({c}9-{c}8))>in_CheckTol)", check, flag)
    ratios.write_formula("D3", "=MIN(1,SUM(F32:H32))", check, flag)
    ratios.write_formula("D24", "=SUMPRODUCT(--ISERROR(F8:H19))", calc, 4)
    ratios.write_formula("D25", "=SUM(tblData[value_musd])", calc, sum(f[3] for f in FACTS))
    ratios.write_formula("D26", "=SUM(OFFSET(F8,0,0,1,3))", calc, sum(MSFT_CAPEX))
    ratios.write_formula("D27", '=INDEX(Data!$D$6:$D$10,MATCH("AMZN",Data!$A$6:$A$10,0))',
                         calc, 131819.0)
    ratios.write_formula("D28", "=cfg_Modules", None, "aicapex.udfs")
    ratios.set_row(28, None, None, {"hidden": True})  # a hidden row (blank; unhidden on export)
    if hidden_content:
        ratios.write_string("B35", "internal: PT cut to $410 before the call")
        ratios.set_row(34, None, None, {"hidden": True})
        inputs.write_number("H7", 410)
        inputs.set_column("H:H", None, None, {"hidden": True})
    if secret_names:
        wb.define_name("secret_PriceTarget", '="PT $410, do not share"')
        wb.define_name("in_Discount", "=0.085")
        wb.define_name("zz_HiddenTol", "=Inputs!$D$7")  # made hidden by hide_names()
    ratios.set_column("A:A", 2)
    ratios.set_column("B:B", 40)

    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "MSFT capex", "categories": "=Ratios!$F$4:$H$4",
                      "values": "=Ratios!$F$8:$H$8", "fill": {"color": "#0072B2"}})
    chart.set_title({"name": "Capex, FY2023-FY2025 ($m)"})
    dash.insert_chart("B6", chart)
    dash.write_string("B22", "Source: company 10-K filings (SEC EDGAR)")

    sources.add_table(4, 0, 6, 2, {"name": "tblSources",
                                   "columns": [{"header": h} for h in ("ticker", "form", "url")]})
    sources.write_string("A6", "MSFT")
    sources.write_string("B6", "10-K")
    sources.write_url("C6", "https://www.sec.gov/Archives/edgar/data/789019/")
    sources.write_string("A7", "GOOGL")
    sources.write_string("B7", "10-K")
    sources.write_url("C7", "https://www.sec.gov/Archives/edgar/data/1652044/")
    changes.add_table(4, 0, 5, 2, {"name": "tblChanges",
                                   "columns": [{"header": h} for h in ("cell", "old", "new")]})
    changes.write_string("A6", "Ratios!H8")
    changes.write_number("B6", 60000)
    changes.write_number("C6", 64551)
    if scratch is not None:
        scratch.write_string("A1", "analyst-only notes")
        scratch.hide()
    conf.write_string("A1", "UDF Modules")
    conf.write_string("B1", "aicapex.udfs")
    conf.write_string("A2", "Interpreter_Linux")
    conf.write_string("B2", "/home/jane/.venv/bin/python")
    wb.close()
    vba_path.unlink()
    return path


@pytest.fixture(scope="module")
def analyst(tmp_path_factory) -> Path:
    return build_analyst(tmp_path_factory.mktemp("analyst") / "ai_capex_monitor.xlsm")


@pytest.fixture(scope="module")
def exported(analyst, tmp_path_factory) -> Path:
    out_dir = tmp_path_factory.mktemp("client")
    return export_client_copy(analyst, "Acme & Sons", out_dir)


def hide_names(path: Path, *names: str) -> Path:
    """Mark defined names hidden (XlsxWriter cannot): ``<definedName hidden="1" ...>``."""
    tmp = path.with_name("hidden-names.tmp")

    def edit(name: str, data: bytes) -> bytes:
        if name != "xl/workbook.xml":
            return data
        text = data.decode()
        for n in names:
            text = text.replace(f'<definedName name="{n}"', f'<definedName name="{n}" hidden="1"')
        return text.encode()

    rewrite_zip(path, tmp, edit)
    tmp.replace(path)
    return path


def sheet_xml(path: Path, title: str) -> str:
    from aicapex.excel.cached import sheet_parts

    with zipfile.ZipFile(path) as zf:
        return zf.read(sheet_parts(zf)[title]).decode()


def rewrite_zip(src: Path, dst: Path, edit) -> Path:
    """Copy a zip, passing each (name, bytes) through ``edit`` -> bytes or None (drop)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
    return dst


# --------------------------------------------------------------------------- formula analysis
def test_formula_analysis_and_portability():
    info = analyse_formula("=--(ABS(F21-(F8+F16))>in_CheckTol)")
    assert info.functions == {"ABS"} and info.names == {"in_CheckTol"} and not info.problems
    assert [b for _, b in info.refs] == [(21, 6, 21, 6), (8, 6, 8, 6), (16, 6, 16, 6)]
    ok = dict(sheets=["Ratios", "Data"], names=["in_CheckTol"])
    assert portability_problems("=SUM(F8,F16)/SUM(F9,F17)", **ok) == []
    assert portability_problems("=INDEX(Data!$D$6:$D$10,MATCH(\"AMZN\",Data!$A$6:$A$10,0))",
                                **ok) == []
    for formula, why in [
        ("=CPX_VALUE($D8,F$4)", "function CPX_VALUE"),
        ("=SUM(tblData[value_musd])", "structured reference"),
        ("=SUM(OFFSET(F8,0,0,1,3))", "function OFFSET"),
        ("=_xlfn.XLOOKUP(1,A1:A2,B1:B2)", "function _XLFN.XLOOKUP"),
        ("=[1]Sheet1!A1", "external link"),
        ("='xlwings.conf'!B1", "not in the export"),
        ("=SUM(A:A)", "whole-column"),
        ("=Sheet1:Sheet3!A1", "3-D"),
        ("=A1 B2", "intersection"),
        ("=SUM({1,2})", "array constant"),
        ("=cfg_Modules", "not a kept defined name"),
        ('=HYPERLINK("http://x")', "function HYPERLINK"),
        ("=-gross of leases", "gross"),
        ("=Ratios!#REF!", "broken reference"),
    ]:
        problems = portability_problems(formula, **ok)
        assert problems and any(why in p for p in problems), (formula, problems)


def test_client_file_name_is_sanitised():
    assert client_file_name("Acme & Sons", AS_OF) == "AI_Capex_Monitor_Acme_Sons_2026-03-31.xlsx"
    assert client_file_name("../../etc/x", AS_OF) == "AI_Capex_Monitor_etc_x_2026-03-31.xlsx"
    with pytest.raises(AicapexError, match="client name"):
        client_file_name("&&&", AS_OF)


# --------------------------------------------------------------------------- leaks
def test_the_analyst_fixture_is_full_of_what_must_not_leave(analyst):
    problems = "\n".join(verify_client_copy(analyst))
    for expected in ["vbaProject.bin", "macro-enabled", "xlwings.conf must not be exported",
                     "comments part", "legacy drawing", "dc:creator", "Ratios: row 29 is hidden",
                     "Ratios!F8: CPX_ formula", "Ratios!H16: error value #N/A",
                     "Data!E7: text", "structured reference tblData[value_musd]"]:
        assert expected in problems, expected


def test_export_is_clean(exported):
    assert exported.name == "AI_Capex_Monitor_Acme_Sons_2026-03-31.xlsx"
    assert verify_client_copy(exported) == []
    with zipfile.ZipFile(exported) as zf:
        names = zf.namelist()
        assert not [n for n in names if "vba" in n.lower() or n.endswith(".vml")]
        assert not [n for n in names if "comment" in n.lower() or "externalLink" in n]
        workbook = zf.read("xl/workbook.xml").decode()
        assert "xlwings" not in workbook and "cfg_Modules" not in workbook
        assert 'fullCalcOnLoad="1"' in workbook
        assert "macroEnabled" not in zf.read("[Content_Types].xml").decode()
        every_formula = "".join(
            "".join(re.findall(r"<f>(.*?)</f>", zf.read(n).decode()))
            for n in names if n.startswith("xl/worksheets/sheet"))
        assert "CPX_" not in every_formula.upper() and every_formula
    wb = openpyxl.load_workbook(exported)
    assert wb.sheetnames == ["Cover", "Inputs", "Data", "Ratios", "Dashboard", "Sources",
                             "Changes"]
    assert all(ws.sheet_state == "visible" for ws in wb.worksheets)
    assert wb["Ratios"].row_dimensions[29].hidden is False
    assert sorted(wb.defined_names) == ["chk_Master", "in_AsOf", "in_CheckTol", "in_Scenario"]
    assert len(wb["Dashboard"]._charts) == 1  # the chart survives
    assert sorted(wb["Data"].tables) == ["tblData"]


@pytest.mark.parametrize("seed", [
    "vba", "cpx_formula", "hidden_sheet", "very_hidden_sheet", "hidden_row", "hidden_col",
    "external_link", "creator", "name_to_missing_sheet", "name_ref_error", "text_as_formula",
    "comments", "conf_sheet", "no_cached_value", "error_value", "no_quote_prefix",
    "custom_property", "constant_name", "hidden_name", "no_client_mark",
])
def test_a_seeded_forbidden_part_is_caught(exported, tmp_path, seed):
    def edit(name: str, data: bytes) -> bytes:
        text = data.decode("utf-8", "replace") if not name.endswith(".bin") else ""
        if seed == "cpx_formula" and name == "xl/worksheets/sheet4.xml":
            return text.replace("<f>F9-F8</f>", "<f>CPX_FCF(F9,F8)</f>", 1).encode()
        if seed in ("hidden_sheet", "very_hidden_sheet") and name == "xl/workbook.xml":
            state = "hidden" if seed == "hidden_sheet" else "veryHidden"
            return text.replace('name="Sources" sheetId="6" state="visible"',
                                f'name="Sources" sheetId="6" state="{state}"').encode()
        if seed == "conf_sheet" and name == "xl/workbook.xml":
            return text.replace('name="Changes"', 'name="xlwings.conf"').encode()
        if seed == "hidden_row" and name == "xl/worksheets/sheet4.xml":
            return text.replace('<row r="8"', '<row r="8" hidden="1"', 1).encode()
        if seed == "hidden_col" and name == "xl/worksheets/sheet4.xml":
            return re.sub(r"<col ", '<col hidden="1" ', text, count=1).encode()
        if seed == "creator" and name == "docProps/core.xml":
            return text.replace("</dc:subject>", "</dc:subject><dc:creator>Jane</dc:creator>"
                                ).encode()
        if seed in ("name_to_missing_sheet", "name_ref_error") and name == "xl/workbook.xml":
            target = "Gone!$A$1" if seed == "name_to_missing_sheet" else "#REF!"
            return text.replace("Inputs!$D$8", target).encode()
        if seed == "text_as_formula" and name == "xl/worksheets/sheet3.xml":
            # the "=HYPERLINK(...)" source text stored as a live formula
            return re.sub(r'<c r="E7"([^>]*?) t="inlineStr"><is><t>=(.*?)</t></is></c>',
                          r'<c r="E7"\1><f>\2</f><v>0</v></c>', text).encode()
        if seed == "no_cached_value" and name == "xl/worksheets/sheet4.xml":
            return re.sub(r"(<f>F9-F8</f>)<v>[^<]*</v>", r"\1<v />", text).encode()
        if seed == "error_value" and name == "xl/worksheets/sheet4.xml":
            return re.sub(r'<c r="H19"([^>]*?) t="inlineStr"><is><t>n/a</t></is></c>',
                          r'<c r="H19"\1 t="e"><v>#N/A</v></c>', text).encode()
        if seed == "no_quote_prefix" and name == "xl/styles.xml":
            return text.replace('quotePrefix="1"', "").encode()
        if seed == "custom_property" and name == "docProps/custom.xml":
            return text.replace("</Properties>", '<property fmtid="{D5CDD505-2E9C-101B-9397-'
                                '08002B2CF9AE}" pid="3" name="Analyst"><vt:lpwstr>Jane'
                                "</vt:lpwstr></property></Properties>").encode()
        if seed == "no_client_mark" and name == "docProps/custom.xml":
            return None
        if seed in ("constant_name", "hidden_name") and name == "xl/workbook.xml":
            if seed == "hidden_name":
                return text.replace('<definedName name="in_Scenario"',
                                    '<definedName name="in_Scenario" hidden="1"').encode()
            return text.replace("</definedNames>", '<definedName name="secret_PT">'
                                "410</definedName></definedNames>").encode()
        return data

    bad = rewrite_zip(exported, tmp_path / "bad.xlsx", edit)
    with zipfile.ZipFile(bad, "a") as zf:
        if seed == "vba":
            zf.writestr("xl/vbaProject.bin", vba_project_bin())
        if seed == "external_link":
            zf.writestr("xl/externalLinks/externalLink1.xml", "<externalLink/>")
        if seed == "comments":
            zf.writestr("xl/comments1.xml", "<comments/>")
    problems = verify_client_copy(bad)
    expected = {
        "vba": "macro project", "cpx_formula": "Ratios!F11: CPX_ formula",
        "hidden_sheet": "sheet Sources is hidden",
        "very_hidden_sheet": "sheet Sources is veryHidden", "hidden_row": "row 8 is hidden",
        "hidden_col": "are hidden", "external_link": "external link part",
        "creator": "dc:creator is 'Jane'", "name_to_missing_sheet": "missing sheet Gone",
        "name_ref_error": "refers to #REF!", "text_as_formula": "Data!E7: formula =HYPERLINK",
        "comments": "comments part", "conf_sheet": "xlwings.conf must not be exported",
        "no_cached_value": "Ratios!F11: formula has no cached value",
        "error_value": "Ratios!H19: error value #N/A", "no_quote_prefix": "lacks the quote prefix",
        "custom_property": "custom document property Analyst",
        "constant_name": "defined name secret_PT holds a constant",
        "hidden_name": "defined name in_Scenario is hidden",
        "no_client_mark": "not marked as a client copy",
    }[seed]
    assert any(expected in p for p in problems), problems


# --------------------------------------------------------------------------- values
def test_values_equal_the_analyst_cached_values(analyst, exported):
    before = read_cached_values(analyst)
    after = read_cached_values(exported)
    checked = 0
    for (sheet, coord), value in before.items():
        if sheet in ("xlwings.conf", "Changes"):  # Changes ships as a summary (test below)
            continue
        got = after.get((sheet, coord))
        if value == "#N/A":
            assert got == "n/a", (sheet, coord)
        elif isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-15), (sheet, coord)
        else:
            assert got == value, (sheet, coord)
        checked += 1
    assert checked >= 140
    # spot checks against the hand-typed figures
    assert after[("Ratios", "H8")] == 64551
    assert after[("Ratios", "H10")] == pytest.approx(64551 / 136162)
    assert after[("Ratios", "G23")] == pytest.approx((44477 + 52535) / (118548 + 125299))
    assert after[("Ratios", "D27")] == 131819
    assert after[("Ratios", "F12")] is False and after[("Ratios", "H13")] == "high"
    assert not [k for k in after if k[0] == "xlwings.conf"]


def test_native_formulas_kept_only_where_portable(exported):
    ws = openpyxl.load_workbook(exported)["Ratios"]
    kept = {"F11": "=F9-F8", "F12": "=F10>1", "F13": '=IF(F10>0.4,"high","normal")',
            "F21": "=F8+F16", "H22": "=SUM(H9,H17)", "G23": "=SUM(G8,G16)/SUM(G9,G17)",
            "F31": "=--(ABS(F21-(F8+F16))>in_CheckTol)", "H32": "=--(ABS(H11-(H9-H8))>in_CheckTol)",
            "D3": "=MIN(1,SUM(F32:H32))",
            "D27": '=INDEX(Data!$D$6:$D$10,MATCH("AMZN",Data!$A$6:$A$10,0))'}
    for coord, formula in kept.items():
        assert ws[coord].value == formula, coord
    values = {"F8": 28107, "H10": pytest.approx(64551 / 136162),  # CPX_ -> value
              "D24": 4,  # SUMPRODUCT(--ISERROR(..)) over n/a cells -> value
              "D25": sum(f[3] for f in FACTS),  # structured reference -> value
              "D26": sum(MSFT_CAPEX),  # OFFSET -> value
              "D28": "aicapex.udfs"}  # name into the dropped xlwings.conf -> value
    for coord, value in values.items():
        assert ws[coord].data_type != "f" and ws[coord].value == value, coord
    # cached errors become grey n/a text, also for native formulas that inherited them
    for coord in ("H16", "H18", "H19", "H21", "H23", "H31"):
        assert ws[coord].value == "n/a" and ws[coord].data_type == "s", coord
        assert ws[coord].font.color.rgb.endswith("808080")
    # engine results stay purple
    assert ws["F8"].font.color.rgb.endswith("7030A0")
    assert ws["G18"].font.color.rgb.endswith("7030A0")
    assert openpyxl.load_workbook(exported)["Cover"]["C11"].value == "=MIN(1,SUM(Ratios!D3))"


def test_kept_formulas_carry_typed_cached_values(exported):
    xml = sheet_xml(exported, "Ratios")
    cells = dict(re.findall(r'<c r="([A-Z]+\d+)"[^>]*?>(<f>.*?)</c>', xml))
    assert cells, "no formulas kept"
    for coord, body in cells.items():
        assert re.search(r"<v>[^<]+</v>", body), coord
    assert re.search(r'<c r="F12"[^>]*t="b"[^>]*><f>F10&gt;1</f><v>0</v></c>', xml)
    assert re.search(r'<c r="H13"[^>]*t="str"[^>]*><f>[^<]*</f><v>high</v></c>', xml)
    assert re.search(r'<c r="F11"[^>]*><f>F9-F8</f><v>59475</v></c>', xml)  # 87582 - 28107


def test_source_text_starting_with_formula_characters_stays_text(exported):
    ws = openpyxl.load_workbook(exported)["Data"]
    for ref, fact in zip(LEADING_TEXT_CELLS, FACTS[1:], strict=True):
        cell = ws[ref.split("!")[1]]
        assert cell.data_type == "s" and cell.value == fact[4]
        assert cell.quotePrefix
    assert "<f>" not in sheet_xml(exported, "Data")


def test_cover_print_setup_and_properties(exported):
    wb = openpyxl.load_workbook(exported)
    cover = [v for row in wb["Cover"].iter_rows(values_only=True) for v in row if v is not None]
    text = " | ".join(str(v) for v in cover)
    assert "Acme & Sons" in text
    assert f"values computed by the CPX engine as of {AS_OF}" in text
    assert dt.datetime(2026, 3, 31) in cover
    assert "CHECKS FAILING" not in text
    generated = [v for v in cover if isinstance(v, dt.datetime) and v.year >= 2026 and v.hour]
    for sentence in DISCLAIMER:
        assert sentence in text
    for phrase in ("not an offer", "not a recommendation", "not guaranteed", "illustrative",
                   "not forecasts", "Standard V(B)", "USD millions", "fiscal years as reported",
                   "No duty to update", "FINRA Rule 2241"):
        assert phrase in text, phrase
    assert generated or "Generated" in text
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 1
        assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # The Dashboard's charts start on row 4: it repeats only its title rows.
        assert ws.print_title_rows == ("$1:$2" if ws.title == "Dashboard" else "$1:$5")
        assert (ws.print_title_cols == "$A:$C") == (ws.title in ("Inputs", "Ratios"))
        assert f"As of {AS_OF}" in ws.oddHeader.right.text
    xml = sheet_xml(exported, "Ratios")
    assert ("<oddFooter>&amp;L&amp;8Sources: filings, releases, secondary; see Sources&amp;C&amp;8&amp;A"
            "&amp;R&amp;8Page &amp;P of &amp;N</oddFooter>") in xml
    with zipfile.ZipFile(exported) as zf:
        core = zf.read("docProps/core.xml").decode()
        app = zf.read("docProps/app.xml").decode()
    assert "<dc:title>AI Capex Monitor: Acme &amp; Sons</dc:title>" in core
    assert "<dc:subject>" in core and "creator" not in core and "lastModifiedBy" not in core
    assert "<Company>" in app and "Broker LLC" not in app and "Jane" not in core


def test_export_without_cover_creates_one(tmp_path):
    src = build_analyst(tmp_path / "nocover.xlsm", cover=False)
    out = export_client_copy(src, "Beta", tmp_path / "beta.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Cover"
    text = " ".join(str(v) for r in wb["Cover"].iter_rows(values_only=True) for v in r if v)
    assert "Beta" in text and "FINRA Rule 2241" in text
    assert verify_client_copy(out) == []


def test_master_check_refusal_and_force(tmp_path):
    src = build_analyst(tmp_path / "failing.xlsm", master_fail=True)
    with pytest.raises(AicapexError, match="chk_Master is 1, not 0"):
        export_client_copy(src, "Acme", tmp_path)
    assert not list(tmp_path.glob("*.xlsx"))
    out = export_client_copy(src, "Acme", tmp_path, force=True)
    wb = openpyxl.load_workbook(out)
    values = [v for r in wb["Cover"].iter_rows(values_only=True) for v in r]
    assert "CHECKS FAILING" in values
    assert wb["Ratios"].oddHeader.center.text == "CHECKS FAILING"
    assert verify_client_copy(out) == []


def test_hidden_sheet_is_refused(tmp_path):
    src = build_analyst(tmp_path / "hidden.xlsm", hidden_sheet=True)
    with pytest.raises(AicapexError, match=r"hidden sheets \(Scratch\)"):
        export_client_copy(src, "Acme", tmp_path)


def test_workbook_without_cached_values_is_refused(tmp_path):
    from openpyxl.packaging.custom import IntProperty

    wb = openpyxl.Workbook()
    wb.custom_doc_props.append(IntProperty(name="aicapex_template", value=1))  # ours
    wb.active.title = "Cover"
    wb.active["A1"] = 1
    wb.active["A2"] = "=A1*2"  # openpyxl writes no cached value
    wb.save(tmp_path / "raw.xlsx")
    with pytest.raises(AicapexError, match="no cached value.*Cover!A2"):
        export_client_copy(tmp_path / "raw.xlsx", "Acme", tmp_path / "o.xlsx", force=True)


def test_second_export_keeps_one_backup(analyst, tmp_path):
    first = export_client_copy(analyst, "Acme", tmp_path)
    first_bytes = first.read_bytes()
    second = export_client_copy(analyst, "Acme", tmp_path)
    assert second == first
    assert (tmp_path / (first.name + ".bak")).read_bytes() == first_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name, first.name + ".bak"]


# --------------------------------------------------------------------------- LibreOffice
def test_libreoffice_recalculation_reproduces_every_cell(exported, soffice, tmp_path):
    from aicapex.excel.libreoffice import compare_with_libreoffice, recalculate

    assert compare_with_libreoffice(exported) == []
    # and the recalculated copy holds no error value anywhere (openpyxl data_only scan)
    recalced = recalculate(exported, tmp_path)
    wb = openpyxl.load_workbook(recalced, data_only=True)
    errors = [f"{ws.title}!{c.coordinate}={c.value}" for ws in wb.worksheets
              for row in ws.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith("#")]
    assert errors == []
    assert wb["Ratios"]["F11"].value == 87582 - 28107  # really computed from the values


def test_libreoffice_comparison_catches_a_wrong_cached_value(exported, soffice, tmp_path):
    from aicapex.excel.libreoffice import compare_with_libreoffice

    wrong = tmp_path / "wrong.xlsx"
    stamp_cached_values(exported, wrong, {("Ratios", "G11"): 12345.0,
                                          ("Ratios", "F13"): "high"})
    problems = compare_with_libreoffice(wrong)
    assert len(problems) == 2, problems
    assert problems[0].startswith("Ratios!G11: stored 12345") and "74071" in problems[0]
    assert problems[1].startswith("Ratios!F13: stored 'high'") and "'normal'" in problems[1]


def test_pdf_is_rendered_one_page_per_sheet(analyst, soffice, tmp_path):
    from aicapex.excel.libreoffice import pdf_page_count

    out = export_client_copy(analyst, "Acme", tmp_path, pdf=True)
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    # every sheet is fit to one page wide and each is short: one page each, except the table
    # sheets the PDF leaves to the .xlsx (hundreds of rows of Data and Sources)
    from aicapex.excel.client_edition import PDF_LEFT_OUT

    assert set(PDF_LEFT_OUT) == {"Data", "Sources"}
    assert pdf_page_count(pdf) == N_SHEETS_EXPORTED - len(PDF_LEFT_OUT)
    assert not list(tmp_path.glob(".*.tmp"))


# --------------------------------------------------------------------------- command line
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exports_and_prints_the_path(analyst, tmp_path, capsys):
    code, out, err = run_cli(capsys, "export", str(analyst), "--client", "Acme",
                             "--out", str(tmp_path))
    assert code == 0, err
    path = Path(out.strip())
    assert path.name == "AI_Capex_Monitor_Acme_2026-03-31.xlsx" and path.is_file()


@pytest.mark.parametrize("case", ["missing", "not_a_workbook", "read_only_target",
                                  "read_only_folder", "bad_out_suffix", "failing_checks"])
def test_cli_one_line_errors(analyst, tmp_path, capsys, case):
    args = ["export", str(analyst), "--client", "Acme", "--out", str(tmp_path / "c.xlsx")]
    expected = {"missing": "no such file", "not_a_workbook": "not (a|an Excel) workbook",
                "read_only_target": "the file is read-only", "read_only_folder": "is read-only",
                "bad_out_suffix": r"must be an \.xlsx file name", "failing_checks": "--force"}[case]
    if case == "missing":
        args[1] = str(tmp_path / "nope.xlsm")
    elif case == "not_a_workbook":
        fake = tmp_path / "fake.xlsm"
        fake.write_text("hello")
        args[1] = str(fake)
    elif case == "read_only_target":
        (tmp_path / "c.xlsx").write_bytes(b"old")
        (tmp_path / "c.xlsx").chmod(0o444)
    elif case == "read_only_folder":
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        args[-1] = str(ro / "c.xlsx")
    elif case == "bad_out_suffix":
        args[-1] = str(tmp_path / "c.xlsm")
    elif case == "failing_checks":
        args[1] = str(build_analyst(tmp_path / "failing.xlsm", master_fail=True))
    try:
        code, out, err = run_cli(capsys, *args)
    finally:
        for p in (tmp_path / "c.xlsx", tmp_path / "ro"):
            if p.exists():
                p.chmod(0o755)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert re.search(expected, err), err
    if case == "read_only_target":
        assert (tmp_path / "c.xlsx").read_bytes() == b"old"


def test_cli_force_stamps_checks_failing(tmp_path, capsys):
    src = build_analyst(tmp_path / "failing.xlsm", master_fail=True)
    code, out, err = run_cli(capsys, "export", str(src), "--client", "Acme", "--force")
    assert code == 0, err
    wb = openpyxl.load_workbook(out.strip())
    assert "CHECKS FAILING" in [v for r in wb["Cover"].iter_rows(values_only=True) for v in r]


def test_export_never_touches_the_analyst_file(analyst, tmp_path):
    before = analyst.read_bytes()
    shutil.copy(analyst, tmp_path / "copy.xlsm")
    export_client_copy(tmp_path / "copy.xlsm", "Acme", tmp_path)
    assert (tmp_path / "copy.xlsm").read_bytes() == before
