"""Run CPX_ functions through xlwings' real Office.js code path, in a subprocess.

xlwings picks its Office.js decorators only if XLWINGS_ON_SERVER and XLWINGS_LICENSE_KEY are
set before its first import, so the calls run in a fresh interpreter (``python officejs.py``
reads a JSON list of {"func_name", "args"} on stdin and prints the results as JSON).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SERVER_ENV = {"XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}


def excel_arg(value: Any) -> Any:
    """How the Office.js client sends an argument: a 2-D list, a 1×1 unwrapped to a scalar."""
    if isinstance(value, list):
        rows = value if value and isinstance(value[0], list) else [value]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
    return value


def payload(func_name: str, args: list[Any], n_params: int, runtime: str = "1.4") -> dict:
    import xlwings

    sent = [excel_arg(a) for a in args] + [[[None]]] * (n_params - len(args))
    return {
        "client": "Office.js",
        "func_name": func_name,
        "args": sent,
        "caller_address": "[ai_capex_monitor.xlsm]Ratios!F12",
        "session_id": "test-session",
        "culture_info_name": "en-US",
        "date_format": "M/d/yyyy",
        "version": xlwings.__version__,
        "runtime": runtime,
    }


def client_names(path: str | Path) -> list[dict]:
    """The workbook's defined names as the Office.js client sends them with a script call
    (``sheet_index`` in tab order and ``address`` of each range): the refresh identifies the
    analyst template by its sheets and names (``aicapex.excel.refresh.is_template``)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    out = []
    for name, dn in wb.defined_names.items():
        sheet, _, address = (dn.attr_text or "").rpartition("!")
        if sheet.strip("'") in wb.sheetnames:
            out.append({"name": name, "sheet_index": wb.sheetnames.index(sheet.strip("'")),
                        "address": address.replace("$", ""), "book_scope": True,
                        "scope_sheet_name": None, "scope_sheet_index": None})
    return out


def book_payload(path: str | Path, book_name: str | None = None) -> dict:
    """What the Office.js client sends for a script: every sheet's values (dates as ISO), the
    defined names, and the book's name (``book_name``, else the file's)."""
    import datetime as dt

    import xlwings
    from python_calamine import CalamineWorkbook

    def clean(v: Any) -> Any:
        return v.isoformat() if isinstance(v, (dt.date, dt.datetime, dt.time)) else v

    sheets = []
    wb = CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False) or [[""]]
        width = max(len(r) for r in rows)
        sheets.append({"name": name, "values": [[clean(v) for v in r] + [""] * (width - len(r))
                                                for r in rows],
                       "pictures": [], "tables": []})
    return {"client": "Office.js", "version": xlwings.__version__,
            "book": {"name": book_name or Path(path).name, "active_sheet_index": 0,
                     "selection": "A1"},
            "names": client_names(path), "sheets": sheets}


def call_officejs(calls: list[dict], module: str = "aicapex.udfs") -> list[Any]:
    env = {**os.environ, **SERVER_ENV}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), module],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout)


def meta(module: str = "aicapex.udfs") -> dict:
    return call_officejs([{"meta": True}], module)[0]


def _main() -> None:
    import asyncio
    import importlib
    import inspect

    assert os.environ.get("XLWINGS_ON_SERVER") == "true"
    import xlwings.server as server

    module = importlib.import_module(sys.argv[1])
    calls = json.load(sys.stdin)

    async def run() -> list[Any]:
        out = []
        for call in calls:
            if call.get("meta"):
                out.append(server.custom_functions_meta(module))
                continue
            func = getattr(module, call["func_name"])
            n = len(inspect.signature(func).parameters)
            body = payload(call["func_name"], call["args"], n, call.get("runtime", "1.4"))
            try:
                out.append({"result": await server.custom_functions_call(body, module)})
            except Exception as exc:  # noqa: BLE001 - reported to the test
                out.append({"exception": f"{type(exc).__name__}: {exc}"})
        return out

    json.dump(asyncio.run(run()), sys.stdout, default=str)


if __name__ == "__main__":
    _main()
