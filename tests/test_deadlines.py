"""Nothing hangs (issue 16 §1): every network call and every Chromium job has a deadline.

Each test runs the call under test in a helper thread (or a child process) and asserts that it
returned within a bound; before the fixes these calls blocked for minutes or for ever, so a test
that only waited for them would hang the suite instead of failing.

Servers are real sockets on 127.0.0.1 (no external host): a "drip" server sends one byte every
0.2 s, in the headers or in the body, and never finishes; a 429 server asks for a long Retry-After.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from regionair.errors import Cancelled, SourceError
from regionair.sources.http import HttpClient

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


class DripServer:
    """Raw TCP server: answers every connection with ``prefix`` then one byte of ``drip`` every ``every`` s.

    ``mode="headers"``: a status line, then header bytes for ever (no blank line).
    ``mode="body"``: complete headers with ``Content-Length: 10000000``, then body bytes for ever.
    ``mode="429"``: ``HTTP 429`` with ``Retry-After: <retry_after>`` (a complete answer).
    """

    def __init__(self, mode: str = "body", *, every: float = 0.2, retry_after: int = 100):
        self.mode, self.every, self.retry_after = mode, every, retry_after
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.connections = 0
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        try:
            conn.recv(65536)
            if self.mode == "429":
                conn.sendall(b"HTTP/1.0 429 Too Many Requests\r\nRetry-After: %d\r\nContent-Length: 0\r\n\r\n"
                             % self.retry_after)
                conn.close()
                return
            if self.mode == "headers":
                conn.sendall(b"HTTP/1.0 200 OK\r\nX-Drip: ")
            else:
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 10000000\r\n\r\n")
            while not self._stop.is_set():
                conn.sendall(b"a")
                time.sleep(self.every)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self._stop.set()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run_bounded(fn, limit: float):
    """Run ``fn()`` in a daemon thread; return (elapsed [s], result or exception). Fails if it is still
    running after ``limit`` s (the call hangs)."""
    out: dict = {}

    def target():
        try:
            out["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["result"] = exc

    t0 = time.monotonic()
    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(limit)
    elapsed = time.monotonic() - t0
    assert not th.is_alive(), f"still running after {limit} s: the call has no deadline"
    return elapsed, out["result"]


def client(**kw) -> HttpClient:
    kw.setdefault("base_timeout", (1.0, 1.0))
    kw.setdefault("min_interval", 0.0)
    kw.setdefault("jitter", lambda: 0.0)
    c = HttpClient(**kw)
    c.session.trust_env = False
    return c


# ------------------------------------------------------------------------------------------------
# HTTP: an overall deadline per call, Retry-After capped by it, cancel()
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["headers", "body"])
def test_a_dripping_source_fails_at_the_deadline(mode):
    # one byte every 0.2 s never trips the 1 s per-read timeout: before the fix this call never returned
    with DripServer(mode) as srv:
        c = client(retries=2, deadline=2.0)
        elapsed, res = run_bounded(lambda: c.get(srv.url + "/x.csv"), 15)
    assert isinstance(res, SourceError), res
    assert "deadline" in str(res) and "2 s" in str(res)
    assert 1.9 <= elapsed < 4.0
    assert srv.connections == 1  # the deadline covers the whole call: no retry after it


def test_retry_after_longer_than_the_deadline_is_not_waited():
    # Retry-After 100 s is under max_retry_after (120 s) but beyond the 3 s deadline: fail at once,
    # naming both (before: slept 100 s, four times)
    with DripServer("429", retry_after=100) as srv:
        c = client(retries=4, deadline=3.0)
        elapsed, res = run_bounded(lambda: c.get(srv.url + "/x.csv"), 30)
    assert isinstance(res, SourceError), res
    assert res.status == 429
    assert "100 s" in str(res) and "deadline" in str(res)
    assert elapsed < 1.5
    assert srv.connections == 1


def test_retry_after_is_capped_by_max_retry_after():
    with DripServer("429", retry_after=86400) as srv:
        c = client(retries=4, deadline=600.0, max_retry_after=30)
        elapsed, res = run_bounded(lambda: c.get(srv.url + "/x.csv"), 30)
    assert isinstance(res, SourceError) and res.status == 429
    assert "86400 s" in str(res) and "30 s" in str(res)
    assert elapsed < 1.5


def test_cancel_stops_a_call_in_flight_and_every_later_call():
    with DripServer("body") as srv:
        c = client(retries=4, deadline=600.0)
        threading.Timer(0.5, c.cancel).start()
        elapsed, res = run_bounded(lambda: c.get(srv.url + "/x.csv"), 15)
        assert isinstance(res, Cancelled), res
        assert 0.4 <= elapsed < 1.5
        elapsed, res = run_bounded(lambda: c.get(srv.url + "/y.csv"), 5)
    assert isinstance(res, Cancelled) and elapsed < 0.2
    assert srv.connections == 1


def test_cancel_interrupts_a_back_off_sleep():
    # a 429 asking for 60 s (allowed: under max_retry_after and the deadline): the real sleep wakes on cancel
    with DripServer("429", retry_after=60) as srv:
        c = client(retries=2, deadline=600.0)
        threading.Timer(0.5, c.cancel).start()
        elapsed, res = run_bounded(lambda: c.get(srv.url + "/x.csv"), 15)
    assert isinstance(res, Cancelled), res
    assert elapsed < 1.5


def test_deadline_must_be_positive():
    from regionair.errors import InputError

    with pytest.raises(InputError, match="deadline"):
        HttpClient(deadline=0)


# ------------------------------------------------------------------------------------------------
# watch: stops within seconds of SIGTERM; absurd schedules refused
# ------------------------------------------------------------------------------------------------


def _watch_env(tmp_path, base_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(REGIONAIR_CNEMC_BASE_URL=base_url, REGIONAIR_CACHE=str(tmp_path / "cache"),
               REGIONAIR_STORE=str(tmp_path / "store"), PYTHONUNBUFFERED="1")
    return env


@pytest.mark.parametrize("mode", ["body", "headers", "429"])
def test_watch_stops_within_seconds_of_sigterm(tmp_path, mode):
    # before: the drip kept `watch` in one download (each byte resets the read timeout) and the 429
    # in a 100 s Retry-After sleep, both 30 s and more after SIGTERM
    with DripServer(mode, retry_after=100) as srv:
        proc = subprocess.Popen([sys.executable, "-m", "regionair", "watch", "--sources", "cnemc-archive",
                                 "--every", "15"], cwd=ROOT, env=_watch_env(tmp_path, srv.url),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            t_start = time.monotonic()
            while srv.connections == 0 and proc.poll() is None and time.monotonic() - t_start < 90:
                time.sleep(0.1)
            assert proc.poll() is None, proc.communicate(timeout=5)
            assert srv.connections >= 1, "watch never reached the source"
            time.sleep(0.5)  # well inside the download / the Retry-After sleep
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                out, err = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                pytest.fail("watch still running 20 s after SIGTERM")
            stopped_after = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert stopped_after < 5.0
    assert "watch: stopped" in err.decode()
    assert "Traceback" not in err.decode()


@pytest.mark.parametrize("every", ["0", "-5", "0.5", "20000", "nan", "inf", "soon"])
def test_watch_refuses_absurd_schedules(tmp_path, every, capsys):
    # only the parser runs (before the fix `--every 0` was accepted and looped flat out)
    from regionair.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["watch", "--every", every, "--store", str(tmp_path / "store")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--every" in err and every in err
    assert "1 to 10080 minutes" in err or "not a number of minutes" in err


def test_watch_accepts_the_documented_schedules():
    from regionair.ingest import watch_every

    assert watch_every("15") == 15.0
    assert watch_every("1") == 1.0
    assert watch_every("10080") == 10080.0
