"""Data-center power and AI-cloud economics: from megawatts to tokens, dollars and backlog.

The chain, one step per quantity::

    facility MW --PUE--> IT MW --W per accelerator--> accelerators
        --tokens/s per accelerator--> peak tokens/s --serving derate x utilisation--> tokens
        per year --$/MWh--> energy cost per million tokens
        --$/Mtok--> token-based revenue | accelerators x hours x utilisation --$/GPU-hour-->
        capacity-based revenue --> headline revenue (the lower, by default)
        --capex (facility + accelerators + networking)--> running costs (electricity incl. PUE
        overhead, operations and maintenance) --> payback --depreciation--> return on capital

The two revenue methods, the choice between them and the rental cross-check live in
:mod:`aicapex.engine.power_revenue`; units and plausibility bounds in
:mod:`aicapex.engine.power_units` (both re-exported here).

Functions follow numpy-financial's pattern: scalars or arrays in, broadcast like ufuncs, a
numpy scalar back for scalar input. A missing input (NaN) or a zero denominator gives NaN,
never an exception. An argument outside its plausibility bounds (:data:`BOUNDS`) raises
:class:`~aicapex.errors.ArgumentError` naming the argument, the value and the expected unit,
because such values are almost always a unit mistake (kW for W, W for MW, $/kWh for $/MWh).

Units
-----
* power: W per accelerator, MW per facility (``facility_mw`` is grid power, IT load times PUE);
* money: USD millions (``*_musd``) unless the name says ``usd``;
  ``price_per_mtok`` and ``energy_cost_per_mtok`` are USD per million tokens;
* electricity: USD per MWh; a year is 365 days = 8,760 h = 31,536,000 s.

Every default is a sourced, graded fact (:mod:`aicapex.engine.power_sources`): the chip table
(:func:`chip_table`, :func:`chip_facts`) and the reference facility (:data:`FACILITY_DEFAULTS`).
Throughput defaults are all on one workload (:data:`~aicapex.engine.power_sources.WORKLOAD`);
a figure that could not be sourced is NaN, left for the user. NVIDIA's per-megawatt
multipliers on another model are shown for reference only and never chained onto a baseline.
AI-cloud backlog lives in :mod:`aicapex.engine.backlog` (re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from aicapex.engine.metrics import divide
from aicapex.engine.power_revenue import (
    REVENUE_METHOD_CODES,
    REVENUE_WORD_FIELDS,
    gpu_hour_revenue,
    headline_revenue,
    revenue_words,
    token_revenue,
)
from aicapex.engine.power_revenue import revenue_method as parse_revenue_method
from aicapex.engine.power_sources import (
    CHIP_FACT_COLUMNS,
    CHIP_FACTS,
    FACILITY_FACTS,
    REVENUE_METHOD_DEFAULT,
    REVENUE_METHODS,
    VENDOR_X_HOPPER_CLAIMS,
    WORKLOAD,
    chip_facts,
    facility_facts,
    weakest_grade,
)
from aicapex.engine.power_units import (
    BOUNDS,
    HOURS_PER_YEAR,
    JOULES_PER_MWH,
    SECONDS_PER_YEAR,
)
from aicapex.engine.power_units import as_output as _out
from aicapex.engine.power_units import check_bound as _check
from aicapex.engine.power_units import nonnegative as _nonneg
from aicapex.errors import ArgumentError

__all__ = [
    "BOUNDS",
    "BUILD_COST_SOURCES",
    "CHIP_DEFAULTS",
    "CHIP_FACT_COLUMNS",
    "FACILITY_DEFAULTS",
    "ChipSpec",
    "DC_ECONOMICS_FIELDS",
    "FACILITY_CAPEX_MUSD_PER_MW",
    "ALL_IN_CAPEX_USD_BN_PER_GW",
    "HOPPER_TOKENS_PER_S_PER_MW",
    "HOURS_PER_YEAR",
    "JOULES_PER_MWH",
    "REVENUE_METHOD_CODES",
    "REVENUE_WORD_FIELDS",
    "REVENUE_METHOD_DEFAULT",
    "REVENUE_METHODS",
    "SECONDS_PER_YEAR",
    "backlog_conversion",
    "backlog_coverage",
    "backlog_growth",
    "backlog_table",
    "capacity_revenue",
    "capex_per_mw",
    "chip_facts",
    "chip_table",
    "facility_economics",
    "facility_facts",
    "dc_economics",
    "energy_cost_per_mtok",
    "gpu_hour_revenue",
    "headline_revenue",
    "revenue_method_facts",
    "revenue_words",
    "token_revenue",
    "tokens_per_watt",
]

# -- sourced defaults -------------------------------------------------------------------------

#: NVIDIA: "In a 1-megawatt AI factory, NVIDIA Hopper generates 180,000 tokens per second" (vendor
#: claim, blogs.nvidia.com/blog/ai-factory-inference-optimization). Kept for reference only: it is
#: for another workload than :data:`~aicapex.engine.power_sources.WORKLOAD` and is not a default.
HOPPER_TOKENS_PER_S_PER_MW = 180_000.0

#: Facility (shell, power and cooling) cost per MW of critical IT load, USD millions:
#: CBRE North American Data Center Trends, average rising from ~$7.7M to ~$10.7M per MW.
FACILITY_CAPEX_MUSD_PER_MW = (7.7, 10.7)

#: All-in build cost (facility plus accelerators) per GW, USD billions: ~$35B (Epoch AI's
#: estimate for a ~1.1 GW campus) to ~$50-60B (NVIDIA, Q2 FY2026 call: ~$35B of NVIDIA
#: hardware plus ~$15B of other components per GW).
ALL_IN_CAPEX_USD_BN_PER_GW = (35.0, 60.0)

#: Where the build-cost figures come from.
BUILD_COST_SOURCES: dict[str, str] = {
    "facility_capex_musd_per_mw": FACILITY_FACTS["facility_capex_musd_per_mw"].source,
    "all_in_capex_usd_bn_per_gw": (
        "NVIDIA Q2 FY2026 earnings call via livemint.com (2025-09-01): ~$50B per GW "
        "(~$35B NVIDIA hardware + ~$15B other); Epoch AI via data-today.net: ~1.1 GW for ~$35B; "
        "upper end $60B per GW as commonly quoted"
    ),
}

#: The reference facility's defaults (values of :data:`FACILITY_FACTS`; NaN = left for the user).
FACILITY_DEFAULTS: dict[str, float] = {k: f.value for k, f in FACILITY_FACTS.items()}


@dataclass(frozen=True)
class ChipSpec:
    """One accelerator generation, as deployed (server or rack), with its sources.

    Attributes
    ----------
    unit : str
        What one deployable unit is (``'DGX H100 server'``, ``'NVL72 rack'``...).
    gpus_per_unit : float
        Accelerators (GPUs) in one unit.
    gpu_watts : float
        Accelerator chip power (TDP/TGP), W (NaN when not corroborated).
    unit_watts : float
        Power of one unit including host CPUs, memory and in-unit networking, W.
    unit_price_usd : float
        Price of one unit, USD (NaN when no corroborated figure: left for the user).
    tokens_per_s_per_mw : float
        Inference throughput per MW of IT load on :data:`WORKLOAD` (NaN when not found).
    claim : str
        What the throughput figure is: workload, who measured it, and its grade.
    source : str
        Where every figure in the row comes from (see :func:`chip_facts` for one source and
        grade per number).
    gpu_price_usd : float
        Price of the accelerator alone, USD, for reference (excludes the server or rack).
    rental_usd_per_gpu_hour : float
        Public rental price of one of its GPUs for an hour, USD (NaN when none was found): the
        market benchmark of the capacity method and the cross-check.
    """

    unit: str
    gpus_per_unit: float
    gpu_watts: float
    unit_watts: float
    unit_price_usd: float = math.nan
    tokens_per_s_per_mw: float = math.nan
    claim: str = ""
    source: str = ""
    gpu_price_usd: float = math.nan
    rental_usd_per_gpu_hour: float = math.nan


_UNITS = {
    "H100": "DGX H100 server (8x H100 SXM)",
    "B200": "DGX B200 server (8x B200)",
    "GB200": "B200 GPU in GB200 NVL72 (per-GPU share of the rack)",
    "GB200-NVL72": "GB200 NVL72 rack (72 GPUs, 36 Grace CPUs)",
    "GB300-NVL72": "GB300 NVL72 rack (72 Blackwell Ultra GPUs, 36 Grace CPUs)",
}


def _spec(chip: str) -> ChipSpec:
    f = CHIP_FACTS[chip]
    per_gpu_w = f["unit_watts"].value / f["gpus_per_unit"].value
    tps = f["tokens_per_s_per_gpu"]
    claim = (f"{tps.grade}: {tps.value:,.0f} tokens/s per GPU on {WORKLOAD}"
             if not math.isnan(tps.value) else f"no figure on {WORKLOAD}: {tps.source}")
    return ChipSpec(
        unit=_UNITS[chip],
        gpus_per_unit=f["gpus_per_unit"].value,
        gpu_watts=f["gpu_watts"].value,
        unit_watts=f["unit_watts"].value,
        unit_price_usd=f["unit_price_usd"].value,
        tokens_per_s_per_mw=tps.value / per_gpu_w * 1e6,
        claim=claim,
        source="; ".join(f"{k}: {v.source}" for k, v in f.items()),
        gpu_price_usd=f["gpu_price_usd"].value,
        rental_usd_per_gpu_hour=f["rental_usd_per_gpu_hour"].value,
    )


#: Default chip-generation table (override any field with ``chip_table(overrides=...)``), built
#: from :data:`~aicapex.engine.power_sources.CHIP_FACTS`.
CHIP_DEFAULTS: dict[str, ChipSpec] = {c: _spec(c) for c in CHIP_FACTS}

# -- the chain --------------------------------------------------------------------------------


def tokens_per_watt(tokens_per_s: ArrayLike, watts: ArrayLike) -> NDArray | float:
    """Tokens per joule: throughput (tokens/s) divided by power (W = J/s).

    Parameters
    ----------
    tokens_per_s : array_like
        Throughput, tokens per second (>= 0).
    watts : array_like
        Power drawn for that throughput, W (>= 0; 1 MW = 1e6 W).

    Returns
    -------
    ndarray or float
        Tokens per joule; NaN where ``watts`` is 0 or an input is NaN.

    Notes
    -----
    .. math:: \\text{tokens/J} = \\frac{\\text{tokens/s}}{\\text{W}}, \\qquad
              \\text{J/token} = 1 / (\\text{tokens/J})

    Examples
    --------
    NVIDIA's Hopper claim, 180,000 tokens/s in 1 MW: 180,000 / 1,000,000 = 0.18 tokens per
    joule, i.e. 1 / 0.18 = 5.56 J per token.

    >>> tokens_per_watt(180_000, 1e6)
    0.18
    >>> round(1 / tokens_per_watt(180_000, 1e6), 2)
    5.56
    >>> tokens_per_watt([225, 0], [1250, 0]).tolist()
    [0.18, nan]
    """
    t = _nonneg("tokens_per_s", tokens_per_s, "tokens/s")
    w = _nonneg("watts", watts, "W")
    return _out(divide(t, w))


def energy_cost_per_mtok(
    electricity_usd_per_mwh: ArrayLike, tokens_per_joule: ArrayLike
) -> NDArray | float:
    """Electricity cost of one million tokens, USD.

    Parameters
    ----------
    electricity_usd_per_mwh : array_like
        Electricity price, USD per MWh (see :data:`BOUNDS`).
    tokens_per_joule : array_like
        Tokens per joule of the power being paid for (facility level to include cooling).

    Returns
    -------
    ndarray or float
        USD per million tokens; NaN where ``tokens_per_joule`` is 0 or NaN.

    Notes
    -----
    One MWh is 3.6e9 J, so a MWh yields :math:`3.6\\times10^9\\,\\tau` tokens and

    .. math:: c_{\\text{Mtok}} = \\frac{p_{\\text{MWh}} \\times 10^6}{3.6\\times10^9\\,\\tau}
              = \\frac{p_{\\text{MWh}}}{3600\\,\\tau}

    Examples
    --------
    At $100/MWh and 0.18 tokens/J: 100 / (3600 x 0.18) = 100 / 648 = $0.1543 per Mtok.

    >>> round(energy_cost_per_mtok(100, 0.18), 4)
    0.1543
    """
    p = _check("electricity_usd_per_mwh", electricity_usd_per_mwh)
    tau = _nonneg("tokens_per_joule", tokens_per_joule, "tokens per joule")
    return _out(divide(p * 1e6, tau * JOULES_PER_MWH))


def capex_per_mw(
    accelerator_usd: ArrayLike,
    watts_per_accelerator: ArrayLike,
    facility_capex_musd_per_mw: ArrayLike = FACILITY_CAPEX_MUSD_PER_MW[1],
    pue: ArrayLike = 1.0,
    networking_share: ArrayLike = 0.0,
) -> NDArray | float:
    """Build cost per MW: facility (shell, power, cooling) plus the accelerators that fill it.

    Parameters
    ----------
    accelerator_usd : array_like
        All-in price per accelerator, USD (its share of server or rack, host and networking).
    watts_per_accelerator : array_like
        All-in power per accelerator, W (chip plus host and networking share), in [50, 5000].
    facility_capex_musd_per_mw : array_like, default 10.7
        Facility cost per MW of IT (critical) load, USD millions (CBRE: ~7.7 to ~10.7).
    pue : array_like, default 1.0
        Power usage effectiveness. With 1.0 the result is per MW of IT load; with the site's
        PUE it is per MW of facility (grid) power.
    networking_share : array_like, default 0
        Scale-out networking as a share of the accelerators' cost, in [0, 1] (the reference
        facility uses 0.10, :data:`FACILITY_DEFAULTS`).

    Returns
    -------
    ndarray or float
        USD millions per MW (of IT load when ``pue=1``, else of facility power).

    Notes
    -----
    A MW of IT load holds :math:`10^6 / w` accelerators, so the accelerator cost per MW in USD
    millions is :math:`(10^6/w)\\,a/10^6 = a/w` (USD per W equals USD millions per MW):

    .. math:: K_{\\text{MW}} = \\frac{F + a (1 + n) / w}{\\text{PUE}}

    Examples
    --------
    GB200 NVL72: a ~$3M rack / 72 = $41,667 per GPU; 120 kW / 72 = 1,666.7 W per GPU, so
    41,667 / 1,666.7 = $25M of racks per MW, plus $10.7M facility = $35.7M per IT MW; with 10%
    networking on the racks, 25 x 1.1 + 10.7 = $38.2M (about $38B per GW, inside the $35-60B
    all-in range).

    >>> round(capex_per_mw(3e6 / 72, 120_000 / 72, 10.7), 2)
    35.7
    >>> round(capex_per_mw(3e6 / 72, 120_000 / 72, 10.7, networking_share=0.1), 2)
    38.2
    >>> round(capex_per_mw(30_000, 1_250, 10.0, pue=1.2), 2)  # (10 + 24) / 1.2
    28.33
    """
    a = _check("accelerator_usd", accelerator_usd)
    w = _check("watts_per_accelerator", watts_per_accelerator)
    f = _check("facility_capex_musd_per_mw", facility_capex_musd_per_mw)
    p = _check("pue", pue)
    n = _check("networking_share", networking_share)
    return _out((f + a * (1.0 + n) / w) / p)


#: Keys of :func:`dc_economics`'s result, in chain order (the first sixteen are the original
#: chain; running costs, depreciation and return on capital follow, then the two revenue methods
#: and the rental cross-check).
DC_ECONOMICS_FIELDS: tuple[str, ...] = (
    "facility_mw",
    "it_mw",
    "accelerators",
    "tokens_per_s",
    "tokens_per_joule_it",
    "tokens_per_joule",
    "joules_per_token",
    "annual_tokens",
    "energy_mwh_per_year",
    "energy_cost_musd_per_year",
    "energy_cost_per_mtok",
    "revenue_musd_per_year",
    "capex_musd",
    "capex_musd_per_mw",
    "operating_profit_musd_per_year",
    "payback_years",
    "accelerator_capex_musd",
    "networking_capex_musd",
    "facility_capex_musd",
    "om_cost_musd_per_year",
    "running_costs_musd_per_year",
    "depreciation_musd_per_year",
    "ebit_musd_per_year",
    "return_on_capital",
    "revenue_usd_per_gpu_hour",
    "token_revenue_musd_per_year",
    "capacity_revenue_musd_per_year",
    "revenue_method_used",
    "gpu_hours_sold_per_year",
    "token_revenue_usd_per_sold_gpu_hour",
    "rental_usd_per_gpu_hour",
    "token_to_rental_multiple",
)




def dc_economics(
    facility_mw: ArrayLike,
    pue: ArrayLike,
    watts_per_accelerator: ArrayLike,
    tokens_per_s_per_accelerator: ArrayLike,
    utilization: ArrayLike,
    electricity_usd_per_mwh: ArrayLike,
    price_per_mtok: ArrayLike,
    accelerator_usd: ArrayLike = math.nan,
    facility_capex_musd_per_mw: ArrayLike = FACILITY_CAPEX_MUSD_PER_MW[1],
    idle_power_share: ArrayLike = 0.0,
    other_opex_musd_per_year: ArrayLike = 0.0,
    networking_share: ArrayLike = 0.0,
    om_share: ArrayLike = 0.0,
    accelerator_life_years: ArrayLike = math.nan,
    facility_life_years: ArrayLike = math.nan,
    serving_derate: ArrayLike = 1.0,
    rental_usd_per_gpu_hour: ArrayLike = math.nan,
    revenue_method: str = REVENUE_METHOD_DEFAULT,
) -> dict[str, NDArray | float]:
    """Every quantity of the MW-to-return chain for one or many data-center configurations,
    with revenue by two methods side by side.

    Parameters
    ----------
    facility_mw : array_like
        Facility (grid) power, MW, in (0, 10,000].
    pue : array_like
        Power usage effectiveness (facility / IT power), in [1, 3]. The overhead (cooling,
        power conversion) is paid for in the electricity bill: energy is drawn at facility level.
    watts_per_accelerator : array_like
        All-in power per accelerator including host and networking, W, in [50, 5000].
    tokens_per_s_per_accelerator : array_like
        Peak inference throughput per accelerator, tokens/s, in [0, 1e6], on one stated
        workload (the price must be for the same kind of model).
    utilization : array_like
        Share of the year's GPU-hours that earn revenue (spent serving paid requests, or
        rented out), in [0, 1]; the same for both revenue methods, so they differ only in what
        a busy GPU-hour earns.
    electricity_usd_per_mwh : array_like
        Electricity price, USD per MWh, 0 or in [1, 1000].
    price_per_mtok : array_like
        Selling price, USD per million tokens, 0 or in [0.001, 1000].
    accelerator_usd : array_like, optional
        All-in price per accelerator, USD, in [1,000, 1,000,000]; NaN (default) leaves capex
        and everything after it NaN.
    facility_capex_musd_per_mw : array_like, default 10.7
        Facility cost per MW of IT load, USD millions (CBRE).
    idle_power_share : array_like, default 0
        Share of full power drawn while idle, in [0, 1]. With 0, energy scales with
        utilisation; with 1, the facility draws its full power all year.
    other_opex_musd_per_year : array_like, default 0
        Other running costs, USD millions per year, >= 0.
    networking_share : array_like, default 0
        Scale-out networking capex as a share of the accelerators' cost, in [0, 1].
    om_share : array_like, default 0
        Operations and maintenance (staff, repairs, support contracts) a year as a share of
        total capex, in [0, 1].
    accelerator_life_years : array_like, optional
        Straight-line life of accelerators and networking, years, in (0, 30]. NaN (default)
        leaves depreciation, EBIT and return on capital NaN: they are never computed without
        a stated life.
    facility_life_years : array_like, optional
        Straight-line life of the facility (shell, power, cooling), years, in (0, 100].
    serving_derate : array_like, default 1
        Served over peak throughput, in (0, 1]: the benchmark's Server scenario (latency limits)
        over its Offline scenario (maximum batch) on the same system; 1 sells the peak.
    rental_usd_per_gpu_hour : array_like, optional
        Public rental price of one GPU for an hour, USD, in [0.05, 40]: the capacity method's
        price and the cross-check's benchmark. NaN (default) leaves both NaN.
    revenue_method : {'conservative', 'token', 'capacity'}, default 'conservative'
        Which revenue the headline (payback, return on capital) uses: ``'token'``,
        ``'capacity'`` or ``'conservative'``, the lower of the two (the one that can be computed
        where the other is missing).

    Returns
    -------
    dict of str to ndarray or float
        Keys :data:`DC_ECONOMICS_FIELDS` in chain order, every value broadcast to the common
        shape (floats for scalar input). ``operating_profit_musd_per_year`` is before
        depreciation (revenue less every running cost); ``payback_years`` is capex over it;
        ``ebit_musd_per_year`` and ``return_on_capital`` are after depreciation.
        ``revenue_musd_per_year`` is the headline revenue of ``revenue_method``, and
        ``revenue_usd_per_gpu_hour`` that revenue per accelerator-hour of the year. Both methods
        come side by side: ``token_revenue_musd_per_year`` and
        ``capacity_revenue_musd_per_year``; ``revenue_method_used`` says which one is the headline
        (:data:`REVENUE_METHOD_CODES`: 1 token, 2 capacity). The cross-check:
        ``token_revenue_usd_per_sold_gpu_hour`` (what a busy GPU-hour earns selling tokens)
        over ``rental_usd_per_gpu_hour`` is ``token_to_rental_multiple``.

    Notes
    -----
    With :math:`M` facility MW, :math:`w` W per accelerator, :math:`s` tokens/s per
    accelerator, :math:`u` utilisation, :math:`i` idle power share, :math:`T = 31{,}536{,}000`
    s and :math:`H = 8760` h per year:

    .. math::

        M_{IT} &= M / \\text{PUE}, \\quad N = 10^6 M_{IT} / w, \\quad S = N s \\\\
        \\tau_{IT} &= S / (10^6 M_{IT}) = s / w, \\quad \\tau = S / (10^6 M) \\\\
        Q &= S\\,d\\,u\\,T \\quad \\text{(tokens per year, serving derate } d) \\\\
        E &= M H (u + (1-u) i) \\quad \\text{(MWh per year, at facility level)} \\\\
        C_E &= E\\,p_{\\text{MWh}} / 10^6, \\quad c_{\\text{Mtok}} = 10^6 C_E / (Q/10^6) \\\\
        R_T &= (Q / 10^6)\\,p_{\\text{Mtok}} / 10^6, \\quad G = N H u, \\quad
            R_C = G\\,p_{\\text{GPUh}} / 10^6, \\quad R = \\min(R_T, R_C) \\\\
        h_T &= 3600\\,s\\,d\\,p_{\\text{Mtok}} / 10^6 = 10^6 R_T / G, \\quad
            \\text{multiple} = h_T / p_{\\text{GPUh}} \\\\
        K_A &= N a / 10^6, \\quad K_N = n K_A, \\quad K_F = M_{IT} F, \\quad
            K = K_A + K_N + K_F \\\\
        O &= o K + O_{\\text{other}}, \\quad \\Pi = R - C_E - O, \\quad
            \\text{payback} = K / \\Pi \\text{ (NaN if } \\Pi \\le 0) \\\\
        D &= (K_A + K_N) / L_A + K_F / L_F, \\quad \\text{EBIT} = \\Pi - D, \\quad
            \\text{ROC} = \\text{EBIT} / K

    Accelerator counts are not rounded. ``capex_musd_per_mw`` is per MW of IT load (the CBRE
    basis). Payback is simple (undiscounted, pre-tax) on the operating profit before
    depreciation; compare it with the accelerator life: hardware that has not paid back when
    it is retired never does. Return on capital is pre-tax, on the gross capex. :math:`R` is
    the minimum under ``'conservative'``, :math:`R_T` under ``'token'``, :math:`R_C` under
    ``'capacity'``.

    Examples
    --------
    1.2 MW at PUE 1.2 is 1 MW of IT load: 1e6 / 1,250 W = 800 accelerators x 225 tokens/s =
    180,000 tokens/s (0.18 tokens/J at IT level, 0.15 at facility level). At 50% utilisation:
    180,000 x 0.5 x 31,536,000 = 2.83824e12 tokens a year. Energy 1.2 x 8760 x 0.5 = 5,256 MWh
    x $100 = $0.5256M, i.e. 525,600 / 2,838,240 = $0.1852 per Mtok. Revenue at $2/Mtok:
    2,838,240 x 2 = $5.67648M. Capex: 800 x $30,000 = $24M + 1 MW x $10M = $34M; payback
    34 / (5.67648 - 0.5256) = 6.60 years.

    >>> r = dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, accelerator_usd=30_000,
    ...                  facility_capex_musd_per_mw=10.0)
    >>> r["accelerators"], r["tokens_per_s"], r["tokens_per_joule"]
    (800.0, 180000.0, 0.15)
    >>> r["annual_tokens"], r["energy_mwh_per_year"]
    (2838240000000.0, 5256.0)
    >>> round(r["energy_cost_per_mtok"], 4), round(r["revenue_musd_per_year"], 5)
    (0.1852, 5.67648)
    >>> r["capex_musd"], round(r["payback_years"], 2)
    (34.0, 6.6)

    The same facility with 10% networking ($2.4M), operations at 3% of capex a year and
    depreciation over 5 years (accelerators and networking) and 20 years (facility): capex
    24 + 2.4 + 10 = $36.4M; running costs 0.5256 + 0.03 x 36.4 = $1.6176M; operating profit
    5.67648 - 1.6176 = $4.05888M; payback 36.4 / 4.05888 = 8.97 years (longer than the
    5-year life); depreciation 26.4 / 5 + 10 / 20 = $5.78M; EBIT 4.05888 - 5.78 = -$1.72M.

    >>> r = dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, accelerator_usd=30_000,
    ...                  facility_capex_musd_per_mw=10.0, networking_share=0.1, om_share=0.03,
    ...                  accelerator_life_years=5, facility_life_years=20)
    >>> round(r["capex_musd"], 2), round(r["running_costs_musd_per_year"], 4)
    (36.4, 1.6176)
    >>> round(r["payback_years"], 2), round(r["depreciation_musd_per_year"], 2)
    (8.97, 5.78)
    >>> round(r["ebit_musd_per_year"], 3), round(r["return_on_capital"], 4)
    (-1.721, -0.0473)

    Both methods: the 800 accelerators busy half the year sell 800 x 8760 x 0.5 = 3,504,000
    GPU-hours. At $2.50 an hour the capacity method earns 3,504,000 x 2.5 = $8.76M; with a 0.9
    serving derate the token method earns 5.67648 x 0.9 = $5.108832M, i.e. 225 x 0.9 x 3600 x
    2 / 1e6 = $1.458 per busy GPU-hour, 0.5832x the rental price. The conservative headline is
    the token revenue (code 1).

    >>> r = dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, accelerator_usd=30_000,
    ...                  facility_capex_musd_per_mw=10.0, serving_derate=0.9,
    ...                  rental_usd_per_gpu_hour=2.5)
    >>> r["gpu_hours_sold_per_year"], round(r["capacity_revenue_musd_per_year"], 2)
    (3504000.0, 8.76)
    >>> round(r["token_revenue_musd_per_year"], 6), round(r["revenue_musd_per_year"], 6)
    (5.108832, 5.108832)
    >>> round(r["token_revenue_usd_per_sold_gpu_hour"], 3), round(r["token_to_rental_multiple"], 4)
    (1.458, 0.5832)
    >>> r["revenue_method_used"]
    1.0
    """
    m = _check("facility_mw", facility_mw)
    p = _check("pue", pue)
    w = _check("watts_per_accelerator", watts_per_accelerator)
    s = _check("tokens_per_s_per_accelerator", tokens_per_s_per_accelerator)
    u = _check("utilization", utilization)
    e_price = _check("electricity_usd_per_mwh", electricity_usd_per_mwh)
    price = _check("price_per_mtok", price_per_mtok)
    a = _check("accelerator_usd", accelerator_usd)
    f = _check("facility_capex_musd_per_mw", facility_capex_musd_per_mw)
    idle = _check("idle_power_share", idle_power_share)
    other = _nonneg("other_opex_musd_per_year", other_opex_musd_per_year, "USD millions per year")
    net = _check("networking_share", networking_share)
    om = _check("om_share", om_share)
    life_a = _check("accelerator_life_years", accelerator_life_years)
    life_f = _check("facility_life_years", facility_life_years)
    derate = _check("serving_derate", serving_derate)
    rental = _check("rental_usd_per_gpu_hour", rental_usd_per_gpu_hour)
    method = parse_revenue_method(revenue_method)
    m, p, w, s, u, e_price, price, a, f, idle, other, net, om, life_a, life_f, derate, rental = (
        np.broadcast_arrays(m, p, w, s, u, e_price, price, a, f, idle, other, net, om, life_a,
                            life_f, derate, rental))

    it_mw = m / p
    n = it_mw * 1e6 / w
    tps = n * s
    tau_it = divide(tps, it_mw * 1e6)
    tau = divide(tps, m * 1e6)
    annual_tokens = tps * derate * u * SECONDS_PER_YEAR
    energy_mwh = m * HOURS_PER_YEAR * (u + (1.0 - u) * idle)
    energy_musd = energy_mwh * e_price / 1e6
    energy_per_mtok = divide(energy_musd * 1e6, annual_tokens / 1e6)
    revenue_token = np.asarray(token_revenue(tps, derate, u, price), dtype=float)
    revenue_capacity = np.asarray(gpu_hour_revenue(n, u, rental), dtype=float)
    revenue, method_used = headline_revenue(method, revenue_token, revenue_capacity)
    gpu_hours_sold = n * HOURS_PER_YEAR * u
    token_per_gpu_hour = s * derate * 3600.0 * price / 1e6
    capex_accel = n * a / 1e6
    capex_net = capex_accel * net
    capex_facility = it_mw * f
    capex = capex_accel + capex_net + capex_facility
    # No O&M share means no O&M cost, even where capex is unknown (no price given).
    om_cost = np.where(om == 0, 0.0, om * capex) + other
    running = energy_musd + om_cost
    profit = revenue - running
    payback = divide(capex, np.where(profit > 0, profit, 0.0))
    payback = np.where(np.isnan(profit), np.nan, payback)
    with np.errstate(divide="ignore", invalid="ignore"):
        depreciation = (capex_accel + capex_net) / life_a + capex_facility / life_f
    ebit = profit - depreciation
    per_gpu_hour = divide(revenue * 1e6, n * HOURS_PER_YEAR)

    values = (
        m, it_mw, n, tps, tau_it, tau, divide(1.0, tau), annual_tokens, energy_mwh,
        energy_musd, energy_per_mtok, revenue, capex, divide(capex, it_mw), profit, payback,
        capex_accel, capex_net, capex_facility, om_cost, running, depreciation, ebit,
        divide(ebit, capex), per_gpu_hour, revenue_token, revenue_capacity, method_used,
        gpu_hours_sold, token_per_gpu_hour, rental, divide(token_per_gpu_hour, rental),
    )
    return {k: _out(np.asarray(v, dtype=float))
            for k, v in zip(DC_ECONOMICS_FIELDS, values, strict=True)}


def facility_economics(chip: str = "GB200-NVL72", **overrides: float | str) -> dict[str, object]:
    """The reference facility: :func:`dc_economics` on a chip's sourced figures and
    :data:`FACILITY_DEFAULTS`, with any default replaced by a keyword.

    Parameters
    ----------
    chip : str, default 'GB200-NVL72'
        A row of :func:`chip_table`.
    **overrides : float or str
        Any :data:`FACILITY_DEFAULTS` key (``pue``, ``utilization``, ``price_per_mtok``,
        ``serving_derate``, ``rental_alert_multiple``, ``accelerator_life_years``...),
        ``accelerator_usd`` / ``tokens_per_s_per_accelerator`` / ``watts_per_accelerator`` /
        ``rental_usd_per_gpu_hour`` to replace the chip's figure, or ``revenue_method``.

    Returns
    -------
    dict
        The chip's inputs, the facility assumptions used (``revenue_method`` included), every
        :data:`DC_ECONOMICS_FIELDS` value, then the words of :func:`revenue_words`
        (``revenue_method_text``, ``rental_cross_check``).

    Examples
    --------
    The default facility's capex is the racks, 10% networking on them and the CBRE facility
    cost: 100 MW / 1.2 = 83.33 MW of IT load holds 50,000 GPUs (1,666.7 W each) x $41,667 =
    $2,083M, + $208M networking + 83.33 x $10.7M = $892M, total $3,183M. Its headline revenue
    is the capacity method's (GPUs rented 75% of the year at $4.54), below the token method's.

    >>> r = facility_economics()
    >>> round(r["accelerators"]), round(r["capex_musd"])
    (50000, 3183)
    >>> round(r["capacity_revenue_musd_per_year"], 1), round(r["token_revenue_musd_per_year"])
    (1491.4, 9767)
    >>> r["revenue_method_used"], r["rental_cross_check"][:6]
    (2.0, 'ALERT:')
    """
    t = chip_table(chips=[chip]).iloc[0]
    known = {*FACILITY_DEFAULTS, *_CHIP_INPUTS, "revenue_method"}
    unknown = [k for k in overrides if k not in known]
    if unknown:
        raise ArgumentError(f"unknown facility assumption {unknown[0]!r}; expected one of "
                            f"{', '.join(sorted(known))}")
    inputs: dict[str, object] = {
        "watts_per_accelerator": float(t["watts_per_gpu"]),
        "tokens_per_s_per_accelerator": float(t["tokens_per_s_per_gpu"]),
        "accelerator_usd": float(t["price_per_gpu_usd"]),
        "rental_usd_per_gpu_hour": float(t["rental_usd_per_gpu_hour"]),
        **FACILITY_DEFAULTS, "revenue_method": REVENUE_METHOD_DEFAULT}
    inputs.update({k: (str(v) if k == "revenue_method" else float(v))
                   for k, v in overrides.items()})
    args = {k: v for k, v in inputs.items() if k != "rental_alert_multiple"}
    result = {k: float(v) for k, v in dc_economics(**args).items()}
    words = revenue_words(result, inputs["rental_alert_multiple"], str(inputs["revenue_method"]))
    return {**inputs, **result, "revenue_method_text": words["revenue_method"],
            "rental_cross_check": words["rental_cross_check"]}


_CHIP_INPUTS = ("watts_per_accelerator", "tokens_per_s_per_accelerator", "accelerator_usd",
                "rental_usd_per_gpu_hour")

#: Rows of :func:`revenue_method_facts`: result key, unit, formula.
_METHOD_ROWS = (
    ("token_revenue_musd_per_year", "USD m a year",
     "= GPUs x tokens/s per GPU x serving_derate x utilization x 31,536,000 s x price_per_mtok "
     "/ 1e12 (token-based)"),
    ("capacity_revenue_musd_per_year", "USD m a year",
     "= GPUs x 8,760 h x utilization x rental_usd_per_gpu_hour / 1e6 (capacity-based)"),
    ("token_revenue_usd_per_sold_gpu_hour", "USD per GPU-hour",
     "= tokens/s per GPU x serving_derate x 3,600 s x price_per_mtok / 1e6"),
    ("rental_usd_per_gpu_hour", "USD per GPU-hour", "the chip's rental benchmark (--view chips)"),
    ("token_to_rental_multiple", "x", "= token revenue per sold GPU-hour / rental price"),
    ("revenue_musd_per_year", "USD m a year", "the headline: revenue_method (conservative: the "
     "lower of the two)"),
    ("payback_years", "years", "= capex / (headline revenue - running costs)"),
    ("return_on_capital", "fraction", "= (headline revenue - running costs - depreciation) / "
     "capex"),
)


def revenue_method_facts(chip: str = "GB200-NVL72", **overrides: float | str) -> pd.DataFrame:
    """The reference facility's two revenue methods side by side, the rental cross-check and the
    headline, as rows of :data:`CHIP_FACT_COLUMNS` (for ``power --view facility``).

    Each row carries the grade of its least corroborated input: every result leans on the
    utilisation and running-cost assumptions, so results are graded ``analyst assumption``
    unless every input is sourced. The last two rows give the method used and the cross-check
    in words.

    Examples
    --------
    >>> f = revenue_method_facts().set_index("field")
    >>> round(float(f.loc["token_to_rental_multiple", "value"]), 2)
    6.55
    >>> f.loc["revenue_method_used", "value"].split(" ")[0]
    'capacity-based'
    """
    r = facility_economics(chip, **overrides)
    grades = [f.grade for f in FACILITY_FACTS.values() if f.grade]
    facts = CHIP_FACTS.get(str(chip).strip().upper(), {})
    grades += [facts[k].grade for k in ("tokens_per_s_per_gpu", "rental_usd_per_gpu_hour")
               if k in facts and facts[k].grade]
    grade = weakest_grade(*grades)
    rows = [["facility", key, float(r[key]), unit, grade, formula]
            for key, unit, formula in _METHOD_ROWS]
    rows.append(["facility", "revenue_method_used", r["revenue_method_text"], "", grade,
                 f"revenue_method={r['revenue_method']}"])
    rows.append(["facility", "rental_cross_check", r["rental_cross_check"], "", grade,
                 f"alert above rental_alert_multiple={r['rental_alert_multiple']:g}"])
    return pd.DataFrame(rows, columns=CHIP_FACT_COLUMNS)


# -- chip table -------------------------------------------------------------------------------

_CHIP_FIELDS = tuple(f.name for f in fields(ChipSpec))


def chip_table(
    overrides: Mapping[str, Mapping[str, object] | ChipSpec] | None = None,
    chips: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The chip-generation comparison table, defaults from :data:`CHIP_DEFAULTS` plus overrides.

    Parameters
    ----------
    overrides : mapping, optional
        ``{chip: {field: value}}`` (or ``{chip: ChipSpec}``) to change any default field or add
        a chip. Fields are those of :class:`ChipSpec`. A field changed without a new
        ``source`` gets ``'user override of <field>'`` appended to the row's source.
    chips : iterable of str, optional
        Rows to return, in that order (default: every chip). Names are case-insensitive.

    Returns
    -------
    pandas.DataFrame
        One row per chip. Columns: ``chip``, the :class:`ChipSpec` fields (``unit``,
        ``gpus_per_unit``, ``gpu_watts``, ``unit_watts``, ``unit_price_usd``,
        ``tokens_per_s_per_mw``) and derived ``watts_per_gpu`` (unit_watts / gpus_per_unit),
        ``host_overhead`` (watts_per_gpu / gpu_watts - 1), ``price_per_gpu_usd`` (unit price /
        GPUs: what the economics use), ``gpu_price_usd`` (the GPU alone, for reference),
        ``tokens_per_joule`` (per MW / 1e6, IT level), ``joules_per_token``,
        ``tokens_per_s_per_gpu`` (per MW x watts_per_gpu / 1e6), ``rental_usd_per_gpu_hour``
        (public rental price of one GPU for an hour: the capacity method's price), ``x_hopper`` (NVIDIA's own
        per-MW multiplier on GPT-OSS-120B: a vendor claim on another workload, for reference,
        never applied), ``workload``, ``claim`` and ``source``. Missing figures are NaN.

    Notes
    -----
    .. math:: \\tau = \\frac{\\text{tokens/s per MW}}{10^6}, \\qquad
              s_{\\text{GPU}} = \\tau\\, w_{\\text{GPU}}

    Examples
    --------
    GB200 NVL72: 865,000 tokens/s per 72-GPU rack (Azure, Llama 2 70B) over 120 kW is
    7.208 tokens/J, i.e. 7.21 million tokens/s per MW of IT load; 12,014 tokens/s per GPU.

    >>> t = chip_table(chips=["GB200-NVL72"])
    >>> round(float(t.loc[0, "tokens_per_joule"]), 3), round(float(t.loc[0, "tokens_per_s_per_gpu"]))
    (7.208, 12014)

    An override (a $300,000 server holds 8 GPUs: 300,000 / 8 = $37,500 per GPU):

    >>> t = chip_table({"H100": {"unit_price_usd": 300_000}}, chips=["H100"])
    >>> float(t.loc[0, "price_per_gpu_usd"])
    37500.0
    """
    specs = dict(CHIP_DEFAULTS)
    for name, change in (overrides or {}).items():
        key = str(name).strip().upper()
        if isinstance(change, ChipSpec):
            specs[key] = change
            continue
        unknown = [k for k in change if k not in _CHIP_FIELDS]
        if unknown:
            raise ArgumentError(
                f"unknown chip field {unknown[0]!r} for {key}; expected one of "
                f"{', '.join(_CHIP_FIELDS)}"
            )
        base = specs.get(key, ChipSpec(unit="", gpus_per_unit=math.nan, gpu_watts=math.nan,
                                       unit_watts=math.nan))
        new = replace(base, **change)
        if "source" not in change and key in CHIP_DEFAULTS:
            new = replace(new, source=new.source + "; user override of " + ", ".join(change))
        specs[key] = new
    names = list(specs) if chips is None else [str(c).strip().upper() for c in chips]
    for c in names:
        if c not in specs:
            raise ArgumentError(f"unknown chip {c!r}; expected one of {', '.join(specs)}")
    frame = pd.DataFrame([{"chip": c, **asdict(specs[c])} for c in names])
    for col in ("gpus_per_unit", "gpu_watts", "unit_watts", "unit_price_usd",
                "tokens_per_s_per_mw", "gpu_price_usd", "rental_usd_per_gpu_hour"):
        frame[col] = frame[col].astype(float)
    wpg = np.asarray(divide(frame["unit_watts"], frame["gpus_per_unit"]), dtype=float)
    _check("watts_per_accelerator", wpg)
    tau = frame["tokens_per_s_per_mw"].to_numpy() / 1e6
    frame["watts_per_gpu"] = wpg
    frame["host_overhead"] = np.asarray(divide(wpg, frame["gpu_watts"]), dtype=float) - 1.0
    frame["price_per_gpu_usd"] = divide(frame["unit_price_usd"], frame["gpus_per_unit"])
    frame["tokens_per_joule"] = tau
    frame["joules_per_token"] = divide(1.0, tau)
    frame["tokens_per_s_per_gpu"] = tau * wpg
    frame["x_hopper"] = [VENDOR_X_HOPPER_CLAIMS[c].value if c in VENDOR_X_HOPPER_CLAIMS
                         else math.nan for c in names]
    frame["workload"] = WORKLOAD
    order = ["chip", *_CHIP_FIELDS[:6], "watts_per_gpu", "host_overhead", "price_per_gpu_usd",
             "gpu_price_usd", "tokens_per_joule", "joules_per_token", "tokens_per_s_per_gpu",
             "rental_usd_per_gpu_hour", "x_hopper", "workload", "claim", "source"]
    return frame[order]


