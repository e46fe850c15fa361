"""The payments ledger: a local SQLite record of every allocation's intent and outcome.

One row per allocation key (`id:<AllocationID>`, or `fp:<account>|<payment>|<target>|<amount>|<n>` for a
row without an AllocationID, n being its occurrence in the sheet). The intent is committed durably
(WAL, synchronous=FULL) before the POST, the result after it, so a crash between the two leaves an
intent without a result: the next run treats it as an unknown outcome and reconciles it against the
API before anything is sent. A file lock beside the database keeps two pushes on one machine apart.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from filelock import FileLock, Timeout

from sheetsync.errors import PushError

# states of an entry
SENDING = "sending"  # intent committed, no result yet (a crash, if found by a later run)
POSTED = "posted"  # the API created request `request_id`
UNKNOWN = "unknown"  # the POST may or may not have taken effect: reconcile before anything else
REFUSED = "refused"  # the API refused the request (400): nothing was created
NOT_SENT = "not_sent"  # never sent (quota ran out, or reconciled: nothing was created)
NEEDS_RECONCILIATION = (SENDING, UNKNOWN)

SCHEMA = """
CREATE TABLE IF NOT EXISTS allocations (
    key         TEXT PRIMARY KEY,
    ar_account  INTEGER NOT NULL,
    payment     TEXT NOT NULL,
    target      TEXT NOT NULL,
    amount      TEXT NOT NULL,
    state       TEXT NOT NULL,
    request_id  INTEGER,
    message     TEXT NOT NULL DEFAULT '',
    watermark   INTEGER,           -- highest RequestID of the account seen before the POST
    run_id      TEXT NOT NULL,
    source      TEXT NOT NULL,     -- the sheet the row came from
    row_number  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    written_to  TEXT,              -- the sheet the outcome was written to, NULL until written
    sent_at     TEXT,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    started_at  TEXT NOT NULL
);
"""


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    """Open with `Ledger.open(path)`; use `with ledger.locked():` around a push."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = FileLock(str(path) + ".lock", timeout=0)

    @classmethod
    def open(cls, path: Path | str) -> Ledger:
        path = Path(path).expanduser()
        for attempt in range(50):
            try:
                return cls(path, _connect(path))
            except sqlite3.OperationalError as exc:  # two processes creating the same new ledger at once
                if "locked" not in str(exc) or attempt == 49:
                    raise PushError(f"cannot open the payments ledger {path}: {exc}") from None
                time.sleep(0.1)
            except (OSError, sqlite3.Error) as exc:
                raise PushError(f"cannot open the payments ledger {path}: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the machine-wide lock of this ledger, or fail at once if another push holds it."""
        try:
            self._lock.acquire()
        except Timeout:
            raise PushError(
                f"another payments push is running on this machine (lock {self._lock.lock_file}); "
                "wait for it to finish and run again"
            ) from None
        try:
            yield
        finally:
            self._lock.release()

    # ---- reads -----------------------------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        row = self._conn.execute("SELECT * FROM allocations WHERE key = ?", (key,)).fetchone()
        return _entry(row) if row else None

    def entries(self, keys: list[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(f"SELECT * FROM allocations WHERE key IN ({marks})", chunk):
                found[row["key"]] = _entry(row)
        return found

    def all_entries(self) -> list[Entry]:
        return [_entry(row) for row in self._conn.execute("SELECT * FROM allocations ORDER BY updated_at")]

    def run_ids(self) -> set[str]:
        """Every push run this machine has started (their `sending <run>` claims are never live)."""
        return {row["run_id"] for row in self._conn.execute("SELECT run_id FROM runs")}

    # ---- writes: each one its own durable transaction --------------------------------------------
    def record_run(self, run_id: str, source: str) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO runs (run_id, source, started_at) VALUES (?, ?, ?)", (run_id, source, _now())
        )

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
        now = _now()
        self._conn.execute(
            """INSERT INTO allocations (key, ar_account, payment, target, amount, state, request_id, message,
                   watermark, run_id, source, row_number, attempts, written_to, sent_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, NULL, '', ?, ?, ?, ?, 1, NULL, ?, ?)
               ON CONFLICT(key) DO UPDATE SET ar_account=excluded.ar_account, payment=excluded.payment,
                   target=excluded.target, amount=excluded.amount, state=excluded.state, request_id=NULL,
                   message='', watermark=excluded.watermark, run_id=excluded.run_id, source=excluded.source,
                   row_number=excluded.row_number, attempts=allocations.attempts + 1, written_to=NULL,
                   sent_at=excluded.sent_at, updated_at=excluded.updated_at""",
            (key, ar_account, payment, target, str(amount), SENDING, watermark, run_id, source, row_number, now, now),
        )

    def record_result(self, key: str, state: str, *, request_id: int | None = None, message: str = "") -> None:
        self._conn.execute(
            "UPDATE allocations SET state = ?, request_id = ?, message = ?, updated_at = ? WHERE key = ?",
            (state, request_id, message, _now(), key),
        )

    def mark_written(self, keys: list[str], source: str) -> None:
        if not keys:
            return
        now = _now()
        with self._transaction():
            self._conn.executemany(
                "UPDATE allocations SET written_to = ?, updated_at = ? WHERE key = ?",
                [(source, now, key) for key in keys],
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=30, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(SCHEMA)
    except sqlite3.Error:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        key=row["key"],
        ar_account=row["ar_account"],
        payment=row["payment"],
        target=row["target"],
        amount=Decimal(row["amount"]),
        state=row["state"],
        request_id=row["request_id"],
        message=row["message"],
        watermark=row["watermark"],
        run_id=row["run_id"],
        source=row["source"],
        row_number=row["row_number"],
        attempts=row["attempts"],
        written_to=row["written_to"],
        sent_at=row["sent_at"],
    )
