"""Command line: ``python -m regionair <command> …`` for scripts and schedulers.

Commands
--------
``aqi``      hourly AQI of CNEMC archive files → CSV
``daily``    daily AQI of CNEMC archive files → CSV
``ingest``   load a source into the store (backfill, resumable)
``export``   canonical hourly data out of the store (csv, xlsx, parquet)
``status``   coverage and freshness per source and station
``watch``    pull the latest hours every N minutes (for systemd/cron)
``doctor``   check Chromium, CJK fonts, the store, the sources and sign-in (exit 1 if any fails)

Times on the command line are ISO 8601; without an offset they mean Beijing time.
Exit status: 0 ok, 2 bad input or arguments (message names file/line/column), 3 source/store failure.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from regionair.core.nomenclature import POLLUTANTS, TZ
from regionair.errors import InputError, RegionairError

#: Modules that add sub-commands (each defines ``add_commands(subparsers)``).
COMMAND_MODULES = ("regionair.pipeline.ingest", "regionair.cli.warning_commands", "regionair.render.report", "regionair.accounts.auth",
                   "regionair.cli.doctor")


def _atomic_write(out: Path, write) -> None:
    """Write via a temp file in the target folder + rename: nothing partial is ever left at ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_time(text: str | None) -> pd.Timestamp | None:
    """ISO 8601 → tz-aware Timestamp; without an offset the time is Beijing time."""
    if text is None:
        return None
    try:
        t = pd.Timestamp(text)
    except ValueError:
        raise InputError(f"{text!r} is not an ISO 8601 time (e.g. 2026-03-10T10:00 or 2026-03-10)") from None
    return t.tz_localize(TZ) if t.tzinfo is None else t.tz_convert(TZ)


def _fmt_int(s: pd.Series) -> pd.Series:
    return s.round().astype("Int64")


def hourly_table(files, *, edition: str = "auto", method: str = "cnemc") -> pd.DataFrame:
    """The ``aqi`` command's table: one row per station-hour (columns in the module docs of :func:`main`)."""
    from regionair.core.aqi import hourly_aqi
    from regionair.core.averaging import moving_means
    from regionair.sources.cnemc_archive import read_archive

    frame = read_archive(files)
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
    return out


def daily_table(files, *, edition: str = "auto") -> pd.DataFrame:
    """The ``daily`` command's table: one row per station and natural day."""
    from regionair.core.aqi import daily_aqi
    from regionair.sources.cnemc_archive import read_archive

    d = daily_aqi(read_archive(files), edition=edition)
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
    return out


def _write_table(df: pd.DataFrame, out: str, fmt: str | None = None) -> None:
    fmt = fmt or Path(out).suffix.lstrip(".").lower() or "csv"
    if fmt == "csv":
        _atomic_write(Path(out), lambda p: df.to_csv(p, index=False, encoding="utf-8-sig" if out.endswith(".xls.csv") else "utf-8"))
    elif fmt == "parquet":
        _atomic_write(Path(out), lambda p: df.to_parquet(p, index=False))
    elif fmt == "xlsx":
        from regionair.render.exports import to_xlsx_bytes

        _atomic_write(Path(out), lambda p: Path(p).write_bytes(to_xlsx_bytes(df)))
    else:
        raise InputError(f"unknown format {fmt!r}; choose csv, xlsx or parquet")


def cmd_aqi(args) -> int:
    table = hourly_table(args.files, edition=args.edition, method=args.hourly_method)
    _write_table(table, args.out, "csv")
    print(f"{len(table)} station-hours → {args.out}", file=sys.stderr)
    return 0


def cmd_daily(args) -> int:
    table = daily_table(args.files, edition=args.edition)
    _write_table(table, args.out, "csv")
    print(f"{len(table)} station-days → {args.out}", file=sys.stderr)
    return 0


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
