"""Our headless refresh against peer headless engines on the same workbook.

Run as a script (``python bench/bench_peers.py``) or import and call :func:`run`, which
returns rows ``{name, value, unit, baseline, ratio, target}`` for a bench runner.

In every row ``value`` is the peer's time, ``baseline`` ours (measured in the same run) and
``ratio = value / baseline`` is how many times faster we are (higher is better).

- **formulas** (pip ``formulas``, EUPL; a bench-only dependency, ``bench/requirements.txt``):
  ``ExcelModel().loads(path).finish()`` then ``calculate()`` on the refreshed analyst
  workbook, our CPX_ functions registered through ``formulas.get_functions()[NAME] =
  formulas.functions.wrap_func(adapter)`` — the adapter turns formulas' numpy arrays into the
  Excel shapes our functions take (scalar for one cell, row lists for a range, ``None`` for a
  blank, our error values for its errors) and our results back. Compared with our whole
  refresh (which also writes the file; formulas' time here does not include writing), and
  formulas' ``calculate()`` alone with our evaluator alone
  (:func:`aicapex.excel.evaluator.evaluate_workbook` on the loaded workbook). Its results
  are checked against the workbook's cached values (agreement in the row's detail). If
  formulas cannot evaluate the analyst workbook at all, it is measured on the client export
  (native formulas only) and the row name says ``_on_client_export``.
- **LibreOffice** headless, forced recalculation of the client export
  (:func:`aicapex.excel.libreoffice.recalculate`: process start, load, recalculate every
  formula, save); warm profile. Its process start-up alone (recalculating a one-cell
  workbook) is reported in the detail. Its results are compared with the export's cached
  values.

Targets: our refresh >= 20x faster than formulas; faster than LibreOffice's recalculation
(ratio > 1). A peer that is not installed gives a skipped row with the reason.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_refresh import interleaved, io_floor, prepare_workbook  # noqa: E402

TARGET_VS_FORMULAS = 20.0
TARGET_VS_LIBREOFFICE = 1.0
OUR_ROUNDS = 5
FORMULAS_ROUNDS = 2
LO_ROUNDS = 3


# -- formulas adapters ------------------------------------------------------------------------


def _formulas_udfs() -> dict:
    """Our CPX_ functions wrapped for ``formulas`` (name -> formulas function)."""
    import aicapex.udfs as udfs
    import formulas
    import numpy as np
    import schedula as sh
    from aicapex.xlerrors import ERROR_CODES, XlError
    from formulas.tokens.operand import Error as FError
    from formulas.tokens.operand import XlError as FXlError

    def cell_in(v):
        if v is sh.EMPTY or v is None:
            return None
        if isinstance(v, FXlError):
            code = str(v)
            return XlError(code, "from formulas") if code in ERROR_CODES else XlError("#VALUE!")
        if isinstance(v, np.generic):
            return v.item()
        return v

    def arg_in(a):
        if isinstance(a, np.ndarray):
            rows = [[cell_in(v) for v in r] for r in np.atleast_2d(a)]
            return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
        return cell_in(a)

    def cell_out(v):
        if isinstance(v, XlError):
            return FError.errors.get(str(v), FError.errors["#VALUE!"])
        return v

    def result_out(r):
        if isinstance(r, list):
            return np.asarray([[cell_out(c) for c in (row if isinstance(row, list) else [row])]
                               for row in r], dtype=object)
        return cell_out(r)

    def adapt(fn):
        def adapted(*args):
            return result_out(fn(*(arg_in(a) for a in args)))

        adapted.__name__ = fn.__name__
        adapted.__doc__ = fn.__doc__
        return adapted

    out = {}
    for name in udfs.__all__:
        wrapped = formulas.functions.wrap_func(adapt(getattr(udfs, name)))
        out[name.upper()] = wrapped
        out["_XLUDF." + name.upper()] = wrapped
    return out


def _formulas_run(path: Path) -> tuple[float, float, dict]:
    """(load+compile seconds, calculate seconds, solution) for one fresh model."""
    import formulas

    quiet = io.StringIO()
    with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):  # tqdm bars
        t0 = time.perf_counter()
        model = formulas.ExcelModel().loads(str(path)).finish()
        t1 = time.perf_counter()
        solution = model.calculate()
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, solution


def _formulas_agreement(path: Path, solution: dict) -> tuple[int, int, list[str]]:
    """(agreeing, total, examples of disagreement) over the workbook's formula cells."""
    import numpy as np
    import openpyxl
    import schedula as sh
    from aicapex.excel.cached import read_cached_values
    from formulas.tokens.operand import XlError as FXlError

    cached = read_cached_values(path)
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm")
    book = f"[{path.name}]".upper()
    by_key = {k.upper(): v for k, v in solution.items()}
    agree = total = 0
    bad: list[str] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                total += 1
                got = by_key.get(f"'{book}{ws.title.upper()}'!{c.coordinate}")
                if got is not None and hasattr(got, "value"):
                    got = np.asarray(got.value)[0, 0] if np.ndim(got.value) else got.value
                if isinstance(got, np.generic):
                    got = got.item()
                if got is sh.EMPTY:
                    got = None
                if isinstance(got, FXlError):
                    got = str(got)
                exp = cached.get((ws.title, c.coordinate))
                if isinstance(exp, (int, float)) and isinstance(got, (int, float)) \
                        and not isinstance(exp, bool):
                    ok = math.isclose(exp, got, rel_tol=1e-9, abs_tol=1e-9)
                else:
                    ok = exp == got or (exp in (None, "") and got in (None, ""))
                if ok:
                    agree += 1
                elif len(bad) < 4:
                    bad.append(f"{ws.title}!{c.coordinate} {str(c.value)[:40]} = {exp!r}, "
                               f"formulas {got!r}")
    return agree, total, bad


