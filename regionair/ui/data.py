"""Cached access to the store for pages. The only caching layer: keys include the store's manifest
version, so new data invalidates exactly the cached results built on the old version."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from regionair.store import Store, resolve_store_path
from regionair.warnings.schemes import DEFAULT_SCHEME


@st.cache_resource(show_spinner=False)
def _store_at(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    """One Store per server process and store path (resource cache: shared across sessions, not copied)."""
    return _store_at(str(resolve_store_path()))


def store_version() -> tuple[str, int]:
    """Cache key: the store's folder and data version (changes with measurements/model data, not log rows).

    The folder is part of the key so that two stores in one process never share cached results.
    """
    store = get_store()
    return str(store.root), int(store.data_version)


@st.cache_data(show_spinner=False, max_entries=64)
def _hourly(version: tuple, start, end, stations: tuple[str, ...] | None, sources: tuple[str, ...] | None) -> pd.DataFrame:
    return get_store().hourly(start, end, stations=list(stations) if stations else None,
                              sources=list(sources) if sources else None)


def hourly(start, end, stations=None, sources=None) -> pd.DataFrame:
    """Canonical hourly frame (measurements only) for a time range, cached per store version."""
    return _hourly(store_version(), start, end, tuple(stations) if stations else None, tuple(sources) if sources else None)


@st.cache_data(show_spinner=False)
def _freshness(version: tuple) -> pd.DataFrame:
    return get_store().latest_time(by="source")


def freshness() -> pd.DataFrame:
    """Latest hour per source (``source``, ``time``)."""
    return _freshness(store_version())


def latest_time() -> pd.Timestamp | None:
    """Latest hour in the store (any measurement source), or None when the store is empty."""
    f = freshness()
    if f is None or f.empty:
        return None
    return pd.Timestamp(f["time"].max())


@st.cache_data(show_spinner=False)
def _earliest(version: tuple) -> pd.Timestamp | None:
    files = get_store().snapshot().select("hourly")
    firsts = [f["min_time"] for f in files if f.get("min_time")]
    return pd.Timestamp(min(firsts)).tz_convert("Asia/Shanghai") if firsts else None


def earliest_time() -> pd.Timestamp | None:
    """First hour held in the store (from the manifest: no data read), or None when it is empty."""
    return _earliest(store_version())


@st.cache_data(show_spinner=False, max_entries=16)
def _warnings(version: tuple, at, scheme: str, band: float, history_days: int) -> dict:
    from regionair.warnings.desk import warnings_report

    store = get_store()
    start = at - pd.Timedelta(days=history_days)
    hourly = store.hourly(start, at)
    forecast = store.model_aq(start, at + pd.Timedelta(days=5), run="all")
    return warnings_report(hourly, at=at, forecast=None if forecast.empty else forecast, scheme=scheme, band=band)


#: Near-threshold band [AQI points] and history [days] of the warnings report pages show by default.
WARNING_BAND, WARNING_HISTORY_DAYS = 15.0, 35


def warnings(at, *, scheme: str = DEFAULT_SCHEME, band: float = WARNING_BAND,
             history_days: int = WARNING_HISTORY_DAYS) -> dict:
    """The warnings report (flags, budgets, forecast levels …) at ``at``, cached per store version."""
    return _warnings(store_version(), at, scheme, float(band), int(history_days))


@st.cache_data(show_spinner=False, max_entries=16)
def _warning_counts(version: tuple, at) -> dict[str, int]:
    report = _warnings(version, at, DEFAULT_SCHEME, WARNING_BAND, WARNING_HISTORY_DAYS)
    flags = report["flags"]
    return {"near": int((flags["flag"] == "near").sum()), "crossed": int((flags["flag"] == "crossed").sum()),
            "active": len(report["active_warnings"])}


def warning_counts(at) -> dict[str, int]:
    """Stations near a boundary / crossed this hour, and active heavy-pollution warnings, with the default
    scheme — what the overview shows, without every session copying the whole report out of the cache."""
    return _warning_counts(store_version(), at)


@st.cache_data(show_spinner=False, max_entries=32)
def _now_tables(version: tuple, at, edition: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from regionair.analysis.latest import station_latest, unit_kpis

    recent = get_store().hourly(at - pd.Timedelta(hours=47), at)
    if recent.empty:
        return recent, recent
    return unit_kpis(recent, at=at, edition=edition), station_latest(recent, at=at, edition=edition)


def now_tables(at, edition: str = "auto") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(KPI per jurisdiction, latest per station) at ``at``, from the last 48 h — computed once per store
    version and hour for all sessions (the overview opens with these). The 48 h of rows are not
    returned: every session would pay for copying them out of the cache."""
    return _now_tables(store_version(), at, edition)


@st.cache_data(show_spinner=False, max_entries=32)
def _unit_results(version: tuple, start, end, edition: str, level: str) -> pd.DataFrame:
    from regionair.core import region
    from regionair.core.aqi import hourly_aqi

    # area means computed in the store (DuckDB) — the same numbers as region.aggregate, without loading
    # every station-hour into pandas; then the AQI of those means (HJ 633-2026 §4.2.1)
    means = get_store().area_means(start, end, unit_of=region.unit_map(level))
    order = region.unit_order()
    means = means.sort_values(["station", "time"], key=lambda c: c.map(order) if c.name == "station" else c,
                              kind="stable").reset_index(drop=True)
    return hourly_aqi(means, edition=edition) if len(means) else means


@st.cache_data(show_spinner=False, max_entries=32)
def _unit_daily(version: tuple, start, end, edition: str) -> pd.DataFrame:
    from regionair.core.aqi import daily_aqi

    units = _unit_results(version, start, end, edition, "jurisdiction")
    cols = ["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]
    return daily_aqi(units[cols], edition=edition) if len(units) else units


def unit_hourly(start, end, edition: str = "auto", level: str = "jurisdiction") -> pd.DataFrame:
    """Hourly area means and their AQI per jurisdiction (or side/region), cached per store data version."""
    return _unit_results(store_version(), start, end, edition, level)


def unit_daily(start, end, edition: str = "auto") -> pd.DataFrame:
    """Daily AQI of the jurisdictions' area means (natural days), cached per store data version."""
    return _unit_daily(store_version(), start, end, edition)
