"""``python -m aicapex fetch`` against a loopback stand-in for the SEC (pytest-httpserver).

The stand-in serves the real Apple/Microsoft/Alphabet companyfacts files of the snapshot, a
synthetic new filer, the ticker map, and misbehaves on demand (304, 429 + Retry-After, 503,
truncated or non-JSON bodies, the wrong company, a slow answer). Every test checks the
requests it received as well as what the commands print.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from pathlib import Path

import pandas as pd
import pytest
from aicapex.cli import main
from aicapex.data import sec, seccache
from aicapex.data.dataset import load_dataset
from pytest_httpserver import HTTPServer
from sec_standin import AGENT, FILES, LAST_MODIFIED, NEW_CIK, facts_url
from werkzeug.wrappers import Response


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cache_root() -> Path:
    return seccache.cache_dir()


def fact(start, end, val, accn, form, filed):
    return {"start": start, "end": end, "val": val, "accn": accn, "form": form, "filed": filed}


def new_filer() -> bytes:
    """A synthetic filer: FY2024 and FY2025 10-Ks (December year end) and a 2026 Q1 10-Q."""
    k24, k25, q1 = "0009999991-25-000001", "0009999991-26-000002", "0009999991-26-000003"

    def usd(*facts):
        return {"units": {"USD": list(facts)}}

    return json.dumps({"cik": NEW_CIK, "entityName": "New Compute Corp", "facts": {"us-gaap": {
        "Revenues": usd(fact("2024-01-01", "2024-12-31", 1_900e6, k24, "10-K", "2025-03-01"),
                        fact("2025-01-01", "2025-12-31", 5_000e6, k25, "10-K", "2026-03-02"),
                        fact("2026-01-01", "2026-03-31", 2_000e6, q1, "10-Q", "2026-05-10")),
        "NetCashProvidedByUsedInOperatingActivities": usd(
            fact("2024-01-01", "2024-12-31", 2_700e6, k24, "10-K", "2025-03-01"),
            fact("2025-01-01", "2025-12-31", 3_000e6, k25, "10-K", "2026-03-02")),
        "PaymentsToAcquirePropertyPlantAndEquipment": usd(
            fact("2024-01-01", "2024-12-31", 8_700e6, k24, "10-K", "2025-03-01"),
            fact("2025-01-01", "2025-12-31", 12_000e6, k25, "10-K", "2026-03-02")),
        "PropertyPlantAndEquipmentNet": usd(
            {"end": "2025-12-31", "val": 30_000e6, "accn": k25, "form": "10-K", "filed": "2026-03-02"}),
    }}}).encode()


# -- settings ---------------------------------------------------------------------------------


def test_tests_never_use_the_users_cache():
    import platformdirs

    assert seccache.cache_dir() != Path(platformdirs.user_cache_dir("aicapex", appauthor=False))


def test_missing_user_agent_is_refused_before_any_request(fake_sec, monkeypatch, capsys):
    monkeypatch.delenv("AICAPEX_SEC_USER_AGENT")
    code, out, err = run(capsys, "fetch", "--all-covered")
    assert code == 2 and out == ""
    assert err.startswith("error: AICAPEX_SEC_USER_AGENT is not set") and err.count("\n") == 1
    assert fake_sec.log == []
    assert not seccache.facts_dir(cache_root()).exists()


def test_settings_environment_wins_over_the_workbook_config(tmp_path):
    conf = {"aicapex_sec_user_agent": "From Conf conf@example.com",
            "AICAPEX_SEC_DATA_URL": "http://127.0.0.1:1/", "AICAPEX_SEC_WWW_URL": "http://conf"}
    env = {"AICAPEX_SEC_USER_AGENT": "From Env env@example.com", "AICAPEX_CACHE_DIR": str(tmp_path)}
    s = sec.SecSettings.from_env(env, conf)
    assert (s.user_agent, s.data_url, s.www_url) == ("From Env env@example.com",
                                                     "http://127.0.0.1:1", "http://conf")
    assert s.cache_dir == tmp_path and s.timeout == sec.DEFAULT_TIMEOUT
    assert sec.SecSettings.from_env({}, {}).data_url == "https://data.sec.gov"
    assert sec.SecSettings.from_env({}, {}).tickers_url == "https://www.sec.gov/files/company_tickers.json"


# -- downloads -------------------------------------------------------------------------------


def test_fetch_covered_companies_stores_validated_copies_and_sources(fake_sec, capsys):
    code, out, err = run(capsys, "fetch", "--tickers", "AAPL,MSFT,GOOGL")
    assert code == 0, err
    assert out.count("updated") == 3
    # Covered companies need no ticker look-up: exactly one request per company.
    assert sorted(fake_sec.paths()) == sorted(facts_url(c) for c in FILES)
    assert all(h.get("User-Agent") == AGENT for _p, h, _t in fake_sec.log)
    for cik, path in FILES.items():
        cached = seccache.facts_path(cache_root(), cik)
        assert cached.read_bytes() == path.read_bytes()  # stored verbatim
        meta = json.loads(seccache.meta_path(cached).read_text())
        assert meta["etag"] and meta["last_modified"] == LAST_MODIFIED
    ds = load_dataset()
    # The 10-K FY2026 figures of Microsoft (file: RevenueFromContract... 10-K accn
    # 0000950170-26-...) are now SEC-sourced rows with the fetch date.
    row = ds.row("MSFT", "capex", 2026)
    assert row["value_musd"] == 115948  # 10-K FY2026 "Additions to property and equipment"
    assert row["tier"] == "filing"
    assert row["source"].startswith("SEC companyfacts CIK0000789019, accn ")
    assert f"fetched {seccache.today().isoformat()}" in row["source"]
    assert row["origin"].endswith("CIK0000789019.json")
    v = ds.vintage().set_index("ticker")
    assert v.loc["MSFT", "latest_filed"] == "2026-07-29"
    assert v.loc["AAPL", "latest_filed"] == "2025-10-31"
    assert pd.isna(v.loc["META", "latest_filed"])  # snapshot only: no SEC date claimed


def test_second_fetch_is_conditional_and_304_keeps_the_copy(fake_sec, capsys):
    run(capsys, "fetch", "--tickers", "MSFT")
    cached = seccache.facts_path(cache_root(), 789019)
    before = cached.read_bytes()
    first_headers = fake_sec.log[0][1]
    assert "If-None-Match" not in first_headers and "If-Modified-Since" not in first_headers
    code, out, err = run(capsys, "fetch", "--tickers", "MSFT")
    assert code == 0, err
    second = fake_sec.log[1][1]
    etag = '"' + hashlib.sha1(FILES[789019].read_bytes()).hexdigest() + '"'
    assert second["If-None-Match"] == etag
    assert second["If-Modified-Since"] == LAST_MODIFIED
    assert "unchanged" in out
    assert cached.read_bytes() == before


def test_a_new_10k_changes_metrics_for_that_year(fake_sec, capsys):
    # Before: no MSFT FY2027 anywhere.
    code, out, _ = run(capsys, "metrics", "--tickers", "MSFT", "--metrics", "capex_to_ocf",
                       "--from", "2027", "--format", "csv")
    assert code == 0 and "2027" not in out
    # The SEC now has a FY2027 10-K: OCF 200,000 and capex 150,000 (synthetic figures).
    doc = json.loads(FILES[789019].read_bytes())
    accn = "0000950170-27-000001"
    for concept, val in (("NetCashProvidedByUsedInOperatingActivities", 200_000e6),
                         ("PaymentsToAcquirePropertyPlantAndEquipment", 150_000e6),
                         ("RevenueFromContractWithCustomerExcludingAssessedTax", 400_000e6)):
        doc["facts"]["us-gaap"][concept]["units"]["USD"].append(
            fact("2026-07-01", "2027-06-30", val, accn, "10-K", "2027-07-30"))
    fake_sec.bodies[facts_url(789019)] = json.dumps(doc).encode()
    assert run(capsys, "fetch", "--tickers", "MSFT")[0] == 0
    code, out, _ = run(capsys, "metrics", "--tickers", "MSFT", "--metrics", "capex_to_ocf,fcf",
                       "--from", "2027", "--format", "csv")
    assert code == 0
    rows = {line.split(",")[2]: float(line.split(",")[3]) for line in out.splitlines()[1:]}
    assert rows == {"capex_to_ocf": 0.75, "fcf": 50_000.0}  # 150,000 / 200,000; 200,000 - 150,000


def test_a_new_filer_works_in_every_data_command(fake_sec, capsys):
    fake_sec.bodies[facts_url(NEW_CIK)] = new_filer()
    code, out, err = run(capsys, "fetch", "--tickers", "NEWC")
    assert code == 0, err
    assert "/files/company_tickers.json" in fake_sec.paths()  # resolved through the ticker map
    code, out, _ = run(capsys, "metrics", "--tickers", "NEWC", "--metrics", "capex_to_ocf",
                       "--format", "csv")
    assert code == 0
    values = {int(line.split(",")[1]): float(line.split(",")[3]) for line in out.splitlines()[1:]}
    assert values == {2024: pytest.approx(8_700 / 2_700), 2025: 4.0}  # 12,000 / 3,000
    code, out, _ = run(capsys, "report", "--tickers", "NEWC", "--format", "csv")
    assert code == 0 and "NEWC" in out
    code, out, _ = run(capsys, "roi", "--tickers", "NEWC", "--format", "csv")
    assert code == 0 and "NEWC" in out
    from aicapex.data.provenance import parse_source
    from aicapex.udfs import cpx_source, cpx_tickers, cpx_value

    assert ["NEWC"] in cpx_tickers()
    assert cpx_value("NEWC", "capex", 2025) == 12_000
    assert cpx_value("NEWC", "revenue", 2024) == 1_900
    source = cpx_source("NEWC", "capex", 2025)
    assert "0009999991-26-000002" in source
    # The Sources sheet's EDGAR link needs the CIK, which the source names.
    assert parse_source("NEWC", source).url.endswith("/edgar/data/9999991/000999999126000002/")
    # The 2026 Q1 10-Q (no 10-K yet for 2026) is a fiscal 2026 quarter.
    q = load_dataset().row("NEWC", "revenue", "2026Q1")
    assert q["value_musd"] == 2_000 and q["fiscal_year_end"] == "2026-12-31"
    # And fetch --all-covered now includes it.
    assert "NEWC" in sec.covered_tickers()


def test_fetch_by_cik_and_unknown_names(fake_sec, capsys):
    fake_sec.bodies[facts_url(NEW_CIK)] = new_filer()
    code, out, err = run(capsys, "fetch", "--cik", str(NEW_CIK), "--tickers", "NOPE")
    assert code == 1
    assert "NEWC (CIK 9999991): updated" in out
    assert err.strip() == ("error: NOPE: not in the SEC ticker map; pass its CIK with --cik; "
                           "earlier data kept")


# -- failures keep the earlier copy ---------------------------------------------------------


def _fetch_all_first(fake_sec, capsys):
    assert run(capsys, "fetch", "--tickers", "AAPL,MSFT,GOOGL")[0] == 0
    fake_sec.log.clear()
    return {c: seccache.facts_path(cache_root(), c).read_bytes() for c in FILES}


def _unchanged(before):
    for cik, data in before.items():
        assert seccache.facts_path(cache_root(), cik).read_bytes() == data


def test_429_with_retry_after_is_honoured(fake_sec, capsys):
    calls = []
    body = FILES[789019].read_bytes()

    def busy_then_ok(request):
        calls.append(1)
        if len(calls) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "7"})
        return Response(body, status=200, content_type="application/json")

    fake_sec.bodies[facts_url(789019)] = busy_then_ok
    code, out, err = run(capsys, "fetch", "--tickers", "MSFT")
    assert code == 0, err
    assert fake_sec.waits == [7.0]  # waited what the server asked, not the backoff
    assert len(calls) == 2 and "updated" in out


def test_503_is_retried_with_backoff_then_reported_and_the_copy_kept(fake_sec, capsys):
    before = _fetch_all_first(fake_sec, capsys)
    fake_sec.bodies[facts_url(789019)] = lambda r: Response("down", status=503)
    code, out, err = run(capsys, "fetch", "--tickers", "MSFT")
    assert code == 1
    assert fake_sec.paths() == [facts_url(789019)] * sec.ATTEMPTS
    assert fake_sec.waits == [1.0, 2.0, 4.0]  # exponential backoff between the attempts
    assert err == ("error: MSFT (CIK 789019): HTTP 503 after 4 attempts; earlier data kept\n")
    _unchanged(before)


@pytest.mark.parametrize(
    "name, body, needle",
    [
        ("truncated", lambda: FILES[789019].read_bytes()[:50_000], "malformed companyfacts JSON"),
        ("html", lambda: b"<html><body>Service notice</body></html>", "malformed companyfacts JSON"),
        ("wrong-cik", lambda: FILES[320193].read_bytes(), "about CIK 320193, not CIK 789019"),
        ("not-companyfacts", lambda: b'{"error": "x"}', "no 'facts' object"),
    ],
)
def test_bad_bodies_are_refused_and_the_copy_kept(fake_sec, capsys, name, body, needle):
    before = _fetch_all_first(fake_sec, capsys)
    data = body()
    fake_sec.bodies[facts_url(789019)] = lambda r: Response(data, status=200,
                                                            content_type="application/json")
    code, out, err = run(capsys, "fetch", "--tickers", "MSFT")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: MSFT (CIK 789019): download ") and needle in err
    _unchanged(before)
    # The data commands still use the earlier copy, and say how old it is.
    code, out, err = run(capsys, "metrics", "--tickers", "MSFT", "--from", "2026", "--format", "csv")
    assert code == 0
    assert err == (f"note: the last SEC fetch failed for MSFT (fetched {seccache.today()}, 0 days "
                   "old); using the earlier copy\n")
    assert load_dataset().row("MSFT", "capex", 2026)["origin"].endswith("CIK0000789019.json")


def test_a_body_cut_short_by_the_connection_is_retried_then_reported(fake_sec, capsys):
    data = FILES[789019].read_bytes()

    def cut(request):  # announces the full length, sends half: the client sees a broken read
        r = Response(data[: len(data) // 2], status=200, content_type="application/json")
        r.headers["Content-Length"] = str(len(data))
        r.automatically_set_content_length = False
        return r

    fake_sec.bodies[facts_url(789019)] = cut
    code, out, err = run(capsys, "fetch", "--tickers", "MSFT")
    assert code == 1 and err.startswith("error: MSFT (CIK 789019): connection failed ")
    assert "peer closed connection without sending complete message body" in err
    assert "after 4 attempts" in err and fake_sec.paths() == [facts_url(789019)] * 4
    assert not seccache.facts_path(cache_root(), 789019).exists()


def test_an_outage_prints_one_line_per_company_and_data_stays(fake_sec, capsys):
    before = _fetch_all_first(fake_sec, capsys)
    for cik in FILES:
        fake_sec.bodies[facts_url(cik)] = lambda r: Response("down", status=503)
    code, out, err = run(capsys, "fetch", "--all-covered")
    assert code == 1
    lines = err.splitlines()
    # One line per covered company; none has data at the stand-in, all six fail.
    assert [line.split(" ")[1] for line in lines] == ["MSFT", "GOOGL", "AMZN", "META", "ORCL", "AAPL"]
    assert all(line.startswith("error: ") and line.endswith("earlier data kept") for line in lines)
    _unchanged(before)
    ds = load_dataset()
    assert ds.value("MSFT", "capex", 2026) == 115948
    assert "MSFT" in ds.notes[0] and "AAPL" in ds.notes[0] and len(ds.notes) == 1


def test_a_slow_server_times_out(monkeypatch, capsys):
    server = HTTPServer(threaded=True)
    server.start()
    try:
        def slow(request):
            time.sleep(0.6)
            return Response("{}", status=200)

        server.expect_request(facts_url(789019)).respond_with_handler(slow)
        monkeypatch.setenv("AICAPEX_SEC_USER_AGENT", AGENT)
        monkeypatch.setenv("AICAPEX_SEC_DATA_URL", server.url_for("").rstrip("/"))
        monkeypatch.setenv("AICAPEX_SEC_TIMEOUT", "0.1")
        monkeypatch.setattr(sec, "sleep", lambda s: None)
        code, out, err = run(capsys, "fetch", "--tickers", "MSFT")
        assert code == 1
        assert err == "error: MSFT (CIK 789019): no answer within 0.1 s after 4 attempts; earlier data kept\n"
        assert len(server.log) <= sec.ATTEMPTS
    finally:
        server.clear()
        server.stop()


# -- politeness --------------------------------------------------------------------------------


def test_rate_limiter_spaces_request_starts():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    limiter = sec.RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    starts = []
    for _ in range(25):
        limiter.wait()
        starts.append(now[0])
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert all(g == pytest.approx(0.1) for g in gaps)
    assert starts[-1] == pytest.approx(2.4)  # 25 starts need 2.4 s at 10 a second


def test_requests_reach_the_server_at_most_ten_a_second(fake_sec, capsys):
    # Twelve filers fetched in one run: any eleven consecutive requests span at least 0.9 s
    # (requests are sequential, so the server sees the limiter's spacing less one round trip).
    for i in range(12):
        doc = json.loads(new_filer())
        doc["cik"] = NEW_CIK + 1 + i
        fake_sec.bodies[facts_url(NEW_CIK + 1 + i)] = json.dumps(doc).encode()
    table = {str(i): {"cik_str": NEW_CIK + 1 + i, "ticker": f"NEW{i}", "title": "x"} for i in range(12)}
    fake_sec.bodies["/files/company_tickers.json"] = json.dumps(table).encode()
    args = ["fetch"] + [a for i in range(12) for a in ("--cik", str(NEW_CIK + 1 + i))]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    times = [t for _p, _h, t in fake_sec.log]
    assert len(times) == 13  # the ticker map, then twelve companies
    assert all(times[i + 10] - times[i] >= 0.9 for i in range(len(times) - 10))


# -- the overrides folder and the error message of issue #22 ---------------------------------


def test_unknown_cik_names_real_ways_to_give_the_ticker(tmp_path, capsys):
    folder = tmp_path / "ov"
    folder.mkdir()
    doc = json.loads(new_filer())
    doc["cik"] = 9999999
    (folder / "CIK0009999999.json").write_text(json.dumps(doc))
    code, out, err = run(capsys, "metrics", "--overrides", str(folder))
    assert code == 2 and err.count("\n") == 1
    assert "CIK 9999999 is not a covered company" in err
    assert "pass its ticker" not in err  # no such option exists
    assert "`python -m aicapex fetch --cik 9999999`" in err and "TICKER.json" in err
    # Both ways it names work: the fetch option parses, and a ticker-named file loads.
    from aicapex.cli import build_parser

    assert build_parser().parse_args(["fetch", "--cik", "9999999"]).cik == [9999999]
    (folder / "CIK0009999999.json").rename(folder / "NEWC.json")
    assert load_dataset(folder).value("NEWC", "capex", 2025) == 12_000


def test_a_fetched_figure_that_replaces_a_different_snapshot_value_says_so(tmp_path):
    doc = json.loads(FILES[789019].read_bytes())
    doc = copy.deepcopy(doc)
    for f in doc["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"]:
        if f["end"] == "2025-06-30" and f["start"] == "2024-07-01":
            f["val"] = 64_000e6  # a restatement in a later filing (synthetic)
    path = seccache.facts_path(cache_root(), 789019)
    seccache.write_atomic(path, json.dumps(doc).encode())
    seccache.write_json_atomic(seccache.meta_path(path), {"ticker": "MSFT", "fetched_at": "2026-12-01"})
    row = load_dataset().row("MSFT", "capex", 2025)
    assert row["value_musd"] == 64_000
    assert "replaces snapshot value 64,551 (filing tier)" in row["note"]
    assert math.isclose(load_dataset(cache_dir=False).value("MSFT", "capex", 2025), 64_551)


def test_readme_override_example_loads(capsys):
    folder = Path(__file__).resolve().parents[1] / "docs" / "examples"
    code, out, err = run(capsys, "metrics", "--tickers", "NEWCO", "--metrics", "capex_to_ocf",
                         "--overrides", str(folder), "--format", "csv")
    assert code == 0, err
    values = {int(line.split(",")[1]): float(line.split(",")[3]) for line in out.splitlines()[1:]}
    assert values == {2024: pytest.approx(8_700 / 2_700), 2025: 4.0}  # 12,000 / 3,000
    ds = load_dataset(folder)
    assert ds.row("NEWCO", "capex", 2024)["tier"] == "unstated"  # tier left empty
    assert ds.row("NEWCO", "revenue", "2026Q1")["value_musd"] == 2_000


def test_share_classes_and_a_missing_ticker_map(fake_sec, capsys):
    # GOOG is Alphabet's other share class: filed under the covered ticker GOOGL.
    code, out, err = run(capsys, "fetch", "--tickers", "GOOG")
    assert code == 0, err
    assert out.startswith("GOOGL (CIK 1652044): updated")
    # Without a ticker map, covered companies are still fetched; the others get a line each.
    del fake_sec.bodies["/files/company_tickers.json"]
    seccache.tickers_path(cache_root()).unlink()
    fake_sec.log.clear()
    code, out, err = run(capsys, "fetch", "--tickers", "MSFT,NEWC")
    assert code == 1
    assert "MSFT (CIK 789019): updated" in out
    assert err.startswith("error: NEWC: cannot look it up (SEC ticker map ") and "HTTP 404" in err
