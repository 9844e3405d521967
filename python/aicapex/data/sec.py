"""Download SEC companyfacts into the local cache (``python -m aicapex fetch``).

Settings (environment variables; the Refresh button also reads them from the workbook's
``xlwings.conf`` sheet, the environment winning):

* ``AICAPEX_SEC_USER_AGENT`` (required): the SEC refuses anonymous clients; give a name and an
  e-mail address. Without it nothing is requested.
* ``AICAPEX_SEC_DATA_URL`` (default ``https://data.sec.gov``): serves
  ``/api/xbrl/companyfacts/CIK##########.json``.
* ``AICAPEX_SEC_WWW_URL`` (default ``https://www.sec.gov``): serves the ticker map
  ``/files/company_tickers.json``.
* ``AICAPEX_SEC_TIMEOUT`` (seconds, default 30) for each request.
* ``AICAPEX_CACHE_DIR``: where the downloads go (:mod:`aicapex.data.seccache`; environment
  only, so the CPX_ functions read the same cache).

Politeness: at most 10 requests a second across the process (the SEC's fair-access limit);
conditional requests from the stored ``ETag``/``Last-Modified`` (a 304 keeps the cached copy);
429 and 5xx answers and dropped connections are retried with exponential backoff, honouring
``Retry-After``. Each download is checked with the companyfacts loader before it replaces the
cached copy, so a failed or partial fetch loses nothing.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aicapex.data import seccache
from aicapex.data.companyfacts import KNOWN_CIKS, document_cik, parse_companyfacts, parse_json
from aicapex.errors import ArgumentError, DataError

USER_AGENT_ENV = "AICAPEX_SEC_USER_AGENT"
DATA_URL_ENV = "AICAPEX_SEC_DATA_URL"
WWW_URL_ENV = "AICAPEX_SEC_WWW_URL"
TIMEOUT_ENV = "AICAPEX_SEC_TIMEOUT"
DEFAULT_DATA_URL = "https://data.sec.gov"
DEFAULT_WWW_URL = "https://www.sec.gov"
DEFAULT_TIMEOUT = 30.0
#: The SEC's fair-access limit.
MAX_REQUESTS_PER_SECOND = 10
#: Attempts per request (the first plus retries) and the backoff's first wait, seconds.
ATTEMPTS = 4
BACKOFF_SECONDS = 1.0
#: A ``Retry-After`` longer than this is not waited for: the company fails with the reason.
MAX_RETRY_AFTER = 120.0

#: How this module sleeps between retries (tests replace it to record the waits).
sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class SecSettings:
    """Where and how to reach the SEC; see the module docstring."""

    user_agent: str
    cache_dir: Path
    data_url: str = DEFAULT_DATA_URL
    www_url: str = DEFAULT_WWW_URL
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None,
                 config: Mapping[str, object] | None = None) -> SecSettings:
        """Settings from the environment, then ``config`` (the workbook's ``xlwings.conf``
        keys, any case) for what the environment leaves unset. The user agent may be empty
        here; :meth:`require_user_agent` refuses it before any request."""
        env = os.environ if env is None else env
        conf = {str(k).strip().upper(): v for k, v in (config or {}).items()}

        def get(name: str) -> str:
            value = env.get(name) or conf.get(name) or ""
            return str(value).strip()

        timeout_text = get(TIMEOUT_ENV)
        try:
            timeout = float(timeout_text) if timeout_text else DEFAULT_TIMEOUT
        except ValueError as exc:
            raise ArgumentError(f"{TIMEOUT_ENV}={timeout_text!r} is not a number of seconds") from exc
        if not timeout > 0:
            raise ArgumentError(f"{TIMEOUT_ENV}={timeout_text!r}: give a positive number of seconds")
        return cls(
            user_agent=get(USER_AGENT_ENV),
            cache_dir=seccache.cache_dir(env),
            data_url=(get(DATA_URL_ENV) or DEFAULT_DATA_URL).rstrip("/"),
            www_url=(get(WWW_URL_ENV) or DEFAULT_WWW_URL).rstrip("/"),
            timeout=timeout,
        )

    def require_user_agent(self) -> None:
        if not self.user_agent:
            raise ArgumentError(
                f"{USER_AGENT_ENV} is not set: the SEC refuses anonymous clients; set it to "
                f'your name and e-mail, e.g. {USER_AGENT_ENV}="Jane Doe jane@example.com"'
            )

    def facts_url(self, cik: int) -> str:
        return f"{self.data_url}/api/xbrl/companyfacts/CIK{int(cik):010d}.json"

    @property
    def tickers_url(self) -> str:
        return f"{self.www_url}/files/company_tickers.json"


class RateLimiter:
    """At most ``per_second`` request starts a second, across every thread of the process."""

    def __init__(self, per_second: float = MAX_REQUESTS_PER_SECOND,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:  # sleeping under the lock keeps the starts spaced across threads
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
            if start > now:
                self._sleep(start - now)


#: The process-wide limiter every SEC request goes through.
LIMITER = RateLimiter()


class FetchError(DataError):
    """One company (or the ticker map) could not be fetched; the message says why."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


