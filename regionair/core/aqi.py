"""Air quality index: IAQI, hourly and daily AQI, primary pollutants, categories (HJ 633-2012 / HJ 633-2026).

All functions are vectorised (no per-row Python) and keep a missing value as ``NaN`` — never 0.

Edition rules (``edition="auto"``): a row is scored with the rules in force on its Beijing-time
natural day — before 2026-03-01 HJ 633-2012, from then HJ 633-2026. For an hourly value stamped
``t`` (hour-ending) the natural day is the date of ``t − 1 h``, so the 2026-03-01 00:00 stamp (the
hour 23:00–24:00 of 28 February) still uses 2012 rules.

Hourly methods
--------------
``"cnemc"`` (default)
    What CNEMC publishes and HJ 633-2026 §4.2.3–4.2.4 writes: the six 1-h values (PM2.5, PM10, SO2,
    NO2, CO, O3), PM 1-h values scored against the 24-h/daily breakpoints, no O3 8-h. With the 2012
    breakpoints before 2026-03-01 this reproduces every published AQI in 2022–2026 (standards.md §2.4,
    §2.8). SO2 1-h > 800 µg/m³: 2012 → the SO2 IAQI of its 24-h moving mean (HJ 633-2012 Table 1
    note 2); 2026 → 200 (HJ 633-2026 Table 3 note b).
``"hj633-2012-literal"``
    HJ 633-2012 §5.1.3 and Table 4 as written: 1-h SO2/NO2/CO/O3, the O3 8-h moving mean, and the
    **24-h moving means** of PM10/PM2.5 (computed from the hourly values in the frame). O3 8-h > 800:
    drop it and use the O3 1-h IAQI (note 3). Applies to 2012-edition rows; 2026-edition rows always
    follow HJ 633-2026 (which has no such variant).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from regionair.core import aqi_kernel as K
from regionair.core import standards as S
from regionair.core.averaging import daily_means, moving_means
from regionair.core.categories import category, category_colour, category_level  # noqa: F401  (part of this module's API)
from regionair.core.nomenclature import POLLUTANTS, TZ
from regionair.errors import InputError

HOURLY_METHODS = ("cnemc", "hj633-2012-literal")
AVERAGINGS = ("1h", "24h", "8h")
_EPS = 1e-9


# ------------------------------------------------------------------------------------------------
# Editions
# ------------------------------------------------------------------------------------------------


def _check_edition(edition: str, allow_auto: bool = True) -> None:
    allowed = ("auto", *S.EDITIONS) if allow_auto else S.EDITIONS
    if edition not in allowed:
        raise InputError(f"unknown edition {edition!r}; choose one of {', '.join(allowed)}")


def natural_day(time) -> pd.Series | pd.Timestamp:
    """Beijing-time natural day of hour-ending stamps: the date of ``time − 1 h``.

    Parameters
    ----------
    time : Timestamp or Series of datetime64 (tz-aware; naive values are taken as Beijing time)

    Returns
    -------
    The natural day as ``datetime.date`` (scalar) or a Series of ``datetime.date``.

    Notes
    -----
    HJ 633-2012 §5.1.2 ("当日零点前 24 h"), HJ 633-2026 自然日; with hour-ending stamps the day D
    holds the stamps D 01:00 … D+1 00:00 (standards.md §6.1).
    """
    if isinstance(time, pd.Series):
        t = time.dt.tz_localize(TZ) if time.dt.tz is None else time.dt.tz_convert(TZ)
        return (t - pd.Timedelta(hours=1)).dt.date
    t = pd.Timestamp(time)
    t = t.tz_localize(TZ) if t.tzinfo is None else t.tz_convert(TZ)
    return (t - pd.Timedelta(hours=1)).date()


def edition_for(day) -> str | np.ndarray:
    """Edition of HJ 633 / GB 3095 / HJ 663 in force on a Beijing-time natural day.

    Parameters
    ----------
    day : date, str, or array-like of dates — the natural day(s) the data belong to.

    Returns
    -------
    ``"2012"`` before 2026-03-01, ``"2026"`` from 2026-03-01 (HJ 633-2026 实施日期); array for array input.
    """
    if isinstance(day, pd.Series | np.ndarray | list | tuple | pd.Index):
        d = pd.to_datetime(pd.Series(day)).to_numpy(dtype="datetime64[D]")
        return np.where(d < np.datetime64(S.EDITION_2026_START), "2012", "2026")
    d = pd.Timestamp(day).date()
    return "2012" if d < S.EDITION_2026_START else "2026"


def _row_editions(frame: pd.DataFrame, edition: str, day_col: str | None = None) -> np.ndarray:
    _check_edition(edition)
    if edition != "auto":
        return np.full(len(frame), edition, dtype=object)
    days = frame[day_col] if day_col else natural_day(frame["time"])
    return edition_for(pd.Series(days, dtype="object")).astype(object)


# ------------------------------------------------------------------------------------------------
# IAQI
# ------------------------------------------------------------------------------------------------


def round_half_even(values, decimals: int) -> np.ndarray:
    """Round per GB/T 8170 (四舍六入五成双: an exact trailing 5 goes to the even digit).

    Float noise is removed first (``2.15`` is stored as 2.1499999…; it rounds to 2.2 as written).
    """
    x = np.asarray(values, dtype="float64")
    scale = 10.0**decimals
    y = np.round(x * scale, 6)  # snap representation error (e.g. 21.4999999999 → 21.5)
    return np.rint(y) / scale


def _segment_interp(c: np.ndarray, bp: tuple[float, ...]) -> np.ndarray:
    """Continuous piecewise-linear IAQI (HJ 633 formula (1)), unrounded; NaN above the table's top."""
    bpa = np.asarray(bp, dtype="float64")
    lv = np.asarray(S.IAQI_LEVELS[: len(bp)], dtype="float64")
    idx = np.clip(np.searchsorted(bpa, c, side="right") - 1, 0, len(bpa) - 2)
    lo, hi = bpa[idx], bpa[idx + 1]
    out = (lv[idx + 1] - lv[idx]) / (hi - lo) * (c - lo) + lv[idx]
    out = np.where(c > bpa[-1], np.nan, out)
    return out


