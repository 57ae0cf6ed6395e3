"""Property-based fuzzing of every parser (hypothesis): bad input gives a typed error or a counted
rejection — never an unhandled exception, never a silent zero, never a non-finite value.

Parsers: CNEMC archive CSV (:func:`parse_archive`), quotsoft daily CSV (:func:`parse_sites_day`),
uploads (:func:`preview_upload`: CSV long/wide, XLSX long and per-station workbooks), Open-Meteo
JSON (:func:`parse_air_quality`, :func:`parse_weather`).

Two kinds of properties per parser:

* **structured** — a file is generated from a table of cells (random station codes including
  markup and formulas, duplicated and out-of-order hours, DST-like gaps, BOMs, CRLF/mixed line
  endings, GBK, huge fields, NaN/inf/negative/absurd numbers, missing-value tokens, text,
  formulas). The parser's output is checked against the model: a valid number comes back exactly,
  a missing token is NaN (never 0), a bad cell is either an :class:`InputError` (archive: the
  file is refused, naming line and column) or NaN with a counted warning/rejection.
* **random bytes / random JSON** — anything at all; only typed errors may escape.

Profiles: ``ci`` (default) 200 examples per test, derandomised; ``REGIONAIR_FUZZ=long`` 10,000 per
test. The number of cases actually run is written to ``artifacts/fuzz_counts_<profile>_<worker>.json``.
"""

from __future__ import annotations

import io
import json
import math
import os
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regionair.errors import InputError, SourceError
from regionair.sources.cnemc_archive import HEADER, parse_archive
from regionair.sources.openmeteo import parse_air_quality, parse_weather
from regionair.sources.quotsoft import parse_sites_day
from regionair.sources.upload import preview_upload

LONG = os.environ.get("REGIONAIR_FUZZ") == "long"
_COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
settings.register_profile("regionair-ci", max_examples=200, derandomize=True, **_COMMON)
settings.register_profile("regionair-long", max_examples=10_000, **_COMMON)
FUZZ = settings.get_profile("regionair-long" if LONG else "regionair-ci")
#: XLSX cases are ~20× slower to build and read; they get a tenth of the budget.
FUZZ_XLSX = settings(FUZZ, max_examples=max(20, FUZZ.max_examples // 10))

COUNTS: Counter = Counter()
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    ARTIFACTS.mkdir(exist_ok=True)
    profile = "long" if LONG else "ci"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = ARTIFACTS / f"fuzz_counts_{profile}_{worker}.json"
    path.write_text(json.dumps({**dict(COUNTS), "total": sum(COUNTS.values())}, indent=1, sort_keys=True))
    print(f"\nfuzz cases run ({profile}): {dict(COUNTS)} total {sum(COUNTS.values())}")


# --------------------------------------------------------------------------- strategies

MISSING = ["", "NA", "—", "-", "null", "nan"]
STATIONS = ["1490A", "1491A", "3440A", "9999Z", "<img src=x onerror=alert(1)>", "=cmd|' /C calc'!A0",
            "@SUM(1+1)", "+1490A", "站点一", "a" * 300, " 1492A "]


def numbers():
    return st.one_of(
        st.integers(-50, 1000).map(str),
        st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
        st.sampled_from(["0", "0.0", "-0", "1e400", "-1e400", "inf", "-inf", "Infinity", "NaN", "NAN",
                         "1e308", "99999999", "-999", "-9999", " 12 ", "1,5", "0x10", "12abc", "=1+2",
                         "=cmd|' /C calc'!A0", "@SUM(A1)", "+5", "9" * 500, "１２"]),
        st.sampled_from(MISSING),
        st.text(max_size=20),
    )


def cells():
    """Mostly benign cells (so that whole files get accepted and their values checked), some hostile."""
    benign = st.one_of(st.integers(0, 999).map(str), st.floats(0, 5000, allow_nan=False).map(lambda v: f"{v:.1f}"),
                       st.sampled_from(MISSING + ["/"]))
    return st.integers(0, 19).flatmap(lambda k: numbers() if k == 0 else benign)


def expected_cell(tok: str, missing=MISSING) -> tuple[str, float]:
    """('ok', value) for a valid concentration, ('missing', nan), ('negative', nan), ('bad', nan)."""
    s = tok.strip()
    if s in missing or s in ("NaN", "NULL", "N/A"):
        return "missing", math.nan
    try:
        v = float(s)
    except ValueError:
        return "bad", math.nan
    if not math.isfinite(v):
        return "bad", math.nan
    if v < 0:
        return "negative", math.nan
    return "ok", v


def check_frame(frame: pd.DataFrame, cols=("pm25", "pm10", "so2", "no2", "co", "o3")) -> None:
    """Invariants of every canonical frame a parser returns."""
    for c in cols:
        if c in frame:
            v = frame[c].to_numpy(dtype="float64")
            assert not np.isinf(v).any(), f"{c}: infinite value returned"
            assert not (v < 0).any(), f"{c}: negative concentration returned"
    if "time" in frame and len(frame):
        assert isinstance(frame["time"].dtype, pd.DatetimeTZDtype)
        assert frame["time"].notna().all()
        assert (frame["time"] == frame["time"].dt.floor("h")).all()
    if "station" in frame and len(frame):
        assert frame["station"].astype(str).str.strip().ne("").all()


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **kw)


def encode(text: str, enc: str, bom: bool, newline: str) -> bytes:
    if newline == "mixed":
        lines = text.split("\n")
        text = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines[:-1])) + lines[-1]
    elif newline != "\n":
        text = text.replace("\n", newline)
    data = text.encode(enc, errors="replace") if enc != "utf-8" else text.encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom and enc == "utf-8" else data


