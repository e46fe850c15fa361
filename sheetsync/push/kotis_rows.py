"""Kotis order rows read from a sheet: one row per order line, rows sharing an OrderRef form one order.

Read through the shared `SheetSource.read_rows` (duplicate headers refused, hidden and filtered rows
marked, merged cells named) and the shared exact readers of `push/cells.py` (quantities: whole
numbers only). Every problem names its row and cell; nothing here talks to the API.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sheetsync.push.cells import whole
from sheetsync.push.sheet_rows import canonical, is_empty, number, text
from sheetsync.sinks.base import SheetRow, SheetSource

ORDER_REF, EMAIL, SHIPPING, SKU, QUANTITY = "OrderRef", "Email", "ShippingMethod", "SKU", "Quantity"
ADDRESS = ("Name", "Attention", "Address1", "Address2", "City", "State", "Zip", "Country", "Phone", "AddressType")
ADDRESS_REQUIRED = ("Name", "Address1", "City", "State", "Zip")
INPUT_COLUMNS = (ORDER_REF, EMAIL, SHIPPING, SKU, QUANTITY, *ADDRESS)
STATUS, ORDER_NUM, MESSAGE, SHIPMENTS, TRACKING, SHIPPED_ON, DELIVERY, UPDATED = (
    "Status",
    "OrderNum",
    "Message",
    "Shipments",
    "Tracking",
    "ShippedOn",
    "DeliveryStatus",
    "Updated",
)
OUTCOME_COLUMNS = (STATUS, ORDER_NUM, MESSAGE, SHIPMENTS, TRACKING, SHIPPED_ON, DELIVERY, UPDATED)
REQUIRED = (ORDER_REF, SKU, QUANTITY)
KNOWN = (*INPUT_COLUMNS, *OUTCOME_COLUMNS)
ORDER_FIELDS = (EMAIL, SHIPPING, *ADDRESS)  # must be the same on every line of one order
US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
        "AA",
        "AE",
        "AP",
    ]
)
ZIP = re.compile(r"\d{5}(-\d{4})?")


@dataclass
class OrderLine:
    """One sheet row: a SKU and quantity of order `ref`. Fields are None when missing or unreadable."""

    row_number: int
    cells: dict[str, str]
    ref: str | None = None
    sku: str | None = None
    quantity: int | None = None
    fields: dict[str, str] = field(default_factory=dict)  # ORDER_FIELDS -> text ("" when empty)
    order_num: str = ""  # the OrderNum already in the sheet
    status: str = ""  # the Status already in the sheet ("sending <run>" while a push claims the line)
    problems: list[str] = field(default_factory=list)
    hidden: str = ""
    unreadable: set[str] = field(default_factory=set)  # headers already refused (merged cells): no more noise

    def cell(self, header: str) -> str:
        return self.cells.get(header, f"row {self.row_number}")


@dataclass
class Order:
    """The lines of one OrderRef, in sheet order, and what is wrong with the order as a whole."""

    ref: str
    lines: list[OrderLine]
    problems: list[str] = field(default_factory=list)  # order-level (addresses differ, ...)

    @property
    def rows(self) -> list[int]:
        return [line.row_number for line in self.lines]

    @property
    def valid(self) -> bool:
        return not self.problems and all(not line.problems for line in self.lines)

    @property
    def hidden(self) -> str:
        return self.lines[0].hidden if all(line.hidden for line in self.lines) else ""

    @property
    def order_num(self) -> str:
        return next((line.order_num for line in self.lines if line.order_num), "")

    def all_problems(self) -> list[str]:
        return self.problems + [p for line in self.lines for p in line.problems]

    def payload(self) -> dict[str, Any]:
        """The documented orders/create body; the OrderRef goes in `order_id`."""
        first = self.lines[0].fields
        address = {_api_name(name): first.get(name, "") for name in ADDRESS}
        return {
            "email": first.get(EMAIL, ""),
            "shipping_method": first.get(SHIPPING, "") or "Economy",
            "order_id": self.ref,
            "skus": [{"quantity": str(line.quantity), "sku": line.sku} for line in self.lines],
            "address": address,
        }

    def fingerprint(self) -> str:
        """A hash of what the order asks for (address, email, method, lines): any edit changes it."""
        return "sha256:" + hashlib.sha256(json.dumps(self.payload(), sort_keys=True).encode()).hexdigest()[:16]

    def label(self) -> str:
        rows = self.rows
        where = f"row {rows[0]}" if len(rows) == 1 else f"rows {', '.join(map(str, rows))}"
        return f"{self.ref} ({where})"


def _api_name(header: str) -> str:
    """A sheet header as the API's address key: AddressType -> address_type, Address1 -> address1."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", header).lower()


