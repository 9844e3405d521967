"""Client export against the I/O floor.

Run as a script (``python bench/bench_export.py``) or import and call :func:`run`, which
returns rows ``{name, value, unit, baseline, ratio, target}`` for a bench runner.

Workbook: the refreshed analyst workbook (template from the bundled snapshot, refreshed
once; see ``bench_refresh.prepare_workbook``).

- Value: :func:`aicapex.excel.export.export_client_copy` (load, formulas kept or turned into
  values, scrub, Cover and print setup, save, cached values stamped, the leak check
  :func:`~aicapex.excel.export.verify_client_copy`, atomic replace); no PDF.
- Baseline (the I/O floor), measured in the same run: openpyxl load (``keep_vba=True``) and
  save of the same analyst file, as in ``bench_refresh``.

Rounds alternate floor and export; medians count. Target: export <= 1.5x the floor. Over
target, one extra export runs under cProfile and the row's ``profile`` says where the time
beyond the floor goes.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_refresh import (  # noqa: E402 - the sibling module, importable as a script too
    interleaved,
    io_floor,
    prepare_workbook,
    print_rows,
    profile_phases,
    ratio_row,
)

TARGET_RATIO = 1.5

EXPORT_PHASES = {
    "openpyxl load_workbook (floor)": ("openpyxl/reader/excel.py", "load_workbook"),
    "openpyxl save (floor)": ("openpyxl/workbook/workbook.py", "save"),
    "read_cached_values, 2nd full read (excel/cached.py)": ("aicapex/excel/cached.py",
                                                            "read_cached_values"),
    "_convert_cells (excel/export.py)": ("aicapex/excel/export.py", "_convert_cells"),
    "stamp_cached_values (excel/cached.py)": ("aicapex/excel/cached.py", "stamp_cached_values"),
    "verify_client_copy (excel/export.py)": ("aicapex/excel/export.py", "verify_client_copy"),
    "_scrub (excel/export.py)": ("aicapex/excel/export.py", "_scrub"),
    "_print_setup (excel/export.py)": ("aicapex/excel/export.py", "_print_setup"),
    "_write_cover (excel/export.py)": ("aicapex/excel/export.py", "_write_cover"),
    "_check_input (excel/export.py)": ("aicapex/excel/export.py", "_check_input"),
}


def run() -> list[dict]:
    """Benchmark rows (see the module docstring)."""
    from aicapex.excel.export import export_client_copy

    work = Path(tempfile.mkdtemp(prefix="aicapex-bench-export-"))
    try:
        book = prepare_workbook(work)
        out = work / "client.xlsx"

        def export() -> None:
            export_client_copy(book, "Bench Client", out, as_of="2026-01-01")

        export()  # warm
        times = interleaved({"floor": lambda: io_floor(book, work), "export": export})
        row = ratio_row("export_client_vs_io_floor", times, "export", "floor", TARGET_RATIO,
                        "client .xlsx from the refreshed analyst .xlsm (no PDF); floor = openpyxl "
                        "load(keep_vba) + save of the analyst file")
        if row["ratio"] > TARGET_RATIO:
            row["profile"] = profile_phases(export, EXPORT_PHASES,
                                            ("aicapex/excel/export.py", "export_client_copy"))
        return [row]
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print_rows(run())
