"""KssClient replayed from vcrpy cassettes recorded against the sandbox (tests/cassettes/kss/).

Replaying (the default, CI): ``SHEETSYNC_VCR_RECORD`` unset means record mode ``none``: no sandbox and
no network, the cassettes answer. Requests are matched on method, path and query (not host or port:
the sandbox's port changes), so the tests also prove the exact query strings the client sends.

Re-recording against the sandbox:
    rm -r tests/cassettes/kss && SHEETSYNC_VCR_RECORD=all .venv/bin/pytest tests/test_kss_cassettes.py
Re-recording against the real KSS test environment (read-only tests only; the sandbox-only ones,
faults and the newer payments revision, are skipped):
    KSS_API_KEY=... SHEETSYNC_VCR_TARGET=test SHEETSYNC_VCR_RECORD=all .venv/bin/pytest tests/test_kss_cassettes.py
Cassettes are read and written with the one ``vcr_config`` fixture of conftest.py. Keys never reach a
cassette: ``x-api-key`` and ``Authorization`` are filtered before writing, and
``test_no_key_in_cassettes`` checks every cassette for the sandbox keys.

The tests that need a dropped connection (the POST's ambiguous outcome) run against a live sandbox:
a dropped connection cannot be recorded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from sheetsync.apis.kss import KssClient
from sheetsync.errors import AmbiguousOutcomeError, ForbiddenError, ServerError

CASSETTES = Path(__file__).parent / "cassettes" / "kss"
RECORD_MODE = os.environ.get("SHEETSYNC_VCR_RECORD", "none")
TARGET = os.environ.get("SHEETSYNC_VCR_TARGET", "sandbox")
LIVE_KEY = os.environ.get("KSS_API_KEY")  # read at import: conftest removes it from each test's environment
TEST_ENV_URL = "https://api.test.kssdata.com/api/v1"
REPLAY_URL = "http://sandbox.invalid/kss/api/v1"

sandbox_only = pytest.mark.skipif(TARGET != "sandbox", reason="needs the sandbox (faults, revisions)")


@pytest.fixture
def recorded(use_cassette):
    """recorded(name, ...): (client, sent requests, running sandbox or None) inside cassette `name`."""

    @contextmanager
    def inside(name: str, *, key_type: str = "employee", options: dict | None = None, **client_kw) -> Iterator:
        sent: list[requests.PreparedRequest] = []
        session = requests.Session()
        session.hooks["response"].append(lambda r, *a, **k: sent.append(r.request))
        slept: list[float] = []
        client_kw.setdefault("sleep", slept.append)
        # Faults injected on purpose (a 429 burst) are recorded: replaying them is the test.
        keep = {"before_record_response": None} if options else {}
        with _base(key_type, options) as (base, key, running), use_cassette(CASSETTES / f"{name}.json", **keep):
            client = KssClient(base, key, key_type=key_type, session=session, **client_kw)
            client.slept = slept  # type: ignore[attr-defined]
            yield client, sent, running

    return inside


@contextmanager
def _base(key_type: str, options: dict | None) -> Iterator[tuple[str, str, object]]:
    if RECORD_MODE == "none":
        yield REPLAY_URL, "replay-key", None
    elif TARGET == "test":
        if not LIVE_KEY:
            pytest.skip("KSS_API_KEY is needed to record against the test environment")
        yield TEST_ENV_URL, LIVE_KEY, None
    else:
        from sheetsync.sandbox.server import SandboxOptions, start_sandbox

        with start_sandbox(options=SandboxOptions(seed=0, **(options or {}))) as running:
            yield running.info.kss, running.info.keys[key_type], running


def queries(sent: list[requests.PreparedRequest]) -> list[str]:
    out = []
    for request in sent:
        parts = urlsplit(request.url)
        out.append(f"{request.method} {parts.path.split('/api/v1', 1)[1]}?{parts.query}")
    return out


def test_products_all_pages_exact_requests(recorded):
    with recorded("products_pages") as (kss, sent, _):
        pages = list(kss.iter_pages("products", {"States": ["CA", "NJ"]}, page_size=20))
    rows = [r for p in pages for r in p]
    assert len(pages) >= 2 and len(rows) == len({r["ProductID"] for r in rows})
    assert queries(sent)[:2] == [
        "GET /products?States=CA,NJ&Page=1&PageSize=20",
        "GET /products?States=CA,NJ&Page=2&PageSize=20",
    ]
    assert all(isinstance(r["ProductID"], int) for r in rows)
    assert kss.stats.as_dict()["products"]["pages"] == len(pages)


def test_invoices_typed_values_and_literal_commas(recorded):
    with recorded("invoices_typed") as (kss, sent, _):
        rows = kss.get_all("invoices", {"CustomerIDs": [1, 2], "Statuses": [1, 7]})
    assert queries(sent)[0] == "GET /invoices?CustomerIDs=1,2&Statuses=1,7&Page=1&PageSize=500"
    assert rows and all(isinstance(r["InvoiceTotal"], Decimal) for r in rows)
    assert all(r["DueDate"] is None or type(r["DueDate"]) is date for r in rows)  # a calendar date
    assert all(r["InvoiceTimeCreated"].tzinfo is not None for r in rows)  # an instant
    assert not any(isinstance(v, float) for r in rows for v in r.values())


def test_single_customer_and_delivery_days_stay_strings(recorded):
    with recorded("customer_one") as (kss, sent, _):
        customer = kss.get_one("customers/{customerID}", 1)
    assert queries(sent) == ["GET /customers/1?"]
    assert customer["CustomerID"] == 1 and isinstance(customer["DeliveryDays"], str)


def test_empty_result(recorded):
    with recorded("empty_result") as (kss, sent, _):
        assert kss.get_all("products", {"ProductIDs": [999999]}) == []
    assert len(sent) == 1


def test_supplier_key_refused_locally_and_customer_scope(recorded):
    with recorded("scopes", key_type="supplier") as (kss, sent, _), pytest.raises(ForbiddenError, match="arAging"):
        kss.get_all("arAging")
    assert sent == []


def test_etag_304_reused(recorded, tmp_path):
    with recorded("etag", cache_dir=tmp_path) as (kss, sent, _):
        first = kss.get_all("productCategories")
        second = kss.get_all("productCategories")
    assert first == second
    assert "If-None-Match" in sent[1].headers
    assert kss.stats.as_dict()["productCategories"]["not_modified"] == 1


@sandbox_only
def test_retries_on_429_burst_honour_retry_after(recorded):
    with recorded("burst_429", options={"burst_429": 2}) as (kss, sent, _):
        rows = kss.get_all("states")
    assert rows and len(sent) == 3
    assert kss.slept[0] >= 1 and kss.stats.as_dict()["states"]["retries"] == 2


@sandbox_only
def test_persistent_500_raises_server_error(recorded):
    with (
        recorded("faults_500", options={"fault_500_rate": 1.0}, max_retries=2) as (kss, sent, _),
        pytest.raises(ServerError),
    ):
        kss.get_all("states")
    assert len(sent) == 3


@sandbox_only
def test_payments_revision_2026_fallback(recorded):
    with recorded("revision_2026", options={"payments_revision": "2026"}) as (kss, sent, _):
        accounts = sorted({p["ARAccountID"] for p in next(kss.iter_pages("payments", page_size=5))})[:2]
        requests_ = kss.payment_requests(accounts)
        confirmed = kss.payment_applications(accounts)
    assert kss.payments_revision == "2026"
    assert all("MatchedPaymentApplicationID" in r and r["RequestID"] is not None for r in requests_)
    assert all("PaymentApplicationID" in r for r in confirmed)
    paths = queries(sent)
    assert paths[1].startswith("GET /payments/applications/requested?")
    assert paths[2].startswith("GET /payments/applications?ARAccountIDs=")
    assert paths[3].startswith("GET /payments/applications?ARAccountIDs=") and "Statuses=Confirmed" in paths[3]


def test_no_key_in_cassettes():
    from sheetsync.sandbox.server import sandbox_keys

    keys = list(sandbox_keys(0).values()) + ([LIVE_KEY] if LIVE_KEY else [])
    files = list(CASSETTES.glob("*.json"))
    assert files
    for path in files:
        text = path.read_text()
        assert not any(k in text for k in keys), path.name
        assert '"x-api-key"' not in text.lower()


@sandbox_only
def test_post_dropped_connection_is_ambiguous_and_not_retried():
    from sheetsync.sandbox.server import SandboxOptions, start_sandbox

    with start_sandbox(options=SandboxOptions(seed=0, drop_after_post=1)) as running:
        kss = KssClient(running.info.kss, running.info.keys["employee"], sleep=lambda s: None, timeout=5)
        payment = next(p for p in kss.get_all("payments") if p["AvailableBalance"] > 1)
        target = kss.get_all("payments/openInvoices", {"ARAccountIDs": [payment["ARAccountID"]]})[0]
        with pytest.raises(AmbiguousOutcomeError) as info:
            kss.request_payment_application(
                payment_invoice_num=payment["PaymentInvoiceNum"],
                target_invoice_num=target["InvoiceNum"],
                ar_account_id=payment["ARAccountID"],
                amount=Decimal("1.00"),
            )
        posts = [r for r in running.requests_log() if r["method"] == "POST"]
    assert len(posts) == 1
    assert running.info.keys["employee"] not in str(info.value)


@sandbox_only
@pytest.mark.parametrize("key_type", ["employee", "customer", "supplier"])
def test_every_documented_get_reachable_with_documented_fields(sandbox, key_type):
    """All 34 GETs through the client against the live sandbox: typed, no floats, documented fields."""
    from sheetsync.apis import registry

    kss = KssClient(sandbox.info.kss, sandbox.info.keys[key_type], key_type=key_type, sleep=lambda s: None)
    lists: dict[str, list[dict]] = {}
    for ep in registry.ENDPOINTS.values():
        if ep.method != "GET" or key_type not in ep.key_types:
            continue
        if ep.path_params:
            param = ep.path_params[0]
            source = "invoices" if param == "invoiceID" else ep.name.split("/")[0]
            rows = lists.get(source) or kss.get_all(source)
            if not rows:
                continue
            params = {param: rows[0][param[0].upper() + param[1:]]}
        else:
            params = {name: [1, 2, 3] for name, p in ep.params.items() if p.required}
            if "InvoiceIDs" in params and lists.get("invoices"):
                params["InvoiceIDs"] = [r["InvoiceID"] for r in lists["invoices"][:3]]
        rows = kss.get_all(ep.name, params)
        if not ep.path_params:
            lists[ep.name] = rows
        assert not any(isinstance(v, float) for r in rows for v in r.values()), ep.name
        if rows and key_type == "employee":
            assert set(ep.fields) <= set().union(*rows), ep.name
