"""``python -m aicapex metrics``: one row per ticker × fiscal year × metric."""

from __future__ import annotations

import argparse

from aicapex.commands._common import (
    add_data_arguments,
    add_tickers_argument,
    dataset_from_args,
    parse_tickers,
)
from aicapex.commands._output import add_format_argument, write_frame
from aicapex.engine.company_metrics import DEFAULT_METRICS, METRICS, metrics_long


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metrics",
        help="capex metrics per company and fiscal year",
        description="Print columns ticker,fiscal_year,metric,value (value in USD millions for "
        "money metrics, a fraction for ratios; empty = missing input).",
    )
    add_tickers_argument(p)
    p.add_argument(
        "--metrics",
        metavar="M1,M2",
        help=f"comma-separated metrics (default: {','.join(DEFAULT_METRICS)}; "
        f"available: {','.join(METRICS)})",
    )
    p.add_argument("--from", dest="year_from", type=int, metavar="FY", help="first fiscal year")
    p.add_argument("--to", dest="year_to", type=int, metavar="FY", help="last fiscal year")
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ds = dataset_from_args(args)
    tickers = parse_tickers(ds, args.tickers)
    names = [s.strip() for s in args.metrics.split(",")] if args.metrics else None
    frame = metrics_long(ds, tickers, names, (args.year_from, args.year_to))
    write_frame(frame, args.format)
    return 0
