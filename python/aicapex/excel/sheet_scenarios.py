"""The Scenarios sheet: one company's financing scenario on the shared timeline grid
(WORKBOOK_STYLE.md §2–7), each table one spilled engine call.

Blocks, top to bottom:

* **Scenario terms passed to the engine**: one link row per Inputs term; the engine's key in
  column D, the value (a green link to the Inputs name) in column F. ``$D..:$F..`` is the
  ``overrides`` range of every CPX_ call on the sheet (keys first, values last; the empty
  period-0 column E between them is skipped by the UDF). An input left empty or reading
  ``default`` leaves the engine's default (guidance first, then the fading path), whose
  source the "Where the defaults come from" block names. Capex of single fiscal years
  (``capex.2027``) comes from the per-year path on Inputs.
* **Selected scenario** (``in_ScenTicker`` / ``in_Scenario``): one ``CPX_FINANCING`` call
  spilled over the keys in column D × the fiscal years of row 4. The base year's column holds
  the base figures (capex, revenue, cash, debt: the corkscrews open there); projected years
  the engine's; other years ``#N/A`` (not projected). The funding gap is its own line.
  Then the debt corkscrew's opening balance (the previous column's closing).
* **Monte Carlo** (``in_MCPaths``, ``in_MCSeed``, ``in_MCThreshold``): one ``CPX_MONTE_CARLO``
  call spilled over the band keys × years.
* **Preset comparison**: one ``CPX_SCENARIOS`` call, metric keys × the five presets in
  columns F..J (a non-timeline block: its columns are presets) in the final projected year.
* **Where the defaults come from**: one ``CPX_SCENARIO_SOURCES`` call, items in column D ×
  (value, unit, source) in F..H.
* **Checks** (0 = pass) and **alerts**; the sheet total goes to row 3.
* Charts: funding mix by year with the funding gap (stacked column, $bn) and net debt /
  EBITDA with the Monte Carlo band (line), each with a source line under it.

Four CPX_ calls per full recalculation, each engine run once (issue #19's budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aicapex.engine.financing import COLUMN_NOTES
from aicapex.engine.montecarlo import BAND_COLUMNS
from aicapex.engine.presets import IG_BONDS, PRESET_NAMES
from aicapex.excel import layout as L
from aicapex.excel.layout import InputRow
from aicapex.excel.sheetkit import (
    BuildContext,
    abs_ref,
    alert_format,
    check_format,
    new_chart,
    note,
    row_head,
    section,
    sheet_check_cells,
    timeline_header,
    write_alert_total,
    write_block,
    write_check_total,
)

SHEET = "Scenarios"
TITLE = "Scenarios"
PURPOSE = ("Financing scenarios from each company's base year (CPX engine); USD millions unless "
           "stated; fiscal years as reported (MSFT ends June, ORCL May); illustrative, not "
           "forecasts")
DEFAULT_TICKER = "MSFT"
BASE_CASE = "all-cash"
DEFAULT = "default"  # the UDFs' word for "leave the engine's default"


def _decimal(lo: float, hi: float) -> dict:
    return {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": hi}


def _whole(lo: int, hi: int) -> dict:
    return {"validate": "integer", "criteria": "between", "minimum": lo, "maximum": hi}


def _section_first_row() -> int:
    """Inputs row (0-based) of this module's first input: the Inputs sheet writes its first
    section, then the extra sheets' sections in ``builder.EXTRA_SHEETS`` order (Scenarios
    first), each after a header row and followed by a blank row."""
    return L.INPUTS_FIRST_ROW - 1 + len(L.INPUT_ROWS) + 2 + 1


def _number_or_default(index: int, lo: float, hi: float) -> dict:
    """Validation of an input that takes a number in [lo, hi] or the word ``default``."""
    ref = L.cell(_section_first_row() + index, 3)
    return {"validate": "custom",
            "value": f'=OR({ref}="{DEFAULT}",AND(ISNUMBER({ref}),{ref}>={lo},{ref}<={hi}))'}


def _coverage_source() -> str:
    return "=" + L.coverage_ref().split("!", 1)[1]


def capex_years(ds: Any) -> list[int]:
    """Fiscal years the per-year capex path on Inputs offers: from the year after the earliest
    latest-reported year among the covered companies (a December filer's FY2026 is still
    projected) to the last year of the longest horizon."""
    tl = L.timeline_for(ds, L.COVERAGE)
    latest = [int(ds.series(t, "revenue").dropna().index.max()) for t in L.COVERAGE
              if t in ds.tickers and not ds.series(t, "revenue").dropna().empty]
    first = min(latest, default=tl.last_actual_fy) + 1
    return list(range(first, tl.last_actual_fy + L.MAX_HORIZON + 1))


_PRESET_LIST = {"validate": "list", "source": list(PRESET_NAMES)}
_ABOUT_DEFAULT = "default = the engine's (see 'Where the defaults come from' on Scenarios)"


def scenario_inputs(ds: Any) -> list[InputRow]:
    """The scenario inputs written on Inputs (``INPUT_SECTION``), per-year capex included."""
    rows = [
        InputRow("in_ScenTicker", "Scenario company", "ticker", DEFAULT_TICKER,
                 {"validate": "list", "source": _coverage_source()},
                 "A covered company; AAPL's interest expense is not reported for FY2024-FY2025, "
                 "so its scenario shows #N/A until you supply it"),
        InputRow("in_Scenario", "Financing preset", "preset", BASE_CASE, _PRESET_LIST,
                 "all-cash, bonds, spv-lease, private-credit or hybrid "
                 "(terms: aicapex.engine.presets)"),
        InputRow("in_BaseScenario", "Base-case preset (alert if another)", "preset",
                 BASE_CASE, _PRESET_LIST, "all-cash: the hyperscalers' historical pattern"),
        InputRow("in_BondCoupon", "IG bond coupon", "%", IG_BONDS.coupon, _decimal(0, 1),
                 "bonds.coupon; preset 4.725% = midpoint of Amazon's 3.9%-5.55% notes "
                 "(Nov 2025); used where the preset issues bonds"),
        InputRow("in_SPVShare", "SPV/JV lease share of capex", "%", DEFAULT, None,
                 "lease.capex_share; default = the preset's (25% in spv-lease and hybrid, a "
                 "model assumption; 0 elsewhere); a number adds an SPV to the selected preset"),
        InputRow("in_LeaseYield", "SPV lease yield", "%", 0.066, _decimal(0, 1),
                 "lease.lease_yield; Meta Hyperion JV bonds ~6.6% (6.58% due 2049, Oct 2025)"),
        InputRow("in_PCSpread", "Private-credit spread over SOFR", "%", 0.06, _decimal(0, 1),
                 "private_credit.spread; CoreWeave GPU-backed DDTL, SOFR + 600 bp class"),
        InputRow("in_MinCash", "Minimum cash balance", "$m", DEFAULT, None,
                 "inputs.min_cash; default = the preset's share of opening cash (all-cash 0%, "
                 "hybrid 50%, others 100%)"),
        InputRow("in_Buybacks", "Share buybacks a year", "$m", DEFAULT, None,
                 "inputs.buybacks; not in the data set, so default = 0 (enter the company's "
                 "figure, USD m a year, from its 10-K cash-flow statement)"),
        InputRow("in_Dividends", "Dividends a year", "$m", DEFAULT, None,
                 "inputs.dividends; not in the data set, so default = 0 (enter the company's "
                 "figure, USD m a year)"),
        InputRow("in_RevGrowth", "Revenue growth a year (one constant rate)", "%", DEFAULT, None,
                 "inputs.revenue_growth; fraction, -0.99 to 10; " + _ABOUT_DEFAULT +
                 ": the latest growth, capped, fading to the long-run rate"),
        InputRow("in_LongRunGrowth", "Long-run growth (revenue; capex follows)", "%", DEFAULT,
                 None, "inputs.long_run_revenue_growth; default = the revenue CAGR over the five "
                 "years to the base year (reported)"),
        InputRow("in_GrowthCap", "Growth cap a year (model years)", "%", 0.5, _decimal(0, 3),
                 "inputs.growth_cap; model assumption: no model year grows capex or revenue "
                 "faster (a guided or typed year is the company's or your figure)"),
        InputRow("in_FadeYears", "Years to fade to the long-run growth", "years", 4,
                 _whole(0, 30), "inputs.fade_years; model assumption"),
        InputRow("in_CapexGrowth", "Capex growth a year (one constant rate)", "%", DEFAULT, None,
                 "inputs.capex_growth; a number replaces the default path (guidance included)"),
        InputRow("in_OCFMargin", "OCF margin before interest", "%", DEFAULT, None,
                 "inputs.ocf_margin; fraction of revenue, -1 to 1; default = the base year's "
                 "(OCF + interest) / revenue"),
        InputRow("in_ServerLife", "Server and network useful life", "yrs", 6.0, _decimal(1, 20),
                 "depreciation.server_life; 6 years = MSFT and GOOGL policy since FY2023 (10-K); "
                 "META 5.5, AMZN 5"),
        InputRow("in_MCPaths", "Monte Carlo paths", "#", 10_000, _whole(100, 200_000),
                 "Whole number, 100 to 200,000 (the worksheet cap); bands settle by ~10,000"),
        InputRow("in_MCSeed", "Monte Carlo seed", "#", 42, _whole(0, 2_147_483_647),
                 "Fixed so the bands are reproducible; any whole number >= 0"),
        InputRow("in_MCThreshold", "Leverage threshold (Monte Carlo breach)", "x", 3.0,
                 _decimal(0, 20), "Net debt / EBITDA, x; model assumption (a common IG ceiling)"),
    ]
    by_name = {r.name: i for i, r in enumerate(rows)}
    for name, lo, hi in (("in_SPVShare", 0, 1), ("in_MinCash", 0, 1e7),
                         ("in_Buybacks", 0, 1e7), ("in_Dividends", 0, 1e7),
                         ("in_RevGrowth", -0.99, 3), ("in_LongRunGrowth", -0.99, 3),
                         ("in_CapexGrowth", -0.99, 3), ("in_OCFMargin", -1, 1)):
        i = by_name[name]
        rows[i] = InputRow(rows[i].name, rows[i].label, rows[i].unit, rows[i].value,
                           _number_or_default(i, lo, hi), rows[i].note)
    for y in capex_years(ds):
        rows.append(InputRow(f"in_CapexFY{y}", f"Capex FY{y} (per-year path)", "$m", DEFAULT,
                             _number_or_default(len(rows), 0, 1e7),
                             f"capex.{y}; default = the latest guidance for a guided fiscal "
                             "year, else the fading path (a number for a year the scenario "
                             "does not project gives #VALUE! with the reason)"))
    return rows


def input_section(ds: Any) -> tuple[str, list[InputRow]]:
    """The section the builder puts on Inputs (its per-year capex rows follow the data)."""
    return ("Financing scenario (Scenarios sheet; illustrative assumptions)", scenario_inputs(ds))


#: (engine key, label on the Scenarios link row, unit) of the terms the sheet passes to the
#: engine, by Inputs name, in the order of the link rows (then one row per capex year).
FIXED_TERMS: list[tuple[str, str, str, str]] = [
    ("in_Horizon", "inputs.years", "Horizon (years projected)", "years"),
    ("in_BondCoupon", "bonds.coupon", "IG bond coupon", "%"),
    ("in_SPVShare", "lease.capex_share", "SPV/JV lease share of capex", "%"),
    ("in_LeaseYield", "lease.lease_yield", "SPV lease yield", "%"),
    ("in_PCSpread", "private_credit.spread", "Private-credit spread over SOFR", "%"),
    ("in_MinCash", "inputs.min_cash", "Minimum cash balance", "$m"),
    ("in_Buybacks", "inputs.buybacks", "Share buybacks a year", "$m"),
    ("in_Dividends", "inputs.dividends", "Dividends a year", "$m"),
    ("in_RevGrowth", "inputs.revenue_growth", "Revenue growth a year (constant)", "%"),
    ("in_LongRunGrowth", "inputs.long_run_revenue_growth", "Long-run growth", "%"),
    ("in_GrowthCap", "inputs.growth_cap", "Growth cap a year", "%"),
    ("in_FadeYears", "inputs.fade_years", "Years to fade to the long-run growth", "years"),
    ("in_CapexGrowth", "inputs.capex_growth", "Capex growth a year (constant)", "%"),
    ("in_OCFMargin", "inputs.ocf_margin", "OCF margin before interest", "%"),
    ("in_ServerLife", "depreciation.server_life", "Server and network useful life", "yrs"),
]


def terms(ds: Any) -> list[tuple[str, str, str, str]]:
    """(input name, engine key, label, unit) of every link row, per-year capex included."""
    return FIXED_TERMS + [(f"in_CapexFY{y}", f"capex.{y}", f"Capex FY{y}", "$m")
                          for y in capex_years(ds)]


#: Selected-scenario rows: (engine key, label, unit). The funding sources (cash_used ...
#: funding_gap) are contiguous: the funding check sums them.
SCENARIO_ROWS: list[tuple[str, str, str]] = [
    ("revenue", "Revenue", "$m"),
    ("revenue_growth", "Revenue growth", "%"),
    ("ocf", "Operating cash flow before interest", "$m"),
    ("capex", "Capex (cash spent, positive)", "$m"),
    ("capex_growth", "Capex growth", "%"),
    ("capex_source", "Capex from: guidance, input or model", "text"),
    ("fcf", "FCF before financing (OCF - capex)", "$m"),
    ("interest", "Interest paid", "$m"),
    ("repayment", "Debt repayment", "$m"),
    ("lease_payment", "SPV lease rent", "$m"),
    ("buybacks", "Share buybacks", "$m"),
    ("dividends", "Dividends", "$m"),
    ("funding_need", "Funding need (uses - OCF)", "$m"),
    ("cash_used", "Cash above the minimum used (negative = surplus kept)", "$m"),
    ("bonds", "IG bonds", "$m"),
    ("term_loans", "Bank term loans", "$m"),
    ("spv_lease", "SPV/JV lease (off balance sheet)", "$m"),
    ("private_credit", "Private credit", "$m"),
    ("equity", "Equity issued (only where allowed)", "$m"),
    ("funding_gap", "Funding gap (not funded)", "$m"),
    ("cumulative_funding_gap", "Funding gap, cumulative", "$m"),
    ("new_debt", "New debt (bonds, loans, private credit)", "$m"),
    ("gross_debt", "Gross debt, closing", "$m"),
    ("cash", "Cash & marketable securities (year end)", "$m"),
    ("net_debt", "Net debt (gross debt - cash)", "$m"),
    ("lease_liability", "SPV lease liability (off balance sheet)", "$m"),
    ("ebitda", "EBITDA proxy (OCF before interest - SPV rent)", "$m"),
    ("da", "Depreciation & amortization", "$m"),
    ("da_to_revenue", "D&A / revenue", "%"),
    ("net_debt_to_ebitda", "Net debt / EBITDA proxy (n.m. = #N/A when EBITDA <= 0)", "x"),
    ("debt_plus_leases_to_ebitda", "(Debt + leases) / EBITDA proxy", "x"),
    ("interest_coverage", "Interest coverage ((EBITDA - D&A) / interest)", "x"),
]
SOURCES = ["cash_used", "bonds", "term_loans", "spv_lease", "private_credit", "equity",
           "funding_gap"]

MC_ROWS: list[tuple[str, str, str]] = [
    ("fcf_p50", "FCF, P50 (median)", "$m"),
    ("leverage_p5", "Net debt / EBITDA, P5", "x"),
    ("leverage_p50", "Net debt / EBITDA, P50 (median)", "x"),
    ("leverage_p95", "Net debt / EBITDA, P95", "x"),
    ("p_breach_cum", "P(leverage above threshold) by this year", "%"),
]

METRIC_LABELS = {
    "capex": ("Capex", "$m"),
    "fcf": ("FCF before financing", "$m"),
    "new_debt": ("New debt", "$m"),
    "funding_gap": ("Funding gap (not funded)", "$m"),
    "net_debt": ("Net debt", "$m"),
    "interest": ("Interest paid", "$m"),
    "net_debt_to_ebitda": ("Net debt / EBITDA proxy", "x"),
    "interest_coverage": ("Interest coverage", "x"),
}
COMPARE_METRICS = list(METRIC_LABELS)

#: Items of the sources block: (engine item, label, unit).
SOURCE_ROWS: list[tuple[str, str, str]] = [
    ("base_year", "Base year", "FY"),
    ("interest_expense", "Interest expense (implied cost of existing debt)", "$m"),
    ("da_cashflow", "D&A (remaining life of existing PP&E)", "$m"),
    ("ppe_net", "PP&E, net", "$m"),
    ("capex_first_year", "Capex, first projected year", "$m"),
    ("guidance", "Capex guidance behind the path", "text"),
    ("revenue_growth", "Revenue growth, first projected year", "%"),
    ("long_run_revenue_growth", "Long-run growth (revenue; capex follows)", "%"),
    ("growth_cap", "Growth cap (model years)", "%"),
    ("ocf_margin", "OCF margin before interest", "%"),
    ("buybacks", "Share buybacks a year", "$m"),
    ("dividends", "Dividends a year", "$m"),
    ("min_cash", "Minimum cash balance", "$m"),
    ("ebitda", "EBITDA (definition)", "text"),
    ("funding_gap", "Funding gap (definition)", "text"),
]

#: Funding sources in the chart: legend name and colour (the gap in red: not funded).
FUNDING_SERIES = {"cash_used": ("Cash used", "#7F7F7F"), "bonds": ("IG bonds", "#0072B2"),
                  "term_loans": ("Term loans", "#56B4E9"), "spv_lease": ("SPV/JV lease", "#E69F00"),
                  "private_credit": ("Private credit", "#D55E00"), "equity": ("Equity", "#CC79A7"),
                  "funding_gap": ("Funding gap (not funded)", "#C00000")}
CHART_SOURCE = ("Source: company 10-K filings (SEC EDGAR) for the base year; capex guidance "
                "(capex_guidance.csv, two sources per statement); AI Capex Monitor financing "
                "engine; assumptions on Inputs are illustrative, not forecasts.")

CHECKS = ["fcf", "funding", "cash", "debt", "net_debt", "leverage", "bands"]
ALERTS = ["scenario", "gap", "nm"]


@dataclass
class ScenariosLayout:
    terms: dict[str, int] = field(default_factory=dict)  # input name -> row
    scenario_header: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # SCENARIO_ROWS key -> row
    opening_row: int = 0
    mc_header: int = 0
    mc: dict[str, int] = field(default_factory=dict)
    compare_header: int = 0
    preset_row: int = 0
    metrics: dict[str, int] = field(default_factory=dict)
    sources_header: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    checks_header: int = 0
    checks: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    alert_total: int = 0
    total_row: int = 0
    chart_row: int = 0


def scenarios_layout(ds: Any) -> ScenariosLayout:
    lay = ScenariosLayout()
    r = L.HEADER_ROWS + 1
    for name, *_ in terms(ds):
        r += 1
        lay.terms[name] = r
    r += 2
    lay.scenario_header = r
    for key, *_ in SCENARIO_ROWS:
        r += 1
        lay.rows[key] = r
    r += 1
    lay.opening_row = r
    r += 2
    lay.mc_header = r
    for key, *_ in MC_ROWS:
        r += 1
        lay.mc[key] = r
    r += 2
    lay.compare_header = r
    lay.preset_row = r + 1
    r += 1
    for m in COMPARE_METRICS:
        r += 1
        lay.metrics[m] = r
    r += 2
    lay.sources_header = r
    for item, *_ in SOURCE_ROWS:
        r += 1
        lay.sources[item] = r
    r += 2
    lay.checks_header = r
    for key in CHECKS:
        r += 1
        lay.checks[key] = r
    for key in ALERTS:
        r += 1
        lay.alerts[key] = r
    lay.alert_total = r + 1
    lay.total_row = r + 2
    lay.chart_row = min(lay.terms.values())
    return lay


def alert_ref(ds: Any) -> str:
    """Absolute reference of this sheet's alert count (summed on the Cover)."""
    return f"{SHEET}!{abs_ref(scenarios_layout(ds).alert_total)}"


