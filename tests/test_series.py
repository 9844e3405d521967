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
