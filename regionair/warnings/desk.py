"""Warnings desk: near-threshold flags, today's budget, forecast warning levels, 临界天 — one entry point.

:func:`warnings_report` is what the CLI (``python -m regionair warnings``) and the page call. It takes
plain frames (the canonical hourly frame and, optionally, the Open-Meteo CAMS model frame) and returns a
dict of DataFrames. The pieces live in

* :mod:`regionair.analysis.near_threshold` — §1 flags and driver stations, §2 budgets, O3, running AQI;
* :mod:`regionair.analysis.forecast` — bias-corrected daily forecasts, skill, rolling-24-h AQI, 临界天;
* :mod:`regionair.warnings.schemes` — the warning schemes (data files) and their conditions;
* this module — the warning state machine (start, upgrade, lifting), the regional lifting rule and the
  report.

Warning state machine (per jurisdiction, on the rolling-24-h AQI ``r``)
--------------------------------------------------------------------
At each hour τ, ``forecast level`` L(τ) = the highest scheme level whose condition holds for a window
ending in [τ, τ + ``lookahead_hours``] (default 72 h: warnings are issued ahead on the forecast). Up to
``at`` the series is observed (so the past is replayed as if forecasts had been perfect); after ``at``
it is the bias-corrected forecast.

* **start / upgrade**: L(τ) above the current state → the state becomes L(τ);
* **lifting** (formal warnings): the forecast ``r`` stays below the scheme's lifting threshold (2024:
  < 150) for the next ``lift_hours`` (36) hours **and** L(τ) is below the lowest formal warning → the
  state falls to L(τ) (a "temporary controls" tier or none). A warning is not downgraded before it is
  lifted (episodes too close to clear merge and keep the stricter level — standards.md §5.1);
* a tier below the warnings (``warning = false``, e.g. 临时管控) clears as soon as L(τ) drops below it.

Regional lifting (自治区 notice 2024-03-02, standards.md §5.3): at τ, the jurisdictions whose forecast
``r`` stays < 150 for the next 36 h are taken; the rule holds when a connected group of them on the
catalogue's neighbour graph (:func:`regionair.core.region.neighbour_pairs`) has ≥ 3 members in > 1 prefecture.
Prefecture of a unit: its ``parent`` in ``jurisdictions.csv``, or the unit itself when its parent is the
autonomous region (乌鲁木齐市, 五家渠市, 石河子市 are prefecture-level).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regionair.analysis import near_threshold as nt
from regionair.analysis.forecast import critical_days, forecast_daily
from regionair.core.nomenclature import beijing_time
from regionair.core.region import jurisdictions, neighbour_pairs
from regionair.errors import InputError
from regionair.warnings.schemes import DEFAULT_SCHEME, Scheme, level_met, load_scheme

_HOUR = pd.Timedelta(hours=1)

TIMELINE_COLUMNS = ["jurisdiction", "time", "aqi_24h", "observed", "level_met", "level_forecast", "state", "event"]


def _forward_max(v: np.ndarray, h: int) -> np.ndarray:
    """max(v[i : i + h + 1]) for each i (window truncated at the end)."""
    s = pd.Series(v[::-1].astype("float64"))
    return s.rolling(h + 1, min_periods=1).max().to_numpy()[::-1]


def _forward_all(ok: np.ndarray, h: int) -> np.ndarray:
    """all(ok[i : i + h]) for each i; False where fewer than h hours remain."""
    s = pd.Series(ok[::-1].astype("float64"))
    return (s.rolling(h, min_periods=h).min().to_numpy()[::-1] == 1.0)


def lift_condition(r: pd.Series, below: float, hours: int) -> pd.Series:
    """Whether ``r`` stays known and < ``below`` for the ``hours`` hours starting at each hour."""
    v = r.to_numpy(dtype="float64")
    return pd.Series(_forward_all(~np.isnan(v) & (v < below), hours), index=r.index)


def warning_timeline(rolling: pd.DataFrame, scheme: str | Scheme = DEFAULT_SCHEME, *,
                     lookahead_hours: int = 72) -> pd.DataFrame:
    """Replay the warning state machine (module docstring) hour by hour for each jurisdiction.

    Parameters
    ----------
    rolling : rolling-24-h AQI frame (:func:`regionair.analysis.forecast.rolling_aqi`): ``jurisdiction``,
        ``time``, ``aqi``, optional ``observed``.
    scheme : scheme name, path or :class:`~regionair.warnings.schemes.Scheme`.
    lookahead_hours : how far ahead a forecast condition triggers a warning [h].

    Returns
    -------
    DataFrame ``jurisdiction``, ``time``, ``aqi_24h``, ``observed``, ``level_met`` (level whose condition
    holds for the window ending at ``time``), ``level_forecast`` (L(τ)), ``state`` (the level in force),
    ``event`` (``"start"``, ``"upgrade"``, ``"lift"``, ``"clear"`` or ``""``). Level names as in the scheme,
    ``"none"`` for no level.
    """
    sch = load_scheme(scheme)
    out = []
    for j, g in rolling.groupby("jurisdiction", sort=False):
        g = g.drop_duplicates("time", keep="last").set_index("time").sort_index()
        s = sch.for_jurisdiction(str(j))
        names = s.level_names
        idx = pd.date_range(g.index.min(), g.index.max(), freq="h")
        r = g["aqi"].reindex(idx).astype("float64")
        met = level_met(r, s).to_numpy()
        fl = _forward_max(met, lookahead_hours).astype(int)
        lift = lift_condition(r, s.lift_below, s.lift_hours).to_numpy()
        warn_idx = [i for i, lv in enumerate(s.levels, start=1) if lv.warning]
        lowest_warning = min(warn_idx) if warn_idx else len(names)
        state, states, events = 0, [], []
        for i in range(len(r)):
            ev = ""
            if fl[i] > state:
                ev = "start" if state == 0 else "upgrade"
                state = int(fl[i])
            elif state > 0:
                if s.levels[state - 1].warning:
                    if lift[i] and fl[i] < lowest_warning:
                        state, ev = int(fl[i]), "lift"
                elif fl[i] < state:
                    state, ev = int(fl[i]), "clear"
            states.append(state)
            events.append(ev)
        obs = g["observed"].reindex(idx).fillna(False).astype(bool) if "observed" in g else False
        out.append(pd.DataFrame({
            "jurisdiction": j, "time": idx, "aqi_24h": r.to_numpy(), "observed": obs,
            "level_met": [names[k] for k in met], "level_forecast": [names[k] for k in fl],
            "state": [names[k] for k in states], "event": events,
        }))
    if not out:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    return pd.concat(out, ignore_index=True)[TIMELINE_COLUMNS]


def _level_info(s: Scheme, name: str):
    for lv in s.levels:
        if lv.level == name:
            return lv
    return None


def forecast_levels(timeline: pd.DataFrame, rolling: pd.DataFrame, at, scheme: str | Scheme = DEFAULT_SCHEME
                    ) -> pd.DataFrame:
    """Highest level forecast per jurisdiction for windows ending after ``at``.

    Returns
    -------
    DataFrame ``jurisdiction``, ``scheme``, ``level``, ``level_zh``, ``warning`` (formal warning or a lower
    tier), ``first_met`` (end of the first 24-h window meeting it), ``condition`` (the clause(s) of that
    level, text), ``max_aqi_24h`` (highest forecast rolling-24-h AQI after ``at``), ``lift_ok_from`` (first
    hour ≥ at from which the lifting rule holds; NaT if not within the horizon), ``uncertain``,
    ``uncertain_note``.
    """
    sch = load_scheme(scheme)
    at = beijing_time(at, "at")
    rows = []
    for j, g in timeline.groupby("jurisdiction", sort=False):
        s = sch.for_jurisdiction(str(j))
        fut = g[g["time"] > at]
        if fut.empty:
            continue
        order = {n: i for i, n in enumerate(s.level_names)}
        best = max(fut["level_met"], key=lambda n: order[n])
        first = fut.loc[fut["level_met"] == best, "time"].min() if best != "none" else pd.NaT
        r = g.set_index("time")["aqi_24h"]
        lift = lift_condition(r, s.lift_below, s.lift_hours)
        lift = lift[lift.index >= at]
        lv = _level_info(s, best)
        rows.append({
            "jurisdiction": j, "scheme": s.name, "level": best, "level_zh": lv.name_zh if lv else "",
            "warning": bool(lv.warning) if lv else False, "first_met": first,
            "condition": " or ".join(c.text() for c in lv.clauses) if lv else "",
            "max_aqi_24h": float(fut["aqi_24h"].max()) if fut["aqi_24h"].notna().any() else np.nan,
            "lift_ok_from": lift.index[lift.to_numpy()].min() if lift.any() else pd.NaT,
            "uncertain": bool(s.uncertain or (lv.uncertain if lv else False)),
            "uncertain_note": (lv.uncertain_note if lv and lv.uncertain else (s.notes if s.uncertain else "")),
        })
    return pd.DataFrame(rows, columns=["jurisdiction", "scheme", "level", "level_zh", "warning", "first_met",
                                       "condition", "max_aqi_24h", "lift_ok_from", "uncertain", "uncertain_note"])


def active_warnings(timeline: pd.DataFrame, at, scheme: str | Scheme = DEFAULT_SCHEME) -> pd.DataFrame:
    """Levels in force at ``at`` (state ≠ none), with episode start and the expected lifting.

    Returns
    -------
    DataFrame ``jurisdiction``, ``scheme``, ``level``, ``level_zh``, ``warning``, ``since`` (start of the
    episode), ``lift_expected`` (first hour after ``at`` at which the replay lifts/clears it; NaT if not
    within the forecast horizon), ``uncertain``, ``uncertain_note``.
    """
    sch = load_scheme(scheme)
    at = beijing_time(at, "at")
    rows = []
    for j, g in timeline.groupby("jurisdiction", sort=False):
        s = sch.for_jurisdiction(str(j))
        g = g.sort_values("time")
        now = g[g["time"] <= at]
        if now.empty or now["state"].iloc[-1] == "none":
            continue
        level = now["state"].iloc[-1]
        starts = now[now["event"] == "start"]["time"]
        since = starts.iloc[-1] if len(starts) else now["time"].iloc[0]
        after = g[(g["time"] > at) & g["event"].isin(["lift", "clear"])]
        lv = _level_info(s, level)
        rows.append({"jurisdiction": j, "scheme": s.name, "level": level, "level_zh": lv.name_zh if lv else "",
                     "warning": bool(lv.warning) if lv else False, "since": since,
                     "lift_expected": after["time"].iloc[0] if len(after) else pd.NaT,
                     "uncertain": bool(s.uncertain or (lv.uncertain if lv else False)),
                     "uncertain_note": lv.uncertain_note if lv and lv.uncertain else ""})
    return pd.DataFrame(rows, columns=["jurisdiction", "scheme", "level", "level_zh", "warning", "since",
                                       "lift_expected", "uncertain", "uncertain_note"])


def prefectures() -> dict[str, str]:
    """Jurisdiction id → prefecture (the ``parent``, or the unit itself when its parent is the region)."""

    jt = jurisdictions()
    jt = jt[jt["level"] == "jurisdiction"] if "level" in jt.columns else jt
    return {r.id: (r.id if r.parent in ("新疆维吾尔自治区", "") else r.parent) for r in jt.itertuples()}


def regional_lifting(rolling: pd.DataFrame, at, *, below: float = 150, hours: int = 36, min_units: int = 3,
                     min_prefectures: int = 2, neighbours: pd.DataFrame | None = None,
                     prefecture: dict[str, str] | None = None) -> pd.DataFrame:
    """Regional lifting rule at each hour from ``at`` to the end of the forecast (module docstring).

    Parameters
    ----------
    rolling : rolling-24-h AQI frame (``jurisdiction``, ``time``, ``aqi``).
    at : first hour evaluated.
    below, hours, min_units, min_prefectures : the rule (defaults: Xinjiang notice 2024-03-02).
    neighbours : ``a``, ``b`` pairs (default :func:`regionair.core.region.neighbour_pairs`).
    prefecture : jurisdiction → prefecture (default :func:`prefectures`).

    Returns
    -------
    DataFrame ``time``, ``holds``, ``members`` (``;``-joined largest qualifying group, else the largest
    group below the limit), ``n_units``, ``n_prefectures``, ``qualifying`` (``;``-joined jurisdictions
    meeting the < ``below`` for ``hours`` test at that hour).
    """
    if neighbours is None:

        neighbours = neighbour_pairs()
    pref = prefectures() if prefecture is None else prefecture
    at = beijing_time(at, "at")
    adj: dict[str, set] = {}
    for a, b in zip(neighbours["a"], neighbours["b"], strict=True):
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    ok = {}
    for j, g in rolling.groupby("jurisdiction", sort=False):
        g = g.drop_duplicates("time", keep="last").set_index("time").sort_index()
        idx = pd.date_range(g.index.min(), g.index.max(), freq="h")
        ok[j] = lift_condition(g["aqi"].reindex(idx).astype("float64"), below, hours)
    if not ok:
        return pd.DataFrame(columns=["time", "holds", "members", "n_units", "n_prefectures", "qualifying"])
    times = sorted({t for s in ok.values() for t in s.index if t >= at})
    rows = []
    for t in times:
        q = {j for j, s in ok.items() if t in s.index and bool(s.loc[t])}
        seen, best, best_key = set(), [], (-1, -1)
        for start in sorted(q):
            if start in seen:
                continue
            comp, stack = set(), [start]
            while stack:
                x = stack.pop()
                if x in comp:
                    continue
                comp.add(x)
                stack.extend((adj.get(x, set()) & q) - comp)
            seen |= comp
            key = (len({pref.get(x, x) for x in comp}) >= min_prefectures and len(comp) >= min_units, len(comp))
            if key > best_key:
                best, best_key = sorted(comp), key
        npref = len({pref.get(x, x) for x in best})
        rows.append({"time": t, "holds": bool(best_key[0]) if best else False, "members": ";".join(best),
                     "n_units": len(best), "n_prefectures": npref, "qualifying": ";".join(sorted(q))})
    return pd.DataFrame(rows)


def warnings_report(hourly: pd.DataFrame, at=None, forecast: pd.DataFrame | None = None,
                    scheme: str | Scheme = DEFAULT_SCHEME, band: float = 15, boundaries=(100, 150, 200), *,
                    flag_boundaries=nt.FLAG_BOUNDARIES, critical_band=(90, 110), method: str = "ratio",
                    window_days: int = 30, lookahead_hours: int = 72, neighbours: pd.DataFrame | None = None,
                    catalogue: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Everything the warnings desk shows at time ``at``.

    Parameters
    ----------
    hourly : canonical hourly frame — at least today and the 6 hours before ``at``; pass ≥ 30 days for the
        bias correction and skill, and a few days for the warning replay.
    at : decision time (hour-ending, Beijing; naive = Beijing); default the latest stamp in ``hourly``.
    forecast : model frame (``point`` = jurisdiction id, ``time``, ``pm25 pm10 so2 no2 co o3`` with CO in
        mg/m³, ``run_time``) holding the current run and the archived runs; None → no forecast (warning
        levels then come from the observed rolling AQI only).
    scheme : ``"national-2018"``, ``"national-2024-reconstructed"`` (default), ``"local-example"``, a path
        to a .toml scheme, or a :class:`~regionair.warnings.schemes.Scheme`.
    band : near-threshold band below a boundary [IAQI points].
    boundaries : budget boundaries B.
    flag_boundaries : boundaries watched by the flags.
    critical_band : 临界天 AQI band (inclusive).
    method, window_days : bias correction (see :mod:`regionair.analysis.forecast`).
    lookahead_hours : forecast horizon that triggers a warning [h].
    neighbours : neighbour pairs for the regional rule (default from the catalogue's boundaries).

    Returns
    -------
    dict of DataFrames:

    ``flags`` (:func:`~regionair.analysis.near_threshold.near_threshold_flags`), ``drivers``
    (:func:`~regionair.analysis.near_threshold.driver_stations`), ``budgets``
    (:func:`~regionair.analysis.near_threshold.daily_budget`), ``o3``
    (:func:`~regionair.analysis.near_threshold.o3_headroom`), ``running_aqi``
    (:func:`~regionair.analysis.near_threshold.running_daily_aqi`), ``forecast_daily``, ``correction``,
    ``skill``, ``rolling_aqi`` (:func:`~regionair.analysis.forecast.forecast_daily`), ``forecast_levels``
    (:func:`forecast_levels`), ``active_warnings`` (:func:`active_warnings`), ``warning_timeline``
    (:func:`warning_timeline`), ``regional_lifting`` (:func:`regional_lifting`), ``critical_days``
    (:func:`~regionair.analysis.forecast.critical_days`) and ``meta`` (one row: ``at``, ``date``,
    ``edition``, ``scheme``, ``scheme_uncertain``, ``uncertain_rows``, ``forecast_basis``, ``method``).
    """
    sch = load_scheme(scheme)
    at = nt.resolve_at(hourly, at)
    if band < 0:
        raise InputError(f"band={band!r}; must be >= 0 IAQI points")
    units = nt.unit_frames(hourly, catalogue=catalogue)
    out: dict[str, pd.DataFrame] = {}
    out["flags"] = nt.near_threshold_flags(hourly, at, band=band, boundaries=flag_boundaries, units=units)
    out["drivers"] = nt.driver_stations(hourly, at, catalogue=catalogue)
    out["budgets"] = nt.daily_budget(hourly, at, boundaries=boundaries, units=units)
    out["o3"] = nt.o3_headroom(hourly, at, boundaries=boundaries, units=units)
    out["running_aqi"] = nt.running_daily_aqi(hourly, at, units=units)
    obs = units[units["scope"] == "jurisdiction"]
    fc = forecast_daily(obs, forecast, at, method=method, window_days=window_days)
    out.update({k: fc[k] for k in ("forecast_daily", "correction", "skill", "rolling_aqi")})
    tl = warning_timeline(fc["rolling_aqi"], sch, lookahead_hours=lookahead_hours)
    out["warning_timeline"] = tl
    out["forecast_levels"] = forecast_levels(tl, fc["rolling_aqi"], at, sch)
    out["active_warnings"] = active_warnings(tl, at, sch)
    rl = sch.regional_lifting
    try:
        out["regional_lifting"] = regional_lifting(
            fc["rolling_aqi"], at, below=rl["below"], hours=int(rl["hours"]), min_units=int(rl["min_units"]),
            min_prefectures=int(rl["min_prefectures"]), neighbours=neighbours)
    except ImportError:  # pragma: no cover — geopandas missing
        out["regional_lifting"] = pd.DataFrame(columns=["time", "holds", "members"])
    out["critical_days"] = critical_days(fc["forecast_daily"], band=critical_band)
    day = nt.natural_day(at)
    out["meta"] = pd.DataFrame([{
        "at": at, "date": day, "edition": nt.edition_for(day), "scheme": sch.name, "scheme_uncertain": sch.uncertain,
        "uncertain_rows": " | ".join(sch.uncertain_rows()),
        "forecast_basis": "forecast" if forecast is not None and len(forecast) else "observed only",
        "method": method,
    }])
    return out
