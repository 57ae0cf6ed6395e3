"""Near-threshold flags, driver stations, today's remaining budget, O3 headroom and the running daily AQI.

Everything here works on the canonical hourly frame (``station``, ``time`` tz-aware Beijing,
hour-ending, ``pm25 pm10 so2 no2 o3`` [µg/m³], ``co`` [mg/m³]) and a decision time ``at`` (an
hour-ending stamp; default the latest stamp in the frame). Each table comes for two *scopes*:
``"station"`` (each station as measured) and ``"jurisdiction"`` (the arithmetic mean of the
jurisdiction's evaluation stations, :func:`regionair.core.region.aggregate`, scored *after* averaging —
HJ 633-2026 §4.2.1). The edition in force is chosen per row from its natural day
(:func:`regionair.core.aqi.edition_for`).

Budget rounding (what :func:`daily_budget` implements)
------------------------------------------------------
The daily IAQI of pollutant *p* stays at or below boundary *B* exactly when the daily mean stays at or
below an *effective limit*:

* **2012 edition** (HJ 633-2012 states no input rounding): IAQI = ceil(linear(C)). ``ceil(x) ≤ B``
  ⇔ ``x ≤ B`` ⇔ ``C ≤ C*``. Effective limit = **C\\*, inclusive**.
* **2026 edition** (HJ 633-2026 §4.2.2: the daily mean is rounded per GB/T 8170, half to even, to an
  integer µg/m³ — CO to 0.1 mg/m³ — before the IAQI): ``round(C) ≤ C*`` ⇔ ``C < C* + ½`` — and
  ``C = C* + ½`` also passes when C* (in the rounding unit) is **even**, because it rounds down to C*.
  Effective limit = **C\\* + 0.5 µg/m³ (CO + 0.05 mg/m³), inclusive when C\\* is even, exclusive when
  odd**. Of the budget limits only PM2.5 115 and SO2 475 (B = 150) are odd.

``limit`` in the output is C*, ``limit_effective`` the number used in the allowance, and
``limit_inclusive`` whether reaching it is still allowed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from regionair.analysis.evaluation import running_daily
from regionair.core import standards as S
from regionair.core.aqi import daily_aqi, edition_for, hourly_aqi, iaqi, natural_day
from regionair.core.nomenclature import POLLUTANTS, TZ, beijing_time
from regionair.core.region import aggregate, station_jurisdictions, stations
from regionair.errors import InputError

#: IAQI category boundaries watched by the near-threshold flags (良/轻度, 轻度/中度, 中度/重度, 重度/严重).
FLAG_BOUNDARIES: tuple[int, ...] = (100, 150, 200, 300)
#: Boundaries for which today's budget is computed by default.
BUDGET_BOUNDARIES: tuple[int, ...] = (100, 150, 200)
#: Pollutants with a daily-mean limit (the budget applies to them; O3 has its own table).
BUDGET_POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co")
SCOPES = ("station", "jurisdiction")
FLAGS = ("crossed", "near", "none")
BUDGET_STATUSES = ("already exceeded", "tight", "safe", "unknown", "cannot be valid")
_HOUR = pd.Timedelta(hours=1)


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def resolve_at(hourly: pd.DataFrame, at=None) -> pd.Timestamp:
    """Decision time: ``at`` floored to the hour (Beijing), or the latest stamp in ``hourly``."""
    if at is None:
        if hourly.empty:
            raise InputError("no hourly data: cannot pick a default time; pass at=")
        return beijing_time(pd.to_datetime(hourly["time"]).max())
    return beijing_time(at, "at").floor("h")


def unit_frames(hourly: pd.DataFrame, scopes=SCOPES, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Stack station rows and jurisdiction means into one frame with ``scope``, ``id``, ``jurisdiction``.

    Parameters
    ----------
    hourly : canonical hourly frame.
    scopes : subset of ``("station", "jurisdiction")``.
    catalogue : station catalogue (default :func:`regionair.core.region.stations`).

    Returns
    -------
    DataFrame ``scope``, ``id``, ``jurisdiction``, ``time`` and the six pollutants [µg/m³; CO mg/m³].
    """

    bad = set(scopes) - set(SCOPES)
    if bad:
        raise InputError(f"unknown scope(s) {sorted(bad)}; choose from {', '.join(SCOPES)}")
    missing = [c for c in ("station", "time", *POLLUTANTS) if c not in hourly.columns]
    if missing:
        raise InputError(f"hourly frame lacks column(s) {', '.join(missing)}; pass a canonical hourly frame")
    cat = stations() if catalogue is None else catalogue
    parts = []
    if "station" in scopes:
        s = hourly[["station", "time", *POLLUTANTS]].copy()
        s["time"] = pd.to_datetime(s["time"]).dt.tz_convert(TZ)
        s["scope"] = "station"
        s["id"] = s["station"].astype(str)
        s["jurisdiction"] = s["id"].map(station_jurisdictions(cat)).fillna("")
        parts.append(s.drop(columns="station"))
    if "jurisdiction" in scopes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown stations: left out of means (warned by the loader)
            j = aggregate(hourly, pollutants=POLLUTANTS, catalogue=cat)
        j = j[["station", "time", *POLLUTANTS]].copy()
        j["scope"] = "jurisdiction"
        j["id"] = j["station"].astype(str)
        j["jurisdiction"] = j["id"]
        parts.append(j.drop(columns="station"))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["time", *POLLUTANTS, "scope", "id", "jurisdiction"])
    return out[["scope", "id", "jurisdiction", "time", *POLLUTANTS]]


