"""``python -m aicapex scenario``: output shape, formats, the default paths an analyst can
defend, agreement with CPX_FINANCING, and one-line errors."""

from __future__ import annotations

import io
import json
import math

import aicapex.udfs as udfs
import pandas as pd
import pytest
from aicapex.cli import main
from aicapex.engine.financing import COLUMNS, ScenarioInputs
from aicapex.engine.presets import PRESET_NAMES

HEADER = (
    "year,capex,ocf,fcf,new_debt,interest,gross_debt,cash,net_debt,lease_liability,da,"
    "da_to_revenue,net_debt_to_ebitda"
)
GROWTH_CAP = ScenarioInputs().growth_cap  # the stated cap (model assumption), 50%
FADE_YEARS = ScenarioInputs().fade_years


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["scenario", *args])
    out, err = capsys.readouterr()
    return code, out, err


def csv_frame(capsys, *args: str) -> pd.DataFrame:
    code, out, err = run(capsys, *args, "--format", "csv")
    assert code == 0, err
    return pd.read_csv(io.StringIO(out))


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_csv_header_and_one_row_per_year(capsys, preset):
    code, out, err = run(capsys, "--ticker", "MSFT", "--preset", preset, "--years", "4",
                         "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[0].startswith(HEADER + ",")
    frame = pd.read_csv(io.StringIO(out))
    # MSFT's base is FY2026, its latest fiscal year with revenue, OCF, capex, cash and debt
    assert frame["year"].tolist() == [2027, 2028, 2029, 2030]
    # reported MSFT FY2026 base: existing debt 40,294 stays outstanding
    assert (frame["gross_debt"] >= 40294 - 1e-6).all()
    assert "funding_gap" in frame.columns and (frame["funding_gap"] >= -1e-6).all()


def test_default_years_is_five_and_json(capsys):
    code, out, _ = run(capsys, "--ticker", "GOOGL", "--preset", "bonds", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["year"] for r in rows] == [2026, 2027, 2028, 2029, 2030]
    assert list(rows[0])[:13] == HEADER.split(",")


def test_table_format(capsys):
    code, out, _ = run(capsys, "--ticker", "META", "--preset", "hybrid", "--years", "2")
    assert code == 0
    assert out.split()[:3] == ["year", "capex", "ocf"]
    assert len(out.strip().splitlines()) == 3


# --- the defaults an analyst can defend (issue 16) ----------------------------------------------
# Latest guidance (capex_guidance.csv): GOOGL FY2026 $180-190bn (basis not stated: read as
# purchases of P&E); META FY2026 $125-145bn incl. finance-lease principal (less FY2025's 2,524);
# AMZN FY2026 ~$200bn cash capex (plus FY2025 proceeds 131,819 - 128,320 = 3,499). ORCL FY2026
# is reported (55,663) and is ORCL's base year; MSFT's ~$190bn is calendar 2026 (not used).
FIRST_YEAR = {
    "GOOGL": (2026, 185000.0),
    "META": (2026, 135000.0 - 2524.0),
    "AMZN": (2026, 200000.0 + 131819.0 - 128320.0),
}
BASE_CAPEX = {"MSFT": 115948.0, "ORCL": 55663.0, "GOOGL": 91447.0, "META": 69691.0,
              "AMZN": 131819.0}
REVENUE_CAGR = {  # revenue CAGR over the five years to each base year (reported revenue)
    "MSFT": (331839 / 168088) ** 0.2 - 1, "ORCL": (67357 / 40479) ** 0.2 - 1,
    "GOOGL": (402836 / 182527) ** 0.2 - 1, "META": (200966 / 85965) ** 0.2 - 1,
    "AMZN": (716924 / 386064) ** 0.2 - 1,
}


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize("ticker", ["MSFT", "GOOGL", "AMZN", "META", "ORCL"])
def test_capex_starts_at_guidance_and_fades_under_the_cap(capsys, ticker, preset):
    f = csv_frame(capsys, "--ticker", ticker, "--preset", preset, "--years", "5")
    capex = f["capex"].tolist()
    if ticker in FIRST_YEAR:
        year, guided = FIRST_YEAR[ticker]
        assert f["year"].iloc[0] == year
        assert capex[0] == pytest.approx(guided)
        if ticker == "GOOGL":
            assert 180000 <= capex[0] <= 190000
        model_years = range(1, 5)
    else:
        # ORCL FY2026 is reported (55,663), so the projection starts in FY2027; MSFT has no
        # fiscal-year guidance for FY2027
        assert f["year"].iloc[0] == {"ORCL": 2027, "MSFT": 2027}[ticker]
        model_years = range(0, 5)
    growth = [c / p - 1 for c, p in zip(capex, [BASE_CAPEX[ticker], *capex[:-1]],
                                        strict=True)]
    assert growth == pytest.approx(f["capex_growth"].tolist())
    for t in model_years:
        assert growth[t] <= GROWTH_CAP + 1e-9, (ticker, t, growth[t])
    # the final year grows at the long-run rate (the revenue CAGR), give or take rounding
    assert growth[-1] <= REVENUE_CAGR[ticker] + 1e-6
    assert growth[-1] == pytest.approx(REVENUE_CAGR[ticker], abs=1e-6)
    # revenue fades the same way
    assert f["revenue_growth"].iloc[-1] == pytest.approx(REVENUE_CAGR[ticker], abs=1e-6)
    # no negative leverage with positive net debt; a funding gap is never negative
    bad = (f["net_debt"] > 0) & (f["net_debt_to_ebitda"] < 0)
    assert not bad.any()
    assert (f["equity"] == 0).all()


def test_orcl_fy2026_guidance_when_fy2026_is_projected(capsys):
    # with FY2025 as the base, ORCL's FY2026 starts at its latest guide (~$50bn, 2026-03-10)
    f = csv_frame(capsys, "--ticker", "ORCL", "--years", "2", "--set", "fiscal_year=2025")
    assert f["year"].tolist() == [2026, 2027]
    assert f["capex"].iloc[0] == pytest.approx(50000)


def test_sources_name_every_default(capsys):
    code, out, err = run(capsys, "--ticker", "META", "--preset", "bonds", "--years", "2",
                         "--sources", "--format", "csv")
    assert code == 0, err
    src = pd.read_csv(io.StringIO(out))
    assert list(src.columns) == ["item", "value", "unit", "source"]
    rows = src.set_index("item")
    assert float(rows.loc["capex FY2026", "value"]) == pytest.approx(132476)
    assert "less FY2025 finance-lease principal payments 2,524" in rows.loc["capex FY2026",
                                                                              "source"]
    assert float(rows.loc["base_year", "value"]) == 2025
    assert "not in the data set" in rows.loc["dividends", "source"]
    assert src["source"].notna().all()


# --- the command line and CPX_FINANCING are one service (issue 16) ---------------------------


def assert_same(frame: pd.DataFrame, table: list) -> None:
    assert table[0] == list(COLUMNS) == list(frame.columns)
    for rec, row in zip(frame.to_dict(orient="records"), table[1:], strict=True):
        for col, cell in zip(COLUMNS, row, strict=True):
            want = rec[col]
            if isinstance(want, str):
                assert cell == want, col
            elif isinstance(want, float) and math.isnan(want):
                assert cell in ("#N/A", "#DIV/0!"), col
            else:
                assert cell == pytest.approx(want, rel=1e-9, abs=1e-6), col


def test_cli_and_cpx_financing_agree_for_the_same_overrides(capsys):
    # the case: the CLI issued 50,000 of bonds, CPX_FINANCING 0 bonds and equity
    f = csv_frame(capsys, "--ticker", "META", "--preset", "all-cash", "--set",
                  "bonds.max_per_year=50000", "--set", "cash.keep_share=1")
    table = udfs.cpx_financing("META", "all-cash", 5, [["bonds.max_per_year", 50000],
                                                       ["cash.keep_share", 1]])
    assert_same(f, table)
    assert f["bonds"].max() == pytest.approx(50000)
    assert (f["equity"] == 0).all()


def test_cli_and_cpx_agree_on_a_year_of_capex_and_inputs(capsys):
    f = csv_frame(capsys, "--ticker", "META", "--preset", "hybrid", "--years", "3",
                  "--capex", "2026=135000", "--capex", "2028=150000", "--buybacks", "30000",
                  "--set", "inputs.growth_cap=0.3")
    table = udfs.cpx_financing("META", "hybrid", 3, [["capex.2026", 135000],
                                                     ["capex.2028", 150000],
                                                     ["inputs.buybacks", 30000],
                                                     ["inputs.growth_cap", 0.3]])
    assert_same(f, table)
    assert f["capex"].tolist()[0::2] == [135000, 150000]
    assert f["capex_growth"].iloc[1] <= 0.3 + 1e-12
    assert (f["buybacks"] == 30000).all()


def test_user_inputs_and_term_overrides(capsys):
    f = csv_frame(capsys, "--ticker", "MSFT", "--preset", "bonds", "--years", "3",
                  "--capex", "200000,250000,300000", "--revenue-growth", "0.1",
                  "--min-cash", "90000", "--set", "bonds.coupon=0.06")
    assert f["capex"].tolist() == [200000, 250000, 300000]
    assert f["revenue"].iloc[0] == pytest.approx(331839 * 1.1)
    # second-year interest = existing 2,385 (FY2025 10-K; FY2026 not in the data) + 6% of
    # the first year's bonds
    assert f["interest"].iloc[1] == pytest.approx(2385 + 0.06 * f["bonds"].iloc[0])
    # a shorter list sets the first years; the rest follow the default path
    g = csv_frame(capsys, "--ticker", "MSFT", "--years", "3", "--capex", "200000")
    assert g["capex"].iloc[0] == 200000 and g["capex"].iloc[1] > 200000


def test_missing_base_figure_is_a_one_line_error_unless_supplied(capsys):
    code, out, err = run(capsys, "--ticker", "AAPL", "--preset", "bonds")
    assert code == 2 and out == ""
    assert err.startswith("error: AAPL") and "interest_expense" in err
    assert "--set interest_expense=VALUE" in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "--ticker", "AAPL", "--preset", "bonds", "--years", "1",
                         "--set", "interest_expense=3000", "--format", "csv")
    assert code == 0, err
    assert pd.read_csv(io.StringIO(out))["interest"].iloc[0] == pytest.approx(3000)


