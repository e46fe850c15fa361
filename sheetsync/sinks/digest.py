"""A content hash of rendered tabs: equal hashes mean a refresh would write the same cells.

The run's own stamps (the "Generated" line, the fetch time shown as "Data as of" when a tab has no
`as_of`, the cell note) are left out, so an unchanged report hashes the same on every run; days past
due and an `as_of` date are data and count.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from typing import Any

from sheetsync.model import Negatives, Tab


def tab_digest(tab: Tab) -> str:
    """A 32-hex-digit hash of everything a sink renders from `tab`, stamps excluded."""
    content = {
        "name": tab.name,
        "key": tab.key,
        "title": tab.title,
        "columns": [asdict(c) for c in tab.columns],
        "info": [(label, value) for label, value in tab.info if label not in tab.stamps],
        "rules": [asdict(r) for r in tab.rules],
        "validations": [asdict(v) for v in tab.validations],
        "chart": asdict(tab.chart) if tab.chart else None,
        "layout": [tab.freeze_header, tab.autofilter, tab.template, list(tab.row_key)],
    }
    if tab.negatives is not Negatives.PARENTHESES:  # only when set: the hashes of earlier runs stay valid
        content["negatives"] = tab.negatives.value
    hasher = hashlib.sha256(json.dumps(content, sort_keys=True, default=_plain).encode())
    for row in tab.rows:
        hasher.update(json.dumps([_plain(v) for v in row], default=_plain).encode())
    return hasher.hexdigest()[:32]


def workbook_digest(tabs: Iterable[Tab]) -> str:
    hasher = hashlib.sha256()
    for tab in tabs:
        hasher.update(tab_digest(tab).encode())
    return hasher.hexdigest()[:32]


def _plain(value: Any) -> Any:
    """A JSON-able form that keeps the type: 1, 1.0, Decimal("1.00") and "1" hash differently."""
    if value is None or isinstance(value, bool | str):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {type(value).__name__: asdict(value)}
    return {type(value).__name__: str(value)}
