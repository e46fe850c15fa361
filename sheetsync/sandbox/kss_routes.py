"""The KSS endpoints of the sandbox: one handler per documented route, returning the full filtered list.

Handlers return records (internal fields start with "_" and are stripped later); the server pages them,
adds the envelope, headers, quirks and faults.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sheetsync import aging
from sheetsync.sandbox.data import INVOICE_STATUSES, PAYMENT_TYPES, PURCHASE_STATUSES, TODAY, Invoice, day_ts, money
from sheetsync.sandbox.params import ApiError, Ctx, keep
from sheetsync.sandbox.payments import REQUEST_STATUSES, RequestError
from sheetsync.sandbox.results import LazyRows

Handler = Callable[[Ctx], Sequence[dict]]


@dataclass(frozen=True)
class Route:
    name: str  # documented path without the leading slash, e.g. "customers/{customerID}"
    handler: Handler
    method: str = "GET"
    denied: tuple[str, ...] = ()
    revisions: tuple[str, ...] = ("2025", "2026")
    single: bool = False


def _one(rows: list[dict], what: str, ident: int) -> list[dict]:
    if not rows:
        raise ApiError(404, f"{what} {ident} not found")
    return rows


# ---- reference data ------------------------------------------------------------------------------
def states(ctx: Ctx) -> list[dict]:
    wanted, mine = ctx.strs("States"), ctx.key_states()
    return [s for s in ctx.ds.states if keep(s["StateAbbreviation"], wanted) and keep(s["StateAbbreviation"], mine)]


def locations(ctx: Ctx) -> list[dict]:
    ids, wanted = ctx.ids("LocationIDs"), ctx.strs("States")
    return [loc for loc in ctx.ds.locations if keep(loc["LocationID"], ids) and keep(loc["State"], wanted)]


def location(ctx: Ctx) -> list[dict]:
    lid = ctx.int_path("locationID")
    return _one([loc for loc in ctx.ds.locations if loc["LocationID"] == lid], "Location", lid)


def categories(ctx: Ctx) -> list[dict]:
    return sorted(ctx.ds.categories, key=lambda c: c["Sequence"])


def _active_default(ctx: Ctx) -> list[bool] | None:
    active = ctx.bools("Active")
    if active is None and ctx.key.type in ("customer", "supplier"):
        return [True]
    return active


def suppliers(ctx: Ctx) -> list[dict]:
    scope = ctx.supplier_scope(ctx.ids("SupplierIDs"))
    wanted, active = ctx.strs("States"), _active_default(ctx)
    return [
        s
        for s in ctx.ds.suppliers
        if keep(s["SupplierID"], scope) and keep(s["State"], wanted) and keep(s["Active"], active)
    ]


def supplier(ctx: Ctx) -> list[dict]:
    sid = ctx.int_path("supplierID")
    ctx.supplier_scope([sid])
    return _one([s for s in ctx.ds.suppliers if s["SupplierID"] == sid], "Supplier", sid)


def products(ctx: Ctx) -> list[dict]:
    scope = ctx.supplier_scope(ctx.ids("SupplierIDs"))
    ids, wanted = ctx.ids("ProductIDs"), ctx.strs("States")
    statuses = ctx.enum_ids("Statuses", (0, 1, 2, 3, 4, 5))
    if ids is not None:
        statuses = None
    elif statuses is None:
        statuses = [1]
    mine = ctx.key_states() if ctx.key.type == "customer" else None
    return [
        p
        for p in ctx.ds.products
        if keep(p["SupplierID"], scope)
        and keep(p["ProductID"], ids)
        and keep(p["State"], wanted)
        and keep(p["StatusID"], statuses)
        and keep(p["State"], mine)
    ]


def product(ctx: Ctx) -> list[dict]:
    pid = ctx.int_path("productID")
    row = ctx.ds.product_by_id.get(pid)
    if row is not None:
        ctx.supplier_scope([row["SupplierID"]])
    return _one([row] if row else [], "Product", pid)


# ---- customers -----------------------------------------------------------------------------------
def customers(ctx: Ctx) -> list[dict]:
    scope = ctx.customer_scope(ctx.ids("CustomerIDs"))
    wanted = ctx.strs("States")
    statuses = ctx.strs("AccountStatuses", ("Active", "Inactive", "OutOfBus")) or ["Active"]
    on_hold = ctx.bools("OnHold")
    return [
        c
        for c in ctx.ds.customers
        if keep(c["CustomerID"], scope)
        and keep(c["State"], wanted)
        and keep(c["AccountStatus"], statuses)
        and keep(c["OnHold"], on_hold)
    ]


def customer(ctx: Ctx) -> list[dict]:
    cid = ctx.int_path("customerID")
    ctx.customer_scope([cid])
    row = ctx.ds.customer_by_id.get(cid)
    return _one([row] if row else [], "Customer", cid)


def delivery_days(ctx: Ctx) -> list[dict]:
    scope = ctx.customer_scope(ctx.ids("CustomerIDs"))
    wanted = ctx.strs("States")
    return [
        {"CustomerID": c["CustomerID"], "DeliveryDays": c["DeliveryDays"], "DeliveryDates": c["DeliveryDates"]}
        for c in ctx.ds.customers
        if c["AccountStatus"] == "Active" and keep(c["CustomerID"], scope) and keep(c["State"], wanted)
    ]


def allocations(ctx: Ctx) -> list[dict]:
    cscope = ctx.customer_scope(ctx.ids("CustomerIDs"))
    sscope = ctx.supplier_scope(ctx.ids("SupplierIDs"))
    wanted = ctx.strs("States")
    out = []
    for a in ctx.ds.allocations:
        p = ctx.ds.product_by_id[a["ProductID"]]
        if keep(a["CustomerID"], cscope) and keep(p["SupplierID"], sscope) and keep(p["State"], wanted):
            out.append(a)
    return out


def sales_reps(ctx: Ctx) -> list[dict]:
    cscope = ctx.customer_scope(ctx.ids("CustomerIDs"))
    sscope = ctx.supplier_scope(ctx.ids("SupplierIDs"))
    ds = ctx.ds
    active_customers = [c for c in ds.customers if c["AccountStatus"] == "Active"]
    active_suppliers = [s for s in ds.suppliers if s["Active"]]
    out = []
    for u in ds.users:
        if not u["UserActive"] or u["Role"] not in ("DistributorRep", "Supplier"):
            continue
        if u["Role"] == "DistributorRep":
            kind = "Territory Manager"
            custs = [c for c in active_customers if c["SalesRepUserID"] == u["UserID"]]
            sups = [s for s in active_suppliers if s["State"] in u["States"]]
        else:
            kind = "Supplier Rep"
            sups = [s for s in active_suppliers if s["SupplierID"] in u["SupplierIDs"]]
            custs = [c for c in active_customers if c["State"] in u["States"]][:5]
        if not sups and not custs:
            continue
        if cscope is not None and not any(c["CustomerID"] in cscope for c in custs):
            continue
        if sscope is not None and not any(s["SupplierID"] in sscope for s in sups):
            continue
        out.append(
            {
                "UserID": u["UserID"],
                "Name": u["_name"],
                "Email": u["Email"],
                "Type": kind,
                "Suppliers": [{"SupplierID": s["SupplierID"], "Supplier": s["Supplier"]} for s in sups],
                "Customers": [{"CustomerID": c["CustomerID"], "CustomerName": c["CustomerName"]} for c in custs],
            }
        )
    return out


def users(ctx: Ctx) -> list[dict]:
    ids, wanted = ctx.ids("UserIDs"), ctx.strs("States")
    cids, sids = ctx.ids("CustomerIDs"), ctx.ids("SupplierIDs")
    roles = ctx.strs("Roles", ("Customer", "Supplier", "Admin", "DistributorRep"))
    active = _active_default(ctx)
    return [
        u
        for u in ctx.ds.users
        if _user_visible(ctx, u)
        and keep(u["UserID"], ids)
        and keep(u["Role"], roles)
        and keep(u["UserActive"], active)
        and (wanted is None or set(u["States"]) & set(wanted))
        and (cids is None or set(u["CustomerIDs"] or ()) & set(cids))
        and (sids is None or set(u["SupplierIDs"] or ()) & set(sids))
    ]


def _user_visible(ctx: Ctx, u: dict) -> bool:
    if ctx.key.type == "customer":
        return bool(set(u["CustomerIDs"] or ()) & ctx.key.customers)
    if ctx.key.type == "supplier":
        own = bool(set(u["SupplierIDs"] or ()) & ctx.key.suppliers)
        return own or (u["Role"] == "Customer" and u["UserActive"])
    return True


def user(ctx: Ctx) -> list[dict]:
    uid = ctx.int_path("userID")
    row = ctx.ds.user_by_id.get(uid)
    if row is not None and not _user_visible(ctx, row):
        raise ApiError(403, f"Your key does not have access to user {uid}")
    return _one([row] if row else [], "User", uid)


# ---- promotions and pricing ----------------------------------------------------------------------
def promotions(ctx: Ctx) -> list[dict]:
    scope = ctx.supplier_scope(ctx.ids("SupplierIDs"))
    wanted, mine = ctx.strs("States"), ctx.key_states() if ctx.key.type == "customer" else None
    return [
        p
        for p in ctx.ds.promotions
        if keep(p["_supplier"], scope)
        and (wanted is None or set(p["States"]) & set(wanted))
        and (mine is None or set(p["States"]) & mine)
    ]


def menu_promotions(ctx: Ctx) -> list[dict]:
    scope = ctx.supplier_scope(ctx.ids("SupplierIDs"))
    wanted, start, end = ctx.strs("States"), ctx.day("StartDate"), ctx.day("EndDate")
    mine = ctx.key_states() if ctx.key.type == "customer" else None
    return [
        m
        for m in ctx.ds.menu_promotions
        if keep(m["SupplierID"], scope)
        and keep(m["State"], wanted)
        and keep(m["State"], mine)
        and (start is None or m["EndDate"] >= start.isoformat())
        and (end is None or m["StartDate"] <= end.isoformat())
    ]


def customer_pricing(ctx: Ctx) -> list[dict]:
    requested = ctx.ids("CustomerIDs", required=True) or []
    on = ctx.day("EffectiveDate") or TODAY
    if ctx.key.type == "customer":
        requested = [c for c in requested if c in ctx.key.customers]
        if not requested:
            raise ApiError(403, "None of the requested customers is accessible to your key")
    sscope = ctx.supplier_scope(None)
    out = []
    for cid in sorted(set(requested)):
        c = ctx.ds.customer_by_id.get(cid)
        if c is None:
            continue
        for p in ctx.ds.products:
            if p["State"] != c["State"] or p["StatusID"] not in (1, 2, 5) or not keep(p["SupplierID"], sscope):
                continue
            promo = ctx.ds.promotion_for(p, c["State"], on)
            full = p["_price"]
            disc = full - promo["_unit"] if promo else 0
            out.append(
                {
                    "ProductID": p["ProductID"],
                    "CustomerID": cid,
                    "FullPrice": money(full),
                    "UnitPrice": money(full - disc),
                    "Discount": money(disc),
                    "PromotionID": promo["PromotionID"] if promo else None,
                    "StartDate": promo["StartDate"] if promo else None,
                    "EndDate": promo["EndDate"] if promo else None,
                    "TimeUpdated": p["TimeUpdated"],
                }
            )
    return out


# ---- inventory and purchases ---------------------------------------------------------------------
def inventory(ctx: Ctx) -> list[dict]:
    scope = ctx.supplier_scope(ctx.ids("SupplierIDs"))
    pids, lids, wanted = ctx.ids("ProductIDs"), ctx.ids("LocationIDs"), ctx.strs("States")
    locs = {loc["LocationID"]: loc["State"] for loc in ctx.ds.locations}
    return [
        r
        for r in ctx.ds.inventory
        if keep(r["_supplier"], scope)
        and keep(r["ProductID"], pids)
        and keep(r["LocationID"], lids)
        and keep(locs[r["LocationID"]], wanted)
    ]


def retailer_inventory(ctx: Ctx) -> list[dict]:
    cscope = ctx.customer_scope(ctx.ids("CustomerIDs"))
    sscope = ctx.supplier_scope(ctx.ids("SupplierIDs"))
    pids, wanted = ctx.ids("ProductIDs"), ctx.strs("States")
    ds = ctx.ds
    return [
        r
        for r in ds.retailer_inventory
        if keep(r["CustomerID"], cscope)
        and keep(ds.product_by_id[r["ProductID"]]["SupplierID"], sscope)
        and keep(r["ProductID"], pids)
        and keep(ds.customer_by_id[r["CustomerID"]]["State"], wanted)
    ]


def purchases(ctx: Ctx) -> list[dict]:
    ids, vendors, lids = ctx.ids("PurchaseIDs"), ctx.ids("VendorIDs"), ctx.ids("LocationIDs")
    statuses = ctx.strs("Statuses", PURCHASE_STATUSES)
    start, end = ctx.day("StartDate"), ctx.day("EndDate")
    scope = ctx.supplier_scope(None)
    return [
        p
        for p in ctx.ds.purchases
        if keep(p["PurchaseID"], ids)
        and keep(p["VendorID"], vendors)
        and keep(p["VendorID"], scope)
        and keep(p["ToLocationID"], lids)
        and keep(p["Status"], statuses)
        and (start is None or p["_post"] >= start)
        and (end is None or p["_post"] <= end)
    ]


def purchase(ctx: Ctx) -> list[dict]:
    pid = ctx.int_path("purchaseID")
    rows = [p for p in ctx.ds.purchases if p["PurchaseID"] == pid]
    if rows:
        ctx.supplier_scope([rows[0]["VendorID"]])
    return _one(rows, "Purchase", pid)


def purchase_trans(ctx: Ctx) -> list[dict]:
    ids = set(ctx.ids("PurchaseIDs", required=True) or ())
    scope = ctx.supplier_scope(None)
    vendor = {p["PurchaseID"]: p["VendorID"] for p in ctx.ds.purchases}
    return [t for t in ctx.ds.purchase_trans if t["PurchaseID"] in ids and keep(vendor[t["PurchaseID"]], scope)]


# ---- invoices ------------------------------------------------------------------------------------
def _invoice_visible(ctx: Ctx, inv: Invoice) -> bool:
    if ctx.key.type == "customer":
        return inv.customer_id in ctx.key.customers
    if ctx.key.type == "supplier":
        return any(inv.supplier_mask >> s & 1 for s in ctx.key.suppliers)
    return True


def invoices(ctx: Ctx) -> Sequence[dict]:
    scope = ctx.customer_scope(ctx.ids("CustomerIDs"))
    ids, wanted = ctx.ids("InvoiceIDs"), ctx.strs("States")
    statuses = ctx.enum_ids("Statuses", INVOICE_STATUSES) or [1]
    start, end = ctx.day("StartDate"), ctx.day("EndDate")
    ids_set = set(ids) if ids is not None else None
    ds = ctx.ds
    pool = [ds.invoice_by_id[i] for i in sorted(ids_set) if i in ds.invoice_by_id] if ids_set else ds.invoices
    if ids_set is not None and not ids_set:
        pool = []
    matching = (
        inv
        for inv in pool
        if inv.status in statuses
        and keep(inv.customer_id, scope)
        and _invoice_visible(ctx, inv)
        and keep(ds.customer_by_id[inv.customer_id]["State"], wanted)
        and (start is None or inv.date >= start)
        and (end is None or inv.date <= end)
    )
    return LazyRows(matching, ds.render_invoice)  # rendered page by page


def invoice(ctx: Ctx) -> list[dict]:
    iid = ctx.int_path("invoiceID")
    inv = ctx.ds.invoice_by_id.get(iid)
    if inv is None:
        raise ApiError(404, f"Invoice {iid} not found")
    if not _invoice_visible(ctx, inv):
        raise ApiError(403, f"Your key does not have access to invoice {iid}")
    return [ctx.ds.render_invoice(inv)]


def _line_invoices(ctx: Ctx, ids: list[int]) -> list[Invoice]:
    out = []
    for iid in sorted(set(ids)):
        inv = ctx.ds.invoice_by_id.get(iid)
        if inv is None:
            continue
        if ctx.key.type == "customer" and inv.customer_id not in ctx.key.customers:
            raise ApiError(403, f"Your key does not have access to invoice {iid}")
        out.append(inv)
    return out


def _lines(ctx: Ctx, invs: list[Invoice]) -> list[dict]:
    ds, out = ctx.ds, []
    for inv in invs:
        for line in ds.lines(inv):
            row = ds.render_line(inv, line)
            if ctx.key.type != "supplier" or row["SupplierID"] in ctx.key.suppliers:
                out.append(row)
    return out


def invoice_transactions(ctx: Ctx) -> list[dict]:
    invs = _line_invoices(ctx, ctx.ids("InvoiceIDs", required=True) or [])
    statuses = ctx.enum_ids("Statuses", INVOICE_STATUSES)
    if statuses is not None and 7 not in statuses:  # as documented: only Verified invoices drop out
        invs = [i for i in invs if i.status != 7]
    return _lines(ctx, invs)


def invoice_transactions_one(ctx: Ctx) -> list[dict]:
    iid = ctx.int_path("invoiceID")
    invs = _line_invoices(ctx, [iid])
    if not invs:
        raise ApiError(404, f"Invoice {iid} not found")
    return _lines(ctx, invs)


def _coas(rows: list[dict]) -> list[dict]:
    return [
        {
            "InvoiceID": r["InvoiceID"],
            "ProductID": r["ProductID"],
            "InvoiceTransID": r["InvoiceTransID"],
            "BatchCode": r["BatchCode"],
            "COA_URL": r["COA_URL"],
            "TimeUpdated": r["TimeUpdated"],
        }
        for r in rows
        if r["COA_URL"]
    ]


def invoice_coas(ctx: Ctx) -> list[dict]:
    return _coas(_lines(ctx, _line_invoices(ctx, ctx.ids("InvoiceIDs", required=True) or [])))


def invoice_coas_one(ctx: Ctx) -> list[dict]:
    return _coas(invoice_transactions_one(ctx))


def ar_aging(ctx: Ctx) -> list[dict]:
    scope = ctx.customer_scope(ctx.ids("CustomerIDs"))
    wanted = ctx.strs("States")
    by_customer: dict[int, list[Invoice]] = {}
    for inv in ctx.ds.invoices:
        if inv.balance != 0:
            by_customer.setdefault(inv.customer_id, []).append(inv)
    return [
        _aging_row(ctx, c["CustomerID"], by_customer.get(c["CustomerID"], []))
        for c in ctx.ds.customers
        if keep(c["CustomerID"], scope) and keep(c["State"], wanted)
    ]


BUCKETS = (
    ("CurrentDue", "CurrentInvoices"),
    ("Due_1_30", "Invoices_1_30"),
    ("Due_31_60", "Invoices_31_60"),
    ("Due_61_90", "Invoices_61_90"),
    ("Due_91", "Invoices_91"),
)


def aging_close_date() -> date:
    """AR statements are recalculated at the end of each day: the aging is as of yesterday."""
    return TODAY - timedelta(days=1)


def _aging_row(ctx: Ctx, cid: int, open_invoices: list[Invoice]) -> dict:
    sums, lists = [0] * 5, [list[dict]() for _ in range(5)]
    credit, credits = 0, []
    close = aging_close_date()
    for inv in open_invoices:
        ref = {"InvoiceID": inv.id, "InvoiceNum": inv.num}
        if inv.balance < 0:
            credit += inv.balance
            credits.append(ref)
            continue
        b = aging.bucket_index(aging.days_past_due(inv.due, close))
        sums[b] += inv.balance
        lists[b].append(ref)
    row: dict = {"CustomerID": cid, "OpenCredit": money(credit, 6)}
    for (due, _), total in zip(BUCKETS, sums, strict=True):
        row[due] = money(total, 6)
    row.update(
        {
            "CloseDate": day_ts(close, 7),
            "TotalBalanceOutstanding": money(sum(sums) + credit, 6),
            "StatementLink": f"https://example.com/statement?Key={100000 + cid}",
        }
    )
    for (_, name), refs in zip(BUCKETS, lists, strict=True):
        row[name] = refs
    row.update(
        {
            "StatementDate": day_ts(TODAY.replace(day=1), 7),
            "TimeUpdated": day_ts(close, 7),
            "CreditInvoices": credits,
        }
    )
    return row


# ---- payments ------------------------------------------------------------------------------------
def payments(ctx: Ctx) -> list[dict]:
    scope = ctx.ar_scope(ctx.ids("ARAccountIDs"))
    types = ctx.ids("PaymentTypeIDs")
    return [ctx.book.render_payment(p) for p in ctx.book.payments if keep(p.ar, scope) and keep(p.type_id, types)]


def open_invoices(ctx: Ctx) -> list[dict]:
    scope = ctx.ar_scope(ctx.ids("ARAccountIDs"))
    ds, out = ctx.ds, []
    for inv in ds.invoices:
        ar = ds.ar_account(inv.customer_id)
        bal = inv.balance
        if bal == 0 or not keep(ar, scope):
            continue
        out.append(
            {
                "InvoiceID": inv.id,
                "InvoiceNum": inv.num,
                "CustomerID": inv.customer_id,
                "ARAccountID": ar,
                "InvoiceTotal": money(inv.total),
                "OpenDebit": money(max(bal, 0)),
                "OpenCredit": money(min(bal, 0)),
                "OpenBalance": money(bal),
                "CreditTermID": inv.term_id,
                "TermID": inv.term_id,
                "DueDate": day_ts(inv.due, 0),
                "Date": day_ts(inv.date, 0),
                "PONum": inv.po_num,
            }
        )
    return out


def applications(ctx: Ctx) -> list[dict]:
    scope = ctx.ar_scope(ctx.ids("ARAccountIDs"))
    pays, targets = ctx.strs("PaymentInvoiceNums"), ctx.strs("TargetInvoiceNums")
    if ctx.revision == "2026":
        statuses = ctx.strs("Statuses", REQUEST_STATUSES)
        rows = ctx.book.merged_rows()
    else:
        statuses = None
        rows = [ctx.book.render_application(a) for a in ctx.book.applications]
    return [
        r
        for r in rows
        if keep(r["ARAccountID"], scope)
        and keep(r["PaymentInvoiceNum"], pays)
        and keep(r["TargetInvoiceNum"], targets)
        and (statuses is None or r["Status"] in statuses)
    ]


def requested(ctx: Ctx) -> list[dict]:
    scope = ctx.ar_scope(ctx.ids("ARAccountIDs"))
    statuses = ctx.strs("Statuses", REQUEST_STATUSES)
    return [
        ctx.book.render_request(r) for r in ctx.book.requests if keep(r.payment.ar, scope) and keep(r.status, statuses)
    ]


def create_request(ctx: Ctx) -> list[dict]:
    payment_num = ctx.raw("PaymentInvoiceNum")
    target_num = ctx.raw("TargetInvoiceNum")
    for name, value in (("PaymentInvoiceNum", payment_num), ("TargetInvoiceNum", target_num)):
        if value is None:
            raise ApiError(400, f"{name} parameter is required")
    ar = ctx.number("ARAccountID") or 0
    ctx.ar_scope([ar])
    raw_amount = ctx.raw("Amount")
    if raw_amount is None:
        raise ApiError(400, "Amount parameter is required")
    try:
        amount = Decimal(raw_amount)
    except InvalidOperation:
        raise ApiError(400, "Amount must be a number") from None
    if not amount.is_finite() or amount <= 0:
        raise ApiError(400, "Amount must be positive")
    if amount != amount.quantize(Decimal("0.01")):
        raise ApiError(400, "Amount must have at most 2 decimal places")
    user_id = _requesting_user(ctx)
    try:
        req = ctx.book.create_request(
            payment_num=payment_num or "", target_num=target_num or "", ar=ar, amount=int(amount * 100), user_id=user_id
        )
    except RequestError as exc:
        raise ApiError(400, str(exc)) from None
    return [ctx.book.render_request(req)]


def _requesting_user(ctx: Ctx) -> int:
    if ctx.key.type == "customer":
        for u in ctx.ds.users:
            if u["Role"] == "Customer" and set(u["CustomerIDs"] or ()) & ctx.key.customers:
                return u["UserID"]
    return ctx.ds.users[0]["UserID"]


def payment_types(ctx: Ctx) -> list[dict]:
    return [{"PaymentTypeID": i, "PaymentTypeName": n} for i, n in PAYMENT_TYPES]


def credit_terms(ctx: Ctx) -> list[dict]:
    return [
        {"CreditTermID": 1, "Name": "Due on receipt", "Days": 0},
        {"CreditTermID": 3, "Name": "Net 30", "Days": 30},
        {"CreditTermID": 5, "Name": "Net 15", "Days": 15},
    ]


def vendors(ctx: Ctx) -> list[dict]:
    scope = ctx.supplier_scope(None)
    return [
        {"VendorID": s["SupplierID"], "VendorName": s["Supplier"], "State": s["State"], "Active": s["Active"]}
        for s in ctx.ds.suppliers
        if keep(s["SupplierID"], scope)
    ]


NO_SUPPLIER, NO_CUSTOMER = ("supplier",), ("customer",)
ROUTES: list[Route] = [
    Route("allocations", allocations),
    Route("arAging", ar_aging, denied=NO_SUPPLIER),
    Route("customerPricing", customer_pricing),
    Route("customers", customers),
    Route("customers/{customerID}", customer, single=True),
    Route("deliveryDays", delivery_days),
    Route("inventory", inventory, denied=NO_CUSTOMER),
    Route("retailerInventory", retailer_inventory),
    Route("invoices", invoices),
    Route("invoices/{invoiceID}", invoice, single=True),
    Route("invoiceTransactions", invoice_transactions),
    Route("invoiceTransactions/{invoiceID}", invoice_transactions_one),
    Route("invoiceCOAs", invoice_coas),
    Route("invoiceCOAs/{invoiceID}", invoice_coas_one),
    Route("locations", locations),
    Route("locations/{locationID}", location, single=True),
    Route("menuPromotions", menu_promotions),
    Route("promotionsProducts", promotions),
    Route("productCategories", categories),
    Route("products", products),
    Route("products/{productID}", product, single=True),
    Route("states", states),
    Route("suppliers", suppliers),
    Route("suppliers/{supplierID}", supplier, single=True),
    Route("users", users),
    Route("users/{userID}", user, single=True),
    Route("payments", payments, denied=NO_SUPPLIER),
    Route("payments/openInvoices", open_invoices, denied=NO_SUPPLIER),
    Route("payments/applications", applications, denied=NO_SUPPLIER),
    Route("payments/applications/requested", requested, denied=NO_SUPPLIER, revisions=("2025",)),
    Route("payments/applications/requested", create_request, "POST", NO_SUPPLIER, ("2025",)),
    Route("payments/applications", create_request, "POST", NO_SUPPLIER, ("2026",)),
    Route("purchases", purchases, denied=NO_CUSTOMER),
    Route("purchases/{purchaseID}", purchase, denied=NO_CUSTOMER, single=True),
    Route("purchaseTrans", purchase_trans, denied=NO_CUSTOMER),
    Route("salesReps", sales_reps),
    Route("payments/types", payment_types, denied=NO_SUPPLIER, revisions=("2026",)),
    Route("suppliers/creditTerms", credit_terms, revisions=("2026",)),
    Route("vendors", vendors, denied=NO_CUSTOMER, revisions=("2026",)),
]
