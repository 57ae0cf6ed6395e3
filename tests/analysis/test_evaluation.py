"""Area values by HJ 663 (regionair.analysis.evaluation): hand-computed cases and the real sample days.

Hand-computed cases use the real station catalogue (data/stations.csv): 石河子 has the evaluation stations
2709A, 2710A, 3442A, 4051A, 4167A; 乌鲁木齐 the background station 1492A (新疆农科院农场(对照点)).
"""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from regionair.analysis import evaluation as ev
from regionair.core.nomenclature import POLLUTANTS, TZ
from tests.conftest import CNEMC_2022_01_01, CNEMC_2022_01_02_03

DAY = dt.date(2022, 1, 5)  # an edition-2012 day that no sample file covers


def station_day(code: str, day: dt.date = DAY, hours=range(1, 25), **values) -> pd.DataFrame:
    """Hourly rows of one station for the natural day ``day`` (stamps D 01:00 … D+1 00:00).

    ``values``: pollutant → scalar or a function of the hour 1–24; pollutants not given are 10 (CO 1.0).
    """
    stamps = [pd.Timestamp(day, tz=TZ) + pd.Timedelta(hours=h) for h in hours]
    rows = {"station": code, "time": stamps}
    for p in POLLUTANTS:
        v = values.get(p, 1.0 if p == "co" else 10.0)
        rows[p] = [v(h) if callable(v) else v for h in hours]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------ hand-computed
def test_station_with_fewer_than_20_hours_is_left_out_and_the_hourly_area_method_differs():
    # 2709A: PM2.5 100 all day; 3442A: 50 all day; 4051A: 300 but only 19 hours (01:00–19:00)
    h = pd.concat([station_day("2709A", pm25=100), station_day("3442A", pm25=50),
                   station_day("4051A", hours=range(1, 20), pm25=300)], ignore_index=True)
    d = ev.jurisdiction_daily(h, jurisdictions=["shihezi"])
    row = d[(d["jurisdiction"] == "shihezi") & (d["date"] == DAY)].iloc[0]
    assert row["pm25"] == 75.0  # (100 + 50) / 2: 4051A's 19 hours do not count
    assert row["n_stations_pm25"] == 2
    assert row["iaqi_pm25"] == 100.0  # PM2.5 75 is the IAQI-100 breakpoint of HJ 633-2012
    assert row["aqi"] == 100.0 and row["category"] == "良"
    # the old dashboard method: 19 hours at (100+50+300)/3 = 150 and 5 hours at 75 → 134.375
    # → IAQI 150 + (134.375 − 115)·50/35 = 177.7 → 178
    old = ev.jurisdiction_daily(h, jurisdictions=["shihezi"], method="hourly-area")
    o = old[old["date"] == DAY].iloc[0]
    assert o["pm25"] == pytest.approx((19 * 150 + 5 * 75) / 24)
    assert o["aqi"] == 178.0 and o["category"] == "中度污染"
    x = ev.explain("shihezi", DAY, ev.station_daily(h))
    st = x.stations.set_index("station")
    # 19 hours: every 24-h mean and the O3 1-h max are out; its MDA8 still counts (8-h windows stamped
    # 08:00 … 21:00 hold ≥ 6 hours: 14 valid windows, HJ 663 §6.1.2)
    assert st.loc["4051A", "status"] == "partly" and st.loc["4051A", "n_pm25"] == 19
    assert st.loc["4051A", "reasons"] == ("pm25:lt_20_hours;pm10:lt_20_hours;so2:lt_20_hours;no2:lt_20_hours;"
                                          "co:lt_20_hours;o3:lt_20_hours")
    assert st.loc["4051A", "n_o3_8h"] == 14
    assert st.loc["2709A", "status"] == "counted" and st.loc["2709A", "pm25"] == 100.0
    assert st.loc["2710A", "reasons"] == "no_data"  # in the catalogue, active in 2022, no rows that day
    assert x.result["aqi"] == 100.0
    city = x.city.set_index("indicator")
    assert city.loc["pm25", "value"] == 75.0 and city.loc["pm25", "n_stations"] == 2
    assert city.loc["pm25", "primary"]  # AQI 100 > 50, PM2.5 has the highest IAQI


