"""LibreOffice as the independent spreadsheet engine: forced recalculation, PDF, comparison.

LibreOffice does **not** recalculate an .xlsx that carries cached results, whatever
``fullCalcOnLoad`` says, so converting a file proves nothing by default. Every call here runs
``soffice`` with its own user profile (``-env:UserInstallation=file:///...``) whose
``registrymodifications.xcu`` sets ``/org.openoffice.Office.Calc/Formula/Load``
``OOXMLRecalcMode = 0`` ("always recalculate"). The profile also keeps us away from a
LibreOffice the user has open.

One profile is created per process, on first use, and removed at exit; calls are serialised
on a lock because one profile serves one soffice at a time. Measured on the dev box (LO 7.4.7):
~0.94 s per conversion with a brand-new profile, ~0.80 s with the cached one.

Never ship a file LibreOffice saved: it rewrites unknown functions (our UDFs) in lower case.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from aicapex.errors import AicapexError
from aicapex.xlerrors import ERROR_CODES

__all__ = [
    "RECALC_XCU",
    "compare_values",
    "compare_with_libreoffice",
    "pdf_page_count",
    "recalculate",
    "soffice_binary",
    "to_pdf",
]

#: Profile settings: always recalculate OOXML (and ODF) files on load.
RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

DEFAULT_TIMEOUT = 120.0

_lock = threading.Lock()
_profile: Path | None = None


def soffice_binary() -> str:
    """Path of ``soffice`` (``$AICAPEX_SOFFICE``, else ``soffice``/``libreoffice`` on PATH)."""
    env = os.environ.get("AICAPEX_SOFFICE")
    if env:
        if not (Path(env).is_file() and os.access(env, os.X_OK)):
            raise AicapexError(f"AICAPEX_SOFFICE={env} is not an executable file")
        return env
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise AicapexError("LibreOffice is not installed (no soffice on PATH); install "
                           "libreoffice-calc or set AICAPEX_SOFFICE")
    return found


def _remove_profile() -> None:
    global _profile
    if _profile is not None:
        shutil.rmtree(_profile, ignore_errors=True)
        _profile = None


def _profile_dir() -> Path:
    """The per-process profile folder, with the recalculation setting in place."""
    global _profile
    if _profile is None or not _profile.is_dir():
        _profile = Path(tempfile.mkdtemp(prefix="aicapex-lo-profile-"))
        atexit.register(_remove_profile)
    xcu = _profile / "user" / "registrymodifications.xcu"
    # LibreOffice rewrites this file on exit and keeps our items; put them back if not.
    if not xcu.is_file() or "OOXMLRecalcMode" not in xcu.read_text(errors="replace"):
        xcu.parent.mkdir(parents=True, exist_ok=True)
        xcu.write_text(RECALC_XCU, encoding="utf-8")
    return _profile


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _run(src: Path, out_dir: Path, fmt: str, timeout: float) -> Path:
    src = Path(src)
    out_dir = Path(out_dir)
    if not src.is_file():
        raise AicapexError(f"no such file: {src}")
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = fmt.split(":", 1)[0]
    out = out_dir / f"{src.stem}.{ext}"
    if out.resolve() == src.resolve():
        raise AicapexError(f"LibreOffice would overwrite its input {src}; choose another out_dir")
    binary = soffice_binary()
    with _lock:
        profile = _profile_dir()
        with contextlib.suppress(FileNotFoundError):
            out.unlink()
        cmd = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", fmt, "--outdir", str(out_dir), str(src)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise AicapexError(
                f"LibreOffice did not finish converting {src.name} within {timeout:g} s"
            ) from None
        except BaseException:  # Ctrl-C: take the whole soffice process group down
            _kill(proc)
            raise
    if proc.returncode != 0 or not out.is_file():
        detail = " ".join(
            line for line in (stderr or stdout or "").splitlines()
            if line.strip() and "javaldx" not in line
        )
        raise AicapexError(
            f"LibreOffice could not convert {src.name} to {ext} (exit {proc.returncode})"
            + (f": {detail[:300]}" if detail else "")
        )
    return out


def recalculate(src: Path, out_dir: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Open ``src`` in LibreOffice, recalculate every formula, save ``out_dir/<stem>.xlsx``."""
    return _run(src, out_dir, "xlsx:Calc MS Excel 2007 XML", timeout)


def to_pdf(src: Path, out_dir: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Render ``src`` (every sheet, with its print setup) to ``out_dir/<stem>.pdf``.

    Formulas are recalculated first, like :func:`recalculate`.
    """
    return _run(src, out_dir, "pdf:calc_pdf_Export", timeout)


def pdf_page_count(path: Path) -> int:
    """Number of pages of a PDF (``/Type /Page`` objects; good for LibreOffice's output)."""
    import re

    data = Path(path).read_bytes()
    if not data.startswith(b"%PDF"):
        raise AicapexError(f"{path} is not a PDF")
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


# --------------------------------------------------------------------------- comparison
def _is_error(value: object) -> bool:
    return isinstance(value, str) and value in ERROR_CODES


def _same(a: object, b: object, rel_tol: float, abs_tol: float) -> bool:
    if a == "" or a is None:
        return b == "" or b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return abs((a - b).total_seconds()) < 1e-3
    return a == b


def compare_values(
    expected: dict[tuple[str, str], object],
    actual: dict[tuple[str, str], object],
    *,
    rel_tol: float = 1e-12,
    abs_tol: float = 1e-9,
    label: str = "LibreOffice",
) -> list[str]:
    """Differences between two ``(sheet, cell) -> value`` maps, one description each.

    Numbers agree within ``rel_tol`` (LibreOffice stores 15 significant digits) or ``abs_tol``
    near zero; text and booleans exactly; any error value in ``actual`` is a problem.
    """
    problems: list[str] = []
    from openpyxl.utils.cell import coordinate_to_tuple

    for key in sorted(set(expected) | set(actual), key=lambda k: (k[0], coordinate_to_tuple(k[1]))):
        a = expected.get(key)
        b = actual.get(key)
        where = f"{key[0]}!{key[1]}"
        if _is_error(b):
            problems.append(f"{where}: {label} gives the error {b} (expected {a!r})")
        elif not _same(a, b, rel_tol, abs_tol):
            problems.append(f"{where}: stored {a!r}, {label} computes {b!r}")
    return problems


def compare_with_libreoffice(
    path: Path,
    *,
    rel_tol: float = 1e-12,
    abs_tol: float = 1e-9,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[str]:
    """Recalculate ``path`` in LibreOffice and list every cell that comes out differently.

    Every stored cell value (cached formula results included) is compared with the value
    LibreOffice computes after a forced full recalculation; see :func:`compare_values`.
    An empty list means an independent engine reproduces the whole workbook.
    """
    from aicapex.excel.cached import read_cached_values

    path = Path(path)
    expected = read_cached_values(path)
    with tempfile.TemporaryDirectory(prefix="aicapex-lo-") as tmp:
        copy = Path(tmp) / f"in{path.suffix}"
        shutil.copyfile(path, copy)
        out = recalculate(copy, Path(tmp) / "out", timeout=timeout)
        actual = read_cached_values(out)
    return compare_values(expected, actual, rel_tol=rel_tol, abs_tol=abs_tol)
