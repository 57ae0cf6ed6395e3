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
GB 3095 validity) on jurisdiction area means (:func:`regionair.core.region.aggregate`).
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

from regionair.analysis._common import unit_catalogue
from regionair.analysis.episodes import detect_episodes
from regionair.analysis.latest import unit_hourly
from regionair.analysis.primary import primary_shares
from regionair.analysis.ranking import ranking
from regionair.analysis.trends import calendar_data
from regionair.core import aqi, region
from regionair.core import standards as S
from regionair.core.i18n import category_name, pollutant_label, primary_label, t
from regionair.core.nomenclature import POLLUTANTS, TZ
from regionair.errors import InputError, RegionairError
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

FORMATS = ("docx", "pdf", "html")
_P = ["station", "time", *POLLUTANTS]
_HOUR = pd.Timedelta(hours=1)
#: Daily AQI band counted as a near-threshold (临界) day [AQI], inclusive — as the warnings desk's 临界天.
CRITICAL_BAND = (90, 110)
#: Hourly AQI within this many points below a category boundary is a near-threshold hour [AQI].
NEAR_BAND = 15
NEAR_BOUNDARIES = (100, 150, 200, 300)
BASIS = "HJ663-2013"

_T: dict[str, tuple[str, str]] = {
    "title": ("乌—昌—石区域环境空气质量会商简报", "Urumqi–Changji–Shihezi regional air-quality briefing"),
    "issuer": ("（发文单位）", "[Issuing unit]"),
    "number": ("第（ ）期", "No. ( )"),
    "draft": ("（征求意见稿，数据未经审核）", "(Draft for comment — provisional, unaudited data)"),
    "s1": ("一、总体情况", "1. Summary of the period"),
    "s2": ("二、地方与兵团对比", "2. Local government vs XPCC (Corps)"),
    "s3": ("三、污染过程", "3. Pollution episodes"),
    "s4": ("四、首要污染物", "4. Primary pollutants"),
    "s5": ("五、临界天与预警", "5. Near-threshold days and warnings"),
    "s6": ("六、数据完整性与说明", "6. Data completeness and caveats"),
    "s7": ("七、附图", "7. Figures"),
    "s8": ("八、会商纪要", "8. Meeting minutes"),
    "unit": ("单元", "Unit"),
    "days": ("有效天数", "Valid days"),
    "pm25": ("PM2.5（µg/m³）", "PM2.5 (µg/m³)"),
    "pm10": ("PM10（µg/m³）", "PM10 (µg/m³)"),
    "good": ("优良天数比例（%）", "Good days (%)"),
    "ci": ("综合指数", "Composite index"),
    "rank": ("排名", "Rank"),
    "ci_yoy": ("综合指数同比（%）", "Composite index vs last year (%)"),
    "pm25_yoy": ("PM2.5同比（%）", "PM2.5 vs last year (%)"),
    "exceed": ("超标天数", "Days AQI>100"),
    "heavy": ("重度及以上天数", "Days AQI>200"),
    "t1": ("表1 各单元主要指标", "Table 1. Main indicators by unit"),
    "t2": ("表2 各单元各级别天数", "Table 2. Days by AQI category"),
    "t3": ("表3 地方与兵团对比", "Table 3. Local government vs Corps"),
    "t4": ("表4 污染过程", "Table 4. Episodes"),
    "t5": ("表5 首要污染物占比（%）", "Table 5. Share as primary pollutant (%)"),
    "t6": ("表6 临界天与预警", "Table 6. Near-threshold days and warnings"),
    "t7": ("表7 预警事件（按观测回放）", "Table 7. Warning events (replayed from observations)"),
    "t8": ("表8 数据完整性", "Table 8. Data completeness"),
    "t9": ("表9 商定事项", "Table 9. Agreed actions"),
    "f_map": ("区域空气质量（{day} 日AQI）", "Regional air quality (daily AQI, {day})"),
    "f_trend": ("各单元AQI变化", "AQI by unit"),
    "f_cal": ("各单元日AQI日历", "Daily AQI calendar by unit"),
    "f_primary": ("各单元首要污染物占比", "Primary pollutant shares by unit"),
    "episode": ("编号", "No."),
    "span": ("起止时间", "Period"),
    "hours": ("持续（小时）", "Duration (h)"),
    "peak": ("峰值AQI", "Peak AQI"),
    "peak_unit": ("峰值单元", "Peak unit"),
    "primary": ("首要污染物", "Primary pollutant"),
    "onset": ("进入污染先后（AQI>100）", "Onset order (AQI > 100)"),
    "critical_days": ("临界天数（日AQI 90–110）", "Near-threshold days (daily AQI 90–110)"),
    "near_hours": ("临界小时数", "Near-threshold hours"),
    "warn_events": ("预警启动/升级次数", "Warnings started/upgraded"),
    "max_state": ("最高预警级别", "Highest level"),
    "time": ("时间", "Time"),
    "event": ("事件", "Event"),
    "level": ("级别", "Level"),
    "stations": ("评价站点数", "Stations"),
    "capture": ("PM2.5小时数据获取率（%）", "PM2.5 hourly capture (%)"),
    "valid_stat": ("统计有效性", "Statistic valid"),
    "valid_yes": ("有效", "valid"),
    "valid_no": ("不足", "insufficient"),
    "region": ("全区域", "Whole region"),
    "item": ("议题", "Item"),
    "action": ("商定事项", "Action"),
    "responsible": ("责任单位", "Responsible unit"),
    "cooperating": ("配合单位", "Cooperating units"),
    "deadline": ("完成时限", "Deadline"),
    "status": ("进展", "Status"),
    "participants": ("参会单位", "Participants"),
    "meeting_date": ("会商日期", "Meeting date"),
    "items": ("会商议题", "Items discussed"),
    "none": ("无", "None"),
    "no_episode": ("所选时段内未识别出污染过程（任一单元小时AQI>100持续6小时以上）。",
                   "No episode in the period (no unit with hourly AQI > 100 for 6 h or more)."),
    "no_events": ("所选时段内无预警事件。", "No warning events in the period."),
}
_LEVELS = {"none": ("无", "none"), "yellow": ("黄色预警", "Yellow"), "orange": ("橙色预警", "Orange"),
           "red": ("红色预警", "Red"), "temporary": ("临时管控", "Temporary controls"), "blue": ("蓝色预警", "Blue")}
