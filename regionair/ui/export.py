"""Per-page "export bundle" button: every chart shown by :func:`regionair.ui.chart` in this run, as a zip.

:func:`regionair.ui.chart` calls :func:`register`; :func:`regionair.ui.page` calls :func:`reset` at the
start of each run; ``app.py`` (and pages that run alone) call :func:`bundle_button` at the end. The zip is
built only when the user clicks (deferred ``download_button`` data), so pages do not pay for rendering.

Chromium never stalls the page: without it (or for a few minutes after it hung) the page says so in a
warning and the button gives a data-only bundle at once; a click that meets a hanging Chromium returns a
data-only bundle after the render deadline (:func:`regionair.render.bundle.render_timeout`), and the next run of
the page shows why. Images are drawn in a child process outside any lock CSV/XLSX downloads need.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from regionair.core.i18n import t
from regionair.render.bundle import (
    ChartItem,
    build_bundle,
    bundle_metadata,
    image_problem,
    safe_name,
    store_metadata,
)
from regionair.ui import data
from regionair.ui.auth import allowed

_KEY = "_regionair_bundle_items"



def reset() -> None:
    """Forget the charts of the previous run (called when a page starts)."""
    st.session_state[_KEY] = []
    st.session_state[_KEY + "_shown"] = False


def register(fig: go.Figure | None, table: pd.DataFrame, name: str, title: str = "") -> None:
    """Remember a chart shown in this run (a copy: later changes to ``fig`` do not leak in).

    The copy is ``fig.to_dict()``: ten times cheaper than ``go.Figure(fig)``, which re-validates every
    trace on each run of every session; the bundle rebuilds the figure only when it is downloaded.
    """
    items = st.session_state.setdefault(_KEY, [])
    items.append(ChartItem(name=name, figure=fig.to_dict() if fig is not None else None, table=table.copy(),
                           title=title or (fig.layout.title.text if fig is not None and fig.layout.title else "") or ""))


def items() -> list[ChartItem]:
    return list(st.session_state.get(_KEY, []))


def bundle_data(charts: list[ChartItem], meta: dict, store, status: dict) -> bytes:
    """The deferred data of the bundle button (runs on click, outside the script run: no Streamlit here).

    Never raises for Chromium: without images the zip holds the data and a note, and ``status["error"]``
    (a plain dict kept in the session state) tells the next page run why.
    """
    problems: list[str] = []
    data = build_bundle(charts, {**meta, "data": store_metadata(store)}, problems=problems)
    if problems:
        status["error"] = problems[0]
    return data


def bundle_button(f, page: str, *, extra: dict | None = None, key: str | None = None) -> None:
    """Download button for the zip of this run's charts (nothing when the page showed no chart)."""

    charts = items()
    if not charts or st.session_state.get(_KEY + "_shown") or not allowed("export"):
        return  # nothing to export, the page already offered its own bundle in this run, or a viewer
    st.session_state[_KEY + "_shown"] = True

    filters = {"lang": f.lang, "period": f.period, "units": f.units, "stations": f.stations,
               "pollutant": f.pollutant, "resolution": f.resolution, "edition": f.edition,
               "query": {k: st.query_params.get_all(k) for k in st.query_params}}
    meta = bundle_metadata(page=page, filters=filters, start=f.start, end=f.end, edition=f.edition, extra=extra)
    store = data.get_store()
    period = f"{f.start:%Y%m%d%H}-{f.end:%Y%m%d%H}" if f.start is not None else "all"
    status = st.session_state.setdefault(_KEY + "_status", {})
    problem = image_problem()  # cheap: a PATH lookup and the last failure, no process started
    if problem:
        st.warning(t("render.page_warning", f.lang, error=problem), icon=":material/image_not_supported:")
        status.pop("error", None)
    elif status.get("error"):
        st.warning(t("render.bundle_failed", f.lang, error=status.pop("error")), icon=":material/image_not_supported:")
    label = t("render.bundle_data_only", f.lang) if problem else t("ex_bundle", f.lang)
    # the store's versions and ingest times are read on click, not on every run (they cost ~10 % of a
    # session's server time; bench/ANALYSIS.md, concurrency)
    st.download_button(label, data=lambda: bundle_data(charts, meta, store, status),
                       file_name=f"regionair_{safe_name(page)}_{period}_bundle.zip", mime="application/zip",
                       help=t("ex_bundle_help", f.lang), icon=":material/folder_zip:", on_click="ignore",
                       key=key or f"bundle_{page}")
