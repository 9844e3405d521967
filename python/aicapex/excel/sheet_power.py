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
* **Reference facility economics**: link rows, then the spilled CPX_DC_ECONOMICS block: the
  chain, revenue by two methods side by side (token-based: throughput x serving derate x
  utilisation x token price; capacity-based: GPUs x hours x utilisation x rental price per
  GPU-hour), the headline method and the rental cross-check in words.
* **AI-cloud backlog**: one block per company reporting RPO, CPX_VALUE links and
  CPX_BACKLOG_COVERAGE per fiscal year, with a per-year identity check.
* **Checks**: MW x capex per MW = capex, energy cost identity, each revenue method = GPU-hours
  sold x its price per GPU-hour, backlog identities; the sheet total goes to row 3. Alerts: the
  token method above ``in_RentalAlert`` x the rental benchmark (with the words), backlog gaps.
  A bar chart of tokens per joule by chip sits below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aicapex.engine import power as pw
from aicapex.engine.backlog import cloud_basis
from aicapex.engine.power_sources import (
    CHIP_FACTS,
    FACILITY_FACTS,
    REVENUE_METHOD_DEFAULT,
    REVENUE_METHOD_WHY,
    REVENUE_METHODS,
    TOKEN_PRICE_MODEL,
    WORKLOAD,
)
from aicapex.excel import layout as L
from aicapex.excel.layout import InputRow
from aicapex.excel.sheetkit import BuildContext, write_block, write_check_total
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

SHEET = "Power_Cloud"
TITLE = "Power & Cloud"
PURPOSE = ("Tokens per joule and capex per MW by chip (one workload: Llama 2 70B), a reference "
           "facility after running costs and depreciation (token- and capacity-based revenue, "
           "rental cross-check), AI-cloud backlog on cloud revenue; "
           "USD millions unless stated; fiscal years as reported (MSFT June, ORCL May)")
REFERENCE_CHIP = "GB200"
CHIPS = list(pw.CHIP_DEFAULTS)
D = pw.FACILITY_DEFAULTS


