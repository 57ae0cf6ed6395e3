"""Time averages, temporal profiles, calendars, and relations between units' series.

Shared vocabulary (after openair): ``by=`` the grouping column (``"station"`` — which holds the unit
id in a unit frame from :func:`regionair.core.region.aggregate` — or any other column), ``avg_time=``
(``"hour"``, ``"day"``, ``"month"``), ``data_thresh=`` (minimum valid values behind an average),
``statistic=``. Every function returns a DataFrame — the table behind a chart.

Time stamps are Beijing time, **hour-ending** (the value stamped 16:00 is the mean of 15:00–16:00).
Profiles label hours by their **beginning** (0 … 23: the value stamped 16:00 is hour 15) and days by
the natural day (stamps D 01:00 … D+1 00:00).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regionair.analysis._common import check_choice, check_columns, to_beijing
from regionair.core import aqi
from regionair.core.averaging import daily_means
from regionair.errors import InputError

AVG_TIMES = ("hour", "day", "month")
STATISTICS = ("mean", "median", "max", "min")
CLOCKS = ("beijing", "solar")
#: Daily indicators that monthly averages are built from (see :func:`regionair.core.averaging.daily_means`).
DAILY_COLUMNS = ("pm25", "pm10", "so2", "no2", "co", "o3", "o3_8h", "aqi")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Fewest natural days a period must hold before a profile says anything: a diurnal profile needs a few days
#: to average over, a weekday profile two of each weekday, a monthly profile two months (a profile drawn from
#: one day is that day, not a profile; openair's timeVariation is meant for months to years of data).
PROFILE_MIN_DAYS = {"diurnal": 3, "weekday": 14, "monthly": 60}


def profile_days(frame: pd.DataFrame) -> int:
    """Number of natural (Beijing) days that hold data in ``frame`` (hour-ending ``time``)."""
    return int(_natural_days(frame).nunique()) if len(frame) else 0
_Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95 % interval
_HOUR = pd.Timedelta(hours=1)


def _as_station(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """The frame with the grouping column ``by`` in ``station`` (what the averaging module keys on)."""
    check_columns(frame, (by,))
    if by == "station":
        return frame
    key = "date" if "date" in frame.columns else "time"
    if frame.duplicated([by, key]).any():
        raise InputError(f"several rows per {by!r} and {key}; aggregate the stations first "
                         "(regionair.core.region.aggregate) or group by 'station'", column="by")
    return frame.drop(columns=["station"], errors="ignore").rename(columns={by: "station"})


def time_average(frame: pd.DataFrame, avg_time: str = "hour", statistic: str = "mean",
                 data_thresh: int | None = None, by: str = "station") -> pd.DataFrame:
    """Average a station or unit frame to hours, natural days or calendar months.

    Parameters
    ----------
    frame : DataFrame
        Canonical hourly frame (or a unit frame from :func:`regionair.core.region.aggregate`), or a daily
        frame (recognised by its ``date`` column, e.g. :func:`regionair.core.aqi.daily_aqi` output).
    avg_time : {"hour", "day", "month"}
        ``"hour"``: the frame unchanged (sorted). ``"day"``: the daily indicators of
        :func:`regionair.core.averaging.daily_means` — natural-day means of PM2.5, PM10, SO2, NO2 [µg/m³],
        CO [mg/m³] valid with ≥ 20 hourly values (GB 3095 Table 4), O3 daily max 1-h and MDA8
        [µg/m³] (HJ 663 §6.1.2); a daily frame is passed through. ``"month"``: the ``statistic`` of
        the valid daily values in each calendar month (of natural days).
    statistic : {"mean", "median", "max", "min"}
        Only ``"mean"`` for ``"hour"``/``"day"`` (the standards define the daily indicators).
    data_thresh : int, optional
        ``"month"`` only: fewest valid daily values for a monthly value, else NaN. Default 1 (any valid
        day) — a descriptive average. The GB 3095 Table 4 rule for a *statistically valid* month is
        ≥ 27 days (February ≥ 25); pass 27 to apply it (February is then also held to 27, so pass 25
        for a February-only check) — :func:`regionair.analysis.ranking.ranking` applies it exactly.
    by : str
        Grouping column (``"station"`` or a column unique per time stamp).

    Returns
    -------
    DataFrame
        ``"hour"``: the input rows. ``"day"``: ``by``, ``date`` (``datetime.date``), daily indicators
        and ``n_<p>`` (valid hours). ``"month"``: ``by``, ``month`` (``"YYYY-MM"``), one column per
        daily indicator present (``pm25 pm10 so2 no2 co o3 o3_8h aqi``; same units as the daily
        values), ``n_days_<p>`` (valid days) and ``days_in_month``.

    Raises
    ------
    InputError
        Unknown option; ``data_thresh`` with ``avg_time`` other than ``"month"``; non-mean statistic
        for hours or days; several rows per group and time when ``by`` is not ``"station"``.
    """
    check_choice("avg_time", avg_time, AVG_TIMES)
    check_choice("statistic", statistic, STATISTICS)
    if avg_time != "month" and statistic != "mean":
        raise InputError(f"statistic={statistic!r} applies only to avg_time='month'; daily indicators are "
                         "defined by GB 3095/HJ 663 (means, O3 maxima)", column="statistic")
    if avg_time != "month" and data_thresh is not None:
        raise InputError("data_thresh applies only to avg_time='month'; hourly and daily validity follow "
                         "GB 3095 Table 4", column="data_thresh")
    if avg_time == "hour":
        key = "date" if "date" in frame.columns else "time"
        check_columns(frame, (by, key))
        return frame.sort_values([by, key], kind="stable").reset_index(drop=True)
    if "date" in frame.columns:
        daily = frame.copy()
    else:
        check_columns(frame, ("time", "pm25", "pm10", "so2", "no2", "co", "o3"))
        daily = daily_means(_as_station(frame, by))
        if by != "station":
            daily = daily.rename(columns={"station": by})
    if avg_time == "day":
        return daily.sort_values([by, "date"], kind="stable").reset_index(drop=True)
    check_columns(daily, (by, "date"), "daily frame")
    thresh = 1 if data_thresh is None else int(data_thresh)
    if thresh < 1:
        raise InputError(f"data_thresh={data_thresh!r}; must be an integer ≥ 1 (valid days)", column="data_thresh")
    dates = pd.to_datetime(pd.Series(daily["date"]).astype(str))
    daily = daily.assign(month=dates.dt.strftime("%Y-%m").to_numpy())
    cols = [c for c in DAILY_COLUMNS if c in daily.columns]
    g = daily.groupby([by, "month"], sort=True)[cols]
    values = g.agg(statistic)
    counts = g.count()
    values = values.where(counts >= thresh)
    counts.columns = [f"n_days_{c}" for c in cols]
    out = pd.concat([values, counts], axis=1).reset_index()
    out["days_in_month"] = pd.PeriodIndex(out["month"], freq="M").days_in_month
    return out


def _profile(frame: pd.DataFrame, pollutant: str, by: str | None, key: pd.Series, key_name: str) -> pd.DataFrame:
    check_columns(frame, (pollutant,) + ((by,) if by else ()))
    v = pd.to_numeric(frame[pollutant], errors="coerce").to_numpy(dtype="float64")
    d = pd.DataFrame({key_name: np.asarray(key), "value": v})
    keys = [key_name]
    if by:
        d.insert(0, by, frame[by].to_numpy())
        keys = [by, key_name]
    d = d.dropna(subset=["value"])
    g = d.groupby(keys, sort=True)["value"]
    out = pd.DataFrame({"mean": g.mean(), "median": g.median(), "sd": g.std(ddof=1), "n": g.count()})
    out["se"] = out["sd"] / np.sqrt(out["n"])
    out["ci_low"] = out["mean"] - _Z95 * out["se"]
    out["ci_high"] = out["mean"] + _Z95 * out["se"]
    out = out.reset_index()
    out.insert(len(keys), "pollutant", pollutant)
    return out


def diurnal_profile(hourly: pd.DataFrame, pollutant: str, by: str | None = "station", clock: str = "beijing",
                    solar_offset_hours: int = -2) -> pd.DataFrame:
    """Mean diurnal cycle with a 95 % confidence interval, per group.

    Parameters
    ----------
    hourly : DataFrame
        Hourly frame with ``time`` (Beijing, hour-ending), ``pollutant`` and ``by`` columns (station or
        unit frame, or :func:`regionair.core.aqi.hourly_aqi` output for ``"aqi"``).
    pollutant : str
        Column to profile (``pm25`` … ``o3`` or ``aqi``) [its unit].
    by : str or None
        Grouping column; None pools all rows.
    clock : {"beijing", "solar"}
        ``"beijing"``: Beijing time (UTC+8). ``"solar"``: Beijing time shifted by
        ``solar_offset_hours`` — the region (≈ 86–88.5° E) has mean solar time ≈ UTC+5.8, about 2 h
        behind Beijing time, so the default −2 puts the morning rush and the boundary-layer cycle
        near their local-solar hours.
    solar_offset_hours : int
        Shift [h] for ``clock="solar"``.

    Returns
    -------
    DataFrame
        ``by`` (if given), ``hour`` (0 … 23, **hour-beginning**: the value stamped 16:00 is hour 15),
        ``pollutant``, ``mean``, ``median``, ``sd``, ``n``, ``se`` = sd/√n, ``ci_low``, ``ci_high`` =
        mean ∓ 1.96·se [unit of the pollutant].

    Notes
    -----
    The interval is the normal approximation mean ± 1.96·sd/√n over the valid values at that hour.
    Values at one hour on different days are treated as independent; day-to-day persistence (e.g.
    a multi-day episode) makes the true interval wider. NaN interval with n < 2.
    """
    check_choice("clock", clock, CLOCKS)
    check_columns(hourly, ("time",))
    shift = pd.Timedelta(hours=solar_offset_hours if clock == "solar" else 0)
    hour = (to_beijing(hourly["time"]) - _HOUR + shift).dt.hour
    return _profile(hourly, pollutant, by, hour, "hour")


def _natural_days(frame: pd.DataFrame) -> pd.Series:
    if "date" in frame.columns:
        return pd.to_datetime(pd.Series(frame["date"]).astype(str))
    check_columns(frame, ("time",))
    return to_beijing(frame["time"]).sub(_HOUR).dt.tz_localize(None).dt.normalize()


def weekday_profile(frame: pd.DataFrame, pollutant: str, by: str | None = "station") -> pd.DataFrame:
    """Mean by day of the week (natural day), with a 95 % confidence interval.

    Parameters
    ----------
    frame : DataFrame — hourly (``time``, hour-ending) or daily (``date``) values.
    pollutant : str — column to profile [its unit].
    by : str or None — grouping column; None pools all rows.

    Returns
    -------
    DataFrame
        ``by``, ``weekday`` (0 = Monday … 6 = Sunday, of the natural day), ``pollutant``,
        ``weekday_name``, ``mean``, ``median``, ``sd``, ``n``, ``se``, ``ci_low``, ``ci_high`` (as
        :func:`diurnal_profile`; with hourly input every hour counts as one value).
    """
    out = _profile(frame, pollutant, by, _natural_days(frame).dt.day_of_week, "weekday")
    out.insert(out.columns.get_loc("pollutant") + 1, "weekday_name",
               [WEEKDAY_NAMES[i] for i in out["weekday"]])
    return out


def monthly_profile(frame: pd.DataFrame, pollutant: str, by: str | None = "station") -> pd.DataFrame:
    """Mean by calendar month (1 … 12, of the natural day), with a 95 % confidence interval.

    Returns ``by``, ``month``, ``pollutant``, ``mean``, ``median``, ``sd``, ``n``, ``se``, ``ci_low``,
    ``ci_high`` (as :func:`weekday_profile`). Pass daily values (:func:`time_average` with
    ``avg_time="day"``) for a profile of daily means.
    """
    return _profile(frame, pollutant, by, _natural_days(frame).dt.month, "month")


def calendar_data(daily: pd.DataFrame, by: str | None = "station") -> pd.DataFrame:
    """Table behind a calendar heat map of the daily AQI.

    Parameters
    ----------
    daily : DataFrame — :func:`regionair.core.aqi.daily_aqi` output (``date``, ``aqi``; optionally
        ``primary_pollutants``, ``edition``).
    by : str or None — grouping column (one calendar per group); None when the frame holds one series.

    Returns
    -------
    DataFrame
        Every date from the first to the last per group (missing days with NaN AQI): ``by``, ``date``,
        ``year``, ``month``, ``day``, ``weekday`` (0 = Monday), ``iso_year``, ``week`` (ISO week),
        ``aqi``, ``level`` (0 = no AQI), ``category`` (zh), ``colour`` (hex, HJ 633 Annex A Table A.1;
        grey ``#BFBFBF`` without AQI), and ``primary_pollutants``/``edition`` when present.
    """
    check_columns(daily, ("date", "aqi") + ((by,) if by else ()), "daily frame")
    d = daily.copy()
    d["date"] = pd.to_datetime(pd.Series(d["date"]).astype(str)).to_numpy()
    extra = [c for c in ("primary_pollutants", "edition") if c in d.columns]
    keys = [by] if by else []
    d = d[keys + ["date", "aqi"] + extra].drop_duplicates(keys + ["date"], keep="last")
    parts = []
    for key, grp in (d.groupby(by, sort=False) if by else [(None, d)]):
        full = pd.DataFrame({"date": pd.date_range(grp["date"].min(), grp["date"].max(), freq="D")})
        full = full.merge(grp.drop(columns=keys), on="date", how="left")
        if by:
            full.insert(0, by, key)
        parts.append(full)
    out = pd.concat(parts, ignore_index=True) if parts else d.iloc[0:0]
    dt = pd.to_datetime(out["date"])
    iso = dt.dt.isocalendar()
    out["year"], out["month"], out["day"] = dt.dt.year, dt.dt.month, dt.dt.day
    out["weekday"] = dt.dt.day_of_week
    out["iso_year"], out["week"] = iso["year"].astype(int).to_numpy(), iso["week"].astype(int).to_numpy()
    a = out["aqi"].to_numpy(dtype="float64")
    out["level"] = aqi.category_level(a)
    out["category"] = aqi.category(a) if len(a) else []
    out["colour"] = aqi.category_colour(a) if len(a) else []
    out["date"] = dt.dt.date
    if "primary_pollutants" in out.columns:
        out["primary_pollutants"] = out["primary_pollutants"].fillna("")
    cols = keys + ["date", "year", "month", "day", "weekday", "iso_year", "week", "aqi", "level", "category",
                   "colour"] + extra
    return out[cols]


# ------------------------------------------------------------------------------------------------
# Relations between units
# ------------------------------------------------------------------------------------------------


def _wide(frame: pd.DataFrame, pollutant: str, by: str) -> pd.DataFrame:
    check_columns(frame, (by, "time", pollutant))
    w = frame.drop_duplicates([by, "time"], keep="last").set_index(["time", by])[pollutant].unstack(by)
    return w[list(pd.unique(frame[by]))].sort_index()


def correlation_matrix(unit_hourly: pd.DataFrame, pollutant: str, by: str = "station",
                       min_periods: int = 3) -> pd.DataFrame:
    """Pearson correlation between the hourly series of every pair of units.

    Parameters
    ----------
    unit_hourly : DataFrame — unit (or station) hourly frame with ``time``, ``by`` and ``pollutant``.
    pollutant : str — column [its unit].
    by : str — column naming the series.
    min_periods : int — fewest common valid hours for an r, else NaN.

    Returns
    -------
    DataFrame
        Square, indexed and columned by the ids in order of first appearance (display order for
        :func:`regionair.core.region.aggregate` output); r computed on the hours both series have
        (pairwise complete), dimensionless.
    """
    w = _wide(unit_hourly, pollutant, by)
    r = w.corr(method="pearson", min_periods=min_periods)
    r.index.name = r.columns.name = by
    return r


def _hourly_series(s: pd.Series, name: str) -> pd.Series:
    if not isinstance(s, pd.Series) or not isinstance(s.index, pd.DatetimeIndex):
        raise InputError(f"{name} must be a Series indexed by hourly time stamps (DatetimeIndex)", column=name)
    if s.index.has_duplicates:
        raise InputError(f"{name} has duplicate time stamps", column=name)
    return pd.to_numeric(s, errors="coerce").astype("float64").sort_index()


def lead_lag(a: pd.Series, b: pd.Series, max_lag: int = 12, difference: bool = True,
             min_periods: int = 10) -> pd.DataFrame:
    """Lagged Pearson correlation between two hourly series.

    Parameters
    ----------
    a, b : Series indexed by hourly time stamps (e.g. a unit's PM2.5 [µg/m³]); absent hours are gaps.
    max_lag : int — largest lag tried, both directions [h].
    difference : bool
        Correlate hour-to-hour changes (first differences, Δx_t = x_t − x_{t−1}) instead of levels.
        Levels of two polluted neighbours share slow, smooth variations (multi-day episodes, the
        diurnal cycle), which make the correlation nearly flat across lags and its maximum land at
        lag 0 or wander — a spurious lag. Differencing removes the common slow part so the peak
        reflects the timing of rises and falls. A difference across a gap is NaN, never bridged.
    min_periods : int — fewest common valid hours for an r, else NaN.

    Returns
    -------
    DataFrame
        ``lag`` (−max_lag … max_lag [h]; **positive = a leads b**: r is computed between a at
        t − lag and b at t, so changes in a appear in b ``lag`` hours later), ``r`` (Pearson) and ``n``
        (hours used).
    """
    a = _hourly_series(a, "a")
    b = _hourly_series(b, "b")
    if int(max_lag) < 0:
        raise InputError(f"max_lag={max_lag!r}; must be ≥ 0 hours", column="max_lag")
    idx = a.index.union(b.index)
    if len(idx) == 0:
        return pd.DataFrame({"lag": np.arange(-max_lag, max_lag + 1), "r": np.nan, "n": 0})
    grid = pd.date_range(idx.min(), idx.max(), freq="h")
    if len(grid) < len(idx):
        raise InputError("series are not on whole hours; resample them to hourly first", column="a")
    x = a.reindex(grid)
    y = b.reindex(grid)
    if difference:
        x, y = x.diff(), y.diff()
    yv = y.to_numpy()
    lags = np.arange(-int(max_lag), int(max_lag) + 1)
    rs, ns = [], []
    for lag in lags:
        xv = x.shift(int(lag)).to_numpy()
        ok = ~np.isnan(xv) & ~np.isnan(yv)
        n = int(ok.sum())
        r = np.nan
        if n >= max(min_periods, 2):
            xs, ys = xv[ok], yv[ok]
            if xs.std() > 0 and ys.std() > 0:
                r = float(np.corrcoef(xs, ys)[0, 1])
        rs.append(r)
        ns.append(n)
    return pd.DataFrame({"lag": lags, "r": rs, "n": ns})


def peak_lag(a: pd.Series, b: pd.Series, max_lag: int = 12, difference: bool = True,
             min_periods: int = 10) -> tuple[int | None, float, int]:
    """Lag [h] of the highest correlation in :func:`lead_lag` (positive = a leads b).

    Returns
    -------
    (lag, r, n) : the lag with the largest r (ties: the smallest |lag|), its r and the hours used;
    ``(None, nan, 0)`` when no r could be computed.
    """
    t = lead_lag(a, b, max_lag=max_lag, difference=difference, min_periods=min_periods)
    t = t.dropna(subset=["r"])
    if t.empty:
        return None, float("nan"), 0
    t = t.assign(abs_lag=t["lag"].abs()).sort_values(["r", "abs_lag"], ascending=[False, True])
    best = t.iloc[0]
    return int(best["lag"]), float(best["r"]), int(best["n"])


def _pairs(pairs) -> pd.DataFrame:
    if isinstance(pairs, pd.DataFrame):
        check_columns(pairs, ("a", "b"), "pairs")
        return pairs.reset_index(drop=True)
    return pd.DataFrame(list(pairs), columns=["a", "b"])


def lead_lag_pairs(unit_hourly: pd.DataFrame, pairs, pollutant: str, max_lag: int = 12,
                   difference: bool = True, by: str = "station", min_periods: int = 10) -> pd.DataFrame:
    """Peak lead/lag for each pair of units (e.g. :func:`regionair.core.region.neighbour_pairs`).

    Parameters
    ----------
    unit_hourly : DataFrame — unit hourly frame (``time``, ``by``, ``pollutant``).
    pairs : DataFrame with ``a``, ``b`` (extra columns such as ``shared_border_km`` are kept) or an
        iterable of ``(a, b)`` tuples.
    pollutant, max_lag, difference, min_periods : see :func:`lead_lag`.

    Returns
    -------
    DataFrame
        The pair columns plus ``lag`` [h] (positive = a leads b), ``r`` at that lag, ``n``, ``r_lag0``
        (r at lag 0) and ``leader`` (``a``'s id if lag > 0, ``b``'s if lag < 0, ``""`` at 0 or
        unknown). NaN where a unit has no data.
    """
    p = _pairs(pairs)
    w = _wide(unit_hourly, pollutant, by)
    rows = []
    for a_id, b_id in zip(p["a"], p["b"]):
        if a_id not in w.columns or b_id not in w.columns:
            rows.append({"lag": np.nan, "r": np.nan, "n": 0, "r_lag0": np.nan, "leader": ""})
            continue
        curve = lead_lag(w[a_id], w[b_id], max_lag=max_lag, difference=difference, min_periods=min_periods)
        lag, r, n = peak_lag(w[a_id], w[b_id], max_lag=max_lag, difference=difference, min_periods=min_periods)
        leader = "" if lag is None or lag == 0 else (a_id if lag > 0 else b_id)
        rows.append({"lag": np.nan if lag is None else lag, "r": r, "n": n,
                     "r_lag0": float(curve.loc[curve["lag"] == 0, "r"].iloc[0]), "leader": leader})
    return pd.concat([p, pd.DataFrame(rows, index=p.index)], axis=1)


def pair_differences(unit_hourly: pd.DataFrame, pairs, pollutant: str, by: str = "station") -> pd.DataFrame:
    """Hour-by-hour concentration difference between paired units.

    Parameters
    ----------
    unit_hourly : DataFrame — unit hourly frame (``time``, ``by``, ``pollutant``).
    pairs : DataFrame with ``a``, ``b`` or iterable of ``(a, b)``.
    pollutant : str — column [its unit].

    Returns
    -------
    DataFrame
        Long table, one row per pair and hour either unit has: ``a``, ``b``, ``time``, ``value_a``,
        ``value_b``, ``difference`` = value_a − value_b [unit of the pollutant; NaN unless both].
    """
    p = _pairs(pairs)
    w = _wide(unit_hourly, pollutant, by)
    parts = []
    for a_id, b_id in zip(p["a"], p["b"]):
        va = w[a_id] if a_id in w.columns else pd.Series(np.nan, index=w.index)
        vb = w[b_id] if b_id in w.columns else pd.Series(np.nan, index=w.index)
        d = pd.DataFrame({"a": a_id, "b": b_id, "time": w.index, "value_a": va.to_numpy(),
                          "value_b": vb.to_numpy()})
        d = d.loc[d["value_a"].notna() | d["value_b"].notna()]
        parts.append(d)
    cols = ["a", "b", "time", "value_a", "value_b"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    out["difference"] = out["value_a"] - out["value_b"]
    return out
