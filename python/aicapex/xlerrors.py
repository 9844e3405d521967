"""Excel error values that carry a reason.

:class:`XlError` is a ``str`` equal to the Excel error code (``"#DIV/0!"``), so every runtime
recognises it as an error: xlwings' Office.js engine turns it into an error object, openpyxl
writes it as an error cell, and the headless evaluator propagates it. The ``reason`` says why,
for the runtimes that can show a message.
"""

from __future__ import annotations

ERROR_CODES = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!",
     "#GETTING_DATA"}
)


class XlError(str):
    """An Excel error value; ``XlError("#N/A", "not reported") == "#N/A"``.

    ``origin`` is the ``"Sheet!A1"`` cell where the error first appeared, when known (the
    headless evaluator sets it).

    >>> e = XlError("#DIV/0!", "ocf is zero")
    >>> e == "#DIV/0!", e.reason
    (True, 'ocf is zero')
    """

    reason: str
    origin: str | None

    def __new__(cls, code: str, reason: str | None = "", origin: str | None = None) -> XlError:
        code = str(code)
        if code not in ERROR_CODES:
            raise ValueError(f"not an Excel error code: {code!r}")
        obj = super().__new__(cls, code)
        obj.reason = " ".join(str(reason).split()) if reason else ""
        obj.origin = origin
        return obj

    def __repr__(self) -> str:
        return f"XlError({str(self)!r}, {self.reason!r})"

    def __reduce__(self):  # keep the reason through pickling / copying
        return (XlError, (str(self), self.reason, self.origin))


def is_error(value: object) -> bool:
    """True for an :class:`XlError` or a plain string that is an Excel error code."""
    return isinstance(value, str) and value in ERROR_CODES


def error_of(value: object) -> XlError | None:
    if isinstance(value, XlError):
        return value
    if is_error(value):
        return XlError(value)
    return None
