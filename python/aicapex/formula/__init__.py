"""The one formula package: parse, analyse and evaluate Excel formulas without Excel.

Modules, as pycel and ``formulas`` split theirs:

- :mod:`~aicapex.formula.parser` -- formula text to expression tree (openpyxl's tokenizer);
  the only formula parser of the project (the evaluator, the client export's portability
  analysis and the tests use it);
- :mod:`~aicapex.formula.values` -- Excel value semantics: coercion, comparison,
  broadcasting, date serials; :mod:`~aicapex.formula.criteria` -- ``">5"``-style criteria;
  :mod:`~aicapex.formula.numfmt` -- number format codes for ``TEXT``;
- :mod:`~aicapex.formula.functions` -- the native functions by category, with the one table
  saying which are portable to other spreadsheet programs;
- :mod:`~aicapex.formula.udf` -- the bridge to custom (``CPX_``) functions;
- :mod:`~aicapex.formula.tables` -- structured references to Excel Tables;
- :mod:`~aicapex.formula.graph` -- dependency graph, order, spills and array formulas;
- :mod:`~aicapex.formula.interpreter` -- :func:`evaluate_workbook`.

>>> from openpyxl import Workbook
>>> wb = Workbook()
>>> ws = wb.active
>>> ws["A1"], ws["A2"], ws["A3"] = 2, 3, "=-A1^2+A2*4"
>>> evaluate_workbook(wb).values[("Sheet", "A3")]
16.0
"""

from __future__ import annotations

from aicapex.formula.functions import (
    FUNCTIONS,
    PORTABLE_FUNCTIONS,
    SUPPORTED_FUNCTIONS,
    function_table,
)
from aicapex.formula.interpreter import (
    CellError,
    EvaluationResult,
    UnsupportedCell,
    UnsupportedFormulas,
    evaluate_workbook,
)
from aicapex.formula.parser import (
    Parsed,
    ParseError,
    function_calls,
    functions_in_formula,
    parse,
)
from aicapex.xlerrors import ERROR_CODES, XlError

__all__ = [
    "ERROR_CODES",
    "FUNCTIONS",
    "PORTABLE_FUNCTIONS",
    "SUPPORTED_FUNCTIONS",
    "CellError",
    "EvaluationResult",
    "ParseError",
    "Parsed",
    "UnsupportedCell",
    "UnsupportedFormulas",
    "XlError",
    "evaluate_workbook",
    "function_calls",
    "function_table",
    "functions_in_formula",
    "parse",
]
