"""The CPX_ functions and the workbook's Refresh script served by xlwings Server.

xlwings Server (the ``xlwings-server`` package, ``pip install -r requirements-server.txt``)
is a FastAPI app that serves ``@xw.func`` / ``@xw.script`` code to Excel through an Office.js
add-in: Excel on the web, Excel on a Mac without Python, any Excel 365. It imports the
top-level packages ``custom_functions`` and ``custom_scripts`` from the folder named by
``XLWINGS_PROJECT_DIR``; ours is :mod:`aicapex.server_app`, whose two packages only import
:mod:`aicapex.udfs` and delegate to :func:`aicapex.excel.refresh.refresh_book`.

``app`` (``uvicorn aicapex.server:app --workers N``, or ``python -m aicapex serve``) is
xlwings Server's own ASGI app with these additions, all applied when a worker starts, so they
hold however the app is launched:

* :class:`AccessGuard` — the outermost layer: refuses to start on a non-loopback bind without
  authentication, answers only loopback clients without it, and gives a request's body a
  deadline (408 after it);
* :func:`install_header_timeout` — a deadline for a request's headers, which uvicorn lacks;
* :class:`PayloadGuard` — a FastAPI middleware that answers malformed calls to
  ``/xlwings/custom-functions-call`` and ``/xlwings/custom-scripts-call/<name>`` with a 4xx and
  a one-line reason naming every problem (missing, unknown or mistyped keys), instead of the
  500 that a ``KeyError`` deep inside xlwings would give; function and script names match in
  any letter case;
* ``GET /docs`` — the endpoints, the exact request body and every function
  (:mod:`aicapex.server_docs`);
* :func:`patch_is_jsnull` — a guarded fix of a per-cell slowdown in xlwings' Office.js
  argument conversion (only when Pyodide is absent; see its docstring).

Everything else — endpoints, manifest, task pane, authentication (``XLWINGS_AUTH_PROVIDERS``),
object cache (``XLWINGS_OBJECT_CACHE_URL``), licence (``XLWINGS_LICENSE_KEY``) — is xlwings
Server's, configured with its ``XLWINGS_*`` environment variables.

xlwings picks its Office.js decorators only if ``XLWINGS_ON_SERVER=true`` is set before its
first import in the process; :func:`configure_environment` sets it and refuses to go on if
xlwings was already imported without it.
"""

from __future__ import annotations

import asyncio
import difflib
import importlib
import importlib.util
import inspect
import ipaddress
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger("aicapex.server")

#: xlwings Server's project directory: the ``custom_functions`` / ``custom_scripts`` packages.
APP_DIR = Path(__file__).resolve().with_name("server_app")

#: Environment xlwings Server needs to load our module; always set.
REQUIRED_ENV = {"XLWINGS_ON_SERVER": "true", "XLWINGS_PROJECT_DIR": str(APP_DIR)}

#: Our defaults for xlwings Server settings; a variable already set wins.
DEFAULT_ENV = {
    "XLWINGS_PROJECT_NAME": "AI Capex Workbench",
    # Office.js custom functions live in a namespace: =AICAPEX.CPX_VALUE(...) in Excel.
    "XLWINGS_FUNCTIONS_NAMESPACE": "AICAPEX",
    "XLWINGS_ENVIRONMENT": "prod",
    # Socket.IO serves streaming functions and the dev hot reload; we have neither, and with
    # several workers it would need a message queue (XLWINGS_SOCKETIO_MESSAGE_QUEUE_URL).
    "XLWINGS_ENABLE_SOCKETIO": "false",
    "XLWINGS_ENABLE_EXAMPLES": "false",
    # Our own add-in ids (xlwings Server's defaults are shared by every project using it).
    "XLWINGS_MANIFEST_ID_DEV": "f3e9082a-a7d1-44f9-ad73-fb276e058f20",
    "XLWINGS_MANIFEST_ID_QA": "bc21b705-94c0-4095-afcb-25581e45b786",
    "XLWINGS_MANIFEST_ID_UAT": "d169d489-4d8e-49f4-9be0-5b9765f9c420",
    "XLWINGS_MANIFEST_ID_STAGING": "6df472df-03c7-4015-88e0-fb2dcb860c74",
    "XLWINGS_MANIFEST_ID_PROD": "3e3dc616-f7e8-446b-92b5-7acf08c5749b",
}

