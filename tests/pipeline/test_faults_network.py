"""Network faults during a real ingest: the CNEMC archive over HTTP from a local fault-injecting server.

A real HTTP server on 127.0.0.1 (tests/httpfake.py) serves recorded archive files with injected
faults — timeouts, connection resets, 429 + Retry-After, 500/502/503, truncated bodies, HTML error
pages, garbage instead of CSV, 404 for unpublished hours. ``regionair.pipeline.ingest.ingest_cnemc_http``
runs against it (base URL from ``REGIONAIR_CNEMC_BASE_URL``, an injected sleep that records instead
of sleeping). Expected: bounded retries with back-off, every lost hour recorded as a gap with its
reason, the run finishes, a re-run fills the gaps, the dashboard shows staleness.
"""

from __future__ import annotations

import pandas as pd
import pytest

from regionair.pipeline.ingest import ingest_cnemc_http, watch_once
from regionair.store import Store
from tests.faultkit import ROOT, archive_name, expected_frame, hour_files, stored_frame
from tests.httpfake import FakeServer, fast_client, ok, reset, slow, status, truncated

N = 12
HOURS = hour_files(N)
T = [h for h, _ in HOURS]
BODY = {h: b for h, b in HOURS}
HTML = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"


def path(hour) -> str:
    return "/Archive/" + archive_name(hour)


@pytest.fixture
def server(server, monkeypatch):
    """The shared fake server (conftest.py), with the CNEMC archive client pointed at it."""
    monkeypatch.setenv("REGIONAIR_CNEMC_BASE_URL", server.url + "/Archive")
    return server


def script_faults(srv: FakeServer) -> dict[int, str]:
    """Hour index → fault that loses it for good (the others recover after retries)."""
    ok_ = lambda i: ok(BODY[T[i]])  # noqa: E731
    srv.script(path(T[0]), ok_(0))
    srv.script(path(T[1]), status(503, "busy"), status(502, "gateway"), ok_(1))          # 5xx then ok
    srv.script(path(T[2]), status(429, "slow down", {"Retry-After": "3"}), ok_(2))      # Retry-After honoured
    # T[3]: no route → 404 = not published
    srv.script(path(T[4]), reset(), ok_(4))                                              # connection reset
    srv.script(path(T[5]), truncated(BODY[T[5]][:300], declared=len(BODY[T[5]])))       # always truncated
    srv.script(path(T[6]), ok(HTML, content_type="text/html"))                           # HTML error page
    srv.script(path(T[7]), slow(1.0, BODY[T[7]]))                                        # always too slow
    srv.script(path(T[8]), status(500, "boom"))                                          # 500 for good
    srv.script(path(T[9]), ok(b"\x89PNG\r\n\x1a\n\x00\x00garbage", content_type="text/csv"))  # not a CSV
    srv.script(path(T[10]), truncated(BODY[T[10]][:200], declared=len(BODY[T[10]])), ok_(10))  # truncated once
    srv.script(path(T[11]), status(429, "", {"Retry-After": "86400"}))                   # asks for a day
    return {3: "not published (HTTP 404)", 5: "truncated", 6: "HTML page", 7: "timed out", 8: "HTTP 500",
            9: "unreadable file", 11: "try again later"}


def all_ok(srv: FakeServer) -> None:
    for h in T:
        srv.script(path(h), ok(BODY[h]))


def test_faulty_server_run_finishes_records_gaps_and_rerun_fills_them(server, tmp_path):
    lost = script_faults(server)
    store = Store(tmp_path / "store")
    client = fast_client(retries=2, backoff=0.5, base_timeout=(1.0, 0.3), max_retry_after=60)

    summary = ingest_cnemc_http(store, T[0], T[-1], run="r1", client=client)

    # the run finished; what could be fetched is stored, every lost hour is a gap with its reason
    assert summary.files == N and summary.gaps == len(lost) and not summary.errors
    got_hours = set(store.hourly(columns=())["time"])
    assert got_hours == {T[i] for i in range(N) if i not in lost}
    gaps = store.gaps(sources="cnemc-archive")
    assert list(gaps["time"]) == [T[i] for i in sorted(lost)]
    for i, why in lost.items():
        reason = gaps.loc[gaps["time"] == T[i], "reason"].iloc[0]
        assert why in reason, (i, reason)
    assert gaps["detail"].str.startswith(server.url).all()  # the URL asked, for the operator

    # bounded retries: 404 and HTML are never retried, the others at most retries + 1 times
    assert server.count(path(T[3])) == 1 and server.count(path(T[6])) == 1 and server.count(path(T[9])) == 1
    for i in (5, 7, 8):
        assert server.count(path(T[i])) == 3
    assert server.count(path(T[11])) == 1  # a Retry-After beyond the cap ends the hour at once
    # exponential back-off (0.5, 1.0 …) and Retry-After honoured (3 s), never longer than the caps
    assert 3.0 in client.sleeps.calls
    assert max(client.sleeps.calls) <= 60
    assert set(client.sleeps.calls) <= {0.5, 1.0, 3.0}
    assert client.stats.requests == server.count()

    # stored values are exactly the files' values (no partial or zero-filled rows)
    want = expected_frame(N)
    want = want[~want["time"].isin([T[i] for i in lost])].reset_index(drop=True)
    pd.testing.assert_frame_equal(stored_frame(store), want, check_dtype=False)

    # the server recovers: a re-run fetches only the missing hours and fills every gap
    all_ok(server)
    before = server.count()
    again = ingest_cnemc_http(store, T[0], T[-1], run="r2", client=fast_client())
    assert again.skipped == N - len(lost) and again.gaps == 0
    assert server.count() - before == len(lost)
    assert store.gaps(sources="cnemc-archive").empty
    assert store.gaps(sources="cnemc-archive", include_filled=True)["filled"].all()
    pd.testing.assert_frame_equal(stored_frame(store), expected_frame(N), check_dtype=False)
    # a third run is a no-op: no duplicate rows ever
    third = ingest_cnemc_http(store, T[0], T[-1], run="r3", client=fast_client())
    assert third.skipped == N and third.added == 0 and len(store.hourly(columns=())) == len(expected_frame(N))


