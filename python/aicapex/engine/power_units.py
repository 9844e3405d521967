"""Units and plausibility bounds of the power model: hours and seconds in a year, and the range
each argument may take (a value outside is almost always a unit mistake: kW for W, $/kWh for
$/MWh, a whole rack's price for one GPU's), shared by :mod:`aicapex.engine.power` and
:mod:`aicapex.engine.power_revenue`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aicapex.engine.validation import as_output, check_range

__all__ = ["BOUNDS", "HOURS_PER_YEAR", "JOULES_PER_MWH", "OPEN_BELOW", "SECONDS_PER_YEAR",
           "ZERO_ALLOWED", "as_output", "check_bound", "nonnegative"]

HOURS_PER_YEAR = 8760.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600.0
JOULES_PER_MWH = 3.6e9
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
    # Public GPU rental: ~$2-16 per GPU-hour (H100 at neoclouds to B200 at a hyperscaler); a
    # whole 4- or 8-GPU instance lists at $40-130 an hour.
    "rental_usd_per_gpu_hour": (
        0.05,
        40.0,
        "USD per GPU-hour in [0.05, 40]",
        "did you pass USD per GPU-minute?",
        "did you pass the price of a whole instance? divide by its GPUs",
    ),
    # MLPerf Server over Offline throughput on the same system: 0.88 (H100) to 0.95 (B200).
    "serving_derate": (0.0, 1.0, "fraction in (0, 1]", "",
                       "did you pass a percentage? a derate is served / peak throughput"),
    "rental_alert_multiple": (0.0, 100.0, "multiple in (0, 100]", "", "did you pass a percentage?"),
    # Capacity coming online per year, MW (100 GW covers an industry-wide total).
    "mw_online": (0.0, 100_000.0, "MW in [0, 100,000]", "", "did you pass kW or W?"),
    # Scale-out networking as a share of accelerator capex (~10-15% of cluster cost).
    "networking_share": (0.0, 1.0, "fraction in [0, 1]", "", "did you pass a percentage?"),
    # Operations and maintenance a year as a share of capex.
    "om_share": (0.0, 1.0, "fraction of capex a year in [0, 1]", "",
                 "did you pass a percentage?"),
    # Useful lives: accelerators 3-6 years in practice; buildings 15-40.
    "accelerator_life_years": (0.0, 30.0, "years in (0, 30]", "",
                               "did you pass months? accelerators last ~3-6 years"),
    "facility_life_years": (0.0, 100.0, "years in (0, 100]", "", "did you pass months?"),
}

#: Arguments for which 0 means "not charged" and passes below the lower bound.
ZERO_ALLOWED = frozenset({"electricity_usd_per_mwh", "price_per_mtok"})
#: Arguments whose lower bound itself is refused (a life, a size or a derate of 0).
OPEN_BELOW = frozenset({"facility_mw", "accelerator_life_years", "facility_life_years",
                        "serving_derate", "rental_alert_multiple"})


def check_bound(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """``value`` as floats, checked against its row of :data:`BOUNDS` (NaN passes) with the
    engine's one range check, :func:`aicapex.engine.validation.check_range`."""
    lo, hi, unit, hint_lo, hint_hi = BOUNDS[name]
    return check_range(name, value, lo, hi, unit, lo_open=name in OPEN_BELOW,
                       zero_ok=name in ZERO_ALLOWED, hint_lo=hint_lo, hint_hi=hint_hi)


def nonnegative(name: str, value: ArrayLike, unit: str) -> NDArray[np.float64]:
    """``value`` as floats, every entry other than NaN >= 0 (a count, a price, a flow)."""
    return check_range(name, value, 0.0, math.inf, f"{unit} >= 0")
