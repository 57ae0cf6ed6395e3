"""XSS in a real browser: a station named ``<img src=x onerror=alert(1)>`` renders as text, never as HTML.

A tmp store gets a day of real CNEMC rows plus an unknown station ``9999X`` whose archive
``positionname`` is the payload, with the day's highest AQI so that it appears on the overview (worst
stations chart, map hover, tables). ``streamlit run app.py`` serves that store; headless Debian
Chromium (Playwright, ``executable_path``, no browser download) opens the pages. The test listens for
JavaScript dialogs (``page.on("dialog")``) and checks that no ``<img src=x>`` element exists and that
the name is present in the page as literal text.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.browser import CHROMIUM, chromium, streamlit_server
from tests.faultkit import ROOT, archive_name, hour_files

XSS = "<img src=x onerror=alert(1)>"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed (make test installs it)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xss")
    folder = tmp / "archive"
    for hour, body in hour_files(24):
        text = body.decode("utf-8")
        stamp = text.splitlines()[1].split(",", 1)[0]
        text += f"{stamp},9999X,87.6,43.8,乌鲁木齐市,{XSS},细颗粒物(PM2.5),400,600,500,450,400,10,10,10,10,80,80,9,9,4.0,3.5\n"
        p = folder / archive_name(hour)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    store = tmp / "store"
    env = {**os.environ, "REGIONAIR_STORE": str(store), "REGIONAIR_ACCOUNTS": str(tmp / "none.json")}
    subprocess.run([sys.executable, "-m", "regionair", "ingest", "--source", "cnemc-archive", "--path", str(folder)],
                   check=True, env=env, cwd=ROOT, capture_output=True)
    with streamlit_server({"REGIONAIR_STORE": str(store), "REGIONAIR_ACCOUNTS": str(tmp / "none.json")}) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.mark.parametrize("name", ["", "hourly", "rankings", "data"])
def test_station_name_with_markup_renders_as_text(server, browser, name):
    dialogs: list[str] = []
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))  # before any script runs
    try:
        page.goto(f"{server}/{name}", wait_until="networkidle", timeout=60_000)
        page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=30_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
        if name == "":
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
            # hover every station marker so that hover labels are drawn too
            for el in page.locator(".js-plotly-plot .scatterlayer .point").all()[:80]:
                el.hover(force=True, timeout=2_000)
        page.wait_for_timeout(1500)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator("img[src='x']").count() == 0, "the payload became an <img> element"
        assert page.evaluate("() => document.querySelectorAll('[onerror]').length") == 0
        assert dialogs == [], f"a JavaScript dialog fired: {dialogs}"
        if name == "":
            html = page.content()
            # the worst-stations chart labels the station with its (escaped) name, shortened to
            # charts.BAR_LABEL_CHARS: the markup is shown literally
            assert "&lt;img src=x onerror=" in html or XSS[:12] in page.inner_text("body"), \
                "the name is not shown as text"
        # the listener works: a real alert is caught (so an XSS could not have gone unnoticed)
        page.evaluate("() => alert('probe')")
        assert dialogs == ["probe"]
    finally:
        page.close()
