"""Primary pollutants (首要污染物) and exceedance pollutants (超标污染物) over time and groups.

Input is the output of :func:`regionair.core.aqi.hourly_aqi` or :func:`regionair.core.aqi.daily_aqi` (for
stations or for area units). A primary pollutant exists only when AQI > 50; when several pollutants
share the maximum IAQI (after rounding up) all of them are primary — "并列" (HJ 633-2012 §3.3, §4.4.2;
HJ 633-2026 §3.3, §4.3.1). Codes are canonical (``o3`` = O3 1-h, or the O3 daily max 1-h in a 2012
daily report; ``o3_8h`` = MDA8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regionair.analysis._common import check_choice, check_columns, explode_codes, to_beijing
from regionair.core import aqi
from regionair.core.nomenclature import beijing_time

FREQS = (None, "M", "Q", "Y")
UNITS = ("hour", "day")


def _n_codes(primary: pd.Series) -> np.ndarray:
    """Number of ``;``-joined codes in each cell (0 for empty)."""
    p = primary.fillna("").astype(str)
    return np.where(p == "", 0, p.str.count(";").to_numpy() + 1)


def _pollutants(result: pd.DataFrame) -> list[str]:
    return [c.removeprefix("iaqi_") for c in result.columns if c.startswith("iaqi_")]


def _period(result: pd.DataFrame, unit: str, freq: str | None) -> pd.Series | None:
    """Period label (``"2022-01"``, ``"2022Q1"``, ``"2022"``) of each row's natural day."""
    if freq is None:
        return None
    if unit == "day":
        days = pd.to_datetime(pd.Series(result["date"]).astype(str))
    else:
        days = to_beijing(result["time"]).dt.tz_localize(None) - pd.Timedelta(hours=1)
    return pd.Series(pd.PeriodIndex(days, freq=freq).astype(str), index=result.index)


def _keys(result: pd.DataFrame, by, unit: str, freq: str | None) -> tuple[pd.DataFrame, list[str]]:
    check_choice("unit", unit, UNITS)
    check_choice("freq", freq, FREQS)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    check_columns(result, (*by_cols, "date" if unit == "day" else "time", "aqi", "primary_pollutants"), "result")
    keys = pd.DataFrame({c: result[c].to_numpy() for c in by_cols}, index=result.index)
    period = _period(result, unit, freq)
    if period is not None:
        keys["period"] = period
    return keys, list(keys.columns)


def primary_shares(result: pd.DataFrame, by: str | None = "station", freq: str | None = None,
                   unit: str = "hour") -> pd.DataFrame:
    """Share of hours or days on which each pollutant was primary.

    Parameters
    ----------
    result : DataFrame
        :func:`regionair.core.aqi.hourly_aqi` output (``unit="hour"``, needs ``time``) or
        :func:`regionair.core.aqi.daily_aqi` output (``unit="day"``, needs ``date``).
    by : str, list or None
        Grouping column(s); None pools all rows.
    freq : {None, "M", "Q", "Y"}
        Split into calendar months/quarters/years of the natural day (column ``period``).
    unit : {"hour", "day"}

    Returns
    -------
    DataFrame
        One row per group, period and pollutant (every pollutant with an IAQI column, zero counts
        included): ``by``, ``period``, ``pollutant``, ``count`` (hours/days on which it was primary),
        ``n`` (hours/days with AQI > 50 in the group — the denominator), ``share`` = 100·count/n [%],
        ``n_ties`` (of those, how many it shared with another pollutant).

    Notes
    -----
    Only hours/days with AQI > 50 have a primary pollutant (HJ 633 §4.4.2), so shares are of the
    *non-excellent* hours/days. A tie counts for **each** tied pollutant, so shares in a group can sum
    to more than 100 %; ``n_ties`` shows how much. A group without any AQI > 50 has ``n = 0`` and
    ``share`` NaN.
    """
    result = result.reset_index(drop=True)
    keys, key_cols = _keys(result, by, unit, freq)
    pols = _pollutants(result)
    has = (result["aqi"] > 50).to_numpy()
    denom = keys.loc[has].groupby(key_cols, sort=True).size() if key_cols else pd.Series([has.sum()])
    codes = explode_codes(result.loc[has, "primary_pollutants"])
    n_codes = _n_codes(result["primary_pollutants"])
    ex = keys.loc[codes.index].assign(pollutant=codes.to_numpy(), tie=n_codes[codes.index] > 1)
    g = ex.groupby(key_cols + ["pollutant"], sort=True) if key_cols else ex.groupby("pollutant")
    counts = pd.DataFrame({"count": g.size(), "n_ties": g["tie"].sum()})
    all_groups = keys.drop_duplicates().sort_values(key_cols) if key_cols else pd.DataFrame(index=[0])
    grid = all_groups.merge(pd.DataFrame({"pollutant": pols}), how="cross")
    out = grid.merge(counts.reset_index(), on=key_cols + ["pollutant"], how="left")
    out[["count", "n_ties"]] = out[["count", "n_ties"]].fillna(0).astype(int)
    if key_cols:
        n = denom.rename("n").reset_index()
        out = out.merge(n, on=key_cols, how="left")
    else:
        out["n"] = int(has.sum())
    out["n"] = out["n"].fillna(0).astype(int)
    out["share"] = np.where(out["n"] > 0, 100.0 * out["count"] / out["n"].where(out["n"] > 0, 1), np.nan)
    return out[key_cols + ["pollutant", "count", "n", "share", "n_ties"]]


