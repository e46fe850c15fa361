"""The scheduler against the sandbox, the Sheets double, a webhook receiver and an SMTP server.

Time is an injected clock: `run_due` is called once per simulated minute."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from local_servers import smtp_server, webhook_receiver
from sheets_double import SheetsDouble
from test_gsheets_auth import throwaway_service_account

from sheetsync.alerts import Alerter
from sheetsync.apis.kss import KssClient
from sheetsync.config import Settings
from sheetsync.connect import Connections
from sheetsync.mailer import SmtpSettings
from sheetsync.sandbox.server import SandboxOptions, start_sandbox
from sheetsync.schedule.history import MemoryState, RunRecord
from sheetsync.schedule.runner import Scheduler
from sheetsync.schedule.spec import parse_schedule
from sheetsync.schedule.store_state import StoreState
from sheetsync.sinks.gsheets import GoogleSheetSource, load_credentials, set_session_factory
from sheetsync.sinks.xlsx import XlsxSource
from sheetsync.store import open_store

SHEET_ID = "1SchedSheetAbCdEf"
TUESDAY = datetime(2026, 6, 2, 4, 0, tzinfo=UTC)  # 00:00 in New York


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@contextmanager
def no_sleep_connect(settings: Settings) -> Iterator[Connections]:
    """Connections whose KSS client retries without sleeping (a 500 fault fails in milliseconds)."""
    assert settings.kss_api_key and settings.cache_dir
    kss = KssClient(settings.kss_base, settings.kss_api_key, cache_dir=Path(settings.cache_dir), sleep=lambda s: None)
    yield Connections(settings, settings.kss_base, "employee", _kss=kss)


@pytest.fixture
def books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A working directory with a sandbox profile in sheetsync.toml, an out/ folder and the Sheets double."""
    with start_sandbox(options=SandboxOptions(rate_limit=10_000)) as sandbox:
        yield _books(tmp_path, monkeypatch, sandbox)


def _books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "sheetsync.toml").write_text(
        f'[profiles.sandbox.kss]\nbase_url = "{sandbox.info.kss}"\napi_key = "env:SANDBOX_KSS_KEY"\n'
    )
    monkeypatch.setenv("SANDBOX_KSS_KEY", sandbox.info.keys["employee"])
    monkeypatch.setenv("SHEETSYNC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SHEETSYNC_GOOGLE_CREDENTIALS", str(throwaway_service_account(tmp_path / "sa.json")))
    double = SheetsDouble()
    double.add_spreadsheet(SHEET_ID, tabs=("Notes",))
    set_session_factory(double.session)
    sandbox.double = double
    sandbox.dir = tmp_path
    return sandbox


@pytest.fixture(autouse=True)
def _reset_sheets() -> Iterator[None]:
    yield
    set_session_factory(None)


def scheduler(text: str, clock: Clock, state: Any = None, **kwargs: Any) -> Scheduler:
    schedule = parse_schedule(text, "schedule.yaml")
    state = state or MemoryState(clock)
    return Scheduler(schedule, state, clock=clock, connect=no_sleep_connect, **kwargs)


@pytest.fixture
def store_state(store_location: str) -> Iterator[StoreState]:
    """The scheduler's state in a real state store: a SQLite file, then a PostgreSQL database."""
    store = open_store(store_location)
    yield StoreState(store)
    store.close()


DAY = f"""\
timezone: America/New_York
jobs:
  - name: prices-xlsx
    report: price-list
    params: {{customer_ids: [1, 2]}}
    outputs: out/prices.xlsx
    cron: "0 */3 * * *"
    profile: sandbox
  - name: prices-sheet
    report: price-list
    params: {{customer_ids: [3]}}
    outputs: gsheet://{SHEET_ID}
    cron: "30 8,17 * * 1-5"
    profile: sandbox
  - name: aging-burst
    report: ar-aging
    params: {{customer_ids: [1, 2, 3], burst: true}}
    outputs: out/aging/
    cron: "45 6 * * *"
    profile: sandbox
"""


def local(run: RunRecord) -> str:
    assert run.slot is not None
    return run.slot.astimezone(ZONE).strftime("%H:%M")


ZONE = __import__("zoneinfo").ZoneInfo("America/New_York")


