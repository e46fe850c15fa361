"""The store's tables and their versioned migrations, applied in order on first use.

`sheetsync_schema` lists every migration applied (version, name, time). `upgrade` runs the missing
ones in one transaction under a lock (PostgreSQL: a transaction-level advisory lock; SQLite: the
database's write lock, BEGIN IMMEDIATE), so two processes opening a new store at once upgrade it once.
Add a migration by appending a step to MIGRATIONS; never edit or reorder an applied one.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from sheetsync.errors import StoreError
from sheetsync.store.model import utc_now

metadata = MetaData()
_json = JSON().with_variant(JSONB(), "postgresql")
_id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

schema_versions = Table(
    "sheetsync_schema",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("applied_at", String(40), nullable=False),
)
records = Table(
    "sheetsync_records",
    metadata,
    Column("kind", String(100), primary_key=True),
    Column("key", String(500), primary_key=True),
    Column("state", String(100), nullable=False),
    Column("data", _json, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)
events = Table(
    "sheetsync_events",
    metadata,
    Column("id", _id, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("key", String(500), nullable=False),
    Column("action", String(100), nullable=False),
    Column("state", String(100), nullable=False, default=""),
    Column("os_user", String(200), nullable=False, default=""),
    Column("host", String(200), nullable=False, default=""),
    Column("key_fingerprint", String(100), nullable=False, default=""),
    Column("source", Text, nullable=False, default=""),
    Column("row_number", Integer),
    Column("external_id", String(200), nullable=False, default=""),
    Column("run_id", String(100), nullable=False, default=""),
    Column("message", Text, nullable=False, default=""),
    Column("data", _json, nullable=False),
    Index("sheetsync_events_kind_at", "kind", "at"),
    Index("sheetsync_events_kind_key", "kind", "key"),
)
locks = Table(
    "sheetsync_locks",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("owner", String(300), nullable=False),
    Column("token", String(64), nullable=False),
    Column("acquired_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
)


def _create_tables(conn: Connection) -> None:
    metadata.create_all(conn, tables=[records, events, locks])


def _import_payments_ledger(conn: Connection) -> None:
    """The SQLite payments ledger of sheetsync before the store (tables `allocations` and `runs`):
    every allocation becomes a `payments` record with its intent and outcome in the history, every
    run a `payments.run` record. The old tables are kept, renamed `legacy_allocations` and `legacy_runs`."""
    names = set(inspect(conn).get_table_names())
    if "allocations" in names:
        for row in conn.execute(text("SELECT * FROM allocations")).mappings():
            _import_allocation(conn, dict(row))
        conn.execute(text("ALTER TABLE allocations RENAME TO legacy_allocations"))
    if "runs" in names:
        for row in conn.execute(text("SELECT * FROM runs")).mappings():
            at = _iso(row["started_at"])
            data = {"source": row["source"], "started_at": at}
            conn.execute(
                insert(records).values(
                    kind="payments.run",
                    key=row["run_id"],
                    state="started",
                    data=data,
                    attempts=1,
                    created_at=at,
                    updated_at=at,
                )
            )
        conn.execute(text("ALTER TABLE runs RENAME TO legacy_runs"))


LEGACY_FIELDS = (
    "ar_account",
    "payment",
    "target",
    "amount",
    "request_id",
    "message",
    "watermark",
    "run_id",
    "source",
    "row_number",
    "written_to",
    "sent_at",
)


def _import_allocation(conn: Connection, row: dict[str, Any]) -> None:
    data = {name: row[name] for name in LEGACY_FIELDS}
    data["amount"] = str(Decimal(str(row["amount"])))
    sent, updated = _iso(row["sent_at"] or row["updated_at"]), _iso(row["updated_at"])
    data["sent_at"] = sent
    conn.execute(
        insert(records).values(
            kind="payments",
            key=row["key"],
            state=row["state"],
            data=data,
            attempts=row["attempts"],
            created_at=sent,
            updated_at=updated,
        )
    )
    common = {
        "kind": "payments",
        "key": row["key"],
        "os_user": "",
        "host": "",
        "key_fingerprint": "",
        "source": row["source"],
        "row_number": row["row_number"],
        "run_id": row["run_id"],
    }
    fields = {k: data[k] for k in ("ar_account", "payment", "target", "amount")}
    conn.execute(
        insert(events).values(
            **common,
            at=sent,
            action="intent",
            state="sending",
            external_id="",
            message="imported from the payments ledger",
            data=fields,
        )
    )
    if row["state"] != "sending":
        rid = "" if row["request_id"] is None else str(row["request_id"])
        conn.execute(
            insert(events).values(
                **common,
                at=updated,
                action="outcome",
                state=row["state"],
                external_id=rid,
                message=row["message"] or "",
                data=fields,
            )
        )


def _iso(value: str | None) -> str:
    """A time of the old ledger (seconds) in the store's format (microseconds), so text order holds."""
    if not value:
        return utc_now()
    from datetime import datetime

    return datetime.fromisoformat(value).isoformat(timespec="microseconds")