HOURS_2022 = [pd.Timestamp("2022-01-01 00:00") + pd.Timedelta(hours=h) for h in range(6)]


# --------------------------------------------------------------------------- CNEMC archive


@st.composite
def archive_files(draw):
    cells_st = cells()
    n = draw(st.integers(1, 8))
    rows = []
    for _ in range(n):
        t = draw(st.sampled_from(HOURS_2022))
        style = draw(st.sampled_from(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H00", "%Y-%m-%d %H:%M:%S"]))
        tp = t.strftime(style)
        row_cells = {h: draw(cells_st) for h in HEADER[7:]}
        rows.append((tp, t, draw(st.sampled_from(STATIONS)), row_cells))
    newline = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    bom = draw(st.booleans())
    enc = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "gbk"]))
    return rows, newline, bom, enc


def _csv_field(v: str) -> str:
    if any(c in v for c in ',"\n\r'):
        return '"' + v.replace('"', '""') + '"'
    return v


def build_archive(rows) -> str:
    lines = [",".join(HEADER)]
    for tp, _, station, cells in rows:
        fixed = [tp, station, "87.58", "43.83", "乌鲁木齐市", "监测站", "细颗粒物(PM2.5)"]
        lines.append(",".join(_csv_field(v) for v in fixed + [cells[h] for h in HEADER[7:]]))
    return "\n".join(lines) + "\n"


