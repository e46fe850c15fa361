"""The one aging rule for receivables, shared by the reports and the sandbox.

Days past due are the calendar days from an open item's due date to the as-of date, never below 0:
an invoice due on the as-of date is 0 days past due and "Current"; due the day before, 1 day and
"1-30". The buckets are those of the KSS `/arAging` endpoint (CurrentDue, Due_1_30, Due_31_60,
Due_61_90, Due_91):

    days past due   0        1..30   31..60   61..90   91 and more
    bucket          Current  1-30    31-60    61-90    91+

Open credits are not aged: they form the "Credit" line of a statement. Both dates are calendar
dates; KSS writes them as a timestamp near midnight UTC, whose UTC date is the calendar date.
As the KSS document says, AR statements are recalculated once a day at the end of the day, so the
API's buckets are as of the aging's CloseDate (the previous day), and so is a report by default.
"""

from __future__ import annotations

from datetime import date

BUCKETS: tuple[str, ...] = ("Current", "1-30", "31-60", "61-90", "91+")
CREDIT = "Credit"
_UPPER_BOUNDS = (0, 30, 60, 90)  # the last day past due of each bucket but the last


def days_past_due(due: date, as_of: date) -> int:
    """Whole calendar days from `due` to `as_of`; 0 when the item is not yet due."""
    return max(0, (as_of - due).days)


def bucket_index(days: int) -> int:
    """0 (Current) .. 4 (91+) for a number of days past due."""
    for index, upper in enumerate(_UPPER_BOUNDS):
        if days <= upper:
            return index
    return len(_UPPER_BOUNDS)


def bucket(days: int) -> str:
    """The bucket label ("Current", "1-30", "31-60", "61-90", "91+") of a number of days past due."""
    return BUCKETS[bucket_index(days)]
