"""The RegionAir store: a Parquet dataset queried with DuckDB.

One directory holds everything the dashboard reads::

    <root>/
      manifest.json            the committed state: version, live files, retired files
      manifest.json.bak        the previous committed state (recovery)
      .lock                    writers take an exclusive ``flock`` on it; holds the writer's pid
      hourly/source=<s>/month=<YYYY-MM>/part-<uuid>.parquet     measurements (canonical hourly frame)
      revisions/source=<s>/month=<YYYY-MM>/part-<uuid>.parquet  measurement rows replaced by a revision
      model_aq/source=<s>/month=<YYYY-MM>/part-<uuid>.parquet   modelled concentrations (CAMS …)
      weather/source=<s>/month=<YYYY-MM>/part-<uuid>.parquet    modelled/observed weather
      gaps/source=<s>/month=<YYYY-MM>/part-<uuid>.parquet       hours a source did not publish
      records/<table>/part-<uuid>.parquet                       small append-only tables (ingest_log, …)
      derived/area_means-v<n>/month=<YYYY-MM>/<query>-<files>.arrow  area means per month (a cache, below)
      quarantine/<UTC time>-<id>/<path>                          damaged files moved aside (below)

``month`` is the Beijing-time calendar month of the hour-ending ``time`` stamp.

Consistency model
-----------------
* A reader sees exactly the files listed in one ``manifest.json`` (a :class:`Snapshot`); it never
  lists directories, so temporary or uncommitted files are invisible. Files are immutable: a
  change writes new files and commits a new manifest that no longer lists the old ones.
* A writer holds the ``.lock`` (``fcntl.flock``), writes each new file to a temporary name, fsyncs
  it, renames it into place, then replaces ``manifest.json`` atomically (temporary file + fsync +
  ``os.replace``) after saving the previous one as ``manifest.json.bak``. A writer killed at any
  point leaves the previous version intact; its leftovers are deleted by the next writer.
* Replaced files stay on disk for :data:`GRACE_SECONDS` so that readers still holding an older
  snapshot can finish their query.
* Every committed change increments ``version`` (use it as a cache key); ``data_version`` only
  increments when measurements, model data or gaps change (not for log records).

Derived results (``derived/``)
------------------------------
:meth:`Store.area_means` keeps what it computes, one file per month partition, so that a query over
years reads a few small files instead of aggregating millions of station-hours again:

* **Key.** A month's file is named by two hashes: the query (the ``unit_of`` mapping and the
  ``sources`` restriction; all six pollutants are always kept, a query selects its columns) and the
  identity of the measurement files of that month the result was computed from (their manifest
  ``path`` — each holds a new uuid, files are immutable — with ``bytes`` and ``rows``). The file
  also records that list (Arrow schema metadata).
* **Self-invalidating.** An ingest that changes a month writes new partition files, so the month's
  key changes and the old derived file is simply never looked up again. It is deleted best-effort:
  by the reader that computes the replacement (only when it reads the current version), and by the
  writer's garbage collection after each commit, in the months whose partitions it replaced (a
  derived file is dropped when one of the files it was computed from is no longer live);
  :meth:`Store.gc` checks every month. A reader holding an older :class:`Snapshot` computes, and
  may write, the result of its own version: names never collide across versions.
* **Atomic and lock-free.** A derived file is written to a temporary name, fsynced and renamed into
  place; two readers computing the same month each write a complete file and either one wins.
  Readers take no lock and never write the manifest: derived files are outside the committed
  state, and deleting the whole ``derived/`` folder at any time only costs recomputation.
* **Read-only stores.** When the folder cannot be written (permissions, read-only mount, disk full)
  the query still answers — the missing months are computed in memory for that call — and the
  :class:`Store` instance stops trying to write (a full disk also warns once). ``Store(...,
  derived=False)`` computes every query from the measurement files and writes nothing.
* **Format.** Arrow IPC files (uncompressed): read with no decoding, which is an order of
  magnitude faster than Parquet for these small files (≈ 120 B per unit-hour). A
  change to the computation bumps ``AREA_MEANS_FORMAT``; files of other formats are deleted by
  garbage collection.

Damaged files (``quarantine/``)
-------------------------------
A committed file can still be damaged afterwards (a disk error, a restore that cut a file, a hand
copy). Each is checked against its manifest entry: present, the size the manifest recorded, Parquet's
``PAR1`` trailer (the quick check, a ``stat`` and 4 bytes), and — on a read error or in
``store check`` — read whole with the recorded row count (the deep check). A damaged file is:

* **named** — a :class:`StoreDamageWarning` and :meth:`Store.damage` give its path, kind, source and
  month, the reason, and how to restore it;
* **quarantined** — moved to ``quarantine/<time>-<id>/<its path>`` and dropped from a new committed
  manifest, with a row in the ``quarantine`` record table; a read-only or busy store leaves it in place
  and the :class:`Store` instance reads around it;
* **forgotten** — the SHA-256 of the archive files that went into it are removed from the
  ``ingested_files`` skip-list, so the next ``ingest`` reads them again (also without ``--refresh``);
* **not contagious** — the query that met it is answered again without it: every other month, page and
  export keeps working.

``python -m regionair store check [--repair]`` runs the deep check on every file. Writes check the
partitions they merge into first (quick check; the deep check and one retry when the merge still fails),
so ``ingest --refresh`` restores a damaged month instead of stopping on a DuckDB error.

Keys (an upsert replaces the row with the same key)
---------------------------------------------------
``hourly``    (source, station, time) — a changed value is a revision: the old row is kept in
              ``revisions`` (CNEMC revises provisional data)
``model_aq``  (source, model, point, run_time, time)
``weather``   (source, model, point, run_time, time)
``gaps``      (source, time)

Stored times are UTC instants; every frame returned has tz-aware Beijing times (``Asia/Shanghai``).
Missing values are stored as Parquet nulls and returned as ``NaN`` — never 0.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import threading
import time as _time
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import InputError, StoreError
from .nomenclature import POLLUTANTS, PROVENANCE_COLUMNS, TZ_NAME

__all__ = [
    "ENV_VAR",
    "GRACE_SECONDS",
    "IngestResult",
    "Snapshot",
    "Store",
    "StoreDamageWarning",
    "resolve_store_path",
]

#: Environment variable naming the store directory (overridden by ``--store``).
ENV_VAR = "REGIONAIR_STORE"

#: Replaced files are kept this long [s] for readers still holding an older snapshot.
GRACE_SECONDS = 600.0

#: Default time a writer waits for another writer's lock [s].
LOCK_TIMEOUT = 30.0

MANIFEST = "manifest.json"
MANIFEST_BAK = "manifest.json.bak"
LOCK_FILE = ".lock"
FORMAT = 1

#: Rows per Parquet row group: files are sorted by (station, time), so a station filter skips
#: most row groups through their min/max statistics.
ROW_GROUP_SIZE = 32_768
#: A partition with more files than this is compacted into one on its next write.
MAX_PARTITION_FILES = 8
#: A record table with more files than this is compacted into one on its next append.
MAX_RECORD_FILES = 32
#: Folder (under the root) of derived results: caches rebuilt from the data, outside the manifest.
DERIVED_DIR = "derived"
#: Folder (under the root) where damaged files are moved; outside the committed state, never deleted.
QUARANTINE_DIR = "quarantine"
#: Record table listing every quarantined file.
QUARANTINE_TABLE = "quarantine"
#: Record table of ingested archive files' SHA-256 (regionair.ingest skips them unless --refresh).
INGESTED_FILES_TABLE = "ingested_files"
_PARQUET_MAGIC = b"PAR1"
#: DuckDB names the file it failed on in quotes.
_QUOTED_PATH = re.compile(r"'([^']+\.parquet)'")
#: Version of the derived area-mean files; bump when their computation or layout changes.
AREA_MEANS_FORMAT = 1
_AREA_DIR = f"area_means-v{AREA_MEANS_FORMAT}"
_AREA_FILE_RE = re.compile(r"^[0-9a-f]{20}-[0-9a-f]{20}\.arrow$")

_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
_PART_RE = re.compile(r"^part-[0-9a-f]{32}\.parquet$")
_TMP_PREFIX = ".tmp-"
_ISO = "%Y-%m-%dT%H:%M:%SZ"

_TS = pa.timestamp("us", tz="UTC")
_DUCK_TYPES = {"string": "VARCHAR", "double": "DOUBLE", "int32": "INTEGER", str(_TS): "TIMESTAMPTZ"}
_META_FIELDS = (
    pa.field("ingest_id", pa.string()),
    pa.field("ingested_at", _TS),
    pa.field("revision", pa.int32()),
)
META_COLUMNS: tuple[str, ...] = tuple(f.name for f in _META_FIELDS)

_PROVENANCE_TYPES: dict[str, pa.DataType] = {
    "not_monitored": pa.string(),
    "published_primary": pa.string(),
    "station_name": pa.string(),
    "area": pa.string(),
}


def _provenance_type(name: str) -> pa.DataType:
    return _PROVENANCE_TYPES.get(name, pa.float64())


#: Schema of stored measurement rows (canonical hourly frame + provenance + ingest metadata).
HOURLY_SCHEMA = pa.schema(
    [pa.field("station", pa.string()), pa.field("time", _TS)]
    + [pa.field(p, pa.float64()) for p in POLLUTANTS]
    + [pa.field("source", pa.string())]
    + [pa.field(c, _provenance_type(c)) for c in PROVENANCE_COLUMNS]
    + list(_META_FIELDS)
)
#: Schema of a derived area-means file (one month; sorted by station = unit id, then time).
AREA_SCHEMA = pa.schema(
    [pa.field("station", pa.string()), pa.field("time", _TS)]
    + [pa.field(p, pa.float64()) for p in POLLUTANTS]
    + [pa.field(f"n_{p}", pa.int64()) for p in POLLUTANTS]
)
REVISION_SCHEMA = pa.schema(
    list(HOURLY_SCHEMA) + [pa.field("replaced_at", _TS), pa.field("replaced_by", pa.string())]
)
GAPS_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string()),
        pa.field("time", _TS),
        pa.field("reason", pa.string()),
        pa.field("detail", pa.string()),
        *_META_FIELDS,
    ]
)
_MODEL_KEY_FIELDS = (
    pa.field("source", pa.string()),
    pa.field("model", pa.string()),
    pa.field("point", pa.string()),
    pa.field("run_time", _TS),
    pa.field("time", _TS),
)


@dataclass(frozen=True)
class _Kind:
    """How one dataset kind is keyed and stored."""

    name: str
    key: tuple[str, ...]  # upsert key
    nullable_key: tuple[str, ...]  # key columns that may be null (compared with IS NOT DISTINCT FROM)
    entity: str | None  # station / point column (sort order, required non-null)
    schema: pa.Schema | None  # fixed schema, or None: key fields + any float64 columns
    valid: tuple[str, ...] = ()  # a row is "valid" when one of these is not null (latest, keys)
    keep_revisions: bool = False
    forbidden: tuple[str, ...] = ()  # columns that betray the wrong kind of data


_HOURLY = _Kind(
    "hourly",
    key=("source", "station", "time"),
    nullable_key=(),
    entity="station",
    schema=HOURLY_SCHEMA,
    valid=POLLUTANTS,
    keep_revisions=True,
    forbidden=("run_time", "point", "model"),
)
_MODEL_AQ = _Kind(
    "model_aq",
    key=("source", "model", "point", "run_time", "time"),
    nullable_key=("model", "run_time"),
    entity="point",
    schema=None,
    forbidden=("station",),
)
_WEATHER = _Kind(
    "weather",
    key=("source", "model", "point", "run_time", "time"),
    nullable_key=("model", "run_time"),
    entity="point",
    schema=None,
    forbidden=("station",),
)
_GAPS = _Kind("gaps", key=("source", "time"), nullable_key=(), entity=None, schema=GAPS_SCHEMA)
_KINDS = {k.name: k for k in (_HOURLY, _MODEL_AQ, _WEATHER, _GAPS)}
_DIRS = ("hourly", "revisions", "model_aq", "weather", "gaps", "records")
_DATA_KINDS = frozenset({"hourly", "revisions", "model_aq", "weather", "gaps"})

_LOG_SCHEMA = pa.schema(
    [
        pa.field("ingest_id", pa.string()),
        pa.field("run", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("source", pa.string()),
        pa.field("start", _TS),
        pa.field("end", _TS),
        pa.field("rows", pa.int64()),
        pa.field("added", pa.int64()),
        pa.field("updated", pa.int64()),
        pa.field("unchanged", pa.int64()),
        pa.field("rejected", pa.int64()),
        pa.field("rejected_reasons", pa.string()),
        pa.field("errors", pa.string()),
        pa.field("status", pa.string()),
        pa.field("started_at", _TS),
        pa.field("finished_at", _TS),
        pa.field("duration_s", pa.float64()),
        pa.field("version", pa.int64()),
        pa.field("pid", pa.int64()),
        pa.field("note", pa.string()),
    ]
)


# --------------------------------------------------------------------------------------------
# paths and time helpers
# --------------------------------------------------------------------------------------------
def resolve_store_path(path: str | os.PathLike | None = None) -> Path:
    """Return the store directory.

    Parameters
    ----------
    path : str or path-like, optional
        Explicit location (the CLI's ``--store``). Takes precedence.

    Returns
    -------
    pathlib.Path
        ``path`` if given, else ``$REGIONAIR_STORE`` if set and non-empty, else ``data/store``
        under the repository root (the parent of the ``regionair`` package); ``~`` expanded,
        made absolute.
    """
    if path is None or str(path) == "":
        env = os.environ.get(ENV_VAR, "").strip()
        path = env or Path(__file__).resolve().parent.parent / "data" / "store"
    return Path(path).expanduser().absolute()


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(ts: pd.Timestamp | datetime | None) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_convert("UTC").strftime(_ISO)


def _to_utc(value: Any, name: str) -> pd.Timestamp | None:
    """Parse a query bound: ISO string / datetime / Timestamp / date; naive means Beijing time."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{name}={value!r} is not a time; give an ISO string such as '2022-01-01 13:00' "
            "(naive = Beijing time), a datetime or a pandas Timestamp",
            column=name,
        ) from exc
    if pd.isna(ts):
        return None
    if ts.tzinfo is None:
        ts = ts.tz_localize(TZ_NAME)
    return ts.tz_convert("UTC")


