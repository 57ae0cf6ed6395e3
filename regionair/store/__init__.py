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
import os
import threading

import duckdb

from regionair.errors import StoreError
from regionair.store.commit import (  # noqa: F401  (the store's names, as before the split)
    _Commit,
)
from regionair.store.derived import (  # noqa: F401  (the store's names, as before the split)
    _area_file_sources,
    _area_query_key,
    _assemble_area,
    _DerivedMixin,
    _hourly_months,
    _read_area_file,
)
from regionair.store.heal import _HealMixin
from regionair.store.layout import (  # noqa: F401  (the store's names, as before the split)
    IngestResult,
    Snapshot,
    _check_source,
    _check_table,
    _conform,
    _dump,
    _fingerprint,
    _finish,
    _frame_from_arrow_schema,
    _fsync_dir,
    _iso,
    _names,
    _now,
    _parquet_bytes,
    _q,
    _to_day,
    _to_utc,
    _write_bytes_atomic,
    resolve_store_path,
)
from regionair.store.locking import _LockingMixin
from regionair.store.manifest import _ManifestMixin
from regionair.store.prepare import (  # noqa: F401  (the store's names, as before the split)
    _as_float,
    _as_str,
    _as_utc_time,
    _month_codes,
    _Part,
    _prepare,
    _Prepared,
)
from regionair.store.reads import _ReadsMixin
from regionair.store.records import _RecordsMixin
from regionair.store.schema import (  # noqa: F401  (the store's names, as before the split)
    _AREA_DIR,
    _AREA_FILE_RE,
    _DATA_KINDS,
    _DIRS,
    _DUCK_TYPES,
    _GAPS,
    _HOURLY,
    _HOURLY_MONTH_RE,
    _ISO,
    _KINDS,
    _LOG_SCHEMA,
    _META_FIELDS,
    _MODEL_AQ,
    _MODEL_KEY_FIELDS,
    _MONTH_RE,
    _NAME_RE,
    _PART_RE,
    _PROVENANCE_TYPES,
    _SOURCE_RE,
    _TMP_PREFIX,
    _TS,
    _WEATHER,
    AREA_MEANS_FORMAT,
    AREA_SCHEMA,
    DERIVED_DIR,
    ENV_VAR,
    FORMAT,
    GAPS_SCHEMA,
    GRACE_SECONDS,
    HOURLY_SCHEMA,
    LOCK_FILE,
    LOCK_TIMEOUT,
    MANIFEST,
    MANIFEST_BAK,
    MAX_PARTITION_FILES,
    MAX_RECORD_FILES,
    META_COLUMNS,
    REVISION_SCHEMA,
    ROW_GROUP_SIZE,
    _Kind,
    _provenance_type,
)
from regionair.store.upserts import _UpsertsMixin

__all__ = [
    "ENV_VAR",
    "GRACE_SECONDS",
    "IngestResult",
    "Snapshot",
    "Store",
    "resolve_store_path",
]


class Store(_HealMixin, _DerivedMixin, _ManifestMixin, _LockingMixin, _ReadsMixin, _UpsertsMixin, _RecordsMixin):
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
        self._lock_fd: int | None = None

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r}, version={self.version})"

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
