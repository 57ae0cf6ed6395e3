"""Ingestion: sources → store, and the ``ingest``/``export``/``status``/``watch`` commands.

Every write goes through :class:`regionair.store.Store`, which commits each batch atomically: a
failed or killed run leaves the store as it was after its last committed batch, and a re-run
completes the range (already stored hours are skipped unless ``--refresh``).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import os
import signal
import sys
import threading
import time
import tomllib
import uuid
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from regionair.core import region
from regionair.core.nomenclature import SOURCE_PRECEDENCE, TZ, parse_time
from regionair.errors import Cancelled, InputError, RegionairError, SourceError, StoreError
from regionair.render.tables import write_table
from regionair.sources.cnemc_archive import parse_archive, select_rows, station_set
from regionair.sources.cnemc_http import beijing_hours, fetch_archive_hours, iter_local_archive
from regionair.sources.http import HttpClient
from regionair.sources.openmeteo import get_air_quality, get_weather
from regionair.sources.plausibility import (
    PlausibilityWarning,
    check_size,
    clock_skew,
    refusal_summary,
    take_refusals,
    with_refusals,
)
from regionair.sources.quotsoft import daily_url, get_quotsoft, read_quotsoft
from regionair.sources.upload import preview_upload, upload_max_bytes
from regionair.store import Store
from regionair.warnings.alerts import Notifier, Rule, alert_paths, events_from_report, load_targets
from regionair.warnings.desk import warnings_report

log = logging.getLogger("regionair.pipeline.ingest")

SOURCES = ("cnemc-archive", "quotsoft", "open-meteo", "upload")
#: Archive files committed per store batch when reading a folder (three days of hourly files: fewer,
#: larger commits — measured 24 → 72 files: national-month ingest 11.5 → 9.3 s, bench/REPORT.md).
BATCH_FILES = 72


@dataclass
class RunSummary:
    """What one ingest run did (printed by the CLI, logged in the store)."""

    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    gaps: int = 0
    files: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    new_stations: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    #: values and rows refused at the loader edge (:class:`regionair.sources.plausibility.Refusal`)
    refused: list = field(default_factory=list)
    #: upload findings kept but flagged (e.g. PM2.5 > PM10, unknown station), as "file, line …: message"
    flagged: list[str] = field(default_factory=list)

    def add(self, result) -> None:
        self.added += result.added
        self.updated += result.updated
        self.unchanged += result.unchanged
        self.rejected += result.rejected

    def text(self) -> str:
        s = (f"{self.source}: added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
             f"rejected {self.rejected}, gaps {self.gaps}, files {self.files}, skipped {self.skipped}"
             + (f", refused {len(self.refused)}" if self.refused else "")
             + f" ({self.duration_s:.1f} s)")
        if self.new_stations:
            s += f"\nnew stations (added to the catalogue for review): {', '.join(self.new_stations)}"
        for e in self.errors[:20]:
            s += f"\nerror: {e}"
        if len(self.errors) > 20:
            s += f"\n… {len(self.errors) - 20} more errors"
        return s


def _progress(i: int, n: int, label: str) -> None:
    if sys.stderr.isatty():
        print(f"\r[{i}/{n or '?'}] {label}", end="", file=sys.stderr, flush=True)


def _note_new_stations(store, frame: pd.DataFrame, summary: RunSummary) -> None:
    """Stations first seen in ingested data go to the store's ``new_stations`` records, flagged for review."""

    new = region.register_new_stations(frame)
    if new.empty:
        return
    known = store.records("new_stations")
    if not known.empty:
        new = new[~new["code"].isin(known["code"])]
    if new.empty:
        return
    store.append_records("new_stations", new.astype(str))
    summary.new_stations.extend(new["code"].tolist())


def _client():

    cache = os.environ.get("REGIONAIR_CACHE") or str(Path(__file__).resolve().parents[2] / "data" / "cache")
    return HttpClient(cache_dir=cache)


def _file_scope(stations) -> str:
    """What a file was ingested for: everything, or a station subset (so a filtered run never hides a file)."""
    if stations is None:
        return "all"
    return "stations:" + hashlib.sha256(",".join(sorted(stations)).encode()).hexdigest()[:16]


def _parse_one(name: str, data: bytes, stations) -> tuple[pd.DataFrame | None, str | None]:

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PlausibilityWarning)  # the refusals travel with the frame (attrs)
            frame = parse_archive(data, name, stations=stations)  # filtered while reading
    except InputError as exc:
        return None, str(exc)
    return frame, None


