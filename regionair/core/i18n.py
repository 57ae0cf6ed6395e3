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
