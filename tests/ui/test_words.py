"""The words test: every page, in both languages, shows only words a reader can use — no raw identifiers
(snake_case codes), no ``None``/``nan``/``NaT``, and no untranslated Latin words in the Chinese UI (units, file
formats and proper names allowed by the short list in tests/words.py). Reads what users read: text, captions,
alerts, metrics, widget labels and options, table headers and text cells, chart titles, axes, legends,
annotations and colour bars (tests/words.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.words import page_texts, problems

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["overview", "hourly", "warnings", "trends", "transport", "primary", "episodes", "rankings", "data", "meeting"]


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    path = tmp_path_factory.mktemp("words_store")
    Store(path).ingest_hourly(read_archive(ROOT / "data" / "sample"), source="cnemc-archive")
    return path


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_word_on_the_page_is_a_word(sample_store, monkeypatch, page, lang):
    monkeypatch.setenv("REGIONAIR_STORE", str(sample_store))
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    texts = page_texts(at)
    assert len(texts) > 20  # the walk really read the page
    assert problems(texts, lang) == []


@pytest.mark.parametrize("text, lang, found", [
    ("iaqi_pm25", "en", "identifier 'iaqi_pm25'"),
    ("None", "en", "missing value spelt 'None'"),
    ("45.2 nan", "zh", "missing value spelt 'nan'"),
    ("已超标 crossed", "zh", "Latin word 'crossed'"),
    ("PM2.5 (µg/m³) · HJ 633-2026 · CSV", "zh", None),
    ("`python -m regionair ingest`", "zh", None),
])
def test_the_checks_themselves(text, lang, found):
    got = problems([("t", text)], lang)
    assert (got == []) if found is None else any(found in g for g in got), got
