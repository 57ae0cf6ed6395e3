"""Briefing documents (会商简报): one data model, rendered to DOCX, HTML and PDF.

``python -m regionair report --start 2022-01-01 --end 2022-01-03 --format docx --out briefing.docx``

:func:`build_briefing` computes everything once from the canonical hourly frame — period statistics
per jurisdiction and for the region, 地方 vs 兵团, episodes with onset order, primary-pollutant shares,
near-threshold days and warnings, data completeness and caveats, and the figures (map, trend,
calendar, primary pollutants). :func:`blocks` lays it out as numbered sections in the style of a
Chinese official document (title, issuing-unit placeholder, date; 一、二、… sections); the renderers
only draw those blocks:

* :func:`to_docx` — python-docx; every format comes from named styles (``Title``, ``Heading 1``,
  ``RA Body`` …) so staff can restyle and edit the document in Word/WPS;
* :func:`to_html` — one self-contained file (figures as data-URI PNGs, CSS inline);
* :func:`to_pdf` — that HTML printed by headless Chromium, which embeds the Noto CJK fonts.

Every Chromium job has a deadline (:func:`regionair.render.bundle.render_timeout`). When the figures cannot be
drawn (no Chromium, or it hangs), DOCX and HTML are written text-only with a warning at the top (and in
``problems``, which the CLI prints to stderr); a PDF, which needs Chromium to print, fails with a
:class:`~regionair.render.bundle.RenderError` naming Chromium and the fix.

Statistics follow :mod:`regionair.analysis.ranking` (HJ 663 period statistics, composite index,
GB 3095 validity) on the jurisdictions' daily values by HJ 663 (each station's valid daily values first,
:mod:`regionair.analysis.evaluation`); hourly tables use the hourly area means.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from regionair import meeting
from regionair.analysis._common import unit_catalogue
from regionair.analysis.episodes import EPISODE_RULE, detect_episodes
from regionair.analysis.evaluation import derivation_table, jurisdiction_daily, reason_text, station_daily
from regionair.analysis.latest import unit_hourly
from regionair.analysis.primary import primary_shares
from regionair.analysis.ranking import ranking
from regionair.analysis.trends import calendar_data
from regionair.core import aqi, region
from regionair.core import standards as S
from regionair.core.files import atomic_write
from regionair.core.i18n import category_name, pair_text, pollutant_label, primary_label
from regionair.core.i18n import t as i18n_t
from regionair.core.nomenclature import POLLUTANTS, SOURCE_PRECEDENCE, TZ
from regionair.errors import InputError, RegionairError
from regionair.meeting import STATUSES
from regionair.render import charts
from regionair.render.bundle import (
    CHROMIUM_FIX,
    PNG_SCALE,
    ChartItem,
    RenderError,
    find_chromium,
    image_problem,
    kill_tree,
    missing_chromium_message,
    render_image,
    render_timeout,
    renderer,
)
from regionair.render.charts import overlay_measures
from regionair.store import Store
from regionair.warnings.desk import warnings_report

FORMATS = ("docx", "pdf", "html")
#: Document typography per language: Chinese briefings follow the official-document layout (GB/T 9704: 仿宋
#: body, 黑体 headings, numbered （一）…), English ones a plain serif layout.
TYPOGRAPHY = {"zh": {"cjk": True, "serif": "FangSong", "east": "仿宋_GB2312", "size": 14, "line": 26, "code": "zh-CN"},
              "en": {"cjk": False, "serif": "Times New Roman", "east": "Times New Roman", "size": 11, "line": 15,
                     "code": "en"}}
#: The briefing's sections, in document order: :attr:`Briefing.paragraphs` and the meeting page use these names.
SECTIONS = ("summary", "local_vs_corps", "episodes", "primary", "warnings", "data_quality", "figures", "minutes")
#: Its tables (:func:`tables`), in document order; "actions" only with minutes, "derivation" with the annex.
TABLES = ("indicators", "category_days", "local_vs_corps", "episodes", "primary_shares", "near_threshold",
          "warning_events", "completeness", "actions", "derivation")
_P = ["station", "time", *POLLUTANTS]
_HOUR = pd.Timedelta(hours=1)
#: Daily AQI band counted as a near-threshold (临界) day [AQI], inclusive — as the warnings desk's 临界天.
CRITICAL_BAND = (90, 110)
#: Hourly AQI within this many points below a category boundary is a near-threshold hour [AQI].
NEAR_BAND = 15
NEAR_BOUNDARIES = (100, 150, 200, 300)
BASIS = "HJ663-2013"

_LEVELS = {"none": ("无", "none"), "yellow": ("黄色预警", "Yellow"), "orange": ("橙色预警", "Orange"),
           "red": ("红色预警", "Red"), "temporary": ("临时管控", "Temporary controls"), "blue": ("蓝色预警", "Blue")}
_EVENTS = {"start": ("启动", "start"), "upgrade": ("升级", "upgrade"), "lift": ("解除", "lift"),
           "clear": ("结束", "clear")}


# ------------------------------------------------------------------------------------------------
# number formatting (also used by the tests to compare table cells)
# ------------------------------------------------------------------------------------------------


def fmt_num(v, nd: int = 0, sign: bool = False) -> str:
    """A number for a table cell: ``nd`` decimals, optional sign; '—' when missing."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return "—"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if np.isnan(x):
        return "—"
    s = f"{x:+.{nd}f}" if sign else f"{x:.{nd}f}"
    return "0" if s in ("-0", "+0") and nd == 0 else s


def fmt_day(d, lang: str) -> str:
    d = pd.Timestamp(d)
    return i18n_t("rp_fmt_day", lang, y=d.year, m=d.month, d=d.day, month=f"{d:%B}")


def fmt_time(t, lang: str) -> str:
    t = pd.Timestamp(t)
    return i18n_t("rp_fmt_time", lang, m=t.month, d=t.day, dd=f"{t:%d}", mon=f"{t:%b}", hh=f"{t:%H}", hm=f"{t:%H:%M}")


# ------------------------------------------------------------------------------------------------
# the data model
# ------------------------------------------------------------------------------------------------


@dataclass
class Table:
    """A table of the briefing: caption, header and rows of display strings (first column = unit)."""

    key: str
    caption: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""
    data: pd.DataFrame | None = None  # the numbers behind it


@dataclass
class Briefing:
    """Everything a briefing shows; build with :func:`build_briefing`, render with :func:`render`."""

    lang: str
    start: dt.date
    end: dt.date
    t0: pd.Timestamp
    t1: pd.Timestamp
    units: list[str]  # jurisdictions shown (with evaluation stations)
    no_station: list[str]  # selected jurisdictions without a national evaluation station
    names: dict[str, str]
    editions: list[str]
    title: str
    issuer: str
    issue_date: dt.date
    summary: pd.DataFrame  # region + units: period statistics (ranking columns)
    sides: pd.DataFrame
    episodes: pd.DataFrame
    onsets: pd.DataFrame
    primary: pd.DataFrame  # long: station, pollutant, count, n, share
    primary_unit: str  # "hour" or "day"
    near: pd.DataFrame
    events: pd.DataFrame
    completeness: pd.DataFrame
    caveats: list[str]
    figures: list[ChartItem]
    paragraphs: dict[str, list[str]] = field(default_factory=dict)
    actions: pd.DataFrame | None = None
    minutes: dict | None = None
    meta: dict = field(default_factory=dict)
    derivation: pd.DataFrame | None = None  # per unit and day: stations counted / left out (annex)
    _images: dict = field(default_factory=dict, repr=False)

    def image(self, name: str, fmt: str = "png") -> bytes:
        """PNG/SVG of a figure (rendered once, then cached). Raises :class:`~regionair.render.bundle.RenderError`."""
        key = (name, fmt)
        if key not in self._images:
            item = next(f for f in self.figures if f.name == name)
            self._images[key] = render_image(item.figure, fmt)
        return self._images[key]

    def draw_figures(self) -> str | None:
        """Render every figure's PNG (one Chromium batch, each image with its deadline); ``None`` when all
        are drawn, else the reason (the document is then laid out text-only). A failure is not kept: the
        next document tries again (:mod:`regionair.render.bundle` skips a Chromium that just hung for a while)."""
        todo = [f for f in self.figures if (f.name, "png") not in self._images]
        if not todo:
            return None
        try:
            with renderer() as draw:
                for f in todo:
                    w = f.figure.layout.width or 1000
                    h = f.figure.layout.height or 560
                    self._images[(f.name, "png")] = draw(f.figure, "png", scale=PNG_SCALE, width=w, height=h)
        except RenderError as exc:
            return str(exc)
        return None


