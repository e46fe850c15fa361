"""The Kotis sandbox apps, through werkzeug's test client and over real HTTP."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.test import Client

from sheetsync.sandbox.kotis import create_kotis_apps
from sheetsync.sandbox.kotis_data import (
    DELIVERY_STATUSES,
    ORDER_STATUSES,
    SOURCES,
    TODAY,
    build_kotis_data,
)

KEY = "test-kotis-key"
AUTH = {"Authorization": KEY}
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


@pytest.fixture
def apps() -> tuple[Client, Client]:
    kwf, stores = create_kotis_apps(0, 1, KEY)
    return Client(kwf), Client(stores)


@pytest.fixture
def kwf(apps: tuple[Client, Client]) -> Client:
    return apps[0]


@pytest.fixture
def stores(apps: tuple[Client, Client]) -> Client:
    return apps[1]


def _by_source(client: Client, **params: str) -> tuple[int, dict]:
    response = client.get("/api/v1/orders/by_source", query_string=params, headers=AUTH)
    return response.status_code, response.get_json()


# ---- data --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("scale", [1, 2])
def test_data_covers_every_documented_value(seed: int, scale: int) -> None:
    data = build_kotis_data(seed, scale)
    assert set(Counter(o.status for o in data.orders.values())) == set(ORDER_STATUSES)
    assert set(Counter(o.source for o in data.orders.values())) == set(SOURCES)
    assert set(Counter(s.delivery_status for s in data.shipments.values())) == set(DELIVERY_STATUSES)
    assert {s.status_key for s in data.shipments.values()} == {"status", "delivery_status"}
    assert any(not o.show_attributes for o in data.orders.values())
    assert all(o.portal_name for o in data.orders.values() if o.source == "portal")
    assert all(0 <= s["available_quantity"] <= s["physical_quantity"] for s in data.skus)
    days = [(TODAY - o.order_date.date()).days for o in data.orders.values()]
    assert min(days) >= 0 and 150 <= max(days) <= 185


def test_data_is_deterministic_and_grows_with_scale() -> None:
    one, again, bigger = build_kotis_data(3, 1), build_kotis_data(3, 1), build_kotis_data(3, 3)
    assert one.skus == again.skus and one.orders == again.orders
    assert len(bigger.orders) == 3 * len(one.orders) and len(bigger.skus) > 2 * len(one.skus)


# ---- auth and routing ----------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "wrong"}, {"Authorization": f"Bearer {KEY}"}])
@pytest.mark.parametrize(
    "app, method, path",
    [
        ("kwf", "GET", "/api/v1/skus/quantity"),
        ("kwf", "POST", "/api/v1/orders/create"),
        ("kwf", "GET", "/api/v1/orders/status"),
        ("kwf", "GET", "/api/v1/orders/by_source"),
        ("stores", "POST", "/api/v1/redemption_codes/create"),
    ],
)
def test_invalid_key_answers_401(apps: tuple[Client, Client], headers: dict, app: str, method: str, path: str) -> None:
    client = apps[0] if app == "kwf" else apps[1]
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"errors": [{"title": "Invalid Api Key", "detail": ""}]}


def test_unknown_path_and_wrong_method(kwf: Client) -> None:
    assert kwf.get("/api/v1/nope", headers=AUTH).status_code == 404
    assert kwf.post("/api/v1/skus/quantity", headers=AUTH).status_code == 405
    assert "errors" in kwf.get("/api/v1/nope", headers=AUTH).get_json()


# ---- skus ----------------------------------------------------------------------------------------
def test_sku_quantity_shape(kwf: Client) -> None:
    body = kwf.get("/api/v1/skus/quantity", headers=AUTH).get_json()
    assert body["jsonapi"] == {"version": "1.0"}
    first = body["data"][0]
    assert first["type"] == "skus" and isinstance(first["id"], str)
    assert set(first["attributes"]) == {"physical_quantity", "available_quantity", "sku"}
    assert all(isinstance(v, int) for k, v in first["attributes"].items() if k != "sku")
    assert any(row["attributes"]["physical_quantity"] == 0 for row in body["data"])


# ---- orders/create -------------------------------------------------------------------------------
def _skus(kwf: Client) -> list[dict]:
    return [r["attributes"] for r in kwf.get("/api/v1/skus/quantity", headers=AUTH).get_json()["data"]]


def test_create_order_then_visible_everywhere(kwf: Client) -> None:
    sku = next(s for s in _skus(kwf) if s["available_quantity"] >= 3)
    order = {
        "email": "test@example.com",
        "shipping_method": "Economy",
        "order_id": "",
        "skus": [{"quantity": "3", "sku": sku["sku"]}],
        "address": ADDRESS,
    }
    response = kwf.post("/api/v1/orders/create", json=order, headers=AUTH)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "success" and body["order_num"].isdigit()
    number = body["order_num"]
    after = next(s for s in _skus(kwf) if s["sku"] == sku["sku"])
    assert after["available_quantity"] == sku["available_quantity"] - 3
    assert after["physical_quantity"] == sku["physical_quantity"]
    status = kwf.get(f"/api/v1/orders/status?order_numbers={number}", headers=AUTH).get_json()
    assert status["data"] == [
        {
            "id": number,
            "type": "orders",
            "attributes": {"status": "pending"},
            "relationships": {"shipments": {"data": []}},
        }
    ]
    created_on = datetime.now(UTC).date().isoformat()  # a created order is dated when it was sent
    code, listed = _by_source(kwf, source="api", start_date=created_on, end_date=created_on)
    assert code == 200
    assert [r for r in listed["data"] if r["order_number"] == number] == [
        {
            "order_number": number,
            "order_date": listed["data"][-1]["order_date"],
            "status": "pending",
            "source": "api",
            "portal_name": None,
        }
    ]


def test_create_order_reports_every_problem(kwf: Client) -> None:
    sku = next(s for s in _skus(kwf) if s["available_quantity"] < 400)
    order = {
        "skus": [{"quantity": "1", "sku": "1"}, {"quantity": "1", "sku": "2"}, {"quantity": "0", "sku": sku["sku"]}],
        "address": ADDRESS,
    }
    response = kwf.post("/api/v1/orders/create", json=order, headers=AUTH)
    assert response.status_code == 400
    assert response.get_json() == {
        "errors": [
            {
                "title": "Invalid Order",
                "detail": f"Sku 1 does not exist, Sku 2 does not exist, Sku {sku['sku']} "
                "quantity must be a positive whole number",
            }
        ]
    }
    too_many = {"skus": [{"quantity": str(sku["available_quantity"] + 1), "sku": sku["sku"]}], "address": ADDRESS}
    detail = kwf.post("/api/v1/orders/create", json=too_many, headers=AUTH).get_json()["errors"][0]["detail"]
    assert f"has only {sku['available_quantity']} available" in detail
    no_address = kwf.post(
        "/api/v1/orders/create", json={"skus": [{"quantity": 1, "sku": sku["sku"]}]}, headers=AUTH
    ).get_json()
    assert no_address["errors"][0]["detail"] == "Address is missing"
    assert kwf.post("/api/v1/orders/create", data="nope", headers=AUTH).status_code == 400


# ---- orders/status -------------------------------------------------------------------------------
def test_order_status_joins_shipments_with_both_status_keys(kwf: Client) -> None:
    data = build_kotis_data(0, 1)
    numbers = list(data.orders)
    body = kwf.get("/api/v1/orders/status?order_numbers=" + ",".join(numbers), headers=AUTH).get_json()
    assert [o["id"] for o in body["data"]] == numbers
    assert any("attributes" not in o for o in body["data"])
    included = {s["id"]: s for s in body["included"]}
    referenced = [r["id"] for o in body["data"] for r in o["relationships"]["shipments"]["data"]]
    assert sorted(referenced) == sorted(included)
    keys = Counter(next(k for k in s["attributes"] if k in ("status", "delivery_status")) for s in included.values())
    assert keys["status"] > 0 and keys["delivery_status"] > 0
    statuses = {s["attributes"].get("delivery_status") or s["attributes"].get("status") for s in included.values()}
    assert statuses == set(DELIVERY_STATUSES)
    assert all(o["attributes"]["status"] in ORDER_STATUSES for o in body["data"] if "attributes" in o)


def test_order_status_unknown_numbers(kwf: Client) -> None:
    for query in ("order_numbers=1,2", "order_numbers=", ""):
        body = kwf.get(f"/api/v1/orders/status?{query}", headers=AUTH).get_json()
        assert body == {"data": [], "jsonapi": {"version": "1.0"}}


# ---- orders/by_source ----------------------------------------------------------------------------
def test_by_source_filters_and_shape(kwf: Client) -> None:
    data = build_kotis_data(0, 1)
    start, end = "2026-01-01", "2026-03-01"
    code, everything = _by_source(kwf, source="all", start_date=start, end_date=end)
    assert code == 200 and everything["data"]
    row = everything["data"][0]
    assert set(row) == {"order_number", "order_date", "status", "source", "portal_name"}
    assert row["order_date"].endswith("Z") and len(row["order_date"]) == len("2025-08-02T12:30Z")
    expected = [o for o in data.orders.values() if start <= o.order_date.date().isoformat() <= end]
    assert len(everything["data"]) == len(expected)
    for source in SOURCES:
        _, only = _by_source(kwf, source=source, start_date=start, end_date=end)
        assert only["data"] and {r["source"] for r in only["data"]} == {source}
    portal = next(o.portal_name for o in expected if o.source == "portal")
    for name in ("portal_name", "portal"):
        _, filtered = _by_source(kwf, source="portal", start_date=start, end_date=end, **{name: portal})
        assert filtered["data"] and {r["portal_name"] for r in filtered["data"]} == {portal}
    _, ignored = _by_source(kwf, source="csv", start_date=start, end_date=end, portal_name=portal)
    assert {r["source"] for r in ignored["data"]} == {"csv"}


def test_by_source_accepts_body_parameters(kwf: Client) -> None:
    params = {"source": "portal", "start_date": "2026-01-01", "end_date": "2026-02-28"}
    from_query = _by_source(kwf, **params)[1]
    as_json = kwf.get("/api/v1/orders/by_source", json=params, headers=AUTH).get_json()
    as_form = kwf.get("/api/v1/orders/by_source", data=params, headers=AUTH).get_json()
    assert from_query == as_json == as_form and from_query["data"]


def test_by_source_exactly_60_days_is_allowed(kwf: Client) -> None:
    assert _by_source(kwf, source="all", start_date="2026-01-01", end_date="2026-03-02")[0] == 200
    assert _by_source(kwf, source="all", start_date="2026-01-01", end_date="2026-03-03")[0] == 400


@pytest.mark.parametrize(
    "params, titles",
    [
        ({"start_date": "2026-01-01", "end_date": "2026-01-31"}, ["Missing source"]),
        ({"source": "email", "start_date": "2026-01-01", "end_date": "2026-01-31"}, ["Invalid source"]),
        ({"source": "all", "end_date": "2026-01-31"}, ["Missing start_date"]),
        ({"source": "all", "start_date": "2026-01-01"}, ["Missing end_date"]),
        ({"source": "all", "start_date": "01/02/2026", "end_date": "2026-01-31"}, ["Invalid start_date"]),
        ({"source": "all", "start_date": "2026-01-01", "end_date": "2026-02-30"}, ["Invalid end_date"]),
        ({"source": "all", "start_date": "2026-01-31", "end_date": "2026-01-01"}, ["Invalid date range"]),
        ({"source": "all", "start_date": "2025-10-01", "end_date": "2026-01-01"}, ["Invalid date range"]),
        ({}, ["Missing source", "Missing start_date", "Missing end_date"]),
    ],
)
def test_by_source_errors(kwf: Client, params: dict, titles: list[str]) -> None:
    code, body = _by_source(kwf, **params)
    assert code == 400
    assert [e["title"] for e in body["errors"]] == titles
    assert all(e["status"] == "400" and e["detail"] for e in body["errors"])
    if titles == ["Invalid source"]:
        valid = "all, portal, api, csv, inventory-management"
        assert body["errors"][0]["detail"] == f"Invalid source. Valid sources: {valid}"


# ---- redemption codes ----------------------------------------------------------------------------
def _codes(stores: Client, slug: str, number: object) -> tuple[int, dict]:
    response = stores.post(
        "/api/v1/redemption_codes/create", json={"portal_slug": slug, "number_to_create": number}, headers=AUTH
    )
    return response.status_code, response.get_json()


def test_redemption_codes_created_and_counted(stores: Client) -> None:
    code, body = _codes(stores, "acme-store", "5000")
    assert code == 200 and body["number_created"] == 5000 and len(set(body["codes"])) == 5000
    assert body["daily_remaining"] == 0
    code, body = _codes(stores, "acme-store", 1)
    assert code == 422
    meta = body["errors"][0]["meta"]
    assert meta["allowed_number_to_create"] == 0 and meta["limit"] == "daily"


def test_redemption_daily_and_yearly_limits(stores: Client) -> None:
    code, body = _codes(stores, "northwind-store", 1000)
    error = body["errors"][0]
    assert code == 422 and error["title"] == "Limit Exceeded" and error["status"] == "422"
    assert error["meta"]["allowed_number_to_create"] == 250 and error["meta"]["limit"] == "daily"
    assert "250" in error["detail"]
    assert _codes(stores, "northwind-store", 250)[0] == 200  # the allowed number goes through
    code, body = _codes(stores, "greenleaf-store", 2000)
    assert code == 422 and body["errors"][0]["meta"] == {
        "allowed_number_to_create": 1200,
        "limit": "yearly",
        "daily_remaining": 5000,
        "yearly_remaining": 1200,
    }


@pytest.mark.parametrize(
    "payload, status, title",
    [
        ({"number_to_create": "5"}, 400, "Missing portal_slug"),
        ({"portal_slug": "acme-store"}, 400, "Missing number_to_create"),
        ({"portal_slug": "acme-store", "number_to_create": "-2"}, 400, "Invalid number_to_create"),
        ({"portal_slug": "acme-store", "number_to_create": "2.5"}, 400, "Invalid number_to_create"),
        ({"portal_slug": "no-such-portal", "number_to_create": "5"}, 404, "Invalid Portal"),
        ({"portal_slug": "harbor-store", "number_to_create": "5"}, 404, "Invalid Portal"),  # inactive
    ],
)
def test_redemption_errors(stores: Client, payload: dict, status: int, title: str) -> None:
    response = stores.post("/api/v1/redemption_codes/create", json=payload, headers=AUTH)
    assert response.status_code == status
    assert response.get_json()["errors"][0]["title"] == title


def test_redemption_accepts_form_body(stores: Client) -> None:
    response = stores.post(
        "/api/v1/redemption_codes/create", data={"portal_slug": "acme-store", "number_to_create": "2"}, headers=AUTH
    )
    assert response.status_code == 200 and len(response.get_json()["codes"]) == 2


# ---- over real HTTP ------------------------------------------------------------------------------
@pytest.fixture
def served() -> Iterator[tuple[str, str]]:
    kwf, stores = create_kotis_apps(0, 1, KEY)
    servers = [make_server("127.0.0.1", 0, app, threaded=True) for app in (kwf, stores)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield tuple(f"http://127.0.0.1:{s.server_port}/api/v1" for s in servers)  # type: ignore[misc]
    for server in servers:
        server.shutdown()
        server.server_close()


def test_over_http_get_with_body_and_post(served: tuple[str, str]) -> None:
    kwf, stores = served
    body = {"source": "portal", "start_date": "2026-01-01", "end_date": "2026-02-28", "portal": "acme-store"}
    response = requests.get(f"{kwf}/orders/by_source", json=body, headers=AUTH, timeout=5)
    assert response.status_code == 200 and {r["portal_name"] for r in response.json()["data"]} <= {"acme-store"}
    response = requests.get(f"{kwf}/orders/status?order_numbers=5130001,5130002", headers=AUTH, timeout=5)
    assert [o["id"] for o in response.json()["data"]] == ["5130001", "5130002"]
    response = requests.post(
        f"{stores}/redemption_codes/create",
        headers=AUTH,
        timeout=5,
        json={"portal_slug": "acme-store", "number_to_create": "3"},
    )
    assert response.status_code == 200 and response.json()["number_created"] == 3
    assert requests.get(f"{kwf}/skus/quantity", timeout=5).status_code == 401
