"""The native functions by category, and the one table of them.

:data:`FUNCTIONS` maps each name to its :class:`~aicapex.formula.functions.registry.Fn`
entry (implementation, arity, how it is called, whether it is portable). The headless
evaluator computes exactly :data:`SUPPORTED_FUNCTIONS`; the client export keeps a formula
live only if it uses :data:`PORTABLE_FUNCTIONS` (see the registry module for what portable
means).

>>> {"SUM", "VLOOKUP", "XIRR"} <= SUPPORTED_FUNCTIONS, "OFFSET" in PORTABLE_FUNCTIONS
(True, False)
>>> FUNCTIONS["STDEV.S"].category, FUNCTIONS["STDEV.S"].portable, FUNCTIONS["STDEV"].portable
('statistics', False, True)
"""

from __future__ import annotations

from aicapex.formula.functions import (  # noqa: F401 - importing registers the functions
    aggregate,
    date,
    financial,
    info,
    logic,
    lookup,
    math,
    statistics,
    text,
)
from aicapex.formula.functions.registry import FUNCTIONS, Fn

__all__ = ["FUNCTIONS", "PORTABLE_FUNCTIONS", "SUPPORTED_FUNCTIONS", "Fn", "function_table"]

#: Every function the evaluator computes.
SUPPORTED_FUNCTIONS: frozenset[str] = frozenset(FUNCTIONS)
#: The functions a client copy may keep in a live formula.
PORTABLE_FUNCTIONS: frozenset[str] = frozenset(n for n, f in FUNCTIONS.items() if f.portable)


def function_table() -> list[tuple[str, str, bool, str]]:
    """(category, name, portable, note) for every function, sorted by category and name."""
    return sorted((f.category, f.name, f.portable, f.note) for f in FUNCTIONS.values())
