"""Store.area_means (averaging pushed into DuckDB) equals region.aggregate on the same rows, and its
derived per-month files (store.py, "Derived results") give exactly what a direct computation gives."""

from __future__ import annotations

import errno
import os
import shutil
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from regionair import store as store_mod
from regionair.core import region
from regionair.core.nomenclature import POLLUTANTS
from regionair.store import Store
from tests.store.test_store import read_only

DERIVED = store_mod.DERIVED_DIR


def derived_files(root) -> list:
    return sorted((root / DERIVED).glob("*/month=*/*.arrow"))


def read_arrow(path) -> pa.Table:
    return pa.ipc.open_file(pa.py_buffer(path.read_bytes())).read_all()


def tree(root) -> dict:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")}


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


# ------------------------------------------------------------------------------------- derived files
def assert_same(got: pd.DataFrame, direct: pd.DataFrame) -> None:
    """Same rows, order and dtypes; means equal to DuckDB's summation noise, counts exactly."""
    pd.testing.assert_frame_equal(got, direct, check_exact=False, rtol=1e-12, atol=0)


@pytest.mark.parametrize("level", ["jurisdiction", "side", "region"])
def test_derived_files_equal_a_direct_computation_on_the_real_rows(tmp_path, cnemc_2022_region, cnemc_2026_03_10_region,
                                                                   level):
    root = tmp_path / "store"
    Store(root).ingest_hourly(pd.concat([cnemc_2022_region, cnemc_2026_03_10_region]), source="cnemc-archive")
    m = region.unit_map(level)
    direct = Store(root, derived=False).area_means(unit_of=m)
    assert not derived_files(root)  # derived=False writes nothing
    filled = Store(root).area_means(unit_of=m)  # computes and keeps the months 2022-01 and 2026-03
    months = sorted(p.parent.name for p in derived_files(root))
    assert months == ["month=2022-01", "month=2026-03"]
    before = tree(root)
    reread = Store(root).area_means(unit_of=m)  # reads them back
    assert tree(root) == before  # a hit writes nothing
    assert_same(filled, direct)
    pd.testing.assert_frame_equal(reread, filled)  # what was kept is what was computed, bit for bit
    january = filled[filled["time"] < pd.Timestamp("2022-02-01", tz="Asia/Shanghai")]
    assert january["pm25"].max() > 150  # the real heavy-pollution episode of January 2022 is in it


@pytest.fixture(scope="module")
def months_store(tmp_path_factory, cnemc_2022_region, cnemc_2026_03_10_region):
    """The real rows of 2022-01-01 00:00 … 01-04 00:00 again at shifts that cross month boundaries
    (01-31 → 02-03, 02-28 → 03-03, 2022-12-30 → 2023-01-02), plus 2026-03-10; and a second source
    ``a-local`` (name-sorted before ``cnemc-archive``, so it wins a shared station-hour) holding doubled
    PM2.5 for 1490A and 3439A over 01-31 … 02-02 12:00."""
    shifted = [cnemc_2022_region.assign(time=cnemc_2022_region["time"] + pd.Timedelta(days=d)) for d in (0, 30, 58, 363)]
    main = pd.concat([*shifted, cnemc_2026_03_10_region], ignore_index=True)
    root = tmp_path_factory.mktemp("months") / "store"
    s = Store(root)
    s.ingest_hourly(main, source="cnemc-archive")
    other = shifted[1][shifted[1]["station"].isin(["1490A", "3439A"])
                       & (shifted[1]["time"] <= pd.Timestamp("2022-02-02 12:00", tz="Asia/Shanghai"))]
    s.ingest_hourly(other.assign(pm25=other["pm25"] * 2, source="a-local"), source="a-local")
    return root


WINDOWS = {
    "everything": (None, None, None, None),
    "across-jan-feb": ("2022-01-31 12:00", "2022-02-01 06:00", None, None),
    "one-hour": ("2022-03-01 00:00", "2022-03-01 00:00", None, None),
    "from-a-time": ("2022-02-28 13:00", None, ["pm25", "o3"], None),
    "up-to-a-time": (None, "2022-12-31 07:00", ["co"], None),
    "across-years": ("2022-12-31", "2023-01-01 05:00", None, None),
    "one-source": (None, None, None, ["cnemc-archive"]),
    "nothing-there": ("2024-01-01", "2025-01-01", None, None),
}