def _terms_range(lay: ScenariosLayout) -> str:
    rows = list(lay.terms.values())
    return f"{abs_ref(rows[0])}:{abs_ref(rows[-1], L.FIRST_PERIOD_COL)}"


def _keys_range(first: int, last: int) -> str:
    return f"{L.cell(first, 3, False, True)}:{L.cell(last, 3, False, True)}"


def _defaults(ctx: BuildContext) -> dict[str, Any]:
    values = {r.name: r.value for r in L.INPUT_ROWS if r.name}
    values.update({r.name: r.value for r in scenario_inputs(ctx.ds)})
    values.update(ctx.input_defaults)
    return values


def _pairs(ds: Any, values: dict[str, Any]) -> list[list[Any]]:
    """The overrides range as the build-time call sees it (blank and ``default`` dropped by
    the UDF, as in the sheet)."""
    return [[key, None, values.get(name)] for name, key, *_ in terms(ds)]


def _engine_values(ctx: BuildContext, lay: ScenariosLayout,
                   values: dict[str, Any]) -> dict[str, Any]:
    """Each block's build-time result: the same function calls Excel makes."""
    from aicapex.udfs import financing as uf

    tl = ctx.timeline
    years = [[tl.year_of(c) for c in range(L.FIRST_PERIOD_COL, tl.last_period_col + 1)]]
    over = _pairs(ctx.ds, values)
    args = (values["in_ScenTicker"], values["in_Scenario"], values["in_Horizon"], over, False)
    out = {
        "scenario": uf.cpx_financing(*args, [[k] for k, *_ in SCENARIO_ROWS], years),
        "mc": uf.cpx_monte_carlo(values["in_ScenTicker"], values["in_Scenario"],
                                 values["in_MCPaths"], values["in_MCSeed"],
                                 values["in_MCThreshold"], over, False,
                                 [[k] for k, *_ in MC_ROWS], years),
        "compare": uf.cpx_scenarios(values["in_ScenTicker"], [[m] for m in COMPARE_METRICS],
                                    None, over, False, False),
        "sources": uf.cpx_scenario_sources(*args, [[k] for k, *_ in SOURCE_ROWS]),
    }
    shapes = {"scenario": (len(SCENARIO_ROWS), len(years[0])),
              "mc": (len(MC_ROWS), len(years[0])),
              "compare": (len(COMPARE_METRICS), len(PRESET_NAMES)),
              "sources": (len(SOURCE_ROWS), 3)}
    for k, (h, w) in shapes.items():
        if not isinstance(out[k], list):  # the whole call failed: the block shows its error
            out[k] = [[out[k]] * w for _ in range(h)]
    return out