_EVENTS = {"start": ("启动", "start"), "upgrade": ("升级", "upgrade"), "lift": ("解除", "lift"),
           "clear": ("结束", "clear")}


def _t(key: str, lang: str, **fmt) -> str:
    zh, en = _T[key]
    s = zh if lang == "zh" else en
    return s.format(**fmt) if fmt else s


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
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else f"{d:%d %B %Y}".lstrip("0")


def fmt_time(t, lang: str) -> str:
    t = pd.Timestamp(t)
    return f"{t.month}月{t.day}日{t:%H}时" if lang == "zh" else f"{t:%d %b %H:%M}"


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
    names = cat["name_zh" if lang == "zh" else "name_en"].to_dict()
    names["region"] = "乌—昌—石区域" if lang == "zh" else "Whole region"
    names["side:local"] = "地方" if lang == "zh" else "Local government"
    names["side:corps"] = "兵团" if lang == "zh" else "XPCC (Corps)"
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


def _daily(frame: pd.DataFrame, edition: str) -> pd.DataFrame:
    return aqi.daily_aqi(frame[_P], edition=edition) if len(frame) else pd.DataFrame(columns=["station", "date", "aqi"])


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
    sides = unit_hourly(h, level="side", edition=edition)
    reg = unit_hourly(h, level="region", edition=edition)
    dj, ds, dr = _daily(ju, edition), _daily(sides, edition), _daily(reg, edition)

    prev_j = prev_a = None
    if previous_hourly is not None and len(previous_hourly):
        pj = unit_hourly(previous_hourly, level="jurisdiction", edition=edition)
        pa = pd.concat([unit_hourly(previous_hourly, level="region", edition=edition),
                        unit_hourly(previous_hourly, level="side", edition=edition)])
        prev_j, prev_a = _daily(pj, edition), _daily(pa, edition)

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
    episodes, onsets = detect_episodes(ju_sel, threshold=100, resolution="hour", max_gap=3, min_duration=6)

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
                 editions=editions, title=title or _t("title", lang), issuer=issuer or _t("issuer", lang),
                 issue_date=pd.Timestamp(issue_date).date() if issue_date is not None else pd.Timestamp.now(tz=TZ).date(),
                 summary=summary, sides=side_tbl, episodes=episodes, onsets=onsets, primary=prim, primary_unit=p_unit,
                 near=near, events=events, completeness=completeness, caveats=[], figures=[],
                 actions=actions, minutes=minutes, meta=dict(meta or {}))
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
        from regionair.warnings.desk import warnings_report

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
    src = "数据来源：中国环境监测总站实时发布数据（未经审核）" if lang == "zh" else "Source: CNEMC real-time release (provisional)"
    foot = f"{src} · {period} (UTC+8) · {'AQI标准' if lang == 'zh' else 'AQI edition'}: {eds}"
    items: list[ChartItem] = []

    # map: the last day's daily AQI per jurisdiction and station
    last = dj["date"].max() if len(dj) else b.end
    units_tbl = dj[dj["date"] == last][["station", "aqi"]].rename(columns={"station": "id"})
    units_tbl["name"] = units_tbl["id"].map(names)
    st_daily = _daily(h, edition)
    st_daily = st_daily[st_daily["date"] == last]
    cat = region.stations().rename(columns={"code": "station"})
    st_tbl = st_daily.merge(cat[["station", "name_zh", "name_en", "jurisdiction", "longitude", "latitude"]],
                            on="station", how="inner")
    side = region.jurisdictions().set_index("id")["side"]
    st_tbl["side"] = st_tbl["jurisdiction"].map(side).fillna("地方")
    st_tbl["name"] = st_tbl["name_zh" if lang == "zh" else "name_en"]
    st_tbl = st_tbl[["station", "name", "jurisdiction", "side", "longitude", "latitude", "aqi", "category",
                     "primary_pollutants"]]
    bounds = region.boundaries(level="district")
    j = region.jurisdictions()
    parent = dict(zip(j["id"], j["parent"], strict=True))
    level = dict(zip(j["id"], j["level"], strict=True))
    bounds["unit"] = [parent[i] if level.get(i) == "district" else i for i in bounds["id"]]
    fig = charts.region_map(bounds, units_tbl, st_tbl, title=_t("f_map", lang, day=f"{pd.Timestamp(last):%Y-%m-%d}"),
                            lang=lang)
    import plotly.graph_objects as go

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
    fig = charts.time_series(series, x="x", y="aqi", color="unit", title=_t("f_trend", lang), y_title="AQI",
                             lang=lang, bands=True)
    if measures is not None and len(measures):
        from regionair.meeting import overlay_measures

        overlay_measures(fig, measures[measures["jurisdiction"].isin(b.units)], names=names, lang=lang)
    fig.update_layout(legend=dict(y=-0.22))
    items.append(ChartItem("trend", _foot(fig, foot), series, title=_t("f_trend", lang)))

    # calendar of daily AQI
    cal = calendar_data(dj).assign(unit=lambda d: d["station"].map(names))
    cal = cal.assign(date=cal["date"].astype(str), unit=pd.Categorical(cal["unit"], [names.get(u, u) for u in b.units]))
    fig = charts.calendar_heatmap(cal, title=_t("f_cal", lang), lang=lang)
    fig.update_xaxes(type="category", tickangle=0)
    fig.update_traces(texttemplate="%{z:.0f}", textfont=dict(size=13, color="white"))
    items.append(ChartItem("calendar", _foot(fig, foot, height=max(340, 200 + 52 * len(b.units)), left=170),
                           cal, title=_t("f_cal", lang)))

    # primary pollutant shares
    sh = b.primary.assign(unit=b.primary["station"].map(names),
                          pollutant_label=b.primary["pollutant"].map(lambda c: pollutant_label(c, lang)))
    sh = sh[sh["count"] > 0]
    unit_word = ("小时" if lang == "zh" else "hours") if b.primary_unit == "hour" else ("天" if lang == "zh" else "days")
    fig = charts.stacked_bars(sh, x="unit", y="share", color="pollutant_label",
                              title=f"{_t('f_primary', lang)}（{unit_word}）" if lang == "zh" else
                              f"{_t('f_primary', lang)} ({unit_word})", y_title="%")
    fig.update_xaxes(categoryorder="array", categoryarray=[names.get(u, u) for u in ["region", *b.units]])
    fig.update_layout(legend=dict(y=-0.22))
    items.append(ChartItem("primary", _foot(fig, foot), sh, title=fig.layout.title.text))
    return items


