"""Capex guidance: latest guide, revision history, guide vs reported outcome, guided growth, and
the guide on the scenario's capex basis.

Bases differ and are never mixed silently (SOURCES.md, "Update 2026-12-01"):

- **META** guides capex *including principal payments on finance leases*; its outcome is
  ``capex_incl_fin_lease_principal`` (or ``capex + fin_lease_principal_payments``).
- **AMZN** speaks of *cash capex*: purchases of property and equipment net of proceeds from
  sales and incentives, ``capex_net_of_proceeds``.
- **MSFT** guides capex *including finance leases*, which the filed lines cannot rebuild (its
  FY2025 $88.2bn is not capex + finance-lease additions): flagged, not compared. Its ~$190bn of
  2026-04-29 is for **calendar** 2026 (``CY2026``), not a fiscal year: flagged, not compared.
- **GOOGL**, **ORCL**: no basis stated; read as the reported capex line (purchases of property
  and equipment), and flagged as read so.

A row's stated basis wins; where a row states none, the company's convention above applies and
the note says so. The scenario engine projects the reported ``capex`` line (cash purchases of
property and equipment), so :func:`scenario_capex_guidance` converts a guide to it with the
latest reported adjustment (META: less finance-lease principal payments; AMZN: plus proceeds
from sales and incentives), naming the figure and its year, or explains why it cannot.

Money in USD millions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aicapex.data.dataset import TICKER_ORDER
from aicapex.errors import DataError

__all__ = [
    "REVISION_COLUMNS",
    "LATEST_COLUMNS",
    "OUTCOME_COLUMNS",
    "BASES",
    "COMPANY_BASIS",
    "Basis",
    "GuidedCapex",
    "classify_basis",
    "outcome_on_basis",
    "revisions",
    "latest_guidance",
    "guidance_vs_outcome",
    "guidance_path",
    "guidance_dates",
    "scenario_capex_guidance",
]

#: ``python -m aicapex guidance`` columns: one row per revision.
REVISION_COLUMNS = (
    "ticker", "guided_fiscal_year", "date_given", "low_musd", "high_musd", "point_musd",
    "mid_musd", "basis", "statement", "source",
)
#: The latest guide per company and period, next to the last reported year on its basis.
LATEST_COLUMNS = (
    "ticker", "guided_fiscal_year", "date_given", "mid_musd", "last_actual_musd",
    "guided_growth", "low_musd", "high_musd", "point_musd", "basis", "statement",
    "basis_note", "revisions", "first_date", "first_mid_musd", "last_actual_year", "source",
)
#: Guidance vs the reported outcome per company and period.
OUTCOME_COLUMNS = (
    "ticker", "guided_fiscal_year", "first_mid_musd", "latest_mid_musd", "actual_musd",
    "actual_vs_latest_mid", "actual_vs_first_mid", "first_date", "latest_date", "basis",
    "basis_note", "actual_measure", "first_low_musd", "first_high_musd", "latest_low_musd",
    "latest_high_musd", "revisions",
)

#: Basis code -> label (what the guided figure measures).
BASES = {
    "capex": "capex (purchases of property and equipment)",
    "capex_incl_fin_lease_principal": "capex incl. principal payments on finance leases",
    "cash_capex": "cash capex (purchases of P&E net of proceeds and incentives)",
    "capex_incl_finance_leases": "capex incl. finance leases (not rebuildable from filed lines)",
    "other": "not total capex",
}

#: Company convention where a row states no basis: (code, why), from SOURCES.md.
COMPANY_BASIS = {
    "META": ("capex_incl_fin_lease_principal",
             "Meta's standing definition includes principal payments on finance leases"),
    "AMZN": ("cash_capex", "Amazon speaks of cash capex (SOURCES.md)"),
    "MSFT": ("capex_incl_finance_leases",
             "Microsoft's capex guide includes finance leases (SOURCES.md)"),
}
_NOT_STATED = ("capex", "basis not stated in the sources; read as the reported capex line")


@dataclass(frozen=True)
class Basis:
    """How a guidance row is read: ``code`` (:data:`BASES`), ``how`` (stated or assumed, and
    why) and ``flag`` (why it cannot be compared with a fiscal year's capex; empty if it can)."""

    code: str
    how: str
    flag: str = ""

    @property
    def label(self) -> str:
        return BASES[self.code]

    @property
    def note(self) -> str:
        return "; ".join(x for x in (self.how, self.flag) if x)


def classify_basis(ticker: str, basis_text: str, period: str = "FY",
                   guided: str = "") -> Basis:
    """Read a row's basis: its stated words, else the company's convention, with flags.

    Parameters
    ----------
    ticker : str
    basis_text : str
        The file's ``basis`` column (may be empty or "not stated").
    period : {"FY", "CY"}
        Fiscal or calendar year.
    guided : str
        The period label for the flag (``"CY2026"``).

    Examples
    --------
    >>> classify_basis("META", "including principal payments on finance leases").code
    'capex_incl_fin_lease_principal'
    >>> b = classify_basis("MSFT", "capital expenditures", "CY", "CY2026")
    >>> b.code, b.flag.split(":")[0]
    ('capex_incl_finance_leases', 'CY2026 is a calendar year, not a fiscal year')
    """
    text = str(basis_text or "").lower()
    if "principal payments on finance leases" in text:
        basis = Basis("capex_incl_fin_lease_principal", "stated: incl. finance-lease principal")
    elif "cash capex" in text:
        basis = Basis("cash_capex", "stated: cash capex")
    elif "finance lease" in text:
        basis = Basis("capex_incl_finance_leases", "stated: incl. finance leases")
    elif "datacenter" in text or "not framed as total" in text:
        basis = Basis("other", "an investment figure, not total capex (see the statement)")
    else:
        code, why = COMPANY_BASIS.get(str(ticker).upper(), _NOT_STATED)
        basis = Basis(code, why if text in ("", "not stated") or text.startswith("not stated")
                      else f"{why} (source wording: {basis_text})")
    flags = []
    if period == "CY":
        flags.append(f"{guided or 'this'} is a calendar year, not a fiscal year: not compared "
                     "with fiscal-year capex")
    if basis.code == "capex_incl_finance_leases":
        flags.append("capex including finance leases cannot be rebuilt from the filed lines: "
                     "not compared")
    elif basis.code == "other":
        flags.append("not total capex: not compared")
    return Basis(basis.code, basis.how, "; ".join(flags))


def _value(ds: Any, ticker: str, name: str, year: int) -> float:
    """A reported figure, NaN when not reported or when the data set lacks the field."""
    if name not in ds.fields:
        return math.nan
    return float(ds.value(ticker, name, year))


def outcome_on_basis(ds: Any, ticker: str, fiscal_year: int, code: str) -> tuple[float, str]:
    """The reported figure measured like a guide of basis ``code``: (value, what it is).

    NaN with the reason when the year is not reported or the basis cannot be rebuilt.

    Examples
    --------
    >>> from aicapex.data.dataset import load_dataset
    >>> outcome_on_basis(load_dataset(), "META", 2025, "capex_incl_fin_lease_principal")
    (72215.0, 'capex_incl_fin_lease_principal (reported)')
    """
    if code == "capex":
        v = _value(ds, ticker, "capex", fiscal_year)
        return v, "capex (reported)" if np.isfinite(v) else f"FY{fiscal_year} capex not reported"
    if code == "capex_incl_fin_lease_principal":
        v = _value(ds, ticker, "capex_incl_fin_lease_principal", fiscal_year)
        if np.isfinite(v):
            return v, "capex_incl_fin_lease_principal (reported)"
        c = _value(ds, ticker, "capex", fiscal_year)
        p = _value(ds, ticker, "fin_lease_principal_payments", fiscal_year)
        if np.isfinite(c) and np.isfinite(p):
            return c + p, "capex + fin_lease_principal_payments (reported)"
        return math.nan, f"FY{fiscal_year} capex incl. finance-lease principal not reported"
    if code == "cash_capex":
        v = _value(ds, ticker, "capex_net_of_proceeds", fiscal_year)
        return v, ("capex_net_of_proceeds (reported)" if np.isfinite(v)
                   else f"FY{fiscal_year} capex_net_of_proceeds not reported")
    return math.nan, f"not comparable: {BASES.get(code, code)}"


def _select(table: pd.DataFrame, tickers: Iterable[str] | None,
            period: str | int | None) -> pd.DataFrame:
    out = table
    if tickers is not None:
        names = [str(t).strip().upper() for t in tickers]
        unknown = sorted(set(names) - set(table["ticker"]))
        if unknown and len(unknown) == len(set(names)):
            # several companies: the ones without guidance (Apple gives none) are left out;
            # asking only for those is an error
            have = ", ".join(_ordered(set(table["ticker"])))
            raise DataError(f"no capex guidance for {', '.join(unknown)}; guidance covers {have}")
        out = out[out["ticker"].isin(names)]
    if period is not None:
        label = _period_label(period)
        out = out[out["guided_fiscal_year"] == label]
        if out.empty:
            raise DataError(f"no capex guidance for {label}"
                            + (f" from {', '.join(tickers)}" if tickers is not None else ""))
    return out


def _period_label(period: str | int) -> str:
    text = str(period).strip().upper()
    if text.isdigit() or (text.replace(".0", "").isdigit() and text.endswith(".0")):
        return f"FY{int(float(text))}"
    if len(text) == 6 and text[:2] in ("FY", "CY") and text[2:].isdigit():
        return text
    raise DataError(f"guided year {period!r}: use a fiscal year (2026 or FY2026) or a calendar "
                    "year (CY2026)")


def _ordered(tickers: Iterable[str]) -> list[str]:
    tickers = set(tickers)
    return [t for t in TICKER_ORDER if t in tickers] + sorted(tickers - set(TICKER_ORDER))


def _sort(frame: pd.DataFrame, date_col: str = "date_given") -> pd.DataFrame:
    rank = {t: i for i, t in enumerate(_ordered(frame["ticker"]))}
    keys = frame.assign(_r=frame["ticker"].map(rank))
    cols = ["_r", "guided_fiscal_year"] + ([date_col] if date_col in frame else [])
    return keys.sort_values(cols, kind="stable").drop(columns="_r").reset_index(drop=True)


def revisions(table: pd.DataFrame, tickers: Iterable[str] | None = None,
              period: str | int | None = None) -> pd.DataFrame:
    """Every guidance statement, one row per revision (:data:`REVISION_COLUMNS`).

    ``basis`` is the file's wording (empty where the sources state none); ``source`` both
    sources. Missing numbers are NaN.

    Examples
    --------
    >>> from aicapex.data.guidance import load_guidance
    >>> r = revisions(load_guidance(), ["META"], 2026)
    >>> r[["date_given", "low_musd", "high_musd"]].dropna().to_numpy().tolist()
    [['2026-01-28', 115000.0, 135000.0], ['2026-04-29', 125000.0, 145000.0]]
    """
    out = _sort(_select(table, tickers, period))
    return out[list(REVISION_COLUMNS)]


def _basis_of(row: pd.Series) -> Basis:
    return classify_basis(row["ticker"], row["basis"], row["period"], row["guided_fiscal_year"])


def _comparable(basis: Basis) -> bool:
    return not basis.flag


def latest_guidance(table: pd.DataFrame, ds: Any, tickers: Iterable[str] | None = None,
                    period: str | int | None = None) -> pd.DataFrame:
    """The latest guide per company and guided period, with the last reported year on the
    same basis and the guided growth (:data:`LATEST_COLUMNS`).

    Notes
    -----
    ``guided_growth = mid / last_actual - 1`` with ``last_actual`` the fiscal year before the
    guided one, measured on the guide's basis (:func:`outcome_on_basis`); NaN (with the reason
    in ``basis_note``) for a calendar-year guide, a basis the filings cannot rebuild, a guide
    without a midpoint, or a year not reported.

    Examples
    --------
    >>> from aicapex.data.dataset import load_dataset
    >>> from aicapex.data.guidance import load_guidance
    >>> g = latest_guidance(load_guidance(), load_dataset(), ["GOOGL"], 2026).iloc[0]
    >>> float(g.mid_musd), float(g.last_actual_musd), round(float(g.guided_growth), 3)
    (185000.0, 91447.0, 1.023)
    """
    rows = []
    chosen = _select(table, tickers, period)
    for (ticker, _label), grp in chosen.groupby(["ticker", "guided_fiscal_year"], sort=False):
        grp = grp.sort_values("date_given", kind="stable")
        last = grp.iloc[-1]
        numeric = grp[grp["mid_musd"].notna()]
        basis = _basis_of(last)
        notes = [basis.note]
        actual_year, actual, growth = math.nan, math.nan, math.nan
        if last["period"] == "FY":
            actual_year = int(last["fiscal_year"]) - 1
            if ticker in ds.tickers and _comparable(basis):
                actual, what = outcome_on_basis(ds, ticker, actual_year, basis.code)
                notes.append(f"last actual FY{actual_year}: {what}")
        if np.isfinite(actual) and np.isfinite(last["mid_musd"]) and actual > 0:
            growth = last["mid_musd"] / actual - 1.0
        elif not np.isfinite(last["mid_musd"]):
            notes.append("no figure in the latest guide (qualitative or a floor): no growth")
        rows.append({
            **{c: last[c] for c in REVISION_COLUMNS},
            "basis": basis.label,
            "revisions": len(grp),
            "first_date": numeric["date_given"].iloc[0] if len(numeric) else None,
            "first_mid_musd": numeric["mid_musd"].iloc[0] if len(numeric) else math.nan,
            "last_actual_year": actual_year,
            "last_actual_musd": actual,
            "guided_growth": growth,
            "basis_note": "; ".join(n for n in notes if n),
        })
    out = pd.DataFrame(rows, columns=list(LATEST_COLUMNS))
    return _sort(out) if len(out) else out


def guidance_vs_outcome(table: pd.DataFrame, ds: Any,
                        tickers: Iterable[str] | None = None) -> pd.DataFrame:
    """First and latest numeric guide per company and period against the reported outcome on
    the same basis (:data:`OUTCOME_COLUMNS`); periods without a numeric guide are left out.

    Notes
    -----
    ``actual_vs_latest_mid = actual / latest_mid - 1`` (and likewise for the first guide);
    NaN where the year is not reported yet or the basis cannot be compared (``basis_note``).

    Examples
    --------
    META 2025: guided $60-65bn, raised to $70-72bn; actual 72,215 incl. finance-lease principal.

    >>> from aicapex.data.dataset import load_dataset
    >>> from aicapex.data.guidance import load_guidance
    >>> o = guidance_vs_outcome(load_guidance(), load_dataset(), ["META"])
    >>> r = o[o.guided_fiscal_year == "FY2025"].iloc[0]
    >>> [round(float(r[c]), 4) for c in ("first_mid_musd", "latest_mid_musd", "actual_musd",
    ...                                  "actual_vs_latest_mid")]
    [62500.0, 71000.0, 72215.0, 0.0171]
    """
    rows = []
    for (ticker, label), grp in _select(table, tickers, None).groupby(
            ["ticker", "guided_fiscal_year"], sort=False):
        numeric = grp[grp["mid_musd"].notna() | grp["low_musd"].notna()].sort_values(
            "date_given", kind="stable")
        if numeric.empty:
            continue
        first, last = numeric.iloc[0], numeric.iloc[-1]
        basis = _basis_of(last)
        actual, what = math.nan, basis.flag or "not reported"
        if _comparable(basis) and ticker in ds.tickers:
            actual, what = outcome_on_basis(ds, ticker, int(last["fiscal_year"]), basis.code)

        rows.append({
            "ticker": ticker, "guided_fiscal_year": label,
            "first_date": first["date_given"], "first_low_musd": first["low_musd"],
            "first_high_musd": first["high_musd"], "first_mid_musd": first["mid_musd"],
            "latest_date": last["date_given"], "latest_low_musd": last["low_musd"],
            "latest_high_musd": last["high_musd"], "latest_mid_musd": last["mid_musd"],
            "revisions": len(grp), "basis": basis.label, "actual_musd": actual,
            "actual_measure": what,
            "actual_vs_latest_mid": _surprise(actual, last["mid_musd"]),
            "actual_vs_first_mid": _surprise(actual, first["mid_musd"]), "basis_note": basis.note,
        })
    out = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))
    return _sort(out, "latest_date") if len(out) else out


