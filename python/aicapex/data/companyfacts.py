"""SEC EDGAR "companyfacts" JSON → tidy annual and quarterly figures (USD millions).

The format is EDGAR's own (``https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json``)::

    {"cik": 320193, "entityName": "Apple Inc.",
     "facts": {"us-gaap": {"<Concept>": {"label": ..., "units": {"USD": [
         {"start": "2024-09-29", "end": "2025-09-27", "val": 12715000000,
          "accn": "0000320193-25-000079", "fy": 2025, "fp": "FY", "form": "10-K",
          "filed": "2025-10-31", "frame": "CY2025"}, ...]}}}}}

Which concepts give each field is the concept map (:mod:`aicapex.data.concepts`: ordered
fallbacks, per company where a company tags differently). The period rules, the same as the
bundled snapshot's:

* **fiscal years** end where ~12-month flows of 10-K filings end; the fiscal year is the
  calendar year in which it ends (EDGAR's ``fy`` is the *filing's* fiscal year, not the
  figure's). Quarters after the latest 10-K belong to the next fiscal year, which ends a year
  after the last (52 weeks for a 52/53-week filer such as Apple); a filer without a 10-K yet
  gets its fiscal years from the start of its 10-Q year-to-date figures;
* **annual** figures come from 10-K filings: flows with a ~12-month duration, balances at a
  fiscal-year end;
* **quarterly** flows are ~3-month durations from 10-Q/10-K filings; a quarter not reported on
  its own is derived from year-to-date figures (Q2 = H1 − Q1, Q3 = 9M − H1, Q4 = FY − 9M); a
  year-to-date zero of a flow that cannot be negative (debt proceeds, capex, lease payments)
  makes each quarter in it zero; balances are taken at each quarter end;
* **restatements**: the latest filing wins (latest ``filed`` date, then accession number); one
  filing giving two different values for the same concept and period is an error naming the
  file, concept, period and accession (identical repeats, common in EDGAR, are fine);
* the accession number (and, for a download, the fetch date) is kept as the source of every
  figure; the tier is ``filing``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from aicapex.data.concepts import GENERIC, all_concepts, concept_map, concept_name
from aicapex.errors import DataError

#: The generic concept map (any filer); see :func:`aicapex.data.concepts.concept_map`.
FIELD_CONCEPTS = GENERIC

#: Fields that are balances at a date (instants); the rest are flows over a period.
BALANCE_FIELDS = frozenset(
    {
        "ppe_net",
        "op_lease_rou_assets",
        "op_lease_liabilities_total",
        "fin_lease_liabilities_total",
        "total_debt",
        "cash_and_marketable_securities",
        "rpo",
        "short_term_debt",
        "ltd_noncurrent_incl_fin_leases",
    }
)

#: Cash-flow fields reported as outflows that must be positive in our convention.
OUTFLOW_FIELDS = frozenset({"capex", "interest_expense", "fin_lease_principal_payments",
                            "fin_lease_additions", "capex_incl_fin_lease_principal"})

#: Gross flows that cannot be negative: a year-to-date zero makes each quarter in it zero.
ZERO_YTD_FIELDS = frozenset({"capex", "debt_issuance_proceeds", "st_debt_proceeds",
                             "fin_lease_principal_payments", "fin_lease_additions"})

#: CIK -> ticker for the companies we cover (any other filer gets its ticker from the SEC's
#: ticker map cached by ``python -m aicapex fetch``, or from its file name).
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
YTD_DAYS = ((170, 200), (260, 290))  # half year, nine months
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

#: A file named after its ticker (``CRWV.json``, ``crwv_companyfacts.json``) in an overrides
#: folder files its figures under that ticker.
_TICKER_FILE = re.compile(r"^([A-Za-z][A-Za-z0-9.\-]{0,9})(?:[_ ].*)?$")


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


@dataclass(frozen=True)
class _Value:
    """One concept's figure for one period, with the filing it comes from."""

    value: float  # USD
    concept: str
    form: str
    accn: str
    filed: str
    note: str = ""


