"""The reported base year of a scenario: :class:`CompanyBase` and :func:`base_from_dataset`.

The rule
--------
The base year is the latest fiscal year in which revenue, OCF, capex, cash and total debt are
all reported (:data:`CORE_FIELDS`: the flows the projection grows and the balances the
waterfall opens with). Each other base figure (interest expense, D&A, net PP&E, lease
liabilities) is the base year's when reported, else the previous year's with that year stated
(:data:`MAX_FIELD_LAG` = 1; never older, never filled in). When net PP&E comes from the year
before, the base year's reported capex depreciates as a vintage of its own, so D&A is not
understated. Anything still missing is listed in one :class:`~aicapex.errors.DataError`.

Money in USD millions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from aicapex.engine.validation import check_number, check_whole
from aicapex.errors import ArgumentError, DataError

__all__ = [
    "BASE_FIELDS",
    "CORE_FIELDS",
    "OPTIONAL_BASE_FIELDS",
    "MAX_FIELD_LAG",
    "CompanyBase",
    "base_from_dataset",
]

#: How many years before the base year a non-core base figure may come from.
MAX_FIELD_LAG = 1

#: CompanyBase attribute -> dataset field it is read from.
BASE_FIELDS: dict[str, str] = {
    "revenue": "revenue",
    "ocf": "ocf",
    "capex": "capex",
    "da": "da_cashflow",
    "ppe_net": "ppe_net",
    "cash": "cash_and_marketable_securities",
    "debt": "total_debt",
    "interest": "interest_expense",
    "op_lease_liabilities": "op_lease_liabilities_total",
    "fin_lease_liabilities": "fin_lease_liabilities_total",
}
#: Fields that define the base year: all must be reported in it.
CORE_FIELDS = ("revenue", "ocf", "capex", "cash_and_marketable_securities", "total_debt")
#: Uses of cash read from the data when it has them (the bundled snapshot does not).
OPTIONAL_BASE_FIELDS: dict[str, str] = {"buybacks": "buybacks", "dividends": "dividends_paid"}


# -- the base year ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompanyBase:
    """The reported base year (USD m).

    ``ocf`` is as reported (after interest paid). ``revenue_growth`` and ``capex_growth`` are
    the latest year-on-year growth rates, ``revenue_cagr`` the long-run revenue growth default
    (NaN when not known). ``buybacks`` / ``dividends`` are reported uses of cash (NaN: not in
    the data). ``bridge_capex`` is the reported capex of the years after the net PP&E balance up
    to the base year (empty when PP&E is the base year's). ``provenance`` says where each
    figure comes from: ``((item, text), ...)``.
    """

    ticker: str
    fiscal_year: int
    revenue: float
    ocf: float
    capex: float
    da: float
    ppe_net: float
    cash: float
    debt: float
    interest: float
    op_lease_liabilities: float = 0.0
    fin_lease_liabilities: float = 0.0
    revenue_growth: float = math.nan
    capex_growth: float = math.nan
    revenue_cagr: float = math.nan
    buybacks: float = math.nan
    dividends: float = math.nan
    bridge_capex: tuple[float, ...] = ()
    provenance: tuple[tuple[str, str], ...] = ()

    @property
    def lease_liabilities(self) -> float:
        return self.op_lease_liabilities + self.fin_lease_liabilities

    @property
    def debt_rate(self) -> float:
        """Implied cost of existing debt: ``interest / debt`` (0 without debt).

        Raises :class:`ArgumentError` above 100%: the two figures do not belong together.
        """
        if self.debt <= 0:
            return 0.0
        rate = self.interest / self.debt
        if not rate <= 1.0:
            raise ArgumentError(
                f"{self.ticker}: interest {self.interest} on debt {self.debt} implies a "
                f"cost of debt of {rate:.3g} (> 100%); check interest_expense and total_debt"
            )
        return rate


def _reported(wide: pd.DataFrame, year: int, name: str) -> float:
    if year in wide.index and name in wide.columns:
        v = wide.at[year, name]
        return float(v) if np.isfinite(v) else math.nan
    return math.nan


def _base_year(ticker: str, wide: pd.DataFrame, given: Mapping[str, float]) -> int:
    """The latest year with every core field reported (or given as an override)."""
    need = [f for f in CORE_FIELDS if f not in given]
    for year in sorted(wide.index, reverse=True):
        if all(np.isfinite(_reported(wide, year, f)) for f in need):
            return int(year)
    with_revenue = [y for y in wide.index if np.isfinite(_reported(wide, y, "revenue"))]
    if not with_revenue:
        raise DataError(f"{ticker}: no fiscal year with reported revenue; the scenario needs a "
                        f"base year with {', '.join(CORE_FIELDS)}")
    year = int(max(with_revenue))
    lacking = [f for f in need if not np.isfinite(_reported(wide, year, f))]
    raise DataError(
        f"{ticker}: no fiscal year has all of {', '.join(CORE_FIELDS)}; FY{year} lacks "
        f"{', '.join(lacking)}; supply them as overrides (CLI: "
        + " ".join(f"--set {f}=VALUE" for f in lacking) + "; CPX_: overrides rows)"
    )


def base_from_dataset(
    ds: Any, ticker: str, overrides: Mapping[str, float] | None = None
) -> CompanyBase:
    """The reported base year of ``ticker`` from a dataset (``load_dataset()``).

    Parameters
    ----------
    ds : Dataset
        The reported figures (:func:`aicapex.data.dataset.load_dataset`).
    ticker : str
        A covered company.
    overrides : mapping, optional
        Dataset field names (:data:`BASE_FIELDS`, ``buybacks``, ``dividends_paid``) with the
        value to use in the base year; ``fiscal_year`` to choose the base year;
        ``revenue_growth`` and ``capex_growth`` (fractions) for the latest growth.

    Returns
    -------
    CompanyBase

    Raises
    ------
    DataError
        Listing *every* figure the base year lacks (with how to supply each), or no base year.

    Notes
    -----
    See the module docstring ("Base year") for the rule. Growth defaults: ``revenue_growth =
    revenue[y] / revenue[y-1] - 1``, likewise capex; ``revenue_cagr = (revenue[y] /
    revenue[y-k])^(1/k) - 1`` over the longest span k of 5, 4 or 3 years with both ends
    reported (NaN otherwise).

    Examples
    --------
    >>> from aicapex.data.dataset import load_dataset
    >>> b = base_from_dataset(load_dataset(), "MSFT")
    >>> b.fiscal_year, b.capex, b.interest
    (2026, 115948.0, 2385.0)
    >>> dict(b.provenance)["interest_expense"][:44]
    'FY2025 reported (FY2026 is not in the data):'
    """
    overrides = dict(overrides or {})
    ticker = ds.check_ticker(ticker) if hasattr(ds, "check_ticker") else str(ticker).upper()
    known = (set(BASE_FIELDS.values()) | set(OPTIONAL_BASE_FIELDS.values())
             | {"fiscal_year", "revenue_growth", "capex_growth"})
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ArgumentError(
            f"unknown base override(s) {', '.join(unknown)}; use {', '.join(sorted(known))}"
        )
    wide = ds.wide(ticker)
    if "fiscal_year" in overrides:
        year = check_whole("fiscal_year", overrides["fiscal_year"], 1900, 2200, "years")
    else:
        year = _base_year(ticker, wide, overrides)
    provenance: list[tuple[str, str]] = [
        ("base_year", "chosen (override)" if "fiscal_year" in overrides else
         f"FY{year}: the latest fiscal year with {', '.join(CORE_FIELDS)} all reported")]

    def source(fld: str, y: int) -> str:
        row = ds.row(ticker, fld, y) if hasattr(ds, "row") else None
        if row is None:
            return "reported"
        return f"{row.get('tier', '')} tier: {row.get('source', '')}".strip()

    values: dict[str, float] = {}
    missing: list[str] = []
    for attr, fld in BASE_FIELDS.items():
        if fld in overrides:
            values[attr] = check_number(fld, overrides[fld], unit="USD m")
            provenance.append((fld, "override"))
            continue
        lags = range(0, 1) if fld in CORE_FIELDS else range(0, MAX_FIELD_LAG + 1)
        for lag in lags:
            v = _reported(wide, year - lag, fld)
            if np.isfinite(v):
                values[attr] = v
                when = (f"FY{year} reported" if lag == 0 else
                        f"FY{year - lag} reported (FY{year} is not in the data)")
                provenance.append((fld, f"{when}: {source(fld, year - lag)}"))
                break
        else:
            missing.append(fld)
    if missing:
        raise DataError(
            f"{ticker}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing for "
            f"FY{year} (the scenario base year)"
            + (f" and FY{year - MAX_FIELD_LAG}" if MAX_FIELD_LAG else "")
            + "; supply " + ("it as an override" if len(missing) == 1 else "them as overrides")
            + " (" + ", ".join(f"{f}=VALUE" for f in missing) + "; CLI: "
            + " ".join(f"--set {f}=VALUE" for f in missing) + ")"
        )
    extra = {}
    for attr, fld in OPTIONAL_BASE_FIELDS.items():
        if fld in overrides:
            extra[attr] = check_number(fld, overrides[fld], 0, math.inf, "USD m a year")
            provenance.append((fld, "override"))
        else:
            extra[attr] = _reported(wide, year, fld)
            if np.isfinite(extra[attr]):
                provenance.append((fld, f"FY{year} reported: {source(fld, year)}"))
    # PP&E from the year before: the base year's capex depreciates as its own vintage
    ppe_year = next(year - lag for lag in range(MAX_FIELD_LAG + 1)
                    if "ppe_net" in overrides or np.isfinite(_reported(wide, year - lag,
                                                                        "ppe_net")))
    bridge = tuple(_reported(wide, y, "capex") if y != year else values["capex"]
                   for y in range(ppe_year + 1, year + 1))
    if any(not np.isfinite(c) for c in bridge):
        raise DataError(f"{ticker}: capex between FY{ppe_year} and FY{year} is not reported")

    def growth(name: str) -> float:
        prev = _reported(wide, year - 1, BASE_FIELDS[name])
        return values[name] / prev - 1.0 if prev > 0 else math.nan

    cagr = math.nan
    for span in (5, 4, 3):
        first = _reported(wide, year - span, "revenue")
        if first > 0 and values["revenue"] > 0:
            cagr = (values["revenue"] / first) ** (1.0 / span) - 1.0
            provenance.append(("revenue_cagr", f"revenue CAGR FY{year - span}-FY{year}, "
                                               "reported revenue"))
            break
    g_rev = check_number("revenue_growth", overrides["revenue_growth"], -0.99, 10,
                         "fraction") if "revenue_growth" in overrides else growth("revenue")
    g_cap = check_number("capex_growth", overrides["capex_growth"], -0.99, 10,
                         "fraction") if "capex_growth" in overrides else growth("capex")
    provenance.append(("revenue_growth", "override" if "revenue_growth" in overrides else
                       f"FY{year} / FY{year - 1} reported revenue"))
    provenance.append(("capex_growth", "override" if "capex_growth" in overrides else
                       f"FY{year} / FY{year - 1} reported capex"))
    return CompanyBase(
        ticker=ticker, fiscal_year=year, revenue_growth=g_rev, capex_growth=g_cap,
        revenue_cagr=cagr, bridge_capex=bridge if ppe_year < year else (),
        provenance=tuple(provenance), **values, **extra,
    )