def _formulas_rows(book: Path, client: Path, ours_refresh: float, ours_eval: float,
                   floor: float) -> list[dict]:
    try:
        import formulas
    except ImportError:
        return [{"name": "peer_formulas_vs_our_refresh", "value": None, "unit": "s",
                 "baseline": ours_refresh, "ratio": None, "target": TARGET_VS_FORMULAS,
                 "target_on": "ratio", "better": "higher",
                 "status": "skipped: formulas not installed (pip install -r bench/requirements.txt)"}]
    formulas.get_functions().update(_formulas_udfs())
    target, suffix, why = book, "", ""
    try:
        runs = [_formulas_run(book) for _ in range(FORMULAS_ROUNDS)]
    except Exception as exc:  # noqa: BLE001 - any failure means: measure the export instead
        target, suffix = client, "_on_client_export"
        why = f"formulas failed on the analyst workbook ({type(exc).__name__}: {exc}); "
        runs = [_formulas_run(client) for _ in range(FORMULAS_ROUNDS)]
    full = [a + b for a, b, _ in runs]
    calc = [b for _, b, _ in runs]
    agree, total, bad = _formulas_agreement(target, runs[-1][2])
    check = f"formulas agrees with our values on {agree:,}/{total:,} formula cells"
    if bad:
        check += " (differs e.g. " + "; ".join(bad[:2]) + ")"
    best = min(full)
    return [
        {"name": f"peer_formulas_vs_our_refresh{suffix}", "value": best, "unit": "s",
         "baseline": ours_refresh, "ratio": best / ours_refresh, "target": TARGET_VS_FORMULAS,
         "target_on": "ratio", "better": "higher", "peer_version": formulas.__version__,
         "median": statistics.median(full),
         "detail": (f"{why}formulas {formulas.__version__} load+compile+calculate, best of "
                    f"{len(full)} (no save) vs our whole refresh incl. save, median; {check}; "
                    f"ceiling: the openpyxl I/O floor alone ({floor:.3f} s) is already "
                    f"1/{best / floor:.1f} of formulas' time")},
        {"name": f"peer_formulas_calculate_vs_our_evaluate{suffix}", "value": min(calc),
         "unit": "s", "baseline": ours_eval, "ratio": min(calc) / ours_eval, "target": None,
         "better": "higher",
         "detail": "formulas calculate() alone vs our evaluate_workbook() alone (no I/O)"},
    ]


