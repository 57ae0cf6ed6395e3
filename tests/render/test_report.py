"""Briefing documents from the bundled sample (2022-01-01 … 01-03, a multi-day heavy-pollution episode):
DOCX opened with python-docx (sections, one table row per jurisdiction with the numbers of
regionair.analysis.ranking, embedded images, styles instead of hard formatting), the PDF rasterised with
pdftoppm (page count, Chinese title as text, embedded fonts), self-contained HTML, and the CLI."""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from regionair.errors import InputError
from regionair.render import report

ROOT = Path(__file__).resolve().parents[2]
TITLE = "乌—昌—石区域环境空气质量会商简报"
UNITS = ["乌—昌—石区域", "乌鲁木齐市", "昌吉市", "五家渠市（第六师）", "石河子市（第八师）"]
POPPLER = all(shutil.which(x) for x in ("pdftoppm", "pdftotext", "pdffonts"))


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    path = tmp_path_factory.mktemp("report_store")
    Store(path).ingest_hourly(read_archive(ROOT / "data" / "sample"), source="cnemc-archive")
    return path


@pytest.fixture(scope="module")
def briefing(store_path):
    from regionair.store import Store

    return report.briefing_from_store(Store(store_path), "2022-01-01", "2022-01-03", issue_date="2022-01-04")


