"""CPX_ financing functions: a scenario's per-year projection and the sources of its defaults,
the presets side by side, depreciation of a capex series, a 2-D sensitivity grid, Monte Carlo
bands, and management's capex guidance. Thin wrappers over :mod:`aicapex.engine.scenario`
(the one scenario service the command line uses too), :mod:`aicapex.engine.depreciation`,
:mod:`aicapex.engine.montecarlo` and :mod:`aicapex.engine.guidance`.

Overrides
---------
``overrides`` is a range of key/value pairs: keys (text) in its first column, values in its last
column; any columns between must be blank (so a sheet can skip its empty period-0 column).
Keys are the engine's names (:mod:`aicapex.engine.scenario`), the same as ``--set`` on the
command line:

- a base-year figure by dataset field (``interest_expense``, ``total_debt``...), or
  ``fiscal_year``, ``revenue_growth``, ``capex_growth``;
- a waterfall term by dotted name (``bonds.coupon``, ``lease.capex_share``,
  ``cash.keep_share``, ``equity.max_per_year``...); it applies as given, even to a step the
  preset does not have (``bonds.max_per_year`` in ``all-cash`` adds bonds), except in
  ``CPX_SCENARIOS``, where one block of terms tunes each preset's own steps;
- a projection input (``inputs.long_run_revenue_growth``, ``inputs.buybacks``...) or a
  depreciation term (``depreciation.server_life``);
- ``capex.2026``: the capex of one projected fiscal year, USD m (guidance is the default).

A blank value, or the word ``default``, leaves that term at the preset's (or the engine's)
value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aicapex.data.dataset import current_dataset
from aicapex.data.guidance import snapshot_guidance
from aicapex.engine.depreciation import CONVENTIONS, depreciation_schedule
from aicapex.engine.financing import (
    COLUMNS,
    MAX_YEARS,
    TEXT_COLUMNS,
    CompanyBase,
    ScenarioInputs,
)
from aicapex.engine.guidance import (
    LATEST_COLUMNS,
    OUTCOME_COLUMNS,
    REVISION_COLUMNS,
    guidance_path,
    guidance_vs_outcome,
    latest_guidance,
    revisions,
)
from aicapex.engine.memo import DatasetMemo
from aicapex.engine.montecarlo import BAND_COLUMNS, monte_carlo
from aicapex.engine.presets import PRESET_NAMES, get_preset
from aicapex.engine.scenario import (
    DEFAULT_COMPARE_METRICS,
    SOURCE_COLUMNS,
    build_scenario,
    compare_presets,
    run_scenario,
    sensitivity_grid,
    timeline_table,
)
from aicapex.engine.terms import FinancingStructure
from aicapex.engine.validation import check_choice
from aicapex.errors import ArgumentError, DataError
from aicapex.udfs.arguments import (
    Propagate,
    complete,
    cpx_function,
    flag,
    grid,
    is_blank,
    number,
    optional_number,
    shape,
    table,
    text,
    text_list,
    vector,
)
from aicapex.xlerrors import XlError, error_of

#: A value cell holding this word (or blank) leaves the term at the preset's/engine's value.
DEFAULT_WORD = "default"
DEFAULT_YEARS = ScenarioInputs().years
DEFAULT_PATHS = 10_000
#: More paths than this make CPX_MONTE_CARLO refuse with #VALUE! (a cell must not hang Excel).
MAX_PATHS = 200_000
#: More grid cells than this make CPX_SENSITIVITY refuse with #VALUE!.
MAX_GRID = 2_500
#: More capex periods x asset classes than this make CPX_DEPRECIATION refuse with #VALUE!.
MAX_DEPRECIATION_CELLS = 1_000_000
DEFAULT_THRESHOLD = 3.0
#: CPX_GUIDANCE's tables by ``which`` ("path" is dates x tickers, see cpx_guidance).
GUIDANCE_VIEWS = {"latest": LATEST_COLUMNS, "history": REVISION_COLUMNS,
                  "outcome": OUTCOME_COLUMNS, "path": ()}
#: Leverage columns: NaN there is "n.m." (EBITDA proxy <= 0), not a zero denominator.
LEVERAGE_COLUMNS = frozenset({"net_debt_to_ebitda", "debt_plus_leases_to_ebitda",
                              "leverage_p5", "leverage_p50", "leverage_p95"})

TICKER = "Ticker of a covered company, e.g. MSFT"
PRESET = f"Financing preset: {', '.join(PRESET_NAMES)}"
OVERRIDES = ("Optional key/value range (keys first column, values last), e.g. bonds.coupon | 0.05 "
             "or capex.2026 | 135000; blank or 'default' = preset/engine value")
HEADERS = "TRUE (default) to include a header row"
YEAR = ('Projected fiscal year (e.g. 2030), or "last" (default), "peak" or "min" over the '
        "horizon")


# -- argument conversion ----------------------------------------------------------------------------


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _term_value(key: str, cell: Any, where: str) -> Any:
    """One override value: None for blank/default, a number (whole years as int) or text."""
    err = error_of(cell)
    if err is not None:
        raise Propagate(XlError(err, err.reason or f"{where}: {key} is the error value {err}"))
    if _blank(cell) or (isinstance(cell, str) and cell.strip().lower() == DEFAULT_WORD):
        return None
    if isinstance(cell, bool):
        raise ArgumentError(f"{where}: {key} = {cell}: TRUE/FALSE where a number is expected")
    if isinstance(cell, (int, float, np.integer, np.floating)):
        x = float(cell)
        if not math.isfinite(x):
            raise ArgumentError(f"{where}: {key} = {x} is not a finite number")
        if key.rsplit(".", 1)[-1].endswith("years") and x.is_integer():
            return int(x)  # tenors and horizons are whole years
        return x
    if isinstance(cell, str) and key.endswith("convention"):
        return cell.strip()
    raise ArgumentError(f"{where}: {key} = {cell!r}: expected a number (or {DEFAULT_WORD})")


def overrides_arg(arg: Any) -> tuple[tuple[str, Any], ...]:
    """The ``overrides`` range as ``((key, value), ...)``, blank/default values dropped."""
    if is_blank(arg):
        return ()
    rows = grid(arg, "overrides")
    if len(rows[0]) < 2:
        raise ArgumentError("overrides: expected key/value pairs in 2 columns (keys first, "
                            "values last), got 1 column")
    out: dict[str, Any] = {}
    for i, row in enumerate(rows, 1):
        where = f"overrides row {i}"
        key, value = row[0], row[-1]
        if any(not _blank(c) for c in row[1:-1]):
            raise ArgumentError(f"{where}: the cells between the key and the value must be blank")
        err = error_of(key)
        if err is not None:
            raise Propagate(XlError(err, err.reason or f"{where}: the key is {err}"))
        if _blank(key):
            if _blank(value):
                continue
            raise ArgumentError(f"{where}: value {value!r} has no key")
        if not isinstance(key, str):
            raise ArgumentError(f"{where}: key must be text such as bonds.coupon, got {key!r}")
        k = key.strip()
        v = _term_value(k, value, where)
        if v is None:
            continue
        if k in out:
            raise ArgumentError(f"overrides: {k} is given twice")
        out[k] = v
    return tuple(out.items())


def _whole(arg: Any, name: str, default: int, lo: int, hi: int, unit: str) -> int:
    if is_blank(arg):
        return default
    value = number(arg, name)  # an error value passed in propagates
    if value != int(value) or not lo <= value <= hi:
        raise ArgumentError(f"{name} = {value:g}: expected a whole number of {unit} in "
                            f"[{lo:,}, {hi:,}]")
    return int(value)


def _year_arg(arg: Any, default: str | None) -> int | str | None:
    """A projected fiscal year, or "last"/"peak"/"min"."""
    rows = grid(arg, "year")
    if len(rows) * len(rows[0]) != 1:
        raise ArgumentError(f"year: expected one cell, got a {len(rows)}×{len(rows[0])} range")
    cell = rows[0][0]
    if isinstance(cell, str) and cell.strip().lower() in ("last", "peak", "min"):
        return cell.strip().lower()
    value = optional_number(arg, "year")
    if value is None:
        return default
    if value != int(value):
        raise ArgumentError(f"year = {value:g} is not a fiscal year")
    return int(value)


def _lives(arg: Any) -> np.ndarray:
    """Useful lives, years: numbers > 0 or the text "inf" (never depreciated, e.g. land)."""
    rows = grid(arg, "lives")
    if len(rows) > 1 and len(rows[0]) > 1:
        raise ArgumentError(f"lives: expected a single row or column, got {len(rows)}×{len(rows[0])}")
    flat = rows[0] if len(rows) == 1 else [r[0] for r in rows]
    out = []
    for cell in flat:
        if isinstance(cell, str) and cell.strip().lower() in ("inf", "infinite", "land"):
            out.append(math.inf)
            continue
        out.append(float(complete([[cell]], "lives")[0]))
    return np.asarray(out)


def _ratio_cell(column: str, value: Any, year: Any = None) -> Any:
    """An engine number as a cell: whole years as int, NaN/inf as an error with its reason."""
    if column == "year":
        return int(value)
    if column in TEXT_COLUMNS:
        return str(value)
    v = float(value)
    when = f" in FY{int(year)}" if year is not None else ""
    if math.isnan(v):
        if column in LEVERAGE_COLUMNS:
            return XlError("#N/A", f"n.m.: {column}: the EBITDA proxy is zero or negative{when}")
        if column == "capex_growth" or column == "revenue_growth":
            return XlError("#N/A", f"{column}: the year before is zero{when}")
        return XlError("#DIV/0!", f"{column}: its denominator is zero{when}")
    if math.isinf(v):
        return XlError("#NUM!", f"{column}: unbounded (EBITDA is zero or negative on some paths)")
    return v


def _key(ds: Any, ticker: Any, preset: Any) -> tuple[str, str]:
    t = ds.check_ticker(text(ticker, "ticker"))
    p = get_preset(text(preset, "preset")).name
    return t, p


def scenario(ds: Any, ticker: str, preset: str, years: int,
             pairs: tuple[tuple[str, Any], ...]) -> tuple[CompanyBase, FinancingStructure,
                                                          ScenarioInputs]:
    """Base, structure and inputs of a worksheet scenario (the engine's
    :func:`~aicapex.engine.scenario.build_scenario`)."""
    sc = build_scenario(ds, ticker, preset, pairs, years=years)
    return sc.base, sc.structure, sc.inputs


_SIMULATIONS = DatasetMemo(16)  # Monte Carlo bands

KEYS = ("Optional: keys down a column (engine columns, e.g. capex, funding_gap); with "
        "fiscal_years, the result is keys x years along a timeline")
FISCAL_YEARS = ("Optional: fiscal years across a row (a sheet's year row); with keys, the "
                "result is keys x years")


def _timeline_args(keys: Any, fiscal_years: Any) -> tuple[list[str], list[int]] | None:
    """(keys, years) of a timeline layout, or None for the plain table."""
    if is_blank(keys) and is_blank(fiscal_years):
        return None
    if is_blank(keys) or is_blank(fiscal_years):
        raise ArgumentError("keys and fiscal_years go together (a timeline block); give both "
                            "or neither")
    names = [k for k in text_list(keys, "keys")]
    years = complete(fiscal_years, "fiscal_years")
    if any(y != int(y) for y in years):
        raise ArgumentError("fiscal_years: whole fiscal years expected, e.g. 2027")
    return names, [int(y) for y in years]


def _timeline_cell(key: str, value: Any, year: int, base_year: int | None,
                   last_year: int) -> Any:
    """One cell of a timeline block; a gap says why it is a gap."""
    if isinstance(value, str):
        return value
    v = float(value)
    if not math.isnan(v):
        return XlError("#NUM!", f"{key}: unbounded in FY{year}") if math.isinf(v) else v
    # Years outside the scenario (before or at its base year for a projection line, after its
    # horizon) are empty, as the style guide asks of a sheet that needs fewer years: they are
    # not missing figures, and a chart must not draw them.
    if base_year is not None and year <= base_year:
        return ""
    if year > last_year:
        return ""
    return _ratio_cell(key, v, year)


def _timeline_rows(frame: Any, keys: list[str], years: list[int], base_year: int | None,
                   base_values: dict[str, Any] | None) -> list[list[Any]]:
    table_ = timeline_table(frame, base_year if base_year is not None else -1,
                            base_values or {}, keys, years)
    last = int(frame["year"].max())
    return [[_timeline_cell(k, table_.at[k, y], y, base_year, last) for y in years]
            for k in keys]


# -- functions ------------------------------------------------------------------------------------


@cpx_function(
    ticker=TICKER,
    preset=PRESET,
    years=f"Years to project after the base year, 1-{MAX_YEARS} (default 5)",
    overrides=OVERRIDES,
    headers=HEADERS + " (table layout only)",
    keys=KEYS,
    fiscal_years=FISCAL_YEARS,
)
def cpx_financing(ticker, preset, years=None, overrides=None, headers=None, keys=None,
                  fiscal_years=None) -> Any:
    """Financing scenario, one row per projected fiscal year (or keys x fiscal years): capex (guidance first), OCF, funding waterfall and gap, debt, leverage (USD m)."""
    ds = current_dataset()
    t, p = _key(ds, ticker, preset)
    n = _whole(years, "years", DEFAULT_YEARS, 1, MAX_YEARS, "years")
    layout = _timeline_args(keys, fiscal_years)
    result = run_scenario(ds, t, p, overrides_arg(overrides), years=n)
    frame = result.frame
    if layout is not None:
        return _timeline_rows(frame, *layout, result.base_year, result.base_values)
    rows = [[_ratio_cell(c, v, rec[0]) for c, v in zip(COLUMNS, rec, strict=True)]
            for rec in frame[list(COLUMNS)].itertuples(index=False)]
    return table(list(COLUMNS) if flag(headers, "headers", True) else None, rows)


@cpx_function(
    ticker=TICKER,
    preset=PRESET,
    years=f"Years to project after the base year, 1-{MAX_YEARS} (default 5)",
    overrides=OVERRIDES,
    headers=HEADERS,
    items="Optional: the items to list, down a column (e.g. base_year, capex_first_year, "
    "buybacks); the result is then value, unit, source per item, in that order",
)
def cpx_scenario_sources(ticker, preset, years=None, overrides=None, headers=None,
                         items=None) -> Any:
    """Where every figure and default of a scenario comes from: item, value, unit, source (filing, guidance, input or model assumption)."""
    ds = current_dataset()
    t, p = _key(ds, ticker, preset)
    n = _whole(years, "years", DEFAULT_YEARS, 1, MAX_YEARS, "years")
    frame = run_scenario(ds, t, p, overrides_arg(overrides), years=n).sources
    if not is_blank(items):
        wanted = text_list(items, "items")
        known = frame.set_index("item")
        missing = [w for w in wanted if w not in known.index]
        if missing:
            raise ArgumentError(f"items: unknown item {missing[0]!r}; use one of "
                                f"{', '.join(known.index)}")
        frame = known.loc[wanted].reset_index()
    rows = []
    for item, value, unit, source in frame.itertuples(index=False):
        if isinstance(value, float) and math.isnan(value):
            value = XlError("#N/A", f"{item}: no figure (see its source text)")
        elif isinstance(value, (int, np.integer)):
            value = int(value)
        elif isinstance(value, (float, np.floating)):
            value = float(value)
        rows.append([item, value, unit, source])
    if not is_blank(items):
        return [r[1:] for r in rows]
    return table(list(SOURCE_COLUMNS) if flag(headers, "headers", True) else None, rows)


@cpx_function(
    ticker=TICKER,
    metric_names="Metrics to compare: a range or comma-separated text (default: capex, fcf, "
    "new_debt, funding_gap, debt, cash, leverage...)",
    year=YEAR,
    overrides=OVERRIDES + "; a step's terms apply to the presets that have that step; "
    "inputs.years sets the horizon (default 5)",
    headers=HEADERS,
    labels="TRUE (default) to start each row with the metric's name; FALSE for numbers only",
)
def cpx_scenarios(ticker, metric_names=None, year=None, overrides=None, headers=None,
                  labels=None) -> Any:
    """The five financing presets side by side: one row per metric, one column per preset, at one year."""
    ds = current_dataset()
    t = ds.check_ticker(text(ticker, "ticker"))
    metrics = (tuple(DEFAULT_COMPARE_METRICS) if is_blank(metric_names)
               else tuple(text_list(metric_names, "metric_names")))
    unknown = [m for m in metrics if m not in COLUMNS or m == "year"]
    if unknown:
        raise ArgumentError(f"metric_names: unknown metric {unknown[0]!r}; use one of "
                            f"{', '.join(COLUMNS[1:])}")
    when = _year_arg(year, None)
    frame = compare_presets(ds, t, overrides_arg(overrides), metrics=metrics, year=when,
                            years=DEFAULT_YEARS)
    named = flag(labels, "labels", True)
    rows = [[m] * named + [_ratio_cell(m, v) for v in frame.loc[m]] for m in frame.index]
    header = (["metric"] * named + list(frame.columns)) if flag(headers, "headers", True) else None
    return table(header, rows)


@cpx_function(
    capex="Capex per year, USD m, positive = spent (row or column, in time order)",
    lives='Useful life of each asset class, years (cell, row or column; "inf" = never, e.g. land)',
    split="Share of capex in each class, fractions summing to 1 (optional with one class)",
    convention='"half-year" (default: half a year in the first year) or "full-year"',
)
def cpx_depreciation(capex, lives, split=None, convention=None) -> Any:
    """D&A per year of a capex series, straight-line by asset class (summed), same shape as capex."""
    v = vector(capex, "capex")
    life = _lives(lives)
    if len(v) * life.size > MAX_DEPRECIATION_CELLS:
        raise ArgumentError(f"capex: {len(v):,} periods × {life.size:,} asset classes is more "
                            f"than {MAX_DEPRECIATION_CELLS:,}; split the range")
    shares = None if is_blank(split) else complete(split, "split")
    conv = text(convention, "convention", default="half-year").lower()
    if conv not in CONVENTIONS:
        raise ArgumentError(f"convention: {conv!r}; use one of {', '.join(CONVENTIONS)}")
    values = np.array([math.nan if e is not None else x for x, e in zip(v.values, v.errors,
                                                                         strict=True)])
    da = depreciation_schedule(values, life, shares, convention=conv).sum(axis=-1)
    cells: list[Any] = da.tolist()
    first_error: XlError | None = None  # the first error value so far (one pass, not per cell)
    for i, (d, err) in enumerate(zip(cells, v.errors, strict=True)):
        first_error = first_error or err
        if math.isnan(d):
            cells[i] = first_error or XlError("#N/A", "missing capex (blank cell) in this or an "
                                                      "earlier year")
    return shape(cells, v.orientation)


def _param_values(param: str, values: np.ndarray) -> list[Any]:
    if param.rsplit(".", 1)[-1].endswith("years") and all(float(x).is_integer() for x in values):
        return [int(x) for x in values]
    return [float(x) for x in values]


@cpx_function(
    ticker=TICKER,
    preset=PRESET,
    row_param="Term varied down the rows, dotted name, e.g. bonds.capex_share",
    row_values="Values of row_param (row or column)",
    col_param="Term varied across the columns, e.g. bonds.coupon or depreciation.server_life",
    col_values="Values of col_param (row or column)",
    metric="Engine column to report (default net_debt_to_ebitda)",
    year=('Projected fiscal year, or "peak" (default), "last" or "min" over the horizon'),
    overrides=OVERRIDES + " (inputs.years sets the horizon, default 5)",
)
def cpx_sensitivity(ticker, preset, row_param, row_values, col_param, col_values, metric=None,
                    year=None, overrides=None) -> Any:
    """2-D sensitivity of one scenario metric to two terms: row and column headers, then the grid."""
    ds = current_dataset()
    t, p = _key(ds, ticker, preset)
    rp, cp = text(row_param, "row_param"), text(col_param, "col_param")
    rv, cv = complete(row_values, "row_values"), complete(col_values, "col_values")
    if len(rv) * len(cv) > MAX_GRID:
        raise ArgumentError(f"grid of {len(rv)}×{len(cv)} = {len(rv) * len(cv):,} scenarios is "
                            f"more than {MAX_GRID:,}")
    m = text(metric, "metric", default="net_debt_to_ebitda")
    when = _year_arg(year, "peak")
    base, s, inputs = scenario(ds, t, p, DEFAULT_YEARS, overrides_arg(overrides))
    rows_, cols_ = _param_values(rp, rv), _param_values(cp, cv)
    out = sensitivity_grid(base, s, inputs, rp, rows_, cp, cols_, metric=m, year=when)
    body = [[r, *(_ratio_cell(m, x) for x in out.loc[r])] for r in out.index]
    return table([f"{rp} \\ {cp}", *cols_], body)


@cpx_function(
    ticker=TICKER,
    preset=PRESET,
    n_paths=f"Simulated paths, 1-{MAX_PATHS:,} (default {DEFAULT_PATHS:,})",
    seed="Random seed, whole number >= 0 (default 0; the same seed gives the same bands)",
    threshold="Net debt / EBITDA above which a path is in breach, x (default 3.0)",
    overrides=OVERRIDES + " (inputs.years sets the horizon, default 5)",
    headers=HEADERS + " (table layout only)",
    keys="Optional: band names down a column (fcf_p5 ... p_breach_cum); with fiscal_years, "
    "the result is bands x years",
    fiscal_years=FISCAL_YEARS,
)
def cpx_monte_carlo(ticker, preset, n_paths=None, seed=None, threshold=None, overrides=None,
                    headers=None, keys=None, fiscal_years=None) -> Any:
    """Monte Carlo of a scenario (OCF growth sd 5%, capex overrun sd 10%): P5/P50/P95 FCF and leverage and breach probability per year."""
    ds = current_dataset()
    t, p = _key(ds, ticker, preset)
    paths = None if is_blank(n_paths) else number(n_paths, "n_paths")
    if paths is not None and paths > MAX_PATHS:
        raise ArgumentError(f"n_paths = {paths:,.0f} is more than {MAX_PATHS:,}, the cap for a "
                            "worksheet call (bands settle by ~10,000 paths)")
    n = _whole(n_paths, "n_paths", DEFAULT_PATHS, 1, MAX_PATHS, "paths")
    sd = _whole(seed, "seed", 0, 0, 2**63 - 1, "seed")
    limit = number(threshold, "threshold", default=DEFAULT_THRESHOLD)
    pairs = overrides_arg(overrides)

    def make() -> Any:
        base, s, inputs = scenario(ds, t, p, DEFAULT_YEARS, pairs)
        return monte_carlo(base, s, inputs, n_paths=n, threshold=limit, seed=sd).bands

    layout = _timeline_args(keys, fiscal_years)
    bands = _SIMULATIONS.get(ds, (t, p, n, sd, limit, pairs), make)
    if layout is not None:
        return _timeline_rows(bands, *layout, int(bands["year"].min()) - 1, None)
    rows = [[_ratio_cell(c, v, rec[0]) for c, v in zip(BAND_COLUMNS, rec, strict=True)]
            for rec in bands[list(BAND_COLUMNS)].itertuples(index=False)]
    return table(list(BAND_COLUMNS) if flag(headers, "headers", True) else None, rows)


# -- guidance ---------------------------------------------------------------------------------------


def _guidance_cell(column: str, value: Any, row: dict[str, Any]) -> Any:
    """A guidance table cell; a missing number says why it is missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if column in ("low_musd", "high_musd", "point_musd", "mid_musd", "first_low_musd",
                      "first_high_musd", "first_mid_musd", "latest_low_musd",
                      "latest_high_musd", "latest_mid_musd", "first_date"):
            return XlError("#N/A", f"{column}: not given (qualitative guidance, a floor or a "
                                   "single figure)")
        if column in ("actual_musd", "actual_vs_latest_mid", "actual_vs_first_mid"):
            return XlError("#N/A", f"{column}: {row.get('actual_measure') or 'not reported'}")
        if column in ("last_actual_musd", "guided_growth", "last_actual_year"):
            return XlError("#N/A", f"{column}: {row.get('basis_note') or 'not comparable'}")
        return ""
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if column in ("revisions", "last_actual_year") and isinstance(value, float):
        return int(value)
    return value


