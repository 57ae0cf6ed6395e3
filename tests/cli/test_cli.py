"""The CLI end to end on the real sample: aqi/daily reproduce published values; ingest → re-ingest →
export → corrupted file → status (issue "Done when" lists)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from regionair.cli import main
from regionair.core.nomenclature import POLLUTANTS
from tests.conftest import CNEMC_2022_01_01, CNEMC_2022_01_02_03, CNEMC_2026_03_10, DATA

SAMPLE = DATA.parent.parent / "data" / "sample"


def test_aqi_command_reproduces_published(tmp_path):
    out = tmp_path / "aqi.csv"
    assert main(["aqi", str(CNEMC_2022_01_01), str(CNEMC_2026_03_10), "--out", str(out)]) == 0
    got = pd.read_csv(out, dtype={"primary_pollutants": str, "missing": str}, keep_default_na=False, na_values=[""])
    src = pd.concat([pd.read_csv(CNEMC_2022_01_01), pd.read_csv(CNEMC_2026_03_10)])
    assert list(got.columns[:8]) == ["station", "time", *POLLUTANTS]
    assert {"pm25_24h", "o3_8h", "iaqi_o3", "aqi", "primary_pollutants", "category", "missing", "edition"} <= set(got.columns)
    assert got["time"].iloc[0].endswith("+08:00")
    src["time"] = pd.to_datetime(src["timepoint"].str[:13], format="%Y-%m-%dT%H").dt.tz_localize("Asia/Shanghai").map(lambda t: t.isoformat())
    m = got.merge(src[["stationcode", "time", "aqi"]].rename(columns={"stationcode": "station", "aqi": "published"}),
                  on=["station", "time"])
    pub = pd.to_numeric(m["published"], errors="coerce")
    assert pub.notna().sum() > 900
    assert (m.loc[pub.notna(), "aqi"] == pub[pub.notna()]).all()
    assert set(got["edition"].astype(str)) == {"2012", "2026"}


def test_aqi_literal_option_and_daily(tmp_path):
    out = tmp_path / "lit.csv"
    assert main(["aqi", str(CNEMC_2022_01_01), "--hourly-method", "hj633-2012-literal", "--out", str(out)]) == 0
    assert "iaqi_o3_8h" in pd.read_csv(out, nrows=1).columns
    d = tmp_path / "daily.csv"
    assert main(["daily", str(CNEMC_2022_01_01), str(CNEMC_2022_01_02_03), "--out", str(d)]) == 0
    daily = pd.read_csv(d)
    row = daily[(daily.station == "1490A") & (daily.date == "2022-01-01")].iloc[0]
    assert row["aqi"] == 179 and row["valid"] and row["primary_pollutants"] == "pm25"


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    lines = CNEMC_2022_01_01.read_text(encoding="utf-8").splitlines()[:4]
    lines[1] = lines[1].replace(",258,", ",x58,")
    bad.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["aqi", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv, line 2, column 'pm10'" in err and "'x58' is not a number" in err
    assert not out.exists() and not list(tmp_path.glob(".out.csv*"))


def test_ingest_reingest_export_corrupt_status(tmp_path, capsys):
    store = tmp_path / "store"
    assert main(["ingest", "--source", "cnemc-archive", "--path", str(SAMPLE), "--store", str(store)]) == 0
    assert "added 1876" in capsys.readouterr().out
    assert main(["ingest", "--source", "cnemc-archive", "--path", str(SAMPLE), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "added 0, updated 0" in out and "skipped 3" in out  # same file contents: not even parsed
    assert main(["ingest", "--source", "cnemc-archive", "--path", str(SAMPLE), "--store", str(store), "--refresh"]) == 0
    assert "added 0, updated 0, unchanged 1876" in capsys.readouterr().out  # read again: nothing changes

    # an upstream revision: same hour, one value changed → read (new content), replaced, old value kept
    revised = tmp_path / "revised.csv"
    text = CNEMC_2022_01_01.read_text(encoding="utf-8").splitlines()
    text[1] = text[1].replace(",258,", ",259,")  # 1490A 2022-01-01T00 PM10
    revised.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert main(["ingest", "--source", "cnemc-archive", "--path", str(revised), "--store", str(store)]) == 0
    assert "added 0, updated 1," in capsys.readouterr().out
    from regionair.store import Store as _Store

    rev = _Store(store).revisions()
    assert len(rev) == 1 and rev["pm10"].iloc[0] == 258

    out = tmp_path / "export.csv"
    assert main(["export", "--start", "2022-01-01T00:00", "--end", "2026-03-11T00:00", "--store", str(store),
                 "--out", str(out)]) == 0
    exported = pd.read_csv(out)
    from regionair.sources.cnemc_archive import read_archive

    original = read_archive(SAMPLE)
    original.loc[(original.station == "1490A") & (original.time == original.time.min()), "pm10"] = 259.0
    assert len(exported) == len(original) == 1876
    e = exported.sort_values(["station", "time"]).reset_index(drop=True)
    o = original.sort_values(["station", "time"]).reset_index(drop=True)
    for p in POLLUTANTS:
        np.testing.assert_array_equal(e[p].to_numpy(), o[p].to_numpy())  # NaN stays NaN, never 0

    corrupt = tmp_path / "corrupt.csv"
    corrupt.write_bytes(CNEMC_2026_03_10.read_bytes()[:3000])  # truncated mid-row
    assert main(["ingest", "--source", "cnemc-archive", "--path", str(corrupt), "--store", str(store)]) == 2
    text = capsys.readouterr().out
    assert "corrupt.csv, line" in text and "truncated" in text
    from regionair.store import Store

    s = Store(store)
    assert len(s.hourly()) == 1876
    assert (store / "manifest.json").read_bytes() != b""  # still a valid store
    assert main(["status", "--store", str(store)]) == 0
    status = capsys.readouterr().out
    assert "cnemc-archive" in status and "1490A" in status and "coverage_pct" in status


def test_module_entry_point_runs(tmp_path):
    r = subprocess.run([sys.executable, "-m", "regionair", "--help"], capture_output=True, text=True, cwd=DATA.parent.parent)
    assert r.returncode == 0 and "ingest" in r.stdout and "aqi" in r.stdout


@pytest.mark.parametrize("text", ["2026-03-10", "2026-03-10T10:00", "2026-03-10T10:00+08:00", "2026-03-10T02:00Z"])
def test_cli_times_default_to_beijing(text):
    from regionair.cli import parse_time

    t = parse_time(text)
    assert str(t.tz) == "Asia/Shanghai"
    assert t.hour in (0, 10)
