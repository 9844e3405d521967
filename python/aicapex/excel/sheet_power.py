"""The Power_Cloud sheet ("Power & Cloud"): chip generations, a reference data-center facility
and the AI-cloud backlog, on the shared timeline grid (WORKBOOK_STYLE.md §2–6).

Blocks, top to bottom:

* **Assumptions (inputs)**: facility MW, PUE, utilisation, electricity and token prices, facility
  capex per MW, reference chip. Each is a workbook name (``in_PowerMW``...). An assumption whose
  name is already an Inputs row (:data:`aicapex.excel.layout.INPUT_ROWS`) is not repeated here,
  so moving them to Inputs changes no formula.
* **Chip generations: vendor figures (inputs)**: per chip, throughput per MW of IT load, all-in W
  and USD per accelerator, seeded from :func:`aicapex.engine.power.chip_table`.
* **Chip generations: engine results**: CPX_TOKENS_PER_WATT and CPX_CAPEX_PER_MW per chip.
* **Reference facility economics**: link rows, then one row per CPX_DC_ECONOMICS field (the
  field key sits in the notes column; each row picks its field with INDEX/MATCH).
* **AI-cloud backlog**: one block per company reporting RPO, CPX_VALUE links and
  CPX_BACKLOG_COVERAGE per fiscal year, with a per-year identity check.
* **Checks**: MW x capex per MW = capex, energy cost identity, backlog identities; the sheet
  total goes to row 3. A bar chart of tokens per joule by chip sits below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aicapex.engine import power as pw
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
from aicapex.xlerrors import XlError

#: The timeline of the workbook being written (set by ``write_sheet`` from ``ctx.timeline``;
#: interim module state until this sheet takes the timeline from its context everywhere).
_TL = L.Timeline(last_actual_fy=L.FIRST_FY)

SHEET = "Power_Cloud"
TITLE = "Power & Cloud"
PURPOSE = ("Tokens per joule and capex per MW by chip, a reference facility, AI-cloud backlog; "
           "USD millions unless stated; fiscal years as reported (MSFT June, ORCL May)")
REFERENCE_CHIP = "GB200"
CHIPS = list(pw.CHIP_DEFAULTS)


def _decimal(lo: float, hi: float) -> dict:
    return {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": hi}


#: The power assumptions (illustrative, not reported figures); also the InputRow entries to add
#: to ``layout.INPUT_ROWS`` to move them to Inputs (except the text-valued reference chip).
ASSUMPTIONS: list[InputRow] = [
    InputRow("in_PowerMW", "Reference facility power (grid)", "MW", 100.0, _decimal(0.1, 10_000),
             "Illustrative 100 MW campus; grid power = IT load x PUE"),
    InputRow("in_PUE", "Power usage effectiveness (PUE)", "x", 1.2, _decimal(1, 3),
             "Facility / IT power, 1 to 3 (1.1-1.6 typical); illustrative"),
    InputRow("in_Utilization", "Utilisation (share of the year at peak throughput)", "%", 0.6,
             _decimal(0, 1), "Fraction 0-1; illustrative"),
    InputRow("in_PowerPrice", "Electricity price", "$/MWh", 80.0, _decimal(0, 1_000),
             "USD per MWh (not per kWh); illustrative"),
    InputRow("in_TokenPrice", "Selling price per million tokens", "$/Mtok", 2.0, _decimal(0, 1_000),
             "USD per million tokens; illustrative"),
    InputRow("in_FacilityCapexMW", "Facility capex per MW of IT load", "$m", 10.7,
             _decimal(0, 100), "Shell, power and cooling; CBRE average ~7.7 to ~10.7 $m per MW"),
    InputRow("in_RefChip", "Reference chip for the facility economics", "chip", REFERENCE_CHIP,
             {"validate": "list", "source": CHIPS}, "One of the chips below"),
]

#: DC_ECONOMICS_FIELDS -> (label, unit, number format).
DC_ROWS: dict[str, tuple[str, str, str]] = {
    "facility_mw": ("Facility power, as used by the engine", "MW", "phys"),
    "it_mw": ("IT load (facility power / PUE)", "MW", "phys"),
    "accelerators": ("Accelerators installed", "#", "musd"),
    "tokens_per_s": ("Peak throughput of the facility", "tok/s", "musd"),
    "tokens_per_joule_it": ("Tokens per joule, IT level", "tok/J", "phys3"),
    "tokens_per_joule": ("Tokens per joule, facility level (after PUE)", "tok/J", "phys3"),
    "joules_per_token": ("Joules per token, facility level", "J/tok", "phys3"),
    "annual_tokens": ("Tokens served a year", "tokens", "general"),
    "energy_mwh_per_year": ("Energy drawn a year", "MWh", "musd"),
    "energy_cost_musd_per_year": ("Energy cost a year", "$m", "musd1"),
    "energy_cost_per_mtok": ("Energy cost per million tokens", "$/Mtok", "phys3"),
    "revenue_musd_per_year": ("Revenue a year at the selling price", "$m", "musd1"),
    "capex_musd": ("Capex: facility plus accelerators", "$m", "musd1"),
    "capex_musd_per_mw": ("Capex per MW of IT load (engine)", "$m", "musd1"),
    "operating_profit_musd_per_year": ("Operating profit a year (revenue - energy)", "$m", "musd1"),
    "payback_years": ("Simple payback (undiscounted, pre-tax)", "years", "phys"),
}

CHART_SOURCE = ("Source: NVIDIA vendor claims and datasheets (see notes column); AI Capex Monitor "
                "calculations (CPX_TOKENS_PER_WATT). B200: no sourced throughput figure.")


@dataclass
class PowerLayout:
    assumptions: dict[str, int] = field(default_factory=dict)  # name -> row (local ones only)
    chip_tps: dict[str, int] = field(default_factory=dict)
    chip_watts: dict[str, int] = field(default_factory=dict)
    chip_usd: dict[str, int] = field(default_factory=dict)
    chip_tokj: dict[str, int] = field(default_factory=dict)
    chip_capex: dict[str, int] = field(default_factory=dict)
    dc_links: dict[str, int] = field(default_factory=dict)
    dc_rows: dict[str, int] = field(default_factory=dict)
    backlog: dict[str, dict[str, int]] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    alert_row: int = 0
    total_row: int = 0
    chart_row: int = 0


#: The builder puts these on the Inputs sheet, under their own section.
INPUT_SECTION = ("Power and cloud assumptions (illustrative)", ASSUMPTIONS)


def alert_ref(ds: Any) -> str:
    """Absolute reference of this sheet's data-gap alert count (summed on the Cover)."""
    return f"Power_Cloud!{L.cell(power_layout(ds).alert_row, 3, True, True)}"


