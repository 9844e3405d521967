"""Issue #20 point 5: an override CSV cannot pass a wrong number silently.

Reported figures used below (USD millions): Microsoft FY2025 capex 64,551 and operating cash
flow 136,162 (10-K FY2025, in the snapshot). The slips reproduce the issue: a decimal comma
(``64551,5`` read as 645,515), a thousands-unit slip (64,551,000: capex/OCF 474), 1e308 and
infinity, a misspelt field (``capx``) and malformed tickers, dates and files. Every refusal is
one ``error:`` line naming the file and row; ``--allow-outliers`` lets a deliberate outlier
through, never a non-finite or absurd value.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from aicapex.data.dataset import SNAPSHOT_DIR, load_dataset
from aicapex.errors import DataError

CLI = [sys.executable, "-m", "aicapex"]
HEADER = "ticker,fiscal_year,fiscal_year_end,field,value_musd,source,note\n"
Q_HEADER = "ticker,fiscal_year,fiscal_quarter,period_end,fiscal_year_end,field,value_musd,source,note\n"
MSFT_CAPEX_FY25 = 64551.0
MSFT_OCF_FY25 = 136162.0


def _folder(tmp_path: Path, body: str, header: str = HEADER, name: str = "fix.csv") -> Path:
    folder = tmp_path / "overrides"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(header + body)
    return folder


def _row(value: str, field: str = "capex", ticker: str = "MSFT", fye: str = "2025-06-30",
         year: str = "2025") -> str:
    return f'{ticker},{year},{fye},{field},"{value}",Analyst fix,\n'


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def _one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("error:") and r.stderr.count("\n") == 1, r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


# -- decimal commas, unit slips, absurd numbers --------------------------------------------------


def test_a_decimal_comma_is_refused_with_a_hint(tmp_path):
    folder = _folder(tmp_path, _row("64551,5"))
    with pytest.raises(DataError, match=r"fix.csv: row 2 \(MSFT 2025 capex\).*'64551,5'.*"
                                        r"decimal comma.*64551\.5"):
        load_dataset(folder)
    r = _cli("metrics", "--tickers", "MSFT", "--overrides", str(folder))
    _one_line_error(r, "decimal comma", "64551.5")


def test_thousands_separators_still_read(tmp_path):
    ds = load_dataset(_folder(tmp_path, _row("64,551") + _row("136,162", field="ocf")))
    assert ds.value("MSFT", "capex", 2025) == MSFT_CAPEX_FY25
    assert ds.value("MSFT", "ocf", 2025) == MSFT_OCF_FY25


def test_a_thousands_unit_slip_is_refused_even_with_the_flag(tmp_path):
    """64,551,000 (capex entered in thousands): above $10 trillion, never a reported figure."""
    folder = _folder(tmp_path, _row("64551000"))
    from aicapex.data.dataset import outliers_allowed

    with outliers_allowed(), pytest.raises(DataError, match=r"row 2 \(MSFT 2025 capex\).*"
                                                         r"64,551,000.*USD millions"):
        load_dataset(folder)
    r = _cli("metrics", "--tickers", "MSFT", "--metrics", "capex_to_ocf", "--overrides",
             str(folder), "--allow-outliers")
    _one_line_error(r, "fix.csv", "USD millions")


def test_a_billions_slip_is_an_outlier_error_unless_allowed(tmp_path):
    folder = _folder(tmp_path, _row("64.551"))  # capex entered in USD billions
    with pytest.raises(DataError, match=r"row 2 \(MSFT 2025 capex\).* 1/1,000 of .*64,551.*"
                                        r"--allow-outliers"):
        load_dataset(folder)
    args = ["metrics", "--tickers", "MSFT", "--metrics", "capex_to_ocf", "--from", "2025",
            "--to", "2025", "--overrides", str(folder), "--format", "csv"]
    _one_line_error(_cli(*args), "--allow-outliers")
    r = _cli(*args, "--allow-outliers")
    assert r.returncode == 0, r.stderr
    value = float(r.stdout.strip().splitlines()[1].split(",")[3])
    assert value == pytest.approx(64.551 / MSFT_OCF_FY25)


def test_an_outlier_of_20x_but_below_the_absurd_limit_is_allowed_with_the_flag(tmp_path):
    folder = _folder(tmp_path, _row("3000000"))  # 46× the reported capex
    with pytest.raises(DataError, match="46×"):
        load_dataset(folder)
    from aicapex.data.dataset import outliers_allowed

    with outliers_allowed():
        assert load_dataset(folder).value("MSFT", "capex", 2025) == 3_000_000


@pytest.mark.parametrize("value", ["1e308", "-1e308", "inf", "-inf", "nan", "1e15"])
def test_non_finite_and_absurd_values_are_refused_even_with_the_flag(tmp_path, value):
    field = "ocf" if value.startswith("-") else "capex"  # capex may not be negative anyway
    folder = _folder(tmp_path, _row(value, field=field))
    from aicapex.data.dataset import outliers_allowed

    with outliers_allowed(), pytest.raises(DataError, match=r"row 2 .*value_musd"):
        load_dataset(folder)


def test_a_new_company_is_checked_against_its_own_other_periods(tmp_path):
    body = (_row("1069", ticker="NVDA", year="2023", fye="2023-01-29")
            + _row("3236000", ticker="NVDA", year="2024", fye="2024-01-28")
            + _row("1069", ticker="NVDA", year="2022", fye="2022-01-30"))
    with pytest.raises(DataError, match=r"NVDA 202[34] capex"):
        load_dataset(_folder(tmp_path, body))
    fine = _row("1069", ticker="NVDA", year="2023", fye="2023-01-29") + \
        _row("3236", ticker="NVDA", year="2025", fye="2025-01-26")
    assert load_dataset(_folder(tmp_path, fine, name="fix.csv")).value("NVDA", "capex", 2025) == 3236


def test_the_band_accepts_every_audited_figure_against_its_neighbours():
    """The 20× band is wide enough for real data: each snapshot figure, offered as an override
    for a copy of the snapshot without it, passes (largest jump in the snapshot: 17.4×, AMZN
    quarterly finance-lease additions 54 → 937)."""
    from aicapex.data.dataset import plausibility_problems

    for name in ("hyperscalers_annual.csv", "hyperscalers_quarterly.csv"):
        frame = pd.read_csv(SNAPSHOT_DIR / name, dtype=str, keep_default_na=False)
        frame["value_musd"] = frame["value_musd"].astype(float)
        problems = plausibility_problems(frame, frame, exclude_same_key=True)
        assert problems == [], problems[:3]


def test_quarterly_overrides_are_checked_too(tmp_path):
    body = "MSFT,2025,Q4,2025-06-30,2025-06-30,capex,1707900,Analyst,\n"  # 100×
    with pytest.raises(DataError, match=r"MSFT 2025 Q4 capex"):
        load_dataset(_folder(tmp_path, body, header=Q_HEADER))


# -- names, patterns, dates, empty files -----------------------------------------------------------


def test_an_unknown_field_names_the_nearest_valid_one(tmp_path):
    folder = _folder(tmp_path, _row("64551", field="capx"))
    with pytest.raises(DataError, match=r"row 2 .*unknown field 'capx'.*did you mean 'capex'"):
        load_dataset(folder)
    r = _cli("report", "--overrides", str(folder))
    _one_line_error(r, "capx", "capex")


@pytest.mark.parametrize("ticker, field", [
    ("MS FT", "capex"), ("=HYPERLINK(1)", "capex"), ("MSFT;DROP", "capex"),
    ("MSFT", "capex value"), ("MSFT", "Capex"), ("MSFT", "=1+1"), ("", "capex"),
])
def test_tickers_and_fields_must_match_a_strict_pattern(tmp_path, ticker, field):
    folder = _folder(tmp_path, f'"{ticker}",2025,2025-06-30,"{field}",64551,src,\n')
    with pytest.raises(DataError, match=r"fix.csv: row 2"):
        load_dataset(folder)


@pytest.mark.parametrize("fye, why", [
    ("June 2025", "YYYY-MM-DD"), ("2025-13-30", "YYYY-MM-DD"), ("", "YYYY-MM-DD"),
    ("2024-06-30", "fiscal year 2025"),
])
def test_a_bad_fiscal_year_end_is_one_line(tmp_path, fye, why):
    folder = _folder(tmp_path, _row("64551", fye=fye))
    with pytest.raises(DataError, match=rf"row 2 .*fiscal_year_end '{fye}'.*{why}"):
        load_dataset(folder)
    r = _cli("metrics", "--tickers", "MSFT", "--overrides", str(folder))
    _one_line_error(r, "fiscal_year_end")


def test_a_bad_period_end_or_quarter_is_one_line(tmp_path):
    body = "MSFT,2025,Q5,2025-06-30,2025-06-30,capex,17079,src,\n"
    with pytest.raises(DataError, match=r"fiscal_quarter 'Q5'"):
        load_dataset(_folder(tmp_path, body, header=Q_HEADER))
    body = "MSFT,2025,Q4,30/06/2025,2025-06-30,capex,17079,src,\n"
    with pytest.raises(DataError, match=r"period_end '30/06/2025'"):
        load_dataset(_folder(tmp_path, body, header=Q_HEADER, name="fix.csv"))


@pytest.mark.parametrize("content", [b"", b"\n", b"   \n\n"])
def test_an_empty_csv_is_one_line(tmp_path, content):
    folder = tmp_path / "overrides"
    folder.mkdir()
    (folder / "empty.csv").write_bytes(content)
    with pytest.raises(DataError, match="empty.csv: empty file"):
        load_dataset(folder)
    r = _cli("metrics", "--overrides", str(folder))
    _one_line_error(r, "empty.csv", "empty file")


def test_refresh_with_an_outlier_changes_nothing_and_the_flag_lets_it_through(
        refreshed_workbook, tmp_path):
    import shutil

    book = Path(shutil.copy2(refreshed_workbook, tmp_path / refreshed_workbook.name))
    before = book.read_bytes()
    folder = _folder(tmp_path, _row("3000000"))
    r = _cli("refresh", "--quiet", str(book), "--overrides", str(folder))
    _one_line_error(r, "fix.csv", "--allow-outliers")
    assert book.read_bytes() == before
    r = _cli("refresh", "--quiet", str(book), "--overrides", str(folder), "--allow-outliers")
    assert r.returncode in (0, 3), r.stderr  # refreshed (a 46× capex may trip a check)
    assert book.read_bytes() != before


def test_every_data_command_takes_allow_outliers():
    from aicapex.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    with_overrides = [name for name, p in sub.choices.items()
                      if any("--overrides" in a.option_strings for a in p._actions)]
    assert {"metrics", "report", "power", "roi", "refresh", "build"} <= set(with_overrides)
    for name in with_overrides:
        p = sub.choices[name]
        assert any("--allow-outliers" in a.option_strings for a in p._actions), name
