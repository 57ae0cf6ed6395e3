"""The Parquet/DuckDB store: upsert, revisions, consistency under crashes and concurrency, queries.

Every test uses a real store directory under tmp_path; no mocks. Failures of the file system are
produced for real (read-only directory, file-size limit, killed processes).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regionair import store as store_mod
from regionair.core.nomenclature import HOURLY_COLUMNS, POLLUTANTS, PROVENANCE_COLUMNS, TZ
from regionair.errors import InputError, StoreError
from regionair.store import Store, resolve_store_path

REPO = Path(__file__).resolve().parents[2]
STATIONS = ("1490A", "1491A", "1492A")
SOURCE = "cnemc-archive"
#: 2022-01-31 20:00 … 2022-02-02 01:00 Beijing (30 hour-ending stamps across a month boundary)
TIMES = pd.date_range("2022-01-31 20:00", periods=30, freq="h", tz=TZ)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def three_stations_30_hours() -> pd.DataFrame:
    """3 stations × 30 hours, canonical columns, with these missing values (NaN):

    * 1490A PM2.5 at 2022-01-31 23:00
    * 1491A every pollutant at 2022-02-01 05:00 (the row exists, all values missing)
    * 1492A CO at 2022-02-01 00:00 (an hour of the natural day 2022-01-31)
    * 1492A every pollutant at 2022-02-02 01:00 (its last stamp)
    """
    rows = []
    for i, st in enumerate(STATIONS):
        for k, t in enumerate(TIMES):
            rows.append(
                {
                    "station": st,
                    "time": t,
                    "pm25": 10.0 * i + k + 1,
                    "pm10": 100.0 + i + k,
                    "so2": 5.0 + i,
                    "no2": 40.0 + k,
                    "co": round(0.1 * (k % 10) + 0.5, 1),
                    "o3": 60.0 + i,
                    "source": SOURCE,
                }
            )
    df = pd.DataFrame(rows, columns=list(HOURLY_COLUMNS))
    df["station"] = df["station"].astype("str")
    df["source"] = df["source"].astype("str")
    at = df.set_index(["station", "time"]).index
    df.loc[at == ("1490A", ts("2022-01-31 23:00")), "pm25"] = np.nan
    df.loc[at == ("1491A", ts("2022-02-01 05:00")), list(POLLUTANTS)] = np.nan
    df.loc[at == ("1492A", ts("2022-02-01 00:00")), "co"] = np.nan
    df.loc[at == ("1492A", ts("2022-02-02 01:00")), list(POLLUTANTS)] = np.nan
    return df


@pytest.fixture
def frame() -> pd.DataFrame:
    return three_stations_30_hours()


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture
def filled(store, frame) -> Store:
    store.ingest_hourly(frame)
    return store


def canonical(df: pd.DataFrame) -> pd.DataFrame:
    out = df[list(HOURLY_COLUMNS)].sort_values(["station", "time"]).reset_index(drop=True)
    return out.astype({"time": "datetime64[ns, Asia/Shanghai]", "station": "str", "source": "str"})


def live_files(root: Path, kind: str = "hourly") -> set[str]:
    man = json.loads((root / "manifest.json").read_text())
    return {f["path"] for f in man["files"] if f["kind"] == kind}


def run_python(code: str, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


# --------------------------------------------------------------------------------------------
# round trip, idempotence, revisions
# --------------------------------------------------------------------------------------------
def test_roundtrip_returns_identical_values_and_nan_stays_nan(store, frame):
    res = store.ingest_hourly(frame)
    assert (res.added, res.updated, res.unchanged, res.rejected) == (90, 0, 0, 0)
    assert res.start == ts("2022-01-31 20:00") and res.end == ts("2022-02-02 01:00")
    got = store.hourly(columns=())
    assert list(got.columns) == list(HOURLY_COLUMNS)
    assert str(got["time"].dtype) == "datetime64[ns, Asia/Shanghai]"
    pd.testing.assert_frame_equal(got, canonical(frame))
    row = got[(got["station"] == "1491A") & (got["time"] == ts("2022-02-01 05:00"))]
    assert row[list(POLLUTANTS)].isna().all(axis=None)  # missing stays missing, never 0
    assert (got[list(POLLUTANTS)] == 0).sum().sum() == 0


def test_partitions_by_source_and_month_on_disk(filled):
    root = filled.root
    for month in ("2022-01", "2022-02"):
        d = root / "hourly" / f"source={SOURCE}" / f"month={month}"
        assert [p.name for p in d.glob("part-*.parquet")], d
    # the month is the Beijing month of the stamp: 2022-02-01 00:00 Beijing is in February
    jan = [
        f for f in json.loads((root / "manifest.json").read_text())["files"] if f.get("month") == "2022-01"
    ]
    assert jan[0]["rows"] == 3 * 4 and jan[0]["max_time"] == "2022-01-31T15:00:00Z"


def test_reingest_changes_nothing(filled, frame):
    files = live_files(filled.root)
    data_version = filled.data_version
    res = filled.ingest_hourly(frame.sample(frac=1, random_state=1))  # order does not matter
    assert (res.added, res.updated, res.unchanged, res.rejected) == (0, 0, 90, 0)
    assert res.files_written == 0
    assert live_files(filled.root) == files
    assert filled.data_version == data_version  # caches keyed on data_version stay valid
    pd.testing.assert_frame_equal(filled.hourly(columns=()), canonical(frame))


def test_revised_value_replaces_old_and_old_is_kept(filled, frame):
    revised = frame.copy()
    at = (revised["station"] == "1490A") & (revised["time"] == ts("2022-02-01 10:00"))
    old_value = float(revised.loc[at, "pm25"].iloc[0])
    revised.loc[at, "pm25"] = 123.0
    res = filled.ingest_hourly(revised)
    assert (res.added, res.updated, res.unchanged) == (0, 1, 89)

    got = filled.hourly(stations="1490A", columns=["revision", "ingest_id"])
    row = got[got["time"] == ts("2022-02-01 10:00")].iloc[0]
    assert row["pm25"] == 123.0 and row["revision"] == 1 and row["ingest_id"] == res.ingest_id
    assert (got.loc[got["time"] != ts("2022-02-01 10:00"), "revision"] == 0).all()

    rev = filled.revisions()
    assert len(rev) == 1
    assert rev.loc[0, "station"] == "1490A" and rev.loc[0, "time"] == ts("2022-02-01 10:00")
    assert rev.loc[0, "pm25"] == old_value and rev.loc[0, "revision"] == 0
    assert rev.loc[0, "replaced_by"] == res.ingest_id
    # the revision leaves every other row as it was
    pd.testing.assert_frame_equal(filled.hourly(columns=()), canonical(revised))


@pytest.mark.parametrize(
    ("before", "after"),
    [(50.0, np.nan), (np.nan, 50.0)],
    ids=["value-invalidated-upstream", "missing-value-published-later"],
)
def test_nan_aware_revision(store, frame, before, after):
    at = (frame["station"] == "1491A") & (frame["time"] == ts("2022-02-01 12:00"))
    first = frame.copy()
    first.loc[at, "no2"] = before
    store.ingest_hourly(first)
    second = first.copy()
    second.loc[at, "no2"] = after
    res = store.ingest_hourly(second)
    assert (res.updated, res.unchanged) == (1, 89)
    got = store.hourly(start="2022-02-01 12:00", end="2022-02-01 12:00", stations="1491A")
    np.testing.assert_equal(got["no2"].to_numpy(), [after])
    np.testing.assert_equal(store.revisions()["no2"].to_numpy(), [before])


def test_column_absent_from_input_is_left_as_stored(store, frame):
    with_names = frame.assign(
        station_name=frame["station"].map({"1490A": "监测站", "1491A": "收费所", "1492A": "农科院"})
    )
    store.ingest_hourly(with_names)
    res = store.ingest_hourly(frame)  # no station_name column: not a change
    assert (res.updated, res.unchanged) == (0, 90)
    got = store.hourly(stations="1491A", columns=["station_name"])
    assert set(got["station_name"]) == {"收费所"}


def test_rejected_rows_are_counted_with_reasons(store, frame):
    bad = pd.DataFrame(
        {
            "station": [None, "", "1490A", "1490A", "1490A"],
            "time": [
                ts("2022-02-03 01:00"),
                ts("2022-02-03 01:00"),
                pd.NaT,
                ts("2022-02-03 01:30"),
                ts("2022-02-01 01:00"),
            ],
            "pm25": [1.0, 2.0, 3.0, 4.0, 999.0],
            "source": SOURCE,
        }
    )
    # the last bad row duplicates a key of `frame`: the later row in the input wins
    res = store.ingest_hourly(pd.concat([frame, bad], ignore_index=True))
    assert res.rejected_reasons == {
        "station missing": 2,
        "time missing or unparseable": 1,
        "time not on the hour": 1,
        "duplicate key in input (last kept)": 1,
    }
    assert (res.added, res.rejected, res.rows) == (90, 5, 95)
    got = store.hourly(start="2022-02-01 01:00", end="2022-02-01 01:00", stations="1490A")
    assert got["pm25"].tolist() == [999.0]
    assert got["pm10"].isna().all()  # a column the winning row does not carry is stored as missing
    log = store.ingest_log()
    assert json.loads(log["rejected_reasons"].iloc[-1])["station missing"] == 2
    assert log["status"].iloc[-1] == "partial"
    assert store.ingest_hourly(bad.iloc[:2]).rejected == 2
    assert store.ingest_log()["status"].iloc[-1] == "failed"  # nothing stored


def test_bad_input_raises_input_error(store, frame):
    with pytest.raises(InputError, match="DataFrame"):
        store.ingest_hourly([1, 2, 3])
    with pytest.raises(InputError, match=r"lacks column\(s\) \['time'\]"):
        store.ingest_hourly(frame.drop(columns="time"))
    with pytest.raises(InputError, match="no source"):
        store.ingest_hourly(frame.drop(columns="source"))
    with pytest.raises(InputError, match="'pm25' must be numeric"):
        store.ingest_hourly(frame.assign(pm25="—"))
    with pytest.raises(InputError, match="not a valid source name"):
        store.ingest_hourly(frame.drop(columns="source"), source="../../etc")
    with pytest.raises(InputError, match="source='quotsoft' given"):
        store.ingest_hourly(frame, source="quotsoft")
    with pytest.warns(UserWarning, match=r"\['foo'\] are not stored"):
        store.ingest_hourly(frame.assign(foo=1.0))
    assert not (store.root / "hourly" / "source=..").exists()


def test_naive_times_are_beijing_time(store, frame):
    naive = frame.assign(time=frame["time"].dt.tz_localize(None))
    store.ingest_hourly(naive)
    pd.testing.assert_frame_equal(store.hourly(columns=()), canonical(frame))


def test_real_cnemc_rows_round_trip(store, cnemc_2022_region):
    df = cnemc_2022_region
    kept = [c for c in df.columns if c in store_mod.HOURLY_SCHEMA.names]
    df = df[kept]
    res = store.ingest_hourly(df)
    assert res.added == len(df) == 464 + 912
    got = store.hourly(columns=[c for c in PROVENANCE_COLUMNS if c in kept])
    exp = df.sort_values(["station", "time"]).reset_index(drop=True)
    exp = exp.astype({"time": "datetime64[ns, Asia/Shanghai]"})
    pd.testing.assert_frame_equal(got[exp.columns], exp, check_dtype=False)
    assert store.ingest_hourly(df).unchanged == len(df)


# --------------------------------------------------------------------------------------------
# queries
# --------------------------------------------------------------------------------------------
def test_hourly_filters(filled, frame):
    got = filled.hourly(
        "2022-02-01 00:00", "2022-02-01 02:00", stations=["1490A", "1492A"], pollutants="pm25", columns=()
    )
    assert list(got.columns) == ["station", "time", "pm25", "source"]
    assert got["station"].tolist() == ["1490A"] * 3 + ["1492A"] * 3  # both bounds inclusive
    assert (
        got["time"].tolist() == [ts("2022-02-01 00:00"), ts("2022-02-01 01:00"), ts("2022-02-01 02:00")] * 2
    )
    assert got["pm25"].tolist() == [5.0, 6.0, 7.0, 25.0, 26.0, 27.0]
    # tz-aware bounds in another zone mean the same instants
    utc = filled.hourly(
        pd.Timestamp("2022-01-31 16:00Z"),
        pd.Timestamp("2022-01-31 18:00Z"),
        stations=["1490A", "1492A"],
        pollutants="pm25",
        columns=(),
    )
    pd.testing.assert_frame_equal(utc, got)
    assert filled.hourly(sources="quotsoft").empty
    assert filled.hourly("2023-01-01").empty
    with pytest.raises(InputError, match="valid:"):
        filled.hourly(pollutants=["pm2.5"])
    with pytest.raises(InputError, match="unknown column"):
        filled.hourly(columns=["aqi"])


def test_prefer_picks_one_source_per_station_hour(filled, frame):
    other = frame[frame["time"] <= ts("2022-02-01 00:00")].assign(source="quotsoft", pm25=-1.0)
    filled.ingest_hourly(other)
    both = filled.hourly(stations="1490A", pollutants="pm25", columns=())
    assert len(both) == 30 + 5
    one = filled.hourly(stations="1490A", pollutants="pm25", columns=(), prefer=["quotsoft", SOURCE])
    assert len(one) == 30
    assert (one.loc[one["time"] <= ts("2022-02-01 00:00"), "source"] == "quotsoft").all()
    assert (one.loc[one["time"] > ts("2022-02-01 00:00"), "source"] == SOURCE).all()
    # coverage counts a station-hour once, valid if any source has a value
    cov = filled.coverage("2022-01-31", "2022-01-31", stations="1490A")
    assert cov[["pm25", "pm10", "hours"]].to_numpy().tolist() == [[5, 5, 5]]


def test_coverage_counts_valid_hours_per_natural_day(filled):
    cov = filled.coverage()
    got = {(r.station, r.date.strftime("%m-%d")): (r.pm25, r.co, r.o3, r.hours) for r in cov.itertuples()}
    # natural day D = stamps D 01:00 … D+1 00:00: 01-31 holds 20:00–23:00 and 02-01 00:00 (5 stamps)
    assert got == {
        ("1490A", "01-31"): (4, 5, 5, 5),  # PM2.5 missing at 23:00
        ("1490A", "02-01"): (24, 24, 24, 24),
        ("1490A", "02-02"): (1, 1, 1, 1),
        ("1491A", "01-31"): (5, 5, 5, 5),
        ("1491A", "02-01"): (23, 23, 23, 24),  # all missing at 05:00, the row exists
        ("1491A", "02-02"): (1, 1, 1, 1),
        ("1492A", "01-31"): (5, 4, 5, 5),  # CO missing at 02-01 00:00 → counts against 01-31
        ("1492A", "02-01"): (24, 24, 24, 24),
        ("1492A", "02-02"): (0, 0, 0, 1),  # the only stamp is all missing
    }
    assert list(cov.columns) == ["station", "date", *POLLUTANTS, "hours"]
    assert str(cov["date"].dtype) == "datetime64[ns]"


def test_coverage_range_fills_days_without_data_with_zero(filled):
    cov = filled.coverage("2022-01-30", "2022-02-01", stations=["1490A", "9999A"], pollutants=["pm25"])
    table = cov.set_index(["station", cov["date"].dt.strftime("%m-%d")])["pm25"].to_dict()
    assert table == {
        ("1490A", "01-30"): 0,
        ("1490A", "01-31"): 4,
        ("1490A", "02-01"): 24,
        ("9999A", "01-30"): 0,
        ("9999A", "01-31"): 0,
        ("9999A", "02-01"): 0,
    }


def test_latest_hour_per_station_skips_all_missing_rows(filled):
    lat = filled.latest()
    assert lat["station"].tolist() == list(STATIONS)
    assert lat["time"].tolist() == [ts("2022-02-02 01:00"), ts("2022-02-02 01:00"), ts("2022-02-02 00:00")]
    assert lat.loc[2, "pm25"] == 20.0 + 28 + 1  # 1492A at its 29th stamp
    assert filled.latest(stations="1491A")["station"].tolist() == ["1491A"]
    fresh = filled.latest_time()
    assert fresh.to_dict("records") == [
        {"source": SOURCE, "time": ts("2022-02-02 01:00"), "stations": 2, "stations_total": 3}
    ]
    per_station = filled.latest_time(by="station")
    assert len(per_station) == 3


def test_latest_reads_older_months_for_stations_silent_since(filled, frame):
    # a fourth station last reported in January; newer data for the others arrives in March
    old = frame[frame["station"] == "1490A"].assign(station="3441A")
    old = old[old["time"] <= ts("2022-01-31 22:00")]
    filled.ingest_hourly(old)
    newer = frame[frame["station"] != "1490A"].assign(time=frame["time"] + pd.Timedelta(days=40))
    filled.ingest_hourly(newer)
    lat = filled.latest().set_index("station")["time"]
    assert lat["3441A"] == ts("2022-01-31 22:00")
    assert lat["1490A"] == ts("2022-02-02 01:00")
    assert lat["1491A"] == ts("2022-02-02 01:00") + pd.Timedelta(days=40)


def test_stats_and_version(filled):
    st = filled.stats()
    h = st[st["kind"] == "hourly"].iloc[0]
    assert (h["source"], h["rows"], h["stations"], h["files"]) == (SOURCE, 90, 3, 2)
    assert h["start"] == ts("2022-01-31 20:00") and h["end"] == ts("2022-02-02 01:00")
    assert filled.version == 1
    assert repr(filled).endswith("version=1)")


def test_queries_from_many_threads(filled, frame):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: filled.hourly(columns=()), range(32)))
    for r in results:
        pd.testing.assert_frame_equal(r, canonical(frame))


# --------------------------------------------------------------------------------------------
# model data, gaps, records, ingest log
# --------------------------------------------------------------------------------------------
def cams(run: str, pm25: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "point": "urumqi",
            "model": "cams_global",
            "run_time": ts(run),
            "time": pd.date_range("2022-02-01 01:00", periods=3, freq="h", tz=TZ),
            "pm25": pm25,
            "dust": [0.5, np.nan, 1.5],
        }
    )


def test_model_data_is_kept_apart_from_measurements(filled, frame):
    before = filled.hourly(columns=())
    assert filled.ingest_model(cams("2022-01-31 08:00", [1.0, 2.0, 3.0]), source="open-meteo").added == 3
    assert filled.ingest_model(cams("2022-01-31 20:00", [10.0, 20.0, 30.0]), source="open-meteo").added == 3
    pd.testing.assert_frame_equal(filled.hourly(columns=()), before)
    assert set(filled.latest()["source"]) == {SOURCE}
    latest_run = filled.model_aq()
    assert latest_run["pm25"].tolist() == [10.0, 20.0, 30.0]
    assert latest_run["run_time"].unique().tolist() == [ts("2022-01-31 20:00")]
    np.testing.assert_equal(latest_run["dust"].to_numpy(), [0.5, np.nan, 1.5])
    assert len(filled.model_aq(run="all")) == 6
    assert filled.model_aq(run="2022-01-31 08:00", variables="pm25")["pm25"].tolist() == [1.0, 2.0, 3.0]
    assert (filled.root / "model_aq" / "source=open-meteo" / "month=2022-02").is_dir()
    with pytest.raises(InputError, match="stored apart"):
        filled.ingest_hourly(cams("2022-01-31 08:00", [1.0, 2.0, 3.0]).rename(columns={"point": "station"}))
    with pytest.raises(InputError, match="rename 'station' to 'point'"):
        filled.ingest_model(frame.assign(run_time=pd.NaT))
    with pytest.raises(InputError, match="unknown model_aq variable"):
        filled.model_aq(variables=["no2"])


def test_weather_is_its_own_dataset(store):
    w = pd.DataFrame(
        {
            "point": ["shihezi"] * 2,
            "time": [ts("2022-02-01 01:00"), ts("2022-02-01 02:00")],
            "run_time": pd.NaT,  # reanalysis: no issue time
            "wind_speed_10m": [1.5, 2.5],
            "boundary_layer_height": [120.0, np.nan],
        }
    )
    assert store.ingest_weather(w, source="open-meteo").added == 2
    assert store.ingest_weather(w, source="open-meteo").unchanged == 2  # null run_time is a key value
    got = store.weather()
    assert got["wind_speed_10m"].tolist() == [1.5, 2.5]
    assert store.model_aq().empty and store.hourly().empty


def test_gaps(filled):
    filled.record_gaps(
        ["2022-02-03 05:00", "2022-02-02 01:00"], source=SOURCE, reason="HTTP 404 not published"
    )
    res = filled.record_gaps("2022-02-03 05:00", source=SOURCE, reason="HTTP 404 not published")
    assert res.unchanged == 1
    gaps = filled.gaps()
    assert gaps["time"].tolist() == [ts("2022-02-03 05:00")]  # 02-02 01:00 has data since
    assert gaps["reason"].tolist() == ["HTTP 404 not published"]
    assert len(filled.gaps(include_filled=True)) == 2
    with pytest.raises(InputError, match="reason"):
        filled.record_gaps("2022-02-03 06:00", source=SOURCE)


def test_records_round_trip(store):
    v1 = store.append_records("decisions", pd.DataFrame({"who": ["lead"], "what": ["use HJ 633-2026"]}))
    v2 = store.append_records(
        "decisions", pd.DataFrame({"who": ["ui", "cli"], "what": ["a", "b"], "n": [1, 2]})
    )
    assert v2 == v1 + 1
    got = store.records("decisions")
    assert got["who"].tolist() == ["lead", "ui", "cli"]
    assert np.isnan(got["n"].iloc[0]) and got["n"].iloc[1:].tolist() == [1, 2]
    assert str(got["recorded_at"].dtype) == "datetime64[ns, Asia/Shanghai]"
    assert store.records("nothing_here").empty
    for bad in ("Audit", "../x", "a-b", ""):
        with pytest.raises(InputError, match="not allowed"):
            store.append_records(bad, pd.DataFrame({"a": [1]}))


def test_records_are_compacted(store):
    for i in range(store_mod.MAX_RECORD_FILES + 5):
        store.append_records("audit", pd.DataFrame({"i": [i]}))
    assert store.records("audit")["i"].tolist() == list(range(store_mod.MAX_RECORD_FILES + 5))
    man = json.loads((store.root / "manifest.json").read_text())
    assert len([f for f in man["files"] if f.get("table") == "audit"]) <= store_mod.MAX_RECORD_FILES


def test_small_ingests_append_then_compact(store, frame):
    for t in TIMES[5:25]:  # 20 single-hour ingests into February
        res = store.ingest_hourly(frame[frame["time"] == t])
        assert res.added == 3
    assert len(live_files(store.root)) <= store_mod.MAX_PARTITION_FILES
    got = store.hourly(columns=())
    pd.testing.assert_frame_equal(got, canonical(frame[frame["time"].isin(TIMES[5:25])]))


def test_ingest_log_records_every_run(filled, frame):
    filled.ingest_hourly(frame, run="backfill-1")
    filled.log_run(
        SOURCE, start="2022-02-03 01:00", end="2022-02-03 05:00", errors=["HTTP 500 at 03:00"], duration_s=1.5
    )
    log = filled.ingest_log()
    assert log["status"].tolist() == ["ok", "ok", "failed"]
    assert log["added"].tolist() == [90, 0, 0]
    assert log["unchanged"].tolist() == [0, 90, 0]
    assert log["run"].tolist()[1] == "backfill-1"
    assert json.loads(log["errors"].iloc[2]) == ["HTTP 500 at 03:00"]
    assert log["start"].iloc[0] == ts("2022-01-31 20:00") and log["end"].iloc[0] == ts("2022-02-02 01:00")
    assert (log["duration_s"] > 0).all()
    assert log["version"].tolist() == [1, 2, 3]


# --------------------------------------------------------------------------------------------
# consistency: snapshots, crashes, corruption, permissions, disk full, locks
# --------------------------------------------------------------------------------------------
def test_reader_holding_a_snapshot_sees_the_old_version(filled, frame):
    snap = filled.snapshot()
    writer = Store(filled.root)
    writer.ingest_hourly(frame.assign(pm25=frame["pm25"] + 1000))
    old = filled.hourly(snapshot=snap, columns=())
    new = filled.hourly(columns=())
    pd.testing.assert_frame_equal(old, canonical(frame))
    pd.testing.assert_frame_equal(new, canonical(frame.assign(pm25=frame["pm25"] + 1000)))


def test_concurrent_reader_never_sees_a_mix(filled, frame):
    """A writer alternates every value between two versions; readers must see one or the other."""
    base = canonical(frame)["pm25"].to_numpy()
    stop = threading.Event()
    seen: list[set] = []
    errors: list[BaseException] = []

    def read() -> None:
        reader = Store(filled.root)
        while not stop.is_set():
            try:
                got = reader.hourly(pollutants="pm25", columns=())["pm25"].to_numpy()
            except BaseException as exc:  # report in the main thread
                errors.append(exc)
                return
            offsets = set(np.round(got - base, 6)[~np.isnan(base)].tolist())
            seen.append(offsets)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for k in range(1, 9):
            Store(filled.root).ingest_hourly(frame.assign(pm25=frame["pm25"] + 1000 * (k % 2)))
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert seen and all(s in ({0.0}, {1000.0}) for s in seen)


def test_leftovers_of_a_killed_writer_are_ignored_then_cleaned(filled, frame):
    part_dir = filled.root / "hourly" / f"source={SOURCE}" / "month=2022-02"
    tmp = part_dir / ".tmp-0123456789abcdef0123456789abcdef.parquet"
    tmp.write_bytes(b"PAR1 half a file")
    orphan = part_dir / ("part-" + "f" * 32 + ".parquet")  # renamed but never committed
    shutil.copy(next(p for p in part_dir.glob("part-*.parquet")), orphan)
    pd.testing.assert_frame_equal(Store(filled.root).hourly(columns=()), canonical(frame))
    filled.append_records("audit", pd.DataFrame({"event": ["any write"]}))
    assert not tmp.exists() and not orphan.exists()
    pd.testing.assert_frame_equal(filled.hourly(columns=()), canonical(frame))


WRITE_A_YEAR = """
import sys
import numpy as np, pandas as pd
from regionair.store import Store
times = pd.date_range("2023-01-01 01:00", "2024-01-01 00:00", freq="h", tz="Asia/Shanghai")
stations = [f"{i:04d}A" for i in range(60)]
rng = np.random.default_rng(1)
df = pd.DataFrame({
    "station": np.repeat(stations, len(times)),
    "time": np.tile(times, len(stations)),
    **{p: rng.random(len(times) * len(stations)) * 100 for p in ("pm25", "pm10", "so2", "no2", "co", "o3")},
    "source": "cnemc-archive",
})
print("start", flush=True)
Store(sys.argv[1]).ingest_hourly(df)
print("done", flush=True)
"""


def test_killed_ingest_leaves_the_store_valid(filled, frame):
    before = {p for p in filled.root.rglob("*") if p.is_file()}
    v0 = filled.version
    proc = run_python(WRITE_A_YEAR, str(filled.root))
    try:
        assert proc.stdout.readline().strip() == "start", proc.stderr.read()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill it as soon as it has written something
            if any(p.is_file() and p not in before for p in (filled.root / "hourly").rglob("*")):
                break
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    reader = Store(filled.root)
    assert reader.version in (v0, v0 + 1)
    got = reader.hourly(end="2022-12-31", columns=())
    pd.testing.assert_frame_equal(got, canonical(frame))
    if reader.version == v0:  # killed mid-write (the usual case): none of its rows are visible
        assert reader.hourly("2023-01-01").empty
    # the lock died with the process; the next writer cleans up after it
    Store(filled.root, lock_timeout=5).append_records("audit", pd.DataFrame({"event": ["after kill"]}))
    assert not list(filled.root.rglob(".tmp-*"))
    man = json.loads((filled.root / "manifest.json").read_text())
    referenced = {f["path"] for f in man["files"]} | {r["path"] for r in man["retired"]}
    on_disk = {p.relative_to(filled.root).as_posix() for p in filled.root.rglob("part-*.parquet")}
    assert on_disk == referenced


def test_replaced_files_outlive_the_grace_period_only(filled, frame, monkeypatch):
    snap = filled.snapshot()
    filled.ingest_hourly(frame.assign(pm25=frame["pm25"] + 1))
    pd.testing.assert_frame_equal(filled.hourly(snapshot=snap, columns=()), canonical(frame))  # within grace
    monkeypatch.setattr(store_mod.commit, "GRACE_SECONDS", 0.0)  # where a commit keeps retired files
    filled.append_records("audit", pd.DataFrame({"event": ["later write"]}))
    with pytest.raises(StoreError, match="missing or unreadable"):
        filled.hourly(snapshot=snap)
    assert len(filled.hourly()) == 90  # the current snapshot is complete


def test_corrupt_manifest_recovers_from_backup(filled, frame):
    revised = frame.assign(pm25=frame["pm25"] + 1)
    filled.ingest_hourly(revised)  # version 2; the backup holds version 1
    (filled.root / "manifest.json").write_text('{"format": 1, "version": 2, "files": [')
    reader = Store(filled.root)
    with pytest.warns(UserWarning, match=r"corrupt .*\(version 1\)\. The last commit is lost"):
        got = reader.hourly(columns=())
    pd.testing.assert_frame_equal(got, canonical(frame))
    assert reader.version == 1
    with pytest.warns(UserWarning, match="corrupt"):
        res = Store(filled.root).ingest_hourly(revised)  # re-running the lost ingest repairs the store
    assert res.updated == 90 - 3  # the 3 rows whose pm25 is missing are unchanged (NaN + 1 is NaN)
    assert res.version == 3  # version 2 was lost: never reused as a cache key
    json.loads((filled.root / "manifest.json").read_text())
    pd.testing.assert_frame_equal(Store(filled.root).hourly(columns=()), canonical(revised))


def test_corrupt_manifest_without_usable_backup_raises(filled):
    (filled.root / "manifest.json").write_bytes(b"\x00\x00")
    with pytest.raises(StoreError, match="corrupt .* no manifest.json.bak"):
        Store(filled.root).hourly()
    (filled.root / "manifest.json.bak").write_text("[]")
    with pytest.raises(StoreError, match="corrupt .* too"):
        Store(filled.root).hourly()


def test_manifest_paths_are_confined_to_the_store(filled):
    man = json.loads((filled.root / "manifest.json").read_text())
    man["files"][0]["path"] = "hourly/../../../etc/passwd"
    (filled.root / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(StoreError, match="outside the store"):
        Store(filled.root).hourly()


@contextmanager
def read_only(root: Path):
    """Make every directory of ``root`` unwritable, for real (chmod; as root: chattr +i)."""
    dirs = [root, *(p for p in root.rglob("*") if p.is_dir())]
    if os.geteuid() != 0:
        modes = {d: d.stat().st_mode for d in dirs}
        for d in dirs:
            d.chmod(0o555)
        try:
            yield
        finally:
            for d, m in modes.items():
                d.chmod(m)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a directory read-only")
    done = []
    try:
        for d in dirs:
            if subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode != 0:
                pytest.skip("running as root and chattr +i is not permitted here")
            done.append(d)
        yield
    finally:
        for d in done:
            subprocess.run(["chattr", "-i", str(d)], check=True)


def test_read_only_store_gives_clear_error_and_stays_readable(filled, frame):
    manifest = (filled.root / "manifest.json").read_bytes()
    files = sorted(p for p in filled.root.rglob("*"))
    with read_only(filled.root):
        with pytest.raises(StoreError, match=r"not writable .* can still be read\. Hint"):
            filled.ingest_hourly(frame.assign(time=frame["time"] + pd.Timedelta(days=400)))
        pd.testing.assert_frame_equal(Store(filled.root).hourly(columns=()), canonical(frame))
    assert (filled.root / "manifest.json").read_bytes() == manifest
    assert sorted(p for p in filled.root.rglob("*")) == files


DISK_FULL = """
import resource, signal, sys
import numpy as np, pandas as pd
from regionair.errors import StoreError
from regionair.store import Store
times = pd.date_range("2023-03-01 01:00", periods=24 * 20, freq="h", tz="Asia/Shanghai")
rng = np.random.default_rng(2)
df = pd.DataFrame({"station": np.repeat(["a", "b", "c"], len(times)), "time": np.tile(times, 3),
                   "pm25": rng.random(3 * len(times)), "source": "cnemc-archive"})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (8000, 8000))