def _on_inputs() -> set[str]:
    return {r.name for r in L.INPUT_ROWS if r.name} | {a.name for a in ASSUMPTIONS}


def backlog_tickers(ds: Any) -> list[str]:
    """Covered companies that report any RPO, in the fixed coverage order."""
    out = []
    for t in L.COVERAGE:
        if t not in ds.tickers:
            continue
        w = ds.wide(t)
        if "rpo" in w.columns and w["rpo"].notna().any():
            out.append(t)
    return out


DC_LINKS = ["facility_mw", "pue", "chip", "watts", "tokj", "tps", "price", "utilization",
            "electricity", "token_price", "facility_capex"]


def power_layout(ds: Any) -> PowerLayout:
    lay = PowerLayout()
    r = L.HEADER_ROWS + 1
    local = [a for a in ASSUMPTIONS if a.name not in _on_inputs()]
    if local:
        r += 1  # section header
        for a in local:
            lay.assumptions[a.name] = r
            r += 1
        r += 1
    r += 1  # chip inputs header
    for rows in (lay.chip_tps, lay.chip_watts, lay.chip_usd):
        for chip in CHIPS:
            rows[chip] = r
            r += 1
    r += 2  # blank, engine-results header
    for rows in (lay.chip_tokj, lay.chip_capex):
        for chip in CHIPS:
            rows[chip] = r
            r += 1
    r += 2
    for key in DC_LINKS:
        lay.dc_links[key] = r
        r += 1
    for key in [*pw.DC_ECONOMICS_FIELDS, "capex_per_facility_mw"]:
        lay.dc_rows[key] = r
        r += 1
    r += 1
    for t in backlog_tickers(ds):
        lay.backlog[t] = {"header": r, "rpo": r + 1, "revenue": r + 2, "coverage": r + 3,
                          "check": r + 4}
        r += 6
    r += 1  # checks header
    for key in ("capex_it", "capex_facility", "energy_cost", *(f"backlog_{t}" for t in lay.backlog)):
        lay.checks[key] = r
        r += 1
    lay.alert_row = r
    lay.total_row = r + 1
    lay.chart_row = r + 3
    return lay


