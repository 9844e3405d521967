"""Checks made before a user-supplied workbook is opened, refreshed or exported.

* :func:`check_package`: a zip package within limits (zip bombs, oversized parts), or a
  one-line error that names what the file is instead: a legacy Excel 97-2003 ``.xls`` or an
  encrypted (password-protected) workbook, both OLE compound files.
* :func:`identify_workbook` / :func:`check_analyst_workbook`: only our analyst template is
  refreshed or exported. The builder stamps it with the custom document property
  :data:`TEMPLATE_PROPERTY` (= :data:`TEMPLATE_VERSION`); the export marks client copies
  with :data:`CLIENT_COPY_PROPERTY`. Workbooks built before the stamp are recognised by
  their legacy signature (:func:`template_signature_problems`) and stamped on refresh.
* :func:`check_not_open`: Excel's owner file ``~$<name>`` or LibreOffice's
  ``.~lock.<name>#`` beside a workbook means someone has it open.

openpyxl parses XML through defusedxml when it is installed (it is a dependency), which
refuses entity-expansion bombs; the zip limits stop a package whose parts inflate to
gigabytes before any XML is read.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

from aicapex.errors import AicapexError
from aicapex.excel.cached import parse_xml, workbook_part
from aicapex.formula import ParseError, parse
from aicapex.formula.parser import Ref
from aicapex.xlerrors import is_error

MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 1_000_000_000  # 1 GB uncompressed
MAX_RATIO = 200  # uncompressed / compressed, for parts larger than 1 MB
RATIO_FLOOR = 1_000_000

#: Custom document property the builder writes into the analyst template.
TEMPLATE_PROPERTY = "aicapex_template"
#: Layout version of the template this code refreshes (raise it when the layout changes).
TEMPLATE_VERSION = 1
#: Custom document property the export writes into every client copy.
CLIENT_COPY_PROPERTY = "aicapex_client_copy"
CLIENT_COPY_VERSION = 1
#: Sheets and defined names every analyst template has (the legacy signature).
SIGNATURE_SHEETS = ("Cover", "Data", "Sources", "Changes", "xlwings.conf")

CFB_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"


# --------------------------------------------------------------------------- the package
def check_zip_limits(path: str | Path, data: bytes | None = None) -> None:
    """Raise a one-line error when the package is too large or suspiciously compressed."""
    path = Path(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data) if data is not None else path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise AicapexError(f"{path}: not a workbook (damaged zip package)") from exc
    if len(infos) > MAX_MEMBERS:
        raise AicapexError(f"{path}: {len(infos):,} parts is more than {MAX_MEMBERS:,}; refused")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise AicapexError(
                f"{path}: part {info.filename} inflates {info.file_size / max(1, info.compress_size):,.0f}x "
                f"(limit {MAX_RATIO}x); refused as a possible zip bomb"
            )
    if total > MAX_TOTAL_BYTES:
        raise AicapexError(f"{path}: {total / 1e9:.1f} GB uncompressed is more than "
                           f"{MAX_TOTAL_BYTES / 1e9:.0f} GB; refused")


def ole_kind(path: Path) -> str | None:
    """What an OLE compound file (CFB) is: ``"encrypted"`` (an Office file protected with a
    password: its package sits in an ``EncryptedPackage`` stream), ``"legacy"`` (an Excel
    97-2003 workbook: a ``Workbook`` or ``Book`` stream), ``"other"``; ``None`` when the file
    is not a CFB at all."""
    try:
        with open(path, "rb") as f:
            if f.read(8) != CFB_MAGIC:
                return None
    except OSError:
        return None
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir()}
    except (OSError, ValueError, TypeError, IndexError):  # olefile's damaged-file errors
        return "other"
    if {"encryptedpackage", "encryptioninfo"} & streams:
        return "encrypted"
    if {"workbook", "book"} & streams:
        return "legacy"
    return "other"


def describe_not_a_package(path: Path) -> str:
    """One line saying what a file that is not a zip package is, and what to do."""
    kind = ole_kind(path)
    if kind == "encrypted":
        return (f"{path}: the workbook is encrypted (password-protected); remove the password "
                "in Excel (File > Info > Protect Workbook > Encrypt with Password, clear it), "
                "save, and try again")
    if kind == "legacy":
        return (f"{path}: a legacy Excel 97-2003 workbook (.xls); open it in Excel and save it "
                "as .xlsm (or .xlsx), then try again")
    if kind == "other":
        return f"{path}: an OLE compound document (old Office format), not an .xlsx/.xlsm workbook"
    return f"{path}: not a workbook (not a zip package)"


def check_package(path: Path) -> None:
    """One-line errors for a file that is not a usable .xlsx/.xlsm zip package."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise AicapexError(describe_not_a_package(path))
    check_zip_limits(path)


