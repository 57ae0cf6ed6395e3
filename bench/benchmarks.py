"""The benchmarks of the "Performance and scale" issue. Each takes a :class:`bench.run.Context`.

All inputs are SYNTHETIC (bench/synthetic.py) except the python-aqi agreement check, which uses the real
CNEMC region rows bundled in tests/data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench import synthetic
from bench.run import ROOT, measure
from regionair.render.report import chromium_path  # the browser the PDF output uses

PY = sys.executable
PAGES = ("overview", "hourly", "warnings", "trends", "primary", "episodes", "rankings", "data")
URL_PATHS = {"overview": "", "hourly": "hourly", "warnings": "warnings", "trends": "trends", "primary": "primary",
             "episodes": "episodes", "rankings": "rankings", "data": "data"}


# ------------------------------------------------------------------------------------------------ data sets
def _regional_spec(ctx) -> dict:
    if ctx.quick:
        return {"stations": 40, "start": "2025-12-01 01:00", "end": "2026-03-31 00:00"}
    return {"stations": 100, "start": "2021-04-01 01:00", "end": "2026-04-01 00:00"}  # 5 years, both editions


def regional_store(ctx) -> Path:
    """The SYNTHETIC regional store (100 stations × 5 years; quick: 40 × 4 months), built once."""
    spec = _regional_spec(ctx)
    key = f"SYNTHETIC_store_{spec['stations']}st_{spec['start'][:10]}_{spec['end'][:10]}"
    path = ctx.workdir / key
    if not (path / ".SYNTHETIC_complete").exists():
        shutil.rmtree(path, ignore_errors=True)
        print(f"  building {key} …", flush=True)
        info = synthetic.build_store(path, spec["stations"], spec["start"], spec["end"])
        (path / ".SYNTHETIC_complete").write_text("built by bench/synthetic.py\n")
        ctx.note(f"built SYNTHETIC store {key}: {info['rows']:,} station-hours in {info['seconds']:.0f} s")
    return path


# ------------------------------------------------------------------------------------------------ 1. AQI engine
def _python_aqi_row(vals) -> float:
    import aqi as pyaqi

    names = (pyaqi.POLLUTANT_PM25, pyaqi.POLLUTANT_PM10, pyaqi.POLLUTANT_SO2_1H, pyaqi.POLLUTANT_NO2_1H,
             "co_1h", pyaqi.POLLUTANT_O3_1H)
    ccs = [(n, str(v)) for n, v in zip(names, vals) if v == v]
    if not ccs:
        return float("nan")
    try:
        return float(pyaqi.to_aqi(ccs, algo=pyaqi.ALGO_MEP))
    except (IndexError, KeyError, ValueError, ArithmeticError):
        return float("nan")


def bench_aqi(ctx) -> None:
    from regionair.core import aqi_kernel as K
    from regionair.core import standards as S
    from regionair.core.aqi import daily_aqi, hourly_aqi
    from regionair.core.nomenclature import POLLUTANTS

    base = synthetic.frame(100, "2025-09-01 01:00", "2026-08-31 00:00", seed=1)  # spans both editions
    cat_names = np.array([""] + [c["name_zh"] for c in S.CATEGORIES], dtype=object)
    sizes = (10**5, 10**6) if ctx.quick else (10**6, 10**7)
    rep = 3 if ctx.quick else 5
    for n in sizes:
        idx = np.arange(n) % len(base)
        cols = [base[p].to_numpy()[idx] for p in POLLUTANTS]
        codes = K.edition_codes(base)[idx]

        def run(cols=cols, codes=codes):
            r = K.hourly_arrays(*cols, codes)
            # primary-pollutant and category columns, as categoricals over the kernel's codes (no strings copied)
            pd.Categorical.from_codes(r["primary"], categories=K.PRIMARY_LABELS)
            pd.Categorical.from_codes(r["level"], categories=cat_names)

        K.hourly_arrays(*[c[:10] for c in cols], codes[:10])  # JIT / cache load outside the timing
        st = measure(run, repeat=rep)
        thr = n / st["median"]
        ctx.figure(f"fused kernel: AQI+IAQIs+primary+category, N={n:.0e}", thr, "station-h/s",
                   stats={"min": n / st["max"], "median": thr, "max": n / st["min"], "runs": st["runs"]},
                   target="≥ 1e7/s", met=thr >= 1e7 if n >= 10**6 else None,
                   note="single thread; primary/category as categoricals over the kernel codes")
        kernel_thr = thr
        del cols
    n_df = 10**5 if ctx.quick else 10**6
    sub = base.iloc[np.arange(n_df) % len(base)].reset_index(drop=True)
    st = measure(lambda: hourly_aqi(sub), repeat=3)
    ctx.figure(f"hourly_aqi() DataFrame API (fused path), N={n_df:.0e}", n_df / st["median"], "station-h/s",
               stats=st, note="stats in s; includes building the result DataFrame with string columns")
    avail = K.AVAILABLE
    try:
        K.AVAILABLE = False
        st_np = measure(lambda: hourly_aqi(sub), repeat=3)
    finally:
        K.AVAILABLE = avail
    ctx.figure(f"hourly_aqi() reference numpy path, N={n_df:.0e}", n_df / st_np["median"], "station-h/s",
               stats=st_np, note="stats in s")
    # python-aqi on a subset, same inputs
    m = 2_000 if ctx.quick else 20_000
    rows = np.column_stack([base[p].to_numpy()[:m] for p in POLLUTANTS])
    st_py = measure(lambda: [_python_aqi_row(r) for r in rows], repeat=1 if ctx.quick else 3)
    py_thr = m / st_py["median"]
    ctx.figure(f"python-aqi 0.6.1 (MEP), N={m:,} subset", py_thr, "station-h/s", stats=st_py, note="stats in s")
    ctx.figure("ratio fused kernel / python-aqi (same run)", kernel_thr / py_thr, "×", target="≥ 100×",
               met=(kernel_thr / py_thr) >= 100 if not ctx.quick else None)
    # agreement with the published AQI on the real region rows (tests/data)
    from regionair.sources.cnemc_archive import read_archive

    data = ROOT / "tests" / "data"
    real = read_archive(sorted(data.glob("region_*.csv")))
    ours = hourly_aqi(real)
    pub = real["published_aqi"].notna().to_numpy()
    py = np.array([_python_aqi_row(r) for r in real[list(POLLUTANTS)].to_numpy()])
    n_pub = int(pub.sum())
    ctx.figure("real region rows with a published AQI", n_pub, "rows")
    ctx.figure("RegionAir AQI == published", int((ours["aqi"].to_numpy()[pub] == real["published_aqi"].to_numpy()[pub]).sum()),
               "rows", note="differences are rows with a missing pollutant published under HJ 633-2026 §5.3")
    ctx.figure("python-aqi AQI == published", int((py[pub] == real["published_aqi"].to_numpy()[pub]).sum()), "rows",
               note="integer segments (standards.md §2.7)")
    # daily AQI with validity rules for a national year (quick: 100 stations × 60 days)
    ns, start, end = (100, "2025-01-01 01:00", "2025-03-02 00:00") if ctx.quick else \
        (1900, "2025-01-01 01:00", "2026-01-01 00:00")
    year = synthetic.frame(ns, start, end, seed=2)
    t0 = time.perf_counter()
    d = daily_aqi(year)
    el = time.perf_counter() - t0
    ctx.figure(f"daily_aqi() with validity rules, {ns} stations × {len(d) // max(ns, 1)} days "
               f"({len(year):,} station-h)", el, "s", note="one run")


# ------------------------------------------------------------------------------------------------ 2. ingest
_INGEST_CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
from regionair.store import Store
from regionair.pipeline.ingest import ingest_cnemc_path
store_path, src, stations = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
t0 = time.perf_counter()
s = ingest_cnemc_path(Store(store_path), src, run="bench", stations=stations)
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"seconds": time.perf_counter() - t0, "added": s.added, "unchanged": s.unchanged,
                  "updated": s.updated, "files": s.files, "errors": len(s.errors), "hwm_mb": hwm / 1024}))
"""


