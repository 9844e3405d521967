"""The formula rules of WORKBOOK_STYLE.md §5, checked on every sheet of the template.

One rule book for every sheet, read with the formula package's parser (never with substring
searches, which a text literal fools). Which native functions are allowed is the formula
package's table (:data:`aicapex.formula.PORTABLE_FUNCTIONS`: in Excel 2010+ without an
``_xlfn.`` prefix, computed the same by LibreOffice, not volatile) -- the same list the client
export keeps formulas by.
"""

from __future__ import annotations

import re

import pytest
from aicapex.excel import layout as L
from aicapex.formula import PORTABLE_FUNCTIONS, ParseError, parse
from aicapex.formula.parser import (
    ArrayLit,
    BadRef,
    Binary,
    Call,
    Literal,
    Name,
    StructRef,
    Unary,
    walk,
)
from workbook_fixtures import checked_cpx_calls, formula_cells

#: §5.4: "a test enforces 120".
MAX_LENGTH = 120
#: §5.3: unit conversions (1,000; 12; 100) and the 1 in ``1 + g``; 0 is the exact-match flag of
#: MATCH and the "no failure" of the checks (§6), which compare with 0.
ALLOWED_NUMBERS = {0.0, 1.0, 12.0, 100.0, 1000.0}
#: §5.5 and §5.6 name these; none may be on the portable list.
BANNED = {"OFFSET", "INDIRECT", "TODAY", "NOW", "RAND", "XLOOKUP", "XMATCH", "LET", "LAMBDA",
          "FILTER", "SORT", "UNIQUE", "SEQUENCE", "IFS", "MAXIFS", "TEXTJOIN"}
#: Functions whose text arguments are criteria (``">"``, ``"<=0"``).
CRITERIA_FUNCTIONS = {"COUNTIF", "COUNTIFS", "SUMIF", "SUMIFS", "AVERAGEIF", "AVERAGEIFS"}
TICKERS = {t.upper() for t in L.COVERAGE}
YEAR = re.compile(r"(?<![0-9])(19|20)[0-9]{2}(?![0-9])")


def rule_breaks(formula: str) -> list[str]:
    """What in ``formula`` breaks WORKBOOK_STYLE.md §5 ([] when nothing does)."""
    breaks = []
    if len(formula) > MAX_LENGTH:
        breaks.append(f"§5.4 longer than {MAX_LENGTH} characters ({len(formula)})")

    def visit(node, parent: str | None, ifs_above: int) -> None:
        t = type(node)
        if t is Call:
            if node.name == "IF" and ifs_above:
                breaks.append("§5.4 nested IF")
            if node.raw.upper() != node.name:
                breaks.append(f"§5.5 {node.raw}: a function stored with a prefix")
            if not node.name.startswith("CPX_") and node.name not in PORTABLE_FUNCTIONS:
                breaks.append(f"§5.5 {node.name} is not on the portable list")
            if node.name == "IFERROR" and node.args and any(
                    type(n) is Call and n.name.startswith("CPX_") for n in walk(node.args[0])):
                breaks.append("§5.9 IFERROR around a CPX_ call hides a gap")
            for arg in node.args:
                visit(arg, node.name, ifs_above + (node.name == "IF"))
        elif t is Binary:
            if node.op in (",", " "):
                breaks.append("§5.6 union or intersection operator")
            visit(node.left, node.op, ifs_above)
            visit(node.right, node.op, ifs_above)
        elif t is Unary:
            visit(node.operand, node.op, ifs_above)
        elif t is Literal:
            value = node.value
            if isinstance(value, float) and value not in ALLOWED_NUMBERS:
                breaks.append(f"§5.3 constant {value:g} belongs on Inputs")
            elif isinstance(value, str) and value:
                if value.strip().upper() in TICKERS or YEAR.search(value):
                    breaks.append(f"§5.2 {value!r} typed into a formula")
                elif not (parent == "&" or parent in CRITERIA_FUNCTIONS
                          or (parent or "").startswith("CPX_")):
                    # text is a label (joined with &), a criterion or a CPX_ option name
                    breaks.append(f"§5.3 text {value!r} belongs on Inputs")
        elif t is StructRef:
            breaks.append(f"§5.6 structured reference {node.text}")
        elif t is BadRef:
            breaks.append(f"§5.5/§5.6 {node.kind} {node.text}")
        elif t is ArrayLit:
            breaks.append("§5.3 array constant")
        elif t is Name and node.sheet is not None:
            breaks.append(f"§5.2 sheet-scoped name {node.text}")

    try:
        tree = parse(formula).tree
    except ParseError as exc:  # e.g. a spilled A1# reference, which openpyxl cannot tokenize
        return [f"cannot be read: {exc}"]
    visit(tree, None, 0)
    return breaks