# -- helpers ----------------------------------------------------------------------------------------



def _d(r: int) -> str:
    """Column-anchored reference to column D of row ``r``: ``$D12``."""
    return f"$D{r + 1}"





def _number_input(ctx: BuildContext, ws: Any, r: int, value: float, num: str, validation: dict,
                  title: str, message: str) -> None:
    s = ctx.styles
    if value is None or (isinstance(value, float) and math.isnan(value)):
        ws.write_blank(r, 3, None, s("input", num))
    else:
        ws.write_number(r, 3, float(value), s("input", num))
    ws.data_validation(r, 3, r, 3, {**validation, "error_type": "stop", "input_title": title[:32],
                                    "input_message": message[:255]})


# -- the sheet --------------------------------------------------------------------------------------


def _use_timeline(tl: L.Timeline) -> None:
    global _TL
    _TL = tl


def write_sheet(ctx: BuildContext, ws: Any) -> None:
    _use_timeline(ctx.timeline)
    """Write the Power_Cloud sheet (registered in ``builder.EXTRA_SHEETS``)."""
    from aicapex import udfs

    s = ctx.styles
    lay = power_layout(ctx.ds)
    _timeline_header(ctx, ws, TITLE, PURPOSE)
    _sheet_check_cells(ctx, ws, _a(lay.total_row))
    values = {a.name: a.value for a in ASSUMPTIONS}
    values.update({r.name: r.value for r in L.INPUT_ROWS if r.name in values})
    chips = pw.chip_table()
    chips.index = chips["chip"]

    # Assumptions (inputs) not already on Inputs.
    if lay.assumptions:
        first = min(lay.assumptions.values())
        _section(ctx, ws, first - 1, "Assumptions (inputs; illustrative, not reported figures)")
        num = {"MW": "phys", "x": "phys", "%": "pct", "$/MWh": "musd1", "$/Mtok": "musd1",
               "$m": "musd1"}
        for a in ASSUMPTIONS:
            r = lay.assumptions.get(a.name)
            if r is None:
                continue
            _row_head(ctx, ws, r, a.label, a.unit)
            if isinstance(a.value, str):
                ws.write_string(r, 3, a.value, s("input"))
                ws.data_validation(r, 3, r, 3, {**a.validation, "error_type": "stop",
                                                "input_title": a.label[:32],
                                                "input_message": a.note})
            else:
                _number_input(ctx, ws, r, a.value, num.get(a.unit, "general"), a.validation,
                              a.label, f"{a.unit}: {a.note}")
            _note(ctx, ws, r, a.note)
            ctx.wb.define_name(a.name, f"={SHEET}!{_a(r)}")

    # Chip generations: vendor figures (inputs).
    _section(ctx, ws, min(lay.chip_tps.values()) - 1,
             "Chip generations: vendor figures (inputs; per accelerator = GPU incl. host share)")
    specs = [
        (lay.chip_tps, "throughput per MW of IT load", "tok/s", "tokens_per_s_per_mw", "musd",
         _decimal(0, 1e9)),
        (lay.chip_watts, "all-in power per accelerator", "W", "watts_per_gpu", "musd",
         _decimal(50, 5_000)),
        (lay.chip_usd, "all-in price per accelerator", "$", "price_per_gpu_usd", "musd",
         _decimal(1_000, 1e6)),
    ]
    for rows, what, unit, col, num, validation in specs:
        for chip, r in rows.items():
            _row_head(ctx, ws, r, f"{chip}: {what}", unit, indent=True)
            value = float(chips.loc[chip, col])
            _number_input(ctx, ws, r, value, num, validation, f"{chip} {unit}",
                          f"{unit}: {what}; engine default from the chip table")
            if col == "tokens_per_s_per_mw":
                note = chips.loc[chip, "claim"]
            elif col == "watts_per_gpu":
                spec = pw.CHIP_DEFAULTS[chip]
                note = (f"{spec.unit}: {spec.unit_watts:,.0f} W / {spec.gpus_per_unit:g} GPUs; "
                        + spec.source)
            else:
                note = ("no sourced price; type your own" if math.isnan(value)
                        else f"{pw.CHIP_DEFAULTS[chip].unit_price_usd:,.0f} USD per unit / "
                        f"{pw.CHIP_DEFAULTS[chip].gpus_per_unit:g} GPUs (not independently verified)")
            _note(ctx, ws, r, note)

    # Chip generations: engine results.
    _section(ctx, ws, min(lay.chip_tokj.values()) - 1,
             "Chip generations: engine results (CPX_TOKENS_PER_WATT, CPX_CAPEX_PER_MW)")
    for chip, r in lay.chip_tokj.items():
        _row_head(ctx, ws, r, chip, "tok/J", indent=True)
        tps = float(chips.loc[chip, "tokens_per_s_per_mw"])
        cached = udfs.cpx_tokens_per_watt(None if math.isnan(tps) else tps, 1e6)
        ws.write_formula(r, 3, f"=CPX_TOKENS_PER_WATT({_d(lay.chip_tps[chip])},1000*1000)",
                         s("engine", "phys3"), _cached(cached))
        _note(ctx, ws, r, "Tokens per joule at IT level: throughput per MW / 1,000,000 W")
    for chip, r in lay.chip_capex.items():
        _row_head(ctx, ws, r, f"{chip}: capex per MW of IT load", "$m", indent=True)
        price = float(chips.loc[chip, "price_per_gpu_usd"])
        cached = udfs.cpx_capex_per_mw(None if math.isnan(price) else price,
                                       float(chips.loc[chip, "watts_per_gpu"]),
                                       values["in_FacilityCapexMW"])
        f = f"=CPX_CAPEX_PER_MW({_d(lay.chip_usd[chip])},{_d(lay.chip_watts[chip])},in_FacilityCapexMW)"
        ws.write_formula(r, 3, f, s("engine", "musd1"), _cached(cached))
        _note(ctx, ws, r, "Facility capex per MW + USD per W of accelerators (USD/W = $m per MW)")

    dc = _write_dc(ctx, ws, lay, chips, values)
    _write_backlog(ctx, ws, lay)
    _write_checks(ctx, ws, lay, dc, values)
    _write_chart(ctx, ws, lay)


