"""KSS sandbox routes for customers, users and sales reps, promotions and customer pricing."""

from __future__ import annotations

from sheetsync.sandbox.data import TODAY, money
from sheetsync.sandbox.kss_route import _active_default, _one
from sheetsync.sandbox.params import ApiError, Ctx, keep


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
