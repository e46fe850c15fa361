"""The generator of the synthetic world: states, suppliers, products, customers, promotions,
inventory, purchases and invoices, all derived from `random.Random(seed)`."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sheetsync.sandbox.entities import Dataset, Invoice
from sheetsync.sandbox.vocab import (
    CATEGORIES,
    CATEGORY_TYPES,
    CITIES,
    CUSTOMER_WORDS,
    FLAVORS,
    HOSTILE_CUSTOMERS,
    HOSTILE_PRODUCTS,
    NEVER_COUNTED,
    NOW,
    PRICE_POINTS,
    PRODUCT_STATUS_WEIGHTS,
    PURCHASE_STATUSES,
    STATES,
    SUPPLIER_NAMES,
    TODAY,
    day_ts,
    money,
    ts,
)


def build_dataset(seed: int = 0, scale: int = 1) -> Dataset:
    """Generate the whole synthetic world for a seed and scale."""
    ds = Dataset(seed=seed, scale=scale)
    rng = random.Random(seed)
    _states_locations(ds)
    _suppliers_categories(ds, rng)
    _products(ds, rng)
    _users_customers(ds, rng)
    _promotions(ds, rng)
    _allocations_inventory(ds, rng)
    _purchases(ds, rng)
    _retailer_inventory(ds, rng)
    _invoices(ds, rng)
    return ds


def _states_locations(ds: Dataset) -> None:
    for abbr, name, tz, cutoff, days in STATES:
        ds.states.append(
            {
                "StateAbbreviation": abbr,
                "StateName": name,
                "OrderCutOffTime": cutoff,
                "TimeZone": tz,
                "OrderCutOffDaysInAdvance": days,
                "TimeUpdated": "2025-12-30T18:28:17.710Z",
            }
        )
        for city, postal in CITIES[abbr]:
            lid = len(ds.locations) + 1
            ds.locations.append(
                {
                    "LocationID": lid,
                    "Location": city,
                    "DBA": "KSS Sales & Service",
                    "Address": f"{100 + lid * 37} Distribution Way",
                    "Address2": "Suite 2" if lid % 3 == 0 else None,
                    "Address3": "N/A",
                    "City": city,
                    "State": abbr,
                    "PostalCode": postal,
                    "TimeUpdated": "2024-09-23T19:05:39.984Z",
                }
            )


def _suppliers_categories(ds: Dataset, rng: random.Random) -> None:
    for i in range(8 * ds.scale):
        base = SUPPLIER_NAMES[i % len(SUPPLIER_NAMES)]
        name = base if i < len(SUPPLIER_NAMES) else f"{base} {i // len(SUPPLIER_NAMES) + 1}"
        slug = name.lower().replace(" ", "").replace("&", "and")
        ds.suppliers.append(
            {
                "SupplierID": i + 1,
                "Supplier": name,
                "State": STATES[i % len(STATES)][0],
                "Active": i % 7 != 6,
                "Description": f"{name} makes cannabis products." if rng.random() < 0.8 else None,
                "BrandAssetsURL": f"https://cdn.example.com/{slug}/brand-assets.zip",
                "SupplierWebsiteURL": f"https://www.{slug}.example.com",
                "TimeUpdated": "2025-01-01T00:00:00.000Z",
            }
        )
    for i, name in enumerate(CATEGORIES):
        ds.categories.append(
            {
                "ProductCategoryID": i + 1,
                "CategoryName": name,
                "Sequence": i + 1,
                "TimeUpdated": "2025-01-01T00:00:00.000Z",
            }
        )


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _products(ds: Dataset, rng: random.Random) -> None:
    for i in range(200 * ds.scale):
        supplier = ds.suppliers[rng.randrange(len(ds.suppliers))]
        cat_index = rng.randrange(len(CATEGORIES))
        category = CATEGORIES[cat_index]
        flavor = rng.choice(FLAVORS)
        name = HOSTILE_PRODUCTS[i] if i < len(HOSTILE_PRODUCTS) else f"{supplier['Supplier']} {category} {flavor}"
        upc = rng.choice([6, 10, 12, 20, 24, None])
        type_name, type_id = CATEGORY_TYPES[category]
        pid = 100 + i
        product = {
            "ProductID": pid,
            "Supplier": supplier["Supplier"],
            "SupplierID": supplier["SupplierID"],
            "ProductName": name,
            "BrandFamily": f"{supplier['Supplier']} {category}",
            "ProductTypeName": type_name,
            "UnitNetWeight": rng.choice(["50g", "100mg", "1g", "3.5g", "12oz"]),
            "WholesaleUnitsPerCase": upc,
            "Description": f"{name}: a {category.lower()} product." if rng.random() < 0.7 else None,
            "Ingredients": "Sugar, Cannabis Extract." if rng.random() < 0.6 else None,
            "ThumbnailImageURL": f"https://cdn.e8.co/sbx/thumb/{pid}.png",
            "FullSizeImageURL": f"https://cdn.e8.co/sbx/full/{pid}.png",
            "Potency": rng.choice(["100mg THC", "5mg THC", "1g", "10mg CBD"]),
            "PotencyTHC": None,
            "Blend": rng.choice(["Hybrid", "Indica", "Sativa", "CBD"]),
            "KSSMenuCategory": "Edibles/Ingestibles" if cat_index < 4 else "Inhalables",
            "KSSLiveCategoryID": cat_index + 1,
            "StatusID": _weighted(rng, PRODUCT_STATUS_WEIGHTS),
            "TimeUpdated": ts(NOW - timedelta(days=rng.randint(1, 90), seconds=rng.randint(0, 86399))),
            "State": supplier["State"],
            "IsSample": rng.random() < 0.03,
            "ProductGroupID": cat_index + 1,
            "BrandStyle": f"{supplier['Supplier']} {category}" if rng.random() < 0.5 else None,
            "PackageID": 10 + cat_index,
            "PackageName": f"{upc or 1} {category}",
            "ProductTypeID": type_id,
            "StrainName": None,
            "StrainID": None,
            "Flavor": flavor.lower(),
            "BrandID": 2600 + supplier["SupplierID"],
            "BrandName": f"{supplier['Supplier']} Base",
            "_price": rng.choice(PRICE_POINTS),
        }
        ds.products.append(product)
        ds.product_by_id[pid] = product
    for abbr, *_ in STATES:
        ds.sellable_by_state[abbr] = [p for p in ds.products if p["State"] == abbr and p["StatusID"] in (1, 5)]
        if not ds.sellable_by_state[abbr]:  # tiny worlds: every state sells something
            ds.sellable_by_state[abbr] = [p for p in ds.products if p["StatusID"] in (1, 5)][:3]


def _user(
    ds: Dataset,
    name: str,
    role: str,
    states: list[str],
    *,
    active: bool = True,
    customers: list[int] | None = None,
    suppliers: list[int] | None = None,
    locations: list[int] | None = None,
) -> dict:
    uid = 500 + len(ds.users)
    email = name.lower().replace(" ", ".").replace("'", "") + f"{uid}@example.com"
    user = {
        "UserID": uid,
        "SiteUserID": 1000 + uid,
        "UserActive": active,
        "KSSLiveAccess": role != "Admin",
        "Email": email,
        "States": states,
        "Role": role,
        "CustomerIDs": customers,
        "SupplierIDs": suppliers,
        "LocationIDs": locations or [],
        "PowerUser": role == "Admin",
        "_name": name,
    }
    ds.users.append(user)
    ds.user_by_id[uid] = user
    return user


FIRST = ["Jane", "John", "Maria", "Wei", "Aisha", "Carlos", "Priya", "Tom", "Sofia", "Omar", "Lena", "Raj"]
LAST = ["Smith", "Doe", "Garcia", "Chen", "Khan", "Lopez", "Patel", "Brown", "Rossi", "Haddad", "Berg", "Iyer"]


def _users_customers(ds: Dataset, rng: random.Random) -> None:
    ds.user_by_id = {}
    _user(ds, "Ada Admin", "Admin", [s[0] for s in STATES])
    _user(ds, "Otto Ops", "Admin", [s[0] for s in STATES])
    reps: dict[str, list[dict]] = {}
    for abbr, *_ in STATES:
        for k in range(1 + ds.scale):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            locs = [loc["LocationID"] for loc in ds.locations if loc["State"] == abbr]
            reps.setdefault(abbr, []).append(_user(ds, name, "DistributorRep", [abbr], active=k < 2, locations=locs))
    for i in range(40 * ds.scale):
        cid = i + 1
        state = STATES[i % len(STATES)][0]
        status = "Active" if i % 10 < 7 else ("Inactive" if i % 10 < 9 else "OutOfBus")
        word = CUSTOMER_WORDS[rng.randrange(len(CUSTOMER_WORDS))]
        name = HOSTILE_CUSTOMERS.get(cid, f"{word} {rng.choice(['Dispensary', 'Cannabis', 'Collective', 'Wellness'])}")
        locs = [loc for loc in ds.locations if loc["State"] == state]
        loc = locs[rng.randrange(len(locs))]
        rep = rng.choice([r for r in reps[state] if r["UserActive"]])
        weekday = rng.randint(1, 5)
        dates = _delivery_dates(weekday)
        customer = {
            "CustomerID": cid,
            "CustomerName": name,
            "CustomerNameAlt": "0042" if cid == 9 else word,
            "ChainName": f"{word} Chain" if rng.random() < 0.4 else None,
            "LicenseNum": f"C10-{cid:07d}-LIC",
            "Address": f"{10 + cid} Main St, {loc['City']}, {state} {loc['PostalCode']}",
            "LocationID": loc["LocationID"],
            "OnHold": status == "Active" and rng.random() < 0.15,
            "SalesRepEmail": rep["Email"],
            "SalesRepName": rep["_name"],
            "SalesRepPhone": f"555-555-{rep['UserID']:04d}",
            "SalesRepUserID": rep["UserID"],
            "ProfilePictureURL": f"https://cdn.e8.co/sbx/avatar/{rep['UserID']}.jpg",
            "CollectionAgentFullName": "Cole Lector" if i % 10 == 8 else None,
            "CollectionAgentEmail": "cole.lector@example.com" if i % 10 == 8 else None,
            "State": state,
            "DeliveryDays": str(weekday),
            "NextDeliveryDates": ";".join(dates),
            "AccountStatus": status,
            "DeliveryDates": dates,
            "DeliveryMinimum": rng.choice([0, 250, 500, 1000]),
            "TimeUpdated": ts(NOW - timedelta(days=rng.randint(1, 300), seconds=rng.randint(0, 86399))),
        }
        ds.customers.append(customer)
        ds.customer_by_id[cid] = customer
        _user(
            ds,
            f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "Customer",
            [state],
            active=status == "Active",
            customers=[cid],
            locations=[loc["LocationID"]],
        )
    for s in ds.suppliers:
        _user(
            ds,
            f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "Supplier",
            [s["State"]],
            active=s["Active"],
            suppliers=[s["SupplierID"]],
        )


def _delivery_dates(weekday: int) -> list[str]:
    first = TODAY + timedelta(days=(weekday - TODAY.isoweekday()) % 7 or 7)
    return [(first + timedelta(weeks=k)).isoformat() for k in range(4)]


def _promotions(ds: Dataset, rng: random.Random) -> None:
    seasons = ["Spring", "Summer", "Holiday", "Winter", "Launch", "Clearance"]
    for supplier in ds.suppliers:
        own = [p for p in ds.products if p["SupplierID"] == supplier["SupplierID"] and p["StatusID"] in (1, 5)]
        for k in range(3 if own else 0):
            anchor = own[rng.randrange(len(own))]
            members = [p for p in own if p["_price"] == anchor["_price"]][:5]
            unit = anchor["_price"] - rng.choice([50, 100, 250, 300])
            start = TODAY - timedelta(days=rng.randint(-20, 150))
            end = start + timedelta(days=rng.randint(30, 120))
            pid = 40 + len(ds.promotions) + 1
            promo = {
                "PromotionID": pid,
                "PromotionTypeID": rng.randint(1, 4),
                "States": [supplier["State"]],
                "PromotionName": f"{supplier['Supplier']} {seasons[(pid + k) % len(seasons)]} Deal",
                "ProductOverrideType": "none",
                "UnitPrice": unit / 100,
                "StartDate": start.isoformat(),
                "EndDate": end.isoformat(),
                "AllProducts": False,
                "ProductIDs": [p["ProductID"] for p in members],
                "TimeUpdated": day_ts(start - timedelta(days=10), 10),
                "_start": start,
                "_end": end,
                "_unit": unit,
                "_supplier": supplier["SupplierID"],
            }
            ds.promotions.append(promo)
            for p in members:
                ds.promos_by_product.setdefault(p["ProductID"], []).append(promo)
        for _ in range(2):
            start = TODAY - timedelta(days=rng.randint(-30, 120))
            ds.menu_promotions.append(
                {
                    "MenuPromotionID": 7001 + len(ds.menu_promotions),
                    "SupplierID": supplier["SupplierID"],
                    "SupplierName": supplier["Supplier"],
                    "State": supplier["State"],
                    "Description": f"Featured {supplier['Supplier']} products for menus.",
                    "StartDate": start.isoformat(),
                    "EndDate": (start + timedelta(days=rng.randint(30, 90))).isoformat(),
                    "TimeUpdated": day_ts(start - timedelta(days=14), 10),
                }
            )


def _allocations_inventory(ds: Dataset, rng: random.Random) -> None:
    allocated: dict[tuple[int, int], int] = {}
    active_by_state: dict[str, list[dict]] = {}
    for c in ds.customers:
        if c["AccountStatus"] == "Active":
            active_by_state.setdefault(c["State"], []).append(c)
    next_alloc = 1001
    for product in ds.products:
        customers = active_by_state.get(product["State"], [])
        if product["StatusID"] not in (1, 2, 5) or not customers or rng.random() > 0.12:
            continue
        start = TODAY - timedelta(days=rng.randint(0, 60))
        for c in rng.sample(customers, min(len(customers), rng.randint(1, 3))):
            units = rng.choice([12, 24, 48])
            ds.allocations.append(
                {
                    "AllocationID": next_alloc,
                    "ProductID": product["ProductID"],
                    "CustomerID": c["CustomerID"],
                    "Units": units,
                    "AllocationTypeID": 0,
                    "StartDate": start.isoformat(),
                    "EndDate": (start + timedelta(days=90)).isoformat(),
                    "TimeUpdated": day_ts(start, 10),
                }
            )
            key = (c["LocationID"], product["ProductID"])
            allocated[key] = allocated.get(key, 0) + units
        next_alloc += 1
    for product in ds.products:
        for loc in ds.locations:
            key = (loc["LocationID"], product["ProductID"])
            if loc["State"] != product["State"] or (key not in allocated and rng.random() > 0.6):
                continue
            alloc = allocated.get(key, 0)
            presales = rng.randint(0, 200)
            not_authorized = alloc > 0 and rng.random() < 0.4
            on_floor = presales + alloc + (0 if not_authorized else rng.randint(0, 2000))
            daily = rng.randint(0, 50000)
            available = on_floor - presales - alloc
            ds.inventory.append(
                {
                    "LocationID": loc["LocationID"],
                    "ProductID": product["ProductID"],
                    "OnFloorInventory": money(on_floor * 100),
                    "PreSales": money(presales * 100),
                    "Allocated": money(alloc * 100),
                    "NotAuthorized": not_authorized,
                    "AvailableUnits": available,
                    "PurchaseTransID": None,
                    "DOI": money(round(available * 10000 / daily) if daily else 0),
                    "AvgDailySales90d": money(daily),
                    "TimeUpdated": ts(NOW - timedelta(hours=rng.randint(1, 48))),
                    "_supplier": product["SupplierID"],
                }
            )


def _purchases(ds: Dataset, rng: random.Random) -> None:
    groups: dict[tuple[int, int], list[dict]] = {}
    for row in ds.inventory:
        groups.setdefault((row["LocationID"], row["_supplier"]), []).append(row)
    trans_id = 99001
    for (loc_id, sup_id), rows in sorted(groups.items()):
        pid = 10001 + len(ds.purchases)
        post = TODAY - timedelta(days=rng.randint(1, 120))
        supplier = ds.suppliers[sup_id - 1]
        total = 0
        cases_total = 0
        for row in rows:
            product = ds.product_by_id[row["ProductID"]]
            upc = product["WholesaleUnitsPerCase"] or 1
            cases = rng.randint(1, 20)
            fob = product["_price"] // 2
            ext = fob * cases * upc
            total += ext
            cases_total += cases
            row["PurchaseTransID"] = trans_id
            ds.purchase_trans.append(
                {
                    "PurchaseTransID": trans_id,
                    "PurchaseID": pid,
                    "ProductID": row["ProductID"],
                    "Ordered": str(cases),
                    "NumUnits": str(cases * upc),
                    "FOB": money(fob),
                    "DepositCost": "0.00",
                    "ExtPrice": money(ext),
                    "ExpirationDate": day_ts(post + timedelta(days=365), 0),
                    "CodeDate": day_ts(post - timedelta(days=30), 0),
                    "BatchCode": f"BCH-{trans_id}",
                    "LaidInCost": money(fob + 50),
                    "PalletTag": None,
                    "Cases": str(cases),
                    "Weight": money(cases * upc * 10),
                    "TimeUpdated": day_ts(post, 10),
                }
            )
            trans_id += 1
        freight = rng.choice([0, 5000, 15000])
        loc = ds.locations[loc_id - 1]
        ds.purchases.append(
            {
                "PurchaseID": pid,
                "ReceiveDate": day_ts(post, 0),
                "ShipmentNum": f"SHP-{post.year}-{pid:05d}",
                "ShipmentID": 5000 + len(ds.purchases),
                "ToLocationID": loc_id,
                "ToLocationName": loc["Location"],
                "VendorName": supplier["Supplier"],
                "VendorID": sup_id,
                "PostDate": day_ts(post, 0),
                "Status": PURCHASE_STATUSES[len(ds.purchases) % len(PURCHASE_STATUSES)],
                "PONum": f"PO-{post.year}-{pid:04d}",
                "Freight": money(freight),
                "Tax": "0.00",
                "OtherCost": "0.00",
                "Total": money(total + freight),
                "TotalCases": str(cases_total),
                "PublicPDFLink": None,
                "Memo": None,
                "InvoiceDate": day_ts(post, 0),
                "DueDate": day_ts(post + timedelta(days=30), 0),
                "Terms": "Net 30",
                "TermID": 3,
                "LastEditTime": day_ts(post + timedelta(days=1), 10),
                "LastCalcTime": day_ts(post + timedelta(days=1), 10),
                "TimeUpdated": day_ts(post + timedelta(days=1), 10),
                "_post": post,
            }
        )


def _retailer_inventory(ds: Dataset, rng: random.Random) -> None:
    next_id = 1690001
    for c in ds.customers:
        pool = ds.sellable_by_state[c["State"]]
        for product in rng.sample(pool, min(len(pool), 8)):
            never = rng.random() < 0.25
            ds.retailer_inventory.append(
                {
                    "ID": next_id,
                    "ProductID": product["ProductID"],
                    "CustomerID": c["CustomerID"],
                    "LastInventoryDate": NEVER_COUNTED
                    if never
                    else day_ts(TODAY - timedelta(days=rng.randint(1, 60)), 6),
                    "Inventory": "0.00" if never else money(rng.randint(0, 60) * 100),
                    "DailySales": money(rng.randint(0, 300)),
                    "TimeUpdated": ts(NOW - timedelta(days=rng.randint(1, 30), seconds=rng.randint(0, 86399))),
                }
            )
            next_id += 1


def _invoices(ds: Dataset, rng: random.Random) -> None:
    staff = [u["UserID"] for u in ds.users if u["Role"] in ("Admin", "DistributorRep")]
    active = [c["CustomerID"] for c in ds.customers if c["AccountStatus"] == "Active"]
    others = [c["CustomerID"] for c in ds.customers if c["AccountStatus"] != "Active"]
    for i in range(1500 * ds.scale):
        inactive = bool(others) and rng.random() < 0.1
        cid = rng.choice(others) if inactive else rng.choice(active)
        age = rng.randint(30, 200) if inactive else rng.randint(0, 200)
        inv_date = TODAY - timedelta(days=age)
        if age < 3:
            status = rng.choice([1, 1, 2])
        elif age < 10:
            status = rng.choice([1, 2, 3, 3])
        else:
            status = _weighted(rng, [(7, 60), (5, 25), (3, 8), (4, 7)])
        po = rng.choice([None, None, f"PO-{inv_date.year}-{i:05d}", "0042"])
        memo = rng.choice([None, None, "Deliver to back door", 'Call before delivery; "fragile"'])
        inv = Invoice(
            id=9001 + i,
            customer_id=cid,
            date=inv_date,
            status=status,
            term_id=rng.choice([1, 3, 5]),
            po_num=po,
            memo=memo,
            submitted_by=rng.choice(staff),
            built_by=rng.choice(staff),
            created=datetime(inv_date.year, inv_date.month, inv_date.day, 13, 40, tzinfo=UTC)
            - timedelta(days=1, minutes=rng.randint(0, 600)),
        )
        for line in ds.lines(inv):
            product = ds.product_by_id[line.product_id]
            upc = product["WholesaleUnitsPerCase"]
            inv.total += (line.full - line.discount) * line.units
            inv.full += line.full * line.units
            inv.units += line.units
            inv.cases += round(line.units * 100 / upc) if upc else 0
            inv.supplier_mask |= 1 << product["SupplierID"]
        if status == 4:
            inv.adjust = inv.total  # fully credited back
        ds.invoices.append(inv)
        ds.invoice_by_id[inv.id] = inv
        ds.invoice_by_num[inv.num] = inv
