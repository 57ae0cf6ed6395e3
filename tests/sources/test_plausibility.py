"""Plausibility at the loader edge (issue 16 §3): every refusal class, through the CLI (``cli.main`` and a
real ``python -m regionair`` subprocess) and through the upload preview the dashboard shows — one set of
rules (regionair/sources/plausibility.py) and one refusal table for both."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from regionair.cli import main
from regionair.core.nomenclature import TZ
from regionair.errors import InputError
from regionair.sources import plausibility as P
from regionair.sources.cnemc_archive import HEADER, parse_archive, read_archive
from regionair.sources.quotsoft import parse_sites_day
from regionair.sources.upload import preview_upload
from regionair.store import Store
from tests.conftest import CNEMC_2026_03_10, DATA

ROOT = DATA.parent.parent
HEAD = ",".join(HEADER)
#: 2026-03-10T0000 rows of 1490A and 1491A (tests/data/region_2026-03-10.csv, lines 2–3)
ROW_1490A = CNEMC_2026_03_10.read_text(encoding="utf-8").splitlines()[1]
ROW_1491A = CNEMC_2026_03_10.read_text(encoding="utf-8").splitlines()[2]
NOW = pd.Timestamp("2026-03-10 12:00", tz=TZ)


def _row(base: str, **fields) -> str:
    cells = base.split(",")
    for k, v in fields.items():
        cells[HEADER.index(k)] = str(v)
    return ",".join(cells)


def _archive(tmp_path: Path, name: str, *rows: str) -> Path:
    p = tmp_path / name
    p.write_text(HEAD + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return p


def _upload(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def reasons(refusals) -> dict:
    return {(r.line, r.column): r.reason for r in refusals}


# --------------------------------------------------------------------------- the rules as data


def test_ranges_are_the_cited_table_tops():
    # HJ 633-2012 Table 1 / HJ 633-2026 Table 3: top breakpoints (IAQI 500): SO2 24-h 2620, NO2 1-h 3840,
    # O3 1-h 1200 µg/m³, CO 1-h 150 mg/m³; PM 10 000 µg/m³ (published dust-storm PM10 3 780, standards.md)
    got = {k: (r.low, r.high, r.unit) for k, r in P.RANGES.items()}
    assert got == {"pm25": (0, 10_000, "µg/m³"), "pm10": (0, 10_000, "µg/m³"), "so2": (0, 2620, "µg/m³"),
                   "no2": (0, 3840, "µg/m³"), "co": (0, 150, "mg/m³"), "o3": (0, 1200, "µg/m³"),
                   "aqi": (0, 500, "")}
    assert all(r.basis for r in P.RANGES.values())


def test_clock_skew_default_env_and_bad_values(monkeypatch):
    assert P.clock_skew() == pd.Timedelta(hours=2)
    monkeypatch.setenv("REGIONAIR_CLOCK_SKEW_HOURS", "0.5")
    assert P.clock_skew() == pd.Timedelta(minutes=30)
    assert P.clock_skew(3) == pd.Timedelta(hours=3)
    monkeypatch.setenv("REGIONAIR_CLOCK_SKEW_HOURS", "soon")
    with pytest.raises(InputError, match="REGIONAIR_CLOCK_SKEW_HOURS"):
        P.clock_skew()
    with pytest.raises(InputError, match="negative"):
        P.clock_skew(-1)


def test_edges_of_the_ranges_and_the_skew():
    t = pd.to_datetime(["2026-03-10 14:00", "2026-03-10 15:00", "2026-03-10 13:00", "2026-03-10 12:00"]).tz_localize(TZ)
    f = pd.DataFrame({"station": ["a", "b", "c", "d"], "time": t,
                      "pm10": [10_000.0, 10_000.5, np.nan, 0.0], "co": [150.0, 150.1, -0.0, -0.1]})
    out, refused = P.check_frame(f, "x.csv", lines=[2, 3, 4, 5], now=NOW)
    # 14:00 is exactly now + 2 h: kept; 15:00 refused. 10 000 and 150 are inside; -0.0 is not negative.
    assert reasons(refused) == {(3, "pm10"): "above_range", (3, "co"): "above_range", (3, "time"): "future",
                                (5, "co"): "negative"}
    assert list(out["station"]) == ["a", "c", "d"] and out["pm10"].tolist()[0] == 10_000
    assert np.isnan(out.loc[out.station == "d", "co"]).all() and out.loc[out.station == "d", "pm10"].item() == 0
    assert f["co"].tolist()[3] == -0.1  # the input is not modified


# --------------------------------------------------------------------------- CNEMC archive, through the CLI


def test_archive_ingest_refuses_future_absurd_and_co_in_ugm3_stores_the_rest(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    _archive(folder, "2026-03-10T00.csv",
             ROW_1490A,                                                   # line 2: fine
             _row(ROW_1491A, pm2_5="1e308", co="1700"))                   # line 3: absurd PM2.5, CO in µg/m³
    _archive(folder, "2099-01-01T00.csv", _row(ROW_1490A, timepoint="2099-01-01T0000"))  # a future hour
    store = tmp_path / "store"
    code = main(["ingest", "--source", "cnemc-archive", "--path", str(folder), "--store", str(store)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "refused 3" in out
    assert "2026-03-10T00.csv, line 3, column 'pm2_5': pm25 = 1e+308 µg/m³ is above the physical range" in err
    assert "line 3, column 'co'" in err and "1700 looks like µg/m³ (= 1.7 mg/m³)" in err
    assert "2099-01-01T00.csv, line 2, column 'timepoint': time 2099-01-01 00:00 is" in err and "row refused" in err
    h = Store(store).hourly()
    assert len(h) == 2 and h["time"].max() == pd.Timestamp("2026-03-10 00:00", tz=TZ)  # nothing from 2099
    r = h.set_index("station")
    assert r.loc["1490A", "pm25"] == 166 and r.loc["1490A", "co"] == 1.7
    assert np.isnan(r.loc["1491A", "pm25"]) and np.isnan(r.loc["1491A", "co"]) and r.loc["1491A", "pm10"] == 208
    assert np.isfinite(h[["pm25", "pm10", "so2", "no2", "co", "o3"]].fillna(0).to_numpy()).all()
    log = Store(store).ingest_log()
    assert log["rejected"].iloc[-1] >= 3


def test_archive_regional_read_names_the_real_line(tmp_path):
    data = (HEAD + "\n" + ROW_1490A + "\n" + _row(ROW_1491A, no2="99999") + "\n").encode()
    with pytest.warns(P.PlausibilityWarning, match="above_range"):
        f = parse_archive(data, "x.csv", stations={"1491A"})
    assert reasons(P.refusals_of(f)) == {(3, "no2"): "above_range"}
    assert np.isnan(f["no2"].item()) and f["pm10"].item() == 208


def test_archive_formula_station_code_refused():
    data = (HEAD + "\n" + ROW_1490A + "\n" + _row(ROW_1491A, stationcode="=HYPERLINK(\"x\")") + "\n").encode()
    with pytest.warns(P.PlausibilityWarning):
        f = parse_archive(data, "x.csv")
    assert list(f["station"]) == ["1490A"]
    assert reasons(P.refusals_of(f)) == {(3, "station"): "formula"}


def test_aqi_command_lists_refusals_and_exits_2(tmp_path, capsys):
    src = _archive(tmp_path, "a.csv", ROW_1490A, _row(ROW_1491A, timepoint="2099-03-10T0000"))
    out = tmp_path / "aqi.csv"
    assert main(["aqi", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "a.csv, line 3, column 'timepoint'" in err and "row refused" in err
    assert pd.read_csv(out)["station"].tolist() == ["1490A"]


def test_status_never_shows_a_negative_age(tmp_path, capsys):
    # a store filled before the rule (written directly, not through a loader)
    s = Store(tmp_path / "store")
    frame = read_archive(CNEMC_2026_03_10).head(1).copy()
    frame["time"] = pd.Timestamp("2099-01-01 00:00", tz=TZ)
    s.ingest_hourly(frame, source="cnemc-archive")
    assert main(["status", "--store", str(tmp_path / "store")]) == 0
    out, err = capsys.readouterr()
    table = out.split("freshness per source:")[1].split("coverage")[0].strip().splitlines()
    assert table[0].split()[-1] == "age_h" and table[1].split()[-1] == "0.0"  # was about −640,000 h
    assert "cnemc-archive's latest hour 2099-01-01 00:00 is" in err and "after now" in err


# --------------------------------------------------------------------------- uploads: CLI and preview


def _ingest_upload(tmp_path, path, *extra):
    return main(["ingest", "--source", "upload", "--path", str(path), "--store", str(tmp_path / "store"), *extra])


def test_upload_cli_refuses_future_co_and_inf_stores_the_rest(tmp_path, capsys):
    csv = ("station,time,pm25,co\n"
           "1490A,2026-03-10 01:00,166,1.7\n"      # 2 fine
           "1490A,2099-03-10 02:00,160,1.6\n"      # 3 future → row refused
           "1491A,2026-03-10 01:00,167,1600\n"     # 4 CO in µg/m³ → value refused, hint
           "1491A,2026-03-10 02:00,inf,1.5\n")     # 5 non-finite → value refused
    path = _upload(tmp_path, "u.csv", csv)
    assert _ingest_upload(tmp_path, path) == 2
    out, err = capsys.readouterr()
    assert "refused 3" in out
    assert "u.csv, line 3, column 'time'" in err and "future" in err
    assert "u.csv, line 4, column 'co'" in err and "--units co=µg/m³" in err
    assert "u.csv, line 5, column 'pm25'" in err and "infinite" in err
    h = Store(tmp_path / "store").hourly().set_index(["station", "time"])
    assert len(h) == 3 and h["time" if "time" in h else "pm25"].notna().any()
    assert h.loc[("1491A", pd.Timestamp("2026-03-10 01:00", tz=TZ)), "pm25"] == 167
    assert np.isnan(h.loc[("1491A", pd.Timestamp("2026-03-10 01:00", tz=TZ)), "co"])
    # the page and the CLI list the same refusals: one function
    pv = preview_upload(path.read_bytes(), "u.csv")
    assert [(r.line, r.column, r.reason) for r in pv.refusals] == [(3, "time", "future"), (4, "co", "above_range"),
                                                                   (5, "pm25", "non_finite")]
    table = pv.refusal_frame("zh")
    assert list(table.columns) == ["file", "line", "column", "station", "reason", "value", "message"]
    assert table["reason"].tolist() == ["时间晚于当前时刻", "超出物理范围", "非有限数值（如 inf）"]
    assert P.refusal_frame(pv.refusals).equals(pv.refusal_frame())


def test_upload_cli_co_unit_hint_is_a_working_option(tmp_path, capsys):
    path = _upload(tmp_path, "u.csv", "station,time,pm25,co\n1490A,2026-03-10 01:00,166,1700\n")
    assert _ingest_upload(tmp_path, path, "--units", "co=µg/m³") == 0
    assert Store(tmp_path / "store").hourly()["co"].item() == pytest.approx(1.7)


def test_upload_flags_are_reported_not_silent(tmp_path, capsys):
    path = _upload(tmp_path, "u.csv", "station,time,pm25,pm10\n1490A,2026-03-10 01:00,166,100\n")
    assert _ingest_upload(tmp_path, path) == 0  # kept: PM2.5 > PM10 happens with separate monitors
    err = capsys.readouterr().err
    assert err.startswith("flagged (kept): ") and "u.csv, line 2: PM2.5 166 > PM10 100: kept, flagged" in err


def test_truncated_last_line_is_refused_not_padded(tmp_path, capsys):
    csv = "station,time,pm25,pm10,co\n1490A,2026-03-10 01:00,166,196,1.7\n1490A,2026-03-10 02:00,160"
    pv = preview_upload(csv.encode(), "t.csv")
    assert reasons(pv.refusals) == {(3, "pm10"): "truncated"}
    assert len(pv.frame) == 1 and pv.counts["rows_rejected"] == 1 and pv.counts["rows_read"] == 2
    # a trailing empty field is a blank value, not a truncation; a quoted comma is one field
    ok = preview_upload(b'station,time,pm25,co\n1490A,2026-03-10 01:00,166,\n"1491A",2026-03-10 01:00,"1,6",1\n',
                        "q.csv")
    assert [r.reason for r in ok.refusals] == ["not_number"]
    path = _upload(tmp_path, "t.csv", csv)
    assert _ingest_upload(tmp_path, path) == 2
    assert "t.csv, line 3, column 'pm10': row has 3 field(s), the header 5: truncated" in capsys.readouterr().err
    assert len(Store(tmp_path / "store").hourly()) == 1


def test_truncated_quotsoft_row_refused():
    head = "date,hour,type,1490A,2709A,\n"
    rows = "20220101,1,PM2.5,10,20,\n20220101,1,PM10,30\n"
    with pytest.warns(P.PlausibilityWarning, match="truncated"):
        f = parse_sites_day((head + rows).encode(), "china_sites_20220101.csv", now=NOW)
    assert reasons(P.refusals_of(f)) == {(3, None): "truncated"}
    assert f["pm10"].isna().all() and f.set_index("station")["pm25"].to_dict() == {"1490A": 10, "2709A": 20}


def test_quotsoft_future_and_out_of_range():
    head = "date,hour,type,1490A,2709A,\n"
    rows = "20220101,1,PM2.5,10,20,\n20220101,1,SO2,3000,2,\n20990101,1,PM2.5,10,20,\n"
    with pytest.warns(UserWarning) as caught:
        f = parse_sites_day((head + rows).encode(), "china_sites_20220101.csv", now=NOW)
    assert any(issubclass(w.category, P.PlausibilityWarning) for w in caught)
    assert reasons(P.refusals_of(f)) == {(3, "1490A"): "above_range", (4, "date,hour"): "future"}
    assert f["time"].max() == pd.Timestamp("2022-01-01 01:00", tz=TZ)
    assert np.isnan(f.set_index("station").loc["1490A", "so2"])


def test_ambiguous_day_month_is_a_question_unless_a_format_is_given(tmp_path, capsys):
    csv = "station,time,pm25\n1490A,03/04/2026 13:00,166\n1490A,05/04/2026 13:00,150\n"
    with pytest.raises(InputError, match=r"ambiguous date '03/04/2026 13:00'.*2026-04-03 \(day first\) or "
                                         r"2026-03-04 \(month first\)\. Which is it\?"):
        preview_upload(csv.encode(), "d.csv")
    pv = preview_upload(csv.encode(), "d.csv", date_format="%d/%m/%Y %H:%M")
    assert list(pv.frame["time"]) == [pd.Timestamp("2026-04-03 13:00", tz=TZ), pd.Timestamp("2026-04-05 13:00", tz=TZ)]
    path = _upload(tmp_path, "d.csv", csv)
    assert _ingest_upload(tmp_path, path) == 2
    err = capsys.readouterr().err
    assert "d.csv, line 2, column 'time': ambiguous date" in err and "--date-format '%d/%m/%Y %H:%M'" in err
    assert not (tmp_path / "store" / "manifest.json").exists() or Store(tmp_path / "store").hourly().empty
    assert _ingest_upload(tmp_path, path, "--date-format", "%m/%d/%Y %H:%M") == 0
    assert Store(tmp_path / "store").hourly()["time"].min() == pd.Timestamp("2026-03-04 13:00", tz=TZ)


def test_day_first_file_is_read_day_first_throughout():
    # one day above 12 settles the order for the whole file (pandas' 'mixed' read 03/04 month-first and
    # 13/04 day-first in the same column)
    csv = "station,time,pm25\n1490A,03/04/2026 13:00,1\n1490A,13/04/2026 13:00,2\n"
    pv = preview_upload(csv.encode(), "d.csv")
    assert list(pv.frame["time"]) == [pd.Timestamp("2026-04-03 13:00", tz=TZ), pd.Timestamp("2026-04-13 13:00", tz=TZ)]
    with pytest.raises(InputError, match="day-first in some rows and month-first in others"):
        preview_upload(b"station,time,pm25\n1490A,13/04/2026 13:00,1\n1490A,04/13/2026 13:00,2\n", "m.csv")
    # the date + hour layout and the station workbook's date column follow the same rule
    with pytest.raises(InputError, match="ambiguous date"):
        preview_upload(b"station,date,hour,pm25\n1490A,03/04/2026,1,5\n", "dh.csv")


def _xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_formula_cells_in_xlsx_station_and_value_cells_refused(tmp_path, capsys):
    data = _xlsx([["station", "time", "pm25"], ['=HYPERLINK("http://x","1490A")', "2026-03-10 01:00", 5],
                  ["1491A", "2026-03-10 01:00", "=1+1"], ["1492A", "2026-03-10 01:00", 7]])
    pv = preview_upload(data, "f.xlsx")
    assert reasons(pv.refusals) == {(2, "time"): "formula", (3, "pm25"): "formula"}
    assert list(pv.frame["station"]) == ["1491A", "1492A"] and np.isnan(pv.frame["pm25"].iloc[0])
    path = tmp_path / "f.xlsx"
    path.write_bytes(data)
    assert _ingest_upload(tmp_path, path) == 2
    assert "f.xlsx, line 2, column 'time': a spreadsheet formula in the station or time cell" in capsys.readouterr().err
    assert not Store(tmp_path / "store").hourly()["station"].str.startswith("=").any()


def test_size_is_checked_before_reading(tmp_path, capsys, monkeypatch):
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:  # sparse: 2 GB on paper, nothing on disk
        fh.truncate(2 * 1024**3)
    read = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or real(self))
    assert _ingest_upload(tmp_path, big) == 2
    assert "big.csv: upload is 2,147.5 MB; the limit is 52.4 MB" in capsys.readouterr().err
    monkeypatch.setenv("REGIONAIR_ARCHIVE_MAX_BYTES", "100")
    arch = _archive(tmp_path, "2026-03-10T00.csv", ROW_1490A, ROW_1491A, ROW_1490A)
    assert main(["ingest", "--source", "cnemc-archive", "--path", str(arch), "--store", str(tmp_path / "s")]) == 2
    assert "the limit is 0.0 MB (set REGIONAIR_ARCHIVE_MAX_BYTES" in capsys.readouterr().err
    assert main(["aqi", str(arch), "--out", str(tmp_path / "a.csv")]) == 2
    assert not [p for p in read if p.suffix == ".csv"]  # neither file was read


def test_cli_subprocess_exit_code_and_stderr(tmp_path):
    path = _upload(tmp_path, "s.csv", "station,time,pm25\n1490A,2026-03-10 01:00,1\n1490A,2099-01-01 01:00,1\n")
    env = {**os.environ, "REGIONAIR_STORE": str(tmp_path / "store")}
    r = subprocess.run([sys.executable, "-m", "regionair", "ingest", "--source", "upload", "--path", str(path)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "s.csv, line 3, column 'time': time 2099-01-01 01:00" in r.stderr and "Traceback" not in r.stderr
    assert "added 1" in r.stdout


PAGE_TABLE = '''
from regionair import ui
from regionair.sources.upload import preview_upload
pv = preview_upload(b"station,time,pm25,co\\n1490A,2026-03-10 01:00,166,1.7\\n1490A,2099-03-10 02:00,160,1.6\\n"
                    b"1491A,2026-03-10 01:00,167,1600\\n", "u.csv")
ui.table(pv.refusal_frame("zh"), ["line", "column", "station", "reason", "value", "message"], "zh")
'''


def test_page_renders_the_refusal_table_in_words():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(PAGE_TABLE, default_timeout=60).run()
    assert not at.exception
    df = at.dataframe[0].value
    assert list(df.columns) == ["行号", "列", "站点编码", "拒收原因", "原值", "说明"]
    assert df["拒收原因"].tolist() == ["时间晚于当前时刻", "超出物理范围"]
    assert [str(v) for v in df["行号"]] == ["3", "4"] and df["列"].tolist() == ["time", "co"]
