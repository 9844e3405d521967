"""Command line: ``python -m aicapex <command> ...``.

Each command lives in :mod:`aicapex.commands.<name>` and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed arguments and
returning an exit code. The modules are imported plainly; each keeps its heavy imports
(pandas, the engine, openpyxl) inside the functions that run the command, so parsing the
command line stays cheap and a command loads only what it uses. User errors (:class:`aicapex.errors.AicapexError`, ``OSError``)
print one line on stderr and exit non-zero; they never print a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from aicapex import __version__
from aicapex.commands import (
    addin,
    build,
    data,
    export,
    fetch,
    guidance,
    metrics,
    power,
    refresh,
    report,
    roi,
    scenario,
    serve,
)
from aicapex.errors import AicapexError

#: Command name -> module; the order is the order of ``--help``.
COMMANDS: dict[str, ModuleType] = {
    "build": build,
    "metrics": metrics,
    "data": data,
    "report": report,
    "scenario": scenario,
    "guidance": guidance,
    "power": power,
    "roi": roi,
    "fetch": fetch,
    "refresh": refresh,
    "export": export,
    "addin": addin,
    "serve": serve,
}


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of ``commands`` (what :func:`main` builds when the
    command line names one: the parsers of metrics, power, roi and scenario take their
    defaults from the engine, which would load pandas to parse any command)."""
    parser = argparse.ArgumentParser(
        prog="python -m aicapex",
        description="AI Capex Workbench: capex metrics, scenarios and Excel workbooks.",
    )
    parser.add_argument("--version", action="version", version=f"aicapex {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module in COMMANDS.items():
        if commands is None or name in commands:
            module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser([argv[0]] if argv and argv[0] in COMMANDS else None)
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
