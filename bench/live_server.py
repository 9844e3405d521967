"""``python -m aicapex serve`` on a free loopback port in a child process, for the benchmarks
that talk to it over HTTP (``bench_replay``, ``bench_server``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``python -m aicapex serve`` on a free loopback port, in a child process; a context
    manager that always stops it."""

    def __init__(self, log_dir: Path | str, env: Mapping[str, str] | None = None,
                 workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir) / f"server-{self.port}.log"
        log_dir = Path(log_dir)
        base = {k: v for k, v in (env or os.environ).items()
                if not k.startswith("XLWINGS_") or k == "XLWINGS_LICENSE_KEY"}
        base.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
        base["XLWINGS_LOG_LEVEL"] = "WARNING"  # no per-request log lines in the timing
        base["UVICORN_ACCESS_LOG"] = "false"
        base.pop("DOTENV_PATH", None)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "aicapex", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(workers)],
                env=base, stdout=log, stderr=subprocess.STDOUT, cwd=log_dir)

    def __enter__(self) -> LiveServer:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not ready after {START_TIMEOUT:.0f} s: {self.output()}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
