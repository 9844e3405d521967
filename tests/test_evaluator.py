"""Tests for the headless formula evaluator (aicapex.excel.evaluator).

Expected values are worked by hand from Excel's documented semantics; the optional LibreOffice
test recalculates a workbook of native formulas independently and compares.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from aicapex.errors import AicapexError
from aicapex.excel.evaluator import (
    SUPPORTED_FUNCTIONS,
    EvaluationResult,
    XlError,
    evaluate_workbook,
    functions_in_formula,
)
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula


def _book(cells: dict[str, object], title: str = "Sheet") -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for coord, value in cells.items():
        ws[coord] = value
    return wb


def _one(formula: str, cells: dict[str, object] | None = None, functions=None):
    """Evaluate ``formula`` in Z1 of a sheet holding ``cells``."""
    wb = _book({**(cells or {}), "Z1": formula})
    return evaluate_workbook(wb, functions).values[("Sheet", "Z1")]


def _add_name(wb: Workbook, name: str, text: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=text)


# ------------------------------------------------------------------------------------------
# Operators and precedence
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=-2^2", 4),  # Excel: negation binds tighter than ^
        ("=2+3*4", 14),
        ("=(2+3)*4", 20),
        ("=1-2^2", -3),  # binary minus is below ^
        ("=2^3^2", 64),  # ^ is left-associative in Excel
        ("=2^-1", 0.5),
        ("=10/4", 2.5),
        ("=7-2-1", 4),
        ("=12/2/3", 2),
        ("=50%", 0.5),
        ("=50%^2", 0.25),
        ("=200*10%", 20),
        ("=+3", 3),
        ("=--TRUE", 1),
        ("=-(-3)", 3),
        ("=1+2&3", "33"),  # & is below +
        ("=1+1=2", True),  # comparisons are lowest
        ("=2>1+2", False),
        ('="a"&"b"&"c"', "abc"),
        ('="n="&2.5', "n=2.5"),
        ('="x"&TRUE', "xTRUE"),
        ("=1.5e3", 1500),
        ("=TRUE+TRUE", 2),
        ('="3"*2', 6),  # numeric text converts in arithmetic
        ("=0.1+0.2=0.3", True),  # equality to ~15 significant digits
    ],
)
def test_operators_and_precedence(formula, expected):
    assert _one(formula) == expected


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=1<2", True),
        ("=2<=2", True),
        ("=3<>3", False),
        ('="abc"="ABC"', True),  # text compares case-insensitively
        ('="abc"<"abd"', True),
        ('=1<"a"', True),  # numbers sort before text
        ('="zzz"<FALSE', True),  # text before booleans
        ("=FALSE<TRUE", True),
        ("=A1=0", True),  # a blank equals 0 ...
        ('=A1=""', True),  # ... and the empty string
        ("=A1<1", True),
    ],
)
def test_comparisons(formula, expected):
    assert _one(formula) is expected


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ("=1/0", "#DIV/0!"),
        ("=A1/A2", "#DIV/0!"),  # blank divisor is 0
        ('=1+"abc"', "#VALUE!"),
        ('=-"abc"', "#VALUE!"),
        ("=#N/A+1", "#N/A"),
        ("=NA()", "#N/A"),
        ("=(1/0)&#N/A", "#DIV/0!"),  # the left error wins
        ("=no_such_name+1", "#NAME?"),
        ("=(-8)^0.5", "#NUM!"),
    ],
)
def test_error_values(formula, code):
    value = _one(formula)
    assert isinstance(value, XlError)
    assert value == code


def test_blanks_are_zero_in_arithmetic_and_empty_in_text():
    assert _one("=A1+5") == 5
    assert _one('="<"&A1&">"') == "<>"
    assert _one("=A1") == 0  # =A1 of a blank cell shows 0


def test_number_to_text_uses_excel_general_format():
    assert _one('=""&1/4') == "0.25"
    assert _one('=""&10') == "10"
    assert _one('=""&1E+20') == "1E+20"


def test_dates_in_cells_are_serial_numbers():
    cells = {"A1": dt.datetime(2025, 6, 30)}
    assert _one("=A1+1", cells) == 45839  # 2025-07-01
    assert _one("=YEAR(A1)", cells) == 2025


# ------------------------------------------------------------------------------------------
# Native functions
# ------------------------------------------------------------------------------------------
NUMS = {"A1": 1, "A2": 2, "A3": "text", "A4": True, "A5": None, "A6": 4}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=SUM(A1:A6)", 7),  # text and TRUE in a range are ignored
        ("=SUM(A1:A6, 3, TRUE)", 11),  # a direct TRUE counts as 1
        ('=SUM("2", 1)', 3),  # direct numeric text converts
        ("=SUM(A3)", 0),  # a single referenced text cell is ignored too
        ("=AVERAGE(A1:A6)", 7 / 3),
        ("=MIN(A1:A6)", 1),
        ("=MAX(A1:A6)", 4),
        ("=MAX(A3:A5)", 0),  # no numbers: 0
        ("=COUNT(A1:A6)", 3),
        ("=COUNTA(A1:A6)", 5),
        ("=ABS(-2.5)", 2.5),
        ("=ROUND(2.675, 2)", 2.68),  # half away from zero on the displayed decimal
        ("=ROUND(-2.5, 0)", -3),
        ("=ROUND(1234.5, -2)", 1200),
        ("=ROUND(2.5,)", 3),
        ("=IF(A1>0, \"pos\", \"neg\")", "pos"),
        ("=IF(A1>5, 1)", False),
        ("=IF(TRUE,,1)", 0),
        ("=IF(A1, 10, 20)", 10),  # a number as condition
        ("=IFERROR(1/0, \"n/a\")", "n/a"),
        ("=IFERROR(7, \"n/a\")", 7),
        ("=AND(TRUE, A1>0, A2=2)", True),
        ("=AND(A1:A6)", True),  # text and blanks in ranges are skipped
        ("=OR(FALSE, A1>5)", False),
        ("=OR(A1>5, A2=2)", True),
        ("=NOT(A1)", False),
        ("=ISERROR(1/0)", True),
        ("=ISERROR(A3)", False),
        ("=ISNUMBER(A1)", True),
        ("=ISNUMBER(A3)", False),
        ("=ISNUMBER(A4)", False),  # booleans are not numbers
        ("=ISBLANK(A5)", True),
        ("=ISBLANK(A3)", False),
        ("=SUMPRODUCT(A1:A2, A6:A7)", 1 * 4 + 2 * 0),
        ("=SUMPRODUCT((A1:A6>1)*1)", 4),  # 2, "text" and TRUE (sort above numbers), 4
        ("=SUMPRODUCT(--ISERROR(B1:B3))", 1),
        ("=SUMPRODUCT(--(A1:A2=2))", 1),
        ("=DATE(2025, 6, 30)", 45838),
        ("=DATE(2025, 13, 1)", 46023),  # month 13 rolls into 2026-01-01
        ("=DATE(2024, 3, 0)", 45351),  # day 0 is the last day of February 2024
        ("=YEAR(45838)", 2025),
        ("=EOMONTH(DATE(2025, 6, 15), 0)", 45838),
        ("=EOMONTH(DATE(2024, 1, 31), 1)", 45351),  # 2024-02-29
        ("=EOMONTH(DATE(2025, 3, 10), -3)", 45657),  # 2024-12-31
    ],
)
def test_native_functions(formula, expected):
    value = _one(formula, {**NUMS, "B2": "=1/0"})
    if isinstance(expected, float) and not float(expected).is_integer():
        assert value == pytest.approx(expected, rel=1e-15)
    else:
        assert value == expected
        assert type(value) is type(expected) or not isinstance(expected, bool)


def test_iferror_and_if_are_lazy():
    # The branch not taken is not evaluated: a UDF in it is never called.
    calls = []

    def spy(x):
        calls.append(x)
        return x

    assert _one("=IF(TRUE, 1, SPY(2))", functions={"SPY": spy}) == 1
    assert _one("=IFERROR(5, SPY(3))", functions={"SPY": spy}) == 5
    assert calls == []


def test_sum_propagates_errors_from_ranges():
    assert _one("=SUM(A1:A2)", {"A1": 1, "A2": "=1/0"}) == "#DIV/0!"


def test_and_without_logical_values_is_value_error():
    assert _one("=AND(A1:A2)", {"A1": "x"}) == "#VALUE!"


# ------------------------------------------------------------------------------------------
# SUMIFS / COUNTIFS
# ------------------------------------------------------------------------------------------
TABLE = {
    # ticker, year, value
    "A1": "MSFT", "B1": 2024, "C1": 10,
    "A2": "GOOGL", "B2": 2024, "C2": 3,
    "A3": "msft", "B3": 2025, "C3": 7,
    "A4": "AMZN", "B4": 2025, "C4": 5,
    "A5": "MSFT", "B5": 2023, "C5": "n/a",
    "A6": None, "B6": 2025, "C6": 100,
    "E1": "MSFT", "E2": 2024, "E3": ">5",
}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('=SUMIFS(C1:C6, A1:A6, "MSFT")', 17),  # case-insensitive; text in sum range ignored
        ("=SUMIFS(C1:C6, A1:A6, E1, B1:B6, E2)", 10),
        ('=SUMIFS(C1:C6, C1:C6, ">5")', 117),
        ('=SUMIFS(C1:C6, C1:C6, ">=5", A1:A6, "<>MSFT")', 105),  # AMZN 5 + blank ticker 100
        ('=SUMIFS(C1:C6, B1:B6, ">"&2023, B1:B6, "<=2024")', 13),
        ('=SUMIFS(C1:C6, A1:A6, "M*")', 17),  # wildcard
        ('=SUMIFS(C1:C6, A1:A6, "?SFT")', 17),
        ('=SUMIFS(C1:C6, A1:A6, "")', 100),  # blank cells
        ('=SUMIFS(C1:C6, A1:A6, "NVDA")', 0),
        ('=COUNTIFS(A1:A6, "MSFT")', 3),
        ("=COUNTIFS(A1:A6, E1, B1:B6, E2)", 1),
        ("=COUNTIFS(C1:C6, E3)", 3),  # 10, 7, 100
        ('=COUNTIFS(C1:C6, "<5")', 1),  # text and blanks never match a numeric comparison
        ("=COUNTIFS(B1:B6, 2025)", 3),
        ('=COUNTIFS(B1:B6, "2025")', 3),
        ('=COUNTIFS(B1:B6, "=2025", A1:A6, "<>")', 2),
        ('=COUNTIFS(A1:A6, "<>MSFT")', 3),  # GOOGL, AMZN and the blank
    ],
)
def test_sumifs_countifs(formula, expected):
    assert _one(formula, TABLE) == expected


def test_sumifs_mismatched_ranges_is_value_error():
    assert _one('=SUMIFS(C1:C6, A1:A5, "MSFT")', TABLE) == "#VALUE!"


def test_countifs_duplicate_key_check_over_many_rows():
    # the Data-sheet duplicate check: one COUNTIFS per row over the whole key columns
    cells: dict[str, object] = {}
    n = 400
    for r in range(1, n + 1):
        cells[f"A{r}"] = f"T{r % 50}"
        cells[f"B{r}"] = 2000 + (r % 8)  # (r % 50, r % 8) repeats every 200 rows
        cells[f"C{r}"] = f"=COUNTIFS($A$1:$A${n}, A{r}, $B$1:$B${n}, B{r})"
    res = evaluate_workbook(_book(cells))
    assert {res.values[("Sheet", f"C{r}")] for r in range(1, n + 1)} == {2}


# ------------------------------------------------------------------------------------------
# INDEX / MATCH
# ------------------------------------------------------------------------------------------
LOOKUP = {
    "A1": 10, "A2": 20, "A3": 30, "A4": 40,
    "B1": "MSFT", "B2": "GOOGL", "B3": "AMZN", "B4": "META",
    "C1": 40, "C2": 30, "C3": 20, "C4": 10,
    "D1": 1, "E1": 2, "F1": 3,
}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('=MATCH("amzn", B1:B4, 0)', 3),
        ("=MATCH(30, A1:A4, 0)", 3),
        ("=MATCH(25, A1:A4, 1)", 2),  # largest value <= 25
        ("=MATCH(25, A1:A4)", 2),  # match_type defaults to 1
        ("=MATCH(40, A1:A4, 1)", 4),
        ("=MATCH(25, C1:C4, -1)", 2),  # smallest value >= 25 in descending data
        ("=MATCH(40, C1:C4, -1)", 1),
        ('=MATCH("G*", B1:B4, 0)', 2),
        ("=MATCH(2, D1:F1, 0)", 2),  # a row works too
        ('=INDEX(A1:A4, MATCH("META", B1:B4, 0))', 40),
        ("=INDEX(A1:C4, 2, 3)", 30),
        ("=INDEX(D1:F1, 3)", 3),  # one row: the number is a column
        ("=SUM(INDEX(A1:C4, 0, 1))", 100),  # whole column
        ("=SUM(INDEX(A1:C4, 4, 0))", 90),  # whole row: 40 + "META" ignored + 10... see below
    ],
)
def test_index_match(formula, expected):
    if formula == "=SUM(INDEX(A1:C4, 4, 0))":
        expected = 40 + 10  # the text in B4 is ignored
    assert _one(formula, LOOKUP) == expected


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ('=MATCH("NVDA", B1:B4, 0)', "#N/A"),
        ("=MATCH(5, A1:A4, 1)", "#N/A"),  # nothing <= 5
        ("=MATCH(50, C1:C4, -1)", "#N/A"),  # nothing >= 50
        ("=MATCH(1, A1:C4, 0)", "#N/A"),  # not a single row or column
        ("=INDEX(A1:A4, 5)", "#REF!"),
    ],
)
def test_index_match_errors(formula, code):
    assert _one(formula, LOOKUP) == code


# ------------------------------------------------------------------------------------------
# References and names
# ------------------------------------------------------------------------------------------
def test_cross_sheet_references():
    wb = Workbook()
    inputs = wb.active
    inputs.title = "Inputs"
    inputs["D7"] = 0.5
    inputs["F4"] = 2025
    spaced = wb.create_sheet("My Sheet")
    spaced["A1"], spaced["B1"], spaced["A2"], spaced["B2"] = 1, 2, 3, 4
    spaced["C3"] = "=SUM(A1:B2)"
    calc = wb.create_sheet("Calc")
    calc["A1"] = "=Inputs!$D$7*2"
    calc["A2"] = "=SUM('My Sheet'!A1:B2)"
    calc["A3"] = "='My Sheet'!C3+Inputs!F4"
    calc["A4"] = "=inputs!D7"  # sheet names are case-insensitive
    calc["A5"] = "=Nowhere!A1"
    res = evaluate_workbook(wb)
    assert res.values[("Calc", "A1")] == 1
    assert res.values[("Calc", "A2")] == 10
    assert res.values[("Calc", "A3")] == 2035
    assert res.values[("Calc", "A4")] == 0.5
    assert res.values[("Calc", "A5")] == "#REF!"


def test_absolute_and_mixed_references():
    cells = {"A1": 1, "A2": 2, "B1": 3, "B2": 4}
    assert _one("=SUM($A$1:B$2)", cells) == 10
    assert _one("=$B1+A$2", cells) == 5


def test_defined_names_scalar_range_and_constant():
    wb = Workbook()
    inputs = wb.active
    inputs.title = "Inputs"
    inputs["D7"] = 0.5
    inputs["F1"], inputs["F2"], inputs["F3"] = 1, 2, 3
    _add_name(wb, "in_CheckTol", "Inputs!$D$7")
    _add_name(wb, "in_Series", "Inputs!$F$1:$F$3")
    _add_name(wb, "k_Thousand", "1000")
    checks = wb.create_sheet("Checks")
    checks["F30"], checks["F31"] = 100, 100.4
    checks["G30"], checks["G31"] = 100, 101
    checks["F32"] = "=--(ABS(F30-F31)>in_CheckTol)"
    checks["G32"] = "=--(ABS(G30-G31)>in_CheckTol)"
    checks["A1"] = "=SUM(in_Series)*k_Thousand"
    checks["A2"] = "=INDEX(in_Series, 2)"
    checks["A3"] = "=IN_CHECKTOL"  # names are case-insensitive
    checks["A4"] = "=MIN(1, SUM(F32:G32))"  # the sheet-total pattern
    res = evaluate_workbook(wb)
    assert res.values[("Checks", "F32")] == 0
    assert res.values[("Checks", "G32")] == 1
    assert res.values[("Checks", "A1")] == 6000
    assert res.values[("Checks", "A2")] == 2
    assert res.values[("Checks", "A3")] == 0.5
    assert res.values[("Checks", "A4")] == 1


def test_name_pointing_to_formula_cell_is_evaluated_first():
    wb = _book({"A1": 2, "A2": "=A1*10", "B1": "=chk_Master+1"})
    _add_name(wb, "chk_Master", "Sheet!$A$2")
    assert evaluate_workbook(wb).values[("Sheet", "B1")] == 21


def test_structured_reference_is_a_clear_error():
    wb = _book({"A1": "=SUM(tblData[value_musd])"})
    with pytest.raises(AicapexError, match=r"Sheet!A1.*structured reference"):
        evaluate_workbook(wb)


def test_lazy_dependency_order_and_long_chains():
    # the formula cells are written bottom-up; a 3,000-cell chain must not hit recursion limits
    n = 3000
    cells: dict[str, object] = {"A1": 1}
    for r in range(n, 1, -1):
        cells[f"A{r}"] = f"=A{r - 1}+1"
    res = evaluate_workbook(_book(cells))
    assert res.values[("Sheet", f"A{n}")] == n


# ------------------------------------------------------------------------------------------
# Custom functions, spills, array formulas
# ------------------------------------------------------------------------------------------
def cpx_grid(rows, cols):
    """A 2-D result: value = 10*row + col (1-based)."""
    return [[10 * r + c for c in range(1, int(cols) + 1)] for r in range(1, int(rows) + 1)]


def cpx_ratio(a, b):
    if b in (None, 0):
        return XlError("#DIV/0!", "CPX_RATIO: zero or missing denominator")
    return a / b


def cpx_shape(x):
    """Reports what Excel-shaped argument it received."""
    if isinstance(x, list):
        return f"{len(x)}x{len(x[0])}:" + ",".join(repr(v) for row in x for v in row)
    return f"scalar:{x!r}"


UDFS = {
    "CPX_GRID": cpx_grid,
    "cpx_ratio": cpx_ratio,
    "CPX_SHAPE": cpx_shape,
    "CPX_NP": lambda n: np.arange(1, int(n) + 1, dtype=float).reshape(-1, 1),
    "CPX_BOOM": lambda: 1 / 0,
    "SUM": lambda *a: -1,  # a native name: the native SUM wins
}


def test_udf_scalar_call_nested_and_case_insensitive():
    cells = {"A1": 6, "A2": 3}
    assert _one("=CPX_RATIO(A1, A2)", cells, UDFS) == 2
    assert _one("=cpx_ratio(A1, CPX_RATIO(A2, 1))", cells, UDFS) == 2
    assert _one("=_xludf.CPX_RATIO(A1, A2)*2", cells, UDFS) == 4
    assert _one("=SUM(A1:A2)", cells, UDFS) == 9  # not the registry's SUM


def test_udf_receives_excel_shaped_arguments():
    cells = {"A1": 1, "A2": None, "B1": "x", "B2": True}
    assert _one("=CPX_SHAPE(A1)", cells, UDFS) == "scalar:1"
    assert _one("=CPX_SHAPE(A2)", cells, UDFS) == "scalar:None"
    assert _one("=CPX_SHAPE(A1:B2)", cells, UDFS) == "2x2:1,'x',None,True"
    assert _one("=CPX_SHAPE(A1:A1)", cells, UDFS) == "scalar:1"


def test_udf_error_value_and_exception_carry_reasons():
    wb = _book({"A1": 1, "B1": "=CPX_RATIO(A1, A2)", "B2": "=CPX_BOOM()", "B3": "=B1+1"})
    res = evaluate_workbook(wb, UDFS)
    assert res.values[("Sheet", "B1")] == "#DIV/0!"
    assert res.values[("Sheet", "B2")] == "#VALUE!"
    reasons = {(e.coord, e.code): e for e in res.errors}
    assert "zero or missing denominator" in reasons[("B1", "#DIV/0!")].reason
    assert "ZeroDivisionError" in reasons[("B2", "#VALUE!")].reason
    assert reasons[("B3", "#DIV/0!")].origin == "Sheet!B1"  # propagated, origin kept


def test_udf_2d_result_spills_and_feeds_other_formulas():
    wb = _book({"B2": "=CPX_GRID(2, 3)", "A10": "=SUM(B2:D3)", "A11": "=D3*2", "A12": "=C2"})
    res = evaluate_workbook(wb, UDFS)
    assert res.values[("Sheet", "B2")] == 11
    assert res.spills == {
        ("Sheet", "C2"): 12, ("Sheet", "D2"): 13,
        ("Sheet", "B3"): 21, ("Sheet", "C3"): 22, ("Sheet", "D3"): 23,
    }
    assert res.values[("Sheet", "A10")] == 11 + 12 + 13 + 21 + 22 + 23
    assert res.values[("Sheet", "A11")] == 46
    assert res.values[("Sheet", "A12")] == 12


def test_spill_read_before_anchor_in_sheet_order():
    # A1 sits above-left in evaluation order but reads a spill produced further down
    wb = _book({"A1": "=D6+1", "C5": "=CPX_GRID(2, 2)"})
    res = evaluate_workbook(wb, UDFS)
    assert res.values[("Sheet", "A1")] == 23


def test_numpy_result_spills_down():
    res = evaluate_workbook(_book({"A1": "=CPX_NP(3)", "B1": "=SUM(A1:A3)"}), UDFS)
    assert res.values[("Sheet", "A1")] == 1
    assert res.spills == {("Sheet", "A2"): 2, ("Sheet", "A3"): 3}
    assert res.values[("Sheet", "B1")] == 6


def test_blocked_spill_gives_spill_error_in_anchor():
    wb = _book({"B2": "=CPX_GRID(2, 2)", "C3": "in the way", "A1": "=B2"})
    res = evaluate_workbook(wb, UDFS)
    value = res.values[("Sheet", "B2")]
    assert value == "#SPILL!"
    assert "C3" in value.reason
    assert res.spills == {}
    assert res.values[("Sheet", "A1")] == "#SPILL!"


def test_native_range_result_spills():
    res = evaluate_workbook(_book({"A1": 1, "A2": 2, "C1": "=A1:A2*10"}))
    assert res.values[("Sheet", "C1")] == 10
    assert res.spills == {("Sheet", "C2"): 20}


def test_array_formula_fills_its_range():
    wb = _book({"A1": 1, "A2": 2, "B1": 3, "B2": 4, "D5": 99})
    wb.active["D4"] = ArrayFormula("D4:E5", "=A1:B2*2")
    res = evaluate_workbook(wb)
    assert res.values[("Sheet", "D4")] == 2
    # D5's stored 99 is the array's old cached value: it is overwritten, not blocking
    assert res.spills == {("Sheet", "E4"): 6, ("Sheet", "D5"): 4, ("Sheet", "E5"): 8}


def test_array_formula_survives_an_openpyxl_round_trip(tmp_path):
    wb = _book({"A1": 1, "A2": 2, "C1": "=SUM(D1:D2)"})
    wb.active["D1"] = ArrayFormula("D1:D2", "=A1:A2+1")
    path = tmp_path / "af.xlsx"
    wb.save(path)
    res = evaluate_workbook(load_workbook(path))
    assert res.values[("Sheet", "D1")] == 2
    assert res.spills == {("Sheet", "D2"): 3}
    assert res.values[("Sheet", "C1")] == 5


def test_spills_that_collide_give_spill_error():
    udfs = {"CPX_COL": lambda n: [[i] for i in range(1, int(n) + 1)], "CPX_ROW": lambda: [[7, 8]]}
    wb = _book({"A1": "=CPX_COL(3)", "A3": "=CPX_ROW()"})
    res = evaluate_workbook(wb, udfs)
    assert res.values[("Sheet", "A1")] == "#SPILL!"  # A3 holds a formula
    assert res.values[("Sheet", "A3")] == 7
    assert res.spills == {("Sheet", "B3"): 8}


def test_index_with_computed_zero_row_spills_before_it_is_read():
    cells = {"A1": 1, "A2": 2, "B1": 3, "B2": 4, "D1": 0, "F1": "=G2*10",
             "F2": "=INDEX(A1:B2, D1, 2)"}
    res = evaluate_workbook(_book(cells))
    assert res.values[("Sheet", "F2")] == 3
    assert res.spills == {("Sheet", "F3"): 4}
    cells = {**cells, "F1": "=F3*10"}
    assert evaluate_workbook(_book(cells)).values[("Sheet", "F1")] == 40


def test_spilling_into_a_cell_the_formula_reads_is_a_cycle():
    udfs = {"CPX_PAIR": lambda x: [[1, 2]], "CPX_ECHO": lambda x: x}
    with pytest.raises(AicapexError, match=r"circular reference: Sheet!F1 spills into F1:G1"):
        evaluate_workbook(_book({"F1": "=CPX_PAIR(A5)", "A5": "=G1"}), udfs)
    # the same shape without a spill is fine
    res = evaluate_workbook(_book({"F1": "=CPX_ECHO(A5)", "A5": "=G1"}), udfs)
    assert res.values == {("Sheet", "F1"): 0, ("Sheet", "A5"): 0}


# ------------------------------------------------------------------------------------------
# Failures that stop the evaluation
# ------------------------------------------------------------------------------------------
def test_cycle_is_reported_with_its_path():
    wb = _book({"A1": "=B1+1", "B1": "=C1", "C1": "=A1", "D1": 5})
    with pytest.raises(AicapexError, match=r"circular reference: .*A1 -> .*B1 -> .*C1 -> .*A1"):
        evaluate_workbook(wb)


def test_self_reference_through_a_range_is_a_cycle():
    with pytest.raises(AicapexError, match=r"circular reference: Sheet!A3"):
        evaluate_workbook(_book({"A1": 1, "A2": 2, "A3": "=SUM(A1:A3)"}))


def test_cycle_across_sheets_is_reported():
    wb = Workbook()
    wb.active.title = "One"
    wb["One"]["A1"] = "=Two!A1"
    wb.create_sheet("Two")["A1"] = "=IF(FALSE, One!A1, 0)"  # Excel flags it whatever IF does
    with pytest.raises(AicapexError, match=r"One!A1 -> Two!A1 -> One!A1"):
        evaluate_workbook(wb)


@pytest.mark.parametrize("formula", ['=CELL("address", A1)', "=_xlfn.XLOOKUP(1, A1:A2, B1:B2)",
                                     "=1+INDIRECT(\"A1\")", "=CPX_UNKNOWN(1)"])
def test_unsupported_function_names_cell_and_function(formula):
    wb = _book({"A1": 1, "B7": formula})
    name = formula[1:].split("(")[0].split(".")[-1].split("+")[-1]
    with pytest.raises(AicapexError, match=rf"Sheet!B7.*unsupported function .*{name}"):
        evaluate_workbook(wb, UDFS)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("=1+", "ends unexpectedly"),
        ("=SUM(A1 B1)", "intersection operator"),
        ("=SUM((A1,B1))", "union operator"),
        ("=[1]Sheet1!A1", "external link"),
    ],
)
def test_unreadable_formulas_name_the_cell(formula, message):
    # the union and intersection operators parse (the export analyses them) but are not
    # evaluated: "cannot evaluate" rather than "cannot parse"
    with pytest.raises(AicapexError,
                       match=rf"Sheet!C3: cannot (parse|evaluate) formula .*{message}"):
        evaluate_workbook(_book({"C3": formula}))


def test_wrong_argument_count_is_reported():
    with pytest.raises(AicapexError, match=r"Sheet!A1.*ROUND takes 2 arguments"):
        evaluate_workbook(_book({"A1": "=ROUND(1)"}))


# ------------------------------------------------------------------------------------------
# API details
# ------------------------------------------------------------------------------------------
def test_xlerror_is_a_str_that_openpyxl_writes_as_an_error(tmp_path):
    err = XlError("#DIV/0!", "division by zero")
    assert err == "#DIV/0!" and isinstance(err, str) and err.reason == "division by zero"
    with pytest.raises(ValueError):
        XlError("#BOGUS!")
    wb = Workbook()
    wb.active["A1"] = err
    assert wb.active["A1"].data_type == "e"
    path = tmp_path / "e.xlsx"
    wb.save(path)
    assert load_workbook(path).active["A1"].value == "#DIV/0!"


def test_functions_in_formula_and_supported_list():
    assert functions_in_formula('=IF(SUM(A1:A2)>0, _xlfn.XLOOKUP(1, B1:B2, C1:C2), "MAX(")') == {
        "IF", "SUM", "XLOOKUP"}
    assert functions_in_formula("=cpx_capex_to_ocf($D12, F$4)") == {"CPX_CAPEX_TO_OCF"}
    assert functions_in_formula("=A1+1") == set()
    style_guide = {"SUM", "SUMIFS", "SUMPRODUCT", "COUNTIFS", "AVERAGE", "MIN", "MAX", "ABS",
                   "ROUND", "IF", "IFERROR", "AND", "OR", "NOT", "INDEX", "MATCH", "ISERROR",
                   "ISNUMBER", "DATE", "YEAR", "EOMONTH"}
    # one table: the export's portable list and the evaluator's supported list come from it,
    # so they agree (they used to disagree on COUNT, COUNTA, ISBLANK and NA)
    from aicapex.excel.export import PORTABLE_FUNCTIONS

    assert style_guide | {"COUNT", "COUNTA", "ISBLANK", "NA"} <= PORTABLE_FUNCTIONS
    assert PORTABLE_FUNCTIONS <= SUPPORTED_FUNCTIONS
    assert not {"OFFSET", "TODAY", "IFS", "XLOOKUP", "STDEV.S"} & PORTABLE_FUNCTIONS


def test_result_and_progress():
    seen = []
    wb = _book({"A1": 1, "A2": "=A1+1", "A3": "=A2+1"})
    res = evaluate_workbook(wb, progress=lambda done, total: seen.append((done, total)))
    assert isinstance(res, EvaluationResult)
    assert res.values == {("Sheet", "A2"): 2, ("Sheet", "A3"): 3}
    assert res.get("Sheet", "$A$3") == 3
    assert seen[-1] == (2, 2)
    assert res.errors == []


def test_workbook_is_not_modified():
    wb = _book({"A1": 1, "C1": "=CPX_GRID(2, 2)"})
    before = {(c.coordinate, c.value) for row in wb.active.iter_rows() for c in row}
    cells_before = len(wb.active._cells)
    evaluate_workbook(wb, UDFS)
    assert len(wb.active._cells) == cells_before
    assert {(c.coordinate, c.value) for row in wb.active.iter_rows() for c in row} == before


# ------------------------------------------------------------------------------------------
# Scale: ~10k formula cells
# ------------------------------------------------------------------------------------------
def test_ten_thousand_formula_cells():
    wb = Workbook()
    inputs = wb.active
    inputs.title = "Inputs"
    inputs["D7"] = 2
    _add_name(wb, "in_Step", "Inputs!$D$7")
    ws = wb.create_sheet("Calc")
    rows, periods = 1000, 9  # columns F..N, E is the empty period 0
    for r in range(6, 6 + rows):
        ws[f"D{r}"] = r
        for k in range(periods):
            col = chr(ord("F") + k)
            prev = chr(ord("F") + k - 1)
            # a corkscrew: previous period + the row key * the step input
            ws[f"{col}{r}"] = f"={prev}{r}+$D{r}*in_Step"
        ws[f"P{r}"] = f"=SUM(F{r}:N{r})"
    last = 6 + rows - 1
    ws["P2"] = f"=SUM(P6:P{last})"
    ws["P3"] = f'=COUNTIFS(N6:N{last}, ">"&N500)'
    ws["P4"] = f"=INDEX(N6:N{last}, MATCH(1000, D6:D{last}, 0))"
    res = evaluate_workbook(wb)
    assert len(res.values) == rows * (periods + 1) + 3
    # period k (1-based) holds k * r * 2; the row total is 2 r (1 + ... + 9) = 90 r
    for r in (6, 500, last):
        assert res.values[("Calc", f"F{r}")] == 2 * r
        assert res.values[("Calc", f"N{r}")] == 18 * r
        assert res.values[("Calc", f"P{r}")] == 90 * r
    assert res.values[("Calc", "P2")] == 90 * sum(range(6, last + 1))
    assert res.values[("Calc", "P3")] == last - 500
    assert res.values[("Calc", "P4")] == 18_000


# ------------------------------------------------------------------------------------------
# Cross-check against LibreOffice (independent engine)
# ------------------------------------------------------------------------------------------
# Not cross-checked: "x"&TRUE (LibreOffice booleans are numbers, giving "x1"; Excel gives
# "xTRUE"), COUNTIFS coercion of numeric text and empty criteria cells.
LO_FORMULAS = [
    "=-2^2", "=2+3*4", "=2^3^2", "=1-2^2", "=50%^2", "=1/0", '="a"&1.5&"b"', "=--(3>2)",
    '="abc"<"abd"', '=1<"a"', "=0.1+0.2=0.3", "=SUM(Data!C2:C7)", "=AVERAGE(Data!C2:C7)",
    "=MIN(Data!C2:C7)", "=MAX(Data!C2:C7)", "=COUNT(Data!A2:C7)", "=COUNTA(Data!A2:C7)",
    '=SUMIFS(Data!C2:C7, Data!A2:A7, "MSFT")', '=SUMIFS(Data!C2:C7, Data!C2:C7, ">5")',
    "=SUMIFS(Data!C2:C7, Data!A2:A7, in_Ticker, Data!B2:B7, 2025)",
    '=COUNTIFS(Data!A2:A7, "MSFT", Data!B2:B7, ">=2024")', '=COUNTIFS(Data!A2:A7, "G*")',
    '=MATCH("amzn", Data!A2:A7, 0)', "=MATCH(2024.5, Data!B2:B4, 1)",
    "=INDEX(Data!C2:C7, MATCH(in_Ticker, Data!A2:A7, 0))", "=INDEX(Data!A2:C7, 3, 3)",
    "=ROUND(2.675, 2)", "=ROUND(-2.5, 0)", "=ROUND(1234.5, -2)", "=ABS(-3.25)",
    '=IF(Data!C2>5, "big", "small")', '=IFERROR(1/0, "n/a")', "=AND(TRUE, 1>0)",
    "=OR(FALSE, 1>2)", "=NOT(FALSE)", "=ISERROR(Data!C7)", "=ISNUMBER(Data!A2)",
    "=ISBLANK(Data!D2)", "=SUMPRODUCT(--ISERROR(Data!A2:C7))",
    "=SUMPRODUCT(Data!B2:B4, Data!C2:C4)", "=DATE(2025, 6, 30)", "=YEAR(DATE(2025, 6, 30))",
    "=EOMONTH(DATE(2024, 1, 31), 1)", "=DATE(2025, 13, 1)", "=NA()",
    "=--(ABS(Data!C2-Data!C3)>in_CheckTol)", "=in_CheckTol*1000",
]


def _lo_value(v):
    if isinstance(v, dt.datetime):
        from openpyxl.utils.datetime import to_excel

        return to_excel(v)
    return v


def test_libreoffice_recalculates_the_same_values(soffice, tmp_path: Path):
    from aicapex.excel.libreoffice import recalculate

    wb = Workbook()
    data = wb.active
    data.title = "Data"
    rows = [("ticker", "fiscal_year", "value"), ("MSFT", 2024, 10), ("GOOGL", 2024, 3),
            ("msft", 2025, 7), ("AMZN", 2025, 5.5), ("MSFT", 2023, "n/a")]
    for row in rows:
        data.append(row)
    data["C7"] = "=1/0"
    data["E1"] = 0.5
    data["E2"] = "MSFT"
    _add_name(wb, "in_CheckTol", "Data!$E$1")
    _add_name(wb, "in_Ticker", "Data!$E$2")
    calc = wb.create_sheet("Calc")
    for i, formula in enumerate(LO_FORMULAS, start=1):
        calc[f"A{i}"] = formula
    src = tmp_path / "in" / "cross.xlsx"
    src.parent.mkdir()
    wb.save(src)

    ours = evaluate_workbook(load_workbook(src))

    out = recalculate(src, tmp_path / "out")
    theirs = load_workbook(out, data_only=True)["Calc"]

    mismatches = []
    for i, formula in enumerate(LO_FORMULAS, start=1):
        mine = ours.values[("Calc", f"A{i}")]
        lo = _lo_value(theirs[f"A{i}"].value)
        if isinstance(mine, XlError) or isinstance(lo, str) or isinstance(mine, str):
            same = str(mine) == str(lo)
        else:
            same = math.isclose(float(mine), float(lo), rel_tol=1e-12, abs_tol=1e-12)
        if not same:
            mismatches.append(f"{formula}: evaluator {mine!r}, LibreOffice {lo!r}")
    assert not mismatches, "\n".join(mismatches)


def test_identical_custom_function_calls_are_computed_once_per_evaluation():
    import openpyxl
    from aicapex.excel.evaluator import evaluate_workbook

    calls = []

    def table(x):
        calls.append(x)
        return [[x, x * 2], [x * 3, x * 4]]

    def kind(x):
        return type(x).__name__

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = 5
    ws["B1"] = "=INDEX(CPX_T(A1),1,2)"
    ws["B2"] = "=INDEX(CPX_T(A1),2,1)"
    ws["B3"] = "=INDEX(CPX_T(A1*2),2,2)"
    ws["C1"] = "=CPX_KIND(TRUE)"
    ws["C2"] = "=CPX_KIND(1)"
    r = evaluate_workbook(wb, {"CPX_T": table, "CPX_KIND": kind})
    assert (r.get(ws.title, "B1"), r.get(ws.title, "B2"), r.get(ws.title, "B3")) == (10, 15, 40)
    assert sorted(calls) == [5, 10]  # twice, not three times
    assert (r.get(ws.title, "C1"), r.get(ws.title, "C2")) == ("bool", "float")  # TRUE is not 1
