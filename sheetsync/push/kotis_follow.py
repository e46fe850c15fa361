"""After a Kotis push: order status and tracking into the sheet, and settling orders whose outcome is unknown.

`refresh_order_status` fills Status, Shipments, Tracking, ShippedOn and DeliveryStatus of every row
with an order number (the sheet's, or the ledger's for rows a crash left unwritten) from
`orders/status`, batched (`KotisClient.order_status` sends up to STATUS_BATCH numbers per request).
Tracking numbers are written as text, every digit kept. `resolve_order` settles a blocked order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sheetsync.errors import ExitCode, PushError
from sheetsync.push.kotis_ledger import BLOCKED, CREATED, NOT_SENT, KotisLedger
from sheetsync.push.kotis_rows import (
    DELIVERY,
    MESSAGE,
    ORDER_NUM,
    SHIPMENTS,
    SHIPPED_ON,
    STATUS,
    TRACKING,
    UPDATED,
    read_orders,
)
from sheetsync.push.target import SheetTarget, now_local

RESOLVE_WINDOW = timedelta(minutes=30)  # by_source orders this close to an unknown POST are candidates


@dataclass
class OrderStatusResult:
    counts: dict[str, int]
    missing: list[str]  # order numbers orders/status does not know
    lines: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.PARTIAL if self.missing else ExitCode.OK


def refresh_order_status(client: Any, target: SheetTarget, ledger: KotisLedger) -> OrderStatusResult:
    """Copy each order's status, shipments and tracking into all its rows, in one write."""
    orders = read_orders(target.source, target.tab)
    entries = ledger.entries([o.ref for o in orders])
    numbers: dict[str, list[int]] = defaultdict(list)  # order number -> rows
    for order in orders:
        entry = entries.get(order.ref)
        number = order.order_num or (entry.order_num if entry and entry.state == CREATED else "")
        if number:
            numbers[number] += order.rows
    found = summarize(client.order_status(list(numbers))) if numbers else {}
    updates: dict[int, dict[str, Any]] = {}
    counts: dict[str, int] = defaultdict(int)
    missing = []
    for number, rows in numbers.items():
        summary = found.get(number)
        if summary is None:
            missing.append(number)
            cells = {ORDER_NUM: number, MESSAGE: f"order {number} not found by orders/status", UPDATED: now_local()}
        else:
            counts[str(summary[STATUS])] += 1
            cells = {ORDER_NUM: number, **summary, UPDATED: now_local()}
        updates.update({row: dict(cells) for row in rows})
    target.write(updates)
    shown = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no orders with an order number"
    lines = [f"Status of {target.where()}: {shown} ({len(numbers)} orders)"]
    lines += [f"  order {n}: not found by orders/status" for n in missing]
    return OrderStatusResult(dict(counts), missing, lines)


def summarize(rows: list[dict]) -> dict[str, dict[str, Any]]:
    """orders/status rows (one per order x shipment) -> order number -> the sheet's outcome cells."""
    by_order: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_order[str(row["order_number"])].append(row)
    return {number: _cells(shipments) for number, shipments in by_order.items()}


def _cells(rows: list[dict]) -> dict[str, Any]:
    shipped = [r for r in rows if r.get("shipment_id")]
    tracking = [str(r["tracking_numbers"]).strip() for r in shipped if r.get("tracking_numbers") not in (None, "")]
    dates = [d for d in (_date(r.get("shipment_date")) for r in shipped) if d is not None]
    delivery = list(dict.fromkeys(str(r["delivery_status"]) for r in shipped if r.get("delivery_status")))
    status = rows[0].get("order_status")
    return {
        STATUS: status if status else "(not given)",
        SHIPMENTS: len(shipped),
        TRACKING: ", ".join(tracking) or None,  # text: a 22-digit number keeps every digit
        SHIPPED_ON: max(dates) if dates else None,
        DELIVERY: ", ".join(delivery) or None,
        MESSAGE: "" if status else "Kotis gave no order status (no attributes)",
    }


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()  # the shipment's own calendar day, in the warehouse's zone as Kotis gives it
    return value if isinstance(value, date) else None


# ---- resolve -------------------------------------------------------------------------------------
def resolve_order(
    client: Any, ledger: KotisLedger, ref: str, *, order_num: str | None = None, not_created: bool = False
) -> list[str]:
    """Settle OrderRef `ref` whose outcome is unknown: `order_num` records the order Kotis created,
    `not_created` records that none was (the next push sends it). Without either, list the API orders
    created within RESOLVE_WINDOW of the unknown POST (orders/by_source?source=api) and their status."""
    entry = ledger.get(ref)
    if entry is None:
        raise PushError(f"OrderRef {ref} is not in the Kotis ledger (nothing was ever sent for it)")
    if entry.state not in BLOCKED:
        shown = f"order {entry.order_num}" if entry.order_num else entry.state.replace("_", " ")
        raise PushError(f"OrderRef {ref} is not blocked (it is {shown}); nothing to resolve")
    if order_num and not_created:
        raise PushError("give --order-num or --not-created, not both")
    if order_num:
        if not client.order_status([order_num]):
            raise PushError(f"order {order_num} is not known to Kotis (orders/status); nothing was recorded")
        ledger.record_outcome(ref, CREATED, order_num=str(order_num), message="resolved by hand", action="resolve")
        return [f"{ref}: recorded as order {order_num}; the next `kotis push` writes it into the sheet"]
    if not_created:
        ledger.record_outcome(ref, NOT_SENT, message="resolved by hand: not created", action="resolve")
        return [f"{ref}: recorded as not created; the next `kotis push --apply` sends it"]
    return _candidates(client, ledger, ref, entry.sent_at)


def _candidates(client: Any, ledger: KotisLedger, ref: str, sent_at: str | None) -> list[str]:
    if not sent_at:
        return [f"{ref}: the ledger has no send time; check the Kotis portal"]
    sent = datetime.fromisoformat(sent_at.replace("Z", "+00:00"))
    known = {e.order_num for e in ledger.all_entries() if e.order_num}
    orders = client.orders_by_source("api", (sent - timedelta(days=1)).date(), (sent + timedelta(days=1)).date())
    near = [
        o
        for o in orders
        if isinstance(o.get("order_date"), datetime)
        and abs(o["order_date"] - sent) <= RESOLVE_WINDOW
        and o["order_number"] not in known
    ]
    lines = [f"{ref}: sent at {sent_at[:19]}Z; API orders created within {RESOLVE_WINDOW} that no row claims:"]
    if not near:
        lines.append("  none: most likely no order was created (`--not-created`), but check the Kotis portal")
        return lines
    status = summarize(client.order_status([o["order_number"] for o in near]))
    for o in sorted(near, key=lambda o: abs(o["order_date"] - sent)):
        s = status.get(o["order_number"], {})
        lines.append(
            f"  order {o['order_number']} at {o['order_date']:%Y-%m-%d %H:%M:%S%z}: {s.get(STATUS, o.get('status'))}"
        )
    lines.append(f"Then: sheetsync kotis resolve {ref} --order-num N   (or --not-created)")
    return lines
