"""The shared HTTP layer: retries with injected sleep, Retry-After, pacing, budget, POST safety, redaction."""

from __future__ import annotations

import pytest
import requests
from helpers_http import FakeAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from sheetsync.apis.http import (
    HttpClient,
    RequestStats,
    RetryPolicy,
    build_query,
    error_for_response,
    parse_retry_after,
    redact_headers,
    redact_url,
)
from sheetsync.errors import AmbiguousOutcomeError, RateLimitedError, ServerError

URL = "http://api.test/api/v1/products?PageSize=500"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make(script, **kw):
    adapter = FakeAdapter(script)
    clock = Clock()
    client = HttpClient(
        session=adapter.session(), sleep=clock.sleep, clock=clock, request_id_header="X-Request-Id", **kw
    )
    return client, adapter, clock


def refused() -> requests.ConnectionError:
    return requests.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused")))


def dropped() -> requests.ConnectionError:
    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))


def test_stats_record_and_totals():
    stats = RequestStats()
    stats.record("products", pages=1)
    stats.record("products", retries=2, not_modified=1)
    stats.record("customers", pages=1, requests=0)
    assert stats.as_dict() == {
        "customers": {"requests": 0, "pages": 1, "retries": 0, "not_modified": 0},
        "products": {"requests": 4, "pages": 1, "retries": 2, "not_modified": 1},
    }
    assert stats.total_requests == 4


def test_get_retried_on_500_and_429_honouring_retry_after():
    client, adapter, clock = make([(500, {}), (429, {}, {"Retry-After": "7"}), (200, {"Data": []})])
    response = client.send("GET", URL, endpoint="products")
    assert response.status_code == 200
    assert len(adapter.sent) == 3
    assert clock.slept[1] >= 7
    assert all(s < 60 for s in clock.slept)
    assert client.stats.as_dict()["products"] == {"requests": 3, "pages": 0, "retries": 2, "not_modified": 0}


def test_each_attempt_gets_a_short_alphanumeric_request_id():
    client, adapter, _ = make([(500, {}), (200, {})])
    client.send("GET", URL, endpoint="products")
    ids = [r.headers["X-Request-Id"] for r in adapter.sent]
    assert all(i.isalnum() and 8 <= len(i) <= 32 for i in ids)
    assert ids[0] != ids[1]


def test_retries_are_bounded_and_final_response_returned():
    client, adapter, _ = make([(503, {})] * 3, retry=RetryPolicy(max_retries=2))
    assert client.send("GET", URL, endpoint="products").status_code == 503
    assert len(adapter.sent) == 3


def test_backoff_grows_exponentially_with_jitter():
    policy = RetryPolicy(base=1, cap=100)
    for attempt in range(1, 6):
        ceiling = 2 ** (attempt - 1)
        assert ceiling / 2 <= policy.backoff(attempt) <= ceiling


def test_long_retry_after_is_not_waited_for():
    client, _adapter, clock = make([(429, {"Error": "quota"}, {"Retry-After": "3600"})])
    response = client.send("GET", URL, endpoint="products")
    assert response.status_code == 429 and clock.slept == []
    error = error_for_response(response, endpoint="products", api_message="quota", clock=clock)
    assert isinstance(error, RateLimitedError)
    assert error.recovers_at is not None and "quota recovers at" in str(error)


def test_connection_errors_retried_for_get_then_server_error():
    client, adapter, _ = make([refused(), dropped(), refused()], retry=RetryPolicy(max_retries=2))
    with pytest.raises(ServerError, match="could not reach"):
        client.send("GET", URL, endpoint="products")
    assert len(adapter.sent) == 3


@pytest.mark.parametrize("failure", [dropped(), requests.ReadTimeout("read timed out")])
def test_post_never_retried_and_ambiguous_after_sending(failure):
    client, adapter, _ = make([failure, (200, {})])
    with pytest.raises(AmbiguousOutcomeError, match="may or may not"):
        client.send("POST", URL, endpoint="payments/applications/requested")
    assert len(adapter.sent) == 1


def test_post_refused_connection_is_safe_server_error():
    client, _adapter, _ = make([refused()])
    with pytest.raises(ServerError) as info:
        client.send("POST", URL, endpoint="payments/applications/requested")
    assert not isinstance(info.value, AmbiguousOutcomeError)


def test_post_not_retried_on_500():
    client, adapter, _ = make([(500, {}), (200, {})])
    assert client.send("POST", URL, endpoint="x").status_code == 500
    assert len(adapter.sent) == 1


def test_pacing_waits_for_short_reset_and_refuses_long_one():
    client, adapter, clock = make(
        [
            (200, {}, {"RateLimit-Remaining": "0", "RateLimit-Reset": "5"}),
            (200, {}),
            (200, {}, {"RateLimit-Remaining": "0", "RateLimit-Reset": "900"}),
        ]
    )
    client.send("GET", URL, endpoint="products")
    client.send("GET", URL, endpoint="products")
    assert clock.slept == [5]
    client.send("GET", URL, endpoint="products")
    with pytest.raises(RateLimitedError, match="quota recovers at"):
        client.send("GET", URL, endpoint="products")
    assert len(adapter.sent) == 3


def test_client_side_budget():
    client, _adapter, clock = make([(200, {})] * 3, requests_per_hour=2)
    client.send("GET", URL, endpoint="products")
    client.send("GET", URL, endpoint="products")
    with pytest.raises(RateLimitedError, match="budget of 2 requests/hour"):
        client.send("GET", URL, endpoint="products")
    clock.now += 3601
    client.send("GET", URL, endpoint="products")


def test_build_query_keeps_commas_literal():
    assert build_query([("CustomerIDs", "1,2,3"), ("Name", "a b&c"), ("T", "2025-01-01T00:00:00Z")]) == (
        "CustomerIDs=1,2,3&Name=a%20b%26c&T=2025-01-01T00:00:00Z"
    )


def test_redaction():
    shown = redact_headers({"x-api-key": "sekrit", "Authorization": "Bearer t", "Accept": "json"})
    assert shown == {"x-api-key": "****", "Authorization": "****", "Accept": "json"}
    assert "sekrit" not in redact_url("http://h/p?api_key=sekrit&States=CA,NJ")
    assert "States=CA,NJ" in redact_url("http://h/p?api_key=sekrit&States=CA,NJ")


def test_parse_retry_after():
    assert parse_retry_after("12") == 12
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 10) == 10
