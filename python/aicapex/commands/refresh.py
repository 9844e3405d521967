"""``python -m aicapex refresh PATH``: headless refresh of a workbook, no Excel needed.

Exit codes: 0 refreshed and every check passes; 1 refreshed, but ``--online`` could not fetch
every company; 2 an error, nothing written (one ``error:`` line); :data:`EXIT_CHECKS_FAILING`
(3) refreshed, but the master check fails or could not be computed (this wins over 1); 130
interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aicapex.commands._common import add_data_arguments

#: Exit code of a refresh that completed but whose master check is not OK.
EXIT_CHECKS_FAILING = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "refresh",
        help="reload data, recompute every formula and restamp a workbook (no Excel needed)",
        description="Writes the data tables, evaluates every formula (CPX_ functions through the "
        "same Python code Excel calls) and stores the results as cached values. The file is "
        "replaced atomically; the previous version is kept as <file>.bak. Refused: a workbook "
        "open in Excel, being refreshed or exported by another run, or saved while the refresh "
        "ran (nothing is written). Exit code 0: refreshed, checks pass; 1: refreshed, an --online "
        "fetch failed; 2: error, nothing written; 3: refreshed, master check failing.",
    )
    p.add_argument("path", type=Path, help="the analyst workbook (.xlsm or .xlsx)")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.add_argument("--keep-unsupported", action="store_true",
                   help="formulas the headless evaluator cannot compute keep Excel's cached "
                   "values (listed as not recomputed on Changes) instead of stopping the refresh")
    p.add_argument("--online", action="store_true",
                   help="first fetch the covered companies' latest SEC data (as `fetch "
                   "--all-covered`; needs AICAPEX_SEC_USER_AGENT); a company that fails keeps "
                   "its earlier data, the refresh goes on and the exit code is 1")
    add_data_arguments(p)
    p.set_defaults(func=run)


def workbook_coverage(path: Path) -> list[str]:
    """The tickers typed into the workbook's coverage slots (Inputs), so that a company an
    analyst added is fetched too."""
    from aicapex.excel.headless import read_values
    from aicapex.excel.refresh import coverage_in

    try:
        return [t for t in coverage_in(read_values(path)) if t]
    except Exception:  # noqa: BLE001 - an unreadable file is reported by the refresh itself
        return []


def run(args: argparse.Namespace) -> int:
    from aicapex.excel.collector import collector_paused

    with collector_paused():  # imports and the refresh: nothing to collect until it is done
        return refresh(args)


def refresh(args: argparse.Namespace) -> int:
    """The command itself (see the module docstring for its exit codes)."""
    from aicapex.commands._common import print_notes
    from aicapex.data.dataset import current_dataset
    from aicapex.excel.headless import check_workbook_file, print_progress, refresh_file

    fetch_failed = False
    if args.online:
        from aicapex.commands._common import covered_tickers
        from aicapex.commands.fetch import fetch_and_print

        check_workbook_file(args.path)  # a wrong path fails before any download
        tickers = list(dict.fromkeys(covered_tickers() + workbook_coverage(args.path)))
        fetch_failed = bool(fetch_and_print(tickers, []).failed)
    result = refresh_file(args.path, overrides=args.overrides,
                          progress=None if args.quiet else print_progress,
                          keep_unsupported=args.keep_unsupported)
    print_notes(current_dataset(args.overrides))
    ok, status = result.master_status
    kept = (f", {result.not_recomputed:,} formulas not recomputed (cached values kept)"
            if result.not_recomputed else "")
    print(f"refreshed {result.path}: {result.formulas:,} formulas, {result.changes:,} changes, "
          f"master check {status}{kept}, {result.seconds:.1f} s")
    report_engine_errors(result.engine_errors)
    if not ok:
        return EXIT_CHECKS_FAILING
    return 1 if fetch_failed else 0


def report_engine_errors(errors: list[str], limit: int = 10) -> None:
    """Name the cells that fail the master check with an engine error (not a documented gap),
    on stderr: where to look first."""
    for line in errors[:limit]:
        print(f"failing: {line}", file=sys.stderr)
    if len(errors) > limit:
        print(f"failing: ... and {len(errors) - limit:,} more cells", file=sys.stderr)
