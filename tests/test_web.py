"""The template on Excel on the web: xlwings Server (``python -m aicapex serve``) over loopback.

A web analyst's path: open the template with the server's add-in (every CPX_ cell shows
``#NAME?``: Office.js functions are ``=AICAPEX.CPX_...``) -> Refresh (task pane, or the
``xlwings_button`` shape on Cover) -> the script's actions rewrite the template's CPX_ cells to
the namespaced names, reload the tables and recalculate -> Excel calls the converted formulas.
The server runs in a subprocess; the book payload and the custom-function calls are what
xlwings' Office.js client sends. Tests needing xlwings-server skip when it is not installed and
fail under CI=true.

Not verifiable here (no Excel): that Excel on the web shows ``#NAME?`` for desktop names, that
``range.formulas`` re-binds them, the shape's click. See the README's xlwings Server section.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import urllib.request
import zipfile
from typing import Any

import openpyxl
import pytest
from aicapex.excel import vba, web
from conftest import REPO, require_or_skip
from officejs import book_payload
from openpyxl.utils.cell import coordinate_to_tuple

sys.path.insert(0, str(REPO / "bench"))
import bench_replay as br  # noqa: E402 - the replay tool lives in bench/

HAS_XLWINGS_SERVER = importlib.util.find_spec("xlwings_server") is not None
SCRIPT = "/xlwings/custom-scripts-call/refresh"
FN = "/xlwings/custom-functions-call"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    require_or_skip(HAS_XLWINGS_SERVER,
                    "xlwings-server is not installed (pip install -r requirements-server.txt)")
    with br.LiveServer(tmp_path_factory.mktemp("server")) as srv:
        yield srv


def post(url: str, data: Any) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:  # noqa: S310 - loopback
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def template_cpx_formulas(path) -> dict[tuple[str, str], str]:
    """The template's CPX_ formula cells, read back with openpyxl (plain text search)."""
    return {k: v for k, v in br.formula_texts(openpyxl.load_workbook(path)).items()
            if "CPX_" in v.upper()}


# -- a bug found by the replay: error cells as Office.js sends them ---------------------------


def test_error_cells_sent_as_officejs_objects_are_accepted(live):
    # xlwings declares allowErrorForDataTypeAny, so Office.js passes an error cell of a range
    # as an object; the request guard refused every such call with 400 (Excel: #VALUE!).
    na = {"type": "Error", "basicType": "Error", "basicValue": "#N/A",
          "errorType": "NotAvailable"}
    import xlwings

    body = br.officejs_payload(br.Call("Ratios", "F20", 0, "cpx_fcf", [[[100.0, None]],
                                                                       [[40.0, 10.0]]]),
                               xlwings.__version__)
    body["args"][0][0][1] = na  # OCF: 100 and a missing figure; capex 40 and 10
    status, answer = post(f"{live.url}{FN}", body)
    assert status == 200, answer
    first, second = answer["result"][0]
    assert first == 60.0  # 100 - 40
    assert second["type"] == "Error" and second["errorType"] == "NotAvailable"  # still missing


# -- the map the template carries ----------------------------------------------------------------


def test_the_template_lists_each_of_its_cpx_formulas_for_the_web(template):
    wb = openpyxl.load_workbook(template)
    conf = wb[web.MAP_SHEET]
    listed = {}
    for sheet, cell, formula, spills in conf.iter_rows(min_row=2, min_col=4, max_col=7,
                                                        values_only=True):
        listed[(sheet, cell)] = ("=" + formula, spills == "spill")
    formulas = template_cpx_formulas(template)
    assert {k: v[0] for k, v in listed.items()} == formulas
    spilling = {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
                for c in row if hasattr(c.value, "ref") and ":" in str(c.value.ref)}
    assert {k for k, v in listed.items() if v[1]} == spilling & set(formulas)
    # xlwings reads its settings from the region around A1 (VBA CurrentRegion, Office.js
    # getSurroundingRegion): column C stays empty so the map is not part of it.
    assert all(conf.cell(r, 3).value is None for r in range(1, conf.max_row + 1))
    assert [r for r in conf.iter_rows(max_col=2, values_only=True) if any(r)] == [
        ("UDF Modules", "aicapex.udfs")]


