"""``python -m regionair evaluate``: period values per jurisdiction as the assessors compute them.

``python -m regionair evaluate --start 2022-01-01 --end 2022-01-31 [--jurisdictions urumqi,changji]
[--dust include|exclude] [--dust-days dust.csv] [--basis HJ663-2013] [--format csv|xlsx] --out F``

One row per jurisdiction (a stable contract for scripts): ``jurisdiction``, ``days``, ``valid_days``,
``pm25``, ``pm10``, ``so2``, ``no2`` (period means [µg/m³]), ``co_p95`` [mg/m³], ``o3_8h_p90`` [µg/m³],
``composite_index``, ``composite_basis``, ``good_day_share``, ``heavy_day_share`` [%], ``dust_convention``
(``none`` | ``cnemc``), ``dust_days_deducted`` (``;``-joined dates); then ``start``, ``end``, ``n_dust_days``,
``valid_statistic``, ``validity_reason``. City daily values by HJ 663 (each station's valid daily values
first), period statistics by :func:`regionair.analysis.evaluation.period_values`; docs/evaluation.md.

The store comes from ``--store`` or ``$REGIONAIR_STORE`` (as ``export``). Dust days: ``--dust-days`` (CSV
``jurisdiction,date``, ``*`` = all), else the days marked on the rankings page; they are deducted with
``--dust exclude`` (default when ``--dust-days`` is given; otherwise ``include``).
"""

from __future__ import annotations

import sys

import pandas as pd

from regionair.analysis import dust as dust_mod
from regionair.analysis.dust import read_dust_days
from regionair.analysis.evaluation import area_daily, jurisdiction_daily, period_values, store_station_daily
from regionair.core import region
from regionair.core import standards as S
from regionair.errors import InputError
from regionair.render.exports import write_table
from regionair.store import Store

#: Columns of the ``evaluate`` output, in order (the issue's list first, then the period and validity).
EVALUATE_COLUMNS: tuple[str, ...] = (
    "jurisdiction", "days", "valid_days", "pm25", "pm10", "so2", "no2", "co_p95", "o3_8h_p90",
    "composite_index", "composite_basis", "good_day_share", "heavy_day_share", "dust_convention",
    "dust_days_deducted", "start", "end", "n_dust_days", "valid_statistic", "validity_reason",
)
#: Columns of ``daily --by jurisdiction``.
DAILY_COLUMNS: tuple[str, ...] = (
    "jurisdiction", "date", "aqi", "category", "primary_pollutants", "pm25", "pm10", "so2", "no2", "co", "o3_8h",
    "o3", "n_stations_pm25", "n_stations_pm10", "n_stations_so2", "n_stations_no2", "n_stations_co",
    "n_stations_o3_8h", "n_stations_o3", "edition",
)
_ROUND = {"pm25": 2, "pm10": 2, "so2": 2, "no2": 2, "co": 3, "o3_8h": 2, "o3": 2, "co_p95": 3, "o3_8h_p90": 2,
          "composite_index": 3, "good_day_share": 2, "heavy_day_share": 2}


def jurisdiction_daily_table(hourly: pd.DataFrame, *, edition: str = "auto", jurisdictions=None) -> pd.DataFrame:
    """The ``daily --by jurisdiction`` table: one row per jurisdiction and natural day (:data:`DAILY_COLUMNS`)."""

    d = jurisdiction_daily(hourly, jurisdictions=jurisdictions, edition=edition)
    out = d[list(DAILY_COLUMNS)].copy()
    out["aqi"] = out["aqi"].round().astype("Int64")
    for c, n in _ROUND.items():
        if c in out.columns:
            out[c] = out[c].round(n)
    for c in [c for c in out.columns if c.startswith("n_stations_")]:
        out[c] = out[c].astype("Int64")
    return out


