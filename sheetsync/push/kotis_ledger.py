"""The Kotis orders ledger: every order's intent and outcome, in the state store.

Kotis has no idempotency key and no lookup by reference, so this ledger is the source of truth. One
record of kind `kotis.orders` per OrderRef (key `ref:<OrderRef>`): the intent (the order's payload and
fingerprint, the sheet and rows) is committed durably before `POST orders/create`, the order number
after it. An intent without an outcome (a crash) or an ambiguous outcome (timeout, dropped connection,
5xx after sending) leaves the order `unknown`: it is blocked, never re-sent automatically, until a
person settles it with `sheetsync kotis resolve REF --order-num N` or `--not-created`. The store's
`kotis.push` lock keeps two pushes apart (across machines with PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sheetsync.errors import PushError
from sheetsync.push.ledger_base import NOT_SENT, REFUSED, SENDING, UNKNOWN, StoreLedger
from sheetsync.store import Note, Record, utc_now

# states of an order (SENDING, UNKNOWN, REFUSED and NOT_SENT are every ledger's: ledger_base.py)
CREATED = "created"  # Kotis created order `order_num`
BLOCKED = (SENDING, UNKNOWN)  # the POST may have created an order: blocked until `kotis resolve`
__all__ = ["BLOCKED", "CREATED", "NOT_SENT", "REFUSED", "SENDING", "UNKNOWN", "KotisLedger", "OrderEntry"]

KIND = "kotis.orders"
RUN_KIND = "kotis.run"
CODES_KIND = "kotis.codes"
PUSH_LOCK = "kotis.push"


@dataclass(frozen=True)
class OrderEntry:
    ref: str
    state: str
    order_num: str
    fingerprint: str
    source: str
    rows: list[int]
    run_id: str
    sent_at: str | None
    message: str
    attempts: int

    @property
    def key(self) -> str:
        return order_key(self.ref)


def order_key(ref: str) -> str:
    return f"ref:{ref}"


class KotisLedger(StoreLedger):
    """Open with `KotisLedger.open(location, api_key=...)`; use `with ledger.locked():` around a push."""

    WHAT = "Kotis orders ledger"
    PUSH = "Kotis push"
    PUSH_LOCK = PUSH_LOCK
    RUN_KIND = RUN_KIND

    # ---- reads -----------------------------------------------------------------------------------
    def get(self, ref: str) -> OrderEntry | None:
        record = self.store.get(KIND, order_key(ref))
        return _entry(record) if record else None

    def entries(self, refs: list[str]) -> dict[str, OrderEntry]:
        found = self.store.get_many(KIND, [order_key(r) for r in refs])
        return {e.ref: e for e in (_entry(r) for r in found.values())}

    def all_entries(self) -> list[OrderEntry]:
        return [_entry(r) for r in self.store.records(KIND)]

    # ---- writes: each one its own durable transaction --------------------------------------------
    def record_intent(
        self, ref: str, *, payload: dict[str, Any], fingerprint: str, source: str, rows: list[int], run_id: str
    ) -> None:
        """Commit the intent to create order `ref`, durably, before the POST is sent."""
        data = {
            "ref": ref,
            "payload": payload,
            "fingerprint": fingerprint,
            "source": source,
            "rows": rows,
            "run_id": run_id,
            "order_num": "",
            "message": "",
            "sent_at": utc_now(),
        }
        note = Note("intent", source=source, row=rows[0], run_id=run_id, data={"ref": ref, "rows": rows})
        self.store.put(KIND, order_key(ref), SENDING, data, note)

    def record_outcome(
        self, ref: str, state: str, *, order_num: str = "", message: str = "", action: str = "outcome"
    ) -> None:
        entry = self.get(ref)
        if entry is None:
            raise PushError(f"OrderRef {ref} is not in the Kotis ledger")
        note = Note(
            action,
            source=entry.source,
            row=entry.rows[0] if entry.rows else None,
            external_id=order_num,
            run_id=entry.run_id,
            message=message,
            data={"ref": ref},
        )
        self.store.update(
            KIND, order_key(ref), state=state, changes={"order_num": order_num, "message": message}, note=note
        )

    def code_requests(self) -> list[Record]:
        """Every redemption-code request: state, and data {portal, count, sent_at, answer, codes}."""
        return self.store.records(CODES_KIND)

    def record_codes(self, run_id: str, state: str, data: dict[str, Any], message: str = "") -> None:
        """Redemption codes: the intent (state `sending`) before the POST, the raw answer after it."""
        if state == SENDING:
            self.store.put(CODES_KIND, run_id, state, data, Note("intent", run_id=run_id, data=data))
        else:
            self.store.update(
                CODES_KIND, run_id, state=state, changes=data, note=Note("outcome", run_id=run_id, message=message)
            )


def _entry(record: Record) -> OrderEntry:
    d = record.data
    return OrderEntry(
        ref=str(d.get("ref") or record.key.removeprefix("ref:")),
        state=record.state,
        order_num=str(d.get("order_num") or ""),
        fingerprint=str(d.get("fingerprint") or ""),
        source=str(d.get("source") or ""),
        rows=[int(r) for r in d.get("rows") or []],
        run_id=str(d.get("run_id") or ""),
        sent_at=d.get("sent_at"),
        message=str(d.get("message") or ""),
        attempts=record.attempts,
    )
