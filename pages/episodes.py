"""污染过程 Episodes: detected episodes, onset order across jurisdictions, hour-by-hour map."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.analysis.episodes import detect_episodes
from regionair.analysis.primary import primary_through_episode
from regionair.core import region
from regionair.core.aqi import hourly_aqi
from regionair.core.i18n import pollutant_label, primary_label, t, value_label
from regionair.render import charts

f = ui.page("page_episodes")
lang = f.lang
names = f.unit_names()
hourly, units = ui.period_data(f)
c1, c2, c3 = st.columns(3)
threshold = c1.number_input(t("threshold", lang), 50, 300, 100, step=50, key="ep_threshold")
max_gap = c2.number_input("合并间隔（小时）" if lang == "zh" else "Merge gaps up to (h)", 0, 24, 3, key="ep_gap")
min_dur = c3.number_input("最短持续（小时）" if lang == "zh" else "Minimum duration (h)", 1, 72, 6, key="ep_min")
episodes, onsets = detect_episodes(units, threshold=threshold, resolution="hour", max_gap=max_gap, min_duration=min_dur)
st.subheader(t("episodes", lang))
if episodes.empty:
    st.info(t("no_data_period", lang) if units.empty else "—")
    st.stop()
show = episodes.assign(peak_unit=episodes["peak_unit"].map(names),
                       units_affected=episodes["units_affected"].map(lambda u: "、".join(names.get(x, x) for x in str(u).split(";"))),
                       primary_pollutants=episodes["primary_pollutants"].map(lambda c: primary_label(c, lang)))
for c in ("start", "end", "peak_time"):
    show[c] = pd.to_datetime(show[c]).dt.strftime("%Y-%m-%d %H:%M")
ui.table(show, {"episode_id": ("编号", "No."), "start": ("开始", "Start"), "end": ("结束", "End"),
                "duration": ("持续（小时）", "Duration (h)"), "peak_aqi": ("峰值AQI", "Peak AQI"),
                "peak_unit": ("峰值单元", "Peak at"), "peak_time": ("峰值时间", "Peak time"),
                "primary_pollutants": ("首要污染物", "Primary"), "units_affected": ("涉及单元", "Jurisdictions"),
                "n_units": ("单元数", "Units")}, lang)
ep = st.selectbox(t("episodes", lang), list(episodes["episode_id"]), key="ep_pick")
row = episodes[episodes["episode_id"] == ep].iloc[0]
on = onsets[onsets["episode_id"] == ep].assign(unit_name=lambda d: d["unit"].map(names))
st.subheader(t("onset", lang))
for c in ("first_100", "first_150", "first_200"):
    on[c] = pd.to_datetime(on[c]).dt.strftime("%m-%d %H:%M").fillna("—")
ui.table(on.sort_values("rank"), {"rank": ("先后", "Order"), "unit_name": ("行政单元", "Jurisdiction"),
                                  "first_100": ("首次>100", "First > 100"), "first_150": ("首次>150", "First > 150"),
                                  "first_200": ("首次>200", "First > 200")}, lang)
win = units[(units["time"] >= pd.Timestamp(row["start"])) & (units["time"] <= pd.Timestamp(row["end"]))]
series = win[["station", "time", "aqi"]].assign(unit=lambda d: d["station"].map(names))
fig = charts.time_series(series, x="time", y="aqi", color="unit", title=f"{t('episodes', lang)} {ep}", y_title="AQI",
                         lang=lang, presentation=f.presentation, bands=True)
ui.chart(fig, series, f"episode_{ep}", f)

# ---- how the primary pollutant shifts through the episode
shift = primary_through_episode(units, row["start"], row["end"])
shift = shift.assign(unit=shift["station"].map(names), pollutant=shift["pollutant"].map(
    lambda c: pollutant_label(c, lang) if c not in ("none", "missing") else value_label(c, lang)))
share = shift.groupby(["time", "pollutant"], as_index=False)["weight"].sum()
fig = charts.stacked_bars(share, x="time", y="weight", color="pollutant",
                          title="首要污染物随过程的变化（各单元小时数）" if lang == "zh" else "Primary pollutant through the episode (unit-hours)",
                          y_title="单元数" if lang == "zh" else "Jurisdictions", presentation=f.presentation)
ui.chart(fig, shift, f"episode_{ep}_primary", f)

# ---- hour by hour on the map
hours = sorted(win["time"].unique())
if hours:
    hour = st.select_slider("逐小时地图" if lang == "zh" else "Map, hour by hour", options=hours,
                            format_func=lambda h: pd.Timestamp(h).strftime("%m-%d %H:%M"), key="ep_hour")
    at_units = win[win["time"] == hour].rename(columns={"station": "id"}).assign(name=lambda d: d["id"].map(names))
    st_hour = hourly_aqi(hourly[hourly["time"] == hour], edition=f.edition)
    cat = region.stations().rename(columns={"code": "station"})
    cat["side"] = cat["jurisdiction"].map(region.jurisdictions().set_index("id")["side"]).fillna("")
    st_hour = st_hour.merge(cat[["station", "side", "name_zh", "name_en", "longitude", "latitude"]].rename(
        columns={"longitude": "lon_cat", "latitude": "lat_cat"}), on="station", how="left", suffixes=("_pub", ""))
    st_hour = st_hour.assign(name=st_hour["name_" + lang].fillna(st_hour["station"]), longitude=st_hour["lon_cat"],
                             latitude=st_hour["lat_cat"]).dropna(subset=["longitude"])
    bounds = region.boundaries(level="district")
    j = region.jurisdictions()
    parent, level = dict(zip(j["id"], j["parent"], strict=True)), dict(zip(j["id"], j["level"], strict=True))
    bounds["unit"] = [parent[i] if level.get(i) == "district" else i for i in bounds["id"]]
    fig = charts.region_map(bounds, at_units, st_hour, title=f"{t('episodes', lang)} {ep} · {pd.Timestamp(hour):%Y-%m-%d %H:%M}",
                            lang=lang, presentation=f.presentation)
    ui.chart(fig, st_hour[["station", "name", "time", "aqi", "category", "primary_pollutants"]], f"episode_{ep}_map", f)
