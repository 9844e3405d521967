"""Data-center power and AI-cloud economics: from megawatts to tokens, dollars and backlog.

The chain, one step per quantity::

    facility MW --PUE--> IT MW --W per accelerator--> accelerators
        --tokens/s per accelerator--> tokens/s --utilisation--> tokens per year
        --$/MWh--> energy cost per million tokens --$/Mtok--> revenue --capex--> payback

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

The chip table (:func:`chip_table`) holds sourced defaults; NVIDIA's throughput-per-megawatt
figures are **vendor claims** for specific workloads, not measurements, and are labelled so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from aicapex.engine.metrics import divide, growth
from aicapex.errors import ArgumentError

__all__ = [
    "BOUNDS",
    "BUILD_COST_SOURCES",
    "CHIP_DEFAULTS",
    "ChipSpec",
    "DC_ECONOMICS_FIELDS",
    "FACILITY_CAPEX_MUSD_PER_MW",
    "ALL_IN_CAPEX_USD_BN_PER_GW",
    "HOPPER_TOKENS_PER_S_PER_MW",
    "HOURS_PER_YEAR",
    "SECONDS_PER_YEAR",
    "backlog_conversion",
    "backlog_coverage",
    "backlog_growth",
    "backlog_table",
    "capacity_revenue",
    "capex_per_mw",
    "chip_table",
    "dc_economics",
    "energy_cost_per_mtok",
    "tokens_per_watt",
]

HOURS_PER_YEAR = 8760.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600.0
JOULES_PER_MWH = 3.6e9

# -- sourced defaults -------------------------------------------------------------------------

#: NVIDIA: "In a 1-megawatt AI factory, NVIDIA Hopper generates 180,000 tokens per second (TPS)
#: at max volume" (vendor claim; 1/0.18 = ~5.6 J per token). Read here as per MW of IT load.
HOPPER_TOKENS_PER_S_PER_MW = 180_000.0
_SRC_HOPPER = (
    "NVIDIA blog 'The More You Buy, the More You Make' "
    "(blogs.nvidia.com/blog/ai-factory-inference-optimization): Hopper 180,000 tokens/s in a "
    "1 MW AI factory at max volume (vendor claim)"
)
_SRC_MOE_CLAIMS = (
    "NVIDIA (perspectives.nvidia.com, 'Optimizing throughput at scale: Blackwell'): GB200 NVL72 "
    "10x and GB300 NVL72 up to 50x throughput per MW vs Hopper, mixture-of-experts inference "
    "(GPT-OSS-120B) (vendor claims)"
)

#: Facility (shell, power and cooling) cost per MW of critical IT load, USD millions:
#: CBRE North American Data Center Trends, average rising from ~$7.7M to ~$10.7M per MW.
FACILITY_CAPEX_MUSD_PER_MW = (7.7, 10.7)

#: All-in build cost (facility plus accelerators) per GW, USD billions: ~$35B (Epoch AI's
#: estimate for a ~1.1 GW campus) to ~$50-60B (NVIDIA, Q2 FY2026 call: ~$35B of NVIDIA
#: hardware plus ~$15B of other components per GW).
ALL_IN_CAPEX_USD_BN_PER_GW = (35.0, 60.0)

#: Where the build-cost figures come from.
BUILD_COST_SOURCES: dict[str, str] = {
    "facility_capex_musd_per_mw": (
        "CBRE North American Data Center Trends via build.inc "
        "(build.inc/data-center-construction-costs-2025): ~$7.7M -> ~$10.7M per MW"
    ),
    "all_in_capex_usd_bn_per_gw": (
        "NVIDIA Q2 FY2026 earnings call via livemint.com (2025-09-01): ~$50B per GW "
        "(~$35B NVIDIA hardware + ~$15B other); Epoch AI via data-today.net: ~1.1 GW for ~$35B; "
        "upper end $60B per GW as commonly quoted"
    ),
}


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
        Accelerator chip power (TDP/TGP), W.
    unit_watts : float
        Power of one unit including host CPUs, memory and in-unit networking, W.
    unit_price_usd : float
        Price of one unit, USD (NaN when no sourced figure).
    tokens_per_s_per_mw : float
        Inference throughput per MW of IT load (NaN when no sourced figure).
    claim : str
        What the throughput figure is (a vendor claim, and for which workload).
    source : str
        Where every figure in the row comes from.
    """

    unit: str
    gpus_per_unit: float
    gpu_watts: float
    unit_watts: float
    unit_price_usd: float = math.nan
    tokens_per_s_per_mw: float = math.nan
    claim: str = ""
    source: str = ""


