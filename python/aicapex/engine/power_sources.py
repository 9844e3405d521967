"""Sourced defaults of the power model: each number with its source and a grade.

Every default the power economics use is a :class:`Fact`: a value, its unit, a *grade* and the
public pages it comes from (found with the project's search of stored public pages, cited by
address). Grades:

* ``vendor claim``: the maker or seller says so (datasheets, list prices, a vendor's own
  benchmark submission);
* ``industry reporting``: at least two independent reports agree;
* ``analyst assumption``: a judgement of ours, stated so the user can change it.

A number found in one report only, or in reports that disagree, is **not** a default: the fact
is left empty (NaN) with a note of what was found, and the user types their own.

Throughput is like-for-like: every default tokens/s figure is for :data:`WORKLOAD` (one model,
one benchmark scenario). NVIDIA's per-megawatt multipliers on another model (GPT-OSS-120B) are
kept as :data:`VENDOR_X_HOPPER_CLAIMS`, labelled, and never multiplied onto a baseline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from aicapex.errors import ArgumentError

__all__ = [
    "CHIP_FACT_COLUMNS",
    "GRADES",
    "GRADE_RANK",
    "chip_facts",
    "facility_facts",
    "weakest_grade",
    "Fact",
    "CHIP_FACTS",
    "FACILITY_FACTS",
    "VENDOR_X_HOPPER_CLAIMS",
    "WORKLOAD",
    "TOKEN_PRICE_MODEL",
    "REVENUE_METHODS",
    "REVENUE_METHOD_DEFAULT",
    "REVENUE_METHOD_WHY",
]

GRADES = ("vendor claim", "industry reporting", "analyst assumption")
NAN = math.nan


@dataclass(frozen=True)
class Fact:
    """One default: value (NaN = left for the user), unit, grade, source and a note."""

    value: float
    unit: str
    grade: str
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        if math.isnan(self.value):
            if self.grade:
                raise ValueError("an empty fact has no grade")
        elif self.grade not in GRADES:
            raise ValueError(f"grade {self.grade!r} is not one of {GRADES}")


#: The one workload every default throughput figure refers to.
WORKLOAD = ("Llama 2 70B, MLPerf Inference datacenter Offline scenario (output tokens/s at "
            "peak batch, no latency limit)")
#: How the facility's headline revenue is computed: ``token`` (throughput x serving derate x
#: utilisation x token price), ``capacity`` (GPUs x hours x utilisation x rental price per
#: GPU-hour) or ``conservative`` (the lower of the two that can be computed).
REVENUE_METHODS = ("conservative", "token", "capacity")
REVENUE_METHOD_DEFAULT = "conservative"
REVENUE_METHOD_WHY = ("the lower of the token-based and capacity-based revenue: the token method "
                      "sells a benchmark's throughput at an API list price, the capacity method "
                      "rents the same GPUs at a public price; an analyst shows the figure the "
                      "market already pays, not the one that needs every assumption to hold")
#: The model whose public list price is the default token price: same size and architecture
#: (70B dense Llama) as the benchmark model.
TOKEN_PRICE_MODEL = "Llama-3.3-70B-Instruct"

_MLPERF_AZURE = ("Microsoft Azure HPC blog (techcommunity.microsoft.com/blog/"
                 "azurehighperformancecomputingblog/...-delivers-record-performance-for-inference-"
                 "workloads/4399253): 865,000 tokens/s on one GB200 NVL72 (72 GPUs), Llama 2 70B, "
                 "unverified MLPerf Inference v4.1 submission")
_MLPERF_V41 = ("MLCommons MLPerf Inference v4.1 closed results, NVIDIA submission "
               "(github.com/mlcommons/inference_results_v4.1, closed/NVIDIA/results/")
_GB200_RENTAL = ("lowest public on-demand list price found for the same GPU: Spheron $9.08 an hour "
                 "per GB200 Superchip (2 Blackwell GPUs + 1 Grace CPU) = $4.54 per GPU-hour "
                 "(spheron.network/blog/nvidia-h200-vs-b200-vs-gb200, 2026-03-17); CoreWeave lists "
                 "its 4-GPU GB200 NVL72 instance at $42.00 an hour = $10.50 per GPU-hour "
                 "(kaelresearch.com/blog/gpu-economics-real-inference-costs, 2026-02; also "
                 "gpu.blog/gpus/nvidia-gb200-nvl72). On-demand list prices are a ceiling: "
                 "one-year H100 contracts ran $2.35 per GPU-hour in March 2026 (SemiAnalysis via "
                 "techreaderdaily.com), against $2.95-6.16 H100 on-demand lists")
_NVL72_POWER = ("~120 kW per rack: awesomeagents.ai/hardware/nvidia-gb200-nvl72 and "
                "kshirol-dev.github.io/learnAI/AIInfrastructure/08-training-clusters.html")
_GB300_POWER = ("~120 kW per rack: introl.com/blog/why-nvidia-gb300-nvl72-blackwell-ultra-matters "
                "(Supermicro: 117 kW compute + 3.6 kW switch trays), oxmaint.com (120 kW), "
                "toptechnews.homenode.tech (~120 kW); one guide says ~132 kW "
                "(ailearningguides.com)")

#: chip -> field -> Fact. Fields: gpus_per_unit, gpu_watts, unit_watts, unit_price_usd,
#: gpu_price_usd (the accelerator alone, for reference), tokens_per_s_per_gpu (on WORKLOAD).
CHIP_FACTS: dict[str, dict[str, Fact]] = {
    "H100": {
        "gpus_per_unit": Fact(8, "GPUs", "vendor claim",
                              "NVIDIA DGX H100: 8x H100 SXM (kshirol-dev.github.io learnAI, "
                              "DGX H100 vs NVL72 table; supercluster.blog/p/4-nvidia-dgx-h100-"
                              "hardware)"),
        "gpu_watts": Fact(700, "W", "industry reporting",
                          "H100 SXM 700 W TDP: egoistai.com/articles/nvidia-blackwell-impact and "
                          "awesomeagents.ai/hardware/nvidia-b200 (B200 '43% more than the H100')"),
        "unit_watts": Fact(10_200, "W", "vendor claim",
                           "DGX H100 ~10.2 kW max system power (NVIDIA DGX H100 datasheet, as "
                           "tabulated at kshirol-dev.github.io/learnAI/AIInfrastructure/"
                           "08-training-clusters.html)"),
        "unit_price_usd": Fact(NAN, "USD", "",
                               "left for the user: reports of a DGX H100 disagree ($199,000 list, "
                               "supercluster.blog; ~$270,000, SemiAnalysis via github.com/"
                               "epoch-research/training-cost-trends; $317,000 quote with "
                               "InfiniBand, thinkmate via a public sheet)"),
        "gpu_price_usd": Fact(27_500, "USD", "industry reporting",
                              "midpoint of $25,000-30,000 per H100: awesomeagents.ai/hardware/"
                              "nvidia-h100 and Raymond James via github.com/epoch-research/"
                              "training-cost-trends (also egoistai.com); the GPU alone, not a "
                              "server"),
        "tokens_per_s_per_gpu": Fact(24_524.9 / 8, "tokens/s", "vendor claim",
                                     _MLPERF_V41 + "DGX-H100_H100-SXM-80GBx8_TRT: Llama 2 70B "
                                     "Offline 24,524.9 tokens/s on 8x H100 (Server 21,605.8); "
                                     "24,524.9 / 8 GPUs"),
        "rental_usd_per_gpu_hour": Fact(3.99, "USD per GPU-hour", "vendor claim",
                                        "Lambda on-demand list, 8x H100 SXM, $3.99 per GPU-hour "
                                        "(opslyft.com/blog/nebius-vs-aws-gpu-cost-allocation, "
                                        "2026-05-18; $3.78 for 1x H100 SXM at techbytes.app/"
                                        "posts/serverless-gpu-pricing-matrix-modal-replicate-"
                                        "lambda-2026); range $2.95 (Nebius) to $6.16 (CoreWeave "
                                        "HGX H100 $49.24 / 8, kaelresearch.com/blog/gpu-economics-"
                                        "real-inference-costs)"),
    },
    "B200": {
        "gpus_per_unit": Fact(8, "GPUs", "vendor claim",
                              "NVIDIA DGX B200 user guide: 8x B200 (docs.nvidia.com/dgx/"
                              "dgxb200-user-guide/introduction-to-dgxb200.html)"),
        "gpu_watts": Fact(1_000, "W", "industry reporting",
                          "B200 1,000 W TDP: docs.vultr.com/inference-cookbook (HGX B200 "
                          "overview) and awesomeagents.ai/hardware/nvidia-b200"),
        "unit_watts": Fact(14_300, "W", "industry reporting",
                           "DGX B200 ~14.3 kW: madcoolstuff.com/guides/datacenter-inference-"
                           "blueprint and NVIDIA DGX B200 user guide power specifications "
                           "(6 x 3.3 kW supplies, docs.nvidia.com)"),
        "unit_price_usd": Fact(NAN, "USD", "",
                               "left for the user: one report only ($515,000 for a DGX B200, "
                               "vengineer.hatenablog.com, 2025-03-16)"),
        "gpu_price_usd": Fact(35_000, "USD", "industry reporting",
                              "midpoint of $30,000-40,000 per B200: egoistai.com/articles/"
                              "nvidia-blackwell-impact, paulscannon.com (Blackwell B200 review) "
                              "and Morgan Stanley via geektopia.es; the GPU alone"),
        "tokens_per_s_per_gpu": Fact(103_000 / 8, "tokens/s", "vendor claim",
                                     "NVIDIA, MLPerf Inference v5.1 closed: Llama 2 70B up to "
                                     "~103,000 tokens/s on 8x B200, Offline (ainews247.org/story/"
                                     "36773); 103,000 / 8 GPUs"),
        "rental_usd_per_gpu_hour": Fact(6.0, "USD per GPU-hour", "industry reporting",
                                        "about $6.00 on demand at specialised clouds: RunPod "
                                        "$5.98 (deploybase.ai/articles/b200-vs-h200-vs-h100), "
                                        "Spheron $6.03 (spheron.network/blog/nvidia-h200-vs-b200-"
                                        "vs-gb200, 2026-03-17), top of the $4.50-6.00 range at "
                                        "lyceum.technology (2026-03-11); CoreWeave lists $8.60 "
                                        "(8x B200 $68.80, kaelresearch.com)"),
    },
    "GB200-NVL72": {
        "gpus_per_unit": Fact(72, "GPUs", "vendor claim",
                              "72 Blackwell GPUs and 36 Grace CPUs per rack (NVIDIA; "
                              "awesomeagents.ai/hardware/nvidia-gb200-nvl72, aiwiki.ai)"),
        "gpu_watts": Fact(NAN, "W", "",
                          "left for the user: one report only (1,200 W per GB200 GPU, "
                          "fetchlogic.net citing SemiAnalysis); the rack power below is what the "
                          "economics use"),
        "unit_watts": Fact(120_000, "W", "industry reporting", _NVL72_POWER),
        "unit_price_usd": Fact(3.0e6, "USD", "industry reporting",
                               "~$3M per rack: tweaktown.com (NT$96M, about $3M, citing UDN, "
                               "2024-05-02) and fetchlogic.net ($3.1M); $2-3M at awesomeagents.ai "
                               "and kshirol-dev.github.io. The $5.9M used before was never a "
                               "sourced figure"),
        "gpu_price_usd": Fact(NAN, "USD", "",
                              "sold as a rack; per GPU see price_per_gpu_usd (rack / 72)"),
        "tokens_per_s_per_gpu": Fact(865_000 / 72, "tokens/s", "vendor claim",
                                     _MLPERF_AZURE + "; 865,000 / 72 GPUs"),
        "rental_usd_per_gpu_hour": Fact(9.08 / 2, "USD per GPU-hour", "vendor claim",
                                        _GB200_RENTAL),
    },
    "GB300-NVL72": {
        "gpus_per_unit": Fact(72, "GPUs", "vendor claim",
                              "72 Blackwell Ultra GPUs and 36 Grace CPUs per rack (NVIDIA; "
                              "aiwiki.ai/wiki/nvidia_gb300_nvl72, introl.com)"),
        "gpu_watts": Fact(1_400, "W", "industry reporting",
                          "Blackwell Ultra 1,400 W: Morgan Stanley via epium.com and "
                          "awesomeagents.ai/hardware/nvidia-gb300-nvl72"),
        "unit_watts": Fact(120_000, "W", "industry reporting", _GB300_POWER),
        "unit_price_usd": Fact(NAN, "USD", "",
                               "left for the user: one report only ($3-4M per rack, estimate, "
                               "awesomeagents.ai/hardware/nvidia-gb300-nvl72)"),
        "gpu_price_usd": Fact(NAN, "USD", "", "sold as a rack"),
        "tokens_per_s_per_gpu": Fact(NAN, "tokens/s", "",
                                     "left for the user: no GB300 result on this workload was "
                                     "found (NVIDIA's v5.1 GB300 results are for DeepSeek-R1 "
                                     "and Llama 3.1 405B, other workloads)"),
        "rental_usd_per_gpu_hour": Fact(NAN, "USD per GPU-hour", "",
                                        "left for the user: no public per-GPU rental price for "
                                        "GB300 NVL72 was found in the stored pages"),
    },
}
# The per-GPU share of a GB200 NVL72 rack, kept as its own row for older workbooks.
CHIP_FACTS["GB200"] = {
    **CHIP_FACTS["GB200-NVL72"],
    "gpus_per_unit": Fact(1, "GPUs", "vendor claim", "one GPU's share of a GB200 NVL72 rack"),
    "unit_watts": Fact(120_000 / 72, "W", "industry reporting", _NVL72_POWER + "; / 72 GPUs"),
    "unit_price_usd": Fact(3.0e6 / 72, "USD", "industry reporting",
                           CHIP_FACTS["GB200-NVL72"]["unit_price_usd"].source + "; / 72 GPUs"),
}
CHIP_FACTS = {k: CHIP_FACTS[k] for k in ("H100", "B200", "GB200", "GB200-NVL72", "GB300-NVL72")}

#: NVIDIA's throughput-per-MW multipliers against Hopper on GPT-OSS-120B (a mixture-of-experts
#: model): vendor claims on another workload, shown for reference and never multiplied onto a
#: baseline measured on a different workload.
VENDOR_X_HOPPER_CLAIMS: dict[str, Fact] = {
    "GB200-NVL72": Fact(10, "x Hopper per MW", "vendor claim",
                        "NVIDIA (perspectives.nvidia.com, 'Optimizing throughput at scale: "
                        "Blackwell'): 10x Hopper per MW on GPT-OSS-120B"),
    "GB300-NVL72": Fact(50, "x Hopper per MW", "vendor claim",
                        "NVIDIA: up to 50x Hopper 'AI factory output' (aiwiki.ai/wiki/"
                        "nvidia_gb300_nvl72; perspectives.nvidia.com), GPT-OSS-120B"),
}

_TEN_K_LIVES = ("server useful lives in the 10-Ks: AMZN 5 years from 2025, META 5.5, MSFT and "
                "GOOGL 6 (the ROI sheet's in_ROIServerLife note)")

#: The reference facility's assumptions.
FACILITY_FACTS: dict[str, Fact] = {
    "facility_mw": Fact(100, "MW", "analyst assumption",
                        "an illustrative 100 MW campus (grid power = IT load x PUE)"),
    "pue": Fact(1.2, "x", "industry reporting",
                "hyperscale PUE 1.1-1.2 (Uptime Institute via lowdown.today/e/uptime-institute; "
                "Google ~1.1 via Statista at datasetsearch.research.google.com); industry "
                "average 1.56-1.58 (Uptime Institute, journal.uptimeinstitute.com)"),
    "utilization": Fact(0.75, "fraction", "industry reporting",
                        "share of the year's GPU-hours sold (capacity method) or spent serving "
                        "paid requests (token method): GPU servers do useful work 75-85% of the "
                        "time (Lawrence Berkeley National Laboratory via Uptime Institute, "
                        "intelligence.uptimeinstitute.com/resource/gpu-utilization-confusing-"
                        "metric, 2025-05); hyperscalers run inference fleets at 70-85% "
                        "(VentureBeat analysis via aitechconnect-976.pages.dev/news/enterprise-"
                        "gpu-utilisation-crisis-5-percent); the low end of where both agree. "
                        "Enterprise clusters average far less (5%, Cast AI): sensitivity 25-100% "
                        "(power --view utilization)"),
    "serving_derate": Fact(10_755.6 / 11_264.4, "fraction of Offline throughput",
                           "vendor claim",
                           _MLPERF_V41 + "B200-SXM-180GBx1_TRT, the GPU of GB200 NVL72): Llama 2 "
                           "70B Server scenario (latency limits: a served stream) 10,755.6 "
                           "tokens/s against 11,264.4 Offline (maximum batch) = 0.955; on 8x "
                           "H100 21,605.8 / 24,524.9 = 0.881. Stricter interactive limits "
                           "(MLPerf v5.0 Llama 2 70B Interactive) would lower it further"),
    "electricity_usd_per_mwh": Fact(80.6, "USD/MWh", "industry reporting",
                                    "US industrial average 8.06 cents/kWh in 2023 (EIA via "
                                    "statista.com/statistics/190680); state figures 5.8-18.6 "
                                    "(EIA Electric Power Annual, eia.gov/electricity/annual/"
                                    "secrev-map.php)"),
    "rental_alert_multiple": Fact(1.5, "x the rental benchmark", "analyst assumption",
                                  "alert when the token method earns more than this multiple of "
                                  "the rental price per sold GPU-hour: a cloud selling tokens "
                                  "adds its software and margin to the bare GPU-hour, but "
                                  "several times the rental price means the token inputs "
                                  "overstate what the GPUs earn"),
    "price_per_mtok": Fact(0.72, "USD/Mtok", "vendor claim",
                           f"list price of {TOKEN_PRICE_MODEL}, $0.72 per million input and "
                           "output tokens (docs.tera.gw/models/llama-3-3-70b-instruct.md); "
                           "other lists run from $0.32 per million output tokens "
                           "(aicoach.pw, OpenRouter listing)"),
    "facility_capex_musd_per_mw": Fact(10.7, "USD m per MW of IT load", "industry reporting",
                                       "CBRE North American Data Center Trends via build.inc "
                                       "(build.inc/data-center-construction-costs-2025): "
                                       "~$7.7M rising to ~$10.7M per MW"),
    "networking_share": Fact(0.10, "fraction of accelerator capex", "industry reporting",
                             "scale-out networking ~10-15% of AI cluster cost (datagravity.dev/p/"
                             "the-ai-networking-stack); ~10% of infrastructure budgets "
                             "historically (jobandnetwork.com); NVL72 racks already include "
                             "their NVLink switches, so the low end"),
    "om_share": Fact(0.03, "fraction of capex a year", "analyst assumption",
                     "maintenance, staff and other facility operations a year; maintenance is "
                     "the largest opex line of a conventional data centre (~40%, ahead of "
                     "electricity at 15-25%: thundersaidenergy.com/downloads/data-centers-the-"
                     "economics)"),
    "accelerator_life_years": Fact(5, "years", "industry reporting",
                                   "low end of " + _TEN_K_LIVES + "; sensitivity 3-6 years"),
    "facility_life_years": Fact(20, "years", "analyst assumption",
                                "buildings, power and cooling; property notes in the 10-Ks give "
                                "about 15-40 years"),
    "idle_power_share": Fact(0.3, "fraction", "analyst assumption",
                             "share of full power drawn while idle: GPUs, CPUs, memory, fans and "
                             "pumps do not switch off between requests"),
}


# -- the facts as tables ---------------------------------------------------------------------

#: Columns of :func:`chip_facts` and :func:`facility_facts`.
CHIP_FACT_COLUMNS = ["chip", "field", "value", "unit", "grade", "source"]

#: How each derived chip figure is computed from the sourced ones.
_DERIVED = {
    "watts_per_gpu": ("W", "unit_watts / gpus_per_unit"),
    "price_per_gpu_usd": ("USD", "unit_price_usd / gpus_per_unit"),
    "tokens_per_s_per_mw": ("tokens/s per MW of IT load",
                            "tokens_per_s_per_gpu / watts_per_gpu x 1e6"),
    "tokens_per_joule": ("tokens/J, IT level", "tokens_per_s_per_gpu / watts_per_gpu"),
}

#: Least corroborated last: a derived figure carries the grade of its least corroborated input.
GRADE_RANK = {"industry reporting": 0, "vendor claim": 1, "analyst assumption": 2}


def weakest_grade(*grades: str) -> str:
    """The least corroborated of ``grades`` (industry reporting, then vendor claim, then analyst
    assumption): the grade a figure derived from them carries."""
    return max(grades, key=lambda g: GRADE_RANK[g])


def chip_facts(chips: Iterable[str] | None = None) -> pd.DataFrame:
    """Every chip default as one row: value, unit, grade and source (NaN = left for the user).

    Parameters
    ----------
    chips : iterable of str, optional
        Chips, in order (default: all of :data:`CHIP_DEFAULTS`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHIP_FACT_COLUMNS`. Sourced figures carry their grade (``vendor claim``,
        ``industry reporting``, ``analyst assumption``) and addresses; derived figures
        (watts and price per GPU, tokens/s per MW, tokens per joule) carry the grade of their
        least corroborated input (industry reporting, then vendor claim, then analyst
        assumption) and the formula; NVIDIA's per-MW multiplier on another workload is a
        ``x_hopper_other_workload`` row, never used in the economics. An empty value has an
        empty grade and a note saying what was (not) found.

    Examples
    --------
    >>> f = chip_facts(["GB200-NVL72"]).set_index("field")
    >>> float(f.loc["unit_price_usd", "value"]), f.loc["unit_price_usd", "grade"]
    (3000000.0, 'industry reporting')
    >>> f.loc["tokens_per_s_per_mw", "grade"]
    'vendor claim'
    """
    names = list(CHIP_FACTS) if chips is None else [str(c).strip().upper() for c in chips]
    rows = []
    for c in names:
        if c not in CHIP_FACTS:
            raise ArgumentError(f"unknown chip {c!r}; expected one of {', '.join(CHIP_FACTS)}")
        facts = CHIP_FACTS[c]
        for fld, fact in facts.items():
            rows.append([c, fld, fact.value, fact.unit, fact.grade, fact.source])
        for fld, (unit, formula) in _DERIVED.items():
            inputs = {"watts_per_gpu": ("unit_watts", "gpus_per_unit"),
                      "price_per_gpu_usd": ("unit_price_usd", "gpus_per_unit"),
                      "tokens_per_s_per_mw": ("tokens_per_s_per_gpu", "unit_watts",
                                              "gpus_per_unit"),
                      "tokens_per_joule": ("tokens_per_s_per_gpu", "unit_watts",
                                           "gpus_per_unit")}[fld]
            used = [facts[k] for k in inputs]
            if any(math.isnan(f.value) for f in used):
                rows.append([c, fld, math.nan, unit, "", "not derived: an input is left for "
                             "the user"])
                continue
            v = {k: facts[k].value for k in inputs}
            value = {"watts_per_gpu": lambda v: v["unit_watts"] / v["gpus_per_unit"],
                     "price_per_gpu_usd": lambda v: v["unit_price_usd"] / v["gpus_per_unit"],
                     "tokens_per_s_per_mw": lambda v: v["tokens_per_s_per_gpu"]
                     / (v["unit_watts"] / v["gpus_per_unit"]) * 1e6,
                     "tokens_per_joule": lambda v: v["tokens_per_s_per_gpu"]
                     / (v["unit_watts"] / v["gpus_per_unit"])}[fld](v)
            rows.append([c, fld, value, unit, weakest_grade(*(f.grade for f in used)),
                         f"= {formula}"])
        if c in VENDOR_X_HOPPER_CLAIMS:
            x = VENDOR_X_HOPPER_CLAIMS[c]
            rows.append([c, "x_hopper_other_workload", x.value, x.unit, x.grade,
                         x.source + " (another workload: shown, never applied)"])
    return pd.DataFrame(rows, columns=CHIP_FACT_COLUMNS)


def facility_facts() -> pd.DataFrame:
    """The reference facility's assumptions, one row each with unit, grade and source.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHIP_FACT_COLUMNS` with ``chip`` = ``'facility'``; the last row is the
        headline revenue method (text), :data:`REVENUE_METHOD_DEFAULT`, and why.

    Examples
    --------
    >>> f = facility_facts().set_index("field")
    >>> float(f.loc["price_per_mtok", "value"]), f.loc["price_per_mtok", "grade"]
    (0.72, 'vendor claim')
    """
    rows = [["facility", k, f.value, f.unit, f.grade, f.source]
            for k, f in FACILITY_FACTS.items()]
    rows.append(["facility", "revenue_method", REVENUE_METHOD_DEFAULT,
                 " | ".join(REVENUE_METHODS), "analyst assumption", REVENUE_METHOD_WHY])
    return pd.DataFrame(rows, columns=CHIP_FACT_COLUMNS)
