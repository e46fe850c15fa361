"""The sandbox's fixed vocabulary (clock, names, price points, statuses) and value formatters."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

NOW = datetime(2026, 3, 2, 18, 0, 0, tzinfo=UTC)
TODAY = NOW.date()
NEVER_COUNTED = "1999-12-31T07:00:00.000Z"
SANDBOX_API_KEY_ID = 123456  # the KSS document shows invoice PDFURLs carrying ?APIKeyID=

STATES = [
    ("CA", "California", "America/Los_Angeles", "2:30 PM", "1"),
    ("NJ", "New Jersey", "America/New_York", "12:00 PM", "2"),
    ("MI", "Michigan", "America/Detroit", "1:00 PM", "1"),
    ("NY", "New York", "America/New_York", "11:00 AM", "2"),
    ("OK", "Oklahoma", "America/Chicago", "3:00 PM", "1"),
]
CITIES = {
    "CA": [("Alameda", "94502"), ("Los Angeles", "90001")],
    "NJ": [("Newark", "07102"), ("Trenton", "08608")],
    "MI": [("Detroit", "48201"), ("Lansing", "48906")],
    "NY": [("Brooklyn", "11201"), ("Albany", "12207")],
    "OK": [("Tulsa", "74103"), ("Norman", "73069")],
}
SUPPLIER_NAMES = [
    "Kiva",
    "Camino",
    "Terra",
    "Lost Farm",
    "Petra",
    "Wyld",
    "Plus Products",
    "Dosist",
    "Kikoko",
    "Stiiizy",
    "Raw Garden",
    "Papa & Barkley",
]
CATEGORIES = ["Chocolate", "Gummies", "Mints", "Beverages", "Vapes", "Flower", "Pre-Rolls", "Tinctures"]
CATEGORY_TYPES = {
    "Chocolate": ("Edible - Chocolate", 57),
    "Gummies": ("Edible - Gummy", 58),
    "Mints": ("Edible - Mint", 59),
    "Beverages": ("Beverage", 60),
    "Vapes": ("Vape", 61),
    "Flower": ("Flower", 62),
    "Pre-Rolls": ("Pre-Roll", 63),
    "Tinctures": ("Tincture", 64),
}
FLAVORS = [
    "Dark",
    "Milk",
    "Mint",
    "Blueberry",
    "Wild Cherry",
    "Sour Apple",
    "Lemon",
    "Mango",
    "Original",
    "Espresso",
    "Watermelon",
    "Grape",
]
PRICE_POINTS = [800, 1100, 1250, 1500, 1800, 2200, 3000]
PRODUCT_STATUS_WEIGHTS = [(1, 70), (0, 10), (2, 5), (3, 3), (4, 5), (5, 7)]
HOSTILE_PRODUCTS = [
    "=Mint Bar Dark",
    "+10 Pack Gummies",
    "Crème Brûlée Bites",
    "\"Big\" O'Neil's Pre-Roll",
    "@Night Tincture",
    "-Zero Sugar Mints",
]
HOSTILE_CUSTOMERS = {
    3: "=Green Door Dispensary",
    4: "+Plus Wellness",
    5: "-Minus Cannabis Co",
    6: "@Home Remedies",
    7: "Café Ñandú Dispensario",
    8: "O'Malley's \"Finest\" Buds",
}
CUSTOMER_WORDS = [
    "Kettles",
    "Green Leaf",
    "Harbor",
    "Sunset",
    "Pine",
    "Golden State",
    "Riverside",
    "Evergreen",
    "Blue Sky",
    "Canyon",
    "Lakeside",
    "Summit",
    "Oak",
    "Cedar",
]
PAYMENT_TYPES = [(1, "Check"), (2, "Cash"), (3, "ACH"), (4, "Wire"), (5, "Credit Card")]
TERMS = {1: 0, 3: 30, 5: 15}
INVOICE_STATUSES = (1, 2, 3, 4, 5, 7)
PURCHASE_STATUSES = ("New", "Accepted", "Received", "Confirmed", "Verified")


def ts(dt: datetime) -> str:
    """A timestamp in the API's format: 2025-01-15T10:00:00.000Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def day_ts(d: date, hour: int = 8) -> str:
    return f"{d.isoformat()}T{hour:02d}:00:00.000Z"


def money(cents: int, places: int = 2) -> str:
    """Integer cents as a decimal string with `places` decimals: 123456 -> "1234.56" or "1234.560000"."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}" + "0" * (places - 2)


def stable_seed(*parts: Any) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