@FUZZ
@given(archive_files())
def test_archive_structured(case):
    COUNTS["cnemc_archive_structured"] += 1
    rows, newline, bom, enc = case
    text = build_archive(rows)
    data = encode(text, enc, bom, newline)
    try:
        out = _quiet(parse_archive, data, "fuzz.csv")
    except InputError as exc:
        assert str(exc).startswith("fuzz.csv"), exc  # names the file (and line/column where known)
        return
    check_frame(out)
    # the file was accepted: then it decoded, and no numeric cell was bad
    kinds = {h: [expected_cell(r[3][h])[0] for r in rows] for h in ("pm2_5", "pm10", "so2", "no2", "co")}
    numeric_fields = HEADER[7:]
    assert all(expected_cell(r[3][h])[0] != "bad" or r[3][h].strip() == "/" for r in rows for h in numeric_fields), \
        "a bad numeric cell was accepted silently"
    last = {}
    for _tp, t, station, cells in rows:
        last[(station.strip(), t)] = cells
    assert len(out) == len(last)
    for (station, t), cells in last.items():
        got = out[(out["station"] == station) & (out["time"] == t.tz_localize("Asia/Shanghai"))]
        assert len(got) == 1
        for up, code in (("pm2_5", "pm25"), ("pm10", "pm10"), ("so2", "so2"), ("no2", "no2"), ("co", "co")):
            kind, want = expected_cell(cells[up])
            if cells[up].strip() == "/":
                kind = "missing"
            value = got[code].iloc[0]
            if kind == "ok":
                assert value == want, (up, cells[up], value)
            else:
                assert math.isnan(value), (up, cells[up], value)  # never a silent zero
    del kinds


@FUZZ
@given(st.binary(max_size=3000))
def test_archive_random_bytes(data):
    COUNTS["cnemc_archive_bytes"] += 1
    try:
        check_frame(_quiet(parse_archive, data, "rnd.csv"))
    except InputError:
        pass


@FUZZ
@given(archive_files(), st.data())
def test_archive_mutated(case, data):
    """A valid-looking file with random byte edits: truncations, inserted quotes, deleted separators."""
    COUNTS["cnemc_archive_mutated"] += 1
    rows, newline, bom, enc = case
    raw = bytearray(encode(build_archive(rows), enc, bom, newline))
    for _ in range(data.draw(st.integers(1, 5))):
        if not raw:
            break
        i = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["del", "ins", "cut"]))
        if op == "del":
            del raw[i]
        elif op == "ins":
            raw[i:i] = data.draw(st.sampled_from([b",", b'"', b"\n", b"\r", b"\x00", b"\xff", b"=", b"\xe4\xb8"]))
        else:
            del raw[i:]
    try:
        check_frame(_quiet(parse_archive, bytes(raw), "mut.csv"))
    except InputError:
        pass


@FUZZ
@given(archive_files(), st.data())
def test_archive_reading_some_stations_agrees_with_reading_all(case, data):
    """Whenever the whole (possibly mutated) file parses, reading only some stations gives exactly its rows
    of those stations — quoted, blank-padded and odd codes included."""
    COUNTS["cnemc_archive_selected"] += 1
    rows, newline, bom, enc = case
    raw = bytearray(encode(build_archive(rows), enc, bom, newline))
    for _ in range(data.draw(st.integers(0, 3))):
        if len(raw) < 2:
            break
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i:i] = data.draw(st.sampled_from([b",", b'"', b"\n", b" ", b"\r"]))
    keep = data.draw(st.lists(st.sampled_from(STATIONS + ["1492A"]), max_size=4))
    try:
        full = _quiet(parse_archive, bytes(raw), "sel.csv")
    except InputError:
        return
    got = _quiet(parse_archive, bytes(raw), "sel.csv", stations=keep)
    want = full[full["station"].isin({k.strip() for k in keep})].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)


# --------------------------------------------------------------------------- quotsoft

QTYPES = ["AQI", "PM2.5", "PM2.5_24h", "PM10", "PM10_24h", "SO2", "NO2", "O3", "O3_24h", "O3_8h", "O3_8h_24h",
          "CO", "CO_24h", "XYZ", ""]


@st.composite
def quotsoft_files(draw):
    codes = draw(st.lists(st.sampled_from(["1490A", "1496A", "2692A", "<b>x</b>", "=1+1", "9999Z"]),
                          min_size=1, max_size=4, unique=True))
    n = draw(st.integers(1, 10))
    rows = []
    for _ in range(n):
        date = draw(st.sampled_from(["20220101", "20220101", "20220102", "2022-01-01", "", "20221340"]))
        hour = draw(st.sampled_from(["0", "1", "5", "23", "24", "-1", "1.5", "x", ""]))
        typ = draw(st.sampled_from(QTYPES))
        rows.append((date, hour, typ, [draw(cells()) for _ in codes]))
    return codes, rows, draw(st.sampled_from(["\n", "\r\n", "mixed"])), draw(st.booleans()), draw(st.booleans())


