"""总览 Overview: the region at a glance — offline map, KPI per jurisdiction, worst stations, warnings."""

import pandas as pd
import streamlit as st

from regionair import charts, region, ui
from regionair.analysis.latest import station_latest, unit_kpis, worst_stations
from regionair.i18n import primary_label, t

f = ui.page("page_overview")
lang = f.lang
at = f.anchor
hourly = ui.data.hourly(at - pd.Timedelta(hours=47), at)
if hourly.empty:
    ui.no_data(f)
    st.stop()

kpis = unit_kpis(hourly, at=at, level="jurisdiction", edition=f.edition)
kpis = kpis[kpis["id"].isin(f.units)] if f.units else kpis
latest = station_latest(hourly, at=at, edition=f.edition)
name_col = "name_zh" if lang == "zh" else "name_en"

# ---- map (drawn from the boundary polygons; no tile server)
bounds = region.boundaries(level="district")
j = region.jurisdictions()
parent = dict(zip(j["id"], j["parent"], strict=True))
level = dict(zip(j["id"], j["level"], strict=True))
bounds["unit"] = [parent[i] if level.get(i) == "district" else i for i in bounds["id"]]
units_tbl = kpis.assign(name=kpis[name_col])
st_tbl = latest.assign(name=latest[name_col] if name_col in latest else latest["station"])
left, right = st.columns([3, 2])
with left:
    fig = charts.region_map(bounds, units_tbl, st_tbl, title=f"{t('map_title', lang)} · {at:%Y-%m-%d %H:%M}",
                            lang=lang, presentation=f.presentation)
    ui.chart(fig, st_tbl[["station", "name", "jurisdiction", "side", "longitude", "latitude", "aqi", "category",
                          "primary_pollutants"]], "overview_map", f)
with right:
    st.subheader(t("kpi_title", lang))
    for side in ("地方", "兵团"):
        st.markdown(f"**{t('side_local' if side == '地方' else 'side_corps', lang)}**")
        rows = kpis[kpis["side"] == side]
        cols = st.columns(3)
        for i, r in enumerate(rows.itertuples()):
            with cols[i % 3]:
                if getattr(r, "no_station", False) or pd.isna(r.aqi):
                    st.metric(getattr(r, name_col), "—", help=t("no_station", lang), border=True)
                    continue
                delta = None if pd.isna(r.aqi_change) else int(r.aqi_change)
                st.metric(getattr(r, name_col), f"{int(r.aqi)} {r.category if lang == 'zh' else ''}".strip(),
                          delta=delta, delta_color="inverse", border=True,
                          help=f"{t('primary', lang)}: {primary_label(r.primary_pollutants, lang)} · "
                               f"{t('today_running', lang)}: {'' if pd.isna(r.daily_aqi_so_far) else int(r.daily_aqi_so_far)}")

st.subheader(t("kpi_title", lang))
show = kpis[["id", name_col, "side", "time", "aqi", "category", "primary_pollutants", "aqi_change", "daily_aqi_so_far", "n_stations"]]
show = show.assign(primary_pollutants=show["primary_pollutants"].map(lambda c: primary_label(c, lang)))
st.dataframe(show, hide_index=True, column_config={
    name_col: t("jurisdiction", lang), "side": t("side", lang), "time": t("time_short", lang),
    "category": t("category", lang), "primary_pollutants": t("primary", lang), "aqi_change": t("change_1h", lang),
    "daily_aqi_so_far": t("today_running", lang)})

st.subheader(t("worst_stations", lang))
worst = worst_stations(hourly, at=at, n=8)
wfig = charts.aqi_bars(worst.assign(label=worst["station"] + " " + worst[name_col].astype(str)), x="label",
                       title=t("worst_stations", lang), lang=lang, presentation=f.presentation)
ui.chart(wfig, worst, "worst_stations", f)
