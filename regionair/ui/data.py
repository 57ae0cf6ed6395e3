"""Cached access to the store for pages. The only caching layer: keys include the store's manifest
version, so new data invalidates exactly the cached results built on the old version."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from regionair.analysis.dust import marks
from regionair.analysis.evaluation import store_area_daily, store_station_daily
from regionair.analysis.latest import station_latest, unit_kpis
from regionair.core import region
from regionair.core.aqi import hourly_aqi, natural_day
from regionair.core.nomenclature import SOURCE_PRECEDENCE
from regionair.store import Store, StoreDamageWarning, resolve_store_path
from regionair.warnings.desk import warnings_report
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
                              sources=list(sources) if sources else None, prefer=SOURCE_PRECEDENCE)


def hourly(start, end, stations=None, sources=None) -> pd.DataFrame:
    """Canonical hourly frame (measurements only) for a time range, cached per store version: one value per
    station-hour (:data:`~regionair.core.nomenclature.SOURCE_PRECEDENCE`). The sources of the rows are noted
    for this page run, so that chart footers name them (:func:`sources_shown`)."""
    frame = _hourly(store_version(), start, end, tuple(stations) if stations else None, tuple(sources) if sources else None)
    if "source" in frame and len(frame):
        st.session_state.setdefault(_SOURCES_SHOWN, set()).update(frame["source"].dropna().unique().tolist())
    return frame


_SOURCES_SHOWN = "_sources_shown"


def reset_sources_shown() -> None:
    st.session_state[_SOURCES_SHOWN] = set()


def sources_shown() -> list[str]:
    """The sources of the hourly rows this page run has read, in precedence order."""
    seen = st.session_state.get(_SOURCES_SHOWN) or set()
    order = {s: i for i, s in enumerate(SOURCE_PRECEDENCE)}
    return sorted(seen, key=lambda s: (order.get(s, len(order)), s))


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
def _warnings(version: tuple, at, scheme: str, band: float, history_days: int, issued_by=None) -> dict:

    store = get_store()
    start = at - pd.Timedelta(days=history_days)
    hourly = store.hourly(start, at, prefer=SOURCE_PRECEDENCE)
    forecast = store.model_aq(start, at + pd.Timedelta(days=5), run="all")
    if issued_by is not None and not forecast.empty:  # replay: only the forecast runs issued by then
        forecast = forecast[pd.to_datetime(forecast["run_time"]) <= issued_by]
    return warnings_report(hourly, at=at, forecast=None if forecast.empty else forecast, scheme=scheme, band=band)


#: Near-threshold band [AQI points] and history [days] of the warnings report pages show by default.
WARNING_BAND, WARNING_HISTORY_DAYS = 15.0, 35


def warnings(at, *, scheme: str = DEFAULT_SCHEME, band: float = WARNING_BAND,
             history_days: int = WARNING_HISTORY_DAYS, replay: bool = False) -> dict:
    """The warnings report (flags, budgets, forecast levels …) at ``at``, cached per store version.

    ``replay``: ``at`` is a past hour made "now" — forecasts issued after it are left out.
    """
    return _warnings(store_version(), at, scheme, float(band), int(history_days), at if replay else None)


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

    recent = get_store().hourly(at - pd.Timedelta(hours=47), at, prefer=SOURCE_PRECEDENCE)
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

    # area means computed in the store (DuckDB) — the same numbers as region.aggregate, without loading
    # every station-hour into pandas; then the AQI of those means (HJ 633-2026 §4.2.1)
    means = get_store().area_means(start, end, unit_of=region.unit_map(level))
    order = region.unit_order()
    means = means.sort_values(["station", "time"], key=lambda c: c.map(order) if c.name == "station" else c,
                              kind="stable").reset_index(drop=True)
    return hourly_aqi(means, edition=edition) if len(means) else means


def natural_days(start, end) -> tuple:
    """Natural days (Beijing) holding the hour-ending stamps ``start`` … ``end``."""

    return natural_day(pd.Timestamp(start)), natural_day(pd.Timestamp(end))


@st.cache_data(show_spinner=False, max_entries=32)
def _unit_daily(version: tuple, start, end, edition: str, level: str = "jurisdiction") -> pd.DataFrame:

    # HJ 663 city values: each station's valid daily values first, then their mean (analysis.evaluation) —
    # the same numbers as the CLI (daily --by jurisdiction, evaluate), the briefing and the exports
    d0, d1 = natural_days(start, end)
    daily = store_area_daily(get_store(), d0, d1, level=level, edition=edition)
    return daily.rename(columns={"jurisdiction": "station"})


@st.cache_data(show_spinner=False, max_entries=16)
def _station_days(version: tuple, d0, d1) -> pd.DataFrame:

    return store_station_daily(get_store(), d0, d1)


def station_days(d0, d1) -> pd.DataFrame:
    """Each station's daily values and validity for the natural days ``d0`` … ``d1`` (for "explain this number")."""
    return _station_days(store_version(), d0, d1)


def unit_hourly(start, end, edition: str = "auto", level: str = "jurisdiction") -> pd.DataFrame:
    """Hourly area means and their AQI per jurisdiction (or side/region), cached per store data version."""
    return _unit_results(store_version(), start, end, edition, level)


def unit_daily(start, end, edition: str = "auto", level: str = "jurisdiction") -> pd.DataFrame:
    """Daily values and AQI of the jurisdictions (or sides/region) for the natural days holding ``start`` …
    ``end``: the mean of the stations' valid daily values (HJ 663, :mod:`regionair.analysis.evaluation`);
    ``station`` = the unit id. Cached per store data version."""
    return _unit_daily(store_version(), start, end, edition, level)


def dust_marks() -> pd.DataFrame:
    """Dust days marked on the rankings page (read each run: marks are records, not data — never stale)."""

    return marks(get_store())


@st.cache_data(show_spinner=False, max_entries=8)
def _model_dust(version: tuple, d0, d1) -> pd.DataFrame:
    t0 = pd.Timestamp(d0, tz="Asia/Shanghai") + pd.Timedelta(hours=1)
    t1 = pd.Timestamp(d1, tz="Asia/Shanghai") + pd.Timedelta(days=1)
    m = get_store().model_aq(t0, t1)
    return m[["point", "time", "dust"]] if len(m) and "dust" in m.columns else pd.DataFrame(columns=["point", "time", "dust"])


def model_dust(d0, d1) -> pd.DataFrame:
    """Modelled (CAMS) dust per jurisdiction point and hour for the natural days ``d0`` … ``d1`` (may be empty)."""
    return _model_dust(store_version(), d0, d1)


@st.cache_data(show_spinner=False, max_entries=4)
def _synthetic(version: tuple) -> bool:
    return len(get_store().records("synthetic_dataset")) > 0


def synthetic() -> bool:
    """Whether the store holds SYNTHETIC data (bench/synthetic.py writes a ``synthetic_dataset`` record)."""
    return _synthetic(store_version())


@st.cache_data(show_spinner=False, max_entries=8)
def _damage(key: tuple) -> pd.DataFrame:
    import warnings as _w  # the module defines its own name `warnings`


    with _w.catch_warnings():  # the page says it in words (ui.damage_banner); no console noise per session
        _w.simplefilter("ignore", StoreDamageWarning)
        found = get_store().scan()
    return found[~found["restored"]].reset_index(drop=True) if len(found) else found


def damage() -> pd.DataFrame:
    """Damaged store files not yet restored (quick check of every file once per store version; signin branch)."""
    store = get_store()
    return _damage((str(store.root), int(store.version), store.excluded))
