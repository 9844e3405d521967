"""Hostile arguments for every CPX_ function: the cell always gets a value or an error value.

The guarantee (README, "What we guarantee"): a CPX_ function never raises into Excel. Whatever
Excel can hand over -- blanks, text, booleans, dates, error values, NaN/±inf, ragged or empty
ranges, huge ranges -- the result is a valid Excel value (``None``, bool, int, finite float,
str, date/datetime), a rectangular 2-D list of them, or an :class:`XlError` with a reason.

The catalogue is read from ``aicapex.udfs.__all__`` at collection time, so functions added
later are covered without touching this file. Example counts come from the hypothesis
profile (``dev`` locally, ``ci`` = 1,000 examples per function under ``CI=true``).

Each call runs under a wall-clock alarm (:func:`hang_guard`): not a performance claim, only
"it returns at all". The alarm raises a ``BaseException`` so that the very decorator under
test (which catches ``Exception``) cannot swallow it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import math
import signal

import aicapex.udfs as udfs
import numpy as np
import pytest
from aicapex.udfs import arguments as udf_arguments
from aicapex.xlerrors import ERROR_CODES, XlError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Overflow on hostile numbers is expected (and turned into #NUM!); numpy's warnings are noise.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

NAMES = list(udfs.__all__)  # dynamic: whatever the catalogue holds when the tests are collected
HANG_SECONDS = 5.0


def _params(name: str) -> tuple[int, int]:
    """(required, total) positional parameters of a CPX_ function."""
    params = list(inspect.signature(getattr(udfs, name)).parameters.values())
    required = sum(p.default is inspect.Parameter.empty for p in params)
    return required, len(params)


# -- the hang guard and the validity check -------------------------------------------------------


class Hang(BaseException):  # noqa: N818 - BaseException on purpose: excel_errors must not catch it
    """A call took longer than the hang guard allows."""


@contextlib.contextmanager
def hang_guard(seconds: float = HANG_SECONDS):
    def on_alarm(signum, frame):
        raise Hang(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call(name: str, *args):
    """Call a CPX_ function the way Excel does, under the hang guard (a call that never returns
    fails the test; how fast it returns is a benchmark's business, bench/)."""
    func = getattr(udfs, name)
    with hang_guard():
        return func(*args)


def check_cell(value, where: str) -> None:
    if isinstance(value, XlError):
        assert str(value) in ERROR_CODES, where
        assert value.reason.strip(), f"{where}: error {value} without a reason"
        assert "Traceback" not in value.reason and 'File "' not in value.reason, where
        return
    if value is None or isinstance(value, (bool, int, str, dt.date)):
        # A plain string equal to an error code would be an error value without its reason.
        assert not (isinstance(value, str) and value in ERROR_CODES), f"{where}: bare {value}"
        assert not isinstance(value, np.generic) or isinstance(value, np.floating), where
        return
    if isinstance(value, float):
        assert math.isfinite(value), f"{where}: non-finite float {value!r} reaches Excel"
        return
    raise AssertionError(f"{where}: {type(value).__name__} {value!r} is not an Excel value")


def check_excel_result(result, name: str) -> None:
    """A scalar Excel value, or a non-empty rectangular 2-D list of Excel values."""
    if isinstance(result, list):
        assert result, f"{name}: empty list"
        assert all(isinstance(row, list) for row in result), f"{name}: not a 2-D list"
        width = len(result[0])
        assert width > 0, f"{name}: empty row"
        assert all(len(row) == width for row in result), f"{name}: ragged result"
        for i, row in enumerate(result):
            for j, cell in enumerate(row):
                check_cell(cell, f"{name}[{i}][{j}]")
    else:
        check_cell(result, name)


# -- Excel-shaped argument strategies ------------------------------------------------------------

# Values that get a call past the first validation (so the engine and shaping are exercised too).
PLAUSIBLE_TEXT = ["MSFT", "GOOGL", "AMZN", "META", "ORCL", "AAPL", "msft ", "MSFT,GOOGL", "NOPE",
                  "capex", "ocf", "revenue", "da_cashflow", "capex_to_ocf", "fcf_margin",
                  "annual", "quarterly", "q", "2025", "2025Q3", "FY2024", "TRUE", "FALSE",
                  "1,000", " 12.5 ", "abc", "=1+1", "\u00a0", "\n"]

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
    st.integers(min_value=-10, max_value=10),
    st.integers(min_value=1990, max_value=2030),  # fiscal years
    st.integers(),  # including huge Python ints
    st.sampled_from([0, 0.0, -0.0, 1e-308, 1e308, -1e308, 5e-324, 0.5, 1.2, 2**53]),
    st.sampled_from([np.float64("nan"), np.float64(3.5), np.int64(2025), np.float32("inf")]),
)
cells = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=12),
    st.sampled_from(PLAUSIBLE_TEXT),
    st.booleans(),
    numbers,
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31)),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.sampled_from(sorted(ERROR_CODES)),
    st.sampled_from([XlError("#N/A", "upstream reason"), XlError("#DIV/0!", "zero")]),
)


