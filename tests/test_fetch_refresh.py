"""``refresh --online`` and the Refresh button's fetch, against the loopback SEC stand-in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import openpyxl
from aicapex.data import seccache
from sec_standin import FILES, facts_url
from test_fetch import fact, run

EMPTY = {1018724: "AMZN", 1326801: "META", 1341439: "ORCL"}


def msft_with_fy2027() -> bytes:
    doc = json.loads(FILES[789019].read_bytes())
    for concept, val in (("NetCashProvidedByUsedInOperatingActivities", 200_000e6),
                         ("PaymentsToAcquirePropertyPlantAndEquipment", 150_000e6)):
        doc["facts"]["us-gaap"][concept]["units"]["USD"].append(
            fact("2026-07-01", "2027-06-30", val, "0000950170-27-000001", "10-K", "2027-07-30"))
    return json.dumps(doc).encode()


def serve_all_six(fake) -> None:
    fake.bodies[facts_url(789019)] = msft_with_fy2027()
    for cik, name in EMPTY.items():  # valid companyfacts with no facts: nothing new for them
        fake.bodies[facts_url(cik)] = json.dumps({"cik": cik, "entityName": name,
                                                  "facts": {"us-gaap": {}}}).encode()


def data_rows(path):
    ws = openpyxl.load_workbook(path, data_only=True)["Data"]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=7) if row[0].value]


def test_refresh_online_fetches_first_then_refreshes(fake_sec, refreshed_workbook, tmp_path, capsys):
    serve_all_six(fake_sec)
    path = tmp_path / refreshed_workbook.name
    shutil.copy(refreshed_workbook, path)
    code, out, err = run(capsys, "refresh", str(path), "--online", "--quiet")
    assert code == 0, err
    assert out.count(": updated:") == 6 and "refreshed " in out
    assert sorted(set(fake_sec.paths())) == sorted(facts_url(c) for c in [*FILES, *EMPTY])
    rows = data_rows(path)
    assert ["MSFT", 2027, "capex"] in [[r[0], r[1], r[3]] for r in rows]
    capex = next(r for r in rows if r[:2] == ["MSFT", 2027] and r[3] == "capex")
    assert capex[4] == 150_000
    changes = openpyxl.load_workbook(path, data_only=True)["Changes"]
    assert any("MSFT FY2027 capex" in str(c.value) for row in changes.iter_rows() for c in row)


def test_refresh_online_outage_keeps_earlier_data_and_exits_1(fake_sec, refreshed_workbook,
                                                              tmp_path, capsys):
    from werkzeug.wrappers import Response

    path = tmp_path / refreshed_workbook.name
    shutil.copy(refreshed_workbook, path)
    for cik in [*FILES, *EMPTY]:
        fake_sec.bodies[facts_url(cik)] = lambda r: Response("down", status=503)
    code, out, err = run(capsys, "refresh", str(path), "--online", "--quiet")
    assert code == 1
    assert len([line for line in err.splitlines() if line.startswith("error: ")]) == 6
    assert "refreshed " in out  # the refresh itself went ahead with the data in hand


def test_refresh_offline_makes_no_request(fake_sec, refreshed_workbook, tmp_path, capsys):
    path = tmp_path / refreshed_workbook.name
    shutil.copy(refreshed_workbook, path)
    code, out, err = run(capsys, "refresh", str(path), "--quiet")
    assert code == 0 and fake_sec.log == []


REMOTE = r"""
import datetime as dt, json, sys
from python_calamine import CalamineWorkbook
import xlwings as xw
from aicapex.excel.refresh import refresh_book
path, agent = sys.argv[1], sys.argv[2]
def clean(v):
    return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
sheets = []
book = CalamineWorkbook.from_path(path)
for name in book.sheet_names:
    rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False) or [[""]]
    if name == "xlwings.conf":  # the analyst switches the online refresh on in the config
        rows = [list(r) + [""] * (2 - len(r)) for r in rows]
        rows[1:1] = [["AICAPEX_ONLINE", "TRUE"], ["AICAPEX_SEC_USER_AGENT", agent]]  # A2:B3
    w = max(len(r) for r in rows)
    sheets.append({"name": name, "values": [[clean(v) for v in r] + [""] * (w - len(r)) for r in rows],
                   "pictures": [], "tables": []})
payload = {"client": "Office.js", "version": xw.__version__,
           "book": {"name": "ai_capex_monitor.xlsm", "active_sheet_index": 0, "selection": "A1"},
           "names": json.loads(sys.argv[3]), "sheets": sheets}  # the names the client sends
b = xw.Book(json=payload)
refresh_book(b, now=dt.datetime(2026, 12, 2, 8, 0))
print(json.dumps({"sheets": [s["name"] for s in sheets], "actions": b.json()["actions"]}, default=str))
"""


def test_refresh_button_fetches_when_the_workbook_config_enables_it(fake_sec, refreshed_workbook,
                                                                    monkeypatch):
    serve_all_six(fake_sec)
    env = {**os.environ, "XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}
    env.pop("AICAPEX_SEC_USER_AGENT")  # from the workbook's config only
    agent = "Book Config book@example.com"
    from officejs import client_names

    names = json.dumps(client_names(refreshed_workbook))
    r = subprocess.run([sys.executable, "-c", REMOTE, str(refreshed_workbook), agent, names],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert {h.get("User-Agent") for _p, h, _t in fake_sec.log} == {agent}
    assert facts_url(789019) in fake_sec.paths()
    out = json.loads(r.stdout)
    data = out["sheets"].index("Data")
    written = [row for a in out["actions"] if a.get("sheet_position") == data and a["func"] == "setValues"
               for row in a["values"]]
    assert any(row[:2] == ["MSFT", 2027] and row[3] == "capex" and row[4] == 150_000 for row in written)
    assert seccache.facts_path(seccache.cache_dir(), 789019).exists()


def test_refresh_online_fetches_a_company_typed_into_the_coverage_list(fake_sec, refreshed_workbook,
                                                                        tmp_path, capsys):
    """A ticker the analyst typed into a free coverage slot is fetched and gets its block."""
    from aicapex.excel import layout as L
    from sec_standin import NEW_CIK
    from test_fetch import new_filer

    serve_all_six(fake_sec)
    fake_sec.bodies[facts_url(NEW_CIK)] = new_filer()
    path = tmp_path / refreshed_workbook.name
    shutil.copy(refreshed_workbook, path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    slot = len(L.COVERAGE)
    wb["Inputs"][L.coverage_cell(slot).split("!")[1].replace("$", "")].value = "NEWC"
    wb.save(path)
    code, out, err = run(capsys, "refresh", str(path), "--online", "--quiet")
    assert code == 0, err
    assert facts_url(NEW_CIK) in fake_sec.paths()
    ws = openpyxl.load_workbook(path, data_only=True)["Ratios"]
    b = L.ratios_layout().blocks[f"slot{slot + 1}"]
    fy25 = L.col(L.FIRST_PERIOD_COL + 2025 - L.FIRST_FY)
    assert ws[f"{fy25}{b.rows['capex'] + 1}"].value == 12_000  # the synthetic filer's 10-K