# -- the sheet --------------------------------------------------------------------------------------


def write_sheet(ctx: BuildContext, ws: Any) -> None:
    """Write the Scenarios sheet (registered in ``builder.EXTRA_SHEETS``)."""
    lay = scenarios_layout(ctx.ds)
    values = _defaults(ctx)
    engine = _engine_values(ctx, lay, values)
    timeline_header(ctx, ws, TITLE, PURPOSE)
    sheet_check_cells(ctx, ws, abs_ref(lay.total_row))
    _write_terms(ctx, ws, lay, values)
    _write_scenario(ctx, ws, lay, values, engine)
    _write_monte_carlo(ctx, ws, lay, engine)
    _write_compare(ctx, ws, lay, engine)
    _write_sources(ctx, ws, lay, engine)
    _write_checks(ctx, ws, lay)
    _write_charts(ctx, ws, lay)


def _write_terms(ctx: BuildContext, ws: Any, lay: ScenariosLayout, values: dict[str, Any]) -> None:
    s = ctx.styles
    section(ctx, ws, L.HEADER_ROWS + 1, "Scenario terms passed to the engine (values linked "
            "from Inputs; empty or 'default' = the engine's default)")
    for name, key, label, unit in terms(ctx.ds):
        r = lay.terms[name]
        row_head(ctx, ws, r, label, unit, indent=True)
        ws.write_string(r, 3, key, s("key"))
        v = values.get(name)
        fmt = s("link") if isinstance(v, str) else s.for_unit("link", unit)
        ws.write_formula(r, L.FIRST_PERIOD_COL, f"={name}", fmt, "" if v is None else v)
        note(ctx, ws, r, f"{name} on Inputs -> engine key {key}")


