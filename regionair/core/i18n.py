"""User-facing text in Chinese (default) and English. One table; pages and charts call :func:`t`."""

from __future__ import annotations

from regionair.core import standards as S
from regionair.core.nomenclature import POLLUTANT_LABELS, UNITS

LANGS = ("zh", "en")

#: Table column headers, keyed by the column's code in RegionAir's frames (one catalogue for every table the
#: pages show, so that a raw code never reaches a header). Pollutant columns come from :func:`pollutant_label`.
COLUMNS: dict[str, tuple[str, str]] = {
    "station": ("站点编码", "Station code"), "code": ("站点编码", "Station code"), "name": ("名称", "Name"),
    "name_zh": ("站点名称", "Station name"), "name_en": ("英文名称", "Name (English)"),
    "unit": ("行政单元", "Jurisdiction"), "unit_name": ("行政单元", "Jurisdiction"),
    "jurisdiction": ("行政单元", "Jurisdiction"), "district": ("所在区县", "District"),
    "polygon_district": ("坐标所在区县", "District by coordinates"),
    "polygon_jurisdiction": ("坐标所在行政单元", "Jurisdiction by coordinates"),
    "area": ("城市", "City"), "background": ("对照点", "Background station"), "agrees": ("一致", "Agrees"),
    "review_flag": ("待核事项", "To review"), "status": ("状态", "Status"), "detail": ("说明", "Detail"),
    "longitude": ("经度", "Longitude"), "latitude": ("纬度", "Latitude"), "notes": ("备注", "Notes"),
    "active_from": ("启用", "Active from"), "active_to": ("停用", "Active to"),
    "side": ("地方/兵团", "Local / XPCC"), "time": ("时间", "Time"), "date": ("日期", "Date"),
    "start": ("开始", "Start"), "end": ("结束", "End"), "since": ("生效时间", "In force since"),
    "aqi": ("AQI", "AQI"), "category": ("类别", "Category"), "level": ("级别", "Level"), "level_zh": ("级别", "Level"),
    "primary": ("首要污染物", "Primary pollutant"), "primary_pollutants": ("首要污染物", "Primary pollutant"),
    "hours": ("小时数", "Hours"), "hours_valid": ("有效小时数", "Valid hours"), "missing": ("缺测", "Missing"),
    "complete": ("数据完整", "Complete"), "valid": ("有效", "Valid"), "provisional": ("暂定值", "Provisional"),
    "edition": ("标准版本", "Standard"), "flags": ("提示", "Notes"), "source": ("来源", "Source"),
    "target": ("受影响方", "Affected unit"), "a": ("单元甲", "Unit A"), "b": ("单元乙", "Unit B"),
    "leader": ("领先方", "Leads"), "lag": ("滞后（小时）", "Lag (h)"), "r": ("相关系数 r", "Correlation r"),
    "n": ("样本小时数", "Hours used"), "r_lag0": ("同时相关系数", "r at lag 0"),
    "r_crit": ("显著性临界 r", "Critical r (95 %)"), "lag_lo": ("滞后下限（小时）", "Lag, lower (h)"),
    "lag_hi": ("滞后上限（小时）", "Lag, upper (h)"), "p_lead": ("领先概率", "Share leading"),
    "p_lag": ("落后概率", "Share lagging"), "support": ("支持度", "Support"), "ar_order": ("自回归阶数", "AR order"),
    "conditioned": ("按风向筛选", "Wind-conditioned"), "bearing": ("方位角（°）", "Bearing (°)"),
    "wind_from": ("对应风向（°）", "Wind from (°)"), "distance_km": ("距离（km）", "Distance (km)"),
    "shared_border_km": ("共同边界（km）", "Shared border (km)"), "speed_kmh": ("传输速度（km/h）", "Speed (km/h)"),
    "weight": ("权重", "Weight"), "who": ("对象", "Who"), "action": ("措施", "Action"),
    "n_primary": ("首要污染物个数", "Primary pollutants (count)"), "distance": ("距边界", "Distance"),
    "boundary": ("分级边界", "Boundary"), "condition": ("触发条件", "Condition"), "first_met": ("首次满足", "First met"),
    "max_aqi_24h": ("24小时最大AQI", "Max 24-h AQI"), "lift_ok_from": ("可解除时间", "Can be lifted from"),
    "lift_expected": ("预计解除", "Expected lift"), "uncertain": ("阈值未经核实", "Unverified threshold"),
    "episode_id": ("编号", "No."), "rank": ("先后", "Order"), "duration_h": ("持续小时", "Hours"),
    "peak_aqi": ("峰值AQI", "Peak AQI"), "peak_unit": ("峰值单元", "Peak unit"),
    "upwind": ("上游方", "Upwind unit"), "pollutant": ("污染物", "Pollutant"), "hour": ("时刻（时）", "Hour of day"), "weekday": ("星期", "Weekday"),
    "month": ("月份", "Month"),
    "id": ("编码", "Code"), "iaqi": ("IAQI", "IAQI"), "trend": ("3小时变化", "3-h change"),
    "slope": ("稳健斜率/小时", "Robust slope /h"), "flag": ("标记", "Flag"), "scope": ("层级", "Scope"),
    "pollutant_label": ("污染物", "Pollutant"), "mean_so_far": ("已累计均值", "Mean so far"),
    "limit": ("边界浓度 C*", "Limit C*"), "allowance": ("剩余小时允许均值", "Allowance (rest of day)"),
    "recent": ("近3小时均值", "Last 3 h mean"), "reduction": ("需削减", "Reduction needed"),
    "reduction_pct": ("需削减 %", "Reduction %"),
    "duration": ("持续（小时）", "Duration (h)"), "peak_time": ("峰值时间", "Peak time"),
    "units_affected": ("涉及单元", "Jurisdictions"), "n_units": ("单元数", "Units"),
    "first_100": ("首次>100", "First > 100"), "first_150": ("首次>150", "First > 150"),
    "first_200": ("首次>200", "First > 200"),
}
for _p in POLLUTANT_LABELS:
    _zh, _en = POLLUTANT_LABELS[_p]["zh"], POLLUTANT_LABELS[_p]["en"]
    COLUMNS.setdefault(f"iaqi_{_p}", (f"{_zh} 分指数", f"IAQI {_en}"))
    COLUMNS.setdefault(f"n_{_p}", (f"{_zh} 有效小时", f"{_en} valid hours"))
    COLUMNS.setdefault(f"{_p}_24h", (f"{_zh} 24小时滑动均值", f"{_en} 24-h mean"))

#: Cell values that are codes (statuses, sources, review flags …) → what a reader sees.
VALUES: dict[str, tuple[str, str]] = {
    "safe": ("安全", "Safe"), "near": ("接近边界", "Near a boundary"), "crossed": ("已越过边界", "Crossed"),
    "already exceeded": ("已超标", "Already exceeded"), "already": ("已超标", "Already exceeded"),
    "none": ("无（优）", "No primary pollutant (good)"), "missing": ("缺测", "Missing"), "agree": ("一致", "Agrees"), "disagree": ("不一致（待核）", "Disagrees (to review)"),
    "ok": ("正常", "OK"), "outside": ("不在任何区县内", "Outside every district"),
    "no-coordinates": ("无坐标", "No coordinates"), "label-polygon-mismatch": ("标注与多边形不一致", "Label and polygon disagree"),
    "cnemc-archive": ("中国环境监测总站（历史归档）", "CNEMC (archive)"),
    "cnemc-http": ("中国环境监测总站（实时）", "CNEMC (live)"), "cnemc": ("中国环境监测总站", "CNEMC"),
    "quotsoft": ("quotsoft 镜像（总站数据）", "quotsoft mirror (CNEMC data)"),
    "open-meteo": ("Open-Meteo 模式数据", "Open-Meteo model data"), "upload": ("人工上传", "Uploaded"),
    "waqi": ("WAQI", "WAQI"), "openaq": ("OpenAQ", "OpenAQ"), "hourly": ("逐时", "Hourly"), "daily": ("逐日", "Daily"),
    "station": ("站点", "Station"), "jurisdiction": ("行政单元", "Jurisdiction"), "region": ("全区域", "Region"),
    "auto": ("按日期自动", "By date"), "done": ("完成", "Done"), "failed": ("失败", "Failed"),
    "partial": ("部分完成", "Partial"), "sent": ("已发送", "Sent"), "skipped": ("未发送", "Skipped"),
    "tight": ("接近边界", "Tight"), "unknown": ("无法判断", "Unknown"),
    "cannot be valid": ("日均值将无效", "Cannot be valid"),
    "True": ("是", "Yes"), "False": ("否", "No"), "地方": ("地方", "Local"), "兵团": ("兵团", "XPCC"),
}


def column_label(code: str, lang: str = "zh") -> str:
    """Header of the column ``code`` in ``lang`` (the code itself only if the catalogue lacks it)."""
    if code in POLLUTANT_LABELS:
        return pollutant_label(code, lang, unit=True)
    pair = COLUMNS.get(code)
    return code if pair is None else pair[LANGS.index(lang) if lang in LANGS else 0]


