"""Open-Meteo loaders: exact parameters, parsing, units, run time — recorded payloads on a local server."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import requests

from regionair.core.nomenclature import TZ
from regionair.errors import InputError, SourceError
from regionair.sources import openmeteo as om
from tests.httpfake import RECORDED, fast_client, ok, status

REC = RECORDED / "openmeteo"
POINTS = [("urumqi", 43.8256, 87.6168), ("changji", 44.0112, 87.3086)]
AQ_TWO = json.loads((REC / "air_quality_two_points.json").read_text(encoding="utf-8"))
AQ_ONE = json.loads((REC / "air_quality_one_point.json").read_text(encoding="utf-8"))
META = (REC / "cams_global_meta.json").read_text()
RUN = pd.Timestamp("2022-01-01T00:00Z")


def test_air_quality_params_exact():
    params = om.air_quality_params(POINTS, past_days=1, forecast_days=7)
    assert params == {
        "latitude": "43.8256,44.0112",
        "longitude": "87.6168,87.3086",
        "hourly": "pm10,pm2_5,carbon_monoxide,nitrogen_dioxide,sulphur_dioxide,ozone,dust,aerosol_optical_depth",
        "timezone": "Asia/Shanghai",
        "domains": "cams_global",
        "past_days": 1,
        "forecast_days": 7,
    }
    url = requests.Request("GET", om.AIR_QUALITY_URL, params=params).prepare().url
    assert url == (
        "https://air-quality-api.open-meteo.com/v1/air-quality?latitude=43.8256%2C44.0112"
        "&longitude=87.6168%2C87.3086&hourly=pm10%2Cpm2_5%2Ccarbon_monoxide%2Cnitrogen_dioxide%2C"
        "sulphur_dioxide%2Cozone%2Cdust%2Caerosol_optical_depth&timezone=Asia%2FShanghai&domains=cams_global"
        "&past_days=1&forecast_days=7"
    )


def test_air_quality_params_dates_and_defaults():
    p = om.air_quality_params(POINTS[:1], start_date="2024-01-01", end_date="2024-01-31")
    assert list(p)[-2:] == ["start_date", "end_date"] and p["start_date"] == "2024-01-01"
    assert "past_days" not in p
    d = om.air_quality_params(POINTS[:1])
    assert (d["past_days"], d["forecast_days"]) == (0, 5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"forecast_days": 8}, "forecast_days must be an integer 0–7"),
        ({"past_days": 93}, "past_days"),
        ({"start_date": "2024-01-01"}, "both start_date and end_date"),
        ({"start_date": "2024-01-02", "end_date": "2024-01-01"}, "before start_date"),
        ({"start_date": "2024-01-01", "end_date": "2024-01-02", "past_days": 1}, "not both"),
    ],
    ids=["fc8", "past93", "half-dates", "reversed", "mixed"],
)
def test_air_quality_params_validation(kwargs, match):
    with pytest.raises(InputError, match=match):
        om.air_quality_params(POINTS, **kwargs)


@pytest.mark.parametrize("points", [[], [("a", 95, 87)], [("a", 43, 87), ("a", 44, 87)], [("a", 43)]],
                         ids=["empty", "lat-range", "dup-id", "short"])
def test_bad_points(points):
    with pytest.raises(InputError):
        om.air_quality_params(points)


def test_cams_before_august_2022_warns():
    with pytest.warns(om.OpenMeteoWarning, match="August 2022"):
        om.air_quality_params(POINTS, start_date="2022-01-01", end_date="2022-01-02")


def test_parse_air_quality_two_points():
    f = om.parse_air_quality(AQ_TWO, POINTS, RUN)
    assert list(f.columns) == ["point", "time", "pm25", "pm10", "so2", "no2", "o3", "co", "dust", "aod", "model",
                               "run_time", "source"]
    assert len(f) == 8
    assert str(f["time"].dtype) == "datetime64[ns, Asia/Shanghai]"
    first = f.iloc[0]
    assert first["point"] == "changji" and first["time"] == pd.Timestamp("2022-01-01 00:00", tz=TZ)
    u = f[f.point == "urumqi"].set_index("time")
    t0 = pd.Timestamp("2022-01-01 00:00", tz=TZ)
    assert u.loc[t0, "pm25"] == 96.4 and u.loc[t0, "so2"] == 21.4 and u.loc[t0, "aod"] == 0.61
    assert u.loc[t0, "co"] == pytest.approx(1.83)  # 1830 µg/m³ → 1.83 mg/m³
    assert u.loc[pd.Timestamp("2022-01-01 02:00", tz=TZ), ["pm25", "co"]].isna().all()  # null → NaN
    assert (f["model"] == "cams_global").all() and (f["source"] == "open-meteo").all()
    assert (f["run_time"] == pd.Timestamp("2022-01-01 08:00", tz=TZ)).all()
    assert "station" not in f.columns  # model data can never be mixed with measurements
    assert f.attrs["grid"]["urumqi"] == {"latitude": 43.8, "longitude": 87.6, "elevation": 921.0}


def test_parse_air_quality_single_object():
    f = om.parse_air_quality(AQ_ONE, POINTS[:1], RUN)
    assert f["point"].unique().tolist() == ["urumqi"] and len(f) == 4


def test_parse_refuses_wrong_timezone_and_units():
    bad = json.loads(json.dumps(AQ_ONE))
    bad["utc_offset_seconds"] = 21600
    bad["timezone"] = "Asia/Urumqi"
    with pytest.raises(SourceError, match="not Beijing time"):
        om.parse_air_quality(bad, POINTS[:1], RUN)
    bad = json.loads(json.dumps(AQ_ONE))
    bad["hourly_units"]["carbon_monoxide"] = "mg/m³"
    with pytest.raises(SourceError, match="carbon_monoxide"):
        om.parse_air_quality(bad, POINTS[:1], RUN)


def test_parse_refuses_error_object_count_mismatch_and_ragged_arrays():
    with pytest.raises(SourceError, match="Cannot initialize"):
        om.parse_air_quality({"error": True, "reason": "Cannot initialize WeatherVariable"}, POINTS[:1], RUN)
    with pytest.raises(SourceError, match="2 location"):
        om.parse_air_quality(AQ_TWO, POINTS[:1], RUN)
    bad = json.loads(json.dumps(AQ_ONE))
    bad["hourly"]["ozone"] = [1.0]
    with pytest.raises(SourceError, match="ozone has 1 values for 4 times"):
        om.parse_air_quality(bad, POINTS[:1], RUN)


def test_parse_missing_variable_warns_and_stays_nan():
    bad = json.loads(json.dumps(AQ_ONE))
    del bad["hourly"]["dust"]
    with pytest.warns(om.OpenMeteoWarning, match="dust"):
        f = om.parse_air_quality(bad, POINTS[:1], RUN)
    assert f["dust"].isna().all()


def test_parse_requires_aware_run_time():
    with pytest.raises(InputError, match="timezone-aware"):
        om.parse_air_quality(AQ_ONE, POINTS[:1], "2022-01-01 00:00")
    assert om.parse_air_quality(AQ_ONE, POINTS[:1], None)["run_time"].isna().all()


def test_get_air_quality_sends_exact_request_and_records_run(server):
    server.script("/v1/air-quality", ok(json.dumps(AQ_TWO), "application/json"))
    server.script("/data/cams_global/static/meta.json", ok(META, "application/json"))
    f = om.get_air_quality(POINTS, client=fast_client(), past_days=1, forecast_days=3,
                           url=server.url + "/v1/air-quality", meta_url=server.url + "/data/cams_global/static/meta.json")
    assert [r.path for r in server.requests] == ["/data/cams_global/static/meta.json", "/v1/air-quality",
                                                 "/data/cams_global/static/meta.json"]
    assert server.requests[1].query == [
        ("latitude", "43.8256,44.0112"), ("longitude", "87.6168,87.3086"),
        ("hourly", "pm10,pm2_5,carbon_monoxide,nitrogen_dioxide,sulphur_dioxide,ozone,dust,aerosol_optical_depth"),
        ("timezone", "Asia/Shanghai"), ("domains", "cams_global"), ("past_days", "1"), ("forecast_days", "3"),
    ]
    assert (f["run_time"] == pd.Timestamp("2022-01-01T00:00Z")).all()


def test_get_air_quality_refetches_when_a_new_run_lands(server):
    newer = json.loads(META)
    newer["last_run_initialisation_time"] += 43200
    server.script("/meta.json", ok(META, "application/json"), ok(json.dumps(newer), "application/json"))
    server.script("/aq", ok(json.dumps(AQ_ONE), "application/json"))
    f = om.get_air_quality(POINTS[:1], client=fast_client(), url=server.url + "/aq", meta_url=server.url + "/meta.json")
    assert [r.path for r in server.requests] == ["/meta.json", "/aq", "/meta.json", "/aq"]
    assert (f["run_time"] == pd.Timestamp("2022-01-01T12:00Z")).all()


def test_get_air_quality_without_metadata_warns(server):
    server.script("/aq", ok(json.dumps(AQ_ONE), "application/json"))
    with pytest.warns(om.OpenMeteoWarning, match="retrieval time"):
        f = om.get_air_quality(POINTS[:1], client=fast_client(retries=0), url=server.url + "/aq",
                               meta_url=server.url + "/missing-meta.json")
    assert f["run_time"].notna().all()


def test_get_air_quality_400_reason(server):
    server.script("/aq", status(400, json.dumps({"error": True, "reason": "Latitude must be in range of -90 to 90°."}),
                                content_type="application/json"))
    with pytest.raises(SourceError, match="Latitude must be in range") as err:
        om.get_air_quality(POINTS[:1], client=fast_client(), url=server.url + "/aq", run_time=RUN)
    assert err.value.status == 400


# --------------------------------------------------------------------------- weather


def test_weather_params_exact():
    assert om.weather_params(POINTS[:1], past_days=2, forecast_days=16) == {
        "latitude": "43.8256", "longitude": "87.6168",
        "hourly": "wind_speed_10m,wind_direction_10m,temperature_2m,relative_humidity_2m,boundary_layer_height",
        "wind_speed_unit": "ms", "timezone": "Asia/Shanghai", "past_days": 2, "forecast_days": 16,
    }
    a = om.weather_params(POINTS[:1], api="archive", start_date="2022-01-01", end_date="2022-12-31")
    assert (a["start_date"], a["end_date"]) == ("2022-01-01", "2022-12-31")
    with pytest.raises(InputError, match="start_date and end_date"):
        om.weather_params(POINTS[:1], api="archive")
    with pytest.raises(InputError, match="0–16"):
        om.weather_params(POINTS[:1], forecast_days=17)
    with pytest.raises(InputError, match="api"):
        om.weather_params(POINTS[:1], api="climate")


def test_get_weather_forecast(server):
    server.script("/v1/forecast", ok((REC / "forecast_weather_two_points.json").read_bytes(), "application/json"))
    f = om.get_weather(POINTS, client=fast_client(), past_days=1, forecast_days=2, url=server.url + "/v1/forecast",
                       run_time=RUN)
    (req,) = server.requests
    assert req.params == {
        "latitude": "43.8256,44.0112", "longitude": "87.6168,87.3086",
        "hourly": "wind_speed_10m,wind_direction_10m,temperature_2m,relative_humidity_2m,boundary_layer_height",
        "wind_speed_unit": "ms", "timezone": "Asia/Shanghai", "past_days": "1", "forecast_days": "2",
    }
    assert list(f.columns) == ["point", "time", "wind_speed", "wind_direction", "temperature", "rh", "blh",
                               "run_time", "source"]
    u = f[f.point == "urumqi"].iloc[0]
    assert (u["wind_speed"], u["wind_direction"], u["temperature"], u["rh"], u["blh"]) == (1.2, 135, -18.3, 82, 45)
    assert (f["source"] == "open-meteo-forecast").all()


def test_get_weather_archive_without_blh(server):
    server.script("/v1/archive", ok((REC / "archive_weather_no_blh.json").read_bytes(), "application/json"))
    with pytest.warns(om.OpenMeteoWarning, match="boundary_layer_height"):
        f = om.get_weather(POINTS[:1], client=fast_client(), api="archive", start_date="2022-01-01",
                           end_date="2022-01-01", url=server.url + "/v1/archive")
    assert f["blh"].isna().all() and f["run_time"].isna().all()
    assert (f["source"] == "open-meteo-archive").all()
    assert server.requests[0].params["start_date"] == "2022-01-01"


def test_get_weather_retries_without_blh_when_rejected(server):
    reject = status(400, json.dumps({"error": True, "reason": "Cannot initialize WeatherVariable from invalid "
                                     "String value boundary_layer_height for key hourly"}), content_type="application/json")
    server.script("/v1/archive", reject, ok((REC / "archive_weather_no_blh.json").read_bytes(), "application/json"))
    with pytest.warns(om.OpenMeteoWarning, match="does not offer boundary_layer_height"):
        f = om.get_weather(POINTS[:1], client=fast_client(), api="archive", start_date="2022-01-01",
                           end_date="2022-01-01", url=server.url + "/v1/archive")
    hourly = [r.params["hourly"] for r in server.requests]
    assert hourly == ["wind_speed_10m,wind_direction_10m,temperature_2m,relative_humidity_2m,boundary_layer_height",
                      "wind_speed_10m,wind_direction_10m,temperature_2m,relative_humidity_2m"]
    assert len(f) == 4 and np.isnan(f["blh"]).all()


def test_wind_speed_in_kmh_is_converted():
    payload = json.loads((REC / "archive_weather_no_blh.json").read_text(encoding="utf-8"))
    payload["hourly_units"]["wind_speed_10m"] = "km/h"
    payload["hourly"]["wind_speed_10m"] = [3.6, 7.2, 0.0, None]
    payload["hourly"]["boundary_layer_height"] = [1, 2, 3, 4]
    f = om.parse_weather(payload, POINTS[:1])
    assert f["wind_speed"].tolist()[:3] == pytest.approx([1.0, 2.0, 0.0]) and np.isnan(f["wind_speed"].iloc[3])
