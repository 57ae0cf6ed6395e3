"""Analyst uploads: encodings, layouts, time conventions, units, validation, limits (no network)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from regionair.core.nomenclature import TZ
from regionair.errors import InputError
from regionair.sources.upload import (
    Issue,
    UploadPreview,
    check_xlsx_container,
    detect_encoding,
    preview_upload,
)
from tests.httpfake import RECORDED

UP = RECORDED / "upload"
KNOWN = {"1490A", "2692A", "2709A", "3440A"}


def T(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz=TZ)


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def hours_header(first="日期", labels=None):
    return [first, *(labels or [f"{h:02d}" for h in range(24)])]


def values_of(pv: UploadPreview, station: str, time: str, col: str):
    f = pv.frame.set_index(["station", "time"])
    return f.loc[(station, T(time)), col]


def messages(pv: UploadPreview, severity: str | None = None) -> str:
    return " | ".join(i.message for i in pv.issues if severity is None or i.severity == severity)


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    "data, expected",
    [
        ("站点,时间\n".encode(), "utf-8"),
        ("站点,时间\n".encode("utf-8-sig"), "utf-8-sig"),
        ("站点,时间\n".encode("gbk"), "gbk"),
        ("站点,𠀀\n".encode("gb18030"), "gb18030"),
        ("station,time\n".encode("utf-16"), "utf-16"),
        (b"station,time\n", "utf-8"),
    ],
    ids=["utf8", "utf8-sig", "gbk", "gb18030", "utf16", "ascii"],
)
def test_detect_encoding(data, expected):
    assert detect_encoding(data) == expected


def test_detect_encoding_refuses_binary():
    with pytest.raises(InputError, match="binary"):
        detect_encoding(b"\x00\x01\x02abc")


# --------------------------------------------------------------------------- long layout


def test_long_gbk_with_chinese_headers_and_units():
    pv = preview_upload((UP / "region_long_gbk.csv").read_bytes(), "region_long_gbk.csv", known_stations=KNOWN)
    assert (pv.layout, pv.encoding, pv.time_convention) == ("long", "gbk", "hour-ending")
    assert pv.units == {"pm25": "µg/m³", "pm10": "µg/m³", "so2": "µg/m³", "no2": "µg/m³", "co": "mg/m³", "o3": "µg/m³"}
    assert list(pv.frame.columns) == ["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3", "source"]
    assert str(pv.frame["time"].dtype) == "datetime64[ns, Asia/Shanghai]"
    assert len(pv.frame) == 6 and (pv.frame["source"] == "upload").all()
    assert values_of(pv, "1490A", "2022-01-01 01:00", "pm25") == 166
    assert values_of(pv, "2692A", "2022-01-01 02:00", "co") == 3.2
    assert pv.counts == {"rows_read": 6, "rows_rejected": 0, "records": 6, "records_ok": 6, "records_flagged": 0,
                         "cells_rejected": 0, "cells_flagged": 0, "ok": 6, "flagged": 0, "rejected": 0}
    assert pv.errors == [] and pv.ok
    assert "column(s) ignored: 站点名称" in messages(pv, "info")


def test_long_validation_rejections_and_flags():
    csv = (
        "station,time,pm25,pm10,so2,no2,co,o3\n"
        "1490A,2022-01-01 01:00,166,261,8,82,2.8,4\n"          # 2 ok
        "1490A,2022-01-01 02:00,-5,265,7,83,2.7,4\n"            # 3 negative pm25 → rejected
        "2692A,2022-01-01 01:00,=SUM(A1),314,4,69,2.7,7\n"     # 4 formula → rejected
        "2692A,2022-01-01 02:00,170,241,4,68,2700,abc\n"        # 5 CO µg/m³ by mistake → flagged; text → rejected
        "3440A,2022-01-01 01:00,213,199,4,96,2.9,4\n"           # 6 PM2.5 > PM10 → flagged
        "3440A,2022-01-01 01:00,213,199,4,96,2.9,4\n"           # 7 identical duplicate → dropped, flagged
        "3440A,2022-01-01 02:00,203,205,5,98,2.7,3\n"           # 8
        "3440A,2022-01-01 02:00,204,205,5,98,2.7,3\n"           # 9 conflicting pm25 → both rejected
        "9999A,2022-01-01 01:00,,,,,-999,\n"                   # 10 unknown station; blanks NaN; sentinel
        "1490A,2022-01-01 03:30,1,2,3,4,0.5,6\n"                # 11 off the hour → row rejected
        "1490A,yesterday,1,2,3,4,0.5,6\n"                       # 12 bad time → row rejected
        ",2022-01-01 04:00,1,2,3,4,0.5,6\n"                     # 13 no station → row rejected
    )
    pv = preview_upload(csv.encode(), "x.csv", known_stations=KNOWN)
    assert values_of(pv, "1490A", "2022-01-01 01:00", "pm25") == 166
    assert np.isnan(values_of(pv, "1490A", "2022-01-01 02:00", "pm25"))
    assert values_of(pv, "1490A", "2022-01-01 02:00", "pm10") == 265  # the rest of the row is kept
    assert np.isnan(values_of(pv, "2692A", "2022-01-01 01:00", "pm25"))
    assert values_of(pv, "2692A", "2022-01-01 02:00", "co") == 2700  # kept, flagged
    assert np.isnan(values_of(pv, "2692A", "2022-01-01 02:00", "o3"))
    assert np.isnan(values_of(pv, "3440A", "2022-01-01 02:00", "pm25"))
    assert values_of(pv, "3440A", "2022-01-01 02:00", "pm10") == 205
    assert values_of(pv, "3440A", "2022-01-01 01:00", "pm25") == 213
    missing = pv.frame.set_index(["station", "time"]).loc[("9999A", T("2022-01-01 01:00"))]
    assert missing[["pm25", "pm10", "so2", "no2", "co", "o3"]].isna().all()  # never 0
    assert pv.counts == {"rows_read": 12, "rows_rejected": 5, "records": 7, "records_ok": 1, "records_flagged": 6,
                         "cells_rejected": 5, "cells_flagged": 2, "ok": 1, "flagged": 6, "rejected": 10}
    assert pv.has_records and not pv.ok  # errors present: not safe to store unattended
    errors = {(i.row, i.column): i.message for i in pv.errors}
    assert "negative value -5 rejected" in errors[(3, "pm25")]
    assert "formula-looking text rejected" in errors[(4, "pm25")]
    assert "not a number" in errors[(5, "o3")]
    assert "different pm25 values; all copies rejected" in errors[(8, "pm25")]
    assert "not on the hour" in errors[(11, "time")]
    assert "time not understood" in errors[(12, "time")]
    assert "no station code" in errors[(13, "time")]
    warn = messages(pv, "warning")
    assert "co = 2700 mg/m³ is implausibly high" in warn and "units={'co': 'µg/m³'}" in warn
    assert "PM2.5 213 > PM10 199: kept, flagged" in warn
    assert "unknown station code '9999A'" in warn
    assert "duplicate of an earlier row for station 3440A" in warn
    assert "sentinel" in messages(pv, "info")
    assert Issue("error", 3, "pm25", "negative value -5 rejected") in pv.issues


def test_user_units_convert_co_and_conflicts_are_refused():
    csv = "station,time,pm25,co\n1490A,2022-01-01 01:00,166,2800\n"
    pv = preview_upload(csv.encode(), "x.csv", units={"co": "µg/m³"})
    assert values_of(pv, "1490A", "2022-01-01 01:00", "co") == pytest.approx(2.8)
    assert pv.units["co"] == "µg/m³" and pv.flags == []
    pv = preview_upload(csv.encode(), "x.csv", units="ug/m3")  # one unit for everything
    assert values_of(pv, "1490A", "2022-01-01 01:00", "co") == pytest.approx(2.8)
    with pytest.raises(InputError, match="states mg/m³ but units= says µg/m³"):
        preview_upload(b"station,time,CO(mg/m3)\n1490A,2022-01-01 01:00,2.8\n", "x.csv", units={"co": "µg/m³"})
    with pytest.raises(InputError, match="reference state"):
        preview_upload(b"station,time,NO2(ppb)\n1490A,2022-01-01 01:00,40\n", "x.csv")
    with pytest.raises(InputError, match="units"):
        preview_upload(csv.encode(), "x.csv", units={"co": "furlongs"})


def test_mg_for_pm_is_converted_to_ug():
    pv = preview_upload("station,time,PM2.5(mg/m³)\n1490A,2022-01-01 01:00,0.166\n".encode(), "x.csv")
    assert values_of(pv, "1490A", "2022-01-01 01:00", "pm25") == pytest.approx(166)


def test_time_conventions_and_formats():
    csv = "station,time,pm25\n1490A,2022-01-01 00:00,1\n1490A,2022-01-01 24:00,2\n1490A,2022年1月1日 5时,3\n"
    pv = preview_upload(csv.encode(), "x.csv")
    assert pv.frame["time"].tolist() == [T("2022-01-01 00:00"), T("2022-01-01 05:00"), T("2022-01-02 00:00")]
    pv = preview_upload(csv.encode(), "x.csv", time_convention="hour-beginning")
    assert pv.frame["time"].tolist() == [T("2022-01-01 01:00"), T("2022-01-01 06:00"), T("2022-01-02 01:00")]
    assert pv.time_convention == "hour-beginning"
    # stated by the file
    pv = preview_upload("站点,开始时间,PM2.5\n1490A,2022-01-01 00:00,1\n".encode(), "x.csv")
    assert pv.time_convention == "hour-beginning" and pv.frame["time"].tolist() == [T("2022-01-01 01:00")]
    with pytest.raises(InputError, match="says hour-beginning"):
        preview_upload("站点,开始时间,PM2.5\n1490A,2022-01-01 00:00,1\n".encode(), "x.csv", time_convention="hour-ending")


def test_time_zones_and_offsets():
    pv = preview_upload(b"station,time,pm25\n1490A,2022-01-01 00:00,1\n", "x.csv", tz="UTC")
    assert pv.frame["time"].tolist() == [T("2022-01-01 08:00")]
    pv = preview_upload("station,time,pm25\n1490A,2022-01-01T00:00:00Z\n".replace("Z\n", "Z,1\n").encode(), "x.csv")
    assert pv.frame["time"].tolist() == [T("2022-01-01 08:00")]
    assert "UTC offsets" in messages(pv, "info")
    pv = preview_upload(b"station,date,hour,pm25\n1490A,2022-01-01,24,9\n", "x.csv")
    assert pv.frame["time"].tolist() == [T("2022-01-02 00:00")]


def test_wide_by_station():
    csv = "time,1490A,2709A(艾青诗歌馆)\n2022-01-01 01:00,166,212\n2022-01-01 02:00,164,\n"
    pv = preview_upload(csv.encode(), "PM2.5_2022-01.csv")
    assert pv.layout == "wide"
    assert values_of(pv, "2709A", "2022-01-01 01:00", "pm25") == 212
    assert np.isnan(values_of(pv, "2709A", "2022-01-01 02:00", "pm25"))
    pv = preview_upload(csv.encode(), "hourly.csv", pollutant="臭氧")
    assert values_of(pv, "1490A", "2022-01-01 02:00", "o3") == 164 and pv.frame["pm25"].isna().all()
    with pytest.raises(InputError, match="which pollutant"):
        preview_upload(csv.encode(), "hourly.csv")


# --------------------------------------------------------------------------- delegated layouts


def test_cnemc_archive_layout_is_delegated():
    data = (RECORDED / "cnemc" / "2022-01-01T00.csv").read_bytes()
    pv = preview_upload(data, "2022-01-01T00.csv", known_stations=KNOWN)
    assert pv.layout == "cnemc-archive" and len(pv.frame) == 6
    assert values_of(pv, "1490A", "2022-01-01 00:00", "o3") == 4
    assert "published_aqi" in pv.frame.columns and "station_name" in pv.frame.columns
    assert (pv.frame["source"] == "upload").all()
    assert "PM2.5 213 > PM10 199" in messages(pv, "warning")  # 3440A
    assert "unknown station code '1496A'" in messages(pv, "warning")
    with pytest.raises(InputError, match="hour-ending by definition"):
        preview_upload(data, "a.csv", time_convention="hour-beginning")
    gbk = data.decode("utf-8").encode("gbk")
    pv = preview_upload(gbk, "a.csv")
    assert pv.encoding == "gbk" and len(pv.frame) == 6


def test_cnemc_archive_malformed_names_line():
    data = (RECORDED / "cnemc" / "2022-01-01T00.csv").read_bytes().replace(b",174,", b",1x4,", 1)
    with pytest.raises(InputError) as err:
        preview_upload(data, "a.csv")
    assert err.value.line == 2 and err.value.column == "pm2_5"


def test_quotsoft_layout_is_delegated():
    data = (RECORDED / "quotsoft" / "china_sites_20220101.csv").read_bytes()
    pv = preview_upload(data, "china_sites_20220101.csv")
    assert pv.layout == "quotsoft" and len(pv.frame) == 16
    assert values_of(pv, "1490A", "2022-01-01 00:00", "pm25") == 174


# --------------------------------------------------------------------------- per-station workbook


def _workbook(**kw):
    day = [dt.datetime(2022, 1, 1), *range(100, 124), "=AVERAGE(B3:Y3)"]
    return xlsx({
        "PM2.5": [["1490A 监测站 小时浓度"], hours_header(labels=[f"{h:02d}" for h in range(24)]) + ["日均值"], day,
                  ["2022-01-02", *[None] * 3, *range(103, 124)], [None] * 25],
        "一氧化碳": [hours_header(labels=[f"{h}时" for h in range(24)]), ["2022/1/1", *[1.5] * 23, "=1+1"]],
        "CO_8h说明": [["notes"]],
        **kw,
    })


def test_station_workbook_default_hour_beginning():
    pv = preview_upload(_workbook(), "report_2022.xlsx", known_stations=KNOWN)
    assert (pv.layout, pv.station, pv.time_convention, pv.encoding) == ("station-workbook", "1490A", "hour-beginning", None)
    f = pv.frame
    assert len(f) == 48 and (f["station"] == "1490A").all()
    # column 00 of 2022-01-01 = 00:00–01:00 → stamp 01:00; column 23 → 2022-01-02 00:00
    assert values_of(pv, "1490A", "2022-01-01 01:00", "pm25") == 100
    assert values_of(pv, "1490A", "2022-01-02 00:00", "pm25") == 123
    assert np.isnan(values_of(pv, "1490A", "2022-01-02 01:00", "pm25"))  # blank cell stays NaN
    assert values_of(pv, "1490A", "2022-01-02 04:00", "pm25") == 103
    assert values_of(pv, "1490A", "2022-01-01 01:00", "co") == 1.5
    assert np.isnan(values_of(pv, "1490A", "2022-01-02 00:00", "co"))
    err = pv.errors
    assert len(err) == 1 and err[0].row == 2 and err[0].column == "一氧化碳!23时"
    assert "formula-looking text rejected" in err[0].message
    info = messages(pv, "info")
    assert "station 1490A taken from the file" in info and "ignored: 日均值" in info and "'CO_8h说明' ignored" in info
    assert pv.counts["cells_rejected"] == 1 and pv.counts["records_flagged"] == 1


def test_station_workbook_hour_ending_and_station_argument():
    pv = preview_upload(_workbook(), "1490A.xlsx", time_convention="hour-ending", station="2709A")
    assert pv.station == "2709A" and pv.time_convention == "hour-ending"
    assert values_of(pv, "2709A", "2022-01-01 00:00", "pm25") == 100
    assert values_of(pv, "2709A", "2022-01-01 23:00", "pm25") == 123


def test_station_workbook_01_to_24_is_hour_ending():
    data = xlsx({"PM10": [hours_header(labels=[f"{h:02d}" for h in range(1, 25)]), ["2022-01-01", *range(24)]]})
    pv = preview_upload(data, "2709A_pm10.xlsx")
    assert pv.time_convention == "hour-ending"
    assert values_of(pv, "2709A", "2022-01-01 01:00", "pm10") == 0
    assert values_of(pv, "2709A", "2022-01-02 00:00", "pm10") == 23
    with pytest.raises(InputError, match="01…24 are hour-ending"):
        preview_upload(data, "2709A_pm10.xlsx", time_convention="hour-beginning")


def test_station_workbook_units_in_sheet_name_and_missing_station():
    data = xlsx({"CO（微克每立方米）": [hours_header(), ["2022-01-01", *[1500] * 24]]})  # "/" is not allowed in sheet names
    pv = preview_upload(data, "2692A.xlsx")
    assert values_of(pv, "2692A", "2022-01-01 01:00", "co") == pytest.approx(1.5) and pv.units == {"co": "µg/m³"}
    with pytest.raises(InputError, match="pass station="):
        preview_upload(data, "workbook.xlsx")


def test_station_workbook_csv_variant_and_duplicate_days():
    csv = ",".join(hours_header()) + "\n" + "2022-01-01," + ",".join(["10"] * 24) + "\n" + "2022-01-01," + ",".join(["11"] * 24) + "\n"
    pv = preview_upload(csv.encode(), "1490A_SO2.csv")
    assert pv.layout == "station-workbook" and pv.frame["so2"].isna().all()  # conflicting copies rejected
    assert pv.counts["rows_rejected"] == 1 and pv.counts["cells_rejected"] == 48


# --------------------------------------------------------------------------- limits and formats


def test_size_and_row_limits(monkeypatch):
    with pytest.raises(InputError, match="limit is 0.0 MB"):
        preview_upload(b"station,time,pm25\n" * 10, "x.csv", max_bytes=100)
    csv = "station,time,pm25\n" + "1490A,2022-01-01 01:00,1\n" * 11
    with pytest.raises(InputError, match="row limit 10"):
        preview_upload(csv.encode(), "x.csv", max_rows=10)
    monkeypatch.setenv("REGIONAIR_UPLOAD_MAX_ROWS", "5")
    with pytest.raises(InputError, match="row limit 5"):
        preview_upload(csv.encode(), "x.csv")


def test_xlsx_zip_bomb_is_refused_before_openpyxl(monkeypatch):
    base = _workbook()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/media/padding.bin", b"\0" * 20_000_000)
    import regionair.sources.upload as up

    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: pytest.fail("openpyxl must not open a zip bomb"))
    with pytest.raises(InputError, match="zip-bomb"):
        preview_upload(buf.getvalue(), "1490A.xlsx")
    with pytest.raises(InputError, match="expands to"):
        check_xlsx_container(base, "x.xlsx", max_uncompressed=1000)
    assert up.XLSX_MAX_UNCOMPRESSED == 200 * 1024 * 1024 and up.XLSX_MAX_RATIO == 100


@pytest.mark.parametrize(
    "data, name, match",
    [
        (b"a,b\n", "data.txt", "only .csv and .xlsx"),
        (b"a,b\n", "data.xls", "only .csv and .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xlsx", "old .xls or a password-protected"),
        (b"not a zip at all", "x.xlsx", "not a valid .xlsx"),
        (b"PK\x03\x04" + b"\0" * 100, "x.csv", "zip/xlsx file"),
        (b"", "x.csv", "empty file"),
        (b"foo,bar\n1,2\n", "x.csv", "layout not recognised"),
    ],
    ids=["txt", "xls-ext", "ole", "not-zip", "csv-is-zip", "empty", "unknown-layout"],
)
def test_refused_files(data, name, match):
    with pytest.raises(InputError, match=match):
        preview_upload(data, name)


def test_macro_workbook_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_workbook())) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"macro")
    with pytest.raises(InputError, match="macro-enabled"):
        preview_upload(buf.getvalue(), "1490A.xlsx")


@pytest.mark.parametrize("kwargs, match", [({"layout": "json"}, "layout"), ({"time_convention": "midpoint"}, "time_convention"),
                                           ({"tz": "Mars/Olympus"}, "time zone"), ({"pollutant": "pm1"}, "pollutant")])
def test_bad_options(kwargs, match):
    with pytest.raises(InputError, match=match):
        preview_upload(b"station,time,pm25\n", "x.csv", **kwargs)


def test_issue_list_is_capped_but_counts_are_complete():
    csv = "station,time,pm25\n" + "".join(f"1490A,2022-01-01 {h:02d}:00,-1\n" for h in range(20))
    pv = preview_upload(csv.encode(), "x.csv", max_issues=5)
    assert len(pv.issues) == 6 and pv.issues[-1].message.endswith("further issue(s) not listed")
    assert pv.counts["cells_rejected"] == 20


def test_preview_helpers():
    pv = preview_upload((UP / "region_long_gbk.csv").read_bytes(), "region_long_gbk.csv")
    assert list(pv.issues_frame().columns) == ["severity", "row", "column", "message"]
    assert pv.summary().startswith("region_long_gbk.csv: layout long, 6 station-hour(s) (6 ok, 0 flagged)")


def test_explicit_layout_long_on_workbook_with_notes_sheet():
    data = xlsx({"说明": [["本表为小时数据"]], "数据": [["站点", "时间", "PM10"], ["1490A", dt.datetime(2022, 1, 1, 5), 80]]})
    pv = preview_upload(data, "upload.xlsx")
    assert pv.layout == "long" and values_of(pv, "1490A", "2022-01-01 05:00", "pm10") == 80
    assert "'说明' ignored" in messages(pv, "info")


def test_row_numbers_survive_blank_lines_and_utf16():
    csv = "station,time,pm25\n\n1490A,2022-01-01 01:00,-3\n"
    pv = preview_upload(csv.encode("utf-16"), "x.csv")
    assert pv.encoding == "utf-16" and pv.counts["rows_read"] == 1
    assert pv.errors[0].row == 3


def test_rows_with_extra_fields_are_refused():
    with pytest.raises(InputError, match="more fields than the header"):
        preview_upload(b"station,time,pm25\n1490A,2022-01-01 01:00,1,2\n", "x.csv")


def test_cnemc_archive_rows_in_a_workbook():
    rows = [line.split(",") for line in (RECORDED / "cnemc" / "2026-05-01T12.csv").read_text(encoding="utf-8").splitlines()]
    typed = [rows[0]] + [[c if i < 7 else (float(c) if c not in ("", "/") else c) for i, c in enumerate(r)] for r in rows[1:]]
    pv = preview_upload(xlsx({"Sheet1": typed}), "archive.xlsx")
    assert pv.layout == "cnemc-archive" and len(pv.frame) == 4
    assert values_of(pv, "4167A", "2026-05-01 12:00", "o3") == 109
    assert np.isnan(values_of(pv, "1957A", "2026-05-01 12:00", "so2"))  # '/' = not monitored, never 0
    assert values_of(pv, "1957A", "2026-05-01 12:00", "not_monitored") == "co;so2"
    assert values_of(pv, "3613A", "2026-05-01 12:00", "longitude") == 87.3069
    with pytest.raises(InputError, match="Beijing time by definition"):
        preview_upload(xlsx({"Sheet1": typed}), "archive.xlsx", tz="UTC")


def test_header_only_file_is_not_ok_and_says_why():
    pv = preview_upload(b"station,time,pm25\n", "x.csv")
    assert not pv.ok and not pv.has_records
    assert pv.errors[0].message.startswith("no valid station-hour")