#: Files whose selected rows are parsed together in a station-filtered (regional) ingest.
SELECTED_CHUNK = 48


def _parse_selected(files, stations):
    """Station-filtered reading: (names, digests, frame, errors) per chunk of files.

    Each file is cut to its wanted rows (:func:`~regionair.sources.cnemc_archive.select_rows`, ≈ 0.5 ms
    for 1,900 stations) and the rows of :data:`SELECTED_CHUNK` files are parsed in one pass, which
    spreads the parser's fixed cost (≈ 5 ms a file) over the chunk. If that pass fails, each file
    of the chunk is parsed on its own, so the error names its file, line and column (the same when
    the pass warns, e.g. of a negative value).
    """

    keep = station_set(stations)
    chunk: list[tuple[str, bytes, str, bytes]] = []

    def parse_chunk():
        names, digests = [c[0] for c in chunk], [c[2] for c in chunk]
        parts = [selected.partition(b"\n") for *_, selected in chunk]  # (header, newline, rows)
        head = parts[0][0]
        if all(p[0] == head for p in parts):
            body = b"".join(p[2] if p[2].endswith(b"\n") or not p[2] else p[2] + b"\n" for p in parts)
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    frame = parse_archive(head + b"\n" + body, names[0], stations=None)
            except InputError:
                pass
            else:
                if not caught:  # a warning (or a refusal) names a file and line: then read file by file, as below
                    return names, digests, frame[frame["station"].isin(keep)].reset_index(drop=True), []
        frames, errors, ok_names, ok_digests = [], [], [], []
        for name, data, digest, _ in chunk:
            frame, error = _parse_one(name, data, keep)
            if error is not None:
                errors.append(error)
            else:
                frames.append(frame)
                ok_names.append(name)
                ok_digests.append(digest)
        refused = [r for f in frames for r in take_refusals(f)]
        return ok_names, ok_digests, with_refusals(pd.concat(frames, ignore_index=True), refused) if frames else None, errors

    for name, data, digest in files:
        chunk.append((name, data, digest, select_rows(data, keep)))
        if len(chunk) >= SELECTED_CHUNK:
            yield parse_chunk()
            chunk.clear()
    if chunk:
        yield parse_chunk()


#: Files parsed in the calling process before a worker pool is worth starting.
POOL_AFTER_FILES = 48
#: How often a parser worker checks that its parent still lives [s] (where PR_SET_PDEATHSIG is missing).
WORKER_WATCH_S = 1.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _worker_init(parent: int) -> None:
    """Initializer of the parser processes: die with the ingest that started them.

    A SIGKILLed parent cannot shut its pool down, and the workers would wait on their queue forever. On
    Linux the kernel sends the worker SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``); the
    parent may already be gone by then, so that is checked once after; elsewhere (and as a second line)
    a daemon thread exits the worker when its parent pid changes.
    """
    import ctypes  # libc's prctl, only in a parser worker on Linux

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the watchdog below remains
            pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WORKER_WATCH_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="regionair-parent-watch", daemon=True).start()


def _parse_files(files, stations, workers: int):
    """(name, digest, frame, error) for each (name, data, digest), in order.

    With ``workers`` > 1 and more than :data:`POOL_AFTER_FILES` files, parsing (two thirds of an archive
    ingest) runs in a process pool while this process writes to the store; a bounded window keeps memory
    flat.
    """

    it = iter(files)
    for _ in range(POOL_AFTER_FILES if workers > 1 else 10**12):
        try:
            name, data, digest = next(it)
        except StopIteration:
            return
        yield (name, digest, *_parse_one(name, data, stations))
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(os.getpid(),)) as pool:
        window: deque = deque()
        for name, data, digest in it:
            window.append((name, digest, pool.submit(_parse_one, name, data, stations)))
            if len(window) >= 4 * workers:
                n, d, fut = window.popleft()
                yield (n, d, *fut.result())
        while window:
            n, d, fut = window.popleft()
            yield (n, d, *fut.result())


