"""The ROI sheet: what return each year's AI capex must earn, and whether it is earning it, on
the shared timeline grid (WORKBOOK_STYLE.md §2–7), same fiscal year in the same column as on
Ratios. The AI peers only (:data:`aicapex.excel.layout.PEER_SET`); Apple, the control company,
is outside the aggregate.

Blocks, top to bottom:

* **Asset classes passed to the engine**: links to the Inputs lives and the servers' share of
  capex, and the buildings' share (1 - servers), so the two-cell lives and split ranges always
  sum to 1.
* **One block per AI peer**: capex, OCF and revenue as native links to the Ratios sheet (computed
  once, linked here), then one spilled ``CPX_REQUIRED_REVENUE`` over the capex row (the level
  annual revenue each vintage must earn over its lives at the hurdle rate), the cumulative
  requirement of the vintages since the base year (a corkscrew: a vintage earns from the year
  after it is spent), revenue growth since the base year, one spilled
  ``CPX_INCREMENTAL_RETURN`` (change in OCF per dollar of the prior year's capex) and payback
  (1 / incremental return where positive).
* **Peer aggregate**: sums of fiscal years, the requirement on the sum (one call), cloud-segment
  revenue growth since the base year (``CPX_CLOUD_GROWTH``: an upper-bound proxy for AI revenue),
  and the "$600B question" in both modes: total capex x 1 / margin less the proxy per year
  (``CPX_REVENUE_GAP``, #N/A before the base year) and Sequoia's original (GPU spend x 2 / margin).
* **Checks and alerts**; chart: cumulative requirement vs cloud-segment revenue growth.

Every CPX_ call spills over a block: 14 calls per recalculation (Power_Cloud has 11).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aicapex import udfs
from aicapex.engine import roi
from aicapex.excel import layout as L
from aicapex.excel.layout import InputRow
from aicapex.excel.sheetkit import (
    BuildContext,
    new_chart,
    write_alert_total,
    write_block,
    write_check_total,
)
from aicapex.excel.sheetkit import abs_ref as _a
from aicapex.excel.sheetkit import alert_format as _alert_format
from aicapex.excel.sheetkit import cached_value as _cached
from aicapex.excel.sheetkit import check_format as _check_format
from aicapex.excel.sheetkit import note as _note
from aicapex.excel.sheetkit import row_head as _row_head
from aicapex.excel.sheetkit import section as _section
from aicapex.excel.sheetkit import sheet_check_cells as _sheet_check_cells
from aicapex.excel.sheetkit import timeline_header as _timeline_header
from aicapex.xlerrors import XlError

SHEET = "ROI"
TITLE = "Return on AI capex"
PURPOSE = ("Revenue each year's capex must earn (CPX engine) against cloud-segment revenue growth; "
           "USD millions unless stated; fiscal years as reported (MSFT ends June, ORCL May); AI "
           "peers only (AAPL is the control); assumptions and their sources on Inputs")
SEQUOIA = "Sequoia Capital (David Cahn), \"AI's $600B Question\", June 2024"
PEERS = list(L.PEER_SET)


def _decimal(lo: float, hi: float) -> dict:
    return {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": hi}


#: The ROI assumptions, written on Inputs by the builder (``INPUT_SECTION``), each with its
#: source or stated as an assumption.
INPUTS: list[InputRow] = [
    InputRow("in_ROIServerLife", "Servers and network: useful life", "yrs", 6.0,
             _decimal(1, 50),
             "Industry reporting: 6 = MSFT and GOOGL server policy since FY2023 (10-K); META 5.5, "
             "AMZN 5 (10-K FY2024)"),
    InputRow("in_ROIBuildingLife", "Buildings, power and cooling: useful life", "yrs", 20.0,
             _decimal(1, 50),
             "Analyst assumption: building lives in the 10-K property notes run about 15 to 40 "
             "years"),
    InputRow("in_ROIServerShare", "Servers and network: share of capex", "%", 0.5,
             _decimal(0, 1),
             f"Analyst assumption after {SEQUOIA}: GPUs about half of data-center cost; the rest "
             "is buildings, power and cooling"),
    InputRow("in_ROIHurdle", "Hurdle rate (pre-tax cost of capital)", "%", 0.10,
             _decimal(0, 1), "Analyst assumption: 10% pre-tax return over the lives"),
    InputRow("in_ROIMargin", "Operating margin on revenue the capex enables", "%", 0.5,
             _decimal(0.01, 1),
             "Analyst assumption: share of each revenue dollar left for this capex's capital "
             "charge and running costs (AWS 2024 segment operating margin, after depreciation, "
             "~37%)"),
    InputRow("in_ROIOpex", "Running costs a year, share of capex", "%", 0.05, _decimal(0, 1),
             "Analyst assumption: energy, staff, maintenance a year per dollar of capex (see the "
             "Power_Cloud reference facility)"),
    InputRow("in_ROIBaseFY", "Base year: first vintage, revenue and cloud baseline", "FY", 2022,
             {"validate": "integer", "criteria": "between", "minimum": L.FIRST_FY,
              "maximum": 2100},
             "Analyst assumption: FY2022, the last fiscal year before ChatGPT (Nov 2022); nothing "
             "is counted or compared before it"),
    InputRow("in_CostMultiple", "$600B question, mode capex: multiple on total capex", "x", 1.0,
             _decimal(1, 10),
             "1: total hyperscaler capex already includes buildings, power and cooling; "
             f"{SEQUOIA} doubled GPU spend (x2) to reach total data-center cost, so doubling "
             "total capex would count buildings twice"),
    InputRow("in_CapexLife", "$600B question, mode capex: years a year's capex is earned over",
             "yrs", 1.0, _decimal(1, 50),
             f"1 = {SEQUOIA}'s framing: a year's spend against a year's revenue; 5-6 spreads it "
             "over the server lives"),
    InputRow("in_EndMargin", "$600B question: end-customer margin", "%", 0.5,
             _decimal(0.01, 1), f"Vendor claim: {SEQUOIA}: 50%"),
    InputRow("in_SequoiaSpend", "$600B question, mode sequoia: accelerator spend a year", "$m",
             150_000.0, _decimal(0, 10_000_000),
             f"{SEQUOIA}: NVIDIA data-center revenue run-rate ~$150B (Q4 2023 x 4)"),
    InputRow("in_SequoiaMultiple", "$600B question, mode sequoia: multiple on GPU spend", "x",
             2.0, _decimal(1, 10),
             f"{SEQUOIA}: GPUs are about half of the total cost of an AI data center"),
]

#: The builder puts these on the Inputs sheet, under their own section.
INPUT_SECTION = ("ROI assumptions (each with its source or marked as an assumption)", INPUTS)

#: Asset-class rows passed to CPX_REQUIRED_REVENUE (column D): lives, then the split.
TERMS = ["server_life", "building_life", "server_share", "building_share"]

#: Company-block rows: (key, label after "TICKER: ", unit).
BLOCK_ROWS: list[tuple[str, str, str]] = [
    ("capex", "capex (cash spent, positive; link)", "$m"),
    ("ocf", "operating cash flow (link)", "$m"),
    ("revenue", "revenue (link)", "$m"),
    ("required", "revenue this year's capex must earn each year", "$m"),
    ("cumulative", "cumulative requirement since the base year", "$m"),
    ("incremental", "revenue growth since the base year", "$m"),
    ("inc_return", "incremental OCF / capex a year earlier", "%"),
    ("payback", "payback on the prior year's capex (1 / incremental return)", "years"),
]
LINKS = ("capex", "ocf", "revenue")

PEER_ROWS: list[tuple[str, str, str]] = [
    ("capex", "Peer: capex, sum", "$m"),
    ("capex_ratios", "Peer: capex on the Ratios sheet (link)", "$m"),
    ("revenue", "Peer: revenue, sum", "$m"),
    ("required", "Peer: revenue this year's capex must earn", "$m"),
    ("cumulative", "Peer: cumulative requirement since the base year", "$m"),
    ("incremental", "Peer: revenue growth since the base year (all businesses)", "$m"),
    ("cloud_growth", "Peer: cloud-segment revenue growth since the base year (AI proxy)", "$m"),
    ("shortfall", "Peer: cumulative requirement less cloud-segment growth", "$m"),
    ("gap", "$600B question, mode capex: capex x1 / margin - cloud growth", "$m"),
]

CHART_TITLE = ("Cumulative revenue requirement of capex vintages vs cloud-segment revenue growth "
               "since the base year, AI peers ($bn)")
CHART_SERIES = {"cumulative": ("Cumulative requirement of capex vintages", "#7F7F7F"),
                "cloud_growth": ("Cloud-segment revenue growth since the base year", "#1F3864")}
CHART_SOURCE = ("Source: company filings (SEC EDGAR) via the Ratios sheet; AI Capex Monitor "
                "calculations (CPX_REQUIRED_REVENUE, CPX_CLOUD_GROWTH). Peer = "
                + "+".join(PEERS) + ", sum of fiscal years.")
CHART_NOTE = ("Shows whether the cloud businesses, where AI revenue is booked, have grown by as "
              "much as the capex requires. Does not show AI revenue itself: cloud growth is an "
              "upper bound (it includes non-AI cloud); META has no cloud segment; MSFT's segment "
              "is chained across its FY2023 redefinition. Nothing before the base year.")


@dataclass
class ROILayout:
    terms: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, dict[str, int]] = field(default_factory=dict)  # ticker -> key -> row
    peer_header: int = 0
    peer_list: dict[str, int] = field(default_factory=dict)  # ticker -> row of the peer list
    peer: dict[str, int] = field(default_factory=dict)
    sequoia: int = 0
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
    for t in PEERS:
        rows = {"header": r}
        for key, *_ in BLOCK_ROWS:
            r += 1
            rows[key] = r
        lay.blocks[t] = rows
        r += 2
    lay.peer_header = r
    for t in PEERS:
        r += 1
        lay.peer_list[t] = r
    for key, *_ in PEER_ROWS:
        r += 1
        lay.peer[key] = r
    r += 1
    lay.sequoia = r
    r += 2
    lay.checks_header = r
    for key in [*PER_YEAR_CHECKS, *(f"nonneg_{t}" for t in PEERS), "nonneg_peer"]:
        r += 1
        lay.checks[key] = r
    for key in [*(f"gaps_{t}" for t in PEERS), "retire"]:
        r += 1
        lay.alerts[key] = r
    lay.alert_total = r + 1
    lay.total_row = r + 2
    lay.chart_row = r + 4
    return lay


def alert_ref(ds: Any) -> str:
    """Absolute reference of this sheet's alert count (summed on the Cover)."""
    return f"{SHEET}!{_a(roi_layout().alert_total)}"


