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

ROOT = Path(__file__).resolve().parents[2]


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
    from regionair.pipeline.ingest import watch_every

    assert watch_every("15") == 15.0
    assert watch_every("1") == 1.0
    assert watch_every("10080") == 10080.0


# ------------------------------------------------------------------------------------------------
# Chromium: missing, hanging, crashing — images, bundles, briefings, the CLI
# ------------------------------------------------------------------------------------------------


def _fig():
    import plotly.graph_objects as go

    return go.Figure(go.Bar(x=["乌鲁木齐市", "石河子市"], y=[117, 185]), layout=dict(title="区域空气质量"))


def _items():
    import pandas as pd

    from regionair.render.bundle import ChartItem

    table = pd.DataFrame({"unit": ["乌鲁木齐市", "石河子市"], "pm25": [117.0, 185.0]})
    return [ChartItem("trend", _fig(), table, title="趋势"), ChartItem("map", _fig().to_dict(), table)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False




@pytest.fixture
def fake_chromium(tmp_path, monkeypatch):
    """``make(kind)``: REGIONAIR_CHROMIUM → a script that sleeps for ever (``hang``) or exits 1 (``crash``);
    every pid it ran as is written to ``pids``. The render deadline is 3 s."""
    from regionair.render import bundle

    pids = tmp_path / "pids"

    def make(kind: str = "hang") -> Path:
        exe = tmp_path / f"chromium-{kind}"
        body = "exec sleep 300" if kind == "hang" else "exit 1"
        exe.write_text(f"#!/bin/sh\necho $$ >> {pids}\n{body}\n")
        exe.chmod(0o755)
        monkeypatch.setenv("REGIONAIR_CHROMIUM", str(exe))
        return exe

    monkeypatch.setenv("REGIONAIR_RENDER_TIMEOUT", "3")
    bundle.reset_render_failures()
    make.pids = lambda: [int(x) for x in pids.read_text().split()] if pids.exists() else []
    yield make
    bundle.reset_render_failures()
    for w in list(bundle._idle):
        w.kill()


def test_no_chromium_fails_at_once_with_the_fix(no_chromium):
    # before: kaleido waited for a browser that never came (for ever)
    from regionair.render.bundle import RenderError, render_image

    elapsed, res = run_bounded(lambda: render_image(_fig(), "png"), 30)
    assert isinstance(res, RenderError), res
    assert "Chromium" in str(res) and "make system" in str(res) and "apt-get install chromium" in str(res)
    assert elapsed < 1.0


def test_hanging_chromium_is_killed_at_the_deadline(fake_chromium):
    from regionair.render.bundle import RenderError, image_problem, render_image

    fake_chromium("hang")
    elapsed, res = run_bounded(lambda: render_image(_fig(), "png"), 60)
    assert isinstance(res, RenderError), res
    assert "within 3 s" in str(res) and "make system" in str(res)
    assert 2.9 <= elapsed < 8
    pids = fake_chromium.pids()
    assert pids, "the fake browser was never started"
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids), "the hanging browser was left running"
    # the next request does not wait out the deadline again
    assert "not tried again" in image_problem()
    elapsed, res = run_bounded(lambda: render_image(_fig(), "svg"), 10)
    assert isinstance(res, RenderError) and elapsed < 0.5


def test_crashing_chromium_fails_before_the_deadline(fake_chromium, monkeypatch):
    from regionair.render.bundle import RenderError, render_image

    monkeypatch.setenv("REGIONAIR_RENDER_TIMEOUT", "40")
    fake_chromium("crash")
    elapsed, res = run_bounded(lambda: render_image(_fig(), "png"), 60)
    assert isinstance(res, RenderError), res
    assert "Chromium" in str(res) and "make system" in str(res)
    assert elapsed < 30


def test_bundle_without_images_when_chromium_hangs(fake_chromium):
    import io
    import json
    import zipfile

    from regionair.render.bundle import build_bundle

    fake_chromium("hang")
    problems: list[str] = []
    elapsed, data = run_bounded(lambda: build_bundle(_items(), {"page": "overview"}, problems=problems), 60)
    assert elapsed < 8  # one deadline for the whole bundle, not one per image
    z = zipfile.ZipFile(io.BytesIO(data))
    names = set(z.namelist())
    assert {"data/trend.csv", "data/trend.xlsx", "data/map.csv", "data/map.xlsx", "metadata.json", "WARNING.txt"} <= names
    assert not any(n.startswith("charts/") for n in names)
    note = z.read("WARNING.txt").decode("utf-8-sig")
    assert "不含图表图片" in note and "no chart images" in note and "Chromium" in note and "make system" in note
    meta = json.loads(z.read("metadata.json"))
    assert meta["images"]["rendered"] is False and "within 3 s" in meta["images"]["error"]
    assert len(problems) == 1 and "Chromium" in problems[0]
    assert z.read("data/trend.csv").decode("utf-8-sig").splitlines()[1] == "乌鲁木齐市,117.0"