@dataclass
class CompanyFacts:
    """The parsed companyfacts of one company, as tidy frames in USD millions.

    ``latest_filed`` is the filing date of the latest filing behind any figure (the data
    vintage); ``entity_name`` the registrant's name as EDGAR gives it.
    """

    ticker: str
    cik: int
    annual: pd.DataFrame
    quarterly: pd.DataFrame
    entity_name: str = ""
    latest_filed: str = ""
    fields: list[str] = field(default_factory=list)


# -- reading and validating -----------------------------------------------------------------


def _parse_date(text: object, where: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError as exc:
        raise DataError(f"{where}: bad date {text!r}") from exc


def parse_json(data: bytes | str, where: str | Path) -> dict:
    """Decode a companyfacts document and check its outline; errors name ``where``."""
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: malformed companyfacts JSON ({exc.msg} at line {exc.lineno})") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: not a UTF-8 JSON file") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("facts"), dict):
        raise DataError(f"{where}: not a companyfacts JSON (no 'facts' object)")
    if not isinstance(doc["facts"].get("us-gaap", {}), dict):
        raise DataError(f"{where}: not a companyfacts JSON ('facts' -> 'us-gaap' is not an object)")
    return doc


def _read_json(path: Path) -> dict:
    return parse_json(path.read_bytes(), path)


def document_cik(doc: dict, where: str | Path) -> int:
    """The CIK a companyfacts document is about."""
    try:
        return int(doc.get("cik"))
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"{where}: companyfacts JSON has no numeric 'cik'") from exc


def _period(start: object, end: object) -> str:
    return f"{start} to {end}" if start else f"at {end}"


def _facts_for(doc: dict, concept: str, path: Path | str) -> list[Fact]:
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


def _pick(cands: list[Fact], path: Path | str) -> Fact:
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


def _latest(facts: list[Fact], path: Path | str) -> dict[tuple[date | None, date], Fact]:
    """One fact per period: the latest filing wins (see :func:`_pick`)."""
    by_period: dict[tuple[date | None, date], list[Fact]] = {}
    for f in facts:
        by_period.setdefault((f.start, f.end), []).append(f)
    return {key: _pick(cands, path) for key, cands in by_period.items()}


def _in(days: int | None, bounds: tuple[int, int]) -> bool:
    return days is not None and bounds[0] <= days <= bounds[1]


# -- the fiscal calendar --------------------------------------------------------------------


@dataclass
class _Calendar:
    """Fiscal-year ends (from 10-Ks, then projected) and every quarter end inside them."""

    annual_ends: list[date]  # reported in a 10-K: annual rows exist for these
    fy_ends: list[date]  # annual_ends plus projected ones (quarters only)
    quarter_ends: dict[date, dict[int, date]]  # fy_end -> {quarter number: period end}

    def fy_end_for(self, end: date) -> date | None:
        for fy_end in self.fy_ends:
            if end <= fy_end and (fy_end - end).days < 366:
                return fy_end
        return None


def _add_year(d: date) -> date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year + 1, day=28)


def _next_fy_end(ends: list[date]) -> date:
    """A year after the last end: 52 weeks later for a 52/53-week filer (ends on a weekday,
    e.g. Apple's last Saturday of September), the same date a year later otherwise."""
    last = ends[-1]
    weeks = len(ends) > 1 and all((b - a).days in (364, 371) for a, b in zip(ends, ends[1:],
                                                                              strict=False))
    return last + timedelta(days=364) if weeks else _add_year(last)