def _title(ctx: BuildContext, ws: Any, r: int, prefix: str, values: dict[str, Any]) -> None:
    s = ctx.styles
    text = f"{prefix}: {values['in_ScenTicker']} / {values['in_Scenario']}"
    ws.write_formula(r, 1, f'="{prefix}: "&in_ScenTicker&" / "&in_Scenario', s("section"), text)
    for c in range(2, ctx.timeline.last_period_col + 1):
        ws.write_blank(r, c, None, s("section"))


def _write_scenario(ctx: BuildContext, ws: Any, lay: ScenariosLayout, values: dict[str, Any],
                    engine: dict[str, Any]) -> None:
    s = ctx.styles
    tl = ctx.timeline
    _title(ctx, ws, lay.scenario_header, "Selected scenario", values)
    note(ctx, ws, lay.scenario_header, "One CPX_FINANCING call: keys in column D x fiscal "
         "years of row 4; the base year's column holds its reported figures")
    keys = [k for k, *_ in SCENARIO_ROWS]
    for key, label, unit in SCENARIO_ROWS:
        r = lay.rows[key]
        row_head(ctx, ws, r, label, unit, indent=key in SOURCES[:-1])
        ws.write_string(r, 3, key, s("key"))
        note(ctx, ws, r, COLUMN_NOTES[key])
    first, last = lay.rows[keys[0]], lay.rows[keys[-1]]
    formula = (f"=CPX_FINANCING(in_ScenTicker,in_Scenario,in_Horizon,{_terms_range(lay)},FALSE,"
               f"{_keys_range(first, last)},{tl.year_range(actual_only=False)})")
    fmts = [s("engine", "text") if unit == "text" else s.for_unit("engine", unit)
            for _, _, unit in SCENARIO_ROWS]
    fmts[keys.index("funding_gap")] = s("total", "musd")
    write_block(ws, first, L.FIRST_PERIOD_COL, formula, engine["scenario"], row_formats=fmts)
    r = lay.opening_row
    row_head(ctx, ws, r, "Gross debt, opening (prior year's closing)", "$m")
    closing = lay.rows["gross_debt"] + 1
    for c in range(L.FIRST_PERIOD_COL + 1, tl.last_period_col + 1):
        prev = engine["scenario"][keys.index("gross_debt")][c - L.FIRST_PERIOD_COL - 1]
        ws.write_formula(r, c, f"={L.col(c - 1)}{closing}", s("calc", "musd"), _cached(prev))
    note(ctx, ws, r, "Corkscrew: the previous column's closing gross debt (the base year's "
         "reported total debt for the first projected year; none before the timeline)")


