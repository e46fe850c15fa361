"""Running jobs: what is due, once, never two at once, every run recorded, people told on failure.

    scheduler = Scheduler(load_schedule("schedule.yaml"), state)
    scheduler.run_due()            # the jobs due now, one after another (jobs=N: N at once)
    scheduler.run_job("prices")    # one job now, whatever its schedule

A run takes the lock `job:NAME` and one `output:...` lock per output, all or none; a run that finds
one taken is recorded as `skipped`. Locks expire after the job's `timeout_minutes`, so a killed
process does not block the job for ever; its run, still `running` with no live lock, is then
recorded as `interrupted`. Before a scheduled run, the KSS quota left (the RateLimit headers of the
profile's latest run, and the client-side requests_per_hour budget) is compared with the job's
expected requests (the most its last runs needed): a job that would not fit is `deferred` with the
reason, and tried again at the next `run-due` (recorded once per slot).

Outcomes: ok, unchanged (the same data as before: the xlsx refresh wrote nothing, or for Google Sheets the
same data as the job's previous run), partial (written, but a warning says requested data is missing),
failed (nothing written, or the error says what was), skipped, deferred, interrupted.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sheetsync.config import Settings, load_settings
from sheetsync.errors import ExitCode, RateLimitedError, SheetsyncError
from sheetsync.schedule.history import Lease, RunRecord, ScheduleState
from sheetsync.schedule.spec import Schedule, ScheduledJob
from sheetsync.schedule.tasks import Connector, TaskEnv, TaskResult, default_connect, task_for
from sheetsync.schedule.timing import due_slot

COMPLETED = ("ok", "unchanged", "partial", "failed", "interrupted")  # runs that tell how a job is doing
RECENT_RUNS = 5  # expected requests: the most of this many recent completed runs
STOPPED = "the run was stopped (signal or Ctrl-C)"


def utc_now() -> datetime:
    return datetime.now(UTC)


def process_owner() -> str:
    return f"{os.environ.get('USER') or 'uid ' + str(os.getuid())}@{socket.gethostname()} pid {os.getpid()}"


@dataclass
class Scheduler:
    """Runs the jobs of a schedule against a ScheduleState. Every outside dependency is injectable."""

    schedule: Schedule
    state: ScheduleState
    clock: Callable[[], datetime] = utc_now
    connect: Connector = default_connect
    settings_for: Callable[[str | None], Settings] = field(default=lambda profile: load_settings(profile=profile))
    alerter: Any = None  # sheetsync.schedule.notify.Alerter, or None for no alerts
    owner: str = field(default_factory=process_owner)
    report: Callable[[str], None] = lambda line: None  # one line per job start and end, for people
    stop: threading.Event = field(default_factory=threading.Event)  # set: start no new job (a stop was asked)
    recorded: Callable[[RunRecord], None] = lambda run: None  # each run once saved with its outcome (any thread)
    _active: dict[str, tuple[ScheduledJob, RunRecord, Lease]] = field(default_factory=dict, repr=False)
    _active_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _reserved: dict[str | None, int] = field(default_factory=dict, repr=False)
    _reserve_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ---- what is due
    def due(self, now: datetime | None = None) -> list[tuple[ScheduledJob, datetime]]:
        """(job, slot) for every job due at `now`; a job seen for the first time is due from its next slot."""
        now = now or self.clock()
        found = []
        for job in self.schedule.jobs:
            handled = self.state.handled_until(job.name)
            if handled is None:
                self.state.set_handled_until(job.name, now)
                first = _shown(job, job.schedule.next_after(now))
                self.report(f"{job.name}: new in the schedule; first run at {first}")
                continue
            slot = due_slot(job.schedule, now, handled)
            if slot is not None:
                found.append((job, slot))
        return found

    def run_due(self, *, jobs: int = 1) -> list[RunRecord]:
        """Run every due job once (`jobs` at a time); returns the runs, in schedule order."""
        self.mark_interrupted()
        due = self.due()
        self._reserved.clear()
        if jobs <= 1 or len(due) <= 1:
            runs = [self._scheduled_run(job, slot) for job, slot in due]
        else:
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="sheetsync-job") as pool:
                runs = list(pool.map(lambda pair: self._scheduled_run(*pair), due))
        return [run for run in runs if run is not None]

    def run_job(self, name: str) -> RunRecord:
        """Run one job now, whatever its schedule (its locks still apply; no quota deferral)."""
        self.mark_interrupted()
        return self.run(self.schedule.job(name), trigger="manual")

    def _scheduled_run(self, job: ScheduledJob, slot: datetime) -> RunRecord | None:
        if self.stop.is_set():  # stopping: not started, so still due (caught up by the next run-due)
            return None
        reason = self.quota_shortfall(job)
        if reason is not None:
            return self._defer(job, slot, reason)
        try:
            return self.run(job, trigger="schedule", slot=slot)
        finally:
            with self._reserve_lock:
                self._reserved.pop(job.spec.profile, None)

    # ---- one run
    def run(self, job: ScheduledJob, *, trigger: str, slot: datetime | None = None) -> RunRecord:
        """Lock, run, record, alert. Never raises for a failed job (the record says what happened)."""
        run = RunRecord(job.name, trigger, self.clock(), slot=slot, profile=job.spec.profile, owner=self.owner)
        try:
            task = task_for(job)
            lease = self.state.acquire([f"job:{job.name}", *task.output_locks()], self.owner, self._ttl(job))
        except SheetsyncError as exc:
            return self._finish(job, run, None, error=exc)
        if isinstance(lease, str):
            run.outcome, run.reason = "skipped", f"{lease} is held by {self.state.lock_owner(lease) or 'another run'}"
            return self._finish(job, run, None)
        self.state.save_run(run)
        with self._active_lock:
            self._active[run.id] = (job, run, lease)
        handled_before = self.state.handled_until(job.name)
        if slot is not None:  # claimed now: a run-due started while this one runs does not see it due
            self.state.set_handled_until(job.name, slot)
        self.report(f"{job.name}: started ({trigger}{', slot ' + _shown(job, slot) if slot else ''})")
        try:
            taken = job.schedule.local(slot or run.started)
            env = TaskEnv(self.settings_for(job.spec.profile), self.connect, taken)
            try:
                result = task.run(env)
            finally:  # what a failed run spent is recorded too: its history and the next quota check
                run.requests, run.not_modified = dict(env.spent.requests), env.spent.not_modified
        except RateLimitedError as exc:
            run.outcome, run.reason = "deferred", f"the KSS quota ran out: {exc.message}"
            if slot is not None and handled_before is not None:  # give the slot back: tried again later
                self.state.set_handled_until(job.name, handled_before)
            return self._finish(job, run, lease, keep_slot=True)
        except SheetsyncError as exc:
            return self._finish(job, run, lease, error=exc)
        except Exception as exc:  # a bug in sheetsync: record it like any failure, with its type
            return self._finish(job, run, lease, error=exc)
        except BaseException:  # Ctrl-C, SIGTERM (SystemExit): say so in the history, free the locks
            run.outcome, run.error, run.exit_code = "interrupted", STOPPED, int(ExitCode.INTERRUPTED)
            self._finish(job, run, lease)
            raise
        if not self._untrack(run):  # interrupt_running() recorded it interrupted meanwhile
            return run
        self._apply(run, result)
        return self._record(job, run, lease)

    def _apply(self, run: RunRecord, result: TaskResult) -> None:
        for name in ("outputs", "rows", "requests", "not_modified", "sheets_calls", "bytes_written", "warnings"):
            setattr(run, name, getattr(result, name))
        run.fingerprint, run.quota_left, run.quota_reset = result.fingerprint, result.quota_left, result.quota_reset
        previous = self._previous(run.job, lambda r: r.fingerprint is not None)
        same_data = previous is not None and previous.fingerprint == run.fingerprint
        unchanged = same_data if result.unchanged is None else result.unchanged
        if result.partial:
            run.outcome = "partial"
        else:
            run.outcome = "unchanged" if unchanged else "ok"
        run.exit_code = int(ExitCode.PARTIAL if run.outcome == "partial" else ExitCode.OK)

    def _finish(
        self,
        job: ScheduledJob,
        run: RunRecord,
        lease: Lease | None,
        *,
        error: BaseException | None = None,
        keep_slot: bool = False,
    ) -> RunRecord:
        if lease is not None and not self._untrack(run):  # interrupt_running() recorded it already
            return run
        return self._record(job, run, lease, error=error, keep_slot=keep_slot)

    def _record(
        self,
        job: ScheduledJob,
        run: RunRecord,
        lease: Lease | None,
        *,
        error: BaseException | None = None,
        keep_slot: bool = False,
    ) -> RunRecord:
        if error is not None:
            run.outcome, run.error, run.exit_code = "failed", _message(error), int(_exit_code(error))
        run.ended = self.clock()
        if lease is not None:
            self.state.release(lease)
        events = self._alert_events(job, run)
        if events and self.alerter is not None:
            run.alerts = self.alerter.send(job.name, job.alerts, run.to_json(), events)
        self.state.save_run(run)
        if run.slot is not None and not keep_slot:
            self.state.set_handled_until(job.name, run.slot)
        self.report(_end_line(run))
        self.recorded(run)
        return run

    def _untrack(self, run: RunRecord) -> bool:
        """Take the run off the active list; False when another thread already did (and recorded it)."""
        with self._active_lock:
            return self._active.pop(run.id, None) is not None

    def interrupt_running(self, reason: str = STOPPED) -> list[RunRecord]:
        """Record every run in progress as interrupted now and free its locks (callable from any thread).

        For a stop that cannot wait for the job's thread to unwind (a request in flight): the process
        ends next. Outputs are written atomically at the end of a run, so they stay as they were."""
        with self._active_lock:
            active, self._active = list(self._active.values()), {}
        for job, run, lease in active:
            run.outcome, run.error, run.exit_code = "interrupted", reason, int(ExitCode.INTERRUPTED)
            self._record(job, run, lease)
        return [run for _, run, _ in active]

    # ---- alerts
    def _alert_events(self, job: ScheduledJob, run: RunRecord) -> list[str]:
        wanted = job.alerts.events
        before = self._previous(run.job, lambda r: r.id != run.id and r.outcome in COMPLETED)
        events = []
        if run.outcome in ("failed", "interrupted"):
            repeated = before is not None and before.outcome in ("failed", "interrupted")
            if not repeated:  # a job failing at every slot alerts once, then again after it recovered
                events.append("failure")
        elif run.outcome in ("ok", "unchanged", "partial"):
            if before is not None and before.outcome in ("failed", "interrupted") and "recovery" in wanted:
                events.append("recovery")
            if run.outcome == "partial" and "partial" in wanted:
                events.append("partial")
            last = self._previous(run.job, lambda r: r.id != run.id and r.fingerprint is not None)
            changed = last is not None and last.fingerprint != run.fingerprint
            if run.outcome != "unchanged" and changed and "changed" in wanted:
                events.append("changed")
        return events

    # ---- quota
    def quota_shortfall(self, job: ScheduledJob) -> str | None:
        """Why the job should wait for the KSS quota, or None when it fits (or nothing is known)."""
        expected = self.expected_requests(job.name)
        if not expected:
            return None
        profile = job.spec.profile
        left, why = self._quota_left(profile)
        with self._reserve_lock:
            if left is not None:
                left -= self._reserved.get(profile, 0)
                if expected > left:
                    return f"needs about {expected} KSS requests (its recent runs), {max(left, 0)} left ({why})"
            self._reserved[profile] = self._reserved.get(profile, 0) + expected
        return None

    def expected_requests(self, job: str) -> int:
        runs = [r for r in self.state.runs(job, limit=20) if r.outcome in ("ok", "unchanged", "partial")]
        return max((r.requests.get("kss", 0) for r in runs[:RECENT_RUNS]), default=0)

    def _quota_left(self, profile: str | None) -> tuple[int | None, str]:
        now = self.clock()
        candidates: list[tuple[int, str]] = []
        runs = [r for r in self.state.runs(limit=200) if r.profile == profile]
        seen = next((r for r in runs if r.quota_left is not None), None)
        if seen is not None and seen.quota_left is not None and seen.quota_reset and seen.quota_reset > now:
            since = sum(r.requests.get("kss", 0) for r in runs if r.started > (seen.ended or seen.started))
            until = seen.quota_reset.astimezone().strftime("%H:%M")
            candidates.append((seen.quota_left - since, f"the API's rate limit, until {until}"))
        budget = self.settings_for(profile).requests_per_hour_int
        if budget:
            used = sum(r.requests.get("kss", 0) for r in runs if r.started > now - timedelta(hours=1))
            candidates.append((budget - used, f"the budget of {budget} requests/hour"))
        if not candidates:
            return None, ""
        return min(candidates)

    def _defer(self, job: ScheduledJob, slot: datetime, reason: str) -> RunRecord:
        now = self.clock()
        run = RunRecord(job.name, "schedule", now, slot=slot, profile=job.spec.profile, owner=self.owner)
        run.outcome, run.reason, run.ended = "deferred", reason, now
        last = self._previous(job.name, lambda r: True)
        if last is None or last.outcome != "deferred" or last.slot != slot:  # once per slot in the history
            self.state.save_run(run)
            self.report(_end_line(run))
            self.recorded(run)
        return run

    # ---- housekeeping
    def mark_interrupted(self) -> list[RunRecord]:
        """Runs still `running` whose job lock is gone (their process died): recorded as interrupted."""
        found = []
        for run in self.state.running():
            if self.state.lock_owner(f"job:{run.job}") is None:
                run.outcome, run.ended = "interrupted", self.clock()
                run.error = f"the process running it ({run.owner}) stopped before it finished; its locks expired"
                run.exit_code = int(ExitCode.INTERNAL)
                job = next((j for j in self.schedule.jobs if j.name == run.job), None)
                if job is not None and self.alerter is not None and self._alert_events(job, run):
                    run.alerts = self.alerter.send(job.name, job.alerts, run.to_json(), ["failure"])
                self.state.save_run(run)
                found.append(run)
        return found

    def _previous(self, job: str, accept: Callable[[RunRecord], bool]) -> RunRecord | None:
        return next((r for r in self.state.runs(job, limit=50) if accept(r)), None)

    def _ttl(self, job: ScheduledJob) -> timedelta:
        return timedelta(minutes=job.spec.timeout_minutes)


def _message(error: BaseException) -> str:
    if isinstance(error, SheetsyncError):
        return error.message
    return f"internal error: {type(error).__name__}: {error}"


def _exit_code(error: BaseException) -> ExitCode:
    return error.exit_code if isinstance(error, SheetsyncError) else ExitCode.INTERNAL


def _shown(job: ScheduledJob, moment: datetime | None) -> str:
    return job.schedule.local(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else "-"


def _end_line(run: RunRecord) -> str:
    parts = [f"{run.job}: {run.outcome}"]
    if run.seconds is not None and run.outcome not in ("skipped", "deferred"):
        parts.append(f"in {run.seconds:.1f} s")
    if run.requests:
        parts.append(f"{run.total_requests} request(s), {run.not_modified} not modified")
    if run.sheets_calls:
        parts.append(f"{run.sheets_calls} Sheets call(s)")
    if run.outputs:
        parts.append(f"wrote {', '.join(run.outputs)}")
    if run.reason or run.error:
        parts.append(str(run.reason or run.error))
    return "; ".join(parts)