def _decimal(lo: float, hi: float) -> dict:
    return {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": hi}


def _fact_note(key: str) -> str:
    f = FACILITY_FACTS[key]
    return f"{f.grade}: {f.source}"


#: The power assumptions, each a sourced, graded fact (power_sources.FACILITY_FACTS); also the
#: InputRow entries the builder puts on Inputs (except the text-valued reference chip).
ASSUMPTIONS: list[InputRow] = [
    InputRow("in_PowerMW", "Reference facility power (grid)", "MW", D["facility_mw"],
             _decimal(0.1, 10_000), _fact_note("facility_mw")),
    InputRow("in_PUE", "Power usage effectiveness (PUE)", "x", D["pue"], _decimal(1, 3),
             _fact_note("pue")),
    InputRow("in_Utilization", "Utilisation (share of GPU-hours earning revenue)", "%",
             D["utilization"], _decimal(0, 1), _fact_note("utilization")),
    InputRow("in_ServingDerate", "Serving derate (served / peak benchmark throughput)", "%",
             D["serving_derate"], _decimal(0.01, 1), _fact_note("serving_derate")),
    InputRow("in_PowerPrice", "Electricity price", "$/MWh", D["electricity_usd_per_mwh"],
             _decimal(0, 1_000), _fact_note("electricity_usd_per_mwh")),
    InputRow("in_TokenPrice", f"Selling price per million tokens ({TOKEN_PRICE_MODEL})",
             "$/Mtok", D["price_per_mtok"], _decimal(0, 1_000), _fact_note("price_per_mtok")),
    InputRow("in_FacilityCapexMW", "Facility capex per MW of IT load", "$m",
             D["facility_capex_musd_per_mw"], _decimal(0, 100),
             _fact_note("facility_capex_musd_per_mw")),
    InputRow("in_NetworkShare", "Networking capex, share of accelerator capex", "%",
             D["networking_share"], _decimal(0, 1), _fact_note("networking_share")),
    InputRow("in_OMShare", "Operations and maintenance a year, share of capex", "%",
             D["om_share"], _decimal(0, 1), _fact_note("om_share")),
    InputRow("in_AccelLife", "Accelerator depreciation life", "yrs",
             D["accelerator_life_years"], _decimal(1, 30), _fact_note("accelerator_life_years")),
    InputRow("in_FacilityLife", "Facility depreciation life", "yrs", D["facility_life_years"],
             _decimal(1, 100), _fact_note("facility_life_years")),
    InputRow("in_IdleShare", "Power drawn while idle, share of full power", "%",
             D["idle_power_share"], _decimal(0, 1), _fact_note("idle_power_share")),
    InputRow("in_RentalAlert", "Alert: token revenue per GPU-hour above this x rental price",
             "x", D["rental_alert_multiple"], _decimal(0.01, 100),
             _fact_note("rental_alert_multiple")),
    InputRow("in_RevenueMethod", "Revenue behind payback and return (conservative = the lower)",
             "method", REVENUE_METHOD_DEFAULT,
             {"validate": "list", "source": list(REVENUE_METHODS)},
             f"analyst assumption: conservative uses {REVENUE_METHOD_WHY}; token or capacity "
             "forces one method"),
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
    "revenue_musd_per_year": ("Revenue a year, headline (method in words below)", "$m",
                              "musd1"),
    "capex_musd": ("Capex: facility plus accelerators", "$m", "musd1"),
    "capex_musd_per_mw": ("Capex per MW of IT load (engine)", "$m", "musd1"),
    "operating_profit_musd_per_year": ("Operating profit before depreciation (revenue - running "
                                       "costs)", "$m", "musd1"),
    "payback_years": ("Simple payback after running costs (undiscounted, pre-tax)", "years",
                      "phys"),
    "accelerator_capex_musd": ("Capex: accelerators", "$m", "musd1"),
    "networking_capex_musd": ("Capex: networking", "$m", "musd1"),
    "facility_capex_musd": ("Capex: facility (shell, power, cooling)", "$m", "musd1"),
    "om_cost_musd_per_year": ("Operations and maintenance a year", "$m", "musd1"),
    "running_costs_musd_per_year": ("Running costs a year (electricity incl. PUE + O&M)", "$m",
                                    "musd1"),
    "depreciation_musd_per_year": ("Depreciation a year (accelerators + facility)", "$m",
                                   "musd1"),
    "ebit_musd_per_year": ("Operating profit after depreciation", "$m", "musd1"),
    "return_on_capital": ("Return on capital, pre-tax (after depreciation / capex)", "%", "pct"),
    "revenue_usd_per_gpu_hour": ("Headline revenue per accelerator-hour of the year", "$/h",
                                 "phys"),
    "token_revenue_musd_per_year": ("Revenue a year, token-based (throughput x derate x "
                                    "utilisation x token price)", "$m", "musd1"),
    "capacity_revenue_musd_per_year": ("Revenue a year, capacity-based (GPUs x hours x "
                                       "utilisation x rental price)", "$m", "musd1"),
    "revenue_method_used": ("Headline method code (1 token-based, 2 capacity-based)", "code",
                            "general"),
    "gpu_hours_sold_per_year": ("GPU-hours earning revenue a year", "GPU-h", "musd"),
    "token_revenue_usd_per_sold_gpu_hour": ("Token-based revenue per busy GPU-hour", "$/h",
                                            "phys"),
    "rental_usd_per_gpu_hour": ("Rental benchmark per GPU-hour (reference chip)", "$/h", "phys"),
    "token_to_rental_multiple": ("Token-based revenue per GPU-hour / rental benchmark", "x",
                                 "mult"),
    "revenue_method": ("Headline revenue method, and why", "text", "general"),
    "rental_cross_check": ("Cross-check: token-based revenue against the rental price", "text",
                           "general"),
}
#: The rows of the spilled CPX_DC_ECONOMICS block: the figures, then the words.
DC_BLOCK = (*pw.DC_ECONOMICS_FIELDS, *pw.REVENUE_WORD_FIELDS)

CHART_SOURCE = (f"Source: throughput on one workload ({WORKLOAD}): Microsoft Azure (GB200 NVL72), "
                "NVIDIA (B200; H100 in MLPerf v4.1 closed), vendor claims; power from datasheets "
                "and industry reporting (see notes column); AI Capex Monitor calculations "
                "(CPX_TOKENS_PER_WATT). GB300: no figure on this workload (empty, never zero).")


@dataclass
class PowerLayout:
    assumptions: dict[str, int] = field(default_factory=dict)  # name -> row (local ones only)
    chip_tps: dict[str, int] = field(default_factory=dict)
    chip_watts: dict[str, int] = field(default_factory=dict)
    chip_usd: dict[str, int] = field(default_factory=dict)
    chip_rental: dict[str, int] = field(default_factory=dict)
    chip_tokj: dict[str, int] = field(default_factory=dict)
    chip_capex: dict[str, int] = field(default_factory=dict)
    dc_links: dict[str, int] = field(default_factory=dict)
    dc_rows: dict[str, int] = field(default_factory=dict)
    backlog: dict[str, dict[str, int]] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    alert_row: int = 0
    rental_alert_row: int = 0
    rental_words_row: int = 0
    alerts_total_row: int = 0
    total_row: int = 0
    chart_row: int = 0


#: The builder puts these on the Inputs sheet, under their own section.
INPUT_SECTION = ("Power and cloud assumptions (each with its grade and source)", ASSUMPTIONS)


def alert_ref(ds: Any) -> str:
    """Absolute reference of this sheet's alert count (summed on the Cover): the rental
    cross-check alert plus the backlog data gaps."""
    return f"Power_Cloud!{L.cell(power_layout(ds).alerts_total_row, 3, True, True)}"


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
            "electricity", "token_price", "facility_capex", "network_share", "om_share",
            "accel_life", "facility_life", "idle_share", "rental", "derate", "method",
            "alert_multiple"]


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
    for rows in (lay.chip_tps, lay.chip_watts, lay.chip_usd, lay.chip_rental):
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
    for key in DC_BLOCK:
        lay.dc_rows[key] = r
        r += 1
    r += 1
    for t in backlog_tickers(ds):
        lay.backlog[t] = {"header": r, "rpo": r + 1, "cloud": r + 2, "coverage_cloud": r + 3,
                          "revenue": r + 4, "coverage": r + 5, "check": r + 6}
        r += 8
    r += 1  # checks header
    for key in ("capex_it", "capex_facility", "energy_cost", "token_identity",
                "capacity_identity", *(f"backlog_{t}" for t in lay.backlog)):
        lay.checks[key] = r
        r += 1
    lay.rental_alert_row = r
    lay.rental_words_row = r + 1
    lay.alert_row = r + 2
    lay.alerts_total_row = r + 3
    lay.total_row = r + 4
    lay.chart_row = r + 6
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


