"""One refresh, three runners.

:func:`plan_refresh` computes *what to write* — sheet → cells → values — from the dataset
(snapshot plus overrides folder), the workbook's current values and the clock. It never
touches the Inputs sheet. Small adapters apply a plan:

* :func:`apply_to_openpyxl` for the headless ``python -m aicapex refresh PATH`` (which then
  evaluates every formula with :mod:`aicapex.excel.evaluator` and stamps cached values);
* :func:`apply_to_xlwings` for an ``xw.Book`` — desktop Excel through the workbook's
  Refresh button, or xlwings Server/Lite through the ``@xw.script`` in ``workbook/``.

A plan is computed completely before anything is written, so a failed data load changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import coordinate_from_string, get_column_letter

from aicapex.data.dataset import Dataset, current_dataset
from aicapex.excel import layout as L
from aicapex.excel.sheet_tables import data_rows, source_rows
from aicapex.xlerrors import is_error

#: Sheets whose cell values the Changes sheet compares (never Changes itself or the stamps).
COMPARED_SHEETS = ("Data", *L.TIMELINE_SHEETS)
MAX_CHANGES = 5000


@dataclass
class TableWrite:
    """Replace the body of an Excel table whose header sits on row 5."""

    sheet: str
    name: str
    columns: list[str]
    rows: list[list[Any]]

    @property
    def ref(self) -> str:
        first = L.DATA_HEADER_ROW + 1
        last = first + max(1, len(self.rows))
        return f"A{first}:{get_column_letter(len(self.columns))}{last}"


@dataclass
class RefreshPlan:
    cells: dict[tuple[str, str], Any] = field(default_factory=dict)  # (sheet, "C7") -> value
    tables: list[TableWrite] = field(default_factory=list)
    data_changes: list[list[Any]] = field(default_factory=list)
    as_of: dt.date | None = None
    refreshed_at: dt.datetime | None = None
    vintage: str = ""

    def writes(self) -> Iterable[tuple[str, int, int, Any]]:
        """Every single-cell write as (sheet, row, column, value), 1-based; tables expanded."""
        for (sheet, coord), value in self.cells.items():
            col, row = coordinate_from_string(coord)
            from openpyxl.utils.cell import column_index_from_string

            yield sheet, row, column_index_from_string(col), value
        for t in self.tables:
            first = L.DATA_HEADER_ROW + 2
            for i, row in enumerate(t.rows):
                for j, v in enumerate(row):
                    yield t.sheet, first + i, j + 1, v


def _vintage(ds: Dataset) -> tuple[str, dt.date | None]:
    v = ds.vintage()
    parts, latest = [], None
    for r in v.itertuples(index=False):
        if r.latest_fiscal_year_end:
            parts.append(f"{r.ticker} FY{r.latest_fiscal_year}")
            d = dt.date.fromisoformat(str(r.latest_fiscal_year_end))
            latest = d if latest is None or d > latest else latest
    return "; ".join(parts), latest


def _key_values(rows: list[list[Any]]) -> dict[tuple[str, int, str], float]:
    return {(r[0], int(r[1]), r[3]): r[4] for r in rows}


def data_changes(old_rows: list[list[Any]], new_rows: list[list[Any]]) -> list[list[Any]]:
    """Changed, added and removed figures, keyed by (ticker, fiscal year, field)."""
    old, new = _key_values(old_rows), _key_values(new_rows)
    position = {(r[0], int(r[1]), r[3]): i for i, r in enumerate(new_rows)}
    out = []
    for key in sorted(set(old) | set(new), key=lambda k: (k[0], k[1], k[2])):
        a, b = old.get(key), new.get(key)
        if a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)):
            continue
        where = f"E{L.DATA_HEADER_ROW + 2 + position[key]}" if key in position else "(removed)"
        label = f"{key[0]} FY{key[1]} {key[2]}"
        out.append(["Data", where, label, _blank(a), _blank(b), _delta(a, b)])
    return out


def _blank(v: Any) -> Any:
    return "" if v is None else v


def _delta(a: Any, b: Any) -> Any:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return b - a
    return ""


def plan_refresh(
    ds: Dataset,
    current: Mapping[tuple[str, str], Any],
    *,
    now: dt.datetime | None = None,
) -> RefreshPlan:
    """What a refresh writes, given the dataset and the workbook's current cell values.

    ``current`` maps (sheet, coordinate) to the cell's current (cached) value; only the Data
    table is read from it, to list what changed.
    """
    now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    new_data = data_rows(ds)
    old_data = _read_table(current, "Data", len(L.DATA_COLUMNS))
    plan = RefreshPlan(refreshed_at=now)
    plan.tables.append(TableWrite("Data", "tblData", L.DATA_COLUMNS, new_data))
    plan.tables.append(TableWrite("Sources", "tblSources", L.SOURCES_COLUMNS, source_rows(ds)))
    plan.data_changes = data_changes(old_data, new_data) if old_data else []
    plan.vintage, latest = _vintage(ds)
    plan.as_of = latest
    for i, row in enumerate(vintage_rows(ds, coverage_in(current))):
        for j, v in enumerate(row):
            plan.cells[("Cover", L.cell(L.COVER_VINTAGE_TABLE + 1 + i, 1 + j))] = v
    plan.cells[("Cover", L.cell(*L.COVER_AS_OF))] = latest
    plan.cells[("Cover", L.cell(*L.COVER_REFRESHED))] = now
    plan.cells[("Cover", L.cell(*L.COVER_VINTAGE))] = plan.vintage
    return plan


def coverage_in(current: Mapping[tuple[str, str], Any]) -> list[str | None]:
    """The coverage slots of a workbook (Inputs), from its current values."""
    first = L.COVERAGE_HEADER_ROW + 2  # 1-based row of the first slot
    out = []
    for i in range(L.COVERAGE_SLOTS):
        v = current.get(("Inputs", f"D{first + i}"))
        out.append(str(v).strip().upper() if isinstance(v, str) and v.strip() else None)
    return out


def vintage_rows(ds: Dataset, slots: list[str | None]) -> list[list[Any]]:
    """One row per coverage slot: ticker, the end date of its newest figure (annual or
    quarterly) and what that figure is; blank for an empty slot or a company without data."""
    rows: list[list[Any]] = []
    for t in slots:
        if t is None or t not in ds.tickers:
            rows.append([t or "", None, "no data: fetch it or add an overrides file" if t else ""])
            continue
        a = ds.annual[ds.annual["ticker"] == t]
        q = ds.quarterly[ds.quarterly["ticker"] == t]
        candidates = []
        if len(a):
            last = a.loc[a["fiscal_year_end"].idxmax()]
            candidates.append((str(last["fiscal_year_end"]), f"FY{int(last['fiscal_year'])}"))
        if len(q):
            last = q.loc[q["period_end"].idxmax()]
            candidates.append((str(last["period_end"]),
                               f"{last['fiscal_quarter']} FY{int(last['fiscal_year'])}"))
        end, what = max(candidates)
        sec = ds.sec_vintage.get(t, {})
        filed = (f"; SEC filing of {sec['latest_filed']}, fetched {sec.get('fetched', '?')}"
                 if sec.get("latest_filed") else "; bundled snapshot")
        rows.append([t, dt.date.fromisoformat(end[:10]), f"{what}, period ended {end[:10]}{filed}"])
    return rows


def _read_table(current: Mapping[tuple[str, str], Any], sheet: str, width: int) -> list[list[Any]]:
    rows = []
    r = L.DATA_HEADER_ROW + 2
    while True:
        row = [current.get((sheet, f"{get_column_letter(j + 1)}{r}")) for j in range(width)]
        if row[0] in (None, ""):
            return rows
        rows.append(row)
        r += 1


def changes_rows(plan: RefreshPlan, value_changes: list[list[Any]]) -> list[list[Any]]:
    rows = plan.data_changes + value_changes
    if len(rows) > MAX_CHANGES:
        rows = rows[:MAX_CHANGES] + [["", "", f"... {len(rows) - MAX_CHANGES} more changes not listed",
                                      "", "", ""]]
    return rows or [["", "", "no change since the last refresh", "", "", ""]]


def value_changes(
    old: Mapping[tuple[str, str], Any],
    new: Mapping[tuple[str, str], Any],
    labels: Callable[[str, str], str] | None = None,
) -> list[list[Any]]:
    """Formula cells whose value changed (old cached value vs newly computed)."""
    out = []
    for (sheet, coord), b in new.items():
        if sheet not in COMPARED_SHEETS or sheet == "Data":
            continue
        a = old.get((sheet, coord))
        if _same(a, b):
            continue
        out.append([sheet, coord, labels(sheet, coord) if labels else "", _show(a), _show(b), _delta(a, b)])
    out.sort(key=lambda r: (COMPARED_SHEETS.index(r[0]), _row_col(r[1])))
    return out


def _row_col(coord: str) -> tuple[int, str]:
    col, row = coordinate_from_string(coord)
    return row, col.rjust(3)


def _same(a: Any, b: Any) -> bool:
    # An error equals the same error: a cached "#N/A" read back as text, a new XlError.
    if is_error(a) or is_error(b):
        return is_error(a) and is_error(b) and str(a) == str(b)
    if a is None or a == "":
        return b is None or b == ""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a == b or abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return str(a) == str(b)


def _show(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (int, float, str)):
        return v if not isinstance(v, str) else str(v)
    return str(v)


# -- adapters ------------------------------------------------------------------------------------


def apply_to_openpyxl(wb: Any, plan: RefreshPlan, changes: list[list[Any]]) -> None:
    """Write a plan into an openpyxl workbook (tables resized, old rows below cleared)."""
    sheets = {name: wb[name] for name in wb.sheetnames}  # one lookup per sheet, not per cell
    for sheet, row, col, value in plan.writes():
        set_openpyxl_value(sheets[sheet].cell(row=row, column=col), value)
    write_table_openpyxl(wb, TableWrite("Changes", "tblChanges", L.CHANGES_COLUMNS, changes))
    for t in plan.tables:
        _resize_table_openpyxl(wb, t)
    if plan.as_of is not None:
        wb["Cover"][L.cell(*L.COVER_AS_OF)].number_format = "yyyy-mm-dd"
    for i in range(L.COVERAGE_SLOTS):
        wb["Cover"][L.cell(L.COVER_VINTAGE_TABLE + 1 + i, 2)].number_format = "yyyy-mm-dd"
    wb["Cover"][L.cell(*L.COVER_REFRESHED)].number_format = 'yyyy-mm-dd hh:mm "UTC"'


def keep_chart_lines_straight(wb: Any) -> None:
    """Write ``smooth=0`` on every line series: without it LibreOffice draws smoothed curves,
    which invent values between fiscal years."""
    from openpyxl.chart import LineChart

    for ws in wb.worksheets:
        for chart in getattr(ws, "_charts", []):
            if isinstance(chart, LineChart):
                for series in chart.series:
                    series.smooth = False


def update_chart_caches(wb: Any, values: Mapping[tuple[str, str], Any]) -> None:
    """Refresh the numbers cached inside each chart, so viewers that draw from the cache (file
    previews, some web viewers) show today's data; errors and blanks become gaps."""
    from openpyxl.chart.data_source import NumVal
    from openpyxl.utils.cell import range_boundaries

    def points(ref: str) -> list[NumVal]:
        sheet, rng = ref.rsplit("!", 1)
        sheet = sheet.strip("'")
        c1, r1, c2, r2 = range_boundaries(rng.replace("$", ""))
        out = []
        for i, (r, c) in enumerate((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)):
            v = values.get((sheet, f"{get_column_letter(c)}{r}"))
            if v is None and sheet in wb.sheetnames:
                v = wb[sheet].cell(r, c).value
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(NumVal(idx=i, v=v))
        return out

    for ws in wb.worksheets:
        for chart in getattr(ws, "_charts", []):
            for series in chart.series:
                for source in (series.val, series.cat):
                    ref = getattr(source, "numRef", None) if source is not None else None
                    if ref is not None and ref.f and ref.numCache is not None:
                        ref.numCache.pt = points(ref.f)


