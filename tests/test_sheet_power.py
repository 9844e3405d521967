"""The Power_Cloud sheet of the analyst workbook: layout, CPX_ calls, checks, formula rules."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest
from aicapex.excel import layout as L
from workbook_fixtures import TIMELINE, checked_cpx_calls, formula_cells, master_check_inputs
from workbook_fixtures import function_calls as calls

SHEET = "Power_Cloud"


#: Power_Cloud's share of the Power_Cloud + ROI budget of 25 CPX_ calls per recalculation.
CPX_BUDGET = 11


def test_calls_parser_counts_arguments():
    assert calls("=INDEX(CPX_X(A1,B1,FALSE),MATCH(X1,X1:X9,0),2)") == [
        ("CPX_X", 3), ("MATCH", 3), ("INDEX", 3)]
    assert calls("=CPX_TICKERS()") == [("CPX_TICKERS", 0)]


def test_sheet_exists_in_tab_order_with_title_and_grid(template_book):
    assert SHEET in template_book.sheetnames
    from aicapex.excel import layout as L

    expected = [n for n in L.SHEETS if n in template_book.sheetnames]
    assert template_book.sheetnames == expected  # tab order as WORKBOOK_STYLE lays it out
    ws = template_book[SHEET]
    assert ws["B1"].value == "Power & Cloud"
    assert "USD millions unless stated" in ws["B2"].value
    assert ws.freeze_panes == "F6"
    assert ws["F4"].value == "=in_FirstFY"
    assert ws.sheet_properties.tabColor.rgb.endswith("7F7F7F")


def test_every_cpx_call_names_a_udf_with_a_valid_argument_count(template_book):
    seen = set(checked_cpx_calls(formula_cells(template_book[SHEET])))
    assert {"CPX_TOKENS_PER_WATT", "CPX_CAPEX_PER_MW", "CPX_DC_ECONOMICS",
            "CPX_BACKLOG_COVERAGE"} <= seen


def test_cpx_calls_fit_the_recalculation_budget(template_book):
    n = sum(name.startswith("CPX_") for _, f in formula_cells(template_book[SHEET]) for name, _ in calls(f))
    assert n <= CPX_BUDGET  # one spilled call per block: chips, facility, each coverage row


def test_row_3_holds_the_sheet_check_and_master_check(template_book):
    ws = template_book[SHEET]
    total = ws["D3"].value
    assert total.startswith("=$D$")
    target = ws[total[1:].replace("$", "")]
    assert target.value.startswith("=MIN(1,SUM(D")
    assert ws.cell(target.row, 2).value == "Sheet check (0 = all checks pass)"
    assert ws["F3"].value == "=chk_Master"
    assert any(f"{SHEET}!$D$3" in f for f in master_check_inputs(template_book))


def test_checks_block_has_the_capex_identity_with_tolerance(template_book):
    ws = template_book[SHEET]
    labels = {ws.cell(r, 2).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value}
    r = labels["IT MW x capex per MW (engine) equals capex"]
    f = ws.cell(r, 4).value
    assert "in_CheckTol" in f and f.startswith("=--(ABS(")
    assert ws.cell(r, 4).number_format == '"ERROR";"ERROR";"OK"'
    assert "Facility MW x capex per IT MW / PUE equals capex" in labels
    assert ws.cell(r, 3).value == "flag"


def test_labels_are_unique_and_backlog_links_follow_the_ratios_pattern(template_book):
    ws = template_book[SHEET]
    labels = [ws.cell(r, 2).value for r in range(6, ws.max_row + 1) if ws.cell(r, 2).value]
    assert len(labels) == len(set(labels))
    # reported figures are native links to the Ratios sheet (computed once, linked here)
    links = [(c, f) for c, f in formula_cells(ws) if f.startswith("=Ratios!")]
    assert links and not [f for _, f in formula_cells(ws) if "CPX_VALUE(" in f]
    for coord, f in links:
        cell = ws[coord]
        assert f.startswith(f"=Ratios!{cell.column_letter}")  # same column = same fiscal year
        assert ws.cell(cell.row, 4).value in ("rpo", "revenue", "cloud_segment_revenue")
    cov = [f for _, f in formula_cells(ws) if f.startswith("=CPX_BACKLOG_COVERAGE(")]
    # MSFT, GOOGL, AMZN, ORCL report RPO (META, AAPL do not): one spilled call on cloud revenue
    # and one on total revenue per company
    assert len(cov) == 2 * 4


def test_assumptions_are_validated_inputs_with_names(template_book):
    ws = template_book[SHEET]
    names = {n: template_book.defined_names[n].attr_text for n in template_book.defined_names}
    for name in ("in_PowerMW", "in_PUE", "in_Utilization", "in_PowerPrice", "in_TokenPrice",
                 "in_FacilityCapexMW", "in_RefChip", "in_ServingDerate", "in_RentalAlert",
                 "in_RevenueMethod"):
        assert name in names, name
        sheet, ref = names[name].split("!")
        if sheet != SHEET:
            continue
        cell = ws[ref.replace("$", "")]
        assert cell.font.color.rgb.endswith("0000FF") and cell.fill.fgColor.rgb.endswith("FFF2CC")
        assert any(cell.coordinate in dv.sqref for dv in ws.data_validations.dataValidation), name


def test_chart_is_a_horizontal_bar_of_tokens_per_joule_by_chip(template):
    with zipfile.ZipFile(template) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    mine = [c for c in charts if "Tokens per joule by chip generation" in c]
    assert len(mine) == 1
    xml = mine[0]
    assert '<c:barDir val="bar"/>' in xml
    assert f"{SHEET}!$B$" in xml and f"{SHEET}!$D$" in xml


def test_headless_evaluation_passes_the_checks_and_matches_hand_values(template_book):
    from aicapex.excel.evaluator import evaluate_workbook
    from aicapex.excel.headless import udf_registry

    res = evaluate_workbook(template_book, udf_registry())
    ws = template_book[SHEET]

    def value(label: str, col: str = "D"):
        for r in range(1, ws.max_row + 1):
            if ws.cell(r, 2).value == label:
                return res.get(SHEET, f"{col}{r}", KeyError)
        raise KeyError(label)

    assert res.values[(SHEET, "D3")] == 0
    # like-for-like throughput (Llama 2 70B): H100 from MLPerf v4.1 (24,524.9 tokens/s on a
    # 10.2 kW DGX H100); no GB300 figure -> #N/A, never a vendor multiple of Hopper; GB200 NVL72
    # 865,000 tokens/s per 120 kW rack (Azure)
    assert value("H100") == pytest.approx(24_524.9 / 10_200)
    assert value("GB300-NVL72") == "#N/A"
    assert value("GB200-NVL72") == pytest.approx(865_000 / 120_000)
    assert value("B200") == pytest.approx(103_000 / 14_300)
    # GB200: ~$3M rack / 120 kW = $25M per MW of racks + $10.7M facility (not $5.9M / 120 kW)
    assert value("GB200: capex per MW of IT load") == pytest.approx(3e6 / 120_000 + 10.7)
    # 100 MW at PUE 1.2 = 83.33 MW of IT load; capex = 83.33 x (25 x 1.1 networking + 10.7)
    it_mw = 100 / 1.2
    assert value("IT load (facility power / PUE)", "E") == pytest.approx(it_mw)
    capex = it_mw * (3e6 / 120_000 * 1.1 + 10.7)
    assert value("Capex: facility plus accelerators", "E") == pytest.approx(capex)
    # energy at facility level: 100 MW x 8,760 h x (75% + 25% x 30% idle) x $80.6/MWh
    energy = 100 * 8760 * 0.825 * 80.6 / 1e6
    assert value("Energy cost a year", "E") == pytest.approx(energy)
    # two revenue methods side by side; the headline is the lower (capacity-based):
    # 50,000 GPUs x 8,760 h x 75% x $4.54 (Spheron, $9.08 per 2-GPU GB200 Superchip)
    revenue = value("Revenue a year, headline (method in words below)", "E")
    capacity = value("Revenue a year, capacity-based (GPUs x hours x utilisation x rental price)",
                     "E")
    token = value("Revenue a year, token-based (throughput x derate x utilisation x token "
                  "price)", "E")
    assert capacity == pytest.approx(50_000 * 8760 * 0.75 * 4.54 / 1e6)
    # token: 50,000 x 12,013.9 tokens/s x (10,755.6 / 11,264.4) x 75% x 31,536,000 s x $0.72
    assert token == pytest.approx(865_000 / 72 * 50_000 * 10_755.6 / 11_264.4 * 0.75
                                  * 31_536_000 * 0.72 / 1e12)
    assert revenue == capacity
    assert value("Headline revenue method, and why", "E").startswith("capacity-based")
    # the cross-check alert: $29.73 per busy GPU-hour is 6.5x the $4.54 rental price
    assert value("Token-based revenue per GPU-hour / rental benchmark", "E") == pytest.approx(
        865_000 / 72 * 10_755.6 / 11_264.4 * 3600 * 0.72 / 1e6 / 4.54)
    assert value("Alert: token-based revenue per GPU-hour above in_RentalAlert x the rental "
                 "benchmark") == 1
    assert value("Alert in words (link to the engine's cross-check)").startswith(
        "ALERT: selling tokens earns $29.73 per busy GPU-hour, 6.5x the $4.54 rental benchmark")
    assert value("Token-based revenue equals GPU-hours x revenue per busy GPU-hour") == 0
    assert value("Capacity-based revenue equals GPU-hours x rental price") == 0
    # payback after every running cost (electricity and 3% O&M), not electricity only
    om = 0.03 * capex
    assert value("Operations and maintenance a year", "E") == pytest.approx(om)
    assert value("Simple payback after running costs (undiscounted, pre-tax)", "E") == pytest.approx(
        capex / (revenue - energy - om))
    dep = it_mw * 25 * 1.1 / 5 + it_mw * 10.7 / 20
    assert value("Depreciation a year (accelerators + facility)", "E") == pytest.approx(dep)
    assert value("Return on capital, pre-tax (after depreciation / capex)", "E") == pytest.approx(
        (revenue - energy - om - dep) / capex)
    fy2025 = L.col(TIMELINE.period_col(2025))
    assert value("MSFT: backlog coverage on total revenue (second line)", fy2025) == pytest.approx(
        375_000 / 281_724)
    # AMZN FY2025: 244,000 / AWS 128,725 = 1.90 years of cloud revenue under contract
    assert value("AMZN: backlog coverage on cloud revenue (RPO / cloud segment)",
                 fy2025) == pytest.approx(244_000 / 128_725)


def test_revenue_method_input_switches_the_headline_and_a_higher_alert_level_silences_it(
        template):
    from aicapex.excel.evaluator import evaluate_workbook
    from aicapex.excel.headless import udf_registry

    book = openpyxl.load_workbook(template, keep_vba=True)  # changed below: a copy
    names = {n: book.defined_names[n].attr_text for n in book.defined_names}

    def put(name, value):
        sheet, ref = names[name].split("!")
        book[sheet][ref.replace("$", "")] = value

    put("in_RevenueMethod", "token")
    put("in_RentalAlert", 10)
    res = evaluate_workbook(book, udf_registry())
    ws = book[SHEET]
    rows = {ws.cell(r, 2).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value}

    def value(label, col="E"):
        return res.get(SHEET, f"{col}{rows[label]}", KeyError)

    token = value("Revenue a year, token-based (throughput x derate x utilisation x token price)")
    assert value("Revenue a year, headline (method in words below)") == token
    assert value("Headline revenue method, and why").startswith("token-based")
    assert "chosen by the analyst" in value("Headline revenue method, and why")
    # 6.5x is within a 10x alert level: no alert, and the words say OK
    assert value("Alert: token-based revenue per GPU-hour above in_RentalAlert x the rental "
                 "benchmark", "D") == 0
    assert value("Alert in words (link to the engine's cross-check)", "D").startswith("OK: ")
    assert res.values[(SHEET, "D3")] == 0
