"""The payments push on the state store from the command line, on both backends: the audit log,
approval, two processes pushing copies of one workbook, and a push killed with SIGKILL then re-run."""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers_push import HEADERS, accounts, client_for, posts, requests_for, sheet_rows, write_sheet

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.store import key_fingerprint

CLI = "from sheetsync.cli import main; main()"


@pytest.fixture
def env(fresh_sandbox, tmp_path, store_location, monkeypatch):
    key = fresh_sandbox.info.keys["employee"]
    for name, value in {
        "KSS_BASE_URL": fresh_sandbox.info.kss,
        "KSS_API_KEY": key,
        "SHEETSYNC_DB": store_location,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    a = accounts(client_for(fresh_sandbox), invoices=2, minimum=Decimal("40"))[0]
    return fresh_sandbox, key, a, tmp_path


REPEAT_HEADERS = [*HEADERS, "Repeat"]


def _rows(a, count: int) -> list[list]:
    pay = a.payments[0]["PaymentInvoiceNum"]
    rows = [[f"L-{i}", a.ar, pay, a.invoices[i % 2]["InvoiceNum"], 1 + i % 3 + i / 100] for i in range(count)]
    # identical rows without IDs, marked as deliberate repeats (Repeat: yes)
    rows.append([None, a.ar, pay, a.invoices[0]["InvoiceNum"], 0.5, None, None, None, None, "yes"])
    rows.append([None, a.ar, pay, a.invoices[0]["InvoiceNum"], 0.5, None, None, None, None, "yes"])
    return rows


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_payments_log_shows_every_intent_and_outcome_with_who_where_and_request(env, capsys) -> None:
    sandbox, key, a, tmp = env
    path = write_sheet(tmp / "alloc.xlsx", _rows(a, 2), REPEAT_HEADERS)
    applied = _run("payments", "push", str(path), "--apply")
    assert applied.exit_code == 0, applied.output
    assert len(posts(sandbox)) == 4
    shown = sheet_rows(path)

    as_json = _run("payments", "log", "--json")
    assert as_json.exit_code == 0, as_json.output
    events = json.loads(as_json.output)
    assert [e["action"] for e in events] == ["intent", "outcome"] * 4
    assert {e["user"] for e in events} == {getpass.getuser()}
    assert {e["key_fingerprint"] for e in events} == {key_fingerprint(key)}
    assert {e["source"] for e in events} == {str(path.resolve())}
    outcomes = {e["row"]: e for e in events if e["action"] == "outcome"}
    assert {n: int(e["request_id"]) for n, e in outcomes.items()} == {n: r["RequestID"] for n, r in shown.items()}
    assert all(e["state"] == "posted" and isinstance(e["request_id"], int) for e in outcomes.values())
    assert {e["request_id"] for e in events if e["action"] == "intent"} == {None}
    for e in events:  # every line says what it was about, as the sheet shows it
        row = shown[e["row"]]
        assert (e["ar_account"], e["payment"], e["target"]) == (a.ar, row["PaymentInvoiceNum"], row["TargetInvoiceNum"])
        assert Decimal(e["amount"]) == Decimal(str(row["Amount"]))

    as_csv = _run("payments", "log", "--csv")
    table = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [(r["action"], r["row"], r["request_id"], r["amount"]) for r in table] == [
        (e["action"], str(e["row"]), "" if e["request_id"] is None else str(e["request_id"]), e["amount"])
        for e in events
    ]
    text = _run("payments", "log")
    assert "intent" in text.output and str(shown[2]["RequestID"]) in text.output
    for result in (applied, as_json, as_csv, text):
        assert key not in result.output

    assert json.loads(_run("payments", "log", "--json", "--since", "2999-01-01").output) == []
    assert run_safely(cli, ["payments", "log", "--since", "yesterday"]) == 2
    assert "error: --since 'yesterday' is not a date" in capsys.readouterr().err


def _exit(capsys, *args: str) -> tuple[int, str]:
    """Run the command as the `sheetsync` program does: its exit code and what it printed on stderr."""
    code = run_safely(cli, list(args))
    return code, capsys.readouterr().err


def test_with_approval_required_only_an_approved_unchanged_plan_is_sent(env, capsys) -> None:
    sandbox, _, a, tmp = env
    (tmp / "sheetsync.toml").write_text("[payments]\nrequire_approval = true\n")
    path = write_sheet(tmp / "alloc.xlsx", _rows(a, 2), REPEAT_HEADERS)

    code, err = _exit(capsys, "payments", "push", str(path), "--apply")
    assert code == 2 and "need approval" in err and "nothing was sent" in err and err.count("\n") == 1
    assert posts(sandbox) == []

    approved = _run("payments", "approve", str(path))
    assert approved.exit_code == 0, approved.output
    assert "4 to post" in approved.output and "Approved by" in approved.output

    import openpyxl

    book = openpyxl.load_workbook(path)
    book["Allocations"].cell(2, 5).value = 2.5  # someone edits an amount after the approval
    book.save(path)
    code, err = _exit(capsys, "payments", "push", str(path), "--apply")
    assert code == 2 and "changed since" in err
    assert posts(sandbox) == []

    assert _run("payments", "approve", str(path)).exit_code == 0
    (tmp / "pusher").mkdir()  # the pusher works on a copy of the approved sheet, elsewhere
    copy = Path(shutil.copy(path, tmp / "pusher" / "alloc.xlsx"))
    pushed = _run("payments", "push", str(copy), "--apply")
    assert pushed.exit_code == 0, pushed.output
    assert len(posts(sandbox)) == 4
    log = json.loads(_run("payments", "log", "--json").output)
    assert [e["action"] for e in log].count("approve") == 2


def _spawn(path: Path, extra_env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CLI, "payments", "push", str(path), "--apply"],
        env={**os.environ, **extra_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_pushing_two_copies_of_one_workbook_post_each_row_once(env) -> None:
    sandbox, _, a, tmp = env
    client = client_for(sandbox)
    before = len(requests_for(client, a.ar))
    (tmp / "one").mkdir()
    (tmp / "two").mkdir()
    copies = [write_sheet(tmp / d / "alloc.xlsx", _rows(a, 6), REPEAT_HEADERS) for d in ("one", "two")]
    runs = [_spawn(p, {}) for p in copies]
    finished = [(r.wait(60), r.stderr.read() if r.stderr else "") for r in runs]
    for copy, (code, err) in zip(copies, finished, strict=True):
        if code != 0:  # refused while the other held the lock: a person runs it again
            assert "another payments push is running" in err, err
            assert _spawn(copy, {}).wait(60) == 0
    assert len(posts(sandbox)) == 8
    assert len(requests_for(client, a.ar)) == before + 8
    ids = [[r["RequestID"] for r in sheet_rows(p).values()] for p in copies]
    assert ids[0] == ids[1] and len(set(ids[0])) == 8 and all(isinstance(i, int) for i in ids[0])


def test_a_push_killed_mid_way_posts_every_row_exactly_once_when_run_again(env) -> None:
    sandbox, _, a, tmp = env
    client = client_for(sandbox)
    before = len(requests_for(client, a.ar))
    path = write_sheet(tmp / "alloc.xlsx", _rows(a, 10), REPEAT_HEADERS)
    sandbox.set_faults(latency_ms=150)
    run = _spawn(path, {})
    deadline = time.monotonic() + 60
    while len(posts(sandbox)) < 3 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.02)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    sent = len(posts(sandbox))
    assert 3 <= sent < 12, "the push was not killed mid-way"
    sandbox.set_faults(latency_ms=0)

    again = _spawn(path, {})
    assert again.wait(60) == 0, again.stderr.read() if again.stderr else ""
    assert len(requests_for(client, a.ar)) == before + 12  # one request per row, none twice
    shown = sheet_rows(path)
    assert len({r["RequestID"] for r in shown.values()}) == 12


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_apply_stops_after_the_request_in_flight_and_writes_every_outcome(env, stop) -> None:
    sandbox, _, a, tmp = env
    client = client_for(sandbox)
    before = len(requests_for(client, a.ar))
    path = write_sheet(tmp / "alloc.xlsx", _rows(a, 10), REPEAT_HEADERS)
    sandbox.set_faults(latency_ms=150)
    run = _spawn(path, {})
    deadline = time.monotonic() + 60
    while len(posts(sandbox)) < 3 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.02)
    run.send_signal(stop)
    out, err = run.communicate(timeout=60)
    sandbox.set_faults(latency_ms=0)
    assert run.returncode == 130, out + err
    assert "Traceback" not in err
    assert f"Stopped by {stop.name} after the request in flight" in out
    assert "Run the same command again" in out
    shown = sheet_rows(path)
    posted = [r for r in shown.values() if r["RequestID"] is not None]
    assert len(posted) == len(requests_for(client, a.ar)) - before  # every request sent is in the sheet
    assert 3 <= len(posted) < 12
    assert {r["Status"] for r in shown.values() if r["RequestID"] is None} == {"not sent"}

    again = _spawn(path, {})
    assert again.wait(60) == 0, again.stderr.read() if again.stderr else ""
    assert len(requests_for(client, a.ar)) == before + 12
