"""``python -m aicapex refresh PATH``: headless refresh of a workbook, no Excel needed."""

from __future__ import annotations

import argparse
from pathlib import Path

from aicapex.commands._common import add_data_arguments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "refresh",
        help="reload data, recompute every formula and restamp a workbook (no Excel needed)",
        description="Writes the data tables, evaluates every formula (CPX_ functions through the "
        "same Python code Excel calls) and stores the results as cached values. The file is "
        "replaced atomically; the previous version is kept as <file>.bak.",
    )
    p.add_argument("path", type=Path, help="the analyst workbook (.xlsm or .xlsx)")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.add_argument("--keep-unsupported", action="store_true",
                   help="formulas the headless evaluator cannot compute keep Excel's cached "
                   "values (listed as not recomputed on Changes) instead of stopping the refresh")
    add_data_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aicapex.excel.headless import print_progress, refresh_file

    result = refresh_file(args.path, overrides=args.overrides,
                          progress=None if args.quiet else print_progress,
                          keep_unsupported=args.keep_unsupported)
    status = "OK" if result.master_check == 0 else f"FAILING ({result.master_check})"
    kept = (f", {result.not_recomputed:,} formulas not recomputed (cached values kept)"
            if result.not_recomputed else "")
    print(f"refreshed {result.path}: {result.formulas:,} formulas, {result.changes:,} changes, "
          f"master check {status}{kept}, {result.seconds:.1f} s")
    return 0
