"""The payments ledger: durable settings, intent and result, the machine-wide lock."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sheetsync.errors import PushError
from sheetsync.push.ledger import NOT_SENT, POSTED, SENDING, Ledger


def test_durable_settings(tmp_path) -> None:
    ledger = Ledger.open(tmp_path / "deep" / "l.sqlite3")
    assert ledger._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_intent_then_result_survive_a_reopen(tmp_path) -> None:
    path = tmp_path / "l.sqlite3"
    ledger = Ledger.open(path)
    ledger.record_intent(
        "id:A-1",
        ar_account=7,
        payment="PAY-1",
        target="INV-1",
        amount=Decimal("10.10"),
        run_id="r1",
        source="s.xlsx",
        row_number=5,
        watermark=40,
    )
    assert Ledger.open(path).get("id:A-1").state == SENDING  # committed before the POST
    ledger.record_result("id:A-1", POSTED, request_id=41)
    entry = Ledger.open(path).get("id:A-1")
    assert (entry.state, entry.request_id, entry.amount, entry.watermark) == (POSTED, 41, Decimal("10.10"), 40)
    assert entry.same_allocation(7, "PAY-1", "INV-1", Decimal("10.10"))
    ledger.mark_written(["id:A-1"], "s.xlsx")
    assert ledger.get("id:A-1").written_to == "s.xlsx"
    ledger.record_intent(
        "id:A-1",
        ar_account=7,
        payment="PAY-1",
        target="INV-1",
        amount=Decimal("10.10"),
        run_id="r2",
        source="s.xlsx",
        row_number=5,
        watermark=41,
    )
    again = ledger.get("id:A-1")
    assert (again.attempts, again.request_id, again.written_to) == (2, None, None)
    ledger.record_result("id:A-1", NOT_SENT, message="quota")
    assert ledger.entries(["id:A-1", "id:none"]).keys() == {"id:A-1"}


def test_two_pushes_on_one_machine_cannot_run_at_once(tmp_path) -> None:
    first, second = Ledger.open(tmp_path / "l.sqlite3"), Ledger.open(tmp_path / "l.sqlite3")
    with first.locked(), pytest.raises(PushError, match="another payments push is running"), second.locked():
        pass
    with second.locked():
        pass


def test_an_unopenable_ledger_is_one_line(tmp_path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(PushError, match="cannot open the payments ledger"):
        Ledger.open(tmp_path / "file" / "l.sqlite3")
