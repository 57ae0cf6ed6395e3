"""The text catalogue (regionair/core/text/catalogue.toml): one entry per meaning, both languages filled,
the same {placeholders} on both sides — a translator's edit that drops one fails here, not on a page."""

from __future__ import annotations

import re
import string

import pytest

from regionair.core import i18n

#: Templates whose languages word a value differently: date formats, and 高/低 + a size against a signed number.
DIFFERENT_FIELDS = {"rp_fmt_day", "rp_fmt_time", "rp_day_same_year", "rp_p_sides"}
ENTRIES = [(s, k, v) for s, table in (("columns", i18n.COLUMNS), ("values", i18n.VALUES), ("text", i18n.TEXT),
                                       ("eval_columns", i18n.EVAL_COLUMNS))
           for k, v in table.items()]


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.mark.parametrize(("section", "key", "pair"), ENTRIES, ids=[f"{s}:{k}" for s, k, _ in ENTRIES])
def test_both_languages_with_the_same_placeholders(section, key, pair):
    zh, en = pair
    assert zh.strip() and en.strip(), f"[{section}] {key}: a language is empty"
    if key not in DIFFERENT_FIELDS:
        assert _fields(zh) == _fields(en), f"[{section}] {key}: placeholders differ {_fields(zh)} vs {_fields(en)}"


def test_english_side_is_not_chinese():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    # the language switch's label is bilingual on purpose, Chinese is named in Chinese, and Chinese official
    # document numbers (环办监测〔2016〕120号) are cited as they are written
    allowed = {"language", "language_zh", "eval_dust_note_exclude", "eval_clause_evaluation_stations"}
    bad = [k for k, (_, en) in i18n.TEXT.items() if cjk.search(en) and k not in allowed]
    assert bad == []


def test_a_broken_entry_is_named(tmp_path):
    f = tmp_path / "catalogue.toml"
    f.write_text('[text]\ngood = ["好", "good"]\nbroken = "only one language"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[text\]: \['broken'\]"):
        i18n._load_catalogue(f)


def test_one_precision_per_quantity():
    """IAQI and AQI are integers (HJ 633), CO one decimal in mg/m³, the composite index two; missing is '—'."""
    assert i18n.fmt_value(134.0, "iaqi") == "134" and i18n.fmt_value(134.0, "iaqi_pm25") == "134"
    assert i18n.fmt_value(1.83, "co") == "1.8" and i18n.fmt_value(3.91562, "composite_index") == "3.92"
    assert i18n.fmt_value(float("nan"), "pm25") == "—" and i18n.fmt_value(None, "aqi") == "—"