def test_the_sheet_button_is_a_shape_named_xlwings_button_linked_to_the_script_cell(template):
    with zipfile.ZipFile(template) as zf:
        wb_rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        sheets = re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="(rId\d+)"',
                            zf.read("xl/workbook.xml").decode())
        cover_rid = dict(sheets)["Cover"]
        cover = re.search(rf'Id="{cover_rid}"[^>]*Target="([^"]+)"', wb_rels).group(1)
        sheet_rels = zf.read(f"xl/worksheets/_rels/{cover.split('/')[-1]}.rels").decode()
        drawing = re.search(r'Target="\.\./drawings/(drawing\d+\.xml)"', sheet_rels).group(1)
        xml = zf.read(f"xl/drawings/{drawing}").decode()
        rels = zf.read(f"xl/drawings/_rels/{drawing}.rels").decode()
    shape = re.search(r'<xdr:cNvPr [^>]*name="xlwings_button"[^>]*>(.*?)</xdr:cNvPr>', xml)
    assert shape is not None, "no shape named xlwings_button on Cover"
    rid = re.search(r'r:id="(rId\d+)"', shape.group(1)).group(1)
    assert re.search(rf'Id="{rid}"[^>]*Target="#Cover!B3"', rels)  # a place in this workbook
    # the script runs when Cover!B3 is selected; the desktop form button is still there
    assert "[xlwings_button]Cover!B3" in (REPO / "python/aicapex/server_app/custom_scripts"
                                          / "__init__.py").read_text()
    assert vba.button_macros(template) == ["SampleCall", "ImportPythonUDFs"]


# -- the web analyst's path over HTTP -------------------------------------------------------


def web_book(refreshed_workbook, name_errors: set[tuple[str, str]],
             overrides: dict[tuple[str, str], Any]) -> dict:
    """The book payload the Office.js client sends: the refreshed workbook's values, with
    ``#NAME?`` where ``name_errors`` says (Excel on the web, desktop names) and ``overrides``."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    payload = book_payload(refreshed_workbook, "ai_capex_monitor.xlsm")
    by_name = {s["name"]: s["values"] for s in payload["sheets"]}
    for (sheet, cell), value in [*((k, "#NAME?") for k in name_errors), *overrides.items()]:
        col, row = coordinate_from_string(cell)
        values = by_name[sheet]
        c = column_index_from_string(col) - 1
        while len(values) < row:
            values.append([""] * len(values[0]))
        if c >= len(values[0]):
            for r in values:
                r.extend([""] * (c + 1 - len(r)))
        values[row - 1][c] = value
    return payload




def set_formulas(actions: list[dict], sheets: list[str]) -> dict[tuple[str, str], str]:
    """Cell -> formula written by the script's ``setFormula`` actions."""
    from openpyxl.utils.cell import get_column_letter

    out = {}
    for a in actions:
        if a["func"] != "setFormula":
            continue
        for i, row in enumerate(a["values"]):
            for j, text in enumerate(row):
                cell = f"{get_column_letter(a['start_column'] + j + 1)}{a['start_row'] + i + 1}"
                out[(sheets[a["sheet_position"]], cell)] = text
    return out


@pytest.fixture(scope="module")
def web_refresh(live, template, refreshed_workbook):
    formulas = template_cpx_formulas(template)
    cells = sorted(formulas)
    analyst_number = cells[7]  # an analyst typed a number over a CPX_ formula
    name_errors = set(cells) - {analyst_number}
    analyst_formula = ("Ratios", "X3")  # the analyst's own formula with an unknown function
    book = web_book(refreshed_workbook, name_errors | {analyst_formula}, {analyst_number: 123.0})
    status, body = post(f"{live.url}{SCRIPT}", book)
    assert status == 200, body
    return {"formulas": formulas, "name_errors": name_errors, "analyst": analyst_number,
            "actions": body["actions"], "sheets": [s["name"] for s in book["sheets"]]}


