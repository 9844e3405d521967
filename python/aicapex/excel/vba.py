"""The macro side of the analyst workbook, built without Excel and without hand-written VBA.

All VBA comes from the *installed* xlwings package: ``quickstart_standalone.xlsm`` carries the
whole xlwings VBA project (standard modules ``xlwings`` and ``Module1``, class ``Dictionary``,
document modules ``ThisWorkbook``, ``Sheet1``, ``Sheet2``). This module pulls its
``xl/vbaProject.bin`` out at build time, lists what is inside it with oletools' olevba, and gives
an XlsxWriter builder the few calls it needs:

* :func:`attach_vba` embeds the project and gives the workbook and its worksheets the code names
  of the project's document modules (``ThisWorkbook``, ``Sheet1``, ``Sheet2``, then ``Sheet3``...);
* :func:`add_button` inserts a form button bound to a macro that must exist in the project;
* :func:`add_conf_sheet` writes the ``xlwings.conf`` sheet from :func:`xlwings_conf_rows`;
* :func:`button_macros` reads the buttons' macros back from a built file's VML.

Facts read from the VBA source (xlwings 0.37.8) and relied on here:

* ``Module1.SampleCall`` runs ``RunPython "import <m>;<m>.main()"`` where ``<m>`` is the
  workbook's file name without its last extension, so the workbook must be named like an
  importable module (see :func:`sample_call_module`).
* The config sheet is named ``PROJECT_NAME & ".conf"`` (``xlwings.conf`` in this project, see
  :func:`conf_sheet_name`). ``GetConfigFromSheet`` reads keys from A1 down to the last
  contiguous non-empty cell of column A, upper-cases them and takes the value from column B;
  a duplicate key (case-insensitively) is a VBA run-time error, and a key present with an empty
  value *masks* the directory and user config files (``GetConfig`` stops at the first layer
  that has the key), so :func:`xlwings_conf_rows` never writes empty values.
* ``ImportPythonUDFs`` (module ``xlwings``, no parameters) calls Python's
  ``xlwings.import_udfs(<UDF Modules>, ActiveWorkbook)``, which writes VBA wrappers into the
  workbook; it needs Excel on Windows with "Trust access to the VBA project object model".

Listing modules and procedures needs oletools (olevba) at build time.
"""

from __future__ import annotations

import functools
import html
import importlib.resources
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aicapex.errors import ArgumentError, DataError

__all__ = [
    "MACRO_ENABLED_CONTENT_TYPE",
    "DocumentModules",
    "VbaProcedure",
    "add_button",
    "add_conf_sheet",
    "attach_vba",
    "button_macros",
    "conf_sheet_name",
    "document_modules",
    "extract_vba_project",
    "find_macro",
    "project_name",
    "ribbon_callbacks",
    "runnable_macros",
    "sample_call_module",
    "standalone_template_path",
    "vba_modules",
    "vba_procedure_signatures",
    "vba_procedures",
    "vba_project_from_package",
    "xlwings_conf_rows",
]

MACRO_ENABLED_CONTENT_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA_PROJECT_PART = "xl/vbaProject.bin"
STANDALONE_TEMPLATE = "quickstart_standalone.xlsm"

# VB_Base GUIDs of Excel's document module classes.
_WORKBOOK_BASE = "00020819-0000-0000-C000-000000000046"
_WORKSHEET_BASE = "00020820-0000-0000-C000-000000000046"

