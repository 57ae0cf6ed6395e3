"""Transport for the CNEMC hourly archive: over HTTP (one file per hour) and from local files.

The archive (sources.md §1a, GitHub ``HeQinWill/CNEMC``) stores one CSV per Beijing hour::

    {base}/{YYYY-MM-DD}/{YYYY-MM-DD}T{HH}.csv
    https://raw.githubusercontent.com/HeQinWill/CNEMC/main/Archive/2022-01-01/2022-01-01T00.csv

The file ``2022-01-01T00.csv`` holds the values stamped 2022-01-01 00:00 Beijing time, i.e. the
hour-ending means of 2021-12-31 23:00–24:00 (standards.md §6.1) — the URL uses the stamp as is.

Parsing is the lead's :func:`regionair.sources.cnemc_archive.parse_archive`; this module only
moves bytes. A 404 is a *gap* (the hour was never published or not yet archived, sources.md §1a
lists known ones), reported in the result, never an exception. Old files are cached on disk
(immutable); the last two days are always re-fetched because the archive back-fills and revises
them in daily batches.
"""

from __future__ import annotations

import logging
import os
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from regionair.core.nomenclature import TZ, beijing_time
from regionair.errors import InputError, NotPublished, SourceError
from regionair.sources.cnemc_archive import MAX_FILE_BYTES_ENV, max_file_bytes, parse_archive
from regionair.sources.http import HttpClient
from regionair.sources.plausibility import check_size

__all__ = [
    "DEFAULT_BASE_URL",
    "HourResult",
    "archive_url",
    "archive_cache_key",
    "resolve_base_url",
    "beijing_hours",
    "fetch_archive_hours",
    "iter_local_archive",
    "read_local_archive",
]

log = logging.getLogger(__name__)

#: Public GitHub archive (sources.md §1a; branch ``main`` confirmed by the README link).
DEFAULT_BASE_URL = "https://raw.githubusercontent.com/HeQinWill/CNEMC/main/Archive"
#: Environment variable overriding the base URL (a mirror, or a local test server).
BASE_URL_ENV = "REGIONAIR_CNEMC_BASE_URL"
#: Hours younger than this are never cached: the archive back-fills the last ~24 h once a day.
MUTABLE_WINDOW = pd.Timedelta(hours=48)
#: Largest archive member accepted from a zip [bytes] (a real hourly file is ~200 kB).
MAX_MEMBER_BYTES = 64 * 1024 * 1024
#: Largest compression ratio accepted for a zip member (zip-bomb guard; CSV compresses ~5–10×).
MAX_MEMBER_RATIO = 100


@dataclass(frozen=True)
class HourResult:
    """One archive hour.

    Attributes
    ----------
    hour : pandas.Timestamp
        Beijing hour-ending stamp (tz ``Asia/Shanghai``).
    frame : DataFrame or None
        Canonical hourly frame for that file (filtered to ``stations`` if given), ``None`` for a gap.
    gap_reason : str or None
        Why there is no data (``"not published (HTTP 404)"``, or the error with ``on_error="gap"``).
    url : str
        The URL requested.
    """

    hour: pd.Timestamp
    frame: pd.DataFrame | None
    gap_reason: str | None
    url: str

    @property
    def is_gap(self) -> bool:
        return self.frame is None


def resolve_base_url(base: str | None = None) -> str:
    """Resolve the archive base URL: argument, else ``$REGIONAIR_CNEMC_BASE_URL``, else :data:`DEFAULT_BASE_URL`."""
    url = base or os.environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
    return url.rstrip("/")


def _beijing_hour(value, what: str = "hour") -> pd.Timestamp:
    ts = beijing_time(value, what)
    if ts != ts.floor("h"):
        raise InputError(
            f"{what} {ts.isoformat()} is not on the hour; archive files are hourly (Beijing hour-ending stamps)",
            column=what,
        )
    return ts