def exceedance_days(daily_result: pd.DataFrame, by: str | None = "station", freq: str | None = None) -> pd.DataFrame:
    """Days on which each pollutant's daily IAQI exceeded 100 (超标污染物 days).

    Parameters
    ----------
    daily_result : DataFrame — :func:`regionair.core.aqi.daily_aqi` output.
    by : str, list or None — grouping column(s).
    freq : {None, "M", "Q", "Y"} — split by calendar period (column ``period``).

    Returns
    -------
    DataFrame
        One row per group, period and pollutant: ``by``, ``period``, ``pollutant``,
        ``exceedance_days`` (days with IAQI > 100), ``n_days`` (days with a valid AQI), ``share`` [%]
        and ``derived`` (True when any of the days falls under HJ 633-2026, which removed the
        definition of 超标污染物 — label the figure "derived: IAQI > 100").

    Notes
    -----
    HJ 633-2012 §3.4: a pollutant whose IAQI > 100 is an exceedance pollutant. Under the 2026 tables
    IAQI > 100 still marks a concentration above the GB 3095-2026 transition grade II limit, so the
    count stays meaningful; see :func:`regionair.core.aqi.exceedance_pollutants`.
    """
    daily_result = daily_result.reset_index(drop=True)
    keys, key_cols = _keys(daily_result, by, "day", freq)
    pols = _pollutants(daily_result)
    exc = aqi.exceedance_pollutants(daily_result)
    codes = explode_codes(exc)
    ex = keys.loc[codes.index].assign(pollutant=codes.to_numpy())
    counts = (ex.groupby(key_cols + ["pollutant"]).size() if key_cols else ex.groupby("pollutant").size())
    counts = counts.rename("exceedance_days").reset_index()
    valid = daily_result["aqi"].notna()
    derived = (daily_result["edition"] == "2026") if "edition" in daily_result else pd.Series(False, index=keys.index)
    if key_cols:
        base = keys.assign(_valid=valid.to_numpy(), _d=derived.to_numpy()).groupby(key_cols, sort=True)
        base = pd.DataFrame({"n_days": base["_valid"].sum(), "derived": base["_d"].any()}).reset_index()
    else:
        base = pd.DataFrame({"n_days": [int(valid.sum())], "derived": [bool(derived.any())]})
    out = base.merge(pd.DataFrame({"pollutant": pols}), how="cross")
    out = out.merge(counts, on=key_cols + ["pollutant"], how="left")
    out["exceedance_days"] = out["exceedance_days"].fillna(0).astype(int)
    out["n_days"] = out["n_days"].astype(int)
    out["share"] = np.where(out["n_days"] > 0, 100.0 * out["exceedance_days"] / out["n_days"].clip(lower=1), np.nan)
    return out[key_cols + ["pollutant", "exceedance_days", "n_days", "share", "derived"]]


def tie_hours(result: pd.DataFrame) -> pd.DataFrame:
    """Rows (hours or days) with more than one primary pollutant (并列首要污染物).

    Returns the rows of ``result`` whose ``primary_pollutants`` lists ≥ 2 codes, with ``n_primary``
    (number of tied pollutants) added; index kept.
    """
    check_columns(result, ("primary_pollutants",), "result")
    n = _n_codes(result["primary_pollutants"])
    return result.loc[n >= 2].assign(n_primary=n[n >= 2])


def primary_through_episode(result_unit_hourly: pd.DataFrame, start, end, by: str = "station") -> pd.DataFrame:
    """Primary pollutant(s) of every hour in a window — the table behind a stacked chart.

    Parameters
    ----------
    result_unit_hourly : DataFrame — :func:`regionair.core.aqi.hourly_aqi` output of a unit (or station) frame.
    start, end : Timestamp or str — window, inclusive (Beijing, hour-ending; naive = Beijing).
    by : str — unit column.

    Returns
    -------
    DataFrame
        One row per unit, hour and primary pollutant: ``by``, ``time``, ``aqi``, ``category``,
        ``pollutant`` (canonical code; ``"none"`` when AQI ≤ 50, ``"missing"`` without AQI), ``iaqi``
        (that pollutant's IAQI), ``n_primary`` and ``weight`` = 1/n_primary, so that the weights of an
        hour sum to 1 when stacking.
    """
    check_columns(result_unit_hourly, (by, "time", "aqi", "primary_pollutants"), "result")
    t = to_beijing(result_unit_hourly["time"])
    win = result_unit_hourly.loc[(t >= beijing_time(start, "start")) & (t <= beijing_time(end, "end"))].reset_index(drop=True)
    prim = win["primary_pollutants"].fillna("").astype(str)
    prim = prim.where(prim != "", np.where(win["aqi"].notna(), "none", "missing"))
    codes = prim.str.split(";").explode()
    out = win.loc[codes.index, [by, "time", "aqi", "category"]].copy()
    out["pollutant"] = codes.to_numpy()
    iaqi = np.full(len(out), np.nan)
    for p in _pollutants(win):
        m = (out["pollutant"] == p).to_numpy()
        iaqi[m] = win.loc[codes.index[m], f"iaqi_{p}"].to_numpy()
    out["iaqi"] = iaqi
    out["n_primary"] = out.groupby(level=0)["pollutant"].transform("size").to_numpy()  # index = window row
    out["weight"] = 1.0 / out["n_primary"]
    return out.sort_values([by, "time", "pollutant"], kind="stable").reset_index(drop=True)
