"""``python -m aicapex scenario``: project a financing scenario from a company's reported base.

One row per projected year; the columns start with ``year, capex, ocf, fcf, new_debt,
interest, gross_debt, cash, net_debt, lease_liability, da, da_to_revenue,
net_debt_to_ebitda`` and continue with the rest of
:data:`aicapex.engine.financing.COLUMNS`.
"""

from __future__ import annotations

import argparse

from aicapex.commands._output import add_format_argument, write_frame
from aicapex.engine.financing import (
    BASE_FIELDS,
    ScenarioInputs,
    apply_overrides,
    base_from_dataset,
    project_financing,
)
from aicapex.engine.presets import PRESET_NAMES, get_preset
from aicapex.errors import ArgumentError

BASE_KEYS = frozenset(BASE_FIELDS.values()) | {"fiscal_year", "revenue_growth", "capex_growth"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scenario",
        help="project a financing scenario (one row per year)",
        description="Project capex, OCF and the funding-gap waterfall (cash -> IG bonds -> "
        "term loans -> SPV lease -> private credit -> equity) from a company's latest "
        "reported year. Money in USD millions; rates and growth as fractions (0.15 = 15%%).",
    )
    p.add_argument("--ticker", required=True, help="company ticker, e.g. MSFT")
    p.add_argument(
        "--preset", default="all-cash", metavar="NAME",
        help=f"financing preset: {', '.join(PRESET_NAMES)} (default: all-cash)",
    )
    p.add_argument("--years", default="5", help="years to project, 1..30 (default: 5)")
    p.add_argument("--revenue-growth", help="revenue growth per year (default: latest YoY)")
    p.add_argument("--ocf-margin", help="pre-interest OCF / revenue (default: base year's)")
    p.add_argument("--ocf-growth", help="pre-interest OCF growth per year (instead of margin)")
    p.add_argument("--capex-growth", help="capex growth per year (default: latest YoY)")
    p.add_argument("--capex", help="explicit capex path, comma-separated USD m per year")
    p.add_argument("--min-cash", help="minimum cash balance, USD m (default: preset's)")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a base figure (e.g. interest_expense=3000) or a term "
        "(e.g. bonds.coupon=0.05, lease.capex_share=0.4, depreciation.server_life=5.5); "
        "repeatable",
    )
    add_format_argument(p)
    p.set_defaults(func=run)


def _number(name: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(str(text).strip().rstrip("%")) / (100.0 if str(text).strip().endswith("%")
                                                        else 1.0)
    except ValueError:
        raise ArgumentError(f"{name} must be a number, got {text!r}") from None


def _years(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ArgumentError(f"--years must be a whole number 1..30, got {text!r}") from None
    if value != int(value) or not 1 <= value <= 30:
        raise ArgumentError(f"--years must be a whole number 1..30, got {text!r}")
    return int(value)


def _settings(items: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    base: dict[str, float] = {}
    terms: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ArgumentError(f"--set expects KEY=VALUE, got {item!r}")
        number = _number(f"--set {key}", value)
        (base if key in BASE_KEYS else terms)[key] = number  # type: ignore[assignment]
    return base, terms


def run(args: argparse.Namespace) -> int:
    from aicapex.data.dataset import load_dataset

    structure = get_preset(args.preset)
    capex_path = None
    if args.capex:
        try:
            capex_path = tuple(float(v) for v in args.capex.split(",") if v.strip())
        except ValueError:
            raise ArgumentError(
                f"--capex must be comma-separated numbers (USD m), got {args.capex!r}"
            ) from None
    inputs = ScenarioInputs(
        years=_years(args.years),
        revenue_growth=_number("--revenue-growth", args.revenue_growth),
        ocf_margin=_number("--ocf-margin", args.ocf_margin),
        ocf_growth=_number("--ocf-growth", args.ocf_growth),
        capex_growth=_number("--capex-growth", args.capex_growth),
        capex_path=capex_path,
        min_cash=_number("--min-cash", args.min_cash),
    )
    base_overrides, term_overrides = _settings(args.set)
    base = base_from_dataset(load_dataset(), args.ticker, base_overrides)
    structure, inputs, _ = apply_overrides(structure, inputs, term_overrides)
    frame = project_financing(base, structure, inputs)
    write_frame(frame, args.format)
    return 0
