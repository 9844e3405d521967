"""Headless refresh of a workbook file, without Excel: ``python -m aicapex refresh PATH``.

1. check the file (a workbook package, writable, not open in Excel), take the workbook's
   exclusive lock and read it once: the bytes and their :class:`~aicapex.excel.atomic.FileState`;
2. refuse anything but our analyst template (:func:`aicapex.excel.safety.check_analyst_workbook`);
3. read and validate the data (a failure here changes nothing);
4. load the workbook with openpyxl (VBA and buttons kept; :mod:`aicapex.excel.fast_load`)
   and its current cached values;
5. apply the refresh plan (:mod:`aicapex.excel.refresh`);
6. evaluate every formula — CPX_ calls through the same UDF functions Excel calls, native
   formulas with :mod:`aicapex.excel.evaluator` — and list what changed on Changes;
7. save to a temporary file with every formula's cached value (and what openpyxl drops:
   dynamic-array metadata, the Cover's shapes; :mod:`aicapex.excel.stamped_save`), then
   atomically replace the original (one ``.bak`` backup kept) — unless the file changed since step 1 (someone
   saved it) or was opened in Excel meanwhile: then nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aicapex.errors import AicapexError
from aicapex.excel import layout as L
from aicapex.excel.collector import collector_paused
from aicapex.excel.refresh import (
    TableWrite,
    apply_to_openpyxl,
    changes_rows,
    dataset_for_refresh,
    keep_chart_lines_straight,
    plan_refresh,
    update_chart_caches,
    value_changes,
)

_TICKER = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")


@dataclass
class RefreshResult:
    path: Path
    formulas: int
    changes: int
    errors: list[str]
    master_check: Any
    seconds: float
    warnings: list[str] = field(default_factory=list)
    not_recomputed: int = 0  # formulas that kept their cached value (--keep-unsupported)
    #: Cells holding an engine error other than #N/A (a documented gap): "Sheet!F12 #VALUE!:
    #: reason"; any of them makes the master check fail.
    engine_errors: list[str] = field(default_factory=list)

    @property
    def master_status(self) -> tuple[bool, str]:
        """(passing, words) for the master check: ``(True, "OK")`` or why not."""
        from aicapex.excel.safety import describe_master_check

        return describe_master_check(self.master_check)


def udf_registry() -> dict[str, Callable[..., Any]]:
    """Excel name → Python function for every CPX_ function."""
    import aicapex.udfs as udfs

    return {name.upper(): getattr(udfs, name) for name in udfs.__all__}


def read_values(source: Path | bytes) -> dict[tuple[str, str], Any]:
    """Every cell's cached value, by (sheet, coordinate), with python-calamine (fast).

    ``source``: the workbook's path, or its bytes as read once by the refresh. Error cells,
    which calamine reads as ``""``, get their error code (``"#N/A"``) from the sheet XML, so
    an unchanged error is not reported as a change on the next refresh.
    """
    from openpyxl.utils.cell import get_column_letter
    from python_calamine import CalamineWorkbook

    from aicapex.excel.cached import read_error_values

    out: dict[tuple[str, str], Any] = {}
    if isinstance(source, (bytes, bytearray)):
        book = CalamineWorkbook.from_filelike(io.BytesIO(source))
    else:
        book = CalamineWorkbook.from_path(str(source))
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v != "" and v is not None:
                    out[(name, f"{get_column_letter(j + 1)}{i + 1}")] = v
    out.update(read_error_values(source))
    return out


def check_workbook_file(path: Path) -> None:
    """One-line errors for a target that is missing, not a workbook (a legacy .xls and an
    encrypted workbook are named as such), read-only, or open in Excel or LibreOffice."""
    from aicapex.excel import safety
    from aicapex.excel.atomic import check_writable, real_path

    if not path.exists():
        raise AicapexError(f"{path}: no such file")
    if path.is_dir():
        raise AicapexError(f"{path}: is a folder, not a workbook")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        if path.suffix.lower() == ".xls" or safety.ole_kind(path) is not None:
            raise AicapexError(safety.describe_not_a_package(path))
        raise AicapexError(f"{path}: not an .xlsx or .xlsm workbook")
    safety.check_package(path)
    # Mode bits as well as os.access (which says "writable" to root for anything): the same
    # check atomic_write makes at the end, made here before any work is done.
    real = real_path(path)
    check_writable(real)
    safety.check_not_open(real)


def _stamp_template(wb: Any) -> None:
    """Write the template version stamp into a workbook built before stamps existed."""
    from openpyxl.packaging.custom import IntProperty

    from aicapex.excel.safety import TEMPLATE_PROPERTY, TEMPLATE_VERSION

    props = wb.custom_doc_props
    if TEMPLATE_PROPERTY in props.names:
        del props[TEMPLATE_PROPERTY]
    props.append(IntProperty(name=TEMPLATE_PROPERTY, value=TEMPLATE_VERSION))


def _unreadable(path: Path, exc: BaseException) -> AicapexError:
    """One line naming the file and the root cause (openpyxl wraps it in a generic message)."""
    root = exc
    for _ in range(10):
        nxt = root.__cause__ or root.__context__
        if nxt is None:
            break
        root = nxt
    what = "cannot be read as a workbook"
    if type(root).__module__.startswith("defusedxml"):
        what = "refused: its XML declares entities or a DTD (possible entity-expansion bomb)"
    return AicapexError(f"{path}: {what} ({type(root).__name__}: {root})")


def _labels(wb: Any, values: dict[tuple[str, str], Any]) -> Callable[[str, str], str]:
    def label(sheet: str, coord: str) -> str:
        ws = wb[sheet]
        row = int("".join(ch for ch in coord if ch.isdigit()))
        text = ws.cell(row=row, column=2).value
        letters = "".join(ch for ch in coord if ch.isalpha())
        year = values.get((sheet, f"{letters}4"), ws.cell(row=4, column=_col_index(coord)).value)
        block = ""
        for r in range(row, 5, -1):  # nearest block header above: its ticker is in column D
            v = values.get((sheet, f"D{r}"), ws.cell(row=r, column=4).value)
            if isinstance(v, str) and _TICKER.match(v) and ws.cell(row=r, column=2).value:
                block = v + " "
                break
        fy = ""
        if isinstance(year, (int, float)):
            fy = f" FY{int(year)}"
        return f"{block}{text or ''}{fy}".strip()

    return label


def _col_index(coord: str) -> int:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    return column_index_from_string(coordinate_from_string(coord)[0])


def refresh_file(
    path: str | Path,
    *,
    overrides: str | Path | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    backup: bool = True,
    keep_unsupported: bool = False,
) -> RefreshResult:
    """Refresh a workbook file in place; see the module docstring.

    Formulas the evaluator cannot compute are all listed in one error and nothing is
    written, unless ``keep_unsupported``: then they keep their cached values (formulas that
    read them use those) and Changes marks them "not recomputed".
    A symbolic link is refreshed through: the file it points at is replaced, the link stays.
    """
    from aicapex.excel.atomic import exclusive_lock, real_path

    path = Path(path)
    check_workbook_file(path)
    # exclusive_lock: a second refresh or export of this file is refused
    with exclusive_lock(path), collector_paused(), contextlib.ExitStack() as cleanup:
        return _refresh_locked(path, real_path(path), overrides=overrides, now=now,
                               progress=progress, backup=backup,
                               keep_unsupported=keep_unsupported, cleanup=cleanup)


def _refresh_locked(
    path: Path,
    real: Path,
    *,
    overrides: str | Path | None,
    now: dt.datetime | None,
    progress: Callable[[str], None] | None,
    backup: bool,
    keep_unsupported: bool,
    cleanup: contextlib.ExitStack,
) -> RefreshResult:

    from aicapex.excel.atomic import atomic_write, read_snapshot
    from aicapex.excel.cached import WithAttributes
    from aicapex.excel.dynamic_arrays import package_additions, read_dynamic_arrays
    from aicapex.excel.evaluator import UnsupportedFormulas, evaluate_workbook
    from aicapex.excel.fast_load import load_workbook
    from aicapex.excel.safety import check_analyst_workbook, check_not_open
    from aicapex.excel.shapes import carry_shapes, read_shape_drawings
    from aicapex.excel.stamped_save import save_with_cached_values

    start = time.perf_counter()
    say = progress or (lambda msg: None)
    # Read once, under the lock: every reader below works on these bytes, and the state
    # tells atomic_write whether anyone saved the file before it is replaced.
    data, state = read_snapshot(real)
    kind = check_analyst_workbook(path, data)
    ds = dataset_for_refresh(overrides)  # validated before anything is written
    say(f"data: {len(ds.annual)} annual figures from {len(ds.origins)} source(s)")
    keep_vba = path.suffix.lower() == ".xlsm"
    try:
        old = read_values(data)
        spilled = read_dynamic_arrays(io.BytesIO(data))
        shapes = read_shape_drawings(data)
        wb = load_workbook(io.BytesIO(data), keep_vba=keep_vba, keep_links=False)
        if wb.vba_archive is not None:  # closed now, not when the collector gets to it
            cleanup.callback(wb.vba_archive.close)
    except Exception as exc:  # noqa: BLE001 - calamine and openpyxl raise many kinds for a bad file
        raise _unreadable(path, exc) from exc
    missing = [s for s in ("Cover", "Data", "Sources", "Changes") if s not in wb.sheetnames]
    if missing:
        raise AicapexError(f"{path}: not an AI Capex workbook (no {', '.join(missing)} sheet)")
    additions = package_additions(spilled)  # what openpyxl drops on save, added back
    warnings = coverage_warnings(ds, old) + carry_shapes(wb, shapes, additions)
    for w in warnings:
        say(f"warning: {w}")
    if kind == "legacy template":
        _stamp_template(wb)
    plan = plan_refresh(ds, old, now=now)
    apply_to_openpyxl(wb, plan, changes_rows(plan, []))
    keep_chart_lines_straight(wb)
    say("evaluating formulas")

    shown = [0]

    def tick(done: int, total: int) -> None:
        # Long runs only: a line each time another tenth of the formulas is done.
        if total >= 5000 and done * 10 // total > shown[0]:
            shown[0] = done * 10 // total
            say(f"  {done:,}/{total:,} formulas")

    from aicapex.data.dataset import overrides_in_effect

    with overrides_in_effect(overrides):
        try:
            result = evaluate_workbook(wb, udf_registry(), progress=tick,
                                       today=(now or dt.datetime.now()).date(),
                                       keep_unsupported=keep_unsupported, cached=old)
        except UnsupportedFormulas as exc:
            raise AicapexError(
                f"{path}: {exc}. Nothing was written; rerun with --keep-unsupported to keep "
                "Excel's cached values for these cells (listed as not recomputed on Changes)"
            ) from None
    values = dict(result.values)
    values.update(result.spills)  # the cells a spilled block fills are compared too
    kept = [[c.sheet, c.coord, c.reason, _shown(old.get((c.sheet, c.coord))),
             _shown(old.get((c.sheet, c.coord))), "not recomputed"]
            for c in result.not_recomputed]
    changes = kept + value_changes(old, values, _labels(wb, values))
    rows = changes_rows(plan, changes)
    change_table = TableWrite("Changes", "tblChanges", L.CHANGES_COLUMNS, rows)
    from aicapex.excel.refresh import write_table_openpyxl

    write_table_openpyxl(wb, change_table)
    wb.calculation.fullCalcOnLoad = True
    update_chart_caches(wb, values)

    for key, cm in spilled.anchors.items():  # keep spilled blocks dynamic (openpyxl drops cm)
        values[key] = WithAttributes(values.get(key), (("cm", cm),))

    def write(tmp: Path) -> None:
        save_with_cached_values(wb, tmp, values, additions)

    atomic_write(path, write, backup=backup, unchanged=state,
                 guard=lambda: check_not_open(real))
    master = result.get("Cover", L.cell(*L.COVER_MASTER))
    errors = [str(e) for e in result.errors]
    engine_errors = [str(e) for e in result.errors if e.code != "#N/A"]
    return RefreshResult(path, len(result.values), len(plan.data_changes) + len(changes), errors,
                         master, time.perf_counter() - start, warnings,
                         len(kept), engine_errors)


def coverage_warnings(ds: Any, values: dict[tuple[str, str], Any]) -> list[str]:
    """Companies on the workbook's coverage list (Inputs) without data, and companies in the
    data without a block (``values``: the workbook's current cell values)."""
    from aicapex.excel import layout as L

    first = L.COVERAGE_HEADER_ROW + 2  # 1-based row of the first slot
    slots = [values.get(("Inputs", f"D{first + i}")) for i in range(L.COVERAGE_SLOTS)]
    covered = [str(t).strip().upper() for t in slots if isinstance(t, str) and t.strip()]
    out = [f"{t} is on the coverage list (Inputs) but has no data: fetch it (python -m aicapex "
           f"fetch --tickers {t}) or add an overrides file" for t in covered if t not in ds.tickers]
    missing = [t for t in ds.tickers if t not in covered]
    if missing and any(isinstance(t, str) for t in slots):
        out.append(f"data without a company block: {', '.join(missing)}; type the ticker into a "
                   "free coverage slot on Inputs")
    return out


def _shown(v: Any) -> Any:
    return "" if v is None else v if isinstance(v, (int, float, str)) else str(v)


def print_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
