"""Never twice: crashes, ambiguous POSTs, concurrent pushes and quota exhaustion against the sandbox."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from helpers_push import HEADERS, accounts, client_for, posts, push, requests_for, sheet_rows, write_sheet

from sheetsync.errors import ExitCode, PushError
from sheetsync.sandbox.server import SandboxOptions, start_sandbox
from sheetsync.sinks.xlsx_read import XlsxSource


def _sheet(tmp, a, count=3):
    pay = a.payments[0]["PaymentInvoiceNum"]
    rows = [[f"N-{i}", a.ar, pay, a.invoices[i % len(a.invoices)]["InvoiceNum"], 1 + i] for i in range(count)]
    # two rows without IDs, identical to each other and to N-0: marked as deliberate repeats
    rows.append([None, a.ar, pay, a.invoices[0]["InvoiceNum"], 1, None, None, None, None, "yes"])
    rows.append([None, a.ar, pay, a.invoices[0]["InvoiceNum"], 1, None, None, None, None, "yes"])
    return write_sheet(tmp / "alloc.xlsx", rows, [*HEADERS, "Repeat"])


@pytest.fixture
def env(fresh_sandbox, tmp_path, store_location):
    """A sandbox of its own, an account, a directory and a state store (SQLite, then PostgreSQL)."""
    client = client_for(fresh_sandbox)
    a = accounts(client, invoices=2, minimum=Decimal("20"))[0]
    return fresh_sandbox, client, a, tmp_path, store_location


def test_a_crash_before_the_write_back_is_recovered_without_posting_again(env, monkeypatch) -> None:
    sandbox, client, a, tmp, db = env
    path = _sheet(tmp, a)
    before = requests_for(client, a.ar)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    with monkeypatch.context() as m:
        m.setattr(XlsxSource, "write_back", crash)
        with pytest.raises(KeyboardInterrupt):
            push(client, path, db)
    assert len(posts(sandbox)) == 5
    assert all(r["Status"] is None for r in sheet_rows(path).values())  # nothing reached the sheet

    result = push(client, path, db)
    assert result.exit_code == ExitCode.OK
    assert len(posts(sandbox)) == 5  # exactly one request per row
    assert len(requests_for(client, a.ar)) == len(before) + 5
    shown = sheet_rows(path)
    assert len({r["RequestID"] for r in shown.values()}) == 5
    assert all("already requested" in r["Message"] for r in shown.values())


def test_a_crash_right_after_the_post_is_reconciled(env, monkeypatch) -> None:
    sandbox, client, a, tmp, db = env
    path = _sheet(tmp, a)
    real = client.request_payment_application
    calls = []

    def post_then_die(**kw):
        answer = real(**kw)
        calls.append(answer)
        if len(calls) == 2:
            raise SystemExit("killed between POST and ledger")
        return answer

    monkeypatch.setattr(client, "request_payment_application", post_then_die)
    with pytest.raises(SystemExit):
        push(client, path, db)
    monkeypatch.setattr(client, "request_payment_application", real)
    assert len(posts(sandbox)) == 2
    result = push(client, path, db)
    assert result.exit_code == ExitCode.OK
    assert len(posts(sandbox)) == 5
    shown = sheet_rows(path)
    assert len({r["RequestID"] for r in shown.values()}) == 5
    assert calls[1]["RequestID"] in {r["RequestID"] for r in shown.values()}


def test_an_ambiguous_post_ends_in_exactly_one_request(env) -> None:
    sandbox, client, a, tmp, db = env
    path = _sheet(tmp, a, count=2)
    sandbox.set_faults(drop_after_post=1)
    first = push(client, path, db)
    assert first.exit_code == ExitCode.UNKNOWN_OUTCOME
    shown = sheet_rows(path)
    assert [r["Status"] for r in shown.values()] == ["unknown", "not sent", "not sent", "not sent"]
    assert len(posts(sandbox)) == 1

    second = push(client, path, db)
    assert second.exit_code == ExitCode.OK
    assert len(posts(sandbox)) == 4  # the dropped one was found, not re-sent
    shown = sheet_rows(path)
    assert len({r["RequestID"] for r in shown.values()}) == 4
    assert "reconciled" in next(iter(shown.values()))["Message"]


def test_concurrent_pushes_do_not_double_post(env) -> None:
    sandbox, client, a, tmp, db = env
    path = _sheet(tmp, a)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(push(client_for(sandbox), path, db).exit_code)
        except PushError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(posts(sandbox)) == 5
    assert ExitCode.OK in outcomes
    refused = [o for o in outcomes if isinstance(o, PushError)]
    assert all("another payments push is running" in str(o) for o in refused), refused
    assert push(client, path, db).exit_code == ExitCode.OK
    assert len(posts(sandbox)) == 5


def test_quota_exhaustion_marks_rows_not_sent_and_a_rerun_resumes(tmp_path, store_location) -> None:
    with start_sandbox(options=SandboxOptions(seed=0, rate_limit=100000)) as sandbox:
        client = client_for(sandbox)
        a = accounts(client, invoices=2, minimum=Decimal("20"))[0]
        path = _sheet(tmp_path, a)
        sandbox.options.rate_limit = len(sandbox.requests_log()) + 3 + 2  # the plan's 3 GETs and 2 POSTs
        first = push(client, path, store_location)
        assert first.exit_code == ExitCode.API
        statuses = [r["Status"] for r in sheet_rows(path).values()]
        assert statuses == ["Pending", "Pending", "not sent", "not sent", "not sent"]
        assert "quota ran out" in list(sheet_rows(path).values())[2]["Message"]
        assert len([p for p in posts(sandbox) if p["status"] == 200]) == 2

        sandbox.options.rate_limit = 100000  # the quota recovers; a re-run is a new process, a new client
        second = push(client_for(sandbox), path, store_location)
        assert second.exit_code == ExitCode.OK
        assert len([p for p in posts(sandbox) if p["status"] == 200]) == 5
        assert len({r["RequestID"] for r in sheet_rows(path).values()}) == 5


def test_a_rejected_request_is_posted_again_only_after_its_request_id_is_cleared(env) -> None:
    sandbox, client, a, tmp, db = env
    path = _sheet(tmp, a)
    assert push(client, path, db).exit_code == ExitCode.OK
    sandbox.advance(2)
    from helpers_push import refresh

    refresh(client, path, db)
    shown = sheet_rows(path)
    rejected = [n for n, r in shown.items() if r["Status"] == "Rejected"]
    assert rejected, shown  # the sandbox rejects every fifth request
    assert push(client, path, db).exit_code == ExitCode.OK  # still there: nothing is sent
    assert len(posts(sandbox)) == 5

    import openpyxl

    book = openpyxl.load_workbook(path)
    book["Allocations"].cell(rejected[0], 7).value = None  # the user clears RequestID
    book.save(path)
    again = push(client, path, db)
    assert again.exit_code == ExitCode.OK
    assert len(posts(sandbox)) == 6
    assert sheet_rows(path)[rejected[0]]["Status"] == "Pending"


def test_a_store_that_fails_after_a_post_stops_the_run_as_unknown_and_the_rerun_reconciles(env, monkeypatch) -> None:
    from sheetsync.errors import OutcomeNotRecordedError, StoreError
    from sheetsync.push.ledger import Ledger

    sandbox, client, a, tmp, db = env
    path = _sheet(tmp, a)
    real = Ledger.record_result

    def store_goes_down(self, key, state, **kw):
        if state == "posted" and len(posts(sandbox)) == 2:
            raise StoreError("state store db: server closed the connection unexpectedly")
        return real(self, key, state, **kw)

    with monkeypatch.context() as m:
        m.setattr(Ledger, "record_result", store_goes_down)
        with pytest.raises(OutcomeNotRecordedError, match=r"request \d+ was created, but the ledger could not") as e:
            push(client, path, db)
    assert e.value.exit_code == ExitCode.UNKNOWN_OUTCOME
    assert len(posts(sandbox)) == 2
    assert push(client, path, db).exit_code == ExitCode.OK
    assert len(posts(sandbox)) == 5  # the second row was reconciled, not posted again
    assert len({r["RequestID"] for r in sheet_rows(path).values()}) == 5
