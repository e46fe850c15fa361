"""The documented record fields of both APIs by kind: how ``records.py`` types them and how a sheet shows them.

``field_kind(name, endpoint=None)`` -> decimal, int, date, datetime, bool, str, or None (typed by shape);
``field_type(name, endpoint=None)`` -> money, quantity, count, id, date, datetime, bool, text (what a
reader sees, for formats); ``MONEY_FIELDS`` (decimals shown as currency) and ``IDENTIFIER_FIELDS``
(text that is often a long digit string, never given a number format). Source: the examples of
``kss-api.txt`` and ``kotis-api.txt``, and ``kss-field-notes.md``.
"""

from __future__ import annotations

# How records.py types the documented fields (from the document's examples). Integer-looking strings
# become Decimal only for the quantities listed under "decimal"; codes such as DeliveryDays "1" and
# PostalCode stay strings. Fields not listed are typed by shape (timestamps, dates, decimal strings).
# "date" fields denote a calendar date: KSS writes them as a timestamp at local midnight (T07:00Z or
# T08:00Z in /invoices, T00:00Z in /payments/openInvoices and /purchases), so their calendar date is
# the UTC date of the timestamp, whatever the report's time zone. "datetime" fields are instants.
_KINDS = {
    "decimal": "Allocated Amount AvailableBalance AvgDailySales90d Cases CurrentDue DOI DailySales DepositCost "
    "Discount Due_1_30 Due_31_60 Due_61_90 Due_91 ExtPrice FOB Freight FullPrice Inventory InvoiceTotal "
    "LaidInCost NumUnits OnFloorInventory OpenBalance OpenCredit OpenDebit Ordered OtherCost PreSales Tax "
    "Total TotalBalanceOutstanding TotalCases TotalDiscount TotalExtPrice TotalFullPrice TotalNumUnits "
    "UnitPrice Weight",
    "datetime": "InvoiceLastUpdated InvoiceTimeCreated LastCalcTime LastEditTime TimeApplied "
    "TimeConfirmed TimeCreated TimeExported TimeRequested TimeUpdated",
    "date": "CloseDate CodeDate Date DueDate EffectiveDate EndDate ExpirationDate InvoiceDate LastInventoryDate "
    "PODate PostDate ReceiveDate StartDate StatementDate",
    "int": "ARAccountID AllocationID AllocationTypeID AvailableUnits BackOrder BrandID BuiltByUserID CreditTermID "
    "CustomerID DeliveryMinimum ID InvoiceID InvoiceTransID KSSLiveCategoryID LoadSheetStatusID LocationID "
    "MatchedPaymentApplicationID MenuPromotionID PackageID PaymentApplicationID PaymentID PaymentInvoiceID "
    "PaymentTypeID ProductCategoryID ProductGroupID ProductID ProductTypeID PromotionID PromotionTypeID "
    "PurchaseID PurchaseTransID RequestID RequestedByUserID SalesRepUserID Sequence ShipmentID SiteUserID "
    "StatusID SubmittedByUserID SupplierID TargetInvoiceID TermID ToLocationID Units UserID VendorID "
    "WholesaleUnitsPerCase",
    "bool": "Active AllProducts IsSample KSSLiveAccess NotAuthorized OnHold PowerUser UserActive",
    "str": "AccountStatus Address Address2 Address3 AppliedBy BatchCode Blend BrandAssetsURL BrandFamily BrandName "
    "BrandStyle BuiltByUserEmail BuiltByUserName COA_URL CategoryName ChainName City CustomerName "
    "CustomerNameAlt DBA DeliveryDays Description Email Flavor FullSizeImageURL Ingredients InvoiceNum "
    "KSSMenuCategory LicenseNum Location Memo Name NextDeliveryDates OrderCutOffDaysInAdvance OrderCutOffTime "
    "PDFURL PONum PackageName PaymentInvoiceNum PaymentTypeName PostalCode Potency PotencyTHC ProductName "
    "ProductOverrideType ProductTypeName ProfilePictureURL PromotionName Role SalesRepEmail SalesRepName "
    "SalesRepPhone ShipmentNum State StateAbbreviation StateName StatementLink SubmittedByUserEmail "
    "SubmittedByUserName Supplier SupplierName SupplierWebsiteURL TargetInvoiceNum Terms ThumbnailImageURL "
    "TimeZone ToLocationName Type UnitNetWeight VendorName CollectionAgentFullName CollectionAgentEmail "
    "PalletTag StrainName PublicPDFLink",
}
FIELD_KINDS: dict[str, str] = {name: kind for kind, names in _KINDS.items() for name in names.split()}

# Where one field name has another type in another endpoint: invoice Status is a status ID (1 New ...),
# purchase and payment-request Status is a word (Open, Pending, ...).
_ENDPOINT_KINDS: dict[str, dict[str, str]] = {
    "invoices": {"Status": "int"},
    "invoices/{invoiceID}": {"Status": "int"},
    "purchases": {"Status": "str"},
    "purchases/{purchaseID}": {"Status": "str"},
    "payments/applications/requested": {"Status": "str"},
    "payments/applications": {"Status": "str"},
}


# The decimal fields that are money (shown as currency); the other decimal fields are quantities.
MONEY_FIELDS = frozenset(
    [
        "Amount",
        "AvailableBalance",
        "CurrentDue",
        "DepositCost",
        "Discount",
        "Due_1_30",
        "Due_31_60",
        "Due_61_90",
        "Due_91",
        "ExtPrice",
        "FOB",
        "Freight",
        "FullPrice",
        "InvoiceTotal",
        "LaidInCost",
        "OpenBalance",
        "OpenCredit",
        "OpenDebit",
        "OtherCost",
        "Tax",
        "Total",
        "TotalBalanceOutstanding",
        "TotalDiscount",
        "TotalExtPrice",
        "TotalFullPrice",
        "UnitPrice",
    ]
)


# Text fields that are identifiers, often long digit strings (references, numbers of documents, tracking
# numbers): never shown with a number format, which would round them past 15 digits.
IDENTIFIER_FIELDS = frozenset(
    [
        "BatchCode",
        "InvoiceNum",
        "LicenseNum",
        "PONum",
        "PackageName",
        "PalletTag",
        "PaymentInvoiceNum",
        "ShipmentNum",
        "TargetInvoiceNum",
        "tracking_numbers",
        "order_number",
        "order_id",
        "shipment_id",
    ]
)


def field_type(name: str, endpoint: str | None = None) -> str | None:
    """The documented type of a field as a reader sees it: money, quantity, count, id, date, datetime, bool,
    text; None when the field is not documented."""
    kind = field_kind(name, endpoint)
    if kind == "decimal":
        return "money" if name in MONEY_FIELDS else "quantity"
    if kind == "int":
        return "id" if name.endswith("ID") or name == "Status" else "count"
    return {"date": "date", "datetime": "datetime", "bool": "bool", "str": "text"}.get(kind or "")


def field_kind(name: str, endpoint: str | None = None) -> str | None:
    """How field `name` of a record of `endpoint` (a registry key) is typed: decimal, int, date, datetime,
    bool, str, or None (typed by shape). `endpoint` None gives the kind shared by all endpoints."""
    if endpoint is not None:
        kind = _ENDPOINT_KINDS.get(endpoint, {}).get(name)
        if kind is not None:
            return kind
    return FIELD_KINDS.get(name)
