"""The KSS endpoint registry and record typing: every documented endpoint, parameter refusal, key types."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sheetsync.apis import registry
from sheetsync.apis.records import loads, type_record
from sheetsync.errors import ForbiddenError, ParameterError


def test_all_documented_endpoints_are_registered():
    gets = [e for e in registry.ENDPOINTS.values() if e.method == "GET"]
    posts = [e for e in registry.ENDPOINTS.values() if e.method == "POST"]
    assert len(gets) == 34 and [p.name for p in posts] == ["payments/applications/requested"]
    assert registry.ENDPOINTS["customers/{customerID}"].single
    assert registry.ENDPOINTS["invoiceTransactions/{invoiceID}"].paginated
    assert registry.ENDPOINTS["arAging"].key_types == ("employee", "customer")
    assert registry.ENDPOINTS["purchases"].key_types == ("employee", "supplier")
    assert registry.ENDPOINTS["customerPricing"].params["CustomerIDs"].required
    assert "TotalBalanceOutstanding" in registry.ENDPOINTS["arAging"].fields
    assert all(e.fields for e in gets), "every documented endpoint has example fields"
    assert "Statuses" in registry.NEWER_REVISION["payments/applications"].params


@pytest.mark.parametrize(
    ("name", "params", "raw", "expected"),
    [
        (
            "products",
            {"SupplierIDs": [1, 2], "States": ["CA", "NJ"]},
            None,
            [("SupplierIDs", "1,2"), ("States", "CA,NJ")],
        ),
        ("products", {"SupplierIDs": "1,2", "Statuses": 1}, None, [("SupplierIDs", "1,2"), ("Statuses", "1")]),
        (
            "invoices",
            {"StartDate": date(2025, 1, 1), "EndDate": "2025-02-01"},
            None,
            [("StartDate", "2025-01-01"), ("EndDate", "2025-02-01")],
        ),
        ("suppliers", {"Active": [True, False]}, None, [("Active", "true,false")]),
        ("customers", {"OnHold": True}, None, [("OnHold", "true")]),
        ("products", None, {"Brand": "x y", "Extra": [1, 2]}, [("Brand", "x y"), ("Extra", "1,2")]),
    ],
)
def test_encode_params(name, params, raw, expected):
    assert registry.endpoint(name).encode_params(params, raw) == expected


def test_post_params_encode_amount_exactly():
    ep = registry.endpoint("payments/applications/requested", "POST")
    pairs = ep.encode_params(
        {"PaymentInvoiceNum": "P-1", "TargetInvoiceNum": "T-1", "ARAccountID": 7, "Amount": Decimal("12.50")}
    )
    assert ("Amount", "12.50") in pairs


@pytest.mark.parametrize(
    ("name", "params", "pattern"),
    [
        (
            "products",
            {"SuplierIDs": [1]},
            r"products: unknown parameter 'SuplierIDs' \(did you mean SupplierIDs\?\); "
            r"allowed: SupplierIDs, ProductIDs, States, Statuses",
        ),
        ("products", {"supplierids": [1]}, r"did you mean SupplierIDs"),
        ("products", {"SupplierIDs": ["abc"]}, r"parameter SupplierIDs expects a number or a list of numbers"),
        ("products", {"SupplierIDs": 1.5}, r"parameter SupplierIDs expects"),
        ("suppliers", {"Active": "yes"}, r"parameter Active expects true/false"),
        ("invoices", {"StartDate": "01/02/2025"}, r"parameter StartDate expects a date, YYYY-MM-DD"),
        ("customerPricing", {}, r"customerPricing: parameter CustomerIDs is required"),
        ("productCategories", {"X": 1}, r"unknown parameter 'X'; allowed: none"),
    ],
)
def test_bad_parameters_refused(name, params, pattern):
    with pytest.raises(ParameterError, match=pattern):
        registry.endpoint(name).encode_params(params)


def test_unknown_endpoint_suggests():
    with pytest.raises(ParameterError, match=r"unknown endpoint 'prodcts' \(did you mean products\?\)"):
        registry.endpoint("prodcts")


def test_resolve_concrete_paths():
    ep, values = registry.resolve("customers/12")
    assert ep.name == "customers/{customerID}" and values == {"customerID": 12}
    assert ep.url_path(values) == "/customers/12"
    assert registry.resolve("/products")[0].name == "products"
    with pytest.raises(ParameterError, match="must be a number"):
        registry.resolve("customers/abc")


def test_key_type_refused_naming_endpoint():
    with pytest.raises(ForbiddenError, match="GET /arAging is not available to Supplier keys"):
        registry.endpoint("arAging").check_key_type("supplier")
    with pytest.raises(ForbiddenError, match=r"GET /purchases/\{purchaseID\} is not available to Customer keys"):
        registry.endpoint("purchases/{purchaseID}").check_key_type("customer")


def test_record_typing():
    raw = loads(
        b'{"CustomerID": 1, "OpenCredit": "-31.050000", "TotalCases": "30", "UnitPrice": 15.5,'
        b' "DeliveryDays": "1", "PostalCode": "0042", "StartDate": "2025-01-01",'
        b' "TimeUpdated": "2025-01-15T10:00:00.000Z", "OnHold": false, "PromotionID": null,'
        b' "Mystery": "5.60", "MysteryCode": "0042", "Invoices_1_30": [{"InvoiceID": 5, "InvoiceNum": "X-5"}],'
        b' "SupplierID": "17"}'
    )
    rec = type_record(raw)
    assert rec["OpenCredit"] == Decimal("-31.050000") and isinstance(rec["OpenCredit"], Decimal)
    assert rec["TotalCases"] == Decimal("30")
    assert rec["UnitPrice"] == Decimal("15.5") and isinstance(rec["UnitPrice"], Decimal)
    assert rec["DeliveryDays"] == "1" and rec["PostalCode"] == "0042" and rec["MysteryCode"] == "0042"
    assert rec["StartDate"] == date(2025, 1, 1)
    assert rec["TimeUpdated"] == datetime(2025, 1, 15, 10, tzinfo=UTC)
    assert rec["OnHold"] is False and rec["PromotionID"] is None
    assert rec["Mystery"] == Decimal("5.60")
    assert rec["Invoices_1_30"] == [{"InvoiceID": 5, "InvoiceNum": "X-5"}]
    assert rec["SupplierID"] == 17
    assert not any(isinstance(v, float) for v in rec.values())


# ---- Kotis entries: the same registry ---------------------------------------------------------------
def test_kotis_endpoints_are_registry_entries_with_documented_paths_and_params() -> None:
    from sheetsync.apis.registry import KOTIS, kotis_endpoint, lookup

    assert sorted(KOTIS) == [
        "POST orders/create",
        "POST redemption_codes/create",
        "orders/by_source",
        "orders/status",
        "skus/quantity",
    ]
    by_source = lookup("kotis", "orders/by_source")
    assert by_source is kotis_endpoint("kotis/orders/by_source") and by_source.api == "kotis"
    assert {p.name: (p.type, p.required) for p in by_source.params.values()} == {
        "source": ("string", True),
        "start_date": ("date", True),
        "end_date": ("date", True),
        "portal_name": ("string", False),
    }
    assert lookup("kotis", "redemption_codes/create", "POST").host == "stores"
    assert lookup("kss", "products").api == "kss"


@pytest.mark.parametrize(
    ("old", "new"),
    [("sku_quantities", "skus/quantity"), ("order_status", "orders/status"), ("orders_by_source", "orders/by_source")],
)
def test_old_kotis_names_are_accepted_with_a_deprecation_line(old: str, new: str) -> None:
    from sheetsync.apis.registry import DeprecatedName, kotis_endpoint

    with pytest.warns(DeprecatedName, match=f"Kotis endpoint '{old}' is an old name: write '{new}'"):
        assert kotis_endpoint(old).name == new


def test_old_kotis_parameter_names_are_renamed_and_checked() -> None:
    from sheetsync.apis.registry import DeprecatedName, kotis_endpoint, kotis_params

    ep = kotis_endpoint("orders/by_source")
    with pytest.warns(DeprecatedName, match="'start' is an old name: write 'start_date'"):
        assert kotis_params(ep, {"source": "all", "start": "2026-01-01", "end_date": "2026-01-31"}) == {
            "source": "all",
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
        }
    with pytest.raises(ParameterError, match="start_date is required"):
        kotis_params(ep, {"source": "all", "end_date": "2026-01-31"})
    with pytest.raises(ParameterError, match=r"unknown parameter 'portal'.*did you mean portal_name"):
        kotis_params(ep, {"source": "all", "start_date": "2026-01-01", "end_date": "2026-01-31", "portal": "x"})
    with pytest.raises(
        ParameterError, match=r"unknown Kotis endpoint 'orders/bysource' \(did you mean orders/by_source"
    ):
        kotis_endpoint("orders/bysource")
