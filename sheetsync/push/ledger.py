"""The payments ledger: every allocation's intent and outcome, in the state store.

One record of kind `payments` per allocation key (`id:<AllocationID>`, or
`fp:<account>|<payment>|<target>|<amount>|<n>` for a row without an AllocationID, n being its
occurrence in the sheet). The intent is committed durably before the POST, the result after it, each
with an event in the store's history (`sheetsync payments log`), so a crash between the two leaves an
intent without a result: the next run treats it as an unknown outcome and reconciles it against the
API before anything is sent. The store's `payments.push` lock keeps two pushes apart: on one machine
with SQLite, across machines with PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sheetsync.push.ledger_base import NOT_SENT, REFUSED, SENDING, UNKNOWN, StoreLedger
from sheetsync.store import Note, Record, utc_now

# states of an entry (SENDING, UNKNOWN, REFUSED and NOT_SENT are every ledger's: ledger_base.py)
POSTED = "posted"  # the API created request `request_id`
NEEDS_RECONCILIATION = (SENDING, UNKNOWN)
__all__ = ["NEEDS_RECONCILIATION", "NOT_SENT", "POSTED", "REFUSED", "SENDING", "UNKNOWN", "Entry", "Ledger"]

KIND = "payments"  # one record per allocation key
RUN_KIND = "payments.run"  # one record per push run
APPROVAL_KIND = "payments.approval"  # one record per approved plan (keyed by its hash)
PUSH_LOCK = "payments.push"


@dataclass(frozen=True)
class Entry:
    key: str
    ar_account: int
    payment: str
    target: str
    amount: Decimal
    state: str
    request_id: int | None
    message: str
    watermark: int | None
    run_id: str
    source: str
    row_number: int
    attempts: int
    written_to: str | None
    sent_at: str | None

    def same_allocation(self, ar_account: int, payment: str, target: str, amount: Decimal) -> bool:
        return (self.ar_account, self.payment, self.target, self.amount) == (ar_account, payment, target, amount)


class Ledger(StoreLedger):
    """Open with `Ledger.open(location)` (a path or a postgresql:// URL); use `with ledger.locked():`
    around a push."""

    WHAT = "payments ledger"
    PUSH = "payments push"
    PUSH_LOCK = PUSH_LOCK
    RUN_KIND = RUN_KIND

    # ---- reads -----------------------------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        record = self.store.get(KIND, key)
        return _entry(record) if record else None

    def entries(self, keys: list[str]) -> dict[str, Entry]:
        return {key: _entry(r) for key, r in self.store.get_many(KIND, keys).items()}

    def all_entries(self) -> list[Entry]:
        return [_entry(r) for r in self.store.records(KIND)]

    # ---- writes: each one its own durable transaction --------------------------------------------
    def record_intent(
        self,
        key: str,
        *,
        ar_account: int,
        payment: str,
        target: str,
        amount: Decimal,
        run_id: str,
        source: str,
        row_number: int,
        watermark: int | None,
    ) -> None:
        """Commit the intent to post, durably, before the POST is sent."""
        allocation = allocation_fields(ar_account, payment, target, amount)
        data = {
            **allocation,
            "request_id": None,
            "message": "",
            "watermark": watermark,
            "run_id": run_id,
            "source": source,
            "row_number": row_number,
            "written_to": None,
            "sent_at": utc_now(),
        }
        note = Note("intent", source=source, row=row_number, run_id=run_id, data=allocation)
        self.store.put(KIND, key, SENDING, data, note)

    def record_result(self, key: str, state: str, *, request_id: int | None = None, message: str = "") -> None:
        with self.store.transaction():
            entry = self.get(key)
            assert entry is not None, key
            note = Note(
                "outcome",
                source=entry.source,
                row=entry.row_number,
                external_id="" if request_id is None else str(request_id),
                run_id=entry.run_id,
                message=message,
                data=_allocation(entry),
            )
            changes = {"request_id": request_id, "message": message}
            self.store.update(KIND, key, state=state, changes=changes, note=note)

    def mark_written(self, keys: list[str], source: str) -> None:
        with self.store.transaction():
            for key in keys:
                self.store.update(KIND, key, changes={"written_to": source})

    # ---- approvals -------------------------------------------------------------------------------
    def approve(self, source: str, plan_hash: str, rows: int) -> Record:
        """Record that the OS user approved the plan whose hash is `plan_hash` (seen in `source`). The
        approval is of the plan, wherever it is pushed from: a copy of the sheet with the same rows
        is the same plan."""
        actor = self.store.actor
        data = {
            "plan_hash": plan_hash,
            "approver": actor.user,
            "host": actor.host,
            "rows": rows,
            "source": source,
            "sheet": sheet_name(source),
            "at": utc_now(),
        }
        note = Note("approve", source=source, external_id=plan_hash, message=f"{rows} rows approved by {actor.user}")
        return self.store.put(APPROVAL_KIND, plan_hash, "approved", data, note)

    def approval(self, plan_hash: str) -> Mapping[str, Any] | None:
        record = self.store.get(APPROVAL_KIND, plan_hash)
        return record.data if record else None

    def last_approval_of(self, source: str) -> Mapping[str, Any] | None:
        """The latest approval of a sheet with this name (any folder or machine), or None."""
        same = [r for r in self.store.records(APPROVAL_KIND) if r.data.get("sheet") == sheet_name(source)]
        return same[-1].data if same else None


def sheet_name(source: str) -> str:
    """A sheet's name without its folder: `alloc.xlsx`, or `ID#Tab` of a Google Sheet."""
    return source.rstrip("/").rsplit("/", 1)[-1]


def _allocation(entry: Entry) -> dict[str, Any]:
    """What the history says an event was about (the intent's own fields)."""
    return allocation_fields(entry.ar_account, entry.payment, entry.target, entry.amount)


def allocation_fields(ar_account: int, payment: str, target: str, amount: Decimal) -> dict[str, Any]:
    return {"ar_account": ar_account, "payment": payment, "target": target, "amount": str(amount)}


def _entry(record: Record) -> Entry:
    d = record.data
    return Entry(
        key=record.key,
        ar_account=int(d["ar_account"]),
        payment=d["payment"],
        target=d["target"],
        amount=Decimal(d["amount"]),
        state=record.state,
        request_id=d.get("request_id"),
        message=d.get("message") or "",
        watermark=d.get("watermark"),
        run_id=d.get("run_id", ""),
        source=d.get("source", ""),
        row_number=int(d.get("row_number") or 0),
        attempts=record.attempts,
        written_to=d.get("written_to"),
        sent_at=d.get("sent_at"),
    )