def value_label(value, lang: str = "zh"):
    """A code-valued cell as text for a reader; other values unchanged."""
    pair = VALUES.get(str(value)) if isinstance(value, str | bool) else None
    return value if pair is None else pair[LANGS.index(lang) if lang in LANGS else 0]


#: Decimals shown per quantity (column code; pollutant codes cover their 24-h/8-h means and period values).
#: Concentrations are published as integers in µg/m³ and CO to one decimal in mg/m³ (HJ 633 §7 / CNEMC
#: practice); indices to 2 decimals (the composite index as CNEMC's monthly reports print it).
DECIMALS: dict[str, int] = {"aqi": 0, "pm25": 0, "pm10": 0, "so2": 0, "no2": 0, "o3": 0, "o3_8h": 0, "co": 1,
                            "composite_index": 2, "r": 2, "r_lag0": 2, "r_crit": 2, "p_lead": 2, "p_lag": 2,
                            "support": 2, "distance_km": 0, "shared_border_km": 0, "speed_kmh": 0, "bearing": 0,
                            "wind_from": 0, "longitude": 4, "latitude": 4}
#: How a missing value reads, everywhere.
MISSING = "—"


def decimals(code: str) -> int:
    """Decimals for a column ``code`` (see :data:`DECIMALS`); IAQI and counts are integers; otherwise 1."""
    base = code.split("_24h")[0].removeprefix("mean_")
    if code.startswith(("iaqi_", "n_")) or code in ("hours", "hours_valid", "rank"):
        return 0
    return DECIMALS.get(code, DECIMALS.get(base, 1))


def fmt_value(value, code: str = "") -> str:
    """A number as a reader sees it: the quantity's decimals, "—" when missing."""
    try:
        if value is None or value != value:  # NaN, NaT, pd.NA
            return MISSING
    except (TypeError, ValueError):  # pd.NA compares ambiguously
        return MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.{decimals(code)}f}" if abs(value) >= 10_000 else f"{value:.{decimals(code)}f}"


