"""What `schedule list` and `schedule history` show: plain rows built from the schedule and the state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sheetsync.schedule.history import RunRecord, ScheduleState
from sheetsync.schedule.spec import Schedule


def job_rows(schedule: Schedule, state: ScheduleState, now: datetime) -> list[dict[str, Any]]:
    """One row per job: cron, zone, next run (ISO 8601 in the job's zone), last outcome and duration."""
    rows = []
    for job in schedule.jobs:
        cron = job.schedule
        last = next((r for r in state.runs(job.name, limit=10) if r.outcome not in ("deferred",)), None)
        rows.append(
            {
                "job": job.name,
                "kind": job.spec.kind,
                "cron": job.spec.cron,
                "timezone": job.timezone,
                "profile": job.spec.profile,
                "next_run": cron.local(cron.next_after(now)).isoformat(timespec="minutes"),
                "last_outcome": last.outcome if last else None,
                "last_started": last.started.isoformat() if last else None,
                "last_seconds": round(last.seconds, 2) if last and last.seconds is not None else None,
            }
        )
    return rows


def history_line(run: RunRecord) -> str:
    """One run on one line: when, job, outcome, duration, costs, and the error or reason."""
    started = run.started.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    seconds = f"{run.seconds:.1f}s" if run.seconds is not None else "-"
    requests = " ".join(f"{api}={n}" for api, n in sorted(run.requests.items())) or "requests=0"
    parts = [
        f"{started}  {run.job:<20} {run.outcome:<11} {seconds:>7}",
        f"{_rows(run.rows)} {requests} 304={run.not_modified} sheets={run.sheets_calls}",
        f"bytes={run.bytes_written}",
    ]
    if run.warnings:
        parts.append(f"warnings={len(run.warnings)}")
    if run.error or run.reason:
        parts.append(f"| {run.error or run.reason}")
    return "  ".join(parts)


def _rows(rows: dict[str, int]) -> str:
    """rows=N for a report; a statements job's counts by outcome (built=3 sent=2 no-address=1)."""
    if any(key.startswith("statements/") for key in rows):
        return " ".join(f"{key.split('/', 1)[1].replace(' ', '-')}={n}" for key, n in rows.items())
    return f"rows={sum(rows.values())}"
