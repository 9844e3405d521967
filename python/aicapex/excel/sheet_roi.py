"""The ROI sheet: what return each year's AI capex must earn, and whether it is earning it, on
the shared timeline grid (WORKBOOK_STYLE.md §2–7). Column F is FY2019 … column L FY2025, the
same fiscal year in the same column as on Ratios; the estimate columns stay empty.

Blocks, top to bottom:

* **Asset classes passed to the engine**: green links to the Inputs lives and the servers'
  share of capex, and the buildings' share (1 - servers) computed here, so the two-cell
  ranges ``$D$8:$D$9`` (lives) and ``$D$10:$D$11`` (split) always sum to 1.
* **One block per covered company** (:data:`aicapex.excel.layout.COVERAGE` order): CPX_VALUE
  link rows exactly as on Ratios (capex, OCF, revenue), then
  ``CPX_REQUIRED_REVENUE`` (the level annual revenue each vintage must earn over its lives at
  the hurdle rate), the cumulative requirement of the vintages since the base year (a
  corkscrew: a vintage earns from the year after it is spent, as in the engine's schedule),
  the revenue growth since the base year, ``CPX_INCREMENTAL_RETURN`` (change in OCF per dollar
  of the prior year's capex) and ``CPX_PAYBACK`` (prior year's capex / change in OCF).
* **Peer aggregate** (:data:`aicapex.excel.layout.PEER_SET`, sum of fiscal years): the same
  rows on the sums (ratio of sums, never a mean of ratios), the shortfall of revenue growth
  against the requirement, and the industry revenue gap of Sequoia's "AI's $600B Question"
  (``CPX_REVENUE_GAP``) with the user's AI revenue estimate in the latest fiscal year.
* **Checks** (0 = pass): peer capex = the Ratios peer capex, the engine on the peer sum = the
  sum of the company requirements (each year and cumulated), required revenue >= 0 wherever it
  is computed; the sheet total goes to row 3. **Alerts**: reported figures missing (per
  company), and a useful life short enough for vintages to retire inside the window (the
  running sum does not remove them).
* Chart: cumulative requirement vs incremental revenue, peer sum (clustered column, $bn), with
  its source line under it.

The base year (``in_ROIBaseFY``) defaults to FY2020 because META's FY2019 revenue is not in the
data set, so a peer revenue change measured from FY2019 would be ``#N/A`` in every year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aicapex.engine import roi
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

SHEET = "ROI"
TITLE = "Return on AI capex"
PURPOSE = ("Revenue each year's capex must earn (CPX engine) against the revenue growth since; "
           "USD millions unless stated; fiscal years as reported (MSFT ends June, ORCL May, "
           "AAPL September); assumptions on Inputs are illustrative")
SEQUOIA = "Sequoia Capital (David Cahn), \"AI's $600B Question\", June 2024"


def _decimal(lo: float, hi: float) -> dict:
    return {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": hi}


#: The ROI assumptions, written on Inputs by the builder (``INPUT_SECTION``).
INPUTS: list[InputRow] = [
    InputRow("in_ROIServerLife", "Servers and network: useful life", "yrs", 6.0,
             _decimal(1, 50),
             "Years, 1 to 50; 6 = MSFT and GOOGL server policy since FY2023 (10-K); META 5.5, "
             "AMZN 5"),
    InputRow("in_ROIBuildingLife", "Buildings, power and cooling: useful life", "yrs", 20.0,
             _decimal(1, 50),
             "Years, 1 to 50; illustrative: building lives in the 10-K property notes run about "
             "15 to 40 years"),
    InputRow("in_ROIServerShare", "Servers and network: share of capex", "%", 0.5,
             _decimal(0, 1),
             f"Fraction; the rest is buildings, power and cooling. Illustrative 50%: {SEQUOIA}, "
             "takes GPUs as about half of data-center cost"),
    InputRow("in_ROIHurdle", "Hurdle rate (pre-tax cost of capital)", "%", 0.10,
             _decimal(0, 1),
             "Fraction; illustrative 10% pre-tax return the capex must earn over its lives"),
    InputRow("in_ROIMargin", "Operating margin on revenue the capex enables", "%", 0.5,
             _decimal(0.01, 1),
             "Fraction in (0, 1]: share of each revenue dollar left for this capex's capital "
             "charge and running costs; illustrative (AWS 2024 segment operating margin, after "
             "depreciation, ~37%)"),
    InputRow("in_ROIOpex", "Running costs a year, share of capex", "%", 0.05, _decimal(0, 1),
             "Fraction: energy, staff, maintenance a year per dollar of capex; illustrative "
             "(energy alone is under 1% of capex a year on the Power_Cloud reference facility)"),
    InputRow("in_ROIBaseFY", "Base year: first vintage and revenue baseline",
             "FY", _TL.first_fy + 1,
             {"validate": "integer", "criteria": "between", "minimum": _TL.first_fy,
              "maximum": _TL.last_actual_fy},
             "Whole year on the timeline; FY2020 because META's FY2019 revenue is not in the "
             "data set (the peer revenue change from FY2019 would be #N/A)"),
    InputRow("in_CostMultiple", "$600B question: cost multiple on capex",
             "x", 2.0, _decimal(1, 10),
             f"x, 1 to 10; {SEQUOIA}: 2, GPUs are about half of the cost of an AI data center. "
             "Hyperscaler capex already includes buildings: 1 treats it as the full cost"),
    InputRow("in_EndMargin", "$600B question: end-customer margin", "%", 0.5,
             _decimal(0.01, 1), f"Fraction in (0, 1]; {SEQUOIA}: 50%"),
    InputRow("in_AIRevenue", "AI revenue attributed to the latest fiscal year", "$m", 0.0,
             _decimal(0, 10_000_000),
             "0 = show the whole requirement; enter your own estimate (USD millions, peer "
             "companies, latest fiscal year)"),
]

#: The builder puts these on the Inputs sheet, under their own section.
INPUT_SECTION = ("ROI assumptions (illustrative)", INPUTS)

#: Asset-class rows passed to CPX_REQUIRED_REVENUE (column D): lives, then the split.
TERMS = ["server_life", "building_life", "server_share", "building_share"]

#: Company-block rows: (key, label after "TICKER: ", unit).
BLOCK_ROWS: list[tuple[str, str, str]] = [
    ("capex", "capex (cash spent, positive)", "$m"),
    ("ocf", "operating cash flow", "$m"),
    ("revenue", "revenue", "$m"),
    ("required", "revenue this year's capex must earn each year", "$m"),
    ("cumulative", "cumulative requirement since the base year", "$m"),
    ("incremental", "incremental revenue since the base year", "$m"),
    ("inc_return", "incremental OCF / capex a year earlier", "%"),
    ("payback", "payback on the prior year's capex", "years"),
]
LINKS = ("capex", "ocf", "revenue")

PEER_ROWS: list[tuple[str, str, str]] = [
    ("capex", "Peer: capex, sum", "$m"),
    ("capex_ratios", "Peer: capex on the Ratios sheet (link)", "$m"),
    ("ocf", "Peer: operating cash flow, sum", "$m"),
    ("revenue", "Peer: revenue, sum", "$m"),
    ("required", "Peer: revenue this year's capex must earn", "$m"),
    ("cumulative", "Peer: cumulative requirement since the base year", "$m"),
    ("incremental", "Peer: incremental revenue since the base year", "$m"),
    ("shortfall", "Peer: requirement less incremental revenue", "$m"),
    ("inc_return", "Peer: OCF change / prior capex (ratio of sums)", "%"),
    ("ai_revenue", "Peer: AI revenue (Inputs; latest FY only)", "$m"),
    ("gap", "Industry revenue gap ($600B question)", "$m"),
]

CHART_TITLE = ("Required vs actual: cumulative revenue requirement of capex vintages vs "
               f"incremental revenue, peer sum, FY{_TL.first_fy}–FY{_TL.last_actual_fy} ($bn)")
CHART_SERIES = {"cumulative": ("Cumulative requirement of capex vintages", "#7F7F7F"),
                "incremental": ("Incremental revenue since the base year", "#1F3864")}
CHART_SOURCE = ("Source: company 10-K filings (SEC EDGAR); AI Capex Monitor calculations "
                "(CPX_REQUIRED_REVENUE). Peer = " + "+".join(L.PEER_SET) + ", sum of fiscal "
                "years; assumptions on Inputs are illustrative.")
CHART_NOTE = ("Vintages count from the base year (in_ROIBaseFY, default FY2020: META's FY2019 "
              "revenue is not in the data set) and earn from the year after they are spent.")


@dataclass
class ROILayout:
    terms: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, dict[str, int]] = field(default_factory=dict)  # ticker -> key -> row
    peer_header: int = 0
    peer: dict[str, int] = field(default_factory=dict)
    checks_header: int = 0
    checks: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    alert_total: int = 0
    total_row: int = 0
    chart_row: int = 0


PER_YEAR_CHECKS = ["peer_capex", "peer_required", "peer_cumulative"]


def roi_layout() -> ROILayout:
    lay = ROILayout()
    r = L.HEADER_ROWS + 1  # section header of the engine terms
    for key in TERMS:
        r += 1
        lay.terms[key] = r
    r += 2
    for t in L.COVERAGE:
        rows = {"header": r}
        for key, *_ in BLOCK_ROWS:
            r += 1
            rows[key] = r
        lay.blocks[t] = rows
        r += 2
    lay.peer_header = r
    for key, *_ in PEER_ROWS:
        r += 1
        lay.peer[key] = r
    r += 2
    lay.checks_header = r
    for key in [*PER_YEAR_CHECKS, *(f"nonneg_{t}" for t in L.COVERAGE), "nonneg_peer"]:
        r += 1
        lay.checks[key] = r
    for key in [*(f"gaps_{t}" for t in L.COVERAGE), "retire"]:
        r += 1
        lay.alerts[key] = r
    lay.alert_total = r + 1
    lay.total_row = r + 2
    lay.chart_row = r + 4
    return lay


def alert_ref(ds: Any) -> str:
    """Absolute reference of this sheet's alert count (summed on the Cover)."""
    return f"{SHEET}!{_a(roi_layout().alert_total)}"


