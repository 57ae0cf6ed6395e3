"""Published Chinese ambient air-quality rules as data tables, per edition.

Nothing here computes: :mod:`regionair.core.aqi` and :mod:`regionair.core.averaging` read these tables.
Every table names the document and table it comes from; ``tests/test_standards.py`` pins every
row to ``shared/reference/standards.md``.

Editions
--------
``"2012"``
    HJ 633-2012 (AQI), GB 3095-2012 with its 2018 amendment (limits), HJ 663-2013 (evaluation).
    In force for data whose Beijing-time natural day is before 2026-03-01.
``"2026"``
    HJ 633-2026, GB 3095-2026 (transition limits to 2030-12-31, final limits from 2031-01-01),
    HJ 663-2026. In force from 2026-03-01.

References
----------
.. [1] 生态环境部. HJ 633-2012 环境空气质量指数(AQI)技术规定(试行), Table 1, Table 2, Annex A.
.. [2] 生态环境部. HJ 633-2026 环境空气质量指数(AQI)技术规定, Table 1, Table 2, Table 3, Annex A.
.. [3] GB 3095-2012 环境空气质量标准 (2018 amendment), Tables 1, 2 and 4.
.. [4] GB 3095-2026 环境空气质量标准, Tables 1, 2 and 4.
.. [5] HJ 663-2013 / HJ 663-2026 环境空气质量评价技术规范, §6.1.2 and Annex A.
"""

from __future__ import annotations

import datetime as _dt

EDITIONS: tuple[str, ...] = ("2012", "2026")

#: First Beijing-time natural day on which the 2026 rules apply (HJ 633-2026 and GB 3095-2026, 实施日期).
EDITION_2026_START = _dt.date(2026, 3, 1)

#: First day of the GB 3095-2026 final limits (the transition limits apply to 2030-12-31; GB 3095-2026 §4).
GB3095_2026_FINAL_START = _dt.date(2031, 1, 1)

#: Index values at the breakpoints (HJ 633-2012 Table 1 / HJ 633-2026 Table 3, column "IAQI").
IAQI_LEVELS: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)

