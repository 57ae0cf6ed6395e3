"""CNEMC archive transport: URLs, gaps, caching, local files/folders/zips (recorded payloads, local server only)."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from regionair.core.nomenclature import TZ
from regionair.errors import InputError, SourceError
from regionair.sources import cnemc_http
from regionair.sources.cnemc_http import (
    DEFAULT_BASE_URL,
    archive_cache_key,
    archive_url,
    fetch_archive_hours,
    iter_local_archive,
    read_local_archive,
)
from tests.httpfake import RECORDED, fast_client, ok, status

REC = RECORDED / "cnemc"
T00 = (REC / "2022-01-01T00.csv").read_bytes()
T01 = (REC / "2022-01-01T01.csv").read_bytes()


@pytest.mark.parametrize(
    "hour, expected",
    [
        ("2022-01-01 00:00", "2022-01-01/2022-01-01T00.csv"),
        (pd.Timestamp("2021-12-31T16:00Z"), "2022-01-01/2022-01-01T00.csv"),  # 00:00 Beijing
        (pd.Timestamp("2026-05-01 12:00", tz="Asia/Shanghai"), "2026-05-01/2026-05-01T12.csv"),
        (pd.Timestamp("2026-05-01 12:00", tz="Asia/Urumqi"), "2026-05-01/2026-05-01T14.csv"),  # UTC+6 → +8
    ],
    ids=["naive-beijing", "utc", "beijing", "urumqi-tz"],
)
def test_archive_url_default_base(monkeypatch, hour, expected):
    monkeypatch.delenv("REGIONAIR_CNEMC_BASE_URL", raising=False)
    assert archive_url(hour) == f"{DEFAULT_BASE_URL}/{expected}"
    assert DEFAULT_BASE_URL == "https://raw.githubusercontent.com/HeQinWill/CNEMC/main/Archive"


def test_archive_url_base_from_argument_and_environment(monkeypatch):
    monkeypatch.setenv("REGIONAIR_CNEMC_BASE_URL", "https://mirror.example/cnemc/Archive/")
    assert archive_url("2022-01-01 05:00") == "https://mirror.example/cnemc/Archive/2022-01-01/2022-01-01T05.csv"
    assert archive_url("2022-01-01 05:00", base_url="http://h/A") == "http://h/A/2022-01-01/2022-01-01T05.csv"
    assert archive_cache_key("2022-01-01 05:00") == "cnemc-archive/2022-01-01/2022-01-01T05.csv"


@pytest.mark.parametrize("bad", ["2022-01-01 00:30", "not a time"])
def test_archive_url_refuses_bad_hours(bad):
    with pytest.raises(InputError):
        archive_url(bad)


def test_fetch_hours_with_a_gap(server):
    server.script("/Archive/2022-01-01/2022-01-01T00.csv", ok(T00))
    server.script("/Archive/2022-01-01/2022-01-01T01.csv", ok(T01))
    client = fast_client()
    results = list(
        fetch_archive_hours("2022-01-01 00:00", "2022-01-01 02:00", client=client, base_url=server.url + "/Archive")
    )
    assert [r.path for r in server.requests] == [
        "/Archive/2022-01-01/2022-01-01T00.csv",
        "/Archive/2022-01-01/2022-01-01T01.csv",
        "/Archive/2022-01-01/2022-01-01T02.csv",
    ]
    assert all(r.query == [] for r in server.requests)
    assert [r.hour for r in results] == list(pd.date_range("2022-01-01 00:00", periods=3, freq="h", tz=TZ))
    assert [r.is_gap for r in results] == [False, False, True]
    assert results[2].gap_reason == "not published (HTTP 404)"
    assert results[2].url == server.url + "/Archive/2022-01-01/2022-01-01T02.csv"
    f0 = results[0].frame.set_index("station")
    assert len(f0) == 6
    assert f0.loc["1490A", "pm25"] == 174 and f0.loc["1490A", "co"] == 3.1
    assert f0.loc["1490A", "o3"] == 4  # 2022 layout: current 1-h O3 is in o3_24h
    assert pd.isna(f0.loc["1496A", "pm25"])  # outage: empty field, never 0
    assert (results[1].frame["time"] == pd.Timestamp("2022-01-01 01:00", tz=TZ)).all()


def test_fetch_hours_station_filter(server):
    server.script("/Archive/2022-01-01/2022-01-01T00.csv", ok(T00))
    (res,) = fetch_archive_hours(
        "2022-01-01 00:00", "2022-01-01 00:00", client=fast_client(), base_url=server.url + "/Archive",
        stations=["2709A", "9999A"],
    )
    assert res.frame["station"].tolist() == ["2709A"]


def test_old_hours_cached_recent_hours_refetched(server, tmp_path):
    server.script("/Archive/2022-01-01/2022-01-01T00.csv", ok(T00))
    base = server.url + "/Archive"
    client = fast_client(cache_dir=tmp_path)
    for _ in range(2):
        list(fetch_archive_hours("2022-01-01 00:00", "2022-01-01 00:00", client=client, base_url=base,
                                 now="2022-01-10 00:00"))
    assert server.count() == 1
    assert (tmp_path / "cnemc-archive/2022-01-01/2022-01-01T00.csv").read_bytes() == T00
    # the cache folder is itself a valid local archive
    assert [n for n, _ in iter_local_archive(tmp_path)] == [str(tmp_path / "cnemc-archive/2022-01-01/2022-01-01T00.csv")]

    client2 = fast_client(cache_dir=tmp_path / "other")
    for _ in range(2):  # within 48 h of "now": the archive may still back-fill → no cache
        list(fetch_archive_hours("2022-01-01 00:00", "2022-01-01 00:00", client=client2, base_url=base,
                                 now="2022-01-02 00:00"))
    assert server.count() == 3
    assert not (tmp_path / "other").exists()


def test_unparseable_file_raises_or_becomes_gap(server, tmp_path):
    bad = b"timepoint,stationcode\n2022-01-01T00:00:00,1490A\n"
    server.script("/Archive/2022-01-01/2022-01-01T00.csv", ok(bad))
    base = server.url + "/Archive"
    client = fast_client(cache_dir=tmp_path)
    with pytest.raises(SourceError, match="does not parse") as err:
        list(fetch_archive_hours("2022-01-01 00:00", "2022-01-01 00:00", client=client, base_url=base,
                                 now="2023-01-01"))
    assert isinstance(err.value.__cause__, InputError)
    assert not client.cached("cnemc-archive/2022-01-01/2022-01-01T00.csv")  # evicted
    (res,) = fetch_archive_hours("2022-01-01 00:00", "2022-01-01 00:00", client=client, base_url=base,
                                 on_error="gap", now="2023-01-01")
    assert res.is_gap and res.gap_reason.startswith("unreadable file:")


def test_transport_failure_raises_or_becomes_gap(server):
    server.script("/Archive/2022-01-01/2022-01-01T00.csv", status(503, "busy"))
    server.script("/Archive/2022-01-01/2022-01-01T01.csv", ok(T01))
    base = server.url + "/Archive"
    with pytest.raises(SourceError) as err:
        list(fetch_archive_hours("2022-01-01 00:00", "2022-01-01 01:00", client=fast_client(retries=1),
                                 base_url=base))
    assert err.value.status == 503
    results = list(fetch_archive_hours("2022-01-01 00:00", "2022-01-01 01:00", client=fast_client(retries=1),
                                       base_url=base, on_error="gap"))
    assert results[0].is_gap and "HTTP 503" in results[0].gap_reason
    assert not results[1].is_gap


def test_bad_range_and_option():
    with pytest.raises(InputError, match="before start"):
        list(fetch_archive_hours("2022-01-02", "2022-01-01", client=fast_client()))
    with pytest.raises(InputError, match="on_error"):
        list(fetch_archive_hours("2022-01-01", "2022-01-01", client=fast_client(), on_error="ignore"))


# --------------------------------------------------------------------------- local files


def _tree(root):
    (root / "2022-01-01").mkdir(parents=True)
    (root / "2022-01-01" / "2022-01-01T01.csv").write_bytes(T01)
    (root / "2022-01-01" / "2022-01-01T00.csv").write_bytes(T00)
    (root / ".hidden.csv").write_bytes(b"junk")
    (root / "notes.txt").write_text("ignored")
    return root


def test_iter_local_file_folder_and_zip(tmp_path):
    root = _tree(tmp_path / "arch")
    names = [n for n, _ in iter_local_archive(root)]
    assert names == [str(root / "2022-01-01/2022-01-01T00.csv"), str(root / "2022-01-01/2022-01-01T01.csv")]
    (single,) = iter_local_archive(root / "2022-01-01" / "2022-01-01T00.csv")
    assert single[1] == T00

    z = tmp_path / "bundle.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2022-01-01/2022-01-01T01.csv", T01)
        zf.writestr("2022-01-01/2022-01-01T00.csv", T00)
        zf.writestr("__MACOSX/2022-01-01/._2022-01-01T00.csv", b"junk")
        zf.writestr("README.txt", b"x")
    items = list(iter_local_archive(z))
    assert [n for n, _ in items] == [f"{z}:2022-01-01/2022-01-01T00.csv", f"{z}:2022-01-01/2022-01-01T01.csv"]
    assert items[0][1] == T00


def test_read_local_archive_folder(tmp_path):
    frame = read_local_archive(_tree(tmp_path / "arch"), stations=["1490A", "2709A"])
    assert frame["station"].tolist() == ["1490A", "2709A", "1490A", "2709A"]
    assert frame["pm25"].tolist() == [174.0, 205.0, 166.0, 212.0]


def test_zip_bomb_member_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(cnemc_http, "MAX_MEMBER_RATIO", 50)
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.csv", b"0" * 2_000_000)
    with pytest.raises(InputError, match="ratio"):
        list(iter_local_archive(z))


@pytest.mark.parametrize("name, match", [("x.xlsx", "expected a .csv"), ("missing.csv", "no such file")])
def test_local_bad_paths(tmp_path, name, match):
    p = tmp_path / name
    if name.endswith(".xlsx"):
        p.write_bytes(b"PK")
    with pytest.raises(InputError, match=match):
        list(iter_local_archive(p))


def test_local_corrupt_zip(tmp_path):
    z = tmp_path / "bad.zip"
    z.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable zip"):
        list(iter_local_archive(z))
