"""污染过程 Episodes: detected episodes, onset order across jurisdictions, hour-by-hour map."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.analysis.episodes import EPISODE_RULE, detect_episodes, mark_censored
from regionair.analysis.primary import primary_through_episode
from regionair.core import region
from regionair.core.aqi import hourly_aqi
from regionair.core.i18n import MISSING, join_names, pollutant_label, primary_label, t, value_label
from regionair.render import charts

f = ui.page("page_episodes")
lang = f.lang
names = f.unit_names()
hourly, units = ui.period_data(f)
c1, c2, c3 = st.columns(3)
threshold = c1.number_input(t("threshold", lang), 50, 300, EPISODE_RULE["threshold"], step=50, key="ep_threshold")
max_gap = c2.number_input(t("ep_max_gap", lang), 0, 24, EPISODE_RULE["max_gap"], key="ep_gap")
min_dur = c3.number_input(t("ep_min_duration", lang), 1, 72, EPISODE_RULE["min_duration"], key="ep_min")
episodes, onsets = detect_episodes(units, threshold=threshold, resolution="hour", max_gap=max_gap, min_duration=min_dur)
st.subheader(t("episodes", lang))
if episodes.empty:
    st.info(t("no_data_period", lang) if units.empty else "—")
    st.stop()
show = episodes.assign(peak_unit=episodes["peak_unit"].map(names),
                       units_affected=episodes["units_affected"].map(lambda u: join_names([names.get(x, x) for x in str(u).split(";")], lang)),
                       primary_pollutants=episodes["primary_pollutants"].map(lambda c: primary_label(c, lang)))
for c in ("start", "end", "peak_time"):
    show[c] = pd.to_datetime(show[c]).dt.strftime("%Y-%m-%d %H:%M")
ui.table(show, ["episode_id", "start", "end", "duration", "peak_aqi", "peak_unit", "peak_time", "primary_pollutants",
                "units_affected", "n_units"], lang)
ep = st.selectbox(t("episodes", lang), list(episodes["episode_id"]), key="ep_pick")
row = episodes[episodes["episode_id"] == ep].iloc[0]
on = mark_censored(onsets[onsets["episode_id"] == ep], units).assign(unit_name=lambda d: d["unit"].map(names))
st.subheader(t("onset", lang))
censored = on["censored_100"]
for lv in (100, 150, 200):
    c = f"first_{lv}"
    when = pd.to_datetime(on[c]).dt.strftime("%m-%d %H:%M")
    on[c] = [t("onset_censored", lang, level=lv, time=w) if cz else w if isinstance(w, str) else MISSING
             for w, cz in zip(when, on[f"censored_{lv}"], strict=True)]
on["rank"] = on["rank"].astype("Int64").where(~censored)  # an onset before the data begin has no order
ui.table(on.sort_values("rank"), ["rank", "unit_name", "first_100", "first_150", "first_200"], lang)
if censored.any():
    st.caption(t("onset_censored_note", lang, units=join_names(on.loc[censored, "unit_name"], lang)))
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
                          title=t("ep_primary_shift", lang), y_title=t("ep_units", lang), presentation=f.presentation)
ui.chart(fig, shift, f"episode_{ep}_primary", f)

# ---- hour by hour on the map
hours = sorted(win["time"].unique())
if hours:
    hour = st.select_slider(t("ep_map_hourly", lang), options=hours,
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
    fig = charts.region_map(bounds, at_units, st_hour, title=f"{t('episodes', lang)} {ep} · {pd.Timestamp(hour):%Y-%m-%d %H:%M}",
                            lang=lang, presentation=f.presentation, edition=f.edition,
                            day=(pd.Timestamp(hour) - pd.Timedelta(hours=1)).date())
    ui.chart(fig, st_hour[["station", "name", "time", "aqi", "category", "primary_pollutants"]], f"episode_{ep}_map", f)
