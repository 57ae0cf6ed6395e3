"""Cached access to the store for pages. The only caching layer: keys include the store's manifest
version, so new data invalidates exactly the cached results built on the old version."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ..store import Store


@st.cache_resource(show_spinner=False)
def get_store() -> Store:
    """One Store per server process (resource cache: shared across sessions, not copied)."""
    return Store()


def store_version() -> int:
    return int(get_store().version)


@st.cache_data(show_spinner=False, max_entries=64)
def _hourly(version: int, start, end, stations: tuple[str, ...] | None, sources: tuple[str, ...] | None) -> pd.DataFrame:
    return get_store().hourly(start, end, stations=list(stations) if stations else None,
                              sources=list(sources) if sources else None)


def hourly(start, end, stations=None, sources=None) -> pd.DataFrame:
    """Canonical hourly frame (measurements only) for a time range, cached per store version."""
    return _hourly(store_version(), start, end, tuple(stations) if stations else None, tuple(sources) if sources else None)


@st.cache_data(show_spinner=False)
def _freshness(version: int) -> pd.DataFrame:
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
