"""Financing presets modelled on public 2025 deals (plain data; every term can be overridden).

Preset names: ``all-cash``, ``bonds``, ``spv-lease``, ``private-credit``, ``hybrid``.

Reference deals (public reporting, 2025):

- **Meta IG bonds** — October 2025: $30B of senior notes in tranches maturing in 5 to 40
  years (the largest order book of the year).
- **Alphabet IG bonds** — November 2025: $17.5B in the US market, maturities from 3 to 50
  years (alongside a euro tranche).
- **Amazon IG bonds** — November 2025: $15B, coupons from 3.9% to 5.55%.
- **Meta "Hyperion" SPV/JV lease** — October 2025: a ~$27B Louisiana data-center campus held
  by a joint venture owned 80% by Blue Owl funds and 20% by Meta; the JV sold ~$27B of private
  bonds (~6.6%, 6.58% coupon, due 2049); Meta leases the campus on a 4-year initial term with
  extension options and gives the lessor a residual value guarantee (first 16 years); the
  JV is not consolidated, so the debt is off Meta's balance sheet.
- **CoreWeave GPU-backed private credit** — delayed-draw term loans secured on GPUs and
  customer contracts (DDTL 1.0 2023, DDTL 2.0 2024 of $7.5B, DDTL 3.0 2025); effective
  interest of roughly 11–15%, priced in the SOFR + 600 bp class.

What is cited and what is a model assumption is listed per preset in :data:`CITED_TERMS`
(checked by ``tests/test_financing.py``) and in each term's comment below. Assumptions:
the single representative bond tenor (10 years), the bond coupon (midpoint of Amazon's
range), the SPV's share of capex (25%), SOFR at 4.3% (its 2025 level, roughly), the
private-credit fee load (1%/yr) and tenor (5 years, the life of a GPU fleet), the hybrid's
term loans and caps.

No preset issues equity (the hyperscalers have not funded capex with new shares): a need the
steps leave is a visible funding gap. ``equity.max_per_year`` (an override) allows new shares.
"""

from __future__ import annotations

from dataclasses import dataclass

from aicapex.engine.terms import (
    BondTerms,
    CashTerms,
    FinancingStructure,
    LeaseTerms,
    PrivateCreditTerms,
    TermLoanTerms,
)
from aicapex.errors import ArgumentError

__all__ = [
    "PRESET_NAMES",
    "PRESETS",
    "CITED_TERMS",
    "REFERENCE_DEALS",
    "CitedTerm",
    "get_preset",
    "get_term",
]

INF = float("inf")

#: The public deals behind the presets (USD m; rates as fractions).
REFERENCE_DEALS: tuple[dict, ...] = (
    {"deal": "Meta IG bonds", "date": "2025-10", "amount": 30_000.0,
     "tenor_years": (5, 40), "note": "senior notes, tranches 5-40 years"},
    {"deal": "Alphabet IG bonds", "date": "2025-11", "amount": 17_500.0,
     "tenor_years": (3, 50), "note": "US dollar tranches 3-50 years"},
    {"deal": "Amazon IG bonds", "date": "2025-11", "amount": 15_000.0,
     "coupon": (0.039, 0.0555), "note": "coupons 3.9%-5.55%"},
    {"deal": "Meta Hyperion SPV/JV", "date": "2025-10", "amount": 27_000.0,
     "bond_coupon": 0.0658, "bond_maturity": 2049, "jv_stake_sponsor": 0.20,
     "initial_lease_term_years": 4, "rvg_years": 16,
     "note": "Blue Owl 80% / Meta 20% JV; ~$27B private bonds ~6.6%; 4-year initial lease "
     "with extensions; residual value guarantee"},
    {"deal": "CoreWeave DDTL", "date": "2023-2025", "amount": 7_500.0,
     "spread": 0.06, "effective_rate": (0.11, 0.15),
     "note": "GPU-backed delayed-draw term loans (DDTL 2.0 $7.5B), SOFR + 600 bp class, "
     "~11-15% effective"},
)