def _write_dc(ctx: BuildContext, ws: Any, lay: PowerLayout, chips: Any, values: dict) -> dict:
    """Reference facility: link rows, then one row per CPX_DC_ECONOMICS field. Returns the
    cached values by key (links and fields)."""
    from aicapex import udfs

    s = ctx.styles
    k = lay.dc_links
    _section(ctx, ws, k["facility_mw"] - 1,
             "Reference facility economics (CPX_DC_ECONOMICS; reference chip, illustrative inputs)")
    chip = str(values["in_RefChip"])
    names = [L.cell(lay.chip_tokj[c], 1, True, True) for c in (CHIPS[0], CHIPS[-1])]
    name_rng = ":".join(names)

    def pick(rows: dict[str, int]) -> str:
        rng = f"{_a(rows[CHIPS[0]])}:{_a(rows[CHIPS[-1]])}"
        return f"=INDEX({rng},MATCH({_a(k['chip'])},{name_rng},0))"

    watts = float(chips.loc[chip, "watts_per_gpu"])
    tokj = float(chips.loc[chip, "tokens_per_joule"])
    cache = {
        "facility_mw": values["in_PowerMW"], "pue": values["in_PUE"], "chip": chip,
        "watts": watts, "tokj": tokj, "tps": tokj * watts,
        "price": float(chips.loc[chip, "price_per_gpu_usd"]),
        "utilization": values["in_Utilization"], "electricity": values["in_PowerPrice"],
        "token_price": values["in_TokenPrice"], "facility_capex": values["in_FacilityCapexMW"],
    }
    rows = [
        ("facility_mw", "Facility: power (grid)", "MW", "=in_PowerMW", "link", "phys"),
        ("pue", "Facility: PUE", "x", "=in_PUE", "link", "phys"),
        ("chip", "Facility: reference chip", "chip", "=in_RefChip", "link", "text"),
        ("watts", "Facility: all-in power per accelerator", "W", pick(lay.chip_watts), "calc",
         "musd"),
        ("tokj", "Facility: tokens per joule (IT level)", "tok/J", pick(lay.chip_tokj), "calc",
         "phys3"),
        ("tps", "Facility: throughput per accelerator (tok/J x W)", "tok/s",
         f"={_a(k['tokj'])}*{_a(k['watts'])}", "calc", "musd1"),
        ("price", "Facility: all-in price per accelerator", "$", pick(lay.chip_usd), "calc",
         "musd"),
        ("utilization", "Facility: utilisation", "%", "=in_Utilization", "link", "pct"),
        ("electricity", "Facility: electricity price", "$/MWh", "=in_PowerPrice", "link", "musd1"),
        ("token_price", "Facility: selling price per million tokens", "$/Mtok", "=in_TokenPrice", "link",
         "musd1"),
        ("facility_capex", "Facility: capex per MW of IT load (shell, power, cooling)", "$m", "=in_FacilityCapexMW", "link",
         "musd1"),
    ]
    for key, label, unit, formula, role, num in rows:
        r = k[key]
        _row_head(ctx, ws, r, label, unit, indent=True)
        ws.write_formula(r, 3, formula, s(role, num), _cached(cache[key]))
    _note(ctx, ws, k["chip"], "Change the reference chip on the assumption row (in_RefChip)")
    _note(ctx, ws, k["tps"], "Same as the engine chip table's tokens_per_s_per_gpu")

    order = ["facility_mw", "pue", "watts", "tps", "utilization", "electricity", "token_price",
             "price", "facility_capex"]
    args = ",".join(_a(k[x]) for x in order)
    result = udfs.cpx_dc_economics(*[cache[x] for x in order], False)
    fields = dict((row[0], row[1]) for row in result) if isinstance(result, list) else {}
    first, last = lay.dc_rows[pw.DC_ECONOMICS_FIELDS[0]], lay.dc_rows[pw.DC_ECONOMICS_FIELDS[-1]]
    keys = f"{L.cell(first, _TL.notes_col, True, True)}:{L.cell(last, _TL.notes_col, True, True)}"
    for key in pw.DC_ECONOMICS_FIELDS:
        r = lay.dc_rows[key]
        label, unit, num = DC_ROWS[key]
        _row_head(ctx, ws, r, label, unit)
        key_ref = L.cell(r, _TL.notes_col, False, True)
        f = f"=INDEX(CPX_DC_ECONOMICS({args},FALSE),MATCH({key_ref},{keys},0),2)"
        ws.write_formula(r, 3, f, s("engine", num), _cached(fields.get(key, XlError("#N/A"))))
        ws.write_string(r, _TL.notes_col, key, s("key"))
    r = lay.dc_rows["capex_per_facility_mw"]
    _row_head(ctx, ws, r, "Capex per MW of facility power (CPX_CAPEX_PER_MW at the site PUE)", "$m")
    f = (f"=CPX_CAPEX_PER_MW({_a(k['price'])},{_a(k['watts'])},{_a(k['facility_capex'])},"
         f"{_a(k['pue'])})")
    cached = udfs.cpx_capex_per_mw(cache["price"], watts, cache["facility_capex"], cache["pue"])
    ws.write_formula(r, 3, f, s("engine", "musd1"), _cached(cached))
    _note(ctx, ws, r, "Cross-check of the engine chain: facility MW x this = capex")
    fields["capex_per_facility_mw"] = cached
    return {**cache, **fields}


