"""Consultation (会商) meetings: frozen snapshots, the decision log (会商纪要) and control measures.

Pure functions over a :class:`~regionair.store.Store`; everything is kept in the store's small
append-only record tables (never in a browser session), so every participant and every later reader
sees the same thing:

``meeting_snapshots``  one row per snapshot: id, data cut-off ``cutoff`` (T), ``frozen_at`` (wall clock),
                       period, jurisdictions, edition, language, store version
``meeting_minutes``    one row per save of a meeting's minutes (the latest save wins)
``meeting_actions``    agreed actions — 责任单位 / 配合单位 / 完成时限 — one row per change (the latest
                       row of an ``action_id`` is its current state; earlier rows are its history)
``control_measures``   control measures per jurisdiction (start/end, type, implementing unit)

Snapshot reproduction
---------------------
A snapshot is (T, frozen_at, filters, edition). :func:`snapshot_hourly` returns the measurements as
they stood at ``frozen_at``: rows with hour-ending time in [start, T] whose ``ingested_at`` ≤
``frozen_at``; a row revised after ``frozen_at`` is replaced by the revision row that was live then
(``revisions`` keeps it with ``ingested_at``/``replaced_at``). Hours that arrive later, and later
revisions, therefore never change the numbers shown under the permalink. Limitation: a row *deleted*
from the store after the freeze (the store never deletes measurements today) could not be restored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from regionair.core import region
from regionair.core.aqi import _check_edition
from regionair.core.nomenclature import POLLUTANTS, PROVENANCE_COLUMNS, SOURCE_PRECEDENCE, TZ, beijing_time
from regionair.errors import InputError

SNAPSHOTS = "meeting_snapshots"
MINUTES = "meeting_minutes"
ACTIONS = "meeting_actions"
MEASURES = "control_measures"

#: Status of an agreed action: code → (zh, en).
STATUSES: dict[str, tuple[str, str]] = {
    "open": ("未开始", "Not started"),
    "in_progress": ("推进中", "In progress"),
    "done": ("已完成", "Done"),
    "cancelled": ("已取消", "Cancelled"),
}
#: Kinds of control measure: code → (zh, en).
MEASURE_TYPES: dict[str, tuple[str, str]] = {
    "industry": ("工业企业限产停产", "Industrial curtailment"),
    "dust": ("扬尘管控", "Dust control"),
    "traffic": ("机动车管控", "Vehicle restrictions"),
    "coal": ("燃煤及散煤管控", "Coal / heating controls"),
    "burning": ("禁燃禁放及露天焚烧管控", "Burning / fireworks ban"),
    "other": ("其他", "Other"),
}
AGENDA = ("overview", "trends", "episodes", "warnings", "rankings")
AGENDA_LABELS: dict[str, tuple[str, str]] = {
    "overview": ("总体形势", "Overview"),
    "trends": ("变化趋势", "Trends"),
    "episodes": ("污染过程", "Episodes"),
    "warnings": ("预警与临界", "Warnings"),
    "rankings": ("排名与考核", "Rankings"),
}
CAUTION = {
    "zh": "前后对比仅比较相同时次（同一小时），未扣除气象条件差异（风速、边界层、降水等），不能单独据此评估措施成效。",
    "en": "Same-hour comparison only; weather (wind, mixing height, precipitation) differs between the windows, "
          "so the change is not the effect of the measure by itself.",
}
_HOUR = pd.Timedelta(hours=1)


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _text_list(v) -> str:
    if v is None:
        return "[]"
    if isinstance(v, str):
        v = [x.strip() for x in v.replace("，", ",").replace("、", ",").replace(";", ",").split(",")]
    return json.dumps([str(x) for x in v if str(x).strip()], ensure_ascii=False)


def _latest(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """The last appended row of each ``key`` (records are in append order), in order of first appearance."""
    if df.empty:
        return df
    order = pd.unique(df[key])
    last = df.drop_duplicates(key, keep="last").set_index(key).loc[order].reset_index()
    return last[list(df.columns)]


# ------------------------------------------------------------------------------------------------
# snapshots
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingSnapshot:
    """A frozen view: data as of ``cutoff`` (T) as stored at ``frozen_at``, with the filters."""

    id: str
    cutoff: pd.Timestamp  # T: last hour-ending stamp included (Beijing)
    start: pd.Timestamp  # first hour-ending stamp of the period (Beijing)
    frozen_at: pd.Timestamp  # wall clock of the freeze (Beijing); later ingests are ignored
    units: tuple[str, ...]
    edition: str = "auto"
    lang: str = "zh"
    title: str = ""
    store_version: int = 0
    data_version: int = 0
    filters: dict = field(default_factory=dict)

    def permalink(self, base: str = "") -> str:
        """Relative link to the 会商 page showing this snapshot."""
        return f"{base.rstrip('/')}/meeting?snapshot={self.id}"

    def as_dict(self) -> dict:
        return {"id": self.id, "cutoff": self.cutoff.isoformat(), "start": self.start.isoformat(),
                "frozen_at": self.frozen_at.isoformat(), "units": list(self.units), "edition": self.edition,
                "lang": self.lang, "title": self.title, "store_version": self.store_version,
                "data_version": self.data_version, "filters": self.filters}


def create_snapshot(store, *, cutoff, start, units: Sequence[str], edition: str = "auto", lang: str = "zh",
                    title: str = "", filters: dict | None = None, frozen_at=None) -> MeetingSnapshot:
    """Freeze the data as of ``cutoff`` (T) and save the snapshot in the store.

    Parameters
    ----------
    store : Store
    cutoff : time — T, the last hour-ending stamp shown (Beijing; naive = Beijing).
    start : time — first hour-ending stamp of the meeting's period.
    units : jurisdiction ids shown.
    edition : {"auto", "2012", "2026"} — HJ 633 edition.
    lang : {"zh", "en"}
    title : str — meeting name (e.g. "2022年1月3日区域会商").
    filters : dict — any other view settings to keep with the snapshot.
    frozen_at : time, optional — wall clock of the freeze (default now); rows ingested later are ignored.

    Returns
    -------
    MeetingSnapshot — its ``id`` goes in the permalink ``?snapshot=<id>``.
    """

    _check_edition(edition)
    if lang not in ("zh", "en"):
        raise InputError(f"lang={lang!r}; valid: 'zh', 'en'", column="lang")
    t1, t0 = beijing_time(cutoff, "cutoff"), beijing_time(start, "start")
    if t0 > t1:
        raise InputError(f"start={t0} is after the cut-off {t1}", column="start")
    units = [str(u) for u in units]
    if not units:
        raise InputError("units is empty; name at least one jurisdiction", column="units")
    frozen = beijing_time(frozen_at, "frozen_at") if frozen_at is not None else pd.Timestamp.now(tz=TZ)
    snap = store.snapshot()
    s = MeetingSnapshot(id=_new_id(), cutoff=t1, start=t0, frozen_at=frozen, units=tuple(units), edition=edition,
                        lang=lang, title=title, store_version=snap.version, data_version=snap.data_version,
                        filters=dict(filters or {}))
    row = pd.DataFrame([{
        "snapshot_id": s.id, "cutoff": t1.tz_convert("UTC"), "start": t0.tz_convert("UTC"),
        "frozen_at": frozen.tz_convert("UTC"), "units": json.dumps(list(units)), "edition": edition, "lang": lang,
        "title": title, "store_version": int(snap.version), "data_version": int(snap.data_version),
        "filters": json.dumps(s.filters, ensure_ascii=False, default=str)}])
    store.append_records(SNAPSHOTS, row)
    return s


def list_snapshots(store) -> pd.DataFrame:
    """Every saved snapshot, newest first (``snapshot_id``, ``title``, ``cutoff``, ``frozen_at`` …)."""
    df = store.records(SNAPSHOTS)
    if df.empty:
        return pd.DataFrame(columns=["snapshot_id", "title", "cutoff", "start", "frozen_at", "edition", "units"])
    return df.iloc[::-1].reset_index(drop=True)


def load_snapshot(store, snapshot_id: str) -> MeetingSnapshot:
    """The snapshot saved under ``snapshot_id``.

    Raises
    ------
    InputError
        No such snapshot (the message lists how to find valid ids).
    """
    df = store.records(SNAPSHOTS)
    hit = df[df["snapshot_id"] == str(snapshot_id)] if len(df) else df
    if hit.empty:
        raise InputError(f"no meeting snapshot {snapshot_id!r} in the store; create one on the 会商 page "
                         "or pick one from the list of saved snapshots", column="snapshot")
    r = hit.iloc[-1]
    return MeetingSnapshot(
        id=str(r["snapshot_id"]), cutoff=beijing_time(r["cutoff"], "cutoff"), start=beijing_time(r["start"], "start"),
        frozen_at=beijing_time(r["frozen_at"], "frozen_at"), units=tuple(json.loads(r["units"])), edition=str(r["edition"]),
        lang=str(r["lang"]), title=str(r["title"] or ""), store_version=int(r["store_version"]),
        data_version=int(r["data_version"]), filters=json.loads(r["filters"] or "{}"))


def snapshot_hourly(store, snap: MeetingSnapshot, *, start=None, lookback_hours: int = 0) -> pd.DataFrame:
    """Measurements of the snapshot's period as they stood at ``snap.frozen_at``.

    Parameters
    ----------
    store : Store
    snap : MeetingSnapshot
    start : time, optional — earlier start than the snapshot's (e.g. a year back for comparisons).
    lookback_hours : int — extra hours before the start (moving means need 24 h) [h].

    Returns
    -------
    DataFrame — canonical hourly frame (as :meth:`Store.hourly`), times in [start − lookback, cutoff].
    """
    t0 = (beijing_time(start, "start") if start is not None else snap.start) - lookback_hours * _HOUR
    meta = ["ingested_at", "revision"]
    cur = store.hourly(t0, snap.cutoff, columns=[*PROVENANCE_COLUMNS, *meta], prefer=SOURCE_PRECEDENCE)
    keep = cur[cur["ingested_at"] <= snap.frozen_at]
    rev = store.revisions(t0, snap.cutoff)
    if len(rev):
        was_live = (rev["ingested_at"] <= snap.frozen_at) & (rev["replaced_at"] > snap.frozen_at)
        old = rev.loc[was_live, [c for c in keep.columns if c in rev.columns]]
        if len(old):
            keep = pd.concat([keep, old], ignore_index=True)
    keep = keep.drop_duplicates(["station", "time", "source"], keep="last")
    keep = keep.sort_values(["station", "time", "source"], kind="stable").drop(columns=meta)
    return keep.reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# decision log (会商纪要)
# ------------------------------------------------------------------------------------------------


def save_minutes(store, snapshot_id: str, *, meeting_date, participants: Iterable[str] | str,
                 items: Iterable[str] | str, chair: str = "", notes: str = "") -> str:
    """Save (or re-save) the minutes of the meeting held on a snapshot; returns ``minutes_id``.

    ``participants`` are units (e.g. 乌鲁木齐市生态环境局, 第八师石河子市生态环境局); ``items`` the items
    discussed. A second save of the same snapshot supersedes the first (both stay in the store).
    """
    load_snapshot(store, snapshot_id)
    if isinstance(items, str):
        items = [x.strip() for x in items.splitlines() if x.strip()]
    row = pd.DataFrame([{"minutes_id": f"m-{snapshot_id}", "snapshot_id": str(snapshot_id),
                         "meeting_date": str(pd.Timestamp(meeting_date).date()), "chair": chair,
                         "participants": _text_list(participants), "items": json.dumps(list(items), ensure_ascii=False),
                         "notes": notes}])
    store.append_records(MINUTES, row)
    return f"m-{snapshot_id}"


def minutes(store, snapshot_id: str) -> dict | None:
    """The latest minutes of a snapshot's meeting: ``meeting_date``, ``chair``, ``participants`` (list),
    ``items`` (list), ``notes`` — or None."""
    df = store.records(MINUTES)
    if df.empty:
        return None
    df = df[df["snapshot_id"] == str(snapshot_id)]
    if df.empty:
        return None
    r = df.iloc[-1]
    return {"minutes_id": r["minutes_id"], "snapshot_id": r["snapshot_id"], "meeting_date": r["meeting_date"],
            "chair": r["chair"] or "", "participants": json.loads(r["participants"] or "[]"),
            "items": json.loads(r["items"] or "[]"), "notes": r["notes"] or ""}


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise InputError(f"status={status!r}; valid: {', '.join(STATUSES)}", column="status")


def add_action(store, snapshot_id: str, *, item: str, action: str, responsible: str,
               cooperating: Iterable[str] | str = (), deadline, status: str = "open", note: str = "") -> str:
    """Record an agreed action (责任单位 ``responsible``, 配合单位 ``cooperating``, 完成时限 ``deadline``).

    Returns the new ``action_id``.
    """
    load_snapshot(store, snapshot_id)
    _check_status(status)
    if not str(action).strip():
        raise InputError("action is empty; describe the agreed action", column="action")
    if not str(responsible).strip():
        raise InputError("responsible is empty; name the 责任单位", column="responsible")
    aid = f"a-{_new_id()}"
    row = pd.DataFrame([{"action_id": aid, "snapshot_id": str(snapshot_id), "item": str(item), "action": str(action),
                         "responsible": str(responsible), "cooperating": _text_list(cooperating),
                         "deadline": str(pd.Timestamp(deadline).date()), "status": status, "note": note,
                         "revision": 0}])
    store.append_records(ACTIONS, row)
    return aid


def update_action(store, action_id: str, *, status: str, note: str = "") -> dict:
    """Change the status of an action (appends a row; the history stays). Returns the new state."""
    _check_status(status)
    hist = store.records(ACTIONS)
    rows = hist[hist["action_id"] == action_id] if len(hist) else hist
    if rows.empty:
        raise InputError(f"no action {action_id!r}; list them with meeting.actions(store)", column="action_id")
    last = rows.iloc[-1].to_dict()
    last.pop("recorded_at", None)
    last.update(status=status, note=note or last.get("note", ""), revision=int(last.get("revision", 0)) + 1)
    store.append_records(ACTIONS, pd.DataFrame([last]))
    return last


def actions(store, snapshot_id: str | None = None, *, history: bool = False, today=None) -> pd.DataFrame:
    """Agreed actions (current state of each, or every change with ``history=True``).

    Returns
    -------
    DataFrame — ``action_id``, ``snapshot_id``, ``item``, ``action``, ``responsible``, ``cooperating``
    (``、``-joined), ``deadline`` (YYYY-MM-DD), ``status``, ``note``, ``revision``, ``recorded_at``,
    ``overdue`` (deadline before ``today`` and not done/cancelled).
    """
    cols = ["action_id", "snapshot_id", "item", "action", "responsible", "cooperating", "deadline", "status",
            "note", "revision", "recorded_at", "overdue"]
    df = store.records(ACTIONS)
    if df.empty:
        return pd.DataFrame(columns=cols)
    if snapshot_id is not None:
        df = df[df["snapshot_id"] == str(snapshot_id)]
    if not history:
        df = _latest(df, "action_id")
    df = df.copy()
    df["cooperating"] = df["cooperating"].map(lambda s: "、".join(json.loads(s or "[]")))
    day = pd.Timestamp(today).date() if today is not None else pd.Timestamp.now(tz=TZ).date()
    dl = pd.to_datetime(df["deadline"]).dt.date
    df["overdue"] = (dl < day) & ~df["status"].isin(["done", "cancelled"])
    return df[cols].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# control measures
# ------------------------------------------------------------------------------------------------


def add_measure(store, *, jurisdiction: str, start, end, kind: str, unit: str, description: str = "",
                snapshot_id: str = "") -> str:
    """Log a control measure of a jurisdiction (``kind`` from :data:`MEASURE_TYPES`); returns ``measure_id``."""

    ids = set(region.jurisdictions()["id"])
    if jurisdiction not in ids:
        raise InputError(f"jurisdiction={jurisdiction!r}; valid: {', '.join(sorted(ids))}", column="jurisdiction")
    if kind not in MEASURE_TYPES:
        raise InputError(f"kind={kind!r}; valid: {', '.join(MEASURE_TYPES)}", column="kind")
    t0, t1 = beijing_time(start, "start"), beijing_time(end, "end")
    if t1 < t0:
        raise InputError(f"end={t1} is before start={t0}", column="end")
    mid = f"cm-{_new_id()}"
    store.append_records(MEASURES, pd.DataFrame([{
        "measure_id": mid, "jurisdiction": jurisdiction, "start": t0.tz_convert("UTC"), "end": t1.tz_convert("UTC"),
        "kind": kind, "unit": unit, "description": description, "snapshot_id": snapshot_id}]))
    return mid


def measures(store, *, jurisdictions: Iterable[str] | None = None, start=None, end=None,
             recorded_before=None) -> pd.DataFrame:
    """Control measures overlapping [start, end], optionally only those logged before ``recorded_before``.

    Returns ``measure_id``, ``jurisdiction``, ``start``, ``end`` (Beijing), ``kind``, ``unit``,
    ``description``, ``snapshot_id``, ``recorded_at``.
    """
    cols = ["measure_id", "jurisdiction", "start", "end", "kind", "unit", "description", "snapshot_id", "recorded_at"]
    df = store.records(MEASURES)
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = _latest(df, "measure_id")
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c], utc=True).dt.tz_convert(TZ)
    if jurisdictions is not None:
        df = df[df["jurisdiction"].isin(list(jurisdictions))]
    if start is not None:
        df = df[df["end"] >= beijing_time(start, "start")]
    if end is not None:
        df = df[df["start"] <= beijing_time(end, "end")]
    if recorded_before is not None and "recorded_at" in df:
        df = df[pd.to_datetime(df["recorded_at"], utc=True) <= beijing_time(recorded_before, "recorded_before")]
    return df[cols].sort_values(["start", "jurisdiction"], kind="stable").reset_index(drop=True)


def before_after(unit_hourly: pd.DataFrame, jurisdiction: str, start, end, *,
                 pollutants: Sequence[str] = ("pm25", "pm10", "aqi"), lang: str = "zh") -> pd.DataFrame:
    """Same-hour before/after statistics of a measure for one jurisdiction.

    Parameters
    ----------
    unit_hourly : DataFrame — :func:`regionair.analysis.latest.unit_hourly` output (``station`` = unit id,
        ``time``, pollutants [µg/m³; CO mg/m³], ``aqi``).
    jurisdiction : unit id.
    start, end : the measure's period (hour-ending stamps, Beijing). The *during* window is the part of
        [start, end] covered by the data; the *before* window has the same length and ends one hour
        before ``start``.
    pollutants : columns compared.

    Returns
    -------
    DataFrame — one row per pollutant: ``jurisdiction``, ``pollutant``, ``before_start``, ``before_end``,
    ``during_start``, ``during_end``, ``hours_compared`` (clock hours present in both windows),
    ``n_before``, ``n_during`` (valid hours used), ``before_mean``, ``during_mean`` [unit of the pollutant],
    ``change`` = during − before, ``change_pct`` [%], ``caution``.

    Notes
    -----
    Same-hour comparison: each window's mean is the mean over clock hours (0–23, hour-ending) of that
    hour's mean, using only the clock hours that have valid values in **both** windows, so a window
    that lacks night hours is not compared with one that has them. Weather is not accounted for.
    """
    d = unit_hourly[unit_hourly["station"] == jurisdiction]
    t0, t1 = beijing_time(start, "start"), beijing_time(end, "end")
    if len(d):
        t1 = min(t1, d["time"].max())
    length = t1 - t0 + _HOUR
    b0, b1 = t0 - length, t0 - _HOUR
    rows = []
    for p in pollutants:
        if p not in d.columns:
            raise InputError(f"pollutant {p!r} not in unit_hourly; present: {[c for c in (*POLLUTANTS, 'aqi') if c in d]}",
                             column="pollutants")
        during = d[(d["time"] >= t0) & (d["time"] <= t1)].dropna(subset=[p])
        before = d[(d["time"] >= b0) & (d["time"] <= b1)].dropna(subset=[p])
        hb = before.groupby(before["time"].dt.hour)[p].mean()
        hd = during.groupby(during["time"].dt.hour)[p].mean()
        common = hb.index.intersection(hd.index)
        bm = float(hb[common].mean()) if len(common) else np.nan
        dm = float(hd[common].mean()) if len(common) else np.nan
        rows.append({"jurisdiction": jurisdiction, "pollutant": p, "before_start": b0, "before_end": b1,
                     "during_start": t0, "during_end": t1, "hours_compared": len(common),
                     "n_before": int(before["time"].dt.hour.isin(common).sum()),
                     "n_during": int(during["time"].dt.hour.isin(common).sum()),
                     "before_mean": bm, "during_mean": dm, "change": dm - bm,
                     "change_pct": 100.0 * (dm - bm) / bm if bm and not np.isnan(bm) else np.nan,
                     "caution": CAUTION[lang]})
    return pd.DataFrame(rows)
