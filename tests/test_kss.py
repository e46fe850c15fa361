"""KssClient against a scripted transport: exact requests, paging, errors, ETags, fallback, POST safety.

The sandbox-backed replays (vcrpy cassettes) are in test_kss_cassettes.py.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from helpers_http import FakeAdapter

from sheetsync.apis.kss import KssClient
from sheetsync.errors import (
    AmbiguousOutcomeError,
    AuthError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ParameterError,
    RateLimitedError,
    ServerError,
)

BASE = "http://kss.test/api/v1"
KEY = "sekrit-key-0123456789"


def page(rows, page=1, size=500, has_next=None, **headers):
    body = {"Data": rows, "Page": page, "PageSize": size}
    if has_next is not None:
        body["HasNextPage"] = has_next
    return (200, body, headers)


def client(script, **kw):
    adapter = FakeAdapter(script)
    slept: list[float] = []
    kss = KssClient(BASE, KEY, session=adapter.session(), sleep=slept.append, **kw)
    return kss, adapter, slept


def target(request: requests.PreparedRequest) -> str:
    parts = urlsplit(request.url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_exact_request_literal_commas_and_page_size():
    kss, adapter, _ = client([page([{"ProductID": 1}], has_next=False)])
    rows = kss.get_all("products", {"SupplierIDs": [3, 4], "States": ["CA", "NJ"]})
    assert rows == [{"ProductID": 1}]
    assert target(adapter.sent[0]) == "/api/v1/products?SupplierIDs=3,4&States=CA,NJ&Page=1&PageSize=500"
    sent = adapter.sent[0].headers
    assert sent["x-api-key"] == KEY and sent["X-Request-Id"].isalnum()


def test_pages_follow_has_next_page():
    kss, adapter, _ = client([page([{"ProductID": 1}], 1, 1, True), page([{"ProductID": 2}], 2, 1, False)])
    pages = list(kss.iter_pages("products", page_size=1))
    assert pages == [[{"ProductID": 1}], [{"ProductID": 2}]]
    assert [target(r).split("?")[1] for r in adapter.sent] == ["Page=1&PageSize=1", "Page=2&PageSize=1"]
    assert kss.stats.as_dict()["products"] == {"requests": 2, "pages": 2, "retries": 0, "not_modified": 0}


def test_without_has_next_page_stops_at_short_page_and_exact_multiple_needs_one_more():
    full = [{"ProductID": i} for i in range(500)]
    kss, adapter, _ = client([page(full), page([])])
    assert len(kss.get_all("products")) == 500
    assert len(adapter.sent) == 2
    kss, adapter, _ = client([page(full), page([{"ProductID": 501}])])
    assert len(kss.get_all("products")) == 501 and len(adapter.sent) == 2


def test_records_stream_lazily():
    kss, adapter, _ = client([page([{"ProductID": 1}], 1, 1, True), page([{"ProductID": 2}], 2, 1, False)])
    pages = kss.iter_pages("products", page_size=1)
    assert adapter.sent == []
    next(pages)
    assert len(adapter.sent) == 1


def test_single_record_by_path_and_get_one():
    body = {"Data": [{"CustomerID": 12, "DeliveryDays": "1"}], "Page": 1, "PageSize": 50, "HasNextPage": False}
    kss, adapter, _ = client([(200, body), (200, body), (200, body)])
    assert kss.get_all("customers/12") == [{"CustomerID": 12, "DeliveryDays": "1"}]
    assert kss.get_one("customers", 12)["CustomerID"] == 12
    assert kss.get_all("customers/{customerID}", {"customerID": 12})[0]["CustomerID"] == 12
    assert {target(r) for r in adapter.sent} == {"/api/v1/customers/12"}


def test_parameters_and_key_type_refused_before_any_request():
    kss, adapter, _ = client([], key_type="supplier")
    with pytest.raises(ParameterError, match="did you mean SupplierIDs"):
        kss.iter_pages("products", {"SupplierID": 1})
    with pytest.raises(ForbiddenError, match="arAging"):
        kss.iter_pages("arAging")
    with pytest.raises(ForbiddenError, match="payments/applications/requested"):
        kss.request_payment_application(
            payment_invoice_num="P", target_invoice_num="T", ar_account_id=1, amount=Decimal(1)
        )
    assert adapter.sent == []


@pytest.mark.parametrize(
    ("status", "error"), [(400, BadRequestError), (401, AuthError), (403, ForbiddenError), (404, NotFoundError)]
)
def test_errors_typed_with_status_message_and_request_id(status, error):
    kss, _, _ = client([(status, {"Error": "InvoiceIDs parameter is required"}, {"X-Request-Id": "abc123"})])
    with pytest.raises(error) as info:
        kss.get_all("invoiceCOAs", {"InvoiceIDs": [1]})
    exc = info.value
    assert exc.status == status and exc.api_message == "InvoiceIDs parameter is required"
    assert exc.request_id == "abc123" and "abc123" in str(exc)
    assert KEY not in str(exc)


def test_retries_on_429_and_500_with_injected_sleep():
    kss, adapter, slept = client([(429, {"Error": "slow"}, {"Retry-After": "3"}), (500, {}), page([], has_next=False)])
    assert kss.get_all("products") == []
    assert len(adapter.sent) == 3 and slept[0] >= 3
    assert kss.stats.as_dict()["products"]["retries"] == 2


def test_persistent_500_becomes_server_error():
    kss, adapter, _ = client([(500, {"Error": "boom"})] * 3, max_retries=2)
    with pytest.raises(ServerError, match="API says: boom"):
        kss.get_all("products")
    assert len(adapter.sent) == 3


def test_long_quota_wait_raises_with_recovery_time():
    kss, adapter, slept = client([(429, {"Error": "Rate limit exceeded"}, {"Retry-After": "1800"})])
    with pytest.raises(RateLimitedError, match="quota recovers at") as info:
        kss.get_all("products")
    assert info.value.recovers_at is not None and slept == [] and len(adapter.sent) == 1


def test_post_sends_params_in_query_and_maps_fields():
    answer = {"Data": {"RequestID": 2, "Amount": "500.00", "Status": "Pending", "MatchedPaymentApplicationID": None}}
    kss, adapter, _ = client([(200, answer)])
    row = kss.request_payment_application(
        payment_invoice_num="INV-PAY-0001",
        target_invoice_num="INV 2",
        ar_account_id=123,
        amount=Decimal("500.00"),
        client_request_id="abc42",
    )
    assert row == {
        "RequestID": 2,
        "Amount": Decimal("500.00"),
        "Status": "Pending",
        "MatchedPaymentApplicationID": None,
    }
    sent = adapter.sent[0]
    assert sent.method == "POST" and not sent.body
    assert target(sent) == (
        "/api/v1/payments/applications/requested?PaymentInvoiceNum=INV-PAY-0001"
        "&TargetInvoiceNum=INV%202&ARAccountID=123&Amount=500.00"
    )
    assert sent.headers["X-Request-Id"] == "abc42"


@pytest.mark.parametrize(
    "failure",
    [
        requests.ReadTimeout("timed out"),
        requests.ConnectionError("Connection aborted."),
        (500, {"Error": "boom"}),
    ],
)
def test_post_never_retried(failure):
    kss, adapter, _ = client([failure, (200, {"Data": {"RequestID": 1}})])
    expected = ServerError if isinstance(failure, tuple) else AmbiguousOutcomeError
    with pytest.raises(expected) as info:
        kss.request_payment_application(
            payment_invoice_num="P", target_invoice_num="T", ar_account_id=1, amount=Decimal("1.00")
        )
    assert len(adapter.sent) == 1
    assert KEY not in str(info.value)


def test_etag_cache_reuses_body_and_is_per_key(tmp_path):
    body = {"Data": [{"ProductID": 1, "UnitPrice": "2.50"}], "Page": 1, "PageSize": 500, "HasNextPage": False}
    adapter = FakeAdapter([(200, body, {"ETag": 'W/"v1"'}), (304, None, {"ETag": 'W/"v1"'}), (200, body)])
    session = adapter.session()
    first = KssClient(BASE, KEY, session=session, cache_dir=tmp_path)
    assert first.get_all("products") == first.get_all("products") == [{"ProductID": 1, "UnitPrice": Decimal("2.50")}]
    assert "If-None-Match" not in adapter.sent[0].headers and adapter.sent[1].headers["If-None-Match"] == 'W/"v1"'
    assert first.stats.as_dict()["products"]["not_modified"] == 1
    other = KssClient(BASE, "another-key-9876543210", session=session, cache_dir=tmp_path)
    other.get_all("products")
    assert "If-None-Match" not in adapter.sent[2].headers
    for path in tmp_path.iterdir():
        assert KEY.encode() not in path.read_bytes() and KEY not in path.name


def newer(rows):
    return page(rows, has_next=False)


def test_payments_revision_fallback_get():
    merged = [
        {"RequestID": 9, "Status": "Confirmed", "PaymentApplicationID": 77, "Amount": "5.00"},
        {"RequestID": None, "Status": "Confirmed", "PaymentApplicationID": 78, "Amount": "6.00"},
    ]
    kss, adapter, _ = client([(404, {"Error": "Not found"}), newer(merged), newer(merged[1:])])
    rows = kss.payment_requests([1, 2], statuses=["Confirmed"])
    assert rows == [
        {"RequestID": 9, "Status": "Confirmed", "MatchedPaymentApplicationID": 77, "Amount": Decimal("5.00")}
    ]
    assert kss.payments_revision == "2026"
    confirmed = kss.payment_applications([1])
    assert [r["PaymentApplicationID"] for r in confirmed] == [78]
    assert [target(r) for r in adapter.sent] == [
        "/api/v1/payments/applications/requested?ARAccountIDs=1,2&Statuses=Confirmed&Page=1&PageSize=500",
        "/api/v1/payments/applications?ARAccountIDs=1,2&Statuses=Confirmed&Page=1&PageSize=500",
        "/api/v1/payments/applications?ARAccountIDs=1&Statuses=Confirmed&Page=1&PageSize=500",
    ]


def test_payments_revision_fallback_post():
    answer = {"Data": {"RequestID": 3, "Status": "Pending", "PaymentApplicationID": None}}
    kss, adapter, _ = client([(404, {"Error": "Not found"}), (200, answer)])
    row = kss.request_payment_application(
        payment_invoice_num="P", target_invoice_num="T", ar_account_id=1, amount=Decimal("1.00")
    )
    assert row["MatchedPaymentApplicationID"] is None and "PaymentApplicationID" not in row
    assert [urlsplit(r.url).path for r in adapter.sent] == [
        "/api/v1/payments/applications/requested",
        "/api/v1/payments/applications",
    ]


def test_confirmed_on_newer_revision_detected_by_shape():
    merged = [
        {"RequestID": 9, "Status": "Pending", "PaymentApplicationID": None},
        {"RequestID": None, "Status": "Confirmed", "PaymentApplicationID": 78},
    ]
    kss, _, _ = client([newer(merged)])
    assert [r["PaymentApplicationID"] for r in kss.payment_applications(1)] == [78]
    assert kss.payments_revision == "2026"


def test_client_repr_hides_key():
    kss, _, _ = client([])
    assert KEY not in repr(kss)