# -- the model behind the cached values ------------------------------------------------------


def _defaults() -> dict[str, Any]:
    values = {r.name: r.value for r in L.INPUT_ROWS if r.name}
    values.update({r.name: r.value for r in INPUTS})
    return values


def _lives_split(values: dict[str, Any]) -> tuple[list[float], list[float]]:
    share = float(values["in_ROIServerShare"])
    return ([float(values["in_ROIServerLife"]), float(values["in_ROIBuildingLife"])],
            [share, 1 - share])


def _series(ds: Any, t: str, fld: str, years: list[int]) -> np.ndarray:
    out = []
    for fy in years:
        try:
            out.append(float(ds.value(t, fld, fy)))
        except Exception:  # noqa: BLE001 - a company or field missing from the data: a gap
            out.append(math.nan)
    return np.array(out)


def _rows_of(cap: np.ndarray, ocf: np.ndarray, rev: np.ndarray, values: dict,
             years: np.ndarray) -> dict:
    """The block's rows computed in Python for the cached results (NaN = #N/A)."""
    lives, split = _lives_split(values)
    base = int(values["in_ROIBaseFY"])
    req = np.asarray(roi.required_revenue(cap, lives, split, values["in_ROIHurdle"],
                                          values["in_ROIMargin"], values["in_ROIOpex"]))
    cum = np.zeros(len(years))
    for i in range(1, len(years)):
        cum[i] = cum[i - 1] + req[i - 1] * (years[i - 1] >= base)
    at_base = rev[years == base][0] if (years == base).any() else math.nan
    inc = np.where(years >= base, rev - at_base, 0.0)
    ret = roi.incremental_return(ocf, cap)
    with np.errstate(divide="ignore", invalid="ignore"):
        payback = np.where(ret > 0, 1.0 / ret, math.nan)
    return {"capex": cap, "ocf": ocf, "revenue": rev, "required": req, "cumulative": cum,
            "incremental": inc, "inc_return": ret, "payback": payback}


