"""A frame on its way in: validated, typed and split by partition, in named steps (:func:`_prepare`)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from regionair.core.nomenclature import TZ_NAME
from regionair.errors import InputError
from regionair.store.layout import _check_source
from regionair.store.schema import _NAME_RE, _SOURCE_RE, _TS, META_COLUMNS, _Kind


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
    """A frame on its way into the store, in named steps: shape checked, source set, key columns typed (rows
    with an unusable key rejected and counted by reason), value columns typed, converted to Arrow and split
    into (source, month) partitions."""
    cols = _check_shape(kind, frame)
    data: dict[str, pd.Series] = {"source": _source_column(frame, cols, source)}
    rejects = _Rejects(len(frame))
    t = _key_columns(kind, frame, cols, data, rejects)
    present = _value_columns(kind, frame, cols, data)
    keep = ~rejects.mask
    t_ok = t[keep]
    table = _to_arrow(kind, data, keep, present)
    table, parts, sources = _partitions(table, data["source"][keep], t_ok, source)
    start, end = (t_ok.min(), t_ok.max()) if len(t_ok) else (None, None)
    return _Prepared(
        table=table,
        present=present,
        rejected=rejects.reasons,
        sources=sources,
        parts=parts,
        start=start.tz_convert(TZ_NAME) if start is not None else None,
        end=end.tz_convert(TZ_NAME) if end is not None else None,
        n_input=len(frame),
    )


def _check_shape(kind: _Kind, frame: pd.DataFrame) -> list:
    """The frame's columns, after refusing what cannot be this kind of data (wrong type, model data among
    measurements or the reverse, missing key columns, a model frame without ``run_time``)."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(frame).__name__}")
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
    if kind.name in ("model_aq", "weather") and "run_time" not in cols:
        raise InputError(
            f"{kind.name} frame lacks 'run_time' (the model run's issue time); give it, or a column of "
            "NaT for analyses/observations without a run"
        )
    return cols


def _source_column(frame: pd.DataFrame, cols: list, source: str | None) -> pd.Series:
    """The rows' source: ``source=`` (which must agree with a ``source`` column, if any) or that column."""
    if "source" in cols:
        src = frame["source"]
        if source is None:
            return _as_str(src, "source")
        _check_source(source)
        other = src.dropna()
        other = other[other.astype(str) != source]
        if len(other):
            raise InputError(
                f"source={source!r} given but the frame's 'source' column holds {sorted(set(other.astype(str)))[:5]}",
                column="source",
            )
        return pd.Series(source, index=frame.index, dtype="str")
    if source is None:
        raise InputError("no source: pass source=… or give the frame a 'source' column", column="source")
    _check_source(source)
    return pd.Series(source, index=frame.index, dtype="str")


class _Rejects:
    """Rows refused on the way in, counted by their first reason."""

    def __init__(self, n: int):
        self.mask = np.zeros(n, dtype=bool)
        self.reasons: dict[str, int] = {}

    def add(self, mask: np.ndarray, reason: str) -> None:
        new = mask & ~self.mask
        k = int(new.sum())
        if k:
            self.reasons[reason] = self.reasons.get(reason, 0) + k
            self.mask |= new


def _key_columns(kind: _Kind, frame: pd.DataFrame, cols: list, data: dict, rejects: _Rejects) -> pd.Series:
    """Type the key columns into ``data`` (source checked, entity, ``time`` on the hour, run time, model) and
    reject the rows whose key is unusable; returns the UTC ``time``."""
    src = data["source"]
    bad_src = [s for s in pd.unique(src.dropna()) if not _SOURCE_RE.match(str(s))]
    rejects.add(src.isna().to_numpy(), "source missing")
    if bad_src:
        rejects.add(src.isin(bad_src).to_numpy(), "source name invalid (lower-case letters, digits, . _ -)")
    if kind.entity is not None:
        ent = _as_str(frame[kind.entity], kind.entity)
        data[kind.entity] = ent
        rejects.add((ent.isna() | (ent.str.strip() == "")).to_numpy(), f"{kind.entity} missing")
    t = _as_utc_time(frame["time"], "time")
    data["time"] = t
    nat = t.isna().to_numpy()
    rejects.add(nat, "time missing or unparseable")
    rejects.add((t.to_numpy(dtype="datetime64[us]").astype("int64") % 3_600_000_000 != 0) & ~nat, "time not on the hour")
    if "run_time" in kind.key:
        data["run_time"] = _as_utc_time(frame["run_time"], "run_time")
    if "model" in kind.key:
        data["model"] = (
            _as_str(frame["model"], "model")
            if "model" in cols
            else pd.Series(pd.NA, index=frame.index, dtype="str")
        )
    return t


def _value_columns(kind: _Kind, frame: pd.DataFrame, cols: list, data: dict) -> list[str]:
    """Type the value columns into ``data`` (by the kind's schema, or any well-named numeric column for
    kinds without one); columns the store does not keep are named in a warning. Returns the kept names."""
    present: list[str] = []
    dropped: list[str] = []
    types = {f.name: f.type for f in kind.schema} if kind.schema is not None else None
    for c in cols:
        if c in kind.key or c == kind.entity or c in data:
            continue
        if types is not None:
            if c not in types or c in META_COLUMNS:
                dropped.append(str(c))
                continue
            data[c] = _as_str(frame[c], c) if types[c] == pa.string() else _as_float(frame[c], c)
        else:
            if not isinstance(c, str) or not _NAME_RE.match(c) or c in META_COLUMNS:
                dropped.append(str(c))
                continue
            data[c] = _as_float(frame[c], c)
        present.append(c)
    if dropped:
        warnings.warn(
            f"{kind.name} ingest: column(s) {dropped} are not stored (not part of the {kind.name} schema)",
            stacklevel=4,
        )
    return present


def _to_arrow(kind: _Kind, data: dict, keep: np.ndarray, present: list[str]) -> pa.Table:
    """The kept rows as an Arrow table (key columns first), with ``__ord``: the input order."""
    arrays = {}
    for c in [c for c in (*kind.key, *present) if c in data]:
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
    arrays["__ord"] = pa.array(np.arange(int(keep.sum()), dtype="int64"))
    return pa.table(arrays)


def _partitions(table: pa.Table, src: pd.Series, t_ok: pd.Series, source: str | None):
    """(source, month) partitions of ``table``: sorted once by a partition code, then zero-copy slices.
    Returns (the sorted table, parts, sorted source names)."""
    n_ok = table.num_rows
    parts: dict[tuple[str, str], pa.Table] = {}
    if not n_ok:
        return table, parts, []
    if source is not None:  # one source for every row
        src_codes, src_names = np.zeros(n_ok, dtype="int64"), [source]
    else:
        src_codes, src_names = pd.factorize(src)
    code = src_codes.astype("int64") * 1_000_000 + _month_codes(t_ok)
    if not np.all(code[:-1] <= code[1:]):
        order = np.argsort(code, kind="stable")
        code = code[order]
        table = table.take(pa.array(order))
    bounds = np.flatnonzero(np.diff(code)) + 1
    for lo, hi in zip(np.r_[0, bounds].tolist(), np.r_[bounds, n_ok].tolist(), strict=True):
        c = int(code[lo])
        s, m = str(src_names[c // 1_000_000]), c % 1_000_000
        parts[(s, f"{m // 100:04d}-{m % 100:02d}")] = table.slice(lo, hi - lo)
    return table, parts, sorted(str(x) for x in src_names)


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
