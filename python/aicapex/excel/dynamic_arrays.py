"""Keep dynamic-array formulas dynamic through an openpyxl load and save.

A dynamic-array (spilled) formula is stored as an array formula whose cell carries
``cm="1"``, an index into the workbook's ``xl/metadata.xml`` part, which flags it as a
dynamic array (``XLDAPR``). openpyxl reads the formula (as an ``ArrayFormula``) but drops the
attribute and the part on save, which would turn each spilled CPX_ block into a legacy
Ctrl+Shift+Enter array. :func:`read_dynamic_arrays` notes them in the original file;
:func:`package_additions` gives what to add when the workbook is saved with
:func:`~aicapex.excel.stamped_save.save_with_cached_values`, and the anchors' ``cm`` attributes
are stamped with the cached values (:class:`aicapex.excel.cached.WithAttributes`).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from aicapex.excel.cached import cells_with, sheet_parts
from aicapex.excel.stamped_save import PackageAdditions

METADATA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"
METADATA_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata"

_CM_RE = re.compile(r'\bcm="(\d+)"')
_REF_RE = re.compile(r'\br="([A-Z]+[0-9]+)"')
_REL_RE = re.compile(r"<Relationship\b[^>]*>", re.DOTALL)


@dataclass
class DynamicArrays:
    """The dynamic-array anchors of a workbook and its metadata part."""

    anchors: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, "F8") -> cm
    metadata: bytes | None = None

    def __bool__(self) -> bool:
        return bool(self.anchors) and self.metadata is not None


def read_dynamic_arrays(path: Path) -> DynamicArrays:
    """Anchors (cells with ``cm`` and an array formula) and the metadata part of ``path``."""
    out = DynamicArrays()
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        rels = "xl/_rels/workbook.xml.rels"
        if rels not in names:
            return out
        for rel in _REL_RE.findall(zf.read(rels).decode("utf-8", "replace")):
            if METADATA_REL in rel:
                target = re.search(r'Target="([^"]+)"', rel)
                if target:
                    part = posixpath.normpath(posixpath.join("xl", target.group(1)))
                    out.metadata = zf.read(part.lstrip("/")) if part.lstrip("/") in names else None
        if out.metadata is None:
            return out
        for title, part in sheet_parts(zf).items():
            xml = zf.read(part).decode("utf-8")
            if ' cm="' not in xml:
                continue
            for attrs, body in cells_with(xml, ' cm="'):
                ref, cm = _REF_RE.search(attrs), _CM_RE.search(attrs)
                if ref and cm and 't="array"' in body:
                    out.anchors[(title, ref.group(1))] = cm.group(1)
    return out


def package_additions(state: DynamicArrays, additions: PackageAdditions | None = None
                      ) -> PackageAdditions:
    """What :func:`~aicapex.excel.stamped_save.save_with_cached_values` adds so that
    ``state``'s anchors stay dynamic arrays: the metadata part, its content type and its
    relationship (added to ``additions`` if given). The anchors' ``cm`` attributes come with
    the values (:class:`~aicapex.excel.cached.WithAttributes`)."""
    additions = additions if additions is not None else PackageAdditions()
    if state:
        additions.parts["xl/metadata.xml"] = state.metadata or b""
        additions.content_types["xl/metadata.xml"] = METADATA_TYPE
        additions.workbook_rels.append((METADATA_REL, "metadata.xml"))
    return additions
