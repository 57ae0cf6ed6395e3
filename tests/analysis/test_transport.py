"""Transport analyses on constructed cases with known answers, the recorded (constructed) weather, and
an AppTest of pages/transport.py against the sample plus that weather."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regionair.analysis import transport as tr
from regionair.core.i18n import column_label
from regionair.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).parents[1] / "data" / "recorded"
TZ = "Asia/Shanghai"


def _load_script():
    spec = importlib.util.spec_from_file_location("load_recorded_weather", ROOT / "scripts" / "load_recorded_weather.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _hours(n, start="2022-01-01 01:00"):
    return pd.date_range(start, periods=n, freq="h", tz=TZ)


def _ar1(rng, n, phi=0.9, sd=10.0):
    e = rng.normal(0, sd, n)
    x = np.zeros(n)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


@pytest.fixture(scope="module")
def two_regimes():
    """A→B regime (B follows A by 3 h) alternating every 48 h with B→A (A follows B by 2 h)."""
    rng = np.random.default_rng(7)
    n = 24 * 40
    u, v = _ar1(rng, n), _ar1(rng, n)
    regime = (np.arange(n) // 48) % 2
    a, b = np.empty(n), np.empty(n)
    for i in range(n):
        if regime[i] == 0:
            a[i] = u[i] + 100
            b[i] = (0.8 * a[i - 3] if i >= 3 else 100) + rng.normal(0, 3) + 20
        else:
            b[i] = v[i] + 100
            a[i] = (0.8 * b[i - 2] if i >= 2 else 100) + rng.normal(0, 3) + 20
    t = _hours(n)
    return pd.Series(a, t), pd.Series(b, t), pd.Series(regime == 0, t)


# --------------------------------------------------------------------------- sectors and geometry

@pytest.mark.parametrize("wd, n, expected", [
    (0, 16, 0), (11.2, 16, 0), (11.25, 16, 1), (348.75, 16, 0), (348.7, 16, 15), (90, 16, 4), (359.9, 8, 0),
    (22.5, 8, 1), (202.5, 8, 5), (180, 8, 4),
], ids=lambda x: str(x))
def test_wind_sector_edges(wd, n, expected):
    assert tr.wind_sector([wd], n_sectors=n)[0] == expected


def test_wind_sector_calm_and_missing():
    out = tr.wind_sector([90, 90, np.nan, 90], [0.4, 0.5, 2.0, np.nan], n_sectors=8, calm=0.5)
    assert out[0] == -1 and out[1] == 2 and np.isnan(out[2]) and np.isnan(out[3])


def test_bad_options_raise():
    with pytest.raises(InputError, match="n_sectors"):
        tr.wind_sector([0], n_sectors=12)
    with pytest.raises(InputError, match="prewhiten"):
        tr.prewhiten(np.zeros(5), np.zeros(5), "ols")
    with pytest.raises(InputError, match="statistic"):
        tr.polar_plot(pd.DataFrame({"wind_speed": [1.0], "wind_direction": [0.0], "pm25": [1.0]}), "pm25",
                      statistic="median")


def test_bearing_and_pair_bearings():
    assert tr.bearing(0, 0, 0, 10) == pytest.approx(0)
    assert tr.bearing(0, 0, 10, 0) == pytest.approx(90)
    assert tr.bearing(0, 0, -10, -10) == pytest.approx(225)
    pts = tr.centroids()
    pb = tr.pair_bearings([("urumqi", "changji")], pts).set_index(["source", "target"])
    # 昌吉市 lies north-west of 乌鲁木齐市: the bearing is in the NW quadrant, the wind from the SE carries
    assert 270 < pb.loc[("urumqi", "changji"), "bearing"] < 360
    assert pb.loc[("urumqi", "changji"), "wind_from"] == pytest.approx((pb.loc[("urumqi", "changji"), "bearing"]
                                                                          + 180) % 360)
    assert pb.loc[("changji", "urumqi"), "distance_km"] == pytest.approx(pb.loc[("urumqi", "changji"), "distance_km"])


def test_vector_mean():
    speed, direction, steady = tr.vector_mean([2, 2], [90, 90])
    assert speed == pytest.approx(2) and direction == pytest.approx(90) and steady == pytest.approx(1)
    speed, _, steady = tr.vector_mean([1, 1], [0, 180])
    assert speed == pytest.approx(0, abs=1e-12) and steady == pytest.approx(0, abs=1e-12)
    assert np.isnan(tr.vector_mean([], [])[0])


# --------------------------------------------------------------------------- roses and CPF by hand

@pytest.fixture()
def hand():
    """Ten hours: 4 from N, 3 from E, 1 from S, 2 calm (8 sectors, calm 0.5 m/s)."""
    return pd.DataFrame({
        "station": "x",
        "wind_speed": [1.0, 2.0, 4.0, 0.6, 1.0, 1.0, 6.0, 2.0, 0.2, 0.0],
        "wind_direction": [0, 10, 350, 20, 90, 80, 100, 180, 45, 200],
        "pm25": [10.0, 20.0, 30.0, 40.0, 100.0, 110.0, 120.0, 50.0, 200.0, 60.0],
    })


def test_wind_rose_matches_hand_bins(hand):
    wr = tr.wind_rose(hand, n_sectors=8, speed_breaks=(0.5, 1.5, 3.0), by="station")
    n = wr.set_index(["sector", "bin"])["n"]
    assert n[(0, "0.5–1.5")] == 2 and n[(0, "1.5–3")] == 1 and n[(0, "≥3")] == 1
    assert n[(2, "0.5–1.5")] == 2 and n[(2, "≥3")] == 1 and n[(4, "1.5–3")] == 1
    assert n[(-1, "calm")] == 2
    assert wr["n"].sum() == 10 and wr["freq"].sum() == pytest.approx(100)
    assert wr.loc[wr["sector"] == -1, "freq"].iloc[0] == pytest.approx(20)
    assert len(wr) == 8 * 3 + 1  # every sector × class, plus calm


def test_pollution_and_percentile_rose_match_hand(hand):
    pr = tr.pollution_rose(hand, "pm25", n_sectors=8, breaks=(0, 50, 100), by=None)
    n = pr.set_index(["sector", "bin"])["n"]
    assert n[(0, "0–50")] == 4 and n[(2, "≥100")] == 3 and n[(4, "50–100")] == 1 and n[(-1, "calm")] == 2
    pc = tr.percentile_rose(hand, "pm25", percentiles=(50,), n_sectors=8, by=None).set_index("sector")
    assert pc.loc[0, "p50"] == pytest.approx(25) and pc.loc[2, "mean"] == pytest.approx(110)
    assert pc.loc[-1, "n"] == 2 and np.isnan(pc.loc[1, "mean"])


def test_cpf_matches_hand(hand):
    c = tr.cpf(hand, "pm25", n_sectors=8, threshold=100, by=None).set_index("sector")
    assert c.loc[0, "cpf"] == 0 and c.loc[2, "n"] == 3 and c.loc[2, "cpf"] == pytest.approx(1.0)
    assert c.loc[-1, "n_high"] == 1 and np.isnan(c.loc[3, "cpf"])
    # percentile threshold: numpy linear interpolation over all ten hours
    c75 = tr.cpf(hand, "pm25", n_sectors=8, percentile=75, by=None)
    assert c75["threshold"].iloc[0] == pytest.approx(np.percentile(hand["pm25"], 75))


def test_cpf_recovers_source_direction():
    """High concentrations arrive only with easterly winds: the CPF and the polar plot point east."""
    rng = np.random.default_rng(3)
    n = 2000
    wd = rng.uniform(0, 360, n)
    ws = rng.uniform(0.6, 4, n)
    c = 20 + rng.normal(0, 3, n) + np.where(tr.angular_distance(wd, 90) < 30, 80 * ws / 4, 0)
    f = pd.DataFrame({"station": "x", "wind_speed": ws, "wind_direction": wd, "pm25": c})
    cp = tr.cpf(f, "pm25", percentile=90, by=None)
    best = cp.loc[cp["sector"] >= 0].sort_values("cpf", ascending=False).iloc[0]
    assert best["sector_label"] in ("E", "ENE", "ESE")
    pp = tr.polar_plot(f, "pm25")
    top = pp.dropna(subset=["value"]).sort_values("value", ascending=False).iloc[0]
    assert tr.angular_distance(top["direction"], 90) <= 30 and top["speed"] > 2


def test_polar_plot_raw_bins_match_hand():
    f = pd.DataFrame({"wind_speed": [0.2, 0.3, 1.2, 1.4], "wind_direction": [0, 4, 90, 96], "pm25": [10, 20, 50, 70]})
    pp = tr.polar_plot(f, "pm25", speed_step=0.5, dir_step=10, max_speed=2.0).set_index(["speed_low", "direction"])
    assert pp.loc[(0.0, 0.0), "n"] == 2 and pp.loc[(0.0, 0.0), "raw"] == pytest.approx(15)
    assert pp.loc[(1.0, 90.0), "n"] == 1 and pp.loc[(1.0, 100.0), "raw"] == pytest.approx(70)
    assert pp["n"].sum() == 4 and len(pp) == 4 * 36
    assert pp["value"].max() <= 70 and pp["value"].min() >= 10  # a weighted mean never leaves the data range


# --------------------------------------------------------------------------- lead/lag

def test_prewhiten_recovers_ar_coefficient():
    rng = np.random.default_rng(0)
    x = np.cumsum(_ar1(rng, 3000, phi=0.6))  # integrated AR(1): differencing then AR(1) whitens it
    _, _, phi = tr.prewhiten(x, x, "ar")
    assert len(phi) >= 1 and phi[0] == pytest.approx(0.6, abs=0.06)


def test_lag_recovered_without_conditioning():
    rng = np.random.default_rng(11)
    n = 24 * 30
    a = _ar1(rng, n) + 100
    b = np.r_[np.full(4, 100.0), a[:-4]] + rng.normal(0, 2, n)
    t = _hours(n)
    curve, peak = tr.conditional_lead_lag(pd.Series(a, t), pd.Series(b, t), max_lag=8, n_boot=100)
    assert peak["lag"] == 4 and peak["r"] > 0.8 and peak["support"] > 0.95
    assert peak["lag_lo"] == 4 and peak["lag_hi"] == 4
    assert list(curve["lag"]) == list(range(-8, 9))
    # reversed roles give the mirrored lag
    _, back = tr.conditional_lead_lag(pd.Series(b, t), pd.Series(a, t), max_lag=8, n_boot=0)
    assert back["lag"] == -4


def test_wind_conditioning_separates_directions(two_regimes):
    a, b, a_to_b = two_regimes
    _, mixed = tr.conditional_lead_lag(a, b, None, n_boot=50)
    _, ab = tr.conditional_lead_lag(a, b, a_to_b, n_boot=100)
    _, ba = tr.conditional_lead_lag(b, a, ~a_to_b, n_boot=100)
    assert ab["lag"] == 3 and ab["support"] > 0.95
    assert ba["lag"] == 2 and ba["support"] > 0.95
    assert mixed["support"] < 0.9  # pooled over both regimes the direction is ambiguous


def test_bootstrap_is_reproducible(two_regimes):
    a, b, m = two_regimes
    c1, p1 = tr.conditional_lead_lag(a, b, m, n_boot=30, seed=5)
    c2, p2 = tr.conditional_lead_lag(a, b, m, n_boot=30, seed=5)
    pd.testing.assert_frame_equal(c1, c2)
    assert p1 == p2


def _units_and_wind(two_regimes, points):
    """Unit frame and wind for 乌鲁木齐市 (a) and 昌吉市 (b): in regime A→B the wind blows from Urumqi."""
    a, b, a_to_b = two_regimes
    pb = tr.pair_bearings([("urumqi", "changji")], points).set_index(["source", "target"])
    from_u = pb.loc[("urumqi", "changji"), "wind_from"]
    from_c = pb.loc[("changji", "urumqi"), "wind_from"]
    wd = np.where(a_to_b.to_numpy(), from_u, from_c)
    units = pd.concat([pd.DataFrame({"station": "urumqi", "time": a.index, "pm25": a.to_numpy()}),
                       pd.DataFrame({"station": "changji", "time": b.index, "pm25": b.to_numpy()})])
    wind = pd.concat([pd.DataFrame({"station": s, "time": a.index, "wind_speed": 2.0, "wind_direction": wd,
                                    "blh": 200.0}) for s in ("urumqi", "changji")])
    return units, wind


def test_transport_matrix_recovers_lag_and_direction(two_regimes):
    pts = tr.centroids()
    units, wind = _units_and_wind(two_regimes, pts)
    m = tr.transport_matrix(units, [("urumqi", "changji")], "pm25", wind=wind, n_boot=100, points=pts)
    m = m.set_index(["source", "target"])
    assert m.loc[("urumqi", "changji"), "lag"] == 3 and m.loc[("changji", "urumqi"), "lag"] == 2
    assert m.loc[("urumqi", "changji"), "support"] > 0.95 and m.loc[("changji", "urumqi"), "support"] > 0.95
    assert m["conditioned"].all() and (m["hours"] > 400).all()
    assert m.loc[("urumqi", "changji"), "speed_kmh"] == pytest.approx(m.loc[("urumqi", "changji"), "distance_km"] / 3)
    im = tr.influence_matrix(m.reset_index(), "lag")
    assert im.loc["urumqi", "changji"] == 3 and np.isnan(im.loc["urumqi", "urumqi"])


def test_transport_matrix_without_wind_and_missing_units(two_regimes):
    pts = tr.centroids()
    units, _ = _units_and_wind(two_regimes, pts)
    m = tr.transport_matrix(units, [("urumqi", "changji"), ("changji", "hutubi")], "pm25", wind=None, n_boot=20,
                            points=pts)
    assert not m["conditioned"].any()
    assert m.loc[m["target"] == "hutubi", "lag"].isna().all() and (m.loc[m["target"] == "hutubi", "hours"] == 0).all()


# --------------------------------------------------------------------------- episodes, attribution, stagnation

def test_episode_onset_follows_the_wind():
    pts = tr.centroids()
    # wind from the west (270°): units further east should start later
    order = pts.set_index("id").loc[["shihezi", "hutubi", "changji", "urumqi"]]
    t0 = pd.Timestamp("2022-01-02 01:00", tz=TZ)
    onsets = pd.DataFrame({"unit": order.index, "first_100": [t0 + pd.Timedelta(hours=3 * i) for i in range(4)]})
    wind = pd.DataFrame({"station": "urumqi", "time": _hours(30, "2022-01-01 20:00"), "wind_speed": 3.0,
                         "wind_direction": 270.0})
    et = tr.episode_transport(onsets, wind, t0, t0 + pd.Timedelta(hours=12), points=pts)
    s = et.summary.iloc[0]
    assert s["wind_from"] == pytest.approx(270) and s["steadiness"] == pytest.approx(1)
    assert s["spearman"] == pytest.approx(1.0)
    assert list(et.order["unit"]) == ["shihezi", "hutubi", "changji", "urumqi"]
    assert et.order["downwind_km"].is_monotonic_increasing


def test_upwind_attribution_shares():
    pts = tr.centroids()
    pb = tr.pair_bearings([("urumqi", "changji"), ("urumqi", "wujiaqu")], pts).set_index(["source", "target"])
    to_changji = pb.loc[("urumqi", "changji"), "bearing"]  # wind from there comes from 昌吉市
    t = _hours(10)
    f = pd.DataFrame({"station": "urumqi", "time": t, "pm25": [200, 200, 200, 200, 10, 10, 10, 10, 200, 10.0],
                      "wind_speed": [2, 2, 2, 2, 2, 2, 2, 2, 0.1, 0.1],
                      "wind_direction": [to_changji] * 4 + [150] * 4 + [0, 0]})
    att = tr.upwind_attribution(f, "pm25", "urumqi", neighbours=["changji", "wujiaqu"], threshold=100, points=pts)
    att = att.set_index("upwind")
    assert att.loc["changji", "n_high"] == 4 and att.loc["changji", "share_high"] == pytest.approx(0.8)
    assert att.loc["calm", "n_high"] == 1 and att.loc["other", "n_all"] == 4
    assert att.loc["changji", "enrichment"] == pytest.approx(0.8 / 0.4)
    assert att["share_high"].sum() == pytest.approx(1) and att["share_all"].sum() == pytest.approx(1)


def test_stagnation_daily_indicators():
    t = _hours(24, "2022-01-01 01:00")  # natural day 2022-01-01
    ws = np.r_[np.full(14, 0.3), np.full(10, 2.0)]
    f = pd.DataFrame({"station": "urumqi", "time": t, "pm25": 100.0, "wind_speed": ws, "blh": np.linspace(100, 330, 24)})
    s = tr.stagnation(f, persistence_hours=12).iloc[0]
    assert str(s["date"]) == "2022-01-01" and s["hours"] == 24
    assert s["calm_frac"] == pytest.approx(14 / 24) and s["low_wind_run_h"] == 14 and s["stagnant"]
    assert s["blh_min"] == pytest.approx(100) and s["pm25"] == pytest.approx(100)


# --------------------------------------------------------------------------- sparse, calm-only, empty

@pytest.fixture()
def calm_only():
    t = _hours(30)
    return pd.DataFrame({"station": "urumqi", "time": t, "pm25": np.linspace(50, 80, 30), "wind_speed": 0.2,
                         "wind_direction": 180.0, "blh": np.nan})


def test_nothing_crashes_on_calm_only(calm_only):
    wr = tr.wind_rose(calm_only)
    assert wr.loc[wr["sector"] == -1, "freq"].iloc[0] == pytest.approx(100)
    assert tr.cpf(calm_only, "pm25").query("sector >= 0")["cpf"].isna().all()
    assert tr.percentile_rose(calm_only, "pm25").query("sector >= 0")["n"].eq(0).all()
    assert tr.polar_plot(calm_only, "pm25")["value"].notna().any()  # calms sit at the centre
    st = tr.stagnation(calm_only)
    assert st["calm_frac"].eq(1).all() and st["blh_mean"].isna().all()
    att = tr.upwind_attribution(calm_only, "pm25", "urumqi", neighbours=["changji"])
    assert att.set_index("upwind").loc["calm", "share_all"] == 1
    wind = calm_only.drop(columns="pm25")
    units = pd.concat([calm_only, calm_only.assign(station="changji")])
    m = tr.transport_matrix(units, [("urumqi", "changji")], "pm25", wind=wind, n_boot=10)
    assert (m["hours"] == 0).all() and m["lag"].isna().all() and (m["weight"] == 0).all()


def test_nothing_crashes_on_sparse_or_empty():
    t = _hours(5)
    sparse = pd.DataFrame({"station": "urumqi", "time": t, "pm25": [1.0, np.nan, 3.0, np.nan, 5.0],
                           "wind_speed": [1.0, np.nan, 2.0, 3.0, np.nan], "wind_direction": [10, 20, np.nan, 40, 50]})
    empty = sparse.iloc[0:0]
    for f in (sparse, empty):
        tr.wind_rose(f)
        tr.pollution_rose(f, "pm25")
        tr.percentile_rose(f, "pm25")
        tr.cpf(f, "pm25")
        assert len(tr.polar_plot(f, "pm25")) > 0
        tr.stagnation(f)
        tr.upwind_attribution(f, "pm25", "urumqi", neighbours=["changji"])
    curve, peak = tr.conditional_lead_lag(sparse["pm25"].set_axis(t), sparse["pm25"].set_axis(t))
    assert peak["lag"] is None and curve["r"].isna().all()
    e = pd.Series(dtype=float, index=pd.DatetimeIndex([], tz=TZ))
    assert tr.conditional_lead_lag(e, e)[1]["lag"] is None
    assert tr.jurisdiction_wind(pd.DataFrame()).empty
    et = tr.episode_transport(pd.DataFrame({"unit": [], "first_100": []}), None, t[0], t[-1])
    assert et.order.empty and et.summary["n_units"].iloc[0] == 0


# --------------------------------------------------------------------------- recorded (constructed) weather

@pytest.mark.parametrize("name, hours", [("2022-01", 120), ("2026-03", 72)])
def test_recorded_payloads_parse(name, hours):
    path = RECORDED / f"openmeteo_weather_{name}.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(payload, list) and all(p["timezone"] == "Asia/Shanghai" for p in payload)
    frame = _load_script().read_recorded(path)
    assert len(frame) == hours * len(payload) and set(frame["source"]) == {"constructed-demo"}
    assert frame["wind_speed"].between(0, 15).all() and frame["wind_direction"].between(0, 360).all()
    assert frame["blh"].notna().all()
    assert str(frame["time"].dt.tz) == TZ


def test_jurisdiction_wind_prefers_reanalysis():
    t = _hours(2)
    w = pd.DataFrame({"source": ["constructed-demo", "open-meteo-archive", "open-meteo-forecast", "constructed-demo"],
                      "point": "urumqi", "time": [t[0], t[0], t[0], t[1]], "wind_speed": [1.0, 2.0, 3.0, 4.0],
                      "wind_direction": 90.0})
    jw = tr.jurisdiction_wind(w)
    assert list(jw["wind_speed"]) == [2.0, 4.0] and list(jw["wind_source"]) == ["open-meteo-archive",
                                                                                 "constructed-demo"]


@pytest.fixture(scope="module")
def transport_store(tmp_path_factory):
    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    path = tmp_path_factory.mktemp("transport_store")
    with Store(path) as store:
        store.ingest_hourly(read_archive(sorted((ROOT / "data" / "sample").glob("*.csv"))))
        assert _load_script().load(store) == 1536
        assert _load_script().load(store) == 0  # idempotent
    return path


def test_attach_wind_on_sample(transport_store):
    from regionair.analysis.latest import unit_hourly
    from regionair.store import Store

    with Store(transport_store) as store:
        units = unit_hourly(store.hourly())
        wind = tr.jurisdiction_wind(store.weather())
    f = tr.attach_wind(units, wind)
    assert f["wind_speed"].notna().mean() > 0.9
    assert set(wind["station"]) >= {"urumqi", "changji", "wujiaqu", "shihezi"}


def test_transport_page_apptest(transport_store, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REGIONAIR_STORE", str(transport_store))
    at = AppTest.from_file(str(ROOT / "pages" / "transport.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "区域传输"
    heads = [s.value for s in at.subheader]
    assert any("风玫瑰" in h for h in heads) and any("谁影响谁" in h for h in heads)
    assert any("constructed-demo" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) >= 8  # roses, CPF, polar plots, map, matrix, episode, stagnation
    table = at.dataframe[0].value
    # headers in words from the one catalogue (the raw codes source/target/lag … showed before)
    assert {column_label(c, "zh") for c in ("upwind", "target", "lag", "support", "weight")} <= set(table.columns)
    assert table[column_label("hours", "zh")].max() > 0
    if len(at.selectbox(key="tr_scope").options) > 1:  # an episode: its transport view appears
        at.selectbox(key="tr_scope").select_index(1).run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("主导风" in c.value for c in at.caption)
    at.sidebar.segmented_control(key="lang").set_value("en").run()
    assert not at.exception and at.title[0].value == "Transport"


def test_transport_page_without_wind(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    with Store(tmp_path) as store:
        store.ingest_hourly(read_archive(sorted((ROOT / "data" / "sample").glob("*.csv"))))
    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "pages" / "transport.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("没有该时段的风数据" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) >= 2  # the unconditioned map and matrix
