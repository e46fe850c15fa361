"""When a job is due: cron expressions read on the wall clock of the job's IANA time zone.

croniter walks the *wall-clock* times a cron expression names (naive datetimes); zoneinfo turns each
into an instant. That gives cron's usual daylight-saving behaviour, which croniter's own aware mode
does not (it runs a 01:30 job twice on a fall-back day and a 02:30 job at 03:00 on spring-forward):

- spring forward: a wall time inside the gap (02:30 when clocks jump 02:00 -> 03:00) is the instant
  the same distance past the jump (03:30): the job runs once, at the shifted time;
- fall back: a wall time that happens twice (01:30) is its first occurrence only, so a daily job runs
  once; a job whose hour field is `*` (it runs every hour) runs in the repeated hour too.

A job is due when its latest slot at or before `now` is later than the last slot it handled (or than
the moment it was first seen): however many slots were missed, the next `run-due` runs it once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

# Daylight-saving shifts are at most 2 hours; looking 3 hours either side of a wall time finds every
# instant that could sort before or after it.
_DST_MARGIN = timedelta(hours=3)
_MAX_STEPS = 10_000  # wall times examined at most (a per-minute cron needs ~360 for the margins)


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError naming it if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as America/New_York)") from None


def check_cron(expression: str) -> str:
    """The expression if croniter accepts it (5 fields, or 6 with seconds), else ValueError."""
    if not croniter.is_valid(expression):
        raise ValueError(f"not a valid cron expression: {expression!r} (minute hour day month weekday)")
    return expression


class CronSchedule:
    """A cron expression in a time zone: slot instants before and after a moment (aware, in the zone)."""

    def __init__(self, expression: str, tz: str) -> None:
        self.expression = check_cron(expression)
        self.tz = zone(tz)
        self._hourly = expression.split()[1] == "*"

    def instants(self, wall: datetime) -> list[datetime]:
        """The instants (UTC) a naive wall-clock slot stands for: one, or two in a repeated hour."""
        first = wall.replace(tzinfo=self.tz, fold=0).astimezone(UTC)
        second = wall.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        if first == second or not self._hourly:
            return [first]
        return [first, second]

    def latest_at_or_before(self, now: datetime) -> datetime | None:
        """The last slot instant (UTC) <= now; None if there is none in the past."""
        now = now.astimezone(UTC)
        wall_now = self._wall(now)
        margin = _DST_MARGIN if self._shift_near(now) else timedelta(0)
        walls = croniter(self.expression, wall_now + margin + timedelta(microseconds=1))
        best: datetime | None = None
        for _ in range(_MAX_STEPS):
            wall = walls.get_prev(datetime)
            for instant in self.instants(wall):
                if instant <= now and (best is None or instant > best):
                    best = instant
            if best is not None and wall <= wall_now - margin:
                break
        return best

    def next_after(self, moment: datetime) -> datetime:
        """The first slot instant (UTC) > moment."""
        moment = moment.astimezone(UTC)
        wall_moment = self._wall(moment)
        margin = _DST_MARGIN if self._shift_near(moment) else timedelta(0)
        walls = croniter(self.expression, wall_moment - margin)
        best: datetime | None = None
        for _ in range(_MAX_STEPS):
            wall = walls.get_next(datetime)
            for instant in self.instants(wall):
                if instant > moment and (best is None or instant < best):
                    best = instant
            if best is not None and wall > wall_moment + margin:
                break
        if best is None:
            raise ValueError(f"cron expression {self.expression!r} has no next run")
        return best

    def local(self, instant: datetime) -> datetime:
        """An instant shown on the job's wall clock."""
        return instant.astimezone(self.tz)

    def _shift_near(self, moment: datetime) -> bool:
        """Whether the zone's offset changes within the margin of `moment` (then the slow, exact scan)."""
        before = (moment - _DST_MARGIN).astimezone(self.tz).utcoffset()
        after = (moment + _DST_MARGIN).astimezone(self.tz).utcoffset()
        return before != after

    def _wall(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz).replace(tzinfo=None, fold=0)


def due_slot(schedule: CronSchedule, now: datetime, handled_until: datetime) -> datetime | None:
    """The slot to run now, or None: the latest slot <= now, if it is later than `handled_until`."""
    latest = schedule.latest_at_or_before(now)
    if latest is None or latest <= handled_until.astimezone(UTC):
        return None
    return latest
