"""End to end in a real browser: `streamlit run app.py` on a free port against the bundled sample,
headless Debian Chromium driven by Playwright through every page; screenshots in artifacts/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = ["", "hourly", "warnings", "trends", "transport", "primary", "episodes", "rankings", "data", "meeting"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("e2e_store")
    env = {**os.environ, "REGIONAIR_STORE": str(store)}
    subprocess.run([sys.executable, "-m", "regionair", "ingest", "--source", "cnemc-archive", "--path",
                    str(ROOT / "data" / "sample")], check=True, env=env, cwd=ROOT, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"{url}/_stcore/health", timeout=1).status_code == 200:  # local test server only
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError(proc.stdout.read().decode()[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(url, wait_until="networkidle", timeout=60_000)
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=30_000)
    # wait until the script has finished running
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    return page


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_in_chromium(server, browser, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page = _open(browser, f"{server}/{name}")
    try:
        if name not in ("warnings", "data", "meeting"):
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]
        page.screenshot(path=str(ARTIFACTS / f"{name or 'overview'}.png"), full_page=True)
    finally:
        page.close()


def test_english_and_shared_link(server, browser):
    page = _open(browser, f"{server}/trends?lang=en&period=24h&pollutant=pm25")
    try:
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        body = page.inner_text("body")
        assert "Cross-boundary trends" in body
        assert "Period: 2026-03-10 01:00–2026-03-11 00:00" in body  # period=24h from the link
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "trends_en.png"), full_page=True)
    finally:
        page.close()
