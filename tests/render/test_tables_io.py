"""One neutralising CSV/XLSX writer (regionair/render/tables.py, issue 16 §4) for every table RegionAir writes:
the CLI (aqi, daily, export), the dashboard's downloads and the export bundle."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from regionair.cli import main
from regionair.core.nomenclature import TZ
from regionair.errors import InputError
from regionair.render import tables as tables_io
from regionair.render.tables import neutralise, to_csv_bytes, to_xlsx_bytes, write_table
from regionair.sources.cnemc_archive import HEADER, read_archive
from regionair.store import Store
from tests.conftest import CNEMC_2026_03_10

HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1)", "-1+1", "@A1", "\t=1", "\r=1"]


def test_text_cells_neutralised_numbers_untouched():
    df = pd.DataFrame({
        "text": HOSTILE,
        "number": [-3.5, -1.0, 0.0, 2.0, np.nan, -0.5],
        "mixed": pd.Series([-3.5, "-1+cmd", 7, None, "a=1", "=x"], dtype=object),
        "string": pd.Series(["=1", "ok", None, "-x", "@", "b"], dtype="string"),
        "cat": pd.Categorical(["=1", "ok", "=1", "ok", "-a", "ok"]),
    })
    out = neutralise(df)
    assert out["text"].tolist() == ["'" + v for v in HOSTILE]
    assert out["number"].tolist()[:4] == [-3.5, -1.0, 0.0, 2.0] and out["number"].dtype == np.float64
    # numbers inside an object column stay numbers (was "'-3.5"); only text is neutralised
    assert out["mixed"].tolist()[:3] == [-3.5, "'-1+cmd", 7] and out["mixed"].tolist()[4:] == ["a=1", "'=x"]
    assert out["string"].tolist()[:2] == ["'=1", "ok"] and out["string"].tolist()[3] == "'-x"
    assert out["cat"].tolist() == ["'=1", "ok", "'=1", "ok", "'-a", "ok"]
    assert df["text"].tolist() == HOSTILE  # input not modified


def test_headers_neutralised_in_csv_and_xlsx():
    df = pd.DataFrame({"=cmd": [1], "station": ["=1"]})
    text = to_csv_bytes(df).decode("utf-8-sig")
    assert text.splitlines()[0] == "'=cmd,station" and "'=1" in text
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(df))).active
    assert ws["A1"].value == "'=cmd" and ws["A1"].data_type == "s"
    assert ws["B3"].value == "'=1" and ws["B3"].data_type == "s"


def test_csv_shape_crlf_quoting_missing_and_times():
    df = pd.DataFrame({"station": ["1490A", "x\ry"], "pm25": [166.0, np.nan], "n": pd.array([3, None], dtype="Int64"),
                       "time": pd.to_datetime(["2026-03-10 10:00", "2026-03-10 11:00"]).tz_localize(TZ)})
    raw = to_csv_bytes(df)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig") == ("station,pm25,n,time\r\n1490A,166.0,3,2026-03-10T10:00:00+08:00\r\n"
                                        '"x\ry",,,2026-03-10T11:00:00+08:00\r\n')
    assert not to_csv_bytes(df, bom=False).startswith(b"\xef\xbb\xbf")


def test_xlsx_drops_characters_xml_cannot_hold():
    # a station name with a control character made the whole XLSX download fail (IllegalCharacterError)
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(pd.DataFrame({"name": ["a\x07b", "=\x01c"]})))).active
    assert [ws["A3"].value, ws["A4"].value] == ["ab", "'=c"]


def test_write_table_formats_bom_and_atomicity(tmp_path):
    df = pd.DataFrame({"station": ["=1"], "pm25": [-3.5]})
    assert write_table(df, tmp_path / "a.csv").read_bytes() == b"station,pm25\r\n'=1,-3.5\r\n"
    assert write_table(df, tmp_path / "a.xls.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert openpyxl.load_workbook(write_table(df, tmp_path / "a.xlsx")).active["A3"].value == "'=1"
    assert pd.read_parquet(write_table(df, tmp_path / "a.parquet"))["station"].item() == "=1"  # typed data: exact
    with pytest.raises(InputError, match="unknown format 'xls'"):
        write_table(df, tmp_path / "a.xls")
    # a failing write leaves the old file and no temporary file
    out = tmp_path / "keep.parquet"
    out.write_bytes(b"old")
    bad = pd.DataFrame({"x": pd.Series([1, "a", 2.5], dtype=object)})
    with pytest.raises(Exception):  # noqa: B017 — pyarrow's own error type
        write_table(bad, out)
    assert out.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _hostile_store(tmp_path):
    frame = read_archive(CNEMC_2026_03_10).head(2).copy()
    frame["station"] = ["-1+1", "@SUM(A1)"]
    Store(tmp_path / "store").ingest_hourly(frame, source="cnemc-archive")
    return tmp_path / "store"


def test_cli_export_csv_and_xlsx_are_neutralised(tmp_path, capsys):
    store = _hostile_store(tmp_path)
    out = tmp_path / "e.csv"
    assert main(["export", "--store", str(store), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("station,time,")
    assert {ln.split(",")[0] for ln in lines[1:]} == {"'-1+1", "'@SUM(A1)"}  # were live: -1+1 and @SUM(A1)
    assert ",2026-03-10T00:00:00+08:00," in lines[1]
    got = pd.read_csv(out)
    assert sorted(got["pm25"]) == [166, 167]  # numbers stay numbers
    x = tmp_path / "e.xlsx"
    assert main(["export", "--store", str(store), "--out", str(x), "--format", "xlsx"]) == 0
    ws = openpyxl.load_workbook(x).active
    assert {ws["A3"].value, ws["A4"].value} == {"'-1+1", "'@SUM(A1)"}


def test_cli_aqi_and_daily_csv_are_neutralised(tmp_path, capsys):
    src = tmp_path / "a.csv"
    rows = CNEMC_2026_03_10.read_text(encoding="utf-8").splitlines()[:3]
    rows[1] = rows[1].replace(",1490A,", ",-1+1,")  # a station code Excel would compute (= 0)
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for cmd in ("aqi", "daily"):
        out = tmp_path / f"{cmd}.csv"
        assert main([cmd, str(src), "--out", str(out)]) == 0
        cells = [ln.split(",")[0] for ln in out.read_text(encoding="utf-8").splitlines()[1:]]
        assert "'-1+1" in cells and "-1+1" not in cells
    assert list(pd.read_csv(tmp_path / "aqi.csv").columns[:2]) == ["station", "time"]  # documented columns
    assert HEADER[1] == "stationcode"


def test_dashboard_downloads_and_bundle_use_the_one_writer():
    import regionair.render.bundle as bundle
    import regionair.render.exports as exports
    import regionair.ui as ui

    assert ui.to_csv_bytes is tables_io.to_csv_bytes and ui.to_xlsx_bytes is tables_io.to_xlsx_bytes
    assert bundle.to_csv_bytes is tables_io.to_csv_bytes and exports.neutralise is tables_io.neutralise
    data = bundle.build_bundle([bundle.ChartItem(name="t", figure=None, table=pd.DataFrame({"=h": ["-a"]}))],
                               {"page": "x"}, images=False)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read("data/t.csv").decode("utf-8-sig") == "'=h\r\n'-a\r\n"
