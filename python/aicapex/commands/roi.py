"""``python -m aicapex roi``: realised-return proxies on capex per company and fiscal year.

Columns are those of :func:`aicapex.engine.roi.roi_table`: revenue, OCF, capex and D&A (USD
millions), their growth, capex and D&A growth minus revenue growth, the incremental return
ΔOCF_t / capex_{t-lag} and its payback. OCF is the proxy for operating income, which the data
set does not hold.
"""

from __future__ import annotations

import argparse

from aicapex.commands._common import (
    add_data_arguments,
    add_tickers_argument,
    dataset_from_args,
    parse_tickers,
)
from aicapex.commands._output import add_format_argument, write_frame
from aicapex.engine.roi import roi_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "roi",
        help="realised return on capex per company (incremental OCF per dollar of capex)",
        description="Per company and fiscal year: revenue, OCF, capex, D&A, their growth, capex "
        "and D&A growth minus revenue growth, incremental return (change in OCF over capex "
        "LAG years earlier) and payback years. Empty/n/a = missing input; nothing is filled.",
    )
    add_tickers_argument(p)
    p.add_argument(
        "--lag",
        type=int,
        default=1,
        help="years between capex and the OCF change credited to it (default: 1)",
    )
    p.add_argument("--from", dest="year_from", type=int, metavar="FY", help="first fiscal year")
    p.add_argument("--to", dest="year_to", type=int, metavar="FY", help="last fiscal year")
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ds = dataset_from_args(args)
    tickers = parse_tickers(ds, args.tickers)
    frame = roi_table(ds, tickers, lag=args.lag)
    if args.year_from is not None:
        frame = frame[frame["fiscal_year"] >= args.year_from]
    if args.year_to is not None:
        frame = frame[frame["fiscal_year"] <= args.year_to]
    write_frame(frame.reset_index(drop=True), args.format)
    return 0
