"""Build the analyst workbook ``ai_capex_monitor.xlsm`` with XlsxWriter, without Excel.

The layout follows WORKBOOK_STYLE.md (FAST: inputs → data → workings → outputs → audit); cell
positions come from :mod:`aicapex.excel.layout`, styles from :mod:`aicapex.excel.styles`, the
VBA project and buttons from the installed xlwings package (:mod:`aicapex.excel.vba`).
Sheet sections that other modules contribute (scenarios, power) register a writer in
:data:`EXTRA_SHEETS`.

The template holds formulas only; ``python -m aicapex refresh`` (or the workbook's Refresh
button) fills the data tables and stamps the cached values.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter

from aicapex import __version__
from aicapex.data.dataset import Dataset
from aicapex.excel import layout as L
from aicapex.excel import vba
from aicapex.excel.styles import COMPANY_COLOURS, TAB_COLOURS, Styles

TITLE = "AI Capex Monitor"
PURPOSE_TIMELINE = "USD millions unless stated; fiscal years as reported (MSFT ends June, ORCL May, AAPL September)"
DISCLAIMER = (
    "For information only; not an offer or a recommendation. Figures come from company filings "
    "believed reliable but not guaranteed. Scenario assumptions are illustrative, not forecasts."
)
#: Fixed document date so that two builds of the template are identical.
BUILD_DATE = dt.datetime(2026, 1, 1)


@dataclass
class BuildContext:
    wb: Any
    styles: Styles
    ds: Dataset
    ratios: L.RatiosLayout
    sheets: dict[str, Any]
    #: Extra Inputs sections contributed by the extra sheets: (title, rows).
    input_sections: list[tuple[str, list[L.InputRow]]] = field(default_factory=list)
    #: Absolute references of the extra sheets' alert counts (added up on the Cover).
    alert_refs: list[str] = field(default_factory=list)


#: Extra timeline sheets: sheet name -> module with ``write_sheet(ctx, worksheet)``.
EXTRA_SHEET_MODULES = {
    "Scenarios": "aicapex.excel.sheet_scenarios",
    "Power_Cloud": "aicapex.excel.sheet_power",
    "ROI": "aicapex.excel.sheet_roi",
}


def extra_sheets() -> dict[str, Any]:
    """The extra sheet modules that are installed, in tab order. Each has
    ``write_sheet(ctx, ws)`` and may have ``INPUT_SECTION = (title, [InputRow, ...])``."""
    out = {}
    for name, module_name in EXTRA_SHEET_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        out[name] = module
    return out


def _timeline_header(ctx: BuildContext, ws: Any, title: str, purpose: str) -> None:
    """Rows 1-5 of a timeline sheet: title, purpose, checks, fiscal year, actual flag."""
    s = ctx.styles
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3, 12)
    ws.set_column(4, 4, 3)
    ws.set_column(L.FIRST_PERIOD_COL, L.LAST_PERIOD_COL, 11)
    ws.set_column(L.NOTES_COL, L.NOTES_COL, 40)
    ws.write_string(0, 1, title, s("title"))
    ws.write_string(1, 1, purpose, s("subtitle"))
    ws.write_string(2, 1, "Sheet check / master check", s("label"))
    ws.write_string(2, 2, "flag", s("unit"))
    ws.write_string(3, 1, "Fiscal year", s("label_bold"))
    ws.write_string(4, 1, "Actual period flag (1 = reported, 0 = estimate)", s("label"))
    ws.write_string(4, 2, "flag", s("unit"))
    first = L.FIRST_PERIOD_COL
    for c in range(first, L.LAST_PERIOD_COL + 1):
        fy = L.FIRST_FY + (c - first)
        role = "period_actual" if fy <= L.LAST_ACTUAL_FY else "period_estimate"
        if c == first:
            ws.write_formula(3, c, "=in_FirstFY", s(role), fy)
        else:
            ws.write_formula(3, c, f"={L.cell(3, c - 1)}+1", s(role), fy)
        ws.write_formula(4, c, f"=--({L.cell(3, c, True)}<=in_LastActualFY)", s("calc", "year"),
                         int(fy <= L.LAST_ACTUAL_FY))
    ws.write_string(3, L.NOTES_COL, "Notes and sources", s("label_bold"))
    ws.freeze_panes(5, 5)
    ws.set_tab_color(TAB_COLOURS.get(ws.name, "#7F7F7F"))
    _print_setup(ws, title, timeline=True)


def _sheet_check_cells(ctx: BuildContext, ws: Any, total_ref: str) -> None:
    s = ctx.styles
    ws.write_formula(2, 3, f"={total_ref}", s("calc", "check"), 0)
    ws.write_formula(2, 5, "=chk_Master", s("link", "check"), 0)
    _check_format(ctx, ws, "D3:F3")


def _check_format(ctx: BuildContext, ws: Any, rng: str) -> None:
    s = ctx.styles
    ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": 0, "format": s.conditional["ok"]})
    ws.conditional_format(rng, {"type": "cell", "criteria": ">", "value": 0, "format": s.conditional["error"]})


def _alert_format(ctx: BuildContext, ws: Any, rng: str) -> None:
    ws.conditional_format(rng, {"type": "cell", "criteria": ">", "value": 0,
                                "format": ctx.styles.conditional["alert"]})


def _print_setup(ws: Any, title: str, timeline: bool = False) -> None:
    ws.set_landscape()
    ws.set_paper(1)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, 4)
    if timeline:
        ws.repeat_columns(0, 2)
        ws.print_area(0, 0, 400, L.NOTES_COL)
    ws.set_header(f"&L&8{title.replace('&', '&&')}&R&8AI Capex Monitor")
    ws.set_footer("&L&8Source: company filings; see Sources&C&8&A&R&8Page &P of &N")


# -- Cover ---------------------------------------------------------------------------------------


def write_cover(ctx: BuildContext, ws: Any) -> None:
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
    vba.add_button(ws, "B5", "ImportPythonUDFs", "Import Functions", width=150, height=22)
    ws.write_string(4, 3, "Import Functions: register the CPX_ functions (once per machine)", s("note"))
    r, c = L.COVER_AS_OF
    ws.write_string(r, 1, "As of (data cut-off)", s("label"))
    ws.write_formula(r, c, '=""', s("calc", "date"), "")
    ws.write_string(r, 3, "Stamped by Refresh", s("note"))
    ws.write_string(L.COVER_REFRESHED[0], 1, "Last refreshed", s("label"))
    ws.write_string(L.COVER_REFRESHED[0], 2, "not yet refreshed", s("calc"))
    ws.write_string(L.COVER_VINTAGE[0], 1, "Data vintage (latest fiscal year end)", s("label"))
    ws.write_string(L.COVER_VINTAGE[0], 2, "", s("calc"))
    r, c = L.COVER_MASTER
    ws.write_string(r, 1, "Master check", s("label_bold"))
    totals = [f"{name}!$D$3" for name in ctx.sheets if name in L.TIMELINE_SHEETS]
    ws.write_formula(r, c, f"=MIN(1,{'+'.join(totals)})", s("calc", "check"), 0)
    _check_format(ctx, ws, L.cell(r, c))
    ws.write_string(r, 3, "0 = every check passes; see the Checks block of each workings sheet", s("note"))
    row = L.COVER_STATUS_FIRST
    ws.write_string(row, 1, "Sheet checks", s("section"))
    ws.write_string(row, 2, "", s("section"))
    ws.write_string(row, 3, "", s("section"))
    row += 1
    for name in ctx.sheets:
        if name not in L.TIMELINE_SHEETS:
            continue
        ws.write_url(row, 1, f"internal:'{name}'!A1", s("hyperlink"), string=name)
        ws.write_formula(row, 2, f"={name}!$D$3", s("link", "check"), 0)
        _check_format(ctx, ws, L.cell(row, 2))
        row += 1
    lay = ctx.ratios
    ws.write_string(row, 1, "Alerts (reported, not failing)", s("label"))
    refs = [f"Ratios!{L.cell(lay.alert_rows['total'], 3, True, True)}", *ctx.alert_refs]
    ws.write_formula(row, 2, "=" + "+".join(refs), s("calc", "alert"), 0)
    _alert_format(ctx, ws, L.cell(row, 2))
    row += 2
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
    _print_setup(ws, TITLE)


# -- Inputs --------------------------------------------------------------------------------------


def write_inputs(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    ws.set_tab_color(TAB_COLOURS["Inputs"])
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3, 12)
    ws.set_column(4, 4, 3)
    ws.set_column(5, 5, 60)
    ws.write_string(0, 1, "Inputs", s("title"))
    ws.write_string(1, 1, "Every assumption of the model; blue cells are inputs. Refresh never changes them.",
                    s("subtitle"))
    ws.write_string(2, 1, "Master check", s("label"))
    ws.write_formula(2, 3, "=chk_Master", s("link", "check"), 0)
    _check_format(ctx, ws, "D3")
    ws.freeze_panes(5, 0)
    r = L.COVERAGE_HEADER_ROW
    ws.write_string(r, 1, "Coverage (fixed block order on Ratios)", s("section"))
    for c in range(2, 6):
        ws.write_string(r, c, "", s("section"))
    tickers = ctx.ds.tickers
    for i, t in enumerate(L.COVERAGE):
        ws.write_string(r + 1 + i, 1, f"{L.COMPANY_NAMES[t]} (FY ends {L.FY_END[t]})", s("label_indent"))
        ws.write_string(r + 1 + i, 2, "ticker", s("unit"))
        ws.write_string(r + 1 + i, 3, t, s("input"))
        ws.data_validation(r + 1 + i, 3, r + 1 + i, 3, {
            "validate": "list", "source": tickers, "error_type": "stop",
            "input_title": "Ticker", "input_message": "A covered company (see Data)"})
    sections = [("Timeline, checks and alerts", L.INPUT_ROWS)] + list(ctx.input_sections)
    r = L.INPUTS_FIRST_ROW - 1
    for title, rows in sections:
        ws.write_string(r, 1, title, s("section"))
        for c in range(2, 6):
            ws.write_string(r, c, "", s("section"))
        for i, row in enumerate(rows):
            _write_input_row(ctx, ws, r + 1 + i, row)
        r += len(rows) + 2
    _print_setup(ws, "Inputs")


def _write_input_row(ctx: BuildContext, ws: Any, rr: int, row: L.InputRow) -> None:
    s = ctx.styles
    ws.write_string(rr, 1, row.label, s("label"))
    ws.write_string(rr, 2, row.unit, s("unit"))
    if isinstance(row.value, str):
        ws.write_string(rr, 3, row.value, s("input"))
    else:
        num = {"FY": "year", "years": "year", "days": "year", "%": "pct", "$m": "musd1",
               "x": "phys", "MW": "phys", "$/MWh": "musd1", "$/Mtok": "phys"}.get(row.unit)
        ws.write_number(rr, 3, float(row.value), s("input", num))
    if row.validation:
        ws.data_validation(rr, 3, rr, 3, {**row.validation, "error_type": "stop",
                                           "input_title": row.label[:32],
                                           "input_message": f"{row.unit}: {row.note}"[:255]})
    ws.write_string(rr, 5, row.note, s("note"))
    if row.name:
        ctx.wb.define_name(row.name, f"=Inputs!{L.cell(rr, 3, True, True)}")


# -- Data, Sources, Changes ----------------------------------------------------------------------


def _table_sheet(ctx: BuildContext, ws: Any, title: str, purpose: str, name: str,
                 columns: list[str], rows: list[list[Any]], widths: list[int]) -> None:
    s = ctx.styles
    ws.set_tab_color(TAB_COLOURS.get(ws.name, "#595959"))
    ws.write_string(0, 0, title, s("title"))
    ws.write_string(1, 0, purpose, s("subtitle"))
    ws.write_string(2, 0, "Master check", s("label"))
    ws.write_formula(2, 1, "=chk_Master", s("link", "check"), 0)
    _check_format(ctx, ws, "B3")
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    write_table(ctx, ws, name, columns, rows)
    ws.freeze_panes(L.DATA_HEADER_ROW + 1, 0)
    _print_setup(ws, title)


def write_table(ctx: BuildContext, ws: Any, name: str, columns: list[str], rows: list[list[Any]]) -> None:
    """An Excel Table with its header on row 5; text written as text, never as a formula."""
    s = ctx.styles
    body = rows or [[""] * len(columns)]
    first = L.DATA_HEADER_ROW
    ws.add_table(first, 0, first + len(body), len(columns) - 1, {
        "name": name, "style": "Table Style Light 9",
        "columns": [{"header": c} for c in columns]})
    for i, row in enumerate(body):
        for j, v in enumerate(row):
            rr = first + 1 + i
            if isinstance(v, str):
                if columns[j] == "url" and v:
                    ws.write_url(rr, j, v, s("hyperlink"), string=v)
                else:
                    ws.write_string(rr, j, v, s("table_text"))
            elif v is None:
                ws.write_blank(rr, j, None)
            elif columns[j] in ("fiscal_year",):
                ws.write_number(rr, j, v, s("calc", "year"))
            else:
                ws.write_number(rr, j, v, s("calc", "musd"))


def data_rows(ds: Dataset) -> list[list[Any]]:
    frame = ds.annual
    out = []
    for r in frame[L.DATA_COLUMNS].itertuples(index=False):
        out.append([r.ticker, int(r.fiscal_year), r.fiscal_year_end, r.field, float(r.value_musd),
                    r.source, r.note or ""])
    return out


def source_rows(ds: Dataset) -> list[list[Any]]:
    from aicapex.data.provenance import parse_source

    out = []
    for r in ds.annual.itertuples(index=False):
        p = parse_source(r.ticker, r.source)
        out.append([r.ticker, int(r.fiscal_year), r.field, float(r.value_musd), p.form, p.accession,
                    r.source, p.url, r.note or ""])
    return out


# -- Ratios --------------------------------------------------------------------------------------


def write_ratios(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    lay = ctx.ratios
    _timeline_header(ctx, ws, "Ratios", PURPOSE_TIMELINE)
    _sheet_check_cells(ctx, ws, L.cell(lay.sheet_total_row, 3, True, True))
    for t, b in lay.blocks.items():
        _section(ctx, ws, b.header_row, f"{L.COMPANY_NAMES[t]} ({t}), fiscal year ends {L.FY_END[t]}")
        ws.write_string(b.header_row, 3, t, s("section"))
        key = L.cell(b.header_row, 3, True, True)
        for link in L.LINK_ROWS:
            r = b.rows[link.field]
            ws.write_string(r, 1, link.label, s("label_indent"))
            ws.write_string(r, 2, link.unit, s("unit"))
            ws.write_string(r, 3, link.field, s("key"))
            for c in L.actual_cols():
                f = f"=CPX_VALUE({key},$D{r + 1},{L.col(c)}$4)"
                ws.write_formula(r, c, f, s.for_unit("engine", link.unit), 0)
            ws.write_string(r, L.NOTES_COL, f"Reported {link.field}; source: Sources sheet", s("note"))
        for calc in L.CALC_ROWS:
            r = b.rows[calc.key]
            ws.write_string(r, 1, calc.label, s("label"))
            ws.write_string(r, 2, calc.unit, s("unit"))
            for c in L.actual_cols():
                args = ",".join(f"{L.col(c)}{b.rows[a] + 1}" for a in calc.args)
                ws.write_formula(r, c, f"={calc.function}({args})", s.for_unit("engine", calc.unit), 0)
        r = b.highest_since_row
        ratio_row = b.rows["capex_to_ocf"]
        ws.write_string(r, 1, "Capex / OCF: highest since (fiscal year)", s("label"))
        ws.write_string(r, 2, "FY", s("unit"))
        ws.write_formula(r, 3, f"=CPX_HIGHEST_SINCE({L.period_range(ratio_row)},{L.period_range(3, absolute=True)})",
                         s("engine", "year"), 0)
        ws.write_string(r, L.NOTES_COL, "Last fiscal year with capex/OCF at least as high as the latest",
                        s("note"))
        r = b.check_row
        ws.write_string(r, 1, "Check: FCF = OCF - capex (0 = holds)", s("label"))
        ws.write_string(r, 2, "flag", s("unit"))
        for c in L.actual_cols():
            fcf = f"{L.col(c)}{b.rows['fcf'] + 1}"
            ocf = f"{L.col(c)}{b.rows['ocf'] + 1}"
            capex = f"{L.col(c)}{b.rows['capex'] + 1}"
            ws.write_formula(r, c, f"=IF(ISNUMBER({fcf}),--(ABS({ocf}-{capex}-{fcf})>in_CheckTol),0)",
                             s("calc", "check"), 0)
        _check_format(ctx, ws, f"{L.period_range(r)}")
    _write_peer(ctx, ws)
    _write_ratio_checks(ctx, ws)


def _section(ctx: BuildContext, ws: Any, r: int, text: str) -> None:
    s = ctx.styles
    ws.write_string(r, 1, text, s("section"))
    for c in range(2, L.LAST_PERIOD_COL + 1):
        ws.write_blank(r, c, None, s("section"))


def _write_peer(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    lay = ctx.ratios
    peers = [t for t in L.PEER_SET if t in lay.blocks]
    _section(ctx, ws, lay.peer_header, f"Peer aggregate: {'+'.join(peers)} (sum of fiscal years)")
    labels = {
        "capex": ("Capex, sum", "$m"),
        "ocf": ("Operating cash flow, sum", "$m"),
        "revenue": ("Revenue, sum", "$m"),
        "da_cashflow": ("D&A, sum", "$m"),
        "capex_to_ocf": ("Capex / OCF (ratio of sums)", "%"),
        "fcf": ("Free cash flow (sum OCF - sum capex)", "$m"),
        "fcf_margin": ("FCF margin (ratio of sums)", "%"),
        "da_to_revenue": ("D&A / revenue (ratio of sums)", "%"),
        "company_fcf_sum": ("Sum of company FCF rows (engine)", "$m"),
    }
    p = lay.peer_rows
    for key, r in p.items():
        label, unit = labels[key]
        ws.write_string(r, 1, label, s("total" if key in ("capex_to_ocf",) else "label"))
        ws.write_string(r, 2, unit, s("unit"))
        for c in L.actual_cols():
            cl = L.col(c)
            if key in ("capex", "ocf", "revenue", "da_cashflow"):
                f = "=SUM(" + ",".join(f"{cl}{lay.blocks[t].rows[key] + 1}" for t in peers) + ")"
            elif key == "capex_to_ocf":
                f = f"={cl}{p['capex'] + 1}/{cl}{p['ocf'] + 1}"
            elif key == "fcf":
                f = f"={cl}{p['ocf'] + 1}-{cl}{p['capex'] + 1}"
            elif key == "fcf_margin":
                f = f"={cl}{p['fcf'] + 1}/{cl}{p['revenue'] + 1}"
            elif key == "da_to_revenue":
                f = f"={cl}{p['da_cashflow'] + 1}/{cl}{p['revenue'] + 1}"
            else:
                f = "=SUM(" + ",".join(f"{cl}{lay.blocks[t].rows['fcf'] + 1}" for t in peers) + ")"
            ws.write_formula(r, c, f, s.for_unit("calc", unit), 0)
    ws.write_string(p["capex_to_ocf"], L.NOTES_COL, "Ratio of sums over the same companies and years, "
                    "never a mean of company ratios", s("note"))


def _write_ratio_checks(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    lay = ctx.ratios
    _section(ctx, ws, lay.checks_header, "Checks (0 = pass) and alerts")
    first_check = min(lay.check_rows.values())
    for key, r in lay.check_rows.items():
        if key.startswith("fcf_"):
            t = key[4:]
            b = lay.blocks[t]
            ws.write_string(r, 1, f"FCF = OCF - capex holds for {t} in every year", s("label"))
            rng = L.period_range(b.check_row)
            ws.write_formula(r, 3, f"=MIN(1,SUM({rng}))", s("calc", "check"), 0)
        else:
            p = lay.peer_rows
            ws.write_string(r, 1, "Peer FCF equals the sum of the company FCF rows", s("label"))
            for c in L.actual_cols():
                cl = L.col(c)
                ws.write_formula(
                    r, c,
                    f"=IF(ISNUMBER({cl}{p['fcf'] + 1}),--(ABS({cl}{p['fcf'] + 1}-{cl}{p['company_fcf_sum'] + 1})>in_CheckTol),0)",
                    s("calc", "check"), 0)
            ws.write_formula(r, 3, f"=MIN(1,SUM({L.period_range(r)}))", s("calc", "check"), 0)
            _check_format(ctx, ws, L.period_range(r))
        ws.write_string(r, 2, "flag", s("unit"))
        _check_format(ctx, ws, L.cell(r, 3))
    # Alerts: reported, not failing.
    a = lay.alert_rows
    for t, b in lay.blocks.items():
        r = a[f"capex_{t}"]
        ws.write_string(r, 1, f"Alert: {t} years with capex / OCF above the alert level", s("label"))
        ws.write_formula(r, 3, f'=COUNTIFS({L.period_range(b.rows["capex_to_ocf"])},">"&in_CapexAlert)',
                         s("calc", "alert"), 0)
        r = a[f"gaps_{t}"]
        links = (f"{L.cell(b.rows[L.LINK_ROWS[0].field], L.FIRST_PERIOD_COL)}:"
                 f"{L.cell(b.rows[L.LINK_ROWS[-1].field], L.FIRST_PERIOD_COL + L.N_ACTUAL - 1)}")
        ws.write_string(r, 1, f"Alert: {t} reported figures missing (known gaps, see SOURCES)", s("label"))
        ws.write_formula(r, 3, f"=SUMPRODUCT(--ISERROR({links}))", s("calc", "alert"), 0)
    r = a["stale"]
    asof, stamp = (f"Cover!{L.cell(*L.COVER_AS_OF, True, True)}",
                   f"Cover!{L.cell(*L.COVER_REFRESHED, True, True)}")
    ws.write_string(r, 1, "Alert: newest fiscal year end older than the staleness limit", s("label"))
    ws.write_formula(r, 3, f"=IF(ISNUMBER({stamp}),--({stamp}-{asof}>in_StaleDays),0)",
                     s("calc", "alert"), 0)
    ws.write_string(r, L.NOTES_COL, "Days from the as-of date to the last refresh, against "
                    "in_StaleDays on Inputs", s("note"))
    first_alert = min(v for k, v in a.items() if k != "total")
    ws.write_string(a["total"], 1, "Alerts total", s("total"))
    ws.write_formula(a["total"], 3, f"=SUM({L.cell(first_alert, 3)}:{L.cell(a['total'] - 1, 3)})",
                     s("total", "alert"), 0)
    for r in a.values():
        ws.write_string(r, 2, "alert", s("unit"))
        _alert_format(ctx, ws, L.cell(r, 3))
    r = lay.sheet_total_row
    ws.write_string(r, 1, "Sheet check (0 = all checks pass)", s("total"))
    ws.write_string(r, 2, "flag", s("unit"))
    last_check = max(lay.check_rows.values())
    ws.write_formula(r, 3, f"=MIN(1,SUM({L.cell(first_check, 3)}:{L.cell(last_check, 3)}))",
                     s("total", "check"), 0)
    _check_format(ctx, ws, L.cell(r, 3))


# -- Dashboard -----------------------------------------------------------------------------------


def _series_ref(r: int) -> str:
    return f"=Ratios!{L.period_range(r, absolute=True)}"


def _categories() -> str:
    return f"=Ratios!{L.period_range(3, absolute=True)}"


def _chart(ctx: BuildContext, kind: str, title: str, num_format: str, subtype: str | None = None) -> Any:
    opts = {"type": kind}
    if subtype:
        opts["subtype"] = subtype
    ch = ctx.wb.add_chart(opts)
    ch.set_title({"name": title, "name_font": {"size": 11}})
    ch.set_legend({"position": "bottom"})
    ch.set_y_axis({"num_format": num_format, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
                   "min": 0 if kind in ("column", "line") and subtype != "clustered_neg" else None})
    ch.set_x_axis({"num_format": '"FY"0'})
    ch.set_size({"width": 480, "height": 288})
    return ch


def write_dashboard(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    lay = ctx.ratios
    ws.set_tab_color(TAB_COLOURS["Dashboard"])
    ws.write_string(0, 1, "Dashboard", s("title"))
    ws.write_string(1, 1, "The report's exhibits, drawn from the Ratios sheet; fiscal years as reported",
                    s("subtitle"))
    span = f"FY{L.FIRST_FY}–FY{L.LAST_ACTUAL_FY}"
    charts: list[Any] = []

    def per_company(ch: Any, key: str, dash: bool = False) -> None:
        for t, b in lay.blocks.items():
            colour = COMPANY_COLOURS[t]
            series = {"name": t, "categories": _categories(), "values": _series_ref(b.rows[key])}
            if type(ch).__name__ == "ChartLine":
                series["line"] = {"color": colour, "width": 2}
                series["marker"] = {"type": "circle", "size": 4, "fill": {"color": colour},
                                    "border": {"color": colour}}
            else:
                series["fill"] = {"color": colour}
                series["border"] = {"none": True}
            ch.add_series(series)

    ch = _chart(ctx, "column", f"Capex by company, {span} ($bn)", "#,##0,", "stacked")
    per_company(ch, "capex")
    charts.append(ch)
    ch = _chart(ctx, "line", f"Capex / operating cash flow, {span} (%)", "0%")
    per_company(ch, "capex_to_ocf")
    ch.add_series({"name": "Peer (ratio of sums)", "categories": _categories(),
                   "values": _series_ref(lay.peer_rows["capex_to_ocf"]),
                   "line": {"color": COMPANY_COLOURS["PEER"], "width": 2.5, "dash_type": "dash"}})
    charts.append(ch)
    ch = _chart(ctx, "column", f"Free cash flow by company, {span} ($bn)", "#,##0,")
    ch.set_y_axis({"num_format": "#,##0,", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    per_company(ch, "fcf")
    charts.append(ch)
    ch = _chart(ctx, "line", f"D&A / revenue, {span} (%)", "0%")
    per_company(ch, "da_to_revenue")
    charts.append(ch)
    ch = _chart(ctx, "line", f"Operating-lease ROU assets / PP&E, {span} (%)", "0%")
    per_company(ch, "lease_to_fixed")
    charts.append(ch)
    ch = _chart(ctx, "column", f"Debt issuance proceeds, {span} ($bn)", "#,##0,")
    per_company(ch, "debt_issuance_proceeds")
    charts.append(ch)
    for i, chart in enumerate(charts):
        row = 3 + (i // 2) * 17
        col = 1 + (i % 2) * 9
        ws.insert_chart(row, col, chart)
        ws.write_string(row + 15, col, "Source: company 10-K/10-Q filings (SEC EDGAR); AI Capex Monitor "
                        "calculations. Data as of the Cover date.", s("note"))
    _print_setup(ws, "Dashboard")


# -- xlwings.conf --------------------------------------------------------------------------------


def write_conf(ctx: BuildContext) -> None:
    rows = vba.xlwings_conf_rows(L.UDF_MODULE)
    vba.add_conf_sheet(ctx.wb, rows)


# -- the whole workbook --------------------------------------------------------------------------


def build_analyst_workbook(path: str | Path, ds: Dataset) -> Path:
    """Write the analyst template to ``path`` (an ``.xlsm``); returns the path."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False})
    wb.set_properties({"title": TITLE, "subject": "AI infrastructure capex of the hyperscalers",
                       "company": "AI Capex Workbench", "author": "", "created": BUILD_DATE})
    wb.set_calc_mode("auto")
    styles = Styles(wb)
    extras = extra_sheets()
    names = [n for n in L.SHEETS if n != "xlwings.conf" and (n not in EXTRA_SHEET_MODULES or n in extras)]
    sheets = {n: wb.add_worksheet(n) for n in names}
    sections = [m.INPUT_SECTION for m in extras.values() if hasattr(m, "INPUT_SECTION")]
    alerts = [m.alert_ref(ds) for m in extras.values() if hasattr(m, "alert_ref")]
    ctx = BuildContext(wb, styles, ds, L.ratios_layout(), sheets, sections, alerts)
    write_cover(ctx, sheets["Cover"])
    write_inputs(ctx, sheets["Inputs"])
    _table_sheet(ctx, sheets["Data"], "Data", "Reported figures, USD millions, one per row, with source "
                 "(refresh rewrites this table)", "tblData", L.DATA_COLUMNS, data_rows(ds),
                 [8, 11, 15, 30, 13, 80, 50])
    write_ratios(ctx, sheets["Ratios"])
    for name, module in extras.items():
        module.write_sheet(ctx, sheets[name])
    write_dashboard(ctx, sheets["Dashboard"])
    _table_sheet(ctx, sheets["Sources"], "Sources", "The filing behind each figure (EDGAR link where the "
                 "accession number is known)", "tblSources", L.SOURCES_COLUMNS, source_rows(ds),
                 [8, 11, 30, 13, 8, 22, 80, 60, 50])
    _table_sheet(ctx, sheets["Changes"], "Changes", "What the last refresh changed", "tblChanges",
                 L.CHANGES_COLUMNS, [], [12, 10, 50, 14, 14, 14])
    wb.define_name("in_AsOf", f"=Cover!{L.cell(*L.COVER_AS_OF, True, True)}")
    wb.define_name("chk_Master", f"=Cover!{L.cell(*L.COVER_MASTER, True, True)}")
    write_conf(ctx)
    vba.attach_vba(wb)
    sheets["Cover"].activate()
    wb.close()
    return path
