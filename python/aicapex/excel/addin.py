"""The installable ``aicapex.xlam`` add-in, made from xlwings' own ribbon add-in template.

The template is ``quickstart_addin_ribbon.xlam`` inside the *installed* xlwings package. Its
VBA project (modules ``xlwings``, ``RibbonMyAddin``, class ``Dictionary``, document modules
``ThisWorkbook``, ``Sheet2``) is copied byte for byte; no VBA is written. What changes:

* ``customUI/customUI.xml``: same namespace (``.../office/2006/01/customui``) and structure
  (``customUI/ribbon/tabs/tab/group/button``), our "AI Capex" tab instead of "MyAddin".
  Every ``onAction`` must be a Sub of the VBA project with the ribbon callback signature
  ``(control As IRibbonControl)`` (checked at build time). The template has exactly one:
  ``RibbonMyAddin.RunMain``, which runs ``import <add-in file name without extension>;
  <that module>.main()`` - with ``aicapex.xlam`` that is ``import aicapex; aicapex.main()``.
  xlwings' ``ImportPythonUDFs`` exists but takes no argument, so a ribbon button cannot call
  it, and there is no help procedure: the tab therefore carries Refresh only, with help text
  in its screentip/supertip (see :data:`RIBBON_BUTTONS`).
* The config sheet: the template ships it inactive as ``_myaddin.conf``; the VBA reads a sheet
  named ``PROJECT_NAME & ".conf"`` (``PROJECT_NAME = "myaddin"`` in the template's ``xlwings``
  module, which we cannot rename without editing VBA). It is renamed to ``myaddin.conf`` and
  its rows replaced by :func:`aicapex.excel.vba.xlwings_conf_rows` (``UDF Modules`` =
  ``aicapex.udfs``); shared strings are updated to match.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree as SafeET

from aicapex.errors import ArgumentError, DataError
from aicapex.excel.vba import (
    IDENT_RE,
    conf_sheet_name,
    ribbon_callbacks,
    xlwings_conf_rows,
    xlwings_package_file,
)

__all__ = [
    "ADDIN_CONTENT_TYPE",
    "ADDIN_TEMPLATE",
    "CUSTOMUI_NS",
    "RIBBON_BUTTONS",
    "RibbonButton",
    "addin_template_path",
    "build_addin",
    "customui_xml",
]

ADDIN_TEMPLATE = "quickstart_addin_ribbon.xlam"
ADDIN_CONTENT_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2006/01/customui"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"


@dataclass(frozen=True)
class RibbonButton:
    """One ribbon button: ``on_action`` names a ``Module.Sub(control As IRibbonControl)``."""

    id: str
    label: str
    on_action: str
    image_mso: str
    screentip: str
    supertip: str
    size: str = "large"


RIBBON_BUTTONS: tuple[RibbonButton, ...] = (
    RibbonButton(
        id="aicapexRefresh",
        label="Refresh",
        on_action="RibbonMyAddin.RunMain",
        image_mso="Refresh",
        screentip="Refresh the AI Capex workbook",
        supertip=(
            "Runs aicapex.main() on the active workbook: reloads the data and recalculates "
            "the analysis. AI Capex functions (module aicapex.udfs) are set in the add-in's "
            "myaddin.conf sheet; a workbook can override them in its own myaddin.conf sheet. "
            "Help: run 'aicapex --help' in a terminal."
        ),
    ),
)


#: The ribbon's Help group: (label, tooltip) pairs, shown as text.
HELP_LINES: tuple[tuple[str, str], ...] = (
    ("CPX_ functions: Insert Function > AI Capex",
     "Every CPX_ function and argument has help text in Excel's function wizard."),
    ("Command line: python -m aicapex --help",
     "Refresh, export and build run without Excel; see the README of AI Capex Workbench."),
)


def addin_template_path() -> Path:
    """Path of ``quickstart_addin_ribbon.xlam`` inside the installed xlwings package."""
    return xlwings_package_file(ADDIN_TEMPLATE)


def customui_xml(
    buttons: tuple[RibbonButton, ...] = RIBBON_BUTTONS,
    *,
    tab_label: str = "AI Capex",
    group_label: str = "AI Capex",
) -> str:
    """The ``customUI.xml`` text: one tab, one group, the given buttons."""
    if not buttons:
        raise ArgumentError("the ribbon needs at least one button")
    lines = [
        f"<customUI xmlns={quoteattr(CUSTOMUI_NS)}>",
        "    <ribbon>",
        "        <tabs>",
        f'            <tab id="aicapexTab" label={quoteattr(tab_label)}>',
        f'                <group id="aicapexGroup" label={quoteattr(group_label)}>',
    ]
    for b in buttons:
        if b.size not in ("normal", "large"):
            raise ArgumentError(f"button {b.id}: size={b.size!r}, expected 'normal' or 'large'")
        attrs = {
            "id": b.id,
            "label": b.label,
            "size": b.size,
            "onAction": b.on_action,
            "imageMso": b.image_mso,
            "screentip": b.screentip,
            "supertip": b.supertip,
        }
        for key, value in attrs.items():
            if not value or len(value) > 1024:
                raise ArgumentError(f"button {b.id}: {key} must be 1 to 1024 characters")
        text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
        lines.append(f"                    <button {text} />")
    # Help needs no macro: label controls show text (and a tooltip) without a callback, so
    # the ribbon can carry it although the template's VBA has no help procedure.
    lines += ["                </group>", '                <group id="aicapexHelp" label="Help">']
    for i, (label, tip) in enumerate(HELP_LINES):
        lines.append(f'                    <labelControl id="aicapexHelp{i}" label={quoteattr(label)} '
                     f"screentip={quoteattr(label)} supertip={quoteattr(tip)} />")
    lines += [
        "                </group>",
        "            </tab>",
        "        </tabs>",
        "    </ribbon>",
        "</customUI>",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Package editing
# --------------------------------------------------------------------------------------------


def _resolve(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts = [p for p in base_dir.split("/") if p]
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _rels(parts: dict[str, bytes], rels_name: str, base_dir: str) -> dict[str, tuple[str, str]]:
    """rId -> (Type, resolved part name)."""
    root = SafeET.fromstring(parts[rels_name])
    return {
        rel.get("Id"): (rel.get("Type"), _resolve(base_dir, rel.get("Target")))
        for rel in root.findall(f"{{{_PKG_REL_NS}}}Relationship")
    }


def _rewrite_conf_sheet(sheet_xml: str, rows: list[tuple[str, str]], sst: list[str]) -> str:
    """Replace the ``<sheetData>`` of the template's config sheet by ``rows`` (A/B columns).

    Edited as text so every namespace declaration (``mc:Ignorable`` prefixes) stays intact;
    the cell style of the template's column A cells is kept.
    """
    m = re.search(r'<c r="A1"[^>]*\ss="(\d+)"', sheet_xml)
    style = f' s="{m.group(1)}"' if m else ""

    def shared(text: str) -> int:
        if text not in sst:
            sst.append(text)
        return sst.index(text)

    xml_rows = []
    for i, (key, value) in enumerate(rows, start=1):
        xml_rows.append(
            f'<row r="{i}" spans="1:2">'
            f'<c r="A{i}"{style} t="s"><v>{shared(key)}</v></c>'
            f'<c r="B{i}"{style} t="s"><v>{shared(value)}</v></c>'
            "</row>"
        )
    new_data = "<sheetData>" + "".join(xml_rows) + "</sheetData>"
    out, n = re.subn(
        r"<sheetData\s*/>|<sheetData>.*?</sheetData>", new_data, sheet_xml, flags=re.DOTALL
    )
    if n != 1:
        raise DataError("the template's config sheet has no single <sheetData> element")
    out, n = re.subn(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:B{len(rows)}" />', out)
    if n != 1:
        raise DataError("the template's config sheet has no single <dimension> element")
    SafeET.fromstring(out.encode("utf-8"))  # well-formed check
    return out


def _sst_strings(sst_xml: bytes) -> list[str]:
    root = SafeET.fromstring(sst_xml)
    out = []
    for si in root.findall(f"{{{_MAIN_NS}}}si"):
        # plain <t> or rich-text runs <r><t>
        out.append("".join(t.text or "" for t in si.iter(f"{{{_MAIN_NS}}}t")))
    return out


def _sst_xml(strings: list[str], count: int) -> bytes:
    items = "".join(
        f'<si><t xml:space="preserve">{escape(s)}</t></si>'
        if s != s.strip()
        else f"<si><t>{escape(s)}</t></si>"
        for s in strings
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<sst xmlns="{_MAIN_NS}" count="{count}" uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()


def _count_shared_refs(sheet_xml: bytes) -> int:
    root = SafeET.fromstring(sheet_xml)
    return sum(1 for c in root.iter(f"{{{_MAIN_NS}}}c") if c.get("t") == "s")


def _build_parts(
    template: Path, udf_module: str, pythonpath: str | None, buttons: tuple[RibbonButton, ...]
) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    with zipfile.ZipFile(template) as zf:
        infos = zf.infolist()
        parts = {i.filename: zf.read(i.filename) for i in infos}

    # Content type of the workbook part must stay the add-in one.
    ct_root = SafeET.fromstring(parts["[Content_Types].xml"])
    overrides = {
        o.get("PartName").lstrip("/"): o.get("ContentType")
        for o in ct_root.findall(f"{{{_CT_NS}}}Override")
    }
    pkg_rels = _rels(parts, "_rels/.rels", "")
    workbook_part = next(
        (p for t, p in pkg_rels.values() if t.endswith("/officeDocument")), "xl/workbook.xml"
    )
    if overrides.get(workbook_part) != ADDIN_CONTENT_TYPE:
        raise DataError(f"{template.name}: {workbook_part} is not an add-in part")
    customui_part = next((p for t, p in pkg_rels.values() if t.endswith("/ui/extensibility")), None)
    if customui_part is None or customui_part not in parts:
        raise DataError(f"{template.name} has no customUI part")

    vba_bin = parts.get("xl/vbaProject.bin")
    if vba_bin is None:
        raise DataError(f"{template.name} has no xl/vbaProject.bin")

    # Ribbon: check every onAction against the VBA project before writing anything.
    callbacks = ribbon_callbacks(vba_bin)
    missing = [b.on_action for b in buttons if b.on_action not in callbacks]
    if missing:
        raise DataError(
            f"ribbon onAction {missing} not found as 'Sub X(control As IRibbonControl)' in the "
            f"template's VBA project; available: {sorted(callbacks)}"
        )
    old_ui = SafeET.fromstring(parts[customui_part])
    if old_ui.tag != f"{{{CUSTOMUI_NS}}}customUI":
        raise DataError(f"{template.name}: customUI namespace is {old_ui.tag}, not {CUSTOMUI_NS}")
    parts[customui_part] = customui_xml(buttons).encode("utf-8")

    # Config sheet: find the sheet named like PROJECT_NAME.conf, with or without leading "_".
    sheet_name = conf_sheet_name(vba_bin)
    wb_dir = workbook_part.rsplit("/", 1)[0]
    wb_rels = _rels(parts, f"{wb_dir}/_rels/{workbook_part.rsplit('/', 1)[1]}.rels", wb_dir)
    wb_xml = parts[workbook_part].decode("utf-8")
    wb_root = SafeET.fromstring(parts[workbook_part])
    sheets = wb_root.findall(f"{{{_MAIN_NS}}}sheets/{{{_MAIN_NS}}}sheet")
    conf = [s for s in sheets if s.get("name") in (sheet_name, "_" + sheet_name)]
    if len(conf) != 1:
        raise DataError(
            f"{template.name}: expected one sheet named {sheet_name!r} or '_{sheet_name}', "
            f"found {[s.get('name') for s in sheets]}"
        )
    old_name = conf[0].get("name")
    rid = conf[0].get(f"{{{_REL_NS}}}id")
    if old_name != sheet_name:
        wb_xml, n = re.subn(
            rf'(<sheet\b[^>]*\bname=")({re.escape(old_name)})(")',
            rf"\g<1>{sheet_name}\g<3>",
            wb_xml,
        )
        if n != 1:
            raise DataError(f"{template.name}: cannot rename sheet {old_name!r}")
        parts[workbook_part] = wb_xml.encode("utf-8")
        SafeET.fromstring(parts[workbook_part])
    sheet_part = wb_rels[rid][1]

    sst_part = next((p for t, p in wb_rels.values() if t.endswith("/sharedStrings")), None)
    if sst_part is None:
        raise DataError(f"{template.name} has no shared strings part")
    strings = _sst_strings(parts[sst_part])
    rows = xlwings_conf_rows(udf_module, pythonpath)
    parts[sheet_part] = _rewrite_conf_sheet(
        parts[sheet_part].decode("utf-8"), rows, strings
    ).encode("utf-8")
    sheet_parts = [p for t, p in wb_rels.values() if t.endswith("/worksheet")]
    strings, count = _compact_shared_strings(parts, sheet_parts, strings)
    parts[sst_part] = _sst_xml(strings, count)
    return infos, parts


_SHARED_CELL_RE = re.compile(r'(<c\b[^>]*\bt="s"[^>]*>\s*<v>)(\d+)(</v>)')


def _compact_shared_strings(
    parts: dict[str, bytes], sheet_parts: list[str], strings: list[str]
) -> tuple[list[str], int]:
    """Drop shared strings no cell uses and renumber the cells; return (strings, count)."""
    new_index: dict[int, int] = {}
    new_strings: list[str] = []
    count = 0

    def remap(m: re.Match[str]) -> str:
        nonlocal count
        old = int(m.group(2))
        if old >= len(strings):
            raise DataError(f"shared string index {old} out of range")
        if old not in new_index:
            new_index[old] = len(new_strings)
            new_strings.append(strings[old])
        count += 1
        return f"{m.group(1)}{new_index[old]}{m.group(3)}"

    for part in sheet_parts:
        text = _SHARED_CELL_RE.sub(remap, parts[part].decode("utf-8"))
        parts[part] = text.encode("utf-8")
        if _count_shared_refs(parts[part]) != sum(1 for _ in _SHARED_CELL_RE.finditer(text)):
            raise DataError(f"{part}: shared-string cells in an unexpected form")
    return new_strings, count


def build_addin(
    out_dir: Path,
    *,
    udf_module: str = "aicapex.udfs",
    addin_name: str = "aicapex",
    pythonpath: str | None = None,
    buttons: tuple[RibbonButton, ...] = RIBBON_BUTTONS,
    template: Path | None = None,
) -> Path:
    """Write ``<addin_name>.xlam`` into ``out_dir`` and return its path.

    Parameters
    ----------
    out_dir
        Existing or new directory; the file is written to a temporary file there and moved
        into place with ``os.replace`` (an existing add-in is replaced atomically).
    udf_module
        ``UDF Modules`` setting of the add-in's config sheet (``;``-separated module names).
    addin_name
        File name without extension. The ribbon's Refresh runs ``import <addin_name>;
        <addin_name>.main()``, so it must be an importable Python module with a ``main()``.
    pythonpath
        Optional ``PYTHONPATH`` setting for the config sheet (left out when None).
    buttons
        Ribbon buttons; each ``on_action`` must be a ribbon callback of the template's VBA.
    template
        Another xlwings ribbon add-in to start from (default: the installed xlwings one).
    """
    if not isinstance(addin_name, str) or not IDENT_RE.match(addin_name):
        raise ArgumentError(
            f"addin_name={addin_name!r}: the ribbon runs 'import {addin_name}', so the name "
            "must be a Python identifier"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{addin_name}.xlam"
    infos, parts = _build_parts(template or addin_template_path(), udf_module, pythonpath, buttons)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{addin_name}.", suffix=".xlam.tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for info in infos:
                    zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                    zi.compress_type = zipfile.ZIP_DEFLATED
                    zi.external_attr = info.external_attr
                    zf.writestr(zi, parts[info.filename])
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; an add-in is a shared, readable file
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return target
