"""What the scheduler remembers: one RunRecord per run, each job's last handled slot, and locks.

The scheduler talks to its state only through `ScheduleState` (a narrow interface), so the same
code runs on the state store (SQLite or PostgreSQL, shared by a team) and on `MemoryState` in tests.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

OUTCOMES = ("ok", "unchanged", "partial", "failed", "skipped", "deferred", "interrupted")
RUNNING = "running"


@dataclass
class RunRecord:
    """One run of one job (times are aware UTC datetimes; counts are per run).

    outcome: running, then one of OUTCOMES. trigger: "schedule" (run-due) or "manual" (run JOB).
    slot: the scheduled time this run handles (None for manual runs).
    rows: rows per tab, "workbook/tab" -> count. requests: HTTP requests sent per API ("kss", "kotis");
    not_modified: 304 answers (ETag cache hits); sheets_calls: Google Sheets API calls;
    bytes_written: xlsx bytes on disk plus Google Sheets request payload bytes.
    quota_left / quota_reset: the KSS RateLimit-Remaining and reset time seen last in this run.
    """

    job: str
    trigger: str
    started: datetime
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    slot: datetime | None = None
    profile: str | None = None
    ended: datetime | None = None
    outcome: str = RUNNING
    exit_code: int | None = None
    rows: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    not_modified: int = 0
    sheets_calls: int = 0
    bytes_written: int = 0
    outputs: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # {code, message, subject} (model.RunWarning)
    error: str | None = None
    reason: str | None = None
    fingerprint: str | None = None
    quota_left: int | None = None
    quota_reset: datetime | None = None
    owner: str = ""
    alerts: list[str] = field(default_factory=list)  # where alerts went ("webhook https://host/…", "mail a@b")

    @property
    def seconds(self) -> float | None:
        return (self.ended - self.started).total_seconds() if self.ended else None

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 text (UTC)."""
        data = asdict(self)
        for name in ("started", "ended", "slot", "quota_reset"):
            value = data[name]
            data[name] = value.astimezone(UTC).isoformat() if value else None
        data["seconds"] = round(self.seconds, 3) if self.seconds is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for name in ("started", "ended", "slot", "quota_reset"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        return cls(**values)


@dataclass(frozen=True)
class Lease:
    """Locks held by one run: released together."""

    names: tuple[str, ...]
    owner: str
    token: str
    handle: Any = None  # what the state needs to release them (the store's open lock contexts)


class ScheduleState(Protocol):
    """The scheduler's view of the state store."""

    def handled_until(self, job: str) -> datetime | None:
        """The last slot this job handled (ran, skipped or failed), or when it was first seen."""

    def set_handled_until(self, job: str, moment: datetime) -> None: ...

    def save_run(self, run: RunRecord) -> None:
        """Insert or update a run (by run.id)."""

    def runs(self, job: str | None = None, limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first."""

    def running(self) -> list[RunRecord]:
        """Runs recorded as started and not finished (some may belong to a process that died)."""

    def acquire(self, names: list[str], owner: str, ttl: timedelta) -> Lease | str:
        """All the named locks or none: a Lease, or the name of a lock another live holder has."""

    def release(self, lease: Lease) -> None: ...

    def lock_owner(self, name: str) -> str | None:
        """Who holds a live lock now (None when free or expired)."""


class MemoryState:
    """ScheduleState in memory, for tests; `now` is injectable so lock expiry follows a fake clock."""

    def __init__(self, now: Any = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._handled: dict[str, datetime] = {}
        self._runs: dict[str, RunRecord] = {}
        self._locks: dict[str, tuple[str, str, datetime]] = {}  # name -> (owner, token, expires)

    def handled_until(self, job: str) -> datetime | None:
        return self._handled.get(job)

    def set_handled_until(self, job: str, moment: datetime) -> None:
        self._handled[job] = moment

    def save_run(self, run: RunRecord) -> None:
        with self._lock:
            self._runs[run.id] = RunRecord.from_json(run.to_json())

    def runs(self, job: str | None = None, limit: int | None = None) -> list[RunRecord]:
        with self._lock:
            found = [r for r in self._runs.values() if job is None or r.job == job]
        found.sort(key=lambda r: r.started, reverse=True)
        return found[:limit] if limit else found

    def running(self) -> list[RunRecord]:
        return [r for r in self.runs() if r.outcome == RUNNING]

    def acquire(self, names: list[str], owner: str, ttl: timedelta) -> Lease | str:
        now = self._now()
        with self._lock:
            for name in names:
                held = self._locks.get(name)
                if held and held[2] > now:
                    return name
            token = uuid.uuid4().hex
            for name in names:
                self._locks[name] = (owner, token, now + ttl)
            return Lease(tuple(names), owner, token)

    def release(self, lease: Lease) -> None:
        with self._lock:
            for name in lease.names:
                if self._locks.get(name, ("", "", None))[1] == lease.token:
                    del self._locks[name]

    def lock_owner(self, name: str) -> str | None:
        held = self._locks.get(name)
        return held[0] if held and held[2] > self._now() else None