@pytest.mark.parametrize(
    "args, word",
    [
        (["--ticker", "MSFT", "--preset", "junk"], "unknown preset"),
        (["--ticker", "MSFT", "--years", "0"], "--years"),
        (["--ticker", "MSFT", "--years", "31"], "--years"),
        (["--ticker", "MSFT", "--years", "two"], "--years"),
        (["--ticker", "NOPE"], "unknown ticker"),
        (["--ticker", "MSFT", "--capex-growth", "fast"], "--capex-growth"),
        (["--ticker", "MSFT", "--set", "bonds.coupon"], "KEY=VALUE"),
        (["--ticker", "MSFT", "--set", "bonds.coupon=3"], "bonds.coupon"),
        (["--ticker", "MSFT", "--set", "bonds.kupon=0.03"], "kupon"),
        (["--ticker", "MSFT", "--capex", "2026=1"], "FY2026 is not a projected year"),
        (["--ticker", "MSFT", "--capex", "2027=x"], "--capex 2027"),
        (["--ticker", "MSFT", "--capex", "2027=1,5"], "not both"),
        (["--ticker", "MSFT", "--capex", "2027=1", "--set", "capex.2027=2"], "given twice"),
    ],
)
def test_bad_arguments_are_one_line_errors(capsys, args, word):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert err.startswith("error: ") and word in err
    assert len(err.strip().splitlines()) == 1


