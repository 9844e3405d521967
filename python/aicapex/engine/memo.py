"""A small least-recently-used cache of results computed from one dataset.

Scenario runs and Monte Carlo bands are pure functions of a dataset and their arguments, and a
refreshed template asks for the same ones several times (each block of the Scenarios sheet
reads the same five runs). The key holds the dataset's identity and the entry keeps the dataset
itself, so a new dataset (a refresh, an override) never meets an old result.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class DatasetMemo:
    """Up to ``size`` results keyed by ``(dataset identity, *key)``; the oldest goes first.

    Examples
    --------
    >>> memo, ds, calls = DatasetMemo(2), object(), []
    >>> memo.get(ds, ("a",), lambda: calls.append(1) or 1), memo.get(ds, ("a",), lambda: 2)
    (1, 1)
    >>> memo.get(object(), ("a",), lambda: 3)  # another dataset: computed again
    3
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()

    def get(self, ds: Any, key: tuple[Hashable, ...], make: Callable[[], Any]) -> Any:
        """The result for ``key`` on ``ds``, made by ``make()`` when not held."""
        k = (id(ds), *key)
        hit = self.data.get(k)
        if hit is not None and hit[0] is ds:
            self.data.move_to_end(k)
            return hit[1]
        value = make()
        self.data[k] = (ds, value)
        while len(self.data) > self.size:
            self.data.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every result."""
        self.data.clear()