@pytest.fixture(scope="module")
def expected(store_path):
    """The period statistics computed independently with the analysis functions."""
    from regionair.analysis.latest import unit_hourly
    from regionair.analysis.ranking import ranking
    from regionair.core.aqi import daily_aqi
    from regionair.store import Store

    h = Store(store_path).hourly("2022-01-01 01:00", "2022-01-04 00:00")
    u = unit_hourly(h, level="jurisdiction")
    d = daily_aqi(u[["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]])
    return ranking(d, "2022-01-01", "2022-01-03").set_index("station")


@pytest.fixture(scope="module")
def docx_doc(briefing):
    from docx import Document

    return Document(io.BytesIO(report.to_docx(briefing)))


def test_briefing_model_rows_are_the_member_jurisdictions_with_stations(briefing):
    assert briefing.units == ["urumqi", "changji", "wujiaqu", "shihezi"]
    assert "hutubi" in briefing.no_station and "fukang" in briefing.no_station  # fukang: background station only
    assert list(briefing.summary["station"]) == ["region", *briefing.units]
    assert len(briefing.episodes) == 1 and briefing.episodes.iloc[0]["peak_aqi"] == 433
    assert [f.name for f in briefing.figures] == ["map", "trend", "calendar", "primary"]


def test_docx_sections_in_official_order(docx_doc):
    heads = [p.text for p in docx_doc.paragraphs if p.style.name == "Heading 1"]
    assert heads == ["一、总体情况", "二、地方与兵团对比", "三、污染过程", "四、首要污染物", "五、临界天与预警",
                     "六、数据完整性与说明", "七、附图"]
    titles = [p.text for p in docx_doc.paragraphs if p.style.name == "Title"]
    assert titles == [TITLE]
    assert any(p.style.name == "RA Issuer" and p.text == "（发文单位）" for p in docx_doc.paragraphs)
    assert docx_doc.paragraphs[-1].text == "2022年1月4日" and docx_doc.paragraphs[-1].style.name == "RA Date"


def test_docx_table1_one_row_per_jurisdiction_with_the_ranking_numbers(docx_doc, expected):
    t1 = docx_doc.tables[0]
    rows = [[c.text for c in r.cells] for r in t1.rows]
    assert rows[0][:4] == ["单元", "有效天数", "PM2.5（µg/m³）", "PM10（µg/m³）"]
    assert [r[0] for r in rows[1:]] == UNITS
    ids = ["urumqi", "changji", "wujiaqu", "shihezi"]
    for r, uid in zip(rows[2:], ids, strict=True):
        e = expected.loc[uid]
        assert r[2] == report.fmt_num(e["pm25_mean"])
        assert r[3] == report.fmt_num(e["pm10_mean"])
        assert r[4] == report.fmt_num(e["good_share"], 1)
        assert r[5] == report.fmt_num(e["composite_index"], 2)
        assert r[6] == str(int(e["composite_rank"]))
    # pinned: the sample's jurisdiction means (µg/m³) and the composite ranking
    assert [r[2] for r in rows[1:]] == ["150", "117", "142", "269", "185"]
    assert [r[6] for r in rows[1:]] == ["—", "1", "2", "4", "3"]
    assert {r[7] for r in rows[1:]} == {"—"}  # no 2021 data: no change vs last year


def test_docx_days_by_category_and_sides(docx_doc, expected):
    t2 = [[c.text for c in r.cells] for r in docx_doc.tables[1].rows]
    assert t2[0] == ["单元", "优", "良", "轻度污染", "中度污染", "重度污染", "严重污染", "超标天数"]
    for r, uid in zip(t2[2:], ["urumqi", "changji", "wujiaqu", "shihezi"], strict=True):
        assert r[1:7] == [str(int(expected.loc[uid, f"days_level_{k}"])) for k in range(1, 7)]
    t3 = [[c.text for c in r.cells] for r in docx_doc.tables[2].rows]
    assert [r[0] for r in t3[1:]] == ["地方", "兵团"]


def test_docx_embeds_four_figures_at_print_resolution(docx_doc):
    shapes = docx_doc.inline_shapes
    assert len(shapes) == 4
    for s in shapes:
        rid = s._inline.graphic.graphicData.pic.blipFill.blip.embed
        img = docx_doc.part.related_parts[rid].image
        assert img.content_type == "image/png" and img.px_width >= 2000  # 1000 px layout × 2
    captions = [p.text for p in docx_doc.paragraphs if p.style.name == "Caption"]
    assert captions[0].startswith("图1 区域空气质量") and captions[3].startswith("图4 各单元首要污染物占比")


def test_docx_uses_styles_not_hard_formatting(docx_doc):
    body = [p for p in docx_doc.paragraphs] + [p for t in docx_doc.tables for r in t.rows for c in r.cells
                                               for p in c.paragraphs]
    for p in body:
        assert p.paragraph_format.alignment is None
        for run in p.runs:
            assert run.font.size is None and run.font.bold is None and run.font.name is None
    assert {"RA Body", "RA Table Text", "RA Table Header", "Heading 1", "Title"} <= {s.name for s in docx_doc.styles}
    east = docx_doc.styles["RA Body"].base_style.element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
    assert east == "仿宋_GB2312"


def test_html_is_self_contained(briefing):
    html = report.to_html(briefing)
    assert f'<h1 class="title">{TITLE}</h1>' in html
    assert html.count("data:image/png;base64,") == 4
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html and "<script" not in html
    assert html.count("<table>") == 8


@pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed (apt-get install poppler-utils)")
def test_pdf_pages_text_and_embedded_fonts(briefing, tmp_path):
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(report.to_pdf(briefing))
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert 4 <= len(pages) <= 9
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode("utf-8")
    assert TITLE in text.replace(" ", "")
    assert "一、总体情况" in text and "乌鲁木齐市" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True).stdout.decode().splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded (emb column)


def test_english_briefing(store_path):
    from regionair.store import Store

    b = report.briefing_from_store(Store(store_path), "2022-01-01", "2022-01-03", lang="en",
                                   jurisdictions=["urumqi", "shihezi"])
    html = report.to_html(b)
    assert "1. Summary of the period" in html and "Shihezi (8th Division)" in html
    assert b.units == ["urumqi", "shihezi"]
    t1 = report.tables(b)["t1"]
    assert [r[0] for r in t1.rows] == ["Whole region", "Urumqi", "Shihezi (8th Division)"]


def test_cli_writes_each_format(store_path, tmp_path):
    parser = argparse.ArgumentParser()
    report.add_commands(parser.add_subparsers())
    for fmt in ("html", "docx"):
        out = tmp_path / f"b.{fmt}"
        args = parser.parse_args(["report", "--start", "2022-01-01", "--end", "2022-01-03", "--format", fmt,
                                  "--store", str(store_path), "--jurisdictions", "urumqi,changji", "--out", str(out)])
        assert args.func(args) == 0
        assert out.stat().st_size > 10_000


@pytest.mark.parametrize(("start", "end", "units", "match"), [
    ("2022-01-03", "2022-01-01", None, "before start"),
    ("2022-01-01", "2022-01-03", ["nowhere"], "unknown or non-member"),
    ("2023-05-01", "2023-05-02", None, "no measurements"),
], ids=["end-before-start", "unknown-unit", "no-data"])
def test_bad_input_names_the_problem(store_path, start, end, units, match):
    from regionair.store import Store

    with pytest.raises(InputError, match=match):
        report.briefing_from_store(Store(store_path), start, end, jurisdictions=units)


def test_render_rejects_unknown_format(briefing):
    with pytest.raises(InputError, match="docx, pdf, html"):
        report.render(briefing, "odt")


def test_fmt_num_missing_and_sign():
    assert report.fmt_num(float("nan")) == "—"
    assert report.fmt_num(pd.NA) == "—"
    assert report.fmt_num(-3.04, 1, True) == "-3.0"
    assert report.fmt_num(2.5, 1, True) == "+2.5"
