"""Primary-pollutant shares, exceedance days, ties and the episode stack — hand-counted cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from regionair.analysis.primary import exceedance_days, primary_shares, primary_through_episode, tie_hours
from regionair.core import aqi, region
from regionair.core.nomenclature import TZ
from regionair.errors import InputError


def _hourly_result() -> pd.DataFrame:
    """Station A: 6 hours across a month boundary; station B: 2 hours."""
    t = pd.to_datetime(["2022-01-31 22:00", "2022-01-31 23:00", "2022-02-01 00:00", "2022-02-01 01:00",
                        "2022-02-01 02:00", "2022-02-01 03:00", "2022-01-31 22:00", "2022-01-31 23:00"]).tz_localize(TZ)
    return pd.DataFrame({
        "station": ["A"] * 6 + ["B"] * 2,
        "time": t,
        "aqi": [40.0, 80, 120, 60, np.nan, 77, 55, 30],
        "primary_pollutants": ["", "pm25", "pm10;pm25", "o3", "", "pm25", "no2", ""],
        "iaqi_pm25": [40.0, 80, 120, 10, np.nan, 77, 20, 30],
        "iaqi_pm10": [30.0, 50, 120, 10, np.nan, 60, 20, 10],
        "iaqi_o3": [5.0, 5, 5, 60, np.nan, 5, 5, 5],
        "iaqi_no2": [5.0, 5, 5, 5, np.nan, 5, 55, 5],
        "category": "",
    })


def test_primary_shares_hand_counted():
    got = primary_shares(_hourly_result()).set_index(["station", "pollutant"])
    # A: hours with AQI > 50 → 80 (pm25), 120 (pm10 + pm25 tie), 60 (o3), 77 (pm25): n = 4
    assert got.loc[("A", "pm25"), "count"] == 3 and got.loc[("A", "pm25"), "n"] == 4
    assert got.loc[("A", "pm25"), "share"] == pytest.approx(75.0)
    assert got.loc[("A", "pm10"), "share"] == pytest.approx(25.0) and got.loc[("A", "pm10"), "n_ties"] == 1
    assert got.loc[("A", "o3"), "count"] == 1 and got.loc[("A", "no2"), "count"] == 0
    assert got.loc[("A", "pm25"), "n_ties"] == 1
    assert got.xs("A")["share"].sum() == pytest.approx(125.0)  # ties count for each tied pollutant
    assert got.loc[("B", "no2"), "share"] == 100.0 and got.loc[("B", "no2"), "n"] == 1


def test_primary_shares_by_month_uses_natural_day():
    got = primary_shares(_hourly_result(), by="station", freq="M").set_index(["station", "period", "pollutant"])
    # the 2022-02-01 00:00 stamp ends 31 January → January
    assert got.loc[("A", "2022-01", "pm25"), "count"] == 2 and got.loc[("A", "2022-01", "pm25"), "n"] == 2
    assert got.loc[("A", "2022-02", "o3"), "count"] == 1 and got.loc[("A", "2022-02", "pm25"), "count"] == 1
    assert got.loc[("A", "2022-02", "pm25"), "n"] == 2
    pooled = primary_shares(_hourly_result(), by=None).set_index("pollutant")
    assert pooled.loc["pm25", "n"] == 5 and pooled.loc["pm25", "count"] == 3


def test_primary_shares_daily_and_real(cnemc_2022_region):
    hourly = aqi.hourly_aqi(region.aggregate(cnemc_2022_region))
    got = primary_shares(hourly).set_index(["station", "pollutant"])
    w = hourly.loc[hourly["station"] == "wujiaqu"]
    n = int((w["aqi"] > 50).sum())
    pm10 = int(w["primary_pollutants"].str.contains("pm10").sum())
    assert got.loc[("wujiaqu", "pm10"), "n"] == n == 73
    assert got.loc[("wujiaqu", "pm10"), "count"] == pm10 == 27
    daily = aqi.daily_aqi(region.aggregate(cnemc_2022_region))
    d = primary_shares(daily, unit="day").set_index(["station", "pollutant"])
    assert d.loc[("wujiaqu", "pm10"), "count"] == 1 and d.loc[("wujiaqu", "pm25"), "count"] == 2
    assert d.loc[("wujiaqu", "pm25"), "n"] == 3
    with pytest.raises(InputError, match="unit"):
        primary_shares(daily, unit="week")
    with pytest.raises(InputError):
        primary_shares(daily, unit="hour")  # daily result has no time column


def test_exceedance_days_hand_counted():
    daily = pd.DataFrame({
        "station": ["A", "A", "A", "B"],
        "date": [dt.date(2026, 2, 27), dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2022, 1, 1)],
        "aqi": [150.0, 100, 101, np.nan],
        "iaqi_pm25": [150.0, 90, 101, np.nan],
        "iaqi_pm10": [101.0, 100, 50, np.nan],
        "edition": ["2012", "2012", "2026", "2012"],
        "primary_pollutants": ["pm25", "pm10", "pm25", ""],
    })
    got = exceedance_days(daily).set_index(["station", "pollutant"])
    assert got.loc[("A", "pm25"), "exceedance_days"] == 2
    assert got.loc[("A", "pm10"), "exceedance_days"] == 1  # IAQI 100 is not > 100
    assert got.loc[("A", "pm25"), "n_days"] == 3 and got.loc[("A", "pm25"), "derived"]
    assert got.loc[("B", "pm25"), "n_days"] == 0 and np.isnan(got.loc[("B", "pm25"), "share"])
    assert not got.loc[("B", "pm25"), "derived"]


def test_tie_hours():
    ties = tie_hours(_hourly_result())
    assert ties.index.tolist() == [2] and ties["n_primary"].tolist() == [2]


def test_tie_hours_real(cnemc_2022_region):
    ties = tie_hours(aqi.hourly_aqi(cnemc_2022_region))
    got = set(zip(ties["station"], ties["time"].dt.strftime("%m-%d %H")))
    assert got == {("3439A", "01-02 09"), ("3440A", "01-02 12"), ("1491A", "01-03 00")}
    assert (ties["primary_pollutants"] == "pm10;pm25").all()


def test_primary_through_episode_weights():
    res = _hourly_result()
    got = primary_through_episode(res, "2022-01-31 23:00", "2022-02-01 02:00")
    a = got.loc[got["station"] == "A"]
    assert a["pollutant"].tolist() == ["pm25", "pm10", "pm25", "o3", "missing"]
    assert a.groupby("time")["weight"].sum().tolist() == [1.0, 1.0, 1.0, 1.0]
    tie = a.loc[a["time"] == pd.Timestamp("2022-02-01 00:00", tz=TZ)]
    assert tie["iaqi"].tolist() == [120.0, 120.0] and tie["n_primary"].tolist() == [2, 2]
    b = got.loc[got["station"] == "B"]
    assert b["pollutant"].tolist() == ["none"]  # AQI 30 at 23:00
