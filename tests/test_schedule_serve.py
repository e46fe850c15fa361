"""`sheetsync schedule serve`: the in-process runner over a simulated day, stopped by signals, health checks."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_schedule_runner import DAY, TUESDAY, Clock, _books, local, scheduler

from sheetsync.sandbox.server import SandboxOptions, start_sandbox
from sheetsync.schedule.history import MemoryState, RunRecord
from sheetsync.schedule.serve import HealthServer, ServeLoop, run_summary
from sheetsync.schedule.store_state import StoreState
from sheetsync.sinks.gsheets import set_session_factory
from sheetsync.store import open_store


@pytest.fixture
def books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with start_sandbox(options=SandboxOptions(rate_limit=10_000)) as sandbox:
        yield _books(tmp_path, monkeypatch, sandbox)
    set_session_factory(None)


def test_serve_keeps_three_jobs_fresh_over_a_simulated_day(books) -> None:
    clock = Clock(TUESDAY + timedelta(seconds=20))  # started mid-minute: the first wait ends on the minute
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        clock.tick(seconds=seconds)

    events: list[dict[str, Any]] = []
    loop = ServeLoop(scheduler(DAY, clock), wait=wait, log=events.append)
    assert loop.serve(until=TUESDAY + timedelta(days=1)) == 0

    assert waits[0] == 40 and set(waits[1:]) == {60} and len(waits) == 24 * 60
    runs = sorted(loop.scheduler.state.runs(), key=lambda r: r.started)
    assert [(r.job, local(r)) for r in runs] == [
        ("prices-xlsx", "03:00"),
        ("prices-xlsx", "06:00"),
        ("aging-burst", "06:45"),
        ("prices-sheet", "08:30"),
        ("prices-xlsx", "09:00"),
        ("prices-xlsx", "12:00"),
        ("prices-xlsx", "15:00"),
        ("prices-sheet", "17:30"),
        ("prices-xlsx", "18:00"),
        ("prices-xlsx", "21:00"),
    ]
    assert all(r.outcome in ("ok", "unchanged") for r in runs)
    logged = [e for e in events if e["event"] == "run"]
    assert [(e["job"], e["outcome"]) for e in logged] == [(r.job, r.outcome) for r in runs]
    assert (books.dir / "out" / "prices.xlsx").exists() and len(list((books.dir / "out" / "aging").iterdir())) == 3
    assert events[0]["event"] == "serve_started" and events[-1] == {
        "event": "serve_stopped",
        "signal": None,
        "exit_code": 0,
    }


def test_a_partial_run_logs_why() -> None:
    run = RunRecord("prices", "schedule", TUESDAY, outcome="partial", exit_code=1)
    run.warnings = [{"code": "snapshot", "message": "snapshot: the report has no tab 'Summary'", "subject": "Summary"}]
    assert run_summary(run)["warnings"] == run.warnings


def test_a_missed_window_is_caught_up_once_on_start(books) -> None:
    clock = Clock(TUESDAY)
    state = MemoryState(clock)
    state.set_handled_until("prices-xlsx", TUESDAY - timedelta(days=2))  # the container was down for two days
    loop = ServeLoop(scheduler(DAY, clock, state), wait=lambda s: clock.tick(seconds=s))
    loop.serve(until=TUESDAY + timedelta(minutes=5))
    assert [(r.job, r.slot) for r in state.runs()] == [("prices-xlsx", TUESDAY)]  # 00:00, once


def test_a_busy_health_port_is_a_one_line_usage_error(books) -> None:
    from sheetsync.errors import ConfigError, ExitCode

    loop = ServeLoop(scheduler(DAY, Clock(TUESDAY)))
    with HealthServer(loop, lambda: None, 0) as health, pytest.raises(ConfigError, match="cannot listen") as caught:
        HealthServer(loop, lambda: None, health.port)
    assert caught.value.exit_code == ExitCode.USAGE


def test_health_answers_alive_and_ready_only_when_the_store_answers_and_the_loop_ticks(books) -> None:
    clock = Clock(TUESDAY)
    loop = ServeLoop(scheduler(DAY, clock), wait=lambda s: clock.tick(seconds=s))
    store_up = True

    def probe() -> None:
        if not store_up:
            raise ConnectionRefusedError("postgresql://sheetsync:s3cret@db/books")

    with HealthServer(loop, probe, 0) as health:
        url = f"http://127.0.0.1:{health.port}"
        assert get(url + "/healthz") == (200, {"status": "alive"})
        assert get(url + "/readyz")[0] == 503  # no tick yet
        loop.tick()
        assert get(url + "/readyz") == (200, {"status": "ready", "store": "ok", "loop": "last tick 0 s ago"})
        clock.tick(minutes=10)
        status, body = get(url + "/readyz")
        assert status == 503 and body["loop"] == "last tick 600 s ago"
        loop.tick()
        store_up = False
        status, body = get(url + "/readyz")
        assert status == 503 and body["store"] == "unreachable: ConnectionRefusedError" and "s3cret" not in str(body)
        assert get(url + "/nope")[0] == 404
        store_up = True
        loop.stopping = True  # a stop has begun (SIGTERM): an orchestrator must stop routing here
        assert get(url + "/readyz") == (503, {"status": "not ready", "store": "ok", "loop": "stopping"})
        assert get(url + "/healthz") == (200, {"status": "alive"})


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# ---- the real command, in a subprocess

SCHEDULE = """\
jobs:
  - name: prices
    report: price-list
    params: {customer_ids: [1, 2]}
    outputs: out/prices.xlsx
    cron: "* * * * *"
    profile: sandbox
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with start_sandbox(options=SandboxOptions()) as sandbox:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "out").mkdir()
        (tmp_path / "schedule.yaml").write_text(SCHEDULE)
        (tmp_path / "sheetsync.toml").write_text(
            f'[profiles.sandbox.kss]\nbase_url = "{sandbox.info.kss}"\napi_key = "{sandbox.info.keys["employee"]}"\n'
        )
        monkeypatch.setenv("SHEETSYNC_DB", str(tmp_path / "state.sqlite3"))
        monkeypatch.setenv("SHEETSYNC_CACHE_DIR", str(tmp_path / "cache"))
        state = StoreState(open_store(str(tmp_path / "state.sqlite3")))
        state.set_handled_until("prices", datetime.now(UTC) - timedelta(hours=1))  # due at the first tick
        state.store.close()
        sandbox.dir = tmp_path
        yield sandbox


