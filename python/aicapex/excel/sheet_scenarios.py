"""The Scenarios sheet: a financing scenario of one company on the shared timeline grid
(WORKBOOK_STYLE.md §2–7). Column F is FY2019 as on every timeline sheet; a company's projection
starts after its latest reported fiscal year, so FY2026 is column M and the estimate columns
M..V hold the engine's years (up to the 10-year maximum horizon).

Blocks, top to bottom:

* **Scenario terms passed to the engine**: one link row per Inputs term; the engine's key in
  column D, the value (a green link to the Inputs name) in column F. ``$D..:$F..`` is the
  ``overrides`` range of every CPX_ call on the sheet (keys in the first column, values in the
  last; the empty period-0 column E between them is skipped by the UDF). A term whose input
  reads ``default`` leaves the company's own figure (latest growth, base-year margin).
* **Selected scenario** (``in_ScenTicker`` / ``in_Scenario``): a horizon flag row and the row
  of the engine table each column reads (``#N/A`` beyond ``in_Horizon``: a gap, never a zero),
  then one row per engine column: ``=INDEX(CPX_FINANCING(...,FALSE),M$idx,$Dnn)`` with the
  column number of the engine table in column D, the same formula in every estimate column.
  Debt is a corkscrew: the opening balance is the previous column's closing, and for the first
  projected year the reported total debt of the base year (a CPX_VALUE row over the actuals).
* **Preset comparison** (CPX_SCENARIOS): metric rows × the five presets in columns F..J, with
  its own header rows (those columns are presets, not years) at the year in column D.
* **Monte Carlo** (CPX_MONTE_CARLO, ``in_MCPaths``, ``in_MCSeed``, ``in_MCThreshold``): P5/P50/P95
  net debt / EBITDA and the cumulative breach probability per projected year.
* **Checks** (0 = pass): funding sources = funding need, debt closing = opening + new debt −
  repayment, FCF and net-debt identities, engine years on the right columns, ordered bands,
  preset columns in the engine's order; the sheet total goes to row 3. **Alerts**: a preset
  other than the base case (``in_BaseScenario``, all-cash) and engine cells without a value.
* Charts: funding mix by year (stacked column, $bn) and net debt / EBITDA with the Monte Carlo
  band (dashed), each with a source line under it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aicapex.engine.financing import COLUMNS, DEFAULT_COMPARE_METRICS
from aicapex.engine.montecarlo import BAND_COLUMNS
from aicapex.engine.presets import IG_BONDS, PRESET_NAMES
from aicapex.excel import layout as L
from aicapex.excel.layout import InputRow
from aicapex.excel.sheetkit import BuildContext
from aicapex.excel.sheetkit import abs_ref as _a
from aicapex.excel.sheetkit import alert_format as _alert_format
from aicapex.excel.sheetkit import cached_value as _cached
from aicapex.excel.sheetkit import check_format as _check_format
from aicapex.excel.sheetkit import note as _note
from aicapex.excel.sheetkit import row_head as _row_head
from aicapex.excel.sheetkit import section as _section
from aicapex.excel.sheetkit import sheet_check_cells as _sheet_check_cells
from aicapex.excel.sheetkit import timeline_header as _timeline_header

#: The timeline of the workbook being written (set by ``write_sheet`` from ``ctx.timeline``;
#: interim module state until this sheet takes the timeline from its context everywhere).
_TL = L.Timeline(last_actual_fy=L.FIRST_FY)

SHEET = "Scenarios"
TITLE = "Scenarios"
PURPOSE = ("Financing scenarios from the latest reported year (CPX engine); USD millions unless "
           "stated; fiscal years as reported (MSFT ends June, ORCL May); illustrative, not forecasts")
DEFAULT_TICKER = "MSFT"
BASE_CASE = "all-cash"
DEFAULT = "default"  # the UDFs' word for "leave the company's own figure"

FIRST_EST_COL = _TL.period_col(_TL.last_actual_fy + 1)  # column M
EST_COLS = range(FIRST_EST_COL, FIRST_EST_COL + _TL.horizon)  # M..V
PRESET_COLS = range(L.FIRST_PERIOD_COL, L.FIRST_PERIOD_COL + len(PRESET_NAMES))  # F..J


def _decimal(lo: float, hi: float) -> dict:
    return {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": hi}


def _whole(lo: int, hi: int) -> dict:
    return {"validate": "integer", "criteria": "between", "minimum": lo, "maximum": hi}


def _section_first_row() -> int:
    """Inputs row (0-based) of this module's first input: the builder writes the first Inputs
    section, then the extra sheets' sections in ``EXTRA_SHEET_MODULES`` order (Scenarios
    first), each after a header row and followed by a blank row."""
    return L.INPUTS_FIRST_ROW - 1 + len(L.INPUT_ROWS) + 2 + 1


def _number_or_default(index: int, lo: float, hi: float) -> dict:
    """Validation of an input that takes a number in [lo, hi] or the word ``default``."""
    ref = L.cell(_section_first_row() + index, 3)
    return {"validate": "custom",
            "value": f'=OR({ref}="{DEFAULT}",AND(ISNUMBER({ref}),{ref}>={lo},{ref}<={hi}))'}


def _coverage_source() -> str:
    return "=" + L.coverage_ref().split("!", 1)[1]


#: (input name, engine key, label on the Scenarios link row, unit) of every term the sheet
#: passes to the engine, in the order of the link rows.
TERMS: list[tuple[str, str, str, str]] = [
    ("in_Horizon", "inputs.years", "Horizon (years projected)", "years"),
    ("in_BondCoupon", "bonds.coupon", "IG bond coupon", "%"),
    ("in_SPVShare", "lease.capex_share", "SPV/JV lease share of capex", "%"),
    ("in_LeaseYield", "lease.lease_yield", "SPV lease yield", "%"),
    ("in_PCSpread", "private_credit.spread", "Private-credit spread over SOFR", "%"),
    ("in_CapexGrowth", "inputs.capex_growth", "Capex growth a year", "%"),
    ("in_RevGrowth", "inputs.revenue_growth", "Revenue growth a year", "%"),
    ("in_OCFMargin", "inputs.ocf_margin", "OCF margin before interest", "%"),
    ("in_ServerLife", "depreciation.server_life", "Server and network useful life", "yrs"),
]

_PRESET_LIST = {"validate": "list", "source": list(PRESET_NAMES)}

#: The scenario inputs, written on Inputs by the builder (``INPUT_SECTION``).
INPUTS: list[InputRow] = [
    InputRow("in_ScenTicker", "Scenario company", "ticker", DEFAULT_TICKER,
             {"validate": "list", "source": _coverage_source()},
             "A covered company; AAPL's FY2025 interest expense is not reported, so its "
             "scenario shows #N/A"),
    InputRow("in_Scenario", "Financing preset", "preset", BASE_CASE, _PRESET_LIST,
             "all-cash, bonds, spv-lease, private-credit or hybrid (terms: aicapex.engine.presets)"),
    InputRow("in_BaseScenario", "Base-case preset (alert if another)", "preset",
             BASE_CASE, _PRESET_LIST, "all-cash: the hyperscalers' historical pattern"),
    InputRow("in_BondCoupon", "IG bond coupon", "%", IG_BONDS.coupon, _decimal(0, 1),
             "bonds.coupon; preset 4.725% = midpoint of Amazon's 3.9%-5.55% notes (Nov 2025); "
             "used by bonds, hybrid"),
    InputRow("in_SPVShare", "SPV/JV lease share of capex", "%", 0.25, _decimal(0, 1),
             "lease.capex_share; preset 25% (model assumption, Meta Hyperion pattern); used by "
             "spv-lease, hybrid only"),
    InputRow("in_LeaseYield", "SPV lease yield", "%", 0.066, _decimal(0, 1),
             "lease.lease_yield; Meta Hyperion JV bonds ~6.6% (6.58% due 2049, Oct 2025)"),
    InputRow("in_PCSpread", "Private-credit spread over SOFR", "%", 0.06, _decimal(0, 1),
             "private_credit.spread; CoreWeave GPU-backed DDTL, SOFR + 600 bp class"),
    InputRow("in_CapexGrowth", "Capex growth a year", "%", DEFAULT,
             _number_or_default(7, -0.99, 10),
             "inputs.capex_growth; fraction, -0.99 to 10, or default = the company's latest "
             "year-on-year capex growth"),
    InputRow("in_RevGrowth", "Revenue growth a year", "%", DEFAULT,
             _number_or_default(8, -0.99, 10),
             "inputs.revenue_growth; fraction, -0.99 to 10, or default = the company's latest "
             "year-on-year revenue growth"),
    InputRow("in_OCFMargin", "OCF margin before interest", "%", DEFAULT,
             _number_or_default(9, -1, 1),
             "inputs.ocf_margin; fraction of revenue, -1 to 1, or default = the base year's "
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

#: The builder puts these on the Inputs sheet, under their own section.
INPUT_SECTION = ("Financing scenario (Scenarios sheet; illustrative assumptions)", INPUTS)

#: Selected-scenario rows: (key, label, unit). Keys in :data:`COLUMNS` are engine rows (the
#: engine column number goes to column D); ``reported`` and ``opening`` are the debt corkscrew.
SCENARIO_ROWS: list[tuple[str, str, str]] = [
    ("year", "Fiscal year per the engine", "FY"),
    ("revenue", "Revenue", "$m"),
    ("ocf", "Operating cash flow before interest", "$m"),
    ("capex", "Capex (cash spent, positive)", "$m"),
    ("fcf", "FCF before financing (OCF - capex)", "$m"),
    ("interest", "Interest paid", "$m"),
    ("repayment", "Debt repayment", "$m"),
    ("lease_payment", "SPV lease rent", "$m"),
    ("funding_gap", "Funding need (uses - OCF)", "$m"),
    ("cash_used", "Cash used (negative = surplus kept)", "$m"),
    ("bonds", "IG bonds", "$m"),
    ("term_loans", "Bank term loans", "$m"),
    ("spv_lease", "SPV/JV lease (off balance sheet)", "$m"),
    ("private_credit", "Private credit", "$m"),
    ("equity", "Equity (the plug)", "$m"),
    ("new_debt", "New debt (bonds, loans, private credit)", "$m"),
    ("reported", "Total debt, reported (actual years)", "$m"),
    ("opening", "Gross debt, opening (prior closing)", "$m"),
    ("gross_debt", "Gross debt, closing", "$m"),
    ("cash", "Cash & marketable securities (year end)", "$m"),
    ("net_debt", "Net debt (gross debt - cash)", "$m"),
    ("lease_liability", "SPV lease liability (off balance sheet)", "$m"),
    ("ebitda", "EBITDA proxy (OCF pre-interest - rent)", "$m"),
    ("da", "Depreciation & amortization", "$m"),
    ("da_to_revenue", "D&A / revenue", "%"),
    ("net_debt_to_ebitda", "Net debt / EBITDA", "x"),
    ("debt_plus_leases_to_ebitda", "(Debt + leases) / EBITDA", "x"),
    ("interest_coverage", "Interest coverage (EBIT / interest)", "x"),
]
#: Extra notes on some engine rows (after "Engine column <key> (column n ...)").
ROW_NOTES = {
    "ocf": "; reported OCF + interest in the base year, then revenue x the margin",
    "funding_gap": "; capex + interest + rent + repayment - OCF = the sources below",
    "cash_used": "; source 1, down to the preset's minimum cash",
    "equity": "; source 6, whatever the capped steps above leave",
    "interest_coverage": "; (EBITDA - D&A) / interest",
}
SOURCES = ["cash_used", "bonds", "term_loans", "spv_lease", "private_credit", "equity"]

METRIC_LABELS = {
    "capex": ("Capex", "$m"),
    "fcf": ("FCF before financing", "$m"),
    "new_debt": ("New debt", "$m"),
    "equity": ("Equity raised", "$m"),
    "gross_debt": ("Gross debt", "$m"),
    "cash": ("Cash & marketable securities", "$m"),
    "net_debt": ("Net debt", "$m"),
    "lease_liability": ("SPV lease liability", "$m"),
    "interest": ("Interest paid", "$m"),
    "da_to_revenue": ("D&A / revenue", "%"),
    "operating_margin": ("Operating margin", "%"),
    "net_debt_to_ebitda": ("Net debt / EBITDA", "x"),
    "debt_plus_leases_to_ebitda": ("(Debt + leases) / EBITDA", "x"),
    "interest_coverage": ("Interest coverage", "x"),
}

MC_ROWS: list[tuple[str, str, str]] = [
    ("leverage_p5", "Net debt / EBITDA, P5", "x"),
    ("leverage_p50", "Net debt / EBITDA, P50 (median)", "x"),
    ("leverage_p95", "Net debt / EBITDA, P95", "x"),
    ("p_breach_cum", "P(leverage above threshold) by this year", "%"),
]

#: Funding sources in the chart: legend name and colour.
FUNDING_SERIES = {"cash_used": ("Cash used", "#7F7F7F"), "bonds": ("IG bonds", "#0072B2"),
                  "term_loans": ("Term loans", "#56B4E9"), "spv_lease": ("SPV/JV lease", "#E69F00"),
                  "private_credit": ("Private credit", "#D55E00"), "equity": ("Equity", "#CC79A7")}
CHART_SOURCE = ("Source: company 10-K filings (SEC EDGAR) for the base year; AI Capex Monitor "
                "financing engine; assumptions on Inputs are illustrative, not forecasts.")


@dataclass
class ScenariosLayout:
    terms: dict[str, int] = field(default_factory=dict)  # input name -> row
    scenario_header: int = 0
    flag_row: int = 0
    index_row: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # SCENARIO_ROWS key -> row
    compare_header: int = 0
    preset_row: int = 0
    engine_col_row: int = 0
    metrics: dict[str, int] = field(default_factory=dict)
    mc_header: int = 0
    mc: dict[str, int] = field(default_factory=dict)
    checks_header: int = 0
    checks: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    alert_total: int = 0
    total_row: int = 0
    chart_row: int = 0


CHECKS = ["year", "fcf", "funding", "debt", "net_debt", "bands", "presets"]
ALERTS = ["errors", "scenario"]


def scenarios_layout() -> ScenariosLayout:
    lay = ScenariosLayout()
    r = L.HEADER_ROWS + 1
    for name, *_ in TERMS:
        r += 1
        lay.terms[name] = r
    r += 2
    lay.scenario_header = r
    lay.flag_row, lay.index_row = r + 1, r + 2
    r += 3
    for key, *_ in SCENARIO_ROWS:
        lay.rows[key] = r
        r += 1
    r += 1
    lay.compare_header = r
    lay.preset_row, lay.engine_col_row = r + 1, r + 2
    r += 3
    for m in DEFAULT_COMPARE_METRICS:
        lay.metrics[m] = r
        r += 1
    r += 1
    lay.mc_header = r
    for key, *_ in MC_ROWS:
        r += 1
        lay.mc[key] = r
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
    lay.chart_row = r + 4
    return lay


def alert_ref(ds: Any) -> str:
    """Absolute reference of this sheet's alert count (summed on the Cover)."""
    return f"{SHEET}!{_a(scenarios_layout().alert_total)}"


