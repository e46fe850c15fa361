"""Copy one store into another (a laptop's SQLite ledger into the team's PostgreSQL), and summarise one.

`import_store(source, target)` adds every record the target lacks (a record both have keeps the
target's state: the shared store is the truth, and the conflict is reported) and appends the source's
events not yet imported. It is idempotent: the target remembers, per source, the last event it took
(record kind `store.import`), so running it again copies only what is new.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import func, insert, select

from sheetsync.store.model import Note, utc_now
from sheetsync.store.schema import events, records
from sheetsync.store.store import Store, _record

IMPORT_KIND = "store.import"


@dataclass
class ImportResult:
    records_added: int = 0
    records_kept: list[str] = field(default_factory=list)  # "kind key": present in both, different
    events_added: int = 0


def import_store(source: Store, target: Store) -> ImportResult:
    """Copy `source`'s records and new events into `target`, in one transaction of the target."""
    result = ImportResult()
    with source.transaction() as src:
        rows = [_record(r) for r in src.execute(select(records).where(records.c.kind != IMPORT_KIND)).mappings()]
        done = target.get(IMPORT_KIND, source.location.shown)
        after = int(done.data.get("last_event_id", 0)) if done else 0
        new_events = list(src.execute(select(events).where(events.c.id > after).order_by(events.c.id)).mappings())
    with target.transaction() as conn:
        existing = target.get_many_kinds({(r.kind, r.key) for r in rows})
        for r in rows:
            have = existing.get((r.kind, r.key))
            if have is None:
                conn.execute(insert(records).values({**asdict(r), "data": dict(r.data)}))
                result.records_added += 1
            elif (have.state, dict(have.data)) != (r.state, dict(r.data)):
                result.records_kept.append(f"{r.kind} {r.key}")
        for e in new_events:
            conn.execute(insert(events).values({k: v for k, v in e.items() if k != "id"}))
        result.events_added = len(new_events)
        last = new_events[-1]["id"] if new_events else after
        note = Note("import", source=source.location.shown, message=_message(result))
        target.put(IMPORT_KIND, source.location.shown, "imported", {"last_event_id": last, "at": utc_now()}, note)
    return result


def _message(result: ImportResult) -> str:
    kept = f", {len(result.records_kept)} kept as they were (different here)" if result.records_kept else ""
    return f"{result.records_added} records and {result.events_added} events imported{kept}"


@dataclass
class Summary:
    location: str
    backend: str
    schema_version: int
    records: dict[str, int]  # kind -> count
    events: int
    locks: list[str]


def summarise(store: Store) -> Summary:
    from sheetsync.store.schema import current_version

    with store.transaction() as conn:
        version = current_version(conn)
        counted = conn.execute(select(records.c.kind, func.count()).group_by(records.c.kind)).all()
        kinds = {str(kind): int(n) for kind, n in counted}
        total = int(conn.execute(select(func.count()).select_from(events)).scalar() or 0)
    held = [f"{lock.name}: {lock.describe()}" for lock in store.locks()]
    return Summary(store.location.shown, store.backend, version, dict(sorted(kinds.items())), total, held)
