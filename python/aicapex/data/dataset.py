"""The reported figures: the bundled snapshot, SEC downloads and a user overrides folder.

The snapshot (``aicapex/data/snapshot``) is a copy of the project's audited data set: one row
per reported figure, USD millions, with the filing it came from. Figures are never filled
in; a missing figure is NaN everywhere downstream.

An *overrides folder* (``load_dataset(overrides=...)`` or the ``AICAPEX_OVERRIDES``
environment variable) may hold tidy CSVs in the snapshot's layout (annual, or quarterly with
``fiscal_quarter`` and ``period_end`` columns) and SEC companyfacts JSON files. Their rows
add to the snapshot or replace a snapshot row with the same key, and keep their own source;
the ``origin`` column says which file each row came from. This is what a refresh picks up.

Layers, later ones winning for the same figure (ticker, fiscal year [and quarter], field):
snapshot < SEC companyfacts fetched into the cache by ``python -m aicapex fetch``
(:mod:`aicapex.data.seccache`; within them the latest filing wins per fact) < overrides folder.
A fetched figure that replaces a different snapshot value says so in its note.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import functools
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from aicapex.data import seccache
from aicapex.data.companyfacts import (
    FIELD_CONCEPTS,
    QUARTER_COLUMNS,
    TIDY_COLUMNS,
    TIERS,
    load_companyfacts,
)
from aicapex.errors import DataError

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshot"
ANNUAL_FILE = "hyperscalers_annual.csv"
QUARTERLY_FILE = "hyperscalers_quarterly.csv"
SOURCES_FILE = "SOURCES.md"

# The tidy layout is the companyfacts loader's too: one definition.
ANNUAL_COLUMNS = TIDY_COLUMNS
QUARTERLY_COLUMNS = QUARTER_COLUMNS
ANNUAL_KEY = ["ticker", "fiscal_year", "field"]
QUARTERLY_KEY = ["ticker", "fiscal_year", "fiscal_quarter", "field"]

#: Order in which companies appear in every table and workbook block.
TICKER_ORDER = ["MSFT", "GOOGL", "AMZN", "META", "ORCL", "AAPL"]

#: Balance-sheet (point-in-time) fields; every other field is a flow over the period.
STOCK_FIELDS = frozenset(
    {
        "ppe_net",
        "op_lease_rou_assets",
        "op_lease_liabilities_total",
        "fin_lease_liabilities_total",
        "total_debt",
        "cash_and_marketable_securities",
        "rpo",
        "ltd_noncurrent_incl_fin_leases",
        "short_term_debt",
    }
)

#: Fields whose value must not be negative (flows stored as reported magnitudes).
NON_NEGATIVE_FIELDS = frozenset({"capex", "revenue", "ppe_net", "da_cashflow", "rpo"})

OVERRIDES_ENV = "AICAPEX_OVERRIDES"

#: Tier of a figure whose file does not grade its source (an analyst's override CSV written in
#: the layout before the ``tier`` column existed, or with the column left empty).
UNSTATED_TIER = "unstated"


#: No company reports a figure above this (USD millions: $10 trillion, 14x the largest figure in
#: the snapshot, Oracle's RPO); a larger value is a unit slip (thousands, dollars), never data.
MAX_ABS_MUSD = 1e7
#: An override more than this many times above, or below 1/this, of the company's nearest
#: reported period for the same field is an outlier (the snapshot's largest real jump between
#: neighbouring periods: 17.4x, Amazon's quarterly finance-lease additions 54 -> 937).
OUTLIER_FACTOR = 20.0
#: Tickers: letters and digits, optionally a class suffix (BRK.B, BF-B); fields: snake_case.
TICKER_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,9}(?:[.-][A-Z0-9]{1,4})?$")
FIELD_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_QUARTERS = ("Q1", "Q2", "Q3", "Q4")
_ALLOW_OUTLIERS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aicapex_allow_outliers", default=False)


@contextlib.contextmanager
def outliers_allowed(allow: bool = True) -> Iterator[None]:
    """Inside the block, override figures outside the plausible band are accepted
    (``--allow-outliers``); non-finite and absurd values never are."""
    token = _ALLOW_OUTLIERS.set(bool(allow))
    try:
        yield
    finally:
        _ALLOW_OUTLIERS.reset(token)


def _csv_columns(path: Path) -> list[str]:
    """The header of a CSV, or a one-line :class:`DataError` (empty or unreadable file)."""
    if _blank_file(path):
        raise DataError(f"{path}: empty file")
    try:
        return list(pd.read_csv(path, nrows=0).columns)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc


def _blank_file(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    return not head.strip() and len(head) < 1 << 16


@functools.lru_cache(maxsize=1)
def known_fields() -> frozenset[str]:
    """Every field name the package knows: the snapshot's, the companyfacts loader's and the
    engine's special cases. An override with any other name is a typo until proven
    otherwise."""
    names = set(FIELD_CONCEPTS) | STOCK_FIELDS | NON_NEGATIVE_FIELDS
    for name in (ANNUAL_FILE, QUARTERLY_FILE):
        names |= set(pd.read_csv(SNAPSHOT_DIR / name, usecols=["field"], dtype=str)["field"])
    return frozenset(names)


@functools.lru_cache(maxsize=2)
def _snapshot_reference(quarterly: bool) -> pd.DataFrame:
    """The bundled snapshot table overrides are compared with (plausibility band)."""
    if quarterly:
        return _read_table(SNAPSHOT_DIR / QUARTERLY_FILE, QUARTERLY_COLUMNS, QUARTERLY_KEY,
                           "snapshot")
    return _read_table(SNAPSHOT_DIR / ANNUAL_FILE, ANNUAL_COLUMNS, ANNUAL_KEY, "snapshot")


def _label(row: pd.Series) -> str:
    quarter = f" {row['fiscal_quarter']}" if "fiscal_quarter" in row.index else ""
    return f"{row['ticker']} {row['fiscal_year']}{quarter} {row['field']}"


def _at(path: Path, frame: pd.DataFrame, bad: pd.Series | np.ndarray) -> tuple[str, pd.Series]:
    """``"<file>: row N (MSFT 2025 capex)"`` for the first True of ``bad``, and that row."""
    i = int(np.flatnonzero(np.asarray(bad))[0])
    row = frame.iloc[i]
    return f"{path}: row {i + 2} ({_label(row)})", row


def _period_days(frame: pd.DataFrame) -> np.ndarray:
    """Each row's period end (quarter end, else fiscal year end) in days since 1970."""
    column = "period_end" if "period_end" in frame.columns else "fiscal_year_end"
    dates = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
    days = (dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float)
    fallback = (frame["fiscal_year"].astype(float).to_numpy() - 1970) * 365.25
    return np.where(np.isnan(days), fallback, days)


