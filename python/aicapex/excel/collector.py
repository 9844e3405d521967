"""Pausing Python's cyclic garbage collector around work that only builds long-lived objects.

A headless refresh (or the ``refresh`` command, imports included) creates about a million
objects that all live until it ends: pandas, openpyxl and the engine at import, then the
workbook model and the formula graph. Each full collection walks every one of them and finds
nothing to free, which made the collector a sixth of a refresh process's CPU time
(``bench/bench_process.py``). Reference counting still frees everything acyclic while it is
paused; cyclic garbage waits for the collector's next full collection.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block; restore its state after (so a
    pause inside a pause leaves it paused).

    Examples
    --------
    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What was made while paused joins the oldest generation, as if it had survived
            # the collections skipped; left young, the first collection after the pause would
            # walk all of it at once. Its cyclic garbage goes with the next full collection.
            gc.freeze()
            gc.unfreeze()
            gc.enable()
