"""The CPX_ functions and the workbook's Refresh script served by xlwings Server.

xlwings Server (the ``xlwings-server`` package, ``pip install -r requirements-server.txt``)
is a FastAPI app that serves ``@xw.func`` / ``@xw.script`` code to Excel through an Office.js
add-in: Excel on the web, Excel on a Mac without Python, any Excel 365. It imports the
top-level packages ``custom_functions`` and ``custom_scripts`` from the folder named by
``XLWINGS_PROJECT_DIR``; ours is :mod:`aicapex.server_app`, whose two packages only import
:mod:`aicapex.udfs` and delegate to :func:`aicapex.excel.refresh.refresh_book`.

``app`` (``uvicorn aicapex.server:app --workers N``, or ``python -m aicapex serve``) is
xlwings Server's own ASGI app with two additions, both applied when a worker starts:

* :func:`patch_is_jsnull` — a guarded fix of a per-cell slowdown in xlwings' Office.js
  argument conversion (only when Pyodide is absent; see its docstring);
* :class:`PayloadGuard` — a FastAPI middleware that answers malformed calls to
  ``/xlwings/custom-functions-call`` and ``/xlwings/custom-scripts-call/<name>`` with a 4xx and
  a one-line reason, instead of the 500 that a ``KeyError`` deep inside xlwings would give.

Everything else — endpoints, manifest, task pane, authentication (``XLWINGS_AUTH_PROVIDERS``),
object cache (``XLWINGS_OBJECT_CACHE_URL``), licence (``XLWINGS_LICENSE_KEY``) — is xlwings
Server's, configured with its ``XLWINGS_*`` environment variables.

xlwings picks its Office.js decorators only if ``XLWINGS_ON_SERVER=true`` is set before its
first import in the process; :func:`configure_environment` sets it and refuses to go on if
xlwings was already imported without it.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
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
MAX_FUNCTION_CELLS = 1_000_000  # same bound as the UDFs' own (aicapex.udfs._excel.MAX_CELLS)
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


def _require(data: Mapping[str, Any], key: str, kinds: tuple[type, ...], where: str,
             optional: bool = False) -> Any:
    if key not in data:
        if optional:
            return None
        raise BadPayload(400, f"{where}: missing key '{key}'")
    value = data[key]
    if optional and value is None:
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join(_KIND_NAMES[k] for k in kinds)
        raise BadPayload(400, f"{where}: '{key}' must be {expected}, not {_type_name(value)}")
    return value


def check_function_call(data: Any, functions: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise :class:`BadPayload` unless ``data`` is a well-formed custom-functions call.

    ``functions`` maps each served function's Python name to its ``__xlfunc__`` metadata.
    """
    where = "custom function call"
    if not isinstance(data, dict):
        raise BadPayload(400, f"{where}: the body must be a JSON object, not {_type_name(data)}")
    name = _require(data, "func_name", (str,), where)
    args = _require(data, "args", (list,), where)
    for key in ("client", "version", "runtime"):
        _require(data, key, (str,), where)
    for key in ("caller_address", "session_id", "culture_info_name", "date_format"):
        _require(data, key, (str,), where, optional=True)
    if name not in functions:
        raise BadPayload(404, f"{where}: unknown function '{name[:100]}'")
    params = functions[name]["args"]
    has_vararg = any(p.get("vararg") for p in params)
    required = sum(1 for p in params if "optional" not in p and not p.get("vararg"))
    if len(args) < required or (not has_vararg and len(args) > len(params)):
        expected = f"{required} to {len(params)}" if required != len(params) else str(required)
        raise BadPayload(400, f"{name}: expects {expected} arguments, got {len(args)}")
    cells = 0
    for i, arg in enumerate(args):
        label = f"{name} argument {i + 1}"
        if has_vararg and i >= len(params) - 1 and params[-1].get("vararg"):
            if not isinstance(arg, list):
                raise BadPayload(400, f"{label} (varargs) must be an array of arguments")
            cells += sum(_grid_cells(a, label) for a in arg)
        else:
            cells += _grid_cells(arg, label)
        if cells > MAX_FUNCTION_CELLS:
            raise BadPayload(413, f"{name}: more than {MAX_FUNCTION_CELLS:,} argument cells")


