"""xlwings Server deployment (``python -m aicapex serve``), tested over real HTTP on loopback.

The server runs in a subprocess (``XLWINGS_LICENSE_KEY=noncommercial``) on a free loopback
port for the module's tests and is always terminated. Tests that need xlwings-server skip when
it is not installed, and fail under CI=true (``.ci/run`` installs requirements-server.txt).
"""

from __future__ import annotations

import csv
import http.client
import importlib.util
import inspect
import json
import math
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import types
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aicapex.udfs as udfs
import pytest
from aicapex import server
from aicapex.cli import main as cli_main
from aicapex.excel import layout as L
from aicapex.xlerrors import XlError
from conftest import REPO, require_or_skip
from officejs import SERVER_ENV, book_payload, payload

HAS_XLWINGS_SERVER = importlib.util.find_spec("xlwings_server") is not None
START_TIMEOUT = 90  # seconds until the server must answer
SNAPSHOT_ANNUAL = REPO / "python" / "aicapex" / "data" / "snapshot" / "hyperscalers_annual.csv"

OFFICEJS_ERRORS = {"Div0": "#DIV/0!", "NotAvailable": "#N/A", "Name": "#NAME?", "Null": "#NULL!",
                   "Num": "#NUM!", "Ref": "#REF!", "Value": "#VALUE!"}


# -- the server process --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method: str, url: str, body: bytes | None = None,
            content_type: str = "application/json", timeout: float = 120) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def post_json(url: str, data: Any) -> tuple[int, Any]:
    status, body = request("POST", url, json.dumps(data).encode())
    return status, json.loads(body)


class Server:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "server.log"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("XLWINGS_") and k != "DOTENV_PATH"}
        env["XLWINGS_LICENSE_KEY"] = "noncommercial"
        # short read timeouts so the slow-client tests finish quickly
        env["AICAPEX_SERVER_HEADER_TIMEOUT"] = "2"
        env["AICAPEX_SERVER_BODY_TIMEOUT"] = "2"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "aicapex", "serve", "--port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if request("GET", f"{self.url}/", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready after {START_TIMEOUT} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    require_or_skip(HAS_XLWINGS_SERVER,
                    "xlwings-server is not installed (pip install -r requirements-server.txt)")
    srv = Server(tmp_path_factory.mktemp("server"))
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


# -- endpoints -----------------------------------------------------------------------------------


def test_meta_lists_every_cpx_function(live):
    status, body = request("GET", f"{live.url}/xlwings/custom-functions-meta")
    assert status == 200
    names = {f["name"] for f in json.loads(body)["functions"]}
    assert names == {name.upper() for name in udfs.__all__}
    assert all(name.startswith("CPX_") for name in names)


def test_refresh_script_is_registered_with_its_sheet_button(live):
    status, body = request("GET", f"{live.url}/xlwings/custom-scripts-meta")
    assert status == 200
    scripts = {s["function_name"]: s for s in json.loads(body)}
    assert set(scripts) == {"refresh"}
    # xlwings' Office.js sheet-button form: [shape name]Sheet!cell
    assert scripts["refresh"]["button"] == "[xlwings_button]Cover!B3"


def test_task_pane_has_the_refresh_button(live):
    status, body = request("GET", f"{live.url}/taskpane.html")
    assert status == 200
    assert 'xw-click="refresh"' in body.decode()


def test_manifest_is_served(live):
    status, body = request("GET", f"{live.url}/manifest")
    assert status == 200
    xml = body.decode()
    assert "<OfficeApp" in xml and "AI Capex Workbench" in xml
    assert f"<Id>{server.DEFAULT_ENV['XLWINGS_MANIFEST_ID_PROD']}</Id>" in xml
    assert f"{live.url}/xlwings/custom-functions-meta" in xml
    assert 'DefaultValue="AICAPEX"' in xml  # the functions' namespace in Excel


def _direct(value: Any) -> Any:
    """A direct (pass-through) call's result in the server's JSON terms."""
    if isinstance(value, XlError):
        return str(value)
    if isinstance(value, list):
        return [[_direct(c) for c in row] for row in value]
    if isinstance(value, float) and math.isnan(value):
        return "#NUM!"
    return value


def _served(value: Any) -> Any:
    if isinstance(value, dict) and value.get("type") == "Error":
        return OFFICEJS_ERRORS[value["errorType"]]
    if isinstance(value, list):
        return [[_served(c) for c in row] for row in value]
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a == pytest.approx(b, rel=1e-12, abs=0)
    return a == b


