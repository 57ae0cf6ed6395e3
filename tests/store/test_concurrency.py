"""Concurrency: one writer ingesting while reader processes query continuously; two writers at once.

* Four reader processes run the dashboard's queries (hourly, latest, freshness, coverage, gaps,
  ingest log) in a loop while a writer process commits one archive hour per transaction. A
  reader must never raise and never see a partial hour: every hour it sees holds exactly the
  stations of that hour's file, with the file's values, and the version it sees never goes back.
* Two writers at once are serialised by the store's lock (both succeed, the union is exact), or,
  with a short lock timeout, the second one fails cleanly with a StoreError naming the holder and
  changes nothing.

``REGIONAIR_LONG=1`` runs more hours and 8 readers.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from regionair.store import Store
from tests.faultkit import expected_frame, python, stored_frame, write_archive_folder

LONG = os.environ.get("REGIONAIR_LONG") == "1"
HOURS = 48 if LONG else 12
READERS = 8 if LONG else 4

WRITER = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
from pathlib import Path
from regionair.sources.cnemc_archive import parse_archive
from regionair.store import Store
root, folder, first, last, timeout = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
files = sorted(folder.rglob("*.csv"))[first:last]
store = Store(root, lock_timeout=timeout)
print("ready", flush=True)
sys.stdin.readline()  # start signal
from regionair.errors import StoreError
try:
    for f in files:   # one commit per hour
        store.ingest_hourly(parse_archive(f.read_bytes(), str(f)), source="cnemc-archive")
    print("ok", flush=True)
except StoreError as exc:
    print("StoreError:", exc, flush=True)
"""

READER = r"""
import json, os, sys, time, traceback, warnings
warnings.simplefilter("ignore")
from pathlib import Path
import pandas as pd
from regionair.store import Store
root, expected_path, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
expected = json.loads(Path(expected_path).read_text())  # hour (ISO) -> {station: pm25 or null}
os.nice(5)  # the writer keeps its share of the CPU; readers still query back to back
store = Store(root)
res = {"queries": 0, "errors": [], "partial": [], "versions": [], "max_hours_seen": 0}
print("ready", flush=True)
last_version = -1
while True:
    finished = stop.exists()
    try:
        snap = store.snapshot()
        if snap.version < last_version:
            res["errors"].append(f"version went back {last_version} -> {snap.version}")
        last_version = snap.version
        if not res["versions"] or res["versions"][-1] != snap.version:
            res["versions"].append(snap.version)
        h = store.hourly(snapshot=snap, columns=())
        store.latest(snapshot=snap)
        store.latest_time(snapshot=snap)
        store.coverage(snapshot=snap)
        store.gaps(snapshot=snap)
        store.ingest_log(snapshot=snap)
        res["queries"] += 6
        # another Store instance, fresh snapshot: as a second dashboard session would
        Store(root).hourly("2022-01-01 05:00", "2022-01-01 12:00", stations=["1490A", "1491A"])
        res["queries"] += 1
        seen = 0
        for t, g in h.groupby("time"):
            seen += 1
            want = expected[pd.Timestamp(t).isoformat()]
            got = dict(zip(g["station"], g["pm25"]))
            if set(got) != set(want) or any(
                    (want[s] is None) != pd.isna(got[s]) or (want[s] is not None and got[s] != want[s]) for s in want):
                res["partial"].append(str(t))
        if h.duplicated(["station", "time", "source"]).any():
            res["partial"].append("duplicates")
        res["max_hours_seen"] = max(res["max_hours_seen"], seen)
    except Exception:  # report every failure to the test instead of dying
        res["errors"].append(traceback.format_exc()[-1500:])
    if finished:
        break
print(json.dumps(res), flush=True)
"""


def _expected_json(path, n: int) -> None:
    exp = expected_frame(n)
    doc = {}
    for t, g in exp.groupby("time"):
        doc[pd.Timestamp(t).isoformat()] = {s: (None if pd.isna(v) else float(v)) for s, v in zip(g["station"], g["pm25"])}
    path.write_text(json.dumps(doc))


def test_readers_never_error_or_see_a_partial_hour_while_a_writer_ingests(tmp_path, record_property):
    folder = write_archive_folder(tmp_path / "archive", HOURS)
    _expected_json(tmp_path / "expected.json", HOURS)
    root = tmp_path / "store"
    # a first hour so that readers start on a non-empty store
    Store(root).ingest_hourly(expected_frame(1).assign(source="cnemc-archive")[["station", "time", "pm25", "pm10",
                                                                                "so2", "no2", "co", "o3", "source"]])
    stop = tmp_path / "stop"
    readers = [python(READER, str(root), str(tmp_path / "expected.json"), str(stop)) for _ in range(READERS)]
    writer = python(WRITER, str(root), str(folder), "0", str(HOURS), "30")
    try:
        for p in [*readers, writer]:
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        writer.stdin.write("go\n")
        writer.stdin.flush()
        out, err = writer.communicate(timeout=300)
        assert out.strip() == "ok", err
    finally:
        stop.touch()
        results = []
        for p in readers:
            out, err = p.communicate(timeout=120)
            assert out.strip(), err
            results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        assert r["errors"] == [], r["errors"][:2]
        assert r["partial"] == [], r["partial"][:5]
        assert r["queries"] > 0
    versions = {v for r in results for v in r["versions"]}
    assert len(versions) > HOURS // 3, "readers should have read while the writer committed"
    queries = sum(r["queries"] for r in results)
    record_property("concurrent_readers", READERS)
    record_property("reader_queries", queries)
    print(f"\n{READERS} readers, {queries} queries, {len(versions)} distinct versions read, 0 errors, 0 partial hours")
    pd.testing.assert_frame_equal(stored_frame(Store(root)), expected_frame(HOURS), check_dtype=False)


def _start_writers(tmp_path, ranges, timeout):
    folder = write_archive_folder(tmp_path / "archive", HOURS)
    root = tmp_path / "store"
    procs = [python(WRITER, str(root), str(folder), str(a), str(b), str(timeout)) for a, b in ranges]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        outs.append(out.strip())
        assert "Traceback" not in err, err
    return root, outs


def test_two_writers_are_serialised_by_the_lock(tmp_path):
    half = HOURS // 2
    root, outs = _start_writers(tmp_path, [(0, half), (half, HOURS)], timeout=120)
    assert outs == ["ok", "ok"]
    store = Store(root)
    pd.testing.assert_frame_equal(stored_frame(store), expected_frame(HOURS), check_dtype=False)
    log = store.ingest_log()
    assert len(log) == HOURS and log["version"].is_unique  # every commit got its own version


def test_second_writer_with_short_timeout_fails_cleanly(tmp_path):
    # both write the same hours; each holds the lock for one hour at a time, so with a 0 s timeout
    # one of them meets the other's lock sooner or later and must stop with a clear StoreError
    root, outs = _start_writers(tmp_path, [(0, HOURS), (0, HOURS)], timeout=0)
    failed = [o for o in outs if o.startswith("StoreError")]
    for o in failed:
        assert "another ingest is running (pid" in o and "Hint: wait for it to finish and retry" in o
    store = Store(root)
    got = stored_frame(store)
    # whatever happened, the store holds complete hours with the files' values, never duplicates
    exp = expected_frame(HOURS)
    pd.testing.assert_frame_equal(got, exp[exp["time"].isin(got["time"].unique())].reset_index(drop=True),
                                  check_dtype=False)
    assert not store.hourly(columns=()).duplicated(["station", "time", "source"]).any()
    if not failed:
        pytest.skip("the two writers never overlapped on this run (timing); nothing to check for the loser")
