"""Due times on the wall clock of a job's zone: DST days, missed windows, next runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sheetsync.schedule.timing import CronSchedule, due_slot

NEW_YORK = ZoneInfo("America/New_York")


def run_due_every_minute(cron: str, start: datetime, hours: float, zone: str = "America/New_York") -> list[str]:
    """What a run-due called each minute runs: the local time of each run's slot."""
    schedule = CronSchedule(cron, zone)
    now = handled = start.astimezone(UTC)
    end = now + timedelta(hours=hours)  # in UTC: aware arithmetic in a zone would be wall-clock arithmetic
    runs = []
    while now < end:
        slot = due_slot(schedule, now, handled)
        if slot is not None:
            runs.append(slot.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M %Z"))
            handled = slot
        now += timedelta(minutes=1)
    return runs


def test_spring_forward_runs_a_0230_job_once_at_the_shifted_time() -> None:
    # 2026-03-08: clocks jump from 02:00 EST to 03:00 EDT; 02:30 does not exist that day.
    runs = run_due_every_minute("30 2 * * *", datetime(2026, 3, 7, 12, tzinfo=NEW_YORK), 48)
    assert runs == ["03-08 03:30 EDT", "03-09 02:30 EDT"]


def test_fall_back_runs_a_0130_job_once() -> None:
    # 2026-11-01: 01:00-02:00 happens twice (EDT, then EST).
    runs = run_due_every_minute("30 1 * * *", datetime(2026, 10, 31, 12, tzinfo=NEW_YORK), 48)
    assert runs == ["11-01 01:30 EDT", "11-02 01:30 EST"]


def test_an_hourly_job_runs_in_the_repeated_hour_and_not_in_the_missing_one() -> None:
    fall = run_due_every_minute("0 * * * *", datetime(2026, 11, 1, 0, 10, tzinfo=NEW_YORK), 4)
    assert fall == ["11-01 01:00 EDT", "11-01 01:00 EST", "11-01 02:00 EST", "11-01 03:00 EST"]
    spring = run_due_every_minute("0 * * * *", datetime(2026, 3, 8, 0, 10, tzinfo=NEW_YORK), 3)
    assert spring == ["03-08 01:00 EST", "03-08 03:00 EDT", "03-08 04:00 EDT"]


def test_a_missed_window_is_caught_up_once() -> None:
    schedule = CronSchedule("0 * * * *", "Europe/Berlin")
    handled = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    back_on = datetime(2026, 6, 1, 17, 5, tzinfo=UTC)  # nine slots missed while the machine was off
    slot = due_slot(schedule, back_on, handled)
    assert slot == datetime(2026, 6, 1, 17, 0, tzinfo=UTC)
    assert due_slot(schedule, back_on + timedelta(minutes=1), slot) is None
    assert due_slot(schedule, datetime(2026, 6, 1, 18, 0, tzinfo=UTC), slot) == datetime(2026, 6, 1, 18, tzinfo=UTC)


def test_due_times_are_read_in_the_jobs_zone() -> None:
    tokyo = CronSchedule("0 9 * * 1-5", "Asia/Tokyo")
    now = datetime(2026, 6, 1, 0, 30, tzinfo=UTC)  # Monday 09:30 in Tokyo
    assert tokyo.latest_at_or_before(now) == datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    assert tokyo.next_after(now) == datetime(2026, 6, 2, 0, 0, tzinfo=UTC)
    friday_evening = datetime(2026, 6, 5, 12, 0, tzinfo=UTC)
    assert tokyo.local(tokyo.next_after(friday_evening)).strftime("%a %H:%M") == "Mon 09:00"


@pytest.mark.parametrize(
    ("cron", "zone", "message"),
    [
        ("61 * * * *", "UTC", "not a valid cron expression"),
        ("* * *", "UTC", "not a valid cron expression"),
        ("0 * * * *", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_cron_or_zone_is_refused(cron: str, zone: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CronSchedule(cron, zone)