def test_one_indicator_with_fewer_stations_than_another():
    # 3442A measures no SO2 at all; its other indicators count
    h = pd.concat([station_day("2709A", pm25=40, so2=30), station_day("3442A", pm25=60, so2=np.nan)],
                  ignore_index=True)
    row = ev.jurisdiction_daily(h, jurisdictions=["shihezi"]).query("date == @DAY").iloc[0]
    assert row["pm25"] == 50.0 and row["n_stations_pm25"] == 2
    assert row["so2"] == 30.0 and row["n_stations_so2"] == 1
    assert row["n_stations"] == 2
    assert row["complete"]
    x = ev.explain("shihezi", DAY, ev.station_daily(h))
    st = x.stations.set_index("station")
    assert st.loc["3442A", "status"] == "partly" and st.loc["3442A", "reasons"] == "so2:lt_20_hours"


def test_background_station_is_left_out_of_the_city_mean():
    h = pd.concat([station_day("1490A", pm25=40), station_day("1492A", pm25=400)], ignore_index=True)
    row = ev.jurisdiction_daily(h, jurisdictions=["urumqi"]).query("date == @DAY").iloc[0]
    assert row["pm25"] == 40.0 and row["n_stations_pm25"] == 1
    x = ev.explain("urumqi", DAY, ev.station_daily(h))
    st = x.stations.set_index("station")
    assert st.loc["1492A", "reasons"] == "background" and st.loc["1492A", "status"] == "left_out"
    assert st.loc["1492A", "pm25"] == 400.0  # its own value is shown, not counted


def test_mda8_and_o3_max_are_taken_per_station_first():
    # 2709A: O3 200 in the hours 09–16, 3442A: 200 in the hours 17–24, 0 otherwise.
    a = station_day("2709A", o3=lambda h: 200.0 if 9 <= h <= 16 else 0.0)
    b = station_day("3442A", o3=lambda h: 200.0 if 17 <= h <= 24 else 0.0)
    row = ev.jurisdiction_daily(pd.concat([a, b]), jurisdictions=["shihezi"]).query("date == @DAY").iloc[0]
    assert row["o3_8h"] == 200.0  # each station's MDA8 is 200; their mean 200
    assert row["o3"] == 200.0
    assert row["iaqi_o3_8h"] == 137.0  # 100 + (200 − 160)·50/55 = 136.4 → 137 (HJ 633-2012, 8-h column)
    old = ev.jurisdiction_daily(pd.concat([a, b]), jurisdictions=["shihezi"], method="hourly-area")
    assert old.query("date == @DAY").iloc[0]["o3_8h"] == 100.0  # MDA8 of the hourly means


def test_min_stations_parameter():
    h = pd.concat([station_day("2709A", pm25=40), station_day("3442A", pm25=np.nan)], ignore_index=True)
    row = ev.jurisdiction_daily(h, jurisdictions=["shihezi"], min_stations=2).query("date == @DAY").iloc[0]
    assert np.isnan(row["pm25"]) and row["n_stations_pm25"] == 1
    with pytest.raises(ValueError, match="min_stations"):
        ev.jurisdiction_daily(h, min_stations=0)


def test_unknown_jurisdiction_and_method_raise():
    h = station_day("2709A")
    with pytest.raises(ValueError, match="unknown jurisdictions"):
        ev.jurisdiction_daily(h, jurisdictions=["atlantis"])
    with pytest.raises(ValueError, match="method"):
        ev.jurisdiction_daily(h, method="median")
    with pytest.raises(ValueError, match="jurisdiction"):
        ev.explain("atlantis", DAY, ev.station_daily(h))


def test_running_value_at_midnight_equals_the_day_and_excludes_a_station_that_cannot_reach_20_hours():
    h = pd.concat([station_day("2709A", pm25=100), station_day("3442A", pm25=50),
                   station_day("4051A", hours=range(1, 11), pm25=300)], ignore_index=True)
    # at 10:00: 10 of 24 hours elapsed; 4051A has 10 valid hours ≥ 20 − 14 = 6 → still counts
    at10 = ev.running_daily(h, pd.Timestamp(DAY, tz=TZ) + pd.Timedelta(hours=10), jurisdictions=["shihezi"])
    assert at10.iloc[0]["pm25"] == 150.0 and at10.iloc[0]["provisional"]
    # at 24:00 it has 10 < 20 hours → out; the running value equals the daily value
    end = ev.running_daily(h, pd.Timestamp(DAY, tz=TZ) + pd.Timedelta(days=1), jurisdictions=["shihezi"])
    day = ev.jurisdiction_daily(h, jurisdictions=["shihezi"]).query("date == @DAY")
    assert end.iloc[0]["pm25"] == day.iloc[0]["pm25"] == 75.0
    assert end.iloc[0]["aqi"] == day.iloc[0]["aqi"]


