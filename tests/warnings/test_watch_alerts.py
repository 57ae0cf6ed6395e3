"""`watch` evaluates the alert rules after each ingest: a real local webhook receives each event once."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from regionair.pipeline.ingest import evaluate_alerts
from regionair.sources.cnemc_archive import read_archive
from regionair.store import Store
from tests.conftest import CNEMC_2022_01_01, CNEMC_2022_01_02_03


@pytest.fixture
def webhook():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def test_alerts_reach_the_webhook_once_per_event(tmp_path, webhook):
    url, received = webhook
    store = Store(tmp_path / "store")
    store.ingest_hourly(read_archive([CNEMC_2022_01_01, CNEMC_2022_01_02_03]), source="cnemc-archive")
    secrets = {"alerts": {"targets": [{"name": "test", "type": "json", "url": url}],
                          "rules": [{"id": "pm-budget", "what": "budget", "boundary": 100, "pollutants": ["pm25"]}]}}
    first = evaluate_alerts(store, secrets=secrets)
    sent = first[first["status"] == "sent"]
    assert len(sent) >= 1 and len(received) == len(sent)
    assert all(r["rule"] == "pm-budget" and r["source"] == "regionair" for r in received)
    # the heavy-pollution day 2022-01-03: Urumqi's PM2.5 budget is exceeded
    assert any(r["jurisdiction"] == "urumqi" for r in received)
    second = evaluate_alerts(store, secrets=secrets)
    assert len(received) == len(sent)  # de-duplicated: nothing new is sent
    assert set(second["status"]) <= {"duplicate"}


def test_no_targets_means_no_alerts(tmp_path):
    store = Store(tmp_path / "store")
    assert evaluate_alerts(store, secrets={}) is None