def set_openpyxl_value(c: Any, v: Any) -> None:
    """Assign a value; text is always text (openpyxl would store ``"=..."`` as a formula)."""
    c.value = v
    if isinstance(v, str) and v.startswith("="):
        c.data_type = "s"


def write_table_openpyxl(wb: Any, t: TableWrite) -> None:
    """Write a table's rows under its header on an openpyxl workbook and resize the Excel
    Table to them (rows left over from a longer table are cleared)."""
    ws = wb[t.sheet]
    first = L.DATA_HEADER_ROW + 2
    for i, row in enumerate(t.rows):
        for j, v in enumerate(row):
            set_openpyxl_value(ws.cell(row=first + i, column=j + 1), v)
    _resize_table_openpyxl(wb, t)


def _resize_table_openpyxl(wb: Any, t: TableWrite) -> None:
    ws = wb[t.sheet]
    first = L.DATA_HEADER_ROW + 2
    for r in range(first + len(t.rows), ws.max_row + 1):  # rows left from a longer table
        for j in range(len(t.columns)):
            ws.cell(row=r, column=j + 1).value = None
    if t.name in ws.tables:
        ws.tables[t.name].ref = t.ref
        if ws.tables[t.name].autoFilter is not None:
            ws.tables[t.name].autoFilter.ref = t.ref