def test_a_busy_renderer_never_blocks_data_downloads(no_chromium, monkeypatch):
    # one user's bundle holds the only renderer slot (as a hanging Chromium did with the old module lock):
    # a second user's images give up after REGIONAIR_RENDER_WAIT with "busy", data-only bundles and
    # CSV/XLSX exports do not wait at all
    import io
    import zipfile

    from regionair.render import bundle
    from regionair.render.exports import to_csv_bytes, to_xlsx_bytes

    monkeypatch.setenv("REGIONAIR_CHROMIUM", sys.executable)  # "present": no early failure
    monkeypatch.setenv("REGIONAIR_RENDER_WAIT", "0.5")
    assert bundle._slots.acquire(timeout=1)
    try:
        elapsed, res = run_bounded(lambda: bundle.render_image(_fig(), "png"), 10)
        assert isinstance(res, bundle.RenderBusy), res
        assert "other users" in str(res) and 0.4 <= elapsed < 2
        elapsed, data = run_bounded(lambda: bundle.build_bundle(_items(), {"page": "x"}), 10)
        assert elapsed < 3 and "WARNING.txt" in zipfile.ZipFile(io.BytesIO(data)).namelist()
        elapsed, data = run_bounded(lambda: bundle.build_bundle(_items(), {"page": "x"}, images=False), 10)
        assert elapsed < 2 and "WARNING.txt" not in zipfile.ZipFile(io.BytesIO(data)).namelist()
        table = _items()[0].table
        elapsed, _ = run_bounded(lambda: (to_csv_bytes(table), to_xlsx_bytes(table)), 10)
        assert elapsed < 2
    finally:
        bundle._slots.release()



@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    path = tmp_path_factory.mktemp("deadlines_store")
    Store(path).ingest_hourly(read_archive(ROOT / "data" / "sample"), source="cnemc-archive")
    return path


@pytest.fixture(scope="module")
def briefing_model(sample_store):
    from regionair.render import report
    from regionair.store import Store

    return report.briefing_from_store(Store(sample_store), "2022-01-01", "2022-01-03", issue_date="2022-01-04")


def test_docx_and_html_fall_back_to_text_only(no_chromium, briefing_model):
    import dataclasses
    import io

    from docx import Document

    from regionair.render import report

    b = dataclasses.replace(briefing_model, _images={})
    problems: list[str] = []
    elapsed, data = run_bounded(lambda: report.to_docx(b, problems=problems), 60)
    assert isinstance(data, bytes), data
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0].startswith("【说明】本简报的附图未能生成") and "make system" in texts[0] and "Chromium" in texts[0]
    assert len(doc.inline_shapes) == 0
    assert sum(x.startswith("（附图未生成：") for x in texts) == len(b.figures) == 4
    assert "一、总体情况" in texts and len(doc.tables) >= 6  # the text and tables are all there
    assert len(problems) == 1 and "Chromium" in problems[0]
    html = report.to_html(b)
    assert '<p class="warning" role="alert">【说明】' in html and "data:image/png" not in html


def test_pdf_without_chromium_fails_at_once(no_chromium, briefing_model):
    import dataclasses

    from regionair.render import report
    from regionair.render.bundle import RenderError

    b = dataclasses.replace(briefing_model, _images={})
    elapsed, res = run_bounded(lambda: report.to_pdf(b), 60)
    assert isinstance(res, RenderError), res
    assert "PDF briefings need Chromium" in str(res) and "make system" in str(res)
    assert elapsed < 1.0


def test_pdf_with_a_hanging_chromium_is_stopped(fake_chromium, briefing_model):
    from regionair.render import report
    from regionair.render.bundle import RenderError

    exe = fake_chromium("hang")
    elapsed, res = run_bounded(lambda: report.html_to_pdf("<html><body>简报</body></html>"), 60)
    assert isinstance(res, RenderError), res
    assert f"Chromium ({exe}) did not print the PDF within 3 s" in str(res) and "make system" in str(res)
    assert 2.9 <= elapsed < 8
    time.sleep(0.3)
    assert not any(_alive(p) for p in fake_chromium.pids())


