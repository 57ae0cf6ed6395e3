"""Area values as the assessors compute them: jurisdiction hourly and daily values, period statistics.

The one module for area (city / jurisdiction / side / region) values. Every consumer — overview, trends,
rankings, near-threshold and budget, warnings, briefing, exports, meeting snapshots and the CLI — takes
its area values from here, so one day has one value everywhere.

Hourly values
    :func:`jurisdiction_hourly`: the mean of the evaluation stations' 1-h values at each hour
    (:func:`regionair.core.region.aggregate`), then the real-time AQI (HJ 633-2026 §4.2.1–4.2.4).
Daily values (:func:`area_daily`, :func:`jurisdiction_daily`)
    Each station's own daily values first — 24-h means of PM2.5, PM10, SO2, NO2, CO (valid with ≥ 20
    hourly values, GB 3095 Table 4), O3 MDA8 (valid with ≥ 14 valid 8-h means or above the limit,
    HJ 663 §6.1.2) and the O3 daily max 1-h — then, per indicator, the arithmetic mean of the *valid*
    station values of the unit's evaluation stations (background stations 对照点 left out). The IAQI
    and AQI are computed from those means (never by averaging station AQIs). The counts of stations
    per indicator are kept, and :func:`explain` lists the stations counted and left out and why.
Period values (:func:`period_values`)
    Month, quarter, year or a custom period from the daily values: means of SO2, NO2, PM10, PM2.5,
    CO p95, O3-8h p90 (HJ 663 Annex A percentile), the composite index (basis named), the good-day and
    heavy-day shares, with the data-capture rule of GB 3095 Table 4 and, optionally, dust deduction
    (CNEMC convention, :mod:`regionair.analysis.dust`).

The clauses, and which of them were found in a published text, are in :data:`RULES` and in
``docs/evaluation.md``. **Not found:** the HJ 663 clause that defines the city daily value as the
mean of the stations' daily values (standards.md U11). RegionAir follows it as the national practice
and HJ 633-2026 §4.2.1 ("the area concentration is computed per HJ 663 first"); the old dashboard
method (daily value of the hourly area means) stays available as ``method="hourly-area"`` for
comparison. Also not found: a minimum number (or share) of valid stations for a city day
(``min_stations``, default 1).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from regionair.analysis._common import check_choice, check_columns, unit_catalogue
from regionair.core import aqi, region
from regionair.core import standards as S
from regionair.core.averaging import daily_means, percentile
from regionair.core.i18n import pollutant_label, t
from regionair.core.nomenclature import POLLUTANTS, SOURCE_PRECEDENCE, TZ
from regionair.errors import InputError

#: Daily indicators of a station / area day: 24-h means, O3 MDA8 and O3 daily max 1-h (scored only under 2012).
INDICATORS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3_8h", "o3")
#: How a city daily value is formed. ``"hj663"``: mean of the stations' valid daily values (default);
#: ``"hourly-area"``: daily value of the hourly area means (the dashboard before issue 15; comparison only).
METHODS: tuple[str, ...] = ("hj663", "hourly-area")
LEVELS: tuple[str, ...] = ("jurisdiction", "side", "region")
#: Period splits of :func:`period_values`: whole period, calendar month, quarter, year.
FREQS: tuple[str | None, ...] = (None, "M", "Q", "Y")
#: Why a station's daily value of an indicator did not count in its unit's mean.
REASONS: tuple[str, ...] = ("counted", "background", "no_data", "lt_20_hours", "mda8_lt_14")
#: Heavy pollution (重度及以上): daily AQI above this value (HJ 633 Table 2/1: 201–300 重度, > 300 严重).
HEAVY_AQI = 200
#: Good day (优良): daily AQI at or below this value (HJ 633 Table 2/1: 优 0–50, 良 51–100).
GOOD_AQI = 100

#: The rules applied here, each with the clause it rests on and whether that clause's text was read
#: (``found``); docs/evaluation.md quotes what was found. Descriptions for readers are in the text
#: catalogue under ``eval_rule_<key>`` (regionair.core.i18n).
RULES: dict[str, dict] = {
    "station_daily": {
        "clause": "GB 3095-2012 / GB 3095-2026 表4（数据统计的有效性规定）",
        "found": True,
        "note": "≥ 20 hourly values per natural day for SO2, NO2, CO, PM10, PM2.5 (standards.md §3.2)",
    },
    "mda8": {
        "clause": "HJ 663-2013 §6.1.2; HJ 663-2026 §6.1.2",
        "found": True,
        "note": "≥ 14 valid 8-h means (each ≥ 6 h), fewer only when above the limit (page images in S4)",
    },
    "o3_1h_max": {
        "clause": "HJ 633-2012 §5.1.2 (indicator); validity: none stated — RegionAir: ≥ 20 h or above 200 µg/m³",
        "found": False,
        "note": "scored only under HJ 633-2012",
    },
    "evaluation_stations": {
        "clause": "城市环境空气质量排名技术规定（环办〔2014〕64号）三（一）评价点位; HJ 664-2013 对照点",
        "found": True,
        "note": "all of the city's evaluation stations in the national network; background (对照点) out",
    },
    "city_daily": {
        "clause": "HJ 663-2013 / HJ 663-2026 (city concentration = arithmetic mean over the city's "
                  "evaluation stations); HJ 633-2026 §4.2.1 (area concentration per HJ 663, then IAQI)",
        "found": False,
        "note": "HJ 663 clause text not found; the method is a parameter (method='hj663' | 'hourly-area')",
    },
    "min_stations": {
        "clause": "not found: minimum number or share of valid stations for a city day",
        "found": False,
        "note": "parameter min_stations (default 1)",
    },
    "iaqi_area": {
        "clause": "HJ 633-2012 §5.1.2, Table 1; HJ 633-2026 §4.2.1–4.2.2, §4.2.6, Table 3",
        "found": True,
        "note": "IAQI/AQI of the area means; 2026: concentrations rounded per GB/T 8170 first",
    },
    "valid_day": {
        "clause": "HJ 633-2026 §5.3.1 (missing pollutant: AQI published only when > 100)",
        "found": True,
        "note": "a day counts in the good/heavy shares when complete, or incomplete with AQI > 100",
    },
    "percentile": {
        "clause": "HJ 663-2013 附录A（百分位数计算方法）: k = 1 + (n−1)·p%",
        "found": True,
        "note": "CO p95 of daily means, O3 p90 of MDA8 (standards.md §4.2; two sources)",
    },
    "period_capture": {
        "clause": "GB 3095 表4: annual ≥ 324 daily values and ≥ 27 each month (February ≥ 25)",
        "found": True,
        "note": "months and other periods: the monthly rule, pro rata for part months (RegionAir)",
    },
    "good_day_share": {
        "clause": "优良天数比例 = 优良天数 / 有效天数 (CNEMC monthly reports; standards.md §4.4)",
        "found": True,
        "note": "share of valid days with AQI ≤ 100 [%]",
    },
    "heavy_day_share": {
        "clause": "重度及以上污染天数比例 (CNEMC monthly reports)",
        "found": True,
        "note": "share of valid days with AQI > 200 [%]",
    },
    "composite_index": {
        "clause": "城市环境空气质量排名技术规定（环办〔2014〕64号）; standards.md §4.3",
        "found": True,
        "note": "basis named in every output (regionair.core.standards.COMPOSITE_BASES)",
    },
    "dust": {
        "clause": "环办监测〔2016〕120号《受沙尘天气过程影响城市空气质量评价补充规定》; CNEMC 月报: "
                  "PM10、PM2.5浓度、综合质量指数扣除沙尘天气影响；优良天数比例、重度及以上天数比例保留沙尘",
        "found": True,
        "note": "annex computation not read: RegionAir removes dust days' PM values (see analysis.dust)",
    },
}

_DAILY_MEANS = ("pm25", "pm10", "so2", "no2", "co")
_HOUR = pd.Timedelta(hours=1)


# ------------------------------------------------------------------------------------------------ helpers
def _as_date(x, name: str) -> dt.date:
    try:
        d = pd.Timestamp(x)
    except (ValueError, TypeError):
        raise InputError(f"{name}={x!r} is not a date (YYYY-MM-DD)", column=name) from None
    if pd.isna(d):
        raise InputError(f"{name} is missing; give a date (YYYY-MM-DD)", column=name)
    return d.date()


def _dates(s: pd.Series) -> pd.Series:
    if len(s) and isinstance(s.iloc[0], dt.date) and not isinstance(s.iloc[0], dt.datetime):
        return s
    return pd.to_datetime(pd.Series(s).astype(str)).dt.date


def _units(level: str, jurisdictions: Iterable[str] | None) -> list[str] | None:
    check_choice("level", level, LEVELS)
    if jurisdictions is None:
        return None
    keep = list(jurisdictions)
    jt = region.jurisdictions()
    valid = set(jt.loc[jt["level"] == "jurisdiction", "id"])
    bad = sorted(set(keep) - valid)
    if bad:
        raise InputError(f"unknown jurisdictions {bad}; valid: {sorted(valid)}", column="jurisdictions")
    return keep


def _order(ids: pd.Series) -> pd.Series:
    return ids.map(region.unit_order()).fillna(10_000)


# ------------------------------------------------------------------------------------------------ stations
def station_daily(hourly: pd.DataFrame, *, min_hours: int | None = None, min_8h: int | None = None) -> pd.DataFrame:
    """Each station's daily values per natural day, with their own validity.

    Parameters
    ----------
    hourly : DataFrame
        Canonical hourly frame (``station``, ``time`` hour-ending Beijing, ``pm25 pm10 so2 no2 o3``
        [µg/m³], ``co`` [mg/m³]). When a ``source`` column holds several sources for one station-hour,
        the first source in name order is used once.
    min_hours, min_8h : int, optional
        Validity thresholds (default 20 hours and 14 8-h means); smaller values give running values of
        an unfinished day (:func:`running_daily`) — never official.

    Returns
    -------
    DataFrame
        :func:`regionair.core.averaging.daily_means` output: ``station``, ``date``, ``pm25 pm10 so2 no2``
        [µg/m³], ``co`` [mg/m³] (24-h means), ``o3`` (daily max 1-h) and ``o3_8h`` (MDA8) [µg/m³] — NaN
        where the station's day is not valid — and ``n_<p>`` (valid hours; ``n_o3_8h`` valid 8-h means).
    """
    check_columns(hourly, ("station", "time", *POLLUTANTS), "hourly")
    f = hourly
    if f.empty:
        return empty_station_daily()
    if "source" in f.columns and len(f) and f["source"].nunique(dropna=True) > 1:
        f = f.sort_values(["station", "time", "source"], kind="stable").drop_duplicates(["station", "time"])
    return daily_means(f[["station", "time", *POLLUTANTS]], min_hours=min_hours, min_8h=min_8h)


def empty_station_daily() -> pd.DataFrame:
    """A :func:`station_daily` frame without rows (the full schema)."""
    cols = {"station": pd.Series(dtype=object), "date": pd.Series(dtype=object),
            **{p: pd.Series(dtype="float64") for p in ("pm25", "pm10", "so2", "no2", "co", "o3", "o3_8h")},
            **{f"n_{p}": pd.Series(dtype="int64") for p in ("pm25", "pm10", "so2", "no2", "co", "o3", "o3_8h")}}
    return pd.DataFrame(cols)


# ------------------------------------------------------------------------------------------------ area values
def jurisdiction_hourly(hourly: pd.DataFrame, level: str = "jurisdiction", jurisdictions=None,
                        edition: str = "auto", catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hourly area values: mean of the evaluation stations' 1-h values, then the real-time AQI.

    Returns :func:`regionair.core.aqi.hourly_aqi` of :func:`regionair.core.region.aggregate` output: ``station``
    (the unit id), ``time``, area means [µg/m³; CO mg/m³], ``n_<p>`` (stations contributing), IAQIs,
    ``aqi``, ``primary_pollutants``, ``level``, ``category``, ``edition``, ``missing``, ``complete``.
    """
    keep = _units(level, jurisdictions)
    units = region.aggregate(hourly, level=level, jurisdictions=keep, pollutants=list(POLLUTANTS),
                             catalogue=catalogue)
    return aqi.hourly_aqi(units, edition=edition)