def _names(lang: str) -> dict[str, str]:
    cat = unit_catalogue()
    names = cat[f"name_{lang}"].to_dict()
    names["region"] = i18n_t("rp_whole_region", lang)
    names["side:local"] = i18n_t("rp_side_local", lang)
    names["side:corps"] = i18n_t("rp_side_corps", lang)
    return names


def _members() -> list[str]:
    j = region.jurisdictions()
    j = j[(j["level"] == "jurisdiction") & j["member"]].sort_values("order")
    return list(j["id"])


def _period(start, end) -> tuple[dt.date, dt.date, pd.Timestamp, pd.Timestamp]:
    try:
        d0, d1 = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    except (ValueError, TypeError):
        raise InputError(f"start/end {start!r}/{end!r} are not dates (YYYY-MM-DD)", column="start") from None
    if d1 < d0:
        raise InputError(f"end={d1} is before start={d0}", column="end")
    t0 = pd.Timestamp(d0, tz=TZ) + _HOUR
    t1 = pd.Timestamp(d1, tz=TZ) + pd.Timedelta(days=1)
    return d0, d1, t0, t1


def _daily(hourly: pd.DataFrame, level: str, edition: str) -> pd.DataFrame:
    """Area daily values by HJ 663 (each station's valid daily values first; analysis.evaluation) —
    the numbers every page and command shows; ``station`` = the unit id."""
    if hourly.empty:
        return pd.DataFrame(columns=["station", "date", "aqi"])
    d = jurisdiction_daily(hourly[_P], level=level, edition=edition)
    return d.rename(columns={"jurisdiction": "station"})


def _rank(daily: pd.DataFrame, d0, d1, prev: pd.DataFrame | None) -> pd.DataFrame:
    if daily.empty or daily["aqi"].notna().sum() == 0:
        return pd.DataFrame(columns=["station"])
    use_prev = prev if prev is not None and len(prev) and prev["aqi"].notna().any() else None
    try:
        return ranking(daily, d0, d1, basis=BASIS, previous=use_prev)
    except InputError:  # previous period without any valid day in the same dates
        return ranking(daily, d0, d1, basis=BASIS)


def build_briefing(hourly: pd.DataFrame, start, end, *, jurisdictions=None, lang: str = "zh", edition: str = "auto",
                   previous_hourly: pd.DataFrame | None = None, measures: pd.DataFrame | None = None,
                   actions: pd.DataFrame | None = None, minutes: dict | None = None, meta: dict | None = None,
                   issue_date=None, title: str | None = None, issuer: str | None = None) -> Briefing:
    """Compute the briefing's data model from the canonical hourly frame.

    Parameters
    ----------
    hourly : DataFrame — canonical hourly frame covering the natural days ``start`` … ``end`` (hour-ending
        stamps D 01:00 … D+1 00:00, Beijing).
    start, end : date — first and last natural day (inclusive).
    jurisdictions : ids shown in the tables (default every member jurisdiction). The region and the
        地方/兵团 aggregates always use every member.
    lang : {"zh", "en"}
    edition : {"auto", "2012", "2026"} — HJ 633 edition.
    previous_hourly : the same days one year earlier (for the change vs last year); None → "—".
    measures, actions, minutes : control measures (overlaid on the trend), agreed actions and minutes of a
        meeting (:mod:`regionair.meeting`) to include.
    meta : data provenance (store version, snapshot …) shown in the caveats.

    Returns
    -------
    Briefing
    """
    if lang not in ("zh", "en"):
        raise InputError(f"lang={lang!r}; valid: 'zh', 'en'", column="lang")
    aqi._check_edition(edition)
    d0, d1, t0, t1 = _period(start, end)
    members = _members()
    sel = list(jurisdictions) if jurisdictions else members
    bad = [u for u in sel if u not in members]
    if bad:
        raise InputError(f"unknown or non-member jurisdictions {bad}; valid: {', '.join(members)}",
                         column="jurisdictions")
    names = _names(lang)
    h = hourly[(hourly["time"] >= t0) & (hourly["time"] <= t1)] if len(hourly) else hourly
    if h.empty:
        raise InputError(f"no measurements between {t0:%Y-%m-%d %H:%M} and {t1:%Y-%m-%d %H:%M} (Beijing); "
                         "ingest data for the period first (python -m regionair ingest …)", column="start")

    ju = unit_hourly(h, level="jurisdiction", edition=edition)
    reg = unit_hourly(h, level="region", edition=edition)
    dj, ds, dr = _daily(h, "jurisdiction", edition), _daily(h, "side", edition), _daily(h, "region", edition)

    prev_j = prev_a = None
    if previous_hourly is not None and len(previous_hourly):
        prev_j = _daily(previous_hourly, "jurisdiction", edition)
        prev_a = pd.concat([_daily(previous_hourly, "region", edition), _daily(previous_hourly, "side", edition)],
                           ignore_index=True)

    rank_j = _rank(dj, d0, d1, prev_j)
    rank_a = _rank(pd.concat([dr, ds], ignore_index=True), d0, d1, prev_a)
    for c in ("composite_rank",):
        if c in rank_a:
            rank_a[c] = pd.NA
    with_data = [u for u in sel if u in set(rank_j["station"])]
    no_station = [u for u in sel if u not in with_data]
    order = ["region", *with_data]
    summary = pd.concat([rank_a[rank_a["station"] == "region"], rank_j[rank_j["station"].isin(with_data)]],
                        ignore_index=True)
    summary = summary.set_index("station").loc[order].reset_index()
    side_tbl = rank_a[rank_a["station"].isin(["side:local", "side:corps"])].set_index("station")
    side_tbl = side_tbl.reindex(["side:local", "side:corps"]).reset_index()

    # episodes (hourly, any unit AQI > 100 for ≥ 6 h, gaps ≤ 3 h merged — as the episodes page)
    ju_sel = ju[ju["station"].isin(with_data)]
    episodes, onsets = detect_episodes(ju_sel, resolution="hour", **EPISODE_RULE)

    # primary pollutants: days for a month or more, hours for shorter periods
    n_days = (d1 - d0).days + 1
    p_unit = "day" if n_days >= 28 else "hour"
    if p_unit == "day":
        src = pd.concat([dr, dj[dj["station"].isin(with_data)]], ignore_index=True)
    else:
        src = pd.concat([reg, ju_sel], ignore_index=True)
    prim = primary_shares(src, by="station", unit=p_unit)

    # near-threshold days/hours and warnings (replayed from observations)
    near, events = _near_and_warnings(h, ju, dj, with_data, t0, t1)

    completeness = _completeness(h, with_data, t0, t1, summary)
    editions = sorted({str(aqi.edition_for(d0)), str(aqi.edition_for(d1))})

    b = Briefing(lang=lang, start=d0, end=d1, t0=t0, t1=t1, units=with_data, no_station=no_station, names=names,
                 editions=editions, title=title or i18n_t("rp_title", lang), issuer=issuer or i18n_t("rp_issuer", lang),
                 issue_date=pd.Timestamp(issue_date).date() if issue_date is not None else pd.Timestamp.now(tz=TZ).date(),
                 summary=summary, sides=side_tbl, episodes=episodes, onsets=onsets, primary=prim, primary_unit=p_unit,
                 near=near, events=events, completeness=completeness, caveats=[], figures=[],
                 actions=actions, minutes=minutes, meta=dict(meta or {}))
    b.derivation = derivation_table(station_daily(h[_P]), with_data, d0, d1).merge(
        dj.rename(columns={"station": "jurisdiction"})[["jurisdiction", "date", "aqi"]], on=["jurisdiction", "date"],
        how="left")
    b.figures = _figures(b, h, ju_sel, dj[dj["station"].isin(with_data)], measures, edition)
    b.caveats = _caveats(b, previous_available=prev_j is not None and "prev_composite_index" in rank_j)
    b.paragraphs = _paragraphs(b)
    return b


