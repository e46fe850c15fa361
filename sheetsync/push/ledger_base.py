"""What every reverse-path ledger shares: the state store it lives in, the push lock that keeps two
pushes apart (across machines with PostgreSQL), run records, and the states of a send.

`push/ledger.py` (payments) and `push/kotis_ledger.py` (Kotis orders and codes) add their own record
kinds on top; each write is its own durable transaction, so an intent is committed before its POST.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import ClassVar, TypeVar

from sheetsync.errors import LockHeldError, PushError, StoreError
from sheetsync.push.failures import NOT_SENT, REFUSED, UNKNOWN
from sheetsync.store import Actor, Note, Store, open_store, utc_now

SENDING = "sending"  # intent committed, no outcome yet: a crash, if a later run finds it
PUSH_LOCK_TTL = timedelta(hours=2)  # how long a push on another machine is trusted to hold the lock

__all__ = ["NOT_SENT", "PUSH_LOCK_TTL", "REFUSED", "SENDING", "UNKNOWN", "StoreLedger"]

L = TypeVar("L", bound="StoreLedger")


class StoreLedger:
    """A ledger in the state store. Subclasses name what they are (`WHAT`, for messages), their push
    lock and their run kind. Open with `open(location)`; use `with ledger.locked():` around a push."""

    WHAT: ClassVar[str]  # "payments ledger"
    PUSH: ClassVar[str]  # "payments push", as a person calls it in "another ... is running"
    PUSH_LOCK: ClassVar[str]
    RUN_KIND: ClassVar[str]

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def open(cls: type[L], location: Path | str, *, api_key: str | None = None) -> L:
        """Raises PushError naming the (redacted) location when the store cannot be opened."""
        try:
            return cls(open_store(location, actor=Actor.current(api_key)))
        except StoreError as exc:
            raise PushError(f"cannot open the {cls.WHAT}: {exc.message}") from None

    def close(self) -> None:
        self.store.close()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold this ledger's push lock, or fail at once if another push holds it."""
        try:
            with self.store.lock(self.PUSH_LOCK, ttl=PUSH_LOCK_TTL):
                yield
        except LockHeldError as exc:
            holder = f" ({exc.holder.describe()})" if exc.holder else ""
            raise PushError(f"another {self.PUSH} is running{holder}; wait for it to finish and run again") from None

    def record_run(self, run_id: str, source: str) -> None:
        data = {"source": source, "started_at": utc_now()}
        self.store.put(self.RUN_KIND, run_id, "started", data, Note("run", source=source, run_id=run_id))

    def run_ids(self) -> set[str]:
        """Every push run recorded in this store (their claims are never live once we hold the push lock)."""
        return {r.key for r in self.store.records(self.RUN_KIND)}
