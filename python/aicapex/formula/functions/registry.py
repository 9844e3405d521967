"""The function table: one entry per native function, registered by its category module.

Each entry says how the interpreter calls the function and whether it is **portable**: Excel
2010+ stores it without an ``_xlfn.`` prefix, LibreOffice 7.4 computes the same result
(checked cell by cell in ``tests/test_formula_libreoffice.py``) and it is not volatile, so a
client copy may keep it as a live formula (WORKBOOK_STYLE.md section 5.5). Functions that
both programs compute but that fail one of those tests are supported by the evaluator and
marked not portable, with the reason in ``note``.

Calling conventions (``kind``):

- ``values``: ``impl(*args)`` with evaluated arguments;
- ``context``: ``impl(ctx, *args)``, ``ctx`` being the interpreter (date system, refresh
  date, range indexes);
- ``lazy``: ``impl(ctx, nodes, sheet)`` with the unevaluated argument trees (``IF`` evaluates
  one branch; ``ROW`` reads a reference's position, not its value).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ALWAYS",
    "ELEMENTWISE",
    "FUNCTIONS",
    "NEVER",
    "Fn",
    "all_args",
    "args_at",
    "no_args",
    "register",
]

VALUES, CONTEXT, LAZY = "values", "context", "lazy"


def all_args(_i: int) -> bool:
    return True


def no_args(_i: int) -> bool:
    return False


def args_at(*positions: int) -> Callable[[int], bool]:
    """Argument positions taken as ranges (others as single values)."""
    wanted = frozenset(positions)

    def pick(i: int) -> bool:
        return i in wanted

    return pick


def NEVER(_flags: list[bool]) -> bool:  # noqa: N802 - a constant-like predicate
    return False


def ELEMENTWISE(flags: list[bool]) -> bool:  # noqa: N802
    return any(flags)


def ALWAYS(_flags: list[bool]) -> bool:  # noqa: N802
    return True


@dataclass(frozen=True)
class Fn:
    """One native function.

    Attributes
    ----------
    name, category : str
        Excel's name (upper case, no ``_xlfn.``) and the module that implements it.
    impl : callable
        See the module docstring for how it is called (``kind``).
    min_args, max_args : int, int or None
        Arity (``None``: any number).
    ref_args : callable
        ``ref_args(i)``: is argument ``i`` taken as a range (a one-cell reference stays a
        1x1 range, so ``SUM(A1)`` ignores text in ``A1``)?
    spill : callable
        ``spill(flags)``: may the result be an array larger than 1x1, given which arguments
        may be; used to find formulas that may spill before they are evaluated.
    portable : bool
        May a client copy keep it as a formula (see the module docstring)?
    note : str
        Why it is not portable, or where Excel and LibreOffice differ.
    ref_only : callable
        ``ref_only(i)``: argument ``i``'s reference is read for its position only (``ROW``,
        ``OFFSET``'s base): not a dependency.
    """

    name: str
    category: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None
    kind: str = VALUES
    ref_args: Callable[[int], bool] = no_args
    spill: Callable[[list[bool]], bool] = ELEMENTWISE
    portable: bool = False
    note: str = ""
    ref_only: Callable[[int], bool] = no_args

    def arity_text(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.min_args == self.max_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"


#: Every native function by name.
FUNCTIONS: dict[str, Fn] = {}


def register(
    name: str,
    category: str,
    args: tuple[int, int | None],
    *,
    kind: str = VALUES,
    refs: Callable[[int], bool] = no_args,
    spill: Callable[[list[bool]], bool] = ELEMENTWISE,
    portable: bool = False,
    note: str = "",
    ref_only: Callable[[int], bool] = no_args,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding ``impl`` to :data:`FUNCTIONS` under ``name`` (and returning it)."""

    def add(impl: Callable[..., Any]) -> Callable[..., Any]:
        if name in FUNCTIONS:
            raise ValueError(f"function {name} registered twice")
        FUNCTIONS[name] = Fn(name, category, impl, args[0], args[1], kind, refs, spill,
                             portable, note, ref_only)
        return impl

    return add