# -- helpers ----------------------------------------------------------------------------------------






def _years() -> list[int]:
    return list(range(_TL.first_fy, _TL.last_actual_fy + 1))


def _defaults() -> dict[str, Any]:
    values = {r.name: r.value for r in L.INPUT_ROWS if r.name}
    values.update({r.name: r.value for r in INPUTS})
    return values


def _lives_split(values: dict[str, Any]) -> tuple[list[float], list[float]]:
    share = float(values["in_ROIServerShare"])
    return ([float(values["in_ROIServerLife"]), float(values["in_ROIBuildingLife"])],
            [share, 1 - share])


def _series(ds: Any, t: str, fld: str) -> np.ndarray:
    out = []
    for fy in _years():
        try:
            out.append(float(ds.value(t, fld, fy)))
        except Exception:  # noqa: BLE001 - a company or field missing from the data: a gap
            out.append(math.nan)
    return np.array(out)


def _rows_of(cap: np.ndarray, ocf: np.ndarray, rev: np.ndarray, values: dict) -> dict:
    """The block's rows computed in Python for the formulas' cached results (NaN = #N/A,
    propagating through arithmetic as an Excel error does)."""
    lives, split = _lives_split(values)
    years = np.array(_years())
    base = int(values["in_ROIBaseFY"])
    req = np.asarray(roi.required_revenue(cap, lives, split, values["in_ROIHurdle"],
                                          values["in_ROIMargin"], values["in_ROIOpex"]))
    cum = np.zeros(len(years))
    for i in range(1, len(years)):
        cum[i] = cum[i - 1] + req[i - 1] * (years[i - 1] >= base)
    inc = (rev - rev[base - _TL.first_fy]) * (years >= base)
    ret = roi.incremental_return(ocf, cap)
    payback = np.full(len(years), math.nan)
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN > 0 is False: no payback
        payback[1:] = np.where(ret[1:] > 0, cap[:-1] / (ocf[1:] - ocf[:-1]), math.nan)
    return {"capex": cap, "ocf": ocf, "revenue": rev, "required": req, "cumulative": cum,
            "incremental": inc, "inc_return": ret, "payback": payback}


