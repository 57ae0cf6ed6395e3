"""Every page under streamlit.testing.v1.AppTest against the bundled sample: no exception, the expected
widgets, and the numbers shown equal the regionair functions' results; zh and en; bad URL values."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from regionair.analysis.latest import station_latest, unit_kpis
from regionair.core.i18n import t
from regionair.core.nomenclature import TZ

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["overview", "hourly", "warnings", "trends", "transport", "primary", "episodes", "rankings", "data", "meeting"]
ANCHOR = pd.Timestamp("2026-03-11 00:00", tz=TZ)  # latest hour of the sample


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    path = tmp_path_factory.mktemp("pages_store")
    Store(path).ingest_hourly(read_archive(ROOT / "data" / "sample"), source="cnemc-archive")
    return path


@pytest.fixture
def app(sample_store, monkeypatch):
    monkeypatch.setenv("REGIONAIR_STORE", str(sample_store))

    def make(page: str, **state) -> AppTest:
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
        for k, v in state.items():
            at.session_state[k] = v
        return at

    return make


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_runs_alone_in_both_languages(app, page, lang):
    at = app(page, lang=lang)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == t(f"page_{page}", lang)
    assert at.sidebar.multiselect(key="units").value  # the shared filters are there
    assert at.selectbox(key="period").value == "72h"


def test_overview_numbers_equal_regionair(app, sample_store):
    from regionair.store import Store

    at = app("overview")
    at.run()
    hourly = Store(sample_store).hourly(ANCHOR - pd.Timedelta(hours=47), ANCHOR)
    kpis = unit_kpis(hourly, at=ANCHOR).set_index("station")
    shown = {m.label: m.value for m in at.metric}
    assert shown["乌鲁木齐市"] == str(int(kpis.loc["urumqi", "aqi"]))
    assert shown["石河子市（第八师）"] == str(int(kpis.loc["shihezi", "aqi"]))
    assert "阜康市" not in shown  # no evaluation station: listed as such, not shown as a number
    assert any("阜康市" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 2


def test_hourly_table_is_the_latest_hour(app, sample_store):
    from regionair.store import Store

    at = app("hourly")
    at.run()
    table = at.dataframe[0].value
    hourly = Store(sample_store).hourly(ANCHOR - pd.Timedelta(hours=71), ANCHOR)
    latest = station_latest(hourly, at=ANCHOR)
    assert len(table) == len(latest) == 20
    assert table["aqi"].max() == latest["aqi"].max() == 103
    assert at.selectbox(key="detail_station").value == table.iloc[0]["station"]


def test_trends_on_the_2022_episode(app):
    at = app("trends", period="custom", dates=(dt.date(2022, 1, 1), dt.date(2022, 1, 3)), pollutant="pm25", res="day")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) >= 6


def test_episodes_found_in_2022(app):
    at = app("episodes", period="custom", dates=(dt.date(2022, 1, 1), dt.date(2022, 1, 3)))
    at.run()
    assert not at.exception
    episodes = at.dataframe[0].value
    assert len(episodes) >= 1 and episodes["峰值AQI"].max() > 300
    assert len(at.get("plotly_chart")) == 3  # series, primary-pollutant shift and the hour-by-hour map


def test_primary_and_rankings(app):
    at = app("primary", period="custom", dates=(dt.date(2022, 1, 1), dt.date(2022, 1, 3)), res="day")
    at.run()
    assert not at.exception and len(at.get("plotly_chart")) == 2
    at = app("rankings", period="custom", dates=(dt.date(2022, 1, 1), dt.date(2022, 1, 3)))
    at.run()
    assert not at.exception
    rank = at.dataframe[0].value
    assert rank["综合指数"].notna().all() and list(rank["排名"]) == sorted(rank["排名"])
    assert len(rank) == 4  # the four jurisdictions with evaluation stations in the sample


def test_invalid_url_value_gets_a_translated_message(app):
    at = app("overview")
    at.query_params["period"] = "bogus"
    at.query_params["units"] = "urumqi,nowhere"
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "period=bogus" in warnings and "units=nowhere" in warnings
    assert at.multiselect(key="units").value == ["urumqi"]


def test_valid_url_values_set_the_view(app):
    at = app("trends")
    at.query_params["lang"] = "en"
    at.query_params["period"] = "24h"
    at.query_params["pollutant"] = "pm10"
    at.run()
    assert at.title[0].value == "Cross-boundary trends"
    assert at.selectbox(key="period").value == "24h" and at.selectbox(key="pollutant").value == "pm10"


def test_empty_store_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path / "empty"))
    at = AppTest.from_file(str(ROOT / "pages" / "overview.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "ingest" in at.info[0].value


def test_trends_draws_no_profile_from_too_few_days(app):
    """The sample's last 72 h hold 2 natural days with data: no diurnal, weekday or monthly profile (each needs
    PROFILE_MIN_DAYS days); a note says why instead of a chart drawn from a day or two."""
    from regionair.analysis.trends import PROFILE_MIN_DAYS

    at = app("trends", lang="zh")
    at.run()
    assert not at.exception
    notes = [c.value for c in at.caption if "需要至少" in c.value]
    assert notes == [t("profile_short", "zh", what=t(k, "zh"), need=PROFILE_MIN_DAYS[k], have=2)
                     for k in ("diurnal", "weekday", "monthly")]
    titles = [json.loads(e.proto.spec)["layout"].get("title", {}).get("text", "") for e in at.get("plotly_chart")]
    assert not any(t(k, "zh") in x for x in titles for k in ("diurnal", "weekday", "monthly"))
    assert any(t("calendar", "zh") in x for x in titles)  # the other charts still there
