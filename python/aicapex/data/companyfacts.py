"""SEC EDGAR "companyfacts" JSON → tidy annual and quarterly figures (USD millions).

The format is EDGAR's own (``https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json``)::

    {"cik": 320193, "entityName": "Apple Inc.",
     "facts": {"us-gaap": {"<Concept>": {"label": ..., "units": {"USD": [
         {"start": "2024-09-29", "end": "2025-09-27", "val": 12715000000,
          "accn": "0000320193-25-000079", "fy": 2025, "fp": "FY", "form": "10-K",
          "filed": "2025-10-31", "frame": "CY2025"}, ...]}}}}}

Rules, the same as the bundled snapshot's:

* each field maps to an ordered list of concepts (or sums of concepts); the first that has a
  value for the period wins (e.g. capex: ``PaymentsToAcquirePropertyPlantAndEquipment``, then
  ``PaymentsToAcquireProductiveAssets``);
* annual figures come from 10-K filings: flows with a ~12-month duration, balances at a
  fiscal-year end; the fiscal year is the calendar year in which the period ends (EDGAR's
  ``fy`` is the *filing's* fiscal year, not the figure's);
* quarterly flows are ~3-month durations from 10-Q/10-K filings; a quarter not reported on
  its own is derived from year-to-date figures (Q2 = H1 − Q1, Q3 = 9M − H1, Q4 = FY − 9M);
* on restatement the latest filing wins (latest ``filed`` date, then accession number); one
  filing giving two different values for the same concept and period is an error naming the
  file, concept, period and accession (identical repeats, common in EDGAR, are fine);
* the accession number is kept as the source of every figure.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from aicapex.errors import DataError

#: Field -> ordered fallbacks; each fallback is a tuple of concepts that are summed.
FIELD_CONCEPTS: dict[str, list[tuple[str, ...]]] = {
    "revenue": [
        ("RevenueFromContractWithCustomerExcludingAssessedTax",),
        ("Revenues",),
        ("SalesRevenueNet",),
    ],
    "ocf": [("NetCashProvidedByUsedInOperatingActivities",)],
    "capex": [
        ("PaymentsToAcquirePropertyPlantAndEquipment",),
        ("PaymentsToAcquireProductiveAssets",),
    ],
    "da_cashflow": [
        ("DepreciationDepletionAndAmortization",),
        ("DepreciationAmortizationAndAccretionNet",),
        ("DepreciationAndAmortization",),
    ],
    "ppe_net": [("PropertyPlantAndEquipmentNet",)],
    "op_lease_rou_assets": [("OperatingLeaseRightOfUseAsset",)],
    "op_lease_liabilities_total": [
        ("OperatingLeaseLiability",),
        ("OperatingLeaseLiabilityCurrent", "OperatingLeaseLiabilityNoncurrent"),
    ],
    "fin_lease_liabilities_total": [
        ("FinanceLeaseLiability",),
        ("FinanceLeaseLiabilityCurrent", "FinanceLeaseLiabilityNoncurrent"),
    ],
    "total_debt": [
        ("CommercialPaper", "LongTermDebtCurrent", "LongTermDebtNoncurrent"),
        ("LongTermDebt",),
    ],
    "cash_and_marketable_securities": [
        (
            "CashAndCashEquivalentsAtCarryingValue",
            "MarketableSecuritiesCurrent",
            "MarketableSecuritiesNoncurrent",
        ),
    ],
    "debt_issuance_proceeds": [("ProceedsFromIssuanceOfLongTermDebt",)],
    "interest_expense": [("InterestExpense",)],
}

#: Fields that are balances at a date (instants); the rest are flows over a period.
BALANCE_FIELDS = frozenset(
    {
        "ppe_net",
        "op_lease_rou_assets",
        "op_lease_liabilities_total",
        "fin_lease_liabilities_total",
        "total_debt",
        "cash_and_marketable_securities",
    }
)

#: Cash-flow fields reported as outflows that must be positive in our convention.
OUTFLOW_FIELDS = frozenset({"capex", "interest_expense"})

#: CIK -> ticker for the companies we cover.
KNOWN_CIKS: dict[int, str] = {
    320193: "AAPL",
    789019: "MSFT",
    1652044: "GOOGL",
    1018724: "AMZN",
    1326801: "META",
    1341439: "ORCL",
    1769628: "CRWV",
    1045810: "NVDA",
}

ANNUAL_DAYS = (350, 380)
QUARTER_DAYS = (80, 100)
ANNUAL_FORMS = ("10-K", "10-K/A", "20-F", "40-F")
QUARTERLY_FORMS = ("10-Q", "10-Q/A") + ANNUAL_FORMS

#: The tidy layout of every figure (SOURCES.md): ``tier`` grades the source — ``filing``
#: (10-K/10-Q text or XBRL), ``release`` (earnings release) or ``secondary``.
TIDY_COLUMNS = ["ticker", "fiscal_year", "fiscal_year_end", "field", "value_musd", "tier", "source",
                "note"]
TIERS = ("filing", "release", "secondary")
QUARTER_COLUMNS = [
    "ticker",
    "fiscal_year",
    "fiscal_quarter",
    "period_end",
    "fiscal_year_end",
    "field",
    "value_musd",
    "tier",
    "source",
    "note",
]


@dataclass(frozen=True)
class Fact:
    concept: str
    start: date | None
    end: date
    value: float  # USD
    accn: str
    form: str
    filed: str

    @property
    def days(self) -> int | None:
        return None if self.start is None else (self.end - self.start).days + 1


@dataclass
class CompanyFacts:
    """The parsed companyfacts of one company, as tidy frames in USD millions."""

    ticker: str
    cik: int
    annual: pd.DataFrame
    quarterly: pd.DataFrame


def _parse_date(text: object, where: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError as exc:
        raise DataError(f"{where}: bad date {text!r}") from exc


def _read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: malformed companyfacts JSON ({exc.msg} at line {exc.lineno})") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 JSON file") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("facts"), dict):
        raise DataError(f"{path}: not a companyfacts JSON (no 'facts' object)")
    if not isinstance(doc["facts"].get("us-gaap", {}), dict):
        raise DataError(f"{path}: not a companyfacts JSON ('facts' -> 'us-gaap' is not an object)")
    return doc


def _period(start: object, end: object) -> str:
    return f"{start} to {end}" if start else f"at {end}"


def _facts_for(doc: dict, concept: str, path: Path) -> list[Fact]:
    entry = doc["facts"].get("us-gaap", {}).get(concept)
    if entry is None:
        return []
    if not isinstance(entry, dict):
        raise DataError(f"{path}: concept {concept} is not an object")
    units = entry.get("units")
    if not isinstance(units, dict):
        raise DataError(f"{path}: concept {concept} has no 'units' object")
    if "USD" not in units:
        raise DataError(
            f"{path}: concept {concept} is reported in {', '.join(units) or 'no unit'}, expected USD"
        )
    if not isinstance(units["USD"], list):
        raise DataError(f"{path}: concept {concept} USD facts are not a list")
    facts = []
    for i, raw in enumerate(units["USD"]):
        where = f"{path}: {concept} USD[{i}]"
        if not isinstance(raw, dict) or "end" not in raw or "val" not in raw:
            raise DataError(f"{where}: fact lacks 'end' or 'val'")
        val = raw["val"]
        period = _period(raw.get("start"), raw["end"])
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            raise DataError(f"{where}: value {val!r} is not a number (period {period})")
        if not abs(val) <= sys.float_info.max:  # NaN, Infinity (Python's JSON), 1e400 ints
            raise DataError(f"{where}: value {val!r} is not a finite number (period {period})")
        facts.append(
            Fact(
                concept=concept,
                start=_parse_date(raw["start"], where) if raw.get("start") else None,
                end=_parse_date(raw["end"], where),
                value=float(val),
                accn=str(raw.get("accn", "")),
                form=str(raw.get("form", "")),
                filed=str(raw.get("filed", "")),
            )
        )
    return facts


def _pick(cands: list[Fact], path: Path) -> Fact:
    """The fact of the latest filing (restatements replace earlier values); the same filing
    giving two different values for one period is refused rather than resolved by file order."""
    best = max(cands, key=lambda f: (f.filed, f.accn))
    for f in cands:
        if (f.filed, f.accn) == (best.filed, best.accn) and f.value != best.value:
            raise DataError(
                f"{path}: {best.concept} {_period(best.start, best.end)}: filing {best.accn} "
                f"reports two different values ({best.value:,.0f} and {f.value:,.0f})"
            )
    return best


def _latest(facts: Iterable[Fact], path: Path) -> dict[tuple[date | None, date], Fact]:
    """One fact per period: the latest filing wins (see :func:`_pick`)."""
    by_period: dict[tuple[date | None, date], list[Fact]] = {}
    for f in facts:
        by_period.setdefault((f.start, f.end), []).append(f)
    return {key: _pick(cands, path) for key, cands in by_period.items()}


def _in(days: int | None, bounds: tuple[int, int]) -> bool:
    return days is not None and bounds[0] <= days <= bounds[1]


def _fiscal_year_ends(doc: dict, path: Path) -> list[date]:
    """Fiscal-year end dates: ends of ~12-month flows reported in annual filings."""
    ends: set[date] = set()
    for fallbacks in FIELD_CONCEPTS.values():
        for concepts in fallbacks:
            for concept in concepts:
                for f in _facts_for(doc, concept, path):
                    if f.form in ANNUAL_FORMS and _in(f.days, ANNUAL_DAYS):
                        ends.add(f.end)
    return sorted(ends)


def _combine(parts: list[Fact]) -> tuple[float, str, str]:
    """Sum the parts of a fallback; source names concepts and the latest accession."""
    value = sum(p.value for p in parts)
    latest = max(parts, key=lambda p: (p.filed, p.accn))
    concept = "+".join(p.concept for p in parts)
    return value, concept, latest.accn


def _source(cik: int, concept: str, form: str, accn: str) -> str:
    return f"SEC XBRL companyfacts CIK{cik:010d}; concept {concept}; {form} accn {accn}"


def load_companyfacts(path: str | Path, ticker: str | None = None) -> CompanyFacts:
    """Read one companyfacts JSON file into tidy annual and quarterly frames.

    Parameters
    ----------
    path : str or Path
        A companyfacts JSON as served by EDGAR.
    ticker : str, optional
        The ticker to file the figures under; by default looked up from the CIK.

    Raises
    ------
    DataError
        Malformed JSON, a non-USD unit where USD is expected, a non-numeric value, or an
        unknown CIK without ``ticker``; the message names the file and concept.
    """
    path = Path(path)
    doc = _read_json(path)
    try:
        cik = int(doc.get("cik"))
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"{path}: companyfacts JSON has no numeric 'cik'") from exc
    if ticker is None:
        ticker = KNOWN_CIKS.get(cik)
        if ticker is None:
            raise DataError(f"{path}: CIK {cik} is not a covered company; pass its ticker")
    ticker = ticker.upper()
    fy_ends = _fiscal_year_ends(doc, path)
    annual_rows: list[dict] = []
    quarter_rows: list[dict] = []
    for field, fallbacks in FIELD_CONCEPTS.items():
        annual_rows += _annual_field(doc, path, cik, ticker, field, fallbacks, fy_ends)
        if field not in BALANCE_FIELDS:
            quarter_rows += _quarterly_field(doc, path, cik, ticker, field, fallbacks, fy_ends)
    annual = pd.DataFrame(annual_rows, columns=TIDY_COLUMNS)
    quarterly = pd.DataFrame(quarter_rows, columns=QUARTER_COLUMNS)
    return CompanyFacts(ticker=ticker, cik=cik, annual=annual, quarterly=quarterly)


def _annual_field(doc, path, cik, ticker, field, fallbacks, fy_ends) -> list[dict]:
    rows = []
    for fy_end in fy_ends:
        for concepts in fallbacks:
            parts = []
            for concept in concepts:
                facts = [f for f in _facts_for(doc, concept, path) if f.form in ANNUAL_FORMS]
                if field in BALANCE_FIELDS:
                    cands = [f for f in facts if f.start is None and f.end == fy_end]
                else:
                    cands = [f for f in facts if f.end == fy_end and _in(f.days, ANNUAL_DAYS)]
                if cands:
                    parts.append(_pick(cands, path))
            if parts and len(parts) == len(concepts):
                value, concept, accn = _combine(parts)
                rows.append(
                    _row(ticker, fy_end.year, fy_end, field, value, cik, concept, "10-K", accn)
                )
                break
    return rows


def _quarterly_field(doc, path, cik, ticker, field, fallbacks, fy_ends) -> list[dict]:
    # Only single-concept fallbacks are used for quarters (sums are balance-sheet lines).
    for (concept,) in (c for c in fallbacks if len(c) == 1):
        facts = [f for f in _facts_for(doc, concept, path) if f.form in QUARTERLY_FORMS]
        if not facts:
            continue
        by_period = _latest(facts, path)
        rows: dict[date, dict] = {}
        for (_start, end), f in by_period.items():
            if _in(f.days, QUARTER_DAYS):
                fy_end = _fiscal_year_end_for(end, fy_ends)
                if fy_end is None:
                    continue
                q = _quarter_number(end, fy_end)
                rows[end] = _row(
                    ticker, fy_end.year, fy_end, field, f.value, cik, concept, f.form, f.accn,
                    quarter=q, period_end=end,
                )
        # Cash-flow statements are year-to-date: derive a quarter missing on its own as
        # YTD(k) - YTD(k-1) from facts that start on the fiscal year's first day
        # (Q2 = H1 - Q1, Q3 = 9M - H1, Q4 = FY - 9M).
        for fy_end in fy_ends:
            annual = [f for (s, e), f in by_period.items() if e == fy_end and _in(f.days, ANNUAL_DAYS)]
            if not annual:
                continue
            fy_start = annual[0].start
            ytd = {
                _quarter_number(e, fy_end): f
                for (s, e), f in by_period.items()
                if s == fy_start and e <= fy_end
            }
            for k in (2, 3, 4):
                end_k = ytd.get(k)
                prev = ytd.get(k - 1)
                if end_k is None or prev is None or end_k.end in rows:
                    continue
                a, b = end_k.value, prev.value
                note = (f"derived: year-to-date Q{k} ({end_k.accn}) minus year-to-date "
                        f"Q{k - 1} ({prev.accn})")
                if field in OUTFLOW_FIELDS and (a < 0 or b < 0):
                    # Flip before subtracting: one filing tagging the outflow negative and the
                    # next positive must not turn 100 - (-70) into a 170 quarter.
                    a, b = abs(a), abs(b)
                    note += "; sign flipped: reported negative, stored as outflow"
                rows[end_k.end] = _row(
                    ticker, fy_end.year, fy_end, field, a - b, cik, concept,
                    end_k.form, end_k.accn, quarter=k, period_end=end_k.end, note=note,
                )
        return [rows[k] for k in sorted(rows)]
    return []


def _fiscal_year_end_for(end: date, fy_ends: list[date]) -> date | None:
    for fy_end in fy_ends:
        if end <= fy_end and (fy_end - end).days < 366:
            return fy_end
    return None


def _quarter_number(end: date, fy_end: date) -> int:
    months_before = round((fy_end - end).days / 30.44)
    return max(1, min(4, 4 - round(months_before / 3)))


def _row(ticker, fiscal_year, fy_end, field, value, cik, concept, form, accn, *, quarter=None,
         period_end=None, note="") -> dict:
    if field in OUTFLOW_FIELDS and value < 0:
        # Our convention stores outflows positive; EDGAR filers occasionally tag them negative.
        value = -value
        note = (note + "; " if note else "") + "sign flipped: reported negative, stored as outflow"
    row = {
        "ticker": ticker,
        "fiscal_year": int(fiscal_year),
        "fiscal_year_end": fy_end.isoformat(),
        "field": field,
        "value_musd": value / 1e6,
        "tier": "filing",  # SEC XBRL facts are the filing itself
        "source": _source(cik, concept, form, accn),
        "note": note,
    }
    if quarter is not None:
        row["fiscal_quarter"] = f"Q{quarter}"
        row["period_end"] = period_end.isoformat()
    return row
