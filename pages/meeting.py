"""会商 Consultation: a snapshot frozen at time T under a permalink (?snapshot=<id>), a presentation
agenda (overview → trends → episodes → warnings → rankings) with next/previous, the decision log
(会商纪要), control measures with before/after statistics, and the briefing download."""

import dataclasses
from urllib.parse import quote

import pandas as pd
import streamlit as st

from regionair import meeting, ui
from regionair.analysis.latest import unit_hourly
from regionair.core.i18n import pair_text, pollutant_label, t
from regionair.errors import RegionairError
from regionair.render import bundle, charts, report
from regionair.ui import auth
from regionair.ui.text import md
from regionair.views.meeting import full_link

_ORGS = ["自治区生态环境厅", "兵团生态环境局", "乌鲁木齐市生态环境局", "昌吉州生态环境局", "昌吉市", "阜康市", "呼图壁县", "玛纳斯县",
         "第六师五家渠市生态环境局", "第八师石河子市生态环境局", "第十二师", "自治区环境监测总站", "气象部门"]


qp_id = st.query_params.get("snapshot") or st.session_state.get("mt_snapshot")  # read before the filters sync the URL
f = ui.page("page_meeting")
if qp_id and st.query_params.get("snapshot") != qp_id:
    st.query_params["snapshot"] = qp_id  # keep the permalink in the address bar
lang = f.lang
store = ui.data.get_store()
names = f.unit_names()

# ---------------------------------------------------------------- no snapshot: create one
if not qp_id:
    with st.form("new_snapshot"):
        st.subheader(t("mt_new", lang))
        c1, c2, c3 = st.columns([2, 1, 1])
        day = c1.date_input(t("mt_cutoff", lang), value=f.anchor.date() if f.anchor.hour else
                            (f.anchor - pd.Timedelta(hours=1)).date(), key="mt_day")
        hour = c2.selectbox(t("mt_hour", lang), list(range(1, 25)), index=(f.anchor.hour or 24) - 1, key="mt_hour",
                            format_func=lambda h: f"{h:02d}:00")
        back = c3.number_input(t("mt_hours_back", lang), 24, 24 * 31, 72, step=24, key="mt_back")
        title = st.text_input(t("mt_mtitle", lang), value=f"{'区域会商' if lang == 'zh' else 'Regional consultation'} "
                              f"{f.anchor:%Y-%m-%d}", key="mt_title")
        if st.form_submit_button(t("mt_create", lang), type="primary") and auth.require_role("analyst", stop=False):
            cutoff = pd.Timestamp(day, tz="Asia/Shanghai") + pd.Timedelta(hours=int(hour))
            snap = meeting.create_snapshot(store, cutoff=cutoff, start=cutoff - pd.Timedelta(hours=int(back) - 1),
                                           units=f.units, edition=f.edition, lang=lang, title=title,
                                           filters={"period": f.period, "pollutant": f.pollutant})
            st.query_params["snapshot"] = snap.id  # the permalink
            st.session_state["mt_snapshot"] = snap.id
            st.rerun()
    saved = meeting.list_snapshots(store)
    st.subheader(t("mt_saved", lang))
    if saved.empty:
        st.caption(t("mt_none", lang))
    for r in saved.head(12).itertuples():
        st.markdown(f"- [{md(r.title or r.snapshot_id)}](?snapshot={quote(str(r.snapshot_id))}) · T = "
                    f"{pd.Timestamp(r.cutoff).tz_convert('Asia/Shanghai'):%Y-%m-%d %H:%M}")
    st.stop()

# ---------------------------------------------------------------- the snapshot
try:
    snap = meeting.load_snapshot(store, qp_id)
except RegionairError as exc:
    st.error(t("mt_bad_snapshot", lang, e=md(exc)))
    st.stop()


@st.cache_resource(show_spinner=True, max_entries=16)
def _model(snapshot_id: str, lang: str, units: tuple[str, ...], edition: str) -> report.Briefing:
    """The snapshot's briefing model (immutable: the data are frozen, so the id is the cache key)."""
    s = meeting.load_snapshot(ui.data.get_store(), snapshot_id)
    d0 = (s.start - pd.Timedelta(hours=1)).date()
    d1 = (s.cutoff - pd.Timedelta(hours=1)).date()
    return report.briefing_from_store(ui.data.get_store(), d0, d1, snapshot_id=snapshot_id, lang=lang,
                                      edition=edition, jurisdictions=[u for u in units if u in report._members()])