def apply_to_xlwings(book: Any, plan: RefreshPlan, changes: list[list[Any]] | None = None) -> None:
    """Write a plan into an ``xw.Book`` (desktop Excel, or the Office.js remote book).

    Tables are written as blocks of values starting under their header row; Excel's own
    recalculation then updates every CPX_ and native formula.
    """
    for (sheet, coord), value in plan.cells.items():
        book.sheets[sheet][coord].value = value
    tables = list(plan.tables)
    tables.append(TableWrite("Changes", "tblChanges", L.CHANGES_COLUMNS,
                             changes if changes is not None else changes_rows(plan, [])))
    for t in tables:
        first = L.DATA_HEADER_ROW + 2
        sheet = book.sheets[t.sheet]
        if t.rows:
            sheet[f"A{first}"].value = [[_xlwings_value(v) for v in row] for row in t.rows]


def _xlwings_value(v: Any) -> Any:
    # Office.js and COM would run text that starts with '=' as a formula: keep it text.
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and len(v) > 1:
        return "'" + v
    return v


def dataset_for_refresh(overrides: str | Path | None) -> Dataset:
    """Load (and validate) the data first: if it fails, nothing has been written yet."""
    return current_dataset(overrides)


def read_book_table(book: Any, sheet: str, width: int) -> dict[tuple[str, str], Any]:
    """Current values of a table body in an ``xw.Book`` (for the Changes comparison)."""
    ws = book.sheets[sheet]
    first = L.DATA_HEADER_ROW + 2
    start = ws[f"A{first}"]
    block = start.expand("down").resize(column_size=width).value if start.value not in (None, "") else []
    if block and not isinstance(block[0], list):
        block = [block]
    out: dict[tuple[str, str], Any] = {}
    for i, row in enumerate(block or []):
        for j, v in enumerate(row):
            out[(sheet, f"{get_column_letter(j + 1)}{first + i}")] = v
    return out