_IDENT = r"[A-Za-z][A-Za-z0-9_]*"
IDENT_RE = re.compile(rf"^{_IDENT}$")
_MODULE_PATH_RE = re.compile(rf"^{_IDENT}(\.{_IDENT})*$")
_PROC_RE = re.compile(
    rf"^\s*(?:(?P<scope>Public|Private|Friend)\s+)?(?:Static\s+)?(?P<kind>Sub|Function)\s+"
    rf"(?P<name>{_IDENT})\s*\((?P<params>[^)]*)\)",
    re.IGNORECASE,
)
_VB_NAME_RE = re.compile(r'^Attribute\s+VB_Name\s*=\s*"([^"]+)"', re.MULTILINE)
_VB_BASE_RE = re.compile(r'^Attribute\s+VB_Base\s*=\s*"0\{([0-9A-Fa-f-]+)\}', re.MULTILINE)
_PROJECT_NAME_RE = re.compile(
    r'^\s*Public\s+Const\s+PROJECT_NAME\s+As\s+String\s*=\s*"([^"]+)"', re.MULTILINE | re.IGNORECASE
)
_FMLA_MACRO_RE = re.compile(r"<x:FmlaMacro>(.*?)</x:FmlaMacro>", re.DOTALL)


# --------------------------------------------------------------------------------------------
# Reading the VBA project
# --------------------------------------------------------------------------------------------


def standalone_template_path() -> Path:
    """Path of ``quickstart_standalone.xlsm`` inside the installed xlwings package."""
    return xlwings_package_file(STANDALONE_TEMPLATE)


def xlwings_package_file(name: str) -> Path:
    try:
        resource = importlib.resources.files("xlwings") / name
    except ModuleNotFoundError as exc:  # pragma: no cover - xlwings is a pinned requirement
        raise DataError("xlwings is not installed; it carries the VBA this build needs") from exc
    path = Path(str(resource))
    if not path.is_file():
        raise DataError(f"{name} not found in the installed xlwings package ({path.parent})")
    return path


def vba_project_from_package(package: Path) -> bytes:
    """Return ``xl/vbaProject.bin`` from an .xlsm/.xlam package (a zip file)."""
    try:
        with zipfile.ZipFile(package) as zf:
            return zf.read(VBA_PROJECT_PART)
    except KeyError as exc:
        raise DataError(f"{package} has no {VBA_PROJECT_PART}") from exc
    except zipfile.BadZipFile as exc:
        raise DataError(f"{package} is not an Office Open XML package: {exc}") from exc


def extract_vba_project(source: Path | None = None) -> bytes:
    """Return the xlwings VBA project (``vbaProject.bin``) as bytes.

    Parameters
    ----------
    source
        An .xlsm/.xlam to read it from; by default ``quickstart_standalone.xlsm`` of the
        installed xlwings package, so the VBA always matches the installed xlwings version.
    """
    return vba_project_from_package(source if source is not None else standalone_template_path())


@dataclass(frozen=True)
class _Module:
    name: str
    kind: str  # "document", "module" or "class"
    base: str | None  # VB_Base GUID for document modules
    code: str


@dataclass(frozen=True)
class VbaProcedure:
    """A public ``Sub``/``Function`` of a VBA module: its kind and its parameter list text."""

    module: str
    name: str
    kind: str  # "Sub" or "Function"
    params: str

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"


def _parse_modules(vba_bin: bytes) -> tuple[_Module, ...]:
    if not isinstance(vba_bin, bytes | bytearray) or not vba_bin:
        raise ArgumentError("vba_bin must be the non-empty bytes of a vbaProject.bin")
    return _parse_modules_cached(bytes(vba_bin))


@functools.lru_cache(maxsize=8)
def _parse_modules_cached(vba_bin: bytes) -> tuple[_Module, ...]:
    with warnings.catch_warnings():  # oletools 0.60 uses deprecated pyparsing names
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools.olevba import VBA_Parser  # build-time dependency (see module docstring)

    parser = VBA_Parser("vbaProject.bin", data=vba_bin)
    try:
        if not parser.detect_vba_macros():
            raise DataError("the given vbaProject.bin holds no VBA modules")
        kinds = _project_module_kinds(parser)
        modules = []
        for _subfile, _stream, vba_filename, code in parser.extract_macros():
            m = _VB_NAME_RE.search(code)
            name = m.group(1) if m else vba_filename.rsplit(".", 1)[0]
            b = _VB_BASE_RE.search(code)
            base = b.group(1).upper() if b else None
            kind = kinds.get(name) or ("document" if base else "module")
            modules.append(_Module(name, kind, base, code))
        return tuple(modules)
    finally:
        parser.close()