def _write_backlog(ctx: BuildContext, ws: Any, lay: PowerLayout) -> None:
    """One block per company reporting RPO: CPX_VALUE links, coverage, identity check."""
    from aicapex import udfs

    s = ctx.styles
    ds = ctx.ds
    for t, b in lay.backlog.items():
        hdr = b["header"]
        _section(ctx, ws, hdr, f"AI-cloud backlog: {L.COMPANY_NAMES[t]} ({t}), fiscal year ends "
                 f"{L.FY_END[t]}")
        ws.write_string(hdr, 3, t, s("section"))
        key = _a(hdr)
        cached: dict[str, dict[int, Any]] = {}
        for fld, label in (("rpo", "Remaining performance obligations (backlog)"),
                           ("revenue", "Revenue")):
            r = b[fld]
            _row_head(ctx, ws, r, f"{t}: {label}", "$m", indent=True)
            ws.write_string(r, 3, fld, s("key"))
            cached[fld] = {}
            for c in _TL.actual_cols():
                fy = _TL.first_fy + c - L.FIRST_PERIOD_COL
                row = ds.row(t, fld, fy) if fld in ds.fields else None
                v = float(row["value_musd"]) if row is not None else XlError("#N/A")
                cached[fld][c] = v
                f = f"=CPX_VALUE({key},$D{r + 1},{L.col(c)}$4)"
                ws.write_formula(r, c, f, s("engine", "musd"), _cached(v))
            _note(ctx, ws, r, f"Reported {fld}; source: Sources sheet")
        r = b["coverage"]
        _row_head(ctx, ws, r, f"{t}: backlog coverage (RPO / revenue)", "x")
        cov = {}
        for c in _TL.actual_cols():
            rpo, rev = cached["rpo"][c], cached["revenue"][c]
            v = udfs.cpx_backlog_coverage(rpo, rev)
            cov[c] = v
            f = f"=CPX_BACKLOG_COVERAGE({L.col(c)}{b['rpo'] + 1},{L.col(c)}{b['revenue'] + 1})"
            ws.write_formula(r, c, f, s("engine", "mult"), _cached(v))
        _note(ctx, ws, r, "Years of revenue under contract; #N/A where RPO is not reported")
        r = b["check"]
        _row_head(ctx, ws, r, f"{t}: check coverage x revenue = RPO (0 = holds)", "flag")
        for c in _TL.actual_cols():
            cl = L.col(c)
            cv, rv, rp = (f"{cl}{b[x] + 1}" for x in ("coverage", "revenue", "rpo"))
            f = f"=IF(ISNUMBER({cv}),--(ABS({cv}*{rv}-{rp})>in_CheckTol),0)"
            ws.write_formula(r, c, f, s("calc", "check"), 0)
        _check_format(ctx, ws, _TL.period_range(r))


