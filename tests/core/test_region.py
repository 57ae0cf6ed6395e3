"""Region catalogue: jurisdictions, stations, boundaries, neighbours, area means.

Expected values come from /work/shared/reference/region.md (jurisdictions and the CNEMC station
table, as published) and from hand calculation.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from regionair.core import region
from regionair.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_2022 = Path(__file__).parents[1] / "data" / "region_2022-01-01.csv"

# ------------------------------------------------------------------ reference (region.md)

#: region.md "Jurisdictions": official name → (catalogue id, side).
JURISDICTIONS = {
    "乌鲁木齐市": ("urumqi", "地方"),
    "昌吉市": ("changji", "地方"),
    "昌吉国家高新技术产业开发区": ("changji-hitech", "地方"),
    "昌吉国家农业科技园区": ("changji-agripark", "地方"),
    "阜康市": ("fukang", "地方"),
    "呼图壁县": ("hutubi", "地方"),
    "玛纳斯县": ("manas", "地方"),
    "五家渠市": ("wujiaqu", "兵团"),
    "石河子市": ("shihezi", "兵团"),
    "第十二师": ("div12", "兵团"),
}
URUMQI_DISTRICTS = ["天山区", "沙依巴克区", "新市区", "水磨沟区", "头屯河区", "达坂城区", "米东区", "乌鲁木齐县"]

#: region.md station table: code → (lon, lat, background, jurisdiction, district polygon).
STATIONS = {
    "1490A": (87.5801, 43.8303, False, "urumqi", "urumqi-saybagh"),
    "1491A": (87.6046, 43.7680, False, "urumqi", "urumqi-tianshan"),
    "1492A": (87.4754, 43.9469, True, "urumqi", "urumqi-xinshi"),
    "1493A": (87.5525, 43.8711, False, "urumqi", "urumqi-xinshi"),
    "1494A": (87.6432, 43.8310, False, "urumqi", "urumqi-shuimogou"),
    "1496A": (87.7216, 44.1747, False, "urumqi", "urumqi-midong"),
    "3033A": (87.4651, 43.4569, False, "urumqi", "urumqi-county"),
    "3437A": (88.3118, 43.3658, False, "urumqi", "urumqi-dabancheng"),
    "3438A": (87.6162, 43.8801, False, "urumqi", "urumqi-shuimogou"),
    "3439A": (87.7024, 43.8004, False, "urumqi", "urumqi-shuimogou"),
    "3440A": (87.4921, 43.8411, False, "urumqi", "urumqi-saybagh"),
    "2690A": (88.1236, 43.8886, True, "fukang", "fukang"),
    "2692A": (87.2717, 44.0297, False, "changji", "changji"),
    "3613A": (87.3095, 44.0142, False, "changji", "changji"),
    "4164A": (87.2057, 43.9289, False, "changji", "changji"),
    "2709A": (86.0497, 44.2967, False, "shihezi", "shihezi"),
    "2710A": (86.0697, 44.3075, False, "shihezi", "shihezi"),
    "3442A": (86.0470, 44.2331, False, "shihezi", "shihezi"),
    "4051A": (86.0791, 44.3018, False, "shihezi", "shihezi"),
    "4167A": (86.0126, 44.2349, False, "shihezi", "shihezi"),
    "2711A": (87.5475, 44.1756, False, "wujiaqu", "wujiaqu"),
    "3441A": (87.5460, 44.1912, False, "wujiaqu", "wujiaqu"),
    "4168A": (87.055284, 43.999117, False, "wujiaqu", "changji"),  # label 五家渠市, polygon 昌吉市
}

POLYGONS = {
    "urumqi-tianshan", "urumqi-saybagh", "urumqi-xinshi", "urumqi-shuimogou", "urumqi-toutunhe",
    "urumqi-dabancheng", "urumqi-midong", "urumqi-county",
    "changji", "fukang", "hutubi", "manas", "shihezi", "wujiaqu", "shawan",
}


# --------------------------------------------------------------------------- jurisdictions

@pytest.fixture(scope="module")
def jur():
    return region.jurisdictions().set_index("id")


@pytest.mark.parametrize("name_zh", list(JURISDICTIONS))
def test_jurisdiction_present_with_side(jur, name_zh):
    jid, side = JURISDICTIONS[name_zh]
    row = jur.loc[jid]
    assert row["name_zh"].startswith(name_zh)
    assert row["side"] == side
    assert row["member"]
    assert row["level"] == "jurisdiction"


@pytest.mark.parametrize("name_zh", URUMQI_DISTRICTS)
def test_urumqi_districts_are_children(jur, name_zh):
    row = jur.loc[jur["name_zh"] == name_zh].iloc[0]
    assert row["parent"] == "urumqi"
    assert row["level"] == "district"
    assert row["kind"] == ("county" if name_zh.endswith("县") else "district")


def test_jurisdiction_catalogue_shape(jur):
    assert jur["member"].dtype == bool
    assert jur.index.is_unique
    assert (jur.loc[["changji-hitech", "changji-agripark"], "kind"] == "development_zone").all()
    assert jur.loc["div12", "kind"] == "division"
    assert not jur.loc["shawan", "member"]  # optional member, off by default
    # Both sides are first-class units.
    assert set(jur.loc[jur["level"] == "jurisdiction", "side"]) == {"地方", "兵团"}


def test_bad_catalogue_cell_names_line_and_column(tmp_path):
    text = (ROOT / "data" / "jurisdictions.csv").read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace(",true,", ",yes,")
    bad = tmp_path / "j.csv"
    bad.write_text("\n".join(text), encoding="utf-8")
    with pytest.raises(InputError, match="line 4") as err:
        region.jurisdictions(bad)
    assert err.value.column == "member"


# -------------------------------------------------------------------------------- stations

@pytest.fixture(scope="module")
def sta():
    return region.stations().set_index("code")


@pytest.mark.parametrize("code", list(STATIONS))
def test_station_as_in_region_md(sta, code):
    lon, lat, background, jurisdiction, district = STATIONS[code]
    row = sta.loc[code]
    assert (row["longitude"], row["latitude"]) == (lon, lat)
    assert row["background"] == background
    assert row["jurisdiction"] == jurisdiction
    assert row["district"] == district
    assert row["source"] == "cnemc"


def test_station_catalogue_covers_fixture_codes(sta):
    codes = set(pd.read_csv(FIXTURE_2022, dtype={"stationcode": str})["stationcode"])
    assert codes <= set(sta.index)


def test_station_jurisdiction_lookup():
    assert region.station_jurisdiction("1490A") == "urumqi"
    assert region.station_jurisdiction("4168A") == "wujiaqu"
    assert region.station_jurisdictions()["2709A"] == "shihezi"
    with pytest.raises(InputError, match="register_new_stations"):
        region.station_jurisdiction("0000X")


# ------------------------------------------------------------------------------ boundaries

def test_boundary_file_small_valid_complete():
    path = ROOT / "data" / "boundaries.geojson"
    assert path.stat().st_size < 300 * 1024
    gdf = region.boundaries()
    assert gdf.crs.to_epsg() == 4326
    assert set(gdf["id"]) == POLYGONS
    assert gdf.is_valid.all()
    assert shapely.coverage_is_valid(np.asarray(gdf.geometry.values, dtype=object))
    boundary_keys = set(region.jurisdictions()["boundary"]) - {""}
    assert boundary_keys == POLYGONS


def test_jurisdiction_level_dissolves_urumqi():
    districts = region.boundaries("district").to_crs(region.METRIC_CRS)
    units = region.boundaries("jurisdiction").to_crs(region.METRIC_CRS).set_index("id")
    assert "urumqi" in units.index and "urumqi-midong" not in units.index
    urumqi_km2 = districts.loc[districts["jurisdiction"] == "urumqi"].area.sum() / 1e6
    assert units.loc["urumqi"].geometry.area / 1e6 == pytest.approx(urumqi_km2, rel=1e-6)
    assert urumqi_km2 == pytest.approx(13770, rel=0.01)  # sum of the 8 cnmaps areas (sources.md §5)


def _pairs(frame):
    return {frozenset(p) for p in zip(frame["a"], frame["b"])}


def test_neighbour_pairs_jurisdiction_level():
    pairs = region.neighbour_pairs()
    found = _pairs(pairs)
    for a, b in [("urumqi", "wujiaqu"), ("urumqi", "changji"), ("shihezi", "manas"), ("changji", "wujiaqu")]:
        assert frozenset((a, b)) in found
    assert frozenset(("shihezi", "urumqi")) not in found
    assert frozenset(("shihezi", "changji")) not in found
    assert (pairs["shared_border_km"] > 1).all()
    assert len(found) == len(pairs)  # each pair once


def test_neighbour_pairs_district_level():
    found = _pairs(region.neighbour_pairs(level="district"))
    assert frozenset(("urumqi-midong", "wujiaqu")) in found
    assert frozenset(("urumqi-toutunhe", "changji")) in found
    assert frozenset(("urumqi-tianshan", "wujiaqu")) not in found


def test_neighbour_pairs_rejects_negative_buffer():
    with pytest.raises(InputError, match="buffer_m"):
        region.neighbour_pairs(buffer_m=-1)


def test_point_in_polygon_agrees_except_flagged_4168A():
    check = region.point_in_polygon_check().set_index("code")
    evaluation = check.loc[~check["background"]]
    disagree = evaluation.loc[~evaluation["agrees"]]
    assert list(disagree.index) == ["4168A"]
    assert disagree.loc["4168A", "polygon_jurisdiction"] == "changji"
    assert disagree.loc["4168A", "review_flag"] == "label-polygon-mismatch"
    assert (evaluation.loc[evaluation["agrees"], "review_flag"] == "").all()


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_boundaries", ROOT / "scripts" / "build_boundaries.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_boundaries_match_cnmaps():
    pytest.importorskip("cnmaps")
    build = _load_build_script()
    committed = region.boundaries().set_index("id").to_crs(region.METRIC_CRS)
    rebuilt = build.build().set_index("id").to_crs(region.METRIC_CRS)
    raw = build.raw_polygons().set_index("id").to_crs(region.METRIC_CRS)
    assert set(rebuilt.index) == set(committed.index) == set(raw.index)
    area = committed.area
    np.testing.assert_allclose(area, rebuilt.area.reindex(area.index), rtol=0.01)
    np.testing.assert_allclose(area, raw.area.reindex(area.index), rtol=0.01)  # simplification error


# ------------------------------------------------------------------------------ new stations

def test_register_new_stations_flags_and_locates():
    frame = pd.DataFrame({
        "station": ["1490A", "9001X", "9001X", "9002X", "9003X"],
        "time": pd.to_datetime(["2026-01-01 01:00", "2025-12-31 23:00", "2026-01-01 01:00",
                                "2026-01-01 01:00", "2026-01-01 01:00"]).tz_localize("Asia/Shanghai"),
        "station_name": ["监测站", "新站", "新站", "某地(对照点)", "远处"],
        "area": ["乌鲁木齐市", "石河子市", "石河子市", "五家渠市", "喀什地区"],
        "longitude": [87.58, 86.00, 86.05, 87.55, 75.99],
        "latitude": [43.83, 44.30, 44.30, 44.19, 39.47],
    })
    new = region.register_new_stations(frame).set_index("code")
    assert list(new.index) == ["9001X", "9002X", "9003X"]
    assert (new["review_flag"] == region.NEW_STATION_FLAG).all()
    assert new.loc["9001X", "jurisdiction"] == "shihezi"
    assert new.loc["9001X", "longitude"] == 86.05  # latest coordinates
    assert (new.loc["9001X", "active_from"], new.loc["9001X", "active_to"]) == (2025, 2026)
    assert new.loc["9002X", "jurisdiction"] == "wujiaqu" and new.loc["9002X", "background"]
    assert new.loc["9003X", "jurisdiction"] == "" and new.loc["9003X", "district"] == ""


def test_register_new_stations_empty_when_all_known():
    assert region.register_new_stations(pd.DataFrame({"station": ["1490A", "2709A"]})).empty


def test_save_stations_appends_atomically_never_drops(tmp_path):
    path = tmp_path / "stations.csv"
    path.write_bytes((ROOT / "data" / "stations.csv").read_bytes())
    before = region.stations(path)
    new = region.register_new_stations(pd.DataFrame({
        "station": ["9001X"], "station_name": ["新站"], "longitude": [86.05], "latitude": [44.30]}))
    known = before.loc[before["code"] == "1490A"].assign(name_en="changed")
    with pytest.warns(UserWarning, match="1490A"):
        written = region.save_stations(pd.concat([new, known]), path)
    after = region.stations(path)
    assert len(after) == len(before) + 1 == len(written)
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)  # untouched, incl. 1490A
    assert after.iloc[-1]["code"] == "9001X" and after.iloc[-1]["jurisdiction"] == "shihezi"
    assert [p.name for p in tmp_path.iterdir()] == ["stations.csv"]  # no temp file left


def test_save_stations_refuses_unknown_jurisdiction(tmp_path):
    path = tmp_path / "stations.csv"
    row = pd.DataFrame({"code": ["9001X"], "background": [False], "jurisdiction": ["atlantis"]})
    with pytest.raises(InputError, match="atlantis"):
        region.save_stations(row, path)
    assert not path.exists()


# ------------------------------------------------------------------------------ area means

@pytest.fixture
def hand_frame():
    """Two hours; 1492A is a background station; NaNs; 0000X is not in the catalogue."""
    t1, t2 = pd.Timestamp("2022-01-01 01:00", tz="Asia/Shanghai"), pd.Timestamp("2022-01-01 02:00", tz="Asia/Shanghai")
    rows = [
        # station, time, pm25, co
        ("1490A", t1, 100.0, 1.0),
        ("1491A", t1, 50.0, np.nan),
        ("1492A", t1, 400.0, 9.0),  # background: excluded
        ("1493A", t1, np.nan, 2.0),
        ("2711A", t1, 30.0, 0.5),
        ("3441A", t1, np.nan, np.nan),
        ("2709A", t1, 60.0, 0.7),
        ("2710A", t1, 90.0, 0.9),
        ("0000X", t1, 999.0, 99.0),  # not in catalogue: excluded, warned
        ("1490A", t2, 10.0, 0.4),
        ("2711A", t2, np.nan, np.nan),
    ]
    return pd.DataFrame(rows, columns=["station", "time", "pm25", "co"])


def _aggregate(frame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return region.aggregate(frame, **kw)


def test_aggregate_jurisdiction_hand_values(hand_frame):
    with pytest.warns(UserWarning, match="0000X"):
        out = region.aggregate(hand_frame)
    assert list(out.columns) == ["station", "time", "pm25", "co", "n_pm25", "n_co"]
    got = out.set_index(["station", out["time"].dt.hour])
    assert got.loc[("urumqi", 1), "pm25"] == pytest.approx((100 + 50) / 2)
    assert got.loc[("urumqi", 1), "co"] == pytest.approx((1.0 + 2.0) / 2)
    assert tuple(got.loc[("urumqi", 1), ["n_pm25", "n_co"]]) == (2, 2)
    assert got.loc[("wujiaqu", 1), "pm25"] == 30.0 and got.loc[("wujiaqu", 1), "n_pm25"] == 1
    assert got.loc[("shihezi", 1), "co"] == pytest.approx(0.8)
    assert got.loc[("urumqi", 2), "pm25"] == 10.0
    assert math.isnan(got.loc[("wujiaqu", 2), "pm25"]) and got.loc[("wujiaqu", 2), "n_pm25"] == 0
    assert list(out["station"].unique()) == ["urumqi", "wujiaqu", "shihezi"]  # display order


def test_aggregate_min_stations(hand_frame):
    got = _aggregate(hand_frame, min_stations=2).set_index(["station", "time"]).sort_index()
    wujiaqu = got.xs("wujiaqu", level="station").iloc[0]
    assert math.isnan(wujiaqu["pm25"]) and wujiaqu["n_pm25"] == 1
    assert got.xs("urumqi", level="station").iloc[0]["pm25"] == 75.0


def test_aggregate_sides_station_and_unit_weighted(hand_frame):
    by_station = _aggregate(hand_frame, level="side").set_index("station")
    corps = by_station.loc["side:corps"].iloc[0]  # 2711A 30, 2709A 60, 2710A 90
    assert corps["pm25"] == pytest.approx(60.0) and corps["n_pm25"] == 3
    assert by_station.loc["side:local"].iloc[0]["pm25"] == pytest.approx(75.0)

    by_unit = _aggregate(hand_frame, level="side", weights="unit").set_index("station")
    corps = by_unit.loc["side:corps"].iloc[0]  # mean(wujiaqu 30, shihezi 75)
    assert corps["pm25"] == pytest.approx(52.5) and corps["n_pm25"] == 3

    whole = _aggregate(hand_frame, level="region").iloc[0]
    assert whole["station"] == region.REGION_ID
    assert whole["pm25"] == pytest.approx((100 + 50 + 30 + 60 + 90) / 5) and whole["n_pm25"] == 5
    assert _aggregate(hand_frame, level="region", jurisdictions=["urumqi"]).iloc[0]["pm25"] == 75.0


def test_aggregate_real_fixture_first_hour():
    raw = pd.read_csv(FIXTURE_2022, dtype={"stationcode": str})
    frame = pd.DataFrame({"station": raw["stationcode"], "time": raw["timepoint"], "pm25": raw["pm2_5"]})
    first = frame.loc[frame["time"] == "2022-01-01T00:00:00"]
    got = region.aggregate(first).set_index("station")
    # Urumqi: 9 evaluation stations (1492A background; 1496A empty at T00).
    assert got.loc["urumqi", "n_pm25"] == 9
    assert got.loc["urumqi", "pm25"] == pytest.approx((174 + 168 + 196 + 201 + 2 + 36 + 72 + 146 + 213) / 9)
    assert got.loc["changji", "pm25"] == pytest.approx((203 + 217) / 2)
    assert got.loc["wujiaqu", "pm25"] == pytest.approx((210 + 224) / 2)
    assert "fukang" not in got.index  # only the 天山天池 background station
    sides = region.aggregate(first, level="side").set_index("station")
    assert sides.loc["side:corps", "pm25"] == pytest.approx((210 + 224 + 205 + 289 + 136) / 5)


@pytest.mark.parametrize("kw, match", [
    ({"level": "city"}, "level"),
    ({"weights": "area"}, "weights"),
    ({"min_stations": 0}, "min_stations"),
    ({"jurisdictions": ["atlantis"]}, "atlantis"),
    ({"pollutants": ["pm1"]}, "pm1"),
], ids=["level", "weights", "min_stations", "jurisdictions", "pollutants"])
def test_aggregate_rejects_bad_options(hand_frame, kw, match):
    with pytest.raises(InputError, match=match):
        region.aggregate(hand_frame, **kw)
