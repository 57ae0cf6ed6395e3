"""Transport layer shared by every network loader: one polite, retrying, caching HTTP client.

Every request RegionAir makes goes through :class:`HttpClient`:

* a :class:`requests.Session` with a descriptive ``User-Agent`` (contact from the environment
  variable ``REGIONAIR_CONTACT``);
* explicit ``(connect, read)`` timeouts on every request, and an overall ``deadline`` per call
  (all attempts, waits and body reads): a source that drips bytes slower than it takes to trip the
  read timeout is cut off when the deadline passes (its sockets are shut down by a watchdog);
* :meth:`HttpClient.cancel` (``watch`` on SIGTERM) stops the call in flight and every later one
  with :class:`~regionair.errors.Cancelled`; back-off sleeps wake up for it;
* bounded retries with exponential back-off and jitter on timeouts, connection errors,
  truncated bodies, HTTP 429 and HTTP 5xx; ``Retry-After`` (delta-seconds or HTTP date) is
  honoured, and a server asking for a longer wait than ``max_retry_after`` or than the deadline
  leaves ends the call at once with a :class:`~regionair.errors.SourceError` instead of blocking
  the caller;
* a polite minimum interval between requests (sources.md §1a/§1b ask for "≤ a few req/s");
* HTTP 404 raised as :class:`~regionair.errors.NotPublished` (a gap, not a failure: an hour the
  CNEMC archive never published, a quotsoft day not yet uploaded);
* truncated bodies (``Content-Length`` mismatch) and HTML error pages served where CSV/JSON was
  expected detected and refused;
* an on-disk cache for *immutable* responses (old archive files), written atomically, served
  without any request the next time.

The client is not thread-safe; use one per thread.

References
----------
sources.md §0 (pitfalls), §1a (GitHub raw archive: "be polite, retry with back-off on 429/5xx"),
§1b (quotsoft: "≤2 concurrent requests, cache, retry 404 later"), §2 (Open-Meteo limits, HTTP 429,
HTTP 400 with a JSON ``reason``), §4 (WAQI token in the query string — redacted in messages).
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from regionair import __version__
from regionair.errors import Cancelled, InputError, NotPublished, SourceError

__all__ = [
    "HttpClient",
    "ClientStats",
    "default_user_agent",
    "parse_retry_after",
    "redact_url",
]

log = logging.getLogger(__name__)

#: Query parameters whose values never appear in messages or logs.
SECRET_PARAMS = frozenset({"token", "apikey", "api_key", "key", "access_token"})

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
_HTML_PREFIXES = (b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")
_CACHE_KEY_RE = re.compile(r"^[A-Za-z0-9._\-/]+$")


_SECRET_IN_TEXT = re.compile(r"([?&;](?:" + "|".join(sorted(SECRET_PARAMS)) + r")=)[^&\s\"']+", re.IGNORECASE)


class _RedactSecrets(logging.Filter):
    """Redact secret query parameters in urllib3's own DEBUG lines (``"GET /feed?token=… HTTP/1.1"``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except (TypeError, ValueError):
            return True
        red = _SECRET_IN_TEXT.sub(r"\1***", msg)
        if red != msg:
            record.msg, record.args = red, ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSecrets())


def default_user_agent() -> str:
    """Return the descriptive ``User-Agent`` RegionAir sends.

    Returns
    -------
    str
        ``RegionAir/<version> (+air-quality dashboard; contact: <REGIONAIR_CONTACT>)``; the
        contact falls back to the literal hint ``set REGIONAIR_CONTACT``.
    """
    contact = os.environ.get("REGIONAIR_CONTACT", "").strip() or "set REGIONAIR_CONTACT"
    return f"RegionAir/{__version__} (+air-quality dashboard; contact: {contact})"


def redact_url(url: str) -> str:
    """Return ``url`` with the values of secret query parameters (``token``, ``apikey`` …) replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe=",:/*")))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse an HTTP ``Retry-After`` header.

    Parameters
    ----------
    value : str or None
        Header value: delta-seconds (``"120"``) or an HTTP date
        (``"Wed, 21 Oct 2015 07:28:00 GMT"``), RFC 9110 §10.2.3.
    now : datetime, optional
        Reference instant for an HTTP date (default: current UTC time).

    Returns
    -------
    float or None
        Seconds to wait [s], ≥ 0; ``None`` when the header is absent or unparseable.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass
class ClientStats:
    """Counters of one :class:`HttpClient` (for logs and the ingest report).

    Attributes
    ----------
    requests : int
        HTTP requests sent (attempts, including retries).
    retries : int
        Attempts that were repeated after a transient failure.
    cache_hits : int
        Responses served from the disk cache without a request.
    not_published : int
        404 responses (gaps).
    failures : int
        Calls that ended in :class:`~regionair.errors.SourceError`.
    """

    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    not_published: int = 0
    failures: int = 0


class _Transient(Exception):
    """Internal: a failure worth retrying."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


