"""Verification of a client copy: what makes a file unfit to send, read from its zip parts.

:func:`verify_client_copy` is the last step of the client export
(:func:`aicapex.excel.export.export_client_copy` refuses to deliver a file with any
problem) and a check anyone can run on a file received from elsewhere. It reads the parts
directly rather than through openpyxl, so it also sees what a library would hide.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import unescape

from aicapex.errors import AicapexError
from aicapex.excel import safety
from aicapex.excel.cached import NS_MAIN, parse_xml, sheet_parts, workbook_part
from aicapex.excel.portability import (
    TEXT_LEADS,
    analyse_formula,
    is_dropped_sheet,
    portability_problems,
)

__all__ = ["verify_client_copy"]

_ROW_HIDDEN_RE = re.compile(r'<(?:\w+:)?row\b[^>]*?\br="(\d+)"[^>]*?\bhidden="(?:1|true)"')
_ROW_HIDDEN2_RE = re.compile(r'<(?:\w+:)?row\b[^>]*?\bhidden="(?:1|true)"[^>]*?\br="(\d+)"')
_COL_HIDDEN_RE = re.compile(r'<(?:\w+:)?col\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
_CELL_RE = re.compile(
    r"<(?P<p>\w+:)?c(?=[\s/>])(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)?c>)", re.DOTALL
)
_ATTR_RE = re.compile(r'([\w:.-]+)\s*=\s*"([^"]*)"')
_F_TEXT_RE = re.compile(r"<(?:\w+:)?f\b[^>]*?(?:/>|>(?P<text>.*?)</(?:\w+:)?f>)", re.DOTALL)
_V_RE = re.compile(r"<(?:\w+:)?v\b[^>]*?(?:/>|>(?P<text>.*?)</(?:\w+:)?v>)", re.DOTALL)
_IS_RE = re.compile(r"<(?:\w+:)?t\b[^>]*>(?P<text>.*?)</(?:\w+:)?t>", re.DOTALL)


def _xf_quote_prefix(zf: zipfile.ZipFile) -> list[bool]:
    try:
        root = parse_xml(zf.read("xl/styles.xml"))
    except KeyError:
        return []
    xfs = root.find(f"{{{NS_MAIN}}}cellXfs")
    if xfs is None:
        return []
    return [x.get("quotePrefix") in ("1", "true") for x in xfs.findall(f"{{{NS_MAIN}}}xf")]


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    try:
        root = parse_xml(zf.read("xl/sharedStrings.xml"))
    except KeyError:
        return []
    out = []
    for si in root.findall(f"{{{NS_MAIN}}}si"):
        out.append("".join(t.text or "" for t in si.iter(f"{{{NS_MAIN}}}t")))
    return out


def verify_client_copy(path: Path) -> list[str]:
    """Problems that make a file unfit to send to a client ([] when it is clean).

    Reads the zip parts directly (not through openpyxl), so it also catches what a library
    would hide: a macro project or macro-enabled content type, an ``xlwings.conf`` or
    ``_xlwings*`` sheet, ``CPX_`` or any other non-portable formula text (which is also how a
    source text beginning ``=``/``+``/``-``/``@`` that became a formula shows up), a formula
    without a cached result, error values, external links, comments and legacy (VML)
    drawings such as buttons, ActiveX or form controls, hidden or very hidden sheets, hidden
    rows and columns, sheet or workbook protection, defined names with ``#REF!`` or pointing
    at a sheet that is not there, custom properties, an author or last-modified-by in
    ``docProps/core.xml``, text beginning ``=``/``+``/``-``/``@`` without the quote prefix,
    a missing ``fullCalcOnLoad``, hidden defined names and names holding a constant, and a
    missing client-copy mark.
    """
    path = Path(path)
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"not a readable workbook: {exc}"]
    with zf:
        names = zf.namelist()
        for name in names:
            low = name.lower()
            if low.endswith("vbaproject.bin") or low.endswith("vbadata.xml"):
                problems.append(f"macro project {name} is present")
            elif low.startswith("xl/externallinks/"):
                problems.append(f"external link part {name}")
            elif re.search(r"(^|/)(comments\d*\.xml|threadedcomments|persons/)", low):
                problems.append(f"comments part {name}")
            elif low.endswith(".vml"):
                problems.append(f"legacy drawing (buttons or comments) {name}")
            elif low.startswith(("xl/activex/", "xl/ctrlprops/")):
                problems.append(f"form or ActiveX control {name}")
        # The one custom property allowed is the mark that makes this a client copy.
        props = safety.custom_properties(zf)
        for prop in sorted(set(props) - {safety.CLIENT_COPY_PROPERTY}):
            problems.append(f"custom document property {prop}")
        if safety.CLIENT_COPY_PROPERTY not in props:
            problems.append(f"not marked as a client copy (no {safety.CLIENT_COPY_PROPERTY} "
                            "property)")
        try:
            ctypes = zf.read("[Content_Types].xml").decode("utf-8", "replace")
            if "macroEnabled" in ctypes:
                problems.append("content type is macro-enabled ([Content_Types].xml)")
        except KeyError:
            problems.append("no [Content_Types].xml")

        try:
            wb_part = workbook_part(zf)
            wb_xml = zf.read(wb_part)
            parts = sheet_parts(zf)
        except (KeyError, AicapexError) as exc:
            return problems + [f"cannot read the workbook part: {exc}"]
        root = parse_xml(wb_xml)
        titles = [s.get("name", "") for s in root.iter(f"{{{NS_MAIN}}}sheet")]
        lower = {t.lower() for t in titles}
        for s in root.iter(f"{{{NS_MAIN}}}sheet"):
            title = s.get("name", "")
            if is_dropped_sheet(title):
                problems.append(f"sheet {title} must not be exported")
            if s.get("state", "visible") != "visible":
                problems.append(f"sheet {title} is {s.get('state')}")
        for tag in ("workbookProtection", "fileSharing"):
            if root.find(f"{{{NS_MAIN}}}{tag}") is not None:
                problems.append(f"workbook has <{tag}> (password or protection)")
        calc = root.find(f"{{{NS_MAIN}}}calcPr")
        if calc is None or calc.get("fullCalcOnLoad") not in ("1", "true"):
            problems.append("fullCalcOnLoad is not set")
        kept_names = []
        for dn in root.iter(f"{{{NS_MAIN}}}definedName"):
            name, text = dn.get("name", ""), dn.text or ""
            kept_names.append(name)
            if "#REF!" in text.upper():
                problems.append(f"defined name {name} refers to #REF!")
                continue
            if "CPX_" in text.upper():
                problems.append(f"defined name {name} holds CPX_ formula text")
            if dn.get("hidden") in ("1", "true") and not name.startswith("_xlnm."):
                problems.append(f"defined name {name} is hidden")
            info = analyse_formula(text)
            if not info.refs and not name.startswith("_xlnm."):
                problems.append(f"defined name {name} holds a constant or formula, not a "
                                "cell reference")
            for sheet, _ in info.refs:
                if sheet is not None and sheet.lower() not in lower:
                    problems.append(f"defined name {name} points at missing sheet {sheet}")
            if any(p.startswith("external link") for p in info.problems):
                problems.append(f"defined name {name} links to another workbook")

        try:
            core = parse_xml(zf.read("docProps/core.xml"))
            for tag, label in (("{http://purl.org/dc/elements/1.1/}creator", "dc:creator"),
                               ("{http://schemas.openxmlformats.org/package/2006/metadata/"
                                "core-properties}lastModifiedBy", "cp:lastModifiedBy")):
                el = core.find(tag)
                if el is not None and (el.text or "").strip():
                    problems.append(f"docProps/core.xml {label} is {el.text.strip()!r}")
        except KeyError:
            pass

        quote = _xf_quote_prefix(zf)
        sst = _shared_strings(zf)
        worksheet_parts = {t: p for t, p in parts.items() if "worksheets/" in p}
        names_for_check = [n for n in kept_names if not n.startswith("_xlnm.")]
        for title, part in worksheet_parts.items():
            try:
                xml = zf.read(part).decode("utf-8")
            except KeyError:
                problems.append(f"sheet {title}: part {part} is missing")
                continue
            problems.extend(_verify_sheet(title, xml, titles, names_for_check, quote, sst))
    return problems


def _verify_sheet(title, xml, titles, names, quote, sst) -> list[str]:
    problems = []
    rows = set(_ROW_HIDDEN_RE.findall(xml)) | set(_ROW_HIDDEN2_RE.findall(xml))
    for r in sorted(rows, key=int):
        problems.append(f"{title}: row {r} is hidden")
    for col in _COL_HIDDEN_RE.findall(xml):
        attrs = dict(_ATTR_RE.findall(col))
        problems.append(f"{title}: columns {attrs.get('min')}-{attrs.get('max')} are hidden")
    if re.search(r"<(?:\w+:)?legacyDrawing\b", xml):
        problems.append(f"{title}: legacy drawing (buttons or comments)")
    prot = re.search(r"<(?:\w+:)?sheetProtection\b[^>]*>", xml)
    if prot and re.search(r'\b(sheet="(1|true)"|password=|hashValue=)', prot.group(0)):
        problems.append(f"{title}: sheet protection or password")
    start = xml.find("sheetData")
    for m in _CELL_RE.finditer(xml, start if start >= 0 else 0):
        attrs = dict(_ATTR_RE.findall(m.group("attrs")))
        body = m.group("body") or ""
        ref = attrs.get("r", "?")
        where = f"{title}!{ref}"
        kind = attrs.get("t", "n")
        fm = _F_TEXT_RE.search(body)
        vm = _V_RE.search(body)
        if kind == "e":
            problems.append(f"{where}: error value {unescape(vm.group('text') or '') if vm else ''}")
        if fm is not None:
            text = unescape(fm.group("text") or "")
            if text:
                if "CPX_" in text.upper():
                    problems.append(f"{where}: CPX_ formula ={text}")
                else:
                    why = portability_problems(text, sheets=titles, names=names)
                    if why:
                        problems.append(f"{where}: formula ={text} is not portable ({why[0]})")
            if vm is None or (vm.group("text") is None and kind != "str"):
                problems.append(f"{where}: formula has no cached value")
            continue
        text = None
        if kind == "inlineStr":
            text = "".join(unescape(t) for t in _IS_RE.findall(body))
        elif kind == "s" and vm is not None and (vm.group("text") or "").strip().isdigit():
            idx = int(vm.group("text"))
            text = sst[idx] if idx < len(sst) else None
        if text and text.startswith(TEXT_LEADS):
            s = attrs.get("s")
            if not (s is not None and s.isdigit() and int(s) < len(quote) and quote[int(s)]):
                problems.append(f"{where}: text {text[:20]!r} lacks the quote prefix")
    return problems
