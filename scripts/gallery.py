"""The screenshot gallery (docs/screenshots/, shown in README): every page in both languages at desktop
width, two key pages at phone width (390 px), presentation mode at 1920×1080 — on the bundled real sample
and on a one-year SYNTHETIC store (bench/synthetic.py; every page says SYNTHETIC in a red banner).

    python scripts/gallery.py            # both stores (≈ 5 min)
    python scripts/gallery.py --sample   # the sample only

Runs `streamlit run app.py` on a free local port and headless Debian Chromium (Playwright); each page load has
a deadline, and the server is stopped however the script ends. Images are JPEG (quality 80) to keep the
repository small.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import chromium, streamlit_server  # noqa: E402  (after the path is set)

OUT = ROOT / "docs" / "screenshots"
PAGES = ["", "hourly", "warnings", "trends", "transport", "primary", "episodes", "rankings", "meeting", "data"]
#: An informative hour of the sample: 2026-03-10 14:00, a critical day under the 2026 rules.
SAMPLE_AT = "2026-03-10T14:00"
PAGE_DEADLINE_MS = 90_000


def _shoot(browser, url: str, path: Path, *, width: int = 1500, height: int = 1000, full: bool = True) -> None:
    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
    try:
        page.goto(url, wait_until="networkidle", timeout=PAGE_DEADLINE_MS)
        page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=PAGE_DEADLINE_MS)
        page.wait_for_timeout(500)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               timeout=PAGE_DEADLINE_MS)
        page.wait_for_timeout(1500)  # plotly draws after the script has finished
        if full:  # Streamlit scrolls inside its main block: grow the window to the page's length instead
            tall = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                                 "[data-testid=stAppViewContainer] section')].map(e => e.scrollHeight), 0)")
            if tall > height:
                page.set_viewport_size({"width": width, "height": min(int(tall) + 40, 9000)})
                page.wait_for_timeout(1500)
        page.screenshot(path=str(path), full_page=False, type="jpeg", quality=80)
        errors = page.locator('[data-testid="stException"]').count()
        if errors:
            raise RuntimeError(f"{url}: {errors} exception(s) on the page")
    finally:
        page.close()


def shoot_store(store: Path, tag: str, *, at: str | None) -> list[Path]:
    done = []
    with streamlit_server({"REGIONAIR_STORE": str(store)}) as url, chromium() as browser:
        for lang in ("zh", "en"):
            for name in PAGES:
                q = f"?lang={lang}" + (f"&at={at}" if at else "")
                path = OUT / f"{tag}_{name or 'overview'}_{lang}.jpg"
                _shoot(browser, f"{url}/{name}{q}", path)
                done.append(path)
        for name in ("", "warnings"):  # the two pages the bureau opens on a phone
            path = OUT / f"{tag}_{name or 'overview'}_phone_zh.jpg"
            _shoot(browser, f"{url}/{name}?lang=zh" + (f"&at={at}" if at else ""), path, width=390, height=844)
            done.append(path)
        path = OUT / f"{tag}_presentation_1080p_zh.jpg"
        _shoot(browser, f"{url}/trends?lang=zh&pres=1&period=72h" + (f"&at={at}" if at else ""), path,
               width=1920, height=1080, full=False)
        done.append(path)
    return done


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", action="store_true", help="only the bundled sample")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="regionair-gallery-") as tmp:
        sample = Path(tmp) / "sample"
        env = {**os.environ, "REGIONAIR_STORE": str(sample)}
        subprocess.run([sys.executable, "-m", "regionair", "ingest", "--source", "cnemc-archive", "--path",
                        str(ROOT / "data" / "sample")], check=True, env=env, cwd=ROOT, capture_output=True, timeout=600)
        shots = shoot_store(sample, "sample", at=SAMPLE_AT)
        if not args.sample:
            from bench.synthetic import build_store

            synthetic = Path(tmp) / "synthetic"
            build_store(synthetic, 100, "2025-03-01 01:00", "2026-03-01 00:00", seed=7)
            shots += shoot_store(synthetic, "synthetic", at=None)
    print(f"{len(shots)} screenshots → {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