# ------------------------------------------------------------------------------------------------
# texts
# ------------------------------------------------------------------------------------------------


def _period_text(b: Briefing) -> str:
    if b.lang == "zh":
        a, c = pd.Timestamp(b.start), pd.Timestamp(b.end)
        tail = f"{c.month}月{c.day}日" if a.year == c.year else fmt_day(c, "zh")
        return f"{fmt_day(a, 'zh')}至{tail}" if b.start != b.end else fmt_day(a, "zh")
    return f"{fmt_day(b.start, 'en')} – {fmt_day(b.end, 'en')}" if b.start != b.end else fmt_day(b.start, "en")


def _sep(lang: str) -> str:
    return "、" if lang == "zh" else ", "


def _paragraphs(b: Briefing) -> dict[str, list[str]]:
    zh = b.lang == "zh"
    n = b.names
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
        if zh:
            p1 = (f"{per}，乌—昌—石区域PM2.5平均浓度为{fmt_num(r['pm25_mean'])}微克/立方米，PM10平均浓度为"
                  f"{fmt_num(r['pm10_mean'])}微克/立方米；优良天数比例为{fmt_num(r['good_share'], 1)}%，"
                  f"重度及以上污染{heavy}天，综合指数为{fmt_num(r['composite_index'], 2)}。")
            if best is not None and best != worst:
                p1 += f"各单元中，综合指数最低（相对较好）的是{n.get(best, best)}，最高的是{n.get(worst, worst)}。"
        else:
            p1 = (f"From {per}, the region's mean PM2.5 was {fmt_num(r['pm25_mean'])} µg/m³ and PM10 "
                  f"{fmt_num(r['pm10_mean'])} µg/m³; {fmt_num(r['good_share'], 1)} % of days were good, {heavy} days "
                  f"were heavily polluted or worse; composite index {fmt_num(r['composite_index'], 2)}.")
            if best is not None and best != worst:
                p1 += f" Best composite index: {n.get(best, best)}; worst: {n.get(worst, worst)}."
        if "prev_composite_index" in s and pd.notna(r.get("prev_composite_index")):
            p1 += (f"与上年同期相比，区域综合指数变化{fmt_num(r['composite_index_change_pct'], 1, True)}%，PM2.5浓度变化"
                   f"{fmt_num(r['pm25_mean_change_pct'], 1, True)}%。" if zh else
                   f" Compared with the same period last year the composite index changed by "
                   f"{fmt_num(r['composite_index_change_pct'], 1, True)} % and PM2.5 by "
                   f"{fmt_num(r['pm25_mean_change_pct'], 1, True)} %.")
        out["s1"] = [p1]
    sd = b.sides.set_index("station")
    if {"side:local", "side:corps"} <= set(sd.index):
        lo, co = sd.loc["side:local"], sd.loc["side:corps"]
        diff = 100.0 * (co["pm25_mean"] - lo["pm25_mean"]) / lo["pm25_mean"] if lo["pm25_mean"] else np.nan
        out["s2"] = [(f"地方所属单元PM2.5平均浓度为{fmt_num(lo['pm25_mean'])}微克/立方米，兵团所属单元为"
                      f"{fmt_num(co['pm25_mean'])}微克/立方米，兵团较地方{'高' if diff >= 0 else '低'}"
                      f"{fmt_num(abs(diff), 1)}%；优良天数比例分别为{fmt_num(lo['good_share'], 1)}%和"
                      f"{fmt_num(co['good_share'], 1)}%。") if zh else
                     (f"Mean PM2.5 was {fmt_num(lo['pm25_mean'])} µg/m³ in local-government units and "
                      f"{fmt_num(co['pm25_mean'])} µg/m³ in Corps units ({fmt_num(diff, 1, True)} %); good-day shares "
                      f"{fmt_num(lo['good_share'], 1)} % and {fmt_num(co['good_share'], 1)} %.")]
    if len(b.episodes):
        e = b.episodes.iloc[0]
        order = _onset_text(b, int(e["episode_id"]))
        out["s3"] = [(f"时段内共识别污染过程{len(b.episodes)}次。第1次过程自{fmt_time(e['start'], 'zh')}至"
                      f"{fmt_time(e['end'], 'zh')}，持续{int(e['duration'])}小时，峰值AQI为{fmt_num(e['peak_aqi'])}"
                      f"（{n.get(e['peak_unit'], e['peak_unit'])}，{fmt_time(e['peak_time'], 'zh')}），首要污染物为"
                      f"{primary_label(e['primary_pollutants'], 'zh')}；各单元进入污染的先后为：{order}。") if zh else
                     (f"{len(b.episodes)} episode(s) in the period. The first ran from {fmt_time(e['start'], 'en')} to "
                      f"{fmt_time(e['end'], 'en')} ({int(e['duration'])} h), peak AQI {fmt_num(e['peak_aqi'])} "
                      f"({n.get(e['peak_unit'], e['peak_unit'])}, {fmt_time(e['peak_time'], 'en')}), primary pollutant "
                      f"{primary_label(e['primary_pollutants'], 'en')}; onset order: {order}.")]
        if pd.Timestamp(e["start"]) <= b.t0:
            out["s3"].append("注：该过程在统计时段开始时已在进行，进入污染时间按时段起点计，实际起始时间更早。" if zh else
                             "Note: this episode was already under way when the period began; onset times are "
                             "clipped to the start of the period.")
    else:
        out["s3"] = [_t("no_episode", b.lang)]
    reg = b.primary[b.primary["station"] == "region"].sort_values("share", ascending=False)
    reg = reg[reg["count"] > 0]
    unit_word = ("小时" if zh else "hours") if b.primary_unit == "hour" else ("天" if zh else "days")
    if len(reg):
        parts = [f"{pollutant_label(p.pollutant, b.lang)} {fmt_num(p.share, 1)}%" for p in reg.itertuples()]
        out["s4"] = [(f"按{unit_word}统计（AQI>50的{unit_word}），区域首要污染物占比：{'、'.join(parts)}。") if zh else
                     f"Counted over {unit_word} with AQI > 50, the region's primary pollutant shares were: "
                     f"{', '.join(parts)}."]
    nr = b.near
    tot_c, tot_w = int(nr["critical_days"].sum()), int(nr["warnings_started"].sum())
    out["s5"] = [(f"时段内各单元合计临界天（日AQI {CRITICAL_BAND[0]}–{CRITICAL_BAND[1]}）{tot_c}个；按观测数据回放，"
                  f"预警启动或升级{tot_w}次（回放结果仅供参考，以各地实际发布为准）。") if zh else
                 (f"{tot_c} near-threshold unit-days (daily AQI {CRITICAL_BAND[0]}–{CRITICAL_BAND[1]}); replaying the "
                  f"warning scheme on observations gives {tot_w} warning starts/upgrades (indicative only — the "
                  "warnings actually issued are those published by each jurisdiction).")]
    return out