# -- helpers ----------------------------------------------------------------------------------------






def _terms_range(lay: ScenariosLayout) -> str:
    rows = list(lay.terms.values())
    return f"{_a(rows[0])}:{_a(rows[-1], L.FIRST_PERIOD_COL)}"


def _defaults() -> dict[str, Any]:
    values = {r.name: r.value for r in L.INPUT_ROWS if r.name}
    values.update({r.name: r.value for r in INPUTS})
    return values


def _engine_values(ctx: BuildContext, values: dict[str, Any]) -> dict[str, Any]:
    """The default inputs' engine tables, for the formulas' cached results."""
    from aicapex.udfs import financing as uf

    ds = ctx.ds
    pairs = tuple((key, values[name]) for name, key, *_ in TERMS if values[name] != DEFAULT)
    ticker, preset, years = values["in_ScenTicker"], values["in_Scenario"], int(values["in_Horizon"])
    out: dict[str, Any] = {}
    try:
        out["financing"] = uf.projection(ds, ticker, preset, years, pairs)
        base, _, inputs = uf.scenario(ds, ticker, preset, years, pairs)
        from aicapex.engine.financing import compare_scenarios
        from aicapex.engine.montecarlo import monte_carlo

        structures = [uf.scenario(ds, ticker, p, years, pairs)[1] for p in PRESET_NAMES]
        out["compare"] = compare_scenarios(base, inputs, structures, list(DEFAULT_COMPARE_METRICS),
                                           _TL.last_actual_fy + years)
        out["mc"] = monte_carlo(base, uf.scenario(ds, ticker, preset, years, pairs)[1], inputs,
                                n_paths=int(values["in_MCPaths"]), seed=int(values["in_MCSeed"]),
                                threshold=float(values["in_MCThreshold"])).bands
        out["debt"] = ds.value(ticker, "total_debt", base.fiscal_year)
    except Exception:  # noqa: BLE001 - the template still builds; refresh computes the values
        return {}
    return out