_COMMON = {
    # pollutant: {averaging: concentration breakpoints at IAQI_LEVELS}; units µg/m³, CO mg/m³.
    "so2": {
        "24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
        # 1-h breakpoints stop at 800 (IAQI 200); above that see SO2_1H_ABOVE_TOP (Table note 2 / note b).
        "1h": (0, 150, 500, 650, 800),
    },
    "no2": {
        "24h": (0, 40, 80, 180, 280, 565, 750, 940),
        "1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    },
    "co": {
        "24h": (0, 2, 4, 14, 24, 36, 48, 60),
        "1h": (0, 5, 10, 35, 60, 90, 120, 150),
    },
    "o3": {
        "1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
        # 8-h breakpoints stop at 800 (IAQI 300); above that see O3_8H_ABOVE_TOP (note 3 / note c).
        "8h": (0, 100, 160, 215, 265, 800),
    },
}


def _edition_table(pm10_100: int, pm25_100: int) -> dict[str, dict[str, tuple[float, ...]]]:
    table = {p: dict(v) for p, v in _COMMON.items()}
    table["pm10"] = {"24h": (0, 50, pm10_100, 250, 350, 420, 500, 600)}
    table["pm25"] = {"24h": (0, 35, pm25_100, 115, 150, 250, 350, 500)}
    return table


#: IAQI breakpoints ``BREAKPOINTS[edition][pollutant][averaging]`` → concentrations at
#: ``IAQI_LEVELS[:len(...)]``. ``"24h"`` is the 24-hour mean (2012) / daily mean 日平均 (2026).
#: Units: µg/m³, CO mg/m³. HJ 633-2012 Table 1; HJ 633-2026 Table 3 (PM10 120, PM2.5 60 at IAQI 100).
BREAKPOINTS: dict[str, dict[str, dict[str, tuple[float, ...]]]] = {
    "2012": _edition_table(pm10_100=150, pm25_100=75),
    "2026": _edition_table(pm10_100=120, pm25_100=60),
}

#: SO2 1-h concentration above which no 1-h IAQI is computed [µg/m³] (HJ 633-2012 Table 1 note 2;
#: HJ 633-2026 Table 3 note b).
SO2_1H_TOP = 800.0
#: O3 8-h concentration above which no 8-h IAQI is computed [µg/m³] (HJ 633-2012 note 3; HJ 633-2026 note c).
O3_8H_TOP = 800.0

#: What the IAQI is above those tops. ``None`` = not computed: under HJ 633-2012 the SO2 IAQI comes from
#: the 24-h mean instead (note 2) and the O3 IAQI from the 1-h value (note 3). Under HJ 633-2026 the
#: IAQI is counted as 200 (SO2 1-h, note b) and 300 (O3 8-h, note c).
SO2_1H_ABOVE_TOP: dict[str, int | None] = {"2012": None, "2026": 200}
O3_8H_ABOVE_TOP: dict[str, int | None] = {"2012": None, "2026": 300}

#: Highest index value (HJ 633-2026 §4.1.1: AQI range 1–500; published feed caps at 500 — standards.md U9).
IAQI_MAX = 500

#: Decimal places to which concentrations are rounded before the IAQI under HJ 633-2026 §4.2.2–4.2.3
#: (GB/T 8170, round half to even): µg/m³ to integers, CO (mg/m³) to one decimal. HJ 633-2012 states none.
INPUT_DECIMALS: dict[str, dict[str, int] | None] = {
    "2012": None,
    "2026": {"pm25": 0, "pm10": 0, "so2": 0, "no2": 0, "o3": 0, "co": 1},
}

#: Hourly (real-time) report indicators as CNEMC publishes them (standards.md §2.4, §2.8) and as
#: HJ 633-2026 §4.2.3–4.2.4 writes them: pollutant → breakpoint column used for its 1-h value.
HOURLY_CNEMC: dict[str, str] = {"pm25": "24h", "pm10": "24h", "so2": "1h", "no2": "1h", "co": "1h", "o3": "1h"}

# --------------------------------------------------------------------------------------------
# Categories (HJ 633-2012 Table 2 and Annex A Table A.1; HJ 633-2026 Table 1 and Annex A)
# --------------------------------------------------------------------------------------------

#: Upper AQI of each category (一级…六级); the last is open-ended.
CATEGORY_UPPER: tuple[int, ...] = (50, 100, 150, 200, 300, 500)

#: The six AQI categories. Colours are identical in both editions (HJ 633-2012 Annex A Table A.1;
#: HJ 633-2026 Annex A Table A.1). English names are the CNEMC/industry usage (not in the standards).
CATEGORIES: tuple[dict, ...] = (
    {
        "level": 1, "level_zh": "一级", "name_zh": "优", "name_en": "Excellent",
        "colour_zh": "绿色", "rgb": (0, 228, 0), "hex": "#00E400", "cmyk": (40, 0, 100, 0),
        "range_2012": "0–50", "range_2026": "1–50",
    },
    {
        "level": 2, "level_zh": "二级", "name_zh": "良", "name_en": "Good",
        "colour_zh": "黄色", "rgb": (255, 255, 0), "hex": "#FFFF00", "cmyk": (0, 0, 100, 0),
        "range_2012": "51–100", "range_2026": "51–100",
    },
    {
        "level": 3, "level_zh": "三级", "name_zh": "轻度污染", "name_en": "Lightly Polluted",
        "colour_zh": "橙色", "rgb": (255, 126, 0), "hex": "#FF7E00", "cmyk": (0, 52, 100, 0),
        "range_2012": "101–150", "range_2026": "101–150",
    },
    {
        "level": 4, "level_zh": "四级", "name_zh": "中度污染", "name_en": "Moderately Polluted",
        "colour_zh": "红色", "rgb": (255, 0, 0), "hex": "#FF0000", "cmyk": (0, 100, 100, 0),
        "range_2012": "151–200", "range_2026": "151–200",
    },
    {
        "level": 5, "level_zh": "五级", "name_zh": "重度污染", "name_en": "Heavily Polluted",
        "colour_zh": "紫色", "rgb": (153, 0, 76), "hex": "#99004C", "cmyk": (10, 100, 40, 30),
        "range_2012": "201–300", "range_2026": "201–300",
    },
    {
        "level": 6, "level_zh": "六级", "name_zh": "严重污染", "name_en": "Severely Polluted",
        "colour_zh": "褐红色", "rgb": (126, 0, 35), "hex": "#7E0023", "cmyk": (30, 100, 100, 30),
        "range_2012": ">300", "range_2026": ">300",
    },
)

#: Health effects and recommended actions per category (HJ 633-2012 Table 2; HJ 633-2026 Table 1).
#: Chinese: the tables' wording (2026 changes 易感人群→敏感人群, 儿童→青少年儿童, 心脏病/肺病→
#: 心血管系统疾病/呼吸系统疾病). English: summaries (standards.md §2.6).
HEALTH_ADVICE: dict[str, tuple[dict[str, str], ...]] = {
    "2012": (
        {"effect_zh": "空气质量令人满意，基本无空气污染", "advice_zh": "各类人群可正常活动"},
        {"effect_zh": "空气质量可接受，但某些污染物可能对极少数异常敏感人群健康有较弱影响",
         "advice_zh": "极少数异常敏感人群应减少户外活动"},
        {"effect_zh": "易感人群症状有轻度加剧，健康人群出现刺激症状",
         "advice_zh": "儿童、老年人及心脏病、呼吸系统疾病患者应减少长时间、高强度的户外锻炼"},
        {"effect_zh": "进一步加剧易感人群症状，可能对健康人群心脏、呼吸系统有影响",
         "advice_zh": "儿童、老年人及心脏病、呼吸系统疾病患者避免长时间、高强度的户外锻炼，一般人群适量减少户外运动"},
        {"effect_zh": "心脏病和肺病患者症状显著加剧，运动耐受力降低，健康人群普遍出现症状",
         "advice_zh": "儿童、老年人和心脏病、肺病患者应停留在室内，停止户外运动，一般人群减少户外运动"},
        {"effect_zh": "健康人群运动耐受力降低，有明显强烈症状，提前出现某些疾病",
         "advice_zh": "儿童、老年人和病人应当留在室内，避免体力消耗，一般人群应避免户外活动"},
    ),
    "2026": (
        {"effect_zh": "空气质量令人满意，基本无空气污染", "advice_zh": "各类人群可正常活动"},
        {"effect_zh": "空气质量可接受，但某些污染物可能对极少数异常敏感人群健康有较弱影响",
         "advice_zh": "极少数异常敏感人群应减少户外活动"},
        {"effect_zh": "敏感人群症状有轻度加剧，健康人群出现刺激症状",
         "advice_zh": "青少年儿童、老年人及心血管系统疾病、呼吸系统疾病患者应减少长时间、高强度的户外锻炼"},
        {"effect_zh": "进一步加剧敏感人群症状，可能对健康人群心血管系统、呼吸系统有影响",
         "advice_zh": "青少年儿童、老年人及心血管系统疾病、呼吸系统疾病患者避免长时间、高强度的户外锻炼，一般人群适量减少户外运动"},
        {"effect_zh": "心血管系统疾病和呼吸系统疾病患者症状显著加剧，运动耐受力降低，健康人群普遍出现症状",
         "advice_zh": "青少年儿童、老年人和心血管系统疾病、呼吸系统疾病患者应停留在室内，停止户外运动，一般人群减少户外运动"},
        {"effect_zh": "健康人群运动耐受力降低，有明显强烈症状，提前出现某些疾病",
         "advice_zh": "青少年儿童、老年人和病人应当留在室内，避免体力消耗，一般人群应避免户外活动"},
    ),
}

HEALTH_ADVICE_EN: tuple[dict[str, str], ...] = (
    {"effect_en": "Satisfactory; essentially no pollution", "advice_en": "Everyone can carry on as normal"},
    {"effect_en": "Acceptable; some pollutants may slightly affect a very small number of unusually sensitive people",
     "advice_en": "Those very few unusually sensitive people should cut outdoor activity"},
    {"effect_en": "Sensitive people's symptoms worsen mildly; healthy people get irritation symptoms",
     "advice_en": "Children, the elderly and people with heart/cardiovascular or respiratory disease should cut long or strenuous outdoor exercise"},
    {"effect_en": "Sensitive people's symptoms worsen further; may affect healthy people's heart and respiratory systems",
     "advice_en": "Those groups should avoid long or strenuous outdoor exercise; the general public should moderately cut outdoor exercise"},
    {"effect_en": "Heart and lung patients' symptoms worsen markedly and exercise tolerance drops; symptoms become common among healthy people",
     "advice_en": "Children, the elderly and heart/lung patients should stay indoors and stop outdoor exercise; the general public should cut outdoor exercise"},
    {"effect_en": "Healthy people's exercise tolerance drops, with marked strong symptoms; some illnesses appear early",
     "advice_en": "Children, the elderly and the sick should stay indoors and avoid exertion; the general public should avoid outdoor activity"},
)

#: Sensitive groups per pollutant when its IAQI exceeds 100 (HJ 633-2026 Table 2; new in 2026).
SENSITIVE_GROUPS_2026: dict[str, dict[str, str]] = {
    "so2": {"zh": "哮喘患者、青少年儿童、老年人", "en": "people with asthma; children and adolescents; older people"},
    "no2": {"zh": "呼吸系统疾病患者(如哮喘)、青少年儿童、老年人",
            "en": "people with respiratory disease (e.g. asthma); children and adolescents; older people"},
    "co": {"zh": "心血管系统疾病患者", "en": "people with cardiovascular disease"},
    "o3": {"zh": "呼吸系统疾病患者(如哮喘)、青少年儿童、户外活动较多人群、老年人",
           "en": "people with respiratory disease (e.g. asthma); children and adolescents; people very active outdoors; older people"},
    "pm10": {"zh": "心血管系统或呼吸系统疾病患者(如哮喘)、青少年儿童、户外活动较多人群、老年人",
             "en": "people with cardiovascular or respiratory disease (e.g. asthma); children and adolescents; people very active outdoors; older people"},
}
SENSITIVE_GROUPS_2026["pm25"] = SENSITIVE_GROUPS_2026["pm10"]

# --------------------------------------------------------------------------------------------
# GB 3095 concentration limits (grade I / grade II)
# --------------------------------------------------------------------------------------------


def _limits(so2, no2, co, o3, pm10, pm25) -> dict[str, dict[str, float]]:
    return {"so2": so2, "no2": no2, "co": co, "o3": o3, "pm10": pm10, "pm25": pm25}


#: Limits ``LIMITS[basis][grade][pollutant][averaging]`` with averaging in ``annual``, ``24h`` (daily),
#: ``1h``, ``8h`` (O3 daily max 8-h). Units µg/m³, CO mg/m³. Bases: ``GB3095-2012`` (Table 1, 2018
#: amendment), ``GB3095-2026-transition`` (Table 1, to 2030-12-31), ``GB3095-2026-final`` (from 2031-01-01).
LIMITS: dict[str, dict[str, dict[str, dict[str, float]]]] = {
    "GB3095-2012": {
        "II": _limits(
            so2={"annual": 60, "24h": 150, "1h": 500}, no2={"annual": 40, "24h": 80, "1h": 200},
            co={"24h": 4, "1h": 10}, o3={"8h": 160, "1h": 200},
            pm10={"annual": 70, "24h": 150}, pm25={"annual": 35, "24h": 75},
        ),
        "I": _limits(
            so2={"annual": 20, "24h": 50, "1h": 150}, no2={"annual": 40, "24h": 80, "1h": 200},
            co={"24h": 4, "1h": 10}, o3={"8h": 100, "1h": 160},
            pm10={"annual": 40, "24h": 50}, pm25={"annual": 15, "24h": 35},
        ),
    },
    "GB3095-2026-transition": {
        "II": _limits(
            so2={"annual": 60, "24h": 150, "1h": 500}, no2={"annual": 40, "24h": 80, "1h": 200},
            co={"24h": 4, "1h": 10}, o3={"8h": 160, "1h": 200},
            pm10={"annual": 60, "24h": 120}, pm25={"annual": 30, "24h": 60},
        ),
        "I": _limits(
            so2={"annual": 20, "24h": 50, "1h": 150}, no2={"annual": 40, "24h": 80, "1h": 200},
            co={"24h": 4, "1h": 10}, o3={"8h": 100, "1h": 160},
            pm10={"annual": 40, "24h": 50}, pm25={"annual": 15, "24h": 35},
        ),
    },
    "GB3095-2026-final": {
        "II": _limits(
            so2={"annual": 20, "24h": 50, "1h": 150}, no2={"annual": 30, "24h": 50, "1h": 200},
            co={"24h": 4, "1h": 10}, o3={"8h": 160, "1h": 200},
            pm10={"annual": 50, "24h": 100}, pm25={"annual": 25, "24h": 50},
        ),
        "I": _limits(
            so2={"annual": 20, "24h": 50, "1h": 150}, no2={"annual": 30, "24h": 50, "1h": 200},
            co={"24h": 4, "1h": 10}, o3={"8h": 100, "1h": 160},
            pm10={"annual": 20, "24h": 50}, pm25={"annual": 10, "24h": 25},
        ),
    },
}

# --------------------------------------------------------------------------------------------
# Data validity (GB 3095 Table 4, identical in 2012 and 2026; HJ 663 §6.1.2)
# --------------------------------------------------------------------------------------------

#: Minimum valid hourly values for a 24-h / daily mean (GB 3095 Table 4).
MIN_HOURS_DAILY = 20
#: Minimum valid hourly values in an 8-h window for an O3 8-h mean (GB 3095 Table 4).
MIN_HOURS_8H = 6
#: Minimum valid 8-h means for a valid O3 daily max 8-h (HJ 663-2013/2026 §6.1.2); fewer are still
#: valid when the maximum exceeds the grade II 8-h limit.
MIN_8H_FOR_MDA8 = 14
#: Hour-ending stamps (Beijing) of the 8-h means that compete for the daily max: 08:00 … 24:00, the 17
#: windows lying inside the natural day (standards.md §3.2, U11).
MDA8_FIRST_HOUR = 8
#: Minimum valid daily values for an annual statistic: ≥ 324 per year and ≥ 27 per month (February ≥ 25)
#: (GB 3095 Table 4).
MIN_DAYS_ANNUAL = 324
MIN_DAYS_MONTH = 27
MIN_DAYS_FEBRUARY = 25

# --------------------------------------------------------------------------------------------
# Evaluation statistics (HJ 663 §5, Annex A) and composite index
# --------------------------------------------------------------------------------------------

#: Percentile evaluated per pollutant over a period (HJ 663 annual evaluation; standards.md §4.1):
#: SO2/NO2 98th of daily means, PM10/PM2.5/CO 95th of daily means, O3 90th of MDA8.
EVAL_PERCENTILES: dict[str, int] = {"so2": 98, "no2": 98, "pm10": 95, "pm25": 95, "co": 95, "o3_8h": 90}

#: Composite index (综合指数) bases: divisors S_i and weights w_i for I_sum = Σ w_i · C_i / S_i.
#: ``HJ663-2013`` is the MEE ranking rule (环办〔2014〕64号; standards.md §4.3): SO2/NO2/PM10/PM2.5 period
#: means over annual grade II limits, CO p95 over 4 mg/m³, O3 MDA8 p90 over 160. ``HJ663-2026-unverified``
#: is the [UNCERTAIN] 2026 variant (standards.md U2): new annual limits and weights PM2.5×3, NO2×2, O3×2.
COMPOSITE_BASES: dict[str, dict] = {
    "HJ663-2013": {
        "label_zh": "综合指数（HJ 663-2013，GB 3095-2012 二级限值）",
        "label_en": "Composite index (HJ 663-2013, GB 3095-2012 grade II)",
        "divisors": {"so2": 60, "no2": 40, "pm10": 70, "pm25": 35, "co": 4, "o3_8h": 160},
        "weights": {"so2": 1, "no2": 1, "pm10": 1, "pm25": 1, "co": 1, "o3_8h": 1},
        "verified": True,
    },
    "HJ663-2026-unverified": {
        "label_zh": "综合指数（2026 加权口径，未经核实）",
        "label_en": "Composite index (2026 weighted basis, unverified)",
        "divisors": {"so2": 60, "no2": 40, "pm10": 60, "pm25": 30, "co": 4, "o3_8h": 160},
        "weights": {"so2": 1, "no2": 2, "pm10": 1, "pm25": 3, "co": 1, "o3_8h": 2},
        "verified": False,
    },
}


def limit_basis(day: _dt.date) -> str:
    """GB 3095 limit basis in force on a Beijing-time natural day.

    Returns ``"GB3095-2012"`` before 2026-03-01, ``"GB3095-2026-transition"`` to 2030-12-31 and
    ``"GB3095-2026-final"`` from 2031-01-01 (GB 3095-2026 §4, Table 1).
    """
    if day < EDITION_2026_START:
        return "GB3095-2012"
    if day < GB3095_2026_FINAL_START:
        return "GB3095-2026-transition"
    return "GB3095-2026-final"
