"""Episode detection: the real January 2022 heavy-pollution episode and hand-built hourly runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from regionair.analysis.episodes import detect_episodes
from regionair.core import aqi, region
from regionair.core.nomenclature import TZ
from regionair.errors import InputError


def test_real_january_2022_episode(cnemc_2022_region):
    daily = aqi.daily_aqi(region.aggregate(cnemc_2022_region))
    episodes, onsets = detect_episodes(daily)
    # expected, by hand from the daily AQI table
    exceed = daily.loc[daily["aqi"] > 100]
    days = sorted(set(exceed["date"]))
    assert days == [dt.date(2022, 1, 1), dt.date(2022, 1, 2), dt.date(2022, 1, 3)]  # consecutive
    peak = daily.loc[daily["aqi"].idxmax()]
    assert len(episodes) == 1
    ep = episodes.iloc[0]
    assert (ep["start"], ep["end"], ep["duration"]) == (days[0], days[-1], 3)
    assert ep["peak_aqi"] == peak["aqi"] == 329
    assert ep["peak_unit"] == peak["station"] == "wujiaqu" and ep["peak_time"] == peak["date"]
    assert ep["peak_category"] == "严重污染"
    codes = exceed["primary_pollutants"].str.split(";").explode().value_counts()
    assert ep["primary_pollutants"] == codes.idxmax() == "pm25"
    assert set(ep["units_affected"].split(";")) == set(exceed["station"]) and ep["n_units"] == 4
    assert set(onsets["unit"]) == set(exceed["station"]) and (onsets["rank"] == 1).all()
    urumqi = onsets.set_index("unit").loc["urumqi"]
    assert urumqi["first_150"] == dt.date(2022, 1, 1) and pd.isna(urumqi["first_200"])  # max 172


def test_real_episode_per_unit_above_200(cnemc_2022_region):
    daily = aqi.daily_aqi(region.aggregate(cnemc_2022_region))
    episodes, _ = detect_episodes(daily, threshold=200, by="station", max_gap=0)
    got = {r.station: (r.start, r.end, r.peak_aqi) for r in episodes.itertuples()}
    assert got == {"changji": (dt.date(2022, 1, 1), dt.date(2022, 1, 1), 203.0),
                   "shihezi": (dt.date(2022, 1, 1), dt.date(2022, 1, 3), 291.0),
                   "wujiaqu": (dt.date(2022, 1, 1), dt.date(2022, 1, 3), 329.0)}


def _hourly(aqi_a, aqi_b=None) -> pd.DataFrame:
    n = len(aqi_a)
    t = pd.date_range("2022-01-01 01:00", periods=n, freq="h", tz=TZ)
    parts = [pd.DataFrame({"station": "A", "time": t, "aqi": aqi_a})]
    if aqi_b is not None:
        parts.append(pd.DataFrame({"station": "B", "time": t, "aqi": aqi_b}))
    out = pd.concat(parts, ignore_index=True)
    out["primary_pollutants"] = np.where(out["aqi"] > 50, "pm25", "")
    return out


def test_hourly_runs_merge_gaps_and_min_duration():
    a = np.full(30, 60.0)
    a[3:11] = 130  # hours 3..10 (8 h)
    a[12:15] = 140  # 12..14, gap of 1 hour
    a[20:23] = 180  # 20..22, gap of 5 hours
    a[13] = np.nan  # a missing hour inside a run is a gap, not a zero
    t = pd.date_range("2022-01-01 01:00", periods=30, freq="h", tz=TZ)
    episodes, onsets = detect_episodes(_hourly(a), resolution="hour")
    assert len(episodes) == 1  # 20..22 lasts 3 h < 6 h
    ep = episodes.iloc[0]
    assert ep["start"] == t[3] and ep["end"] == t[14] and ep["duration"] == 12 and ep["n_exceeding"] == 10
    assert ep["peak_aqi"] == 140 and ep["peak_time"] == t[12]
    strict, _ = detect_episodes(_hourly(a), resolution="hour", max_gap=0, min_duration=3)
    assert [(e.start, e.end) for e in strict.itertuples()] == [(t[3], t[10]), (t[20], t[22])]
    # the isolated 12 and 14 hours (1 h each, split by the missing 13) are dropped
    short, _ = detect_episodes(_hourly(a), resolution="hour", max_gap=0, min_duration=1)
    assert [(e.start, e.end) for e in short.itertuples()] == [(t[3], t[10]), (t[12], t[12]), (t[14], t[14]), (t[20], t[22])]


def test_any_unit_episode_and_onset_order():
    a = np.full(24, 60.0)
    b = np.full(24, 60.0)
    a[5:15] = [120, 130, 160, 210, 220, 200, 180, 150, 120, 110]
    b[7:17] = [110, 140, 155, 170, 201, 190, 160, 130, 120, 105]
    t = pd.date_range("2022-01-01 01:00", periods=24, freq="h", tz=TZ)
    episodes, onsets = detect_episodes(_hourly(a, b), resolution="hour")
    ep = episodes.iloc[0]
    assert ep["start"] == t[5] and ep["end"] == t[16] and ep["duration"] == 12
    assert ep["units_affected"] == "A;B" and ep["peak_unit"] == "A" and ep["peak_aqi"] == 220
    on = onsets.set_index("unit")
    assert on.loc["A", "rank"] == 1 and on.loc["B", "rank"] == 2
    assert on.loc["A", "first_150"] == t[7] and on.loc["A", "first_200"] == t[8]
    assert on.loc["B", "first_100"] == t[7] and on.loc["B", "first_200"] == t[11]
    per_unit, _ = detect_episodes(_hourly(a, b), resolution="hour", by="station")
    assert per_unit["station"].tolist() == ["A", "B"] and per_unit["duration"].tolist() == [10, 10]


def test_no_episode_and_bad_options():
    episodes, onsets = detect_episodes(_hourly(np.full(10, 50.0)), resolution="hour")
    assert episodes.empty and onsets.empty and "peak_aqi" in episodes.columns
    with pytest.raises(InputError, match="resolution"):
        detect_episodes(_hourly(np.full(10, 50.0)), resolution="week")
    with pytest.raises(InputError, match="date"):
        detect_episodes(_hourly(np.full(10, 50.0)), resolution="day")


def test_ties_and_row_order():
    """Hand-built ties: the peak is the earliest of equal maxima (then the first row), units exceeding at
    the same hour share a rank, tied primary pollutants are listed sorted, and shuffling rows changes nothing."""
    t = pd.date_range("2022-01-01 01:00", periods=10, freq="h", tz=TZ)
    a = [60, 120, 180, 180, 130, 110, 60, 60, 60, 60]
    b = [60, 150, 170, 180, 180, 120, 60, 60, 60, 60]
    c = [60, 60, 60, 101, 60, 60, 60, 60, 60, 60]
    frame = pd.DataFrame({"station": np.repeat(["B", "A", "C"], 10), "time": np.tile(t, 3),
                          "aqi": np.r_[b, a, c].astype(float)})
    frame["primary_pollutants"] = np.where(frame["aqi"] > 100, "pm10", "")
    frame.loc[(frame["station"] == "A") & (frame["aqi"] > 100), "primary_pollutants"] = "pm25"
    frame.loc[(frame["station"] == "C") & (frame["aqi"] > 100), "primary_pollutants"] = "o3;pm25"
    episodes, onsets = detect_episodes(frame, resolution="hour", min_duration=1)
    ep = episodes.iloc[0]
    assert len(episodes) == 1 and (ep["start"], ep["end"], ep["n_exceeding"]) == (t[1], t[5], 5)
    # 180 at t[2] (A) and t[3] (A, B), t[4] (B): the earliest wins
    assert (ep["peak_aqi"], ep["peak_unit"], ep["peak_time"]) == (180, "A", t[2])
    # pm10 (B) 5 unit-hours, pm25 (A 5 + C 1) 6, o3 1
    assert ep["primary_pollutants"] == "pm25"
    # B and A both exceed first at t[1]: rank 1 each (listed by name), C at t[3]: rank 3
    assert onsets[["unit", "rank"]].values.tolist() == [["A", 1], ["B", 1], ["C", 3]]
    assert ep["units_affected"] == "B;A;C" and ep["n_units"] == 3  # first exceedance, then row order
    assert onsets.set_index("unit").loc["B", "first_150"] == t[2] and pd.isna(onsets.set_index("unit").loc["C", "first_150"])
    shuffled = detect_episodes(frame.sample(frac=1, random_state=3).sort_values("station", kind="stable"),
                               resolution="hour", min_duration=1)
    pd.testing.assert_frame_equal(shuffled.onsets, onsets)
    pd.testing.assert_frame_equal(shuffled.episodes.drop(columns="units_affected"), episodes.drop(columns="units_affected"))
    tie = frame.assign(primary_pollutants=np.where(frame["aqi"] > 100, np.where(frame["station"] == "B", "pm10", "o3"), ""))
    tie.loc[(tie["station"] == "C"), "primary_pollutants"] = ""
    assert detect_episodes(tie, resolution="hour", min_duration=1).episodes.iloc[0]["primary_pollutants"] == "o3;pm10"


def test_episodes_per_unit_with_interleaved_groups():
    t = pd.date_range("2022-01-01 01:00", periods=12, freq="h", tz=TZ)
    rows = []
    for k, tt in enumerate(t):  # rows ordered by time, units interleaved
        rows.append({"station": "X", "time": tt, "aqi": 130.0 if 2 <= k <= 8 else 50.0})
        rows.append({"station": "Y", "time": tt, "aqi": 160.0 if k in (0, 1, 5, 6, 7, 11) else 50.0})
    frame = pd.DataFrame(rows).assign(primary_pollutants=lambda d: np.where(d["aqi"] > 50, "pm25", ""))
    episodes, onsets = detect_episodes(frame, resolution="hour", by="station", max_gap=0, min_duration=2)
    got = [(e.station, e.start, e.end, e.duration) for e in episodes.itertuples()]
    assert got == [("Y", t[0], t[1], 2), ("X", t[2], t[8], 7), ("Y", t[5], t[7], 3)]
    assert episodes["episode_id"].tolist() == [1, 2, 3] and onsets["episode_id"].tolist() == [1, 2, 3]
    assert (onsets["rank"] == 1).all() and onsets["unit"].tolist() == ["Y", "X", "Y"]