@dataclass
class Response:
    status: int
    content: bytes
    headers: dict[str, str]


class SecClient:
    """HTTP GETs to the SEC: user agent, rate limit, timeouts, retries (httpx + tenacity)."""

    def __init__(self, settings: SecSettings, *, limiter: RateLimiter | None = None,
                 transport: object | None = None) -> None:
        import httpx

        settings.require_user_agent()
        self.settings = settings
        self.limiter = limiter or LIMITER
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent},
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SecClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Response:
        """GET ``url`` (conditionally when validators are given). 429/5xx answers and
        transport failures (timeouts, dropped connections, truncated bodies) are retried;
        after the last attempt :class:`FetchError` says what went wrong."""
        import httpx
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception_type,
            stop_after_attempt,
            wait_exponential,
        )

        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        backoff = wait_exponential(multiplier=BACKOFF_SECONDS, max=30)

        def wait(state) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return exc.retry_after
            return backoff(state)

        def once() -> Response:
            self.limiter.wait()
            try:
                r = self._client.get(url, headers=headers)
            except httpx.TimeoutException as exc:
                raise _Retryable(f"no answer within {self.settings.timeout:g} s") from exc
            except httpx.TransportError as exc:
                raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})") from exc
            if r.status_code == 429 or r.status_code >= 500:
                after = _retry_after(r.headers.get("Retry-After"))
                reason = f"HTTP {r.status_code}" + (f" (Retry-After {r.headers['Retry-After']})"
                                                    if after is not None else "")
                if after is not None and after > MAX_RETRY_AFTER:
                    raise FetchError(f"{reason}: the SEC asks to wait longer than "
                                     f"{MAX_RETRY_AFTER:g} s; try again later")
                raise _Retryable(reason, after)
            return Response(r.status_code, r.content, dict(r.headers))

        retrying = Retrying(stop=stop_after_attempt(ATTEMPTS), wait=wait,
                            retry=retry_if_exception_type(_Retryable),
                            sleep=lambda s: sleep(s), reraise=False)
        try:
            return retrying(once)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise FetchError(f"{last} after {ATTEMPTS} attempts") from exc


# -- companies --------------------------------------------------------------------------------


def covered_tickers(root: Path | None = None) -> list[str]:
    """The companies ``fetch --all-covered`` and ``refresh --online`` fetch: the snapshot's and
    every company fetched into the SEC cache before."""
    from aicapex.data.dataset import TICKER_ORDER

    out = list(TICKER_ORDER)
    for company in seccache.cached_companies(root or seccache.cache_dir()):
        if company.ticker and company.ticker not in out:
            out.append(company.ticker)
    return out


@dataclass
class Target:
    """A company to fetch: its CIK and the ticker to file it under."""

    cik: int
    ticker: str