# ------------------------------------------------------------------------------------------------ period values
def _daily(values: dict[str, list], start=dt.date(2022, 3, 1), unit="shihezi", **cols) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    d = pd.DataFrame({"jurisdiction": unit, "date": [start + dt.timedelta(days=i) for i in range(n)], **values})
    for p in ("pm25", "pm10", "so2", "no2", "co", "o3_8h"):
        if p not in d:
            d[p] = cols.get(p, 10.0)
    d["complete"] = d[["pm25", "pm10", "so2", "no2", "co", "o3_8h"]].notna().all(axis=1)
    return d


def test_period_values_percentiles_shares_and_composite_index():
    # CO daily means {3, 4, 8, 2, 5, 4} → HJ 663 p95: k = 1 + 5·0.95 = 5.75 → 5 + 0.75·(8 − 5) = 7.25
    # O3 MDA8 the same values ×10 → p90: k = 5.5 → 50 + 0.5·30 = 65
    co = [3, 4, 8, 2, 5, 4]
    aqi = [40, 90, 120, 210, 100, 301]
    d = _daily({"co": co, "o3_8h": [10.0 * c for c in co], "aqi": aqi, "pm25": [35] * 6, "pm10": [70] * 6,
                "so2": [60] * 6, "no2": [40] * 6})
    v = ev.period_values(d, "2022-03-01", "2022-03-06")
    r = v.iloc[0]
    assert r["co_p95"] == pytest.approx(7.25)
    assert r["o3_8h_p90"] == pytest.approx(65.0)
    assert r["days"] == 6 and r["valid_days"] == 6
    assert r["good_days"] == 3 and r["good_day_share"] == pytest.approx(50.0)  # 40, 90, 100
    assert r["heavy_days"] == 2 and r["heavy_day_share"] == pytest.approx(100 * 2 / 6)  # 210, 301
    # composite (HJ663-2013): 35/35 + 70/70 + 60/60 + 40/40 + 7.25/4 + 65/160
    assert r["composite_index"] == pytest.approx(4 + 7.25 / 4 + 65 / 160)
    assert r["composite_basis"] == "HJ663-2013"
    assert r["dust_convention"] == "none" and r["dust_days_deducted"] == ""
    # six days of March: pro rata ceil(27 × 6 / 31) = 6 valid days needed, 6 held
    assert bool(r["valid_statistic"])


def test_incomplete_day_counts_as_valid_only_above_100():
    d = _daily({"aqi": [80, 80, 150], "pm25": [20, np.nan, np.nan]})
    r = ev.period_values(d).iloc[0]
    assert r["valid_days"] == 2  # the incomplete day at AQI 80 is not a valid day; at 150 it is (§5.3.1)
    assert r["good_days"] == 1 and r["good_day_share"] == pytest.approx(50.0)


def test_data_capture_rule_for_a_month_and_a_year():
    n = 31
    d = _daily({"aqi": [50] * n, "pm25": [20.0] * 26 + [np.nan] * 5})
    r = ev.period_values(d, "2022-03-01", "2022-03-31").iloc[0]
    assert not r["valid_statistic"] and "26 valid days (pm25) < 27" in r["validity_reason"]
    year = _daily({"aqi": [50] * 365}, start=dt.date(2022, 1, 1))
    assert bool(ev.period_values(year, "2022-01-01", "2022-12-31").iloc[0]["valid_statistic"])
    short = year[year["date"] < dt.date(2022, 12, 1)]  # 334 days, December empty
    r = ev.period_values(short, "2022-01-01", "2022-12-31").iloc[0]
    assert not r["valid_statistic"] and "2022-12: 0 valid days" in r["validity_reason"]


def test_monthly_split():
    d = _daily({"aqi": [50] * 59, "pm25": [10.0] * 31 + [40.0] * 28}, start=dt.date(2022, 1, 1))
    v = ev.period_values(d, "2022-01-01", "2022-02-28", freq="M")
    assert list(v["period"]) == ["2022-01", "2022-02"]
    assert list(v["pm25"]) == [10.0, 40.0] and list(v["days"]) == [31, 28]


