"""A store that heals: damaged files found, named, quarantined and read around; store check."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
import warnings
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from regionair.errors import StoreError
from regionair.store.commit import _Commit
from regionair.store.layout import Snapshot, _finish, _frame_from_arrow_schema, _now
from regionair.store.schema import (
    _DATA_KINDS,
    _PARQUET_MAGIC,
    _QUARANTINE_SCHEMA,
    INGESTED_FILES_TABLE,
    QUARANTINE_DIR,
    QUARANTINE_TABLE,
)

#: DuckDB names the file it failed on in quotes.
_QUOTED_PATH = re.compile(r"'([^']+\.parquet)'")


class StoreDamageWarning(UserWarning):
    """A committed store file is damaged: it was left out (and quarantined when the store is writable)."""


def _file_error(exc: Exception) -> bool:
    """Whether a DuckDB error may come from a damaged file (not from the query itself)."""
    return isinstance(exc, duckdb.IOException | duckdb.InvalidInputException | duckdb.InternalException) \
        or ".parquet" in str(exc)


def _describe_entry(e: dict) -> str:
    """``hourly data of cnemc-archive, month 2022-01`` / ``record table ingest_log``."""
    if e.get("kind") == "records":
        return f"record table {e.get('table')}"
    return f"{e.get('kind', '?')} data of {e.get('source', '?')}, month {e.get('month', '?')}"


class _HealMixin:
    """A store that heals: damaged files found, named, quarantined and read around; store check. (a part of :class:`regionair.store.Store`)."""

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
