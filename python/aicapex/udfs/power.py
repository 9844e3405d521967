"""CPX_ power and AI-cloud functions: tokens per joule, data-center economics, capex per MW,
backlog coverage and the chip table (thin wrappers over :mod:`aicapex.engine.power`)."""

from __future__ import annotations

import math
from typing import Any

from aicapex.engine import power as pw
from aicapex.udfs.arguments import (
    cpx_function,
    elementwise,
    flag,
    is_blank,
    number,
    optional_vector,
    table,
    text,
    vector,
)
from aicapex.xlerrors import XlError

HEADERS = "TRUE (default) to include a header row"


# -- functions ------------------------------------------------------------------------------------


@cpx_function(
    tokens_per_s="Throughput, tokens per second (cell or row/column range)",
    watts="Power drawn for that throughput, W (1 MW = 1,000,000 W; same shape)",
)
def cpx_tokens_per_watt(tokens_per_s, watts) -> Any:
    """Tokens per joule = tokens/s / W (NVIDIA Hopper claim: 180,000 / 1,000,000 = 0.18)."""
    args = [vector(tokens_per_s, "tokens_per_s"), vector(watts, "watts")]
    return elementwise(pw.tokens_per_watt, args, ["tokens_per_s", "watts"])


@cpx_function(
    facility_mw="Facility (grid) power, MW, in (0, 10,000]",
    pue="Power usage effectiveness (facility / IT power), in [1, 3]",
    watts_per_accelerator="All-in power per accelerator incl. host and networking, W, in [50, 5000]",
    tokens_per_s_per_accelerator="Peak inference throughput per accelerator, tokens/s",
    utilization="Share of the year's GPU-hours that earn revenue (serving or rented), in [0, 1]",
    electricity_usd_per_mwh="Electricity price, USD per MWh (not per kWh)",
    price_per_mtok="Selling price, USD per million tokens",
    accelerator_usd="All-in price per accelerator, USD (optional; blank leaves capex #N/A)",
    facility_capex_musd_per_mw="Facility capex per MW of IT load, USD millions (optional; 10.7)",
    headers=HEADERS,
    networking_share="Networking capex as a share of accelerator capex (optional; 0)",
    om_share="Operations and maintenance a year as a share of capex (optional; 0)",
    accelerator_life_years="Depreciation life of accelerators, years (optional; blank: no D&A)",
    facility_life_years="Depreciation life of the facility, years (optional; blank: no D&A)",
    idle_power_share="Share of full power drawn while idle, fraction (optional; 0)",
    rental_usd_per_gpu_hour="Rental price of one GPU for an hour, USD (optional; blank: no "
                            "capacity-based revenue and no cross-check)",
    serving_derate="Served / peak throughput, fraction in (0, 1] (optional; 1 = sell the peak)",
    revenue_method="Headline revenue: conservative (default, the lower), token or capacity",
    rental_alert_multiple="Alert when selling tokens earns more than this multiple of the rental "
                          "price per GPU-hour (optional; 1.5)",
)
def cpx_dc_economics(facility_mw, pue, watts_per_accelerator, tokens_per_s_per_accelerator,
                     utilization, electricity_usd_per_mwh, price_per_mtok, accelerator_usd=None,
                     facility_capex_musd_per_mw=None, headers=None, networking_share=None,
                     om_share=None, accelerator_life_years=None, facility_life_years=None,
                     idle_power_share=None, rental_usd_per_gpu_hour=None, serving_derate=None,
                     revenue_method=None, rental_alert_multiple=None) -> Any:
    """MW to tokens, token- and capacity-based revenue, capex, costs, payback, return, cross-check."""
    accel = None if is_blank(accelerator_usd) else number(accelerator_usd, "accelerator_usd")
    lives = {"accelerator_life_years": accelerator_life_years,
             "facility_life_years": facility_life_years}
    no_life = [k for k, v in lives.items() if is_blank(v)]
    no_rental = is_blank(rental_usd_per_gpu_hour)
    method = text(revenue_method, "revenue_method", default=pw.REVENUE_METHOD_DEFAULT)
    result = pw.dc_economics(
        number(facility_mw, "facility_mw"),
        number(pue, "pue"),
        number(watts_per_accelerator, "watts_per_accelerator"),
        number(tokens_per_s_per_accelerator, "tokens_per_s_per_accelerator"),
        number(utilization, "utilization"),
        number(electricity_usd_per_mwh, "electricity_usd_per_mwh"),
        number(price_per_mtok, "price_per_mtok"),
        accelerator_usd=math.nan if accel is None else accel,
        facility_capex_musd_per_mw=number(facility_capex_musd_per_mw, "facility_capex_musd_per_mw",
                                          default=pw.FACILITY_CAPEX_MUSD_PER_MW[1]),
        idle_power_share=number(idle_power_share, "idle_power_share", default=0.0),
        networking_share=number(networking_share, "networking_share", default=0.0),
        om_share=number(om_share, "om_share", default=0.0),
        **{k: math.nan if k in no_life else number(v, k) for k, v in lives.items()},
        serving_derate=number(serving_derate, "serving_derate", default=1.0),
        rental_usd_per_gpu_hour=(math.nan if no_rental
                                 else number(rental_usd_per_gpu_hour, "rental_usd_per_gpu_hour")),
        revenue_method=method,
    )
    rows = []
    for key in pw.DC_ECONOMICS_FIELDS:
        value = float(result[key])
        if math.isnan(value) and key in _NEEDS_REVENUE and math.isnan(result["revenue_musd_per_year"]):
            value = XlError("#N/A", f"no headline revenue: revenue_method={method} needs "
                            + ("rental_usd_per_gpu_hour" if no_rental else "its inputs"))
        elif math.isnan(value):
            value = _dc_reason(key, accel is None, no_life, no_rental)
        rows.append([key, value])
    alert = number(rental_alert_multiple, "rental_alert_multiple",
                   default=pw.FACILITY_DEFAULTS["rental_alert_multiple"])
    words = pw.revenue_words({k: float(v) for k, v in result.items()}, alert, method)
    rows += [[key, words[key]] for key in pw.REVENUE_WORD_FIELDS]
    return table(["field", "value"] if flag(headers, "headers", True) else None, rows)