def _near_and_warnings(h, ju, dj, units, t0, t1) -> tuple[pd.DataFrame, pd.DataFrame]:
    lo, hi = CRITICAL_BAND
    crit = dj[(dj["aqi"] >= lo) & (dj["aqi"] <= hi)].groupby("station").size()
    a = ju["aqi"].to_numpy(dtype="float64")
    near = np.zeros(len(ju), dtype=bool)
    for bnd in NEAR_BOUNDARIES:
        near |= (bnd - a >= 0) & (bnd - a <= NEAR_BAND)
    near_h = ju.loc[near].groupby("station").size()
    try:

        rep = warnings_report(h, at=t1)
        tl = rep["warning_timeline"]
    except (RegionairError, KeyError, ValueError):  # e.g. too little data for the replay
        tl = pd.DataFrame(columns=["jurisdiction", "time", "state", "event"])
    tl = tl[(tl["time"] >= t0) & (tl["time"] <= t1) & tl["jurisdiction"].isin(units)]
    events = tl[tl["event"] != ""][["jurisdiction", "time", "event", "state"]].reset_index(drop=True)
    started = events[events["event"].isin(["start", "upgrade"])].groupby("jurisdiction").size()
    rank = {"none": 0, "temporary": 1, "blue": 2, "yellow": 3, "orange": 4, "red": 5}
    top = tl.assign(_r=tl["state"].map(rank).fillna(0)).sort_values("_r").groupby("jurisdiction")["state"].last()
    out = pd.DataFrame({"station": units})
    out["critical_days"] = out["station"].map(crit).fillna(0).astype(int)
    out["days_over_100"] = out["station"].map(dj[dj["aqi"] > 100].groupby("station").size()).fillna(0).astype(int)
    out["near_hours"] = out["station"].map(near_h).fillna(0).astype(int)
    out["warnings_started"] = out["station"].map(started).fillna(0).astype(int)
    out["highest_state"] = out["station"].map(top).fillna("none")
    return out, events


def _completeness(h, units, t0, t1, summary) -> pd.DataFrame:
    cat = region.stations()
    ev = cat[~cat["background"].astype(bool)]
    hours = int((t1 - t0) / _HOUR) + 1
    reporting = set(h["station"].astype(str))
    rows = []
    for u in units:
        codes = [c for c in ev.loc[ev["jurisdiction"] == u, "code"] if c in reporting]  # stations operating then
        got = h[h["station"].isin(codes)].drop_duplicates(["station", "time"])
        valid = int(got["pm25"].notna().sum())
        expected = len(codes) * hours
        s = summary[summary["station"] == u]
        rows.append({"station": u, "n_stations": len(codes), "hours": hours, "expected_station_hours": expected,
                     "valid_pm25_station_hours": valid,
                     "capture_pm25": 100.0 * valid / expected if expected else np.nan,
                     "n_valid_days": int(s["n_valid_days"].iloc[0]) if len(s) else 0,
                     "days_in_period": int(s["days_in_period"].iloc[0]) if len(s) else 0,
                     "valid_statistic": bool(s["valid_statistic"].iloc[0]) if len(s) else False})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------------

_FOOT_MARGIN = 130  # bottom margin that holds the legend and the footer line [px]


def _foot(fig, text: str, *, width: int = 1000, height: int = 520, left: int | None = None):
    """Fix the export size and put the footer (source · period · edition) at the bottom edge, inside the
    image: :func:`regionair.render.charts.footer` places it relative to the plot height, which clips it on tall
    or short figures."""
    top = 60
    fig.update_layout(width=width, height=height, margin=dict(t=top, b=_FOOT_MARGIN, **({"l": left} if left else {})))
    plot_h = height - top - _FOOT_MARGIN
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=-(_FOOT_MARGIN - 10) / plot_h, xanchor="left",
                       yanchor="bottom", showarrow=False, font=dict(size=11, color="#555"))
    return fig


def _figures(b: Briefing, h, ju, dj, measures, edition: str) -> list[ChartItem]:
    lang, names = b.lang, b.names
    period = f"{b.start:%Y-%m-%d}–{b.end:%Y-%m-%d}"
    eds = " / ".join(f"HJ 633-{e}" for e in b.editions)
    foot = i18n_t("rp_figure_footer", lang, period=period, editions=eds)
    items: list[ChartItem] = []

    # map: the last day's daily AQI per jurisdiction and station
    last = dj["date"].max() if len(dj) else b.end
    units_tbl = dj[dj["date"] == last][["station", "aqi"]].rename(columns={"station": "id"})
    units_tbl["name"] = units_tbl["id"].map(names)
    st_daily = aqi.daily_aqi(h[_P], edition=edition)  # each station's own daily AQI
    st_daily = st_daily[st_daily["date"] == last]
    cat = region.stations().rename(columns={"code": "station"})
    st_tbl = st_daily.merge(cat[["station", "name_zh", "name_en", "jurisdiction", "longitude", "latitude"]],
                            on="station", how="inner")
    side = region.jurisdictions().set_index("id")["side"]
    st_tbl["side"] = st_tbl["jurisdiction"].map(side).fillna("地方")
    st_tbl["name"] = st_tbl[f"name_{lang}"]
    st_tbl = st_tbl[["station", "name", "jurisdiction", "side", "longitude", "latitude", "aqi", "category",
                     "primary_pollutants"]]
    bounds = region.boundaries(level="district")
    fig = charts.region_map(bounds, units_tbl, st_tbl, title=i18n_t("rp_f_map", lang, day=f"{pd.Timestamp(last):%Y-%m-%d}"),
                            lang=lang, day=pd.Timestamp(last).date())
    import plotly.graph_objects as go  # plotly loads only when a figure is made here

    for cat in S.CATEGORIES:  # colour key of the AQI categories (HJ 633 Annex A)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=category_name(cat["level"], lang),
                                 marker=dict(size=12, symbol="square", color=cat["hex"], line=dict(width=0.5, color="#555"))))
    items.append(ChartItem("map", _foot(fig, foot, height=680), st_tbl, title=fig.layout.title.text))

    # trend: hourly AQI for a week or less, daily AQI otherwise
    if (b.end - b.start).days + 1 <= 7:
        series = ju[["station", "time", "aqi"]].rename(columns={"time": "x"})
    else:
        series = dj[["station", "date", "aqi"]].rename(columns={"date": "x"})
    series = series.assign(unit=series["station"].map(names))
    fig = charts.time_series(series, x="x", y="aqi", color="unit", title=i18n_t("rp_f_trend", lang), y_title="AQI",
                             lang=lang, bands=True)
    if measures is not None and len(measures):
        overlay_measures(fig, measures[measures["jurisdiction"].isin(b.units)], names=names, lang=lang)
    fig.update_layout(legend=dict(y=-0.22))
    items.append(ChartItem("trend", _foot(fig, foot), series, title=i18n_t("rp_f_trend", lang)))

    # calendar of daily AQI
    cal = calendar_data(dj).assign(unit=lambda d: d["station"].map(names))
    cal = cal.assign(date=cal["date"].astype(str), unit=pd.Categorical(cal["unit"], [names.get(u, u) for u in b.units]))
    fig = charts.calendar_heatmap(cal, title=i18n_t("rp_f_cal", lang), lang=lang)
    fig.update_xaxes(type="category", tickangle=0)
    fig.update_traces(texttemplate="%{z:.0f}", textfont=dict(size=13, color="white"))
    items.append(ChartItem("calendar", _foot(fig, foot, height=max(340, 200 + 52 * len(b.units)), left=170),
                           cal, title=i18n_t("rp_f_cal", lang)))

    # primary pollutant shares
    sh = b.primary.assign(unit=b.primary["station"].map(names),
                          pollutant_label=b.primary["pollutant"].map(lambda c: pollutant_label(c, lang)))
    sh = sh[sh["count"] > 0]
    unit_word = i18n_t("rp_unit_hours" if b.primary_unit == "hour" else "unit_days", lang)
    fig = charts.stacked_bars(sh, x="unit", y="share", color="pollutant_label",
                              title=i18n_t("rp_with_unit", lang, text=i18n_t("rp_f_primary", lang), unit=unit_word), y_title="%")
    fig.update_xaxes(categoryorder="array", categoryarray=[names.get(u, u) for u in ["region", *b.units]])
    fig.update_layout(legend=dict(y=-0.22))
    items.append(ChartItem("primary", _foot(fig, foot), sh, title=fig.layout.title.text))
    return items


