"""What may leave the analyst copy: portable formulas and the sheets that never go.

The client export (:mod:`aicapex.excel.export`) keeps a native formula only if another
spreadsheet program computes it the same way; :func:`portability_problems` says why one may
not stay, from the formula package's parse and its table of portable functions
(:data:`aicapex.formula.PORTABLE_FUNCTIONS`). The export and its verification
(:mod:`aicapex.excel.verify`) both ask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aicapex.formula import PORTABLE_FUNCTIONS as PORTABLE
from aicapex.formula.parser import (
    ArrayLit,
    BadRef,
    Binary,
    Call,
    Literal,
    Name,
    ParseError,
    Ref,
    StructRef,
    parse,
    walk,
)
from aicapex.xlerrors import XlError

__all__ = [
    "PORTABLE_FUNCTIONS",
    "TEXT_LEADS",
    "FormulaInfo",
    "analyse_formula",
    "is_dropped_sheet",
    "portability_problems",
]

#: Functions a kept native formula may use: the portable ones of the formula package's table
#: (Excel 2010+ without ``_xlfn.``, LibreOffice 7.4 gives the same result, not volatile).
PORTABLE_FUNCTIONS = PORTABLE
#: Text starting with one of these becomes a formula when edited: it needs the quote prefix.
TEXT_LEADS = ("=", "+", "-", "@")


def is_dropped_sheet(title: str) -> bool:
    """True for the sheets that never leave the analyst copy (``xlwings.conf``, ``_xlwings*``).

    >>> is_dropped_sheet("xlwings.conf"), is_dropped_sheet("_xlwings.conf"), is_dropped_sheet("Data")
    (True, True, False)
    """
    low = title.strip().lower()
    return low == "xlwings.conf" or low.startswith("_xlwings")


# --------------------------------------------------------------------------- formulas
@dataclass
class FormulaInfo:
    """What a formula uses: functions, A1 references ``(sheet or None, bounds)``, names."""

    functions: set[str] = field(default_factory=set)
    refs: list[tuple[str | None, tuple[int, int, int, int]]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def analyse_formula(formula: str) -> FormulaInfo:
    """Functions, references and names of an A1 formula (with or without the leading ``=``),
    read with the formula package's parser; ``problems`` says what a client copy cannot keep.

    >>> info = analyse_formula("=SUM(F8,Ratios!$F$16)/SUM(F9:H9)+in_CheckTol")
    >>> sorted(info.functions), info.refs[1], sorted(info.names), info.problems
    (['SUM'], ('Ratios', (16, 6, 16, 6)), ['in_CheckTol'], [])
    >>> analyse_formula("=SUM(tblData[value_musd])").problems
    ['structured reference tblData[value_musd]']
    """
    info = FormulaInfo()
    try:
        tree = parse(formula).tree
    except ParseError as exc:
        info.problems.append(f"cannot parse ({exc})")
        return info
    for node in walk(tree):
        if isinstance(node, Call):
            info.functions.add(node.raw.strip().upper())  # as stored: _xlfn. is a problem
        elif isinstance(node, Ref):
            if node.whole:
                info.problems.append(f"whole-column or whole-row range {node.text}")
            else:
                info.refs.append((node.sheet, (node.r1, node.c1, node.r2, node.c2)))
        elif isinstance(node, Name):
            if node.sheet is None:
                info.names.add(node.name)
            else:
                info.problems.append(f"unsupported reference {node.text}")
        elif isinstance(node, StructRef):
            info.problems.append(f"structured reference {node.text}")
        elif isinstance(node, BadRef):
            info.problems.append(f"{node.kind} {node.text}")
        elif isinstance(node, Literal) and isinstance(node.value, XlError):
            info.problems.append(f"error literal {node.value}")
        elif isinstance(node, ArrayLit):
            info.problems.append("array constant")
        elif isinstance(node, Binary) and node.op == " ":
            info.problems.append("intersection operator")
    return info


def portability_problems(
    formula: str,
    *,
    sheets: Iterable[str],
    names: Iterable[str],
) -> list[str]:
    """Why ``formula`` may not stay a formula in the client copy ([] when it may).

    ``sheets``: titles of the exported sheets; ``names``: defined names kept in the export
    (each a plain reference into those sheets). Case-insensitive, as in Excel.

    >>> portability_problems("=CPX_VALUE($D8,F$4)+'xlwings.conf'!B1", sheets=["Ratios"],
    ...                      names=[])
    ['function CPX_VALUE', 'reference to a sheet not in the export: xlwings.conf']
    """
    info = analyse_formula(formula)
    problems = list(info.problems)
    for fn in sorted(info.functions - PORTABLE_FUNCTIONS):
        problems.append(f"function {fn}")
    known = {s.lower() for s in sheets}
    for sheet, _ in info.refs:
        if sheet is not None and sheet.lower() not in known:
            problems.append(f"reference to a sheet not in the export: {sheet}")
    kept = {n.lower() for n in names}
    for name in sorted(info.names):
        if name.lower() not in kept:
            problems.append(f"name {name} is not a kept defined name")
    return problems