#: Request size limits of :class:`PayloadGuard` (bytes / cells).
MAX_FUNCTION_BODY = 32 * 1024 * 1024
MAX_SCRIPT_BODY = 64 * 1024 * 1024
MAX_FUNCTION_CELLS = 1_000_000  # same bound as the UDFs' own (aicapex.udfs.arguments.MAX_CELLS)
MAX_SCRIPT_CELLS = 5_000_000

INSTALL_HINT = "xlwings Server is not installed: pip install -r requirements-server.txt"


# -- environment ---------------------------------------------------------------------------------


def server_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: ``os.environ``) plus what xlwings Server needs to serve our module."""
    env = dict(os.environ if base is None else base)
    for key, value in DEFAULT_ENV.items():
        env.setdefault(key, value)
    env.update(REQUIRED_ENV)
    return env


def configure_environment() -> None:
    """Set :func:`server_env` in this process; it must run before the first ``import xlwings``."""
    xlwings = sys.modules.get("xlwings")
    if xlwings is not None and not getattr(xlwings, "on_server", False):
        raise RuntimeError(
            "xlwings was imported before XLWINGS_ON_SERVER=true was set: start the server in a "
            "fresh process (python -m aicapex serve, or uvicorn aicapex.server:app)"
        )
    os.environ.update(server_env())


def xlwings_server_installed() -> bool:
    return importlib.util.find_spec("xlwings_server") is not None


def effective_settings(env: Mapping[str, str]) -> dict[str, str]:
    """The ``XLWINGS_*`` variables xlwings Server will see: ``env`` over the ``DOTENV_PATH`` file."""
    merged: dict[str, str] = {}
    dotenv = env.get("DOTENV_PATH")
    if dotenv and Path(dotenv).is_file():
        try:
            from dotenv import dotenv_values
        except ImportError:  # python-dotenv comes with xlwings-server
            pass
        else:
            merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    merged.update(env)
    return merged


def _providers(value: str | None) -> list[str]:
    if not value or not value.strip():
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        return [value.strip()]
    return [str(p) for p in parsed] if isinstance(parsed, list) else [str(parsed)]


def auth_problem(env: Mapping[str, str]) -> str | None:
    """Why requests would not be authenticated under ``env`` (``None``: auth is configured).

    Configured means ``XLWINGS_AUTH_PROVIDERS`` names ``entraid`` with its client and tenant
    ids, or ``custom`` with the deployer's own ``auth.custom`` module on the path (xlwings
    Server's bundled ``custom`` provider is a placeholder that accepts a fixed test token).
    """
    settings = effective_settings(env)
    providers = _providers(settings.get("XLWINGS_AUTH_PROVIDERS"))
    if not providers:
        return "XLWINGS_AUTH_PROVIDERS is not set"
    for provider in providers:
        if provider == "entraid":
            missing = [k for k in ("XLWINGS_AUTH_ENTRAID_CLIENT_ID", "XLWINGS_AUTH_ENTRAID_TENANT_ID")
                       if not settings.get(k, "").strip()]
            if missing:
                return f"entraid auth needs {' and '.join(missing)}"
        elif provider == "custom":
            try:
                spec = importlib.util.find_spec("auth.custom")
            except (ImportError, ValueError):
                spec = None
            origin = Path(spec.origin).resolve() if spec and spec.origin else None
            if origin is None or "xlwings_server" in origin.parts:
                return "custom auth needs your own auth/custom module on PYTHONPATH"
        else:
            return f"unknown auth provider {provider!r} (xlwings Server has entraid and custom)"
    return None


def licence_problem(env: Mapping[str, str]) -> str | None:
    """Why xlwings' Office.js code would refuse to run (``None``: a licence key is set)."""
    settings = effective_settings(env)
    if settings.get("XLWINGS_LICENSE_KEY", "").strip():
        return None
    return ("set XLWINGS_LICENSE_KEY (noncommercial for non-commercial use, otherwise your "
            "xlwings licence key)")


# -- the is_jsnull patch -------------------------------------------------------------------------