def write_sheet(ctx: BuildContext, ws: Any) -> None:
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
        _section(ctx, ws, first - 1, "Assumptions (inputs; each with its grade and source in the notes)")
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
        (lay.chip_rental, "rental price per GPU-hour", "$/h", "rental_usd_per_gpu_hour", "phys",
         _decimal(0.05, 40)),
    ]
    for rows, what, unit, col, num, validation in specs:
        for chip, r in rows.items():
            _row_head(ctx, ws, r, f"{chip}: {what}", unit, indent=True)
            value = float(chips.loc[chip, col])
            _number_input(ctx, ws, r, value, num, validation, f"{chip} {unit}",
                          f"{unit}: {what}; engine default from the chip table")
            facts = CHIP_FACTS[chip]
            if col == "tokens_per_s_per_mw":
                f = facts["tokens_per_s_per_gpu"]
                note = (f"{f.grade}: {f.source}; per MW = per GPU / W per GPU" if f.grade
                        else f"EMPTY, type your own: {f.source}")
            elif col == "rental_usd_per_gpu_hour":
                f = facts["rental_usd_per_gpu_hour"]
                note = (f"{f.grade}: {f.source}" if f.grade
                        else f"EMPTY, type your own: {f.source}")
            elif col == "watts_per_gpu":
                spec, f = pw.CHIP_DEFAULTS[chip], facts["unit_watts"]
                note = (f"{f.grade}: {spec.unit}: {spec.unit_watts:,.0f} W / "
                        f"{spec.gpus_per_unit:g} GPUs; {f.source}")
            else:
                f = facts["unit_price_usd"]
                note = (f"EMPTY, type your own: {f.source}" if math.isnan(value)
                        else f"{f.grade}: {pw.CHIP_DEFAULTS[chip].unit_price_usd:,.0f} USD per "
                        f"unit / {pw.CHIP_DEFAULTS[chip].gpus_per_unit:g} GPUs; {f.source}")
            _note(ctx, ws, r, note)

    # Chip generations: engine results.
    _section(ctx, ws, min(lay.chip_tokj.values()) - 1,
             "Chip generations: engine results (CPX_TOKENS_PER_WATT, CPX_CAPEX_PER_MW)")
    tps_rng = f"$D{lay.chip_tps[CHIPS[0]] + 1}:$D{lay.chip_tps[CHIPS[-1]] + 1}"
    usd_rng = f"$D{lay.chip_usd[CHIPS[0]] + 1}:$D{lay.chip_usd[CHIPS[-1]] + 1}"
    w_rng = f"$D{lay.chip_watts[CHIPS[0]] + 1}:$D{lay.chip_watts[CHIPS[-1]] + 1}"

    def nan_none(v: float) -> float | None:
        return None if math.isnan(v) else v

    tokj = udfs.cpx_tokens_per_watt(
        [[nan_none(float(chips.loc[c, "tokens_per_s_per_mw"]))] for c in CHIPS], 1e6)
    write_block(ws, lay.chip_tokj[CHIPS[0]], 3, f"=CPX_TOKENS_PER_WATT({tps_rng},1000*1000)",
                tokj, s("engine", "phys3"))
    for chip, r in lay.chip_tokj.items():
        _row_head(ctx, ws, r, chip, "tok/J", indent=True)
        _note(ctx, ws, r, "Tokens per joule at IT level: throughput per MW / 1,000,000 W "
              f"({WORKLOAD.split(',')[0]}); one CPX_TOKENS_PER_WATT call spills over the chips")
    capex = udfs.cpx_capex_per_mw(
        [[nan_none(float(chips.loc[c, "price_per_gpu_usd"]))] for c in CHIPS],
        [[float(chips.loc[c, "watts_per_gpu"])] for c in CHIPS], values["in_FacilityCapexMW"])
    write_block(ws, lay.chip_capex[CHIPS[0]], 3,
                f"=CPX_CAPEX_PER_MW({usd_rng},{w_rng},in_FacilityCapexMW)", capex,
                s("engine", "musd1"))
    for chip, r in lay.chip_capex.items():
        _row_head(ctx, ws, r, f"{chip}: capex per MW of IT load", "$m", indent=True)
        _note(ctx, ws, r, "Facility capex per MW + USD per W of accelerators (USD/W = $m per "
              "MW); #N/A where the price is left for you")

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
             "Reference facility economics (CPX_DC_ECONOMICS: after running costs and depreciation)")
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
        "network_share": values["in_NetworkShare"], "om_share": values["in_OMShare"],
        "accel_life": values["in_AccelLife"], "facility_life": values["in_FacilityLife"],
        "idle_share": values["in_IdleShare"],
        "rental": float(chips.loc[chip, "rental_usd_per_gpu_hour"]),
        "derate": values["in_ServingDerate"], "method": values["in_RevenueMethod"],
        "alert_multiple": values["in_RentalAlert"],
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
        ("facility_capex", "Facility: capex per MW of IT load (shell, power, cooling)", "$m",
         "=in_FacilityCapexMW", "link", "musd1"),
        ("network_share", "Facility: networking capex, share of accelerators", "%",
         "=in_NetworkShare", "link", "pct"),
        ("om_share", "Facility: operations and maintenance, share of capex a year", "%",
         "=in_OMShare", "link", "pct"),
        ("accel_life", "Facility: accelerator depreciation life", "yrs", "=in_AccelLife", "link",
         "phys"),
        ("facility_life", "Facility: facility depreciation life", "yrs", "=in_FacilityLife",
         "link", "phys"),
        ("idle_share", "Facility: power drawn while idle, share", "%", "=in_IdleShare", "link",
         "pct"),
        ("rental", "Facility: rental price per GPU-hour (reference chip)", "$/h",
         pick(lay.chip_rental), "calc", "phys"),
        ("derate", "Facility: serving derate (served / peak throughput)", "%",
         "=in_ServingDerate", "link", "pct"),
        ("method", "Facility: revenue method behind payback and return", "method",
         "=in_RevenueMethod", "link", "text"),
        ("alert_multiple", "Facility: rental cross-check alert level", "x", "=in_RentalAlert",
         "link", "mult"),
    ]
    for key, label, unit, formula, role, num in rows:
        r = k[key]
        _row_head(ctx, ws, r, label, unit, indent=True)
        ws.write_formula(r, 3, formula, s(role, num), _cached(cache[key]))
    _note(ctx, ws, k["chip"], "Change the reference chip on the assumption row (in_RefChip)")
    _note(ctx, ws, k["tps"], "Same as the engine chip table's tokens_per_s_per_gpu")

    order = ["facility_mw", "pue", "watts", "tps", "utilization", "electricity", "token_price",
             "price", "facility_capex"]
    extra = ["network_share", "om_share", "accel_life", "facility_life", "idle_share", "rental",
             "derate", "method", "alert_multiple"]
    args = (",".join(f"D{k[x] + 1}" for x in order) + ",FALSE,"
            + ",".join(f"D{k[x] + 1}" for x in extra))
    result = udfs.cpx_dc_economics(*[cache[x] for x in order], False,
                                   *[cache[x] for x in extra])
    fields = dict((row[0], row[1]) for row in result) if isinstance(result, list) else {}
    first = lay.dc_rows[DC_BLOCK[0]]
    block = [[key, fields.get(key, XlError("#N/A"))] for key in DC_BLOCK]
    write_block(ws, first, 3, f"=CPX_DC_ECONOMICS({args})", block,
                row_formats=[s("engine", DC_ROWS[key][2]) for key in DC_BLOCK])
    for key in DC_BLOCK:
        r = lay.dc_rows[key]
        label, unit, num = DC_ROWS[key]
        _row_head(ctx, ws, r, label, unit)
    _note(ctx, ws, first, "One CPX_DC_ECONOMICS call spills field (column D) and value "
          "(column E) for every row of the chain")
    _note(ctx, ws, lay.dc_rows["revenue_musd_per_year"], "Payback and return on capital use this "
          "revenue: in_RevenueMethod, default conservative = the lower of the two methods below")
    _note(ctx, ws, lay.dc_rows["token_revenue_musd_per_year"], "Benchmark (MLPerf Offline) "
          "throughput x serving derate (Server / Offline) x utilisation x list token price")
    _note(ctx, ws, lay.dc_rows["capacity_revenue_musd_per_year"], "GPUs x 8,760 h x "
          "utilisation x the reference chip's public rental price per GPU-hour")
    return {**cache, **fields}