def _book_property(book: Any, name: str) -> Any:
    """A custom document property of an ``xw.Book`` through desktop Excel's COM object
    model; ``None`` when it is absent or the runtime does not expose properties (the
    Office.js book of xlwings Server/Lite, whose ``api`` is a JSON dict)."""
    try:
        return book.api.CustomDocumentProperties(name).Value
    except Exception:  # noqa: BLE001 - COM raises com_error for a missing property
        return None


def _book_names(book: Any) -> dict[str, str]:
    out = {}
    try:
        for n in book.names:
            try:
                out[str(n.name)] = str(n.refers_to or "")
            except Exception:  # noqa: BLE001 - a name that refers to no range
                continue
    except Exception:  # noqa: BLE001 - a runtime without names
        return {}
    return out


def is_template(book: Any) -> bool:
    """Whether an ``xw.Book`` is our analyst template, identified positively.

    Desktop Excel exposes document properties: the builder's version stamp decides (a
    client copy's mark says no). Office.js (xlwings Server/Lite) sends sheets and defined
    names but not document properties: there, and for workbooks built before the stamp,
    the template's signature decides — its sheets plus ``chk_Master`` and ``in_AsOf`` on
    the Cover cells of this layout (:func:`aicapex.excel.safety.template_signature_problems`).
    A look-alike with the same four sheet names is not refreshed, only recalculated.
    """
    from aicapex.excel.safety import (
        CLIENT_COPY_PROPERTY,
        TEMPLATE_PROPERTY,
        TEMPLATE_VERSION,
        template_signature_problems,
    )

    if _book_property(book, CLIENT_COPY_PROPERTY) is not None:
        return False
    stamp = _book_property(book, TEMPLATE_PROPERTY)
    if stamp is not None:
        return str(stamp).split(".")[0] == str(TEMPLATE_VERSION)
    sheets = [s.name for s in book.sheets]
    return not template_signature_problems(sheets, _book_names(book))


