"""Time averages, profiles, calendar, correlations and lead/lag — hand-computed cases and the real fixture."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from regionair.analysis.trends import (
    calendar_data,
    correlation_matrix,
    diurnal_profile,
    lead_lag,
    lead_lag_pairs,
    monthly_profile,
    pair_differences,
    peak_lag,
    time_average,
    weekday_profile,
)
from regionair.core import aqi, region
from regionair.core.averaging import daily_means
from regionair.core.nomenclature import TZ
from regionair.errors import InputError


def _hours(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="h", tz=TZ)


def _daily(values: dict[str, list]) -> pd.DataFrame:
    dates = [dt.date(2022, 1, 1), dt.date(2022, 1, 2), dt.date(2022, 1, 3), dt.date(2022, 2, 1)]
    return pd.DataFrame({"station": "A", "date": dates, **values})


def test_time_average_day_is_daily_means(cnemc_2022_region):
    got = time_average(cnemc_2022_region, avg_time="day")
    exp = daily_means(cnemc_2022_region)
    pd.testing.assert_frame_equal(got, exp.sort_values(["station", "date"]).reset_index(drop=True))


def test_time_average_day_by_unit_column(cnemc_2022_region):
    units = region.aggregate(cnemc_2022_region).rename(columns={"station": "jurisdiction"})
    got = time_average(units, avg_time="day", by="jurisdiction")
    row = got.loc[(got["jurisdiction"] == "urumqi") & (got["date"] == dt.date(2022, 1, 1))].iloc[0]
    u = units.loc[units["jurisdiction"] == "urumqi"].set_index("time")
    assert row["pm25"] == pytest.approx(u.loc["2022-01-01 01:00+08:00":"2022-01-02 00:00+08:00", "pm25"].mean())
    with pytest.raises(InputError, match="aggregate"):
        time_average(cnemc_2022_region.assign(j="x"), avg_time="day", by="j")


def test_time_average_month_hand_computed():
    daily = _daily({"pm25": [10.0, 20.0, np.nan, 40.0], "o3_8h": [100.0, 120.0, 110.0, np.nan]})
    got = time_average(daily, avg_time="month").set_index("month")
    assert got.loc["2022-01", "pm25"] == 15.0 and got.loc["2022-01", "n_days_pm25"] == 2
    assert got.loc["2022-02", "pm25"] == 40.0 and got.loc["2022-02", "n_days_pm25"] == 1
    assert got.loc["2022-01", "o3_8h"] == 110.0 and np.isnan(got.loc["2022-02", "o3_8h"])
    assert got.loc["2022-02", "days_in_month"] == 28
    strict = time_average(daily, avg_time="month", data_thresh=2).set_index("month")
    assert strict.loc["2022-01", "pm25"] == 15.0 and np.isnan(strict.loc["2022-02", "pm25"])
    mx = time_average(daily, avg_time="month", statistic="max").set_index("month")
    assert mx.loc["2022-01", "pm25"] == 20.0


@pytest.mark.parametrize("kwargs, match", [
    ({"avg_time": "week"}, "avg_time"),
    ({"statistic": "mode"}, "statistic"),
    ({"avg_time": "day", "statistic": "max"}, "statistic"),
    ({"avg_time": "day", "data_thresh": 18}, "data_thresh"),
])
def test_time_average_bad_options(cnemc_2022_01_01_region, kwargs, match):
    with pytest.raises(InputError, match=match):
        time_average(cnemc_2022_01_01_region, **kwargs)


def _cycle_frame() -> pd.DataFrame:
    t = _hours("2022-01-01 01:00", 72)  # natural days 01-01, 01-02, 01-03 (Sat, Sun, Mon)
    begin = (t - pd.Timedelta(hours=1))
    value = begin.hour + 10.0 * (np.arange(72) // 24)
    return pd.DataFrame({"station": "A", "time": t, "pm25": value})


def test_diurnal_profile_hour_beginning_and_ci():
    prof = diurnal_profile(_cycle_frame(), "pm25").set_index("hour")
    assert list(prof.index) == list(range(24))
    h0 = prof.loc[0]  # stamps 01:00 of each day: values 0, 10, 20
    assert h0["mean"] == 10.0 and h0["n"] == 3 and h0["sd"] == pytest.approx(10.0)
    assert h0["ci_low"] == pytest.approx(10.0 - 1.96 * 10.0 / np.sqrt(3), abs=1e-3)
    assert h0["ci_high"] == pytest.approx(10.0 + 1.96 * 10.0 / np.sqrt(3), abs=1e-3)
    assert prof.loc[23, "mean"] == 33.0  # stamps 00:00 of the next day
    solar = diurnal_profile(_cycle_frame(), "pm25", clock="solar").set_index("hour")
    assert solar.loc[22, "mean"] == 10.0  # Beijing 00:00–01:00 is 22:00–23:00 solar (−2 h)
    pooled = diurnal_profile(_cycle_frame(), "pm25", by=None)
    assert "station" not in pooled.columns and len(pooled) == 24


def test_weekday_and_monthly_profile_use_natural_day():
    frame = _cycle_frame()
    wk = weekday_profile(frame, "pm25").set_index("weekday")
    assert list(wk.index) == [0, 5, 6]  # Mon 01-03, Sat 01-01, Sun 01-02
    assert wk.loc[5, "n"] == 24 and wk.loc[5, "mean"] == pytest.approx(11.5)  # mean of 0..23
    assert wk.loc[0, "mean"] == pytest.approx(31.5) and wk.loc[0, "weekday_name"] == "Mon"
    mo = monthly_profile(frame, "pm25", by=None)
    assert mo["month"].tolist() == [1] and mo["n"].iloc[0] == 72


def test_calendar_data_fills_days_and_colours():
    daily = pd.DataFrame({"station": "A", "date": [dt.date(2022, 1, 1), dt.date(2022, 1, 3)],
                          "aqi": [45.0, 120.0], "primary_pollutants": ["", "pm25"]})
    cal = calendar_data(daily)
    assert cal["date"].tolist() == [dt.date(2022, 1, 1), dt.date(2022, 1, 2), dt.date(2022, 1, 3)]
    assert cal["colour"].tolist() == ["#00E400", "#BFBFBF", "#FF7E00"]
    assert cal["category"].tolist() == ["优", "", "轻度污染"]
    assert cal["weekday"].tolist() == [5, 6, 0]
    assert cal["week"].tolist() == [52, 52, 1] and cal["iso_year"].tolist() == [2021, 2021, 2022]


def test_correlation_matrix_pairwise_complete():
    t = _hours("2022-01-01 01:00", 10)
    a = np.array([1.0, 3, 2, 5, 4, 6, 8, 7, 9, 10])
    frame = pd.concat([
        pd.DataFrame({"station": "a", "time": t, "pm25": a}),
        pd.DataFrame({"station": "b", "time": t, "pm25": 2 * a + 1}),
        pd.DataFrame({"station": "c", "time": t, "pm25": np.where(np.arange(10) == 3, np.nan, -a)}),
    ])
    r = correlation_matrix(frame, "pm25")
    assert list(r.index) == ["a", "b", "c"]
    assert r.loc["a", "b"] == pytest.approx(1.0) and r.loc["a", "c"] == pytest.approx(-1.0)


def test_correlation_matrix_real_units(cnemc_2022_region):
    units = region.aggregate(cnemc_2022_region)
    r = correlation_matrix(units, "pm25")
    w = units.pivot(index="time", columns="station", values="pm25")
    assert r.loc["urumqi", "shihezi"] == pytest.approx(w["urumqi"].corr(w["shihezi"]))
    assert np.allclose(np.diag(r), 1.0)


def _lagged_pair(lag: int = 3, n: int = 400) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(42)
    t = _hours("2022-01-01 01:00", n)
    x = np.cumsum(rng.normal(size=n + lag)) + 100  # random walk: strongly autocorrelated levels
    a = pd.Series(x[lag:], index=t)
    b = pd.Series(x[:-lag] + rng.normal(scale=0.2, size=n), index=t)  # b(t) = a(t − lag) + noise
    return a, b


def test_lead_lag_recovers_known_lag():
    a, b = _lagged_pair(3)
    lag, r, n = peak_lag(a, b, max_lag=12)
    assert lag == 3 and r > 0.9 and n == 400 - 1 - 3
    assert peak_lag(b, a, max_lag=12)[0] == -3
    table = lead_lag(a, b, max_lag=12)
    assert table["lag"].tolist() == list(range(-12, 13))
    assert table.loc[table["lag"] == 0, "r"].iloc[0] < 0.3  # differenced: no spurious lag-0 peak


def test_lead_lag_gap_is_not_bridged():
    a, b = _lagged_pair(2, n=100)
    b = b.drop(b.index[50:60])  # absent hours are gaps on the hourly grid
    lag, _, n = peak_lag(a, b, max_lag=5)
    assert lag == 2
    assert n == 99 - 2 - 11  # 10 absent + 1 difference across the gap lost (shifted a covers the rest)


def test_lead_lag_bad_input():
    with pytest.raises(InputError, match="DatetimeIndex"):
        lead_lag(pd.Series([1.0, 2.0]), pd.Series([1.0, 2.0]))


def test_lead_lag_pairs_and_differences():
    a, b = _lagged_pair(3, n=200)
    frame = pd.concat([pd.DataFrame({"station": "up", "time": a.index, "pm25": a.to_numpy()}),
                       pd.DataFrame({"station": "down", "time": b.index, "pm25": b.to_numpy()})])
    pairs = pd.DataFrame({"a": ["down", "up"], "b": ["up", "nowhere"], "shared_border_km": [10.0, 5.0]})
    got = lead_lag_pairs(frame, pairs, "pm25", max_lag=6)
    assert got.loc[0, "lag"] == -3 and got.loc[0, "leader"] == "up" and got.loc[0, "shared_border_km"] == 10.0
    assert np.isnan(got.loc[1, "lag"]) and got.loc[1, "leader"] == ""
    diff = pair_differences(frame, [("up", "down")], "pm25")
    assert len(diff) == 200
    assert diff["difference"].to_numpy() == pytest.approx(a.to_numpy() - b.to_numpy())


def test_pair_differences_real(cnemc_2022_region):
    units = region.aggregate(cnemc_2022_region)
    pairs = region.neighbour_pairs()
    diff = pair_differences(units, pairs, "pm25")
    t = pd.Timestamp("2022-01-02 00:00", tz=TZ)
    row = diff.loc[(diff["a"] == "urumqi") & (diff["b"] == "changji") & (diff["time"] == t)].iloc[0]
    assert row["value_a"] == pytest.approx(109.4) and row["value_b"] == 171.0
    assert row["difference"] == pytest.approx(109.4 - 171.0)
    assert diff.loc[(diff["a"] == "hutubi") & (diff["b"] == "manas")].empty  # neither has a station
    one_sided = diff.loc[(diff["a"] == "changji") & (diff["b"] == "hutubi")]
    assert len(one_sided) == 73 and one_sided["difference"].isna().all()


def test_daily_aqi_calendar_real(cnemc_2022_region):
    daily = aqi.daily_aqi(region.aggregate(cnemc_2022_region))
    cal = calendar_data(daily).set_index(["station", "date"])
    assert cal.loc[("wujiaqu", dt.date(2022, 1, 1)), "colour"] == "#7E0023"  # AQI 329, 严重污染
    assert cal.loc[("urumqi", dt.date(2022, 1, 2)), "aqi"] == 134
