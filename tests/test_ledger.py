"""The payments ledger on both backends: durable settings, intent and result, the push lock, and the
upgrade of a ledger file written by sheetsync before the state store."""

from __future__ import annotations

import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from sheetsync.errors import PushError
from sheetsync.push.kotis_ledger import KotisLedger
from sheetsync.push.ledger import NOT_SENT, POSTED, REFUSED, SENDING, UNKNOWN, Ledger

LEGACY = Path(__file__).parent / "data" / "legacy_ledger.sqlite3"  # written by tests/data/make_legacy_ledger.py


def _intent(ledger: Ledger, run: str, watermark: int) -> None:
    ledger.record_intent(
        "id:A-1",
        ar_account=7,
        payment="PAY-1",
        target="INV-1",
        amount=Decimal("10.10"),
        run_id=run,
        source="s.xlsx",
        row_number=5,
        watermark=watermark,
    )


def test_sqlite_store_is_durable(tmp_path) -> None:
    ledger = Ledger.open(tmp_path / "deep" / "l.sqlite3")
    with ledger.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    ledger.close()


def test_intent_then_result_survive_a_reopen(store_location) -> None:
    ledger = Ledger.open(store_location)
    _intent(ledger, "r1", 40)
    assert Ledger.open(store_location).get("id:A-1").state == SENDING  # committed before the POST
    ledger.record_result("id:A-1", POSTED, request_id=41)
    entry = Ledger.open(store_location).get("id:A-1")
    assert (entry.state, entry.request_id, entry.amount, entry.watermark) == (POSTED, 41, Decimal("10.10"), 40)
    assert entry.same_allocation(7, "PAY-1", "INV-1", Decimal("10.10"))
    ledger.mark_written(["id:A-1"], "s.xlsx")
    assert ledger.get("id:A-1").written_to == "s.xlsx"
    _intent(ledger, "r2", 41)
    again = ledger.get("id:A-1")
    assert (again.attempts, again.request_id, again.written_to) == (2, None, None)
    ledger.record_result("id:A-1", NOT_SENT, message="quota")
    assert ledger.entries(["id:A-1", "id:none"]).keys() == {"id:A-1"}
    history = ledger.store.events("payments", key="id:A-1")
    assert [(e.action, e.state, e.external_id) for e in history] == [
        ("intent", SENDING, ""),
        ("outcome", POSTED, "41"),
        ("intent", SENDING, ""),
        ("outcome", NOT_SENT, ""),
    ]
    assert {(e.source, e.row) for e in history} == {("s.xlsx", 5)}
    ledger.close()


@pytest.mark.parametrize(("kind", "name"), [(Ledger, "payments push"), (KotisLedger, "Kotis push")])
def test_two_pushes_cannot_run_at_once(store_location, kind, name) -> None:
    first, second = kind.open(store_location), kind.open(store_location)
    with first.locked(), pytest.raises(PushError, match=f"another {name} is running"), second.locked():
        pass
    with second.locked():
        pass
    other = (KotisLedger if kind is Ledger else Ledger).open(store_location)
    with first.locked(), other.locked():  # a payments push and a Kotis push do not wait for each other
        pass
    for ledger in (first, second, other):
        ledger.close()


def test_an_unopenable_ledger_is_one_line(tmp_path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(PushError, match="cannot open the payments ledger"):
        Ledger.open(tmp_path / "file" / "l.sqlite3")


def _legacy_rows(path: Path, table: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        conn.close()


def test_a_ledger_written_before_the_store_is_upgraded_in_place_without_losing_a_row(tmp_path) -> None:
    path = tmp_path / "ledger.sqlite3"
    shutil.copy(LEGACY, path)
    before, runs = _legacy_rows(path, "allocations"), _legacy_rows(path, "runs")
    assert len(before) == 6 and len(runs) == 2
    ledger = Ledger.open(path)
    entries = {e.key: e for e in ledger.all_entries()}
    assert set(entries) == {row["key"] for row in before}
    for row in before:
        entry = entries[row["key"]]
        assert (entry.ar_account, entry.payment, entry.target, entry.amount) == (
            row["ar_account"],
            row["payment"],
            row["target"],
            Decimal(row["amount"]),
        )
        assert (entry.state, entry.request_id, entry.message, entry.watermark) == (
            row["state"],
            row["request_id"],
            row["message"],
            row["watermark"],
        )
        assert (entry.run_id, entry.source, entry.row_number, entry.attempts, entry.written_to) == (
            row["run_id"],
            row["source"],
            row["row_number"],
            row["attempts"],
            row["written_to"],
        )
    assert entries["id:A-5"].amount == Decimal("123456789.99")
    assert {e.state for e in entries.values()} == {POSTED, UNKNOWN, REFUSED, NOT_SENT, SENDING}
    assert ledger.run_ids() == {row["run_id"] for row in runs}
    history = ledger.store.events("payments")
    assert len([e for e in history if e.action == "intent"]) == 6
    assert {e.external_id for e in history if e.action == "outcome" and e.state == POSTED} == {"501", "502"}
    ledger.close()

    again = Ledger.open(path)  # a second open upgrades nothing and duplicates nothing
    assert len(again.all_entries()) == 6 and len(again.store.events("payments")) == len(history)
    again.close()
    assert len(_legacy_rows(path, "legacy_allocations")) == 6  # the old rows are kept, renamed
    columns = ("key", "state", "request_id", "amount", "written_to", "attempts")
    as_read = [tuple(r[c] for c in columns) for r in _legacy_rows(path, "allocations")]
    assert as_read == [tuple(r[c] for c in columns) for r in before]  # a script reading the old table still can
    assert [r["run_id"] for r in _legacy_rows(path, "runs")] == [r["run_id"] for r in runs]
    old_code = sqlite3.connect(path)  # sheetsync 0.1 on the upgraded file: its first write fails, loudly
    old_code.executescript("CREATE TABLE IF NOT EXISTS allocations (key TEXT PRIMARY KEY, state TEXT)")
    with pytest.raises(sqlite3.OperationalError, match="cannot modify allocations because it is a view"):
        old_code.execute("INSERT INTO allocations (key, state) VALUES ('id:A-9', 'sending')")
    old_code.close()


def test_the_old_ledger_tables_can_still_be_read_on_both_backends(store_location) -> None:
    from sqlalchemy import text

    ledger = Ledger.open(store_location)
    ledger.record_run("r1", "s.xlsx")
    _intent(ledger, "r1", 40)
    ledger.record_result("id:A-1", POSTED, request_id=41)
    with ledger.store.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM allocations")).mappings().one()
        runs = conn.execute(text("SELECT run_id, source FROM runs")).all()
    assert (row["key"], row["ar_account"], row["amount"], row["state"], row["request_id"], row["row_number"]) == (
        "id:A-1",
        7,
        "10.10",
        POSTED,
        41,
        5,
    )
    assert [tuple(r) for r in runs] == [("r1", "s.xlsx")]
    ledger.close()