def _ceil(v: np.ndarray) -> np.ndarray:
    """Round up to an integer (HJ 633-2012 §6.2 全部进位取整数; HJ 633-2026 §4.2.6), guarding float error."""
    return np.ceil(v - _EPS)


def _iaqi_array(pollutant: str, c: np.ndarray, averaging: str, edition: str) -> np.ndarray:
    bp = S.BREAKPOINTS[edition][pollutant][averaging]
    c = np.asarray(c, dtype="float64")
    dec = S.INPUT_DECIMALS[edition]
    if dec is not None:
        c = round_half_even(c, dec[pollutant])
    c = np.where(c < 0, np.nan, c)  # a negative concentration is invalid, never scored
    raw = _segment_interp(c, bp)
    top = bp[-1]
    above = c > top
    if pollutant == "so2" and averaging == "1h":
        special = S.SO2_1H_ABOVE_TOP[edition]
        raw = np.where(above, np.nan if special is None else special, raw)
    elif pollutant == "o3" and averaging == "8h":
        special = S.O3_8H_ABOVE_TOP[edition]
        raw = np.where(above, np.nan if special is None else special, raw)
    else:
        raw = np.where(above, S.IAQI_MAX, raw)  # cap at 500 (HJ 633-2026 §4.1.1: AQI 1–500; U9)
    return np.minimum(_ceil(raw), S.IAQI_MAX)


