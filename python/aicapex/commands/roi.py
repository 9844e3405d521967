"""``python -m aicapex roi``: realised-return proxies on capex per company and fiscal year.

Columns are those of :func:`aicapex.engine.roi.roi_table`: revenue, OCF, capex and D&A (USD
millions), their growth, capex and D&A growth minus revenue growth, the incremental return
ΔOCF_t / capex_{t-lag} and its payback. OCF is the proxy for operating income, which the data
set does not hold.

``--view gap`` is the "$600B question" (:func:`aicapex.engine.roi.revenue_gap_table`): in mode
``capex`` the AI peers' total capex x 1 / margin for every fiscal year from ``--base-year``, set
against cloud-segment revenue growth since that year (an upper-bound proxy for AI revenue,
labelled); in mode ``sequoia`` accelerator spend (``--spend``, USD m; Sequoia used ~150,000) x 2
/ margin.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aicapex.commands._common import (
    add_data_arguments,
    add_tickers_argument,
    dataset_from_args,
    parse_tickers,
)
from aicapex.commands._output import add_format_argument, write_frame
from aicapex.errors import ArgumentError

if TYPE_CHECKING:
    import pandas as pd

#: The AI peers of the "$600B question" (AAPL is the control company, outside the aggregate).
GAP_PEERS = "MSFT,GOOGL,AMZN,META,ORCL"


def register(sub: argparse._SubParsersAction) -> None:
    from aicapex.engine.roi import REVENUE_GAP_MODES  # the modes are the engine's

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
    p.add_argument("--view", choices=("returns", "gap"), default="returns",
                   help="returns (default: per company) or gap (the $600B question)")
    p.add_argument("--mode", choices=tuple(REVENUE_GAP_MODES), default="capex",
                   help="gap view: capex (total capex x 1 / margin, default) or sequoia "
                   "(accelerator spend x 2 / margin; needs --spend)")
    p.add_argument("--spend", type=float,
                   help="gap view, mode sequoia: accelerator spend a year, USD m (Sequoia: 150000)")
    p.add_argument("--base-year", type=int, default=2022,
                   help="gap view: first fiscal year and the base of cloud revenue growth "
                   "(default: 2022, the last fiscal year before ChatGPT)")
    p.add_argument("--margin", type=float, default=0.5,
                   help="gap view: end-customer gross margin (default: 0.5, Sequoia)")
    p.add_argument("--life-years", type=float, default=1.0,
                   help="gap view: years a year's spend must be earned back over (default: 1, "
                   "Sequoia's year-for-year framing)")
    p.add_argument("--from", dest="year_from", type=int, metavar="FY", help="first fiscal year")
    p.add_argument("--to", dest="year_to", type=int, metavar="FY", help="last fiscal year")
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def gap_frame(args: argparse.Namespace) -> pd.DataFrame:
    """The $600B question: per fiscal year (mode capex) or for the given spend (mode sequoia)."""
    import pandas as pd

    from aicapex.engine.roi import (
        GAP_COLUMNS,
        REVENUE_GAP_MODES,
        SEQUOIA_SOURCE,
        required_ai_revenue,
        revenue_gap_table,
    )

    if args.mode == "sequoia":
        if args.spend is None:
            raise ArgumentError("mode sequoia needs the accelerator spend: --spend USD m (the "
                                "data set has no accelerator spend; Sequoia used 150000)")
        req = float(required_ai_revenue(args.spend, "sequoia", args.margin, args.life_years))
        return pd.DataFrame([{
            "fiscal_year": None, "mode": "sequoia", "spend": args.spend,
            "cost_multiple": REVENUE_GAP_MODES["sequoia"], "margin": args.margin,
            "life_years": args.life_years, "required_revenue": req, "ai_revenue": None,
            "gap": None, "ai_revenue_label": "not estimated: " + SEQUOIA_SOURCE,
        }], columns=GAP_COLUMNS)
    ds = dataset_from_args(args)
    tickers = parse_tickers(ds, args.tickers or GAP_PEERS)
    return revenue_gap_table(ds, tickers, args.base_year, args.margin, args.life_years)


def run(args: argparse.Namespace) -> int:
    from aicapex.engine.roi import roi_table

    if args.view == "gap":
        frame = gap_frame(args)
    else:
        ds = dataset_from_args(args)
        frame = roi_table(ds, parse_tickers(ds, args.tickers), lag=args.lag)
    if args.year_from is not None and frame["fiscal_year"].notna().all():
        frame = frame[frame["fiscal_year"] >= args.year_from]
    if args.year_to is not None and frame["fiscal_year"].notna().all():
        frame = frame[frame["fiscal_year"] <= args.year_to]
    write_frame(frame.reset_index(drop=True), args.format)
    return 0
