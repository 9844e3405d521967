"""xlwings' Office.js call path with and without the ``is_jsnull`` patch, in the same run.

Run as a script (``python bench/bench_officejs.py``) or import and call :func:`run`, which
returns rows ``{name, value, unit, baseline, ratio, target}`` for a bench runner.

What is timed: ``await xlwings.server.custom_functions_call(payload, aicapex.udfs)`` — the
exact function xlwings Server's ``/xlwings/custom-functions-call`` endpoint runs (argument
conversion, our UDF, result conversion), without HTTP — for ``CPX_CAPEX_TO_OCF`` over two
arguments of 2 cells and of 1,000 cells each (a row of a model and a long column).
Baseline: xlwings' own ``is_jsnull`` (a failing ``import pyodide`` per argument cell);
value: with :func:`aicapex.server.patch_is_jsnull`. Rounds alternate baseline and patched
so drift hits both; the median round counts.

xlwings picks its Office.js decorators only if ``XLWINGS_ON_SERVER=true`` is set before it is
first imported, so the measurement runs in a child interpreter.

Targets: patched 1,000-cell calls >= 100/s and >= 10x the baseline; 2-cell calls >= 1,000/s
and not slower than the baseline.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

SIZES = {2: (2_000, 1_000.0, 1.0), 1_000: (20, 100.0, 10.0)}  # cells: (calls/round, targets)
ROUNDS = 5
CHILD_ENV = {"XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}


def _payload(cells: int) -> dict:
    import xlwings

    capex = [[float(64_551 + 7 * i) for i in range(cells)]]
    ocf = [[float(136_162 + 11 * i) for i in range(cells)]]
    return {"client": "Office.js", "func_name": "cpx_capex_to_ocf", "args": [capex, ocf],
            "caller_address": "[ai_capex_monitor.xlsm]Ratios!F12", "session_id": "bench",
            "culture_info_name": "en-US", "date_format": "M/d/yyyy",
            "version": xlwings.__version__, "runtime": "1.4"}


def _child() -> list[dict]:
    import asyncio

    import aicapex.udfs as udfs
    import xlwings.server as xs
    from aicapex import server

    assert os.environ.get("XLWINGS_ON_SERVER") == "true"

    async def per_call(body: dict, calls: int) -> float:
        t0 = time.perf_counter()
        for _ in range(calls):
            await xs.custom_functions_call(body, udfs)
        return (time.perf_counter() - t0) / calls

    async def measure() -> list[dict]:
        rows = []
        for cells, (calls, target_rate, target_ratio) in SIZES.items():
            body = _payload(cells)
            server.unpatch_is_jsnull()
            plain_result = await xs.custom_functions_call(body, udfs)
            server.patch_is_jsnull()
            assert await xs.custom_functions_call(body, udfs) == plain_result  # same answer
            plain, patched = [], []
            for _ in range(ROUNDS):
                server.unpatch_is_jsnull()
                plain.append(await per_call(body, calls))
                server.patch_is_jsnull()
                patched.append(await per_call(body, calls))
            t_plain, t_patched = statistics.median(plain), statistics.median(patched)
            ratio = t_plain / t_patched
            rows += [
                {"name": f"officejs_call_{cells}cells_patched", "value": 1 / t_patched,
                 "unit": "calls/s", "baseline": 1 / t_plain, "ratio": ratio,
                 "target": target_rate, "ms_per_call": 1e3 * t_patched,
                 "baseline_ms_per_call": 1e3 * t_plain},
                {"name": f"officejs_call_{cells}cells_speedup", "value": ratio, "unit": "x",
                 "baseline": 1.0, "ratio": ratio, "target": target_ratio},
            ]
        server.unpatch_is_jsnull()
        return rows

    return asyncio.run(measure())


def run() -> list[dict]:
    """Benchmark rows (measured in a child interpreter with XLWINGS_ON_SERVER=true)."""
    env = {**os.environ, **CHILD_ENV}
    python_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (python_dir, env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"], env=env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout)


def main() -> int:
    rows = run()
    print(f"{'name':36} {'value':>12} {'unit':>8} {'baseline':>12} {'ratio':>8} {'target':>8}")
    ok = True
    for r in rows:
        met = r["value"] >= r["target"]
        ok &= met
        print(f"{r['name']:36} {r['value']:12,.1f} {r['unit']:>8} {r['baseline']:12,.1f} "
              f"{r['ratio']:8.1f} {r['target']:8,.0f} {'ok' if met else 'BELOW TARGET'}")
        if "ms_per_call" in r:
            print(f"{'':36} {r['ms_per_call']:12.3f} ms/call patched, "
                  f"{r['baseline_ms_per_call']:.3f} ms/call unpatched")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        json.dump(_child(), sys.stdout)
    else:
        sys.exit(main())