def check_script_call(data: Any) -> None:
    """Raise :class:`BadPayload` unless ``data`` is a well-formed book payload."""
    where = "script call"
    if not isinstance(data, dict):
        raise BadPayload(400, f"{where}: the body must be a JSON object, not {_type_name(data)}")
    _require(data, "client", (str,), where)
    _require(data, "version", (str,), where)
    book = _require(data, "book", (dict,), where)
    _require(book, "name", (str,), f"{where}: book")
    active = _require(book, "active_sheet_index", (int,), f"{where}: book")
    _require(book, "selection", (str,), f"{where}: book", optional=True)
    names = _require(data, "names", (list,), where)
    if not all(isinstance(n, dict) for n in names):
        raise BadPayload(400, f"{where}: 'names' must be an array of objects")
    sheets = _require(data, "sheets", (list,), where)
    if not sheets:
        raise BadPayload(400, f"{where}: 'sheets' is empty")
    cells = 0
    for i, sheet in enumerate(sheets):
        label = f"{where}: sheets[{i}]"
        if not isinstance(sheet, dict):
            raise BadPayload(400, f"{label} must be an object, not {_type_name(sheet)}")
        _require(sheet, "name", (str,), label)
        values = _require(sheet, "values", (list,), label)
        _require(sheet, "pictures", (list,), label)
        _require(sheet, "tables", (list,), label)
        if values:
            cells += _grid_cells(values, f"{label}.values")
        if cells > MAX_SCRIPT_CELLS:
            raise BadPayload(413, f"{where}: more than {MAX_SCRIPT_CELLS:,} cells")
    if not 0 <= active < len(sheets):
        raise BadPayload(400, f"{where}: book.active_sheet_index {active} is not a sheet index")
    _require(data, "args", (list,), where, optional=True)


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
    it. Everything else passes through untouched."""

    def __init__(self, app: Callable[..., Awaitable[None]], functions: Mapping[str, Any],
                 scripts: set[str] | frozenset[str], prefix: str = "") -> None:
        self.app = app
        self.functions = functions
        self.scripts = frozenset(scripts)
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
            if script is not None and script not in self.scripts:
                raise BadPayload(404, f"unknown script '{script[:100]}'")
            body = await self._body(scope, receive, limit)
            if body is None:
                return  # client went away
            if script is None:
                check_function_call(_json(body), self.functions)
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


async def _reply(send: Send, status: int, reason: str) -> None:
    payload = json.dumps({"detail": reason}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
    ]})
    await send({"type": "http.response.body", "body": payload})


# -- the app -------------------------------------------------------------------------------------


def registered(functions_module: Any, scripts_module: Any) -> tuple[dict[str, Any], set[str]]:
    """The custom functions (Python name -> ``__xlfunc__``) and scripts xlwings would serve."""
    functions = {name: obj.__xlfunc__ for name, obj in inspect.getmembers(functions_module)
                 if hasattr(obj, "__xlfunc__")}
    scripts = {name for name, obj in inspect.getmembers(scripts_module)
               if getattr(obj, "__xlscript__", None) is not None}
    return functions, scripts


def create_app() -> Any:
    """xlwings Server's ASGI app serving our module, with :class:`PayloadGuard` and the
    :func:`patch_is_jsnull` fix. Called once per worker process."""
    configure_environment()
    if not xlwings_server_installed():
        raise RuntimeError(INSTALL_HINT)
    patched = patch_is_jsnull()
    import xlwings_server.main as xs_main
    import xlwings_server.routers.xlwings as xs_router
    from xlwings_server.config import settings

    functions, scripts = registered(xs_router.custom_functions, xs_router.custom_scripts)
    if not functions:
        raise RuntimeError(f"xlwings Server found no custom functions in {APP_DIR}")
    xs_main.app.add_middleware(PayloadGuard, functions=functions, scripts=scripts,
                               prefix=settings.app_path)
    log.info("AI Capex Workbench on xlwings Server: %d functions, scripts %s, is_jsnull patch %s",
             len(functions), sorted(scripts), "on" if patched else "off (Pyodide)")
    return xs_main.main_app


_app: Any = None


def __getattr__(name: str) -> Any:
    # ``app`` is built on first access, so importing this module needs no xlwings-server.
    global _app
    if name == "app":
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
