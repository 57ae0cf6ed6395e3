"""quotsoft.net daily CNEMC files: ``china_sites_YYYYMMDD.csv`` (wide) and the station list.

Source: sources.md §1b (王晓磊's mirror of the CNEMC real-time platform).

Request::

    GET https://quotsoft.net/air/data/china_sites_{YYYYMMDD}.csv     (stations, ≈2 MB/day)
    GET https://quotsoft.net/air/data/china_cities_{YYYYMMDD}.csv    (cities; not parsed here)

Wide layout: header ``date,hour,type,<station code…>`` (a trailing empty column may exist); 15 rows
per hour with ``type`` ∈ AQI, PM2.5, PM2.5_24h, PM10, PM10_24h, SO2, SO2_24h, NO2, NO2_24h, O3,
O3_24h, O3_8h, O3_8h_24h, CO, CO_24h. Types are matched **exactly** (``"PM2.5" in t`` would also
match ``PM2.5_24h``, a bug seen in public code). Units as CNEMC: µg/m³, CO mg/m³; AQI = HJ 633.

Time attribution (standards.md §6.1, an inference — UNCONFIRMED by quotsoft): row ``date=D, hour=h``
is the CNEMC stamp ``D h:00`` Beijing time, hour-ending (mean of ``h−1 … h``). Hence **hour 0 of the
file for D is the stamp D 00:00, the last hour (23–24 h) of natural day D−1**; the daily
aggregation (``regionair.core.averaging``) assigns it to D−1 — this module only stamps it. A natural day
D therefore needs the files of D (hours 1–23) and D+1 (hour 0).

O3 columns: the publisher documents ``O3`` = current 1-h, ``O3_24h`` = max 1-h of the last 24 h,
``O3_8h`` = current 8-h moving mean, ``O3_8h_24h`` = its daily max; CNEMC's raw feed had the pairs
swapped until 2023-11 (standards.md §6.3) and it is not known whether quotsoft corrected it. The
parser **checks** each file: a maximum is never below the concurrent current value; the layout
that satisfies this is used (see :func:`parse_sites_day`).
"""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from regionair.core.nomenclature import POLLUTANTS, TZ, beijing_date
from regionair.errors import InputError, NotPublished, SourceError
from regionair.sources.containers import check_xlsx_container
from regionair.sources.http import HttpClient
from regionair.sources.plausibility import (
    RANGES,
    PlausibilityWarning,
    Refusal,
    check_size,
    looks_like_formula,
    short_records,
    take_refusals,
    with_refusals,
)
from regionair.sources.plausibility import clock_skew as _clock_skew

__all__ = [
    "DEFAULT_BASE_URL",
    "TYPE_MAP",
    "QuotsoftWarning",
    "daily_url",
    "get_quotsoft",
    "parse_sites_day",
    "parse_station_list",
    "read_quotsoft",
]

log = logging.getLogger(__name__)

SOURCE = "quotsoft"
DEFAULT_BASE_URL = "https://quotsoft.net/air/data"
BASE_URL_ENV = "REGIONAIR_QUOTSOFT_BASE_URL"
#: Days younger than this are re-fetched (the mirror is "updated daily"; sources.md §1b).
MUTABLE_WINDOW = pd.Timedelta(days=3)

