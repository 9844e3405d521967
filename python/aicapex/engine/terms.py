"""The terms of each funding-waterfall step, as plain frozen dataclasses.

A :class:`FinancingStructure` holds one set of terms per step, in the order the waterfall
uses them: cash above the minimum balance, IG bonds, bank term loans, an off-balance-sheet
SPV/JV lease, private credit and — only when a structure allows it — new equity. Whatever the
steps leave is the **funding gap**, shown as such (never filled silently).

This module sits below both :mod:`aicapex.engine.financing` (which runs the waterfall) and
:mod:`aicapex.engine.presets` (which fills the terms from public deals), so neither imports
the other. Money in USD millions; rates as fractions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aicapex.engine.validation import check_number, check_whole

__all__ = [
    "CashTerms",
    "BondTerms",
    "TermLoanTerms",
    "LeaseTerms",
    "PrivateCreditTerms",
    "EquityTerms",
    "FinancingStructure",
    "STEP_NAMES",
]

#: Waterfall steps with terms of their own, in waterfall order (attribute names).
STEP_NAMES = ("cash", "bonds", "term_loans", "lease", "private_credit", "equity")


@dataclass(frozen=True)
class CashTerms:
    """Step 1: spend cash down to a minimum balance.

    ``keep_share`` of the opening cash is the minimum balance unless
    :attr:`~aicapex.engine.financing.ScenarioInputs.min_cash` gives one in USD m (1.0 = keep
    today's cash pile and spend only cash generated during the horizon; 0.0 = spend it all).
    """

    keep_share: float = 1.0


@dataclass(frozen=True)
class BondTerms:
    """Step 2: investment-grade bonds, bullet. Per-year cap ``min(max_per_year,
    capex_share * capex)``; ``coupon`` fixed; repaid at par after ``tenor_years``."""

    max_per_year: float = 0.0
    capex_share: float = 1.0
    coupon: float = 0.05
    tenor_years: int = 10

    @property
    def used(self) -> bool:
        return self.max_per_year > 0 and self.capex_share > 0


@dataclass(frozen=True)
class TermLoanTerms:
    """Step 3: bank term loans, straight-line amortizing over ``tenor_years``."""

    max_per_year: float = 0.0
    rate: float = 0.055
    tenor_years: int = 5

    @property
    def used(self) -> bool:
        return self.max_per_year > 0


@dataclass(frozen=True)
class LeaseTerms:
    """Step 4: off-balance-sheet SPV/JV lease (operating lease). Up to ``capex_share`` of the
    year's capex is paid by the SPV; see :mod:`aicapex.engine.financing` for rent, liability
    and the residual value guarantee."""

    capex_share: float = 0.0
    lease_yield: float = 0.066
    term_years: int = 4
    amortization_years: int = 24
    rvg_years: int = 16
    jv_stake: float = 0.20

    @property
    def used(self) -> bool:
        return self.capex_share > 0


@dataclass(frozen=True)
class PrivateCreditTerms:
    """Step 5: GPU-backed private credit (delayed-draw term loans), floating at
    ``base_rate + spread`` plus annualized fees, straight-line amortizing over the tenor."""

    max_per_year: float = 0.0
    base_rate: float = 0.043
    spread: float = 0.06
    fee_rate: float = 0.01
    tenor_years: int = 5

    @property
    def effective_rate(self) -> float:
        return self.base_rate + self.spread + self.fee_rate

    @property
    def used(self) -> bool:
        return self.max_per_year > 0


@dataclass(frozen=True)
class EquityTerms:
    """Step 6: new shares, up to ``max_per_year`` (USD m). Off (0) unless a structure or an
    override says so: the hyperscalers fund capex without issuing equity, so a need the
    other steps leave is a visible funding gap, not silent equity."""

    max_per_year: float = 0.0

    @property
    def used(self) -> bool:
        return self.max_per_year > 0


@dataclass(frozen=True)
class FinancingStructure:
    """All waterfall terms; ``name`` and ``description`` say what the structure is."""

    name: str = "custom"
    cash: CashTerms = field(default_factory=CashTerms)
    bonds: BondTerms = field(default_factory=BondTerms)
    term_loans: TermLoanTerms = field(default_factory=TermLoanTerms)
    lease: LeaseTerms = field(default_factory=LeaseTerms)
    private_credit: PrivateCreditTerms = field(default_factory=PrivateCreditTerms)
    equity: EquityTerms = field(default_factory=EquityTerms)
    description: str = ""

    def validate(self) -> FinancingStructure:
        """Check every term's range; raise :class:`~aicapex.errors.ArgumentError` naming the
        first bad one (``bonds.coupon=3 is out of range: expected fraction in [0, 1]``).

        Examples
        --------
        >>> FinancingStructure(bonds=BondTerms(coupon=3.0)).validate()
        Traceback (most recent call last):
        ...
        aicapex.errors.ArgumentError: bonds.coupon=3.0 is out of range: expected fraction in [0, 1]
        """
        inf = math.inf
        check_number("cash.keep_share", self.cash.keep_share, 0, 1, "fraction of opening cash")
        b, t, le, pc = self.bonds, self.term_loans, self.lease, self.private_credit
        check_number("bonds.max_per_year", b.max_per_year, 0, inf, "USD m")
        check_number("bonds.capex_share", b.capex_share, 0, inf, "fraction of capex")
        check_number("bonds.coupon", b.coupon, 0, 1, "fraction")
        check_whole("bonds.tenor_years", b.tenor_years, 1, 100)
        check_number("term_loans.max_per_year", t.max_per_year, 0, inf, "USD m")
        check_number("term_loans.rate", t.rate, 0, 1, "fraction")
        check_whole("term_loans.tenor_years", t.tenor_years, 1, 100)
        check_number("lease.capex_share", le.capex_share, 0, 1, "fraction of capex")
        check_number("lease.lease_yield", le.lease_yield, 0, 1, "fraction")
        check_whole("lease.term_years", le.term_years, 1, 100)
        check_whole("lease.amortization_years", le.amortization_years, 1, 100)
        check_whole("lease.rvg_years", le.rvg_years, 0, 100)
        check_number("lease.jv_stake", le.jv_stake, 0, 1, "fraction")
        check_number("private_credit.max_per_year", pc.max_per_year, 0, inf, "USD m")
        check_number("private_credit.base_rate", pc.base_rate, -0.05, 1, "fraction")
        check_number("private_credit.spread", pc.spread, 0, 1, "fraction")
        check_number("private_credit.fee_rate", pc.fee_rate, 0, 1, "fraction")
        check_whole("private_credit.tenor_years", pc.tenor_years, 1, 100)
        check_number("equity.max_per_year", self.equity.max_per_year, 0, inf, "USD m")
        return self
