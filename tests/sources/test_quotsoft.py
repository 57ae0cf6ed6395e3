"""quotsoft daily files: URL, wide→long, exact types, hour-0 attribution, O3 layout check, station lists."""

from __future__ import annotations

import io
import warnings
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from regionair.core.nomenclature import TZ
from regionair.errors import InputError, SourceError
from regionair.sources.quotsoft import (
    QuotsoftWarning,
    daily_url,
    get_quotsoft,
    parse_sites_day,
    parse_station_list,
    read_quotsoft,
)
from tests.httpfake import RECORDED, FakeServer, fast_client, ok

REC = RECORDED / "quotsoft"
DAY = (REC / "china_sites_20220101.csv").read_bytes()
STATION_LIST = (REC / "站点列表-2022.02.13起.csv").read_bytes()
HEADER = "date,hour,type,1490A,2709A\n"


def _day(rows: str, header: str = HEADER) -> bytes:
    return (header + rows).encode("utf-8")


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


# --------------------------------------------------------------------------- URLs


def test_daily_url(monkeypatch):
    monkeypatch.delenv("REGIONAIR_QUOTSOFT_BASE_URL", raising=False)
    assert daily_url("2022-01-01") == "https://quotsoft.net/air/data/china_sites_20220101.csv"
    assert daily_url("20220101", kind="cities") == "https://quotsoft.net/air/data/china_cities_20220101.csv"
    monkeypatch.setenv("REGIONAIR_QUOTSOFT_BASE_URL", "http://mirror/air/")
    assert daily_url(pd.Timestamp("2022-01-01 23:00", tz=TZ)) == "http://mirror/air/china_sites_20220101.csv"
    with pytest.raises(InputError, match="kind"):
        daily_url("2022-01-01", kind="beijing")


# --------------------------------------------------------------------------- parse


def test_parse_recorded_day():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = parse_sites_day(DAY, "china_sites_20220101.csv")
    assert len(f) == 16  # 6 stations at hour 0 (1496A: only 24-h means), 5 at hours 1–2; empty rows dropped
    assert str(f["time"].dtype) == "datetime64[ns, Asia/Shanghai]"
    r = f.set_index(["station", "time"])
    t0 = pd.Timestamp("2022-01-01 00:00", tz=TZ)
    row = r.loc[("1490A", t0)]
    # exact type matching: PM2.5 (174) is not confused with PM2.5_24h (125)
    assert (row["pm25"], row["published_pm25_24h"], row["pm10"], row["published_pm10_24h"]) == (174, 125, 258, 206)
    assert (row["so2"], row["no2"], row["co"], row["published_aqi"], row["published_co_24h"]) == (7, 90, 3.1, 224, 2.3)
    # 2022 feed: O3 is the running max (14), O3_24h the current value (4) → detected and swapped
    assert (row["o3"], row["published_o3_1h_max"], row["published_o3_8h"]) == (4, 14, 6)
    assert (f["source"] == "quotsoft").all()
    outage = r.loc[("1496A", t0)]
    assert np.isnan(outage["pm25"]) and outage["published_pm25_24h"] == 102  # missing is NaN, never 0


def test_hour_zero_is_the_stamp_ending_the_previous_natural_day():
    f = parse_sites_day(DAY, "china_sites_20220101.csv")
    h0 = f[f["time"] == f["time"].min()]
    assert (h0["time"] == pd.Timestamp("2022-01-01 00:00", tz=TZ)).all()
    # hour-ending: the 00:00 stamp covers 2021-12-31 23:00–24:00, i.e. natural day 2021-12-31
    assert ((h0["time"] - pd.Timedelta(hours=1)).dt.date == pd.Timestamp("2021-12-31").date()).all()


def test_matches_the_cnemc_archive_for_the_same_hours():
    from regionair.sources.cnemc_archive import read_archive

    arch = read_archive(RECORDED / "cnemc")
    arch = arch[arch["time"] <= pd.Timestamp("2022-01-01 01:00", tz=TZ)]
    q = parse_sites_day(DAY, "china_sites_20220101.csv")
    cols = ["pm25", "pm10", "so2", "no2", "co", "o3", "published_aqi", "published_o3_8h"]
    merged = arch.merge(q, on=["station", "time"], suffixes=("_a", "_q"))
    assert len(merged) == 11
    for c in cols:
        np.testing.assert_array_equal(merged[f"{c}_a"].to_numpy(), merged[f"{c}_q"].to_numpy(), err_msg=c)


def test_documented_o3_layout_kept():
    rows = "20240101,13,O3,80,70\n20240101,13,O3_24h,95,70\n20240101,13,O3_8h,60,50\n20240101,13,O3_8h_24h,66,58\n"
    f = parse_sites_day(_day(rows), "china_sites_20240101.csv").set_index("station")
    assert (f.loc["1490A", "o3"], f.loc["1490A", "published_o3_1h_max"], f.loc["1490A", "published_o3_8h"]) == (80, 95, 60)


def test_contradictory_o3_columns_warn_and_use_the_date():
    rows = "20240101,13,O3,80,70\n20240101,13,O3_24h,95,60\n"
    with pytest.warns(QuotsoftWarning, match="contradict"):
        f = parse_sites_day(_day(rows), "china_sites_20240101.csv")
    assert f.set_index("station")["o3"].to_dict() == {"1490A": 80, "2709A": 70}  # after 2023-11: O3 is current


