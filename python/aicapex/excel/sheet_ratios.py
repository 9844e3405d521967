"""The Ratios sheet: one block per company, then the peer block, then checks and alerts.

Each company block is one spilled engine call, ``=CPX_SERIES($D$7,$D8:$D23,F$4:M$4)``: the
row keys in column D (reported fields, then metrics) × the fiscal years of row 4. Excel calls
it once per block instead of once per cell. The peer block and the checks are native formulas
on the spilled cells (ratio of sums, never a mean of ratios).
"""

from __future__ import annotations

from typing import Any

from aicapex.excel import layout as L
from aicapex.excel.sheetkit import (
    BuildContext,
    alert_format,
    check_format,
    section,
    sheet_check_cells,
    timeline_header,
    write_alert_total,
    write_block,
    write_check_total,
)

PURPOSE = ("USD millions unless stated; fiscal years as reported (MSFT ends June, ORCL May, "
           "AAPL September)")


#: Heading of the blocks of the free coverage slots (below the sheet total; not printed in the
#: client copy while they are empty).
FREE_SLOTS_TITLE = ("Free coverage slots: type a ticker into a free slot on Inputs and its "
                    "block fills here at the next recalculation")


def block_keys() -> list[tuple[str, str, str]]:
    """(key, label, unit) of the rows of a company block, in order."""
    return ([(r.field, r.label, r.unit) for r in L.LINK_ROWS]
            + [(r.key, r.label, r.unit) for r in L.CALC_ROWS])


def block_values(ticker: str | None, years: list[int]) -> list[list[Any]]:
    """The block's build-time result: the same function Excel calls."""
    from aicapex.udfs.series import cpx_series

    keys = [[k] for k, _, _ in block_keys()]
    return cpx_series(ticker or "", keys, [years])


def row_definition(ticker: str | None, key: str) -> str:
    """The note beside a block row: what the figure or metric means for this company, on both
    capex bases where they differ, with any basis break (issue: definitions where they are
    read). An empty slot gets the generic meaning."""
    from aicapex.engine import definitions as d

    if ticker is None:
        return "For the company typed on Inputs; see CPX_DEFINITION(ticker, key, basis)"
    if key in {r.field for r in L.LINK_ROWS}:
        text = d.field_definition(ticker, key)
        fields = [key]
    else:
        define = d.capex_definition if key == "capex_on_basis" else (
            lambda t, basis: d.metric_definition(t, key, basis))
        cash, incl = define(ticker, "cash"), define(ticker, "incl-finance-leases")
        text = cash if cash == incl else f"cash basis: {cash}. incl-finance-leases: {incl}"
        fields = ["capex", "ocf", "revenue", "da_cashflow", "ppe_net", "op_lease_rou_assets"]
    breaks = d.break_note(ticker, fields)
    return f"{text}. {breaks[0].upper()}{breaks[1:]}" if breaks else text


def _who(b: L.CompanyBlock) -> str:
    return b.ticker or f"coverage slot {b.slot + 1}"