#: Default chip-generation table (override any field with ``chip_table(overrides=...)``).
CHIP_DEFAULTS: dict[str, ChipSpec] = {
    "H100": ChipSpec(
        unit="DGX H100 server (8x H100 SXM)",
        gpus_per_unit=8,
        gpu_watts=700.0,
        unit_watts=10_200.0,
        tokens_per_s_per_mw=HOPPER_TOKENS_PER_S_PER_MW,
        claim="vendor claim (NVIDIA): Hopper 180,000 tokens/s per MW at max volume",
        source=(
            "H100 SXM max TDP 700 W: NVIDIA H100 datasheet (nvidia.com/en-us/data-center/h100); "
            "DGX H100 ~10.2 kW max system power: NVIDIA DGX H100 datasheet; "
            + _SRC_HOPPER
        ),
    ),
    "B200": ChipSpec(
        unit="DGX B200 server (8x B200)",
        gpus_per_unit=8,
        gpu_watts=1_000.0,
        unit_watts=14_300.0,
        claim="no vendor per-MW throughput claim for HGX/DGX B200; supply your own",
        source=(
            "HGX B200 configurable up to 1 kW per GPU and DGX B200 ~14.3 kW max system power: "
            "NVIDIA DGX B200 user guide (docs.nvidia.com)"
        ),
    ),
    "GB200": ChipSpec(
        unit="B200 GPU in GB200 NVL72 (per-GPU share of the rack)",
        gpus_per_unit=1,
        gpu_watts=1_200.0,
        unit_watts=120_000.0 / 72.0,
        unit_price_usd=5.9e6 / 72.0,
        tokens_per_s_per_mw=10.0 * HOPPER_TOKENS_PER_S_PER_MW,
        claim="vendor claim (NVIDIA): GB200 NVL72 10x Hopper throughput per MW, MoE inference",
        source=(
            "GB200-variant B200 ~1,200 W per GPU (industry reporting); per-GPU share of a "
            "~120 kW, ~$5.9M GB200 NVL72 rack (see GB200-NVL72); " + _SRC_MOE_CLAIMS
        ),
    ),
    "GB200-NVL72": ChipSpec(
        unit="GB200 NVL72 rack (72 GPUs, 36 Grace CPUs)",
        gpus_per_unit=72,
        gpu_watts=1_200.0,
        unit_watts=120_000.0,
        unit_price_usd=5.9e6,
        tokens_per_s_per_mw=10.0 * HOPPER_TOKENS_PER_S_PER_MW,
        claim="vendor claim (NVIDIA): 10x Hopper throughput per MW, MoE inference (GPT-OSS-120B)",
        source=(
            "~120 kW per rack: NVIDIA/industry specifications (e.g. awesomeagents.ai, "
            "yobitel.com: 120-132 kW); ~$5.9M per rack: project brief figure, not independently "
            "verified (public reports range ~$2-3M to ~$5M); " + _SRC_MOE_CLAIMS
        ),
    ),
    "GB300-NVL72": ChipSpec(
        unit="GB300 NVL72 rack (72 Blackwell Ultra GPUs, 36 Grace CPUs)",
        gpus_per_unit=72,
        gpu_watts=1_400.0,
        unit_watts=120_000.0,
        tokens_per_s_per_mw=50.0 * HOPPER_TOKENS_PER_S_PER_MW,
        claim=(
            "vendor claim (NVIDIA): up to 50x Hopper throughput per MW, MoE inference "
            "(GPT-OSS-120B)"
        ),
        source=(
            "Blackwell Ultra 1,400 W per GPU: Morgan Stanley via epium.com; ~120 kW per rack: "
            "introl.com (Supermicro figures), reports range to ~132-140 kW; no sourced rack "
            "price; " + _SRC_MOE_CLAIMS
        ),
    ),
}

# -- argument validation ----------------------------------------------------------------------