def test_refresh_on_the_web_rewrites_exactly_the_template_cells_showing_name_errors(web_refresh):
    written = set_formulas(web_refresh["actions"], web_refresh["sheets"])
    assert set(written) == web_refresh["name_errors"]  # not the analyst's cells
    for key, text in written.items():
        # independent of the tokenizer: the template has no "CPX_" inside a text literal
        assert text == re.sub(r"\bCPX_", "AICAPEX.CPX_", web_refresh["formulas"][key]), key
    funcs = [a["func"] for a in web_refresh["actions"]]
    first_values = funcs.index("setValues")
    assert all(f == "setFormula" for f in funcs[:first_values])  # formulas first,
    assert "setFormula" not in funcs[first_values:]  # then the tables and stamps,
    assert funcs[-1] == "calculate"  # then Excel recalculates
    # one action per rectangle of cells to rewrite (each spilled block is one anchor cell, so
    # today's template needs one action per CPX_ formula)
    from aicapex.excel.web import rectangles

    by_sheet: dict[str, list] = {}
    for sheet, coord in written:
        by_sheet.setdefault(sheet, []).append(coordinate_to_tuple(coord))
    assert len(funcs[:first_values]) == sum(len(rectangles(c)) for c in by_sheet.values())


def test_the_converted_formulas_replayed_over_http_give_the_headless_values(web_refresh, live,
                                                                            refreshed_workbook):
    formulas = br.formula_texts(openpyxl.load_workbook(refreshed_workbook))
    formulas.update(set_formulas(web_refresh["actions"], web_refresh["sheets"]))
    replay = br.extract_calls(refreshed_workbook, formulas)
    assert len(replay.calls) == br.static_count(formulas)
    assert {c.function for c in replay.calls} <= {n.lower() for n in
                                                  __import__("aicapex.udfs").udfs.__all__}
    served = br.call_server(replay.calls, live.port)
    assert served.refused == []
    cells, diffs = br.differences(replay, served.results)
    assert cells > 1000 and diffs == []


def test_the_namespace_is_the_one_the_served_manifest_declares(live):
    with urllib.request.urlopen(f"{live.url}/manifest", timeout=60) as resp:  # noqa: S310
        manifest = resp.read().decode()
    declared = re.search(r'id="Functions.Namespace" DefaultValue="([^"]*)"', manifest).group(1)
    assert declared == web.functions_namespace({}) == "AICAPEX"
    assert web.functions_namespace({"XLWINGS_ENVIRONMENT": "uat"}) == "AICAPEX_UAT"


# -- the desktop: back to xlwings' names -----------------------------------------------------