def _ratio_text(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 1 else f"1/{1 / ratio:,.0f} of"


def plausibility_problems(frame: pd.DataFrame, reference: pd.DataFrame, *,
                          exclude_same_key: bool = False,
                          factor: float = OUTLIER_FACTOR) -> list[str]:
    """Rows of ``frame`` whose value is more than ``factor`` times above or below the
    company's nearest reported period of the same field (``[]`` when none).

    The nearest period is taken from ``reference`` (the audited snapshot) or, for a company
    or field the reference lacks, from the other rows of ``frame`` itself. Zeros are never
    compared (a zero issuance is a real figure; a unit slip never yields zero). Each problem
    reads ``row N (MSFT 2025 capex): ...`` (N: the CSV line, header = 1).

    Examples
    --------
    >>> ref = pd.DataFrame({"ticker": ["MSFT"], "fiscal_year": [2025], "field": ["capex"],
    ...                     "fiscal_year_end": ["2025-06-30"], "value_musd": [64551.0]})
    >>> new = ref.assign(value_musd=[64.551])
    >>> plausibility_problems(new, ref)[0][:60]
    'row 2 (MSFT 2025 capex): value_musd 64.551 is 1/1,000 of MSF'
    >>> plausibility_problems(ref.assign(value_musd=[70000.0]), ref)
    []
    """
    days, ref_days = _period_days(frame), _period_days(reference)
    values = frame["value_musd"].to_numpy(dtype=float)
    ref_values = reference["value_musd"].to_numpy(dtype=float)
    ref_groups = reference.groupby(["ticker", "field"], sort=False).indices
    found: list[tuple[int, str]] = []
    for key, idx in frame.groupby(["ticker", "field"], sort=False).indices.items():
        cand = ref_groups.get(key)
        own = cand is None or not np.any(ref_values[cand] != 0)
        if own:  # a company or field the reference lacks: its other rows in this file
            cand, cand_days, cand_values, exclude = idx, days[idx], values[idx], True
        else:
            cand_days, cand_values, exclude = ref_days[cand], ref_values[cand], exclude_same_key
        usable = (cand_values != 0) & np.isfinite(cand_values)
        dist = np.abs(days[idx][:, None] - cand_days[None, :])
        dist[:, ~usable] = np.inf
        if exclude:
            dist[days[idx][:, None] == cand_days[None, :]] = np.inf
        if not dist.size:
            continue
        nearest = np.argmin(dist, axis=1)
        for pos, i in enumerate(idx):
            j = nearest[pos]
            v = values[i]
            if v == 0 or not np.isfinite(dist[pos, j]):
                continue
            ratio = abs(v) / abs(cand_values[j])
            if 1 / factor <= ratio <= factor:
                continue
            src = frame.iloc[cand[j]] if own else reference.iloc[cand[j]]
            where = f"row {cand[j] + 2} of this file" if own else "in the snapshot"
            found.append((int(i), (
                f"row {i + 2} ({_label(frame.iloc[i])}): value_musd {v:,.15g} is "
                f"{_ratio_text(ratio)} {_label(src)} {where} ({cand_values[j]:,.15g}), outside "
                f"the plausible band of 1/{factor:g} to {factor:g}× the nearest reported period"
            )))
    return [text for _, text in sorted(found)]


def _check_dates(path: Path, frame: pd.DataFrame) -> None:
    """fiscal_year_end (and period_end, fiscal_quarter) well formed and consistent."""
    columns = ["fiscal_year_end"] + (["period_end"] if "period_end" in frame.columns else [])
    parsed = {}
    for col in columns:
        text = frame[col]
        dates = pd.to_datetime(text.where(text.str.match(_ISO_DATE)), format="%Y-%m-%d",
                               errors="coerce")
        if dates.isna().any():
            where, row = _at(path, frame, dates.isna())
            raise DataError(f"{where}: {col} {row[col]!r} is not a date YYYY-MM-DD")
        parsed[col] = dates
    fye = parsed["fiscal_year_end"]
    wrong_year = fye.dt.year.to_numpy() != frame["fiscal_year"].to_numpy()
    if wrong_year.any():
        where, row = _at(path, frame, wrong_year)
        raise DataError(f"{where}: fiscal_year_end {row['fiscal_year_end']!r} is not in fiscal "
                        f"year {row['fiscal_year']} (fiscal_year is the calendar year in which "
                        "the fiscal year ends)")
    if "period_end" in parsed:
        bad_q = ~frame["fiscal_quarter"].isin(_QUARTERS)
        if bad_q.any():
            where, row = _at(path, frame, bad_q)
            raise DataError(f"{where}: fiscal_quarter {row['fiscal_quarter']!r} is not one of "
                            f"{', '.join(_QUARTERS)}")
        pe = parsed["period_end"]
        outside = (pe > fye) | (pe <= fye - pd.DateOffset(years=1))
        if outside.any():
            where, row = _at(path, frame, outside)
            raise DataError(f"{where}: period_end {row['period_end']!r} is not within the fiscal "
                            f"year ending {row['fiscal_year_end']}")


def _check_names(path: Path, frame: pd.DataFrame, *, known: bool) -> None:
    """Tickers and fields match a strict pattern; with ``known``, fields must be known."""
    bad = ~frame["ticker"].str.match(TICKER_PATTERN)
    if bad.any():
        where, row = _at(path, frame, bad)
        raise DataError(f"{where}: ticker {row['ticker']!r} is not a ticker (letters and digits, "
                        "e.g. MSFT or BRK.B)")
    bad = ~frame["field"].str.match(FIELD_PATTERN)
    if bad.any():
        where, row = _at(path, frame, bad)
        raise DataError(f"{where}: field {row['field']!r} is not a field name (lower-case "
                        "snake_case, e.g. capex)")
    if not known:
        return
    names = known_fields()
    unknown = ~frame["field"].isin(names)
    if unknown.any():
        where, row = _at(path, frame, unknown)
        close = difflib.get_close_matches(row["field"], sorted(names), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "see CPX_FIELDS() for the names"
        raise DataError(f"{where}: unknown field {row['field']!r}; {hint}")


def _read_number_column(path: Path, frame: pd.DataFrame, col: str, kind: str) -> pd.Series:
    raw = frame[col].str.strip()
    if kind == "number":
        comma = raw.str.contains(",", regex=False) & ~raw.str.match(_THOUSANDS)
        if comma.any():
            where, row = _at(path, frame, comma)
            hint = row[col].strip().replace(".", "").replace(",", ".")
            raise DataError(
                f"{where}: {col} {row[col]!r} has a decimal comma; write {hint} (a point for "
                "decimals; commas only between groups of three digits)"
            )
    num = pd.to_numeric(raw.str.replace(",", "", regex=False), errors="coerce")
    bad = num.isna()
    if kind == "integer":
        bad |= num.notna() & (num % 1 != 0)
    if bad.any():
        where, row = _at(path, frame, bad)
        raise DataError(f"{where}: {col} {row[col]!r} is not a{'n' if kind == 'integer' else ''} "
                        f"{kind}")
    infinite = ~np.isfinite(num.astype(float))
    if infinite.any():
        where, row = _at(path, frame, infinite)
        raise DataError(f"{where}: {col} {row[col]!r} is not a finite number")
    return num.astype("int64" if kind == "integer" else "float64")


def _read_table(path: Path, columns: list[str], key: list[str], origin: str,
                *, tier_required: bool = True) -> pd.DataFrame:
    """Read and validate one tidy CSV; errors name the file, row, ticker and field.

    ``tier_required=False`` (override folders) accepts a file without the ``tier`` column;
    its rows are graded :data:`UNSTATED_TIER`. Every file: numbers with a point for decimals
    (a decimal comma is refused with a hint), finite and within :data:`MAX_ABS_MUSD`; strict
    ticker and field patterns; ``YYYY-MM-DD`` dates in the right fiscal year. A file other
    than the snapshot also needs known field names (the nearest is suggested) and values
    within :data:`OUTLIER_FACTOR` of the company's nearest reported period
    (:func:`plausibility_problems`) unless :func:`outliers_allowed`.
    """
    if _blank_file(path):
        raise DataError(f"{path}: empty file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: empty file") from exc
    if not tier_required and "tier" not in frame.columns:
        frame["tier"] = ""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = frame[columns].copy()
    for col in columns:
        frame[col] = frame[col].astype(str)
    frame["ticker"] = frame["ticker"].str.strip().str.upper()
    frame["field"] = frame["field"].str.strip()
    frame["tier"] = frame["tier"].str.strip().str.lower()
    for col in ("fiscal_year_end", "period_end", "fiscal_quarter"):
        if col in frame.columns:
            frame[col] = frame[col].str.strip()
    if not tier_required:
        frame.loc[frame["tier"] == "", "tier"] = UNSTATED_TIER
    bad_tier = ~frame["tier"].isin(TIERS + (() if tier_required else (UNSTATED_TIER,)))
    if bad_tier.any():
        where, row = _at(path, frame, bad_tier)
        raise DataError(f"{where}: tier {row['tier']!r} is not one of {', '.join(TIERS)}")
    frame["fiscal_year"] = _read_number_column(path, frame, "fiscal_year", "integer")
    frame["value_musd"] = _read_number_column(path, frame, "value_musd", "number")
    if (frame["ticker"] == "").any() or (frame["field"] == "").any():
        i = int(np.flatnonzero(((frame["ticker"] == "") | (frame["field"] == "")).to_numpy())[0])
        raise DataError(f"{path}: row {i + 2}: empty ticker or field")
    snapshot = origin == "snapshot"
    _check_names(path, frame, known=not snapshot)
    _check_dates(path, frame)
    absurd = frame["value_musd"].abs() > MAX_ABS_MUSD
    if absurd.any():
        where, row = _at(path, frame, absurd)
        raise DataError(
            f"{where}: value_musd {row['value_musd']:,.15g} is outside ±{MAX_ABS_MUSD:,.0f} "
            "(figures are in USD millions: $10 trillion is more than any company reports; "
            "entered in thousands or dollars?)"
        )
    neg = frame["field"].isin(NON_NEGATIVE_FIELDS) & (frame["value_musd"] < 0)
    if neg.any():
        row = frame[neg].iloc[0]
        raise DataError(
            f"{path}: {row['ticker']} {row['fiscal_year']} {row['field']} is negative "
            f"({row['value_musd']:g}); outflows are stored as positive magnitudes"
        )
    dup = frame.duplicated(key, keep=False)
    if dup.any():
        row = frame[dup].iloc[0]
        raise DataError(
            f"{path}: duplicate fact {row['ticker']} {row['fiscal_year']} "
            f"{row.get('fiscal_quarter', '')} {row['field']}".replace("  ", " ")
        )
    if not snapshot and not _ALLOW_OUTLIERS.get():
        problems = plausibility_problems(frame, _snapshot_reference("fiscal_quarter" in columns))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise DataError(f"{path}: {problems[0]}{more}: a unit slip (thousands, billions) "
                            "or a typo? If the figure is right, pass --allow-outliers")
    frame["origin"] = origin
    return frame


def _merge(base: pd.DataFrame, extra: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows of ``extra`` replace rows of ``base`` with the same key and add the rest."""
    if extra.empty:
        return base
    if base.empty:
        return extra.reset_index(drop=True)
    keep = ~base.set_index(key).index.isin(extra.set_index(key).index)
    return pd.concat([base[keep], extra], ignore_index=True)


@dataclass
class Dataset:
    """Tidy annual and quarterly figures with their sources.

    ``annual`` columns: ticker, fiscal_year, fiscal_year_end, field, value_musd, tier, source,
    note, origin. ``quarterly`` adds fiscal_quarter and period_end.
    """

    annual: pd.DataFrame
    quarterly: pd.DataFrame
    origins: list[str] = field(default_factory=list)
    #: One-line notices about the data (e.g. SEC data kept from an earlier fetch because the
    #: last one failed); the command line prints them on stderr.
    notes: list[str] = field(default_factory=list)
    #: Per ticker, the SEC download behind its figures: ``latest_filed`` (filing date of the
    #: latest filing used), ``fetched`` (download date), ``entity_name``, ``cik``.
    sec_vintage: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Lookup indexes: Excel functions ask for single figures thousands of times.
        present = set(self.annual["ticker"]) | set(self.quarterly["ticker"])
        ordered = [t for t in TICKER_ORDER if t in present]
        self._tickers = ordered + sorted(present - set(ordered))
        self._fields = sorted(set(self.annual["field"]) | set(self.quarterly["field"]))
        self._wide: dict[str, pd.DataFrame] = {}
        a = self.annual
        self._annual_pos = {
            (t, int(y), f): i
            for i, (t, y, f) in enumerate(zip(a["ticker"], a["fiscal_year"], a["field"], strict=True))
        }
        q = self.quarterly
        self._quarter_pos = {
            (t, int(y), str(fq), f): i
            for i, (t, y, fq, f) in enumerate(
                zip(q["ticker"], q["fiscal_year"], q["fiscal_quarter"], q["field"], strict=True))
        }

    # -- catalogue ---------------------------------------------------------------------------
    @property
    def tickers(self) -> list[str]:
        return list(self._tickers)

    @property
    def fields(self) -> list[str]:
        return list(self._fields)

    @property
    def fiscal_years(self) -> list[int]:
        return sorted(int(y) for y in set(self.annual["fiscal_year"]))

    def check_ticker(self, ticker: str) -> str:
        t = str(ticker).strip().upper()
        if t not in self._tickers:
            hint = f" (add an SEC filer with `python -m aicapex fetch --tickers {t}`)" if t else ""
            raise DataError(f"unknown ticker {ticker!r}; covered: {', '.join(self.tickers)}{hint}")
        return t

    def check_field(self, name: str) -> str:
        f = str(name).strip()
        if f not in self._fields:
            raise DataError(f"unknown field {name!r}; see CPX_FIELDS() for the list")
        return f

    # -- selection ---------------------------------------------------------------------------
    def select(
        self,
        tickers: Iterable[str] | None = None,
        fields: Iterable[str] | None = None,
        years: tuple[int | None, int | None] = (None, None),
        freq: str = "annual",
    ) -> pd.DataFrame:
        """Rows for the given tickers, fields and fiscal-year range (inclusive)."""
        frame = self._frame(freq)
        mask = pd.Series(True, index=frame.index)
        if tickers is not None:
            mask &= frame["ticker"].isin([self.check_ticker(t) for t in tickers])
        if fields is not None:
            mask &= frame["field"].isin([self.check_field(f) for f in fields])
        lo, hi = years
        if lo is not None:
            mask &= frame["fiscal_year"] >= int(lo)
        if hi is not None:
            mask &= frame["fiscal_year"] <= int(hi)
        return frame[mask].reset_index(drop=True)

    def _frame(self, freq: str) -> pd.DataFrame:
        if freq in ("annual", "A", "FY", "a", "fy"):
            return self.annual
        if freq in ("quarterly", "Q", "q"):
            return self.quarterly
        raise DataError(f"unknown frequency {freq!r}; use 'annual' or 'quarterly'")

    def value(self, ticker: str, field_name: str, fiscal_year: int) -> float:
        """One annual figure, NaN when it was not reported."""
        t = self.check_ticker(ticker)
        f = self.check_field(field_name)
        i = self._annual_pos.get((t, int(fiscal_year), f))
        return float("nan") if i is None else float(self.annual["value_musd"].iat[i])

    def row(self, ticker: str, field_name: str, period: int | str) -> pd.Series | None:
        """The full row (with source) behind one figure; ``period`` is a fiscal year or
        ``'2025Q3'``-style fiscal quarter. ``None`` when not reported."""
        t = self.check_ticker(ticker)
        f = self.check_field(field_name)
        text = str(period).strip().upper().replace("FY", "")
        try:
            if "Q" in text:
                year, quarter = text.split("Q", 1)
                key = (t, int(float(year)), f"Q{int(float(quarter))}", f)
                i, frame = self._quarter_pos.get(key), self.quarterly
            else:
                i, frame = self._annual_pos.get((t, int(float(text)), f)), self.annual
        except ValueError as exc:
            raise DataError(f"period {period!r} is not a fiscal year (2025) or quarter (2025Q3)") from exc
        return None if i is None else frame.iloc[i]

    def series(self, ticker: str, field_name: str, freq: str = "annual") -> pd.Series:
        """One company's field over time: by fiscal year, or by quarter end date."""
        t = self.check_ticker(ticker)
        f = self.check_field(field_name)
        frame = self._frame(freq)
        hit = frame[(frame["ticker"] == t) & (frame["field"] == f)]
        index = "fiscal_year" if frame is self.annual else "period_end"
        return hit.set_index(index)["value_musd"].sort_index().rename(f)

    def wide(self, ticker: str, years: Sequence[int] | None = None) -> pd.DataFrame:
        """Company × fiscal year: index fiscal_year, one column per field (NaN = missing)."""
        t = self.check_ticker(ticker)
        cached = self._wide.get(t)
        if cached is None:  # the data never change once loaded: pivot once per company
            hit = self.annual[self.annual["ticker"] == t]
            cached = hit.pivot(index="fiscal_year", columns="field", values="value_musd")
            cached.columns.name = None
            cached = cached.sort_index()
            self._wide[t] = cached
        out = cached.copy()  # callers may modify their frame
        if years is not None:
            out = out.reindex(list(years))
        return out

    def panel(self, field_name: str, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """One field across companies: index fiscal_year, one column per ticker."""
        f = self.check_field(field_name)
        names = [self.check_ticker(t) for t in tickers] if tickers is not None else self.tickers
        hit = self.annual[(self.annual["field"] == f) & self.annual["ticker"].isin(names)]
        out = hit.pivot(index="fiscal_year", columns="ticker", values="value_musd")
        out.columns.name = None
        return out.reindex(columns=names).sort_index()

    def latest(self, ticker: str, field_name: str) -> tuple[int, float]:
        """Latest reported (fiscal_year, value); DataError when never reported."""
        s = self.series(ticker, field_name).dropna()
        if s.empty:
            raise DataError(f"{ticker} has no reported {field_name}")
        return int(s.index[-1]), float(s.iloc[-1])

    def fiscal_year_end_month(self, ticker: str) -> int:
        t = self.check_ticker(ticker)
        ends = self.annual.loc[self.annual["ticker"] == t, "fiscal_year_end"]
        if ends.empty:
            ends = self.quarterly.loc[self.quarterly["ticker"] == t, "fiscal_year_end"]
        months = pd.to_datetime(ends).dt.month
        return int(months.mode().iloc[0])

    def vintage(self) -> pd.DataFrame:
        """The data vintage per company: latest fiscal year and period end, and for figures
        downloaded from the SEC the date of the latest filing used (``latest_filed``) and of
        the download (``fetched``); both empty (None) for a company only in the snapshot."""
        rows = []
        for t in self.tickers:
            a = self.annual[self.annual["ticker"] == t]
            q = self.quarterly[self.quarterly["ticker"] == t]
            sec = self.sec_vintage.get(t, {})
            rows.append(
                {
                    "ticker": t,
                    "latest_fiscal_year": int(a["fiscal_year"].max()) if len(a) else None,
                    "latest_fiscal_year_end": a["fiscal_year_end"].max() if len(a) else None,
                    "latest_quarter_end": q["period_end"].max() if len(q) else None,
                    "latest_filed": sec.get("latest_filed") or None,
                    "fetched": sec.get("fetched") or None,
                }
            )
        return pd.DataFrame(rows)

    # -- derived views -----------------------------------------------------------------------
    def ttm(self, ticker: str, field_name: str) -> pd.Series:
        """Trailing-twelve-month sums of a quarterly flow, indexed by quarter end.

        A TTM value needs four consecutive reported quarters; otherwise it is NaN.
        """
        f = self.check_field(field_name)
        if f in STOCK_FIELDS:
            raise DataError(f"{f} is a balance, not a flow: a trailing-twelve-month sum is meaningless")
        s = self.series(ticker, f, freq="quarterly")
        if s.empty:
            return s
        ends = pd.to_datetime(pd.Series(s.index))
        full = pd.Series(s.to_numpy(), index=ends.dt.to_period("M"))
        months = pd.period_range(full.index.min(), full.index.max(), freq="M")
        quarterly = full.reindex(months)[::-1][::3][::-1]  # one point every three months
        ttm = quarterly.rolling(4, min_periods=4).sum()
        ttm.index = ttm.index.to_timestamp(how="end").normalize().strftime("%Y-%m-%d")
        return ttm.dropna(how="all").rename(f"{f}_ttm")

    def calendar_year(self, field_name: str, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Calendarised view: index calendar year, one column per ticker.

        A flow for calendar year *t* of a company whose fiscal year ends in month *m* is
        ``(m/12) * FY_t + (1 - m/12) * FY_{t+1}`` (MSFT, June: half of FY_t plus half of
        FY_{t+1}; ORCL, May: 5/12 and 7/12; AAPL, September: 3/4 and 1/4; December: FY_t).
        A balance is taken at the last fiscal year end on or before 31 December (FY_t).
        Missing components give NaN. See :meth:`calendar_mapping`.
        """
        f = self.check_field(field_name)
        wide = self.panel(f, tickers)
        out = pd.DataFrame(index=wide.index, columns=wide.columns, dtype=float)
        for t in wide.columns:
            fy = wide[t]
            if f in STOCK_FIELDS:
                out[t] = fy
                continue
            w = self.fiscal_year_end_month(t) / 12.0
            nxt = fy.reindex(fy.index + 1).to_numpy()
            out[t] = fy.to_numpy() if w == 1.0 else w * fy.to_numpy() + (1 - w) * nxt
        out.index.name = "calendar_year"
        return out

    def calendar_mapping(self) -> pd.DataFrame:
        """How each company's fiscal years map to calendar years (weights of FY_t, FY_t+1)."""
        rows = []
        for t in self.tickers:
            m = self.fiscal_year_end_month(t)
            rows.append(
                {
                    "ticker": t,
                    "fiscal_year_end_month": m,
                    "weight_fy_t": m / 12.0,
                    "weight_fy_t_plus_1": 1 - m / 12.0,
                    "rule": "calendar = fiscal" if m == 12 else
                    f"CY t = {m}/12 FY t + {12 - m}/12 FY t+1 (FY ends month {m})",
                }
            )
        return pd.DataFrame(rows)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns + ["origin"]})


def read_overrides(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Read every ``*.csv`` and ``*.json`` in ``folder`` (sorted by name; later files win).

    A companyfacts JSON of a company that is not covered is filed under the ticker the SEC's
    ticker map gives its CIK (cached by ``fetch``), or under its file name (``CRWV.json``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"overrides folder {folder} does not exist")
    annual = _empty(ANNUAL_COLUMNS)
    quarterly = _empty(QUARTERLY_COLUMNS)
    origins = []
    names: dict[int, str] | None = None
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "~")):
            continue
        suffix = path.suffix.lower()
        if suffix == ".csv":
            if "fiscal_quarter" in _csv_columns(path):
                q = _read_table(path, QUARTERLY_COLUMNS, QUARTERLY_KEY, str(path),
                                tier_required=False)
                quarterly = _merge(quarterly, q, QUARTERLY_KEY)
            else:
                a = _read_table(path, ANNUAL_COLUMNS, ANNUAL_KEY, str(path), tier_required=False)
                annual = _merge(annual, a, ANNUAL_KEY)
        elif suffix == ".json":
            if names is None:  # a CIK that is not a covered company: the SEC's ticker map
                names = seccache.ticker_map(seccache.cache_dir())
            cf = load_companyfacts(path, ticker_map=names)
            a = cf.annual.assign(origin=str(path))
            q = cf.quarterly.assign(origin=str(path))
            annual = _merge(annual, a, ANNUAL_KEY)
            quarterly = _merge(quarterly, q, QUARTERLY_KEY)
        else:
            continue
        origins.append(str(path))
    return annual, quarterly, origins


@dataclass
class SecLayer:
    """The figures of every companyfacts file in the SEC cache (see :func:`read_sec_cache`)."""

    annual: pd.DataFrame
    quarterly: pd.DataFrame
    origins: list[str]
    vintage: dict[str, dict]
    notes: list[str]


def read_sec_cache(root: str | Path) -> SecLayer:
    """Load every cached companyfacts download of ``root`` (``$AICAPEX_CACHE_DIR``).

    Each file was checked before it entered the cache; one that no longer loads (a newer
    version of the rules, a hand-edited file) is left out with a note rather than stopping
    every data command. A company whose last fetch failed keeps its earlier copy, and a note
    says how old it is.
    """
    root = Path(root)
    annual, quarterly = _empty(ANNUAL_COLUMNS), _empty(QUARTERLY_COLUMNS)
    origins: list[str] = []
    vintage: dict[str, dict] = {}
    notes: list[str] = []
    names = seccache.ticker_map(root)
    failed = seccache.last_fetch(root)
    stale = []
    for company in seccache.cached_companies(root):
        try:
            cf = load_companyfacts(company.path, company.ticker, fetched=company.fetched,
                                   ticker_map=names)
        except DataError as exc:
            notes.append(f"note: left out the cached SEC file ({exc}); run `python -m aicapex "
                         "fetch` again to replace it")
            continue
        annual = _merge(annual, cf.annual.assign(origin=str(company.path)), ANNUAL_KEY)
        quarterly = _merge(quarterly, cf.quarterly.assign(origin=str(company.path)), QUARTERLY_KEY)
        origins.append(str(company.path))
        vintage[cf.ticker] = {"latest_filed": cf.latest_filed, "fetched": company.fetched,
                              "checked": company.checked, "entity_name": cf.entity_name,
                              "cik": cf.cik}
        last = failed.get(cf.ticker) or {}
        if last and not last.get("ok", True):
            age = company.fetched_date
            days = f", {(seccache.today() - age).days} days old" if age else ""
            stale.append(f"{cf.ticker} (fetched {company.fetched}{days})")
    if stale:
        notes.append("note: the last SEC fetch failed for " + ", ".join(stale)
                     + "; using the earlier copy")
    return SecLayer(annual, quarterly, origins, vintage, notes)


def _merge_noting(base: pd.DataFrame, extra: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """:func:`_merge`, and a replaced figure whose value differs keeps the old one in the
    new row's note (a restatement, or a figure the snapshot took from another source)."""
    if extra.empty or base.empty:
        return _merge(base, extra, key)
    old = base[key + ["value_musd", "tier"]].drop_duplicates(key).rename(
        columns={"value_musd": "value_musd_old", "tier": "tier_old"})
    joined = extra.merge(old, on=key, how="left")
    joined.index = extra.index
    differs = joined["value_musd_old"].notna() & (
        joined["value_musd"].astype(float) != joined["value_musd_old"].astype(float))
    if differs.any():
        extra = extra.copy()
        text = joined.loc[differs].apply(
            lambda r: f"replaces snapshot value {float(r['value_musd_old']):,.6g} ({r['tier_old']} tier)",
            axis=1)
        notes = extra.loc[differs, "note"].fillna("").astype(str)
        extra.loc[differs, "note"] = [f"{n}; {t}" if n else t for n, t in zip(notes, text, strict=True)]
    return _merge(base, extra, key)


def load_dataset(overrides: str | Path | None = None, *, snapshot_dir: Path | None = None,
                 cache_dir: str | Path | bool | None = None) -> Dataset:
    """Load the bundled snapshot, then the SEC cache, then the overrides folder if one is given.

    ``overrides`` defaults to the ``AICAPEX_OVERRIDES`` environment variable (unset: none).
    ``cache_dir`` defaults to ``$AICAPEX_CACHE_DIR`` or the user cache folder
    (:func:`aicapex.data.seccache.cache_dir`); ``False`` reads no SEC cache.
    """
    base = Path(snapshot_dir) if snapshot_dir else SNAPSHOT_DIR
    annual = _read_table(base / ANNUAL_FILE, ANNUAL_COLUMNS, ANNUAL_KEY, "snapshot")
    quarterly = _read_table(base / QUARTERLY_FILE, QUARTERLY_COLUMNS, QUARTERLY_KEY, "snapshot")
    origins = ["snapshot"]
    notes: list[str] = []
    vintage: dict[str, dict] = {}
    if cache_dir is not False:
        root = seccache.cache_dir() if cache_dir in (None, True) else Path(cache_dir)
        sec = read_sec_cache(root)
        annual = _merge_noting(annual, sec.annual, ANNUAL_KEY)
        quarterly = _merge_noting(quarterly, sec.quarterly, QUARTERLY_KEY)
        origins += sec.origins
        notes += sec.notes
        vintage = sec.vintage
    if overrides is None:
        overrides = os.environ.get(OVERRIDES_ENV) or None
    if overrides is not None:
        oa, oq, more = read_overrides(overrides)
        annual = _merge(annual, oa, ANNUAL_KEY)
        quarterly = _merge(quarterly, oq, QUARTERLY_KEY)
        origins += more
    annual = annual.astype({"fiscal_year": "int64", "value_musd": "float64"})
    quarterly = quarterly.astype({"fiscal_year": "int64", "value_musd": "float64"})
    annual = annual.sort_values(ANNUAL_KEY, kind="stable").reset_index(drop=True)
    quarterly = quarterly.sort_values(["ticker", "period_end", "field"], kind="stable")
    return Dataset(annual=annual, quarterly=quarterly.reset_index(drop=True), origins=origins,
                   notes=notes, sec_vintage=vintage)


_CACHE: dict[tuple, Dataset] = {}
#: The overrides folder a refresh is using, seen by Excel functions evaluated inside it.
_ACTIVE_OVERRIDES: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "aicapex_overrides", default=None)


@contextlib.contextmanager
def overrides_in_effect(folder: str | Path | None) -> Iterator[None]:
    """Make :func:`current_dataset` (hence every CPX_ function) use ``folder`` inside the block."""
    token = _ACTIVE_OVERRIDES.set(str(folder) if folder is not None else None)
    try:
        yield
    finally:
        _ACTIVE_OVERRIDES.reset(token)


def _folder_stamp(folder: str | Path | None) -> tuple:
    if folder is None:
        return ()
    path = Path(folder)
    if not path.is_dir():
        return (str(path), "missing")
    return (str(path),) + tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(path.iterdir()) if p.is_file()
    )


def _cache_stamp() -> tuple:
    root = seccache.cache_dir()
    last = seccache.last_fetch_path(root)
    return (str(root), _folder_stamp(seccache.facts_dir(root)),
            last.stat().st_mtime_ns if last.exists() else 0)


def clear_cache() -> None:
    """Forget the cached data set: the next :func:`current_dataset` reloads the snapshot, the
    fetched filings and the overrides folder (what a Refresh button press asks for)."""
    _CACHE.clear()


def current_dataset(overrides: str | Path | None = None) -> Dataset:
    """:func:`load_dataset`, cached until a file in the overrides folder or the SEC cache
    changes.

    Excel functions call this on every recalculation; reloading only when the folders' file
    names, sizes or modification times change keeps them fast and still fresh (a fetch shows
    in the next recalculation).
    """
    if overrides is None:
        overrides = _ACTIVE_OVERRIDES.get() or os.environ.get(OVERRIDES_ENV) or None
    key = (_folder_stamp(overrides), _cache_stamp())
    ds = _CACHE.get(key)
    if ds is None:
        ds = load_dataset(overrides)
        _CACHE.clear()
        _CACHE[key] = ds
    return ds
