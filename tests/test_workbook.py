"""The analyst workbook: reproducible template, valid formulas, VBA buttons, headless refresh."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys

import openpyxl
import pytest
from aicapex.data.dataset import load_dataset
from aicapex.excel import layout as L
from aicapex.excel import vba
from aicapex.excel.headless import refresh_file
from conftest import REPO
from openpyxl.worksheet.formula import ArrayFormula
from workbook_fixtures import NOW, TIMELINE

COMMITTED = REPO / "workbook" / L.WORKBOOK_NAME


def _cells(path):
    wb = openpyxl.load_workbook(path, keep_vba=True)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None or c.has_style:
                    value = c.value
                    if isinstance(value, ArrayFormula):  # compare what it holds, not the object
                        value = ("array", value.ref, value.text)
                    out[(ws.title, c.coordinate)] = (
                        value, c.number_format, c.font.color.rgb if c.font and c.font.color else None,
                        c.fill.fgColor.rgb if c.fill and c.fill.fgColor is not None else None)
    names = {n: d.attr_text for n, d in wb.defined_names.items()}
    return wb.sheetnames, out, names


def test_committed_template_is_what_the_builder_makes(template):
    assert COMMITTED.exists(), "run: python -m aicapex build --template-only --out workbook --force"
    assert _cells(COMMITTED) == _cells(template)


def test_one_formula_per_row_on_ratios(template):
    """Every period cell of a Ratios row holds the same formula, shifted by its column."""
    wb = openpyxl.load_workbook(template)
    ws = wb["Ratios"]
    from openpyxl.formula.translate import Translator

    cols = list(TIMELINE.actual_cols())
    first = L.col(cols[0])
    for r in range(L.HEADER_ROWS + 1, ws.max_row + 1):
        f0 = ws[f"{first}{r}"].value
        if not (isinstance(f0, str) and f0.startswith("=")):
            continue
        for c in cols[1:]:
            expected = Translator(f0, origin=f"{first}{r}").translate_formula(f"{L.col(c)}{r}")
            assert ws[f"{L.col(c)}{r}"].value == expected, f"Ratios row {r} column {L.col(c)}"


def test_buttons_run_macros_of_the_embedded_xlwings_project(template):
    macros = vba.button_macros(template)
    assert sorted(macros) == ["ImportPythonUDFs", "SampleCall"]
    bin_ = vba.extract_vba_project()
    for m in macros:
        assert vba.find_macro(bin_, m)
    assert vba.sample_call_module(template.name) == "ai_capex_monitor"
    assert (REPO / "workbook" / "ai_capex_monitor.py").exists()


def test_xlwings_conf_points_at_the_udf_module(template):
    ws = openpyxl.load_workbook(template)["xlwings.conf"]
    rows = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert rows["UDF Modules"] == "aicapex.udfs"
    assert openpyxl.load_workbook(template).sheetnames[-1] == "xlwings.conf"


# --- headless refresh ----------------------------------------------------------------------


def _values(path):
    return openpyxl.load_workbook(path, data_only=True)


def test_refresh_stores_a_value_for_every_formula(refreshed_workbook):
    from aicapex.excel.cached import read_formula_results

    wb_f = openpyxl.load_workbook(refreshed_workbook)
    stored = read_formula_results(refreshed_workbook)
    for ws in wb_f.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                v = stored.get((ws.title, c.coordinate))
                assert v is not None, f"{ws.title}!{c.coordinate} has no cached value"
                if isinstance(v, str) and v.startswith("#"):
                    # The only errors: #N/A for figures a company did not report (documented gaps)
                    # and the ratios that need them.
                    assert v == "#N/A", f"{ws.title}!{c.coordinate} = {v}"


def test_ratios_blocks_show_na_exactly_where_a_figure_was_not_reported(refreshed_workbook):
    """Every cell a company block spills holds a number or #N/A, and #N/A (a reported figure
    row) only where the data set lacks that figure."""
    ws = _values(refreshed_workbook)["Ratios"]
    ds = load_dataset()
    for t, b in L.ratios_layout().blocks.items():
        if b.ticker is None:
            continue
        for link in L.LINK_ROWS:
            for c in TIMELINE.actual_cols():
                fy = TIMELINE.year_of(c)
                v = ws.cell(b.rows[link.field] + 1, c + 1).value
                if math.isnan(ds.value(t, link.field, fy)):
                    assert v == "#N/A", (t, link.field, fy, v)
                else:
                    assert v == ds.value(t, link.field, fy), (t, link.field, fy, v)


def test_refreshed_values_match_the_filings(refreshed_workbook):
    ws = _values(refreshed_workbook)["Ratios"]
    b = L.ratios_layout().blocks["MSFT"]
    fy25 = L.col(TIMELINE.period_col(2025))
    assert ws[f"{fy25}{b.rows['capex'] + 1}"].value == 64551
    assert ws[f"{fy25}{b.rows['capex_to_ocf'] + 1}"].value == pytest.approx(64551 / 136162, rel=1e-12)
    g = L.ratios_layout().blocks["GOOGL"]
    assert ws[f"{fy25}{g.rows['fcf'] + 1}"].value == 164713 - 91447
    cover = _values(refreshed_workbook)["Cover"]
    assert cover[L.cell(*L.COVER_MASTER)].value == 0
    # The newest fiscal year end in the data: MSFT FY2026 (10-K, year to 2026-06-30).
    assert str(cover[L.cell(*L.COVER_AS_OF)].value)[:10] == "2026-06-30"
    # ...and the Cover says so where the date is read: ORCL's Q1 FY2027 (to 2026-08-31) is newer,
    # so "data cut-off" alone would misstate it.
    r, c = L.COVER_AS_OF
    assert cover.cell(r + 1, 2).value == "As of (newest fiscal year end)"
    assert "quarters can be newer" in cover.cell(r + 1, 4).value


def test_peer_block_is_ratio_of_sums(refreshed_workbook, dataset):
    ws = _values(refreshed_workbook)["Ratios"]
    lay = L.ratios_layout()
    fy24 = L.col(TIMELINE.period_col(2024))
    capex = sum(dataset.value(t, "capex", 2024) for t in L.PEER_SET)
    ocf = sum(dataset.value(t, "ocf", 2024) for t in L.PEER_SET)
    assert ws[f"{fy24}{lay.peer_rows['capex_to_ocf'] + 1}"].value == pytest.approx(capex / ocf, rel=1e-12)


def test_refresh_fills_data_and_sources_tables(refreshed_workbook, dataset):
    wb = _values(refreshed_workbook)
    data = wb["Data"]
    n = len(dataset.annual)
    first = L.DATA_HEADER_ROW + 2
    assert data.tables["tblData"].ref == f"A{first - 1}:H{first - 1 + n}"
    assert data.cell(first, 1).value == dataset.annual.iloc[0]["ticker"]
    src = wb["Sources"]
    url_col = L.SOURCES_COLUMNS.index("url") + 1
    urls = [src.cell(r, url_col).value for r in range(first, first + n)]
    assert any(u and u.startswith("https://www.sec.gov/Archives/edgar/data/") for u in urls)


def test_inputs_survive_refresh_and_overrides_change_exactly_the_affected_cells(
        refreshed_copy, tmp_path):
    path = refreshed_copy
    wb = openpyxl.load_workbook(path, keep_vba=True)
    tol_cell = L.input_ref("in_CheckTol").split("!")[1].replace("$", "")
    wb["Inputs"][tol_cell].value = 0.75  # the analyst's own edit
    wb.save(path)
    refresh_file(path, now=NOW)  # re-stamp cached values after the openpyxl save
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "msft.csv").write_text(
        "ticker,fiscal_year,fiscal_year_end,field,value_musd,source,note\n"
        "MSFT,2025,2025-06-30,capex,70000,Analyst adjustment (test),override\n")
    before = _values(path)
    refresh_file(path, overrides=overrides, now=NOW)
    after = _values(path)
    assert openpyxl.load_workbook(path)["Inputs"][tol_cell].value == 0.75
    changed = set()
    for sheet in ("Ratios",):
        for row in after[sheet].iter_rows():
            for c in row:
                old = before[sheet][c.coordinate].value
                if old != c.value:
                    changed.add(c.coordinate)
    lay = L.ratios_layout()
    b = lay.blocks["MSFT"]
    fy25 = L.col(TIMELINE.period_col(2025))
    expected = {f"{fy25}{b.rows[k] + 1}" for k in ("capex", "capex_on_basis", "capex_to_ocf",
                                                     "fcf_capex", "fcf",
                                                     "fcf_margin", "capex_to_revenue")}
    expected |= {f"{fy25}{lay.peer_rows[k] + 1}" for k in ("capex", "capex_to_ocf", "fcf",
                                                             "fcf_margin", "company_fcf_sum",
                                                             "stack_MSFT")}
    assert changed == expected
    ch = after["Changes"]
    listed = {(ch.cell(r, 1).value, ch.cell(r, 2).value) for r in range(6, ch.max_row + 1)}
    assert {("Ratios", c) for c in expected} <= listed
    data_rows = [ch.cell(r, 3).value for r in range(6, ch.max_row + 1) if ch.cell(r, 1).value == "Data"]
    assert data_rows == ["MSFT FY2025 capex"]
    assert after["Ratios"][f"{fy25}{b.rows['capex'] + 1}"].value == 70000
    assert path.with_name(path.name + ".bak").exists() or any(path.parent.glob("*.bak"))


def test_failed_data_load_changes_nothing(refreshed_copy, tmp_path):
    from aicapex.errors import DataError

    path = refreshed_copy
    before = path.read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.csv").write_text("ticker,fiscal_year,fiscal_year_end,field,value_musd,source,note\n"
                               "MSFT,2025,2025-06-30,capex,oops,src,\n")
    with pytest.raises(DataError, match="oops"):
        refresh_file(path, overrides=bad)
    assert path.read_bytes() == before


@pytest.mark.parametrize("kind", ["missing", "text", "folder"])
def test_refresh_command_rejects_bad_targets(tmp_path, kind):
    target = tmp_path / "x.xlsm"
    if kind == "text":
        target.write_text("not a workbook")
    elif kind == "folder":
        target.mkdir()
    r = subprocess.run([sys.executable, "-m", "aicapex", "refresh", str(target)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.startswith("error:") and r.stderr.count("\n") == 1, r.stderr


def test_refresh_keeps_vba_and_buttons(refreshed_workbook):
    import zipfile

    with zipfile.ZipFile(refreshed_workbook) as z:
        assert z.read("xl/vbaProject.bin") == vba.extract_vba_project()
    assert sorted(vba.button_macros(refreshed_workbook)) == ["ImportPythonUDFs", "SampleCall"]


# --- the xw.Book adapter through xlwings' remote engine --------------------------------------

REMOTE = r"""
import datetime as dt, json, sys
from python_calamine import CalamineWorkbook
import xlwings as xw
from aicapex.excel.refresh import refresh_book
path = sys.argv[1]
def clean(v):
    return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
