"""首要污染物 Primary pollutants: shares per jurisdiction and month, exceedance days, ties."""

import streamlit as st

from regionair import ui
from regionair.analysis.primary import exceedance_days, primary_shares, tie_hours
from regionair.core.i18n import pollutant_label, t
from regionair.render import charts

f = ui.page("page_primary")
lang = f.lang
names = f.unit_names()
hourly, units = ui.period_data(f)
unit_kind = "day" if f.resolution != "hour" else "hour"
daily = ui.data.unit_daily(f.start, f.end, f.edition)
daily = daily[daily["station"].isin(f.units)]
scored = daily if unit_kind == "day" else units
shares = primary_shares(scored, by="station", freq="M" if f.resolution == "month" else None, unit=unit_kind)
shares = shares.assign(unit=shares["station"].map(names), pollutant_label=shares["pollutant"].map(lambda c: pollutant_label(c, lang)))
fig = charts.stacked_bars(shares, x="unit", y="share", color="pollutant_label",
                          title=f"{t('primary_share', lang)} ({t('res_' + unit_kind, lang)})", y_title="%",
                          presentation=f.presentation)
ui.chart(fig, shares, f"primary_shares_{unit_kind}", f)

ex = exceedance_days(daily, by="station")
ex = ex.assign(unit=ex["station"].map(names), pollutant_label=ex["pollutant"].map(lambda c: pollutant_label(c, lang)))
fig = charts.stacked_bars(ex, x="unit", y="exceedance_days", color="pollutant_label", title=t("exceedance_days", lang),
                          y_title=t("res_day", lang), presentation=f.presentation)
ui.chart(fig, ex, "exceedance_days", f)

st.subheader(t("ties", lang))
ties = tie_hours(units)
ui.table(ties, None, lang, names=names)