#: ``type`` value → column (exact match). ``O3``/``O3_24h``/``O3_8h``/``O3_8h_24h`` are resolved
#: by :func:`_resolve_o3`, not by this table.
TYPE_MAP: dict[str, str] = {
    "AQI": "published_aqi",
    "PM2.5": "pm25",
    "PM2.5_24h": "published_pm25_24h",
    "PM10": "pm10",
    "PM10_24h": "published_pm10_24h",
    "SO2": "so2",
    "SO2_24h": "published_so2_24h",
    "NO2": "no2",
    "NO2_24h": "published_no2_24h",
    "CO": "co",
    "CO_24h": "published_co_24h",
}
O3_TYPES = ("O3", "O3_24h", "O3_8h", "O3_8h_24h")
KNOWN_TYPES = frozenset(TYPE_MAP) | frozenset(O3_TYPES)
#: ``type`` → physical range checked at the loader edge (:data:`regionair.sources.plausibility.RANGES`).
TYPE_RANGE: dict[str, str] = {
    "AQI": "aqi", "PM2.5": "pm25", "PM2.5_24h": "pm25", "PM10": "pm10", "PM10_24h": "pm10", "SO2": "so2",
    "SO2_24h": "so2", "NO2": "no2", "NO2_24h": "no2", "CO": "co", "CO_24h": "co", "O3": "o3", "O3_24h": "o3",
    "O3_8h": "o3", "O3_8h_24h": "o3",
}
#: Largest local quotsoft file read (a national day is ~1 MB) [bytes].
MAX_FILE_BYTES = 256 * 1024 * 1024

#: Missing-value tokens (as the CNEMC archive, sources.md §1a).
MISSING_TOKENS = frozenset({"", "NA", "N/A", "—", "-", "-;", "/", "null", "NULL", "nan", "NaN"})

#: Last day of the swapped O3 layout in CNEMC's feed (HeQinWill README), used only to break ties.
O3_SWAP_END = pd.Timestamp("2023-11-09", tz=TZ)

_STATION_LIST_COLUMNS = {
    "监测点编码": "code",
    "监测点名称": "name",
    "城市": "city",
    "经度": "longitude",
    "纬度": "latitude",
    "对照点": "background",
}
_YES = {"Y", "YES", "TRUE", "1", "是"}
_NO = {"N", "NO", "FALSE", "0", "否"}


#: Columns of the frames this module returns.
COLUMNS: tuple[str, ...] = (
    "station", "time", *POLLUTANTS, "source",
    "published_aqi", "published_pm25_24h", "published_pm10_24h", "published_so2_24h",
    "published_no2_24h", "published_co_24h", "published_o3_8h", "published_o3_1h_max",
)


def _empty_frame() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS})
    out["station"] = out["station"].astype(str)
    out["source"] = out["source"].astype(str)
    out["time"] = pd.Series(dtype=f"datetime64[ns, {TZ.key}]")
    return out


class QuotsoftWarning(UserWarning):
    """A recoverable defect in a quotsoft file (counted, not fatal)."""


# --------------------------------------------------------------------------- URLs


def resolve_base_url(base: str | None = None) -> str:
    """Argument, else ``$REGIONAIR_QUOTSOFT_BASE_URL``, else :data:`DEFAULT_BASE_URL`."""
    return (base or os.environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL).rstrip("/")


def daily_url(date, kind: str = "sites", base_url: str | None = None) -> str:
    """URL of one daily quotsoft file.

    Parameters
    ----------
    date : date-like
        The file's date (Beijing calendar date; ``"20220101"`` accepted).
    kind : {"sites", "cities"}
        Station file or city file.
    base_url : str, optional
        Default from ``$REGIONAIR_QUOTSOFT_BASE_URL`` or :data:`DEFAULT_BASE_URL`.

    Examples
    --------
    >>> daily_url("2022-01-01")
    'https://quotsoft.net/air/data/china_sites_20220101.csv'
    """
    if kind not in ("sites", "cities"):
        raise InputError(f"kind must be 'sites' or 'cities', got {kind!r}", column="kind")
    d = beijing_date(date)
    return f"{resolve_base_url(base_url)}/china_{kind}_{d:%Y%m%d}.csv"


# --------------------------------------------------------------------------- parsing


def _decode(data: bytes, name: str, encodings=("utf-8-sig", "gb18030")) -> tuple[str, str]:
    for enc in encodings:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputError(
        f"text is neither {' nor '.join(encodings)}; re-save the file as UTF-8",
        path=name,
    )


