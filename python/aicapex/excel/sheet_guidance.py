"""The Guidance sheet: what management said it would spend, how that moved, and how it
compared with what was reported (capex_guidance.csv; two sources per statement).

Blocks, top to bottom, each one spilled ``CPX_GUIDANCE`` call (four in all):

* **Expectations raised**: the guide in force for ``in_GuidanceYear`` at each date a guide
  was given (rows: the dates in column B; columns: the companies in row r), midpoints in USD
  m on each company's own basis; ``#N/A`` before a company's first guide with a figure. The
  line chart beside it is the report's "expectations are being raised" exhibit.
* **Latest guide vs last actual**: per company and guided period, the latest guide, its
  words, the last reported year on the same basis and the guided growth; basis differences
  flagged in ``basis_note`` (META incl. finance-lease principal, AMZN cash capex, MSFT incl.
  finance leases and its calendar-2026 figure).
* **Guidance vs outcome**: first and latest guide against the reported figure.
* **Checks** (guided growth and surprise identities, every revision counted) and **alerts**.
* **Every revision** (an appendix after the checks, left out of the printed page): the file's
  words and both sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aicapex.data.guidance import snapshot_guidance
from aicapex.engine.guidance import (
    LATEST_COLUMNS,
    OUTCOME_COLUMNS,
    REVISION_COLUMNS,
    guidance_dates,
)
from aicapex.excel import layout as L
from aicapex.excel.layout import InputRow
from aicapex.excel.sheetkit import (
    BuildContext,
    abs_ref,
    alert_format,
    check_format,
    new_chart,
    print_setup,
    section,
    sheet_check_cells,
    write_alert_total,
    write_block,
    write_check_total,
)
from aicapex.excel.styles import TAB_COLOURS

SHEET = "Guidance"
TITLE = "Guidance"
PURPOSE = ("Management's capex guidance from earnings calls and releases (two sources each); "
           "USD millions on each company's own basis unless stated; growth as a fraction")
FIRST_COL = 1  # column B: tables start here
CHART_SOURCE = ("Source: company earnings calls and releases as reported by two independent "
                "sources each (capex_guidance.csv); reported capex from 10-K filings; AI Capex "
                "Monitor calculations.")

#: Column widths (characters) of B..K, the printed part: each table puts its key fields
#: first (the history table's words in J and K; the rest of a wide table is in the workbook).
WIDTHS = {1: 7, 2: 9, 3: 10, 4: 10, 5: 10, 6: 9, 7: 9, 8: 9, 9: 36, 10: 24}
#: The columns the page prints (A..K): one page wide at print size.
PRINT_LAST_COL = 10
#: Charts sit beside the path table, from column H.
CHART_COL = 7


def guided_tickers() -> list[str]:
    """Companies with guidance in the data, in the workbook's order."""
    present = set(snapshot_guidance()["ticker"])
    return [t for t in L.COVERAGE if t in present] + sorted(present - set(L.COVERAGE))


def default_year() -> str:
    """The newest fiscal year that at least two companies have guided with a figure."""
    g = snapshot_guidance()
    numeric = g[(g["period"] == "FY") & g["mid_musd"].notna()]
    counts = numeric.groupby("guided_fiscal_year")["ticker"].nunique()
    return str(counts[counts >= 2].index.max())


