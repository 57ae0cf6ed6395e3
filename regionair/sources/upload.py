"""Analyst uploads (CSV/XLSX): detect the layout, parse, validate, preview — never write.

:func:`preview_upload` turns an uploaded file into a canonical hourly frame plus a list of issues
and counts, so the page can show "what would be stored" before the store writes anything (the
store writes the previewed frame in one transaction; nothing is ever half-written here).

Accepted formats (whitelist): ``.csv`` (UTF-8, UTF-8-SIG, GBK, GB18030; UTF-16 with BOM; comma,
tab or semicolon separated) and ``.xlsx`` (not ``.xls``/``.xlsm``; no macros, no encryption).

Layouts (``layout=``):

``"long"``
    One row per station and hour: ``station, time, pm25, pm10, so2, no2, co, o3`` (any subset of
    pollutants; Chinese and common English headers accepted, e.g. ``站点, 时间, PM2.5(μg/m³),
    一氧化碳(mg/m³)``; ``date`` + ``hour`` columns instead of ``time`` also work).
``"wide"``
    One row per hour, one column per station code, one pollutant per file/sheet (pollutant from
    ``pollutant=``, the sheet name or the file name).
``"cnemc-archive"``
    The CNEMC hourly archive CSV (sources.md §1a); delegated to
    :func:`regionair.sources.cnemc_archive.parse_archive`.
``"quotsoft"``
    The quotsoft daily wide file (sources.md §1b); delegated to
    :func:`regionair.sources.quotsoft.parse_sites_day`.
``"station-workbook"``
    One workbook per station, one sheet per pollutant (``PM2.5``, ``PM10``, ``SO2``, ``NO2``,
    ``CO``, ``O3`` or 细颗粒物, 可吸入颗粒物, 二氧化硫, 二氧化氮, 一氧化碳, 臭氧), one row per day,
    hour columns ``00 … 23`` (also ``0时``, ``00:00``) or ``01 … 24``. Station from ``station=``,
    the file name (``1490A_2022.xlsx``) or a title row above the header.

Time convention
---------------
The canonical frame is Beijing time, hour-ending (nomenclature). ``time_convention`` says what the
file's stamps mean: ``"hour-ending"`` (a value at 16:00 is the 15–16 h mean; kept) or
``"hour-beginning"`` (15:00 means 15–16 h; shifted +1 h). If not stated by the user it is taken
from the file (a ``开始时间``/``time_start`` column means hour-beginning, ``结束时间``/``time_end``
hour-ending) or the layout default: **hour-beginning for the station workbook** (column ``00`` =
00:00–01:00 of the row's day → stamp 01:00; column ``23`` → next day 00:00, so a row is exactly one
natural day), hour-ending for the others. Columns ``01 … 24`` are hour-ending by construction
(``24`` → next day 00:00). Naive times are in ``tz`` (default Beijing); explicit offsets are honoured.

Units
-----
Canonical: µg/m³, CO mg/m³ (CNEMC). Units come from ``units=`` (a string for all pollutants or a
dict per pollutant) or from the headers/sheet names (``PM2.5(μg/m³)``, ``CO [mg/m3]``, 微克/立方米);
a conflict between the two is refused. µg/m³ ↔ mg/m³ are converted; ppb/ppm are refused (the
conversion depends on the reference state, GB 3095-2012 amendment 2018).

Validation (each counted; rejected cells become NaN, never 0)
-------------------------------------------------------------
* error (refused: listed in :attr:`UploadPreview.refusals` with line, column and reason, the same
  rules as every loader — :mod:`regionair.sources.plausibility`) — a negative value; a value above
  its physical range (:data:`PLAUSIBLE_MAX`; CO above 150 mg/m³ with a µg/m³ hint); a non-finite
  value; text that is not a number; formula-looking text (``=``, ``+``, ``-``, ``@`` followed by
  a letter: spreadsheet formula injection; XLSX formula cells) — in a value cell the value, in the
  station or time cell the row; conflicting duplicate keys (all copies of that value rejected);
  rows with an unparseable/off-the-hour time or no station; rows stamped later than now plus the
  clock-skew allowance (2 h); truncated rows (fewer fields than the header — never padded with
  missing values). Dates written ``03/04/2026`` that the file as a whole allows to read day-first
  and month-first refuse the file with a question, unless ``date_format=`` is given.
* warning (kept, flagged) — PM2.5 > PM10 (possible with different instruments, flagged); a CO
  column whose median looks like µg/m³; unknown station codes (given ``known_stations``);
  identical duplicate rows (dropped).
* info — ignored columns/sheets, assumed units/convention, sentinel values (−999, −9999) read as
  missing.

Limits (reliability): file size (``max_bytes``, default 50 MB, env ``REGIONAIR_UPLOAD_MAX_BYTES``),
data rows (``max_rows``, default 2 000 000, env ``REGIONAIR_UPLOAD_MAX_ROWS``), and for XLSX the
zip container is inspected **before** openpyxl opens it: total uncompressed size ≤ 200 MB and
overall compression ratio ≤ 100 (zip-bomb guard; :func:`check_xlsx_container`). Python's
:mod:`zipfile` stops at the declared size (a lie fails the CRC), so the check bounds memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import NamedTuple

import numpy as np
import pandas as pd

from regionair.core.nomenclature import POLLUTANTS, TZ
from regionair.errors import InputError
from regionair.sources.cnemc_archive import parse_archive
from regionair.sources.containers import (  # noqa: F401  (part of this module's API)
    XLSX_MAX_MEMBERS,
    XLSX_MAX_RATIO,
    XLSX_MAX_UNCOMPRESSED,
    check_xlsx_container,
)
from regionair.sources.plausibility import (
    FORMULA_RE,
    RANGES,
    PlausibilityWarning,
    Refusal,
    assess,
    looks_like_formula,
    refusal_frame,
    resolve_day_month,
    short_records,
    take_refusals,
)
from regionair.sources.quotsoft import parse_sites_day

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "LAYOUTS",
    "PLAUSIBLE_MAX",
    "Issue",
    "UploadPreview",
    "check_xlsx_container",
    "detect_encoding",
    "preview_upload",
    "upload_max_bytes",
]


SOURCE = "upload"
LAYOUTS = ("auto", "long", "wide", "cnemc-archive", "quotsoft", "station-workbook")
CONVENTIONS = ("hour-ending", "hour-beginning")

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 2_000_000
MAX_ISSUES = 1000
_PER_CHECK = 200

#: Largest plausible 1-h value per pollutant (canonical units) — the shared loader-edge table
#: :data:`regionair.sources.plausibility.RANGES`; a value above it is refused (CO with a µg/m³ hint).
PLAUSIBLE_MAX: dict[str, float] = {p: RANGES[p].high for p in POLLUTANTS}
#: Canonical units per pollutant (nomenclature.UNITS, normalised spelling).
CANONICAL_UNIT = {"pm25": "ug/m3", "pm10": "ug/m3", "so2": "ug/m3", "no2": "ug/m3", "co": "mg/m3", "o3": "ug/m3"}
UNIT_LABEL = {"ug/m3": "µg/m³", "mg/m3": "mg/m³"}

MISSING_TOKENS = frozenset({"", "NA", "N/A", "n/a", "na", "—", "-", "--", "/", "null", "NULL", "None", "nan", "NaN", "#N/A"})
SENTINELS = (-99.0, -999.0, -9999.0)
_FORMULA_RE = FORMULA_RE  # the loader edge's one definition
_CODE_RE = re.compile(r"(?<![0-9A-Za-z])(\d{4}A)(?![0-9A-Za-z])")

_POLLUTANT_ALIASES = {
    "pm25": "pm25", "细颗粒物": "pm25", "细颗粒物pm25": "pm25",
    "pm10": "pm10", "可吸入颗粒物": "pm10", "颗粒物pm10": "pm10", "可吸入颗粒物pm10": "pm10",
    "so2": "so2", "二氧化硫": "so2", "二氧化硫so2": "so2",
    "no2": "no2", "二氧化氮": "no2", "二氧化氮no2": "no2",
    "co": "co", "一氧化碳": "co", "一氧化碳co": "co",
    "o3": "o3", "臭氧": "o3", "o31h": "o3", "臭氧1小时": "o3", "臭氧o3": "o3", "臭氧1小时o31h": "o3",
}
_STATION_ALIASES = {"station", "stationcode", "stationid", "code", "site", "siteid", "sitecode", "站点", "站点编码",
                    "站点代码", "监测点编码", "站号", "测站", "监测点"}
_TIME_ALIASES = {"time", "timepoint", "datetime", "timestamp", "时间", "日期时间", "监测时间", "时间点"}
_TIME_START_ALIASES = {"timestart", "starttime", "datetimefrom", "开始时间", "起始时间"}
_TIME_END_ALIASES = {"timeend", "endtime", "datetimeto", "结束时间", "截止时间"}
_DATE_ALIASES = {"date", "day", "日期", "监测日期"}
_HOUR_ALIASES = {"hour", "hr", "小时", "时"}


class Issue(NamedTuple):
    """One validation finding.

    ``severity`` — ``"error"`` (value/row rejected), ``"warning"`` (kept, flagged) or ``"info"``;
    ``row`` — 1-based row as a spreadsheet shows it (header = 1), ``None`` for the whole file;
    ``column`` — header label (``"sheet!label"`` in workbooks) or ``None``; ``message`` — what and
    what to do.
    """

    severity: str
    row: int | None
    column: str | None
    message: str


@dataclass
class UploadPreview:
    """Result of :func:`preview_upload`: what would be stored, and why some of it would not.

    Attributes
    ----------
    frame : DataFrame
        Canonical hourly frame (station, time [Beijing, hour-ending], pm25 pm10 so2 no2 o3
        [µg/m³], co [mg/m³], source="upload"); rejected values are NaN, rejected rows absent.
    layout : str
        Detected or stated layout (see module docstring).
    encoding : str or None
        Detected text encoding (``None`` for XLSX).
    issues : list of Issue
        Findings, at most ``MAX_ISSUES`` listed (counts are complete).
    counts : dict
        ``rows_read`` (data rows in the file), ``rows_rejected`` (rows dropped: bad key,
        duplicates), ``records`` (station-hours in ``frame``), ``records_ok``, ``records_flagged``
        (with any warning or rejected value), ``cells_rejected``, ``cells_flagged``; aliases
        ``ok`` (= records_ok), ``flagged`` (= records_flagged), ``rejected`` (rows + cells rejected).
    filename, time_convention, units, station : provenance of the interpretation.
    refusals : list of Refusal
        Every refused value and row (file, line, column, reason, value, message, station), in full
        — the CLI lists them on stderr and the page shows them (:func:`refusal_frame`).
    """

    frame: pd.DataFrame
    layout: str
    encoding: str | None
    issues: list[Issue]
    counts: dict[str, int]
    filename: str = ""
    time_convention: str = "hour-ending"
    units: dict[str, str] = field(default_factory=dict)
    station: str | None = None
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def has_records(self) -> bool:
        """``True`` when the frame holds at least one station-hour."""
        return len(self.frame) > 0

    @property
    def ok(self) -> bool:
        """``True`` when there are records and no error (nothing rejected): safe to store unattended.

        A preview that is not ok always has at least one error issue explaining why.
        """
        return self.has_records and not self.errors

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def flags(self) -> list[Issue]:
        """Warnings: values kept but flagged."""
        return [i for i in self.issues if i.severity == "warning"]

    def issues_frame(self) -> pd.DataFrame:
        """Issues as a table (severity, row, column, message) for display/download."""
        return pd.DataFrame(self.issues, columns=["severity", "row", "column", "message"])

    def refusal_frame(self, lang: str | None = None) -> pd.DataFrame:
        """The refused values and rows as a table (:func:`regionair.sources.plausibility.refusal_frame`)."""
        return refusal_frame(self.refusals, lang)

    def summary(self) -> str:
        c = self.counts
        return (
            f"{self.filename}: layout {self.layout}, {c['records']} station-hour(s) "
            f"({c['records_ok']} ok, {c['records_flagged']} flagged); {c['rows_rejected']} row(s) and "
            f"{c['cells_rejected']} value(s) rejected; times read as {self.time_convention}"
        )


# --------------------------------------------------------------------------- file-level helpers


def upload_max_bytes() -> int:
    """Largest upload [bytes]: env ``REGIONAIR_UPLOAD_MAX_BYTES`` or :data:`DEFAULT_MAX_BYTES` (50 MB)."""
    return _env_int("REGIONAIR_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise InputError(f"environment variable {name}={value!r} must be an integer") from None


def detect_encoding(data: bytes) -> str:
    """Detect the text encoding of an uploaded CSV.

    Parameters
    ----------
    data : bytes
        File content.

    Returns
    -------
    str
        ``"utf-8-sig"`` (UTF-8 BOM), ``"utf-16"`` (UTF-16 BOM), ``"utf-8"`` (valid UTF-8,
        including plain ASCII), ``"gbk"`` or ``"gb18030"`` (tried in that order; GB18030 is the
        superset for characters GBK lacks).

    Raises
    ------
    InputError
        Binary content (NUL bytes) or none of the encodings decodes the bytes.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in data[:8192]:
        raise InputError("binary content (NUL bytes): not a text CSV — upload .csv or .xlsx")
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    raise InputError("the text is neither UTF-8 nor GBK/GB18030; re-save the file as UTF-8 CSV")