# -- the sheet --------------------------------------------------------------------------------------


def _use_timeline(tl: L.Timeline) -> None:
    global _TL
    _TL = tl
    global FIRST_EST_COL, EST_COLS
    FIRST_EST_COL = tl.period_col(tl.last_actual_fy + 1)
    EST_COLS = range(FIRST_EST_COL, FIRST_EST_COL + tl.horizon)


def write_sheet(ctx: BuildContext, ws: Any) -> None:
    _use_timeline(ctx.timeline)
    """Write the Scenarios sheet (registered in ``builder.EXTRA_SHEETS``)."""
    lay = scenarios_layout()
    values = _defaults()
    engine = _engine_values(ctx, values)
    _timeline_header(ctx, ws, TITLE, PURPOSE)
    _sheet_check_cells(ctx, ws, _a(lay.total_row))
    _write_terms(ctx, ws, lay, values)
    _write_scenario(ctx, ws, lay, values, engine)
    _write_compare(ctx, ws, lay, values, engine)
    _write_monte_carlo(ctx, ws, lay, values, engine)
    _write_checks(ctx, ws, lay)
    _write_charts(ctx, ws, lay)


def _write_terms(ctx: BuildContext, ws: Any, lay: ScenariosLayout, values: dict) -> None:
    s = ctx.styles
    hdr = min(lay.terms.values()) - 1
    _section(ctx, ws, hdr, "Scenario terms passed to the engine")
    ws.write_string(hdr, 3, "key", s("section"))
    ws.write_string(hdr, L.FIRST_PERIOD_COL, "value", s("section"))
    num = {"%": "pct", "years": "year", "yrs": "phys"}
    for name, key, label, unit in TERMS:
        r = lay.terms[name]
        _row_head(ctx, ws, r, label, unit, indent=True)
        ws.write_string(r, 3, key, s("key"))
        v = values[name]
        ws.write_formula(r, L.FIRST_PERIOD_COL, f"={name}", s("link", num[unit]), v)
        _note(ctx, ws, r, f"Inputs {name}; passed as the term {key}" +
              (" (default = the company's own figure)" if v == DEFAULT else ""))