def _project_module_kinds(parser: Any) -> dict[str, str]:
    """Module kinds from the PROJECT stream (``Document=``, ``Module=``, ``Class=`` lines)."""
    kinds: dict[str, str] = {}
    try:
        text = parser.ole_file.openstream("PROJECT").read().decode("latin-1")
    except Exception:  # no PROJECT stream: fall back to the VB_Base attribute
        return kinds
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        name = value.split("/", 1)[0].strip()
        if key == "Document":
            kinds[name] = "document"
        elif key == "Module":
            kinds[name] = "module"
        elif key in ("Class", "BaseClass"):
            kinds[name] = "class"
    return kinds


def _logical_lines(code: str) -> Iterable[str]:
    """VBA lines with ``_`` line continuations joined."""
    buf = ""
    for raw in code.splitlines():
        line = raw.rstrip()
        if line.endswith(" _"):
            buf += line[:-1] + " "
            continue
        yield buf + line
        buf = ""
    if buf:
        yield buf


def vba_modules(vba_bin: bytes) -> dict[str, str]:
    """Module name -> VBA source text for every module of a ``vbaProject.bin``."""
    return {m.name: m.code for m in _parse_modules(vba_bin)}


def vba_procedure_signatures(vba_bin: bytes) -> dict[str, dict[str, VbaProcedure]]:
    """Module name -> {procedure name -> :class:`VbaProcedure`} for public Subs/Functions.

    ``Private`` procedures and ``Declare`` statements are left out; a procedure declared in
    several ``#If`` branches appears once (its first declaration).
    """
    out: dict[str, dict[str, VbaProcedure]] = {}
    for module in _parse_modules(vba_bin):
        procs: dict[str, VbaProcedure] = {}
        for line in _logical_lines(module.code):
            m = _PROC_RE.match(line)
            if not m or (m.group("scope") or "").lower() == "private":
                continue
            name = m.group("name")
            procs.setdefault(
                name, VbaProcedure(module.name, name, m.group("kind").title(), m.group("params"))
            )
        out[module.name] = procs
    return out


def vba_procedures(vba_bin: bytes) -> dict[str, set[str]]:
    """Module name -> names of its public Subs and Functions."""
    return {mod: set(procs) for mod, procs in vba_procedure_signatures(vba_bin).items()}


def _module_kinds(vba_bin: bytes) -> dict[str, str]:
    return {m.name: m.kind for m in _parse_modules(vba_bin)}


def runnable_macros(vba_bin: bytes) -> set[str]:
    """Macros a form button can run: public Subs without required parameters in standard
    modules, both as ``Name`` and as ``Module.Name``."""
    kinds = _module_kinds(vba_bin)
    out: set[str] = set()
    for module, procs in vba_procedure_signatures(vba_bin).items():
        if kinds.get(module) != "module":
            continue
        for proc in procs.values():
            if proc.kind == "Sub" and _all_optional(proc.params):
                out.update({proc.name, proc.qualified})
    return out


def ribbon_callbacks(vba_bin: bytes) -> set[str]:
    """``Module.Name`` of every public Sub with the ribbon ``onAction`` signature
    ``(control As IRibbonControl)`` in a standard module.

    A ribbon button's ``onAction`` must name such a Sub: Office passes the control as the one
    argument, so a parameterless macro such as ``ImportPythonUDFs`` cannot be an ``onAction``.
    """
    kinds = _module_kinds(vba_bin)
    out: set[str] = set()
    for module, procs in vba_procedure_signatures(vba_bin).items():
        if kinds.get(module) != "module":
            continue
        for proc in procs.values():
            params = [p.strip() for p in proc.params.split(",") if p.strip()]
            if (
                proc.kind == "Sub"
                and len(params) == 1
                and re.fullmatch(
                    rf"(?:ByVal\s+|ByRef\s+)?{_IDENT}\s+As\s+IRibbonControl", params[0], re.I
                )
            ):
                out.add(proc.qualified)
    return out


