"""Which us-gaap concepts give each field, per company: the concept map.

A field maps to ordered fallbacks. A fallback is a tuple of concepts combined for one period
(summed; a concept written ``"-Name"`` is subtracted); the first fallback whose every part is
reported for the period wins, so a company that renamed a tag (Alphabet's revenue moved from
``RevenueFromContractWithCustomerExcludingAssessedTax`` to ``Revenues`` in 2025) keeps one
series. Only us-gaap facts exist in SEC companyfacts: a line a company tags with its own
extension (Microsoft's "Depreciation, amortization, and other") is not there and stays missing.

:data:`GENERIC` serves any filer (a neocloud, a chip supplier). :data:`COMPANY` holds the
choices where a covered company tags differently or where the snapshot's definition of a field
needs another concept; ``None`` means "not from XBRL for this company": the snapshot's figure
stays and a new period stays missing rather than arriving on another basis.

Evidence for each company choice (data set notes: ``snapshot/SOURCES.md``):

* AAPL, MSFT, GOOGL revenue, operating cash flow, capex, finance-lease principal and
  additions: proven figure by figure against the SEC companyfacts files in the snapshot
  (``tests/test_concept_map.py``); every other AAPL field likewise (its file carries them).
* GOOGL (FY2023 10-K XBRL instance) and AMZN (FY2024 10-K XBRL instance): the concepts the
  snapshot's filing-tier rows cite.
* META and ORCL, and the tags not cited above: the companies' published statements (line
  items named in the snapshot notes); not yet proven on a file, so the first fetch's Changes
  sheet is the place to look.
"""

from __future__ import annotations

Fallback = tuple[str, ...]

#: Any filer: field -> ordered fallbacks.
GENERIC: dict[str, list[Fallback]] = {
    "revenue": [
        ("RevenueFromContractWithCustomerExcludingAssessedTax",),
        ("Revenues",),
        ("SalesRevenueNet",),
        ("RevenueFromContractWithCustomerIncludingAssessedTax",),
    ],
    "ocf": [
        ("NetCashProvidedByUsedInOperatingActivities",),
        ("NetCashProvidedByUsedInOperatingActivitiesContinuingOperations",),
    ],
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
        ("CashCashEquivalentsAndShortTermInvestments",),
    ],
    "debt_issuance_proceeds": [("ProceedsFromIssuanceOfLongTermDebt",)],
    "interest_expense": [("InterestExpense",), ("InterestExpenseNonoperating",)],
    "rpo": [("RevenueRemainingPerformanceObligation",)],
    # Finance leases: principal repaid (financing cash flow) and new leases signed (non-cash).
    "fin_lease_principal_payments": [("FinanceLeasePrincipalPayments",)],
    "fin_lease_additions": [("RightOfUseAssetObtainedInExchangeForFinanceLeaseLiability",)],
}

