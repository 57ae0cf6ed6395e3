"""Moving means, daily means, MDA8 validity and HJ 663 statistics — published values and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from regionair.core.averaging import composite_index, daily_means, moving_means, percentile, period_stats
from regionair.core.nomenclature import TZ

PUBLISHED_PRECISION = {"pm25": 0.5, "pm10": 0.5, "so2": 0.5, "no2": 0.5, "co": 0.05}


@pytest.mark.parametrize("stamp", ["2022-01-01 23:00", "2022-01-02 00:00"])
def test_24h_moving_means_equal_published(cnemc_2022_01_01_region, stamp):
    frame = cnemc_2022_01_01_region
    mm = moving_means(frame)
    at = frame["time"] == pd.Timestamp(stamp, tz=TZ)
    rows = pd.concat([frame[at], mm[at]], axis=1)
    assert len(rows) == 19
    for p, tol in PUBLISHED_PRECISION.items():
        ok = rows[f"{p}_24h"].notna()
        # 1496A (米东区) was out T00–T11: only 11–13 valid hours, below the 20-hour rule → no value.
        assert set(rows.loc[~ok, "station"]) <= {"1496A"}, p
        diff = (rows.loc[ok, f"{p}_24h"] - rows.loc[ok, f"published_{p}_24h"]).abs()
        assert (diff <= tol + 1e-9).all(), rows.loc[ok & (diff > tol), ["station", f"{p}_24h", f"published_{p}_24h"]]
        assert ok.sum() == 18


def test_moving_mean_handles_absent_rows_as_gaps():
    times = pd.date_range("2022-01-01 01:00", periods=30, freq="h", tz=TZ)
    frame = pd.DataFrame({"station": "A", "time": times, "pm25": np.arange(30.0), "pm10": 1.0,
                          "so2": 1.0, "no2": 1.0, "co": 1.0, "o3": np.arange(30.0)})
    frame = frame.drop(index=[10, 11, 12, 13, 14])  # absent rows, not NaN
    mm = moving_means(frame)
    last = mm.iloc[-1]  # window stamps 6..29 (0-based) minus the 5 absent → 19 valid < 20
    assert np.isnan(last["pm25_24h"]) and last["n_pm25_24h"] == 19
    at23 = mm.loc[23]  # 0..23 minus 5 = 19 → invalid too
    assert np.isnan(at23["pm25_24h"])
    # O3 8-h at index 16: stamps 9..16, absent 10–14 → 3 valid < 6 → NaN; at 20: 13..20 → 6 valid
    assert np.isnan(mm.loc[16, "o3_8h"])
    assert mm.loc[20, "o3_8h"] == pytest.approx(np.mean([15, 16, 17, 18, 19, 20]))
    thresh = moving_means(frame, data_thresh=1)
    assert thresh.iloc[-1]["pm25_24h"] == pytest.approx(np.mean([x for x in range(6, 30) if x not in range(10, 15)]))


def test_daily_natural_day_and_mda8_rules():
    times = pd.date_range("2022-07-01 01:00", periods=24, freq="h", tz=TZ)  # natural day 07-01
    o3 = np.full(24, 100.0)
    o3[12:20] = 200.0  # stamps 13:00..20:00 → 8-h mean 200 at stamp 20:00
    frame = pd.DataFrame({"station": "A", "time": times, "pm25": 10.0, "pm10": 20.0, "so2": 5.0,
                          "no2": 30.0, "co": 0.5, "o3": o3})
    d = daily_means(frame)
    assert len(d) == 1 and str(d["date"].iloc[0]) == "2022-07-01"
    assert d["o3_8h"].iloc[0] == 200 and d["n_o3_8h"].iloc[0] == 17 and d["o3"].iloc[0] == 200
    # Fewer than 14 valid 8-h means: invalid unless above 160 (HJ 663 §6.1.2)
    low = frame.copy()
    low["o3"] = 100.0
    low.loc[:9, "o3"] = np.nan  # hours stamped 01..10 missing → 8-h windows valid from stamp 16:00? see counts
    d2 = daily_means(low)
    assert d2["n_o3_8h"].iloc[0] < 14 and np.isnan(d2["o3_8h"].iloc[0])
    high = low.copy()
    high.loc[16:23, "o3"] = 300.0
    d3 = daily_means(high)
    assert d3["n_o3_8h"].iloc[0] < 14 and d3["o3_8h"].iloc[0] == 300.0


def test_daily_the_midnight_stamp_belongs_to_previous_day():
    times = pd.DatetimeIndex(["2022-01-01 00:00", "2022-01-01 01:00"]).tz_localize(TZ)
    frame = pd.DataFrame({"station": "A", "time": times, "pm25": [10.0, 20.0], "pm10": np.nan, "so2": np.nan,
                          "no2": np.nan, "co": np.nan, "o3": np.nan})
    d = daily_means(frame)
    assert [str(x) for x in d["date"]] == ["2021-12-31", "2022-01-01"]
    assert list(d["n_pm25"]) == [1, 1]


def test_percentile_hj663_example():
    # standards.md §4.2: {3,4,8,2,5,4}, p=90 → 6.5
    assert percentile([3, 4, 8, 2, 5, 4], 90) == 6.5
    assert percentile([np.nan, 1.0], 50) == 1.0
    assert np.isnan(percentile([], 90))


def test_period_stats_and_composite_index():
    # standards.md §4.3 worked example: 21/35 + 39/70 + 9/60 + 15/40 + 192/160 + 0.7/4 = 3.06
    stats = pd.DataFrame([{"station": "X", "pm25_mean": 21, "pm10_mean": 39, "so2_mean": 9, "no2_mean": 15,
                           "o3_8h_p90": 192, "co_p95": 0.7}])
    ci = composite_index(stats)
    assert ci["composite_index"].iloc[0] == pytest.approx(3.06, abs=0.005)
    assert ci["composite_rank"].iloc[0] == 1 and ci["composite_basis"].iloc[0] == "HJ663-2013"
    w = composite_index(stats, basis="HJ663-2026-unverified")
    assert w["composite_index"].iloc[0] == pytest.approx(3 * 21 / 30 + 39 / 60 + 9 / 60 + 2 * 15 / 40 + 2 * 192 / 160 + 0.7 / 4)


def test_period_stats_good_share(cnemc_2022_region):
    from regionair.core.aqi import daily_aqi

    d = daily_aqi(cnemc_2022_region)
    st = period_stats(d, by="station")
    row = st.set_index("station").loc["1490A"]
    sub = d[(d.station == "1490A") & d.aqi.notna()]
    assert row["n_days"] == len(sub)
    assert row["good_days"] == (sub.aqi <= 100).sum()
    assert row["pm25_p95"] == pytest.approx(np.percentile(sub.pm25.dropna(), 95))
    assert sum(row[f"days_level_{i}"] for i in range(1, 7)) == row["n_days"]