def _all_optional(params: str) -> bool:
    parts = [p.strip() for p in params.split(",") if p.strip()]
    return all(p.lower().startswith(("optional ", "paramarray ")) for p in parts)


def find_macro(vba_bin: bytes, macro: str) -> str | None:
    """``Module.Name`` of the runnable macro a button's ``macro`` string names, or None.

    Accepts ``Name``, ``Module.Name`` and the ``[0]!Name`` form stored in the VML.
    """
    name = _strip_book_prefix(macro)
    kinds = _module_kinds(vba_bin)
    for module, procs in vba_procedure_signatures(vba_bin).items():
        if kinds.get(module) != "module":
            continue
        for proc in procs.values():
            if proc.kind == "Sub" and _all_optional(proc.params):
                if name.lower() in (proc.name.lower(), proc.qualified.lower()):
                    return proc.qualified
    return None


def _strip_book_prefix(macro: str) -> str:
    # "[0]!SampleCall" (XlsxWriter) or "'Book.xlsm'!SampleCall" -> "SampleCall"
    return macro.rsplit("!", 1)[-1].strip()


def project_name(vba_bin: bytes) -> str:
    """xlwings' ``PROJECT_NAME`` constant (``"xlwings"`` in the standalone project)."""
    for code in vba_modules(vba_bin).values():
        m = _PROJECT_NAME_RE.search(code)
        if m:
            return m.group(1)
    raise DataError("no 'Public Const PROJECT_NAME' in the VBA project; is it xlwings' VBA?")


def conf_sheet_name(vba_bin: bytes | None = None) -> str:
    """Name of the config sheet the project's VBA reads: ``PROJECT_NAME & ".conf"``."""
    return project_name(vba_bin if vba_bin is not None else extract_vba_project()) + ".conf"


@dataclass(frozen=True)
class DocumentModules:
    """Document modules of a VBA project: the workbook's and the worksheets' (in order)."""

    workbook: str
    worksheets: tuple[str, ...]


def _natural_key(name: str) -> tuple[str, int]:
    m = re.match(r"^(.*?)(\d+)$", name)
    return (m.group(1), int(m.group(2))) if m else (name, -1)


def document_modules(vba_bin: bytes) -> DocumentModules:
    """The code names a workbook must use for this VBA project.

    For the xlwings standalone project: ``DocumentModules("ThisWorkbook", ("Sheet1", "Sheet2"))``.
    """
    workbook: list[str] = []
    sheets: list[str] = []
    for m in _parse_modules(vba_bin):
        if m.kind != "document":
            continue
        if m.base == _WORKBOOK_BASE:
            workbook.append(m.name)
        elif m.base == _WORKSHEET_BASE:
            sheets.append(m.name)
    if len(workbook) != 1:
        raise DataError(f"expected one workbook document module, found {workbook}")
    return DocumentModules(workbook[0], tuple(sorted(sheets, key=_natural_key)))


def sample_call_module(workbook_filename: str | Path) -> str:
    """The module ``Module1.SampleCall`` imports for a workbook file name.

    The VBA is ``mymodule = Left(ThisWorkbook.Name, InStrRev(ThisWorkbook.Name, ".") - 1)``
    then ``RunPython "import " & mymodule & ";" & mymodule & ".main()"``.

    >>> sample_call_module("capex_workbook.xlsm")
    'capex_workbook'
    """
    name = Path(workbook_filename).name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    if not IDENT_RE.match(stem):
        raise ArgumentError(
            f"workbook file name {name!r}: SampleCall runs 'import {stem}', so the name "
            "without extension must be a Python identifier (letters, digits, underscores)"
        )
    return stem


# --------------------------------------------------------------------------------------------
# Config sheet
# --------------------------------------------------------------------------------------------


