"""The benchmark harness keeps working (CI smoke test; no thresholds asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_synthetic_data_are_labelled_and_realistic(tmp_path):
    from bench import synthetic
    from regionair.sources.cnemc_archive import read_archive

    info = synthetic.write_archive(tmp_path, 30, "2025-01-01 01:00", "2025-01-01 06:00")
    assert info["files"] <= 6 and (tmp_path / "SYNTHETIC_README.txt").exists()
    files = sorted(tmp_path.rglob("*.csv"))
    assert files and all(f.name.startswith("SYNTHETIC_") for f in files)
    frame = read_archive(tmp_path)  # the real reader accepts the files: exact CNEMC header
    assert frame["station_name"].str.startswith("SYNTHETIC").all()
    assert frame["station"].nunique() == 30
    assert (frame["pm25"].dropna() == np.round(frame["pm25"].dropna())).all()  # integers as published


@pytest.mark.slow
def test_quick_benchmarks_run(tmp_path):
    """`python -m bench --quick` (every benchmark, small SYNTHETIC inputs, about 75 s here) works end to end."""
    from bench.benchmarks import BENCHMARKS

    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--workdir", str(tmp_path), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert {f["bench"] for f in doc["figures"]} == set(BENCHMARKS)
    names = [f["name"] for f in doc["figures"]]
    assert any(n.startswith("fused kernel") for n in names)
    assert any(n.startswith("python-aqi") for n in names)
    assert any(n.startswith("server side, first visit") for n in names)
    assert all(f["value"] == f["value"] and f["value"] > 0 for f in doc["figures"] if f["unit"] in ("s", "ms"))
    assert (out / "REPORT.md").read_text(encoding="utf-8").startswith("# RegionAir benchmark report")


@pytest.mark.slow
def test_protocol_session_receives_the_overview_map(tmp_path):
    """bench/sessions.py speaks Streamlit's websocket protocol to a real `streamlit run app.py`: the overview
    of the bundled sample sends its map (a plotly chart) and finishes, after the page's static files."""
    import asyncio
    import os

    from bench.sessions import protocol_sessions, record_assets
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (make test installs it)")
    env = {**os.environ, "REGIONAIR_STORE": str(tmp_path / "store")}
    subprocess.run([sys.executable, "-m", "regionair", "ingest", "--source", "cnemc-archive", "--path",
                    str(ROOT / "data" / "sample")], check=True, env=env, cwd=ROOT, capture_output=True)
    with streamlit_server({"REGIONAIR_STORE": str(tmp_path / "store")}) as url:
        assets = asyncio.run(record_assets(url, CHROMIUM, CHROMIUM_ARGS))
        assert f"{url}/" in assets and any("/static/js/" in a for a in assets)
        res = protocol_sessions(url, assets, 2)
    for r in res:
        assert 0 < r["assets"] < r["first_chart"] < r["finished"], r
        assert r["bytes"] > 1_000_000 and r["messages"] > 10