def _cell(v: float, reason: str = "not reported") -> Any:
    return XlError("#N/A", reason) if isinstance(v, float) and math.isnan(v) else v


# -- the sheet -----------------------------------------------------------------------------------


def write_sheet(ctx: BuildContext, ws: Any) -> None:
    """Write the ROI sheet (registered in ``builder.EXTRA_SHEETS``)."""
    lay = roi_layout()
    values = _defaults()
    tl = ctx.timeline
    years = np.array(tl.actual_years)
    _timeline_header(ctx, ws, TITLE, PURPOSE)
    _sheet_check_cells(ctx, ws, _a(lay.total_row))
    _write_terms(ctx, ws, lay, values)
    model = {t: _rows_of(*(_series(ctx.ds, t, f, list(years)) for f in LINKS), values, years)
             for t in PEERS}
    for t in PEERS:
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


def _row_range(ctx: BuildContext, r: int) -> str:
    cols = list(ctx.timeline.actual_cols())
    return f"{L.col(cols[0])}{r + 1}:{L.col(cols[-1])}{r + 1}"


def _required_block(ctx: BuildContext, ws: Any, lay: ROILayout, rows: dict[str, int],
                    cached: np.ndarray) -> None:
    f = (f"=CPX_REQUIRED_REVENUE({_row_range(ctx, rows['capex'])},{_lives_ref(lay)},"
         f"{_split_ref(lay)},in_ROIHurdle,in_ROIMargin,in_ROIOpex)")
    cols = list(ctx.timeline.actual_cols())
    write_block(ws, rows["required"], cols[0], f, [[_cell(v) for v in cached]],
                ctx.styles.for_unit("engine", "$m"))