try:
    Store(sys.argv[1]).ingest_hourly(df)
except StoreError as exc:
    print("StoreError:", exc)
"""


def test_full_disk_gives_clear_error_and_no_corruption(filled, frame):
    manifest = (filled.root / "manifest.json").read_bytes()
    proc = run_python(DISK_FULL, str(filled.root))
    out, err = proc.communicate(timeout=120)
    assert "StoreError: cannot ingest hourly data: disk full or file-size limit" in out, err
    assert "The store is unchanged" in out
    assert (filled.root / "manifest.json").read_bytes() == manifest
    assert not list(filled.root.rglob(".tmp-*"))
    pd.testing.assert_frame_equal(Store(filled.root).hourly(columns=()), canonical(frame))


HOLD_LOCK = """
import sys, time
from regionair.store import Store
with Store(sys.argv[1]).writer():
    print("locked", flush=True)
    if sys.argv[2] == "until-stdin":
        sys.stdin.readline()
    else:
        time.sleep(float(sys.argv[2]))
    print("released", time.time(), flush=True)
"""


def test_second_writer_fails_cleanly_while_another_holds_the_lock(filled, frame):
    proc = run_python(HOLD_LOCK, str(filled.root), "until-stdin")
    try:
        assert proc.stdout.readline().strip() == "locked", proc.stderr.read()
        blocked = Store(filled.root, lock_timeout=0.3)
        with pytest.raises(StoreError, match=rf"another ingest is running \(pid {proc.pid}"):
            blocked.ingest_hourly(frame.assign(pm25=1.0))
        assert blocked.version == 1
        pd.testing.assert_frame_equal(blocked.hourly(columns=()), canonical(frame))  # readers never wait
    finally:
        proc.communicate("\n", timeout=30)
    assert blocked.ingest_hourly(frame.assign(pm25=1.0)).updated > 0


def test_second_writer_waits_for_the_lock(filled, frame):
    proc = run_python(HOLD_LOCK, str(filled.root), "2")
    try:
        assert proc.stdout.readline().strip() == "locked", proc.stderr.read()
        started = time.time()
        res = Store(filled.root, lock_timeout=60).ingest_hourly(frame.assign(pm25=1.0))
        done = time.time()
    finally:
        out, _ = proc.communicate(timeout=30)
    released = float(out.split()[-1])
    assert started < released <= done  # it started while the lock was held, and waited for it
    assert res.updated > 0


def test_missing_store_and_path_resolution(tmp_path, monkeypatch):
    with pytest.raises(StoreError, match="no store at"):
        Store(tmp_path / "nowhere", create=False)
    empty = Store(tmp_path / "nowhere")
    assert empty.version == 0 and empty.hourly().empty and empty.latest().empty and empty.coverage().empty
    assert not (tmp_path / "nowhere").exists()  # reading never creates anything
    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path / "env"))
    assert resolve_store_path() == tmp_path / "env"
    assert resolve_store_path(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("REGIONAIR_STORE")
    assert resolve_store_path() == REPO / "data" / "store"
