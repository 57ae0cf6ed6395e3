"""Command line: ``python -m regionair <command> …`` for scripts and schedulers.

Commands
--------
``aqi``      hourly AQI of CNEMC archive files → CSV
``daily``    daily AQI of CNEMC archive files → CSV (per station, or ``--by jurisdiction``: HJ 663 city values)
``evaluate`` period values per jurisdiction from the store (regionair.cli.evaluate)
``ingest``   load a source into the store (backfill, resumable)
``export``   canonical hourly data out of the store (csv, xlsx, parquet)
``status``   coverage and freshness per source and station
``watch``    pull the latest hours every N minutes (for systemd/cron)
``doctor``   check Chromium, CJK fonts, the store, the sources and sign-in (exit 1 if any fails)

Times on the command line are ISO 8601; without an offset they mean Beijing time.
Exit status: 0 ok, 2 bad input or arguments (message names file/line/column) or values/rows refused
by the loader-edge rules (listed on stderr; what was fine is written/stored), 3 source/store failure.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

import numpy as np
import pandas as pd

from regionair.core.aqi import daily_aqi, hourly_aqi
from regionair.core.averaging import moving_means
from regionair.core.nomenclature import POLLUTANTS, parse_time  # noqa: F401  (parse_time: CLI modules' import)
from regionair.errors import InputError, RegionairError
from regionair.render.tables import write_table
from regionair.sources.cnemc_archive import read_archive
from regionair.sources.plausibility import PlausibilityWarning, refusal_summary, take_refusals, with_refusals

#: Modules that add sub-commands (each defines ``add_commands(subparsers)``).
COMMAND_MODULES = ("regionair.pipeline.ingest", "regionair.cli.warning_commands", "regionair.render.report", "regionair.accounts.auth",
                   "regionair.cli.evaluate", "regionair.cli.doctor")


def _fmt_int(s: pd.Series) -> pd.Series:
    return s.round().astype("Int64")


def hourly_table(files, *, edition: str = "auto", method: str = "cnemc") -> pd.DataFrame:
    """The ``aqi`` command's table: one row per station-hour (columns in the module docs of :func:`main`)."""

    frame = read_archive(files)
    refused = take_refusals(frame)  # listed by the command (values refused are missing here)
    result = hourly_aqi(frame, edition=edition, method=method)
    mm = moving_means(frame)
    out = pd.DataFrame({"station": result["station"], "time": result["time"].map(lambda t: t.isoformat())})
    for p in POLLUTANTS:
        out[p] = result[p]
    for p in ("pm25", "pm10", "so2", "no2", "co"):
        out[f"{p}_24h"] = mm[f"{p}_24h"].round(3 if p == "co" else 2)
    out["o3_8h"] = mm["o3_8h"].round(2)
    for p in POLLUTANTS:
        out[f"iaqi_{p}"] = _fmt_int(result[f"iaqi_{p}"])
    if "iaqi_o3_8h" in result:
        out["iaqi_o3_8h"] = _fmt_int(result["iaqi_o3_8h"])
    out["aqi"] = _fmt_int(result["aqi"])
    out["primary_pollutants"] = result["primary_pollutants"]
    out["category"] = result["category"]
    out["missing"] = result["missing"]
    out["edition"] = result["edition"]
    return with_refusals(out, refused)


def daily_table(files, *, edition: str = "auto") -> pd.DataFrame:
    """The ``daily`` command's table: one row per station and natural day."""

    frame = read_archive(files)
    refused = take_refusals(frame)
    d = daily_aqi(frame, edition=edition)
    cols = ["station", "date", "pm25", "pm10", "so2", "no2", "co", "o3_8h", "o3",
            "n_pm25", "n_pm10", "n_so2", "n_no2", "n_co", "n_o3", "n_o3_8h"]
    out = d[cols].copy()
    for c in ("pm25", "pm10", "so2", "no2", "o3_8h", "o3"):
        out[c] = out[c].round(2)
    out["co"] = out["co"].round(3)
    for c in [c for c in d.columns if c.startswith("iaqi_")]:
        out[c] = _fmt_int(d[c])
    out["aqi"] = _fmt_int(d["aqi"])
    out["primary_pollutants"] = d["primary_pollutants"]
    out["category"] = d["category"]
    out["missing"] = d["missing"]
    out["valid"] = d["complete"]
    out["edition"] = d["edition"]
    return with_refusals(out, refused)


def _refused_exit(refused) -> int:
    """List refused values/rows on stderr (file, line, column, reason); 2 when there are any, else 0."""
    if not refused:
        return 0
    print(refusal_summary(refused), file=sys.stderr)
    return 2


def cmd_aqi(args) -> int:
    table = hourly_table(args.files, edition=args.edition, method=args.hourly_method)
    refused = take_refusals(table)
    write_table(table, args.out, "csv")
    print(f"{len(table)} station-hours → {args.out}", file=sys.stderr)
    return _refused_exit(refused)


def cmd_daily(args) -> int:
    if args.by == "jurisdiction":
        from regionair.cli.evaluate import (
            jurisdiction_daily_table,  # imported on use: the two modules import each other's layer at start-up
        )

        table = jurisdiction_daily_table(read_archive(args.files), edition=args.edition)
        write_table(table, args.out, "csv")
        print(f"{len(table)} jurisdiction-days → {args.out}", file=sys.stderr)
        return 0
    table = daily_table(args.files, edition=args.edition)
    refused = take_refusals(table)
    write_table(table, args.out, "csv")
    print(f"{len(table)} station-days → {args.out}", file=sys.stderr)
    return _refused_exit(refused)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m regionair", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("aqi", help="hourly AQI of CNEMC archive files → CSV")
    a.add_argument("files", nargs="+", help="CNEMC archive CSV files or folders")
    a.add_argument("--edition", default="auto", choices=["auto", "2012", "2026"])
    a.add_argument("--hourly-method", default="cnemc", choices=["cnemc", "hj633-2012-literal"])
    a.add_argument("--out", required=True, help="output CSV")
    a.set_defaults(func=cmd_aqi)

    d = sub.add_parser("daily", help="daily AQI of CNEMC archive files → CSV")
    d.add_argument("files", nargs="+")
    d.add_argument("--edition", default="auto", choices=["auto", "2012", "2026"])
    d.add_argument("--by", default="station", choices=["station", "jurisdiction"],
                   help="station (default) or jurisdiction: mean of the stations' valid daily values (HJ 663)")
    d.add_argument("--out", required=True)
    d.set_defaults(func=cmd_daily)

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            # every command that reads data lists its refusals itself (file, line, column, reason)
            warnings.simplefilter("ignore", PlausibilityWarning)
            return int(args.func(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RegionairError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    np.seterr(all="ignore")
    sys.exit(main())