def _onset_text(b: Briefing, episode_id: int) -> str:
    on = b.onsets[b.onsets["episode_id"] == episode_id].sort_values(["rank", "unit"])
    arrow = "→" if b.lang == "zh" else " → "
    return arrow.join(f"{b.names.get(o.unit, o.unit)}（{fmt_time(o.first_100, b.lang)}）" if b.lang == "zh" else
                      f"{b.names.get(o.unit, o.unit)} ({fmt_time(o.first_100, b.lang)})"
                      for o in on.itertuples() if pd.notna(o.first_100))


def _caveats(b: Briefing, previous_available: bool) -> list[str]:
    zh = b.lang == "zh"
    sep = _sep(b.lang)
    eds = "、".join(f"HJ 633-{e}" for e in b.editions) if zh else ", ".join(f"HJ 633-{e}" for e in b.editions)
    c = [("数据为中国环境监测总站实时发布的国控站点小时数据，未经审核（暂定数据），可能被修订；正式评价以审核后数据为准。" if zh else
          "Hourly data of the national network as released in real time by CNEMC: provisional, unaudited and "
          "subject to revision; official assessments use validated data."),
         (f"AQI按{eds}计算（按自然日确定适用版本）；区域及各单元浓度为所辖评价站点（不含对照点）的算术平均。" if zh else
          f"AQI per {eds} (edition chosen by natural day); unit concentrations are the arithmetic mean of their "
          "evaluation stations (background stations excluded)."),
         (f"综合指数按{S.COMPOSITE_BASES[BASIS]['label_zh']}计算，为所选时段评价结果，不代替年度考核排名。" if zh else
          f"Composite index: {S.COMPOSITE_BASES[BASIS]['label_en']}; an evaluation over the selected period, "
          "not the official annual ranking.")]
    inval = b.completeness[~b.completeness["valid_statistic"]]
    if len(inval):
        who = sep.join(b.names.get(u, u) for u in inval["station"])
        c.append(f"{who}的有效天数不足（GB 3095表4按月比例要求），相关统计仅供参考。" if zh else
                 f"Too few valid days for a valid statistic (GB 3095 Table 4, pro rata per month): {who}.")
    if not previous_available:
        c.append("上年同期无数据，同比变化未计算。" if zh else "No data for the same period last year: changes not computed.")
    if b.no_station:
        who = sep.join(b.names.get(u, u) for u in b.no_station)
        c.append(f"{who}无国控评价站点，未列入统计表。" if zh else
                 f"No national evaluation station (not in the tables): {who}.")
    c.append("预警事件为按现行预警方案对观测数据的回放，不是实际发布记录。" if zh else
             "Warning events replay the warning scheme on observations; they are not the record of warnings issued.")
    m = b.meta
    if m.get("snapshot_id"):
        c.append((f"会商快照 {m['snapshot_id']}：数据截至{fmt_time(m['cutoff'], 'zh')}，于{pd.Timestamp(m['frozen_at']):%Y-%m-%d %H:%M}冻结"
                  "；其后入库或修订的数据未计入。") if zh else
                 (f"Meeting snapshot {m['snapshot_id']}: data up to {fmt_time(m['cutoff'], 'en')}, frozen at "
                  f"{pd.Timestamp(m['frozen_at']):%Y-%m-%d %H:%M}; later ingests and revisions are not included."))
    if m.get("store_version") is not None:
        c.append(f"数据版本：库版本 {m.get('store_version')}，数据版本 {m.get('data_version')}。" if zh else
                 f"Data version: store {m.get('store_version')}, data {m.get('data_version')}.")
    return c


