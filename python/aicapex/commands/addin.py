"""``python -m aicapex addin``: write the ``aicapex.xlam`` Excel add-in."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("addin", help="write aicapex.xlam (CPX_ functions + AI Capex ribbon tab)")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aicapex.excel.addin import build_addin

    args.out.mkdir(parents=True, exist_ok=True)
    print(build_addin(args.out))
    return 0
