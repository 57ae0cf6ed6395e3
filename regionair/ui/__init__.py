"""Thin Streamlit glue for pages: the frame (filters, header, freshness), cached data, chart output.

The only package module that imports Streamlit. Pages call :func:`page` first; it returns the
:class:`~regionair.ui.filters.Filters` of the current view.
"""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from regionair.core import region
from regionair.core.aqi import edition_for
from regionair.core.i18n import MISSING, column_label, fmt_value, join_names, pair_text, t, value_label
from regionair.render import charts
from regionair.render.exports import for_people
from regionair.render.tables import to_csv_bytes, to_xlsx_bytes
from regionair.ui import data, explain, export  # noqa: F401  (ui.explain: part of the pages API)
from regionair.ui.filters import Filters, render_filters
from regionair.ui.text import md

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
    data.reset_sources_shown()
    st.title(t(title_key, f.lang))
    if f.anchor is None:
        st.info(t("empty_store", f.lang))
        st.stop()
    if f.presentation:
        presentation_frame(f)
    if data.synthetic():  # never let generated numbers pass for measurements
        st.error(t("synthetic_banner", f.lang), icon=":material/science:")
    if f.presentation:  # on the projector: one quiet line instead of the banners (the sidebar is hidden)
        when = f.as_of if f.as_of is not None else f.anchor
        st.caption(t("pres_clock", f.lang, time=f"{when:%Y-%m-%d %H:%M}"))
    elif f.as_of is not None:  # replaying a past hour: say so first; the live staleness is not the point
        st.warning(t("replay_banner", f.lang, time=f"{f.as_of:%Y-%m-%d %H:%M}", latest=f"{f.latest:%Y-%m-%d %H:%M}"),
                   icon=":material/history:")
    else:
        freshness_banner(f)
    damage_banner(f)
    return f




def presentation_frame(f: Filters) -> None:
    """Presentation mode on a 1080p projector: no sidebar or toolbar, every text, table, KPI and footer larger
    (charts take the 1.6× template), so that one agenda item fits the screen; and a way back (the sidebar, with
    its toggle, is hidden). The CSS is a literal: never user text."""
    st.markdown("""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"] {display: none;}
[data-testid="stMainBlockContainer"], .block-container {padding-top: 1.2rem; max-width: 100%;}
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stCaptionContainer"] {font-size: 1.45rem;}
[data-testid="stMain"] h1 {font-size: 2.8rem;} [data-testid="stMain"] h2, [data-testid="stMain"] h3 {font-size: 2.1rem;}
[data-testid="stMetricValue"] {font-size: 3.4rem;} [data-testid="stMetricLabel"] p {font-size: 1.5rem;}
[data-testid="stDataFrame"], [data-testid="stTable"] {zoom: 1.35;}
</style>""", unsafe_allow_html=True)
    st.button(t("exit_presentation", f.lang), key="exit_pres", icon=":material/close_fullscreen:",
              on_click=_leave_presentation)


def _leave_presentation() -> None:
    st.session_state["pres"] = False
    st.session_state["_kept_pres"] = False


def damage_banner(f: Filters) -> None:
    """A damaged store file was left out (and quarantined): say which data are missing and how to restore them."""
    d = data.damage()
    if d.empty:
        return
    what = join_names(dict.fromkeys(
        t("damaged_records", f.lang) if r["kind"] == "records" else
        t("damaged_part", f.lang, kind=t(f"damaged_kind_{r['kind']}", f.lang), source=value_label(r["source"], f.lang),
          month=r["month"]) for r in d.to_dict("records")), f.lang)
    st.warning(t("store_damaged", f.lang, what=md(what)), icon=":material/healing:")


def _leave_legacy_routing(title_key: str) -> None:
    """Hand a first-load deep link over to app.py's st.navigation.

    Streamlit treats the first request after start-up as a legacy ``pages/``-directory app until
    some session has run ``st.navigation``; a permalink such as ``/trends?lang=en`` opened first
    would then run the page without the frame and lose its URL state. Switch to the entry script
    with the same query parameters plus ``_page``; app.py routes on from there.
    """
    from streamlit.runtime.pages_manager import (
        PagesManager,  # Streamlit runtime internals, only inside a running app
    )

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
        return t("n_hours", lang, n=f"{hours:.0f}")
    return t("n_days", lang, n=f"{hours / 24:.0f}")