def _calendar(flows: list[Fact]) -> _Calendar:
    annual_ends = sorted({f.end for f in flows if f.form in ANNUAL_FORMS and _in(f.days, ANNUAL_DAYS)})
    fy_ends = list(annual_ends)
    later = [f.end for f in flows if fy_ends and f.end > fy_ends[-1]]
    if fy_ends and later:
        fy_ends.append(_next_fy_end(fy_ends))
    # Year-to-date figures start on the first day of a fiscal year: a fiscal year that no
    # 10-K reports (a new filer's first) ends a year after that start.
    for f in flows:
        if f.start is not None and any(_in(f.days, b) for b in YTD_DAYS):
            cand = _add_year(f.start) - timedelta(days=1)
            if all(abs((cand - e).days) > 10 for e in fy_ends):
                fy_ends.append(cand)
    fy_ends.sort()
    cal = _Calendar(annual_ends, fy_ends, {})
    for f in flows:
        if f.start is None or not (_in(f.days, QUARTER_DAYS) or any(_in(f.days, b) for b in YTD_DAYS)
                                   or _in(f.days, ANNUAL_DAYS)):
            continue
        fy_end = cal.fy_end_for(f.end)
        if fy_end is not None:
            cal.quarter_ends.setdefault(fy_end, {})[_quarter_number(f.end, fy_end)] = f.end
    return cal


def _quarter_number(end: date, fy_end: date) -> int:
    months_before = round((fy_end - end).days / 30.44)
    return max(1, min(4, 4 - round(months_before / 3)))


# -- one concept, every period --------------------------------------------------------------


def _value(f: Fact, note: str = "") -> _Value:
    return _Value(f.value, f.concept, f.form, f.accn, f.filed, note)


def _annual_values(facts: list[Fact], cal: _Calendar, balance: bool, path) -> dict[date, _Value]:
    facts = [f for f in facts if f.form in ANNUAL_FORMS]
    out = {}
    for fy_end in cal.annual_ends:
        if balance:
            cands = [f for f in facts if f.start is None and f.end == fy_end]
        else:
            cands = [f for f in facts if f.end == fy_end and _in(f.days, ANNUAL_DAYS)]
        if cands:
            out[fy_end] = _value(_pick(cands, path))
    return out


def _quarter_values(facts: list[Fact], cal: _Calendar, name: str, path) -> dict[date, _Value]:
    """Quarter end -> figure: reported 3-month flows, else derived from year-to-date; balances
    at each quarter end."""
    facts = [f for f in facts if f.form in QUARTERLY_FORMS]
    if not facts:
        return {}
    by_period = _latest(facts, path)
    if name in BALANCE_FIELDS:
        ends = {e for quarters in cal.quarter_ends.values() for e in quarters.values()}
        return {e: _value(f) for (s, e), f in by_period.items() if s is None and e in ends}
    outflow = name in OUTFLOW_FIELDS
    out: dict[date, _Value] = {}
    for (_start, end), f in by_period.items():
        if _in(f.days, QUARTER_DAYS) and cal.fy_end_for(end) is not None:
            out[end] = _value(f)
    # Cash-flow statements are year-to-date: derive a quarter missing on its own as
    # YTD(k) - YTD(k-1) from facts that start on the fiscal year's first day.
    for fy_end in cal.fy_ends:
        # The fiscal year's first day: where the year-to-date figures of this year start.
        starts = Counter(s for (s, e) in by_period if s is not None
                         and cal.fy_end_for(e) == fy_end and _in((fy_end - s).days + 1, ANNUAL_DAYS))
        for fy_start, _n in starts.most_common(1):
            ytd = {
                _quarter_number(e, fy_end): f
                for (s, e), f in by_period.items()
                if s == fy_start and e <= fy_end
            }
            for k in (2, 3, 4):
                end_k, prev = ytd.get(k), ytd.get(k - 1)
                if end_k is None or prev is None or end_k.end in out:
                    continue
                a, b = end_k.value, prev.value
                note = (f"derived: year-to-date Q{k} ({end_k.accn}) minus year-to-date "
                        f"Q{k - 1} ({prev.accn})")
                if outflow and (a < 0 or b < 0):
                    # Flip before subtracting: one filing tagging the outflow negative and the
                    # next positive must not turn 100 - (-70) into a 170 quarter.
                    a, b = abs(a), abs(b)
                    note += "; sign flipped: reported negative, stored as outflow"
                out[end_k.end] = _Value(a - b, end_k.concept, end_k.form, end_k.accn,
                                        end_k.filed, note)
            if name in ZERO_YTD_FIELDS:
                quarters = cal.quarter_ends.get(fy_end, {})
                for k, f in ytd.items():
                    if f.value != 0:
                        continue
                    for j in range(1, k + 1):
                        end_j = quarters.get(j)
                        if end_j is not None and end_j not in out:
                            out[end_j] = _Value(
                                0.0, f.concept, f.form, f.accn, f.filed,
                                f"derived: year-to-date Q{k} is 0 ({f.accn}) and this flow "
                                "cannot be negative, so each quarter in it is 0")
    return out


