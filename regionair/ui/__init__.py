"""Thin Streamlit glue for pages: the frame (filters, header, freshness), cached data, chart output.

The only package module that imports Streamlit. Pages call :func:`page` first; it returns the
:class:`~regionair.ui.filters.Filters` of the current view.
"""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from regionair.core.aqi import edition_for
from regionair.core.i18n import MISSING, column_label, fmt_value, t, value_label
from regionair.render import charts
from regionair.render.exports import to_csv_bytes, to_xlsx_bytes
from regionair.ui import data, export
from regionair.ui.filters import Filters, render_filters

STALE_AMBER_H = 2
STALE_RED_H = 6
_FRAME_FLAG = "_regionair_frame"


def frame_filters() -> Filters:
    """Render the shared sidebar once per run (called by app.py before the page runs)."""
    anchor = data.latest_time()
    stations = _station_codes()
    f = render_filters(anchor, stations=stations, earliest=data.earliest_time())
    st.session_state[_FRAME_FLAG] = f
    return f


def _station_codes() -> list[str]:
    from regionair.core import region

    return list(region.stations()["code"])


def page(title_key: str) -> Filters:
    """Start a page: filters (from the frame, or drawn here when the page runs alone), title, banners.

    Stops the page with a translated message when the store is empty.
    """
    _leave_legacy_routing(title_key)
    if st.session_state.pop("_frame_this_run", False) and isinstance(st.session_state.get(_FRAME_FLAG), Filters):
        f = st.session_state[_FRAME_FLAG]
    else:  # the page runs alone (AppTest, or a direct script run): draw the filters here
        f = frame_filters()
    export.reset()
    st.title(t(title_key, f.lang))
    if f.anchor is None:
        st.info(t("empty_store", f.lang))
        st.stop()
    freshness_banner(f)
    return f


