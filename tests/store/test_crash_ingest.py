"""Crash during ingest: SIGKILL an ingest at random points, then check the store and re-run.

Each trial starts ``regionair ingest --source cnemc-archive --path <folder>`` (the CLI's code path,
``regionair.cli.main``) in a child process and kills it with SIGKILL after a random delay drawn
over the whole run (some kills land before the first commit, most between or inside commits, a
few after the end). Afterwards:

* the store opens and every query works (hourly, latest, freshness, coverage, gaps, revisions,
  ingest log, records, stats);
* no partial or duplicated rows: every stored hour holds exactly the rows of its archive file,
  no (source, station, time) twice, and the stored hours are a whole number of committed batches;
* a re-run completes the range with exactly the expected rows, and leaves no stray files.

To spend the trial time on ingesting rather than on importing pandas/DuckDB, a "zygote" child
imports the package once and ``fork``s one grandchild per run; the test SIGKILLs the grandchild
directly (a real process kill: no ``finally`` blocks, no atexit, open files left as they are).

Profiles: CI — 30 trials on 24 hourly files committed 4 files per batch (6 commits per run);
``REGIONAIR_LONG=1`` — 100 trials on 48 files, 4 per batch (12 commits per run).
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import time
from pathlib import Path

import pandas as pd

from regionair.pipeline.ingest import ingest_cnemc_path
from regionair.store import Store
from tests.faultkit import (
    CHILD_ENV,
    ROOT,
    expected_frame,
    hour_files,
    python,
    stored_frame,
    write_archive_folder,
)

LONG = os.environ.get("REGIONAIR_LONG") == "1"
TRIALS = int(os.environ.get("REGIONAIR_CRASH_TRIALS", 100 if LONG else 30))
FILES = 48 if LONG else 24
BATCH = 4
SEED = int(os.environ.get("REGIONAIR_CRASH_SEED", "20261128"))

ZYGOTE = r"""
import os, signal, sys
import numpy as np
np.seterr(all="ignore")
import regionair.cli, regionair.pipeline.ingest, regionair.store, regionair.core.region, regionair.sources.cnemc_archive  # noqa
import regionair.sources.cnemc_http  # noqa
from pathlib import Path
regionair.core.region.stations(); regionair.core.region.jurisdictions()   # warm the catalogue caches (no DuckDB yet)
for p in sorted(Path(sys.argv[1]).rglob("*.csv"))[:1]:
    regionair.sources.cnemc_archive.parse_archive(p.read_bytes(), str(p))
out = os.fdopen(os.dup(1), "w", buffering=1)
print("ready", flush=True)
for line in sys.stdin:
    store, folder, batch = line.rstrip("\n").split("\t")
    pid = os.fork()
    if pid == 0:  # the ingest process
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1); os.dup2(null, 2)
        regionair.pipeline.ingest.BATCH_FILES = int(batch)
        rc = regionair.cli.main(["ingest", "--source", "cnemc-archive", "--path", folder, "--store", store])
        out.write(f"done {os.getpid()} {rc}\n"); out.flush()
        while True:          # wait for the test's SIGKILL (no pid reuse race)
            signal.pause()
    out.write(f"pid {pid}\n"); out.flush()
    _, status = os.waitpid(pid, 0)
    out.write(f"reaped {pid} {status}\n"); out.flush()
