"""Pollution episodes: runs of AQI above a threshold across the region's units, and who crossed first.

Input is :func:`regionair.aqi.daily_aqi` (``resolution="day"``) or :func:`regionair.aqi.hourly_aqi`
(``resolution="hour"``) output for area units (from :func:`regionair.region.aggregate`) or stations.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .. import aqi
from ..errors import InputError
from ._common import check_choice, check_columns, explode_codes, to_beijing

RESOLUTIONS = ("day", "hour")
DEFAULT_MIN_DURATION = {"day": 1, "hour": 6}
_STEP = {"day": pd.Timedelta(days=1), "hour": pd.Timedelta(hours=1)}


class EpisodeResult(NamedTuple):
    """Two tables; unpack as ``episodes, onsets = detect_episodes(...)``."""

    episodes: pd.DataFrame
    onsets: pd.DataFrame


def _ns(t: pd.Series) -> np.ndarray:
    """Time stamps as int64 nanoseconds (for searchsorted)."""
    return pd.DatetimeIndex(t).as_unit("ns").asi8


def _mode_per_episode(exc: pd.DataFrame) -> pd.Series:
    """Per episode: ``;``-joined most frequent primary pollutant code(s) (all sharing the top count, sorted)."""
    codes = explode_codes(exc["primary_pollutants"])
    if codes.empty:
        return pd.Series(dtype=object)
    pairs = pd.DataFrame({"ep": exc.loc[codes.index, "episode_id"].to_numpy(), "code": codes.to_numpy()})
    n = pairs.value_counts().rename("n").reset_index()
    top = n[n["n"] == n.groupby("ep")["n"].transform("max")].sort_values(["ep", "code"])
    return top.groupby("ep")["code"].agg(";".join)


def _runs(steps: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end step of runs of exceeding steps, merging runs separated by ≤ max_gap other steps."""
    new = np.r_[True, np.diff(steps) - 1 > max_gap]
    return steps[new], steps[np.r_[new[1:], True]]


