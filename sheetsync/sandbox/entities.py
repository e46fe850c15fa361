"""The sandbox's records: invoices, their regenerated line items, and the Dataset with its lookups."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sheetsync.sandbox.vocab import SANDBOX_API_KEY_ID, TERMS, day_ts, money, stable_seed, ts


@dataclass(slots=True)
class Invoice:
    id: int
    customer_id: int
    date: date
    status: int
    term_id: int
    po_num: str | None
    memo: str | None
    submitted_by: int
    built_by: int
    created: datetime
    total: int = 0  # cents, sum of ExtPrice
    full: int = 0  # cents, sum of FullPrice * units
    units: int = 0
    cases: int = 0  # hundredths of a case
    supplier_mask: int = 0  # bit per supplier id present in the lines
    paid: int = 0  # cents applied by payment applications
    adjust: int = 0  # credits (returns) in cents

    @property
    def num(self) -> str:
        return f"INV-{self.date.year}-{self.id:06d}"

    @property
    def due(self) -> dt.date:
        return self.date + timedelta(days=TERMS[self.term_id])

    @property
    def balance(self) -> int:
        return self.total - self.paid - self.adjust


@dataclass(slots=True)
class Line:
    trans_id: int
    product_id: int
    units: int
    ordered: int
    full: int
    discount: int
    promotion_id: int | None
    batch: str
    coa: bool


@dataclass
class Dataset:
    seed: int
    scale: int
    states: list[dict] = field(default_factory=list)
    locations: list[dict] = field(default_factory=list)
    suppliers: list[dict] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    promotions: list[dict] = field(default_factory=list)
    menu_promotions: list[dict] = field(default_factory=list)
    allocations: list[dict] = field(default_factory=list)
    inventory: list[dict] = field(default_factory=list)
    retailer_inventory: list[dict] = field(default_factory=list)
    purchases: list[dict] = field(default_factory=list)
    purchase_trans: list[dict] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    user_by_id: dict[int, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.product_by_id: dict[int, dict] = {}
        self.customer_by_id: dict[int, dict] = {}
        self.invoice_by_id: dict[int, Invoice] = {}
        self.invoice_by_num: dict[str, Invoice] = {}
        self.sellable_by_state: dict[str, list[dict]] = {}
        self.promos_by_product: dict[int, list[dict]] = {}

    # ---- lookups ---------------------------------------------------------------------------------
    def ar_account(self, customer_id: int) -> int:
        return 700 + customer_id

    def customer_of_ar(self, ar_account_id: int) -> int | None:
        cid = ar_account_id - 700
        return cid if cid in self.customer_by_id else None

    def promotion_for(self, product: dict, state: str, on: date) -> dict | None:
        """The best promotion for a product in a state on a date (lowest unit price), or None."""
        best = None
        for promo in self.promos_by_product.get(product["ProductID"], ()):
            if (
                state in promo["States"]
                and promo["_start"] <= on <= promo["_end"]
                and (best is None or promo["_unit"] < best["_unit"])
            ):
                best = promo
        return best

    def lines(self, invoice: Invoice) -> list[Line]:
        """The invoice's line items, regenerated deterministically from the invoice id."""
        rng = random.Random(stable_seed(self.seed, "lines", invoice.id))
        state = self.customer_by_id[invoice.customer_id]["State"]
        pool = self.sellable_by_state[state]
        out = []
        for index, product in enumerate(rng.sample(pool, min(len(pool), rng.randint(1, 8)))):
            upc = product["WholesaleUnitsPerCase"]
            units = upc * rng.randint(1, 3) if upc else rng.randint(1, 30)
            ordered = units + (rng.randint(1, 5) if rng.random() < 0.1 else 0)
            promo = self.promotion_for(product, state, invoice.date)
            full = product["_price"]
            discount = full - promo["_unit"] if promo else 0
            out.append(
                Line(
                    invoice.id * 100 + index + 1,
                    product["ProductID"],
                    units,
                    ordered,
                    full,
                    discount,
                    promo["PromotionID"] if promo else None,
                    f"BATCH-{invoice.date.year}-{rng.randint(1, 999):03d}",
                    rng.random() < 0.7,
                )
            )
        return out

    def render_line(self, invoice: Invoice, line: Line) -> dict:
        product = self.product_by_id[line.product_id]
        unit = line.full - line.discount
        upc = product["WholesaleUnitsPerCase"]
        return {
            "InvoiceTransID": line.trans_id,
            "InvoiceID": invoice.id,
            "CustomerID": invoice.customer_id,
            "ProductID": line.product_id,
            "ProductName": product["ProductName"],
            "Cases": money(round(line.units * 100 / upc) if upc else 0),
            "NumUnits": line.units,
            "Ordered": line.ordered,
            "BackOrder": line.ordered - line.units,
            "FullPrice": money(line.full, 6),
            "Discount": money(line.discount, 6),
            "UnitPrice": money(unit, 6),
            "ExtPrice": money(unit * line.units, 6),
            "TimeUpdated": ts(invoice.created + timedelta(hours=2)),
            "SupplierID": product["SupplierID"],
            "PromotionID": line.promotion_id,
            "BatchCode": line.batch,
            "COA_URL": self.coa_url(line) if line.coa else None,
        }

    def coa_url(self, line: Line) -> str:
        return f"https://cdn.example.com/coa/{line.batch.lower()}-{line.product_id}.pdf"

    def render_invoice(self, inv: Invoice) -> dict:
        customer = self.customer_by_id[inv.customer_id]
        sub, built = self.user_by_id[inv.submitted_by], self.user_by_id[inv.built_by]
        bal = inv.balance
        return {
            "InvoiceID": inv.id,
            "CustomerID": inv.customer_id,
            "CustomerName": customer["CustomerName"],
            "InvoiceNum": inv.num,
            "OpenDebit": money(max(bal, 0), 6),
            "OpenCredit": money(min(bal, 0), 6),
            "PONum": inv.po_num,
            "PODate": day_ts(inv.date - timedelta(days=2)) if inv.po_num else None,
            "TermID": inv.term_id,
            "PDFURL": f"https://example.com/api/invoice.pdf?InvoiceID={inv.id}&APIKeyID={SANDBOX_API_KEY_ID}",
            "Memo": inv.memo,
            "Date": day_ts(inv.date),
            "DueDate": day_ts(inv.due, 7),
            "Status": inv.status,
            "InvoiceTotal": money(inv.total, 6),
            "SubmittedByUserID": sub["UserID"],
            "SubmittedByUserName": sub["_name"],
            "SubmittedByUserEmail": sub["Email"],
            "BuiltByUserID": built["UserID"],
            "BuiltByUserName": built["_name"],
            "BuiltByUserEmail": built["Email"],
            "InvoiceTimeCreated": ts(inv.created),
            "InvoiceLastUpdated": ts(inv.created + timedelta(hours=2)),
            "TotalNumUnits": str(inv.units),
            "TotalCases": money(inv.cases),
            "TotalFullPrice": money(inv.full, 6),
            "TotalExtPrice": money(inv.total, 6),
            "TotalDiscount": money(inv.full - inv.total, 6),
            "OpenBalance": money(bal, 6),
        }