def guidance_dates(table: pd.DataFrame) -> list[str]:
    """Every distinct date guidance was given, in order (the as-of axis of
    :func:`guidance_path`).

    Examples
    --------
    >>> from aicapex.data.guidance import load_guidance
    >>> d = guidance_dates(load_guidance())
    >>> d[0], d[-1], d == sorted(set(d))
    ('2023-07-25', '2026-04-29', True)
    """
    return sorted(set(table["date_given"]))


def guidance_path(table: pd.DataFrame, tickers: Iterable[str], period: str | int,
                  as_of: Iterable[str]) -> pd.DataFrame:
    """The guide in force for one period at each date: how expectations were raised.

    Parameters
    ----------
    table : DataFrame
        The guidance table (:func:`aicapex.data.guidance.load_guidance`).
    tickers : iterable of str
        Companies (columns of the result).
    period : str or int
        The guided period (2026, ``"FY2026"``, ``"CY2026"``).
    as_of : iterable of str
        Dates ``YYYY-MM-DD`` (rows of the result).

    Returns
    -------
    DataFrame
        Index ``as_of``, columns ``tickers``: the midpoint of the latest guide with a figure
        given on or before the date (USD m, on the company's own basis); NaN before the first
        one, for a ticker without guidance, or where guidance gave no figure. A figure that is
        not total capex (basis ``other``) is left out.

    Examples
    --------
    >>> from aicapex.data.guidance import load_guidance
    >>> p = guidance_path(load_guidance(), ["META", "GOOGL"], 2026,
    ...                   ["2025-12-31", "2026-02-04", "2026-04-29"])
    >>> p.to_numpy().tolist()
    [[nan, nan], [125000.0, 180000.0], [135000.0, 185000.0]]
    """
    label = _period_label(period)
    names = [str(t).strip().upper() for t in tickers]
    dates = [str(d).strip() for d in as_of]
    out = pd.DataFrame(math.nan, index=dates, columns=names)
    rows = table[(table["guided_fiscal_year"] == label) & table["mid_musd"].notna()]
    for t in names:
        own = rows[rows["ticker"] == t].sort_values("date_given", kind="stable")
        # a figure that is not total capex (MSFT's FY2025 AI-datacenter $80bn) is left out
        own = own[[_basis_of(r).code != "other" for _, r in own.iterrows()]]
        if own.empty:
            continue
        given = own["date_given"].to_numpy()
        mids = own["mid_musd"].to_numpy(dtype=float)
        idx = np.searchsorted(given, np.asarray(dates, dtype=given.dtype), side="right") - 1
        out[t] = np.where(idx >= 0, mids[np.clip(idx, 0, None)], math.nan)
    return out