def _native_rows(ctx: BuildContext, ws: Any, rows: dict[str, int], model: dict) -> None:
    """Cumulative requirement and revenue growth since the base year (native formulas)."""
    s = ctx.styles
    cols = list(ctx.timeline.actual_cols())
    n = {k: r + 1 for k, r in rows.items()}
    rev = f"${L.col(cols[0])}{n['revenue']}:${L.col(cols[-1])}{n['revenue']}"
    base = f"INDEX({rev},1,in_ROIBaseFY-in_FirstFY+1)"
    for i, c in enumerate(cols):
        cl, prev = L.col(c), L.col(c - 1)
        if i == 0:
            f_cum = "=0"
        else:
            f_cum = (f"={prev}{n['cumulative']}+{prev}{n['required']}*"
                     f"({prev}$4>=in_ROIBaseFY)")
        ws.write_formula(rows["cumulative"], c, f_cum, s.for_unit("calc", "$m"),
                         _cached(_cell(model["cumulative"][i])))
        f_inc = f"=IF({cl}$4<in_ROIBaseFY,0,{cl}{n['revenue']}-{base})"
        ws.write_formula(rows["incremental"], c, f_inc, s.for_unit("calc", "$m"),
                         _cached(_cell(model["incremental"][i])))


ROW_NOTES = {
    "required": "One CPX_REQUIRED_REVENUE call over the capex row: (capital-recovery charge of "
                "each asset class at the hurdle + running costs) / margin, level a year",
    "cumulative": "Previous year's total + previous year's vintage from the base year on: a "
                  "vintage earns from the year after it is spent; vintages are not retired "
                  "(see the alert)",
    "incremental": "Revenue less the base year's revenue; 0 before the base year",
    "inc_return": "One CPX_INCREMENTAL_RETURN call: (OCF - OCF a year earlier) / capex a year "
                  "earlier; OCF proxies operating income (not in the data set)",
    "payback": "Years: 1 / incremental return = prior year's capex / rise in OCF (undiscounted); "
               "#N/A where OCF did not rise",
}