def recalculate(book: Any) -> None:
    """Recalculate every formula, CPX_ ones included.

    CPX_ functions are not volatile: after new data is loaded their arguments are unchanged,
    so Excel's ordinary recalculation would skip them. Desktop Excel gets ``CalculateFull``;
    the Office.js runtimes (xlwings Server/Lite) get xlwings' ``calculate`` action.
    """
    try:
        api = book.app.api
    except Exception:  # noqa: BLE001 - the remote engines have no COM api
        api = None
    full = getattr(api, "CalculateFull", None)
    if callable(full):
        full()
    else:
        book.app.calculate()


def refresh_book(book: Any, *, overrides: str | Path | None = None,
                 now: dt.datetime | None = None) -> RefreshPlan | None:
    """Refresh an open ``xw.Book``: the template's Refresh button (desktop), the add-in's
    Refresh button (any workbook) and the xlwings Server/Lite script all end here.

    The analyst template gets the full plan (tables, stamps, Changes); any other workbook that
    uses CPX_ functions gets its data reloaded and a full recalculation. Returns the plan, or
    ``None`` for a workbook that is not the template.
    """
    from aicapex.data import dataset as dataset_module

    fetch_lines = fetch_if_online(book)  # the workbook's config may ask for SEC data first
    dataset_module.clear_cache()  # reload the snapshot and overrides folder now
    ds = dataset_for_refresh(overrides)  # Excel's own recalculation reads $AICAPEX_OVERRIDES
    if not is_template(book):
        recalculate(book)
        return None
    current = read_book_table(book, "Data", len(L.DATA_COLUMNS))
    plan = plan_refresh(ds, current, now=now)
    apply_to_xlwings(book, plan, changes_rows(plan, fetch_lines))
    recalculate(book)
    return plan


ONLINE_KEY = "AICAPEX_ONLINE"


def book_config(book: Any) -> dict[str, Any]:
    """Key/value rows of the workbook's ``xlwings.conf`` sheet, keys upper-cased ({} if none)."""
    if "xlwings.conf" not in {s.name for s in book.sheets}:
        return {}
    rows = book.sheets["xlwings.conf"]["A1:B60"].value or []
    return {str(k).strip().upper(): v for k, v in rows if k not in (None, "")}


def fetch_if_online(book: Any) -> list[list[Any]]:
    """When ``AICAPEX_ONLINE`` is true (environment, else the workbook's ``xlwings.conf``),
    fetch the covered companies' SEC data first, with the SEC settings read the same way.
    A missing user agent stops the refresh before anything changes; a company that fails keeps
    its earlier data and gets a line on the Changes sheet."""
    import os

    conf = book_config(book)
    flag = os.environ.get(ONLINE_KEY) or conf.get(ONLINE_KEY)
    if str(flag).strip().lower() not in ("1", "true", "yes", "on"):
        return []
    from aicapex.data.sec import SecSettings, covered_tickers, fetch

    report = fetch(covered_tickers(), settings=SecSettings.from_env(config=conf))
    return [["SEC", "", f"fetch failed for {o.target.ticker}: {o.message}; earlier data kept",
             "", "", ""] for o in report.failed]