# -- the building blocks ----------------------------------------------------------------------
#: Meta-sized IG bond programme: one $30B deal a year at most (cited), coupon at the midpoint
#: of Amazon's 3.9-5.55% range (assumption inside the cited range), 10-year bullet
#: (assumption inside the cited 3-50-year range).
IG_BONDS = BondTerms(max_per_year=30_000.0, capex_share=1.0, coupon=0.04725, tenor_years=10)

#: Hyperion pattern: lease yield = the JV bonds' ~6.6% (cited), 4-year initial term (cited),
#: rent amortizing over the bonds' life to 2049 = 24 years from 2025 (derived), RVG for the
#: first 16 years (cited), sponsor JV stake 20% (cited; the equity-method stake is not
#: modelled: the JV's bonds fund ~all of its cost). Share of capex through SPVs: 25%
#: (assumption).
HYPERION_LEASE = LeaseTerms(
    capex_share=0.25, lease_yield=0.066, term_years=4, amortization_years=24, rvg_years=16,
    jv_stake=0.20,
)

#: CoreWeave pattern: SOFR (4.3%, assumption ~2025 level) + 600 bp (cited) + 1%/yr fees and
#: discount (assumption) = 11.3% effective, inside the cited ~11-15%; 5-year amortizing
#: (assumption); uncapped.
GPU_PRIVATE_CREDIT = PrivateCreditTerms(
    max_per_year=INF, base_rate=0.043, spread=0.06, fee_rate=0.01, tenor_years=5
)

NO_BONDS = BondTerms(max_per_year=0.0)
NO_TERM_LOANS = TermLoanTerms(max_per_year=0.0)
NO_LEASE = LeaseTerms(capex_share=0.0)
NO_PRIVATE_CREDIT = PrivateCreditTerms(max_per_year=0.0)

PRESETS: dict[str, FinancingStructure] = {
    "all-cash": FinancingStructure(
        name="all-cash",
        cash=CashTerms(keep_share=0.0),
        bonds=NO_BONDS, term_loans=NO_TERM_LOANS, lease=NO_LEASE,
        private_credit=NO_PRIVATE_CREDIT,
        description="Fund capex from OCF and the cash pile (down to min_cash, default 0); "
        "any remaining need shows as a funding gap. The hyperscalers' historical pattern.",
    ),
    "bonds": FinancingStructure(
        name="bonds",
        cash=CashTerms(keep_share=1.0),
        bonds=IG_BONDS, term_loans=NO_TERM_LOANS, lease=NO_LEASE,
        private_credit=NO_PRIVATE_CREDIT,
        description="Keep today's cash; fund the gap with IG bullet bonds up to a Meta-sized "
        "$30B a year (2025 deals: Meta $30B 5-40y, Alphabet $17.5B 3-50y, Amazon $15B "
        "3.9-5.55%); the rest is a funding gap.",
    ),
    "spv-lease": FinancingStructure(
        name="spv-lease",
        cash=CashTerms(keep_share=1.0),
        bonds=NO_BONDS, term_loans=NO_TERM_LOANS, lease=HYPERION_LEASE,
        private_credit=NO_PRIVATE_CREDIT,
        description="Meta Hyperion pattern: up to 25% of capex built by an 80/20 JV funded "
        "with ~6.6% private bonds, leased back on 4-year terms with a residual value "
        "guarantee (operating lease, off balance sheet); the rest is a funding gap.",
    ),
    "private-credit": FinancingStructure(
        name="private-credit",
        cash=CashTerms(keep_share=1.0),
        bonds=NO_BONDS, term_loans=NO_TERM_LOANS, lease=NO_LEASE,
        private_credit=GPU_PRIVATE_CREDIT,
        description="CoreWeave pattern: GPU-backed delayed-draw term loans at SOFR + 600 bp "
        "(~11-15% effective), amortizing over 5 years.",
    ),
    "hybrid": FinancingStructure(
        name="hybrid",
        cash=CashTerms(keep_share=0.5),
        bonds=BondTerms(max_per_year=30_000.0, capex_share=0.5, coupon=IG_BONDS.coupon,
                        tenor_years=IG_BONDS.tenor_years),
        # Assumption: IG bank term loans at SOFR + 125 bp, 5 years, up to $5B a year.
        term_loans=TermLoanTerms(max_per_year=5_000.0, rate=0.0555, tenor_years=5),
        lease=HYPERION_LEASE,
        private_credit=PrivateCreditTerms(
            max_per_year=10_000.0, base_rate=GPU_PRIVATE_CREDIT.base_rate,
            spread=GPU_PRIVATE_CREDIT.spread, fee_rate=GPU_PRIVATE_CREDIT.fee_rate,
            tenor_years=GPU_PRIVATE_CREDIT.tenor_years,
        ),
        description="Half the cash pile, IG bonds up to half of capex ($30B cap), $5B term "
        "loans, Hyperion-style SPV for up to 25% of capex, $10B GPU private credit; the rest "
        "is a funding gap.",
    ),
}

PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)


@dataclass(frozen=True)
class CitedTerm:
    """A preset term that reproduces a cited deal term: its value lies in [low, high]."""

    path: str
    low: float
    high: float
    source: str


_BOND_CITES = (
    CitedTerm("bonds.max_per_year", 30_000.0, 30_000.0, "Meta $30B notes, Oct 2025"),
    CitedTerm("bonds.coupon", 0.039, 0.0555, "Amazon $15B notes, Nov 2025: 3.9%-5.55%"),
    CitedTerm("bonds.tenor_years", 3, 50, "Alphabet $17.5B 3-50y; Meta 5-40y"),
)
_LEASE_CITES = (
    CitedTerm("lease.lease_yield", 0.0655, 0.0665, "Hyperion JV bonds ~6.6% (6.58%)"),
    CitedTerm("lease.term_years", 4, 4, "Hyperion 4-year initial lease term"),
    CitedTerm("lease.amortization_years", 24, 24, "Hyperion bonds due 2049 (2049 - 2025)"),
    CitedTerm("lease.rvg_years", 16, 16, "Hyperion residual value guarantee, first 16 years"),
    CitedTerm("lease.jv_stake", 0.20, 0.20, "Hyperion JV: Blue Owl 80% / Meta 20%"),
)
_PC_CITES = (
    CitedTerm("private_credit.spread", 0.06, 0.06, "CoreWeave DDTL, SOFR + 600 bp class"),
    CitedTerm("private_credit.effective_rate", 0.11, 0.15, "CoreWeave DDTL ~11-15% effective"),
)

#: Per preset: the terms that must reproduce the cited deals.
CITED_TERMS: dict[str, tuple[CitedTerm, ...]] = {
    "all-cash": (
        CitedTerm("bonds.max_per_year", 0, 0, "no external debt (historical pattern)"),
        CitedTerm("lease.capex_share", 0, 0, "no SPV"),
        CitedTerm("private_credit.max_per_year", 0, 0, "no private credit"),
        CitedTerm("cash.keep_share", 0, 0, "cash pile available"),
    ),
    "bonds": _BOND_CITES,
    "spv-lease": _LEASE_CITES,
    "private-credit": _PC_CITES,
    "hybrid": (
        CitedTerm("bonds.max_per_year", 30_000.0, 30_000.0, "Meta $30B notes, Oct 2025"),
        *_BOND_CITES[1:], *_LEASE_CITES, *_PC_CITES,
    ),
}


def get_preset(name: str) -> FinancingStructure:
    """The preset called ``name`` (see :data:`PRESET_NAMES`).

    Examples
    --------
    >>> get_preset("spv-lease").lease.lease_yield
    0.066
    """
    key = str(name).strip().lower()
    if key not in PRESETS:
        raise ArgumentError(f"unknown preset {name!r}; use one of {', '.join(PRESET_NAMES)}")
    return PRESETS[key]


def get_term(structure: FinancingStructure, path: str) -> float:
    """A term by dotted name, e.g. ``get_term(s, "bonds.coupon")``.

    Examples
    --------
    >>> round(get_term(get_preset("private-credit"), "private_credit.effective_rate"), 3)
    0.113
    """
    obj: object = structure
    for part in path.split("."):
        if not hasattr(obj, part):
            raise ArgumentError(f"unknown term {path!r}")
        obj = getattr(obj, part)
    return float(obj)  # type: ignore[arg-type]