def _engine_formula(lay: ScenariosLayout, c: int, r: int) -> str:
    call = f"CPX_FINANCING(in_ScenTicker,in_Scenario,in_Horizon,{_terms_range(lay)},FALSE)"
    return f"=INDEX({call},{L.col(c)}${lay.index_row + 1},$D{r + 1})"


def _write_scenario(ctx: BuildContext, ws: Any, lay: ScenariosLayout, values: dict,
                    engine: dict) -> None:
    s = ctx.styles
    hdr = lay.scenario_header
    _section(ctx, ws, hdr, "")
    ticker, preset = values["in_ScenTicker"], values["in_Scenario"]
    ws.write_formula(hdr, 1, '="Selected scenario: "&in_ScenTicker&" / "&in_Scenario',
                     s("section"), f"Selected scenario: {ticker} / {preset}")
    horizon = int(values["in_Horizon"])
    frame = engine.get("financing")

    r = lay.flag_row
    _row_head(ctx, ws, r, "In the horizon (1 = projected year)", "1/0")
    _note(ctx, ws, r, "Projected years: after the last actual FY, up to in_Horizon years")
    for i, c in enumerate(EST_COLS):
        cl = L.col(c)
        f = f"=({cl}$4>in_LastActualFY)*({cl}$4<=in_LastActualFY+in_Horizon)"
        ws.write_formula(r, c, f, s("calc", "year"), int(i < horizon))
    r = lay.index_row
    _row_head(ctx, ws, r, "Engine table row (year number)", "#")
    _note(ctx, ws, r, "Row of the CPX_FINANCING table each column reads; #N/A beyond the "
          "horizon, so charts show a gap, not a zero")
    for i, c in enumerate(EST_COLS):
        cl = L.col(c)
        f = f"=IF({cl}${lay.flag_row + 1},{cl}$4-in_LastActualFY,NA())"
        ws.write_formula(r, c, f, s("calc", "year"), i + 1 if i < horizon else "#N/A")

    for key, label, unit in SCENARIO_ROWS:
        r = lay.rows[key]
        indent = key in SOURCES
        _row_head(ctx, ws, r, label, unit, indent=indent)
        if key == "reported":
            ws.write_string(r, 3, "total_debt", s("key"))
            for c in _TL.actual_cols():
                fy = _TL.first_fy + c - L.FIRST_PERIOD_COL
                v = ctx.ds.value(ticker, "total_debt", fy) if ticker in ctx.ds.tickers else math.nan
                f = f"=CPX_VALUE(in_ScenTicker,$D{r + 1},{L.col(c)}$4)"
                ws.write_formula(r, c, f, s("engine", "musd"), "#N/A" if math.isnan(v) else v)
            _note(ctx, ws, r, "Reported total debt of the scenario company (CPX_VALUE); source: "
                  "Sources sheet")
            continue
        if key == "opening":
            closing, reported = lay.rows["gross_debt"] + 1, lay.rows["reported"] + 1
            for i, c in enumerate(EST_COLS):
                prev = L.col(c - 1)
                if frame is None or i > horizon:
                    v = "#N/A"  # the previous column's closing is #N/A
                else:
                    v = engine["debt"] if i == 0 else float(frame["gross_debt"].iloc[i - 1])
                ws.write_formula(r, c, f"={prev}{closing}+{prev}{reported}", s("calc", "musd"),
                                 _cached(v))
            _note(ctx, ws, r, "Previous column's closing; in the first projected year the "
                  "reported total debt of the base year (the blank cell adds 0)")
            continue
        index = COLUMNS.index(key) + 1
        ws.write_number(r, 3, index, s("key"))
        fmt = s.for_unit("engine", unit) if unit != "FY" else s("engine", "year")
        for i, c in enumerate(EST_COLS):
            if frame is None:
                v: Any = "#N/A"
            elif i < horizon:
                v = frame[key].iloc[i]
                v = int(v) if key == "year" else float(v)
            else:
                v = "#N/A"
            ws.write_formula(r, c, _engine_formula(lay, c, r), fmt, _cached(v))
        _note(ctx, ws, r, f"Engine column {key} (column {index} of CPX_FINANCING)"
              + ROW_NOTES.get(key, ""))


