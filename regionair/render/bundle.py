"""Chart images and export bundles: PNG/SVG of plotly figures, the data behind them, ``metadata.json``.

Images are rendered server-side with kaleido 1.x, which drives the system Chromium (``make system``
installs ``chromium`` and ``fonts-noto-cjk``); Chinese text is drawn with the Noto CJK fonts named first
in :data:`regionair.render.charts.FONT_STACK`. One kaleido server is started per process on first use and
reused (the first image takes ≈ 3 s, later ones ≈ 0.2 s).

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
import io
import json
import re
import threading
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from regionair.errors import RegionairError
from regionair.render.tables import to_csv_bytes, to_xlsx_bytes

#: Scale factor of exported PNGs (≥ 2 for print and projection).
PNG_SCALE = 2
DEFAULT_SIZE = (1000, 560)
FORMATS = ("png", "svg")
BUNDLE_FORMAT = 1

_lock = threading.Lock()
_server = False


class RenderError(RegionairError):
    """A chart image could not be rendered (Chromium or kaleido missing/broken)."""


def _stop_server() -> None:  # pragma: no cover - process exit
    global _server
    if _server:
        import kaleido

        try:
            kaleido.stop_sync_server(silence_warnings=True)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
        _server = False


def _ensure_server() -> None:
    global _server
    if _server:
        return
    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    _server = True
    atexit.register(_stop_server)


def render_image(fig: go.Figure, fmt: str = "png", *, scale: float = PNG_SCALE,
                 width: int | None = None, height: int | None = None) -> bytes:
    """One figure as PNG or SVG bytes.

    Parameters
    ----------
    fig : plotly Figure — drawn with the RegionAir template (CJK font stack).
    fmt : {"png", "svg"}
    scale : float — PNG pixel scale (default 2: a 1000×560 layout gives 2000×1120 px) [–].
    width, height : int, optional — layout size [CSS px]; default the figure's own or 1000×560.

    Raises
    ------
    ValueError
        Unknown format.
    RenderError
        kaleido/Chromium failed; the message says how to install Chromium and the CJK fonts.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt={fmt!r}; valid: {', '.join(FORMATS)}")
    w = width or fig.layout.width or DEFAULT_SIZE[0]
    h = height or fig.layout.height or DEFAULT_SIZE[1]
    try:
        with _lock:
            _ensure_server()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "kopts ignored if using a server"
                return fig.to_image(format=fmt, scale=scale if fmt == "png" else 1, width=w, height=h)
    except (RuntimeError, OSError, ValueError, ImportError) as exc:
        raise RenderError(
            f"cannot render the chart as {fmt.upper()}: {exc}. Hint: install Chromium and the CJK fonts "
            "(`make system`, i.e. apt-get install chromium fonts-noto-cjk)") from exc


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
    from regionair.core.aqi import edition_for

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


def build_bundle(items: Iterable[ChartItem], metadata: Mapping, *, images: bool = True) -> bytes:
    """Zip of every chart (PNG + SVG), its data (CSV + XLSX) and ``metadata.json``.

    Parameters
    ----------
    items : ChartItem — charts of the page (a chart without figure contributes only its data).
    metadata : mapping — :func:`bundle_metadata` output; a ``files`` list is added.
    images : bool — False skips image rendering (data-only bundle).

    Returns
    -------
    bytes — the zip archive.
    """
    buf = io.BytesIO()
    files: list[dict] = []
    used: set[str] = set()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for it in items:
            stem = safe_name(it.name)
            k = 2
            while stem in used:
                stem = f"{safe_name(it.name)}_{k}"
                k += 1
            used.add(stem)
            entry = {"name": it.name, "title": it.title, "rows": len(it.table), "columns": [str(c) for c in it.table.columns]}
            if images and it.figure is not None:
                fig = it.figure if isinstance(it.figure, go.Figure) else go.Figure(it.figure)
                for fmt in FORMATS:
                    path = f"charts/{stem}.{fmt}"
                    zf.writestr(path, render_image(fig, fmt))
                    entry[fmt] = path
            zf.writestr(f"data/{stem}.csv", to_csv_bytes(it.table))
            zf.writestr(f"data/{stem}.xlsx", to_xlsx_bytes(it.table, units=it.units or None))
            entry["csv"], entry["xlsx"] = f"data/{stem}.csv", f"data/{stem}.xlsx"
            files.append(entry)
        meta = dict(metadata)
        meta["charts"] = files
        zf.writestr("metadata.json", json.dumps(meta, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    return buf.getvalue()
