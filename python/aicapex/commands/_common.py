"""Arguments shared by several commands."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the data layer (pandas) is imported when a command runs, not to parse
    from aicapex.data.dataset import Dataset

__all__ = ["add_data_arguments", "add_tickers_argument", "covered_tickers", "dataset_from_args",
           "parse_tickers", "print_notes"]


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overrides",
        metavar="DIR",
        help="folder of CSV / companyfacts JSON files that add to or override the bundled "
        "snapshot and the fetched SEC data (default: $AICAPEX_OVERRIDES if set)",
    )
    parser.add_argument(  # applied around the whole command by aicapex.cli.main
        "--allow-outliers",
        action="store_true",
        help="accept override figures more than 20x above or below the company's nearest "
        "reported period (never non-finite values or more than $10 trillion)",
    )


def add_tickers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tickers",
        metavar="T1,T2",
        help="comma-separated tickers (default: every covered company)",
    )


def parse_tickers(ds: Dataset, text: str | None) -> list[str]:
    if not text:
        return ds.tickers
    return [ds.check_ticker(t) for t in text.split(",") if t.strip()]


def print_notes(ds: Dataset) -> Dataset:
    """Print the dataset's notices (e.g. SEC data kept from an earlier fetch) on stderr."""
    for note in ds.notes:
        print(note, file=sys.stderr)
    return ds


def dataset_from_args(args: argparse.Namespace) -> Dataset:
    from aicapex.data.dataset import load_dataset

    return print_notes(load_dataset(getattr(args, "overrides", None)))


def covered_tickers() -> list[str]:
    """The companies ``fetch --all-covered`` and ``refresh --online`` fetch
    (:func:`aicapex.data.sec.covered_tickers`)."""
    from aicapex.data.sec import covered_tickers as covered

    return covered()
