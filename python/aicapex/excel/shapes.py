"""Keep a sheet's shapes (text boxes) through an openpyxl load and save.

openpyxl reads a drawing part only for its charts and pictures: shapes such as the Cover's
``xlwings_button`` text box (:func:`aicapex.excel.web.add_web_button`, the sheet button of the
Refresh script on Excel on the web) are dropped on save. :func:`read_shape_drawings` finds, in
the original package, every worksheet drawing that holds shapes; :func:`carry_shapes` hands
those of sheets without charts or pictures to
:func:`~aicapex.excel.stamped_save.save_with_cached_values`, which writes the drawing part
unchanged (with its relationships, e.g. the button's link to ``Cover!B3``) and links it from
the sheet. A drawing that mixes shapes with charts or pictures is not carried (openpyxl
rewrites its charts); its shapes are named in a warning instead.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aicapex.excel.cached import NS_PKG_REL, parse_xml, sheet_parts
from aicapex.excel.stamped_save import DRAWING_REL, PackageAdditions

__all__ = ["ShapeDrawing", "carry_shapes", "read_shape_drawings"]

HYPERLINK_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"

_SHAPE = re.compile(rb"<(?:\w+:)?(?:sp|grpSp|cxnSp)\b")
_NOT_SHAPE = re.compile(rb"<(?:\w+:)?(?:graphicFrame|pic)\b")
_SHAPE_NAME = re.compile(rb'<(?:\w+:)?cNvPr\b[^>]*?\bname="([^"]*)"')


@dataclass(frozen=True)
class ShapeDrawing:
    """The drawing part of one worksheet that holds shapes."""

    sheet: str
    part: str  # zip part name in the original package
    xml: bytes
    rels: bytes | None  # the drawing's own .rels part, if any
    shape_names: tuple[str, ...]
    #: Only shapes, linked to nothing but hyperlinks: the part can be written unchanged.
    shapes_only: bool


def _rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _targets(zf: zipfile.ZipFile, part: str) -> list[tuple[str, str, str | None]]:
    """(type, resolved target, target mode) of each relationship of ``part``."""
    try:
        root = parse_xml(zf.read(_rels_part(part)))
    except KeyError:
        return []
    out = []
    for rel in root.iter(f"{{{NS_PKG_REL}}}Relationship"):
        target = rel.get("Target", "")
        mode = rel.get("TargetMode")
        if mode != "External" and not target.startswith("#"):
            target = (target.lstrip("/") if target.startswith("/") else
                      posixpath.normpath(posixpath.join(posixpath.dirname(part), target)))
        out.append((rel.get("Type", ""), target, mode))
    return out


def read_shape_drawings(source: Path | bytes) -> dict[str, ShapeDrawing]:
    """Sheet title -> its drawing with shapes, read from a workbook package (path or bytes)."""
    out: dict[str, ShapeDrawing] = {}
    raw = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else Path(source)
    with zipfile.ZipFile(raw) as zf:
        names = set(zf.namelist())
        for title, part in sheet_parts(zf).items():
            for rel_type, target, _mode in _targets(zf, part):
                if rel_type != DRAWING_REL or target not in names:
                    continue
                xml = zf.read(target)
                if not _SHAPE.search(xml):
                    continue
                rels_name = _rels_part(target)
                rels = zf.read(rels_name) if rels_name in names else None
                only_links = all(t == HYPERLINK_REL for t, _, _ in _targets(zf, target))
                out[title] = ShapeDrawing(
                    title, target, xml, rels,
                    tuple(n.decode("utf-8", "replace") for n in _SHAPE_NAME.findall(xml)),
                    shapes_only=only_links and not _NOT_SHAPE.search(xml))
    return out


def carry_shapes(wb: Any, drawings: dict[str, ShapeDrawing],
                 additions: PackageAdditions) -> list[str]:
    """Add to ``additions`` the drawings of ``wb``'s sheets that openpyxl would drop; return a
    warning for each sheet whose shapes cannot be carried."""
    warnings = []
    for title, drawing in drawings.items():
        if title not in wb.sheetnames:
            continue
        ws = wb[title]
        if drawing.shapes_only and not (getattr(ws, "_charts", None)
                                        or getattr(ws, "_images", None)):
            additions.drawings[title] = (drawing.xml, drawing.rels)
        else:
            shown = ", ".join(drawing.shape_names) or "unnamed"
            warnings.append(f"{title}: shapes beside charts or pictures are not kept by the "
                            f"headless refresh ({shown})")
    return warnings