def ingest_cnemc_path(store, path, *, run: str, stations=None, refresh: bool = False,
                      workers: int | None = None) -> RunSummary:
    """Archive files from a file, folder or zip; committed per day of files; bad files reported, not stored.

    A file whose exact content (SHA-256) was already ingested for the same scope is skipped without
    parsing, unless ``refresh``; a revised file has another hash and is read again (revisions kept).
    """

    summary = RunSummary("cnemc-archive")
    t0 = time.monotonic()
    workers = min(2, os.cpu_count() or 1) if workers is None else max(1, int(workers))
    scope = _file_scope(stations)
    # a damaged store file is quarantined first and the hashes of the archive files behind it forgotten, so
    # neither the skip-list nor a --refresh merge meets it (regionair.store, "Damaged files")
    store.check(deep=False, repair=True)
    known: set[str] = set()
    if not refresh:
        done = store.records("ingested_files")
        if len(done):
            known = set(done.loc[done["scope"] == scope, "sha256"])
    batch: list[pd.DataFrame] = []
    hashes: list[dict] = []
    seen: list[pd.DataFrame] = []  # one row per station seen, for the catalogue check at the end

    def flush():
        if batch:
            frame = pd.concat(batch, ignore_index=True)
            summary.add(store.ingest_hourly(frame, source="cnemc-archive", run=run))
            seen.append(frame.drop_duplicates("station", keep="last"))
            batch.clear()
        if hashes:  # recorded only after the data they stand for are committed
            try:
                store.append_records("ingested_files", pd.DataFrame(hashes))
            except StoreError as exc:  # only the skip-list is lost: a re-run re-reads these files, idempotently
                warnings.warn(f"ingest: could not record the files' hashes ({exc}); they will be read again next time",
                              stacklevel=2)
            hashes.clear()

    def todo():
        """Files not yet stored (by content hash), in order, one at a time (a year does not fit in memory)."""
        for i, (name, data) in enumerate(iter_local_archive(path), start=1):
            _progress(i, 0, name)
            summary.files += 1
            digest = hashlib.sha256(data).hexdigest()
            if digest in known:
                summary.skipped += 1
                continue
            known.add(digest)
            yield name, data, digest

    if stations is None:  # one parsed file at a time (a process pool after the first files)
        groups = (([n], [d], f, [] if e is None else [e]) for n, d, f, e in _parse_files(todo(), None, workers))
    else:  # filtered while reading: only the wanted rows are parsed, many files at once
        groups = _parse_selected(todo(), stations)
    pending = 0
    for names, digests, frame, errors in groups:
        summary.errors.extend(errors)
        summary.rejected += len(errors)
        if frame is None:
            continue
        summary.refused.extend(take_refusals(frame))
        batch.append(frame)
        hashes.extend({"name": str(n)[-300:], "sha256": d, "scope": scope, "run": run} for n, d in zip(names, digests, strict=True))
        pending += len(names)
        if pending >= BATCH_FILES:
            flush()
            pending = 0
    flush()
    if summary.files == 0:
        raise InputError(f"no archive CSV files under {path}", path=path)
    if seen:
        _note_new_stations(store, pd.concat(seen).drop_duplicates("station", keep="last"), summary)
    summary.duration_s = time.monotonic() - t0
    return summary


def _stored_hours(store, start, end, source: str) -> set:
    rows = store.hourly(start, end, sources=[source], columns=["time"])
    return set(rows["time"].unique()) if not rows.empty else set()


def ingest_cnemc_http(store, start, end, *, run: str, refresh: bool = False, stations=None, client=None) -> RunSummary:
    """Hours from the public archive over HTTP; hours already stored are skipped unless ``refresh``."""

    summary = RunSummary("cnemc-archive")
    t0 = time.monotonic()
    client = client or _client()
    hours = beijing_hours(start, end)
    if not refresh:
        have = _stored_hours(store, start, end, "cnemc-archive")
        todo = [h for h in hours if h not in have]
        summary.skipped = len(hours) - len(todo)
    else:
        todo = list(hours)
    # contiguous runs of missing hours → one fetch each
    gaps = []
    batch: list[pd.DataFrame] = []
    for i, h in enumerate(todo, start=1):
        _progress(i, len(todo), str(h))
        for res in fetch_archive_hours(h, h, client=client, stations=stations, on_error="gap"):
            summary.files += 1
            if res.is_gap:
                gaps.append((res.hour, res.gap_reason, res.url))
            else:
                summary.refused.extend(take_refusals(res.frame))
                batch.append(res.frame)
        if len(batch) >= BATCH_FILES:
            frame = pd.concat(batch, ignore_index=True)
            summary.add(store.ingest_hourly(frame, source="cnemc-archive", run=run))
            _note_new_stations(store, frame, summary)
            batch.clear()
    if batch:
        frame = pd.concat(batch, ignore_index=True)
        summary.add(store.ingest_hourly(frame, source="cnemc-archive", run=run))
        _note_new_stations(store, frame, summary)
    if gaps:
        store.record_gaps(pd.DataFrame(gaps, columns=["time", "reason", "detail"]), source="cnemc-archive")
        summary.gaps = len(gaps)
    if summary.refused:  # `watch` logs at INFO; the ingest command lists them on stderr itself
        log.info("cnemc-archive: %s", refusal_summary(summary.refused, limit=10).replace("\n", " | "))
    summary.duration_s = time.monotonic() - t0
    return summary


