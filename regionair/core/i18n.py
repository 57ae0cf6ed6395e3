"""User-facing text in Chinese (default) and English. One table; pages and charts call :func:`t`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from regionair.core import standards as S
from regionair.core.nomenclature import POLLUTANT_LABELS, UNITS

#: The catalogue file: every word a user sees, Chinese and English side by side (a translator edits it; see
#: its header). Loaded once at import.
CATALOGUE_FILE = Path(__file__).with_name("text") / "catalogue.toml"


def _load_catalogue(path: Path = CATALOGUE_FILE) -> dict[str, dict[str, tuple[str, str]]]:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    out = {}
    for section in ("columns", "values", "text"):
        table = raw.get(section, {})
        bad = [k for k, v in table.items() if not (isinstance(v, list) and len(v) == 2 and all(isinstance(s, str) for s in v))]
        if bad:
            raise ValueError(f"{path} [{section}]: {bad[:5]} must be [\"中文\", \"English\"]")
        out[section] = {k: (v[0], v[1]) for k, v in table.items()}
    return out


_CATALOGUE = _load_catalogue()

LANGS = ("zh", "en")

#: Table column headers, keyed by the column's code in RegionAir's frames (one catalogue for every table the
#: pages show, so that a raw code never reaches a header). Pollutant columns come from :func:`pollutant_label`.
COLUMNS: dict[str, tuple[str, str]] = _CATALOGUE["columns"]
for _p in POLLUTANT_LABELS:
    _zh, _en = POLLUTANT_LABELS[_p]["zh"], POLLUTANT_LABELS[_p]["en"]
    COLUMNS.setdefault(f"iaqi_{_p}", (f"{_zh} 分指数", f"IAQI {_en}"))
    COLUMNS.setdefault(f"n_{_p}", (f"{_zh} 有效小时", f"{_en} valid hours"))
    COLUMNS.setdefault(f"{_p}_24h", (f"{_zh} 24小时滑动均值", f"{_en} 24-h mean"))

#: Cell values that are codes (statuses, sources, review flags …) → what a reader sees.
VALUES: dict[str, tuple[str, str]] = _CATALOGUE["values"]


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


TEXT: dict[str, tuple[str, str]] = _CATALOGUE["text"]


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
