"""KotisClient against a live sandbox (real HTTP on loopback) and against a scripted transport.

The exact requests are also proven by the cassettes in test_kotis_cassettes.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from helpers_http import FakeAdapter

from sheetsync.apis.http import RequestStats
from sheetsync.apis.kotis import KotisClient, RedemptionLimitError, by_source_windows
from sheetsync.apis.registry import DeprecatedName
from sheetsync.errors import (
    AmbiguousOutcomeError,
    ApiError,
    AuthError,
    BadRequestError,
    NotFoundError,
    ParameterError,
    ServerError,
)
from sheetsync.sandbox.kotis_data import DELIVERY_STATUSES, ORDER_STATUSES, build_kotis_data

ADDRESS = {
    "name": "Test Person",
    "attention": "",
    "address1": "123 First Street",
    "address2": "",
    "city": "Seattle",
    "state": "WA",
    "zip": "98102",
    "country": "",
    "phone": "",
    "address_type": "",
}
KWF = "https://kwf.example/api/v1"
STORES = "https://stores.example/api/v1"
DATA = build_kotis_data(0, 1)


@pytest.fixture(scope="module")
def shared() -> Iterator:
    """A sandbox for the read-only tests of this module."""
    from sheetsync.sandbox.server import SandboxOptions, start_sandbox

    with start_sandbox(options=SandboxOptions(seed=0)) as running:
        yield running


@pytest.fixture
def fresh() -> Iterator:
    from sheetsync.sandbox.server import SandboxOptions, start_sandbox

    with start_sandbox(options=SandboxOptions(seed=0)) as running:
        yield running


def client_for(running, key: str | None = None, **kw) -> KotisClient:  # type: ignore[no-untyped-def]
    kw.setdefault("sleep", lambda s: None)
    return KotisClient(running.info.kotis, running.info.kotis_stores, key or running.info.keys["kotis"], **kw)


def fake_client(*script: object) -> tuple[KotisClient, FakeAdapter, list[float]]:
    adapter = FakeAdapter(script)
    slept: list[float] = []
    return KotisClient(KWF, STORES, "secret-key", session=adapter.session(), sleep=slept.append), adapter, slept


def by_source_queries(running) -> list[dict]:  # type: ignore[no-untyped-def]
    return [e["query"] for e in running.requests_log() if e["path"] == "/orders/by_source"]


# ---- reading -------------------------------------------------------------------------------------
def test_sku_quantities(shared) -> None:  # type: ignore[no-untyped-def]
    rows = client_for(shared).sku_quantities()
    assert len(rows) == len(DATA.skus)
    assert rows[0] == {
        "id": DATA.skus[0]["id"],
        "sku": DATA.skus[0]["sku"],
        "physical_quantity": DATA.skus[0]["physical_quantity"],
        "available_quantity": DATA.skus[0]["available_quantity"],
    }


def test_order_status_rows_join_shipments(shared) -> None:  # type: ignore[no-untyped-def]
    rows = client_for(shared).order_status(list(DATA.orders))
    expected = sum(max(1, len(o.shipment_ids)) for o in DATA.orders.values())
    assert len(rows) == expected
    assert {r["delivery_status"] for r in rows if r["shipment_id"]} == set(DELIVERY_STATUSES)
    by_shipment = {r["shipment_id"]: r for r in rows if r["shipment_id"]}
    for key in ("status", "delivery_status"):  # both spellings read into delivery_status
        shipment = next(s for s in DATA.shipments.values() if s.status_key == key)
        assert by_shipment[shipment.id]["delivery_status"] == shipment.delivery_status
        assert "status" not in by_shipment[shipment.id]
    hidden = next(o for o in DATA.orders.values() if not o.show_attributes)
    assert {r["order_status"] for r in rows if r["order_number"] == hidden.order_number} == {None}
    assert {r["order_status"] for r in rows} - {None} == set(ORDER_STATUSES)
    bare = next(o for o in DATA.orders.values() if not o.shipment_ids)
    assert [r for r in rows if r["order_number"] == bare.order_number] == [
        {
            "order_number": bare.order_number,
            "order_status": bare.status if bare.show_attributes else None,
            "shipment_id": None,
            "tracking_numbers": None,
            "shipment_date": None,
            "delivery_status": None,
        }
    ]
    dated = next(r for r in rows if r["shipment_date"])
    assert isinstance(dated["shipment_date"], datetime) and dated["shipment_date"].tzinfo is not None


def test_order_status_batches_and_unknown_numbers(shared) -> None:  # type: ignore[no-untyped-def]
    client = client_for(shared)
    assert client.order_status(["1", "2"]) == []
    assert client.order_status([]) == []
    numbers = list(DATA.orders)[:3]
    assert [r["order_number"] for r in client.order_status(",".join(numbers + numbers))][:1] == numbers[:1]
    with pytest.raises(ParameterError, match="not an order number"):
        client.order_status(["12 34"])


def test_order_status_sends_literal_commas_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    import sheetsync.apis.kotis as kotis

    monkeypatch.setattr(kotis, "STATUS_BATCH", 2)
    client, adapter, _ = fake_client((200, {"data": []}), (200, {"data": []}))
    client.order_status(["1", "2", "3", "2"])
    assert [r.url for r in adapter.sent] == [
        f"{KWF}/orders/status?order_numbers=1,2",
        f"{KWF}/orders/status?order_numbers=3",
    ]
    assert all(r.headers["Authorization"] == "secret-key" for r in adapter.sent)


def test_order_status_tolerates_missing_members() -> None:
    body = {
        "data": [
            {"id": "1", "type": "orders"},  # no attributes, no links
            {"id": "2", "type": "orders", "relationships": {"shipments": {"data": [{"id": "9"}]}}},
        ],
        "included": [{"id": "9", "type": "shipments", "attributes": {"status": "failure", "carrier": "UPS"}}],
    }
    client, _, _ = fake_client((200, body))
    assert client.order_status(["1", "2"]) == [
        {
            "order_number": "1",
            "order_status": None,
            "shipment_id": None,
            "tracking_numbers": None,
            "shipment_date": None,
            "delivery_status": None,
        },
        {
            "order_number": "2",
            "order_status": None,
            "shipment_id": "9",
            "tracking_numbers": None,
            "shipment_date": None,
            "delivery_status": "failure",
            "carrier": "UPS",
        },
    ]


# ---- orders/by_source ----------------------------------------------------------------------------
def test_by_source_150_days_split_into_windows(fresh) -> None:  # type: ignore[no-untyped-def]
    start = date(2025, 9, 1)
    end = start + timedelta(days=149)  # a 150-day range
    rows = client_for(fresh).orders_by_source("all", start, end)
    assert by_source_queries(fresh) == [
        {"source": "all", "start_date": "2025-09-01", "end_date": "2025-10-31"},
        {"source": "all", "start_date": "2025-11-01", "end_date": "2025-12-31"},
        {"source": "all", "start_date": "2026-01-01", "end_date": "2026-01-28"},
    ]
    expected = {o.order_number for o in DATA.orders.values() if start <= o.order_date.date() <= end}
    assert [r["order_number"] for r in rows] == sorted(expected, key=lambda n: (DATA.orders[n].order_date, n))
    assert isinstance(rows[0]["order_date"], datetime) and rows[0]["order_date"].tzinfo is not None


def test_by_source_windows_do_not_overlap_and_cover_the_range() -> None:
    windows = by_source_windows("all", date(2025, 1, 1), date(2025, 12, 31))
    assert windows[0] == (date(2025, 1, 1), date(2025, 3, 2))
    assert all(b[0] == a[1] + timedelta(days=1) for a, b in itertools.pairwise(windows))
    assert all((last - first).days <= 60 for first, last in windows)
    assert windows[-1][1] == date(2025, 12, 31)
    assert by_source_windows("api", "2025-01-01", "2025-01-01") == [(date(2025, 1, 1), date(2025, 1, 1))]
    assert len(by_source_windows("api", "2025-01-01", "2025-03-02")) == 1  # exactly 60 days apart


def test_by_source_deduplicates_by_order_number() -> None:
    row = {
        "order_number": "7",
        "order_date": "2025-08-02T12:30Z",
        "status": "shipped",
        "source": "csv",
        "portal_name": None,
    }
    again = {**row, "status": "delivered"}
    other = {**row, "order_number": "8"}
    client, adapter, _ = fake_client((200, {"data": [row]}), (200, {"data": [again, other]}), (200, {"data": []}))
    rows = client.orders_by_source("csv", "2025-08-01", "2025-12-28")
    assert [(r["order_number"], r["status"]) for r in rows] == [("7", "shipped"), ("8", "shipped")]
    assert len(adapter.sent) == 3 and all(r.body is None for r in adapter.sent)


def test_by_source_accepts_start_and_end_keywords() -> None:
    client, adapter, _ = fake_client((200, {"data": []}))
    with pytest.warns(DeprecatedName, match="'start' is an old name: write 'start_date'"):
        assert client.orders_by_source(source="api", start="2025-08-01", end=date(2025, 8, 31)) == []
    assert adapter.sent[0].url == f"{KWF}/orders/by_source?source=api&start_date=2025-08-01&end_date=2025-08-31"


def test_by_source_sends_portal_name_in_the_query(fresh) -> None:  # type: ignore[no-untyped-def]
    portal = next(o.portal_name for o in DATA.orders.values() if o.source == "portal")
    rows = client_for(fresh).orders_by_source("portal", "2025-09-01", "2026-03-02", portal_name=portal)
    assert rows and {r["portal_name"] for r in rows} == {portal}
    assert all(q["portal_name"] == portal and q["source"] == "portal" for q in by_source_queries(fresh))


@pytest.mark.parametrize(
    "args, match",
    [
        (("", "2025-01-01", "2025-01-31"), "source is required"),
        (("email", "2025-01-01", "2025-01-31"), "invalid source 'email'; valid sources: all, portal, api"),
        (("all", None, "2025-01-31"), "start_date is required"),
        (("all", "2025-01-01", ""), "end_date is required"),
        (("all", "01/02/2025", "2025-01-31"), "start_date '01/02/2025' is not an ISO 8601 date"),
        (("all", "2025-01-01", "2025-02-30"), "end_date '2025-02-30' is not an ISO 8601 date"),
        (("all", "2025-02-01", "2025-01-31"), "end_date 2025-01-31 is before start_date 2025-02-01"),
        (("api", "2025-01-01", "2025-01-31", "acme-store"), "portal_name is only used with source 'portal'"),
    ],
)
def test_by_source_validation_before_sending(args: tuple, match: str) -> None:
    client, adapter, _ = fake_client()
    with pytest.raises(ParameterError, match=match):
        client.orders_by_source(*args)
    assert adapter.sent == []


def test_by_source_api_error_is_typed_with_title_and_detail() -> None:
    body = {
        "errors": [
            {
                "title": "Invalid source",
                "status": "400",
                "detail": "Invalid source. Valid sources: all, portal, api, csv, inventory-management",
            }
        ]
    }
    client, _, _ = fake_client((400, body))
    with pytest.raises(BadRequestError) as caught:
        client.orders_by_source("all", "2025-01-01", "2025-01-02")
    error = caught.value
    assert error.status == 400 and error.title == "Invalid source"  # type: ignore[attr-defined]
    assert error.detail.startswith("Invalid source. Valid")  # type: ignore[attr-defined]
    assert "Invalid source" in str(error) and error.endpoint == "orders/by_source"


# ---- writing -------------------------------------------------------------------------------------
def test_create_order_then_status_and_by_source(fresh) -> None:  # type: ignore[no-untyped-def]
    client = client_for(fresh)
    sku = next(s for s in client.sku_quantities() if s["available_quantity"] >= 2)
    result = client.create_order(
        {
            "email": "test@example.com",
            "shipping_method": "Economy",
            "order_id": "",
            "skus": [{"quantity": "2", "sku": sku["sku"]}],
            "address": ADDRESS,
        }
    )
    assert result["status"] == "success"
    number = result["order_num"]
    assert client.order_status([number])[0]["order_status"] == "pending"
    created_on = datetime.now(UTC).date()  # a created order is dated when it was sent
    listed = client.orders_by_source("api", created_on, created_on)
    assert [r["source"] for r in listed if r["order_number"] == number] == ["api"]
    after = next(s for s in client.sku_quantities() if s["sku"] == sku["sku"])
    assert after["available_quantity"] == sku["available_quantity"] - 2


def test_create_order_invalid_is_typed(fresh) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequestError) as caught:
        client_for(fresh).create_order(
            {"skus": [{"quantity": "3", "sku": "1"}, {"quantity": "1", "sku": "2"}], "address": ADDRESS}
        )
    assert caught.value.title == "Invalid Order"  # type: ignore[attr-defined]
    assert caught.value.detail == "Sku 1 does not exist, Sku 2 does not exist"  # type: ignore[attr-defined]
    with pytest.raises(ParameterError, match="non-empty 'skus'"):
        client_for(fresh).create_order({"skus": []})


def test_invalid_key_is_an_auth_error_without_the_key(shared) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthError) as caught:
        client_for(shared, key="not-the-key").sku_quantities()
    assert caught.value.status == 401 and caught.value.title == "Invalid Api Key"  # type: ignore[attr-defined]
    assert "not-the-key" not in str(caught.value)
    with pytest.raises(AuthError):
        client_for(shared, key="not-the-key").create_redemption_codes("acme-store", 1)


def test_errors_array_in_a_200_is_still_an_error() -> None:
    client, _, _ = fake_client(
        (200, {"errors": [{"title": "Invalid Api Key", "detail": ""}]}),
        (200, {"errors": [{"title": "Invalid Order", "detail": "Sku 1 does not exist"}]}),
    )
    with pytest.raises(AuthError):
        client.sku_quantities()
    with pytest.raises(BadRequestError, match="Sku 1 does not exist"):
        client.create_order({"skus": [{"sku": "1", "quantity": 1}]})


def test_get_is_retried_post_is_not() -> None:
    client, adapter, slept = fake_client((503, {"errors": [{"title": "Unavailable"}]}), (200, {"data": []}))
    assert client.sku_quantities() == []
    assert len(adapter.sent) == 2 and len(slept) == 1
    assert client.stats.as_dict()["skus/quantity"]["retries"] == 1
    client, adapter, slept = fake_client((503, {"errors": [{"title": "Unavailable", "detail": "try later"}]}))
    with pytest.raises(ServerError, match="try later"):
        client.create_order({"skus": [{"sku": "1", "quantity": 1}]})
    assert len(adapter.sent) == 1 and slept == []


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_order({"skus": [{"sku": "1", "quantity": 1}]}),
        lambda c: c.create_redemption_codes("acme-store", 10),
    ],
)
def test_post_timeout_is_an_ambiguous_outcome(call) -> None:  # type: ignore[no-untyped-def]
    client, adapter, slept = fake_client(requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(AmbiguousOutcomeError):
        call(client)
    assert len(adapter.sent) == 1 and slept == []


def test_stats_are_shared_and_counted() -> None:
    stats = RequestStats()
    adapter = FakeAdapter([(200, {"data": []}), (200, {"data": []})])
    client = KotisClient(KWF, STORES, "k", session=adapter.session(), stats=stats)
    client.sku_quantities()
    client.order_status(["1"])
    assert stats.as_dict()["skus/quantity"] == {"requests": 1, "pages": 1, "retries": 0, "not_modified": 0}
    assert stats.total_requests == 2


# ---- redemption codes ----------------------------------------------------------------------------
def test_redemption_codes_created(fresh) -> None:  # type: ignore[no-untyped-def]
    result = client_for(fresh).create_redemption_codes("acme-store", 25)
    assert result["status"] == "success" and len(result["codes"]) == 25 and result["daily_remaining"] == 4975


def test_redemption_limits_report_the_allowed_number(fresh) -> None:  # type: ignore[no-untyped-def]
    client = client_for(fresh)
    with pytest.raises(RedemptionLimitError) as caught:
        client.create_redemption_codes("northwind-store", 1000)
    assert caught.value.allowed_number == 250 and caught.value.status == 422
    assert "250" in str(caught.value) and isinstance(caught.value, BadRequestError)
    assert client.create_redemption_codes("northwind-store", 250)["number_created"] == 250
    with pytest.raises(RedemptionLimitError) as caught:
        client.create_redemption_codes("greenleaf-store", 5000)  # yearly limit
    assert caught.value.allowed_number == 1200
    with pytest.raises(NotFoundError) as not_found:
        client.create_redemption_codes("no-such-portal", 1)
    assert not_found.value.title == "Invalid Portal"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "slug, number, match",
    [
        ("", 1, "portal_slug is required"),
        ("acme-store", 0, "from 1 to 5,000"),
        ("acme-store", 5001, "from 1 to 5,000"),
        ("acme-store", "12", "from 1 to 5,000"),
        ("acme-store", True, "from 1 to 5,000"),
    ],
)
def test_redemption_refused_before_sending(slug: str, number: object, match: str) -> None:
    client, adapter, _ = fake_client()
    with pytest.raises(ParameterError, match=match):
        client.create_redemption_codes(slug, number)  # type: ignore[arg-type]
    assert adapter.sent == []


def test_redemption_sends_the_documented_body() -> None:
    client, adapter, _ = fake_client((200, {"status": "success", "codes": ["A"]}))
    client.create_redemption_codes("acme-store", 1)
    sent = adapter.sent[0]
    assert sent.url == f"{STORES}/redemption_codes/create" and sent.method == "POST"
    assert sent.body == b'{"portal_slug": "acme-store", "number_to_create": "1"}'
    assert sent.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "status, body",
    [
        (200, {"message": "Daily limit reached: allowed number to create is 120", "allowed_number_to_create": 120}),
        (200, {"message": "You can create 120 more codes today"}),
        (400, {"errors": [{"title": "Limit", "detail": "The allowed number to create is 120"}]}),
    ],
)
def test_redemption_limit_answers_in_other_shapes(status: int, body: dict) -> None:
    client, _, _ = fake_client((status, body))
    with pytest.raises(RedemptionLimitError) as caught:
        client.create_redemption_codes("acme-store", 500)
    assert caught.value.allowed_number == 120


def test_non_json_answer_is_an_api_error() -> None:
    client, _, _ = fake_client((200, "<html>maintenance</html>"))
    with pytest.raises(ApiError, match="not JSON"):
        client.sku_quantities()