def _cached(v: Any) -> Any:
    if v is None:
        return 0
    if isinstance(v, str):
        return "#N/A" if v.startswith("#") else v
    return float(v)


def _write_monte_carlo(ctx: BuildContext, ws: Any, lay: ScenariosLayout,
                       engine: dict[str, Any]) -> None:
    s = ctx.styles
    tl = ctx.timeline
    section(ctx, ws, lay.mc_header, "Monte Carlo: OCF growth sd 5%, capex overrun sd 10% "
            "(in_MCPaths paths, seed in_MCSeed)")
    for key, label, unit in MC_ROWS:
        r = lay.mc[key]
        row_head(ctx, ws, r, label, unit, indent=True)
        ws.write_string(r, 3, key, s("key"))
    first, last = lay.mc[MC_ROWS[0][0]], lay.mc[MC_ROWS[-1][0]]
    formula = (f"=CPX_MONTE_CARLO(in_ScenTicker,in_Scenario,in_MCPaths,in_MCSeed,in_MCThreshold,"
               f"{_terms_range(lay)},FALSE,{_keys_range(first, last)},"
               f"{tl.year_range(actual_only=False)})")
    write_block(ws, first, L.FIRST_PERIOD_COL, formula, engine["mc"],
                row_formats=[s.for_unit("engine", unit) for _, _, unit in MC_ROWS])
    note(ctx, ws, first, "One CPX_MONTE_CARLO call: band keys x fiscal years; a path whose "
         "EBITDA proxy is <= 0 ranks as unbounded leverage (a breach)")
    note(ctx, ws, lay.mc["leverage_p95"], f"Breach = net debt / EBITDA above in_MCThreshold "
         f"({BAND_COLUMNS[-1]} accumulates over the years)")