# ------------------------------------------------------------------------------------------------
# layout: numbered sections as blocks
# ------------------------------------------------------------------------------------------------


def tables(b: Briefing) -> dict[str, Table]:
    """Every table of the briefing, keyed t1 … t9 (jurisdictions as rows)."""
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
    out["t1"] = Table("t1", _t("t1", lang), [_t(k, lang) for k in ("unit", "days", "pm25", "pm10", "good", "ci", "rank",
                                                                    "ci_yoy", "pm25_yoy")], rows,
                      note=("注：排名按综合指数由低到高（1为最好），仅在各单元间排名；“—”表示无数据。" if lang == "zh" else
                            "Rank by composite index, lowest = 1 (best), among jurisdictions; '—' = no data."), data=s)
    rows = [[n.get(r.station, r.station), *[str(int(getattr(r, f"days_level_{k}"))) for k in range(1, 7)],
             str(int(r.exceedance_days))] for r in s.itertuples()]
    out["t2"] = Table("t2", _t("t2", lang), [_t("unit", lang), *[category_name(k, lang) for k in range(1, 7)],
                                             _t("exceed", lang)], rows, data=s)
    sd = b.sides.dropna(subset=["n_days"])
    rows = [[n.get(r.station, r.station), str(int(r.n_days)), fmt_num(r.pm25_mean), fmt_num(r.pm10_mean),
             fmt_num(r.good_share, 1), fmt_num(r.composite_index, 2), str(int(r.exceedance_days)), str(int(r.heavy_days))]
            for r in sd.itertuples()]
    out["t3"] = Table("t3", _t("t3", lang), [_t(k, lang) for k in ("unit", "days", "pm25", "pm10", "good", "ci",
                                                                    "exceed", "heavy")], rows, data=b.sides)
    rows = [[str(e.episode_id), f"{fmt_time(e.start, lang)}—{fmt_time(e.end, lang)}", str(int(e.duration)),
             fmt_num(e.peak_aqi), n.get(e.peak_unit, e.peak_unit), primary_label(e.primary_pollutants, lang),
             _onset_text(b, int(e.episode_id))] for e in b.episodes.itertuples()]
    out["t4"] = Table("t4", _t("t4", lang), [_t(k, lang) for k in ("episode", "span", "hours", "peak", "peak_unit",
                                                                    "primary", "onset")], rows, data=b.episodes)
    pw = b.primary.pivot_table(index="station", columns="pollutant", values="share", aggfunc="first")
    cols = [p for p in ("pm25", "pm10", "o3", "o3_8h", "no2", "so2", "co")
            if p in pw.columns and (b.primary[b.primary["pollutant"] == p]["count"] > 0).any()]
    nn = b.primary.groupby("station")["n"].first()
    rows = [[n.get(u, u), *[fmt_num(pw.loc[u, p], 1) if u in pw.index else "—" for p in cols],
             str(int(nn.get(u, 0)))] for u in ["region", *b.units]]
    unit_word = ("小时数" if lang == "zh" else "hours") if b.primary_unit == "hour" else ("天数" if lang == "zh" else "days")
    out["t5"] = Table("t5", _t("t5", lang), [_t("unit", lang), *[pollutant_label(p, lang) for p in cols],
                                             ("AQI>50的" + unit_word) if lang == "zh" else f"AQI>50 {unit_word}"], rows,
                      note=("注：并列首要污染物分别计入，合计可能超过100%。" if lang == "zh" else
                            "Tied primary pollutants count for each, so a row may exceed 100 %."), data=b.primary)
    k = 0 if lang == "zh" else 1

    def lv(x):
        return _LEVELS.get(x, (x, x))[k]

    rows = [[n.get(r.station, r.station), str(r.critical_days), str(r.days_over_100), str(r.near_hours),
             str(r.warnings_started), lv(r.highest_state)] for r in b.near.itertuples()]
    out["t6"] = Table("t6", _t("t6", lang), [_t("unit", lang), _t("critical_days", lang), _t("exceed", lang),
                                             _t("near_hours", lang), _t("warn_events", lang), _t("max_state", lang)], rows,
                      note=(f"注：临界小时数为小时AQI距类别上限（100、150、200、300）不超过{NEAR_BAND}的小时数；预警为按观测数据回放。"
                            if lang == "zh" else f"Near-threshold hours: hourly AQI within {NEAR_BAND} below a category "
                            "boundary (100, 150, 200, 300). Warnings replayed from observations."), data=b.near)
    def ev(x):
        return _EVENTS.get(x, (x, x))[k]

    rows = [[n.get(e.jurisdiction, e.jurisdiction), fmt_time(e.time, lang), ev(e.event), lv(e.state)]
            for e in b.events.itertuples()]
    out["t7"] = Table("t7", _t("t7", lang), [_t(k, lang) for k in ("unit", "time", "event", "level")], rows,
                      data=b.events)
    c = b.completeness
    rows = [[n.get(r.station, r.station), str(r.n_stations), fmt_num(r.capture_pm25, 1),
             f"{r.n_valid_days}/{r.days_in_period}", _t("valid_yes" if r.valid_statistic else "valid_no", lang)]
            for r in c.itertuples()]
    out["t8"] = Table("t8", _t("t8", lang), [_t("unit", lang), _t("stations", lang), _t("capture", lang),
                                             _t("days", lang), _t("valid_stat", lang)], rows, data=c)
    if b.actions is not None and len(b.actions):
        from regionair.meeting import STATUSES

        rows = [[a.item, a.action, a.responsible, a.cooperating or "—", a.deadline,
                 STATUSES.get(a.status, (a.status, a.status))[0 if lang == "zh" else 1]] for a in b.actions.itertuples()]
        out["t9"] = Table("t9", _t("t9", lang), [_t(k, lang) for k in ("item", "action", "responsible", "cooperating",
                                                                        "deadline", "status")], rows, data=b.actions)
    return out


