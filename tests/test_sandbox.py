"""The sandbox behaves like the documented KSS API and its live quirks: auth, scopes, defaults, errors,
pagination, headers, rate limits, ETags, faults, the payment-request lifecycle, revisions and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from click.testing import CliRunner

from sheetsync.cli.sandbox import sandbox_group
from sheetsync.sandbox.server import SandboxOptions, start_sandbox


def get(
    sb, path: str, key: str | None = "employee", params: dict | None = None, headers: dict | None = None, **kw
) -> requests.Response:
    hdrs = dict(headers or {})
    if key:
        hdrs["x-api-key"] = sb.info.keys[key]
    return requests.get(f"{sb.info.kss}/{path}", params=params, headers=hdrs, timeout=10, **kw)


def post_request(sb, key: str = "employee", **params) -> requests.Response:
    path = params.pop("_path", "payments/applications/requested")
    return requests.post(f"{sb.info.kss}/{path}", params=params, headers={"x-api-key": sb.info.keys[key]}, timeout=10)


def all_rows(sb, path: str, **params) -> list[dict]:
    rows, page = [], 1
    while True:
        body = get(sb, path, params={**params, "Page": page, "PageSize": 500}).json()
        rows += body["Data"]
        if not body["HasNextPage"]:
            return rows
        page += 1


def data(response: requests.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["Data"]


@pytest.fixture
def limited() -> Iterator:
    with start_sandbox(options=SandboxOptions(seed=0, rate_limit=3)) as running:
        yield running


# ---- auth, headers, ETags, rate limit -----------------------------------------------------------
@pytest.mark.parametrize("key", [None, "wrong"])
def test_missing_or_wrong_key_is_401(sandbox, key) -> None:
    headers = {"x-api-key": "not-a-key"} if key else {}
    r = requests.get(f"{sandbox.info.kss}/products", headers=headers, timeout=10)
    assert r.status_code == 401 and "Error" in r.json()
    assert {"X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(r.headers)


def test_headers_request_id_echo_and_private_cache(sandbox) -> None:
    r = get(sandbox, "states", headers={"X-Request-Id": "abc123XYZ"})
    assert r.headers["X-Request-Id"] == "abc123XYZ"
    assert "private" in r.headers["Cache-Control"] and r.headers["ETag"].startswith('W/"')
    other = get(sandbox, "states", headers={"X-Request-Id": "not ok!"})
    assert other.headers["X-Request-Id"] and other.headers["X-Request-Id"] != "not ok!"
    assert int(r.headers["RateLimit-Remaining"]) < int(r.headers["RateLimit-Limit"])


def test_etag_304_per_key(sandbox) -> None:
    first = get(sandbox, "products")
    etag = first.headers["ETag"]
    again = get(sandbox, "products", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert get(sandbox, "products", key="supplier", headers={"If-None-Match": etag}).status_code == 200
    assert get(sandbox, "products", params={"Page": 2}, headers={"If-None-Match": etag}).status_code == 200


def test_rate_limit_429_with_retry_after(limited) -> None:
    remaining = [int(get(limited, "states").headers["RateLimit-Remaining"]) for _ in range(3)]
    assert remaining == [2, 1, 0]
    r = get(limited, "states")
    assert r.status_code == 429 and r.json()["Error"] and int(r.headers["Retry-After"]) > 0
    assert get(limited, "states", key="customer").status_code == 200  # per key


# ---- defaults, filters, pagination, errors ------------------------------------------------------
def test_invoices_default_to_new_even_with_invoice_ids(sandbox) -> None:
    verified = data(get(sandbox, "invoices", params={"Statuses": "7", "PageSize": 1}))[0]["InvoiceID"]
    assert data(get(sandbox, "invoices", params={"InvoiceIDs": verified})) == []
    assert {i["Status"] for i in data(get(sandbox, "invoices", params={"PageSize": 500}))} == {1}
    assert data(get(sandbox, "invoices", params={"InvoiceIDs": verified, "Statuses": "1,7"}))[0]["Status"] == 7


def test_customer_and_product_defaults(sandbox) -> None:
    assert {c["AccountStatus"] for c in data(get(sandbox, "customers", params={"PageSize": 500}))} == {"Active"}
    assert {p["StatusID"] for p in data(get(sandbox, "products", params={"PageSize": 500}))} == {1}
    gone = data(get(sandbox, "products", params={"Statuses": "0", "PageSize": 1}))[0]["ProductID"]
    assert data(get(sandbox, "products", params={"ProductIDs": gone, "Statuses": "1"}))[0]["StatusID"] == 0
    on_hold = data(get(sandbox, "customers", params={"OnHold": "true", "PageSize": 500}))
    assert on_hold and all(c["OnHold"] for c in on_hold)


def test_suppliers_and_users_active_only_for_customer_and_supplier_keys(sandbox) -> None:
    assert not all(s["Active"] for s in data(get(sandbox, "suppliers", params={"PageSize": 500})))
    for key in ("customer", "supplier"):
        assert all(s["Active"] for s in data(get(sandbox, "suppliers", key=key, params={"PageSize": 500})))
        assert all(u["UserActive"] for u in data(get(sandbox, "users", key=key, params={"PageSize": 500})))
    assert not all(u["UserActive"] for u in data(get(sandbox, "users", params={"PageSize": 500})))


def test_page_size_capped_and_defaulted(sandbox) -> None:
    body = get(sandbox, "invoices", params={"Statuses": "7", "PageSize": 600}).json()
    assert body["PageSize"] == 500 and len(body["Data"]) == 500
    body = get(sandbox, "invoices", params={"Statuses": "7"}).json()
    assert body["PageSize"] == 50 and body["Page"] == 1 and body["HasNextPage"] is True


def test_exactly_full_last_page_then_empty_page(sandbox) -> None:
    params = {"Statuses": "1,2,3,4,5,7", "PageSize": 500}  # scale 1 has exactly 1,500 invoices
    last = get(sandbox, "invoices", params={**params, "Page": 3}).json()
    assert len(last["Data"]) == 500 and last["HasNextPage"] is False
    beyond = get(sandbox, "invoices", params={**params, "Page": 4}).json()
    assert beyond["Data"] == [] and beyond["HasNextPage"] is False


def test_empty_result_and_literal_or_encoded_commas(sandbox) -> None:
    assert get(sandbox, "customers", params={"CustomerIDs": "99999"}).json()["Data"] == []
    key = {"x-api-key": sandbox.info.keys["employee"]}
    literal = requests.get(f"{sandbox.info.kss}/customers?CustomerIDs=1,2,11", headers=key, timeout=10).json()
    encoded = requests.get(f"{sandbox.info.kss}/customers?CustomerIDs=1%2C2%2C11", headers=key, timeout=10).json()
    assert literal == encoded and [c["CustomerID"] for c in literal["Data"]] == [1, 2, 11]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("invoiceTransactions", {}, "InvoiceIDs parameter is required"),
        ("invoiceTransactions", {"InvoiceIDs": "abc"}, "InvoiceIDs"),
        ("invoiceCOAs", {}, "InvoiceIDs parameter is required"),
        ("invoices", {"Statuses": "x"}, "Statuses"),
        ("invoices", {"Statuses": "6"}, "Statuses"),
        ("invoices", {"StartDate": "2025-13-45"}, "StartDate"),
        ("customerPricing", {}, "CustomerIDs parameter is required"),
        ("customerPricing", {"CustomerIDs": "1", "EffectiveDate": "soon"}, "EffectiveDate"),
        ("customers", {"AccountStatuses": "Closed"}, "AccountStatuses"),
        ("customers", {"OnHold": "maybe"}, "OnHold"),
        ("purchaseTrans", {}, "PurchaseIDs parameter is required"),
        ("purchases", {"Statuses": "Lost"}, "Statuses"),
        ("products", {"Page": "0"}, "Page"),
        ("products", {"PageSize": "many"}, "PageSize"),
        ("customers/abc", {}, "customerID"),
    ],
)
def test_bad_parameters_are_400(sandbox, path, params, message) -> None:
    r = get(sandbox, path, params=params)
    assert r.status_code == 400 and message in r.json()["Error"]


def test_invoice_transactions_statuses_only_drop_verified(sandbox) -> None:
    by_status = {}
    for inv in data(get(sandbox, "invoices", params={"Statuses": "5,7", "PageSize": 500})):
        by_status.setdefault(inv["Status"], inv["InvoiceID"])
    ids = f"{by_status[5]},{by_status[7]}"
    seen = {r["InvoiceID"] for r in data(get(sandbox, "invoiceTransactions", params={"InvoiceIDs": ids}))}
    assert seen == {by_status[5], by_status[7]}
    seen = {
        r["InvoiceID"] for r in data(get(sandbox, "invoiceTransactions", params={"InvoiceIDs": ids, "Statuses": "1"}))
    }
    assert seen == {by_status[5]}


def test_unknown_endpoint_and_missing_record_are_404(sandbox) -> None:
    assert get(sandbox, "nothing").status_code == 404
    assert get(sandbox, "customers/99999").status_code == 404


# ---- scopes --------------------------------------------------------------------------------------
def test_customer_key_scope(sandbox) -> None:
    mine = {c["CustomerID"] for c in data(get(sandbox, "customers", key="customer"))}
    assert 1 <= len(mine) <= 2
    other = next(c for c in range(1, 41) if c not in mine)
    for path in ("invoices", "arAging", "retailerInventory", "allocations", "deliveryDays"):
        rows = data(
            get(
                sandbox,
                path,
                key="customer",
                params={"PageSize": 500, "Statuses": "1,2,3,4,5,7"} if path == "invoices" else {"PageSize": 500},
            )
        )
        assert {r["CustomerID"] for r in rows} <= mine, path
    ars = {p["ARAccountID"] for p in data(get(sandbox, "payments", key="customer", params={"PageSize": 500}))}
    assert len(ars) <= 2
    assert get(sandbox, "customers", key="customer", params={"CustomerIDs": other}).status_code == 403
    assert get(sandbox, f"customers/{other}", key="customer").status_code == 403
    assert get(sandbox, "customerPricing", key="customer", params={"CustomerIDs": other}).status_code == 403
    assert get(sandbox, "payments", key="customer", params={"ARAccountIDs": 700 + other}).status_code == 403
    for denied in ("inventory", "purchases", "purchaseTrans"):
        assert get(sandbox, denied, key="customer", params={"PurchaseIDs": 10001}).status_code == 403


def test_supplier_key_scope(sandbox) -> None:
    mine = {s["SupplierID"] for s in data(get(sandbox, "suppliers", key="supplier"))}
    assert 1 <= len(mine) <= 2
    products = data(get(sandbox, "products", key="supplier", params={"PageSize": 500}))
    assert products and {p["SupplierID"] for p in products} <= mine
    lines = data(
        get(
            sandbox,
            "invoiceTransactions",
            key="supplier",
            params={"InvoiceIDs": ",".join(str(i) for i in range(9001, 9101))},
        )
    )
    assert lines and {line["SupplierID"] for line in lines} <= mine
    other = next(s for s in range(1, 9) if s not in mine)
    assert get(sandbox, "products", key="supplier", params={"SupplierIDs": other}).status_code == 403
    for denied in (
        "arAging",
        "payments",
        "payments/openInvoices",
        "payments/applications",
        "payments/applications/requested",
    ):
        assert get(sandbox, denied, key="supplier").status_code == 403, denied
    assert (
        post_request(
            sandbox, "supplier", PaymentInvoiceNum="x", TargetInvoiceNum="y", ARAccountID=1, Amount=1
        ).status_code
        == 403
    )


# ---- lifecycle and the POST ----------------------------------------------------------------------
def _payment_and_target(sb) -> tuple[dict, dict]:
    payments = data(get(sb, "payments", params={"PageSize": 500}))
    for payment in sorted(payments, key=lambda p: -Decimal(p["AvailableBalance"])):
        targets = [
            i
            for i in data(get(sb, "payments/openInvoices", params={"ARAccountIDs": payment["ARAccountID"]}))
            if Decimal(i["OpenBalance"]) >= 10
        ]
        if targets:
            return payment, targets[0]
    raise AssertionError("no payment with an open invoice")


def _available(sb, payment_num: str) -> Decimal:
    rows = data(get(sb, "payments", params={"PageSize": 500}))
    return next(Decimal(p["AvailableBalance"]) for p in rows if p["PaymentInvoiceNum"] == payment_num)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Amount": "-5"}, "positive"),
        ({"Amount": "0"}, "positive"),
        ({"Amount": "abc"}, "number"),
        ({"Amount": "99999999"}, "available balance"),
        ({"PaymentInvoiceNum": "PAY-NOPE"}, "not found"),
        ({"TargetInvoiceNum": "INV-2026-009999999"}, "not found"),
        ({"ARAccountID": "x"}, "ARAccountID"),
    ],
)
def test_post_validation(fresh_sandbox, change, message) -> None:
    payment, target = _payment_and_target(fresh_sandbox)
    params = {
        "PaymentInvoiceNum": payment["PaymentInvoiceNum"],
        "TargetInvoiceNum": target["InvoiceNum"],
        "ARAccountID": payment["ARAccountID"],
        "Amount": "1.00",
        **change,
    }
    r = post_request(fresh_sandbox, **params)
    assert r.status_code == 400 and message in r.json()["Error"]


def test_post_rejects_target_in_another_ar_account(fresh_sandbox) -> None:
    payment, _ = _payment_and_target(fresh_sandbox)
    foreign = next(
        i
        for i in data(get(fresh_sandbox, "payments/openInvoices", params={"PageSize": 500}))
        if i["ARAccountID"] != payment["ARAccountID"]
    )
    r = post_request(
        fresh_sandbox,
        PaymentInvoiceNum=payment["PaymentInvoiceNum"],
        Amount="1.00",
        TargetInvoiceNum=foreign["InvoiceNum"],
        ARAccountID=payment["ARAccountID"],
    )
    assert r.status_code == 400 and "does not belong" in r.json()["Error"]


def test_request_lifecycle_observed_through_public_endpoints(fresh_sandbox) -> None:
    sb = fresh_sandbox
    payment, target = _payment_and_target(sb)
    num, ar = payment["PaymentInvoiceNum"], payment["ARAccountID"]
    before = _available(sb, num)
    created = []
    for _ in range(5):  # request ids n..n+4: at least one is confirmed and the id%5 rule rejects one
        r = post_request(
            sb, PaymentInvoiceNum=num, TargetInvoiceNum=target["InvoiceNum"], ARAccountID=ar, Amount="1.00"
        )
        created.append(data_post(r))
    assert _available(sb, num) == before - 5
    ids = {c["RequestID"] for c in created}

    def mine() -> dict[int, dict]:
        rows = data(get(sb, "payments/applications/requested", params={"ARAccountIDs": ar, "PageSize": 500}))
        return {r["RequestID"]: r for r in rows if r["RequestID"] in ids}

    assert {r["Status"] for r in mine().values()} == {"Pending"}
    sb.advance()
    assert {r["Status"] for r in mine().values()} == {"Exported"}
    sb.advance()
    final = mine()
    assert {r["Status"] for r in final.values()} == {"Confirmed", "Rejected"}
    confirmed = [r for r in final.values() if r["Status"] == "Confirmed"]
    apps = {
        a["PaymentApplicationID"]: a
        for a in data(
            get(
                sb,
                "payments/applications",
                params={"ARAccountIDs": ar, "TargetInvoiceNums": target["InvoiceNum"], "PageSize": 500},
            )
        )
    }
    assert all(r["MatchedPaymentApplicationID"] in apps and r["TimeConfirmed"] for r in confirmed)
    assert _available(sb, num) == before - len(confirmed)
    inv = data(get(sb, "invoices", params={"InvoiceIDs": target["InvoiceID"], "Statuses": "1,2,3,4,5,7"}))[0]
    assert Decimal(inv["OpenBalance"]) == Decimal(target["OpenBalance"]) - len(confirmed)


def data_post(r: requests.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()["Data"]


def test_admin_routes_over_http(fresh_sandbox) -> None:
    root = fresh_sandbox.info.kss.rsplit("/kss/", 1)[0]
    assert requests.post(f"{root}/_admin/advance", params={"steps": 2}, timeout=10).status_code == 200
    r = requests.post(f"{root}/_admin/faults", json={"burst_429": 1}, timeout=10)
    assert r.status_code == 200 and r.json()["burst_429"] == 1
    assert get(fresh_sandbox, "states").status_code == 429
    log = requests.get(f"{root}/_admin/requests", timeout=10).json()
    assert log[-1]["path"] == "/states" and log[-1]["status"] == 429
    assert requests.post(f"{root}/_admin/faults", json={"nonsense": 1}, timeout=10).status_code == 400


# ---- faults --------------------------------------------------------------------------------------
def test_fault_500_and_burst_429_and_latency(fresh_sandbox) -> None:
    sb = fresh_sandbox
    sb.set_faults(fault_500_rate=1.0)
    r = get(sb, "states")
    assert r.status_code == 500 and r.json()["Error"]
    sb.set_faults(fault_500_rate=0.0, burst_429=2)
    assert [get(sb, "states").status_code for _ in range(3)] == [429, 429, 200]
    sb.set_faults(latency_ms=150)
    start = time.monotonic()
    get(sb, "states")
    assert time.monotonic() - start >= 0.15


def test_drop_after_post_applies_then_drops(fresh_sandbox) -> None:
    sb = fresh_sandbox
    payment, target = _payment_and_target(sb)
    sb.set_faults(drop_after_post=1)
    with pytest.raises(requests.ConnectionError):
        post_request(
            sb,
            PaymentInvoiceNum=payment["PaymentInvoiceNum"],
            TargetInvoiceNum=target["InvoiceNum"],
            ARAccountID=payment["ARAccountID"],
            Amount="2.00",
        )
    rows = data(
        get(
            sb,
            "payments/applications/requested",
            params={"ARAccountIDs": payment["ARAccountID"], "Statuses": "Pending"},
        )
    )
    assert any(r["Amount"] == "2.00" and r["TargetInvoiceNum"] == target["InvoiceNum"] for r in rows)
    assert sb.options.drop_after_post == 0


def test_requests_log_records_what_was_received(fresh_sandbox) -> None:
    get(fresh_sandbox, "customers", key="customer", params={"CustomerIDs": "1,2"})
    entry = fresh_sandbox.requests_log()[-1]
    assert entry["method"] == "GET" and entry["path"] == "/customers" and entry["query"] == {"CustomerIDs": "1,2"}
    assert entry["key_type"] == "customer" and entry["status"] in (200, 403)
    assert not any(k in json.dumps(fresh_sandbox.requests_log()) for k in fresh_sandbox.info.keys.values())


# ---- revision 2026 and live quirks ---------------------------------------------------------------
def test_payments_revision_2026() -> None:
    with start_sandbox(options=SandboxOptions(payments_revision="2026")) as sb:
        assert get(sb, "payments/applications/requested").status_code == 404
        assert post_request(sb, PaymentInvoiceNum="x", TargetInvoiceNum="y", ARAccountID=1, Amount=1).status_code == 404
        rows = all_rows(sb, "payments/applications")
        assert {r["Status"] for r in rows} == {"Pending", "Exported", "Confirmed", "Rejected"}
        assert any(r["RequestID"] is None and r["Status"] == "Confirmed" for r in rows)
        assert all((r["PaymentApplicationID"] is not None) == (r["Status"] == "Confirmed") for r in rows)
        payment, target = _payment_and_target(sb)
        created = data_post(
            post_request(
                sb,
                _path="payments/applications",
                PaymentInvoiceNum=payment["PaymentInvoiceNum"],
                TargetInvoiceNum=target["InvoiceNum"],
                ARAccountID=payment["ARAccountID"],
                Amount="1.00",
            )
        )
        pending = all_rows(sb, "payments/applications", Statuses="Pending")
        assert created["RequestID"] in {r["RequestID"] for r in pending}
        assert data(get(sb, "payments/types")) and data(get(sb, "vendors")) and data(get(sb, "suppliers/creditTerms"))


def test_live_quirks_change_records_default_does_not() -> None:
    with start_sandbox(options=SandboxOptions(live_quirks=True)) as sb:
        purchases = data(get(sb, "purchases", params={"PageSize": 500}))
        assert all({"CurrencyCode", "SyncVersion"} <= set(p) for p in purchases)
        customers = data(get(sb, "customers", key="supplier", params={"PageSize": 500}))
        assert all("SalesRepName" not in c and "OnHold" not in c for c in customers)
        products = data(get(sb, "products", params={"PageSize": 500}))
        field_sets = {frozenset(p) for p in products}
        assert len(field_sets) > 1, "some records miss documented fields or carry extra ones"


# ---- scale and CLI -------------------------------------------------------------------------------
def test_large_scale_reaches_100k_lines_lazily(capsys) -> None:
    start = time.perf_counter()
    with start_sandbox(options=SandboxOptions(scale=15)) as sb:
        started = time.perf_counter() - start
        ds = sb.app.ds
        lines = sum(len(ds.lines(inv)) for inv in ds.invoices)
        assert lines >= 100_000
        rows = data(get(sb, "invoiceTransactions", params={"InvoiceIDs": ds.invoices[-1].id}))
        assert rows and rows[0]["InvoiceID"] == ds.invoices[-1].id
    with capsys.disabled():
        print(f"\nsandbox scale 15: {len(ds.invoices)} invoices, {lines} lines, started in {started:.2f}s")


def test_cli_help_has_examples() -> None:
    runner = CliRunner()
    for args in ([], ["serve"], ["advance"]):
        result = runner.invoke(sandbox_group, [*args, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output


def test_cli_advance_against_running_sandbox(fresh_sandbox) -> None:
    result = CliRunner().invoke(sandbox_group, ["advance", "--url", fresh_sandbox.info.kss, "--steps", "3"])
    assert result.exit_code == 0, result.output
    assert "advanced 3" in result.output


def test_cli_serve_prints_one_json_line() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sheetsync.cli import main; main()", "sandbox", "serve", "--seed", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"kss", "kotis", "kotis_stores", "keys"}
        assert set(info["keys"]) == {"employee", "customer", "supplier", "kotis"}
        r = requests.get(f"{info['kss']}/states", headers={"x-api-key": info["keys"]["employee"]}, timeout=10)
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_kotis_apps_are_mounted_and_logged(sandbox) -> None:
    pytest.importorskip("sheetsync.sandbox.kotis")
    r = requests.get(
        f"{sandbox.info.kotis}/skus/quantity", headers={"Authorization": sandbox.info.keys["kotis"]}, timeout=10
    )
    assert r.status_code == 200
    entry = sandbox.requests_log()[-1]
    assert entry["api"] == "kotis" and entry["path"] == "/skus/quantity" and entry["key_type"] == "kotis"


def test_cli_serve_fault_flags_reach_the_server() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sheetsync.cli import main; main()", "sandbox", "serve", "--burst-429", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        headers = {"x-api-key": info["keys"]["employee"]}
        first = requests.get(f"{info['kss']}/states", headers=headers, timeout=10)
        second = requests.get(f"{info['kss']}/states", headers=headers, timeout=10)
        assert first.status_code == 429 and "Retry-After" in first.headers
        assert second.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