# ------------------------------------------------------------------------------------------------
# texts
# ------------------------------------------------------------------------------------------------


def _period_text(b: Briefing) -> str:
    a, c = pd.Timestamp(b.start), pd.Timestamp(b.end)
    if b.start == b.end:
        return fmt_day(a, b.lang)
    tail = fmt_day(c, b.lang) if a.year != c.year else i18n_t("rp_day_same_year", b.lang, m=c.month, d=c.day, day=fmt_day(c, b.lang))
    return i18n_t("rp_period_span", b.lang, start=fmt_day(a, b.lang), end=tail)


def _sep(lang: str) -> str:
    return i18n_t("rp_list_sep", lang)


def _paragraphs(b: Briefing) -> dict[str, list[str]]:
    lang, n = b.lang, b.names
    s = b.summary.set_index("station")
    r = s.loc["region"] if "region" in s.index else None
    out: dict[str, list[str]] = {}
    per = _period_text(b)
    j = s.drop(index="region", errors="ignore")
    ranked = j.dropna(subset=["composite_index"]).sort_values("composite_index")
    best = ranked.index[0] if len(ranked) else None
    worst = ranked.index[-1] if len(ranked) else None
    if r is not None:
        heavy = int(r.get("days_level_5", 0) or 0) + int(r.get("days_level_6", 0) or 0)
        days = int(r["n_days"]) if pd.notna(r.get("n_days")) else 0
        p1 = i18n_t("rp_p_summary", lang, period=per, pm25=fmt_num(r["pm25_mean"]), pm10=fmt_num(r["pm10_mean"]),
                good=fmt_num(r["good_share"], 1), days=days, heavy=heavy, ci=fmt_num(r["composite_index"], 2))
        if best is not None and best != worst:
            p1 += i18n_t("rp_p_best_worst", lang, best=n.get(best, best), worst=n.get(worst, worst))
        if "prev_composite_index" in s and pd.notna(r.get("prev_composite_index")):
            p1 += i18n_t("rp_p_yoy", lang, ci=fmt_num(r["composite_index_change_pct"], 1, True),
                     pm25=fmt_num(r["pm25_mean_change_pct"], 1, True))
        out["summary"] = [p1]
    sd = b.sides.set_index("station")
    if {"side:local", "side:corps"} <= set(sd.index):
        lo, co = sd.loc["side:local"], sd.loc["side:corps"]
        diff = 100.0 * (co["pm25_mean"] - lo["pm25_mean"]) / lo["pm25_mean"] if lo["pm25_mean"] else np.nan
        out["local_vs_corps"] = [i18n_t("rp_p_sides", lang, local=fmt_num(lo["pm25_mean"]), corps=fmt_num(co["pm25_mean"]),
                                    direction=i18n_t("rp_higher" if diff >= 0 else "lower", lang), diff=fmt_num(abs(diff), 1),
                                    signed=fmt_num(diff, 1, True), good_local=fmt_num(lo["good_share"], 1),
                                    good_corps=fmt_num(co["good_share"], 1))]
    if len(b.episodes):
        e = b.episodes.iloc[0]
        out["episodes"] = [i18n_t("rp_p_episode", lang, n=len(b.episodes), start=fmt_time(e["start"], lang),
                              end=fmt_time(e["end"], lang), hours=int(e["duration"]), peak=fmt_num(e["peak_aqi"]),
                              unit=n.get(e["peak_unit"], e["peak_unit"]), peak_time=fmt_time(e["peak_time"], lang),
                              primary=primary_label(e["primary_pollutants"], lang),
                              order=_onset_text(b, int(e["episode_id"])))]
        if pd.Timestamp(e["start"]) <= b.t0:
            out["episodes"].append(i18n_t("rp_p_episode_censored", lang))
    else:
        out["episodes"] = [i18n_t("rp_no_episode", lang)]
    reg = b.primary[b.primary["station"] == "region"].sort_values("share", ascending=False)
    reg = reg[reg["count"] > 0]
    if len(reg):
        parts = [f"{pollutant_label(p.pollutant, lang)} {fmt_num(p.share, 1)}%" for p in reg.itertuples()]
        out["primary"] = [i18n_t("rp_p_primary", lang, unit=i18n_t("rp_unit_hours" if b.primary_unit == "hour" else "unit_days", lang),
                             shares=_sep(lang).join(parts))]
    nr = b.near
    out["warnings"] = [i18n_t("rp_p_warnings", lang, lo=CRITICAL_BAND[0], hi=CRITICAL_BAND[1],
                          critical=int(nr["critical_days"].sum()), started=int(nr["warnings_started"].sum()))]
    return out


def _onset_text(b: Briefing, episode_id: int) -> str:
    """Onset order of an episode's units; units already above 100 when the period begins are censored: they are
    named as such, not ranked (their real onset is earlier and its order unknown)."""
    on = b.onsets[b.onsets["episode_id"] == episode_id].sort_values(["rank", "unit"])
    on = on[on["first_100"].notna()]
    early = pd.to_datetime(on["first_100"]) <= b.t0
    ordered = i18n_t("rp_arrow", b.lang).join(
        i18n_t("rp_unit_at", b.lang, unit=b.names.get(o.unit, o.unit), time=fmt_time(o.first_100, b.lang))
        for o in on[~early].itertuples())
    if not early.any():
        return ordered
    already = i18n_t("rp_onset_already", b.lang, units=_sep(b.lang).join(b.names.get(u, u) for u in on.loc[early, "unit"]))
    return already if not ordered else i18n_t("rp_onset_then", b.lang, already=already, ordered=ordered)


def _caveats(b: Briefing, previous_available: bool) -> list[str]:
    lang, sep = b.lang, _sep(b.lang)
    eds = sep.join(f"HJ 633-{e}" for e in b.editions)
    c = [i18n_t("rp_c_provisional", lang), i18n_t("rp_c_editions", lang, editions=eds),
         i18n_t("rp_c_composite", lang, basis=S.COMPOSITE_BASES[BASIS][f"label_{lang}"])]
    inval = b.completeness[~b.completeness["valid_statistic"]]
    if len(inval):
        c.append(i18n_t("rp_c_too_few_days", lang, units=sep.join(b.names.get(u, u) for u in inval["station"])))
    if not previous_available:
        c.append(i18n_t("rp_c_no_previous", lang))
    if b.no_station:
        c.append(i18n_t("rp_c_no_station", lang, units=sep.join(b.names.get(u, u) for u in b.no_station)))
    c.append(i18n_t("rp_c_replayed", lang))
    m = b.meta
    if m.get("snapshot_id"):
        c.append(i18n_t("rp_c_snapshot", lang, id=m["snapshot_id"], cutoff=fmt_time(m["cutoff"], lang),
                    frozen=f"{pd.Timestamp(m['frozen_at']):%Y-%m-%d %H:%M}"))
    if m.get("store_version") is not None:
        c.append(i18n_t("rp_c_version", lang, store=m.get("store_version"), data=m.get("data_version")))
    return c


# ------------------------------------------------------------------------------------------------
# layout: numbered sections as blocks
# ------------------------------------------------------------------------------------------------


