"""区域传输 Transport: wind and pollution roses, polar plots, CPF, who-affects-whom between neighbouring
jurisdictions, the transport view of an episode and the stagnation panel. Methods: docs/transport.md."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.analysis import transport as tr
from regionair.analysis.episodes import detect_episodes
from regionair.analysis.latest import unit_hourly
from regionair.core import i18n, region
from regionair.core.i18n import pollutant_label
from regionair.render import transport_charts as tc

TEXT_TRANSPORT: dict[str, tuple[str, str]] = {
    "page_transport": ("区域传输", "Transport"),
    "limits_title": ("这些图能说明什么、不能说明什么", "What these views can and cannot show"),
    "limits": (
        "风向条件下的浓度统计和滞后相关只说明**共同变化的方式是否与输送一致**：风从甲吹向乙时，乙的浓度变化是否"
        "滞后于甲。它们**不是来源解析**——不能给出乙的污染中有多少来自甲。共同的天气过程（静稳、逆温、降温）"
        "会让相邻单元同时升高；小时序列已做差分和预白化以减少伪相关，但相关仍不等于因果。风数据为模型格点值"
        "（Open-Meteo），代表性点与站点之间可有数公里偏差；山谷风和静风时风向意义有限。方法见技术文档《区域传输分析方法》（`docs/transport.md`）。",
        "Wind-conditioned statistics and lagged correlation show only whether **co-variation is consistent with "
        "transport**: whether, with the wind blowing from A to B, changes at B follow changes at A. They are **not "
        "source apportionment** — they do not say how much of B's pollution comes from A. Shared weather (stagnation, "
        "inversions, cold spells) raises neighbours together; the hourly series are differenced and pre-whitened "
        "to limit spurious correlation, but correlation is still not causation. Wind is gridded model data "
        "(Open-Meteo) at one representative point per jurisdiction, a few km from the stations; in valley winds "
        "and calms the direction means little. Methods: docs/transport.md."),
    "no_wind": ("数据库中没有该时段的风数据：下面只显示不分风向的滞后相关。导入风数据："
                "`python -m regionair ingest --source open-meteo`，或演示用 `python scripts/load_recorded_weather.py`。",
                "No wind data in the store for this period: only the lead/lag without wind conditioning is shown. "
                "Load wind with `python -m regionair ingest --source open-meteo`, or for the demo "
                "`python scripts/load_recorded_weather.py`."),
    "constructed": ("注意：风数据含为演示构造的数据（来源标记 `constructed-demo`），并非观测或模式下载值。",
                    "Note: wind source includes 'constructed-demo' — constructed for the demo, not observed or "
                    "downloaded model data."),
    "wind_source": ("风数据来源", "Wind source"),
    "scope": ("范围", "Scope"),
    "whole_period": ("整个时段", "Whole period"),
    "episode_n": ("污染过程 {id}：{start} – {end}", "Episode {id}: {start} – {end}"),
    "location": ("站点/单元（风玫瑰）", "Unit / station (roses)"),
    "sectors": ("风向扇区数", "Wind sectors"),
    "calm": ("静风阈值 [m/s]", "Calm threshold [m/s]"),
    "cpf_pct": ("CPF 百分位", "CPF percentile"),
    "halfwidth": ("风向条件半宽 [°]", "Wind condition half-width [°]"),
    "max_lag": ("最大滞后 [h]", "Max lag [h]"),
    "roses": ("风玫瑰与污染玫瑰", "Wind and pollution roses"),
    "wind_rose": ("风玫瑰", "Wind rose"),
    "pollution_rose": ("污染玫瑰", "Pollution rose"),
    "percentile_rose": ("百分位玫瑰", "Percentile rose"),
    "cpf": ("条件概率 CPF（≥ P{pct}）", "Conditional probability CPF (≥ P{pct})"),
    "polar": ("双变量极坐标图（风速 × 风向）", "Bivariate polar plot (speed × direction)"),
    "polar_cpf": ("双变量条件概率 CBPF", "Conditional bivariate probability (CBPF)"),
    "speed": ("风速 m/s", "Speed m/s"),
    "who": ("谁影响谁：相邻单元的滞后相关（按风向条件）", "Who affects whom: lead/lag between neighbours (wind-conditioned)"),
    "who_note": ("箭头：风从上游吹向下游时，下游浓度变化滞后≥1小时且显著，且在块自助法重抽样中占比≥50%；"
                 "宽度 = 支持度 × r。矩阵中的数字为峰值滞后和支持度。",
                 "Arrow: with the wind blowing from source to target, the target's changes follow by ≥ 1 h, "
                 "significantly, in ≥ 50 % of block-bootstrap replicates; width = support × r. Matrix cells: peak "
                 "lag and support."),
    "map": ("传输关系图", "Transport graph"),
    "matrix": ("滞后/方向矩阵", "Lag / direction matrix"),
    "unconditioned": ("（未按风向条件）", "(not wind-conditioned)"),
    "episode_view": ("污染过程的传输视图", "Episode transport view"),
    "onset": ("各单元开始时间与主导风向", "Onset order against the prevailing wind"),
    "prevailing": ("主导风（矢量平均）来自 {wd:.0f}°，{ws:.1f} m/s，稳定度 {st:.2f}；开始时间与顺风位置的秩相关 {rho}",
                   "Prevailing (vector-mean) wind from {wd:.0f}°, {ws:.1f} m/s, steadiness {st:.2f}; rank "
                   "correlation of onset with downwind position {rho}"),
    "attribution": ("上风向归因：{unit} 高值小时的风向来源", "Upwind attribution: wind origin of {unit}'s high hours"),
    "stagnation": ("静稳指标（采暖季请在侧栏选“本采暖季”）", "Stagnation (choose 'This heating season' in the sidebar)"),
    "pick_episode": ("选择一个污染过程以显示传输视图。", "Pick an episode to see its transport view."),
    "no_pairs": ("所选单元之间没有相邻对。", "No neighbouring pairs among the selected units."),
    "too_few": ("有风数据的小时太少，无法绘制。", "Too few hours with wind to draw this."),
}


def tt(key: str, lang: str, **fmt) -> str:
    """Text of this page (``TEXT_TRANSPORT``), falling back to the shared table."""
    pair = TEXT_TRANSPORT.get(key)
    if pair is None:
        return i18n.t(key, lang, **fmt)
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**fmt) if fmt else text


f = ui.page("page_transport")
lang = f.lang
names = f.unit_names()
with st.expander(tt("limits_title", lang), expanded=False):
    st.markdown(tt("limits", lang))
hourly = ui.data.hourly(f.start, f.end)
if hourly.empty:
    ui.no_data(f)
    st.stop()
p = f.pollutant
y_title = pollutant_label(p, lang, unit=True)
juris = set(region.jurisdictions().query("level == 'jurisdiction'")["id"])
units = unit_hourly(hourly, level="jurisdiction", edition=f.edition)
units = units[units["station"].isin([u for u in f.units if u in juris])]

# ---- scope: whole period or one episode
episodes, onsets = detect_episodes(units, threshold=100, resolution="hour", max_gap=3, min_duration=6)
scopes = ["all", *[int(e) for e in episodes["episode_id"]]]
ep_label = {int(r.episode_id): tt("episode_n", lang, id=int(r.episode_id), start=f"{r.start:%m-%d %H:%M}",
                                  end=f"{r.end:%m-%d %H:%M}") for r in episodes.itertuples()}
scope = st.selectbox(tt("scope", lang), scopes, key="tr_scope",
                     format_func=lambda s: tt("whole_period", lang) if s == "all" else ep_label[s])
start, end = f.start, f.end
if scope != "all":
    row = episodes[episodes["episode_id"] == scope].iloc[0]
    start, end = pd.Timestamp(row["start"]) - pd.Timedelta(hours=12), pd.Timestamp(row["end"])
    units = units[(units["time"] >= start) & (units["time"] <= end)]
    hourly = hourly[(hourly["time"] >= start) & (hourly["time"] <= end)]

# ---- wind per jurisdiction (model data, stored apart from measurements)
weather = ui.data.get_store().weather(start, end)
wind = tr.jurisdiction_wind(weather, jurisdictions=units["station"].unique())
have_wind = len(wind) > 0 and wind["wind_speed"].notna().any()
if have_wind:
    srcs = sorted(wind["wind_source"].unique())
    credit = " · Open-Meteo (CC BY 4.0)" if any(s.startswith("open-meteo") for s in srcs) else ""
    st.caption(f"{tt('wind_source', lang)}: {', '.join(srcs)}{credit}")
    if "constructed-demo" in srcs:
        st.warning(tt("constructed", lang), icon=":material/science:")
else:
    st.warning(tt("no_wind", lang), icon=":material/air:")

c1, c2, c3, c4, c5 = st.columns(5)
n_sectors = c1.selectbox(tt("sectors", lang), list(tr.SECTOR_COUNTS), index=1, key="tr_sectors")
calm = c2.number_input(tt("calm", lang), 0.0, 3.0, tr.CALM_MS, step=0.1, key="tr_calm")
pct = c3.number_input(tt("cpf_pct", lang), 50, 99, tr.CPF_PERCENTILE, step=5, key="tr_pct")
halfwidth = c4.number_input(tt("halfwidth", lang), 10.0, 90.0, 45.0, step=5.0, key="tr_halfwidth")
max_lag = c5.number_input(tt("max_lag", lang), 1, 24, 6, key="tr_maxlag")
with_wind = tr.attach_wind(units, wind)

# ---- roses, CPF and polar plots for one unit or station
if have_wind:
    st.subheader(tt("roses", lang))
    unit_ids = list(units["station"].unique())
    station_ids = sorted(hourly["station"].unique()) if p in hourly.columns else []
    where = st.selectbox(tt("location", lang), unit_ids + station_ids, key="tr_where",
                         format_func=lambda s: names.get(s, s))
    src = with_wind if where in unit_ids else tr.attach_wind(hourly[hourly["station"] == where], wind)
    here = src[src["station"] == where]
    label = names.get(where, where)
    wr = tr.wind_rose(here, n_sectors=n_sectors, calm=calm, by="station")
    if int(wr["n"].sum()) == 0:
        st.info(tt("too_few", lang))
    else:
        a, b = st.columns(2)
        with a:
            ui.chart(tc.rose(wr, title=f"{tt('wind_rose', lang)} · {label}", legend_title="m/s", lang=lang,
                             presentation=f.presentation), wr, f"wind_rose_{where}", f)
        pr = tr.pollution_rose(here, p, n_sectors=n_sectors, calm=calm, by="station")
        with b:
            ui.chart(tc.rose(pr, title=f"{tt('pollution_rose', lang)} · {label} · {y_title}", legend_title=y_title,
                             lang=lang, presentation=f.presentation), pr, f"pollution_rose_{where}_{p}", f)
        a, b = st.columns(2)
        prc = tr.percentile_rose(here, p, n_sectors=n_sectors, calm=calm, by="station")
        with a:
            ui.chart(tc.percentile_rose(prc, title=f"{tt('percentile_rose', lang)} · {label}", unit=y_title,
                                        lang=lang, presentation=f.presentation), prc, f"percentile_rose_{where}_{p}", f)
        cp = tr.cpf(here, p, percentile=pct, n_sectors=n_sectors, calm=calm, by="station")
        with b:
            ui.chart(tc.cpf_rose(cp, title=f"{tt('cpf', lang, pct=pct)} · {label}", lang=lang,
                                 presentation=f.presentation), cp, f"cpf_{where}_{p}", f)
        a, b = st.columns(2)
        pp = tr.polar_plot(here, p)
        with a:
            ui.chart(tc.polar_plot(pp, title=f"{tt('polar', lang)} · {label}", colour_title=y_title,
                                   presentation=f.presentation), pp, f"polar_{where}_{p}", f)
        ppc = tr.polar_plot(here, p, statistic="cpf", percentile=pct)
        with b:
            ui.chart(tc.polar_plot(ppc, title=f"{tt('polar_cpf', lang)} · {label}", colour_title="P",
                                   presentation=f.presentation, cpf=True), ppc, f"polar_cpf_{where}_{p}", f)

# ---- who affects whom
st.subheader(tt("who", lang))
st.caption(tt("who_note", lang))
present = set(units["station"])
pairs = region.neighbour_pairs()
pairs = pairs[pairs["a"].isin(present) & pairs["b"].isin(present)]
if pairs.empty:
    st.info(tt("no_pairs", lang))
else:
    matrix = tr.transport_matrix(units, pairs, p, wind=wind if have_wind else None, sector_halfwidth=halfwidth,
                                 calm=calm, max_lag=int(max_lag), min_periods=12)
    suffix = "" if have_wind else " " + tt("unconditioned", lang)
    bounds = region.boundaries(level="jurisdiction")
    pts = tr.centroids(bounds["id"])
    a, b = st.columns([3, 2])
    with a:
        ui.chart(tc.transport_map(bounds, pts, matrix, names, title=f"{tt('map', lang)} · {y_title}{suffix}",
                                  lang=lang, presentation=f.presentation), matrix, f"transport_map_{p}", f)
    with b:
        ui.chart(tc.lag_matrix(matrix, names, title=f"{tt('matrix', lang)}{suffix}", lang=lang,
                               presentation=f.presentation), matrix, f"transport_matrix_{p}", f)
    ui.table(matrix.rename(columns={"source": "upwind"}), None, lang, names=names)

# ---- episode transport view
st.subheader(tt("episode_view", lang))
if scope == "all":
    st.info(tt("pick_episode", lang))
else:
    row = episodes[episodes["episode_id"] == scope].iloc[0]
    et = tr.episode_transport(onsets[onsets["episode_id"] == scope], wind if have_wind else None, row["start"],
                              row["end"])
    s = et.summary.iloc[0]
    if have_wind and pd.notna(s["wind_from"]):
        st.caption(tt("prevailing", lang, wd=s["wind_from"], ws=s["wind_speed"], st=s["steadiness"],
                      rho="—" if pd.isna(s["spearman"]) else f"{s['spearman']:+.2f}"))
    a, b = st.columns(2)
    with a:
        ui.chart(tc.onset_chart(et.order, names, title=tt("onset", lang), lang=lang, presentation=f.presentation),
                 et.order, f"episode_{scope}_onset", f)
    if have_wind:
        target = str(row["peak_unit"])
        att = tr.upwind_attribution(with_wind, p, target, percentile=pct, calm=calm)
        with b:
            ui.chart(tc.attribution_bars(att, names, title=tt("attribution", lang, unit=names.get(target, target)),
                                         lang=lang, presentation=f.presentation), att, f"episode_{scope}_upwind", f)

# ---- stagnation panel
if have_wind:
    st.subheader(tt("stagnation", lang))
    conc = "pm25" if "pm25" in with_wind.columns else p
    stag = tr.stagnation(with_wind, pollutant=conc, calm=calm)
    ui.chart(tc.stagnation_panel(stag, conc, names, title=tt("stagnation", lang),
                                 unit_label=pollutant_label(conc, lang, unit=True), lang=lang,
                                 presentation=f.presentation), stag, "stagnation", f)