def _write_compare(ctx: BuildContext, ws: Any, lay: ScenariosLayout,
                   engine: dict[str, Any]) -> None:
    s = ctx.styles
    section(ctx, ws, lay.compare_header, "Preset comparison in the final projected year "
            "(columns F-J are presets, not years)")
    r = lay.preset_row
    row_head(ctx, ws, r, "Preset (engine order)", "preset")
    for i, name in enumerate(PRESET_NAMES):
        ws.write_string(r, L.FIRST_PERIOD_COL + i, name, s("label_bold"))
    note(ctx, ws, r, "Each preset with the same terms, applied to the steps that preset has")
    for m, (label, unit) in METRIC_LABELS.items():
        rr = lay.metrics[m]
        row_head(ctx, ws, rr, f"{label}, by preset", unit, indent=True)
        ws.write_string(rr, 3, m, s("key"))
    first, last = lay.metrics[COMPARE_METRICS[0]], lay.metrics[COMPARE_METRICS[-1]]
    formula = (f"=CPX_SCENARIOS(in_ScenTicker,{_keys_range(first, last)},,"
               f"{_terms_range(lay)},FALSE,FALSE)")
    write_block(ws, first, L.FIRST_PERIOD_COL, formula, engine["compare"],
                row_formats=[s.for_unit("engine", METRIC_LABELS[m][1]) for m in COMPARE_METRICS])
    note(ctx, ws, first, "One CPX_SCENARIOS call: metric keys x the five presets")