def tables(b: Briefing) -> dict[str, Table]:
    """Every table of the briefing, keyed by name (:data:`TABLES`; jurisdictions as rows)."""
    lang, n = b.lang, b.names
    s = b.summary
    has_prev = "prev_composite_index" in s
    out: dict[str, Table] = {}
    rows = []
    for r in s.itertuples():
        rows.append([n.get(r.station, r.station), str(int(r.n_days)), fmt_num(r.pm25_mean), fmt_num(r.pm10_mean),
                     fmt_num(r.good_share, 1), fmt_num(r.composite_index, 2),
                     "—" if pd.isna(r.composite_rank) else str(int(r.composite_rank)),
                     fmt_num(r.composite_index_change_pct, 1, True) if has_prev else "—",
                     fmt_num(r.pm25_mean_change_pct, 1, True) if has_prev else "—"])
    out["indicators"] = Table("indicators", i18n_t("rp_tab_indicators", lang), [i18n_t("rp_" + k, lang) for k in ("unit", "days", "pm25", "pm10", "good", "ci", "rank",
                                                                    "ci_yoy", "pm25_yoy")], rows,
                      note=i18n_t("rp_note_rank", lang), data=s)
    rows = [[n.get(r.station, r.station), *[str(int(getattr(r, f"days_level_{k}"))) for k in range(1, 7)],
             str(int(r.exceedance_days))] for r in s.itertuples()]
    out["category_days"] = Table("category_days", i18n_t("rp_tab_category_days", lang), [i18n_t("rp_unit", lang), *[category_name(k, lang) for k in range(1, 7)],
                                             i18n_t("rp_exceed", lang)], rows, data=s)
    sd = b.sides.dropna(subset=["n_days"])
    rows = [[n.get(r.station, r.station), str(int(r.n_days)), fmt_num(r.pm25_mean), fmt_num(r.pm10_mean),
             fmt_num(r.good_share, 1), fmt_num(r.composite_index, 2), str(int(r.exceedance_days)), str(int(r.heavy_days))]
            for r in sd.itertuples()]
    out["local_vs_corps"] = Table("local_vs_corps", i18n_t("rp_tab_local_vs_corps", lang), [i18n_t("rp_" + k, lang) for k in ("unit", "days", "pm25", "pm10", "good", "ci",
                                                                    "exceed", "heavy")], rows, data=b.sides)
    rows = [[str(e.episode_id), f"{fmt_time(e.start, lang)}—{fmt_time(e.end, lang)}", str(int(e.duration)),
             fmt_num(e.peak_aqi), n.get(e.peak_unit, e.peak_unit), primary_label(e.primary_pollutants, lang),
             _onset_text(b, int(e.episode_id))] for e in b.episodes.itertuples()]
    out["episodes"] = Table("episodes", i18n_t("rp_tab_episodes", lang), [i18n_t("rp_" + k, lang) for k in ("episode", "span", "hours", "peak", "peak_unit",
                                                                    "primary", "onset")], rows, data=b.episodes)
    pw = b.primary.pivot_table(index="station", columns="pollutant", values="share", aggfunc="first")
    cols = [p for p in ("pm25", "pm10", "o3", "o3_8h", "no2", "so2", "co")
            if p in pw.columns and (b.primary[b.primary["pollutant"] == p]["count"] > 0).any()]
    nn = b.primary.groupby("station")["n"].first()
    rows = [[n.get(u, u), *[fmt_num(pw.loc[u, p], 1) if u in pw.index else "—" for p in cols],
             str(int(nn.get(u, 0)))] for u in ["region", *b.units]]
    unit_word = i18n_t("rp_unit_hours_n" if b.primary_unit == "hour" else "unit_days_n", lang)
    out["primary_shares"] = Table("primary_shares", i18n_t("rp_tab_primary_shares", lang), [i18n_t("rp_unit", lang), *[pollutant_label(p, lang) for p in cols],
                                             i18n_t("rp_over_50", lang, unit=unit_word)], rows,
                      note=i18n_t("rp_note_tied", lang), data=b.primary)

    def lv(x):
        return pair_text(_LEVELS.get(x, (x, x)), lang)

    rows = [[n.get(r.station, r.station), str(r.critical_days), str(r.days_over_100), str(r.near_hours),
             str(r.warnings_started), lv(r.highest_state)] for r in b.near.itertuples()]
    out["near_threshold"] = Table("near_threshold", i18n_t("rp_tab_near_threshold", lang), [i18n_t("rp_unit", lang), i18n_t("rp_critical_days", lang), i18n_t("rp_exceed", lang),
                                             i18n_t("rp_near_hours", lang), i18n_t("rp_warn_events", lang), i18n_t("rp_max_state", lang)], rows,
                      note=i18n_t("rp_note_near", lang, band=NEAR_BAND), data=b.near)

    def ev(x):
        return pair_text(_EVENTS.get(x, (x, x)), lang)

    rows = [[n.get(e.jurisdiction, e.jurisdiction), fmt_time(e.time, lang), ev(e.event), lv(e.state)]
            for e in b.events.itertuples()]
    out["warning_events"] = Table("warning_events", i18n_t("rp_tab_warning_events", lang), [i18n_t("rp_" + k, lang) for k in ("unit", "time", "event", "level")], rows,
                      data=b.events)
    c = b.completeness
    rows = [[n.get(r.station, r.station), str(r.n_stations), fmt_num(r.capture_pm25, 1),
             f"{r.n_valid_days}/{r.days_in_period}", i18n_t("rp_valid_yes" if r.valid_statistic else "valid_no", lang)]
            for r in c.itertuples()]
    out["completeness"] = Table("completeness", i18n_t("rp_tab_completeness", lang), [i18n_t("rp_unit", lang), i18n_t("rp_stations", lang), i18n_t("rp_capture", lang),
                                             i18n_t("rp_days", lang), i18n_t("rp_valid_stat", lang)], rows, data=c)
    if b.derivation is not None and len(b.derivation):
        st_names = region.stations().set_index("code")[f"name_{lang}"].to_dict()

        def who(text: str) -> str:
            if not text:
                return "—"
            parts = []
            for item in text.split("|"):
                code, _, why = item.partition("=")
                parts.append(i18n_t("rp_unit_at", lang, unit=f"{code} {st_names.get(code, '')}", time=reason_text(why, lang)))
            return _sep(lang).join(parts)

        rows = [[n.get(r.jurisdiction, r.jurisdiction), fmt_day(r.date, lang), fmt_num(r.aqi),
                 f"{len([c for c in r.counted.split(';') if c])}/{r.n_stations}", who(r.partly), who(r.left_out)]
                for r in b.derivation.itertuples()]
        out["derivation"] = Table("derivation", i18n_t("eval_annex_table", lang),
                           [i18n_t("rp_unit", lang), i18n_t("eval_day", lang), "AQI", i18n_t("eval_annex_counted", lang),
                            i18n_t("eval_annex_partly", lang), i18n_t("eval_annex_left_out", lang)], rows,
                           data=b.derivation)
    if b.actions is not None and len(b.actions):

        rows = [[a.item, a.action, a.responsible, a.cooperating or "—", a.deadline,
                 pair_text(STATUSES.get(a.status, (a.status, a.status)), lang)] for a in b.actions.itertuples()]
        out["actions"] = Table("actions", i18n_t("rp_tab_actions", lang), [i18n_t("rp_" + k, lang) for k in ("item", "action", "responsible", "cooperating",
                                                                        "deadline", "status")], rows, data=b.actions)
    return out


FIGURE_CAPTIONS = {"map": ("图1 ", "Figure 1. "), "trend": ("图2 ", "Figure 2. "), "calendar": ("图3 ", "Figure 3. "),
                   "primary": ("图4 ", "Figure 4. ")}


def _numeral(i: int, lang: str) -> str:
    """Item numbers of the caveats list: （一）…（十）, then 11. … in Chinese; 1. 2. … in English."""
    return "一二三四五六七八九十"[i - 1] if TYPOGRAPHY[lang]["cjk"] and i <= 10 else str(i)