def test_dust_deduction_constructed_case():
    # day 2 is a dust day: PM10 600, PM2.5 90, AQI 500 (PM10 ≥ 600 caps at 500)
    d = _daily({"aqi": [60, 500, 60, 60], "pm10": [100, 600, 100, 100], "pm25": [30, 90, 30, 30]})
    dust = pd.DataFrame({"jurisdiction": ["shihezi"], "date": [dt.date(2022, 3, 2)]})
    keep = ev.period_values(d, dust="include", dust_days=dust).iloc[0]
    cut = ev.period_values(d, dust="exclude", dust_days=dust).iloc[0]
    assert keep["pm10"] == 225.0 and cut["pm10"] == 100.0
    assert keep["pm25"] == 45.0 and cut["pm25"] == 30.0
    assert cut["n_days_pm10"] == 3 and keep["n_days_pm10"] == 4
    assert cut["composite_index"] == pytest.approx(keep["composite_index"] - 225 / 70 + 100 / 70 - 45 / 35 + 30 / 35)
    # the good-day and heavy-day shares keep the dust day (CNEMC convention)
    assert cut["good_day_share"] == keep["good_day_share"] == 75.0
    assert cut["heavy_day_share"] == keep["heavy_day_share"] == 25.0
    assert cut["dust_convention"] == "cnemc" and cut["dust_days_deducted"] == "2022-03-02" and cut["n_dust_days"] == 1
    assert keep["dust_days_deducted"] == ""


# ------------------------------------------------------------------------------------------------ real sample
def _csv_station_means(paths, code: str, day: dt.date, column: str) -> tuple[float, int]:
    """Independent of RegionAir: the mean of a station's published 1-h values stamped D 01:00 … D+1 00:00."""
    first = dt.datetime.combine(day, dt.time(1))
    last = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0))
    vals = []
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                t = dt.datetime.fromisoformat(row["timepoint"])
                if row["stationcode"] == code and first <= t <= last and row[column] not in ("", "NA"):
                    vals.append(float(row[column]))
    return (sum(vals) / len(vals) if vals else float("nan")), len(vals)


def test_urumqi_2022_01_01_one_station_with_12_hours(cnemc_2022_region):
    files = [CNEMC_2022_01_01, CNEMC_2022_01_02_03]
    day = dt.date(2022, 1, 1)
    d = ev.jurisdiction_daily(cnemc_2022_region)
    row = d[(d["jurisdiction"] == "urumqi") & (d["date"] == day)].iloc[0]
    # 11 catalogue stations; 1492A is background, 1496A reported 12 hours → 9 counted
    counted = ["1490A", "1491A", "1493A", "1494A", "3033A", "3437A", "3438A", "3439A", "3440A"]
    means = [_csv_station_means(files, c, day, "pm2_5") for c in counted]
    assert all(n == 24 for _, n in means)
    assert _csv_station_means(files, "1496A", day, "pm2_5")[1] == 12
    pm25 = sum(m for m, _ in means) / 9
    assert row["pm25"] == pytest.approx(pm25) == pytest.approx(112.875)
    assert row["n_stations_pm25"] == 9
    # IAQI (HJ 633-2012): 100 + (112.875 − 75)·50/40 = 147.34 → 148; PM2.5 is primary
    assert row["iaqi_pm25"] == 148.0 and row["aqi"] == 148.0
    assert row["category"] == "轻度污染" and row["primary_pollutants"] == "pm25"
    # the old method (hourly area means, 1496A's 12 hours pulling) gave 155, 中度污染
    old = ev.jurisdiction_daily(cnemc_2022_region, method="hourly-area")
    assert old[(old["jurisdiction"] == "urumqi") & (old["date"] == day)].iloc[0]["aqi"] == 155.0
    x = ev.explain("urumqi", day, ev.station_daily(cnemc_2022_region))
    st = x.stations.set_index("station")
    assert sorted(st.index[st["status"] == "counted"]) == counted
    assert st.loc["1496A", "n_pm25"] == 12 and "pm25:lt_20_hours" in st.loc["1496A", "reasons"]
    assert st.loc["1492A", "reasons"] == "background"