def write_ratios(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    lay = ctx.ratios
    tl = ctx.timeline
    timeline_header(ctx, ws, "Ratios", PURPOSE)
    sheet_check_cells(ctx, ws, L.cell(lay.sheet_total_row, 3, True, True))
    keys = block_keys()
    for b in lay.blocks.values():
        t = b.ticker
        title = (f"{L.COMPANY_NAMES.get(t, t)} ({t}), fiscal year ends "
                 f"{L.FY_END.get(t, 'as reported')}" if t else
                 f"Coverage slot {b.slot + 1}: the company typed on Inputs")
        section(ctx, ws, b.header_row, title)
        # The block's ticker is the Inputs coverage slot (text, "" when the slot is empty).
        ws.write_formula(b.header_row, 3, f"={L.coverage_cell(b.slot)}&\"\"", s("section"), t or "")
        ticker_ref = L.cell(b.header_row, 3, True, True)
        first = b.rows[keys[0][0]]
        last = b.rows[keys[-1][0]]
        n_links = len(L.LINK_ROWS)
        for i, (key, label, unit) in enumerate(keys):
            r = b.rows[key]
            ws.write_string(r, 1, label, s("label_indent" if i < n_links else "label"))
            ws.write_string(r, 2, unit, s("unit"))
            ws.write_string(r, 3, key, s("key"))
            ws.write_string(r, tl.notes_col, row_definition(t, key), s("note"))
        formula = (f"=CPX_SERIES({ticker_ref},"
                   f"{L.cell(first, 3, False, True)}:{L.cell(last, 3, False, True)},"
                   f"{tl.year_range()},in_CapexBasis)")
        write_block(ws, first, L.FIRST_PERIOD_COL, formula, block_values(t, tl.actual_years),
                    row_formats=[s.for_unit("engine", unit) for _, _, unit in keys])
        r = b.highest_since_row
        ratio_row = b.rows["capex_to_ocf"]
        ws.write_string(r, 1, "Capex / OCF: where the latest reported year stands", s("label"))
        ws.write_string(r, 2, "text", s("unit"))
        ws.write_formula(r, 3, f'=IF({ticker_ref}="","",CPX_HIGHEST_SINCE_TEXT('
                         f"{tl.period_range(ratio_row)},{tl.period_range(3, absolute=True)},TRUE))",
                         s("engine"), "")
        ws.write_string(r, tl.notes_col, "Record high, highest since FY…, or below the FY… peak: "
                        "the words follow the numbers (a fall never reads as a high); years not "
                        "reported yet are left out", s("note"))
        r = b.check_row
        ws.write_string(r, 1, "Check: FCF = OCF - capex deducted in FCF (0 = holds)", s("label"))
        ws.write_string(r, 2, "flag", s("unit"))
        for c in tl.actual_cols():
            fcf = f"{L.col(c)}{b.rows['fcf'] + 1}"
            ocf = f"{L.col(c)}{b.rows['ocf'] + 1}"
            capex = f"{L.col(c)}{b.rows['fcf_capex'] + 1}"  # each company's own FCF definition
            ws.write_formula(r, c, f"=IF(ISNUMBER({fcf}),--(ABS({ocf}-{capex}-{fcf})>in_CheckTol),0)",
                             s("calc", "check"), 0)
        check_format(ctx, ws, tl.period_range(r))
    if lay.free_header is not None:
        section(ctx, ws, lay.free_header, FREE_SLOTS_TITLE)
    write_peer(ctx, ws)
    write_ratio_checks(ctx, ws)


def write_peer(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    lay = ctx.ratios
    tl = ctx.timeline
    peers = [t for t in L.PEER_SET if t in lay.blocks]
    section(ctx, ws, lay.peer_header, f"Peer aggregate: {'+'.join(peers)} (sum of fiscal years)")
    labels = {
        "capex": ("Capex on the chosen basis, sum", "$m"),
        "ocf": ("Operating cash flow, sum", "$m"),
        "revenue": ("Revenue, sum", "$m"),
        "da_cashflow": ("D&A, sum", "$m"),
        "capex_to_ocf": ("Capex / OCF (ratio of sums)", "%"),
        "fcf": ("Free cash flow (sum OCF - sum capex deducted in FCF)", "$m"),
        "fcf_margin": ("FCF margin (ratio of sums)", "%"),
        "da_to_revenue": ("D&A / revenue (ratio of sums)", "%"),
        "company_fcf_sum": ("Sum of company FCF rows (engine)", "$m"),
    }
    p = lay.peer_rows
    for t in peers:  # the stacked capex chart: only years in which every AI peer reported
        labels[f"stack_{t}"] = (f"Capex in the peer stack chart: {t} (years every AI peer "
                                "reported)", "$m")
    for key, r in p.items():
        label, unit = labels[key]
        ws.write_string(r, 1, label, s("total" if key in ("capex_to_ocf",) else "label"))
        ws.write_string(r, 2, unit, s("unit"))
        for c in tl.actual_cols():
            cl = L.col(c)
            if key in ("capex", "ocf", "revenue", "da_cashflow"):
                row = "capex_on_basis" if key == "capex" else key  # capex on in_CapexBasis
                f = "=SUM(" + ",".join(f"{cl}{lay.blocks[t].rows[row] + 1}" for t in peers) + ")"
            elif key == "capex_to_ocf":
                f = f"={cl}{p['capex'] + 1}/{cl}{p['ocf'] + 1}"
            elif key == "fcf":  # each company's FCF on its own definition
                f = (f"={cl}{p['ocf'] + 1}-SUM("
                     + ",".join(f"{cl}{lay.blocks[t].rows['fcf_capex'] + 1}" for t in peers) + ")")
            elif key == "fcf_margin":
                f = f"={cl}{p['fcf'] + 1}/{cl}{p['revenue'] + 1}"
            elif key == "da_to_revenue":
                f = f"={cl}{p['da_cashflow'] + 1}/{cl}{p['revenue'] + 1}"
            elif key.startswith("stack_"):
                # stacked only in years every peer reported: the peer sum above is n/a
                # otherwise (computed once, linked here; no count of peers typed in)
                own = f"{cl}{lay.blocks[key[6:]].rows['capex_on_basis'] + 1}"
                f = f"=IF(ISNUMBER({cl}{p['capex'] + 1}),{own},NA())"
            else:
                f = "=SUM(" + ",".join(f"{cl}{lay.blocks[t].rows['fcf'] + 1}" for t in peers) + ")"
            ws.write_formula(r, c, f, s.for_unit("calc", unit), 0)
    ws.write_string(p["capex"], tl.notes_col, "Capex on the basis chosen on Inputs "
                    "(in_CapexBasis); a company without the figure on that basis makes the sum "
                    "n/a (never counted as zero)", s("note"))
    ws.write_string(p["capex_to_ocf"], tl.notes_col, "Ratio of sums over the same companies and "
                    "years, never a mean of company ratios", s("note"))


def write_ratio_checks(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    lay = ctx.ratios
    tl = ctx.timeline
    section(ctx, ws, lay.checks_header, "Checks (0 = pass) and alerts")
    for key, r in lay.check_rows.items():
        if key.startswith("fcf_"):
            t = key[4:]
            b = lay.blocks[t]
            ws.write_string(r, 1, f"FCF = OCF - capex deducted in FCF holds for {_who(b)} in "
                            "every year",
                            s("label"))
            ws.write_formula(r, 3, f"=MIN(1,SUM({tl.period_range(b.check_row)}))",
                             s("calc", "check"), 0)
        else:
            p = lay.peer_rows
            ws.write_string(r, 1, "Peer FCF equals the sum of the company FCF rows", s("label"))
            for c in tl.actual_cols():
                cl = L.col(c)
                fcf, fsum = f"{cl}{p['fcf'] + 1}", f"{cl}{p['company_fcf_sum'] + 1}"
                ws.write_formula(r, c, f"=IF(ISNUMBER({fcf}),--(ABS({fcf}-{fsum})>in_CheckTol),0)",
                                 s("calc", "check"), 0)
            ws.write_formula(r, 3, f"=MIN(1,SUM({tl.period_range(r)}))", s("calc", "check"), 0)
            check_format(ctx, ws, tl.period_range(r))
        ws.write_string(r, 2, "flag", s("unit"))
        check_format(ctx, ws, L.cell(r, 3))
    # Alerts: reported, not failing.
    a = lay.alert_rows
    for t, b in lay.blocks.items():
        r = a[f"capex_{t}"]
        ws.write_string(r, 1, f"Alert: {_who(b)} years with capex / OCF above the alert level",
                        s("label"))
        ws.write_formula(r, 3, f'=COUNTIFS({tl.period_range(b.rows["capex_to_ocf"])},'
                         '">"&in_CapexAlert)', s("calc", "alert"), 0)
        r = a[f"gaps_{t}"]
        links = (f"{L.cell(b.rows[L.LINK_ROWS[0].field], L.FIRST_PERIOD_COL)}:"
                 f"{L.cell(b.rows[L.LINK_ROWS[-1].field], tl.last_actual_col)}")
        ws.write_string(r, 1, f"Alert: {_who(b)} reported figures missing (known gaps, see "
                        "SOURCES)", s("label"))
        ws.write_formula(r, 3, f"=SUMPRODUCT(--ISERROR({links}))", s("calc", "alert"), 0)
    r = a["stale"]
    stamp = f"Cover!{L.cell(*L.COVER_REFRESHED, True, True)}"
    first = L.COVER_VINTAGE_TABLE + 1
    ends = (f"Cover!{L.cell(first, 2, True, True)}:"
            f"{L.cell(first + L.COVERAGE_SLOTS - 1, 2, True, True)}")
    ws.write_string(r, 1, "Alert: companies whose newest figure is older than the staleness limit",
                    s("label"))
    ws.write_formula(r, 3, f'=IF(ISNUMBER({stamp}),COUNTIFS({ends},"<"&({stamp}-in_StaleDays)),0)',
                     s("calc", "alert"), 0)
    ws.write_string(r, tl.notes_col, "Companies on the Cover's vintage table whose newest period "
                    "ended more than in_StaleDays (Inputs) before the last refresh: fetch newer "
                    "filings (python -m aicapex fetch)", s("note"))
    alert_rows = [v for k, v in a.items() if k != "total"]
    for r in alert_rows:
        ws.write_string(r, 2, "alert", s("unit"))
        alert_format(ctx, ws, L.cell(r, 3))
    write_alert_total(ctx, ws, a["total"], alert_rows)
    write_check_total(ctx, ws, lay.sheet_total_row, lay.check_rows.values())