class _Ctx:
    """Collects issues and counts during one preview."""

    def __init__(self, name: str, max_issues: int, date_format: str | None = None, now=None, clock_skew=None):
        self.name = name
        self.max_issues = max_issues
        self.date_format = date_format
        self.now = now
        self.clock_skew = clock_skew
        self.issues: list[Issue] = []
        self.refusals: list[Refusal] = []
        self.dropped = 0
        self.rows_read = 0
        self.rows_rejected = 0
        self.cells_rejected = 0
        self.cells_flagged = 0

    def sorted_refusals(self) -> list[Refusal]:
        """The refusals in file order (line, then column as found)."""
        return sorted(self.refusals, key=lambda r: (r.line is None, r.line or 0))

    def add(self, severity: str, row, column, message: str, *, reason: str | None = None, value="",
            station=None) -> None:
        row = None if row is None or pd.isna(row) else int(row)
        column = None if column is None else str(column)
        if reason is not None:  # a refused value or row: listed in full (the CLI and the page show them)
            self.refusals.append(Refusal(self.name, row, column, reason, str(value)[:80], str(message),
                                         None if station is None or pd.isna(station) else str(station)))
        if len(self.issues) < self.max_issues:
            self.issues.append(Issue(severity, row, column, str(message)))
        else:
            self.dropped += 1

    def add_many(self, severity: str, rows, columns, messages, *, reason: str | None = None, values=None,
                 stations=None) -> None:
        """Add up to ``_PER_CHECK`` issues of one check (all are counted by the caller); with ``reason``, a
        refusal for every one (``rows``, ``columns``, ``messages`` then cover all of them)."""
        n = 0
        values = itertools.repeat("") if values is None else values
        stations = itertools.repeat(None) if stations is None else stations
        for r, c, m, v, st in zip(rows, columns, messages, values, stations):
            if n >= _PER_CHECK:
                if reason is None:
                    self.dropped += 1
                    continue
                row = None if r is None or pd.isna(r) else int(r)
                self.refusals.append(Refusal(self.name, row, None if c is None else str(c), reason, str(v)[:80],
                                             str(m), None if st is None or pd.isna(st) else str(st)))
                self.dropped += 1
                continue
            self.add(severity, r, c, m, reason=reason, value=v, station=st)
            n += 1


# --------------------------------------------------------------------------- header vocabulary


def _norm(label) -> str:
    s = "" if label is None else str(label)
    s = s.strip().lstrip("\ufeff").lower()
    s = s.replace("₂", "2").replace("₃", "3").replace("．", ".")
    return re.sub(r"[\s._\-·]", "", s)


_UNIT_SPLIT = re.compile(r"^(.*?)\s*[\(（\[【]\s*(.+?)\s*[\)）\]】]\s*$")


def _norm_unit(unit: str) -> str | None:
    u = str(unit).strip().lower().replace("μ", "u").replace("µ", "u").replace("³", "3").replace("^", "")
    u = re.sub(r"\s|·|\*", "", u)
    if u in ("ug/m3", "ugm-3", "ug/m", "微克/立方米", "微克每立方米", "ug/立方米"):
        return "ug/m3"
    if u in ("mg/m3", "mgm-3", "毫克/立方米", "毫克每立方米", "mg/立方米"):
        return "mg/m3"
    if u in ("ppb", "ppm", "ppbv", "ppmv"):
        return u.rstrip("v")
    return None


def _pollutant_of(label) -> tuple[str | None, str | None]:
    """(pollutant code, normalised unit or None) of a header / sheet name."""
    text = "" if label is None else str(label).strip()
    whole = _norm(text)
    if whole in _POLLUTANT_ALIASES:
        return _POLLUTANT_ALIASES[whole], None
    m = _UNIT_SPLIT.match(text)
    if m:
        base, inner = _norm(m.group(1)), m.group(2)
        if base in _POLLUTANT_ALIASES:
            unit = _norm_unit(inner)
            if unit is None and _norm(inner) in _POLLUTANT_ALIASES:  # 细颗粒物(PM2.5)
                return _POLLUTANT_ALIASES[base], None
            return _POLLUTANT_ALIASES[base], unit if unit else f"?{inner}"
        if _norm(inner) in _POLLUTANT_ALIASES:
            return _POLLUTANT_ALIASES[_norm(inner)], None
    # "PM2.5 ug/m3" style
    parts = text.split()
    if len(parts) == 2 and _norm(parts[0]) in _POLLUTANT_ALIASES and _norm_unit(parts[1]):
        return _POLLUTANT_ALIASES[_norm(parts[0])], _norm_unit(parts[1])
    return None, None