def blocks(b: Briefing) -> list[tuple]:
    """The document as a list of blocks: ``("title", text)``, ``("issuer", text)``, ``("date", text)``,
    ``("h1", text)``, ``("p", text)``, ``("table", Table)``, ``("figure", name, caption)``, ``("note", text)``."""
    lang = b.lang
    tb = tables(b)
    per = _period_text(b)
    out: list[tuple] = [("issuer", b.issuer), ("number", i18n_t("rp_number", lang)), ("title", b.title),
                        ("subtitle", i18n_t("rp_in_brackets", lang, text=per)), ("note", i18n_t("rp_draft", lang))]
    out += [("h1", i18n_t("rp_sec_summary", lang)), *[("p", p) for p in b.paragraphs.get("summary", [])], ("table", tb["indicators"]),
            ("table", tb["category_days"])]
    out += [("h1", i18n_t("rp_sec_local_vs_corps", lang)), *[("p", p) for p in b.paragraphs.get("local_vs_corps", [])], ("table", tb["local_vs_corps"])]
    out += [("h1", i18n_t("rp_sec_episodes", lang)), *[("p", p) for p in b.paragraphs.get("episodes", [])]]
    if len(b.episodes):
        out.append(("table", tb["episodes"]))
    out += [("h1", i18n_t("rp_sec_primary", lang)), *[("p", p) for p in b.paragraphs.get("primary", [])], ("table", tb["primary_shares"])]
    out += [("h1", i18n_t("rp_sec_warnings", lang)), *[("p", p) for p in b.paragraphs.get("warnings", [])], ("table", tb["near_threshold"])]
    out.append(("table", tb["warning_events"]) if len(b.events) else ("p", i18n_t("rp_no_events", lang)))
    out += [("h1", i18n_t("rp_sec_data_quality", lang)), ("table", tb["completeness"])]
    out += [("p", i18n_t("rp_numbered", lang, n=_numeral(i, lang), text=c)) for i, c in enumerate(b.caveats, start=1)]
    out.append(("h1", i18n_t("rp_sec_figures", lang)))
    for f in b.figures:
        out.append(("figure", f.name, pair_text(FIGURE_CAPTIONS[f.name], lang) + f.title))
    if b.minutes or (b.actions is not None and len(b.actions)):
        out.append(("h1", i18n_t("rp_sec_minutes", lang)))
        if b.minutes:
            m = b.minutes
            sep = _sep(lang)
            out.append(("p", i18n_t("rp_labelled", lang, label=i18n_t("rp_meeting_date", lang), text=m["meeting_date"])))
            out.append(("p", i18n_t("rp_labelled", lang, label=i18n_t("rp_participants", lang), text=sep.join(m["participants"]))))
            out.append(("p", i18n_t("rp_labelled", lang, label=i18n_t("rp_items", lang), text=sep.join(m["items"]))))
        if "actions" in tb:
            out.append(("table", tb["actions"]))
    if "derivation" in tb:
        out += [("h1", i18n_t("eval_annex", lang)), ("p", i18n_t("eval_method", lang)), ("table", tb["derivation"])]
    out.append(("date", f"{b.issuer}\n{fmt_day(b.issue_date, lang)}"))
    return out


# ------------------------------------------------------------------------------------------------
# renderers
# ------------------------------------------------------------------------------------------------


