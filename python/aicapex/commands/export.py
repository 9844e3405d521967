"""``python -m aicapex export``: the client copy (.xlsx, optionally PDF) of the analyst workbook.

The copy has no macros, buttons, xlwings.conf sheet, comments, external links, hidden
rows or hidden/constant names, and carries the client-copy mark the refresh refuses; engine (CPX_) results become values, portable native formulas stay with their cached
results, and a forced LibreOffice recalculation reproduces every cell. It is refused while
the master check ``chk_Master`` is not 0 unless ``--force`` is given (Cover then says
"CHECKS FAILING"). See :mod:`aicapex.excel.export`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write the client copy (.xlsx, optionally PDF) of the analyst workbook",
        description="Write a clean client .xlsx from the refreshed analyst .xlsm: no macros, "
        "buttons, xlwings.conf, comments, external links or hidden rows; CPX_ results as "
        "values, portable native formulas kept with cached results. Default name "
        "AI_Capex_Monitor_<Client>_<YYYY-MM-DD>.xlsx next to the input; the previous file is "
        "kept as <name>.bak. Never written over: the source itself, a file that is not a client "
        "copy made by this command, a file open in Excel. Refused: hidden sheets, and hidden "
        "rows or columns holding content; hidden or constant defined names are dropped with a "
        "warning.",
    )
    p.add_argument("path", metavar="PATH", help="the analyst workbook (.xlsm)")
    p.add_argument("--client", required=True, metavar="NAME",
                   help="client name for Cover and the file name")
    p.add_argument("--out", metavar="FILE",
                   help="output .xlsx file or folder (default: next to PATH)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD",
                   help="as-of date in the file name and on the Cover (default: the "
                   "workbook's in_AsOf, the newest fiscal year end in its data)")
    p.add_argument("--pdf", action="store_true", help="also render a PDF with LibreOffice")
    p.add_argument("--force", action="store_true",
                   help="export although checks fail; Cover says CHECKS FAILING")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aicapex.excel.collector import collector_paused

    with collector_paused():  # one workbook model, alive to the end: nothing to collect
        return export(args)


def export(args: argparse.Namespace) -> int:
    """The command itself."""
    from aicapex.excel.export import export_client_copy

    out = export_client_copy(
        Path(args.path),
        args.client,
        Path(args.out) if args.out else None,
        force=args.force,
        pdf=args.pdf,
        as_of=args.as_of,
        warn=lambda message: print(f"warning: {message}", file=sys.stderr),
    )
    print(out)
    if args.pdf:
        print(out.with_suffix(".pdf"))
    return 0
