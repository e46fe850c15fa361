"""A `kotis push --apply` process really killed with SIGKILL in the middle of posting, then run again.

No signal handler runs on SIGKILL: what survives is the ledger (intent committed before each POST) and
whatever the sandbox received. The re-run must create every remaining order and never a second order
for any OrderRef; the order in flight at the kill is blocked until `kotis resolve` settles it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from click.testing import CliRunner
from helpers_kotis_push import creates, kotis_client, line, read_sheet, stocked, write_orders

from sheetsync.cli import cli

REFS = [f"KILL-{n}" for n in range(8)]


def _env(sandbox, db: str) -> dict[str, str]:
    info = sandbox.info
    return {
        **os.environ,
        "KOTIS_BASE_URL": info.kotis,
        "KOTIS_STORES_BASE_URL": info.kotis_stores,
        "KOTIS_API_KEY": info.keys["kotis"],
        "SHEETSYNC_DB": db,
    }


def _orders_per_ref(sandbox) -> Counter[str]:
    return Counter(o.order_id for o in sandbox.app.kotis_kwf.data.orders.values() if o.order_id in REFS)


def _kill_after_creates(sandbox, process: subprocess.Popen, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(creates(sandbox)) < count:
        assert process.poll() is None, "the push ended before it could be killed"
        assert time.monotonic() < deadline, "the push never posted"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_push_killed_mid_posting_then_run_again_creates_each_order_exactly_once(
    fresh_sandbox, tmp_path, store_location, monkeypatch
) -> None:
    sandbox, db = fresh_sandbox, store_location
    skus = stocked(kotis_client(sandbox), minimum=20)
    path = tmp_path / "orders.xlsx"
    rows = write_orders(path, [line(ref, skus[n % 3]["sku"], 1) for n, ref in enumerate(REFS)])
    sandbox.set_faults(latency_ms=150)  # every request takes a while: the kill lands between POSTs or during one
    command = [sys.executable, "-c", "from sheetsync.cli import main; main()", "kotis", "push", str(path), "--apply"]
    process = subprocess.Popen(
        command, env=_env(sandbox, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _kill_after_creates(sandbox, process, 3)
    assert process.returncode == -signal.SIGKILL
    time.sleep(0.5)  # a POST in flight at the kill is still processed by the server
    sandbox.set_faults(latency_ms=0)
    before = _orders_per_ref(sandbox)
    assert 3 <= sum(before.values()) < len(REFS) and max(before.values()) == 1

    for name, value in _env(sandbox, db).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    again = runner.invoke(cli, ["kotis", "push", str(path), "--apply"])
    after = _orders_per_ref(sandbox)
    assert max(after.values()) == 1  # never a second order for any OrderRef
    blocked = [ref for ref in REFS if f"blocked  {ref} " in again.output]
    assert len(blocked) <= 1  # at most the order in flight at the kill
    assert again.exit_code == (4 if blocked else 0), again.output  # 4: settle it with `kotis resolve`
    assert set(after) | set(blocked) == set(REFS)

    for ref in blocked:  # settle it as a person would: the candidates, then the order Kotis made (or none)
        listed = runner.invoke(cli, ["kotis", "resolve", ref])
        assert listed.exit_code == 0, listed.output
        made = [o.order_number for o in sandbox.app.kotis_kwf.data.orders.values() if o.order_id == ref]
        if made:
            assert made[0] in listed.output
            settle = runner.invoke(cli, ["kotis", "resolve", ref, "--order-num", made[0]])
        else:
            settle = runner.invoke(cli, ["kotis", "resolve", ref, "--not-created"])
        assert settle.exit_code == 0, settle.output
    final = runner.invoke(cli, ["kotis", "push", str(path), "--apply"])
    assert final.exit_code == 0, final.output
    assert _orders_per_ref(sandbox) == Counter({ref: 1 for ref in REFS})
    assert len(creates(sandbox)) == len(REFS)  # the sandbox received each order's POST exactly once
    shown = read_sheet(path)
    numbers = {o.order_id: o.order_number for o in sandbox.app.kotis_kwf.data.orders.values() if o.order_id in REFS}
    for ref in REFS:
        assert shown[rows[f"{ref}#0"]]["OrderNum"] == numbers[ref]
        assert shown[rows[f"{ref}#0"]]["Status"] == "created"
