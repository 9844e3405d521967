"""Helpers for tests of the analyst workbook. The template and its refreshed copy are built
once per session by the ``template`` and ``refreshed_workbook`` fixtures (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from aicapex.data.dataset import load_dataset
from aicapex.excel import layout as L
from aicapex.excel.builder import build_analyst_workbook
from aicapex.excel.headless import refresh_file

NOW = dt.datetime(2026, 11, 26, 8, 0)

#: The timeline the builder derives from the bundled data (through the newest fiscal year).
TIMELINE = L.timeline_for(load_dataset(overrides=None), L.COVERAGE)


def build_template(folder: Path) -> Path:
    path = folder / L.WORKBOOK_NAME
    build_analyst_workbook(path, load_dataset(overrides=None))
    return path


def build_refreshed(folder: Path, overrides: Path | None = None) -> Path:
    path = build_template(folder)
    refresh_file(path, overrides=overrides, now=NOW)
    return path


def refreshed_copy(template: Path, folder: Path) -> Path:
    """A copy of ``template`` in ``folder``, refreshed headlessly as of :data:`NOW`."""
    path = folder / template.name
    shutil.copyfile(template, path)
    refresh_file(path, now=NOW, backup=False)
    return path


def formula_cells(ws):
    """(coordinate, formula text) of every formula cell of an openpyxl worksheet, array and
    spilled (dynamic-array) anchors included."""
    for row in ws.iter_rows():
        for c in row:
            v = c.value.text if hasattr(c.value, "text") else c.value
            if isinstance(v, str) and v.startswith("="):
                yield c.coordinate, v


def function_calls(formula: str) -> list[tuple[str, int]]:
    """(function name, argument count) for every function call in a formula, read with the
    formula package's parser (``F()`` has 0 arguments, ``F(,)`` has 2; names upper-cased,
    ``_xlfn.`` stripped)."""
    from aicapex.formula import function_calls as calls

    return calls(formula)


def name_cell(book, name: str):
    """The cell a workbook-scope defined name points at."""
    sheet, ref = book.defined_names[name].attr_text.split("!")
    return book[sheet.strip("'")][ref.replace("$", "")]


def checked_cpx_calls(cells, portable: set[str] | None = None) -> list[str]:
    """Assert every CPX_ call in ``cells`` ((where, formula) pairs) names a function of
    ``aicapex.udfs`` with a valid argument count (and, if ``portable`` is given, that every
    other function is in it); return the CPX_ names called, one per call."""
    import inspect

    import aicapex.udfs as udfs

    seen: list[str] = []
    for where, formula in cells:
        for name, n in function_calls(formula):
            if not name.startswith("CPX_"):
                if portable is not None:
                    assert name in portable, (where, name)
                continue
            func = getattr(udfs, name.lower(), None)
            assert func is not None and name.lower() in udfs.__all__, (where, name)
            params = inspect.signature(func).parameters.values()
            required = sum(p.default is inspect.Parameter.empty for p in params)
            assert required <= n <= len(params), (where, name, n)
            seen.append(name)
    return seen


def master_check_inputs(book) -> list[str]:
    """The formulas the Cover's master check adds up (one status row per timeline sheet: its
    check total plus its engine errors), read from the range of the master check's SUM."""
    from aicapex.formula import parse

    cover = book["Cover"]
    master = cover.cell(L.COVER_MASTER[0] + 1, L.COVER_MASTER[1] + 1).value
    (added,) = [c for c in parse(master).calls if c.name == "SUM"]
    (area,) = added.args
    return [cover.cell(r, c).value for r in range(area.r1, area.r2 + 1)
            for c in range(area.c1, area.c2 + 1)]