def test_sample_days_the_two_methods_disagree_on_exactly_three_city_days(cnemc_2022_region, cnemc_2026_03_10_region):
    h = pd.concat([cnemc_2022_region, cnemc_2026_03_10_region], ignore_index=True)
    new = ev.jurisdiction_daily(h).dropna(subset=["aqi"])
    old = ev.jurisdiction_daily(h, method="hourly-area").dropna(subset=["aqi"])
    m = new.merge(old, on=["jurisdiction", "date"], suffixes=("", "_old"))
    assert len(m) == 16
    diff = m[m["aqi"] != m["aqi_old"]]
    got = {(r.jurisdiction, str(r.date), int(r.aqi), int(r.aqi_old)) for r in diff.itertuples()}
    assert got == {("urumqi", "2022-01-01", 148, 155), ("changji", "2022-01-02", 180, 182),
                   ("shihezi", "2022-01-03", 289, 291)}
    # 2026-03-10 under HJ 633-2026 (PM2.5 60 at IAQI 100): 乌鲁木齐 PM2.5 79.49 → rounded 79 → 118
    u = new[(new["jurisdiction"] == "urumqi") & (new["date"] == dt.date(2026, 3, 10))].iloc[0]
    assert u["edition"] == "2026" and u["aqi"] == 118.0 and u["n_stations_pm25"] == 10


def test_period_values_on_the_sample(cnemc_2022_region):
    d = ev.jurisdiction_daily(cnemc_2022_region)
    v = ev.period_values(d, "2022-01-01", "2022-01-03").set_index("jurisdiction")
    u = d[(d["jurisdiction"] == "urumqi") & d["date"].between(dt.date(2022, 1, 1), dt.date(2022, 1, 3))]
    assert v.loc["urumqi", "pm25"] == pytest.approx(u["pm25"].mean())
    assert v.loc["urumqi", "days"] == 3 and v.loc["urumqi", "valid_days"] == 3
    assert v.loc["urumqi", "good_day_share"] == 0.0  # 148, 134, 172
    assert v.loc["wujiaqu", "heavy_day_share"] == 100.0  # 329, 323, 320


# ------------------------------------------------------------------------------------------------ CLI
@pytest.fixture(scope="module")
def sample_store(tmp_path_factory, cnemc_2022_region, cnemc_2026_03_10_region):
    from regionair.store import Store

    path = tmp_path_factory.mktemp("evaluate") / "store"
    s = Store(path)
    s.ingest_hourly(pd.concat([cnemc_2022_region, cnemc_2026_03_10_region]), source="cnemc-archive")
    return path


def test_daily_by_jurisdiction_command(tmp_path):
    from regionair.cli import main

    out = tmp_path / "j.csv"
    assert main(["daily", str(CNEMC_2022_01_01), str(CNEMC_2022_01_02_03), "--by", "jurisdiction",
                 "--out", str(out)]) == 0
    got = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(got.columns) == ["jurisdiction", "date", "aqi", "category", "primary_pollutants", "pm25", "pm10",
                                 "so2", "no2", "co", "o3_8h", "o3", "n_stations_pm25", "n_stations_pm10",
                                 "n_stations_so2", "n_stations_no2", "n_stations_co", "n_stations_o3_8h",
                                 "n_stations_o3", "edition"]
    u = got[(got["jurisdiction"] == "urumqi") & (got["date"] == "2022-01-01")].iloc[0]
    assert u["aqi"] == 148 and u["category"] == "轻度污染" and u["primary_pollutants"] == "pm25"
    assert u["pm25"] == 112.88 and u["n_stations_pm25"] == 9
    # the default stays per station
    st = tmp_path / "s.csv"
    assert main(["daily", str(CNEMC_2022_01_01), "--out", str(st)]) == 0
    assert pd.read_csv(st).columns[0] == "station"


