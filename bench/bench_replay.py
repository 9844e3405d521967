"""What an Excel user waits for: every CPX_ call of a template, replayed as Excel makes them.

Run as a script (``python bench/bench_replay.py [--template PATH ...]``) or import and call
:func:`run`, which returns rows ``{name, value, unit, baseline, ratio, target}`` for
``bench/run.py``.

The headless refresh computes each distinct CPX_ call once; Excel does not: a full
recalculation calls a UDF once per formula cell and per occurrence in the formula (260 cells of
``INDEX(CPX_FINANCING(...), r, c)`` are 260 scenario-engine runs). This benchmark replays
exactly those calls, with no de-duplication:

1. The template is copied and refreshed headlessly (``refresh_file``), so its cells hold the
   values a refreshed workbook gives every CPX_ argument.
2. :func:`extract_calls` lists every CPX_ occurrence of every formula cell (the calls a CSE or
   dynamic array formula makes once are listed once) and evaluates its argument expressions
   -- references, ranges, defined names, literals, arithmetic -- against those stored values
   with the project's own formula engine (:func:`aicapex.excel.evaluator.evaluate_workbook`,
   public entry point): each occurrence becomes a formula ``=REPLAYk(<its arguments>)`` in a
   workbook of stored values, and ``REPLAYk`` records what it receives.
3. The calls are replayed (a) through the Python functions directly (``aicapex.udfs``, as the
   headless refresh and xlwings' desktop UDF server call them) and (b) through
   ``python -m aicapex serve`` over loopback HTTP: one ``POST /xlwings/custom-functions-call``
   per call, as xlwings' Office.js client sends it (every argument a 2-D matrix, error cells as
   Office.js error objects, ``[[null]]`` for an omitted argument), sequentially on one
   keep-alive connection.

Reported per template: calls, total seconds and seconds per call for both paths (median of
``ROUNDS`` rounds after one warm-up round), next to the documented per-call cost of xlwings'
desktop transport, which is not measured here (no Excel): ~0.02 s per call for a UDF imported
into the workbook and ~0.33 s from a standalone add-in (xlwings issue #2315,
https://github.com/xlwings/xlwings/issues/2315), 0.013 s per call with xlwings' default
configuration in xlwings issue #1976 (https://github.com/xlwings/xlwings/issues/1976).
Templates: BEFORE = ``workbook/ai_capex_monitor.xlsm`` at commit ``143bd4d`` (``git show``),
AFTER = the current ``workbook/ai_capex_monitor.xlsm``; any template path works
(``--template``).

Target: the server replay of a full recalculation of the AFTER template under 2 s.

What the replay is not: Excel skips a CPX_ call in an IF branch it does not take; the replay
makes every call (an upper bound: :data:`Replay.conditional` counts them). Excel on the web
may send calls concurrently and xlwings' client can cache results of functions declared with
``cache=True``; the sequential replay is the cost without either.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import importlib.util
import inspect
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
try:
    import aicapex  # noqa: F401
except ModuleNotFoundError:  # a checkout without the editable install
    sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(HERE))
from live_server import LiveServer  # noqa: E402 - bench/ helpers, also for tests/test_web.py

BEFORE_COMMIT = "143bd4d"
TEMPLATE = REPO / "workbook" / "ai_capex_monitor.xlsm"
ROUNDS = 3
TARGET_SERVER_SECONDS = 2.0
TARGET_CALLS = 100  # issue #19 point 1: at most 100 CPX_ calls per full recalculation
#: Documented desktop transport cost per call (seconds), not measured here.
DESKTOP_IMPORTED = 0.02  # xlwings #2315: UDF imported into the workbook
DESKTOP_STANDALONE = 0.33  # xlwings #2315: the same call from a standalone add-in
NOW = dt.datetime(2026, 12, 1, 8, 0)  # refresh stamp, so that two runs replay the same values
WORKBOOK_NAME = "ai_capex_monitor.xlsm"

#: Office.js error types (custom functions runtime 1.4) by Excel error code.
OFFICEJS_ERRORS = {"#DIV/0!": "Div0", "#N/A": "NotAvailable", "#NAME?": "Name",
                   "#NULL!": "Null", "#NUM!": "Num", "#REF!": "Ref", "#VALUE!": "Value",
                   "#SPILL!": "Spill", "#CALC!": "Calc", "#GETTING_DATA": "GettingData",
                   "#FIELD!": "Field", "#BUSY!": "Busy", "#CONNECT!": "Connect",
                   "#BLOCKED!": "Blocked", "#UNKNOWN!": "Unknown"}
OFFICEJS_CODES = {v: k for k, v in OFFICEJS_ERRORS.items()}

Key = tuple[str, str]  # (sheet, "F8")


# -- the calls --------------------------------------------------------------------------------


@dataclass
class Call:
    """One CPX_ call as Excel makes it: the formula cell, the occurrence in its formula, the
    Python function (``cpx_series``) and the argument values it receives."""

    sheet: str
    cell: str
    occurrence: int
    function: str
    args: list[Any]
    conditional: bool = False  # inside an IF argument: Excel may skip it


@dataclass
class Replay:
    """The calls of one template and the refreshed copy they were read from."""

    template: Path
    refreshed: Path
    formulas: dict[Key, str]
    calls: list[Call] = field(default_factory=list)

    @property
    def conditional(self) -> int:
        return sum(c.conditional for c in self.calls)


def formula_texts(wb: Any) -> dict[Key, str]:
    """Every formula cell of an openpyxl workbook (array formulas by their anchor)."""
    out: dict[Key, str] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                text = getattr(v, "text", v)
                if isinstance(text, str) and text.startswith("="):
                    out[(ws.title, c.coordinate)] = text
    return out


def formula_cells(wb: Any) -> list[Key]:
    """Every cell holding a formula's result: formula cells and the cells of array formulas."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if hasattr(v, "ref"):
                    c1, r1, c2, r2 = range_boundaries(str(v.ref))
                    out += [(ws.title, f"{get_column_letter(cc)}{rr}")
                            for rr in range(r1, r2 + 1) for cc in range(c1, c2 + 1)]
                elif isinstance(v, str) and v.startswith("="):
                    out.append((ws.title, c.coordinate))
    return out