def _write_compare(ctx: BuildContext, ws: Any, lay: ScenariosLayout, values: dict,
                   engine: dict) -> None:
    s = ctx.styles
    hdr = lay.compare_header
    _section(ctx, ws, hdr, "")
    ticker = values["in_ScenTicker"]
    ws.write_formula(hdr, 1, '="Preset comparison: "&in_ScenTicker&", fiscal year in column D"',
                     s("section"), f"Preset comparison: {ticker}, fiscal year in column D")
    year = _TL.last_actual_fy + int(values["in_Horizon"])
    ws.write_formula(hdr, 3, "=in_LastActualFY+in_Horizon", s("section", "fy_estimate"), year)
    ws.write_string(hdr, _TL.notes_col, "Columns F-J of this block are presets, not years",
                    s("note"))
    r = lay.preset_row
    _row_head(ctx, ws, r, "Preset (columns F-J; engine order)", "preset")
    for i, c in enumerate(PRESET_COLS):
        ws.write_string(r, c, PRESET_NAMES[i], s("label_bold"))
    _note(ctx, ws, r, "Checked against the engine's own header below (Checks)")
    r = lay.engine_col_row
    _row_head(ctx, ws, r, "Engine table column of the preset", "#")
    for i, c in enumerate(PRESET_COLS):
        ws.write_number(r, c, i + 2, s("key"))
    _note(ctx, ws, r, "Column 1 of the engine table is the metric name")
    frame = engine.get("compare")
    rng = _terms_range(lay)
    for m, r in lay.metrics.items():
        label, unit = METRIC_LABELS[m]
        _row_head(ctx, ws, r, f"{label} (by preset)", unit, indent=True)
        ws.write_string(r, 3, m, s("key"))
        for i, c in enumerate(PRESET_COLS):
            f = (f"=INDEX(CPX_SCENARIOS(in_ScenTicker,$D{r + 1},{_a(hdr)},{rng},FALSE),1,"
                 f"{L.col(c)}${lay.engine_col_row + 1})")
            v = float(frame.loc[m].iloc[i]) if frame is not None else "#N/A"
            ws.write_formula(r, c, f, s.for_unit("engine", unit), _cached(v))
        _note(ctx, ws, r, f"Engine metric {m} in the fiscal year of column D")