def _check_module_list(udf_modules: str) -> str:
    mods = [m.strip() for m in str(udf_modules).split(";")]
    mods = [m for m in mods if m]
    if not mods or not all(_MODULE_PATH_RE.match(m) for m in mods):
        raise ArgumentError(
            f"udf_modules={udf_modules!r}: expected ';'-separated importable module names "
            "such as 'aicapex.udfs'"
        )
    return ";".join(mods)


def xlwings_conf_rows(
    udf_modules: str,
    pythonpath: str | None = None,
    *,
    interpreter_win: str | None = None,
    interpreter_mac: str | None = None,
    conda_path: str | None = None,
    conda_env: str | None = None,
) -> list[tuple[str, str]]:
    """Key/value rows of an xlwings config sheet (column A key, column B value, from A1).

    Keys are spelled as in xlwings' quickstart sheets; the VBA upper-cases them before the
    look-up (``GetConfig("UDF MODULES")``, ``"PYTHONPATH"``, ``"INTERPRETER_WIN"``,
    ``"INTERPRETER_MAC"``, ``"CONDA PATH"``, ``"CONDA ENV"``). Only settings given a value are
    written: a key with an empty value would hide the same key in the ``xlwings.conf`` file
    next to the workbook and in the user's config file. Values may use ``%VAR%``
    environment strings (the VBA expands them).

    >>> xlwings_conf_rows("aicapex.udfs", None)
    [('UDF Modules', 'aicapex.udfs')]
    >>> xlwings_conf_rows("aicapex.udfs;extra", r"C:\\capex")
    [('UDF Modules', 'aicapex.udfs;extra'), ('PYTHONPATH', 'C:\\\\capex')]
    """
    rows = [("UDF Modules", _check_module_list(udf_modules))]
    for key, value in (
        ("PYTHONPATH", pythonpath),
        ("Interpreter_Win", interpreter_win),
        ("Interpreter_Mac", interpreter_mac),
        ("Conda Path", conda_path),
        ("Conda Env", conda_env),
    ):
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise ArgumentError(f"{key}={value!r}: give a non-empty string or leave it out")
        rows.append((key, value.strip()))
    return rows


def _check_conf_rows(rows: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for key, value in rows:
        if not isinstance(key, str) or not key.strip():
            raise ArgumentError(
                f"config key {key!r}: keys must be non-empty (the VBA stops "
                "reading at the first empty cell in column A)"
            )
        if key.upper() in seen:
            raise ArgumentError(
                f"config key {key!r} appears twice (the VBA compares keys "
                "case-insensitively and fails on duplicates)"
            )
        seen.add(key.upper())
        out.append((key, "" if value is None else str(value)))
    return out


def add_conf_sheet(
    workbook: Any,
    rows: Sequence[tuple[str, str]],
    *,
    vba_bin: bytes | None = None,
    hidden: bool = False,
) -> Any:
    """Add the active config sheet (``xlwings.conf``) to an XlsxWriter workbook.

    Call it before :func:`attach_vba` so the sheet gets a code name too.
    """
    rows = _check_conf_rows(rows)
    name = conf_sheet_name(vba_bin)
    ws = workbook.add_worksheet(name)
    for r, (key, value) in enumerate(rows):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 40)
    if hidden:
        ws.hide()
    return ws


# --------------------------------------------------------------------------------------------
# XlsxWriter helpers
# --------------------------------------------------------------------------------------------


