"""会商 mode: snapshots reproduce the same numbers after more hours (and revisions) are ingested, the
permalink page shows them, the decision log round-trips through the store, control measures and their
same-hour before/after statistics."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regionair import meeting
from regionair.core.nomenclature import TZ
from regionair.errors import InputError
from regionair.render import report

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parents[1] / "data"


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz=TZ)


@pytest.fixture
def day1_store(tmp_path):
    """A store holding only 2022-01-01 (T00 … 01-02 T00) — the state at the meeting."""
    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    s = Store(tmp_path / "store")
    s.ingest_hourly(read_archive(DATA / "region_2022-01-01.csv"), source="cnemc-archive")
    return s


def _ingest_later(store) -> pd.DataFrame:
    """After the meeting: two more days arrive and one frozen hour is revised by CNEMC."""
    from regionair.sources.cnemc_archive import read_archive

    store.ingest_hourly(read_archive(DATA / "region_2022-01-02_03.csv"), source="cnemc-archive")
    day1 = read_archive(DATA / "region_2022-01-01.csv")
    rev = day1[(day1["station"] == "1490A") & (day1["time"] == _ts("2022-01-01 12:00"))].copy()
    rev["pm25"] = rev["pm25"] + 100.0
    store.ingest_hourly(rev, source="cnemc-archive")
    return rev


def _numbers(store, snap) -> pd.DataFrame:
    b = report.briefing_from_store(store, "2022-01-01", "2022-01-01", snapshot_id=snap.id, issue_date="2022-01-02")
    return b.summary[["station", "pm25_mean", "pm10_mean", "composite_index", "composite_rank"]]


def test_snapshot_reproduces_numbers_after_new_hours_and_revisions(day1_store):
    snap = meeting.create_snapshot(day1_store, cutoff="2022-01-04 00:00", start="2022-01-01 01:00",
                                   units=["urumqi", "changji", "wujiaqu", "shihezi"], title="1月1日会商")
    frozen = meeting.snapshot_hourly(day1_store, snap)
    before = _numbers(day1_store, snap)
    rev = _ingest_later(day1_store)

    now = day1_store.hourly("2022-01-01 01:00", "2022-01-04 00:00")
    assert now["time"].max() == _ts("2022-01-04 00:00")  # the new days are in the store …
    assert len(day1_store.revisions()) == 1
    again = meeting.snapshot_hourly(day1_store, snap)
    pd.testing.assert_frame_equal(again, frozen)  # … but not in the snapshot, and the revision is undone
    assert again["time"].max() == _ts("2022-01-02 00:00")
    row = again[(again["station"] == "1490A") & (again["time"] == _ts("2022-01-01 12:00"))]
    assert float(row["pm25"].iloc[0]) == pytest.approx(float(rev["pm25"].iloc[0]) - 100.0)
    pd.testing.assert_frame_equal(_numbers(day1_store, snap), before)
    # the live numbers did change
    live = report.briefing_from_store(day1_store, "2022-01-01", "2022-01-01").summary
    assert live.set_index("station").loc["urumqi", "pm25_mean"] != before.set_index("station").loc["urumqi", "pm25_mean"]


def test_snapshot_round_trip_and_permalink(day1_store):
    snap = meeting.create_snapshot(day1_store, cutoff="2022-01-02 00:00", start="2022-01-01 01:00", units=["urumqi"],
                                   edition="2012", lang="zh", title="测试", filters={"pollutant": "pm25"})
    back = meeting.load_snapshot(day1_store, snap.id)
    assert back == snap
    assert snap.permalink() == f"/meeting?snapshot={snap.id}"
    assert meeting.list_snapshots(day1_store)["snapshot_id"].iloc[0] == snap.id


@pytest.mark.parametrize(("kw", "match"), [
    ({"cutoff": "2022-01-01 00:00", "start": "2022-01-02 00:00", "units": ["urumqi"]}, "after the cut-off"),
    ({"cutoff": "2022-01-02 00:00", "start": "2022-01-01 01:00", "units": []}, "units is empty"),
    ({"cutoff": "2022-01-02 00:00", "start": "2022-01-01 01:00", "units": ["urumqi"], "edition": "2020"}, "edition"),
    ({"cutoff": "not a time", "start": "2022-01-01 01:00", "units": ["urumqi"]}, "not a time"),
], ids=["start-after-cutoff", "no-units", "bad-edition", "bad-time"])
def test_create_snapshot_rejects_bad_input(day1_store, kw, match):
    with pytest.raises(InputError, match=match):
        meeting.create_snapshot(day1_store, **kw)


def test_unknown_snapshot(day1_store):
    with pytest.raises(InputError, match="no meeting snapshot 'nope'"):
        meeting.load_snapshot(day1_store, "nope")


def test_permalink_page_shows_frozen_numbers(day1_store, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REGIONAIR_STORE", str(day1_store.root))
    snap = meeting.create_snapshot(day1_store, cutoff="2022-01-02 00:00", start="2022-01-01 01:00",
                                   units=["urumqi", "changji", "wujiaqu", "shihezi"], title="1月1日会商")

    def table1() -> pd.DataFrame:
        st.cache_resource.clear()
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "pages" / "meeting.py"), default_timeout=180)
        at.query_params["snapshot"] = snap.id
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.title[0].value == "会商"
        assert any(h.value == "总体形势" for h in at.header)
        assert any(c.value.endswith(f"/meeting?snapshot={snap.id}") for c in at.code)  # copyable link
        return at.dataframe[0].value

    first = table1()
    assert list(first.iloc[:, 0]) == ["乌—昌—石区域", "乌鲁木齐市", "昌吉市", "五家渠市（第六师）", "石河子市（第八师）"]
    _ingest_later(day1_store)
    pd.testing.assert_frame_equal(table1(), first)


def test_meeting_page_agenda_next_previous(day1_store, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REGIONAIR_STORE", str(day1_store.root))
    snap = meeting.create_snapshot(day1_store, cutoff="2022-01-02 00:00", start="2022-01-01 01:00",
                                   units=["urumqi", "changji", "wujiaqu", "shihezi"])
    at = AppTest.from_file(str(ROOT / "pages" / "meeting.py"), default_timeout=180)
    at.query_params["snapshot"] = snap.id
    at.run()
    seen = [at.header[0].value]
    for _ in range(4):
        at.button(key="mt_next").click().run()
        assert not at.exception, [e.value for e in at.exception]
        seen.append(at.header[0].value)
    assert seen == ["总体形势", "变化趋势", "污染过程", "预警与临界", "排名与考核"]
    assert at.button(key="mt_next").disabled
    at.button(key="mt_prev").click().run()
    assert at.header[0].value == "预警与临界"


def test_meeting_page_without_snapshot_offers_the_form(day1_store, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REGIONAIR_STORE", str(day1_store.root))
    at = AppTest.from_file(str(ROOT / "pages" / "meeting.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "新建会商快照"
    at.query_params["snapshot"] = "missing"
    at.run()
    assert any("missing" in e.value for e in at.error)


def test_decision_log_round_trip(day1_store):
    from regionair.store import Store

    snap = meeting.create_snapshot(day1_store, cutoff="2022-01-02 00:00", start="2022-01-01 01:00",
                                   units=["urumqi", "shihezi"])
    meeting.save_minutes(day1_store, snap.id, meeting_date="2022-01-02",
                         participants=["乌鲁木齐市生态环境局", "第八师石河子市生态环境局"], items="总体形势\n污染过程")
    a1 = meeting.add_action(day1_store, snap.id, item="污染过程", action="启动橙色预警并落实工业企业减排",
                            responsible="乌鲁木齐市生态环境局", cooperating="昌吉州生态环境局、第六师五家渠市生态环境局",
                            deadline="2022-01-03")
    a2 = meeting.add_action(day1_store, snap.id, item="总体形势", action="加密监测", responsible="自治区环境监测总站",
                            deadline="2022-01-10")
    meeting.update_action(day1_store, a1, status="in_progress", note="已启动")
    meeting.update_action(day1_store, a1, status="done")

    fresh = Store(day1_store.root)  # another reader (another participant / a later day)
    m = meeting.minutes(fresh, snap.id)
    assert m["participants"] == ["乌鲁木齐市生态环境局", "第八师石河子市生态环境局"]
    assert m["items"] == ["总体形势", "污染过程"] and m["meeting_date"] == "2022-01-02"
    acts = meeting.actions(fresh, snap.id, today="2022-01-05").set_index("action_id")
    assert list(acts.index) == [a1, a2]
    assert acts.loc[a1, "status"] == "done" and acts.loc[a1, "note"] == "已启动" and acts.loc[a1, "revision"] == 2
    assert acts.loc[a1, "cooperating"] == "昌吉州生态环境局、第六师五家渠市生态环境局"
    assert not acts.loc[a1, "overdue"] and not acts.loc[a2, "overdue"]
    assert meeting.actions(fresh, snap.id, today="2022-01-11").set_index("action_id").loc[a2, "overdue"]
    assert len(meeting.actions(fresh, snap.id, history=True)) == 4

    # exported with the briefing
    from docx import Document

    b = report.briefing_from_store(fresh, "2022-01-01", "2022-01-01", snapshot_id=snap.id)
    doc = Document(io.BytesIO(report.to_docx(b)))
    assert "八、会商纪要" in [p.text for p in doc.paragraphs]
    t9 = [[c.text for c in r.cells] for r in doc.tables[-1].rows]
    assert t9[0] == ["议题", "商定事项", "责任单位", "配合单位", "完成时限", "进展"]
    assert t9[1] == ["污染过程", "启动橙色预警并落实工业企业减排", "乌鲁木齐市生态环境局",
                     "昌吉州生态环境局、第六师五家渠市生态环境局", "2022-01-03", "已完成"]


def test_decision_log_rejects_bad_input(day1_store):
    snap = meeting.create_snapshot(day1_store, cutoff="2022-01-02 00:00", start="2022-01-01 01:00", units=["urumqi"])
    with pytest.raises(InputError, match="status='finished'; valid: open"):
        meeting.add_action(day1_store, snap.id, item="x", action="y", responsible="z", deadline="2022-01-03",
                           status="finished")
    with pytest.raises(InputError, match="责任单位"):
        meeting.add_action(day1_store, snap.id, item="x", action="y", responsible=" ", deadline="2022-01-03")
    with pytest.raises(InputError, match="no action"):
        meeting.update_action(day1_store, "a-missing", status="done")
    with pytest.raises(InputError, match="no meeting snapshot"):
        meeting.save_minutes(day1_store, "nope", meeting_date="2022-01-02", participants=[], items=[])


def test_measures_logged_filtered_and_overlaid(day1_store):
    import plotly.graph_objects as go

    mid = meeting.add_measure(day1_store, jurisdiction="urumqi", start="2022-01-01 12:00", end="2022-01-02 00:00",
                              kind="industry", unit="乌鲁木齐市生态环境局", description="重点企业限产30%")
    meeting.add_measure(day1_store, jurisdiction="shihezi", start="2022-01-05 00:00", end="2022-01-06 00:00",
                        kind="dust", unit="第八师")
    ms = meeting.measures(day1_store, start="2022-01-01 01:00", end="2022-01-02 00:00")
    assert list(ms["measure_id"]) == [mid] and ms["start"].iloc[0] == _ts("2022-01-01 12:00")
    assert len(meeting.measures(day1_store, jurisdictions=["shihezi"])) == 1
    fig = meeting.overlay_measures(go.Figure(), ms, names={"urumqi": "乌鲁木齐市"})
    assert fig.layout.shapes[0].x0 == _ts("2022-01-01 12:00")
    assert fig.layout.annotations[0].text == "乌鲁木齐市·工业企业限产停产"
    with pytest.raises(InputError, match="kind='rain'"):
        meeting.add_measure(day1_store, jurisdiction="urumqi", start="2022-01-01", end="2022-01-02", kind="rain",
                            unit="x")
    with pytest.raises(InputError, match="jurisdiction='atlantis'"):
        meeting.add_measure(day1_store, jurisdiction="atlantis", start="2022-01-01", end="2022-01-02", kind="dust",
                            unit="x")


def _synthetic(before: float, during: float, drop_hours=()) -> pd.DataFrame:
    t = pd.date_range(_ts("2022-01-01 01:00"), _ts("2022-01-03 00:00"), freq="h")
    v = np.where(t >= _ts("2022-01-02 01:00"), during, before) + (t.hour.to_numpy() % 3)  # a diurnal wiggle
    df = pd.DataFrame({"station": "urumqi", "time": t, "pm25": v, "aqi": v})
    return df[~((df["time"] >= _ts("2022-01-02 01:00")) & df["time"].dt.hour.isin(drop_hours))]


def test_before_after_same_hours():
    ba = meeting.before_after(_synthetic(100.0, 80.0), "urumqi", "2022-01-02 01:00", "2022-01-03 00:00",
                              pollutants=("pm25",)).iloc[0]
    assert ba["before_start"] == _ts("2022-01-01 01:00") and ba["before_end"] == _ts("2022-01-02 00:00")
    assert ba["hours_compared"] == 24 and ba["n_before"] == 24 and ba["n_during"] == 24
    assert ba["before_mean"] == pytest.approx(101.0) and ba["during_mean"] == pytest.approx(81.0)
    assert ba["change"] == pytest.approx(-20.0) and ba["change_pct"] == pytest.approx(-20 / 101 * 100)
    assert "气象" in ba["caution"]


def test_before_after_compares_only_hours_present_in_both():
    # the during window lacks the 02:00 and 05:00 stamps (wiggle 2): a plain mean would be biased low
    ba = meeting.before_after(_synthetic(100.0, 100.0, drop_hours=(2, 5)), "urumqi", "2022-01-02 01:00",
                              "2022-01-03 00:00", pollutants=("pm25",)).iloc[0]
    assert ba["hours_compared"] == 22 and ba["n_before"] == 22
    assert ba["change"] == pytest.approx(0.0)


def test_before_after_unknown_pollutant():
    with pytest.raises(InputError, match="pollutant 'no3'"):
        meeting.before_after(_synthetic(1, 1), "urumqi", "2022-01-02 01:00", "2022-01-03 00:00", pollutants=("no3",))


@pytest.mark.parametrize("page_url, presentation, expected", [
    ("http://10.0.0.5:8501/meeting", False, "http://10.0.0.5:8501/meeting?snapshot=S1"),
    ("https://air.example.cn/regionair/meeting?snapshot=S0&lang=en", True,
     "https://air.example.cn/regionair/meeting?snapshot=S1&pres=1"),
    ("http://localhost:8501/", False, "http://localhost:8501/meeting?snapshot=S1"),
    (None, False, "/meeting?snapshot=S1"),
])
def test_meeting_link_is_whole_and_keeps_presentation_mode(page_url, presentation, expected):
    from regionair.views.meeting import full_link

    class Snap:
        def permalink(self, base=""):
            return meeting.MeetingSnapshot.permalink(self, base)

        id = "S1"

    assert full_link(page_url, Snap(), presentation) == expected
