"""The Store: records, events and locks over SQLAlchemy Core, on SQLite or PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, create_engine, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from sheetsync.errors import StoreError
from sheetsync.store.location import Location, parse_location
from sheetsync.store.locks import held_lock, read_lock
from sheetsync.store.model import Actor, Event, LockInfo, Note, Record, first_line, utc_now
from sheetsync.store.schema import events, locks, records, upgrade

CHUNK = 500  # keys per IN (...) query


def open_store(location: str | Path, *, actor: Actor | None = None) -> Store:
    """Open (creating and upgrading it on first use) the store at a path or a postgresql:// URL.
    Raises StoreError naming the redacted location when it cannot be reached or upgraded."""
    where = parse_location(location)
    store = Store(where, _engine(where), actor or Actor.current())
    for attempt in range(50):
        try:
            with store.transaction() as conn:
                upgrade(conn, where.shown)
            return store
        except StoreError as exc:  # SQLite: two processes creating the same new file at once
            if "locked" not in str(exc) or attempt == 49:
                store.close()
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")  # pragma: no cover


def _engine(where: Location) -> Engine:
    if where.backend == "postgresql":
        return create_engine(where.url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    assert where.path is not None
    try:
        where.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot open the state store {where.shown}: {exc.strerror}") from None
    engine = create_engine(where.url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    """Durable SQLite: WAL, fsync on every commit, and transactions we begin ourselves."""
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class Store:
    """Records, events and locks. See the package docstring for how each feature uses them.

    One Store per process is enough (it is thread-safe; `transaction` nests per thread). Every write
    method commits before it returns, unless called inside `with store.transaction():`.
    `actor` is who the history names for writes of this Store (set `store.actor` to change it).
    """

    def __init__(self, location: Location, engine: Engine, actor: Actor) -> None:
        self.location = location
        self.engine = engine
        self.actor = actor
        self._local = threading.local()

    @property
    def backend(self) -> str:
        return self.location.backend

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic, durable unit: the writes inside commit together or not at all."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        try:
            with self.engine.begin() as conn:
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None
        except SQLAlchemyError as exc:
            raise StoreError(f"state store {self.location.shown}: {first_line(exc)}") from None

    # ---- records ---------------------------------------------------------------------------------
    def get(self, kind: str, key: str) -> Record | None:
        with self.transaction() as conn:
            row = conn.execute(select(records).where(records.c.kind == kind, records.c.key == key)).mappings().first()
        return _record(row) if row else None

    def get_many(self, kind: str, keys: Iterable[str]) -> dict[str, Record]:
        """key -> Record for the keys that have one."""
        wanted, found = list(dict.fromkeys(keys)), {}
        with self.transaction() as conn:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                query = select(records).where(records.c.kind == kind, records.c.key.in_(chunk))
                found.update({row["key"]: _record(row) for row in conn.execute(query).mappings()})
        return found

    def get_many_kinds(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Record]:
        """(kind, key) -> Record for the pairs that have one."""
        found: dict[tuple[str, str], Record] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, key in pairs:
            by_kind.setdefault(kind, []).append(key)
        for kind, keys in by_kind.items():
            found.update({(kind, key): record for key, record in self.get_many(kind, keys).items()})
        return found

    def records(self, kind: str, *, state: str | None = None) -> list[Record]:
        """Every record of a kind (optionally in one state), oldest update first."""
        query = select(records).where(records.c.kind == kind)
        if state is not None:
            query = query.where(records.c.state == state)
        with self.transaction() as conn:
            return [_record(row) for row in conn.execute(query.order_by(records.c.updated_at)).mappings()]

    def put(self, kind: str, key: str, state: str, data: Mapping[str, Any], note: Note | None = None) -> Record:
        """Create or replace a record (a new intent: `attempts` goes up by one), and append `note` to the
        history in the same transaction."""
        now = utc_now()
        values = {"kind": kind, "key": key, "state": state, "data": dict(data), "attempts": 1}
        with self.transaction() as conn:
            stmt = _insert(conn).values(**values, created_at=now, updated_at=now)
            stmt = stmt.on_conflict_do_update(
                index_elements=[records.c.kind, records.c.key],
                set_={"state": state, "data": dict(data), "attempts": records.c.attempts + 1, "updated_at": now},
            )
            conn.execute(stmt)
            if note is not None:
                self._append(conn, kind, key, state, note, now)
            return self._must_get(conn, kind, key)

    def update(
        self,
        kind: str,
        key: str,
        *,
        state: str | None = None,
        changes: Mapping[str, Any] | None = None,
        note: Note | None = None,
    ) -> Record:
        """Set the state and/or merge `changes` into the data of an existing record (an outcome), and
        append `note`. Raises StoreError if the record does not exist."""
        now = utc_now()
        with self.transaction() as conn:
            old = self._must_get(conn, kind, key, lock=True)
            new_state = old.state if state is None else state
            data = {**old.data, **(changes or {})}
            where = (records.c.kind == kind) & (records.c.key == key)
            conn.execute(update(records).where(where).values(state=new_state, data=data, updated_at=now))
            if note is not None:
                self._append(conn, kind, key, new_state, note, now)
            return self._must_get(conn, kind, key)

    # ---- events ----------------------------------------------------------------------------------
    def append(self, kind: str, key: str, note: Note, *, state: str = "") -> None:
        """Add one event to the history without touching a record (a run, a send, an approval)."""
        with self.transaction() as conn:
            self._append(conn, kind, key, state, note, utc_now())

    def events(
        self,
        kind: str | None = None,
        *,
        key: str | None = None,
        since: str | None = None,
        actions: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """The history, oldest first. `kind` may end in `*` ("payments*"); `since` is ISO 8601 (UTC)
        text compared with the event time; `limit` keeps the newest N."""
        query = select(events)
        if kind is not None:
            query = query.where(events.c.kind.like(kind[:-1] + "%") if kind.endswith("*") else events.c.kind == kind)
        if key is not None:
            query = query.where(events.c.key == key)
        if since is not None:
            query = query.where(events.c.at >= since)
        if actions is not None:
            query = query.where(events.c.action.in_(list(actions)))
        query = query.order_by(events.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.transaction() as conn:
            rows = list(conn.execute(query).mappings())
        return [_event(row) for row in reversed(rows)]

    # ---- locks -----------------------------------------------------------------------------------
    def lock(
        self, name: str, *, ttl: timedelta = timedelta(hours=1), wait: float = 0.0
    ) -> AbstractContextManager[LockInfo]:
        """`with store.lock("payments.push"):` hold a named lock, or raise LockHeldError (naming the
        owner and expiry) if another process holds it after waiting `wait` seconds. The lock ends with
        the block, or when its holder dies; `ttl` is how long a holder on another machine is trusted."""
        return held_lock(self, name, ttl, wait)

    def locks(self) -> list[LockInfo]:
        """The locks whose holders have not released them (a holder that died may leave one here
        until the next holder takes over)."""
        with self.transaction() as conn:
            names = list(conn.execute(select(locks.c.name)).scalars())
            return [info for info in (read_lock(conn, n) for n in names) if info is not None]

    # ---- internals -------------------------------------------------------------------------------
    def _append(self, conn: Connection, kind: str, key: str, state: str, note: Note, at: str) -> None:
        actor = self.actor
        conn.execute(
            events.insert().values(
                at=at, kind=kind, key=key, action=note.action, state=state, os_user=actor.user, host=actor.host,
                key_fingerprint=actor.key_fingerprint, source=note.source, row_number=note.row,
                external_id=note.external_id, run_id=note.run_id, message=note.message, data=dict(note.data),
            )
        )  # fmt: skip

    def _must_get(self, conn: Connection, kind: str, key: str, *, lock: bool = False) -> Record:
        query = select(records).where(records.c.kind == kind, records.c.key == key)
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        if row is None:
            raise StoreError(f"state store {self.location.shown}: no {kind} record {key!r}")
        return _record(row)


def _insert(conn: Connection) -> Any:
    """The dialect's INSERT (both have on_conflict_do_update)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(records)


def _record(row: RowMapping) -> Record:
    return Record(
        row["kind"], row["key"], row["state"], row["data"], row["attempts"], row["created_at"], row["updated_at"]
    )


def _event(row: RowMapping) -> Event:
    return Event(
        id=row["id"], at=row["at"], kind=row["kind"], key=row["key"], action=row["action"], state=row["state"],
        user=row["os_user"], host=row["host"], key_fingerprint=row["key_fingerprint"], source=row["source"],
        row=row["row_number"], external_id=row["external_id"], run_id=row["run_id"], message=row["message"],
        data=row["data"],
    )  # fmt: skip
