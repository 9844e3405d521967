"""The Cover sheet: title, buttons, as-of and vintage stamps, master check, sheet checks and
alerts, contents, legend and disclaimer (WORKBOOK_STYLE.md §2, §8)."""

from __future__ import annotations

from typing import Any

from aicapex import __version__
from aicapex.excel import layout as L
from aicapex.excel import vba, web
from aicapex.excel.sheetkit import BuildContext, alert_format, check_format, print_setup
from aicapex.excel.styles import TAB_COLOURS

TITLE = "AI Capex Monitor"
DISCLAIMER = (
    "For information only; not an offer or a recommendation. Figures come from company filings, "
    "earnings releases and secondary sources (graded on Data and Sources), believed reliable but "
    "not guaranteed. Scenario assumptions are illustrative, not forecasts."
)


def _working_area(ctx: BuildContext, name: str) -> str:
    """The cells of a timeline sheet below its header, from column D to the last period."""
    ws = ctx.sheets[name]
    last_row = max(getattr(ws, "dim_rowmax", None) or L.HEADER_ROWS + 1, L.HEADER_ROWS + 1)
    return (f"{name}!{L.cell(L.HEADER_ROWS, 3, True, True)}:"
            f"{L.cell(last_row, ctx.timeline.last_period_col, True, True)}")


