"""Bias-corrected daily AQI forecasts, rolling-24-h AQI and 临界天 (critical days) per jurisdiction.

Inputs are plain frames:

*observations* — jurisdiction means of the canonical hourly frame (``id`` or ``station`` = jurisdiction
id, ``time`` hour-ending Beijing, ``pm25 pm10 so2 no2 o3`` [µg/m³], ``co`` [mg/m³]); see
:func:`regionair.analysis.near_threshold.unit_frames`.

*model* — the archived Open-Meteo CAMS runs: ``point`` (jurisdiction id), ``time`` (tz-aware Beijing),
``pm25 pm10 so2 no2 co o3`` (CO in **mg/m³**, converted by the loader), ``run_time`` (issue time of the
run; optional — without it the frame is one run). Model values are instantaneous at the stamp; they are
used as if they were the hour-ending 1-h mean of that stamp (a ≤ 30 min shift, documented here).

Method
------
1. **Which run.** The *current* forecast is the latest run with ``run_time ≤ at``. For training and
   skill each hour takes the *day-ahead* value: the latest run issued by 00:00 of that hour's natural
   day (falling back to the latest run issued by the hour itself).
2. **Bias correction, per jurisdiction and pollutant**, fitted on the ``window_days`` (default 30)
   complete natural days before the forecast day where both the observed and the day-ahead daily mean are
   valid (≥ 20 h):

   * ``"ratio"`` (default): factor = Σ observed daily means / Σ model daily means, clipped to
     [0.25, 4]; corrected = factor × model.
   * ``"quantile"``: empirical quantile mapping of hourly values over the same days (percentiles 0…100
     of model and observations; values beyond the model's range are scaled by the ratio of the extreme
     quantiles).
   * ``"none"``: no correction.

   With fewer than ``min_days`` (default 7) training days the factor is 1 (method ``"none"``, reason in
   ``note``).
3. **Daily AQI** for today + ``days`` days: hours up to ``at`` use observations (a missing observed
   hour is filled with the corrected model), later hours the corrected current run; daily means with
   the ≥ 20 h rule, MDA8, then :func:`regionair.core.aqi.daily_aqi` with the edition of each day.
4. **Skill** over the ``skill_days`` (default 30) days before today: day-ahead daily AQI, raw and
   corrected **out of sample** (each day's correction fitted on the window ending the day before),
   against the observed daily AQI: hit rate of the category and mean bias [AQI].
5. **Rolling 24-h AQI** (the warning indicator, standards.md §5): at each hour, the daily-AQI method on
   the 24 hours ending there (means with ≥ 20 valid hours, O3 max of the 17 8-h means inside the window
   with ≥ 14 valid, O3 1-h max for 2012).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regionair.analysis.near_threshold import _limit
from regionair.core import standards as S
from regionair.core.aqi import category_level, daily_aqi, edition_for, natural_day
from regionair.core.averaging import daily_means
from regionair.core.nomenclature import POLLUTANTS, TZ
from regionair.errors import InputError

METHODS = ("ratio", "quantile", "none")
FACTOR_CLIP = (0.25, 4.0)
_HOUR = pd.Timedelta(hours=1)
_DAY = pd.Timedelta(days=1)


# ------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------


def _obs(observed: pd.DataFrame) -> pd.DataFrame:
    o = observed.copy()
    if "id" in o.columns:
        o["station"] = o["id"]
    if "scope" in o.columns:
        o = o[o["scope"] == "jurisdiction"]
    missing = [c for c in ("station", "time", *POLLUTANTS) if c not in o.columns]
    if missing:
        raise InputError(f"observations lack column(s) {', '.join(missing)}")
    o["time"] = pd.to_datetime(o["time"]).dt.tz_convert(TZ)
    return o[["station", "time", *POLLUTANTS]].reset_index(drop=True)


def _model(forecast: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("point", "time", *POLLUTANTS) if c not in forecast.columns]
    if missing:
        raise InputError(f"forecast frame lacks column(s) {', '.join(missing)}; expected point, time, "
                         "pm25 pm10 so2 no2 co o3 [CO mg/m³], run_time")
    m = forecast.copy()
    t = pd.to_datetime(m["time"])
    m["time"] = t.dt.tz_localize(TZ) if t.dt.tz is None else t.dt.tz_convert(TZ)
    if "run_time" not in m.columns:
        m["run_time"] = m["time"].min()
    rt = pd.to_datetime(m["run_time"])
    m["run_time"] = rt.dt.tz_localize(TZ) if rt.dt.tz is None else rt.dt.tz_convert(TZ)
    m["station"] = m["point"].astype(str)
    return m[["station", "time", "run_time", *POLLUTANTS]]


def current_run(model: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """Rows of the latest run issued at or before ``at`` (per point)."""
    m = model[model["run_time"] <= at]
    if m.empty:
        return m
    latest = m.groupby("station")["run_time"].transform("max")
    return m[m["run_time"] == latest].drop_duplicates(["station", "time"], keep="last")


def day_ahead(model: pd.DataFrame) -> pd.DataFrame:
    """Per point and hour, the value of the latest run issued by 00:00 of the hour's natural day.

    Falls back to the latest run issued by the hour itself when no run was issued before the day began.
    """
    m = model.copy()
    day_start = pd.to_datetime(natural_day(m["time"])).dt.tz_localize(TZ)
    early = m[m["run_time"] <= day_start.loc[m.index]]
    late = m[m["run_time"] <= m["time"]]
    pick = []
    for part in (early, late):
        part = part.sort_values("run_time").drop_duplicates(["station", "time"], keep="last")
        pick.append(part)
    out = pd.concat(pick).drop_duplicates(["station", "time"], keep="first")
    return out.sort_values(["station", "time"]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# Bias correction
# ------------------------------------------------------------------------------------------------


class Correction:
    """Fitted bias correction: ``table`` (one row per jurisdiction and pollutant) and :meth:`apply`."""

    def __init__(self, table: pd.DataFrame, maps: dict | None = None):
        self.table = table
        self.maps = maps or {}

    def apply(self, model: pd.DataFrame) -> pd.DataFrame:
        """Corrected copy of a model frame (``station`` = jurisdiction id)."""
        out = model.copy()
        t = self.table
        for p in POLLUTANTS:
            rows = t[(t["pollutant"] == p) & (t["method"] != "quantile")]
            f = out["station"].map(dict(zip(rows["jurisdiction"], rows["factor"], strict=True)))
            out[p] = out[p].to_numpy(dtype="float64") * f.fillna(1.0).to_numpy(dtype="float64")
        for (j, p), (mq, oq) in self.maps.items():
            sel = (out["station"] == j).to_numpy()
            if not sel.any():
                continue
            x = out.loc[sel, p].to_numpy(dtype="float64")
            y = np.interp(x, mq, oq)
            hi = x > mq[-1]
            y[hi] = x[hi] * (oq[-1] / mq[-1] if mq[-1] > 0 else 1.0)
            out.loc[sel, p] = y
        return out


def daily_pairs(model_hist: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Valid daily means of model and observations side by side: ``station``, ``date``, ``pollutant``, ``m``, ``o``."""
    cols = ["station", "date", "pollutant", "m", "o"]
    if model_hist.empty or observed.empty:
        return pd.DataFrame(columns=cols)
    dm = daily_means(model_hist).melt(id_vars=["station", "date"], value_vars=list(POLLUTANTS),
                                      var_name="pollutant", value_name="m")
    do = daily_means(observed).melt(id_vars=["station", "date"], value_vars=list(POLLUTANTS),
                                    var_name="pollutant", value_name="o")
    return dm.merge(do, on=["station", "date", "pollutant"]).dropna()[cols]


