"""Latest-hour analysis: unit KPIs, station table, running daily AQI — checked against pandas and published AQIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from regionair.analysis.latest import station_latest, unit_hourly, unit_kpis, worst_stations
from regionair.core import aqi, region
from regionair.core.nomenclature import POLLUTANTS, TZ
from regionair.errors import InputError

AT = pd.Timestamp("2022-01-02 00:00", tz=TZ)


def _evaluation_stations(unit: str) -> list[str]:
    st = region.stations()
    return list(st.loc[(st["jurisdiction"] == unit) & ~st["background"], "code"])


def _hand_unit_row(frame: pd.DataFrame, unit: str, t: pd.Timestamp) -> pd.DataFrame:
    rows = frame.loc[frame["station"].isin(_evaluation_stations(unit)) & (frame["time"] == t)]
    means = rows[list(POLLUTANTS)].mean()
    return pd.DataFrame([{"station": unit, "time": t, **means.to_dict()}])


def test_unit_kpis_urumqi_equals_aqi_of_station_mean(cnemc_2022_region):
    kpis = unit_kpis(cnemc_2022_region, at=AT).set_index("station")
    hand = aqi.hourly_aqi(_hand_unit_row(cnemc_2022_region, "urumqi", AT)).iloc[0]
    hand_prev = aqi.hourly_aqi(_hand_unit_row(cnemc_2022_region, "urumqi", AT - pd.Timedelta(hours=1))).iloc[0]
    row = kpis.loc["urumqi"]
    assert row["aqi"] == hand["aqi"] == 143
    assert row["primary_pollutants"] == hand["primary_pollutants"] == "pm25"
    assert row["pm25"] == pytest.approx(109.4)
    assert row["aqi_change"] == hand["aqi"] - hand_prev["aqi"] == -4
    assert row["n_stations"] == 10
    assert row["hours_since"] == 0 and row["time"] == AT
    assert row["category"] == "轻度污染"


def test_unit_kpis_running_day_complete_equals_daily_aqi(cnemc_2022_region):
    kpis = unit_kpis(cnemc_2022_region, at=AT).set_index("station")
    daily = aqi.daily_aqi(region.aggregate(cnemc_2022_region))
    daily = daily.loc[daily["date"] == pd.Timestamp("2022-01-01").date()].set_index("station")
    for unit in daily.index:
        assert kpis.loc[unit, "day_aqi"] == daily.loc[unit, "aqi"], unit
        assert kpis.loc[unit, "day_hours"] == 24
    assert kpis.loc["wujiaqu", "day_aqi"] == 329
    assert kpis.loc["urumqi", "day_date"] == pd.Timestamp("2022-01-01").date()
    assert kpis["provisional"].all()


def test_unit_kpis_running_day_partial_hand_computed(cnemc_2022_region):
    at = pd.Timestamp("2022-01-02 06:00", tz=TZ)
    kpis = unit_kpis(cnemc_2022_region, at=at).set_index("station")
    units = region.aggregate(cnemc_2022_region)
    win = units.loc[(units["station"] == "shihezi") & (units["time"] > AT) & (units["time"] <= at)]
    assert len(win) == 6
    iaqis = [aqi.iaqi(p, win[p].mean(), averaging="24h", edition="2012") for p in ("pm25", "pm10", "so2", "no2", "co")]
    iaqis.append(aqi.iaqi("o3", win["o3"].max(), averaging="1h", edition="2012"))  # no 8-h window before 08:00
    row = kpis.loc["shihezi"]
    assert row["day_hours"] == 6
    assert row["day_aqi"] == max(iaqis)
    assert row["day_date"] == pd.Timestamp("2022-01-02").date()


def test_unit_kpis_lists_jurisdictions_without_stations(cnemc_2022_region):
    kpis = unit_kpis(cnemc_2022_region, at=AT)
    assert list(kpis["order"]) == sorted(kpis["order"])
    no_station = set(kpis.loc[kpis["no_station"], "station"])
    assert no_station == {"changji-hitech", "changji-agripark", "fukang", "hutubi", "manas", "div12"}
    assert kpis.loc[kpis["no_station"], "aqi"].isna().all()
    assert "shawan" not in set(kpis["station"])  # not a member by default
    assert kpis.loc[~kpis["no_station"], "aqi"].notna().all()


def test_unit_kpis_side_and_region_levels(cnemc_2022_region):
    side = unit_kpis(cnemc_2022_region, at=AT, level="side")
    assert list(side["station"]) == ["side:local", "side:corps"]
    assert list(side["name_zh"]) == ["地方", "兵团"]
    reg = unit_kpis(cnemc_2022_region, at=AT, level="region")
    assert reg["station"].tolist() == ["region"] and reg["n_stations"].iloc[0] == 17
    with pytest.raises(InputError, match="level"):
        unit_kpis(cnemc_2022_region, level="county")


def test_unit_hourly_matches_aggregate_then_hourly_aqi(cnemc_2022_region):
    uh = unit_hourly(cnemc_2022_region)
    hand = aqi.hourly_aqi(_hand_unit_row(cnemc_2022_region, "changji", AT)).iloc[0]
    row = uh.loc[(uh["station"] == "changji") & (uh["time"] == AT)].iloc[0]
    assert row["aqi"] == hand["aqi"] and row["n_pm25"] == 2
    assert {"iaqi_pm25", "primary_pollutants", "category", "edition"} <= set(uh.columns)


def test_station_latest_reproduces_published_aqi(cnemc_2022_region):
    frame = cnemc_2022_region
    latest = station_latest(frame, at=AT)
    assert len(latest) == 19 and (latest["time"] == AT).all() and (latest["hours_since"] == 0).all()
    pub = frame.loc[frame["time"] == AT].set_index("station")["published_aqi"]
    got = latest.set_index("station")["aqi"]
    ok = pub.notna()
    assert ok.sum() >= 15
    np.testing.assert_array_equal(got[pub.index[ok]].to_numpy(), pub[ok].to_numpy())
    assert latest["aqi"].is_monotonic_decreasing
    row = latest.set_index("station").loc["3441A"]
    assert row["aqi"] == 437 and row["primary_pollutants"] == "pm10" and row["jurisdiction"] == "wujiaqu"
    assert row["side"] == "兵团" and not row["background"]
    assert latest.set_index("station").loc["1492A", "background"]


def test_station_latest_moving_means_and_change(cnemc_2022_region):
    frame = cnemc_2022_region
    latest = station_latest(frame, at=AT).set_index("station")
    s = frame.loc[frame["station"] == "1490A"].set_index("time")
    window = s.loc[AT - pd.Timedelta(hours=23):AT]
    assert len(window) == 24
    assert latest.loc["1490A", "pm25_24h"] == pytest.approx(window["pm25"].mean())
    assert latest.loc["1490A", "o3_8h"] == pytest.approx(window["o3"].iloc[-8:].mean())
    prev = aqi.hourly_aqi(frame.loc[(frame["station"] == "1490A") & (frame["time"] == AT - pd.Timedelta(hours=1))])
    assert latest.loc["1490A", "aqi_change"] == latest.loc["1490A", "aqi"] - prev["aqi"].iloc[0]


def test_station_latest_staleness_and_flags(cnemc_2022_region):
    frame = cnemc_2022_region
    late = frame["time"] > AT - pd.Timedelta(hours=3)
    cut = frame.loc[(frame["time"] <= AT) & ~((frame["station"] == "2711A") & late)].copy()
    cut.loc[(cut["station"] == "1490A") & (cut["time"] == AT), "pm10"] = 50.0  # below PM2.5 (135)
    cut.loc[(cut["station"] == "1491A") & (cut["time"] == AT), "so2"] = np.nan
    latest = station_latest(cut, at=AT).set_index("station")
    assert latest.loc["2711A", "hours_since"] == 3
    assert latest.loc["2711A", "time"] == AT - pd.Timedelta(hours=3)
    assert latest.loc["1490A", "pm25_gt_pm10"] and latest.loc["1490A", "flags"] == "pm25>pm10"
    assert latest.loc["1491A", "flags"] == "missing:so2" and not latest.loc["1491A", "complete"]
    # 3440A really reported PM2.5 139 > PM10 119 at this hour
    assert set(latest.index[latest["pm25_gt_pm10"]]) == {"1490A", "3440A"}


def test_worst_stations(cnemc_2022_region):
    worst = worst_stations(cnemc_2022_region, at=AT, n=3)
    assert list(worst["rank"]) == [1, 2, 3]
    assert list(worst["station"]) == ["3441A", "2711A", "1496A"]
    assert list(worst["aqi"]) == [437, 340, 255]
    no_bg = worst_stations(cnemc_2022_region, at=AT, n=20, include_background=False)
    assert not no_bg["background"].any() and len(no_bg) == 17


def test_station_latest_2026_edition(cnemc_2026_03_10_region):
    latest = station_latest(cnemc_2026_03_10_region)
    assert (latest["edition"] == "2026").all()
    pub = cnemc_2026_03_10_region.loc[cnemc_2026_03_10_region["time"] == latest["time"].max()]
    pub = pub.set_index("station")["published_aqi"].dropna()
    got = latest.set_index("station")["aqi"]
    np.testing.assert_array_equal(got[pub.index].to_numpy(), pub.to_numpy())
