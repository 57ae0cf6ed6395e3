"""A real HTTP server on 127.0.0.1 for loader tests: scripted responses, injected faults, recorded requests.

No test ever contacts an external host: loaders are pointed at ``server.url`` through their
configurable base URLs.

Scripted actions (consumed in order per path; the last one repeats):

``ok(body, content_type)``                200 with the body
``status(code, body, headers)``           any status
``slow(seconds, body)``                   sleep before answering (client read timeout)
``reset()``                               close the socket with RST, no response
``truncated(body, declared)``             Content-Length larger than the body, then close
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

RECORDED = Path(__file__).parent / "data" / "recorded"


@dataclass
class Action:
    kind: str
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    declared: int | None = None


def ok(body: bytes | str, content_type: str = "text/csv; charset=utf-8", headers: dict | None = None) -> Action:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Action("respond", 200, body, {"Content-Type": content_type, **(headers or {})})


def status(code: int, body: bytes | str = b"", headers: dict | None = None, content_type: str = "text/plain") -> Action:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Action("respond", code, body, {"Content-Type": content_type, **(headers or {})})


def slow(seconds: float, body: bytes | str = b"late") -> Action:
    a = ok(body)
    a.delay = seconds
    return a


def reset() -> Action:
    return Action("reset")


def truncated(body: bytes | str, declared: int) -> Action:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Action("truncated", 200, body, {"Content-Type": "text/csv"}, declared=declared)


@dataclass
class Recorded:
    path: str
    query: list[tuple[str, str]]
    headers: dict

    @property
    def params(self) -> dict:
        return dict(self.query)


class FakeServer:
    """Scripted HTTP server; use as a context manager or through the ``fake_server`` fixture."""

    def __init__(self):
        self.routes: dict[str, list[Action]] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                with server._lock:
                    server.requests.append(
                        Recorded(parts.path, parse_qsl(parts.query, keep_blank_values=True), dict(self.headers))
                    )
                    script = server.routes.get(parts.path)
                    if not script:
                        action = status(404, "Not Found")
                    elif len(script) > 1:
                        action = script.pop(0)
                    else:
                        action = script[0]
                try:
                    self._play(action)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass

            def _play(self, action: Action):
                if action.delay:
                    time.sleep(action.delay)
                if action.kind == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    return
                self.send_response(action.status)
                for k, v in action.headers.items():
                    self.send_header(k, v)
                declared = action.declared if action.declared is not None else len(action.body)
                self.send_header("Content-Length", str(declared))
                self.end_headers()
                self.wfile.write(action.body)
                self.wfile.flush()

            def finish(self):
                try:
                    super().finish()
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, path: str, *actions: Action) -> None:
        with self._lock:
            self.routes[path] = list(actions)

    def count(self, path: str | None = None) -> int:
        return sum(1 for r in self.requests if path is None or r.path == path)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SleepRecorder:
    """Injected ``sleep``: records the durations instead of sleeping."""

    def __init__(self):
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(round(float(seconds), 6))


def fast_client(**kw):
    """An HttpClient that never really sleeps, with deterministic back-off and short timeouts."""
    from regionair.sources.http import HttpClient

    sleeper = kw.pop("sleep", None) or SleepRecorder()
    kw.setdefault("base_timeout", (1.0, 0.5))
    kw.setdefault("min_interval", 0.0)
    kw.setdefault("jitter", lambda: 0.0)
    client = HttpClient(sleep=sleeper, **kw)
    client.session.trust_env = False  # never route 127.0.0.1 through a proxy from the environment
    client.sleeps = sleeper
    return client
