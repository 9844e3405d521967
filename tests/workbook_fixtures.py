"""Build and refresh the analyst workbook once per test session (it takes a few seconds)."""

from __future__ import annotations

import datetime as dt
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


def formula_cells(ws):
    """(coordinate, formula) of every formula cell of an openpyxl worksheet."""
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                yield c.coordinate, c.value


def function_calls(formula: str) -> list[tuple[str, int]]:
    """(function name, argument count) for every function call in a formula, read with
    openpyxl's tokenizer (``F()`` has 0 arguments, ``F(,)`` has 2)."""
    from openpyxl.formula.tokenizer import Token, Tokenizer

    out: list[tuple[str, int]] = []
    stack: list[list] = []  # [name, separators, has content]
    for tok in Tokenizer(formula).items:
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            if stack:
                stack[-1][2] = True
            stack.append([tok.value[:-1].upper(), 0, False])
        elif tok.type == Token.FUNC and tok.subtype == Token.CLOSE:
            name, seps, content = stack.pop()
            out.append((name, seps + 1 if content or seps else 0))
        elif tok.type == Token.SEP and tok.subtype == Token.ARG:
            stack[-1][1] += 1
        elif stack and tok.type != Token.WSPACE:
            stack[-1][2] = True
    return out


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
