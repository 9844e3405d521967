"""The replay benchmark's tool (``bench/bench_replay.py``): it makes every CPX_ call Excel makes
-- once per formula cell and occurrence -- with the argument values of the refreshed workbook,
and those calls reproduce the headless refresh's stored values. No timing here."""

from __future__ import annotations

import sys

import openpyxl
import pytest
from aicapex.xlerrors import XlError
from conftest import REPO
from openpyxl.workbook.defined_name import DefinedName

sys.path.insert(0, str(REPO / "bench"))
import bench_replay as br  # noqa: E402 - the replay tool lives in bench/


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A hand-made workbook: five CPX_ calls in four cells, with references, a range, a
    defined name, an error cell and a call inside IF."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["B1"], ws["A2"], ws["B2"] = 100, 40, 200, 50
    ws["A3"] = "#N/A"
    ws["A3"].data_type = "e"
    ws["D1"] = "=CPX_FCF(A1,B1)+CPX_FCF(A2,B2)"
    ws["D2"] = "=INDEX(CPX_FCF(A1:A2,B1:B2),2,1)"
    ws["D3"] = "=CPX_CAPEX_TO_OCF(B1,in_OCF)"
    ws["D4"] = '=IF(A1>1000,CPX_FCF(A1,B1),"no")'
    ws["D5"] = "=CPX_FCF(A3,B1)"
    wb.defined_names["in_OCF"] = DefinedName("in_OCF", attr_text="S!$A$2")
    path = tmp_path_factory.mktemp("small") / "small.xlsx"
    wb.save(path)
    return path


def test_every_occurrence_is_a_call_with_the_cells_values(small):
    replay = br.extract_calls(small)
    assert br.static_count(replay.formulas) == 6
    got = [(c.cell, c.occurrence, c.function, c.args, c.conditional) for c in replay.calls]
    assert got == [
        ("D1", 0, "cpx_fcf", [100.0, 40.0], False),
        ("D1", 1, "cpx_fcf", [200.0, 50.0], False),
        ("D2", 0, "cpx_fcf", [[[100.0], [200.0]], [[40.0], [50.0]]], False),
        ("D3", 0, "cpx_capex_to_ocf", [40.0, 200.0], False),
        ("D4", 0, "cpx_fcf", [100.0, 40.0], True),  # Excel would skip it: the IF is false
        ("D5", 0, "cpx_fcf", [XlError("#N/A"), 40.0], False),
    ]
    assert all(type(a) is float for c in replay.calls[:2] for a in c.args)  # Excel's doubles


def test_replayed_results_give_the_formulas_their_values(small):
    replay = br.extract_calls(small)
    evaluated, mismatches = br.recompute(replay, br.call_direct(replay.calls))
    assert mismatches == []
    assert evaluated.values[("S", "D1")] == (100 - 40) + (200 - 50)
    assert evaluated.values[("S", "D2")] == 200 - 50
    assert evaluated.values[("S", "D3")] == pytest.approx(40 / 200)
    assert evaluated.values[("S", "D4")] == "no"
    assert str(evaluated.values[("S", "D5")]) == "#N/A"  # a missing figure stays missing


def test_officejs_encoding_is_a_matrix_per_argument_with_error_objects():
    call = br.Call("S", "D5", 0, "cpx_fcf_margin", [XlError("#N/A"), [[1.0, None]]])
    body = br.officejs_payload(call, "0.37.8")
    assert body["func_name"] == "cpx_fcf_margin" and body["caller_address"].endswith("]S!D5")
    assert body["args"] == [
        [[{"type": "Error", "basicType": "Error", "basicValue": "#N/A",
           "errorType": "NotAvailable"}]],
        [[1.0, None]],
        [[None]],  # the omitted third argument
    ]
    assert br.from_officejs([[1.5, {"type": "Error", "errorType": "Div0"}, ""]]) == [
        [1.5, XlError("#DIV/0!"), ""]]


def test_the_analyst_template_replay_matches_its_static_count_and_stored_values(
        refreshed_workbook):
    replay = br.extract_calls(refreshed_workbook)
    formulas = br.formula_texts(openpyxl.load_workbook(refreshed_workbook))
    assert len(replay.calls) == br.static_count(formulas) > 0
    cells, diffs = br.differences(replay, br.call_direct(replay.calls))
    assert cells > 1000
    assert diffs == []
