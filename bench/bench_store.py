"""Informal store benchmark: synthetic stations × years of hourly data, ingest and page queries.

    .venv/bin/python bench/bench_store.py [--stations 100] [--years 5] [--dir /tmp/regionair-bench]

Targets (issue text): 5 years × 100 stations queries ≤ 100 ms warm; a national year (16 M rows)
ingested in ≤ 120 s; re-ingest of unchanged data fast. The frame is time-major (as the archive
loaders produce it) and carries the usual provenance columns. Prints wall times; not a test.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from regionair.store import Store  # noqa: E402


def synthetic(stations: int, years: int, seed: int = 0) -> pd.DataFrame:
    times = pd.date_range("2021-01-01 01:00", periods=24 * 365 * years, freq="h", tz="Asia/Shanghai")
    codes = np.array([f"{1000 + i}A" for i in range(stations)])
    n = len(times) * stations
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "station": pd.array(np.tile(codes, len(times)), dtype="str"),
            "time": np.repeat(times.tz_convert("UTC").tz_localize(None).to_numpy(), stations),
            **{p: np.round(rng.gamma(2.0, 20.0, n), 1) for p in ("pm25", "pm10", "so2", "no2", "co", "o3")},
            "source": "cnemc-archive",
        }
    )
    df["time"] = df["time"].dt.tz_localize("UTC").dt.tz_convert("Asia/Shanghai")
    df.loc[rng.random(n) < 0.03, "pm25"] = np.nan
    df["published_aqi"] = np.round(df["pm10"] * 1.2)
    df["published_pm25_24h"] = np.round(df["pm25"] * 0.9)
    df["station_name"] = pd.array(np.tile([f"站点{i}" for i in range(stations)], len(times)), dtype="str")
    df["area"] = "乌鲁木齐市"
    df["longitude"] = np.tile(np.linspace(86.0, 88.0, stations), len(times))
    df["latitude"] = 44.0
    return df


def timed(label: str, fn, repeat: int = 1):
    fn_out = None
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn_out = fn()
        times.append(time.perf_counter() - t0)
    t = float(np.median(times))
    unit = f"{t * 1000:8.1f} ms" if t < 1 else f"{t:8.2f} s "
    rows = len(fn_out) if hasattr(fn_out, "__len__") else ""
    print(f"{label:<48} {unit}   {rows}")
    return fn_out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=100)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/regionair-bench")
    args = ap.parse_args()
    root = Path(args.dir)
    shutil.rmtree(root, ignore_errors=True)
    df = synthetic(args.stations, args.years)
    print(f"{len(df):,} station-hours ({args.stations} stations × {args.years} years)")
    store = Store(root)
    timed("ingest (new store)", lambda: store.ingest_hourly(df))
    timed("re-ingest, unchanged", lambda: store.ingest_hourly(df))
    last = df["time"].max()
    hour = df[df["time"] == last].assign(time=last + pd.Timedelta(hours=1))
    timed("ingest one new hour (all stations)", lambda: store.ingest_hourly(hour))
    timed("revise one hour (all stations)", lambda: store.ingest_hourly(hour.assign(pm10=hour["pm10"] + 1)))
    print(store.stats()[["kind", "files", "rows", "bytes"]].to_string(index=False))

    reader = Store(root)  # as the dashboard: a separate instance
    one = "1042A"
    y0, y1 = "2023-01-01 01:00", "2024-01-01 00:00"
    queries = [
        ("hourly: one station-year, all columns", lambda: reader.hourly(y0, y1, stations=one)),
        (
            "hourly: one station-year, PM2.5 only",
            lambda: reader.hourly(y0, y1, stations=one, pollutants="pm25", columns=()),
        ),
        ("hourly: all stations, one day", lambda: reader.hourly("2023-06-01 01:00", "2023-06-02 00:00")),
        (
            "hourly: all stations, one month",
            lambda: reader.hourly("2023-06-01 01:00", "2023-07-01 00:00", columns=()),
        ),
        ("latest()", reader.latest),
        ("latest_time()", reader.latest_time),
        (
            "coverage: 10 stations, one year",
            lambda: reader.coverage("2023-01-01", "2023-12-31", stations=[f"{1000 + i}A" for i in range(10)]),
        ),
        ("coverage: all stations, all years", reader.coverage),
    ]
    for label, fn in queries:
        fn()  # warm
        timed(label + " (warm)", fn, repeat=7)


if __name__ == "__main__":
    main()
