"""排名与达标 Rankings & compliance: composite index, good-day share, PM2.5, percentiles, capture — city values by
HJ 663 (regionair.analysis.evaluation), 扣沙/不扣沙, and "explain this number"."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.analysis import dust as dust_days
from regionair.analysis import evaluation as ev
from regionair.core import standards
from regionair.core.i18n import EVAL_COLUMNS, join_names, t
from regionair.render import charts
from regionair.ui import auth

f = ui.page("page_rankings")
lang = f.lang
names = f.unit_names()
c1, c2 = st.columns(2)
basis = c1.selectbox(t("eval_basis", lang), list(standards.COMPOSITE_BASES), key="basis",
                     format_func=lambda b: standards.COMPOSITE_BASES[b][f"label_{lang}"])
dust = c2.radio(t("eval_dust", lang), ["include", "exclude"], key="dust", horizontal=True,
                format_func=lambda d: t(f"eval_dust_{d}", lang))
hourly, units = ui.period_data(f)
d0, d1 = ui.data.natural_days(f.start, f.end)
daily = ui.data.unit_daily(f.start, f.end, f.edition).rename(columns={"station": "jurisdiction"})
daily = daily[daily["jurisdiction"].isin(f.units)]
prev = ui.data.unit_daily(f.start - pd.DateOffset(years=1), f.end - pd.DateOffset(years=1), f.edition)
prev = prev.rename(columns={"station": "jurisdiction"})
marked = dust_days.expand(ui.data.dust_marks(), f.units)
if daily.empty or daily["aqi"].notna().sum() == 0:
    ui.no_data(f)
    st.stop()
values = ev.period_values(daily, d0, d1, dust=dust, dust_days=marked, basis=basis)
previous = None
if len(prev) and prev["aqi"].notna().any():
    p0, p1 = (pd.Timestamp(d0) - pd.DateOffset(years=1)).date(), (pd.Timestamp(d1) - pd.DateOffset(years=1)).date()
    previous = ev.period_values(prev, p0, p1, dust=dust, dust_days=dust_days.expand(ui.data.dust_marks()),
                                basis=basis)
rank = ev.rank_table(ev.compare(values, previous)).assign(unit=lambda r: r["jurisdiction"].map(names))

b = standards.COMPOSITE_BASES[basis]
st.caption(b[f"label_{lang}"] + ("" if b["verified"] else " · " + t("eval_basis_unverified", lang)))
deducted = sorted({x for s in rank["dust_days_deducted"] for x in s.split(";") if x})
st.caption(t("eval_dust_note_exclude", lang, days=join_names(deducted, lang) if deducted else t("eval_none", lang))
           if dust == "exclude" else t("eval_dust_note_include", lang))
st.caption(t("eval_method", lang))
st.info(t("eval_provisional", lang), icon=":material/info:")
if (~rank["valid_statistic"].astype(bool)).any():
    st.warning(t("invalid_stat", lang))
fig = charts.bars(rank, x="unit", y="composite_index", title=t("composite", lang), y_title=t("composite", lang),
                  presentation=f.presentation)
ui.chart(fig, rank, f"composite_{basis}_{dust}", f)
ui.table(rank, {c: EVAL_COLUMNS[c] for c in (
    "composite_rank", "unit", "composite_index", "good_day_share", "heavy_day_share", "pm25", "pm10", "so2", "no2",
    "co_p95", "o3_8h_p90", "days", "valid_days", "n_dust_days", "valid_statistic", "composite_index_change_pct",
    "good_day_share_change")}, lang)

# ---- explain this number: the derivation of one city daily value
with_days = daily.dropna(subset=["aqi"])
ui.explain.expander(f, list(rank["jurisdiction"]),
                    lambda unit: sorted(with_days.loc[with_days["jurisdiction"] == unit, "date"], reverse=True),
                    key="explain")

# ---- dust days: marks (analysts and admins; audited) and suggestions from the data (never applied by themselves)
with st.expander(t("eval_marks", lang), icon=":material/air:"):
    current = ui.data.dust_marks()
    if current.empty:
        st.caption(t("eval_marks_none", lang))
    else:
        ui.table(current.assign(jurisdiction=current["jurisdiction"].map(lambda u: names.get(u, t("eval_all_units", lang)))),
                 {c: EVAL_COLUMNS[c] for c in ("jurisdiction", "date", "who", "note")}, lang)
    st.markdown(f"**{t('eval_suggest', lang)}**")
    st.caption(t("eval_suggest_rule", lang, pm10=int(dust_days.PM10_MIN), ratio=dust_days.RATIO_MAX,
                 dust=int(dust_days.MODEL_DUST_MIN)))
    sug = dust_days.suggest(daily, model_aq=ui.data.model_dust(d0, d1))
    if sug.empty:
        st.caption(t("eval_suggest_none", lang))
    else:
        ui.table(sug.assign(jurisdiction=sug["jurisdiction"].map(names)),
                 {c: EVAL_COLUMNS[c] for c in ("jurisdiction", "date", "pm10", "pm25", "ratio", "model_dust", "basis")}
                 | {"pm10": ("PM10 µg/m³", "PM10 µg/m³"), "pm25": ("PM2.5 µg/m³", "PM2.5 µg/m³")}, lang)
    if auth.require_role("analyst", stop=False):
        with st.form("dust_mark"):
            m1, m2 = st.columns(2)
            target = m1.selectbox(t("jurisdiction", lang), [dust_days.ALL, *f.units],
                                  format_func=lambda u: t("eval_all_units", lang) if u == dust_days.ALL else names.get(u, u))
            when = m2.date_input(t("eval_day", lang), value=d1, min_value=d0, max_value=d1)
            note = st.text_input(t("eval_note", lang))
            b1, b2 = st.columns(2)
            mark = b1.form_submit_button(t("eval_mark", lang), type="primary")
            unmark = b2.form_submit_button(t("eval_unmark", lang))
        if mark or unmark:
            user = auth.current_user()
            dust_days.set_mark(ui.data.get_store(), target, when, marked=bool(mark), who=user.name if user else "unknown",
                               note=note)
            st.success(t("eval_marked", lang))
            st.rerun()
