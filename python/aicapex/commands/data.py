"""``python -m aicapex data``: reported figures with definition, tier and source.

The command-line twin of ``CPX_DATA``/``CPX_VALUE``: the same :meth:`Dataset.select` rows,
plus what each figure means for that company (:func:`aicapex.engine.definitions.
field_definition`), any basis break starting in that year, its source tier and its source.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aicapex.commands._common import add_data_arguments, add_tickers_argument, dataset_from_args
from aicapex.commands._output import add_format_argument, write_frame
from aicapex.errors import DataError

if TYPE_CHECKING:  # pandas and the data layer load when the command runs, not to parse
    import pandas as pd

    from aicapex.data.dataset import Dataset

ANNUAL_COLUMNS = ["ticker", "fiscal_year", "fiscal_year_end", "field", "value_musd",
                  "definition", "basis_break", "tier", "source", "note", "origin"]
QUARTERLY_COLUMNS = ["ticker", "fiscal_year", "fiscal_quarter", "period_end", "field",
                     "value_musd", "definition", "tier", "source", "note", "origin"]
TABLE_TEXT = 48  # characters of a text column shown in the table view
NOT_REPORTED = "not reported (missing, not zero)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data",
        help="reported figures (USD m) with their definition, source tier and source",
        description="One row per reported figure: value in USD millions, what it means for "
        "that company, the source tier (filing / release / secondary) and the source. With "
        "--fields, a figure the company did not report in an annual year it covers is listed "
        "with an empty value and the note 'not reported'. The CLI twin of CPX_DATA.",
    )
    add_tickers_argument(p)
    p.add_argument("--fields", metavar="F1,F2",
                   help="comma-separated field names (default: every field)")
    p.add_argument("--freq", choices=("annual", "quarterly"), default="annual",
                   help="annual (default) or quarterly figures")
    p.add_argument("--from", dest="year_from", type=int, metavar="FY", help="first fiscal year")
    p.add_argument("--to", dest="year_to", type=int, metavar="FY", help="last fiscal year")
    add_format_argument(p)
    add_data_arguments(p)
    p.set_defaults(func=run)


def check_fields(ds: Dataset, text: str | None) -> list[str] | None:
    """The field names in ``text``; every unknown name in one error, with the nearest."""
    from aicapex.engine import definitions as d

    if not text:
        return None
    names = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in names if f not in ds.fields]
    if unknown:
        hints = ", ".join(f"{f!r}" + (f" (did you mean {n!r}?)" if (n := d.nearest(f, ds.fields))
                                      else "") for f in unknown)
        raise DataError(f"unknown field(s) {hints}; fields: {', '.join(ds.fields)}")
    return names


def reported_figures(ds: Dataset, tickers: list[str], fields: list[str] | None,
                     freq: str = "annual",
                     years: tuple[int | None, int | None] = (None, None)) -> pd.DataFrame:
    """The rows of :meth:`Dataset.select` with ``definition`` (and, annual, ``basis_break``);
    with explicit ``fields``, annual gaps as rows with an empty value."""
    import pandas as pd

    from aicapex.engine import definitions as d

    rows = ds.select(tickers, fields, years, freq).copy()
    rows["definition"] = [d.field_definition(t, f) for t, f in zip(rows["ticker"], rows["field"],
                                                                   strict=True)]
    if freq == "quarterly":
        return rows.sort_values(["ticker", "period_end", "field"], key=_order(ds),
                                kind="stable")[QUARTERLY_COLUMNS].reset_index(drop=True)
    if fields is not None:
        rows = pd.concat([rows, _gaps(ds, tickers, fields, years, rows)], ignore_index=True)
    rows["basis_break"] = [d.break_note(t, [f], int(y)) for t, f, y in
                           zip(rows["ticker"], rows["field"], rows["fiscal_year"], strict=True)]
    return rows.sort_values(["ticker", "fiscal_year", "field"], key=_order(ds),
                            kind="stable")[ANNUAL_COLUMNS].reset_index(drop=True)


def _order(ds: Dataset):
    rank = {t: i for i, t in enumerate(ds.tickers)}
    return lambda s: s.map(rank) if s.name == "ticker" else s


def _gaps(ds: Dataset, tickers: list[str], fields: list[str],
          years: tuple[int | None, int | None], have: pd.DataFrame) -> pd.DataFrame:
    """Annual figures a company did not report in a fiscal year it reports others for."""
    import pandas as pd

    from aicapex.engine import definitions as d

    lo, hi = years
    present = set(zip(have["ticker"], have["fiscal_year"], have["field"], strict=True))
    out = []
    for t in tickers:
        own = ds.annual[ds.annual["ticker"] == t]
        ends = dict(zip(own["fiscal_year"], own["fiscal_year_end"], strict=False))
        for fy in sorted(ends):
            if (lo is not None and fy < lo) or (hi is not None and fy > hi):
                continue
            for f in fields:
                if (t, fy, f) not in present:
                    out.append({"ticker": t, "fiscal_year": int(fy), "fiscal_year_end": ends[fy],
                                "field": f, "value_musd": float("nan"),
                                "definition": d.field_definition(t, f), "tier": "",
                                "source": "", "note": NOT_REPORTED, "origin": ""})
    return pd.DataFrame(out, columns=[c for c in ANNUAL_COLUMNS if c != "basis_break"])


def run(args: argparse.Namespace) -> int:
    ds = dataset_from_args(args)
    tickers = ([ds.check_ticker(t) for t in args.tickers.split(",") if t.strip()]
               if args.tickers else ds.tickers)
    fields = check_fields(ds, args.fields)
    frame = reported_figures(ds, tickers, fields, args.freq, (args.year_from, args.year_to))
    if frame.empty:
        raise DataError(f"no {args.freq} figures for {','.join(tickers)} in that range")
    if args.format == "table":  # long texts in full with --format csv or json
        for col in ("definition", "source", "note"):
            frame[col] = frame[col].map(lambda v: v if len(str(v)) <= TABLE_TEXT else
                                        str(v)[: TABLE_TEXT - 1] + "…")
    write_frame(frame, args.format)
    return 0
