"""Plotly figure builders for the transport analyses (:mod:`regionair.analysis.transport`).

Each builder takes the table an analysis returned and gives a ``plotly.graph_objects.Figure`` in
the shared template (:func:`regionair.render.charts.template`). Polar charts use the meteorological
convention: north up, clockwise, a bar at 270° means wind **from** the west. No Streamlit here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from regionair.core.i18n import column_label
from regionair.render.charts import template

#: Sequential colours for speed / concentration classes (light → dark).
CLASS_COLOURS = ("#c6dbef", "#6baed6", "#2171b5", "#fdae61", "#f46d43", "#d73027", "#a50026", "#67001f")
_POLAR = dict(angularaxis=dict(direction="clockwise", rotation=90, tickmode="array",
                               tickvals=[0, 45, 90, 135, 180, 225, 270, 315],
                               ticktext=["N", "NE", "E", "SE", "S", "SW", "W", "NW"]),
              radialaxis=dict(angle=90, tickangle=90))


def _calm_note(table: pd.DataFrame, lang: str, by_value=None) -> str:
    calm = table[table["sector"] == -1]
    if "freq" in calm.columns and len(calm):
        pct = float(calm["freq"].sum())
        return f"静风 {pct:.0f}%" if lang == "zh" else f"calm {pct:.0f}%"
    if "n" in calm.columns and len(calm):
        return (f"静风 {int(calm['n'].sum())} 小时" if lang == "zh" else f"calm {int(calm['n'].sum())} h")
    return ""


def rose(table: pd.DataFrame, *, title: str, legend_title: str, lang: str = "zh",
         presentation: bool = False) -> go.Figure:
    """Stacked polar bars of a wind rose or pollution rose (:func:`~regionair.analysis.transport.wind_rose`).

    Bar length = frequency [% of hours]; colours = speed or concentration classes; the calm share
    is written in the centre.
    """
    fig = go.Figure()
    t = table[table["sector"] >= 0]
    n_sec = int(t["sector"].max()) + 1 if len(t) else 16
    width = 360.0 / n_sec
    for i, (label, g) in enumerate(t.groupby("bin", sort=False)):
        g = g.groupby(["sector", "direction"], as_index=False)["freq"].sum()
        fig.add_trace(go.Barpolar(r=g["freq"], theta=g["direction"], width=[width * 0.95] * len(g), name=str(label),
                                  marker_color=CLASS_COLOURS[i % len(CLASS_COLOURS)], marker_line_width=0.3,
                                  hovertemplate="%{theta}°: %{r:.1f}%<extra>" + str(label) + "</extra>"))
    fig.update_layout(template=template(presentation), title=title, polar=_POLAR, barmode="stack",
                      legend=dict(title=legend_title, orientation="v", y=0.5, x=1.05),
                      annotations=[dict(text=_calm_note(table, lang), x=0.5, y=-0.12, xref="paper", yref="paper",
                                        showarrow=False, font=dict(size=11, color="#555"))])
    return fig


def percentile_rose(table: pd.DataFrame, *, title: str, unit: str, lang: str = "zh",
                    presentation: bool = False) -> go.Figure:
    """Closed lines of concentration percentiles by wind sector (openair ``percentileRose``)."""
    fig = go.Figure()
    t = table[table["sector"] >= 0].sort_values("direction")
    cols = [c for c in t.columns if c.startswith("p") and c[1:].replace(".", "", 1).isdigit()]
    for i, c in enumerate(cols):
        r = list(t[c]) + list(t[c].iloc[:1])
        th = list(t["direction"]) + list(t["direction"].iloc[:1])
        fig.add_trace(go.Scatterpolar(r=r, theta=th, mode="lines", name=f"P{c[1:]}", connectgaps=False,
                                      fill="toself" if i == 0 else None,
                                      line=dict(color=CLASS_COLOURS[(i + 1) % len(CLASS_COLOURS)], width=2)))
    fig.update_layout(template=template(presentation), title=title, polar=_POLAR,
                      legend=dict(title=unit, orientation="v", y=0.5, x=1.05))
    return fig


def cpf_rose(table: pd.DataFrame, *, title: str, lang: str = "zh", presentation: bool = False) -> go.Figure:
    """Polar bars of the conditional probability function per sector, with the base rate as a ring."""
    t = table[table["sector"] >= 0]
    n_sec = len(t) if len(t) else 16
    fig = go.Figure(go.Barpolar(
        r=t["cpf"].fillna(0), theta=t["direction"], width=[360.0 / n_sec * 0.95] * len(t), marker_color="#d73027",
        customdata=np.c_[t["n"], t["n_high"]], name="CPF",
        hovertemplate="%{theta}°: CPF %{r:.2f} (%{customdata[1]}/%{customdata[0]} h)<extra></extra>"))
    n_all, n_high = int(table["n"].sum()), int(table["n_high"].sum())
    if n_all:
        base = n_high / n_all
        fig.add_trace(go.Scatterpolar(r=[base] * 361, theta=list(range(361)), mode="lines", name=(
            "总体比例" if lang == "zh" else "overall share"), line=dict(color="#333", dash="dot", width=1)))
    fig.update_layout(template=template(presentation), title=title,
                      polar={**_POLAR, "radialaxis": {**_POLAR["radialaxis"], "range": [0, 1]}},
                      legend=dict(orientation="h", y=-0.15))
    return fig


def polar_plot(grid: pd.DataFrame, *, title: str, colour_title: str, presentation: bool = False,
               cpf: bool = False) -> go.Figure:
    """Bivariate polar plot: smoothed value by wind speed (radius, m/s) × direction (angle)."""
    g = grid.dropna(subset=["value"])
    step = float(grid["speed_high"].iloc[0] - grid["speed_low"].iloc[0]) if len(grid) else 0.5
    dstep = float(np.diff(np.unique(grid["direction"]))[0]) if grid["direction"].nunique() > 1 else 10.0
    zmax = 1.0 if cpf else (float(g["value"].max()) if len(g) else 1.0)
    fig = go.Figure(go.Barpolar(
        r=[step] * len(g), base=g["speed_low"], theta=g["direction"], width=[dstep] * len(g),
        marker=dict(color=g["value"], colorscale="Jet" if not cpf else "YlOrRd", cmin=0 if cpf else None,
                    cmax=zmax, colorbar=dict(title=colour_title), line_width=0),
        customdata=np.c_[g["value"], g["n"]],
        hovertemplate="%{theta}°, %{base:.1f} m/s: %{customdata[0]:.2f} (n=%{customdata[1]})<extra></extra>"))
    fig.update_layout(template=template(presentation), title=title, showlegend=False,
                      polar={**_POLAR, "radialaxis": {**_POLAR["radialaxis"], "ticksuffix": " m/s"}},
                      polar_bargap=0)
    return fig


def lag_matrix(table: pd.DataFrame, names: dict, *, title: str, lang: str = "zh",
               presentation: bool = False) -> go.Figure:
    """Heat map source × target of the arrow weight, annotated with the peak lag [h] and support."""
    ids = list(dict.fromkeys([*table["source"], *table["target"]]))
    w = table.pivot_table(index="source", columns="target", values="weight", aggfunc="first").reindex(
        index=ids, columns=ids)
    text = pd.DataFrame("", index=ids, columns=ids)
    for r in table.itertuples(index=False):
        if not pd.isna(r.lag):
            text.loc[r.source, r.target] = f"{int(r.lag):+d} h<br>{r.support:.0%}"
    fig = go.Figure(go.Heatmap(
        z=w.to_numpy(dtype=float), x=[names.get(i, i) for i in ids], y=[names.get(i, i) for i in ids],
        zmin=0, zmax=max(0.3, float(np.nanmax(w.to_numpy(dtype=float))) if w.notna().any().any() else 0.3),
        colorscale="Reds", text=text.to_numpy(), texttemplate="%{text}",
        colorbar=dict(title=column_label("weight", lang)), hovertemplate="%{y} → %{x}: %{z:.2f}<extra></extra>"))
    fig.update_layout(template=template(presentation), title=title,
                      xaxis_title=column_label("target", lang), yaxis_title=column_label("upwind", lang),
                      yaxis=dict(autorange="reversed"))
    return fig


def transport_map(bounds, points: pd.DataFrame, table: pd.DataFrame, names: dict, *, title: str,
                  min_support: float = 0.5, lang: str = "zh", presentation: bool = False) -> go.Figure:
    """Region map with arrows source → target between representative points, width ∝ weight.

    Parameters
    ----------
    bounds : GeoDataFrame — jurisdiction polygons (:func:`regionair.core.region.boundaries`).
    points : DataFrame — :func:`~regionair.analysis.transport.centroids` output.
    table : DataFrame — :func:`~regionair.analysis.transport.transport_matrix` output.
    min_support : float — draw an arrow only when ``support`` ≥ this and lag ≥ 1 h.
    """
    fig = go.Figure()
    for row in bounds.itertuples(index=False):
        geom = row.geometry
        for k, poly in enumerate(list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]):
            xs, ys = poly.exterior.coords.xy
            fig.add_trace(go.Scatter(x=list(xs), y=list(ys), fill="toself", fillcolor="#f2f2f2", mode="lines",
                                     line=dict(color="#888", width=0.8), hoverinfo="skip", showlegend=False,
                                     name=f"{row.id}-{k}"))
    pts = points.set_index("id")
    fig.add_trace(go.Scatter(x=points["longitude"], y=points["latitude"], mode="markers+text",
                             text=[names.get(i, i) for i in points["id"]], textposition="bottom center",
                             marker=dict(size=9, color="#333"), hoverinfo="text", showlegend=False))
    wmax = float(table["weight"].max()) if len(table) and table["weight"].max() > 0 else 1.0
    drawn = table[(table["support"] >= min_support) & (table["lag"] >= 1)]
    for r in drawn.itertuples(index=False):
        if r.source not in pts.index or r.target not in pts.index:
            continue
        x0, y0 = pts.at[r.source, "longitude"], pts.at[r.source, "latitude"]
        x1, y1 = pts.at[r.target, "longitude"], pts.at[r.target, "latitude"]
        # shorten and offset sideways so that A→B and B→A do not overlap
        dx, dy = x1 - x0, y1 - y0
        nx, ny = -dy * 0.06, dx * 0.06
        fig.add_annotation(x=x0 + 0.85 * dx + nx, y=y0 + 0.85 * dy + ny, ax=x0 + 0.15 * dx + nx,
                           ay=y0 + 0.15 * dy + ny, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=2, arrowsize=0.7, arrowwidth=1.0 + 3.0 * float(r.weight) / wmax,
                           arrowcolor="#c0392b", text="")
        fig.add_annotation(x=x0 + 0.5 * dx + 2.5 * nx, y=y0 + 0.5 * dy + 2.5 * ny, showarrow=False,
                           text=f"{int(r.lag)} h · {r.support:.0%}", font=dict(size=10, color="#c0392b"))
    fig.update_layout(template=template(presentation), title=title, height=560 if not presentation else 720,
                      xaxis=dict(visible=False, rangemode="normal"),
                      yaxis=dict(visible=False, rangemode="normal", scaleanchor="x", scaleratio=1.38))
    return fig


def onset_chart(order: pd.DataFrame, names: dict, *, title: str, lang: str = "zh",
                presentation: bool = False) -> go.Figure:
    """Onset hour of each unit against its downwind position (advection → points rise to the right)."""
    fig = go.Figure(go.Scatter(x=order["downwind_km"], y=order["onset_h"], mode="markers+text",
                               text=[names.get(u, u) for u in order["unit"]], textposition="top center",
                               marker=dict(size=12, color="#1f77b4")))
    fig.update_layout(template=template(presentation), title=title,
                      xaxis_title="顺风方向位置 [km]（上游 ← → 下游）" if lang == "zh"
                      else "position along the wind [km] (upwind ← → downwind)",
                      yaxis_title="开始时间（首个单元后小时数）" if lang == "zh" else "onset [h after the first unit]")
    return fig


def attribution_bars(table: pd.DataFrame, names: dict, *, title: str, lang: str = "zh",
                     presentation: bool = False) -> go.Figure:
    """Share of high hours vs all hours by upwind neighbour (plus calm / other)."""
    label = [names.get(u, {"calm": "静风" if lang == "zh" else "calm",
                           "other": "其他方向" if lang == "zh" else "other"}.get(u, u)) for u in table["upwind"]]
    fig = go.Figure([
        go.Bar(x=label, y=100 * table["share_high"], name="高值小时" if lang == "zh" else "high hours",
               marker_color="#d73027"),
        go.Bar(x=label, y=100 * table["share_all"], name="全部小时" if lang == "zh" else "all hours",
               marker_color="#9e9e9e"),
    ])
    fig.update_layout(template=template(presentation), title=title, barmode="group", yaxis_title="%")
    return fig


def stagnation_panel(table: pd.DataFrame, pollutant: str, names: dict, *, title: str, unit_label: str,
                     lang: str = "zh", presentation: bool = False) -> go.Figure:
    """Three stacked panels per natural day: calm / low-wind fraction, boundary-layer height, concentration."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#e377c2"]
    for i, (unit, g) in enumerate(table.groupby("station", sort=False)):
        c = palette[i % len(palette)]
        nm = names.get(unit, unit)
        x = [str(d) for d in g["date"]]
        fig.add_trace(go.Scatter(x=x, y=100 * g["calm_frac"], name=nm, legendgroup=nm, line=dict(color=c),
                                 mode="lines+markers"), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=100 * g["low_wind_frac"], name=nm, legendgroup=nm, showlegend=False,
                                 line=dict(color=c, dash="dot"), mode="lines"), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=g["blh_mean"], name=nm, legendgroup=nm, showlegend=False,
                                 line=dict(color=c), mode="lines+markers"), row=2, col=1)
        fig.add_trace(go.Scatter(x=x, y=g[pollutant], name=nm, legendgroup=nm, showlegend=False,
                                 line=dict(color=c), mode="lines+markers"), row=3, col=1)
    zh = lang == "zh"
    fig.update_yaxes(title_text="静风/弱风 %" if zh else "calm / low wind %", row=1, col=1, range=[0, 100])
    fig.update_yaxes(title_text="边界层高度 m" if zh else "BLH m", row=2, col=1)
    fig.update_yaxes(title_text=unit_label, row=3, col=1)
    fig.update_layout(template=template(presentation), title=title, height=640 if not presentation else 860)
    return fig


def lag_curve(curve: pd.DataFrame, *, title: str, lang: str = "zh", presentation: bool = False) -> go.Figure:
    """Cross-correlation against lag with its bootstrap band (positive lag = source leads)."""
    fig = go.Figure([
        go.Scatter(x=list(curve["lag"]) + list(curve["lag"])[::-1], y=list(curve["r_hi"]) + list(curve["r_lo"])[::-1],
                   fill="toself", fillcolor="rgba(31,119,180,0.15)", line=dict(width=0), hoverinfo="skip",
                   showlegend=False),
        go.Scatter(x=curve["lag"], y=curve["r"], mode="lines+markers", name="r", line=dict(color="#1f77b4")),
    ])
    fig.update_layout(template=template(presentation), title=title,
                      xaxis_title="滞后 [h]（正 = 上游方领先）" if lang == "zh" else "lag [h] (positive = source leads)",
                      yaxis=dict(title="r", rangemode="normal"))
    return fig
