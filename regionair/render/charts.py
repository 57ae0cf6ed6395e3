"""Plotly figure builders with one template: CJK font stack, AQI colours, consistent sizes.

Every builder takes the table behind the chart (so pages can offer it for download) and returns a
``plotly.graph_objects.Figure``. No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from regionair.core import standards as S
from regionair.core.aqi import category_colour, edition_for
from regionair.core.i18n import category_name, pair_text, pollutant_label, primary_label, t
from regionair.meeting import MEASURE_TYPES

#: Fonts that carry Chinese glyphs, in order of preference (Noto CJK is installed by `make setup`).
FONT_STACK = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif'
AQI_BANDS = [(0, 50), (50, 100), (100, 150), (150, 200), (200, 300), (300, 500)]
SIDE_SYMBOL = {"地方": "circle", "兵团": "diamond"}
#: Distance of the footer line below the plot area [px]: under two-line time ticks and the x-axis title.
FOOTER_OFFSET = 66
#: Longest period [days] whose calendar labels every day (beyond it the date axis picks its own ticks).
CALENDAR_DAY_TICKS = 45
#: Longest bar label [characters] before it is shortened with "…" (the plot keeps room for its footer).
BAR_LABEL_CHARS = 28


def _template(scale: float = 1.0) -> go.layout.Template:
    return go.layout.Template(
        layout=dict(
            font=dict(family=FONT_STACK, size=13 * scale, color="#222"),
            title=dict(font=dict(size=17 * scale), x=0.01, xanchor="left"),
            # the legend to the right of the plot (plotly widens the right margin for it, however many entries
            # it holds) and the footer alone under the x axis: a legend never runs over the source footer
            legend=dict(font=dict(size=12 * scale), orientation="v", x=1.02, xanchor="left", y=1, yanchor="top"),
            margin=dict(l=60, r=20, t=60, b=60),
            colorway=["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#e377c2", "#7f7f7f", "#bcbd22"],
            plot_bgcolor="white",
            paper_bgcolor="white",
            # automargin: tick labels never run into the axis title (they did at 1.6× in presentation mode)
            xaxis=dict(gridcolor="#e6e6e6", linecolor="#999", ticks="outside", automargin=True),
            yaxis=dict(gridcolor="#e6e6e6", linecolor="#999", ticks="outside", rangemode="tozero", automargin=True,
                       title=dict(standoff=8 * scale)),
            hoverlabel=dict(font=dict(family=FONT_STACK)),
        )
    )


pio.templates["regionair"] = _template(1.0)
pio.templates["regionair_presentation"] = _template(1.6)


def template(presentation: bool = False) -> str:
    """Name of the registered template (``presentation`` enlarges every font by 1.6× for projection)."""
    return "regionair_presentation" if presentation else "regionair"


def aqi_colorscale() -> list:
    """Stepped plotly colour scale over AQI 0–500 with the standard category colours (HJ 633 Annex A)."""
    # AQI is an integer and each band includes its upper value (优 0–50, 良 51–100, …): the steps sit half a
    # unit above each upper value, so that AQI 50 is drawn green, not yellow
    scale = []
    for (lo, hi), cat in zip(AQI_BANDS, S.CATEGORIES, strict=True):
        scale += [[min(lo + 0.5, 500) / 500 if lo else 0, cat["hex"]], [min(hi + 0.5, 500) / 500, cat["hex"]]]
    return scale


def add_aqi_bands(fig: go.Figure, *, y_max: float | None = None, lang: str = "zh", opacity: float = 0.12,
                  font_scale: float = 1.0) -> go.Figure:
    """Shade the AQI category bands behind a chart whose y axis is AQI."""
    top = y_max if y_max is not None else 500
    for (lo, hi), cat in zip(AQI_BANDS, S.CATEGORIES, strict=True):
        if lo >= top:
            break
        fig.add_hrect(y0=lo, y1=min(hi, top), fillcolor=cat["hex"], opacity=opacity, line_width=0, layer="below",
                      annotation_text=category_name(cat["level"], lang), annotation_position="right",
                      annotation_font_size=10 * font_scale)
    return fig


#: Date-axis tick labels per language by the distance between ticks (plotly ``tickformatstops``: ``dtickrange``
#: in milliseconds or ``"M<n>"`` months), so that an axis reads well from one hour to five years, and in the
#: page's language (plotly's own labels are English, ``Jan 1, 2022``, whatever the page language).
DATE_TICKS = {
    "zh": [((None, 86_400_000), "%H:%M<br>%-m月%-d日"), ((86_400_000, "M1"), "%-m月%-d日"),
           (("M1", "M12"), "%Y年%-m月"), (("M12", None), "%Y年")],
    "en": [((None, 86_400_000), "%H:%M<br>%b %-d"), ((86_400_000, "M1"), "%b %-d"),
           (("M1", "M12"), "%b %Y"), (("M12", None), "%Y")],
}
#: A day as a tick label (Python strftime), per language.
DAY_LABEL = {"zh": "%-m月%-d日", "en": "%b %-d"}
#: Hover label of a point on a date axis, per language.
DATE_HOVER = {"zh": "%Y年%-m月%-d日 %H:%M", "en": "%Y-%m-%d %H:%M"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _is_dates(values) -> bool:
    first = next((v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))), None)
    if isinstance(first, dt.date | np.datetime64):  # pandas Timestamps are datetimes
        return True
    return isinstance(first, str) and bool(_ISO_DATE.match(first))


def localise_dates(fig: go.Figure, lang: str) -> go.Figure:
    """Give every date x axis tick labels and hover times in ``lang`` (see :data:`DATE_TICKS`).

    An axis with its own ``tickformat`` (set by the chart that made it) is left alone. Used on screen and for
    exported images alike (the figure carries the formats).
    """
    stops = [dict(dtickrange=list(r), value=v) for r, v in DATE_TICKS.get(lang, DATE_TICKS["en"])]
    axes = {tr.xaxis or "x" for tr in fig.data if getattr(tr, "x", None) is not None and len(tr.x)
            and getattr(tr, "orientation", None) != "h" and _is_dates(tr.x)}
    for a in axes:
        key = "xaxis" + a[1:]
        axis = fig.layout[key]
        if axis.type not in (None, "-", "date") or axis.tickformat:
            continue
        fig.layout[key].update(tickformatstops=stops, hoverformat=DATE_HOVER.get(lang, DATE_HOVER["en"]))
    return fig


def footer(fig: go.Figure, text: str, *, presentation: bool = False) -> go.Figure:
    """Footer (source, period, edition) under the plot — it travels with exported images.

    Parts separated by " · " go on two lines when the text is long, so that a chart in a half-width column
    (the calendar, a phone) does not cut it off at the right."""
    parts = text.split(" · ")
    if len(text) > 70 and len(parts) > 1:
        mid = (len(parts) + 1) // 2
        text = " · ".join(parts[:mid]) + "<br>" + " · ".join(parts[mid:])
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=0, yshift=-FOOTER_OFFSET, showarrow=False,
                       xanchor="left", yanchor="top", align="left", font=dict(size=15 if presentation else 10, color="#666"))
    fig.update_layout(margin=dict(b=FOOTER_OFFSET + (50 if presentation else 34) + (14 if "<br>" in text else 0)))
    return fig


def time_series(df: pd.DataFrame, *, x: str, y: str, color: str, title: str, y_title: str,
                lang: str = "zh", presentation: bool = False, bands: bool = False) -> go.Figure:
    """Lines of ``y`` against ``x``, one per ``color`` group; AQI bands shaded when ``bands``."""
    fig = go.Figure()
    for name, g in df.groupby(color, sort=False):
        fig.add_trace(go.Scatter(x=g[x], y=g[y], mode="lines+markers" if len(g) < 60 else "lines",
                                 name=str(name), connectgaps=False, marker=dict(size=4)))
    fig.update_layout(template=template(presentation), title=title, yaxis_title=y_title, hovermode="x unified")
    if bands and len(df):
        add_aqi_bands(fig, y_max=max(float(np.nanmax(df[y].to_numpy(dtype=float))) * 1.1, 120), lang=lang,
                      font_scale=1.6 if presentation else 1.0)
    return fig


def aqi_bars(df: pd.DataFrame, *, x: str, title: str, lang: str = "zh", presentation: bool = False,
             hover: str | None = None) -> go.Figure:
    """Horizontal bars of AQI coloured by category, in the order of ``df`` from the top (e.g. the worst
    stations); the ``x`` column labels the bars, long station names included, without rotated text."""
    colours = category_colour(df["aqi"].to_numpy(dtype="float64"))
    full = df[x].astype(str)
    short = [v if len(v) <= BAR_LABEL_CHARS else v[: BAR_LABEL_CHARS - 1] + "…" for v in full]  # whole in the hover
    fig = go.Figure(go.Bar(y=short, x=df["aqi"], orientation="h", marker_color=list(colours),
                           text=df["aqi"].round().astype("Int64").astype(str), textposition="outside",
                           cliponaxis=False, hovertext=df[hover] if hover else full, hoverinfo="text+x"))
    # room for the value written after the longest bar: on a phone "200" was clipped to "2"
    top = float(np.nanmax(df["aqi"].to_numpy(dtype="float64"))) if len(df) and df["aqi"].notna().any() else 100.0
    fig.update_layout(template=template(presentation), title=title, xaxis_title="AQI", showlegend=False,
                      xaxis=dict(range=[0, top * 1.18 + 5]),
                      yaxis=dict(autorange="reversed", automargin=True), height=180 + 36 * max(len(df), 1))
    return fig


def bars(df: pd.DataFrame, *, x: str, y: str, title: str, y_title: str, presentation: bool = False,
         fmt: str = ".2f") -> go.Figure:
    """Plain bars with their values written on top (e.g. the composite-index ranking)."""
    fig = go.Figure(go.Bar(x=df[x], y=df[y], marker_color="#1f77b4", texttemplate="%{y:" + fmt + "}",
                           textposition="outside", cliponaxis=False))
    top = float(np.nanmax(df[y].to_numpy(dtype="float64"))) if len(df) and df[y].notna().any() else 1.0
    fig.update_layout(template=template(presentation), title=title, yaxis_title=y_title, showlegend=False,
                      yaxis=dict(range=[0, top * 1.15]) if top > 0 else {})
    return fig


@functools.lru_cache(maxsize=8)
def _outlines(units: tuple[str, ...], wkb: tuple[bytes, ...]) -> tuple[list, dict]:
    """The map's static geometry, computed once per boundary set: per polygon row, its exterior rings as
    one x/y array pair (NaN between rings — plotly draws them as separate filled shapes), and per unit a
    label point inside it."""
    import shapely  # shapely loads only for geometry work
    from shapely.ops import unary_union  # shapely loads only for geometry work

    geoms = shapely.from_wkb(list(wkb))
    shapes = []
    for g in geoms:
        rings = [np.asarray(p.exterior.coords) for p in getattr(g, "geoms", [g])]
        xy = np.concatenate([np.vstack([r, [[np.nan, np.nan]]]) for r in rings])[:-1]
        shapes.append((xy[:, 0].copy(), xy[:, 1].copy()))
    labels = {}
    for unit in dict.fromkeys(units):
        p = unary_union([g for u, g in zip(units, geoms, strict=True) if u == unit]).representative_point()
        labels[unit] = (p.x, p.y)
    return shapes, labels


def _spread_labels(xs: list[float], ys: list[float], names: list[str], extent, *, plot_px: float = 430,
                   font_px: float = 11, aspect: float = 1.38) -> tuple[list[float], list[float]]:
    """Nudge map labels apart: a label whose box would overlap one already placed moves to the nearest free line.

    ``extent`` is the map's (minx, miny, maxx, maxy) in degrees, drawn ``plot_px`` pixels tall with x stretched
    by ``aspect`` (the map's scaleratio); label boxes are estimated from the font size (a CJK character is
    one font size wide, a Latin one about 0.55).
    """
    if not xs:
        return xs, ys
    deg_per_px_y = ((extent[3] - extent[1]) or 1.0) / plot_px
    deg_per_px_x = deg_per_px_y * aspect
    line = 1.35 * font_px * deg_per_px_y
    placed: list[tuple[float, float, float]] = []
    out_y = []
    for x, y, n in zip(xs, ys, names, strict=True):
        s = str(n)
        cjk = sum(ord(ch) > 0x2E80 for ch in s)
        half = 0.5 * font_px * (cjk + 0.55 * (len(s) - cjk)) * deg_per_px_x + 3 * deg_per_px_x
        for dy in (0, 1, -1, 2, -2, 3, -3, 4, -4):  # the nearest free line, above first (labels sit over stations)
            cand = y + dy * line
            if all(abs(x - px) >= half + ph or abs(cand - py) >= line for px, py, ph in placed):
                y = cand
                break
        placed.append((x, y, half))
        out_y.append(y)
    return list(xs), out_y


def region_map(bounds, units: pd.DataFrame, stations: pd.DataFrame, *, title: str, lang: str = "zh",
               presentation: bool = False, edition: str = "auto", day=None) -> go.Figure:
    """Offline region map: polygons filled by their unit's AQI category, stations as points.

    Parameters
    ----------
    bounds : GeoDataFrame of district polygons (:func:`regionair.core.region.boundaries`: ``id``, ``jurisdiction``,
        geometry, WGS84).
    units : per-jurisdiction table with ``id``, ``aqi``, ``name`` (KPI table).
    stations : latest station table with ``longitude latitude aqi station name primary_pollutants side``.
    edition, day : the AQI edition whose category ranges the colour legend shows ("auto": the one in force on
        ``day``, the natural day mapped).
    No tile server: drawn as filled scatter traces on a plain lon/lat plane with equal aspect, one trace
    per polygon row (its parts joined); the outlines are computed once per boundary set, since the map is
    on the page every session opens first.
    """
    fig = go.Figure()
    aqi_by_unit = dict(zip(units["id"], units["aqi"], strict=False))
    name_by_unit = dict(zip(units["id"], units["name"], strict=False))
    shapes, labels = _outlines(tuple(bounds["jurisdiction"]), tuple(bounds.geometry.to_wkb()))
    own = bounds[f"name_{lang}"] if f"name_{lang}" in bounds else bounds["id"]
    for (xs, ys), unit, pid, pname in zip(shapes, bounds["jurisdiction"], bounds["id"], own, strict=True):
        aqi = aqi_by_unit.get(unit, np.nan)
        label = name_by_unit.get(unit, pname)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, fill="toself", fillcolor=category_colour(aqi) if not pd.isna(aqi) else "#E0E0E0",
            opacity=0.55, mode="lines", line=dict(color="#555", width=0.8), hoverinfo="text", showlegend=False,
            text=f"{' '.join(dict.fromkeys([label, pname]))}<br>AQI {'' if pd.isna(aqi) else int(aqi)}", name=str(pid)))
    # unit names at a point inside each unit (one text trace), nudged apart where two would overlap
    fallback = dict(zip(bounds["jurisdiction"], own, strict=True))
    names = [name_by_unit.get(u, fallback[u]) for u in labels]
    height = 560 if not presentation else 720
    lx, ly = _spread_labels([xy[0] for xy in labels.values()], [xy[1] for xy in labels.values()], names,
                            bounds.total_bounds, plot_px=height - 150, font_px=11 if not presentation else 15)
    fig.add_trace(go.Scatter(x=lx, y=ly, mode="text", text=names, showlegend=False,
                             hoverinfo="skip", textfont=dict(size=11 if not presentation else 15, color="#333")))
    if len(stations):
        # one trace, worst last: plotly draws later points on top, so the highest AQI is never hidden
        g = stations.assign(_k=stations["aqi"].fillna(-1)).sort_values("_k", kind="stable")
        hover = [
            f"{code} {name}<br>AQI {'' if pd.isna(a) else int(a)} {cat}<br>{t('primary', lang)}: {primary_label(pp, lang)}"
            for code, name, a, cat, pp in zip(g["station"], g["name"], g["aqi"], g["category"],
                                              g["primary_pollutants"], strict=True)
        ]
        fig.add_trace(go.Scatter(
            x=g["longitude"], y=g["latitude"], mode="markers", name=t("stations", lang),
            marker=dict(size=12 if not presentation else 16, symbol=[SIDE_SYMBOL.get(s, "circle") for s in g["side"]],
                        color=[category_colour(a) for a in g["aqi"]], line=dict(color="#000", width=1)),
            hovertext=hover, hoverinfo="text", showlegend=False))
        for side in [s for s in SIDE_SYMBOL if s in set(g["side"])]:
            # legend entry in neutral grey: the marker's colour is the station's AQI category
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=t("side_local" if side == "地方" else "side_corps", lang),
                                     legendgroup="side", marker=dict(size=10, symbol=SIDE_SYMBOL[side], color="#BBBBBB",
                                                                     line=dict(color="#000", width=1))))
    # the AQI colour legend: the six categories with their ranges (HJ 633 Table 2 colours)
    ed = edition if edition in ("2012", "2026") else (edition_for(day) if day is not None else "2012")
    for c in S.CATEGORIES:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", legendgroup="aqi",
                                 legendgrouptitle_text="AQI" if c["level"] == 1 else None,
                                 name=f"{c['name_' + lang]} {c['range_' + ed]}",
                                 marker=dict(size=11, symbol="square", color=c["hex"], line=dict(color="#555", width=0.5))))
    fig.update_layout(template=template(presentation), title=title, height=height,
                      xaxis=dict(visible=False, rangemode="normal"),
                      yaxis=dict(visible=False, rangemode="normal", scaleanchor="x", scaleratio=1.38),
                      # beside the map, top-aligned: never over the polygons or the source footer below
                      legend=dict(x=1.0, xanchor="left", y=1.0, yanchor="top", orientation="v", tracegroupgap=10,
                                  groupclick="toggleitem", font=dict(size=11 if not presentation else 15)))
    return fig


def calendar_heatmap(cal: pd.DataFrame, *, title: str, lang: str = "zh", presentation: bool = False) -> go.Figure:
    """Daily AQI as a calendar: rows = units (or weekdays), columns = dates, AQI colour scale."""
    pivot = cal.pivot_table(index="unit", columns="date", values="aqi", aggfunc="first")
    days = [str(c)[:10] for c in pivot.columns]
    fig = go.Figure(go.Heatmap(z=pivot.to_numpy(dtype=float), x=days, y=list(pivot.index),
                               colorscale=aqi_colorscale(), zmin=0, zmax=500, xgap=2, ygap=2,
                               colorbar=dict(title="AQI"), hovertemplate="%{y} %{x}<br>AQI %{z}<extra></extra>"))
    fig.update_layout(template=template(presentation), title=title, yaxis=dict(autorange="reversed", automargin=True))
    if len(days) <= CALENDAR_DAY_TICKS:
        # a short period: one labelled tick per day (plotly would otherwise label sub-day times such as
        # "23:59:59.9996" between two cells); the day format in the page's language
        labels = pd.to_datetime(days).strftime(DAY_LABEL.get(lang, DAY_LABEL["en"]))
        fig.update_xaxes(type="category", tickvals=days, ticktext=list(labels), tickangle=0 if len(days) <= 10 else -45)
    return localise_dates(fig, lang)


def stacked_bars(df: pd.DataFrame, *, x: str, y: str, color: str, title: str, y_title: str,
                 presentation: bool = False, colours: dict | None = None) -> go.Figure:
    """Stacked bars (e.g. primary-pollutant shares per jurisdiction)."""
    fig = go.Figure()
    for name, g in df.groupby(color, sort=False):
        fig.add_trace(go.Bar(x=g[x], y=g[y], name=str(name), marker_color=(colours or {}).get(name)))
    fig.update_layout(template=template(presentation), title=title, barmode="stack", yaxis_title=y_title)
    return fig


def heatmap(matrix: pd.DataFrame, *, title: str, zmin=-1, zmax=1, colorscale="RdBu_r", presentation: bool = False,
            fmt: str = ".2f") -> go.Figure:
    """Heat map of a matrix (correlations, lags, coverage); values written in the cells when it is small."""
    small = matrix.shape[1] <= 16 and matrix.shape[0] <= 25
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(dtype=float), x=[str(c) for c in matrix.columns],
                               y=[str(i) for i in matrix.index], zmin=zmin, zmax=zmax, colorscale=colorscale,
                               texttemplate="%{z:" + fmt + "}" if small else None, xgap=1, ygap=1))
    fig.update_layout(template=template(presentation), title=title,
                      yaxis=dict(autorange="reversed", dtick=1, type="category"),
                      xaxis=dict(type="category", side="top"),  # labels above: the source footer stays free below
                      height=max(360, 22 * matrix.shape[0] + 160))
    return fig


def profile_chart(df: pd.DataFrame, *, x: str, y: str, lo: str, hi: str, color: str, title: str, x_title: str,
                  y_title: str, presentation: bool = False) -> go.Figure:
    """Mean profile with a confidence band per group (openair timeVariation-like)."""
    fig = go.Figure()
    palette = pio.templates["regionair"].layout.colorway
    for i, (name, g) in enumerate(df.groupby(color, sort=False)):
        c = palette[i % len(palette)]
        fig.add_trace(go.Scatter(x=list(g[x]) + list(g[x])[::-1], y=list(g[hi]) + list(g[lo])[::-1], fill="toself",
                                 fillcolor=c, opacity=0.15, line=dict(width=0), hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=g[x], y=g[y], name=str(name), mode="lines+markers", line=dict(color=c)))
    fig.update_layout(template=template(presentation), title=title, xaxis_title=x_title, yaxis_title=y_title)
    return fig


def pollutant_axis_title(code: str, lang: str) -> str:
    return pollutant_label(code, lang, unit=True)


def to_json(fig: go.Figure) -> str:
    """Figure as JSON (for export bundles)."""
    return json.dumps(fig.to_plotly_json(), default=str)


def overlay_measures(fig: go.Figure, ms: pd.DataFrame, *, names: dict[str, str] | None = None,
                     lang: str = "zh") -> go.Figure:
    """Shade each measure's period on a time-axis figure, labelled with jurisdiction and kind."""
    names = names or {}
    palette = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]
    for i, m in enumerate(ms.itertuples()):
        kind = pair_text(MEASURE_TYPES.get(m.kind, (m.kind, m.kind)), lang)
        fig.add_vrect(x0=m.start, x1=m.end, fillcolor=palette[i % len(palette)], opacity=0.10, line_width=1,
                      line_dash="dot", line_color=palette[i % len(palette)], layer="below",
                      annotation_text=f"{names.get(m.jurisdiction, m.jurisdiction)}·{kind}",
                      annotation_position="top left", annotation_font_size=10)
    return fig


def budget_bars(budget: pd.DataFrame, *, title: str, lang: str = "zh", presentation: bool = False) -> go.Figure:
    """Today's remaining budget per jurisdiction: the mean so far, what the rest of the day may average
    (never below 0) and the boundary concentration C* (a marker), for one pollutant (``name``, ``mean_so_far``,
    ``allowance``, ``limit``, ``pollutant``)."""
    p = str(budget["pollutant"].iloc[0]) if len(budget) else "pm25"
    fig = go.Figure()
    fig.add_trace(go.Bar(x=budget["name"], y=budget["mean_so_far"], name=t("budget_mean_so_far", lang)))
    fig.add_trace(go.Bar(x=budget["name"], y=budget["allowance"].clip(lower=0), name=t("budget_allowance", lang)))
    fig.add_trace(go.Scatter(x=budget["name"], y=budget["limit"], mode="markers",
                             marker=dict(symbol="line-ew-open", size=40), name=t("budget_limit", lang)))
    fig.update_layout(template=template(presentation), barmode="group", title=title,
                      yaxis_title=pollutant_label(p, lang, unit=True))
    return fig