# The 0.1 ledger's columns, each read from the same-named field of a payments record: (name, SQL type)
_LEGACY_COLUMNS = (
    ("ar_account", "INTEGER"),
    ("payment", "TEXT"),
    ("target", "TEXT"),
    ("amount", "TEXT"),
    ("request_id", "INTEGER"),
    ("message", "TEXT"),
    ("watermark", "INTEGER"),
    ("run_id", "TEXT"),
    ("source", "TEXT"),
    ("row_number", "INTEGER"),
    ("written_to", "TEXT"),
    ("sent_at", "TEXT"),
)


def _legacy_views(conn: Connection) -> None:
    """Read-only views named like the 0.1 ledger's tables (`allocations`, `runs`) over the store.
    Scripts that read the old tables keep working, and a sheetsync 0.1 pointed at an upgraded file
    fails on its first write (a view cannot be written) instead of starting an empty ledger."""
    names = set(inspect(conn).get_table_names()) | set(inspect(conn).get_view_names())
    field = _json_field(conn.dialect.name)
    if "allocations" not in names:
        columns = ", ".join(f"{field(name, sql_type)} AS {name}" for name, sql_type in _LEGACY_COLUMNS)
        conn.execute(
            text(
                f"CREATE VIEW allocations AS SELECT key, {columns}, state, attempts, updated_at "
                "FROM sheetsync_records WHERE kind = 'payments'"
            )
        )
    if "runs" not in names:
        conn.execute(
            text(
                f"CREATE VIEW runs AS SELECT key AS run_id, {field('source', 'TEXT')} AS source, "
                f"{field('started_at', 'TEXT')} AS started_at FROM sheetsync_records WHERE kind = 'payments.run'"
            )
        )


def _json_field(dialect: str) -> Callable[[str, str], str]:
    if dialect == "postgresql":
        return lambda name, sql_type: f"CAST(data->>'{name}' AS {sql_type})"
    return lambda name, sql_type: f"CAST(json_extract(data, '$.{name}') AS {sql_type})"


Migration = tuple[int, str, Callable[[Connection], None]]
MIGRATIONS: list[Migration] = [
    (1, "records, events and locks", _create_tables),
    (2, "import the SQLite payments ledger of sheetsync 0.1", _import_payments_ledger),
    (3, "read-only views of the 0.1 ledger tables", _legacy_views),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table(schema_versions.name):
        return 0
    return int(conn.execute(select(schema_versions.c.version).order_by(schema_versions.c.version.desc())).scalar() or 0)


def upgrade(conn: Connection, shown: str) -> list[int]:
    """Apply the missing migrations inside the caller's transaction; returns the versions applied.
    Raises StoreError when the store is newer than this sheetsync."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7231800131)"))  # one upgrader at a time
    metadata.create_all(conn, tables=[schema_versions])
    version = current_version(conn)
    if version > LATEST:
        raise StoreError(
            f"the state store {shown} has schema version {version}; this sheetsync knows up to {LATEST}: "
            "upgrade sheetsync"
        )
    applied = []
    for number, name, step in MIGRATIONS:
        if number > version:
            step(conn)
            conn.execute(insert(schema_versions).values(version=number, name=name, applied_at=utc_now()))
            applied.append(number)
    return applied
