"""Plausibility at the loader edge: one set of rules for every path into the store.

Every loader (the CNEMC archive, quotsoft, uploads, Open-Meteo) hands its canonical frame to
:func:`check_frame` before anything reaches the store, and reports what it refused as
:class:`Refusal` rows — file, line, column, reason — that the CLI prints on stderr and the upload
preview shows as a table (:func:`refusal_frame`, the one function both use).

What is refused
---------------
* a value outside its physical range (:data:`RANGES`; CO with a µg/m³ hint), a negative value and a
  non-finite one (``inf``, ``1e400``; ``1e308`` is finite but far above every range) — the
  **value** is refused (missing, never 0); the rest of the row is kept;
* a time stamp later than now plus a small clock-skew allowance (:data:`DEFAULT_CLOCK_SKEW`, 2 h;
  ``clock_skew=`` or env ``REGIONAIR_CLOCK_SKEW_HOURS``) — the **row** is refused;
* a truncated row (fewer fields than the header: :func:`short_records`) and a formula in a cell
  (``=…``, ``+A…``, XLSX formula cells: :func:`looks_like_formula`) — the row (key cells) or the value;
* day/month dates that can be read both ways across the file (``03/04/2026`` with no day above 12)
  — the **file**, with a question asking for the format (:func:`resolve_day_month`), unless an
  explicit ``date_format`` is given;
* a file larger than its limit, checked from the file system before reading (:func:`check_size`).

Policy: what is fine is stored, what is refused is not, and the run says so. The CLI lists every
refusal on stderr (file, line, column, reason) and exits 2 when anything was refused (README,
docs/reliability.md "Round two: plausibility and exports" explain why rows that are fine are still
stored).
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from regionair.core import standards as S
from regionair.core.i18n import t
from regionair.core.nomenclature import POLLUTANTS, TZ
from regionair.errors import InputError

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "FORMULA_RE",
    "RANGES",
    "REASONS",
    "PlausibilityWarning",
    "Range",
    "Refusal",
    "assess",
    "check_frame",
    "check_size",
    "clock_skew",
    "looks_like_formula",
    "refusal_frame",
    "refusal_summary",
    "refusals_of",
    "resolve_day_month",
    "short_records",
    "take_refusals",
    "with_refusals",
]


class PlausibilityWarning(UserWarning):
    """Values or rows of a file were refused (the refusals are in ``frame.attrs["refused"]``)."""


@dataclass(frozen=True)
class Range:
    """Physical range of one quantity.

    ``low``/``high`` in ``unit`` (the canonical unit: µg/m³, CO mg/m³); ``basis`` names the source.
    """

    quantity: str
    unit: str
    low: float
    high: float
    basis: str


def _top_breakpoint(pollutant: str) -> float:
    """Highest concentration of any IAQI table of any edition (IAQI 500 or the table's end)."""
    return float(max(bp[-1] for ed in S.EDITIONS for bp in S.BREAKPOINTS[ed][pollutant].values()))


_IAQI_TOP = ("the top of the HJ 633 IAQI tables (HJ 633-2012 Table 1, HJ 633-2026 Table 3): nothing "
             "above it has an index, and it is above the measuring range of the national network's "
             "analysers (HJ 654-2013: 0–500 nmol/mol SO2/NO2/O3, 0–50 µmol/mol CO [UNVERIFIED])")
_PM_TOP = ("10 000 µg/m³ (10 mg/m³): published CNEMC PM10 1-h values reached 3 780 µg/m³ in the "
           "2023-03-22 dust storm (standards.md [S7]), so the limit stays well above any real dust-storm "
           "hour; 10 mg/m³ is the widest range of β-attenuation monitors [UNVERIFIED]")

#: Physical range of each 1-h concentration (canonical units). A value outside is refused.
#: Gases: the top breakpoint of the HJ 633 IAQI tables (SO2 24-h 2620, NO2 1-h 3840, O3 1-h 1200
#: µg/m³, CO 1-h 150 mg/m³). PM: 10 000 µg/m³ (dust storms). ``aqi``: HJ 633 AQI is 0–500 (the
#: published feed caps at 500, standards.md).
RANGES: dict[str, Range] = {
    "pm25": Range("pm25", "µg/m³", 0.0, 10_000.0, _PM_TOP),
    "pm10": Range("pm10", "µg/m³", 0.0, 10_000.0, _PM_TOP),
    "so2": Range("so2", "µg/m³", 0.0, _top_breakpoint("so2"), _IAQI_TOP),
    "no2": Range("no2", "µg/m³", 0.0, _top_breakpoint("no2"), _IAQI_TOP),
    "co": Range("co", "mg/m³", 0.0, _top_breakpoint("co"), _IAQI_TOP),
    "o3": Range("o3", "µg/m³", 0.0, _top_breakpoint("o3"), _IAQI_TOP),
    "aqi": Range("aqi", "", 0.0, 500.0, "HJ 633-2012 §5 / HJ 633-2026 §4.1.1: AQI 0(1)–500"),
}

#: Reason codes of a refusal (the page shows them in words: i18n ``refused_<code>``).
REASONS: tuple[str, ...] = (
    "above_range", "negative", "non_finite", "not_number", "future", "truncated", "formula",
    "bad_time", "off_hour", "no_station", "conflict",
)

#: Allowed lead of a time stamp over the clock (hour-ending stamps, a clock a little fast).
DEFAULT_CLOCK_SKEW = pd.Timedelta(hours=2)
CLOCK_SKEW_ENV = "REGIONAIR_CLOCK_SKEW_HOURS"

#: Text a spreadsheet would run as a formula: ``=…``, or ``+ - @`` before a letter or parenthesis (``-3.5`` is data).
FORMULA_RE = re.compile(r"^\s*(?:=|[+\-@]\s*[A-Za-z_(])")
_FORMULA_RE = FORMULA_RE


class Refusal(NamedTuple):
    """One refused value or row.

    ``file`` — file name or URL; ``line`` — 1-based line (record) as an editor or spreadsheet shows
    it, header = 1 (``None`` when unknown); ``column`` — the file's column label (``None`` for the
    whole row); ``reason`` — one of :data:`REASONS`; ``value`` — the refused cell as text;
    ``message`` — what and what to do; ``station`` — the row's station code, if known.
    """

    file: str
    line: int | None
    column: str | None
    reason: str
    value: str
    message: str
    station: str | None = None


# --------------------------------------------------------------------------- refusals on frames


def refusals_of(frame: pd.DataFrame) -> list[Refusal]:
    """The refusals a loader attached to ``frame`` (``frame.attrs["refused"]``), oldest first."""
    return list(frame.attrs.get("refused", ())) if frame is not None else []


def with_refusals(frame: pd.DataFrame, refusals: Iterable[Refusal]) -> pd.DataFrame:
    """``frame`` with ``refusals`` attached (replacing any; nothing attached when there are none)."""
    refusals = list(refusals)
    frame.attrs.pop("refused", None)
    if refusals:
        frame.attrs["refused"] = refusals
    return frame


def take_refusals(frame: pd.DataFrame | None) -> list[Refusal]:
    """Detach and return the refusals of ``frame`` (before it is stored: attrs are not data)."""
    if frame is None:
        return []
    return list(frame.attrs.pop("refused", ()))


def clock_skew(skew=None) -> pd.Timedelta:
    """The allowed clock skew: ``skew`` (hours or Timedelta), else env ``REGIONAIR_CLOCK_SKEW_HOURS``, else 2 h.

    Raises
    ------
    InputError
        A negative, non-finite or unreadable value.
    """
    if skew is None:
        text = os.environ.get(CLOCK_SKEW_ENV, "").strip()
        if not text:
            return DEFAULT_CLOCK_SKEW
        try:
            skew = float(text)
        except ValueError:
            raise InputError(f"environment variable {CLOCK_SKEW_ENV}={text!r} must be a number of hours "
                             "(e.g. 2)") from None
    if not isinstance(skew, pd.Timedelta):
        if not isinstance(skew, int | float) or not math.isfinite(skew):
            raise InputError(f"clock skew {skew!r} must be a finite number of hours", column="clock_skew")
        skew = pd.Timedelta(hours=float(skew))
    if skew < pd.Timedelta(0):
        raise InputError(f"clock skew {skew} must not be negative", column="clock_skew")
    return skew


def _fmt(v: float) -> str:
    return f"{v:g}" if math.isfinite(v) else str(v)


def _value_text(raw) -> str:
    return str(raw)[:80]


def check_frame(
    frame: pd.DataFrame,
    name: str,
    *,
    lines=None,
    labels: Mapping[str, object] | None = None,
    ranges: Mapping[str, str] | None = None,
    now=None,
    skew=None,
    future: bool = True,
    formulas: Iterable[str] = ("station",),
    unit_hint: str = "state the unit of the CO column (e.g. the header 'CO(µg/m³)')",
) -> tuple[pd.DataFrame, list[Refusal]]:
    """Refuse implausible values and rows of a canonical frame.

    Parameters
    ----------
    frame : DataFrame
        Canonical frame: ``station``, ``time`` (tz-aware), pollutant columns (µg/m³, CO mg/m³).
    name : str
        File name or URL for the refusals.
    lines : array-like of int or mapping, optional
        The file line of each row (same order), or per frame column (``{"pm25": rows…}``, for
        layouts where each pollutant sits in its own cell; other columns use ``lines["_row"]``);
        ``None`` leaves lines unknown.
    labels : mapping, optional
        Frame column → the file's column label (e.g. ``{"pm25": "pm2_5"}``), or an array of labels
        per row (one pollutant spread over hour columns), for the refusals.
    ranges : mapping, optional
        Frame column → key of :data:`RANGES` to check it against. Default: each pollutant column
        against its own range.
    now : datetime-like, optional
        The clock (tests); default now in Beijing time.
    skew : float or Timedelta, optional
        Allowed lead of a stamp over ``now`` [h] (:func:`clock_skew`).
    future : bool
        Refuse rows stamped after ``now + skew`` (model forecasts pass ``False``).
    formulas : iterable of str
        Text columns whose formula-looking cells (:func:`looks_like_formula`) refuse the row (a
        station code ``=HYPERLINK(…)`` is not a code).
    unit_hint : str
        What a user should do when CO looks like µg/m³ (the loader knows its own option).

    Returns
    -------
    (DataFrame, list of Refusal)
        The frame with refused values set to NaN and refused rows removed (index reset only when
        something was refused; the input is not modified), and the refusals in line order.
    """
    found = assess(frame, name, lines=lines, labels=labels, ranges=ranges, now=now, skew=skew, future=future,
                   formulas=formulas, unit_hint=unit_hint)
    if not found.refusals:
        return frame, []
    out = frame.copy()
    for col, v in found.values.items():
        out[col] = v
    if found.drop.any():
        out = out[~found.drop].reset_index(drop=True)
        out.attrs = dict(frame.attrs)
    return out, found.refusals


class Assessment(NamedTuple):
    """What :func:`assess` found: ``values`` (column → values with the refused ones NaN, for the columns
    that had any), ``drop`` (mask of refused rows) and ``refusals`` (in line order)."""

    values: dict
    drop: np.ndarray
    refusals: list


def assess(frame: pd.DataFrame, name: str, *, lines=None, labels=None, ranges=None, now=None, skew=None,
           future: bool = True, formulas: Iterable[str] = ("station",),
           unit_hint: str = "state the unit of the CO column (e.g. the header 'CO(µg/m³)')") -> Assessment:
    """The checks of :func:`check_frame` without changing ``frame`` (same parameters)."""
    ranges = dict(ranges) if ranges is not None else {p: p for p in POLLUTANTS if p in frame.columns}
    labels = dict(labels or {})
    n = len(frame)
    if n == 0:
        return Assessment({}, np.zeros(0, dtype=bool), [])
    if isinstance(lines, Mapping):
        line_map = {k: np.asarray(v) for k, v in lines.items()}
        default_lines = line_map.get("_row")
    else:
        line_map, default_lines = {}, None if lines is None else np.asarray(lines)
    station_col = frame["station"] if "station" in frame.columns else None
    refused: list[tuple[int, Refusal]] = []
    values: dict[str, np.ndarray] = {}

    def add(i: int, col: str, reason: str, value: str, message: str) -> None:
        arr = line_map.get(col, default_lines)
        line = None if arr is None or pd.isna(arr[i]) else int(arr[i])
        refused.append((i, Refusal(name, line, label_of(col, i), reason, value, message,
                                   None if station_col is None else str(station_col.iloc[i]))))

    def label_of(col: str, i: int) -> str:
        lab = labels.get(col, col)
        return lab if isinstance(lab, str) else str(lab[i])

    for col, key in ranges.items():
        if col not in frame.columns:
            continue
        rng = RANGES[key]
        col_s = frame[col]
        if pd.api.types.is_float_dtype(col_s) and not isinstance(col_s.dtype, pd.api.extensions.ExtensionDtype):
            v = col_s.to_numpy()
        else:
            v = pd.to_numeric(col_s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if (np.isnan(v) | ((v >= rng.low) & (v <= rng.high))).all():  # the usual case: one pass, no copy
                continue
            present = ~np.isnan(v)
            nonfinite = present & ~np.isfinite(v)
            low = present & np.isfinite(v) & (v < rng.low)
            high = present & np.isfinite(v) & (v > rng.high)
        bad = nonfinite | low | high
        unit = f" {rng.unit}" if rng.unit else ""
        for i in np.flatnonzero(nonfinite):
            add(i, col, "non_finite", _fmt(v[i]), f"{col} = {_fmt(v[i])} is not a finite number; value refused")
        for i in np.flatnonzero(low):
            add(i, col, "negative", _fmt(v[i]),
                f"{col} = {_fmt(v[i])}{unit} is negative; a concentration cannot be below {rng.low:g}; value refused")
        for i in np.flatnonzero(high):
            hint = ""
            if key == "co" and v[i] / 1000.0 <= rng.high:
                hint = (f" — CO is stored in mg/m³ and {_fmt(v[i])} looks like µg/m³ "
                        f"(= {v[i] / 1000.0:g} mg/m³): {unit_hint}")
            add(i, col, "above_range", _fmt(v[i]),
                f"{col} = {_fmt(v[i])}{unit} is above the physical range {rng.low:g}–{rng.high:g}{unit}; "
                f"value refused{hint}")
        v = v.copy()
        v[bad] = np.nan
        values[col] = v

    drop = np.zeros(n, dtype=bool)
    for col in formulas:
        if col in frame.columns and not pd.api.types.is_numeric_dtype(frame[col]):
            f = looks_like_formula(frame[col])
            for i in np.flatnonzero(f & ~drop):
                cell = str(frame[col].iloc[i])
                add(i, col, "formula", _value_text(cell),
                    f"{label_of(col, i)} {_value_text(cell)!r} is a spreadsheet formula, not a value; row refused — "
                    "paste values only")
            drop |= f
    if future and "time" in frame.columns:
        limit = _now(now) + clock_skew(skew)
        t = frame["time"]
        if not isinstance(t.dtype, pd.DatetimeTZDtype):
            t = pd.to_datetime(t, errors="coerce")
            t = t.dt.tz_localize(TZ) if t.dt.tz is None else t
        ns = t.array.as_unit("ns").asi8  # int64 UTC nanoseconds (NaT = min int64, never ahead)
        ahead = (ns > limit.as_unit("ns").value) & ~drop
        if ahead.any():
            now_ts = limit - clock_skew(skew)
            for i in np.flatnonzero(ahead):
                ti = t.iloc[i]
                hours = (ti - now_ts).total_seconds() / 3600
                add(i, "time", "future", f"{ti:%Y-%m-%d %H:%M}",
                    f"time {ti:%Y-%m-%d %H:%M} is {hours:,.1f} h after now ({now_ts:%Y-%m-%d %H:%M} Beijing time; "
                    f"allowed clock skew {clock_skew(skew).total_seconds() / 3600:g} h); row refused — check the "
                    "date and the time zone")
            drop |= ahead
    refused.sort(key=lambda x: (x[1].line if x[1].line is not None else 1 << 62, x[0]))
    return Assessment(values, drop, [r for _, r in refused])


def _now(now) -> pd.Timestamp:
    if now is None:
        return pd.Timestamp.now(tz=TZ)
    ts = pd.Timestamp(now)
    return ts.tz_localize(TZ) if ts.tzinfo is None else ts.tz_convert(TZ)


# --------------------------------------------------------------------------- cells and records


def looks_like_formula(values) -> np.ndarray:
    """Mask of cells a spreadsheet would run as a formula (``=…``, ``+A…``, ``-A…``, ``@…``).

    A number such as ``-3.5`` is data, not a formula; non-text cells are never formulas.
    """
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_numeric_dtype(s) or len(s) == 0:
        return np.zeros(len(s), dtype=bool)
    if pd.api.types.is_string_dtype(s) and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        first = s.str.lstrip().str[:1]  # vectorised: the regex runs only on the few candidates
        cand = first.isin(["=", "+", "-", "@"]).to_numpy(dtype=bool)
        if not cand.any():
            return cand
        out = np.zeros(len(s), dtype=bool)
        idx = np.flatnonzero(cand)
        out[idx] = [bool(_FORMULA_RE.match(v)) for v in s.iloc[idx]]
        return out
    return s.map(lambda v: isinstance(v, str) and bool(_FORMULA_RE.match(v))).to_numpy(dtype=bool)


def short_records(text: str, sep: str = ",", *, need: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Field count of every record of a delimited text, counted outside double quotes.

    Parameters
    ----------
    text : str
        The whole file (header first). ``\\r\\n`` and a lone ``\\r`` end a record as ``\\n`` does
        (as pandas' C parser treats them).
    sep : str
        One-character field separator.
    need : int, optional
        Fields a record must have (default: the header's).

    Returns
    -------
    (ndarray, ndarray, int)
        0-based record indices (the header is record 0) of the data records that are non-blank and
        have fewer than ``need`` fields, their field counts, and ``need``.
    """
    norm = text.replace("\r\n", "\n").replace("\r", "\n")
    a = np.frombuffer(norm.encode("utf-8"), dtype=np.uint8)
    if a.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0
    sep_b = ord(sep) if len(sep.encode("utf-8")) == 1 else None
    if sep_b is None:
        raise ValueError(f"separator {sep!r} must be one byte")
    quote = a == 34
    outside = (np.cumsum(quote, dtype=np.int64) & 1) == 0 if quote.any() else np.ones(a.size, dtype=bool)
    newlines = np.flatnonzero((a == 10) & outside)
    seps = np.flatnonzero((a == sep_b) & outside)
    starts = np.concatenate([[0], newlines + 1])
    ends = np.concatenate([newlines, [a.size]])
    keep = starts < a.size
    starts, ends = starts[keep], ends[keep]
    fields = np.searchsorted(seps, ends) - np.searchsorted(seps, starts) + 1
    blank = ends == starts
    if need is None:
        need = int(fields[0]) if fields.size else 0
    data_fields, data_blank = fields[1:], blank[1:]
    if data_fields.size:  # a record of blanks only (e.g. "  ") is blank too
        ws = np.isin(a, (9, 32))
        cum = np.concatenate([[0], np.cumsum(~ws & (a != 10), dtype=np.int64)])
        content = cum[ends[1:]] - cum[starts[1:]]
        data_blank = data_blank | ((content == 0) & (data_fields == 1))
    short = np.flatnonzero(~data_blank & (data_fields < need))
    return short + 1, data_fields[short], need


_DMY = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?=$|[\sT])(.*)$")


def _format_candidates(sample: str) -> tuple[str, str]:
    m = _DMY.match(sample)
    sep, year, rest = m.group(2), m.group(4), m.group(5)
    y = "%Y" if len(year) == 4 else "%y"
    tail = ""
    r = rest.strip()
    if re.fullmatch(r"\d{1,2}:\d{2}:\d{2}", r):
        tail = " %H:%M:%S"
    elif re.fullmatch(r"\d{1,2}:\d{2}", r):
        tail = " %H:%M"
    elif r:
        tail = " …"
    return f"%d{sep}%m{sep}{y}{tail}", f"%m{sep}%d{sep}{y}{tail}"


def resolve_day_month(text: pd.Series, *, name: str, column: str | None, date_format: str | None = None,
                      line_of=None) -> pd.Series:
    """Rewrite day/month-first dates (``03/04/2026 13:00``) to ISO, or refuse a file that can be read both ways.

    Parameters
    ----------
    text : Series of str
        Time (or date) cells as text.
    name, column : str
        For the message.
    date_format : str, optional
        An explicit strftime format (``"%d/%m/%Y %H:%M"``): the caller parses with it, nothing is
        guessed, and the cells are returned unchanged.
    line_of : callable, optional
        Cell position → file line, for the message.

    Returns
    -------
    Series of str
        ``text`` with every ``D/M/Y`` (or ``M/D/Y``) cell written ``YYYY-MM-DD…`` in the order the
        file as a whole admits. Other cells unchanged.

    Raises
    ------
    InputError
        Both orders are possible and give different dates (no first or second field above 12
        anywhere), a two-digit year, or the file mixes both orders — asking for the format.
    """
    if date_format is not None or text.empty:
        return text
    parts = text.str.extract(_DMY)
    hit = parts[0].notna().to_numpy()
    if not hit.any():
        return text
    a = parts[0][hit].astype(int).to_numpy()
    b = parts[2][hit].astype(int).to_numpy()
    year = parts[3][hit]
    day_first = bool(((b <= 12) & (a <= 31)).all())
    month_first = bool(((a <= 12) & (b <= 31)).all())
    idx = np.flatnonzero(hit)
    first = text.iloc[idx[0]]
    dmy, mdy = _format_candidates(first)
    line = line_of(int(idx[0])) if line_of else None
    if (year.str.len() == 2).any():
        raise InputError(
            f"two-digit year in {first!r}: which century and which order? Write the year in full or pass the "
            f"format, e.g. --date-format '{dmy}' (day first) or '{mdy}' (month first)",
            path=name, line=line, column=column)
    if day_first and month_first and (a != b).any():
        j = int(np.flatnonzero(a != b)[0])
        sample = text.iloc[idx[j]]
        raise InputError(
            f"ambiguous date {sample!r}: no day above 12 anywhere in the file, so it can be "
            f"{int(parts[3][hit].iloc[j])}-{b[j]:02d}-{a[j]:02d} (day first) or "
            f"{int(parts[3][hit].iloc[j])}-{a[j]:02d}-{b[j]:02d} (month first). Which is it? Pass the format: "
            f"--date-format '{dmy}' (day first) or '{mdy}' (month first); in Python date_format=…",
            path=name, line=line_of(int(idx[j])) if line_of else None, column=column)
    if not day_first and not month_first:
        raise InputError(
            "dates are written day-first in some rows and month-first in others (a field above 12 in both "
            f"places); fix the file or pass the format, e.g. --date-format '{dmy}'",
            path=name, line=line, column=column)
    day, month = (a, b) if day_first else (b, a)
    iso = (year.to_numpy().astype(str) + "-" + pd.Series(month).map("{:02d}".format).to_numpy()
           + "-" + pd.Series(day).map("{:02d}".format).to_numpy() + parts[4][hit].fillna("").to_numpy())
    out = text.copy()
    out.iloc[idx] = iso
    return out


# --------------------------------------------------------------------------- files


def check_size(path, limit: int, *, what: str = "file", env: str | None = None) -> int:
    """Refuse a file larger than ``limit`` bytes from its size on disk, **before** reading it.

    Returns
    -------
    int
        The size [bytes].

    Raises
    ------
    InputError
        The file is missing, unreadable, or larger than ``limit`` (naming the limit and how to change it).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=p) from None
    if size > limit:
        how = f" (set {env} to change the limit)" if env else ""
        raise InputError(f"{what} is {size / 1e6:,.1f} MB; the limit is {limit / 1e6:,.1f} MB{how} — split it; "
                         "nothing was read", path=p)
    return size


def env_bytes(name: str, default: int) -> int:
    """A byte limit from the environment (``default`` when unset)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        n = int(value)
    except ValueError:
        raise InputError(f"environment variable {name}={value!r} must be an integer number of bytes") from None
    if n <= 0:
        raise InputError(f"environment variable {name}={value!r} must be positive")
    return n


# --------------------------------------------------------------------------- reports


def refusal_frame(refusals: Iterable[Refusal], lang: str | None = None) -> pd.DataFrame:
    """Refusals as a table: ``file, line, column, station, reason, value, message`` — the CLI and the page both use it.

    With ``lang`` (``"zh"``/``"en"``) the ``reason`` column is in words (text catalogue
    ``refused_<reason>``); without it, the reason codes.
    """
    rows = [r._asdict() for r in refusals]
    frame = pd.DataFrame(rows, columns=list(Refusal._fields))
    frame = frame[["file", "line", "column", "station", "reason", "value", "message"]]
    frame["line"] = frame["line"].astype("Int64")
    if lang is not None and len(frame):
        frame["reason"] = frame["reason"].map(lambda r: t(f"refused_{r}", lang))
    return frame


def refusal_summary(refusals: Iterable[Refusal], *, limit: int = 50) -> str:
    """Text for stderr: a count per file and reason, then one line per refusal (``limit`` listed).

    Each listed line reads ``file, line L, column 'C': message`` — the same wording as an
    :class:`~regionair.errors.InputError`.
    """
    frame = refusal_frame(refusals)
    if frame.empty:
        return ""
    rows_refused = frame.drop_duplicates(["file", "line", "station"]).shape[0]
    out = [f"refused {len(frame)} value(s) or row(s) in {rows_refused} row(s) of {frame['file'].nunique()} "
           "file(s), left out (the rest was kept):"]
    for (file, reason), n in Counter(zip(frame["file"], frame["reason"])).most_common():
        out.append(f"  {file}: {n} × {reason}")
    for r in frame.head(limit).itertuples(index=False):
        where = [r.file]
        if not pd.isna(r.line):
            where.append(f"line {int(r.line)}")
        if r.column is not None and not (isinstance(r.column, float) and math.isnan(r.column)):
            where.append(f"column {r.column!r}")
        out.append(f"{', '.join(where)}: {r.message}")
    if len(frame) > limit:
        out.append(f"… {len(frame) - limit} more refusal(s)")
    return "\n".join(out)
