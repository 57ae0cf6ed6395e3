"""Every breakpoint, limit and category row pinned to shared/reference/standards.md (§2.1, §2.6, §3.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from regionair.core import standards as S

# standards.md §2.1, one row per IAQI level: IAQI, SO2 24h, SO2 1h, NO2 24h, NO2 1h, PM10 2012, PM10 2026,
# CO 24h, CO 1h, O3 1h, O3 8h, PM2.5 2012, PM2.5 2026  (None = no breakpoint)
TABLE_2_1 = [
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (50, 50, 150, 40, 100, 50, 50, 2, 5, 160, 100, 35, 35),
    (100, 150, 500, 80, 200, 150, 120, 4, 10, 200, 160, 75, 60),
    (150, 475, 650, 180, 700, 250, 250, 14, 35, 300, 215, 115, 115),
    (200, 800, 800, 280, 1200, 350, 350, 24, 60, 400, 265, 150, 150),
    (300, 1600, None, 565, 2340, 420, 420, 36, 90, 800, 800, 250, 250),
    (400, 2100, None, 750, 3090, 500, 500, 48, 120, 1000, None, 350, 350),
    (500, 2620, None, 940, 3840, 600, 600, 60, 150, 1200, None, 500, 500),
]
COLUMNS = [
    ("so2", "24h", None), ("so2", "1h", None), ("no2", "24h", None), ("no2", "1h", None),
    ("pm10", "24h", "2012"), ("pm10", "24h", "2026"), ("co", "24h", None), ("co", "1h", None),
    ("o3", "1h", None), ("o3", "8h", None), ("pm25", "24h", "2012"), ("pm25", "24h", "2026"),
]


@pytest.mark.parametrize("row", TABLE_2_1, ids=lambda r: f"IAQI{r[0]}")
def test_breakpoint_rows(row):
    level, *values = row
    i = S.IAQI_LEVELS.index(level)
    for (pollutant, avg, only), expected in zip(COLUMNS, values, strict=True):
        for edition in ([only] if only else S.EDITIONS):
            column = S.BREAKPOINTS[edition][pollutant][avg]
            if expected is None:
                assert len(column) <= i, (edition, pollutant, avg, level)
            else:
                assert column[i] == expected, (edition, pollutant, avg, level)


def test_editions_differ_only_in_pm():
    a, b = S.BREAKPOINTS["2012"], S.BREAKPOINTS["2026"]
    assert {p for p in a if a[p] != b[p]} == {"pm10", "pm25"}
    assert a["pm25"]["24h"][2] == 75 and b["pm25"]["24h"][2] == 60
    assert a["pm10"]["24h"][2] == 150 and b["pm10"]["24h"][2] == 120


def test_categories_colours_and_names():
    rows = [(c["level_zh"], c["name_zh"], c["name_en"], c["rgb"], c["hex"]) for c in S.CATEGORIES]
    assert rows == [
        ("一级", "优", "Excellent", (0, 228, 0), "#00E400"),
        ("二级", "良", "Good", (255, 255, 0), "#FFFF00"),
        ("三级", "轻度污染", "Lightly Polluted", (255, 126, 0), "#FF7E00"),
        ("四级", "中度污染", "Moderately Polluted", (255, 0, 0), "#FF0000"),
        ("五级", "重度污染", "Heavily Polluted", (153, 0, 76), "#99004C"),
        ("六级", "严重污染", "Severely Polluted", (126, 0, 35), "#7E0023"),
    ]
    assert len(S.HEALTH_ADVICE["2012"]) == len(S.HEALTH_ADVICE["2026"]) == len(S.HEALTH_ADVICE_EN) == 6
    assert "易感人群" in S.HEALTH_ADVICE["2012"][2]["effect_zh"]
    assert "敏感人群" in S.HEALTH_ADVICE["2026"][2]["effect_zh"]
    assert set(S.SENSITIVE_GROUPS_2026) == {"so2", "no2", "co", "o3", "pm10", "pm25"}


# standards.md §3.1 grade II: (pollutant, averaging, 2012, 2026 transition, 2026 final)
GRADE_II = [
    ("so2", "annual", 60, 60, 20), ("so2", "24h", 150, 150, 50), ("so2", "1h", 500, 500, 150),
    ("no2", "annual", 40, 40, 30), ("no2", "24h", 80, 80, 50), ("no2", "1h", 200, 200, 200),
    ("co", "24h", 4, 4, 4), ("co", "1h", 10, 10, 10), ("o3", "8h", 160, 160, 160), ("o3", "1h", 200, 200, 200),
    ("pm10", "annual", 70, 60, 50), ("pm10", "24h", 150, 120, 100),
    ("pm25", "annual", 35, 30, 25), ("pm25", "24h", 75, 60, 50),
]


@pytest.mark.parametrize("row", GRADE_II, ids=lambda r: f"{r[0]}-{r[1]}")
def test_grade_ii_limits(row):
    p, avg, a, b, c = row
    assert S.LIMITS["GB3095-2012"]["II"][p][avg] == a
    assert S.LIMITS["GB3095-2026-transition"]["II"][p][avg] == b
    assert S.LIMITS["GB3095-2026-final"]["II"][p][avg] == c


def test_grade_i_limits_final_pm():
    assert S.LIMITS["GB3095-2026-final"]["I"]["pm25"] == {"annual": 10, "24h": 25}
    assert S.LIMITS["GB3095-2026-final"]["I"]["pm10"] == {"annual": 20, "24h": 50}
    assert S.LIMITS["GB3095-2012"]["I"]["pm25"] == {"annual": 15, "24h": 35}


def test_limit_basis_by_day():
    assert S.limit_basis(dt.date(2026, 2, 28)) == "GB3095-2012"
    assert S.limit_basis(dt.date(2026, 3, 1)) == "GB3095-2026-transition"
    assert S.limit_basis(dt.date(2030, 12, 31)) == "GB3095-2026-transition"
    assert S.limit_basis(dt.date(2031, 1, 1)) == "GB3095-2026-final"


def test_iaqi100_equals_grade_ii_daily_limit():
    """IAQI 100 sits exactly on the grade II 24-h limit in both editions (standards.md §2.5)."""
    for ed, basis in (("2012", "GB3095-2012"), ("2026", "GB3095-2026-transition")):
        for p in ("so2", "no2", "co", "pm10", "pm25"):
            assert S.BREAKPOINTS[ed][p]["24h"][2] == S.LIMITS[basis]["II"][p]["24h"]