# --------------------------------------------------------------------------- identification
def custom_properties(zf: zipfile.ZipFile) -> dict[str, str]:
    """The custom document properties (``docProps/custom.xml``), name -> value as text."""
    try:
        root = parse_xml(zf.read("docProps/custom.xml"))
    except KeyError:
        return {}
    out = {}
    for prop in root.iter(f"{{{NS_CUSTOM}}}property"):
        value = next(iter(prop), None)
        out[prop.get("name", "")] = (value.text or "").strip() if value is not None else ""
    return out


#: ``<Application>`` of docProps/app.xml in client copies made before the mark existed (only the
#: export writes it; Excel rewrites it on save, after which the file is no longer ours).
LEGACY_CLIENT_APPLICATION = "AI Capex Monitor"


def _legacy_client_copy(zf: zipfile.ZipFile) -> bool:
    try:
        root = parse_xml(zf.read("docProps/app.xml"))
    except KeyError:
        return False
    app = root.find("{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
                    "Application")
    return app is not None and (app.text or "").strip() == LEGACY_CLIENT_APPLICATION


def workbook_outline(zf: zipfile.ZipFile) -> tuple[list[str], dict[str, str]]:
    """Sheet titles in tab order and workbook-scope defined names (name -> formula text)."""
    root = parse_xml(zf.read(workbook_part(zf)))
    sheets = [s.get("name", "") for s in root.iter(f"{{{NS_MAIN}}}sheet")]
    names = {dn.get("name", ""): (dn.text or "") for dn in root.iter(f"{{{NS_MAIN}}}definedName")
             if dn.get("localSheetId") is None}
    return sheets, names


def points_at(text: str, sheet: str, row: int, col: int) -> bool:
    """Whether a defined name's formula is exactly the cell (``row``, ``col``, 1-based) of
    ``sheet`` (``$`` and quotes ignored, case ignored as in Excel).

    >>> points_at("='Cover'!$D$9", "Cover", 9, 4), points_at("Cover!D9:D10", "Cover", 9, 4)
    (True, False)
    """
    try:
        parsed = parse(text)
    except ParseError:
        return False
    ref = parsed.tree
    return (isinstance(ref, Ref) and ref.single and (ref.sheet or "").lower() == sheet.lower()
            and (ref.r1, ref.c1) == (row, col))


def template_signature_problems(sheets: Iterable[str], names: dict[str, str]) -> list[str]:
    """What a workbook lacks of the analyst template's signature ([] when it has all).

    The signature: the sheets :data:`SIGNATURE_SHEETS` and the defined names ``chk_Master``
    and ``in_AsOf`` pointing at the Cover cells where this version's layout puts them (so a
    workbook of an older layout, whose cells the refresh would write in the wrong place, does
    not match). It serves workbooks built before the version stamp, and Excel runtimes whose
    API shows names but not document properties (Office.js).

    >>> template_signature_problems(["Cover", "Data", "Sources", "Changes"], {})
    ['no xlwings.conf sheet', 'no chk_Master name', 'no in_AsOf name']
    """
    from aicapex.excel import layout as L

    have = set(sheets)
    problems = [f"no {s} sheet" for s in SIGNATURE_SHEETS if s not in have]
    lower = {k.lower(): v for k, v in names.items()}
    for name, where in (("chk_Master", L.COVER_MASTER), ("in_AsOf", L.COVER_AS_OF)):
        text = lower.get(name.lower())
        if text is None:
            problems.append(f"no {name} name")
        elif not points_at(text, "Cover", where[0] + 1, where[1] + 1):
            problems.append(f"{name} points at {text.lstrip('=')}, not Cover!{L.cell(*where)}")
    return problems


