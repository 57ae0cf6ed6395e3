"""Writes: upserts, merges with what is stored, revisions of changed values."""

from __future__ import annotations

import time as _time
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from regionair.errors import InputError
from regionair.store.commit import _Commit
from regionair.store.layout import IngestResult, _conform, _fingerprint, _iso, _now, _q
from regionair.store.prepare import _Part, _prepare
from regionair.store.schema import (
    _GAPS,
    _HOURLY,
    _META_FIELDS,
    _MODEL_AQ,
    _MODEL_KEY_FIELDS,
    _TS,
    _WEATHER,
    MAX_PARTITION_FILES,
    META_COLUMNS,
    REVISION_SCHEMA,
    _Kind,
)


class _UpsertsMixin:
    """Writes: upserts, merges with what is stored, revisions of changed values. (a part of :class:`regionair.store.Store`)."""

    # ---------------------------------------------------------------- writing
    def _upsert(
        self, kind: _Kind, frame: pd.DataFrame, source: str | None, run: str | None, log: bool
    ) -> IngestResult:
        t0 = _time.monotonic()
        started = _now()
        prep = _prepare(kind, frame, source)
        ingest_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
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
            Canonical hourly frame (see :mod:`regionair.core.nomenclature`): ``station``, ``time``
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
