"""Every KSS endpoint of the sandbox answers with the documented envelope, field names and value types.

DOCUMENTED is transcribed from the example records of kss-api.txt: field -> kind of value, where money6 /
money2 are decimal strings with 6 / 2 decimals, intstr an integer string, ts "2025-01-15T10:00:00.000Z",
date "YYYY-MM-DD", NoneType a field the document only shows as null.
"""

from __future__ import annotations

import re

import pytest
import requests

DOCUMENTED = {
    ('GET', 'allocations'): {'AllocationID': 'int', 'ProductID': 'int', 'CustomerID': 'int', 'Units': 'int', 'AllocationTypeID': 'int', 'StartDate': 'date', 'EndDate': 'date', 'TimeUpdated': 'ts'},
    ('GET', 'arAging'): {'CustomerID': 'int', 'OpenCredit': 'money6', 'CurrentDue': 'money6', 'Due_1_30': 'money6', 'Due_31_60': 'money6', 'Due_61_90': 'money6', 'Due_91': 'money6', 'CloseDate': 'ts', 'TotalBalanceOutstanding': 'money6', 'StatementLink': 'str', 'CurrentInvoices': 'list', 'Invoices_1_30': 'list', 'Invoices_31_60': 'list', 'Invoices_61_90': 'list', 'Invoices_91': 'list', 'StatementDate': 'ts', 'TimeUpdated': 'ts', 'CreditInvoices': 'list'},
    ('GET', 'customerPricing'): {'ProductID': 'int', 'CustomerID': 'int', 'FullPrice': 'money2', 'UnitPrice': 'money2', 'Discount': 'money2', 'PromotionID': 'int', 'StartDate': 'date', 'EndDate': 'date', 'TimeUpdated': 'ts'},
    ('GET', 'customers'): {'CustomerID': 'int', 'CustomerName': 'str', 'CustomerNameAlt': 'str', 'ChainName': 'str', 'LicenseNum': 'str', 'Address': 'str', 'LocationID': 'int', 'OnHold': 'bool', 'SalesRepEmail': 'str', 'SalesRepName': 'str', 'SalesRepPhone': 'str', 'SalesRepUserID': 'int', 'ProfilePictureURL': 'str', 'CollectionAgentFullName': 'NoneType', 'CollectionAgentEmail': 'NoneType', 'State': 'str', 'DeliveryDays': 'intstr', 'NextDeliveryDates': 'str', 'AccountStatus': 'str', 'DeliveryDates': 'list', 'DeliveryMinimum': 'int', 'TimeUpdated': 'ts'},
    ('GET', 'customers/{customerID}'): {'CustomerID': 'int', 'CustomerName': 'str', 'CustomerNameAlt': 'str', 'ChainName': 'str', 'LicenseNum': 'str', 'Address': 'str', 'LocationID': 'int', 'OnHold': 'bool', 'SalesRepEmail': 'str', 'SalesRepName': 'str', 'SalesRepPhone': 'str', 'SalesRepUserID': 'int', 'ProfilePictureURL': 'str', 'CollectionAgentFullName': 'NoneType', 'CollectionAgentEmail': 'NoneType', 'State': 'str', 'DeliveryDays': 'intstr', 'NextDeliveryDates': 'str', 'AccountStatus': 'str', 'DeliveryDates': 'list', 'DeliveryMinimum': 'int', 'TimeUpdated': 'ts'},
    ('GET', 'deliveryDays'): {'CustomerID': 'int', 'DeliveryDays': 'intstr', 'DeliveryDates': 'list'},
    ('GET', 'inventory'): {'LocationID': 'int', 'ProductID': 'int', 'OnFloorInventory': 'money2', 'PreSales': 'money2', 'Allocated': 'money2', 'NotAuthorized': 'bool', 'AvailableUnits': 'int', 'PurchaseTransID': 'int', 'DOI': 'money2', 'AvgDailySales90d': 'money2', 'TimeUpdated': 'ts'},
    ('GET', 'retailerInventory'): {'ID': 'int', 'ProductID': 'int', 'CustomerID': 'int', 'LastInventoryDate': 'ts', 'Inventory': 'money2', 'DailySales': 'money2', 'TimeUpdated': 'ts'},
    ('GET', 'invoices'): {'InvoiceID': 'int', 'CustomerID': 'int', 'CustomerName': 'str', 'InvoiceNum': 'str', 'OpenDebit': 'money6', 'OpenCredit': 'money6', 'PONum': 'NoneType', 'PODate': 'NoneType', 'TermID': 'int', 'PDFURL': 'str', 'Memo': 'str', 'Date': 'ts', 'DueDate': 'ts', 'Status': 'int', 'InvoiceTotal': 'money6', 'SubmittedByUserID': 'int', 'SubmittedByUserName': 'str', 'SubmittedByUserEmail': 'str', 'BuiltByUserID': 'int', 'BuiltByUserName': 'str', 'BuiltByUserEmail': 'str', 'InvoiceTimeCreated': 'ts', 'InvoiceLastUpdated': 'ts', 'TotalNumUnits': 'intstr', 'TotalCases': 'money2', 'TotalFullPrice': 'money6', 'TotalExtPrice': 'money6', 'TotalDiscount': 'money6', 'OpenBalance': 'money6'},
    ('GET', 'invoices/{invoiceID}'): {'InvoiceID': 'int', 'CustomerID': 'int', 'CustomerName': 'str', 'InvoiceNum': 'str', 'OpenDebit': 'money6', 'OpenCredit': 'money6', 'PONum': 'NoneType', 'PODate': 'NoneType', 'TermID': 'int', 'PDFURL': 'str', 'Memo': 'str', 'Date': 'ts', 'DueDate': 'ts', 'Status': 'int', 'InvoiceTotal': 'money6', 'SubmittedByUserID': 'int', 'SubmittedByUserName': 'str', 'SubmittedByUserEmail': 'str', 'BuiltByUserID': 'int', 'BuiltByUserName': 'str', 'BuiltByUserEmail': 'str', 'InvoiceTimeCreated': 'ts', 'InvoiceLastUpdated': 'ts', 'TotalNumUnits': 'intstr', 'TotalCases': 'money2', 'TotalFullPrice': 'money6', 'TotalExtPrice': 'money6', 'TotalDiscount': 'money6', 'OpenBalance': 'money6'},
    ('GET', 'invoiceTransactions'): {'InvoiceTransID': 'int', 'InvoiceID': 'int', 'CustomerID': 'int', 'ProductID': 'int', 'ProductName': 'str', 'Cases': 'money2', 'NumUnits': 'int', 'Ordered': 'int', 'BackOrder': 'int', 'FullPrice': 'money6', 'Discount': 'money6', 'UnitPrice': 'money6', 'ExtPrice': 'money6', 'TimeUpdated': 'ts', 'SupplierID': 'int', 'PromotionID': 'int', 'BatchCode': 'str', 'COA_URL': 'str'},
    ('GET', 'invoiceTransactions/{invoiceID}'): {'InvoiceTransID': 'int', 'InvoiceID': 'int', 'CustomerID': 'int', 'ProductID': 'int', 'ProductName': 'str', 'Cases': 'money2', 'NumUnits': 'int', 'Ordered': 'int', 'BackOrder': 'int', 'FullPrice': 'money6', 'Discount': 'money6', 'UnitPrice': 'money6', 'ExtPrice': 'money6', 'TimeUpdated': 'ts', 'SupplierID': 'int', 'PromotionID': 'int', 'BatchCode': 'str', 'COA_URL': 'str'},
    ('GET', 'invoiceCOAs'): {'InvoiceID': 'int', 'ProductID': 'int', 'InvoiceTransID': 'int', 'BatchCode': 'str', 'COA_URL': 'str', 'TimeUpdated': 'ts'},
    ('GET', 'invoiceCOAs/{invoiceID}'): {'InvoiceID': 'int', 'ProductID': 'int', 'InvoiceTransID': 'int', 'BatchCode': 'str', 'COA_URL': 'str', 'TimeUpdated': 'ts'},
    ('GET', 'locations'): {'LocationID': 'int', 'Location': 'str', 'DBA': 'str', 'Address': 'str', 'Address2': 'NoneType', 'Address3': 'str', 'City': 'str', 'State': 'str', 'PostalCode': 'intstr', 'TimeUpdated': 'ts'},
    ('GET', 'locations/{locationID}'): {'LocationID': 'int', 'Location': 'str', 'DBA': 'str', 'Address': 'str', 'Address2': 'NoneType', 'Address3': 'str', 'City': 'str', 'State': 'str', 'PostalCode': 'intstr', 'TimeUpdated': 'ts'},
    ('GET', 'menuPromotions'): {'MenuPromotionID': 'int', 'SupplierID': 'int', 'SupplierName': 'str', 'State': 'str', 'Description': 'str', 'StartDate': 'date', 'EndDate': 'date', 'TimeUpdated': 'ts'},
    ('GET', 'promotionsProducts'): {'PromotionID': 'int', 'PromotionTypeID': 'int', 'States': 'list', 'PromotionName': 'str', 'ProductOverrideType': 'str', 'UnitPrice': 'float', 'StartDate': 'date', 'EndDate': 'date', 'AllProducts': 'bool', 'ProductIDs': 'list', 'TimeUpdated': 'ts'},
    ('GET', 'productCategories'): {'ProductCategoryID': 'int', 'CategoryName': 'str', 'Sequence': 'int', 'TimeUpdated': 'ts'},
    ('GET', 'products'): {'ProductID': 'int', 'Supplier': 'str', 'SupplierID': 'int', 'ProductName': 'str', 'BrandFamily': 'str', 'ProductTypeName': 'str', 'UnitNetWeight': 'str', 'WholesaleUnitsPerCase': 'int', 'Description': 'str', 'Ingredients': 'str', 'ThumbnailImageURL': 'str', 'FullSizeImageURL': 'str', 'Potency': 'str', 'PotencyTHC': 'NoneType', 'Blend': 'str', 'KSSMenuCategory': 'str', 'KSSLiveCategoryID': 'int', 'StatusID': 'int', 'TimeUpdated': 'ts', 'State': 'str', 'IsSample': 'bool', 'ProductGroupID': 'int', 'BrandStyle': 'str', 'PackageID': 'int', 'PackageName': 'str', 'ProductTypeID': 'int', 'StrainName': 'NoneType', 'StrainID': 'NoneType', 'Flavor': 'str', 'BrandID': 'int', 'BrandName': 'str'},
    ('GET', 'products/{productID}'): {'ProductID': 'int', 'Supplier': 'str', 'SupplierID': 'int', 'ProductName': 'str', 'BrandFamily': 'str', 'ProductTypeName': 'str', 'UnitNetWeight': 'str', 'WholesaleUnitsPerCase': 'int', 'Description': 'str', 'Ingredients': 'str', 'ThumbnailImageURL': 'str', 'FullSizeImageURL': 'str', 'Potency': 'str', 'PotencyTHC': 'NoneType', 'Blend': 'str', 'KSSMenuCategory': 'str', 'KSSLiveCategoryID': 'int', 'StatusID': 'int', 'TimeUpdated': 'ts', 'State': 'str', 'IsSample': 'bool', 'ProductGroupID': 'int', 'BrandStyle': 'str', 'PackageID': 'int', 'PackageName': 'str', 'ProductTypeID': 'int', 'StrainName': 'NoneType', 'StrainID': 'NoneType', 'Flavor': 'str', 'BrandID': 'int', 'BrandName': 'str'},
    ('GET', 'states'): {'StateAbbreviation': 'str', 'StateName': 'str', 'OrderCutOffTime': 'str', 'TimeZone': 'str', 'OrderCutOffDaysInAdvance': 'intstr', 'TimeUpdated': 'ts'},
    ('GET', 'suppliers'): {'SupplierID': 'int', 'Supplier': 'str', 'State': 'str', 'Active': 'bool', 'Description': 'str', 'BrandAssetsURL': 'str', 'SupplierWebsiteURL': 'str', 'TimeUpdated': 'ts'},
    ('GET', 'suppliers/{supplierID}'): {'SupplierID': 'int', 'Supplier': 'str', 'State': 'str', 'Active': 'bool', 'Description': 'str', 'BrandAssetsURL': 'str', 'SupplierWebsiteURL': 'str', 'TimeUpdated': 'ts'},
    ('GET', 'users'): {'UserID': 'int', 'SiteUserID': 'int', 'UserActive': 'bool', 'KSSLiveAccess': 'bool', 'Email': 'str', 'States': 'list', 'Role': 'str', 'CustomerIDs': 'list', 'SupplierIDs': 'NoneType', 'LocationIDs': 'list', 'PowerUser': 'bool'},
    ('GET', 'users/{userID}'): {'UserID': 'int', 'SiteUserID': 'int', 'UserActive': 'bool', 'KSSLiveAccess': 'bool', 'Email': 'str', 'States': 'list', 'Role': 'str', 'CustomerIDs': 'list', 'SupplierIDs': 'NoneType', 'LocationIDs': 'list', 'PowerUser': 'bool'},
    ('GET', 'payments'): {'PaymentID': 'int', 'PaymentInvoiceID': 'int', 'PaymentInvoiceNum': 'str', 'ARAccountID': 'int', 'PaymentTypeID': 'int', 'PaymentTypeName': 'str', 'Amount': 'money2', 'SupplierID': 'NoneType', 'LoadSheetStatusID': 'int', 'PostDate': 'ts', 'TimeCreated': 'ts', 'TimeUpdated': 'ts', 'AvailableBalance': 'money2'},
    ('GET', 'payments/openInvoices'): {'InvoiceID': 'int', 'InvoiceNum': 'str', 'CustomerID': 'int', 'ARAccountID': 'int', 'InvoiceTotal': 'money2', 'OpenDebit': 'money2', 'OpenCredit': 'money2', 'OpenBalance': 'money2', 'CreditTermID': 'int', 'TermID': 'int', 'DueDate': 'ts', 'Date': 'ts', 'PONum': 'str'},
    ('GET', 'payments/applications'): {'PaymentApplicationID': 'int', 'PaymentInvoiceID': 'int', 'PaymentInvoiceNum': 'str', 'TargetInvoiceID': 'int', 'TargetInvoiceNum': 'str', 'ARAccountID': 'int', 'Amount': 'money2', 'AppliedBy': 'str', 'TimeApplied': 'ts', 'TimeCreated': 'ts', 'TimeUpdated': 'ts'},
    ('GET', 'payments/applications/requested'): {'RequestID': 'int', 'PaymentInvoiceNum': 'str', 'TargetInvoiceNum': 'str', 'ARAccountID': 'int', 'Amount': 'money2', 'Status': 'str', 'RequestedByUserID': 'int', 'TimeRequested': 'ts', 'TimeExported': 'ts', 'TimeConfirmed': 'ts', 'MatchedPaymentApplicationID': 'int', 'TimeUpdated': 'ts'},
    ('POST', 'payments/applications/requested'): {'RequestID': 'int', 'PaymentInvoiceNum': 'str', 'TargetInvoiceNum': 'str', 'ARAccountID': 'int', 'Amount': 'money2', 'Status': 'str', 'RequestedByUserID': 'int', 'TimeRequested': 'ts', 'TimeExported': 'NoneType', 'TimeConfirmed': 'NoneType', 'MatchedPaymentApplicationID': 'NoneType', 'TimeUpdated': 'ts'},
    ('GET', 'purchases'): {'PurchaseID': 'int', 'ReceiveDate': 'ts', 'ShipmentNum': 'str', 'ShipmentID': 'int', 'ToLocationID': 'int', 'ToLocationName': 'str', 'VendorName': 'str', 'VendorID': 'int', 'PostDate': 'ts', 'Status': 'str', 'PONum': 'str', 'Freight': 'money2', 'Tax': 'money2', 'OtherCost': 'money2', 'Total': 'money2', 'TotalCases': 'intstr', 'PublicPDFLink': 'NoneType', 'Memo': 'NoneType', 'InvoiceDate': 'ts', 'DueDate': 'ts', 'Terms': 'str', 'TermID': 'int', 'LastEditTime': 'ts', 'LastCalcTime': 'ts', 'TimeUpdated': 'ts'},
    ('GET', 'purchases/{purchaseID}'): {'PurchaseID': 'int', 'ReceiveDate': 'ts', 'ShipmentNum': 'str', 'ShipmentID': 'int', 'ToLocationID': 'int', 'ToLocationName': 'str', 'VendorName': 'str', 'VendorID': 'int', 'PostDate': 'ts', 'Status': 'str', 'PONum': 'str', 'Freight': 'money2', 'Tax': 'money2', 'OtherCost': 'money2', 'Total': 'money2', 'TotalCases': 'intstr', 'PublicPDFLink': 'NoneType', 'Memo': 'NoneType', 'InvoiceDate': 'ts', 'DueDate': 'ts', 'Terms': 'str', 'TermID': 'int', 'LastEditTime': 'ts', 'LastCalcTime': 'ts', 'TimeUpdated': 'ts'},
    ('GET', 'purchaseTrans'): {'PurchaseTransID': 'int', 'PurchaseID': 'int', 'ProductID': 'int', 'Ordered': 'intstr', 'NumUnits': 'intstr', 'FOB': 'money2', 'DepositCost': 'money2', 'ExtPrice': 'money2', 'ExpirationDate': 'ts', 'CodeDate': 'ts', 'BatchCode': 'str', 'LaidInCost': 'money2', 'PalletTag': 'NoneType', 'Cases': 'intstr', 'Weight': 'money2', 'TimeUpdated': 'ts'},
    ('GET', 'salesReps'): {'UserID': 'int', 'Name': 'str', 'Email': 'str', 'Type': 'str', 'Suppliers': 'list', 'Customers': 'list'},
}