def static_count(formulas: Mapping[Key, str]) -> int:
    """CPX_ calls counted in the formula texts (each occurrence in each formula cell), with a
    plain pattern rather than the tokenizer -- the independent count the replay must match."""
    import re

    return sum(len(re.findall(r"CPX_[A-Z0-9_]+\(", f, re.IGNORECASE)) for f in formulas.values())


def refreshed_copy(template: Path, folder: Path, name: str = WORKBOOK_NAME) -> Path:
    """A copy of ``template`` refreshed headlessly (the values Excel's arguments would read)."""
    from aicapex.excel.headless import refresh_file

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    shutil.copyfile(template, path)
    refresh_file(path, overrides=None, now=NOW, backup=False)
    return path


def _inside_if(formula: str, start: int) -> bool:
    """Whether the call at ``start`` sits in an IF argument (Excel evaluates IF lazily)."""
    from openpyxl.formula.tokenizer import Token, Tokenizer

    pos, stack = 0, []
    for tok in Tokenizer(formula).items:
        if pos >= start:
            break
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            stack.append(tok.value.upper())
        elif tok.type == Token.FUNC and tok.subtype == Token.CLOSE and stack:
            stack.pop()
        pos += len(tok.value)
    return any(name in ("IF(", "_XLFN.IFS(", "IFS(", "CHOOSE(") for name in stack)


