"""``python -m aicapex fetch``: download SEC companyfacts into the local cache."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from aicapex.commands._common import covered_tickers
from aicapex.errors import ArgumentError

if TYPE_CHECKING:
    from aicapex.data.sec import FetchReport


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fetch",
        help="download the latest SEC filings data (companyfacts) into the local cache",
        description="Downloads each company's SEC companyfacts JSON into the cache that every "
        "data command reads ($AICAPEX_CACHE_DIR; the snapshot < fetched filings < overrides). "
        "Needs AICAPEX_SEC_USER_AGENT (your name and e-mail). A company that fails keeps its "
        "earlier copy; each failure prints one line and the exit code is non-zero.",
    )
    p.add_argument("--tickers", metavar="T1,T2",
                   help="comma-separated tickers (any SEC filer; resolved via the SEC ticker map)")
    p.add_argument("--cik", type=_cik, action="append", default=[], metavar="N",
                   help="a company's SEC CIK number (repeat for several)")
    p.add_argument("--all-covered", action="store_true",
                   help="every covered company: the snapshot's and those fetched before")
    p.set_defaults(func=run)


def _cik(text: str) -> int:
    digits = text.strip().upper().removeprefix("CIK")
    if not digits.isdigit() or not 0 < int(digits) < 10**10:
        raise argparse.ArgumentTypeError(f"{text!r} is not a CIK number (e.g. 1769628)")
    return int(digits)


def run(args: argparse.Namespace) -> int:
    tickers = [t for t in (args.tickers or "").split(",") if t.strip()]
    if args.all_covered:
        tickers += covered_tickers()
    if not tickers and not args.cik:
        raise ArgumentError("nothing to fetch: give --tickers, --cik or --all-covered")
    report = fetch_and_print(tickers, args.cik)
    return 1 if report.failed else 0


def fetch_and_print(tickers: list[str], ciks: list[int]) -> FetchReport:
    """Fetch and print one line per company: successes on stdout, failures on stderr."""
    from aicapex.data.sec import fetch

    report = fetch(tickers, ciks)
    for o in report.outcomes:
        label = o.target.ticker + (f" (CIK {o.target.cik})" if o.target.cik else "")
        if o.status == "failed":
            print(f"error: {label}: {o.message}; earlier data kept", file=sys.stderr)
        else:
            print(f"{label}: {o.status}: {o.message}")
    return report