PATTERNS = {"money6": r"-?\d+\.\d{6}", "money2": r"-?\d+\.\d{2}", "intstr": r"\d+",
            "ts": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "date": r"\d{4}-\d\d-\d\d"}
PYTYPES = {"int": int, "str": str, "bool": bool, "list": list, "float": float, "dict": dict}
SAMPLE_PARAMS = {
    "customerPricing": {"CustomerIDs": "1,2"},
    "invoices": {"Statuses": "1,2,3,4,5,7"},
    "invoiceTransactions": {"InvoiceIDs": "9001,9002,9003"},
    "invoiceCOAs": {"InvoiceIDs": "9001,9002,9003,9004,9005"},
    "purchaseTrans": {"PurchaseIDs": "10001,10002"},
    "products": {"Statuses": "0,1,2,3,4,5"},
    "customers": {"AccountStatuses": "Active,Inactive,OutOfBus"},
}
PATH_IDS = {"customerID": 1, "invoiceID": 9001, "locationID": 1, "productID": 100, "supplierID": 1,
            "userID": 500, "purchaseID": 10001}


def check_record(kinds: dict[str, str], record: dict, where: str) -> None:
    assert set(record) == set(kinds), f"{where}: fields differ: {set(record) ^ set(kinds)}"
    for name, kind in kinds.items():
        value = record[name]
        if value is None or kind == "NoneType":
            continue
        if kind in PATTERNS:
            assert isinstance(value, str) and re.fullmatch(PATTERNS[kind], value), f"{where}.{name}={value!r}"
        elif kind == "int":
            assert isinstance(value, int) and not isinstance(value, bool), f"{where}.{name}={value!r}"
        else:
            assert isinstance(value, PYTYPES[kind]), f"{where}.{name}={value!r} is not {kind}"


