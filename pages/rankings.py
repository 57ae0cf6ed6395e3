"""排名与达标 Rankings & compliance: composite index, good-day share, PM2.5, percentiles, capture."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.analysis.ranking import ranking
from regionair.core import standards
from regionair.core.i18n import t
from regionair.render import charts

f = ui.page("page_rankings")
lang = f.lang
names = f.unit_names()
basis = st.selectbox("综合指数口径" if lang == "zh" else "Composite index basis", list(standards.COMPOSITE_BASES), key="basis",
                     format_func=lambda b: standards.COMPOSITE_BASES[b]["label_zh" if lang == "zh" else "label_en"])
hourly, units = ui.period_data(f)
daily = ui.data.unit_daily(f.start, f.end, f.edition)
daily = daily[daily["station"].isin(f.units)]
previous = ui.data.unit_daily(f.start - pd.DateOffset(years=1), f.end - pd.DateOffset(years=1), f.edition)
previous = previous if len(previous) else None
rank = ranking(daily, basis=basis, previous=previous)
rank = rank.assign(unit=rank["station"].map(names)) if "station" in rank else rank
st.caption(standards.COMPOSITE_BASES[basis]["label_zh" if lang == "zh" else "label_en"])
if "valid_statistic" in rank and (~rank["valid_statistic"].astype(bool)).any():
    st.warning(t("invalid_stat", lang))
fig = charts.bars(rank, x="unit", y="composite_index", title=t("composite", lang), y_title=t("composite", lang),
                  presentation=f.presentation)
ui.chart(fig, rank, f"composite_{basis}", f)
ui.table(rank, {
    "composite_rank": ("排名", "Rank"), "unit": ("行政单元", "Jurisdiction"), "composite_index": ("综合指数", "Composite index"),
    "good_share": ("优良天数比例 %", "Good days %"), "pm25_mean": ("PM2.5 均值 µg/m³", "PM2.5 mean µg/m³"),
    "pm25_p95": ("PM2.5 第95百分位 µg/m³", "PM2.5 p95 µg/m³"), "pm10_mean": ("PM10 均值 µg/m³", "PM10 mean µg/m³"),
    "o3_8h_p90": ("O3-8h 第90百分位 µg/m³", "O3 MDA8 p90 µg/m³"), "co_p95": ("CO 第95百分位 mg/m³", "CO p95 mg/m³"),
    "exceedance_days": ("超标天数", "Exceedance days"), "heavy_days": ("重度及以上天数", "Heavy days"),
    "n_valid_days": ("有效天数", "Valid days"), "capture": ("数据获取率 %", "Capture %"),
    "valid_statistic": ("统计有效", "Valid"), "validity_reason": ("说明", "Note"),
    "composite_index_change_pct": ("综合指数同比 %", "Composite vs last year %"),
    "good_share_change": ("优良比例同比（百分点）", "Good days vs last year (pp)"),
}, lang)
