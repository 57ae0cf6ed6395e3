"""Chart images and export bundles: PNG/SVG of plotly figures, the data behind them, ``metadata.json``.

Images are rendered server-side with kaleido 1.x, which drives the system Chromium (``make system``
installs ``chromium`` and ``fonts-noto-cjk``); Chinese text is drawn with the Noto CJK fonts named first
in :data:`regionair.render.charts.FONT_STACK`. kaleido runs in a child process (one per renderer slot, started on
first use and reused: the first image takes ≈ 3 s, later ones ≈ 0.2 s), so that every image has a deadline
(:func:`render_timeout`) after which the child and its Chromium are killed, and no module-level lock is
held while Chromium works: a second user waits for a slot at most ``REGIONAIR_RENDER_WAIT`` s, and CSV/XLSX
downloads never wait for Chromium. Without Chromium an image fails at once with a message naming the fix;
a bundle then holds its data files and a ``WARNING.txt``.

An export bundle is a zip::

    metadata.json                 filters, period, edition, data version / ingest time, sources, files
    charts/<name>.png             ≥ 2× scale
    charts/<name>.svg
    data/<name>.csv               UTF-8 with BOM (Excel opens Chinese correctly)
    data/<name>.xlsx              bold header, units row, frozen pane

No Streamlit here: :mod:`regionair.ui.export` offers it as a download button.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import math
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from regionair.core.aqi import edition_for
from regionair.core.i18n import t
from regionair.errors import RegionairError
from regionair.render.tables import to_csv_bytes, to_xlsx_bytes

#: Scale factor of exported PNGs (≥ 2 for print and projection).
PNG_SCALE = 2
DEFAULT_SIZE = (1000, 560)
FORMATS = ("png", "svg")
BUNDLE_FORMAT = 1

#: Longest time one Chromium job may take [s] (an image, the first one including Chromium's start; a PDF
#: print): ``REGIONAIR_RENDER_TIMEOUT``. Past it the job's whole process tree is killed.
DEFAULT_RENDER_TIMEOUT = 60.0
#: Chromium renderers running at once per server process (``REGIONAIR_RENDER_SLOTS``; each is one
#: Chromium, ≈ 150 MB): a second user's bundle waits for a slot, at most ``REGIONAIR_RENDER_WAIT`` s.
DEFAULT_RENDER_SLOTS = 1
DEFAULT_RENDER_WAIT = 20.0
#: After Chromium hung or crashed, images are not tried again for this long [s]
#: (``REGIONAIR_RENDER_RETRY``): every click would otherwise wait out the timeout again.
DEFAULT_RENDER_RETRY = 300.0
#: Executables tried on PATH, in order (after ``REGIONAIR_CHROMIUM`` and kaleido's ``BROWSER_PATH``).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Where Chromium usually is when it is not on PATH (kaleido looks there too, so RegionAir must agree).
TYPICAL_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/snap/bin/chromium",
                 "/opt/google/chrome/chrome")
#: How to fix a missing or broken Chromium (every message about it ends with this).
CHROMIUM_FIX = ("Fix: `make system` (apt-get install chromium fonts-noto-cjk), or set REGIONAIR_CHROMIUM to the "
                "browser executable; `python -m regionair doctor` checks it")


class RenderError(RegionairError):
    """A chart image could not be rendered (Chromium missing, hanging or broken; kaleido failed)."""


class RenderBusy(RenderError):
    """Every Chromium renderer is busy with other users' images (the wait for a slot timed out)."""


def _env_float(name: str, default: float, *, minimum: float = 0.1) -> float:
    try:
        v = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return v if math.isfinite(v) and v >= minimum else default


def render_timeout() -> float:
    """Deadline of one Chromium job [s] (``REGIONAIR_RENDER_TIMEOUT``, default 60)."""
    return _env_float("REGIONAIR_RENDER_TIMEOUT", DEFAULT_RENDER_TIMEOUT)


def find_chromium() -> str | None:
    """The Chromium/Chrome executable: ``REGIONAIR_CHROMIUM``, ``BROWSER_PATH`` (kaleido's own variable), the
    first of :data:`CHROMIUM_NAMES` on PATH, or the first of :data:`TYPICAL_PATHS`; ``None`` when there is
    none (or the variable names no executable file)."""
    for var in ("REGIONAIR_CHROMIUM", "BROWSER_PATH"):
        val = os.environ.get(var, "").strip()
        if val:
            path = val if os.sep in val else shutil.which(val)
            return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    for path in TYPICAL_PATHS:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def missing_chromium_message(what: str = "chart images") -> str:
    """The message for a machine without Chromium."""
    val = os.environ.get("REGIONAIR_CHROMIUM", "").strip() or os.environ.get("BROWSER_PATH", "").strip()
    where = (f"{val!r} (from REGIONAIR_CHROMIUM/BROWSER_PATH) is not an executable file" if val
             else f"none of {', '.join(CHROMIUM_NAMES)} is on PATH or in {', '.join(TYPICAL_PATHS)}")
    return f"{what} need Chromium, and none was found: {where}. {CHROMIUM_FIX}"


