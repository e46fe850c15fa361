"""ScheduleState on the state store (sheetsync.store: SQLite by default, PostgreSQL for a team).

- record `schedule.jobs` / JOB: state = the last outcome (or `running`); data = `handled_until` (the
  last slot handled, ISO 8601 UTC) and `running` (the run in progress, or null);
- event `schedule.runs` / JOB, action `run`, state = outcome: one per finished run, its RunRecord as
  data (so `schedule history` is `store.events("schedule.runs")`, shared by every machine using it);
- locks `job:JOB` and `output:...`: the store's named locks, held for the run and freed when the
  holder's process dies (SQLite: a file lock; PostgreSQL: a session advisory lock) or its ttl ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sheetsync.config import Settings
from sheetsync.errors import LockHeldError
from sheetsync.schedule.history import RUNNING, Lease, RunRecord
from sheetsync.store import Actor, Note, Store, open_store

JOBS = "schedule.jobs"
RUNS = "schedule.runs"


class StoreState:
    """The scheduler's state in a Store (see the module docstring for the layout)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def owner(self) -> str:
        return self.store.actor.owner

    def handled_until(self, job: str) -> datetime | None:
        record = self.store.get(JOBS, job)
        value = record.data.get("handled_until") if record else None
        return datetime.fromisoformat(value) if value else None

    def set_handled_until(self, job: str, moment: datetime) -> None:
        self._update(job, None, {"handled_until": moment.isoformat()})

    def save_run(self, run: RunRecord) -> None:
        data = run.to_json()
        with self.store.transaction():
            if run.outcome == RUNNING:
                self._update(job=run.job, state=RUNNING, changes={"running": data})
                return
            record = self.store.get(JOBS, run.job)
            running = record.data.get("running") if record else None
            mine = isinstance(running, dict) and running.get("id") == run.id
            note = Note("run", source=run.trigger, run_id=run.id, message=_summary(run), data=data)
            self.store.append(RUNS, run.job, note, state=run.outcome)
            if mine or run.outcome not in ("skipped", "deferred"):
                self._update(run.job, run.outcome, {"running": None} if mine else {})

    def runs(self, job: str | None = None, limit: int | None = None) -> list[RunRecord]:
        running = [r for r in self.running() if job is None or r.job == job]
        finished = [RunRecord.from_json(dict(e.data)) for e in self.store.events(RUNS, key=job, limit=limit)]
        found = sorted(running + finished[::-1], key=lambda r: r.started, reverse=True)
        return found[:limit] if limit else found

    def running(self) -> list[RunRecord]:
        return [RunRecord.from_json(r.data["running"]) for r in self.store.records(JOBS) if r.data.get("running")]

    def acquire(self, names: list[str], owner: str, ttl: timedelta) -> Lease | str:
        stack = contextlib.ExitStack()
        for name in names:
            try:
                stack.enter_context(self.store.lock(name, ttl=ttl))
            except LockHeldError:
                stack.close()
                return name
        return Lease(tuple(names), owner, "", handle=stack)

    def release(self, lease: Lease) -> None:
        lease.handle.close()

    def lock_owner(self, name: str) -> str | None:
        try:
            with self.store.lock(name, ttl=timedelta(seconds=30)):
                return None
        except LockHeldError as exc:
            holder: Any = exc.holder
            return str(holder.owner) if holder is not None else "another process on this machine"

    def _update(self, job: str, state: str | None, changes: dict[str, Any]) -> None:
        with self.store.transaction():
            if self.store.get(JOBS, job) is None:
                self.store.put(JOBS, job, state or "new", {"handled_until": None, "running": None, **changes})
            else:
                self.store.update(JOBS, job, state=state, changes=changes)


def _summary(run: RunRecord) -> str:
    return f"{run.outcome}: {run.error or run.reason or ', '.join(run.outputs) or 'nothing written'}"[:500]


@contextlib.contextmanager
def open_state(settings: Settings) -> Iterator[StoreState]:
    """The schedule's state in the configured store (SHEETSYNC_DB / [paths] db)."""
    store = open_store(settings.store_location, actor=Actor.current())
    try:
        yield StoreState(store)
    finally:
        store.close()