@FUZZ
@given(quotsoft_files())
def test_quotsoft_structured(case):
    COUNTS["quotsoft_structured"] += 1
    codes, rows, newline, bom, trailing = case
    lines = ["date,hour,type," + ",".join(codes) + ("," if trailing else "")]
    for date, hour, typ, cells in rows:
        lines.append(",".join(_csv_field(v) for v in [date, hour, typ, *cells]) + ("," if trailing else ""))
    data = encode("\n".join(lines) + "\n", "utf-8", bom, newline)
    try:
        out = _quiet(parse_sites_day, data, "china_sites_20220101.csv")
    except InputError as exc:
        assert "china_sites_20220101.csv" in str(exc)
        return
    check_frame(out)
    # PM2.5 cells: a valid number comes back exactly; anything else is NaN (counted in a warning)
    last = {}
    for date, hour, typ, cells in rows:
        if typ == "PM2.5" and date in ("20220101", "20220102") and hour in ("0", "1", "5", "23"):
            for code, tok in zip(codes, cells):
                last[(code, pd.Timestamp(date) + pd.Timedelta(hours=int(hour)))] = tok
    for (code, t), tok in last.items():
        got = out[(out["station"] == code) & (out["time"] == t.tz_localize("Asia/Shanghai"))]
        kind, want = expected_cell(tok, missing=MISSING + ["/", "N/A"])
        if len(got) == 0:
            assert kind != "ok" or "" in codes  # dropped only when the station-hour has no value at all
            continue
        value = got["pm25"].iloc[0]
        if kind == "ok":
            assert value == want, (tok, value)
        else:
            assert math.isnan(value), (tok, value)


@FUZZ
@given(st.binary(max_size=3000))
def test_quotsoft_random_bytes(data):
    COUNTS["quotsoft_bytes"] += 1
    try:
        check_frame(_quiet(parse_sites_day, data, "rnd.csv"))
    except InputError:
        pass


# --------------------------------------------------------------------------- uploads


@st.composite
def long_tables(draw):
    n = draw(st.integers(1, 8))
    rows = []
    for _ in range(n):
        t = draw(st.one_of(
            st.sampled_from(HOURS_2022).map(lambda t: t.strftime("%Y-%m-%d %H:%M")),
            st.sampled_from(["2022-01-01 00:30", "2022-03-27 02:00", "2022-01-01T24:00", "2022年1月1日 5时",
                             "2022-01-01T03:00:00+08:00", "2022-01-01T03:00Z", "not a time", "", "=NOW()",
                             "9999-99-99 99:99"]),
        ))
        rows.append((draw(st.sampled_from(STATIONS + [""])), t, draw(cells()), draw(cells())))
    header = draw(st.sampled_from([("station", "time", "pm25", "co"), ("站点", "时间", "PM2.5(μg/m³)", "一氧化碳(mg/m³)"),
                                   ("station", "time", "PM2.5 ug/m3", "CO [mg/m3]")]))
    return header, rows, draw(st.sampled_from(["utf-8", "gbk", "utf-16"])), draw(st.booleans()), \
        draw(st.sampled_from(["\n", "\r\n", "mixed"])), draw(st.sampled_from([",", ";", "\t"]))


def _check_preview(pv, n_input_rows: int) -> None:
    check_frame(pv.frame)
    c = pv.counts
    assert set(c) >= {"rows_read", "rows_rejected", "records", "cells_rejected", "cells_flagged"}
    assert c["records"] == len(pv.frame) == c["records_ok"] + c["records_flagged"]
    assert all(i.severity in ("error", "warning", "info") for i in pv.issues)
    assert (pv.frame["source"] == "upload").all()