FIGURE_CAPTIONS = {"map": ("图1 ", "Figure 1. "), "trend": ("图2 ", "Figure 2. "), "calendar": ("图3 ", "Figure 3. "),
                   "primary": ("图4 ", "Figure 4. ")}


def blocks(b: Briefing) -> list[tuple]:
    """The document as a list of blocks: ``("title", text)``, ``("issuer", text)``, ``("date", text)``,
    ``("h1", text)``, ``("p", text)``, ``("table", Table)``, ``("figure", name, caption)``, ``("note", text)``."""
    lang = b.lang
    tb = tables(b)
    per = _period_text(b)
    out: list[tuple] = [("issuer", b.issuer), ("number", _t("number", lang)), ("title", b.title),
                        ("subtitle", f"（{per}）" if lang == "zh" else f"({per})"), ("note", _t("draft", lang))]
    out += [("h1", _t("s1", lang)), *[("p", p) for p in b.paragraphs.get("s1", [])], ("table", tb["t1"]),
            ("table", tb["t2"])]
    out += [("h1", _t("s2", lang)), *[("p", p) for p in b.paragraphs.get("s2", [])], ("table", tb["t3"])]
    out += [("h1", _t("s3", lang)), *[("p", p) for p in b.paragraphs.get("s3", [])]]
    if len(b.episodes):
        out.append(("table", tb["t4"]))
    out += [("h1", _t("s4", lang)), *[("p", p) for p in b.paragraphs.get("s4", [])], ("table", tb["t5"])]
    out += [("h1", _t("s5", lang)), *[("p", p) for p in b.paragraphs.get("s5", [])], ("table", tb["t6"])]
    out.append(("table", tb["t7"]) if len(b.events) else ("p", _t("no_events", lang)))
    out += [("h1", _t("s6", lang)), ("table", tb["t8"])]
    out += [("p", f"{i}. {c}" if lang == "en" else f"{'（' + '一二三四五六七八九十'[i - 1] + '）' if i <= 10 else str(i) + '.'}{c}")
            for i, c in enumerate(b.caveats, start=1)]
    out.append(("h1", _t("s7", lang)))
    for f in b.figures:
        zh, en = FIGURE_CAPTIONS[f.name]
        out.append(("figure", f.name, (zh if lang == "zh" else en) + f.title))
    if b.minutes or (b.actions is not None and len(b.actions)):
        out.append(("h1", _t("s8", lang)))
        if b.minutes:
            m = b.minutes
            sep = _sep(lang)
            out.append(("p", f"{_t('meeting_date', lang)}：{m['meeting_date']}" if lang == "zh" else
                        f"{_t('meeting_date', lang)}: {m['meeting_date']}"))
            out.append(("p", f"{_t('participants', lang)}：{sep.join(m['participants'])}" if lang == "zh" else
                        f"{_t('participants', lang)}: {sep.join(m['participants'])}"))
            out.append(("p", f"{_t('items', lang)}：{sep.join(m['items'])}" if lang == "zh" else
                        f"{_t('items', lang)}: {sep.join(m['items'])}"))
        if "t9" in tb:
            out.append(("table", tb["t9"]))
    out.append(("date", f"{b.issuer}\n{fmt_day(b.issue_date, lang)}"))
    return out