def _write_monte_carlo(ctx: BuildContext, ws: Any, lay: ScenariosLayout, values: dict,
                       engine: dict) -> None:
    s = ctx.styles
    _section(ctx, ws, lay.mc_header, "Monte Carlo of the selected scenario (paths, seed and "
             "threshold on Inputs)")
    _note(ctx, ws, lay.mc_header, "OCF growth sd 5% a year, capex overrun sd 10% of plan "
          "(engine defaults); percentiles over paths")
    bands = engine.get("mc")
    horizon = int(values["in_Horizon"])
    call = (f"CPX_MONTE_CARLO(in_ScenTicker,in_Scenario,in_MCPaths,in_MCSeed,in_MCThreshold,"
            f"{_terms_range(lay)},FALSE)")
    for key, label, unit in MC_ROWS:
        r = lay.mc[key]
        _row_head(ctx, ws, r, label, unit, indent=True)
        index = BAND_COLUMNS.index(key) + 1
        ws.write_number(r, 3, index, s("key"))
        for i, c in enumerate(EST_COLS):
            v = (float(bands[key].iloc[i]) if bands is not None and i < horizon else "#N/A")
            f = f"=INDEX({call},{L.col(c)}${lay.index_row + 1},$D{r + 1})"
            ws.write_formula(r, c, f, s.for_unit("engine", unit), _cached(v))
        _note(ctx, ws, r, f"Engine band {key} (column {index} of CPX_MONTE_CARLO)")


