"""Run a child process and measure it: its resource usage from ``os.wait4`` (CPU time, peak
RSS) and its wall time, for the benchmarks that time whole processes (``bench_process``,
``bench_scale``)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from typing import Any


def run_measured(cmd: list[str], env: dict[str, str], timeout: float, label: str,
                 poll: float = 0.005) -> tuple[bytes, Any, float]:
    """``(stdout, rusage, wall seconds)`` of ``cmd``; raises ``RuntimeError`` naming ``label``
    with the end of its stderr when it fails or outlives ``timeout`` seconds."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise RuntimeError(f"{label} timed out after {timeout:g} s")
            time.sleep(poll)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{label} exited {proc.returncode}: "
                               f"{err.read().decode(errors='replace')[-2000:]}")
        out.seek(0)
        return out.read(), usage, wall
