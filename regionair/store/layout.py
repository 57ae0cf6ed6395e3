"""Where a store lives, values going in and out (times, names), files written whole, the result types."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from regionair.core.nomenclature import TZ_NAME
from regionair.errors import InputError
from regionair.store.schema import _ISO, _NAME_RE, _SOURCE_RE, _TMP_PREFIX, ENV_VAR, FORMAT, ROW_GROUP_SIZE


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
        path = env or Path(__file__).resolve().parents[2] / "data" / "store"
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
