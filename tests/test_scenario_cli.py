"""``python -m aicapex scenario``: output shape, formats and one-line errors."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from aicapex.cli import main

HEADER = (
    "year,capex,ocf,fcf,new_debt,interest,gross_debt,cash,net_debt,lease_liability,da,"
    "da_to_revenue,net_debt_to_ebitda"
)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["scenario", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("preset", ["all-cash", "bonds", "spv-lease", "private-credit", "hybrid"])
def test_csv_header_and_one_row_per_year(capsys, preset):
    code, out, err = run(capsys, "--ticker", "MSFT", "--preset", preset, "--years", "4",
                         "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[0].startswith(HEADER + ",")
    frame = pd.read_csv(io.StringIO(out))
    assert frame["year"].tolist() == [2026, 2027, 2028, 2029]
    # reported MSFT FY2025 base: existing debt 43,151 stays outstanding
    assert (frame["gross_debt"] >= 43151 - 1e-6).all()


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


def test_user_inputs_and_term_overrides(capsys):
    code, out, _ = run(
        capsys, "--ticker", "MSFT", "--preset", "bonds", "--years", "3", "--format", "csv",
        "--capex", "200000,250000,300000", "--revenue-growth", "0.1", "--min-cash", "90000",
        "--set", "bonds.coupon=0.06",
    )
    assert code == 0
    f = pd.read_csv(io.StringIO(out))
    assert f["capex"].tolist() == [200000, 250000, 300000]
    assert f["revenue"].iloc[0] == pytest.approx(281724 * 1.1)
    # second-year interest = existing 2,385 + 6% of the first year's bonds
    assert f["interest"].iloc[1] == pytest.approx(2385 + 0.06 * f["bonds"].iloc[0])


def test_missing_base_figure_is_a_one_line_error_unless_supplied(capsys):
    code, out, err = run(capsys, "--ticker", "AAPL", "--preset", "bonds")
    assert code == 2 and out == ""
    assert err.startswith("error: AAPL") and "interest_expense" in err
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
    ],
)
def test_bad_arguments_are_one_line_errors(capsys, args, word):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert err.startswith("error: ") and word in err
    assert len(err.strip().splitlines()) == 1
