"""The one registry of cell styles, keyed by role (WORKBOOK_STYLE.md §4).

Every format in the workbook comes from here, so two builds compare equal and a colour keeps
one meaning. :class:`Styles` creates each XlsxWriter format once per workbook.
"""

from __future__ import annotations

from typing import Any

NUM = {
    "musd": '#,##0_);(#,##0);"-"_)',
    "musd1": '#,##0.0_);(#,##0.0);"-"_)',
    "pct": '0.0%_);(0.0%);"-"_)',
    "mult": '0.0"x"_);(0.0"x");"-"_)',
    "phys": "#,##0.0_);(#,##0.0)",
    "phys3": "#,##0.000_);(#,##0.000)",
    "fy_actual": '"FY"0"A"',
    "fy_estimate": '"FY"0"E"',
    "year": "0",
    "date": "yyyy-mm-dd",
    "stamp": 'yyyy-mm-dd hh:mm "UTC"',
    "check": '"ERROR";"ERROR";"OK"',
    "alert": '"ALERT";"ALERT";"-"',
    "errors": '0" engine error(s): search the sheet for #VALUE!, #NUM!, #DIV/0!";;"none"',
    "text": "@",
    "general": "General",
}

#: Unit shown in column C -> number format of the values on that row.
UNIT_FORMAT = {"$m": "musd", "%": "pct", "x": "mult", "MW": "phys", "flag": "check",
               "alert": "alert", "FY": "year", "years": "phys", "tok/J": "phys3", "$": "musd1",
               "#": "musd", "$/Mtok": "musd1"}

COLOURS = {
    "input_font": "#0000FF",
    "input_fill": "#FFF2CC",
    "calc": "#000000",
    "link": "#008000",
    "engine": "#7030A0",
    "header_fill": "#1F3864",
    "actual_fill": "#D9E1F2",
    "estimate_fill": "#F2F2F2",
    "note": "#595959",
    "hyperlink": "#0563C1",
    "ok_font": "#006100",
    "ok_fill": "#C6EFCE",
    "error_font": "#9C0006",
    "error_fill": "#FFC7CE",
    "alert_font": "#9C5700",
    "alert_fill": "#FFEB9C",
}

TAB_COLOURS = {
    "Cover": "#1F3864",
    "Inputs": "#FFC000",
    "Data": "#2E75B6",
    "Ratios": "#7F7F7F",
    "Scenarios": "#7F7F7F",
    "Power_Cloud": "#7F7F7F",
    "ROI": "#7F7F7F",
    "Dashboard": "#00B050",
    "Sources": "#595959",
    "Changes": "#595959",
    "xlwings.conf": "#D9D9D9",
}

#: Okabe-Ito, fixed per company (colour-blind safe).
COMPANY_COLOURS = {
    "MSFT": "#0072B2",
    "GOOGL": "#009E73",
    "AMZN": "#E69F00",
    "META": "#56B4E9",
    "ORCL": "#D55E00",
    "AAPL": "#CC79A7",
    "PEER": "#000000",
}

BASE = {"font_name": "Calibri", "font_size": 10}

ROLES: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14},
    "subtitle": {"italic": True, "font_color": COLOURS["note"]},
    "label": {},
    "label_indent": {"indent": 1},
    "label_bold": {"bold": True},
    "label_top": {"bold": True, "valign": "top"},
    "unit": {"font_color": COLOURS["note"], "align": "center"},
    "key": {"num_format": NUM["text"]},
    "input": {"font_color": COLOURS["input_font"], "bg_color": COLOURS["input_fill"],
              "border": 1, "border_color": "#BFBFBF"},
    "calc": {"font_color": COLOURS["calc"]},
    "link": {"font_color": COLOURS["link"]},
    "engine": {"font_color": COLOURS["engine"]},
    "total": {"bold": True, "top": 1},
    "section": {"bold": True, "font_color": "#FFFFFF", "bg_color": COLOURS["header_fill"]},
    "period_actual": {"bold": True, "bg_color": COLOURS["actual_fill"], "bottom": 1,
                      "num_format": NUM["fy_actual"], "align": "right"},
    "period_estimate": {"bold": True, "bg_color": COLOURS["estimate_fill"], "bottom": 1,
                        "num_format": NUM["fy_estimate"], "align": "right", "left": 2},
    "note": {"italic": True, "font_color": COLOURS["note"], "font_size": 8},
    "hyperlink": {"font_color": COLOURS["hyperlink"], "underline": 1},
    "table_text": {"num_format": NUM["text"]},
    "wrap": {"text_wrap": True, "valign": "top"},
}

CONDITIONAL = {
    "ok": {"font_color": COLOURS["ok_font"], "bg_color": COLOURS["ok_fill"]},
    "error": {"font_color": COLOURS["error_font"], "bg_color": COLOURS["error_fill"]},
    "alert": {"font_color": COLOURS["alert_font"], "bg_color": COLOURS["alert_fill"]},
}


class Styles:
    """XlsxWriter formats by (role, number format), created once per workbook."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self._cache: dict[tuple[str, str | None], Any] = {}
        self.conditional = {k: workbook.add_format(v) for k, v in CONDITIONAL.items()}

    def __call__(self, role: str, num: str | None = None) -> Any:
        key = (role, num)
        if key not in self._cache:
            props = {**BASE, **ROLES[role]}
            if num is not None:
                props["num_format"] = NUM[num]
            self._cache[key] = self.workbook.add_format(props)
        return self._cache[key]

    def for_unit(self, role: str, unit: str) -> Any:
        return self(role, UNIT_FORMAT.get(unit, "general"))