@st.composite
def rectangular(draw, max_rows: int = 6, max_cols: int = 6):
    rows = draw(st.integers(1, max_rows))
    cols = draw(st.integers(1, max_cols))
    return [[draw(cells) for _ in range(cols)] for _ in range(rows)]


@st.composite
def row_or_column(draw):
    n = draw(st.integers(1, 12))
    values = draw(st.lists(st.one_of(numbers, cells), min_size=n, max_size=n))
    return [values] if draw(st.booleans()) else [[v] for v in values]


ragged = st.one_of(
    st.lists(st.lists(cells, min_size=0, max_size=4), min_size=2, max_size=4),  # rows differ
    st.lists(st.one_of(cells, st.lists(cells, max_size=3)), min_size=2, max_size=4),  # mixed
    st.lists(cells, min_size=1, max_size=5),  # a flat 1-D list
)

arguments = st.one_of(
    cells,  # a single cell (xlwings Office.js unwraps 1×1 to a scalar)
    cells.map(lambda c: [[c]]),  # 1×1 as a 2-D range
    row_or_column(),  # 1×N / N×1
    rectangular(),  # M×N
    st.sampled_from([[], [[]], [[], []], (), [()]]),  # empty ranges
    ragged,
)


# -- property: every function, every argument ----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_any_excel_arguments_give_an_excel_value(name, data):
    required, total = _params(name)
    n_args = data.draw(st.integers(required, total), label="number of arguments")
    args = [data.draw(arguments, label=f"arg{i}") for i in range(n_args)]
    result = call(name, *args)
    check_excel_result(result, name)


def test_the_catalogue_is_not_empty_and_every_entry_is_callable():
    # The parametrisation above is only as good as the list it iterates.
    assert len(NAMES) >= 17
    assert all(callable(getattr(udfs, n)) for n in NAMES)


# -- the checker itself rejects what must never reach a cell ------------------------------------


@pytest.mark.parametrize(
    "bad",
    [math.inf, -math.inf, math.nan, np.float64("nan"), [[1.0], [2.0, 3.0]], [], [[]],
     XlError("#N/A"), "#DIV/0!", {"a": 1}, object(), np.int64(3)],
)
def test_the_checker_rejects_invalid_results(bad):
    with pytest.raises(AssertionError):
        check_excel_result(bad, "probe")


# -- non-finite results: the protection and what happens without it -----------------------------

OVERFLOWS = [
    ("cpx_fcf", (1e308, -1e308)),  # OCF - capex overflows
    ("cpx_capex_to_ocf", (1e308, 1e-308)),  # the quotient overflows
    ("cpx_cagr", ([[1e-300, 1e300]], 0.001)),
    ("cpx_ttm", ([[1e308, 1e308, 1e308, 1e308]],)),
    ("cpx_highest_since", ([[3, 2, 1]], [[math.nan, math.inf, 3]])),  # a period label of NaN
]


@pytest.mark.parametrize("name, args", OVERFLOWS, ids=[o[0] for o in OVERFLOWS])
def test_overflow_and_nan_results_become_num_errors(name, args):
    if name not in NAMES:
        pytest.skip(f"{name} is not in the catalogue")
    with np.errstate(all="ignore"):
        result = call(name, *args)
        check_excel_result(result, name)
        flat = [c for row in result for c in row] if isinstance(result, list) else [result]
        assert any(isinstance(c, XlError) and str(c) == "#NUM!" for c in flat), result
        # Without the excel_errors wrapper the same call hands Excel a non-finite float.
        raw = inspect.unwrap(getattr(udfs, name))(*args)
    raw_flat = [c for row in raw for c in row] if isinstance(raw, list) else [raw]
    assert any(isinstance(c, float) and not math.isfinite(c) for c in raw_flat), raw


# -- an engine that raises something unexpected ---------------------------------------------------


def _boom(*args, **kwargs):
    raise RuntimeError("engine exploded\n  with a second line")


def test_unexpected_engine_exception_is_value_error_without_traceback(monkeypatch, caplog):
    import aicapex.engine.metrics as metrics

    monkeypatch.setattr(metrics, "capex_to_ocf", _boom)
    result = call("cpx_capex_to_ocf", [[1.0, 2.0]], [[3.0, 4.0]])
    assert isinstance(result, XlError) and str(result) == "#VALUE!"
    assert "internal error" in result.reason and "RuntimeError" in result.reason
    assert "Traceback" not in result.reason and "\n" not in result.reason
    # The traceback goes to the log, for whoever maintains the add-in -- not into the cell.
    assert any(r.exc_info for r in caplog.records if r.name == "aicapex.udfs")
    # Without the decorator (what Excel would call if excel_errors were dropped) it raises.
    with pytest.raises(RuntimeError):
        inspect.unwrap(udfs.cpx_capex_to_ocf)([[1.0, 2.0]], [[3.0, 4.0]])