def iaqi(pollutant: str, concentration, *, averaging: str, edition: str = "2026"):
    """Individual air quality index (IAQI) of one pollutant.

    Parameters
    ----------
    pollutant : {"pm25", "pm10", "so2", "no2", "co", "o3"}
    concentration : scalar, array-like or Series — concentration [µg/m³; CO mg/m³]
    averaging : {"1h", "24h", "8h"}
        Breakpoint column: ``"24h"`` the 24-h / daily mean column (also used for PM 1-h values in the
        real-time report under HJ 633-2026 §4.2.4), ``"1h"`` the 1-h column (SO2, NO2, CO, O3),
        ``"8h"`` the O3 8-h column.
    edition : {"2012", "2026"}
        HJ 633-2012 Table 1 or HJ 633-2026 Table 3.

    Returns
    -------
    IAQI, integers as float64 (same kind as the input; Series keep their index). NaN where the input is
    missing or negative, and where HJ 633-2012 computes no IAQI (SO2 1-h > 800, O3 8-h > 800 µg/m³).

    Notes
    -----
    ``IAQI_P = (IAQI_Hi − IAQI_Lo)/(BP_Hi − BP_Lo)·(C_P − BP_Lo) + IAQI_Lo`` (HJ 633-2012 formula (1);
    HJ 633-2026 formula (1)), continuous at the breakpoints, rounded **up** to an integer and capped at
    500. Under HJ 633-2026 the concentration is first rounded per GB/T 8170 (µg/m³ to integers, CO to
    0.1 mg/m³; §4.2.2–4.2.3). Above the top breakpoint: SO2 1-h → 200 and O3 8-h → 300 (2026, Table 3
    notes b, c); not computed (2012, Table 1 notes 2, 3).

    References
    ----------
    HJ 633-2012 环境空气质量指数(AQI)技术规定(试行), Table 1, §4.2, §6.2.
    HJ 633-2026 环境空气质量指数(AQI)技术规定, Table 3, §4.2.

    Examples
    --------
    >>> iaqi("pm25", 48, averaging="24h", edition="2012")
    67.0
    >>> iaqi("pm25", 50, averaging="24h", edition="2026")
    80.0
    """
    _check_edition(edition, allow_auto=False)
    if averaging not in AVERAGINGS:
        raise InputError(f"unknown averaging {averaging!r}; choose one of {', '.join(AVERAGINGS)}")
    table = S.BREAKPOINTS[edition]
    if pollutant not in table:
        raise InputError(f"unknown pollutant {pollutant!r}; choose one of {', '.join(POLLUTANTS)}")
    if averaging not in table[pollutant]:
        raise InputError(
            f"{pollutant} has no {averaging} breakpoints; available: {', '.join(table[pollutant])}"
        )
    if isinstance(concentration, pd.Series):
        return pd.Series(
            _iaqi_array(pollutant, concentration.to_numpy(dtype="float64", na_value=np.nan), averaging, edition),
            index=concentration.index,
            name=concentration.name,
        )
    arr = _iaqi_array(pollutant, np.asarray(concentration, dtype="float64"), averaging, edition)
    if np.ndim(concentration) == 0:
        return float(arr)
    return arr


def _iaqi_by_edition(pollutant, c: np.ndarray, averaging: str, editions: np.ndarray) -> np.ndarray:
    out = np.full(len(c), np.nan)
    for ed in S.EDITIONS:
        m = editions == ed
        if m.any():
            out[m] = _iaqi_array(pollutant, c[m], averaging, ed)
    return out


# ------------------------------------------------------------------------------------------------
# Categories and primary pollutants
# ------------------------------------------------------------------------------------------------


def _primary(iaqis: dict[str, np.ndarray], aqi: np.ndarray) -> np.ndarray:
    """``;``-joined codes of every pollutant whose IAQI equals the AQI, when AQI > 50 (HJ 633 §4.4.2)."""
    n = len(aqi)
    out = np.full(n, "", dtype=object)
    has = aqi > 50
    for code in sorted(iaqis):  # canonical codes, sorted: ties are listed in a stable order
        hit = has & (iaqis[code] == aqi)
        if hit.any():
            out[hit] = np.where(out[hit] == "", code, out[hit] + ";" + code)
    return out


def _missing(values: dict[str, np.ndarray]) -> np.ndarray:
    out = np.full(len(next(iter(values.values()))), "", dtype=object)
    for code in POLLUTANTS:
        miss = np.isnan(values[code])
        if miss.any():
            out[miss] = np.where(out[miss] == "", code, out[miss] + ";" + code)
    return out