class FakeRange:
    def __init__(self, sheet: FakeSheet, r1: int, c1: int, r2: int, c2: int) -> None:
        self.sheet, self.box = sheet, (r1, c1, r2, c2)

    def options(self, **_: Any) -> FakeRange:
        return self

    def _grid(self, table: dict) -> list[list[Any]]:
        r1, c1, r2, c2 = self.box
        return [[table.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    @property
    def value(self) -> list[list[Any]]:
        return self._grid(self.sheet.values)

    @property
    def formula(self) -> list[list[Any]]:
        return self._grid(self.sheet.formulas)

    @formula.setter
    def formula(self, texts: list[list[str]]) -> None:
        r1, c1, _, _ = self.box
        for i, row in enumerate(texts):
            for j, text in enumerate(row):
                self.sheet.formulas[(r1 + i, c1 + j)] = text
                self.sheet.written.append((r1 + i, c1 + j, text))

    formula2 = formula


class FakeSheet:
    """Just what :func:`web.convert_formulas` uses of a COM sheet (formulas readable)."""

    def __init__(self, name: str) -> None:
        self.name, self.values, self.formulas, self.written = name, {}, {}, []

    def range(self, a: tuple[int, int], b: tuple[int, int] | None = None) -> FakeRange:
        b = b or a
        return FakeRange(self, a[0], a[1], b[0], b[1])


class FakeBook:
    def __init__(self, *names: str) -> None:
        self.sheets = {n: FakeSheet(n) for n in names}
        self.api = object()  # a COM object, not Office.js


def test_on_the_desktop_a_workbook_saved_on_the_web_gets_the_desktop_names_back():
    book = FakeBook("Ratios")
    ws = book.sheets["Ratios"]
    entries = [web.MappedFormula("Ratios", "F8", "CPX_SERIES($D$7,$D8:$D25,F$4:M$4)", True),
               web.MappedFormula("Ratios", "D26", "CPX_HIGHEST_SINCE(F19:M19,$F$4:$M$4)"),
               web.MappedFormula("Ratios", "D48", "CPX_HIGHEST_SINCE(F41:M41,$F$4:$M$4)"),
               web.MappedFormula("Ratios", "D70", "CPX_HIGHEST_SINCE(F63:M63,$F$4:$M$4)")]
    ws.values = {(8, 6): "#NAME?", (26, 4): "#NAME?", (48, 4): "#NAME?", (70, 4): 2019.0}
    ws.formulas = {(8, 6): "=_xldudf_AICAPEX_CPX_SERIES($D$7,$D8:$D25,F$4:M$4)",  # saved on web
                   (26, 4): "=AICAPEX.CPX_HIGHEST_SINCE(F19:M19,$F$4:$M$4)",
                   (48, 4): "=MY_OWN(F41:M41)",  # the analyst's formula: not ours
                   (70, 4): "=AICAPEX.CPX_HIGHEST_SINCE(F63:M63,$F$4:$M$4)"}  # works: a value
    assert web.runtime_namespace(book) == ""
    done = web.convert_formulas(book, web.runtime_namespace(book), entries)
    assert sorted(ws.written) == [(8, 6, "=CPX_SERIES($D$7,$D8:$D25,F$4:M$4)"),
                                  (26, 4, "=CPX_HIGHEST_SINCE(F19:M19,$F$4:$M$4)")]
    assert {d.cell for d in done} == {"D26", "F8"}
    # the template's own formula showing #NAME? (functions not imported yet) is left alone
    ws.written.clear()
    ws.values[(26, 4)] = "#NAME?"
    assert web.convert_formulas(book, "", entries[1:2]) == [] and ws.written == []


def test_rectangles_group_adjacent_cells_into_one_action_each():
    from aicapex.excel.web import rectangles

    # a 2x3 block, a separate cell and a column of two: three rectangles
    cells = [(5, 6), (5, 7), (5, 8), (6, 6), (6, 7), (6, 8), (10, 2), (12, 4), (13, 4)]
    assert sorted(rectangles(cells)) == [(5, 6, 6, 8), (10, 2, 10, 2), (12, 4, 13, 4)]


@pytest.mark.parametrize("formula, namespace, expected", [
    # runs of blanks (Excel keeps what the analyst typed): the rewrite keeps every character
    ("=CPX_A(1,  2)+CPX_B(1)", "NS", "=NS.CPX_A(1,  2)+NS.CPX_B(1)"),
    ("=IF(A1 >  0,\n  CPX_VALUE(A1, \"x\"),  1)", "NS",
     "=IF(A1 >  0,\n  NS.CPX_VALUE(A1, \"x\"),  1)"),
    # text that looks like a call stays text; nested calls are each renamed once
    ('=CPX_A("CPX_B(", CPX_C(1))', "", '=CPX_A("CPX_B(", CPX_C(1))'),
    ('=_xldudf_NS_CPX_A("CPX_B(",ns.cpx_c(1))', "", '=CPX_A("CPX_B(",CPX_C(1))'),
    ("CPX_A(1)+ CPX_B( 2 )", "NS", "NS.CPX_A(1)+ NS.CPX_B( 2 )"),  # without the "="
])
def test_renaming_cpx_functions_changes_nothing_but_their_names(formula, namespace, expected):
    assert web.rename_cpx(formula, namespace) == expected
    assert web.same_formula("=" + expected.lstrip("="), formula.lstrip("="))
