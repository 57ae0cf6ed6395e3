"""总览 Overview: the region at a glance — offline map, KPI per jurisdiction, worst stations, warnings."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.core import region
from regionair.core.aqi import category
from regionair.core.i18n import TEXT, join_names, primary_label, t
from regionair.render import charts

# Streamlit's named background colours nearest to the AQI category colours (for text badges).
_BADGE = {1: "green", 2: "yellow", 3: "orange", 4: "red", 5: "violet", 6: "violet"}

f = ui.page("page_overview")
lang = f.lang
at = f.anchor
kpis, latest = ui.data.now_tables(at, f.edition)
if latest.empty:
    ui.no_data(f)
    st.stop()
kpis = kpis[kpis["station"].isin(f.units)].rename(columns={"station": "id"})
latest = latest.merge(region.stations()[["code", "longitude", "latitude"]].rename(columns={"code": "station"}),
                      on="station", how="left")
name_col = f"name_{lang}"

# ---- map (drawn from the boundary polygons; no tile server)
bounds = region.boundaries(level="district")
units_tbl = kpis.assign(name=kpis[name_col])
st_tbl = latest.assign(name=latest[name_col] if name_col in latest else latest["station"])
left, right = st.columns([3, 2], gap="large")
with left:
    fig = charts.region_map(bounds, units_tbl, st_tbl, title=f"{t('map_title', lang)} · {at:%Y-%m-%d %H:%M}",
                            lang=lang, presentation=f.presentation, edition=f.edition,
                            day=(at - pd.Timedelta(hours=1)).date())
    ui.chart(fig, st_tbl[["station", "name", "jurisdiction", "side", "longitude", "latitude", "aqi", "category",
                          "primary_pollutants"]], "overview_map", f)
with right:
    st.subheader(t("kpi_title", lang))
    for side in ("地方", "兵团"):
        st.markdown(f"**{t('side_local' if side == '地方' else 'side_corps', lang)}**")
        rows = kpis[kpis["side"] == side]
        live = rows[~rows["no_station"] & rows["aqi"].notna()]
        cols = st.columns(2)
        for i, r in enumerate(live.itertuples()):
            with cols[i % 2]:
                delta = None if pd.isna(r.aqi_change) else int(r.aqi_change)
                cat = category(r.aqi, lang)
                st.metric(getattr(r, name_col), f"{int(r.aqi)}", delta=delta, delta_color="inverse", border=True,
                          delta_description=t("change_1h", lang),
                          help=f"{cat} · {t('primary', lang)}: {primary_label(r.primary_pollutants, lang)} · "
                               f"{t('today_running', lang)}: {'' if pd.isna(r.day_aqi) else int(r.day_aqi)}")
                st.markdown(f":{_BADGE.get(int(r.level), 'gray')}-background[{cat}] "
                            f"{primary_label(r.primary_pollutants, lang)}")
        empty = rows[rows["no_station"] | rows["aqi"].isna()]
        if len(empty):
            st.caption(f"{t('no_station', lang)}: " + join_names(empty[name_col], lang))

st.subheader(t("kpi_table", lang))
show = kpis.assign(
    side=kpis["side"].map({"地方": t("side_local", lang), "兵团": t("side_corps", lang)}),
    time=kpis["time"].dt.strftime("%m-%d %H:%M"),
    category=category(kpis["aqi"].to_numpy(dtype="float64"), lang),
    primary_pollutants=kpis["primary_pollutants"].map(lambda c: primary_label(c, lang)))
# the AQI right after the name: on a phone the table scrolls sideways and later columns are off screen
ui.table(show, {name_col: TEXT["jurisdiction"], "aqi": TEXT["aqi"], "category": TEXT["category"],
                "primary_pollutants": TEXT["primary"], "day_aqi": TEXT["today_running"], "aqi_change": TEXT["change_1h"],
                "side": TEXT["side"], "time": TEXT["time_short"], "n_stations": TEXT["n_national_stations"]}, lang)

# how a city daily value is computed, one click away (HJ 663: the stations' valid daily values first)
ui.explain.expander(f, list(f.units), ui.explain.recent_days(f), key="explain")

st.subheader(t("worst_stations", lang))
worst = latest.head(8)  # station_latest is sorted by AQI, highest first
wfig = charts.aqi_bars(worst.assign(label=worst["station"] + " " + worst[name_col].astype(str)), x="label",
                       title=t("worst_stations", lang), lang=lang, presentation=f.presentation)
ui.chart(wfig, worst, "worst_stations", f)

st.subheader(t("warnings_summary", lang))
counts = ui.data.warning_counts(at)
c1, c2, c3 = st.columns(3)
c1.metric(t("count_near", lang), counts["near"], border=True)
c2.metric(t("count_crossed", lang), counts["crossed"], border=True)
c3.metric(t("count_active", lang), counts["active"], border=True)
try:  # the link exists only inside app.py's navigation (not when the page runs alone)
    st.page_link("pages/warnings.py", label=t("page_warnings", lang), icon=":material/warning:")
except st.errors.StreamlitAPIException:
    pass