def _set_east_asian(style, font: str) -> None:
    """Give a style an East-Asian font (python-docx sets only the Latin one)."""
    from docx.oxml.ns import qn  # python-docx loads only when a DOCX briefing is written

    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def _docx_styles(doc, lang: str) -> None:
    from docx.enum.style import WD_STYLE_TYPE  # python-docx loads only when a DOCX briefing is written
    from docx.enum.text import WD_ALIGN_PARAGRAPH  # python-docx loads only when a DOCX briefing is written
    from docx.shared import Pt, RGBColor  # python-docx loads only when a DOCX briefing is written

    ty = TYPOGRAPHY[lang]
    sty = doc.styles
    normal = sty["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(ty["size"])
    _set_east_asian(normal, ty["east"])
    normal.paragraph_format.line_spacing = Pt(ty["line"])

    def para(name, base="Normal", size=None, bold=None, align=None, east=None, indent=None, before=None, after=None,
             colour=None, line=None):
        s = sty[name] if name in [x.name for x in sty] else sty.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if name not in ("Title", "Heading 1", "Caption"):
            s.base_style = sty[base]
        if size:
            s.font.size = Pt(size)
        if bold is not None:
            s.font.bold = bold
        if colour is not None:
            s.font.color.rgb = RGBColor.from_string(colour)
        if align is not None:
            s.paragraph_format.alignment = align
        if east:
            _set_east_asian(s, east)
        if indent is not None:
            s.paragraph_format.first_line_indent = Pt(indent)
        if before is not None:
            s.paragraph_format.space_before = Pt(before)
        if after is not None:
            s.paragraph_format.space_after = Pt(after)
        if line is not None:
            s.paragraph_format.line_spacing = Pt(line)
        return s

    zh = TYPOGRAPHY[lang]["cjk"]  # the GB/T 9704 official-document layout
    t = para("Title", size=22 if zh else 18, bold=not zh, align=WD_ALIGN_PARAGRAPH.CENTER,
             east="方正小标宋简体" if zh else None, before=12, after=6, colour="000000", line=32)
    t.font.name = "Times New Roman"
    from docx.oxml.ns import qn  # python-docx loads only when a DOCX briefing is written

    for el in t.element.pPr.findall(qn("w:pBdr")) if t.element.pPr is not None else []:
        t.element.pPr.remove(el)  # the template's Title has a blue rule under it; an official title has none
    h1 = para("Heading 1", size=16 if zh else 13, bold=not zh, east="黑体" if zh else None, before=10, after=4,
              colour="000000", line=28 if zh else 18)
    h1.font.name = "Times New Roman"
    h1.font.italic = False
    para("RA Body", size=16 if zh else 11, indent=32 if zh else 0, after=0 if zh else 6, line=28 if zh else 15)
    para("RA Subtitle", size=16 if zh else 12, align=WD_ALIGN_PARAGRAPH.CENTER, east="楷体_GB2312" if zh else None,
         after=6)
    para("RA Issuer", size=16 if zh else 12, align=WD_ALIGN_PARAGRAPH.CENTER, east="黑体" if zh else None,
         colour="C00000", bold=not zh)
    para("RA Number", size=14 if zh else 11, align=WD_ALIGN_PARAGRAPH.CENTER, after=8)
    para("RA Note", size=12 if zh else 10, align=WD_ALIGN_PARAGRAPH.CENTER, colour="595959", after=6,
         line=20 if zh else 13)
    para("RA Date", size=16 if zh else 11, align=WD_ALIGN_PARAGRAPH.RIGHT, before=24, line=28 if zh else 15)
    para("RA Table Caption", size=12 if zh else 10, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
         east="黑体" if zh else None, before=8, after=2, line=20 if zh else 13)
    sty["RA Table Caption"].paragraph_format.keep_with_next = True
    sty["Heading 1"].paragraph_format.keep_with_next = True
    para("RA Table Text", size=10.5 if zh else 9, align=WD_ALIGN_PARAGRAPH.CENTER, east="宋体" if zh else None,
         line=16 if zh else 12)
    th = para("RA Table Header", base="RA Table Text", bold=True, east="黑体" if zh else None)
    th.font.bold = True
    para("RA Table Note", size=10.5 if zh else 9, line=16 if zh else 12, after=6, colour="404040")
    para("RA Figure", align=WD_ALIGN_PARAGRAPH.CENTER, before=6, line=None)
    sty["RA Figure"].paragraph_format.line_spacing = 1.0
    para("Caption", size=12 if zh else 10, align=WD_ALIGN_PARAGRAPH.CENTER, east="楷体_GB2312" if zh else None,
         colour="000000", bold=False, after=8)


def _col_widths(tb: Table, usable) -> list:
    """Column widths: the unit column fits the longest name, long text columns get more room."""
    from docx.shared import Emu  # python-docx loads only when a DOCX briefing is written

    def w(t):  # rough width in half-width characters (CJK counts double)
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(t))

    n = len(tb.header)
    # headers may wrap onto two lines; body cells should not (except long text columns)
    want = [max(7, (w(tb.header[i]) + 1) // 2, *(min(w(r[i]), 36) for r in tb.rows)) + 2 for i in range(n)]
    total = sum(want)
    return [Emu(int(usable * x / total)) for x in want]


def to_docx(b: Briefing, *, problems: list[str] | None = None) -> bytes:
    """The briefing as an editable Word document (python-docx, formats from named styles).

    Without figures (Chromium missing or hanging) the document is text-only, with a warning at the top and
    a line in place of each figure; the reason is appended to ``problems``.
    """
    from docx import Document  # python-docx loads only when a DOCX briefing is written
    from docx.enum.section import WD_ORIENT  # python-docx loads only when a DOCX briefing is written
    from docx.oxml import OxmlElement  # python-docx loads only when a DOCX briefing is written
    from docx.oxml.ns import qn  # python-docx loads only when a DOCX briefing is written
    from docx.shared import Cm, Mm  # python-docx loads only when a DOCX briefing is written

    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    # GB/T 9704-2012 margins: top 37 mm, bottom 35 mm, left 28 mm, right 26 mm
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    _docx_styles(doc, b.lang)
    doc.core_properties.title = b.title
    doc.core_properties.subject = _period_text(b)
    doc.core_properties.author = "RegionAir"
    doc.core_properties.language = TYPOGRAPHY[b.lang]["code"]
    usable = Mm(210 - 28 - 26)
    style_of = {"title": "Title", "issuer": "RA Issuer", "number": "RA Number", "subtitle": "RA Subtitle",
                "note": "RA Note", "p": "RA Body", "date": "RA Date"}
    problem = b.draw_figures()
    if problem:
        doc.add_paragraph(i18n_t("render.doc_warning", b.lang, error=problem), style="RA Note")
        if problems is not None:
            problems.append(problem)
    for blk in blocks(b):
        kind = blk[0]
        if kind in style_of:
            for line in str(blk[1]).split("\n"):
                doc.add_paragraph(line, style=style_of[kind])
        elif kind == "h1":
            doc.add_paragraph(blk[1], style="Heading 1")
        elif kind == "table":
            tb: Table = blk[1]
            doc.add_paragraph(tb.caption, style="RA Table Caption")
            table = doc.add_table(rows=1, cols=len(tb.header))
            table.style = doc.styles["Table Grid"]
            table.autofit = False
            widths = _col_widths(tb, usable)
            for cell, text in zip(table.rows[0].cells, tb.header, strict=True):
                cell.paragraphs[0].text = text
                cell.paragraphs[0].style = doc.styles["RA Table Header"]
            trpr = table.rows[0]._tr.get_or_add_trPr()  # repeat the header row on each page
            rep = OxmlElement("w:tblHeader")
            rep.set(qn("w:val"), "true")
            trpr.append(rep)
            for row in tb.rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.paragraphs[0].text = text
                    cell.paragraphs[0].style = doc.styles["RA Table Text"]
            for col, w in zip(table.columns, widths, strict=True):
                col.width = w  # w:gridCol (LibreOffice/WPS read this)
            for row in table.rows:
                for cell, w in zip(row.cells, widths, strict=True):
                    cell.width = w  # w:tcW (Word reads this)
            if tb.note:
                doc.add_paragraph(tb.note, style="RA Table Note")
        elif kind == "figure" and problem:
            doc.add_paragraph(i18n_t("render.figure_missing", b.lang, caption=blk[2]), style="RA Note")
        elif kind == "figure":
            p = doc.add_paragraph(style="RA Figure")
            p.add_run().add_picture(io.BytesIO(b.image(blk[1], "png")), width=usable)
            doc.add_paragraph(blk[2], style="Caption")
    # page numbers in the footer (a field, so Word keeps them right after edits)
    fp = sec.footer.paragraphs[0]
    fp.style = doc.styles["RA Number"]
    run = fp.add_run()
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    sec.footer_distance = Cm(1.5)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


_CSS = """
@page { size: A4; margin: 30mm 24mm 28mm 26mm; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Noto Serif CJK SC", "FangSong", "STFangsong", "Source Han Serif SC", serif; font-size: 15px;
       line-height: 1.8; color: #000; max-width: 180mm; margin: 0 auto; padding: 8mm 0; }
.issuer { text-align: center; color: #c00000; font-family: "Noto Sans CJK SC", "SimHei", sans-serif; font-size: 20px;
          font-weight: 700; letter-spacing: 0.2em; border-bottom: 2px solid #c00000; padding-bottom: 6px; margin: 0; }
.number { text-align: center; margin: 6px 0 0; }
h1.title { text-align: center; font-family: "Noto Serif CJK SC", "SimSun", serif; font-weight: 700; font-size: 26px;
           line-height: 1.4; margin: 18px 0 4px; }
.subtitle { text-align: center; font-size: 17px; margin: 0; }
.note { text-align: center; color: #595959; font-size: 13px; margin: 2px 0 10px; }
h2 { font-family: "Noto Sans CJK SC", "SimHei", sans-serif; font-size: 18px; font-weight: 700; margin: 18px 0 4px;
     break-after: avoid; }
p.body { text-indent: 2em; margin: 0 0 4px; text-align: justify; }
.lang-en p.body { text-indent: 0; }
figure.table { margin: 10px 0 12px; break-inside: avoid; }
figcaption { text-align: center; font-family: "Noto Sans CJK SC", sans-serif; font-weight: 700; font-size: 14px;
             margin: 4px 0; }
table { border-collapse: collapse; width: 100%; font-family: "Noto Sans CJK SC", sans-serif; font-size: 12.5px;
        line-height: 1.4; }
th, td { border: 1px solid #333; padding: 3px 5px; text-align: center; }
th { background: #e8eef5; font-weight: 700; }
td:first-child { text-align: left; white-space: nowrap; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
.tnote { font-size: 12.5px; color: #404040; margin: 3px 0 0; line-height: 1.5; }
figure.chart { margin: 12px 0; text-align: center; break-inside: avoid; }
figure.chart img { width: 100%; height: auto; }
figure.chart figcaption { font-family: "Noto Serif CJK SC", serif; font-weight: 400; }
.date { text-align: right; margin-top: 28px; white-space: pre-line; }
.warning { border: 2px solid #c00000; color: #c00000; padding: 6px 10px; margin: 8px 0; font-size: 13px; }
"""


def to_html(b: Briefing, *, problems: list[str] | None = None) -> str:
    """The briefing as one self-contained HTML file (figures embedded as PNG data URIs).

    Without figures: text-only with a warning at the top, as :func:`to_docx`.
    """
    e = html.escape
    parts = [f'<!DOCTYPE html><html lang="{TYPOGRAPHY[b.lang]["code"]}"><head><meta charset="utf-8">'
             f"<title>{e(b.title)}</title><style>{_CSS}</style></head><body class=\"lang-{b.lang}\">"]
    problem = b.draw_figures()
    if problem:
        parts.append(f'<p class="warning" role="alert">{e(i18n_t("render.doc_warning", b.lang, error=problem))}</p>')
        if problems is not None:
            problems.append(problem)
    for blk in blocks(b):
        kind = blk[0]
        if kind in _HTML_TEXT:
            tag, cls = _HTML_TEXT[kind]
            attr = f' class="{cls}"' if cls else ""
            parts.append(f"<{tag}{attr}>{e(blk[1])}</{tag}>")
        elif kind == "table":
            tb: Table = blk[1]
            head = "".join(f"<th>{e(h)}</th>" for h in tb.header)
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in tb.rows)
            note = f'<p class="tnote">{e(tb.note)}</p>' if tb.note else ""
            parts.append(f'<figure class="table" id="{tb.key}"><figcaption>{e(tb.caption)}</figcaption>'
                         f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}</figure>")
        elif kind == "figure" and problem:
            parts.append(f'<p class="note">{e(i18n_t("render.figure_missing", b.lang, caption=blk[2]))}</p>')
        elif kind == "figure":
            data = base64.b64encode(b.image(blk[1], "png")).decode("ascii")
            parts.append(f'<figure class="chart" id="fig-{blk[1]}"><img alt="{e(blk[2])}" '
                         f'src="data:image/png;base64,{data}"><figcaption>{e(blk[2])}</figcaption></figure>')
    parts.append("</body></html>")
    return "\n".join(parts)


#: HTML element and class of each text block of :func:`blocks`.
_HTML_TEXT = {"issuer": ("p", "issuer"), "number": ("p", "number"), "title": ("h1", "title"),
              "subtitle": ("p", "subtitle"), "note": ("p", "note"), "h1": ("h2", ""), "p": ("p", "body"),
              "date": ("p", "date")}


def chromium_path() -> str:
    """The Chromium/Chrome executable (``REGIONAIR_CHROMIUM``, ``BROWSER_PATH`` or the first found on PATH).

    Raises
    ------
    RenderError
        None found; the message says how to install it.
    """
    exe = find_chromium()
    if exe is None:
        raise RenderError(missing_chromium_message("PDF briefings"))
    return exe


def html_to_pdf(doc_html: str, *, timeout: float | None = None) -> bytes:
    """Print an HTML document to PDF with headless Chromium (fonts are embedded as subsets).

    Chromium runs in its own session with a deadline (``timeout`` s, default
    :func:`~regionair.render.bundle.render_timeout`); past it Chromium and every process it started are killed.

    Raises
    ------
    RenderError
        No Chromium, Chromium hung past the deadline, or it produced no PDF; the message names the fix.
    """
    exe = chromium_path()
    timeout = render_timeout() if timeout is None else timeout
    with tempfile.TemporaryDirectory(prefix="regionair-pdf-") as tmp:
        src, out, log = Path(tmp) / "briefing.html", Path(tmp) / "briefing.pdf", Path(tmp) / "chromium.log"
        src.write_text(doc_html, encoding="utf-8")
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
               f"--user-data-dir={Path(tmp) / 'profile'}", "--no-pdf-header-footer", "--print-to-pdf-no-header",
               f"--print-to-pdf={out}", src.as_uri()]
        with open(log, "wb") as err:
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,  # noqa: S603
                                        start_new_session=True, close_fds=True)
            except OSError as exc:
                raise RenderError(f"Chromium ({exe}) cannot be started to print the PDF: {exc}. {CHROMIUM_FIX}") from exc
            try:
                code = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid)
                proc.wait(10)
                raise RenderError(f"Chromium ({exe}) did not print the PDF within {timeout:.0f} s (it hangs or cannot "
                                  f"start); it was stopped. {CHROMIUM_FIX}") from None
            finally:
                if proc.poll() is None:  # an exception while waiting (e.g. KeyboardInterrupt)
                    kill_tree(proc.pid)
        if not out.exists() or out.stat().st_size == 0:
            tail = log.read_bytes()[-400:].decode("utf-8", "replace")
            raise RenderError(f"Chromium ({exe}) produced no PDF (exit {code}): {tail}. {CHROMIUM_FIX}")
        return out.read_bytes()


