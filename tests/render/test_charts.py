"""Chart conventions: dates in the page's language, calendars for short periods, the AQI colour steps."""

from __future__ import annotations

import datetime as dt

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


def test_map_draws_the_worst_station_on_top_with_an_aqi_legend_and_apart_labels():
    """Issue 14 §12: the highest AQI is drawn last (on top), the six categories are in the legend with the
    ranges of the edition in force, and no two unit labels overlap."""
    import pandas as pd

    from regionair.core import region

    bounds = region.boundaries(level="district")
    units = pd.DataFrame({"id": ["urumqi", "changji"], "aqi": [160.0, 90.0], "name": ["乌鲁木齐市", "昌吉市"]})
    st = pd.DataFrame({"station": ["a", "b", "c"], "name": ["甲", "乙", "丙"], "aqi": [320.0, 60.0, float("nan")],
                       "category": ["严重污染", "良", ""], "primary_pollutants": ["pm25", "pm10", ""],
                       "side": ["兵团", "地方", "地方"], "longitude": [87.6, 87.61, 87.62], "latitude": [43.8] * 3})
    fig = charts.region_map(bounds, units, st, title="t", lang="zh", day=dt.date(2026, 3, 10))
    (markers,) = [tr for tr in fig.data if tr.mode == "markers" and tr.x is not None and tr.x[0] is not None]
    assert list(markers.hovertext)[-1].startswith("a 甲") and list(markers.marker.symbol) == ["circle", "circle", "diamond"]
    legend = [tr.name for tr in fig.data if tr.legendgroup == "aqi"]
    assert legend == ["优 1–50", "良 51–100", "轻度污染 101–150", "中度污染 151–200", "重度污染 201–300", "严重污染 >300"]
    old = charts.region_map(bounds, units, st, title="t", lang="en", day=dt.date(2022, 1, 2))
    assert [tr.name for tr in old.data if tr.legendgroup == "aqi"][0] == "Excellent 0–50"
    (text,) = [tr for tr in fig.data if tr.mode == "text"]
    ys = sorted(zip(text.x, text.y, strict=True))
    x0, y0, x1, y1 = bounds.total_bounds
    for i, (xa, ya) in enumerate(ys):
        for xb, yb in ys[i + 1:]:
            assert abs(ya - yb) >= 1.35 * 11 / 410 * (y1 - y0) * 0.999 or abs(xa - xb) > 0.1 * (x1 - x0)


def test_page_downloads_are_for_people():
    """Issue 14 §11: headers in words with a units row, codes in words, rounding per quantity, Excel dates."""
    import io

    from openpyxl import load_workbook

    from regionair.render.exports import for_people, to_csv_bytes, to_xlsx_bytes

    t = pd.Timestamp("2022-01-02 14:00", tz=TZ)
    df = pd.DataFrame({"unit": ["urumqi"], "time": [t], "pm25": [136.44444444444446], "co": [1.26],
                       "source": ["cnemc-archive"], "weekday": [3]})
    frame, units = for_people(df, "zh")
    assert list(frame.columns)[:4] == ["行政单元", "时间", "PM2.5 (µg/m³)", "一氧化碳 (mg/m³)"]
    assert frame.iloc[0]["PM2.5 (µg/m³)"] == 136 and frame.iloc[0]["一氧化碳 (mg/m³)"] == 1.3
    assert frame.iloc[0]["来源"] == "中国环境监测总站（历史归档）"
    csv = to_csv_bytes(frame).decode("utf-8-sig")
    assert "2022-01-02 14:00:00" in csv and "136.44" not in csv
    ws = load_workbook(io.BytesIO(to_xlsx_bytes(frame, units=units))).active
    assert ws.cell(row=3, column=2).value == dt.datetime(2022, 1, 2, 14, 0) and ws.cell(row=3, column=2).is_date
    assert ws.cell(row=2, column=3).value == "µg/m³"
