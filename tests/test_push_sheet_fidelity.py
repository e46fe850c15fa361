"""What the user sees is what is posted: duplicate headers, merged cells, hidden and filtered rows,
repeats of earlier requests, and a signal during --apply (sandbox + real xlsx files)."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest
from helpers_push import HEADERS, accounts, client_for, posts, push, refresh, sheet_rows, write_sheet

from sheetsync.errors import ExitCode, SinkError
from sheetsync.push.interrupt import StopSignals
from sheetsync.push.plan import HELD, HIDDEN, POST, REQUESTED


@pytest.fixture
def env(fresh_sandbox, tmp_path, store_location):
    client = client_for(fresh_sandbox)
    a = accounts(client, invoices=3, minimum=Decimal("20"))[0]
    return fresh_sandbox, client, a, tmp_path, store_location


def _row(a, ident: str, invoice: int, amount: object, *rest: object) -> list:
    return [ident, a.ar, a.payments[0]["PaymentInvoiceNum"], a.invoices[invoice]["InvoiceNum"], amount, *rest]


@pytest.mark.parametrize("second", ["amount", "AMOUNT", " Amount ", "am_ount"])
def test_a_duplicate_header_is_refused_naming_both_cells(env, second) -> None:
    sandbox, client, a, tmp, db = env
    path = write_sheet(tmp / "dup.xlsx", [[*_row(a, "D-1", 0, 1), None, None, None, None, 5]], [*HEADERS, second])
    before = path.read_bytes()
    with pytest.raises(SinkError, match=rf"header {second.strip()!r} in J1 repeats 'Amount' in E1"):
        push(client, path, db)
    assert posts(sandbox) == [] and path.read_bytes() == before


def test_a_merged_data_cell_is_named_as_merged(env) -> None:
    _, client, a, tmp, db = env
    path = write_sheet(tmp / "m.xlsx", [_row(a, "M-1", 0, 1), _row(a, "M-2", 1, 2)])
    book = openpyxl.load_workbook(path)
    book["Allocations"]["C3"] = None
    book["Allocations"].merge_cells("C2:C3")
    book.save(path)
    result = push(client, path, db, apply=False)
    reasons = {d.row.row_number: "; ".join(d.reasons) for d in result.plan.decisions}
    assert reasons[3].startswith("C3: PaymentInvoiceNum is inside the merged cell C2:C3")
    assert result.exit_code == ExitCode.PARTIAL


def test_hidden_and_filtered_rows_are_skipped_and_listed_unless_included(env) -> None:
    sandbox, client, a, tmp, db = env
    path = write_sheet(tmp / "h.xlsx", [_row(a, "H-1", 0, 1), _row(a, "H-2", 1, 2), _row(a, "H-3", 2, 3)])
    book = openpyxl.load_workbook(path)
    ws = book["Allocations"]
    ws.auto_filter.ref = "A1:I3"
    ws.row_dimensions[3].hidden = True  # as a spreadsheet saves a row its filter hides
    ws.row_dimensions[4].hidden = True  # hidden by hand, outside the filter
    book.save(path)
    plan = push(client, path, db, apply=False)
    actions = {d.row.row_number: d.action for d in plan.plan.decisions}
    assert actions == {2: POST, 3: HIDDEN, 4: HIDDEN}
    text = "\n".join(plan.lines)
    assert "2 hidden (skipped)" in text and "(hidden)" in text and "(filtered out)" in text
    result = push(client, path, db)
    assert [e["query"]["Amount"] for e in posts(sandbox)] == ["1.00"]
    assert sheet_rows(path)[3]["Status"] is None  # a skipped hidden row is left as it was
    assert result.exit_code == ExitCode.OK
    push(client, path, db, include_hidden=True)
    assert sorted(e["query"]["Amount"] for e in posts(sandbox)) == ["1.00", "2.00", "3.00"]


def test_a_new_row_like_a_live_request_is_held_until_marked_repeat(env) -> None:
    sandbox, client, a, tmp, db = env
    first = write_sheet(tmp / "first.xlsx", [_row(a, "R-1", 0, 4)])
    assert push(client, first, db).exit_code == ExitCode.OK
    request_id = sheet_rows(first)[2]["RequestID"]
    later = write_sheet(tmp / "later.xlsx", [[*_row(a, "R-9", 0, 4)], [*_row(a, "R-10", 1, 5)]], [*HEADERS, "Repeat"])
    plan = push(client, later, db, apply=False)
    held = {d.row.row_number: d for d in plan.plan.decisions}
    assert held[2].action == HELD and held[3].action == POST
    assert f"possible repeat of request {request_id} (Pending, " in held[2].reasons[0]
    assert plan.exit_code == ExitCode.PARTIAL
    push(client, later, db)
    assert len(posts(sandbox)) == 2  # only: the old RequestID is not written into R-9
    shown = sheet_rows(later)
    assert shown[2]["Status"] == "held" and shown[2]["RequestID"] is None

    book = openpyxl.load_workbook(later)
    book["Allocations"]["J2"] = "yes"
    book.save(later)
    again = push(client, later, db)
    assert again.exit_code == ExitCode.OK
    assert len(posts(sandbox)) == 3 and sheet_rows(later)[2]["RequestID"] not in (None, request_id)


def test_a_rejected_request_never_makes_a_row_a_possible_repeat(env) -> None:
    sandbox, client, a, tmp, db = env
    first = write_sheet(tmp / "first.xlsx", [_row(a, f"J-{i}", i % 3, 1 + i) for i in range(5)])
    push(client, first, db)
    sandbox.advance(2)  # the sandbox rejects every fifth request when it settles
    refresh(client, first, db)
    rejected = [r for r in sheet_rows(first).values() if r["Status"] == "Rejected"]
    assert len(rejected) == 1
    again = [rejected[0]["AllocationID"] + "-new", a.ar, rejected[0]["PaymentInvoiceNum"]]
    later = write_sheet(tmp / "later.xlsx", [[*again, rejected[0]["TargetInvoiceNum"], rejected[0]["Amount"]]])
    plan = push(client, later, db, apply=False)
    assert [d.action for d in plan.plan.decisions] == [POST]


def test_a_stop_signal_finishes_the_request_in_flight_and_writes_every_outcome(env) -> None:
    sandbox, client, a, tmp, db = env
    path = write_sheet(tmp / "s.xlsx", [_row(a, f"S-{i}", i, 1 + i) for i in range(3)])
    signals = StopSignals()
    real = client.request_payment_application

    def post_then_signal(**kwargs):
        record = real(**kwargs)
        signals.stop("SIGTERM")  # arrives while the first request is in flight
        return record

    client.request_payment_application = post_then_signal  # type: ignore[method-assign]
    result = push(client, path, db, signals=signals)
    assert result.exit_code == ExitCode.INTERRUPTED
    assert len(posts(sandbox)) == 1
    shown = sheet_rows(path)
    assert shown[2]["Status"] == "Pending" and isinstance(shown[2]["RequestID"], int)
    assert [shown[r]["Status"] for r in (3, 4)] == ["not sent", "not sent"]
    assert "stopped (SIGTERM)" in shown[3]["Message"]
    assert any("Run the same command again" in line for line in result.lines)

    client.request_payment_application = real  # type: ignore[method-assign]
    again = push(client, path, db)
    assert again.exit_code == ExitCode.OK and len(posts(sandbox)) == 3
    assert next(d.action for d in again.plan.decisions) == REQUESTED
