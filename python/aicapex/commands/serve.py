"""``python -m aicapex serve``: the CPX_ functions and the Refresh script on xlwings Server.

Starts uvicorn on ``aicapex.server:app`` (xlwings Server's app with our module registered) in
a fresh interpreter, so that ``XLWINGS_ON_SERVER=true`` is set before xlwings is first
imported. Loopback only unless authentication is configured. Needs
``pip install -r requirements-server.txt`` and ``XLWINGS_LICENSE_KEY``.
"""

from __future__ import annotations

import argparse
import os
import sys

from aicapex.errors import AicapexError, ArgumentError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the CPX_ functions and the Refresh script with xlwings Server (Office.js)",
        description="Start xlwings Server with the CPX_ functions (aicapex.udfs) and the "
        "workbook's Refresh script, for Excel on the web and Excel without Python. "
        "Configure it with XLWINGS_* variables (licence, auth, object cache).",
    )
    p.add_argument("--host", default=DEFAULT_HOST,
                   help="address to bind (default: 127.0.0.1; other addresses need "
                   "XLWINGS_AUTH_PROVIDERS)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default: 8000)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (default: 1); more than one: set "
                   "XLWINGS_OBJECT_CACHE_URL to a Redis URL for a shared object cache")
    p.set_defaults(func=run)


def command(host: str, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "aicapex.server:app", "--host", host,
            "--port", str(port), "--workers", str(workers), "--no-server-header"]


def run(args: argparse.Namespace) -> int:
    from aicapex import server

    if not 0 < args.port < 65536:
        raise ArgumentError(f"--port {args.port}: expected 1 to 65535")
    if args.workers < 1:
        raise ArgumentError(f"--workers {args.workers}: expected 1 or more")
    if not server.xlwings_server_installed():
        raise AicapexError(server.INSTALL_HINT)
    env = server.server_env()
    if not server.is_loopback(args.host):
        problem = server.auth_problem(env)
        if problem:
            raise AicapexError(f"refusing to listen on {args.host} without authentication: "
                               f"{problem} (or bind 127.0.0.1)")
    problem = server.licence_problem(env)
    if problem:
        raise AicapexError(problem)
    settings = server.effective_settings(env)
    if args.workers > 1 and not settings.get("XLWINGS_OBJECT_CACHE_URL"):
        print(f"note: {args.workers} workers keep separate in-memory object caches; set "
              "XLWINGS_OBJECT_CACHE_URL=redis://... to share one", file=sys.stderr)
    base = f"http://{f'[{args.host}]' if ':' in args.host else args.host}:{args.port}"
    print(f"xlwings Server: {base}/  add-in manifest: {base}/manifest  "
          f"({args.workers} worker(s))", file=sys.stderr)
    sys.stderr.flush()
    return launch(command(args.host, args.port, args.workers), env)


def launch(cmd: list[str], env: dict[str, str]) -> int:
    """Become the server (POSIX: exec, so signals reach uvicorn directly) or wait for it."""
    if os.name == "posix":
        os.execve(cmd[0], cmd, env)
    import subprocess

    proc = subprocess.Popen(cmd, env=env)  # noqa: S603 - our own interpreter and arguments
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()