CALLS = [
    ("cpx_capex_to_ocf", [[[64551, 44477, 28107]], [[136162, 118548, 87582]]]),
    ("cpx_capex_to_ocf", [[[64551], [44477]], [[136162], [118548]]]),
    ("cpx_capex_to_ocf", [1, 0]),  # zero denominator: #DIV/0! with its reason
    ("cpx_fcf", [[[164713, 125299]], [[91447, 52535]]]),
    ("cpx_fcf_margin", [136162, 64551, 281724]),
    ("cpx_net_debt", [[[None, 100]], [[50, 20]]]),  # a blank cell is a missing value
    ("cpx_value", ["MSFT", "capex", 2025]),
    ("cpx_value", ["NOPE", "capex", 2025]),
    ("cpx_cagr", [[[100, 110, 121]]]),
    ("cpx_growth", [[[100, 110, 121]]]),
    ("cpx_ratios", ["MSFT", 2023, 2025]),
    ("cpx_tickers", []),
]


@pytest.mark.parametrize(("func_name", "args"), CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_function_calls_return_what_direct_calls_return(live, func_name, args):
    func = getattr(udfs, func_name)
    n = len(inspect.signature(func).parameters)
    status, body = post_json(f"{live.url}/xlwings/custom-functions-call",
                             payload(func_name, args, n))
    assert status == 200, body
    expected = _direct(func(*args))
    got = _served(body["result"])
    if not isinstance(expected, list):
        expected = [[expected]] if isinstance(got, list) else expected
    assert _same(got, expected), (got, expected)


def test_a_served_error_carries_its_reason(live):
    status, body = post_json(f"{live.url}/xlwings/custom-functions-call",
                             payload("cpx_capex_to_ocf", [1, 0], 2))
    assert status == 200
    cell = body["result"] if isinstance(body["result"], dict) else body["result"][0][0]
    assert cell["errorType"] == "Div0" and cell["message"]




def test_refresh_script_writes_the_data_table(live, template):
    book = book_payload(template)
    status, body = post_json(f"{live.url}/xlwings/custom-scripts-call/refresh", book)
    assert status == 200, body
    sheets = [s["name"] for s in book["sheets"]]
    written: dict[tuple[str, int, int], Any] = {}
    for action in body["actions"]:
        if action["func"] != "setValues":
            continue
        sheet = sheets[action["sheet_position"]]
        for i, row in enumerate(action["values"]):
            for j, v in enumerate(row):
                written[(sheet, action["start_row"] + i + 1, action["start_column"] + j + 1)] = v
    first = L.DATA_HEADER_ROW + 2  # 1-based first body row of tblData
    with SNAPSHOT_ANNUAL.open(newline="", encoding="utf-8") as f:
        reported = list(csv.DictReader(f))
    col = {name: j + 1 for j, name in enumerate(L.DATA_COLUMNS)}
    rows = {}
    r = first
    while isinstance(written.get(("Data", r, col["ticker"])), str) and written[("Data", r, 1)]:
        key = (written[("Data", r, col["ticker"])], int(written[("Data", r, col["fiscal_year"])]),
               written[("Data", r, col["field"])])
        rows[key] = written[("Data", r, col["value_musd"])]
        r += 1
    assert len(rows) == len(reported)
    for fig in reported:
        key = (fig["ticker"], int(fig["fiscal_year"]), fig["field"])
        assert rows[key] == float(fig["value_musd"]), key
    as_of = written[("Cover", L.COVER_AS_OF[0] + 1, L.COVER_AS_OF[1] + 1)]
    assert str(as_of).startswith("2026-06-30")  # MSFT FY2026: the newest fiscal year end


# -- bad payloads --------------------------------------------------------------------------------


def _fn(**changes: Any) -> dict:
    body = payload("cpx_capex_to_ocf", [1, 2], 2)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


def _book(**changes: Any) -> dict:
    import xlwings

    body = {"client": "Office.js", "version": xlwings.__version__,
            "book": {"name": "x.xlsm", "active_sheet_index": 0, "selection": "A1"},
            "names": [], "sheets": [{"name": "Cover", "values": [[""]], "pictures": [],
                                     "tables": []}]}
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


FN = "/xlwings/custom-functions-call"
SCRIPT = "/xlwings/custom-scripts-call/refresh"
BAD = [
    (FN, b"{not json", 400),
    (FN, b"[1, 2]", 400),
    (FN, _fn(func_name=...), 400),
    (FN, _fn(func_name=12), 400),
    (FN, _fn(func_name="no_such_function"), 404),
    (FN, _fn(func_name="__class__"), 404),
    (FN, _fn(func_name="refresh_book"), 404),
    (FN, _fn(args=...), 400),
    (FN, _fn(args="1,2"), 400),
    (FN, _fn(args=[1]), 400),
    (FN, _fn(args=[1, 2, 3]), 400),
    (FN, _fn(args=[{"a": 1}, 2]), 400),
    (FN, _fn(args=[[[1, 2], [3]], 2]), 400),
    (FN, _fn(args=[[[[1]]], 2]), 400),
    (FN, _fn(args=[[[1] * 1000] * 1100, 2]), 413),
    (FN, _fn(version=...), 400),
    (FN, _fn(runtime=1.4), 400),
    (FN, _fn(caller_address=["A1"]), 400),
    (SCRIPT, b"", 400),
    (SCRIPT, b"\xff\xfe", 400),
    (SCRIPT, b'"just a string"', 400),
    (SCRIPT, _book(sheets=...), 400),
    (SCRIPT, _book(sheets={}), 400),
    (SCRIPT, _book(sheets=[]), 400),
    (SCRIPT, _book(sheets=[{"name": "Cover"}]), 400),
    (SCRIPT, _book(sheets=[{"name": "C", "values": [[1, 2], [3]], "pictures": [], "tables": []}]),
     400),
    (SCRIPT, _book(book={"name": "x.xlsm", "active_sheet_index": 5}), 400),
    (SCRIPT, _book(book="x.xlsm"), 400),
    (SCRIPT, _book(names=None), 400),
    (SCRIPT, _book(args={"a": 1}), 400),
    ("/xlwings/custom-scripts-call/no_such_script", _book(), 404),
    ("/xlwings/custom-scripts-call/refresh_book", _book(), 404),
    ("/xlwings/custom-scripts-call/__class__", _book(), 404),
]


@pytest.mark.parametrize(("path", "body", "expected"), BAD, ids=[f"{i}" for i in range(len(BAD))])
def test_bad_payloads_get_a_4xx_with_a_reason(live, path, body, expected):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, answer = request("POST", f"{live.url}{path}", data)
    assert status == expected, answer[:500]
    detail = json.loads(answer)["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail
    assert "Traceback" not in answer.decode()


def test_a_form_post_without_book_data_is_refused(live):
    status, answer = request("POST", f"{live.url}{SCRIPT}", b"other=1",
                             content_type="application/x-www-form-urlencoded")
    assert status == 400 and "bookData" in json.loads(answer)["detail"]


def test_an_oversized_body_is_refused_from_its_length(live):
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
    try:
        conn.putrequest("POST", FN)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(server.MAX_FUNCTION_BODY + 1))
        conn.endheaders(b"{}")
        resp = conn.getresponse()
        assert resp.status == 413
        assert "MB" in json.loads(resp.read())["detail"]
    finally:
        conn.close()


def test_the_server_keeps_serving_after_bad_payloads(live):
    for path, body, _ in BAD[:6]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request("POST", f"{live.url}{path}", data)
    assert live.proc.poll() is None
    status, body = post_json(f"{live.url}{FN}", payload("cpx_fcf", [10, 4], 2))
    assert status == 200 and _served(body["result"]) in (6, [[6]])
    assert "Traceback" not in live.output()


# -- the serve command (no server started) -------------------------------------------------------


def test_serve_refuses_a_non_loopback_bind_without_auth(monkeypatch, capsys):
    monkeypatch.setattr(server, "xlwings_server_installed", lambda: True)
    monkeypatch.delenv("XLWINGS_AUTH_PROVIDERS", raising=False)
    monkeypatch.delenv("DOTENV_PATH", raising=False)
    assert cli_main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: refusing to listen on 0.0.0.0") and "\n" not in err


def test_serve_without_xlwings_server_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setattr(server, "xlwings_server_installed", lambda: False)
    assert cli_main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: " + server.INSTALL_HINT
    assert "pip install -r requirements-server.txt" in err


def test_serve_binds_loopback_and_registers_our_module(monkeypatch, capsys):
    import aicapex.commands.serve as serve

    launched = {}
    monkeypatch.setattr(server, "xlwings_server_installed", lambda: True)
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.setattr(serve, "launch", lambda cmd, env: launched.update(cmd=cmd, env=env) or 0)
    assert cli_main(["serve", "--workers", "2"]) == 0
    cmd, env = launched["cmd"], launched["env"]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--workers") + 1] == "2"
    assert "aicapex.server:app" in cmd
    assert env["XLWINGS_ON_SERVER"] == "true"
    assert Path(env["XLWINGS_PROJECT_DIR"]) == server.APP_DIR
    assert (server.APP_DIR / "custom_functions" / "__init__.py").is_file()
    assert "XLWINGS_OBJECT_CACHE_URL" in capsys.readouterr().err  # the multi-worker note


def test_auth_problem_recognises_configured_entraid():
    env = {"XLWINGS_AUTH_PROVIDERS": '["entraid"]', "XLWINGS_AUTH_ENTRAID_CLIENT_ID": "c",
           "XLWINGS_AUTH_ENTRAID_TENANT_ID": "t"}
    assert server.auth_problem(env) is None
    assert "TENANT" in server.auth_problem({**env, "XLWINGS_AUTH_ENTRAID_TENANT_ID": ""})
    # xlwings Server's bundled "custom" provider is a placeholder accepting a test token
    assert server.auth_problem({"XLWINGS_AUTH_PROVIDERS": '["custom"]'}) is not None


# -- the is_jsnull patch -------------------------------------------------------------------------


def test_is_jsnull_patch_applies_outside_pyodide_only(monkeypatch):
    import xlwings.conversion.standard as standard
    import xlwings.utils as utils

    original = utils.is_jsnull
    try:
        # Inside Pyodide (simulated): nothing patched, and xlwings' check is what finds JsNull.
        class JsNull:
            pass

        ffi = types.ModuleType("pyodide.ffi")
        ffi.JsNull = JsNull
        pyodide = types.ModuleType("pyodide")
        pyodide.ffi = ffi
        monkeypatch.setitem(sys.modules, "pyodide", pyodide)
        monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)
        assert server.pyodide_available()
        assert server.patch_is_jsnull() is False
        assert utils.is_jsnull is original and standard.is_jsnull is original
        assert utils.is_jsnull(JsNull()) is True

        # Outside Pyodide: patched in both modules that use it; same answers.
        monkeypatch.delitem(sys.modules, "pyodide")
        monkeypatch.delitem(sys.modules, "pyodide.ffi")
        assert not server.pyodide_available()
        values = [None, 0, 1.5, "", "x", [[1]], JsNull()]
        before = [original(v) for v in values]
        assert server.patch_is_jsnull() is True
        assert server.patch_is_jsnull() is True  # idempotent
        assert server.is_jsnull_patched()
        assert [utils.is_jsnull(v) for v in values] == before == [False] * len(values)
    finally:
        server.unpatch_is_jsnull()
    assert utils.is_jsnull is original and standard.is_jsnull is original