def test_evaluate_command_and_dust_days_on_the_sample(tmp_path, sample_store):
    from regionair.cli import main

    out = tmp_path / "e.csv"
    args = ["evaluate", "--start", "2022-01-01", "--end", "2022-01-03", "--store", str(sample_store)]
    assert main([*args, "--out", str(out)]) == 0
    e = pd.read_csv(out, keep_default_na=False, na_values=[""]).set_index("jurisdiction")
    assert list(e.reset_index().columns[:15]) == [
        "jurisdiction", "days", "valid_days", "pm25", "pm10", "so2", "no2", "co_p95", "o3_8h_p90", "composite_index",
        "composite_basis", "good_day_share", "heavy_day_share", "dust_convention", "dust_days_deducted"]
    assert list(e.index) == ["urumqi", "changji", "wujiaqu", "shihezi"]  # members with stations, catalogue order
    assert e.loc["urumqi", "days"] == 3 and e.loc["urumqi", "valid_days"] == 3
    assert e.loc["urumqi", "pm25"] == pytest.approx((112.875 + 101.866667 + 130.283333) / 3, abs=0.01)
    assert e.loc["urumqi", "composite_basis"] == "HJ663-2013" and e.loc["urumqi", "dust_convention"] == "none"
    # mark 2022-01-01 as a dust day for every jurisdiction: PM means and the composite index change, shares stay
    dust = tmp_path / "dust.csv"
    dust.write_text("jurisdiction,date\n*,2022-01-01\n", encoding="utf-8")
    out2 = tmp_path / "e2.csv"
    assert main([*args, "--dust-days", str(dust), "--out", str(out2)]) == 0
    f = pd.read_csv(out2, keep_default_na=False, na_values=[""]).set_index("jurisdiction")
    assert f.loc["urumqi", "pm25"] == pytest.approx((101.866667 + 130.283333) / 2, abs=0.01)
    assert f.loc["urumqi", "composite_index"] != e.loc["urumqi", "composite_index"]
    assert (f["good_day_share"] == e["good_day_share"]).all() and (f["heavy_day_share"] == e["heavy_day_share"]).all()
    assert (f["dust_convention"] == "cnemc").all() and (f["dust_days_deducted"] == "2022-01-01").all()
    assert f.loc["wujiaqu", "pm10"] < e.loc["wujiaqu", "pm10"]
    # xlsx, a jurisdiction subset, and a dust file with an error naming file, line and column
    x = tmp_path / "e.xlsx"
    assert main([*args, "--jurisdictions", "shihezi", "--format", "xlsx", "--out", str(x)]) == 0
    assert list(pd.read_excel(x, skiprows=[1])["jurisdiction"]) == ["shihezi"]  # row 2 holds the units
    bad = tmp_path / "bad.csv"
    bad.write_text("jurisdiction,date\nurumqi,2022-01-01\nurumqi,2022/01/02\n", encoding="utf-8")
    assert main([*args, "--dust-days", str(bad), "--out", str(out2)]) == 2


def test_evaluate_errors(tmp_path, sample_store, capsys):
    from regionair.cli import main

    assert main(["evaluate", "--start", "2030-01-01", "--end", "2030-01-31", "--store", str(sample_store),
                 "--out", str(tmp_path / "x.csv")]) == 2
    assert "no measurements" in capsys.readouterr().err
    assert main(["evaluate", "--start", "2022-01-01", "--end", "2022-01-03", "--store", str(sample_store),
                 "--jurisdictions", "atlantis", "--out", str(tmp_path / "x.csv")]) == 2


# ------------------------------------------------------------------------------------------------ dust days
def test_dust_file_parsing_and_errors(tmp_path):
    from regionair.analysis import dust

    d = dust.parse_dust_days("\ufeffjurisdiction,date\n\nurumqi,2023-03-22\n*,2023-03-23\n")
    assert list(d["jurisdiction"]) == ["urumqi", "*"] and list(d["line"]) == [3, 4]
    e = dust.expand(d, ["urumqi", "changji"])
    assert [(r.jurisdiction, str(r.date)) for r in e.itertuples()] == [
        ("urumqi", "2023-03-22"), ("urumqi", "2023-03-23"), ("changji", "2023-03-23")]
    with pytest.raises(ValueError, match=r"dust.csv, line 2, column 'jurisdiction'.*unknown jurisdiction 'atlantis'"):
        dust.parse_dust_days("jurisdiction,date\natlantis,2023-03-22\n", "dust.csv")
    with pytest.raises(ValueError, match=r"line 2, column 'date'.*YYYY-MM-DD"):
        dust.parse_dust_days("jurisdiction,date\nurumqi,22/03/2023\n", "dust.csv")
    with pytest.raises(ValueError, match=r"line 1, column 'date'"):
        dust.parse_dust_days("jurisdiction,day\n", "dust.csv")
    with pytest.raises(ValueError, match="file not found"):
        dust.read_dust_days(tmp_path / "none.csv")


