"""Server-side load of dashboard sessions without a browser (for the concurrency benchmark).

A browser session does two things to the server: it fetches the page's static files (HTML, JS, CSS,
fonts) over HTTP, then opens the ``/_stcore/stream`` websocket and asks for a script run, and the server
streams the page's elements back as protobuf ``ForwardMsg`` messages. :func:`protocol_session` does
exactly that — the same static files a real Chromium session fetched (recorded once by
:func:`record_assets`), then the websocket with Streamlit's own protobuf classes — and times when the
server has *sent* the first chart. What it leaves out is only the browser's own work (parsing
JavaScript, React rendering, plotly drawing), which on a real deployment runs on each viewer's machine.
"""

from __future__ import annotations

import math
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse


async def record_assets(url: str, executable: str, args: list[str]) -> list[str]:
    """Same-origin URLs (static files and endpoints) a Chromium session fetches to show ``url``."""
    from playwright.async_api import async_playwright

    origin = urlparse(url).netloc
    seen: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=args)
        try:
            page = await (await browser.new_context(viewport={"width": 1400, "height": 1000})).new_page()
            page.on("request", lambda r: seen.append(r.url) if urlparse(r.url).netloc == origin
                    and not r.url.startswith(("ws:", "wss:")) else None)
            await page.goto(url)
            await page.wait_for_selector(".js-plotly-plot", timeout=90_000)
            await page.wait_for_timeout(500)
        finally:
            await browser.close()
    return list(dict.fromkeys(seen))


def _fetch(u: str) -> int:
    req = urllib.request.Request(u, headers={"Accept-Encoding": "gzip, deflate, br"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return len(r.read())


def protocol_session(url: str, assets: list[str], *, query: str = "", timeout: float = 120) -> dict:
    """One session: fetch ``assets`` (6 at a time, like a browser), then run the page over the websocket.

    Returns seconds from the start to: ``assets`` fetched, the first ``plotly_chart`` element received,
    and the script-finished message; plus ``bytes`` of static files and ``messages`` received.
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    t0 = time.perf_counter()
    with ThreadPoolExecutor(6) as pool:
        size = sum(pool.map(_fetch, assets))
    t_assets = time.perf_counter() - t0
    host = urlparse(url).netloc
    out = {"assets": t_assets, "bytes": size, "first_chart": float("nan"), "finished": float("nan"), "messages": 0}
    with connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"], origin=f"http://{host}",
                 max_size=None, open_timeout=timeout) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_script_hash = ""
        ws.send(msg.SerializeToString())
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            fm = ForwardMsg()
            fm.ParseFromString(ws.recv(timeout=max(0.1, deadline - time.perf_counter())))
            out["messages"] += 1
            kind = fm.WhichOneof("type")
            if (kind == "delta" and fm.delta.WhichOneof("type") == "new_element"
                    and fm.delta.new_element.WhichOneof("type") == "plotly_chart" and math.isnan(out["first_chart"])):
                out["first_chart"] = time.perf_counter() - t0
            elif kind == "script_finished":
                out["finished"] = time.perf_counter() - t0
                break
    return out


def protocol_sessions(url: str, assets: list[str], n: int, **kw) -> list[dict]:
    """``n`` sessions started at the same moment (threads; the client does little CPU work)."""
    barrier = threading.Barrier(n)

    def one(_):
        barrier.wait()
        return protocol_session(url, assets, **kw)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))