def evaluate_table(store, start, end, *, jurisdictions=None, dust: str | None = None, dust_days=None,
                   basis: str = "HJ663-2013", edition: str = "auto") -> pd.DataFrame:
    """The ``evaluate`` table (:data:`EVALUATE_COLUMNS`) from a store.

    Parameters
    ----------
    store : regionair.store.Store
    start, end : date or str — first and last natural day.
    jurisdictions : list of ids, optional (default: the members of the joint mechanism).
    dust : {"include", "exclude"}, optional — default ``exclude`` when ``dust_days`` is given, else ``include``.
    dust_days : DataFrame ``jurisdiction``, ``date`` (``*`` allowed) or None (the store's marks).
    basis : composite-index basis (:data:`regionair.core.standards.COMPOSITE_BASES`).
    edition : HJ 633 edition of the daily AQI (``auto`` by day).

    Raises
    ------
    InputError
        No measurements in the period, unknown jurisdiction/basis.
    """

    if jurisdictions is None:
        jt = region.jurisdictions()
        jurisdictions = list(jt.loc[(jt["level"] == "jurisdiction") & jt["member"], "id"])
    mode = dust or ("exclude" if dust_days is not None else "include")
    sd = store_station_daily(store, start, end)
    if sd.empty:
        raise InputError(f"no measurements for the days {start} … {end} in the store {store.root}; ingest them "
                         "first (python -m regionair ingest --source cnemc-archive --path …) or pass --store",
                         column="start")
    daily = area_daily(sd, "jurisdiction", jurisdictions, edition=edition)
    marked = dust_days if dust_days is not None else dust_mod.marks(store)
    days = dust_mod.expand(marked, jurisdictions) if len(marked) else None
    v = period_values(daily, start, end, dust=mode, dust_days=days, basis=basis)
    out = v[list(EVALUATE_COLUMNS)].copy()
    for c, n in _ROUND.items():
        if c in out.columns:
            out[c] = out[c].round(n)
    return out.reset_index(drop=True)


def cmd_evaluate(args) -> int:

    if args.basis not in S.COMPOSITE_BASES:
        raise InputError(f"--basis {args.basis!r}; valid: {', '.join(S.COMPOSITE_BASES)}", column="--basis")
    jur = [j.strip() for j in args.jurisdictions.split(",") if j.strip()] if args.jurisdictions else None
    days = read_dust_days(args.dust_days) if args.dust_days else None
    store = Store(args.store, create=False)
    table = evaluate_table(store, args.start, args.end, jurisdictions=jur, dust=args.dust, dust_days=days,
                           basis=args.basis)
    write_table(table, args.out, args.format)
    conv = table["dust_convention"].iloc[0] if len(table) else "none"
    print(f"{len(table)} jurisdictions, {args.start} … {args.end}, composite basis {args.basis}, "
          f"dust convention {conv} → {args.out}", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """Register ``evaluate`` on the CLI's sub-parsers."""

    e = sub.add_parser("evaluate", help="period values per jurisdiction (HJ 663 city values, dust deduction)")
    e.add_argument("--start", required=True, help="first natural day, YYYY-MM-DD (Beijing)")
    e.add_argument("--end", required=True, help="last natural day, YYYY-MM-DD")
    e.add_argument("--jurisdictions", help="comma-separated jurisdiction ids (default: the joint mechanism's members)")
    e.add_argument("--dust", choices=["include", "exclude"],
                   help="exclude = deduct dust days' PM (CNEMC convention); default exclude with --dust-days, else include")
    e.add_argument("--dust-days", help="CSV with columns jurisdiction,date (* = every jurisdiction)")
    e.add_argument("--basis", default="HJ663-2013", choices=list(S.COMPOSITE_BASES), help="composite-index basis")
    e.add_argument("--format", default="csv", choices=["csv", "xlsx"])
    e.add_argument("--out", required=True)
    e.add_argument("--store", help="store folder (default $REGIONAIR_STORE or data/store)")
    e.set_defaults(func=cmd_evaluate)
