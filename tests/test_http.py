"""The shared HTTP layer: retries with injected sleep, Retry-After, pacing, budget, POST safety, redaction."""

from __future__ import annotations

from typing import ClassVar

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


# ---- the one retry policy, through each API's client ---------------------------------------------
class CountingHttp(HttpClient):
    """An injected HTTP layer (the `http_client=` seam): counts the logical requests it is asked for."""

    logical: ClassVar[list[str]] = []

    def send(self, method: str, url: str, **kw) -> requests.Response:  # type: ignore[no-untyped-def,override]
        CountingHttp.logical.append(f"{method.upper()} {kw['endpoint']}")
        return super().send(method, url, **kw)


def kss_client(adapter: FakeAdapter, slept: list[float]):
    from sheetsync.apis.kss import KssClient

    return KssClient(
        "http://kss.test/api/v1", "k" * 20, session=adapter.session(), sleep=slept.append, http_client=CountingHttp
    )


def kotis_client(adapter: FakeAdapter, slept: list[float]):
    from sheetsync.apis.kotis import KotisClient

    return KotisClient(
        "http://kwf.test/api/v1",
        "http://stores.test/api/v1",
        "k",
        session=adapter.session(),
        sleep=slept.append,
        http_client=CountingHttp,
    )


def sheets_client(adapter: FakeAdapter, slept: list[float]):
    from google.auth.credentials import AnonymousCredentials

    from sheetsync.sinks.gsheets_client import SheetsClient

    return SheetsClient(
        AnonymousCredentials(), "SHEET-1", session=adapter.session(), sleep=slept.append, http_client=CountingHttp
    )


def kss_post(client) -> object:
    from decimal import Decimal

    return client.request_payment_application(
        payment_invoice_num="P", target_invoice_num="T", ar_account_id=1, amount=Decimal("1.00")
    )


# (client factory, a GET and its success body, a POST and its success body)
APIS = {
    "kss": (
        kss_client,
        lambda c: c.get_all("states"),
        {"Data": [], "HasNextPage": False},
        kss_post,
        {"Data": {"RequestID": 1}},
    ),
    "kotis": (
        kotis_client,
        lambda c: c.sku_quantities(),
        {"data": []},
        lambda c: c.create_order({"skus": [{"sku": "1", "quantity": 1}]}),
        {"status": "success", "order_num": "1"},
    ),
    "sheets": (
        sheets_client,
        lambda c: c.get_spreadsheet("sheets"),
        {"sheets": []},
        lambda c: c.update([{"addSheet": {}}]),
        {"replies": []},
    ),
}


@pytest.mark.parametrize("api", sorted(APIS))
def test_a_408_and_a_503_are_retried_for_a_get(api: str) -> None:
    make_client, get, ok, _post, _ = APIS[api]
    adapter, slept = FakeAdapter([(408, {}), (503, {}), (200, ok)]), []
    CountingHttp.logical = []
    get(make_client(adapter, slept))
    assert [r.method for r in adapter.sent] == ["GET"] * 3 and len(slept) == 2
    assert len(CountingHttp.logical) == 1  # one logical request through the injected layer, sent three times


@pytest.mark.parametrize("api", sorted(APIS))
@pytest.mark.parametrize("status", [408, 503])
def test_a_post_is_never_retried_once_it_may_have_been_acted_on(api: str, status: int) -> None:
    make_client, _get, _, post, ok = APIS[api]
    adapter, slept = FakeAdapter([(status, {}), (200, ok)]), []
    with pytest.raises(ServerError):
        post(make_client(adapter, slept))
    assert [r.method for r in adapter.sent] == ["POST"] and slept == []


@pytest.mark.parametrize("api", sorted(APIS))
def test_a_post_refused_with_429_is_sent_again_after_retry_after(api: str) -> None:
    make_client, _get, _, post, ok = APIS[api]
    adapter, slept = FakeAdapter([(429, {}, {"Retry-After": "2"}), (200, ok)]), []
    post(make_client(adapter, slept))
    assert [r.method for r in adapter.sent] == ["POST", "POST"] and slept[0] >= 2


def test_a_request_label_names_the_method_once() -> None:
    from sheetsync.apis.http import request_label

    assert request_label("POST", "POST payments/applications/requested") == "POST payments/applications/requested"
    assert request_label("GET", "customers") == "GET customers"
