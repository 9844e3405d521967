"""The one scenario service: a financing scenario from (ticker, preset, overrides, horizon).

The command line (``python -m aicapex scenario``), the CPX_ functions (``CPX_FINANCING``,
``CPX_SCENARIOS``, ``CPX_SENSITIVITY``, ``CPX_MONTE_CARLO``, ``CPX_SCENARIO_SOURCES``) and
the workbook all call :func:`build_scenario` / :func:`run_scenario`, so the same overrides
give the same numbers everywhere.

Overrides
---------
One name space, a mapping or ``((key, value), ...)`` pairs:

- a base-year figure by dataset field (``interest_expense``, ``total_debt``...), or
  ``fiscal_year``, ``revenue_growth``, ``capex_growth`` (:data:`BASE_KEYS`);
- a waterfall term by dotted name (``bonds.coupon``, ``cash.keep_share``,
  ``equity.max_per_year``...). A term applies as given, even where the preset has no such
  step (``bonds.max_per_year`` in ``all-cash`` adds bonds): the preset is a starting point.
  Only the side-by-side comparison (:func:`compare_presets`, ``CPX_SCENARIOS``), which feeds
  one block of terms to all five presets, applies a step's terms only to the presets that
  have that step (``preset_steps_only=True``);
- a projection input (``inputs.long_run_revenue_growth``, ``inputs.buybacks``...) or a
  depreciation term (``depreciation.server_life``);
- the capex of one projected fiscal year: ``capex.2026`` (USD m). A year not set follows the
  default path, which starts at the latest guidance for a guided fiscal year
  (:mod:`aicapex.engine.guidance`).

Every default the scenario uses is listed with its source by :meth:`Scenario.sources`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from aicapex.data.guidance import snapshot_guidance
from aicapex.engine.financing import (
    BASE_FIELDS,
    COLUMNS,
    OPTIONAL_BASE_FIELDS,
    TEXT_COLUMNS,
    CompanyBase,
    FinancingStructure,
    ScenarioInputs,
    apply_overrides,
    base_from_dataset,
    grid_2d,
    minimum_cash,
    other_uses,
    pick,
    pick_many,
    project_financing,
    project_operations,
)
from aicapex.engine.guidance import GuidedCapex, scenario_capex_guidance
from aicapex.engine.memo import DatasetMemo
from aicapex.engine.presets import PRESET_NAMES, get_preset
from aicapex.engine.terms import STEP_NAMES
from aicapex.errors import ArgumentError

__all__ = [
    "BASE_KEYS",
    "SOURCE_COLUMNS",
    "SOURCE_ITEMS",
    "BASE_YEAR_KEYS",
    "DEFAULT_COMPARE_METRICS",
    "Scenario",
    "ScenarioResult",
    "as_pairs",
    "build_scenario",
    "run_scenario",
    "compare_scenarios",
    "compare_presets",
    "sensitivity_grid",
    "timeline_table",
    "base_year_values",
    "clear_cache",
]

#: Override keys that set a base-year figure (the rest are dotted engine terms).
BASE_KEYS = (frozenset(BASE_FIELDS.values()) | frozenset(OPTIONAL_BASE_FIELDS.values())
             | {"fiscal_year", "revenue_growth", "capex_growth"})
#: Columns of :meth:`Scenario.sources`.
SOURCE_COLUMNS = ("item", "value", "unit", "source")
#: The items :meth:`Scenario.sources` always lists, in order (then one row per year's capex).
SOURCE_ITEMS = (
    "preset", "base_year", *BASE_FIELDS.values(), "revenue_growth", "long_run_revenue_growth",
    "capex_growth", "long_run_capex_growth", "growth_cap", "fade_years", "ocf_margin",
    "capex_first_year", "guidance", "buybacks", "dividends", "min_cash", "ebitda",
    "net_debt_to_ebitda", "funding_gap",
)
#: Keys with a value in the base-year column of :func:`timeline_table` (figures of the base
#: year itself, where the projection starts: the debt and cash corkscrews open there).
BASE_YEAR_KEYS = ("capex", "revenue", "cash", "gross_debt", "net_debt", "capex_growth",
                  "revenue_growth", "capex_source")
DEFAULT_COMPARE_METRICS = (
    "capex", "fcf", "new_debt", "funding_gap", "gross_debt", "cash", "net_debt",
    "lease_liability", "interest", "da_to_revenue", "operating_margin", "net_debt_to_ebitda",
    "debt_plus_leases_to_ebitda", "interest_coverage",
)
_SWITCHABLE = tuple(s for s in STEP_NAMES if s != "cash")


def as_pairs(overrides: Mapping[str, Any] | Iterable[tuple[str, Any]] | None
             ) -> tuple[tuple[str, Any], ...]:
    """Overrides as ``((key, value), ...)``, keys stripped; a key given twice is refused.

    Examples
    --------
    >>> as_pairs({" bonds.coupon ": 0.05})
    (('bonds.coupon', 0.05),)
    """
    if overrides is None:
        return ()
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    out: dict[str, Any] = {}
    for key, value in items:
        k = str(key).strip()
        if k in out:
            raise ArgumentError(f"override {k} is given twice")
        out[k] = value
    return tuple(out.items())


def _step_used(structure: FinancingStructure, step: str) -> bool:
    return bool(getattr(structure, step).used)


def _drops_terms(structure: FinancingStructure, pairs: tuple[tuple[str, Any], ...]) -> bool:
    """Whether ``preset_steps_only`` drops any of ``pairs`` for ``structure`` (a term of a
    switchable step the preset does not use); when not, it changes nothing."""
    return any(k not in BASE_KEYS and k.split(".", 1)[0] in _SWITCHABLE
               and not _step_used(structure, k.split(".", 1)[0]) for k, _ in pairs)


@dataclass(frozen=True)
class ScenarioResult:
    """A projection (:data:`~aicapex.engine.financing.COLUMNS`), the sources of its
    defaults (:data:`SOURCE_COLUMNS`), the base year and the base year's own figures
    (:func:`base_year_values`)."""

    frame: pd.DataFrame
    sources: pd.DataFrame
    base_year: int = 0
    base_values: dict[str, Any] | None = None


@dataclass(frozen=True)
class Scenario:
    """Base, terms and inputs of one scenario, and the guidance behind its capex path."""

    base: CompanyBase
    structure: FinancingStructure
    inputs: ScenarioInputs
    guided: GuidedCapex
    given: tuple[tuple[str, Any], ...] = ()

    def project(self) -> pd.DataFrame:
        """:func:`~aicapex.engine.financing.project_financing` of this scenario."""
        return project_financing(self.base, self.structure, self.inputs)

    def sources(self) -> pd.DataFrame:
        """Every figure and default the scenario uses, with where it comes from.

        One row per item (:data:`SOURCE_COLUMNS`), the items of :data:`SOURCE_ITEMS` always
        present in that order (a sheet can pick them by name): the preset, the base year and
        each base figure (the filing behind it, or the override), the growth defaults, the
        first year's capex and the guidance behind the path, buybacks, dividends, the minimum
        cash balance, and the EBITDA, leverage and funding-gap definitions; then one row per
        projected year's capex (``capex FY2027``: guidance with its sources, your figure, or
        the model path).
        """
        b, i, s = self.base, self.inputs, self.structure
        given = dict(self.given)
        prov = dict(b.provenance)

        defaults = ScenarioInputs()

        def said(key: str, default: str) -> str:
            if key not in given:
                return default
            attr = key.split(".", 1)[1]
            same = getattr(defaults, attr, None) == given[key]
            return f"input, at the default ({default})" if same else "input"

        rows: list[tuple[str, Any, str, str]] = [
            ("preset", s.name, "", s.description or "custom terms"),
            ("base_year", b.fiscal_year, "FY", prov.get("base_year", "typed in")),
        ]
        for attr, fld in BASE_FIELDS.items():
            rows.append((fld, getattr(b, attr), "USD m", prov.get(fld, "typed in")))
        ops = project_operations(b, i)
        years = b.fiscal_year + np.arange(1, int(i.years) + 1)
        rows.append(("revenue_growth", float(ops["revenue_growth"][0]), "fraction a year",
                     "input: one constant growth" if i.revenue_growth is not None else
                     f"first year: {prov.get('revenue_growth', 'typed in')}, capped at "
                     "growth_cap; fades to long_run_revenue_growth"))
        rows.append(("long_run_revenue_growth", _long_run(b, i), "fraction a year",
                     "input: one constant growth" if i.revenue_growth is not None else
                     said("inputs.long_run_revenue_growth", prov.get("revenue_cagr", "typed in"))))
        first = ops["capex_origin"][0]
        rows.append(("capex_growth", float(ops["capex_growth"][0]), "fraction a year",
                     "input: one constant growth (guidance not used)"
                     if i.capex_growth is not None else
                     f"first year: to the {first} level" if first != "model" else
                     f"first year: {prov.get('capex_growth', 'typed in')}, capped at "
                     "growth_cap; fades to long_run_capex_growth"))
        rows.append(("long_run_capex_growth", _long_run(b, i, capex=True), "fraction a year",
                     "input: one constant growth" if i.capex_growth is not None else
                     said("inputs.long_run_capex_growth", "= long-run revenue growth (model "
                          "assumption: capex/revenue levels off)")))
        rows.append(("growth_cap", float(i.growth_cap), "fraction a year",
                     said("inputs.growth_cap", "model assumption: no model year grows faster "
                          "(a guided or set year is the company's or your figure)")))
        rows.append(("fade_years", int(i.fade_years), "years",
                     said("inputs.fade_years", "model assumption: years from the first growth "
                          "to the long-run rate")))
        if i.ocf_growth is not None:
            rows.append(("ocf_margin", math.nan, "fraction of revenue",
                         f"not used: input ocf_growth {i.ocf_growth:.1%} a year instead"))
        else:
            margin = (i.ocf_margin if i.ocf_margin is not None
                      else (b.ocf + b.interest) / b.revenue)
            rows.append(("ocf_margin", float(margin), "fraction of revenue",
                         "input" if i.ocf_margin is not None else
                         f"FY{b.fiscal_year} (ocf + interest_expense) / revenue, reported"))
        rows.append(("capex_first_year", float(ops["capex"][0]), "USD m",
                     self._capex_source(int(years[0]), first, float(ops["capex_growth"][0]))))
        notes = [f"FY{y}: {n}" for y, n in sorted(self.guided.notes.items())]
        notes += list(self.guided.other)
        rows.append(("guidance", math.nan, "", " | ".join(notes) if notes else
                     f"no capex guidance for FY{years[0]}-FY{years[-1]} in the data set"))
        buybacks, dividends = other_uses(b, i)
        for name, value, fld in (("buybacks", buybacks, "buybacks"),
                                 ("dividends", dividends, "dividends_paid")):
            if getattr(i, name) is not None:
                src = "input"
            elif np.isfinite(getattr(b, name)):
                src = prov.get(fld, "reported")
            else:
                src = (f"not in the data set ({fld} not reported): 0; enter the company's "
                       f"figure as inputs.{name} (USD m a year)")
            rows.append((name, value, "USD m a year", src))
        rows.append(("min_cash", minimum_cash(b, i, s), "USD m",
                     "input" if i.min_cash is not None else
                     f"preset {s.name}: cash.keep_share {s.cash.keep_share:g} x opening cash"))
        rows.append(("ebitda", math.nan, "USD m", "EBITDA proxy = OCF before interest - SPV "
                     "rent (OCF-based: after cash taxes and working capital; not reported "
                     "EBITDA)"))
        rows.append(("net_debt_to_ebitda", math.nan, "x", "net debt / EBITDA proxy; n.m. "
                     "(empty) where the proxy is zero or negative"))
        rows.append(("funding_gap", math.nan, "USD m", "the need no funding step covers: not "
                     "funded, carried as a cash shortfall (counts in net debt)"))
        for t, year in enumerate(years.tolist()):
            rows.append((f"capex FY{year}", float(ops["capex"][t]), "USD m",
                         self._capex_source(year, ops["capex_origin"][t],
                                            float(ops["capex_growth"][t]))))
        return pd.DataFrame(rows, columns=list(SOURCE_COLUMNS))

    def _capex_source(self, year: int, origin: str, growth: float) -> str:
        if origin == "input":
            return f"input (capex.{year})"
        if origin == "guidance":
            return self.guided.notes.get(year, "guidance")
        i = self.inputs
        note = self.guided.notes.get(year)
        how = (f"input: constant growth {i.capex_growth:.1%}" if i.capex_growth is not None
               else f"model: prior year x (1 {'+' if growth >= 0 else '-'} {abs(growth):.1%}), "
               f"growth fading to the long-run rate, capped at {i.growth_cap:.0%}")
        return f"{how}; {note}" if note else how


def _long_run(base: CompanyBase, inputs: ScenarioInputs, capex: bool = False) -> float:
    if capex and inputs.long_run_capex_growth is not None:
        return float(inputs.long_run_capex_growth)
    if inputs.revenue_growth is not None:
        return float(inputs.revenue_growth)
    if inputs.long_run_revenue_growth is not None:
        return float(inputs.long_run_revenue_growth)
    return float(base.revenue_cagr)


def build_scenario(
    ds: Any,
    ticker: str,
    preset: str | FinancingStructure,
    overrides: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    *,
    years: int | None = None,
    guidance: pd.DataFrame | None = None,
    preset_steps_only: bool = False,
) -> Scenario:
    """Base, terms and inputs of one scenario.

    Parameters
    ----------
    ds : Dataset
        The reported figures.
    ticker : str
        A covered company.
    preset : str or FinancingStructure
        A preset name (:data:`~aicapex.engine.presets.PRESET_NAMES`) or custom terms.
    overrides : mapping or pairs, optional
        See the module docstring.
    years : int, optional
        Horizon (default 5); an ``inputs.years`` override wins.
    guidance : DataFrame, optional
        The guidance table (default: the snapshot's, :func:`~aicapex.data.guidance.snapshot_guidance`).
    preset_steps_only : bool
        Apply a step's terms only when the preset uses that step (for side-by-side tables).

    Returns
    -------
    Scenario

    Raises
    ------
    ArgumentError
        An unknown or out-of-range override (checked whether or not the step is used).
    DataError
        A base figure missing (all listed at once).

    Examples
    --------
    >>> from aicapex.data.dataset import load_dataset
    >>> sc = build_scenario(load_dataset(), "GOOGL", "bonds", {"bonds.coupon": 0.05})
    >>> sc.structure.bonds.coupon, sc.inputs.capex_guidance
    (0.05, ((2026, 185000.0),))
    """
    pairs = as_pairs(overrides)
    structure = preset if isinstance(preset, FinancingStructure) else get_preset(preset)
    preset_steps_only = preset_steps_only and _drops_terms(structure, pairs)
    if guidance is None and not isinstance(preset, FinancingStructure):
        # A workbook builds the same scenario for several functions (CPX_FINANCING, its
        # sources, CPX_MONTE_CARLO, the preset's column of CPX_SCENARIOS): once per process.
        key = (str(ticker).strip().upper(), structure.name, pairs, years, preset_steps_only)
        return _SCENARIOS.get(ds, key, lambda: _build_scenario(
            ds, ticker, structure, pairs, years, None, preset_steps_only))
    return _build_scenario(ds, ticker, structure, pairs, years, guidance, preset_steps_only)


def _build_scenario(ds: Any, ticker: str, structure: FinancingStructure,
                    pairs: tuple[tuple[str, Any], ...], years: int | None,
                    guidance: pd.DataFrame | None, preset_steps_only: bool) -> Scenario:
    base_over = {k: v for k, v in pairs if k in BASE_KEYS}
    terms = {k: v for k, v in pairs if k not in BASE_KEYS}
    base = base_from_dataset(ds, ticker, base_over)
    inputs = ScenarioInputs() if years is None else ScenarioInputs(years=years)
    # every name is checked, used or not
    s_all, i_all, b_all = apply_overrides(structure, inputs, terms, base)
    s_all.validate()
    if preset_steps_only:
        kept = {k: v for k, v in terms.items()
                if k.split(".", 1)[0] not in _SWITCHABLE
                or _step_used(structure, k.split(".", 1)[0])}
        s_all, i_all, b_all = apply_overrides(structure, inputs, kept, base)
    table = snapshot_guidance() if guidance is None else guidance
    horizon = b_all.fiscal_year + np.arange(1, int(i_all.years) + 1)
    guided = scenario_capex_guidance(table, ds, b_all.ticker, horizon.tolist())
    i_all = replace(i_all, capex_guidance=tuple(sorted(guided.levels.items())))
    return Scenario(b_all, s_all, i_all, guided, pairs)


_RESULTS = DatasetMemo(128)
_SCENARIOS = DatasetMemo(128)


def clear_cache() -> None:
    """Forget memoised scenarios (they are keyed by dataset identity, so this is rarely needed)."""
    _RESULTS.clear()
    _SCENARIOS.clear()


def run_scenario(
    ds: Any,
    ticker: str,
    preset: str,
    overrides: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    *,
    years: int | None = None,
    preset_steps_only: bool = False,
) -> ScenarioResult:
    """The projection and the sources of one scenario, memoised per dataset and arguments
    (a workbook asks for the same scenario from several cells and functions).

    Parameters
    ----------
    ds, ticker, preset, overrides, years, preset_steps_only
        As for :func:`build_scenario` (``preset`` by name).

    Returns
    -------
    ScenarioResult

    Examples
    --------
    >>> from aicapex.data.dataset import load_dataset
    >>> r = run_scenario(load_dataset(), "GOOGL", "bonds", years=3)
    >>> r.frame[["year", "capex"]].iloc[0].tolist()
    [2026.0, 185000.0]
    """
    pairs = as_pairs(overrides)
    structure = get_preset(preset)
    # Same projection whether or not preset_steps_only when it drops nothing: one key.
    preset_steps_only = preset_steps_only and _drops_terms(structure, pairs)
    key = (str(ticker).strip().upper(), structure.name, pairs, years, preset_steps_only)

    def make() -> ScenarioResult:
        sc = build_scenario(ds, ticker, preset, pairs, years=years,
                            preset_steps_only=preset_steps_only)
        return ScenarioResult(sc.project(), sc.sources(), sc.base.fiscal_year,
                              base_year_values(sc.base))

    return _RESULTS.get(ds, key, make)


def compare_scenarios(
    base: CompanyBase,
    inputs: ScenarioInputs | None = None,
    presets: Sequence[str | FinancingStructure] | None = None,
    metrics: Sequence[str] | None = None,
    year: int | str | None = None,
) -> pd.DataFrame:
    """Presets side by side on one base and inputs: one row per metric, one column per preset.

    Parameters
    ----------
    base : CompanyBase
    inputs : ScenarioInputs, optional
    presets : sequence of preset names or structures, optional
        Default: all five.
    metrics : sequence of str, optional
        Output columns (default :data:`DEFAULT_COMPARE_METRICS`).
    year : int or {"last", "peak", "min"}, optional
        A projected fiscal year, the final year (default), the max or the min over the horizon.

    Returns
    -------
    DataFrame
    """
    inputs = inputs or ScenarioInputs()
    structures = [p if isinstance(p, FinancingStructure) else get_preset(p)
                  for p in (presets or PRESET_NAMES)]
    metrics = list(metrics or DEFAULT_COMPARE_METRICS)
    table = {}
    for s in structures:
        frame = project_financing(base, s, inputs)
        table[s.name] = pick_many(frame, metrics, year)
    return pd.DataFrame(table, index=pd.Index(metrics, name="metric"))


def compare_presets(
    ds: Any,
    ticker: str,
    overrides: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    *,
    metrics: Sequence[str] | None = None,
    year: int | str | None = None,
    years: int | None = None,
) -> pd.DataFrame:
    """The five presets side by side for one company, each run by :func:`run_scenario` with
    the same overrides applied to the steps each preset has (``preset_steps_only``).

    Examples
    --------
    >>> from aicapex.data.dataset import load_dataset
    >>> t = compare_presets(load_dataset(), "META", metrics=["capex"], year=2026)
    >>> t.loc["capex"].round(0).tolist() == [132476.0] * 5
    True
    """
    metrics = list(metrics or DEFAULT_COMPARE_METRICS)
    numeric = [c for c in COLUMNS[1:] if c not in TEXT_COLUMNS]
    unknown = [m for m in metrics if m not in numeric]
    if unknown:
        raise ArgumentError(f"unknown metric {unknown[0]!r}; use one of {', '.join(numeric)}")
    table = {}
    for p in PRESET_NAMES:
        frame = run_scenario(ds, ticker, p, overrides, years=years, preset_steps_only=True).frame
        table[p] = pick_many(frame, metrics, year)
    return pd.DataFrame(table, index=pd.Index(metrics, name="metric"))


def sensitivity_grid(
    base: CompanyBase,
    structure: str | FinancingStructure,
    inputs: ScenarioInputs | None,
    row_param: str,
    row_values: Sequence[float],
    col_param: str,
    col_values: Sequence[float],
    metric: str = "net_debt_to_ebitda",
    year: int | str | None = "peak",
) -> pd.DataFrame:
    """Metric of a scenario over a grid of two parameters (dotted names, see
    :func:`~aicapex.engine.financing.apply_overrides`).

    Parameters
    ----------
    base, structure, inputs
        The scenario (``structure`` may be a preset name).
    row_param, col_param : str
        Dotted names varied down the rows and across the columns, e.g. ``"bonds.capex_share"``
        × ``"bonds.coupon"``, or ``"depreciation.server_life"`` × ``"inputs.capex_growth"``.
    row_values, col_values : sequence of float
    metric : str
        Output column (default ``net_debt_to_ebitda``).
    year : int or {"peak", "last", "min"}
        Where to read it (default the peak over the horizon).

    Returns
    -------
    DataFrame
    """
    s0 = structure if isinstance(structure, FinancingStructure) else get_preset(structure)
    i0 = inputs or ScenarioInputs()

    def fn(r: float, c: float) -> float:
        s, i, b = apply_overrides(s0, i0, {row_param: r, col_param: c}, base)
        return pick(project_financing(b, s, i), metric, year)

    return grid_2d(fn, row_values, col_values, row_name=row_param, col_name=col_param)


def timeline_table(result: ScenarioResult | pd.DataFrame, base_year: int,
                   base_values: dict[str, Any], keys: Sequence[str],
                   years: Sequence[int]) -> pd.DataFrame:
    """A projection laid along a timeline: one row per key, one column per fiscal year.

    Parameters
    ----------
    result : ScenarioResult or DataFrame
        The projection (:data:`~aicapex.engine.financing.COLUMNS`, one row per year).
    base_year : int
        The scenario's base year.
    base_values : dict
        The base year's own figures by key (:data:`BASE_YEAR_KEYS`), shown in its column.
    keys : sequence of str
        Output columns of the projection (any of :data:`~aicapex.engine.financing.COLUMNS`).
    years : sequence of int
        Fiscal years (the sheet's year row).

    Returns
    -------
    DataFrame
        Index ``keys``, columns ``years``; NaN where a year is neither projected nor the base
        year (or the base year has no such figure).

    Examples
    --------
    >>> f = pd.DataFrame({"year": [2026, 2027], "capex": [10.0, 12.0]})
    >>> timeline_table(f, 2025, {"capex": 8.0}, ["capex"], [2024, 2025, 2026, 2027, 2028]
    ...                ).loc["capex"].tolist()
    [nan, 8.0, 10.0, 12.0, nan]
    """
    frame = result.frame if isinstance(result, ScenarioResult) else result
    unknown = [k for k in keys if k not in frame.columns or k == "year"]
    if unknown:
        raise ArgumentError(f"keys: unknown key {unknown[0]!r}; use one of "
                            f"{', '.join(c for c in frame.columns if c != 'year')}")
    by_year = frame.set_index(frame["year"].astype(int))
    out = pd.DataFrame(math.nan, index=list(keys), columns=[int(y) for y in years],
                       dtype=object)
    for y in out.columns:
        if y in by_year.index:
            for k in keys:
                v = by_year.at[y, k]
                out.at[k, y] = v.item() if isinstance(v, np.generic) else v
        elif y == base_year:
            for k in keys:
                out.at[k, y] = base_values.get(k, math.nan)
    return out


def base_year_values(base: CompanyBase) -> dict[str, Any]:
    """The base year's own figures shown in its column of :func:`timeline_table`.

    Examples
    --------
    >>> b = CompanyBase("X", 2025, revenue=1000, ocf=290, capex=200, da=100, ppe_net=500,
    ...                 cash=100, debt=200, interest=10, capex_growth=0.5)
    >>> base_year_values(b)["net_debt"], base_year_values(b)["capex_source"]
    (100.0, 'reported')
    """
    return {"capex": float(base.capex), "revenue": float(base.revenue),
            "cash": float(base.cash), "gross_debt": float(base.debt),
            "net_debt": float(base.debt - base.cash), "capex_growth": float(base.capex_growth),
            "revenue_growth": float(base.revenue_growth), "capex_source": "reported"}
