"""Excel error values that carry a reason.

:class:`XlError` is a ``str`` equal to the Excel error code (``"#DIV/0!"``), so every runtime
recognises it as an error: xlwings' Office.js engine turns it into an error object, openpyxl
writes it as an error cell, and the headless evaluator propagates it. The ``reason`` says why,
for the runtimes that can show a message.
"""

from __future__ import annotations

ERROR_CODES = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!"}
)


class XlError(str):
    """An Excel error value; ``XlError("#N/A", "not reported") == "#N/A"``."""

    reason: str

    def __new__(cls, code: str, reason: str = "") -> XlError:
        if code not in ERROR_CODES:
            raise ValueError(f"not an Excel error code: {code!r}")
        obj = super().__new__(cls, code)
        obj.reason = " ".join(str(reason).split())
        return obj

    def __repr__(self) -> str:
        return f"XlError({str(self)!r}, {self.reason!r})"

    def __reduce__(self):  # keep the reason through pickling / copying
        return (XlError, (str(self), self.reason))


def is_error(value: object) -> bool:
    """True for an :class:`XlError` or a plain string that is an Excel error code."""
    return isinstance(value, str) and value in ERROR_CODES


def error_of(value: object) -> XlError | None:
    if isinstance(value, XlError):
        return value
    if is_error(value):
        return XlError(value)
    return None