def read_orders(source: SheetSource, tab: str | None) -> list[Order]:
    """Read, type and check every order line of `tab`, grouped into orders (no API involved)."""
    rows = source.read_rows(tab, required=REQUIRED, columns=KNOWN)
    lines = [line for line in (parse_line(row) for row in rows) if line is not None]
    return group_orders(lines)


def parse_line(row: SheetRow) -> OrderLine | None:
    values, refs, merged = canonical(row, KNOWN)
    if all(is_empty(values.get(name)) for name in (ORDER_REF, SKU, QUANTITY)):
        return None  # a blank template line
    line = OrderLine(row.row_number, refs, hidden=row.hidden)
    for header, span in merged.items():
        if header in INPUT_COLUMNS:
            line.problems.append(
                f"{line.cell(header)}: {header} is inside the merged cell {span}, which holds one value for "
                "several rows; unmerge it and fill each row"
            )
            line.unreadable.add(header)
    line.ref = _text(line, values, ORDER_REF, required=True)
    line.sku = _text(line, values, SKU, required=True)
    line.quantity = _quantity(line, values)
    line.fields = {name: _text(line, values, name, required=False) or "" for name in ORDER_FIELDS}
    line.order_num = _text(line, values, ORDER_NUM, required=False) or ""
    status = values.get(STATUS)
    line.status = status.strip() if isinstance(status, str) else ""
    _check_address(line)
    return line


def _text(line: OrderLine, values: dict[str, Any], header: str, *, required: bool) -> str | None:
    return None if header in line.unreadable else text(line, values, header, required=required)


def _quantity(line: OrderLine, values: dict[str, Any]) -> int | None:
    return None if QUANTITY in line.unreadable else number(line, values, QUANTITY, whole, required=True)


def _check_address(line: OrderLine) -> None:
    for name in ADDRESS_REQUIRED:
        if not line.fields.get(name) and name not in line.unreadable:
            line.problems.append(f"{line.cell(name)}: {name} is empty (the shipping address needs it)")
    country = line.fields.get("Country", "").upper()
    if country not in ("", "US", "USA", "UNITED STATES"):
        return
    state, zip_code = line.fields.get("State", ""), line.fields.get("Zip", "")
    if state and state.upper() not in US_STATES:
        line.problems.append(f"{line.cell('State')}: State {state!r} is not a US state code (e.g. WA)")
    if zip_code and not ZIP.fullmatch(zip_code):
        hint = " (a number lost its leading zero: type it as text)" if zip_code.isdigit() and len(zip_code) < 5 else ""
        line.problems.append(f"{line.cell('Zip')}: Zip {zip_code!r} is not a US ZIP code (12345 or 12345-6789){hint}")


def group_orders(lines: list[OrderLine]) -> list[Order]:
    """Lines with the same OrderRef form one order; their email, method and address must agree."""
    by_ref: dict[str, list[OrderLine]] = defaultdict(list)
    orphans: list[Order] = []
    for line in lines:
        if line.ref:
            by_ref[line.ref].append(line)
        else:
            orphans.append(Order(f"(row {line.row_number})", [line]))
    orders = [Order(ref, same) for ref, same in by_ref.items()]
    for order in orders:
        _check_same_fields(order)
    return sorted(orders + orphans, key=lambda o: o.rows[0])


def _check_same_fields(order: Order) -> None:
    first = order.lines[0]
    for line in order.lines[1:]:
        for name in ORDER_FIELDS:
            if name in line.unreadable or name in first.unreadable:
                continue
            if line.fields.get(name, "") != first.fields.get(name, ""):
                line.problems.append(
                    f"{line.cell(name)}: {name} {line.fields.get(name, '')!r} differs from "
                    f"{first.fields.get(name, '')!r} in {first.cell(name)}; every line of order {order.ref} "
                    "ships to one address"
                )
