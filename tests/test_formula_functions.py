"""The functions analysts use that Excel and LibreOffice 7.4 share (issue #20 point 8).

Two kinds of evidence:

- every formula of ``CROSS_CHECK`` is computed by our evaluator and by LibreOffice (forced
  recalculation of the same workbook) and the two must agree cell by cell;
- edge cases follow Excel's documented behaviour, worked by hand (``EDATE``/``EOMONTH`` of a
  date that is not one, lookups that find nothing, ``TODAY`` as the refresh date...).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from aicapex.formula import FUNCTIONS, PORTABLE_FUNCTIONS, XlError, evaluate_workbook
from openpyxl import Workbook, load_workbook
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.table import Table

# ------------------------------------------------------------------------------ the workbook
DATA_ROWS = [("ticker", "year", "value_musd", "double"),
             ("MSFT", 2023, 10, None), ("GOOGL", 2024, 3, None), ("msft", 2025, 7, None),
             ("AMZN", 2025, 5.5, None), ("META", 2024, "n/a", None), ("ORCL", 2023, -2, None)]
STATS = [4, 8, 15, 16, 23, 42, 4, 1.5]  # E1:E8, x = F1:F8 = 1..8
DATES = [dt.datetime(2024, 1, 31), dt.datetime(2024, 2, 29), dt.datetime(2024, 7, 15),
         dt.datetime(2025, 3, 1), dt.datetime(2025, 12, 31)]  # G1:G5
FLOWS = [-1000, 200, 300, 400, 500]  # H1:H5
TEXTS = ["  Hello   World  ", "AI capex", "12.5", "2025-06-30"]  # I1:I4
SORTED = [(1, "one"), (3, "three"), (5, "five"), (7, "seven"), (9, "nine")]  # K1:L5


def cross_check_book() -> Workbook:
    wb = Workbook()
    data = wb.active
    data.title = "Data"
    for row in DATA_ROWS:
        data.append(row)
    for r in range(2, 8):  # this-row structured reference inside the table
        data[f"D{r}"] = "=tblData[[#This Row],[value_musd]]*2"
    data.add_table(Table(displayName="tblData", ref="A1:D7"))
    for i, v in enumerate(STATS, start=1):
        data[f"E{i}"], data[f"F{i}"] = v, i
    for i, d in enumerate(DATES, start=1):
        data[f"G{i}"] = d
    for i, v in enumerate(FLOWS, start=1):
        data[f"H{i}"] = v
    for i, v in enumerate(TEXTS, start=1):
        data[f"I{i}"] = v
    for j, (k, v) in enumerate(zip([10, 20, 30, 40], "abcd", strict=True)):
        col = "JKLM"[j]
        data[f"{col}10"], data[f"{col}11"] = k, v
    for i, (k, v) in enumerate(SORTED, start=1):
        data[f"K{i}"], data[f"L{i}"] = k, v
    calc = wb.create_sheet("Calc")
    for i, formula in enumerate(CROSS_CHECK, start=1):
        calc[f"A{i}"] = formula
    return wb


CROSS_CHECK = [
    # lookup and reference
    '=VLOOKUP("AMZN",Data!A2:C7,3,FALSE)', '=VLOOKUP("amzn",Data!A2:C7,3,0)',
    "=VLOOKUP(6,Data!K1:L5,2)", "=VLOOKUP(6,Data!K1:L5,2,TRUE)", "=VLOOKUP(0,Data!K1:L5,2)",
    '=VLOOKUP("zzz",Data!A2:C7,2,FALSE)', '=VLOOKUP("G*",Data!A2:C7,2,FALSE)',
    "=HLOOKUP(30,Data!J10:M11,2,FALSE)",
    "=HLOOKUP(25,Data!J10:M11,2)", "=LOOKUP(6,Data!K1:K5,Data!L1:L5)", "=LOOKUP(100,Data!K1:L5)",
    '=CHOOSE(2,"a","b","c")', "=CHOOSE(Data!F3,10,20,30)", "=CHOOSE(4,1,2,3)",
    "=SUM(OFFSET(Data!E1,1,0,3,1))", "=OFFSET(Data!A1,2,2)", "=ROWS(Data!A2:C7)",
    "=COLUMNS(Data!A2:C7)", "=ROW(Data!C5)", "=COLUMN(Data!C5)", "=ROW()", "=COLUMN()",
    "=INDEX(Data!K1:L5,MATCH(7,Data!K1:K5,0),2)", "=SUMPRODUCT((ROW(Data!E1:E8)>4)*Data!E1:E8)",
    # logical
    '=_xlfn.IFS(Data!E1>10,"big",Data!E1>3,"mid",TRUE,"small")', "=_xlfn.IFS(FALSE,1)",
    '=_xlfn.SWITCH(Data!F2,1,"one",2,"two","other")', '=_xlfn.SWITCH(9,1,"one")',
    '=_xlfn.SWITCH(9,1,"one","other")', "=_xlfn.XOR(TRUE,FALSE,TRUE)", "=_xlfn.XOR(Data!E1>3)",
    '=_xlfn.IFNA(VLOOKUP("zzz",Data!A2:C7,2,FALSE),"none")', '=_xlfn.IFNA(1/0,"x")',
    "=TRUE()", "=NOT(FALSE())",
    # information
    "=ISNA(NA())", "=ISNA(1/0)", "=ISERR(NA())", "=ISERR(1/0)", "=ISTEXT(Data!A2)",
    "=ISTEXT(Data!C2)", "=ISLOGICAL(TRUE)", "=ISLOGICAL(1)", "=ISNONTEXT(Data!C2)",
    "=ISNONTEXT(Data!A2)", "=ISNONTEXT(Data!Z99)", "=ISEVEN(4)", "=ISEVEN(-3.7)", "=ISODD(5)",
    "=ISODD(Data!E3)", "=N(Data!C2)", '=N("text")', "=N(TRUE)", "=TYPE(1)", '=TYPE("a")',
    "=TYPE(NA())", "=TYPE({1,2})",
    # text
    '=TEXT(1234.567,"#,##0.00")', '=TEXT(0.125,"0.0%")', '=TEXT(45838,"yyyy-mm-dd")',
    '=TEXT(-1500,"#,##0;(#,##0)")', '=TEXT(5,"000")', '=TEXT(45838,"mmm yyyy")',
    '=TEXT(0.5,"0.00E+00")', '=LEFT("Capex",3)', '=LEFT("Capex")', '=RIGHT("Capex",2)',
    '=MID("hyperscaler",6,5)', '=MID("abc",5,2)', "=LEN(Data!I1)", "=LEN(123.5)",
    '=FIND("c","AI capex")', '=FIND("C","AI capex")', '=SEARCH("C","AI capex")',
    '=SEARCH("p?x","AI capex")', '=SEARCH("z","AI capex")', '=SUBSTITUTE("a-b-c","-","+")',
    '=SUBSTITUTE("a-b-c","-","+",2)', '=REPLACE("abcdef",2,3,"X")', "=TRIM(Data!I1)",
    '=UPPER("capex")', '=LOWER("CapEx")', '=CONCATENATE("FY",2025," ",Data!A2)',
    "=_xlfn.CONCAT(Data!A2:A4)", '=VALUE("12.5")', "=VALUE(Data!I3)", '=VALUE("abc")',
    # math and statistics
    '=SUMIF(Data!A2:A7,"MSFT",Data!C2:C7)', '=SUMIF(Data!C2:C7,">5")',
    '=COUNTIF(Data!A2:A7,"m*")', '=AVERAGEIF(Data!A2:A7,"MSFT",Data!C2:C7)',
    '=AVERAGEIFS(Data!C2:C7,Data!B2:B7,">=2024",Data!C2:C7,">0")',
    '=AVERAGEIF(Data!A2:A7,"NVDA",Data!C2:C7)', "=MEDIAN(Data!E1:E8)",
    "=_xlfn.STDEV.S(Data!E1:E8)", "=_xlfn.STDEV.P(Data!E1:E8)", "=STDEV(Data!E1:E8)",
    "=STDEVP(Data!E1:E8)", "=PERCENTILE(Data!E1:E8,0.3)", "=_xlfn.PERCENTILE.INC(Data!E1:E8,0.9)",
    "=LARGE(Data!E1:E8,2)", "=SMALL(Data!E1:E8,3)", "=RANK(15,Data!E1:E8)",
    "=RANK(4,Data!E1:E8,1)", "=_xlfn.RANK.EQ(16,Data!E1:E8)",
    "=SLOPE(Data!E1:E8,Data!F1:F8)", "=INTERCEPT(Data!E1:E8,Data!F1:F8)",
    "=FORECAST(10,Data!E1:E8,Data!F1:F8)", "=_xlfn.FORECAST.LINEAR(10,Data!E1:E8,Data!F1:F8)",
    "=SUMPRODUCT(TREND(Data!E1:E8,Data!F1:F8,Data!F1:F3))", "=POWER(2,10)", "=SQRT(2)",
    "=LN(10)", "=EXP(1)", "=MOD(10,3)", "=MOD(-10,3)", "=MOD(10,-3)",
    "=MOD(1,0)", "=INT(-2.5)", "=ROUNDUP(2.341,2)", "=ROUNDUP(-2.341,1)", "=ROUNDDOWN(2.349,2)",
    "=ROUNDDOWN(-2.349,1)", "=ROUNDUP(1234,-2)",
    # financial
    "=NPV(0.1,Data!H2:H5)", "=NPV(0.08,-1000,300,400,500)", "=IRR(Data!H1:H5)",
    "=PMT(0.05/12,360,100000)", "=PMT(0.06,10,-5000,0,1)", "=PV(0.08,10,-1000)",
    "=FV(0.05,10,-100,-1000)", "=FV(0,10,-100)", "=RATE(10,-100,800)",
    "=RATE(360,-536.82,100000)*12", "=XNPV(0.09,Data!H1:H5,Data!G1:G5)",
    "=XIRR(Data!H1:H5,Data!G1:G5)",
    # dates
    "=EDATE(DATE(2024,1,31),1)", "=EDATE(Data!G3,-6)", "=EDATE(DATE(2025,3,31),-1)",
    "=YEARFRAC(DATE(2024,1,31),DATE(2024,7,31))", "=YEARFRAC(Data!G1,Data!G4,1)",
    "=YEARFRAC(Data!G2,Data!G5,1)", "=YEARFRAC(DATE(2024,2,29),DATE(2025,2,28),0)",
    "=YEARFRAC(Data!G5,Data!G1,2)", "=YEARFRAC(Data!G1,Data!G5,3)",
    "=YEARFRAC(Data!G1,Data!G5,4)", "=YEARFRAC(Data!G3,Data!G4,1)",
    '=DATEDIF(Data!G1,Data!G5,"Y")', '=DATEDIF(Data!G1,Data!G5,"M")',
    '=DATEDIF(Data!G1,Data!G5,"D")', '=DATEDIF(Data!G1,Data!G5,"YM")',
    '=DATEDIF(Data!G3,Data!G4,"YD")', "=DAY(Data!G2)",
    "=MONTH(Data!G2)", "=WEEKDAY(Data!G1)", "=WEEKDAY(Data!G1,2)", "=WEEKDAY(Data!G1,3)",
    "=WEEKDAY(DATE(2025,6,29),11)", "=NETWORKDAYS(Data!G1,Data!G3)",
    "=NETWORKDAYS(Data!G3,Data!G1)", "=NETWORKDAYS(Data!G1,Data!G3,Data!G2)",
    "=TODAY()>DATE(2020,1,1)", "=EOMONTH(Data!G2,1)",
    # structured references to a Table
    "=SUM(tblData[value_musd])", "=COUNTA(tblData[ticker])", "=SUM(tblData[[year]:[value_musd]])",
    '=SUMIFS(tblData[value_musd],tblData[ticker],"MSFT")', "=SUM(tblData[double])",
]

def _called(formula: str) -> set[str]:
    from aicapex.formula import functions_in_formula

    return functions_in_formula(formula)


def test_every_portable_function_is_cross_checked_with_libreoffice():
    from test_evaluator import LO_FORMULAS

    checked = set().union(*(_called(f) for f in CROSS_CHECK + LO_FORMULAS))
    assert PORTABLE_FUNCTIONS - checked == set()


def _as_number(v):
    if isinstance(v, dt.datetime):
        return float(to_excel(v))
    return v


def _same(mine, lo) -> bool:
    if mine == "" and lo is None:  # LibreOffice stores an empty text result as no value
        return True
    if isinstance(mine, XlError) or isinstance(lo, str) or isinstance(mine, str):
        return str(mine) == str(lo)
    if isinstance(mine, bool) or isinstance(lo, bool):
        return mine == lo
    return math.isclose(float(mine), float(lo), rel_tol=1e-9, abs_tol=1e-9)


def test_functions_agree_with_libreoffice_cell_by_cell(soffice, tmp_path: Path):
    from aicapex.excel.libreoffice import recalculate

    src = tmp_path / "cross.xlsx"
    cross_check_book().save(src)
    ours = evaluate_workbook(load_workbook(src), today=dt.date.today())
    lo = load_workbook(recalculate(src, tmp_path / "out"), data_only=True)
    mismatches = []
    cells = [("Calc", f"A{i}", f) for i, f in enumerate(CROSS_CHECK, start=1)]
    cells += [("Data", f"D{r}", "this row") for r in range(2, 8)]
    for sheet, coord, formula in cells:
        mine = ours.get(sheet, coord)
        theirs = _as_number(lo[sheet][coord].value)
        if not _same(mine, theirs):
            mismatches.append(f"{sheet}!{coord} {formula}: ours {mine!r}, LibreOffice {theirs!r}")
    assert not mismatches, "\n".join(mismatches)


# ------------------------------------------------------------------------------ by hand
def _one(formula: str, cells: dict | None = None, today: dt.date | None = None):
    wb = cross_check_book()
    ws = wb["Calc"]
    for coord, v in (cells or {}).items():
        ws[coord] = v
    ws["Z1"] = formula
    return evaluate_workbook(wb, today=today).values[("Calc", "Z1")]


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # Excel: "If start_date is not a valid date, EDATE returns the #VALUE! error value"
        ('=EDATE("not a date",1)', "#VALUE!"),
        ('=EOMONTH("2025-02-30",0)', "#VALUE!"),  # no such day: text that is not a date
        ("=EDATE(-1,1)", "#NUM!"),  # a serial before 1900-01-00
        ("=EOMONTH(DATE(9999,12,1),1)", "#NUM!"),  # past 9999-12-31
        ('=EDATE("2024-01-31",1)', 45351),  # ISO text converts: 2024-02-29
        ("=EDATE(DATE(2024,1,31),1.9)", 45351),  # months are truncated
        ('=YEARFRAC(DATE(2024,1,1),DATE(2025,1,1),5)', "#NUM!"),
        ('=DATEDIF(DATE(2025,1,1),DATE(2024,1,1),"D")', "#NUM!"),
        ('=DATEDIF(DATE(2024,1,1),DATE(2025,1,1),"W")', "#NUM!"),
        ("=WEEKDAY(DATE(2025,6,30),4)", "#NUM!"),
        ('=VLOOKUP("NVDA",Data!A2:C7,2,FALSE)', "#N/A"),
        ('=VLOOKUP("MSFT",Data!A2:C7,0,FALSE)', "#VALUE!"),
        ("=CHOOSE(0,1,2)", "#VALUE!"),
        ("=OFFSET(Data!A1,-1,0)", "#REF!"),
        ("=OFFSET(Data!A1,0,0,0,1)", "#REF!"),
        ('=MID("abc",0,1)', "#VALUE!"),
        ('=LEFT("abc",-1)', "#VALUE!"),
        ("=IRR({1,2,3})", "#NUM!"),  # no sign change
        ("=XIRR({-100,110},{45000,44000})", "#NUM!"),  # a date before the first
        ('=XNPV(0.1,{-100,110},{45000,"x"})', "#VALUE!"),
        ("=SLOPE({1,2},{3,3})", "#DIV/0!"),
        ("=MEDIAN(Data!A2:A7)", "#NUM!"),
        ('=SUM(tblData[value_musd])', 23.5),
        # Excel's documented answers where LibreOffice 7.4 gives another (see the README):
        ('=VLOOKUP("AMZN",Data!A2:C7,4,FALSE)', "#REF!"),  # LibreOffice: #VALUE!
        ("=TYPE(TRUE)", 4),  # LibreOffice: 1 (its logical values are numbers)
        ("=LARGE(Data!E1:E8,9)", "#NUM!"),  # LibreOffice: #VALUE!
        ("=RANK(5,Data!E1:E8)", "#N/A"),  # 5 is not in the list; LibreOffice: 6
        ("=SQRT(-1)", "#NUM!"),  # LibreOffice: #VALUE!
        ("=LN(0)", "#NUM!"),  # LibreOffice: #VALUE!
        ('=DATEDIF(Data!G5,Data!G1,"D")', "#NUM!"),  # LibreOffice: #VALUE!
        ("=ROWS(tblData[#All])", 7),  # LibreOffice 7.4 reads [#All] as #NAME?
        ("=ROWS(tblData[#Data])", 6),
        ("=INDEX(tblData[#Headers],1,2)", "year"),  # LibreOffice: #VALUE!
        ("=ROUNDDOWN(-2.5,0)", -2),
        ("=ROUNDUP(-2.5,0)", -3),
    ],
)
def test_documented_edge_cases(formula, expected):
    value = _one(formula)
    if isinstance(expected, str) and expected.startswith("#"):
        assert isinstance(value, XlError) and value == expected, value
    else:
        assert value == pytest.approx(expected)


def test_today_is_the_refresh_date():
    assert _one("=TODAY()", today=dt.date(2026, 11, 26)) == 46352  # 2026-11-26
    assert _one("=YEAR(TODAY())", today=dt.date(2031, 1, 2)) == 2031


def test_financial_functions_match_worked_examples():
    # Excel's documentation examples: PMT(8%/12, 10, 10000) = -1,037.03
    assert _one("=PMT(0.08/12,10,10000)") == pytest.approx(-1037.0320893591, rel=1e-10)
    # NPV(10%, -10000, 3000, 4200, 6800) = 1,188.44 (Excel's NPV help example)
    assert _one("=NPV(0.1,-10000,3000,4200,6800)") == pytest.approx(1188.4434123352, rel=1e-10)
    # XNPV/XIRR help example: flows -10000, 2750, 4250, 3250, 2750 on 2008-01-01, 03-01,
    # 10-30, 2009-02-15, 04-01 -> XNPV(9%) = 2,086.65; XIRR = 37.34%
    cells = {"B1": -10000, "B2": 2750, "B3": 4250, "B4": 3250, "B5": 2750,
             "C1": dt.datetime(2008, 1, 1), "C2": dt.datetime(2008, 3, 1),
             "C3": dt.datetime(2008, 10, 30), "C4": dt.datetime(2009, 2, 15),
             "C5": dt.datetime(2009, 4, 1)}
    assert _one("=XNPV(0.09,B1:B5,C1:C5)", cells) == pytest.approx(2086.6476, abs=5e-5)
    # (Excel stops iterating within 0.000001%, so its 0.373362535 is 1.5e-9 from the root)
    assert _one("=XIRR(B1:B5,C1:C5)", cells) == pytest.approx(0.373362535, abs=5e-9)


def test_structured_references_this_row_and_unknown_names():
    wb = cross_check_book()
    res = evaluate_workbook(wb)
    assert [res.values[("Data", f"D{r}")] for r in (2, 3, 7)] == [20, 6, -4]
    assert res.values[("Data", "D6")] == "#VALUE!"  # "n/a" * 2
    wb["Calc"]["Z1"] = "=SUM(tblData[nope])"
    with pytest.raises(Exception, match=r"Calc!Z1: .*table tblData has no column 'nope'"):
        evaluate_workbook(wb)


def test_the_table_says_why_a_function_is_not_portable():
    for name in ("OFFSET", "TODAY", "TEXT", "IFS", "STDEV.S", "CONCAT", "TYPE"):
        assert not FUNCTIONS[name].portable and FUNCTIONS[name].note, name


def test_readme_lists_every_supported_function_and_marks_the_unportable():
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Formulas the headless refresh computes", 1)[1].split("\n## ", 1)[0]
    listed: dict[str, bool] = {}
    for row in re.findall(r"^\| [a-z]+ \| ([A-Z].+) \|$", section, re.MULTILINE):
        for item in row.split(", "):
            name = item.split(" ")[0]
            listed[name.rstrip("\\*")] = not name.endswith("*")
    assert listed == {name: fn.portable for name, fn in FUNCTIONS.items()}


def test_one_registry_every_entry_is_implemented_where_its_category_says():
    # the old evaluator had a table of 25 names of which 8 had no implementation and were
    # computed by an if-chain elsewhere; now each entry carries its own implementation
    for name, fn in FUNCTIONS.items():
        assert callable(fn.impl), name
        assert fn.impl.__module__ == f"aicapex.formula.functions.{fn.category}", name
        assert fn.max_args is None or fn.min_args <= fn.max_args, name


def test_structured_reference_forms():
    wb = Workbook()
    ws = wb.active
    for row in (["name", "v", "w"], ["a", 1, None], ["b", 2, None], ["total", 3, None]):
        ws.append(row)
    ws["C2"], ws["C3"] = "=[@v]*10", "=tblT[@v]+tblT[@[name]]"  # the two typed forms
    ws.add_table(Table(displayName="tblT", ref="A1:C4", totalsRowCount=1))
    ws["E1"] = "=SUM(tblT[v])"  # data rows only: 1 + 2
    ws["E2"] = "=tblT[[#Totals],[v]]"
    ws["E3"] = "=ROWS(tblT[[#Headers],[#Data],[v]])"
    ws["E4"] = "=COLUMNS(tblT[[name]:[v]])"
    ws["E5"] = "=TBLT[V]"  # names are case-insensitive; a 2-row column spills
    res = evaluate_workbook(wb)
    assert res.values[("Sheet", "C2")] == 10
    assert res.values[("Sheet", "C3")] == "#VALUE!"  # 2 + "b"
    assert [res.values[("Sheet", f"E{r}")] for r in (1, 2, 3, 4, 5)] == [3, 3, 3, 2, 1]
    assert res.spills[("Sheet", "E6")] == 2
