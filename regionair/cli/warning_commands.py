"""``python -m regionair warnings``: near-threshold flags, budgets, forecast levels and active warnings.

Register with :func:`add_command` on the CLI's sub-parsers. Reads the store
(``regionair.store.Store(path).hourly(start, end)`` and ``.model_aq(...)``) and prints
:func:`regionair.warnings.desk.warnings_report` at ``--at`` (default: the latest hour) as JSON or
tables.

JSON output: an object with ``at``, ``scheme``, ``scheme_uncertain``, ``uncertain_rows`` and, per
table, a list of records: ``flags`` (scope, id, jurisdiction, pollutant, iaqi, boundary, distance, trend,
slope, flag, …), ``budgets`` (scope, id, jurisdiction, pollutant, date, hours_valid, mean_so_far, limit,
boundary, allowance, status, …), ``o3``, ``running_aqi``, ``forecast_levels``, ``active_warnings``,
``critical_days``, ``skill``.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd

from regionair.core.nomenclature import SOURCE_PRECEDENCE, parse_time
from regionair.store import Store
from regionair.warnings.desk import warnings_report
from regionair.warnings.schemes import DEFAULT_SCHEME

#: Tables printed, in order, and the columns shown in ``--format table``.
TABLES: dict[str, list[str]] = {
    "flags": ["scope", "id", "jurisdiction", "pollutant", "iaqi", "boundary", "distance", "trend", "slope", "flag"],
    "budgets": ["scope", "id", "jurisdiction", "pollutant", "date", "hours_valid", "mean_so_far", "limit",
                "boundary", "allowance", "recent", "status", "reduction", "reduction_pct"],
    "o3": ["scope", "id", "boundary", "mda8_so_far", "o3_8h_now", "limit", "next_hour_allowance", "status"],
    "running_aqi": ["scope", "id", "date", "hours_valid", "aqi", "primary_pollutants", "category", "provisional"],
    "forecast_levels": ["jurisdiction", "scheme", "level", "first_met", "max_aqi_24h", "lift_ok_from", "uncertain"],
    "active_warnings": ["jurisdiction", "scheme", "level", "since", "lift_expected", "uncertain"],
    "critical_days": ["jurisdiction", "date", "aqi", "pollutant", "concentration", "limit", "drop_needed", "drop_pct"],
    "skill": ["jurisdiction", "method", "n_days", "hit_rate_raw", "hit_rate_corrected", "bias_raw", "bias_corrected"],
}


def _jsonable(v):
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.isoformat()
    if isinstance(v, float | np.floating):
        return None if np.isnan(v) else round(float(v), 3)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if v is pd.NaT:
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def report_to_json(report: dict[str, pd.DataFrame], *, flags: str = "active") -> dict:
    """JSON-ready dict of a report. ``flags="active"`` keeps only near/crossed flags (``"all"``: every row)."""
    meta = report["meta"].iloc[0]
    out = {"at": _jsonable(meta["at"]), "date": _jsonable(meta["date"]), "edition": meta["edition"],
           "scheme": meta["scheme"], "scheme_uncertain": bool(meta["scheme_uncertain"]),
           "uncertain_rows": meta["uncertain_rows"], "forecast_basis": meta["forecast_basis"]}
    for name in TABLES:
        df = report.get(name, pd.DataFrame())
        if name == "flags" and flags == "active" and len(df):
            df = df[df["flag"] != "none"]
        out[name] = [{k: _jsonable(v) for k, v in rec.items()} for rec in df.to_dict("records")]
    return out


def report_to_text(report: dict[str, pd.DataFrame]) -> str:
    """Plain-text tables (active flags only; budgets at jurisdiction scope)."""
    meta = report["meta"].iloc[0]
    lines = [f"RegionAir warnings at {meta['at']:%Y-%m-%d %H:%M} (Beijing), edition {meta['edition']}, "
             f"scheme {meta['scheme']}{' [UNCERTAIN]' if meta['scheme_uncertain'] else ''}, "
             f"forecast: {meta['forecast_basis']}"]
    for name, cols in TABLES.items():
        df = report.get(name, pd.DataFrame())
        if name == "flags" and len(df):
            df = df[df["flag"] != "none"]
        if name in ("budgets", "o3", "running_aqi") and len(df):
            df = df[df["scope"] == "jurisdiction"]
        lines.append(f"\n== {name} ({len(df)})")
        if len(df):
            lines.append(df[[c for c in cols if c in df.columns]].to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    if meta["uncertain_rows"]:
        lines.append(f"\nUNCERTAIN: {meta['uncertain_rows']}")
    return "\n".join(lines)


def cmd_warnings(args) -> int:

    store = Store(args.store) if args.store else Store()
    at = parse_time(args.at)
    end = at
    start = (at or pd.Timestamp.now(tz="Asia/Shanghai").floor("h")) - pd.Timedelta(days=args.history_days)
    hourly = store.hourly(start, end, prefer=SOURCE_PRECEDENCE)
    if at is None and hourly.empty:  # an archive-only store: use its latest hours
        hourly = store.hourly(prefer=SOURCE_PRECEDENCE)
    if at is None and len(hourly):
        at = pd.to_datetime(hourly["time"]).max()
        start = at - pd.Timedelta(days=args.history_days)
        hourly = hourly[pd.to_datetime(hourly["time"]) >= start]
    forecast = None
    if at is not None:
        forecast = store.model_aq(start, at + pd.Timedelta(days=5), run="all")
        if forecast.empty:
            forecast = None
    report = warnings_report(hourly, at=at, forecast=forecast, scheme=args.scheme, band=args.band)
    if args.format == "json":
        json.dump(report_to_json(report, flags="all" if args.all_flags else "active"), sys.stdout,
                  ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(report_to_text(report))
    return 0


def add_command(subparsers) -> None:
    """Register ``warnings`` on the CLI's sub-parsers."""

    w = subparsers.add_parser("warnings", help="near-threshold flags, budgets, forecast warning levels at a time")
    w.add_argument("--store", default=None, help="store path (default: the configured store)")
    w.add_argument("--at", default=None, help="ISO time, Beijing if no offset (default: latest hour)")
    w.add_argument("--format", default="table", choices=["json", "table"])
    w.add_argument("--scheme", default=DEFAULT_SCHEME,
                   help="national-2018, national-2024-reconstructed, local-example or a .toml path")
    w.add_argument("--band", type=float, default=15.0, help="near-threshold band [IAQI points]")
    w.add_argument("--history-days", type=int, default=35, help="days of history loaded (bias correction, skill)")
    w.add_argument("--all-flags", action="store_true", help="JSON: every flag row, not only near/crossed")
    w.set_defaults(func=cmd_warnings)


#: Alias matching :func:`regionair.pipeline.ingest.add_commands` (how ``regionair.cli`` registers command modules).
add_commands = add_command