SAME_RESULTS = textwrap.dedent("""
    import asyncio, json, sys
    sys.path.insert(0, sys.argv[1])
    import xlwings.server as xs
    import aicapex.udfs as udfs
    from aicapex import server
    from officejs import payload
    calls = json.loads(sys.stdin.read())

    async def run():
        out = []
        for name, args, n in calls:
            out.append(await xs.custom_functions_call(payload(name, args, n), udfs))
        return out

    plain = asyncio.run(run())
    assert server.patch_is_jsnull() and server.is_jsnull_patched()
    patched = asyncio.run(run())
    print(json.dumps({"plain": plain, "patched": patched}, default=str))
""")


def test_is_jsnull_patch_leaves_results_unchanged():
    calls = [(name, args, len(inspect.signature(getattr(udfs, name)).parameters))
             for name, args in CALLS]
    calls.append(("cpx_capex_to_ocf", [[[1.0, None, "", "#N/A", True]] * 3,
                                       [[2.0, 3.0, 4.0, 5.0, 6.0]] * 3], 2))
    r = subprocess.run([sys.executable, "-c", SAME_RESULTS, str(Path(__file__).parent)],
                       input=json.dumps(calls), capture_output=True, text=True,
                       env={**os.environ, **SERVER_ENV}, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert out["patched"] == out["plain"]
    assert len(out["plain"]) == len(calls)


def test_guard_checks_without_a_server():
    functions = {"f": {"args": [{"name": "a", "vararg": False},
                                {"name": "b", "vararg": False, "optional": None}]}}
    good = {"func_name": "f", "args": [1], "client": "Office.js", "version": "x", "runtime": "1.4"}
    server.check_function_call(good, functions)
    server.check_function_call({**good, "args": [1, [[1, 2], [3, 4]]]}, functions)
    for bad, status in [({**good, "args": []}, 400), ({**good, "func_name": "g"}, 404),
                        ({**good, "args": [[[True, {}]]]}, 400), ({**good, "args": [[]]}, 400)]:
        with pytest.raises(server.BadPayload) as info:
            server.check_function_call(bad, functions)
        assert info.value.status == status


# -- names, keys, docs (issue 22 point 6) --------------------------------------------------------


@pytest.mark.parametrize("name", ["cpx_value", "CPX_VALUE", "Cpx_Value", "AICAPEX.CPX_VALUE"])
def test_function_names_are_case_insensitive(live, name):
    status, body = post_json(f"{live.url}{FN}", payload(name, ["MSFT", "capex", 2025], 3))
    assert status == 200, body  # main: 404 "unknown function 'CPX_VALUE'"
    assert _served(body["result"]) in (64551, [[64551]])


def test_an_unknown_function_name_names_the_right_one(live):
    status, body = post_json(f"{live.url}{FN}", payload("CPX_VALU", ["MSFT", "capex", 2025], 3))
    assert status == 404
    assert "CPX_VALUE" in body["detail"] and "/docs" in body["detail"]


def test_script_names_are_case_insensitive(live):
    status, answer = request("POST", f"{live.url}/xlwings/custom-scripts-call/REFRESH",
                             json.dumps(_book()).encode())
    assert status != 404, answer[:300]  # found; this minimal book is not a workbook of ours


def test_every_missing_key_is_reported_at_once(live):
    status, body = post_json(f"{live.url}{FN}", {"func_name": "cpx_fcf"})
    assert status == 400
    for key in ("args", "client", "version", "runtime"):
        assert f"'{key}'" in body["detail"], body["detail"]  # main: only 'args'
    status, body = post_json(f"{live.url}{SCRIPT}", {"client": "Office.js"})
    assert status == 400
    for key in ("version", "book", "names", "sheets"):
        assert f"'{key}'" in body["detail"], body["detail"]


@pytest.mark.parametrize(("path", "body"), [
    (FN, _fn(funcname="cpx_fcf")),
    (FN, _fn(extra=1)),
    (SCRIPT, _book(sheet=[])),
])
def test_unknown_json_keys_are_rejected(live, path, body):
    status, answer = request("POST", f"{live.url}{path}", json.dumps(body).encode())
    assert status == 400, answer[:300]
    assert "unknown key" in json.loads(answer)["detail"]


def test_docs_page_documents_the_endpoints_and_functions(live):
    status, body = request("GET", f"{live.url}/docs")
    assert status == 200  # main: 404
    page = body.decode()
    assert "/xlwings/custom-functions-call" in page and "curl" in page
    assert "CPX_VALUE" in page and "CPX_PEER" in page and "func_name" in page


def test_the_readme_curl_example_works_as_written(live):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("curl -s"):]
    block = block[: block.index("```")]
    url = re.search(r"http://127\.0\.0\.1:8000(/\S+)", block).group(1)
    body = re.search(r"-d '(\{.*?\})'", block, re.S).group(1)
    status, answer = post_json(f"{live.url}{url}", json.loads(body))
    assert status == 200, answer
    shown = re.search(r"# -> (\{.*\})", block).group(1)
    assert answer == json.loads(shown)