def _write_backlog(ctx: BuildContext, ws: Any, lay: PowerLayout) -> None:
    """One block per company reporting RPO: CPX_VALUE links, coverage, identity check."""
    from aicapex import udfs

    s = ctx.styles
    ds = ctx.ds
    tl = ctx.timeline
    for t, b in lay.backlog.items():
        hdr = b["header"]
        _section(ctx, ws, hdr, f"AI-cloud backlog: {L.COMPANY_NAMES[t]} ({t}), fiscal year ends "
                 f"{L.FY_END[t]}")
        ws.write_string(hdr, 3, t, s("section"))
        cached: dict[str, dict[int, Any]] = {}
        rb = ctx.ratios.blocks[t]
        for fld, label in (("rpo", "Remaining performance obligations (backlog)"),
                           ("cloud_segment_revenue", "cloud segment revenue"),
                           ("revenue", "Revenue")):
            r = b["cloud" if fld == "cloud_segment_revenue" else fld]
            _row_head(ctx, ws, r, f"{t}: {label} (link)", "$m", indent=True)
            ws.write_string(r, 3, fld, s("key"))
            cached[fld] = {}
            for c in tl.actual_cols():
                fy = tl.year_of(c)
                row = ds.row(t, fld, fy) if fld in ds.fields else None
                v = float(row["value_musd"]) if row is not None else XlError("#N/A")
                cached[fld][c] = v
                f = f"=Ratios!{L.col(c)}{rb.rows[fld] + 1}"
                ws.write_formula(r, c, f, s("link", "musd"), _cached(v))
            _note(ctx, ws, r, f"Link to the Ratios {t} block ({fld}); source: Sources sheet" + (
                f"; {cloud_basis(t, tl.last_actual_fy)}" if fld == "cloud_segment_revenue"
                else ""))
        first_c, last_c = L.col(tl.actual_cols()[0]), L.col(tl.actual_cols()[-1])
        for cov_key, denom, label, note in (
                ("coverage_cloud", "cloud_segment_revenue",
                 "backlog coverage on cloud revenue (RPO / cloud segment)",
                 "Years of cloud revenue under contract: the backlog is mostly cloud; #N/A where "
                 "a figure is not reported" + ("; basis break FY2022 to FY2023 (segment "
                                               "redefined)" if t == "MSFT" else "")),
                ("coverage", "revenue", "backlog coverage on total revenue (second line)",
                 "RPO / total revenue: mixes in businesses without a backlog")):
            r = b[cov_key]
            _row_head(ctx, ws, r, f"{t}: {label}", "x")
            den_row = b["cloud" if denom == "cloud_segment_revenue" else "revenue"]
            cols = list(tl.actual_cols())
            v = udfs.cpx_backlog_coverage([[cached["rpo"][c] for c in cols]],
                                          [[cached[denom][c] for c in cols]])
            f = (f"=CPX_BACKLOG_COVERAGE({first_c}{b['rpo'] + 1}:{last_c}{b['rpo'] + 1},"
                 f"{first_c}{den_row + 1}:{last_c}{den_row + 1})")
            write_block(ws, r, cols[0], f, v, s("engine", "mult"))
            _note(ctx, ws, r, note)
        r = b["check"]
        _row_head(ctx, ws, r, f"{t}: check coverage x revenue = RPO (0 = holds)", "flag")
        for c in ctx.timeline.actual_cols():
            cl = L.col(c)
            cv, rv, rp = (f"{cl}{b[x] + 1}" for x in ("coverage", "revenue", "rpo"))
            f = f"=IF(ISNUMBER({cv}),--(ABS({cv}*{rv}-{rp})>in_CheckTol),0)"
            ws.write_formula(r, c, f, s("calc", "check"), 0)
        _check_format(ctx, ws, ctx.timeline.period_range(r))


