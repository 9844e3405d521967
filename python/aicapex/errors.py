"""One exception type for every user-facing failure.

Messages are one line and name the file, ticker, field or argument at fault, so the
command line can print them as they are and a UDF can show them as an error reason.
"""

from __future__ import annotations


class AicapexError(ValueError):
    """A problem with the user's input or data, explained in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class DataError(AicapexError):
    """Bad or missing data: a malformed file, a duplicate fact, an unknown ticker or field."""


class ArgumentError(AicapexError):
    """An argument out of range or of the wrong kind (a unit mistake, a negative life...)."""
