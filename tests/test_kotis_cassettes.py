"""KotisClient replayed from vcrpy cassettes recorded against the sandbox (tests/cassettes/kotis/).

Replaying (the default, CI): ``SHEETSYNC_VCR_RECORD`` unset means record mode ``none``: no sandbox and
no network, the cassettes answer. Requests are matched on method, path and query (not host or port: the
sandbox's port changes), so these tests prove the exact requests the client sends.

Re-recording against the sandbox:
    rm -r tests/cassettes/kotis && SHEETSYNC_VCR_RECORD=all .venv/bin/pytest tests/test_kotis_cassettes.py
Re-recording the read-only tests against the real API with a test key (Kotis test keys use the
production hosts and change nothing; the tests that write or rely on sandbox data are skipped):
    KOTIS_API_KEY=... SHEETSYNC_VCR_TARGET=live SHEETSYNC_VCR_RECORD=all .venv/bin/pytest tests/test_kotis_cassettes.py
Cassettes are read and written with the one ``vcr_config`` fixture of conftest.py. The ``Authorization``
header is filtered before writing; ``test_no_key_in_cassettes`` checks it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from sheetsync.apis.kotis import KotisClient, RedemptionLimitError
from sheetsync.errors import AuthError, BadRequestError

CASSETTES = Path(__file__).parent / "cassettes" / "kotis"
RECORD_MODE = os.environ.get("SHEETSYNC_VCR_RECORD", "none")
TARGET = os.environ.get("SHEETSYNC_VCR_TARGET", "sandbox")
LIVE_KEY = os.environ.get("KOTIS_API_KEY")  # read at import: conftest removes it from each test's environment
LIVE_URLS = ("https://kwf.kotisdesign.com/api/v1", "https://stores.kotisdesign.com/api/v1")
REPLAY_URLS = ("http://sandbox.invalid/kotis/api/v1", "http://sandbox.invalid/kotis-stores/api/v1")
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


sandbox_only = pytest.mark.skipif(TARGET != "sandbox", reason="writes, or relies on the sandbox's data")


@pytest.fixture
def recorded(use_cassette):
    """recorded(name, key=None): (client, requests sent as "METHOD /path?query") inside cassette `name`."""

    @contextmanager
    def inside(name: str, *, key: str | None = None) -> Iterator[tuple[KotisClient, list[str]]]:
        sent: list[str] = []
        session = requests.Session()
        session.hooks["response"].append(lambda r, *a, **k: sent.append(_describe(r.request)))
        with _target() as (kwf, stores, real_key), use_cassette(CASSETTES / f"{name}.json"):
            yield KotisClient(kwf, stores, key or real_key, session=session, sleep=lambda s: None), sent

    return inside


@contextmanager
def _target() -> Iterator[tuple[str, str, str]]:
    if RECORD_MODE == "none":
        yield *REPLAY_URLS, "replay-key"
    elif TARGET == "live":
        if not LIVE_KEY:
            pytest.skip("KOTIS_API_KEY is needed to record against the real API")
        yield *LIVE_URLS, LIVE_KEY
    else:
        from sheetsync.sandbox.server import SandboxOptions, start_sandbox

        with start_sandbox(options=SandboxOptions(seed=0)) as running:
            yield running.info.kotis, running.info.kotis_stores, running.info.keys["kotis"]


def _describe(request: requests.PreparedRequest) -> str:
    parts = urlsplit(request.url or "")
    path = parts.path.split("/api/v1", 1)[1]
    return f"{request.method} {path}" + (f"?{parts.query}" if parts.query else "")


# ---- reading -------------------------------------------------------------------------------------
def test_sku_quantities(recorded) -> None:
    with recorded("sku_quantities") as (client, sent):
        rows = client.sku_quantities()
    assert sent == ["GET /skus/quantity"]
    assert rows and set(rows[0]) >= {"id", "sku", "physical_quantity", "available_quantity"}
    assert all(isinstance(r["available_quantity"], int) for r in rows)


@sandbox_only
def test_order_status_both_status_keys_and_missing_attributes(recorded) -> None:
    with recorded("order_status") as (client, sent):
        rows = client.order_status(["5130001", "5130002", "5130005", "999", "5130002"])
    assert sent == ["GET /orders/status?order_numbers=5130001,5130002,5130005,999"]
    by_order = {r["order_number"]: r for r in rows}
    assert set(by_order) == {"5130001", "5130002", "5130005"}
    assert by_order["5130001"]["shipment_id"] is None  # pending, nothing shipped
    assert by_order["5130002"]["delivery_status"] == "unknown"  # sent as "status"
    assert by_order["5130005"]["order_status"] is None  # sent without attributes
    assert by_order["5130005"]["delivery_status"] == "cancelled"  # sent as "delivery_status"
    assert isinstance(by_order["5130002"]["shipment_date"], datetime)


def test_orders_by_source_150_days_in_windows(recorded) -> None:
    start = date(2025, 9, 1)
    with recorded("orders_by_source_150_days") as (client, sent):
        rows = client.orders_by_source("all", start, start + timedelta(days=149))
    assert sent == [
        "GET /orders/by_source?source=all&start_date=2025-09-01&end_date=2025-10-31",
        "GET /orders/by_source?source=all&start_date=2025-11-01&end_date=2025-12-31",
        "GET /orders/by_source?source=all&start_date=2026-01-01&end_date=2026-01-28",
    ]
    numbers = [r["order_number"] for r in rows]
    assert len(numbers) == len(set(numbers))
    if TARGET == "sandbox":
        assert len(rows) == 57


@sandbox_only
def test_orders_by_source_portal_name(recorded) -> None:
    with recorded("orders_by_source_portal") as (client, sent):
        rows = client.orders_by_source("portal", "2026-01-01", "2026-02-28", portal_name="acme-store")
    assert sent == [
        "GET /orders/by_source?source=portal&start_date=2026-01-01&end_date=2026-02-28&portal_name=acme-store"
    ]
    assert rows and {(r["source"], r["portal_name"]) for r in rows} == {("portal", "acme-store")}


def test_invalid_key(recorded) -> None:
    with recorded("invalid_key", key="not-a-key") as (client, sent), pytest.raises(AuthError) as caught:
        client.sku_quantities()
    assert sent == ["GET /skus/quantity"]
    assert caught.value.title == "Invalid Api Key"  # type: ignore[attr-defined]


# ---- writing -------------------------------------------------------------------------------------
@sandbox_only
def test_create_order_and_its_errors(recorded) -> None:
    order = {
        "email": "test@example.com",
        "shipping_method": "Economy",
        "order_id": "",
        "skus": [{"quantity": "3", "sku": "107530-1-S"}],
        "address": ADDRESS,
    }
    bad = {**order, "skus": [{"quantity": "3", "sku": "1"}, {"quantity": "1", "sku": "2"}]}
    with recorded("create_order") as (client, sent):
        created = client.create_order(order)
        with pytest.raises(BadRequestError) as caught:
            client.create_order(bad)
        status = client.order_status([created["order_num"]])
    assert sent == [
        "POST /orders/create",
        "POST /orders/create",
        f"GET /orders/status?order_numbers={created['order_num']}",
    ]
    assert created == {"status": "success", "order_num": "5130081"}
    assert caught.value.detail == "Sku 1 does not exist, Sku 2 does not exist"  # type: ignore[attr-defined]
    assert status[0]["order_status"] == "pending"


@sandbox_only
def test_redemption_codes_limits(recorded) -> None:
    with recorded("redemption_codes") as (client, sent):
        with pytest.raises(RedemptionLimitError) as daily:
            client.create_redemption_codes("northwind-store", 1000)
        created = client.create_redemption_codes("northwind-store", daily.value.allowed_number or 0)
        with pytest.raises(RedemptionLimitError) as yearly:
            client.create_redemption_codes("greenleaf-store", 5000)
    assert sent == ["POST /redemption_codes/create"] * 3
    assert daily.value.allowed_number == 250 and created["number_created"] == 250
    assert yearly.value.allowed_number == 1200


def test_no_key_in_cassettes() -> None:
    from sheetsync.sandbox.server import sandbox_keys

    secrets = set(sandbox_keys(0).values()) | ({LIVE_KEY} if LIVE_KEY else set())
    files = sorted(CASSETTES.glob("*.json"))
    assert files, "no Kotis cassettes recorded"
    for path in files:
        text = path.read_text()
        assert not any(secret in text for secret in secrets), path.name
        for interaction in json.loads(text)["interactions"]:
            assert not {h.lower() for h in interaction["request"]["headers"]} & {"authorization", "x-api-key"}