@dataclass
class Outcome:
    target: Target
    status: str  # "updated", "unchanged" or "failed"
    message: str
    latest_filed: str = ""


@dataclass
class FetchReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def _ticker_map_rows(client: SecClient, root: Path) -> list[tuple[int, str, str]]:
    """The SEC ticker map: downloaded (conditionally) into the cache, then read from it."""
    path = seccache.tickers_path(root)
    meta = seccache.read_json(seccache.meta_path(path)) if path.exists() else {}
    url = client.settings.tickers_url
    try:
        r = client.get(url, etag=meta.get("etag"), last_modified=meta.get("last_modified"))
    except FetchError as exc:
        if path.exists():
            return seccache.ticker_entries(root)  # the earlier copy still resolves tickers
        raise FetchError(f"SEC ticker map {url}: {exc}") from exc
    if r.status == 200:
        try:
            rows = seccache.parse_ticker_map(json.loads(r.content))
        except ValueError as exc:
            raise FetchError(f"SEC ticker map {url}: not a JSON ticker map ({exc})") from exc
        if not rows:
            raise FetchError(f"SEC ticker map {url}: no ticker entries in the answer")
        seccache.write_atomic(path, r.content)
        seccache.write_json_atomic(seccache.meta_path(path), _meta(url, r, {}))
        return rows
    if r.status == 304 and path.exists():
        return seccache.ticker_entries(root)
    raise FetchError(f"SEC ticker map {url}: HTTP {r.status}")


def _meta(url: str, r: Response, extra: Mapping[str, object]) -> dict:
    lower = {k.lower(): v for k, v in r.headers.items()}
    now = seccache.now_text()
    return {"url": url, "etag": lower.get("etag"), "last_modified": lower.get("last-modified"),
            "fetched_at": now, "checked_at": now, **extra}


def resolve_targets(tickers: Iterable[str], ciks: Iterable[int], *,
                    ticker_rows: Callable[[], list[tuple[int, str, str]]]) -> tuple[list[Target], list[str]]:
    """Companies to fetch from tickers and CIKs. A covered company needs no look-up; any other
    ticker or CIK is resolved through the SEC ticker map (``ticker_rows`` is only called then).
    Returns the targets and one message per name that could not be resolved."""
    by_ticker = {t: c for c, t in KNOWN_CIKS.items()}
    rows: list[tuple[int, str, str]] | None = None
    targets: dict[int, Target] = {}
    problems: list[str] = []

    map_error: list[str] = []

    def table() -> list[tuple[int, str, str]]:
        nonlocal rows
        if rows is None:
            try:
                rows = ticker_rows()
            except FetchError as exc:  # covered companies still go ahead
                rows, map_error[:] = [], [str(exc)]
        return rows

    def unknown(what: str) -> str:
        return f"cannot look it up ({map_error[0]})" if map_error else what

    for raw in tickers:
        t = raw.strip().upper()
        if not t:
            continue
        cik = by_ticker.get(t)
        if cik is None:
            cik = next((c for c, tk, _ in table() if tk == t), None)
        if cik is None:
            problems.append(f"{t}: " + unknown("not in the SEC ticker map; pass its CIK with --cik"))
            continue
        # A covered company is always filed under its own ticker (GOOG -> GOOGL's CIK -> GOOGL).
        targets.setdefault(cik, Target(cik, KNOWN_CIKS.get(cik, t)))
    for cik in ciks:
        if cik in targets:
            continue
        t = KNOWN_CIKS.get(cik) or next((tk for c, tk, _ in table() if c == cik), None)
        if t is None:
            problems.append(f"CIK {cik}: " + unknown("not in the SEC ticker map, so it has no "
                                                     "ticker to file its figures under"))
            continue
        targets[cik] = Target(cik, t)
    return list(targets.values()), problems