_HOUR_RE = re.compile(r"^(\d{1,2})(?::00(?::00)?)?\s*(?:时|点|h|hr)?$", re.IGNORECASE)


def _hour_of(label) -> int | None:
    if label is None:
        return None
    if isinstance(label, int | float) and not isinstance(label, bool):
        if float(label).is_integer() and 0 <= label <= 24:
            return int(label)
        return None
    m = _HOUR_RE.match(str(label).strip())
    if not m:
        return None
    h = int(m.group(1))
    return h if 0 <= h <= 24 else None


# --------------------------------------------------------------------------- reading


class _CsvText(list):
    """The first rows of a CSV (layout detection) plus the text, read in bulk by :func:`_table_frame`."""

    def __init__(self, head: list[list[str]], text: str, sep: str, name: str):
        super().__init__(head)
        self.text, self.sep, self.name = text, sep, name


def _read_csv_table(text: str, name: str, max_rows: int) -> _CsvText:
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > max_rows + 1:
        raise InputError(f"{lines} lines exceed the row limit {max_rows}; split the file", path=name)
    first = text.split("\n", 1)[0]
    sep = max([",", "\t", ";"], key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        head = list(itertools.islice(reader, 20))
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path=name, line=reader.line_num) from None
    while head and not any(c.strip() for c in head[-1]):
        head.pop()
    return _CsvText(head, text, sep, name)


def _read_xlsx(data: bytes, name: str, max_rows: int) -> dict[str, list[tuple]]:
    import openpyxl  # openpyxl loads only when a workbook is read or written

    sheets: dict[str, list[tuple]] = {}
    total = 0
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="openpyxl")
        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
            raise InputError(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})", path=name) from None
        try:
            for ws in wb.worksheets:
                rows = []
                for r in ws.iter_rows(values_only=True):
                    total += 1
                    if total > max_rows + 100:
                        raise InputError(f"workbook has more than {max_rows} rows (limit); split it", path=name)
                    rows.append(r)
                while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
                    rows.pop()
                sheets[ws.title] = rows
        finally:
            wb.close()
    return sheets


def _table_frame(rows: list, header_row: int = 0, ctx: _Ctx | None = None) -> tuple[list[str], pd.DataFrame]:
    """Header labels and a DataFrame of raw cells (object) for rows after ``header_row``.

    Adds ``_row`` = 1-based spreadsheet row number. In a CSV, a row with fewer fields than the header's
    named columns is truncated: it is refused (listed in ``ctx``) and left out, never padded with
    missing values.
    """
    header = ["" if v is None else str(v).strip() for v in rows[header_row]]
    width = len(header)
    if isinstance(rows, _CsvText):  # bulk read with the C parser (string columns, low memory)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                frame = pd.read_csv(io.StringIO(rows.text), sep=rows.sep, header=None, names=range(width),
                                    skiprows=header_row + 1, dtype=str, keep_default_na=False, na_filter=False,
                                    skip_blank_lines=False, index_col=False, engine="c")
            except pd.errors.EmptyDataError:
                frame = pd.DataFrame(columns=range(width), dtype=str)
            except pd.errors.ParserError as exc:
                m = re.search(r"line (\d+)", str(exc))
                raise InputError(f"malformed CSV: {exc}", path=rows.name,
                                 line=int(m.group(1)) if m else None) from None
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            raise InputError(f"some rows have more fields than the header ({width}); fix the file "
                             "(unquoted separators inside values?)", path=rows.name)
        blank = (frame.fillna("").astype(str).apply(lambda c: c.str.strip()) == "").all(axis=1)
        named = max((i + 1 for i, h in enumerate(header) if h), default=width)
        short, fields, _ = short_records(rows.text, rows.sep, need=named)
        short_rows = short - (header_row + 1)  # record index → frame row
        keep_short = short_rows >= 0
        short_rows, fields = short_rows[keep_short], fields[keep_short]
        short_rows_ok = short_rows < len(frame)
        short_rows, fields = short_rows[short_rows_ok], fields[short_rows_ok]
        if short_rows.size:
            lines = short_rows + header_row + 2
            if ctx is not None:
                ctx.rows_read += int(short_rows.size)
                ctx.rows_rejected += int(short_rows.size)
                ctx.add_many("error", lines, [header[min(int(n), width - 1)] for n in fields],
                             (f"row has {int(n)} field(s), the header {named}: truncated; row rejected (not padded "
                              "with missing values) — complete the row or delete it" for n in fields),
                             reason="truncated", values=(f"{int(n)} field(s)" for n in fields))
            blank = blank.copy()
            blank.iloc[short_rows] = True  # left out like a blank row; the rest of the file is read
    else:
        body = rows[header_row + 1:]
        frame = pd.DataFrame(body, dtype=object) if body else pd.DataFrame(index=range(0))
        frame = frame.reindex(columns=range(width))  # ragged rows: missing cells None, extra cells dropped
        frame = frame.astype(object).where(frame.notna(), None)
        blank = frame.map(lambda v: v is None or (isinstance(v, str) and not v.strip())).all(axis=1)
    frame["_row"] = np.arange(len(frame)) + header_row + 2
    return header, (frame[~blank.to_numpy()] if len(frame) else frame).reset_index(drop=True)


# --------------------------------------------------------------------------- values


def _to_numbers(raw: pd.Series, ctx: _Ctx, labels: list, pollutant: str, rows: pd.Series,
                stations=None) -> tuple[np.ndarray, np.ndarray]:
    """Raw cells → (float values [file units], rejected mask); records issues for text/formula cells.

    ``labels`` are the column labels of the cells (same length as ``raw``). Blank cells and
    missing-value tokens are NaN without an issue; sentinels (−99/−999/−9999) are NaN with an info.
    """
    raw = raw.reset_index(drop=True)
    rows = rows.reset_index(drop=True)
    kind = pd.api.types.infer_dtype(raw, skipna=True)
    if raw.dtype != object and kind in ("integer", "floating", "mixed-integer-float"):
        values = pd.to_numeric(raw, errors="coerce")
        rejected = np.zeros(len(raw), dtype=bool)
    else:
        if kind in ("string", "empty"):  # CSV: all text (None for absent cells) — vectorised
            is_num = pd.Series(False, index=raw.index)
            text = raw.fillna("").astype(str).str.strip()
        else:  # spreadsheet: numbers, text, dates mixed
            is_num = raw.map(lambda v: isinstance(v, int | float | np.number) and not isinstance(v, bool)).astype(bool)
            text = raw.map(_cell_text)
        blank = text.isin(MISSING_TOKENS) & ~is_num
        values = pd.to_numeric(text.where(~blank & ~is_num), errors="coerce")
        if is_num.any():
            values = values.where(~is_num, pd.to_numeric(raw.where(is_num), errors="coerce"))
            bad = values.isna() & ~blank & ~(is_num & raw.map(_is_nan).astype(bool))
        else:
            bad = values.isna() & ~blank
        rejected = bad.to_numpy(dtype=bool)
        if bad.any():
            formula = bad & text.str.match(_FORMULA_RE)
            other = bad & ~formula
            for mask, why, reason in (
                    (formula, "formula-looking text rejected (spreadsheet formula/injection guard); paste values only",
                     "formula"),
                    (other, "not a number; expected a concentration or an empty cell", "not_number")):
                if mask.any():
                    ctx.cells_rejected += int(mask.sum())
                    idx = np.flatnonzero(mask.to_numpy())
                    ctx.add_many("error", rows.iloc[idx], [labels[i] for i in idx],
                                 (f"{text.iloc[i]!r}: {why}" for i in idx), reason=reason,
                                 values=(text.iloc[i] for i in idx),
                                 stations=None if stations is None else (stations.iloc[i] for i in idx))
    out = values.to_numpy(dtype="float64", copy=True)
    inf = np.isinf(out)  # 'inf', '1e400': not a concentration
    if inf.any():
        ctx.cells_rejected += int(inf.sum())
        idx = np.flatnonzero(inf)
        ctx.add_many("error", rows.iloc[idx], [labels[i] for i in idx],
                     (f"{raw.iloc[i]!r}: infinite value rejected; expected a concentration" for i in idx),
                     reason="non_finite", values=(raw.iloc[i] for i in idx),
                     stations=None if stations is None else (stations.iloc[i] for i in idx))
        out[inf] = np.nan
        rejected = rejected | inf
    sentinel = np.isin(out, SENTINELS)
    if sentinel.any():
        ctx.add("info", None, None, f"{pollutant}: {int(sentinel.sum())} sentinel value(s) (−99/−999/−9999) read as missing")
        out[sentinel] = np.nan
    return out, rejected