# -- the sheet --------------------------------------------------------------------------------------


def _use_timeline(tl: L.Timeline) -> None:
    global _TL
    _TL = tl


def write_sheet(ctx: BuildContext, ws: Any) -> None:
    _use_timeline(ctx.timeline)
    """Write the ROI sheet (registered in ``builder.EXTRA_SHEETS``)."""
    lay = roi_layout()
    values = _defaults()
    _timeline_header(ctx, ws, TITLE, PURPOSE)
    _sheet_check_cells(ctx, ws, _a(lay.total_row))
    _write_terms(ctx, ws, lay, values)
    model = {t: _rows_of(*(_series(ctx.ds, t, f) for f in LINKS), values) for t in L.COVERAGE}
    for t in L.COVERAGE:
        _write_block(ctx, ws, lay, t, model[t])
    _write_peer(ctx, ws, lay, model, values)
    _write_checks(ctx, ws, lay, model, values)
    _write_chart(ctx, ws, lay)


def _lives_ref(lay: ROILayout) -> str:
    return f"{_a(lay.terms['server_life'])}:{_a(lay.terms['building_life'])}"


def _split_ref(lay: ROILayout) -> str:
    return f"{_a(lay.terms['server_share'])}:{_a(lay.terms['building_share'])}"


def _write_terms(ctx: BuildContext, ws: Any, lay: ROILayout, values: dict) -> None:
    s = ctx.styles
    _section(ctx, ws, lay.terms["server_life"] - 1,
             f"Asset classes passed to the engine: lives {_lives_ref(lay)}, capex split "
             f"{_split_ref(lay)}")
    share = float(values["in_ROIServerShare"])
    rows = [
        ("server_life", "Servers and network: useful life (link)", "yrs", "=in_ROIServerLife",
         "link", "phys", values["in_ROIServerLife"], "Inputs in_ROIServerLife"),
        ("building_life", "Buildings, power and cooling: useful life (link)", "yrs",
         "=in_ROIBuildingLife", "link", "phys", values["in_ROIBuildingLife"],
         "Inputs in_ROIBuildingLife"),
        ("server_share", "Servers and network: share of capex (link)", "%", "=in_ROIServerShare",
         "link", "pct", share, "Inputs in_ROIServerShare"),
        ("building_share", "Buildings, power, cooling: share (1 - servers)", "%",
         f"=1-{_a(lay.terms['server_share'])}", "calc", "pct", 1 - share,
         "The rest of the capex, so the split always sums to 1"),
    ]
    for key, label, unit, formula, role, num, cached, note in rows:
        r = lay.terms[key]
        _row_head(ctx, ws, r, label, unit, indent=True)
        ws.write_formula(r, 3, formula, s(role, num), float(cached))
        _note(ctx, ws, r, note)
    _note(ctx, ws, lay.terms["server_life"] - 1,
          "Column D: the lives and split ranges every CPX_REQUIRED_REVENUE call reads")