def freshness_banner(f: Filters) -> None:
    """Latest hour per source: amber when > 2 h behind the clock, red when > 6 h; plus the edition in force."""
    fresh = data.freshness()
    now = pd.Timestamp.now(tz="Asia/Shanghai")
    worst = 0
    parts = []
    for row in fresh.itertuples():
        age = now - pd.Timestamp(row.time)
        hours = age.total_seconds() / 3600
        args = dict(source=value_label(row.source, f.lang), time=f"{pd.Timestamp(row.time):%Y-%m-%d %H:%M}",
                    age=_age(max(age, pd.Timedelta(0)), f.lang))  # never a negative age
        if hours < -STALE_AMBER_H:  # stamped after the clock (refused at the loader edge now; older stores)
            worst = max(worst, 1)
            parts.append(t("fresh_future", f.lang, **args))
        elif hours > STALE_RED_H:
            worst = max(worst, 2)
            parts.append(t("stale_red", f.lang, **args))
        elif hours > STALE_AMBER_H:
            worst = max(worst, 1)
            parts.append(t("stale_amber", f.lang, **args))
        else:
            parts.append(t("fresh_ok", f.lang, **args))
    text = t("clause_sep", f.lang).join(parts)
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
    from regionair.ui.auth import (
        record,  # imported on use: the two modules import each other's layer at start-up
    )

    record("export", filename)


def chart(fig: go.Figure, table: pd.DataFrame, name: str, f: Filters, *, key: str | None = None) -> None:
    """Show a figure with high-resolution PNG export named after the view, and its data as CSV/XLSX."""
    period = f"{f.start:%Y%m%d%H}-{f.end:%Y%m%d%H}" if f.start is not None else ""
    filename = slug(f"regionair_{name}_{period}")
    shown = data.sources_shown()
    if shown and not set(shown) <= {"cnemc-archive", "cnemc-http", "quotsoft"}:  # not (only) CNEMC's release
        source = t("source_note_mixed", f.lang, sources=join_names([value_label(s, f.lang) for s in shown], f.lang))
    else:
        source = t("source_note", f.lang)
    charts.footer(fig, f"{source} · {f.describe()} · {t('edition', f.lang)}: {t(f'edition_{f.edition}', f.lang)}",
                  presentation=f.presentation)
    charts.localise_dates(fig, f.lang)
    if f.presentation:
        fig.update_layout(template=charts.template(True))
    from regionair.ui.auth import allowed  # ui.auth imports this package's helpers: imported on use

    may_export = allowed("export")  # viewers get no downloads (README: analysts and admins export)
    st.plotly_chart(fig, theme=None, key=key or f"chart_{name}", config={
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "scale": 3, "filename": filename},
        **({} if may_export else {"modeBarButtonsToRemove": ["toImage"]}),
    })
    export.register(fig, table, name)
    if not may_export:
        return
    c1, c2, _ = st.columns([1, 1, 1])
    # the files are built only when clicked (callables run on download, not on every rerun)
    # for people: headers and codes in words, rounded, Excel dates (render.exports.for_people)
    c1.download_button(t("download_csv", f.lang), lambda: to_csv_bytes(for_people(table, f.lang)[0]), file_name=f"{filename}.csv",
                       mime="text/csv", key=f"csv_{key or name}", on_click=_audit_export, args=(f"{filename}.csv",))
    c2.download_button(t("download_xlsx", f.lang), lambda: _people_xlsx(table, f.lang), file_name=f"{filename}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=f"xlsx_{key or name}", on_click=_audit_export, args=(f"{filename}.xlsx",))


def _people_xlsx(table: pd.DataFrame, lang: str) -> bytes:
    frame, units = for_people(table, lang)
    return to_xlsx_bytes(frame, units=units)


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
        label = pair_text(columns[c], lang)
        headers[c] = label if label not in headers.values() else f"{label}（{len(headers)}）"
    numeric = [c for c in cols if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    # Streamlit draws a missing number as a grey "None" whatever the Styler says: a number column with gaps is
    # shown as formatted text ("—" for the gaps); complete columns stay numbers so that they sort
    for c in [c for c in numeric if frame[c].isna().any()]:
        frame[c] = [fmt_value(v, c) for v in frame[c]]
        numeric.remove(c)
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