def _write_sources(ctx: BuildContext, ws: Any, lay: ScenariosLayout,
                   engine: dict[str, Any]) -> None:
    s = ctx.styles
    section(ctx, ws, lay.sources_header, "Where the defaults come from (F value, G unit, H "
            "source: filing, guidance, input or model assumption)")
    for item, label, unit in SOURCE_ROWS:
        r = lay.sources[item]
        row_head(ctx, ws, r, f"{label}: value and source", unit, indent=True)
        ws.write_string(r, 3, item, s("key"))
    first, last = lay.sources[SOURCE_ROWS[0][0]], lay.sources[SOURCE_ROWS[-1][0]]
    formula = (f"=CPX_SCENARIO_SOURCES(in_ScenTicker,in_Scenario,in_Horizon,{_terms_range(lay)},"
               f"FALSE,{_keys_range(first, last)})")
    fmts = [s("engine", "year") if unit == "FY" else
            s("engine", "text") if unit == "text" else s.for_unit("engine", unit)
            for _, _, unit in SOURCE_ROWS]
    write_block(ws, first, L.FIRST_PERIOD_COL, formula, engine["sources"], row_formats=fmts)


def _write_checks(ctx: BuildContext, ws: Any, lay: ScenariosLayout) -> None:
    s = ctx.styles
    tl = ctx.timeline
    section(ctx, ws, lay.checks_header, "Checks (0 = pass) and alerts")
    row = {k: v + 1 for k, v in lay.rows.items()}  # 1-based
    mc = {k: v + 1 for k, v in lay.mc.items()}
    opening = lay.opening_row + 1
    cols = range(L.FIRST_PERIOD_COL, tl.last_period_col + 1)

    def near(a: str, b: str) -> str:
        return f"--(ABS({a}-{b})>in_CheckTol)"

    def per_year(c: str, test: str, key: int) -> str:
        return f"=IF(ISNUMBER({c}{key}),{test},0)"

    names = [L.col(x) for x in cols]

    def prev(c: str) -> str:  # the column before (E, the empty period 0, before F)
        return L.col(L.FIRST_PERIOD_COL + names.index(c) - 1)

    per_period: dict[str, tuple[str, Any]] = {
        "fcf": ("FCF equals OCF - capex",
                lambda c: per_year(c, near(f"{c}{row['ocf']}-{c}{row['capex']}",
                                           f"{c}{row['fcf']}"), row["fcf"])),
        "funding": ("Funding sources and the gap equal the funding need",
                    lambda c: per_year(c, near(f"SUM({c}{row[SOURCES[0]]}:{c}{row[SOURCES[-1]]})",
                                               f"{c}{row['funding_need']}"), row["funding_need"])),
        "cash": ("Cash: closing = opening - cash used - funding gap",
                 lambda c: per_year(c, near(f"{prev(c)}{row['cash']}-{c}{row['cash_used']}"
                                            f"-{c}{row['funding_gap']}", f"{c}{row['cash']}"),
                                    row["cash_used"])),
        "debt": ("Debt: closing = opening + new - repaid",
                 lambda c: per_year(c, near(f"{c}{opening}+{c}{row['new_debt']}"
                                            f"-{c}{row['repayment']}", f"{c}{row['gross_debt']}"),
                                    row["new_debt"])),
        "net_debt": ("Net debt equals gross debt - cash",
                     lambda c: per_year(c, near(f"{c}{row['gross_debt']}-{c}{row['cash']}",
                                                f"{c}{row['net_debt']}"), row["net_debt"])),
        "leverage": ("Leverage never negative with positive net debt",
                     lambda c: per_year(c, f"--AND({c}{row['net_debt']}>0,"
                                           f"{c}{row['net_debt_to_ebitda']}<0)",
                                        row["net_debt_to_ebitda"])),
        "bands": ("MC bands ordered (P5 <= P50 <= P95)",
                  lambda c: per_year(c, f"--OR({c}{mc['leverage_p5']}>{c}{mc['leverage_p50']},"
                                        f"{c}{mc['leverage_p50']}>{c}{mc['leverage_p95']})",
                                     mc["leverage_p50"])),
    }
    for key, (label, formula) in per_period.items():
        r = lay.checks[key]
        row_head(ctx, ws, r, label, "flag")
        for c in cols:
            ws.write_formula(r, c, formula(L.col(c)), s("calc", "check"), 0)
        _period_total(ctx, ws, r, cols)
    note(ctx, ws, lay.checks["leverage"], "n.m. (#N/A) where the EBITDA proxy is <= 0: never "
         "a negative multiple on positive net debt")

    # Alerts: reported, not failing.
    gap = lay.rows["funding_gap"]
    ebitda = lay.rows["ebitda"]
    for key, label, formula, text in (
        ("scenario", "Alert: preset other than the base case",
         "=--(in_Scenario<>in_BaseScenario)",
         "A sensitivity is active: the base case is in_BaseScenario (all-cash)"),
        ("gap", "Alert: years with a funding gap (need not funded)",
         f'=COUNTIFS({tl.period_range(gap, actual_only=False)},">"&in_CheckTol)',
         "The preset's steps do not cover the need: see the funding gap line"),
        ("nm", "Alert: years with leverage n.m. (EBITDA proxy <= 0)",
         f'=COUNTIFS({tl.period_range(ebitda, actual_only=False)},"<=0")',
         "Net debt / EBITDA is #N/A (n.m.) in those years"),
    ):
        r = lay.alerts[key]
        row_head(ctx, ws, r, label, "alert")
        ws.write_formula(r, 3, formula, s("calc", "alert"), 0)
        note(ctx, ws, r, text)
    for rr in lay.alerts.values():
        alert_format(ctx, ws, L.cell(rr, 3))
    write_alert_total(ctx, ws, lay.alert_total, lay.alerts.values())
    write_check_total(ctx, ws, lay.total_row, lay.checks.values())