def _required_formula(lay: ROILayout, capex_cell: str) -> str:
    return (f"=CPX_REQUIRED_REVENUE({capex_cell},{_lives_ref(lay)},{_split_ref(lay)},"
            "in_ROIHurdle,in_ROIMargin,in_ROIOpex)")


def _row_formulas(lay: ROILayout, rows: dict[str, int], c: int) -> dict[str, str]:
    """Formulas of the rows shared by the company and peer blocks, in period column ``c``."""
    cl, prev = L.col(c), L.col(c - 1)
    first, last = L.col(L.FIRST_PERIOD_COL), L.col(L.FIRST_PERIOD_COL + _TL.n_actual - 1)
    n = {k: r + 1 for k, r in rows.items()}  # 1-based
    base = f"INDEX(${first}{n['revenue']}:${last}{n['revenue']},1,in_ROIBaseFY-in_FirstFY+1)"
    call = (f"CPX_INCREMENTAL_RETURN(${first}{n['ocf']}:${last}{n['ocf']},"
            f"${first}{n['capex']}:${last}{n['capex']})")
    return {
        "required": _required_formula(lay, f"{cl}{n['capex']}"),
        "cumulative": f"={prev}{n['cumulative']}+{prev}{n['required']}*({prev}$4>=in_ROIBaseFY)",
        "incremental": f"=({cl}{n['revenue']}-{base})*({cl}$4>=in_ROIBaseFY)",
        "inc_return": f"=INDEX({call},1,{cl}$4-in_FirstFY+1)",
    }