def fit_correction(model_hist: pd.DataFrame, observed: pd.DataFrame, end_day, *, window_days: int = 30,
                   min_days: int = 7, method: str = "ratio", pairs: pd.DataFrame | None = None) -> Correction:
    """Fit the bias correction on the ``window_days`` natural days ending ``end_day`` (inclusive).

    Parameters
    ----------
    model_hist : day-ahead model frame (``station`` = jurisdiction id, ``time``, pollutants).
    observed : observed jurisdiction frame (``station``, ``time``, pollutants).
    end_day : last training day (``datetime.date``).
    window_days, min_days, method : see the module docstring.
    pairs : optional precomputed :func:`daily_pairs` of the same frames (saves time when fitting often).

    Returns
    -------
    :class:`Correction`; its ``table`` has ``jurisdiction``, ``pollutant``, ``method``, ``factor`` (ratio;
    NaN for quantile), ``n_days``, ``obs_mean``, ``model_mean`` (over the training days [µg/m³; CO mg/m³]),
    ``note``.
    """
    if method not in METHODS:
        raise InputError(f"unknown bias-correction method {method!r}; choose one of {', '.join(METHODS)}")
    end = pd.Timestamp(end_day).date()
    start = (pd.Timestamp(end) - pd.Timedelta(days=window_days - 1)).date()
    if pairs is None:
        pairs = daily_pairs(model_hist, observed)
    win = pairs[(pairs["date"] >= start) & (pairs["date"] <= end)]
    agg = win.groupby(["station", "pollutant"]).agg(n_days=("m", "size"), obs_mean=("o", "mean"),
                                                     model_mean=("m", "mean"))
    units = sorted(set(model_hist["station"]))
    grid = pd.MultiIndex.from_product([units, list(POLLUTANTS)], names=["station", "pollutant"])
    t = agg.reindex(grid).reset_index().rename(columns={"station": "jurisdiction"})
    t["n_days"] = t["n_days"].fillna(0).astype(int)
    t["method"], t["factor"], t["note"] = method, 1.0, ""
    few = t["n_days"] < min_days
    if method == "none":
        t["note"] = "no correction"
    else:
        t.loc[few, "method"] = "none"
        t.loc[few, "note"] = t.loc[few, "n_days"].astype(str) + f" training day(s) < {min_days}"
    maps = {}
    if method == "ratio":
        with np.errstate(invalid="ignore", divide="ignore"):
            f = t["obs_mean"] / t["model_mean"].where(t["model_mean"] > 0)
        bad = ~few & ~np.isfinite(f)
        t.loc[bad, ["method", "note"]] = ["none", "model mean is 0"]
        ok = ~few & ~bad
        t.loc[ok, "factor"] = np.clip(f[ok], *FACTOR_CLIP)
    elif method == "quantile":
        nd_m, nd_o = natural_day(model_hist["time"]), natural_day(observed["time"])
        mh = model_hist[(nd_m >= start) & (nd_m <= end)]
        ob = observed[(nd_o >= start) & (nd_o <= end)]
        q = np.linspace(0, 100, 101)
        for i in t.index[~few]:
            j, p = t.at[i, "jurisdiction"], t.at[i, "pollutant"]
            hm = mh[mh["station"] == j][["time", p]].rename(columns={p: "m"})
            ho = ob[ob["station"] == j][["time", p]].rename(columns={p: "o"})
            hp = hm.merge(ho, on="time").dropna()
            if len(hp) == 0:
                t.loc[i, ["method", "note"]] = ["none", "no paired hours"]
                continue
            maps[(j, p)] = (np.percentile(hp["m"], q), np.percentile(hp["o"], q))
            t.at[i, "factor"] = np.nan
    cols = ["jurisdiction", "pollutant", "method", "factor", "n_days", "obs_mean", "model_mean", "note"]
    return Correction(t[cols], maps)