def test_a_simulated_day_runs_each_job_once_per_slot_and_records_its_costs(books, store_state) -> None:
    clock = Clock(TUESDAY)
    sched = scheduler(DAY, clock, store_state)
    started = []
    for _minute in range(24 * 60):
        started += sched.run_due()
        clock.tick(minutes=1)

    runs = sorted(sched.state.runs(), key=lambda r: r.started)
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
    assert [r.id for r in started] == [r.id for r in runs]
    by_job = {job: [r for r in runs if r.job == job] for job in ("prices-xlsx", "prices-sheet", "aging-burst")}
    assert [r.outcome for r in by_job["prices-xlsx"]] == ["ok"] + ["unchanged"] * 6  # the sandbox data stays put
    for run in runs:
        assert run.requests["kss"] > 0 and run.rows and run.error is None
        assert run.ended is not None and run.trigger == "schedule" and run.profile == "sandbox"
        if run.job != "prices-sheet":  # an unchanged xlsx refresh writes nothing
            assert (run.bytes_written > 0) == (run.outcome == "ok") == bool(run.outputs)
    assert by_job["prices-xlsx"][1].not_modified > 0  # the ETag cache answers the repeated queries
    # one read and one batchUpdate, then unchanged data: one metadata read and no write (issue 14)
    assert [r.sheets_calls for r in by_job["prices-sheet"]] == [2, 1]
    assert [r.outcome for r in by_job["prices-sheet"]] == ["ok", "unchanged"]  # the same data as its last run
    assert books.double.counts() == {"get": 2, "batchUpdate": 1}
    [burst] = by_job["aging-burst"]
    assert len(burst.outputs) == 3 and all(Path(p).parent.name == "aging" for p in burst.outputs)

    xlsx = XlsxSource(books.dir / "out" / "prices.xlsx")
    assert sorted(by_job["prices-xlsx"][0].rows) == sorted(f"price-list/{tab}" for tab in xlsx.tab_names())
    sheet = GoogleSheetSource(SHEET_ID, credentials=load_credentials(None))
    assert sheet.tab_names()[0] == "Notes" and len(sheet.tab_names()) == 2
    tab = sheet.tab_names()[1]
    assert len(sheet.read_rows(tab)) == by_job["prices-sheet"][0].rows[f"price-list/{tab}"]


def test_overlapping_runs_are_skipped_and_recorded(books, store_state) -> None:
    text = """\
jobs:
  - {name: a, report: price-list, params: {customer_ids: [1]}, outputs: out/shared.xlsx, cron: "0 * * * *",
     profile: sandbox}
  - {name: b, report: price-list, params: {customer_ids: [2]}, outputs: out/shared.xlsx, cron: "0 * * * *",
     profile: sandbox}
"""
    clock = Clock(TUESDAY)
    entered, release = threading.Event(), threading.Event()

    @contextmanager
    def slow_connect(settings: Settings) -> Iterator[Connections]:
        entered.set()
        release.wait(30)
        with no_sleep_connect(settings) as connections:
            yield connections

    sched = scheduler(text, clock, store_state)
    sched.run_due()  # first seen
    clock.tick(minutes=61)
    sched.connect = slow_connect
    manual = threading.Thread(target=sched.run_job, args=("a",))
    manual.start()
    assert entered.wait(10)
    sched.connect = no_sleep_connect
    try:
        due_runs = sched.run_due()  # a and b are due; a's run is still going
        again = sched.run_job("a")
    finally:
        release.set()
        manual.join(30)
    assert [(r.job, r.outcome) for r in due_runs] == [("a", "skipped"), ("b", "skipped")]
    assert due_runs[0].reason.startswith("job:a is held by")
    assert due_runs[1].reason.startswith("output:") and "shared.xlsx is held by" in due_runs[1].reason
    assert again.outcome == "skipped"
    assert sched.run_due() == []  # a skipped slot is not run again
    outcomes = sorted((r.job, r.trigger, r.outcome) for r in sched.state.runs())
    assert outcomes == [
        ("a", "manual", "ok"),
        ("a", "manual", "skipped"),
        ("a", "schedule", "skipped"),
        ("b", "schedule", "skipped"),
    ]
    clock.tick(hours=1)
    assert sorted((r.job, r.outcome) for r in sched.run_due()) == [("a", "unchanged"), ("b", "ok")]


