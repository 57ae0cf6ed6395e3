"""Small append-only record tables (ingest log, audit, meetings …) and store statistics."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from regionair.core.nomenclature import TZ_NAME
from regionair.errors import InputError
from regionair.store.commit import _Commit
from regionair.store.layout import Snapshot, _check_table, _finish, _frame_from_arrow_schema, _now, _to_utc
from regionair.store.schema import _LOG_SCHEMA, MAX_RECORD_FILES


class _RecordsMixin:
    """Small append-only record tables (ingest log, audit, meetings …) and store statistics. (a part of :class:`regionair.store.Store`)."""

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