# --- python -m aicapex guidance ---------------------------------------------------------------


def test_guidance_csv_lists_the_2026_revisions_with_sources(capsys):
    code = main(["guidance", "--tickers", "META", "--format", "csv"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == ("ticker,guided_fiscal_year,date_given,low_musd,high_musd,"
                                   "point_musd,mid_musd,basis,statement,source")
    f = pd.read_csv(io.StringIO(out))
    assert (f["ticker"] == "META").all() and len(f) == 16  # SOURCES.md: 16 META rows
    y26 = f[(f["guided_fiscal_year"] == "FY2026") & f["low_musd"].notna()]
    assert y26[["date_given", "low_musd", "high_musd", "mid_musd"]].to_numpy().tolist() == [
        ["2026-01-28", 115000, 135000, 125000], ["2026-04-29", 125000, 145000, 135000]]
    assert y26["source"].str.count("https://").eq(2).all()
    # qualitative rows keep their words and leave the numbers empty
    qual = f[f["low_musd"].isna() & f["point_musd"].isna()]
    assert len(qual) > 0 and qual["statement"].str.len().gt(10).all()


def test_guidance_views_and_errors(capsys):
    code = main(["guidance", "--tickers", "MSFT,GOOGL", "--view", "latest", "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 0
    rows = {(r["ticker"], r["guided_fiscal_year"]): r for r in json.loads(out)}
    googl = rows[("GOOGL", "FY2026")]
    assert googl["mid_musd"] == 185000 and googl["last_actual_musd"] == 91447
    assert rows[("MSFT", "CY2026")]["guided_growth"] is None
    assert "calendar year" in rows[("MSFT", "CY2026")]["basis_note"]
    code = main(["guidance", "--tickers", "AMZN", "--view", "outcome", "--year", "2025",
                 "--format", "csv"])
    out, _ = capsys.readouterr()
    f = pd.read_csv(io.StringIO(out))
    # Amazon guided ~$125bn of cash capex for 2025; cash capex was 128,320
    assert f["actual_musd"].tolist() == [128320] and f["latest_mid_musd"].tolist() == [125000]
    for args, word in ((["--tickers", "AAPL"], "no capex guidance for AAPL"),
                       (["--tickers", "META", "--year", "twenty"], "guided year")):
        code = main(["guidance", *args])
        _, err = capsys.readouterr()
        assert code == 2 and err.startswith("error: ") and word in err