def area_daily(station_days: pd.DataFrame, level: str = "jurisdiction", jurisdictions=None, *,
               edition: str = "auto", min_stations: int = 1, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Area daily values from the stations' daily values (HJ 663 city mean), with their AQI.

    Parameters
    ----------
    station_days : DataFrame
        :func:`station_daily` output (``station``, ``date``, the indicators; NaN = not valid).
    level : {"jurisdiction", "side", "region"}
        Each jurisdiction-level unit; each side (``side:local``/``side:corps``, mean over all their
        evaluation stations); or the whole region (``region``).
    jurisdictions : iterable of str, optional
        Jurisdiction ids taking part (default: the members of the joint mechanism).
    edition : {"auto", "2012", "2026"}
        HJ 633 edition of the IAQI; ``"auto"`` by the natural day.
    min_stations : int
        Fewest valid station values for an area value of an indicator (default 1: not found in a
        published text, see :data:`RULES` ``min_stations``); below it the value is NaN.
    catalogue : DataFrame, optional
        Station catalogue (default :func:`regionair.core.region.stations`).

    Returns
    -------
    DataFrame
        One row per unit and natural day with at least one evaluation-station row: ``jurisdiction`` (the
        unit id), ``date``, ``pm25 pm10 so2 no2`` [µg/m³], ``co`` [mg/m³], ``o3_8h``, ``o3`` [µg/m³] (area
        means of the valid station values), ``n_stations_<p>`` (stations counted per indicator),
        ``n_stations`` (largest of those), ``iaqi_<p>``, ``aqi``, ``primary_pollutants``, ``level``,
        ``category``, ``missing``, ``complete``, ``edition``; sorted by display order, date.

    Notes
    -----
    For unit *u*, day *d* and indicator *p*, with *S* the evaluation stations of *u* whose own daily value
    of *p* is valid: :math:`C_{u,d,p} = \\frac{1}{|S|}\\sum_{s \\in S} C_{s,d,p}`. MDA8 and the O3 daily max
    1-h are taken per station first. Background stations never count.

    References
    ----------
    HJ 663-2013 / HJ 663-2026 (city mean — clause text not found, docs/evaluation.md); HJ 633-2026 §4.2.1;
    GB 3095 Table 4; HJ 663 §6.1.2.
    """
    check_columns(station_days, ("station", "date", *INDICATORS), "station_days")
    keep = _units(level, jurisdictions)
    if not (isinstance(min_stations, int | np.integer) and min_stations >= 1):
        raise InputError(f"min_stations={min_stations!r}; must be an integer >= 1", column="min_stations")
    um = region.unit_map(level, keep, catalogue)
    code, distinct = pd.factorize(station_days["station"].astype(str))
    unit = pd.Index(distinct).map(um).to_numpy(dtype=object)[code] if len(distinct) else np.array([], dtype=object)
    counted = pd.notna(unit)
    rows = station_days.loc[counted, ["date", *INDICATORS]].copy()
    rows["unit"] = unit[counted].astype(str)
    g = rows.groupby(["unit", "date"], sort=False)
    mean = g[list(INDICATORS)].mean()
    count = g[list(INDICATORS)].count()
    mean = mean.where(count >= min_stations)
    count.columns = [f"n_stations_{p}" for p in INDICATORS]
    out = pd.concat([mean, count.astype("int64")], axis=1).reset_index()
    out["n_stations"] = out[[f"n_stations_{p}" for p in INDICATORS]].max(axis=1).astype("int64")
    out = out.rename(columns={"unit": "station"})
    if out.empty:
        scored = aqi.daily_aqi(out.assign(date=pd.Series(dtype=object)), edition=edition)
    else:
        scored = aqi.daily_aqi(out, edition=edition)
    scored = scored.rename(columns={"station": "jurisdiction"})
    scored = scored.assign(_o=_order(scored["jurisdiction"])).sort_values(["_o", "date"], kind="stable")
    return scored.drop(columns="_o").reset_index(drop=True)


def jurisdiction_daily(hourly: pd.DataFrame, level: str = "jurisdiction", jurisdictions=None, *,
                       edition: str = "auto", method: str = "hj663", min_stations: int = 1,
                       catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Area daily values of a canonical hourly frame (see :func:`area_daily`).

    Parameters
    ----------
    hourly : DataFrame — canonical hourly frame covering the natural days wanted (D 01:00 … D+1 00:00).
    level, jurisdictions, edition, min_stations, catalogue : as :func:`area_daily`.
    method : {"hj663", "hourly-area"}
        ``"hj663"`` (default): mean of the stations' valid daily values. ``"hourly-area"``: the daily
        value of the hourly area means (each hour the mean of the stations reporting; the 20-hour rule
        on the area series) — what the dashboard showed before; kept for comparison, never official.
        For this method ``n_stations_<p>`` is the largest number of stations in any hour of the day.

    Returns
    -------
    DataFrame — as :func:`area_daily`.
    """
    check_choice("method", method, METHODS)
    if method == "hj663":
        return area_daily(station_daily(hourly), level, jurisdictions, edition=edition,
                          min_stations=min_stations, catalogue=catalogue)
    keep = _units(level, jurisdictions)
    units = region.aggregate(hourly, level=level, jurisdictions=keep, pollutants=list(POLLUTANTS),
                             min_stations=min_stations, catalogue=catalogue)
    day = aqi.natural_day(units["time"]) if len(units) else pd.Series(dtype=object)
    most = units.assign(date=day).groupby(["station", "date"])[[f"n_{p}" for p in POLLUTANTS]].max()
    d = aqi.daily_aqi(units[["station", "time", *POLLUTANTS]], edition=edition)
    for p in INDICATORS:
        src = "o3" if p == "o3_8h" else p
        d[f"n_stations_{p}"] = pd.MultiIndex.from_frame(d[["station", "date"]]).map(most[f"n_{src}"]).to_numpy()
    d["n_stations"] = d[[f"n_stations_{p}" for p in INDICATORS]].max(axis=1)
    d = d.drop(columns=[f"n_{p}" for p in (*POLLUTANTS, "o3_8h") if f"n_{p}" in d.columns])
    return d.rename(columns={"station": "jurisdiction"})


def running_daily(hourly: pd.DataFrame, at, level: str = "jurisdiction", jurisdictions=None, *,
                  edition: str = "auto", catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Running (provisional) daily values of the natural day of ``at``, by the same method as the day's value.

    Each station's running daily values from its hours D 01:00 … ``at`` (8-h windows stamped D 08:00 …
    ``at``), then the area mean per indicator and the daily AQI. A station counts for an indicator while it
    can still make a valid day: valid hours so far ≥ 20 − (hours left in the day), valid 8-h means so far
    ≥ 14 − (8-h windows left) — at least one. At ``at`` = D+1 00:00 this is exactly :func:`area_daily` of
    the day (the 20-hour and 14-window rules in full).

    Returns
    -------
    DataFrame — :func:`area_daily` columns for the day of ``at`` plus ``day_hours`` (hour stamps of the day
    up to ``at`` at which any of the unit's evaluation stations reported) and ``provisional`` (True).
    """
    at = pd.Timestamp(at)
    at = at.tz_localize(TZ) if at.tzinfo is None else at.tz_convert(TZ)
    day = aqi.natural_day(at)
    start = pd.Timestamp(day, tz=TZ) + _HOUR
    t = pd.to_datetime(hourly["time"]) if len(hourly) else pd.Series(dtype=f"datetime64[ns, {TZ}]")
    win = hourly.loc[(t >= start) & (t <= at)]
    elapsed = int(round((at - (start - _HOUR)) / _HOUR))  # hour stamps of the day up to at: 1 … 24
    windows = max(0, elapsed - (S.MDA8_FIRST_HOUR - 1))   # 8-h windows stamped 08:00 … at
    n_windows = 24 - S.MDA8_FIRST_HOUR + 1
    min_hours = max(1, S.MIN_HOURS_DAILY - (24 - elapsed))
    min_8h = max(1, S.MIN_8H_FOR_MDA8 - (n_windows - windows))
    sd = station_daily(win, min_hours=min_hours, min_8h=min_8h)
    sd = sd[_dates(sd["date"]) == day] if len(sd) else sd
    out = area_daily(sd, level, jurisdictions, edition=edition, catalogue=catalogue)
    if len(win) and len(out):
        um = region.unit_map(level, _units(level, jurisdictions), catalogue)
        unit = win["station"].astype(str).map(um)
        hours = win.loc[unit.notna(), "time"].groupby(unit[unit.notna()]).nunique()
        out["day_hours"] = out["jurisdiction"].map(hours).fillna(0).astype(int)
    else:
        out["day_hours"] = pd.Series(0, index=out.index, dtype=int)
    out["provisional"] = True
    return out


# ------------------------------------------------------------------------------------------------ explain
@dataclass
class Explanation:
    """The derivation of one area daily value (what the "explain this number" expander shows).

    Attributes
    ----------
    jurisdiction, date, edition, method : what was explained.
    result : dict — ``aqi``, ``level`` (1–6, 0 = none), ``category`` (zh), ``primary_pollutants``.
    stations : DataFrame — one row per station of the jurisdiction: ``station``, ``name_zh``, ``name_en``,
        ``background``, ``status`` (``counted`` | ``partly`` | ``left_out``), ``reasons`` (``;``-joined reason
        codes of :data:`REASONS` other than ``counted``, as ``<indicator>:<reason>``), each indicator's daily
        value (NaN = not valid) and ``n_<p>`` (valid hours; ``n_o3_8h`` valid 8-h means).
    detail : DataFrame — one row per station and indicator: ``station``, ``indicator``, ``value``,
        ``support`` (hours or 8-h means), ``counted`` (bool), ``reason``.
    city : DataFrame — one row per indicator: ``indicator``, ``value`` (area mean), ``n_stations``,
        ``iaqi``, ``primary`` (bool), ``scored`` (False for the O3 1-h max under 2026).
    rules : list of str — keys of :data:`RULES` applied, in order.
    """

    jurisdiction: str
    date: dt.date
    edition: str
    method: str
    result: dict
    stations: pd.DataFrame
    detail: pd.DataFrame
    city: pd.DataFrame
    rules: list[str] = field(default_factory=list)

    def clauses(self) -> pd.DataFrame:
        """``rule``, ``clause``, ``found`` of every rule applied (from :data:`RULES`)."""
        return pd.DataFrame([{"rule": r, "clause": RULES[r]["clause"], "found": RULES[r]["found"]} for r in self.rules])


def _reason(indicator: str, value: float, has_row: bool, background: bool) -> str:
    if background:
        return "background"
    if not has_row:
        return "no_data"
    if pd.isna(value):
        return "mda8_lt_14" if indicator == "o3_8h" else "lt_20_hours"
    return "counted"


def _station_table(jurisdiction: str, day: dt.date, sd: pd.DataFrame, cat: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(stations, detail) frames of :class:`Explanation` for one jurisdiction and day (``sd``: that day's rows)."""
    own = cat[cat["jurisdiction"] == jurisdiction]
    with_rows = set(sd["station"].astype(str)) if len(sd) else set()
    year = day.year
    active = own["code"].isin(with_rows) | (
        (own["active_from"].isna() | (own["active_from"] <= year)) & (own["active_to"].isna() | (own["active_to"] >= year)))
    own = own[active.to_numpy(dtype=bool)]
    vals = sd.set_index(sd["station"].astype(str)) if len(sd) else pd.DataFrame(columns=[*INDICATORS])
    srows, drows = [], []
    for r in own.itertuples(index=False):
        has = r.code in vals.index
        bg = bool(r.background)
        row = {"station": r.code, "name_zh": r.name_zh, "name_en": r.name_en, "background": bg}
        reasons, n_counted = [], 0
        for p in INDICATORS:
            v = float(vals.at[r.code, p]) if has else np.nan
            ncol = f"n_{p}"
            support = int(vals.at[r.code, ncol]) if has and ncol in vals.columns else 0
            why = _reason(p, v, has, bg)
            row[p] = v
            row[ncol] = support
            counted = why == "counted"
            n_counted += counted
            if not counted and why not in ("background", "no_data"):
                reasons.append(f"{p}:{why}")
            drows.append({"station": r.code, "indicator": p, "value": v, "support": support,
                          "counted": counted, "reason": why})
        row["status"] = "counted" if n_counted == len(INDICATORS) else ("left_out" if n_counted == 0 else "partly")
        row["reasons"] = "background" if bg else ("no_data" if not has else ";".join(reasons))
        srows.append(row)
    stations = pd.DataFrame(srows, columns=["station", "name_zh", "name_en", "background", "status", "reasons",
                                            *[c for p in INDICATORS for c in (p, f"n_{p}")]])
    detail = pd.DataFrame(drows, columns=["station", "indicator", "value", "support", "counted", "reason"])
    return stations, detail


def explain(jurisdiction: str, date, station_days: pd.DataFrame, *, edition: str = "auto",
            min_stations: int = 1, catalogue: pd.DataFrame | None = None) -> Explanation:
    """Derivation of a jurisdiction's daily value: stations counted and left out (and why), each station's
    daily value per indicator, the area means, IAQIs, the AQI, and the rules with their clauses.

    Parameters
    ----------
    jurisdiction : str — a jurisdiction-level id (``urumqi`` …).
    date : date or str — the natural day.
    station_days : DataFrame — :func:`station_daily` output covering the day (the page passes the cached
        store values; :func:`station_daily` of an hourly frame works the same).
    edition, min_stations, catalogue : as :func:`area_daily`.

    Returns
    -------
    Explanation

    Raises
    ------
    InputError
        Unknown jurisdiction.
    """
    cat = region.stations() if catalogue is None else catalogue
    jt = region.jurisdictions()
    ids = set(jt.loc[jt["level"] == "jurisdiction", "id"])
    if jurisdiction not in ids:
        raise InputError(f"jurisdiction={jurisdiction!r}; valid: {sorted(ids)}", column="jurisdiction")
    day = _as_date(date, "date")
    sd = station_days
    if len(sd):
        sd = sd[_dates(sd["date"]) == day]
    stations, detail = _station_table(jurisdiction, day, sd, cat)
    area = area_daily(sd, "jurisdiction", [jurisdiction], edition=edition, min_stations=min_stations, catalogue=cat)
    area = area[area["jurisdiction"] == jurisdiction]
    ed = str(aqi.edition_for(day)) if edition == "auto" else edition
    if area.empty:
        result = {"aqi": np.nan, "level": 0, "category": "", "primary_pollutants": ""}
        city = pd.DataFrame({"indicator": list(INDICATORS), "value": np.nan, "n_stations": 0, "iaqi": np.nan,
                             "primary": False, "scored": [p != "o3" or ed == "2012" for p in INDICATORS]})
    else:
        a = area.iloc[0]
        prim = str(a["primary_pollutants"] or "")
        result = {"aqi": float(a["aqi"]), "level": int(a["level"]), "category": str(a["category"]),
                  "primary_pollutants": prim}
        city = pd.DataFrame({
            "indicator": list(INDICATORS),
            "value": [float(a[p]) for p in INDICATORS],
            "n_stations": [int(a[f"n_stations_{p}"]) for p in INDICATORS],
            "iaqi": [float(a[f"iaqi_{p}"]) for p in INDICATORS],
            "primary": [p in prim.split(";") for p in INDICATORS],
            "scored": [p != "o3" or ed == "2012" for p in INDICATORS],
        })
    rules = ["evaluation_stations", "station_daily", "mda8", *(["o3_1h_max"] if ed == "2012" else []),
             "city_daily", "min_stations", "iaqi_area"]
    return Explanation(jurisdiction=jurisdiction, date=day, edition=ed, method="hj663", result=result,
                       stations=stations, detail=detail, city=city, rules=rules)


def derivation_table(station_days: pd.DataFrame, jurisdictions: Iterable[str], start, end, *,
                     catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """For each jurisdiction and day: the stations that counted in its daily value and those left out, and why
    (the briefing's annex; :func:`explain` gives one day in full).

    Returns
    -------
    DataFrame ``jurisdiction``, ``date``, ``n_stations`` (catalogue stations of the jurisdiction active that
    year, background included), ``counted`` (``;``-joined codes counted for every indicator), ``partly`` and
    ``left_out`` (``|``-joined ``code=<reasons>``, reasons ``;``-joined as in :attr:`Explanation.stations`).
    """
    cat = region.stations() if catalogue is None else catalogue
    d0, d1 = _as_date(start, "start"), _as_date(end, "end")
    sd = station_days.assign(date=_dates(station_days["date"])) if len(station_days) else station_days
    by_day = {k: g for k, g in sd.groupby("date")} if len(sd) else {}
    rows = []
    for u in jurisdictions:
        day = d0
        while day <= d1:
            st, _ = _station_table(u, day, by_day.get(day, sd.iloc[0:0]), cat)
            rows.append({"jurisdiction": u, "date": day, "n_stations": len(st),
                         "counted": ";".join(st.loc[st["status"] == "counted", "station"]),
                         "partly": "|".join(f"{r.station}={r.reasons}" for r in st[st["status"] == "partly"].itertuples()),
                         "left_out": "|".join(f"{r.station}={r.reasons}" for r in st[st["status"] == "left_out"].itertuples())})
            day += dt.timedelta(days=1)
    return pd.DataFrame(rows, columns=["jurisdiction", "date", "n_stations", "counted", "partly", "left_out"])


# ------------------------------------------------------------------------------------------------ period values
def capture_requirements(start: dt.date, end: dt.date) -> pd.DataFrame:
    """Valid daily values required per calendar month of a period (GB 3095 Table 4; pro rata for part months).

    Returns ``month`` (YYYY-MM), ``covered`` (days of the month inside the period) and ``required``: 27 for a
    whole month (February 25), ``ceil(27 × covered / days in month)`` for a part month (RegionAir's rule).
    """
    rows = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        n_month = calendar.monthrange(y, m)[1]
        first, last = max(start, dt.date(y, m, 1)), min(end, dt.date(y, m, n_month))
        covered = (last - first).days + 1
        full = S.MIN_DAYS_FEBRUARY if m == 2 else S.MIN_DAYS_MONTH
        rows.append({"month": f"{y:04d}-{m:02d}", "covered": covered,
                     "required": full if covered == n_month else math.ceil(full * covered / n_month - 1e-9)})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return pd.DataFrame(rows, columns=["month", "covered", "required"])


def _periods(start: dt.date, end: dt.date, freq: str | None) -> list[tuple[str, dt.date, dt.date]]:
    if freq is None:
        return [(f"{start}/{end}", start, end)]
    out = []
    for p in pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq=freq):
        a = max(start, p.start_time.date())
        b = min(end, p.end_time.date())
        out.append((str(p), a, b))
    return out


_STATS = ("pm25", "pm10", "so2", "no2", "co", "o3_8h")


def _capture(counts: pd.DataFrame, start: dt.date, end: dt.date) -> tuple[bool, str]:
    """Data-capture check of one unit over one period from its valid-day counts per month and indicator."""
    req = capture_requirements(start, end)
    c = counts.reindex(req["month"]).fillna(0).astype(int)
    worst = c.min(axis=1)
    binding = c.idxmin(axis=1)
    reasons = [f"{mo}: {int(worst[mo])} valid days ({binding[mo]}) < {r} required"
               for mo, r in zip(req["month"], req["required"], strict=True) if worst[mo] < r]
    annual = start == dt.date(start.year, 1, 1) and end == dt.date(start.year, 12, 31)
    total = int(c.sum(axis=0).min()) if len(c.columns) else 0
    if annual and total < S.MIN_DAYS_ANNUAL:
        reasons.insert(0, f"{total} valid days < {S.MIN_DAYS_ANNUAL} required for an annual statistic")
    return not reasons, "; ".join(reasons)


def period_values(daily: pd.DataFrame, start=None, end=None, *, freq: str | None = None,
                  dust: str = "include", dust_days: pd.DataFrame | None = None,
                  basis: str = "HJ663-2013") -> pd.DataFrame:
    """Period values per unit from area daily values: means, percentiles, composite index, day shares.

    Parameters
    ----------
    daily : DataFrame
        :func:`area_daily` output (``jurisdiction``, ``date``, daily ``pm25 pm10 so2 no2`` [µg/m³], ``co``
        [mg/m³], ``o3_8h`` [µg/m³], ``aqi``, ``complete``).
    start, end : date or str, optional
        First and last natural day (inclusive); default the first and last day in ``daily``.
    freq : {None, "M", "Q", "Y"}
        None: one row per unit for the whole period; else one row per unit and calendar month / quarter /
        year (cut to the period).
    dust : {"include", "exclude"}
        ``"exclude"`` (扣沙): the PM10 and PM2.5 daily values of the unit's dust days leave the period
        means, percentiles and the composite index; the good-day and heavy-day shares keep those days
        (CNEMC convention, 环办监测〔2016〕120号; :data:`RULES` ``dust``). ``"include"``: nothing deducted.
    dust_days : DataFrame, optional
        ``jurisdiction``, ``date`` of the dust days (``*`` already expanded, see
        :func:`regionair.analysis.dust.expand`). Ignored with ``dust="include"``.
    basis : str
        Composite-index basis, a key of :data:`regionair.core.standards.COMPOSITE_BASES`.

    Returns
    -------
    DataFrame
        One row per unit (and period): ``jurisdiction``, ``period``, ``start``, ``end``, ``days`` (natural
        days in the period), ``valid_days`` (days with a valid daily AQI: complete, or AQI > 100 —
        HJ 633-2026 §5.3.1), ``pm25 pm10 so2 no2`` (period means [µg/m³]), ``co`` (mean [mg/m³]),
        ``pm25_p95 pm10_p95 so2_p98 no2_p98`` [µg/m³], ``co_p95`` [mg/m³], ``o3_8h_p90`` [µg/m³],
        ``n_days_<p>`` (valid daily values used), ``index_<p>`` (single indices), ``composite_index``,
        ``composite_basis``, ``composite_basis_verified``, ``good_days``, ``good_day_share`` [%],
        ``heavy_days``, ``heavy_day_share`` [%], ``valid_statistic`` (bool, data capture per
        :func:`capture_requirements` and the annual ≥ 324 rule), ``validity_reason``, ``dust``
        (``include``/``exclude``), ``dust_convention`` (``none`` or ``cnemc``), ``n_dust_days`` and
        ``dust_days_deducted`` (``;``-joined ISO dates whose PM values were removed).

    Notes
    -----
    Percentiles by HJ 663 Annex A: sort the n valid values, k = 1 + (n − 1)·p/100, m_p = X(s) +
    (X(s+1) − X(s))·(k − s) (:func:`regionair.core.averaging.percentile`). Composite index I = Σ w_i·C_i/S_i
    with SO2/NO2/PM10/PM2.5 period means, CO p95 and O3-8h p90. The data-capture counts are taken before
    dust deduction (deducted values are not missing data).
    """
    check_columns(daily, ("jurisdiction", "date", "aqi", *_STATS), "daily")
    check_choice("dust", dust, ("include", "exclude"))
    check_choice("freq", freq, FREQS)
    if basis not in S.COMPOSITE_BASES:
        raise InputError(f"basis={basis!r}; valid: {', '.join(S.COMPOSITE_BASES)}", column="basis")
    d = daily.copy()
    d["date"] = _dates(d["date"])
    if start is None or end is None:
        if d.empty:
            raise InputError("no daily values; pass start= and end=", column="start")
    d0 = _as_date(start, "start") if start is not None else min(d["date"])
    d1 = _as_date(end, "end") if end is not None else max(d["date"])
    if d1 < d0:
        raise InputError(f"end={d1} is before start={d0}", column="end")
    d = d[(d["date"] >= d0) & (d["date"] <= d1)]
    dust_set: set[tuple[str, dt.date]] = set()
    if dust == "exclude" and dust_days is not None and len(dust_days):
        check_columns(dust_days, ("jurisdiction", "date"), "dust_days")
        dust_set = set(zip(dust_days["jurisdiction"].astype(str), _dates(dust_days["date"]), strict=True))
    is_dust = np.array([(j, x) in dust_set for j, x in zip(d["jurisdiction"], d["date"], strict=True)], dtype=bool) \
        if dust_set else np.zeros(len(d), dtype=bool)
    d = d.assign(_dust=is_dust, _month=[x.strftime("%Y-%m") for x in d["date"]])
    if "complete" in d.columns:
        complete = d["complete"].fillna(False).astype(bool).to_numpy()
    else:
        complete = d[list(_STATS)].notna().all(axis=1).to_numpy()
    a = d["aqi"].to_numpy(dtype="float64", na_value=np.nan)
    d["_valid_day"] = ~np.isnan(a) & (complete | (a > GOOD_AQI))
    b = S.COMPOSITE_BASES[basis]
    src = {"so2": "so2", "no2": "no2", "pm10": "pm10", "pm25": "pm25", "co": "co_p95", "o3_8h": "o3_8h_p90"}
    units = sorted(d["jurisdiction"].unique(), key=lambda u: region.unit_order().get(u, 10_000))
    rows = []
    for label, a0, a1 in _periods(d0, d1, freq):
        dp = d[(d["date"] >= a0) & (d["date"] <= a1)]
        for u, g in dp.groupby("jurisdiction", sort=False):
            row = {"jurisdiction": u, "period": label, "start": a0, "end": a1, "days": (a1 - a0).days + 1}
            ok = g["_valid_day"].to_numpy()
            aq = g["aqi"].to_numpy(dtype="float64", na_value=np.nan)
            row["valid_days"] = int(ok.sum())
            for p in _STATS:
                v = g[p].to_numpy(dtype="float64", na_value=np.nan)
                if p in ("pm25", "pm10"):
                    v = np.where(g["_dust"].to_numpy(), np.nan, v)
                n = int((~np.isnan(v)).sum())
                row[f"n_days_{p}"] = n
                row[p] = float(np.nanmean(v)) if n else np.nan
                q = S.EVAL_PERCENTILES[p]
                row[f"{p}_p{q}"] = percentile(v, q)
            total = 0.0
            for p, col in src.items():
                single = row[col] / b["divisors"][p]
                row[f"index_{p}"] = single
                total += b["weights"][p] * single
            row["composite_index"] = total
            row["composite_basis"] = basis
            row["composite_basis_verified"] = bool(b["verified"])
            row["good_days"] = int((ok & (aq <= GOOD_AQI)).sum())
            row["heavy_days"] = int((ok & (aq > HEAVY_AQI)).sum())
            row["good_day_share"] = 100.0 * row["good_days"] / row["valid_days"] if row["valid_days"] else np.nan
            row["heavy_day_share"] = 100.0 * row["heavy_days"] / row["valid_days"] if row["valid_days"] else np.nan
            counts = g.groupby("_month")[list(_STATS)].count()
            row["valid_statistic"], row["validity_reason"] = _capture(counts, a0, a1)
            deducted = sorted(g.loc[g["_dust"], "date"])
            row["dust"] = dust
            row["dust_convention"] = "cnemc" if dust == "exclude" else "none"
            row["n_dust_days"] = len(deducted)
            row["dust_days_deducted"] = ";".join(x.isoformat() for x in deducted)
            rows.append(row)
    cols = ["jurisdiction", "period", "start", "end", "days", "valid_days", "pm25", "pm10", "so2", "no2", "co",
            "pm25_p95", "pm10_p95", "so2_p98", "no2_p98", "co_p95", "o3_8h_p90",
            *[f"n_days_{p}" for p in _STATS], *[f"index_{p}" for p in src], "composite_index", "composite_basis",
            "composite_basis_verified", "good_days", "good_day_share", "heavy_days", "heavy_day_share",
            "valid_statistic", "validity_reason", "dust", "dust_convention", "n_dust_days", "dust_days_deducted"]
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        out = out.assign(_o=out["jurisdiction"].map({u: i for i, u in enumerate(units)}))
        out = out.sort_values(["period", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    return out


def rank_table(values: pd.DataFrame) -> pd.DataFrame:
    """``values`` (:func:`period_values`, one period) with ``composite_rank`` (1 = best; ties share the
    smaller rank) and the catalogue names ``name_zh`` / ``name_en``, sorted by rank."""
    out = values.copy()
    out["composite_rank"] = out["composite_index"].rank(method="min").astype("Int64")
    cat = unit_catalogue()
    out.insert(1, "name_zh", out["jurisdiction"].map(cat["name_zh"]).fillna(""))
    out.insert(2, "name_en", out["jurisdiction"].map(cat["name_en"]).fillna(""))
    return out.sort_values(["composite_rank", "jurisdiction"], na_position="last", kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ store access
_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
#: Months of station daily values kept in memory per process (≈ 3,000 station-days per month for 100 stations).
CACHE_MONTHS = 240


def _month_bounds(y: int, m: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last hour-ending stamp of the natural days of a month: D1 01:00 … (next month D1) 00:00."""
    t0 = pd.Timestamp(dt.date(y, m, 1), tz=TZ) + _HOUR
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    t1 = pd.Timestamp(dt.date(ny, nm, 1), tz=TZ)
    return t0, t1


def store_station_daily(store, start, end, *, sources: Iterable[str] | None = None) -> pd.DataFrame:
    """Station daily values (:func:`station_daily`) for the natural days ``start`` … ``end`` from a store.

    Computed per calendar month and kept in memory (:data:`CACHE_MONTHS` months per process), keyed by the
    store folder, the month and the identity of the measurement files the month was computed from (their
    manifest path, bytes and rows — files are immutable), so new data recompute exactly the months they
    change. Missing months are read in one query.

    Parameters
    ----------
    store : regionair.store.Store
    start, end : date or str — first and last natural day.
    sources : iterable of str, optional — restrict to these sources.

    Returns
    -------
    DataFrame — :func:`station_daily` columns, days ``start`` … ``end``.
    """
    d0, d1 = _as_date(start, "start"), _as_date(end, "end")
    if d1 < d0:
        raise InputError(f"end={d1} is before start={d0}", column="end")
    srcs = sorted(sources) if sources is not None else None
    snap = store.snapshot()
    months = [(p.year, p.month) for p in pd.period_range(pd.Timestamp(d0), pd.Timestamp(d1), freq="M")]
    keys, parts, todo = {}, {}, []
    for y, m in months:
        t0, t1 = _month_bounds(y, m)
        files = snap.select("hourly", sources=srcs, start=t0.tz_convert("UTC"), end=t1.tz_convert("UTC"))
        ident = tuple(sorted((str(f.get("path")), f.get("bytes"), f.get("rows")) for f in files))
        key = (str(store.root), y, m, tuple(srcs or ()), ident)
        keys[(y, m)] = key
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
            if hit is not None:
                _CACHE.move_to_end(key)
        if hit is None:
            todo.append((y, m))
        else:
            parts[(y, m)] = hit
    if todo:
        t0, _ = _month_bounds(*todo[0])
        _, t1 = _month_bounds(*todo[-1])
        hourly = store.hourly(t0, t1, sources=srcs, columns=(), snapshot=snap, prefer=SOURCE_PRECEDENCE)
        sd = station_daily(hourly)
        if len(sd):
            sd = sd.assign(date=_dates(sd["date"]))
            ym = np.array([x.year * 100 + x.month for x in sd["date"]])
        else:
            ym = np.array([], dtype=int)
        for y, m in todo:
            piece = sd[ym == y * 100 + m].reset_index(drop=True)
            parts[(y, m)] = piece
            with _CACHE_LOCK:
                _CACHE[keys[(y, m)]] = piece
                while len(_CACHE) > CACHE_MONTHS:
                    _CACHE.popitem(last=False)
    frames = [parts[k] for k in months if len(parts[k])]
    if not frames:
        return empty_station_daily()
    out = pd.concat(frames, ignore_index=True)
    return out[(out["date"] >= d0) & (out["date"] <= d1)].reset_index(drop=True)


def store_area_daily(store, start, end, level: str = "jurisdiction", jurisdictions=None, *,
                     edition: str = "auto", sources: Iterable[str] | None = None) -> pd.DataFrame:
    """:func:`area_daily` of :func:`store_station_daily` — the area daily values every page and command shows."""
    return area_daily(store_station_daily(store, start, end, sources=sources), level, jurisdictions,
                      edition=edition)


def compare(values: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """``values`` with the change against the same units' ``previous`` period values (e.g. a year earlier).

    Adds ``prev_composite_index``, ``composite_index_change_pct`` [%], ``prev_good_day_share`` and
    ``good_day_share_change`` [percentage points]; NaN where the unit has no previous value.
    """
    out = values.copy()
    if previous is None or previous.empty:
        for c in ("prev_composite_index", "composite_index_change_pct", "prev_good_day_share", "good_day_share_change"):
            out[c] = np.nan
        return out
    prev = previous.set_index("jurisdiction")
    out["prev_composite_index"] = out["jurisdiction"].map(prev["composite_index"])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["composite_index_change_pct"] = np.where(
            out["prev_composite_index"] > 0,
            100.0 * (out["composite_index"] - out["prev_composite_index"]) / out["prev_composite_index"], np.nan)
    out["prev_good_day_share"] = out["jurisdiction"].map(prev["good_day_share"])
    out["good_day_share_change"] = out["good_day_share"] - out["prev_good_day_share"]
    return out


def indicator_label(code: str, lang: str = "zh") -> str:
    """Name of a daily indicator: pollutants by their label, ``o3`` as the O3 daily max 1-h."""

    return t(f"eval_ind_{code}", lang) if code in ("o3", "o3_8h") else pollutant_label(code, lang)


def reason_text(reasons: str, lang: str = "zh") -> str:
    """``;``-joined reason codes of :attr:`Explanation.stations` as words (``pm25:lt_20_hours`` → "PM2.5：有效小时数不足20")."""

    if not isinstance(reasons, str) or not reasons:
        return ""
    parts = []
    for code in reasons.split(";"):
        p, _, why = code.rpartition(":")
        label = indicator_label(p, lang) if p else ""
        parts.append(t(f"eval_reason_{why}", lang, p=label) if p else t(f"eval_reason_{why}", lang))
    return t("clause_sep", lang).join(parts)