def _write_checks(ctx: BuildContext, ws: Any, lay: ScenariosLayout) -> None:
    s = ctx.styles
    _section(ctx, ws, lay.checks_header, "Checks (0 = pass) and alerts")
    row = {k: v + 1 for k, v in lay.rows.items()}  # 1-based
    mc = {k: v + 1 for k, v in lay.mc.items()}

    def near(a: str, b: str) -> str:
        return f"--(ABS({a}-{b})>in_CheckTol)"

    def per_year(c: str, test: str, key: str) -> str:
        return f"=IF(ISNUMBER({c}{key}),{test},0)"

    per_period: dict[str, tuple[str, Any]] = {
        "year": ("Engine year equals the column's year",
                 lambda c: per_year(c, f"--({c}{row['year']}<>{c}$4)", row["year"])),
        "fcf": ("FCF equals OCF - capex",
                lambda c: per_year(c, near(f"{c}{row['ocf']}-{c}{row['capex']}",
                                           f"{c}{row['fcf']}"), row["fcf"])),
        "funding": ("Funding sources equal the funding need",
                    lambda c: per_year(c, near(f"SUM({c}{row[SOURCES[0]]}:{c}{row[SOURCES[-1]]})",
                                               f"{c}{row['funding_gap']}"), row["funding_gap"])),
        "debt": ("Debt: closing = opening + new - repaid",
                 lambda c: per_year(c, near(f"{c}{row['opening']}+{c}{row['new_debt']}"
                                            f"-{c}{row['repayment']}", f"{c}{row['gross_debt']}"),
                                    row["gross_debt"])),
        "net_debt": ("Net debt equals gross debt - cash",
                     lambda c: per_year(c, near(f"{c}{row['gross_debt']}-{c}{row['cash']}",
                                                f"{c}{row['net_debt']}"), row["net_debt"])),
        "bands": ("MC bands ordered (P5 <= P50 <= P95)",
                  lambda c: per_year(c, f"--OR({c}{mc['leverage_p5']}>{c}{mc['leverage_p50']},"
                                        f"{c}{mc['leverage_p50']}>{c}{mc['leverage_p95']})",
                                     mc["leverage_p50"])),
    }
    for key, (label, formula) in per_period.items():
        r = lay.checks[key]
        _row_head(ctx, ws, r, label, "flag")
        for c in EST_COLS:
            ws.write_formula(r, c, formula(L.col(c)), s("calc", "check"), 0)
        _period_total(ctx, ws, r, EST_COLS)
    r = lay.checks["presets"]
    _row_head(ctx, ws, r, "Preset columns match the engine's order", "flag")
    first = lay.metrics[DEFAULT_COMPARE_METRICS[0]] + 1
    rng = _terms_range(lay)
    for c in PRESET_COLS:
        cl = L.col(c)
        call = f"CPX_SCENARIOS(in_ScenTicker,$D${first},{_a(lay.compare_header)},{rng},TRUE)"
        test = f"--(INDEX({call},1,{cl}${lay.engine_col_row + 1})<>{cl}${lay.preset_row + 1})"
        f = f"=IF(ISNUMBER({cl}${first}),{test},0)"
        ws.write_formula(r, c, f, s("calc", "check"), 0)
    _period_total(ctx, ws, r, PRESET_COLS)
    _note(ctx, ws, r, "Per preset column F-J: the engine's header for that column equals the "
          "preset named above it")

    # Alerts: reported, not failing.
    r = lay.alerts["errors"]
    _row_head(ctx, ws, r, "Alert: engine cells without a value", "alert")
    first_row, last_row = row["year"], row["interest_coverage"]
    for c in EST_COLS:
        cl = L.col(c)
        f = f"={cl}${lay.flag_row + 1}*SUMPRODUCT(--ISERROR({cl}{first_row}:{cl}{last_row}))"
        ws.write_formula(r, c, f, s("calc", "alert"), 0)
    ws.write_formula(r, 3, f"=SUM({L.cell(r, EST_COLS[0])}:{L.cell(r, EST_COLS[-1])})",
                     s("calc", "alert"), 0)
    _note(ctx, ws, r, "E.g. a company without a reported base-year figure (AAPL interest), or "
          "a zero denominator")
    r = lay.alerts["scenario"]
    _row_head(ctx, ws, r, "Alert: preset other than the base case", "alert")
    ws.write_formula(r, 3, "=--(in_Scenario<>in_BaseScenario)", s("calc", "alert"), 0)
    _note(ctx, ws, r, "A sensitivity is active: the base case is in_BaseScenario (all-cash)")
    r = lay.alert_total
    ws.write_string(r, 1, "Alerts total", s("total"))
    ws.write_string(r, 2, "alert", s("unit"))
    a0, a1 = min(lay.alerts.values()), max(lay.alerts.values())
    ws.write_formula(r, 3, f"=SUM({L.cell(a0, 3)}:{L.cell(a1, 3)})", s("total", "alert"), 0)
    for rr in [*lay.alerts.values(), r]:
        _alert_format(ctx, ws, L.cell(rr, 3))
    _alert_format(ctx, ws, f"{L.cell(lay.alerts['errors'], EST_COLS[0])}:"
                  f"{L.cell(lay.alerts['errors'], EST_COLS[-1])}")
    r = lay.total_row
    ws.write_string(r, 1, "Sheet check (0 = all checks pass)", s("total"))
    ws.write_string(r, 2, "flag", s("unit"))
    c0, c1 = min(lay.checks.values()), max(lay.checks.values())
    ws.write_formula(r, 3, f"=MIN(1,SUM({L.cell(c0, 3)}:{L.cell(c1, 3)}))", s("total", "check"), 0)
    _check_format(ctx, ws, L.cell(r, 3))