def write_cover(ctx: BuildContext, ws: Any) -> None:
    """Write the Cover; call it after the timeline sheets (its checks read their extent)."""
    s = ctx.styles
    ws.set_tab_color(TAB_COLOURS["Cover"])
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 22)
    ws.set_column(3, 3, 70)
    ws.write_string(0, 1, TITLE, s("title"))
    ws.write_string(1, 1, "AI infrastructure capex, funding and power economics of the hyperscalers",
                    s("subtitle"))
    # Buttons top left (rows 3-4), each with a one-line caption beside it.
    vba.add_button(ws, "B3", "SampleCall", "Refresh data", width=150, height=22)
    ws.write_string(2, 3, "Refresh: reload data, recompute and restamp (runs ai_capex_monitor.main)", s("note"))
    web.add_web_button(ws)  # the same Refresh on Excel on the web (xlwings Server)
    vba.add_button(ws, "B5", "ImportPythonUDFs", "Import Functions", width=150, height=22)
    ws.write_string(4, 3, "Import Functions: register the CPX_ functions (once per machine)", s("note"))
    r, c = L.COVER_AS_OF
    ws.write_string(r, 1, "As of (newest fiscal year end)", s("label"))
    ws.write_formula(r, c, '=""', s("calc", "date"), "")
    ws.write_string(r, 3, "Stamped by Refresh: the newest fiscal year end in the data; quarters "
                    "can be newer (each company's latest quarter: vintage table below)", s("note"))
    ws.write_string(L.COVER_REFRESHED[0], 1, "Last refreshed", s("label"))
    ws.write_string(L.COVER_REFRESHED[0], 2, "not yet refreshed", s("calc"))
    ws.write_string(L.COVER_VINTAGE[0], 1, "Data vintage (latest fiscal year per company)",
                    s("label"))
    ws.write_string(L.COVER_VINTAGE[0], 2, "", s("calc"))
    r, c = L.COVER_MASTER
    ws.write_string(r, 1, "Master check", s("label_bold"))
    first_status = L.COVER_STATUS_FIRST + 1
    n_status = sum(1 for name in ctx.sheets if name in L.TIMELINE_SHEETS)
    ws.write_formula(r, c, f"=MIN(1,SUM({L.cell(first_status, 2)}:"
                     f"{L.cell(first_status + n_status - 1, 2)}))", s("calc", "check"), 0)
    check_format(ctx, ws, L.cell(r, c))
    ws.write_string(r, 3, "0 = every check passes; see the Checks block of each workings sheet", s("note"))
    row = L.COVER_STATUS_FIRST
    ws.write_string(row, 1, "Sheet checks", s("section"))
    ws.write_string(row, 2, "checks", s("section"))
    ws.write_string(row, 3, "engine errors other than #N/A (documented gaps); the refresh "
                    "names each cell", s("section"))
    row += 1
    status_cells = []
    for name in ctx.sheets:
        if name not in L.TIMELINE_SHEETS:
            continue
        # A sheet fails when one of its checks fails or when any cell holds an engine error
        # that is not a documented missing figure (#N/A): a coupon typed as 6 instead of 6%
        # fills Scenarios with #VALUE!, and the master check must say so, naming the sheet.
        errors = f"SUMPRODUCT(--ISERROR({_working_area(ctx, name)}))-" \
                 f"SUMPRODUCT(--ISNA({_working_area(ctx, name)}))"
        ws.write_url(row, 1, f"internal:'{name}'!A1", s("hyperlink"), string=name)
        ws.write_formula(row, 3, f"={errors}", s("calc", "errors"), 0)
        ws.write_formula(row, 2, f"=MIN(1,{name}!$D$3+{L.cell(row, 3)})", s("link", "check"), 0)
        check_format(ctx, ws, L.cell(row, 2))
        status_cells.append(L.cell(row, 2))
        row += 1
    lay = ctx.ratios
    ws.write_string(row, 1, "Alerts (reported, not failing)", s("label"))
    refs = [f"Ratios!{L.cell(lay.alert_rows['total'], 3, True, True)}", *ctx.alert_refs]
    ws.write_formula(row, 2, "=" + "+".join(refs), s("calc", "alert"), 0)
    alert_format(ctx, ws, L.cell(row, 2))
    row += 2
    assert row <= L.COVER_VINTAGE_TABLE, "Cover status block runs into the vintage table"
    row = L.COVER_VINTAGE_TABLE
    ws.write_string(row, 1, "Data vintage by company (newest figure in the data)", s("section"))
    ws.write_string(row, 2, "", s("section"))
    ws.write_string(row, 3, "", s("section"))
    for i in range(L.COVERAGE_SLOTS):  # refresh writes: ticker, period end, what the period is
        ws.write_blank(row + 1 + i, 1, None, s("label_indent"))
        ws.write_blank(row + 1 + i, 2, None, s("calc", "date"))
        ws.write_blank(row + 1 + i, 3, None, s("note"))
    row += 1 + L.COVERAGE_SLOTS + 1
    ws.write_string(row, 1, "Contents", s("section"))
    ws.write_string(row, 2, "", s("section"))
    ws.write_string(row, 3, "", s("section"))
    row += 1
    descriptions = {
        "Inputs": "coverage, timeline, tolerances and assumptions (blue cells are inputs)",
        "Data": "tblData: every reported figure with its source",
        "Ratios": "per company and fiscal year: capex/OCF, FCF, D&A/revenue, leases, net debt; peer block",
        "Scenarios": "financing scenarios on the 5-10 year timeline",
        "Power_Cloud": "tokens per watt, capex per MW, AI-cloud backlog",
        "ROI": "return on AI capex: revenue each vintage must earn vs revenue growth; $600B gap",
        "Dashboard": "the report's exhibits as charts",
        "Sources": "the filing behind each figure",
        "Changes": "what the last refresh changed",
        "xlwings.conf": "xlwings settings: UDF Modules = aicapex.udfs (analyst copy only)",
    }
    for name in ctx.sheets:
        if name == "Cover":
            continue
        ws.write_url(row, 1, f"internal:'{name}'!A1", s("hyperlink"), string=name)
        ws.write_string(row, 3, descriptions.get(name, ""), s("note"))
        row += 1
    row += 1
    ws.write_string(row, 1, "Legend", s("section"))
    ws.write_string(row, 2, "", s("section"))
    ws.write_string(row, 3, "", s("section"))
    row += 1
    for role, text in [
        ("input", "Input: type here (blue on light yellow)"),
        ("calc", "Formula on the same sheet (black)"),
        ("link", "Link from another sheet (green)"),
        ("engine", "Engine result: computed by the CPX engine (purple)"),
        ("note", "Note or source (grey italic)"),
    ]:
        ws.write_string(row, 1, text.split(":")[0], s(role))
        ws.write_string(row, 3, text, s("note"))
        row += 1
    ws.write_string(row, 1, "Units: USD millions unless stated; % = fraction of; x = times", s("note"))
    row += 2
    ws.write_string(row, 1, "Disclaimer", s("label_top"))
    ws.write_string(row, 3, DISCLAIMER, s("wrap"))
    ws.set_row(row, 40)
    ws.write_string(row + 1, 1, f"aicapex {__version__}", s("note"))
    print_setup(ws, TITLE)
