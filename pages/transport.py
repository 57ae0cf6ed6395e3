"""区域传输 Transport: wind and pollution roses, polar plots, CPF, who-affects-whom between neighbouring
jurisdictions, the transport view of an episode and the stagnation panel. Methods: docs/transport.md."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.analysis import transport as tr
from regionair.analysis.episodes import EPISODE_RULE, detect_episodes
from regionair.analysis.latest import unit_hourly
from regionair.core import region
from regionair.core.i18n import pollutant_label, t
from regionair.render import transport_charts as tc

f = ui.page("page_transport")
lang = f.lang
names = f.unit_names()
with st.expander(t("tp_limits_title", lang), expanded=False):
    st.markdown(t("tp_limits", lang))
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
episodes, onsets = detect_episodes(units, resolution="hour", **EPISODE_RULE)
scopes = ["all", *[int(e) for e in episodes["episode_id"]]]
ep_label = {int(r.episode_id): t("tp_episode_n", lang, id=int(r.episode_id), start=f"{r.start:%m-%d %H:%M}",
                                  end=f"{r.end:%m-%d %H:%M}") for r in episodes.itertuples()}
scope = st.selectbox(t("tp_scope", lang), scopes, key="tr_scope",
                     format_func=lambda s: t("tp_whole_period", lang) if s == "all" else ep_label[s])
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
    st.caption(f"{t('tp_wind_source', lang)}: {', '.join(srcs)}{credit}")
    if "constructed-demo" in srcs:
        st.warning(t("tp_constructed", lang), icon=":material/science:")
else:
    st.warning(t("tp_no_wind", lang), icon=":material/air:")

c1, c2, c3, c4, c5 = st.columns(5)
n_sectors = c1.selectbox(t("tp_sectors", lang), list(tr.SECTOR_COUNTS), index=1, key="tr_sectors")
calm = c2.number_input(t("tp_calm", lang), 0.0, 3.0, tr.CALM_MS, step=0.1, key="tr_calm")
pct = c3.number_input(t("tp_cpf_pct", lang), 50, 99, tr.CPF_PERCENTILE, step=5, key="tr_pct")
halfwidth = c4.number_input(t("tp_halfwidth", lang), 10.0, 90.0, 45.0, step=5.0, key="tr_halfwidth")
max_lag = c5.number_input(t("tp_max_lag", lang), 1, 24, 6, key="tr_maxlag")
with_wind = tr.attach_wind(units, wind)

# ---- roses, CPF and polar plots for one unit or station
if have_wind:
    st.subheader(t("tp_roses", lang))
    unit_ids = list(units["station"].unique())
    station_ids = sorted(hourly["station"].unique()) if p in hourly.columns else []
    where = st.selectbox(t("tp_location", lang), unit_ids + station_ids, key="tr_where",
                         format_func=lambda s: names.get(s, s))
    src = with_wind if where in unit_ids else tr.attach_wind(hourly[hourly["station"] == where], wind)
    here = src[src["station"] == where]
    label = names.get(where, where)
    wr = tr.wind_rose(here, n_sectors=n_sectors, calm=calm, by="station")
    if int(wr["n"].sum()) == 0:
        st.info(t("tp_too_few", lang))
    else:
        a, b = st.columns(2)
        with a:
            ui.chart(tc.rose(wr, title=f"{t('tp_wind_rose', lang)} · {label}", legend_title="m/s", lang=lang,
                             presentation=f.presentation), wr, f"wind_rose_{where}", f)
        pr = tr.pollution_rose(here, p, n_sectors=n_sectors, calm=calm, by="station")
        with b:
            ui.chart(tc.rose(pr, title=f"{t('tp_pollution_rose', lang)} · {label} · {y_title}", legend_title=y_title,
                             lang=lang, presentation=f.presentation), pr, f"pollution_rose_{where}_{p}", f)
        a, b = st.columns(2)
        prc = tr.percentile_rose(here, p, n_sectors=n_sectors, calm=calm, by="station")
        with a:
            ui.chart(tc.percentile_rose(prc, title=f"{t('tp_percentile_rose', lang)} · {label}", unit=y_title,
                                        lang=lang, presentation=f.presentation), prc, f"percentile_rose_{where}_{p}", f)
        cp = tr.cpf(here, p, percentile=pct, n_sectors=n_sectors, calm=calm, by="station")
        with b:
            ui.chart(tc.cpf_rose(cp, title=f"{t('tp_cpf', lang, pct=pct)} · {label}", lang=lang,
                                 presentation=f.presentation), cp, f"cpf_{where}_{p}", f)
        a, b = st.columns(2)
        pp = tr.polar_plot(here, p)
        with a:
            ui.chart(tc.polar_plot(pp, title=f"{t('tp_polar', lang)} · {label}", colour_title=y_title,
                                   presentation=f.presentation), pp, f"polar_{where}_{p}", f)
        ppc = tr.polar_plot(here, p, statistic="cpf", percentile=pct)
        with b:
            ui.chart(tc.polar_plot(ppc, title=f"{t('tp_polar_cpf', lang)} · {label}", colour_title="P",
                                   presentation=f.presentation, cpf=True), ppc, f"polar_cpf_{where}_{p}", f)

# ---- who affects whom
st.subheader(t("tp_who", lang))
st.caption(t("tp_who_note", lang))
present = set(units["station"])
pairs = region.neighbour_pairs()
pairs = pairs[pairs["a"].isin(present) & pairs["b"].isin(present)]
if pairs.empty:
    st.info(t("tp_no_pairs", lang))
else:
    matrix = tr.transport_matrix(units, pairs, p, wind=wind if have_wind else None, sector_halfwidth=halfwidth,
                                 calm=calm, max_lag=int(max_lag), min_periods=12)
    suffix = "" if have_wind else " " + t("tp_unconditioned", lang)
    bounds = region.boundaries(level="jurisdiction")
    pts = tr.centroids(bounds["id"])
    a, b = st.columns([3, 2])
    with a:
        ui.chart(tc.transport_map(bounds, pts, matrix, names, title=f"{t('tp_map', lang)} · {y_title}{suffix}",
                                  lang=lang, presentation=f.presentation), matrix, f"transport_map_{p}", f)
    with b:
        ui.chart(tc.lag_matrix(matrix, names, title=f"{t('tp_matrix', lang)}{suffix}", lang=lang,
                               presentation=f.presentation), matrix, f"transport_matrix_{p}", f)
    ui.table(matrix.rename(columns={"source": "upwind"}), None, lang, names=names)

# ---- episode transport view
st.subheader(t("tp_episode_view", lang))
if scope == "all":
    st.info(t("tp_pick_episode", lang))
else:
    row = episodes[episodes["episode_id"] == scope].iloc[0]
    et = tr.episode_transport(onsets[onsets["episode_id"] == scope], wind if have_wind else None, row["start"],
                              row["end"])
    s = et.summary.iloc[0]
    if have_wind and pd.notna(s["wind_from"]):
        st.caption(t("tp_prevailing", lang, wd=s["wind_from"], ws=s["wind_speed"], st=s["steadiness"],
                      rho="—" if pd.isna(s["spearman"]) else f"{s['spearman']:+.2f}"))
    a, b = st.columns(2)
    with a:
        ui.chart(tc.onset_chart(et.order, names, title=t("tp_onset", lang), lang=lang, presentation=f.presentation),
                 et.order, f"episode_{scope}_onset", f)
    if have_wind:
        target = str(row["peak_unit"])
        att = tr.upwind_attribution(with_wind, p, target, percentile=pct, calm=calm)
        with b:
            ui.chart(tc.attribution_bars(att, names, title=t("tp_attribution", lang, unit=names.get(target, target)),
                                         lang=lang, presentation=f.presentation), att, f"episode_{scope}_upwind", f)

# ---- stagnation panel
if have_wind:
    st.subheader(t("tp_stagnation", lang))
    conc = "pm25" if "pm25" in with_wind.columns else p
    stag = tr.stagnation(with_wind, pollutant=conc, calm=calm)
    ui.chart(tc.stagnation_panel(stag, conc, names, title=t("tp_stagnation", lang),
                                 unit_label=pollutant_label(conc, lang, unit=True), lang=lang,
                                 presentation=f.presentation), stag, "stagnation", f)
