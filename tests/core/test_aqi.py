"""IAQI / AQI / primary pollutants: edges, editions, special cases, and the real published CNEMC rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from regionair.core.aqi import (
    category,
    category_colour,
    daily_aqi,
    edition_for,
    exceedance_pollutants,
    hourly_aqi,
    iaqi,
    natural_day,
    publication_aqi,
    round_half_even,
)
from regionair.core.nomenclature import TZ
from regionair.errors import InputError


# ---------------------------------------------------------------- IAQI edges
@pytest.mark.parametrize(
    "pollutant, c, avg, edition, expected",
    [
        ("pm25", 0, "24h", "2012", 0),
        ("pm25", 35, "24h", "2012", 50),  # exact breakpoint: both segments agree
        ("pm25", 75, "24h", "2012", 100),
        ("pm25", 75, "24h", "2026", 114),  # 2026 table: 100 + 50·(75−60)/(115−60) = 113.6 → 114 (ceiling)
        ("pm25", 60, "24h", "2026", 100),
        ("pm25", 48, "24h", "2012", 67),  # standards.md §2.8: 66.25 → 67 (ceiling)
        ("pm25", 50, "24h", "2026", 80),  # §2.8 1001A 2026-03-10 10:00
        ("pm25", 50, "24h", "2012", 69),  # §2.8: 2012 would give 69
        ("pm25", 66, "24h", "2026", 106),
        ("pm10", 178, "24h", "2026", 123),
        ("pm10", 579, "24h", "2012", 479),
        ("pm10", 1050, "24h", "2012", 500),  # above the top → capped
        ("pm25", 133, "24h", "2026", 176),
        ("pm25", 488, "24h", "2012", 492),
        ("o3", 223, "1h", "2012", 112),
        ("o3", 214, "8h", "2012", 150),
        ("o3", 106, "1h", "2026", 34),
        ("co", 2.5, "24h", "2012", 63),  # python-aqi's integer-segment gap (standards.md §2.7)
        ("so2", 2620, "24h", "2012", 500),
        ("so2", 3000, "24h", "2012", 500),
        ("no2", 100, "1h", "2012", 50),
    ],
)
def test_iaqi_values(pollutant, c, avg, edition, expected):
    assert iaqi(pollutant, c, averaging=avg, edition=edition) == expected


def test_iaqi_nan_and_negative_stay_missing():
    out = iaqi("pm25", [np.nan, -1, 10], averaging="24h", edition="2012")
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 15


def test_iaqi_scalar_array_series():
    assert isinstance(iaqi("pm10", 100, averaging="24h", edition="2012"), float)
    arr = iaqi("pm10", np.array([50, 100]), averaging="24h", edition="2012")
    assert isinstance(arr, np.ndarray) and list(arr) == [50, 75]
    s = pd.Series([50, 100], index=["a", "b"], name="pm10")
    out = iaqi("pm10", s, averaging="24h", edition="2012")
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b"] and list(out) == [50, 75]


def test_iaqi_ceiling_guards_float_error():
    # 0.1 + 0.2 style noise must not push an exact integer up: CO 4 mg/m³ is IAQI 100 exactly.
    assert iaqi("co", 0.1 * 40, averaging="24h", edition="2012") == 100
    assert iaqi("no2", 80.00000000001, averaging="24h", edition="2012") == 100  # 100.0000000000x → 100 after eps


def test_2026_input_rounding_half_even():
    assert list(round_half_even([2.15, 2.25, 0.5, 1.5, 2.5], 1)) == [2.2, 2.2, 0.5, 1.5, 2.5]
    assert list(round_half_even([0.5, 1.5, 2.5, 60.5, 61.5], 0)) == [0.0, 2.0, 2.0, 60.0, 62.0]
    # PM2.5 60.5 rounds (half to even) to 60 → IAQI 100 under 2026; 2012 has no input rounding.
    assert iaqi("pm25", 60.5, averaging="24h", edition="2026") == 100
    assert iaqi("pm25", 61.5, averaging="24h", edition="2026") == 102
    assert iaqi("co", 4.04, averaging="24h", edition="2026") == 100  # 4.04 → 4.0
    assert iaqi("co", 4.04, averaging="24h", edition="2012") == 101


def test_special_cases_per_edition():
    assert np.isnan(iaqi("so2", 801, averaging="1h", edition="2012"))  # not computed (Table 1 note 2)
    assert iaqi("so2", 801, averaging="1h", edition="2026") == 200  # Table 3 note b
    assert iaqi("so2", 800, averaging="1h", edition="2012") == 200
    assert np.isnan(iaqi("o3", 801, averaging="8h", edition="2012"))  # note 3
    assert iaqi("o3", 801, averaging="8h", edition="2026") == 300  # note c


def test_bad_options_raise():
    with pytest.raises(InputError, match="edition"):
        iaqi("pm25", 1, averaging="24h", edition="2019")
    with pytest.raises(InputError, match="averaging"):
        iaqi("pm25", 1, averaging="2h", edition="2012")
    with pytest.raises(InputError, match="no 1h breakpoints"):
        iaqi("pm25", 1, averaging="1h", edition="2012")
    with pytest.raises(InputError, match="pollutant"):
        iaqi("pm1", 1, averaging="24h", edition="2012")


def test_categories():
    assert list(category([0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500])) == [
        "优", "优", "良", "良", "轻度污染", "轻度污染", "中度污染", "中度污染", "重度污染", "重度污染", "严重污染", "严重污染"]
    assert category(np.nan) == ""
    assert category(120, lang="en") == "Lightly Polluted"
    assert category_colour(250) == "#99004C"


# ---------------------------------------------------------------- editions
def test_edition_by_natural_day():
    assert edition_for("2026-02-28") == "2012"
    assert edition_for("2026-03-01") == "2026"
    t = pd.Series(pd.to_datetime(["2026-03-01 00:00", "2026-03-01 01:00"]).tz_localize(TZ))
    days = natural_day(t)
    assert [str(d) for d in days] == ["2026-02-28", "2026-03-01"]
    frame = pd.DataFrame({"station": "X", "time": t, "pm25": 50.0, "pm10": np.nan, "so2": np.nan,
                          "no2": np.nan, "co": np.nan, "o3": np.nan})
    r = hourly_aqi(frame)
    assert list(r["edition"]) == ["2012", "2026"]
    assert list(r["aqi"]) == [69, 80]
    assert list(hourly_aqi(frame, edition="2026")["aqi"]) == [80, 80]


# ---------------------------------------------------------------- standards.md §2.8 vectors
VECTORS = [
    ("2022-01-04 14:00", {"pm25": 48}, 67, "pm25"),
    ("2022-01-04 14:00", {"pm10": 103, "pm25": 56}, 77, "pm10;pm25"),
    ("2022-06-20 18:00", {"o3": 223}, 112, "o3"),
    ("2022-06-20 18:00", {"pm25": 70, "o3": 195}, 94, "o3;pm25"),
    ("2023-03-22 10:00", {"pm10": 1050}, 500, "pm10"),
    ("2023-03-22 10:00", {"pm10": 579}, 479, "pm10"),
    ("2023-03-22 10:00", {"pm25": 488}, 492, "pm25"),
    ("2026-03-10 10:00", {"pm25": 50}, 80, "pm25"),
    ("2026-03-10 10:00", {"pm25": 66}, 106, "pm25"),
    ("2026-03-10 10:00", {"pm10": 178}, 123, "pm10"),
    ("2026-03-10 10:00", {"pm25": 133}, 176, "pm25"),
    ("2026-03-10 10:00", {"o3": 106}, 34, ""),
]


@pytest.mark.parametrize("time, values, aqi, primary", VECTORS, ids=[f"{v[0]}-{v[2]}" for v in VECTORS])
def test_standards_vectors(time, values, aqi, primary):
    row = {"station": "T", "time": pd.Timestamp(time, tz=TZ), **{p: np.nan for p in ("pm25", "pm10", "so2", "no2", "co", "o3")}}
    row.update(values)
    r = hourly_aqi(pd.DataFrame([row]))
    assert r["aqi"].iloc[0] == aqi
    assert r["primary_pollutants"].iloc[0] == primary


# ---------------------------------------------------------------- real published rows
@pytest.mark.parametrize("fixture", ["cnemc_2022_01_01_region", "cnemc_2022_region", "cnemc_2026_03_10_region"])
def test_published_hourly_aqi_and_primary_reproduced_exactly(fixture, request):
    frame = request.getfixturevalue(fixture)
    r = hourly_aqi(frame)
    pub = r["published_aqi"].notna()
    assert pub.sum() > 400
    mismatch = r[pub & (r["aqi"] != r["published_aqi"])]
    assert mismatch.empty, mismatch[["station", "time", "aqi", "published_aqi"]]
    wrong = r[pub & (r["primary_pollutants"] != r["published_primary"])]
    assert wrong.empty, wrong[["station", "time", "primary_pollutants", "published_primary"]]


def test_2026_rows_scored_with_2026_rules(cnemc_2026_03_10_region):
    r = hourly_aqi(cnemc_2026_03_10_region)
    assert set(r["edition"]) == {"2026"}
    row = r[(r.station == "3441A") & (r.time == pd.Timestamp("2026-03-10 10:00", tz=TZ))].iloc[0]
    assert row["aqi"] == row["published_aqi"]
    # the same file scored with 2012 rules no longer matches (PM breakpoints differ)
    r12 = hourly_aqi(cnemc_2026_03_10_region, edition="2012")
    pub = r12["published_aqi"].notna()
    assert (r12.loc[pub, "aqi"] != r12.loc[pub, "published_aqi"]).sum() > 100


def test_missing_and_publication_rule():
    t = pd.Timestamp("2026-03-10 10:00", tz=TZ)
    frame = pd.DataFrame([
        {"station": "A", "time": t, "pm25": 133, "pm10": np.nan, "so2": 5, "no2": 20, "co": 0.5, "o3": 40},  # 176 > 100
        {"station": "B", "time": t, "pm25": 40, "pm10": np.nan, "so2": 5, "no2": 20, "co": 0.5, "o3": 40},   # 60 ≤ 100
        {"station": "C", "time": t, "pm25": 40, "pm10": 60, "so2": np.nan, "no2": 20, "co": 0.5, "o3": 40},
        {"station": "D", "time": t, "pm25": np.nan, "pm10": np.nan, "so2": np.nan, "no2": np.nan, "co": np.nan, "o3": np.nan},
    ])
    frame["not_monitored"] = ["", "", "so2", ""]
    r = hourly_aqi(frame)
    assert list(r["missing"]) == ["pm10", "pm10", "so2", "pm25;pm10;so2;no2;co;o3"]
    assert list(r["complete"]) == [False, False, False, False]
    assert r["aqi"].iloc[0] == 176 and r["aqi"].iloc[1] == 60 and np.isnan(r["aqi"].iloc[3])
    pub = publication_aqi(r)
    assert pub.iloc[0] == 176  # > 100 is published despite the gap (§5.3.1)
    assert np.isnan(pub.iloc[1])  # ≤ 100 with a gap → NA
    assert pub.iloc[2] == r["aqi"].iloc[2]  # not monitored by design ("/") does not block (§5.3.2)
    assert r["category"].iloc[3] == "" and r["primary_pollutants"].iloc[3] == ""


def test_so2_above_800_uses_24h_mean_under_2012():
    times = pd.date_range("2022-01-01 01:00", periods=24, freq="h", tz=TZ)
    so2 = np.full(24, 100.0)
    so2[-1] = 900.0
    frame = pd.DataFrame({"station": "S", "time": times, "pm25": np.nan, "pm10": np.nan, "so2": so2,
                          "no2": np.nan, "co": np.nan, "o3": np.nan})
    r = hourly_aqi(frame)
    mean24 = (23 * 100 + 900) / 24  # 133.33 → 24-h IAQI 50 + 50·83.33/100 = 91.67 → 92
    assert r["iaqi_so2"].iloc[-1] == 92 == iaqi("so2", mean24, averaging="24h", edition="2012")
    r26 = hourly_aqi(frame, edition="2026")
    assert r26["iaqi_so2"].iloc[-1] == 200


def test_literal_2012_method_uses_moving_pm_and_o3_8h(cnemc_2022_region):
    lit = hourly_aqi(cnemc_2022_region, method="hj633-2012-literal")
    cn = hourly_aqi(cnemc_2022_region)
    assert "iaqi_o3_8h" in lit.columns and "iaqi_o3_8h" not in cn.columns
    row = lit[(lit.station == "1490A") & (lit.time == pd.Timestamp("2022-01-02 00:00", tz=TZ))].iloc[0]
    # PM2.5 IAQI from the 24-h moving mean of the hourly values, not the 1-h value
    from regionair.core.averaging import moving_means

    mm = moving_means(cnemc_2022_region)
    idx = row.name
    assert row["iaqi_pm25"] == iaqi("pm25", mm.loc[idx, "pm25_24h"], averaging="24h", edition="2012")
    assert (lit["aqi"] != cn["aqi"]).any()
    with pytest.raises(InputError, match="method"):
        hourly_aqi(cnemc_2022_region, method="epa")


def test_exceedance_pollutants():
    t = pd.Timestamp("2022-01-01 10:00", tz=TZ)
    r = hourly_aqi(pd.DataFrame([{"station": "A", "time": t, "pm25": 100, "pm10": 200, "so2": 5, "no2": 20, "co": 0.5, "o3": 40}]))
    assert exceedance_pollutants(r).iloc[0] == "pm10;pm25"


# ---------------------------------------------------------------- daily AQI
def test_daily_aqi_hand_computed_2012_and_2026():
    # natural day D: stamps D 01:00 … D+1 00:00
    times = pd.date_range("2026-02-28 01:00", periods=48, freq="h", tz=TZ)
    pm25 = np.r_[np.full(24, 70.0), np.full(24, 70.0)]
    o3 = np.r_[np.full(24, 100.0), np.full(24, 100.0)]
    o3[5] = 250.0  # 2012 day: O3 daily max 1-h 250 → IAQI 100 + 50·50/100 = 125 (1-h breakpoints)
    frame = pd.DataFrame({"station": "A", "time": times, "pm25": pm25, "pm10": 80.0, "so2": 10.0,
                          "no2": 30.0, "co": 0.8, "o3": o3})
    d = daily_aqi(frame)
    assert [str(x) for x in d["date"]] == ["2026-02-28", "2026-03-01"]
    d12, d26 = d.iloc[0], d.iloc[1]
    assert d12["edition"] == "2012" and d26["edition"] == "2026"
    assert d12["iaqi_pm25"] == 94  # 50 + 50·35/40 = 93.75 → 94
    assert d12["iaqi_o3"] == 125 and d12["aqi"] == 125 and d12["primary_pollutants"] == "o3"
    # MDA8 = (7·100 + 250)/8 = 118.75 → 8-h IAQI 50 + 50·18.75/60 = 65.6 → 66
    assert d12["o3_8h"] == 118.75 and d12["iaqi_o3_8h"] == 66
    assert d26["iaqi_pm25"] == 110  # 2026: 100 + 50·10/55 = 109.09 → 110
    assert d26["aqi"] == 110 and d26["primary_pollutants"] == "pm25"
    assert np.isnan(d26["iaqi_o3"])  # 2026 daily has no O3 1-h indicator


def test_daily_validity_20_hours():
    times = pd.date_range("2022-01-01 01:00", periods=24, freq="h", tz=TZ)
    pm = np.full(24, 50.0)
    pm[:5] = np.nan  # 19 valid → invalid daily mean
    frame = pd.DataFrame({"station": "A", "time": times, "pm25": pm, "pm10": 50.0, "so2": np.nan,
                          "no2": np.nan, "co": np.nan, "o3": np.nan})
    d = daily_aqi(frame)
    assert np.isnan(d["pm25"].iloc[0]) and d["n_pm25"].iloc[0] == 19
    assert d["pm10"].iloc[0] == 50 and "pm25" in d["missing"].iloc[0]
    assert d["aqi"].iloc[0] == 50  # from PM10 alone; incomplete
    assert not d["complete"].iloc[0]


def test_daily_aqi_on_real_episode(cnemc_2022_region):
    d = daily_aqi(cnemc_2022_region)
    days = d[d["date"].astype(str).isin(["2022-01-01", "2022-01-02", "2022-01-03"])]
    r = days[days.station == "3441A"].set_index(days[days.station == "3441A"]["date"].astype(str))
    hourly = cnemc_2022_region[(cnemc_2022_region.station == "3441A")]
    day = hourly[(hourly.time > pd.Timestamp("2022-01-01 00:00", tz=TZ)) & (hourly.time <= pd.Timestamp("2022-01-02 00:00", tz=TZ))]
    assert len(day) == 24
    assert r.loc["2022-01-01", "pm25"] == pytest.approx(day["pm25"].mean())
    assert r.loc["2022-01-01", "aqi"] == max(
        iaqi("pm25", day["pm25"].mean(), averaging="24h", edition="2012"),
        iaqi("pm10", day["pm10"].mean(), averaging="24h", edition="2012"),
    )
    assert r.loc["2022-01-01", "aqi"] > 200  # heavy pollution day