def test_dust_suggestions_are_never_applied_by_themselves():
    from regionair.analysis import dust

    d = _daily({"aqi": [60, 500, 160], "pm10": [100, 600, 260], "pm25": [30, 90, 150]})
    s = dust.suggest(d)
    assert [str(x) for x in s["date"]] == ["2022-03-02"]  # PM10 600 ≥ 150 and 90/600 = 0.15 ≤ 0.35
    assert s.iloc[0]["basis"] == "pm" and s.iloc[0]["ratio"] == pytest.approx(0.15)
    model = pd.DataFrame({"point": "shihezi", "dust": 250.0,
                          "time": [pd.Timestamp("2022-03-03 01:00", tz=TZ) + pd.Timedelta(hours=h) for h in range(24)]})
    s2 = dust.suggest(d, model_aq=model)
    assert [(str(r.date), r.basis) for r in s2.itertuples()] == [("2022-03-02", "pm"), ("2022-03-03", "model")]
    # period values only deduct what is passed as dust days
    assert ev.period_values(d, dust="exclude").iloc[0]["n_dust_days"] == 0


def test_dust_marks_are_audited(tmp_path):
    from regionair.analysis import dust
    from regionair.store import Store, audit

    s = Store(tmp_path / "store")
    dust.set_mark(s, "urumqi", "2023-03-22", marked=True, who="local:ana", note="satellite image")
    dust.set_mark(s, "changji", "2023-03-22", marked=True, who="local:ana")
    dust.set_mark(s, "changji", "2023-03-22", marked=False, who="local:admin")
    m = dust.marks(s)
    assert [(r.jurisdiction, str(r.date), r.who) for r in m.itertuples()] == [("urumqi", "2023-03-22", "local:ana")]
    ev_ = audit.events(s)
    assert list(ev_["action"]) == ["dust_unmark", "dust_mark", "dust_mark"]
    assert ev_.iloc[0]["target"] == "changji 2023-03-22"
    with pytest.raises(ValueError, match="unknown jurisdiction"):
        dust.set_mark(s, "atlantis", "2023-03-22", marked=True, who="x")


# ------------------------------------------------------------------------------------------------ one value everywhere
DISAGREEING = {("urumqi", dt.date(2022, 1, 1)): 148, ("changji", dt.date(2022, 1, 2)): 180,
               ("shihezi", dt.date(2022, 1, 3)): 289}


def test_the_three_disagreeing_city_days_agree_everywhere(tmp_path, sample_store, cnemc_2022_region, monkeypatch):
    """The sample's three city-days where the two methods differ show one value on every path."""
    from regionair.analysis import near_threshold as nt
    from regionair.analysis.latest import unit_kpis
    from regionair.cli import main
    from regionair.render import report
    from regionair.store import Store

    # 1. CLI daily --by jurisdiction
    out = tmp_path / "j.csv"
    assert main(["daily", str(CNEMC_2022_01_01), str(CNEMC_2022_01_02_03), "--by", "jurisdiction",
                 "--out", str(out)]) == 0
    cli = pd.read_csv(out).assign(date=lambda d: pd.to_datetime(d["date"]).dt.date)
    cli = cli.set_index(["jurisdiction", "date"])["aqi"]
    # 2. the pages (ui.data.unit_daily over the store: rankings, trends, primary pollutants)
    monkeypatch.setenv("REGIONAIR_STORE", str(sample_store))
    from regionair.ui import data as ui_data

    pages = ui_data.unit_daily(pd.Timestamp("2022-01-01 01:00", tz=TZ), pd.Timestamp("2022-01-04 00:00", tz=TZ))
    pages = pages.set_index(["station", "date"])["aqi"]
    # 3. the briefing (its calendar figure's table; meeting snapshots render the same briefing)
    b = report.briefing_from_store(Store(sample_store), "2022-01-01", "2022-01-03", issue_date="2022-01-04")
    cal = next(f for f in b.figures if f.name == "calendar").table
    cal = cal.assign(date=pd.to_datetime(cal["date"]).dt.date).set_index(["station", "date"])["aqi"]
    for (unit, day), want in DISAGREEING.items():
        close = pd.Timestamp(day, tz=TZ) + pd.Timedelta(days=1)  # D+1 00:00 closes the natural day
        # 4. overview: the running daily AQI at the day's close
        kpi = unit_kpis(cnemc_2022_region, at=close).set_index("station").loc[unit, "day_aqi"]
        # 5. warnings desk: the running daily AQI of the jurisdiction scope
        run = nt.running_daily_aqi(cnemc_2022_region, close)
        run = run[(run["scope"] == "jurisdiction") & (run["id"] == unit)].iloc[0]["aqi"]
        # 6. the budget's mean so far at the close is the day's PM2.5 (the controlling pollutant)
        bud = nt.daily_budget(cnemc_2022_region, close)
        bud = bud[(bud["scope"] == "jurisdiction") & (bud["id"] == unit) & (bud["pollutant"] == "pm25")]
        day_pm25 = ev.jurisdiction_daily(cnemc_2022_region).set_index(["jurisdiction", "date"]).loc[(unit, day), "pm25"]
        assert bud["mean_so_far"].iloc[0] == pytest.approx(day_pm25)
        got = {"cli": cli.loc[(unit, day)], "pages": pages.loc[(unit, day)], "briefing": cal.loc[(unit, day)],
               "overview": kpi, "warnings": run}
        assert set(got.values()) == {want}, (unit, day, got)


