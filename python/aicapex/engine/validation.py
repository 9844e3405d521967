"""Argument checks and the scalar-return rule shared by the engine modules.

One way to refuse a bad argument: :class:`~aicapex.errors.ArgumentError` with a message that
names the argument, the value it got and the unit and range it expects, e.g.
``bonds.coupon=3 is out of range: expected fraction in [0, 1]``. :func:`check_number` and
:func:`check_whole` check one value (scenario terms, years); :func:`check_range` checks every
entry of an array argument of a broadcasting function (NaN passes: a missing input gives a
missing result, never an error), with a hint for the usual unit mistake. Every engine module
checks its arguments with these.

The scalar-return rule: numpy-financial's convention is "scalar in, scalar out", but its own
functions disagree on the type (``npf.fv`` gives ``numpy.float64``, ``npf.irr`` a ``float``,
``npf.nper`` a 0-d array). Ours is exact: a function that broadcasts returns a Python
``float`` for a 0-d result (every array argument a scalar) and a float ``numpy.ndarray``
otherwise (:func:`as_output`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aicapex.errors import ArgumentError

__all__ = ["as_output", "check_choice", "check_number", "check_range", "check_whole"]


def check_number(name: str, value: Any, lo: float = -math.inf, hi: float = math.inf,
                 unit: str = "number") -> float:
    """``value`` as a float in ``[lo, hi]``, or :class:`ArgumentError` naming ``name``.

    Parameters
    ----------
    name : str
        The argument's name as the user typed it (``"bonds.coupon"``, ``"--min-cash"``).
    value : Any
        The value to check: a number (NaN is refused) or anything ``float()`` accepts.
    lo, hi : float
        Inclusive bounds.
    unit : str
        What the number means, for the message (``"fraction"``, ``"USD m"``, ``"years"``).

    Returns
    -------
    float

    Examples
    --------
    >>> check_number("bonds.coupon", 0.05, 0, 1, "fraction")
    0.05
    >>> check_number("bonds.coupon", 3, 0, 1, "fraction")
    Traceback (most recent call last):
    ...
    aicapex.errors.ArgumentError: bonds.coupon=3 is out of range: expected fraction in [0, 1]
    """
    if isinstance(value, bool):
        raise ArgumentError(f"{name} must be a number ({unit}), got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be a number ({unit}), got {value!r}") from None
    if not (lo <= v <= hi):  # also refuses NaN
        raise ArgumentError(
            f"{name}={value} is out of range: expected {unit} in [{_num(lo)}, {_num(hi)}]"
        )
    return v


def check_whole(name: str, value: Any, lo: int, hi: float, unit: str = "years") -> int:
    """``value`` as an int in ``[lo, hi]`` (``hi`` may be ``math.inf``); a fraction, a bool or
    text is refused.

    Examples
    --------
    >>> check_whole("years", 5.0, 1, 30)
    5
    >>> check_whole("years", 2.5, 1, 30)
    Traceback (most recent call last):
    ...
    aicapex.errors.ArgumentError: years=2.5 is not a whole number of years
    >>> check_whole("lag", -1, 0, math.inf)
    Traceback (most recent call last):
    ...
    aicapex.errors.ArgumentError: lag=-1 is out of range: expected years in [0, inf]
    """
    try:
        whole = not isinstance(value, bool) and float(value) == int(float(value))
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole:
        raise ArgumentError(f"{name}={value!r} is not a whole number of {unit}")
    v = int(float(value))
    if not (lo <= v <= hi):
        raise ArgumentError(f"{name}={v} is out of range: expected {unit} in [{_num(lo)}, "
                            f"{_num(hi)}]")
    return v


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` (case and surrounding blanks ignored) if it is one of ``choices``.

    Examples
    --------
    >>> check_choice("which", " Latest ", ("latest", "history"))
    'latest'
    """
    options = tuple(choices)
    key = str(value).strip().lower()
    if key not in options:
        raise ArgumentError(f"{name} = {value!r}; use one of {', '.join(options)}")
    return key


def check_range(name: str, value: Any, lo: float = -math.inf, hi: float = math.inf,
                expected: str = "a number", *, lo_open: bool = False, zero_ok: bool = False,
                hint_lo: str = "", hint_hi: str = "") -> NDArray[np.float64]:
    """``value`` as a float array whose every entry other than NaN is in ``[lo, hi]``.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : array_like
        Numbers; NaN entries pass (a missing input gives a missing result).
    lo, hi : float
        Bounds, inclusive (``lo_open``: ``lo`` itself is refused).
    expected : str
        What the argument should be, with its unit and range, for the message.
    zero_ok : bool
        0 passes even below ``lo`` (a price of 0 for "not charged").
    hint_lo, hint_hi : str
        The likely mistake behind a value below ``lo`` or above ``hi`` (a unit, a percentage).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ArgumentError
        Naming the first entry out of range: ``{name}={value} is out of range: expected
        {expected}[; {hint}]`` (``is negative`` for a value below a lower bound of 0).

    Examples
    --------
    >>> check_range("pue", [1.2, np.nan], 1, 3, "ratio in [1, 3]")
    array([1.2, nan])
    >>> check_range("rate", 5, -1, 1, "a rate as a fraction in (-1, 1]", lo_open=True,
    ...             hint_hi="did you pass a percentage?")
    Traceback (most recent call last):
    ...
    aicapex.errors.ArgumentError: rate=5 is out of range: expected a rate as a fraction in (-1, 1]; did you pass a percentage?
    """
    a = np.asarray(value, dtype=float)
    known = a[~np.isnan(a)]
    if known.size == 0:
        return a
    low = known <= lo if lo_open else known < lo
    if zero_ok:
        low &= known != 0
    bad = low | (known > hi)
    if bad.any():
        first = int(np.argmax(bad))
        hint = hint_lo if low[first] else hint_hi
        what = "is negative" if lo == 0 and not lo_open and low[first] else "is out of range"
        raise ArgumentError(f"{name}={known[first]:g} {what}: expected {expected}"
                            + (f"; {hint}" if hint else ""))
    return a


def as_output(result: Any) -> float | NDArray[np.float64]:
    """The engine's return rule: a 0-d result as a Python ``float``, anything else as a float
    array (see the module notes).

    Examples
    --------
    >>> as_output(np.array(2.5)), type(as_output(np.float64(2.5))).__name__
    (2.5, 'float')
    >>> as_output(np.array([2.5]))
    array([2.5])
    """
    arr = np.asarray(result, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _num(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"
