"""数据与来源 Data & sources: freshness, ingest log, coverage, station catalogue, upload wizard, downloads."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.core import region
from regionair.core.i18n import join_names, t
from regionair.errors import RegionairError
from regionair.render import charts
from regionair.render.tables import to_csv_bytes, to_xlsx_bytes
from regionair.sources.upload import preview_upload
from regionair.ui import auth
from regionair.ui.filters import place_names
from regionair.ui.text import md
from regionair.views.data import published_overlap

f = ui.page("page_data")
lang = f.lang
store = ui.data.get_store()

st.subheader(t("sources", lang))
ui.table(ui.data.freshness(), {"source": ("来源", "Source"), "time": ("最新时次", "Latest hour"),
                               "stations": ("最新时次站点数", "Stations at that hour"),
                               "stations_total": ("站点总数", "Stations in store")}, lang)
gaps = store.gaps()
if len(gaps):
    st.caption(t("dt_gaps", lang, n=len(gaps)))

st.subheader(t("ingest_log", lang))
log = store.ingest_log()
ui.table(log.tail(50).iloc[::-1], {
    "started_at": ("开始", "Started"), "source": ("来源", "Source"), "kind": ("类型", "Kind"), "start": ("数据起", "From"),
    "end": ("数据止", "To"), "added": ("新增", "Added"), "updated": ("修订", "Updated"), "unchanged": ("未变", "Unchanged"),
    "rejected": ("拒收", "Rejected"), "status": ("状态", "Status"), "duration_s": ("耗时 s", "Duration s"),
    "errors": ("错误", "Errors")}, lang)

st.subheader(t("coverage", lang))
cov = store.coverage((f.start - pd.Timedelta(hours=1)).date(), (f.end - pd.Timedelta(hours=1)).date())
if not cov.empty:
    cov = cov.assign(date=pd.to_datetime(cov["date"]).dt.strftime("%m-%d"))
    piv = cov.pivot_table(index="station", columns="date", values="hours", aggfunc="first")
    fig = charts.heatmap(piv, title=t("coverage", lang), zmin=0, zmax=24, colorscale="Greens", fmt=".0f",
                         presentation=f.presentation)
    ui.chart(fig, cov, "coverage", f)

st.subheader(t("catalogue", lang))
check = region.point_in_polygon_check()
disagree = check[check["status"] == "disagree"]
if len(disagree):
    st.warning(t("dt_label_polygon", lang, codes=join_names(disagree["code"], lang)))
ui.table(check, None, lang, names=place_names(lang))
new = store.records("new_stations")
if len(new):
    st.info(t("dt_new_stations", lang, codes=join_names(new["code"].astype(str), lang)))

st.subheader(t("upload", lang))
up = st.file_uploader("CSV / XLSX", type=["csv", "xlsx"], key="upload_file") if auth.require_role("admin", stop=False) else None
if up is not None:
    c1, c2, c3 = st.columns(3)
    layout = c1.selectbox(t("up_layout", lang), ["auto", "long", "wide", "cnemc-archive", "quotsoft", "station-workbook"],
                          key="up_layout", format_func=lambda v: t(f"up_layout_{v}", lang))
    convention = c2.selectbox(t("up_time", lang), ["auto", "hour-ending", "hour-beginning"], key="up_time",
                              format_func=lambda v: t(f"up_time_{v}", lang))
    station = c3.text_input(t("up_station", lang), key="up_station", placeholder="1490A") or None
    try:
        preview = preview_upload(up.getvalue(), up.name, layout=layout,
                                 time_convention=None if convention == "auto" else convention, station=station,
                                 known_stations=region.stations()["code"])
    except RegionairError as exc:
        st.error(md(str(exc)))
    else:
        c = preview.counts
        st.write(t("upload_summary", lang, file=preview.filename, records=c["records"], flagged=c["records_flagged"],
                   rows=c["rows_rejected"], cells=c["cells_rejected"]))
        if preview.refusals:  # the same table the CLI prints on stderr (plausibility.refusal_frame)
            st.markdown(f"**{t('upload_refused_title', lang)}**")
            st.warning(t("upload_refused_note", lang, n=len(preview.refusals), ok=c["records"]))
            ui.table(preview.refusal_frame(lang), ["line", "column", "station", "reason", "value", "message"], lang)
        if preview.issues:
            ui.table(preview.issues_frame(), None, lang)
        ui.table(preview.frame.head(200), None, lang)
        # an upload overrides what a network published for the same station-hour (SOURCE_PRECEDENCE): say how
        # many, and ask before storing
        replaced = published_overlap(store, preview.frame) if preview.has_records else 0
        agreed = True
        if replaced:
            st.warning(t("upload_replaces", lang, n=replaced), icon=":material/swap_horiz:")
            agreed = st.checkbox(t("upload_replaces_ok", lang, n=replaced), key="up_replace_ok")
        # what is fine is stored, what was refused is not (as `ingest --source upload`; README)
        if preview.has_records and st.button(t("upload_ingest", lang), type="primary", key="up_go", disabled=not agreed):
            try:
                result = store.ingest_hourly(preview.frame.assign(source="upload"), source="upload")
            except RegionairError as exc:
                st.error(md(str(exc)))
            else:
                auth.record("upload", f"{up.name}: added {result.added}, updated {result.updated}, "
                            f"refused {len(preview.refusals)}", target="hourly")
                st.success(t("upload_done", lang, added=result.added, updated=result.updated,
                             unchanged=result.unchanged, rejected=result.rejected))

if auth.require_role("admin", stop=False):
    auth.audit_view()

st.subheader(t("downloads", lang))
if auth.allowed("export"):  # viewers read; analysts and admins export
    data = ui.data.hourly(f.start, f.end, stations=f.stations or None)
    c1, c2 = st.columns(2)
    c1.download_button(t("download_csv", lang), lambda: to_csv_bytes(data), file_name="regionair_hourly.csv",
                       mime="text/csv", on_click=auth.record, args=("export", "regionair_hourly.csv"))
    c2.download_button(t("download_xlsx", lang), lambda: to_xlsx_bytes(data.head(100_000)),
                       file_name="regionair_hourly.xlsx", on_click=auth.record, args=("export", "regionair_hourly.xlsx"))
else:
    st.caption(t("auth_no_export", lang, role=t("auth_role_analyst", lang)))