def test_excel_errors_turns_any_exception_into_an_error_value():
    for exc in (RuntimeError("x"), KeyError("k"), ZeroDivisionError(), IndexError(),
                MemoryError(), RecursionError(), AttributeError("a")):

        def raiser(exc=exc):
            raise exc

        out = udf_arguments.excel_errors(raiser)()
        check_cell(out, type(exc).__name__)
        assert str(out) == "#VALUE!" and "internal error" in out.reason


class _Raiser:
    """Stands in for an engine module or data function: every use raises RuntimeError."""

    def __init__(self, hits: list):
        self._hits = hits

    def __getattr__(self, attr):
        return self

    def __call__(self, *args, **kwargs):
        self._hits.append(1)
        raise RuntimeError("injected failure")

    __getitem__ = __call__  # a constant table (pw.FACILITY_CAPEX_MUSD_PER_MW[1]) raises too


CANDIDATE_ARGS = [
    lambda n: [[[1.0, 2.0, 3.0, 4.0, 5.0]]] * n,
    lambda n: [2.0] * n,
    lambda n: (["MSFT", "capex", 2025, 2025, "annual", True] + [None] * n)[:n],
    lambda n: ([[["MSFT"], ["GOOGL"]], "capex_to_ocf", 2024, 2025, True] + [None] * n)[:n],
    lambda n: ([100, 1.2, 1000, 3000, 0.6, 80, 2.0, 30000, 10.7, True] + [None] * n)[:n],
    lambda n: ([[[100.0, 120.0]], [[6, 20]], [[0.7, 0.3]], 0.1, 0.5, 0.05] + [None] * n)[:n],
    lambda n: ([[[60.0, 0.0, 0.0]], 3, None, "full-year"] + [None] * n)[:n],
    lambda n: ([[["MSFT", "AMZN"]], 2022, [[2024, 2025]]] + [None] * n)[:n],
]


@pytest.mark.parametrize("name", NAMES)
def test_every_function_survives_its_engine_raising(name, monkeypatch):
    """Replace everything a CPX_ function borrows from the engine and the data layer with
    something that raises RuntimeError: the call still returns #VALUE! "internal error"."""
    func = getattr(udfs, name)
    module = inspect.getmodule(inspect.unwrap(func))
    hits: list = []
    for attr, value in list(vars(module).items()):
        origin = getattr(value, "__name__", "") if inspect.ismodule(value) else \
            getattr(value, "__module__", "") or ""
        if origin.startswith(("aicapex.engine", "aicapex.data")) and (
                inspect.ismodule(value) or callable(value)) and not inspect.isclass(value):
            monkeypatch.setattr(module, attr, _Raiser(hits))
    _, total = _params(name)
    for make in CANDIDATE_ARGS:
        result = call(name, *make(total))
        check_excel_result(result, name)
        if hits:
            flat = [c for row in result for c in row] if isinstance(result, list) else [result]
            assert any(isinstance(c, XlError) and "internal error" in c.reason for c in flat), result
            return
    pytest.fail(f"{name}: no candidate argument list reached the engine; add one to CANDIDATE_ARGS")


# -- very large ranges ----------------------------------------------------------------------------

ROW_20K = [[float(i % 997) - 10.0 for i in range(20_000)]]
COLUMN_20K = [[v] for v in ROW_20K[0]]


@pytest.fixture(scope="module")
def two_million_cells():
    return [[1.0] * 1_000 for _ in range(2_000)]


@pytest.mark.parametrize("name", [n for n in NAMES if _params(n)[1] > 0])
def test_twenty_thousand_cell_ranges_give_an_excel_value(name):
    _, total = _params(name)
    calls = [[ROW_20K] * total, [COLUMN_20K] * total]
    calls += [[None] * i + [ROW_20K] + [None] * (total - i - 1) for i in range(total)]
    for args in calls:
        with np.errstate(all="ignore"):
            result = call(name, *args)
        check_excel_result(result, name)


@pytest.mark.parametrize("name", [n for n in NAMES if _params(n)[1] > 0])
def test_two_million_cell_range_is_refused_not_hung(name, two_million_cells):
    _, total = _params(name)
    result = call(name, *([two_million_cells] * total))
    assert isinstance(result, XlError), f"{name} accepted a 2,000,000-cell range"
    assert "cells is more than 1,000,000" in result.reason, result.reason
    # The same range in any one position, the others blank: still an error value, promptly.
    for i in range(total):
        args = [None] * i + [two_million_cells] + [None] * (total - i - 1)
        result = call(name, *args)
        check_excel_result(result, name)


def test_the_refusal_comes_from_the_max_cells_guard(two_million_cells, monkeypatch):
    with pytest.raises(udf_arguments.ArgumentError, match="2,000,000 cells is more than 1,000,000"):
        udf_arguments.grid(two_million_cells, "values")
    # With the guard lifted the same range is accepted, i.e. nothing else would stop it.
    monkeypatch.setattr(udf_arguments, "MAX_CELLS", 10**9)
    assert len(udf_arguments.grid(two_million_cells, "values")) == 2_000