def _period_total(ctx: BuildContext, ws: Any, r: int, cols: range) -> None:
    s = ctx.styles
    rng = f"{L.cell(r, cols[0])}:{L.cell(r, cols[-1])}"
    ws.write_formula(r, 3, f"=MIN(1,SUM({rng}))", s("calc", "check"), 0)
    check_format(ctx, ws, rng)
    check_format(ctx, ws, L.cell(r, 3))


def chart_columns(ctx: BuildContext) -> range:
    """Columns the charts read: from the earliest first projected year any covered company can
    have to the end of the timeline (a later company leaves gaps, never zeros)."""
    first = min(capex_years(ctx.ds))
    return range(ctx.timeline.period_col(first), ctx.timeline.last_period_col + 1)


def _write_charts(ctx: BuildContext, ws: Any, lay: ScenariosLayout) -> None:
    """Funding mix by year with the funding gap (stacked column, $bn) and net debt / EBITDA
    with the Monte Carlo band (line; the band dashed), WORKBOOK_STYLE §7."""
    s = ctx.styles
    cols = chart_columns(ctx)
    c0, c1 = cols[0], cols[-1]
    span = f"FY{ctx.timeline.year_of(c0)}–FY{ctx.timeline.year_of(c1)}"
    categories = f"={SHEET}!{abs_ref(3, c0)}:{abs_ref(3, c1)}"

    def values(r: int) -> str:
        return f"={SHEET}!{abs_ref(r, c0)}:{abs_ref(r, c1)}"

    mix = new_chart(ctx, "column", f"Funding mix and funding gap by year, selected scenario, "
                    f"{span} ($bn)", "#,##0,", subtype="stacked")
    for key in SOURCES:
        legend, colour = FUNDING_SERIES[key]
        mix.add_series({"name": legend, "categories": categories,
                        "values": values(lay.rows[key]), "fill": {"color": colour},
                        "border": {"none": True}})
    mix.set_x_axis({"num_format": '"FY"0', "label_position": "low"})
    lev = new_chart(ctx, "line", f"Net debt / EBITDA proxy with Monte Carlo P5/P50/P95, {span} "
                    "(x)", '0.0"x"')
    lev.add_series({"name": "Scenario", "categories": categories,
                    "values": values(lay.rows["net_debt_to_ebitda"]),
                    "line": {"color": "#1F3864", "width": 2.25},
                    "marker": {"type": "circle", "size": 4, "fill": {"color": "#1F3864"},
                               "border": {"color": "#1F3864"}}})
    for key, legend, colour in (("leverage_p5", "Monte Carlo P5", "#7F7F7F"),
                                ("leverage_p50", "Monte Carlo P50", "#0072B2"),
                                ("leverage_p95", "Monte Carlo P95", "#7F7F7F")):
        lev.add_series({"name": legend, "categories": categories,
                        "values": values(lay.mc[key]),
                        "line": {"color": colour, "width": 1.5, "dash_type": "dash"}})
    lev.set_x_axis({"num_format": '"FY"0', "label_position": "low"})
    # beside the terms block (its period columns are empty): the exhibits come first, and
    # the sheet stays short enough to print
    for i, ch in enumerate((mix, lev)):
        col = L.FIRST_PERIOD_COL + 2 + i * 7
        ws.insert_chart(lay.chart_row, col, ch)
        ws.write_string(lay.chart_row + 15, col, CHART_SOURCE if i == 0 else "", s("note"))

