"""Formulas the headless evaluator cannot compute are reported all at once (issue #20, 8).

Before: the first unknown function refused the whole workbook and named only its cell, so
eleven such formulas took eleven runs; an empty formula (``=``) or a structured reference
refused the workbook too. Now every one is listed in one ``error:`` line (``Sheet!Cell:
reason``), nothing is written, and ``--keep-unsupported`` keeps Excel's cached values for
them (dependents use those values) and marks them "not recomputed" on Changes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from aicapex.errors import AicapexError
from aicapex.excel.cached import stamp_cached_values
from aicapex.excel.evaluator import UnsupportedFormulas, evaluate_workbook
from openpyxl import Workbook

CLI = [sys.executable, "-m", "aicapex"]

#: Eleven formulas the evaluator cannot compute, each for another reason, and the words the
#: report must use for it.
ELEVEN = [
    ("=_xlfn.XLOOKUP(1, D1:D2, E1:E2)", "XLOOKUP"),
    ('=INDIRECT("D1")', "INDIRECT"),
    ('=CELL("address", D1)', "CELL"),
    ("=MY_OWN_FUNCTION(D1)", "MY_OWN_FUNCTION"),
    ("=SUM(tblNowhere[value])", "no table named tblNowhere"),
    ("=", "empty formula"),
    ("=1+", "ends unexpectedly"),
    ("=SUM(D1:D2 D2:E2)", "intersection operator"),
    ("=[1]Other!A1", "external link"),
    ("=ROUND(D1)", "ROUND takes 2 arguments"),
    ("=SUM(D1, GETPIVOTDATA(\"x\", D1))", "GETPIVOTDATA"),
]


def _put(ws, coord: str, formula: str) -> None:
    cell = ws[coord]
    cell.value = formula
    cell.data_type = "f"  # openpyxl would store a bare "=" as text


def _analyst_sheet(ws) -> None:
    ws["D1"], ws["D2"], ws["E1"], ws["E2"] = 1, 2, 3, 4
    for i, (formula, _) in enumerate(ELEVEN, start=1):
        _put(ws, f"A{i}", formula)
    ws["B1"] = "=A1*2"  # depends on a cell that cannot be recomputed
    ws["B2"] = "=SUM(D1:E2)"  # an ordinary formula next to them


def test_every_unsupported_formula_is_reported_in_one_error():
    wb = Workbook()
    _analyst_sheet(wb.active)
    with pytest.raises(UnsupportedFormulas) as info:
        evaluate_workbook(wb)
    message = str(info.value)
    assert message.startswith("11 formulas cannot be evaluated: ")
    assert "\n" not in message
    for i, (_, why) in enumerate(ELEVEN, start=1):
        assert f"Sheet!A{i}: " in message and why in message, (i, why, message)
    assert [c.coord for c in info.value.cells] == [f"A{i}" for i in range(1, 12)]
    assert isinstance(info.value, AicapexError)  # the CLI prints it as one error: line


def test_a_long_list_is_truncated_with_a_count():
    wb = Workbook()
    for r in range(1, 31):
        wb.active[f"A{r}"] = f"=NOT_A_FUNCTION_{r}(1)"
    with pytest.raises(UnsupportedFormulas, match=r"^30 formulas .*A20: .*; \.\.\. and 10 more$"):
        evaluate_workbook(wb)


def test_keep_unsupported_keeps_cached_values_and_dependents_use_them():
    wb = Workbook()
    _analyst_sheet(wb.active)
    cached = {("Sheet", f"A{i}"): 100.0 + i for i in range(1, 12)}
    res = evaluate_workbook(wb, keep_unsupported=True, cached=cached)
    for i in range(1, 12):
        assert res.values[("Sheet", f"A{i}")] == 100.0 + i
    assert res.values[("Sheet", "B1")] == 202.0  # 2 x the kept 101
    assert res.values[("Sheet", "B2")] == 10.0
    assert [(c.coord, why in c.reason) for c, (_, why) in zip(res.not_recomputed, ELEVEN,
                                                               strict=True)] == \
        [(f"A{i}", True) for i in range(1, 12)]


def test_keep_unsupported_without_a_cached_value_says_so():
    wb = Workbook()
    wb.active["A1"] = "=NOT_A_FUNCTION(1)"
    wb.active["A2"] = "=A1+1"
    res = evaluate_workbook(wb, keep_unsupported=True, cached={})
    assert res.values[("Sheet", "A1")] == "#N/A"
    assert "no cached value" in res.values[("Sheet", "A1")].reason
    assert res.values[("Sheet", "A2")] == "#N/A"


# ------------------------------------------------------------------------------ the CLI
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def analyst_book(template, tmp_path_factory) -> Path:
    """The template with an analyst's sheet of eleven unsupported formulas, cached values
    stamped as Excel would have left them."""
    folder = tmp_path_factory.mktemp("unsupported")
    path = folder / template.name
    shutil.copyfile(template, path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb.create_sheet("Analyst")
    _analyst_sheet(ws)
    ws["C1"] = "=SUM(tblData[value_musd])"  # structured reference to the template's table
    raw = folder / "raw.xlsm"
    wb.save(raw)
    cached = {("Analyst", f"A{i}"): 100.0 + i for i in range(1, 12)}
    stamp_cached_values(raw, path, cached)
    raw.unlink()
    return path


def _refresh(path: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "refresh", "--quiet", *flags, str(path)], capture_output=True,
                          text=True, timeout=600)


def test_refresh_lists_all_unsupported_formulas_in_one_line_and_writes_nothing(analyst_book,
                                                                             tmp_path):
    path = tmp_path / analyst_book.name
    path.write_bytes(analyst_book.read_bytes())
    before = _sha(path)
    r = _refresh(path)
    assert r.returncode != 0
    assert r.stderr.startswith("error:") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    for i, (_, why) in enumerate(ELEVEN, start=1):
        assert f"Analyst!A{i}: " in r.stderr and why in r.stderr, (i, r.stderr)
    assert "--keep-unsupported" in r.stderr
    assert _sha(path) == before
    assert not list(tmp_path.glob("*.bak"))


def test_refresh_keep_unsupported_keeps_cached_values(analyst_book, tmp_path):
    path = tmp_path / analyst_book.name
    path.write_bytes(analyst_book.read_bytes())
    r = _refresh(path, "--keep-unsupported")
    assert r.returncode == 0, r.stderr
    assert "11 formulas not recomputed" in r.stdout
    values = openpyxl.load_workbook(path, data_only=True)
    analyst = values["Analyst"]
    for i in range(1, 12):
        assert analyst[f"A{i}"].value == 100 + i
    assert analyst["B1"].value == 202  # recomputed from the kept value
    assert analyst["B2"].value == 10
    assert analyst["C1"].value == pytest.approx(_sum_of_value_column(values["Data"]))
    changes = values["Changes"]
    listed = {(row[0], row[1]): row for row in changes.iter_rows(values_only=True)}
    for i, (_, why) in enumerate(ELEVEN, start=1):
        row = listed[("Analyst", f"A{i}")]
        assert row[5] == "not recomputed" and why in row[2], row
    formulas = openpyxl.load_workbook(path)["Analyst"]
    assert formulas["A1"].value == ELEVEN[0][0]  # the formulas themselves are kept


def _sum_of_value_column(ws) -> float:
    """Sum of the value_musd column of the Data sheet's table, read independently."""
    table = ws.tables["tblData"]
    from openpyxl.utils.cell import range_boundaries

    c1, r1, c2, r2 = range_boundaries(table.ref)
    names = [ws.cell(row=r1, column=c).value for c in range(c1, c2 + 1)]
    col = c1 + names.index("value_musd")
    total = 0.0
    for r in range(r1 + 1, r2 + 1 - int(table.totalsRowCount or 0)):
        v = ws.cell(row=r, column=col).value
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            total += v
    assert total > 0
    return total