def test_a_dead_holders_lock_expires_and_its_run_is_recorded_interrupted(books) -> None:
    text = """\
jobs:
  - {name: a, report: price-list, params: {customer_ids: [1]}, outputs: out/a.xlsx, cron: "0 * * * *",
     profile: sandbox, timeout_minutes: 30}
"""
    clock = Clock(TUESDAY)
    sched = scheduler(text, clock)
    dead = "ops@old-box pid 4242"
    sched.state.acquire(["job:a"], dead, timedelta(minutes=30))
    sched.state.save_run(RunRecord("a", "schedule", clock(), owner=dead))
    assert sched.run_job("a").outcome == "skipped"
    clock.tick(minutes=31)
    assert sched.run_job("a").outcome == "ok"
    interrupted = [r for r in sched.state.runs("a") if r.outcome == "interrupted"]
    assert len(interrupted) == 1 and dead in (interrupted[0].error or "")


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    with webhook_receiver() as hook, smtp_server(tmp_path, security="starttls") as smtp:
        yield hook, smtp


def test_a_failing_job_alerts_once_by_webhook_and_mail_and_leaves_the_output_untouched(books, receivers) -> None:
    hook, smtp = receivers
    text = f"""\
jobs:
  - name: prices
    report: price-list
    params: {{customer_ids: [1, 2]}}
    outputs: out/prices.xlsx
    cron: "*/10 * * * *"
    profile: sandbox
    alerts: {{on: [failure, recovery], webhook: "{hook.url}", email: [ops@example.com]}}
"""
    mail = SmtpSettings(smtp.host, smtp.port, "starttls", sender="sheetsync@example.com", ca_file=str(smtp.ca_file))
    clock = Clock(TUESDAY)
    sched = scheduler(text, clock, alerter=Alerter(mail))
    assert sched.run_job("prices").outcome == "ok"
    output = books.dir / "out" / "prices.xlsx"
    before = output.read_bytes()

    books.set_faults(fault_500_rate=1.0)
    sched.run_due()
    failed = [r for _ in range(3) for r in (clock.tick(minutes=10), sched.run_due())[1]]
    assert [r.outcome for r in failed] == ["failed"] * 3
    assert all(r.exit_code == 3 and "500" in (r.error or "") for r in failed)
    assert output.read_bytes() == before  # byte-identical: a failed run writes nothing

    assert len(hook.posts) == 1 and len(smtp.messages) == 1  # three failures, one alert
    post = hook.posts[0]
    assert post["sheetsync"]["event"] == "failure" and post["sheetsync"]["job"] == "prices"
    assert post["title"] == "sheetsync job prices failed (failed)" and post["@type"] == "MessageCard"
    assert "previous output was left as it was" in post["text"] and "500" in post["text"]
    [message] = smtp.messages
    assert message["Subject"] == "sheetsync job prices failed (failed)"
    assert message["To"] == "ops@example.com"
    assert "previous output was left as it was" in message.get_content()
    assert failed[0].alerts == ["failure: webhook http://127.0.0.1/…", "failure: mail ops@example.com"]

    books.set_faults(fault_500_rate=0.0)
    clock.tick(minutes=10)
    [recovered] = sched.run_due()
    assert recovered.outcome == "unchanged" and recovered.alerts[0].startswith("recovery: webhook")
    assert hook.posts[1]["sheetsync"]["event"] == "recovery" and len(smtp.messages) == 2


def test_an_alert_that_cannot_be_delivered_is_recorded_not_raised(books) -> None:
    text = """\
jobs:
  - {name: broken, report: price-list, params: {customer_ids: [1]}, outputs: out/b.xlsx, cron: "0 * * * *",
     profile: sandbox, alerts: {webhook: "http://127.0.0.1:9/hook/secret-part"}}
"""
    clock = Clock(TUESDAY)
    sched = scheduler(text, clock, alerter=Alerter(None))
    books.set_faults(fault_500_rate=1.0)
    run = sched.run_job("broken")
    assert run.outcome == "failed"
    assert run.alerts == ["failure: webhook http://127.0.0.1/… FAILED: webhook http://127.0.0.1/…: ConnectionError"]