@FUZZ
@given(long_tables())
def test_upload_csv_long_structured(case):
    COUNTS["upload_csv_structured"] += 1
    header, rows, enc, bom, newline, sep = case

    def field(v):
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in (sep, '"', "\n", "\r")) else v

    text = "\n".join([sep.join(header)] + [sep.join(field(v) for v in r) for r in rows]) + "\n"
    data = encode(text, "utf-8" if enc == "utf-16" else enc, bom, newline)
    if enc == "utf-16":
        data = text.encode("utf-16")
    try:
        pv = _quiet(preview_upload, data, "upload.csv", layout="long")
    except InputError:
        return
    _check_preview(pv, len(rows))
    # valid numbers come back exactly (kept or flagged), bad cells are counted rejections, never 0
    bad = sum(expected_cell(r[2], MISSING + ["/", "N/A", "--", "None", "#N/A", "n/a", "na"])[0] in ("bad", "negative")
              for r in rows) + sum(
        expected_cell(r[3], MISSING + ["/", "N/A", "--", "None", "#N/A", "n/a", "na"])[0] in ("bad", "negative")
        for r in rows)
    assert pv.counts["cells_rejected"] <= bad + 2 * len(rows)
    if len(pv.frame):
        zeros = (pv.frame["pm25"] == 0).sum()
        given_zeros = sum(expected_cell(r[2])[0] == "ok" and expected_cell(r[2])[1] == 0 for r in rows)
        assert zeros <= given_zeros, "a zero appeared that the file did not contain"


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from(["u.csv", "u.xlsx", "u.xls", "u.txt", "u", "../../etc/passwd.csv"]))
def test_upload_random_bytes(data, name):
    COUNTS["upload_bytes"] += 1
    try:
        pv = _quiet(preview_upload, data, name)
    except InputError:
        return
    _check_preview(pv, 0)


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:  # control characters cannot be stored in a workbook at all: drop them
            ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xcells():
    return st.one_of(st.floats(allow_nan=True, allow_infinity=False), st.integers(-10**6, 10**6), st.none(),
                     numbers(), st.sampled_from(["=1+1", "=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\",\"y\")"]))


@FUZZ_XLSX
@given(st.lists(st.tuples(st.sampled_from(STATIONS), st.sampled_from(HOURS_2022), xcells()), min_size=1, max_size=6))
def test_upload_xlsx_long(rows):
    COUNTS["upload_xlsx_long"] += 1
    data = _xlsx({"data": [["station", "time", "pm25"], *[[s, t.to_pydatetime(), v] for s, t, v in rows]]})
    try:
        pv = _quiet(preview_upload, data, "upload.xlsx", layout="long")
    except InputError:
        return
    _check_preview(pv, len(rows))
    formulas = sum(isinstance(v, str) and v.startswith("=") for _, _, v in rows)
    if formulas:
        assert pv.counts["cells_rejected"] >= 1 or pv.counts["rows_rejected"] >= 1


@FUZZ_XLSX
@given(st.lists(st.lists(xcells(), min_size=24, max_size=24), min_size=1, max_size=3),
       st.sampled_from(["PM2.5", "臭氧", "CO", "XYZ"]), st.booleans())
def test_upload_station_workbook(day_rows, sheet, one_to_24):
    COUNTS["upload_xlsx_station_workbook"] += 1
    hours = [f"{h:02d}" for h in (range(1, 25) if one_to_24 else range(24))]
    rows = [["日期", *hours]] + [[f"2022-01-0{i + 1}", *r] for i, r in enumerate(day_rows)]
    data = _xlsx({sheet: rows})
    try:
        pv = _quiet(preview_upload, data, "1490A_2022.xlsx", layout="station-workbook")
    except InputError:
        return
    _check_preview(pv, len(day_rows) * 24)


# --------------------------------------------------------------------------- Open-Meteo JSON

POINTS = [("650100", 43.8, 87.6)]
AQ_VARS = ["pm2_5", "pm10", "sulphur_dioxide", "nitrogen_dioxide", "ozone", "carbon_monoxide", "dust",
           "aerosol_optical_depth"]