# ------------------------------------------------------------------------------------------------
# Daily AQI, rolling AQI
# ------------------------------------------------------------------------------------------------


def _combine(obs: pd.DataFrame, model_now: pd.DataFrame, at: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Observed hours ≤ at (gaps filled with the model), corrected model after; one row per unit-hour."""
    o = obs[obs["time"] <= at].set_index(["station", "time"])[list(POLLUTANTS)]
    m = model_now[model_now["time"] <= end].drop_duplicates(["station", "time"], keep="last")
    m = m.set_index(["station", "time"])[list(POLLUTANTS)]
    past_m = m[m.index.get_level_values("time") <= at]
    filled = o.combine_first(past_m.reindex(o.index)) if len(o) else o
    fut = m[m.index.get_level_values("time") > at]
    out = pd.concat([filled, fut])
    out["observed"] = out.index.get_level_values("time") <= at
    return out.reset_index().sort_values(["station", "time"]).reset_index(drop=True)


def rolling_aqi(hourly_units: pd.DataFrame) -> pd.DataFrame:
    """Rolling 24-h AQI at every hour (the warning indicator; standards.md §5).

    Parameters
    ----------
    hourly_units : frame with ``station`` (unit id), ``time`` and the six pollutants; an optional
        ``observed`` bool column is carried through.

    Returns
    -------
    DataFrame ``jurisdiction``, ``time``, the 24-h indicators (``pm25 pm10 so2 no2 co`` means, ``o3_8h``
    max 8-h, ``o3`` max 1-h), ``iaqi_*``, ``aqi``, ``primary_pollutants``, ``level``, ``category``,
    ``edition``, ``observed``. Every hour of each unit's span is present (NaN AQI where invalid).
    """
    if hourly_units.empty:
        return pd.DataFrame(columns=["jurisdiction", "time", "aqi", "primary_pollutants", "level", "observed"])
    parts = []
    for unit, g in hourly_units.groupby("station", sort=False):
        g = g.drop_duplicates("time", keep="last").set_index("time").sort_index()
        idx = pd.date_range(g.index.min(), g.index.max(), freq="h", tz=TZ)
        g = g.reindex(idx)
        d = pd.DataFrame(index=idx)
        for p in ("pm25", "pm10", "so2", "no2", "co"):
            d[p] = g[p].rolling(24, min_periods=S.MIN_HOURS_DAILY).mean()
        m8 = g["o3"].rolling(8, min_periods=S.MIN_HOURS_8H).mean()
        d["o3_8h"] = m8.rolling(17, min_periods=S.MIN_8H_FOR_MDA8).max()
        d["o3"] = g["o3"].rolling(24, min_periods=S.MIN_HOURS_DAILY).max()
        d["observed"] = g["observed"].fillna(False).astype(bool) if "observed" in g else False
        d["station"] = unit
        d.index.name = "time"
        parts.append(d.reset_index())
    frame = pd.concat(parts, ignore_index=True)
    frame["date"] = natural_day(frame["time"])
    scored = daily_aqi(frame, edition="auto")
    scored = scored.rename(columns={"station": "jurisdiction"}).drop(columns=["date", "missing", "complete"])
    return scored


def forecast_skill(model_da: pd.DataFrame, obs: pd.DataFrame, today, *, skill_days: int = 30,
                   window_days: int = 30, min_days: int = 7, method: str = "ratio") -> pd.DataFrame:
    """Out-of-sample skill of the day-ahead daily AQI, raw and corrected, over ``skill_days`` before today.

    Returns
    -------
    DataFrame per jurisdiction: ``jurisdiction``, ``method``, ``n_days``, ``hit_rate_raw``,
    ``hit_rate_corrected`` (share of days with the observed category [0–1]), ``bias_raw``,
    ``bias_corrected`` (mean forecast − observed daily AQI), ``mae_raw``, ``mae_corrected``.
    """
    cols = ["jurisdiction", "method", "n_days", "hit_rate_raw", "hit_rate_corrected", "bias_raw",
            "bias_corrected", "mae_raw", "mae_corrected"]
    if model_da.empty or obs.empty:
        return pd.DataFrame(columns=cols)
    obs_daily = daily_aqi(obs)[["station", "date", "aqi"]].rename(columns={"aqi": "aqi_obs"})
    today = pd.Timestamp(today).date()
    days = [(pd.Timestamp(today) - pd.Timedelta(days=i)).date() for i in range(skill_days, 0, -1)]
    nd = natural_day(model_da["time"])
    pairs = daily_pairs(model_da, obs)
    raw_parts, cor_parts = [], []
    for d in days:
        md = model_da[nd == d]
        if md.empty:
            continue
        corr = fit_correction(model_da, obs, (pd.Timestamp(d) - _DAY).date(), window_days=window_days,
                              min_days=min_days, method=method, pairs=pairs)
        raw_parts.append(md)
        cor_parts.append(corr.apply(md))
    if not raw_parts:
        return pd.DataFrame(columns=cols)
    raw = daily_aqi(pd.concat(raw_parts, ignore_index=True))[["station", "date", "aqi"]]
    cor = daily_aqi(pd.concat(cor_parts, ignore_index=True))[["station", "date", "aqi"]]
    t = raw.merge(cor, on=["station", "date"], suffixes=("_raw", "_corrected")).merge(obs_daily, on=["station", "date"])
    t = t.dropna(subset=["aqi_raw", "aqi_corrected", "aqi_obs"])
    rows = []
    for j, g in t.groupby("station"):
        lo = category_level(g["aqi_obs"].to_numpy())
        row = {"jurisdiction": j, "method": method, "n_days": len(g)}
        for k in ("raw", "corrected"):
            a = g[f"aqi_{k}"].to_numpy()
            row[f"hit_rate_{k}"] = float((category_level(a) == lo).mean())
            row[f"bias_{k}"] = float((a - g["aqi_obs"].to_numpy()).mean())
            row[f"mae_{k}"] = float(np.abs(a - g["aqi_obs"].to_numpy()).mean())
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def forecast_daily(observed: pd.DataFrame, forecast: pd.DataFrame | None, at, *, days: int = 3,
                   method: str = "ratio", window_days: int = 30, min_days: int = 7,
                   skill_days: int = 30) -> dict[str, pd.DataFrame]:
    """Bias-corrected daily AQI for today + ``days`` days per jurisdiction, with skill and rolling AQI.

    Parameters
    ----------
    observed : observed jurisdiction hourly frame (``id``/``station``, ``time``, pollutants).
    forecast : model frame (module docstring), or None.
    at : decision time (hour-ending, Beijing).
    days : days after today (default 3 — HJ 633-2026 §5.2.3 forecasts cover ≥ 3 days after today).
    method, window_days, min_days, skill_days : see the module docstring.

    Returns
    -------
    dict with

    ``forecast_daily``  ``jurisdiction``, ``date``, ``lead_day`` (0 = today), ``aqi``, ``category``, ``level``,
                        ``primary_pollutants``, daily indicators ``pm25 pm10 so2 no2 co o3_8h o3``,
                        ``iaqi_*``, ``observed_hours``, ``edition``, ``run_time``, ``method``
    ``hourly``          the combined observed + corrected hourly series (``station``, ``time``, pollutants,
                        ``observed``)
    ``rolling_aqi``     :func:`rolling_aqi` of ``hourly``
    ``correction``      the correction table used for the current forecast (:func:`fit_correction`)
    ``skill``           :func:`forecast_skill`
    """
    at = pd.Timestamp(at)
    at = at.tz_localize(TZ) if at.tzinfo is None else at.tz_convert(TZ)
    obs = _obs(observed)
    today = natural_day(at)
    end = pd.Timestamp(today).tz_localize(TZ) + (days + 1) * _DAY
    empty = {"forecast_daily": pd.DataFrame(columns=["jurisdiction", "date", "lead_day", "aqi", "category",
                                                     "primary_pollutants", "observed_hours", "run_time",
                                                     "method"]),
             "correction": pd.DataFrame(columns=["jurisdiction", "pollutant", "method", "factor", "n_days"]),
             "skill": pd.DataFrame(columns=["jurisdiction", "n_days", "hit_rate_raw", "hit_rate_corrected"])}
    if forecast is None or len(forecast) == 0:
        hourly = obs.assign(observed=True)
        return {**empty, "hourly": hourly, "rolling_aqi": rolling_aqi(hourly)}
    model = _model(forecast)
    da = day_ahead(model[model["time"] <= at])
    corr = fit_correction(da, obs, (pd.Timestamp(today) - _DAY).date(), window_days=window_days,
                          min_days=min_days, method=method)
    now = current_run(model, at)
    run_time = now.groupby("station")["run_time"].max() if len(now) else pd.Series(dtype=object)
    corrected = corr.apply(now)
    hourly = _combine(obs, corrected, at, end)
    sel = hourly[(hourly["time"] > pd.Timestamp(today).tz_localize(TZ)) & (hourly["time"] <= end)]
    if sel.empty:
        return {**empty, "hourly": hourly, "rolling_aqi": rolling_aqi(hourly)}
    d = daily_aqi(sel[["station", "time", *POLLUTANTS]])
    nobs = sel.assign(date=natural_day(sel["time"])).groupby(["station", "date"])["observed"].sum()
    d["observed_hours"] = [int(nobs.get((s, x), 0)) for s, x in zip(d["station"], d["date"], strict=True)]
    d["lead_day"] = [(pd.Timestamp(x) - pd.Timestamp(today)).days for x in d["date"]]
    d["run_time"] = d["station"].map(run_time)
    d["method"] = method
    d = d.rename(columns={"station": "jurisdiction"}).drop(columns=["missing", "complete"])
    front = ["jurisdiction", "date", "lead_day", "aqi", "category", "level", "primary_pollutants"]
    d = d[front + [c for c in d.columns if c not in front]]
    skill = forecast_skill(da, obs, today, skill_days=skill_days, window_days=window_days,
                           min_days=min_days, method=method)
    return {"forecast_daily": d.reset_index(drop=True), "hourly": hourly, "rolling_aqi": rolling_aqi(hourly),
            "correction": corr.table, "skill": skill}


# ------------------------------------------------------------------------------------------------
# 临界天
# ------------------------------------------------------------------------------------------------

_AVG = {"pm25": "24h", "pm10": "24h", "so2": "24h", "no2": "24h", "co": "24h", "o3_8h": "8h", "o3": "1h"}


def critical_days(daily: pd.DataFrame, *, band=(90, 110)) -> pd.DataFrame:
    """临界天: forecast days whose daily AQI lies in ``band`` (inclusive), with the drop that keeps 良.

    Parameters
    ----------
    daily : ``forecast_daily`` frame (or any daily-AQI frame with ``jurisdiction``/``station``, ``date``,
        ``aqi``, ``iaqi_*`` and the daily indicators).
    band : (low, high) AQI, default (90, 110) — standards.md §5.4 (UNCERTAIN, U6: no source for the band).

    Returns
    -------
    DataFrame, one row per critical day and controlling pollutant (every pollutant with IAQI > 100; the
    primary pollutant(s) when AQI ≤ 100): ``jurisdiction``, ``date``, ``lead_day``, ``aqi``, ``category``,
    ``pollutant`` (``o3_8h`` = MDA8, ``o3`` = O3 max 1-h under 2012), ``concentration`` [µg/m³; CO mg/m³],
    ``iaqi``, ``limit`` (C* at IAQI 100, edition of the day), ``limit_effective``, ``drop_needed``
    (max(concentration − limit_effective, 0): the fall in the daily value that keeps the day at 良 — with
    an exclusive limit it must fall by more than this), ``drop_pct`` [%], ``headroom``
    (max(limit_effective − concentration, 0)), ``edition``.
    """
    lo, hi = band
    if lo > hi:
        raise InputError(f"band={band!r}; low must be <= high")
    cols = ["jurisdiction", "date", "lead_day", "aqi", "category", "pollutant", "concentration", "iaqi", "limit",
            "limit_effective", "drop_needed", "drop_pct", "headroom", "edition"]
    if daily is None or daily.empty:
        return pd.DataFrame(columns=cols)
    d = daily.rename(columns={"station": "jurisdiction"})
    d = d[(d["aqi"] >= lo) & (d["aqi"] <= hi)]
    rows = []
    for _, r in d.iterrows():
        ed = edition_for(r["date"])
        over = [p for p in _AVG if f"iaqi_{p}" in r and r[f"iaqi_{p}"] > 100]
        pols = over or [p for p in str(r.get("primary_pollutants", "")).split(";") if p]
        for p in pols:
            base = "o3" if p in ("o3", "o3_8h") else p
            c, eff, _ = _limit(ed, base, _AVG[p], 100)
            conc = float(r[p])
            drop = max(conc - eff, 0.0)
            rows.append({"jurisdiction": r["jurisdiction"], "date": r["date"], "lead_day": r.get("lead_day", np.nan),
                         "aqi": r["aqi"], "category": r.get("category", ""), "pollutant": p,
                         "concentration": conc, "iaqi": r[f"iaqi_{p}"], "limit": c, "limit_effective": eff,
                         "drop_needed": drop, "drop_pct": 100.0 * drop / conc if conc > 0 else np.nan,
                         "headroom": max(eff - conc, 0.0), "edition": ed})
    return pd.DataFrame(rows, columns=cols)