#: Company-specific choices: they replace the generic fallbacks of the fields they name.
COMPANY: dict[str, dict[str, list[Fallback] | None]] = {
    "AAPL": {
        # Apple stopped tagging interest expense after FY2023; no other concept is its basis.
        "interest_expense": [("InterestExpense",)],
    },
    "MSFT": {
        # "Depreciation, amortization, and other" is a Microsoft extension, absent from
        # companyfacts; the us-gaap D&A concepts would be another basis.
        "da_cashflow": [("DepreciationAmortizationAndOther",)],
        # Total debt excludes commercial paper (given separately as short_term_debt).
        "total_debt": [("LongTermDebtCurrent", "LongTermDebtNoncurrent"), ("LongTermDebt",)],
        "short_term_debt": [("CommercialPaper",), ("ShortTermBorrowings",)],
        "cash_and_marketable_securities": [("CashCashEquivalentsAndShortTermInvestments",)],
        "debt_issuance_proceeds": [("ProceedsFromIssuanceOfLongTermDebt",),
                                   ("ProceedsFromIssuanceOfDebt",)],
        # Net proceeds (repayments) of debt with maturities of 90 days or less: signed.
        "st_debt_net_proceeds_90d": [
            ("ProceedsFromRepaymentsOfShortTermDebtMaturingInThreeMonthsOrLess",)],
    },
    "GOOGL": {
        "revenue": [("RevenueFromContractWithCustomerExcludingAssessedTax",), ("Revenues",)],
        # Depreciation of property and equipment only (re-presented from the FY2023 10-K).
        "da_cashflow": [("Depreciation",),
                        ("DepreciationAndImpairmentOnDispositionOfPropertyAndEquipment",)],
        "depreciation_cf": [("Depreciation",),
                            ("DepreciationAndImpairmentOnDispositionOfPropertyAndEquipment",)],
        "amortization_intangibles_cf": [("AmortizationAndImpairmentOfIntangibleAssets",)],
        "cash_and_marketable_securities": [("CashCashEquivalentsAndShortTermInvestments",)],
        "debt_issuance_proceeds": [("ProceedsFromDebtNetOfIssuanceCosts",)],
        # Debt including finance leases, the snapshot's 2021-2023 basis; later years use
        # another basis (SOURCES.md) and are not taken from other concepts.
        "total_debt": [("LongTermDebtAndCapitalLeaseObligationsIncludingCurrentMaturities",)],
        "ltd_noncurrent_incl_fin_leases": [("LongTermDebtAndCapitalLeaseObligations",)],
    },
    "AMZN": {
        # Gross "Purchases of property and equipment"; proceeds and incentives are separate.
        "capex": [("PaymentsToAcquireProductiveAssets",),
                  ("PaymentsToAcquirePropertyPlantAndEquipment",)],
        "capex_net_of_proceeds": [
            ("PaymentsToAcquireProductiveAssets", "-ProceedsFromSaleOfProductiveAssets")],
        "ppe_net": [
            ("PropertyPlantAndEquipmentAndFinanceLeaseRightOfUseAssetAfterAccumulated"
             "DepreciationAndAmortization",),
            ("PropertyPlantAndEquipmentNet",),
        ],
        "total_debt": [("LongTermDebtCurrent", "LongTermDebtNoncurrent"), ("LongTermDebt",)],
        "cash_and_marketable_securities": [
            ("CashAndCashEquivalentsAtCarryingValue", "MarketableSecuritiesCurrent")],
        "interest_expense": [("InterestExpenseNonoperating",), ("InterestExpense",)],
        "st_debt_proceeds": [("ProceedsFromShortTermDebt",)],
    },
    "META": {
        # Meta's headline capex adds principal payments on finance leases.
        "capex_incl_fin_lease_principal": [
            ("PaymentsToAcquirePropertyPlantAndEquipment", "FinanceLeasePrincipalPayments")],
        "cash_and_marketable_securities": [("CashCashEquivalentsAndShortTermInvestments",)],
        "total_debt": [("LongTermDebtNoncurrent",), ("LongTermDebt",)],
        "rpo": None,  # Meta reports no remaining performance obligations
    },
    "ORCL": {
        # Depreciation plus amortization of intangible assets, summed (and both components).
        "da_cashflow": [("Depreciation", "AmortizationOfIntangibleAssets")],
        "depreciation_cf": [("Depreciation",)],
        "amortization_intangibles_cf": [("AmortizationOfIntangibleAssets",)],
        # Notes payable and other borrowings, current plus non-current.
        "total_debt": [("LongTermDebtCurrent", "LongTermDebtNoncurrent"),
                       ("DebtCurrent", "LongTermDebtNoncurrent"), ("LongTermDebt",)],
        "cash_and_marketable_securities": [
            ("CashAndCashEquivalentsAtCarryingValue", "MarketableSecuritiesCurrent"),
            ("CashCashEquivalentsAndShortTermInvestments",)],
        "debt_issuance_proceeds": [("ProceedsFromIssuanceOfLongTermDebt",),
                                   ("ProceedsFromIssuanceOfSeniorLongTermDebt",),
                                   ("ProceedsFromDebtNetOfIssuanceCosts",)],
    },
}


def concept_map(ticker: str | None) -> dict[str, list[Fallback]]:
    """The fallbacks of every field for ``ticker`` (generic ones for a company not listed).

    Examples
    --------
    >>> concept_map("AMZN")["capex"][0]
    ('PaymentsToAcquireProductiveAssets',)
    >>> "rpo" in concept_map("META")
    False
    >>> concept_map("CRWV")["capex"][0]
    ('PaymentsToAcquirePropertyPlantAndEquipment',)
    """
    out = dict(GENERIC)
    for name, fallbacks in COMPANY.get((ticker or "").upper(), {}).items():
        if fallbacks is None:
            out.pop(name, None)
        else:
            out[name] = fallbacks
    return out


def concept_name(part: str) -> str:
    """The concept of a fallback part (``"-Name"`` subtracts ``Name``)."""
    return part[1:] if part.startswith("-") else part


def all_concepts(mapping: dict[str, list[Fallback]]) -> list[str]:
    """Every concept a map reads, once, in map order."""
    seen: dict[str, None] = {}
    for fallbacks in mapping.values():
        for parts in fallbacks:
            for part in parts:
                seen.setdefault(concept_name(part), None)
    return list(seen)
