"""Open-Meteo: CAMS air-quality model data and weather (wind, temperature, humidity, boundary layer).

Source: sources.md §2. Licence CC BY 4.0 — attribute "CAMS / Open-Meteo" wherever shown.

Model data, never measurements
------------------------------
Frames from this module have a ``point`` column (a jurisdiction's representative point or a
station's coordinates), never ``station``, and ``source="open-meteo"`` plus ``model`` and
``run_time``: they are stored apart from the canonical hourly measurements and must never be mixed
into AQI/statistics computed from CNEMC data.

Time
----
Every request asks for ``timezone=Asia/Shanghai`` explicitly (``timezone=auto`` could resolve to
``Asia/Urumqi``, UTC+6 — sources.md §0) and the parser refuses a response whose
``utc_offset_seconds`` is not 28 800. Open-Meteo stamps are **instantaneous** values at the stamp
(docs: "Instant"), not the hour-ending means CNEMC publishes; a model value at 16:00 is therefore
compared with the CNEMC 15–16 h mean stamped 16:00, which is an approximation (≤ 30 min offset).
CAMS global is 3-hourly natively; Open-Meteo serves it on an hourly axis (interpolation UNCONFIRMED).

Units
-----
Open-Meteo returns every gas in µg/m³ **including carbon monoxide**; CO is converted to mg/m³
(÷ 1000) so it sits on the CNEMC scale. ``dust`` [µg/m³], ``aerosol_optical_depth`` [1, 550 nm].
Weather: wind speed requested in m/s (``wind_speed_unit=ms``), direction in degrees the wind comes
from, temperature °C, relative humidity %, boundary-layer height m.

Forecast runs
-------------
``run_time`` is the model initialisation time of the CAMS run that produced the forecast,
read from Open-Meteo's model metadata endpoint
(``https://air-quality-api.open-meteo.com/data/cams_global/static/meta.json``,
``last_run_initialisation_time`` [Unix s, UTC], as used by the open-meteo-website "model updates"
page) immediately before and after the data request (a new run arriving in between triggers one
re-fetch). If the metadata cannot be read, the retrieval time (floored to the hour) is used and a
warning is issued. Open-Meteo stitches past days from earlier runs: rows with ``time <= run_time``
are analyses/short-range forecasts of earlier runs, rows after it are the forecast of the run.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence
from datetime import date as Date

import numpy as np
import pandas as pd

from regionair.core.nomenclature import TZ, TZ_NAME, beijing_date
from regionair.errors import InputError, SourceError
from regionair.sources.http import HttpClient

__all__ = [
    "AIR_QUALITY_URL",
    "AIR_QUALITY_META_URL",
    "ARCHIVE_URL",
    "AQ_HOURLY",
    "FORECAST_URL",
    "WEATHER_HOURLY",
    "OpenMeteoWarning",
    "air_quality_params",
    "get_air_quality",
    "get_model_run_time",
    "get_weather",
    "parse_air_quality",
    "parse_weather",
    "weather_params",
]

log = logging.getLogger(__name__)

AIR_QUALITY_URL = "https://air-quality-api.open-meteo.com/v1/air-quality"
AIR_QUALITY_META_URL = "https://air-quality-api.open-meteo.com/data/cams_global/static/meta.json"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
ARCHIVE_URL = "https://archive-api.open-meteo.com/v1/archive"

MODEL = "cams_global"
SOURCE = "open-meteo"
#: Hourly air-quality variables requested (Open-Meteo names).
AQ_HOURLY: tuple[str, ...] = (
    "pm10", "pm2_5", "carbon_monoxide", "nitrogen_dioxide", "sulphur_dioxide", "ozone", "dust",
    "aerosol_optical_depth",
)
#: Open-Meteo name → output column.
AQ_COLUMNS = {
    "pm2_5": "pm25", "pm10": "pm10", "sulphur_dioxide": "so2", "nitrogen_dioxide": "no2", "ozone": "o3",
    "carbon_monoxide": "co", "dust": "dust", "aerosol_optical_depth": "aod",
}
AQ_FRAME_COLUMNS = ("point", "time", "pm25", "pm10", "so2", "no2", "o3", "co", "dust", "aod", "model", "run_time",
                    "source")
#: Hourly weather variables requested.
WEATHER_HOURLY: tuple[str, ...] = (
    "wind_speed_10m", "wind_direction_10m", "temperature_2m", "relative_humidity_2m", "boundary_layer_height",
)
WEATHER_COLUMNS = {
    "wind_speed_10m": "wind_speed", "wind_direction_10m": "wind_direction", "temperature_2m": "temperature",
    "relative_humidity_2m": "rh", "boundary_layer_height": "blh",
}
WEATHER_FRAME_COLUMNS = ("point", "time", "wind_speed", "wind_direction", "temperature", "rh", "blh", "run_time",
                         "source")

MAX_AQ_FORECAST_DAYS = 7
MAX_WEATHER_FORECAST_DAYS = 16
MAX_PAST_DAYS = 92
MAX_POINTS = 1000
#: First month of CAMS-global data on Open-Meteo ("August 2022 onwards", sources.md §2).
CAMS_GLOBAL_START = Date(2022, 8, 1)
BEIJING_OFFSET_S = 8 * 3600

_UG = {"μg/m³", "µg/m³", "ug/m3", "μg/m3", "µg/m3"}
_WIND_FACTORS = {"m/s": 1.0, "km/h": 1 / 3.6, "kn": 0.514444, "mp/h": 0.44704, "mph": 0.44704}


class OpenMeteoWarning(UserWarning):
    """Recoverable oddity in an Open-Meteo response (missing variable, run time unavailable)."""


# --------------------------------------------------------------------------- parameters


def _check_points(points) -> list[tuple[str, float, float]]:
    pts = list(points)
    if not pts:
        raise InputError("points is empty; give (id, latitude, longitude) tuples", column="points")
    if len(pts) > MAX_POINTS:
        raise InputError(f"{len(pts)} points; Open-Meteo accepts at most {MAX_POINTS} per call", column="points")
    out = []
    for p in pts:
        try:
            pid, lat, lon = p
            lat, lon = float(lat), float(lon)
        except (TypeError, ValueError):
            raise InputError(f"point {p!r} is not (id, latitude, longitude)", column="points") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
            raise InputError(f"point {pid!r}: latitude {lat}, longitude {lon} out of range", column="points")
        out.append((str(pid), lat, lon))
    ids = [p[0] for p in out]
    if len(set(ids)) != len(ids):
        raise InputError(f"duplicate point ids in {ids}", column="points")
    return out


def _coord(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _time_params(past_days, forecast_days, start_date, end_date, *, max_forecast: int,
                 require_dates: bool = False) -> dict:
    if start_date is not None or end_date is not None or require_dates:
        if start_date is None or end_date is None:
            raise InputError("give both start_date and end_date", column="start_date")
        if past_days is not None or forecast_days is not None:
            raise InputError("use either start_date/end_date or past_days/forecast_days, not both",
                             column="past_days")
        d0, d1 = beijing_date(start_date, "start_date"), beijing_date(end_date, "end_date")
        if d1 < d0:
            raise InputError(f"end_date {d1} is before start_date {d0}", column="end_date")
        return {"start_date": d0.isoformat(), "end_date": d1.isoformat()}
    past = 0 if past_days is None else past_days
    fc = 5 if forecast_days is None else forecast_days
    if not isinstance(past, int) or not 0 <= past <= MAX_PAST_DAYS:
        raise InputError(f"past_days must be an integer 0–{MAX_PAST_DAYS}, got {past_days!r}", column="past_days")
    if not isinstance(fc, int) or not 0 <= fc <= max_forecast:
        raise InputError(f"forecast_days must be an integer 0–{max_forecast}, got {forecast_days!r}",
                         column="forecast_days")
    return {"past_days": past, "forecast_days": fc}


def air_quality_params(points, *, past_days: int | None = None, forecast_days: int | None = None,
                       start_date=None, end_date=None) -> dict:
    """Query parameters of an Open-Meteo air-quality request.

    Parameters
    ----------
    points : sequence of (id, latitude, longitude)
        Representative points [° WGS84]; several points make one request (comma lists) and the
        response is a JSON list in the same order.
    past_days : int, optional
        Days before today, 0–92 (default 0).
    forecast_days : int, optional
        Days from today, 0–7 (default 5, the API default).
    start_date, end_date : date-like, optional
        Explicit period (yyyy-mm-dd, Beijing calendar), instead of past/forecast days.

    Returns
    -------
    dict
        ``latitude``, ``longitude`` (comma lists, 4 decimals), ``hourly`` (:data:`AQ_HOURLY`),
        ``timezone=Asia/Shanghai``, ``domains=cams_global``, then ``past_days``/``forecast_days`` or
        ``start_date``/``end_date`` — in this order.

    Raises
    ------
    InputError
        Empty/invalid points, forecast_days > 7, past_days > 92, mixed or reversed dates.

    Examples
    --------
    >>> air_quality_params([("urumqi", 43.8256, 87.6168)], past_days=1, forecast_days=3)["hourly"]
    'pm10,pm2_5,carbon_monoxide,nitrogen_dioxide,sulphur_dioxide,ozone,dust,aerosol_optical_depth'
    """
    pts = _check_points(points)
    params = {
        "latitude": ",".join(_coord(p[1]) for p in pts),
        "longitude": ",".join(_coord(p[2]) for p in pts),
        "hourly": ",".join(AQ_HOURLY),
        "timezone": TZ_NAME,
        "domains": MODEL,
    }
    params.update(_time_params(past_days, forecast_days, start_date, end_date, max_forecast=MAX_AQ_FORECAST_DAYS))
    if "start_date" in params and Date.fromisoformat(params["start_date"]) < CAMS_GLOBAL_START:
        warnings.warn(f"CAMS global data on Open-Meteo start in August 2022; {params['start_date']} is earlier "
                      "(values will be missing)", OpenMeteoWarning, stacklevel=2)
    return params


def weather_params(points, *, api: str = "forecast", past_days: int | None = None, forecast_days: int | None = None,
                   start_date=None, end_date=None, hourly: Sequence[str] = WEATHER_HOURLY) -> dict:
    """Query parameters of an Open-Meteo weather request (forecast or archive API).

    Parameters
    ----------
    points : sequence of (id, latitude, longitude)
    api : {"forecast", "archive"}
        ``forecast`` (92 days back, 16 ahead) or ``archive`` (ERA5 reanalysis, ~5-day delay;
        requires ``start_date``/``end_date``).
    past_days, forecast_days, start_date, end_date
        As :func:`air_quality_params`; forecast_days up to 16.
    hourly : sequence of str
        Variables (default :data:`WEATHER_HOURLY`).

    Returns
    -------
    dict
        ``latitude``, ``longitude``, ``hourly``, ``wind_speed_unit=ms``, ``timezone=Asia/Shanghai``,
        then the period parameters.
    """
    if api not in ("forecast", "archive"):
        raise InputError(f"api must be 'forecast' or 'archive', got {api!r}", column="api")
    pts = _check_points(points)
    params = {
        "latitude": ",".join(_coord(p[1]) for p in pts),
        "longitude": ",".join(_coord(p[2]) for p in pts),
        "hourly": ",".join(hourly),
        "wind_speed_unit": "ms",
        "timezone": TZ_NAME,
    }
    params.update(_time_params(past_days, forecast_days, start_date, end_date,
                               max_forecast=MAX_WEATHER_FORECAST_DAYS, require_dates=(api == "archive")))
    return params


# --------------------------------------------------------------------------- parsing


def _as_run_time(run_time) -> pd.Timestamp:
    if run_time is None or run_time is pd.NaT:
        return pd.NaT
    ts = pd.Timestamp(run_time)
    if ts.tzinfo is None:
        raise InputError("run_time must be timezone-aware (e.g. UTC from the model metadata)", column="run_time")
    return ts.tz_convert(TZ)


def _items(payload, points, what: str) -> list[dict]:
    if isinstance(payload, dict):
        if payload.get("error"):
            raise SourceError(f"Open-Meteo {what} error: {payload.get('reason', payload)}")
        items = [payload]
    elif isinstance(payload, list):
        items = payload
    else:
        raise SourceError(f"Open-Meteo {what}: expected a JSON object or list, got {type(payload).__name__}")
    if len(items) != len(points):
        raise SourceError(f"Open-Meteo {what}: {len(items)} location(s) in the response for {len(points)} point(s)")
    return items


def _hourly_frame(item: dict, point_id: str, what: str, wanted: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    if not isinstance(item, dict) or not isinstance(item.get("hourly"), dict):
        raise SourceError(f"Open-Meteo {what} ({point_id}): no 'hourly' block in the response")
    offset = item.get("utc_offset_seconds")
    if offset is not None and offset != BEIJING_OFFSET_S:
        raise SourceError(
            f"Open-Meteo {what} ({point_id}): response is in UTC{offset / 3600:+g} ({item.get('timezone')}), "
            "not Beijing time; request timezone=Asia/Shanghai"
        )
    hourly = item["hourly"]
    times = hourly.get("time")
    if not isinstance(times, list):
        raise SourceError(f"Open-Meteo {what} ({point_id}): hourly.time missing")
    try:
        t = pd.to_datetime(pd.Series(times, dtype=object), format="%Y-%m-%dT%H:%M")
    except (ValueError, TypeError) as exc:
        raise SourceError(f"Open-Meteo {what} ({point_id}): unexpected time format ({exc}); "
                          "expected yyyy-mm-ddThh:mm (timeformat=iso8601)") from None
    frame = pd.DataFrame({"point": point_id, "time": t.dt.tz_localize(TZ).astype(f"datetime64[ns, {TZ.key}]")})
    missing = []
    for var in wanted:
        values = hourly.get(var)
        if values is None:
            missing.append(var)
            frame[var] = np.nan
            continue
        if len(values) != len(times):
            raise SourceError(f"Open-Meteo {what} ({point_id}): {var} has {len(values)} values for {len(times)} times")
        arr = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype="float64", copy=True)
        arr[np.isinf(arr)] = np.nan  # JSON 'Infinity' / 1e400 is no value: missing, never stored as inf
        frame[var] = arr
    if missing:
        warnings.warn(f"Open-Meteo {what} ({point_id}): variable(s) {', '.join(missing)} absent; left empty",
                      OpenMeteoWarning, stacklevel=3)
    units = item.get("hourly_units") or {}
    grid = {"latitude": item.get("latitude"), "longitude": item.get("longitude"), "elevation": item.get("elevation")}
    return frame, {"units": units, "grid": grid}


def _check_unit(units: dict, var: str, allowed: set[str], point_id: str, what: str) -> None:
    unit = units.get(var)
    if unit is not None and unit not in allowed:
        raise SourceError(f"Open-Meteo {what} ({point_id}): {var} in {unit!r}, expected one of {sorted(allowed)}")


def parse_air_quality(payload, points, run_time) -> pd.DataFrame:
    """Parse an Open-Meteo air-quality response into the model frame.

    Parameters
    ----------
    payload : dict or list of dict
        Decoded JSON (one object per point, a list when several points were requested).
    points : sequence of (id, latitude, longitude)
        The points of the request, in request order.
    run_time : datetime-like (tz-aware) or None
        Issue time of the model run (see module docstring); ``None`` → NaT.

    Returns
    -------
    DataFrame
        ``point``, ``time`` (Beijing, **instantaneous** model value at the stamp),
        ``pm25 pm10 so2 no2 o3`` [µg/m³], ``co`` [mg/m³ = Open-Meteo µg/m³ ÷ 1000],
        ``dust`` [µg/m³], ``aod`` [1], ``model="cams_global"``, ``run_time`` (Beijing),
        ``source="open-meteo"``; sorted by time, point. ``frame.attrs["grid"]`` holds the grid
        cell centre used per point. Missing values (``null``) are NaN.

    Raises
    ------
    SourceError
        An error object, wrong number of locations, a response not in Beijing time, an
        unexpected unit or time format, arrays of the wrong length.
    """
    pts = _check_points(points)
    rt = _as_run_time(run_time)
    frames, grid = [], {}
    for item, (pid, _, _) in zip(_items(payload, pts, "air-quality"), pts):
        frame, meta = _hourly_frame(item, pid, "air-quality", AQ_HOURLY)
        for var in AQ_HOURLY:
            if var != "aerosol_optical_depth":
                _check_unit(meta["units"], var, _UG, pid, "air-quality")
        frame["carbon_monoxide"] = frame["carbon_monoxide"] / 1000.0  # µg/m³ → mg/m³
        frames.append(frame.rename(columns=AQ_COLUMNS))
        grid[pid] = meta["grid"]
    out = pd.concat(frames, ignore_index=True)
    out["model"] = MODEL
    out["run_time"] = pd.Series(rt, index=out.index, dtype=f"datetime64[ns, {TZ.key}]")
    out["source"] = SOURCE
    out = out[list(AQ_FRAME_COLUMNS)].sort_values(["time", "point"], kind="stable").reset_index(drop=True)
    out.attrs["grid"] = grid
    return out


def parse_weather(payload, points, run_time=None, *, source: str = "open-meteo-forecast") -> pd.DataFrame:
    """Parse an Open-Meteo forecast/archive weather response.

    Parameters
    ----------
    payload : dict or list of dict
    points : sequence of (id, latitude, longitude)
    run_time : datetime-like (tz-aware), optional
        Retrieval/issue time of a forecast; NaT for reanalysis.
    source : str
        ``"open-meteo-forecast"`` or ``"open-meteo-archive"``.

    Returns
    -------
    DataFrame
        ``point``, ``time`` (Beijing, instantaneous), ``wind_speed`` [m/s], ``wind_direction``
        [° the wind comes from], ``temperature`` [°C], ``rh`` [%], ``blh`` [m] (NaN if the API
        does not provide it), ``run_time``, ``source``.

    Raises
    ------
    SourceError
        As :func:`parse_air_quality`; wind speed in an unknown unit.
    """
    pts = _check_points(points)
    rt = _as_run_time(run_time)
    frames = []
    for item, (pid, _, _) in zip(_items(payload, pts, "weather"), pts):
        frame, meta = _hourly_frame(item, pid, "weather", WEATHER_HOURLY)
        unit = meta["units"].get("wind_speed_10m", "m/s")
        if unit not in _WIND_FACTORS:
            raise SourceError(f"Open-Meteo weather ({pid}): wind speed in {unit!r}; request wind_speed_unit=ms")
        frame["wind_speed_10m"] = frame["wind_speed_10m"] * _WIND_FACTORS[unit]
        t_unit = meta["units"].get("temperature_2m", "°C")
        if t_unit == "°F":
            frame["temperature_2m"] = (frame["temperature_2m"] - 32) / 1.8
        elif t_unit != "°C":
            raise SourceError(f"Open-Meteo weather ({pid}): temperature in {t_unit!r}")
        frames.append(frame.rename(columns=WEATHER_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    out["run_time"] = pd.Series(rt, index=out.index, dtype=f"datetime64[ns, {TZ.key}]")
    out["source"] = source
    return out[list(WEATHER_FRAME_COLUMNS)].sort_values(["time", "point"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- HTTP


def get_model_run_time(client: HttpClient, meta_url: str = AIR_QUALITY_META_URL) -> pd.Timestamp:
    """Initialisation time of the latest CAMS-global run served by Open-Meteo.

    Returns
    -------
    pandas.Timestamp
        ``last_run_initialisation_time`` of the metadata JSON, in Beijing time.

    Raises
    ------
    SourceError
        Unreachable metadata or no usable field.
    """
    meta = client.get_json(meta_url)
    value = meta.get("last_run_initialisation_time") if isinstance(meta, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise SourceError(f"{meta_url}: no numeric last_run_initialisation_time", url=meta_url)
    return pd.Timestamp(int(value), unit="s", tz="UTC").tz_convert(TZ)


def _try_run_time(client, meta_url) -> pd.Timestamp | None:
    try:
        return get_model_run_time(client, meta_url)
    except SourceError as exc:
        log.warning("model run time unavailable: %s", exc)
        return None


def get_air_quality(points, *, client: HttpClient, past_days: int | None = None, forecast_days: int | None = None,
                    start_date=None, end_date=None, run_time=None, url: str = AIR_QUALITY_URL,
                    meta_url: str = AIR_QUALITY_META_URL) -> pd.DataFrame:
    """Fetch CAMS-global air quality for ``points`` (see :func:`air_quality_params`).

    Parameters
    ----------
    points, past_days, forecast_days, start_date, end_date
        As :func:`air_quality_params`.
    client : HttpClient
        Transport (responses are not cached: forecasts change).
    run_time : datetime-like, optional
        Issue time to record; default from the model metadata (module docstring).
    url, meta_url : str
        Endpoints (tests point them at a local server).

    Returns
    -------
    DataFrame
        :func:`parse_air_quality` frame.

    Raises
    ------
    InputError, SourceError
    """
    params = air_quality_params(points, past_days=past_days, forecast_days=forecast_days,
                                start_date=start_date, end_date=end_date)
    if run_time is not None:
        return parse_air_quality(client.get_json(url, params), points, run_time)
    before = _try_run_time(client, meta_url)
    payload = client.get_json(url, params)
    after = _try_run_time(client, meta_url)
    if before is not None and after is not None and after != before:
        log.info("a new CAMS run (%s) appeared during the request; fetching again", after)
        payload = client.get_json(url, params)
    rt = after or before
    if rt is None:
        rt = pd.Timestamp.now(tz=TZ).floor("h")
        warnings.warn("CAMS run time unavailable from Open-Meteo metadata; recording the retrieval time "
                      f"{rt} as run_time", OpenMeteoWarning, stacklevel=2)
    return parse_air_quality(payload, points, rt)


_BLH_UNSUPPORTED = re.compile(r"boundary_layer_height", re.IGNORECASE)


def get_weather(points, *, client: HttpClient, api: str = "forecast", past_days: int | None = None,
                forecast_days: int | None = None, start_date=None, end_date=None, run_time=None,
                url: str | None = None) -> pd.DataFrame:
    """Fetch hourly weather for ``points`` from the forecast or archive API.

    ``boundary_layer_height`` is requested; if the API rejects it (HTTP 400 naming it — its
    availability in the archive API is UNCONFIRMED) the request is repeated without it and ``blh``
    is left NaN with a warning.

    Parameters
    ----------
    points, api, past_days, forecast_days, start_date, end_date
        As :func:`weather_params`.
    client : HttpClient
    run_time : datetime-like, optional
        Recorded issue time; default: retrieval time floored to the hour for ``forecast``, NaT for
        ``archive`` (reanalysis).
    url : str, optional
        Endpoint (default :data:`FORECAST_URL` / :data:`ARCHIVE_URL`).

    Returns
    -------
    DataFrame
        :func:`parse_weather` frame, ``source`` = ``open-meteo-forecast`` or ``open-meteo-archive``.
    """
    params = weather_params(points, api=api, past_days=past_days, forecast_days=forecast_days,
                            start_date=start_date, end_date=end_date)
    endpoint = url or (FORECAST_URL if api == "forecast" else ARCHIVE_URL)
    retried = False
    try:
        payload = client.get_json(endpoint, params)
    except SourceError as exc:
        if exc.status != 400 or not _BLH_UNSUPPORTED.search(str(exc)):
            raise
        warnings.warn(f"Open-Meteo {api} API does not offer boundary_layer_height here; blh left empty",
                      OpenMeteoWarning, stacklevel=2)
        params = {**params, "hourly": ",".join(v for v in WEATHER_HOURLY if v != "boundary_layer_height")}
        payload = client.get_json(endpoint, params)
        retried = True
    if run_time is None and api == "forecast":
        run_time = pd.Timestamp.now(tz=TZ).floor("h")
    with warnings.catch_warnings():
        if retried:  # already warned
            warnings.filterwarnings("ignore", message=r".*boundary_layer_height absent.*", category=OpenMeteoWarning)
        return parse_weather(payload, points, run_time, source=f"open-meteo-{api}")
