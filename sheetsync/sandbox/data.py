"""Synthetic, deterministic business data for the KSS sandbox.

Everything is derived from `random.Random(seed)`. Money is kept in integer cents and formatted only
when a record is rendered. Invoice line items are never stored: `Dataset.lines(invoice)` regenerates
them from a generator seeded by the invoice id, so a scale with 100,000+ lines stays small in memory.

The code lives by concern: `vocab` (clock, names, statuses, formatters), `entities` (Invoice, Line,
Dataset and its lookups) and `generate` (`build_dataset`). This module re-exports their public names.
"""

from __future__ import annotations

from sheetsync.sandbox.entities import Dataset, Invoice, Line
from sheetsync.sandbox.generate import build_dataset
from sheetsync.sandbox.vocab import (
    CATEGORIES,
    CATEGORY_TYPES,
    CITIES,
    CUSTOMER_WORDS,
    FLAVORS,
    HOSTILE_CUSTOMERS,
    HOSTILE_PRODUCTS,
    INVOICE_STATUSES,
    NEVER_COUNTED,
    NOW,
    PAYMENT_TYPES,
    PRICE_POINTS,
    PRODUCT_STATUS_WEIGHTS,
    PURCHASE_STATUSES,
    SANDBOX_API_KEY_ID,
    STATES,
    SUPPLIER_NAMES,
    TERMS,
    TODAY,
    day_ts,
    money,
    stable_seed,
    ts,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_TYPES",
    "CITIES",
    "CUSTOMER_WORDS",
    "FLAVORS",
    "HOSTILE_CUSTOMERS",
    "HOSTILE_PRODUCTS",
    "INVOICE_STATUSES",
    "NEVER_COUNTED",
    "NOW",
    "PAYMENT_TYPES",
    "PRICE_POINTS",
    "PRODUCT_STATUS_WEIGHTS",
    "PURCHASE_STATUSES",
    "SANDBOX_API_KEY_ID",
    "STATES",
    "SUPPLIER_NAMES",
    "TERMS",
    "TODAY",
    "Dataset",
    "Invoice",
    "Line",
    "build_dataset",
    "day_ts",
    "money",
    "stable_seed",
    "ts",
]