def _write_block(ctx: BuildContext, ws: Any, lay: ROILayout, t: str, model: dict) -> None:
    s = ctx.styles
    rows = lay.blocks[t]
    cols = list(ctx.timeline.actual_cols())
    hdr = rows["header"]
    _section(ctx, ws, hdr, f"{L.COMPANY_NAMES[t]} ({t}), fiscal year ends {L.FY_END[t]}")
    ws.write_string(hdr, 3, t, s("section"))
    rb = ctx.ratios.blocks[t]
    for fld, label, unit in BLOCK_ROWS:
        _row_head(ctx, ws, rows[fld], f"{t}: {label}", unit, indent=fld in LINKS)
    for fld in LINKS:
        r = rows[fld]
        ws.write_string(r, 3, fld, s("key"))
        for i, c in enumerate(cols):
            ws.write_formula(r, c, f"=Ratios!{L.col(c)}{rb.rows[fld] + 1}",
                             s.for_unit("link", "$m"), _cached(_cell(model[fld][i])))
        _note(ctx, ws, r, f"Link to the Ratios {t} block ({fld}); source: Sources sheet")
    _required_block(ctx, ws, lay, rows, model["required"])
    _native_rows(ctx, ws, rows, model)
    f = (f"=CPX_INCREMENTAL_RETURN({_row_range(ctx, rows['ocf'])},"
         f"{_row_range(ctx, rows['capex'])})")
    ret = [_cell(v, "no prior year or a figure missing") for v in model["inc_return"]]
    write_block(ws, rows["inc_return"], cols[0], f, [ret], s.for_unit("engine", "%"))
    for i, c in enumerate(cols):
        cl = L.col(c)
        ws.write_formula(rows["payback"], c,
                         f"=IF({cl}{rows['inc_return'] + 1}>0,1/{cl}{rows['inc_return'] + 1},NA())",
                         s.for_unit("calc", "years"), _cached(_cell(model["payback"][i])))
    for key, text in ROW_NOTES.items():
        _note(ctx, ws, rows[key], text)


def _peer_values(ctx: BuildContext, model: dict, values: dict) -> dict:
    years = np.array(ctx.timeline.actual_years)
    sums = {k: np.sum([model[t][k] for t in PEERS], axis=0) for k in LINKS}
    out = _rows_of(sums["capex"], sums["ocf"], sums["revenue"], values, years)
    out["capex_ratios"] = sums["capex"]
    growth = udfs.cpx_cloud_growth([PEERS], values["in_ROIBaseFY"], [list(years)])
    out["cloud_growth_cells"] = growth[0]
    cg = np.array([v if isinstance(v, float) else math.nan for v in growth[0]])
    out["cloud_growth"] = cg
    out["shortfall"] = out["cumulative"] - cg
    gap = udfs.cpx_revenue_gap([list(sums["capex"])], values["in_CostMultiple"],
                               values["in_EndMargin"], [growth[0]], None, values["in_CapexLife"])
    out["gap_cells"] = gap[0] if isinstance(gap, list) else [gap] * len(years)
    out["sequoia"] = udfs.cpx_revenue_gap(values["in_SequoiaSpend"],
                                          values["in_SequoiaMultiple"], values["in_EndMargin"], 0)
    return out


