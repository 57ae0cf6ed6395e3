""""As of" replay (issue 14 §4): ``?at=`` makes a past hour "now" for every page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from regionair.analysis.latest import unit_kpis
from regionair.core.nomenclature import TZ
from regionair.ui.filters import as_of_stamp, clamp_as_of, parse_as_of

ROOT = Path(__file__).resolve().parents[2]


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz=TZ)


@pytest.mark.parametrize(("text", "expect"), [
    ("2022-01-02T14:00", _ts("2022-01-02 14:00")),
    ("2022-01-02T14:35", _ts("2022-01-02 14:00")),        # minutes dropped: hours are hour-ending stamps
    ("2022-01-02T06:00Z", _ts("2022-01-02 14:00")),       # an offset is converted to Beijing time
    ("2022-01-02", _ts("2022-01-02 00:00")),
    ("next tuesday", None), ("", None), ("9" * 500, None),
])
def test_parse_as_of(text, expect):
    assert parse_as_of(text) == expect


def test_hour_24_is_the_next_midnight_and_the_span_bounds_it():
    assert as_of_stamp(dt.date(2022, 1, 2), 24) == _ts("2022-01-03 00:00")
    assert as_of_stamp(dt.date(2022, 1, 2), 1) == _ts("2022-01-02 01:00")
    first, last = _ts("2022-01-01 01:00"), _ts("2022-01-04 00:00")
    assert clamp_as_of(_ts("2099-01-01"), first, last) == last
    assert clamp_as_of(_ts("1999-01-01"), first, last) == first
    assert clamp_as_of(_ts("2022-01-02 14:00"), first, last) == _ts("2022-01-02 14:00")


@pytest.fixture(scope="module")
def store_path(sample_store):
    return sample_store  # read only


def _run(page: str, store_path, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("REGIONAIR_STORE", str(store_path))
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_overview_replays_the_kpis_of_that_hour(store_path, monkeypatch):
    from regionair.store import Store

    at = _run("overview", store_path, monkeypatch, at="2022-01-02T14:00")
    banner = " ".join(w.value for w in at.warning)
    assert "回看模式" in banner and "2022-01-02 14:00" in banner and "2026-03-11 00:00" in banner
    assert at.toggle(key="replay").value is True
    assert (at.date_input(key="at_day").value, at.selectbox(key="at_hour").value) == (dt.date(2022, 1, 2), 14)
    assert at.query_params["at"] == "2022-01-02T14:00"
    # the metrics are the KPIs at 14:00 on 2022-01-02, not at the store's latest hour
    t = _ts("2022-01-02 14:00")
    recent = Store(store_path).hourly(t - pd.Timedelta(hours=47), t)
    k = unit_kpis(recent, at=t).set_index("name_zh")
    shown = {m.label: m.value for m in at.metric}
    assert shown["乌鲁木齐市"] == str(int(k.loc["乌鲁木齐市", "aqi"]))
    live = _run("overview", store_path, monkeypatch)
    assert {m.label: m.value for m in live.metric} != shown


def test_replay_outside_the_data_is_clamped_with_a_message(store_path, monkeypatch):
    at = _run("overview", store_path, monkeypatch, at="2099-01-01T10:00")
    assert at.query_params["at"] == "2026-03-11T00:00"
    assert any("2099-01-01 10:00" in w.value and "2026-03-11 00:00" in w.value for w in at.warning)


def test_a_bad_at_is_reported_and_the_page_stays_live(store_path, monkeypatch):
    at = _run("overview", store_path, monkeypatch, at="yesterday")
    assert at.toggle(key="replay").value is False
    assert "at" not in at.query_params
    assert any("yesterday" in w.value for w in at.warning)


@pytest.mark.parametrize("page", ["warnings", "hourly", "trends", "primary", "episodes", "rankings"])
def test_every_page_runs_in_replay(store_path, monkeypatch, page):
    at = _run(page, store_path, monkeypatch, at="2022-01-02T14:00", lang="en")
    assert any("Replay" in w.value and "2022-01-02 14:00" in w.value for w in at.warning)


def test_presentation_mode_hides_the_sidebar_and_has_a_way_back(store_path, monkeypatch):
    """Issue 14 §8: presentation hides the sidebar (CSS), says the data time in one line instead of the banners,
    and a button leaves it (the sidebar toggle is hidden)."""
    at = _run("trends", store_path, monkeypatch, pres="1", at="2022-01-02T14:00")
    css = " ".join(m.value for m in at.markdown)
    assert 'stSidebar"]' in css and "display: none" in css
    assert not any("回看模式" in w.value for w in at.warning)  # no banner on the projector
    assert any("数据截至 2022-01-02 14:00" in c.value for c in at.caption)
    at.button(key="exit_pres").click().run()
    assert not at.exception
    assert at.toggle(key="pres").value is False and "pres" not in at.query_params
    assert any("回看模式" in w.value for w in at.warning)


def test_overview_explains_yesterdays_city_value(store_path, monkeypatch):
    """Issue 15 §4: on the overview the derivation of a city daily value is one click away — the last complete
    day before "now" (the running day is not a daily value yet)."""
    from regionair.analysis.evaluation import jurisdiction_daily
    from regionair.store import Store

    at = _run("overview", store_path, monkeypatch, at="2022-01-03T10:00")
    assert at.selectbox(key="explain_unit").value == "urumqi"
    assert at.selectbox(key="explain_day").value == dt.date(2022, 1, 2)
    h = Store(store_path).hourly("2022-01-02 01:00", "2022-01-03 00:00")
    d = jurisdiction_daily(h).set_index("jurisdiction").loc["urumqi"]
    shown = " ".join(m.value for m in at.markdown)
    assert "2022-01-02" in shown and f"AQI {int(d['aqi'])}" in shown.replace("AQI **", "AQI ").replace("**", "")