def to_pdf(b: Briefing, *, problems: list[str] | None = None) -> bytes:
    """The briefing as PDF: the HTML rendering printed by headless Chromium (CJK fonts embedded).

    Fails at once without Chromium (:class:`~regionair.render.bundle.RenderError`); if only the figures fail, the
    PDF is printed text-only with the warning, as :func:`to_html`.
    """
    chromium_path()
    doc = to_html(b, problems=problems)
    problem = image_problem()  # the figures just met a hanging or crashing Chromium: do not wait for it again
    if problem:
        raise RenderError(f"cannot print the PDF: {problem}. {CHROMIUM_FIX}")
    return html_to_pdf(doc)


def render(b: Briefing, fmt: str, *, problems: list[str] | None = None) -> bytes:
    """Bytes of the briefing in ``fmt`` (``docx``, ``pdf`` or ``html``); see :func:`to_docx` for ``problems``."""
    if fmt == "docx":
        return to_docx(b, problems=problems)
    if fmt == "pdf":
        return to_pdf(b, problems=problems)
    if fmt == "html":
        return to_html(b, problems=problems).encode("utf-8")
    raise InputError(f"format={fmt!r}; valid: {', '.join(FORMATS)}", column="format")


# ------------------------------------------------------------------------------------------------
# from the store, and the CLI
# ------------------------------------------------------------------------------------------------


def briefing_from_store(store, start, end, *, jurisdictions=None, lang: str = "zh", edition: str = "auto",
                        snapshot_id: str | None = None, **kw) -> Briefing:
    """Build a briefing from the store; with ``snapshot_id`` from the data frozen in that meeting
    snapshot, with its minutes, agreed actions and control measures."""

    d0, d1, t0, t1 = _period(start, end)
    snap = store.snapshot()
    meta = {"store_version": snap.version, "data_version": snap.data_version}
    ms = acts = mins = None
    if snapshot_id:
        s = meeting.load_snapshot(store, snapshot_id)
        t1 = min(t1, s.cutoff)
        hourly = meeting.snapshot_hourly(store, s, start=t0)
        hourly = hourly[hourly["time"] >= t0]
        prev = meeting.snapshot_hourly(store, s, start=t0 - pd.DateOffset(years=1))
        prev = prev[(prev["time"] >= t0 - pd.DateOffset(years=1)) & (prev["time"] <= t1 - pd.DateOffset(years=1))]
        meta.update(snapshot_id=s.id, cutoff=s.cutoff, frozen_at=s.frozen_at, store_version=s.store_version,
                    data_version=s.data_version)
        acts = meeting.actions(store, s.id)
        mins = meeting.minutes(store, s.id)
        ms = meeting.measures(store, start=t0, end=t1, recorded_before=None)
    else:
        hourly = store.hourly(t0, t1, prefer=SOURCE_PRECEDENCE)
        prev = store.hourly(t0 - pd.DateOffset(years=1), t1 - pd.DateOffset(years=1), prefer=SOURCE_PRECEDENCE)
        ms = meeting.measures(store, start=t0, end=t1)
    meta["edition"] = edition
    return build_briefing(hourly, d0, d1, jurisdictions=jurisdictions, lang=lang, edition=edition,
                          previous_hourly=prev, measures=ms, actions=acts, minutes=mins, meta=meta, **kw)


def cmd_report(args) -> int:

    store = Store(args.store, create=False) if args.store else Store(create=False)
    units = [u.strip() for u in args.jurisdictions.split(",") if u.strip()] if args.jurisdictions else None
    b = briefing_from_store(store, args.start, args.end, jurisdictions=units, lang=args.lang, edition=args.edition,
                            snapshot_id=args.snapshot)
    fmt = args.format or Path(args.out).suffix.lstrip(".").lower()
    problems: list[str] = []
    data = render(b, fmt, problems=problems)
    for p in problems:
        print(f"warning: the briefing was written without figures (text only): {p}", file=sys.stderr)
    atomic_write(Path(args.out), lambda p: Path(p).write_bytes(data))
    print(f"briefing {b.start}…{b.end} ({len(b.units)} jurisdictions, {len(b.episodes)} episodes) → {args.out}",
          file=sys.stderr)
    return 0


def add_commands(subparsers) -> None:
    """Register ``report`` with the ``python -m regionair`` parser."""
    r = subparsers.add_parser("report", help="briefing document (会商简报) as DOCX, PDF or HTML",
                              description="Briefing for a period: statistics per jurisdiction, 地方 vs 兵团, episodes, "
                                          "primary pollutants, warnings, completeness, figures.")
    r.add_argument("--start", required=True, help="first natural day, YYYY-MM-DD (Beijing)")
    r.add_argument("--end", required=True, help="last natural day, YYYY-MM-DD (inclusive)")
    r.add_argument("--jurisdictions", help="comma-separated jurisdiction ids (default: every member)")
    r.add_argument("--lang", default="zh", choices=["zh", "en"])
    r.add_argument("--edition", default="auto", choices=["auto", "2012", "2026"])
    r.add_argument("--format", choices=list(FORMATS), help="default: from the --out suffix")
    r.add_argument("--snapshot", help="meeting snapshot id: use the data frozen for that meeting, with its minutes")
    r.add_argument("--store", help="store directory (default $REGIONAIR_STORE or data/store)")
    r.add_argument("--out", required=True, help="output file")
    r.set_defaults(func=cmd_report)
