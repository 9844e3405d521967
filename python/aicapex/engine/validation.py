"""Argument checks and the scalar-return rule shared by the engine modules.

One way to refuse a bad argument: :class:`~aicapex.errors.ArgumentError` with a message that
names the argument, the value it got and the unit and range it expects, e.g.
``bonds.coupon = 3 is out of range; expected fraction in [0, 1]``. The financing, Monte Carlo,
guidance and depreciation modules use these helpers; other engine modules may adopt them.

The scalar-return rule (numpy-financial's convention, made exact): a function that broadcasts
returns a Python ``float`` when every array argument was a scalar, and a numpy array otherwise
(:func:`scalar_or_array`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from aicapex.errors import ArgumentError

__all__ = ["check_number", "check_whole", "check_choice", "scalar_or_array"]


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
    aicapex.errors.ArgumentError: bonds.coupon = 3 is out of range; expected fraction in [0, 1]
    """
    if isinstance(value, bool):
        raise ArgumentError(f"{name} must be a number ({unit}), got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be a number ({unit}), got {value!r}") from None
    if not (lo <= v <= hi):  # also refuses NaN
        raise ArgumentError(
            f"{name} = {value} is out of range; expected {unit} in [{_num(lo)}, {_num(hi)}]"
        )
    return v


def check_whole(name: str, value: Any, lo: int, hi: int, unit: str = "years") -> int:
    """``value`` as an int in ``[lo, hi]``; a fraction, a bool or text is refused.

    Examples
    --------
    >>> check_whole("years", 5.0, 1, 30)
    5
    >>> check_whole("years", 2.5, 1, 30)
    Traceback (most recent call last):
    ...
    aicapex.errors.ArgumentError: years must be a whole number of years, got 2.5
    """
    try:
        whole = not isinstance(value, bool) and float(value) == int(float(value))
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole:
        raise ArgumentError(f"{name} must be a whole number of {unit}, got {value!r}")
    v = int(float(value))
    if not (lo <= v <= hi):
        raise ArgumentError(f"{name} = {v} is out of range; expected {unit} in [{lo}, {hi}]")
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


def scalar_or_array(result: Any, *inputs: Any) -> float | np.ndarray:
    """The engine's return rule: a Python float when every input is a scalar, else an array.

    Examples
    --------
    >>> scalar_or_array(np.array(2.5), 1.0, 2)
    2.5
    >>> scalar_or_array(np.array([2.5]), [1.0], 2)
    array([2.5])
    """
    arr = np.asarray(result, dtype=float)
    if arr.ndim == 0 and all(np.ndim(x) == 0 for x in inputs):
        return float(arr)
    return arr


def _num(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"