ROW_NOTES = {
    "required": "(Capital-recovery charge of each asset class at the hurdle + running costs) / "
                "margin: level revenue a year over the lives",
    "cumulative": "Previous year's total + previous year's vintage: a vintage earns from the year "
                  "after it is spent. Vintages are not retired (see the alert)",
    "incremental": "Revenue less the base year's revenue; 0 before the base year",
    "inc_return": "(OCF - OCF a year earlier) / capex a year earlier; OCF proxies operating "
                  "income (not in the data set); #N/A in the first year",
    "payback": "Years: prior year's capex / rise in OCF (CPX_PAYBACK, undiscounted); #N/A where "
               "OCF did not rise",
}


def _write_block(ctx: BuildContext, ws: Any, lay: ROILayout, t: str, model: dict) -> None:
    s = ctx.styles
    rows = lay.blocks[t]
    hdr = rows["header"]
    _section(ctx, ws, hdr, f"{L.COMPANY_NAMES[t]} ({t}), fiscal year ends {L.FY_END[t]}")
    ws.write_string(hdr, 3, t, s("section"))
    key = _a(hdr)
    for fld, label, unit in BLOCK_ROWS:
        r = rows[fld]
        _row_head(ctx, ws, r, f"{t}: {label}", unit, indent=fld in LINKS)
        if fld in LINKS:
            ws.write_string(r, 3, fld, s("key"))
        for i, c in enumerate(_TL.actual_cols()):
            cl = L.col(c)
            if fld in LINKS:
                f = f"=CPX_VALUE({key},$D{r + 1},{cl}$4)"
            elif fld == "payback":
                prev = L.col(c - 1)
                f = (f"=IF({cl}{rows['inc_return'] + 1}>0,CPX_PAYBACK({prev}{rows['capex'] + 1},"
                     f"{cl}{rows['ocf'] + 1}-{prev}{rows['ocf'] + 1}),NA())")
            else:
                f = _row_formulas(lay, rows, c)[fld]
            engine = fld in LINKS or fld in ("required", "inc_return", "payback")
            ws.write_formula(r, c, f, s.for_unit("engine" if engine else "calc", unit),
                             _cached(model[fld][i]))
        _note(ctx, ws, r, f"Reported {fld}; source: Sources sheet" if fld in LINKS
              else ROW_NOTES[fld])


def _peer_values(model: dict, values: dict) -> dict:
    peers = [t for t in L.PEER_SET if t in model]
    sums = {k: np.sum([model[t][k] for t in peers], axis=0) for k in LINKS}
    out = _rows_of(sums["capex"], sums["ocf"], sums["revenue"], values)
    out["capex_ratios"] = sums["capex"]
    out["shortfall"] = out["cumulative"] - out["incremental"]
    years = np.array(_years())
    out["ai_revenue"] = float(values["in_AIRevenue"]) * (years == _TL.last_actual_fy)
    out["gap"] = np.asarray(roi.revenue_gap(np.nan_to_num(sums["capex"], nan=0.0),
                                            values["in_CostMultiple"], values["in_EndMargin"],
                                            out["ai_revenue"]))
    out["gap"] = np.where(np.isnan(sums["capex"]), math.nan, out["gap"])
    return out


