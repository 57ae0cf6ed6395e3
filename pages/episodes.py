"""污染过程 Episodes: detected episodes, onset order across jurisdictions, hour-by-hour map."""

import pandas as pd
import streamlit as st

from regionair import charts, ui
from regionair.analysis.episodes import detect_episodes
from regionair.analysis.latest import unit_hourly
from regionair.i18n import t

f = ui.page("page_episodes")
lang = f.lang
names = f.unit_names()
hourly = ui.data.hourly(f.start, f.end)
if hourly.empty:
    ui.no_data(f)
    st.stop()
units = unit_hourly(hourly, level="jurisdiction", edition=f.edition)
units = units[units["station"].isin(f.units)]
c1, c2, c3 = st.columns(3)
threshold = c1.number_input(t("threshold", lang), 50, 300, 100, step=50, key="ep_threshold")
max_gap = c2.number_input("max gap (h)", 0, 24, 3, key="ep_gap")
min_dur = c3.number_input("min duration (h)", 1, 72, 6, key="ep_min")
episodes, onsets = detect_episodes(units, threshold=threshold, resolution="hour", max_gap=max_gap, min_duration=min_dur)
st.subheader(t("episodes", lang))
if episodes.empty:
    st.info(t("no_data_period", lang) if units.empty else "—")
    st.stop()
show = episodes.assign(peak_unit=episodes["peak_unit"].map(names))
st.dataframe(show, hide_index=True)
ep = st.selectbox(t("episodes", lang), list(episodes["episode_id"]), key="ep_pick")
row = episodes[episodes["episode_id"] == ep].iloc[0]
on = onsets[onsets["episode_id"] == ep].assign(unit_name=lambda d: d["unit"].map(names))
st.subheader(t("onset", lang))
st.dataframe(on, hide_index=True)
win = units[(units["time"] >= pd.Timestamp(row["start"])) & (units["time"] <= pd.Timestamp(row["end"]))]
series = win[["station", "time", "aqi"]].assign(unit=lambda d: d["station"].map(names))
fig = charts.time_series(series, x="time", y="aqi", color="unit", title=f"{t('episodes', lang)} {ep}", y_title="AQI",
                         lang=lang, presentation=f.presentation, bands=True)
ui.chart(fig, series, f"episode_{ep}", f)
