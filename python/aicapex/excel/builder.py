"""Build the analyst workbook ``ai_capex_monitor.xlsm`` with XlsxWriter, without Excel.

The layout follows WORKBOOK_STYLE.md (FAST: control → inputs → data → workings → outputs →
audit). Each sheet has its own module (``sheet_<name>.py``) writing through the shared helpers
of :mod:`aicapex.excel.sheetkit`; cell positions come from :mod:`aicapex.excel.layout`, the
timeline from the data (:func:`aicapex.excel.layout.timeline_for`), styles from
:mod:`aicapex.excel.styles`, the VBA project and buttons from the installed xlwings package
(:mod:`aicapex.excel.vba`).

The template holds formulas; ``python -m aicapex refresh`` (or the workbook's Refresh button)
fills the data tables and stamps the cached values.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from aicapex.data.dataset import Dataset
from aicapex.errors import AicapexError
from aicapex.excel import layout as L
from aicapex.excel import sheet_guidance, sheet_power, sheet_roi, sheet_scenarios, vba, web
from aicapex.excel.sheet_cover import TITLE, write_cover
from aicapex.excel.sheet_dashboard import write_dashboard
from aicapex.excel.sheet_inputs import write_inputs
from aicapex.excel.sheet_ratios import write_ratios
from aicapex.excel.sheet_tables import write_changes, write_data, write_sources
from aicapex.excel.sheetkit import BuildContext
from aicapex.excel.styles import Styles

#: Fixed document date so that two builds of the template are identical.
BUILD_DATE = dt.datetime(2026, 1, 1)

#: The timeline sheets after Ratios, in tab order. Each module has ``write_sheet(ctx, ws)`` and
#: may have ``INPUT_SECTION = (title, [InputRow, ...])`` and ``alert_ref(ds)``.
EXTRA_SHEETS = {
    "Scenarios": sheet_scenarios,
    "Guidance": sheet_guidance,
    "Power_Cloud": sheet_power,
    "ROI": sheet_roi,
}


def default_coverage(ds: Dataset) -> list[str]:
    """The companies the build covers: the standard coverage, then any other company in the
    data (e.g. fetched from SEC EDGAR), as many as there are slots."""
    extra = [t for t in ds.tickers if t not in L.COVERAGE]
    return list(L.COVERAGE) + \
        extra[:max(0, L.COVERAGE_SLOTS - len(L.COVERAGE))]


def build_analyst_workbook(path: str | Path, ds: Dataset,
                           coverage: list[str] | None = None) -> Path:
    """Write the analyst template to ``path`` (an ``.xlsm``); returns the path. ``coverage``
    (default :func:`default_coverage`) fills the company slots on Inputs in order."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False})
    wb.set_properties({"title": TITLE, "subject": "AI infrastructure capex of the hyperscalers",
                       "company": "AI Capex Workbench", "author": "", "created": BUILD_DATE})
    wb.set_calc_mode("auto")
    # The version stamp by which refresh and export recognise the template (issue #20).
    from aicapex.excel.safety import TEMPLATE_PROPERTY, TEMPLATE_VERSION

    wb.set_custom_property(TEMPLATE_PROPERTY, TEMPLATE_VERSION)
    styles = Styles(wb)
    names = [n for n in L.SHEETS if n != "xlwings.conf"]
    sheets = {n: wb.add_worksheet(n) for n in names}
    sections = [m.input_section(ds) if hasattr(m, "input_section") else m.INPUT_SECTION
                for m in EXTRA_SHEETS.values()
                if hasattr(m, "input_section") or hasattr(m, "INPUT_SECTION")]
    alerts = [m.alert_ref(ds) for m in EXTRA_SHEETS.values() if hasattr(m, "alert_ref")]
    coverage = [ds.check_ticker(t) for t in (coverage or default_coverage(ds))]
    if len(coverage) > L.COVERAGE_SLOTS:
        raise AicapexError(f"{len(coverage)} companies is more than the workbook's "
                           f"{L.COVERAGE_SLOTS} coverage slots")
    timeline = L.timeline_for(ds, coverage)
    ctx = BuildContext(wb, styles, ds, timeline, L.ratios_layout(coverage), sheets, sections,
                       alerts, input_defaults={"in_LastActualFY": timeline.last_actual_fy},
                       coverage=coverage)
    write_inputs(ctx, sheets["Inputs"])
    write_data(ctx, sheets["Data"])
    write_ratios(ctx, sheets["Ratios"])
    for name, module in EXTRA_SHEETS.items():
        module.write_sheet(ctx, sheets[name])
    write_dashboard(ctx, sheets["Dashboard"])
    write_sources(ctx, sheets["Sources"])
    write_changes(ctx, sheets["Changes"])
    write_cover(ctx, sheets["Cover"])  # last: its checks read the other sheets' extent
    wb.define_name("in_AsOf", f"=Cover!{L.cell(*L.COVER_AS_OF, True, True)}")
    wb.define_name("chk_Master", f"=Cover!{L.cell(*L.COVER_MASTER, True, True)}")
    conf = vba.add_conf_sheet(wb, vba.xlwings_conf_rows(L.UDF_MODULE))
    web.write_formula_map(conf, web.formula_map(sheets))  # for Excel on the web (web.py)
    vba.attach_vba(wb)
    sheets["Cover"].activate()
    wb.close()
    web.name_web_button(path)
    return path
