"""``GET /docs`` of the team server: endpoints, the exact request body, every function.

xlwings Server switches FastAPI's generated docs off (and they would need a CDN); this page
is plain HTML built from the served functions' own metadata, so it never goes stale.
"""

from __future__ import annotations

import html
import inspect
import json
from collections.abc import Iterable, Mapping
from typing import Any

from aicapex.server import BODY_TIMEOUT_ENV, FUNCTION_KEYS, HEADER_TIMEOUT_ENV


def curl_example(base: str = "http://127.0.0.1:8000") -> str:
    """A complete ``curl`` call of ``CPX_VALUE`` (the README shows the same)."""
    import xlwings

    body = json.dumps({"func_name": "CPX_VALUE", "args": ["MSFT", "capex", 2025],
                       "client": "Office.js", "version": xlwings.__version__, "runtime": "1.4"})
    return (f"curl -s {base}/xlwings/custom-functions-call \\\n"
            f"  -H 'Content-Type: application/json' \\\n  -d '{body}'")


def docs_page(functions: Mapping[str, Mapping[str, Any]], scripts: Iterable[str],
              prefix: str = "", namespace: str = "") -> str:
    """``GET /docs``: the endpoints, the exact request body, and every function's arguments."""
    e = html.escape
    rows = []
    for name in sorted(functions):
        meta = functions[name]
        params = ", ".join(
            (f"[{a['name']}]" if "optional" in a else a["name"]) for a in meta["args"])
        doc = (inspect.getdoc(meta.get("func")) or meta.get("doc") or "").split("\n\n")[0]
        doc = " ".join(doc.split())
        rows.append(f"<tr><td><code>{e(name.upper())}({e(params)})</code></td><td>{e(doc)}</td></tr>")
    keys = ", ".join(f"<code>{k}</code>" + ("" if req else " (optional)")
                     for k, (_, req) in FUNCTION_KEYS.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AI Capex Workbench server</title></head>
<body>
<h1>AI Capex Workbench on xlwings Server</h1>
<p>In Excel the functions read <code>={e(namespace)}.CPX_VALUE(...)</code> (add-in manifest:
<code>GET {e(prefix)}/manifest</code>). Over HTTP:</p>
<ul>
<li><code>GET {e(prefix)}/</code>: health check</li>
<li><code>GET {e(prefix)}/xlwings/custom-functions-meta</code>: every function's metadata</li>
<li><code>POST {e(prefix)}/xlwings/custom-functions-call</code>: call one function</li>
<li><code>POST {e(prefix)}/xlwings/custom-scripts-call/&lt;script&gt;</code>: run a script on a
book payload (scripts: {e(", ".join(sorted(scripts)))})</li>
</ul>
<h2>Calling a function</h2>
<p>A JSON object with the keys {keys}; any other key is refused. <code>func_name</code>
matches in any letter case (<code>CPX_VALUE</code>, <code>cpx_value</code>,
<code>{e(namespace)}.CPX_VALUE</code>). <code>args</code> has one entry per argument: a
number, string, boolean or null (a blank cell), or a range as a list of rows. Trailing
optional arguments may be left out. The answer is <code>{{"result": ...}}</code>, a range as a
list of rows; with runtime "1.4" an Excel error comes as
<code>{{"type": "Error", "errorType": "NotAvailable", "message": "..."}}</code>.</p>
<pre>{e(curl_example())}</pre>
<p>A malformed call gets 400, an unknown name 404, an oversized one 413, each with
<code>{{"detail": "one-line reason"}}</code> naming every problem at once.
Without authentication (<code>XLWINGS_AUTH_PROVIDERS</code>) only loopback clients are
answered. A request's headers must arrive within the header timeout and its body within the
body timeout (<code>{HEADER_TIMEOUT_ENV}</code>, <code>{BODY_TIMEOUT_ENV}</code>, seconds).</p>
<h2>Functions</h2>
<table><tr><th>function</th><th>what it returns</th></tr>
{chr(10).join(rows)}
</table>
</body></html>
"""