def input_section(ds: Any) -> tuple[str, list[InputRow]]:
    """The Guidance input on the Inputs sheet."""
    return ("Guidance (Guidance sheet)", [
        InputRow("in_GuidanceYear", "Guided year on the expectations chart", "FY", default_year(),
                 {"validate": "list", "source": sorted(set(snapshot_guidance()
                                                           ["guided_fiscal_year"]))},
                 "A guided period (FY2026; MSFT's CY2026 is a calendar year); default: the "
                 "newest fiscal year at least two companies guided with a figure"),
        InputRow("in_GuideMiss", "Alert when reported capex is off the latest guide by more "
                 "than", "%", 0.1,
                 {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
                 "Fraction, either way; analyst assumption (10%: a miss worth a sentence)"),
    ])


@dataclass
class GuidanceLayout:
    path_header: int = 0
    tickers_row: int = 0
    dates: dict[str, int] = field(default_factory=dict)
    latest_header: int = 0
    latest_first: int = 0
    latest_rows: int = 0
    outcome_header: int = 0
    outcome_first: int = 0
    outcome_rows: int = 0
    history_header: int = 0
    history_first: int = 0
    history_rows: int = 0
    checks_header: int = 0
    checks: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    alert_total: int = 0
    total_row: int = 0
    chart_row: int = 0


def block_values(ds: Any) -> dict[str, list[list[Any]]]:
    """Each block's build-time result: the same calls Excel makes."""
    from aicapex.udfs.financing import cpx_guidance

    tickers = [guided_tickers()]
    dates = [[d] for d in guidance_dates(snapshot_guidance())]
    return {
        "path": cpx_guidance(tickers, default_year(), "path", False, dates),
        "latest": cpx_guidance(tickers, None, "latest", True),
        "outcome": cpx_guidance(tickers, None, "outcome", True),
        "history": cpx_guidance(tickers, None, "history", True),
    }


def guidance_layout(frames: dict[str, list[list[Any]]]) -> GuidanceLayout:
    """Rows (0-based): the path block with its two charts beside it, the latest and outcome
    tables, the checks, then the revision history (an appendix the PDF leaves out)."""
    lay = GuidanceLayout()
    r = L.HEADER_ROWS + 1
    lay.path_header = r
    lay.tickers_row = r + 1
    lay.chart_row = r + 1
    r += 1
    for d in guidance_dates(snapshot_guidance()):
        r += 1
        lay.dates[d] = r
    r = max(r, lay.chart_row + 33) + 2
    lay.latest_header = r
    lay.latest_first = r + 1
    lay.latest_rows = len(frames["latest"])
    r = lay.latest_first + lay.latest_rows + 1
    lay.outcome_header = r
    lay.outcome_first = r + 1
    lay.outcome_rows = len(frames["outcome"])
    r = lay.outcome_first + lay.outcome_rows + 1
    lay.checks_header = r
    for key in ("growth", "surprise", "revisions"):
        r += 1
        lay.checks[key] = r
    for key in ("not_compared", "missed"):
        r += 1
        lay.alerts[key] = r
    lay.alert_total = r + 1
    lay.total_row = r + 2
    r += 4
    lay.history_header = r
    lay.history_first = r + 1
    lay.history_rows = len(frames["history"])
    return lay


def alert_ref(ds: Any) -> str:
    """Absolute reference of this sheet's alert count (summed on the Cover)."""
    return f"{SHEET}!{abs_ref(guidance_layout(block_values(ds)).alert_total)}"


def _col(name: str, columns: tuple[str, ...]) -> str:
    """The sheet column of a table field (tables start in column B)."""
    return L.col(FIRST_COL + columns.index(name))


def _span(r: int, c0: int, c1: int) -> str:
    return f"{L.cell(r, c0)}:{L.cell(r, c1)}"


# -- the sheet --------------------------------------------------------------------------------------


def write_sheet(ctx: BuildContext, ws: Any) -> None:
    """Write the Guidance sheet (registered in ``builder.EXTRA_SHEETS``)."""
    frames = block_values(ctx.ds)
    lay = guidance_layout(frames)
    _header(ctx, ws, lay)
    _write_path(ctx, ws, lay, frames)
    tickers = _tickers_range(lay)
    for key, header, first, columns, title in (
        ("latest", lay.latest_header, lay.latest_first, LATEST_COLUMNS,
         "Latest guide per company and period, last reported year on the same basis, guided "
         "growth (basis differences flagged in basis_note)"),
        ("outcome", lay.outcome_header, lay.outcome_first, OUTCOME_COLUMNS,
         "Guidance vs outcome: first and latest guide against the reported figure on the same "
         "basis"),
        ("history", lay.history_header, lay.history_first, REVISION_COLUMNS,
         "Appendix, every revision: the words of the guidance and both sources (qualitative "
         "guidance keeps its words; the numbers stay empty); in the workbook, not the PDF"),
    ):
        section(ctx, ws, header, title)
        formula = f'=CPX_GUIDANCE({tickers},,"{key}",TRUE)'
        write_block(ws, first, FIRST_COL, formula, frames[key],
                    col_formats=_formats(ctx, columns))
    _write_row_checks(ctx, ws, lay)
    _write_checks(ctx, ws, lay)
    _write_charts(ctx, ws, lay)


def _header(ctx: BuildContext, ws: Any, lay: GuidanceLayout) -> None:
    s = ctx.styles
    ws.set_column(0, 0, 2)
    ws.set_column(1, 20, 10)
    for c, w in WIDTHS.items():
        ws.set_column(c, c, w)
    ws.write_string(0, 1, TITLE, s("title"))
    ws.write_string(1, 1, PURPOSE, s("subtitle"))
    ws.write_string(2, 1, "Sheet check", s("label"))
    ws.write_string(2, 4, "Master", s("label"))
    sheet_check_cells(ctx, ws, abs_ref(lay.total_row))
    ws.write_string(3, 1, "Each block is one CPX_GUIDANCE table: its header row names the "
                    "fields (low/high/point/mid in USD m; growth and surprise as fractions)",
                    s("note"))
    ws.freeze_panes(L.HEADER_ROWS, 0)
    ws.set_tab_color(TAB_COLOURS.get(SHEET, "#7F7F7F"))
    print_setup(ws, TITLE)
    # the revision history (an appendix below the checks) stays in the workbook, off the page
    ws.print_area(0, 0, lay.total_row, PRINT_LAST_COL)


def _tickers_range(lay: GuidanceLayout) -> str:
    n = len(guided_tickers())
    return f"{abs_ref(lay.tickers_row, FIRST_COL + 1)}:{abs_ref(lay.tickers_row, FIRST_COL + n)}"


def _formats(ctx: BuildContext, columns: tuple[str, ...]) -> list[Any]:
    """A number format per table column: USD m, fractions as %, years and counts whole."""
    s = ctx.styles
    out = []
    for name in columns:
        if name.endswith("_musd"):
            out.append(s("engine", "musd"))
        elif name in ("guided_growth", "actual_vs_latest_mid", "actual_vs_first_mid"):
            out.append(s("engine", "pct"))
        elif name in ("revisions", "last_actual_year"):
            out.append(s("engine", "year"))
        else:
            out.append(s("engine", "text"))
    return out


def _write_row_checks(ctx: BuildContext, ws: Any, lay: GuidanceLayout) -> None:
    """One check flag per table row, right of the latest and outcome tables: the growth and
    the surprise equal what the midpoint and the reported figure imply (in USD m)."""
    s = ctx.styles
    for first, n, columns, (rate, guide, actual) in (
        (lay.latest_first, lay.latest_rows, LATEST_COLUMNS,
         ("guided_growth", "mid_musd", "last_actual_musd")),
        (lay.outcome_first, lay.outcome_rows, OUTCOME_COLUMNS,
         ("actual_vs_latest_mid", "latest_mid_musd", "actual_musd")),
    ):
        c = FIRST_COL + len(columns)
        ws.write_string(first, c, "check", s("label_bold"))
        g, m, a = (_col(k, columns) for k in (rate, guide, actual))
        for r in range(first + 2, first + n + 1):  # 1-based rows of the table body
            if rate == "guided_growth":  # growth on the last actual: growth x actual
                test = f"ABS({g}{r}*{a}{r}-({m}{r}-{a}{r}))"
            else:  # surprise on the guide: surprise x guide
                test = f"ABS({g}{r}*{m}{r}-({a}{r}-{m}{r}))"
            ws.write_formula(r - 1, c, f"=IF(ISNUMBER({g}{r}),--({test}>in_CheckTol),0)",
                             s("calc", "check"), 0)
        check_format(ctx, ws, f"{L.cell(first + 1, c)}:{L.cell(first + n - 1, c)}")


def _write_path(ctx: BuildContext, ws: Any, lay: GuidanceLayout,
                frames: dict[str, list[list[Any]]]) -> None:
    s = ctx.styles
    section(ctx, ws, lay.path_header, "Expectations raised: the guide in force for "
            "in_GuidanceYear at each date guidance was given (midpoint, USD m, own basis)")
    ws.write_formula(lay.path_header, 5, "=in_GuidanceYear", s("section"), default_year())
    r = lay.tickers_row
    ws.write_string(r, FIRST_COL, "Date given", s("label_bold"))
    for i, t in enumerate(guided_tickers()):
        ws.write_string(r, FIRST_COL + 1 + i, t, s("key"))
    for d, rr in lay.dates.items():
        ws.write_string(rr, FIRST_COL, d, s("key"))
    dates = list(lay.dates.values())
    first, last = dates[0], dates[-1]
    formula = (f'=CPX_GUIDANCE({_tickers_range(lay)},in_GuidanceYear,"path",FALSE,'
               f"{abs_ref(first, FIRST_COL)}:{abs_ref(last, FIRST_COL)})")
    write_block(ws, first, FIRST_COL + 1, formula, frames["path"], fmt=s("engine", "musd"))
    ws.write_string(r, FIRST_COL + len(guided_tickers()) + 2, "#N/A before a company's first "
                    "guide with a figure for that period (a floor or words give none)",
                    s("note"))


def _write_checks(ctx: BuildContext, ws: Any, lay: GuidanceLayout) -> None:
    s = ctx.styles
    section(ctx, ws, lay.checks_header, "Checks (0 = pass) and alerts")
    lc, oc, hc = LATEST_COLUMNS, OUTCOME_COLUMNS, REVISION_COLUMNS
    l0, l1 = lay.latest_first + 2, lay.latest_first + lay.latest_rows - 1 + 1  # 1-based rows
    o0, o1 = lay.outcome_first + 2, lay.outcome_first + lay.outcome_rows - 1 + 1
    h0, h1 = lay.history_first + 2, lay.history_first + lay.history_rows - 1 + 1

    def rng(col: str, columns: tuple[str, ...], a: int, b: int) -> str:
        c = _col(col, columns)
        return f"{c}{a}:{c}{b}"

    growth = rng("guided_growth", lc, l0, l1)
    surprise = rng("actual_vs_latest_mid", oc, o0, o1)
    lflags = f"{L.col(FIRST_COL + len(lc))}{l0}:{L.col(FIRST_COL + len(lc))}{l1}"
    oflags = f"{L.col(FIRST_COL + len(oc))}{o0}:{L.col(FIRST_COL + len(oc))}{o1}"
    rows = [
        ("growth", "Guided growth x last actual = latest mid - last actual (every row)",
         f"=MIN(1,SUM({lflags}))"),
        ("surprise", "Outcome vs guide x guide = reported - guide (every row)",
         f"=MIN(1,SUM({oflags}))"),
        ("revisions", "Every revision is counted in the latest table",
         f"=--(SUM({rng('revisions', lc, l0, l1)})<>SUMPRODUCT(--NOT(ISERROR("
         f"{rng('ticker', hc, h0, h1)}))))"),
    ]
    for key, label, formula in rows:
        r = lay.checks[key]
        ws.write_string(r, 1, label, s("label"))
        ws.write_string(r, 2, "flag", s("unit"))
        ws.write_formula(r, 3, formula, s("calc", "check"), 0)
        check_format(ctx, ws, L.cell(r, 3))
    alerts = [
        ("not_compared", "Alert: latest guides without a like-for-like growth (words only, a "
         "calendar year or a basis the filings cannot rebuild)",
         f"=SUMPRODUCT(--ISERROR({growth}))"),
        ("missed", "Alert: reported capex off the latest guide by more than in_GuideMiss",
         f'=COUNTIFS({surprise},">"&in_GuideMiss)+COUNTIFS({surprise},"<"&-in_GuideMiss)'),
    ]
    for key, label, formula in alerts:
        r = lay.alerts[key]
        ws.write_string(r, 1, label, s("label"))
        ws.write_string(r, 2, "alert", s("unit"))
        ws.write_formula(r, 3, formula, s("calc", "alert"), 0)
        alert_format(ctx, ws, L.cell(r, 3))
    write_alert_total(ctx, ws, lay.alert_total, lay.alerts.values())
    write_check_total(ctx, ws, lay.total_row, lay.checks.values())


#: Okabe-Ito company colours (WORKBOOK_STYLE.md §7).
COLOURS = {"MSFT": "#0072B2", "GOOGL": "#009E73", "AMZN": "#E69F00", "META": "#56B4E9",
           "ORCL": "#D55E00", "AAPL": "#CC79A7"}


def _write_charts(ctx: BuildContext, ws: Any, lay: GuidanceLayout) -> None:
    s = ctx.styles
    dates = list(lay.dates.values())
    cats = f"={SHEET}!{abs_ref(dates[0], FIRST_COL)}:{abs_ref(dates[-1], FIRST_COL)}"
    raised = new_chart(ctx, "line", "Expectations raised: capex guide in force by date (USD bn, "
                       "midpoint, each company's basis)", "#,##0,")
    for i, t in enumerate(guided_tickers()):
        c = FIRST_COL + 1 + i
        raised.add_series({"name": t, "categories": cats,
                           "values": f"={SHEET}!{abs_ref(dates[0], c)}:{abs_ref(dates[-1], c)}",
                           "line": {"color": COLOURS.get(t, "#000000"), "width": 2},
                           "marker": {"type": "circle", "size": 4,
                                      "fill": {"color": COLOURS.get(t, "#000000")},
                                      "border": {"color": COLOURS.get(t, "#000000")}}})
    raised.set_x_axis({"num_format": "@", "label_position": "low"})
    oc = OUTCOME_COLUMNS
    first, last = lay.outcome_first + 1, lay.outcome_first + lay.outcome_rows - 1
    cats2 = (f"={SHEET}!{abs_ref(first, FIRST_COL)}:"
             f"{abs_ref(last, FIRST_COL + oc.index('guided_fiscal_year'))}")
    outcome = new_chart(ctx, "column", "Guidance vs outcome: first guide, latest guide and "
                        "reported capex (USD bn, same basis)", "#,##0,")
    for key, name, colour in (("first_mid_musd", "First guide (mid)", "#BFBFBF"),
                              ("latest_mid_musd", "Latest guide (mid)", "#7F7F7F"),
                              ("actual_musd", "Reported", "#1F3864")):
        c = FIRST_COL + oc.index(key)
        outcome.add_series({"name": name, "categories": cats2,
                            "values": f"={SHEET}!{abs_ref(first, c)}:{abs_ref(last, c)}",
                            "fill": {"color": colour}, "border": {"none": True}})
    outcome.set_x_axis({"num_format": "@", "label_position": "low"})
    # beside the path table (its columns H.. are empty): the exhibits come first
    for i, ch in enumerate((raised, outcome)):
        row = lay.chart_row + i * 17
        ws.insert_chart(row, CHART_COL, ch)
        ws.write_string(row + 15, CHART_COL, CHART_SOURCE, s("note"))