def detect_episodes(unit_result: pd.DataFrame, threshold: float = 100, resolution: str = "day",
                    max_gap: int = 1, min_duration: int | None = None, by: str | None = None,
                    unit_col: str = "station", onset_levels: tuple[int, ...] = (100, 150, 200)) -> EpisodeResult:
    """Find pollution episodes: periods in which the AQI of any unit (or of one unit) exceeds a threshold.

    Parameters
    ----------
    unit_result : DataFrame
        :func:`regionair.aqi.daily_aqi` output (needs ``date``) or :func:`regionair.aqi.hourly_aqi`
        output (needs ``time``), with ``unit_col``, ``aqi``, ``primary_pollutants``.
    threshold : float
        An hour/day *exceeds* when AQI > threshold (default 100: light pollution or worse, HJ 633
        Table 2/1).
    resolution : {"day", "hour"}
    max_gap : int
        Runs of exceedance separated by at most this many non-exceeding (or missing) days/hours are
        merged into one episode; 0 merges nothing.
    min_duration : int, optional
        Shortest episode kept, as span from first to last exceeding step inclusive [days or hours];
        default 1 day or 6 hours.
    by : str or None
        None: the units are taken together — a step exceeds when **any** unit exceeds. A column name
        (usually ``"station"``): episodes are found per unit.
    unit_col : str
        Column naming the unit.
    onset_levels : tuple of int
        AQI levels whose first crossing (AQI > level) is reported per unit in ``onsets``.

    Returns
    -------
    EpisodeResult
        ``episodes``: ``episode_id`` (1 …, in order of start), ``by`` (if given), ``start``, ``end``
        (first and last exceeding date/hour-ending stamp), ``duration`` (end − start + 1 step [days or
        hours], gaps included), ``n_exceeding`` (steps exceeding), ``resolution``, ``peak_aqi``,
        ``peak_unit``, ``peak_time``, ``peak_category``, ``primary_pollutants`` (the most frequent
        primary pollutant(s) over the unit-steps exceeding the threshold, ties ``;``-joined),
        ``units_affected`` (units exceeding at least once, ``;``-joined in order of first exceedance),
        ``n_units``.
        ``onsets``: ``episode_id``, ``unit``, ``first_<level>`` for each onset level (first
        date/time in the episode with AQI > level; NaT if never) and ``rank`` (1 = first unit to
        exceed the threshold; equal times share a rank).

    Notes
    -----
    Runs are found with a vectorised run-length encoding: the exceeding steps are placed on a regular
    day/hour axis, a new run starts where the distance to the previous exceeding step exceeds
    ``max_gap + 1``. Day stamps are natural days; hour stamps are hour-ending (Beijing).
    """
    check_choice("resolution", resolution, RESOLUTIONS)
    key = "date" if resolution == "day" else "time"
    check_columns(unit_result, (unit_col, key, "aqi", "primary_pollutants") + ((by,) if by else ()), "unit_result")
    if int(max_gap) < 0:
        raise InputError(f"max_gap={max_gap!r}; must be ≥ 0", column="max_gap")
    min_dur = DEFAULT_MIN_DURATION[resolution] if min_duration is None else int(min_duration)
    step = _STEP[resolution]

    d = unit_result.reset_index(drop=True)
    t = (pd.to_datetime(pd.Series(d[key]).astype(str)) if resolution == "day" else to_beijing(d[key]))
    # t.array keeps the tz-aware dtype (to_numpy() would box every stamp as an object)
    d = pd.DataFrame({"unit": d[unit_col].to_numpy(), "t": t.array, "aqi": d["aqi"].to_numpy(dtype="float64"),
                      "primary_pollutants": d["primary_pollutants"].fillna("").astype(str).to_numpy(),
                      "group": d[by].to_numpy() if by else "all"})
    d["exceeds"] = d["aqi"] > threshold

    episodes = []
    for grp, g in d.groupby("group", sort=False):
        ex = g.loc[g["exceeds"]]
        if ex.empty:
            continue
        t0 = ex["t"].min()
        steps = np.unique(((ex["t"] - t0) / step).round().astype(np.int64).to_numpy())
        starts, ends = _runs(steps, int(max_gap))
        keep = ends - starts + 1 >= min_dur
        for s, e in zip(starts[keep], ends[keep]):
            episodes.append({"group": grp, "start": t0 + int(s) * step, "end": t0 + int(e) * step,
                             "duration": int(e - s + 1),
                             "n_exceeding": int(((steps >= s) & (steps <= e)).sum())})
    ep_cols = ["episode_id", *([by] if by else []), "start", "end", "duration", "n_exceeding", "resolution",
               "peak_aqi", "peak_unit", "peak_time", "peak_category", "primary_pollutants", "units_affected",
               "n_units"]
    on_cols = ["episode_id", "unit", *[f"first_{lv}" for lv in onset_levels], "rank"]
    if not episodes:
        return EpisodeResult(pd.DataFrame(columns=ep_cols), pd.DataFrame(columns=on_cols))
    ep = pd.DataFrame(episodes).sort_values(["start", "group"], kind="stable").reset_index(drop=True)
    ep["episode_id"] = np.arange(1, len(ep) + 1)

    # rows inside each episode's window (same group)
    parts = []
    for grp, e in ep.groupby("group", sort=False):
        g = d.loc[d["group"] == grp]
        starts, ends, tg = _ns(e["start"]), _ns(e["end"]), _ns(g["t"])  # episodes sorted, non-overlapping
        i = np.searchsorted(starts, tg, side="right") - 1
        inside = (i >= 0) & (tg <= ends[np.maximum(i, 0)])
        parts.append(g.loc[inside].assign(episode_id=e["episode_id"].to_numpy()[i[inside]]))
    rows = pd.concat(parts)
    peak = rows.loc[rows["aqi"].notna()].sort_values(["episode_id", "aqi", "t"], ascending=[True, False, True])
    peak = peak.drop_duplicates("episode_id").set_index("episode_id")
    exc = rows.loc[rows["exceeds"]]
    primary = _mode_per_episode(exc)
    first = exc.sort_values(["episode_id", "t"], kind="stable").drop_duplicates(["episode_id", "unit"])
    affected = first.assign(unit=first["unit"].astype(str)).groupby("episode_id")["unit"].agg(";".join)

    ep["peak_aqi"] = ep["episode_id"].map(peak["aqi"])
    ep["peak_unit"] = ep["episode_id"].map(peak["unit"])
    ep["peak_time"] = ep["episode_id"].map(peak["t"])
    ep["peak_category"] = aqi.category(ep["peak_aqi"].to_numpy(dtype="float64"))
    ep["primary_pollutants"] = ep["episode_id"].map(primary).fillna("")
    ep["units_affected"] = ep["episode_id"].map(affected).fillna("")
    ep["n_units"] = ep["units_affected"].str.count(";") + (ep["units_affected"] != "").astype(int)
    ep["resolution"] = resolution
    if by:
        ep[by] = ep["group"]

    onsets = first[["episode_id", "unit"]].reset_index(drop=True)
    for lv in onset_levels:
        hit = rows.loc[rows["aqi"] > lv].groupby(["episode_id", "unit"])["t"].min().rename(f"first_{lv}")
        onsets = onsets.merge(hit.reset_index(), on=["episode_id", "unit"], how="left")
    first_t = first.set_index(["episode_id", "unit"])["t"]
    onsets["_t"] = first_t.reindex(pd.MultiIndex.from_frame(onsets[["episode_id", "unit"]])).to_numpy()
    onsets["rank"] = onsets.groupby("episode_id")["_t"].rank(method="min").astype(int)
    onsets = onsets.drop(columns="_t")
    if resolution == "day":
        for c in ("start", "end", "peak_time"):
            ep[c] = pd.to_datetime(ep[c]).dt.date
        for lv in onset_levels:
            col = pd.to_datetime(onsets[f"first_{lv}"])
            onsets[f"first_{lv}"] = [x.date() if pd.notna(x) else pd.NaT for x in col]
    return EpisodeResult(ep[ep_cols].reset_index(drop=True),
                         onsets.sort_values(["episode_id", "rank", "unit"], kind="stable")[on_cols].reset_index(drop=True))
