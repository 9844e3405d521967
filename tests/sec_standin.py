"""A loopback stand-in for the SEC (pytest-httpserver): the ``fake_sec`` fixture of conftest."""

from __future__ import annotations

import hashlib
import json
import re
import time

from aicapex.data import sec
from aicapex.data.dataset import SNAPSHOT_DIR
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

CF = SNAPSHOT_DIR / "companyfacts"
FILES = {320193: CF / "CIK0000320193.json", 789019: CF / "CIK0000789019.json",
         1652044: CF / "CIK0001652044.json"}
AGENT = "Test Analyst test@example.com"
LAST_MODIFIED = "Tue, 01 Dec 2026 06:00:00 GMT"
NEW_CIK = 9999991  # a synthetic filer the project does not cover: only the ticker map knows it


def facts_url(cik: int) -> str:
    return f"/api/xbrl/companyfacts/CIK{cik:010d}.json"


class FakeSec:
    """A dispatcher: path -> body (bytes, or a callable(request) -> Response), with ETag and
    Last-Modified validators, and a log of (path, headers, monotonic time) per request."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.bodies: dict[str, object] = {}
        self.log: list[tuple[str, dict, float]] = []
        server.expect_request(re.compile(".*")).respond_with_handler(self.dispatch)

    def dispatch(self, request: Request) -> Response:
        self.log.append((request.path, dict(request.headers), time.monotonic()))
        body = self.bodies.get(request.path)
        if body is None:
            return Response("not found", status=404)
        if callable(body):
            return body(request)
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, status=200, content_type="application/json",
                        headers={"ETag": etag, "Last-Modified": LAST_MODIFIED})

    def paths(self) -> list[str]:
        return [p for p, _h, _t in self.log]


def start_fake_sec(httpserver: HTTPServer, monkeypatch) -> FakeSec:
    fake = FakeSec(httpserver)
    base = httpserver.url_for("").rstrip("/")
    monkeypatch.setenv("AICAPEX_SEC_USER_AGENT", AGENT)
    monkeypatch.setenv("AICAPEX_SEC_DATA_URL", base)
    monkeypatch.setenv("AICAPEX_SEC_WWW_URL", base)
    monkeypatch.setenv("AICAPEX_SEC_TIMEOUT", "5")
    waits: list[float] = []
    monkeypatch.setattr(sec, "sleep", waits.append)  # record backoff waits instead of sleeping
    fake.waits = waits
    for cik, path in FILES.items():
        fake.bodies[facts_url(cik)] = path.read_bytes()
    fake.bodies["/files/company_tickers.json"] = json.dumps({
        "0": {"cik_str": 789019, "ticker": "MSFT", "title": "MICROSOFT CORP"},
        "1": {"cik_str": 1652044, "ticker": "GOOGL", "title": "Alphabet Inc."},
        "2": {"cik_str": 1652044, "ticker": "GOOG", "title": "Alphabet Inc."},
        "3": {"cik_str": NEW_CIK, "ticker": "NEWC", "title": "New Compute Corp"},
    }).encode()
    return fake
