"""排名与达标 Rankings & compliance: composite index, good-day share, PM2.5, percentiles, capture."""

import pandas as pd
import streamlit as st

from regionair import charts, standards, ui
from regionair.analysis.latest import unit_hourly
from regionair.analysis.ranking import ranking
from regionair.aqi import daily_aqi
from regionair.i18n import t

f = ui.page("page_rankings")
lang = f.lang
names = f.unit_names()
basis = st.selectbox("basis", list(standards.COMPOSITE_BASES), key="basis",
                     format_func=lambda b: standards.COMPOSITE_BASES[b]["label_zh" if lang == "zh" else "label_en"])
hourly = ui.data.hourly(f.start, f.end)
if hourly.empty:
    ui.no_data(f)
    st.stop()
units = unit_hourly(hourly, level="jurisdiction", edition=f.edition)
units = units[units["station"].isin(f.units)]
daily = daily_aqi(units[["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]], edition=f.edition)
prev_hourly = ui.data.hourly(f.start - pd.DateOffset(years=1), f.end - pd.DateOffset(years=1))
previous = None
if not prev_hourly.empty:
    pu = unit_hourly(prev_hourly, level="jurisdiction", edition=f.edition)
    previous = daily_aqi(pu[["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]], edition=f.edition)
rank = ranking(daily, basis=basis, previous=previous)
rank = rank.assign(unit=rank["station"].map(names)) if "station" in rank else rank
st.caption(standards.COMPOSITE_BASES[basis]["label_zh" if lang == "zh" else "label_en"])
if "valid_statistic" in rank and (~rank["valid_statistic"].astype(bool)).any():
    st.warning(t("invalid_stat", lang))
fig = charts.aqi_bars(rank.assign(aqi=rank["composite_index"] * 0 + rank["composite_index"]).rename(columns={}),
                      x="unit", title=t("composite", lang), lang=lang, presentation=f.presentation)
fig.update_traces(marker_color="#1f77b4", text=rank["composite_index"].round(2).astype(str))
fig.update_layout(yaxis_title=t("composite", lang))
ui.chart(fig, rank, f"composite_{basis}", f)
st.dataframe(rank, hide_index=True)