def attach_vba(
    workbook: Any,
    worksheets_in_order: Sequence[Any] | None = None,
    *,
    vba_bin: bytes | None = None,
) -> dict[str, str]:
    """Embed the xlwings VBA project in an XlsxWriter workbook and set its code names.

    The workbook gets the project's workbook module name (``ThisWorkbook``); the worksheets in
    ``worksheets_in_order`` (default: all sheets in tab order) get the project's worksheet
    modules in order (``Sheet1``, ``Sheet2``); the other sheets, in tab order, take the
    project's remaining worksheet modules and then free ``SheetN`` names
    (Excel creates the missing document modules when it opens the file). Call it after all
    worksheets are added. The workbook must be written as ``.xlsm``.

    Returns
    -------
    dict
        Sheet name -> VBA code name.
    """
    filename = getattr(workbook, "filename", None)
    if isinstance(filename, str | Path) and not str(filename).lower().endswith((".xlsm", ".xltm")):
        raise ArgumentError(
            f"workbook file {filename}: a workbook with macros must be saved as .xlsm"
        )
    data = bytes(vba_bin) if vba_bin is not None else extract_vba_project()
    docs = document_modules(data)
    all_sheets = list(workbook.worksheets())
    ordered = list(worksheets_in_order) if worksheets_in_order is not None else all_sheets
    if len({id(s) for s in ordered}) != len(ordered):
        raise ArgumentError("worksheets_in_order lists a worksheet twice")
    if any(s not in all_sheets for s in ordered):
        raise ArgumentError("worksheets_in_order holds a worksheet of another workbook")

    workbook.add_vba_project(io.BytesIO(data), is_stream=True)
    workbook.set_vba_name(docs.workbook)

    used = {name.lower() for name in vba_modules(data)}
    names: dict[str, str] = {}
    free_modules = list(docs.worksheets)
    counter = len(docs.worksheets)

    def next_free() -> str:
        nonlocal counter
        while True:
            counter += 1
            candidate = f"Sheet{counter}"
            if candidate.lower() not in used:
                used.add(candidate.lower())
                return candidate

    for sheet in ordered:
        code = free_modules.pop(0) if free_modules else next_free()
        sheet.set_vba_name(code)
        names[sheet.get_name()] = code
    for sheet in all_sheets:
        if sheet not in ordered:
            code = free_modules.pop(0) if free_modules else next_free()
            sheet.set_vba_name(code)
            names[sheet.get_name()] = code
    return names


def add_button(
    worksheet: Any,
    cell: str | tuple[int, int],
    macro: str,
    caption: str,
    *,
    vba_bin: bytes | None = None,
    **options: Any,
) -> None:
    """Insert a form button at ``cell`` ("B3" or zero-based ``(row, col)``) running ``macro``.

    The macro must be a runnable macro of the VBA project (default: the xlwings standalone
    project), e.g. ``"SampleCall"``; extra ``options`` (width, height, x_offset...) go to
    XlsxWriter's ``insert_button``.
    """
    from xlsxwriter.utility import xl_cell_to_rowcol

    if isinstance(cell, str):
        row, col = xl_cell_to_rowcol(cell)
    else:
        row, col = cell
    data = vba_bin if vba_bin is not None else extract_vba_project()
    if find_macro(data, macro) is None:
        raise ArgumentError(
            f"macro {macro!r} is not a parameterless public Sub of the VBA project; "
            f"choose one of {sorted(m for m in runnable_macros(data) if '.' not in m)}"
        )
    if not caption:
        raise ArgumentError("caption must be a non-empty string")
    if worksheet.insert_button(row, col, {"macro": macro, "caption": caption, **options}) != 0:
        raise ArgumentError(f"cannot insert a button at {cell!r}")


def button_macros(xlsx_path: str | Path) -> list[str]:
    """Macros bound to the form buttons of a built workbook, in VML order.

    Read from ``<x:FmlaMacro>`` in ``xl/drawings/*.vml``; the ``[0]!`` workbook prefix is
    removed (``"[0]!SampleCall"`` -> ``"SampleCall"``).
    """
    out: list[str] = []
    with zipfile.ZipFile(xlsx_path) as zf:
        for name in sorted(n for n in zf.namelist() if n.lower().endswith(".vml")):
            text = zf.read(name).decode("utf-8", errors="replace")
            out.extend(
                _strip_book_prefix(html.unescape(m.strip())) for m in _FMLA_MACRO_RE.findall(text)
            )
    return out
