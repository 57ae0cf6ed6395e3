"""The near-threshold page's sentences: hand-computed budgets → the words an official reads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from regionair.views.warnings import budget_advice

NAMES = {"urumqi": "乌鲁木齐市", "changji": "昌吉市", "shihezi": "石河子市（第八师）"}


def _row(id_, pollutant, **kw):
    base = dict(scope="jurisdiction", id=id_, pollutant=pollutant, boundary=100, limit=75.0, hours_valid=12,
                hours_remaining=12, mean_so_far=40.0, recent=40.0, allowance=110.0, status="safe", reduction=0.0,
                reduction_pct=0.0)
    base.update(kw)
    return base


def test_one_sentence_per_unit_the_most_urgent_pollutant_speaks():
    # urumqi PM2.5: 12 valid hours averaging 80, 12 left, L = 75 → allowance (24·75 − 12·80)/12 = 70 µg/m³;
    # the last 3 h averaged 90, so the rest must fall by (90 − 70)/90 = 22 %  → tight, and it outranks PM10
    rows = [_row("urumqi", "pm25", mean_so_far=80.0, recent=90.0, allowance=70.0, status="tight",
                 reduction=20.0, reduction_pct=22.2),
            _row("urumqi", "pm10", limit=150.0, mean_so_far=60.0, allowance=240.0),
            # changji PM2.5: 20 h averaging 95 → (24·75 − 20·95)/4 = −25: nothing can save the day
            _row("changji", "pm25", hours_valid=20, hours_remaining=4, mean_so_far=95.0, recent=99.0,
                 allowance=-25.0, status="already exceeded"),
            # shihezi: the day is complete (at = D+1 00:00), mean 52
            _row("shihezi", "pm25", hours_valid=24, hours_remaining=0, mean_so_far=52.0, allowance=np.nan)]
    out = budget_advice(pd.DataFrame(rows), NAMES, "zh")
    assert list(out["id"]) == ["changji", "urumqi", "shihezi"]
    s = dict(zip(out["id"], out["sentence"], strict=True))
    assert s["urumqi"] == ("乌鲁木齐市：PM2.5 接近边界——今日剩余 12 小时平均须不高于 70 µg/m³（近3小时 90 µg/m³，"
                           "需下降约 22%），日均值才能保持在 AQI 100 以内。")
    assert s["changji"] == ("昌吉市：PM2.5 今日已累计均值 95 µg/m³，剩余 4 小时无论多低，日均值都将超过 75 µg/m³"
                            "（AQI 100）。")
    assert s["shihezi"] == "石河子市（第八师）：今日数据已完整，PM2.5 日均值 52 µg/m³，未超过 AQI 100 对应的 75 µg/m³。"
    en = budget_advice(pd.DataFrame(rows), {"urumqi": "Urumqi"}, "en")
    assert en.loc[en["id"] == "urumqi", "sentence"].iloc[0].startswith("Urumqi: PM2.5 is close — the remaining 12 h")


def test_co_speaks_in_mg_with_one_decimal_and_other_boundaries_are_left_out():
    rows = [_row("urumqi", "co", limit=4.0, mean_so_far=2.04, recent=1.5, allowance=5.96),
            _row("urumqi", "pm25", boundary=150, mean_so_far=140.0)]
    out = budget_advice(pd.DataFrame(rows), NAMES, "zh")
    assert len(out) == 1
    assert out["sentence"].iloc[0] == ("乌鲁木齐市：一氧化碳 今日剩余 12 小时平均不高于 6.0 mg/m³ 即可保持在 AQI 100 以内"
                                       "（近3小时 1.5 mg/m³）。")
