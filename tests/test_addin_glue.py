"""The add-in's glue: ``aicapex.main()`` refreshes the active workbook — any workbook that uses
CPX_ functions, not only the template — through the same ``xw.Book`` adapter, tested on
xlwings' remote engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import openpyxl
from aicapex.excel.addin import build_addin

SCRIPT = r"""
import json, sys
from unittest import mock
import xlwings as xw
from python_calamine import CalamineWorkbook
import aicapex

path = sys.argv[1]
book = CalamineWorkbook.from_path(path)
sheets = []
for name in book.sheet_names:
    rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False) or [[""]]
    w = max(len(r) for r in rows)
    sheets.append({"name": name, "values": [r + [""] * (w - len(r)) for r in rows],
                   "pictures": [], "tables": []})
payload = {"client": "Office.js", "version": xw.__version__,
           "book": {"name": "my_model.xlsx", "active_sheet_index": 0, "selection": "A1"},
           "names": [], "sheets": sheets}
remote = xw.Book(json=payload)
with mock.patch.object(xw.Book, "caller", return_value=remote):
    aicapex.main()
print(json.dumps(remote.json()["actions"]))
"""


def test_addin_main_refreshes_a_user_workbook(tmp_path):
    path = tmp_path / "my_model.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Model"
    ws["A1"], ws["B1"] = "capex", 64551
    ws["A2"], ws["B2"] = "ocf", 136162
    ws["A3"], ws["B3"] = "capex/ocf", "=CPX_CAPEX_TO_OCF(B1,B2)"
    wb.save(path)
    env = {**os.environ, "XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    actions = json.loads(r.stdout)
    # A user's own model is not rewritten: its CPX_ formulas are recalculated in full.
    assert [a["func"] for a in actions] == ["calculate"]


def test_addin_runs_the_package_main(tmp_path):
    import zipfile

    import aicapex

    path = build_addin(tmp_path)
    assert path.name == "aicapex.xlam"  # RunMain imports the add-in's name: "import aicapex"
    assert callable(aicapex.main)
    with zipfile.ZipFile(path) as z:
        assert any("customUI" in n for n in z.namelist())