def fetch_company(client: SecClient, root: Path, target: Target) -> Outcome:
    """Download one company's companyfacts, check it, and replace the cached copy; a failure
    leaves the cached copy as it was."""
    path = seccache.facts_path(root, target.cik)
    meta = seccache.read_json(seccache.meta_path(path)) if path.exists() else {}
    url = client.settings.facts_url(target.cik)
    # Validators only for the same company filed under the same ticker: otherwise download anew.
    same = path.exists() and meta.get("ticker") == target.ticker
    try:
        r = client.get(url, etag=meta.get("etag") if same else None,
                       last_modified=meta.get("last_modified") if same else None)
    except FetchError as exc:
        return Outcome(target, "failed", str(exc))
    if r.status == 304 and same:
        meta["checked_at"] = seccache.now_text()
        seccache.write_json_atomic(seccache.meta_path(path), meta)
        return Outcome(target, "unchanged", "not modified since the cached copy",
                       str(meta.get("latest_filed") or ""))
    if r.status == 404:
        return Outcome(target, "failed", f"HTTP 404: the SEC has no companyfacts at {url}")
    if r.status in (401, 403):
        return Outcome(target, "failed", f"HTTP {r.status}: the SEC refused the request; check "
                       f"{USER_AGENT_ENV} (a name and an e-mail address)")
    if r.status != 200:
        return Outcome(target, "failed", f"HTTP {r.status} from {url}")
    where = f"download {url}"
    try:
        doc = parse_json(r.content, where)
        cik = document_cik(doc, where)
        if cik != target.cik:
            raise DataError(f"{where}: the file is about CIK {cik}, not CIK {target.cik}")
        cf = parse_companyfacts(doc, where, target.ticker, fetched=seccache.today().isoformat())
    except DataError as exc:
        return Outcome(target, "failed", str(exc))
    seccache.write_atomic(path, r.content)
    seccache.write_json_atomic(seccache.meta_path(path), _meta(url, r, {
        "cik": target.cik, "ticker": target.ticker, "entity_name": cf.entity_name,
        "latest_filed": cf.latest_filed, "bytes": len(r.content)}))
    return Outcome(target, "updated",
                   f"{cf.entity_name or 'CIK ' + str(target.cik)}: {len(cf.annual)} annual and "
                   f"{len(cf.quarterly)} quarterly figures, latest filing {cf.latest_filed or 'n/a'}",
                   cf.latest_filed)


def fetch(tickers: Iterable[str] = (), ciks: Iterable[int] = (), *,
          settings: SecSettings | None = None, transport: object | None = None) -> FetchReport:
    """Fetch companies into the cache; see :func:`fetch_company`. Raises :class:`ArgumentError`
    before any request when the user agent is missing, and :class:`FetchError` when a needed
    ticker map cannot be had; per-company failures are in the report."""
    settings = settings or SecSettings.from_env()
    settings.require_user_agent()
    tickers, ciks = list(tickers), list(ciks)
    if not tickers and not ciks:
        raise ArgumentError("nothing to fetch: give --tickers, --cik or --all-covered")
    root = settings.cache_dir
    report = FetchReport()
    with seccache.locked(root), SecClient(settings, transport=transport) as client:
        targets, problems = resolve_targets(
            tickers, ciks, ticker_rows=lambda: _ticker_map_rows(client, root))
        for problem in problems:
            report.outcomes.append(Outcome(Target(0, problem.split(":")[0]), "failed",
                                           problem.split(": ", 1)[1]))
        for target in targets:
            report.outcomes.append(fetch_company(client, root, target))
        _record(root, report)
    return report


def _record(root: Path, report: FetchReport) -> None:
    """Remember each company's last fetch outcome (data commands report a failed one)."""
    doc = seccache.last_fetch(root)
    at = seccache.now_text()
    for o in report.outcomes:
        doc[o.target.ticker] = {"at": at, "ok": o.status != "failed", "error":
                                o.message if o.status == "failed" else ""}
    seccache.write_json_atomic(seccache.last_fetch_path(root), doc)
