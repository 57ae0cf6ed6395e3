"""Dust days (沙尘天) for dust deduction (扣沙): marked by people, suggested from the data.

For assessments and rankings, 环办监测〔2016〕120号 (受沙尘天气过程影响城市空气质量评价补充规定) lets the
dust-affected particulate data be deducted; CNEMC's monthly city reports state the convention: PM10, PM2.5
concentrations and the composite index deduct dust, the good-day share and the heavy-pollution-day share
keep it (docs/evaluation.md §3.2–3.3). :func:`regionair.analysis.evaluation.period_values` applies it
with ``dust="exclude"`` to the days given here.

* **Marked days** (applied): a CSV ``jurisdiction,date`` (:func:`read_dust_days`; ``*`` = every
  jurisdiction) or the marks analysts and admins make on the rankings page (:func:`marks`,
  :func:`set_mark`; kept in the store's ``dust_days`` record table, every change in the audit log).
* **Suggested days** (:func:`suggest`): shown, **never applied** without a person marking them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from regionair.analysis._common import check_columns
from regionair.core import region
from regionair.errors import InputError
from regionair.store import audit

#: Columns of a dust-days CSV file.
CSV_COLUMNS: tuple[str, ...] = ("jurisdiction", "date")
#: ``jurisdiction`` value meaning every jurisdiction.
ALL = "*"
#: Record table of the marks made on the rankings page (append-only; the last action per day wins).
TABLE = "dust_days"
#: Suggestion thresholds: daily PM10 [µg/m³] at or above, PM2.5/PM10 at or below, CAMS daily mean dust
#: [µg/m³] at or above. RegionAir's screening choice — not an official criterion (the official decision
#: uses satellite, dust-network and meteorological evidence, 环办监测〔2016〕120号 二（三）).
PM10_MIN = 150.0
RATIO_MAX = 0.35
MODEL_DUST_MIN = 100.0


def _jurisdiction_ids() -> list[str]:
    jt = region.jurisdictions()
    return list(jt.loc[jt["level"] == "jurisdiction", "id"])


def parse_dust_days(text: str, path: str | os.PathLike = "<dust days>") -> pd.DataFrame:
    """Parse a dust-days CSV (``jurisdiction,date``; ``*`` = every jurisdiction; blank lines skipped).

    Returns
    -------
    DataFrame ``jurisdiction`` (id or ``*``), ``date`` (``datetime.date``), ``line`` (1-based line in the file).

    Raises
    ------
    InputError
        Missing header columns, an unknown jurisdiction or a date that is not YYYY-MM-DD (the message names
        the file, line and column and how to fix it).
    """
    valid = _jurisdiction_ids()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = None
    rows = []
    for i, rec in enumerate(reader, start=1):
        if not rec or all(not c.strip() for c in rec):
            continue
        cells = [c.strip() for c in rec]
        if header is None:
            header = [c.lower() for c in cells]
            missing = [c for c in CSV_COLUMNS if c not in header]
            if missing:
                raise InputError(f"header lacks {missing}; the first line must be 'jurisdiction,date'",
                                 path=path, line=i, column=missing[0])
            continue
        get = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))
        j, d = get["jurisdiction"], get["date"]
        if j != ALL and j not in valid:
            raise InputError(f"unknown jurisdiction {j!r}; write one of {', '.join(valid)} or * for all",
                             path=path, line=i, column="jurisdiction")
        try:
            day = dt.date.fromisoformat(d)
        except ValueError:
            raise InputError(f"{d!r} is not a date; write it as YYYY-MM-DD (e.g. 2023-03-22)",
                             path=path, line=i, column="date") from None
        rows.append({"jurisdiction": j, "date": day, "line": i})
    if header is None:
        raise InputError("the file is empty; the first line must be 'jurisdiction,date'", path=path, line=1)
    return pd.DataFrame(rows, columns=["jurisdiction", "date", "line"])


def read_dust_days(path: str | os.PathLike) -> pd.DataFrame:
    """Read a dust-days CSV file (UTF-8, optional BOM); see :func:`parse_dust_days`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found; give the path of a CSV with columns jurisdiction,date",
                         path=path) from None
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (byte {err.start}); save the file as UTF-8 CSV", path=path) from None
    return parse_dust_days(text, path)


def expand(days: pd.DataFrame, jurisdictions: Iterable[str] | None = None) -> pd.DataFrame:
    """``*`` rows repeated for every jurisdiction; duplicates dropped.

    Parameters
    ----------
    days : DataFrame with ``jurisdiction`` (id or ``*``), ``date``.
    jurisdictions : ids that ``*`` stands for (default every jurisdiction-level unit of the catalogue).

    Returns
    -------
    DataFrame ``jurisdiction``, ``date`` sorted by date, then display order.
    """
    check_columns(days, ("jurisdiction", "date"), "dust days")
    ids = list(jurisdictions) if jurisdictions is not None else _jurisdiction_ids()
    parts = []
    for r in days[["jurisdiction", "date"]].itertuples(index=False):
        for j in (ids if r.jurisdiction == ALL else [r.jurisdiction]):
            parts.append((j, pd.Timestamp(r.date).date()))
    out = pd.DataFrame(sorted(set(parts), key=lambda x: (x[1], region.unit_order().get(x[0], 10_000))),
                       columns=["jurisdiction", "date"])
    return out