TEXT: dict[str, tuple[str, str]] = {
    # frame
    "app_title": ("乌—昌—石区域大气污染联防联控", "Urumqi–Changji–Shihezi joint air-quality dashboard"),
    "nav_monitor": ("监测", "Monitoring"),
    "nav_analysis": ("分析", "Analysis"),
    "nav_data": ("数据", "Data"),
    "page_overview": ("总览", "Overview"),
    "page_hourly": ("实时监测", "Hourly monitor"),
    "page_trends": ("跨界趋势", "Cross-boundary trends"),
    "page_transport": ("区域传输", "Transport"),
    "page_primary": ("首要污染物", "Primary pollutants"),
    "page_warnings": ("临界预警", "Near-threshold warnings"),
    "page_episodes": ("污染过程", "Episodes"),
    "page_rankings": ("排名与达标", "Rankings & compliance"),
    "page_data": ("数据与来源", "Data & sources"),
    "page_meeting": ("会商", "Consultation"),
    "nav_meeting": ("会商", "Consultation"),
    "language": ("语言 / Language", "语言 / Language"),
    "presentation": ("投影模式（大字体）", "Presentation mode (large fonts)"),
    "filters": ("筛选", "Filters"),
    "period": ("时段", "Period"),
    "period_24h": ("最近24小时", "Last 24 h"),
    "period_72h": ("最近72小时", "Last 72 h"),
    "period_7d": ("最近7天", "Last 7 days"),
    "period_30d": ("最近30天", "Last 30 days"),
    "period_heating": ("本采暖季", "This heating season"),
    "period_year": ("今年", "This year"),
    "period_custom": ("自定义", "Custom"),
    "start": ("开始", "Start"),
    "end": ("结束", "End"),
    "jurisdictions": ("行政单元", "Jurisdictions"),
    "stations": ("监测站点", "Stations"),
    "all_stations": ("全部站点", "All stations"),
    "pollutant": ("污染物", "Pollutant"),
    "resolution": ("时间分辨率", "Time resolution"),
    "res_hour": ("小时", "Hour"),
    "res_day": ("日", "Day"),
    "res_month": ("月", "Month"),
    "edition": ("AQI 标准版本", "AQI edition"),
    "edition_auto": ("自动（按日期）", "Auto (by date)"),
    "edition_2012": ("HJ 633-2012", "HJ 633-2012"),
    "edition_2026": ("HJ 633-2026", "HJ 633-2026"),
    "edition_in_force": ("适用标准", "Edition in force"),
    "share_link": ("复制浏览器地址即可分享当前视图（筛选条件已写入链接）。",
                   "Copy the browser address to share this exact view (filters are in the link)."),
    "side_local": ("地方", "Local government"),
    "side_corps": ("兵团", "XPCC (Corps)"),
    "region": ("全区域", "Whole region"),
    "latest_hour": ("最新时次", "Latest hour"),
    "freshness": ("数据时效", "Data freshness"),
    "fresh_ok": ("{source}：最新 {time}（{age}前）", "{source}: latest {time} ({age} ago)"),
    "stale_amber": ("{source} 数据已滞后 {age}（超过2小时）", "{source} is {age} behind (over 2 h)"),
    "stale_red": ("{source} 数据已滞后 {age}（超过6小时）", "{source} is {age} behind (over 6 h)"),
    # episodes page
    "ep_max_gap": ("合并间隔（小时）", "Merge gaps up to (h)"),
    "ep_min_duration": ("最短持续（小时）", "Minimum duration (h)"),
    "ep_primary_shift": ("首要污染物随过程的变化（各单元小时数）", "Primary pollutant through the episode (unit-hours)"),
    "ep_units": ("单元数", "Jurisdictions"),
    "ep_map_hourly": ("逐小时地图", "Map, hour by hour"),
    "onset_censored": ("数据开始时（{time}）已高于{level}", "already above {level} when the data begin ({time})"),
    "onset_censored_note": ("{units}在数据（或所选时段）开始时已处于污染中，实际进入污染的时间更早、先后无法判断，未参与排序。",
                            "{units}: already polluted when the data (or the chosen period) begin; the real onset is earlier and its order unknown, so they are not ranked."),
    # budget chart (render.charts.budget_bars)
    "synthetic_banner": ("SYNTHETIC 合成数据：本库由 bench/synthetic.py 生成，用于性能测试与界面演示，不是监测数据，不得用于任何分析、报告或发布。",
                         "SYNTHETIC data: this store was generated by bench/synthetic.py for benchmarks and screenshots; these are not measurements — never use them in any analysis, report or publication."),
    "exit_presentation": ("退出投影模式", "Leave presentation mode"),
    "pres_clock": ("数据截至 {time}（北京时间）", "Data up to {time} (Beijing time)"),
    # data page (pages/data.py)
    "dt_gaps": ("未发布/缺失的时次（数据源缺口）：{n}", "Hours not published by the source (gaps): {n}"),
    "dt_label_polygon": ("站点标注与所在行政区多边形不一致（已标记待核，不作猜测）：{codes}",
                         "Publisher label and polygon disagree (flagged for review, not guessed): {codes}"),
    "dt_new_stations": ("数据中首次出现、尚未入目录的站点（待核）：{codes}", "Stations first seen in data, not yet in the catalogue: {codes}"),
    "n_national_stations": ("国控站点数", "Stations"),
    "budget_mean_so_far": ("今日已累计均值", "Mean so far"),
    "budget_allowance": ("剩余小时允许均值", "Allowance"),
    "budget_limit": ("边界浓度 C*", "Limit C*"),
    # "as of" replay (?at=): a past hour made "now" for every page
    "replay": ("回看某一时刻", "Replay a past hour"),
    "replay_help": ("选定的时刻被各页面当作“现在”：最新值、临界提示、剩余空间、当日累计AQI、预警和当时已发布的预报。链接中的 ?at= 保存该时刻。",
                    "Every page treats the chosen hour as \"now\": latest values, near-threshold flags, remaining budget, running daily AQI, warnings and the forecasts issued by then. The link keeps it as ?at=."),
    "replay_day": ("日期", "Day"),
    "replay_hour": ("时次", "Hour"),
    "hour_ending": ("{h} 时", "{h}:00"),
    "replay_clamped": ("所选时刻 {asked} 不在库中数据范围内，已显示 {shown}。", "{asked} is outside the stored data; showing {shown}."),
    "replay_banner": ("回看模式：各页面显示截至 {time}（北京时间）已知的情况；库中最新时次为 {latest}。关闭侧栏“回看某一时刻”返回实时。",
                      "Replay: every page shows what was known at {time} (Beijing time); the latest stored hour is {latest}. Turn off \"Replay a past hour\" in the sidebar to return to live."),
    "demo_clock": ("演示数据：时段相对于库中最新时次 {time} 计算。",
                   "Sample data: periods are counted back from the store's latest hour, {time}."),
    "empty_store": ("数据库为空。请先导入数据：python -m regionair ingest --source cnemc-archive --path data/sample",
                    "The store is empty. Ingest data first: python -m regionair ingest --source cnemc-archive --path data/sample"),
    "no_data_period": ("所选时段没有数据，请调整时段或站点。", "No data in the selected period; widen the period or change stations."),
    "period_clamped": ("链接中的时段 {start} 至 {end} 超出已有数据（{first} 至 {last}），现显示 {shown}。",
                       "The link's period {start} to {end} goes beyond the data held ({first} to {last}); showing {shown}."),
    "period_outside": ("链接中的时段 {start} 至 {end} 没有数据（已有数据：{first} 至 {last}），现显示 {shown}。",
                       "The link's period {start} to {end} holds no data (data held: {first} to {last}); showing {shown}."),
    "period_too_long": ("时段最长 {days} 天，现显示最后 {days} 天：{shown}。",
                        "A period is at most {days} days; showing its last {days} days: {shown}."),
    "bad_param": ("链接中的参数 {name}={value} 无效，已使用默认值。", "The link's parameter {name}={value} is invalid; the default is used."),
    "signin_off": ("未启用登录（本地演示模式）：所有人可查看与导出。", "Sign-in is off (local demo): everyone can view and export."),
    "download_csv": ("下载数据 CSV", "Download data (CSV)"),
    "download_xlsx": ("下载数据 XLSX", "Download data (XLSX)"),
    "source_note_mixed": ("数据来源：{sources}（同一站点同一时次有多个来源时，按人工上传、总站历史归档、总站实时、镜像的顺序取一个值）",
                          "Sources: {sources} (where several hold the same station-hour, one value is taken: upload, then CNEMC archive, CNEMC live, mirror)"),
    "source_note": ("数据来源：中国环境监测总站（CNEMC）实时发布数据（未经审核）", "Source: CNEMC real-time release (provisional, unaudited)"),
    # overview
    "map_title": ("区域空气质量（最新时次）", "Regional air quality (latest hour)"),
    "kpi_title": ("各行政单元", "By jurisdiction"),
    "kpi_table": ("各行政单元明细（最新时次、较上小时、今日累计）", "Jurisdictions in detail (latest hour, change, today so far)"),
    "aqi": ("AQI", "AQI"),
    "category": ("类别", "Category"),
    "primary": ("首要污染物", "Primary pollutant"),
    "change_1h": ("较上小时", "vs previous hour"),
    "today_running": ("今日累计日AQI（暂定）", "Today's running daily AQI (provisional)"),
    "no_station": ("无国控站点", "No national station"),
    "worst_stations": ("区域最高站点", "Worst stations in the region"),
    "warnings_summary": ("预警摘要", "Warnings summary"),
    "station": ("站点", "Station"),
    "jurisdiction": ("行政单元", "Jurisdiction"),
    "side": ("地方/兵团", "Side"),
    "time": ("时间（北京时间，时段结束）", "Time (Beijing, hour-ending)"),
    "time_short": ("时间", "Time"),
    "date": ("日期", "Date"),
    "value": ("浓度", "Concentration"),
    "background": ("对照点", "Background"),
    # hourly
    "hourly_table": ("最新时次全部站点", "Every station, latest hour"),
    "auto_refresh": ("每5分钟自动刷新", "Auto-refresh every 5 min"),
    "station_detail": ("站点详情（7天）", "Station detail (7 days)"),
    "sparklines": ("近72小时 AQI", "AQI, last 72 h"),
    "flags": ("数据标记", "Data flags"),
    "missing": ("缺测", "Missing"),
    # trends
    "series": ("时间序列", "Time series"),
    "local_vs_corps": ("地方与兵团对比", "Local government vs Corps"),
    "neighbour_pairs": ("相邻单元差值", "Neighbouring pairs: difference"),
    "diurnal": ("日变化（北京时间）", "Diurnal profile (Beijing time)"),
    "solar_clock": ("按当地太阳时（约北京时间−2小时）", "Local solar time (≈ Beijing − 2 h)"),
    "weekday": ("周变化", "Weekday profile"),
    "monthly": ("月变化", "Monthly profile"),
    # near-threshold advice, one sentence per jurisdiction (regionair.views.warnings)
    "advice_title": ("今日研判（每个行政单元一句话）", "Today, in one sentence per jurisdiction"),
    "advice_done_ok": ("{unit}：今日数据已完整，{pollutant} 日均值 {mean} {u}，未超过 AQI {boundary} 对应的 {limit} {u}。",
                       "{unit}: the day is complete; daily {pollutant} {mean} {u}, within {limit} {u} (AQI {boundary})."),
    "advice_done_over": ("{unit}：今日数据已完整，{pollutant} 日均值 {mean} {u}，已超过 AQI {boundary} 对应的 {limit} {u}。",
                         "{unit}: the day is complete; daily {pollutant} {mean} {u}, above {limit} {u} (AQI {boundary})."),
    "advice_exceeded": ("{unit}：{pollutant} 今日已累计均值 {mean} {u}，剩余 {r} 小时无论多低，日均值都将超过 {limit} {u}"
                        "（AQI {boundary}）。",
                        "{unit}: {pollutant} has averaged {mean} {u} today; however low the remaining {r} h, the daily "
                        "mean will exceed {limit} {u} (AQI {boundary})."),
    "advice_tight": ("{unit}：{pollutant} 接近边界——今日剩余 {r} 小时平均须不高于 {allow} {u}（近3小时 {recent} {u}，"
                     "需下降约 {pct}%），日均值才能保持在 AQI {boundary} 以内。",
                     "{unit}: {pollutant} is close — the remaining {r} h must average at most {allow} {u} (last 3 h: "
                     "{recent} {u}, about {pct} % lower) to keep the day within AQI {boundary}."),
    "advice_safe": ("{unit}：{pollutant} 今日剩余 {r} 小时平均不高于 {allow} {u} 即可保持在 AQI {boundary} 以内"
                    "（近3小时 {recent} {u}）。",
                    "{unit}: {pollutant} stays within AQI {boundary} if the remaining {r} h average at most {allow} {u} "
                    "(last 3 h: {recent} {u})."),
    "advice_invalid": ("{unit}：{pollutant} 今日有效小时将不足20个，日均值无效（GB 3095 表4）。",
                       "{unit}: {pollutant} cannot reach 20 valid hours today; no valid daily mean (GB 3095 Table 4)."),
    "advice_unknown": ("{unit}：{pollutant} 近3小时没有有效数据，暂无法研判。",
                       "{unit}: no valid {pollutant} data in the last 3 h; no judgement possible."),
    "profile_short": ("{what}需要至少 {need} 天的数据，所选时段只有 {have} 天：请选择更长的时段。",
                      "{what} needs at least {need} days of data; the period holds {have}: choose a longer period."),
    "calendar": ("日历图（日AQI）", "Calendar (daily AQI)"),
    "correlation": ("小时序列相关系数", "Correlation of hourly series"),
    "lead_lag": ("超前/滞后（互相关峰值，小时）", "Lead/lag (cross-correlation peak, hours)"),
    # primary
    "primary_share": ("首要污染物占比", "Share as primary pollutant"),
    "exceedance_days": ("超标天数（按污染物）", "Exceedance days by pollutant"),
    "ties": ("并列首要污染物时次", "Hours with tied primary pollutants"),
    # episodes
    "episodes": ("污染过程", "Pollution episodes"),
    "onset": ("各单元进入污染的先后", "Onset order by jurisdiction"),
    "threshold": ("阈值 AQI", "AQI threshold"),
    # rankings
    "composite": ("综合指数排名", "Composite index ranking"),
    "good_share": ("优良天数比例 %", "Share of good days %"),
    "capture": ("数据获取率 %", "Data capture %"),
    "invalid_stat": ("数据不足，统计结果无效", "Too few valid days: statistic not valid"),
    # data
    "sources": ("数据来源与时效", "Sources and freshness"),
    "ingest_log": ("导入日志", "Ingest log"),
    "coverage": ("数据完整性（站点×日有效小时数）", "Coverage (valid hours per station-day)"),
    "catalogue": ("站点目录", "Station catalogue"),
    "upload": ("上传数据", "Upload data"),
    "downloads": ("下载规范化数据", "Download canonical data"),
    # 会商 page (pages/meeting.py)
    "mt_new": ("新建会商快照", "New meeting snapshot"),
    "mt_cutoff": ("数据截止时间 T（北京时间）", "Data cut-off T (Beijing)"),
    "mt_hours_back": ("回看时长（小时）", "Look-back (hours)"),
    "mt_mtitle": ("会商名称", "Meeting name"),
    "mt_create": ("冻结数据并生成链接", "Freeze data and create the link"),
    "mt_saved": ("已保存的快照", "Saved snapshots"),
    "mt_open": ("打开", "Open"),
    "mt_permalink": ("会商链接（所有参会人员看到相同数据）", "Meeting link (everyone sees the same numbers)"),
    "mt_frozen": ("数据截至 {t}，冻结于 {f}；其后入库或修订的数据不影响本页数字。", "Data up to {t}, frozen at {f}; later ingests and revisions do not change these numbers."),
    "mt_newer": ("库中已有 T 之后的新数据（最新 {t}），本页仍显示冻结时的数据。", "Newer hours have arrived (latest {t}); this page still shows the frozen data."),
    "mt_prev": ("上一项", "Previous"),
    "mt_next": ("下一项", "Next"),
    "mt_agenda": ("议程", "Agenda"),
    "mt_big": ("大字体投影", "Large fonts"),
    "mt_log": ("会商纪要", "Decision log"),
    "mt_date": ("会商日期", "Meeting date"),
    "mt_participants": ("参会单位", "Participants (units)"),
    "mt_items": ("会商议题（每行一项）", "Items discussed (one per line)"),
    "mt_save_minutes": ("保存纪要", "Save minutes"),
    "mt_actions": ("商定事项", "Agreed actions"),
    "mt_item": ("议题", "Item"),
    "mt_action": ("事项内容", "Action"),
    "mt_responsible": ("责任单位", "Responsible unit"),
    "mt_cooperating": ("配合单位", "Cooperating units"),
    "mt_deadline": ("完成时限", "Deadline"),
    "mt_add_action": ("添加事项", "Add action"),
    "mt_status": ("进展", "Status"),
    "mt_update": ("更新进展", "Update status"),
    "mt_note": ("备注", "Note"),
    "mt_measures": ("管控措施", "Control measures"),
    "mt_jur": ("行政单元", "Jurisdiction"),
    "mt_m_start": ("开始", "Start"),
    "mt_m_end": ("结束", "End"),
    "mt_kind": ("措施类型", "Type"),
    "mt_unit": ("实施单位", "Implementing unit"),
    "mt_desc": ("措施内容", "Description"),
    "mt_add_measure": ("登记措施", "Log measure"),
    "mt_before_after": ("措施前后对比（相同时次）", "Before/after (same hours)"),
    "mt_briefing": ("会商简报", "Briefing"),
    "mt_dl": ("下载简报（{fmt}）", "Download briefing ({fmt})"),
    "mt_none": ("暂无", "Nothing yet"),
    "mt_hour": ("时", "Hour"),
    "mt_bad_snapshot": ("链接中的快照无效：{e}", "The snapshot in the link is not valid: {e}"),
    "mt_no_period_data": ("快照时段内没有数据。", "No data in the snapshot's period."),
    # transport page (pages/transport.py)
    "tp_page_transport": ("区域传输", "Transport"),
    "tp_limits_title": ("这些图能说明什么、不能说明什么", "What these views can and cannot show"),
    "tp_limits": ("风向条件下的浓度统计和滞后相关只说明**共同变化的方式是否与输送一致**：风从甲吹向乙时，乙的浓度变化是否滞后于甲。它们**不是来源解析**——不能给出乙的污染中有多少来自甲。共同的天气过程（静稳、逆温、降温）会让相邻单元同时升高；小时序列已做差分和预白化以减少伪相关，但相关仍不等于因果。风数据为模型格点值（Open-Meteo），代表性点与站点之间可有数公里偏差；山谷风和静风时风向意义有限。方法见技术文档《区域传输分析方法》（`docs/transport.md`）。", "Wind-conditioned statistics and lagged correlation show only whether **co-variation is consistent with transport**: whether, with the wind blowing from A to B, changes at B follow changes at A. They are **not source apportionment** — they do not say how much of B's pollution comes from A. Shared weather (stagnation, inversions, cold spells) raises neighbours together; the hourly series are differenced and pre-whitened to limit spurious correlation, but correlation is still not causation. Wind is gridded model data (Open-Meteo) at one representative point per jurisdiction, a few km from the stations; in valley winds and calms the direction means little. Methods: docs/transport.md."),
    "tp_no_wind": ("数据库中没有该时段的风数据：下面只显示不分风向的滞后相关。导入风数据：`python -m regionair ingest --source open-meteo`，或演示用 `python scripts/load_recorded_weather.py`。", "No wind data in the store for this period: only the lead/lag without wind conditioning is shown. Load wind with `python -m regionair ingest --source open-meteo`, or for the demo `python scripts/load_recorded_weather.py`."),
    "tp_constructed": ("注意：风数据含为演示构造的数据（来源标记 `constructed-demo`），并非观测或模式下载值。", "Note: wind source includes 'constructed-demo' — constructed for the demo, not observed or downloaded model data."),
    "tp_wind_source": ("风数据来源", "Wind source"),
    "tp_scope": ("范围", "Scope"),
    "tp_whole_period": ("整个时段", "Whole period"),
    "tp_episode_n": ("污染过程 {id}：{start} – {end}", "Episode {id}: {start} – {end}"),
    "tp_location": ("站点/单元（风玫瑰）", "Unit / station (roses)"),
    "tp_sectors": ("风向扇区数", "Wind sectors"),
    "tp_calm": ("静风阈值 [m/s]", "Calm threshold [m/s]"),
    "tp_cpf_pct": ("CPF 百分位", "CPF percentile"),
    "tp_halfwidth": ("风向条件半宽 [°]", "Wind condition half-width [°]"),
    "tp_max_lag": ("最大滞后 [h]", "Max lag [h]"),
    "tp_roses": ("风玫瑰与污染玫瑰", "Wind and pollution roses"),
    "tp_wind_rose": ("风玫瑰", "Wind rose"),
    "tp_pollution_rose": ("污染玫瑰", "Pollution rose"),
    "tp_percentile_rose": ("百分位玫瑰", "Percentile rose"),
    "tp_cpf": ("条件概率 CPF（≥ P{pct}）", "Conditional probability CPF (≥ P{pct})"),
    "tp_polar": ("双变量极坐标图（风速 × 风向）", "Bivariate polar plot (speed × direction)"),
    "tp_polar_cpf": ("双变量条件概率 CBPF", "Conditional bivariate probability (CBPF)"),
    "tp_speed": ("风速 m/s", "Speed m/s"),
    "tp_who": ("谁影响谁：相邻单元的滞后相关（按风向条件）", "Who affects whom: lead/lag between neighbours (wind-conditioned)"),
    "tp_who_note": ("箭头：风从上游吹向下游时，下游浓度变化滞后≥1小时且显著，且在块自助法重抽样中占比≥50%；宽度 = 支持度 × r。矩阵中的数字为峰值滞后和支持度。", "Arrow: with the wind blowing from source to target, the target's changes follow by ≥ 1 h, significantly, in ≥ 50 % of block-bootstrap replicates; width = support × r. Matrix cells: peak lag and support."),
    "tp_map": ("传输关系图", "Transport graph"),
    "tp_matrix": ("滞后/方向矩阵", "Lag / direction matrix"),
    "tp_unconditioned": ("（未按风向条件）", "(not wind-conditioned)"),
    "tp_episode_view": ("污染过程的传输视图", "Episode transport view"),
    "tp_onset": ("各单元开始时间与主导风向", "Onset order against the prevailing wind"),
    "tp_prevailing": ("主导风（矢量平均）来自 {wd:.0f}°，{ws:.1f} m/s，稳定度 {st:.2f}；开始时间与顺风位置的秩相关 {rho}", "Prevailing (vector-mean) wind from {wd:.0f}°, {ws:.1f} m/s, steadiness {st:.2f}; rank correlation of onset with downwind position {rho}"),
    "tp_attribution": ("上风向归因：{unit} 高值小时的风向来源", "Upwind attribution: wind origin of {unit}'s high hours"),
    "tp_stagnation": ("静稳指标（采暖季请在侧栏选“本采暖季”）", "Stagnation (choose 'This heating season' in the sidebar)"),
    "tp_pick_episode": ("选择一个污染过程以显示传输视图。", "Pick an episode to see its transport view."),
    "tp_no_pairs": ("所选单元之间没有相邻对。", "No neighbouring pairs among the selected units."),
    "tp_too_few": ("有风数据的小时太少，无法绘制。", "Too few hours with wind to draw this."),
    # warnings page (pages/warnings.py)
    "wd_scheme": ("预警分级方案", "Warning scheme"),
    "wd_band": ("临界带宽（IAQI，低于分级边界）", "Near band (IAQI below a boundary)"),
    "wd_board": ("临界监视（按紧迫程度）", "Near-threshold board (most urgent first)"),
    "wd_budget": ("今日剩余额度（日均值不超过分级边界浓度）", "Today's remaining budget (daily mean stays at or below the boundary)"),
    "wd_levels": ("重污染天气预警等级（预报）", "Heavy-pollution warning level (forecast)"),
    "wd_active": ("当前生效预警", "Active warnings"),
    "wd_strip": ("未来72小时滚动24小时AQI预报", "Rolling 24-h AQI forecast, next 72 h"),
    "wd_critical": ("临界天（预报日AQI 90–110）", "Critical days (forecast daily AQI 90–110)"),
    "wd_running": ("今日累计日AQI（暂定）", "Today's running daily AQI (provisional)"),
    "wd_none": ("当前没有", "Nothing at present"),
    "wd_history": ("推送记录", "Alert history"),
    "wd_targets": ("已配置目标：", "Targets configured: "),
    "wd_test_send": ("发送测试消息", "Send a test message"),
    "wd_uncertain": ("该方案的部分阈值为重构或未经核实（见技术文档《标准依据》第5节），仅供参考。", "Some thresholds of this scheme are reconstructed or unverified (standards.md §5); indicative only."),
    "wd_no_forecast": ("库中没有模式预报（Open-Meteo CAMS），预报与预警等级仅基于实测数据。", "No model forecast in the store (Open-Meteo CAMS): forecast and levels use observations only."),
    "wd_alerts": ("告警推送", "Alert delivery"),
    "wd_alerts_help": ("在 `.streamlit/secrets.toml` 的 `[alerts]` 中配置企业微信/钉钉/Webhook/SMTP 目标后，`python -m regionair watch` 在每次导入后评估规则并推送（同一规则、单元与等级只推送一次）。", "Configure WeCom / DingTalk / webhook / SMTP targets under [alerts] in .streamlit/secrets.toml; `python -m regionair watch` evaluates the rules after each ingest and sends each rule, unit and level once."),
    # words of charts and pages that were inline zh/en branches
    "language_zh": ("中文", "中文"),
    "language_en": ("English", "English"),
    "n_hours": ("{n} 小时", "{n} h"),
    "n_days": ("{n} 天", "{n} days"),
    "clause_sep": ("；", "; "),
    "tc_calm_pct": ("静风 {pct}%", "calm {pct}%"),
    "tc_calm_hours": ("静风 {n} 小时", "calm {n} h"),
    "tc_overall_share": ("总体比例", "overall share"),
    "tc_onset_after_first": ("开始时间（首个单元后小时数）", "onset [h after the first unit]"),
    "tc_calm": ("静风", "calm"),
    "tc_other_direction": ("其他方向", "other"),
    "tc_high_hours": ("高值小时", "high hours"),
    "tc_all_hours": ("全部小时", "all hours"),
    "tc_calm_low_wind": ("静风/弱风 %", "calm / low wind %"),
    "tc_blh": ("边界层高度 m", "BLH m"),
    "tc_downwind_axis": ("顺风方向位置 [km]（上游 ← → 下游）", "position along the wind [km] (upwind ← → downwind)"),
    "tc_lag_axis": ("滞后 [h]（正 = 上游方领先）", "lag [h] (positive = source leads)"),
    "composite_basis": ("综合指数口径", "Composite index basis"),
    "weekday_initials": ("一二三四五六日", "MTWTFSS"),
    "count_near": ("临界（接近边界）", "Near a boundary"),
    "count_crossed": ("本小时越过边界", "Crossed this hour"),
    "count_active": ("生效的重污染预警", "Active heavy-pollution warnings"),
    # briefing (render/report.py)
    "rp_title": ("乌—昌—石区域环境空气质量会商简报", "Urumqi–Changji–Shihezi regional air-quality briefing"),
    "rp_issuer": ("（发文单位）", "[Issuing unit]"),
    "rp_number": ("第（ ）期", "No. ( )"),
    "rp_draft": ("（征求意见稿，数据未经审核）", "(Draft for comment — provisional, unaudited data)"),
    "rp_fmt_day": ("{y}年{m}月{d}日", "{d} {month} {y}"),
    "rp_fmt_time": ("{m}月{d}日{hh}时", "{dd} {mon} {hm}"),
    "rp_whole_region": ("乌—昌—石区域", "Whole region"),
    "rp_side_local": ("地方", "Local government"),
    "rp_side_corps": ("兵团", "XPCC (Corps)"),
    "rp_figure_footer": ("数据来源：中国环境监测总站实时发布数据（未经审核） · {period} (UTC+8) · AQI标准: {editions}", "Source: CNEMC real-time release (provisional) · {period} (UTC+8) · AQI edition: {editions}"),
    "rp_with_unit": ("{text}（{unit}）", "{text} ({unit})"),
    "rp_unit_hours_n": ("小时数", "hours"),
    "rp_unit_days_n": ("天数", "days"),
    "rp_over_50": ("AQI>50的{unit}", "AQI>50 {unit}"),
    "rp_note_rank": ("注：排名按综合指数由低到高（1为最好），仅在各单元间排名；“—”表示无数据。", "Rank by composite index, lowest = 1 (best), among jurisdictions; '—' = no data."),
    "rp_note_tied": ("注：并列首要污染物分别计入，合计可能超过100%。", "Tied primary pollutants count for each, so a row may exceed 100 %."),
    "rp_note_near": ("注：临界小时数为小时AQI距类别上限（100、150、200、300）不超过{band}的小时数；预警为按观测数据回放。", "Near-threshold hours: hourly AQI within {band} below a category boundary (100, 150, 200, 300). Warnings replayed from observations."),
    "rp_in_brackets": ("（{text}）", "({text})"),
    "rp_numbered": ("（{n}）{text}", "{n}. {text}"),
    "rp_labelled": ("{label}：{text}", "{label}: {text}"),
    "rp_day_same_year": ("{m}月{d}日", "{day}"),
    "rp_period_span": ("{start}至{end}", "{start} to {end}"),
    "rp_list_sep": ("、", ", "),
    "rp_arrow": ("→", " → "),
    "rp_unit_at": ("{unit}（{time}）", "{unit} ({time})"),
    "rp_higher": ("高", "higher"),
    "rp_lower": ("低", "lower"),
    "rp_unit_hours": ("小时", "hours"),
    "rp_unit_days": ("天", "days"),
    "rp_p_summary": ("{period}，乌—昌—石区域PM2.5平均浓度为{pm25}微克/立方米，PM10平均浓度为{pm10}微克/立方米；有效天数{days}天，其中优良天数比例为{good}%，重度及以上污染{heavy}天，综合指数为{ci}。", "From {period}, the region's mean PM2.5 was {pm25} µg/m³ and PM10 {pm10} µg/m³; of {days} valid days, {good} % were good and {heavy} heavily polluted or worse; composite index {ci}."),
    "rp_p_best_worst": ("各单元中，综合指数最低（相对较好）的是{best}，最高的是{worst}。", " Best composite index: {best}; worst: {worst}."),
    "rp_p_yoy": ("与上年同期相比，区域综合指数变化{ci}%，PM2.5浓度变化{pm25}%。", " Compared with the same period last year the composite index changed by {ci} % and PM2.5 by {pm25} %."),
    "rp_p_sides": ("地方所属单元PM2.5平均浓度为{local}微克/立方米，兵团所属单元为{corps}微克/立方米，兵团较地方{direction}{diff}%；优良天数比例分别为{good_local}%和{good_corps}%。", "Mean PM2.5 was {local} µg/m³ in local-government units and {corps} µg/m³ in Corps units ({signed} %); good-day shares {good_local} % and {good_corps} %."),
    "rp_p_episode": ("时段内共识别污染过程{n}次。第1次过程自{start}至{end}，持续{hours}小时，峰值AQI为{peak}（{unit}，{peak_time}），首要污染物为{primary}；各单元进入污染的先后为：{order}。", "{n} episode(s) in the period. The first ran from {start} to {end} ({hours} h), peak AQI {peak} ({unit}, {peak_time}), primary pollutant {primary}; onset order: {order}."),
    "rp_p_episode_censored": ("注：该过程在统计时段开始时已在进行，进入污染时间按时段起点计，实际起始时间更早。", "Note: this episode was already under way when the period began; onset times are clipped to the start of the period."),
    "rp_p_primary": ("按{unit}统计（AQI>50的{unit}），区域首要污染物占比：{shares}。", "Counted over {unit} with AQI > 50, the region's primary pollutant shares were: {shares}."),
    "rp_p_warnings": ("时段内各单元合计临界天（日AQI {lo}–{hi}）{critical}个；按观测数据回放，预警启动或升级{started}次（回放结果仅供参考，以各地实际发布为准）。", "{critical} near-threshold unit-days (daily AQI {lo}–{hi}); replaying the warning scheme on observations gives {started} warning starts/upgrades (indicative only — the warnings actually issued are those published by each jurisdiction)."),
    "rp_c_provisional": ("数据为中国环境监测总站实时发布的国控站点小时数据，未经审核（暂定数据），可能被修订；正式评价以审核后数据为准。", "Hourly data of the national network as released in real time by CNEMC: provisional, unaudited and subject to revision; official assessments use validated data."),
    "rp_c_editions": ("AQI按{editions}计算（按自然日确定适用版本）；各单元日均值为所辖评价站点（不含对照点）有效日均值的算术平均（HJ 663）。", "AQI per {editions} (edition chosen by natural day); a unit's daily values are the arithmetic mean of its evaluation stations' valid daily values (HJ 663; background stations excluded)."),
    "rp_onset_already": ("{units}在时段开始时已处于污染中", "{units} already polluted when the period began"),
    "rp_onset_then": ("{already}，其后依次为{ordered}", "{already}; then {ordered}"),
    "rp_c_composite": ("综合指数口径：{basis}；为所选时段评价结果，不代替年度考核排名。", "Composite index: {basis}; an evaluation over the selected period, not the official annual ranking."),
    "rp_c_too_few_days": ("{units}的有效天数不足（GB 3095表4按月比例要求），相关统计仅供参考。", "Too few valid days for a valid statistic (GB 3095 Table 4, pro rata per month): {units}."),
    "rp_c_no_previous": ("上年同期无数据，同比变化未计算。", "No data for the same period last year: changes not computed."),
    "rp_c_no_station": ("{units}无国控评价站点，未列入统计表。", "No national evaluation station (not in the tables): {units}."),
    "rp_c_replayed": ("预警事件为按现行预警方案对观测数据的回放，不是实际发布记录。", "Warning events replay the warning scheme on observations; they are not the record of warnings issued."),
    "rp_c_snapshot": ("会商快照 {id}：数据截至{cutoff}，于{frozen}冻结；其后入库或修订的数据未计入。", "Meeting snapshot {id}: data up to {cutoff}, frozen at {frozen}; later ingests and revisions are not included."),
    "rp_c_version": ("数据版本：库版本 {store}，数据版本 {data}。", "Data version: store {store}, data {data}."),
    "rp_sec_summary": ("一、总体情况", "1. Summary of the period"),
    "rp_sec_local_vs_corps": ("二、地方与兵团对比", "2. Local government vs XPCC (Corps)"),
    "rp_sec_episodes": ("三、污染过程", "3. Pollution episodes"),
    "rp_sec_primary": ("四、首要污染物", "4. Primary pollutants"),
    "rp_sec_warnings": ("五、临界天与预警", "5. Near-threshold days and warnings"),
    "rp_sec_data_quality": ("六、数据完整性与说明", "6. Data completeness and caveats"),
    "rp_sec_figures": ("七、附图", "7. Figures"),
    "rp_sec_minutes": ("八、会商纪要", "8. Meeting minutes"),
    "rp_unit": ("单元", "Unit"),
    "rp_days": ("有效天数", "Valid days"),
    "rp_pm25": ("PM2.5（µg/m³）", "PM2.5 (µg/m³)"),
    "rp_pm10": ("PM10（µg/m³）", "PM10 (µg/m³)"),
    "rp_good": ("优良天数比例（%）", "Good days (%)"),
    "rp_ci": ("综合指数", "Composite index"),
    "rp_rank": ("排名", "Rank"),
    "rp_ci_yoy": ("综合指数同比（%）", "Composite index vs last year (%)"),
    "rp_pm25_yoy": ("PM2.5同比（%）", "PM2.5 vs last year (%)"),
    "rp_exceed": ("超标天数", "Days AQI>100"),
    "rp_heavy": ("重度及以上天数", "Days AQI>200"),
    "rp_tab_indicators": ("表1 各单元主要指标", "Table 1. Main indicators by unit"),
    "rp_tab_category_days": ("表2 各单元各级别天数", "Table 2. Days by AQI category"),
    "rp_tab_local_vs_corps": ("表3 地方与兵团对比", "Table 3. Local government vs Corps"),
    "rp_tab_episodes": ("表4 污染过程", "Table 4. Episodes"),
    "rp_tab_primary_shares": ("表5 首要污染物占比（%）", "Table 5. Share as primary pollutant (%)"),
    "rp_tab_near_threshold": ("表6 临界天与预警", "Table 6. Near-threshold days and warnings"),
    "rp_tab_warning_events": ("表7 预警事件（按观测回放）", "Table 7. Warning events (replayed from observations)"),
    "rp_tab_completeness": ("表8 数据完整性", "Table 8. Data completeness"),
    "rp_tab_actions": ("表9 商定事项", "Table 9. Agreed actions"),
    "rp_f_map": ("区域空气质量（{day} 日AQI）", "Regional air quality (daily AQI, {day})"),
    "rp_f_trend": ("各单元AQI变化", "AQI by unit"),
    "rp_f_cal": ("各单元日AQI日历", "Daily AQI calendar by unit"),
    "rp_f_primary": ("各单元首要污染物占比", "Primary pollutant shares by unit"),
    "rp_episode": ("编号", "No."),
    "rp_span": ("起止时间", "Period"),
    "rp_hours": ("持续（小时）", "Duration (h)"),
    "rp_peak": ("峰值AQI", "Peak AQI"),
    "rp_peak_unit": ("峰值单元", "Peak unit"),
    "rp_primary": ("首要污染物", "Primary pollutant"),
    "rp_onset": ("进入污染先后（AQI>100）", "Onset order (AQI > 100)"),
    "rp_critical_days": ("临界天数（日AQI 90–110）", "Near-threshold days (daily AQI 90–110)"),
    "rp_near_hours": ("临界小时数", "Near-threshold hours"),
    "rp_warn_events": ("预警启动/升级次数", "Warnings started/upgraded"),
    "rp_max_state": ("最高预警级别", "Highest level"),
    "rp_time": ("时间", "Time"),
    "rp_event": ("事件", "Event"),
    "rp_level": ("级别", "Level"),
    "rp_stations": ("评价站点数", "Stations"),
    "rp_capture": ("PM2.5小时数据获取率（%）", "PM2.5 hourly capture (%)"),
    "rp_valid_stat": ("统计有效性", "Statistic valid"),
    "rp_valid_yes": ("有效", "valid"),
    "rp_valid_no": ("不足", "insufficient"),
    "rp_region": ("全区域", "Whole region"),
    "rp_item": ("议题", "Item"),
    "rp_action": ("商定事项", "Action"),
    "rp_responsible": ("责任单位", "Responsible unit"),
    "rp_cooperating": ("配合单位", "Cooperating units"),
    "rp_deadline": ("完成时限", "Deadline"),
    "rp_status": ("进展", "Status"),
    "rp_participants": ("参会单位", "Participants"),
    "rp_meeting_date": ("会商日期", "Meeting date"),
    "rp_items": ("会商议题", "Items discussed"),
    "rp_none": ("无", "None"),
    "rp_no_episode": ("所选时段内未识别出污染过程（任一单元小时AQI>100持续6小时以上）。", "No episode in the period (no unit with hourly AQI > 100 for 6 h or more)."),
    "rp_no_events": ("所选时段内无预警事件。", "No warning events in the period."),
    # sign-in (branch signin: regionair/ui/auth.py)
    "auth_off": ("未启用登录（本地演示模式）：所有访问者均为“{role}”，可查看与导出。",
                 "Sign-in is off (local demo): every visitor is '{role}' and can view and export."),
    "auth_off_page": ("本地演示模式：未配置登录，所有访问者均为“{role}”。对外使用前请配置登录（见 README“登录与角色”）。",
                      "Local demo: no sign-in is configured, every visitor is '{role}'. Configure sign-in before others "
                      "use it (README, 'Sign-in and roles')."),
    "auth_signed_in": ("已登录：{name}（{role}）", "Signed in: {name} ({role})"),
    "auth_sign_in": ("登录", "Sign in"),
    "auth_sign_in_with": ("通过 {provider} 登录", "Sign in with {provider}"),
    "auth_sign_out": ("退出登录", "Sign out"),
    "auth_user": ("用户名", "User name"),
    "auth_password": ("密码", "Password"),
    "auth_bad_login": ("用户名或密码错误。", "Wrong user name or password."),
    "auth_locked": ("登录失败次数过多，请在 {seconds} 秒后再试。",
                    "Too many failed sign-ins: try again in {seconds} s."),
    "auth_need_role": ("此功能需要“{role}”权限（当前：{have}）。", "This needs the '{role}' role (you have: {have})."),
    "auth_need_login": ("请先登录。", "Please sign in first."),
    "auth_audit": ("审计日志", "Audit log"),
    "auth_config_error": ("登录配置有误，应用已停止（不会以未登录或演示模式继续）。请修正后刷新页面：",
                          "The sign-in configuration is wrong, so the app has stopped (it never falls back to no "
                          "sign-in or the demo). Fix it and reload:"),
    "auth_no_accounts": ("尚无本地账户：管理员请在服务器上运行 python -m regionair user add 用户名 --role admin。",
                         "No local accounts yet: on the server, run python -m regionair user add NAME --role admin."),
    "auth_revoked": ("您的账户已被删除或密码已更改，请重新登录。",
                     "Your account was removed or its password changed: please sign in again."),
    "auth_no_access": ("{name} 在本系统没有访问权限，请联系管理员。", "{name} has no access here: ask an administrator."),
    "auth_no_export": ("导出需要“{role}”权限。", "Exports need the '{role}' role."),
    "auth_role_viewer": ("查看者", "viewer"),
    "auth_role_analyst": ("分析员", "analyst"),
    "auth_role_admin": ("管理员", "admin"),
    # damaged store files (branch signin: regionair/store/__init__.py, ui.damage_banner)
    "store_damaged": ("部分数据文件已损坏，已隔离并暂不显示：{what}。其余数据正常。管理员请重新导入这些月份"
                      "（python -m regionair store check --repair，然后 ingest）。",
                      "Some store files are damaged and were set aside; these data are not shown: {what}. "
                      "Everything else is unaffected. An administrator can restore them by re-ingesting those "
                      "months (python -m regionair store check --repair, then ingest)."),
    "damaged_part": ("{source} {month}（{kind}）", "{source} {month} ({kind})"),
    "damaged_records": ("日志与记录表", "log and record tables"),
    "damaged_kind_hourly": ("监测数据", "measurements"),
    "damaged_kind_revisions": ("修订历史", "revision history"),
    "damaged_kind_model_aq": ("模式空气质量", "modelled air quality"),
    "damaged_kind_weather": ("气象数据", "weather"),
    "damaged_kind_gaps": ("缺测记录", "gap records"),
    # --- plausibility branch: refused values and rows (regionair.sources.plausibility), upload page, freshness
    "refused_above_range": ("超出物理范围", "Outside the physical range"),
    "refused_negative": ("负值", "Negative value"),
    "refused_non_finite": ("非有限数值（如 inf）", "Not a finite number"),
    "refused_not_number": ("不是数值", "Not a number"),
    "refused_future": ("时间晚于当前时刻", "Time in the future"),
    "refused_truncated": ("行不完整（字段少于表头）", "Truncated row (fewer fields than the header)"),
    "refused_formula": ("电子表格公式", "Spreadsheet formula"),
    "refused_bad_time": ("时间无法识别", "Time not understood"),
    "refused_off_hour": ("时间不在整点", "Time not on the hour"),
    "refused_no_station": ("缺少站点编码", "No station code"),
    "refused_conflict": ("重复记录数值矛盾", "Duplicate with conflicting values"),
    "upload_refused_title": ("拒收的数值与行（不会导入）", "Refused values and rows (not stored)"),
    "upload_refused_note": ("{n} 个数值或行被拒收，不会导入；其余 {ok} 条站点小时记录可以导入。",
                            "{n} value(s) or row(s) refused and will not be stored; the other {ok} station-hour(s) "
                            "can be stored."),
    "upload_summary": ("{file}：{records} 条站点小时记录（{flagged} 条带提示），拒收 {rows} 行、{cells} 个数值。",
                       "{file}: {records} station-hour(s) ({flagged} flagged); {rows} row(s) and {cells} value(s) "
                       "refused."),
    "upload_ingest": ("导入到数据库", "Ingest into the store"),
    "upload_done": ("已导入：新增 {added}，修订 {updated}，未变 {unchanged}，拒收 {rejected}。",
                    "Stored: {added} added, {updated} updated, {unchanged} unchanged, {rejected} rejected."),
    "fresh_future": ("{source}：最新时次 {time} 晚于当前时刻，请检查数据与系统时钟",
                     "{source}: the latest hour {time} is after the current time; check the data and the system clock"),
    # export bundle button (ui/export.py)
    "ex_bundle": ("导出本页数据包（图片PNG/SVG＋数据＋元数据）", "Export bundle (PNG/SVG + data + metadata)"),
    "ex_bundle_help": ("将本页全部图表（PNG 2×、SVG）、图表数据（CSV、XLSX）与 metadata.json 打包为 zip", "Zip of every chart on this page (PNG 2×, SVG), its data (CSV, XLSX) and metadata.json"),
}


