"""Ranking of area units by the composite index, with data-capture validity and compliance.

Input is :func:`regionair.core.aqi.daily_aqi` output for area units (aggregate the hourly frame with
:func:`regionair.core.region.aggregate` first) — a "unit daily result". Statistics follow HJ 663
(:func:`regionair.core.averaging.period_stats`, :func:`regionair.core.averaging.composite_index`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math

import numpy as np
import pandas as pd

from regionair.analysis._common import check_columns, unit_catalogue
from regionair.core import standards as S
from regionair.core.averaging import composite_index, period_stats
from regionair.errors import InputError

STAT_POLLUTANTS = ("so2", "no2", "pm10", "pm25", "co", "o3_8h")
_LIMIT_KEY = {"so2": ("so2", "24h"), "no2": ("no2", "24h"), "pm10": ("pm10", "24h"), "pm25": ("pm25", "24h"),
              "co": ("co", "24h"), "o3_8h": ("o3", "8h")}


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(pd.Series(s).astype(str)).dt.date


def _as_date(x) -> dt.date:
    return pd.Timestamp(x).date()


def _month_requirements(start: dt.date, end: dt.date) -> pd.DataFrame:
    """Valid days required per calendar month of the period (GB 3095 Table 4, pro rata for part months)."""
    rows = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        n_month = calendar.monthrange(y, m)[1]
        first = max(start, dt.date(y, m, 1))
        last = min(end, dt.date(y, m, n_month))
        covered = (last - first).days + 1
        full = S.MIN_DAYS_FEBRUARY if m == 2 else S.MIN_DAYS_MONTH
        rows.append({"month": f"{y:04d}-{m:02d}", "covered": covered,
                     "required": full if covered == n_month else math.ceil(full * covered / n_month - 1e-9)})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return pd.DataFrame(rows)


def _validity(d: pd.DataFrame, by: str, start: dt.date, end: dt.date, groups) -> pd.DataFrame:
    cols = [p for p in STAT_POLLUTANTS if p in d.columns]
    req = _month_requirements(start, end)
    month = pd.to_datetime(pd.Series(d["date"]).astype(str)).dt.strftime("%Y-%m")
    counts = d.assign(month=month.to_numpy()).groupby([by, "month"])[cols].count()
    annual = start == dt.date(start.year, 1, 1) and end == dt.date(start.year, 12, 31)
    out = []
    for gid in groups:
        c = counts.loc[gid] if gid in counts.index.get_level_values(0) else pd.DataFrame(columns=cols)
        c = c.reindex(req["month"]).fillna(0).astype(int)
        worst = c.min(axis=1)
        binding = c.idxmin(axis=1) if len(cols) else pd.Series("", index=c.index)
        reasons = [f"{mo}: {int(worst[mo])} valid days ({binding[mo]}) < {r} required"
                   for mo, r in zip(req["month"], req["required"]) if worst[mo] < r]
        total = c.sum(axis=0).min() if len(cols) else 0
        if annual and total < S.MIN_DAYS_ANNUAL:
            reasons.insert(0, f"{int(total)} valid days < {S.MIN_DAYS_ANNUAL} required for an annual statistic")
        out.append({by: gid, "n_valid_days": int(total), "valid_statistic": not reasons,
                    "validity_reason": "; ".join(reasons)})
    res = pd.DataFrame(out)
    res["validity_rule"] = "annual: ≥324 days, ≥27 per month (Feb ≥25)" if annual else \
        "per month ≥27 valid days (Feb ≥25), pro rata for part months"
    return res


def _period_table(d: pd.DataFrame, by: str, start: dt.date, end: dt.date, basis: str) -> pd.DataFrame:
    stats = composite_index(period_stats(d, by=by), basis=basis)
    a = d["aqi"]
    extra = d.assign(_exc=(a > 100).to_numpy(), _heavy=(a > 200).to_numpy()).groupby(by)[["_exc", "_heavy"]].sum()
    stats["exceedance_days"] = stats[by].map(extra["_exc"]).fillna(0).astype(int)
    stats["heavy_days"] = stats[by].map(extra["_heavy"]).fillna(0).astype(int)
    val = _validity(d, by, start, end, stats[by].tolist())
    stats = stats.merge(val, on=by, how="left")
    stats["days_in_period"] = (end - start).days + 1
    stats["capture"] = 100.0 * stats["n_valid_days"] / stats["days_in_period"]
    stats.insert(1, "start", start)
    stats.insert(2, "end", end)
    return stats


def _select(daily: pd.DataFrame, start, end) -> tuple[pd.DataFrame, dt.date, dt.date]:
    d = daily.copy()
    d["date"] = _dates(d["date"])
    valid = d.loc[d["aqi"].notna(), "date"]
    if start is None or end is None:
        if valid.empty:
            raise InputError("no day with a valid AQI; pass start= and end=", column="start")
    start = _as_date(start) if start is not None else valid.min()
    end = _as_date(end) if end is not None else valid.max()
    if end < start:
        raise InputError(f"end={end} is before start={start}", column="end")
    return d.loc[(d["date"] >= start) & (d["date"] <= end)], start, end


def ranking(unit_daily_result: pd.DataFrame, start=None, end=None, basis: str = "HJ663-2013",
            previous: pd.DataFrame | None = None, by: str = "station") -> pd.DataFrame:
    """Rank units by the composite index over a period, with validity and change vs a previous period.

    Parameters
    ----------
    unit_daily_result : DataFrame
        :func:`regionair.core.aqi.daily_aqi` output of unit frames: ``by``, ``date``, daily ``pm25 pm10 so2
        no2`` [µg/m³], ``co`` [mg/m³], ``o3_8h`` [µg/m³], ``aqi``.
    start, end : date or str, optional
        Period (natural days, inclusive). Default: first and last day with a valid AQI.
    basis : str
        Composite-index basis, a key of :data:`regionair.core.standards.COMPOSITE_BASES` (``"HJ663-2013"``;
        ``"HJ663-2026-unverified"`` is not verified — label it).
    previous : DataFrame, optional
        Unit daily result for the comparison period (usually the same period a year earlier). When
        ``start``/``end`` are given the same dates one year earlier are used from it; otherwise its
        whole valid range.
    by : str
        Unit column.

    Returns
    -------
    DataFrame
        One row per unit, sorted by ``composite_rank``: ``by``, ``start``, ``end``, ``name_zh``,
        ``name_en`` (catalogue), HJ 663 statistics of :func:`regionair.core.averaging.period_stats` (``<p>_mean``
        [µg/m³; CO mg/m³], percentiles ``so2_p98 no2_p98 pm10_p95 pm25_p95 co_p95 o3_8h_p90``,
        ``n_days_<p>``, ``n_days``, ``good_days``, ``good_share`` [%], ``days_level_1…6``), single
        indices ``index_<p>``, ``composite_index`` (dimensionless, lower is better),
        ``composite_rank`` (1 = best, among units with an index), ``composite_basis``,
        ``basis_label``, ``basis_verified``, ``exceedance_days`` (AQI > 100), ``heavy_days``
        (AQI > 200), ``n_valid_days`` (the smallest count of valid daily values over the six
        pollutants), ``days_in_period``, ``capture`` [%] = n_valid_days / days_in_period,
        ``valid_statistic`` (bool), ``validity_reason``, ``validity_rule``; with ``previous``:
        ``prev_<m>``, ``<m>_change`` and ``<m>_change_pct`` [%] for ``composite_index``,
        ``pm25_mean``, ``exceedance_days``, and ``good_share_change`` [percentage points].

    Notes
    -----
    ``I_sum = Σ C_i / S_i`` (HJ 663; MEE 城市环境空气质量排名技术规定, 环办〔2014〕64号): SO2, NO2, PM10,
    PM2.5 period means over the annual grade II limits, CO p95 of daily means over 4 mg/m³, O3 MDA8 p90
    over 160 µg/m³ (standards.md §4.3).

    Validity (GB 3095 Table 4): a period that is one calendar year needs ≥ 324 valid daily values and
    ≥ 27 in every month (February ≥ 25). For any other period, RegionAir applies the monthly rule
    pro rata: each calendar month touched needs ≥ ceil(27 × covered days / days in the month) valid
    days (February: 25), the full 27/25 for a whole month. Counts are per pollutant; the binding
    (smallest) count decides. An invalid statistic is still computed — flag it, don't rank on it in
    official material.
    """
    check_columns(unit_daily_result, (by, "date", "aqi", *STAT_POLLUTANTS), "unit_daily_result")
    if basis not in S.COMPOSITE_BASES:
        raise InputError(f"basis={basis!r}; valid: {', '.join(S.COMPOSITE_BASES)}", column="basis")
    d, start_d, end_d = _select(unit_daily_result, start, end)
    out = _period_table(d, by, start_d, end_d, basis)
    b = S.COMPOSITE_BASES[basis]
    out["basis_label"] = b["label_en"]
    out["basis_verified"] = b["verified"]
    cat = unit_catalogue()
    out.insert(3, "name_zh", out[by].map(cat["name_zh"]).fillna(""))
    out.insert(4, "name_en", out[by].map(cat["name_en"]).fillna(""))
    if previous is not None:
        check_columns(previous, (by, "date", "aqi", *STAT_POLLUTANTS), "previous")
        if start is not None and end is not None:
            p_start = (pd.Timestamp(start_d) - pd.DateOffset(years=1)).date()
            p_end = (pd.Timestamp(end_d) - pd.DateOffset(years=1)).date()
        else:
            p_start = p_end = None
        pd_, ps, pe = _select(previous, p_start, p_end)
        prev = _period_table(pd_, by, ps, pe, basis).set_index(by)
        for m in ("composite_index", "pm25_mean", "exceedance_days", "good_share"):
            out[f"prev_{m}"] = out[by].map(prev[m])
            out[f"{m}_change"] = out[m] - out[f"prev_{m}"]
            if m != "good_share":
                with np.errstate(divide="ignore", invalid="ignore"):
                    out[f"{m}_change_pct"] = np.where(out[f"prev_{m}"] != 0,
                                                      100.0 * out[f"{m}_change"] / out[f"prev_{m}"], np.nan)
        out["prev_start"], out["prev_end"] = ps, pe
    return out.sort_values(["composite_rank", by], na_position="last", kind="stable").reset_index(drop=True)


def compliance(stats: pd.DataFrame, basis: str | None = None, grade: str = "II", by: str = "station") -> pd.DataFrame:
    """Compare period statistics with the GB 3095 limits, per unit and pollutant.

    Parameters
    ----------
    stats : DataFrame — :func:`ranking` or :func:`regionair.core.averaging.period_stats` output.
    basis : str, optional
        Limit basis, a key of :data:`regionair.core.standards.LIMITS`; pick it with
        :func:`regionair.core.standards.limit_basis` for the period's end day. Default: derived from the
        ``end`` column when present.
    grade : {"I", "II"}
    by : str — unit column.

    Returns
    -------
    DataFrame
        One row per unit and pollutant: ``by``, ``pollutant``, ``mean`` (period mean; none for CO and
        O3), ``mean_limit`` (annual limit), ``percentile`` (e.g. ``"p95"``), ``percentile_value``,
        ``percentile_limit`` (24-h / daily limit; O3: MDA8 limit), ``mean_ok``, ``percentile_ok``,
        ``compliant`` (both at or below their limits; NA when a statistic is missing), ``basis``,
        ``grade``, ``valid_statistic`` (if in ``stats``) and ``label``. Units: µg/m³, CO mg/m³.

    Notes
    -----
    HJ 663 annual evaluation: a pollutant meets the standard when its annual mean (where one is defined)
    and its percentile statistic (SO2/NO2 p98, PM10/PM2.5/CO p95 of daily means, O3 p90 of MDA8)
    are at or below the annual and 24-h (MDA8) limits (standards.md §4.1; background knowledge of HJ 663
    §5, not re-read). For a period shorter than a calendar year this is an *evaluation over the
    selected period*, not an official annual assessment. Statistics are compared unrounded
    (HJ 663's rounding of reported statistics is not applied — [UNCERTAIN]).
    """
    if basis is None:
        if "end" not in stats.columns:
            raise InputError("basis not given and stats has no 'end' column; pass "
                             "basis=standards.limit_basis(end_day)", column="basis")
        basis = S.limit_basis(_as_date(pd.Series(stats["end"]).max()))
    if basis not in S.LIMITS:
        raise InputError(f"basis={basis!r}; valid: {', '.join(S.LIMITS)}", column="basis")
    if grade not in S.LIMITS[basis]:
        raise InputError(f"grade={grade!r}; valid: {', '.join(S.LIMITS[basis])}", column="grade")
    check_columns(stats, (by,), "stats")
    limits = S.LIMITS[basis][grade]
    if {"start", "end"} <= set(stats.columns):
        period = f"{pd.Series(stats['start']).min()} – {pd.Series(stats['end']).max()}"
        label = f"Evaluation over the selected period {period} ({basis}, grade {grade})"
    else:
        label = f"Evaluation over the selected period ({basis}, grade {grade})"
    parts = []
    for p in STAT_POLLUTANTS:
        q = S.EVAL_PERCENTILES[p]
        lim_p, avg = _LIMIT_KEY[p]
        part = pd.DataFrame({by: stats[by].to_numpy(), "pollutant": p})
        annual = limits[lim_p].get("annual") if p != "o3_8h" else None
        part["mean"] = stats[f"{p}_mean"].to_numpy(dtype="float64") if annual is not None else np.nan
        part["mean_limit"] = np.nan if annual is None else float(annual)
        part["percentile"] = f"p{q}"
        part["percentile_value"] = stats[f"{p}_p{q}"].to_numpy(dtype="float64")
        part["percentile_limit"] = float(limits[lim_p][avg])
        if "valid_statistic" in stats.columns:
            part["valid_statistic"] = stats["valid_statistic"].to_numpy()
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    mean_ok = pd.array(np.where(out["mean"].isna(), None, out["mean"] <= out["mean_limit"]), dtype="boolean")
    pct_ok = pd.array(np.where(out["percentile_value"].isna(), None, out["percentile_value"] <= out["percentile_limit"]),
                      dtype="boolean")
    has_mean = out["mean_limit"].notna().to_numpy()
    mean_ok[~has_mean] = pd.NA
    out["mean_ok"] = mean_ok
    out["percentile_ok"] = pct_ok
    compliant = pct_ok.copy()
    compliant[has_mean] = pct_ok[has_mean] & mean_ok[has_mean]
    out["compliant"] = compliant
    out["basis"] = basis
    out["grade"] = grade
    out["label"] = label
    return out
