"""Cross-boundary transport: wind-conditioned views of concentrations and who affects whom.

Every public function returns the table behind a chart (figures are built by
:mod:`regionair.render.transport_charts`). Inputs are the canonical frames:

* concentrations — a unit frame from :func:`regionair.core.region.aggregate` /
  :func:`regionair.analysis.latest.unit_hourly` (``station`` holds the unit id) or a station frame,
  with ``time`` (Beijing, hour-ending) and pollutant columns [µg/m³; CO mg/m³; AQI 1];
* wind — :func:`jurisdiction_wind` output: ``station`` (jurisdiction id), ``time`` (Beijing,
  instantaneous model value at the stamp), ``wind_speed`` [m/s], ``wind_direction`` [° clockwise
  from north, the direction the wind **comes from**], optionally ``blh`` [m].

Shared vocabulary (after openair): ``n_sectors`` (8 or 16 wind sectors, sector *k* centred on
*k*·360/n°), ``calm`` (wind speed [m/s] below which an hour is calm and has no direction; default
0.5 m/s), ``by`` (grouping column), ``percentile`` (concentration percentile defining "high").

Time alignment: a CNEMC value stamped 16:00 is the 15–16 h mean, the Open-Meteo wind stamped
16:00 is the instantaneous value at 16:00 — the two are joined on the stamp (≤ 30 min offset).

What these methods can and cannot show is written up in ``docs/transport.md``: correlation and
wind conditioning describe co-variation consistent (or not) with transport; they are not source
apportionment.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from regionair.analysis._common import check_choice, check_columns, to_beijing
from regionair.core import region
from regionair.errors import InputError

#: Default calm threshold [m/s]: hours with a lower 10-m wind speed have no meaningful direction.
CALM_MS = 0.5
#: Wind-speed class limits of the wind rose [m/s] (the first class starts at the calm threshold).
SPEED_BREAKS = (0.5, 1.5, 3.0, 5.0, 8.0)
#: Percentile defining "high" concentrations for the CPF (Uria-Tellaetxe & Carslaw 2014 use 75–90).
CPF_PERCENTILE = 75
SECTOR_COUNTS = (8, 16)
PREWHITEN = ("ar", "diff", "none")
WIND_AT = ("mean", "source", "target")
POLAR_STATISTICS = ("mean", "cpf")
_NAMES16 = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
#: Source preference when the store holds wind for the same point and hour from several sources.
WIND_SOURCE_ORDER = ("open-meteo-archive", "open-meteo-forecast")
_HOUR = pd.Timedelta(hours=1)
_Z95 = 1.959963984540054


# ------------------------------------------------------------------------------------------------
# geometry and wind basics
# ------------------------------------------------------------------------------------------------


def centroids(ids=None) -> pd.DataFrame:
    """Representative point of each jurisdiction polygon, in WGS84 and in a metric CRS.

    Parameters
    ----------
    ids : iterable of str, optional
        Jurisdiction ids to keep (default: every unit with a boundary).

    Returns
    -------
    DataFrame
        ``id``, ``name_zh``, ``name_en``, ``x``, ``y`` [m, UTM zone 45N, EPSG:32645], ``longitude``,
        ``latitude`` [°, WGS84]. The point is shapely's ``representative_point`` of the dissolved
        jurisdiction polygon computed in the metric CRS (always inside the polygon, unlike the
        centroid of a concave unit).
    """

    b = region.boundaries(level="jurisdiction")
    if ids is not None:
        b = b[b["id"].isin(list(ids))]
    m = b.to_crs(region.METRIC_CRS)
    pts = m.geometry.representative_point()
    ll = pts.to_crs(4326)
    return pd.DataFrame({"id": b["id"].to_numpy(), "name_zh": b["name_zh"].to_numpy(),
                         "name_en": b["name_en"].to_numpy(), "x": pts.x.to_numpy(), "y": pts.y.to_numpy(),
                         "longitude": ll.x.to_numpy(), "latitude": ll.y.to_numpy()})


def bearing(x0, y0, x1, y1):
    """Bearing from point 0 to point 1 [° clockwise from grid north, 0–360).

    Parameters
    ----------
    x0, y0, x1, y1 : float or array-like — metric coordinates [m] (e.g. UTM 45N).

    Returns
    -------
    float or ndarray — bearing [°]; NaN when the points coincide.

    Notes
    -----
    Grid north of UTM 45N differs from true north by the meridian convergence, under 1.5° across
    the region (84–90° E, 43–45° N) — far below the width of a wind sector.
    """
    dx = np.asarray(x1, dtype=float) - np.asarray(x0, dtype=float)
    dy = np.asarray(y1, dtype=float) - np.asarray(y0, dtype=float)
    b = np.degrees(np.arctan2(dx, dy)) % 360.0
    return np.where((dx == 0) & (dy == 0), np.nan, b)


def pair_bearings(pairs, points: pd.DataFrame | None = None) -> pd.DataFrame:
    """Directed pairs with the bearing and distance between their representative points.

    Parameters
    ----------
    pairs : DataFrame with ``a``, ``b`` (e.g. :func:`regionair.core.region.neighbour_pairs`) or iterable of
        ``(a, b)``.
    points : DataFrame, optional — :func:`centroids` output (default: computed).

    Returns
    -------
    DataFrame
        Two rows per pair (both directions): ``source``, ``target``, ``bearing`` [°, from source to
        target], ``wind_from`` [°] — the wind direction that blows from source towards target
        (= bearing + 180 mod 360), ``distance_km`` [km]. NaN geometry when a unit has no polygon.
    """
    p = _pairs(pairs)
    pts = (centroids() if points is None else points).set_index("id")
    src = np.r_[p["a"].to_numpy(), p["b"].to_numpy()]
    dst = np.r_[p["b"].to_numpy(), p["a"].to_numpy()]
    x0, y0 = pts["x"].reindex(src).to_numpy(), pts["y"].reindex(src).to_numpy()
    x1, y1 = pts["x"].reindex(dst).to_numpy(), pts["y"].reindex(dst).to_numpy()
    b = bearing(x0, y0, x1, y1)
    out = pd.DataFrame({"source": src, "target": dst, "bearing": b, "wind_from": (b + 180.0) % 360.0,
                        "distance_km": np.hypot(x1 - x0, y1 - y0) / 1000.0})
    return out


def angular_distance(a, b):
    """Smallest absolute angle between directions ``a`` and ``b`` [°, 0–180]."""
    d = (np.asarray(a, dtype=float) - np.asarray(b, dtype=float) + 180.0) % 360.0 - 180.0
    return np.abs(d)


def _check_sectors(n_sectors: int) -> None:
    check_choice("n_sectors", n_sectors, SECTOR_COUNTS)


def sector_labels(n_sectors: int = 16) -> list[str]:
    """Compass names of the sectors (``N``, ``NNE`` … for 16; ``N``, ``NE`` … for 8)."""
    _check_sectors(n_sectors)
    return list(_NAMES16[:: 16 // n_sectors])


def wind_sector(wind_direction, wind_speed=None, n_sectors: int = 16, calm: float = CALM_MS):
    """Sector index of each wind direction.

    Parameters
    ----------
    wind_direction : array-like — direction the wind comes from [°].
    wind_speed : array-like, optional — speed [m/s]; hours below ``calm`` get −1.
    n_sectors : {8, 16} — sector *k* covers centre *k*·w ± w/2 with w = 360/n [°] (N straddles 0°).
    calm : float — calm threshold [m/s].

    Returns
    -------
    ndarray of float — 0 … n−1, −1 for calm, NaN when direction (or speed) is missing.
    """
    _check_sectors(n_sectors)
    wd = np.asarray(wind_direction, dtype=float)
    w = 360.0 / n_sectors
    idx = np.floor(((wd + w / 2.0) % 360.0) / w)
    idx = np.where(np.isnan(wd), np.nan, idx)
    if wind_speed is not None:
        ws = np.asarray(wind_speed, dtype=float)
        idx = np.where(np.isnan(ws), np.nan, np.where(ws < calm, -1.0, idx))
    return idx


def vector_mean(wind_speed, wind_direction) -> tuple[float, float, float]:
    """Resultant (vector-mean) wind.

    Parameters
    ----------
    wind_speed : array-like [m/s]; wind_direction : array-like [° from].

    Returns
    -------
    (speed, direction, steadiness) : resultant speed [m/s], direction the resultant comes from
        [°], and steadiness = resultant speed / mean scalar speed [0–1] (1 = constant direction).
        NaN when nothing is valid.
    """
    ws = np.asarray(wind_speed, dtype=float)
    wd = np.asarray(wind_direction, dtype=float)
    ok = ~np.isnan(ws) & ~np.isnan(wd)
    if not ok.any():
        return float("nan"), float("nan"), float("nan")
    u = -ws[ok] * np.sin(np.radians(wd[ok]))
    v = -ws[ok] * np.cos(np.radians(wd[ok]))
    um, vm = u.mean(), v.mean()
    speed = float(np.hypot(um, vm))
    direction = float(np.degrees(np.arctan2(-um, -vm)) % 360.0) if speed > 0 else float("nan")
    mean_speed = float(ws[ok].mean())
    return speed, direction, (speed / mean_speed if mean_speed > 0 else float("nan"))


# ------------------------------------------------------------------------------------------------
# 1. wind per jurisdiction
# ------------------------------------------------------------------------------------------------


def jurisdiction_wind(weather: pd.DataFrame, jurisdictions=None,
                      source_order: tuple[str, ...] = WIND_SOURCE_ORDER) -> pd.DataFrame:
    """Hourly 10-m wind per jurisdiction from stored Open-Meteo weather.

    Parameters
    ----------
    weather : DataFrame
        :meth:`regionair.store.Store.weather` rows: ``source``, ``point`` (a jurisdiction id, see
        :func:`regionair.pipeline.ingest.representative_points`), ``time``, ``wind_speed`` [m/s],
        ``wind_direction`` [° from], optionally ``blh`` [m], ``temperature`` [°C], ``rh`` [%].
    jurisdictions : iterable of str, optional — ids to keep.
    source_order : tuple of str
        Preference when several sources cover one point and hour (reanalysis before forecast;
        unknown sources after these, alphabetically).

    Returns
    -------
    DataFrame
        ``station`` (jurisdiction id), ``time`` (Beijing), ``wind_speed`` [m/s],
        ``wind_direction`` [°], ``blh`` [m], ``temperature`` [°C], ``rh`` [%] (NaN when absent) and
        ``wind_source``; one row per unit and hour, sorted.
    """
    cols = ["station", "time", "wind_speed", "wind_direction", "blh", "temperature", "rh", "wind_source"]
    if weather is None or len(weather) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols}).astype(
            {"station": object, "wind_source": object, "time": "datetime64[ns, Asia/Shanghai]"})
    check_columns(weather, ("point", "time", "wind_speed", "wind_direction"), "weather")
    w = weather.copy()
    w["time"] = to_beijing(w["time"])
    src = w["source"].astype(str) if "source" in w.columns else pd.Series("", index=w.index)
    rank = {s: i for i, s in enumerate(source_order)}
    w["_rank"] = src.map(rank).fillna(len(rank)).to_numpy()
    w["wind_source"] = src.to_numpy()
    w = w.sort_values(["point", "time", "_rank", "wind_source"], kind="stable")
    w = w.dropna(subset=["wind_speed", "wind_direction"], how="all")
    w = w.drop_duplicates(["point", "time"], keep="first").rename(columns={"point": "station"})
    if jurisdictions is not None:
        w = w[w["station"].isin(list(jurisdictions))]
    for c in ("blh", "temperature", "rh"):
        if c not in w.columns:
            w[c] = np.nan
    return w[cols].reset_index(drop=True)


def attach_wind(frame: pd.DataFrame, wind: pd.DataFrame) -> pd.DataFrame:
    """Join wind onto a concentration frame by jurisdiction and hour.

    Parameters
    ----------
    frame : DataFrame — unit or station frame with ``station`` and ``time``. Station codes known to
        the catalogue take the wind of their jurisdiction; other ids are taken as jurisdiction ids.
    wind : DataFrame — :func:`jurisdiction_wind` output.

    Returns
    -------
    DataFrame — ``frame`` with ``wind_speed`` [m/s], ``wind_direction`` [°] and ``blh`` [m] added
    (NaN where no wind row matches).
    """

    check_columns(frame, ("station", "time"))
    out = frame.drop(columns=[c for c in ("wind_speed", "wind_direction", "blh") if c in frame.columns])
    st_map = region.station_jurisdictions()
    key = out["station"].astype(str).map(lambda s: st_map.get(s) or s)
    left = pd.DataFrame({"_unit": key.to_numpy(), "_t": to_beijing(out["time"]).to_numpy()})
    if wind is None or len(wind) == 0:
        for c in ("wind_speed", "wind_direction", "blh"):
            out[c] = np.nan
        return out
    right = wind[["station", "time", "wind_speed", "wind_direction", "blh"]].rename(
        columns={"station": "_unit", "time": "_t"})
    right = right.assign(_t=to_beijing(right["_t"]))
    joined = left.merge(right, on=["_unit", "_t"], how="left")
    for c in ("wind_speed", "wind_direction", "blh"):
        out[c] = joined[c].to_numpy(dtype=float)
    return out


# ------------------------------------------------------------------------------------------------
# 2. roses
# ------------------------------------------------------------------------------------------------


def _bin_labels(breaks) -> list[str]:
    b = list(breaks)
    labels = [f"{_fmt(lo)}–{_fmt(hi)}" for lo, hi in zip(b[:-1], b[1:])]
    return [*labels, f"≥{_fmt(b[-1])}"]


def _fmt(x: float) -> str:
    return f"{x:g}"


def _nice_breaks(values: np.ndarray, n: int = 5) -> tuple[float, ...]:
    v = values[~np.isnan(values)]
    if v.size == 0 or np.nanmax(v) <= 0:
        return (0.0,)
    top = float(np.percentile(v, 95))
    raw = max(top / n, 1e-9)
    mag = 10 ** np.floor(np.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=10 * mag)
    return tuple(float(step * i) for i in range(n))


def _sectored(frame: pd.DataFrame, ws: str, wd: str, value: str, by: str | None, n_sectors: int, calm: float):
    """Shared set-up of the roses and CPF: wind sector per row (−1 = calm), values, validity mask,
    sector names, sector width [°] and the row masks of each ``by`` group."""
    sec = wind_sector(frame[wd], frame[ws], n_sectors, calm)
    val = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
    ok = ~np.isnan(sec) & ~np.isnan(val)
    groups = [(None, np.ones(len(frame), dtype=bool))] if not by else [
        (g, (frame[by] == g).to_numpy()) for g in pd.unique(frame[by])]
    return sec, val, ok, sector_labels(n_sectors), 360.0 / n_sectors, groups


def _rose(frame, value, breaks, n_sectors, calm, by, ws, wd) -> pd.DataFrame:
    _check_sectors(n_sectors)
    check_columns(frame, (ws, wd, value) + ((by,) if by else ()))
    breaks = tuple(float(b) for b in breaks)
    if len(breaks) == 0 or any(b2 <= b1 for b1, b2 in zip(breaks[:-1], breaks[1:])):
        raise InputError(f"breaks={breaks!r}; give increasing class limits", column="breaks")
    sec, val, ok, names, width, groups = _sectored(frame, ws, wd, value, by, n_sectors, calm)
    cls = np.searchsorted(np.asarray(breaks), val, side="right") - 1  # value < first break → −1
    labels = _bin_labels(breaks)
    rows = []
    for g, m in groups:
        mm = m & ok
        for k in range(n_sectors):
            in_k = mm & (sec == k)
            for j, lab in enumerate(labels):
                n = int((in_k & (cls == j)).sum())
                hi = breaks[j + 1] if j + 1 < len(breaks) else np.inf
                rows.append({by or "_": g, "sector": k, "sector_label": names[k], "direction": k * width,
                             "bin": lab, "bin_low": breaks[j], "bin_high": hi, "n": n})
            below = int((in_k & (cls < 0)).sum())
            if below:
                rows.append({by or "_": g, "sector": k, "sector_label": names[k], "direction": k * width,
                             "bin": f"<{_fmt(breaks[0])}", "bin_low": -np.inf, "bin_high": breaks[0], "n": below})
        rows.append({by or "_": g, "sector": -1, "sector_label": "calm", "direction": np.nan, "bin": "calm",
                     "bin_low": np.nan, "bin_high": np.nan, "n": int((mm & (sec == -1)).sum())})
    key = by or "_"
    out = pd.DataFrame(rows, columns=[key, "sector", "sector_label", "direction", "bin", "bin_low", "bin_high", "n"])
    totals = out.groupby(key, dropna=False)["n"].transform("sum")
    out["freq"] = np.where(totals > 0, 100.0 * out["n"] / totals.where(totals > 0, 1), np.nan)
    if not by:
        out = out.drop(columns="_")
    return out.reset_index(drop=True)


def wind_rose(wind: pd.DataFrame, n_sectors: int = 16, calm: float = CALM_MS, speed_breaks=SPEED_BREAKS,
              by: str | None = "station", ws: str = "wind_speed", wd: str = "wind_direction") -> pd.DataFrame:
    """Frequency of wind by direction sector and speed class (openair ``windRose``).

    Parameters
    ----------
    wind : DataFrame — hourly rows with ``ws`` [m/s] and ``wd`` [° from] (and ``by``).
    n_sectors : {8, 16}
    calm : float — calm threshold [m/s]; calm hours form one row (``sector = −1``).
    speed_breaks : sequence of float — lower limits of the speed classes [m/s]; the last class is
        open-ended. Non-calm speeds below the first limit form a ``<first`` class.
    by : str or None — grouping column (one rose per group).

    Returns
    -------
    DataFrame
        ``by``, ``sector`` (0 … n−1, −1 calm), ``sector_label``, ``direction`` (sector centre [°]),
        ``bin`` (class label), ``bin_low``, ``bin_high`` [m/s], ``n`` (hours), ``freq`` [% of the
        group's hours with valid speed and direction, calms included]. Every sector × class
        appears (n = 0 when empty).
    """
    return _rose(wind, ws, speed_breaks, n_sectors, calm, by, ws, wd)


def pollution_rose(frame: pd.DataFrame, pollutant: str, n_sectors: int = 16, calm: float = CALM_MS,
                   breaks=None, by: str | None = "station", ws: str = "wind_speed",
                   wd: str = "wind_direction") -> pd.DataFrame:
    """Frequency of concentration classes by wind sector (openair ``pollutionRose``).

    Parameters
    ----------
    frame : DataFrame — concentrations with wind (:func:`attach_wind`).
    pollutant : str — column [its unit].
    n_sectors, calm, by, ws, wd : as :func:`wind_rose`.
    breaks : sequence of float, optional — lower limits of the concentration classes [unit of the
        pollutant]; default five round-numbered classes up to the 95th percentile.

    Returns
    -------
    DataFrame — as :func:`wind_rose`, the classes being concentration classes; ``freq`` sums to
    100 % per group, so a sector's bar length is how often the wind came from there and its
    colours how polluted those hours were.
    """
    check_columns(frame, (pollutant,))
    if breaks is None:
        breaks = _nice_breaks(pd.to_numeric(frame[pollutant], errors="coerce").to_numpy(dtype=float))
    return _rose(frame, pollutant, breaks, n_sectors, calm, by, ws, wd)


def percentile_rose(frame: pd.DataFrame, pollutant: str, percentiles=(25, 50, 75, 90, 95),
                    n_sectors: int = 16, calm: float = CALM_MS, by: str | None = "station",
                    ws: str = "wind_speed", wd: str = "wind_direction") -> pd.DataFrame:
    """Concentration percentiles by wind sector (openair ``percentileRose``, without smoothing).

    Parameters
    ----------
    frame : DataFrame — concentrations with wind.
    pollutant : str — column [its unit].
    percentiles : sequence of float — percentiles to compute [%].
    n_sectors, calm, by, ws, wd : as :func:`wind_rose`.

    Returns
    -------
    DataFrame
        ``by``, ``sector`` (−1 = calm), ``sector_label``, ``direction`` [°], ``n`` (hours), ``mean``
        and ``p<q>`` for each percentile [unit of the pollutant]; NaN for a sector without hours.
        Percentiles use linear interpolation (numpy default, R type 7 as in openair).
    """
    _check_sectors(n_sectors)
    check_columns(frame, (ws, wd, pollutant) + ((by,) if by else ()))
    qs = [float(q) for q in percentiles]
    if any(not 0 <= q <= 100 for q in qs):
        raise InputError(f"percentiles={percentiles!r}; each must be within 0–100", column="percentiles")
    sec, val, ok, names, width, groups = _sectored(frame, ws, wd, pollutant, by, n_sectors, calm)
    rows = []
    for g, m in groups:
        for k in [*range(n_sectors), -1]:
            v = val[m & ok & (sec == k)]
            row = {by or "_": g, "sector": k, "sector_label": names[k] if k >= 0 else "calm",
                   "direction": k * width if k >= 0 else np.nan, "n": int(v.size),
                   "mean": float(v.mean()) if v.size else np.nan}
            for q in qs:
                row[f"p{q:g}"] = float(np.percentile(v, q)) if v.size else np.nan
            rows.append(row)
    out = pd.DataFrame(rows, columns=[by or "_", "sector", "sector_label", "direction", "n", "mean",
                                      *[f"p{q:g}" for q in qs]])
    return out.drop(columns="_") if not by else out


def cpf(frame: pd.DataFrame, pollutant: str, percentile: float = CPF_PERCENTILE, n_sectors: int = 16,
        calm: float = CALM_MS, threshold: float | None = None, by: str | None = "station",
        ws: str = "wind_speed", wd: str = "wind_direction") -> pd.DataFrame:
    """Conditional probability function: P(C ≥ threshold | wind from sector).

    Parameters
    ----------
    frame : DataFrame — concentrations with wind.
    pollutant : str — column [its unit].
    percentile : float — the threshold is this percentile [%] of the group's concentrations over
        the hours with valid wind (calms included), unless ``threshold`` is given.
    n_sectors, calm, by, ws, wd : as :func:`wind_rose`.
    threshold : float, optional — absolute threshold [unit of the pollutant] (e.g. 75 µg/m³).

    Returns
    -------
    DataFrame
        ``by``, ``sector`` (−1 = calm), ``sector_label``, ``direction`` [°], ``threshold`` [unit],
        ``n`` (hours from the sector), ``n_high`` (of which C ≥ threshold) and ``cpf`` =
        n_high / n [0–1]; NaN for a sector without hours.

    Notes
    -----
    .. math:: \\mathrm{CPF}_{\\Delta\\theta} = m_{\\Delta\\theta} / n_{\\Delta\\theta}

    with *m* the hours from sector Δθ whose concentration is at or above the threshold and *n*
    all hours from that sector; calm hours are reported separately (sector −1) and do not enter
    any sector. Where the CPF exceeds the overall share of high hours (1 − percentile/100) high
    values arrive preferentially with wind from that sector.

    References
    ----------
    .. [1] Uria-Tellaetxe, I. and Carslaw, D. C. (2014). Conditional bivariate probability
       function for source identification. Environmental Modelling & Software 59, 1–9.
    .. [2] Ashbaugh, L. L., Malm, W. C. and Sadeh, W. Z. (1985). A residence time probability
       analysis of sulfur concentrations at Grand Canyon National Park. Atmos. Environ. 19, 1263.
    """
    _check_sectors(n_sectors)
    check_columns(frame, (ws, wd, pollutant) + ((by,) if by else ()))
    if threshold is None and not 0 <= float(percentile) <= 100:
        raise InputError(f"percentile={percentile!r}; must be within 0–100", column="percentile")
    sec, val, ok, names, width, groups = _sectored(frame, ws, wd, pollutant, by, n_sectors, calm)
    rows = []
    for g, m in groups:
        mm = m & ok
        thr = float(threshold) if threshold is not None else (
            float(np.percentile(val[mm], percentile)) if mm.any() else np.nan)
        for k in [*range(n_sectors), -1]:
            v = val[mm & (sec == k)]
            n_high = int((v >= thr).sum()) if v.size else 0
            rows.append({by or "_": g, "sector": k, "sector_label": names[k] if k >= 0 else "calm",
                         "direction": k * width if k >= 0 else np.nan, "threshold": thr, "n": int(v.size),
                         "n_high": n_high, "cpf": n_high / v.size if v.size else np.nan})
    out = pd.DataFrame(rows, columns=[by or "_", "sector", "sector_label", "direction", "threshold", "n", "n_high",
                                      "cpf"])
    return out.drop(columns="_") if not by else out


# ------------------------------------------------------------------------------------------------
# 3. bivariate polar plot
# ------------------------------------------------------------------------------------------------


def polar_plot(frame: pd.DataFrame, pollutant: str, statistic: str = "mean", speed_step: float = 0.5,
               dir_step: float = 10.0, max_speed: float | None = None, bandwidth: float = 0.6,
               min_weight: float = 1.0, percentile: float = CPF_PERCENTILE, ws: str = "wind_speed",
               wd: str = "wind_direction") -> pd.DataFrame:
    """Concentration by wind speed × direction, smoothed (openair ``polarPlot``).

    Parameters
    ----------
    frame : DataFrame — hourly concentrations with wind (one location, or pooled).
    pollutant : str — column [its unit].
    statistic : {"mean", "cpf"}
        ``"mean"``: smoothed mean concentration. ``"cpf"``: smoothed probability that the
        concentration is at or above the ``percentile``-th percentile (bivariate CPF, CBPF).
    speed_step, dir_step : float — grid cell size [m/s] and [°].
    max_speed : float, optional — outer radius of the grid [m/s]; default the 99th percentile of
        speed rounded up to ``speed_step``.
    bandwidth : float — standard deviation of the Gaussian kernel in the (u, v) wind plane [m/s].
    min_weight : float — cells whose kernel weight Σ K (an effective number of nearby hours, K = 1
        at distance 0) is below this are left NaN instead of extrapolated.
    percentile : float — threshold percentile for ``statistic="cpf"`` [%].

    Returns
    -------
    DataFrame
        One row per grid cell: ``speed_low``, ``speed_high``, ``speed`` (cell centre) [m/s],
        ``direction`` (cell centre) [°], ``n`` (hours in the cell), ``raw`` (cell mean of the
        statistic, NaN when empty), ``weight`` (Σ K), ``value`` (kernel-smoothed statistic
        [unit of the pollutant, or probability 0–1 for ``"cpf"``]) and ``threshold`` (``"cpf"``).

    Notes
    -----
    Each hour is placed at (u, v) = ws·(sin wd, cos wd) — the position of the direction the wind
    comes from at a radius equal to its speed, as in Carslaw et al. (2006). The smoothed value at
    cell centre g is the Nadaraya–Watson estimate

    .. math:: \\hat c(g) = \\sum_i K_i c_i / \\sum_i K_i,\\quad K_i = \\exp(-|p_i - g|^2 / 2h^2)

    with h = ``bandwidth``. openair fits a GAM instead; a kernel smoother with an explicit
    bandwidth and a minimum-weight mask gives the same picture for hourly data without an
    R/scipy dependency, and never paints colour where there were no winds.

    References
    ----------
    .. [1] Carslaw, D. C., Beevers, S. D., Ropkins, K. and Bell, M. C. (2006). Detecting and
       quantifying aircraft and other on-airport contributions to ambient nitrogen oxides in the
       vicinity of a large international airport. Atmos. Environ. 40, 5424–5434.
    .. [2] Carslaw, D. C. and Ropkins, K. (2012). openair — an R package for air quality data
       analysis. Environmental Modelling & Software 27–28, 52–61.
    """
    check_choice("statistic", statistic, POLAR_STATISTICS)
    check_columns(frame, (ws, wd, pollutant))
    if not (speed_step > 0 and dir_step > 0 and bandwidth > 0):
        raise InputError("speed_step, dir_step and bandwidth must be > 0", column="bandwidth")
    s = pd.to_numeric(frame[ws], errors="coerce").to_numpy(dtype=float)
    d = pd.to_numeric(frame[wd], errors="coerce").to_numpy(dtype=float)
    c = pd.to_numeric(frame[pollutant], errors="coerce").to_numpy(dtype=float)
    ok = ~np.isnan(s) & ~np.isnan(d) & ~np.isnan(c) & (s >= 0)
    s, d, c = s[ok], d[ok] % 360.0, c[ok]
    thr = np.nan
    if statistic == "cpf":
        thr = float(np.percentile(c, percentile)) if c.size else np.nan
        c = (c >= thr).astype(float)
    if max_speed is None:
        top = float(np.percentile(s, 99)) if s.size else speed_step
        max_speed = max(speed_step, np.ceil(top / speed_step) * speed_step)
    n_s = int(np.ceil(max_speed / speed_step - 1e-9))
    n_d = int(round(360.0 / dir_step))
    s_low = np.arange(n_s) * speed_step
    d_ctr = np.arange(n_d) * dir_step
    S_low, D = np.meshgrid(s_low, d_ctr, indexing="ij")
    S = S_low + speed_step / 2
    gu, gv = S * np.sin(np.radians(D)), S * np.cos(np.radians(D))
    # raw cells: speed class and direction class (direction cells centred on d_ctr)
    si = np.minimum(np.floor(s / speed_step), n_s - 1).astype(int) if s.size else np.array([], int)
    di = (np.floor(((d + dir_step / 2) % 360.0) / dir_step).astype(int)) % n_d if d.size else np.array([], int)
    flat = si * n_d + di
    n = np.bincount(flat, minlength=n_s * n_d).reshape(n_s, n_d)
    tot = np.bincount(flat, weights=c, minlength=n_s * n_d).reshape(n_s, n_d)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(n > 0, tot / np.where(n > 0, n, 1), np.nan)
    pu, pv = s * np.sin(np.radians(d)), s * np.cos(np.radians(d))
    weight = np.zeros(S.size)
    value = np.full(S.size, np.nan)
    if s.size:
        gflat_u, gflat_v = gu.ravel(), gv.ravel()
        for lo in range(0, S.size, 256):  # chunks keep memory at 256 × N
            du = gflat_u[lo:lo + 256, None] - pu[None, :]
            dv = gflat_v[lo:lo + 256, None] - pv[None, :]
            k = np.exp(-(du * du + dv * dv) / (2 * bandwidth ** 2))
            wsum = k.sum(axis=1)
            weight[lo:lo + 256] = wsum
            with np.errstate(invalid="ignore", divide="ignore"):
                value[lo:lo + 256] = (k @ c) / wsum
    value = np.where(weight >= min_weight, value, np.nan)
    out = pd.DataFrame({"speed_low": S_low.ravel(), "speed_high": S_low.ravel() + speed_step, "speed": S.ravel(),
                        "direction": D.ravel(), "n": n.ravel(), "raw": raw.ravel(), "weight": weight,
                        "value": value})
    out["threshold"] = thr
    return out


# ------------------------------------------------------------------------------------------------
# 4. lead/lag by wind sector, with block-bootstrap confidence
# ------------------------------------------------------------------------------------------------


def _pairs(pairs) -> pd.DataFrame:
    if isinstance(pairs, pd.DataFrame):
        check_columns(pairs, ("a", "b"), "pairs")
        return pairs.reset_index(drop=True)
    return pd.DataFrame(list(pairs), columns=["a", "b"])


def _ar_fit(x: np.ndarray, max_order: int) -> np.ndarray:
    """AR coefficients φ_1..φ_p of a centred series with gaps (OLS on complete rows, order by AIC)."""
    best, best_aic = np.zeros(0), np.inf
    if max_order <= 0 or len(x) < 3 * max_order + 5:
        return best
    lagged = np.column_stack([np.r_[np.full(k, np.nan), x[:-k]] for k in range(1, max_order + 1)])
    rows = ~np.isnan(x) & ~np.isnan(lagged).any(axis=1)
    m = int(rows.sum())
    if m < 3 * max_order + 5:
        return best
    y = x[rows]
    for p in range(0, max_order + 1):
        if p == 0:
            resid, phi = y, np.zeros(0)
        else:
            X = lagged[rows, :p]
            phi, *_ = np.linalg.lstsq(X, y, rcond=None)
            resid = y - X @ phi
        var = float(np.mean(resid ** 2))
        if var <= 0:
            return phi
        aic = m * np.log(var) + 2 * p
        if aic < best_aic - 1e-9:
            best, best_aic = phi, aic
    return best


def _filter(x: np.ndarray, phi: np.ndarray) -> np.ndarray:
    out = x.copy()
    for k, f in enumerate(phi, start=1):
        out = out - f * np.r_[np.full(min(k, len(x)), np.nan), x[:-k]]
    return out


def prewhiten(a: np.ndarray, b: np.ndarray, method: str = "ar", max_order: int = 6):
    """Prepare two hourly series (on one regular grid) for cross-correlation.

    Parameters
    ----------
    a, b : ndarray — the series on the same hourly grid, NaN for gaps [any unit].
    method : {"ar", "diff", "none"}
        ``"ar"`` (Box–Jenkins): first differences, then an AR(p) model fitted to Δa (order by AIC,
        p ≤ ``max_order``) filters both Δa and Δb; ``"diff"``: first differences only; ``"none"``.
    max_order : int — largest AR order tried.

    Returns
    -------
    (a', b', phi) : the filtered series (NaN wherever a gap enters the filter window) and the AR
        coefficients used (empty unless ``"ar"``).

    Notes
    -----
    Autocorrelated series cross-correlate at many lags even when unrelated; filtering the input
    series to white noise and applying the same filter to the output series leaves a
    cross-correlation whose peaks reflect the lagged relation itself (Box & Jenkins 1976, §11.2).
    """
    check_choice("prewhiten", method, PREWHITEN)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if method == "none":
        return a, b, np.zeros(0)
    da = np.r_[np.nan, np.diff(a)]
    db = np.r_[np.nan, np.diff(b)]
    if method == "diff":
        return da, db, np.zeros(0)
    ma = np.nanmean(da) if np.isfinite(da).any() else 0.0
    mb = np.nanmean(db) if np.isfinite(db).any() else 0.0
    phi = _ar_fit(da - ma, max_order)
    return _filter(da - ma, phi), _filter(db - mb, phi), phi


def _weighted_r(W: np.ndarray, x: np.ndarray, y: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of (x, y) over the rows selected by ``ok``, for each weight vector (row of W)."""
    okf = ok.astype(float)
    xs, ys = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    sw = W @ okf
    sx, sy = W @ xs, W @ ys
    sxx, syy, sxy = W @ (xs * xs), W @ (ys * ys), W @ (xs * ys)
    cov = sw * sxy - sx * sy
    vx, vy = sw * sxx - sx * sx, sw * syy - sy * sy
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(vx * vy)
    r = np.where((vx > 1e-12 * np.maximum(sw * sxx, 1e-300)) & (vy > 1e-12 * np.maximum(sw * syy, 1e-300)), r,
                 np.nan)
    return np.clip(r, -1, 1), sw


def conditional_lead_lag(a: pd.Series, b: pd.Series, mask: pd.Series | None = None, max_lag: int = 6,
                         prewhiten_method: str = "ar", min_periods: int = 24, n_boot: int = 200,
                         block_hours: int = 24, seed: int = 20220101) -> tuple[pd.DataFrame, dict]:
    """Lagged correlation of two hourly series over the hours selected by ``mask``, with a block bootstrap.

    Parameters
    ----------
    a, b : Series indexed by hourly time stamps — e.g. two units' PM2.5 [µg/m³].
    mask : boolean Series on hourly stamps, optional — hours to use (e.g. wind blowing from a
        towards b). A lagged pair (a at t − L, b at t) counts only when the mask is true at both
        t − L and t (the wind condition held when the change left a and when it arrived at b).
        Missing = false. Default: every hour.
    max_lag : int — lags −max_lag … max_lag [h]; **positive = a leads b**.
    prewhiten_method : {"ar", "diff", "none"} — see :func:`prewhiten`.
    min_periods : int — fewest pairs for an r at a lag.
    n_boot : int — bootstrap replicates (0 = none).
    block_hours : int — block length of the moving-block bootstrap [h]; blocks keep the
        within-day dependence that an i.i.d. bootstrap would destroy.
    seed : int — random seed (results are reproducible).

    Returns
    -------
    (curve, peak)
        ``curve``: ``lag`` [h], ``r`` (NaN with fewer than ``min_periods`` pairs), ``n`` (pairs),
        ``r_lo``, ``r_hi`` (2.5/97.5 % bootstrap percentiles of r).
        ``peak``: ``lag`` (lag of the largest r, ties to the smallest |lag|; None when no r),
        ``r``, ``n``, ``r_crit`` (≈ 95 % significance of r for white noise, 1.96/√n),
        ``lag_lo``/``lag_hi`` (2.5/97.5 % of the bootstrap peak lags), ``p_lead`` (share of
        replicates whose peak lag is ≥ 1 h, i.e. a leads), ``p_lag`` (share ≤ −1 h),
        ``support`` (share of replicates with a peak lag ≥ 1 h **and** a peak r above r_crit),
        ``ar_order``.
    """
    for name, s in (("a", a), ("b", b)):
        if not isinstance(s, pd.Series) or not isinstance(s.index, pd.DatetimeIndex):
            raise InputError(f"{name} must be a Series indexed by hourly time stamps", column=name)
    max_lag = int(max_lag)
    if max_lag < 0:
        raise InputError(f"max_lag={max_lag!r}; must be ≥ 0 hours", column="max_lag")
    lags = np.arange(-max_lag, max_lag + 1)
    empty_peak = {"lag": None, "r": np.nan, "n": 0, "r_crit": np.nan, "lag_lo": np.nan, "lag_hi": np.nan,
                  "p_lead": np.nan, "p_lag": np.nan, "support": 0.0, "ar_order": 0}
    empty_curve = pd.DataFrame({"lag": lags, "r": np.nan, "n": 0, "r_lo": np.nan, "r_hi": np.nan})
    a = pd.to_numeric(a, errors="coerce").astype(float).groupby(level=0).mean().sort_index()
    b = pd.to_numeric(b, errors="coerce").astype(float).groupby(level=0).mean().sort_index()
    idx = a.dropna().index.union(b.dropna().index)
    if len(idx) < 2:
        return empty_curve, empty_peak
    grid = pd.date_range(idx.min(), idx.max(), freq="h")
    x, y, phi = prewhiten(a.reindex(grid).to_numpy(), b.reindex(grid).to_numpy(), prewhiten_method)
    m = np.ones(len(grid), dtype=bool) if mask is None else (
        mask.groupby(level=0).max().reindex(grid).fillna(False).to_numpy(dtype=bool))
    T = len(grid)
    X = np.full((len(lags), T), np.nan)
    OK = np.zeros((len(lags), T), dtype=bool)
    for i, L in enumerate(lags):
        xs = np.full(T, np.nan)
        ms = np.zeros(T, dtype=bool)
        if abs(L) >= T:  # lag longer than the series: no pairs
            pass
        elif L >= 0:
            xs[L:] = x[:T - L] if L else x
            ms[L:] = m[:T - L] if L else m
        else:
            xs[:T + L] = x[-L:]
            ms[:T + L] = m[-L:]
        X[i] = xs
        OK[i] = ~np.isnan(xs) & ~np.isnan(y) & ms & m
    # keep only the hours that enter some lagged pair: the pairs are formed on the full grid, so
    # dropping the rest (long gaps between periods) changes nothing but the cost of the bootstrap
    used = OK.any(axis=0)
    X, OK, y = X[:, used], OK[:, used], y[used]
    T = int(used.sum())
    if T == 0:
        return empty_curve, {**empty_peak, "ar_order": int(len(phi))}
    W0 = np.ones((1, T))
    r0 = np.full(len(lags), np.nan)
    n0 = OK.sum(axis=1)
    for i in range(len(lags)):
        if n0[i] >= max(min_periods, 3):
            r0[i] = _weighted_r(W0, X[i], y, OK[i])[0][0]
    curve = pd.DataFrame({"lag": lags, "r": r0, "n": n0.astype(int), "r_lo": np.nan, "r_hi": np.nan})
    if np.all(np.isnan(r0)):
        return curve, {**empty_peak, "ar_order": int(len(phi))}
    order = np.lexsort((lags, np.abs(lags)))  # by |lag|, then lag: first maximum = smallest |lag|
    i_best = order[int(np.nanargmax(r0[order]))]
    n_best = int(n0[i_best])
    r_crit = _Z95 / np.sqrt(n_best)
    peak = {"lag": int(lags[i_best]), "r": float(r0[i_best]), "n": n_best, "r_crit": float(r_crit),
            "lag_lo": np.nan, "lag_hi": np.nan, "p_lead": np.nan, "p_lag": np.nan,
            "support": float(lags[i_best] >= 1 and r0[i_best] > r_crit), "ar_order": int(len(phi))}
    if n_boot and n_boot > 0:
        rng = np.random.default_rng(seed)
        block = max(1, min(int(block_hours), T))
        n_blocks = int(np.ceil(T / block))
        starts = rng.integers(0, T, size=(int(n_boot), n_blocks))
        take = (starts[:, :, None] + np.arange(block)[None, None, :]) % T  # circular blocks
        take = take.reshape(int(n_boot), -1)[:, :T]
        W = np.zeros((int(n_boot), T))
        for k in range(int(n_boot)):
            W[k] = np.bincount(take[k], minlength=T)
        R = np.full((int(n_boot), len(lags)), np.nan)
        N = np.zeros((int(n_boot), len(lags)))
        for i in range(len(lags)):
            r, sw = _weighted_r(W, X[i], y, OK[i])
            R[:, i] = np.where(sw >= max(min_periods, 3), r, np.nan)
            N[:, i] = sw
        with warnings.catch_warnings():  # lags without any valid replicate give NaN, as documented
            warnings.simplefilter("ignore", RuntimeWarning)
            curve["r_lo"] = np.nanpercentile(R, 2.5, axis=0)
            curve["r_hi"] = np.nanpercentile(R, 97.5, axis=0)
        valid = ~np.all(np.isnan(R), axis=1)
        if valid.any():
            Ro = R[valid][:, order]
            kbest = order[np.nanargmax(np.where(np.isnan(Ro), -np.inf, Ro), axis=1)]
            lag_b = lags[kbest]
            r_b = R[valid][np.arange(valid.sum()), kbest]
            n_b = N[valid][np.arange(valid.sum()), kbest]
            crit_b = _Z95 / np.sqrt(np.maximum(n_b, 1))
            peak.update(lag_lo=float(np.percentile(lag_b, 2.5)), lag_hi=float(np.percentile(lag_b, 97.5)),
                        p_lead=float(np.mean(lag_b >= 1)), p_lag=float(np.mean(lag_b <= -1)),
                        support=float(np.mean((lag_b >= 1) & (r_b > crit_b))))
    return curve, peak


def transport_matrix(unit_hourly: pd.DataFrame, pairs, pollutant: str, wind: pd.DataFrame | None = None,
                     sector_halfwidth: float = 45.0, calm: float = CALM_MS, wind_at: str = "mean",
                     max_lag: int = 6, prewhiten_method: str = "ar", min_periods: int = 24, n_boot: int = 200,
                     block_hours: int = 24, seed: int = 20220101, points: pd.DataFrame | None = None,
                     by: str = "station") -> pd.DataFrame:
    """Directed "who affects whom" table over neighbouring pairs, conditioned on the wind.

    Parameters
    ----------
    unit_hourly : DataFrame — unit hourly frame (``by``, ``time``, ``pollutant``).
    pairs : DataFrame with ``a``, ``b`` (:func:`regionair.core.region.neighbour_pairs`) or iterable.
    pollutant : str — column [its unit].
    wind : DataFrame, optional — :func:`jurisdiction_wind` output. Without it every hour is used
        (both directions then share one lag curve, mirrored).
    sector_halfwidth : float — an hour has wind "from source towards target" when the wind
        direction is within ± this angle [°] of the source→target ``wind_from`` and the speed is
        at least ``calm`` [m/s].
    wind_at : {"mean", "source", "target"} — whose wind decides: the vector mean of both units'
        winds (falling back to the one available), or one side's.
    max_lag, prewhiten_method, min_periods, n_boot, block_hours, seed :
        see :func:`conditional_lead_lag`.
    points : DataFrame, optional — :func:`centroids` output.

    Returns
    -------
    DataFrame
        One row per direction of each pair: ``source``, ``target``, ``bearing``, ``wind_from`` [°],
        ``distance_km``, ``conditioned`` (bool — wind used), ``hours`` (hours meeting the wind
        condition with both series valid), ``lag`` [h, positive = source leads target], ``r``,
        ``n``, ``r_crit``, ``lag_lo``, ``lag_hi``, ``p_lead``, ``support`` (0–1), ``weight`` =
        support × max(r, 0) — the arrow weight — and ``speed_kmh`` = distance / lag [km/h] (NaN
        unless lag ≥ 1), a check against the wind speed.

    Notes
    -----
    A row is *evidence of transport from source to target* when, with the wind blowing from source
    to target, the prewhitened target series follows the source series by ≥ 1 h, the correlation
    at that lag is significant and this holds in most bootstrap replicates (``support``). It is
    never proof: see ``docs/transport.md``.
    """
    check_choice("wind_at", wind_at, WIND_AT)
    check_columns(unit_hourly, (by, "time", pollutant))
    p = _pairs(pairs)
    directed = pair_bearings(p, points)
    d = unit_hourly[[by, "time", pollutant]].dropna(subset=[pollutant])
    d = d.assign(time=to_beijing(d["time"])).drop_duplicates([by, "time"], keep="last")
    wide = d.pivot(index="time", columns=by, values=pollutant).sort_index()
    have_wind = wind is not None and len(wind) > 0
    if have_wind:
        wv = wind.assign(time=to_beijing(wind["time"]))
        wsp = wv.pivot_table(index="time", columns="station", values="wind_speed", aggfunc="mean")
        wdr = wv.pivot_table(index="time", columns="station", values="wind_direction", aggfunc="mean")
        u = -wsp * np.sin(np.radians(wdr))
        v = -wsp * np.cos(np.radians(wdr))
    rows = []
    for r in directed.itertuples(index=False):
        base = {"source": r.source, "target": r.target, "bearing": r.bearing, "wind_from": r.wind_from,
                "distance_km": r.distance_km, "conditioned": bool(have_wind)}
        if r.source not in wide.columns or r.target not in wide.columns:
            rows.append({**base, "hours": 0, "lag": np.nan, "r": np.nan, "n": 0, "r_crit": np.nan,
                         "lag_lo": np.nan, "lag_hi": np.nan, "p_lead": np.nan, "support": 0.0})
            continue
        a_s, b_s = wide[r.source].dropna(), wide[r.target].dropna()
        mask = None
        if have_wind:
            use = {"mean": [r.source, r.target], "source": [r.source], "target": [r.target]}[wind_at]
            use = [c for c in use if c in u.columns]
            if use and not np.isnan(r.wind_from):
                um, vm = u[use].mean(axis=1), v[use].mean(axis=1)
                sp = np.hypot(um, vm)
                # scalar mean speed decides calm (vector mean of opposed winds is not a calm)
                ms = wsp[use].mean(axis=1)
                wd_res = np.degrees(np.arctan2(-um, -vm)) % 360.0
                mask = (ms >= calm) & (sp > 0) & (angular_distance(wd_res, r.wind_from) <= sector_halfwidth)
            else:
                mask = pd.Series(False, index=wide.index)
        curve, pk = conditional_lead_lag(a_s, b_s, mask, max_lag=max_lag, prewhiten_method=prewhiten_method,
                                         min_periods=min_periods, n_boot=n_boot, block_hours=block_hours,
                                         seed=seed)
        both = a_s.index.intersection(b_s.index)
        hours = int(len(both)) if mask is None else int(mask.reindex(both).fillna(False).astype(bool).sum())
        rows.append({**base, "hours": hours, "lag": np.nan if pk["lag"] is None else pk["lag"], "r": pk["r"],
                     "n": pk["n"], "r_crit": pk["r_crit"], "lag_lo": pk["lag_lo"], "lag_hi": pk["lag_hi"],
                     "p_lead": pk["p_lead"], "support": pk["support"]})
    out = pd.DataFrame(rows)
    out["weight"] = out["support"] * out["r"].clip(lower=0).fillna(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["speed_kmh"] = np.where(out["lag"] >= 1, out["distance_km"] / out["lag"], np.nan)
    return out


def influence_matrix(table: pd.DataFrame, value: str = "weight") -> pd.DataFrame:
    """Square source × target matrix of one column of :func:`transport_matrix` (NaN off the pairs)."""
    check_columns(table, ("source", "target", value), "transport table")
    ids = list(dict.fromkeys([*table["source"], *table["target"]]))
    m = table.pivot_table(index="source", columns="target", values=value, aggfunc="first")
    return m.reindex(index=ids, columns=ids)


# ------------------------------------------------------------------------------------------------
# 5. episodes
# ------------------------------------------------------------------------------------------------


class EpisodeTransport(NamedTuple):
    """``order`` (one row per unit) and ``summary`` (one row: the prevailing wind and the fit)."""

    order: pd.DataFrame
    summary: pd.DataFrame


def episode_transport(onsets: pd.DataFrame, wind: pd.DataFrame | None, start, end, onset_col: str = "first_100",
                      lead_hours: int = 12, points: pd.DataFrame | None = None) -> EpisodeTransport:
    """Order of onset across units against the prevailing wind of an episode.

    Parameters
    ----------
    onsets : DataFrame — :func:`regionair.analysis.episodes.detect_episodes` onsets of **one**
        episode (``unit``, ``onset_col``), hourly resolution.
    wind : DataFrame or None — :func:`jurisdiction_wind` output.
    start, end : datetime-like — the episode's first and last exceeding hour (Beijing).
    onset_col : str — onset time column (e.g. ``first_100``: first hour with AQI > 100).
    lead_hours : int — the prevailing wind is averaged from ``start − lead_hours`` to ``end`` [h].
    points : DataFrame, optional — :func:`centroids` output.

    Returns
    -------
    EpisodeTransport
        ``order``: ``unit``, ``onset`` (time), ``onset_h`` (hours after the first onset),
        ``downwind_km`` (position of the unit's representative point along the direction the
        prevailing wind blows towards, relative to the mean of the units [km]), ``crosswind_km``,
        ``rank`` (1 = first). ``summary``: ``wind_from`` [°], ``wind_speed`` (resultant) [m/s],
        ``steadiness`` [0–1], ``calm_share`` [0–1], ``n_units``, ``spearman`` (rank correlation of
        onset time with downwind position: > 0 when pollution started upwind and spread
        downwind, as advection would do).
    """
    check_columns(onsets, ("unit", onset_col), "onsets")
    pts = (centroids() if points is None else points).set_index("id")
    o = onsets[["unit", onset_col]].rename(columns={onset_col: "onset"}).dropna(subset=["onset"])
    o = o.assign(onset=to_beijing(pd.Series(pd.to_datetime(o["onset"]), index=o.index)))
    start, end = to_beijing(pd.Series([pd.Timestamp(start), pd.Timestamp(end)]))
    w_from = speed = steady = calm_share = np.nan
    if wind is not None and len(wind):
        w = wind.assign(time=to_beijing(wind["time"]))
        w = w[(w["time"] >= start - lead_hours * _HOUR) & (w["time"] <= end)]
        speed, w_from, steady = vector_mean(w["wind_speed"], w["wind_direction"])
        ws = w["wind_speed"].dropna()
        calm_share = float((ws < CALM_MS).mean()) if len(ws) else np.nan
    o = o[o["unit"].isin(pts.index)].copy()
    cols = ["unit", "onset", "onset_h", "downwind_km", "crosswind_km", "rank"]
    if o.empty:
        order = pd.DataFrame(columns=cols)
    else:
        o["onset_h"] = (o["onset"] - o["onset"].min()) / _HOUR
        x, y = pts.loc[o["unit"], "x"].to_numpy(), pts.loc[o["unit"], "y"].to_numpy()
        x, y = x - x.mean(), y - y.mean()
        if np.isnan(w_from):
            o["downwind_km"] = o["crosswind_km"] = np.nan
        else:
            to = np.radians((w_from + 180.0) % 360.0)
            ex, ey = np.sin(to), np.cos(to)
            o["downwind_km"] = (x * ex + y * ey) / 1000.0
            o["crosswind_km"] = (x * ey - y * ex) / 1000.0
        o["rank"] = o["onset"].rank(method="min").astype(int)
        order = o.sort_values(["onset", "unit"], kind="stable")[cols].reset_index(drop=True)
    rho = np.nan
    if len(order) >= 3 and order["downwind_km"].notna().all() and order["onset_h"].nunique() > 1:
        rho = float(order["onset_h"].rank().corr(order["downwind_km"].rank()))
    summary = pd.DataFrame([{"wind_from": w_from, "wind_speed": speed, "steadiness": steady,
                             "calm_share": calm_share, "n_units": len(order), "spearman": rho}])
    return EpisodeTransport(order, summary)


def upwind_attribution(frame: pd.DataFrame, pollutant: str, target: str, neighbours=None,
                       threshold: float | None = None, percentile: float = CPF_PERCENTILE,
                       sector_halfwidth: float = 30.0, calm: float = CALM_MS,
                       points: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of a unit's high hours with the wind from each neighbour (simple upwind attribution).

    Parameters
    ----------
    frame : DataFrame — unit frame with wind attached (:func:`attach_wind`): ``station``, ``time``,
        ``pollutant``, ``wind_speed`` [m/s], ``wind_direction`` [°].
    pollutant : str — column [its unit].
    target : str — the receiving unit id.
    neighbours : iterable of str, optional — candidate upwind units (default: the target's
        neighbours in :func:`regionair.core.region.neighbour_pairs`).
    threshold : float, optional — "high" means C ≥ threshold [unit]; default the ``percentile``-th
        percentile of the target's hours.
    sector_halfwidth : float — an hour is "from neighbour k" when the wind direction is within ±
        this angle [°] of the bearing from the target to k (overlapping sectors go to the nearest
        bearing).
    calm : float — calm threshold [m/s].

    Returns
    -------
    DataFrame
        ``target``, ``upwind`` (neighbour id, ``"calm"`` or ``"other"``), ``bearing`` [°],
        ``n_high``, ``share_high`` [0–1 of the high hours with valid wind], ``n_all``,
        ``share_all`` [0–1 of all hours with valid wind], ``enrichment`` = share_high / share_all
        (> 1: that wind is over-represented when the target is polluted), ``threshold``.
    """

    check_columns(frame, ("station", "time", pollutant, "wind_speed", "wind_direction"))
    if neighbours is None:
        pr = region.neighbour_pairs()
        neighbours = list(pr.loc[pr["a"] == target, "b"]) + list(pr.loc[pr["b"] == target, "a"])
    neighbours = [n for n in neighbours if n != target]
    pts = (centroids() if points is None else points).set_index("id")
    neighbours = [n for n in neighbours if n in pts.index]
    f = frame[frame["station"] == target]
    c = pd.to_numeric(f[pollutant], errors="coerce").to_numpy(dtype=float)
    ws = pd.to_numeric(f["wind_speed"], errors="coerce").to_numpy(dtype=float)
    wd = pd.to_numeric(f["wind_direction"], errors="coerce").to_numpy(dtype=float)
    ok = ~np.isnan(c) & ~np.isnan(ws) & ~np.isnan(wd)
    thr = float(threshold) if threshold is not None else (
        float(np.percentile(c[ok], percentile)) if ok.any() else np.nan)
    high = ok & (c >= thr)
    label = np.full(len(f), "other", dtype=object)
    brg = {}
    if target in pts.index and neighbours:
        b = bearing(pts.at[target, "x"], pts.at[target, "y"], pts.loc[neighbours, "x"].to_numpy(),
                    pts.loc[neighbours, "y"].to_numpy())
        brg = dict(zip(neighbours, np.atleast_1d(b)))
        dist = np.stack([angular_distance(wd, brg[n]) for n in neighbours])  # (k, T)
        nearest = np.argmin(np.where(np.isnan(dist), np.inf, dist), axis=0)
        within = np.take_along_axis(dist, nearest[None, :], axis=0)[0] <= sector_halfwidth
        label = np.where(within, np.asarray(neighbours, dtype=object)[nearest], label)
    label = np.where(ws < calm, "calm", label)
    rows = []
    n_high_tot, n_all_tot = int(high.sum()), int(ok.sum())
    for name in [*neighbours, "calm", "other"]:
        nh = int((high & (label == name)).sum())
        na = int((ok & (label == name)).sum())
        sh = nh / n_high_tot if n_high_tot else np.nan
        sa = na / n_all_tot if n_all_tot else np.nan
        rows.append({"target": target, "upwind": name, "bearing": brg.get(name, np.nan), "n_high": nh,
                     "share_high": sh, "n_all": na, "share_all": sa,
                     "enrichment": sh / sa if sa and not np.isnan(sa) and sa > 0 else np.nan, "threshold": thr})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# 6. stagnation
# ------------------------------------------------------------------------------------------------


def stagnation(frame: pd.DataFrame, pollutant: str = "pm25", calm: float = CALM_MS, low_wind: float = 1.5,
               persistence_hours: int = 12) -> pd.DataFrame:
    """Daily stagnation indicators beside the daily mean concentration, per unit.

    Parameters
    ----------
    frame : DataFrame — unit frame with wind attached (:func:`attach_wind`): ``station``, ``time``
        (hour-ending, Beijing), ``pollutant``, ``wind_speed`` [m/s], optionally ``blh`` [m].
    pollutant : str — column [its unit].
    calm : float — calm threshold [m/s].
    low_wind : float — "low wind" threshold [m/s].
    persistence_hours : int — a day is flagged ``stagnant`` when low wind lasted at least this
        many consecutive hours [h].

    Returns
    -------
    DataFrame
        ``station``, ``date`` (natural day: stamps D 01:00 … D+1 00:00), ``hours`` (hours with
        wind), ``calm_frac`` and ``low_wind_frac`` [0–1], ``low_wind_run_h`` (longest run of
        consecutive low-wind hours in the day [h]), ``wind_speed`` (mean) [m/s], ``blh_mean`` and
        ``blh_min`` [m] (NaN without boundary-layer height), ``<pollutant>`` (mean of the valid
        hours, no 20-hour rule — a descriptive value) and ``stagnant`` (bool).
    """
    check_columns(frame, ("station", "time", pollutant, "wind_speed"))
    d = frame.assign(time=to_beijing(frame["time"])).sort_values(["station", "time"], kind="stable")
    d = d.assign(date=(d["time"] - _HOUR).dt.tz_localize(None).dt.date)
    blh = d["blh"] if "blh" in d.columns else pd.Series(np.nan, index=d.index)
    rows = []
    for (unit, day), g in d.assign(_blh=blh).groupby(["station", "date"], sort=True):
        ws = pd.to_numeric(g["wind_speed"], errors="coerce")
        valid = ws.notna().to_numpy()
        hours = int(valid.sum())
        low = (ws < low_wind).to_numpy() & valid
        # consecutive in time: break runs across missing hours
        t = g["time"].to_numpy()
        runs, cur, prev = 0, 0, None
        for ti, lo in zip(t, low):
            if lo and prev is not None and cur and (ti - prev) == np.timedelta64(1, "h"):
                cur += 1
            else:
                cur = 1 if lo else 0
            runs = max(runs, cur)
            prev = ti
        bl = pd.to_numeric(g["_blh"], errors="coerce")
        rows.append({"station": unit, "date": day, "hours": hours,
                     "calm_frac": float((ws[valid] < calm).mean()) if hours else np.nan,
                     "low_wind_frac": float(low[valid].mean()) if hours else np.nan,
                     "low_wind_run_h": int(runs), "wind_speed": float(ws.mean()) if hours else np.nan,
                     "blh_mean": float(bl.mean()) if bl.notna().any() else np.nan,
                     "blh_min": float(bl.min()) if bl.notna().any() else np.nan,
                     pollutant: float(pd.to_numeric(g[pollutant], errors="coerce").mean()),
                     "stagnant": bool(runs >= persistence_hours)})
    cols = ["station", "date", "hours", "calm_frac", "low_wind_frac", "low_wind_run_h", "wind_speed", "blh_mean",
            "blh_min", pollutant, "stagnant"]
    return pd.DataFrame(rows, columns=cols)