def beijing_hours(start, end) -> pd.DatetimeIndex:
    """Hourly Beijing stamps from ``start`` to ``end`` inclusive.

    Naive inputs are Beijing time; aware inputs are converted. Both must be on the hour.

    Raises
    ------
    InputError
        Not a time, not on the hour, or ``end`` before ``start``.
    """
    s, e = _beijing_hour(start, "start"), _beijing_hour(end, "end")
    if e < s:
        raise InputError(f"end {e.isoformat()} is before start {s.isoformat()}", column="end")
    return pd.date_range(s, e, freq="h")


def archive_url(hour, base_url: str | None = None) -> str:
    """URL of the archive file for one Beijing hour-ending stamp.

    Parameters
    ----------
    hour : datetime-like
        Hour-ending stamp; naive = Beijing time, aware = converted to Beijing time.
    base_url : str, optional
        Archive root (``…/Archive``); default from ``$REGIONAIR_CNEMC_BASE_URL`` or
        :data:`DEFAULT_BASE_URL`.

    Returns
    -------
    str
        ``{base}/{YYYY-MM-DD}/{YYYY-MM-DD}T{HH}.csv``.

    Examples
    --------
    >>> archive_url("2022-01-01 00:00")
    'https://raw.githubusercontent.com/HeQinWill/CNEMC/main/Archive/2022-01-01/2022-01-01T00.csv'
    >>> archive_url(pd.Timestamp("2021-12-31T16:00Z"))   # 00:00 Beijing
    'https://raw.githubusercontent.com/HeQinWill/CNEMC/main/Archive/2022-01-01/2022-01-01T00.csv'
    """
    ts = _beijing_hour(hour)
    day = ts.strftime("%Y-%m-%d")
    return f"{resolve_base_url(base_url)}/{day}/{day}T{ts:%H}.csv"


def archive_cache_key(hour) -> str:
    """Disk-cache key of an hour: ``cnemc-archive/{D}/{D}T{HH}.csv``.

    The cache folder mirrors the archive layout, so it is itself a valid ``--path`` folder for
    :func:`iter_local_archive`.
    """
    ts = _beijing_hour(hour)
    day = ts.strftime("%Y-%m-%d")
    return f"cnemc-archive/{day}/{day}T{ts:%H}.csv"


def fetch_archive_hours(
    start,
    end,
    *,
    client: HttpClient,
    base_url: str | None = None,
    stations: Iterable[str] | None = None,
    on_error: str = "raise",
    now=None,
) -> Iterator[HourResult]:
    """Download and parse the archive hour by hour.

    Parameters
    ----------
    start, end : datetime-like
        First and last Beijing hour-ending stamps (inclusive, on the hour).
    client : HttpClient
        Transport (timeouts, retries, rate limit, cache).
    base_url : str, optional
        Archive root; see :func:`archive_url`.
    stations : iterable of str, optional
        Keep only these station codes (e.g. the region's stations).
    on_error : {"raise", "gap"}
        What to do when a file cannot be downloaded (after retries) or parsed: raise
        :class:`~regionair.errors.SourceError`, or yield it as a gap with the reason. A 404 is
        always a gap.
    now : datetime-like, optional
        Current time (tests); hours older than ``now − 48 h`` are cached as immutable.

    Yields
    ------
    HourResult
        One per hour, in time order. Results already yielded stay valid if a later hour raises.

    Raises
    ------
    InputError
        Bad ``start``/``end``/``on_error``.
    SourceError
        With ``on_error="raise"``: a transport failure, or a file that does not parse (the
        underlying :class:`~regionair.errors.InputError` is chained; a cached copy is evicted).
    """
    from regionair.sources.cnemc_archive import parse_archive  # lead's parser

    if on_error not in ("raise", "gap"):
        raise InputError(f"on_error must be 'raise' or 'gap', got {on_error!r}", column="on_error")
    hours = beijing_hours(start, end)
    keep = None if stations is None else ({stations} if isinstance(stations, str) else set(stations))
    now_ts = pd.Timestamp.now(tz=TZ) if now is None else beijing_time(now, "now")
    for hour in hours:
        url = archive_url(hour, base_url)
        key = archive_cache_key(hour)
        immutable = hour < now_ts - MUTABLE_WINDOW
        try:
            body = client.get(url, cache_key=key, immutable=immutable, expect="csv")
        except NotPublished:
            log.info("archive hour %s not published (404)", hour)
            yield HourResult(hour, None, "not published (HTTP 404)", url)
            continue
        except SourceError as exc:
            if on_error == "raise":
                raise
            yield HourResult(hour, None, f"download failed: {exc}", url)
            continue
        try:
            frame = parse_archive(body, url, stations=keep)
        except InputError as exc:
            client.evict(key)
            if on_error == "raise":
                raise SourceError(f"{url}: the archive file does not parse: {exc}", url=url) from exc
            yield HourResult(hour, None, f"unreadable file: {exc}", url)
            continue
        if len(frame):
            other = frame["time"] != hour
            if other.any():
                warnings.warn(
                    f"{url}: {int(other.sum())} row(s) stamped with another hour than the file name "
                    f"(e.g. {frame.loc[other, 'time'].iloc[0]}); kept as stamped",
                    stacklevel=2,
                )
        yield HourResult(hour, frame, None, url)


