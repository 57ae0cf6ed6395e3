"""临界预警 Near-threshold warnings: what is close to a boundary now, today's remaining budget, the next
three days, the warning level in force — from regionair.warnings.desk (rules: standards.md §§2, 5)."""

import pandas as pd
import streamlit as st

from regionair import ui
from regionair.core import region
from regionair.core.aqi import category_colour
from regionair.core.i18n import column_label, pollutant_label, primary_label, t
from regionair.render import charts
from regionair.views.warnings import budget_advice
from regionair.warnings.schemes import list_schemes, load_scheme

f = ui.page("page_warnings")
lang = f.lang
level_col = {"zh": "level_zh", "en": "level"}[lang]  # the scheme's level names come in both languages
names = f.unit_names()


c1, c2 = st.columns(2)
schemes = list_schemes()
scheme = c1.selectbox(t("wd_scheme", lang), schemes, index=schemes.index("national-2024-reconstructed"), key="w_scheme",
                      format_func=lambda s: getattr(load_scheme(s), f"title_{lang}"))
band = c2.slider(t("wd_band", lang), 5, 30, 15, key="w_band")
report = ui.data.warnings(f.anchor, scheme=scheme, band=band, replay=f.as_of is not None)
meta = report["meta"].iloc[0]
if bool(meta["scheme_uncertain"]):
    st.caption(t("wd_uncertain", lang))
if "no model" in str(meta.get("forecast_basis", "")).lower() or report["forecast_daily"].empty:
    st.info(t("wd_no_forecast", lang))

# ---- near-threshold board
flags = report["flags"]
board = flags[flags["flag"] != "none"].copy()
station_names = dict(zip(region.stations()["code"], region.stations()[f"name_{lang}"], strict=True))
board["name"] = board["id"].map(lambda i: names.get(i, station_names.get(i, i)))
board["pollutant"] = board["pollutant"].map(lambda p: pollutant_label(p, lang))
board = board.sort_values(["flag", "distance"], ascending=[True, True])
st.subheader(t("wd_board", lang))
board_cols = ["scope", "name", "id", "pollutant", "iaqi", "boundary", "distance", "trend", "slope", "flag"]
ui.table(board, board_cols, lang,
         column_config={column_label("distance", lang): st.column_config.ProgressColumn(
             min_value=0, max_value=float(band), format="%d")})

# ---- today's budget at jurisdiction scope: first one plain sentence per unit, then the numbers
st.subheader(t("advice_title", lang))
for sentence in budget_advice(report["budgets"], names, lang)["sentence"]:
    st.markdown(f"- {sentence}")
st.subheader(t("wd_budget", lang))
bud = report["budgets"]
bud = bud[(bud["scope"] == "jurisdiction") & (bud["boundary"] == 100)].copy()
if len(bud):
    bud["name"] = bud["unit_name"] = bud["id"].map(lambda i: names.get(i, i))
    bud["pollutant_label"] = bud["pollutant"].map(lambda p: pollutant_label(p, lang, unit=True))
    ui.table(bud.round({"mean_so_far": 1, "allowance": 1, "recent": 1, "reduction": 1, "reduction_pct": 0}),
             ["unit_name", "pollutant_label", "date", "hours_valid", "mean_so_far", "limit", "allowance", "recent", "status",
              "reduction", "reduction_pct"], lang)
    pm = bud[bud["pollutant"] == "pm25"]
    if len(pm):
        fig = charts.budget_bars(pm, title=f"PM2.5 · {t('wd_budget', lang)}", lang=lang, presentation=f.presentation)
        ui.chart(fig, pm, "budget_pm25", f)

# ---- running daily AQI, forecast strip and warning levels
st.subheader(t("wd_running", lang))
run = report["running_aqi"]
run = run[run["scope"] == "jurisdiction"].copy() if "scope" in run else run
if len(run):
    run["unit_name"] = run["id"].map(lambda i: names.get(i, i))
    run["primary"] = run["primary_pollutants"].map(lambda c: primary_label(c, lang))
    ui.table(run, ["unit_name", "date", "hours_valid", "aqi", "category", "primary", "provisional"], lang)

roll = report["rolling_aqi"]
if len(roll):
    last = roll[roll["time"] >= f.anchor - pd.Timedelta(hours=24)].copy()
    last["unit"] = last["jurisdiction"].map(lambda i: names.get(i, i))
    fig = charts.time_series(last, x="time", y="aqi", color="unit", title=t("wd_strip", lang), y_title="AQI (24 h)",
                             lang=lang, presentation=f.presentation, bands=True)
    fig.add_vline(x=f.anchor, line_dash="dash", line_color="#555")
    ui.chart(fig, last, "rolling_aqi_forecast", f)

c3, c4 = st.columns(2)
with c3:
    st.subheader(t("wd_levels", lang))
    lv = report["forecast_levels"].copy()
    if len(lv):
        lv["name"] = lv["jurisdiction"].map(lambda i: names.get(i, i))
        ui.table(lv, ["name", level_col, "condition", "first_met", "max_aqi_24h", "lift_ok_from",
                      "uncertain"], lang)
with c4:
    st.subheader(t("wd_active", lang))
    act = report["active_warnings"]
    if len(act):
        act = act.assign(name=act["jurisdiction"].map(lambda i: names.get(i, i)))
        ui.table(act, ["name", level_col, "since", "lift_expected", "uncertain"], lang)
    else:
        st.write(t("wd_none", lang))

# how a city daily value is computed, one click away (HJ 663: the stations' valid daily values first)
ui.explain.expander(f, list(f.units), ui.explain.recent_days(f), key="explain")

st.subheader(t("wd_critical", lang))
crit = report["critical_days"]
if len(crit):
    crit = crit.assign(name=crit["jurisdiction"].map(lambda i: names.get(i, i)),
                       colour=[category_colour(a) for a in crit["aqi"]])
    ui.table(crit.drop(columns=["colour"]), None, lang, names=names)
else:
    st.write(t("wd_none", lang))

with st.expander(t("wd_alerts", lang)):
    st.markdown(t("wd_alerts_help", lang))
    from regionair.pipeline.ingest import load_secrets
    from regionair.ui import auth
    from regionair.warnings.alerts import Notifier, alert_paths, load_targets

    state, history = alert_paths(ui.data.get_store().root)
    if history.exists():
        st.markdown("**" + t("wd_history", lang) + "**")
        ui.table(pd.read_json(history, lines=True).tail(100).iloc[::-1], None, lang, names=names)
    targets = load_targets(load_secrets())
    st.caption(t("wd_targets", lang) + (", ".join(x.name for x in targets) or "—"))
    if targets and auth.require_role("admin", stop=False) and st.button(t("wd_test_send", lang),
                                                                       key="w_test_send"):
        result = Notifier(targets, state).test_send()
        auth.record("alert_test_send", ", ".join(f"{r.target}: {r.status}" for r in result.itertuples()))
        ui.table(result, None, lang)
