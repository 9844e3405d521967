"""Client export: a clean, leak-free .xlsx (and PDF) from the analyst .xlsm.

:func:`export_client_copy` follows WORKBOOK_STYLE.md §8:

* **Removed**: the ``xlwings.conf`` sheet (and any ``_xlwings*`` sheet), the VBA project,
  form buttons and every legacy (VML) drawing, cell comments, external links, sheet and
  workbook protection, VBA code names, custom document properties (the client-copy mark
  replaces them), defined names that point
  at a removed sheet, at ``#REF!`` or at another workbook, internal hyperlinks into removed
  sheets, and table column formulas.
* **Hidden things**: a hidden or very hidden sheet (other than the xlwings ones, which go)
  makes the export **refuse**: it may hold analyst-only material, and the style guide says
  nothing is hidden, so a person must decide. So do hidden rows and columns (hidden, collapsed
  or of zero size) that hold anything, listed by sheet; empty ones are simply unhidden.
  Defined names that are hidden or hold a constant (``=0.085``, ``="PT $410"``) rather than a
  cell reference are **dropped** with a warning naming them: their values would otherwise
  ship unseen; a kept formula that used one keeps its cached value instead.
* **Source and target** (:mod:`aicapex.excel.safety`): only our template is exported; the
  copy is marked ``aicapex_client_copy`` (the refresh refuses it) and never written over its
  source, a file that is not such a copy, a file open in Excel or one being exported.
* **Formulas**: a native formula survives only if every function is on
  :data:`PORTABLE_FUNCTIONS`, every reference is an A1 cell or range (or a defined name that
  is one) inside a sheet that is exported, and there is no structured reference, whole
  column/row, 3-D or external reference, array constant, spill or intersection operator.
  Every other formula (all ``CPX_`` engine calls) becomes its cached value, keeping the cell
  style (engine purple stays purple). CSE array and data-table formulas become values.
* **Errors**: a cached error (``#N/A`` from a UDF, or a native formula that inherited one)
  becomes grey ``n/a`` text (style guide §5.9). A kept native formula that refers to such a
  cell, directly or through a range or name, would compute differently in another engine
  (text in arithmetic is ``#VALUE!``, SUM skips it), so it is turned into its cached value
  too. Its dependents need nothing: that value is exactly what they saw before.
* **Text** beginning with ``=``, ``+``, ``-`` or ``@`` stays text and gets the quote prefix,
  so editing the cell in Excel does not turn it into a formula.
* **Cover** (created at the front if missing) gets a client block: client, as-of date,
  generation time (UTC), master check status, the legend "values computed by the CPX engine
  as of <date>" and the disclaimer; "CHECKS FAILING" when exported with ``force=True``.
* **Print setup** on every sheet; ``fullCalcOnLoad``; every kept formula carries its cached
  result (:func:`aicapex.excel.cached.stamp_cached_values`); document properties title,
  subject and company only.

Before the file is moved into place (atomically, one ``.bak`` of the previous file kept),
:func:`verify_client_copy` re-reads the zip parts and the export refuses to deliver a file
with any problem.

Which formulas and sheets may leave the analyst copy is :mod:`aicapex.excel.portability`;
the verification is :mod:`aicapex.excel.verify` (their public names are re-exported here).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import load_workbook
from openpyxl.packaging.core import DocumentProperties
from openpyxl.packaging.custom import IntProperty
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.header_footer import _HeaderFooterPart
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.protection import SheetProtection

from aicapex.errors import AicapexError
from aicapex.excel import client_edition, safety
from aicapex.excel import layout as L
from aicapex.excel.atomic import (
    atomic_write,
    check_writable,
    exclusive_lock,
    read_snapshot,
    real_path,
)
from aicapex.excel.cached import (
    read_formula_results,
    sheet_parts,
    stamp_cached_values,
)
from aicapex.excel.portability import (
    PORTABLE_FUNCTIONS,
    TEXT_LEADS,
    FormulaInfo,
    analyse_formula,
    is_dropped_sheet,
    portability_problems,
)
from aicapex.excel.verify import verify_client_copy
from aicapex.xlerrors import ERROR_CODES

__all__ = [
    "DISCLAIMER",
    "PORTABLE_FUNCTIONS",
    "FormulaInfo",
    "analyse_formula",
    "client_file_name",
    "export_client_copy",
    "is_dropped_sheet",
    "portability_problems",
    "verify_client_copy",
]


TITLE = "AI Capex Monitor"
DEFAULT_COMPANY = "AI Capex Monitor"
#: Sheets on the shared period grid: their print titles also repeat columns A:C.
#: Sheets whose printed pages repeat columns A:C (labels and units) as well as rows 1-5.
TIMELINE_SHEETS = ("Inputs", *L.TIMELINE_SHEETS)
FOOTER = "&L&8Source: company filings; see Sources&C&8&A&R&8Page &P of &N"
NA_TEXT = "n/a"
NA_COLOUR = "808080"
FAILING = "CHECKS FAILING"

DISCLAIMER = (
    "For information only. This is not an offer or solicitation to buy or sell any security "
    "and not a recommendation.",
    "Figures come from company filings (SEC EDGAR), earnings releases and secondary sources "
    "(the tier of each is on Sources); they are believed reliable, but their accuracy and "
    "completeness are not guaranteed.",
    "Reported facts are kept apart from scenario assumptions; scenarios are illustrative, "
    "not forecasts (CFA Institute Standard V(B)).",
    "USD millions unless stated; fiscal years as reported by each company.",
    "No duty to update: the figures are as of the date above and are not updated after "
    "delivery.",
    "Required disclosures are in the accompanying research report (FINRA Rule 2241 applies "
    "to the report).",
)

_SAFE_CLIENT_RE = re.compile(r"[^A-Za-z0-9_-]+")


def _unquote(sheet: str | None) -> str | None:
    if sheet is None:
        return None
    if sheet.startswith("'") and sheet.endswith("'"):
        return sheet[1:-1].replace("''", "'")
    return sheet


# --------------------------------------------------------------------------- names
@dataclass
class _Name:
    name: str
    refs: list[tuple[str, tuple[int, int, int, int]]]
    ok: bool


def _resolve_name(text: str, sheets: set[str]) -> tuple[list, bool]:
    info = analyse_formula(text)
    refs = []
    ok = not info.problems and not info.functions and not info.names
    for sheet, bounds in info.refs:
        if sheet is None or sheet.lower() not in sheets:
            ok = False
        else:
            refs.append((sheet, bounds))
    return refs, ok


# --------------------------------------------------------------------------- helpers
def client_file_name(client: str, as_of: str) -> str:
    """``AI_Capex_Monitor_<Client>_<YYYY-MM-DD>.xlsx`` with the client reduced to [A-Za-z0-9_-].

    >>> client_file_name("Acme & Sons, Inc.", "2026-03-31")
    'AI_Capex_Monitor_Acme_Sons_Inc_2026-03-31.xlsx'
    """
    safe = _SAFE_CLIENT_RE.sub("_", client.strip()).strip("_")
    if not safe:
        raise AicapexError(f"client name {client!r} has no letters or digits to use in a file name")
    return f"AI_Capex_Monitor_{safe}_{as_of}.xlsx"


def _parse_as_of(value: object) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            return None
    return None


def _is_error(value: object) -> bool:
    return isinstance(value, str) and value in ERROR_CODES


def _set_literal(cell, value: object) -> None:
    """Store ``value`` as a constant: text is never reinterpreted as a formula."""
    if isinstance(value, str):
        cell._value = value
        cell.data_type = "s"
        if value.startswith(TEXT_LEADS):
            cell.quotePrefix = True
    else:
        cell.value = value


def _hf_text(text: str) -> str:
    return text.replace("&", "&&")


def _check_input(path: Path) -> None:
    if not path.exists():
        raise AicapexError(f"no such file: {path}")
    if not path.is_file():
        raise AicapexError(f"not a file: {path}")
    if path.suffix.lower() not in (".xlsm", ".xlsx", ".xltm", ".xltx"):
        if path.suffix.lower() == ".xls" or safety.ole_kind(path) is not None:
            raise AicapexError(safety.describe_not_a_package(path))
        raise AicapexError(f"{path} is not an Excel workbook (.xlsm or .xlsx)")
    safety.check_package(path)
    try:
        with zipfile.ZipFile(path) as zf:
            sheet_parts(zf)
    except (zipfile.BadZipFile, AicapexError, KeyError, SyntaxError):
        raise AicapexError(f"{path} is not an Excel workbook (cannot read it as .xlsx/.xlsm)") \
            from None


# --------------------------------------------------------------------------- the export
def export_client_copy(
    analyst_path: Path,
    client: str,
    out: Path | None = None,
    *,
    force: bool = False,
    pdf: bool = False,
    as_of: str | None = None,
    company: str = DEFAULT_COMPANY,
    warn: Callable[[str], None] | None = None,
) -> Path:
    """Write the client copy of the analyst workbook and return its path.

    Parameters
    ----------
    analyst_path
        The refreshed analyst .xlsm (every formula with a cached value).
    client
        Client name, shown on Cover and (reduced to ``[A-Za-z0-9_-]``) in the file name.
    out
        Target .xlsx file, or a folder for the default name; default: the default name
        ``AI_Capex_Monitor_<Client>_<YYYY-MM-DD>.xlsx`` next to ``analyst_path``.
    force
        Export even though the master check ``chk_Master`` is not 0; Cover then says
        "CHECKS FAILING".
    pdf
        Also render ``<same name>.pdf`` with LibreOffice.
    as_of
        Data cut-off date ``YYYY-MM-DD``; default: the ``in_AsOf`` cell, else today (UTC).
    company
        The document's Company property.
    warn
        Called with a one-line message for what the export dropped silently otherwise
        (hidden or constant defined names); default: nothing is said.

    Raises
    ------
    AicapexError
        Bad input (not our analyst template, a client copy), a failing master check without
        ``force``, a hidden sheet or hidden rows/columns with content, a formula without a
        cached value, an unwritable target, a target that is the source or is not a client
        copy, a target open in Excel or being written by another run, or a result that
        fails :func:`verify_client_copy`.
    """
    analyst_path = Path(analyst_path)
    _check_input(analyst_path)
    if not client or not client.strip():
        raise AicapexError("client name is empty")
    if as_of is not None and _parse_as_of(as_of) is None:
        raise AicapexError(f"as-of date {as_of!r} is not a YYYY-MM-DD date")
    say = warn or (lambda message: None)

    # One read: the workbook and its cached results come from the same version of the file.
    data, _ = read_snapshot(real_path(analyst_path))
    safety.check_analyst_workbook(analyst_path, data)
    try:
        wb = load_workbook(io.BytesIO(data), keep_vba=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise AicapexError(f"cannot read {analyst_path}: {exc}") from None
    cached = read_formula_results(data)  # formula results; plain cells are in wb

    # -- sheets that go, sheets that would leak
    dropped = [ws.title for ws in wb._sheets if is_dropped_sheet(ws.title)]
    hidden = [ws.title for ws in wb._sheets
              if ws.title not in dropped and ws.sheet_state != "visible"]
    if hidden:
        raise AicapexError(
            f"{analyst_path.name} has hidden sheets ({', '.join(hidden)}); unhide or delete "
            "them in the analyst copy before exporting"
        )
    kept_titles = [ws.title for ws in wb._sheets if ws.title not in dropped]
    kept_lower = {t.lower() for t in kept_titles}
    canonical = {t.lower(): t for t in kept_titles}
    hidden_content = safety.hidden_content(wb, kept_titles)
    if hidden_content:
        more = f" and {len(hidden_content) - 10} more" if len(hidden_content) > 10 else ""
        raise AicapexError(
            f"{analyst_path.name} has hidden rows or columns that hold content "
            f"({'; '.join(hidden_content[:10])}{more}); unhide or clear them in the analyst "
            "copy before exporting"
        )

    # -- defined names: keep only plain references into exported sheets; hidden names and
    #    names holding a constant would ship values nobody sees: dropped, with a warning
    names: dict[str, _Name] = {}
    unseen: list[str] = []
    for name, dn in list(wb.defined_names.items()):
        refs, ok = _resolve_name(dn.attr_text or "", kept_lower)
        if ok and (dn.hidden or not refs):
            unseen.append(name)
            ok = False
        if ok:
            names[name.lower()] = _Name(name, [(canonical[s.lower()], b) for s, b in refs], True)
        else:
            del wb.defined_names[name]
    for ws in wb.worksheets:
        for name, dn in list(ws.defined_names.items()):
            refs, ok = _resolve_name(dn.attr_text or "", kept_lower)
            if ok and (dn.hidden or not refs) and ws.title not in dropped:
                unseen.append(f"{ws.title}!{name}")
                ok = False
            if not ok or ws.title in dropped:
                del ws.defined_names[name]
    if unseen:
        say(f"dropped defined names that are hidden or hold a constant, so their values do not "
            f"ship unseen: {', '.join(sorted(unseen, key=str.lower))} (formulas using them "
            "keep their values)")

    # -- master check
    master_name = names.get("chk_master")
    master = _master_value(master_name, cached)
    failing = not (isinstance(master, (int, float)) and not isinstance(master, bool)
                   and master == 0)
    if failing and not force:
        forced = f"or export with --force to stamp '{FAILING}' on Cover"
        if master_name is None or not master_name.refs:
            raise AicapexError(f"{analyst_path.name} has no master check (defined name "
                               f"chk_Master); {forced}")
        if isinstance(master, (int, float)) and not isinstance(master, bool):
            raise AicapexError(
                f"master check chk_Master is {master!r}, not 0: fix the failing checks in "
                f"{analyst_path.name} ({forced})"
            )
        _, words = safety.describe_master_check(master)
        raise AicapexError(f"master check {words}: refresh {analyst_path.name} first "
                           f"(python -m aicapex refresh), then fix any failing check; {forced}")

    if as_of is None:
        asof_name = names.get("in_asof")
        if asof_name and asof_name.refs:
            sheet, (r, c, _, _) = asof_name.refs[0]
            as_of = _parse_as_of(cached.get((sheet, _coord(r, c)), wb[sheet].cell(r, c).value))
    as_of = _parse_as_of(as_of) or dt.datetime.now(dt.timezone.utc).date().isoformat()

    if out is None:
        out = analyst_path.parent / client_file_name(client, as_of)
    else:
        out = Path(out)
        if out.is_dir():
            out = out / client_file_name(client, as_of)
        elif out.suffix.lower() != ".xlsx":
            raise AicapexError(f"output {out} must be an .xlsx file name or an existing folder")
    check_writable(real_path(out))
    safety.check_output_target(out, analyst_path)
    if pdf:
        check_writable(real_path(out.with_suffix(".pdf")))

    # -- formulas -> kept or values
    stamp: dict[tuple[str, str], object] = {}
    _convert_cells(wb, kept_titles, names, cached, stamp, analyst_path.name)

    # -- remove what never leaves
    for title in dropped:
        del wb[title]
    _scrub(wb, dropped)

    # -- a copy worth sending: charts plot numbers only, the Cover says what fails and
    #    what alerts, the audit trail becomes a summary, pages read at print size
    client_edition.plot_only_numbers(wb, stamp)
    checks, alerts = client_edition.checks_and_alerts(wb, stamp)
    tiers = client_edition.tier_shares(wb)
    client_edition.summarise_changes(wb)
    client_edition.gather_notes(wb, stamp)

    generated = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    _write_cover(wb, client=client.strip(), as_of=as_of, generated=generated, failing=failing,
                 checks=checks, alerts=alerts, tiers=tiers)
    for ws in wb.worksheets:
        _print_setup(ws, client=client.strip(), as_of=as_of, failing=failing)
        client_edition.client_print_layout(ws, stamp)

    wb.properties = DocumentProperties(
        title=f"{TITLE}: {client.strip()}",
        subject=f"AI capex monitor, client copy, data as of {as_of}",
        creator=None,
        lastModifiedBy=None,
        created=generated,
        modified=generated,
    )
    # The only custom property: the mark that makes this a client copy (refresh refuses it).
    wb.custom_doc_props.props.clear()
    wb.custom_doc_props.append(IntProperty(name=safety.CLIENT_COPY_PROPERTY,
                                           value=safety.CLIENT_COPY_VERSION))
    wb.calculation.fullCalcOnLoad = True
    app_xml = _app_xml(company)

    def write(tmp: Path) -> None:
        # The intermediate file sits beside the temporary target, so a killed export leaves
        # nothing elsewhere and the next write's stale-temp cleanup removes it.
        plain = tmp.with_name(tmp.name + ".raw")
        try:
            wb.save(plain)
            stamp_cached_values(plain, tmp, stamp, parts={"docProps/app.xml": app_xml})
        finally:
            plain.unlink(missing_ok=True)
        problems = verify_client_copy(tmp)
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise AicapexError(
                f"refusing to deliver {out.name}: {'; '.join(problems[:3])}{more}"
            )

    with exclusive_lock(out):  # a second export to the same file is refused
        atomic_write(out, write, guard=lambda: safety.check_not_open(real_path(out)))
        if pdf:
            _write_pdf(out)
    return out


def _coord(row: int, col: int) -> str:
    from openpyxl.utils.cell import get_column_letter

    return f"{get_column_letter(col)}{row}"


def _master_value(name: _Name | None, cached: dict) -> object:
    if name is None or not name.refs:
        return "missing (no chk_Master name)"
    sheet, (r, c, _, _) = name.refs[0]
    return cached.get((sheet, _coord(r, c)))


def _formula_text(value: object) -> str | None:
    if isinstance(value, str) and value.startswith("="):
        return value
    return None


def _convert_cells(wb, kept_titles, names, cached, stamp, book_name) -> None:
    """Decide each formula's fate; rewrite cells; fill ``stamp`` for the kept formulas."""
    na: dict[str, list[tuple[int, int]]] = defaultdict(list)
    to_na = []
    to_value = []
    candidates = []  # (cell, refs)
    missing = []
    kept_names = [n.name for n in names.values()]
    for title in kept_titles:
        ws = wb[title]
        if not hasattr(ws, "iter_rows"):
            continue
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "e" or (cell.data_type != "f" and _is_error(cell.value)):
                    to_na.append(cell)
                    na[title].append((cell.row, cell.column))
                    continue
                if cell.data_type != "f":
                    if cell.data_type == "s" and isinstance(cell.value, str) \
                            and cell.value.startswith(TEXT_LEADS):
                        cell.quotePrefix = True
                    continue
                key = (title, cell.coordinate)
                value = cached.get(key)
                if value is None:
                    if cell.value == '=""':  # an empty placeholder: an empty cell
                        to_value.append((cell, None))
                    else:
                        missing.append(f"{title}!{cell.coordinate}")
                    continue
                if _is_error(value):
                    to_na.append(cell)
                    na[title].append((cell.row, cell.column))
                    continue
                if value == "":  # an empty result (outside a scenario): an empty cell, which
                    to_value.append((cell, None))  # another engine would turn into 0 if kept
                    continue
                text = _formula_text(cell.value)
                if text is None or "CPX_" in text.upper() or portability_problems(
                        text, sheets=kept_titles, names=kept_names):
                    # (an engine call never stays a formula: no need to tokenize it)
                    to_value.append((cell, value))
                    continue
                candidates.append((cell, value, _refs_of(text, title, names)))
    if missing:
        raise AicapexError(
            f"{len(missing)} formula(s) in {book_name} have no cached value (first: "
            f"{missing[0]}); refresh the workbook before exporting"
        )
    na_sets = {t.lower(): set(cells) for t, cells in na.items()}
    for cell, value, refs in candidates:
        if any(_touches(na_sets.get(sheet.lower()), bounds) for sheet, bounds in refs):
            to_value.append((cell, value))
        else:
            stamp[(cell.parent.title, cell.coordinate)] = value
    for cell, value in to_value:
        _set_literal(cell, value)
    for cell in to_na:
        _set_literal(cell, NA_TEXT)
        font = copy.copy(cell.font)
        cell.font = Font(name=font.name, size=font.size, bold=font.bold, italic=font.italic,
                         color=NA_COLOUR)
        cell.alignment = Alignment(horizontal="right", vertical=cell.alignment.vertical)