def start_serve(*options: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from sheetsync.cli import main; main()", "schedule", "serve", *options]
    return subprocess.Popen(command, stderr=subprocess.PIPE, text=True)


def read_events(process: subprocess.Popen[str], until: str) -> list[dict[str, Any]]:
    assert process.stderr is not None
    events = []
    for line in process.stderr:
        events.append(json.loads(line))  # every line is one JSON object
        if until in line:
            return events
    raise AssertionError(f"the process ended before {until!r}: {events}")


def history(workdir: Any) -> list[dict[str, Any]]:
    state = StoreState(open_store(str(workdir.dir / "state.sqlite3")))
    try:
        return [r.to_json() for r in state.runs("prices")]
    finally:
        state.store.close()


def test_sigterm_mid_job_past_the_grace_period_records_it_interrupted_outputs_untouched(workdir) -> None:
    workdir.set_faults(latency_ms=3000)
    process = start_serve("--log-format", "json", "--grace", "0.5", "--health-port", "0")
    try:
        events = read_events(process, "prices: started")
        [health] = [e for e in events if e["event"] == "health"]
        assert get(health["url"]) == (200, {"status": "alive"})
        assert get(health["url"].replace("healthz", "readyz"))[1]["loop"] == "running a job"
        process.send_signal(signal.SIGTERM)
        events = read_events(process, "serve_stopped")
        assert process.wait(30) == 128 + signal.SIGTERM
    finally:
        process.kill()
    assert events[0]["event"] == "stopping" and events[0]["grace_seconds"] == 0.5
    assert "time" in events[-1] and events[-1]["exit_code"] == 128 + signal.SIGTERM
    [run] = history(workdir)
    assert run["outcome"] == "interrupted" and "stopped" in run["error"]
    [run_event] = [e for e in events if e["event"] == "run"]  # a log pipeline sees the interrupted run too
    assert run_event["id"] == run["id"] and run_event["outcome"] == "interrupted" and "stopped" in run_event["error"]
    assert not (workdir.dir / "out" / "prices.xlsx").exists()


def test_sigterm_mid_job_within_the_grace_period_lets_it_finish(workdir) -> None:
    workdir.set_faults(latency_ms=300)
    process = start_serve("--log-format", "json", "--grace", "60")
    try:
        read_events(process, "prices: started")
        process.send_signal(signal.SIGTERM)
        events = read_events(process, "serve_stopped")
        assert process.wait(60) == 0
    finally:
        process.kill()
    [run_event] = [e for e in events if e["event"] == "run"]
    [run] = history(workdir)
    assert run["outcome"] == run_event["outcome"] == "ok" and run_event["id"] == run["id"]
    assert (workdir.dir / "out" / "prices.xlsx").exists()


def test_sigint_when_idle_stops_at_once(workdir) -> None:
    state = StoreState(open_store(str(workdir.dir / "state.sqlite3")))
    state.set_handled_until("prices", datetime.now(UTC) + timedelta(hours=1))  # nothing due for a while
    state.store.close()
    process = start_serve("--log-format", "json")
    try:
        read_events(process, "serve_started")
        process.send_signal(signal.SIGINT)
        events = read_events(process, "serve_stopped")
        assert process.wait(10) == 0
    finally:
        process.kill()
    assert events[-1]["signal"] == signal.SIGINT and history(workdir) == []


# ---- a stop while the job waits on an HTTP answer (a stalled API: it accepts and never answers)


@pytest.fixture
def stalled(workdir: Any) -> Iterator[Any]:
    """The workdir with KSS pointed at a socket that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/kss/api/v1"
        key = workdir.info.keys["employee"]
        (workdir.dir / "sheetsync.toml").write_text(f'[profiles.sandbox.kss]\nbase_url = "{url}"\napi_key = "{key}"\n')
        yield workdir


def stop_and_time(process: subprocess.Popen[str], *signals: signal.Signals) -> tuple[int, float, list[Any]]:
    """Send the signals (the next one once the previous was logged); the exit code, the seconds from the
    last signal to the exit, and the events logged meanwhile."""
    events: list[Any] = []
    for signum in signals:
        process.send_signal(signum)
        started = time.monotonic()
        events += read_events(process, "stopping")
    code = process.wait(15)  # the stalled request's timeout is 30 s, its retries longer
    return code, time.monotonic() - started, events + read_rest(process)


def read_rest(process: subprocess.Popen[str]) -> list[Any]:
    assert process.stderr is not None
    return [json.loads(line) for line in process.stderr]


def test_the_grace_period_is_enforced_while_a_request_is_in_flight(stalled) -> None:
    process = start_serve("--log-format", "json", "--grace", "1")
    try:
        read_events(process, "prices: started")
        time.sleep(0.5)  # the request is sent and waits
        code, seconds, events = stop_and_time(process, signal.SIGTERM)
    finally:
        process.kill()
    assert code == 128 + signal.SIGTERM and seconds < 1 + 2 + 3  # grace, the watchdog's 2 s, slack
    assert [e["event"] for e in events if e["event"].startswith(("stopping", "serve_stopped"))] == [
        "stopping",
        "stopping_now",
        "serve_stopped",
    ]
    [run] = history(stalled)
    assert run["outcome"] == "interrupted" and "stopped" in run["error"] and run["exit_code"] == 130
    assert list((stalled.dir / "out").iterdir()) == []  # nothing written, not even a temporary file


def test_a_second_signal_stops_at_once_even_with_a_request_in_flight(stalled) -> None:
    process = start_serve("--log-format", "json", "--grace", "600")
    try:
        read_events(process, "prices: started")
        time.sleep(0.5)
        code, seconds, events = stop_and_time(process, signal.SIGTERM, signal.SIGINT)
    finally:
        process.kill()
    assert code == 128 + signal.SIGINT and seconds < 2 + 3
    [now] = [e for e in events if e["event"] == "stopping_now"]
    assert now["reason"] == "second signal"
    assert events[-1]["event"] == "serve_stopped" and events[-1]["signal"] == signal.SIGINT  # the signal that ended it
    [run] = history(stalled)
    assert run["outcome"] == "interrupted"
    [run_event] = [e for e in events if e["event"] == "run"]  # logged by the watchdog before the process ends
    assert run_event["id"] == run["id"] and run_event["outcome"] == "interrupted"
    assert list((stalled.dir / "out").iterdir()) == []


def test_after_a_stop_no_new_job_starts(books) -> None:
    clock = Clock(TUESDAY)
    sched = scheduler(DAY, clock)
    loop = ServeLoop(sched)
    sched.due()  # the jobs are seen: due from their next slots
    sched.stop.set()  # what the first signal does
    clock.tick(hours=6, minutes=45)
    assert loop.tick() == [] and sched.state.runs() == []
    assert [job.name for job, _ in sched.due()] == ["prices-xlsx", "aging-burst"]  # still due at the next start


def test_jobs_running_in_threads_are_stopped_too(stalled) -> None:
    two = SCHEDULE + SCHEDULE.replace("- name: prices", "- name: prices-b").replace("prices.xlsx", "b.xlsx").replace(
        "jobs:\n", ""
    )
    (stalled.dir / "schedule.yaml").write_text(two)
    state = StoreState(open_store(str(stalled.dir / "state.sqlite3")))
    state.set_handled_until("prices-b", datetime.now(UTC) - timedelta(hours=1))
    state.store.close()
    process = start_serve("--log-format", "json", "--grace", "1", "--jobs", "2")
    try:
        read_events(process, "prices: started")
        time.sleep(1)  # both threads wait on their request
        code, seconds, _ = stop_and_time(process, signal.SIGTERM)
    finally:
        process.kill()
    assert code == 128 + signal.SIGTERM and seconds < 1 + 2 + 3
    state = StoreState(open_store(str(stalled.dir / "state.sqlite3")))
    try:
        assert sorted((r.job, r.outcome) for r in state.runs()) == [
            ("prices", "interrupted"),
            ("prices-b", "interrupted"),
        ]
        assert state.running() == []
    finally:
        state.store.close()
    assert list((stalled.dir / "out").iterdir()) == []