def _wide(frame: pd.DataFrame, value: str, index: pd.DatetimeIndex) -> pd.DataFrame:
    """time × (scope, id) grid of one column over a complete hourly index (gaps = NaN)."""
    w = frame.drop_duplicates(["scope", "id", "time"], keep="last").pivot(
        index="time", columns=["scope", "id"], values=value)
    return w.reindex(index)


def _hours(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="h", tz=TZ)


def theil_sen_slope(values: np.ndarray) -> float:
    """Median of pairwise slopes (Theil–Sen) of equally spaced values, NaN skipped [per step].

    NaN with fewer than 3 valid points.
    """
    y = np.asarray(values, dtype="float64")
    x = np.arange(len(y), dtype="float64")
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    if len(y) < 3:
        return float("nan")
    i, j = np.triu_indices(len(y), k=1)
    return float(np.median((y[j] - y[i]) / (x[j] - x[i])))


def _limit(edition: str, pollutant: str, averaging: str, boundary: int) -> tuple[float, float, bool]:
    """(C*, effective limit, inclusive) of a daily indicator at IAQI ``boundary`` (module docstring)."""
    levels = list(S.IAQI_LEVELS)
    if boundary not in levels:
        raise InputError(f"boundary {boundary!r} is not an IAQI breakpoint; choose from {levels[1:]}")
    bp = S.BREAKPOINTS[edition][pollutant][averaging]
    i = levels.index(boundary)
    if i >= len(bp):
        return float("nan"), float("nan"), True
    c = float(bp[i])
    dec = S.INPUT_DECIMALS[edition]
    if dec is None:
        return c, c, True
    d = dec[pollutant]
    even = int(round(c * 10**d)) % 2 == 0
    return c, c + 0.5 * 10.0**-d, even


def limit_concentration(pollutant: str, boundary: int = 100, *, edition: str, averaging: str = "24h"):
    """Concentration C* at which the daily IAQI of ``pollutant`` reaches ``boundary``, and its effective limit.

    Parameters
    ----------
    pollutant : {"pm25", "pm10", "so2", "no2", "co", "o3"}
    boundary : IAQI value at a breakpoint (100, 150, 200, 300 …).
    edition : {"2012", "2026"}
    averaging : ``"24h"`` (daily mean) or ``"8h"`` (O3 MDA8) or ``"1h"``.

    Returns
    -------
    dict with ``limit`` (C* [µg/m³; CO mg/m³]), ``limit_effective`` and ``limit_inclusive`` (see the
    module docstring on rounding).

    Examples
    --------
    >>> limit_concentration("pm25", 100, edition="2012")["limit"]
    75.0
    >>> limit_concentration("pm25", 100, edition="2026")["limit_effective"]
    60.5
    """
    c, eff, inc = _limit(edition, pollutant, averaging, boundary)
    return {"limit": c, "limit_effective": eff, "limit_inclusive": inc}


# ------------------------------------------------------------------------------------------------
# §1 Near-threshold flags
# ------------------------------------------------------------------------------------------------