def pyodide_available() -> bool:
    """True inside Pyodide (xlwings Lite), where ``pyodide.ffi`` imports."""
    try:
        import pyodide.ffi  # noqa: F401
    except ImportError:
        return False
    return True


def _is_jsnull_outside_pyodide(value: Any) -> bool:
    """``xlwings.utils.is_jsnull`` where Pyodide cannot be imported: nothing is ``JsNull``."""
    return False


def patch_is_jsnull() -> bool:
    """Stop xlwings re-trying a failing ``import pyodide`` for every argument cell.

    xlwings 0.37.8's Office.js conversion calls :func:`xlwings.utils.is_jsnull` on every
    argument cell, and that function runs ``from pyodide.ffi import JsNull`` each time. Outside
    Pyodide (xlwings Server under CPython) the import fails every time, at ~0.1–0.2 ms a cell:
    ~220 ms for a call over two 1,000-cell ranges instead of ~5 ms
    (``bench/bench_officejs.py`` measures both in one run).

    When ``pyodide`` cannot be imported, nothing can be a ``JsNull`` and the function always
    returns ``False``: this patch makes it return ``False`` without the import attempt, in
    ``xlwings.utils`` and in ``xlwings.conversion.standard`` (which imported the name). Inside
    Pyodide (xlwings Lite) the check is needed and nothing is patched. Returns whether the
    patch is in place; applying it twice is harmless. Worth reporting upstream: caching the
    import result in xlwings would make this unnecessary.
    """
    if pyodide_available():
        return False
    import xlwings.conversion.standard as standard
    import xlwings.utils as utils

    if getattr(utils.is_jsnull, "__wrapped_original__", None) is None:
        _is_jsnull_outside_pyodide.__wrapped_original__ = utils.is_jsnull  # type: ignore[attr-defined]
    for module in (utils, standard):
        if hasattr(module, "is_jsnull"):
            module.is_jsnull = _is_jsnull_outside_pyodide
    return True


def unpatch_is_jsnull() -> None:
    """Put xlwings' own ``is_jsnull`` back (benchmarks and tests)."""
    original = getattr(_is_jsnull_outside_pyodide, "__wrapped_original__", None)
    if original is None:
        return
    import xlwings.conversion.standard as standard
    import xlwings.utils as utils

    for module in (utils, standard):
        if getattr(module, "is_jsnull", None) is _is_jsnull_outside_pyodide:
            module.is_jsnull = original


def is_jsnull_patched() -> bool:
    import xlwings.conversion.standard as standard
    import xlwings.utils as utils

    return utils.is_jsnull is _is_jsnull_outside_pyodide and (
        standard.is_jsnull is _is_jsnull_outside_pyodide
    )


# -- payload validation --------------------------------------------------------------------------


