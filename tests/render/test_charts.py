"""Chart conventions: dates in the page's language, calendars for short periods, the AQI colour steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from regionair.core import standards as S
from regionair.core.nomenclature import TZ
from regionair.render import charts


def _hours(n=30):
    return pd.DataFrame({"time": pd.date_range("2026-03-09", periods=n, freq="h", tz=TZ), "aqi": np.arange(n, dtype=float),
                         "unit": "乌鲁木齐市"})


def test_date_axis_speaks_chinese_in_the_chinese_ui():
    fig = charts.time_series(_hours(), x="time", y="aqi", color="unit", title="t", y_title="AQI")
    charts.localise_dates(fig, "zh")
    stops = {tuple(s.dtickrange): s.value for s in fig.layout.xaxis.tickformatstops}
    assert stops[(86_400_000, "M1")] == "%-m月%-d日"
    assert stops[("M12", None)] == "%Y年"
    assert fig.layout.xaxis.hoverformat == "%Y年%-m月%-d日 %H:%M"


def test_english_ui_gets_english_formats_and_numeric_axes_are_left_alone():
    fig = charts.time_series(_hours(), x="time", y="aqi", color="unit", title="t", y_title="AQI")
    charts.localise_dates(fig, "en")
    assert {s.value for s in fig.layout.xaxis.tickformatstops} >= {"%b %-d", "%Y"}
    numeric = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 5, 6]))
    charts.localise_dates(numeric, "zh")
    assert not numeric.layout.xaxis.tickformatstops
    own = go.Figure(go.Scatter(x=list(_hours()["time"]), y=[1] * 30))
    own.update_xaxes(tickformat="%H时")
    charts.localise_dates(own, "zh")
    assert not own.layout.xaxis.tickformatstops and own.layout.xaxis.tickformat == "%H时"


def test_short_calendar_labels_each_day_in_the_page_language():
    cal = pd.DataFrame({"unit": ["乌鲁木齐市"] * 3, "date": pd.date_range("2026-03-08", periods=3).date,
                        "aqi": [50, 120, 80]})
    zh = charts.calendar_heatmap(cal, title="c", lang="zh")
    assert zh.layout.xaxis.type == "category"
    assert list(zh.layout.xaxis.ticktext) == ["3月8日", "3月9日", "3月10日"]
    en = charts.calendar_heatmap(cal, title="c", lang="en")
    assert list(en.layout.xaxis.ticktext) == ["Mar 8", "Mar 9", "Mar 10"]


def _colour_at(scale, aqi):
    """The colour plotly draws for ``aqi``: an integer must fall strictly inside one step (on a step edge plotly
    takes the upper colour, which drew AQI 50 as 良's yellow)."""
    pos = aqi / 500
    for (p0, c0), (p1, _c1) in zip(scale[::2], scale[1::2], strict=True):
        if p0 < pos < p1 or pos in (p0, p1) and pos in (0, 1):
            return c0
    raise AssertionError(aqi)


def test_colour_steps_put_each_upper_value_in_its_own_category():
    scale = charts.aqi_colorscale()
    hexes = [c["hex"] for c in S.CATEGORIES]
    # HJ 633 Table 2: 优 0–50, 良 51–100, 轻度 101–150, 中度 151–200, 重度 201–300, 严重 > 300
    for aqi, level in [(0, 0), (50, 0), (51, 1), (100, 1), (101, 2), (150, 2), (200, 3), (201, 4), (300, 4),
                       (301, 5), (500, 5)]:
        assert _colour_at(scale, aqi) == hexes[level], aqi


def test_footer_is_inside_the_exported_image_and_clear_of_the_legend():
    """The export bundle's PNG showed no footer (drawn below the canvas) and long legends ran over it."""
    import io

    from PIL import Image

    from regionair.render.bundle import render_image

    df = pd.concat([_hours().assign(unit=f"第{i}师 站点{i}", aqi=np.arange(30.0) + i) for i in range(9)])
    fig = charts.time_series(df, x="time", y="aqi", color="unit", title="t", y_title="AQI")
    charts.footer(fig, "数据来源：中国环境监测总站")
    legend = fig.layout.template.layout.legend
    assert legend.orientation == "v" and legend.x > 1  # right of the plot, never below it
    img = Image.open(io.BytesIO(render_image(fig, "png", scale=1, width=1000, height=560))).convert("L")
    w, h = img.size
    footer_band = img.crop((0, h - FOOTER_BAND, w // 2, h))
    assert footer_band.getextrema()[0] < 160  # the footer's grey text is there, inside the canvas


FOOTER_BAND = 40