"""


class Zygote:
    def __init__(self, folder: Path):
        self.proc = python(ZYGOTE, str(folder))
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", self.proc.stderr.read()

    def run(self, store: Path, folder: Path, kill_after: float | None) -> dict:
        """Run one ingest; SIGKILL it ``kill_after`` s after the fork (None: let it finish first)."""
        self.proc.stdin.write(f"{store}\t{folder}\t{BATCH}\n")
        self.proc.stdin.flush()
        first = self.proc.stdout.readline().split()
        assert first[0] == "pid", first
        pid = int(first[1])
        t0 = time.monotonic()
        done = None
        if kill_after is None:
            line = self.proc.stdout.readline().split()
            assert line[0] == "done", line
            done = int(line[2])
        else:
            time.sleep(kill_after)
        duration = time.monotonic() - t0
        os.kill(pid, signal.SIGKILL)
        while True:
            line = self.proc.stdout.readline().split()
            if line[0] == "done":
                done = int(line[2])
            elif line[0] == "reaped":
                assert int(line[1]) == pid
                break
        return {"finished": done is not None, "rc": done, "duration": duration}

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def check_store(root: Path, expected: pd.DataFrame, hours: list[pd.Timestamp]) -> int:
    """Every query works on the store a killed writer left; returns the number of stored hours."""
    store = Store(root)
    snap = store.snapshot()
    got = store.hourly(columns=["ingest_id", "revision"], snapshot=snap)
    store.latest(snapshot=snap)
    store.latest_time(snapshot=snap)
    store.coverage(snapshot=snap)
    store.gaps(snapshot=snap)
    store.revisions(snapshot=snap)
    store.ingest_log(snapshot=snap)
    store.records("new_stations", snapshot=snap)
    store.stats(snapshot=snap)
    store.model_aq(snapshot=snap)
    # no duplicated rows, no revisions (nothing was ever stored twice with another value)
    assert not got.duplicated(["source", "station", "time"]).any()
    assert (got["revision"].fillna(0) == 0).all()
    # no partial hour: every stored hour is exactly its file's rows
    stored = stored_frame(store)
    have = sorted(stored["time"].unique())
    want = expected[expected["time"].isin(have)].reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, want, check_dtype=False)
    # whole batches only: the stored hours are the first k·BATCH files (or all of them)
    n = len(have)
    assert have == hours[:n], "stored hours are not a prefix of the files"
    assert n % BATCH == 0 or n == len(hours), n
    store.close()
    return n


def stray_files(root: Path) -> list[str]:
    """Files on disk that the manifest does not list (live or retired)."""
    doc = json.loads((root / "manifest.json").read_text())
    keep = {f["path"] for f in doc["files"]} | {r["path"] for r in doc["retired"]}
    out = []
    for p in root.rglob("*"):
        if p.is_file() and p.name not in ("manifest.json", "manifest.json.bak", ".lock"):
            rel = p.relative_to(root).as_posix()
            if rel not in keep:
                out.append(rel)
    return out


def one_trial(pool_q, trial: int, folder: Path, tmp_path: Path, spans: list, expected, hours) -> str:
    zygote = pool_q.get()
    try:
        return _trial(zygote, trial, folder, tmp_path, spans, expected, hours)
    finally:
        pool_q.put(zygote)


def _trial(zygote: Zygote, trial: int, folder: Path, tmp_path: Path, spans: list, expected, hours) -> str:
    rng = random.Random(SEED * 1000 + trial)
    span = statistics.median(spans)  # duration of a full run on this machine now (adapts to load)
    root = tmp_path / f"s{trial}"
    res = zygote.run(root, folder, rng.uniform(0.0, 1.15 * span))
    double = rng.random() < 0.25
    if double:  # kill the resumed run too, before checking
        zygote.run(root, folder, rng.uniform(0.0, 0.8 * span))
    t1 = time.monotonic()
    n = check_store(root, expected, hours)
    t2 = time.monotonic()
    # the re-run completes the range: exactly the expected rows, nothing stray left
    rerun = zygote.run(root, folder, None)
    assert rerun["rc"] == 0, (trial, rerun)
    spans.append(rerun["duration"])
    t3 = time.monotonic()
    store = Store(root)
    pd.testing.assert_frame_equal(stored_frame(store), expected, check_dtype=False)
    assert stray_files(root) == [], trial
    store.close()
    if os.environ.get("CRASH_DEBUG"):
        print(f"trial {trial}: kill {res['duration']:.2f} check {t2 - t1:.2f} rerun {t3 - t2:.2f} "
              f"verify {time.monotonic() - t3:.2f}")
    kind = "after_the_end" if res["finished"] else "before_first_commit" if n == 0 else "between_commits"
    return kind + (" double" if double else "")


def test_sigkill_at_random_points_never_corrupts_and_rerun_completes(tmp_path, record_property):
    import queue
    from concurrent.futures import ThreadPoolExecutor

    folder = write_archive_folder(tmp_path / "archive", FILES)
    expected = expected_frame(FILES)
    hours = [h for h, _ in hour_files(FILES)]
    lanes = [Zygote(folder), Zygote(folder)]
    try:
        # calibrate: full runs, not killed, give the span over which kills are drawn
        with ThreadPoolExecutor(len(lanes)) as pool:
            calib = list(pool.map(lambda i: lanes[i].run(tmp_path / f"calib{i}", folder, None), range(len(lanes))))
        assert all(c["finished"] and c["rc"] == 0 for c in calib)
        spans = [c["duration"] for c in calib]
        check_store(tmp_path / "calib0", expected, hours)
        pool_q = queue.Queue()
        for z in lanes:
            pool_q.put(z)
        with ThreadPoolExecutor(len(lanes)) as pool:
            futures = [pool.submit(one_trial, pool_q, t, folder, tmp_path, spans, expected, hours)
                       for t in range(TRIALS)]
            kinds = [f.result() for f in futures]
    finally:
        for z in lanes:
            z.close()
    outcome = {k: sum(x.split()[0] == k for x in kinds) for k in ("before_first_commit", "between_commits",
                                                                 "after_the_end")}
    outcome["double_kill"] = sum(x.endswith("double") for x in kinds)
    record_property("crash_trials", TRIALS)
    record_property("crash_outcomes", outcome)
    print(f"\nSIGKILL trials: {TRIALS} on {FILES} files ({BATCH}/batch), median run {statistics.median(spans):.2f} s, outcomes {outcome}")
    assert outcome["between_commits"] >= TRIALS // 3  # most kills land while the ingest is writing


def test_killed_cli_process_real_python_m_regionair(tmp_path):
    """The same with the real command line (own interpreter, imports and all), a few times."""
    import subprocess
    import sys

    folder = write_archive_folder(tmp_path / "archive", 8)
    expected = expected_frame(8)
    hours = [h for h, _ in hour_files(8)]
    rng = random.Random(SEED + 1)
    for trial in range(3):
        root = tmp_path / f"cli{trial}"
        proc = subprocess.Popen([sys.executable, "-m", "regionair", "ingest", "--source", "cnemc-archive",
                                 "--path", str(folder), "--store", str(root)], cwd=ROOT, env=CHILD_ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if (root / "manifest.json").exists():
            n = len(Store(root).hourly(columns=())["time"].unique())
            assert n in (0, len(hours))  # one batch: all or nothing
        ingest_cnemc_path(Store(root), folder, run="rerun")
        pd.testing.assert_frame_equal(stored_frame(Store(root)), expected, check_dtype=False)
