"""Shared ``--format table|csv|json`` handling for commands that print a table."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "csv", "json")


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="output format (default: table)",
    )


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN: a missing figure is null
    if hasattr(value, "item"):
        return _json_safe(value.item())
    return value


def write_frame(frame: pd.DataFrame, fmt: str, out: TextIO | None = None) -> None:
    """Print ``frame`` (no index) as an aligned table, CSV or a JSON list of records.

    Missing values print as an empty field in CSV, ``null`` in JSON and ``n/a`` in a table.
    """
    out = out or sys.stdout
    if fmt == "csv":
        frame.to_csv(out, index=False, lineterminator="\n")
    elif fmt == "json":
        records = [
            {k: _json_safe(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
        ]
        json.dump(records, out, indent=1)
        out.write("\n")
    else:
        out.write(frame.to_string(index=False, na_rep="n/a", float_format=_fmt_float) + "\n")


def _fmt_float(x: float) -> str:
    return f"{x:,.4f}" if abs(x) < 100 else f"{x:,.1f}"
