"""User-facing text in Chinese (default) and English. One table; pages and charts call :func:`t`."""

from __future__ import annotations

from . import standards as S
from .nomenclature import POLLUTANT_LABELS, UNITS

LANGS = ("zh", "en")

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