def _is_nan(v) -> bool:
    return isinstance(v, float | np.floating) and np.isnan(v)


def _cell_text(v) -> str:
    if v is None or _is_nan(v):
        return ""
    return str(v).strip()


class _Units:
    """Resolve the unit of each pollutant from the user and the file."""

    def __init__(self, user, ctx: _Ctx):
        self.ctx = ctx
        self.user: dict[str, str] = {}
        if isinstance(user, str):
            u = _norm_unit(user)
            if u is None:
                raise InputError(f"unknown unit {user!r}; use 'µg/m³' or 'mg/m³'", column="units")
            self.user = dict.fromkeys(POLLUTANTS, u)
        elif isinstance(user, Mapping):
            for k, v in user.items():
                p = _POLLUTANT_ALIASES.get(_norm(k), None)
                u = _norm_unit(v)
                if p is None or u is None:
                    raise InputError(f"units: {k!r}: {v!r} not understood; use e.g. {{'co': 'µg/m³'}}", column="units")
                self.user[p] = u
        elif user is not None:
            raise InputError("units must be a string or a mapping pollutant → unit", column="units")
        self.used: dict[str, str] = {}
        self.assumed: list[str] = []

    def report(self) -> None:
        if self.assumed:
            self.ctx.add("info", None, None, f"no unit stated for {', '.join(self.assumed)}; assumed CNEMC units "
                         "(µg/m³, CO mg/m³) — pass units= if that is wrong")

    def factor(self, p: str, file_unit: str | None, where: str) -> float:
        if file_unit is not None and file_unit.startswith("?"):
            raise InputError(f"unit {file_unit[1:]!r} in {where} not understood; use µg/m³ or mg/m³",
                             path=self.ctx.name, column=where)
        if p in self.user and file_unit is not None and self.user[p] != file_unit:
            raise InputError(
                f"{where} states {UNIT_LABEL.get(file_unit, file_unit)} but units= says "
                f"{UNIT_LABEL.get(self.user[p], self.user[p])}; fix one of them",
                path=self.ctx.name, column=where,
            )
        unit = self.user.get(p) or file_unit
        if unit is None:
            unit = CANONICAL_UNIT[p]
            if p not in self.assumed:
                self.assumed.append(p)
        if unit in ("ppb", "ppm"):
            raise InputError(
                f"{where}: {unit} cannot be converted without a reference state; convert to "
                f"{UNIT_LABEL[CANONICAL_UNIT[p]]} first", path=self.ctx.name, column=where)
        self.used[p] = UNIT_LABEL[unit]
        canon = CANONICAL_UNIT[p]
        if unit == canon:
            return 1.0
        return 0.001 if (unit, canon) == ("ug/m3", "mg/m3") else 1000.0


# --------------------------------------------------------------------------- time


_CN_TIME = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2})\s*(?:时|点|:00)?)?$")
_CNEMC_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2})(\d{2})$")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def _to_ts(v):
    try:
        return pd.Timestamp(v)
    except (TypeError, ValueError):
        return pd.NaT


def _parse_times(values: pd.Series, tz: str, ctx: _Ctx | None = None, label: str | None = None,
                 rows: pd.Series | None = None) -> tuple[pd.Series, pd.Series, bool]:
    """Raw time cells → tz-aware Beijing timestamps. Returns (times, bad mask, had_offsets).

    Accepts ISO strings (``2022-01-01 13:00``, ``…T13:00:00+08:00``), ``2022/1/1 13:00``,
    the CNEMC ``2026-03-10T1000``, ``2022年1月1日 13时``, ``24:00`` (= next day 00:00) and
    spreadsheet datetimes. Naive values are in ``tz``; values with an offset are converted.
    ``03/04/2026``-style dates are read in the one order the whole column allows
    (:func:`~regionair.sources.plausibility.resolve_day_month`: a file where both are possible is
    refused with a question) or with ``ctx.date_format`` when the user gave one.
    """
    values = values.reset_index(drop=True)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty"):
        is_dt = pd.Series(False, index=values.index)
        text = values.fillna("").astype(str).str.strip()
    else:
        is_dt = values.map(lambda v: not isinstance(v, str) and hasattr(v, "isoformat")).astype(bool)
        text = values.where(~is_dt).map(_cell_text).astype(str)
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ns, {TZ.key}]")
    fmt = ctx.date_format if ctx is not None else None
    if fmt:  # the user's format, nothing guessed
        cells = ~is_dt & (text != "")
        if cells.any():
            parsed = pd.to_datetime(text[cells], errors="coerce", format=fmt)
            if getattr(parsed.dt, "tz", None) is not None:
                out[cells] = parsed.dt.tz_convert(TZ)
            else:
                out[cells] = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(TZ)
        text = text.where(~cells, "")
    elif ctx is not None:
        rows_ = rows.reset_index(drop=True) if rows is not None else None
        text = resolve_day_month(text, name=ctx.name, column=label,
                                 line_of=None if rows_ is None else (lambda k: int(rows_.iloc[k])))
    has_off = text.str.contains(_OFFSET, regex=True).astype(bool) & ~is_dt
    naive = ~has_off & ~is_dt & (text != "")
    if naive.any():
        parsed = pd.to_datetime(text[naive], errors="coerce", format="ISO8601")
        if getattr(parsed.dt, "tz", None) is not None:  # pragma: no cover — offsets were filtered out
            parsed = parsed.dt.tz_localize(None)
        rest = parsed.isna()
        if rest.any():
            sub = text[naive][rest]
            plus_day = sub.str.contains(r"(?:\s|T)24(?::00){0,2}$", regex=True).astype(bool)
            sub = sub.where(~plus_day, sub.str.replace(r"(\s|T)24((?::00){0,2})$", r"\g<1>00\g<2>", regex=True))
            cn = sub.str.extract(_CN_TIME)
            sub = sub.where(cn[0].isna(), cn[0] + "-" + cn[1].str.zfill(2) + "-" + cn[2].str.zfill(2) + " "
                            + cn[3].fillna("0").str.zfill(2) + ":00")
            cnemc = sub.str.extract(_CNEMC_TIME)
            sub = sub.where(cnemc[0].isna(), cnemc[0] + " " + cnemc[1] + ":" + cnemc[2])
            again = pd.to_datetime(sub, errors="coerce", format="mixed")
            again = again.where(~plus_day, again + pd.Timedelta(days=1))
            parsed[rest] = again
        out[naive] = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(TZ)
    if has_off.any():
        parsed = pd.to_datetime(text[has_off], errors="coerce", utc=True, format="ISO8601")
        rest = parsed.isna()
        if rest.any():
            parsed[rest] = pd.to_datetime(text[has_off][rest], errors="coerce", utc=True, format="mixed")
        out[has_off] = parsed.dt.tz_convert(TZ)
    if is_dt.any():
        stamps = values[is_dt].map(_to_ts)
        aware = stamps.map(lambda t: t is not pd.NaT and t.tzinfo is not None).astype(bool)
        conv = pd.Series(pd.NaT, index=stamps.index, dtype=f"datetime64[ns, {TZ.key}]")
        if (~aware).any():
            naive_dt = pd.to_datetime(stamps[~aware], errors="coerce")
            conv[~aware] = naive_dt.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(TZ)
        if aware.any():
            conv[aware] = pd.to_datetime(stamps[aware], utc=True).dt.tz_convert(TZ)
        out[is_dt] = conv
    return out, out.isna(), bool(has_off.any())


def _parse_dates(values: pd.Series, ctx: _Ctx | None = None, label: str | None = None,
                 rows: pd.Series | None = None) -> pd.Series:
    """Day cells (datetime, '2022-01-01', '2022/1/1', 20220101, '2022年1月1日') → naive midnight or NaT.

    ``03/04/2026`` as :func:`_parse_times` (one order for the whole column, or ``ctx.date_format``).
    """
    fmt = ctx.date_format if ctx is not None else None
    if ctx is not None and not fmt:
        is_text = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        if is_text.any():
            rows_ = rows.reset_index(drop=True) if rows is not None else None
            pos = np.flatnonzero(is_text)
            text = pd.Series([values.iloc[i].strip() for i in pos], dtype=object)
            fixed = resolve_day_month(text, name=ctx.name, column=label,
                                      line_of=None if rows_ is None else (lambda k: int(rows_.iloc[pos[k]])))
            values = values.copy()
            values.iloc[pos] = fixed.to_numpy()

    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return pd.NaT
        if hasattr(v, "isoformat") and not isinstance(v, str):
            ts = pd.Timestamp(v)
            return ts.tz_localize(None).normalize() if ts.tzinfo else ts
        s = str(v).strip()
        if isinstance(v, int | float) and not isinstance(v, bool):
            s = str(int(v)) if float(v).is_integer() else s
        m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s)
        if m:
            s = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
        if fmt and isinstance(v, str):
            ts = pd.to_datetime(s, format=fmt, errors="coerce")
            return pd.NaT if ts is pd.NaT or ts != ts.normalize() else ts
        if re.fullmatch(r"\d{8}", s):
            return pd.to_datetime(s, format="%Y%m%d", errors="coerce")
        ts = pd.to_datetime(s, errors="coerce")
        if ts is pd.NaT or ts != ts.normalize():
            return pd.NaT
        return ts

    return pd.to_datetime(values.map(one), errors="coerce")