def _leave_legacy_routing(title_key: str) -> None:
    """Hand a first-load deep link over to app.py's st.navigation.

    Streamlit treats the first request after start-up as a legacy ``pages/``-directory app until
    some session has run ``st.navigation``; a permalink such as ``/trends?lang=en`` opened first
    would then run the page without the frame and lose its URL state. Switch to the entry script
    with the same query parameters plus ``_page``; app.py routes on from there.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        params["_page"] = [title_key.removeprefix("page_")]
        st.switch_page("app.py", query_params=[(k, v) for k, vs in params.items() for v in vs])


def mark_frame_run() -> None:
    """app.py calls this after drawing the frame so the page reuses its filters in this run."""
    st.session_state["_frame_this_run"] = True


def _age(delta: pd.Timedelta, lang: str) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.0f} 小时" if lang == "zh" else f"{hours:.0f} h"
    return f"{hours / 24:.0f} 天" if lang == "zh" else f"{hours / 24:.0f} days"


def freshness_banner(f: Filters) -> None:
    """Latest hour per source: amber when > 2 h behind the clock, red when > 6 h; plus the edition in force."""
    fresh = data.freshness()
    now = pd.Timestamp.now(tz="Asia/Shanghai")
    worst = 0
    parts = []
    for row in fresh.itertuples():
        age = now - pd.Timestamp(row.time)
        hours = age.total_seconds() / 3600
        args = dict(source=value_label(row.source, f.lang), time=f"{pd.Timestamp(row.time):%Y-%m-%d %H:%M}", age=_age(age, f.lang))
        if hours > STALE_RED_H:
            worst = max(worst, 2)
            parts.append(t("stale_red", f.lang, **args))
        elif hours > STALE_AMBER_H:
            worst = max(worst, 1)
            parts.append(t("stale_amber", f.lang, **args))
        else:
            parts.append(t("fresh_ok", f.lang, **args))
    text = "；".join(parts) if f.lang == "zh" else "; ".join(parts)
    if worst == 2:
        st.error(text, icon=":material/schedule:")
    elif worst == 1:
        st.warning(text, icon=":material/schedule:")
    elif text:
        st.caption(text)
    if f.start is not None:
        eds = sorted({edition_for((f.start - pd.Timedelta(hours=1)).date()), edition_for((f.end - pd.Timedelta(hours=1)).date())})
        shown = f.edition if f.edition != "auto" else " / ".join(f"HJ 633-{e}" for e in eds)
        st.caption(f"{t('edition_in_force', f.lang)}: {shown} · {t('period', f.lang)}: {f.describe()} · "
                   + t("demo_clock", f.lang, time=f"{f.anchor:%Y-%m-%d %H:%M}"))


def slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z\u4e00-\u9fff_-]+", "_", text).strip("_")[:80]


def _audit_export(filename: str) -> None:
    from regionair.ui.auth import record

    record("export", filename)


def chart(fig: go.Figure, table: pd.DataFrame, name: str, f: Filters, *, key: str | None = None) -> None:
    """Show a figure with high-resolution PNG export named after the view, and its data as CSV/XLSX."""
    period = f"{f.start:%Y%m%d%H}-{f.end:%Y%m%d%H}" if f.start is not None else ""
    filename = slug(f"regionair_{name}_{period}")
    source = t("source_note", f.lang)
    charts.footer(fig, f"{source} · {f.describe()} · {t('edition', f.lang)}: {t(f'edition_{f.edition}', f.lang)}")
    charts.localise_dates(fig, f.lang)
    if f.presentation:
        fig.update_layout(template=charts.template(True))
    st.plotly_chart(fig, theme=None, key=key or f"chart_{name}", config={
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "scale": 3, "filename": filename},
    })
    export.register(fig, table, name)
    c1, c2, _ = st.columns([1, 1, 1])
    # the files are built only when clicked (callables run on download, not on every rerun)
    c1.download_button(t("download_csv", f.lang), lambda: to_csv_bytes(table), file_name=f"{filename}.csv",
                       mime="text/csv", key=f"csv_{key or name}", on_click=_audit_export, args=(f"{filename}.csv",))
    c2.download_button(t("download_xlsx", f.lang), lambda: to_xlsx_bytes(table), file_name=f"{filename}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=f"xlsx_{key or name}", on_click=_audit_export, args=(f"{filename}.xlsx",))


def no_data(f: Filters) -> None:
    st.info(t("no_data_period", f.lang))


def table(df: pd.DataFrame, columns: dict[str, tuple[str, str]] | list[str] | None = None, lang: str = "zh", *,
          names: dict[str, str] | None = None, **kwargs) -> None:
    """Show ``df`` as a reader sees it: the listed columns (all when ``columns`` is None; a list takes its headers
    from the catalogue :data:`regionair.core.i18n.COLUMNS`, a dict gives its own (zh, en) pairs), code-valued cells in
    words (:func:`regionair.core.i18n.value_label`; station and jurisdiction codes through ``names``), yes/no for flags,
    numbers to their quantity's decimals and "—" for anything missing. Numbers stay numbers (columns sort)."""
    if columns is None:
        columns = list(df.columns)
    if not isinstance(columns, dict):
        columns = {c: (column_label(c, "zh"), column_label(c, "en")) for c in columns}
    cols = [c for c in columns if c in df.columns]
    frame = df[cols].copy()
    for c in cols:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            frame[c] = col.map(lambda v: value_label(bool(v), lang))
        elif not pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_datetime64_any_dtype(col):
            mapped = col.map(lambda v: (names or {}).get(v, v) if isinstance(v, str) else v)
            frame[c] = mapped.map(lambda v: value_label(v, lang)).astype(object)
            frame[c] = frame[c].where(frame[c].notna() & (frame[c] != ""), MISSING)
    headers: dict[str, str] = {}
    for c in cols:  # two codes with one header (e.g. station and code) would make the table ambiguous
        label = columns[c][0 if lang == "zh" else 1]
        headers[c] = label if label not in headers.values() else f"{label}（{len(headers)}）"
    numeric = [c for c in cols if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    styled = frame.rename(columns=headers).style.format(
        {headers[c]: (lambda v, c=c: fmt_value(v, c)) for c in numeric}, na_rep=MISSING)
    st.dataframe(styled, hide_index=True, **kwargs)


def period_data(f: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(station hourly data, jurisdiction hourly results) of the view's period and units.

    Stops the page with a translated message when the period has no data.
    """
    hourly = data.hourly(f.start, f.end)
    if hourly.empty:
        no_data(f)
        st.stop()
    units = data.unit_hourly(f.start, f.end, f.edition)
    return hourly, units[units["station"].isin(f.units)]
