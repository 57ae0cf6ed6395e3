"""Chart images (server-side, kaleido + system Chromium + Noto CJK) and per-page export bundles.

These tests are the proof that image rendering works after `make system`: they render real PNG/SVG
files and check that Chinese glyphs are drawn (not tofu boxes)."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import zipfile

import pandas as pd
import plotly.graph_objects as go
import pytest

from regionair.render import bundle, charts


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _fig(title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=["乌鲁木齐市", "石河子市（第八师）"], y=[117, 185]))
    fig.update_layout(template=charts.template(), title=title, yaxis_title="PM2.5 (µg/m³)")
    return charts.footer(fig, "数据来源：中国环境监测总站 · 2022-01-01–2022-01-03 · AQI标准: HJ 633-2012")


def test_cjk_font_installed():
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True).stdout
    assert "Noto Sans CJK SC" in out, "install fonts-noto-cjk (make system)"


def test_png_is_at_least_twice_the_layout_size():
    w, h = _png_size(bundle.render_image(_fig("区域空气质量"), "png", width=800, height=450))
    assert (w, h) == (1600, 900)


def test_chinese_title_is_drawn_not_tofu():
    """Two titles with different Chinese characters must give different pixels in the title band; with a
    missing font every character is the same .notdef box and the bands are identical."""
    from PIL import Image, ImageChops

    a = Image.open(io.BytesIO(bundle.render_image(_fig("区域空气质量"), "png", width=800, height=450)))
    b = Image.open(io.BytesIO(bundle.render_image(_fig("昌吉石河子市"), "png", width=800, height=450)))
    band = (0, 0, 1600, 90)  # the title row at 2× scale
    diff = ImageChops.difference(a.convert("L").crop(band), b.convert("L").crop(band))
    assert diff.getbbox() is not None
    ink = sum(a.convert("L").crop(band).histogram()[:128])
    assert ink > 200  # the title is drawn


def test_svg_keeps_text_units_and_footer():
    svg = bundle.render_image(_fig("区域空气质量"), "svg").decode("utf-8")
    assert svg.startswith("<svg")
    assert "区域空气质量" in svg and "µg/m³" in svg and "HJ 633-2012" in svg and "中国环境监测总站" in svg
    assert "Noto Sans CJK SC" in svg


def test_unknown_format():
    with pytest.raises(ValueError, match="png, svg"):
        bundle.render_image(_fig("x"), "gif")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from pathlib import Path

    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    s = Store(tmp_path_factory.mktemp("bundle_store"))
    s.ingest_hourly(read_archive(Path(__file__).parents[1] / "data" / "region_2022-01-01.csv"), source="cnemc-archive")
    return s


def test_bundle_files_and_metadata(store):
    table = pd.DataFrame({"unit": ["乌鲁木齐市", "=cmd"], "pm25": [117.0, float("nan")]})
    items = [bundle.ChartItem("trend_pm25", _fig("各单元PM2.5"), table, title="各单元PM2.5"),
             bundle.ChartItem("trend_pm25", _fig("第二张"), table),  # same name: not overwritten
             bundle.ChartItem("ranking_table", None, table)]
    meta = bundle.bundle_metadata(page="trends", filters={"units": ["urumqi"], "pollutant": "pm25"},
                                  start=pd.Timestamp("2022-01-01 01:00", tz="Asia/Shanghai"),
                                  end=pd.Timestamp("2022-01-02 00:00", tz="Asia/Shanghai"), edition="auto", store=store)
    zf = zipfile.ZipFile(io.BytesIO(bundle.build_bundle(items, meta)))
    names = set(zf.namelist())
    assert names == {"metadata.json", "charts/trend_pm25.png", "charts/trend_pm25.svg", "charts/trend_pm25_2.png",
                     "charts/trend_pm25_2.svg", "data/trend_pm25.csv", "data/trend_pm25.xlsx", "data/trend_pm25_2.csv",
                     "data/trend_pm25_2.xlsx", "data/ranking_table.csv", "data/ranking_table.xlsx"}
    assert _png_size(zf.read("charts/trend_pm25.png"))[0] >= 2000
    csv = zf.read("data/trend_pm25.csv")
    assert csv.startswith(b"\xef\xbb\xbf") and "乌鲁木齐市" in csv.decode("utf-8-sig")
    assert "'=cmd" in csv.decode("utf-8-sig")  # formula neutralised
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(zf.read("data/trend_pm25.xlsx"))).active
    assert ws.freeze_panes == "A3" and ws["A1"].font.bold and ws["B2"].value == "µg/m³"
    m = json.loads(zf.read("metadata.json"))
    assert m["page"] == "trends" and m["edition"] == "auto" and m["editions_in_force"] == ["2012"]
    assert m["filters"] == {"units": ["urumqi"], "pollutant": "pm25"}
    assert m["time_range"]["start"] == "2022-01-01T01:00:00+08:00"
    assert m["data"]["store_version"] == store.version and m["data"]["data_version"] == store.data_version
    assert m["data"]["latest_hour_by_source"]["cnemc-archive"] == "2022-01-02T00:00:00+08:00"
    assert m["data"]["last_ingest_at"] and m["sources"]
    assert [c["name"] for c in m["charts"]] == ["trend_pm25", "trend_pm25", "ranking_table"]
    assert m["charts"][2].get("png") is None and m["charts"][0]["png"] == "charts/trend_pm25.png"


def test_data_only_bundle_skips_images():
    zf = zipfile.ZipFile(io.BytesIO(bundle.build_bundle([bundle.ChartItem("a", _fig("甲"), pd.DataFrame({"x": [1]}))],
                                                        {"page": "p"}, images=False)))
    assert sorted(zf.namelist()) == ["data/a.csv", "data/a.xlsx", "metadata.json"]


def test_page_charts_are_registered_for_the_bundle(tmp_path, monkeypatch):
    """Every ui.chart() of a page run is collected for the page's export bundle (AppTest, trends page)."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    root = Path(__file__).resolve().parents[2]
    Store(tmp_path).ingest_hourly(read_archive(root / "data" / "sample" / "region_2026-03-10.csv"),
                                  source="cnemc-archive")
    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path))
    at = AppTest.from_file(str(root / "pages" / "trends.py"), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    items = at.session_state["_regionair_bundle_items"]
    assert len(items) >= 4 and all(isinstance(i, bundle.ChartItem) and len(i.table) for i in items)
    at.run()  # a rerun starts a fresh list (no duplicates from the previous run)
    assert len(at.session_state["_regionair_bundle_items"]) == len(items)


def test_bundle_button_is_offered_once_per_run(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path))

    def script():
        import pandas as pd
        import plotly.graph_objects as go

        from regionair.ui import export
        from regionair.ui.filters import Filters

        export.reset()
        export.register(go.Figure(go.Bar(x=["甲"], y=[1])), pd.DataFrame({"x": [1]}), "one")
        f = Filters(start=pd.Timestamp("2022-01-01 01:00", tz="Asia/Shanghai"),
                    end=pd.Timestamp("2022-01-02 00:00", tz="Asia/Shanghai"))
        export.bundle_button(f, "demo")
        export.bundle_button(f, "demo", key="second")  # app.py's call after a page that offered its own

    at = AppTest.from_function(script, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["_regionair_bundle_items_shown"] is True
    assert len(at.get("download_button")) == 1
