"""Management's capex guidance: the snapshot's ``capex_guidance.csv``, read and checked.

One row per statement, with every revision (SOURCES.md, "capex_guidance.csv"): the company,
the period guided (``FY2026``; one Microsoft row is ``CY2026``, a calendar year), the date it
was given, a range (``low_musd``/``high_musd``), a single figure (``point_musd``), or neither
(qualitative: the words stay in ``statement``), the basis where a source states it, and two
agreeing sources on different sites. Nothing is filled in: a missing number stays NaN.

:func:`load_guidance` refuses a malformed file with one line naming the file, the row and the
column; :mod:`aicapex.engine.guidance` answers the questions (latest guide, revisions, guide
vs outcome, basis conversion).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from aicapex.data.dataset import SNAPSHOT_DIR
from aicapex.errors import DataError

__all__ = ["GUIDANCE_FILE", "FILE_COLUMNS", "load_guidance", "snapshot_guidance"]

GUIDANCE_FILE = "capex_guidance.csv"

#: The file's columns, in order.
FILE_COLUMNS = [
    "ticker", "guided_fiscal_year", "date_given", "event", "low_musd", "high_musd",
    "point_musd", "basis", "statement", "source_1", "source_2", "note",
]
_PERIOD = re.compile(r"^(FY|CY)(\d{4})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TICKER = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")
_URL = re.compile(r"^https?://\S+$")
_NUMBERS = ("low_musd", "high_musd", "point_musd")


def load_guidance(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check a guidance file (default: the snapshot's).

    Parameters
    ----------
    path : str or Path, optional
        A CSV with :data:`FILE_COLUMNS`.

    Returns
    -------
    DataFrame
        The file's columns plus ``period`` (``"FY"`` or ``"CY"``), ``fiscal_year`` (int, the
        year of ``guided_fiscal_year``), ``mid_musd`` (the point, else the midpoint of a full
        range, else NaN) and ``source`` (both sources, ``" ; "``-joined); sorted by ticker,
        period and date given.

    Notes
    -----
    ``mid = point`` if a point is given, else ``(low + high) / 2`` when both ends are given;
    a floor alone ("more than $25bn") or qualitative words give no midpoint.

    Examples
    --------
    >>> g = load_guidance()
    >>> row = g[(g.ticker == "META") & (g.date_given == "2026-04-29")].iloc[0]
    >>> row.guided_fiscal_year, [float(row[c]) for c in ("low_musd", "high_musd", "mid_musd")]
    ('FY2026', [125000.0, 145000.0, 135000.0])
    """
    path = Path(path) if path is not None else SNAPSHOT_DIR / GUIDANCE_FILE
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: empty file") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    missing = [c for c in FILE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = frame[FILE_COLUMNS].apply(lambda col: col.str.strip())

    def bad(i: int, column: str, why: str) -> DataError:
        row = frame.iloc[i]
        return DataError(f"{path}: row {i + 2} ({row['ticker']} {row['guided_fiscal_year']} "
                         f"{row['date_given']}): {column} {why}")

    numbers = {}
    for col in _NUMBERS:
        raw = frame[col].str.replace(",", "", regex=False)
        num = pd.to_numeric(raw, errors="coerce")
        for i in np.flatnonzero(((raw != "") & ~(num >= 0)).to_numpy()):
            raise bad(int(i), col, f"{frame[col].iat[int(i)]!r} is not a number >= 0 (USD m)")
        numbers[col] = num.astype(float)
    for i in range(len(frame)):
        row = frame.iloc[i]
        if not _TICKER.match(row["ticker"]):
            raise bad(i, "ticker", f"{row['ticker']!r} is not a ticker")
        if not _PERIOD.match(row["guided_fiscal_year"]):
            raise bad(i, "guided_fiscal_year", "must look like FY2026 (fiscal) or CY2026 "
                      "(calendar)")
        if not _DATE.match(row["date_given"]) or pd.isna(pd.to_datetime(
                row["date_given"], errors="coerce", format="%Y-%m-%d")):
            raise bad(i, "date_given", "must be a date YYYY-MM-DD")
        if not row["statement"]:
            raise bad(i, "statement", "is empty (the words of the guidance are required)")
        for col in ("source_1", "source_2"):
            if not _URL.match(row[col]):
                raise bad(i, col, "must be a web address (two sources per row)")
        if row["source_1"] == row["source_2"]:
            raise bad(i, "source_2", "repeats source_1 (two different sources per row)")
        low, high = numbers["low_musd"].iat[i], numbers["high_musd"].iat[i]
        if low > high:
            raise bad(i, "low_musd", f"{low:g} is above high_musd {high:g}")
    frame[list(_NUMBERS)] = pd.DataFrame(numbers)
    dup = frame.duplicated(["ticker", "guided_fiscal_year", "date_given"], keep=False)
    if dup.any():
        raise bad(int(np.flatnonzero(dup.to_numpy())[0]), "date_given",
                  "repeats another row's company, period and date")
    parts = frame["guided_fiscal_year"].str.extract(_PERIOD)
    frame["period"] = parts[0]
    frame["fiscal_year"] = parts[1].astype(int)
    point, low, high = frame["point_musd"], frame["low_musd"], frame["high_musd"]
    frame["mid_musd"] = point.where(point.notna(), (low + high) / 2.0)
    frame["source"] = frame["source_1"] + " ; " + frame["source_2"]
    frame = frame.sort_values(["ticker", "guided_fiscal_year", "date_given"], kind="stable")
    return frame.reset_index(drop=True)


_SNAPSHOT: dict[str, pd.DataFrame] = {}


def snapshot_guidance() -> pd.DataFrame:
    """The snapshot's guidance table, read once per process (callers must not modify it)."""
    if "table" not in _SNAPSHOT:
        _SNAPSHOT["table"] = load_guidance()
    return _SNAPSHOT["table"]
