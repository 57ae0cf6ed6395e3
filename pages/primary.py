"""首要污染物 Primary pollutants: shares per jurisdiction and month, exceedance days, ties."""

import streamlit as st

from regionair import charts, ui
from regionair.analysis.latest import unit_hourly
from regionair.analysis.primary import exceedance_days, primary_shares, tie_hours
from regionair.aqi import daily_aqi
from regionair.i18n import pollutant_label, t

f = ui.page("page_primary")
lang = f.lang
names = f.unit_names()
hourly = ui.data.hourly(f.start, f.end)
if hourly.empty:
    ui.no_data(f)
    st.stop()
units = unit_hourly(hourly, level="jurisdiction", edition=f.edition)
units = units[units["station"].isin(f.units)]
unit_kind = "day" if f.resolution != "hour" else "hour"
if unit_kind == "day":
    scored = daily_aqi(units[["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]], edition=f.edition)
else:
    scored = units
shares = primary_shares(scored, by="station", freq="M" if f.resolution == "month" else None, unit=unit_kind)
shares = shares.assign(unit=shares["station"].map(names), pollutant_label=shares["pollutant"].map(lambda c: pollutant_label(c, lang)))
fig = charts.stacked_bars(shares, x="unit", y="share", color="pollutant_label",
                          title=f"{t('primary_share', lang)} ({t('res_' + unit_kind, lang)})", y_title="%",
                          presentation=f.presentation)
ui.chart(fig, shares, f"primary_shares_{unit_kind}", f)

daily = daily_aqi(units[["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]], edition=f.edition)
ex = exceedance_days(daily, by="station")
ex = ex.assign(unit=ex["station"].map(names), pollutant_label=ex["pollutant"].map(lambda c: pollutant_label(c, lang)))
fig = charts.stacked_bars(ex, x="unit", y="exceedance_days", color="pollutant_label", title=t("exceedance_days", lang),
                          y_title=t("res_day", lang), presentation=f.presentation)
ui.chart(fig, ex, "exceedance_days", f)

st.subheader(t("ties", lang))
ties = tie_hours(units)
st.dataframe(ties.assign(station=ties["station"].map(names)), hide_index=True)