try:
    model = _model(snap.id, lang, snap.units, snap.edition)
except RegionairError as exc:
    st.warning(f"{t('mt_no_period_data', lang)} {md(exc)}")
    st.stop()
view = dataclasses.replace(f, start=snap.start, end=snap.cutoff, units=list(snap.units), edition=snap.edition)

st.subheader(md(snap.title or snap.id))
st.caption(t("mt_frozen", lang, t=f"{snap.cutoff:%Y-%m-%d %H:%M}", f=f"{snap.frozen_at:%Y-%m-%d %H:%M:%S}"))
st.markdown(f"**{t('mt_permalink', lang)}**")
st.code(full_link(st.context.url, snap, f.presentation), language=None)  # the code block has a copy button
if f.anchor is not None and f.anchor > snap.cutoff:
    st.info(t("mt_newer", lang, t=f"{f.anchor:%Y-%m-%d %H:%M}"), icon=":material/lock_clock:")

big = st.toggle(t("mt_big", lang), value=True, key="mt_big")
if big or f.presentation:
    st.markdown("<style>section.main p, section.main li, [data-testid='stMarkdownContainer'] p {font-size: 1.35rem;}"
                "[data-testid='stDataFrame'] {font-size: 1.1rem;} h2, h3 {font-size: 2rem !important;}</style>",
                unsafe_allow_html=True)

# ---------------------------------------------------------------- agenda with next/previous
if "meeting_step" not in st.session_state:
    st.session_state["meeting_step"] = 0
labels = [pair_text(meeting.AGENDA_LABELS[a], lang) for a in meeting.AGENDA]
c_prev, c_mid, c_next = st.columns([2, 8, 2], vertical_alignment="center")


def _move(delta: int) -> None:
    """Next/previous (a callback, so the buttons' disabled state is right in the same run)."""
    st.session_state["meeting_step"] = max(0, min(len(meeting.AGENDA) - 1, st.session_state["meeting_step"] + delta))


c_prev.button(t("mt_prev", lang), icon=":material/arrow_back:", key="mt_prev", on_click=_move, args=(-1,),
              disabled=st.session_state["meeting_step"] == 0)
c_next.button(t("mt_next", lang), icon=":material/arrow_forward:", key="mt_next", on_click=_move, args=(1,),
              disabled=st.session_state["meeting_step"] == len(meeting.AGENDA) - 1)
step = st.session_state["meeting_step"]
c_mid.markdown(" → ".join(f"**:red[{i + 1}·{lab}]**" if i == step else f"{i + 1}·{lab}" for i, lab in enumerate(labels)))
tables = report.tables(model)
ms = meeting.measures(store, jurisdictions=model.units, start=snap.start, end=snap.cutoff)


def show_table(tb: report.Table) -> None:
    st.markdown(f"**{tb.caption}**")
    st.dataframe(pd.DataFrame(tb.rows, columns=tb.header), hide_index=True, width="stretch")
    if tb.note:
        st.caption(tb.note)


def show_figure(name: str) -> None:
    item = next(i for i in model.figures if i.name == name)
    fig = item.figure
    if name == "trend" and len(ms):
        fig = meeting.overlay_measures(go_copy(fig), ms, names=model.names, lang=lang)
    if big or f.presentation:
        fig = go_copy(fig)
        fig.update_layout(template=charts.template(True), width=None)
        if name == "calendar":
            fig.update_layout(margin=dict(l=280))
    fig = charts.localise_dates(go_copy(fig), lang)
    st.plotly_chart(fig, theme=None, key=f"mt_fig_{name}", config={"displaylogo": False,
                    "toImageButtonOptions": {"format": "png", "scale": 3, "filename": f"meeting_{snap.id}_{name}"}})
    ui.export.register(item.figure, item.table, f"{name}", item.title)


def go_copy(fig):
    import plotly.graph_objects as go

    return go.Figure(fig)


section = meeting.AGENDA[step]
st.header(labels[step])
if section == "overview":
    for p in model.paragraphs.get("summary", []):
        st.markdown(p)
    show_figure("map")
    show_table(tables["indicators"])
elif section == "trends":
    show_figure("trend")
    show_figure("calendar")
    for p in model.paragraphs.get("local_vs_corps", []):
        st.markdown(p)
    show_table(tables["local_vs_corps"])
elif section == "episodes":
    for p in model.paragraphs.get("episodes", []):
        st.markdown(p)
    if "episodes" in tables and tables["episodes"].rows:
        show_table(tables["episodes"])
