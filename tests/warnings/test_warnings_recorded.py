"""Warning levels from a forecast in Open-Meteo's recorded response format follow the configured scheme."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from regionair.sources.openmeteo import parse_air_quality
from regionair.warnings.desk import warnings_report
from tests.conftest import DATA

RECORDED = DATA / "recorded" / "openmeteo" / "air_quality_one_point.json"


def _forecast(pm25: float, hours: int = 72) -> pd.DataFrame:
    """The recorded one-point response, re-timed to 2022-01-04 01:00 … and given a constant PM2.5 [µg/m³]."""
    payload = json.loads(RECORDED.read_text(encoding="utf-8"))
    item = payload[0] if isinstance(payload, list) else payload
    times = pd.date_range("2022-01-04 01:00", periods=hours, freq="h")
    hourly = {"time": [t.strftime("%Y-%m-%dT%H:%M") for t in times]}
    for var in item["hourly"]:
        if var != "time":
            hourly[var] = [None] * hours
    hourly["pm2_5"] = [pm25] * hours
    hourly["pm10"] = [pm25 * 1.3] * hours
    item = {**item, "hourly": hourly}
    run = pd.Timestamp("2022-01-03 20:00", tz="Asia/Shanghai")
    return parse_air_quality(item, [("urumqi", 43.83, 87.6)], run_time=run)


@pytest.mark.parametrize("scheme, expected", [
    ("national-2024-reconstructed", "orange"),  # > 200 on ≥ 2 days (no day > 300 → not red)
    ("national-2018", "yellow"),  # > 200 on ≥ 2 days; orange also needs a day > 300
])
def test_forecast_level_follows_the_scheme(cnemc_2022_region, scheme, expected):
    # PM2.5 170 µg/m³ for 72 h → 24-h mean IAQI (2012) = 200 + 100·(170−150)/100 = 220 every day
    forecast = _forecast(170.0)
    at = pd.Timestamp("2022-01-04 00:00", tz="Asia/Shanghai")
    report = warnings_report(cnemc_2022_region, at=at, forecast=forecast, scheme=scheme, method="none")
    levels = report["forecast_levels"].set_index("jurisdiction")
    assert levels.loc["urumqi", "level"] == expected
    assert levels.loc["urumqi", "max_aqi_24h"] == pytest.approx(220, abs=1)


def test_clean_forecast_gives_no_warning(cnemc_2022_region):
    forecast = _forecast(20.0)
    at = pd.Timestamp("2022-01-04 00:00", tz="Asia/Shanghai")
    report = warnings_report(cnemc_2022_region, at=at, forecast=forecast, method="none")
    lv = report["forecast_levels"].set_index("jurisdiction")
    assert lv.loc["urumqi", "level"] in ("none", "") or not bool(lv.loc["urumqi", "warning"])
