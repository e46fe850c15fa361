"""The audit trail of the reverse path: every intent and outcome from the state store's history.

`audit_rows(store, kinds, since)` gives one dict per event with the time (UTC), the operating-system
user and host, the API key's fingerprint (never the key), the action (intent, outcome, approve, run),
the state it led to, the source workbook and row, the request ID and the run. `render` prints them as
a text table, JSON or CSV. The same view serves every ledger kept in the store (payments now, Kotis
orders later): pass its kinds.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sheetsync.errors import ParameterError
from sheetsync.store import Store

PAYMENT_KINDS = ("payments", "payments.approval")
AUDIT_ACTIONS = ("intent", "outcome", "approve")
ALLOCATION = ("ar_account", "payment", "target", "amount")  # what a payments event is about (its data)
COLUMNS = ("time", "user", "host", "key_fingerprint", "action", "state", "source", "row", "request_id", "run_id",
           "key", *ALLOCATION, "message")  # fmt: skip
TABLE_COLUMNS = ("time", "user", "key_fingerprint", "action", "state", "source", "row", "request_id", "key",
                 "payment", "target", "amount", "message")  # fmt: skip


def parse_since(text: str) -> str:
    """A date (local midnight) or an ISO date-time (local unless it says its zone) -> ISO 8601 UTC.
    Raises ParameterError naming the value."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ParameterError(f"--since {text!r} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)") from None
    if when.tzinfo is None:
        when = when.astimezone()  # a person's date means their own midnight
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def audit_rows(store: Store, kinds: Iterable[str] = PAYMENT_KINDS, since: str | None = None) -> list[dict[str, Any]]:
    """One row per intent, outcome and approval of these kinds, oldest first."""
    found = []
    for kind in kinds:
        found += store.events(kind, since=since, actions=AUDIT_ACTIONS)
    found.sort(key=lambda e: (e.at, e.id))
    return [
        {
            "time": e.at,
            "user": e.user,
            "host": e.host,
            "key_fingerprint": e.key_fingerprint,
            "action": e.action,
            "state": e.state,
            "source": e.source,
            "row": e.row,
            "request_id": _request_id(e.external_id) if e.action != "approve" else None,
            "run_id": e.run_id,
            "key": e.key,
            **{name: e.data.get(name) for name in ALLOCATION},
            "message": e.message,
        }
        for e in found
    ]


def _request_id(text: str) -> int | str | None:
    """The API's RequestID as the number it is (JSON), the id as given otherwise, None when there is none."""
    return int(text) if text.isdigit() else (text or None)


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    """fmt: "text" (an aligned table, times in UTC to the second), "json" or "csv" (every column)."""
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _csv_safe(v) for k, v in row.items()} for row in rows)
        return out.getvalue().rstrip("\n")
    return _table(rows)


def _csv_safe(value: Any) -> Any:
    """A text a spreadsheet would run as a formula (=, +, @, or - not starting a number) gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r", "-") and not _number(value):
        return "'" + value
    return value


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No payments recorded yet."
    cells = [[_cell(name, row[name]) for name in TABLE_COLUMNS] for row in rows]
    widths = [max(len(name), *(len(c[i]) for c in cells)) for i, name in enumerate(TABLE_COLUMNS)]
    lines = ["  ".join(name.ljust(w) for name, w in zip(TABLE_COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells]
    return "\n".join(lines)


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "time":
        return str(value)[:19].replace("T", " ") + "Z"
    return str(value)
