"""The state store: what sheetsync must never lose or do twice, in SQLite (default) or PostgreSQL.

One setting says where it lives (`SHEETSYNC_DB` or `[paths] db`: a file path, or a
`postgresql://user:password@host/db` URL; `SHEETSYNC_LEDGER` / `[paths] ledger` still work), read by
`sheetsync.config.Settings.store_location`. The schema is versioned and upgrades itself on first use; the
password of a URL never appears in a message (`location.shown`).

Three things, one small API (all times are ISO 8601 UTC text, all data JSON):

- **records** `(kind, key) -> Record(state, data, attempts)`: the latest state of one thing, keyed by a
  stable identity. `put` records an intent (a new attempt), `update` an outcome; each can append a
  `Note` to the history in the same transaction.
- **events**: the append-only history: who (OS user, host, API key fingerprint), what (kind, key,
  action, state), when, where from (source, row), what answered (external_id), which run.
- **locks**: `with store.lock(name, ttl=...)`, named, with an owner and an expiry; held until the block
  ends or the holder dies (PostgreSQL advisory lock; SQLite file lock + lock row).

How each feature uses it::

    from sheetsync.store import Actor, Note, open_store
    store = open_store(settings.store_location, actor=Actor.current(api_key=settings.kss_api_key))

    # payments ledger (sheetsync/push/ledger.py): intent committed before the POST, outcome after it
    with store.lock("payments.push", ttl=timedelta(hours=2)):
        store.put("payments", "id:A-1", "sending", {"ar_account": 1001, "amount": "10.10", ...},
                  Note("intent", source="/books/alloc.xlsx", row=5, run_id=run))
        ...POST...
        store.update("payments", "id:A-1", state="posted", changes={"request_id": 41},
                     note=Note("outcome", source=..., row=5, external_id="41", run_id=run))
    store.get_many("payments", keys)            # what earlier runs did, for the plan

    # Kotis orders ledger: the same shape, kind "kotis.orders", key = the order's stable identity
    store.put("kotis.orders", f"src:{source_order_id}", "sending", {...}, Note("intent", ...))
    store.update("kotis.orders", key, state="created", changes={"order_id": oid},
                 note=Note("outcome", external_id=str(oid)))

    # schedule run history: one event per run, a record for the job's last state
    store.append("schedule.runs", job, Note("run", run_id=run, message="ok, 3 tabs"), state="ok")
    store.events("schedule.runs", key=job, limit=20)    # the last 20 runs, oldest first

    # job locks: one refresh of a job at a time, across machines when the store is PostgreSQL
    with store.lock(f"schedule:{job}", ttl=timedelta(minutes=30)):   # LockHeldError if running
        ...

    # statement send log: never send one statement twice
    key = f"{customer_id}|{period}"
    if store.get("statements.sent", key) is None:
        ...send...
        store.put("statements.sent", key, "sent", {"to": address},
                  Note("sent", external_id=message_id))

    # audit: `sheetsync payments log` is store.events("payments", actions=("intent", "outcome", ...))

Errors: StoreError (cannot open, upgrade or write; names the redacted location), LockHeldError
(names the holder and expiry). Both are `sheetsync.errors.SheetsyncError`s.
"""

from sheetsync.errors import LockHeldError, StoreError
from sheetsync.store.location import Location, parse_location, redact_url
from sheetsync.store.model import Actor, Event, LockInfo, Note, Record, key_fingerprint, utc_now
from sheetsync.store.store import Store, open_store

__all__ = [
    "Actor",
    "Event",
    "Location",
    "LockHeldError",
    "LockInfo",
    "Note",
    "Record",
    "Store",
    "StoreError",
    "key_fingerprint",
    "open_store",
    "parse_location",
    "redact_url",
    "utc_now",
]
