"""One value per station-hour (issue 14 §7): an uploaded value for a station-hour CNEMC also published
replaces it everywhere people read the data, and footers name the sources really shown."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from regionair.core.nomenclature import SOURCE_PRECEDENCE, TZ

ROOT = Path(__file__).resolve().parents[2]
AT = pd.Timestamp("2022-01-02 14:00", tz=TZ)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    path = tmp_path_factory.mktemp("sources_store")
    s = Store(path)
    frame = read_archive(ROOT / "data" / "sample")
    s.ingest_hourly(frame, source="cnemc-archive")
    row = frame[(frame["station"] == "1490A") & (frame["time"] == AT)].copy()
    assert len(row) == 1 and row["pm25"].iloc[0] != 150
    s.ingest_hourly(row.assign(pm25=150.0, source="upload"), source="upload")
    return path


def test_the_upload_wins_and_each_station_hour_appears_once(store_path):
    from regionair.store import Store

    both = Store(store_path).hourly(AT, AT, stations=["1490A"])
    assert sorted(both["source"]) == ["cnemc-archive", "upload"]  # the store keeps both
    one = Store(store_path).hourly(AT, AT, stations=["1490A"], prefer=SOURCE_PRECEDENCE)
    assert list(one["source"]) == ["upload"] and one["pm25"].iloc[0] == 150.0
    day = Store(store_path).hourly("2022-01-02 01:00", "2022-01-03 00:00", prefer=SOURCE_PRECEDENCE)
    assert not day.duplicated(["station", "time"]).any()


def test_footer_names_the_sources_shown(store_path, monkeypatch):
    monkeypatch.setenv("REGIONAIR_STORE", str(store_path))
    at = AppTest.from_file(str(ROOT / "pages" / "trends.py"), default_timeout=120)
    at.query_params.update(period="custom", start="2022-01-02", end="2022-01-02")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    import json

    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    notes = " ".join(a.get("text", "") for a in fig["layout"].get("annotations", []))
    assert "人工上传" in notes and "中国环境监测总站（历史归档）" in notes, notes
