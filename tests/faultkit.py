"""Shared helpers of the reliability tests (faults, crashes, concurrency): small real data and subprocesses.

The hourly archive files are cut from the real CNEMC rows in ``tests/data`` (one file per
``timepoint``), so every fault test stores real values whose expected rows are known exactly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SOURCES = (DATA / "region_2022-01-01.csv", DATA / "region_2022-01-02_03.csv")

#: Environment of child processes: the repository importable, no proxies, quiet warnings.
CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore", "no_proxy": "*"}


@lru_cache(maxsize=1)
def _all_hours() -> tuple[tuple[pd.Timestamp, bytes], ...]:
    out: dict[str, list[str]] = {}
    header = None
    for path in SOURCES:
        lines = path.read_text(encoding="utf-8").splitlines()
        header = lines[0]
        for line in lines[1:]:
            if line.strip():
                out.setdefault(line.split(",", 1)[0], []).append(line)
    items = []
    for tp in sorted(out):
        body = "\n".join([header, *out[tp]]) + "\n"
        items.append((pd.Timestamp(tp).tz_localize("Asia/Shanghai"), body.encode("utf-8")))
    return tuple(items)


def hour_files(n: int = 48) -> list[tuple[pd.Timestamp, bytes]]:
    """The first ``n`` (≤ 73) hourly archive files from 2022-01-01 T00 on: (Beijing hour, CSV bytes)."""
    items = list(_all_hours())
    if n > len(items):
        raise ValueError(f"only {len(items)} hours of real rows in tests/data")
    return items[:n]


def archive_name(hour: pd.Timestamp) -> str:
    """Relative path of an hour in the archive layout: ``YYYY-MM-DD/YYYY-MM-DDTHH.csv``."""
    day = hour.strftime("%Y-%m-%d")
    return f"{day}/{day}T{hour:%H}.csv"


def write_archive_folder(folder: Path, n: int = 48) -> Path:
    """Write ``n`` hourly files into ``folder`` in the archive layout; returns ``folder``."""
    for hour, body in hour_files(n):
        p = folder / archive_name(hour)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)
    return folder


def expected_frame(n: int = 48) -> pd.DataFrame:
    """The canonical rows the first ``n`` files must produce in the store: station, time, pollutants."""
    from regionair.sources.cnemc_archive import parse_archive

    frames = [parse_archive(body, str(h)) for h, body in hour_files(n)]
    out = pd.concat(frames, ignore_index=True).drop_duplicates(["station", "time"], keep="last")
    return out[["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]].sort_values(
        ["station", "time"]).reset_index(drop=True)


def stored_frame(store) -> pd.DataFrame:
    got = store.hourly(columns=())
    got = got[["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]]
    got["time"] = got["time"].astype("datetime64[ns, Asia/Shanghai]")
    return got.sort_values(["station", "time"]).reset_index(drop=True)


def python(code: str, *args: str, **kw) -> subprocess.Popen:
    """Start ``python -c code args…`` (the project venv's interpreter) with pipes."""
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=CHILD_ENV, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
