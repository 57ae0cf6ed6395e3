"""WAQI (aqicn.org) — optional live overlay of current station AQI. **Never stored.**

Source: sources.md §4. WAQI's terms forbid redistributing its data "as cached or archived data",
so this client only serves a live map overlay: no disk cache, no store writes, attribution to the
World Air Quality Index Project and the originating EPA is mandatory wherever it is shown.

The values are **US-EPA AQI** (WAQI converts every feed to the US scale), not concentrations and
not the China HJ 633 AQI; never put them on a concentration axis or compare them with CNEMC AQI.
The overlay is enabled only when a token is configured (environment variable ``WAQI_TOKEN``).

OpenAQ (sources.md §3) is deliberately not implemented: its China adapter was disabled in 2021
(openaq-fetch PR #870) and no current data for the region is expected; the CNEMC archive
(``cnemc_http``) is the measurement source.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from regionair.core.nomenclature import TZ
from regionair.errors import InputError, SourceError
from regionair.sources.http import HttpClient

__all__ = ["BOUNDS_URL", "REGION_BBOX", "get_waqi_bounds", "waqi_token"]

BOUNDS_URL = "https://api.waqi.info/map/bounds"
#: Region bbox (min lon, min lat, max lon, max lat), sources.md header.
REGION_BBOX = (85.5, 42.9, 89.0, 45.4)
ATTRIBUTION = "World Air Quality Index Project (waqi.info) and the originating EPA"


def waqi_token() -> str | None:
    """The configured WAQI token (``$WAQI_TOKEN``), or ``None`` — then hide the overlay."""
    token = os.environ.get("WAQI_TOKEN", "").strip()
    return token or None


def get_waqi_bounds(token: str | None = None, bbox=REGION_BBOX, *, client: HttpClient,
                    url: str = BOUNDS_URL) -> pd.DataFrame:
    """Current AQI of the WAQI stations inside ``bbox`` — for a live overlay only, never stored.

    Parameters
    ----------
    token : str, optional
        WAQI API token; default ``$WAQI_TOKEN``.
    bbox : (min_lon, min_lat, max_lon, max_lat)
        Area [° WGS84]; default the region.
    client : HttpClient
        Transport. The request is never cached (WAQI terms: no caching or archiving).
    url : str
        Endpoint (tests point it at a local server).

    Returns
    -------
    DataFrame
        ``uid``, ``name``, ``latitude``, ``longitude``, ``aqi_us`` (US-EPA AQI, NaN for ``-``),
        ``time`` (observation time in Beijing time, NaT if absent). ``attrs["attribution"]`` holds
        the mandatory attribution text.

    Raises
    ------
    InputError
        No token configured or a bad bbox.
    SourceError
        HTTP failure or ``{"status": "error"}`` (e.g. invalid key); the token never appears in
        messages.
    """
    token = token or waqi_token()
    if not token:
        raise InputError("no WAQI token configured; set WAQI_TOKEN to enable the live overlay", column="token")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InputError(f"bbox {bbox!r} is not (min_lon, min_lat, max_lon, max_lat)", column="bbox") from None
    if not (min_lon < max_lon and min_lat < max_lat):
        raise InputError(f"bbox {bbox!r}: minimum not below maximum", column="bbox")
    params = {"latlng": f"{min_lat:g},{min_lon:g},{max_lat:g},{max_lon:g}", "networks": "all", "token": token}
    payload = client.get_json(url, params)  # never cached
    if not isinstance(payload, dict) or payload.get("status") != "ok":
        detail = payload.get("data") if isinstance(payload, dict) else payload
        raise SourceError(f"WAQI map/bounds failed: {detail}", url=url)
    rows = []
    for st in payload.get("data") or []:
        station = st.get("station") or {}
        aqi = pd.to_numeric(st.get("aqi"), errors="coerce")
        rows.append({
            "uid": st.get("uid"),
            "name": station.get("name"),
            "latitude": float(st.get("lat", np.nan)),
            "longitude": float(st.get("lon", np.nan)),
            "aqi_us": float(aqi) if aqi is not None else np.nan,
            "time": station.get("time"),
        })
    out = pd.DataFrame(rows, columns=["uid", "name", "latitude", "longitude", "aqi_us", "time"])
    out["time"] = pd.to_datetime(out["time"], errors="coerce", utc=True, format="ISO8601").dt.tz_convert(TZ)
    out.attrs["attribution"] = ATTRIBUTION
    out.attrs["scale"] = "US EPA AQI (not HJ 633, not a concentration)"
    return out
