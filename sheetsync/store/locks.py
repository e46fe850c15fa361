"""Named locks with an owner and an expiry, one strategy per backend.

PostgreSQL: a session advisory lock on a connection held for the lock's life (the server frees it when
the holder's connection ends, a killed process included); the `sheetsync_locks` row says who holds it.
SQLite: a file lock beside the database (freed by the OS when the holder dies) plus the `sheetsync_locks`
row with its expiry, which also keeps out a holder on another machine sharing the file.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from sheetsync.errors import LockHeldError, StoreError
from sheetsync.store.model import Actor, LockInfo, first_line, utc_now
from sheetsync.store.schema import locks

if TYPE_CHECKING:
    from sheetsync.store.store import Store


def held_lock(store: Store, name: str, ttl: timedelta, wait: float) -> AbstractContextManager[LockInfo]:
    if store.backend == "postgresql":
        return _postgres_lock(store, name, ttl, wait)
    return _sqlite_lock(store, name, ttl, wait)


@contextmanager
def _sqlite_lock(store: Store, name: str, ttl: timedelta, wait: float) -> Iterator[LockInfo]:
    assert store.location.path is not None
    file_lock = FileLock(str(lock_path(store.location.path, name)), timeout=wait)
    try:
        file_lock.acquire()
    except Timeout:
        with store.transaction() as conn:
            row = read_lock(conn, name)
        raise _held(store, name, "another process on this machine", row) from None
    try:
        with store.transaction() as conn:
            row = read_lock(conn, name)
            if row is not None and _live_elsewhere(row, store.actor):
                raise _held(store, name, row.owner, row)
            info = _write_lock(conn, name, store.actor, ttl)
        try:
            yield info
        finally:
            _release_row(store, info)
    finally:
        file_lock.release()


def _live_elsewhere(row: LockInfo, actor: Actor) -> bool:
    """A row of another host that has not expired. (On this host, the file lock we hold proves that
    its writer is gone.)"""
    same_host = row.owner.split("@", 1)[-1].split(" pid ")[0] == actor.host
    return not same_host and row.expires_at > utc_now()


@contextmanager
def _postgres_lock(store: Store, name: str, ttl: timedelta, wait: float) -> Iterator[LockInfo]:
    key = int.from_bytes(hashlib.sha256(f"sheetsync:{name}".encode()).digest()[:8], "big", signed=True)
    try:
        holder = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except SQLAlchemyError as exc:
        raise StoreError(f"state store {store.location.shown}: {first_line(exc)}") from None
    try:
        deadline = time.monotonic() + wait
        while not holder.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            if time.monotonic() >= deadline:
                with store.transaction() as conn:
                    row = read_lock(conn, name)
                raise _held(store, name, row.owner if row else "another session", row)
            time.sleep(0.2)
        with store.transaction() as conn:
            info = _write_lock(conn, name, store.actor, ttl)
        try:
            yield info
        finally:
            _release_row(store, info)
            with suppress(SQLAlchemyError):  # a lost connection has released it already
                holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    except SQLAlchemyError as exc:
        raise StoreError(f"state store {store.location.shown}: {first_line(exc)}") from None
    finally:
        holder.close()


def read_lock(conn: Connection, name: str) -> LockInfo | None:
    row = conn.execute(select(locks).where(locks.c.name == name)).mappings().first()
    if row is None:
        return None
    return LockInfo(row["name"], row["owner"], row["acquired_at"], row["expires_at"], row["token"])


def _write_lock(conn: Connection, name: str, actor: Actor, ttl: timedelta) -> LockInfo:
    now = datetime.now(UTC)
    info = LockInfo(
        name,
        actor.owner,
        now.isoformat(timespec="microseconds"),
        (now + ttl).isoformat(timespec="microseconds"),
        secrets.token_hex(16),
    )
    conn.execute(delete(locks).where(locks.c.name == name))
    conn.execute(
        locks.insert().values(
            name=name, owner=info.owner, token=info.token, acquired_at=info.acquired_at, expires_at=info.expires_at
        )
    )
    return info


def _release_row(store: Store, info: LockInfo) -> None:
    """Remove our row. It only describes the lock (the file or advisory lock is the lock), so a store
    that is gone does not turn a release into an error hiding the one that may be on its way."""
    with suppress(StoreError), store.transaction() as conn:
        conn.execute(delete(locks).where(locks.c.name == info.name, locks.c.token == info.token))


def _held(store: Store, name: str, who: str, row: LockInfo | None = None) -> LockHeldError:
    detail = row.describe() if row else f"held by {who}"
    error = LockHeldError(f"the lock {name!r} of the state store {store.location.shown} is {detail}")
    error.holder = row
    return error


def lock_path(store_path: Path, name: str) -> Path:
    return Path(f"{store_path}.{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.lock")
