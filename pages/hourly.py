"""实时监测 Hourly monitor: every station at the latest hour, 72-h sparklines, 7-day station detail."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.analysis.latest import station_latest
from regionair.core.aqi import hourly_aqi
from regionair.core.i18n import column_label, pollutant_label, primary_label, t
from regionair.core.nomenclature import POLLUTANTS
from regionair.render import charts

f = ui.page("page_hourly")
lang = f.lang
name_col = "name_zh" if lang == "zh" else "name_en"


@st.fragment(run_every="5m")
def latest_table():
    """Re-runs on its own every 5 minutes; the sidebar selections are untouched."""
    at = ui.data.latest_time()
    hourly = ui.data.hourly(at - pd.Timedelta(hours=71), at)
    if hourly.empty:
        ui.no_data(f)
        return
    latest = station_latest(hourly, at=at, edition=f.edition)
    if f.stations:
        latest = latest[latest["station"].isin(f.stations)]
    scored = hourly_aqi(hourly, edition=f.edition)
    spark = scored.sort_values("time").groupby("station")["aqi"].apply(lambda s: [None if pd.isna(v) else float(v) for v in s])
    names = f.unit_names()
    latest = latest.assign(trend=latest["station"].map(spark), jurisdiction=latest["jurisdiction"].map(names),
                           primary=latest["primary_pollutants"].map(lambda c: primary_label(c, lang)))
    st.subheader(f"{t('hourly_table', lang)} · {at:%Y-%m-%d %H:%M}")
    cols = ["station", name_col, "jurisdiction", "aqi", "category", "primary", *POLLUTANTS,
            *[f"iaqi_{p}" for p in POLLUTANTS], "pm25_24h", "pm10_24h", "o3_8h", "flags", "trend"]
    cols = [c for c in cols if c in latest.columns]
    table = latest[cols].sort_values("aqi", ascending=False)

    def colour(row):
        from regionair.core.aqi import category_colour

        c = category_colour(row["aqi"])
        return [f"background-color: {c}; color: {'#fff' if row['aqi'] > 200 else '#000'}" if k in ("aqi", "category") else ""
                for k in row.index]

    config = {"station": "编码" if lang == "zh" else "Code", name_col: t("station", lang), "aqi": "AQI", "jurisdiction": t("jurisdiction", lang),
              "category": t("category", lang), "primary": t("primary", lang), "flags": t("flags", lang),
              "trend": st.column_config.LineChartColumn(t("sparklines", lang), y_min=0, y_max=300)}
    for p in POLLUTANTS:
        config[p] = pollutant_label(p, lang, unit=True)
    for c in table.columns:  # IAQI, moving means …: headers from the one catalogue
        config.setdefault(c, column_label(c, lang))
    fmt = {c: "{:.0f}" for c in table.columns if c in (*POLLUTANTS, "aqi") or c.startswith(("iaqi_", "pm", "o3"))}
    fmt["co"] = "{:.1f}"
    fmt["co_24h"] = "{:.1f}"
    styled = table.style.apply(colour, axis=1).format({k: v for k, v in fmt.items() if k in table.columns}, na_rep="—")
    st.dataframe(styled, hide_index=True, column_config=config, height=520)
    st.caption(t("auto_refresh", lang))
    return table


table = latest_table()

st.subheader(t("station_detail", lang))
codes = list(table["station"]) if table is not None else []
if codes:
    code = st.selectbox(t("station", lang), codes, key="detail_station")
    at = f.anchor
    week = ui.data.hourly(at - pd.Timedelta(days=7) + pd.Timedelta(hours=1), at, stations=[code])
    scored = hourly_aqi(week, edition=f.edition)
    long = scored.melt(id_vars=["time"], value_vars=list(POLLUTANTS), var_name="pollutant", value_name="value")
    long["pollutant"] = long["pollutant"].map(lambda p: pollutant_label(p, lang, unit=True))
    fig = charts.time_series(long, x="time", y="value", color="pollutant", title=f"{code} · {t('station_detail', lang)}",
                             y_title=t("value", lang), lang=lang, presentation=f.presentation)
    ui.chart(fig, scored[["station", "time", *POLLUTANTS]], f"station_{code}", f)
    il = scored.melt(id_vars=["time"], value_vars=[f"iaqi_{p}" for p in POLLUTANTS] + ["aqi"], var_name="index",
                     value_name="value")
    il["index"] = il["index"].str.replace("iaqi_", "IAQI ").map(lambda s: s if s == "aqi" else s)
    fig2 = charts.time_series(il, x="time", y="value", color="index", title=f"{code} · IAQI / AQI",
                              y_title="IAQI", lang=lang, presentation=f.presentation, bands=True)
    ui.chart(fig2, scored[["station", "time", *[f"iaqi_{p}" for p in POLLUTANTS], "aqi", "primary_pollutants", "category"]],
             f"station_{code}_iaqi", f)