def ingest_quotsoft(store, *, path=None, start=None, end=None, run: str, stations=None, client=None) -> RunSummary:

    summary = RunSummary("quotsoft")
    t0 = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlausibilityWarning)  # listed by the CLI from summary.refused
        if path:
            frame = read_quotsoft(path, stations=stations)
        else:
            frame = get_quotsoft(start, end, client=client or _client(), stations=stations, on_error="gap")
    summary.refused.extend(take_refusals(frame))
    if not frame.empty:
        summary.add(store.ingest_hourly(frame, source="quotsoft", run=run))
        _note_new_stations(store, frame, summary)
    lost = frame.attrs.get("gaps") or []
    if lost:  # a day not published (404) or failed after retries: its 24 hours are gaps, the run goes on

        rows = [(pd.Timestamp(day) + pd.Timedelta(hours=h), reason[:500], daily_url(day))
                for day, reason in lost for h in range(24)]
        store.record_gaps(pd.DataFrame(rows, columns=["time", "reason", "detail"]), source="quotsoft")
        summary.gaps = len(lost)
    summary.duration_s = time.monotonic() - t0
    return summary


def representative_points() -> list[tuple[str, float, float]]:
    """One point per member jurisdiction: the mean position of its evaluation stations, else its polygon's
    representative point (for units without a station, e.g. 呼图壁县, 玛纳斯县)."""

    j = region.jurisdictions()
    j = j[(j["level"] == "jurisdiction")]
    st_ = region.stations()
    st_ = st_[~st_["background"]]
    bounds = region.boundaries(level="jurisdiction")
    pts = []
    for row in j.itertuples():
        s = st_[st_["jurisdiction"] == row.id]
        if len(s):
            pts.append((row.id, round(float(s["latitude"].mean()), 4), round(float(s["longitude"].mean()), 4)))
            continue
        b = bounds[bounds["id"] == row.id]
        if len(b):
            p = b.geometry.iloc[0].representative_point()
            pts.append((row.id, round(p.y, 4), round(p.x, 4)))
    return pts


def ingest_open_meteo(store, *, run: str, past_days: int = 3, forecast_days: int = 5, client=None) -> RunSummary:
    """CAMS air quality (model data, archived per run) and weather for each jurisdiction's point."""

    summary = RunSummary("open-meteo")
    t0 = time.monotonic()
    client = client or _client()
    points = representative_points()
    aq = get_air_quality(points, client=client, past_days=past_days, forecast_days=forecast_days)
    summary.refused.extend(take_refusals(aq))
    summary.add(store.ingest_model(aq, run=run))
    wx = get_weather(points, client=client, past_days=past_days, forecast_days=forecast_days)
    summary.add(store.ingest_weather(wx, run=run))
    summary.duration_s = time.monotonic() - t0
    return summary


