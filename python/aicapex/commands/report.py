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
from aicapex.commands.metrics import add_capex_basis_argument


def table_columns() -> list[str]:
    """Columns the table view prints under the sentences (definitions follow as text)."""
    from aicapex.engine.findings import FINDING_COLUMNS

    return FINDING_COLUMNS[: FINDING_COLUMNS.index("finding")] + ["role"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="latest capex/OCF, FCF, D&A/revenue and where each stands (record high, highest "
        "since FY…, below the FY… peak) per company and for the AI peers",
        description="One row per company for its latest fiscal year, then the AI-peer "
        "aggregate (PEER: ratio of sums over the AI peers among --tickers; AAPL is the "
        "control company, reported on its own). FCF is each company's own definition; the "
        "definitions and any basis break a comparison crosses are stated.",
    )
    add_tickers_argument(p)
    add_capex_basis_argument(p)
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aicapex.engine.findings import company_findings

    ds = dataset_from_args(args)
    frame = company_findings(ds, parse_tickers(ds, args.tickers), basis=args.capex_basis,
                             peer=True)
    if args.format != "table":
        write_frame(frame, args.format)
        return 0
    for line in frame["finding"]:
        print(line)
    print()
    table = frame[table_columns()].copy()
    for col in ("capex_to_ocf_highest_since", "da_to_revenue_highest_since"):
        table[col] = table[col].map(lambda v: "n/a" if v is None else v)  # None prints "None"
    write_frame(table, args.format)
    print(f"\nDefinitions (capex basis {args.capex_basis}):")
    for r in frame.itertuples(index=False):
        print(f"  {r.ticker} FCF: {r.fcf_definition}")
        print(f"  {r.ticker} D&A: {r.da_definition}")
        print(f"  {r.ticker} debt issued: {r.debt_definition}")
        print(f"  {r.ticker} lease ratio: {r.lease_definition}")
    return 0