def _write_peer(ctx: BuildContext, ws: Any, lay: ROILayout, model: dict, values: dict) -> None:
    s = ctx.styles
    cols = list(ctx.timeline.actual_cols())
    _section(ctx, ws, lay.peer_header, f"Peer aggregate: {'+'.join(PEERS)} (sum of fiscal years)")
    for t, r in lay.peer_list.items():
        _row_head(ctx, ws, r, f"Peer: {t} in the aggregate", "ticker", indent=True)
        ws.write_string(r, 3, t, s("key"))
    first_t, last_t = lay.peer_list[PEERS[0]], lay.peer_list[PEERS[-1]]
    tickers = f"{_a(first_t)}:{_a(last_t)}"
    _note(ctx, ws, first_t, "The tickers CPX_CLOUD_GROWTH adds up; META has no cloud segment and "
          "adds nothing")
    p = lay.peer
    cached = _peer_values(ctx, model, values)
    for key, label, unit in PEER_ROWS:
        _row_head(ctx, ws, p[key], label, unit, indent=key == "capex_ratios")
    ratios_capex = ctx.ratios.peer_rows["capex"] + 1
    for i, c in enumerate(cols):
        cl = L.col(c)
        for key in ("capex", "revenue"):
            f = "=SUM(" + ",".join(f"{cl}{lay.blocks[t][key] + 1}" for t in PEERS) + ")"
            ws.write_formula(p[key], c, f, s.for_unit("calc", "$m"), _cached(_cell(cached[key][i])))
        ws.write_formula(p["capex_ratios"], c, f"=Ratios!{cl}{ratios_capex}",
                         s.for_unit("link", "$m"), _cached(_cell(cached["capex_ratios"][i])))
        ws.write_formula(p["shortfall"], c,
                         f"={cl}{p['cumulative'] + 1}-{cl}{p['cloud_growth'] + 1}",
                         s("total", "musd"), _cached(_cell(cached["shortfall"][i])))
    _required_block(ctx, ws, lay, p, cached["required"])
    _native_rows(ctx, ws, p, cached)
    years = f"{L.col(cols[0])}$4:{L.col(cols[-1])}$4"
    write_block(ws, p["cloud_growth"], cols[0], f"=CPX_CLOUD_GROWTH({tickers},in_ROIBaseFY,{years})",
                [cached["cloud_growth_cells"]], s.for_unit("engine", "$m"))
    f = (f"=CPX_REVENUE_GAP({_row_range(ctx, p['capex'])},in_CostMultiple,in_EndMargin,"
         f"{_row_range(ctx, p['cloud_growth'])},,in_CapexLife)")
    write_block(ws, p["gap"], cols[0], f, [cached["gap_cells"]], s.for_unit("engine", "$m"))
    r = lay.sequoia
    _row_head(ctx, ws, r, "$600B question, mode sequoia: GPU spend x2 / margin (Sequoia's "
              "original)", "$m")
    ws.write_formula(r, 3, "=CPX_REVENUE_GAP(in_SequoiaSpend,in_SequoiaMultiple,in_EndMargin,0)",
                     s("engine", "musd"), _cached(cached["sequoia"]))
    notes = {
        "capex": "Sum of the company capex rows above",
        "capex_ratios": "Ratios peer capex, same column = same fiscal year (checked below)",
        "required": "CPX_REQUIRED_REVENUE on the peer capex; equals the sum of the company rows "
                    "(checked below)",
        "cumulative": ROW_NOTES["cumulative"],
        "incremental": "All revenue growth (retail, ads, devices included): not the comparison "
                       "the chart makes",
        "cloud_growth": "Upper-bound proxy for AI revenue: AWS, Google Cloud, Intelligent Cloud "
                        "(chained across its FY2023 redefinition) and Oracle cloud services and "
                        "license support, growth since the base year; #N/A before it and where "
                        "a company has not reported",
        "shortfall": "Positive = cloud growth short of what the vintages require",
        "gap": f"Mode capex ({SEQUOIA} applied to total capex): capex x in_CostMultiple (1, "
               "capex includes buildings) / (in_EndMargin x in_CapexLife) - cloud growth; #N/A "
               "before the base year",
    }
    for key, text in notes.items():
        _note(ctx, ws, p[key], text)
    _note(ctx, ws, lay.sequoia, f"{SEQUOIA}: ~$150B of NVIDIA data-center revenue x 2 (total "
          "data-center cost) / 50% margin = $600B of AI revenue needed a year (Inputs)")