def _finish(frame: pd.DataFrame, iaqis: dict[str, np.ndarray], editions: np.ndarray) -> pd.DataFrame:
    stacked = np.vstack(list(iaqis.values()))
    all_nan = np.isnan(stacked).all(axis=0)
    aqi = np.where(all_nan, np.nan, np.nanmax(np.where(np.isnan(stacked), -1, stacked), axis=0))
    out = frame.copy()
    for code, v in iaqis.items():
        out[f"iaqi_{code}"] = v
    out["aqi"] = aqi
    out["primary_pollutants"] = _primary(iaqis, aqi)
    out["level"] = category_level(aqi)
    out["category"] = category(aqi)
    out["edition"] = editions
    return out


# ------------------------------------------------------------------------------------------------
# Hourly AQI
# ------------------------------------------------------------------------------------------------


def hourly_aqi(frame: pd.DataFrame, *, edition: str = "auto", method: str = "cnemc") -> pd.DataFrame:
    """Hourly (real-time, 实时报) AQI of a canonical hourly frame.

    Parameters
    ----------
    frame : DataFrame
        Canonical hourly frame: ``station``, ``time`` (tz-aware, Beijing, hour-ending) and the 1-h
        means ``pm25 pm10 so2 no2 o3`` [µg/m³] and ``co`` [mg/m³]. Jurisdiction means from
        :func:`regionair.core.region.aggregate` are accepted too (average first, then score — HJ 633-2026
        §4.2.1).
    edition : {"auto", "2012", "2026"}
        ``"auto"`` picks per row by natural day (module docstring).
    method : {"cnemc", "hj633-2012-literal"}
        See the module docstring.

    Returns
    -------
    DataFrame
        The input with ``iaqi_pm25 … iaqi_o3`` (and ``iaqi_o3_8h`` for the literal method), ``aqi``,
        ``primary_pollutants`` (canonical codes, sorted, ``;``-joined, empty when AQI ≤ 50),
        ``level`` (1–6, 0 = no AQI), ``category`` (zh), ``missing`` (``;``-joined pollutants without a
        valid 1-h value), ``complete`` (all six present) and ``edition``. The AQI is the maximum over
        the IAQIs that could be computed; use :func:`publication_aqi` for HJ 633-2026 §5.3.

    Raises
    ------
    InputError
        Unknown edition/method or missing columns.

    References
    ----------
    HJ 633-2012 §4.4, §5.1.3, Table 4; HJ 633-2026 §4.2.3–4.2.6, §4.3; standards.md §2.4, §2.8.
    """
    if method not in HOURLY_METHODS:
        raise InputError(f"unknown hourly method {method!r}; choose one of {', '.join(HOURLY_METHODS)}")
    missing_cols = [c for c in ("time", *POLLUTANTS) if c not in frame.columns]
    if missing_cols:
        raise InputError(f"frame lacks column(s) {', '.join(missing_cols)}")
    if method == "cnemc":
        _check_edition(edition)
        fast = _hourly_fast(frame, edition)
        if fast is not None:
            return fast
    editions = _row_editions(frame, edition)
    vals = {p: frame[p].to_numpy(dtype="float64", na_value=np.nan) for p in POLLUTANTS}
    iaqis: dict[str, np.ndarray] = {}
    literal = method == "hj633-2012-literal"
    lit_rows = literal & (editions == "2012") if literal else np.zeros(len(frame), dtype=bool)
    moving = None
    if literal or (vals["so2"] > S.SO2_1H_TOP).any():
        moving = moving_means(frame)
    for p in ("pm25", "pm10"):
        iaqis[p] = _iaqi_by_edition(p, vals[p], "24h", editions)
        if lit_rows.any():
            pm24 = moving[f"{p}_24h"].to_numpy(dtype="float64", na_value=np.nan)
            iaqis[p][lit_rows] = _iaqi_array(p, pm24[lit_rows], "24h", "2012")
    iaqis["so2"] = _iaqi_by_edition("so2", vals["so2"], "1h", editions)
    sub = (editions == "2012") & (vals["so2"] > S.SO2_1H_TOP)
    if sub.any():  # HJ 633-2012 Table 1 note 2: report the SO2 IAQI of the 24-h mean instead
        so2_24 = moving["so2_24h"].to_numpy(dtype="float64", na_value=np.nan)
        iaqis["so2"][sub] = _iaqi_array("so2", so2_24[sub], "24h", "2012")
    iaqis["no2"] = _iaqi_by_edition("no2", vals["no2"], "1h", editions)
    iaqis["co"] = _iaqi_by_edition("co", vals["co"], "1h", editions)
    iaqis["o3"] = _iaqi_by_edition("o3", vals["o3"], "1h", editions)
    if literal:
        o3_8h = moving["o3_8h"].to_numpy(dtype="float64", na_value=np.nan)
        v = np.full(len(frame), np.nan)
        v[lit_rows] = _iaqi_array("o3", o3_8h[lit_rows], "8h", "2012")  # > 800 → NaN: O3 1-h used (note 3)
        iaqis["o3_8h"] = v
    out = _finish(frame, iaqis, editions)
    out["missing"] = _missing(vals)
    out["complete"] = out["missing"] == ""
    return out