# ------------------------------------------------------------------------------------------------
# renderers
# ------------------------------------------------------------------------------------------------


def _set_east_asian(style, font: str) -> None:
    """Give a style an East-Asian font (python-docx sets only the Latin one)."""
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def _docx_styles(doc, lang: str) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    serif = "FangSong" if lang == "zh" else "Times New Roman"
    sty = doc.styles
    normal = sty["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(14 if lang == "zh" else 11)
    _set_east_asian(normal, "仿宋_GB2312" if lang == "zh" else serif)
    normal.paragraph_format.line_spacing = Pt(26 if lang == "zh" else 15)

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

    zh = lang == "zh"
    t = para("Title", size=22 if zh else 18, bold=not zh, align=WD_ALIGN_PARAGRAPH.CENTER,
             east="方正小标宋简体" if zh else None, before=12, after=6, colour="000000", line=32)
    t.font.name = "Times New Roman"
    from docx.oxml.ns import qn

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
    from docx.shared import Emu

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
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Mm

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
    doc.core_properties.language = "zh-CN" if b.lang == "zh" else "en"
    usable = Mm(210 - 28 - 26)
    style_of = {"title": "Title", "issuer": "RA Issuer", "number": "RA Number", "subtitle": "RA Subtitle",
                "note": "RA Note", "p": "RA Body", "date": "RA Date"}
    problem = b.draw_figures()
    if problem:
        doc.add_paragraph(t("render.doc_warning", b.lang, error=problem), style="RA Note")
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
            doc.add_paragraph(t("render.figure_missing", b.lang, caption=blk[2]), style="RA Note")
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
    parts = [f'<!DOCTYPE html><html lang="{"zh-CN" if b.lang == "zh" else "en"}"><head><meta charset="utf-8">'
             f"<title>{e(b.title)}</title><style>{_CSS}</style></head><body class=\"lang-{b.lang}\">"]
    problem = b.draw_figures()
    if problem:
        parts.append(f'<p class="warning" role="alert">{e(t("render.doc_warning", b.lang, error=problem))}</p>')
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
            parts.append(f'<p class="note">{e(t("render.figure_missing", b.lang, caption=blk[2]))}</p>')
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
    from regionair import meeting

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
        hourly = store.hourly(t0, t1)
        prev = store.hourly(t0 - pd.DateOffset(years=1), t1 - pd.DateOffset(years=1))
        ms = meeting.measures(store, start=t0, end=t1)
    meta["edition"] = edition
    return build_briefing(hourly, d0, d1, jurisdictions=jurisdictions, lang=lang, edition=edition,
                          previous_hourly=prev, measures=ms, actions=acts, minutes=mins, meta=meta, **kw)


def cmd_report(args) -> int:
    from regionair.store import Store

    store = Store(args.store, create=False) if args.store else Store(create=False)
    units = [u.strip() for u in args.jurisdictions.split(",") if u.strip()] if args.jurisdictions else None
    b = briefing_from_store(store, args.start, args.end, jurisdictions=units, lang=args.lang, edition=args.edition,
                            snapshot_id=args.snapshot)
    fmt = args.format or Path(args.out).suffix.lstrip(".").lower()
    problems: list[str] = []
    data = render(b, fmt, problems=problems)
    for p in problems:
        print(f"warning: the briefing was written without figures (text only): {p}", file=sys.stderr)
    from regionair.cli import _atomic_write

    _atomic_write(Path(args.out), lambda p: Path(p).write_bytes(data))
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
