"""The upload preview says how many published station-hours an upload would replace (issue 14 §7)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from regionair.core.nomenclature import TZ
from regionair.sources.cnemc_archive import read_archive
from regionair.store import Store
from regionair.views.data import published_overlap

ROOT = Path(__file__).resolve().parents[2]


def test_published_overlap_counts_station_hours_a_network_already_published(tmp_path):
    s = Store(tmp_path)
    frame = read_archive(ROOT / "data" / "sample")
    s.ingest_hourly(frame, source="cnemc-archive")
    t = pd.Timestamp("2022-01-02 14:00", tz=TZ)
    up = pd.DataFrame({"station": ["1490A", "1490A", "1491A", "9999Z"],
                       "time": [t, t + pd.Timedelta(hours=1), t, t],
                       "pm25": [150.0, 151.0, 152.0, 40.0]})
    assert published_overlap(s, up) == 3  # 9999Z is new; the other three were published
    s.ingest_hourly(up.assign(source="upload"), source="upload")
    assert published_overlap(s, up) == 3  # an earlier upload of the same hours is not a published value
    later = up.assign(time=pd.Timestamp("2030-01-01 01:00", tz=TZ))
    assert published_overlap(s, later) == 0
    assert published_overlap(s, up.iloc[:0]) == 0