def _skip(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _iter_zip(path: Path, label: str) -> Iterator[tuple[str, bytes]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a readable zip file ({exc})", path=label) from None
    with zf:
        members = sorted(
            (i for i in zf.infolist() if not i.is_dir() and not _skip(i.filename)),
            key=lambda i: i.filename,
        )
        for info in members:
            lower = info.filename.lower()
            if lower.endswith(".zip"):
                warnings.warn(f"{label}: nested zip {info.filename} skipped; unpack it first", stacklevel=3)
                continue
            if not lower.endswith(".csv"):
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > MAX_MEMBER_BYTES or ratio > MAX_MEMBER_RATIO:
                raise InputError(
                    f"member {info.filename} expands to {info.file_size} bytes (ratio {ratio:.0f}); "
                    f"refusing it (limits {MAX_MEMBER_BYTES} bytes, ratio {MAX_MEMBER_RATIO}) — not an archive file",
                    path=label,
                )
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise InputError(f"member {info.filename} cannot be read ({exc})", path=label) from None
            yield f"{label}:{info.filename}", data


def iter_local_archive(path) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, bytes)`` for every archive CSV under ``path``.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` file, a ``.zip`` of archive files, or a folder searched recursively for
        ``*.csv`` and ``*.zip`` (hidden files and ``__MACOSX`` skipped), in sorted path order.

    Yields
    ------
    (str, bytes)
        A name for messages (``file.csv`` or ``bundle.zip:2022-01-01/2022-01-01T00.csv``) and
        the file content.

    Raises
    ------
    InputError
        The path does not exist, has another extension, is an unreadable zip, or a zip member
        exceeds the size/ratio limits (zip-bomb guard).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", path=p)
    if p.is_dir():
        files = sorted(
            (f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in (".csv", ".zip")
             and not _skip(str(f.relative_to(p)))),
            key=lambda f: f.relative_to(p).as_posix(),
        )
        for f in files:
            yield from iter_local_archive(f)
        return
    suffix = p.suffix.lower()
    if suffix == ".csv":
        check_size(p, max_file_bytes(), what="archive file", env=MAX_FILE_BYTES_ENV)  # before reading it
        try:
            yield str(p), p.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror}", path=p) from None
    elif suffix == ".zip":
        yield from _iter_zip(p, str(p))
    else:
        raise InputError(f"expected a .csv file, a .zip of them or a folder, got {p.suffix or 'no extension'!r}", path=p)


def read_local_archive(path, *, stations: Iterable[str] | None = None) -> pd.DataFrame:
    """Read every archive file under ``path`` (file, folder or zip) into one canonical frame.

    Duplicate station-hours across files keep the last file in path order.

    Raises
    ------
    InputError
        From :func:`iter_local_archive` or from the parser (file, line and column named);
        nothing partial is returned.
    """

    keep = None if stations is None else ({stations} if isinstance(stations, str) else set(stations))
    frames = []
    for name, data in iter_local_archive(path):
        frames.append(parse_archive(data, name, stations=keep))
    if not frames:
        raise InputError("no archive .csv files found", path=path)
    out = pd.concat(frames, ignore_index=True)
    out = out.drop_duplicates(["station", "time"], keep="last")
    return out.sort_values(["time", "station"], kind="stable").reset_index(drop=True)
