"""``python -m aicapex metrics``: one row per ticker × fiscal year × metric, with definitions."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from aicapex.commands._common import add_data_arguments, add_tickers_argument, dataset_from_args
from aicapex.commands._output import add_format_argument, write_frame

if TYPE_CHECKING:
    import pandas as pd


def add_capex_basis_argument(parser: argparse.ArgumentParser) -> None:
    from aicapex.engine.definitions import CAPEX_BASES, CAPEX_BASIS_RULES, DEFAULT_CAPEX_BASIS

    rules = "; ".join(f"{b}: {r}" for b, r in CAPEX_BASIS_RULES.items())
    parser.add_argument("--capex-basis", choices=CAPEX_BASES, default=DEFAULT_CAPEX_BASIS,
                        help=f"capex basis (default: {DEFAULT_CAPEX_BASIS}). {rules}")


def register(sub: argparse._SubParsersAction) -> None:
    from aicapex.engine.company_metrics import DEFAULT_METRICS, METRICS  # named in the help

    p = sub.add_parser(
        "metrics",
        help="capex metrics per company and fiscal year, with their definitions",
        description="Print columns ticker,fiscal_year,metric,value,unit,basis,definition,note "
        "(value in USD millions for money metrics, a fraction for ratios; empty = missing, and "
        "note says why). FCF is each company's own definition. The ticker PEER (or --peer) "
        "gives the AI-peer aggregate: ratio of sums over MSFT, GOOGL, AMZN, META and ORCL "
        "(AAPL is the control company, never inside it), with its members listed.",
    )
    add_tickers_argument(p)
    p.add_argument(
        "--metrics",
        metavar="M1,M2",
        help=f"comma-separated metrics (default: {','.join(DEFAULT_METRICS)}; "
        f"available: {','.join(METRICS)}, or any reported field such as capex, ocf, revenue)",
    )
    p.add_argument("--from", dest="year_from", type=int, metavar="FY", help="first fiscal year")
    p.add_argument("--to", dest="year_to", type=int, metavar="FY", help="last fiscal year")
    add_capex_basis_argument(p)
    p.add_argument("--peer", action="store_true",
                   help="print the peer aggregate over --tickers (default: the AI peers) "
                   "instead of the companies")
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from aicapex.engine.company_metrics import PEER_COLUMNS, metrics_long, peer_long
    from aicapex.engine.definitions import PEER

    ds = dataset_from_args(args)
    names = [s.strip() for s in args.metrics.split(",") if s.strip()] if args.metrics else None
    given = [t.strip() for t in args.tickers.split(",") if t.strip()] if args.tickers else None
    years = (args.year_from, args.year_to)
    if args.peer:
        frame = peer_long(ds, given, names, years, args.capex_basis)
    else:
        companies = [t for t in (given or ds.tickers) if t.upper() != PEER]
        parts = [metrics_long(ds, companies, names, years, args.capex_basis)] if companies else []
        if given and any(t.upper() == PEER for t in given):
            parts.append(peer_long(ds, None, names, years, args.capex_basis))
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        if len(parts) > 1:
            frame = frame[PEER_COLUMNS]
    write_metrics(frame, args.format)
    return 0


def write_metrics(frame: pd.DataFrame, fmt: str) -> None:
    """csv/json: every column. table: the numbers, then each definition and note once."""
    if fmt != "table":
        write_frame(frame, fmt)
        return
    shown = [c for c in frame.columns if c not in ("definition", "note", "members")]
    write_frame(frame[shown], fmt)
    out = sys.stdout
    if "members" in frame and frame["members"].notna().any():
        out.write(f"\nPEER members: {frame['members'].dropna().iloc[0]}\n")
    defs = frame.drop_duplicates(["ticker", "metric"])
    out.write("\nDefinitions:\n")
    for r in defs.itertuples(index=False):
        out.write(f"  {r.ticker} {r.metric}: {r.definition}\n")
    notes = frame[frame["note"].astype(bool)]
    if not notes.empty:
        out.write("\nNotes:\n")
        for r in notes.itertuples(index=False):
            out.write(f"  {r.ticker} FY{r.fiscal_year} {r.metric}: {r.note}\n")
