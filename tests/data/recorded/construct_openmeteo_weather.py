"""Write the CONSTRUCTED Open-Meteo weather payloads used by the transport tests and the demo.

No network here: these are not downloaded data. The values are plausible for the Urumqi–Changji–
Shihezi plain and the Urumqi valley in winter/early spring (see README_openmeteo_weather.md) and are
generated deterministically (fixed seed), so re-running this script reproduces the files byte for byte.

    .venv/bin/python tests/data/recorded/construct_openmeteo_weather.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
#: (jurisdiction id, latitude, longitude) in request order — regionair.pipeline.ingest.representative_points()
#: at the time of writing (Nov 2026). scripts/load_recorded_weather.py uses the same list.
POINTS = [
    ("urumqi", 43.7819, 87.669), ("changji", 43.9909, 87.2623), ("fukang", 44.4067, 88.2633),
    ("hutubi", 44.2355, 86.7997), ("manas", 44.3685, 86.3038), ("wujiaqu", 44.122, 87.3829),
    ("shihezi", 44.2748, 86.0516), ("shawan", 44.3968, 85.5487),
]
ELEVATION = {"urumqi": 850.0, "changji": 577.0, "fukang": 460.0, "hutubi": 455.0, "manas": 470.0,
             "wujiaqu": 445.0, "shihezi": 448.0, "shawan": 410.0}
PERIODS = {
    "2022-01": ("2021-12-31T00:00", "2022-01-04T23:00", "winter"),
    "2026-03": ("2026-03-09T00:00", "2026-03-11T23:00", "spring"),
}


def _series(pid: str, times: pd.DatetimeIndex, season: str, rng: np.random.Generator) -> dict:
    n = len(times)
    hour = times.hour.to_numpy()  # Beijing time; local solar time is about 2 h earlier
    solar = (hour - 2) % 24
    day = (solar >= 12) & (solar <= 17)  # afternoon mixing
    valley = pid == "urumqi"
    if valley:  # southerly (SSE) downslope valley wind at night, weak NW up-valley wind in the afternoon
        wd = np.where(day, 315.0, 160.0) + rng.normal(0, 20, n)
        ws = np.where(day, 1.1, 1.6) * rng.lognormal(0, 0.45, n)
    else:  # plain north of the Tianshan: weak S/SSW mountain breeze at night, weak N–NW in the afternoon
        wd = np.where(day, 330.0, 195.0) + rng.normal(0, 30, n)
        ws = np.where(day, 1.2, 0.7) * rng.lognormal(0, 0.55, n)
    # frequent calms in the morning inversion (solar 05–10 h)
    morning = (solar >= 5) & (solar <= 10)
    ws = np.where(morning & (rng.random(n) < 0.6), rng.uniform(0.05, 0.45, n), ws)
    if season == "winter":
        # a weak westerly drift over the plain, 2022-01-02 12:00 – 2022-01-03 06:00
        west = (times >= pd.Timestamp("2022-01-02 12:00")) & (times <= pd.Timestamp("2022-01-03 06:00"))
        if not valley:
            wd = np.where(west, 275.0 + rng.normal(0, 15, n), wd)
            ws = np.where(west, 1.8 * rng.lognormal(0, 0.3, n), ws)
        blh = np.where(day, 320.0, 90.0) * rng.lognormal(0, 0.25, n)
        base_t = -19.0 if valley else -22.0
        temp = base_t + 6.0 * np.clip(np.sin((solar - 9) / 24 * 2 * np.pi), 0, None) + rng.normal(0, 0.8, n)
        rh = 84.0 - 8.0 * day + rng.normal(0, 2.0, n)
    else:
        # a cold front on 2026-03-10 afternoon: NW 4–7 m/s, then clearing
        front = (times >= pd.Timestamp("2026-03-10 14:00")) & (times <= pd.Timestamp("2026-03-10 23:00"))
        ws = ws * 1.5
        wd = np.where(front, 310.0 + rng.normal(0, 12, n), wd)
        ws = np.where(front, 5.0 * rng.lognormal(0, 0.2, n), ws)
        blh = np.where(day, 1100.0, 180.0) * rng.lognormal(0, 0.25, n)
        blh = np.where(front, 1400.0 * rng.lognormal(0, 0.15, n), blh)
        base_t = -3.0 if valley else -4.0
        temp = base_t + 9.0 * np.clip(np.sin((solar - 9) / 24 * 2 * np.pi), 0, None) + rng.normal(0, 1.0, n)
        temp = np.where(front, temp - 4.0, temp)
        rh = 62.0 - 15.0 * day + rng.normal(0, 4.0, n)
    return {
        "wind_speed_10m": [round(float(v), 2) for v in np.clip(ws, 0.0, 15.0)],
        "wind_direction_10m": [int(round(float(v))) % 360 for v in wd],
        "temperature_2m": [round(float(v), 1) for v in temp],
        "relative_humidity_2m": [int(round(float(v))) for v in np.clip(rh, 20, 100)],
        "boundary_layer_height": [int(round(float(v), -1)) for v in np.clip(blh, 30, 3000)],
    }


def build(start: str, end: str, season: str, seed: int) -> list[dict]:
    times = pd.date_range(start, end, freq="h")
    rng = np.random.default_rng(seed)
    out = []
    for pid, lat, lon in POINTS:
        hourly = {"time": [t.strftime("%Y-%m-%dT%H:%M") for t in times], **_series(pid, times, season, rng)}
        out.append({
            "latitude": round(round(lat / 0.05) * 0.05, 3),  # grid-cell centre, "a few km away" (sources.md §2)
            "longitude": round(round(lon / 0.05) * 0.05, 3),
            "generationtime_ms": 1.1,
            "utc_offset_seconds": 28800,
            "timezone": "Asia/Shanghai",
            "timezone_abbreviation": "CST",
            "elevation": ELEVATION[pid],
            "hourly_units": {"time": "iso8601", "wind_speed_10m": "m/s", "wind_direction_10m": "°",
                             "temperature_2m": "°C", "relative_humidity_2m": "%", "boundary_layer_height": "m"},
            "hourly": hourly,
        })
    return out


def main() -> None:
    for i, (name, (start, end, season)) in enumerate(sorted(PERIODS.items())):
        payload = build(start, end, season, seed=20220101 + i)
        path = HERE / f"openmeteo_weather_{name}.json"
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