def identify_workbook(source: Path | bytes) -> str:
    """``"template"``, ``"legacy template"``, ``"client copy"``, ``"newer template"`` or
    ``"foreign"``, from the package's custom properties and workbook part."""
    return _identify(source)[0]


def _identify(source: Path | bytes) -> tuple[str, str]:
    """(kind, detail): the detail says why a legacy match failed or which version was seen."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            props = custom_properties(zf)
            if CLIENT_COPY_PROPERTY in props or _legacy_client_copy(zf):
                return "client copy", ""
            if TEMPLATE_PROPERTY in props:
                version = props[TEMPLATE_PROPERTY]
                if version == str(TEMPLATE_VERSION):
                    return "template", ""
                return "newer template", version
            sheets, names = workbook_outline(zf)
    except KeyError as exc:
        raise AicapexError(f"cannot be read as a workbook (a part is missing: {exc.args[0]})") \
            from None
    except (zipfile.BadZipFile, SyntaxError, ValueError) as exc:
        raise AicapexError(f"cannot be read as a workbook ({exc})") from None
    problems = template_signature_problems(sheets, names)
    if not problems:
        return "legacy template", ""
    # All the template's sheets but names elsewhere: ours, of an older layout.
    ours = all(s in sheets for s in SIGNATURE_SHEETS)
    return "foreign", "; ".join(problems) if ours else ""


def check_analyst_workbook(path: Path, source: Path | bytes | None = None) -> str:
    """Refuse, in one line, anything but our analyst template; return its kind
    (``"template"`` or ``"legacy template"``)."""
    path = Path(path)
    try:
        kind, detail = _identify(source if source is not None else path)
    except AicapexError as exc:
        raise AicapexError(f"{path}: {exc}") from None
    if kind in ("template", "legacy template"):
        return kind
    if kind == "client copy":
        raise AicapexError(
            f"{path} is a client copy (made by aicapex export): it holds values, not the "
            "model; refresh and export the analyst workbook instead"
        )
    if kind == "newer template":
        try:
            newer = int(detail) > TEMPLATE_VERSION
        except ValueError:
            newer = False
        hint = "made by a newer aicapex: upgrade aicapex" if newer else "not a version this " \
            "aicapex knows"
        raise AicapexError(f"{path}: template version {detail} ({hint}; this one reads "
                           f"version {TEMPLATE_VERSION})")
    if detail:
        raise AicapexError(
            f"{path}: an AI Capex workbook of an older layout ({detail}); rebuild it with "
            "`python -m aicapex build` and copy your Inputs and own sheets across"
        )
    raise AicapexError(
        f"{path}: not an AI Capex analyst workbook (no {TEMPLATE_PROPERTY} stamp and not the "
        "template's sheets and names); refused so that nothing in it is overwritten"
    )


# --------------------------------------------------------------------------- open elsewhere
def owner_files(path: Path) -> list[Path]:
    """Owner/lock files beside ``path`` that say another program has it open: Excel's
    ``~$<name>`` (Word-style ``~$`` + name minus its first two characters too) and
    LibreOffice's ``.~lock.<name>#``."""
    path = Path(path)
    names = [f"~${path.name}", f".~lock.{path.name}#"]
    if len(path.name) > 2:
        names.append(f"~${path.name[2:]}")
    return [path.with_name(n) for n in names if path.with_name(n).exists()]