def extract_calls(refreshed: Path, formulas: Mapping[Key, str] | None = None,
                  template: Path | None = None) -> Replay:
    """Every CPX_ call of the workbook with the argument values its stored values give.

    ``formulas`` replaces the workbook's formula texts (e.g. the namespaced formulas a script
    wrote); by default they are read from ``refreshed``.
    """
    import openpyxl
    from aicapex.excel import web
    from aicapex.excel.evaluator import evaluate_workbook
    from aicapex.excel.headless import udf_registry

    with_formulas = openpyxl.load_workbook(refreshed)
    if formulas is None:
        formulas = formula_texts(with_formulas)
    replay = Replay(template or refreshed, refreshed, dict(formulas))
    stored = openpyxl.load_workbook(refreshed, data_only=True)  # every cell a value
    for sheet, cell in formula_cells(with_formulas):
        c = stored[sheet][cell]
        if c.value is None:  # a formula's "" result reads back as blank; Excel passes ""
            c.value = ""
    functions: dict[str, Callable[..., Any]] = dict(udf_registry())  # nested calls, if any
    received: dict[int, list[Any]] = {}
    free_col = {ws.title: ws.max_column + 2 for ws in stored.worksheets}
    next_row = {ws.title: 1 for ws in stored.worksheets}

    def recorder(k: int) -> Callable[..., float]:
        def record(*args: Any) -> float:
            received[k] = list(args)
            return 0.0
        return record

    order = sorted(formulas, key=lambda k: (stored.sheetnames.index(k[0]), _row_col(k[1])))
    for sheet, cell in order:
        text = formulas[(sheet, cell)]
        for i, call in enumerate(web.cpx_calls(text)):
            k = len(replay.calls)
            ws = stored[sheet]
            ws.cell(next_row[sheet], free_col[sheet]).value = (
                f"=REPLAY{k}({web.rename_cpx('=' + call.arguments(text), '')[1:]})")
            next_row[sheet] += 1
            functions[f"REPLAY{k}"] = recorder(k)
            replay.calls.append(Call(sheet, cell, i, call.name.lower(), [],
                                     _inside_if(text, call.start)))
    evaluate_workbook(stored, functions)
    for k, call in enumerate(replay.calls):
        call.args = [_as_excel(a) for a in received[k]]
    return replay


def _as_excel(v: Any) -> Any:
    """Numbers as Excel passes them, doubles: openpyxl reads a stored ``2019`` as an int."""
    if isinstance(v, list):
        return [_as_excel(x) for x in v]
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


def _row_col(coord: str) -> tuple[int, int]:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    col, row = coordinate_from_string(coord)
    return row, column_index_from_string(col)


# -- (a) direct --------------------------------------------------------------------------------


def call_direct(calls: list[Call]) -> list[Any]:
    """Each call through its Python function; an exception becomes ``#VALUE!`` as in Excel."""
    import aicapex.udfs as udfs
    from aicapex.xlerrors import XlError

    fns = {name: getattr(udfs, name) for name in udfs.__all__}
    out = []
    for c in calls:
        try:
            out.append(fns[c.function](*c.args))
        except Exception as exc:  # noqa: BLE001 - Excel shows #VALUE!
            out.append(XlError("#VALUE!", f"{type(exc).__name__}: {exc}"))
    return out


# -- (b) over HTTP, as the Office.js client sends them -------------------------------------


def officejs_cell(v: Any) -> Any:
    """A cell value as Office.js passes it to a custom function (runtime 1.4, errors allowed)."""
    from aicapex.xlerrors import XlError

    if isinstance(v, XlError):
        code = str(v)
        return {"type": "Error", "basicType": "Error", "basicValue": code,
                "errorType": OFFICEJS_ERRORS.get(code, "Value")}
    if isinstance(v, float) and not math.isfinite(v):
        return {"type": "Error", "basicType": "Error", "basicValue": "#NUM!", "errorType": "Num"}
    return v


def officejs_arg(v: Any) -> Any:
    """An argument as a matrix (xlwings declares every parameter ``dimensionality: matrix``)."""
    if isinstance(v, list):
        rows = v if v and isinstance(v[0], list) else [v]
        return [[officejs_cell(c) for c in row] for row in rows]
    return [[officejs_cell(v)]]


_PARAMS: dict[str, int] = {}


def _n_params(function: str) -> int:
    if function not in _PARAMS:
        import aicapex.udfs as udfs

        _PARAMS[function] = len(inspect.signature(getattr(udfs, function)).parameters)
    return _PARAMS[function]


def officejs_payload(call: Call, version: str, book: str = WORKBOOK_NAME) -> dict:
    """The body xlwings' Office.js client POSTs for ``call``."""
    args = [officejs_arg(a) for a in call.args]
    args += [[[None]]] * (_n_params(call.function) - len(args))  # omitted optional arguments
    return {"client": "Office.js", "func_name": call.function, "args": args,
            "caller_address": f"[{book}]{call.sheet}!{call.cell}", "session_id": "replay",
            "culture_info_name": "en-US", "date_format": "M/d/yyyy", "version": version,
            "runtime": "1.4"}


