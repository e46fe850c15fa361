"""Kotis orders are created once: dropped connections, crashes, 500s, 429s and signals against the sandbox."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from helpers_kotis_push import creates, kotis_client, line, push, read_sheet, stocked, write_orders

from sheetsync.apis.kotis import KotisClient
from sheetsync.cli import cli
from sheetsync.errors import ExitCode, PushError
from sheetsync.push.interrupt import StopSignals
from sheetsync.push.kotis import BLOCKED, CREATE, CREATED
from sheetsync.push.kotis_follow import resolve_order
from sheetsync.push.kotis_ledger import KotisLedger
from sheetsync.sinks.xlsx_read import XlsxSource


@pytest.fixture
def env(fresh_sandbox, tmp_path, store_location):
    client = kotis_client(fresh_sandbox)
    skus = stocked(client, minimum=10)
    path = tmp_path / "orders.xlsx"
    rows = write_orders(
        path, [line("N-1", skus[0]["sku"], 1), line("N-1", skus[1]["sku"], 1), line("N-2", skus[0]["sku"], 2)]
    )
    return fresh_sandbox, client, path, rows, store_location


def _made(sandbox) -> list[str]:
    return sorted(o.order_id for o in sandbox.app.kotis_kwf.data.orders.values() if o.order_id)


def _resolve(client, db, ref, **kw) -> list[str]:
    ledger = KotisLedger.open(db)
    try:
        return resolve_order(client, ledger, ref, **kw)
    finally:
        ledger.close()


def test_a_dropped_connection_blocks_the_order_until_resolved_and_it_is_never_sent_twice(env) -> None:
    sandbox, client, path, rows, db = env
    sandbox.set_faults(drop_after_create=1)
    first = push(client, path, db)
    assert first.exit_code == ExitCode.UNKNOWN_OUTCOME
    shown = read_sheet(path)
    assert shown[rows["N-1#0"]]["Status"] == shown[rows["N-1#1"]]["Status"] == "unknown"
    assert "kotis resolve N-1" in shown[rows["N-1#0"]]["Message"]
    assert shown[rows["N-2#0"]]["Status"] == "not sent"  # the run stops after an unknown outcome
    assert _made(sandbox) == ["N-1"]  # Kotis did create it

    again = push(client, path, db)
    assert {d.order.ref: d.action for d in again.plan.decisions} == {"N-1": BLOCKED, "N-2": CREATE}
    assert _made(sandbox) == ["N-1", "N-2"]  # N-1 was not re-sent
    assert len(creates(sandbox)) == 3 - 1  # N-1 once, N-2 once (the plan-time GETs are not POSTs)

    number = next(o.order_number for o in sandbox.app.kotis_kwf.data.orders.values() if o.order_id == "N-1")
    listed = _resolve(client, db, "N-1")
    assert any(number in text for text in listed)  # offered: created within minutes of the unknown POST
    assert _resolve(client, db, "N-1", order_num=number)[0].startswith("N-1: recorded as order")
    with pytest.raises(PushError, match="not blocked"):
        _resolve(client, db, "N-1", not_created=True)

    final = push(client, path, db)
    assert {d.order.ref: d.action for d in final.plan.decisions} == {"N-1": CREATED, "N-2": CREATED}
    assert ": 0 created, 2 already created" in final.lines[-1]
    assert read_sheet(path)[rows["N-1#1"]]["OrderNum"] == number
    assert _made(sandbox) == ["N-1", "N-2"]


def test_a_crash_right_after_the_post_blocks_instead_of_resending(env, monkeypatch) -> None:
    sandbox, client, path, _rows, db = env
    real = client.create_order

    def create_then_die(order):
        real(order)
        raise KeyboardInterrupt("killed between the POST and the ledger")

    with monkeypatch.context() as m:
        m.setattr(client, "create_order", create_then_die)
        with pytest.raises(KeyboardInterrupt):
            push(client, path, db)
    for _ in range(2):
        result = push(client, path, db)
        assert result.plan.decisions[0].action == BLOCKED
    assert _made(sandbox) == ["N-1", "N-2"]
    assert _made(sandbox).count("N-1") == 1


def test_a_crash_before_the_write_back_is_repaired_from_the_ledger(env, monkeypatch) -> None:
    sandbox, client, path, _rows, db = env

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed before the sheet was written")

    with monkeypatch.context() as m:
        m.setattr(XlsxSource, "write_back", crash)
        with pytest.raises(KeyboardInterrupt):
            push(client, path, db)
    assert all(r["OrderNum"] is None for r in read_sheet(path).values())
    result = push(client, path, db)
    assert result.exit_code == ExitCode.OK
    assert len(creates(sandbox)) == 2
    shown = read_sheet(path)
    assert all(r["OrderNum"] and r["Status"] == "created" for r in shown.values())


def test_a_500_after_sending_blocks_and_not_created_lets_the_next_push_send(env) -> None:
    sandbox, client, path, _rows, db = env
    sandbox.set_faults(fault_500_rate=1.0)
    with pytest.raises(Exception):  # noqa: B017 - the plan's own GET fails first: nothing is sent
        push(client, path, db)
    assert creates(sandbox) == []
    sandbox.set_faults(fault_500_rate=0.0)
    real = client.create_order
    calls = []

    def first_fails(order):
        calls.append(order["order_id"])
        if len(calls) == 1:
            sandbox.set_faults(fault_500_rate=1.0)
            try:
                return real(order)
            finally:
                sandbox.set_faults(fault_500_rate=0.0)
        return real(order)

    client.create_order = first_fails
    result = push(client, path, db)
    assert result.exit_code == ExitCode.UNKNOWN_OUTCOME
    assert _made(sandbox) == []  # the 500 created nothing, but the client cannot know that
    assert "most likely no order was created" in " ".join(_resolve(client, db, "N-1"))
    _resolve(client, db, "N-1", not_created=True)
    final = push(client, path, db)
    assert final.exit_code == ExitCode.OK
    assert _made(sandbox) == ["N-1", "N-2"]


def test_a_429_on_create_is_not_sent_and_the_next_run_sends_it(env) -> None:
    sandbox, client, path, rows, db = env
    real = client.create_order

    def limited(order):
        sandbox.set_faults(burst_429=10)
        try:
            return real(order)
        finally:
            sandbox.set_faults(burst_429=0)

    client.create_order = limited
    result = push(client, path, db)
    assert {read_sheet(path)[r]["Status"] for r in rows.values()} <= {"not sent"}
    assert result.exit_code in (ExitCode.API, ExitCode.PARTIAL)
    client.create_order = real
    assert push(client, path, db).exit_code == ExitCode.OK
    assert _made(sandbox) == ["N-1", "N-2"]


def test_sigterm_mid_apply_stops_after_the_order_in_flight(env) -> None:
    sandbox, client, path, rows, db = env
    signals = StopSignals()
    real = client.create_order

    def then_stop(order):
        answer = real(order)
        signals.stop("SIGTERM")
        return answer

    client.create_order = then_stop
    result = push(client, path, db, signals=signals)
    assert result.exit_code == ExitCode.INTERRUPTED
    assert _made(sandbox) == ["N-1"]
    shown = read_sheet(path)
    assert shown[rows["N-1#0"]]["Status"] == "created"
    assert shown[rows["N-2#0"]]["Status"] == "not sent"
    assert any("Run the same command again" in text for text in result.lines)
    client.create_order = real
    assert push(client, path, db).exit_code == ExitCode.OK
    assert _made(sandbox) == ["N-1", "N-2"]


def test_the_command_line_loop_against_a_served_sandbox(env, tmp_path, monkeypatch) -> None:
    sandbox, _client, path, _rows, db = env
    info = sandbox.info
    monkeypatch.setenv("KOTIS_BASE_URL", info.kotis)
    monkeypatch.setenv("KOTIS_STORES_BASE_URL", info.kotis_stores)
    monkeypatch.setenv("KOTIS_API_KEY", info.keys["kotis"])
    runner = CliRunner()
    plan = runner.invoke(cli, ["kotis", "push", str(path), "--ledger", db])
    assert plan.exit_code == 0, plan.output
    assert info.kotis in plan.output and "key sha256:" in plan.output
    assert info.keys["kotis"] not in plan.output
    assert creates(sandbox) == []
    applied = runner.invoke(cli, ["kotis", "push", str(path), "--apply", "--ledger", db])
    assert applied.exit_code == 0, applied.output
    sandbox.ship_kotis_orders()
    shown = runner.invoke(cli, ["kotis", "status", str(path), "--ledger", db])
    assert shown.exit_code == 0, shown.output
    assert "2 shipped" in shown.output
    assert all(r["Tracking"] for r in read_sheet(path).values())
    unknown = runner.invoke(cli, ["kotis", "resolve", "N-1", "--ledger", db])
    assert unknown.exit_code != 0 and "not blocked" in str(unknown.exception)


def test_a_timeout_on_create_blocks_the_order_and_the_next_run_never_resends_it(env) -> None:
    sandbox, _client, path, rows, db = env
    info = sandbox.info
    client = KotisClient(info.kotis, info.kotis_stores, info.keys["kotis"], timeout=0.5, sleep=lambda s: None)
    real = client.create_order

    def slow(order):
        sandbox.set_faults(latency_ms=1500)  # the server takes longer than the client waits
        try:
            return real(order)
        finally:
            sandbox.set_faults(latency_ms=0)

    client.create_order = slow
    first = push(client, path, db)
    assert first.exit_code == ExitCode.UNKNOWN_OUTCOME
    assert read_sheet(path)[rows["N-1#0"]]["Status"] == "unknown"
    time.sleep(1.5)  # the server finishes the order the client gave up on
    client.create_order = real
    again = push(client, path, db)
    assert {d.order.ref: d.action for d in again.plan.decisions} == {"N-1": BLOCKED, "N-2": CREATE}
    assert _made(sandbox) == ["N-1", "N-2"] and len(creates(sandbox)) == 2
