"""The one registry of endpoints of both APIs: paths, methods, key types, parameters, paging and record fields.

KSS: built from ``kss-api.txt`` (the 34 documented GETs and the POST) plus the newer payments revision of
``kss-field-notes.md`` (``NEWER_REVISION``), used as fallbacks by the client. Kotis: ``KOTIS``, built
from ``kotis-api.txt`` (three GETs, two POSTs), looked up with ``kotis_endpoint(name, method)``; the
names written before this registry (``sku_quantities``, ``order_status``, ``orders_by_source`` and the
``start``/``end`` parameters) are accepted with a ``DeprecatedName`` warning (``kotis_params``).

Names are the documented paths without the leading slash, path parameters in braces:
``"products"``, ``"products/{productID}"``, ``"payments/applications/requested"``. ``ENDPOINTS`` is
keyed by that name for GETs; the POST is keyed ``"POST payments/applications/requested"`` (use
``endpoint(name, method)``).

``Endpoint`` and ``Param`` (what an entry is, how its parameters encode) are in ``endpoints.py``.
``resolve("customers/12") -> (Endpoint, {"customerID": 12})`` accepts either a template name or a
concrete path. How each documented field is typed (``field_kind``, ``field_type``, money and identifier
fields) is in ``fields.py``, re-exported here.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sheetsync.apis.endpoints import KEY_TYPES as KEY_TYPES  # re-exported: callers know the registry
from sheetsync.apis.endpoints import Endpoint, Param
from sheetsync.apis.fields import FIELD_KINDS as FIELD_KINDS  # re-exported: the registry's older home
from sheetsync.apis.fields import IDENTIFIER_FIELDS as IDENTIFIER_FIELDS
from sheetsync.apis.fields import MONEY_FIELDS as MONEY_FIELDS
from sheetsync.apis.fields import field_kind as field_kind
from sheetsync.apis.fields import field_type as field_type
from sheetsync.errors import ParameterError
from sheetsync.suggest import did_you_mean

# (method, path, flags, parameters "Name:type" with "!" for required, documented record fields)
# flags: paged, single, no-customer / no-supplier ("Not available to ... keys")
_DOCUMENTED: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "GET",
        "/allocations",
        "paged",
        "CustomerIDs:number[] SupplierIDs:number[] States:string[]",
        "AllocationID ProductID CustomerID Units AllocationTypeID StartDate EndDate TimeUpdated",
    ),
    (
        "GET",
        "/arAging",
        "paged no-supplier",
        "CustomerIDs:number[] States:string[]",
        "CustomerID OpenCredit CurrentDue Due_1_30 Due_31_60 Due_61_90 Due_91 CloseDate "
        "TotalBalanceOutstanding StatementLink CurrentInvoices Invoices_1_30 Invoices_31_60 "
        "Invoices_61_90 Invoices_91 StatementDate TimeUpdated CreditInvoices",
    ),
    (
        "GET",
        "/customerPricing",
        "paged",
        "CustomerIDs:number[]! EffectiveDate:date",
        "ProductID CustomerID FullPrice UnitPrice Discount PromotionID StartDate EndDate TimeUpdated",
    ),
    (
        "GET",
        "/customers",
        "paged",
        "CustomerIDs:number[] States:string[] AccountStatuses:string[] OnHold:string",
        "CustomerID CustomerName CustomerNameAlt ChainName LicenseNum Address LocationID OnHold "
        "SalesRepEmail SalesRepName SalesRepPhone SalesRepUserID ProfilePictureURL "
        "CollectionAgentFullName CollectionAgentEmail State DeliveryDays NextDeliveryDates AccountStatus "
        "DeliveryDates DeliveryMinimum TimeUpdated",
    ),
    (
        "GET",
        "/customers/{customerID}",
        "single",
        "",
        "CustomerID CustomerName CustomerNameAlt ChainName LicenseNum Address LocationID OnHold "
        "SalesRepEmail SalesRepName SalesRepPhone SalesRepUserID ProfilePictureURL "
        "CollectionAgentFullName CollectionAgentEmail State DeliveryDays NextDeliveryDates AccountStatus "
        "DeliveryDates DeliveryMinimum TimeUpdated",
    ),
    ("GET", "/deliveryDays", "paged", "CustomerIDs:number[] States:string[]", "CustomerID DeliveryDays DeliveryDates"),
    (
        "GET",
        "/inventory",
        "paged no-customer",
        "SupplierIDs:number[] ProductIDs:number[] LocationIDs:number[] States:string[]",
        "LocationID ProductID OnFloorInventory PreSales Allocated NotAuthorized AvailableUnits "
        "PurchaseTransID DOI AvgDailySales90d TimeUpdated",
    ),
    (
        "GET",
        "/retailerInventory",
        "paged",
        "CustomerIDs:number[] SupplierIDs:number[] ProductIDs:number[] States:string[]",
        "ID ProductID CustomerID LastInventoryDate Inventory DailySales TimeUpdated",
    ),
    (
        "GET",
        "/invoices",
        "paged",
        "CustomerIDs:number[] InvoiceIDs:number[] States:string[] Statuses:number[] StartDate:date EndDate:date",
        "InvoiceID CustomerID CustomerName InvoiceNum OpenDebit OpenCredit PONum PODate TermID PDFURL "
        "Memo Date DueDate Status InvoiceTotal SubmittedByUserID SubmittedByUserName "
        "SubmittedByUserEmail BuiltByUserID BuiltByUserName BuiltByUserEmail InvoiceTimeCreated "
        "InvoiceLastUpdated TotalNumUnits TotalCases TotalFullPrice TotalExtPrice TotalDiscount "
        "OpenBalance",
    ),
    (
        "GET",
        "/invoices/{invoiceID}",
        "single",
        "",
        "InvoiceID CustomerID CustomerName InvoiceNum OpenDebit OpenCredit PONum PODate TermID PDFURL "
        "Memo Date DueDate Status InvoiceTotal SubmittedByUserID SubmittedByUserName "
        "SubmittedByUserEmail BuiltByUserID BuiltByUserName BuiltByUserEmail InvoiceTimeCreated "
        "InvoiceLastUpdated TotalNumUnits TotalCases TotalFullPrice TotalExtPrice TotalDiscount "
        "OpenBalance",
    ),
    (
        "GET",
        "/invoiceTransactions",
        "paged",
        "InvoiceIDs:number[]! Statuses:number[]",
        "InvoiceTransID InvoiceID CustomerID ProductID ProductName Cases NumUnits Ordered BackOrder "
        "FullPrice Discount UnitPrice ExtPrice TimeUpdated SupplierID PromotionID BatchCode COA_URL",
    ),
    (
        "GET",
        "/invoiceTransactions/{invoiceID}",
        "paged",
        "",
        "InvoiceTransID InvoiceID CustomerID ProductID ProductName Cases NumUnits Ordered BackOrder "
        "FullPrice Discount UnitPrice ExtPrice TimeUpdated SupplierID PromotionID BatchCode COA_URL",
    ),
    (
        "GET",
        "/invoiceCOAs",
        "paged",
        "InvoiceIDs:number[]!",
        "InvoiceID ProductID InvoiceTransID BatchCode COA_URL TimeUpdated",
    ),
    (
        "GET",
        "/invoiceCOAs/{invoiceID}",
        "paged",
        "",
        "InvoiceID ProductID InvoiceTransID BatchCode COA_URL TimeUpdated",
    ),
    (
        "GET",
        "/locations",
        "paged",
        "LocationIDs:number[] States:string[]",
        "LocationID Location DBA Address Address2 Address3 City State PostalCode TimeUpdated",
    ),
    (
        "GET",
        "/locations/{locationID}",
        "single",
        "",
        "LocationID Location DBA Address Address2 Address3 City State PostalCode TimeUpdated",
    ),
    (
        "GET",
        "/menuPromotions",
        "paged",
        "SupplierIDs:number[] States:string[] StartDate:date EndDate:date",
        "MenuPromotionID SupplierID SupplierName State Description StartDate EndDate TimeUpdated",
    ),
    (
        "GET",
        "/promotionsProducts",
        "paged",
        "SupplierIDs:number[] States:string[]",
        "PromotionID PromotionTypeID States PromotionName ProductOverrideType UnitPrice StartDate "
        "EndDate AllProducts ProductIDs TimeUpdated",
    ),
    ("GET", "/productCategories", "paged", "", "ProductCategoryID CategoryName Sequence TimeUpdated"),
    (
        "GET",
        "/products",
        "paged",
        "SupplierIDs:number[] ProductIDs:number[] States:string[] Statuses:number[]",
        "ProductID Supplier SupplierID ProductName BrandFamily ProductTypeName UnitNetWeight "
        "WholesaleUnitsPerCase Description Ingredients ThumbnailImageURL FullSizeImageURL Potency "
        "PotencyTHC Blend KSSMenuCategory KSSLiveCategoryID StatusID TimeUpdated State IsSample "
        "ProductGroupID BrandStyle PackageID PackageName ProductTypeID StrainName StrainID Flavor "
        "BrandID BrandName",
    ),
    (
        "GET",
        "/products/{productID}",
        "single",
        "",
        "ProductID Supplier SupplierID ProductName BrandFamily ProductTypeName UnitNetWeight "
        "WholesaleUnitsPerCase Description Ingredients ThumbnailImageURL FullSizeImageURL Potency "
        "PotencyTHC Blend KSSMenuCategory KSSLiveCategoryID StatusID TimeUpdated State IsSample "
        "ProductGroupID BrandStyle PackageID PackageName ProductTypeID StrainName StrainID Flavor "
        "BrandID BrandName",
    ),
    (
        "GET",
        "/states",
        "paged",
        "States:string[]",
        "StateAbbreviation StateName OrderCutOffTime TimeZone OrderCutOffDaysInAdvance TimeUpdated",
    ),
    (
        "GET",
        "/suppliers",
        "paged",
        "SupplierIDs:number[] States:string[] Active:boolean[]",
        "SupplierID Supplier State Active Description BrandAssetsURL SupplierWebsiteURL TimeUpdated",
    ),
    (
        "GET",
        "/suppliers/{supplierID}",
        "single",
        "",
        "SupplierID Supplier State Active Description BrandAssetsURL SupplierWebsiteURL TimeUpdated",
    ),
    (
        "GET",
        "/users",
        "paged",
        "UserIDs:number[] States:string[] CustomerIDs:number[] SupplierIDs:number[] Roles:string[] Active:boolean[]",
        "UserID SiteUserID UserActive KSSLiveAccess Email States Role CustomerIDs SupplierIDs LocationIDs PowerUser",
    ),
    (
        "GET",
        "/users/{userID}",
        "single",
        "",
        "UserID SiteUserID UserActive KSSLiveAccess Email States Role CustomerIDs SupplierIDs LocationIDs PowerUser",
    ),
    (
        "GET",
        "/payments",
        "paged no-supplier",
        "ARAccountIDs:number[] PaymentTypeIDs:number[]",
        "PaymentID PaymentInvoiceID PaymentInvoiceNum ARAccountID PaymentTypeID PaymentTypeName Amount "
        "SupplierID LoadSheetStatusID PostDate TimeCreated TimeUpdated AvailableBalance",
    ),
    (
        "GET",
        "/payments/openInvoices",
        "paged no-supplier",
        "ARAccountIDs:number[]",
        "InvoiceID InvoiceNum CustomerID ARAccountID InvoiceTotal OpenDebit OpenCredit OpenBalance "
        "CreditTermID TermID DueDate Date PONum",
    ),
    (
        "GET",
        "/payments/applications",
        "paged no-supplier",
        "ARAccountIDs:number[] PaymentInvoiceNums:string[] TargetInvoiceNums:string[]",
        "PaymentApplicationID PaymentInvoiceID PaymentInvoiceNum TargetInvoiceID TargetInvoiceNum "
        "ARAccountID Amount AppliedBy TimeApplied TimeCreated TimeUpdated",
    ),
    (
        "GET",
        "/payments/applications/requested",
        "paged no-supplier",
        "ARAccountIDs:number[] Statuses:string[]",
        "RequestID PaymentInvoiceNum TargetInvoiceNum ARAccountID Amount Status RequestedByUserID "
        "TimeRequested TimeExported TimeConfirmed MatchedPaymentApplicationID TimeUpdated",
    ),
    (
        "POST",
        "/payments/applications/requested",
        "no-supplier",
        "PaymentInvoiceNum:string! TargetInvoiceNum:string! ARAccountID:number! Amount:number!",
        "RequestID PaymentInvoiceNum TargetInvoiceNum ARAccountID Amount Status RequestedByUserID "
        "TimeRequested TimeExported TimeConfirmed MatchedPaymentApplicationID TimeUpdated",
    ),
    (
        "GET",
        "/purchases",
        "paged no-customer",
        "PurchaseIDs:number[] VendorIDs:number[] LocationIDs:number[] Statuses:string[] StartDate:date EndDate:date",
        "PurchaseID ReceiveDate ShipmentNum ShipmentID ToLocationID ToLocationName VendorName VendorID "
        "PostDate Status PONum Freight Tax OtherCost Total TotalCases PublicPDFLink Memo InvoiceDate "
        "DueDate Terms TermID LastEditTime LastCalcTime TimeUpdated",
    ),
    (
        "GET",
        "/purchases/{purchaseID}",
        "single no-customer",
        "",
        "PurchaseID ReceiveDate ShipmentNum ShipmentID ToLocationID ToLocationName VendorName VendorID "
        "PostDate Status PONum Freight Tax OtherCost Total TotalCases PublicPDFLink Memo InvoiceDate "
        "DueDate Terms TermID LastEditTime LastCalcTime TimeUpdated",
    ),
    (
        "GET",
        "/purchaseTrans",
        "paged no-customer",
        "PurchaseIDs:number[]!",
        "PurchaseTransID PurchaseID ProductID Ordered NumUnits FOB DepositCost ExtPrice ExpirationDate "
        "CodeDate BatchCode LaidInCost PalletTag Cases Weight TimeUpdated",
    ),
    (
        "GET",
        "/salesReps",
        "paged",
        "SupplierIDs:number[] CustomerIDs:number[]",
        "UserID Name Email Type Suppliers Customers",
    ),
)

_REQUEST_FIELDS = (
    "RequestID PaymentInvoiceNum TargetInvoiceNum ARAccountID Amount Status RequestedByUserID "
    "TimeRequested TimeExported TimeConfirmed MatchedPaymentApplicationID TimeUpdated"
)

# The newer revision (kss-field-notes.md): payment requests and confirmed applications merged into one
# list with a Status, created by POST /payments/applications; three extra lists (fields undocumented).
_NEWER: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "GET",
        "/payments/applications",
        "paged no-supplier",
        "ARAccountIDs:number[] Statuses:string[] PaymentInvoiceNums:string[] TargetInvoiceNums:string[]",
        _REQUEST_FIELDS.replace("MatchedPaymentApplicationID", "PaymentApplicationID"),
    ),
    (
        "POST",
        "/payments/applications",
        "no-supplier",
        "PaymentInvoiceNum:string! TargetInvoiceNum:string! ARAccountID:number! Amount:number!",
        _REQUEST_FIELDS.replace("MatchedPaymentApplicationID", "PaymentApplicationID"),
    ),
    ("GET", "/payments/types", "paged no-supplier", "", ""),
    ("GET", "/suppliers/creditTerms", "paged", "", ""),
    ("GET", "/vendors", "paged", "", ""),
)


def _build(row: tuple[str, str, str, str, str], revision: str) -> Endpoint:
    method, path, flags, params_text, fields_text = row
    flag_set = set(flags.split())
    params: dict[str, Param] = {}
    for spec in params_text.split():
        name, typ = spec.split(":")
        params[name] = Param(name, typ.rstrip("!"), required=typ.endswith("!"))
    excluded = {f.removeprefix("no-") for f in flag_set if f.startswith("no-")}
    return Endpoint(
        name=path.lstrip("/"),
        path=path,
        method=method,
        key_types=tuple(k for k in KEY_TYPES if k not in excluded),
        params=params,
        paginated="paged" in flag_set,
        fields=tuple(fields_text.split()),
        single="single" in flag_set,
        revision=revision,
        path_params=tuple(re.findall(r"{(\w+)}", path)),
    )


ENDPOINTS: dict[str, Endpoint] = {e.key: e for e in (_build(r, "2025") for r in _DOCUMENTED)}
NEWER_REVISION: dict[str, Endpoint] = {e.key: e for e in (_build(r, "2026") for r in _NEWER)}

# Which path of the newer revision replaces a documented one that answers 404.
FALLBACKS: dict[str, str] = {
    "payments/applications/requested": "payments/applications",
    "POST payments/applications/requested": "POST payments/applications",
    "payments/applications": "payments/applications",  # confirmed only: add Statuses=Confirmed
}


def endpoint(name: str, method: str = "GET") -> Endpoint:
    """The endpoint called `name` (documented or newer revision); ParameterError with a suggestion."""
    name = name.strip().lstrip("/")
    key = name if method.upper() == "GET" else f"{method.upper()} {name}"
    found = ENDPOINTS.get(key) or NEWER_REVISION.get(key)
    if found is None:
        known = [k for k in (*ENDPOINTS, *NEWER_REVISION) if " " not in k]
        hint = did_you_mean(name, known, quote="")
        raise ParameterError(f"unknown endpoint {name!r}{hint}; `sheetsync fetch --list` shows them all")
    return found


def resolve(text: str, method: str = "GET") -> tuple[Endpoint, dict[str, int]]:
    """An endpoint from its name or a concrete path: "customers/12" -> (customers/{customerID}, {customerID: 12})."""
    text = text.strip().strip("/")
    for candidate in (*ENDPOINTS.values(), *NEWER_REVISION.values()):
        if candidate.method != method.upper() or not candidate.path_params:
            continue
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(candidate.name))
        match = re.fullmatch(pattern, text)
        if match and not any(v.startswith("{") for v in match.groupdict().values()):
            values = {}
            for name, raw in match.groupdict().items():
                if not raw.isdigit():
                    raise ParameterError(f"{candidate.name}: path parameter {name} must be a number, got {raw!r}")
                values[name] = int(raw)
            return candidate, values
    return endpoint(text, method), {}


# ---- Kotis Design API (kotis-api.txt) -------------------------------------------------------------
class DeprecatedName(FutureWarning):
    """A name written before the endpoint registry (still accepted): the message says the new one."""


def deprecated(old: str, new: str, what: str) -> None:
    """Warn once per call site that `old` is an old spelling of `new` (the CLI prints one line)."""
    warnings.warn(f"{what} {old!r} is an old name: write {new!r}", DeprecatedName, stacklevel=3)


# (method, host, path, parameters "name:type" with "!" for required, documented fields of one row)
# The POSTs take a JSON body (orders/create, documented in full in kotis-api.txt) or form-like members.
_KOTIS: tuple[tuple[str, str, str, str, str], ...] = (
    ("GET", "kwf", "/skus/quantity", "", "id sku physical_quantity available_quantity"),
    (
        "GET",
        "kwf",
        "/orders/status",
        "order_numbers:string[]!",
        "order_number order_status shipment_id tracking_numbers shipment_date delivery_status",
    ),
    (
        "GET",
        "kwf",
        "/orders/by_source",
        "source:string! start_date:date! end_date:date! portal_name:string",
        "order_number order_date status source portal_name",
    ),
    ("POST", "kwf", "/orders/create", "", "status order_num"),
    ("POST", "stores", "/redemption_codes/create", "portal_slug:string! number_to_create:number!", ""),
)


def _kotis(row: tuple[str, str, str, str, str]) -> Endpoint:
    method, host, path, params_text, fields_text = row
    built = _build((method, path, "", params_text, fields_text), "")
    return replace(built, key_types=("kotis",), api="kotis", host=host)


KOTIS: dict[str, Endpoint] = {e.key: e for e in map(_kotis, _KOTIS)}
KOTIS_GETS = [e.name for e in KOTIS.values() if e.method == "GET"]
# Names used before the registry: report definitions named the client's methods, the CLI prefixed kotis/.
KOTIS_OLD_NAMES = {
    "sku_quantities": "skus/quantity",
    "order_status": "orders/status",
    "orders_by_source": "orders/by_source",
}
KOTIS_OLD_PARAMS: dict[str, dict[str, str]] = {"orders/by_source": {"start": "start_date", "end": "end_date"}}


def kotis_endpoint(name: str, method: str = "GET") -> Endpoint:
    """The Kotis endpoint called `name`: its documented path ("orders/by_source"), also written
    "kotis/orders/by_source"; an old name is accepted with a DeprecatedName warning."""
    text = name.strip().strip("/").removeprefix("kotis/")
    if text in KOTIS_OLD_NAMES:
        deprecated(name, KOTIS_OLD_NAMES[text], "Kotis endpoint")
        text = KOTIS_OLD_NAMES[text]
    key = text if method.upper() == "GET" else f"{method.upper()} {text}"
    found = KOTIS.get(key)
    if found is None:
        known = [e.name for e in KOTIS.values() if e.method == method.upper()]
        hint = did_you_mean(text, [*known, *KOTIS_OLD_NAMES], quote="")
        raise ParameterError(f"unknown Kotis endpoint {name!r}{hint}; known: {', '.join(known)}")
    return found


def kotis_params(ep: Endpoint, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """`params` with old parameter names renamed (a DeprecatedName warning each), validated against
    the endpoint (ParameterError for an unknown, missing or mistyped one)."""
    renamed: dict[str, Any] = {}
    old_names = KOTIS_OLD_PARAMS.get(ep.name, {})
    for name, value in (params or {}).items():
        if name in old_names:
            deprecated(name, old_names[name], f"{ep.name} parameter")
            name = old_names[name]
        renamed[name] = value
    ep.encode_params(renamed)
    return renamed


def lookup(api: str, name: str, method: str = "GET") -> Endpoint:
    """The endpoint `name` of `api` ("kss" or "kotis"): the one lookup fetch, definitions and clients share."""
    if api == "kotis":
        return kotis_endpoint(name, method)
    return endpoint(name, method)