def t(key: str, lang: str = "zh", **fmt) -> str:
    """Text for ``key`` in ``lang`` (``zh``/``en``), formatted with ``fmt``; the key itself if unknown."""
    pair = TEXT.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**fmt) if fmt else text


def pollutant_label(code: str, lang: str = "zh", unit: bool = False) -> str:
    """Display name of a pollutant code (``pm25`` → PM2.5), optionally with its unit."""
    if code == "aqi":
        return "AQI"
    label = POLLUTANT_LABELS.get(code, {}).get(lang, code)
    if unit and code in UNITS:
        return f"{label} ({UNITS[code]})"
    return label


def pair_text(pair, lang: str = "zh") -> str:
    """The ``lang`` half of a (zh, en) pair from a domain table (meeting statuses, measure types …)."""
    return pair[LANGS.index(lang) if lang in LANGS else 0]


def join_names(names, lang: str = "zh") -> str:
    """A list of names as a reader writes it: ``乌鲁木齐市、昌吉市`` (zh) / ``Urumqi, Changji`` (en)."""
    return ("、" if lang == "zh" else ", ").join(str(n) for n in names)


def primary_label(codes: str, lang: str = "zh") -> str:
    """``pm10;pm25`` → ``PM10、PM2.5`` (zh) / ``PM10, PM2.5`` (en); '—' when none."""
    if not isinstance(codes, str) or not codes:
        return "—"
    sep = "、" if lang == "zh" else ", "
    return sep.join(pollutant_label(c, lang) for c in codes.split(";"))


