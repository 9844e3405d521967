"""Refresh time and peak memory against the size of the data universe.

Run as a script (``python bench/bench_scale.py``) or import and call :func:`run`, which
returns rows ``{name, value, unit, baseline, ratio, target}`` for a bench runner.

A **synthetic** universe (tickers ``SYN0001``..., never real figures; every row's source
says so) of up to 500 companies x 40 quarters (fiscal years 2016-2025, December year end) is
written as override CSVs in the snapshot's layout: quarterly rows for the flows (revenue,
ocf, capex, da_cashflow) and the balances (ppe_net, op_lease_rou_assets, total_debt,
cash_and_marketable_securities); annual flows are the sum of the four quarters, annual
balances the fiscal year-end (Q4) balance.

For each size (50, 100, 250, 500 companies): the analyst template is built once; a copy is
refreshed with the overrides folder once (untimed: this fills Data and Sources with the
universe), then refreshed again in a **fresh interpreter** — the daily refresh an analyst
runs with ``python -m aicapex refresh --overrides DIR`` — and that second refresh is timed
inside the child (``refresh_file`` only: interpreter start-up and imports excluded). Peak
memory is the child's own high-water resident set (``VmHWM`` from ``/proc/self/status``; the
whole process: interpreter, pandas, openpyxl, the workbook). ``ru_maxrss`` from ``os.wait4``
is only the fallback: on Linux it starts from the parent's peak at fork + exec, so under
``bench/run.py`` (a parent of ~500 MB) it reads the parent's figure, not the child's. The I/O
floor of each workbook (openpyxl load + save, in its own child) is in the row's detail.

The growth exponent is the least-squares slope of log(time) on log(companies).
Targets: exponent <= 1.2 (about linear) and <= 10 s at 500 companies.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from children import run_measured  # noqa: E402 - sibling module

SIZES = (50, 100, 250, 500)
FIRST_FY = 2016
YEARS = 10  # 40 quarters
FLOW_FIELDS = ("revenue", "ocf", "capex", "da_cashflow")
STOCK_FIELDS = ("ppe_net", "op_lease_rou_assets", "total_debt", "cash_and_marketable_securities")
SOURCE = "synthetic benchmark data (bench/bench_scale.py); not a filing"
TARGET_EXPONENT = 1.2
TARGET_SECONDS_500 = 10.0
CHILD_TIMEOUT = 300.0
PROFILE_COMPANIES = 100  # time is linear in companies, so a smaller profile shows the same shares

_HERE = Path(__file__).resolve().parent
_PYTHON_DIR = _HERE.parent / "python"


def ticker(i: int) -> str:
    return f"SYN{i + 1:04d}"


def write_universe(folder: Path, n_companies: int, seed: int = 2025) -> tuple[int, int]:
    """Write ``synthetic_quarterly.csv`` and ``synthetic_annual.csv``; returns the row counts."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_q = YEARS * 4
    fy = np.repeat(np.arange(FIRST_FY, FIRST_FY + YEARS), 4)
    fq = np.tile(np.array(["Q1", "Q2", "Q3", "Q4"]), YEARS)
    q_end_md = np.tile(np.array(["-03-31", "-06-30", "-09-30", "-12-31"]), YEARS)
    period_end = np.char.add(fy.astype(str), q_end_md)
    fy_end = np.char.add(fy.astype(str), "-12-31")

    q_frames, a_frames = [], []
    for i in range(n_companies):
        t = ticker(i)
        start = rng.uniform(500, 25_000)
        growth = rng.uniform(0.0, 0.06, n_q)
        revenue = np.round(start * np.cumprod(1 + growth), 1)
        flows = {
            "revenue": revenue,
            "ocf": np.round(revenue * rng.uniform(0.15, 0.45, n_q), 1),
            "capex": np.round(revenue * rng.uniform(0.05, 0.35, n_q), 1),
            "da_cashflow": np.round(revenue * rng.uniform(0.04, 0.12, n_q), 1),
        }
        stocks = {
            "ppe_net": np.round(revenue * rng.uniform(2.0, 5.0) * np.linspace(1, 1.5, n_q), 1),
            "op_lease_rou_assets": np.round(revenue * rng.uniform(0.2, 0.8), 1),
            "total_debt": np.round(revenue * rng.uniform(0.5, 3.0), 1),
            "cash_and_marketable_securities": np.round(revenue * rng.uniform(0.5, 4.0), 1),
        }
        for name, values in {**flows, **stocks}.items():
            q_frames.append(pd.DataFrame({
                "ticker": t, "fiscal_year": fy, "fiscal_quarter": fq, "period_end": period_end,
                "fiscal_year_end": fy_end, "field": name, "value_musd": values,
                "source": SOURCE, "note": "quarterly"}))
            if name in FLOW_FIELDS:
                annual = values.reshape(YEARS, 4).sum(axis=1)
                note = "sum of the four synthetic quarters"
            else:
                annual = values.reshape(YEARS, 4)[:, 3]
                note = "synthetic fiscal year-end (Q4) balance"
            years = np.arange(FIRST_FY, FIRST_FY + YEARS)
            a_frames.append(pd.DataFrame({
                "ticker": t, "fiscal_year": years, "fiscal_year_end": np.char.add(years.astype(str), "-12-31"),
                "field": name, "value_musd": np.round(annual, 1), "source": SOURCE, "note": note}))
    folder.mkdir(parents=True, exist_ok=True)
    quarterly = pd.concat(q_frames, ignore_index=True)
    annual = pd.concat(a_frames, ignore_index=True)
    quarterly.to_csv(folder / "synthetic_quarterly.csv", index=False)
    annual.to_csv(folder / "synthetic_annual.csv", index=False)
    return len(annual), len(quarterly)


