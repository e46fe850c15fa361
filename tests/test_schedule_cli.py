"""`sheetsync schedule ...` end to end: a sandbox profile, the state store on disk, real exit codes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.sandbox.server import SandboxOptions, start_sandbox
from sheetsync.schedule.runner import Scheduler
from sheetsync.schedule.spec import parse_schedule
from sheetsync.schedule.store_state import StoreState
from sheetsync.store import open_store

SCHEDULE = """\
timezone: America/Chicago
jobs:
  - name: prices
    report: price-list
    params: {customer_ids: [1, 2]}
    outputs: out/prices.xlsx
    cron: "0 6 * * 1-5"
    profile: sandbox
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with start_sandbox(options=SandboxOptions()) as sandbox:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "out").mkdir()
        (tmp_path / "schedule.yaml").write_text(SCHEDULE)
        (tmp_path / "sheetsync.toml").write_text(
            f'[profiles.sandbox.kss]\nbase_url = "{sandbox.info.kss}"\napi_key = "{sandbox.info.keys["employee"]}"\n'
        )
        monkeypatch.setenv("SHEETSYNC_DB", str(tmp_path / "state.sqlite3"))
        sandbox.dir = tmp_path
        yield sandbox


def sheetsync(capsys, *args: str) -> tuple[int, str, str]:
    code = run_safely(cli, list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_list_history_and_run_due(workdir, capsys) -> None:
    code, out, err = sheetsync(capsys, "schedule", "check")
    assert (code, out.strip()) == (0, "ok: schedule.yaml: 1 job(s): prices")

    code, out, err = sheetsync(capsys, "schedule", "run", "prices", "--json")
    assert code == 0
    [run] = json.loads(out)
    assert run["outcome"] == "ok" and run["trigger"] == "manual" and run["requests"]["kss"] > 0
    assert (workdir.dir / "out" / "prices.xlsx").stat().st_size == run["bytes_written"]
    assert err.splitlines()[0] == "prices: started (manual)"
    assert err.splitlines()[1].startswith("prices: ok; in ")

    code, out, err = sheetsync(capsys, "schedule", "list")
    assert code == 0 and out.startswith("prices") and "0 6 * * 1-5" in out and "last ok in" in out
    assert ("-05:00" in out) or ("-06:00" in out)  # the next run is shown in the job's zone
    code, out, _ = sheetsync(capsys, "schedule", "list", "--json")
    [row] = json.loads(out)
    assert row["timezone"] == "America/Chicago" and row["last_outcome"] == "ok"

    code, out, err = sheetsync(capsys, "schedule", "run-due", "--json")
    assert (code, json.loads(out)) == (0, [])  # first seen: due from its next slot on

    code, out, _ = sheetsync(capsys, "schedule", "history", "--json")
    [again] = json.loads(out)
    assert again["id"] == run["id"] and again["rows"] == run["rows"]
    code, out, _ = sheetsync(capsys, "schedule", "history", "prices")
    assert "prices" in out and " ok " in out and "kss=" in out and f"bytes={run['bytes_written']}" in out
    assert workdir.info.keys["employee"] not in out


def test_a_failed_run_exits_with_its_code_and_a_bad_schedule_with_2(workdir, capsys) -> None:
    toml = workdir.dir / "sheetsync.toml"
    toml.write_text(toml.read_text().replace(workdir.info.keys["employee"], "not-the-key"))
    code, _, err = sheetsync(capsys, "schedule", "run", "prices")
    assert code == 3 and "prices: failed" in err and "401" in err and "not-the-key" not in err
    assert not (workdir.dir / "out" / "prices.xlsx").exists()

    code, _, err = sheetsync(capsys, "schedule", "run", "prics")
    assert code == 2 and err.strip().startswith("error: no job 'prics' in schedule.yaml (did you mean 'prices'?)")
    (workdir.dir / "schedule.yaml").write_text(SCHEDULE.replace("cron:", "cronn:"))
    code, _, err = sheetsync(capsys, "schedule", "run-due")
    assert code == 2 and err.strip() == ("error: schedule.yaml:7: jobs[0]: unknown key 'cronn' (did you mean 'cron'?)")


HOLD_AND_DIE = """
import sys, time
from datetime import UTC, datetime, timedelta
from sheetsync.schedule.history import RunRecord
from sheetsync.schedule.store_state import StoreState
from sheetsync.store import open_store

state = StoreState(open_store(sys.argv[1]))
lease = state.acquire(["job:prices"], state.owner, timedelta(hours=1))
assert not isinstance(lease, str)
state.save_run(RunRecord("prices", "schedule", datetime.now(UTC), owner=state.owner))
print("holding", flush=True)
time.sleep(120)
"""


def test_a_killed_run_frees_its_lock_and_is_recorded_interrupted(workdir, store_location) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_AND_DIE), store_location], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        store = open_store(store_location)
        state = StoreState(store)
        scheduler = Scheduler(parse_schedule(SCHEDULE, "schedule.yaml"), state)
        skipped = scheduler.run_job("prices")
        assert skipped.outcome == "skipped" and f"pid {holder.pid}" in (skipped.reason or "")
    finally:
        holder.kill()
        holder.wait(10)
    deadline = time.monotonic() + 15  # PostgreSQL frees a session's locks once it sees the connection gone
    while state.lock_owner("job:prices") is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    run = scheduler.run_job("prices")
    assert run.outcome == "ok"
    outcomes = [(r.outcome, r.owner.endswith(f"pid {holder.pid}")) for r in state.runs("prices")]
    assert outcomes == [("ok", False), ("skipped", False), ("interrupted", True)]  # newest first
    assert state.running() == []
    store.close()


