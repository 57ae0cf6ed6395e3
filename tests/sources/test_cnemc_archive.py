"""CNEMC hourly archive reader: every format variant in sources.md §1a, and malformed files."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

from regionair.core.nomenclature import TZ
from regionair.errors import InputError
from regionair.sources.cnemc_archive import HEADER, parse_archive, parse_primary, read_archive
from tests.conftest import CNEMC_2022_01_01, CNEMC_2026_03_10

HEAD = ",".join(HEADER)


def test_2022_layout(cnemc_2022_01_01_region):
    f = cnemc_2022_01_01_region
    assert len(f) == 464 and f["station"].nunique() == 19
    assert str(f["time"].dt.tz) == "Asia/Shanghai"
    r = f[(f.station == "1490A") & (f.time == pd.Timestamp("2022-01-01 00:00", tz=TZ))].iloc[0]
    # 2022-01-01T00:00:00,1490A,…,224,258,206,174,125,14,4,8,6,90,88,7,8,3.1,2.3
    assert (r.pm10, r.pm25, r.no2, r.so2, r.co) == (258, 174, 90, 7, 3.1)
    assert r.o3 == 4 and r.published_o3_1h_max == 14  # swapped: o3_24h holds the current 1-h O3
    assert r.published_o3_8h == 6 and r.published_aqi == 224 and r.published_primary == "pm25"
    assert r.published_pm25_24h == 125 and r.area == "乌鲁木齐市"
    # 1496A at T00: hourly fields empty → NaN, never 0
    m = f[(f.station == "1496A") & (f.time == pd.Timestamp("2022-01-01 00:00", tz=TZ))].iloc[0]
    assert np.isnan(m.pm25) and np.isnan(m.published_aqi) and m.published_pm10_24h == 295
    # running maximum is never below the current value
    both = f["published_o3_1h_max"].notna() & f["o3"].notna()
    assert (f.loc[both, "published_o3_1h_max"] >= f.loc[both, "o3"]).all()
    # area label renamed
    assert "昌吉州" not in set(f["area"]) and "昌吉回族自治州" in set(f["area"])


def test_2026_layout_na_and_not_monitored(cnemc_2026_03_10_region):
    f = cnemc_2026_03_10_region
    assert len(f) == 500 and f["station"].nunique() == 20
    r = f[(f.station == "1490A") & (f.time == pd.Timestamp("2026-03-10 00:00", tz=TZ))].iloc[0]
    assert r.o3 == 80 and np.isnan(r.published_o3_1h_max)  # direct layout
    assert f["time"].min() == pd.Timestamp("2026-03-10 00:00", tz=TZ)
    multi = f[(f.station == "2709A") & (f.time == pd.Timestamp("2026-03-10 10:00", tz=TZ))].iloc[0]
    assert multi.published_primary == "pm10;pm25"


def test_not_monitored_slash_is_not_missing():
    data = (HEAD + "\n2026-05-01T1200,1957A,86.1971,41.7166,巴音郭楞蒙古自治州,棉纺厂,颗粒物(PM10),98,117,332,14,72,96,96,90,84,5,11,/,/,/,/\n").encode()
    f = parse_archive(data, "x.csv")
    r = f.iloc[0]
    assert np.isnan(r.so2) and np.isnan(r.co) and r.not_monitored == "co;so2"
    assert r.pm10 == 117 and r.o3 == 96


def test_duplicates_keep_last():
    row = "2026-05-01T1200,3613A,87.3069,44.0093,昌吉回族自治州,亚心广场,,36,36,31,9,9,114,114,60,60,5,18,8,5,0.3,0.4"
    row2 = row.replace(",36,36,31,9,", ",36,40,31,9,")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = parse_archive(f"{HEAD}\n{row}\n{row2}\n".encode(), "dup.csv")
    assert len(f) == 1 and f.pm10.iloc[0] == 40
    assert any("duplicate" in str(x.message) for x in w)


def test_timepoint_variants_and_bom():
    rows = [
        "2022-01-01T00:00:00,A1,1,1,X,n,,10,1,,1,,1,1,,,1,,1,,0.1,",
        "2026-03-10T1000,A2,1,1,X,n,,10,1,,1,,1,1,,,1,,1,,0.1,",
        "2013-10-21T14:00:00Z,A3,1,1,X,n,,10,1,,1,,1,1,,,1,,1,,0.1,",
    ]
    f = parse_archive(("\ufeff" + HEAD + "\n" + "\n".join(rows)).encode(), "t.csv")
    assert [str(t) for t in f.sort_values("station").time] == [
        "2022-01-01 00:00:00+08:00", "2026-03-10 10:00:00+08:00", "2013-10-21 14:00:00+08:00"]


@pytest.mark.parametrize(
    "label, codes",
    [("细颗粒物(PM2.5)", "pm25"), ("颗粒物(PM2.5)", "pm25"), ("颗粒物(PM10),细颗粒物(PM2.5)", "pm10;pm25"),
     ("臭氧1小时", "o3"), ("臭氧1小时(O3_1h)", "o3"), ("臭氧8小时", "o3_8h"), ("二氧化硫", "so2"),
     ("二氧化氮", "no2"), ("一氧化碳", "co"), ("NA", ""), ("", ""), ("新污染物", "?新污染物")],
)
def test_primary_labels(label, codes):
    assert parse_primary(label) == codes


def test_read_folder_filelike_and_list(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_bytes(CNEMC_2026_03_10.read_bytes())
    assert len(read_archive(tmp_path)) == 500
    assert len(read_archive(io.BytesIO(CNEMC_2022_01_01.read_bytes()))) == 464
    both = read_archive([CNEMC_2022_01_01, CNEMC_2026_03_10])
    assert len(both) == 964 and both["time"].is_monotonic_increasing


# ---------------------------------------------------------------- malformed files
def _lines():
    return CNEMC_2022_01_01.read_text(encoding="utf-8").splitlines()


def test_truncated_file_names_line():
    lines = _lines()[:6]
    lines[-1] = lines[-1][:40]
    with pytest.raises(InputError) as e:
        parse_archive("\n".join(lines).encode(), "trunc.csv")
    assert e.value.line == 6 and "truncated" in str(e.value) and "trunc.csv" in str(e.value)


def test_wrong_header():
    with pytest.raises(InputError, match=r"line 1: header lacks pm10_24h, pm2_5"):
        parse_archive(b"timepoint,stationcode,longitude,latitude,area,positionname,primarypollutant,aqi,pm10\n", "h.csv")
    with pytest.raises(InputError, match="empty file"):
        parse_archive(b"", "e.csv")


def test_text_in_numeric_field_names_line_and_column():
    lines = _lines()[:5]
    parts = lines[3].split(",")
    parts[10] = "abc"  # pm2_5
    lines[3] = ",".join(parts)
    with pytest.raises(InputError) as e:
        parse_archive("\n".join(lines).encode(), "bad.csv")
    assert e.value.line == 4 and e.value.column == "pm2_5" and "'abc' is not a number" in str(e.value)


def test_gbk_bytes_rejected_with_hint():
    data = "\n".join(_lines()[:3]).encode("gbk")
    with pytest.raises(InputError, match="GBK/GB18030"):
        parse_archive(data, "gbk.csv")


def test_bad_timepoint_and_extra_field():
    lines = _lines()[:3]
    lines[2] = "yesterday" + lines[2][19:]
    with pytest.raises(InputError, match="timepoint 'yesterday"):
        parse_archive("\n".join(lines).encode(), "t.csv")
    lines = _lines()[:3]
    lines[2] = lines[2] + ",1,2"
    with pytest.raises(InputError, match="malformed CSV row"):
        parse_archive("\n".join(lines).encode(), "x.csv")


def test_negative_values_become_missing_with_warning():
    row = "2026-05-01T1200,3613A,87.3,44.0,X,n,,36,-9999,31,9,9,114,114,60,60,5,18,8,5,0.3,0.4"
    with pytest.warns(UserWarning, match="negative"):
        f = parse_archive(f"{HEAD}\n{row}\n".encode(), "n.csv")
    assert np.isnan(f.pm10.iloc[0]) and f.pm25.iloc[0] == 9


# ---- reading only some stations (the regional ingest filters while reading)
def _real_rows() -> bytes:
    return CNEMC_2022_01_01.read_bytes()


def _codes(data: bytes) -> list[str]:
    return sorted({line.split(b",")[1].decode() for line in data.splitlines()[1:] if line.strip()})


def test_reading_some_stations_equals_reading_all_then_filtering(tmp_path):
    from bench import synthetic

    real = _real_rows()
    keep = _codes(real)[::3]  # 1490A, 1493A, … : a subset of the real stations, quoted primary labels included
    full = parse_archive(real, "real.csv")
    want = full[full["station"].isin(keep)].reset_index(drop=True)
    got = parse_archive(real, "real.csv", stations=keep)
    assert set(got["station"]) == set(keep) and len(got) == len(want) > 100
    pd.testing.assert_frame_equal(got, want)
    # a national-size hour (1,900 stations): the region's stations among SYNTHETIC others
    synthetic.write_archive(tmp_path, 1900, "2025-01-01 01:00", "2025-01-01 01:00")
    data = next(tmp_path.rglob("*.csv")).read_bytes()
    region_codes = ["1490A", "1496A", "4168A", "9999Z"]  # 9999Z is in no file: simply absent
    full = parse_archive(data, "n.csv")
    want = full[full["station"].isin(region_codes)].reset_index(drop=True)
    assert len(want) == 3
    pd.testing.assert_frame_equal(parse_archive(data, "n.csv", stations=region_codes), want)
    # duplicated rows of a kept station: the last one still wins
    lines = real.decode().splitlines()
    dup = "\n".join([*lines, lines[1].replace(",216,", ",217,", 1)]).encode()
    with pytest.warns(UserWarning, match="1 duplicate station row"):
        got = parse_archive(dup, "d.csv", stations=[lines[1].split(",")[1]])
    with pytest.warns(UserWarning, match="1 duplicate station row"):
        full = parse_archive(dup, "d.csv")
    pd.testing.assert_frame_equal(got, full[full["station"] == lines[1].split(",")[1]].reset_index(drop=True))


def test_reading_some_stations_still_detects_a_truncated_file_with_its_real_line():
    lines = _real_rows().decode().splitlines()
    lines[-1] = lines[-1][:40]  # cut inside the last row, a station we do not read
    data = "\n".join(lines).encode()
    keep = [lines[1].split(",")[1]]
    assert lines[-1].split(",")[1] not in keep
    with pytest.raises(InputError) as e:
        parse_archive(data, "trunc.csv", stations=keep)
    assert e.value.line == len(lines) and "truncated" in str(e.value)


def test_reading_some_stations_reports_bad_values_in_their_rows_at_the_real_line():
    lines = _real_rows().decode().splitlines()
    code = lines[40].split(",")[1]
    parts = lines[40].split(",")
    parts[10] = "abc"  # pm2_5 of a station we read
    lines[40] = ",".join(parts)
    with pytest.raises(InputError) as e:
        parse_archive("\n".join(lines).encode(), "bad.csv", stations=[code])
    assert e.value.line == 41 and e.value.column == "pm2_5"
    # a bad value in a row of a station not read does not stop the others (it is never parsed)
    other = next(c for c in _codes(_real_rows()) if c != code)
    got = parse_archive("\n".join(lines).encode(), "bad.csv", stations=[other])
    assert set(got["station"]) == {other} and len(got) > 0


def test_a_carriage_return_inside_a_row_is_named_not_split():
    """pandas ends a row at a lone \\r and pads both halves; found by the fuzz tests (it raised KeyError)."""
    lines = _lines()[:4]
    data = "\n".join(lines).encode()
    i = data.index(b",so2_24h")
    with pytest.raises(InputError) as e:
        parse_archive(data[:i] + b"\r" + data[i:], "cr.csv")
    assert e.value.line == 1 and "carriage return" in str(e.value)
    j = data.index(b"\n", data.index(b"\n") + 1) + 30  # inside the second data row
    with pytest.raises(InputError) as e:
        parse_archive(data[:j] + b"\r" + data[j:], "cr.csv")
    assert e.value.line == 3
    assert len(parse_archive(data.replace(b"\n", b"\r\n"), "crlf.csv")) == 3  # CRLF files are fine


def test_header_is_read_as_checked():
    """A blank before the BOM used to pass the header check but hide ``timepoint`` from the reader."""
    data = "\n".join(_lines()[:3]).encode()
    got = parse_archive(b" \xef\xbb\xbf" + data, "bom.csv")
    pd.testing.assert_frame_equal(got, parse_archive(data, "bom.csv"))
    # and an empty result has the same columns as a full one
    assert list(parse_archive(data[: data.index(b"\n") + 1], "h.csv").columns) == list(got.columns)
