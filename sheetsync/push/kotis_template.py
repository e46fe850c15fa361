"""The Kotis order sheet: one row per order line, a SKU dropdown from `skus/quantity`, outcome columns.

Tabs: Orders (first, so `kotis push` finds it by default), Instructions, SKUs (every SKU with its
available and physical quantity as `skus/quantity` gave them when the template was made: the list the
SKU dropdown reads, and the lookup a person checks stock in; making the template again refreshes it).
"""

from __future__ import annotations

from typing import Any

from sheetsync.model import Column, Format, Tab, Validation, Workbook
from sheetsync.push.kotis_rows import (
    ADDRESS_REQUIRED,
    DELIVERY,
    EMAIL,
    INPUT_COLUMNS,
    ORDER_NUM,
    ORDER_REF,
    QUANTITY,
    SHIPMENTS,
    SHIPPED_ON,
    SHIPPING,
    SKU,
    TRACKING,
    UPDATED,
    US_STATES,
)

ORDERS_TAB, INSTRUCTIONS_TAB, SKUS_TAB = "Orders", "Instructions", "SKUs"
WIDTHS = {ORDER_REF: 12, EMAIL: 24, SHIPPING: 14, SKU: 18, "Name": 20, "Address1": 24, "Message": 50, TRACKING: 26}
FORMATS = {
    QUANTITY: Format.INTEGER,
    ORDER_NUM: Format.TEXT,
    SHIPMENTS: Format.INTEGER,
    TRACKING: Format.TEXT,
    SHIPPED_ON: Format.DATE,
    UPDATED: Format.DATETIME,
}
OUTCOMES = ("Status", ORDER_NUM, "Message", SHIPMENTS, TRACKING, SHIPPED_ON, DELIVERY, UPDATED)


def instructions(where: str) -> list[list[str]]:
    return [
        ["Lines", "One row per order line. Rows with the same OrderRef are one order (one address, several SKUs)."],
        ["OrderRef", "Your reference, unique per order; Kotis shows it as the order's order_id."],
        ["Address", f"{', '.join(ADDRESS_REQUIRED)} are required; State is a US state code, Zip 12345 or 12345-6789."],
        ["Quantity", "A whole number greater than 0, at most the SKU's Available quantity (SKUs tab)."],
        ["Check", f"sheetsync kotis push {where}   (the plan; nothing is sent)"],
        ["Send", f"sheetsync kotis push {where} --apply   (each order is created once; OrderNum appears here)"],
        ["Follow", f"sheetsync kotis status {where}   (status, shipments, tracking)"],
        [
            "Unknown",
            "An order marked unknown/blocked may exist in Kotis: check the portal, then `sheetsync kotis resolve`.",
        ],
        ["Do not", "edit an order after it has an OrderNum: a change is reported as a conflict, never re-sent."],
    ]


def build_order_template(skus: list[dict], *, lines: int = 50, where: str = "FILE") -> Workbook:
    """The order workbook from `skus/quantity` rows ({"sku", "available_quantity", "physical_quantity"})."""
    listed = sorted(skus, key=lambda s: str(s.get("sku")))
    return Workbook("kotis-orders", [_orders_tab(lines), _instructions_tab(where), _skus_tab(listed)])


def _orders_tab(lines: int) -> Tab:
    headers = (*INPUT_COLUMNS, *OUTCOMES)
    columns = [Column(h, FORMATS.get(h, Format.TEXT), WIDTHS.get(h, 12)) for h in headers]
    return Tab(
        name=ORDERS_TAB,
        key="orders",
        title="Kotis merchandise orders",
        columns=columns,
        rows=[[None] * len(headers) for _ in range(lines)],
        info=[("Instructions", f"see the {INSTRUCTIONS_TAB} tab; stock per SKU on the {SKUS_TAB} tab")],
        validations=[
            Validation(SKU, "list", (SKUS_TAB, SKU), "Choose a SKU from the SKUs tab"),
            Validation(QUANTITY, "positive_whole", None, "A whole number greater than 0"),
            Validation("State", "one_of", None, "A US state code, e.g. WA", values=tuple(sorted(US_STATES))),
            Validation("Zip", "us_zip", None, "A US ZIP code typed as text: 12345 or 12345-6789"),
        ],
    )


def _instructions_tab(where: str) -> Tab:
    return Tab(
        name=INSTRUCTIONS_TAB,
        key="instructions",
        title="How to order merchandise with this sheet",
        columns=[Column("Topic", Format.TEXT, 12), Column("What to do", Format.TEXT, 110)],
        rows=[list(r) for r in instructions(where)],
    )


def _skus_tab(skus: list[dict[str, Any]]) -> Tab:
    return Tab(
        name=SKUS_TAB,
        key="skus",
        title="Kotis SKUs (skus/quantity when this sheet was made)",
        columns=[
            Column(SKU, Format.TEXT, 18),
            Column("Available", Format.INTEGER, 11),
            Column("Physical", Format.INTEGER, 10),
        ],
        rows=[[str(s.get("sku")), s.get("available_quantity"), s.get("physical_quantity")] for s in skus],
    )