def _shutdown(sock) -> None:
    """Shut a socket down for reading and writing: a read blocked on it (in any thread) returns at once.

    The plain ``socket.socket.shutdown`` is called, also on TLS sockets (their own ``shutdown`` would
    touch the TLS state another thread is reading with).
    """
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError, ValueError):
        pass


class _TrackingAdapter(HTTPAdapter):
    """A requests adapter whose connections report their socket to ``track`` before reading an answer.

    The answer's status line, headers and body are all read after ``getresponse`` starts, so every
    read of a response happens on a socket the client can shut down (deadline, cancel).
    """

    def __init__(self, track: Callable[[object], None], **kw):
        self._track = track
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self._instrument(self.poolmanager)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        self._instrument(manager)
        return manager

    def _instrument(self, manager) -> None:
        if getattr(manager, "_regionair_tracked", False):
            return
        track = self._track
        classes = {}
        for scheme, pool_cls in manager.pool_classes_by_scheme.items():
            base_conn = pool_cls.ConnectionCls

            def getresponse(self, *a, _base=base_conn, **kw):
                if self.sock is not None:
                    track(self.sock)
                return _base.getresponse(self, *a, **kw)

            conn_cls = type(f"Tracked{base_conn.__name__}", (base_conn,), {"getresponse": getresponse})
            classes[scheme] = type(f"Tracked{pool_cls.__name__}", (pool_cls,), {"ConnectionCls": conn_cls})
        manager.pool_classes_by_scheme = classes
        manager._regionair_tracked = True

    def __setstate__(self, state):  # pragma: no cover - pickling (requests supports it)
        self._track = lambda sock: None
        super().__setstate__(state)


