"""Bounded load test of ``python -m aicapex serve`` with 1 and 2 workers, on loopback.

Run as a script (``python bench/bench_server.py``) or import and call :func:`run`, which
returns rows ``{name, value, unit, baseline, ratio, target}`` for a bench runner.

For each worker count the server starts in a subprocess on a free 127.0.0.1 port
(``XLWINGS_LICENSE_KEY=noncommercial`` unless set), gets a warm-up, then a fixed number of
``POST /xlwings/custom-functions-call`` requests — ``CPX_CAPEX_TO_OCF`` over two 10-cell rows,
a Ratios-sheet row — from ``CONCURRENCY`` concurrent keep-alive connections (httpx, installed
with xlwings-server). It stops by itself: after ``REQUESTS`` requests or ``MAX_SECONDS``,
whichever comes first, and the server is always terminated. The client runs on the same
machine and competes for its cores, so the scaling figure is a floor.

Rows: requests/s per worker count (the 2-worker row has the 1-worker figure as baseline),
p50 and p99 latency (ms; no target), and the 1 -> 2 worker scaling. Failed requests are
counted in the rows' ``errors``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_server import LiveServer  # noqa: E402 - bench/ helper

REQUESTS = 3_000
WARMUP = 200
CONCURRENCY = 16
MAX_SECONDS = 30.0
TARGET_RPS_1_WORKER = 300.0
TARGET_SCALING = 1.5


def _payload() -> dict:
    import xlwings

    capex = [[64_551.0 + 1_000 * i for i in range(10)]]
    ocf = [[136_162.0 + 1_500 * i for i in range(10)]]
    return {"client": "Office.js", "func_name": "cpx_capex_to_ocf", "args": [capex, ocf],
            "caller_address": "[ai_capex_monitor.xlsm]Ratios!F12", "session_id": "bench",
            "culture_info_name": "en-US", "date_format": "M/d/yyyy",
            "version": xlwings.__version__, "runtime": "1.4"}


def _server_cpu_seconds(pid: int) -> float | None:
    """CPU seconds used so far by the server process and its workers (Linux /proc only)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, found = 0.0, False
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1]: parent pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            found = True
    return total if found else None


async def _load(url: str, body: dict, total: int, max_seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    issued = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        deadline = time.monotonic() + max_seconds

        async def worker() -> None:
            nonlocal issued, errors
            while issued < total and time.monotonic() < deadline:
                issued += 1
                t0 = time.perf_counter()
                try:
                    r = await client.post(url, json=body)
                    ok = r.status_code == 200 and "result" in r.json()
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

        t0, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    latencies.sort()
    return {"requests": len(latencies), "errors": errors, "seconds": elapsed,
            "client_cpu": cpu / elapsed,
            "rps": len(latencies) / elapsed,
            "p50_ms": 1e3 * statistics.median(latencies),
            "p99_ms": 1e3 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]}


def measure(workers: int) -> dict:
    body = _payload()
    with tempfile.TemporaryDirectory() as tmp:
        with LiveServer(tmp, workers=workers) as server:
            url = f"{server.url}/xlwings/custom-functions-call"
            asyncio.run(_load(url, body, WARMUP, MAX_SECONDS))
            cpu0 = _server_cpu_seconds(server.proc.pid)
            result = asyncio.run(_load(url, body, REQUESTS, MAX_SECONDS))
            cpu1 = _server_cpu_seconds(server.proc.pid)
            result["server_cpu_ms_per_request"] = (
                1e3 * (cpu1 - cpu0) / result["requests"] if cpu0 is not None and cpu1 else None)
            return {"workers": workers, **result}


def run() -> list[dict]:
    """Benchmark rows: requests/s and latency with 1 and 2 workers, and the scaling."""
    one, two = measure(1), measure(2)
    rows = []
    for m, baseline in ((one, None), (two, one["rps"])):
        w = m["workers"]
        rows += [
            {"name": f"server_{w}w_throughput", "value": m["rps"], "unit": "req/s",
             "baseline": baseline, "ratio": m["rps"] / baseline if baseline else None,
             "target": TARGET_RPS_1_WORKER * (w if w == 1 else TARGET_SCALING),
             "requests": m["requests"], "errors": m["errors"], "seconds": m["seconds"],
             "client_cpu": m["client_cpu"],
             "server_cpu_ms_per_request": m["server_cpu_ms_per_request"]},
            {"name": f"server_{w}w_latency_p50", "value": m["p50_ms"], "unit": "ms",
             "baseline": None, "ratio": None, "target": None},
            {"name": f"server_{w}w_latency_p99", "value": m["p99_ms"], "unit": "ms",
             "baseline": None, "ratio": None, "target": None},
        ]
    scaling = two["rps"] / one["rps"]
    rows.append({"name": "server_scaling_1_to_2_workers", "value": scaling, "unit": "x",
                 "baseline": 1.0, "ratio": scaling, "target": TARGET_SCALING})
    return rows


def _fmt(v: object, spec: str) -> str:
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def main() -> int:
    rows = run()
    print(f"{'name':32} {'value':>10} {'unit':>6} {'baseline':>10} {'ratio':>6} {'target':>8}")
    ok = True
    for r in rows:
        met = r["target"] is None or r["value"] >= r["target"]
        ok &= met
        extra = (f"  ({r['requests']} requests in {r['seconds']:.1f} s, {r['errors']} errors, "
                 f"client busy {r['client_cpu']:.0%} of a core, server CPU "
                 f"{_fmt(r['server_cpu_ms_per_request'], '.2f')} ms/request)"
                 if "requests" in r else "")
        print(f"{r['name']:32} {r['value']:10,.1f} {r['unit']:>6} {_fmt(r['baseline'], '10,.1f'):>10}"
              f" {_fmt(r['ratio'], '6.2f'):>6} {_fmt(r['target'], '8,.1f'):>8} "
              f"{'' if r['target'] is None else ('ok' if met else 'BELOW TARGET')}{extra}")
    print(f"cores: {os.cpu_count()}; client and server share them")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
