"""Arguments shared by several commands."""

from __future__ import annotations

import argparse

from aicapex.data.dataset import Dataset, load_dataset


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overrides",
        metavar="DIR",
        help="folder of CSV / companyfacts JSON files that add to or override the bundled "
        "snapshot (default: $AICAPEX_OVERRIDES if set)",
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


def dataset_from_args(args: argparse.Namespace) -> Dataset:
    return load_dataset(getattr(args, "overrides", None))
