"""Bounded requests (issue 16 §5): a link's period stays inside the store's span and five years, and text
from links, stored titles and errors is shown as text, never as Markdown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from regionair.ui.filters import MAX_PERIOD_DAYS, clamp_dates
from regionair.ui.text import md

ROOT = Path(__file__).resolve().parents[2]
D = dt.date


@pytest.mark.parametrize(("asked", "expect"), [
    ((D(2022, 1, 2), D(2022, 1, 3)), (D(2022, 1, 2), D(2022, 1, 3), None)),          # inside: unchanged
    ((D(1900, 1, 1), D(2900, 1, 1)), (D(2022, 1, 1), D(2026, 3, 10), "clamped")),    # centuries: the span
    ((D(2030, 1, 1), D(2031, 1, 1)), (D(2026, 3, 10), D(2026, 3, 10), "outside")),   # after the data: last day
    ((D(1990, 1, 1), D(1990, 2, 1)), (D(2022, 1, 1), D(2022, 1, 1), "outside")),    # before: first day
    ((D(2022, 1, 3), D(2022, 1, 2)), (D(2022, 1, 2), D(2022, 1, 3), "clamped")),     # reversed
])
def test_custom_period_is_kept_inside_the_store(asked, expect):
    assert clamp_dates(*asked, D(2022, 1, 1), D(2026, 3, 10)) == expect


def test_custom_period_is_at_most_five_years():
    d0, d1, why = clamp_dates(D(2000, 1, 1), D(2020, 12, 31), D(1990, 1, 1), D(2026, 1, 1))
    assert (why, d1, (d1 - d0).days + 1) == ("too_long", D(2020, 12, 31), MAX_PERIOD_DAYS)


@pytest.fixture(scope="module")
def store_path(sample_store):
    return sample_store  # read only


@pytest.mark.parametrize("page", ["trends", "rankings", "episodes"])
def test_a_link_centuries_long_reads_only_the_store_span(store_path, monkeypatch, page):
    monkeypatch.setenv("REGIONAIR_STORE", str(store_path))
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    at.query_params.update(period="custom", start="1026-01-01", end="2926-12-31")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.date_input(key="dates").value == (D(2021, 12, 31), D(2026, 3, 10))  # 2022-01-01 00:00 closes 12-31
    shown = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "1026-01-01" in shown and "2021-12-31–2026-03-10" in shown


def test_reflected_markdown_stays_text(store_path, monkeypatch):
    """An image link in a query parameter is escaped: no ![..](http..) reaches Streamlit's Markdown."""
    monkeypatch.setenv("REGIONAIR_STORE", str(store_path))
    at = AppTest.from_file(str(ROOT / "pages" / "overview.py"), default_timeout=120)
    at.query_params["period"] = "![x](http://evil.example/a.png)"
    at.run()
    assert not at.exception
    (w,) = [w.value for w in at.warning if "period" in w.value]
    assert "![x](" not in w and r"\!\[x\]\(http" in w


def test_markdown_escape_is_literal():
    assert md("**bold** [a](b) :red[x] $x$ # h") == r"\*\*bold\*\* \[a\]\(b\) \:red\[x\] \$x\$ \# h"
    assert md("line1\n# line2") == r"line1 \# line2"
    assert md("乌鲁木齐 2022") == "乌鲁木齐 2022"
