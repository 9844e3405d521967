"""``python -m aicapex scenario``: project a financing scenario from a company's reported base.

One row per projected year; the columns start with ``year, capex, ocf, fcf, new_debt,
interest, gross_debt, cash, net_debt, lease_liability, da, da_to_revenue,
net_debt_to_ebitda`` and continue with the rest of
:data:`aicapex.engine.financing.COLUMNS` (``funding_gap`` among them). ``--sources`` prints
where every figure and default comes from instead.

Every option becomes an override of :mod:`aicapex.engine.scenario` (the service the CPX_
functions use), so ``--set KEY=VALUE`` here and a ``KEY | VALUE`` row in a CPX_ function's
overrides give the same numbers.
"""

from __future__ import annotations

import argparse
from typing import Any

from aicapex.commands._common import add_data_arguments, dataset_from_args
from aicapex.commands._output import add_format_argument, write_frame
from aicapex.errors import ArgumentError

#: Options that are shorthands for an override key.
FLAG_KEYS = {
    "revenue_growth": "inputs.revenue_growth",
    "ocf_margin": "inputs.ocf_margin",
    "ocf_growth": "inputs.ocf_growth",
    "capex_growth": "inputs.capex_growth",
    "min_cash": "inputs.min_cash",
    "buybacks": "inputs.buybacks",
    "dividends": "inputs.dividends",
    "long_run_growth": "inputs.long_run_revenue_growth",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    # the presets and the horizon limit are the engine's: loaded when this parser is built
    from aicapex.engine.financing import MAX_YEARS
    from aicapex.engine.presets import PRESET_NAMES

    p = subparsers.add_parser(
        "scenario",
        help="project a financing scenario (one row per year)",
        description="Project capex, OCF and the funding waterfall (cash above the minimum -> "
        "IG bonds -> term loans -> SPV lease -> private credit -> equity where allowed; the "
        "rest is the funding_gap column) from a company's latest reported year. Capex starts "
        "at the latest guidance for a guided fiscal year, then fades to a long-run growth. "
        "Money in USD millions; rates and growth as fractions (0.15 = 15%%).",
    )
    p.add_argument("--ticker", required=True, help="company ticker, e.g. MSFT")
    p.add_argument(
        "--preset", default="all-cash", metavar="NAME",
        help=f"financing preset: {', '.join(PRESET_NAMES)} (default: all-cash)",
    )
    p.add_argument("--years", default="5", help=f"years to project, 1..{MAX_YEARS} (default: 5)")
    p.add_argument("--revenue-growth", help="one constant revenue growth a year (default: the "
                   "latest growth fading to the long-run rate)")
    p.add_argument("--long-run-growth", help="long-run revenue growth the fade ends at "
                   "(default: the 5-year revenue CAGR); capex fades to it too")
    p.add_argument("--ocf-margin", help="pre-interest OCF / revenue (default: base year's)")
    p.add_argument("--ocf-growth", help="pre-interest OCF growth per year (instead of margin)")
    p.add_argument("--capex-growth", help="one constant capex growth a year (replaces the "
                   "default path, guidance included)")
    p.add_argument(
        "--capex", action="append", default=[], metavar="YEAR=USDM|V1,V2,...",
        help="capex of a fiscal year, e.g. --capex 2026=135000 (repeatable; other years follow "
        "the default path), or the first years' capex as a comma-separated list",
    )
    p.add_argument("--buybacks", help="share buybacks, USD m a year (default: reported, else 0)")
    p.add_argument("--dividends", help="dividends, USD m a year (default: reported, else 0)")
    p.add_argument("--min-cash", help="minimum cash balance, USD m (default: preset's)")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a base figure (e.g. interest_expense=3000), a term (e.g. "
        "bonds.coupon=0.05, lease.capex_share=0.4, equity.max_per_year=10000), an input "
        "(inputs.growth_cap=0.4, inputs.fade_years=3) or a year's capex (capex.2027=150000); "
        "repeatable",
    )
    p.add_argument("--sources", action="store_true",
                   help="print where each figure and default comes from (item, value, unit, "
                   "source) instead of the projection")
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def parse_number(name: str, text: str | None) -> float | None:
    """A number as typed: ``0.15``, ``15%``, ``1,500``; None when not given."""
    if text is None:
        return None
    raw = str(text).strip()
    try:
        if raw.endswith("%"):
            return float(raw[:-1].replace(",", "")) / 100.0
        return float(raw.replace(",", ""))
    except ValueError:
        raise ArgumentError(f"{name} must be a number, got {text!r}") from None


def _years(text: str) -> int:
    from aicapex.engine.financing import MAX_YEARS

    try:
        value = float(text)
    except ValueError:
        raise ArgumentError(f"--years must be a whole number 1..{MAX_YEARS}, got {text!r}") from None
    if value != int(value) or not 1 <= value <= MAX_YEARS:
        raise ArgumentError(f"--years must be a whole number 1..{MAX_YEARS}, got {text!r}")
    return int(value)


def capex_overrides(items: list[str]) -> list[tuple[str, Any]]:
    """``--capex`` values as overrides: ``YEAR=VALUE`` pairs (``capex.YEAR``) or one list of the
    first years' capex (``inputs.capex_path``)."""
    out: list[tuple[str, Any]] = []
    path: list[float] | None = None
    for item in items:
        parts = [x.strip() for x in item.split(",") if x.strip()]
        if not parts:
            raise ArgumentError("--capex expects YEAR=VALUE or comma-separated values, got ''")
        if all("=" in x for x in parts):
            for x in parts:
                year, _, value = x.partition("=")
                if not year.strip().isdigit():
                    raise ArgumentError(f"--capex {x!r}: expected YEAR=VALUE, e.g. 2026=135000")
                out.append((f"capex.{int(year)}", parse_number(f"--capex {year}", value)))
        elif any("=" in x for x in parts):
            raise ArgumentError(f"--capex {item!r}: use YEAR=VALUE pairs or a list, not both")
        else:
            if path is not None:
                raise ArgumentError("--capex: give the list of values once")
            try:
                path = [float(x.replace("_", "")) for x in parts]
            except ValueError:
                raise ArgumentError(
                    f"--capex must be YEAR=VALUE or comma-separated numbers (USD m), got {item!r}"
                ) from None
    if path is not None:
        out.append(("inputs.capex_path", tuple(path)))
    return out


def scenario_overrides(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """Every option of the command as ``(key, value)`` overrides, in a fixed order."""
    pairs: list[tuple[str, Any]] = []
    for attr, key in FLAG_KEYS.items():
        text = getattr(args, attr, None)
        if text is not None:
            pairs.append((key, parse_number(f"--{attr.replace('_', '-')}", text)))
    pairs += capex_overrides(args.capex)
    for item in args.set:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ArgumentError(f"--set expects KEY=VALUE, got {item!r}")
        number = parse_number(f"--set {key}", value)
        if key.rsplit(".", 1)[-1].endswith("years") and float(number).is_integer():
            number = int(number)  # tenors and horizons are whole years
        pairs.append((key, number))
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ArgumentError(f"{key} is given twice")
        seen.add(key)
    return pairs


def run(args: argparse.Namespace) -> int:
    from aicapex.engine.scenario import run_scenario

    years = _years(args.years)
    pairs = scenario_overrides(args)
    result = run_scenario(dataset_from_args(args), args.ticker, args.preset, pairs, years=years)
    write_frame(result.sources if args.sources else result.frame, args.format)
    return 0