def test_history_is_shared_through_the_store(workdir, store_location, capsys) -> None:
    store = open_store(store_location)
    scheduler = Scheduler(parse_schedule(SCHEDULE, "schedule.yaml"), StoreState(store))
    scheduler.run_job("prices")
    store.close()
    other = StoreState(open_store(store_location))  # another process, or another machine on PostgreSQL
    [run] = other.runs("prices")
    assert run.outcome == "ok" and run.started > datetime.now(UTC) - timedelta(minutes=5)
    other.store.close()


def test_run_due_from_the_command_line_runs_what_is_due(workdir, capsys) -> None:
    state = StoreState(open_store(str(workdir.dir / "state.sqlite3")))
    state.set_handled_until("prices", datetime(2026, 1, 5, 12, 0, tzinfo=UTC))  # weeks of missed slots
    state.store.close()
    code, out, err = sheetsync(capsys, "schedule", "run-due", "--json")
    [run] = json.loads(out)
    assert code == 0 and run["outcome"] == "ok" and run["trigger"] == "schedule"
    assert run["slot"] > "2026-01-06"  # the latest missed slot, once
    code, out, err = sheetsync(capsys, "schedule", "run-due")
    assert (code, out, err.strip()) == (0, "", "nothing due")


def test_sigterm_mid_run_is_recorded_interrupted_and_frees_the_locks(workdir, capsys) -> None:
    workdir.set_faults(latency_ms=3000)
    command = [sys.executable, "-c", "from sheetsync.cli import main; main()", "schedule", "run", "prices"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None and process.stderr.readline().strip() == "prices: started (manual)"
        time.sleep(0.5)
        process.terminate()
        assert process.wait(30) == 128 + 15
    finally:
        process.kill()
    workdir.set_faults(latency_ms=0)
    code, out, _ = sheetsync(capsys, "schedule", "history", "--json")
    [run] = json.loads(out)
    assert run["outcome"] == "interrupted" and "stopped" in run["error"]
    assert not (workdir.dir / "out" / "prices.xlsx").exists()
    code, out, _ = sheetsync(capsys, "schedule", "run", "prices", "--json")
    assert code == 0 and json.loads(out)[0]["outcome"] == "ok"  # its locks were freed


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_mid_request_ends_run_at_once_recorded_interrupted(workdir, capsys, signum: int) -> None:
    with socket.socket() as stalled:  # accepts connections, never answers (the client's timeout is 30 s)
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(64)
        url = f"http://127.0.0.1:{stalled.getsockname()[1]}/kss/api/v1"
        (workdir.dir / "sheetsync.toml").write_text(f'[profiles.sandbox.kss]\nbase_url = "{url}"\napi_key = "k"\n')
        command = [sys.executable, "-c", _WITH_SIGINT, "schedule", "run", "prices"]
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            assert process.stderr is not None and process.stderr.readline().strip() == "prices: started (manual)"
            time.sleep(0.5)
            process.send_signal(signum)
            started = time.monotonic()
            assert process.wait(15) == 128 + signum
            seconds = time.monotonic() - started
        finally:
            process.kill()
    assert seconds < 2 + 3  # the watchdog's 2 s and slack
    assert "Interrupted." in process.stderr.read()
    _, out, _ = sheetsync(capsys, "schedule", "history", "--json")
    [run] = json.loads(out)
    assert run["outcome"] == "interrupted" and run["exit_code"] == 130
    assert list((workdir.dir / "out").iterdir()) == []


_WITH_SIGINT = (  # a background process starts with SIGINT ignored: the default handler, as in a terminal
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); from sheetsync.cli import main; main()"
)


def test_a_skipped_run_is_one_line_and_exit_0_unless_asked(workdir, capsys) -> None:
    location = str(workdir.dir / "state.sqlite3")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_AND_DIE), location], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        code, out, err = sheetsync(capsys, "schedule", "run", "prices")
        assert (code, out) == (0, "") and err.startswith("prices: skipped; job:prices is held by ")
        assert f"pid {holder.pid}" in err and len(err.strip().splitlines()) == 1
        code, _, err = sheetsync(capsys, "schedule", "run", "prices", "--fail-on-skip")
        assert code == 1 and "prices: skipped" in err
    finally:
        holder.kill()
        holder.wait(10)
    assert not (workdir.dir / "out" / "prices.xlsx").exists()


def test_a_missing_parameter_names_the_job_and_the_key_in_the_schedule_file(workdir, capsys) -> None:
    (workdir.dir / "schedule.yaml").write_text(SCHEDULE.replace("    params: {customer_ids: [1, 2]}\n", ""))
    for command in (["check"], ["run", "prices"], ["run-due"], ["list"]):
        code, out, err = sheetsync(capsys, "schedule", *command)
        assert code == 2 and out == "", command
        assert err.startswith("error: schedule.yaml:3: job prices: report price-list needs parameter customer_ids")
        assert "under the job's params in the schedule file" in err and "-p" not in err, err