# -- child processes --------------------------------------------------------------------------


def _child(mode: str, workbook: str, overrides: str, profile_out: str | None = None) -> None:
    if mode == "floor":
        import openpyxl

        t0 = time.perf_counter()
        wb = openpyxl.load_workbook(workbook, keep_vba=True)
        wb.save(Path(workbook).with_name("floor.xlsm"))
        json.dump({"seconds": time.perf_counter() - t0}, sys.stdout)
        return
    from aicapex.excel.headless import refresh_file

    if mode == "profile":
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    result = refresh_file(workbook, overrides=overrides, backup=False)
    seconds = time.perf_counter() - t0
    if mode == "profile":
        prof.disable()
        prof.dump_stats(profile_out)
    json.dump({"seconds": seconds, "formulas": result.formulas, "errors": len(result.errors),
               "master_check": str(result.master_check), "peak_mb": _own_peak_mb()}, sys.stdout)


def _own_peak_mb() -> float | None:
    """This process's peak resident set (``VmHWM``), MB.

    Not ``ru_maxrss``: on Linux a child's ``ru_maxrss`` starts from the parent's peak at
    fork/vfork + exec, so a big parent (the bench runner) would hide the child's own figure.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _run_child(args: list[str]) -> tuple[dict, float]:
    """Run this file as a child; returns its JSON answer and its peak RSS in MB."""
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PYTHON_DIR), env.get("PYTHONPATH")) if p)
    env.pop("AICAPEX_OVERRIDES", None)
    out, usage, _ = run_measured(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args], env, CHILD_TIMEOUT,
        f"child {args[0]}", poll=0.02)
    return json.loads(out.decode()), usage.ru_maxrss / 1024.0  # KB -> MB on Linux


def build_template(folder: Path) -> Path:
    from aicapex.data.dataset import load_dataset
    from aicapex.excel.builder import build_analyst_workbook

    path = folder / "template.xlsm"
    build_analyst_workbook(path, load_dataset(None))
    return path


def growth_exponent(sizes: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) against log(sizes)."""
    slope, _ = np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(seconds, float)), 1)
    return float(slope)