def _combine(parts: list[tuple[str, _Value]]) -> _Value:
    """Sum (or subtract, for ``-Name`` parts) one period's figures of a fallback; the source
    names the concepts and the latest filing among them."""
    value = sum(-v.value if p.startswith("-") else v.value for p, v in parts)
    latest = max((v for _p, v in parts), key=lambda v: (v.filed, v.accn))
    concept = "".join(("-" if p.startswith("-") else "+" if i else "") + v.concept
                      for i, (p, v) in enumerate(parts))
    notes = "; ".join(dict.fromkeys(v.note for _p, v in parts if v.note))
    return _Value(value, concept, latest.form, latest.accn, latest.filed, notes)


# -- rows -----------------------------------------------------------------------------------


def _source(cik: int, v: _Value, fetched: str | None) -> str:
    text = (f"SEC companyfacts CIK{cik:010d}, accn {v.accn} ({v.form} filed {v.filed}), "
            f"concept {v.concept}")
    return text + (f", fetched {fetched}" if fetched else "")


def _row(ticker, fy_end, name, v: _Value, cik, fetched, *, quarter=None, period_end=None) -> dict:
    value, note = v.value, v.note
    if name in OUTFLOW_FIELDS and value < 0:
        # Our convention stores outflows positive; EDGAR filers occasionally tag them negative.
        value = -value
        note = (note + "; " if note else "") + "sign flipped: reported negative, stored as outflow"
    row = {
        "ticker": ticker,
        "fiscal_year": int(fy_end.year),
        "fiscal_year_end": fy_end.isoformat(),
        "field": name,
        "value_musd": value / 1e6,
        "tier": "filing",  # SEC XBRL facts are the filing itself
        "source": _source(cik, v, fetched),
        "note": note,
    }
    if quarter is not None:
        row["fiscal_quarter"] = f"Q{quarter}"
        row["period_end"] = period_end.isoformat()
    return row


def ticker_from_file_name(path: str | Path) -> str | None:
    """``CRWV.json`` or ``CRWV_companyfacts.json`` -> ``CRWV``; EDGAR's own ``CIK…`` names
    say nothing about the ticker (``None``).

    Examples
    --------
    >>> ticker_from_file_name("crwv_companyfacts.json"), ticker_from_file_name("CIK0001769628.json")
    ('CRWV', None)
    """
    stem = Path(path).stem
    m = _TICKER_FILE.match(stem)
    if m is None or stem.upper().startswith("CIK"):
        return None
    return m.group(1).upper()


def resolve_ticker(cik: int, where: str | Path, ticker: str | None = None,
                   ticker_map: dict[int, str] | None = None) -> str:
    """The ticker to file a company's figures under: the one given, a covered company's, the
    SEC ticker map's (cached by ``fetch``), or the file's name; otherwise a one-line error
    naming the ways to give it."""
    if ticker:
        return ticker.strip().upper()
    found = KNOWN_CIKS.get(cik) or (ticker_map or {}).get(cik) or ticker_from_file_name(where)
    if found:
        return found.upper()
    raise DataError(
        f"{where}: CIK {cik} is not a covered company and its ticker is unknown; name the file "
        f"after the ticker (e.g. TICKER.json) or run `python -m aicapex fetch --cik {cik}`, "
        "which looks it up in the SEC's ticker map"
    )