def _write_checks(ctx: BuildContext, ws: Any, lay: PowerLayout, dc: dict, values: dict) -> None:
    s = ctx.styles
    c = lay.checks
    _section(ctx, ws, min(c.values()) - 1, "Checks (0 = pass) and alerts")
    k = lay.dc_links

    class _Cells(dict):  # chain values sit in column E of the spilled block; the rest in D
        def __getitem__(self, key: str) -> str:
            return _a(lay.dc_rows[key], 4 if key in DC_BLOCK else 3)

    d = _Cells()
    rows = {
        "capex_it": ("IT MW x capex per MW (engine) equals capex",
                     f"=--(ABS({d['it_mw']}*{d['capex_musd_per_mw']}-{d['capex_musd']})"
                     ">in_CheckTol)"),
        "capex_facility": ("Facility MW x capex per IT MW / PUE equals capex",
                           f"=--(ABS({_a(k['facility_mw'])}*{d['capex_musd_per_mw']}"
                           f"/{_a(k['pue'])}-{d['capex_musd']})>in_CheckTol)"),
        "energy_cost": ("Energy cost equals MWh x price per MWh",
                        f"=--(ABS({d['energy_mwh_per_year']}*{_a(k['electricity'])}/1000/1000"
                        f"-{d['energy_cost_musd_per_year']})>in_CheckTol)"),
        # each revenue method = GPU-hours earning revenue x its price per GPU-hour ($m = $/1e6)
        "token_identity": ("Token-based revenue equals GPU-hours x revenue per busy GPU-hour",
                           _identity(d["token_revenue_musd_per_year"],
                                     d["gpu_hours_sold_per_year"],
                                     d["token_revenue_usd_per_sold_gpu_hour"])),
        "capacity_identity": ("Capacity-based revenue equals GPU-hours x rental price",
                              _identity(d["capacity_revenue_musd_per_year"],
                                        d["gpu_hours_sold_per_year"],
                                        d["rental_usd_per_gpu_hour"])),
    }
    for t, b in lay.backlog.items():
        rows[f"backlog_{t}"] = (f"Backlog coverage x revenue equals RPO for {t} in every year",
                                f"=MIN(1,SUM({ctx.timeline.period_range(b['check'])}))")
    for key, r in c.items():
        label, f = rows[key]
        _row_head(ctx, ws, r, label, "flag")
        ws.write_formula(r, 3, f, s("calc", "check"), 0)
        _check_format(ctx, ws, L.cell(r, 3))
    r = lay.rental_alert_row
    _row_head(ctx, ws, r, "Alert: token-based revenue per GPU-hour above in_RentalAlert x the "
              "rental benchmark", "alert")
    mult = d["token_to_rental_multiple"]
    multiple = dc.get("token_to_rental_multiple")
    flagged = int(isinstance(multiple, float) and multiple > values["in_RentalAlert"])
    ws.write_formula(r, 3, f"=IF(ISNUMBER({mult}),--({mult}>in_RentalAlert),0)",
                     s("calc", "alert"), flagged)
    _alert_format(ctx, ws, L.cell(r, 3))
    _note(ctx, ws, r, "1 = selling tokens at the list price would earn several times what the "
          "market pays to rent the same GPU: the token inputs overstate; the words are below")
    r = lay.rental_words_row
    _row_head(ctx, ws, r, "Alert in words (link to the engine's cross-check)", "text")
    ws.write_formula(r, 3, f"={d['rental_cross_check']}", s("link", "text"),
                     _cached(dc.get("rental_cross_check", "")))
    r = lay.alert_row
    _row_head(ctx, ws, r, "Alert: backlog cells without a value (RPO or revenue not reported)",
              "alert")
    if lay.backlog:
        blocks = list(lay.backlog.values())
        first_cell = L.cell(blocks[0]["rpo"], L.FIRST_PERIOD_COL)
        last_cell = L.cell(blocks[-1]["check"], L.FIRST_PERIOD_COL + ctx.timeline.n_actual - 1)
        ws.write_formula(r, 3, f"=SUMPRODUCT(--ISERROR({first_cell}:{last_cell}))",
                         s("calc", "alert"), 0)
        _note(ctx, ws, r, "Known gaps (see Sources); an unreported figure also leaves its "
              "coverage #N/A, so each gap counts twice")
    _alert_format(ctx, ws, L.cell(r, 3))
    r = lay.alerts_total_row
    _row_head(ctx, ws, r, "Alerts on this sheet (summed on the Cover)", "alert")
    ws.write_formula(r, 3, f"={L.cell(lay.rental_alert_row, 3)}+{L.cell(lay.alert_row, 3)}",
                     s("calc", "alert"), flagged)
    _alert_format(ctx, ws, L.cell(r, 3))
    write_check_total(ctx, ws, lay.total_row, c.values())


def _identity(total: str, hours: str, per_hour: str) -> str:
    """Check flag: ``total`` ($m) = ``hours`` x ``per_hour`` ($) / 1e6, 0 when a figure is
    missing (the gap is reported where it arises, not as a failed check)."""
    return (f"=IF(ISNUMBER({total}),--(ABS({total}*1000*1000-{hours}*{per_hour})"
            f">in_CheckTol*1000*1000),0)")


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