def _write_checks(ctx: BuildContext, ws: Any, lay: PowerLayout, dc: dict, values: dict) -> None:
    s = ctx.styles
    c = lay.checks
    _section(ctx, ws, min(c.values()) - 1, "Checks (0 = pass) and alerts")
    k, d = lay.dc_links, lay.dc_rows
    rows = {
        "capex_it": ("IT MW x capex per MW (engine) equals capex",
                     f"=--(ABS({_a(d['it_mw'])}*{_a(d['capex_musd_per_mw'])}-{_a(d['capex_musd'])})"
                     ">in_CheckTol)"),
        "capex_facility": ("Facility MW x capex per MW (CPX_CAPEX_PER_MW) equals capex",
                           f"=--(ABS({_a(k['facility_mw'])}*{_a(d['capex_per_facility_mw'])}"
                           f"-{_a(d['capex_musd'])})>in_CheckTol)"),
        "energy_cost": ("Energy cost equals MWh x price per MWh",
                        f"=--(ABS({_a(d['energy_mwh_per_year'])}*{_a(k['electricity'])}/1000/1000"
                        f"-{_a(d['energy_cost_musd_per_year'])})>in_CheckTol)"),
    }
    for t, b in lay.backlog.items():
        rows[f"backlog_{t}"] = (f"Backlog coverage x revenue equals RPO for {t} in every year",
                                f"=MIN(1,SUM({_TL.period_range(b['check'])}))")
    for key, r in c.items():
        label, f = rows[key]
        _row_head(ctx, ws, r, label, "flag")
        ws.write_formula(r, 3, f, s("calc", "check"), 0)
        _check_format(ctx, ws, L.cell(r, 3))
    r = lay.alert_row
    _row_head(ctx, ws, r, "Alert: backlog cells without a value (RPO or revenue not reported)",
              "alert")
    if lay.backlog:
        blocks = list(lay.backlog.values())
        first_cell = L.cell(blocks[0]["rpo"], L.FIRST_PERIOD_COL)
        last_cell = L.cell(blocks[-1]["check"], L.FIRST_PERIOD_COL + _TL.n_actual - 1)
        ws.write_formula(r, 3, f"=SUMPRODUCT(--ISERROR({first_cell}:{last_cell}))",
                         s("calc", "alert"), 0)
        _note(ctx, ws, r, "Known gaps (see Sources); an unreported figure also leaves its "
              "coverage #N/A, so each gap counts twice")
    _alert_format(ctx, ws, L.cell(r, 3))
    r = lay.total_row
    ws.write_string(r, 1, "Sheet check (0 = all checks pass)", s("total"))
    ws.write_string(r, 2, "flag", s("unit"))
    first, last = min(c.values()), max(c.values())
    ws.write_formula(r, 3, f"=MIN(1,SUM({L.cell(first, 3)}:{L.cell(last, 3)}))", s("total", "check"), 0)
    _check_format(ctx, ws, L.cell(r, 3))


def _write_chart(ctx: BuildContext, ws: Any, lay: PowerLayout) -> None:
    """Horizontal bar chart: tokens per joule by chip generation (WORKBOOK_STYLE §7)."""
    first, last = lay.chip_tokj[CHIPS[0]], lay.chip_tokj[CHIPS[-1]]
    ch = ctx.wb.add_chart({"type": "bar"})
    ch.add_series({
        "name": "Tokens per joule",
        "categories": f"={SHEET}!{L.cell(first, 1, True, True)}:{L.cell(last, 1, True, True)}",
        "values": f"={SHEET}!{_a(first)}:{_a(last)}",
        "fill": {"color": "#1F3864"},
        "border": {"none": True},
        "data_labels": {"value": True, "num_format": "0.00"},
    })
    ch.set_title({"name": "Tokens per joule by chip generation, IT level (tok/J; vendor claims)",
                  "name_font": {"size": 11}})
    ch.set_legend({"none": True})
    ch.set_y_axis({"num_format": "0.0", "min": 0,
                   "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    ch.set_size({"width": 480, "height": 288})
    ws.insert_chart(lay.chart_row, 1, ch)
    ws.write_string(lay.chart_row + 15, 1, CHART_SOURCE, ctx.styles("note"))
