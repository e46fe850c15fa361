"""Synthetic, deterministic Kotis data for the sandbox: SKUs, portals, orders, shipments, code usage.

`build_kotis_data(seed, scale)` derives everything from `random.Random` seeded by the seed, so two
sandboxes with the same seed and scale answer identically. `scale` multiplies the number of SKUs and
orders. Every documented order status, order source and shipment delivery status occurs at every
scale; some shipments spell their status `status` instead of `delivery_status`, and some orders are
served without `attributes`, as the API document shows.

Order dates lie in the ~6 months before the fixed sandbox day `TODAY` (the same day the KSS sandbox
uses). Orders created through the API are dated `TODAY`.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

TODAY = date(2026, 3, 2)
ORDER_STATUSES = ("pending", "partially_shipped", "shipped", "delivered", "cancelled")
SOURCES = ("portal", "api", "csv", "inventory-management")
DELIVERY_STATUSES = (
    "unknown",
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "available_for_pickup",
    "return_to_sender",
    "failure",
    "cancelled",
    "error",
)
# shipment statuses that fit an order's status (delivered orders have delivered shipments, ...)
_IN_FLIGHT = (
    "unknown",
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "available_for_pickup",
    "return_to_sender",
    "failure",
    "error",
    "in_transit",
    "in_transit",
)
DAILY_LIMIT = 5_000
YEARLY_LIMIT = 50_000
SIZES = ("XS", "S", "M", "L", "XL", "2XL")
PORTAL_WORDS = ("acme", "northwind", "greenleaf", "harbor", "summit", "evergreen", "canyon", "blue-sky")
FIRST_ORDER_NUMBER = 5_130_000


def _pacific() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("America/Los_Angeles")
    except Exception:  # no tz database: a fixed offset is close enough for synthetic data
        return timezone(timedelta(hours=-8))


PACIFIC = _pacific()


def stable_rng(seed: int, *parts: object) -> random.Random:
    """A generator for one part of the data set, independent of how other parts were drawn."""
    digest = hashlib.sha256(":".join(map(str, ("kotis", seed, *parts))).encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


@dataclass
class Portal:
    slug: str  # also the portal name (URL) used by orders/by_source
    active: bool
    codes_today: int  # redemption codes already created today / this year
    codes_this_year: int
    codes_created: int = 0  # serial for generated codes


@dataclass
class Order:
    order_number: str
    order_date: datetime  # UTC
    status: str
    source: str
    portal_name: str | None
    lines: list[tuple[str, int]]  # (sku, quantity)
    shipment_ids: list[str] = field(default_factory=list)
    show_attributes: bool = True  # False: served without "attributes" by orders/status
    email: str = ""
    order_id: str = ""  # the customer's own reference, when created through the API


@dataclass
class Shipment:
    id: str
    tracking_numbers: str
    shipment_date: datetime  # Pacific time
    delivery_status: str
    status_key: str = "delivery_status"  # or "status", as some real shipments are spelled


@dataclass
class KotisData:
    skus: list[dict]  # {"id", "sku", "physical_quantity", "available_quantity"}
    portals: dict[str, Portal]
    orders: dict[str, Order]
    shipments: dict[str, Shipment]
    next_order_number: int

    def sku(self, code: str) -> dict | None:
        return self._by_sku.get(code)

    def __post_init__(self) -> None:
        self._by_sku = {s["sku"]: s for s in self.skus}


def build_kotis_data(seed: int, scale: int = 1) -> KotisData:
    """The whole Kotis data set for a seed; `scale` grows the SKUs and orders linearly."""
    scale = max(1, int(scale))
    skus = _skus(stable_rng(seed, "skus"), 12 * scale)
    portals = _portals(stable_rng(seed, "portals"), 3 + scale)
    orders, shipments = _orders(stable_rng(seed, "orders"), 80 * scale, skus, portals)
    return KotisData(
        skus=skus,
        portals=portals,
        orders=orders,
        shipments=shipments,
        next_order_number=FIRST_ORDER_NUMBER + len(orders) + 1,
    )


def _skus(rng: random.Random, products: int) -> list[dict]:
    rows: list[dict] = []
    next_id = 33_315
    for n in range(products):
        style = 107_529 + n * 7 + rng.randint(0, 5)
        colors = rng.randint(1, 4)
        one_size = rng.random() < 0.25
        for color in range(1, colors + 1):
            for size in ("OSFA",) if one_size else SIZES[rng.randint(0, 1) : rng.randint(4, 6)]:
                physical = 0 if rng.random() < 0.15 else rng.randint(1, 400)
                available = max(0, physical - rng.choice((0, 0, 0, rng.randint(0, max(1, physical)))))
                rows.append(
                    {
                        "id": str(next_id),
                        "sku": f"{style}-{color}-{size}",
                        "physical_quantity": physical,
                        "available_quantity": available,
                    }
                )
                next_id += 1
    return rows


def _portals(rng: random.Random, count: int) -> dict[str, Portal]:
    portals: dict[str, Portal] = {}
    for n in range(count):
        slug = f"{PORTAL_WORDS[n % len(PORTAL_WORDS)]}-store" + (
            f"-{n // len(PORTAL_WORDS) + 1}" if n >= len(PORTAL_WORDS) else ""
        )
        if n == 0:  # plenty left
            today, year = 0, rng.randint(1_000, 5_000)
        elif n == 1:  # near its daily limit
            today, year = DAILY_LIMIT - 250, rng.randint(10_000, 20_000)
        elif n == 2:  # near its yearly limit
            today, year = 0, YEARLY_LIMIT - 1_200
        else:
            today, year = rng.randint(0, 1_000), rng.randint(1_000, 30_000)
        portals[slug] = Portal(
            slug=slug, active=n != count - 1 or count < 4, codes_today=today, codes_this_year=max(year, today)
        )
    return portals


def _orders(
    rng: random.Random,
    count: int,
    skus: list[dict],
    portals: dict[str, Portal],
) -> tuple[dict[str, Order], dict[str, Shipment]]:
    portal_names = list(portals)
    start = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) - timedelta(days=182)
    dates = sorted(start + timedelta(minutes=rng.randint(0, 182 * 24 * 60)) for _ in range(count))
    orders: dict[str, Order] = {}
    shipments: dict[str, Shipment] = {}
    in_flight = iter(_cycle(_IN_FLIGHT))
    next_shipment = 543_416
    for n, when in enumerate(dates):
        status = (
            ORDER_STATUSES[n % len(ORDER_STATUSES)]
            if n < 10
            else rng.choices(ORDER_STATUSES, weights=(15, 10, 30, 35, 10))[0]
        )
        if status == "pending":  # pending orders are the recent ones, mostly
            when = max(when, start + timedelta(days=150, minutes=n))
        source = SOURCES[n % len(SOURCES)] if n < 8 else rng.choices(SOURCES, weights=(55, 20, 15, 10))[0]
        number = str(FIRST_ORDER_NUMBER + n + 1)
        lines = [(rng.choice(skus)["sku"], rng.randint(1, 12)) for _ in range(rng.randint(1, 4))]
        order = Order(
            order_number=number,
            order_date=when.replace(second=0, microsecond=0),
            status=status,
            source=source,
            portal_name=rng.choice(portal_names) if source == "portal" else None,
            lines=lines,
            show_attributes=n % 9 != 4,
            email=f"buyer{n + 1}@example.com",
        )
        for shipment_status in _shipment_statuses(rng, status, in_flight, first=n < len(ORDER_STATUSES)):
            shipment = _shipment(
                rng,
                str(next_shipment),
                order.order_date,
                shipment_status,
                "status" if next_shipment % 5 == 1 else "delivery_status",
            )
            next_shipment += rng.randint(1, 40)
            shipments[shipment.id] = shipment
            order.shipment_ids.append(shipment.id)
        orders[number] = order
    return orders, shipments


def _cycle(values: tuple[str, ...]):  # type: ignore[no-untyped-def]
    while True:
        yield from values


def _shipment_statuses(
    rng: random.Random,
    order_status: str,
    in_flight,
    *,  # type: ignore[no-untyped-def]
    first: bool,
) -> list[str]:
    """Statuses of an order's shipments; the first order of each status always has the typical ones."""
    if order_status == "pending":
        return ["pre_transit"] if rng.random() < 0.2 else []
    if order_status == "cancelled":
        return ["cancelled"] if first or rng.random() < 0.6 else []
    if order_status == "delivered":
        return ["delivered"] * rng.randint(1, 3)
    if order_status == "partially_shipped":
        return [next(in_flight)]
    return [next(in_flight) if i == 0 else rng.choice(("delivered", "in_transit")) for i in range(rng.randint(1, 3))]


def _shipment(rng: random.Random, shipment_id: str, ordered: datetime, status: str, key: str) -> Shipment:
    shipped = (ordered + timedelta(days=rng.randint(1, 5), minutes=rng.randint(0, 600))).astimezone(PACIFIC)
    if rng.random() < 0.6:
        tracking = "1Z" + "".join(rng.choice("0123456789") for _ in range(16))
    else:
        tracking = "9405" + "".join(rng.choice("0123456789") for _ in range(18))
    if rng.random() < 0.1:  # a shipment in two boxes
        tracking += ",1Z" + "".join(rng.choice("0123456789") for _ in range(16))
    return Shipment(
        id=shipment_id,
        tracking_numbers=tracking,
        shipment_date=shipped.replace(microsecond=0),
        delivery_status=status,
        status_key=key,
    )


def redemption_code(seed: int, portal: str, serial: int) -> str:
    """The `serial`-th code generated for a portal: 12 characters, no ambiguous letters."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    digest = hashlib.sha256(f"kotis-code:{seed}:{portal}:{serial}".encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:12])
