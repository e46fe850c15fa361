"""`--live-quirks`: make records look like the live service's (see kss-field-notes.md).

Deterministic per record: some documented fields go missing, some become null, undocumented fields
appear. Identifiers (fields ending in "ID") are never touched, so records still join.
"""

from __future__ import annotations

import random

from sheetsync.sandbox.data import stable_seed

SUPPLIER_HIDDEN_CUSTOMER_FIELDS = (
    "SalesRepEmail",
    "SalesRepName",
    "SalesRepPhone",
    "SalesRepUserID",
    "OnHold",
    "CollectionAgentFullName",
    "CollectionAgentEmail",
    "DeliveryMinimum",
)
OFTEN_NULL = {"products": ("BrandStyle", "Ingredients", "Description"), "locations": ("Address2",)}
PURCHASE_EXTRAS = {
    "CreatedByUserID": 856,
    "ApprovedByUserID": None,
    "ExternalRef": "EXT-0000",
    "CurrencyCode": "USD",
    "SyncVersion": 3,
}


def apply_quirks(endpoint: str, rows: list[dict], key_type: str) -> list[dict]:
    base = endpoint.split("/{")[0]
    return [_quirk(base, dict(row), key_type) for row in rows]


def _quirk(base: str, row: dict, key_type: str) -> dict:
    first = next(iter(row.values()), None)
    rng = random.Random(stable_seed("quirks", base, repr(first)))
    if base == "customers" and key_type == "supplier":
        for name in SUPPLIER_HIDDEN_CUSTOMER_FIELDS:
            row.pop(name, None)
    for name in OFTEN_NULL.get(base, ()):
        if name in row and rng.random() < 0.6:
            row[name] = None
    if base.startswith("purchases"):
        row.update(PURCHASE_EXTRAS)
        row["ExternalRef"] = f"EXT-{row.get('PurchaseID', 0)}"
    candidates = [k for k in row if not k.endswith("ID") and not k.endswith("IDs")]
    if candidates and rng.random() < 0.15:
        row.pop(rng.choice(candidates))
    if candidates and rng.random() < 0.2:
        name = rng.choice(candidates)
        if name in row:
            row[name] = None
    if rng.random() < 0.1:
        row["RowVersion"] = rng.randint(1, 99)
    return row