def _write_peer(ctx: BuildContext, ws: Any, lay: ROILayout, model: dict, values: dict) -> None:
    s = ctx.styles
    peers = [t for t in L.PEER_SET if t in lay.blocks]
    _section(ctx, ws, lay.peer_header,
             f"Peer aggregate: {'+'.join(peers)} (sum of fiscal years)")
    p = lay.peer
    cached = _peer_values(model, values)
    ratios_capex = ctx.ratios.peer_rows["capex"] + 1
    for key, label, unit in PEER_ROWS:
        r = p[key]
        _row_head(ctx, ws, r, label, unit, indent=key in ("capex_ratios",))
        for i, c in enumerate(_TL.actual_cols()):
            cl = L.col(c)
            role = "calc"
            if key in LINKS:
                f = "=SUM(" + ",".join(f"{cl}{lay.blocks[t][key] + 1}" for t in peers) + ")"
            elif key == "capex_ratios":
                f, role = f"=Ratios!{cl}{ratios_capex}", "link"
            elif key == "shortfall":
                f = f"={cl}{p['cumulative'] + 1}-{cl}{p['incremental'] + 1}"
            elif key == "ai_revenue":
                f = f"=in_AIRevenue*({cl}$4=in_LastActualFY)"
            elif key == "gap":
                f = (f"=CPX_REVENUE_GAP({cl}{p['capex'] + 1},in_CostMultiple,in_EndMargin,"
                     f"{cl}{p['ai_revenue'] + 1})")
                role = "engine"
            else:
                f = _row_formulas(lay, p, c)[key]
                role = "engine" if key in ("required", "inc_return") else "calc"
            style = s("total", "musd") if key == "shortfall" else s.for_unit(role, unit)
            ws.write_formula(r, c, f, style, _cached(cached[key][i]))
    notes = {
        "capex": "Sum of the company capex rows above",
        "capex_ratios": "Ratios peer capex, same column = same fiscal year (checked below)",
        "required": "CPX_REQUIRED_REVENUE on the peer capex; equals the sum of the company rows "
                    "(checked below)",
        "cumulative": ROW_NOTES["cumulative"],
        "incremental": ROW_NOTES["incremental"] + "; #N/A where a peer's revenue is not reported "
                       "(META FY2019)",
        "shortfall": "Positive = revenue growth short of what the vintages require; all revenue "
                     "growth counts, AI or not",
        "inc_return": "Ratio of sums: change in peer OCF / peer capex a year earlier",
        "ai_revenue": "in_AIRevenue in the latest fiscal year, 0 elsewhere (0 = no estimate "
                      "entered: the gap is the whole requirement)",
        "gap": f"CPX_REVENUE_GAP: capex x in_CostMultiple / in_EndMargin - AI revenue ({SEQUOIA}"
               "). Sequoia applied x2 to GPU spend; capex already includes buildings",
    }
    for key, text in notes.items():
        _note(ctx, ws, p[key], text)