def test_recoverable_row_defects_are_counted_warnings():
    rows = (
        "20220101,1,PM2.5,10,20\n"
        "20220101,25,PM2.5,11,21\n"  # bad hour
        "20220101,2,PM2.5,12,x\n"  # text
        "20220101,2,PM10,-5,30\n"  # negative
        "20220101,2,SO3,1,1\n"  # unknown type
        "20220101,1,PM2.5,13,23\n"  # duplicate (date, hour, type): last wins
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = parse_sites_day(_day(rows), "china_sites_20220101.csv")
    msgs = " | ".join(str(w.message) for w in caught)
    for part in ("1 row(s) with an invalid date or hour", "1 non-numeric cell", "1 negative value",
                 "unknown type", "1 duplicated (date, hour, type)"):
        assert part in msgs
    r = f.set_index(["station", "time"])
    assert r.loc[("1490A", pd.Timestamp("2022-01-01 01:00", tz=TZ)), "pm25"] == 13
    assert np.isnan(r.loc[("1490A", pd.Timestamp("2022-01-01 02:00", tz=TZ)), "pm10"])
    assert np.isnan(r.loc[("2709A", pd.Timestamp("2022-01-01 02:00", tz=TZ)), "pm25"])


@pytest.mark.parametrize(
    "data, match",
    [(b"", "empty"), (b"time,station\n1,2\n", "header lacks date, hour, type"), (b"date,hour,type\n20220101,0,AQI\n",
                                                                                   "no station columns"),
     (b"date,hour,type,1490A\nxx,0,AQI,1\n", "no valid data row")],
    ids=["empty", "header", "no-stations", "no-rows"],
)
def test_malformed_files_are_refused(data, match):
    with pytest.raises(InputError, match=match):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parse_sites_day(data, "f.csv")


def test_gb18030_day_file_and_station_filter():
    f = parse_sites_day(DAY.decode("utf-8").encode("gb18030"), "x.csv", stations=["2709A"])
    assert set(f["station"]) == {"2709A"}


# --------------------------------------------------------------------------- station list


def test_station_list_gb18030():
    s = parse_station_list(STATION_LIST, "站点列表-2022.02.13起.csv")
    assert list(s.columns) == ["code", "name", "city", "longitude", "latitude", "background"]
    r = s.set_index("code")
    assert r.loc["1492A", "name"] == "新疆农科院农场(对照点)" and bool(r.loc["1492A", "background"])
    assert not r.loc["1490A", "background"] and r.loc["1490A", "longitude"] == 87.5801
    assert np.isnan(r.loc["3440A", "longitude"]) and np.isnan(r.loc["3440A", "latitude"])  # '-' → NaN
    assert str(s["background"].dtype) == "boolean"


def test_station_list_utf8_sig_without_background_column():
    text = "监测点编码,监测点名称,城市,经度,纬度,\n1001A,万寿西宫,北京,116.3621,39.8784,\n1002A,定陵(对照点),北京,116.2202,40.2915,\n"
    s = parse_station_list(text.encode("utf-8-sig"), "list.csv")
    assert s["background"].tolist() == [False, True]


def test_station_list_xlsx_and_missing_columns():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["监测点编码", "监测点名称", "城市", "经度", "纬度", "对照点"])
    ws.append(["2709A", "艾青诗歌馆", "石河子", 86.0497, 44.2967, "N"])
    buf = io.BytesIO()
    wb.save(buf)
    s = parse_station_list(buf.getvalue(), "list.xlsx")
    assert s.iloc[0].to_dict() == {"code": "2709A", "name": "艾青诗歌馆", "city": "石河子", "longitude": 86.0497,
                                   "latitude": 44.2967, "background": False}
    with pytest.raises(InputError, match="经度, 纬度"):
        parse_station_list("监测点编码,监测点名称,城市\n1001A,x,y\n".encode(), "bad.csv")


# --------------------------------------------------------------------------- files and HTTP


def test_get_quotsoft_exact_urls_gap_and_cache(server, tmp_path):
    server.script("/air/data/china_sites_20220101.csv", ok(DAY))
    client = fast_client(cache_dir=tmp_path)
    with pytest.warns(QuotsoftWarning, match="1 day"):
        f = get_quotsoft("2022-01-01", "2022-01-02", client=client, base_url=server.url + "/air/data",
                         stations=["1490A", "2709A"], now="2022-02-01")
    assert [r.path for r in server.requests] == ["/air/data/china_sites_20220101.csv",
                                                 "/air/data/china_sites_20220102.csv"]
    assert f.attrs["gaps"] == [(pd.Timestamp("2022-01-02").date(), "not published (HTTP 404)")]
    assert sorted(set(f["station"])) == ["1490A", "2709A"] and len(f) == 6
    assert (tmp_path / "quotsoft/china_sites_20220101.csv").exists()
    get_quotsoft("2022-01-01", "2022-01-01", client=client, base_url=server.url + "/air/data", now="2022-02-01")
    assert server.count() == 2  # served from the cache


def test_get_quotsoft_bad_file_raises_source_error(server):
    server.script("/air/data/china_sites_20220101.csv", ok(b"not,a,quotsoft\nfile,at,all\n"))
    with pytest.raises(SourceError, match="does not parse"):
        get_quotsoft("2022-01-01", "2022-01-01", client=fast_client(), base_url=server.url + "/air/data")
    with pytest.warns(QuotsoftWarning):
        f = get_quotsoft("2022-01-01", "2022-01-01", client=fast_client(), base_url=server.url + "/air/data",
                         on_error="gap")
    assert f.empty and len(f.attrs["gaps"]) == 1


def test_read_quotsoft_folder_and_zip(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "china_sites_20220101.csv").write_bytes(DAY)
    (tmp_path / "d" / "notes.csv").write_text("ignored")
    assert len(read_quotsoft(tmp_path / "d")) == 16
    z = tmp_path / "站点_20220101-20220101.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("站点_20220101-20220101/china_sites_20220101.csv", DAY)
    assert len(read_quotsoft(z, stations=["1490A"])) == 3
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no china_sites"):
        read_quotsoft(tmp_path / "empty")
