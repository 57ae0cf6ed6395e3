"""Ranking by composite index, validity rules, change vs a previous period, compliance."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from regionair.analysis.ranking import compliance, ranking
from regionair.core import aqi, region
from regionair.errors import InputError

COLS = {"pm25": 30.0, "pm10": 60.0, "so2": 10.0, "no2": 30.0, "co": 1.0, "o3_8h": 100.0, "aqi": 80.0}


def _daily(unit: str, start: str, end: str, **values) -> pd.DataFrame:
    dates = pd.date_range(start, end, freq="D").date
    return pd.DataFrame({"station": unit, "date": dates, **{**COLS, **values}})


def test_ranking_real_composite_index_by_hand(cnemc_2022_region):
    daily = aqi.daily_aqi(region.aggregate(cnemc_2022_region))
    r = ranking(daily).set_index("station")
    expected = {}
    for unit, d in daily.loc[daily["aqi"].notna()].groupby("station"):
        expected[unit] = (d["pm25"].mean() / 35 + d["pm10"].mean() / 70 + d["so2"].mean() / 60
                          + d["no2"].mean() / 40 + np.percentile(d["co"], 95) / 4
                          + np.percentile(d["o3_8h"], 90) / 160)
    for unit, value in expected.items():
        assert r.loc[unit, "composite_index"] == pytest.approx(value)
    order = sorted(expected, key=expected.get)
    assert [r.loc[u, "composite_rank"] for u in order] == [1, 2, 3, 4]
    assert list(ranking(daily)["station"]) == order == ["urumqi", "changji", "shihezi", "wujiaqu"]
    u = r.loc["urumqi"]
    assert (u["start"], u["end"]) == (dt.date(2022, 1, 1), dt.date(2022, 1, 3))  # 2021-12-31 has no AQI
    assert u["days_in_period"] == 3 and u["n_valid_days"] == 3 and u["capture"] == 100.0
    assert u["valid_statistic"] and u["good_share"] == 0.0 and u["exceedance_days"] == 3
    assert r.loc["wujiaqu", "heavy_days"] == 3 and r.loc["changji", "heavy_days"] == 1
    assert u["name_zh"] == "乌鲁木齐市" and u["composite_basis"] == "HJ663-2013" and u["basis_verified"]


def test_month_rule_pro_rata_and_full_month():
    full = _daily("A", "2022-01-01", "2022-01-31")
    r = ranking(full).iloc[0]
    assert r["valid_statistic"] and r["n_valid_days"] == 31
    short = full.copy()
    short.loc[short.index[:5], "pm25"] = np.nan  # 26 valid PM2.5 days
    r = ranking(short).iloc[0]
    assert not r["valid_statistic"] and r["n_valid_days"] == 26
    assert r["validity_reason"] == "2022-01: 26 valid days (pm25) < 27 required"
    assert r["capture"] == pytest.approx(100 * 26 / 31)


def test_month_rule_counts_to_period_limits():
    ten = _daily("A", "2022-01-01", "2022-01-10")  # ceil(27 × 10 / 31) = 9 needed
    ten.loc[ten.index[:1], "no2"] = np.nan  # 9 valid of 10: exactly the 9 required
    assert ranking(ten).iloc[0]["valid_statistic"]
    ten.loc[ten.index[:2], "no2"] = np.nan  # 8 valid
    r = ranking(ten).iloc[0]
    assert not r["valid_statistic"] and r["validity_reason"] == "2022-01: 8 valid days (no2) < 9 required"


def test_february_and_annual_rule():
    feb = _daily("A", "2022-02-01", "2022-02-28")
    feb.loc[feb.index[:3], "co"] = np.nan  # 25 valid: enough in February
    assert ranking(feb).iloc[0]["valid_statistic"]
    year = _daily("A", "2022-01-01", "2022-12-31")
    r = ranking(year).iloc[0]
    assert r["valid_statistic"] and r["validity_rule"].startswith("annual")
    # 27 in every month except February with 25 → 11 × 27 + 25 = 322 < 324: invalid on the annual count
    d = pd.to_datetime(pd.Series(year["date"]).astype(str))
    keep = d.dt.day <= np.where(d.dt.month == 2, 25, 27)
    r = ranking(year.loc[keep.to_numpy()], start="2022-01-01", end="2022-12-31").iloc[0]
    assert r["n_valid_days"] == 322 and not r["valid_statistic"]
    assert r["validity_reason"] == "322 valid days < 324 required for an annual statistic"


def test_previous_period_change():
    cur = pd.concat([_daily("A", "2022-01-01", "2022-01-31"), _daily("B", "2022-01-01", "2022-01-31", pm25=60.0)])
    prev = pd.concat([_daily("A", "2021-01-01", "2021-01-31", pm25=60.0),
                      _daily("B", "2021-01-01", "2021-01-31", pm25=60.0, aqi=120.0)])
    r = ranking(cur, start="2022-01-01", end="2022-01-31", previous=prev).set_index("station")
    assert r.loc["A", "prev_pm25_mean"] == 60.0 and r.loc["A", "pm25_mean_change_pct"] == pytest.approx(-50.0)
    assert r.loc["A", "composite_index_change"] == pytest.approx(-30 / 35)
    assert r.loc["B", "pm25_mean_change"] == 0.0
    assert r.loc["B", "good_share_change"] == 100.0 and r.loc["B", "exceedance_days_change"] == -31
    assert r.loc["A", "prev_start"] == dt.date(2021, 1, 1)
    assert r.loc["A", "composite_rank"] == 1


def test_ranking_bad_input():
    with pytest.raises(InputError, match="basis"):
        ranking(_daily("A", "2022-01-01", "2022-01-03"), basis="HJ663-1999")
    with pytest.raises(InputError, match="before"):
        ranking(_daily("A", "2022-01-01", "2022-01-03"), start="2022-01-03", end="2022-01-01")


def test_compliance_limits_by_basis():
    stats = pd.DataFrame({"station": ["A"], "end": [dt.date(2022, 12, 31)], "start": [dt.date(2022, 1, 1)],
                          "pm25_mean": [32.0], "pm25_p95": [70.0], "pm10_mean": [65.0], "pm10_p95": [151.0],
                          "so2_mean": [8.0], "so2_p98": [20.0], "no2_mean": [np.nan], "no2_p98": [70.0],
                          "co_mean": [1.0], "co_p95": [4.0], "o3_8h_mean": [100.0], "o3_8h_p90": [161.0]})
    c = compliance(stats).set_index("pollutant")
    assert (c["basis"] == "GB3095-2012").all() and c["label"].iloc[0].startswith("Evaluation over the selected period")
    assert c.loc["pm25", "compliant"] and c.loc["pm25", "mean_limit"] == 35 and c.loc["pm25", "percentile_limit"] == 75
    assert not c.loc["pm10", "compliant"] and c.loc["pm10", "mean_ok"] and not c.loc["pm10", "percentile_ok"]
    assert c.loc["co", "compliant"] and pd.isna(c.loc["co", "mean_ok"])  # 4.0 ≤ 4: at the limit is compliant
    assert not c.loc["o3_8h", "compliant"] and c.loc["o3_8h", "percentile"] == "p90"
    assert pd.isna(c.loc["no2", "compliant"])  # mean missing, percentile fine → unknown
    later = compliance(stats.assign(end=dt.date(2026, 6, 30))).set_index("pollutant")
    assert (later["basis"] == "GB3095-2026-transition").all()
    assert not later.loc["pm25", "compliant"] and later.loc["pm25", "mean_limit"] == 30
    with pytest.raises(InputError, match="basis"):
        compliance(stats.drop(columns=["end"]))
    grade_i = compliance(stats, basis="GB3095-2012", grade="I").set_index("pollutant")
    assert grade_i.loc["pm25", "mean_limit"] == 15