def _refs_of(text: str, title: str, names: dict[str, _Name]):
    info = analyse_formula(text)
    refs = [(sheet or title, bounds) for sheet, bounds in info.refs]
    for name in info.names:
        refs.extend(names[name.lower()].refs)
    return refs


def _touches(cells: set[tuple[int, int]] | None, bounds: tuple[int, int, int, int]) -> bool:
    if not cells:
        return False
    r1, c1, r2, c2 = bounds
    if (r2 - r1 + 1) * (c2 - c1 + 1) < len(cells):
        return any((r, c) in cells for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
    return any(r1 <= r <= r2 and c1 <= c <= c2 for r, c in cells)


def _scrub(wb, dropped: list[str]) -> None:
    dropped_lower = {d.lower() for d in dropped}
    wb.security = None
    wb.code_name = None
    if getattr(wb, "_external_links", None):
        wb._external_links = []
    for ws in wb.worksheets:
        ws.legacy_drawing = None
        ws.protection = SheetProtection()
        ws.sheet_properties.codeName = None
        for dim in ws.row_dimensions.values():
            dim.hidden = False
        for dim in ws.column_dimensions.values():
            dim.hidden = False
        for table in ws.tables.values():
            for column in table.tableColumns:
                column.calculatedColumnFormula = None
                column.totalsRowFormula = None
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None:
                    cell.comment = None
                link = cell.hyperlink
                if link is not None and link.location:
                    target = _unquote(link.location.split("!")[0].lstrip("#"))
                    if target and target.lower() in dropped_lower:
                        cell.hyperlink = None


_HEADER_FILL = PatternFill("solid", fgColor="1F3864")


def _write_cover(wb, *, client: str, as_of: str, generated: dt.datetime, failing: bool,
                 checks: list[str] = (), alerts: list[str] = (), tiers: str = "") -> None:
    if "Cover" in wb.sheetnames:
        ws = wb["Cover"]
        from aicapex.excel.layout import COVER_ANALYST_ONLY

        for coord in COVER_ANALYST_ONLY:  # captions of the buttons, which the copy drops
            ws[coord].value = None
        start = ws.max_row + 2
    else:
        ws = wb.create_sheet("Cover", 0)
        ws["A1"] = TITLE
        ws["A1"].font = Font(name="Arial", size=14, bold=True)
        start = 3
    base = Font(name="Arial", size=10)
    note = Font(name="Arial", size=8, italic=True, color="595959")
    header = Font(name="Arial", size=10, bold=True, color="FFFFFF")

    def section(row: int, text: str) -> None:
        for col in range(2, 5):
            ws.cell(row, col).fill = _HEADER_FILL
        ws.cell(row, 2).value = text
        ws.cell(row, 2).font = header

    def line(row: int, label: str, value: object, fmt: str | None = None,
             font: Font = base) -> None:
        ws.cell(row, 2).value = label
        ws.cell(row, 2).font = base
        cell = ws.cell(row, 3)
        _set_literal(cell, value)
        cell.font = font
        cell.alignment = Alignment(horizontal="left")
        if fmt:
            cell.number_format = fmt

    r = start
    section(r, "Client copy")
    line(r + 1, "Client", client)
    line(r + 2, "As of (newest fiscal year end)", dt.datetime.fromisoformat(as_of), "yyyy-mm-dd")
    line(r + 3, "Generated", generated, 'yyyy-mm-dd hh:mm "UTC"')
    if failing:
        line(r + 4, "Checks", FAILING, font=Font(name="Arial", size=12, bold=True,
                                                  color="9C0006"))
        ws.cell(r + 4, 3).fill = PatternFill("solid", fgColor="FFC7CE")
    else:
        line(r + 4, "Checks", "OK", font=Font(name="Arial", size=10, color="006100"))
    r += 5
    for check in checks:  # every failing check, in words
        line(r, "Failing check", check, font=Font(name="Arial", size=10, color="9C0006"))
        r += 1
    line(r, "Alerts", f"{len(alerts)} (reported, not failing)" if alerts else "none",
         font=Font(name="Arial", size=10, color="9C5700" if alerts else "006100"))
    r += 1
    for alert in alerts:  # every alert, staleness included
        line(r, "", alert, font=Font(name="Arial", size=9, color="9C5700"))
        r += 1
    if tiers:
        line(r, "Sources of the figures", tiers)
        r += 1
    legend = ws.cell(r, 2)
    legend.value = f"Purple figures: values computed by the CPX engine as of {as_of}."
    legend.font = Font(name="Arial", size=10, color="7030A0")
    ws.cell(r + 1, 2).value = ("n/a: not reported or not computable; charts leave a gap "
                               "(never a zero).")
    ws.cell(r + 1, 2).font = Font(name="Arial", size=10, color=NA_COLOUR)
    pdf = "; ".join(f"{k}: {v}" for k, v in client_edition.PDF_LEFT_OUT.items())
    ws.cell(r + 2, 2).value = f"Not in the PDF ({pdf})."
    ws.cell(r + 2, 2).font = Font(name="Arial", size=8, italic=True, color="595959")
    r += 4
    section(r, "Disclaimer")
    for i, sentence in enumerate(DISCLAIMER, start=1):
        cell = ws.cell(r + i, 2)
        cell.value = sentence
        cell.font = note


def _print_setup(ws, *, client: str, as_of: str, failing: bool) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_LETTER
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:5"
    if ws.title in TIMELINE_SHEETS:
        ws.print_title_cols = "A:C"
    header = ws.oddHeader
    header.left = _HFPart(_hf_text(f"{TITLE}: {client}"), size=8)
    header.center = _HFPart(FAILING, size=8) if failing else _HFPart()
    header.right = _HFPart(_hf_text(f"As of {as_of}"), size=8)
    footer = ws.oddFooter
    footer.left = _HFPart("Sources: filings, releases, secondary; see Sources", size=8)
    footer.center = _HFPart("&A", size=8)
    footer.right = _HFPart("Page &P of &N", size=8)


class _HFPart(_HeaderFooterPart):
    """A header/footer part written as ``&8Text`` (openpyxl writes ``&8 Text``)."""

    def __str__(self) -> str:
        size = f"&{self.size}" if self.size else ""
        if size and self.text and self.text[:1].isdigit():
            size += " "  # "&8" followed by a digit would read as another font size
        return f"{size}{self.text or ''}"


def _app_xml(company: str) -> bytes:
    """docProps/app.xml with the Company property (openpyxl 3.1 does not write it)."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'docPropsVTypes"><Application>{TITLE}</Application><DocSecurity>0</DocSecurity>'
        f"<ScaleCrop>false</ScaleCrop><Company>{escape(company)}</Company>"
        "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
        "<HyperlinksChanged>false</HyperlinksChanged></Properties>"
    ).encode()


def _write_pdf(xlsx: Path) -> Path:
    from aicapex.excel.libreoffice import to_pdf

    target = xlsx.with_suffix(".pdf")

    def write(tmp: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="aicapex-pdf-") as work:
            printed = Path(work) / xlsx.name  # the sheets worth printing (client_edition)
            client_edition.pdf_copy(xlsx, printed)
            rendered = to_pdf(printed, Path(work) / "pdf")
            shutil.copyfile(rendered, tmp)

    return atomic_write(target, write)