#: Plausibility bounds: name -> (low, high, unit, hint below, hint above). Values outside are a
#: unit mistake more often than not, so they raise ArgumentError. NaN is always allowed.
BOUNDS: dict[str, tuple[float, float, str, str, str]] = {
    # Largest single campuses announced are a few GW; 10,000 MW = 10 GW. 1e6 "MW" is kW or W.
    "facility_mw": (0.0, 10_000.0, "MW (0 < MW <= 10,000)", "", "did you pass kW or W?"),
    # Power usage effectiveness is total/IT power: >= 1 by definition, ~1.1-1.6 in practice.
    "pue": (1.0, 3.0, "ratio in [1, 3]", "PUE cannot be below 1", "did you pass a percentage?"),
    # A share of the year the capacity is busy.
    "utilization": (0.0, 1.0, "fraction in [0, 1]", "", "did you pass a percentage?"),
    "idle_power_share": (0.0, 1.0, "fraction in [0, 1]", "", "did you pass a percentage?"),
    # All-in W per accelerator (chip plus host, memory, networking): H100 server ~1,275 W per GPU,
    # NVL72 ~1,667 W per GPU. 0.7 looks like kW, 700,000 like mW; a rack's 120,000 W is per rack.
    "watts_per_accelerator": (
        50.0,
        5_000.0,
        "W per accelerator in [50, 5000]",
        "did you pass kW?",
        "did you pass mW, or the power of a whole server or rack?",
    ),
    # Per accelerator; NVIDIA's 50x Hopper claim is ~15,000 tokens/s per GPU. Above 1e6 looks
    # like a per-MW or per-rack figure.
    "tokens_per_s_per_accelerator": (
        0.0,
        1e6,
        "tokens/s per accelerator in [0, 1e6]",
        "",
        "did you pass tokens/s per MW or per rack?",
    ),
    # Wholesale and industrial power: ~$20-300/MWh. 0.08 looks like $/kWh.
    "electricity_usd_per_mwh": (
        1.0,
        1_000.0,
        "USD per MWh in [1, 1000] (or 0)",
        "did you pass USD per kWh? multiply by 1000",
        "did you pass USD per GWh?",
    ),
    # API list prices run from ~$0.02 to a few hundred USD per million tokens.
    "price_per_mtok": (
        0.001,
        1_000.0,
        "USD per million tokens in [0.001, 1000] (or 0)",
        "did you pass USD per token or per thousand tokens?",
        "",
    ),
    # All-in USD per accelerator (a GPU's share of its server/rack): ~$25k-$100k. 0.03 looks
    # like USD millions; 5.9e6 like a whole rack.
    "accelerator_usd": (
        1_000.0,
        1e6,
        "USD per accelerator in [1,000, 1,000,000]",
        "did you pass USD millions or thousands?",
        "did you pass the price of a whole server or rack? divide by GPUs per unit",
    ),
    # Facility shell, power and cooling per MW of IT load: CBRE ~$7.7-10.7M.
    "facility_capex_musd_per_mw": (
        0.0,
        100.0,
        "USD millions per MW in [0, 100]",
        "",
        "did you pass USD or USD thousands? money is in USD millions",
    ),
    # Capacity coming online per year, MW (100 GW covers an industry-wide total).
    "mw_online": (0.0, 100_000.0, "MW in [0, 100,000]", "", "did you pass kW or W?"),
}

_ZERO_OK = {"electricity_usd_per_mwh", "price_per_mtok"}