def _read_table(text: str, name: str, *, blank_lines: bool = False) -> pd.DataFrame:
    """The table as text cells; with ``blank_lines`` blank records are kept (as empty rows), so that
    row ``i`` is record ``i + 1`` of the file (line ``i + 2``)."""
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                          skipinitialspace=True, skip_blank_lines=not blank_lines)
    except pd.errors.EmptyDataError:
        raise InputError("empty file", path=name, line=1) from None
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(f"malformed CSV: {exc}", path=name, line=int(m.group(1)) if m else None) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    # trailing empty column(s): header ends with ',' (sources.md §1b)
    empty_cols = [c for c in raw.columns if c == "" or c.startswith("Unnamed:")]
    for c in empty_cols:
        if (raw[c].fillna("").str.strip() != "").any():
            warnings.warn(f"{name}: column without a header ({c}) has values; ignored", QuotsoftWarning, stacklevel=4)
    return raw.drop(columns=empty_cols)


def _numeric(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, bad text mask, non-finite mask); bad cells are NaN."""
    s = values.fillna("").astype(str).str.strip()
    blank = s.isin(MISSING_TOKENS).to_numpy()
    num = pd.to_numeric(s.where(~blank), errors="coerce").to_numpy(dtype="float64", copy=True)
    inf = np.isinf(num)
    num[inf] = np.nan  # 'inf', '1e400': not a concentration — a bad cell like any text
    bad = np.isnan(num) & ~blank
    return num, bad, inf


def _resolve_pair(cur: np.ndarray, mx: np.ndarray, label: str, name: str):
    """Decide which of (documented current, documented max) is the current value.

    Returns (current, maximum, swapped: bool | None). ``None`` = ambiguous.
    """
    both = ~np.isnan(cur) & ~np.isnan(mx)
    direct_bad = int((both & (cur > mx)).sum())  # documented layout violated
    swap_bad = int((both & (mx > cur)).sum())  # swapped layout violated
    if direct_bad == 0:
        return cur, mx, False
    if swap_bad == 0:
        log.info("%s: %s columns swapped (max < current in %d rows); using the swapped layout", name, label, direct_bad)
        return mx, cur, True
    return cur, mx, None


def _resolve_o3(wide: pd.DataFrame, name: str) -> pd.DataFrame:
    """Fill ``o3``, ``published_o3_1h_max`` and ``published_o3_8h`` from the four O3 types (checked)."""
    nan = np.full(len(wide), np.nan)
    o3, o3max = (wide.get(t, pd.Series(nan, index=wide.index)).to_numpy() for t in ("O3", "O3_24h"))
    o8, o8max = (wide.get(t, pd.Series(nan, index=wide.index)).to_numpy() for t in ("O3_8h", "O3_8h_24h"))
    cur, mx, swapped = _resolve_pair(o3, o3max, "O3/O3_24h", name)
    if swapped is None:
        before = (wide["time"] < O3_SWAP_END).to_numpy()
        cur = np.where(before, o3max, o3)
        mx = np.where(before, o3, o3max)
        warnings.warn(
            f"{name}: O3 and O3_24h contradict each other in both directions (a running maximum below "
            "the current value); chose the layout by date (swapped before 2023-11-09) — check this file",
            QuotsoftWarning, stacklevel=4,
        )
    cur8, _, swapped8 = _resolve_pair(o8, o8max, "O3_8h/O3_8h_24h", name)
    if swapped8 is None:
        cur8 = nan
        warnings.warn(f"{name}: O3_8h and O3_8h_24h contradict each other; published_o3_8h left empty",
                      QuotsoftWarning, stacklevel=4)
    wide["o3"] = cur
    wide["published_o3_1h_max"] = mx
    wide["published_o3_8h"] = cur8
    return wide


def parse_sites_day(data: bytes, name: str = "<bytes>", *, stations: Iterable[str] | None = None, now=None,
                    clock_skew=None) -> pd.DataFrame:
    """Parse one ``china_sites_YYYYMMDD.csv`` into the canonical hourly frame.

    Parameters
    ----------
    data : bytes
        File content (UTF-8 with or without BOM; GB18030 accepted).
    name : str
        File name or URL, for messages.
    stations : iterable of str, optional
        Keep only these station codes.
    now, clock_skew : optional
        Clock and allowed lead [h] for the future-stamp rule (default now, 2 h;
        :func:`regionair.sources.plausibility.clock_skew`).

    Returns
    -------
    DataFrame
        Canonical hourly frame (:mod:`regionair.core.nomenclature`): ``station``, ``time`` (Beijing,
        hour-ending: row ``date=D, hour=h`` → ``D h:00``; hour 0 belongs to natural day D−1),
        ``pm25 pm10 so2 no2 o3`` [µg/m³], ``co`` [mg/m³], ``source="quotsoft"``, plus
        ``published_aqi`` (HJ 633 AQI), ``published_<p>_24h`` (24-h moving means),
        ``published_o3_8h`` (current 8-h moving mean [µg/m³]) and ``published_o3_1h_max``
        (running 1-h O3 maximum [µg/m³]). Station-hours with no value at all are dropped. Sorted
        by time, station. ``frame.attrs["refused"]`` lists what the loader-edge rules refused
        (:mod:`regionair.sources.plausibility`): truncated rows, station columns named like a
        formula, text, non-finite, negative and out-of-range values, rows stamped in the future.

    Raises
    ------
    InputError
        Undecodable text, no ``date,hour,type`` header, no station column, or no valid row.

    Warns
    -----
    QuotsoftWarning
        Counted recoverable defects: rows with a bad date/hour (skipped), unknown types
        (ignored), duplicated ``(date, hour, type)`` rows (last kept), non-numeric cells and
        negative values (set to missing), O3 columns that contradict both layouts.

    Notes
    -----
    O3 layout check: with ``both`` = rows where the two values exist, the documented layout
    (``O3`` current) holds when ``O3 ≤ O3_24h`` everywhere; the swapped one when
    ``O3_24h ≤ O3`` everywhere. If both fail the date decides (swapped before 2023-11-09, the
    end of the swap in CNEMC's feed) and a warning is issued. Likewise for ``O3_8h``/``O3_8h_24h``
    (left empty if contradictory — it is only used for reconciliation).
    """
    text, _ = _decode(data, name)
    raw = _read_table(text, name, blank_lines=True)
    refused: list[Refusal] = []
    line = pd.Series(np.arange(len(raw)) + 2, index=raw.index)  # 1-based, header = line 1
    blank_rows = (raw.apply(lambda c: c.str.strip()) == "").all(axis=1) if len(raw.columns) else line.astype(bool)
    header_fields = text.split("\n", 1)[0].rstrip("\r").split(",")
    named = max((i + 1 for i, h in enumerate(header_fields) if h.strip()), default=0)
    short, fields, _ = short_records(text, ",", need=named)
    short = short[(short >= 1) & (short - 1 < len(raw))] - 1  # record → row
    if short.size:  # never padded with missing values: the row is refused
        for i, n in zip(short.tolist(), fields[: short.size].tolist()):
            refused.append(Refusal(name, int(line.iloc[i]), None, "truncated", f"{n} field(s)",
                                   f"row has {n} field(s), the header {named}: truncated; row refused — download "
                                   "the file again"))
        blank_rows.iloc[short] = True
    raw, line = raw.loc[~blank_rows.to_numpy()], line.loc[~blank_rows.to_numpy()]
    lower = {c.lower(): c for c in raw.columns}
    missing = [k for k in ("date", "hour", "type") if k not in lower]
    if missing:
        raise InputError(
            f"header lacks {', '.join(missing)}; expected the quotsoft wide layout 'date,hour,type,<station codes…>'",
            path=name, line=1,
        )
    raw = raw.rename(columns={lower["date"]: "date", lower["hour"]: "hour", lower["type"]: "type"})
    codes = [c for c in raw.columns if c not in ("date", "hour", "type")]
    if not codes:
        raise InputError("no station columns after date,hour,type", path=name, line=1)
    formula = [c for c, f in zip(codes, looks_like_formula(codes)) if f]
    for c in formula:  # a header cell '=HYPERLINK(…)' is not a station code
        refused.append(Refusal(name, 1, c, "formula", c[:80], f"station column {c[:80]!r} is named like a "
                               "spreadsheet formula, not a station code; column refused", c))
    codes = [c for c in codes if c not in formula]
    if stations is not None:
        keep = {stations} if isinstance(stations, str) else set(stations)
        codes = [c for c in codes if c in keep]

    d = pd.to_datetime(raw["date"].str.strip(), format="%Y%m%d", errors="coerce")
    h = pd.to_numeric(raw["hour"].str.strip(), errors="coerce")
    bad_time = d.isna() | h.isna() | (h < 0) | (h > 23) | (h % 1 != 0)
    if bad_time.any():
        first = int(line[bad_time].iloc[0])
        warnings.warn(
            f"{name}: {int(bad_time.sum())} row(s) with an invalid date or hour skipped "
            f"(first at line {first}: date {raw.loc[bad_time, 'date'].iloc[0]!r}, hour {raw.loc[bad_time, 'hour'].iloc[0]!r}; "
            "expected YYYYMMDD and 0–23)",
            QuotsoftWarning, stacklevel=2,
        )
    m = re.search(r"(\d{8})", Path(str(name)).name)
    if m:
        file_day = pd.to_datetime(m.group(1), format="%Y%m%d", errors="coerce")
        other_day = ~bad_time & (d != file_day)
        if other_day.any():
            warnings.warn(f"{name}: {int(other_day.sum())} row(s) dated another day than the file name; kept as dated",
                          QuotsoftWarning, stacklevel=2)

    types = raw["type"].str.strip()
    unknown = ~types.isin(KNOWN_TYPES) & ~bad_time
    if unknown.any():
        warnings.warn(
            f"{name}: {int(unknown.sum())} row(s) of unknown type ignored ({sorted(set(types[unknown]))[:5]}); "
            f"known types: {', '.join(sorted(KNOWN_TYPES))}",
            QuotsoftWarning, stacklevel=2,
        )
    ok = ~bad_time & ~unknown
    if not ok.any():
        raise InputError("no valid data row (date YYYYMMDD, hour 0–23, a known type)", path=name)
    raw = raw.loc[ok].assign(type=types[ok])
    time = (d[ok] + pd.to_timedelta(h[ok].astype(int), unit="h")).dt.tz_localize(TZ)
    raw = raw.assign(time=time, _line=line[ok])
    now_ts = pd.Timestamp.now(tz=TZ) if now is None else pd.Timestamp(now)
    now_ts = now_ts.tz_localize(TZ) if now_ts.tzinfo is None else now_ts.tz_convert(TZ)
    skew = _clock_skew(clock_skew)
    ahead = (raw["time"] > now_ts + skew).to_numpy()
    if ahead.any():  # the whole row (one hour and type for every station) is refused
        for ln, t in zip(raw["_line"][ahead], raw["time"][ahead]):
            refused.append(Refusal(name, int(ln), "date,hour", "future", f"{t:%Y-%m-%d %H:%M}",
                                   f"time {t:%Y-%m-%d %H:%M} is {(t - now_ts).total_seconds() / 3600:,.1f} h after "
                                   f"now ({now_ts:%Y-%m-%d %H:%M}; allowed clock skew "
                                   f"{skew.total_seconds() / 3600:g} h); row refused — check the date"))
        raw = raw.loc[~ahead]
    dup = raw.duplicated(["time", "type"], keep="last")
    if dup.any():
        warnings.warn(f"{name}: {int(dup.sum())} duplicated (date, hour, type) row(s); the last one kept",
                      QuotsoftWarning, stacklevel=2)
        raw = raw.loc[~dup]

    long = raw.melt(id_vars=["time", "type", "_line"], value_vars=codes, var_name="station", value_name="raw")
    value, bad, inf = _numeric(long["raw"])
    high = np.array([RANGES[TYPE_RANGE.get(t, "aqi")].high for t in long["type"]], dtype="float64")
    above = ~np.isnan(value) & (value > high)
    for mask, reason, why in ((bad & ~inf, "not_number", "not a number; value refused (missing)"),
                              (inf, "non_finite", "not a finite number; value refused (missing)"),
                              (value < 0, "negative", "negative; a concentration cannot be below 0; value refused"),
                              (above, "above_range", None)):
        for i in np.flatnonzero(mask):
            t, cell, st = long["type"].iat[i], str(long["raw"].iat[i]).strip(), str(long["station"].iat[i])
            msg = why
            if reason == "above_range":
                rng = RANGES[TYPE_RANGE.get(t, "aqi")]
                msg = (f"{t} {cell} {rng.unit} is above the physical range {rng.low:g}–{rng.high:g} {rng.unit}; "
                       "value refused").replace("  ", " ")
            refused.append(Refusal(name, int(long["_line"].iat[i]), st, reason, cell[:80], f"{t} {cell[:80]!r}: {msg}"
                                   if reason != "above_range" else msg, st))
    value[above] = np.nan
    if bad.any():
        sample = long.loc[bad, ["station", "type", "raw"]].iloc[0].tolist()
        warnings.warn(
            f"{name}: {int(bad.sum())} non-numeric cell(s) set to missing (e.g. station {sample[0]} "
            f"{sample[1]} = {sample[2]!r})",
            QuotsoftWarning, stacklevel=2,
        )
    neg = value < 0
    if neg.any():
        warnings.warn(f"{name}: {int(neg.sum())} negative value(s) set to missing", QuotsoftWarning, stacklevel=2)
        value[neg] = np.nan
    long["value"] = value
    long["station"] = long["station"].astype(str).str.strip()
    long = long.drop(columns="_line")

    wide = long.pivot(index=["station", "time"], columns="type", values="value").reset_index()
    wide.columns.name = None
    wide = _resolve_o3(wide, name)
    out = pd.DataFrame({"station": wide["station"].astype(str), "time": wide["time"]})
    for t, col in TYPE_MAP.items():
        out[col] = wide[t].to_numpy(dtype="float64") if t in wide else np.nan
    for col in ("o3", "published_o3_1h_max", "published_o3_8h"):
        out[col] = wide[col].to_numpy(dtype="float64")
    out["source"] = SOURCE
    value_cols = [c for c in out.columns if c not in ("station", "time", "source")]
    out = out[out[value_cols].notna().any(axis=1)]
    out = out[list(COLUMNS)].sort_values(["time", "station"], kind="stable").reset_index(drop=True)
    out["time"] = out["time"].astype(f"datetime64[ns, {TZ.key}]")
    if refused:
        refused.sort(key=lambda r: (r.line or 0, str(r.column)))
        warnings.warn(f"{name}: {len(refused)} value(s)/row(s) refused ({', '.join(sorted({r.reason for r in refused}))}); "
                      f"first at line {refused[0].line}: {refused[0].message}", PlausibilityWarning, stacklevel=2)
    return with_refusals(out, refused)


def parse_station_list(data: bytes, name: str = "<bytes>") -> pd.DataFrame:
    """Parse a quotsoft/CNEMC station list (``站点列表-YYYY.MM.DD起.csv`` or ``.xlsx``).

    Parameters
    ----------
    data : bytes
        CSV (tried as UTF-8-SIG, then GB18030 — the encoding is not settled, sources.md §1b) or an
        XLSX workbook (first sheet).
    name : str
        File name, for messages.

    Returns
    -------
    DataFrame
        ``code`` (str), ``name`` (str), ``city`` (str), ``longitude``, ``latitude`` (float, WGS84
        degrees as published; ``-``/empty → NaN), ``background`` (boolean: 对照点 ``Y``/``N``; when
        the column is absent, derived from "对照点" in the name). Duplicate codes: last kept.

    Raises
    ------
    InputError
        Undecodable, or a required column (监测点编码, 监测点名称, 城市, 经度, 纬度) missing.
    """
    if data[:2] == b"PK":
        raw = _xlsx_first_sheet(data, name)
    else:
        text, _ = _decode(data, name)
        raw = _read_table(text, name)
    raw.columns = [str(c).strip().lstrip("\ufeff") for c in raw.columns]
    missing = [k for k in list(_STATION_LIST_COLUMNS)[:5] if k not in raw.columns]
    if missing:
        raise InputError(
            f"station list lacks column(s) {', '.join(missing)}; expected 监测点编码,监测点名称,城市,经度,纬度[,对照点]",
            path=name, line=1,
        )
    out = pd.DataFrame({
        "code": raw["监测点编码"].astype(str).str.strip(),
        "name": raw["监测点名称"].astype(str).str.strip(),
        "city": raw["城市"].astype(str).str.strip(),
    })
    for src, col, lo, hi in (("经度", "longitude", -180, 180), ("纬度", "latitude", -90, 90)):
        num, bad, _ = _numeric(raw[src].astype(str))
        out_of_range = ~np.isnan(num) & ((num < lo) | (num > hi))
        if bad.any() or out_of_range.any():
            warnings.warn(f"{name}: {int(bad.sum() + out_of_range.sum())} invalid {src} value(s) set to missing",
                          QuotsoftWarning, stacklevel=2)
        num[out_of_range] = np.nan
        out[col] = num
    if "对照点" in raw.columns:
        flag = raw["对照点"].astype(str).str.strip().str.upper()
        bg = pd.array([True if f in _YES else False if f in _NO else pd.NA for f in flag], dtype="boolean")
    else:
        bg = pd.array(out["name"].str.contains("对照点", regex=False).to_numpy(), dtype="boolean")
    out["background"] = bg
    out = out[out["code"] != ""]
    dup = out.duplicated("code", keep="last")
    if dup.any():
        warnings.warn(f"{name}: {int(dup.sum())} duplicated station code(s); last kept", QuotsoftWarning, stacklevel=2)
        out = out[~dup]
    return out.reset_index(drop=True)


def _xlsx_first_sheet(data: bytes, name: str) -> pd.DataFrame:
    check_xlsx_container(data, name)
    import openpyxl  # openpyxl loads only when a workbook is read or written

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"not a readable .xlsx workbook ({exc})", path=name) from None
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        raise InputError("empty workbook", path=name)
    header = ["" if v is None else str(v).strip() for v in rows[0]]
    body = [["" if v is None else str(v) for v in r] for r in rows[1:]]
    return pd.DataFrame(body, columns=header)


# --------------------------------------------------------------------------- files and HTTP


def _iter_site_files(paths) -> list[tuple[str, bytes]]:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    out: list[tuple[str, bytes]] = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError("no such file or folder", path=p)
        if p.is_dir():
            for f in sorted(p.rglob("china_sites_*.csv")):
                check_size(f, MAX_FILE_BYTES, what="quotsoft file")  # before reading it
                out.append((str(f), f.read_bytes()))
        elif p.suffix.lower() == ".zip":
            with zipfile.ZipFile(p) as zf:
                for info in sorted(zf.infolist(), key=lambda i: i.filename):
                    base = Path(info.filename).name
                    if info.is_dir() or not re.fullmatch(r"china_sites_\d{8}\.csv", base):
                        continue
                    if info.file_size > MAX_FILE_BYTES or info.file_size / max(info.compress_size, 1) > 100:
                        raise InputError(f"member {info.filename} is implausibly large (zip bomb?)", path=p)
                    out.append((f"{p}:{info.filename}", zf.read(info)))
        elif p.suffix.lower() == ".csv":
            check_size(p, MAX_FILE_BYTES, what="quotsoft file")  # before reading it
            out.append((str(p), p.read_bytes()))
        else:
            raise InputError(f"expected china_sites_YYYYMMDD.csv files, a folder or a .zip, got {p.suffix!r}", path=p)
    return out


def read_quotsoft(paths, *, stations: Iterable[str] | None = None) -> pd.DataFrame:
    """Read local ``china_sites_*.csv`` files (files, folders searched recursively, or zips).

    Returns
    -------
    DataFrame
        Canonical hourly frame (see :func:`parse_sites_day`); duplicate station-hours across files
        keep the later file.

    Raises
    ------
    InputError
        Missing path, wrong extension, no files, or a file that does not parse.
    """
    frames = [parse_sites_day(data, name, stations=stations) for name, data in _iter_site_files(paths)]
    if not frames:
        raise InputError("no china_sites_YYYYMMDD.csv files found", path=str(paths))
    refused = [r for f in frames for r in take_refusals(f)]
    out = pd.concat(frames, ignore_index=True).drop_duplicates(["station", "time"], keep="last")
    return with_refusals(out.sort_values(["time", "station"], kind="stable").reset_index(drop=True), refused)


def get_quotsoft(
    start_date,
    end_date,
    *,
    client: HttpClient,
    stations: Iterable[str] | None = None,
    base_url: str | None = None,
    on_error: str = "raise",
    now=None,
) -> pd.DataFrame:
    """Download and parse ``china_sites`` files for ``start_date … end_date`` (inclusive).

    Parameters
    ----------
    start_date, end_date : date-like
        File dates (Beijing calendar). Remember hour 0 of a file belongs to the previous
        natural day: for natural days A…B fetch A…B+1.
    client : HttpClient
        Transport; files older than 3 days are cached as immutable.
    stations : iterable of str, optional
        Keep only these station codes.
    base_url : str, optional
        See :func:`daily_url`.
    on_error : {"raise", "gap"}
        Transport/parse failure: raise, or record it as a gap.
    now : datetime-like, optional
        Current time (tests).

    Returns
    -------
    DataFrame
        Canonical hourly frame. ``frame.attrs["gaps"]`` lists ``(date, reason)`` for days not
        published (HTTP 404) or, with ``on_error="gap"``, failed.

    Raises
    ------
    InputError
        Bad dates or option.
    SourceError
        With ``on_error="raise"``: a download or parse failure.
    """
    if on_error not in ("raise", "gap"):
        raise InputError(f"on_error must be 'raise' or 'gap', got {on_error!r}", column="on_error")
    d0, d1 = beijing_date(start_date, "start_date"), beijing_date(end_date, "end_date")
    if d1 < d0:
        raise InputError(f"end_date {d1} is before start_date {d0}", column="end_date")
    now_ts = pd.Timestamp.now(tz=TZ) if now is None else pd.Timestamp(now)
    now_day = (now_ts.tz_convert(TZ) if now_ts.tzinfo is not None else now_ts).date()
    frames, gaps = [], []
    for day in pd.date_range(d0, d1, freq="D").date:
        url = daily_url(day, "sites", base_url)
        key = f"quotsoft/china_sites_{day:%Y%m%d}.csv"
        immutable = (pd.Timestamp(now_day) - pd.Timestamp(day)) > MUTABLE_WINDOW
        try:
            body = client.get(url, cache_key=key, immutable=immutable, expect="csv")
            frames.append(parse_sites_day(body, url, stations=stations, now=now))
        except NotPublished:
            gaps.append((day, "not published (HTTP 404)"))
        except (SourceError, InputError) as exc:
            client.evict(key)
            if on_error == "raise":
                if isinstance(exc, SourceError):
                    raise
                raise SourceError(f"{url}: the file does not parse: {exc}", url=url) from exc
            gaps.append((day, str(exc)))
    if gaps:
        warnings.warn(f"quotsoft: {len(gaps)} day(s) missing: " + ", ".join(f"{d} ({r})" for d, r in gaps[:5]),
                      QuotsoftWarning, stacklevel=2)
    refused = [r for f in frames for r in take_refusals(f)]
    if frames:
        out = pd.concat(frames, ignore_index=True).drop_duplicates(["station", "time"], keep="last")
        out = out.sort_values(["time", "station"], kind="stable").reset_index(drop=True)
    else:
        out = _empty_frame()
    out = with_refusals(out, refused)
    out.attrs["gaps"] = gaps
    return out