def ingest_upload(store, path, *, run: str, layout: str = "auto", units=None, time_convention=None,
                  station=None, pollutant=None, date_format=None) -> RunSummary:
    """A user file (CSV/XLSX), through the same preview and rules as the dashboard's upload page.

    The file's size is checked before it is read. What the preview accepts is stored; what it refuses
    (:attr:`UploadPreview.refusals`: values and rows, with line, column and reason) is not, and is
    returned in ``summary.refused`` for the CLI to list (exit 2). Values kept but flagged (PM2.5 > PM10,
    an unknown station) are listed in ``summary.flagged``. Nothing is stored when no station-hour is
    acceptable (``InputError``).
    """

    summary = RunSummary("upload")
    t0 = time.monotonic()
    p = Path(path)
    limit = upload_max_bytes()
    check_size(p, limit, what="upload", env="REGIONAIR_UPLOAD_MAX_BYTES")  # before reading a byte
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path) from None
    preview = preview_upload(data, p.name, layout=layout, units=units, time_convention=time_convention,
                             station=station, pollutant=pollutant, known_stations=region.stations()["code"],
                             date_format=date_format)
    refused = preview.refusals
    if not preview.has_records:
        listing = refusal_summary(refused, limit=10)
        first = preview.errors[0] if preview.errors else None
        raise InputError("no acceptable station-hour in the file; nothing was stored. Fix the file or pass "
                         "--layout/--units/--time-convention/--date-format." + (f"\n{listing}" if listing else ""),
                         path=path, line=first.row if first else None, column=first.column if first else None)
    summary.add(store.ingest_hourly(preview.frame.assign(source="upload"), source="upload", run=run))
    summary.refused.extend(refused)
    summary.flagged.extend(f"{path}, line {i.row}: {i.message}" if i.row is not None else f"{path}: {i.message}"
                           for i in preview.flags)
    summary.duration_s = time.monotonic() - t0
    return summary


# ------------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------------


def _store(args):

    return Store(args.store)


def cmd_ingest(args) -> int:
    store = _store(args)
    run = uuid.uuid4().hex[:12]
    start, end = parse_time(args.start), parse_time(args.end)
    stations = None
    if args.region_only:

        stations = set(region.stations()["code"])
    if args.source == "cnemc-archive":
        if args.path:
            summary = ingest_cnemc_path(store, args.path, run=run, stations=stations, refresh=args.refresh,
                                        workers=args.workers)
        else:
            if start is None or end is None:
                raise InputError("--start and --end are needed without --path (e.g. --start 2026-03-10 --end 2026-03-11)")
            summary = ingest_cnemc_http(store, start, end, run=run, refresh=args.refresh, stations=stations)
    elif args.source == "quotsoft":
        summary = ingest_quotsoft(store, path=args.path, start=start, end=end, run=run, stations=stations)
    elif args.source == "open-meteo":
        summary = ingest_open_meteo(store, run=run, past_days=args.past_days, forecast_days=args.forecast_days)
    else:
        if not args.path:
            raise InputError("--path FILE is needed for --source upload")
        summary = ingest_upload(store, args.path, run=run, layout=args.layout, units=_units_arg(args.units),
                                time_convention=args.time_convention, station=args.station,
                                pollutant=args.pollutant, date_format=args.date_format)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(summary.text())
    for line in summary.flagged[:50]:
        print(f"flagged (kept): {line}", file=sys.stderr)
    if len(summary.flagged) > 50:
        print(f"flagged (kept): … {len(summary.flagged) - 50} more", file=sys.stderr)
    if summary.refused:  # listed by file, line, column and reason; what was fine is stored (README)
        print(refusal_summary(summary.refused), file=sys.stderr)
    if summary.errors or summary.refused:
        store.log_run(summary.source, errors=summary.errors + [r.message for r in summary.refused[:200]],
                      rejected=summary.rejected + len(summary.refused), run=run,
                      note="files rejected by the parser" if summary.errors else "values or rows refused")
        return 2
    return 0


def _units_arg(text: str | None):
    """``--units``: one unit for every pollutant (``µg/m³``) or per pollutant (``co=µg/m³,pm25=µg/m³``)."""
    if text is None or "=" not in text:
        return text
    out = {}
    for part in text.split(","):
        key, sep, unit = part.partition("=")
        if not sep or not key.strip() or not unit.strip():
            raise InputError(f"--units {text!r}: write one unit (µg/m³) or pollutant=unit pairs (co=µg/m³,pm25=µg/m³)",
                             column="--units")
        out[key.strip()] = unit.strip()
    return out


def cmd_export(args) -> int:

    store = _store(args)
    stations = list(args.stations.split(",")) if args.stations else None
    if args.jurisdictions:
        wanted = set(args.jurisdictions.split(","))
        cat = region.stations()
        stations = list(cat.loc[cat["jurisdiction"].isin(wanted), "code"])
    frame = store.hourly(parse_time(args.start), parse_time(args.end), stations=stations)
    frame = frame.drop(columns=[c for c in ("ingest_id", "ingested_at", "revision") if c in frame.columns])
    write_table(frame, args.out, args.format)  # CSV/XLSX neutralised, written atomically
    print(f"{len(frame)} station-hours → {args.out}", file=sys.stderr)
    return 0


