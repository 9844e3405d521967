"""The template's CPX_ formulas on Excel on the web (xlwings Server) and back on the desktop.

Office.js custom functions live in a namespace: served by ``python -m aicapex serve`` they are
``=AICAPEX.CPX_SERIES(...)`` in Excel (``XLWINGS_FUNCTIONS_NAMESPACE``, plus ``_DEV`` etc. when
``XLWINGS_ENVIRONMENT`` is not ``prod``, as xlwings Server's manifest makes it). The template's
formulas use the desktop names (``=CPX_SERIES(...)``, xlwings' VBA functions, which carry no
namespace), so on Excel on the web every CPX_ cell shows ``#NAME?``.

The mechanism
-------------
* **At build time** :func:`write_formula_map` lists every CPX_ formula of the template, as
  built, in the ``xlwings.conf`` sheet (columns D:G, right of xlwings' own settings in A:B).
  A script on xlwings Server receives the workbook's cell *values*, never its formulas
  (xlwings' ``Range.formula`` cannot be read there), so the template has to carry them.
* **The Refresh script** (:func:`prepare_book`, called by the ``@xw.script`` of
  ``aicapex.server_app.custom_scripts`` and of ``workbook/ai_capex_monitor.py``) rewrites, under
  Office.js, each listed cell that shows ``#NAME?`` to the namespaced names, through xlwings'
  ``Range.formula`` setter: the ``setFormula`` action, which xlwings' task pane applies as
  Office.js ``range.formulas = [[...]]`` -- exactly what typing the formula does. A cell the
  template does not list, or that shows anything but ``#NAME?`` (an analyst's own formula or
  number), is never touched.
* **On the desktop** (COM) the same call does the reverse where needed: a listed cell showing
  ``#NAME?`` whose formula is the namespaced form of the template's formula (a workbook saved
  on the web) gets the desktop names back. xlwings Lite has no namespace: nothing to do unless a
  workbook saved under xlwings Server is opened there (then the same reverse applies).

Formula text is read with the project's formula parser (:func:`aicapex.formula.parse`): each
call's position in the text comes from the parse, so text inside string literals and the
analyst's spacing are never rewritten.

The sheet button
----------------
xlwings' Office.js sheet buttons are shapes with a hyperlink to a cell: selecting that cell runs
the script named by ``@xw.script(button="[shape name]Sheet!Cell")``. :func:`add_web_button`
inserts a text box beside the desktop form button on Cover, linked to ``Cover!B3``; XlsxWriter
cannot name a shape, so :func:`name_web_button` renames it ``xlwings_button`` in the drawing XML
after the workbook is written.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

from aicapex.formula import ParseError, parse

__all__ = [
    "MAP_COLUMN",
    "MAP_SHEET",
    "WEB_BUTTON",
    "WEB_BUTTON_CELL",
    "CPX_FUNCTION_NAME",
    "CpxCall",
    "MappedFormula",
    "add_web_button",
    "convert_formulas",
    "cpx_calls",
    "formula_map",
    "functions_namespace",
    "is_officejs",
    "name_web_button",
    "prepare_book",
    "rectangles",
    "read_formula_map",
    "rename_cpx",
    "runtime_namespace",
    "same_formula",
    "write_formula_map",
]

#: The sheet that carries the formula map (xlwings' config sheet; the client copy drops it).
MAP_SHEET = "xlwings.conf"
#: First column (0-based) of the map: D, leaving C empty so that xlwings' config region
#: (``A1``'s surrounding region, read by the VBA and by the Office.js client) stays A:B.
MAP_COLUMN = 3
MAP_HEADER = ("Sheet", "Cell", "CPX_ formula as built (for Excel on the web)", "Spills")

#: Name and target cell of the Office.js sheet button (``@xw.script(button=...)``).
WEB_BUTTON = "xlwings_button"
WEB_BUTTON_CELL = ("Cover", "B3")
WEB_BUTTON_TEXT = "Refresh on the web"
#: Alternative text of the button; also how :func:`name_web_button` finds it in the drawing.
WEB_BUTTON_DESCRIPTION = ("Refresh data: runs the Refresh script of the AI Capex add-in "
                          "(xlwings Server) on Excel on the web")

#: A CPX_ function's name as written: ``CPX_X``, ``NS.CPX_X``, ``_xludf.CPX_X`` or Excel's
#: stored form of an add-in's custom function, ``_xldudf_NS_CPX_X``.
CPX_FUNCTION_NAME = re.compile(
    r"^(?:_xludf\.)?(?:_xldudf_(?:[A-Za-z0-9_]*?_)?|[A-Za-z][A-Za-z0-9_.]*\.)?"
    r"(?P<name>CPX_[A-Za-z0-9_]+)$",
    re.IGNORECASE,
)


# -- formula text ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CpxCall:
    """One CPX_ call in a formula: its function (upper case, no namespace) and where it is.

    ``start`` is the offset of the function token, ``args_start`` just after its ``(``,
    ``end`` just after the matching ``)``; offsets index the formula text as given.
    """

    name: str
    start: int
    args_start: int
    end: int

    def text(self, formula: str) -> str:
        return formula[self.start:self.end]

    def arguments(self, formula: str) -> str:
        return formula[self.args_start:self.end - 1]


def cpx_calls(formula: str) -> list[CpxCall]:
    """Every CPX_ call of a formula, outermost first, in reading order (none when the
    formula cannot be parsed).

    Examples
    --------
    >>> f = '=INDEX(CPX_FINANCING(in_T,"CPX_X(",A1:B2),2,AICAPEX.cpx_value(A1,"capex",F$4))'
    >>> [(c.name, c.text(f)) for c in cpx_calls(f)]
    [('CPX_FINANCING', 'CPX_FINANCING(in_T,"CPX_X(",A1:B2)'), ('CPX_VALUE', 'AICAPEX.cpx_value(A1,"capex",F$4)')]
    >>> cpx_calls("=SUM(A1:A3)")
    []
    """
    try:
        calls = parse(formula).calls
    except ParseError:
        return []
    found = []
    for call in calls:
        m = CPX_FUNCTION_NAME.match(call.raw)
        if m and call.span is not None:
            found.append(CpxCall(m.group("name").upper(), *call.span))
    return sorted(found, key=lambda c: c.start)


def rename_cpx(formula: str, namespace: str) -> str:
    """The formula with every CPX_ function named for ``namespace`` (``""``: desktop names).

    Examples
    --------
    >>> rename_cpx('=INDEX(CPX_SERIES($D$7,"CPX_X(",F$4:M$4),1,2)', "AICAPEX")
    '=INDEX(AICAPEX.CPX_SERIES($D$7,"CPX_X(",F$4:M$4),1,2)'
    >>> rename_cpx("=_xldudf_AICAPEX_CPX_VALUE(A1,B1,C1)+aicapex.cpx_fcf(1,2)", "")
    '=CPX_VALUE(A1,B1,C1)+CPX_FCF(1,2)'
    """
    prefix = f"{namespace}." if namespace else ""
    out, last = [], 0
    for call in cpx_calls(formula):
        out.append(formula[last:call.start])
        out.append(f"{prefix}{call.name}(")
        last = call.args_start
    out.append(formula[last:])
    return "".join(out)


def same_formula(current: Any, template: str) -> bool:
    """Whether a cell's formula is the template's CPX_ formula under any function namespace
    (letter case ignored, as Excel ignores it in names and references)."""
    if not isinstance(current, str) or not current.startswith("="):
        return False
    return rename_cpx(current, "").upper() == rename_cpx("=" + template.lstrip("="), "").upper()


# -- the map, written at build time ----------------------------------------------------------


@dataclass(frozen=True)
class MappedFormula:
    """A CPX_ formula of the template as built: sheet, cell (``"F8"``), formula text (without
    the leading ``=``) and whether it spills (a dynamic-array anchor)."""

    sheet: str
    cell: str
    formula: str
    spills: bool = False

    @property
    def row_col(self) -> tuple[int, int]:
        col, row = coordinate_from_string(self.cell)
        return row, column_index_from_string(col)


def formula_map(sheets: Mapping[str, Any]) -> list[MappedFormula]:
    """Every CPX_ formula the builder wrote, from XlsxWriter worksheets (before ``close()``).

    Reads XlsxWriter's cell table (``Worksheet.table``: row -> column -> cell tuple), where
    formulas and array formulas are stored as written to the file; a test compares the result
    with the formulas openpyxl reads back from the built workbook.
    """
    out = []
    for title, ws in sheets.items():
        for row in sorted(ws.table):
            for col in sorted(ws.table[row]):
                cell = ws.table[row][col]
                formula = getattr(cell, "formula", None)
                if not isinstance(formula, str) or not cpx_calls(formula):
                    continue
                spills = getattr(cell, "atype", None) == "dynamic"
                out.append(MappedFormula(title, f"{get_column_letter(col + 1)}{row + 1}",
                                         formula.lstrip("="), spills))
    return out


def write_formula_map(conf: Any, entries: Iterable[MappedFormula]) -> None:
    """Write the map into the XlsxWriter ``xlwings.conf`` worksheet, from column D.

    Column C stays empty, so the region around ``A1`` that xlwings reads its settings from
    (``CurrentRegion`` in the VBA, ``getSurroundingRegion`` in the Office.js client) is still
    only xlwings' key/value rows.
    """
    c = MAP_COLUMN
    for j, text in enumerate(MAP_HEADER):
        conf.write_string(0, c + j, text)
    for i, e in enumerate(entries, start=1):
        conf.write_string(i, c, e.sheet)
        conf.write_string(i, c + 1, e.cell)
        conf.write_string(i, c + 2, e.formula)
        if e.spills:
            conf.write_string(i, c + 3, "spill")
    conf.set_column(c, c, 12)
    conf.set_column(c + 1, c + 1, 6)
    conf.set_column(c + 2, c + 2, 90)


def read_formula_map(book: Any) -> list[MappedFormula]:
    """The map of an open ``xw.Book`` (desktop COM, or the Office.js book of a script);
    empty when the workbook has none (not our template, or built before the map existed)."""
    names = {s.name for s in book.sheets}
    if MAP_SHEET not in names:
        return []
    ws = book.sheets[MAP_SHEET]
    last = ws.used_range.last_cell
    if last.column < MAP_COLUMN + 3:
        return []
    rows = ws.range((1, MAP_COLUMN + 1), (last.row, MAP_COLUMN + 4)).options(ndim=2).value
    out = []
    for sheet, cell, formula, spills in rows[1:]:
        if not (isinstance(sheet, str) and isinstance(cell, str) and isinstance(formula, str)):
            continue
        if sheet in names and re.fullmatch(r"[A-Z]{1,3}[0-9]{1,7}", cell) and cpx_calls(formula):
            out.append(MappedFormula(sheet, cell, formula, spills == "spill"))
    return out


# -- conversion at Refresh -------------------------------------------------------------------


def functions_namespace(env: Mapping[str, str] | None = None) -> str:
    """The namespace of our functions in Excel as xlwings Server's manifest declares it:
    ``XLWINGS_FUNCTIONS_NAMESPACE`` upper-cased, ``_`` + the environment appended unless
    ``XLWINGS_ENVIRONMENT`` is ``prod``. Read from xlwings Server's settings when it runs
    (they include its ``.env`` file), else from ``env`` (default ``os.environ``) with
    ``aicapex serve``'s default, ``AICAPEX``.

    Examples
    --------
    >>> functions_namespace({})
    'AICAPEX'
    >>> functions_namespace({"XLWINGS_FUNCTIONS_NAMESPACE": "capex", "XLWINGS_ENVIRONMENT": "dev"})
    'CAPEX_DEV'
    """
    settings = None
    if env is None:
        env = os.environ
        if "xlwings_server.config" in sys.modules:  # inside xlwings Server
            settings = sys.modules["xlwings_server.config"].settings
    if settings is not None:
        namespace, environment = settings.functions_namespace, settings.environment
    else:
        namespace = env.get("XLWINGS_FUNCTIONS_NAMESPACE", "AICAPEX")
        environment = env.get("XLWINGS_ENVIRONMENT", "prod")
    namespace = (namespace or "").upper()
    if environment != "prod":
        namespace += ("_" if namespace else "") + environment.upper()
    return namespace


def is_officejs(book: Any) -> bool:
    """True for the book an Office.js client sent (xlwings Server or xlwings Lite)."""
    api = getattr(book, "api", None)
    return isinstance(api, dict) and api.get("client") == "Office.js"


def runtime_namespace(book: Any) -> str:
    """The namespace the CPX_ functions have where ``book`` is open: xlwings Server's under
    Office.js; none in xlwings Lite (Pyodide: functions are ``=CPX_SERIES(...)``) and on the
    desktop (xlwings' VBA functions)."""
    if is_officejs(book) and sys.platform != "emscripten":
        return functions_namespace()
    return ""


def _cell_values(rng: Any, **options: Any) -> list[list[Any]]:
    return rng.options(ndim=2, **options).value


def _formulas(rng: Any) -> list[list[Any]] | None:
    """The range's formulas, or None where the engine cannot read them (Office.js scripts)."""
    try:
        got = rng.formula
    except NotImplementedError:
        return None
    if not isinstance(got, (list, tuple)):
        return [[got]]
    return [list(r) if isinstance(r, (list, tuple)) else [r] for r in got]


def convert_formulas(book: Any, namespace: str,
                     entries: Iterable[MappedFormula] | None = None) -> list[MappedFormula]:
    """Rewrite the template's CPX_ cells that show ``#NAME?`` to ``namespace``'s names.

    Only cells listed in the workbook's map (``entries``, default :func:`read_formula_map`)
    are considered, and of those only the ones whose value is ``#NAME?``; where the engine
    can read formulas (desktop), the cell's formula must also be the template's under some
    namespace. Rectangles of such cells are written with one action each (under Office.js
    every action costs the task pane a round trip to Excel); a rectangle holding a spilling
    formula is written with ``formula2`` (dynamic-array semantics on the desktop; the same
    ``setFormula`` action under Office.js). Returns the converted cells.
    """
    entries = list(read_formula_map(book) if entries is None else entries)
    by_sheet: dict[str, list[MappedFormula]] = {}
    for e in entries:
        by_sheet.setdefault(e.sheet, []).append(e)
    done = []
    for title, group in by_sheet.items():
        ws = book.sheets[title]
        cells = [e.row_col for e in group]
        r1, c1 = min(r for r, _ in cells), min(c for _, c in cells)
        r2, c2 = max(r for r, _ in cells), max(c for _, c in cells)
        block = ws.range((r1, c1), (r2, c2))
        values = _cell_values(block, err_to_str=True)
        formulas = _formulas(block)
        todo: dict[tuple[int, int], MappedFormula] = {}
        for e, (r, c) in zip(group, cells, strict=True):
            if values[r - r1][c - c1] != "#NAME?":
                continue
            target = rename_cpx("=" + e.formula, namespace)
            if formulas is not None:
                current = formulas[r - r1][c - c1]
                if not same_formula(current, e.formula) or current == target:
                    continue
            todo[(r, c)] = MappedFormula(title, e.cell, target.lstrip("="), e.spills)
        for top, left, bottom, right in rectangles(todo):
            grid = [[todo[(r, c)] for c in range(left, right + 1)]
                    for r in range(top, bottom + 1)]
            rng = ws.range((top, left), (bottom, right))
            texts = [["=" + e.formula for e in row] for row in grid]
            if any(e.spills for row in grid for e in row):
                rng.formula2 = texts
            else:
                rng.formula = texts
            done.extend(e for row in grid for e in row)
    return done


def rectangles(cells: Iterable[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Cover a set of (row, column) cells with few rectangles (top, left, bottom, right): runs
    of adjacent cells in a row, stacked while the next row has the same run.

    Examples
    --------
    >>> rectangles({(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (5, 4)})
    [(1, 1, 2, 2), (3, 1, 3, 1), (5, 4, 5, 4)]
    """
    runs: list[tuple[int, int, int]] = []
    for r, c in sorted(cells):
        if runs and runs[-1][0] == r and runs[-1][2] == c - 1:
            runs[-1] = (r, runs[-1][1], c)
        else:
            runs.append((r, c, c))
    out: list[tuple[int, int, int, int]] = []
    open_blocks: dict[tuple[int, int], int] = {}  # (left, right) -> index in out
    for r, left, right in runs:
        i = open_blocks.get((left, right))
        if i is not None and out[i][2] == r - 1:
            out[i] = (out[i][0], left, r, right)
        else:
            open_blocks[(left, right)] = len(out)
            out.append((r, left, r, right))
    return out


def prepare_book(book: Any, log: Callable[[str], None] | None = None) -> list[MappedFormula]:
    """Make the template's CPX_ formulas bind where ``book`` is open (before a Refresh):
    :func:`convert_formulas` with :func:`runtime_namespace`. Returns what was rewritten."""
    done = convert_formulas(book, runtime_namespace(book))
    if done and log is not None:
        log(f"{len(done)} CPX_ formulas rewritten for this Excel "
            f"({runtime_namespace(book) or 'desktop'} names)")
    return done


# -- the Office.js sheet button ----------------------------------------------------------------


def add_web_button(ws: Any) -> None:
    """Insert the Office.js Refresh button on the XlsxWriter Cover sheet: a text box over C3,
    beside the desktop form button (B3), with a hyperlink to ``Cover!B3`` -- the cell whose
    selection runs the script (``@xw.script(button="[xlwings_button]Cover!B3")``). Named by
    :func:`name_web_button` once the file is written."""
    sheet, cell = WEB_BUTTON_CELL
    ws.insert_textbox("C3", WEB_BUTTON_TEXT, {
        "width": 150, "height": 22, "object_position": 3,
        "url": f"internal:{sheet}!{cell}", "tip": "Runs Refresh through the AI Capex add-in",
        "description": WEB_BUTTON_DESCRIPTION,
        "font": {"bold": True, "color": "white", "size": 9},
        "align": {"vertical": "middle", "horizontal": "center"},
        "fill": {"color": "#1F3864"}, "line": {"none": True},
    })


_BUTTON_NAME = re.compile(
    r'(<xdr:cNvPr\b[^>]*?\bname=")[^"]*("[^>]*?\bdescr="'
    + re.escape(WEB_BUTTON_DESCRIPTION.replace("&", "&amp;")) + r'")'
)


def name_web_button(path: str | Path) -> bool:
    """Rename the text box of :func:`add_web_button` to ``xlwings_button`` in the written
    workbook (XlsxWriter names it ``TextBox N``). Rewrites the zip with every other part
    byte for byte; returns whether the button was found."""
    path = Path(path)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        parts = {i.filename: zf.read(i.filename) for i in infos}
    found = False
    for name, data in parts.items():
        if name.startswith("xl/drawings/") and name.endswith(".xml"):
            text = data.decode("utf-8")
            new, n = _BUTTON_NAME.subn(rf"\g<1>{WEB_BUTTON}\g<2>", text)
            if n:
                parts[name] = new.encode("utf-8")
                found = True
    if not found:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for info in infos:
                out.writestr(info, parts[info.filename])
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return True