def _to_day(value: Any, name: str) -> pd.Timestamp | None:
    """Parse a natural-day bound: its Beijing calendar date, as a naive midnight Timestamp."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name}={value!r} is not a date; give e.g. '2022-01-01'", column=name) from exc
    if ts.tzinfo is not None:
        ts = ts.tz_convert(TZ_NAME).tz_localize(None)
    return ts.normalize()


def _names(values: str | Iterable[str] | None, name: str) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        return [values]
    out = [str(v) for v in values]
    if not out:
        raise InputError(f"{name} is an empty list; pass None for all", column=name)
    return out


def _check_source(source: str) -> str:
    if not isinstance(source, str) or not _SOURCE_RE.match(source):
        raise InputError(
            f"source {source!r} is not a valid source name: use lower-case letters, digits, '.', '_' "
            "or '-' (at most 64, e.g. 'cnemc-archive'); it names a directory in the store",
            column="source",
        )
    return source


def _check_table(table: str) -> str:
    if not isinstance(table, str) or not _NAME_RE.match(table):
        raise InputError(
            f"record table name {table!r} is not allowed: use lower-case letters, digits and '_', "
            "starting with a letter (e.g. 'audit_log')",
        )
    return table


def _q(name: str) -> str:
    """Quote an identifier (only ever called on validated column names)."""
    return '"' + name.replace('"', '""') + '"'


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot fsync a directory
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory + fsync + rename."""
    tmp = path.parent / f"{_TMP_PREFIX}{uuid.uuid4().hex}{path.suffix}"
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _dump(snap: Snapshot) -> bytes:
    """Manifest JSON: compact, one file entry per line."""
    doc = snap.to_json()
    head = {k: v for k, v in doc.items() if k not in ("files", "retired")}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ","]
    for name in ("files", "retired"):
        items = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in doc[name]]
        lines.append(
            f'"{name}":['
            + ("\n" + ",\n".join(items) + "\n" if items else "")
            + "]"
            + ("," if name == "files" else "}")
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=ROW_GROUP_SIZE, write_statistics=True)
    return sink.getvalue().to_pybytes()


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select/order/cast ``table``'s columns to ``schema``; absent columns become nulls."""
    cols = []
    for f in schema:
        if f.name in table.column_names:
            col = table.column(f.name)
            cols.append(col if col.type == f.type else col.cast(f.type))
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def _fingerprint(schema: pa.Schema) -> str:
    """Short id of a schema's column names and types (manifest entries carry it)."""
    text = ",".join(f"{f.name}:{f.type}" for f in schema)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _frame_from_arrow_schema(schema: pa.Schema) -> pd.DataFrame:
    return _finish(schema.empty_table().to_pandas())


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    """Convert every tz-aware column to Beijing time [ns]; leave the rest."""
    for c in df.columns:
        if isinstance(df[c].dtype, pd.DatetimeTZDtype):
            df[c] = df[c].dt.tz_convert(TZ_NAME).astype(f"datetime64[ns, {TZ_NAME}]")
    return df.reset_index(drop=True)


class StoreDamageWarning(UserWarning):
    """A committed store file is damaged: it was left out (and quarantined when the store is writable)."""


# --------------------------------------------------------------------------------------------
# public value objects
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """One committed state of the store: the manifest a reader queries.

    Attributes
    ----------
    version : int
        Manifest version, incremented by every commit (0 = empty store).
    data_version : int
        Incremented only by commits that change measurements, model data or gaps.
    files : tuple of dict
        Live files: ``path`` (relative to the store root), ``kind``, ``source``/``month`` or
        ``table``, ``rows``, ``bytes``, ``min_time``/``max_time`` (UTC ISO), ``keys``.
    retired : tuple of dict
        Files no longer live, kept for :data:`GRACE_SECONDS` (``path``, ``retired_at`` [epoch s]).
    recovered : bool
        True when ``manifest.json`` was unreadable and this snapshot comes from the backup.
    """

    version: int = 0
    data_version: int = 0
    committed_at: str | None = None
    files: tuple[dict, ...] = ()
    retired: tuple[dict, ...] = ()
    recovered: bool = False

    def select(
        self,
        kind: str,
        *,
        sources: Sequence[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        table: str | None = None,
    ) -> list[dict]:
        """Live files of ``kind`` overlapping [start, end] (UTC) from ``sources``/``table``."""
        s = _iso(start) if start is not None else None
        e = _iso(end) if end is not None else None
        out = []
        for f in self.files:
            if f["kind"] != kind:
                continue
            if sources is not None and f.get("source") not in sources:
                continue
            if table is not None and f.get("table") != table:
                continue
            if s is not None and f.get("max_time") is not None and f["max_time"] < s:
                continue
            if e is not None and f.get("min_time") is not None and f["min_time"] > e:
                continue
            out.append(f)
        return out

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "version": self.version,
            "data_version": self.data_version,
            "committed_at": self.committed_at,
            "files": list(self.files),
            "retired": list(self.retired),
        }


@dataclass
class IngestResult:
    """What one ingest call did.

    Attributes
    ----------
    added, updated, unchanged, rejected : int
        Row counts [rows]. ``added + updated + unchanged + rejected`` equals the input rows.
    rejected_reasons : dict
        Reason → number of rejected rows.
    start, end : pandas.Timestamp or None
        First and last accepted hour (Beijing time).
    duration_s : float
        Wall time [s].
    ingest_id : str
        Id written to the rows' ``ingest_id`` and to the ingest log.
    version : int
        Manifest version after the call.
    files_written : int
        Data files written (0 when nothing changed).
    """

    kind: str
    sources: tuple[str, ...] = ()
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    duration_s: float = 0.0
    ingest_id: str = ""
    version: int = 0
    files_written: int = 0

    @property
    def rows(self) -> int:
        """Input rows [rows]."""
        return self.added + self.updated + self.unchanged + self.rejected

    def __str__(self) -> str:
        rng = (
            f"{self.start:%Y-%m-%d %H:%M} … {self.end:%Y-%m-%d %H:%M}"
            if self.start is not None
            else "no rows"
        )
        return (
            f"{self.kind} {','.join(self.sources) or '-'} {rng}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected ({self.duration_s:.1f} s, version {self.version})"
        )


# --------------------------------------------------------------------------------------------
# input normalisation
# --------------------------------------------------------------------------------------------
def _as_str(s: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_float_dtype(s.dtype):
        vals = s.dropna()
        if not np.all(np.mod(vals.to_numpy(dtype="float64"), 1) == 0):
            raise InputError(f"column {name!r} holds non-integral numbers; give codes as text", column=name)
        s = s.astype("Int64")
    out = s.astype("str")
    return out


def _as_float(s: pd.Series, name: str) -> pd.Series:
    if s.dtype == np.float64:
        return s
    if pd.api.types.is_bool_dtype(s.dtype):
        raise InputError(f"column {name!r} is boolean; expected numbers", column=name)
    try:
        return pd.to_numeric(s, errors="raise").astype("float64")
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"column {name!r} must be numeric (missing = NaN): {exc}. Hint: map the source's "
            "missing-value tokens to NaN in its loader",
            column=name,
        ) from exc