def _write_checks(ctx: BuildContext, ws: Any, lay: ROILayout, model: dict, values: dict) -> None:
    s = ctx.styles
    tl = ctx.timeline
    _section(ctx, ws, lay.checks_header, "Checks (0 = pass) and alerts")
    p = {k: v + 1 for k, v in lay.peer.items()}  # 1-based

    def near(c: str, a: int, b: str) -> str:
        return f"=IF(ISNUMBER({c}{a}),--(ABS({c}{a}-{b})>in_CheckTol),0)"

    def company_sum(c: str, key: str) -> str:
        return "SUM(" + ",".join(f"{c}{lay.blocks[t][key] + 1}" for t in PEERS) + ")"

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
        for c in tl.actual_cols():
            ws.write_formula(r, c, formula(L.col(c)), s("calc", "check"), 0)
        ws.write_formula(r, 3, f"=MIN(1,SUM({tl.period_range(r)}))", s("calc", "check"), 0)
        _check_format(ctx, ws, tl.period_range(r))
        _check_format(ctx, ws, L.cell(r, 3))
    _note(ctx, ws, lay.checks["peer_required"], "The requirement is linear in capex, so the "
          "engine on the sum must equal the sum of the company rows")
    for who in [*PEERS, "peer"]:
        r = lay.checks[f"nonneg_{who}"]
        row = (lay.peer if who == "peer" else lay.blocks[who])["required"]
        name = "Peer" if who == "peer" else who
        _row_head(ctx, ws, r, f"{name}: required revenue >= 0 wherever computed", "flag")
        ws.write_formula(r, 3, f'=MIN(1,COUNTIFS({tl.period_range(row)},"<"&-in_CheckTol))',
                         s("calc", "check"), 0)
        _check_format(ctx, ws, L.cell(r, 3))
    for t in PEERS:
        r = lay.alerts[f"gaps_{t}"]
        b = lay.blocks[t]
        _row_head(ctx, ws, r, f"Alert: {t} capex, OCF or revenue not reported", "alert")
        rng = (f"{L.cell(b['capex'], L.FIRST_PERIOD_COL)}:"
               f"{L.cell(b['revenue'], tl.last_actual_col)}")
        gaps = sum(int(np.isnan(model[t][k]).sum()) for k in LINKS)
        ws.write_formula(r, 3, f"=SUMPRODUCT(--ISERROR({rng}))", s("calc", "alert"), gaps)
    _note(ctx, ws, lay.alerts[f"gaps_{PEERS[0]}"], "Known gaps: see Sources (a fiscal year not "
          "yet reported counts here)")
    r = lay.alerts["retire"]
    _row_head(ctx, ws, r, "Alert: vintages retire inside the window", "alert")
    lives, _ = _lives_split(values)
    retire = int(min(lives) < tl.last_actual_fy - int(values["in_ROIBaseFY"]))
    ws.write_formula(r, 3, f"=--(MIN({_lives_ref(lay)})<in_LastActualFY-in_ROIBaseFY)",
                     s("calc", "alert"), retire)
    _note(ctx, ws, r, "With lives at least as long as the years from the base year to the last "
          "actual FY no vintage retires, so the running sum is exact")
    total_alerts = sum(int(np.isnan(model[t][k]).sum()) for t in PEERS for k in LINKS)
    for rr in lay.alerts.values():
        _alert_format(ctx, ws, L.cell(rr, 3))
    write_alert_total(ctx, ws, lay.alert_total, lay.alerts.values(), total_alerts + retire)
    write_check_total(ctx, ws, lay.total_row, lay.checks.values())


def _write_chart(ctx: BuildContext, ws: Any, lay: ROILayout) -> None:
    """Clustered column: cumulative requirement vs cloud-segment revenue growth ($bn), §7; a
    missing year is a gap, never a zero bar."""
    first, last = L.FIRST_PERIOD_COL, ctx.timeline.last_actual_col
    categories = f"={SHEET}!{_a(L.YEAR_ROW, first)}:{_a(L.YEAR_ROW, last)}"
    ch = new_chart(ctx, "column", CHART_TITLE, "#,##0,", y_min=0)
    for key, (name, colour) in CHART_SERIES.items():
        r = lay.peer[key]
        ch.add_series({"name": name, "categories": categories,
                       "values": f"={SHEET}!{_a(r, first)}:{_a(r, last)}",
                       "fill": {"color": colour}, "border": {"none": True}})
    ws.insert_chart(lay.chart_row, 1, ch)
    ws.write_string(lay.chart_row + 15, 1, CHART_SOURCE, ctx.styles("note"))
    ws.write_string(lay.chart_row + 16, 1, CHART_NOTE, ctx.styles("note"))
