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