def category_name(level: int, lang: str = "zh") -> str:
    """Category name of a level 1–6 ('' for 0)."""
    if not level:
        return ""
    return S.CATEGORIES[int(level) - 1]["name_zh" if lang == "zh" else "name_en"]


# --- evaluation branch (issue 15): city values by HJ 663, dust deduction, "explain this number" -------------
TEXT.update({
    "eval_basis": ("综合指数口径", "Composite index basis"),
    "eval_ind_o3": ("臭氧日最大1小时", "O₃ max 1-h"),
    "eval_annex": ("附件　城市日均值的计算依据", "Annex. How the city daily values were computed"),
    "eval_annex_table": ("附表　各单元各日参与计算的点位", "Annex table. Stations counted per jurisdiction and day"),
    "eval_annex_counted": ("参与点位", "Stations counted"),
    "eval_annex_partly": ("部分指标参与", "Partly counted"),
    "eval_annex_left_out": ("未参与及原因", "Left out, and why"),
    "eval_ind_o3_8h": ("臭氧日最大8小时", "O₃ MDA8"),
    "eval_basis_unverified": ("该口径未经核实，仅供参考。", "This basis is unverified; for reference only."),
    "eval_dust": ("沙尘天气影响", "Dust"),
    "eval_dust_include": ("不扣沙", "Dust kept"),
    "eval_dust_exclude": ("扣沙", "Dust deducted"),
    "eval_dust_note_exclude": (
        "扣沙口径（总站月报惯例，依据环办监测〔2016〕120号）：PM10、PM2.5浓度和综合指数扣除沙尘天，"
        "优良天数比例、重度及以上天数比例保留沙尘天。扣除的沙尘天：{days}",
        "Dust deducted (the convention of CNEMC's monthly reports, under MEE document 环办监测〔2016〕120号): "
        "PM10, PM2.5 and the composite index leave the dust days out; the good-day and heavy-day shares keep them. "
        "Dust days deducted: {days}"),
    "eval_dust_note_include": ("不扣沙：全部天数参与统计。", "Dust kept: every day counts."),
    "eval_none": ("无", "none"),
    "eval_provisional": (
        "本页为总站实时发布数据（未经审核）。官方月度、年度评价使用审核后的数据（总站于次月上旬完成审核），"
        "结果可能与本页不同。",
        "These are CNEMC's real-time (provisional) data. Official monthly and annual results use audited data "
        "(CNEMC audits in the first ten days of the next month) and may differ."),
    "eval_method": (
        "城市日均值 = 各评价点位（不含对照点）有效日均值的算术平均，再计算分指数（HJ 663）。"
        "HJ 663 中该条款的原文未能查到，计算口径可在设置中更改，详见项目文档《评价口径说明》。",
        "City daily value = the mean of the evaluation stations' valid daily values (background stations out), "
        "then the IAQI (HJ 663). The HJ 663 clause text could not be found; the method is a setting — see the "
        "project note on evaluation."),
    "eval_explain": ("这个数是怎么来的？", "Explain this number"),
    "eval_day": ("日期", "Day"),
    "eval_explain_result": (
        "{unit} {date}：AQI {aqi}（{category}），首要污染物：{primary}。参与计算的点位 {n} 个，未参与或部分未参与 {m} 个。",
        "{unit} {date}: AQI {aqi} ({category}), primary pollutant: {primary}. Stations counted: {n}; left out "
        "in whole or part: {m}."),
    "eval_explain_none": ("该日没有可计算的城市日均值。", "No city daily value can be computed for that day."),
    "eval_stations_title": ("各点位日均值", "Each station's daily values"),
    "eval_city_title": ("城市均值与分指数", "City means and IAQIs"),
    "eval_rules_title": ("规则与依据条款", "Rules and clauses"),
    "eval_marks": ("沙尘天标记", "Dust days"),
    "eval_marks_none": ("尚未标记沙尘天。", "No dust day marked yet."),
    "eval_suggest": ("数据提示的可能沙尘天（仅供参考，须人工确认后标记才会扣除）",
                     "Possible dust days suggested by the data (never deducted until someone marks them)"),
    "eval_suggest_none": ("所选时段没有数据提示的沙尘天。", "The data suggest no dust day in the period."),
    "eval_suggest_rule": ("提示规则：日均PM10 ≥ {pm10} µg/m³ 且 PM2.5/PM10 ≤ {ratio}；或 CAMS 模式日均沙尘浓度 ≥ {dust} µg/m³。"
                          "该规则为本系统的筛查口径，并非官方判定标准。",
                          "Rule: daily PM10 ≥ {pm10} µg/m³ and PM2.5/PM10 ≤ {ratio}, or a CAMS model daily dust "
                          "concentration ≥ {dust} µg/m³ — RegionAir's screening rule, not an official criterion."),
    "eval_all_units": ("全部行政单元", "Every jurisdiction"),
    "eval_note": ("备注（依据）", "Note (evidence)"),
    "eval_mark": ("标记为沙尘天", "Mark as a dust day"),
    "eval_unmark": ("取消标记", "Unmark"),
    "eval_marked": ("已保存并记入审计日志。", "Saved and written to the audit log."),
    "eval_reason_background": ("对照点，不参与城市均值", "background station, never in the city mean"),
    "eval_reason_no_data": ("当日无数据", "no data that day"),
    "eval_reason_lt_20_hours": ("{p}：有效小时数不足20", "{p}: fewer than 20 valid hours"),
    "eval_reason_mda8_lt_14": ("{p}：有效8小时均值不足14个", "{p}: fewer than 14 valid 8-h means"),
    "eval_rule_evaluation_stations": ("参与计算的点位：城市纳入国家网的全部评价点位，对照点除外",
                                      "Stations: all of the city's evaluation stations in the national network; background stations out"),
    "eval_rule_station_daily": ("点位日均值：自然日内有效小时数不少于20", "Station daily mean: at least 20 valid hours in the natural day"),
    "eval_rule_mda8": ("臭氧日最大8小时平均：有效8小时均值不少于14个（超标时不受此限）",
                       "O3 daily max 8-h mean: at least 14 valid 8-h means (fewer allowed when above the limit)"),
    "eval_rule_o3_1h_max": ("臭氧日最大1小时：本系统采用不少于20个有效小时（标准未规定）",
                            "O3 daily max 1-h: RegionAir requires 20 valid hours (no rule stated)"),
    "eval_rule_city_daily": ("城市日均值：各点位有效日均值的算术平均，逐项计算", "City daily value: mean of the stations' valid daily values, per pollutant"),
    "eval_rule_min_stations": ("城市日均值所需的最少有效点位数：未查到规定，本系统取1",
                               "Fewest valid stations for a city day: no rule found; RegionAir uses 1"),
    "eval_rule_iaqi_area": ("先算城市浓度均值，再算分指数和AQI（不对点位AQI取平均）",
                            "City concentrations first, then their IAQI and AQI (never a mean of station AQIs)"),
    "eval_clause_evaluation_stations": ("《城市环境空气质量排名技术规定》（环办〔2014〕64号）三（一）；HJ 664-2013 对照点",
                                        "Ranking rules (环办〔2014〕64号) III(1); HJ 664-2013 background stations"),
    "eval_clause_station_daily": ("GB 3095-2012 / GB 3095-2026 表4", "GB 3095-2012 / GB 3095-2026 Table 4"),
    "eval_clause_mda8": ("HJ 663-2013 / HJ 663-2026 第6.1.2条", "HJ 663-2013 / HJ 663-2026 clause 6.1.2"),
    "eval_clause_o3_1h_max": ("HJ 633-2012 第5.1.2条（指标）；有效性：未规定", "HJ 633-2012 clause 5.1.2 (indicator); validity: not stated"),
    "eval_clause_city_daily": ("HJ 663（条款原文未查到）；HJ 633-2026 第4.2.1条", "HJ 663 (clause text not found); HJ 633-2026 clause 4.2.1"),
    "eval_clause_min_stations": ("未查到", "not found"),
    "eval_clause_iaqi_area": ("HJ 633-2012 第5.1.2条；HJ 633-2026 第4.2.1—4.2.2、4.2.6条",
                              "HJ 633-2012 clause 5.1.2; HJ 633-2026 clauses 4.2.1–4.2.2, 4.2.6"),
})
#: Table headers of the evaluation tables (rankings page, explain expander).
EVAL_COLUMNS: dict[str, tuple[str, str]] = {
    "composite_rank": ("排名", "Rank"), "unit": ("行政单元", "Jurisdiction"),
    "composite_index": ("综合指数", "Composite index"), "good_day_share": ("优良天数比例 %", "Good days %"),
    "heavy_day_share": ("重度及以上天数比例 %", "Heavy-pollution days %"),
    "pm25": ("PM2.5 均值 µg/m³", "PM2.5 mean µg/m³"), "pm10": ("PM10 均值 µg/m³", "PM10 mean µg/m³"),
    "so2": ("二氧化硫均值 µg/m³", "SO₂ mean µg/m³"), "no2": ("二氧化氮均值 µg/m³", "NO₂ mean µg/m³"),
    "co_p95": ("一氧化碳第95百分位 mg/m³", "CO p95 mg/m³"), "o3_8h_p90": ("臭氧8小时第90百分位 µg/m³", "O₃ MDA8 p90 µg/m³"),
    "days": ("天数", "Days"), "valid_days": ("有效天数", "Valid days"), "n_dust_days": ("扣除沙尘天数", "Dust days deducted"),
    "valid_statistic": ("统计有效", "Valid"), "composite_index_change_pct": ("综合指数同比 %", "Composite vs last year %"),
    "good_day_share_change": ("优良比例同比（百分点）", "Good days vs last year (pp)"),
    "station": ("站点编码", "Station code"), "name": ("站点名称", "Station name"), "status": ("参与情况", "Counted"),
    "reasons": ("未参与原因", "Why left out"), "indicator": ("指标", "Indicator"), "value": ("城市均值", "City mean"),
    "n_stations": ("参与点位数", "Stations counted"), "iaqi": ("分指数", "IAQI"), "primary": ("首要污染物", "Primary"),
    "rule": ("规则", "Rule"), "clause": ("依据条款", "Clause"), "found": ("已查到原文", "Text found"),
    "jurisdiction": ("行政单元", "Jurisdiction"), "date": ("日期", "Date"), "who": ("标记人", "Marked by"),
    "note": ("备注", "Note"), "ratio": ("PM2.5/PM10", "PM2.5/PM10"), "model_dust": ("模式沙尘 µg/m³", "Model dust µg/m³"),
    "basis": ("提示依据", "Suggested by"),
}
VALUES.update({
    "counted": ("参与", "Counted"), "partly": ("部分参与", "Partly"), "left_out": ("未参与", "Left out"),
    "pm": ("颗粒物浓度", "Particulate levels"), "model": ("CAMS 模式", "CAMS model"),
    "pm+model": ("颗粒物浓度与 CAMS 模式", "Particulate levels and CAMS model"),
})
# --- plausibility branch: headers of the refused-rows table (regionair.sources.plausibility.refusal_frame)
COLUMNS.update({
    "file": ("文件", "File"), "line": ("行号", "Line"), "column": ("列", "Column"),
    "reason": ("拒收原因", "Reason"), "value": ("原值", "Value"), "message": ("说明", "Detail"),
})
DECIMALS.update({"line": 0})  # a file's line number, not a quantity
# --- branch deadlines: Chromium failures (chart images, PDF), export bundles without images -------------
TEXT.update({
    "render.page_warning": ("本页图表的图片暂时无法生成（服务器需要 Chromium 浏览器；修复：make system，即 apt-get install "
                            "chromium fonts-noto-cjk）。导出的数据包只含图表数据与说明。详情：{error}",
                            "Chart images cannot be drawn right now (the server needs Chromium; fix: make system, i.e. "
                            "apt-get install chromium fonts-noto-cjk). Export bundles hold the chart data and a note "
                            "only. Detail: {error}"),
    "render.bundle_failed": ("刚才导出的数据包未能包含图表图片，其余文件完整。详情：{error}",
                             "The last export bundle was made without chart images; its other files are complete. "
                             "Detail: {error}"),
    "render.bundle_data_only": ("导出本页数据包（仅图表数据与元数据，无图片）", "Export bundle (chart data and metadata, no images)"),
    "render.bundle_note": ("本数据包不含图表图片：{error}\n图表数据（data/ 下的 CSV、XLSX）与 metadata.json 完整。",
                           "This bundle holds no chart images: {error}\nThe chart data (CSV, XLSX under data/) and "
                           "metadata.json are complete."),
    "render.doc_warning": ("【说明】本简报的附图未能生成（需要 Chromium 浏览器；修复：make system，即 apt-get install chromium "
                           "fonts-noto-cjk），以下为纯文字版本，文字与表格完整。详情：{error}",
                           "[Note] The figures of this briefing could not be drawn (Chromium is needed; fix: make system, "
                           "i.e. apt-get install chromium fonts-noto-cjk); this is the text-only version, its text and "
                           "tables are complete. Detail: {error}"),
    "render.figure_missing": ("（附图未生成：{caption}）", "(Figure not drawn: {caption})"),
    "render.pdf_unavailable": ("PDF 需要服务器上的 Chromium 浏览器：{error}", "PDF needs Chromium on the server: {error}"),
})