def _labels(values) -> pa.Array:
    """Arrow string table of labels, indexed by the kernel's integer codes."""
    return pa.array([str(v) for v in values], pa.large_string())


#: pandas' default string dtype (what assigning Python strings to a column gives).
_STR = pd.StringDtype("pyarrow", na_value=np.nan)
_LABELS: dict[str, pa.Array] = {}


def _label_column(table: str, codes: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """``labels[codes]`` as a string column, gathered in Arrow (no Python object per row)."""

    labels = _LABELS.get(table)
    if labels is None:
        labels = _LABELS[table] = _labels(
            {"primary": K.PRIMARY_LABELS, "missing": K.MISSING_LABELS, "edition": S.EDITIONS,
             "category": [""] + [c["name_zh"] for c in S.CATEGORIES]}[table]
        )
    if not len(codes):  # as the reference path: an empty column of objects
        return np.empty(0, dtype=object)
    return pd.array(labels.take(pa.array(codes)), dtype=_STR)


def _hourly_fast(frame: pd.DataFrame, edition: str) -> pd.DataFrame | None:
    """``hourly_aqi(method="cnemc")`` through the fused kernel (:mod:`regionair.core.aqi_kernel`); identical
    output. None when the kernel is unavailable or a 2012 SO2 1-h value exceeds 800 µg/m³ (the 24-h
    substitution of HJ 633-2012 Table 1 note 2 stays on the reference path).

    The label columns (primary pollutants, category, edition, missing) are gathered from small label
    tables by the kernel's integer codes in Arrow, so no Python string is created per row; the input
    columns are shared with the result, not copied (pandas copy-on-write)."""

    if not K.AVAILABLE:
        return None
    codes = K.edition_codes(frame, edition)
    vals = [frame[p].to_numpy(dtype="float64", na_value=np.nan) for p in POLLUTANTS]
    r = K.hourly_arrays(*vals, codes)
    if r["so2_fallback"].any():
        return None
    cols: dict[str, object] = {f"iaqi_{code}": r["iaqi"][j] for j, code in enumerate(POLLUTANTS)}
    cols["aqi"] = r["aqi"]
    cols["primary_pollutants"] = _label_column("primary", r["primary"])
    cols["level"] = r["level"].astype(np.int64)
    cols["category"] = _label_column("category", r["level"])
    cols["edition"] = _label_column("edition", codes)
    cols["missing"] = _label_column("missing", r["missing"])
    cols["complete"] = r["missing"] == 0
    return frame.assign(**cols)


def publication_aqi(result: pd.DataFrame) -> pd.Series:
    """AQI as HJ 633-2026 §5.3.1 allows it to be published when inputs are missing.

    With every pollutant valid the AQI is published. If any is missing (``missing`` non-empty, not
    counting pollutants listed in an optional ``not_monitored`` column — §5.3.2 "/"), the AQI computed
    from the rest is published only when it is > 100; otherwise NA.

    Parameters
    ----------
    result : DataFrame from :func:`hourly_aqi` or :func:`daily_aqi`.

    Returns
    -------
    Series of float — the publishable AQI, NaN where it must be shown as NA.
    """
    missing = result["missing"].fillna("").str.split(";")
    if "not_monitored" in result.columns:
        nm = result["not_monitored"].fillna("").str.split(";")
        blocking = [bool(set(m) - set(n) - {""}) for m, n in zip(missing, nm, strict=True)]
        blocking = np.asarray(blocking, dtype=bool)
    else:
        blocking = (result["missing"].fillna("") != "").to_numpy()
    aqi = result["aqi"].to_numpy(dtype="float64")
    return pd.Series(np.where(blocking & ~(aqi > 100), np.nan, aqi), index=result.index, name="aqi_published")


def exceedance_pollutants(result: pd.DataFrame) -> pd.Series:
    """Pollutants with IAQI > 100 (超标污染物, HJ 633-2012 §3.4).

    HJ 633-2026 removed the definition; for 2026 rows the column is still derived (IAQI > 100 equals
    exceeding the transition grade II limit) — label it as derived when showing it.
    """
    cols = [c for c in result.columns if c.startswith("iaqi_")]
    out = np.full(len(result), "", dtype=object)
    for c in sorted(cols):
        hit = (result[c] > 100).to_numpy()
        code = c.removeprefix("iaqi_")
        out[hit] = np.where(out[hit] == "", code, out[hit] + ";" + code)
    return pd.Series(out, index=result.index, name="exceedance_pollutants")


# ------------------------------------------------------------------------------------------------
# Daily AQI
# ------------------------------------------------------------------------------------------------


def daily_aqi(frame: pd.DataFrame, *, edition: str = "auto") -> pd.DataFrame:
    """Daily AQI (日报) per station and natural day.

    Parameters
    ----------
    frame : DataFrame
        Canonical hourly frame (see :func:`hourly_aqi`), or a daily frame already produced by
        :func:`regionair.core.averaging.daily_means` (recognised by its ``date`` column).
    edition : {"auto", "2012", "2026"}

    Returns
    -------
    DataFrame, one row per station and day: ``station``, ``date``, daily indicators ``pm25 pm10 so2
    no2 co`` (daily means [µg/m³; CO mg/m³]), ``o3_8h`` (MDA8 [µg/m³]), ``o3`` (daily max 1-h
    [µg/m³], scored only under 2012), ``n_<p>`` valid counts, the IAQIs, ``aqi``,
    ``primary_pollutants`` (``o3_8h`` = MDA8, ``o3`` = O3 daily max 1-h), ``level``, ``category``,
    ``missing`` (indicators without a valid value), ``complete``, ``edition``.

    Notes
    -----
    2012 (HJ 633-2012 §5.1.2): seven indicators — 24-h SO2, NO2, CO, PM10, PM2.5, O3 daily max 1-h (1-h
    breakpoints), MDA8 (8-h breakpoints; > 800 µg/m³ → not computed, the O3 1-h IAQI stands, note 3).
    2026 (HJ 633-2026 §4.2.2): six — the daily means and MDA8 (> 800 → IAQI 300, note c); the daily
    concentrations are rounded per GB/T 8170 first. Validity per GB 3095 Table 4 / HJ 663 §6.1.2
    (see :func:`regionair.core.averaging.daily_means`).
    """
    daily = frame if "date" in frame.columns else daily_means(frame)
    editions = _row_editions(daily, edition, day_col="date")
    iaqis: dict[str, np.ndarray] = {}
    vals = {p: daily[p].to_numpy(dtype="float64", na_value=np.nan) for p in ("pm25", "pm10", "so2", "no2", "co")}
    for p, v in vals.items():
        iaqis[p] = _iaqi_by_edition(p, v, "24h", editions)
    mda8 = daily["o3_8h"].to_numpy(dtype="float64", na_value=np.nan)
    iaqis["o3_8h"] = _iaqi_by_edition("o3", mda8, "8h", editions)
    o3max = daily["o3"].to_numpy(dtype="float64", na_value=np.nan)
    o3_1h = np.full(len(daily), np.nan)
    m2012 = editions == "2012"
    o3_1h[m2012] = _iaqi_array("o3", o3max[m2012], "1h", "2012")
    iaqis["o3"] = o3_1h
    out = _finish(daily, iaqis, editions)
    indicators = {**vals, "o3_8h": mda8}
    miss = np.full(len(daily), "", dtype=object)
    for code, v in indicators.items():
        m = np.isnan(v)
        miss[m] = np.where(miss[m] == "", code, miss[m] + ";" + code)
    out["missing"] = miss
    out["complete"] = miss == ""
    return out
