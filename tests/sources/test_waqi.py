"""WAQI live overlay: exact request, US-AQI parsing, no caching, token hygiene (local server only)."""

from __future__ import annotations

import pandas as pd
import pytest

from regionair.core.nomenclature import TZ
from regionair.errors import InputError, SourceError
from regionair.sources.waqi import get_waqi_bounds, waqi_token
from tests.httpfake import RECORDED, FakeServer, fast_client, ok

REC = RECORDED / "waqi"


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def test_bounds_request_and_parse(server, tmp_path):
    server.script("/map/bounds", ok((REC / "map_bounds.json").read_bytes(), "application/json"))
    client = fast_client(cache_dir=tmp_path)
    f = get_waqi_bounds("T0KEN", client=client, url=server.url + "/map/bounds")
    (req,) = server.requests
    assert req.query == [("latlng", "42.9,85.5,45.4,89"), ("networks", "all"), ("token", "T0KEN")]
    assert f["uid"].tolist() == [1234, 5678]
    assert f["aqi_us"].iloc[0] == 178 and pd.isna(f["aqi_us"].iloc[1])
    assert f["time"].iloc[0] == pd.Timestamp("2024-02-11 14:00", tz=TZ)
    assert "US EPA" in f.attrs["scale"] and "World Air Quality Index" in f.attrs["attribution"]
    assert list(tmp_path.rglob("*")) == []  # never cached (WAQI terms)


def test_token_from_environment_and_missing(monkeypatch, server):
    monkeypatch.delenv("WAQI_TOKEN", raising=False)
    assert waqi_token() is None
    with pytest.raises(InputError, match="WAQI_TOKEN"):
        get_waqi_bounds(client=fast_client(), url=server.url + "/map/bounds")
    monkeypatch.setenv("WAQI_TOKEN", "envtok")
    server.script("/map/bounds", ok((REC / "map_bounds.json").read_bytes(), "application/json"))
    get_waqi_bounds(client=fast_client(), url=server.url + "/map/bounds")
    assert server.requests[0].params["token"] == "envtok"


def test_error_status_does_not_leak_token(server):
    server.script("/map/bounds", ok((REC / "invalid_key.json").read_bytes(), "application/json"))
    with pytest.raises(SourceError, match="Invalid key") as err:
        get_waqi_bounds("s3cret", client=fast_client(), url=server.url + "/map/bounds")
    assert "s3cret" not in str(err.value)


def test_bad_bbox():
    with pytest.raises(InputError, match="bbox"):
        get_waqi_bounds("t", bbox=(89, 45, 85, 42), client=fast_client())
