"""Derived caches: jurisdiction area means per month under ``derived/``, rebuilt when a month changes."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import time as _time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from regionair.core.nomenclature import POLLUTANTS, TZ_NAME
from regionair.errors import InputError
from regionair.store.layout import Snapshot, _conform, _finish, _names, _q, _to_utc, _write_bytes_atomic
from regionair.store.prepare import _month_codes
from regionair.store.schema import (
    _AREA_DIR,
    _AREA_FILE_RE,
    _HOURLY_MONTH_RE,
    _MONTH_RE,
    _TMP_PREFIX,
    AREA_MEANS_FORMAT,
    AREA_SCHEMA,
    DERIVED_DIR,
    GRACE_SECONDS,
    HOURLY_SCHEMA,
)


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


class _DerivedMixin:
    """Derived caches: jurisdiction area means per month under ``derived/``, rebuilt when a month changes. (a part of :class:`regionair.store.Store`)."""

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
        unit_of : ``{station code: unit id}`` — e.g. :func:`regionair.core.region.unit_map`.
        pollutants, sources : optional restrictions.

        Returns
        -------
        DataFrame ``station`` (the unit id), ``time``, one column per pollutant (mean over the unit's
        stations with a valid value; NaN when none) and ``n_<pollutant>`` (stations contributing) —
        the same as :func:`regionair.core.region.aggregate` on :meth:`hourly`. When several sources hold the
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