def _period_total(ctx: BuildContext, ws: Any, r: int, cols: range) -> None:
    s = ctx.styles
    rng = f"{L.cell(r, cols[0])}:{L.cell(r, cols[-1])}"
    ws.write_formula(r, 3, f"=MIN(1,SUM({rng}))", s("calc", "check"), 0)
    _check_format(ctx, ws, rng)
    _check_format(ctx, ws, L.cell(r, 3))


def _write_charts(ctx: BuildContext, ws: Any, lay: ScenariosLayout) -> None:
    """Funding mix by year (stacked column, $bn) and net debt / EBITDA with the Monte Carlo
    band (line; the band dashed), WORKBOOK_STYLE §7."""
    s = ctx.styles
    first, last = _TL.last_actual_fy + 1, _TL.last_actual_fy + _TL.horizon
    span = f"FY{first}–FY{last}"
    c0, c1 = EST_COLS[0], EST_COLS[-1]
    categories = f"={SHEET}!{_a(3, c0)}:{_a(3, c1)}"

    def values(r: int) -> str:
        return f"={SHEET}!{_a(r, c0)}:{_a(r, c1)}"

    grid = {"visible": True, "line": {"color": "#D9D9D9"}}
    mix = ctx.wb.add_chart({"type": "column", "subtype": "stacked"})
    for key in SOURCES:
        legend, colour = FUNDING_SERIES[key]
        mix.add_series({"name": legend, "categories": categories,
                        "values": values(lay.rows[key]), "fill": {"color": colour},
                        "border": {"none": True}})
    mix.set_title({"name": f"Funding mix by year, selected scenario, {span} ($bn)",
                   "name_font": {"size": 11}})
    mix.set_y_axis({"num_format": "#,##0,", "major_gridlines": grid})
    mix.set_x_axis({"num_format": '"FY"0', "label_position": "low"})
    lev = ctx.wb.add_chart({"type": "line"})
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
    lev.set_title({"name": f"Net debt / EBITDA with Monte Carlo P5/P50/P95, {span} (x)",
                   "name_font": {"size": 11}})
    lev.set_y_axis({"num_format": '0.0"x"', "major_gridlines": grid})
    lev.set_x_axis({"num_format": '"FY"0', "label_position": "low"})
    for i, ch in enumerate((mix, lev)):
        ch.set_legend({"position": "bottom"})
        ch.set_size({"width": 480, "height": 288})
        ch.show_blanks_as("gap")
        ch.show_na_as_empty_cell()
        row = lay.chart_row + i * 18
        ws.insert_chart(row, 1, ch)
        ws.write_string(row + 15, 1, CHART_SOURCE, s("note"))
