"""Whole-process refresh and export against the whole-process openpyxl floor.

Run as a script (``python bench/bench_process.py [--rounds N]``) or import and call
:func:`run`, which returns rows ``{name, value, unit, baseline, ratio, target}`` for a bench
runner.

``bench_refresh``/``bench_export`` time the work inside one warm interpreter. An analyst runs
``python -m aicapex refresh X.xlsm`` as a fresh process, which also pays the interpreter's
start-up and every import. This benchmark times whole processes:

- Value: ``python -m aicapex refresh BOOK --quiet`` (and ``python -m aicapex export BOOK
  --client ...``) on the analyst workbook of ``bench_refresh.prepare_workbook``.
- Baseline (the whole-process I/O floor), measured in the same run: a process that imports
  openpyxl, loads the same file (``keep_vba=True``) and saves it -- the least any
  openpyxl-based command pays for the same file.

The figure is **CPU time** (user + system, from ``os.wait4``) of each child process: the box is
shared by several engineers, and CPU time is what the process itself spends, while wall time
also counts waiting for a core. Rounds interleave floor, refresh and export so drift hits all
three; medians count (best and wall-time medians are in the row). Children run with
``PYTHONPATH`` pointing at the package this benchmark imported, so the figures are for this
checkout, and with its bytecode compiled first (:func:`compile_package`), as ``pip install``
and any first run leave it: a machine with ``PYTHONDONTWRITEBYTECODE=1`` (this one) would
otherwise recompile the ~90 modules of the package in every process, about 0.3 s that no
installed copy pays (openpyxl and pandas ship compiled in site-packages). Targets: each
<= 1.5x the floor.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_refresh import prepare_workbook, print_rows  # noqa: E402 - sibling module
from children import run_measured  # noqa: E402 - sibling module

ROUNDS = 7
TARGET_RATIO = 1.5
CHILD_TIMEOUT = 300.0

FLOOR_CODE = ("import sys, openpyxl; "
              "wb = openpyxl.load_workbook(sys.argv[1], keep_vba=True); wb.save(sys.argv[2])")


def compile_package() -> Path:
    """Write the package's bytecode cache (``__pycache__``, ignored by git), as ``pip install``
    does; returns the package folder."""
    import compileall

    import aicapex

    folder = Path(aicapex.__file__).resolve().parent
    compileall.compile_dir(str(folder), quiet=1)
    return folder


def child_env() -> dict[str, str]:
    """The environment of the timed children: this checkout's package first on the path."""
    import aicapex

    package_root = str(Path(aicapex.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
    env.pop("XLWINGS_ON_SERVER", None)  # the desktop/CLI configuration an analyst has
    return env


def timed_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds: user + system, wall seconds) of one child process; raises if it fails."""
    _, usage, wall = run_measured(cmd, env, CHILD_TIMEOUT, " ".join(cmd[:4]))
    return usage.ru_utime + usage.ru_stime, wall


def commands(book: Path, work: Path) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "floor": [py, "-c", FLOOR_CODE, str(book), str(work / f"floor{book.suffix}")],
        "refresh": [py, "-m", "aicapex", "refresh", str(book), "--quiet"],
        "export": [py, "-m", "aicapex", "export", str(book), "--client", "Bench Client",
                   "--out", str(work / "client.xlsx"), "--as-of", "2026-01-01"],
    }


def measure(book: Path, work: Path, rounds: int = ROUNDS) -> dict[str, dict[str, list[float]]]:
    """CPU and wall seconds of each command, interleaved round by round (one warm-up first)."""
    compile_package()
    env = child_env()
    cmds = commands(book, work)
    for cmd in cmds.values():  # warm: .pyc files, page cache, the first export's output
        timed_process(cmd, env)
    out: dict[str, dict[str, list[float]]] = {k: {"cpu": [], "wall": []} for k in cmds}
    for _ in range(rounds):
        for name, cmd in cmds.items():
            cpu, wall = timed_process(cmd, env)
            out[name]["cpu"].append(cpu)
            out[name]["wall"].append(wall)
    return out


def process_row(name: str, times: dict[str, dict[str, list[float]]], key: str,
                detail: str) -> dict:
    value = statistics.median(times[key]["cpu"])
    floor = statistics.median(times["floor"]["cpu"])
    return {
        "name": name, "value": value, "unit": "s CPU", "baseline": floor,
        "ratio": value / floor, "target": TARGET_RATIO, "target_on": "ratio",
        "better": "lower", "best": min(times[key]["cpu"]),
        "baseline_best": min(times["floor"]["cpu"]),
        "wall_median": statistics.median(times[key]["wall"]),
        "baseline_wall_median": statistics.median(times["floor"]["wall"]),
        "rounds": len(times[key]["cpu"]),
        "detail": f"{detail}; median CPU (user+sys) of {len(times[key]['cpu'])} interleaved "
                  f"rounds, best {min(times[key]['cpu']):.2f} s vs floor best "
                  f"{min(times['floor']['cpu']):.2f} s; wall medians "
                  f"{statistics.median(times[key]['wall']):.2f} s vs "
                  f"{statistics.median(times['floor']['wall']):.2f} s",
    }


def run(rounds: int = ROUNDS) -> list[dict]:
    """Benchmark rows (see the module docstring)."""
    work = Path(tempfile.mkdtemp(prefix="aicapex-bench-process-"))
    try:
        book = prepare_workbook(work)
        times = measure(book, work, rounds)
        floor = "process: import openpyxl, load(keep_vba) + save of the same file"
        return [
            process_row("process_refresh_vs_process_floor", times, "refresh",
                        f"`python -m aicapex refresh BOOK --quiet` vs a {floor}"),
            process_row("process_export_vs_process_floor", times, "export",
                        f"`python -m aicapex export BOOK --client ...` (no PDF) vs a {floor}"),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    print_rows(run(parser.parse_args().rounds))