def _write_checks(ctx: BuildContext, ws: Any, lay: ROILayout, model: dict, values: dict) -> None:
    s = ctx.styles
    _section(ctx, ws, lay.checks_header, "Checks (0 = pass) and alerts")
    p = {k: v + 1 for k, v in lay.peer.items()}  # 1-based
    peers = [t for t in L.PEER_SET if t in lay.blocks]

    def near(c: str, a: str, b: str) -> str:
        return f"=IF(ISNUMBER({c}{a}),--(ABS({c}{a}-{b})>in_CheckTol),0)"

    def company_sum(c: str, key: str) -> str:
        return "SUM(" + ",".join(f"{c}{lay.blocks[t][key] + 1}" for t in peers) + ")"

    per_year = {
        "peer_capex": ("Peer capex (sum of companies) = Ratios peer capex",
                       lambda c: near(c, p["capex"], f"{c}{p['capex_ratios']}")),
        "peer_required": ("Peer requirement = sum of company requirements",
                          lambda c: near(c, p["required"], company_sum(c, "required"))),
        "peer_cumulative": ("Peer cumulative = sum of company cumulatives",
                            lambda c: near(c, p["cumulative"], company_sum(c, "cumulative"))),
    }
    for key, (label, formula) in per_year.items():
        r = lay.checks[key]
        _row_head(ctx, ws, r, label, "flag")
        for c in _TL.actual_cols():
            ws.write_formula(r, c, formula(L.col(c)), s("calc", "check"), 0)
        ws.write_formula(r, 3, f"=MIN(1,SUM({_TL.period_range(r)}))", s("calc", "check"), 0)
        _check_format(ctx, ws, _TL.period_range(r))
        _check_format(ctx, ws, L.cell(r, 3))
    _note(ctx, ws, lay.checks["peer_required"], "The requirement is linear in capex, so the "
          "engine on the sum must equal the sum of the company rows")
    for who in [*L.COVERAGE, "peer"]:
        r = lay.checks[f"nonneg_{who}"]
        row = (lay.peer if who == "peer" else lay.blocks[who])["required"]
        name = "Peer" if who == "peer" else who
        _row_head(ctx, ws, r, f"{name}: required revenue >= 0 wherever computed", "flag")
        ws.write_formula(r, 3, f'=MIN(1,COUNTIFS({_TL.period_range(row)},"<"&-in_CheckTol))',
                         s("calc", "check"), 0)
        _check_format(ctx, ws, L.cell(r, 3))
    _note(ctx, ws, lay.checks["nonneg_peer"], "COUNTIFS skips #N/A cells (figures not reported)")

    # Alerts: reported, not failing.
    for t in L.COVERAGE:
        r = lay.alerts[f"gaps_{t}"]
        b = lay.blocks[t]
        _row_head(ctx, ws, r, f"Alert: {t} capex, OCF or revenue not reported", "alert")
        rng = (f"{L.cell(b['capex'], L.FIRST_PERIOD_COL)}:"
               f"{L.cell(b['revenue'], L.FIRST_PERIOD_COL + _TL.n_actual - 1)}")
        gaps = sum(int(np.isnan(model[t][k]).sum()) for k in LINKS)
        ws.write_formula(r, 3, f"=SUMPRODUCT(--ISERROR({rng}))", s("calc", "alert"), gaps)
    _note(ctx, ws, lay.alerts["gaps_META"], "Known gap: META FY2019 revenue (see Sources)")
    r = lay.alerts["retire"]
    _row_head(ctx, ws, r, "Alert: vintages retire inside the window", "alert")
    lives, _ = _lives_split(values)
    retire = int(min(lives) < _TL.last_actual_fy - int(values["in_ROIBaseFY"]))
    ws.write_formula(r, 3, f"=--(MIN({_lives_ref(lay)})<in_LastActualFY-in_ROIBaseFY)",
                     s("calc", "alert"), retire)
    _note(ctx, ws, r, "The base-year vintage earns from the next year; with lives at least as long "
          "as the years to the last actual FY none retires, so the running sum is exact")
    total_alerts = sum(int(np.isnan(model[t][k]).sum()) for t in L.COVERAGE for k in LINKS)
    r = lay.alert_total
    ws.write_string(r, 1, "Alerts total", s("total"))
    ws.write_string(r, 2, "alert", s("unit"))
    a0, a1 = min(lay.alerts.values()), max(lay.alerts.values())
    ws.write_formula(r, 3, f"=SUM({L.cell(a0, 3)}:{L.cell(a1, 3)})", s("total", "alert"),
                     total_alerts + retire)
    for rr in [*lay.alerts.values(), r]:
        _alert_format(ctx, ws, L.cell(rr, 3))
    r = lay.total_row
    ws.write_string(r, 1, "Sheet check (0 = all checks pass)", s("total"))
    ws.write_string(r, 2, "flag", s("unit"))
    c0, c1 = min(lay.checks.values()), max(lay.checks.values())
    ws.write_formula(r, 3, f"=MIN(1,SUM({L.cell(c0, 3)}:{L.cell(c1, 3)}))", s("total", "check"), 0)
    _check_format(ctx, ws, L.cell(r, 3))


def _write_chart(ctx: BuildContext, ws: Any, lay: ROILayout) -> None:
    """Clustered column: peer cumulative requirement vs incremental revenue ($bn), §7."""
    first, last = L.FIRST_PERIOD_COL, L.FIRST_PERIOD_COL + _TL.n_actual - 1
    categories = f"={SHEET}!{_a(L.YEAR_ROW, first)}:{_a(L.YEAR_ROW, last)}"
    ch = ctx.wb.add_chart({"type": "column"})
    for key, (name, colour) in CHART_SERIES.items():
        r = lay.peer[key]
        ch.add_series({"name": name, "categories": categories,
                       "values": f"={SHEET}!{_a(r, first)}:{_a(r, last)}",
                       "fill": {"color": colour}, "border": {"none": True}})
    ch.set_title({"name": CHART_TITLE, "name_font": {"size": 10}})
    ch.set_legend({"position": "bottom"})
    ch.set_y_axis({"num_format": "#,##0,", "min": 0,
                   "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    ch.set_x_axis({"num_format": '"FY"0'})
    ch.set_size({"width": 480, "height": 288})
    ch.show_blanks_as("gap")
    ch.show_na_as_empty_cell()
    ws.insert_chart(lay.chart_row, 1, ch)
    ws.write_string(lay.chart_row + 15, 1, CHART_SOURCE, ctx.styles("note"))
    ws.write_string(lay.chart_row + 16, 1, CHART_NOTE, ctx.styles("note"))
