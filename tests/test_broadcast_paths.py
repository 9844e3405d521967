"""Elementwise application (:func:`aicapex.formula.values.broadcast`): the shortcuts for one
array and for same-size arrays give what Excel's expansion rules give."""

from __future__ import annotations

import pytest
from aicapex.formula.values import broadcast
from aicapex.xlerrors import XlError


def expanded(fn, args):
    """Excel's rule written out: 1-wide dimensions repeat, cells outside an array are #N/A."""
    dims = [(len(a), len(a[0])) if type(a) is list else None for a in args]
    height = max(d[0] for d in dims if d)
    width = max(d[1] for d in dims if d)
    out = []
    for i in range(height):
        row = []
        for j in range(width):
            vals = []
            for a, d in zip(args, dims, strict=True):
                if d is None:
                    vals.append(a)
                elif (0 if d[0] == 1 else i) < d[0] and (0 if d[1] == 1 else j) < d[1]:
                    vals.append(a[0 if d[0] == 1 else i][0 if d[1] == 1 else j])
                else:
                    vals = None
                    break
            row.append("#N/A" if vals is None else fn(*vals))
        out.append(row)
    return out


def na_as_text(grid):
    return [[str(v) if isinstance(v, XlError) else v for v in row] for row in grid]


@pytest.mark.parametrize("args", [
    [[[1, 2, 3], [4, 5, 6]]],                          # one array
    [[[1, 2], [3, 4]], [[10, 20], [30, 40]]],          # same size
    [[[1, 2], [3, 4]], 5],                             # array and scalar
    [7, [[1], [2], [3]], [[1], [2], [3]]],             # scalar first
    [[[1, 2, 3]], [[1], [2]]],                         # row x column: expanded
    [[[1, 2], [3, 4]], [[1, 2, 3], [4, 5, 6]]],        # different sizes: #N/A outside
])
def test_shortcuts_match_the_expansion_rules(args):
    def fn(*xs):
        return sum(xs)

    assert na_as_text(broadcast(fn, args)) == expanded(fn, args)