def _as_utc_time(s: pd.Series, name: str) -> pd.Series:
    """→ datetime64[us, UTC]; unparseable → NaT. Naive times are Beijing time."""
    if not isinstance(s.dtype, pd.DatetimeTZDtype) and not pd.api.types.is_datetime64_dtype(s.dtype):
        try:
            s = pd.to_datetime(s, errors="coerce")
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"column {name!r}: cannot parse times ({exc}); give tz-aware times, or naive Beijing times, "
                "consistently",
                column=name,
            ) from exc
        if s.dtype == object:  # mixed offsets
            raise InputError(f"column {name!r} mixes time zones; convert to one zone first", column=name)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC")
    else:
        s = s.dt.tz_localize(TZ_NAME, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return s.dt.as_unit("us")


def _month_codes(t_utc: pd.Series) -> np.ndarray:
    """YYYYMM of the Beijing month of each UTC instant (partition key only).

    Uses the fixed UTC+8 offset of Asia/Shanghai since 1991; the month only groups rows into files
    (queries select files by their min/max time), so it need not be exact for older data.
    """
    us = t_utc.to_numpy(dtype="datetime64[us]") + np.timedelta64(8, "h")
    months = us.astype("datetime64[M]").astype("int64")  # months since 1970-01
    return (1970 + months // 12) * 100 + months % 12 + 1


@dataclass
class _Prepared:
    table: pa.Table  # accepted rows: key + present value columns, __ord (input order)
    present: list[str]  # value columns present in the input
    rejected: dict[str, int]
    sources: list[str]
    parts: dict[tuple[str, str], pa.Table]  # (source, month) → its rows
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    n_input: int


def _prepare(kind: _Kind, frame: pd.DataFrame, source: str | None) -> _Prepared:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    n = len(frame)
    cols = list(frame.columns)
    bad = [c for c in kind.forbidden if c in cols]
    if bad:
        other = "ingest_model()/ingest_weather()" if kind.name == "hourly" else "ingest_hourly()"
        raise InputError(
            f"{kind.name} frame has column(s) {bad}: model data and measurements are stored apart; "
            f"use {other}" + ("" if kind.name == "hourly" else " or rename 'station' to 'point'"),
        )
    required = [c for c in kind.key if c not in ("source", *kind.nullable_key)]
    missing = [c for c in required if c not in cols]
    if missing:
        raise InputError(f"{kind.name} frame lacks column(s) {missing}; it has {cols}")
    if kind.name == "model_aq" or kind.name == "weather":
        if "run_time" not in cols:
            raise InputError(
                f"{kind.name} frame lacks 'run_time' (the model run's issue time); give it, or a column of "
                "NaT for analyses/observations without a run"
            )

    data: dict[str, pd.Series] = {}
    # source
    if "source" in cols:
        src = frame["source"]
        if source is not None:
            _check_source(source)
            other = src.dropna()
            other = other[other.astype(str) != source]
            if len(other):
                raise InputError(
                    f"source={source!r} given but the frame's 'source' column holds {sorted(set(other.astype(str)))[:5]}",
                    column="source",
                )
            src = pd.Series(source, index=frame.index, dtype="str")
        else:
            src = _as_str(src, "source")
    else:
        if source is None:
            raise InputError("no source: pass source=… or give the frame a 'source' column", column="source")
        _check_source(source)
        src = pd.Series(source, index=frame.index, dtype="str")
    data["source"] = src

    reasons: dict[str, int] = {}
    reject = np.zeros(n, dtype=bool)

    def _reject(mask: np.ndarray, reason: str) -> None:
        new = mask & ~reject
        k = int(new.sum())
        if k:
            reasons[reason] = reasons.get(reason, 0) + k
            reject[:] |= new

    uniq = pd.unique(src.dropna())
    bad_src = [s for s in uniq if not _SOURCE_RE.match(str(s))]
    _reject(src.isna().to_numpy(), "source missing")
    if bad_src:
        _reject(src.isin(bad_src).to_numpy(), "source name invalid (lower-case letters, digits, . _ -)")

    if kind.entity is not None:
        ent = _as_str(frame[kind.entity], kind.entity)
        data[kind.entity] = ent
        empty = ent.isna() | (ent.str.strip() == "")
        _reject(empty.to_numpy(), f"{kind.entity} missing")

    t = _as_utc_time(frame["time"], "time")
    data["time"] = t
    nat = t.isna().to_numpy()
    _reject(nat, "time missing or unparseable")
    off = (t.to_numpy(dtype="datetime64[us]").astype("int64") % 3_600_000_000 != 0) & ~nat
    _reject(off, "time not on the hour")

    if "run_time" in kind.key:
        data["run_time"] = _as_utc_time(frame["run_time"], "run_time")
    if "model" in kind.key:
        data["model"] = (
            _as_str(frame["model"], "model")
            if "model" in cols
            else pd.Series(pd.NA, index=frame.index, dtype="str")
        )

    # value columns
    present: list[str] = []
    dropped: list[str] = []
    if kind.schema is not None:
        types = {f.name: f.type for f in kind.schema}
        for c in cols:
            if c in kind.key or c == kind.entity or c in data:
                continue
            if c not in types or c in META_COLUMNS:
                dropped.append(str(c))
                continue
            data[c] = _as_str(frame[c], c) if types[c] == pa.string() else _as_float(frame[c], c)
            present.append(c)
    else:
        for c in cols:
            if c in kind.key or c in data:
                continue
            if not isinstance(c, str) or not _NAME_RE.match(c) or c in META_COLUMNS:
                dropped.append(str(c))
                continue
            data[c] = _as_float(frame[c], c)
            present.append(c)
    if dropped:
        warnings.warn(
            f"{kind.name} ingest: column(s) {dropped} are not stored (not part of the {kind.name} schema)",
            stacklevel=3,
        )

    keep = ~reject
    t_ok = t[keep]
    start = t_ok.min() if len(t_ok) else None
    end = t_ok.max() if len(t_ok) else None

    order_cols = [c for c in (*kind.key, *present) if c in data]
    arrays = {}
    for c in order_cols:
        s = data[c][keep]
        if c in ("time", "run_time"):
            arrays[c] = pa.array(s, type=_TS, from_pandas=True)
        elif c in ("source", "model", kind.entity) or (
            kind.schema is not None and kind.schema.field(c).type == pa.string()
        ):
            arrays[c] = pa.array(s, type=pa.string(), from_pandas=True)
        else:
            arrays[c] = pa.array(
                s.to_numpy(dtype="float64", na_value=np.nan), type=pa.float64(), from_pandas=True
            )
    n_ok = int(keep.sum())
    arrays["__ord"] = pa.array(np.arange(n_ok, dtype="int64"))
    table = pa.table(arrays)

    # (source, month) partitions: sort once by a partition code, then zero-copy slices
    parts: dict[tuple[str, str], pa.Table] = {}
    sources: list[str] = []
    if n_ok:
        if source is not None:  # one source for every row
            src_codes, src_names = np.zeros(n_ok, dtype="int64"), [source]
        else:
            src_codes, src_names = pd.factorize(data["source"][keep])
        code = src_codes.astype("int64") * 1_000_000 + _month_codes(t_ok)
        if not np.all(code[:-1] <= code[1:]):
            order = np.argsort(code, kind="stable")
            code = code[order]
            table = table.take(pa.array(order))
        bounds = np.flatnonzero(np.diff(code)) + 1
        for lo, hi in zip(np.r_[0, bounds].tolist(), np.r_[bounds, n_ok].tolist()):
            c = int(code[lo])
            src, m = str(src_names[c // 1_000_000]), c % 1_000_000
            parts[(src, f"{m // 100:04d}-{m % 100:02d}")] = table.slice(lo, hi - lo)
        sources = sorted(str(x) for x in src_names)
    return _Prepared(
        table=table,
        present=present,
        rejected=reasons,
        sources=sources,
        parts=parts,
        start=start.tz_convert(TZ_NAME) if start is not None else None,
        end=end.tz_convert(TZ_NAME) if end is not None else None,
        n_input=n,
    )


@dataclass(frozen=True)
class _Part:
    """One (source, month) partition being merged."""

    kind: _Kind
    source: str
    month: str
    rel_dir: str
    old: list[dict]  # its live files
    old_cols: list[str]  # columns stored in them
    present: list[str]  # value columns the input carries
    carry: list[str]  # value columns kept from the stored row
    schema: pa.Schema
    sort_keys: list[str]
    n_rows: int  # input rows after de-duplication


# --------------------------------------------------------------------------------------------
# the write transaction
# --------------------------------------------------------------------------------------------
class _Commit:
    """Files written by one write operation and the manifest that will list them."""

    def __init__(self, store: Store, base: Snapshot):
        self.store = store
        self.base = base
        self.added: list[dict] = []
        self.retire: set[str] = set()
        self.created: list[Path] = []
        self.dirs: set[Path] = set()
        self.data_changed = False
        self.result: Snapshot | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.retire)

    @property
    def next_version(self) -> int:
        """Version the commit will get (a recovered manifest skips one: the lost version)."""
        return self.base.version + (2 if self.base.recovered else 1)

    def live(
        self, kind: str, source: str | None = None, month: str | None = None, table: str | None = None
    ) -> list[dict]:
        out = []
        for f in [*self.base.files, *self.added]:
            if f["path"] in self.retire or f["kind"] != kind:
                continue
            if source is not None and f.get("source") != source:
                continue
            if month is not None and f.get("month") != month:
                continue
            if table is not None and f.get("table") != table:
                continue
            out.append(f)
        return out

    def write(self, rel_dir: str, table: pa.Table, entry: dict) -> dict:
        root = self.store.root
        name = f"part-{uuid.uuid4().hex}.parquet"
        rel = f"{rel_dir}/{name}"
        target = self.store._resolve(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = _parquet_bytes(table)
        tmp = target.parent / f"{_TMP_PREFIX}{uuid.uuid4().hex}.parquet"
        self.created.append(tmp)
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        self.created.append(target)
        d = target.parent  # fsync the file's directory and its parents (new directories) at commit
        while d != root and d not in self.dirs:
            self.dirs.add(d)
            d = d.parent
        entry = {
            "path": rel,
            **entry,
            "rows": table.num_rows,
            "bytes": len(data),
            "created_at": _now().strftime(_ISO),
        }
        self.added.append(entry)
        if entry["kind"] in _DATA_KINDS:
            self.data_changed = True
        return entry

    def commit(self) -> Snapshot:
        now = _time.time()
        files = [f for f in self.base.files if f["path"] not in self.retire] + self.added
        retired = [r for r in self.base.retired if now - r["retired_at"] < GRACE_SECONDS]
        retired += [{"path": p, "retired_at": now, "version": self.next_version} for p in sorted(self.retire)]
        if any(p.split("/", 1)[0] in _DATA_KINDS for p in self.retire):
            self.data_changed = True
        bump = self.next_version - self.base.version
        snap = Snapshot(
            version=self.next_version,
            data_version=self.base.data_version + (bump if self.data_changed else 0),
            committed_at=_now().strftime(_ISO),
            files=tuple(files),
            retired=tuple(retired),
        )
        root = self.store.root
        for d in sorted(self.dirs, key=lambda p: len(p.parts), reverse=True):
            _fsync_dir(d)
        if self.base.version > 0:
            _write_bytes_atomic(root / MANIFEST_BAK, _dump(self.base))
        _write_bytes_atomic(root / MANIFEST, _dump(snap))
        self.result = snap  # committed: from here on nothing may be rolled back
        try:
            _fsync_dir(root)
        except OSError as exc:
            warnings.warn(
                f"store version {snap.version} is committed but {root} could not be fsynced ({exc.strerror}); "
                "it may be lost if the machine crashes now",
                stacklevel=4,
            )
        return snap

    def abort(self) -> None:
        """Delete this operation's files, unless its manifest was committed."""
        if self.result is not None:
            return
        for p in self.created:
            with contextlib.suppress(OSError):
                os.unlink(p)


# --------------------------------------------------------------------------------------------
# derived area means (module docstring, "Derived results")
# --------------------------------------------------------------------------------------------
_HOURLY_MONTH_RE = re.compile(r"^hourly/source=[^/]+/month=(\d{4}-\d{2})/")


def _hourly_months(paths: Iterable[str]) -> set[str]:
    """Months of the hourly partition files among ``paths``."""
    return {m.group(1) for p in paths if (m := _HOURLY_MONTH_RE.match(p))}


def _area_query_key(unit_of: dict[str, str], sources: list[str] | None) -> str:
    """Hash of what, besides the files, determines an area-means result."""
    doc = {"format": AREA_MEANS_FORMAT, "unit_of": sorted([str(k), str(v)] for k, v in unit_of.items()),
           "sources": sorted(sources) if sources else None}
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()[:20]


def _read_area_file(path: Path, key: str) -> pa.Table | None:
    """A derived area-means file, or None when absent, unreadable or not the expected one."""
    try:
        # read into memory, not memory-mapped: a result must never depend on the file staying intact
        with open(path, "rb") as fh:
            reader = pa.ipc.open_file(pa.py_buffer(fh.read()))
        meta = reader.schema.metadata or {}
        if meta.get(b"regionair.key") != key.encode() or not reader.schema.equals(AREA_SCHEMA):
            return None
        return reader.read_all()
    except (OSError, pa.ArrowException):
        return None


def _area_file_sources(path: Path) -> list[str] | None:
    """The measurement files a derived file was computed from (None if unreadable)."""
    try:
        with open(path, "rb") as fh:
            meta = pa.ipc.open_file(fh).schema.metadata or {}
        return list(json.loads(meta[b"regionair.files"]))
    except (OSError, pa.ArrowException, KeyError, ValueError, TypeError):
        return None


def _assemble_area(pieces: list[pa.Table], start: pd.Timestamp | None, end: pd.Timestamp | None,
                   cols: list[str]) -> pa.Table:
    """Concatenate per-month results (each sorted by unit, time; in month order) into one table sorted
    by unit, then time, keeping only [start, end] and ``cols``. Slices only: no sort, no copy until
    the final conversion."""
    lo = None if start is None else start.value // 1000  # UTC µs, as stored
    hi = None if end is None else end.value // 1000
    runs: dict[str, list[pa.Table]] = {}
    for piece in pieces:
        if piece.num_rows == 0:
            continue
        piece = piece.select(cols)
        vc = pc.value_counts(piece.column("station"))  # runs of a unit, in order (the piece is sorted)
        offsets = np.r_[0, np.cumsum(vc.field("counts").to_numpy())]
        us = piece.column("time").cast(pa.int64()).to_numpy() if lo is not None or hi is not None else None
        for unit, a, b in zip(vc.field("values").to_pylist(), offsets[:-1], offsets[1:]):
            if us is not None:
                t = us[a:b]
                a, b = (a + (np.searchsorted(t, lo, "left") if lo is not None else 0),
                        a + (np.searchsorted(t, hi, "right") if hi is not None else len(t)))
            if b > a:
                runs.setdefault(unit, []).append(piece.slice(a, b - a))
    parts = [p for unit in sorted(runs) for p in runs[unit]]
    if not parts:
        return AREA_SCHEMA.empty_table().select(cols)
    return pa.concat_tables(parts)


_QUARANTINE_SCHEMA = pa.schema([
    pa.field("quarantined_at", _TS), pa.field("path", pa.string()), pa.field("kind", pa.string()),
    pa.field("source", pa.string()), pa.field("month", pa.string()), pa.field("table", pa.string()),
    pa.field("rows", pa.int64()), pa.field("bytes", pa.int64()), pa.field("min_time", pa.string()),
    pa.field("max_time", pa.string()), pa.field("reason", pa.string()), pa.field("moved_to", pa.string()),
    pa.field("forgotten_hashes", pa.int64()),
])


def _file_error(exc: Exception) -> bool:
    """Whether a DuckDB error may come from a damaged file (not from the query itself)."""
    return isinstance(exc, duckdb.IOException | duckdb.InvalidInputException | duckdb.InternalException) \
        or ".parquet" in str(exc)


def _describe_entry(e: dict) -> str:
    """``hourly data of cnemc-archive, month 2022-01`` / ``record table ingest_log``."""
    if e.get("kind") == "records":
        return f"record table {e.get('table')}"
    return f"{e.get('kind', '?')} data of {e.get('source', '?')}, month {e.get('month', '?')}"


# --------------------------------------------------------------------------------------------
# the store
# --------------------------------------------------------------------------------------------
class Store:
    """A RegionAir store directory: upserts measurement and model data, answers page queries.

    Parameters
    ----------
    path : str or path-like, optional
        Store directory; see :func:`resolve_store_path`.
    create : bool, default True
        Create the directory on the first write. With ``False`` a missing directory raises
        :class:`~regionair.errors.StoreError` at once.
    lock_timeout : float, default 30
        How long a writer waits for another writer's lock [s] before failing.
    derived : bool, default True
        Keep derived results (:meth:`area_means` per month) under ``derived/`` and reuse them (see
        the module docstring). False: compute every query from the measurement files, write nothing.

    Notes
    -----
    Readers never lock: each query reads one committed :class:`Snapshot` (reloaded when
    ``manifest.json`` changes). One instance may be shared by threads (the Streamlit app): every
    query runs on its own DuckDB cursor, and writes within a process are serialised.

    Examples
    --------
    >>> store = Store("data/store")                                  # doctest: +SKIP
    >>> store.ingest_hourly(frame, source="cnemc-archive")           # doctest: +SKIP
    >>> store.hourly("2022-01-01", "2022-01-31 23:00", stations=["1490A"], pollutants=["pm25"])  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        create: bool = True,
        lock_timeout: float = LOCK_TIMEOUT,
        derived: bool = True,
    ):
        self.root = resolve_store_path(path)
        self.create = create
        self.lock_timeout = float(lock_timeout)
        self.derived = bool(derived)
        self._derived_writable = True  # False once writing under derived/ failed (read-only store)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"store path {self.root} exists but is not a directory. Hint: pass --store DIR")
        if not create and not (self.root / MANIFEST).exists():
            raise StoreError(
                f"no store at {self.root} (manifest.json missing). Hint: run an ingest first "
                f"(e.g. `regionair ingest …`), or point --store / {ENV_VAR} at an existing store"
            )
        self._con = duckdb.connect(":memory:")
        with contextlib.suppress(duckdb.Error):
            self._con.execute("SET parquet_metadata_cache = true")
        self._snap: Snapshot | None = None
        self._snap_raw: bytes | None = None
        self._warned_raw: bytes | None = None
        self._snap_lock = threading.Lock()
        self._wlock = threading.RLock()
        self._wdepth = 0
        self._txn_depth = 0  # > 0 inside a write transaction of this instance
        self._lock_fd: int | None = None
        self._damaged: dict[str, str] = {}  # path → reason: damaged files this instance reads around
        self._sound: set[str] = set()  # paths that passed the deep check (files are immutable)
        self._damage_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r}, version={self.version})"

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- manifest
    def _resolve(self, rel: str) -> Path:
        """Absolute path of a store-relative path, refusing anything outside the store."""
        parts = rel.split("/")
        if (
            not rel
            or rel.startswith("/")
            or "\\" in rel
            or any(p in ("", ".", "..") for p in parts)
            or parts[0] not in _DIRS
        ):
            raise StoreError(f"store path {rel!r} is outside the store's data directories ({self.root})")
        return self.root.joinpath(*parts)

    def _parse_manifest(self, raw: bytes, name: str) -> Snapshot:
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(
                f"unknown manifest format {doc.get('format') if isinstance(doc, dict) else doc!r}"
            )
        version = doc["version"]
        if not isinstance(version, int) or version < 0:
            raise ValueError(f"bad version {version!r}")
        files = doc["files"]
        for f in files:
            if not isinstance(f, dict) or "path" not in f or "kind" not in f:
                raise ValueError(f"bad file entry {f!r}")
            self._resolve(f["path"])
        retired = doc.get("retired", [])
        for r in retired:
            self._resolve(r["path"])
            float(r["retired_at"])
        return Snapshot(
            version=version,
            data_version=int(doc.get("data_version", version)),
            committed_at=doc.get("committed_at"),
            files=tuple(files),
            retired=tuple(retired),
        )

    def _read_raw(self) -> bytes | None:
        path = self.root / MANIFEST
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(
                f"cannot read {path}: {exc.strerror}. Hint: check the permissions of the store"
            ) from exc

    def _from_raw(self, raw: bytes | None) -> Snapshot:
        """Parse manifest bytes, or recover from the backup when they are corrupt."""
        if raw is None:
            return Snapshot()
        path = self.root / MANIFEST
        try:
            return self._parse_manifest(raw, MANIFEST)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, StoreError) as exc:
            cause = exc
        bak = self.root / MANIFEST_BAK
        try:
            snap = self._parse_manifest(bak.read_bytes(), MANIFEST_BAK)
        except FileNotFoundError:
            raise StoreError(
                f"{path} is corrupt ({cause}) and there is no {MANIFEST_BAK} to recover from. Hint: restore the "
                "store directory from a backup, or move it aside and re-ingest"
            ) from cause
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, StoreError) as exc:
            raise StoreError(
                f"{path} is corrupt ({cause}) and {bak} too ({exc}). Hint: restore the store directory from a "
                "backup, or move it aside and re-ingest"
            ) from exc
        if self._warned_raw != raw:
            self._warned_raw = raw
            warnings.warn(
                f"{path} is corrupt ({cause}); using {MANIFEST_BAK} (version {snap.version}). The last commit is "
                "lost: re-run the last ingest. The next write repairs the manifest.",
                stacklevel=4,
            )
        return Snapshot(
            snap.version, snap.data_version, snap.committed_at, snap.files, snap.retired, recovered=True
        )

    def _load(self) -> Snapshot:
        """The committed state as on disk now (no cache)."""
        return self._from_raw(self._read_raw())

    def snapshot(self) -> Snapshot:
        """The current committed state (parsed again only when ``manifest.json`` changed).

        Returns
        -------
        Snapshot
            Pass it as ``snapshot=`` to several queries to read one consistent version.
        """
        raw = self._read_raw()  # small; comparing bytes is exact, unlike mtime/inode
        with self._snap_lock:
            if self._snap is not None and raw == self._snap_raw:
                return self._snap
            snap = self._from_raw(raw)
            self._snap, self._snap_raw = snap, raw
            return snap

    @property
    def version(self) -> int:
        """Manifest version [–]: changes with every commit; a cache key for queries."""
        return self.snapshot().version

    @property
    def data_version(self) -> int:
        """Version of the data only [–]: unchanged by log/record appends."""
        return self.snapshot().data_version

    # ---------------------------------------------------------------- locking
    def _os_error(self, exc: OSError, action: str) -> StoreError:
        where = exc.filename or self.root
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            msg = (
                f"cannot {action}: the store directory {self.root} is not writable ({exc.strerror}: {where}). "
                f"The store is unchanged and can still be read. Hint: fix the permissions, or point --store / "
                f"{ENV_VAR} at a writable directory"
            )
        elif exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            msg = (
                f"cannot {action}: disk full or file-size limit reached while writing {where} ({exc.strerror}). "
                "The store is unchanged (the partial files were removed). Hint: free disk space and re-run; "
                "ingests are idempotent"
            )
        else:
            msg = f"cannot {action} in {self.root}: {exc.strerror or exc} ({where})"
        err = StoreError(msg)
        err.errno = exc.errno  # type: ignore[attr-defined]
        return err

    @contextlib.contextmanager
    def writer(self, timeout: float | None = None) -> Iterator[Store]:
        """Hold the store's write lock (re-entrant within this instance).

        Parameters
        ----------
        timeout : float, optional
            Wait at most this long for another writer [s]; default ``lock_timeout``.

        Raises
        ------
        StoreError
            Another process holds the lock past the timeout ("another ingest is running (pid …)"),
            or the directory cannot be created or written.
        """
        with self._wlock:
            if self._wdepth == 0:
                self._acquire(self.lock_timeout if timeout is None else float(timeout))
            self._wdepth += 1
            try:
                yield self
            finally:
                self._wdepth -= 1
                if self._wdepth == 0:
                    self._release()

    def _acquire(self, timeout: float) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self._os_error(exc, "open the store for writing") from exc
        deadline = _time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if _time.monotonic() >= deadline:
                    try:
                        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
                    finally:
                        os.close(fd)
                    pid = holder[0] if holder else "unknown"
                    where = f" on {holder[1]}" if len(holder) > 1 else ""
                    since = f", holding the lock since {holder[2]}" if len(holder) > 2 else ""
                    raise StoreError(
                        f"another ingest is running (pid {pid}{where}{since}) on the store {self.root}; waited "
                        f"{timeout:g} s for its lock. Hint: wait for it to finish and retry"
                    ) from None
                _time.sleep(min(0.05, max(0.0, deadline - _time.monotonic())))
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {socket.gethostname()} {_now().strftime(_ISO)}\n".encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise self._os_error(exc, "take the write lock") from exc
        self._lock_fd = fd

    def _release(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # releases the flock

    @contextlib.contextmanager
    def _transaction(self, action: str) -> Iterator[_Commit]:
        with self.writer():
            base = self._load()
            txn = _Commit(self, base)
            self._txn_depth += 1
            try:
                yield txn
                if txn.changed:
                    txn.commit()
            except OSError as exc:
                txn.abort()
                raise self._os_error(exc, action) from exc
            except duckdb.Error as exc:  # a stored file DuckDB cannot read: never a bare DuckDB traceback
                txn.abort()
                raise StoreError(f"cannot {action} in {self.root}: {exc}. The store is unchanged. Hint: run "
                                 "`python -m regionair store check --repair`") from exc
            except BaseException:
                txn.abort()
                raise
            finally:
                self._txn_depth -= 1
            self._collect_garbage(txn.result or base, derived_months=_hourly_months(txn.retire))

    def _collect_garbage(self, snap: Snapshot, derived_months: set[str] | None = None) -> int:
        """Delete files no committed state refers to (temporary files of killed writers, files
        retired more than GRACE_SECONDS ago) and stale derived files (of ``derived_months``, or all
        when None). Only called while holding the lock."""
        keep = {f["path"] for f in snap.files} | {r["path"] for r in snap.retired}
        removed = 0
        for d in _DIRS:
            top = self.root / d
            if not top.is_dir():
                continue
            for dirpath, _dirnames, filenames in os.walk(top, topdown=False):
                for name in filenames:
                    if not (name.startswith(_TMP_PREFIX) or _PART_RE.match(name)):
                        continue
                    full = Path(dirpath, name)
                    rel = full.relative_to(self.root).as_posix()
                    if rel in keep:
                        continue
                    try:
                        full.unlink()
                        removed += 1
                    except FileNotFoundError:
                        pass
                    except OSError as exc:
                        warnings.warn(f"could not delete unreferenced store file {full}: {exc}", stacklevel=3)
                if dirpath != str(top):
                    with contextlib.suppress(OSError):
                        os.rmdir(dirpath)  # only succeeds when empty
        for p in self.root.glob(f"{_TMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed += 1
        return removed + self._prune_derived(snap, derived_months)

    def gc(self) -> int:
        """Delete leftovers of killed writers and files retired long enough ago.

        Returns
        -------
        int
            Files deleted.
        """
        with self.writer():
            return self._collect_garbage(self._load())

    # ---------------------------------------------------------------- querying
    def _query(self, sql: str, params: dict, *, arrow: bool = False) -> pd.DataFrame | pa.Table:
        cur = self._con.cursor()
        try:
            table = cur.sql(sql, params=params).to_arrow_table()
            return table if arrow else table.to_pandas()
        finally:
            cur.close()

    def _read(self, snap_arg: Snapshot | None, build) -> Any:
        """Run ``build(snapshot)``; if a listed file vanished (reader older than the grace
        period), retry once on the current snapshot; if a file is damaged, leave it out (and
        quarantine it, module docstring) and answer again from the rest."""
        snap = snap_arg or self.snapshot()
        refreshed = False
        for _attempt in range(64):  # each round removes at least one damaged file
            view = self._without_damaged(snap)
            try:
                return build(view)
            except duckdb.Error as exc:
                if isinstance(exc, duckdb.IOException) and snap_arg is None and not refreshed:
                    refreshed = True
                    fresh = self.snapshot()
                    if fresh.version != snap.version:
                        snap = fresh
                        continue
                found = self._find_damage(view.files, named=_QUOTED_PATH.findall(str(exc))) \
                    if _file_error(exc) else {}
                if not found:
                    if isinstance(exc, duckdb.IOException):
                        raise StoreError(
                            f"cannot read the store {self.root} (version {snap.version}): {exc}. Hint: a data file "
                            "listed in manifest.json is missing or unreadable; re-open the store, or restore/re-ingest"
                        ) from exc
                    raise StoreError(f"query on the store {self.root} failed: {exc}") from exc
                self._heal(found)
                if snap_arg is None:
                    snap = self.snapshot()
        raise StoreError(f"cannot read the store {self.root}: too many damaged files. Hint: run "
                         "`python -m regionair store check --repair`")

    # ---------------------------------------------------------------- damaged files (module docstring)
    def _without_damaged(self, snap: Snapshot) -> Snapshot:
        with self._damage_lock:
            bad = set(self._damaged)
        if not bad or not any(f["path"] in bad for f in snap.files):
            return snap
        return Snapshot(snap.version, snap.data_version, snap.committed_at,
                        tuple(f for f in snap.files if f["path"] not in bad), snap.retired, snap.recovered)

    def _file_damage(self, entry: dict, *, deep: bool) -> str | None:
        """Why the committed file ``entry`` is damaged, or None when it is sound."""
        path = self._resolve(entry["path"])
        try:
            size = path.stat().st_size
            if entry.get("bytes") is not None and size != int(entry["bytes"]):
                return f"{size} bytes on disk, the manifest recorded {int(entry['bytes'])} (truncated or overwritten)"
            with open(path, "rb") as fh:
                fh.seek(max(0, size - 4))
                if fh.read(4) != _PARQUET_MAGIC:
                    return "no Parquet trailer (PAR1) at the end of the file"
            if not deep or entry["path"] in self._sound:
                return None
            rows = pq.ParquetFile(path).read().num_rows
        except FileNotFoundError:
            return "missing: listed in manifest.json but not on disk"
        except PermissionError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror}. Hint: check the permissions of the store") from exc
        except (OSError, pa.ArrowException, ValueError) as exc:
            return f"unreadable Parquet ({type(exc).__name__}: {str(exc)[:200]})"
        if entry.get("rows") is not None and rows != int(entry["rows"]):
            return f"{rows} rows, the manifest recorded {int(entry['rows'])}"
        self._sound.add(entry["path"])
        return None

    def _find_damage(self, files: Iterable[dict], *, named: Iterable[str] = (), deep: bool | None = None) -> dict:
        """Damaged files among ``files`` that are live in the current manifest: {path: reason}.

        ``deep=None``: the files DuckDB ``named`` deeply, then all of them quickly, then all deeply.
        """
        live = {f["path"] for f in self._load().files}
        files = [f for f in files if f["path"] in live]  # an old snapshot's retired file is no damage
        if deep is not None:
            return {f["path"]: r for f in files if (r := self._file_damage(f, deep=deep))}
        root = str(self.root)
        named_rel = {os.path.relpath(n, root).replace(os.sep, "/") for n in named if n.startswith(root)}
        for rounds in ([f for f in files if f["path"] in named_rel], files):
            for deep_round in (False, True):
                found = {f["path"]: r for f in rounds if (r := self._file_damage(f, deep=deep_round))}
                if found:
                    return found
        return {}

    def _heal(self, found: dict[str, str]) -> None:
        """Read around the damaged files from now on, warn, and quarantine them when the store can be written."""
        with self._damage_lock:
            new = {p: r for p, r in found.items() if p not in self._damaged}
            self._damaged.update(found)
        if not new:
            return
        entries = {f["path"]: f for f in self._load().files}
        named = "; ".join(f"{p} ({_describe_entry(entries.get(p, {}))}): {r}" for p, r in new.items())
        quarantined = False
        if self._wlock.acquire(blocking=False):  # never wait for another thread's write, never inside our own
            try:
                if self._txn_depth == 0:
                    self.quarantine(new, timeout=0)
                    quarantined = True
            except StoreError:
                pass  # read-only or an ingest is running: read around it; `store check --repair` moves it later
            finally:
                self._wlock.release()
        warnings.warn(
            f"damaged store file(s) left out: {named}. "
            + ("Moved to quarantine/; their archive files will be read again by the next ingest. "
               if quarantined else "The store could not be changed now; ")
            + "Restore with `python -m regionair ingest --refresh …` for the months named "
            "(`python -m regionair store check --repair` checks every file)",
            StoreDamageWarning, stacklevel=4)

    def quarantine(self, damaged: dict[str, str], *, timeout: float | None = None) -> pd.DataFrame:
        """Move damaged files aside and commit a manifest without them (module docstring).

        Parameters
        ----------
        damaged : dict
            Store-relative path → reason (see :meth:`check`). Paths no longer live are ignored.
        timeout : float, optional
            Wait at most this long for another writer [s].

        Returns
        -------
        pandas.DataFrame
            The rows added to the ``quarantine`` record table (see :meth:`damage`).
        """
        with self.writer(timeout):
            live = {f["path"]: f for f in self._load().files}
            todo = {p: r for p, r in damaged.items() if p in live}
            if not todo:
                return pd.DataFrame()
            now = _now()
            folder = f"{QUARANTINE_DIR}/{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
            moved: list[tuple[Path, Path]] = []
            rows = []
            try:
                with self._transaction("quarantine damaged files") as txn:
                    for rel, reason in sorted(todo.items()):
                        e = live[rel]
                        src, dst = self._resolve(rel), self.root / folder / rel
                        try:
                            dst.parent.mkdir(parents=True, exist_ok=True)
                            os.replace(src, dst)
                            moved.append((src, dst))
                            where = f"{folder}/{rel}"
                        except FileNotFoundError:
                            where = ""
                        txn.retire.add(rel)
                        rows.append({"quarantined_at": now, "path": rel, "kind": e["kind"], "source": e.get("source"),
                                     "month": e.get("month"), "table": e.get("table"), "rows": e.get("rows"),
                                     "bytes": e.get("bytes"), "min_time": e.get("min_time"),
                                     "max_time": e.get("max_time"), "reason": reason, "moved_to": where})
                    forgotten = self._forget_hashes(txn, [live[p] for p in todo])
                    for r in rows:
                        r["forgotten_hashes"] = forgotten
                    table = pa.Table.from_pylist(rows, schema=_QUARANTINE_SCHEMA)
                    self._append_table(txn, QUARANTINE_TABLE, table)
            except BaseException:
                for src, dst in reversed(moved):  # not committed: put the files back where the manifest says
                    with contextlib.suppress(OSError):
                        os.replace(dst, src)
                raise
        with self._damage_lock:
            self._damaged.update(todo)
        return _finish(table.to_pandas())

    def _forget_hashes(self, txn: _Commit, entries: list[dict]) -> int:
        """Drop from ``ingested_files`` the archive files whose rows went into ``entries``; returns how many.

        The runs are found in the ingest log (a run whose logged span overlaps a damaged file of its
        source); when the log cannot tell (no such run, or the log itself is damaged), every hash is
        dropped — reading files again is idempotent, skipping one would leave its hours missing.
        """
        old = txn.live("records", table=INGESTED_FILES_TABLE)
        if not old or not any(e["kind"] in _DATA_KINDS or e.get("table") in (INGESTED_FILES_TABLE, "ingest_log")
                              for e in entries):
            return 0
        damaged = {e["path"] for e in entries}
        try:
            hashes = pa.concat_tables([pq.read_table(self._resolve(f["path"])) for f in old if f["path"] not in damaged],
                                      promote_options="default") if any(f["path"] not in damaged for f in old) else None
        except (OSError, pa.ArrowException):
            hashes = None  # the skip-list itself is unreadable: drop it whole
        before = sum(int(f.get("rows") or 0) for f in old)
        runs = None
        try:
            log = pa.concat_tables([pq.read_table(self._resolve(f["path"]))
                                    for f in txn.live("records", table="ingest_log") if f["path"] not in damaged],
                                   promote_options="default").to_pandas()
        except (OSError, pa.ArrowException, ValueError):
            log = None
        spans = [e for e in entries if e["kind"] in _DATA_KINDS and e.get("min_time") and e.get("max_time")]
        if log is not None and len(log) and spans and len(spans) == len(entries):
            hit = pd.Series(False, index=log.index)
            start = pd.to_datetime(log["start"], utc=True)
            end = pd.to_datetime(log["end"], utc=True)
            for e in spans:
                lo, hi = pd.Timestamp(e["min_time"]), pd.Timestamp(e["max_time"])
                mine = log["source"].fillna("").str.split(";").map(lambda s, src=e.get("source"): src in s)
                hit |= mine & (start <= hi) & (end >= lo)
            runs = set(log.loc[hit, "run"].dropna())
            if not runs:
                runs = None
        txn.retire.update(f["path"] for f in old)
        if hashes is not None and runs is not None and "run" in hashes.column_names:
            keep = hashes.filter(pc.invert(pc.is_in(hashes.column("run"), pa.array(sorted(runs)))))
            if keep.num_rows:
                txn.write(f"records/{INGESTED_FILES_TABLE}", keep, {"kind": "records", "table": INGESTED_FILES_TABLE})
            return before - keep.num_rows
        return before

    def check(self, *, deep: bool = True, repair: bool = False) -> pd.DataFrame:
        """Check every committed file (module docstring, "Damaged files").

        Parameters
        ----------
        deep : bool, default True
            Read every file whole (else the quick check: size and Parquet trailer).
        repair : bool, default False
            Quarantine what is damaged (and forget the hashes of the archive files behind it).

        Returns
        -------
        pandas.DataFrame
            One row per damaged file: ``path``, ``kind``, ``source``, ``month``, ``table``, ``rows``,
            ``reason``, ``quarantined`` (bool). Empty when every file is sound.
        """
        snap = self._load()
        found = self._find_damage(snap.files, deep=deep)
        entries = {f["path"]: f for f in snap.files}
        out = pd.DataFrame(
            [{"path": p, "kind": entries[p]["kind"], "source": entries[p].get("source"),
              "month": entries[p].get("month"), "table": entries[p].get("table"), "rows": entries[p].get("rows"),
              "reason": r, "quarantined": False} for p, r in sorted(found.items())],
            columns=["path", "kind", "source", "month", "table", "rows", "reason", "quarantined"])
        if repair and found:
            self.quarantine(found)
            out["quarantined"] = True
        return out

    def scan(self, *, deep: bool = False) -> pd.DataFrame:
        """Check every committed file (quick by default: a ``stat`` and 4 bytes each), read around the
        damaged ones and quarantine them when the store can be written now; returns :meth:`damage`.

        For readers (the dashboard runs it once per store version): unlike ``check(repair=True)`` it
        never waits for a writer and never fails on a read-only store.
        """
        found = self._find_damage(self._load().files, deep=deep)
        if found:
            self._heal(found)
        return self.damage()

    @property
    def excluded(self) -> tuple[str, ...]:
        """Damaged files this instance reads around (quarantined or not yet)."""
        with self._damage_lock:
            return tuple(sorted(self._damaged))

    def damage(self, *, snapshot: Snapshot | None = None) -> pd.DataFrame:
        """Damaged files found so far, and whether their partition was written again since.

        Returns
        -------
        pandas.DataFrame
            The ``quarantine`` records (``quarantined_at`` Beijing, ``path``, ``kind``, ``source``,
            ``month``, ``table``, ``rows``, ``reason``, ``moved_to``, ``forgotten_hashes``) plus files this
            instance reads around without having moved them (``moved_to`` empty), and ``restored``: a
            file of the same partition was committed after the quarantine (an ingest wrote it again).
        """
        snap = snapshot or self.snapshot()
        q = self.records(QUARANTINE_TABLE, snapshot=snap)
        cols = [f.name for f in _QUARANTINE_SCHEMA]
        q = q[[c for c in cols if c in q.columns]] if len(q) else _frame_from_arrow_schema(_QUARANTINE_SCHEMA)
        with self._damage_lock:
            pending = {p: r for p, r in self._damaged.items() if p not in set(q["path"])}
        live = {f["path"]: f for f in snap.files}
        if pending:
            extra = pd.DataFrame([{"path": p, "kind": live.get(p, {}).get("kind"), "source": live.get(p, {}).get("source"),
                                   "month": live.get(p, {}).get("month"), "table": live.get(p, {}).get("table"),
                                   "rows": live.get(p, {}).get("rows"), "reason": r, "moved_to": ""}
                                  for p, r in pending.items()])
            q = pd.concat([q, extra], ignore_index=True)

        def nn(v):
            return None if v is None or (isinstance(v, float) and v != v) or v == "" else v

        def restored(row) -> bool:
            if row["path"] in live or pd.isna(row.get("quarantined_at")):
                return False
            at = pd.Timestamp(row["quarantined_at"]).tz_convert("UTC").floor("s")  # created_at has seconds
            for f in snap.files:
                same = (f["kind"] == row["kind"] and f.get("source") == nn(row["source"])
                        and f.get("month") == nn(row["month"]) and f.get("table") == nn(row["table"]))
                if same and f.get("created_at") and pd.Timestamp(f["created_at"]) >= at:
                    return True
            return False

        q["restored"] = [restored(r) for r in q.to_dict("records")] if len(q) else pd.Series(dtype=bool)
        return q.reset_index(drop=True)

    def _scan(
        self, files: list[dict], schema: pa.Schema, cols: Sequence[str], params: dict, name: str = "files"
    ) -> tuple[str, str]:
        """SELECT list of ``cols`` and the ``read_parquet`` call over ``files``.

        Files written with an older schema (a column since added to the vocabulary) are read
        with ``union_by_name`` and the absent columns come back as nulls.
        """
        paths = [str(self._resolve(f["path"])) for f in files]
        params[name] = paths
        fp = _fingerprint(schema)
        if all(f.get("schema") == fp for f in files):
            return ", ".join(_q(c) for c in cols), f"read_parquet(${name}, hive_partitioning=false)"
        cur = self._con.cursor()
        try:
            have = set(self._describe(cur, paths))
        finally:
            cur.close()
        sel = ", ".join(
            _q(c) if c in have else f"CAST(NULL AS {_DUCK_TYPES[str(schema.field(c).type)]}) AS {_q(c)}"
            for c in cols
        )
        return sel, f"read_parquet(${name}, hive_partitioning=false, union_by_name=true)"

    @staticmethod
    def _in(col: str, values: Sequence, prefix: str, params: dict) -> str:
        names = []
        for i, v in enumerate(values):
            params[f"{prefix}{i}"] = v
            names.append(f"${prefix}{i}")
        return f"{_q(col)} IN ({', '.join(names)})"

    @staticmethod
    def _time_where(start, end, params: dict, col: str = "time") -> list[str]:
        where = []
        if start is not None:
            params["t0"] = start.to_pydatetime()
            where.append(f"{_q(col)} >= $t0")
        if end is not None:
            params["t1"] = end.to_pydatetime()
            where.append(f"{_q(col)} <= $t1")
        return where

    def hourly(
        self,
        start: Any = None,
        end: Any = None,
        *,
        stations: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        pollutants: str | Iterable[str] | None = None,
        columns: Iterable[str] | None = None,
        prefer: Sequence[str] | None = None,
        snapshot: Snapshot | None = None,
    ) -> pd.DataFrame:
        """Measured hourly rows (the canonical hourly frame).

        Parameters
        ----------
        start, end : str, datetime or Timestamp, optional
            Inclusive bounds on the hour-ending ``time``; naive values are Beijing time.
        stations : str or iterable of str, optional
            Station codes (resolve jurisdictions to stations with :mod:`regionair.region`).
        sources : str or iterable of str, optional
            Only rows from these sources.
        pollutants : str or iterable of str, optional
            Subset of :data:`~regionair.nomenclature.POLLUTANTS`; default all six.
        columns : iterable of str, optional
            Extra columns: provenance columns and/or ``ingest_id``, ``ingested_at``, ``revision``
            (canonical columns named here are returned once). Default: every provenance column;
            ``()`` for none.
        prefer : sequence of str, optional
            Return one row per (station, time): the first source in this order that has the
            row (sources not listed rank after, alphabetically). Default: one row per source.
        snapshot : Snapshot, optional
            Read this committed version (see :meth:`snapshot`).

        Returns
        -------
        pandas.DataFrame
            ``station``, ``time`` (datetime64[ns, Asia/Shanghai], hour-ending), the pollutants
            (float64; µg/m³, CO mg/m³; missing = NaN), ``source``, then ``columns``; sorted by
            station, time, source.

        Raises
        ------
        InputError
            Unknown pollutant or column, unparseable bound.
        StoreError
            The store cannot be read.
        """
        s, e = _to_utc(start, "start"), _to_utc(end, "end")
        stations_l = _names(stations, "stations")
        sources_l = _names(sources, "sources")
        pols = _names(pollutants, "pollutants") or list(POLLUTANTS)
        unknown = [p for p in pols if p not in POLLUTANTS]
        if unknown:
            raise InputError(
                f"unknown pollutant(s) {unknown}; valid: {list(POLLUTANTS)}", column="pollutants"
            )
        extra = list(PROVENANCE_COLUMNS) if columns is None else list(columns)
        allowed = HOURLY_SCHEMA.names
        unknown = [c for c in extra if c not in allowed]
        if unknown:
            raise InputError(f"unknown column(s) {unknown}; valid: {list(allowed)}", column="columns")
        base = ["station", "time", *[p for p in POLLUTANTS if p in pols], "source"]
        out_cols = base + [c for c in dict.fromkeys(extra) if c not in base]

        def build(snap: Snapshot) -> pd.DataFrame:
            files = snap.select("hourly", sources=sources_l, start=s, end=e)
            if not files:
                return _frame_from_arrow_schema(pa.schema([HOURLY_SCHEMA.field(c) for c in out_cols]))
            params: dict[str, Any] = {}
            sel, scan = self._scan(files, HOURLY_SCHEMA, out_cols, params)
            where = self._time_where(s, e, params)
            if stations_l:
                where.append(self._in("station", stations_l, "st", params))
            if sources_l:
                where.append(self._in("source", sources_l, "sr", params))
            qualify = ""
            if prefer:
                params["prefer"] = list(prefer)
                qualify = (
                    "QUALIFY row_number() OVER (PARTITION BY station, time ORDER BY "
                    "coalesce(list_position($prefer, source), 1000000), source) = 1"
                )
            sql = (
                f"SELECT {sel} FROM {scan} "
                f"{'WHERE ' + ' AND '.join(where) if where else ''} {qualify} ORDER BY station, time, source"
            )
            return _finish(self._query(sql, params))

        return self._read(snapshot, build)

    def area_means(
        self,
        start: Any = None,
        end: Any = None,
        *,
        unit_of: dict[str, str],
        pollutants: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        snapshot: Snapshot | None = None,
    ) -> pd.DataFrame:
        """Area-mean concentrations computed in the store (DuckDB), without loading station rows.

        Parameters
        ----------
        start, end : time bounds (inclusive; naive = Beijing).
        unit_of : ``{station code: unit id}`` — e.g. :func:`regionair.region.unit_map`.
        pollutants, sources : optional restrictions.

        Returns
        -------
        DataFrame ``station`` (the unit id), ``time``, one column per pollutant (mean over the unit's
        stations with a valid value; NaN when none) and ``n_<pollutant>`` (stations contributing) —
        the same as :func:`regionair.region.aggregate` on :meth:`hourly`. When several sources hold the
        same station-hour, the first source in name order is used once (never double-counted).
        Sorted by unit, then time.

        Notes
        -----
        Each month partition's result is kept under ``derived/`` and reused while the month's
        measurement files are unchanged (module docstring, "Derived results"); a query reads the
        months overlapping [start, end], computes the missing ones in one DuckDB query, and cuts the
        result to [start, end]. The numbers are those of a direct computation (to the last bit up to
        DuckDB's summation order): a mean is grouped by (unit, hour), and an hour belongs to one month.
        """
        s, e = _to_utc(start, "start"), _to_utc(end, "end")
        sources_l = _names(sources, "sources")
        pols = _names(pollutants, "pollutants") or list(POLLUTANTS)
        unknown = [p for p in pols if p not in POLLUTANTS]
        if unknown:
            raise InputError(f"unknown pollutant(s) {unknown}; valid: {list(POLLUTANTS)}", column="pollutants")
        codes = sorted(unit_of)
        cols = ["station", "time", *pols, *[f"n_{p}" for p in pols]]

        def empty() -> pd.DataFrame:
            return pd.DataFrame({"station": pd.Series(dtype=str), "time": pd.Series(dtype=f"datetime64[ns, {TZ_NAME}]"),
                                 **{p: pd.Series(dtype="float64") for p in pols},
                                 **{f"n_{p}": pd.Series(dtype="int64") for p in pols}})

        def build(snap: Snapshot) -> pd.DataFrame:
            wanted = set(codes)

            def useful(f: dict) -> bool:
                return f.get("keys") is None or bool(wanted.intersection(f["keys"]))

            overlapping = [f for f in snap.select("hourly", sources=sources_l, start=s, end=e) if useful(f)]
            if not overlapping or not codes:
                return empty()
            months: dict[str, list[dict]] = {}
            for f in snap.select("hourly", sources=sources_l):  # a month is keyed by all its files
                if useful(f):
                    months.setdefault(str(f.get("month")), []).append(f)
            needed = sorted({str(f.get("month")) for f in overlapping})
            cacheable = self.derived and all(_MONTH_RE.match(m) for m in needed)
            pieces: dict[str, pa.Table] = {}
            todo: dict[str, tuple[Path, str]] = {}
            if cacheable:
                qkey = _area_query_key(unit_of, sources_l)
                for m in needed:
                    path, key = self._area_path(m, qkey, months[m])
                    table = _read_area_file(path, key)
                    if table is None:
                        todo[m] = (path, key)
                    else:
                        pieces[m] = table
            else:
                todo = dict.fromkeys(needed, (Path(), ""))
            if todo:
                write = cacheable and self._derived_writable
                if write:  # whole months, to be kept
                    files = [f for m in todo for f in months[m]]
                    computed = self._area_compute(files, unit_of, codes, sources_l, None, None)
                else:  # only [start, end]
                    files = [f for f in overlapping if str(f.get("month")) in todo]
                    computed = self._area_compute(files, unit_of, codes, sources_l, s, e)
                if cacheable:
                    pieces.update(self._keep_area_months(snap, computed, todo, months, qkey, write))
                else:
                    pieces[""] = computed
            table = _assemble_area([pieces[m] for m in sorted(pieces)], s, e, cols)
            if table.num_rows == 0:
                return empty()
            return _finish(table.to_pandas())

        return self._read(snapshot, build)

    def _area_path(self, month: str, qkey: str, files: list[dict]) -> tuple[Path, str]:
        """Derived file of one month's area means, and its full key."""
        ident = sorted([f["path"], f.get("bytes"), f.get("rows")] for f in files)
        fkey = hashlib.sha256(json.dumps(ident, separators=(",", ":")).encode()).hexdigest()[:20]
        return Path(f"{self.root}/{DERIVED_DIR}/{_AREA_DIR}/month={month}/{qkey}-{fkey}.arrow"), f"{qkey}-{fkey}"

    def _area_compute(
        self, files: list[dict], unit_of: dict[str, str], codes: list[str], sources: list[str] | None, s, e
    ) -> pa.Table:
        """Area means of all six pollutants over ``files`` (optionally within [s, e]), as
        :data:`AREA_SCHEMA`, sorted by unit then time."""
        params: dict[str, Any] = {"codes": codes, "units": [unit_of[c] for c in codes]}
        sel, scan = self._scan(files, HOURLY_SCHEMA, ["station", "time", "source", *POLLUTANTS], params)
        where = self._time_where(s, e, params)
        if sources:
            where.append(self._in("source", sources, "sr", params))
        aggs = ", ".join(f"avg({_q(p)}) AS {_q(p)}" for p in POLLUTANTS)
        counts = ", ".join(f"count({_q(p)}) AS {_q('n_' + p)}" for p in POLLUTANTS)
        filt = f"WHERE {' AND '.join(where)}" if where else ""
        srcs = {f.get("source") for f in files}
        one_source = len(srcs) == 1 and None not in srcs
        # one row per station-hour: only several sources can hold the same key (the upsert keeps one per source)
        rows = (f"SELECT {sel} FROM {scan} {filt}" if one_source else
                f"SELECT DISTINCT ON (station, time) {sel} FROM {scan} {filt} ORDER BY station, time, source")
        sql = (
            f"WITH m AS (SELECT unnest($codes) AS station, unnest($units) AS unit), "
            f"h AS ({rows}) "
            f"SELECT m.unit AS station, h.time, {aggs}, {counts} FROM h JOIN m USING (station) "
            f"GROUP BY m.unit, h.time ORDER BY station, time"
        )
        return _conform(self._query(sql, params, arrow=True), AREA_SCHEMA)

    def _keep_area_months(
        self, snap: Snapshot, computed: pa.Table, todo: dict[str, tuple[Path, str]], months: dict[str, list[dict]],
        qkey: str, write: bool,
    ) -> dict[str, pa.Table]:
        """Split results by month (the partition rule, :func:`_month_codes`) and, with ``write``, keep
        each month's derived file (best-effort)."""
        us = computed.column("time").cast(pa.int64()).to_numpy()
        month = _month_codes(pd.Series(us.astype("datetime64[us]")))
        order = np.argsort(month, kind="stable")  # keeps unit, time order within a month
        computed, month = computed.take(order), month[order]
        out = {}
        current = None
        for m, (path, key) in todo.items():
            code = int(m[:4]) * 100 + int(m[5:7])
            lo, hi = np.searchsorted(month, [code, code + 1])
            out[m] = part = computed.slice(lo, hi - lo)
            if not (write and self._derived_writable):
                continue
            if current is None:  # prune superseded files only when reading the latest version
                current = snap.version == self.snapshot().version
            self._write_area_file(path, key, part, [f["path"] for f in months[m]], prune=qkey if current else None)
        return out

    def _write_area_file(self, path: Path, key: str, table: pa.Table, sources: list[str], prune: str | None) -> None:
        """Write one derived file atomically; on failure stop writing derived files in this instance."""
        meta = {b"regionair.derived": b"area_means", b"regionair.key": key.encode(),
                b"regionair.files": json.dumps(sorted(sources)).encode()}
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, AREA_SCHEMA.with_metadata(meta)) as w:
            w.write_table(table.combine_chunks())
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_bytes_atomic(path, sink.getvalue())
        except OSError as exc:
            self._derived_writable = False
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                warnings.warn(
                    f"cannot keep derived area means in {self.root / DERIVED_DIR} ({exc.strerror or exc}); queries "
                    "still work but are computed each time. Hint: free disk space, or delete that folder",
                    stacklevel=6,  # the caller of area_means
                )
            return
        if prune is not None:  # earlier results of the same query for this month: superseded
            for old in path.parent.glob(f"{prune}-*.arrow"):
                if old != path:
                    with contextlib.suppress(OSError):
                        old.unlink()

    def _prune_derived(self, snap: Snapshot, months: set[str] | None = None) -> int:
        """Delete derived files computed from files no longer live, files of other formats and
        temporary files older than the grace period. Only called while holding the lock.

        ``months``: look only into these months' folders (those whose partitions this commit
        replaced), so that a commit does not read every derived file; None (``gc``): all of them.
        """
        top = self.root / DERIVED_DIR
        if not top.is_dir():
            return 0
        area = top / _AREA_DIR
        live = {f["path"] for f in snap.files}
        now = _time.time()
        removed = 0

        def delete(path: Path) -> None:
            nonlocal removed
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as exc:
                warnings.warn(f"could not delete derived file {path}: {exc}", stacklevel=5)

        def stale(path: Path) -> bool:
            if path.name.startswith(_TMP_PREFIX):  # a reader may be writing it right now
                try:
                    return now - path.stat().st_mtime > GRACE_SECONDS
                except OSError:
                    return False
            if path.parent.parent == area and _AREA_FILE_RE.match(path.name):
                used = _area_file_sources(path)
                return used is None or not live.issuperset(used)
            return True  # another format, or not ours

        for entry in top.iterdir():
            if entry != area and stale(entry):
                delete(entry)
        if months is None:
            folders = sorted(area.glob("*")) if area.is_dir() else []
        else:
            folders = [area / f"month={m}" for m in sorted(months)]
        for folder in folders:
            if not (folder.is_dir() and folder.name.startswith("month=") and _MONTH_RE.match(folder.name[6:])):
                if folder.exists():
                    delete(folder)
                continue
            for name in os.listdir(folder):
                if stale(folder / name):
                    delete(folder / name)
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds when empty
        return removed

    def _latest_files(
        self, snap: Snapshot, sources: list[str] | None, stations: list[str] | None
    ) -> list[dict]:
        """Smallest set of hourly files that surely holds each station's latest valid row."""
        files = snap.select("hourly", sources=sources)
        needed: set[str] = set()
        for f in files:
            needed.update(f.get("keys") or ())
        if stations is not None:
            needed &= set(stations)
        if not needed:
            return []
        cutoff = None
        for f in sorted(files, key=lambda f: f.get("max_time") or "", reverse=True):
            new = needed.intersection(f.get("keys") or ())
            if new:
                needed -= new
                mt = f.get("min_time") or ""
                cutoff = mt if cutoff is None else min(cutoff, mt)
            if not needed:
                break
        return [f for f in files if (f.get("max_time") or "") >= (cutoff or "")]

    def latest(
        self,
        *,
        sources: str | Iterable[str] | None = None,
        stations: str | Iterable[str] | None = None,
        prefer: Sequence[str] | None = None,
        by_source: bool = False,
        snapshot: Snapshot | None = None,
    ) -> pd.DataFrame:
        """The latest hour with at least one valid pollutant value, per station.

        Parameters
        ----------
        sources, stations : str or iterable of str, optional
            Restrict to these.
        prefer : sequence of str, optional
            When several sources have the same latest hour, take the first in this order
            (default alphabetical).
        by_source : bool, default False
            One row per (source, station) instead of per station.
        snapshot : Snapshot, optional
            Read this committed version.

        Returns
        -------
        pandas.DataFrame
            Canonical hourly columns plus provenance, one row per station, sorted by station.
        """
        sources_l = _names(sources, "sources")
        stations_l = _names(stations, "stations")

        def build(snap: Snapshot) -> pd.DataFrame:
            files = self._latest_files(snap, sources_l, stations_l)
            cols = [c for c in HOURLY_SCHEMA.names if c not in META_COLUMNS]
            if not files:
                return _frame_from_arrow_schema(pa.schema([HOURLY_SCHEMA.field(c) for c in cols]))
            params: dict[str, Any] = {}
            sel, scan = self._scan(files, HOURLY_SCHEMA, cols, params)
            where = ["(" + " OR ".join(f"{_q(p)} IS NOT NULL" for p in POLLUTANTS) + ")"]
            if stations_l:
                where.append(self._in("station", stations_l, "st", params))
            if sources_l:
                where.append(self._in("source", sources_l, "sr", params))
            # rows at each station's (or station-source's) latest valid hour; a GROUP BY + semi join
            # is several times faster than a window ordered by a string column
            part = ["source", "station"] if by_source else ["station"]
            rows = f"SELECT {sel} FROM {scan} WHERE {' AND '.join(where)}"
            on = " AND ".join(f"r.{c} = m.{c}" for c in [*part, "time"])
            sql = (
                f"WITH r AS ({rows}), m AS (SELECT {', '.join(part)}, max(time) AS time FROM r GROUP BY ALL) "
                f"SELECT r.* FROM r SEMI JOIN m ON {on}"
            )
            df = self._query(sql, params)
            rank = {s: i for i, s in enumerate(prefer or [])}
            df["__rank"] = df["source"].map(rank).fillna(len(rank)).astype("int64")
            df = df.sort_values(["station", "__rank", "source"], kind="stable")
            if not by_source:  # several sources at the same latest hour: the preferred one
                df = df.drop_duplicates("station", keep="first")
            return _finish(df.drop(columns="__rank"))

        return self._read(snapshot, build)

    def latest_time(self, by: str = "source", *, snapshot: Snapshot | None = None) -> pd.DataFrame:
        """Freshness: the latest hour with valid data.

        Parameters
        ----------
        by : {"source", "station"}
            ``"source"``: one row per source with ``time`` (latest valid hour, Beijing),
            ``stations`` (stations with data at that hour) and ``stations_total``.
            ``"station"``: one row per (source, station) with ``time``.

        Returns
        -------
        pandas.DataFrame
        """
        if by not in ("source", "station"):
            raise InputError(f"by={by!r} is not one of ['source', 'station']", column="by")
        rows = self.latest(by_source=True, snapshot=snapshot)[["source", "station", "time"]]
        if by == "station":
            return rows.sort_values(["source", "station"]).reset_index(drop=True)
        if rows.empty:
            return pd.DataFrame(
                {
                    "source": pd.Series(dtype="str"),
                    "time": pd.Series(dtype=f"datetime64[ns, {TZ_NAME}]"),
                    "stations": pd.Series(dtype="int64"),
                    "stations_total": pd.Series(dtype="int64"),
                }
            )
        g = rows.groupby("source")
        out = g["time"].max().rename("time").to_frame()
        out["stations"] = rows[rows["time"] == rows["source"].map(out["time"])].groupby("source").size()
        out["stations_total"] = g.size()
        return out.reset_index()

    def coverage(
        self,
        start: Any = None,
        end: Any = None,
        *,
        stations: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        pollutants: str | Iterable[str] | None = None,
        snapshot: Snapshot | None = None,
    ) -> pd.DataFrame:
        """Valid hours per station and natural day.

        Parameters
        ----------
        start, end : date-like, optional
            First and last natural day (Beijing), inclusive; default the data's span.
        stations, sources : str or iterable of str, optional
            Restrict to these (several sources' rows for one hour count once).
        pollutants : str or iterable of str, optional
            Default all six.

        Returns
        -------
        pandas.DataFrame
            ``station``, ``date`` (naive datetime64[ns] midnight of the natural day), one column
            per pollutant with its number of valid hourly values (0–24) [h], and ``hours`` (hours
            with a row). Every (station, day) of the range appears, with 0 where nothing was stored;
            stations are those given, else those with rows in the range.

        Notes
        -----
        The natural day D covers the hour-ending stamps D 01:00 … D+1 00:00 Beijing time (the
        value stamped 00:00 is the mean of 23:00–24:00 of the previous day), i.e.
        ``date = (time − 1 h).date()`` (HJ 663-2013, Table A.1 note on averaging periods).
        """
        d0, d1 = _to_day(start, "start"), _to_day(end, "end")
        stations_l = _names(stations, "stations")
        sources_l = _names(sources, "sources")
        pols = _names(pollutants, "pollutants") or list(POLLUTANTS)
        unknown = [p for p in pols if p not in POLLUTANTS]
        if unknown:
            raise InputError(
                f"unknown pollutant(s) {unknown}; valid: {list(POLLUTANTS)}", column="pollutants"
            )
        s = (d0 + pd.Timedelta(hours=1)).tz_localize(TZ_NAME).tz_convert("UTC") if d0 is not None else None
        e = (d1 + pd.Timedelta(days=1)).tz_localize(TZ_NAME).tz_convert("UTC") if d1 is not None else None

        def build(snap: Snapshot) -> pd.DataFrame:
            files = snap.select("hourly", sources=sources_l, start=s, end=e)
            if files:
                params: dict[str, Any] = {}
                _, scan = self._scan(files, HOURLY_SCHEMA, ["station", "time", *pols], params)
                where = self._time_where(s, e, params)
                if stations_l:
                    where.append(self._in("station", stations_l, "st", params))
                if sources_l:
                    where.append(self._in("source", sources_l, "sr", params))
                rows = f"{scan} {'WHERE ' + ' AND '.join(where) if where else ''}"
                if len({f.get("source") for f in files}) > 1:
                    # several sources may hold the same station-hour: count it once
                    rows = (
                        f"(SELECT station, time, {', '.join(f'max({_q(p)}) AS {_q(p)}' for p in pols)} "
                        f"FROM {rows} GROUP BY station, time)"
                    )
                counts = ", ".join(f"count({_q(p)})::BIGINT AS {_q(p)}" for p in pols)
                sql = (
                    "SELECT station, CAST(timezone('Asia/Shanghai', time) - INTERVAL 1 HOUR AS DATE) AS date, "
                    f"{counts}, count(*)::BIGINT AS hours FROM {rows} GROUP BY ALL"
                )
                got = self._query(sql, params)
                got["date"] = pd.to_datetime(got["date"]).astype("datetime64[ns]")
            else:
                got = pd.DataFrame(columns=["station", "date", *pols, "hours"])
            sts = stations_l if stations_l else sorted(got["station"].unique())
            lo = d0 if d0 is not None else (got["date"].min() if len(got) else None)
            hi = d1 if d1 is not None else (got["date"].max() if len(got) else None)
            if lo is None or hi is None or not len(sts):
                empty = {"station": pd.Series(dtype="str"), "date": pd.Series(dtype="datetime64[ns]")}
                empty.update({c: pd.Series(dtype="int64") for c in [*pols, "hours"]})
                return pd.DataFrame(empty)
            days = pd.date_range(lo, hi, freq="D").astype("datetime64[ns]")
            idx = pd.MultiIndex.from_product([pd.Index(sts, dtype="str"), days], names=["station", "date"])
            out = got.set_index(["station", "date"]).reindex(idx, fill_value=0).astype("int64")
            return out.reset_index()

        return self._read(snapshot, build)

    def revisions(
        self,
        start: Any = None,
        end: Any = None,
        *,
        stations: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        snapshot: Snapshot | None = None,
    ) -> pd.DataFrame:
        """Measured rows that a later ingest replaced (the older values).

        Returns
        -------
        pandas.DataFrame
            The stored columns of the old row (``revision`` = its revision number, 0 = first
            version) plus ``replaced_at`` (Beijing) and ``replaced_by`` (the ingest id); sorted by
            station, time, revision.
        """
        s, e = _to_utc(start, "start"), _to_utc(end, "end")
        stations_l = _names(stations, "stations")
        sources_l = _names(sources, "sources")

        def build(snap: Snapshot) -> pd.DataFrame:
            files = snap.select("revisions", sources=sources_l, start=s, end=e)
            if not files:
                return _frame_from_arrow_schema(REVISION_SCHEMA)
            params: dict[str, Any] = {}
            sel, scan = self._scan(files, REVISION_SCHEMA, REVISION_SCHEMA.names, params)
            where = self._time_where(s, e, params)
            if stations_l:
                where.append(self._in("station", stations_l, "st", params))
            sql = (
                f"SELECT {sel} FROM {scan} "
                f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY station, time, source, revision"
            )
            return _finish(self._query(sql, params))

        return self._read(snapshot, build)

    def _model(
        self,
        kind: _Kind,
        start,
        end,
        points,
        sources,
        models,
        variables,
        run,
        snapshot,
    ) -> pd.DataFrame:
        s, e = _to_utc(start, "start"), _to_utc(end, "end")
        points_l = _names(points, "points")
        sources_l = _names(sources, "sources")
        models_l = _names(models, "models")
        vars_l = _names(variables, "variables")
        run_ts = None
        if not (isinstance(run, str) and run in ("latest", "all")):
            run_ts = _to_utc(run, "run")
            if run_ts is None:
                raise InputError(f"run={run!r}: give 'latest', 'all' or a run time", column="run")
        key_cols = [f.name for f in _MODEL_KEY_FIELDS]

        def build(snap: Snapshot) -> pd.DataFrame:
            files = snap.select(kind.name, sources=sources_l, start=s, end=e)
            available: list[str] = []
            for f in files:
                available += [c for c in f.get("columns", []) if c not in available]
            if vars_l is not None:
                unknown = [v for v in vars_l if v not in available]
                if unknown and files:
                    raise InputError(
                        f"unknown {kind.name} variable(s) {unknown}; stored: {available}", column="variables"
                    )
            want = [v for v in (vars_l if vars_l is not None else available) if v in available]
            if not files:
                fields = list(_MODEL_KEY_FIELDS) + [pa.field(v, pa.float64()) for v in (vars_l or [])]
                return _frame_from_arrow_schema(pa.schema(fields))
            params: dict[str, Any] = {"files": [str(self._resolve(f["path"])) for f in files]}
            where = self._time_where(s, e, params)
            if points_l:
                where.append(self._in("point", points_l, "pt", params))
            if sources_l:
                where.append(self._in("source", sources_l, "sr", params))
            if models_l:
                where.append(self._in("model", models_l, "md", params))
            if run_ts is not None:
                params["run"] = run_ts.to_pydatetime()
                where.append("run_time = $run")
            qualify = ""
            if run == "latest":
                qualify = (
                    "QUALIFY row_number() OVER (PARTITION BY source, model, point, time "
                    "ORDER BY run_time DESC NULLS LAST) = 1"
                )
            sql = (
                f"SELECT {', '.join(_q(c) for c in key_cols + want)} "
                f"FROM read_parquet($files, hive_partitioning=false, union_by_name=true) "
                f"{'WHERE ' + ' AND '.join(where) if where else ''} {qualify} "
                "ORDER BY source, model, point, time, run_time"
            )
            return _finish(self._query(sql, params))

        return self._read(snapshot, build)

    def model_aq(
        self,
        start: Any = None,
        end: Any = None,
        *,
        points: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        models: str | Iterable[str] | None = None,
        variables: str | Iterable[str] | None = None,
        run: Any = "latest",
        snapshot: Snapshot | None = None,
    ) -> pd.DataFrame:
        """Modelled air-quality rows (forecasts/reanalyses), never mixed with measurements.

        Parameters
        ----------
        start, end : str, datetime or Timestamp, optional
            Inclusive bounds on the valid ``time`` (naive = Beijing).
        points, sources, models : str or iterable of str, optional
            Restrict to these.
        variables : str or iterable of str, optional
            Value columns to return (default all stored).
        run : {"latest", "all"} or time-like, default "latest"
            ``"latest"``: per (source, model, point, time) the row of the most recent run;
            ``"all"``: every run; a time: that run only.

        Returns
        -------
        pandas.DataFrame
            ``source, model, point, run_time, time`` (Beijing) and the variables in the units
            the loader stored (canonical: µg/m³, CO mg/m³).
        """
        return self._model(_MODEL_AQ, start, end, points, sources, models, variables, run, snapshot)

    def weather(
        self,
        start: Any = None,
        end: Any = None,
        *,
        points: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        models: str | Iterable[str] | None = None,
        variables: str | Iterable[str] | None = None,
        run: Any = "latest",
        snapshot: Snapshot | None = None,
    ) -> pd.DataFrame:
        """Weather rows (wind, temperature, boundary-layer height …); parameters as :meth:`model_aq`."""
        return self._model(_WEATHER, start, end, points, sources, models, variables, run, snapshot)

    # ---------------------------------------------------------------- writing
    def _upsert(
        self, kind: _Kind, frame: pd.DataFrame, source: str | None, run: str | None, log: bool
    ) -> IngestResult:
        t0 = _time.monotonic()
        started = _now()
        prep = _prepare(kind, frame, source)
        ingest_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        parts = {(kind.name, src, month) for src, month in prep.parts}
        parts |= {("revisions", src, month) for src, month in prep.parts} if kind.keep_revisions else set()
        with self.writer():
            # the files this write merges into: checked first, so a damaged month is quarantined and
            # rewritten from the new rows instead of failing the write (module docstring, "Damaged files")
            def touched() -> list[dict]:
                return [f for f in self._load().files if (f["kind"], f.get("source"), f.get("month")) in parts
                        or (f["kind"] == "records" and f.get("table") == "ingest_log")]

            self._repair_before_write(touched())
            for attempt in (0, 1):
                try:
                    return self._upsert_once(kind, prep, source, run, log, ingest_id, started, t0)
                except StoreError as exc:
                    cause = exc.__cause__
                    found = self._find_damage(touched(), named=_QUOTED_PATH.findall(str(cause))) \
                        if isinstance(cause, duckdb.Error) and attempt == 0 else {}
                    if not found:
                        raise
                    self._heal(found)
        raise AssertionError("unreachable")

    def _repair_before_write(self, files: list[dict]) -> None:
        """Quick-check the committed files a write will read; quarantine the damaged ones first."""
        found = self._find_damage(files, deep=False)
        if found:
            self._heal(found)

    def _upsert_once(self, kind: _Kind, prep: _Prepared, source: str | None, run: str | None, log: bool,
                     ingest_id: str, started: datetime, t0: float) -> IngestResult:
        res = IngestResult(
            kind=kind.name,
            sources=tuple(prep.sources),
            rejected=sum(prep.rejected.values()),
            rejected_reasons=dict(prep.rejected),
            start=prep.start,
            end=prep.end,
            ingest_id=ingest_id,
        )
        with self._transaction(f"ingest {kind.name} data") as txn:
            cur = self._con.cursor()
            try:
                for (src, month), part in prep.parts.items():
                    self._merge_partition(cur, txn, kind, src, month, part, prep.present, res, started)
            finally:
                cur.close()
            res.duration_s = _time.monotonic() - t0
            if log:
                self._log_row(
                    txn,
                    ingest_id=ingest_id,
                    run=run,
                    kind=kind.name,
                    source=";".join(prep.sources) or (source or ""),
                    start=prep.start,
                    end=prep.end,
                    rows=prep.n_input,
                    added=res.added,
                    updated=res.updated,
                    unchanged=res.unchanged,
                    rejected=res.rejected,
                    rejected_reasons=res.rejected_reasons,
                    errors=[],
                    status=(
                        "ok"
                        if not res.rejected
                        else ("partial" if res.added + res.updated + res.unchanged else "failed")
                    ),
                    started_at=started,
                    duration_s=res.duration_s,
                    version=txn.next_version,
                    note=None,
                )
        res.version = txn.result.version if txn.result is not None else txn.base.version
        return res

    def _merge_partition(
        self,
        cur: duckdb.DuckDBPyConnection,
        txn: _Commit,
        kind: _Kind,
        source: str,
        month: str,
        part: pa.Table,
        present: list[str],
        res: IngestResult,
        now: datetime,
    ) -> None:
        """Upsert one (source, month) partition's new rows ``part``."""
        rel_dir = f"{kind.name}/source={source}/month={month}"
        old = txn.live(kind.name, source, month)
        old_paths = [str(self._resolve(f["path"])) for f in old]
        # columns actually stored (older files may predate a column added to the vocabulary)
        old_cols = self._describe(cur, old_paths) if old else []
        if kind.schema is not None:
            all_values = [c for c in kind.schema.names if c not in kind.key and c not in META_COLUMNS]
        else:
            all_values = list(
                dict.fromkeys([c for c in old_cols if c not in kind.key and c not in META_COLUMNS] + present)
            )
        carry = [c for c in all_values if c not in present]
        keys = list(kind.key)
        n_in = part.num_rows
        key_list = ", ".join(_q(k) for k in keys)
        cur.register("inp", part)
        try:
            dups = cur.sql(
                f"SELECT coalesce(sum(c - 1), 0) FROM (SELECT count(*) AS c FROM inp GROUP BY {key_list} "
                "HAVING count(*) > 1)"
            ).fetchall()[0][0]
            if dups:  # the last row of a key in the input wins
                part = cur.sql(
                    "SELECT * EXCLUDE (__ord) FROM inp "
                    f"QUALIFY row_number() OVER (PARTITION BY {key_list} ORDER BY __ord DESC) = 1"
                ).to_arrow_table()
            else:
                part = part.drop_columns(["__ord"])
        finally:
            cur.unregister("inp")
        n_rows = part.num_rows
        if n_rows < n_in:
            reason = "duplicate key in input (last kept)"
            res.rejected_reasons[reason] = res.rejected_reasons.get(reason, 0) + (n_in - n_rows)
            res.rejected += n_in - n_rows
        sort_keys = ([kind.entity] if kind.entity else []) + [k for k in keys if k != kind.entity]
        schema = self._schema_for(kind, all_values)

        if not old:  # a new partition: everything is added
            res.added += n_rows
            table = part.sort_by([(k, "ascending") for k in sort_keys])
            table = table.append_column("ingest_id", pa.repeat(pa.scalar(res.ingest_id), n_rows))
            table = table.append_column("ingested_at", pa.repeat(pa.scalar(now, _TS), n_rows))
            table = table.append_column("revision", pa.repeat(pa.scalar(0, pa.int32()), n_rows))
            table = _conform(table, schema)
            txn.write(rel_dir, table, self._entry(kind, source, month, table, schema))
            res.files_written += 1
            return
        tmin, tmax = (v.as_py() for v in pc.min_max(part.column("time")).values())
        ctx = _Part(kind, source, month, rel_dir, old, old_cols, present, carry, schema, sort_keys, n_rows)
        cur.register("n", part)
        try:
            self._merge_existing(cur, txn, ctx, res, now, tmin, tmax)
        finally:
            cur.unregister("n")

    def _merge_existing(
        self,
        cur: duckdb.DuckDBPyConnection,
        txn: _Commit,
        ctx: _Part,
        res: IngestResult,
        now: datetime,
        tmin: datetime,
        tmax: datetime,
    ) -> None:
        """Merge the registered table ``n`` (new rows) with the partition's stored files."""
        kind, old, old_cols, present, schema = ctx.kind, ctx.old, ctx.old_cols, ctx.present, ctx.schema
        old_paths = [str(self._resolve(f["path"])) for f in old]
        keys = list(kind.key)
        key_list = ", ".join(_q(k) for k in keys)
        params: dict[str, Any] = {"iid": res.ingest_id, "now": now}

        def cond(a: str, b: str) -> str:
            return " AND ".join(
                f"{a}.{_q(k)} IS NOT DISTINCT FROM {b}.{_q(k)}"
                if k in kind.nullable_key
                else f"{a}.{_q(k)} = {b}.{_q(k)}"
                for k in keys
            )

        def oexpr(c: str) -> str:
            return f"o.{_q(c)}" if c in old_cols else "NULL"

        # classify each new row: added (no stored row), changed (a value differs, NULL-aware), unchanged
        same = " AND ".join(f"n.{_q(c)} IS NOT DISTINCT FROM {oexpr(c)}" for c in present) or "TRUE"
        carry_sel = "".join(f", {oexpr(c)} AS {_q(c)}" for c in ctx.carry)
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE j AS SELECT n.*{carry_sel}, o.__hit IS NOT NULL AS __existed, "
            f"(o.__hit IS NOT NULL AND NOT ({same})) AS __changed, o.revision AS __old_revision "
            "FROM n LEFT JOIN (SELECT *, TRUE AS __hit FROM read_parquet($files, hive_partitioning=false, "
            "union_by_name=true) WHERE time BETWEEN $tmin AND $tmax) o ON " + cond("n", "o"),
            {"files": old_paths, "tmin": tmin, "tmax": tmax},
        )
        added, updated = cur.sql(
            "SELECT count(*) FILTER (WHERE NOT __existed), count(*) FILTER (WHERE __changed) FROM j"
        ).fetchall()[0]
        res.added += added
        res.updated += updated
        res.unchanged += ctx.n_rows - added - updated
        if not added and not updated:
            return

        data_cols = [c for c in schema.names if c not in META_COLUMNS]
        order = ", ".join(_q(c) for c in ctx.sort_keys)
        new_sel = (
            f"SELECT {', '.join(_q(c) for c in data_cols)}, $iid AS ingest_id, $now::TIMESTAMPTZ AS ingested_at, "
            "coalesce(__old_revision + 1, 0)::INTEGER AS revision FROM j"
        )
        if updated == 0 and len(old) < MAX_PARTITION_FILES:
            # only new keys: append them as one more file, the stored files stay
            table = cur.sql(f"{new_sel} WHERE NOT __existed ORDER BY {order}", params=params).to_arrow_table()
        else:
            # rewrite the partition (and compact its files): stored rows not replaced + new/changed rows
            sql = (
                f"SELECT * FROM read_parquet($files, hive_partitioning=false, union_by_name=true) o "
                f"ANTI JOIN (SELECT {key_list} FROM j WHERE __changed) u ON {cond('o', 'u')} "
                f"UNION ALL BY NAME ({new_sel} WHERE NOT __existed OR __changed) ORDER BY {order}"
            )
            table = cur.sql(sql, params={**params, "files": old_paths}).to_arrow_table()
            txn.retire.update(f["path"] for f in old)
            if kind.keep_revisions and updated:
                rev = cur.sql(
                    f"SELECT o.*, $now::TIMESTAMPTZ AS replaced_at, $iid AS replaced_by "
                    f"FROM read_parquet($files, hive_partitioning=false, union_by_name=true) o "
                    f"SEMI JOIN (SELECT {key_list} FROM j WHERE __changed) u ON {cond('o', 'u')} "
                    f"ORDER BY {order}, revision",
                    params={**params, "files": old_paths},
                ).to_arrow_table()
                self._write_revisions(txn, ctx.source, ctx.month, _conform(rev, REVISION_SCHEMA))
        table = _conform(table, schema)
        txn.write(ctx.rel_dir, table, self._entry(kind, ctx.source, ctx.month, table, schema))
        res.files_written += 1

    def _write_revisions(self, txn: _Commit, source: str, month: str, table: pa.Table) -> None:
        old = txn.live("revisions", source, month)
        rel_dir = f"revisions/source={source}/month={month}"
        if len(old) >= MAX_PARTITION_FILES:
            parts = [pq.read_table(self._resolve(f["path"])) for f in old]
            prev = pa.concat_tables([_conform(p, REVISION_SCHEMA) for p in parts])
            table = pa.concat_tables([prev, table])
            txn.retire.update(f["path"] for f in old)
        txn.write(
            rel_dir, table, self._entry(_HOURLY, source, month, table, REVISION_SCHEMA, kind_name="revisions")
        )

    @staticmethod
    def _describe(cur: duckdb.DuckDBPyConnection, paths: list[str]) -> list[str]:
        """Column names of the union of ``paths``."""
        rows = cur.sql(
            "DESCRIBE SELECT * FROM read_parquet($files, hive_partitioning=false, union_by_name=true)",
            params={"files": paths},
        ).fetchall()
        return [r[0] for r in rows]

    @staticmethod
    def _schema_for(kind: _Kind, values: list[str]) -> pa.Schema:
        if kind.schema is not None:
            return kind.schema
        return pa.schema(
            list(_MODEL_KEY_FIELDS) + [pa.field(c, pa.float64()) for c in values] + list(_META_FIELDS)
        )

    @staticmethod
    def _entry(
        kind: _Kind, source: str, month: str, table: pa.Table, schema: pa.Schema, kind_name: str | None = None
    ) -> dict:
        tmin, tmax = pc.min_max(table.column("time")).values()
        entry: dict[str, Any] = {
            "kind": kind_name or kind.name,
            "source": source,
            "month": month,
            "min_time": _iso(tmin.as_py()) if tmin.is_valid else None,
            "max_time": _iso(tmax.as_py()) if tmax.is_valid else None,
        }
        if kind.valid and kind_name is None:
            mask = None
            for c in kind.valid:
                v = pc.is_valid(table.column(c))
                mask = v if mask is None else pc.or_(mask, v)
            entry["keys"] = sorted(pc.unique(pc.filter(table.column(kind.entity), mask)).to_pylist())
        if kind.schema is None:
            entry["columns"] = [c for c in schema.names if c not in kind.key and c not in META_COLUMNS]
        else:
            entry["schema"] = _fingerprint(schema)
        return entry

    def ingest_hourly(
        self, frame: pd.DataFrame, *, source: str | None = None, run: str | None = None, log: bool = True
    ) -> IngestResult:
        """Upsert measured hourly rows (a canonical hourly frame), keyed by (source, station, time).

        Parameters
        ----------
        frame : pandas.DataFrame
            Canonical hourly frame (see :mod:`regionair.nomenclature`): ``station``, ``time``
            (tz-aware, or naive = Beijing; on the hour), pollutants [µg/m³, CO mg/m³], ``source``,
            optional provenance columns. A pollutant or provenance column the frame does not
            carry is left as stored; a NaN in a carried column is a value (missing).
        source : str, optional
            Source name, if the frame has no ``source`` column (or to check it).
        run : str, optional
            Id grouping several calls of one CLI run in the ingest log.
        log : bool, default True
            Append a row to the ingest log (in the same commit).

        Returns
        -------
        IngestResult
            Rows added, updated (revised upstream: the old row goes to :meth:`revisions`),
            unchanged and rejected (missing station/time, time not on the hour, duplicate key).

        Raises
        ------
        InputError
            Not a frame, a required column missing, a non-numeric pollutant column, model columns.
        StoreError
            Locked by another writer, read-only directory, disk full; the store is then unchanged.
        """
        return self._upsert(_HOURLY, frame, source, run, log)

    def ingest_model(
        self, frame: pd.DataFrame, *, source: str | None = None, run: str | None = None, log: bool = True
    ) -> IngestResult:
        """Upsert modelled air-quality rows, keyed by (source, model, point, run_time, time).

        Parameters
        ----------
        frame : pandas.DataFrame
            ``point`` (grid point / location id), ``time`` (valid time, hour-ending as measured
            data), ``run_time`` (issue time of the model run; NaT for analyses), optional ``model``
            (e.g. ``cams_global``), optional ``source``, and numeric value columns named
            ``[a-z][a-z0-9_]*`` (canonical pollutant names in canonical units where they apply:
            convert CO to mg/m³ in the loader).
        source, run, log
            As :meth:`ingest_hourly`.
        """
        return self._upsert(_MODEL_AQ, frame, source, run, log)

    def ingest_weather(
        self, frame: pd.DataFrame, *, source: str | None = None, run: str | None = None, log: bool = True
    ) -> IngestResult:
        """Upsert weather rows (wind speed [m/s], direction [°], temperature [°C], boundary-layer
        height [m] …), keyed by (source, model, point, run_time, time); frame as :meth:`ingest_model`."""
        return self._upsert(_WEATHER, frame, source, run, log)

    # ---------------------------------------------------------------- gaps
    def record_gaps(
        self,
        times: Any,
        *,
        source: str | None = None,
        reason: str | None = None,
        detail: str | None = None,
    ) -> IngestResult:
        """Record hours a source did not publish (e.g. HTTP 404), keyed by (source, time).

        Parameters
        ----------
        times : time-like, iterable of time-like, or DataFrame
            Hour-ending stamps (naive = Beijing), or a frame with ``time``, ``reason`` and optional
            ``detail``, ``source``.
        source : str
            Source name (unless the frame has a ``source`` column).
        reason : str
            Short cause, e.g. ``"HTTP 404 not published"`` (unless the frame has ``reason``).
        detail : str, optional
            Free text (URL, message).
        """
        if isinstance(times, pd.DataFrame):
            frame = times.copy()
        else:
            if isinstance(times, (str, datetime, date, pd.Timestamp)) or not isinstance(times, Iterable):
                times = [times]
            frame = pd.DataFrame({"time": list(times)})
        if "reason" not in frame.columns:
            if reason is None:
                raise InputError(
                    "record_gaps needs reason=… (e.g. 'HTTP 404 not published')", column="reason"
                )
            frame["reason"] = reason
        if "detail" not in frame.columns:
            frame["detail"] = detail
        return self._upsert(_GAPS, frame, source, None, False)

    def gaps(
        self,
        start: Any = None,
        end: Any = None,
        *,
        sources: str | Iterable[str] | None = None,
        include_filled: bool = False,
        snapshot: Snapshot | None = None,
    ) -> pd.DataFrame:
        """Recorded gaps.

        Parameters
        ----------
        start, end : time-like, optional
            Inclusive bounds on the gap hour (naive = Beijing).
        sources : str or iterable of str, optional
        include_filled : bool, default False
            Also return gaps for which that source's measurements have since been stored.

        Returns
        -------
        pandas.DataFrame
            ``source``, ``time`` (Beijing), ``reason``, ``detail``, ``recorded_at`` and ``filled``.
        """
        s, e = _to_utc(start, "start"), _to_utc(end, "end")
        sources_l = _names(sources, "sources")

        def build(snap: Snapshot) -> pd.DataFrame:
            files = snap.select("gaps", sources=sources_l, start=s, end=e)
            empty = _frame_from_arrow_schema(
                pa.schema(
                    [
                        pa.field("source", pa.string()),
                        pa.field("time", _TS),
                        pa.field("reason", pa.string()),
                        pa.field("detail", pa.string()),
                        pa.field("recorded_at", _TS),
                        pa.field("filled", pa.bool_()),
                    ]
                )
            )
            if not files:
                return empty
            params: dict[str, Any] = {"files": [str(self._resolve(f["path"])) for f in files]}
            where = self._time_where(s, e, params, col="time")
            if sources_l:
                where.append(self._in("source", sources_l, "sr", params))
            hfiles = snap.select("hourly", sources=sources_l, start=s, end=e)
            if hfiles:
                _, hscan = self._scan(hfiles, HOURLY_SCHEMA, ["source", "time"], params, name="hfiles")
                filled = f"EXISTS (SELECT 1 FROM {hscan} h WHERE h.source = g.source AND h.time = g.time)"
            else:
                filled = "FALSE"
            sql = (
                f"SELECT * FROM (SELECT g.source, g.time, g.reason, g.detail, g.ingested_at AS recorded_at, "
                f"{filled} AS filled FROM read_parquet($files, hive_partitioning=false) g "
                f"{'WHERE ' + ' AND '.join(where) if where else ''}) "
                f"{'' if include_filled else 'WHERE NOT filled'} ORDER BY source, time"
            )
            return _finish(self._query(sql, params))

        return self._read(snapshot, build)

    # ---------------------------------------------------------------- records & log
    def _append_table(self, txn: _Commit, table_name: str, table: pa.Table) -> None:
        old = txn.live("records", table=table_name)
        if len(old) >= MAX_RECORD_FILES:
            cur = self._con.cursor()
            try:
                prev = cur.sql(
                    "SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet($files, hive_partitioning=false, "
                    "union_by_name=true, filename=true, file_row_number=true) "
                    "ORDER BY list_position($files, filename), file_row_number",
                    params={"files": [str(self._resolve(f["path"])) for f in old]},
                ).to_arrow_table()
                cur.register("prev_t", prev)
                cur.register("new_t", table)
                table = cur.sql("SELECT * FROM prev_t UNION ALL BY NAME SELECT * FROM new_t").to_arrow_table()
            finally:
                cur.close()
            txn.retire.update(f["path"] for f in old)
        txn.write(f"records/{table_name}", table, {"kind": "records", "table": table_name})

    def _log_row(self, txn: _Commit, **row: Any) -> None:
        row["rejected_reasons"] = json.dumps(row.get("rejected_reasons") or {}, ensure_ascii=False)
        row["errors"] = json.dumps([str(e) for e in (row.get("errors") or [])], ensure_ascii=False)
        for c in ("start", "end", "started_at"):
            v = row.get(c)
            row[c] = None if v is None or pd.isna(v) else pd.Timestamp(v).tz_convert("UTC").to_pydatetime()
        row["finished_at"] = _now()
        row["pid"] = os.getpid()
        table = pa.Table.from_pylist([{f.name: row.get(f.name) for f in _LOG_SCHEMA}], schema=_LOG_SCHEMA)
        self._append_table(txn, "ingest_log", table)

    def log_run(
        self,
        source: str,
        *,
        kind: str = "hourly",
        start: Any = None,
        end: Any = None,
        rows: int = 0,
        added: int = 0,
        updated: int = 0,
        unchanged: int = 0,
        rejected: int = 0,
        errors: Sequence[str] = (),
        status: str | None = None,
        started_at: Any = None,
        duration_s: float | None = None,
        run: str | None = None,
        note: str | None = None,
    ) -> None:
        """Append one row to the ingest log (e.g. a CLI run that failed before storing rows).

        Every ``ingest_*`` call already logs itself; use this for runs as a whole: fetch errors,
        gaps, a failed run. ``status`` defaults to ``"failed"`` when there are errors and no rows
        were stored, ``"partial"`` with errors, else ``"ok"``. Times naive = Beijing; ``duration_s`` [s].
        """
        if status is None:
            status = ("failed" if not (added or updated or unchanged) else "partial") if errors else "ok"
        with self._transaction("write the ingest log") as txn:
            self._log_row(
                txn,
                ingest_id=None,
                run=run,
                kind=kind,
                source=source,
                start=_to_utc(start, "start"),
                end=_to_utc(end, "end"),
                rows=rows,
                added=added,
                updated=updated,
                unchanged=unchanged,
                rejected=rejected,
                rejected_reasons={},
                errors=list(errors),
                status=status,
                started_at=_to_utc(started_at, "started_at") if started_at is not None else _now(),
                duration_s=duration_s,
                version=txn.next_version,
                note=note,
            )

    def ingest_log(self, *, source: str | None = None, snapshot: Snapshot | None = None) -> pd.DataFrame:
        """Every logged run, oldest first.

        Returns
        -------
        pandas.DataFrame
            ``ingest_id, run, kind, source, start, end`` (Beijing), ``rows, added, updated,
            unchanged, rejected`` [rows], ``rejected_reasons`` (JSON object), ``errors`` (JSON list),
            ``status`` (``ok``; ``partial``: some rows rejected or errors; ``failed``: nothing stored),
            ``started_at, finished_at`` (Beijing), ``duration_s`` [s], ``version``,
            ``pid``, ``note``.
        """
        df = self.records("ingest_log", snapshot=snapshot)
        if df.empty:
            df = _frame_from_arrow_schema(_LOG_SCHEMA)
        if source is not None:
            df = df[df["source"].str.split(";").apply(lambda s: source in s)]
        return df.sort_values("started_at", kind="stable").reset_index(drop=True)

    def append_records(self, table: str, df: pd.DataFrame) -> int:
        """Append rows to a small generic table (decision log, audit log …).

        Parameters
        ----------
        table : str
            Table name, ``[a-z][a-z0-9_]*``.
        df : pandas.DataFrame
            Rows; a ``recorded_at`` column (UTC now) is added when absent. Columns may differ
            between appends (missing ones read back as null) but a column's type must not change.

        Returns
        -------
        int
            The manifest version after the append.
        """
        _check_table(table)
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"append_records expects a DataFrame, got {type(df).__name__}")
        df = df.reset_index(drop=True)
        if "recorded_at" not in df.columns:
            df = df.assign(recorded_at=pd.Timestamp(_now()))
        try:
            arrow = pa.Table.from_pandas(df, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(
                f"records for {table!r} cannot be stored: {exc}. Hint: give each column one type"
            ) from exc
        bad = [c for c in arrow.column_names if not isinstance(c, str) or not c]
        if bad:
            raise InputError(f"records for {table!r}: column names must be non-empty strings, got {bad}")
        arrow = arrow.replace_schema_metadata(None)
        with self.writer():
            self._repair_before_write([f for f in self._load().files if f["kind"] == "records" and f.get("table") == table])
            with self._transaction(f"append to {table}") as txn:
                self._append_table(txn, table, arrow)
        return txn.result.version if txn.result is not None else txn.base.version

    def records(self, table: str, *, snapshot: Snapshot | None = None) -> pd.DataFrame:
        """All rows of a generic table in append order (empty frame if it does not exist)."""
        _check_table(table)

        def build(snap: Snapshot) -> pd.DataFrame:
            files = snap.select("records", table=table)
            if not files:
                return pd.DataFrame()
            params = {"files": [str(self._resolve(f["path"])) for f in files]}
            sql = (
                "SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet($files, hive_partitioning=false, "
                "union_by_name=true, filename=true, file_row_number=true) "
                "ORDER BY list_position($files, filename), file_row_number"
            )
            return _finish(self._query(sql, params))

        return self._read(snapshot, build)

    # ---------------------------------------------------------------- stats
    def stats(self, *, snapshot: Snapshot | None = None) -> pd.DataFrame:
        """What the store holds, from the manifest (no data read).

        Returns
        -------
        pandas.DataFrame
            One row per (kind, source or table): ``files``, ``rows`` [rows], ``bytes`` [B],
            ``stations`` (stations with valid data; hourly only), ``start``, ``end`` (Beijing).
        """
        snap = snapshot or self.snapshot()
        acc: dict[tuple[str, str], dict] = {}
        for f in snap.files:
            k = (f["kind"], f.get("source") or f.get("table") or "")
            a = acc.setdefault(
                k, {"files": 0, "rows": 0, "bytes": 0, "keys": set(), "start": None, "end": None}
            )
            a["files"] += 1
            a["rows"] += int(f.get("rows", 0))
            a["bytes"] += int(f.get("bytes", 0))
            a["keys"].update(f.get("keys") or ())
            if f.get("min_time"):
                a["start"] = f["min_time"] if a["start"] is None else min(a["start"], f["min_time"])
            if f.get("max_time"):
                a["end"] = f["max_time"] if a["end"] is None else max(a["end"], f["max_time"])
        rows = [
            {
                "kind": k,
                "source": s,
                "files": a["files"],
                "rows": a["rows"],
                "bytes": a["bytes"],
                "stations": len(a["keys"]),
                "start": a["start"],
                "end": a["end"],
            }
            for (k, s), a in sorted(acc.items())
        ]
        cols = ["kind", "source", "files", "rows", "bytes", "stations", "start", "end"]
        out = pd.DataFrame(rows, columns=cols).astype(
            {
                "kind": "str",
                "source": "str",
                "files": "int64",
                "rows": "int64",
                "bytes": "int64",
                "stations": "int64",
            }
        )
        for c in ("start", "end"):
            out[c] = (
                pd.to_datetime(out[c], utc=True).dt.tz_convert(TZ_NAME).astype(f"datetime64[ns, {TZ_NAME}]")
            )
        return out