def _surprise(actual: float, mid: float) -> float:
    return actual / mid - 1.0 if np.isfinite(actual) and mid > 0 else math.nan


@dataclass(frozen=True)
class GuidedCapex:
    """Guided capex per projected fiscal year on the scenario's basis (``capex``).

    ``levels``: fiscal year -> USD m; ``notes``: fiscal year -> how the level was derived (or,
    for a guided year without a usable figure, why it is not used); ``other``: guidance the
    scenario cannot use (calendar years), in words.
    """

    levels: dict[int, float] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    other: tuple[str, ...] = ()


def _latest_with(ds: Any, ticker: str, names: tuple[str, ...], before: int) -> int | None:
    """The latest fiscal year < ``before`` in which every field in ``names`` is reported."""
    for year in sorted((y for y in ds.fiscal_years if y < before), reverse=True):
        if all(np.isfinite(_value(ds, ticker, n, year)) for n in names):
            return year
    return None


def _to_capex_basis(ds: Any, ticker: str, year: int, mid: float,
                    basis: Basis) -> tuple[float, str]:
    if basis.code == "capex":
        return mid, f"on the capex basis ({basis.how})"
    if basis.code == "capex_incl_fin_lease_principal":
        y = _latest_with(ds, ticker, ("fin_lease_principal_payments",), year)
        if y is None:
            return math.nan, "guide includes finance-lease principal, which is not reported"
        p = _value(ds, ticker, "fin_lease_principal_payments", y)
        return mid - p, (f"less FY{y} finance-lease principal payments {p:,.0f} (reported), "
                         "as the guide includes them")
    if basis.code == "cash_capex":
        y = _latest_with(ds, ticker, ("capex", "capex_net_of_proceeds"), year)
        if y is None:
            return math.nan, "guide is cash capex; the proceeds to add back are not reported"
        gross, net = (_value(ds, ticker, n, y) for n in ("capex", "capex_net_of_proceeds"))
        return mid + (gross - net), (f"plus FY{y} proceeds from sales and incentives "
                                     f"{gross - net:,.0f} (capex {gross:,.0f} - cash capex "
                                     f"{net:,.0f}, reported), as the guide is cash capex")
    return math.nan, basis.flag or f"basis {basis.label} cannot be converted"


