"""The Dashboard: the report's exhibits as charts drawn from the Ratios sheet (no
calculations; WORKBOOK_STYLE.md §7)."""

from __future__ import annotations

from typing import Any

from aicapex.excel import layout as L
from aicapex.excel.sheetkit import BuildContext, new_chart, print_setup
from aicapex.excel.styles import COMPANY_COLOURS, TAB_COLOURS


def _series_ref(ctx: BuildContext, r: int) -> str:
    return f"=Ratios!{ctx.timeline.period_range(r, absolute=True)}"


def _categories(ctx: BuildContext) -> str:
    return f"=Ratios!{ctx.timeline.period_range(3, absolute=True)}"


def _chart(ctx: BuildContext, kind: str, title: str, num_format: str,
           subtype: str | None = None) -> Any:
    return new_chart(ctx, kind, title, num_format, subtype,
                     y_min=0 if kind in ("column", "line") and subtype != "clustered_neg" else None)


def write_dashboard(ctx: BuildContext, ws: Any) -> None:
    s = ctx.styles
    lay = ctx.ratios
    ws.set_tab_color(TAB_COLOURS["Dashboard"])
    ws.write_string(0, 1, "Dashboard", s("title"))
    ws.write_string(1, 1, "The report's exhibits, drawn from the Ratios sheet; fiscal years as reported",
                    s("subtitle"))
    # The capex basis every capex chart uses (Inputs): stated where the charts are read.
    ws.write_formula(2, 1, '="Capex basis: "&in_CapexBasis&" (in_CapexBasis on Inputs; FCF is '
                     'each company\'s own definition)"', s("note"),
                     "Capex basis: cash (in_CapexBasis on Inputs; FCF is each company's own "
                     "definition)")
    span = f"FY{ctx.timeline.first_fy}–FY{ctx.timeline.last_actual_fy}"
    charts: list[Any] = []

    peers = [t for t in lay.blocks if t in L.PEER_SET]

    def per_company(ch: Any, key: str, only_peers: bool = False) -> None:
        for t, b in lay.blocks.items():
            if b.ticker is None or (only_peers and t not in peers):
                continue  # empty coverage slots are not drawn
            colour = COMPANY_COLOURS.get(t, "#7F7F7F")
            control = t not in L.PEER_SET
            row = lay.peer_rows[f"stack_{t}"] if key == "stack" else b.rows[key]
            series = {"name": f"{t} (control)" if control else t, "categories": _categories(ctx),
                      "values": _series_ref(ctx, row)}
            if type(ch).__name__ == "ChartLine":
                series["line"] = {"color": colour, "width": 2}
                if control:  # the control company is drawn apart from the AI peers
                    series["line"]["dash_type"] = "dash"
                series["marker"] = {"type": "circle", "size": 4, "fill": {"color": colour},
                                    "border": {"color": colour}}
            else:
                series["fill"] = {"color": colour}
                series["border"] = {"none": True}
            ch.add_series(series)

    # A stack with a company missing would look like a fall in capex: only the years in which
    # every AI peer reported are stacked (Ratios' peer block: "capex in the peer stack chart").
    ch = _chart(ctx, "column", f"Capex, AI peers (AAPL control excluded), {span} ($bn)", "#,##0,",
                "stacked")
    per_company(ch, "stack", only_peers=True)
    charts.append(ch)
    ch = _chart(ctx, "line", f"Capex / operating cash flow, {span} (%)", "0%")
    per_company(ch, "capex_to_ocf")
    ch.add_series({"name": "Peer (ratio of sums)", "categories": _categories(ctx),
                   "values": _series_ref(ctx, lay.peer_rows["capex_to_ocf"]),
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
    per_company(ch, "lease_to_fixed_assets")
    charts.append(ch)
    ch = _chart(ctx, "column", f"Debt issuance proceeds, {span} ($bn)", "#,##0,")
    per_company(ch, "debt_issuance_proceeds")
    charts.append(ch)
    for i, chart in enumerate(charts):
        row = 3 + (i // 2) * 17
        col = 1 + (i % 2) * 9
        ws.insert_chart(row, col, chart)
        ws.write_string(row + 15, col, "Sources: filings, releases, secondary (tier per figure "
                        "on Sources); as of the Cover date", s("note"))
    print_setup(ws, "Dashboard")
