"""The client copy a reviewer would send (issue #15): charts that never draw a missing figure,
a Cover that says what fails and alerts and where the figures come from, a short summary of
changes, and a PDF whose every page reads at print size.

Expected values are reported figures and counts from SOURCES.md, never the export's output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from aicapex.excel import client_edition
from aicapex.excel import layout as L
from aicapex.excel.export import export_client_copy
from conftest import require_or_skip, soffice_path

#: SOURCES.md, "Update 2026-12-01": annual rows by tier, 464 filing / 58 release / 114 secondary.
TIER_WORDS = "73% from filings, 9% from earnings releases, 18% secondary (636 figures)"


@pytest.fixture(scope="module")
def client(refreshed_workbook, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("client") / "client.xlsx"
    return export_client_copy(refreshed_workbook, "Acme", out)


def _chart_refs(wb):
    for ws in wb.worksheets:
        for chart in ws._charts:
            for series in chart.series:
                yield ws.title, series.val.numRef.f


def _cells(wb, ref):
    sheet, rng = ref.rsplit("!", 1)
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[rng.replace("$", "")] for c in row]


def test_no_chart_reads_text_or_an_error(client):
    wb = openpyxl.load_workbook(client, data_only=True)
    refs = list(_chart_refs(wb))
    assert refs
    for _sheet, ref in refs:
        for v in _cells(wb, ref):
            assert v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)), (ref, v)


def _series(wb, title_part, name):
    for ws in wb.worksheets:
        for chart in ws._charts:
            title = client_edition.chart_title(chart)
            if title_part not in title:
                continue
            for s in chart.series:
                if client_edition.series_title(s) == name:
                    return _cells(wb, s.val.numRef.f), _cells(wb, s.cat.numRef.f)
    raise AssertionError(f"no series {name} in a chart titled {title_part!r}")


def test_known_gaps_are_blank_in_the_chart_data_and_numbers_stay_numbers(client):
    wb = openpyxl.load_workbook(client, data_only=True)
    # META FY2019 revenue is not in the data (SOURCES.md, Missing): D&A / revenue is a gap,
    # not 0%; META FY2020 = 6,862 / 85,965 (10-K).
    values, years = _series(wb, "D&A / revenue", "META")
    by_year = dict(zip(years, values, strict=True))
    assert by_year[2019] is None
    assert by_year[2020] == pytest.approx(6862 / 85965, rel=1e-9)
    # GOOGL 2019-20 operating leases are not in the data: the lease ratio is a gap.
    values, years = _series(wb, "Operating-lease ROU", "GOOGL")
    by_year = dict(zip(years, values, strict=True))
    assert by_year[2019] is None and by_year[2020] is None
    # The tables still show n/a to readers.
    ratios = wb["Ratios"]
    b = L.ratios_layout().blocks["META"]
    assert ratios.cell(b.rows["da_to_revenue"] + 1, L.FIRST_PERIOD_COL + 1).value == "n/a"


def test_charts_leave_gaps_for_blanks(client):
    import zipfile

    with zipfile.ZipFile(client) as zf:
        charts = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/chart")]
    assert charts and all('dispBlanksAs val="gap"' in x for x in charts)


def test_libreoffice_keeps_the_gaps_blank(client, tmp_path):
    """LibreOffice, recalculating the client copy, sees empty cells where a figure is missing
    (so its charts draw gaps: an empty cell is the one input it never plots as zero)."""
    from aicapex.excel.libreoffice import recalculate

    require_or_skip(soffice_path() is not None, "LibreOffice (soffice) is not installed")
    out = recalculate(client, tmp_path)
    mine = openpyxl.load_workbook(client, data_only=True)
    theirs = openpyxl.load_workbook(out, data_only=True)
    for _sheet, ref in _chart_refs(mine):
        a, b = _cells(mine, ref), _cells(theirs, ref.replace("'", ""))
        for x, y in zip(a, b, strict=True):
            if x is None:
                assert y in (None, ""), (ref, y)
            else:
                assert y == pytest.approx(x, rel=1e-9), (ref, x, y)


def test_aapl_is_the_control_outside_the_peer_stack(client):
    wb = openpyxl.load_workbook(client)
    stack = [c for c in wb["Dashboard"]._charts
             if "AI peers" in client_edition.chart_title(c)]
    assert len(stack) == 1
    names = {client_edition.series_title(s) for s in stack[0].series}
    assert names == set(L.PEER_SET)
    assert "AAPL" not in L.PEER_SET


def _cover_text(path) -> str:
    ws = openpyxl.load_workbook(path, data_only=True)["Cover"]
    return "\n".join(" ".join(str(c.value) for c in row if c.value is not None)
                     for row in ws.iter_rows())


def test_cover_states_every_alert_and_the_source_mix(client):
    text = _cover_text(client)
    assert TIER_WORDS in text
    # The fixture refreshes on 2026-11-26. The newest figures of MSFT, GOOGL, AMZN and META end
    # 2026-06-30 (149 days before) and AAPL's 2026-06-27: above the 120-day limit on Inputs.
    # ORCL's Q1 FY2027 ended 2026-08-31 (87 days): not stale. Five companies in the alert.
    assert "companies whose newest figure is older than the staleness limit (5)" in text
    assert re.search(r"Alerts \d+ \(reported, not failing\)", text)
    # AMZN capex/OCF exceeded 100% in FY2021 and FY2022 (10-K): an alert in words.
    assert "AMZN years with capex / OCF above the alert level (2)" in text


def test_cover_lists_failing_checks_in_words(refreshed_workbook, tmp_path):
    shutil.copy(refreshed_workbook, tmp_path / "a.xlsm")
    wb = openpyxl.load_workbook(tmp_path / "a.xlsm", keep_vba=True)
    from aicapex.excel.cached import read_formula_results

    stamp = read_formula_results(tmp_path / "a.xlsm")
    lay = L.ratios_layout()
    r = lay.check_rows["fcf_MSFT"] + 1
    stamp[("Ratios", f"D{r}")] = 1  # as if the MSFT FCF identity failed
    failing, _alerts = client_edition.checks_and_alerts(wb, stamp)
    assert failing == ["Ratios: FCF = OCF - capex deducted in FCF holds for MSFT in every year"]


def test_changes_ship_as_a_short_summary(client, refreshed_workbook):
    analyst = openpyxl.load_workbook(refreshed_workbook, data_only=True)["Changes"]
    shipped = openpyxl.load_workbook(client, data_only=True)["Changes"]
    first = L.DATA_HEADER_ROW + 2
    rows = [r for r in shipped.iter_rows(min_row=first, values_only=True) if any(r)]
    assert analyst.max_row - first > 100  # the audit trail is long ...
    assert 1 <= len(rows) <= client_edition.MAX_CHANGE_LINES + 10  # ... the summary is short
    assert all(r[1] in (None, "") for r in rows)  # no cell addresses for the client


def test_pdf_pages_read_at_print_size(refreshed_workbook, tmp_path):
    require_or_skip(soffice_path() is not None, "LibreOffice (soffice) is not installed")
    require_or_skip(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is absent")
    out = export_client_copy(refreshed_workbook, "Acme", tmp_path / "c.xlsx", pdf=True)
    pdf = out.with_suffix(".pdf")
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = html.split("<page ")[1:]
    assert 5 <= len(pages) <= 30
    for i, page in enumerate(pages, 1):
        heights = [float(b) - float(a) for a, b in re.findall(
            r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', page)]
        assert heights and min(heights) >= 6.0, f"page {i}: text {min(heights):.1f} pt high"
    words = " ".join(re.findall(r">([^<]+)</word>", html))
    assert "value_musd" not in words  # the Data and Sources tables stay in the .xlsx