def _check(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """Return ``value`` as floats, raising ArgumentError if any non-NaN entry is out of bounds."""
    a = np.asarray(value, dtype=float)
    lo, hi, unit, hint_lo, hint_hi = BOUNDS[name]
    finite = a[~np.isnan(a)]
    if finite.size == 0:
        return a
    zero_ok = name in _ZERO_OK
    strict_lo = name == "facility_mw"
    bad_lo = finite <= lo if strict_lo else finite < lo
    if zero_ok:
        bad_lo &= finite != 0
    bad_hi = finite > hi
    bad = bad_lo | bad_hi
    if bad.any():
        v = finite[bad][0]
        hint = hint_lo if v < lo or (strict_lo and v <= lo) else hint_hi
        msg = f"{name}={v:g} is out of range: expected {unit}"
        raise ArgumentError(msg + (f"; {hint}" if hint else ""))
    return a


def _nonneg(name: str, value: ArrayLike, unit: str) -> NDArray[np.float64]:
    a = np.asarray(value, dtype=float)
    neg = a[~np.isnan(a)] < 0
    if neg.any():
        v = a[~np.isnan(a)][neg][0]
        raise ArgumentError(f"{name}={v:g} is negative: expected {unit} >= 0")
    return a


def _out(x: NDArray) -> NDArray | float:
    """numpy-financial convention: a 0-d result comes back as a float."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


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

    Returns
    -------
    ndarray or float
        USD millions per MW (of IT load when ``pue=1``, else of facility power).

    Notes
    -----
    A MW of IT load holds :math:`10^6 / w` accelerators, so the accelerator cost per MW in USD
    millions is :math:`(10^6/w)\\,a/10^6 = a/w` (USD per W equals USD millions per MW):

    .. math:: K_{\\text{MW}} = \\frac{F + a / w}{\\text{PUE}}

    Examples
    --------
    GB200 NVL72: $5.9M / 72 = $81,944 per GPU; 120 kW / 72 = 1,666.7 W per GPU, so
    81,944 / 1,666.7 = $49.17M of racks per MW, plus $10.7M facility = $59.87M per IT MW
    (about $60B per GW, the top of the $35-60B all-in range).

    >>> round(capex_per_mw(5.9e6 / 72, 120_000 / 72, 10.7), 2)
    59.87
    >>> round(capex_per_mw(30_000, 1_250, 10.0, pue=1.2), 2)  # (10 + 24) / 1.2
    28.33
    """
    a = _check("accelerator_usd", accelerator_usd)
    w = _check("watts_per_accelerator", watts_per_accelerator)
    f = _check("facility_capex_musd_per_mw", facility_capex_musd_per_mw)
    p = _check("pue", pue)
    return _out((f + a / w) / p)


#: Keys of :func:`dc_economics`'s result, in chain order.
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
) -> dict[str, NDArray | float]:
    """Every quantity of the MW-to-payback chain for one or many data-center configurations.

    Parameters
    ----------
    facility_mw : array_like
        Facility (grid) power, MW, in (0, 10,000].
    pue : array_like
        Power usage effectiveness (facility / IT power), in [1, 3].
    watts_per_accelerator : array_like
        All-in power per accelerator including host and networking, W, in [50, 5000].
    tokens_per_s_per_accelerator : array_like
        Peak inference throughput per accelerator, tokens/s, in [0, 1e6].
    utilization : array_like
        Share of the year the capacity serves at peak throughput, in [0, 1].
    electricity_usd_per_mwh : array_like
        Electricity price, USD per MWh, 0 or in [1, 1000].
    price_per_mtok : array_like
        Selling price, USD per million tokens, 0 or in [0.001, 1000].
    accelerator_usd : array_like, optional
        All-in price per accelerator, USD, in [1,000, 1,000,000]; NaN (default) leaves capex
        and payback NaN.
    facility_capex_musd_per_mw : array_like, default 10.7
        Facility cost per MW of IT load, USD millions (CBRE).
    idle_power_share : array_like, default 0
        Share of full power drawn while idle, in [0, 1]. With 0, energy scales with
        utilisation; with 1, the facility draws its full power all year.
    other_opex_musd_per_year : array_like, default 0
        Other running costs (staff, maintenance), USD millions per year, >= 0.

    Returns
    -------
    dict of str to ndarray or float
        Keys :data:`DC_ECONOMICS_FIELDS` in chain order, every value broadcast to the common
        shape (floats for scalar input). A dict of arrays broadcasts like the inputs; wrap it
        in ``pandas.DataFrame`` for a table (``pd.DataFrame([result])`` for scalar input).

    Notes
    -----
    With :math:`M` facility MW, :math:`w` W per accelerator, :math:`s` tokens/s per
    accelerator, :math:`u` utilisation, :math:`i` idle power share, :math:`T = 31{,}536{,}000`
    s and :math:`H = 8760` h per year:

    .. math::

        M_{IT} &= M / \\text{PUE}, \\quad N = 10^6 M_{IT} / w, \\quad S = N s \\\\
        \\tau_{IT} &= S / (10^6 M_{IT}) = s / w, \\quad \\tau = S / (10^6 M) \\\\
        Q &= S\\,u\\,T \\quad \\text{(tokens per year)} \\\\
        E &= M H (u + (1-u) i) \\quad \\text{(MWh per year)} \\\\
        C_E &= E\\,p_{\\text{MWh}} / 10^6, \\quad c_{\\text{Mtok}} = 10^6 C_E / (Q/10^6) \\\\
        R &= (Q / 10^6)\\,p_{\\text{Mtok}} / 10^6 \\\\
        K &= M_{IT} F + N a / 10^6, \\quad K_{\\text{MW}} = K / M_{IT} \\\\
        \\Pi &= R - C_E - O, \\quad \\text{payback} = K / \\Pi \\text{ (NaN if } \\Pi \\le 0)

    Accelerator counts are not rounded. ``capex_musd_per_mw`` is per MW of IT load (the CBRE
    basis). ``tokens_per_joule`` is at facility level (includes PUE); with ``idle_power_share
    = 0``, ``energy_cost_per_mtok`` equals :func:`energy_cost_per_mtok` of it. Payback is
    simple (undiscounted, pre-tax).

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
    opex = _nonneg("other_opex_musd_per_year", other_opex_musd_per_year, "USD millions per year")
    m, p, w, s, u, e_price, price, a, f, idle, opex = np.broadcast_arrays(
        m, p, w, s, u, e_price, price, a, f, idle, opex
    )

    it_mw = m / p
    n = it_mw * 1e6 / w
    tps = n * s
    tau_it = divide(tps, it_mw * 1e6)
    tau = divide(tps, m * 1e6)
    annual_tokens = tps * u * SECONDS_PER_YEAR
    energy_mwh = m * HOURS_PER_YEAR * (u + (1.0 - u) * idle)
    energy_musd = energy_mwh * e_price / 1e6
    energy_per_mtok = divide(energy_musd * 1e6, annual_tokens / 1e6)
    revenue = annual_tokens / 1e6 * price / 1e6
    capex = it_mw * f + n * a / 1e6
    profit = revenue - energy_musd - opex
    payback = divide(capex, np.where(profit > 0, profit, 0.0))
    payback = np.where(np.isnan(profit), np.nan, payback)

    values = (
        m,
        it_mw,
        n,
        tps,
        tau_it,
        tau,
        divide(1.0, tau),
        annual_tokens,
        energy_mwh,
        energy_musd,
        energy_per_mtok,
        revenue,
        capex,
        divide(capex, it_mw),
        profit,
        payback,
    )
    return {k: _out(np.asarray(v, dtype=float)) for k, v in zip(DC_ECONOMICS_FIELDS, values, strict=True)}


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
        ``tokens_per_s_per_mw``, ``claim``, ``source``) and derived ``watts_per_gpu``
        (unit_watts / gpus_per_unit), ``host_overhead`` (watts_per_gpu / gpu_watts - 1),
        ``price_per_gpu_usd``, ``tokens_per_joule`` (per MW / 1e6, IT level),
        ``joules_per_token``, ``tokens_per_s_per_gpu`` (per MW x watts_per_gpu / 1e6) and
        ``x_hopper`` (tokens per MW over Hopper's 180,000). Missing figures are NaN.

    Notes
    -----
    .. math:: \\tau = \\frac{\\text{tokens/s per MW}}{10^6}, \\qquad
              s_{\\text{GPU}} = \\tau\\, w_{\\text{GPU}}

    Examples
    --------
    Hopper: 180,000 tokens/s per MW = 0.18 tokens/J; a DGX H100 (10.2 kW / 8 = 1,275 W per
    GPU) then does 0.18 x 1,275 = 229.5 tokens/s per GPU.

    >>> t = chip_table(chips=["H100"])
    >>> cols = ["tokens_per_joule", "watts_per_gpu", "tokens_per_s_per_gpu"]
    >>> t.loc[0, cols].astype(float).tolist()
    [0.18, 1275.0, 229.5]

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
                "tokens_per_s_per_mw"):
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
    frame["x_hopper"] = frame["tokens_per_s_per_mw"] / HOPPER_TOKENS_PER_S_PER_MW
    order = ["chip", *_CHIP_FIELDS[:6], "watts_per_gpu", "host_overhead", "price_per_gpu_usd",
             "tokens_per_joule", "joules_per_token", "tokens_per_s_per_gpu", "x_hopper",
             "claim", "source"]
    return frame[order]


# -- AI cloud: backlog ------------------------------------------------------------------------


def backlog_coverage(rpo: ArrayLike, revenue: ArrayLike) -> NDArray | float:
    """Years of revenue in the backlog: remaining performance obligations over annual revenue.

    Parameters
    ----------
    rpo : array_like
        Remaining performance obligations (contracted backlog), USD millions, >= 0.
    revenue : array_like
        Annual revenue, USD millions, >= 0.

    Returns
    -------
    ndarray or float
        Years; NaN where revenue is 0 or an input is NaN.

    Notes
    -----
    .. math:: \\text{coverage} = \\text{RPO} / \\text{revenue}

    Examples
    --------
    MSFT FY2025: RPO 375,000 / revenue 281,724 = 1.331 years.

    >>> round(backlog_coverage(375_000, 281_724), 3)
    1.331
    >>> backlog_coverage([100, 50], [0, 25]).tolist()
    [nan, 2.0]
    """
    r = _nonneg("rpo", rpo, "USD millions")
    v = _nonneg("revenue", revenue, "USD millions")
    return _out(divide(r, v))


def backlog_growth(rpo: ArrayLike, axis: int = -1) -> NDArray:
    """Period-on-period growth of the backlog along ``axis``; the first period is NaN.

    Parameters
    ----------
    rpo : array_like
        Backlog (RPO) by consecutive period, USD millions, >= 0.
    axis : int, default -1
        Time axis.

    Returns
    -------
    ndarray
        Growth rates (0.1 = 10%); NaN for the first period and where the prior value is 0 or
        either value is NaN (a missing year breaks the chain; nothing is filled).

    Notes
    -----
    .. math:: g_t = \\text{RPO}_t / \\text{RPO}_{t-1} - 1

    Examples
    --------
    MSFT RPO 229,000 (FY2023) -> 275,000 (FY2024) -> 375,000 (FY2025):
    275/229 - 1 = 0.2009; 375/275 - 1 = 0.3636.

    >>> np.round(backlog_growth([229_000, 275_000, 375_000]), 4).tolist()
    [nan, 0.2009, 0.3636]
    """
    return growth(_nonneg("rpo", rpo, "USD millions"), axis=axis)


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


#: Columns of :func:`backlog_table`.
BACKLOG_COLUMNS = [
    "ticker",
    "fiscal_year",
    "rpo",
    "revenue",
    "backlog_growth",
    "backlog_coverage_years",
]


def backlog_table(ds: object, tickers: Iterable[str] | None = None) -> pd.DataFrame:
    """RPO (backlog), revenue, backlog growth and coverage by company and fiscal year.

    Parameters
    ----------
    ds : aicapex.data.dataset.Dataset
        Anything with ``tickers`` and ``wide(ticker)`` (index fiscal_year, one column per
        field; NaN = missing).
    tickers : iterable of str, optional
        Companies, in order. Default: every company that reports any RPO.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BACKLOG_COLUMNS`: ticker, fiscal_year, rpo, revenue (USD millions),
        backlog_growth (fraction), backlog_coverage_years. Missing figures stay NaN; growth
        compares with the previous fiscal year only, so a missing year leaves NaN on both
        sides of the gap.

    Notes
    -----
    .. math:: g_t = \\text{RPO}_t / \\text{RPO}_{t-1} - 1, \\qquad
              \\text{coverage}_t = \\text{RPO}_t / \\text{revenue}_t
    """
    names = list(ds.tickers) if tickers is None else [str(t).strip().upper() for t in tickers]
    parts = []
    for t in names:
        w = ds.wide(t)
        if tickers is None and ("rpo" not in w.columns or w["rpo"].isna().all()):
            continue
        years = [int(y) for y in w.index]
        if not years:
            continue
        full = pd.RangeIndex(min(years), max(years) + 1)
        rpo = w["rpo"] if "rpo" in w.columns else pd.Series(np.nan, index=w.index)
        rev = w["revenue"] if "revenue" in w.columns else pd.Series(np.nan, index=w.index)
        rpo = rpo.astype(float).reindex(full)
        rev = rev.astype(float).reindex(full)
        part = pd.DataFrame(
            {
                "ticker": t,
                "fiscal_year": full,
                "rpo": rpo.to_numpy(),
                "revenue": rev.to_numpy(),
                "backlog_growth": backlog_growth(rpo.to_numpy()),
                "backlog_coverage_years": backlog_coverage(rpo.to_numpy(), rev.to_numpy()),
            }
        )
        parts.append(part[part["fiscal_year"].isin(years)])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in BACKLOG_COLUMNS})
    return pd.concat(parts, ignore_index=True)[BACKLOG_COLUMNS]