@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
def test_derived_files_equal_a_direct_computation_over_months(months_store, window):
    start, end, pols, sources = window
    m = region.unit_map("jurisdiction")
    kw = {"unit_of": m, "pollutants": pols, "sources": sources}
    direct = Store(months_store, derived=False).area_means(start, end, **kw)
    got = Store(months_store).area_means(start, end, **kw)
    assert_same(got, direct)
    pd.testing.assert_frame_equal(Store(months_store).area_means(start, end, **kw), got)
    # and both are region.aggregate of the station rows (first source in name order for a shared hour)
    hourly = Store(months_store).hourly(start, end, sources=sources, columns=(), prefer=["a-local", "cnemc-archive"])
    expected = region.aggregate(hourly, level="jurisdiction")
    assert len(got) == len(expected)
    if len(got):
        e = expected.sort_values(["station", "time"]).reset_index(drop=True)
        for p in pols or POLLUTANTS:
            np.testing.assert_allclose(got[p], e[p], rtol=1e-12, equal_nan=True)
            assert (got[f"n_{p}"].to_numpy() == e[f"n_{p}"].to_numpy()).all()


def test_derived_month_files_follow_the_partitions(tmp_path, months_store):
    root = tmp_path / "store"
    shutil.copytree(months_store, root, ignore=shutil.ignore_patterns(DERIVED))
    Store(root).area_means(unit_of=region.unit_map("region"))
    Store(root).area_means(unit_of=region.unit_map("region"), sources="cnemc-archive")
    by_month: dict[str, int] = {}
    for p in derived_files(root):
        by_month[p.parent.name] = by_month.get(p.parent.name, 0) + 1
    # 2022-01 … 2022-03, 2022-12, 2023-01, 2026-03; two queries (all sources, one source) each
    assert by_month == {f"month={m}": 2 for m in ("2022-01", "2022-02", "2022-03", "2022-12", "2023-01", "2026-03")}


def test_a_revised_value_is_seen_and_the_superseded_file_pruned(tmp_path, months_store):
    root = tmp_path / "store"
    shutil.copytree(months_store, root, ignore=shutil.ignore_patterns(DERIVED))
    m = region.unit_map("jurisdiction")
    s = Store(root)
    before = s.area_means("2022-03-01 00:00", "2022-03-01 23:00", unit_of=m)
    old_files = set(derived_files(root))
    # CNEMC revises 1490A (urumqi) PM2.5 at 2022-03-01 10:00 upwards by 100 µg/m³
    at = pd.Timestamp("2022-03-01 10:00", tz="Asia/Shanghai")
    row = s.hourly(at, at, stations="1490A", columns=())
    assert row["pm25"].notna().all()
    res = s.ingest_hourly(row.assign(pm25=row["pm25"] + 100))
    assert res.updated == 1
    after = Store(root).area_means("2022-03-01 00:00", "2022-03-01 23:00", unit_of=m)
    hit = (after["station"] == "urumqi") & (after["time"] == at)
    n = before.loc[hit, "n_pm25"].item()
    assert n >= 2
    assert after.loc[hit, "pm25"].item() == pytest.approx(before.loc[hit, "pm25"].item() + 100 / n, rel=1e-12)
    pd.testing.assert_frame_equal(after.loc[~hit], before.loc[~hit])  # nothing else moved
    # the month's old file was replaced (by the reader) and nothing derived refers to a retired file
    now = set(derived_files(root))
    march = {p for p in now if p.parent.name == "month=2022-03"}
    assert len(march) == 1 and not (march & old_files)
    assert {p for p in old_files if p.parent.name != "month=2022-03"} <= now  # other months reused


def test_writer_gc_drops_derived_files_of_retired_partitions(tmp_path, months_store):
    root = tmp_path / "store"
    shutil.copytree(months_store, root, ignore=shutil.ignore_patterns(DERIVED))
    m = region.unit_map("side")
    s = Store(root)
    snap = s.snapshot()
    s.area_means(unit_of=m)
    march = [p for p in derived_files(root) if p.parent.name == "month=2022-03"]
    assert len(march) == 1
    (root / DERIVED / ".tmp-leftover.arrow").write_bytes(b"partial")
    os.utime(root / DERIVED / ".tmp-leftover.arrow", (time.time() - 2 * store_mod.GRACE_SECONDS,) * 2)
    (root / DERIVED / ".tmp-being-written.arrow").write_bytes(b"partial")
    (root / DERIVED / "area_means-v0").mkdir()
    (root / DERIVED / "area_means-v0" / "x.arrow").write_bytes(b"old format")
    at = pd.Timestamp("2022-03-02 10:00", tz="Asia/Shanghai")
    row = s.hourly(at, at, stations="3439A", columns=())
    assert s.ingest_hourly(row.assign(o3=row["o3"] + 7)).updated == 1  # then the writer collects garbage
    left = {p.relative_to(root / DERIVED).as_posix() for p in (root / DERIVED).rglob("*") if p.is_file()}
    assert not [p for p in left if "month=2022-03" in p]  # computed from the replaced partition
    assert ".tmp-leftover.arrow" not in left and "area_means-v0/x.arrow" not in left
    assert ".tmp-being-written.arrow" in left  # young: a reader may be writing it
    assert len([p for p in left if "month=" in p]) == len(derived_files(root)) == 5  # the other months stay
    assert_same(Store(root).area_means(unit_of=m), Store(root, derived=False).area_means(unit_of=m))
    # a reader of the older version still gets its own numbers (its files are within the grace period) and
    # keeps them under another name; Store.gc() drops that file, as it refers to a replaced partition
    old = Store(root, derived=False).area_means(unit_of=m, snapshot=snap)
    assert_same(Store(root).area_means(unit_of=m, snapshot=snap), old)
    assert len([p for p in derived_files(root) if p.parent.name == "month=2022-03"]) == 2
    assert Store(root).gc() >= 1
    assert len([p for p in derived_files(root) if p.parent.name == "month=2022-03"]) == 1
    assert len(derived_files(root)) == 6


