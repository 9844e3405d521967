"""``python -m aicapex power``: chip comparison and data-center economics per chip.

Views:

* ``economics`` (default): the MW-to-payback chain of :func:`aicapex.engine.power.dc_economics`
  for each chosen chip, one row per chip, using the chip table's all-in watts per GPU,
  vendor-claimed throughput per MW and price per GPU (NaN where there is no sourced figure;
  supply ``--accelerator-usd`` / ``--tokens-per-s-per-mw``).
* ``chips``: the sourced chip-generation table (:func:`aicapex.engine.power.chip_table`).
* ``backlog``: RPO, revenue, backlog growth and coverage by company from the data set.

Scenario defaults (PUE 1.2, 60% utilisation, $2 per million tokens, $80/MWh) are illustrative
assumptions, not reported figures.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from aicapex.commands._common import (
    add_data_arguments,
    add_tickers_argument,
    dataset_from_args,
    parse_tickers,
)
from aicapex.commands._output import add_format_argument, write_frame
from aicapex.engine.power import (
    CHIP_DEFAULTS,
    DC_ECONOMICS_FIELDS,
    FACILITY_CAPEX_MUSD_PER_MW,
    backlog_table,
    chip_table,
    dc_economics,
)

VIEWS = ("economics", "chips", "backlog")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "power",
        help="data-center power economics per chip, the chip table, or AI-cloud backlog",
        description="Facility MW -> IT MW -> accelerators -> tokens/s -> tokens per joule -> "
        "tokens a year -> energy cost per million tokens -> revenue -> capex -> payback, "
        "one row per chip. Throughput figures are NVIDIA vendor claims (see --view chips). "
        "Money in USD millions unless the column says usd or per_mtok (USD per million "
        "tokens).",
    )
    p.add_argument(
        "--view",
        choices=VIEWS,
        default="economics",
        help="economics (default), chips (sourced chip table) or backlog (RPO by company)",
    )
    p.add_argument(
        "--chip",
        action="extend",
        nargs="+",
        metavar="CHIP",
        help=f"chips, space- or comma-separated (default: all of {', '.join(CHIP_DEFAULTS)})",
    )
    p.add_argument("--mw", type=float, default=100.0, help="facility power, MW (default: 100)")
    p.add_argument(
        "--pue", type=float, default=1.2, help="power usage effectiveness (default: 1.2)"
    )
    p.add_argument(
        "--utilization",
        type=float,
        default=0.6,
        help="share of the year at peak throughput, 0-1 (default: 0.6)",
    )
    p.add_argument(
        "--price-per-mtok",
        type=float,
        default=2.0,
        help="selling price, USD per million tokens (default: 2.0)",
    )
    p.add_argument(
        "--electricity-usd-per-mwh",
        type=float,
        default=80.0,
        help="electricity price, USD per MWh (default: 80)",
    )
    p.add_argument(
        "--facility-capex-musd-per-mw",
        type=float,
        default=FACILITY_CAPEX_MUSD_PER_MW[1],
        help="facility cost per MW of IT load, USD millions (default: 10.7, CBRE)",
    )
    p.add_argument(
        "--idle-power-share",
        type=float,
        default=0.0,
        help="share of full power drawn while idle, 0-1 (default: 0)",
    )
    p.add_argument(
        "--accelerator-usd",
        type=float,
        help="all-in price per GPU, USD, for every chosen chip (default: the chip table's)",
    )
    p.add_argument(
        "--tokens-per-s-per-mw",
        type=float,
        help="throughput per MW of IT load for every chosen chip (default: the vendor claim)",
    )
    add_tickers_argument(p)
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def _chips(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def economics_frame(args: argparse.Namespace) -> pd.DataFrame:
    """One row per chip: the chip's inputs and every :data:`DC_ECONOMICS_FIELDS` column."""
    table = chip_table(chips=_chips(args.chip))
    if args.tokens_per_s_per_mw is not None:
        table["tokens_per_s_per_mw"] = float(args.tokens_per_s_per_mw)
        table["tokens_per_s_per_gpu"] = table["tokens_per_s_per_mw"] / 1e6 * table["watts_per_gpu"]
        table["claim"] = "user input"
    price = (
        np.full(len(table), float(args.accelerator_usd))
        if args.accelerator_usd is not None
        else table["price_per_gpu_usd"].to_numpy(dtype=float)
    )
    result = dc_economics(
        args.mw,
        args.pue,
        table["watts_per_gpu"].to_numpy(dtype=float),
        table["tokens_per_s_per_gpu"].to_numpy(dtype=float),
        args.utilization,
        args.electricity_usd_per_mwh,
        args.price_per_mtok,
        accelerator_usd=price,
        facility_capex_musd_per_mw=args.facility_capex_musd_per_mw,
        idle_power_share=args.idle_power_share,
    )
    frame = pd.DataFrame(
        {
            "chip": table["chip"],
            "pue": args.pue,
            "utilization": args.utilization,
            "watts_per_gpu": table["watts_per_gpu"],
            "tokens_per_s_per_gpu": table["tokens_per_s_per_gpu"],
            "price_per_gpu_usd": price,
        }
    )
    for key in DC_ECONOMICS_FIELDS:
        frame[key] = np.broadcast_to(result[key], (len(table),))
    frame["claim"] = table["claim"]
    return frame


def run(args: argparse.Namespace) -> int:
    if args.view == "chips":
        frame = chip_table(chips=_chips(args.chip))
    elif args.view == "backlog":
        ds = dataset_from_args(args)
        tickers = parse_tickers(ds, args.tickers) if args.tickers else None
        frame = backlog_table(ds, tickers)
    else:
        frame = economics_frame(args)
    write_frame(frame, args.format)
    return 0
