"""Station-filtered (regional) ingest: only the wanted rows are read, many files per parse — and the store
ends up exactly as with reading every row and filtering, on real CNEMC rows."""

from __future__ import annotations

import warnings

import pandas as pd

from regionair.pipeline import ingest
from regionair.pipeline.ingest import ingest_cnemc_path
from regionair.store import Store
from tests.faultkit import archive_name, expected_frame, hour_files, stored_frame, write_archive_folder

KEEP = ["1490A", "1493A", "1496A", "2690A", "3033A"]


def _expected(n: int) -> pd.DataFrame:
    want = expected_frame(n)
    return want[want["station"].isin(KEEP)].reset_index(drop=True)


def test_filtered_ingest_stores_exactly_the_wanted_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "SELECTED_CHUNK", 7)  # several chunks and a partial last one
    folder = write_archive_folder(tmp_path / "files", 40)
    store = Store(tmp_path / "store")
    summary = ingest_cnemc_path(store, folder, run="regional", stations=KEEP)
    assert summary.files == 40 and summary.rejected == 0
    got = stored_frame(store)
    assert set(got["station"]) == set(KEEP)
    pd.testing.assert_frame_equal(got, _expected(40), check_dtype=False)
    # the skip list holds every file: a second run parses nothing
    again = ingest_cnemc_path(store, folder, run="again", stations=KEEP)
    assert again.skipped == 40 and again.added == 0


def test_a_bad_file_in_a_chunk_is_named_and_the_others_are_stored(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "SELECTED_CHUNK", 10)
    folder = write_archive_folder(tmp_path / "files", 20)
    hours = [h for h, _ in hour_files(20)]
    # file 5: a wanted station's PM2.5 is text → rejected with its own name, line and column
    bad = folder / archive_name(hours[4])
    lines = bad.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if line.split(",")[1] == "1493A")
    parts = lines[row].split(",")
    parts[10] = "abc"
    lines[row] = ",".join(parts)
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # file 8: truncated inside its last row (a station not wanted) → rejected as truncated
    cut = folder / archive_name(hours[7])
    data = cut.read_bytes().rstrip(b"\n")
    cut.write_bytes(data[: data.rfind(b"\n") + 30])
    # file 12: text in a row of a station not wanted → never read, the file is stored
    other = folder / archive_name(hours[11])
    lines = other.read_text(encoding="utf-8").splitlines()
    unwanted = next(i for i, line in enumerate(lines) if i and line.split(",")[1] not in KEEP)
    parts = lines[unwanted].split(",")
    parts[10] = "abc"
    lines[unwanted] = ",".join(parts)
    other.write_text("\n".join(lines) + "\n", encoding="utf-8")

    store = Store(tmp_path / "store")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = ingest_cnemc_path(store, folder, run="regional", stations=KEEP)
    assert summary.rejected == 2, summary.errors
    assert any(bad.name in e and f"line {row + 1}" in e and "pm2_5" in e for e in summary.errors), summary.errors
    assert any(cut.name in e and "truncated" in e for e in summary.errors), summary.errors
    got = stored_frame(store)
    want = _expected(20)
    want = want[~want["time"].isin([hours[4], hours[7]])].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
