"""The sandbox's data adds up, checked over the whole data set through the public endpoints,
for several seeds and two scales."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import requests

from sheetsync.sandbox.data import NEVER_COUNTED, TODAY
from sheetsync.sandbox.server import SandboxOptions, start_sandbox

ALL_INVOICE_STATUSES = "1,2,3,4,5,7"
BUCKETS = [
    ("CurrentDue", "CurrentInvoices"),
    ("Due_1_30", "Invoices_1_30"),
    ("Due_31_60", "Invoices_31_60"),
    ("Due_61_90", "Invoices_61_90"),
    ("Due_91", "Invoices_91"),
]


class Api:
    def __init__(self, running) -> None:
        self.base = running.info.kss
        self.session = requests.Session()
        self.session.headers["x-api-key"] = running.info.keys["employee"]

    def all(self, endpoint: str, **params) -> list[dict]:
        rows, page = [], 1
        while True:
            body = self.session.get(
                f"{self.base}/{endpoint}", params={**params, "Page": page, "PageSize": 500}, timeout=30
            ).json()
            rows += body["Data"]
            if not body["HasNextPage"]:
                return rows
            page += 1


@pytest.fixture(
    scope="module", params=[(0, 1), (1, 1), (2, 1), (0, 3), (1, 3), (2, 3)], ids=lambda p: f"seed{p[0]}-scale{p[1]}"
)
def world(request) -> Iterator[dict]:
    seed, scale = request.param
    with start_sandbox(options=SandboxOptions(seed=seed, scale=scale)) as running:
        api = Api(running)
        yield {
            "api": api,
            "scale": scale,
            "invoices": api.all("invoices", Statuses=ALL_INVOICE_STATUSES),
            "customers": api.all("customers", AccountStatuses="Active,Inactive,OutOfBus"),
            "aging": api.all("arAging"),
            "payments": api.all("payments"),
            "applications": api.all("payments/applications"),
            "requests": api.all("payments/applications/requested"),
            "open": api.all("payments/openInvoices"),
        }


def D(text: str) -> Decimal:
    return Decimal(text)


def test_aging_reconciles_with_invoice_balances(world) -> None:
    balance = {inv["InvoiceID"]: D(inv["OpenBalance"]) for inv in world["invoices"]}
    seen: Counter = Counter()
    for row in world["aging"]:
        total = Decimal(0)
        for due, listed in BUCKETS:
            bucket = sum((balance[ref["InvoiceID"]] for ref in row[listed]), Decimal(0))
            assert D(row[due]) == bucket, (row["CustomerID"], due)
            assert all(balance[ref["InvoiceID"]] > 0 for ref in row[listed])
            seen.update(ref["InvoiceID"] for ref in row[listed])
            total += D(row[due])
        credit = sum((balance[ref["InvoiceID"]] for ref in row["CreditInvoices"]), Decimal(0))
        assert D(row["OpenCredit"]) == credit <= 0
        seen.update(ref["InvoiceID"] for ref in row["CreditInvoices"])
        assert total + D(row["OpenCredit"]) == D(row["TotalBalanceOutstanding"])
    assert seen == Counter(i for i, b in balance.items() if b != 0)  # every open invoice listed exactly once
    assert any(row["CreditInvoices"] for row in world["aging"]), "some customer has open credit"
    assert {len(row[listed]) > 0 for row in world["aging"] for _, listed in BUCKETS} == {True, False}


def test_every_world_has_a_customer_in_credit_and_one_netting_to_zero(world) -> None:
    """So the ar-aging demo shows what include_credit and include_zero add (sandbox/payments.py)."""
    ny = {c["CustomerID"] for c in world["customers"] if c["State"] == "NY"}
    in_credit = [r for r in world["aging"] if D(r["TotalBalanceOutstanding"]) < 0]
    netting = [r for r in world["aging"] if D(r["TotalBalanceOutstanding"]) == 0 and r["CreditInvoices"]]
    assert {r["CustomerID"] for r in in_credit} & ny and {r["CustomerID"] for r in netting} & ny
    for row in netting:
        assert sum(len(row[listed]) for _, listed in BUCKETS) >= 1  # an invoice open, and a credit as large


def test_invoice_balances_and_totals(world) -> None:
    for inv in world["invoices"]:
        assert D(inv["OpenBalance"]) == D(inv["OpenDebit"]) + D(inv["OpenCredit"])
        assert D(inv["TotalDiscount"]) == D(inv["TotalFullPrice"]) - D(inv["TotalExtPrice"])
        assert D(inv["InvoiceTotal"]) == D(inv["TotalExtPrice"])
    assert {inv["Status"] for inv in world["invoices"]} == {1, 2, 3, 4, 5, 7}
    sample = [inv["InvoiceID"] for inv in world["invoices"][::25]]
    lines = world["api"].all("invoiceTransactions", InvoiceIDs=",".join(map(str, sample)))
    by_invoice = defaultdict(list)
    for line in lines:
        assert D(line["UnitPrice"]) == D(line["FullPrice"]) - D(line["Discount"])
        assert D(line["ExtPrice"]) == D(line["UnitPrice"]) * line["NumUnits"]
        assert line["BackOrder"] == line["Ordered"] - line["NumUnits"]
        by_invoice[line["InvoiceID"]].append(line)
    for inv in world["invoices"]:
        if inv["InvoiceID"] in by_invoice:
            rows = by_invoice[inv["InvoiceID"]]
            assert sum(D(r["ExtPrice"]) for r in rows) == D(inv["TotalExtPrice"])
            assert sum(r["NumUnits"] for r in rows) == int(inv["TotalNumUnits"])


def test_payments_available_balance(world) -> None:
    applied, pending = defaultdict(Decimal), defaultdict(Decimal)
    for app in world["applications"]:
        applied[app["PaymentInvoiceNum"]] += D(app["Amount"])
    for req in world["requests"]:
        if req["Status"] in ("Pending", "Exported"):
            pending[req["PaymentInvoiceNum"]] += D(req["Amount"])
        if req["Status"] == "Confirmed":
            assert req["MatchedPaymentApplicationID"] is not None
    for p in world["payments"]:
        num = p["PaymentInvoiceNum"]
        assert D(p["AvailableBalance"]) == D(p["Amount"]) - applied[num] - pending[num] >= 0
    assert {r["Status"] for r in world["requests"]} == {"Pending", "Exported", "Confirmed", "Rejected"}


def test_open_invoices_match_invoice_balances(world) -> None:
    balance = {inv["InvoiceID"]: D(inv["OpenBalance"]) for inv in world["invoices"]}
    ar_of = {}
    for row in world["open"]:
        assert D(row["OpenBalance"]) != 0 and D(row["OpenBalance"]) == balance[row["InvoiceID"]]
        ar_of[row["CustomerID"]] = ar_of.get(row["CustomerID"], row["ARAccountID"])
        assert ar_of[row["CustomerID"]] == row["ARAccountID"], "one AR account per customer"
    assert {r["InvoiceID"] for r in world["open"]} == {i for i, b in balance.items() if b != 0}


def test_inventory_adds_up_and_not_authorized_rows_are_allocated(world) -> None:
    api = world["api"]
    location_of = {c["CustomerID"]: c["LocationID"] for c in world["customers"]}
    allocated = defaultdict(int)
    for a in api.all("allocations"):
        allocated[(location_of[a["CustomerID"]], a["ProductID"])] += a["Units"]
    rows = api.all("inventory")
    for row in rows:
        on_floor, presales, alloc = D(row["OnFloorInventory"]), D(row["PreSales"]), D(row["Allocated"])
        assert row["AvailableUnits"] == on_floor - presales - alloc >= 0
        assert alloc == allocated[(row["LocationID"], row["ProductID"])]
        if row["NotAuthorized"]:
            assert alloc > 0 and row["AvailableUnits"] == 0
    assert any(r["NotAuthorized"] for r in rows)
    trans = {
        t["PurchaseTransID"]: t
        for t in api.all("purchaseTrans", PurchaseIDs=",".join(str(p["PurchaseID"]) for p in api.all("purchases")))
    }
    assert all(trans[r["PurchaseTransID"]]["ProductID"] == r["ProductID"] for r in rows)


def test_pricing_follows_promotions(world) -> None:
    api = world["api"]
    promos = {p["PromotionID"]: p for p in api.all("promotionsProducts")}
    state = {c["CustomerID"]: c["State"] for c in world["customers"]}
    ids = ",".join(str(c) for c in list(state)[:: max(1, world["scale"])])
    rows = api.all("customerPricing", CustomerIDs=ids)
    assert rows
    for row in rows:
        assert D(row["UnitPrice"]) == D(row["FullPrice"]) - D(row["Discount"])
        if row["PromotionID"] is None:
            assert D(row["Discount"]) == 0
            continue
        promo = promos[row["PromotionID"]]
        assert row["ProductID"] in promo["ProductIDs"] and state[row["CustomerID"]] in promo["States"]
        assert date.fromisoformat(promo["StartDate"]) <= TODAY <= date.fromisoformat(promo["EndDate"])
        assert D(row["UnitPrice"]) == D(str(promo["UnitPrice"])) and D(row["Discount"]) > 0
    assert any(r["PromotionID"] for r in rows)


def test_catalog_variety_and_hostile_strings(world) -> None:
    api = world["api"]
    products = api.all("products", Statuses="0,1,2,3,4,5")
    categories = {c["ProductCategoryID"] for c in api.all("productCategories")}
    assert {p["KSSLiveCategoryID"] for p in products} <= categories
    assert {p["StatusID"] for p in products} == {0, 1, 2, 3, 4, 5}
    assert any(p["WholesaleUnitsPerCase"] is None for p in products)
    assert {c["AccountStatus"] for c in world["customers"]} == {"Active", "Inactive", "OutOfBus"}
    assert any(c["OnHold"] for c in world["customers"])
    names = [c["CustomerName"] for c in world["customers"]] + [p["ProductName"] for p in products]
    assert {n[0] for n in names} >= {"=", "+", "-", "@"}
    assert any(not n.isascii() for n in names) and any('"' in n for n in names)
    assert any(c["CustomerNameAlt"] == "0042" for c in world["customers"])
    assert any(r["LastInventoryDate"] == NEVER_COUNTED for r in api.all("retailerInventory"))
    states = api.all("states")
    assert len(states) >= 3 and all(s["TimeZone"].count("/") == 1 for s in states)


def test_scale_grows_everything(world) -> None:
    assert len(world["invoices"]) == 1500 * world["scale"]
    assert len(world["customers"]) == 40 * world["scale"]


@pytest.mark.parametrize(("seed", "scale"), [(0, 1), (3, 1), (7, 1), (12, 1), (0, 2), (7, 2)])
def test_no_open_balance_exceeds_its_invoice_and_aging_adds_up_in_every_world(seed: int, scale: int) -> None:
    """An open item never owes (or credits) more than its own total, whatever the seed and scale: the
    showcase credit and zero-balance customers and the returns after payment included (sandbox/payments.py);
    and each customer's aging total is the sum of their open items."""
    with start_sandbox(options=SandboxOptions(seed=seed, scale=scale)) as running:
        api = Api(running)
        invoices = api.all("invoices", Statuses=ALL_INVOICE_STATUSES)
        aging = api.all("arAging")
    too_large = [
        (inv["CustomerID"], inv["InvoiceNum"], inv["InvoiceTotal"], inv["OpenBalance"])
        for inv in invoices
        if abs(D(inv["OpenBalance"])) > abs(D(inv["InvoiceTotal"]))
    ]
    assert too_large == []
    open_by_customer: defaultdict[int, Decimal] = defaultdict(Decimal)
    for inv in invoices:
        open_by_customer[inv["CustomerID"]] += D(inv["OpenBalance"])
    for row in aging:
        assert D(row["TotalBalanceOutstanding"]) == open_by_customer[row["CustomerID"]], row["CustomerID"]
    assert {cid for cid, total in open_by_customer.items() if total} <= {row["CustomerID"] for row in aging}
    in_credit = [row for row in aging if D(row["TotalBalanceOutstanding"]) < 0]
    netting = [row for row in aging if D(row["TotalBalanceOutstanding"]) == 0 and row["CreditInvoices"]]
    assert in_credit and netting  # the showcase accounts are still there