# -- AI cloud: capacity and backlog ------------------------------------------------------------


def capacity_revenue(
    mw_online: ArrayLike, revenue_musd_per_mw_year: ArrayLike
) -> NDArray | float:
    """Annual revenue that capacity coming online can serve, USD millions.

    Parameters
    ----------
    mw_online : array_like
        Capacity coming online, MW (facility power), in [0, 100,000].
    revenue_musd_per_mw_year : array_like
        Revenue one MW can earn in a year, USD millions, >= 0 (e.g.
        ``dc_economics(...)["revenue_musd_per_year"] / facility_mw``).

    Returns
    -------
    ndarray or float
        USD millions per year.

    Notes
    -----
    .. math:: R = \\text{MW} \\times r_{\\text{MW}}

    Examples
    --------
    1,000 MW at $10M per MW-year serve $10,000M a year.

    >>> capacity_revenue(1_000, 10.0)
    10000.0
    """
    mw = _check("mw_online", mw_online)
    r = _nonneg("revenue_musd_per_mw_year", revenue_musd_per_mw_year, "USD millions per MW-year")
    return _out(mw * r)


def backlog_conversion(rpo: ArrayLike, capacity_revenue_musd: ArrayLike) -> NDArray | float:
    """Share of the backlog that a year of revenue from new capacity converts.

    Parameters
    ----------
    rpo : array_like
        Backlog (RPO), USD millions, >= 0.
    capacity_revenue_musd : array_like
        Annual revenue the capacity can serve (:func:`capacity_revenue`), USD millions, >= 0.

    Returns
    -------
    ndarray or float
        Fraction of the backlog converted per year (above 1: the capacity could serve more
        than the whole backlog in a year); NaN where RPO is 0 or an input is NaN.

    Notes
    -----
    .. math:: c = R_{\\text{capacity}} / \\text{RPO}

    Examples
    --------
    $10,000M a year against a $375,000M backlog converts 10,000 / 375,000 = 2.67% a year.

    >>> round(backlog_conversion(375_000, 10_000), 4)
    0.0267
    """
    r = _nonneg("rpo", rpo, "USD millions")
    c = _nonneg("capacity_revenue_musd", capacity_revenue_musd, "USD millions")
    return _out(divide(c, r))


# Backlog coverage lives in its own module; re-exported for the CLI, UDFs and older imports.
from aicapex.engine.backlog import (  # noqa: E402
    BACKLOG_COLUMNS,
    backlog_coverage,
    backlog_growth,
    backlog_table,
)

__all__ += ["BACKLOG_COLUMNS"]