def scenario_capex_guidance(table: pd.DataFrame, ds: Any, ticker: str,
                            years: Iterable[int]) -> GuidedCapex:
    """The latest guide of each projected fiscal year in ``years``, on the capex basis.

    Examples
    --------
    META's 2026 guide of $125-145bn includes finance-lease principal: its midpoint less the
    FY2025 principal payments (2,524) is 132,476 of capex.

    >>> from aicapex.data.dataset import load_dataset
    >>> from aicapex.data.guidance import load_guidance
    >>> g = scenario_capex_guidance(load_guidance(), load_dataset(), "META", [2026, 2027])
    >>> g.levels
    {2026: 132476.0}
    """
    ticker = str(ticker).upper()
    years = [int(y) for y in years]
    own = table[table["ticker"] == ticker]
    levels: dict[int, float] = {}
    notes: dict[int, str] = {}
    other = []
    for label, grp in own.groupby("guided_fiscal_year", sort=True):
        last = grp.sort_values("date_given", kind="stable").iloc[-1]
        year = int(last["fiscal_year"])
        if last["period"] != "FY":
            if years and min(years) - 1 <= year <= max(years):
                other.append(f"{label} guide {last['statement']!r} ({last['date_given']}) is "
                             "for a calendar year, not a fiscal year: not used")
            continue
        if year not in years:
            continue
        basis = _basis_of(last)
        given = f"{ticker} guidance of {last['date_given']}: {last['statement']}"
        mid = float(last["mid_musd"])
        if not np.isfinite(mid):
            notes[year] = f"{given} (no figure to use; the model path applies)"
            continue
        value, how = _to_capex_basis(ds, ticker, year, mid, basis)
        if not np.isfinite(value):
            notes[year] = f"{given} (not used: {how})"
            continue
        levels[year] = float(value)
        notes[year] = f"{given}; midpoint {mid:,.0f} {how}; sources {last['source']}"
    return GuidedCapex(levels, notes, tuple(other))
