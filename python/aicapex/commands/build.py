"""``python -m aicapex build``: the main job.

Builds the analyst workbook from the bundled data, refreshes it headlessly, writes the client
export (with ``--pdf`` also its PDF, rendered by LibreOffice through the same code path as
``export --pdf``) and the add-in into ``--out`` (default ``out/``).

An analyst's work is never overwritten silently: ``build`` records what it wrote in
``--out`` (:data:`MANIFEST`, the SHA-256 of the workbook) and replaces a workbook there only
if it is still exactly that file. A workbook changed since (or not written by ``build``) is
refused unless ``--force`` is given; it is then kept as ``<name>.bak``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from importlib import resources
from pathlib import Path

from aicapex.commands._common import add_data_arguments
from aicapex.errors import AicapexError

#: The file the workbook's Refresh button imports; written next to the workbook.
GLUE_NAME = "ai_capex_monitor.py"
#: What ``build`` last wrote in an output folder: file name -> SHA-256.
MANIFEST = ".aicapex-build.json"
#: Exit code when the workbook was built and refreshed but its master check is not OK
#: (as ``refresh``); the client copy is then not written.
EXIT_CHECKS_FAILING = 3


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
    p.add_argument("--force", action="store_true",
                   help="replace a workbook in --out that was changed since build wrote it "
                   "(it is kept as <name>.bak)")
    add_data_arguments(p)
    p.set_defaults(func=run)


def glue_module_source() -> str:
    """The workbook's xlwings glue module, as shipped in the package
    (``aicapex/excel/workbook_glue.py``; ``workbook/ai_capex_monitor.py`` is the same text)."""
    return resources.files("aicapex.excel").joinpath("workbook_glue.py").read_text("utf-8")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_written(path: Path) -> None:
    """Note in the folder's manifest that ``build`` wrote ``path`` as it is now."""
    data = _manifest(path.parent)
    data[path.name] = _sha256(path)
    (path.parent / MANIFEST).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def may_replace(path: Path, force: bool) -> bool:
    """Whether ``path`` may be replaced, and whether to keep it as ``.bak`` first.

    Returns False (no backup needed) when there is no file or it is exactly what ``build``
    last wrote; True when ``force`` is given for a file changed since. Raises
    :class:`AicapexError` for a changed file without ``force``.
    """
    if not path.exists():
        return False
    if _manifest(path.parent).get(path.name) == _sha256(path):
        return False
    if force:
        return True
    raise AicapexError(
        f"{path} was changed since build wrote it (or was not written by build): move it "
        f"away, or pass --force to replace it (the current file is then kept as {path.name}.bak)"
    )


def run(args: argparse.Namespace) -> int:
    from aicapex.commands.refresh import report_engine_errors
    from aicapex.data.dataset import load_dataset
    from aicapex.excel import layout as L
    from aicapex.excel.atomic import atomic_write, backup_path
    from aicapex.excel.builder import build_analyst_workbook
    from aicapex.excel.headless import print_progress, refresh_file

    if args.pdf and not args.template_only:
        from aicapex.excel.libreoffice import soffice_binary

        soffice_binary()  # no LibreOffice: say so before building anything
    out: Path = args.out
    target = out / L.WORKBOOK_NAME
    keep = may_replace(target, args.force)  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    ds = load_dataset(args.overrides)
    atomic_write(target, lambda tmp: build_analyst_workbook(tmp, ds), backup=keep)
    record_written(target)
    if keep:
        print(f"kept      {backup_path(target)} (the workbook that was there)")
    glue = out / GLUE_NAME
    source = glue_module_source()
    if not glue.exists() or glue.read_text(encoding="utf-8") != source:
        glue.write_text(source, encoding="utf-8")
    print(f"template  {target}")
    if args.template_only:
        return 0
    result = refresh_file(target, overrides=args.overrides, progress=print_progress, backup=False)
    record_written(target)
    ok, status = result.master_status
    print(f"refreshed {target}: {result.formulas:,} formulas, master check {status}")
    report_engine_errors(result.engine_errors)
    from aicapex.excel.addin import build_addin

    if ok:
        from aicapex.excel.export import export_client_copy

        client = export_client_copy(target, args.client, pdf=args.pdf)
        print(f"client    {client}")
        if args.pdf:
            print(f"pdf       {client.with_suffix('.pdf')}")
    else:
        print(f"client    not written: the master check is not OK (fix {target.name}, then "
              f"python -m aicapex export {target} --client NAME)")
    addin = build_addin(out)
    print(f"add-in    {addin}")
    return 0 if ok else EXIT_CHECKS_FAILING
