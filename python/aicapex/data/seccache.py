"""The local cache of SEC downloads that every data command reads.

Layout (``$AICAPEX_CACHE_DIR``, default the user cache folder from ``platformdirs``)::

    sec/companyfacts/CIK0000789019.json       the companyfacts JSON as downloaded (verbatim)
    sec/companyfacts/CIK0000789019.meta.json  ticker, ETag, Last-Modified, fetch dates
    sec/company_tickers.json (+ .meta.json)   the SEC ticker map
    sec/last_fetch.json                       outcome of the last fetch, per company
    sec/.lock                                 held by a fetch while it writes

A file is written only after it passed the companyfacts checks, to a temporary file beside
it that then replaces it atomically: a reader sees the old copy or the new one, never part
of one, and a failed fetch leaves the previous copy in place. Reading needs no lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from aicapex.errors import DataError

CACHE_DIR_ENV = "AICAPEX_CACHE_DIR"
APP_NAME = "aicapex"


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$AICAPEX_CACHE_DIR``, else the user cache folder (``~/.cache/aicapex`` on Linux,
    ``~/Library/Caches/aicapex`` on macOS, ``%LOCALAPPDATA%\\aicapex\\Cache`` on Windows)."""
    env = os.environ if env is None else env
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def sec_dir(root: Path) -> Path:
    return Path(root) / "sec"


def facts_dir(root: Path) -> Path:
    return sec_dir(root) / "companyfacts"


def facts_path(root: Path, cik: int) -> Path:
    return facts_dir(root) / f"CIK{int(cik):010d}.json"


def meta_path(data_path: Path) -> Path:
    return data_path.with_name(data_path.stem + ".meta.json")


def tickers_path(root: Path) -> Path:
    return sec_dir(root) / "company_tickers.json"


def last_fetch_path(root: Path) -> Path:
    return sec_dir(root) / "last_fetch.json"


def lock_path(root: Path) -> Path:
    return sec_dir(root) / ".lock"


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then replace
    ``path`` with it in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, doc: object) -> None:
    write_atomic(path, json.dumps(doc, indent=1, sort_keys=True).encode("utf-8"))


def read_json(path: Path) -> dict:
    """A small bookkeeping JSON (meta, last fetch); a missing or unreadable one is empty."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


@contextlib.contextmanager
def locked(root: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold the cache's lock (one fetch writes at a time, across processes)."""
    from filelock import FileLock, Timeout

    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(path), timeout=timeout):
            yield
    except Timeout as exc:
        raise DataError(f"another fetch is writing the cache {root} (lock {path}); "
                        "try again when it has finished") from exc


@dataclass(frozen=True)
class CachedCompany:
    """One cached companyfacts download."""

    path: Path
    cik: int
    ticker: str | None
    fetched: str  # date the content was downloaded (YYYY-MM-DD)
    checked: str  # date the SEC last confirmed it (a 200 or a 304)
    meta: dict

    @property
    def fetched_date(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.fetched[:10])
        except ValueError:
            return None


def cached_companies(root: Path) -> list[CachedCompany]:
    """Every companyfacts file in the cache, by CIK."""
    folder = facts_dir(root)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("CIK*.json")):
        if path.name.endswith(".meta.json"):
            continue
        try:
            cik = int(path.stem[3:])
        except ValueError:
            continue
        meta = read_json(meta_path(path))
        fetched = str(meta.get("fetched_at") or "")[:10]
        if not fetched:  # copied in by hand: the file's own date
            fetched = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).date().isoformat()
        out.append(CachedCompany(path, cik, (meta.get("ticker") or None), fetched,
                                 str(meta.get("checked_at") or fetched)[:10], meta))
    return out


def ticker_map(root: Path) -> dict[int, str]:
    """CIK -> ticker from the cached SEC ticker map (empty before the first fetch needing it).

    The SEC lists a company's share classes in order of prominence (GOOGL before GOOG); the
    first listed ticker of a CIK is kept.
    """
    out: dict[int, str] = {}
    for cik, ticker, _title in ticker_entries(root):
        out.setdefault(cik, ticker)
    return out


def ticker_entries(root: Path) -> list[tuple[int, str, str]]:
    """(cik, ticker, title) rows of the cached ``company_tickers.json``."""
    try:
        doc = json.loads(tickers_path(root).read_bytes())
    except (OSError, ValueError):
        return []
    return parse_ticker_map(doc)


def parse_ticker_map(doc: object) -> list[tuple[int, str, str]]:
    """Rows of the SEC's ``company_tickers.json`` (``{"0": {"cik_str": 320193, "ticker":
    "AAPL", "title": "Apple Inc."}, ...}``); entries of another shape are skipped."""
    rows = []
    if isinstance(doc, dict):
        for entry in doc.values():
            if not isinstance(entry, dict):
                continue
            try:
                cik = int(entry.get("cik_str"))
            except (TypeError, ValueError, OverflowError):
                continue
            ticker = str(entry.get("ticker") or "").strip().upper()
            if ticker:
                rows.append((cik, ticker, str(entry.get("title") or "")))
    return rows


def last_fetch(root: Path) -> dict:
    """``{ticker: {"at": ..., "ok": bool, "error": ...}}`` of the most recent fetch runs."""
    return read_json(last_fetch_path(root))
