"""Stable names for a tab's data block: the Excel table (ListObject) and the Google Sheets named range.

Derived from the tab's key ("<report>/<tab id>[-<split value>]"), never from its display name, so a
user's structured references, pivot tables and charts keep finding the block when a customer is
renamed: "price-list/customer-12" -> "price_list_customer_12".
"""

from __future__ import annotations

import re

from sheetsync.model import Tab

_CELL_LIKE = re.compile(r"[A-Za-z]{1,3}[0-9]+|[RrCc][0-9]*|[Rr][0-9]*[Cc][0-9]*")


def block_name(tab: Tab) -> str:
    """A valid, stable Excel table / defined name for the tab's data block (letters, digits, _)."""
    return key_block_name(tab.key)


def key_block_name(key: str) -> str:
    """The block name of a tab key ("price-list/customer-12" -> "price_list_customer_12")."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", key).strip("_") or "sheetsync"
    if not re.match(r"[A-Za-z_]", name) or _CELL_LIKE.fullmatch(name):
        name = "t_" + name
    return name[:255]
