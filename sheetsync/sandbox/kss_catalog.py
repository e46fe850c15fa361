"""KSS sandbox routes for the catalog and stock: states, locations, suppliers, products, inventory, purchases."""

from __future__ import annotations

from sheetsync.sandbox.data import PURCHASE_STATUSES
from sheetsync.sandbox.kss_route import _active_default, _one
from sheetsync.sandbox.params import Ctx, keep


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