def check_not_open(path: Path) -> None:
    """Refuse a workbook another program has open: saving over it would be lost on their
    next save, or overwrite what they are editing."""
    found = owner_files(path)
    if not found:
        return
    app = "LibreOffice" if found[0].name.startswith(".~lock.") else "Excel"
    raise AicapexError(
        f"{Path(path).name} is open in {app} (owner file {found[0].name} beside it); close it "
        f"there and try again (if {app} is not running, delete {found[0].name})"
    )


# --------------------------------------------------------------------------- export targets
def check_output_target(out: Path, source: Path) -> None:
    """Refuse an output that is the source itself (also through a symbolic or hard link),
    an existing file that is not a client copy of ours, or a file open in Excel."""
    from aicapex.excel.atomic import real_path

    real = real_path(out)
    if real.exists():
        try:
            same = real.samefile(source)
        except OSError:
            same = False
        if same:
            raise AicapexError(
                f"refusing to write the client copy over its own source {source.name} "
                f"(--out {out}); choose another file name"
            )
        try:
            kind = identify_workbook(real) if zipfile.is_zipfile(real) else "not a workbook"
        except AicapexError:
            kind = "not a workbook"
        if kind != "client copy":
            raise AicapexError(
                f"refusing to overwrite {out}: it exists and is not a client copy made by "
                "aicapex export; move it away or choose another --out"
            )
    check_not_open(real)


def _spans(numbers: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def hidden_content(wb, titles: list[str]) -> list[str]:
    """Hidden (or zero-size) rows and columns that hold a value, as "Sheet row 35" /
    "Sheet columns H-J" ([] when none)."""
    from openpyxl.utils.cell import column_index_from_string, get_column_letter

    found = []
    for title in titles:
        ws = wb[title]
        if not hasattr(ws, "iter_rows"):
            continue
        rows = [r for r, d in ws.row_dimensions.items()
                if d.hidden or (d.customHeight and d.height == 0)]
        cols = []
        for key, d in ws.column_dimensions.items():
            if d.hidden or (d.customWidth and d.width == 0):
                first = d.min or column_index_from_string(key)
                cols.extend(range(first, (d.max or first) + 1))
        full_rows = [r for r in rows if r <= ws.max_row and any(
            c.value not in (None, "") for row in ws.iter_rows(min_row=r, max_row=r) for c in row)]
        full_cols = [c for c in set(cols) if c <= ws.max_column and any(
            cell.value not in (None, "")
            for col in ws.iter_cols(min_col=c, max_col=c) for cell in col)]
        for a, b in _spans(full_rows):
            found.append(f"{title} row {a}" if a == b else f"{title} rows {a}-{b}")
        for a, b in _spans(full_cols):
            found.append(f"{title} column {get_column_letter(a)}" if a == b else
                         f"{title} columns {get_column_letter(a)}-{get_column_letter(b)}")
    return found


# --------------------------------------------------------------------------- master check
def describe_master_check(value: object) -> tuple[bool, str]:
    """(passing, words) for the value of the master check cell ``chk_Master``.

    >>> describe_master_check(0)
    (True, 'OK')
    >>> describe_master_check(1)[1]
    'FAILING: at least one check fails (see the Checks block of each workings sheet)'
    """
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (int, float)):
        if value == 0:
            return True, "OK"
        return False, "FAILING: at least one check fails (see the Checks block of each " \
                      "workings sheet)"
    if value is None or value == "":
        return False, "not computed: the master check cell (chk_Master) has no value"
    if is_error(value):
        reason = getattr(value, "reason", "")
        return False, (f"could not be computed: the master check (chk_Master) is {value}"
                       + (f" ({reason})" if reason else ""))
    return False, f"not a number: the master check (chk_Master) holds {str(value)[:40]!r}"
