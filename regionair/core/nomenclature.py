"""The one vocabulary of RegionAir: canonical names, units and labels (zh/en).

Every module maps upstream names to these at its edge and uses only these inside.

The canonical hourly frame
--------------------------
One row per station and hour, with columns

``station``  str — station code (CNEMC codes such as ``1490A``; other sources use their own ids)
``time``     datetime64[ns, Asia/Shanghai] — **Beijing time, hour-ending**: the value stamped
             16:00 is the mean of 15:00–16:00 (HJ 663-2013 Table A.1; CNEMC 数据发布说明)
``pm25 pm10 so2 no2 o3``  float64 — 1-hour means [µg/m³]
``co``       float64 — 1-hour mean [mg/m³]
``source``   str — where the row came from (``cnemc-archive``, ``quotsoft``, ``upload``, …)

Optional provenance columns (kept when the source carries them, see :data:`PROVENANCE_COLUMNS`):
``not_monitored`` (``;``-joined pollutant codes the station does not monitor by design, the
CNEMC ``/`` token — distinct from a missing value), ``published_aqi``, ``published_primary``
(canonical codes, ``;``-joined), the publisher's moving means ``published_<p>_24h`` and
``published_o3_8h``, the O3 running maximum ``published_o3_1h_max``, station metadata as published (``station_name``, ``area``, ``longitude``,
``latitude``).

A missing value is always ``NaN`` — never 0.
"""

from __future__ import annotations

import zoneinfo

import pandas as pd

from regionair.errors import InputError

#: Beijing time. CNEMC stamps, natural days and every figure use it (never ``Asia/Urumqi``, UTC+6).
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
TZ_NAME = "Asia/Shanghai"


def beijing_time(value, name: str = "time"):
    """``value`` (ISO string, datetime, date or Timestamp) as a Beijing-time ``pandas.Timestamp``.

    A naive value is taken as Beijing time; an aware one is converted. Raises
    :class:`~regionair.errors.InputError` naming ``name`` when the value is not a time or is missing.
    """


    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}={value!r} is not a time; give ISO 8601 such as 2022-01-03T12:00 or "
                         "2022-01-03 (without an offset = Beijing time)", column=name) from None
    if ts is pd.NaT:
        raise InputError(f"{name} is missing", column=name)
    return ts.tz_localize(TZ) if ts.tzinfo is None else ts.tz_convert(TZ)


def parse_time(text, name: str = "time"):
    """An optional time from the command line or a link: ``None`` stays ``None``; otherwise :func:`beijing_time`."""
    return None if text is None else beijing_time(text, name)


def beijing_date(value, name: str = "date"):
    """``value`` as a Beijing natural day (``datetime.date``); errors as :func:`beijing_time`."""
    return beijing_time(value, name).date()

#: The six basic pollutants of HJ 633, in the order CNEMC lists them on its platform.
POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3")

#: Units of the canonical columns (CNEMC convention; CO in mg/m³).
UNITS: dict[str, str] = {
    "pm25": "µg/m³",
    "pm10": "µg/m³",
    "so2": "µg/m³",
    "no2": "µg/m³",
    "co": "mg/m³",
    "o3": "µg/m³",
    "o3_8h": "µg/m³",
}

#: Display names.
POLLUTANT_LABELS: dict[str, dict[str, str]] = {
    "pm25": {"zh": "PM2.5", "en": "PM2.5"},
    "pm10": {"zh": "PM10", "en": "PM10"},
    "so2": {"zh": "二氧化硫", "en": "SO₂"},
    "no2": {"zh": "二氧化氮", "en": "NO₂"},
    "co": {"zh": "一氧化碳", "en": "CO"},
    "o3": {"zh": "臭氧", "en": "O₃"},
    "o3_8h": {"zh": "臭氧8小时", "en": "O₃ 8-h"},
}

#: Columns every canonical hourly frame has, in order.
HOURLY_COLUMNS: tuple[str, ...] = ("station", "time", *POLLUTANTS, "source")

#: Moving means published by CNEMC, kept for reconciliation only.
PUBLISHED_MEANS: tuple[str, ...] = (
    "published_pm25_24h",
    "published_pm10_24h",
    "published_so2_24h",
    "published_no2_24h",
    "published_co_24h",
    "published_o3_8h",
)

#: Optional provenance columns of the canonical frame.
#: One value per station-hour wherever people read the data (pages, briefings, snapshots, alerts, city values):
#: when several sources hold the same station-hour, the first of these wins. A value uploaded by the bureau
#: (e.g. audited data or a correction) overrides what CNEMC published; the archive (complete, published once)
#: before the live feed; the quotsoft mirror of the same CNEMC data after both; other networks last. The CLI's
#: ``export`` keeps one row per source (with its ``source`` column) for scripts.
SOURCE_PRECEDENCE: tuple[str, ...] = ("upload", "cnemc-archive", "cnemc-http", "quotsoft", "waqi", "openaq")

PROVENANCE_COLUMNS: tuple[str, ...] = (
    "not_monitored",
    "published_aqi",
    "published_primary",
    *PUBLISHED_MEANS,
    "published_o3_1h_max",
    "station_name",
    "area",
    "longitude",
    "latitude",
)

#: CNEMC primary-pollutant labels → canonical codes. Matched by pattern (see
#: :func:`regionair.sources.cnemc_archive.parse_primary`): spellings vary over time.
PRIMARY_LABEL_PATTERNS: tuple[tuple[str, str], ...] = (
    ("PM2.5", "pm25"),
    ("PM10", "pm10"),
    ("臭氧8小时", "o3_8h"),
    ("O3_8h", "o3_8h"),
    ("臭氧", "o3"),
    ("O3", "o3"),
    ("二氧化硫", "so2"),
    ("SO2", "so2"),
    ("二氧化氮", "no2"),
    ("NO2", "no2"),
    ("一氧化碳", "co"),
    ("CO", "co"),
)