_NEEDS_CAPEX = {"capex_musd", "capex_musd_per_mw", "payback_years", "accelerator_capex_musd",
                "networking_capex_musd", "om_cost_musd_per_year", "running_costs_musd_per_year",
                "depreciation_musd_per_year", "ebit_musd_per_year", "return_on_capital"}
_NEEDS_LIFE = {"depreciation_musd_per_year", "ebit_musd_per_year", "return_on_capital"}
_NEEDS_REVENUE = {"revenue_musd_per_year", "operating_profit_musd_per_year", "payback_years",
                  "ebit_musd_per_year", "return_on_capital", "revenue_usd_per_gpu_hour",
                  "revenue_method_used"}
_NEEDS_RENTAL = {"capacity_revenue_musd_per_year", "rental_usd_per_gpu_hour",
                 "token_to_rental_multiple"}


def _dc_reason(key: str, no_price: bool, no_life: list[str] | None = None,
               no_rental: bool = False) -> XlError:
    """Why a field of the data-center chain has no value."""
    if key in _NEEDS_RENTAL and no_rental:
        return XlError("#N/A", "rental_usd_per_gpu_hour not given: the capacity method and the "
                       "cross-check need a rental price per GPU-hour")
    if key in _NEEDS_CAPEX and no_price:
        return XlError("#N/A", "accelerator_usd not given: capex needs a price per accelerator")
    if key in _NEEDS_LIFE and no_life:
        return XlError("#N/A", f"{', '.join(no_life)} not given: depreciation needs a stated life")
    if key == "payback_years":
        return XlError("#NUM!", "never pays back: operating profit is zero or negative")
    if key == "energy_cost_per_mtok":
        return XlError("#DIV/0!", "no tokens a year (utilization or throughput is zero)")
    if key == "joules_per_token":
        return XlError("#DIV/0!", "tokens per joule is zero (throughput is zero)")
    if key == "revenue_usd_per_gpu_hour":
        return XlError("#DIV/0!", "no accelerators")
    return XlError("#NUM!", f"{key} cannot be computed from these inputs")


@cpx_function(
    accelerator_usd="All-in price per accelerator, USD (its share of server/rack; cell or range)",
    watts_per_accelerator="All-in power per accelerator, W, in [50, 5000] (same shape)",
    facility_capex_musd_per_mw="Facility capex per MW of IT load, USD millions (optional; 10.7)",
    pue="PUE (optional; 1 = per MW of IT load, site PUE = per MW of facility power)",
    networking_share="Networking capex as a share of accelerator capex (optional; 0)",
)
def cpx_capex_per_mw(accelerator_usd, watts_per_accelerator, facility_capex_musd_per_mw=None,
                     pue=None, networking_share=None) -> Any:
    """Build cost per MW, USD millions: (facility capex per MW + USD per W of accelerators) / PUE."""
    args = [
        vector(accelerator_usd, "accelerator_usd"),
        vector(watts_per_accelerator, "watts_per_accelerator"),
        optional_vector(facility_capex_musd_per_mw, "facility_capex_musd_per_mw",
                        pw.FACILITY_CAPEX_MUSD_PER_MW[1]),
        optional_vector(pue, "pue", 1.0),
        optional_vector(networking_share, "networking_share", 0.0),
    ]
    names = ["accelerator_usd", "watts_per_accelerator", "facility_capex_musd_per_mw", "pue",
             "networking_share"]
    return elementwise(pw.capex_per_mw, args, names,
                       nan_reason=lambda i: XlError("#NUM!", "capex per MW cannot be computed"))


@cpx_function(
    rpo="Remaining performance obligations (backlog), USD m (cell or row/column range)",
    revenue="Annual revenue, USD m (same shape): the cloud segment's (cloud_segment_revenue) "
            "for years of cloud revenue under contract; total revenue as a second line",
)
def cpx_backlog_coverage(rpo, revenue) -> Any:
    """Backlog coverage = RPO / revenue, years (on cloud_segment_revenue: AMZN FY2025 1.90x)."""
    return elementwise(pw.backlog_coverage, [vector(rpo, "rpo"), vector(revenue, "revenue")],
                       ["rpo", "revenue"])


@cpx_function(headers=HEADERS)
def cpx_chip_table(headers=None) -> Any:
    """Chip generations: power, price, throughput per MW (vendor claims) and tokens per joule."""
    frame = pw.chip_table()
    rows = []
    for rec in frame.itertuples(index=False):
        row = []
        for col, v in zip(frame.columns, rec, strict=True):
            if isinstance(v, float) and math.isnan(v):
                v = XlError("#N/A", f"{rec.chip}: no sourced {col}")
            row.append(v)
        rows.append(row)
    return table(list(frame.columns) if flag(headers, "headers", True) else None, rows)