WX_VARS = ["wind_speed_10m", "wind_direction_10m", "temperature_2m", "relative_humidity_2m", "boundary_layer_height"]


def jvalues():
    return st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9),
                     st.text(max_size=5), st.booleans())


@st.composite
def om_payloads(draw, variables):
    n = draw(st.integers(0, 6))
    times = [(pd.Timestamp("2026-03-10 00:00") + pd.Timedelta(hours=draw(st.integers(-3, 30)))).strftime("%Y-%m-%dT%H:%M")
             for _ in range(n)]
    if draw(st.integers(0, 9)) == 0:
        times = draw(st.lists(st.one_of(st.text(max_size=16), st.none(), st.integers()), max_size=4)) or times
    hourly = {"time": times}
    for v in variables:
        if draw(st.integers(0, 19)) == 0:
            continue
        k = n if draw(st.integers(0, 19)) else draw(st.integers(0, 8))
        hourly[v] = draw(st.lists(jvalues(), min_size=k, max_size=k))
    good = {"wind_speed_10m": "m/s", "wind_direction_10m": "°", "temperature_2m": "°C", "relative_humidity_2m": "%",
            "boundary_layer_height": "m", "aerosol_optical_depth": ""}
    units = {v: (good.get(v, "μg/m³") if draw(st.integers(0, 19)) else
                 draw(st.sampled_from(["μg/m³", "µg/m³", "ppm", "km/h", "m/s", "°C", "°F", "", "K"]))) for v in variables}
    item = {"latitude": 43.8, "longitude": 87.6, "utc_offset_seconds": draw(st.sampled_from([28800, 28800, 0, None])),
            "timezone": "Asia/Shanghai", "hourly": hourly, "hourly_units": units}
    shape = draw(st.sampled_from(["item"] * 6 + ["list", "list2", "error", "junk"]))
    if shape == "list":
        return [item]
    if shape == "list2":
        return [item, item]
    if shape == "error":
        return {"error": True, "reason": draw(st.text(max_size=30))}
    if shape == "junk":
        return draw(st.recursive(st.one_of(st.none(), st.integers(), st.text(max_size=5)),
                                 lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=5), c, max_size=3)),
                                 max_leaves=8))
    return item


def _om_ok(frame: pd.DataFrame, cols) -> None:
    for c in cols:
        v = frame[c].to_numpy(dtype="float64")
        assert not np.isinf(v).any(), f"{c}: infinite value returned"


@FUZZ
@given(om_payloads(AQ_VARS), st.sampled_from([pd.Timestamp("2026-03-10 00:00", tz="UTC"), None]))
def test_openmeteo_air_quality(payload, run_time):
    COUNTS["openmeteo_air_quality"] += 1
    try:
        out = _quiet(parse_air_quality, payload, POINTS, run_time)
    except (SourceError, InputError):
        return
    _om_ok(out, ["pm25", "pm10", "so2", "no2", "o3", "co", "dust", "aod"])
    assert (out["point"] == "650100").all() and out["time"].notna().all()


@FUZZ
@given(om_payloads(WX_VARS))
def test_openmeteo_weather(payload):
    COUNTS["openmeteo_weather"] += 1
    try:
        out = _quiet(parse_weather, payload, POINTS, None)
    except (SourceError, InputError):
        return
    _om_ok(out, ["wind_speed", "wind_direction", "temperature", "rh", "blh"])


@FUZZ
@given(st.binary(max_size=2000))
def test_openmeteo_random_body_through_the_client(body):
    """Random bytes as an HTTP body: get_json → SourceError; a decoded payload → typed error or frame."""
    COUNTS["openmeteo_bytes"] += 1
    try:
        payload = json.loads(body)
    except ValueError:
        return  # HttpClient.get_json turns this into SourceError (tests/sources/test_http.py)
    try:
        _quiet(parse_air_quality, payload, POINTS, None)
    except (SourceError, InputError):
        pass
