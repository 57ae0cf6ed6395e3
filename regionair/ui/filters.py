"""Shared sidebar filters, held in session state and mirrored in the URL (``bind="query-params"``),
so a link reproduces the exact view. Pages run alone (AppTest) with the defaults."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from .. import region
from ..i18n import LANGS, pollutant_label, t
from ..nomenclature import POLLUTANTS, TZ
from ..region import REGION_ID, SIDE_IDS

PERIODS = ("24h", "72h", "7d", "30d", "heating", "year", "custom")
_PERIOD_HOURS = {"24h": 24, "72h": 72, "7d": 24 * 7, "30d": 24 * 30}
RESOLUTIONS = ("hour", "day", "month")
EDITIONS = ("auto", "2012", "2026")
POLLUTANT_OPTIONS = ("aqi", *POLLUTANTS)
#: Urumqi heating season (采暖期), used by the "this heating season" preset: 15 Oct – 15 Apr.
HEATING_START = (10, 15)
HEATING_END = (4, 15)


@dataclass
class Filters:
    """The current view: everything a page needs to know about what the user asked for."""

    lang: str = "zh"
    period: str = "72h"
    start: pd.Timestamp | None = None  # first hour-ending stamp shown (Beijing)
    end: pd.Timestamp | None = None  # last hour-ending stamp shown (Beijing)
    units: list[str] = field(default_factory=list)
    stations: list[str] = field(default_factory=list)
    pollutant: str = "aqi"
    resolution: str = "hour"
    edition: str = "auto"
    presentation: bool = False
    anchor: pd.Timestamp | None = None  # latest hour in the store

    def unit_names(self) -> dict[str, str]:
        return unit_labels(self.lang)

    def describe(self) -> str:
        """One line naming the view (for chart footers and file names)."""
        if self.start is None:
            return ""
        return f"{self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} (UTC+8)"


def default_units() -> list[str]:
    """Member jurisdictions that the dashboard compares, in catalogue order."""
    j = region.jurisdictions()
    j = j[(j["level"] == "jurisdiction") & j["member"]].sort_values("order")
    return list(j["id"])


def unit_labels(lang: str = "zh") -> dict[str, str]:
    j = region.jurisdictions()
    names = dict(zip(j["id"], j["name_zh" if lang == "zh" else "name_en"], strict=True))
    names[SIDE_IDS["地方"]] = t("side_local", lang)
    names[SIDE_IDS["兵团"]] = t("side_corps", lang)
    names[REGION_ID] = t("region", lang)
    return names


def period_range(period: str, anchor: pd.Timestamp, custom: tuple | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Hour-ending stamps [start, end] of a preset counted back from ``anchor`` (the latest hour)."""
    anchor = pd.Timestamp(anchor).tz_convert(TZ).floor("h")
    if period in _PERIOD_HOURS:
        return anchor - pd.Timedelta(hours=_PERIOD_HOURS[period] - 1), anchor
    if period == "year":
        return pd.Timestamp(anchor.year, 1, 1, 1, tz=TZ), anchor
    if period == "heating":
        y = anchor.year if (anchor.month, anchor.day) >= HEATING_START else anchor.year - 1
        start = pd.Timestamp(y, *HEATING_START, 1, tz=TZ)
        end = min(anchor, pd.Timestamp(y + 1, *HEATING_END, 0, tz=TZ) + pd.Timedelta(days=1))
        return start, end
    if period == "custom" and custom:
        d0, d1 = custom
        return pd.Timestamp(d0, tz=TZ) + pd.Timedelta(hours=1), pd.Timestamp(d1, tz=TZ) + pd.Timedelta(days=1)
    return anchor - pd.Timedelta(hours=71), anchor


def _validate_url(valid: dict[str, tuple], lang: str) -> None:
    """Tell the user about hand-edited URL values that are not valid (the widgets then use defaults)."""
    qp = st.query_params
    for name, allowed in valid.items():
        for value in qp.get_all(name):
            if value and value not in allowed:
                st.warning(t("bad_param", lang, name=name, value=value[:40]), icon="⚠️")


def render_filters(anchor: pd.Timestamp | None, *, stations: list[str] | None = None) -> Filters:
    """Draw the sidebar filters and return the view. Widget values live in session state and the URL."""
    sb = st.sidebar
    lang = sb.segmented_control(t("language"), LANGS, default="zh", key="lang", bind="query-params",
                                format_func=lambda v: "中文" if v == "zh" else "English", required=True) or "zh"
    units_all = [*default_units(), SIDE_IDS["地方"], SIDE_IDS["兵团"], REGION_ID]
    _validate_url({"period": PERIODS, "res": RESOLUTIONS, "edition": EDITIONS, "pollutant": POLLUTANT_OPTIONS,
                   "units": tuple(units_all), "lang": LANGS}, lang)
    presentation = sb.toggle(t("presentation", lang), key="pres", bind="query-params")
    sb.subheader(t("filters", lang))
    period = sb.selectbox(t("period", lang), PERIODS, index=1, key="period", bind="query-params",
                          format_func=lambda p: t(f"period_{p}", lang))
    custom = None
    if period == "custom":
        last = (anchor or pd.Timestamp.now(tz=TZ)).date()
        d = sb.date_input(t("period_custom", lang), value=(last - dt.timedelta(days=6), last), key="dates",
                          bind="query-params")
        if isinstance(d, tuple | list) and len(d) == 2:
            custom = (d[0], d[1])
    names = unit_labels(lang)
    units = sb.multiselect(t("jurisdictions", lang), units_all, default=default_units(), key="units",
                           bind="query-params", format_func=lambda u: names.get(u, u))
    station_opts = sorted(stations or [])
    chosen = sb.multiselect(t("stations", lang), station_opts, default=[], key="stations", bind="query-params",
                            placeholder=t("all_stations", lang))
    pollutant = sb.selectbox(t("pollutant", lang), POLLUTANT_OPTIONS, key="pollutant", bind="query-params",
                             format_func=lambda p: pollutant_label(p, lang, unit=True))
    resolution = sb.segmented_control(t("resolution", lang), RESOLUTIONS, default="hour", key="res",
                                      bind="query-params", required=True,
                                      format_func=lambda r: t(f"res_{r}", lang)) or "hour"
    edition = sb.selectbox(t("edition", lang), EDITIONS, key="edition", bind="query-params",
                           format_func=lambda e: t(f"edition_{e}", lang))
    sb.caption(t("share_link", lang))
    f = Filters(lang=lang, period=period, units=list(units) or default_units(), stations=list(chosen),
                pollutant=pollutant, resolution=resolution, edition=edition, presentation=bool(presentation),
                anchor=anchor)
    if anchor is not None:
        f.start, f.end = period_range(period, anchor, custom)
    return f
