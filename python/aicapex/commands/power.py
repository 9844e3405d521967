"""``python -m aicapex power``: chip comparison and data-center economics per chip.

Views:

* ``economics`` (default): the MW-to-return chain of :func:`aicapex.engine.power.dc_economics`
  for each chosen chip, one row per chip, using the chip table's all-in watts per GPU, measured
  throughput on one workload (Llama 2 70B, MLPerf Offline), price per GPU and rental price per
  GPU-hour (NaN where there is no sourced figure; supply ``--accelerator-usd`` /
  ``--tokens-per-s-per-mw`` / ``--rental-usd-per-gpu-hour``), with running costs (electricity at
  facility level, operations and maintenance), networking capex and depreciation. Revenue comes
  by two methods side by side (token-based and capacity-based); the headline (payback, return
  on capital) uses ``--revenue-method`` (default: the more conservative), and the columns
  ``revenue_method`` and ``rental_cross_check`` say which and how the token method compares
  with the rental benchmark.
* ``chips``: every chip figure with its unit, grade and source
  (:func:`aicapex.engine.power.chip_facts`); ``chip-table`` the wide comparison table.
* ``facility``: the reference facility's assumptions with their grades and sources, then its
  two revenue methods side by side, the headline and the rental cross-check.
* ``lives``: the reference chip's return on capital for accelerator lives of 3 to 6 years.
* ``utilization``: the reference chip's two revenues, payback and return for utilisation of
  25% to 100% (the default, 75%, is the low end of reported fleet utilisation).
* ``backlog``: RPO, cloud-segment and total revenue, coverage on each, growth, by company.

Every default is a graded, sourced fact (``--view facility``, ``--view chips``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aicapex.commands._common import (
    add_data_arguments,
    add_tickers_argument,
    dataset_from_args,
    parse_tickers,
)
from aicapex.commands._output import add_format_argument, write_frame

if TYPE_CHECKING:
    import pandas as pd

VIEWS = ("economics", "chips", "chip-table", "facility", "lives", "utilization", "backlog")


def register(sub: argparse._SubParsersAction) -> None:
    # the defaults shown are the engine's: loaded when this parser is built
    from aicapex.engine.power import (
        CHIP_DEFAULTS,
        REVENUE_METHOD_DEFAULT,
        REVENUE_METHODS,
    )
    from aicapex.engine.power import FACILITY_DEFAULTS as D

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
        help="economics (default), chips (every chip figure with grade and source), chip-table, "
        "facility (assumptions and sources, both revenue methods), lives (return by accelerator "
        "life), utilization (both revenues by utilisation) or backlog",
    )
    p.add_argument(
        "--chip",
        action="extend",
        nargs="+",
        metavar="CHIP",
        help=f"chips, space- or comma-separated (default: all of {', '.join(CHIP_DEFAULTS)})",
    )
    p.add_argument("--mw", type=float, default=D["facility_mw"],
                   help=f"facility power, MW (default: {D['facility_mw']:g})")
    p.add_argument("--pue", type=float, default=D["pue"],
                   help=f"power usage effectiveness (default: {D['pue']:g})")
    p.add_argument("--utilization", type=float, default=D["utilization"],
                   help="share of the year's GPU-hours that earn revenue (serving or rented), "
                   f"0-1 (default: {D['utilization']:g}, reported fleet utilisation)")
    p.add_argument("--serving-derate", type=float, default=D["serving_derate"],
                   help="served / peak throughput, 0-1 (default: "
                   f"{D['serving_derate']:.3f}, MLPerf Server / Offline on B200)")
    p.add_argument("--rental-usd-per-gpu-hour", type=float,
                   help="rental price of one GPU for an hour, USD, for every chosen chip "
                   "(default: the chip table's public list price)")
    p.add_argument("--revenue-method", choices=REVENUE_METHODS, default=REVENUE_METHOD_DEFAULT,
                   help="revenue behind payback and return on capital: conservative (default: "
                   "the lower of the two), token or capacity")
    p.add_argument("--rental-alert-multiple", type=float, default=D["rental_alert_multiple"],
                   help="alert when selling tokens earns more than this multiple of the rental "
                   f"price per GPU-hour (default: {D['rental_alert_multiple']:g})")
    p.add_argument("--price-per-mtok", type=float, default=D["price_per_mtok"],
                   help="selling price, USD per million tokens (default: "
                   f"{D['price_per_mtok']:g}, Llama-3.3-70B list price)")
    p.add_argument("--electricity-usd-per-mwh", type=float, default=D["electricity_usd_per_mwh"],
                   help="electricity price, USD per MWh (default: "
                   f"{D['electricity_usd_per_mwh']:g}, US industrial average)")
    p.add_argument("--facility-capex-musd-per-mw", type=float,
                   default=D["facility_capex_musd_per_mw"],
                   help="facility cost per MW of IT load, USD millions (default: "
                   f"{D['facility_capex_musd_per_mw']:g}, CBRE)")
    p.add_argument("--idle-power-share", type=float, default=D["idle_power_share"],
                   help=f"share of full power drawn while idle, 0-1 (default: "
                   f"{D['idle_power_share']:g})")
    p.add_argument("--networking-share", type=float, default=D["networking_share"],
                   help="scale-out networking capex as a share of accelerator capex (default: "
                   f"{D['networking_share']:g})")
    p.add_argument("--om-share", type=float, default=D["om_share"],
                   help="operations and maintenance a year as a share of capex (default: "
                   f"{D['om_share']:g})")
    p.add_argument("--accelerator-life", type=float, default=D["accelerator_life_years"],
                   help="depreciation life of accelerators and networking, years (default: "
                   f"{D['accelerator_life_years']:g})")
    p.add_argument("--facility-life", type=float, default=D["facility_life_years"],
                   help="depreciation life of the facility, years (default: "
                   f"{D['facility_life_years']:g})")
    p.add_argument(
        "--accelerator-usd",
        type=float,
        help="all-in price per GPU, USD, for every chosen chip (default: the chip table's)",
    )
    p.add_argument(
        "--tokens-per-s-per-mw",
        type=float,
        help="throughput per MW of IT load for every chosen chip (default: the chip table's "
        "measured figure on Llama 2 70B)",
    )
    add_tickers_argument(p)
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def _chips(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def _facility_kwargs(args: argparse.Namespace) -> dict[str, float]:
    return dict(
        facility_capex_musd_per_mw=args.facility_capex_musd_per_mw,
        idle_power_share=args.idle_power_share,
        networking_share=args.networking_share,
        om_share=args.om_share,
        accelerator_life_years=args.accelerator_life,
        facility_life_years=args.facility_life,
    )


def _facility_overrides(args: argparse.Namespace) -> dict[str, float | str]:
    """The command line's facility assumptions, as overrides of the engine's defaults."""
    out: dict[str, float | str] = {
        "facility_mw": args.mw, "pue": args.pue, "utilization": args.utilization,
        "serving_derate": args.serving_derate, "price_per_mtok": args.price_per_mtok,
        "electricity_usd_per_mwh": args.electricity_usd_per_mwh,
        "rental_alert_multiple": args.rental_alert_multiple,
        "revenue_method": args.revenue_method, **_facility_kwargs(args)}
    for key, value in (("accelerator_usd", args.accelerator_usd),
                       ("rental_usd_per_gpu_hour", args.rental_usd_per_gpu_hour)):
        if value is not None:
            out[key] = value
    return out


def economics_frame(args: argparse.Namespace, lives: list[float] | None = None,
                    utilizations: list[float] | None = None) -> pd.DataFrame:
    """One row per chip (or per accelerator life with ``lives``, per utilisation with
    ``utilizations``): the chip's inputs, every :data:`DC_ECONOMICS_FIELDS` column and the words
    of :func:`aicapex.engine.power.revenue_words`."""
    import numpy as np
    import pandas as pd

    from aicapex.engine.power import DC_ECONOMICS_FIELDS, chip_table, dc_economics, revenue_words

    table = chip_table(chips=_chips(args.chip))
    if args.tokens_per_s_per_mw is not None:
        table["tokens_per_s_per_mw"] = float(args.tokens_per_s_per_mw)
        table["tokens_per_s_per_gpu"] = table["tokens_per_s_per_mw"] / 1e6 * table["watts_per_gpu"]
        table["claim"] = "user input"
    sweep = lives if lives is not None else utilizations
    if sweep is not None:
        table = table.iloc[[0] * len(sweep)].reset_index(drop=True)
    price = (
        np.full(len(table), float(args.accelerator_usd))
        if args.accelerator_usd is not None
        else table["price_per_gpu_usd"].to_numpy(dtype=float)
    )
    rental = (
        np.full(len(table), float(args.rental_usd_per_gpu_hour))
        if args.rental_usd_per_gpu_hour is not None
        else table["rental_usd_per_gpu_hour"].to_numpy(dtype=float)
    )
    kwargs = _facility_kwargs(args)
    if lives is not None:
        kwargs["accelerator_life_years"] = np.asarray(lives, dtype=float)
    utilization = (np.asarray(utilizations, dtype=float) if utilizations is not None
                   else args.utilization)
    result = dc_economics(
        args.mw,
        args.pue,
        table["watts_per_gpu"].to_numpy(dtype=float),
        table["tokens_per_s_per_gpu"].to_numpy(dtype=float),
        utilization,
        args.electricity_usd_per_mwh,
        args.price_per_mtok,
        accelerator_usd=price,
        serving_derate=args.serving_derate,
        rental_usd_per_gpu_hour=rental,
        revenue_method=args.revenue_method,
        **kwargs,
    )
    frame = pd.DataFrame(
        {
            "chip": table["chip"],
            "pue": args.pue,
            "utilization": np.broadcast_to(utilization, (len(table),)),
            "serving_derate": args.serving_derate,
            "price_per_mtok": args.price_per_mtok,
            "accelerator_life_years": np.broadcast_to(kwargs["accelerator_life_years"],
                                                      (len(table),)),
            "watts_per_gpu": table["watts_per_gpu"],
            "tokens_per_s_per_gpu": table["tokens_per_s_per_gpu"],
            "price_per_gpu_usd": price,
        }
    )
    # the two revenue methods sit beside the headline revenue they are chosen from
    methods = ("token_revenue_musd_per_year", "capacity_revenue_musd_per_year")
    for key in DC_ECONOMICS_FIELDS:
        if key in methods:
            continue
        if key == "revenue_musd_per_year":
            for m in methods:
                frame[m] = np.broadcast_to(result[m], (len(table),))
        frame[key] = np.broadcast_to(result[key], (len(table),))
    words = [revenue_words(row, args.rental_alert_multiple, args.revenue_method)
             for row in frame[list(DC_ECONOMICS_FIELDS)].to_dict("records")]
    frame["revenue_method"] = [w["revenue_method"] for w in words]
    frame["rental_cross_check"] = [w["rental_cross_check"] for w in words]
    frame["workload"] = table["workload"]
    frame["claim"] = table["claim"]
    return frame


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from aicapex.engine.power import (
        backlog_table,
        chip_facts,
        chip_table,
        facility_facts,
        revenue_method_facts,
    )

    if args.view == "chips":
        frame = chip_facts(chips=_chips(args.chip))
    elif args.view == "chip-table":
        frame = chip_table(chips=_chips(args.chip))
    elif args.view == "facility":
        chips = _chips(args.chip) or ["GB200-NVL72"]
        frame = pd.concat([facility_facts(),
                           revenue_method_facts(chips[0], **_facility_overrides(args))],
                          ignore_index=True)
    elif args.view == "lives":
        if not args.chip:
            args.chip = ["GB200-NVL72"]
        frame = economics_frame(args, lives=[3.0, 4.0, 5.0, 6.0])
    elif args.view == "utilization":
        if not args.chip:
            args.chip = ["GB200-NVL72"]
        frame = economics_frame(args, utilizations=[0.25, 0.5, 0.75, 1.0])
    elif args.view == "backlog":
        ds = dataset_from_args(args)
        tickers = parse_tickers(ds, args.tickers) if args.tickers else None
        frame = backlog_table(ds, tickers)
    else:
        frame = economics_frame(args)
    write_frame(frame, args.format)
    return 0