def test_server_down_entirely_run_finishes_with_gaps_only(server, tmp_path):
    for h in T[:4]:
        server.script(path(h), status(503, "maintenance"))
    store = Store(tmp_path / "store")
    client = fast_client(retries=3, backoff=1.0)
    summary = ingest_cnemc_http(store, T[0], T[3], run="r", client=client)
    assert summary.gaps == 4 and summary.added == 0
    assert client.sleeps.calls == [1.0, 2.0, 4.0] * 4  # bounded: 3 retries per hour, exponential
    assert store.hourly().empty and len(store.gaps()) == 4
    assert store.gaps()["reason"].str.contains("giving up after 4 attempt").all()


def test_connection_refused_is_a_gap_not_a_crash(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("REGIONAIR_CNEMC_BASE_URL", f"http://127.0.0.1:{port}/Archive")
    store = Store(tmp_path / "store")
    summary = ingest_cnemc_http(store, T[0], T[1], run="r", client=fast_client(retries=1))
    assert summary.gaps == 2
    assert store.gaps()["reason"].str.contains("connection failed").all()


def test_watch_cycle_survives_a_dead_source(server, tmp_path):
    """The unattended loop: every hour of the window fails, the cycle returns, nothing escapes."""
    store = Store(tmp_path / "store")
    now = pd.Timestamp.now(tz="Asia/Shanghai").floor("h")
    for k in range(4):
        server.script(path(now - pd.Timedelta(hours=k)), status(502, "bad gateway"))
    out = watch_once(store, sources=("cnemc-archive",), hours_back=3, client=fast_client(retries=1))
    assert len(out) == 1 and out[0].gaps == 4 and out[0].added == 0
    assert len(store.gaps()) == 4


def test_dashboard_shows_staleness_after_a_failed_run(server, tmp_path, monkeypatch):
    """After a run that lost its last hours, the page shows how old the data is (red banner)."""
    from streamlit.testing.v1 import AppTest


    script_faults(server)
    root = tmp_path / "store"
    ingest_cnemc_http(Store(root), T[0], T[-1], run="r1", client=fast_client(retries=1))
    monkeypatch.setenv("REGIONAIR_STORE", str(root))
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=60)
    at.run()
    assert not at.exception
    banners = " ".join(e.value for e in at.error)
    assert ("中国环境监测总站" in banners or "CNEMC" in banners) and "cnemc-archive" not in banners and ("超过6小时" in banners or "over 6 h" in banners), banners


def test_quotsoft_days_lost_to_faults_are_recorded_as_gaps(tmp_path, monkeypatch):
    """quotsoft over HTTP: a 404 day and a day that stays 503 are gaps (24 hours each), the run finishes."""
    import warnings

    from regionair.pipeline.ingest import ingest_quotsoft
    from tests.conftest import DATA

    body = (DATA / "recorded" / "quotsoft" / "china_sites_20220101.csv").read_bytes()
    with FakeServer() as srv:
        monkeypatch.setenv("REGIONAIR_QUOTSOFT_BASE_URL", srv.url + "/air/data")
        srv.script("/air/data/china_sites_20220101.csv", status(502, "bad gateway"), ok(body))
        # 20220102: no route → 404 (not published yet)
        srv.script("/air/data/china_sites_20220103.csv", status(503, "down"))
        store = Store(tmp_path / "store")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            summary = ingest_quotsoft(store, start="2022-01-01", end="2022-01-03", run="q",
                                      client=fast_client(retries=2))
    assert summary.added > 0 and summary.gaps == 2
    gaps = store.gaps(sources="quotsoft")
    assert len(gaps) == 48
    assert set(gaps["time"].dt.date.astype(str)) == {"2022-01-02", "2022-01-03"}
    assert gaps["reason"].str.contains("404").sum() == 24 and gaps["reason"].str.contains("503").sum() == 24