def test_read_only_store_answers_from_its_derived_files_and_computes_the_rest(tmp_path, months_store):
    root = tmp_path / "store"
    shutil.copytree(months_store, root, ignore=shutil.ignore_patterns(DERIVED))
    m = region.unit_map("jurisdiction")
    Store(root).area_means("2022-02-01", "2022-02-10", unit_of=m)  # keeps 2022-02 only
    assert [p.parent.name for p in derived_files(root)] == ["month=2022-02"]
    direct = Store(root, derived=False).area_means(unit_of=m)
    before = tree(root)
    with read_only(root):
        s = Store(root)
        got = s.area_means(unit_of=m)  # 2022-02 from its file, the other months computed in memory
        assert tree(root) == before
        assert not s._derived_writable
        again = s.area_means("2022-01-31 12:00", "2022-03-01 02:00", unit_of=m)
    assert_same(got, direct)
    assert_same(again, Store(root, derived=False).area_means("2022-01-31 12:00", "2022-03-01 02:00", unit_of=m))
    assert tree(root) == before


def test_full_disk_while_keeping_derived_files_warns_once_and_answers(tmp_path, months_store, monkeypatch):
    root = tmp_path / "store"
    shutil.copytree(months_store, root, ignore=shutil.ignore_patterns(DERIVED))

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(store_mod.derived, "_write_bytes_atomic", full)  # the derived cache's writes
    m = region.unit_map("region")
    s = Store(root)
    with pytest.warns(UserWarning, match=r"cannot keep derived area means .*No space left on device"):
        got = s.area_means(unit_of=m)
    assert_same(got, Store(root, derived=False).area_means(unit_of=m))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.area_means(unit_of=m)  # stops trying: no second warning
    assert not derived_files(root)


def test_a_damaged_derived_file_is_recomputed(tmp_path, months_store):
    root = tmp_path / "store"
    shutil.copytree(months_store, root, ignore=shutil.ignore_patterns(DERIVED))
    m = region.unit_map("jurisdiction")
    good = Store(root).area_means(unit_of=m)
    victim = next(p for p in derived_files(root) if p.parent.name == "month=2022-02")
    data = victim.read_bytes()
    kept = read_arrow(victim)
    victim.write_bytes(data[: len(data) // 2])  # e.g. a crash without the fsync
    pd.testing.assert_frame_equal(Store(root).area_means(unit_of=m), good)
    assert read_arrow(victim).equals(kept)  # rewritten whole
    # a file of another query renamed onto this name is not taken for it
    other = Store(root).area_means(unit_of=region.unit_map("region"))
    assert len(other)
    region_file = next(p for p in derived_files(root) if p.parent.name == "month=2022-02" and p != victim)
    shutil.copy(region_file, victim)
    pd.testing.assert_frame_equal(Store(root).area_means(unit_of=m), good)
    assert read_arrow(victim).schema.metadata[b"regionair.key"].decode() == victim.stem


def test_concurrent_readers_fill_the_same_months(tmp_path, months_store):
    """Eight threads of one Store and four other Store instances, all on an empty derived folder at once:
    every answer is the direct one, and one complete file per month remains (no temporary file)."""
    import threading

    root = tmp_path / "store"
    shutil.copytree(months_store, root, ignore=shutil.ignore_patterns(DERIVED))
    m = region.unit_map("jurisdiction")
    direct = Store(root, derived=False).area_means(unit_of=m)
    shared = Store(root)
    stores = [shared] * 8 + [Store(root) for _ in range(4)]
    got, errors = [None] * len(stores), []
    start = threading.Barrier(len(stores))

    def run(i):
        try:
            start.wait()
            got[i] = stores[i].area_means(unit_of=m)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for g in got:
        assert_same(g, direct)
    assert len(derived_files(root)) == 6 and not list((root / DERIVED).rglob(".tmp-*"))
    assert_same(Store(root).area_means(unit_of=m), direct)