sheets = []
book = CalamineWorkbook.from_path(path)
for name in book.sheet_names:
    rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False) or [[""]]
    w = max(len(r) for r in rows)
    sheets.append({"name": name, "values": [[clean(v) for v in r] + [""] * (w - len(r)) for r in rows],
                   "pictures": [], "tables": []})
names = json.loads(sys.argv[2])  # the workbook's names, as the client sends them
payload = {"client": "Office.js", "version": xw.__version__,
           "book": {"name": "ai_capex_monitor.xlsm", "active_sheet_index": 0, "selection": "A1"},
           "names": names, "sheets": sheets}
b = xw.Book(json=payload)
refresh_book(b, now=dt.datetime(2026, 11, 26, 8, 0))
print(json.dumps({"sheets": [s["name"] for s in sheets], "actions": b.json()["actions"]}, default=str))
"""


def test_xlwings_book_adapter_writes_what_the_openpyxl_adapter_writes(refreshed_workbook):
    env = {**os.environ, "XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}
    from officejs import client_names

    names = json.dumps(client_names(refreshed_workbook))
    r = subprocess.run([sys.executable, "-c", REMOTE, str(refreshed_workbook), names],
                       capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    written = {}
    # Values first, then one full recalculation (CPX_ functions are not volatile).
    assert out["actions"][-1]["func"] == "calculate"
    for a in out["actions"][:-1]:
        assert a["func"] == "setValues"
        sheet = out["sheets"][a["sheet_position"]]
        for i, row in enumerate(a["values"]):
            for j, v in enumerate(row):
                written[(sheet, a["start_row"] + i + 1, a["start_column"] + j + 1)] = v
    wb = _values(refreshed_workbook)
    data_cells = [(s, r, c) for (s, r, c) in written if s == "Data"]
    assert len(data_cells) == len(load_dataset().annual) * len(L.DATA_COLUMNS)
    for (s, r, c) in data_cells:
        expected = wb[s].cell(r, c).value
        got = written[(s, r, c)]
        if isinstance(got, str) and got.startswith("'"):
            got = got[1:]
        assert got == expected or (got in ("", None) and expected in ("", None)), (s, r, c)
    as_of = written[("Cover", L.COVER_AS_OF[0] + 1, L.COVER_AS_OF[1] + 1)]
    assert str(as_of).startswith("2026-06-30")  # MSFT FY2026, the newest fiscal year end


# --- LibreOffice opens and renders the refreshed workbook -------------------------------------


def test_libreoffice_renders_the_refreshed_workbook_to_pdf(refreshed_workbook, soffice, tmp_path):
    src = tmp_path / refreshed_workbook.name
    shutil.copyfile(refreshed_workbook, src)
    r = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                        "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
                       capture_output=True, text=True, timeout=240)
    pdf = tmp_path / (src.stem + ".pdf")
    assert pdf.exists() and pdf.stat().st_size > 10_000, r.stderr
    import re

    pages = re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes())
    assert len(pages) >= 5


def test_timeline_reaches_the_newest_fiscal_year_in_the_data(refreshed_workbook):
    """MSFT (June) and ORCL (May) have filed FY2026; the December filers have not."""
    ws = _values(refreshed_workbook)["Ratios"]
    lay = L.ratios_layout()
    fy26 = L.col(TIMELINE.period_col(2026))
    assert ws[f"{fy26}4"].value == 2026 and ws[f"{fy26}5"].value == 1  # an actual column
    assert ws[f"{fy26}{lay.blocks['MSFT'].rows['capex'] + 1}"].value == 115948  # MSFT 10-K FY2026
    assert ws[f"{fy26}{lay.blocks['ORCL'].rows['capex'] + 1}"].value == 55663  # ORCL FY2026
    assert ws[f"{fy26}{lay.blocks['GOOGL'].rows['capex'] + 1}"].value == "#N/A"  # not filed yet
    inputs = _values(refreshed_workbook)["Inputs"]
    assert inputs[L.input_ref("in_LastActualFY").split("!")[1].replace("$", "")].value == 2026


def test_no_hard_coded_last_year_a_newer_filing_extends_the_timeline(tmp_path):
    """An override with a FY2027 figure moves the last actual column to FY2027."""
    folder = tmp_path / "overrides"
    folder.mkdir()
    (folder / "msft_fy2027.csv").write_text(
        "ticker,fiscal_year,fiscal_year_end,field,value_musd,source,note\n"
        "MSFT,2027,2027-06-30,capex,150000,analyst test figure,\n", encoding="utf-8")
    ds = load_dataset(overrides=folder)
    path = tmp_path / L.WORKBOOK_NAME
    from aicapex.excel.builder import build_analyst_workbook

    build_analyst_workbook(path, ds)
    refresh_file(path, overrides=folder, now=NOW)
    ws = _values(path)["Ratios"]
    tl = L.timeline_for(ds, L.COVERAGE)
    assert tl.last_actual_fy == 2027
    fy27 = L.col(tl.period_col(2027))
    assert ws[f"{fy27}4"].value == 2027 and ws[f"{fy27}5"].value == 1
    assert ws[f"{fy27}{L.ratios_layout().blocks['MSFT'].rows['capex'] + 1}"].value == 150000


def test_capex_basis_on_inputs_drives_the_ratios_and_the_peer_block(template_copy, dataset):
    """incl-finance-leases: capex + principal payments on finance leases (Meta's convention).
    META FY2025: 69,691 + 2,524 = 72,215, Meta's reported headline (SOURCES.md cross-check)."""
    path = template_copy
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb["Inputs"][L.input_ref("in_CapexBasis").split("!")[1].replace("$", "")].value = \
        "incl-finance-leases"
    wb.save(path)
    refresh_file(path, now=NOW)
    ws = _values(path)["Ratios"]
    lay = L.ratios_layout()
    fy25 = L.col(TIMELINE.period_col(2025))
    meta = lay.blocks["META"]
    assert ws[f"{fy25}{meta.rows['capex'] + 1}"].value == 69691  # the reported line is unchanged
    assert ws[f"{fy25}{meta.rows['capex_on_basis'] + 1}"].value == 72215
    ocf = dataset.value("META", "ocf", 2025)
    assert ws[f"{fy25}{meta.rows['capex_to_ocf'] + 1}"].value == pytest.approx(72215 / ocf)
    # ORCL reports no finance-lease principal: on this basis its capex is missing, and the
    # peer sum says so instead of counting it as zero.
    orcl = lay.blocks["ORCL"]
    assert ws[f"{fy25}{orcl.rows['capex_on_basis'] + 1}"].value == "#N/A"
    assert ws[f"{fy25}{lay.peer_rows['capex'] + 1}"].value == "#N/A"


def test_the_peer_capex_stack_leaves_out_years_a_peer_has_not_reported(refreshed_workbook):
    """FY2026: MSFT and ORCL have filed, GOOGL/AMZN/META have not. A stack of two companies
    would read as capex falling by half; the stack chart's rows leave the year out."""
    ws = _values(refreshed_workbook)["Ratios"]
    lay = L.ratios_layout()
    fy25, fy26 = (L.col(TIMELINE.period_col(y)) for y in (2025, 2026))
    assert ws[f"{fy25}{lay.peer_rows['stack_MSFT'] + 1}"].value == 64551
    assert ws[f"{fy25}{lay.peer_rows['stack_ORCL'] + 1}"].value == 21215
    assert ws[f"{fy26}{lay.blocks['MSFT'].rows['capex'] + 1}"].value == 115948  # reported...
    assert ws[f"{fy26}{lay.peer_rows['stack_MSFT'] + 1}"].value == "#N/A"  # ...but not stacked