@pytest.mark.parametrize(("method", "name"), [k for k in DOCUMENTED if k[0] == "GET"])
def test_every_get_endpoint_has_documented_fields_and_types(sandbox, method: str, name: str) -> None:
    path = re.sub(r"\{(\w+)\}", lambda m: str(PATH_IDS[m.group(1)]), name)
    params = {"PageSize": 500, **SAMPLE_PARAMS.get(name.split("/{")[0], {})}
    response = requests.get(f"{sandbox.info.kss}/{path}", params=params,
                            headers={"x-api-key": sandbox.info.keys["employee"]}, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"Data", "Page", "PageSize", "HasNextPage"}
    assert isinstance(body["Data"], list) and body["Data"], f"{name} returned no records"
    if "{" in name:
        assert len(body["Data"]) == 1 or name.startswith(("invoiceTransactions", "invoiceCOAs"))
    for record in body["Data"]:
        check_record(DOCUMENTED[(method, name)], record, name)


def test_post_answers_documented_record(fresh_sandbox) -> None:
    info = fresh_sandbox.info
    headers = {"x-api-key": info.keys["employee"]}
    payment = next(p for p in requests.get(f"{info.kss}/payments", params={"PageSize": 500}, headers=headers,
                                           timeout=10).json()["Data"] if float(p["AvailableBalance"]) >= 1)
    target = requests.get(f"{info.kss}/payments/openInvoices", params={"ARAccountIDs": payment["ARAccountID"]},
                          headers=headers, timeout=10).json()["Data"][0]
    response = requests.post(f"{info.kss}/payments/applications/requested", headers=headers, timeout=10, params={
        "PaymentInvoiceNum": payment["PaymentInvoiceNum"], "TargetInvoiceNum": target["InvoiceNum"],
        "ARAccountID": payment["ARAccountID"], "Amount": "1.00"})
    assert response.status_code == 200, response.text
    record = response.json()["Data"]
    check_record(DOCUMENTED[("POST", "payments/applications/requested")], record, "POST")
    assert record["Status"] == "Pending" and record["Amount"] == "1.00"
