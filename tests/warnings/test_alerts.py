"""Alert delivery against a real HTTP server on 127.0.0.1 (no external network)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from regionair.errors import InputError
from regionair.warnings.alerts import (
    Event,
    Notifier,
    Rule,
    Target,
    build_request,
    dingtalk_sign,
    events_from_report,
    load_targets,
)

DING_SECRET = "SECexample0123456789abcdef"
WECOM_KEY = "wecom-key-0000-secret"


class Recorder:
    def __init__(self):
        self.requests: list[dict] = []
        self.reply = {"/wecom": b'{"errcode":0,"errmsg":"ok"}', "/ding": b'{"errcode":0,"errmsg":"ok"}',
                      "/json": b"{}"}


@pytest.fixture
def server():
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            n = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(n)
            parts = urllib.parse.urlsplit(self.path)
            rec.requests.append({"path": parts.path, "query": urllib.parse.parse_qs(parts.query),
                                 "raw_query": parts.query, "headers": dict(self.headers),
                                 "json": json.loads(body.decode("utf-8"))})
            reply = rec.reply.get(parts.path, b"{}")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *a):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=httpd.serve_forever, daemon=True)
    th.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield base, rec
    httpd.shutdown()
    httpd.server_close()


def targets(base):
    return load_targets({"alerts": {"targets": [
        {"name": "wecom", "type": "wecom", "url": f"{base}/wecom?key={WECOM_KEY}"},
        {"name": "ding", "type": "dingtalk", "url": f"{base}/ding?access_token=tok123", "secret": DING_SECRET},
        {"name": "hook", "type": "json", "url": f"{base}/json", "headers": {"X-Token": "abc"}},
    ]}}, environ={})


EVENT = Event(rule="warn", jurisdiction="urumqi", level="orange", title="【橙色预警】乌鲁木齐市",
              text="- 橙色预警（national-2024-reconstructed，方案待核实）", data={"scheme": "national-2024-reconstructed"})


def test_dingtalk_signature_hand_computed():
    # HMAC-SHA256(key=secret, msg="1700000000000\n" + secret), base64, URL-encoded — computed by hand
    # with hmac/base64 outside RegionAir.
    assert dingtalk_sign(DING_SECRET, 1700000000000) == "%2Bcxnz7PMkHTgYGZLYfiu2juTRMk8MZfdVOdDh8s0utc%3D"
    t = Target("d", "dingtalk", {"url": "https://oapi.dingtalk.com/robot/send?access_token=T", "secret": DING_SECRET})
    url, body, headers = build_request(t, EVENT, timestamp_ms=1700000000000)
    assert url == ("https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1700000000000"
                   "&sign=%2Bcxnz7PMkHTgYGZLYfiu2juTRMk8MZfdVOdDh8s0utc%3D")
    assert json.loads(body) == {"msgtype": "markdown", "markdown": {"title": EVENT.title, "text": EVENT.markdown()}}


def test_payloads_received_once_per_event(server, tmp_path):
    base, rec = server
    n = Notifier(targets(base), tmp_path / "alerts.json")
    res = n.process([EVENT], now=1_800_000_000)
    assert list(res["status"]) == ["sent", "sent", "sent"]
    by = {r["path"]: r for r in rec.requests}
    assert len(rec.requests) == 3
    assert by["/wecom"]["json"] == {"msgtype": "markdown",
                                    "markdown": {"content": "### 【橙色预警】乌鲁木齐市\n- 橙色预警（national-2024-reconstructed，方案待核实）"}}
    assert by["/wecom"]["query"] == {"key": [WECOM_KEY]}
    d = by["/ding"]
    assert d["json"] == {"msgtype": "markdown", "markdown": {"title": "【橙色预警】乌鲁木齐市", "text": EVENT.markdown()}}
    ts = int(d["query"]["timestamp"][0])
    assert d["query"]["access_token"] == ["tok123"]
    assert d["raw_query"].endswith(f"&sign={dingtalk_sign(DING_SECRET, ts)}")
    j = by["/json"]
    assert j["json"] == {"source": "regionair", "rule": "warn", "jurisdiction": "urumqi", "level": "orange",
                         "title": EVENT.title, "text": EVENT.text, "data": {"scheme": "national-2024-reconstructed"}}
    assert j["headers"]["X-Token"] == "abc"
    assert j["headers"]["Content-Type"].startswith("application/json")


def test_deduplication_until_cleared(server, tmp_path):
    base, rec = server
    n = Notifier(targets(base)[:1], tmp_path / "alerts.json")
    assert list(n.process([EVENT], now=1000)["status"]) == ["sent"]
    assert list(n.process([EVENT], now=1100)["status"]) == ["duplicate"]
    # a fresh Notifier on the same state file remembers
    n2 = Notifier(targets(base)[:1], tmp_path / "alerts.json")
    assert list(n2.process([EVENT], now=1200)["status"]) == ["duplicate"]
    assert len(rec.requests) == 1
    # a new level for the same rule and jurisdiction is a new alert; the old key clears
    red = Event(rule="warn", jurisdiction="urumqi", level="red", title="【红色预警】乌鲁木齐市", text="-")
    res = n2.process([red], now=1300)
    assert sorted(res["status"]) == ["cleared", "sent"]
    # the condition clears, then returns: alerted again
    assert list(n2.process([], now=1400)["status"]) == ["cleared"]
    assert list(n2.process([red], now=1500)["status"]) == ["sent"]
    assert len(rec.requests) == 3


def test_rate_limit(server, tmp_path):
    base, rec = server
    n = Notifier(targets(base)[:1], tmp_path / "alerts.json", rate_limit=(1, 3600))
    e2 = Event(rule="warn", jurisdiction="changji", level="orange", title="t", text="x")
    res = n.process([EVENT, e2], now=10_000)
    assert list(res["status"]) == ["sent", "rate-limited"]
    assert list(n.process([EVENT, e2], now=10_100)["status"]) == ["duplicate", "rate-limited"]
    assert list(n.process([EVENT, e2], now=10_000 + 3601)["status"]) == ["duplicate", "sent"]
    assert len(rec.requests) == 2


def test_failure_not_marked_sent_and_secrets_not_logged(server, tmp_path):
    base, rec = server
    rec.reply["/ding"] = b'{"errcode":310000,"errmsg":"sign not match"}'
    n = Notifier(targets(base), tmp_path / "alerts.json")
    res = n.process([EVENT], now=2000).set_index("target")
    assert res.loc["ding", "status"] == "failed" and "310000" in res.loc["ding", "error"]
    rec.reply["/ding"] = b'{"errcode":0}'
    res = n.process([EVENT], now=2100).set_index("target")
    assert res.loc["ding", "status"] == "sent" and res.loc["wecom", "status"] == "duplicate"
    logged = (tmp_path / "alerts.log.jsonl").read_text(encoding="utf-8") + (tmp_path / "alerts.json").read_text()
    for secret in (WECOM_KEY, DING_SECRET, "tok123", "127.0.0.1"):
        assert secret not in logged
    assert "tok123" not in repr(targets(base))


def test_connection_error_is_logged_without_url(tmp_path):
    t = load_targets({"alerts": {"targets": [{"name": "w", "type": "wecom", "url": "http://127.0.0.1:9/x?key=K9"}]}},
                     environ={})

    def refuse(url, body, headers):
        raise ConnectionRefusedError(f"cannot reach {url}")

    res = Notifier(t, tmp_path / "s.json", send=refuse).process([EVENT], now=1)
    assert res.iloc[0]["status"] == "failed" and "K9" not in res.iloc[0]["error"]


def test_smtp_and_test_send(tmp_path):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout=None):
            self.host, self.port = host, port

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, msg):
            sent.append(("msg", msg["Subject"], msg["To"], msg.get_content()))

    t = load_targets({"alerts": {"targets": [{"name": "mail", "type": "smtp", "host": "smtp.example.org",
                                              "user": "bot", "password": "pw", "to": ["a@x", "b@x"]}]}}, environ={})
    n = Notifier(t, tmp_path / "s.json", smtp_factory=FakeSMTP)
    assert list(n.process([EVENT], now=1)["status"]) == ["sent"]
    assert sent[0] == ("login", "bot")
    assert sent[1][:3] == ("msg", EVENT.title, "a@x, b@x") and EVENT.text in sent[1][3]
    res = n.test_send()
    assert list(res["status"]) == ["sent"] and len(sent) == 4


def test_targets_from_env_and_validation():
    env = {"REGIONAIR_ALERT_TARGETS": json.dumps([{"name": "h", "type": "json", "url": "http://h/x"}])}
    assert [t.name for t in load_targets(None, environ=env)] == ["h"]
    with pytest.raises(InputError, match="lacks url"):
        load_targets({"alerts": {"targets": [{"type": "wecom"}]}}, environ={})
    with pytest.raises(InputError, match="type"):
        load_targets({"alerts": {"targets": [{"type": "sms", "url": "x"}]}}, environ={})
    with pytest.raises(InputError):
        Rule(id="r", what="warning", level="purple")


def test_events_from_report():
    report = {
        "active_warnings": pd.DataFrame([
            {"jurisdiction": "urumqi", "scheme": "s", "level": "orange", "since": pd.Timestamp("2026-01-02 08:00"),
             "uncertain": True},
            {"jurisdiction": "changji", "scheme": "s", "level": "temporary", "since": pd.NaT, "uncertain": False}]),
        "budgets": pd.DataFrame([
            {"scope": "jurisdiction", "jurisdiction": "urumqi", "pollutant": "pm25", "boundary": 100,
             "status": "tight", "mean_so_far": 70.0, "hours_valid": 12, "limit": 60.0, "allowance": 51.0,
             "recent": 70.0, "unit": "µg/m³", "date": "2026-03-15"},
            {"scope": "jurisdiction", "jurisdiction": "urumqi", "pollutant": "pm10", "boundary": 100,
             "status": "already exceeded", "mean_so_far": 170.0, "hours_valid": 18, "limit": 120.0,
             "allowance": -30.0, "recent": 170.0, "unit": "µg/m³", "date": "2026-03-15"},
            {"scope": "jurisdiction", "jurisdiction": "urumqi", "pollutant": "no2", "boundary": 150,
             "status": "tight", "mean_so_far": 1.0, "hours_valid": 1, "limit": 1.0, "allowance": 1.0, "recent": 1.0,
             "unit": "µg/m³", "date": "2026-03-15"}]),
    }
    ev = events_from_report(report, [Rule("w", "warning", level="yellow"),
                                     {"id": "b", "what": "budget", "where": ["urumqi"]}])
    keys = sorted(e.key for e in ev)
    assert keys == ["b|urumqi|already exceeded", "w|urumqi|orange"]
    b = next(e for e in ev if e.rule == "b")
    assert "pm10" in b.text and "pm25" not in b.text  # the highest level only
