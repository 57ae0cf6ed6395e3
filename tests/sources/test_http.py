"""HttpClient against a real local HTTP server with injected faults (no external host is contacted)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from regionair.errors import InputError, NotPublished, SourceError
from regionair.sources.http import HttpClient, default_user_agent, parse_retry_after, redact_url
from tests.httpfake import SleepRecorder, fast_client, ok, reset, slow, status, truncated

CSV = b"timepoint,stationcode\n2022-01-01T00:00:00,1490A\n"


def test_success_sends_exact_url_params_and_user_agent(server):
    server.script("/data/x.csv", ok(CSV))
    client = fast_client()
    body = client.get(server.url + "/data/x.csv", {"b": "2", "a": "1,2"})
    assert body == CSV
    (req,) = server.requests
    assert req.path == "/data/x.csv"
    assert req.query == [("b", "2"), ("a", "1,2")]
    assert req.headers["User-Agent"].startswith("RegionAir/0.1.0 (+air-quality dashboard; contact: ")
    assert client.sleeps.calls == []


def test_user_agent_contact_from_environment(monkeypatch):
    monkeypatch.setenv("REGIONAIR_CONTACT", "ops@example.org")
    assert default_user_agent().endswith("contact: ops@example.org)")
    monkeypatch.delenv("REGIONAIR_CONTACT")
    assert default_user_agent().endswith("contact: set REGIONAIR_CONTACT)")


def test_404_is_not_published_and_not_retried(server):
    client = fast_client()
    with pytest.raises(NotPublished) as err:
        client.get(server.url + "/missing.csv")
    assert err.value.status == 404
    assert err.value.url == server.url + "/missing.csv"
    assert server.count() == 1
    assert client.stats.not_published == 1


@pytest.mark.parametrize("codes", [(500,), (502,), (503,), (500, 502, 503)], ids=["500", "502", "503", "500-502-503"])
def test_5xx_then_success_backs_off_exponentially(server, codes):
    server.script("/f.csv", *[status(c, "oops") for c in codes], ok(CSV))
    client = fast_client(backoff=1.0, retries=4)
    assert client.get(server.url + "/f.csv") == CSV
    assert server.count("/f.csv") == len(codes) + 1
    assert client.sleeps.calls == [1.0, 2.0, 4.0][: len(codes)]
    assert client.stats.retries == len(codes)


def test_retries_are_bounded(server):
    server.script("/f.csv", status(503, "down"))
    client = fast_client(retries=2, backoff=0.5)
    with pytest.raises(SourceError) as err:
        client.get(server.url + "/f.csv")
    assert server.count("/f.csv") == 3
    assert client.sleeps.calls == [0.5, 1.0]
    assert err.value.status == 503
    assert "giving up after 3 attempt(s)" in str(err.value)
    assert client.stats.failures == 1


def test_backoff_jitter_and_cap():
    sleeper = SleepRecorder()
    client = HttpClient(backoff=2.0, max_backoff=5.0, jitter=lambda: 0.5, sleep=sleeper)
    assert [client._backoff_delay(n) for n in range(4)] == [3.0, 5.0, 6.0, 6.0]


def test_429_honours_retry_after_seconds(server):
    server.script("/f.csv", status(429, "slow down", {"Retry-After": "7"}), ok(CSV))
    client = fast_client()
    assert client.get(server.url + "/f.csv") == CSV
    assert client.sleeps.calls == [7.0]


def test_429_honours_retry_after_http_date(server):
    when = "Wed, 21 Oct 2015 07:28:00 GMT"  # in the past → retry at once
    server.script("/f.csv", status(429, "", {"Retry-After": when}), ok(CSV))
    client = fast_client()
    assert client.get(server.url + "/f.csv") == CSV
    assert client.sleeps.calls == [0.0]


def test_retry_after_longer_than_cap_gives_up_at_once(server):
    server.script("/f.csv", status(429, "", {"Retry-After": "3600"}), ok(CSV))
    client = fast_client(max_retry_after=120)
    with pytest.raises(SourceError) as err:
        client.get(server.url + "/f.csv")
    assert server.count("/f.csv") == 1
    assert err.value.status == 429
    assert "3600 s" in str(err.value) and "try again later" in str(err.value)
    assert client.sleeps.calls == []


def test_parse_retry_after():
    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_read_timeout_is_retried(server):
    server.script("/f.csv", slow(1.5), ok(CSV))
    client = fast_client(base_timeout=(1.0, 0.3))
    assert client.get(server.url + "/f.csv") == CSV
    assert server.count("/f.csv") == 2
    assert client.sleeps.calls == [1.0]


def test_timeouts_exhaust_retries(server):
    server.script("/f.csv", slow(1.0))
    client = fast_client(base_timeout=(1.0, 0.2), retries=1)
    with pytest.raises(SourceError) as err:
        client.get(server.url + "/f.csv")
    assert "timed out" in str(err.value)
    assert server.count("/f.csv") == 2


def test_connection_reset_is_retried(server):
    server.script("/f.csv", reset(), ok(CSV))
    client = fast_client()
    assert client.get(server.url + "/f.csv") == CSV
    assert server.count("/f.csv") == 2
    assert client.sleeps.calls == [1.0]


def test_truncated_body_is_retried_then_refused(server):
    server.script("/f.csv", truncated(CSV[:20], declared=len(CSV)), ok(CSV))
    client = fast_client()
    assert client.get(server.url + "/f.csv") == CSV
    assert server.count("/f.csv") == 2

    server.script("/g.csv", truncated(CSV[:20], declared=len(CSV)))
    client = fast_client(retries=2)
    with pytest.raises(SourceError) as err:
        client.get(server.url + "/g.csv")
    assert "truncated" in str(err.value)
    assert server.count("/g.csv") == 3


def test_truncated_body_is_never_cached(server, tmp_path):
    server.script("/g.csv", truncated(CSV[:20], declared=len(CSV)))
    client = fast_client(retries=0, cache_dir=tmp_path)
    with pytest.raises(SourceError):
        client.get(server.url + "/g.csv", cache_key="x/g.csv", immutable=True)
    assert list(tmp_path.rglob("*")) == []


def test_html_error_page_is_refused_without_retry(server):
    page = "<!DOCTYPE html><html><body>Rate limit exceeded</body></html>"
    server.script("/f.csv", ok(page, content_type="text/html; charset=utf-8"))
    client = fast_client()
    with pytest.raises(SourceError) as err:
        client.get(server.url + "/f.csv", expect="csv")
    assert "HTML page where csv was expected" in str(err.value)
    assert server.count("/f.csv") == 1


def test_html_sniffed_even_with_wrong_content_type(server):
    server.script("/f.csv", ok("\n  <html><head><title>502</title></head></html>", content_type="text/plain"))
    with pytest.raises(SourceError, match="HTML page"):
        fast_client().get(server.url + "/f.csv")


def test_400_reports_server_reason_without_retry(server):
    payload = json.dumps({"error": True, "reason": "Parameter 'forecast_days' must not exceed 7"})
    server.script("/v1/air-quality", status(400, payload, content_type="application/json"))
    client = fast_client()
    with pytest.raises(SourceError) as err:
        client.get_json(server.url + "/v1/air-quality", {"forecast_days": 9})
    assert err.value.status == 400
    assert "must not exceed 7" in str(err.value)
    assert server.count() == 1


def test_get_json_invalid_body(server):
    server.script("/x.json", ok("{not json", content_type="application/json"))
    with pytest.raises(SourceError, match="not valid JSON"):
        fast_client().get_json(server.url + "/x.json")


def test_secret_params_are_redacted_in_errors(server):
    server.script("/map/bounds", status(500, "boom"))
    client = fast_client(retries=0)
    with pytest.raises(SourceError) as err:
        client.get(server.url + "/map/bounds", {"latlng": "42.9,85.5,45.4,89.0", "token": "s3cr3t"})
    assert "s3cr3t" not in str(err.value) and "s3cr3t" not in err.value.url
    assert "token=***" in err.value.url
    assert redact_url("https://h/p?a=1&apikey=k&b=2") == "https://h/p?a=1&apikey=***&b=2"


def test_immutable_responses_are_cached_atomically(server, tmp_path):
    server.script("/Archive/2022-01-01/2022-01-01T00.csv", ok(CSV))
    client = fast_client(cache_dir=tmp_path)
    url = server.url + "/Archive/2022-01-01/2022-01-01T00.csv"
    key = "cnemc-archive/2022-01-01/2022-01-01T00.csv"
    assert client.get(url, cache_key=key, immutable=True) == CSV
    assert client.get(url, cache_key=key, immutable=True) == CSV
    assert server.count() == 1
    assert client.stats.cache_hits == 1
    assert (tmp_path / key).read_bytes() == CSV
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["2022-01-01T00.csv"]  # no .part left
    # mutable requests always go to the server
    client.get(url, cache_key=key)
    assert server.count() == 2
    client.evict(key)
    assert not client.cached(key)


def test_404_is_not_cached(server, tmp_path):
    client = fast_client(cache_dir=tmp_path)
    for _ in range(2):
        with pytest.raises(NotPublished):
            client.get(server.url + "/nope.csv", cache_key="nope.csv", immutable=True)
    assert server.count() == 2


@pytest.mark.parametrize("key", ["../x.csv", "/abs.csv", "a//b.csv", "a/./b", "bad key.csv"])
def test_unsafe_cache_keys_are_refused(tmp_path, key):
    with pytest.raises(InputError, match="unsafe cache key"):
        HttpClient(cache_dir=tmp_path).cache_path(key)


def test_polite_min_interval(server):
    server.script("/f.csv", ok(CSV))
    sleeper = SleepRecorder()
    client = fast_client(min_interval=0.5, sleep=sleeper, clock=lambda: 100.0)
    for _ in range(3):
        client.get(server.url + "/f.csv")
    assert sleeper.calls == [0.5, 0.5]


def test_oversized_body_is_refused(server):
    server.script("/big.csv", ok(b"x" * 5000))
    with pytest.raises(SourceError, match="larger than 1000 bytes"):
        fast_client(max_bytes=1000).get(server.url + "/big.csv")


def test_bad_constructor_arguments():
    with pytest.raises(InputError):
        HttpClient(retries=-1)
    with pytest.raises(InputError):
        HttpClient(base_timeout=(0, 5))
