"""A typed-wrong input never passes silently (issue #22 point 3): a bond coupon typed as 6
instead of 6% fills Scenarios with #VALUE!; the master check fails naming the sheet, the
refresh names the cells, and the export refuses without --force."""

from __future__ import annotations

import subprocess
import sys

import openpyxl
import pytest
from aicapex.errors import AicapexError
from aicapex.excel import layout as L
from aicapex.excel.export import export_client_copy
from aicapex.excel.headless import refresh_file
from workbook_fixtures import NOW, name_cell


def _coupon_typed_as_six(path):
    wb = openpyxl.load_workbook(path, keep_vba=True)
    name_cell(wb, "in_BondCoupon").value = 6  # meant 6%
    name_cell(wb, "in_Scenario").value = "bonds"  # a preset that issues bonds
    wb.save(path)
    return path


def test_every_input_is_validated_where_it_is_typed(template_book):
    """Each named input on Inputs has data validation (a list, a whole-number or a decimal
    range) with a message that states its unit; a percent input accepts fractions only."""
    wb = template_book
    ws = wb["Inputs"]
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in range(rng.min_row, rng.max_row + 1):
                for col in range(rng.min_col, rng.max_col + 1):
                    rules[ws.cell(row, col).coordinate] = dv
    for name, dn in wb.defined_names.items():
        sheet, ref = dn.attr_text.split("!")
        if not name.startswith("in_") or sheet.strip("'") != "Inputs":
            continue
        coord = ref.replace("$", "")
        assert coord in rules, f"{name} ({coord}) has no validation"
        dv = rules[coord]
        assert dv.type in ("list", "whole", "decimal", "date", "custom"), (name, dv.type)
        if dv.type == "custom":  # "default" or a number within stated bounds
            assert "<=" in dv.formula1 and ">=" in dv.formula1, (name, dv.formula1)
        unit = ws.cell(ws[coord].row, 3).value
        if unit == "%" and dv.type == "decimal":
            assert float(dv.formula2) <= 5, f"{name}: a percent input must take a fraction"
        if unit == "%" and dv.type == "custom":
            upper = float(dv.formula1.rsplit("<=", 1)[1].rstrip(")"))
            assert upper <= 5, f"{name}: a percent input must take a fraction"


def test_a_coupon_typed_as_a_whole_number_fails_the_master_check(template_copy, tmp_path):
    path = _coupon_typed_as_six(template_copy)
    result = refresh_file(path, now=NOW)
    assert result.master_check == 1
    assert any(e.startswith("Scenarios!") and "#VALUE!" in e and "coupon" in e
               for e in result.engine_errors), result.engine_errors[:3]
    cover = openpyxl.load_workbook(path, data_only=True)["Cover"]
    rows = {cover.cell(r, 2).value: (cover.cell(r, 3).value, cover.cell(r, 4).value)
            for r in range(L.COVER_STATUS_FIRST + 2, L.COVER_VINTAGE_TABLE)}
    check, errors = rows["Scenarios"]
    assert check == 1 and errors >= 1  # the sheet is named, with its count of engine errors
    assert rows["Ratios"] == (0, 0)
    with pytest.raises(AicapexError, match="master check"):
        export_client_copy(path, "Acme", tmp_path / "c.xlsx")
    forced = export_client_copy(path, "Acme", tmp_path / "forced.xlsx", force=True)
    assert forced.exists()


def test_the_refresh_command_names_the_failing_cells(template_copy):
    path = _coupon_typed_as_six(template_copy)
    r = subprocess.run([sys.executable, "-m", "aicapex", "refresh", "--quiet", str(path)],
                       capture_output=True, text=True)
    assert "master check FAILING" in r.stdout
    assert "failing: Scenarios!" in r.stderr and "#VALUE!" in r.stderr
