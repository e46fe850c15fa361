"""The Kotis order sheet: one row per order line, a SKU dropdown from `skus/quantity`, outcome columns.

Tabs: Orders (first, so `kotis push` finds it by default), Instructions, SKUs (every SKU with its
available and physical quantity as `skus/quantity` gave them: the list the SKU dropdown reads). Beside
each line's SKU, an Available column looks the SKU up in the SKUs tab (a formula, so it follows the
SKU a person picks). `refresh_sku_list` rewrites only the SKUs tab's cells of an existing sheet, so
running `kotis template` again refreshes the stock without touching a single order entry.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from sheetsync.errors import SinkError
from sheetsync.model import Column, Format, Formula, Tab, Validation, Workbook
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
from sheetsync.sinks.base import SheetSource

ORDERS_TAB, INSTRUCTIONS_TAB, SKUS_TAB = "Orders", "Instructions", "SKUs"
AVAILABLE, PHYSICAL = "Available", "Physical"
SKU_COLUMNS = (SKU, AVAILABLE, PHYSICAL)
WIDTHS = {ORDER_REF: 12, EMAIL: 24, SHIPPING: 14, SKU: 18, "Name": 20, "Address1": 24, "Message": 50, TRACKING: 26}
FORMATS = {
    QUANTITY: Format.INTEGER,
    AVAILABLE: Format.INTEGER,
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
        ["Quantity", "A whole number greater than 0, at most the SKU's Available quantity (beside the SKU)."],
        [
            "Stock",
            f"sheetsync kotis template -o {where}   (again: refreshes the SKUs tab; your lines stay)",
        ],
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
    return Workbook("kotis-orders", [_orders_tab(lines), _instructions_tab(where), _skus_tab(skus)])


def order_headers() -> tuple[str, ...]:
    """The Orders tab's headers: the input columns with the Available lookup right after SKU, then outcomes."""
    at = INPUT_COLUMNS.index(SKU) + 1
    return (*INPUT_COLUMNS[:at], AVAILABLE, *INPUT_COLUMNS[at:], *OUTCOMES)


def _orders_tab(lines: int) -> Tab:
    headers = order_headers()
    columns = [Column(h, FORMATS.get(h, Format.TEXT), WIDTHS.get(h, 12)) for h in headers]
    tab = Tab(
        name=ORDERS_TAB,
        key="orders",
        title="Kotis merchandise orders",
        columns=columns,
        rows=[],
        info=[("Instructions", f"see the {INSTRUCTIONS_TAB} tab; Available is the SKU's stock on the {SKUS_TAB} tab")],
        validations=[
            Validation(SKU, "growing_list", (SKUS_TAB, SKU), "Choose a SKU from the SKUs tab"),
            Validation(QUANTITY, "positive_whole", None, "A whole number greater than 0"),
            Validation("State", "one_of", None, "A US state code, e.g. WA", values=tuple(sorted(US_STATES))),
            Validation("Zip", "us_zip", None, "A US ZIP code typed as text: 12345 or 12345-6789"),
        ],
    )
    at = headers.index(AVAILABLE)
    tab.rows = [[*[None] * at, available_lookup(tab, row), *[None] * (len(headers) - at - 1)] for row in range(lines)]
    return tab


def available_lookup(tab: Tab, index: int) -> Formula:
    """The Available cell of data row `index`: the SKU's available quantity from the SKUs tab, blank
    while no SKU is chosen, "not a SKU" for one the SKUs tab does not list."""
    sku = f"{get_column_letter(tab.column_index(SKU) + 1)}{tab.first_data_row + index}"
    return Formula(f'=IF({sku}="","",IFERROR(VLOOKUP({sku},{SKUS_TAB}!$A:$B,2,FALSE),"not a SKU"))')


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
        title="Kotis SKUs (skus/quantity; `kotis template` on this sheet again refreshes them)",
        columns=[
            Column(SKU, Format.TEXT, 18),
            Column(AVAILABLE, Format.INTEGER, 11),
            Column(PHYSICAL, Format.INTEGER, 10),
        ],
        rows=sku_rows(skus),
    )


def sku_rows(skus: list[dict[str, Any]]) -> list[list[Any]]:
    """`skus/quantity` rows as SKUs-tab rows, sorted by SKU: [sku, available, physical]."""
    listed = sorted(skus, key=lambda s: str(s.get("sku")))
    return [[str(s.get("sku")), s.get("available_quantity"), s.get("physical_quantity")] for s in listed]


def is_order_sheet(source: SheetSource) -> bool:
    """Whether `source` already holds an order sheet (an Orders and a SKUs tab) to refresh in place."""
    names = source.tab_names()
    return ORDERS_TAB in names and SKUS_TAB in names


def refresh_sku_list(source: SheetSource, skus: list[dict[str, Any]]) -> int:
    """Rewrite the SKU, Available and Physical cells of the SKUs tab in place (rows no longer needed are
    cleared) and nothing else: the Orders tab's entries, formulas and outcomes, the user's other tabs
    and columns stay as they are. The dropdown and the Available lookups read the SKUs tab, so they
    follow. Returns the number of SKUs written."""
    rows = sku_rows(skus)
    if not rows:
        raise SinkError("skus/quantity returned no SKUs; the SKUs tab was left as it was")
    old = source.read_rows(SKUS_TAB, required=(SKU,), columns=SKU_COLUMNS)
    first = min((r.row_number for r in old), default=_skus_tab([]).first_data_row)
    last = max((r.row_number for r in old), default=first - 1)
    updates = {first + i: dict(zip(SKU_COLUMNS, row, strict=True)) for i, row in enumerate(rows)}
    updates.update({n: dict.fromkeys(SKU_COLUMNS) for n in range(first + len(rows), last + 1)})
    source.write_back(SKUS_TAB, updates, recalculate=True)  # the Available lookups read these cells
    return len(rows)
