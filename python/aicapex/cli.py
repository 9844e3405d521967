"""Command line: ``python -m aicapex <command> ...``.

Each command lives in :mod:`aicapex.commands.<name>` and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed arguments and
returning an exit code. User errors (:class:`aicapex.errors.AicapexError`, ``OSError``)
print one line on stderr and exit non-zero; they never print a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from aicapex import __version__
from aicapex.errors import AicapexError

#: Command name -> module; the order is the order of ``--help``.
COMMANDS: dict[str, str] = {
    "build": "aicapex.commands.build",
    "metrics": "aicapex.commands.metrics",
    "data": "aicapex.commands.data",
    "report": "aicapex.commands.report",
    "scenario": "aicapex.commands.scenario",
    "guidance": "aicapex.commands.guidance",
    "power": "aicapex.commands.power",
    "roi": "aicapex.commands.roi",
    "fetch": "aicapex.commands.fetch",
    "refresh": "aicapex.commands.refresh",
    "export": "aicapex.commands.export",
    "addin": "aicapex.commands.addin",
    "serve": "aicapex.commands.serve",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aicapex",
        description="AI Capex Workbench: capex metrics, scenarios and Excel workbooks.",
    )
    parser.add_argument("--version", action="version", version=f"aicapex {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # command not shipped in this build
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "allow_outliers", False):  # --allow-outliers of the data commands
            from aicapex.data.dataset import outliers_allowed

            with outliers_allowed():
                return int(args.func(args) or 0)
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except AicapexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"error:{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
