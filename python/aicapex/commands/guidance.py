"""``python -m aicapex guidance``: management's capex guidance, one row per revision.

Columns (``--view revisions``, the default) are exactly ``ticker, guided_fiscal_year,
date_given, low_musd, high_musd, point_musd, mid_musd, basis, statement, source``: the file's
words and both sources, nothing converted. ``--view latest`` gives the latest guide per year
next to the last reported year on the same basis and the guided growth; ``--view outcome``
the first and latest guide against the reported outcome. Basis differences (META incl.
finance-lease principal, AMZN cash capex, MSFT incl. finance leases, MSFT's calendar-2026
figure) are converted or flagged in ``basis_note``, never mixed.
"""

from __future__ import annotations

import argparse

from aicapex.commands._common import add_data_arguments, add_tickers_argument, dataset_from_args
from aicapex.commands._output import add_format_argument, write_frame

VIEWS = ("revisions", "latest", "outcome")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "guidance",
        help="management's capex guidance: every revision, the latest guide, guide vs outcome",
        description="Capex guidance from earnings calls and releases (two sources per row), in "
        "USD millions. A range fills low/high, a single figure point; qualitative guidance "
        "keeps its words in statement with the numbers empty.",
    )
    add_tickers_argument(p)
    p.add_argument("--year", metavar="FY", help="one guided year: 2026, FY2026 or CY2026")
    p.add_argument("--view", choices=VIEWS, default="revisions",
                   help="revisions (default: one row per statement), latest (latest guide per "
                   "year vs last actual, guided growth) or outcome (guide vs reported)")
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aicapex.data.guidance import snapshot_guidance
    from aicapex.engine.guidance import guidance_vs_outcome, latest_guidance, revisions

    table = snapshot_guidance()
    tickers = ([t.strip().upper() for t in args.tickers.split(",") if t.strip()]
               if args.tickers else None)
    if args.view == "revisions":
        frame = revisions(table, tickers, args.year)
    else:
        ds = dataset_from_args(args)
        if args.view == "latest":
            frame = latest_guidance(table, ds, tickers, args.year)
        else:
            frame = guidance_vs_outcome(table, ds, tickers)
            if args.year is not None:
                label = revisions(table, tickers, args.year)["guided_fiscal_year"].iloc[0]
                frame = frame[frame["guided_fiscal_year"] == label]
    write_frame(frame.reset_index(drop=True), args.format)
    return 0