# ------------------------------------------------------------------------------------------------ rankings page
def _page(sample_store, monkeypatch, **state):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REGIONAIR_STORE", str(sample_store))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "rankings.py"), default_timeout=120)
    at.session_state["period"] = "custom"
    at.session_state["dates"] = (dt.date(2022, 1, 1), dt.date(2022, 1, 3))
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frame_with(at, header):
    return next(d.value for d in at.dataframe if header in d.value.columns)


def test_rankings_page_explains_a_number(sample_store, monkeypatch):
    at = _page(sample_store, monkeypatch, explain_unit="urumqi", explain_day=dt.date(2022, 1, 1))
    text = " ".join(m.value for m in at.markdown)
    assert "乌鲁木齐市 2022-01-01：AQI 148（轻度污染），首要污染物：PM2.5。参与计算的点位 9 个" in text
    st = _frame_with(at, "未参与原因").set_index("站点编码")
    assert st.loc["1496A", "参与情况"] == "未参与" and "PM2.5：有效小时数不足20" in st.loc["1496A", "未参与原因"]
    assert st.loc["1492A", "未参与原因"] == "对照点，不参与城市均值"
    city = _frame_with(at, "城市均值").set_index("指标")
    assert city.loc["PM2.5", "参与点位数"] == 9 and city.loc["PM2.5", "分指数"] == 148
    rules = _frame_with(at, "依据条款")
    assert "HJ 663（条款原文未查到）；HJ 633-2026 第4.2.1条" in set(rules["依据条款"])
    captions = " ".join(c.value for c in at.caption)
    assert "原文未能查到" in captions and "综合指数（HJ 663-2013" in captions
    assert any("未经审核" in i.value for i in at.info)  # provisional vs audited stated
    bundle = [i.name for i in at.session_state["_regionair_bundle_items"]]
    assert {"explain_urumqi_20220101_stations", "explain_urumqi_20220101_city",
            "explain_urumqi_20220101_rules"} <= set(bundle)  # the derivation goes into the export bundle


def test_rankings_page_dust_toggle_and_audited_marking(sample_store, monkeypatch):
    from regionair.analysis import dust
    from regionair.store import Store, audit

    keep = _page(sample_store, monkeypatch, dust="include")
    before = _frame_with(keep, "综合指数").set_index("行政单元")
    # mark 2022-01-01 for every jurisdiction through the page's form (demo mode: the user is an admin)
    form = _page(sample_store, monkeypatch, dust="exclude")
    form.date_input[0].set_value(dt.date(2022, 1, 1))
    next(b for b in form.button if b.label == "标记为沙尘天").click()
    form.run()
    assert not form.exception, [e.value for e in form.exception]
    s = Store(sample_store)
    assert [(r.jurisdiction, str(r.date)) for r in dust.marks(s).itertuples()] == [("*", "2022-01-01")]
    assert audit.events(s, action="dust_mark").iloc[0]["target"] == "* 2022-01-01"
    try:
        cut = _page(sample_store, monkeypatch, dust="exclude")
        after = _frame_with(cut, "综合指数").set_index("行政单元")
        u = "乌鲁木齐市"
        assert after.loc[u, "PM2.5 均值 µg/m³"] == pytest.approx((101.866667 + 130.283333) / 2, abs=0.01)
        assert after.loc[u, "综合指数"] < before.loc[u, "综合指数"]
        assert (after["优良天数比例 %"] == before["优良天数比例 %"]).all()
        assert (after["扣除沙尘天数"] == 1).all()
        assert any("扣除的沙尘天：2022-01-01" in c.value for c in cut.caption)
    finally:
        dust.set_mark(s, "*", "2022-01-01", marked=False, who="test")
    assert dust.marks(s).empty