elif section == "warnings":
    for p in model.paragraphs.get("warnings", []):
        st.markdown(p)
    show_table(tables["near_threshold"])
    if tables["warning_events"].rows:
        show_table(tables["warning_events"])
else:
    show_table(tables["indicators"])
    show_table(tables["category_days"])
    show_figure("primary")
    show_table(tables["primary_shares"])

# ---------------------------------------------------------------- decision log (会商纪要)
st.divider()
st.header(t("mt_log", lang))
mins = meeting.minutes(store, snap.id)
with st.form("mt_minutes"):
    c1, c2 = st.columns([1, 3])
    mdate = c1.date_input(t("mt_date", lang), value=pd.Timestamp(mins["meeting_date"]).date() if mins else
                          snap.cutoff.date(), key="mt_mdate")
    parts = c2.multiselect(t("mt_participants", lang), sorted(set(_ORGS) | set(mins["participants"] if mins else [])),
                           default=mins["participants"] if mins else [], accept_new_options=True, key="mt_parts")
    items = st.text_area(t("mt_items", lang), value="\n".join(mins["items"]) if mins else
                         "\n".join(labels), key="mt_items")
    if st.form_submit_button(t("mt_save_minutes", lang)) and auth.require_role("analyst", stop=False):
        meeting.save_minutes(store, snap.id, meeting_date=mdate, participants=parts, items=items)
        st.rerun()

st.subheader(t("mt_actions", lang))
acts = meeting.actions(store, snap.id)
status_name = {k: pair_text(v, lang) for k, v in meeting.STATUSES.items()}
if len(acts):
    st.dataframe(acts.assign(status=acts["status"].map(status_name))[
        ["action_id", "item", "action", "responsible", "cooperating", "deadline", "status", "overdue", "note"]],
        hide_index=True, width="stretch", column_config={
            "item": t("mt_item", lang), "action": t("mt_action", lang), "responsible": t("mt_responsible", lang),
            "cooperating": t("mt_cooperating", lang), "deadline": t("mt_deadline", lang), "status": t("mt_status", lang),
            "note": t("mt_note", lang)})
else:
    st.caption(t("mt_none", lang))
with st.form("mt_action", clear_on_submit=True):
    c1, c2 = st.columns(2)
    item = c1.selectbox(t("mt_item", lang), labels, key="mt_a_item")
    action = c2.text_input(t("mt_action", lang), key="mt_a_action")
    c3, c4, c5 = st.columns(3)
    resp = c3.selectbox(t("mt_responsible", lang), _ORGS, accept_new_options=True, key="mt_a_resp")
    coop = c4.multiselect(t("mt_cooperating", lang), _ORGS, accept_new_options=True, key="mt_a_coop")
    deadline = c5.date_input(t("mt_deadline", lang), value=snap.cutoff.date() + pd.Timedelta(days=3), key="mt_a_dl")
    if st.form_submit_button(t("mt_add_action", lang)) and auth.require_role("analyst", stop=False):
        try:
            meeting.add_action(store, snap.id, item=item, action=action, responsible=resp or "", cooperating=coop,
                               deadline=deadline)
            st.rerun()
        except RegionairError as exc:
            st.error(md(exc))
if len(acts):
    with st.form("mt_status"):
        c1, c2, c3 = st.columns([2, 1, 2])
        aid = c1.selectbox(t("mt_actions", lang), list(acts["action_id"]), key="mt_s_id",
                           format_func=lambda a: f"{a} · {acts.set_index('action_id').loc[a, 'action'][:30]}")
        stt = c2.selectbox(t("mt_status", lang), list(meeting.STATUSES), format_func=status_name.get, key="mt_s_status")
        note = c3.text_input(t("mt_note", lang), key="mt_s_note")
        if st.form_submit_button(t("mt_update", lang)) and auth.require_role("analyst", stop=False):
            meeting.update_action(store, aid, status=stt, note=note)
            st.rerun()

# ---------------------------------------------------------------- control measures
st.subheader(t("mt_measures", lang))
if len(ms):
    st.dataframe(ms.assign(jurisdiction=ms["jurisdiction"].map(names),
                           kind=ms["kind"].map(lambda k: pair_text(meeting.MEASURE_TYPES[k], lang)))[
        ["jurisdiction", "start", "end", "kind", "unit", "description", "measure_id"]],
        hide_index=True, width="stretch", column_config={
            "jurisdiction": t("mt_jur", lang), "start": t("mt_m_start", lang), "end": t("mt_m_end", lang),
            "kind": t("mt_kind", lang), "unit": t("mt_unit", lang), "description": t("mt_desc", lang)})
