"""Reads: DuckDB queries over the committed files (hourly, latest, coverage, revisions, model data, gaps)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from regionair.core.nomenclature import POLLUTANTS, PROVENANCE_COLUMNS, TZ_NAME
from regionair.errors import InputError, StoreError
from regionair.store.layout import (
    Snapshot,
    _fingerprint,
    _finish,
    _frame_from_arrow_schema,
    _names,
    _q,
    _to_day,
    _to_utc,
)
from regionair.store.schema import (
    _DUCK_TYPES,
    _MODEL_AQ,
    _MODEL_KEY_FIELDS,
    _TS,
    _WEATHER,
    HOURLY_SCHEMA,
    META_COLUMNS,
    REVISION_SCHEMA,
    _Kind,
)


class _ReadsMixin:
    """Reads: DuckDB queries over the committed files (hourly, latest, coverage, revisions, model data, gaps). (a part of :class:`regionair.store.Store`)."""

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
        period), retry once on the current snapshot."""
        snap = snap_arg or self.snapshot()
        for attempt in range(2):
            try:
                return build(snap)
            except duckdb.IOException as exc:
                fresh = self.snapshot() if snap_arg is None and attempt == 0 else snap
                if fresh.version != snap.version:
                    snap = fresh
                    continue
                raise StoreError(
                    f"cannot read the store {self.root} (version {snap.version}): {exc}. Hint: a data file listed "
                    "in manifest.json is missing or unreadable; re-open the store, or restore/re-ingest"
                ) from exc
            except duckdb.Error as exc:
                raise StoreError(f"query on the store {self.root} failed: {exc}") from exc
        raise AssertionError("unreachable")

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
            Station codes (resolve jurisdictions to stations with :mod:`regionair.core.region`).
        sources : str or iterable of str, optional
            Only rows from these sources.
        pollutants : str or iterable of str, optional
            Subset of :data:`~regionair.core.nomenclature.POLLUTANTS`; default all six.
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