def suggest(daily: pd.DataFrame, *, model_aq: pd.DataFrame | None = None, pm10_min: float = PM10_MIN,
            ratio_max: float = RATIO_MAX, model_dust_min: float = MODEL_DUST_MIN) -> pd.DataFrame:
    """Candidate dust days from the data — to be shown, never applied without a person's mark.

    Parameters
    ----------
    daily : DataFrame
        Area daily values (:func:`regionair.analysis.evaluation.area_daily`): ``jurisdiction``, ``date``,
        ``pm10``, ``pm25`` [µg/m³].
    model_aq : DataFrame, optional
        Modelled air quality from the store (``Store.model_aq``: ``point`` = jurisdiction id, ``time``
        Beijing hour-ending, ``dust`` [µg/m³]); its daily means over D 01:00 … D+1 00:00 add a second test.
    pm10_min, ratio_max, model_dust_min : float
        Thresholds (module constants; RegionAir's screening choice).

    Returns
    -------
    DataFrame ``jurisdiction``, ``date``, ``pm10``, ``pm25``, ``ratio`` (PM2.5/PM10), ``model_dust``
    (daily mean [µg/m³], NaN without model data), ``basis`` (``pm`` | ``model`` | ``pm+model``), sorted by
    date and display order.
    """
    check_columns(daily, ("jurisdiction", "date", "pm10", "pm25"), "daily")
    d = daily[["jurisdiction", "date", "pm10", "pm25"]].copy()
    d["date"] = [pd.Timestamp(x).date() for x in d["date"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        d["ratio"] = d["pm25"] / d["pm10"]
    pm = (d["pm10"] >= pm10_min) & (d["ratio"] <= ratio_max)
    d["model_dust"] = np.nan
    mod = pd.Series(False, index=d.index)
    if model_aq is not None and len(model_aq) and "dust" in model_aq.columns:
        m = model_aq[["point", "time", "dust"]].dropna(subset=["dust"]).copy()
        t = pd.to_datetime(m["time"])
        m["date"] = [x.date() for x in (t - pd.Timedelta(hours=1))]
        daily_dust = m.groupby(["point", "date"])["dust"].mean()
        key = pd.MultiIndex.from_arrays([d["jurisdiction"], d["date"]])
        d["model_dust"] = key.map(daily_dust).to_numpy(dtype="float64", na_value=np.nan)
        mod = d["model_dust"] >= model_dust_min
    hit = pm | mod
    d["basis"] = np.where(pm & mod, "pm+model", np.where(pm, "pm", "model"))
    out = d[hit.to_numpy()].copy()
    out = out.assign(_o=out["jurisdiction"].map(region.unit_order()).fillna(10_000))
    return out.sort_values(["date", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ page marks
def marks(store) -> pd.DataFrame:
    """Dust days currently marked in the store (the last action per jurisdiction and day is ``mark``).

    Returns DataFrame ``jurisdiction``, ``date``, ``who``, ``time`` (of the mark, Beijing), ``note``.
    """
    cols = ["jurisdiction", "date", "who", "time", "note"]
    df = store.records(TABLE)
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    df = df.copy()
    df["time"] = pd.to_datetime(df["time"], utc=True).dt.tz_convert("Asia/Shanghai")
    df = df.sort_values("time", kind="stable").drop_duplicates(["jurisdiction", "date"], keep="last")
    df = df[df["action"] == "mark"]
    df["date"] = [dt.date.fromisoformat(str(x)) for x in df["date"]]
    return df[cols].sort_values(["date", "jurisdiction"]).reset_index(drop=True)


def set_mark(store, jurisdiction: str, date, *, marked: bool, who: str, note: str = "") -> None:
    """Mark (``marked=True``) or unmark a dust day; the change is written to the audit log.

    Raises
    ------
    InputError
        Unknown jurisdiction or bad date.
    """


    if jurisdiction != ALL and jurisdiction not in _jurisdiction_ids():
        raise InputError(f"unknown jurisdiction {jurisdiction!r}; valid: {', '.join(_jurisdiction_ids())} or *",
                         column="jurisdiction")
    try:
        day = pd.Timestamp(date).date()
    except (ValueError, TypeError):
        raise InputError(f"date={date!r} is not a date (YYYY-MM-DD)", column="date") from None
    action = "mark" if marked else "unmark"
    store.append_records(TABLE, pd.DataFrame([{
        "jurisdiction": jurisdiction, "date": day.isoformat(), "action": action, "who": who,
        "note": str(note)[:500], "time": pd.Timestamp(datetime.now(UTC))}]))
    audit.record(store, who=who, action=f"dust_{action}", target=f"{jurisdiction} {day.isoformat()}",
                 detail=str(note)[:500])
