"""Headless formula evaluator for openpyxl workbooks (used by ``python -m aicapex refresh``).

A thin entry point kept for callers: the work is done by the formula package
:mod:`aicapex.formula` (parser, values, functions, dependency graph, interpreter).

Examples
--------
>>> from openpyxl import Workbook
>>> wb = Workbook()
>>> ws = wb.active
>>> ws["A1"], ws["A2"], ws["A3"] = 2, 3, "=-A1^2+A2*4"
>>> evaluate_workbook(wb).values[("Sheet", "A3")]
16.0
"""

from __future__ import annotations

from aicapex.formula import (
    ERROR_CODES,
    SUPPORTED_FUNCTIONS,
    CellError,
    EvaluationResult,
    UnsupportedCell,
    UnsupportedFormulas,
    XlError,
    evaluate_workbook,
    functions_in_formula,
)

__all__ = [
    "ERROR_CODES",
    "SUPPORTED_FUNCTIONS",
    "CellError",
    "EvaluationResult",
    "UnsupportedCell",
    "UnsupportedFormulas",
    "XlError",
    "evaluate_workbook",
    "functions_in_formula",
]
