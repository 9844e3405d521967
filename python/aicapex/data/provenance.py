"""Parse the source text of a figure into form, accession number and an EDGAR address."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aicapex.data.companyfacts import KNOWN_CIKS

CIK_BY_TICKER = {t: c for c, t in KNOWN_CIKS.items()}
_ACCN = re.compile(r"\b(\d{10}-\d{2}-\d{6})\b")
_CIK = re.compile(r"\bCIK ?0*(\d{1,10})\b")
_FORM = re.compile(r"\b(10-K/A|10-K|10-Q|8-K|20-F)\b")


@dataclass(frozen=True)
class Provenance:
    form: str
    accession: str
    url: str


def parse_source(ticker: str, source: str) -> Provenance:
    """Form and accession number named in ``source``; the EDGAR filing index URL when both the
    accession and the company's CIK are known (a covered company's, or the ``CIK…`` a source
    from SEC companyfacts names, e.g. a fetched filer), else empty (never guessed).

    Examples
    --------
    >>> p = parse_source("MSFT", "Microsoft 10-K FY2025 (acc 0000950170-25-100235); text copy")
    >>> (p.form, p.accession)
    ('10-K', '0000950170-25-100235')
    >>> p.url
    'https://www.sec.gov/Archives/edgar/data/789019/000095017025100235/'
    >>> parse_source("CRWV", "SEC companyfacts CIK0001769628, accn 0001769628-26-000010 "
    ...              "(10-K filed 2026-03-02), concept Revenues, fetched 2026-12-02").url
    'https://www.sec.gov/Archives/edgar/data/1769628/000176962826000010/'
    """
    accn = _ACCN.search(source or "")
    form = _FORM.search(source or "")
    named = _CIK.search(source or "")
    cik = int(named.group(1)) if named else CIK_BY_TICKER.get(ticker)
    url = ""
    if accn and cik:
        url = f"https://www.sec.gov/Archives/edgar/data/{cik}/{accn.group(1).replace('-', '')}/"
    return Provenance(form.group(1) if form else "", accn.group(1) if accn else "", url)
