"""The latest hour: unit and station AQI, KPIs and the running daily AQI.

Every function takes the canonical hourly frame (``station``, ``time`` tz-aware Beijing
hour-ending, ``pm25 pm10 so2 no2 o3`` [µg/m³], ``co`` [mg/m³]) and returns the table behind a
dashboard element. Area AQIs are computed from area-mean concentrations (:func:`regionair.core.region.aggregate`
first, then :mod:`regionair.core.aqi`) — never as the mean of station AQIs (HJ 633-2026 §4.2.1–4.2.3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regionair.analysis._common import check_choice, check_columns, hours_between, unit_catalogue
from regionair.core import aqi, region
from regionair.core.averaging import moving_means
from regionair.core.nomenclature import POLLUTANTS, beijing_time

LEVELS = ("jurisdiction", "side", "region")
_HOUR = pd.Timedelta(hours=1)
_MOVING_COLS = ("pm25_24h", "pm10_24h", "so2_24h", "no2_24h", "co_24h", "o3_8h")


def unit_hourly(hourly: pd.DataFrame, level: str = "jurisdiction", edition: str = "auto",
                jurisdictions=None) -> pd.DataFrame:
    """Hourly AQI of area units: area-mean concentrations, then the hourly AQI.

    Parameters
    ----------
    hourly : DataFrame
        Canonical hourly frame (station rows).
    level : {"jurisdiction", "side", "region"}
        Unit of aggregation (see :func:`regionair.core.region.aggregate`).
    edition : {"auto", "2012", "2026"}
        HJ 633 edition; ``"auto"`` picks per row by natural day.
    jurisdictions : iterable of str, optional
        Jurisdiction ids making up the region (default: the members of the joint mechanism).

    Returns
    -------
    DataFrame
        One row per unit and hour: ``station`` (unit id), ``time``, area means ``pm25 pm10 so2 no2 o3``
        [µg/m³] and ``co`` [mg/m³], ``n_<p>`` (stations contributing), ``iaqi_<p>``, ``aqi``,
        ``primary_pollutants``, ``level``, ``category``, ``edition``, ``missing``, ``complete``
        (as :func:`regionair.core.aqi.hourly_aqi`, method ``"cnemc"``).

    References
    ----------
    HJ 633-2026 §4.2.1–4.2.4 (area AQI from area concentrations); HJ 663-2013 (city mean over
    evaluation stations).
    """
    check_choice("level", level, LEVELS)
    check_columns(hourly, ("station", "time", *POLLUTANTS), "hourly")
    units = region.aggregate(hourly, level=level, jurisdictions=jurisdictions, pollutants=list(POLLUTANTS))
    return aqi.hourly_aqi(units, edition=edition)


def _at(hourly: pd.DataFrame, at) -> pd.Timestamp:
    return beijing_time(at, "at") if at is not None else beijing_time(hourly["time"].max())


def _recent(hourly: pd.DataFrame, at: pd.Timestamp, keep_from: pd.Timestamp | None = None) -> pd.DataFrame:
    """Rows ≤ ``at`` within 25 h of each station's latest row (enough for 24-h means and the
    previous hour), plus every row from ``keep_from`` on."""
    f = hourly.loc[hourly["time"] <= at]
    latest = f.groupby("station", sort=False)["time"].transform("max")
    keep = f["time"] > latest - 25 * _HOUR
    if keep_from is not None:
        keep |= f["time"] >= keep_from
    cols = ["station", "time", *POLLUTANTS] + (["not_monitored"] if "not_monitored" in f.columns else [])
    f = f.loc[keep, cols].drop_duplicates(["station", "time"], keep="last")
    return f.sort_values(["station", "time"], kind="stable").reset_index(drop=True)


def _with_change(res: pd.DataFrame) -> pd.DataFrame:
    """Add ``aqi_change`` = AQI − AQI of the same station one hour earlier (NaN if that hour is absent)."""
    prev = res[["station", "time", "aqi"]].rename(columns={"aqi": "aqi_previous"})
    prev["time"] = prev["time"] + _HOUR
    out = res.merge(prev, on=["station", "time"], how="left", validate="one_to_one")
    out["aqi_change"] = out["aqi"] - out["aqi_previous"]
    return out


def station_latest(hourly: pd.DataFrame, at=None, edition: str = "auto") -> pd.DataFrame:
    """Latest hour of every station: 1-h values, IAQIs, AQI, moving means, change and data flags.

    Parameters
    ----------
    hourly : DataFrame
        Canonical hourly frame.
    at : Timestamp or str, optional
        Reference hour (Beijing, hour-ending; naive = Beijing). Each station contributes its latest
        row with ``time ≤ at``; default the latest time in the frame. ``hours_since`` tells how
        stale a station is (0 = it reported at ``at``).
    edition : {"auto", "2012", "2026"}

    Returns
    -------
    DataFrame
        One row per station, sorted by AQI (highest first): ``station``, ``name_zh``, ``name_en``,
        ``jurisdiction``, ``side``, ``background`` (bool, 对照点), ``time``, ``hours_since`` [h],
        ``pm25 pm10 so2 no2 o3`` [µg/m³], ``co`` [mg/m³] (1-h), ``pm25_24h pm10_24h so2_24h no2_24h``
        [µg/m³], ``co_24h`` [mg/m³] (24-h moving means, ≥ 20 h valid), ``o3_8h`` [µg/m³] (8-h moving
        mean, ≥ 6 h valid), ``iaqi_<p>``, ``aqi``, ``aqi_previous``, ``aqi_change`` (vs the previous
        hour of the same station), ``primary_pollutants``, ``level``, ``category``, ``edition``,
        ``missing`` (``;``-joined pollutants without a 1-h value), ``complete``, ``pm25_gt_pm10``
        (bool — PM2.5 > PM10, physically implausible; CNEMC invalidates PM10 then) and ``flags``
        (``;``-joined: ``missing:<codes>``, ``pm25>pm10``).

    Notes
    -----
    Hourly AQI per :func:`regionair.core.aqi.hourly_aqi` (method ``"cnemc"``: six 1-h values, PM scored on
    the daily breakpoints; HJ 633-2026 §4.2.3–4.2.4). Moving means per
    :func:`regionair.core.averaging.moving_means` (GB 3095 Table 4 validity). Station names and
    jurisdictions come from the station catalogue; stations not in it keep ``station_name`` from the
    frame if present and an empty jurisdiction.
    """
    check_columns(hourly, ("station", "time", *POLLUTANTS), "hourly")
    at = _at(hourly, at)
    f = _recent(hourly, at)
    res = aqi.hourly_aqi(f, edition=edition)
    mm = moving_means(f)
    res = pd.concat([res, mm[list(_MOVING_COLS)]], axis=1)
    res = _with_change(res)
    latest = res.groupby("station")["time"].transform("max")
    out = res.loc[res["time"] == latest].copy()
    out["hours_since"] = hours_between(at, out["time"])
    out["pm25_gt_pm10"] = (out["pm25"] > out["pm10"]).to_numpy()
    miss = out["missing"].fillna("").astype(str)
    flags = np.where(miss != "", "missing:" + miss, "")
    flags = np.where(out["pm25_gt_pm10"], np.where(flags == "", "pm25>pm10", flags + ";pm25>pm10"), flags)
    out["flags"] = flags
    cat = region.stations().set_index("code")
    side = region.jurisdictions().set_index("id")["side"]
    codes = out["station"].astype(str)
    names = pd.Series("", index=out.index)
    if "station_name" in hourly.columns:
        sn = hourly.dropna(subset=["station_name"]).drop_duplicates("station", keep="last")
        names = codes.map(sn.set_index("station")["station_name"]).fillna("")
    out["name_zh"] = codes.map(cat["name_zh"]).fillna(names)
    out["name_en"] = codes.map(cat["name_en"]).fillna("")
    out["jurisdiction"] = codes.map(cat["jurisdiction"]).fillna("")
    out["side"] = out["jurisdiction"].map(side).fillna("")
    out["background"] = codes.map(cat["background"]).fillna(False).astype(bool)
    lead = ["station", "name_zh", "name_en", "jurisdiction", "side", "background", "time", "hours_since",
            *POLLUTANTS, *_MOVING_COLS]
    iaqi_cols = [c for c in out.columns if c.startswith("iaqi_")]
    tail = ["aqi", "aqi_previous", "aqi_change", "primary_pollutants", "level", "category", "edition",
            "missing", "complete", "pm25_gt_pm10", "flags"]
    out = out[lead + iaqi_cols + tail]
    return out.sort_values(["aqi", "station"], ascending=[False, True], na_position="last").reset_index(drop=True)


def worst_stations(hourly: pd.DataFrame, at=None, n: int = 5, include_background: bool = True,
                   max_age_hours: float | None = None, edition: str = "auto") -> pd.DataFrame:
    """The ``n`` stations with the highest AQI at their latest hour ≤ ``at``.

    Parameters
    ----------
    hourly : DataFrame — canonical hourly frame.
    at : Timestamp or str, optional — reference hour (default: latest in the frame).
    n : int — number of stations.
    include_background : bool — keep background stations (对照点).
    max_age_hours : float, optional — drop stations whose latest hour is older than this [h].
    edition : {"auto", "2012", "2026"}

    Returns
    -------
    DataFrame
        The first ``n`` rows of :func:`station_latest` with a valid AQI (ties broken by station code),
        same columns, plus ``rank`` (1 = worst).
    """
    out = station_latest(hourly, at=at, edition=edition)
    keep = out["aqi"].notna()
    if not include_background:
        keep &= ~out["background"]
    if max_age_hours is not None:
        keep &= out["hours_since"] <= max_age_hours
    out = out.loc[keep].head(int(n)).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _running_day(units: pd.DataFrame, at: pd.Timestamp, edition: str) -> pd.DataFrame:
    """Daily AQI for the natural day of ``at`` from the unit hours D 01:00 … ``at`` (no 20-h rule)."""
    day = aqi.natural_day(at)
    start = pd.Timestamp(day, tz=at.tz) + _HOUR
    win = units.loc[(units["time"] >= start) & (units["time"] <= at)]
    if win.empty:
        return pd.DataFrame(columns=["station", "day_hours"])
    g = win.groupby("station", sort=False)
    daily = g[["pm25", "pm10", "so2", "no2", "co"]].mean()
    daily["o3"] = g["o3"].max()  # O3 daily max 1-h (scored only under 2012)
    mm = moving_means(win)  # 8-h windows stamped 08:00 … at lie inside the day
    o38 = mm["o3_8h"].where(win["time"] >= start + 7 * _HOUR)
    daily["o3_8h"] = o38.groupby(win["station"]).max()
    daily["day_hours"] = g["time"].nunique()
    daily = daily.reset_index()
    daily["date"] = day
    res = aqi.daily_aqi(daily, edition=edition)
    keep = {"aqi": "day_aqi", "category": "day_category", "level": "day_level",
            "primary_pollutants": "day_primary_pollutants", "edition": "day_edition", "date": "day_date"}
    return res[["station", "day_hours", *keep]].rename(columns=keep)


def unit_kpis(hourly: pd.DataFrame, at=None, level: str = "jurisdiction", edition: str = "auto",
              jurisdictions=None) -> pd.DataFrame:
    """Headline figures per area unit: latest hourly AQI, change, running daily AQI for today.

    Parameters
    ----------
    hourly : DataFrame
        Canonical hourly frame (station rows).
    at : Timestamp or str, optional
        Reference hour (Beijing, hour-ending; default the latest time in the frame). Each unit shows
        its latest hour ≤ ``at``; ``hours_since`` gives the staleness.
    level : {"jurisdiction", "side", "region"}
    edition : {"auto", "2012", "2026"}
    jurisdictions : iterable of str, optional — region membership (default: the joint mechanism).

    Returns
    -------
    DataFrame
        One row per unit, sorted by catalogue ``order``: ``station`` (unit id), ``name_zh``,
        ``name_en``, ``side``, ``order``, ``no_station`` (bool — the unit has no evaluation station in
        the catalogue; its values are NaN), ``time``, ``hours_since`` [h], ``n_stations`` (stations
        contributing at that hour), area means ``pm25 pm10 so2 no2 o3`` [µg/m³], ``co`` [mg/m³],
        ``aqi``, ``aqi_previous``, ``aqi_change``, ``category``, ``level``, ``primary_pollutants``,
        ``edition``; and for the natural day of ``at`` so far: ``day_date``, ``day_hours`` (hours
        used), ``day_aqi``, ``day_category``, ``day_level``, ``day_primary_pollutants``,
        ``day_edition``, ``provisional`` (always True: a running value).

    Notes
    -----
    The running daily AQI uses the unit's hourly area means stamped D 01:00 … ``at`` (D = natural day
    of ``at``, HJ 633-2026 自然日): daily means of PM2.5, PM10, SO2, NO2, CO from the available hours
    **without** the 20-hour validity rule of GB 3095 Table 4, the O3 max 8-h mean over the 8-h moving
    means stamped D 08:00 … ``at`` (each ≥ 6 h valid) and, under 2012, the O3 max 1-h; then IAQIs with
    the daily breakpoints via :func:`regionair.core.aqi.daily_aqi` (HJ 633 §5.1.2 / §4.2.2). It is
    therefore provisional until the day is complete and validated. At ``at`` = D+1 00:00 with
    complete data it equals the daily AQI of the unit.
    """
    check_choice("level", level, LEVELS)
    check_columns(hourly, ("station", "time", *POLLUTANTS), "hourly")
    at = _at(hourly, at)
    day_start = pd.Timestamp(aqi.natural_day(at), tz=at.tz) + _HOUR
    f = _recent(hourly, at, keep_from=day_start)
    units = region.aggregate(f, level=level, jurisdictions=jurisdictions, pollutants=list(POLLUTANTS))
    res = _with_change(aqi.hourly_aqi(units, edition=edition))
    latest = res.groupby("station")["time"].transform("max")
    now = res.loc[res["time"] == latest].copy()
    now["hours_since"] = hours_between(at, now["time"])
    now["n_stations"] = now[[f"n_{p}" for p in POLLUTANTS]].max(axis=1).astype(int)
    cols = ["station", "time", "hours_since", "n_stations", *POLLUTANTS, "aqi", "aqi_previous", "aqi_change",
            "category", "level", "primary_pollutants", "edition"]
    now = now[cols]
    day = _running_day(units, at, edition)

    cat = unit_catalogue()
    if level == "jurisdiction":
        jt = cat.loc[cat["level"] == "jurisdiction"]
        ids = list(jt.index[jt["member"]]) if jurisdictions is None else list(jurisdictions)
        st = region.stations()
        with_station = set(st.loc[~st["background"].astype(bool), "jurisdiction"])
    elif level == "side":
        ids, with_station = ["side:local", "side:corps"], {"side:local", "side:corps"}
    else:
        ids, with_station = ["region"], {"region"}
    ids = ids + [u for u in now["station"] if u not in ids]
    base = pd.DataFrame({"station": ids})
    info = cat.reindex(ids)
    for c in ("name_zh", "name_en", "side", "order"):
        base[c] = info[c].to_numpy()
    base["no_station"] = ~base["station"].isin(with_station)
    out = base.merge(now, on="station", how="left").merge(day, on="station", how="left")
    out["day_date"] = aqi.natural_day(at)
    out["provisional"] = True
    out["category"] = out["category"].fillna("")
    out["primary_pollutants"] = out["primary_pollutants"].fillna("")
    for c in ("n_stations", "level", "day_hours", "day_level"):
        if c in out.columns:
            out[c] = out[c].astype("Int64")
    return out.sort_values("order", kind="stable").reset_index(drop=True)