class HttpClient:
    """Polite HTTP GET client with timeouts, bounded retries, rate limiting and a disk cache.

    Parameters
    ----------
    base_timeout : tuple of float
        ``(connect, read)`` timeouts [s] passed to every request. The read timeout bounds each
        socket read, not the whole transfer.
    retries : int
        Retries after the first attempt (so at most ``retries + 1`` requests per call).
    backoff : float
        Back-off base [s]: the wait before retry ``n`` (0-based) is
        ``min(max_backoff, backoff · 2**n) + backoff · jitter()``.
    min_interval : float
        Minimum time [s] between the starts of two requests (polite rate limit).
    user_agent : str, optional
        ``User-Agent`` header; default :func:`default_user_agent`.
    cache_dir : str or Path, optional
        Folder of the immutable-response cache; ``None`` disables caching.
    max_retry_after : float
        Longest ``Retry-After`` [s] the client will wait; a server asking for more ends the call
        with :class:`~regionair.errors.SourceError` (status 429/503) so a batch job can resume
        later instead of hanging.
    max_backoff : float
        Cap [s] of the exponential part of the back-off.
    max_bytes : int
        Largest response body accepted [bytes]; larger bodies raise ``SourceError``.
    deadline : float
        Longest time [s] one :meth:`get` may take, all attempts, waits and body reads included
        (default 300). When it passes, the sockets of the attempt in flight are shut down and the call
        ends with :class:`~regionair.errors.SourceError` naming the deadline; a ``Retry-After`` or
        back-off longer than what is left is not waited.
    sleep, clock, jitter : callable
        Injectable ``time.sleep``, ``time.monotonic`` and ``random.random`` (tests use fakes so
        retry tests run instantly and sleeps can be asserted).
    session : requests.Session, optional
        Session to use (default: a new one).

    Examples
    --------
    >>> client = HttpClient(cache_dir="data/cache")               # doctest: +SKIP
    >>> body = client.get(url, cache_key="cnemc-archive/2022-01-01/2022-01-01T00.csv",
    ...                   immutable=True)                         # doctest: +SKIP
    """

    def __init__(
        self,
        base_timeout: tuple[float, float] = (5, 30),
        retries: int = 4,
        backoff: float = 1.0,
        min_interval: float = 0.5,
        user_agent: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        *,
        max_retry_after: float = 120.0,
        max_backoff: float = 60.0,
        max_bytes: int = 256 * 1024 * 1024,
        deadline: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        session: requests.Session | None = None,
    ):
        if retries < 0:
            raise InputError(f"retries must be ≥ 0, got {retries}")
        if len(tuple(base_timeout)) != 2 or min(base_timeout) <= 0:
            raise InputError(f"base_timeout must be (connect, read) seconds > 0, got {base_timeout!r}")
        if not deadline or deadline <= 0:
            raise InputError(f"deadline must be a number of seconds > 0, got {deadline!r}", column="deadline")
        self.timeout = tuple(float(t) for t in base_timeout)
        self.deadline = float(deadline)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.min_interval = float(min_interval)
        self.max_retry_after = float(max_retry_after)
        self.max_backoff = float(max_backoff)
        self.max_bytes = int(max_bytes)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent or default_user_agent()
        adapter = _TrackingAdapter(self._track_socket)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.stats = ClientStats()
        self._last_request: float | None = None
        # sockets of the attempt in flight (shut down by the deadline watchdog or cancel()); a set
        # mutated with single GIL-atomic operations only, so cancel() is safe in a signal handler
        self._socks: set = set()
        self._cancelled = False
        self._expired = False

    # ------------------------------------------------------------------ deadline and cancel
    def _track_socket(self, sock) -> None:
        self._socks.add(sock)
        if self._cancelled or self._expired:  # cancelled between two attempts
            _shutdown(sock)

    def _cut(self) -> None:
        for sock in list(self._socks):
            _shutdown(sock)

    def _expire(self) -> None:
        self._expired = True
        self._cut()

    def cancel(self) -> None:
        """Stop the call in flight and every later call with :class:`~regionair.errors.Cancelled`.

        Safe from another thread and from a signal handler (no lock is taken): the sockets in use are
        shut down, so a blocked read returns at once, and back-off sleeps wake within 0.1 s.
        """
        self._cancelled = True
        self._cut()

    @property
    def cancelled(self) -> bool:
        """``True`` once :meth:`cancel` was called."""
        return self._cancelled

    def _check_cancelled(self) -> None:
        if self._cancelled:
            raise Cancelled("HTTP request cancelled")

    def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` [s]; the real sleep is taken in 0.1 s slices so that cancel() wakes it."""
        self._check_cancelled()
        if self.sleep is time.sleep:
            end = time.monotonic() + seconds
            while not self._cancelled:
                left = end - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(0.1, left))
        else:
            self.sleep(seconds)
        self._check_cancelled()

    # ------------------------------------------------------------------ context manager
    def close(self) -> None:
        """Close the underlying session."""
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ cache
    def cache_path(self, cache_key: str) -> Path:
        """Return the file that caches ``cache_key``.

        Raises
        ------
        InputError
            No cache folder configured, or the key is not a safe relative path
            (letters, digits, ``._-/``; no ``..``; not absolute).
        """
        if self.cache_dir is None:
            raise InputError("this HttpClient has no cache_dir", column="cache_dir")
        pure = PurePosixPath(cache_key)
        if (
            not _CACHE_KEY_RE.match(cache_key)
            or pure.is_absolute()
            or any(part in ("", ".", "..") for part in cache_key.split("/"))
        ):
            raise InputError(
                f"unsafe cache key {cache_key!r}: use a relative path of letters, digits and ._-/ without '..'",
                column="cache_key",
            )
        return self.cache_dir.joinpath(*pure.parts)

    def cached(self, cache_key: str) -> bool:
        """``True`` if ``cache_key`` is in the disk cache."""
        return self.cache_dir is not None and self.cache_path(cache_key).is_file()

    def evict(self, cache_key: str) -> None:
        """Remove ``cache_key`` from the disk cache (e.g. a cached file that failed to parse)."""
        if self.cache_dir is None:
            return
        try:
            self.cache_path(cache_key).unlink()
        except FileNotFoundError:
            pass

    def _cache_write(self, path: Path, body: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    # ------------------------------------------------------------------ requests
    def _wait_polite(self) -> None:
        if self._last_request is not None and self.min_interval > 0:
            wait = self.min_interval - (self.clock() - self._last_request)
            if wait > 0:
                self._pause(wait)
        self._last_request = self.clock()

    def _backoff_delay(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * (2**attempt)) + self.backoff * float(self.jitter())

    def _read_body(self, resp: requests.Response, shown: str) -> bytes:
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in resp.iter_content(chunk_size=65536):
                total += len(chunk)
                if total > self.max_bytes:
                    raise SourceError(
                        f"{shown}: response larger than {self.max_bytes} bytes; refusing it "
                        "(raise HttpClient(max_bytes=...) if this is expected)",
                        url=shown,
                        status=resp.status_code,
                    )
                chunks.append(chunk)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            raise _Transient(f"truncated or corrupt body after {total} bytes ({exc})", status=resp.status_code) from exc
        except (requests.ConnectionError, requests.Timeout, Urllib3HTTPError) as exc:
            raise _Transient(f"connection broke while reading the body after {total} bytes ({exc})", status=resp.status_code) from exc
        body = b"".join(chunks)
        declared = resp.headers.get("Content-Length")
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        if declared and declared.isdigit() and encoding in ("", "identity") and int(declared) != len(body):
            raise _Transient(
                f"truncated body: Content-Length {declared} but {len(body)} bytes received",
                status=resp.status_code,
            )
        return body

    @staticmethod
    def _check_not_html(resp: requests.Response, body: bytes, shown: str, expect: str | None) -> None:
        ctype = resp.headers.get("Content-Type", "").lower()
        head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if "text/html" in ctype or head.startswith(_HTML_PREFIXES):
            snippet = body[:200].decode("utf-8", errors="replace").replace("\n", " ")
            raise SourceError(
                f"{shown}: got an HTML page where {expect or 'data'} was expected "
                f"(an error, login or rate-limit page?); first bytes: {snippet!r}",
                url=shown,
                status=resp.status_code,
            )

    @staticmethod
    def _error_detail(resp: requests.Response) -> str:
        try:
            text = resp.content[:2000].decode("utf-8", errors="replace")
        except (requests.RequestException, Urllib3HTTPError):
            return ""
        try:
            payload = json.loads(text)
        except ValueError:
            return text[:300].replace("\n", " ").strip()
        if isinstance(payload, Mapping):
            for key in ("reason", "message", "error", "data"):
                if isinstance(payload.get(key), str):
                    return payload[key]
        return text[:300]

    def get(
        self,
        url: str,
        params: Mapping[str, object] | None = None,
        *,
        cache_key: str | None = None,
        immutable: bool = False,
        expect: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """GET ``url`` and return the body.

        Parameters
        ----------
        url : str
            Absolute URL.
        params : mapping, optional
            Query parameters (encoded by :mod:`requests`, in the given order).
        cache_key : str, optional
            Relative path of the response in the disk cache (e.g.
            ``"cnemc-archive/2022-01-01/2022-01-01T00.csv"``). Used only with ``immutable=True``.
        immutable : bool
            The resource never changes: serve it from the cache if present, store it after a
            successful download (atomic write). Never set this for forecasts or "latest" data.
        expect : {"csv", "json", "text"}, optional
            What the body should be; only used in messages (an HTML page is refused whatever
            ``expect`` says).
        headers : mapping, optional
            Extra request headers.

        Returns
        -------
        bytes
            The response body, complete (length checked against ``Content-Length``).

        Raises
        ------
        NotPublished
            HTTP 404: the resource does not exist (yet). Not retried, not cached.
        SourceError
            Any other failure once the retries are spent (timeouts, connection errors,
            truncated bodies, 429/5xx), a non-retryable status (4xx other than 404/429, with the
            server's ``reason`` when it gives one), a ``Retry-After`` longer than
            ``max_retry_after``, an HTML page, or a body larger than ``max_bytes``.
            ``.url`` (secrets redacted) and ``.status`` are set.
        """
        cache_file = None
        if immutable and cache_key and self.cache_dir is not None:
            cache_file = self.cache_path(cache_key)
            if cache_file.is_file():
                self.stats.cache_hits += 1
                log.debug("cache hit %s", cache_key)
                return cache_file.read_bytes()

        full = requests.Request("GET", url, params=params).prepare().url or url
        shown = redact_url(full)
        self._check_cancelled()
        end = self.clock() + self.deadline
        last: _Transient | None = None
        attempts = 0
        for attempt in range(self.retries + 1):
            self._wait_polite()
            attempts += 1
            self.stats.requests += 1
            try:
                body = self._attempt_with_deadline(url, params, headers, shown, expect, end)
            except _Transient as exc:
                last = exc
            except NotPublished:
                self.stats.not_published += 1
                raise
            except SourceError:
                self.stats.failures += 1
                raise
            else:
                if cache_file is not None:
                    try:
                        self._cache_write(cache_file, body)
                    except OSError as exc:  # a full/read-only cache disk must not lose the data
                        log.warning("could not cache %s in %s (%s); continuing without the cache",
                                    cache_key, self.cache_dir, exc.strerror or exc)
                return body

            if last.retry_after is not None and last.retry_after > self.max_retry_after:
                self.stats.failures += 1
                raise SourceError(
                    f"{shown}: {last.reason}; the server asks to wait {last.retry_after:.0f} s "
                    f"(more than the {self.max_retry_after:.0f} s this client waits) — try again later",
                    url=shown,
                    status=last.status,
                )
            if attempt == self.retries:
                break
            delay = last.retry_after if last.retry_after is not None else self._backoff_delay(attempt)
            left = end - self.clock()
            if delay >= left:
                self.stats.failures += 1
                asked = "the server asks to wait" if last.retry_after is not None else "the next retry is due in"
                raise SourceError(
                    f"{shown}: {last.reason}; {asked} {delay:.0f} s, more than the {max(left, 0):.0f} s left "
                    f"of the {self.deadline:.0f} s deadline of this request — try again later",
                    url=shown,
                    status=last.status,
                )
            self.stats.retries += 1
            log.warning("%s: %s; retry %d/%d in %.1f s", shown, last.reason, attempt + 1, self.retries, delay)
            self._pause(delay)

        self.stats.failures += 1
        assert last is not None
        raise SourceError(
            f"{shown}: giving up after {attempts} attempt(s): {last.reason}",
            url=shown,
            status=last.status,
        )

    def _attempt_with_deadline(self, url, params, headers, shown, expect, end: float) -> bytes:
        """One attempt under a watchdog that shuts its sockets down when the call's deadline passes."""
        left = end - self.clock()
        self._expired = False
        if left <= 0:
            self._expired = True
        watchdog = threading.Timer(max(left, 0.0), self._expire)
        watchdog.daemon = True
        try:
            if not self._expired:
                watchdog.start()
                body = self._attempt(url, params, headers, shown, expect)
                if not self._expired:
                    return body
        except _Transient:
            if not (self._expired or self._cancelled):
                raise
        except (SourceError, requests.RequestException, Urllib3HTTPError, OSError):
            if not (self._expired or self._cancelled):
                raise
        finally:
            watchdog.cancel()
            self._socks.clear()
        self._check_cancelled()
        raise SourceError(
            f"{shown}: no complete answer within the {self.deadline:.0f} s deadline of this request; "
            "the source is stalling or too slow — try again later",
            url=shown,
        )

    def _attempt(self, url, params, headers, shown, expect) -> bytes:
        try:
            resp = self.session.get(url, params=params, headers=headers, timeout=self.timeout, stream=True)
        except requests.Timeout as exc:
            raise _Transient(f"timed out ({type(exc).__name__}, timeouts {self.timeout} s)") from exc
        except requests.ConnectionError as exc:
            raise _Transient(f"connection failed ({exc})") from exc
        except requests.RequestException as exc:  # invalid URL, too many redirects…
            raise SourceError(f"{shown}: request failed: {exc}", url=shown) from exc
        with resp:
            status = resp.status_code
            if status == 404:
                raise NotPublished(f"{shown}: not published (HTTP 404)", url=shown, status=404)
            if status in _RETRY_STATUS:
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                label = "rate limited (HTTP 429)" if status == 429 else f"server error (HTTP {status})"
                raise _Transient(label, status=status, retry_after=retry_after)
            if status >= 400:
                detail = self._error_detail(resp)
                raise SourceError(
                    f"{shown}: HTTP {status}" + (f": {detail}" if detail else ""),
                    url=shown,
                    status=status,
                )
            body = self._read_body(resp, shown)
            self._check_not_html(resp, body, shown, expect)
            return body

    def get_json(
        self,
        url: str,
        params: Mapping[str, object] | None = None,
        *,
        cache_key: str | None = None,
        immutable: bool = False,
        headers: Mapping[str, str] | None = None,
    ):
        """GET ``url`` and decode a JSON body.

        Same parameters and errors as :meth:`get`; additionally raises
        :class:`~regionair.errors.SourceError` when the body is not valid JSON (and evicts it from
        the cache if it came from there).
        """
        body = self.get(url, params, cache_key=cache_key, immutable=immutable, expect="json", headers=headers)
        try:
            return json.loads(body)
        except ValueError as exc:
            if immutable and cache_key:
                self.evict(cache_key)
            shown = redact_url(requests.Request("GET", url, params=params).prepare().url or url)
            raise SourceError(f"{shown}: response is not valid JSON ({exc})", url=shown) from exc