# --------------------------------------------------------------------------- layouts → blocks


@dataclass
class _Block:
    """Values of one or more pollutants keyed by (station, time), with cell locations."""

    keys: pd.DataFrame  # station, time, _row
    raw: dict[str, pd.Series]  # pollutant → raw cells (aligned with keys)
    label: dict[str, object]  # pollutant → column label (str) or Series of labels
    unit: dict[str, str | None]  # pollutant → unit stated by the file


def _long_blocks(header, body, ctx: _Ctx, convention, tz, station_arg) -> tuple[_Block, str | None]:
    normed = [_norm(h) for h in header]
    idx = {n: i for i, n in enumerate(normed) if n}

    def find(aliases):
        for n, i in idx.items():
            if n in aliases:
                return i
        return None

    st_i = find(_STATION_ALIASES)
    t_i, file_conv = find(_TIME_ALIASES), None
    if t_i is None and (i := find(_TIME_START_ALIASES)) is not None:
        t_i, file_conv = i, "hour-beginning"
    if t_i is None and (i := find(_TIME_END_ALIASES)) is not None:
        t_i, file_conv = i, "hour-ending"
    d_i, h_i = find(_DATE_ALIASES), find(_HOUR_ALIASES)
    pcols = {}
    for i, h in enumerate(header):
        p, unit = _pollutant_of(h)
        if p is not None:
            if p in pcols:
                raise InputError(f"two columns for {p}: {header[pcols[p][0]]!r} and {h!r}", path=ctx.name, line=1)
            pcols[p] = (i, unit)
    if not pcols:
        raise InputError("no pollutant column (PM2.5, PM10, SO2, NO2, CO, O3) found", path=ctx.name, line=1)
    if st_i is None and station_arg is None:
        raise InputError("no station column (station/站点/监测点编码); add one or pass station=", path=ctx.name, line=1)
    if t_i is None and (d_i is None or h_i is None):
        raise InputError("no time column (time/时间, or date + hour)", path=ctx.name, line=1)
    used = {st_i, t_i, d_i if t_i is None else None, h_i if t_i is None else None} | {i for i, _ in pcols.values()}
    ignored = [h for i, h in enumerate(header) if i not in used and h]
    if ignored:
        ctx.add("info", 1, None, f"column(s) ignored: {', '.join(ignored[:10])}")

    rows = body["_row"]
    station = (body[st_i].map(lambda v: "" if v is None else str(v).strip()) if st_i is not None
               else pd.Series(station_arg, index=body.index))
    if t_i is not None:
        times, bad_t, had_off = _parse_times(body[t_i], tz, ctx, header[t_i], body["_row"])
        tlabel = header[t_i]
    else:
        days = _parse_dates(body[d_i], ctx, header[d_i], body["_row"])
        hours = pd.to_numeric(body[h_i], errors="coerce")
        bad_h = hours.isna() | (hours < 0) | (hours > 24) | (hours % 1 != 0)
        times = (days + pd.to_timedelta(hours.where(~bad_h), unit="h")).dt.tz_localize(
            tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(TZ)
        bad_t, had_off, tlabel = times.isna(), False, f"{header[d_i]}+{header[h_i]}"
    if had_off:
        ctx.add("info", None, tlabel, "times carry UTC offsets; converted to Beijing time "
                "(a 'Z' from a CNEMC mirror may really be Beijing time — check)")
    key_cells = [body[i] for i in (st_i, t_i, d_i if t_i is None else None) if i is not None]
    formula = np.logical_or.reduce([looks_like_formula(c) for c in key_cells])  # XLSX formula cells, '=…' text
    block = _Block(
        keys=pd.DataFrame({"station": station, "time": times, "_row": rows, "_badtime": bad_t,
                           "_tlabel": tlabel, "_formula": formula}),
        raw={p: body[i] for p, (i, _) in pcols.items()},
        label={p: header[i] for p, (i, _) in pcols.items()},
        unit={p: u for p, (_, u) in pcols.items()},
    )
    return block, file_conv


def _wide_block(header, body, ctx: _Ctx, pollutant: str, unit: str | None, tz, sheet: str | None) -> _Block:
    normed = [_norm(h) for h in header]
    t_i = next((i for i, n in enumerate(normed) if n in _TIME_ALIASES | _TIME_END_ALIASES | _TIME_START_ALIASES), 0)
    times, bad_t, _ = _parse_times(body[t_i], tz, ctx, header[t_i], body["_row"])
    cols = [i for i, h in enumerate(header) if i != t_i and h]
    if not cols:
        raise InputError("wide layout: no station columns after the time column", path=ctx.name, line=1)
    prefix = f"{sheet}!" if sheet else ""
    parts = []
    formula = looks_like_formula(body[t_i].reset_index(drop=True))
    for i in cols:
        m = _CODE_RE.search(header[i])
        code = m.group(1) if m else header[i]
        parts.append(pd.DataFrame({
            "station": code, "time": times, "_row": body["_row"], "_badtime": bad_t,
            "_tlabel": prefix + header[t_i], "raw": body[i], "label": prefix + header[i], "_formula": formula,
        }))
    long = pd.concat(parts, ignore_index=True)
    return _Block(keys=long[["station", "time", "_row", "_badtime", "_tlabel", "_formula"]], raw={pollutant: long["raw"]},
                  label={pollutant: long["label"]}, unit={pollutant: unit})


def _workbook_block(rows: list, ctx: _Ctx, pollutant: str, unit: str | None, station: str, convention: str,
                    convention_stated: bool, tz, sheet: str | None) -> tuple[_Block, str]:
    hdr_i = None
    for i, r in enumerate(rows[:15]):
        hours = [_hour_of(v) for v in r]
        if sum(h is not None for h in hours) >= 20:
            hdr_i = i
            break
    if hdr_i is None:
        raise InputError(f"{sheet or 'sheet'}: no header row with hour columns 00…23 (or 01…24) in the first 15 rows",
                         path=ctx.name)
    header, body = _table_frame(rows, hdr_i, ctx)
    hour_cols = {}
    for i, v in enumerate(rows[hdr_i]):
        h = _hour_of(v)
        if h is not None and h not in hour_cols.values():
            hour_cols[i] = h
    hset = set(hour_cols.values())
    if 0 in hset and 24 in hset:
        raise InputError(f"{sheet}: hour columns contain both 0 and 24; expected 00…23 or 01…24", path=ctx.name,
                         line=hdr_i + 1)
    one_to_24 = 24 in hset
    if one_to_24:
        if convention_stated and convention == "hour-beginning":
            raise InputError(f"{sheet}: hour columns 01…24 are hour-ending labels; they cannot be hour-beginning",
                             path=ctx.name, line=hdr_i + 1)
        convention = "hour-ending"
    date_i = next((i for i in range(len(header)) if i not in hour_cols), None)
    if date_i is None:
        raise InputError(f"{sheet}: no date column before the hour columns", path=ctx.name, line=hdr_i + 1)
    ignored = [h for i, h in enumerate(header) if i not in hour_cols and i != date_i and h]
    if ignored:
        ctx.add("info", hdr_i + 1, sheet, f"column(s) ignored: {', '.join(ignored[:10])}")
    days = _parse_dates(body[date_i], ctx, f"{sheet}!{header[date_i]}" if sheet else header[date_i], body["_row"])
    blank_row = body[[date_i, *hour_cols]].apply(
        lambda col: col.map(lambda v: v is None or (isinstance(v, str) and not v.strip()))).all(axis=1)
    body, days = body[~blank_row], days[~blank_row]
    shift = 1 if convention == "hour-beginning" else 0
    prefix = f"{sheet}!" if sheet else ""
    parts = []
    formula = looks_like_formula(body[date_i])
    for i, h in hour_cols.items():
        t = (days + pd.Timedelta(hours=h + shift)).dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(TZ)
        parts.append(pd.DataFrame({
            "station": station, "time": t, "_row": body["_row"], "_badtime": t.isna(),
            "_tlabel": prefix + header[date_i], "raw": body[i], "label": prefix + header[i], "_formula": formula,
        }))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    block = _Block(keys=long[["station", "time", "_row", "_badtime", "_tlabel", "_formula"]], raw={pollutant: long["raw"]},
                   label={pollutant: long["label"]}, unit={pollutant: unit})
    return block, convention


# --------------------------------------------------------------------------- blocks → frame


def _block_values(block: _Block, ctx: _Ctx, units: _Units, shift_hours: int) -> pd.DataFrame:
    """Validate one block: keys, numbers, units, negatives, duplicates → records with flags."""
    keys = block.keys.reset_index(drop=True)
    formula = (keys["_formula"].astype(bool) if "_formula" in keys
               else pd.Series(looks_like_formula(keys["station"]), index=keys.index))
    bad_station = ~formula & (keys["station"].isna()
                              | keys["station"].astype(str).str.strip().isin(["", "nan", "None"]))
    bad_time = ~formula & ~bad_station & keys["_badtime"].astype(bool)
    times = keys["time"]
    off_hour = ~formula & ~bad_station & ~bad_time & (times != times.dt.floor("h"))
    bad_key = formula | bad_station | bad_time | off_hour
    if bad_key.any():
        seen = keys.loc[bad_key, "_row"].duplicated()  # a workbook row holds 24 keys: one refusal per row
        first_of_row = pd.Series(False, index=keys.index)
        first_of_row[seen.index[~seen.to_numpy()]] = True
        ctx.rows_rejected += int(first_of_row.sum())
        for mask, why, reason in (
                (formula, "a spreadsheet formula in the station or time cell, not a value; row rejected — paste "
                          "values only", "formula"),
                (bad_station, "no station code; row rejected", "no_station"),
                (off_hour, "time not on the hour; row rejected", "off_hour"),
                (bad_time, "time not understood (expected e.g. 2022-01-01 13:00); row rejected", "bad_time")):
            m = mask & first_of_row
            if m.any():
                ctx.add_many("error", keys.loc[m, "_row"], keys.loc[m, "_tlabel"].tolist(), [why] * int(m.sum()),
                             reason=reason, values=keys.loc[m, "station"].astype(str).tolist(),
                             stations=keys.loc[m, "station"].tolist())
    keep = (~bad_key).to_numpy()
    kept = keys[keep].reset_index(drop=True)
    out = pd.DataFrame({"station": kept["station"].astype(str).str.strip(),
                        "time": kept["time"] + pd.Timedelta(hours=shift_hours),
                        "_row": kept["_row"]})
    flag = np.zeros(len(out), dtype=bool)
    for p, raw in block.raw.items():
        raw = raw.reset_index(drop=True)[keep].reset_index(drop=True)
        label = block.label[p]
        labels = (label.reset_index(drop=True)[keep].tolist() if isinstance(label, pd.Series)
                  else [label] * len(raw))
        where = label if isinstance(label, str) else p
        factor = units.factor(p, block.unit.get(p), where)
        vals, rejected = _to_numbers(raw, ctx, labels, p, kept["_row"], out["station"])
        vals = vals * factor
        neg = vals < 0
        if neg.any():
            ctx.cells_rejected += int(neg.sum())
            idx = np.flatnonzero(neg)
            ctx.add_many("error", kept["_row"].iloc[idx], [labels[i] for i in idx],
                         (f"negative value {vals[i] / factor:g} rejected" for i in idx), reason="negative",
                         values=(f"{vals[i] / factor:g}" for i in idx), stations=(out["station"].iloc[i] for i in idx))
            vals[neg] = np.nan
            rejected = rejected | neg
        out[p] = vals
        flag |= rejected
        if isinstance(label, pd.Series):
            out[f"_row_{p}"] = kept["_row"].to_numpy()
            out[f"_col_{p}"] = labels
    out["_flag"] = flag
    return _dedupe(out, list(block.raw), block.label, ctx)


def _dedupe(out: pd.DataFrame, pollutants: list[str], labels, ctx: _Ctx) -> pd.DataFrame:
    dup = out.duplicated(["station", "time"], keep=False)
    if not dup.any():
        return out
    d = out[dup]
    g = d.groupby(["station", "time"], sort=False)
    merged = g.first().reset_index()  # first non-null per column
    merged["_row"] = g["_row"].min().to_numpy()
    merged["_flag"] = True
    first_rows = g["_row"].transform("min")
    extra = d[d["_row"] != first_rows]
    ctx.rows_rejected += int(extra["_row"].nunique())
    for p in pollutants:
        n = g[p].nunique()
        conflict = (n > 1).to_numpy()
        if conflict.any():
            ctx.cells_rejected += int(g[p].count().to_numpy()[conflict].sum())
            merged.loc[conflict, p] = np.nan
            sub = merged[conflict]
            col = labels[p] if isinstance(labels[p], str) else p
            ctx.add_many("error", sub["_row"], [col] * len(sub),
                         (f"station {s} at {t:%Y-%m-%d %H:%M} appears more than once with different {p} values; "
                          "all copies rejected" for s, t in zip(sub["station"], sub["time"])), reason="conflict",
                         stations=sub["station"].tolist())
    same = extra.drop_duplicates("_row")
    ctx.add_many("warning", same["_row"], [None] * len(same),
                 (f"duplicate of an earlier row for station {s} at {t:%Y-%m-%d %H:%M}; merged"
                  for s, t in zip(same["station"], same["time"])))
    return pd.concat([out[~dup], merged[out.columns]], ignore_index=True)


def _merge_blocks(frames: list[pd.DataFrame]) -> pd.DataFrame:
    out = frames[0]
    for f in frames[1:]:
        overlap = [p for p in POLLUTANTS if p in out and p in f]
        if overlap:
            raise InputError(f"two sheets/blocks for {', '.join(overlap)}")
        out = out.merge(f, on=["station", "time"], how="outer", suffixes=("", "_r"))
        out["_row"] = out[["_row", "_row_r"]].min(axis=1)
        out["_flag"] = out["_flag"].fillna(False).astype(bool) | out["_flag_r"].fillna(False).astype(bool)
        out = out.drop(columns=["_row_r", "_flag_r"])
    return out


def _record_checks(frame: pd.DataFrame, ctx: _Ctx, known_stations) -> tuple[pd.DataFrame, pd.Series]:
    """The loader-edge rules (:func:`regionair.sources.plausibility.assess`: physical ranges with a unit hint
    for CO, non-finite values, future stamps) refuse values and rows; then the flags (kept, flagged):
    PM2.5 > PM10, unknown stations, a CO column whose median looks like µg/m³.

    Returns the frame without the refused rows (refused values NaN) and its 'flagged' mask.
    """
    frame = frame.reset_index(drop=True)
    rows = frame["_row"] if "_row" in frame else pd.Series(np.nan, index=frame.index)
    lines = {"_row": rows.to_numpy()}
    labels: dict[str, object] = {}
    for p in POLLUTANTS:
        if f"_row_{p}" in frame:
            lines[p] = frame[f"_row_{p}"].to_numpy()
        if f"_col_{p}" in frame:
            labels[p] = frame[f"_col_{p}"].to_numpy()
    found = assess(frame, ctx.name, lines=lines, labels=labels, now=ctx.now, skew=ctx.clock_skew, formulas=(),
                   unit_hint="pass units={'co': 'µg/m³'} (CLI: --units co=µg/m³)")
    flagged = pd.Series(False, index=frame.index)
    if found.refusals:
        for r in found.refusals:
            ctx.add("error", r.line, r.column, r.message, reason=r.reason, value=r.value, station=r.station)
        frame = frame.copy()
        for col, v in found.values.items():
            flagged |= frame[col].notna().to_numpy() & np.isnan(v)
            frame[col] = v
        ctx.cells_rejected += sum(r.reason != "future" for r in found.refusals)
        ctx.rows_rejected += len({(r.line, r.station) for r in found.refusals if r.reason == "future"})
        if found.drop.any():
            keep = ~found.drop
            frame = frame[keep].reset_index(drop=True)
            flagged = flagged[keep].reset_index(drop=True)
            rows = frame["_row"] if "_row" in frame else pd.Series(np.nan, index=frame.index)

    def loc(p, mask):
        r = frame[f"_row_{p}"][mask] if f"_row_{p}" in frame else rows[mask]
        c = frame[f"_col_{p}"][mask].tolist() if f"_col_{p}" in frame else [p] * int(mask.sum())
        return r, c

    if "co" in frame and frame["co"].notna().sum() >= 5 and frame["co"].median() > 20:
        ctx.add("warning", None, "co", f"median CO {frame['co'].median():g} mg/m³ is implausible; the column is "
                "probably in µg/m³ — pass units={'co': 'µg/m³'}")
    if "pm25" in frame and "pm10" in frame:
        inv = (frame["pm25"] > frame["pm10"]).fillna(False)
        if inv.any():
            ctx.cells_flagged += int(inv.sum())
            flagged |= inv
            r, _ = loc("pm25", inv)
            ctx.add_many("warning", r, ["pm25>pm10"] * int(inv.sum()),
                         (f"PM2.5 {a:g} > PM10 {b:g}: kept, flagged (possible with separate monitors; check)"
                          for a, b in zip(frame.loc[inv, "pm25"], frame.loc[inv, "pm10"])))
    if known_stations is not None:
        known = set(known_stations)
        unknown = ~frame["station"].isin(known)
        if unknown.any():
            flagged |= unknown
            for code, n in frame.loc[unknown, "station"].value_counts().items():
                first = rows[unknown & (frame["station"] == code)].min()
                ctx.add("warning", first, "station", f"unknown station code {code!r} ({n} record(s)); kept, flagged — "
                        "check the code or add the station to the station list")
    return frame, flagged


def _finish(frame: pd.DataFrame, flagged: pd.Series, ctx: _Ctx, extra_cols=()) -> tuple[pd.DataFrame, dict]:
    flag = flagged | (frame["_flag"] if "_flag" in frame else False)
    cols = ["station", "time", *POLLUTANTS, "source", *[c for c in extra_cols if c in frame]]
    out = frame.copy()
    for p in POLLUTANTS:
        if p not in out:
            out[p] = np.nan
        out[p] = out[p].astype("float64")
    out["source"] = SOURCE
    out["_f"] = np.asarray(flag, dtype=bool) if len(out) else np.zeros(0, dtype=bool)
    out = out[[*cols, "_f"]]
    out["time"] = out["time"].astype(f"datetime64[ns, {TZ.key}]")
    out = out.sort_values(["time", "station"], kind="stable").reset_index(drop=True)
    flag = out.pop("_f").to_numpy(dtype=bool)
    counts = {
        "rows_read": ctx.rows_read,
        "rows_rejected": ctx.rows_rejected,
        "records": len(out),
        "records_ok": int((~flag).sum()),
        "records_flagged": int(flag.sum()),
        "cells_rejected": ctx.cells_rejected,
        "cells_flagged": ctx.cells_flagged,
    }
    # short aliases (issue wording "rows ok / rejected / flagged")
    counts["ok"] = counts["records_ok"]
    counts["flagged"] = counts["records_flagged"]
    counts["rejected"] = counts["rows_rejected"] + counts["cells_rejected"]
    if not len(out):
        ctx.add("error", None, None, "no valid station-hour in the file; nothing to store")
    return out, counts


# --------------------------------------------------------------------------- public API


def _detect_table_layout(header: list[str]) -> str | None:
    normed = {_norm(h) for h in header}
    if {"timepoint", "stationcode"} <= normed:
        return "cnemc-archive"
    if {"date", "hour", "type"} <= normed:
        return "quotsoft"
    has_p = any(_pollutant_of(h)[0] for h in header)
    has_st = bool(normed & _STATION_ALIASES)
    has_t = bool(normed & (_TIME_ALIASES | _TIME_START_ALIASES | _TIME_END_ALIASES)) or (
        bool(normed & _DATE_ALIASES) and bool(normed & _HOUR_ALIASES))
    if has_p and has_t:
        return "long"
    if sum(_hour_of(h) is not None for h in header) >= 20:
        return "station-workbook"
    if has_t and not has_st and any(_CODE_RE.search(h) for h in header):
        return "wide"
    return None


def _layout_error(name: str, header) -> InputError:
    return InputError(
        "layout not recognised from the header "
        f"{[h for h in header if h][:8]}; expected one of: long (station,time,pm25,…), wide (time,<station codes…>; "
        "pass pollutant=), the CNEMC archive CSV (timepoint,stationcode,…), the quotsoft daily file "
        "(date,hour,type,…) or a per-station workbook (a sheet per pollutant, columns 00…23) — or pass layout=",
        path=name, line=1,
    )


def _pollutant_from_name(filename: str) -> tuple[str | None, str | None]:
    stem = PurePath(filename).stem
    for token in re.split(r"[_\s\-—]+", stem):
        p, u = _pollutant_of(token)
        if p:
            return p, u
    return None, None


def preview_upload(
    data: bytes,
    filename: str,
    *,
    layout: str = "auto",
    units=None,
    time_convention: str | None = None,
    tz: str = "Asia/Shanghai",
    station: str | None = None,
    pollutant: str | None = None,
    known_stations: Iterable[str] | None = None,
    max_bytes: int | None = None,
    max_rows: int | None = None,
    max_issues: int = MAX_ISSUES,
    date_format: str | None = None,
    now=None,
    clock_skew=None,
) -> UploadPreview:
    """Parse and validate an uploaded CSV/XLSX without writing anything.

    Parameters
    ----------
    data : bytes
        The uploaded file.
    filename : str
        Its name (extension decides the format: ``.csv`` or ``.xlsx`` only).
    layout : {"auto", "long", "wide", "cnemc-archive", "quotsoft", "station-workbook"}
        Layout; ``"auto"`` detects it from the header(s) and sheet names.
    units : str or mapping, optional
        Units of the values, for all pollutants (``"µg/m³"``) or per pollutant
        (``{"co": "µg/m³"}``). Default: as stated in the headers, else CNEMC (µg/m³, CO mg/m³).
    time_convention : {"hour-ending", "hour-beginning"}, optional
        Meaning of the file's time stamps. Default: stated by the file, else hour-beginning for
        the station workbook and hour-ending otherwise (module docstring).
    tz : str
        IANA zone of naive times in the file (default Beijing time). Use ``"UTC"`` for UTC files;
        never ``Asia/Urumqi`` unless the file really is in UTC+6 local time (sources.md §0).
    station : str, optional
        Station code for a per-station workbook (or a long file without station column).
    pollutant : str, optional
        Pollutant of a wide file or a single-sheet workbook/CSV (``"pm25"``, ``"PM2.5"``, 臭氧 …).
    known_stations : iterable of str, optional
        Station codes known to RegionAir; others are flagged.
    max_bytes, max_rows : int, optional
        Limits (default 50 MB / 2 000 000 rows, or env ``REGIONAIR_UPLOAD_MAX_BYTES`` /
        ``REGIONAIR_UPLOAD_MAX_ROWS``).
    max_issues : int
        Most issues listed (all are counted; every refusal is in ``refusals``).
    date_format : str, optional
        strftime format of the time (or date) cells, e.g. ``"%d/%m/%Y %H:%M"``: needed when the file
        writes ``03/04/2026`` and never a day above 12 (both readings possible); nothing is guessed
        then.
    now : datetime-like, optional
        The clock for the future-stamp rule (tests; default now).
    clock_skew : float or Timedelta, optional
        Allowed lead of a stamp over ``now`` [h] (default 2 h or env ``REGIONAIR_CLOCK_SKEW_HOURS``).

    Returns
    -------
    UploadPreview
        The canonical frame, the layout, the encoding, issues and counts.

    Raises
    ------
    InputError
        The file as a whole is refused: wrong extension or content type, too large, too many
        rows, a zip bomb, an undecodable text, an unrecognised layout, missing key columns,
        contradictory units or convention, ambiguous day/month dates (a question asking for
        ``date_format``), a malformed archive/quotsoft file (file, line and column named). Nothing
        is written in any case.

    Examples
    --------
    >>> pv = preview_upload(open("1490A_2022.xlsx", "rb").read(), "1490A_2022.xlsx")  # doctest: +SKIP
    >>> pv.summary(), pv.issues_frame().head()                                            # doctest: +SKIP
    """
    name = PurePath(filename).name or "<upload>"
    if layout not in LAYOUTS:
        raise InputError(f"layout {layout!r} unknown; valid: {', '.join(LAYOUTS)}", column="layout")
    if time_convention is not None and time_convention not in CONVENTIONS:
        raise InputError(f"time_convention {time_convention!r} unknown; valid: {', '.join(CONVENTIONS)}",
                         column="time_convention")
    try:
        pd.Timestamp("2022-01-01").tz_localize(tz)
    except (KeyError, ValueError, TypeError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise InputError(f"unknown time zone {tz!r} ({exc})", column="tz") from None
    max_bytes = max_bytes if max_bytes is not None else upload_max_bytes()
    max_rows = max_rows if max_rows is not None else _env_int("REGIONAIR_UPLOAD_MAX_ROWS", DEFAULT_MAX_ROWS)
    if len(data) > max_bytes:
        raise InputError(f"file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB — split it",
                         path=name)
    if not data:
        raise InputError("empty file", path=name)
    ext = PurePath(name).suffix.lower()
    if ext not in (".csv", ".xlsx"):
        raise InputError(f"only .csv and .xlsx files are accepted, not {ext or 'no extension'!r}", path=name)
    if pollutant is not None:
        p, _ = _pollutant_of(pollutant)
        if p is None:
            raise InputError(f"pollutant {pollutant!r} unknown; use one of {', '.join(POLLUTANTS)}", column="pollutant")
        pollutant = p
    ctx = _Ctx(name, max_issues, date_format=date_format, now=now, clock_skew=clock_skew)
    units_r = _Units(units, ctx)

    if ext == ".xlsx":
        check_xlsx_container(data, name)
        sheets = _read_xlsx(data, name, max_rows)
        sheets = {k: v for k, v in sheets.items() if v}
        if not sheets:
            raise InputError("the workbook has no data", path=name)
        encoding = None
        return _preview_sheets(sheets, data, ctx, units_r, layout=layout, convention=time_convention, tz=tz,
                               station=station, pollutant=pollutant, known=known_stations, encoding=encoding)
    if data[:4] == b"PK\x03\x04":
        raise InputError("this .csv is a zip/xlsx file; rename it to .xlsx or export CSV", path=name)
    encoding = detect_encoding(data)
    text = data.decode(encoding)
    if encoding in ("utf-16",):
        text = text.lstrip("\ufeff")
    rows = _read_csv_table(text, name, max_rows)
    if not rows:
        raise InputError("empty file", path=name)
    return _preview_sheets({None: rows}, data, ctx, units_r, layout=layout, convention=time_convention, tz=tz,
                           station=station, pollutant=pollutant, known=known_stations, encoding=encoding, text=text)


def _delegate(kind: str, text: str, ctx: _Ctx, known, encoding, convention, units_r, tz) -> UploadPreview:

    if convention == "hour-beginning":
        raise InputError(f"{kind} files are hour-ending by definition (standards.md §6.1); drop time_convention",
                         path=ctx.name, column="time_convention")
    if tz not in ("Asia/Shanghai", "Asia/Chongqing", "PRC", "Etc/GMT-8"):
        raise InputError(f"{kind} files are in Beijing time by definition; tz={tz!r} cannot apply",
                         path=ctx.name, column="tz")
    if units_r.user and any(units_r.user.get(p, CANONICAL_UNIT[p]) != CANONICAL_UNIT[p] for p in POLLUTANTS):
        raise InputError(f"{kind} files are in CNEMC units (µg/m³, CO mg/m³); units= cannot change that",
                         path=ctx.name, column="units")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if kind == "cnemc-archive":
            frame = parse_archive(text.encode("utf-8"), ctx.name, now=ctx.now, clock_skew=ctx.clock_skew)
        else:
            frame = parse_sites_day(text.encode("utf-8"), ctx.name, now=ctx.now, clock_skew=ctx.clock_skew)
    for w in caught:
        if not issubclass(w.category, PlausibilityWarning):  # those are the refusals, listed one by one below
            ctx.add("warning", None, None, str(w.message))
    for r in take_refusals(frame):  # the parser's own loader-edge refusals, with the file's lines
        ctx.add("error", r.line, r.column, r.message, reason=r.reason, value=r.value, station=r.station)
        if r.reason in ("future", "formula", "truncated"):
            ctx.rows_rejected += 1
        else:
            ctx.cells_rejected += 1
    ctx.rows_read = max(text.count("\n") - 1, 0) if kind == "cnemc-archive" else len(frame)
    if encoding not in ("utf-8", "utf-8-sig"):
        ctx.add("info", None, None, f"read as {encoding} (archive files are normally UTF-8)")
    frame = frame.copy()
    frame["_row"] = np.nan
    frame, flagged = _record_checks(frame, ctx, known)
    extra = [c for c in frame.columns if c.startswith("published_") or c in
             ("not_monitored", "station_name", "area", "longitude", "latitude")]
    out, counts = _finish(frame, flagged, ctx, extra)
    _tail(ctx)
    return UploadPreview(out, kind, encoding, ctx.issues, counts, ctx.name, "hour-ending",
                         {p: UNIT_LABEL[CANONICAL_UNIT[p]] for p in POLLUTANTS}, None, ctx.sorted_refusals())


def _tail(ctx: _Ctx) -> None:
    if ctx.dropped:
        ctx.issues.append(Issue("info", None, None, f"{ctx.dropped} further issue(s) not listed"))


def _sheets_to_csv_text(rows: list) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        w.writerow(["" if v is None else (repr(v) if isinstance(v, float) else str(v)) for v in r])
    return buf.getvalue()


def _preview_sheets(sheets: dict, data: bytes, ctx: _Ctx, units_r: _Units, *, layout, convention, tz, station,
                    pollutant, known, encoding, text=None) -> UploadPreview:
    name = ctx.name

    def header_of(rows):
        return ["" if v is None else str(v).strip() for v in rows[0]]

    sheet_pollutants = {s: _pollutant_of(s) for s in sheets if s is not None}
    if layout == "auto" and any(p for p, _ in sheet_pollutants.values()):
        first_p = next(s for s, (p, _) in sheet_pollutants.items() if p)
        is_hours = any(sum(_hour_of(v) is not None for v in r) >= 20 for r in sheets[first_p][:15])
        layout = "station-workbook" if is_hours else "wide"
    if layout in ("auto", "long", "cnemc-archive", "quotsoft"):
        # one table: the first sheet whose header is recognised
        detected = {s: _detect_table_layout(header_of(rows)) for s, rows in sheets.items()}
        chosen = next((s for s, lay in detected.items() if lay and (layout == "auto" or lay == layout)),
                      next(iter(sheets)))
        if layout == "auto":
            layout = detected[chosen] or ""
            if not layout:
                raise _layout_error(name, header_of(sheets[chosen]))
        for s in sheets:
            if s != chosen:
                ctx.add("info", None, s, f"sheet {s!r} ignored ({layout} layout reads one table)")
        sheets = {chosen: sheets[chosen]}
    first_rows = next(iter(sheets.values()))

    if layout in ("cnemc-archive", "quotsoft"):
        if text is None:
            text = _sheets_to_csv_text(first_rows)
        return _delegate(layout, text, ctx, known, encoding, convention, units_r, tz)

    station_code = station.strip() if station else None
    if layout == "station-workbook" and station_code is None:
        m = _CODE_RE.search(name)
        if not m:
            for rows in sheets.values():
                for r in rows[:5]:
                    for v in r:
                        if v is not None and (m := _CODE_RE.search(str(v))):
                            break
                    if m:
                        break
                if m:
                    break
        if not m:
            raise InputError("per-station workbook: station code not found in the file name or title rows; pass station=",
                             path=name, column="station")
        station_code = m.group(1)
        ctx.add("info", None, None, f"station {station_code} taken from the file")

    default_conv = "hour-beginning" if layout == "station-workbook" else "hour-ending"
    conv = convention or default_conv
    blocks: list[tuple[_Block, str]] = []
    for sheet, rows in sheets.items():
        label = sheet if sheet is not None else None
        if layout in ("wide", "station-workbook"):
            if sheet is not None:
                p, unit = sheet_pollutants.get(sheet, (None, None))
                if p is None and len(sheets) > 1:
                    ctx.add("info", None, sheet, f"sheet {sheet!r} ignored: its name is not a pollutant")
                    continue
            else:
                p, unit = None, None
            if p is None:
                p, unit = (pollutant, None) if pollutant else _pollutant_from_name(name)
            if p is None:
                raise InputError(f"{layout} layout: which pollutant? Name the sheet or file after it or pass pollutant=",
                                 path=name, column="pollutant")
            if pollutant and p != pollutant and sheet is None:
                raise InputError(f"file name says {p} but pollutant={pollutant!r}", path=name, column="pollutant")
            if layout == "wide":
                header, body = _table_frame(rows, ctx=ctx)
                ctx.rows_read += len(body)
                blocks.append((_wide_block(header, body, ctx, p, unit, tz, label), conv))
            else:
                blk, used_conv = _workbook_block(rows, ctx, p, unit, station_code, conv, convention is not None, tz, label)
                ctx.rows_read += int(blk.keys["_row"].nunique())
                blocks.append((blk, used_conv))
        else:  # long
            header, body = _table_frame(rows, ctx=ctx)
            ctx.rows_read += len(body)
            blk, file_conv = _long_blocks(header, body, ctx, conv, tz, station)
            if file_conv and convention and file_conv != convention:
                raise InputError(f"the time column says {file_conv} but time_convention={convention!r}",
                                 path=name, column="time_convention")
            blocks.append((blk, file_conv or conv))
    if not blocks:
        raise InputError("no sheet with data for a pollutant", path=name)
    used_convs = {c for _, c in blocks}
    if len(used_convs) > 1:
        raise InputError("sheets use different hour conventions (00…23 and 01…24); make them consistent", path=name)
    used_conv = used_convs.pop()
    if convention is None:
        ctx.add("info", None, None, f"times read as {used_conv}"
                + (" (stated by the file)" if used_conv != default_conv else " (default for this layout; pass time_convention= to change)"))
    shift = 1 if (used_conv == "hour-beginning" and layout != "station-workbook") else 0
    frames = [_block_values(b, ctx, units_r, shift) for b, _ in blocks]
    units_r.report()
    frame = _merge_blocks(frames) if len(frames) > 1 else frames[0]
    frame, flagged = _record_checks(frame, ctx, known)
    out, counts = _finish(frame, flagged, ctx)
    _tail(ctx)
    return UploadPreview(out, layout, encoding, ctx.issues, counts, name, used_conv, dict(units_r.used),
                         station_code if layout == "station-workbook" else station, ctx.sorted_refusals())