with st.form("mt_measure", clear_on_submit=True):
    c1, c2, c3 = st.columns(3)
    jur = c1.selectbox(t("mt_jur", lang), list(model.units), format_func=lambda u: names.get(u, u), key="mt_m_jur")
    kind = c2.selectbox(t("mt_kind", lang), list(meeting.MEASURE_TYPES), key="mt_m_kind",
                        format_func=lambda k: pair_text(meeting.MEASURE_TYPES[k], lang))
    unit = c3.text_input(t("mt_unit", lang), key="mt_m_unit")
    c4, c5, c6, c7 = st.columns(4)
    d0 = c4.date_input(t("mt_m_start", lang), value=(snap.cutoff - pd.Timedelta(days=1)).date(), key="mt_m_d0")
    h0 = c5.selectbox(t("mt_hour", lang), list(range(0, 24)), index=0, key="mt_m_h0", format_func=lambda h: f"{h:02d}:00")
    d1 = c6.date_input(t("mt_m_end", lang), value=snap.cutoff.date(), key="mt_m_d1")
    h1 = c7.selectbox(t("mt_hour", lang), list(range(0, 24)), index=0, key="mt_m_h1", format_func=lambda h: f"{h:02d}:00")
    desc = st.text_input(t("mt_desc", lang), key="mt_m_desc")
    if st.form_submit_button(t("mt_add_measure", lang)) and auth.require_role("analyst", stop=False):
        try:
            meeting.add_measure(store, jurisdiction=jur, kind=kind, unit=unit, description=desc, snapshot_id=snap.id,
                                start=pd.Timestamp(d0) + pd.Timedelta(hours=h0), end=pd.Timestamp(d1) + pd.Timedelta(hours=h1))
            st.rerun()
        except RegionairError as exc:
            st.error(md(exc))
if len(ms):
    st.markdown(f"**{t('mt_before_after', lang)}**")
    pick = st.selectbox(t("mt_measures", lang), list(ms["measure_id"]), key="mt_ba",
                        format_func=lambda m: f"{names.get(ms.set_index('measure_id').loc[m, 'jurisdiction'])} · "
                                              f"{ms.set_index('measure_id').loc[m, 'start']:%m-%d %H:%M}")
    m = ms.set_index("measure_id").loc[pick]
    length = m["end"] - m["start"] + pd.Timedelta(hours=1)
    hourly = meeting.snapshot_hourly(store, snap, start=m["start"] - length)
    uh = unit_hourly(hourly, level="jurisdiction", edition=snap.edition)
    ba = meeting.before_after(uh, m["jurisdiction"], m["start"], m["end"], lang=lang)
    st.dataframe(ba.assign(pollutant=ba["pollutant"].map(lambda p: pollutant_label(p, lang, unit=True))).drop(
        columns="caution"), hide_index=True, width="stretch")
    st.warning(meeting.CAUTION[lang], icon=":material/cloud:")

# ---------------------------------------------------------------- briefing and bundle
st.divider()
st.subheader(t("mt_briefing", lang))
final = dataclasses.replace(model, actions=acts if len(acts) else None, minutes=mins)
cols = st.columns(4)
formats = report.FORMATS if auth.allowed("briefing") else ()  # viewers get no briefing or bundle downloads
# without Chromium a PDF cannot be printed: say so instead of a button that fails (DOCX/HTML are then text-only)
no_pdf = None if bundle.find_chromium() else bundle.missing_chromium_message("PDF briefings")
for col, fmt, mime in zip(cols, formats, ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                                  "application/pdf", "text/html"), strict=False):
    off = fmt == "pdf" and no_pdf is not None
    col.download_button(t("mt_dl", lang, fmt=fmt.upper()), data=lambda fmt=fmt: report.render(final, fmt),
                        file_name=f"briefing_{snap.id}.{fmt}", mime=mime, on_click="ignore", key=f"mt_dl_{fmt}",
                        icon=":material/description:", disabled=off,
                        help=t("render.pdf_unavailable", lang, error=no_pdf) if off else None)
with cols[3]:
    ui.export.bundle_button(view, "meeting", extra={"snapshot": snap.as_dict()}, key="mt_bundle")