def parse_companyfacts(doc: dict, where: str | Path, ticker: str | None = None, *,
                       fetched: str | None = None,
                       ticker_map: dict[int, str] | None = None) -> CompanyFacts:
    """Tidy frames from a decoded companyfacts document (see :func:`load_companyfacts`)."""
    cik = document_cik(doc, where)
    ticker = resolve_ticker(cik, where, ticker, ticker_map)
    mapping = concept_map(ticker)
    facts = {c: _facts_for(doc, c, where) for c in all_concepts(mapping)}
    flows = [f for name, fallbacks in mapping.items() if name not in BALANCE_FIELDS
             for parts in fallbacks for p in parts for f in facts[concept_name(p)]]
    cal = _calendar(flows)
    annual_rows: list[dict] = []
    quarter_rows: list[dict] = []
    latest_filed = ""
    for name, fallbacks in mapping.items():
        balance = name in BALANCE_FIELDS
        annual_parts: list[dict[str, dict[date, _Value]]] = []
        quarter_parts: list[dict[str, dict[date, _Value]]] = []
        for parts in fallbacks:
            annual_parts.append({p: _annual_values(facts[concept_name(p)], cal, balance, where)
                                 for p in parts})
            quarter_parts.append({p: _quarter_values(facts[concept_name(p)], cal, name, where)
                                  for p in parts})
        for fy_end in cal.annual_ends:
            v = _first_complete(annual_parts, fy_end)
            if v is not None:
                annual_rows.append(_row(ticker, fy_end, name, v, cik, fetched))
                latest_filed = max(latest_filed, v.filed)
        ends = sorted({e for by_part in quarter_parts for values in by_part.values() for e in values})
        for end in ends:
            fy_end = cal.fy_end_for(end)
            v = _first_complete(quarter_parts, end)
            if v is None or fy_end is None:
                continue
            quarter_rows.append(_row(ticker, fy_end, name, v, cik, fetched,
                                     quarter=_quarter_number(end, fy_end), period_end=end))
            latest_filed = max(latest_filed, v.filed)
    annual = pd.DataFrame(annual_rows, columns=TIDY_COLUMNS)
    quarterly = pd.DataFrame(quarter_rows, columns=QUARTER_COLUMNS)
    return CompanyFacts(ticker=ticker, cik=cik, annual=annual, quarterly=quarterly,
                        entity_name=str(doc.get("entityName") or ""), latest_filed=latest_filed,
                        fields=sorted(set(annual["field"]) | set(quarterly["field"])))


def _first_complete(fallback_parts: list[dict[str, dict[date, _Value]]], end: date) -> _Value | None:
    """The first fallback whose every part has a figure for the period ``end``."""
    for by_part in fallback_parts:
        values = [(p, by_part[p].get(end)) for p in by_part]
        if values and all(v is not None for _p, v in values):
            return values[0][1] if len(values) == 1 else _combine(values)
    return None


def load_companyfacts(path: str | Path, ticker: str | None = None, *,
                      fetched: str | None = None,
                      ticker_map: dict[int, str] | None = None) -> CompanyFacts:
    """Read one companyfacts JSON file into tidy annual and quarterly frames.

    Parameters
    ----------
    path : str or Path
        A companyfacts JSON as served by EDGAR.
    ticker : str, optional
        The ticker to file the figures under; by default a covered company's ticker, the SEC
        ticker map's (``ticker_map``: CIK -> ticker) or the file's name (``CRWV.json``).
    fetched : str, optional
        The date the file was downloaded, added to each figure's source.

    Raises
    ------
    DataError
        Malformed JSON, a non-USD unit where USD is expected, a non-numeric value, or an
        unknown CIK whose ticker cannot be found; the message names the file and concept.
    """
    path = Path(path)
    return parse_companyfacts(_read_json(path), path, ticker, fetched=fetched,
                              ticker_map=ticker_map)
