"""临界预警 Near-threshold warnings: what is close to a boundary now, today's remaining budget, the next
three days, the warning level in force — from regionair.warnings.desk (rules: standards.md §§2, 5)."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from regionair import ui
from regionair.core.aqi import category_colour
from regionair.core.i18n import column_label, pollutant_label, primary_label, t
from regionair.render import charts
from regionair.views.warnings import budget_advice
from regionair.warnings.schemes import list_schemes, load_scheme

f = ui.page("page_warnings")
lang = f.lang
zh = lang == "zh"
names = f.unit_names()
T = {
    "scheme": ("预警分级方案", "Warning scheme"),
    "band": ("临界带宽（IAQI，低于分级边界）", "Near band (IAQI below a boundary)"),
    "board": ("临界监视（按紧迫程度）", "Near-threshold board (most urgent first)"),
    "budget": ("今日剩余额度（日均值不超过分级边界浓度）", "Today's remaining budget (daily mean stays at or below the boundary)"),
    "levels": ("重污染天气预警等级（预报）", "Heavy-pollution warning level (forecast)"),
    "active": ("当前生效预警", "Active warnings"),
    "strip": ("未来72小时滚动24小时AQI预报", "Rolling 24-h AQI forecast, next 72 h"),
    "critical": ("临界天（预报日AQI 90–110）", "Critical days (forecast daily AQI 90–110)"),
    "running": ("今日累计日AQI（暂定）", "Today's running daily AQI (provisional)"),
    "none": ("当前没有", "Nothing at present"),
    "history": ("推送记录", "Alert history"),
    "targets": ("已配置目标：", "Targets configured: "),
    "test_send": ("发送测试消息", "Send a test message"),
    "uncertain": ("该方案的部分阈值为重构或未经核实（见技术文档《标准依据》第5节），仅供参考。",
                  "Some thresholds of this scheme are reconstructed or unverified (standards.md §5); indicative only."),
    "no_forecast": ("库中没有模式预报（Open-Meteo CAMS），预报与预警等级仅基于实测数据。",
                    "No model forecast in the store (Open-Meteo CAMS): forecast and levels use observations only."),
    "alerts": ("告警推送", "Alert delivery"),
    "alerts_help": ("在 `.streamlit/secrets.toml` 的 `[alerts]` 中配置企业微信/钉钉/Webhook/SMTP 目标后，"
                    "`python -m regionair watch` 在每次导入后评估规则并推送（同一规则、单元与等级只推送一次）。",
                    "Configure WeCom / DingTalk / webhook / SMTP targets under [alerts] in .streamlit/secrets.toml; "
                    "`python -m regionair watch` evaluates the rules after each ingest and sends each rule, unit and level once."),
}


def tt(key: str) -> str:
    return T[key][0 if zh else 1]


c1, c2 = st.columns(2)
schemes = list_schemes()
scheme = c1.selectbox(tt("scheme"), schemes, index=schemes.index("national-2024-reconstructed"), key="w_scheme",
                      format_func=lambda s: getattr(load_scheme(s), "title_zh" if zh else "title_en"))
band = c2.slider(tt("band"), 5, 30, 15, key="w_band")
report = ui.data.warnings(f.anchor, scheme=scheme, band=band)
meta = report["meta"].iloc[0]
if bool(meta["scheme_uncertain"]):
    st.caption(tt("uncertain"))
if "no model" in str(meta.get("forecast_basis", "")).lower() or report["forecast_daily"].empty:
    st.info(tt("no_forecast"))

# ---- near-threshold board
flags = report["flags"]
board = flags[flags["flag"] != "none"].copy()
board["name"] = board["id"].map(lambda i: names.get(i, i))
board["pollutant"] = board["pollutant"].map(lambda p: pollutant_label(p, lang))
board = board.sort_values(["flag", "distance"], ascending=[True, True])
st.subheader(tt("board"))
board_cols = ["scope", "name", "id", "pollutant", "iaqi", "boundary", "distance", "trend", "slope", "flag"]
board_headers = {"id": ("编码", "Code"), "iaqi": ("IAQI", "IAQI"), "trend": ("3小时变化", "3-h change"),
                 "slope": ("稳健斜率/小时", "Robust slope /h"), "flag": ("标记", "Flag"), "scope": ("层级", "Scope")}
ui.table(board, {c: board_headers.get(c, (column_label(c, "zh"), column_label(c, "en"))) for c in board_cols}, lang,
         column_config={column_label("distance", lang): st.column_config.ProgressColumn(
             min_value=0, max_value=float(band), format="%d")})

# ---- today's budget at jurisdiction scope: first one plain sentence per unit, then the numbers
st.subheader(t("advice_title", lang))
for sentence in budget_advice(report["budgets"], names, lang)["sentence"]:
    st.markdown(f"- {sentence}")
st.subheader(tt("budget"))
bud = report["budgets"]
bud = bud[(bud["scope"] == "jurisdiction") & (bud["boundary"] == 100)].copy()
if len(bud):
    bud["name"] = bud["id"].map(lambda i: names.get(i, i))
    bud["pollutant_label"] = bud["pollutant"].map(lambda p: pollutant_label(p, lang, unit=True))
    ui.table(bud.round({"mean_so_far": 1, "allowance": 1, "recent": 1, "reduction": 1, "reduction_pct": 0}), {
        "name": ("行政单元", "Jurisdiction"), "pollutant_label": ("污染物", "Pollutant"), "date": ("日期", "Day"),
        "hours_valid": ("有效小时", "Valid hours"), "mean_so_far": ("已累计均值", "Mean so far"),
        "limit": ("边界浓度 C*", "Limit C*"), "allowance": ("剩余小时允许均值", "Allowance (rest of day)"),
        "recent": ("近3小时均值", "Last 3 h mean"), "status": ("状态", "Status"),
        "reduction": ("需削减", "Reduction needed"), "reduction_pct": ("需削减 %", "Reduction %")}, lang)
    pm = bud[bud["pollutant"] == "pm25"]
    if len(pm):
        fig = go.Figure()
        fig.add_trace(go.Bar(x=pm["name"], y=pm["mean_so_far"], name="今日已累计均值" if zh else "Mean so far"))
        fig.add_trace(go.Bar(x=pm["name"], y=pm["allowance"].clip(lower=0), name="剩余小时允许均值" if zh else "Allowance"))
        fig.add_trace(go.Scatter(x=pm["name"], y=pm["limit"], mode="markers", marker=dict(symbol="line-ew-open", size=40),
                                 name="C*"))
        fig.update_layout(template=charts.template(f.presentation), barmode="group",
                          title=f"PM2.5 · {tt('budget')}", yaxis_title=pollutant_label("pm25", lang, unit=True))
        ui.chart(fig, pm, "budget_pm25", f)

# ---- running daily AQI, forecast strip and warning levels
st.subheader(tt("running"))
run = report["running_aqi"]
run = run[run["scope"] == "jurisdiction"].copy() if "scope" in run else run
if len(run):
    run["name"] = run["id"].map(lambda i: names.get(i, i))
    run["primary"] = run["primary_pollutants"].map(lambda c: primary_label(c, lang))
    ui.table(run, ["name", "date", "hours_valid", "aqi", "category", "primary", "provisional"], lang)

roll = report["rolling_aqi"]
if len(roll):
    last = roll[roll["time"] >= f.anchor - pd.Timedelta(hours=24)].copy()
    last["unit"] = last["jurisdiction"].map(lambda i: names.get(i, i))
    fig = charts.time_series(last, x="time", y="aqi", color="unit", title=tt("strip"), y_title="AQI (24 h)",
                             lang=lang, presentation=f.presentation, bands=True)
    fig.add_vline(x=f.anchor, line_dash="dash", line_color="#555")
    ui.chart(fig, last, "rolling_aqi_forecast", f)

c3, c4 = st.columns(2)
with c3:
    st.subheader(tt("levels"))
    lv = report["forecast_levels"].copy()
    if len(lv):
        lv["name"] = lv["jurisdiction"].map(lambda i: names.get(i, i))
        ui.table(lv, ["name", "level_zh" if zh else "level", "condition", "first_met", "max_aqi_24h", "lift_ok_from",
                      "uncertain"], lang)
with c4:
    st.subheader(tt("active"))
    act = report["active_warnings"]
    if len(act):
        act = act.assign(name=act["jurisdiction"].map(lambda i: names.get(i, i)))
        ui.table(act, ["name", "level_zh" if zh else "level", "since", "lift_expected", "uncertain"], lang)
    else:
        st.write(tt("none"))

st.subheader(tt("critical"))
crit = report["critical_days"]
if len(crit):
    crit = crit.assign(name=crit["jurisdiction"].map(lambda i: names.get(i, i)),
                       colour=[category_colour(a) for a in crit["aqi"]])
    ui.table(crit.drop(columns=["colour"]), None, lang, names=names)
else:
    st.write(tt("none"))

with st.expander(tt("alerts")):
    st.markdown(tt("alerts_help"))
    from regionair.pipeline.ingest import load_secrets
    from regionair.ui import auth
    from regionair.warnings.alerts import Notifier, load_targets

    state = ui.data.get_store().root / "alerts_state.json"
    history = state.with_suffix(".log.jsonl")
    if history.exists():
        st.markdown("**" + tt("history") + "**")
        ui.table(pd.read_json(history, lines=True).tail(100).iloc[::-1], None, lang, names=names)
    targets = load_targets(load_secrets())
    st.caption(tt("targets") + (", ".join(t.name for t in targets) or "—"))
    if targets and auth.require_role("admin", stop=False) and st.button(tt("test_send"),
                                                                       key="w_test_send"):
        result = Notifier(targets, state).test_send()
        auth.record("alert_test_send", ", ".join(f"{r.target}: {r.status}" for r in result.itertuples()))
        ui.table(result, None, lang)