@cpx_function(
    ticker="Ticker, or several (a range or comma-separated text), e.g. META",
    fiscal_year="Guided year, optional: 2026 or FY2026 (fiscal) or CY2026 (calendar); default all",
    which='"latest" (default: the latest guide per year, last actual, guided growth), '
    '"history" (every revision), "outcome" (guide vs reported) or "path" (the guide in force '
    "at each as_of date)",
    headers=HEADERS,
    as_of='For which="path": dates YYYY-MM-DD down a column (rows of the result)',
)
def cpx_guidance(ticker, fiscal_year=None, which=None, headers=None, as_of=None) -> Any:
    """Management's capex guidance (USD m): the latest guide, every revision, guide vs outcome, or the guide in force by date, with basis flags and sources."""
    ds = current_dataset()
    tickers = [ds.check_ticker(t) for t in text_list(ticker, "ticker")]
    view = check_choice("which", text(which, "which", default="latest"), GUIDANCE_VIEWS)
    period = None if is_blank(fiscal_year) else text(fiscal_year, "fiscal_year")
    table_ = snapshot_guidance()
    if view == "path":
        if period is None or is_blank(as_of):
            raise ArgumentError('which="path" needs a fiscal_year and as_of dates')
        dates = text_list(as_of, "as_of")
        path = guidance_path(table_, tickers, period, dates)
        body = [[_path_cell(path.at[d, t], t, d, period) for t in path.columns]
                for d in path.index]
        return table(list(path.columns) if flag(headers, "headers", False) else None, body)
    if view == "history":
        frame = revisions(table_, tickers, period)
    elif view == "latest":
        frame = latest_guidance(table_, ds, tickers, period)
    else:
        frame = guidance_vs_outcome(table_, ds, tickers)
        if period is not None:
            frame = frame[frame["guided_fiscal_year"] == revisions(
                table_, tickers, period)["guided_fiscal_year"].iloc[0]]
        if frame.empty:
            raise DataError(f"no numeric capex guidance for {', '.join(tickers)}"
                            + (f" {period}" if period else ""))
    columns = list(GUIDANCE_VIEWS[view])
    rows = []
    for rec in frame[columns].to_dict(orient="records"):
        rows.append([_guidance_cell(c, rec[c], rec) for c in columns])
    return table(columns if flag(headers, "headers", True) else None, rows)


def _path_cell(value: float, ticker: str, date: str, period: str) -> Any:
    if math.isnan(value):
        label = f"FY{period}" if period.isdigit() else period.upper()
        return XlError("#N/A", f"{ticker}: no {label} guide with a figure by {date}")
    return float(value)