def test_pdf_briefing_with_a_hanging_chromium_waits_one_deadline(fake_chromium, briefing_model):
    # the figures meet the hang first; the print is not tried on the same browser (was: one more deadline)
    import dataclasses

    from regionair.render import report
    from regionair.render.bundle import RenderError

    fake_chromium("hang")
    b = dataclasses.replace(briefing_model, _images={})
    elapsed, res = run_bounded(lambda: report.to_pdf(b), 60)
    assert isinstance(res, RenderError), res
    assert "cannot print the PDF" in str(res) and "within 3 s" in str(res) and "make system" in str(res)
    assert elapsed < 5.9


def _cli(args, env_extra: dict, tmp_path, limit: float = 120):
    env = {k: v for k, v in os.environ.items() if k not in ("REGIONAIR_CHROMIUM", "BROWSER_PATH")}
    env.update(env_extra)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "regionair", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=limit)
    return proc, time.monotonic() - t0


@pytest.mark.parametrize("fmt", ["docx", "html", "pdf"])
def test_report_cli_with_a_browser_that_is_not_there(tmp_path, sample_store, fmt):
    # kaleido's BROWSER_PATH (and ours) naming a missing file; before: `report` hung for ever in every format
    out = tmp_path / f"b.{fmt}"
    gone = str(tmp_path / "no" / "chromium")
    proc, elapsed = _cli(["report", "--start", "2022-01-01", "--end", "2022-01-03", "--format", fmt,
                          "--store", str(sample_store), "--out", str(out)], {"BROWSER_PATH": gone}, tmp_path)
    assert "Traceback" not in proc.stderr
    assert f"{gone!r} (from REGIONAIR_CHROMIUM/BROWSER_PATH) is not an executable file" in proc.stderr
    if fmt == "pdf":
        assert proc.returncode == 3, proc.stderr
        assert "PDF briefings need Chromium" in proc.stderr and "make system" in proc.stderr
        assert not out.exists()
    else:
        assert proc.returncode == 0, proc.stderr
        assert "warning: the briefing was written without figures (text only)" in proc.stderr
        assert "Chromium" in proc.stderr and "make system" in proc.stderr
        assert out.stat().st_size > 10_000


def _button_script():
    import pandas as pd
    import plotly.graph_objects as go

    from regionair.ui import export
    from regionair.ui.filters import Filters

    export.reset()
    export.register(go.Figure(go.Bar(x=["甲"], y=[1])), pd.DataFrame({"x": [1]}), "one")
    f = Filters(start=pd.Timestamp("2022-01-01 01:00", tz="Asia/Shanghai"),
                end=pd.Timestamp("2022-01-02 00:00", tz="Asia/Shanghai"))
    export.bundle_button(f, "demo")


def test_export_button_says_why_without_chromium(tmp_path, monkeypatch, no_chromium):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path))
    at = AppTest.from_function(_button_script, default_timeout=60)
    elapsed, _ = run_bounded(at.run, 60)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.warning) == 1
    assert at.warning[0].value.startswith("本页图表的图片暂时无法生成（服务器需要 Chromium 浏览器；修复：make system")
    buttons = at.get("download_button")
    assert len(buttons) == 1 and buttons[0].proto.label == "导出本页数据包（仅图表数据与元数据，无图片）"


def test_export_click_with_a_hanging_chromium_returns_data_and_the_page_says_why(tmp_path, monkeypatch,
                                                                                  fake_chromium):
    # the deferred data of the button runs on Streamlit's shared threads: it must come back (before: never)
    import io
    import zipfile

    from streamlit.testing.v1 import AppTest

    from regionair.render.bundle import bundle_metadata
    from regionair.store import Store
    from regionair.ui.export import bundle_data

    fake_chromium("hang")
    status: dict = {}
    elapsed, data = run_bounded(lambda: bundle_data(_items(), bundle_metadata(page="demo"), Store(tmp_path / "s"),
                                                    status), 60)
    assert elapsed < 8 and "WARNING.txt" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "within 3 s" in status["error"]
    # the next page run says so (the failure is remembered for REGIONAIR_RENDER_RETRY s)
    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path / "s"))
    at = AppTest.from_function(_button_script, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.warning) == 1 and "Chromium" in at.warning[0].value and "within 3 s" in at.warning[0].value
