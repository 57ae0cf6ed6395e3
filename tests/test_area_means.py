"""Store.area_means (averaging pushed into DuckDB) equals region.aggregate on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from regionair import region
from regionair.nomenclature import POLLUTANTS
from regionair.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory, cnemc_2022_region, cnemc_2026_03_10_region):
    s = Store(tmp_path_factory.mktemp("area") / "store")
    s.ingest_hourly(pd.concat([cnemc_2022_region, cnemc_2026_03_10_region]), source="cnemc-archive")
    return s


@pytest.mark.parametrize("level", ["jurisdiction", "side", "region"])
def test_area_means_equal_aggregate(store, level):
    hourly = store.hourly(columns=())
    expected = region.aggregate(hourly, level=level)
    got = store.area_means(unit_of=region.unit_map(level))
    key = ["station", "time"]
    e = expected.sort_values(key).reset_index(drop=True)
    g = got.sort_values(key).reset_index(drop=True)
    assert list(g["station"]) == list(e["station"]) and (g["time"] == e["time"]).all()
    for p in POLLUTANTS:
        np.testing.assert_allclose(g[p].to_numpy(), e[p].to_numpy(), rtol=1e-12, equal_nan=True)
        assert (g[f"n_{p}"] == e[f"n_{p}"]).all()


def test_background_stations_are_left_out_and_a_duplicate_source_counts_once(store, cnemc_2022_region):
    m = region.unit_map("jurisdiction")
    assert "1492A" not in m and "2690A" not in m  # 对照点
    assert m["4168A"] == "wujiaqu" and m["1490A"] == "urumqi"
    before = store.area_means("2022-01-01 10:00", "2022-01-01 10:00", unit_of=m)
    copy = cnemc_2022_region[cnemc_2022_region["time"] == pd.Timestamp("2022-01-01 10:00", tz="Asia/Shanghai")]
    store.ingest_hourly(copy.assign(source="upload"), source="upload")
    after = store.area_means("2022-01-01 10:00", "2022-01-01 10:00", unit_of=m)
    pd.testing.assert_frame_equal(before, after)