def measure(sizes=SIZES, work: Path | None = None) -> list[dict]:
    """One dict per size: companies, figures, seconds, first_seconds, peak_mb, formulas."""
    own = work is None
    work = Path(tempfile.mkdtemp(prefix="aicapex-bench-scale-")) if own else work
    try:
        template = build_template(work)
        out = []
        for n in sizes:
            folder = work / f"universe_{n}"
            n_annual, n_quarterly = write_universe(folder, n)
            book = work / f"scale_{n}.xlsm"
            shutil.copyfile(template, book)
            first, _ = _run_child(["measure", str(book), str(folder)])
            timed, maxrss = _run_child(["measure", str(book), str(folder)])
            peak = timed.get("peak_mb") or maxrss
            floor, _ = _run_child(["floor", str(book), str(folder)])
            out.append({"companies": n, "annual_rows": n_annual, "quarterly_rows": n_quarterly,
                        "seconds": timed["seconds"], "first_seconds": first["seconds"],
                        "floor_seconds": floor["seconds"], "peak_mb": peak,
                        "formulas": timed["formulas"]})
        return out
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def profile_hotspots(n: int = PROFILE_COMPANIES) -> list[str]:
    """cProfile of the steady-state refresh at ``n`` companies: where the time goes."""
    import pstats

    sys.path.insert(0, str(_HERE))
    from bench_refresh import REFRESH_PHASES, phases_from_stats

    work = Path(tempfile.mkdtemp(prefix="aicapex-bench-scale-prof-"))
    try:
        template = build_template(work)
        folder = work / "universe"
        write_universe(folder, n)
        book = work / "scale.xlsm"
        shutil.copyfile(template, book)
        _run_child(["measure", str(book), str(folder)])
        stats_file = work / "refresh.prof"
        _run_child(["profile", str(book), str(folder), str(stats_file)])
        phases = {**REFRESH_PHASES,
                  "  of which Workbook.__getitem__ (openpyxl/workbook/workbook.py)":
                  ("openpyxl/workbook/workbook.py", "__getitem__")}
        lines = phases_from_stats(pstats.Stats(str(stats_file)), phases,
                                  ("aicapex/excel/headless.py", "refresh_file"))
        return [f"cProfile of the refresh at {n} companies:"] + lines
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(sizes=SIZES) -> list[dict]:
    """Benchmark rows (see the module docstring)."""
    points = measure(sizes)
    base = points[0]
    rows: list[dict] = []
    for p in points:
        n = p["companies"]
        rows.append({
            "name": f"scale_refresh_{n}co", "value": p["seconds"], "unit": "s",
            "baseline": base["seconds"], "ratio": p["seconds"] / base["seconds"],
            "target": TARGET_SECONDS_500 if n == 500 else None, "better": "lower",
            "detail": (f"{n} synthetic companies, {p['annual_rows']:,} annual + "
                       f"{p['quarterly_rows']:,} quarterly figures; baseline = {base['companies']} "
                       f"companies; I/O floor of the same workbook {p['floor_seconds']:.1f} s "
                       f"(refresh = {p['seconds'] / p['floor_seconds']:.2f}x floor); first refresh "
                       f"(template -> universe) {p['first_seconds']:.1f} s"),
            **p,
        })
    for p in points:
        n = p["companies"]
        rows.append({
            "name": f"scale_peak_rss_{n}co", "value": p["peak_mb"], "unit": "MB",
            "baseline": base["peak_mb"], "ratio": p["peak_mb"] / base["peak_mb"], "target": None,
            "better": "lower",
            "detail": f"child process VmHWM; baseline = {base['companies']} companies",
        })
    sizes_ = [p["companies"] for p in points]
    exponent = growth_exponent(sizes_, [p["seconds"] for p in points])
    floor_exponent = growth_exponent(sizes_, [p["floor_seconds"] for p in points])
    mem_exponent = growth_exponent(sizes_, [p["peak_mb"] for p in points])
    rows.append({"name": "scale_time_growth_exponent", "value": exponent, "unit": "slope",
                 "baseline": 1.0, "ratio": exponent, "target": TARGET_EXPONENT, "better": "lower",
                 "detail": (f"log-log least squares of time vs companies over {sizes_}; the "
                            f"openpyxl I/O floor's exponent is {floor_exponent:.2f}")})
    rows.append({"name": "scale_memory_growth_exponent", "value": mem_exponent, "unit": "slope",
                 "baseline": 1.0, "ratio": mem_exponent, "target": None, "better": "lower",
                 "detail": "of whole-process peak RSS (includes the fixed interpreter/library base)"})
    over = exponent > TARGET_EXPONENT or points[-1]["seconds"] > TARGET_SECONDS_500
    if over:
        try:
            hot = profile_hotspots(min(PROFILE_COMPANIES, max(sizes_)))
        except Exception as exc:  # noqa: BLE001 - a failed profile must not lose the rows
            hot = [f"profile failed: {type(exc).__name__}: {exc}"]
        rows[len(points) - 1]["profile"] = hot
    return rows


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        _child(*sys.argv[2:])
        return 0
    rows = run()
    for r in rows:
        print(f"{r['name']:32} {r['value']:10.3f} {r['unit']:>6}  ratio {r['ratio']:6.2f}  "
              f"{r.get('detail', '')}")
        for line in r.get("profile", []):
            print("    " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
