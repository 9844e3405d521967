"""Headless refresh of the analyst workbook against the I/O floor.

Run as a script (``python bench/bench_refresh.py``) or import and call :func:`run`, which
returns rows ``{name, value, unit, baseline, ratio, target}`` for a bench runner.

Workbook: the analyst template built from the bundled snapshot
(:func:`aicapex.excel.builder.build_analyst_workbook`, what ``python -m aicapex build
--template-only`` writes), refreshed once untimed so imports, the data cache and the file
itself are in their steady state.

- Value: :func:`aicapex.excel.headless.refresh_file` on that workbook (data load and checks,
  plan, every formula evaluated, Changes, save, cached values stamped, atomic replace);
  ``backup=False``, the same file each round.
- Baseline (the I/O floor), measured in the same run: ``openpyxl.load_workbook(keep_vba=True)``
  of the same file and ``save`` to a temporary file — what any openpyxl-based tool pays to
  open and write the workbook without changing anything.

Rounds alternate floor and refresh so drift hits both; the medians count (the best of each is
kept in the row). Target: refresh <= 1.5x the floor. Over target, one extra refresh runs
under cProfile and the row's ``profile`` lists where the time beyond the floor goes.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

try:
    import aicapex  # noqa: F401
except ModuleNotFoundError:  # running from a checkout without the editable install
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

ROUNDS = 7
TARGET_RATIO = 1.5

#: Where a refresh spends its time: label -> (file suffix, function name) in cProfile terms.
REFRESH_PHASES = {
    "load_workbook (excel/fast_load.py; floor: openpyxl's)": ("aicapex/excel/fast_load.py",
                                                               "load_workbook"),
    "save_with_cached_values (excel/stamped_save.py; floor: openpyxl's save)": (
        "aicapex/excel/stamped_save.py", "save_with_cached_values"),
    "evaluate_workbook (formula/interpreter.py)": ("aicapex/formula/interpreter.py",
                                                   "evaluate_workbook"),
    "apply_to_openpyxl (excel/refresh.py)": ("aicapex/excel/refresh.py", "apply_to_openpyxl"),
    "read_values, calamine (excel/headless.py)": ("aicapex/excel/headless.py", "read_values"),
    "plan_refresh (excel/refresh.py)": ("aicapex/excel/refresh.py", "plan_refresh"),
    "dataset_for_refresh (excel/refresh.py)": ("aicapex/excel/refresh.py", "dataset_for_refresh"),
    "value_changes (excel/refresh.py)": ("aicapex/excel/refresh.py", "value_changes"),
    "Changes table (excel/refresh.py)": ("aicapex/excel/refresh.py", "_write_table_openpyxl"),
    "update_chart_caches (excel/refresh.py)": ("aicapex/excel/refresh.py", "update_chart_caches"),
    "check_workbook_file (excel/headless.py)": ("aicapex/excel/headless.py", "check_workbook_file"),
}


# -- shared with bench_export / bench_peers ---------------------------------------------------


def prepare_workbook(work: Path) -> Path:
    """Build the analyst template into ``work`` and refresh it once (warm); returns its path."""
    from aicapex.data.dataset import load_dataset
    from aicapex.excel.builder import build_analyst_workbook
    from aicapex.excel.headless import refresh_file

    path = Path(work) / "ai_capex_monitor.xlsm"
    build_analyst_workbook(path, load_dataset(None))
    refresh_file(path, overrides=None, backup=False)
    return path


def io_floor(path: Path, out_dir: Path) -> None:
    """openpyxl load (VBA kept) and save of ``path``: the I/O floor."""
    import openpyxl

    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb.save(Path(out_dir) / f"floor{path.suffix}")


def interleaved(fns: dict[str, Callable[[], object]], rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Seconds per call of each function, the functions alternating within every round."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def profile_phases(fn: Callable[[], object], phases: dict[str, tuple[str, str]],
                   root: tuple[str, str]) -> list[str]:
    """Run ``fn`` once under cProfile; each phase's cumulative time and share of ``root``.

    cProfile inflates Python-heavy code more than C code; read the shares, not the seconds.
    Phases can nest (a save inside an atomic write), so shares need not add up to 100%.
    """
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    return phases_from_stats(pstats.Stats(prof), phases, root)


def phases_from_stats(stats, phases: dict[str, tuple[str, str]], root: tuple[str, str],
                      top_own: int = 3) -> list[str]:
    """Phase lines (see :func:`profile_phases`) from a ``pstats.Stats``, then the
    ``top_own`` functions with the most own time."""
    raw = stats.stats

    def cum(file_suffix: str, func: str) -> float:
        return sum(v[3] for (f, _line, name), v in raw.items()
                   if name == func and f.replace(os.sep, "/").endswith(file_suffix))

    total = cum(*root) or 1e-9
    rows = sorted(((label, cum(*where)) for label, where in phases.items()),
                  key=lambda kv: kv[1], reverse=True)
    lines = [f"{label}: {seconds:.3f} s ({seconds / total:.0%})" for label, seconds in rows
             if seconds >= 0.0005]
    udfs = sorted(((name, v) for (f, _line, name), v in raw.items()
                   if name.startswith("cpx_") and "aicapex/udfs/" in f.replace(os.sep, "/")),
                  key=lambda kv: kv[1][3], reverse=True)[:3]
    for name, v in udfs:
        lines.append(f"CPX function {name.upper()}: {v[3]:.3f} s ({v[3] / total:.0%}) in "
                     f"{v[1]:,} calls")
    own = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top_own]
    for (f, line, name), v in own:
        short = f.replace(os.sep, "/").split("site-packages/")[-1].split("/python/")[-1]
        lines.append(f"top own time: {short}:{line}({name}) {v[2]:.3f} s, {v[1]:,} calls")
    lines.append(f"total under cProfile: {total:.3f} s (inflated; read the shares)")
    return lines


def ratio_row(name: str, times: dict[str, list[float]], value_key: str, floor_key: str,
              target: float, detail: str) -> dict:
    value = statistics.median(times[value_key])
    floor = statistics.median(times[floor_key])
    return {"name": name, "value": value, "unit": "s", "baseline": floor,
            "ratio": value / floor, "target": target, "target_on": "ratio", "better": "lower",
            "best": min(times[value_key]), "baseline_best": min(times[floor_key]),
            "rounds": len(times[value_key]), "detail": detail}


# -- this benchmark ---------------------------------------------------------------------------


def run() -> list[dict]:
    """Benchmark rows (see the module docstring)."""
    from aicapex.excel.headless import refresh_file

    work = Path(tempfile.mkdtemp(prefix="aicapex-bench-refresh-"))
    try:
        book = prepare_workbook(work)
        result = refresh_file(book, backup=False)
        times = interleaved({
            "floor": lambda: io_floor(book, work),
            "refresh": lambda: refresh_file(book, backup=False),
        })
        row = ratio_row("refresh_analyst_vs_io_floor", times, "refresh", "floor", TARGET_RATIO,
                        f"{result.formulas:,} formulas; floor = openpyxl load(keep_vba) + save "
                        "of the same file; median of alternating rounds")
        row["formulas"] = result.formulas
        if row["ratio"] > TARGET_RATIO:
            row["profile"] = profile_phases(lambda: refresh_file(book, backup=False),
                                            REFRESH_PHASES,
                                            ("aicapex/excel/headless.py", "refresh_file"))
        return [row]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_rows(rows: list[dict]) -> None:
    for r in rows:
        print(f"{r['name']:40} {r['value']:8.3f} {r['unit']}  baseline {r['baseline']:8.3f}  "
              f"ratio {r['ratio']:6.2f}  target {r['target']}  {r.get('detail', '')}")
        for line in r.get("profile", []):
            print("    " + line)


if __name__ == "__main__":
    print_rows(run())
