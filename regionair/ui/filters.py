"""Shared sidebar filters, held in session state and mirrored in the URL (``bind="query-params"``),
so a link reproduces the exact view. Pages run alone (AppTest) with the defaults."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from regionair.core import region
from regionair.core.i18n import LANGS, pollutant_label, t
from regionair.core.nomenclature import POLLUTANTS, TZ
from regionair.core.region import REGION_ID, SIDE_IDS
from regionair.ui.text import md_args

PERIODS = ("24h", "72h", "7d", "30d", "heating", "year", "custom")
_PERIOD_HOURS = {"24h": 24, "72h": 72, "7d": 24 * 7, "30d": 24 * 30}
RESOLUTIONS = ("hour", "day", "month")
EDITIONS = ("auto", "2012", "2026")
POLLUTANT_OPTIONS = ("aqi", *POLLUTANTS)
#: Urumqi heating season (采暖期), used by the "this heating season" preset: 15 Oct – 15 Apr.
HEATING_START = (10, 15)
HEATING_END = (4, 15)
#: Longest custom period a view may ask for [days]: five years (the longest period the pages are built
#: and benchmarked for); a longer link is shortened to its last five years, with a message.
MAX_PERIOD_DAYS = 5 * 366


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


def place_names(lang: str = "zh") -> dict[str, str]:
    """Jurisdiction and district codes → names in ``lang`` (for tables that list either)."""
    d = region.boundaries(level="district")
    return {**dict(zip(d["id"], d["name_zh" if lang == "zh" else "name_en"], strict=True)), **unit_labels(lang)}


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


def clamp_dates(d0: dt.date, d1: dt.date, first: dt.date | None, last: dt.date | None) -> tuple[dt.date, dt.date, str | None]:
    """A custom period [d0, d1] (natural days) bounded by the store's span [first, last] and
    :data:`MAX_PERIOD_DAYS`. Returns the days to show and why they differ from the request
    (``"outside"``, ``"clamped"``, ``"too_long"``) or None when the request stands."""
    why = None
    if d0 > d1:
        d0, d1, why = d1, d0, "clamped"
    if first is not None and last is not None:
        if d1 < first or d0 > last:  # nothing of the request is in the store: its nearest end instead
            edge = first if d1 < first else last
            return edge, edge, "outside"
        if d0 < first or d1 > last:
            d0, d1, why = max(d0, first), min(d1, last), "clamped"
    if (d1 - d0).days + 1 > MAX_PERIOD_DAYS:
        d0, why = d1 - dt.timedelta(days=MAX_PERIOD_DAYS - 1), "too_long"
    return d0, d1, why


def _defaults() -> dict:
    return {"lang": "zh", "pres": False, "period": "72h", "units": default_units(), "stations": [],
            "pollutant": "aqi", "res": "hour", "edition": "auto"}


def _load_url(units_all: list[str], stations: list[str]) -> list[tuple[str, str]]:
    """Once per session: copy valid URL parameters into session state; return the invalid ones.

    Values in the URL are codes (``period=24h``, ``units=urumqi``), never display labels, so a link
    works in either language. An invalid value is reported and the default kept.
    """
    qp = st.query_params
    bad: list[tuple[str, str]] = []
    single = {"lang": LANGS, "period": PERIODS, "pollutant": POLLUTANT_OPTIONS, "res": RESOLUTIONS, "edition": EDITIONS}
    for key, allowed in single.items():
        if key in qp:
            v = qp.get(key)
            if v in allowed:
                st.session_state[key] = v
            else:
                bad.append((key, v))
    if "pres" in qp:
        st.session_state["pres"] = qp.get("pres") in ("1", "true", "True")
    for key, allowed in (("units", units_all), ("stations", stations)):
        if key in qp:
            values = [v for part in qp.get_all(key) for v in part.split(",") if v]
            good = [v for v in values if v in allowed]
            bad += [(key, v) for v in values if v not in allowed]
            if good:
                st.session_state[key] = good
    if "start" in qp and "end" in qp:
        try:
            d0, d1 = dt.date.fromisoformat(qp.get("start")), dt.date.fromisoformat(qp.get("end"))
            if d0 <= d1:
                st.session_state["dates"] = (d0, d1)
            else:
                bad.append(("start", qp.get("start")))
        except ValueError:
            bad.append(("start", qp.get("start")))
    return bad


def _day(stamp: pd.Timestamp | None) -> dt.date | None:
    """The natural day (Beijing) an hour-ending stamp belongs to (00:00 closes the previous day)."""
    return None if stamp is None else (pd.Timestamp(stamp).tz_convert(TZ) - pd.Timedelta(hours=1)).date()


def _write_url(f: Filters, dates) -> None:
    """Mirror the view in the URL (only values that differ from the defaults, to keep links short)."""
    d = _defaults()
    own = {"lang", "period", "pollutant", "res", "edition", "pres", "units", "stations", "start", "end"}
    # keep parameters that belong to a page (e.g. the 会商 page's ?snapshot=<id> permalink)
    params: dict[str, str | list[str]] = {k: st.query_params.get(k) for k in st.query_params if k not in own}
    if "_page" in st.query_params:
        return
    for key, value in (("lang", f.lang), ("period", f.period), ("pollutant", f.pollutant), ("res", f.resolution),
                       ("edition", f.edition)):
        if value != d[key]:
            params[key] = value
    if f.presentation:
        params["pres"] = "1"
    if f.units != d["units"]:
        params["units"] = ",".join(f.units)
    if f.stations:
        params["stations"] = ",".join(f.stations)
    if f.period == "custom" and dates:
        params["start"], params["end"] = str(dates[0]), str(dates[1])
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def render_filters(anchor: pd.Timestamp | None, *, stations: list[str] | None = None,
                   earliest: pd.Timestamp | None = None) -> Filters:
    """Draw the sidebar filters and return the view. Values live in session state and the URL.

    ``anchor`` and ``earliest`` are the latest and first hour in the store: a custom period is kept
    inside them (a link may ask for any dates; the page never reads centuries of empty time)."""
    units_all = [*default_units(), SIDE_IDS["地方"], SIDE_IDS["兵团"], REGION_ID]
    station_opts = sorted(stations or [])
    bad = []
    if not st.session_state.get("_url_loaded"):
        bad = _load_url(units_all, station_opts)
        st.session_state["_url_loaded"] = True
    for key, value in _defaults().items():
        st.session_state.setdefault(key, value)
    sb = st.sidebar
    lang = sb.segmented_control(t("language"), LANGS, key="lang", required=True,
                                format_func=lambda v: "中文" if v == "zh" else "English") or "zh"
    for name, value in bad:
        st.warning(t("bad_param", lang, **md_args(name=str(name)[:40], value=str(value)[:40])), icon=":material/link_off:")
    presentation = sb.toggle(t("presentation", lang), key="pres")
    sb.subheader(t("filters", lang))
    period = sb.selectbox(t("period", lang), PERIODS, key="period", format_func=lambda p: t(f"period_{p}", lang))
    custom = None
    if period == "custom":
        last = _day(anchor) or pd.Timestamp.now(tz=TZ).date()
        first = _day(earliest) or last
        st.session_state.setdefault("dates", (max(first, last - dt.timedelta(days=6)), last))
        asked = st.session_state["dates"]
        if isinstance(asked, tuple | list) and len(asked) == 2:
            d0, d1, why = clamp_dates(asked[0], asked[1], first, last)
            if why:
                st.session_state["dates"] = (d0, d1)
                st.warning(t(f"period_{why}", lang, start=str(asked[0]), end=str(asked[1]), first=str(first),
                             last=str(last), shown=f"{d0}–{d1}", days=MAX_PERIOD_DAYS), icon=":material/date_range:")
        d = sb.date_input(t("period_custom", lang), key="dates", min_value=first, max_value=last,
                          format="YYYY-MM-DD")
        if isinstance(d, tuple | list) and len(d) == 2:
            custom = (d[0], d[1])
    names = unit_labels(lang)
    units = sb.multiselect(t("jurisdictions", lang), units_all, key="units", format_func=lambda u: names.get(u, u))
    chosen = sb.multiselect(t("stations", lang), station_opts, key="stations", placeholder=t("all_stations", lang))
    pollutant = sb.selectbox(t("pollutant", lang), POLLUTANT_OPTIONS, key="pollutant",
                             format_func=lambda p: pollutant_label(p, lang, unit=True))
    resolution = sb.segmented_control(t("resolution", lang), RESOLUTIONS, key="res", required=True,
                                      format_func=lambda r: t(f"res_{r}", lang)) or "hour"
    edition = sb.selectbox(t("edition", lang), EDITIONS, key="edition", format_func=lambda e: t(f"edition_{e}", lang))
    sb.caption(t("share_link", lang))
    f = Filters(lang=lang, period=period, units=list(units) or default_units(), stations=list(chosen),
                pollutant=pollutant, resolution=resolution, edition=edition, presentation=bool(presentation),
                anchor=anchor)
    if anchor is not None:
        f.start, f.end = period_range(period, anchor, custom)
    _write_url(f, custom)
    return f