class BadPayload(Exception):
    """A request our app refuses before xlwings sees it: HTTP status and one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_SCALARS = (str, int, float, bool, type(None))
_KIND_NAMES = {str: "a string", int: "an integer", list: "an array", dict: "an object"}


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", type(None): "null",
            bool: "boolean"}.get(type(value), "number" if isinstance(value, (int, float)) else
                                 type(value).__name__)


def _is_typed_cell(value: Any) -> bool:
    """An Office.js cell value object: xlwings declares ``allowErrorForDataTypeAny`` and
    ``allowCustomDataForDataTypeAny``, so Excel passes an error cell as ``{"type": "Error",
    "basicValue": "#N/A", ...}`` (and formatted numbers as typed objects); xlwings reads them."""
    return (isinstance(value, dict) and isinstance(value.get("type"), str)
            and "basicValue" in value and all(isinstance(v, _SCALARS) for v in value.values()))


def _grid_cells(value: Any, where: str) -> int:
    """Cells in an Excel argument (scalar, or rectangular 2-D array of scalars)."""
    if isinstance(value, _SCALARS) or _is_typed_cell(value):
        return 1
    if not isinstance(value, list):
        raise BadPayload(400, f"{where} must be a scalar or a 2-D array, not {_type_name(value)}")
    if not value or not all(isinstance(row, list) for row in value):
        raise BadPayload(400, f"{where} must be a non-empty 2-D array (a list of rows)")
    width = len(value[0])
    cells = 0
    for row in value:
        if len(row) != width or width == 0:
            raise BadPayload(400, f"{where} is not rectangular (rows of different lengths)")
        cells += width
        for cell in row:
            if not isinstance(cell, _SCALARS) and not _is_typed_cell(cell):
                raise BadPayload(400, f"{where} holds a {_type_name(cell)} where a cell value "
                                      "was expected")
    return cells


#: Keys of a custom-functions call: key -> (accepted types, required). What the xlwings
#: Office.js client sends (xlwings-server 1.20); anything else is refused by name.
FUNCTION_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "func_name": ((str,), True),
    "args": ((list,), True),
    "client": ((str,), True),
    "version": ((str,), True),
    "runtime": ((str,), True),
    "caller_address": ((str,), False),
    "session_id": ((str,), False),
    "culture_info_name": ((str,), False),
    "date_format": ((str,), False),
    "task_key": ((str,), False),
}
#: Top-level keys of a script call (the book payload).
SCRIPT_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "client": ((str,), True),
    "version": ((str,), True),
    "book": ((dict,), True),
    "names": ((list,), True),
    "sheets": ((list,), True),
    "args": ((list,), False),
}
#: Keys checked inside ``book`` and each sheet; xlwings' client sends more (print area,
#: shapes, charts...), which pass: these objects are xlwings' own format, not our interface.
BOOK_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "name": ((str,), True),
    "active_sheet_index": ((int,), True),
    "selection": ((str,), False),
}
SHEET_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "name": ((str,), True),
    "values": ((list,), True),
    "pictures": ((list,), True),
    "tables": ((list,), True),
}


def _quoted(keys: list[Any]) -> str:
    return ", ".join(f"'{str(k)[:50]}'" for k in keys[:20]) + (", ..." if len(keys) > 20 else "")


def check_keys(data: Mapping[str, Any], spec: Mapping[str, tuple[tuple[type, ...], bool]],
               where: str, closed: bool = True) -> None:
    """One :class:`BadPayload` naming every missing key, every unknown key (when ``closed``)
    and every value of the wrong type in ``data``, or nothing when all is well."""
    problems = []
    missing = [k for k, (_, required) in spec.items() if required and k not in data]
    if missing:
        problems.append(f"missing key{'s' if len(missing) > 1 else ''} {_quoted(missing)}")
    unknown = [k for k in data if k not in spec] if closed else []
    if unknown:
        problems.append(f"unknown key{'s' if len(unknown) > 1 else ''} {_quoted(unknown)} "
                        f"(allowed: {', '.join(spec)})")
    for key, (kinds, required) in spec.items():
        if key not in data or (data[key] is None and not required):
            continue
        value = data[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            expected = " or ".join(_KIND_NAMES[k] for k in kinds)
            problems.append(f"'{key}' must be {expected}, not {_type_name(value)}")
    if problems:
        raise BadPayload(400, f"{where}: " + "; ".join(problems))


def resolve_name(name: str, known: Iterable[str], what: str, namespace: str = "") -> str:
    """The registered name ``name`` stands for: exact, any letter case, or with the Excel
    namespace prefix (``AICAPEX.CPX_VALUE``); :class:`BadPayload` 404 naming the nearest."""
    known = list(known)
    if name in known:
        return name
    text = name.strip()
    if namespace and text.lower().startswith(namespace.lower() + "."):
        text = text[len(namespace) + 1:]
    by_lower = {k.lower(): k for k in known}
    if text.lower() in by_lower:
        return by_lower[text.lower()]
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=1, cutoff=0.6)
    shown = (lambda k: k.upper()) if what == "function" else (lambda k: k)
    hint = f"; did you mean '{shown(by_lower[close[0]])}'?" if close else ""
    listing = "GET /docs lists them" if what == "function" else (
        f"scripts: {', '.join(sorted(known))}")
    raise BadPayload(404, f"unknown {what} '{name[:100]}'{hint} ({listing})")


def check_function_call(data: Any, functions: Mapping[str, Mapping[str, Any]],
                        namespace: str = "") -> str:
    """Raise :class:`BadPayload` unless ``data`` is a well-formed custom-functions call;
    return the registered name it calls (names match in any letter case).

    ``functions`` maps each served function's Python name to its ``__xlfunc__`` metadata.
    """
    where = "custom function call"
    if not isinstance(data, dict):
        raise BadPayload(400, f"{where}: the body must be a JSON object, not {_type_name(data)}")
    check_keys(data, FUNCTION_KEYS, where)
    name = resolve_name(data["func_name"], functions, "function", namespace)
    args = data["args"]
    params = functions[name]["args"]
    has_vararg = any(p.get("vararg") for p in params)
    required = sum(1 for p in params if "optional" not in p and not p.get("vararg"))
    shown = name.upper()
    if len(args) < required or (not has_vararg and len(args) > len(params)):
        expected = f"{required} to {len(params)}" if required != len(params) else str(required)
        raise BadPayload(400, f"{shown}: expects {expected} arguments, got {len(args)}")
    cells = 0
    for i, arg in enumerate(args):
        label = f"{shown} argument {i + 1}"
        if has_vararg and i >= len(params) - 1 and params[-1].get("vararg"):
            if not isinstance(arg, list):
                raise BadPayload(400, f"{label} (varargs) must be an array of arguments")
            cells += sum(_grid_cells(a, label) for a in arg)
        else:
            cells += _grid_cells(arg, label)
        if cells > MAX_FUNCTION_CELLS:
            raise BadPayload(413, f"{shown}: more than {MAX_FUNCTION_CELLS:,} argument cells")
    return name


def check_script_call(data: Any) -> None:
    """Raise :class:`BadPayload` unless ``data`` is a well-formed book payload."""
    where = "script call"
    if not isinstance(data, dict):
        raise BadPayload(400, f"{where}: the body must be a JSON object, not {_type_name(data)}")
    check_keys(data, SCRIPT_KEYS, where)
    book = data["book"]
    check_keys(book, BOOK_KEYS, f"{where}: book", closed=False)
    if not all(isinstance(n, dict) for n in data["names"]):
        raise BadPayload(400, f"{where}: 'names' must be an array of objects")
    sheets = data["sheets"]
    if not sheets:
        raise BadPayload(400, f"{where}: 'sheets' is empty")
    cells = 0
    for i, sheet in enumerate(sheets):
        label = f"{where}: sheets[{i}]"
        if not isinstance(sheet, dict):
            raise BadPayload(400, f"{label} must be an object, not {_type_name(sheet)}")
        check_keys(sheet, SHEET_KEYS, label, closed=False)
        if sheet["values"]:
            cells += _grid_cells(sheet["values"], f"{label}.values")
        if cells > MAX_SCRIPT_CELLS:
            raise BadPayload(413, f"{where}: more than {MAX_SCRIPT_CELLS:,} cells")
    active = book["active_sheet_index"]
    if not 0 <= active < len(sheets):
        raise BadPayload(400, f"{where}: book.active_sheet_index {active} is not a sheet index")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadPayload(400, "the body is not valid JSON") from None


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class PayloadGuard:
    """ASGI middleware (added with FastAPI's ``app.add_middleware``): checks the two POST
    endpoints that run our code and answers a bad request with ``{"detail": reason}`` and a
    4xx — 400 malformed, 404 unknown function or script, 413 too large — before xlwings sees
    it. Function and script names match in any letter case (``CPX_VALUE``, ``cpx_value``,
    ``AICAPEX.CPX_VALUE``): the request is passed on with the registered name. Everything
    else passes through untouched."""

    def __init__(self, app: Callable[..., Awaitable[None]], functions: Mapping[str, Any],
                 scripts: set[str] | frozenset[str], prefix: str = "",
                 namespace: str = "") -> None:
        self.app = app
        self.functions = functions
        self.scripts = frozenset(scripts)
        self.namespace = namespace
        self.functions_path = f"{prefix}/xlwings/custom-functions-call"
        self.scripts_prefix = f"{prefix}/xlwings/custom-scripts-call/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == self.functions_path:
            limit, script = MAX_FUNCTION_BODY, None
        elif path.startswith(self.scripts_prefix):
            limit, script = MAX_SCRIPT_BODY, path[len(self.scripts_prefix):]
        else:
            await self.app(scope, receive, send)
            return
        try:
            if script is not None:
                name = resolve_name(script, self.scripts, "script")
                if name != script:
                    scope = _with_path(scope, self.scripts_prefix + name)
            body = await self._body(scope, receive, limit)
            if body is None:
                return  # client went away (or took too long: answered already)
            if script is None:
                data = _json(body)
                name = check_function_call(data, self.functions, self.namespace)
                if name != data["func_name"]:
                    data["func_name"] = name
                    body = json.dumps(data).encode()
                    scope = _with_length(scope, len(body))
            else:
                self._check_script_body(scope, body)
        except BadPayload as bad:
            log.warning("refused %s: %s", path[:200], bad.reason)
            await _reply(send, bad.status, bad.reason)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                raise BadPayload(400, "invalid Content-Length") from None
            if declared > limit:
                raise BadPayload(413, f"request body over {limit // (1024 * 1024)} MB")
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > limit:
                raise BadPayload(413, f"request body over {limit // (1024 * 1024)} MB")
            if not message.get("more_body", False):
                return bytes(body)

    @staticmethod
    def _check_script_body(scope: Scope, body: bytes) -> None:
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type == b"multipart/form-data":
            return  # the task pane's htmx forms; xlwings parses those itself
        if content_type == b"application/x-www-form-urlencoded":
            try:
                form = parse_qs(body.decode("utf-8"), strict_parsing=False)
            except UnicodeDecodeError:
                raise BadPayload(400, "the form is not valid UTF-8") from None
            if "bookData" not in form:
                raise BadPayload(400, "the form has no bookData field")
            body = form["bookData"][0].encode()
        check_script_call(_json(body))


def _with_path(scope: Scope, path: str) -> Scope:
    return {**scope, "path": path, "raw_path": path.encode()}


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-length"]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}


async def _reply(send: Send, status: int, reason: str, close: bool = False) -> None:
    payload = json.dumps({"detail": reason}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


# -- who may call, and how slowly ----------------------------------------------------------------

#: Seconds a client has to send a request's head (request line and headers), and its body.
HEADER_TIMEOUT_ENV = "AICAPEX_SERVER_HEADER_TIMEOUT"
BODY_TIMEOUT_ENV = "AICAPEX_SERVER_BODY_TIMEOUT"
DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_BODY_TIMEOUT = 60.0


def timeout_setting(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from ``env[name]`` (default when unset)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise RuntimeError(f"{name}={raw!r}: expected a positive number of seconds")
    return value


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _host_of_bind(bind: str) -> str | None:
    """``0.0.0.0`` from gunicorn's ``0.0.0.0:8000``; None for a unix socket or an fd."""
    if bind.startswith(("unix:", "fd://")):
        return None
    if bind.startswith("["):
        return bind[1:bind.index("]")] if "]" in bind else bind
    return bind.rsplit(":", 1)[0] if bind.count(":") == 1 else bind


def bind_hosts(argv: list[str], env: Mapping[str, str]) -> list[str] | None:
    """The TCP hosts this server process was told to bind, read from the ``uvicorn`` or
    ``gunicorn`` command line it runs under (and ``UVICORN_HOST`` / ``GUNICORN_CMD_ARGS``);
    ``[]`` for a unix socket, None when the process was not started by either command."""
    if not argv:
        return None
    prog = Path(argv[0])
    if prog.name == "uvicorn" or (prog.name == "__main__.py" and prog.parent.name == "uvicorn"):
        from uvicorn.main import main as uvicorn_cli

        try:
            ctx = uvicorn_cli.make_context("uvicorn", list(argv[1:]), resilient_parsing=True)
        except Exception:  # noqa: BLE001 - an unreadable command line: fall back on per-request checks
            return None
        if ctx.params.get("uds"):
            return []
        if ctx.params.get("fd") is not None:
            return None
        from click.core import ParameterSource

        if ctx.get_parameter_source("host") is ParameterSource.COMMANDLINE:
            return [ctx.params["host"]]
        return [env.get("UVICORN_HOST") or "127.0.0.1"]  # uvicorn's own default
    if prog.name == "gunicorn":
        import shlex

        words = shlex.split(env.get("GUNICORN_CMD_ARGS", "")) + list(argv[1:])
        binds = []
        for i, word in enumerate(words):
            if word in ("-b", "--bind") and i + 1 < len(words):
                binds.append(words[i + 1])
            elif word.startswith("--bind="):
                binds.append(word.split("=", 1)[1])
            elif word.startswith("-b") and len(word) > 2:
                binds.append(word[2:])
        hosts = [_host_of_bind(b) for b in binds or ["127.0.0.1:8000"]]
        return [h for h in hosts if h is not None]
    return None


def startup_refusal(argv: list[str], env: Mapping[str, str]) -> str | None:
    """Why this process must not serve: a non-loopback bind without authentication."""
    hosts = bind_hosts(argv, env) or []
    exposed = [h for h in hosts if not is_loopback(h)]
    if not exposed:
        return None
    problem = auth_problem(env)
    if problem is None:
        return None
    return (f"refusing to serve on {exposed[0]} without authentication: {problem} (bind "
            "127.0.0.1, or configure XLWINGS_AUTH_PROVIDERS; README, Team deployment, Auth)")


class AccessGuard:
    """The outermost ASGI layer of our app, whatever server runs it:

    * at startup (ASGI lifespan) it refuses to start when the process binds a non-loopback
      address and authentication is not configured (:func:`startup_refusal`);
    * without authentication it answers any client that is not on loopback with 403 (the
      client as the server reports it: behind a local reverse proxy, the forwarded address);
    * it gives a request's body ``body_timeout`` seconds from the end of its headers; a client
      still sending then gets 408 and the connection is closed.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], *, auth_configured: bool,
                 body_timeout: float, argv: list[str] | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.auth_configured = auth_configured
        self.body_timeout = body_timeout
        self.argv = list(sys.argv if argv is None else argv)
        self.env = os.environ if env is None else env

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            refusal = startup_refusal(self.argv, self.env)
            if refusal is not None:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.failed", "message": refusal})
                    return
            await self.app(scope, receive, send)
            return
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if not self.auth_configured and client is not None and not is_loopback(str(client[0])):
            log.warning("refused a request from %s: no authentication configured", client[0])
            if kind == "http":
                await _reply(send, 403, "this server has no authentication configured "
                             "(XLWINGS_AUTH_PROVIDERS) and answers loopback clients only")
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        if kind == "http":
            await self._timed(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _timed(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        state = {"started": False, "timed_out": False, "body_done": False}

        async def timed_receive() -> Message:
            if state["timed_out"]:
                return {"type": "http.disconnect"}
            if state["body_done"]:
                return await receive()  # after the body: waiting for a disconnect is fine
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                state["timed_out"] = True
                if not state["started"]:
                    state["started"] = True
                    await _reply(send, 408, f"request body not received within "
                                 f"{self.body_timeout:g} s", close=True)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def guarded_send(message: Message) -> None:
            if state["timed_out"]:
                return  # answered 408 already
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, timed_receive, guarded_send)


def install_header_timeout(seconds: float) -> list[str]:
    """Close a connection whose request head (request line and headers) is not complete
    ``seconds`` after the connection opened or the previous response ended.

    uvicorn has a keep-alive timeout but none for a request's head: a client that sends
    headers a byte at a time holds a connection, and a worker slot, for ever. An ASGI app
    only sees a request once its head is complete, so this is applied to uvicorn's HTTP
    protocol classes (h11 and httptools) when a worker starts: a timer armed on connection
    and after each response, which closes the connection with a 408 unless a new request
    arrived meanwhile. Returns the patched classes; applying it twice only updates the time.
    """
    patched = []
    for module_name, class_name in (("uvicorn.protocols.http.h11_impl", "H11Protocol"),
                                    ("uvicorn.protocols.http.httptools_impl",
                                     "HttpToolsProtocol")):
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        if not all(hasattr(cls, m) for m in ("connection_made", "connection_lost",
                                              "on_response_complete")):
            log.warning("uvicorn's %s changed: no request-head timeout", class_name)
            continue
        if not getattr(cls, "_aicapex_head_timeout", None):
            _patch_head_timeout(cls)
        cls._aicapex_head_timeout = seconds
        patched.append(class_name)
    return patched


def _patch_head_timeout(cls: type) -> None:
    made, lost, complete = cls.connection_made, cls.connection_lost, cls.on_response_complete

    def arm(self: Any) -> None:
        disarm(self)
        loop = getattr(self, "loop", None)
        if loop is None:
            return
        self._aicapex_head_cycle = getattr(self, "cycle", None)
        self._aicapex_head_timer = loop.call_later(type(self)._aicapex_head_timeout, expire, self)

    def disarm(self: Any) -> None:
        timer = getattr(self, "_aicapex_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._aicapex_head_timer = None

    def expire(self: Any) -> None:
        self._aicapex_head_timer = None
        transport = getattr(self, "transport", None)
        if (transport is None or transport.is_closing()
                or getattr(self, "cycle", None) is not self._aicapex_head_cycle
                or transport.get_protocol() is not self):  # a new request, or upgraded
            return
        log.warning("closed a connection whose request head was not complete after %g s",
                    type(self)._aicapex_head_timeout)
        transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n"
                        b"connection: close\r\n\r\n")
        transport.close()

    def connection_made(self: Any, transport: Any) -> None:
        made(self, transport)
        arm(self)

    def connection_lost(self: Any, exc: Exception | None) -> None:
        disarm(self)
        lost(self, exc)

    def on_response_complete(self: Any) -> None:
        complete(self)
        if not self.transport.is_closing():
            arm(self)

    cls.connection_made = connection_made
    cls.connection_lost = connection_lost
    cls.on_response_complete = on_response_complete


# -- the app -------------------------------------------------------------------------------------


def registered(functions_module: Any, scripts_module: Any) -> tuple[dict[str, Any], set[str]]:
    """The custom functions (Python name -> ``__xlfunc__``) and scripts xlwings would serve."""
    functions = {name: obj.__xlfunc__ for name, obj in inspect.getmembers(functions_module)
                 if hasattr(obj, "__xlfunc__")}
    scripts = {name for name, obj in inspect.getmembers(scripts_module)
               if getattr(obj, "__xlscript__", None) is not None}
    return functions, scripts


def create_app() -> Any:
    """xlwings Server's ASGI app serving our module, wrapped in :class:`AccessGuard`, with
    :class:`PayloadGuard`, ``GET /docs``, the request-head timeout and the
    :func:`patch_is_jsnull` fix. Called once per worker process."""
    configure_environment()
    if not xlwings_server_installed():
        raise RuntimeError(INSTALL_HINT)
    header_timeout = timeout_setting(os.environ, HEADER_TIMEOUT_ENV, DEFAULT_HEADER_TIMEOUT)
    body_timeout = timeout_setting(os.environ, BODY_TIMEOUT_ENV, DEFAULT_BODY_TIMEOUT)
    patched = patch_is_jsnull()
    import xlwings_server.main as xs_main
    import xlwings_server.routers.xlwings as xs_router
    from fastapi.responses import HTMLResponse
    from xlwings_server.config import settings

    from aicapex.server_docs import docs_page

    functions, scripts = registered(xs_router.custom_functions, xs_router.custom_scripts)
    if not functions:
        raise RuntimeError(f"xlwings Server found no custom functions in {APP_DIR}")
    for name in functions:  # the docs page shows each function's own summary line
        functions[name] = {**functions[name], "func": getattr(xs_router.custom_functions, name)}
    namespace = os.environ.get("XLWINGS_FUNCTIONS_NAMESPACE", "")
    page = docs_page(functions, scripts, settings.app_path, namespace)

    async def docs() -> Any:
        return HTMLResponse(page)

    xs_main.app.add_api_route(f"{settings.app_path}/docs", docs, methods=["GET"],
                              include_in_schema=False)
    xs_main.app.add_middleware(PayloadGuard, functions=functions, scripts=scripts,
                               prefix=settings.app_path, namespace=namespace)
    timed = install_header_timeout(header_timeout)
    log.info("AI Capex Workbench on xlwings Server: %d functions, scripts %s, is_jsnull patch "
             "%s, header timeout %g s (%s), body timeout %g s", len(functions), sorted(scripts),
             "on" if patched else "off (Pyodide)", header_timeout, ", ".join(timed) or "none",
             body_timeout)
    return AccessGuard(xs_main.main_app, auth_configured=auth_problem(os.environ) is None,
                       body_timeout=body_timeout)


_app: Any = None


def __getattr__(name: str) -> Any:
    # ``app`` is built on first access, so importing this module needs no xlwings-server.
    global _app
    if name == "app":
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
