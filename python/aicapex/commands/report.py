"""``python -m aicapex report``: the report's findings per company, recomputed from filings."""

from __future__ import annotations

import argparse

from aicapex.commands._common import (
    add_data_arguments,
    add_tickers_argument,
    dataset_from_args,
    parse_tickers,
)
from aicapex.commands._output import add_format_argument, write_frame
from aicapex.engine.findings import company_findings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="latest capex/OCF, FCF, D&A/revenue and 'highest since' findings per company",
    )
    add_tickers_argument(p)
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ds = dataset_from_args(args)
    frame = company_findings(ds, parse_tickers(ds, args.tickers))
    if args.format == "table":
        for line in frame["finding"]:
            print(line)
        print()
    write_frame(frame.drop(columns=["finding"]) if args.format == "table" else frame, args.format)
    return 0