def _child(code: str, *args: str) -> tuple[dict, float]:
    """Run python code in a fresh process; (its JSON output, peak RSS [MB]).

    The peak is the child's own ``VmHWM`` (reset at exec). ``ru_maxrss`` from ``wait4`` is not used: Linux
    carries the parent's RSS at fork time into it, which made an earlier run report the harness's memory."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([PY, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=ROOT)
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait()
    if proc.returncode:
        raise RuntimeError(f"child failed: {err.decode()[-2000:]}")
    res = json.loads(out.decode().strip().splitlines()[-1])
    return res, res["hwm_mb"]


def bench_ingest(ctx) -> None:
    from regionair.core import region

    ns = 1900
    # one month by default; REGIONAIR_BENCH_INGEST_HOURS=8760 measures a full national year end to end
    hours = 48 if ctx.quick else int(os.environ.get("REGIONAIR_BENCH_INGEST_HOURS", 24 * 31))
    folder = ctx.workdir / f"SYNTHETIC_archive_{ns}st_{hours}h"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        end = pd.Timestamp("2025-01-01 01:00") + pd.Timedelta(hours=hours - 1)
        info = synthetic.write_archive(folder, ns, "2025-01-01 01:00", end)
        (folder / ".complete").write_text("ok")
        ctx.note(f"generated {info['files']} SYNTHETIC archive files ({info['rows']:,} rows, "
                 f"{info['bytes'] / 2**20:.0f} MB) in {time.perf_counter() - t0:.0f} s")
    files = sum(1 for _ in folder.rglob("*.csv"))
    station_hours = files * ns
    scale = 8760 / files
    store = ctx.workdir / "SYNTHETIC_ingest_store"
    shutil.rmtree(store, ignore_errors=True)
    res, rss = _child(_INGEST_CHILD, str(store), str(folder), "null")
    ctx.figure(f"national archive ingest, {files} files × {ns} stations ({station_hours:,} station-h)",
               res["seconds"], "s", note=f"{station_hours / res['seconds']:,.0f} station-h/s; one run")
    ctx.figure("  peak RSS of the ingest process", rss, "MB", target="≤ 2048 MB", met=rss <= 2048)
    full = files >= 8760
    ctx.figure("  national year (8,760 files)" + ("" if full else ", extrapolated"), res["seconds"] * scale, "s",
               target="≤ 120 s", met=None if ctx.quick else res["seconds"] * scale <= 120,
               note="measured end to end on a full year" if full else
               f"linear ×{scale:.1f} from the measured subset (labelled extrapolation)")
    res2, rss2 = _child(_INGEST_CHILD, str(store), str(folder), "null")
    ctx.figure("re-ingest of the same files (no changes)", res2["seconds"], "s",
               note=f"unchanged {res2['unchanged']:,}, added {res2['added']}")
    ctx.figure("  national year" + ("" if full else ", extrapolated"), res2["seconds"] * scale, "s", target="≤ 20 s",
               met=None if ctx.quick else res2["seconds"] * scale <= 20)
    regional = list(region.stations()["code"])
    store_r = ctx.workdir / "SYNTHETIC_ingest_store_regional"
    shutil.rmtree(store_r, ignore_errors=True)
    res3, rss3 = _child(_INGEST_CHILD, str(store_r), str(folder), json.dumps(regional))
    ctx.figure(f"regional subset ({len(regional)} stations, filtered while reading), same files", res3["seconds"],
               "s", note=f"peak RSS {rss3:.0f} MB; ratio to national {res3['seconds'] / res['seconds']:.2f}")
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(store_r, ignore_errors=True)
    if not ctx.quick:
        _profile_ingest(ctx, folder)


def _profile_ingest(ctx, folder: Path) -> None:
    """pyinstrument profile of parsing + storing one day of national files (bench/profiles/ingest.txt)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        ctx.note("pyinstrument not installed: no ingest profile")
        return
    import tempfile

    from regionair.pipeline.ingest import ingest_cnemc_path
    from regionair.store import Store

    day = sorted(p for p in folder.iterdir() if p.is_dir())[1]
    with tempfile.TemporaryDirectory() as tmp:
        prof = Profiler(interval=0.002)
        prof.start()
        ingest_cnemc_path(Store(tmp), day, run="profile")
        prof.stop()
    out = Path(__file__).parent / "profiles"
    out.mkdir(exist_ok=True)
    (out / "ingest.txt").write_text(prof.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    ctx.note("profile of one day of national files: bench/profiles/ingest.txt")


# ------------------------------------------------------------------------------------------------ 3. queries
def bench_queries(ctx) -> None:
    from regionair.analysis.episodes import detect_episodes
    from regionair.analysis.ranking import ranking
    from regionair.analysis.trends import calendar_data
    from regionair.core.aqi import daily_aqi, hourly_aqi
    from regionair.core.region import unit_map
    from regionair.store import Store

    path = regional_store(ctx)
    spec = _regional_spec(ctx)
    end = pd.Timestamp(spec["end"])
    y0 = end - pd.Timedelta(days=365) + pd.Timedelta(hours=1)
    cols = ["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]
    state: dict = {}

    # the dashboard's path (regionair/ui/data.py): area means computed in the store, then their AQI
    units = unit_map("jurisdiction")

    def jur_daily(store):
        u = hourly_aqi(store.area_means(y0, end, unit_of=units))
        state["daily"] = daily_aqi(u[cols])
        return state["daily"]

    def episodes(store):
        u = hourly_aqi(store.area_means(unit_of=units))
        return detect_episodes(u, threshold=100, resolution="hour", max_gap=3, min_duration=6)

    queries = {
        "latest hour, all stations": lambda s: s.latest(),
        "jurisdiction daily AQI series, one year": jur_daily,
        "calendar data (one year, all jurisdictions)": lambda s: calendar_data(state["daily"], by="station"),
        "episode detection over the whole store (hourly units)": episodes,
        "composite-index ranking, one year": lambda s: ranking(state["daily"], basis="HJ663-2013"),
    }
    years = "5 years" if not ctx.quick else "4 months"
    # the very first query on a store: no derived area means yet (store.py, "Derived results"), so they are
    # computed for every month and written; afterwards "cold" means a new Store with them on disk
    shutil.rmtree(path / "derived", ignore_errors=True)
    hourly_aqi(pd.DataFrame({"station": ["x"], "time": [end.tz_localize("Asia/Shanghai")],
                             **{c: [1.0] for c in cols[2:]}}))  # load the compiled AQI kernel first
    first_store = Store(path, create=False)
    t0 = time.perf_counter()
    episodes(first_store)
    first = time.perf_counter() - t0
    first_store.close()
    ctx.figure("episode detection over the whole store (hourly units) — first call, derived area means written",
               first * 1000, "ms", note=f"no derived files, new Store, {spec['stations']} stations × {years}")
    for name, q in queries.items():
        cold_store = Store(path, create=False)
        t0 = time.perf_counter()
        q(cold_store)
        cold = time.perf_counter() - t0
        warm = measure(lambda q=q, s=cold_store: q(s), repeat=3)
        ctx.figure(f"{name} — cold", cold * 1000, "ms",
                   note=f"new Store (derived area means on disk), {spec['stations']} stations × {years}")
        ctx.figure(f"{name} — warm (recomputed)", warm["median"] * 1000, "ms",
                   stats={k: (v * 1000 if k != "runs" else v) for k, v in warm.items()},
                   target="≤ 100 ms", met=None if ctx.quick else warm["median"] <= 0.1)
        cold_store.close()
    if not ctx.quick:
        try:
            from pyinstrument import Profiler
        except ImportError:
            return
        s = Store(path, create=False)
        prof = Profiler(interval=0.002)
        prof.start()
        jur_daily(s)
        episodes(s)
        prof.stop()
        out = Path(__file__).parent / "profiles"
        out.mkdir(exist_ok=True)
        (out / "queries.txt").write_text(prof.output_text(unicode=True, color=False), encoding="utf-8")
        ctx.note("profile of the daily-series and episode queries: bench/profiles/queries.txt")


# ------------------------------------------------------------------------------------------------ 4. pages
def _count_points(obj) -> int:
    """Data points in a plotly trace dict (typed arrays ``{"bdata", "dtype", "shape"}`` included)."""
    n = 0
    for key in ("x", "y", "z", "lat", "lon", "values", "r"):
        v = obj.get(key)
        if isinstance(v, list):
            n = max(n, len(v))
        elif isinstance(v, dict) and "bdata" in v:
            shape = v.get("shape")
            if shape:
                n = max(n, int(np.prod([int(x) for x in str(shape).split(",")])))
            else:
                import base64
                size = np.dtype(v.get("dtype", "f8")).itemsize
                n = max(n, len(base64.b64decode(v["bdata"])) // size)
    return n


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else []:
        yield from _walk(child)


def _page_payload(at) -> tuple[int, int, int]:
    """(total proto bytes, max points in one chart, charts) of an AppTest run."""
    total, max_pts, charts = 0, 0, 0
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "ByteSize"):
            continue
        total += proto.ByteSize()
        if getattr(node, "type", "") == "plotly_chart" or proto.DESCRIPTOR.name == "PlotlyChart":
            charts += 1
            spec = json.loads(proto.spec or "{}")
            pts = sum(_count_points(tr) for tr in spec.get("data", []))
            max_pts = max(max_pts, pts)
    return total, max_pts, charts


def bench_pages(ctx) -> None:
    os.environ["REGIONAIR_STORE"] = str(regional_store(ctx))
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    biggest = (0, "")
    for period in (("72h",) if ctx.quick else ("72h", "year")):
        for page in PAGES:
            def run(page=page, period=period):
                at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
                at.query_params["period"] = period
                at.run()
                return at
            t0 = time.perf_counter()
            at = run()
            cold = time.perf_counter() - t0
            warm = measure(run, repeat=1 if ctx.quick else 2)
            errors = len(at.exception)
            size, pts, charts = _page_payload(at)
            label = f"{page} (period={period})"
            ctx.figure(f"{label} — cold", cold, "s", target="≤ 3 s", met=None if ctx.quick else cold <= 3,
                       note=f"{errors} exception(s)" if errors else "")
            ctx.figure(f"{label} — warm", warm["median"], "s", stats=warm, target="≤ 1 s",
                       met=None if ctx.quick else warm["median"] <= 1)
            ctx.figure(f"{label} — largest chart / payload", pts, "points",
                       target="≤ 20,000", met=pts <= 20_000,
                       note=f"{charts} chart(s), page payload {size / 1024:.0f} KiB")
            if size > biggest[0]:
                biggest = (size, label)
    ctx.figure(f"largest page payload: {biggest[1]}", biggest[0] / 1024, "KiB")


# ------------------------------------------------------------------------------------------------ 5/6. browser
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _server(store: Path, script: str = "app.py"):
    """``streamlit run`` of the dashboard (or another ``script``) from the repository root, so that
    ``.streamlit/config.toml`` applies as in a deployment."""
    import urllib.request

    port = _free_port()
    env = dict(os.environ, REGIONAIR_STORE=str(store), PYTHONPATH=str(ROOT))
    streamlit = Path(PY).with_name("streamlit")
    proc = subprocess.Popen([str(streamlit), "run", script, "--server.headless", "true", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not start within 60 s")
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


async def _launch(p):
    """Headless Chromium for a benchmark (``p`` is Playwright's async API object)."""
    return await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


async def _load_sessions(url: str, n: int, timeout_ms: int = 60_000) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await _launch(p)
        try:
            async def one():
                context = await browser.new_context(viewport={"width": 1400, "height": 1000})
                page = await context.new_page()
                t0 = time.perf_counter()
                await page.goto(url)
                await page.wait_for_selector(".js-plotly-plot", timeout=timeout_ms)
                el = time.perf_counter() - t0
                await context.close()
                return el

            return list(await asyncio.gather(*[one() for _ in range(n)]))
        finally:
            await browser.close()


def _rss_mb(pid: int) -> float:
    total = 0.0
    for p in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds used so far by one process (``pid``) or by the whole machine (None), from /proc."""
    if pid is None:
        v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _browser_figures(ctx, url: str, label: str, counts, *, target: bool) -> None:
    for n in counts:
        times = []
        for _ in range(1 if ctx.quick or n > 1 else 3):
            times += asyncio.run(_load_sessions(url, n))
        p50, p95 = float(np.percentile(times, 50)), float(np.percentile(times, 95))
        ctx.figure(f"{label}{n} concurrent sessions: time to first chart p50", p50, "s",
                   stats={"min": min(times), "median": p50, "max": max(times), "runs": len(times)})
        ctx.figure(f"{label}{n} concurrent sessions: time to first chart p95", p95, "s",
                   target="≤ 3 s" if target and n == 10 else "", met=(p95 <= 3) if target and n == 10 else None)


async def _trace_session(url: str, path: Path) -> float:
    """Load ``url`` once (warm-up), then again in a fresh context under Chrome tracing; the trace goes to ``path``."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await _launch(p)
        try:
            for trace in (False, True):
                context = await browser.new_context(viewport={"width": 1400, "height": 1000})
                page = await context.new_page()
                if trace:
                    await browser.start_tracing(page=page, path=str(path), categories=[
                        "devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "toplevel"])
                t0 = time.perf_counter()
                await page.goto(url)
                await page.wait_for_selector(".js-plotly-plot", timeout=90_000)
                el = time.perf_counter() - t0
                if trace:
                    await browser.stop_tracing()
                await context.close()
            return el
        finally:
            await browser.close()


def _trace_summary(path: Path, first_chart: float) -> list[str]:
    """Busy time per browser thread and the largest renderer events of a Chrome trace."""
    from collections import Counter

    events = json.loads(path.read_text())["traceEvents"]
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    procs = {e["pid"]: e["args"]["name"] for e in events if e.get("name") == "process_name"}
    busy, top = Counter(), Counter()
    for e in events:
        if e.get("ph") != "X":
            continue
        ms = e.get("tdur", e.get("dur", 0)) / 1e3
        thread = threads.get((e.get("pid"), e.get("tid")), "?")
        if e.get("name") == "ThreadControllerImpl::RunTask":
            busy[f"{procs.get(e.get('pid'), '?')} / {thread}"] += ms
        if thread == "CrRendererMain" and e.get("name") in (
                "v8.evaluateModule", "FunctionCall", "MessagePort::Accept", "ProxyMain::BeginMainFrame",
                "UpdateLayoutTree", "Layout", "Paint", "EvaluateScript", "v8.compile", "ParseHTML"):
            url = ((e.get("args") or {}).get("data") or {}).get("url", "")
            top[f"{e['name']} {url.rsplit('/', 1)[-1]}".strip()] += ms
    lines = [f"One overview session in Chromium, first chart after {first_chart:.2f} s (Chrome trace).",
             "", "CPU time per thread (top-level tasks; ms):"]
    lines += [f"  {v:8.0f}  {k}" for k, v in busy.most_common(8)]
    lines += ["", "Largest renderer main-thread activities (inclusive; ms; FunctionCall react-dom = React "
              "rendering the messages, v8.evaluateModule = first run of a JS module such as the plotly bundle):"]
    lines += [f"  {v:8.0f}  {k}" for k, v in top.most_common(12)]
    return lines


#: py-spy samples per second in the server profile.
SPY_RATE = 200


def _spy_summary(raw: Path, seconds: float) -> list[str]:
    """Inclusive share of the functions in a py-spy ``--gil`` raw profile (only samples holding the GIL)."""
    from collections import Counter

    total, incl = 0, Counter()
    for line in raw.read_text().splitlines():
        stack, n = line.rsplit(" ", 1)
        total += int(n)
        for frame in set(stack.split(";")[1:]):
            incl[frame] += int(n)
    keep = [(k, v) for k, v in incl.most_common(400)
            if any(s in k for s in ("regionair/", "pages/", "app.py", "plotly", "streamlit/elements", "pandas/core/frame",
                                     "starlette", "uvicorn", "script_runner.py:", "forward_msg", "protobuf"))]
    lines = [f"Dashboard server under 10 simultaneous overview sessions (protocol client, first visit): py-spy --gil, "
             f"{total} samples ≈ {total / SPY_RATE:.2f} s holding the GIL over {seconds:.1f} s.", "",
             "Inclusive share of GIL time (%):"]
    lines += [f"  {100 * v / max(total, 1):5.1f}  {k}" for k, v in keep[:40]]
    return lines


def bench_concurrency(ctx) -> None:
    """Overview loaded by 1/5/10 simultaneous sessions: in Chromium (the issue's measure), the same for a
    one-line Streamlit page (the floor of any Streamlit + plotly page with the browsers on these 2 cores),
    where the CPU goes, and the server's own share measured without browsers (bench/sessions.py)."""
    from bench.sessions import protocol_sessions, record_assets

    store = regional_store(ctx)
    counts = (1, 2) if ctx.quick else (1, 5, 10)
    with _server(store) as (url, proc):
        first = asyncio.run(_load_sessions(url, 1))
        ctx.figure("overview, first session after server start (cold caches)", first[0], "s")
        _browser_figures(ctx, url, "", counts, target=True)
        n = counts[-1]
        m0, s0 = _cpu_seconds(), _cpu_seconds(proc.pid)
        asyncio.run(_load_sessions(url, n))
        m1, s1 = _cpu_seconds(), _cpu_seconds(proc.pid)
        ctx.figure(f"CPU per browser session at {n} sessions: Chromium (browser + renderers)", (m1 - m0 - (s1 - s0)) / n, "s",
                   note="machine CPU minus the server's, divided by the sessions (includes launching Chromium once)")
        ctx.figure(f"CPU per browser session at {n} sessions: dashboard server", (s1 - s0) / n, "s")

        # the server's part without browsers: the same static files and websocket protocol
        assets = asyncio.run(record_assets(url, chromium_path(), CHROMIUM_ARGS))
        returning = [a for a in assets if "/static/" not in a]  # hashed assets: Cache-Control immutable
        protocol_sessions(url, returning, 2)  # warm
        for kind, files in (("first visit", assets), ("returning visitor", returning)):
            for n in ((1, 2) if ctx.quick else (1, 5, 10, 20)):
                s0 = _cpu_seconds(proc.pid)
                res = protocol_sessions(url, files, n)
                cpu = (_cpu_seconds(proc.pid) - s0) / n
                t = [r["first_chart"] for r in res]
                p95 = float(np.percentile(t, 95))
                ctx.figure(f"server side, {kind}, {n} sessions: first chart sent p95", p95, "s",
                           stats={"min": min(t), "median": float(np.median(t)), "max": max(t), "runs": n},
                           target="≤ 3 s" if n == 10 else "", met=(p95 <= 3) if n == 10 and not ctx.quick else None,
                           note=f"{len(files)} HTTP requests ({res[0]['bytes'] / 1e6:.1f} MB) + websocket; "
                                f"server CPU {cpu:.2f} s per session")
        if not ctx.quick:
            out = Path(__file__).parent / "profiles"
            out.mkdir(exist_ok=True)
            trace = Path(ctx.workdir) / "overview_trace.json"
            lines = _trace_summary(trace, asyncio.run(_trace_session(url, trace)))
            spy = shutil.which("py-spy") or str(Path(PY).with_name("py-spy"))
            if Path(spy).exists():
                raw = Path(ctx.workdir) / "server_spy.txt"
                rec = subprocess.Popen([spy, "record", "-p", str(proc.pid), "-o", str(raw), "-f", "raw", "-r", str(SPY_RATE),
                                        "--gil"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)
                t0 = time.perf_counter()
                protocol_sessions(url, assets, 10)
                el = time.perf_counter() - t0
                rec.send_signal(2)
                rec.wait(30)
                if raw.exists():
                    lines += ["", *_spy_summary(raw, el)]
            (out / "concurrency.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            ctx.note("browser trace and server profile of overview sessions: bench/profiles/concurrency.txt")
    # the floor: the same measurement for a page that shows one line of text and a 3-point plotly chart
    with _server(store, "bench/floor_app.py") as (url, _proc):
        asyncio.run(_load_sessions(url, 1))
        _browser_figures(ctx, url, "floor page (one text line + one 3-point plotly chart), ", counts, target=False)


def bench_memory(ctx) -> None:
    from playwright.async_api import async_playwright

    store = regional_store(ctx)

    async def visit(url):
        async with async_playwright() as p:
            browser = await _launch(p)
            try:
                page = await (await browser.new_context(viewport={"width": 1400, "height": 1000})).new_page()
                for period in ("72h", "year"):
                    for name in PAGES:
                        path = URL_PATHS[name]
                        await page.goto(f"{url}/{path}?period={period}", wait_until="networkidle")
                        with contextlib.suppress(Exception):
                            await page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached",
                                                         timeout=60_000)
                        await page.wait_for_timeout(500)
            finally:
                await browser.close()

    with _server(store) as (url, proc):
        before = _rss_mb(proc.pid)
        t0 = time.perf_counter()
        asyncio.run(visit(url))
        el = time.perf_counter() - t0
        rss = _rss_mb(proc.pid)
        ctx.figure("dashboard RSS after start", before, "MB")
        ctx.figure("dashboard RSS after every page (72h and year periods)", rss, "MB", target="≤ 1024 MB",
                   met=None if ctx.quick else rss <= 1024, note=f"visits took {el:.0f} s")


BENCHMARKS = {
    "aqi": bench_aqi,
    "ingest": bench_ingest,
    "queries": bench_queries,
    "pages": bench_pages,
    "concurrency": bench_concurrency,
    "memory": bench_memory,
}