def status_tables(store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(freshness per source, coverage per station over its stored span)."""
    fresh = store.latest_time(by="source")
    cov = store.coverage()
    if cov.empty:
        return fresh, cov
    cov = cov[cov["hours"] > 0]  # days with data (the sample spans separate windows)
    per = cov.groupby("station").agg(days=("date", "nunique"), first=("date", "min"), last=("date", "max"),
                                     valid_hours=("hours", "sum"))
    per["coverage_pct"] = (100 * per["valid_hours"] / (24 * per["days"])).round(1)
    return fresh, per.reset_index()


def cmd_status(args) -> int:
    store = _store(args)
    fresh, per = status_tables(store)
    if fresh.empty:
        print("store is empty: run `python -m regionair ingest --source cnemc-archive --path data/sample`")
        return 0
    now = pd.Timestamp.now(tz=TZ)
    age = (now - fresh["time"]).dt.total_seconds() / 3600
    # never a negative age: rows stamped in the future are refused at the loader edge now, but a store
    # filled before that (or a clock set back) may still hold some — name them instead
    fresh = fresh.assign(age_h=age.clip(lower=0).round(1))
    print("freshness per source:")
    print(fresh.to_string(index=False))
    ahead = fresh[age < -clock_skew().total_seconds() / 3600]
    for row in ahead.itertuples():
        print(f"warning: {row.source}'s latest hour {row.time:%Y-%m-%d %H:%M} is {-age[row.Index]:,.1f} h after now "
              "(rows stamped in the future, or the clock is wrong); check the data and the system clock",
              file=sys.stderr)
    print("\ncoverage per station:")
    print(per.to_string(index=False))
    return 0


_STOP = False
#: The HTTP client of the running ``watch`` (cancelled by SIGTERM/SIGINT).
_WATCH_CLIENT = None
#: Shortest and longest ``watch --every`` [minutes]: a cycle per minute at most (the sources publish
#: hourly), and at least one a week.
WATCH_EVERY_MIN, WATCH_EVERY_MAX = 1.0, 7 * 24 * 60.0


def _handle_term(signum, frame):  # pragma: no cover - signal path (tests/test_deadlines.py, in a child)
    """SIGTERM/SIGINT in ``watch``: stop after the current step, and cut the download in flight.

    No lock is taken here (the handler may run while the main thread holds any): the flag is a plain
    global and :meth:`HttpClient.cancel` only shuts sockets down. A store commit in progress finishes;
    a download in progress ends with :class:`~regionair.errors.Cancelled`. A second signal ends the
    process at once (the default action; the store is safe against that, docs/reliability.md).
    """
    global _STOP
    _STOP = True
    if _WATCH_CLIENT is not None:
        _WATCH_CLIENT.cancel()
    signal.signal(signum, signal.SIG_DFL)


def watch_every(text: str) -> float:
    """``--every`` of ``watch``: minutes between cycles, within [1 min, 1 week]; else an argparse error (exit 2)."""

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes (e.g. --every 15)") from None
    if not math.isfinite(v) or v < WATCH_EVERY_MIN or v > WATCH_EVERY_MAX:
        raise argparse.ArgumentTypeError(
            f"{text} minutes is not a sensible schedule; use {WATCH_EVERY_MIN:g} to {WATCH_EVERY_MAX:g} minutes "
            "(1 minute to 1 week; the sources publish hourly, e.g. --every 15), or --once from cron")
    return v


def watch_once(store, *, sources=("cnemc-archive", "open-meteo"), hours_back: int = 48, client=None) -> list[RunSummary]:
    """One watch cycle: pull the last ``hours_back`` hours of each enabled source (missing hours only)."""
    now = pd.Timestamp.now(tz=TZ).floor("h")
    out = []
    for source in sources:
        run = uuid.uuid4().hex[:12]
        try:
            if source == "cnemc-archive":
                out.append(ingest_cnemc_http(store, now - pd.Timedelta(hours=hours_back), now, run=run, client=client))
            elif source == "open-meteo":
                out.append(ingest_open_meteo(store, run=run, client=client))
        except (SourceError, InputError) as exc:
            log.warning("watch: %s failed: %s", source, exc)
            store.log_run(source, errors=[str(exc)], run=run, status="failed")
            s = RunSummary(source)
            s.errors.append(str(exc))
            out.append(s)
    return out


#: Alert rules used when the secrets file defines none: any active warning, and today's PM budget
#: turning "tight" or "already exceeded" at the 良/轻度 boundary.
DEFAULT_ALERT_RULES = (
    {"id": "warning", "what": "warning"},
    {"id": "pm-budget", "what": "budget", "boundary": 100, "pollutants": ["pm25", "pm10"]},
)


def load_secrets(path: str | os.PathLike | None = None) -> dict:
    """``.streamlit/secrets.toml`` of the project (or ``path``) as a dict; empty when absent."""

    p = Path(path) if path else Path(__file__).resolve().parents[2] / ".streamlit" / "secrets.toml"
    if not p.exists():
        return {}
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read secrets: {exc}", path=p) from None


def evaluate_alerts(store, *, secrets: dict | None = None, send=None) -> pd.DataFrame | None:
    """After an ingest: compute the warnings report at the latest hour and notify the configured targets.

    De-duplicated per rule, jurisdiction and level until it clears (state kept in the store folder).
    Returns the notifier's log rows, or None when no target is configured.
    """

    secrets = load_secrets() if secrets is None else secrets
    targets = load_targets(secrets)
    if not targets:
        return None
    fresh = store.latest_time(by="source")
    if fresh.empty:
        return None
    at = pd.Timestamp(fresh["time"].max())
    hourly = store.hourly(at - pd.Timedelta(days=35), at, prefer=SOURCE_PRECEDENCE)
    forecast = store.model_aq(at - pd.Timedelta(days=35), at + pd.Timedelta(days=5), run="all")
    report = warnings_report(hourly, at=at, forecast=None if forecast.empty else forecast)
    rules = [Rule.from_dict(r) for r in secrets.get("alerts", {}).get("rules", DEFAULT_ALERT_RULES)]
    notifier = Notifier(targets, alert_paths(store.root)[0], send=send)
    return notifier.process(events_from_report(report, rules))


def cmd_watch(args) -> int:

    global _STOP, _WATCH_CLIENT
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    store = _store(args)
    sources = tuple(args.sources.split(","))
    _STOP = False
    _WATCH_CLIENT = _client()
    signal.signal(signal.SIGTERM, _handle_term)
    signal.signal(signal.SIGINT, _handle_term)
    backoff = 0
    try:
        while not _STOP:
            summaries = watch_once(store, sources=sources, client=_WATCH_CLIENT)
            for s in summaries:
                log.info(s.text().replace("\n", " | "))
            if _STOP:
                break
            try:
                sent = evaluate_alerts(store)
                if sent is not None and len(sent):
                    log.info("alerts: %s", sent["status"].value_counts().to_dict())
            except RegionairError as exc:
                log.warning("alerts: %s", exc)
            failed = any(s.errors for s in summaries)
            backoff = min(backoff * 2 or 1, 8) if failed else 0
            if args.once:
                return 3 if failed else 0
            end = time.monotonic() + args.every * 60 * (backoff or 1)
            while not _STOP and time.monotonic() < end:
                time.sleep(min(0.2, max(end - time.monotonic(), 0)))
    except Cancelled:
        log.info("watch: a download was cut by the stop signal; its hours are fetched in the next run")
    finally:
        _WATCH_CLIENT.close()
        _WATCH_CLIENT = None
    log.info("watch: stopped")
    return 0


def _partition(row) -> str:
    if row.get("kind") == "records":
        return f"record table {row.get('table')}"
    return f"{row.get('kind')} {row.get('source')} {row.get('month')}"


def cmd_store(args) -> int:
    """``store check [--repair] [--quick] [--path DIR]``: name, quarantine and restore damaged store files."""

    store = Store(args.store, create=False)
    found = store.check(deep=not args.quick, repair=args.repair)
    n = len(store.snapshot().files) + (len(found) if args.repair else 0)
    how = "size and Parquet trailer" if args.quick else "read whole"
    if found.empty:
        print(f"{store.root}: {n} files checked ({how}): all sound")
    for row in found.to_dict("records"):
        state = "quarantined" if row["quarantined"] else "DAMAGED"
        print(f"{state}: {row['path']} ({_partition(row)}, {row['rows']} rows): {row['reason']}")
    if args.repair and args.path and not found.empty:
        run = uuid.uuid4().hex[:12]
        print(ingest_cnemc_path(store, args.path, run=run).text())
    open_ = store.damage()
    open_ = open_[~open_["restored"]] if len(open_) else open_
    for row in open_.to_dict("records"):
        print(f"not yet restored: {_partition(row)} (quarantined {row['quarantined_at']:%Y-%m-%d %H:%M}, "
              f"{row['reason']}; file kept in {row['moved_to'] or 'place'})")
    if not found.empty and not args.repair:
        print(f"{len(found)} damaged file(s): run `python -m regionair store check --repair` to quarantine them "
              "(the rest of the store keeps working), then re-ingest the months named", file=sys.stderr)
        return 3
    if len(open_):
        print("re-ingest the months named to restore them: `python -m regionair ingest --source cnemc-archive "
              "--path <archive>` (their files' hashes were forgotten, so they are read again), or "
              "`ingest --refresh --start … --end …` over HTTP", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """Register the store commands on the CLI's sub-parsers."""
    store_help = "store folder (default $REGIONAIR_STORE or data/store)"

    i = sub.add_parser("ingest", help="load a source into the store (backfill, resumable)")
    i.add_argument("--source", required=True, choices=SOURCES)
    i.add_argument("--path", help="file, folder or zip (cnemc-archive, quotsoft, upload)")
    i.add_argument("--start", help="first hour/day, ISO 8601 (no offset = Beijing time)")
    i.add_argument("--end", help="last hour/day, ISO 8601")
    i.add_argument("--store", help=store_help)
    i.add_argument("--refresh", action="store_true",
                   help="read hours/files already stored again (to pick up revisions)")
    i.add_argument("--region-only", action="store_true", help="keep only the catalogue's stations")
    i.add_argument("--workers", type=int, help="parser processes for large local archives (default: up to 2)")
    i.add_argument("--past-days", type=int, default=3)
    i.add_argument("--forecast-days", type=int, default=5)
    i.add_argument("--layout", default="auto", help="upload layout (auto, long, wide, cnemc-archive, station-workbook)")
    i.add_argument("--units", help="upload units: one for all (µg/m³) or per pollutant (co=µg/m³,pm25=µg/m³)")
    i.add_argument("--time-convention", choices=["hour-ending", "hour-beginning"])
    i.add_argument("--station", help="station code of a per-station workbook")
    i.add_argument("--pollutant", help="pollutant of a wide upload or a single-sheet workbook (pm25, PM2.5, 臭氧 …)")
    i.add_argument("--date-format", help="upload time format when dates are ambiguous, e.g. '%%d/%%m/%%Y %%H:%%M'")
    i.set_defaults(func=cmd_ingest)

    e = sub.add_parser("export", help="canonical hourly data out of the store")
    e.add_argument("--start")
    e.add_argument("--end")
    e.add_argument("--stations", help="comma-separated station codes")
    e.add_argument("--jurisdictions", help="comma-separated jurisdiction ids (see data/jurisdictions.csv)")
    e.add_argument("--format", default="csv", choices=["csv", "xlsx", "parquet"])
    e.add_argument("--out", required=True)
    e.add_argument("--store", help=store_help)
    e.set_defaults(func=cmd_export)

    c = sub.add_parser("store", help="store maintenance: `store check [--repair]` names and quarantines damaged files")
    c.add_argument("action", choices=["check"])
    c.add_argument("--repair", action="store_true",
                   help="move damaged files to quarantine/ and forget the hashes of the archive files behind them")
    c.add_argument("--quick", action="store_true", help="size and Parquet trailer only (default: read every file)")
    c.add_argument("--path", help="with --repair: re-ingest the damaged months from this CNEMC archive file/folder/zip")
    c.add_argument("--store", help=store_help)
    c.set_defaults(func=cmd_store)

    s = sub.add_parser("status", help="coverage and freshness per source and station")
    s.add_argument("--store", help=store_help)
    s.set_defaults(func=cmd_status)

    w = sub.add_parser("watch", help="pull the latest hours every N minutes (stops cleanly on SIGTERM)")
    w.add_argument("--every", type=watch_every, default=15.0,
                   help=f"minutes between cycles ({WATCH_EVERY_MIN:g} to {WATCH_EVERY_MAX:g}; default 15)")
    w.add_argument("--sources", default="cnemc-archive,open-meteo")
    w.add_argument("--once", action="store_true", help="run one cycle and exit")
    w.add_argument("--store", help=store_help)
    w.set_defaults(func=cmd_watch)

