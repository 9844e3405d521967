"""What every figure and metric means, per company: the one place that says so.

The command line (``metrics``, ``report``, ``data``), the CPX_ functions (``CPX_DEFINITION``,
``CPX_RATIOS``, ``CPX_PEER``) and the workbook's sheets read their definitions, the AI-peer
set and the capex basis from here, so a definition is written once. The texts follow the
data set's ``SOURCES.md`` ("Definitional differences" and "Update 2026-12-01").

Capex basis
    ``cash`` (default): each company's own cash-flow capex line (:data:`CAPEX_LINE`).
    ``incl-finance-leases``: that line **plus principal payments on finance leases**
    (``fin_lease_principal_payments``): the cash paid in the year for assets acquired under
    finance leases, Meta's convention for its headline capex. One rule for every company;
    where the principal payments are not reported (Oracle, Apple, Alphabet and Meta before
    2022) capex on this basis is missing, never the cash line alone and never zero.

Free cash flow
    Each company's own definition on the ``cash`` basis (:data:`FCF_CAPEX_FIELDS`): OCF less
    capex for Microsoft, Alphabet, Oracle and Apple; OCF less capex net of proceeds and
    incentives for Amazon; OCF less capex and finance-lease principal for Meta. On the
    ``incl-finance-leases`` basis finance-lease principal is deducted for every company
    (Meta's figure is unchanged).

Terms
    :func:`capex_terms` and :func:`fcf_deduction_terms` give the reported fields whose sum
    is "capex" and "the capex FCF deducts" for a company on a basis; a sum with any term
    missing is missing. The workbook can build the same sums from ``CPX_VALUE`` cells.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from aicapex.errors import ArgumentError

__all__ = [
    "PEER_SET",
    "CONTROL_SET",
    "PEER",
    "CAPEX_BASES",
    "DEFAULT_CAPEX_BASIS",
    "CAPEX_BASIS_RULES",
    "BasisBreak",
    "BASIS_BREAKS",
    "check_capex_basis",
    "company_role",
    "capex_terms",
    "fcf_deduction_terms",
    "input_terms",
    "field_definition",
    "capex_definition",
    "fcf_definition",
    "metric_definition",
    "peer_definition",
    "basis_breaks",
    "break_note",
    "definitions_frame",
    "suggest",
    "nearest",
]

#: The AI peers: the companies whose sums make the peer aggregate and the peer charts.
PEER_SET: tuple[str, ...] = ("MSFT", "GOOGL", "AMZN", "META", "ORCL")
#: Control companies: reported on their own, never inside the AI-peer aggregate.
CONTROL_SET: tuple[str, ...] = ("AAPL",)
#: Pseudo-ticker for the peer aggregate on the command line and in ``CPX_PEER``.
PEER = "PEER"

CAPEX_BASES: tuple[str, ...] = ("cash", "incl-finance-leases")
DEFAULT_CAPEX_BASIS = "cash"
CAPEX_BASIS_RULES = {
    "cash": "each company's cash-flow capex line",
    "incl-finance-leases": "cash-flow capex line + principal payments on finance leases "
    "(fin_lease_principal_payments; cash basis, Meta's convention); missing where the "
    "principal payments are not reported",
}

#: The reported fields added to capex on each basis.
_BASIS_EXTRA: dict[str, tuple[str, ...]] = {
    "cash": (),
    "incl-finance-leases": ("fin_lease_principal_payments",),
}

#: What each company's FCF deducts from OCF on the cash basis (its own definition).
FCF_CAPEX_FIELDS: dict[str, tuple[str, ...]] = {
    "AMZN": ("capex_net_of_proceeds",),
    "META": ("capex", "fin_lease_principal_payments"),
}
_DEFAULT_FCF_CAPEX = ("capex",)

#: Each company's cash-flow capex line (the ``capex`` field).
CAPEX_LINE: dict[str, str] = {
    "MSFT": "Additions to property and equipment (cash-flow line); excludes assets acquired "
            "under finance leases, which Microsoft's own headline capex includes",
    "GOOGL": "Purchases of property and equipment (cash-flow line); excludes finance leases",
    "AMZN": "Purchases of property and equipment, gross (cash-flow line); proceeds from "
            "property and equipment sales and incentives are a separate line",
    "META": "Purchases of property and equipment, net of small sale proceeds (cash-flow line, "
            "10-K FY2024 basis); excludes principal payments on finance leases, which Meta's "
            "headline capex adds",
    "ORCL": "Capital expenditures: purchases of property and equipment (cash-flow line)",
    "AAPL": "Payments for acquisition of property, plant and equipment (cash-flow line)",
}

_FCF_OWN: dict[str, str] = {
    "AMZN": "OCF - capex net of proceeds from property and equipment sales and incentives "
            "(Amazon's definition)",
    "META": "OCF - capex - principal payments on finance leases (Meta's definition)",
}
_FCF_DEFAULT = "OCF - capex (the company's definition)"

#: Per-company definitions of reported fields (ticker -> field -> text).
_FIELD_BY_COMPANY: dict[str, dict[str, str]] = {
    "da_cashflow": {
        "MSFT": "Depreciation, amortization, and other (cash-flow line; includes other "
                "non-cash items)",
        "GOOGL": "Depreciation of property and equipment only (cash-flow line as re-presented "
                 "in the FY2023/24 10-Ks); excludes amortization of intangibles; FY2019-FY2020 "
                 "include impairment of property and equipment",
        "AMZN": "Depreciation and amortization of property and equipment and capitalized "
                "content costs, operating lease assets, and other (cash-flow line)",
        "META": "Depreciation and amortization (cash-flow line); FY2025 is the MD&A figure "
                "($18.62bn, rounded)",
        "ORCL": "Depreciation plus amortization of intangible assets (incl. acquired Cerner "
                "intangibles), the two cash-flow lines summed",
        "AAPL": "Depreciation and amortization (cash-flow line)",
    },
    "total_debt": {
        "MSFT": "Long-term debt at carrying value incl. current portion; excludes leases and "
                "commercial paper (short_term_debt)",
        "GOOGL": "2021-2023: long-term debt incl. current portion and finance-lease "
                 "liabilities; 2024 on: total debt and finance-lease liabilities incl. "
                 "short-term debt (broader)",
        "AMZN": "Long-term debt at carrying value incl. current portion; excludes lease "
                "liabilities",
        "META": "Balance-sheet long-term debt",
        "ORCL": "Notes payable and other borrowings, current plus non-current (carrying "
                "value); excludes leases (finance leases from FY2025 in "
                "fin_lease_liabilities_total)",
        "AAPL": "Commercial paper plus term debt, current and non-current",
    },
    "cash_and_marketable_securities": {
        "MSFT": "Cash, cash equivalents and short-term investments",
        "GOOGL": "Cash, cash equivalents and short-term marketable securities",
        "AMZN": "Cash and cash equivalents plus marketable securities",
        "META": "Cash and cash equivalents plus marketable securities",
        "ORCL": "Cash and cash equivalents plus marketable securities",
        "AAPL": "Cash and cash equivalents plus current and non-current marketable securities",
    },
    "debt_issuance_proceeds": {
        "MSFT": "Proceeds from issuance of debt (maturities over 90 days); excludes net "
                "short-term borrowings",
        "GOOGL": "Proceeds from issuance of debt, net of costs (includes commercial paper)",
        "AMZN": "Proceeds from long-term debt (cash-flow line)",
        "META": "Proceeds from issuance of long-term debt, net",
        "ORCL": "Proceeds from issuances of senior notes, term loans and other borrowings, "
                "net of issuance costs",
        "AAPL": "Proceeds from issuance of term debt, net",
    },
    "rpo": {
        "MSFT": "Total remaining performance obligations incl. unearned revenue (stated in $bn)",
        "GOOGL": "Remaining performance obligations (XBRL); 2024-2025 revenue backlog, mainly "
                 "Google Cloud, from secondary summaries of the 10-K ($bn)",
        "AMZN": "Commitments not yet recognized under contracts over 1 year, mainly AWS",
        "META": "Not reported (Meta reports no RPO)",
        "ORCL": "Remaining performance obligations (stated in $bn)",
        "AAPL": "Not reported",
    },
    "cloud_segment_revenue": {
        "MSFT": "Intelligent Cloud segment revenue; FY2023 on the segment definition of Aug "
                "2024, FY2019-FY2022 on the old one (no recast)",
        "GOOGL": "Google Cloud segment revenues",
        "AMZN": "AWS segment net sales",
        "ORCL": "Cloud services and license support (includes on-premise license support)",
        "META": "No cloud segment",
        "AAPL": "No cloud segment",
    },
    "op_lease_rou_assets": {
        "ORCL": "Operating-lease right-of-use assets; FY2020-FY2024 rounded $bn from the text "
                "(not a balance-sheet line)",
    },
    "ppe_net": {
        "MSFT": "Property and equipment, net (includes finance-lease assets)",
        "META": "Property and equipment, net (includes finance-lease assets)",
    },
}

#: Definitions of reported fields that mean the same for every company.
_FIELD_GENERIC: dict[str, str] = {
    "revenue": "Total revenue / net sales",
    "ocf": "Net cash provided by operating activities (cash-flow line)",
    "capex_net_of_proceeds": "Purchases of property and equipment net of proceeds from "
                             "sales and incentives (Amazon's free-cash-flow capex)",
    "capex_incl_fin_lease_principal": "Capex including principal payments on finance leases, "
                                      "as the company reports it (Meta)",
    "fin_lease_principal_payments": "Principal payments on finance leases (financing cash "
                                    "flow)",
    "fin_lease_additions": "Non-cash finance-lease additions (ROU assets obtained for new "
                           "finance-lease liabilities); not in capex",
    "fin_lease_liabilities_total": "Finance-lease liabilities, current plus non-current",
    "op_lease_rou_assets": "Operating-lease right-of-use assets",
    "op_lease_liabilities_total": "Operating-lease liabilities, current plus non-current",
    "ppe_net": "Property and equipment, net",
    "interest_expense": "Interest expense, positive, excluding capitalized interest",
    "short_term_debt": "Commercial paper / short-term borrowings",
    "ltd_noncurrent_incl_fin_leases": "Non-current long-term debt (Alphabet: incl. finance "
                                      "leases through 2023, excluding them from 2024)",
    "cloud_segment_revenue_pre_fy25_basis": "Microsoft Intelligent Cloud revenue on the "
                                            "segment definition before Aug 2024",
    "cloud_revenue_iaas_saas": "Oracle's 'Cloud' line (IaaS + SaaS), from the FY2026 filings; "
                               "not comparable with cloud_segment_revenue",
    "depreciation_cf": "Depreciation (cash-flow line)",
    "amortization_intangibles_cf": "Amortization of intangible assets (cash-flow line)",
}


@dataclass(frozen=True)
class BasisBreak:
    """A series whose definition changes between two fiscal years."""

    ticker: str
    field: str
    last_old: int
    first_new: int
    text: str

    @property
    def label(self) -> str:
        return f"basis break FY{self.last_old}->FY{self.first_new} in {self.field}: {self.text}"


BASIS_BREAKS: tuple[BasisBreak, ...] = (
    BasisBreak("GOOGL", "da_cashflow", 2020, 2021,
               "FY2019-FY2020 include impairment of property and equipment; from FY2021 the "
               "re-presented depreciation-only line (not a fall in depreciation)"),
    BasisBreak("MSFT", "cloud_segment_revenue", 2022, 2023,
               "Intelligent Cloud from FY2023 on the Aug 2024 segment definition, before on "
               "the old one (no recast; old-basis FY2023-FY2024 in "
               "cloud_segment_revenue_pre_fy25_basis)"),
    BasisBreak("GOOGL", "total_debt", 2023, 2024,
               "2024 on adds short-term debt to long-term debt and finance leases (broader "
               "than 2021-2023)"),
    BasisBreak("GOOGL", "rpo", 2025, 2026,
               "backlog from 2026 also counts contracts shorter than a year"),
)

#: Metric inputs that stand for a basis-dependent sum of reported fields.
DERIVED_INPUTS = ("capex", "fcf_capex")


def nearest(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``name`` (a likely typo), or None."""
    close = difflib.get_close_matches(str(name).strip().lower(), list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""``.

    Examples
    --------
    >>> suggest("capx", ["capex", "ocf"])
    "; did you mean 'capex'?"
    """
    close = nearest(name, choices)
    return f"; did you mean {close!r}?" if close else ""


def check_capex_basis(basis: str | None) -> str:
    """The canonical capex basis name (``None`` or blank: :data:`DEFAULT_CAPEX_BASIS`).

    Examples
    --------
    >>> check_capex_basis("Incl-Finance-Leases")
    'incl-finance-leases'
    >>> check_capex_basis(None)
    'cash'
    """
    if basis is None or not str(basis).strip():
        return DEFAULT_CAPEX_BASIS
    key = str(basis).strip().lower().replace("_", "-").replace(" ", "-")
    if key not in CAPEX_BASES:
        raise ArgumentError(f"unknown capex basis {basis!r}; choose {' or '.join(CAPEX_BASES)}"
                            f"{suggest(key, CAPEX_BASES)}")
    return key


def company_role(ticker: str) -> str:
    """``'AI peer'``, ``'control'`` or ``'not in the peer set'``.

    Examples
    --------
    >>> company_role("AAPL")
    'control'
    """
    if ticker in PEER_SET:
        return "AI peer"
    if ticker in CONTROL_SET:
        return "control"
    return "not in the peer set"


def capex_terms(ticker: str, basis: str = DEFAULT_CAPEX_BASIS) -> tuple[str, ...]:
    """Reported fields whose sum is capex on ``basis`` (a missing term makes it missing).

    Examples
    --------
    >>> capex_terms("MSFT", "incl-finance-leases")
    ('capex', 'fin_lease_principal_payments')
    """
    return ("capex",) + _BASIS_EXTRA[check_capex_basis(basis)]


def fcf_deduction_terms(ticker: str, basis: str = DEFAULT_CAPEX_BASIS) -> tuple[str, ...]:
    """Reported fields free cash flow deducts from OCF for ``ticker`` on ``basis``.

    Examples
    --------
    >>> fcf_deduction_terms("AMZN")
    ('capex_net_of_proceeds',)
    >>> fcf_deduction_terms("AMZN", "incl-finance-leases")
    ('capex_net_of_proceeds', 'fin_lease_principal_payments')
    >>> fcf_deduction_terms("META", "incl-finance-leases")
    ('capex', 'fin_lease_principal_payments')
    """
    own = FCF_CAPEX_FIELDS.get(ticker, _DEFAULT_FCF_CAPEX)
    extra = tuple(f for f in _BASIS_EXTRA[check_capex_basis(basis)] if f not in own)
    return own + extra


def input_terms(ticker: str, name: str, basis: str = DEFAULT_CAPEX_BASIS) -> tuple[str, ...]:
    """The reported fields behind a metric input: ``capex`` and ``fcf_capex`` depend on the
    company and basis, any other input is the reported field itself."""
    if name == "capex":
        return capex_terms(ticker, basis)
    if name == "fcf_capex":
        return fcf_deduction_terms(ticker, basis)
    return (name,)


def field_definition(ticker: str, field: str) -> str:
    """What a reported figure is for one company (generic text where all companies agree).

    Examples
    --------
    >>> field_definition("GOOGL", "capex")
    'Purchases of property and equipment (cash-flow line); excludes finance leases'
    """
    if field == "capex":
        return CAPEX_LINE.get(ticker, "Capital expenditure (cash-flow line)")
    own = _FIELD_BY_COMPANY.get(field, {}).get(ticker)
    if own:
        return own
    return _FIELD_GENERIC.get(field, field.replace("_", " "))


def capex_definition(ticker: str, basis: str = DEFAULT_CAPEX_BASIS) -> str:
    """Capex on ``basis`` for ``ticker``, in words."""
    basis = check_capex_basis(basis)
    line = field_definition(ticker, "capex")
    if basis == "cash":
        return line
    return f"{line}; plus principal payments on finance leases (capex basis {basis})"


def fcf_definition(ticker: str, basis: str = DEFAULT_CAPEX_BASIS) -> str:
    """Free cash flow for ``ticker`` on ``basis``, in words.

    Examples
    --------
    >>> fcf_definition("AMZN")
    "OCF - capex net of proceeds from property and equipment sales and incentives (Amazon's definition)"
    >>> fcf_definition("MSFT", "incl-finance-leases")
    'OCF - capex - principal payments on finance leases (capex basis incl-finance-leases)'
    """
    basis = check_capex_basis(basis)
    if basis == "cash" or ticker == "META":
        return _FCF_OWN.get(ticker, _FCF_DEFAULT)
    if ticker == "AMZN":
        return ("OCF - capex net of proceeds from property and equipment sales and incentives "
                f"- principal payments on finance leases (capex basis {basis})")
    return f"OCF - capex - principal payments on finance leases (capex basis {basis})"


_METRIC_TEMPLATES: dict[str, str] = {
    "capex_to_ocf": "capex / operating cash flow; capex: {capex}",
    "capex_to_revenue": "capex / revenue; capex: {capex}",
    "da_to_capex": "D&A / capex; D&A: {da}; capex: {capex}",
    "capex_growth": "capex growth on the prior fiscal year; capex: {capex}",
    "fcf": "{fcf}",
    "fcf_capex": "what free cash flow deducts from OCF: {fcf_deduction}",
    "fcf_margin": "free cash flow / revenue; FCF: {fcf}",
    "fcf_ocf_less_capex": "OCF - capex, the same rule for every company; capex: {capex}",
    "da_to_revenue": "D&A / revenue; D&A: {da}",
    "lease_to_fixed_assets": "operating-lease right-of-use assets / net PP&E: operating leases "
                             "only (finance-lease assets are inside PP&E or not reported "
                             "separately; see lease_liabilities_to_fixed_assets)",
    "lease_liabilities_to_fixed_assets": "(operating-lease + finance-lease liabilities) / net "
                                         "PP&E: both kinds of lease, measured by the "
                                         "liabilities because finance-lease assets are not in "
                                         "the data",
    "net_debt": "total debt - cash and marketable securities; debt: {debt}; cash: {cash}",
    "debt_issued": "{debt_issued}",
}


def metric_definition(ticker: str, metric: str, basis: str = DEFAULT_CAPEX_BASIS) -> str:
    """A metric (or a reported field used as one) for one company on ``basis``, in words.

    Examples
    --------
    >>> metric_definition("META", "fcf")
    "OCF - capex - principal payments on finance leases (Meta's definition)"
    """
    basis = check_capex_basis(basis)
    if metric == "capex":
        return capex_definition(ticker, basis)
    template = _METRIC_TEMPLATES.get(metric)
    if template is None:
        return field_definition(ticker, metric)
    return template.format(
        capex=capex_definition(ticker, basis),
        fcf=fcf_definition(ticker, basis),
        fcf_deduction=fcf_definition(ticker, basis).split(" - ", 1)[1],
        da=field_definition(ticker, "da_cashflow"),
        debt=field_definition(ticker, "total_debt"),
        cash=field_definition(ticker, "cash_and_marketable_securities"),
        debt_issued=field_definition(ticker, "debt_issuance_proceeds"),
    )


def peer_definition(metric: str, members: Sequence[str], basis: str = DEFAULT_CAPEX_BASIS,
                    ratio: bool = True) -> str:
    """The peer aggregate of ``metric`` over ``members``, in words."""
    basis = check_capex_basis(basis)
    how = "ratio of sums (never a mean of company ratios)" if ratio else "sum of the companies"
    if metric == "capex_growth":
        how = "growth of the companies' summed capex"
    return (f"peer aggregate over {'+'.join(members)}: {how}; each company on its own "
            f"definition, capex basis {basis}; fiscal years summed as reported (not "
            "calendarised); missing in a year where any member lacks an input")


def basis_breaks(ticker: str, fields: Iterable[str] | None = None) -> list[BasisBreak]:
    """The basis breaks in ``ticker``'s series of ``fields`` (all fields if None)."""
    wanted = None if fields is None else set(fields)
    return [b for b in BASIS_BREAKS
            if b.ticker == ticker and (wanted is None or b.field in wanted)]


def break_note(ticker: str, fields: Iterable[str], fiscal_year: int | None = None,
               since: int | None = None) -> str:
    """Words for the basis breaks a figure or comparison crosses ("" for none).

    With ``fiscal_year`` alone: breaks whose first new-basis year is that year. With
    ``since`` too: breaks between ``since`` and ``fiscal_year`` (a comparison across them).

    Examples
    --------
    >>> break_note("GOOGL", ["da_cashflow", "revenue"], 2021)[:38]
    'basis break FY2020->FY2021 in da_cashf'
    >>> break_note("GOOGL", ["da_cashflow"], 2025)
    ''
    """
    hits = []
    for b in basis_breaks(ticker, fields):
        if fiscal_year is None:
            hits.append(b)
        elif since is None and b.first_new == int(fiscal_year):
            hits.append(b)
        elif since is not None and int(since) <= b.last_old and b.first_new <= int(fiscal_year):
            hits.append(b)
    return "; ".join(b.label for b in hits)


def definitions_frame(tickers: Sequence[str], metrics: Sequence[str],
                      basis: str = DEFAULT_CAPEX_BASIS) -> pd.DataFrame:
    """Table ``ticker, role, metric, basis, definition`` for the Sources sheet or a report.

    Examples
    --------
    >>> definitions_frame(["AMZN"], ["fcf"]).iloc[0]["definition"][:40]
    'OCF - capex net of proceeds from propert'
    """
    basis = check_capex_basis(basis)
    rows = [{"ticker": t, "role": company_role(t), "metric": m, "basis": basis,
             "definition": metric_definition(t, m, basis)} for t in tickers for m in metrics]
    return pd.DataFrame(rows, columns=["ticker", "role", "metric", "basis", "definition"])