def near_threshold_flags(hourly: pd.DataFrame, at=None, *, band: float = 15, boundaries=FLAG_BOUNDARIES,
                         slope_hours: int = 6, scopes=SCOPES, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hourly IAQI per station/jurisdiction and pollutant, its next category boundary, trend and flag.

    Parameters
    ----------
    hourly : canonical hourly frame (needs the hours ``at − slope_hours + 1 … at``).
    at : time (hour-ending, Beijing); default the latest stamp.
    band : float
        "near" when ``0 ≤ boundary − iaqi ≤ band`` [IAQI points] and rising. Default 15.
    boundaries : IAQI boundaries watched (default 100, 150, 200, 300).
    slope_hours : int
        Window of the robust slope (Theil–Sen) [h]; default 6.
    scopes : ``("station", "jurisdiction")`` or a subset.
    units : optional output of :func:`unit_frames` (to avoid recomputing it).

    Returns
    -------
    DataFrame, one row per scope, id and pollutant with a value at ``at``: ``scope``, ``id``,
    ``jurisdiction``, ``time``, ``pollutant``, ``concentration`` [µg/m³; CO mg/m³], ``iaqi`` (real-time
    IAQI: PM 1-h vs daily breakpoints, gases 1-h breakpoints — HJ 633-2026 §4.2.3–4.2.4 / CNEMC
    practice before), ``iaqi_prev`` (one hour earlier), ``boundary`` (the boundary crossed in the last
    hour, else the next boundary ≥ iaqi; NaN above the highest), ``distance`` (boundary − iaqi; negative
    after a crossing), ``trend`` (iaqi − iaqi 3 h earlier [IAQI]), ``slope`` (Theil–Sen over the last
    ``slope_hours`` hours [IAQI/h]), ``rising``, ``flag`` (``"crossed"``, ``"near"``, ``"none"``),
    ``edition``.

    Notes
    -----
    *crossed*: ``iaqi_prev ≤ B < iaqi`` for a watched B (the highest such B is reported). *rising*: the
    slope is > 0; when it cannot be computed (< 3 valid hours), the 3-h change is > 0. An IAQI equal to
    a boundary is still inside the lower category (良 is 51–100), so its distance is 0.
    """
    if band < 0:
        raise InputError(f"band={band!r}; must be >= 0 IAQI points")
    at = resolve_at(hourly, at)
    boundaries = tuple(sorted(boundaries))
    u = unit_frames(hourly, scopes) if units is None else units
    t0 = at - (max(slope_hours, 4) - 1) * _HOUR
    u = u[(u["time"] >= t0) & (u["time"] <= at)]
    if u.empty:
        return _empty_flags()
    scored = hourly_aqi(u.reset_index(drop=True))
    idx = _hours(t0, at)
    jur = u.drop_duplicates(["scope", "id"]).set_index(["scope", "id"])["jurisdiction"]
    bnd = np.asarray(boundaries, dtype="float64")
    rows = []
    for p in POLLUTANTS:
        conc = _wide(scored, p, idx)
        iq = _wide(scored, f"iaqi_{p}", idx)
        eds = _wide(scored, "edition", idx)
        now = iq.iloc[-1]
        prev = iq.iloc[-2]
        back3 = iq.iloc[-4]
        slopes = np.array([theil_sen_slope(iq[c].to_numpy()[-slope_hours:]) for c in iq.columns])
        df = pd.DataFrame({
            "scope": [c[0] for c in iq.columns], "id": [c[1] for c in iq.columns],
            "concentration": conc.iloc[-1].to_numpy(dtype="float64"),
            "iaqi": now.to_numpy(dtype="float64"), "iaqi_prev": prev.to_numpy(dtype="float64"),
            "trend": (now - back3).to_numpy(dtype="float64"), "slope": slopes,
            "edition": eds.iloc[-1].to_numpy(dtype=object),
        })
        df = df[~np.isnan(df["iaqi"])]
        v = df["iaqi"].to_numpy()[:, None]
        pv = df["iaqi_prev"].to_numpy()[:, None]
        crossed_any = (pv <= bnd) & (bnd < v)
        crossed_b = np.where(crossed_any, bnd, -np.inf).max(axis=1)
        ge = np.where(bnd >= v, bnd, np.inf).min(axis=1)
        crossed = np.isfinite(crossed_b)
        boundary = np.where(crossed, crossed_b, np.where(np.isfinite(ge), ge, np.nan))
        df["boundary"] = boundary
        df["distance"] = boundary - df["iaqi"].to_numpy()
        slope = df["slope"].to_numpy()
        rising = np.where(np.isnan(slope), df["trend"].to_numpy() > 0, slope > 0)
        df["rising"] = rising
        near = ~crossed & (df["distance"].to_numpy() >= 0) & (df["distance"].to_numpy() <= band) & rising
        df["flag"] = np.where(crossed, "crossed", np.where(near, "near", "none"))
        df["pollutant"] = p
        rows.append(df)
    out = pd.concat(rows, ignore_index=True)
    out["jurisdiction"] = [jur.get((s, i), "") for s, i in zip(out["scope"], out["id"], strict=True)]
    out["time"] = at
    cols = ["scope", "id", "jurisdiction", "time", "pollutant", "concentration", "iaqi", "iaqi_prev",
            "boundary", "distance", "trend", "slope", "rising", "flag", "edition"]
    return out[cols].sort_values(["scope", "id", "pollutant"], kind="stable").reset_index(drop=True)


def _empty_flags() -> pd.DataFrame:
    return pd.DataFrame(columns=["scope", "id", "jurisdiction", "time", "pollutant", "concentration", "iaqi",
                                 "iaqi_prev", "boundary", "distance", "trend", "slope", "rising", "flag",
                                 "edition"])


def driver_stations(hourly: pd.DataFrame, at=None, *, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Primary pollutant of each jurisdiction now and the stations that push its mean up most.

    Parameters
    ----------
    hourly : canonical hourly frame.
    at : time (hour-ending, Beijing); default the latest stamp.

    Returns
    -------
    DataFrame, one row per jurisdiction and evaluation station reporting the pollutant at ``at``:
    ``jurisdiction``, ``time``, ``aqi`` (jurisdiction hourly AQI), ``primary_pollutants`` (``;``-joined,
    empty when AQI ≤ 50), ``pollutant`` (the first primary pollutant, or the highest IAQI when AQI ≤ 50),
    ``station``, ``concentration`` [µg/m³; CO mg/m³], ``jurisdiction_mean``, ``excess`` (concentration −
    mean), ``leave_one_out`` (how much the mean would fall without this station = (c − mean)/(n − 1);
    NaN with a single station), ``share`` (c / Σc), ``station_iaqi``, ``rank`` (1 = pushes most).
    """

    at = resolve_at(hourly, at)
    cat = stations() if catalogue is None else catalogue
    u = unit_frames(hourly[pd.to_datetime(hourly["time"]) == at], catalogue=cat)
    if u.empty:
        return pd.DataFrame(columns=["jurisdiction", "time", "aqi", "primary_pollutants", "pollutant", "station",
                                     "concentration", "jurisdiction_mean", "excess", "leave_one_out", "share",
                                     "station_iaqi", "rank"])
    scored = hourly_aqi(u.reset_index(drop=True))
    evaluation = set(cat.loc[~cat["background"].astype(bool), "code"])
    rows = []
    for _, j in scored[scored["scope"] == "jurisdiction"].iterrows():
        prim = j["primary_pollutants"]
        if prim:
            p = prim.split(";")[0]
        else:
            iq = {q: j[f"iaqi_{q}"] for q in POLLUTANTS if not np.isnan(j[f"iaqi_{q}"])}
            if not iq:
                continue
            p = max(iq, key=iq.get)
        st = scored[(scored["scope"] == "station") & (scored["jurisdiction"] == j["id"])
                    & scored["id"].isin(evaluation)]
        st = st[~st[p].isna()]
        n = len(st)
        if n == 0:
            continue
        mean = float(st[p].mean())
        c = st[p].to_numpy(dtype="float64")
        df = pd.DataFrame({
            "jurisdiction": j["id"], "time": at, "aqi": j["aqi"], "primary_pollutants": prim, "pollutant": p,
            "station": st["id"].to_numpy(), "concentration": c, "jurisdiction_mean": mean,
            "excess": c - mean, "leave_one_out": (c - mean) / (n - 1) if n > 1 else np.nan,
            "share": c / c.sum() if c.sum() > 0 else np.nan,
            "station_iaqi": st[f"iaqi_{p}"].to_numpy(dtype="float64"),
        })
        df["rank"] = df["excess"].rank(ascending=False, method="first").astype(int)
        rows.append(df.sort_values("rank"))
    if not rows:
        return driver_stations(hourly.iloc[0:0], at, catalogue=cat)
    return pd.concat(rows, ignore_index=True)


# ------------------------------------------------------------------------------------------------
# §2 Today's remaining budget
# ------------------------------------------------------------------------------------------------


def _city_running(hourly: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """The jurisdictions' running daily values by the HJ 663 rule (:func:`regionair.analysis.evaluation.running_daily`),
    indexed by jurisdiction id — what the overview and the day's final value use."""

    if not {"station", "time", *POLLUTANTS} <= set(hourly.columns) or hourly.empty:
        return pd.DataFrame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = running_daily(hourly, at)
    return r.set_index("jurisdiction")


def _day_window(at: pd.Timestamp):
    day = natural_day(at)
    start = pd.Timestamp(day).tz_localize(TZ)  # D 00:00; the day's stamps are D 01:00 … D+1 00:00
    elapsed = int((at - start) / _HOUR)
    return day, start, elapsed


def daily_budget(hourly: pd.DataFrame, at=None, *, boundaries=BUDGET_BOUNDARIES, recent_hours: int = 3,
                 scopes=SCOPES, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Today's remaining budget per station/jurisdiction, daily-limit pollutant and boundary.

    Parameters
    ----------
    hourly : canonical hourly frame (needs the natural day of ``at`` and ``recent_hours`` before ``at``).
    at : time (hour-ending, Beijing); default the latest stamp. The natural day D of ``at`` holds the
        stamps D 01:00 … D+1 00:00; ``at`` = D+1 00:00 closes the day.
    boundaries : IAQI boundaries B (default 100, 150, 200).
    recent_hours : hours in the "recent level" (default 3).
    scopes, units : as in :func:`near_threshold_flags`.

    Returns
    -------
    DataFrame, one row per scope, id, pollutant (PM2.5, PM10, SO2, NO2, CO) and boundary:
    ``scope``, ``id``, ``jurisdiction``, ``time`` (= at), ``date`` (D), ``edition``, ``pollutant``,
    ``unit``, ``boundary`` (B), ``limit`` (C*), ``limit_effective``, ``limit_inclusive``,
    ``hours_elapsed`` (stamps of D up to ``at``), ``hours_valid`` (k), ``hours_remaining`` (r = 24 −
    elapsed), ``mean_so_far`` (m), ``iaqi_so_far`` (daily IAQI of m, provisional), ``recent``
    (mean of the valid values in the last ``recent_hours`` stamps), ``allowance``, ``status``,
    ``reduction`` (max(recent − allowance, 0)) and ``reduction_pct`` (reduction / recent × 100).

    Notes
    -----
    With k valid values of mean m so far and r hours left, assuming every remaining hour will be
    valid, the day ends with n = k + r valid hours (n = 24 when no hour is missing), and its mean stays at
    or below the effective limit L when the remaining hours average at most

    ``allowance = (n·L − k·m) / r``.

    For jurisdictions ``mean_so_far`` is the HJ 663 running city value
    (:func:`regionair.analysis.evaluation.running_daily`: the mean of the stations' running means), so a
    closed day's status agrees with the day's official value; the allowance then assumes every station
    reports every remaining hour.

    Status: ``"already exceeded"`` — allowance < 0 (or = 0 with an exclusive limit), or, for a closed
    day (r = 0), the final mean is above L; ``"tight"`` — allowance < recent level; ``"safe"`` —
    otherwise; ``"unknown"`` — no recent value; ``"cannot be valid"`` — n < 20, so the day cannot have a
    valid daily mean (GB 3095 Table 4). The effective limit L follows the edition's rounding (module
    docstring).
    """
    at = resolve_at(hourly, at)
    day, start, elapsed = _day_window(at)
    edition = edition_for(day)
    u = unit_frames(hourly, scopes) if units is None else units
    t0 = min(start + _HOUR, at - (recent_hours - 1) * _HOUR)
    u = u[(u["time"] >= t0) & (u["time"] <= at)]
    cols = ["scope", "id", "jurisdiction", "time", "date", "edition", "pollutant", "unit", "boundary", "limit",
            "limit_effective", "limit_inclusive", "hours_elapsed", "hours_valid", "hours_remaining",
            "mean_so_far", "iaqi_so_far", "recent", "allowance", "status", "reduction", "reduction_pct"]
    if u.empty:
        return pd.DataFrame(columns=cols)
    idx = _hours(t0, at)
    in_day = idx > start
    jur = u.drop_duplicates(["scope", "id"]).set_index(["scope", "id"])["jurisdiction"]
    r = 24 - elapsed
    rows = []
    for p in BUDGET_POLLUTANTS:
        w = _wide(u, p, idx)
        today = w.loc[in_day]
        k = today.notna().sum().to_numpy()
        m = today.mean().to_numpy(dtype="float64")
        recent = w.iloc[-recent_hours:].mean().to_numpy(dtype="float64")
        base = pd.DataFrame({"scope": [c[0] for c in w.columns], "id": [c[1] for c in w.columns],
                             "hours_valid": k, "mean_so_far": m, "recent": recent})
        base["iaqi_so_far"] = iaqi(p, base["mean_so_far"], averaging="24h", edition=edition)
        for b in boundaries:
            c, eff, inc = _limit(edition, p, "24h", b)
            df = base.copy()
            df["pollutant"], df["boundary"] = p, b
            df["limit"], df["limit_effective"], df["limit_inclusive"] = c, eff, inc
            rows.append(df)
    out = pd.concat(rows, ignore_index=True)
    out["jurisdiction"] = [jur.get((s, i), "") for s, i in zip(out["scope"], out["id"], strict=True)]
    # jurisdictions: the mean so far is the HJ 663 city value (mean of the stations' running means, each
    # station counted while it can still make a valid day), the same number as the overview's running AQI
    city = _city_running(hourly, at) if "jurisdiction" in scopes else pd.DataFrame()
    if len(city):
        jm = out["scope"].eq("jurisdiction").to_numpy()
        for p in BUDGET_POLLUTANTS:
            sel = jm & out["pollutant"].eq(p).to_numpy()
            if sel.any():
                v = out.loc[sel, "id"].map(city[p]).to_numpy(dtype="float64", na_value=np.nan)
                out.loc[sel, "mean_so_far"] = v
                out.loc[sel, "iaqi_so_far"] = iaqi(p, v, averaging="24h", edition=edition)
    out["time"], out["date"], out["edition"] = at, day, edition
    out["unit"] = out["pollutant"].map(lambda q: "mg/m³" if q == "co" else "µg/m³")
    out["hours_elapsed"], out["hours_remaining"] = elapsed, r
    k = out["hours_valid"].to_numpy(dtype="float64")
    m = np.nan_to_num(out["mean_so_far"].to_numpy(dtype="float64"))
    L = out["limit_effective"].to_numpy(dtype="float64")
    inc = out["limit_inclusive"].to_numpy(dtype=bool)
    n = k + r
    with np.errstate(invalid="ignore", divide="ignore"):
        allowance = np.where(r > 0, (n * L - k * m) / max(r, 1), np.nan)
    allowance = np.round(allowance, 9)  # float noise only; concentrations carry ≤ 3 decimals
    out["allowance"] = allowance
    recent = out["recent"].to_numpy(dtype="float64")
    final = out["mean_so_far"].to_numpy(dtype="float64")
    if r == 0:
        over = np.where(inc, final > L, final >= L)
        status = np.where(np.isnan(final), "unknown", np.where(over, "already exceeded", "safe"))
    else:
        impossible = (allowance < 0) | ((allowance <= 0) & ~inc)
        status = np.where(impossible, "already exceeded",
                          np.where(np.isnan(recent), "unknown",
                                   np.where(allowance < recent, "tight", "safe")))
    status = np.where(n < S.MIN_HOURS_DAILY, "cannot be valid", status)
    out["status"] = status
    red = np.maximum(recent - allowance, 0.0)
    out["reduction"] = red
    with np.errstate(invalid="ignore", divide="ignore"):
        out["reduction_pct"] = np.where(recent > 0, 100.0 * red / recent, np.nan)
    return out[cols].sort_values(["scope", "id", "pollutant", "boundary"], kind="stable").reset_index(drop=True)


def o3_headroom(hourly: pd.DataFrame, at=None, *, boundaries=BUDGET_BOUNDARIES, scopes=SCOPES,
                units: pd.DataFrame | None = None) -> pd.DataFrame:
    """O3 today: MDA8 so far, current 8-h mean and the highest 8-h mean the rest of the day may reach.

    Parameters
    ----------
    hourly, at, boundaries, scopes, units : as in :func:`daily_budget`.

    Returns
    -------
    DataFrame, one row per scope, id and boundary: ``scope``, ``id``, ``jurisdiction``, ``time``,
    ``date``, ``edition``, ``boundary``, ``limit`` (MDA8 C* [µg/m³]), ``limit_effective``,
    ``limit_inclusive``, ``mda8_so_far`` (max of the day's valid 8-h means stamped 08:00 … at; NaN before
    08:00), ``o3_8h_now`` (8-h mean at ``at``), ``o3_1h_now`` (last valid 1-h value), ``max_8h_remaining``
    (the highest 8-h mean the rest of the day may reach: the effective limit, NaN when already
    exceeded), ``next_hour_allowance`` (the highest 1-h value next hour that keeps the next 8-h mean
    within the limit: (c + 1)·L − Σ of the c valid values among the last 7 hours), ``max_1h_so_far`` and
    ``limit_1h`` (2012 only: the O3 daily max 1-h is a daily indicator, HJ 633-2012 §5.1.2), ``status``
    (``"already exceeded"``, ``"tight"`` — next-hour allowance below the last 1-h value, ``"safe"``,
    ``"unknown"``).

    Notes
    -----
    8-h mean at X = mean of the 1-h values X−7 … X with ≥ 6 valid (GB 3095 Table 4; HJ 663-2013 Table
    A.1). The MDA8 so far ignores the ≥ 14-windows validity rule (the day is not over).
    """
    at = resolve_at(hourly, at)
    day, start, elapsed = _day_window(at)
    edition = edition_for(day)
    u = unit_frames(hourly, scopes) if units is None else units
    t0 = min(start + _HOUR, at - 7 * _HOUR) - 7 * _HOUR
    u = u[(u["time"] >= t0) & (u["time"] <= at)]
    cols = ["scope", "id", "jurisdiction", "time", "date", "edition", "boundary", "limit", "limit_effective",
            "limit_inclusive", "mda8_so_far", "o3_8h_now", "o3_1h_now", "max_8h_remaining",
            "next_hour_allowance", "max_1h_so_far", "limit_1h", "status"]
    if u.empty:
        return pd.DataFrame(columns=cols)
    idx = _hours(t0, at)
    w = _wide(u, "o3", idx)
    m8 = w.rolling(8, min_periods=S.MIN_HOURS_8H).mean()
    cand = (idx >= start + S.MDA8_FIRST_HOUR * _HOUR) & (idx > start)
    mda8 = m8.loc[cand].max() if cand.any() else pd.Series(np.nan, index=w.columns)
    today = w.loc[idx > start]
    last7 = w.iloc[-7:]
    c7 = last7.notna().sum().to_numpy(dtype="float64")
    s7 = last7.sum().to_numpy(dtype="float64")
    last_valid = w.ffill().iloc[-1].to_numpy(dtype="float64")
    jur = u.drop_duplicates(["scope", "id"]).set_index(["scope", "id"])["jurisdiction"]
    rows = []
    for b in boundaries:
        c, eff, inc = _limit(edition, "o3", "8h", b)
        df = pd.DataFrame({"scope": [x[0] for x in w.columns], "id": [x[1] for x in w.columns]})
        df["boundary"], df["limit"], df["limit_effective"], df["limit_inclusive"] = b, c, eff, inc
        df["mda8_so_far"] = mda8.to_numpy(dtype="float64")
        df["o3_8h_now"] = m8.iloc[-1].to_numpy(dtype="float64")
        df["o3_1h_now"] = last_valid
        df["max_1h_so_far"] = today.max().to_numpy(dtype="float64")
        c1 = _limit(edition, "o3", "1h", b)[1] if edition == "2012" else np.nan
        df["limit_1h"] = c1
        over8 = np.where(inc, df["mda8_so_far"] > eff, df["mda8_so_far"] >= eff)
        over1 = (df["max_1h_so_far"] > c1).to_numpy() if edition == "2012" else np.zeros(len(df), bool)
        exceeded = over8 | over1
        df["max_8h_remaining"] = np.where(exceeded, np.nan, eff)
        allow = (c7 + 1) * eff - s7
        df["next_hour_allowance"] = allow
        df["status"] = np.where(exceeded, "already exceeded",
                                np.where(np.isnan(last_valid), "unknown",
                                         np.where(allow < last_valid, "tight", "safe")))
        rows.append(df)
    out = pd.concat(rows, ignore_index=True)
    out["jurisdiction"] = [jur.get((s, i), "") for s, i in zip(out["scope"], out["id"], strict=True)]
    out["time"], out["date"], out["edition"] = at, day, edition
    return out[cols].sort_values(["scope", "id", "boundary"], kind="stable").reset_index(drop=True)


def running_daily_aqi(hourly: pd.DataFrame, at=None, *, scopes=SCOPES, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Today's daily AQI so far from the hours available (provisional).

    Returns
    -------
    DataFrame, one row per scope and id: ``scope``, ``id``, ``jurisdiction``, ``time`` (= at), ``date``,
    ``hours_elapsed``, ``hours_valid`` (most valid hours of any pollutant), the indicators so far
    (``pm25 pm10 so2 no2 co`` means of the valid hours, ``o3`` max 1-h, ``o3_8h`` MDA8 so far),
    ``iaqi_*``, ``aqi``, ``primary_pollutants``, ``level``, ``category``, ``edition`` and
    ``provisional`` (True until the day is closed at D+1 00:00 with ≥ 20 valid hours).

    Notes
    -----
    The scoring is :func:`regionair.core.aqi.daily_aqi` on the partial-day indicators, without the ≥ 20 h and
    ≥ 14 windows validity rules — an estimate, labelled provisional. Jurisdiction rows take their indicators
    from :func:`regionair.analysis.evaluation.running_daily` (each station's running values first, counted
    while it can still reach a valid day; then their mean), so they equal the overview's running value and,
    at D+1 00:00, the day's HJ 663 value.
    """
    at = resolve_at(hourly, at)
    day, start, elapsed = _day_window(at)
    u = unit_frames(hourly, scopes) if units is None else units
    t0 = start + _HOUR - 7 * _HOUR
    u = u[(u["time"] >= t0) & (u["time"] <= at)]
    if u.empty:
        return pd.DataFrame(columns=["scope", "id", "jurisdiction", "time", "date", "aqi", "provisional"])
    idx = _hours(t0, at)
    in_day = idx > start
    cols = {}
    for p in BUDGET_POLLUTANTS:
        w = _wide(u, p, idx).loc[in_day]
        cols[p] = w.mean()
        cols[f"n_{p}"] = w.notna().sum()
    w = _wide(u, "o3", idx)
    cols["o3"] = w.loc[in_day].max()
    cols["n_o3"] = w.loc[in_day].notna().sum()
    m8 = w.rolling(8, min_periods=S.MIN_HOURS_8H).mean()
    cand = in_day & (idx >= start + S.MDA8_FIRST_HOUR * _HOUR)
    cols["o3_8h"] = m8.loc[cand].max() if cand.any() else pd.Series(np.nan, index=w.columns)
    d = pd.DataFrame(cols)
    d.index = d.index.set_names(["scope", "id"])
    d = d.reset_index()
    d["station"] = d["id"]
    d["date"] = day
    city = _city_running(hourly, at) if "jurisdiction" in scopes else pd.DataFrame()
    if len(city):  # jurisdictions: the HJ 663 running value (analysis.evaluation.running_daily)
        jm = d["scope"].eq("jurisdiction").to_numpy()
        for p in ("pm25", "pm10", "so2", "no2", "co", "o3", "o3_8h"):
            d.loc[jm, p] = d.loc[jm, "id"].map(city[p]).to_numpy(dtype="float64", na_value=np.nan)
    scored = daily_aqi(d, edition="auto").drop(columns=["station"])
    jur = u.drop_duplicates(["scope", "id"]).set_index(["scope", "id"])["jurisdiction"]
    scored["jurisdiction"] = [jur.get((s, i), "") for s, i in zip(scored["scope"], scored["id"], strict=True)]
    scored["time"] = at
    scored["hours_elapsed"] = elapsed
    nmax = scored[[f"n_{p}" for p in POLLUTANTS]].max(axis=1)
    scored["hours_valid"] = nmax
    scored["provisional"] = ~((elapsed == 24) & (nmax >= S.MIN_HOURS_DAILY))
    front = ["scope", "id", "jurisdiction", "time", "date", "hours_elapsed", "hours_valid", "aqi",
             "primary_pollutants", "level", "category", "edition", "provisional"]
    rest = [c for c in scored.columns if c not in front and c not in ("missing", "complete")]
    return scored[front + rest].reset_index(drop=True)
