"""What each documented KSS parameter means, in the words of kss-api.txt (its Parameters tables).

Keyed like ``registry.ENDPOINTS`` (GETs by name, the POST as ``"POST payments/applications/requested"``);
enumerated values are listed as the document lists them ("1 New 2 Locked for Routing ..."). Used by
``sheetsync fetch --describe``."""

# ruff: noqa: E501  (the document's sentences, one per line)

from __future__ import annotations

import re

from sheetsync.apis import registry

PARAM_DOCS: dict[str, dict[str, str]] = {
    "allocations": {
        "CustomerIDs": "Comma-separated list of customer IDs to filter by.",
        "SupplierIDs": "Comma-separated list of supplier IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
    },
    "arAging": {
        "CustomerIDs": "Comma-separated list of customer IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
    },
    "customerPricing": {
        "CustomerIDs": "Comma-separated list of customer IDs to fetch pricing for. Returns 403 if none are accessible.",
        "EffectiveDate": "ISO 8601 date string to evaluate promotion validity against. Defaults to the current date.",
    },
    "customers": {
        "CustomerIDs": "Comma-separated list of customer IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
        "AccountStatuses": "Comma-separated list of account statuses to filter by. Defaults to Active. Active Active Inactive Inactive OutOfBus Out of Business",
        "OnHold": 'Filter by on hold status. Pass "true" to return only customers on hold, "false" to exclude them. When omitted, on hold status is not filtered. true On Hold false Not On Hold',
    },
    "customers/{customerID}": {
        "customerID": "The ID of the customer to retrieve.",
    },
    "deliveryDays": {
        "CustomerIDs": "Comma-separated list of customer IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
    },
    "inventory": {
        "SupplierIDs": "Comma-separated list of supplier IDs to filter by.",
        "ProductIDs": "Comma-separated list of product IDs to filter by.",
        "LocationIDs": "Comma-separated list of location IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
    },
    "retailerInventory": {
        "CustomerIDs": "Comma-separated list of customer IDs to filter by.",
        "SupplierIDs": "Comma-separated list of supplier IDs to filter by.",
        "ProductIDs": "Comma-separated list of product IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
    },
    "invoices": {
        "CustomerIDs": "Comma-separated list of customer IDs to filter by.",
        "InvoiceIDs": "Comma-separated list of invoice IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
        "Statuses": "Comma-separated list of invoice status IDs. Defaults to New (1). 1 New 2 Locked for Routing 3 Loaded 4 Returned 5 Balanced 7 Verified",
        "StartDate": "ISO 8601 date string. Returns invoices on or after this date.",
        "EndDate": "ISO 8601 date string. Returns invoices on or before this date.",
    },
    "invoices/{invoiceID}": {
        "invoiceID": "The ID of the invoice to retrieve.",
    },
    "invoiceTransactions": {
        "InvoiceIDs": "Comma-separated list of invoice IDs to fetch transactions for. Returns 400 if not provided.",
        "Statuses": "Comma-separated list of invoice status IDs. If provided and does not include Verified (7), verified invoices are excluded from results. 1 New 2 Locked for Routing 3 Loaded 4 Returned 5 Balanced 7 Verified",
    },
    "invoiceTransactions/{invoiceID}": {
        "invoiceID": "The ID of the invoice to fetch transactions for.",
    },
    "invoiceCOAs": {
        "InvoiceIDs": "Comma-separated list of invoice IDs to fetch COAs for. Returns 400 if not provided.",
    },
    "invoiceCOAs/{invoiceID}": {
        "invoiceID": "The ID of the invoice to fetch COAs for.",
    },
    "locations": {
        "LocationIDs": "Comma-separated list of location IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
    },
    "locations/{locationID}": {
        "locationID": "The ID of the location to retrieve.",
    },
    "menuPromotions": {
        "SupplierIDs": "Comma-separated list of supplier IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
        "StartDate": "ISO 8601 date string. Returns promotions whose end date is on or after this value.",
        "EndDate": "ISO 8601 date string. Returns promotions whose start date is on or before this value.",
    },
    "promotionsProducts": {
        "SupplierIDs": "Comma-separated list of supplier IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
    },
    "products": {
        "SupplierIDs": "Comma-separated list of supplier IDs to filter by.",
        "ProductIDs": "Comma-separated list of product IDs to filter by. When provided, status filtering is skipped.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
        "Statuses": "Comma-separated list of product status IDs. Defaults to Active (1). Ignored when ProductIDs is provided. 0 Discontinued 1 Active 2 Pre-order 3 Manufacture 4 Unavailable 5 Close Out",
    },
    "products/{productID}": {
        "productID": "The ID of the product to retrieve.",
    },
    "states": {
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
    },
    "suppliers": {
        "SupplierIDs": "Comma-separated list of supplier IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
        "Active": "True or False flag for supplier status. Defaults to Active only for Customer and Supplier keys",
    },
    "suppliers/{supplierID}": {
        "supplierID": "The ID of the supplier to retrieve.",
    },
    "users": {
        "UserIDs": "Comma-separated list of user IDs to filter by.",
        "States": 'Comma-separated list of state abbreviations to filter by. Example: "CA,NJ".',
        "CustomerIDs": "Comma-separated list of customer IDs to filter by.",
        "SupplierIDs": "Comma-separated list of supplier IDs to filter by.",
        "Roles": "Comma-separated list of roles to filter by. Customer Customer Supplier Supplier Admin Admin DistributorRep Distributor Rep",
        "Active": "True or False flag for user status. Defaults to Active = true only for Customer and Supplier keys",
    },
    "users/{userID}": {
        "userID": "The ID of the user to retrieve.",
    },
    "payments": {
        "ARAccountIDs": "Comma-separated list of AR account IDs to filter by. Customer keys are automatically scoped to their authorized accounts.",
        "PaymentTypeIDs": "Comma-separated list of payment type IDs to filter by.",
    },
    "payments/openInvoices": {
        "ARAccountIDs": "Comma-separated list of AR account IDs to filter by. Customer keys are automatically scoped to their authorized accounts.",
    },
    "payments/applications": {
        "ARAccountIDs": "Comma-separated list of AR account IDs to filter by.",
        "PaymentInvoiceNums": "Comma-separated list of payment invoice numbers to filter by.",
        "TargetInvoiceNums": "Comma-separated list of target invoice numbers to filter by.",
    },
    "payments/applications/requested": {
        "ARAccountIDs": "Comma-separated list of AR account IDs to filter by.",
        "Statuses": "Comma-separated list of statuses to filter by. Pending Pending — queued for export to Encompass Exported Exported — sent to Encompass, awaiting confirmation Confirmed Confirmed — matched to a PaymentApplication Rejected Rejected — not confirmed within the timeout window",
    },
    "POST payments/applications/requested": {
        "PaymentInvoiceNum": "The invoice number of the payment to allocate from.",
        "TargetInvoiceNum": "The invoice number to allocate the payment toward.",
        "ARAccountID": "The AR account ID both invoices belong to.",
        "Amount": "The dollar amount to allocate. Must be positive and not exceed the available balance.",
    },
    "purchases": {
        "PurchaseIDs": "Comma-separated list of purchase IDs to filter by.",
        "VendorIDs": "Comma-separated list of vendor IDs to filter by.",
        "LocationIDs": "Comma-separated list of destination location IDs to filter by.",
        "Statuses": "Comma-separated list of purchase statuses to filter by. Defaults to all statuses. New New Accepted Accepted Received Received Confirmed Confirmed Verified Verified",
        "StartDate": "ISO 8601 date string. Returns purchases with a PostDate on or after this date.",
        "EndDate": "ISO 8601 date string. Returns purchases with a PostDate on or before this date.",
    },
    "purchases/{purchaseID}": {
        "purchaseID": "The ID of the purchase to retrieve.",
    },
    "purchaseTrans": {
        "PurchaseIDs": "Comma-separated list of purchase IDs to retrieve line items for.",
    },
    "salesReps": {
        "SupplierIDs": "Comma-separated list of supplier IDs to filter by. Supplier keys are automatically scoped to their authorized suppliers.",
        "CustomerIDs": "Comma-separated list of customer IDs to filter by. Customer keys are automatically scoped to their authorized customers.",
    },
}


_DEFAULT = re.compile(r"Defaults? to ([^.]+)\.")


def describe_endpoint(name: str) -> str:
    """The reference of one endpoint: key types, paging, every parameter (type, required or its default,
    meaning and enumerated values) and every documented field with its type. ParameterError when unknown."""
    ep, _ = registry.resolve(name)
    keys = ", ".join(ep.key_types)
    lines = [f"{ep.method} /{ep.name}  ({'paginated' if ep.paginated else 'one page'}; keys: {keys})", "parameters:"]
    docs = PARAM_DOCS.get(ep.key, {})
    for param in ep.params.values():
        doc = docs.get(param.name, "")
        default = _DEFAULT.search(doc)
        when = "required" if param.required else (f"default {default.group(1)}" if default else "optional")
        lines.append(f"  {param.name:<20} {param.type:<10} {when}")
        if doc:
            lines.append(f"      {doc}")
    if not ep.params:
        lines.append("  (none)")
    lines.append("fields:")
    for field in ep.fields:
        lines.append(f"  {field:<28} {registry.field_type(field, ep.key) or 'by shape'}")
    return "\n".join(lines)
