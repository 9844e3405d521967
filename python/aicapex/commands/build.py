"""``python -m aicapex build``: the main job.

Builds the analyst workbook from the bundled data, refreshes it headlessly, writes the client
export (with ``--pdf`` also its PDF, rendered by LibreOffice through the same code path as
``export --pdf``) and the add-in into ``--out`` (default ``out/``).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from aicapex.commands._common import add_data_arguments

REPO_WORKBOOK_DIR = Path(__file__).resolve().parents[3] / "workbook"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build",
        help="build + refresh the analyst workbook, export the client copy and the add-in",
    )
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    p.add_argument("--client", default="Sample Client", metavar="NAME",
                   help="client name for the export (default: Sample Client)")
    p.add_argument("--pdf", action="store_true",
                   help="also write the client copy as PDF (needs LibreOffice), as export --pdf")
    p.add_argument("--template-only", action="store_true",
                   help="only write the unrefreshed template (what workbook/ is built from)")
    add_data_arguments(p)
    p.set_defaults(func=run)


def glue_module_source() -> str:
    """The workbook's xlwings glue module (workbook/ai_capex_monitor.py)."""
    return (REPO_WORKBOOK_DIR / "ai_capex_monitor.py").read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from aicapex.data.dataset import load_dataset
    from aicapex.excel import layout as L
    from aicapex.excel.atomic import atomic_write
    from aicapex.excel.builder import build_analyst_workbook
    from aicapex.excel.headless import print_progress, refresh_file

    if args.pdf and not args.template_only:
        from aicapex.excel.libreoffice import soffice_binary

        soffice_binary()  # no LibreOffice: say so before building anything
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    ds = load_dataset(args.overrides)
    target = out / L.WORKBOOK_NAME
    atomic_write(target, lambda tmp: build_analyst_workbook(tmp, ds), backup=False)
    glue = REPO_WORKBOOK_DIR / "ai_capex_monitor.py"
    if glue.resolve() != (out / glue.name).resolve():
        shutil.copyfile(glue, out / glue.name)
    print(f"template  {target}")
    if args.template_only:
        return 0
    result = refresh_file(target, overrides=args.overrides, progress=print_progress, backup=False)
    status = "OK" if result.master_check == 0 else f"FAILING ({result.master_check})"
    print(f"refreshed {target}: {result.formulas:,} formulas, master check {status}")
    from aicapex.excel.export import export_client_copy

    client = export_client_copy(target, args.client, pdf=args.pdf)
    print(f"client    {client}")
    if args.pdf:
        print(f"pdf       {client.with_suffix('.pdf')}")
    from aicapex.excel.addin import build_addin

    addin = build_addin(out)
    print(f"add-in    {addin}")
    return 0