# ------------------------------------------------------------------------------------------------
# process trees: Chromium starts its own session, so killing a process group is not enough
# ------------------------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for d in entries:
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                stat = fh.read()
            ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(pid: int) -> int:
    """SIGKILL ``pid`` and every process descended from it (stopped first, so none can fork away).

    Returns the number of processes signalled. Linux (``/proc``); elsewhere only ``pid``'s group.
    """
    first = [pid, *_descendants(pid)]
    for p in first:
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGSTOP)
    procs = list(dict.fromkeys([*first, *_descendants(pid)]))
    for p in procs:
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    return len(procs)


# ------------------------------------------------------------------------------------------------
# the renderer: kaleido in a child process, one request at a time, each with a deadline
# ------------------------------------------------------------------------------------------------


class _WorkerDied(Exception):
    pass


class _Worker:
    """A child Python running kaleido (which drives Chromium); talks over its stdin/stdout.

    Request: 8-byte length + JSON ``{"fig", "format", "scale", "width", "height"}``; answer: ``0``/``1``
    (image/error) + 8-byte length + bytes. Killed with its whole tree on a deadline; dies by itself
    when its parent does (stdin closes, or a watchdog sees the parent gone).
    """

    def __init__(self, browser: str):
        self.browser = browser
        env = dict(os.environ, BROWSER_PATH=browser)
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", f"import {__name__} as m; m._worker_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            start_new_session=True, close_fds=True)
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        os.set_blocking(self._in, False)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def call(self, payload: bytes, deadline: float) -> tuple[bool, bytes]:
        end = time.monotonic() + deadline
        self._send(struct.pack(">Q", len(payload)) + payload, end)
        head = self._recv(9, end)
        (n,) = struct.unpack(">Q", head[1:])
        return head[:1] == b"0", self._recv(n, end)

    def _send(self, data: bytes, end: float) -> None:
        view = memoryview(data)
        while view:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError
            _, ready, _ = select.select([], [self._in], [], left)
            if not ready:
                continue
            try:
                k = os.write(self._in, view[:65536])
            except BlockingIOError:
                continue
            except OSError as exc:  # BrokenPipe: the worker is gone
                raise _WorkerDied(str(exc)) from None
            view = view[k:]

    def _recv(self, n: int, end: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._out], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._out, min(n - len(buf), 1 << 20))
            if not chunk:
                raise _WorkerDied(f"exit status {self.proc.poll()}")
            buf += chunk
        return bytes(buf)

    def kill(self) -> None:
        if self.proc.poll() is None:
            kill_tree(self.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                f.close()


def _worker_main() -> None:  # pragma: no cover - runs in the child (tests/test_deadlines.py drives it)
    """The render child: read requests from stdin, draw each with kaleido, answer on stdout."""
    fd_in, fd_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # anything printed goes to stderr, never into the answers
    parent = os.getppid()

    def leave(code: int):
        for p in _descendants(os.getpid()):  # Chromium (its own session: not in our process group)
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
        os._exit(code)

    def watch_parent():
        while True:
            if os.getppid() != parent:
                leave(1)
            time.sleep(1)

    threading.Thread(target=watch_parent, daemon=True).start()

    def read(n):
        buf = bytearray()
        while len(buf) < n:
            chunk = os.read(fd_in, n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def answer(ok: bool, data: bytes):
        msg = (b"0" if ok else b"1") + struct.pack(">Q", len(data)) + data
        while msg:
            msg = msg[os.write(fd_out, msg):]

    import kaleido  # kaleido (and its Chromium) start only when an image is drawn
    import plotly.io as pio  # plotly loads only when a figure is made here
    from kaleido import _sync_server  # kaleido (and its Chromium) start only when an image is drawn

    started = False
    while True:
        head = read(8)
        if head is None:
            break
        spec = json.loads(read(struct.unpack(">Q", head)[0]) or b"{}")
        try:
            if not started:
                kaleido.start_sync_server(silence_warnings=True)
                started = True
            fig = pio.from_json(spec["fig"], skip_invalid=True)
            box: dict = {}

            def draw(fig=fig, spec=spec, box=box):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        # deadline: this runs in the render child, which the parent kills (with Chromium) at
                        # render_timeout(); the join loop below also stops when kaleido's browser dies
                        box["data"] = fig.to_image(format=spec["format"], scale=spec["scale"],  # timeout: parent kill
                                                   width=spec["width"], height=spec["height"])
                except BaseException as exc:  # noqa: BLE001 - handed to the parent as text
                    box["error"] = f"{type(exc).__name__}: {exc}"

            th = threading.Thread(target=draw, daemon=True)
            th.start()
            server = getattr(_sync_server.GlobalKaleidoServer(), "_thread", None)
            while th.is_alive():
                th.join(0.2)
                if th.is_alive() and server is not None and not server.is_alive():
                    # kaleido's server thread ended: Chromium did not start or crashed; the request
                    # would wait for ever
                    answer(False, b"Chromium did not start or crashed (kaleido's browser session ended)")
                    leave(3)
            if "error" in box:
                answer(False, box["error"].encode("utf-8", "replace"))
            else:
                answer(True, box["data"])
        except Exception as exc:  # noqa: BLE001 - handed to the parent as text
            answer(False, f"{type(exc).__name__}: {exc}".encode("utf-8", "replace"))
    leave(0)


_slots = threading.BoundedSemaphore(max(1, int(_env_float("REGIONAIR_RENDER_SLOTS", DEFAULT_RENDER_SLOTS, minimum=1))))
_idle: list[_Worker] = []
_workers: set[_Worker] = set()  # every live worker (killed at exit)
#: The last failure per browser path: {"browser", "at" (monotonic s), "message"}.
_failure: dict = {}


def _stop_workers() -> None:  # pragma: no cover - process exit
    for w in list(_workers):
        w.kill()


atexit.register(_stop_workers)


def _note_failure(browser: str, message: str) -> None:
    _failure.clear()
    _failure.update(browser=browser, at=time.monotonic(), message=message)


def reset_render_failures() -> None:
    """Forget the last Chromium failure (images are tried again at the next request)."""
    _failure.clear()


def image_problem() -> str | None:
    """Why chart images cannot be drawn right now, or ``None``: no Chromium, or Chromium hung or crashed
    less than ``REGIONAIR_RENDER_RETRY`` s ago (cheap: no process is started)."""
    browser = find_chromium()
    if browser is None:
        return missing_chromium_message()
    if _failure.get("browser") == browser:
        retry = _env_float("REGIONAIR_RENDER_RETRY", DEFAULT_RENDER_RETRY, minimum=0)
        left = retry - (time.monotonic() - _failure["at"])
        if left > 0:
            return f"{_failure['message']} (not tried again for {left:.0f} s)"
    return None


@contextlib.contextmanager
def renderer(*, wait: float | None = None, timeout: float | None = None):
    """A Chromium renderer for a batch of images: ``with renderer() as draw: draw(fig, "png")``.

    Holds one of the renderer slots for the batch, so one user's bundle is drawn in one go while other
    users' bundles wait (at most ``wait`` s, then :class:`RenderBusy`). Each image has ``timeout`` s; past
    it the renderer (with its Chromium) is killed and :class:`RenderError` raised. Nothing else waits for
    it: CSV/XLSX downloads never touch these slots.

    Raises
    ------
    RenderError
        Chromium missing (at once, no process started), hanging (after ``timeout``), crashed, or a recent
        such failure (at once, see :func:`image_problem`); the message names Chromium and the fix.
    RenderBusy
        No slot within ``wait`` s.
    """
    problem = image_problem()
    if problem:
        raise RenderError(f"cannot render chart images: {problem}")
    browser = find_chromium()
    wait = _env_float("REGIONAIR_RENDER_WAIT", DEFAULT_RENDER_WAIT, minimum=0) if wait is None else wait
    timeout = render_timeout() if timeout is None else timeout
    if not _slots.acquire(timeout=wait):
        raise RenderBusy(f"chart images are being drawn for other users (waited {wait:.0f} s for Chromium); "
                         "try again in a minute — the data files are not affected")
    state: dict = {"worker": None}

    def take() -> _Worker:
        while _idle:
            w = _idle.pop()
            if w.alive() and w.browser == browser:
                return w
            w.kill()
            _workers.discard(w)
        w = _Worker(browser)
        _workers.add(w)
        return w

    def draw(fig: go.Figure, fmt: str, *, scale: float, width: int, height: int) -> bytes:
        if state["worker"] is None:
            state["worker"] = take()
        w = state["worker"]
        payload = json.dumps({"fig": fig.to_json(), "format": fmt, "scale": scale, "width": width,
                              "height": height}).encode("utf-8")
        try:
            ok, data = w.call(payload, timeout)
        except (TimeoutError, _WorkerDied, OSError) as exc:
            state["worker"] = None
            w.kill()
            _workers.discard(w)
            if isinstance(exc, TimeoutError):
                msg = (f"Chromium ({browser}) did not draw the chart within {timeout:.0f} s (it hangs or cannot "
                       "start); it was stopped")
            else:
                msg = f"Chromium ({browser}) or kaleido stopped while drawing the chart ({exc})"
            _note_failure(browser, msg)
            raise RenderError(f"cannot render the chart as {fmt.upper()}: {msg}. {CHROMIUM_FIX}") from None
        if not ok:
            text = data.decode("utf-8", "replace")[:500]
            if not w.alive():
                state["worker"] = None
                w.kill()
                _workers.discard(w)
                _note_failure(browser, f"Chromium ({browser}): {text}")
            raise RenderError(f"cannot render the chart as {fmt.upper()}: {text}. {CHROMIUM_FIX}")
        return data

    try:
        yield draw
    finally:
        w = state["worker"]
        if w is not None:
            if w.alive():
                _idle.append(w)
            else:
                w.kill()
                _workers.discard(w)
        _slots.release()


def _size(fig: go.Figure, width, height) -> tuple[int, int]:
    return (width or fig.layout.width or DEFAULT_SIZE[0], height or fig.layout.height or DEFAULT_SIZE[1])


def render_image(fig: go.Figure, fmt: str = "png", *, scale: float = PNG_SCALE,
                 width: int | None = None, height: int | None = None, timeout: float | None = None) -> bytes:
    """One figure as PNG or SVG bytes, drawn by kaleido/Chromium in a child process with a deadline.

    Parameters
    ----------
    fig : plotly Figure — drawn with the RegionAir template (CJK font stack).
    fmt : {"png", "svg"}
    scale : float — PNG pixel scale (default 2: a 1000×560 layout gives 2000×1120 px) [–].
    width, height : int, optional — layout size [CSS px]; default the figure's own or 1000×560.
    timeout : float, optional — deadline [s]; default :func:`render_timeout`.

    Raises
    ------
    ValueError
        Unknown format.
    RenderError
        Chromium missing (at once), hanging (after ``timeout``) or broken, or every renderer busy
        (:class:`RenderBusy`); the message names Chromium and the fix (``make system``).
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt={fmt!r}; valid: {', '.join(FORMATS)}")
    w, h = _size(fig, width, height)
    with renderer(timeout=timeout) as draw:
        return draw(fig, fmt, scale=scale if fmt == "png" else 1, width=w, height=h)


def safe_name(text: str) -> str:
    """A file-name stem from a chart name (ASCII, digits, CJK, ``_-``)."""
    return re.sub(r"[^0-9A-Za-z\u4e00-\u9fff_-]+", "_", str(text)).strip("_")[:80] or "chart"


@dataclass
class ChartItem:
    """One chart of a page: its figure and the table behind it."""

    name: str
    figure: go.Figure | dict | None  # a dict is ``Figure.to_dict()`` (a cheap copy; rebuilt when rendered)
    table: pd.DataFrame
    title: str = ""
    units: dict[str, str] = field(default_factory=dict)


def _jsonable(v: Any) -> Any:
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set):
        return [_jsonable(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


def store_metadata(store) -> dict:
    """Data version and ingest times of a :class:`~regionair.store.Store` (for ``metadata.json``)."""
    snap = store.snapshot()
    out = {"store_version": snap.version, "data_version": snap.data_version, "committed_at": snap.committed_at}
    try:
        log = store.ingest_log()
    except RegionairError:
        log = pd.DataFrame()
    if len(log):
        ok = log[log["status"].isin(["ok", "partial"])] if "status" in log else log
        out["last_ingest_at"] = _jsonable(pd.Timestamp(ok["finished_at"].max())) if len(ok) else None
        out["sources"] = sorted({s for v in log["source"].dropna() for s in str(v).split(";") if s})
    try:
        fresh = store.latest_time(by="source")
        out["latest_hour_by_source"] = {r.source: _jsonable(pd.Timestamp(r.time)) for r in fresh.itertuples()}
    except RegionairError:
        pass
    return out


def bundle_metadata(*, page: str, filters: Mapping | None = None, start=None, end=None, edition: str = "auto",
                    store=None, sources: Iterable[str] = (), extra: Mapping | None = None) -> dict:
    """The ``metadata.json`` document of a bundle (everything needed to reproduce the view)."""

    meta: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "generator": "RegionAir",
        "page": page,
        "created_at": pd.Timestamp.now(tz="Asia/Shanghai").isoformat(timespec="seconds"),
        "time_range": {"start": _jsonable(start), "end": _jsonable(end),
                       "convention": "Beijing time (UTC+8), hour-ending stamps"},
        "edition": edition,
        "filters": _jsonable(dict(filters or {})),
        "sources": list(sources) or ["CNEMC real-time release (provisional, unaudited)"],
    }
    if start is not None and end is not None:
        s = pd.Timestamp(start) - pd.Timedelta(hours=1)
        e = pd.Timestamp(end) - pd.Timedelta(hours=1)
        meta["editions_in_force"] = sorted({str(edition_for(s.date())), str(edition_for(e.date()))})
    if store is not None:
        meta["data"] = store_metadata(store)
    if extra:
        meta.update(_jsonable(dict(extra)))
    return meta


def build_bundle(items: Iterable[ChartItem], metadata: Mapping, *, images: bool = True,
                 problems: list[str] | None = None) -> bytes:
    """Zip of every chart (PNG + SVG), its data (CSV + XLSX) and ``metadata.json``.

    Parameters
    ----------
    items : ChartItem — charts of the page (a chart without figure contributes only its data).
    metadata : mapping — :func:`bundle_metadata` output; a ``files`` list is added.
    images : bool — False skips image rendering (data-only bundle).
    problems : list, optional — receives the message when images were wanted but could not be drawn.

    Returns
    -------
    bytes — the zip archive. When Chromium is missing, hangs (see :func:`render_timeout`) or every renderer
    is busy, the bundle still holds every data file; it then has no ``charts/``, a ``WARNING.txt`` (zh + en)
    naming Chromium and the fix, and ``metadata.json`` ``images: {"rendered": false, "error": …}``.
    """

    items = list(items)
    buf = io.BytesIO()
    files: list[dict] = []
    used: set[str] = set()
    image_error: str | None = None
    want = images and any(it.figure is not None for it in items)
    with contextlib.ExitStack() as stack, zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        draw = None
        if want:
            try:
                draw = stack.enter_context(renderer())
            except RenderError as exc:
                image_error = str(exc)
        for it in items:
            stem = safe_name(it.name)
            k = 2
            while stem in used:
                stem = f"{safe_name(it.name)}_{k}"
                k += 1
            used.add(stem)
            entry = {"name": it.name, "title": it.title, "rows": len(it.table), "columns": [str(c) for c in it.table.columns]}
            if draw is not None and image_error is None and it.figure is not None:
                fig = it.figure if isinstance(it.figure, go.Figure) else go.Figure(it.figure)
                w, h = _size(fig, None, None)
                try:
                    drawn = {fmt: draw(fig, fmt, scale=PNG_SCALE if fmt == "png" else 1, width=w, height=h)
                             for fmt in FORMATS}
                except RenderError as exc:
                    image_error = str(exc)
                else:
                    for fmt, data in drawn.items():
                        path = f"charts/{stem}.{fmt}"
                        zf.writestr(path, data)
                        entry[fmt] = path
            zf.writestr(f"data/{stem}.csv", to_csv_bytes(it.table))
            zf.writestr(f"data/{stem}.xlsx", to_xlsx_bytes(it.table, units=it.units or None))
            entry["csv"], entry["xlsx"] = f"data/{stem}.csv", f"data/{stem}.xlsx"
            files.append(entry)
        meta = dict(metadata)
        meta["charts"] = files
        if want:
            meta["images"] = {"rendered": image_error is None, **({"error": image_error} if image_error else {})}
        if image_error:
            note = t("render.bundle_note", "zh", error=image_error) + "\n\n" + t("render.bundle_note", "en", error=image_error)
            zf.writestr("WARNING.txt", note.encode("utf-8-sig"))
            if problems is not None:
                problems.append(image_error)
        zf.writestr("metadata.json", json.dumps(meta, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    return buf.getvalue()


def probe_image(timeout: float) -> bytes:
    """A small chart with Chinese text drawn to PNG within ``timeout`` seconds (``python -m regionair doctor``)."""
    fig = go.Figure(go.Bar(x=["乌鲁木齐市", "石河子市"], y=[117, 185]), layout=dict(title="区域空气质量"))
    return render_image(fig, "png", width=400, height=250, timeout=timeout)