def test_a_job_the_quota_cannot_cover_is_deferred_with_the_reason(tmp_path: Path, monkeypatch) -> None:
    text = """\
jobs:
  - {name: big, report: price-list, params: {customer_ids: [1, 2, 3]}, outputs: out/big.xlsx,
     cron: "*/5 * * * *", profile: sandbox}
"""
    with start_sandbox(options=SandboxOptions(rate_limit=14)) as sandbox:
        _books(tmp_path, monkeypatch, sandbox)
        now = datetime.now(UTC)  # the sandbox's quota window is real time: stay within its hour
        clock = Clock(now.replace(minute=now.minute - now.minute % 5, second=0) + timedelta(minutes=1))
        sched = scheduler(text, clock)
        first = sched.run_job("big")
        needed = first.requests["kss"]
        assert first.outcome == "ok" and first.quota_left == 14 - needed
        sched.run_due()
        clock.tick(minutes=5)
        second = sched.run_due()  # the quota left still covers one more run
        assert [r.outcome for r in second] == ["unchanged"]
        left = second[0].quota_left
        assert left is not None and left < needed
        sent = len(sandbox.requests_log())
        clock.tick(minutes=5)
        [deferred] = sched.run_due()
        assert deferred.outcome == "deferred"
        assert deferred.reason == f"needs about {needed} KSS requests (its recent runs), {left} left " + (
            f"(the API's rate limit, until {second[0].quota_reset.astimezone().strftime('%H:%M')})"
        )
        clock.tick(minutes=1)
        sched.run_due()  # still deferred: not recorded twice
        assert len(sandbox.requests_log()) == sent  # nothing was sent for the deferred job
        assert [r.outcome for r in sched.state.runs("big")] == ["deferred", "unchanged", "ok"]


def test_the_client_budget_defers_too(books) -> None:
    with open("sheetsync.toml", "a") as toml:
        toml.write("requests_per_hour = 6\n")
    text = """\
jobs:
  - {name: p, report: price-list, params: {customer_ids: [1, 2]}, outputs: out/p.xlsx, cron: "*/5 * * * *",
     profile: sandbox}
"""
    clock = Clock(TUESDAY)
    sched = scheduler(text, clock)
    first = sched.run_job("p")
    assert 3 < first.requests["kss"] <= 6
    sched.run_due()
    clock.tick(minutes=5)
    [deferred] = sched.run_due()
    assert deferred.outcome == "deferred" and "the budget of 6 requests/hour" in (deferred.reason or "")
    clock.tick(minutes=60)
    assert [r.outcome for r in sched.run_due()] == ["unchanged"]


def test_history_shows_every_run_with_its_costs_and_no_secret(books, receivers, store_state) -> None:
    hook, _ = receivers
    text = f"""\
jobs:
  - {{name: p, report: price-list, params: {{customer_ids: [1]}}, outputs: [out/p.xlsx, "gsheet://{SHEET_ID}"],
     cron: "0 * * * *", profile: sandbox, alerts: {{on: [changed], webhook: "{hook.url}"}}}}
"""
    clock = Clock(TUESDAY)
    sched = scheduler(text, clock, store_state, alerter=Alerter(None))
    sched.run_job("p")
    books.set_faults(fault_500_rate=1.0)
    clock.tick(minutes=1)
    sched.run_job("p")
    history = json.dumps([r.to_json() for r in sched.state.runs()])
    ok, failed = sorted(sched.state.runs(), key=lambda r: r.started)
    assert ok.sheets_calls == 2 and ok.requests["kss"] > 0 and ok.bytes_written > 0 and ok.rows
    assert failed.outcome == "failed" and failed.error
    assert failed.requests["kss"] > 0  # what a failed run spent counts too (history, quota)
    secrets = [books.info.keys["employee"], "s3cr3tw3bh00k", "PRIVATE KEY", "fake-access-token"]
    assert [s for s in secrets if s in history] == []


