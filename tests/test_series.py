"""CPX_SERIES: a company block in one call — reported figures as filed, metrics as defined."""

from __future__ import annotations

import math

import aicapex.udfs as udfs
import pytest
from aicapex.xlerrors import XlError


def test_block_rows_are_keys_and_columns_are_years():
    out = udfs.cpx_series("MSFT", [["capex"], ["ocf"], ["capex_to_ocf"], ["fcf"]],
                          [[2024, 2025, 2026]])
    # MSFT 10-K figures (SOURCES.md): capex 44,477 / 64,551 / 115,948; OCF 118,548 / 136,162 /
    # 182,935.
    assert out[0] == [44477, 64551, 115948]
    assert out[1] == [118548, 136162, 182935]
    assert out[2] == pytest.approx([44477 / 118548, 64551 / 136162, 115948 / 182935], rel=1e-12)
    assert out[3] == [118548 - 44477, 136162 - 64551, 182935 - 115948]


def test_missing_figures_are_na_with_the_reason_and_blank_keys_blank_rows():
    out = udfs.cpx_series("META", [["rpo"], [None], ["revenue"]], [[2019, 2025]])
    assert all(isinstance(v, XlError) and str(v) == "#N/A" for v in out[0])
    assert "not reported" in out[0][0].reason
    assert out[1] == ["", ""]
    assert out[2][1] == 200966  # META FY2025 revenue, Q4 2025 release
    assert isinstance(out[2][0], XlError)  # META FY2019 revenue is a documented gap


def test_a_column_of_years_and_bad_keys_or_years_are_errors():
    out = udfs.cpx_series("GOOGL", [["capex"]], [[2025], [2024]])
    assert out == [[91447, 52535]]
    bad = udfs.cpx_series("GOOGL", [["capx"]], [[2025]])
    assert isinstance(bad, XlError) and "capx" in bad.reason
    bad = udfs.cpx_series("GOOGL", [["capex"]], [[2025.5]])
    assert isinstance(bad, XlError) and str(bad) == "#VALUE!"
    assert not any(isinstance(v, float) and math.isnan(v) for v in out[0])


def test_the_block_equals_the_cell_by_cell_functions_it_replaces(dataset):
    """The Ratios block used to be one CPX_VALUE per reported figure and one ratio function per
    metric cell (1,444 calls for the template); the spilled block gives the same numbers."""
    years = list(range(2019, 2027))
    ratio = {"capex_to_ocf": (udfs.cpx_capex_to_ocf, ("capex", "ocf")),
             "capex_to_revenue": (udfs.cpx_capex_to_revenue, ("capex", "revenue")),
             "da_to_revenue": (udfs.cpx_da_to_revenue, ("da_cashflow", "revenue")),
             "lease_to_fixed_assets": (udfs.cpx_lease_to_fixed, ("op_lease_rou_assets", "ppe_net")),
             "net_debt": (udfs.cpx_net_debt, ("total_debt", "cash_and_marketable_securities"))}
    fields = ["capex", "ocf", "revenue", "da_cashflow", "ppe_net", "op_lease_rou_assets",
              "total_debt", "cash_and_marketable_securities"]
    for t in ["MSFT", "GOOGL", "AMZN", "META", "ORCL", "AAPL"]:
        block = udfs.cpx_series(t, [[k] for k in fields + list(ratio)], [years])
        for i, f in enumerate(fields):
            for j, y in enumerate(years):
                old = udfs.cpx_value(t, f, y)
                assert (str(block[i][j]) == str(old) if isinstance(old, XlError)
                        else block[i][j] == old), (t, f, y)
        for i, (metric, (func, args)) in enumerate(ratio.items(), start=len(fields)):
            for j, y in enumerate(years):
                old = func(*(udfs.cpx_value(t, a, y) for a in args))
                new = block[i][j]
                if isinstance(old, XlError):
                    assert isinstance(new, XlError), (t, metric, y)
                else:
                    assert new == pytest.approx(old, rel=1e-12), (t, metric, y)


def test_the_committed_template_makes_at_most_100_cpx_calls():
    """Excel calls a UDF once per formula cell: every CPX_ occurrence in every formula cell of
    the committed template is one call per full recalculation (1,444 before issue #19)."""
    import re

    import openpyxl
    from conftest import REPO

    wb = openpyxl.load_workbook(REPO / "workbook" / "ai_capex_monitor.xlsm")
    calls = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                text = getattr(c.value, "text", c.value)
                if isinstance(text, str) and text.startswith("="):
                    calls += len(re.findall(r"\bCPX_[A-Z_]+\(", text))
    assert 0 < calls <= 100