def _libreoffice_rows(client: Path, work: Path, ours_refresh: float) -> list[dict]:
    from aicapex.errors import AicapexError
    from aicapex.excel import libreoffice as lo

    name = "peer_libreoffice_recalc_vs_our_refresh"
    try:
        lo.soffice_binary()
    except AicapexError as exc:
        return [{"name": name, "value": None, "unit": "s", "baseline": ours_refresh,
                 "ratio": None, "target": TARGET_VS_LIBREOFFICE, "target_on": "ratio",
                 "better": "higher", "status": f"skipped: {exc}"}]
    import openpyxl
    from aicapex.excel.cached import read_cached_values

    tiny = work / "tiny.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    wb.active["A2"] = "=A1+1"
    wb.save(tiny)
    out_dir = work / "lo"
    lo.recalculate(client, out_dir)  # warm: profile created, files cached
    times = interleaved({"startup": lambda: lo.recalculate(tiny, out_dir),
                         "export": lambda: lo.recalculate(client, out_dir)}, rounds=LO_ROUNDS)
    recalculated = out_dir / f"{client.stem}.xlsx"
    problems = lo.compare_values(read_cached_values(client), read_cached_values(recalculated))
    value = statistics.median(times["export"])
    startup = statistics.median(times["startup"])
    return [{"name": name, "value": value, "unit": "s", "baseline": ours_refresh,
             "ratio": value / ours_refresh, "target": TARGET_VS_LIBREOFFICE, "target_on": "ratio",
             "better": "higher", "startup": startup,
             "detail": (f"soffice --convert-to xlsx with forced recalculation of the client export "
                        f"(median of {LO_ROUNDS}); of which process start-up on a 1-cell file "
                        f"{startup:.2f} s; LibreOffice reproduces the stored values with "
                        f"{len(problems)} difference(s)")}]


def run() -> list[dict]:
    """Benchmark rows (see the module docstring)."""
    import openpyxl
    from aicapex.excel.evaluator import evaluate_workbook
    from aicapex.excel.export import export_client_copy
    from aicapex.excel.headless import refresh_file, udf_registry

    work = Path(tempfile.mkdtemp(prefix="aicapex-bench-peers-"))
    try:
        book = prepare_workbook(work)
        client = export_client_copy(book, "Bench Client", work / "client.xlsx", as_of="2026-01-01")
        refreshed = work / "refreshed.xlsm"
        shutil.copyfile(book, refreshed)
        wb = openpyxl.load_workbook(refreshed, keep_vba=True)
        registry = udf_registry()
        evaluate_workbook(wb, registry)
        ours = interleaved({"refresh": lambda: refresh_file(refreshed, backup=False),
                            "evaluate": lambda: evaluate_workbook(wb, registry),
                            "floor": lambda: io_floor(book, work)},
                           rounds=OUR_ROUNDS)
        ours_refresh = statistics.median(ours["refresh"])
        ours_eval = statistics.median(ours["evaluate"])
        floor = statistics.median(ours["floor"])
        rows = _formulas_rows(book, client, ours_refresh, ours_eval, floor)
        rows += _libreoffice_rows(client, work, ours_refresh)
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    for r in run():
        if r["value"] is None:
            print(f"{r['name']:48} {r.get('status', '')}")
            continue
        print(f"{r['name']:48} peer {r['value']:7.3f} s  ours {r['baseline']:7.3f} s  "
              f"{r['ratio']:6.1f}x  target {r['target']}  {r.get('detail', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
