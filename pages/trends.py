"""跨界趋势 Cross-boundary trends: jurisdictions side by side, 地方 vs 兵团, neighbouring pairs,
diurnal/weekday/monthly profiles, calendar, correlation and lead/lag."""

import streamlit as st

from regionair import ui
from regionair.analysis.trends import (
    PROFILE_MIN_DAYS,
    calendar_data,
    correlation_matrix,
    diurnal_profile,
    lead_lag_pairs,
    monthly_profile,
    pair_differences,
    profile_days,
    time_average,
    weekday_profile,
)
from regionair.core import region
from regionair.core.i18n import column_label, pollutant_label, t
from regionair.render import charts

f = ui.page("page_trends")
lang = f.lang
names = f.unit_names()
hourly, units = ui.period_data(f)
p = f.pollutant
sides = ui.data.unit_hourly(f.start, f.end, f.edition, level="side")
daily_units = ui.data.unit_daily(f.start, f.end, f.edition)
daily_units = daily_units[daily_units["station"].isin(f.units)]
y_title = pollutant_label(p, lang, unit=True)

# ---- series at the chosen resolution
if f.resolution == "hour":
    series = units[["station", "time", p]].rename(columns={"station": "unit", "time": "x"})
else:
    col = p if p != "o3" else "o3_8h"
    src = daily_units if f.resolution == "day" else time_average(daily_units, avg_time="month", by="station")
    xcol = "date" if "date" in src.columns else "month"
    series = src[["station", xcol, col if col in src.columns else "aqi"]].rename(
        columns={"station": "unit", xcol: "x", col if col in src.columns else "aqi": p})
series["unit"] = series["unit"].map(names)
fig = charts.time_series(series, x="x", y=p, color="unit", title=f"{t('series', lang)} · {y_title}", y_title=y_title,
                         lang=lang, presentation=f.presentation, bands=(p == "aqi"))
ui.chart(fig, series, f"trend_{p}_{f.resolution}", f)

# ---- 地方 vs 兵团
side = sides[["station", "time", p]].copy()
side["station"] = side["station"].map(names)
fig = charts.time_series(side, x="time", y=p, color="station", title=f"{t('local_vs_corps', lang)} · {y_title}",
                         y_title=y_title, lang=lang, presentation=f.presentation, bands=(p == "aqi"))
ui.chart(fig, side, f"local_vs_corps_{p}", f)

# ---- neighbouring pairs (computed from the boundary polygons)
pairs = region.neighbour_pairs()
pairs = pairs[pairs["a"].isin(f.units) & pairs["b"].isin(f.units)]
if len(pairs):
    diff = pair_differences(units, pairs, p)
    diff["pair"] = diff["a"].map(names) + " − " + diff["b"].map(names)
    fig = charts.time_series(diff, x="time", y="difference", color="pair", title=f"{t('neighbour_pairs', lang)} · {y_title}",
                             y_title=y_title, lang=lang, presentation=f.presentation)
    ui.chart(fig, diff, f"pair_differences_{p}", f)

# ---- profiles (each only when the period holds enough natural days; otherwise a note says why)
days = profile_days(units)


def enough(kind: str) -> bool:
    need = PROFILE_MIN_DAYS[kind]
    if days >= need:
        return True
    st.caption(t("profile_short", lang, what=t(kind, lang), need=need, have=days))
    return False


c1, c2 = st.columns(2)
with c1:
    solar = st.toggle(t("solar_clock", lang), key="solar")
    if enough("diurnal"):
        prof = diurnal_profile(units, p, by="station", clock="solar" if solar else "beijing")
        prof["station"] = prof["station"].map(names)
        fig = charts.profile_chart(prof, x="hour", y="mean", lo="ci_low", hi="ci_high", color="station",
                                   title=t("diurnal", lang), x_title=column_label("hour", lang), y_title=y_title,
                                   presentation=f.presentation)
        ui.chart(fig, prof, f"diurnal_{p}", f)

# ---- weekday and monthly profiles (natural days; openair timeVariation-like, 95 % band)
c5, c6 = st.columns(2)
with c5:
    if enough("weekday"):
        wk = weekday_profile(units, p, by="station")
        wk["station"] = wk["station"].map(names)
        wk["day"] = wk["weekday"].map(lambda d: ("一二三四五六日"[int(d)] if lang == "zh" else "MTWTFSS"[int(d)]))
        fig = charts.profile_chart(wk, x="day", y="mean", lo="ci_low", hi="ci_high", color="station",
                                   title=t("weekday", lang), x_title="", y_title=y_title, presentation=f.presentation)
        ui.chart(fig, wk, f"weekday_{p}", f)
with c6:
    if enough("monthly"):
        mo = monthly_profile(units, p, by="station")
        mo["station"] = mo["station"].map(names)
        fig = charts.profile_chart(mo, x="month", y="mean", lo="ci_low", hi="ci_high", color="station",
                                   title=t("monthly", lang), x_title="", y_title=y_title, presentation=f.presentation)
        ui.chart(fig, mo, f"monthly_{p}", f)

# ---- calendar of daily AQI
cal = calendar_data(daily_units).rename(columns={"station": "unit"})
cal["unit"] = cal["unit"].map(names)
fig = charts.calendar_heatmap(cal, title=t("calendar", lang), lang=lang, presentation=f.presentation)
with c2:
    ui.chart(fig, cal, "calendar_aqi", f)

# ---- correlation and lead/lag
c3, c4 = st.columns(2)
corr = correlation_matrix(units, p)
corr = corr.rename(index=names, columns=names)
with c3:
    ui.chart(charts.heatmap(corr, title=t("correlation", lang), presentation=f.presentation), corr.reset_index(),
             f"correlation_{p}", f)
if len(pairs):
    ll = lead_lag_pairs(units, pairs, p, max_lag=12)
    ll = ll.assign(a=ll["a"].map(names), b=ll["b"].map(names))
    with c4:
        st.markdown(f"**{t('lead_lag', lang)}**")
        ui.table(ll, None, lang, names=names)