def test_missing_requested_data_is_partial_and_alerts_when_the_policy_asks(books, receivers) -> None:
    hook, _ = receivers
    text = f"""\
jobs:
  - {{name: p, report: price-list, params: {{customer_ids: [1, 999999]}}, outputs: out/p.xlsx,
     cron: "0 * * * *", profile: sandbox, alerts: {{on: [partial], webhook: "{hook.url}"}}}}
  - {{name: quiet, report: price-list, params: {{customer_ids: [999999, 2]}}, outputs: out/q.xlsx,
     cron: "0 * * * *", profile: sandbox}}
"""
    sched = scheduler(text, Clock(TUESDAY), alerter=Alerter(None))
    run, quiet = sched.run_job("p"), sched.run_job("quiet")
    assert (run.outcome, run.exit_code, quiet.outcome) == ("partial", 1, "partial")
    assert {w["code"] for w in run.warnings} == {"id-not-returned"}
    assert any(w["subject"] == "CustomerID=999999" for w in run.warnings)
    assert (books.dir / "out" / "p.xlsx").exists()  # partial data is written, and said to be partial
    [post] = hook.posts  # only the job whose policy asks for partial alerts
    assert post["sheetsync"]["event"] == "partial" and "CustomerID 999999 was not returned" in post["text"]
    assert run.alerts == ["partial: webhook http://127.0.0.1/…"] and quiet.alerts == []


TWO_JOBS = """\
jobs:
  - {name: one, report: price-list, params: {customer_ids: [1]}, outputs: out/one.xlsx, cron: "0 * * * *",
     profile: sandbox}
  - {name: two, report: price-list, params: {customer_ids: [2]}, outputs: out/two.xlsx, cron: "0 * * * *",
     profile: sandbox}
"""


def test_jobs_run_at_once_with_jobs_n(books) -> None:
    barrier = threading.Barrier(2, timeout=90)  # generous: a loaded 2-core CI machine starts threads late

    @contextmanager
    def together(settings: Settings) -> Iterator[Connections]:
        barrier.wait()  # both jobs must be inside their run at the same time
        with no_sleep_connect(settings) as connections:
            yield connections

    clock = Clock(TUESDAY)
    sched = scheduler(TWO_JOBS, clock)
    sched.connect = together
    sched.run_due()
    clock.tick(hours=1)
    runs = sched.run_due(jobs=2)
    assert [(r.job, r.outcome) for r in runs] == [("one", "ok"), ("two", "ok")], [r.error for r in runs]


def test_jobs_run_at_once_share_the_quota_left(books) -> None:
    clock = Clock(TUESDAY)
    sched = scheduler(TWO_JOBS, clock)
    sched.run_due()
    clock.tick(hours=1)
    for job in ("one", "two"):  # each needed 5 requests last time; the API said 7 were left
        earlier = RunRecord(job, "schedule", clock() - timedelta(minutes=30), profile="sandbox", outcome="ok")
        earlier.ended, earlier.requests = earlier.started, {"kss": 5}
        earlier.quota_left, earlier.quota_reset = 7, clock() + timedelta(minutes=30)
        sched.state.save_run(earlier)
    runs = sched.run_due(jobs=2)
    assert sorted(r.outcome for r in runs) == ["deferred", "ok"]
    [deferred] = [r for r in runs if r.outcome == "deferred"]
    assert deferred.reason is not None and deferred.reason.startswith(
        "needs about 5 KSS requests (its recent runs), 2 left"
    )


def test_changed_data_alerts_when_the_policy_asks(books, receivers) -> None:
    hook, _ = receivers

    def schedule(customers: str) -> str:
        return f"""\
jobs:
  - {{name: p, report: price-list, params: {{customer_ids: [{customers}]}}, outputs: out/p.xlsx,
     cron: "0 * * * *", profile: sandbox, alerts: {{on: [changed], webhook: "{hook.url}"}}}}
"""

    clock = Clock(TUESDAY)
    state = MemoryState(clock)
    first = scheduler(schedule("1"), clock, state, alerter=Alerter(None)).run_job("p")
    clock.tick(minutes=1)
    same = scheduler(schedule("1"), clock, state, alerter=Alerter(None)).run_job("p")
    assert (first.outcome, same.outcome, hook.posts) == ("ok", "unchanged", [])  # nothing new: no alert
    clock.tick(minutes=1)
    more = scheduler(schedule("1, 2"), clock, state, alerter=Alerter(None)).run_job("p")  # the data now differs
    assert more.outcome == "ok" and more.alerts == ["changed: webhook http://127.0.0.1/…"]
    [post] = hook.posts
    assert post["sheetsync"]["event"] == "changed" and post["title"] == "sheetsync job p wrote changed data"
