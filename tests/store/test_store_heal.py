"""A store that heals (issue 16 §6): a damaged Parquet file is named, quarantined and read around — every other
month, page and export keeps working —; re-ingesting (with or without ``--refresh``) or ``store check --repair``
restores exactly what the sources hold; parser worker processes die with a SIGKILLed ingest.

The store holds the bundled sample (data/sample: 2022-01-01…03 and 2026-03-10, real CNEMC rows): 1,376
station-hours in month 2022-01 and 500 in 2026-03, one Parquet file per month.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from regionair import cli
from regionair.errors import StoreError
from regionair.pipeline.ingest import ingest_cnemc_path
from regionair.store import MANIFEST, QUARANTINE_DIR, Store, StoreDamageWarning

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
ROWS = {"2022-01": 1376, "2026-03": 500}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reference") / "store"
    ingest_cnemc_path(Store(path), SAMPLE, run="ref")
    return path


@pytest.fixture
def store_path(reference, tmp_path) -> Path:
    path = tmp_path / "store"
    shutil.copytree(reference, path)
    return path


def _file(root: Path, month: str) -> Path:
    (f,) = (root / "hourly" / "source=cnemc-archive" / f"month={month}").glob("part-*.parquet")
    return f


def _truncate(path: Path, keep: int = 3000) -> None:
    os.truncate(path, keep)


def _rows(root: Path) -> pd.DataFrame:
    return Store(root).hourly()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def _cli(argv, capsys) -> tuple[int, str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_truncated_month_is_named_quarantined_and_the_rest_still_answers(reference, store_path):
    bad = _file(store_path, "2022-01")
    rel = bad.relative_to(store_path).as_posix()
    _truncate(bad)
    store = Store(store_path)
    with pytest.warns(StoreDamageWarning, match=r"month 2022-01\): 3000 bytes on disk, the manifest recorded"):
        got = store.hourly()  # was: StoreError for every month
    expect = _rows(reference)
    assert expect["time"].dt.strftime("%Y-%m").value_counts().to_dict() == ROWS
    _same(got, expect[expect["time"] >= "2026-03-01"])  # 2026-03 exactly, 2022-01 left out
    assert not bad.exists()
    moved = list((store_path / QUARANTINE_DIR).glob(f"*/{rel}"))
    assert len(moved) == 1 and moved[0].stat().st_size == 3000  # kept for inspection, not deleted
    assert rel not in {f["path"] for f in json.loads((store_path / MANIFEST).read_text())["files"]}
    dmg = store.damage()
    assert list(dmg[["path", "kind", "source", "month", "rows", "restored"]].itertuples(index=False, name=None)) == [
        (rel, "hourly", "cnemc-archive", "2022-01", 1376, False)]
    assert dmg["forgotten_hashes"].iloc[0] == 3  # the three sample files were ingested in one run
    assert Store(store_path).records("ingested_files").empty
    # every other query works, also on a fresh instance
    fresh = Store(store_path)
    assert len(fresh.latest()) and len(fresh.coverage()) and len(fresh.ingest_log())


def test_corruption_inside_a_file_of_the_right_size_is_found_by_the_deep_check(reference, store_path):
    bad = _file(store_path, "2022-01")
    with open(bad, "r+b") as fh:  # same length, same trailer: only reading it shows the damage
        fh.seek(bad.stat().st_size // 3)
        fh.write(b"\0" * 3000)
    with pytest.warns(StoreDamageWarning, match="unreadable Parquet"):
        got = Store(store_path).hourly()
    assert len(got) == ROWS["2026-03"]


def test_a_store_that_cannot_be_changed_now_is_read_around(reference, store_path):
    bad = _file(store_path, "2026-03")
    _truncate(bad)
    writer = Store(store_path)
    with writer.writer():  # another process holds the write lock (an ingest): nothing can be moved now
        reader = Store(store_path)
        with pytest.warns(StoreDamageWarning, match="could not be changed now"):
            got = reader.hourly()
        assert len(got) == ROWS["2022-01"] and bad.exists()
        assert reader.excluded == (bad.relative_to(store_path).as_posix(),)
        assert list(reader.damage()["moved_to"]) == [""]
        assert len(reader.hourly()) == ROWS["2022-01"]  # and keeps reading around it
    out = Store(store_path).check(repair=True)  # later, the repair moves it
    assert list(out["quarantined"]) == [True] and not bad.exists()


def test_ingest_without_refresh_does_not_skip_the_damaged_months_files(reference, store_path):
    _truncate(_file(store_path, "2022-01"))
    summary = ingest_cnemc_path(Store(store_path), SAMPLE, run="again")  # no read in between
    assert (summary.skipped, summary.added, summary.unchanged) == (0, ROWS["2022-01"], ROWS["2026-03"])
    _same(_rows(store_path), _rows(reference))  # was: 3 files skipped by hash, 2022-01 gone for good
    assert list(Store(store_path).damage()["restored"]) == [True]


def test_only_the_runs_behind_the_damaged_month_are_forgotten(tmp_path):
    root = tmp_path / "store"
    jan, mar = tmp_path / "jan", tmp_path / "mar"
    jan.mkdir(), mar.mkdir()
    for f in SAMPLE.glob("region_2022-*.csv"):
        shutil.copy(f, jan)
    shutil.copy(SAMPLE / "region_2026-03-10.csv", mar)
    ingest_cnemc_path(Store(root), jan, run="runjan")
    ingest_cnemc_path(Store(root), mar, run="runmar")
    _truncate(_file(root, "2026-03"))
    with pytest.warns(StoreDamageWarning):
        Store(root).hourly()
    assert list(Store(root).records("ingested_files")["run"]) == ["runjan", "runjan"]
    summary = ingest_cnemc_path(Store(root), SAMPLE, run="again")
    assert (summary.skipped, summary.added) == (2, ROWS["2026-03"])


def test_refresh_restores_a_damaged_month_without_a_traceback(reference, store_path, capsys):
    _truncate(_file(store_path, "2026-03"))
    rc, out, err = _cli(["ingest", "--source", "cnemc-archive", "--path", str(SAMPLE), "--refresh",
                         "--store", str(store_path)], capsys)
    assert rc == 0, err
    assert "Traceback" not in err and "DuckDB" not in err and "InvalidInputException" not in err
    assert f"added {ROWS['2026-03']}, updated 0, unchanged {ROWS['2022-01']}" in out
    _same(_rows(store_path), _rows(reference))


def test_a_refresh_merge_that_meets_damage_inside_a_file_retries_once(reference, store_path):
    bad = _file(store_path, "2022-01")
    with open(bad, "r+b") as fh:  # passes the quick check; the merge's DuckDB read fails on it
        fh.seek(bad.stat().st_size // 3)
        fh.write(b"\0" * 3000)
    with pytest.warns(StoreDamageWarning):
        summary = ingest_cnemc_path(Store(store_path), SAMPLE, run="refresh", refresh=True)
    assert (summary.added, summary.unchanged) == (ROWS["2022-01"], ROWS["2026-03"])
    _same(_rows(store_path), _rows(reference))


def _run_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "regionair", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_export_of_the_other_months_works_and_the_whole_range_names_the_month(reference, store_path, tmp_path):
    _truncate(_file(store_path, "2022-01"))
    out = tmp_path / "all.csv"
    done = _run_cli("export", "--out", str(out), "--store", str(store_path))  # the real command, its real stderr
    assert done.returncode == 0, done.stderr  # was: exit 3, "query on the store … failed", no file
    assert len(pd.read_csv(out)) == ROWS["2026-03"]
    assert "month 2022-01" in done.stderr and "Moved to quarantine/" in done.stderr
    done = _run_cli("export", "--start", "2026-03-10", "--end", "2026-03-11", "--out", str(out), "--store", str(store_path))
    assert done.returncode == 0 and len(pd.read_csv(out)) == ROWS["2026-03"]


def test_store_check_names_repairs_and_restores(reference, store_path, capsys):
    bad = _file(store_path, "2026-03")
    rel = bad.relative_to(store_path).as_posix()
    _truncate(bad)
    rc, out, err = _cli(["store", "check", "--store", str(store_path)], capsys)
    assert rc == 3 and f"DAMAGED: {rel} (hourly cnemc-archive 2026-03, 500 rows)" in out and "--repair" in err
    assert bad.exists()  # a check alone changes nothing
    rc, out, _ = _cli(["store", "check", "--repair", "--path", str(SAMPLE), "--store", str(store_path)], capsys)
    assert rc == 0 and f"quarantined: {rel}" in out and f"added {ROWS['2026-03']}" in out
    _same(_rows(store_path), _rows(reference))
    rc, out, _ = _cli(["store", "check", "--store", str(store_path)], capsys)
    assert rc == 0 and "all sound" in out and "not yet restored" not in out


def test_a_damaged_record_table_is_read_around(reference, store_path):
    (f,) = (store_path / "records" / "ingested_files").glob("part-*.parquet")
    _truncate(f, 100)
    with pytest.warns(StoreDamageWarning, match="record table ingested_files"):
        assert Store(store_path).records("ingested_files").empty
    summary = ingest_cnemc_path(Store(store_path), SAMPLE, run="again")
    assert (summary.skipped, summary.unchanged) == (0, sum(ROWS.values()))  # read again, idempotently


def test_pages_keep_working_and_say_which_month_is_missing(store_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    _truncate(_file(store_path, "2022-01"))
    monkeypatch.setenv("REGIONAIR_STORE", str(store_path))
    for page in ("overview", "data"):
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=180).run()
        assert not at.exception, [e.value for e in at.exception]
        assert all(e.icon == ":material/schedule:" for e in at.error)  # only the sample's "days behind" banner
        banner = " ".join(w.value for w in at.warning).replace("\\", "")  # Markdown escapes
        assert "2022-01" in banner and "中国环境监测总站" in banner  # the source in words, the month named


def test_an_unrelated_query_error_is_not_taken_for_damage(store_path):
    store = Store(store_path)
    with pytest.raises(StoreError, match="failed"):
        store._read(None, lambda snap: store._query("SELECT no_such_column FROM range(1)", {}))
    assert store.excluded == () and not (store_path / QUARANTINE_DIR).exists()


# --------------------------------------------------------------------------- parser workers

WORKERS = r"""
import multiprocessing, sys, time
from pathlib import Path
from regionair.pipeline import ingest

data = Path(sys.argv[1]).read_bytes()

def files():
    for i in range(ingest.POOL_AFTER_FILES + 4):
        yield f"f{i}.csv", data, str(i)
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    time.sleep(600)  # the ingest is still running when it is killed

for _ in ingest._parse_files(files(), None, 2):
    pass
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie is dead (nobody may reap it in a container)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_parser_workers_die_with_a_sigkilled_ingest(tmp_path):
    script = tmp_path / "workers.py"
    script.write_text(WORKERS)
    proc = subprocess.Popen([sys.executable, str(script), str(ROOT / "tests" / "data" / "region_2022-01-01.csv")],
                            cwd=ROOT, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(timeout=120), "the ingest never started its workers"
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30  # a bound, not a measurement: PR_SET_PDEATHSIG acts at once
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in pids if _alive(p)]  # was: both workers waiting on their queue for ever
    finally:
        for pid in [proc.pid, *locals().get("pids", [])]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