def from_officejs(v: Any) -> Any:
    """A custom function's JSON result back as a Python value (errors as ``XlError``)."""
    from aicapex.xlerrors import XlError

    if isinstance(v, list):
        return [from_officejs(x) for x in v]
    if isinstance(v, dict):
        if v.get("type") == "Error":
            return XlError(OFFICEJS_CODES.get(v.get("errorType"), "#VALUE!"), v.get("message"))
        return v.get("basicValue")
    return v


@dataclass
class Served:
    """What the server answered: the decoded results (``XlError('#VALUE!')`` for a refused
    call, as Excel would show it) and the refused calls with status and reason."""

    results: list[Any]
    refused: list[tuple[int, int, str]]  # (call index, HTTP status, reason)


def call_server(calls: list[Call], port: int, bodies: list[bytes] | None = None) -> Served:
    """Each call as one POST to ``/xlwings/custom-functions-call`` on one keep-alive
    connection to ``127.0.0.1:port``."""
    from aicapex.xlerrors import XlError

    if bodies is None:
        bodies = encoded_bodies(calls)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    results, refused = [], []
    headers = {"Content-Type": "application/json"}
    try:
        for i, body in enumerate(bodies):
            conn.request("POST", "/xlwings/custom-functions-call", body, headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status == 200:
                results.append(from_officejs(json.loads(data)["result"]))
            else:
                try:
                    reason = str(json.loads(data).get("detail", ""))[:300]
                except ValueError:
                    reason = data[:300].decode("utf-8", "replace")
                refused.append((i, resp.status, reason))
                results.append(XlError("#VALUE!", f"HTTP {resp.status}: {reason}"))
    finally:
        conn.close()
    return Served(results, refused)


def encoded_bodies(calls: list[Call]) -> list[bytes]:
    import xlwings

    return [json.dumps(officejs_payload(c, xlwings.__version__)).encode() for c in calls]


# -- checking a replay against the headless refresh -------------------------------------------


def recompute(replay: Replay, results: list[Any]) -> Any:
    """Evaluate the workbook's formulas with every CPX_ occurrence answered by its replayed
    result (native formulas -- INDEX around a call, links, checks -- computed as usual).

    Returns ``(EvaluationResult, argument mismatches)``: the second counts occurrences whose
    arguments in this full evaluation differ from the replayed ones (read from stored values).
    """
    import openpyxl
    from aicapex.excel import web
    from aicapex.excel.evaluator import evaluate_workbook
    from openpyxl.worksheet.formula import ArrayFormula

    wb = openpyxl.load_workbook(replay.refreshed)
    index = {(c.sheet, c.cell, c.occurrence): k for k, c in enumerate(replay.calls)}
    functions: dict[str, Callable[..., Any]] = {}
    mismatches: list[int] = []

    def answer(k: int) -> Callable[..., Any]:
        def fn(*args: Any) -> Any:
            if not _same(list(args), replay.calls[k].args):
                mismatches.append(k)
            return results[k]
        return fn

    for (sheet, cell), text in replay.formulas.items():
        pieces, last = [], 0
        for i, call in enumerate(web.cpx_calls(text)):
            k = index[(sheet, cell, i)]
            functions[f"RESULT{k}"] = answer(k)
            pieces += [text[last:call.start], f"RESULT{k}("]
            last = call.args_start
        if not pieces:
            continue
        new = "".join(pieces) + text[last:]
        old = wb[sheet][cell].value
        wb[sheet][cell].value = ArrayFormula(old.ref, new) if hasattr(old, "ref") else new
    return evaluate_workbook(wb, functions), mismatches


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def stored_values(refreshed: Path) -> dict[Key, Any]:
    """The refreshed workbook's stored values (errors as ``XlError``)."""
    import openpyxl
    from aicapex.xlerrors import ERROR_CODES, XlError

    out = {}
    for ws in openpyxl.load_workbook(refreshed, data_only=True).worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if c.data_type == "e" and v in ERROR_CODES:
                    v = XlError(v)
                out[(ws.title, c.coordinate)] = v
    return out


def differences(replay: Replay, results: list[Any], limit: int = 10) -> tuple[int, list[str]]:
    """Formula and spilled cells whose recomputed value differs from the stored one:
    (count of cells compared, up to ``limit`` differences described)."""
    evaluated, mismatches = recompute(replay, results)
    stored = stored_values(replay.refreshed)
    cells = {**evaluated.values, **evaluated.spills}
    diffs = []
    for key, got in cells.items():
        want = stored.get(key)
        if not _equal(got, want):
            diffs.append(f"{key[0]}!{key[1]}: replayed {got!r}, stored {want!r}")
    diffs += [f"{replay.calls[k].sheet}!{replay.calls[k].cell}: arguments differ from the "
              "full evaluation's" for k in sorted(set(mismatches))]
    return len(cells), diffs[:limit] + ([f"... {len(diffs) - limit} more"] if len(diffs) > limit
                                       else [])


def _equal(got: Any, want: Any) -> bool:
    from aicapex.xlerrors import XlError

    if isinstance(got, XlError) or isinstance(want, XlError):
        return isinstance(got, XlError) and isinstance(want, XlError) and str(got) == str(want)
    if got in (None, "") and want in (None, ""):
        return True
    if isinstance(got, bool) or isinstance(want, bool):
        return got == want
    if isinstance(got, (int, float)) and isinstance(want, (int, float)):
        return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(want, dt.datetime) and isinstance(got, (int, float)):
        from openpyxl.utils.datetime import to_excel

        return math.isclose(got, to_excel(want), rel_tol=0, abs_tol=1e-6)
    return got == want


# -- the benchmark ------------------------------------------------------------------------------


def before_template(folder: Path, commit: str = BEFORE_COMMIT) -> Path:
    """``workbook/ai_capex_monitor.xlsm`` as it was at ``commit`` (``git show``)."""
    out = folder / f"ai_capex_monitor@{commit}.xlsm"
    with out.open("wb") as f:
        proc = subprocess.run(["git", "show", f"{commit}:workbook/{WORKBOOK_NAME}"],
                              cwd=REPO, stdout=f, stderr=subprocess.PIPE, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"git show {commit}: {proc.stderr.decode(errors='replace').strip()}")
    return out


def timed(fn: Callable[[], Any], rounds: int = ROUNDS) -> tuple[float, list[float], Any]:
    """One warm-up call, then ``rounds`` timed ones: (median seconds, all seconds, last result)."""
    result = fn()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def measure(label: str, template: Path, work: Path, server: LiveServer | None,
            target: float | None) -> list[dict]:
    """The rows of one template."""
    folder = work / label
    replay = extract_calls(refreshed_copy(template, folder), template=template)
    n = len(replay.calls)
    desktop = n * DESKTOP_IMPORTED
    by_sheet: dict[str, int] = {}
    for c in replay.calls:
        by_sheet[c.sheet] = by_sheet.get(c.sheet, 0) + 1
    documented = (f"documented desktop transport (not measured): {DESKTOP_IMPORTED} s/call "
                  f"imported -> {desktop:.1f} s, {DESKTOP_STANDALONE} s/call from a standalone "
                  f"add-in -> {n * DESKTOP_STANDALONE:.0f} s (xlwings #2315; #1976: 0.013 s/call)")
    calls_row = {"name": f"replay_{label}_calls", "value": n, "unit": "calls",
                 "baseline": None, "ratio": None, "target": None, "better": "lower",
                 "by_sheet": by_sheet,
                 "detail": f"{_shown(template)}: {n:,} CPX_ calls per full recalculation "
                           f"(static count {static_count(replay.formulas):,}; "
                           f"{replay.conditional} inside IF, which Excel may skip); by sheet: "
                           + ", ".join(f"{k} {v}" for k, v in by_sheet.items())}
    direct_s, direct_all, direct_results = timed(lambda: call_direct(replay.calls))
    n_cells, diffs = differences(replay, direct_results)
    rows = [calls_row, {
        "name": f"replay_{label}_direct", "value": direct_s, "unit": "s", "baseline": desktop,
        "ratio": direct_s / desktop if desktop else None, "target": None, "better": "lower",
        "calls": n, "per_call_ms": 1e3 * direct_s / n if n else None,
        "rounds": [round(t, 4) for t in direct_all],
        "detail": f"{n:,} calls through aicapex.udfs, {1e3 * direct_s / max(n, 1):.2f} ms/call; "
                  f"baseline = calls x {DESKTOP_IMPORTED} s; {documented}; replayed values vs "
                  f"the headless refresh: {len(diffs)} differences in {n_cells:,} cells"
                  + (f" ({'; '.join(diffs[:3])})" if diffs else ""),
    }]
    if server is None:
        return rows
    bodies = encoded_bodies(replay.calls)
    server_s, server_all, served = timed(lambda: call_server(replay.calls, server.port, bodies))
    _, served_diffs = differences(replay, served.results)
    refused = (f"; {len(served.refused)} calls refused by the server, e.g. HTTP "
               f"{served.refused[0][1]} {served.refused[0][2]}" if served.refused else "")
    rows.append({
        "name": f"replay_{label}_server", "value": server_s, "unit": "s", "baseline": desktop,
        "ratio": server_s / desktop if desktop else None, "target": target, "better": "lower",
        "calls": n, "per_call_ms": 1e3 * server_s / n if n else None,
        "rounds": [round(t, 4) for t in server_all], "refused": len(served.refused),
        "request_bytes": sum(map(len, bodies)),
        "detail": f"{n:,} sequential POSTs to aicapex serve (loopback, keep-alive), "
                  f"{1e3 * server_s / max(n, 1):.2f} ms/call, "
                  f"{sum(map(len, bodies)) / 1e6:.2f} MB of requests; baseline = calls x "
                  f"{DESKTOP_IMPORTED} s; values vs the headless refresh: "
                  f"{len(served_diffs)} differences{refused}"
                  + (f" ({'; '.join(served_diffs[:3])})" if served_diffs else ""),
    })
    return rows


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return Path(path).name


def run(templates: Mapping[str, Path] | None = None, with_server: bool = True) -> list[dict]:
    """Benchmark rows for BEFORE (commit 143bd4d) and AFTER (the current template), or for
    ``templates`` (label -> path)."""
    work = Path(tempfile.mkdtemp(prefix="aicapex-bench-replay-"))
    rows: list[dict] = []
    try:
        if templates is None:
            templates = {}
            try:
                templates["before"] = before_template(work)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                rows.append({"name": "replay_before", "value": None, "unit": "",
                             "baseline": None, "ratio": None, "target": None,
                             "status": f"skipped: {exc}"})
            templates["after"] = TEMPLATE
        server = None
        if with_server:
            # find_spec, not import: importing xlwings_server sets XLWINGS_ON_SERVER here
            if importlib.util.find_spec("xlwings_server") is None:
                rows.append({"name": "replay_server", "value": None, "unit": "",
                             "baseline": None, "ratio": None, "target": None,
                             "status": "skipped: xlwings-server is not installed "
                                       "(pip install -r requirements-server.txt)"})
            else:
                server = LiveServer(work)
        try:
            if server is not None:
                server.__enter__()
            for label, path in templates.items():
                target = TARGET_SERVER_SECONDS if label == "after" else None
                got = measure(label, Path(path), work, server, target)
                if label == "after" and "before" in templates:
                    before_n = next((r["value"] for r in rows
                                     if r["name"] == "replay_before_calls"), None)
                    if before_n:
                        got[0].update(baseline=before_n, ratio=got[0]["value"] / before_n,
                                      target=TARGET_CALLS)
                rows += got
        finally:
            if server is not None:
                server.stop()
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--template", action="append", type=Path, metavar="PATH",
                   help="a template to replay (repeatable); default: BEFORE and AFTER")
    p.add_argument("--no-server", action="store_true", help="direct calls only")
    args = p.parse_args(argv)
    templates = ({f"t{i}" if len(args.template) > 1 else "after": path
                  for i, path in enumerate(args.template)} if args.template else None)
    rows = run(templates, with_server=not args.no_server)
    for r in rows:
        if r.get("status"):
            print(f"{r['name']:26} {r['status']}")
            continue
        base = "" if r["baseline"] is None else f"  baseline {r['baseline']:,.2f}"
        print(f"{r['name']:26} {r['value']:10,.3f} {r['unit']:6}{base}  {r.get('detail', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