# -- the guard inside the app (issue 20 points 9 and 10) -----------------------------------------


def _uvicorn(tmp: Path, host: str, env_extra: dict[str, str] | None = None) -> tuple[Any, int, Path]:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XLWINGS_", "UVICORN_")) and k != "DOTENV_PATH"}
    env["XLWINGS_LICENSE_KEY"] = "noncommercial"
    env.update(env_extra or {})
    log = tmp / f"uvicorn-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "aicapex.server:app", "--host",
                                 host, "--port", str(port)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=tmp)
    return proc, port, log


def test_plain_uvicorn_on_all_interfaces_without_auth_refuses_to_start(tmp_path):
    require_or_skip(HAS_XLWINGS_SERVER, "xlwings-server is not installed")
    proc, port, log = _uvicorn(tmp_path, "0.0.0.0")
    try:
        code = proc.wait(timeout=START_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = log.read_text(errors="replace")
    assert code != 0, out  # main: it served every caller, unauthenticated
    assert "refusing to serve on 0.0.0.0 without authentication" in out
    assert "Traceback" not in out
    with pytest.raises(OSError):  # nothing listens, not even on loopback
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_non_loopback_client_is_refused_without_auth(live):
    # uvicorn takes the client from X-Forwarded-For when the peer is a trusted local proxy
    # (its default): what a reverse proxy in front of a loopback bind passes on.
    req = urllib.request.Request(f"{live.url}/", headers={"X-Forwarded-For": "203.0.113.9"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=30)  # noqa: S310 - loopback
    assert info.value.code == 403
    assert "authentication" in json.loads(info.value.read())["detail"]
    assert request("GET", f"{live.url}/")[0] == 200  # loopback callers still served


def _silent_after(port: int, first: bytes, wait: float) -> bytes:
    """Send ``first`` and nothing more; return what the server sends before it hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(first)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                raise AssertionError(f"connection still open after {wait} s: {got[:200]!r}") from None
            if not chunk:
                return got
            got += chunk


def test_a_client_that_never_finishes_its_headers_is_cut_off(live):
    got = _silent_after(live.port, b"POST " + FN.encode() + b" HTTP/1.1\r\nHost: x\r\n",
                        wait=60)
    assert got == b"" or got.startswith(b"HTTP/1.1 408")


def test_a_client_that_never_finishes_its_body_is_cut_off(live):
    head = (f"POST {FN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: 1000\r\n\r\n").encode()
    got = _silent_after(live.port, head + b'{"func_name": "cpx', wait=60)
    assert got.startswith(b"HTTP/1.1 408"), got[:300]
    assert b"body" in got
    assert request("GET", f"{live.url}/")[0] == 200


@pytest.mark.parametrize(("argv", "env", "hosts"), [
    (["/usr/bin/uvicorn", "aicapex.server:app", "--host", "0.0.0.0"], {}, ["0.0.0.0"]),
    (["/x/uvicorn/__main__.py", "aicapex.server:app", "--host=::", "--workers", "2"], {}, ["::"]),
    (["/usr/bin/uvicorn", "aicapex.server:app"], {}, ["127.0.0.1"]),
    (["/usr/bin/uvicorn", "aicapex.server:app"], {"UVICORN_HOST": "10.0.0.5"}, ["10.0.0.5"]),
    (["/usr/bin/uvicorn", "aicapex.server:app", "--uds", "/tmp/s.sock"], {}, []),
    (["/usr/bin/gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000",
      "aicapex.server:app"], {}, ["0.0.0.0"]),
    (["/usr/bin/gunicorn", "aicapex.server:app"], {"GUNICORN_CMD_ARGS": "--bind=[::1]:9000"},
     ["::1"]),
    (["/usr/bin/gunicorn", "aicapex.server:app"], {}, ["127.0.0.1"]),
    (["myscript.py"], {}, None),
])
def test_bind_hosts_from_the_server_command_line(argv, env, hosts):
    assert server.bind_hosts(argv, env) == hosts


def test_startup_refusal_needs_a_non_loopback_bind_and_no_auth():
    argv = ["/usr/bin/uvicorn", "aicapex.server:app", "--host", "0.0.0.0"]
    assert "XLWINGS_AUTH_PROVIDERS is not set" in server.startup_refusal(argv, {})
    entraid = {"XLWINGS_AUTH_PROVIDERS": '["entraid"]', "XLWINGS_AUTH_ENTRAID_CLIENT_ID": "c",
               "XLWINGS_AUTH_ENTRAID_TENANT_ID": "t"}
    assert server.startup_refusal(argv, entraid) is None
    assert server.startup_refusal(["/usr/bin/uvicorn", "aicapex.server:app"], {}) is None


def test_guard_names_every_key_problem_at_once():
    functions = {"cpx_f": {"args": [{"name": "a", "vararg": False}]}}
    with pytest.raises(server.BadPayload) as info:
        server.check_function_call({"func_name": 3, "argz": [], "client": 1}, functions)
    reason = info.value.reason
    for part in ("missing keys 'args', 'version', 'runtime'", "unknown key 'argz'",
                 "'func_name' must be a string", "'client' must be a string"):
        assert part in reason, reason
    good = {"func_name": "CPX_F", "args": [1], "client": "Office.js", "version": "x",
            "runtime": "1.4"}
    assert server.check_function_call(good, functions) == "cpx_f"
    assert server.check_function_call({**good, "func_name": "NS.cpx_f"}, functions, "ns") == "cpx_f"
    with pytest.raises(server.BadPayload) as info:
        server.check_function_call({**good, "func_name": "CPX_G"}, functions)
    assert info.value.status == 404 and "did you mean 'CPX_F'" in info.value.reason