def test_the_style_guides_banned_functions_are_not_on_the_portable_list():
    assert BANNED & PORTABLE_FUNCTIONS == set()
    # and the style guide's own list of portable functions is on it (§5.5)
    assert {"SUM", "SUMIFS", "SUMPRODUCT", "COUNTIFS", "AVERAGE", "MIN", "MAX", "ABS", "ROUND",
            "IF", "IFERROR", "AND", "OR", "NOT", "INDEX", "MATCH", "ISERROR", "ISNUMBER", "DATE",
            "YEAR", "EOMONTH"} <= PORTABLE_FUNCTIONS


@pytest.mark.parametrize("formula, broken", [
    ("=SUM(F8:F9)*1000", []),
    ("=IF(ISNUMBER(F8),F8,0)", []),
    ('=COUNTIFS(F8:M8,">"&$D$3)+COUNTIFS(F9:M9,"<=0")', []),
    ('=CPX_GUIDANCE(in_T,"latest")', []),
    ("=F8*1.05", ["§5.3 constant 1.05 belongs on Inputs"]),
    ('=CPX_VALUE("MSFT",F$4)', ["§5.2 'MSFT' typed into a formula"]),
    ('=IF(A1,"2025",B1)', ["§5.2 '2025' typed into a formula"]),
    ('=IF(A1,"high",B1)', ["§5.3 text 'high' belongs on Inputs"]),
    ("=IF(A1,IF(B1,1,0),0)", ["§5.4 nested IF"]),
    ("=OFFSET(A1,1,0)", ["§5.5 OFFSET is not on the portable list"]),
    ("=_xlfn.XLOOKUP(A1,B1:B9,C1:C9)",
     ["§5.5 _xlfn.XLOOKUP: a function stored with a prefix",
      "§5.5 XLOOKUP is not on the portable list"]),
    ("=SUM(A1:B2 B1:C3)", ["§5.6 union or intersection operator"]),
    ("=SUM(A1#)", ["cannot be read: Unexpected character at position 7 in '=SUM(A1#)'"]),
    ("=SUM(tblData[value_musd])", ["§5.6 structured reference tblData[value_musd]"]),
    ("=SUM([Book2.xlsx]Data!A1)", ["§5.5/§5.6 external link [Book2.xlsx]Data!A1"]),
    ("=IFERROR(CPX_FCF(A1,B1),0)", ["§5.9 IFERROR around a CPX_ call hides a gap"]),
    ("=" + "+".join(["F8"] * 41), ["§5.4 longer than 120 characters (123)"]),
])
def test_the_rule_book_reads_formulas_as_the_style_guide_does(formula, broken):
    assert rule_breaks(formula) == broken


@pytest.mark.parametrize("sheet", L.SHEETS)
def test_every_formula_of_the_sheet_follows_the_style_guide(template_book, sheet):
    if sheet not in template_book.sheetnames:
        pytest.skip(f"{sheet} is not in this build")
    cells = list(formula_cells(template_book[sheet]))
    breaks = {coord: rule_breaks(f) for coord, f in cells}
    assert {c: b for c, b in breaks.items() if b} == {}
    # every CPX_ call names a function of aicapex.udfs with a valid argument count
    checked_cpx_calls((f"{sheet}!{coord}", f) for coord, f in cells)


def test_every_call_knows_where_it_is_in_the_formula_text(template_book):
    """What web.py relies on to rename CPX_ functions: each call's span in the text."""
    seen = 0
    for ws in template_book.worksheets:
        for _, formula in formula_cells(ws):
            for call in parse(formula).calls:
                start, args_start, end = call.span
                assert formula[start:args_start] == call.raw + "("
                assert formula[end - 1] == ")"
                seen += 1
    assert seen > 1000
