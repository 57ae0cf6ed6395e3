"""Disk full and read-only store: a clear error, no corruption, a re-run completes.

Simulation: a real, small **tmpfs** mounted by the test (the tests run as root; ``chmod`` does not
stop root, a read-only mount does). "Disk full" is a real ENOSPC: the tmpfs is filled with a
ballast file, then a few pages are freed so the next ingest runs out of space at different points
(the Parquet data file, the manifest backup, the manifest, the download cache). "Read-only" is
``mount -o remount,ro``. Where mounting is not permitted (an unprivileged container) the tests
skip; ``tests/store/test_store.py`` keeps an RLIMIT_FSIZE variant of the disk-full case that needs no
privilege.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from regionair.errors import StoreError
from regionair.pipeline.ingest import ingest_cnemc_http, ingest_cnemc_path
from regionair.store import Store
from tests.faultkit import ROOT, archive_name, expected_frame, hour_files, stored_frame, write_archive_folder

PAGE = 4096


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"mount -t tmpfs not permitted here: {r.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount(path: Path, opts: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{opts}", str(path)], check=True, capture_output=True)


def fill(mount: Path, leave: int) -> Path:
    """Fill the file system with a ballast file, then free ``leave`` bytes (rounded to pages)."""
    ballast = mount / "ballast.bin"
    chunk = b"\0" * (64 * 1024)
    with open(ballast, "wb") as fh:
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    size = ballast.stat().st_size
    os.truncate(ballast, max(0, size - leave))
    return ballast


def snapshot_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize("leave_pages", [0, 1, 3, 8, 9, 16])
def test_disk_full_gives_clear_error_and_no_corruption(tmp_path, leave_pages):
    folder = write_archive_folder(tmp_path / "archive", 24)
    with tmpfs(tmp_path / "mnt", "2m") as mnt:
        root = mnt / "store"
        first = tmp_path / "first"
        write_archive_folder(first, 4)
        ingest_cnemc_path(Store(root), first, run="first")
        before = snapshot_files(root)
        ballast = fill(mnt, leave_pages * PAGE)
        store = Store(root)
        try:
            ingest_cnemc_path(store, folder, run="full")
            failed = None
        except StoreError as exc:
            failed = str(exc)
        print(f"free {leave_pages * PAGE} B: {'StoreError: ' + failed[:60] if failed else 'fitted'}")
        if leave_pages <= 3:
            assert failed is not None, "the ingest cannot fit in so little space"
        if failed is not None:
            assert "disk full" in failed and "The store is unchanged" in failed and "Hint: free disk space" in failed
            after = snapshot_files(root)
            # nothing committed changed; no temporary file left behind
            assert after.get("manifest.json") == before["manifest.json"]
            assert not [p for p in after if "/.tmp-" in p or p.startswith(".tmp-")]
            pd.testing.assert_frame_equal(stored_frame(Store(root)), expected_frame(4), check_dtype=False)
        else:  # enough room after all: then it must be complete
            pd.testing.assert_frame_equal(stored_frame(Store(root)), expected_frame(24), check_dtype=False)
        # every query still works on the full disk
        s = Store(root)
        s.latest(), s.coverage(), s.gaps(), s.ingest_log(), s.stats()
        # space freed: the re-run completes the range exactly
        ballast.unlink()
        ingest_cnemc_path(Store(root), folder, run="again")
        pd.testing.assert_frame_equal(stored_frame(Store(root)), expected_frame(24), check_dtype=False)


def test_disk_full_through_the_cli_exits_3_with_the_message(tmp_path, capsys):
    from regionair.cli import main

    folder = write_archive_folder(tmp_path / "archive", 24)
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        root = mnt / "store"
        Store(root)  # nothing yet
        fill(mnt, 0)
        rc = main(["ingest", "--source", "cnemc-archive", "--path", str(folder), "--store", str(root)])
        err = capsys.readouterr().err
        assert rc == 3 and "disk full" in err and "Traceback" not in err


def test_read_only_store_clear_error_reads_still_work(tmp_path):
    folder = write_archive_folder(tmp_path / "archive", 8)
    with tmpfs(tmp_path / "mnt", "8m") as mnt:
        root = mnt / "store"
        ingest_cnemc_path(Store(root), folder, run="first")
        before = snapshot_files(root)
        remount(mnt, "ro")
        try:
            more = write_archive_folder(tmp_path / "more", 16)
            with pytest.raises(StoreError, match=r"not writable .*can still be read\. Hint: fix the permissions"):
                ingest_cnemc_path(Store(root), more, run="ro")
            with pytest.raises(StoreError, match="not writable"):
                Store(root).append_records("audit", pd.DataFrame({"who": ["x"], "action": ["test"]}))
            with pytest.raises(StoreError, match="not writable"):
                Store(root).log_run("cnemc-archive", errors=["x"])
            s = Store(root)  # the dashboard's queries all work
            pd.testing.assert_frame_equal(stored_frame(s), expected_frame(8), check_dtype=False)
            s.latest(), s.latest_time(), s.coverage(), s.gaps(), s.ingest_log(), s.records("new_stations"), s.stats()
            assert snapshot_files(root) == before
        finally:
            remount(mnt, "rw")
        ingest_cnemc_path(Store(root), write_archive_folder(tmp_path / "more2", 16), run="rw")
        pd.testing.assert_frame_equal(stored_frame(Store(root)), expected_frame(16), check_dtype=False)


def test_read_only_store_dashboard_page_renders(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    folder = write_archive_folder(tmp_path / "archive", 8)
    with tmpfs(tmp_path / "mnt", "8m") as mnt:
        root = mnt / "store"
        ingest_cnemc_path(Store(root), folder, run="first")
        remount(mnt, "ro")
        monkeypatch.setenv("REGIONAIR_STORE", str(root))
        try:
            at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=60).run()
            assert not at.exception, at.exception
            assert len(at.dataframe) >= 2
        finally:
            remount(mnt, "rw")


def test_full_download_cache_does_not_stop_the_ingest(tmp_path, monkeypatch):
    """An immutable (old) archive hour is cached on disk; a full cache disk must not lose the hour."""
    from tests.httpfake import FakeServer, fast_client, ok

    hours = hour_files(3)
    with FakeServer() as srv, tmpfs(tmp_path / "cache", "64k") as cache:
        for h, body in hours:
            srv.script("/Archive/" + archive_name(h), ok(body))
        monkeypatch.setenv("REGIONAIR_CNEMC_BASE_URL", srv.url + "/Archive")
        fill(cache, 0)
        store = Store(tmp_path / "store")
        summary = ingest_cnemc_http(store, hours[0][0], hours[-1][0], run="r", client=fast_client(cache_dir=cache))
        assert summary.gaps == 0
        pd.testing.assert_frame_equal(stored_frame(store), expected_frame(3), check_dtype=False)
        assert not [p for p in cache.rglob("*") if p.is_file() and p.name != "ballast.bin"]  # no partial cache file
