"""What a failed POST means for what it asked for: the one place every reverse path (payments, Kotis
orders, redemption codes) decides between "send later", "refused" and "may have happened"."""

from __future__ import annotations

from sheetsync.errors import (
    AmbiguousOutcomeError,
    ApiError,
    AuthError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
)

# Ledger states of a failed send (each ledger keeps these names)
NOT_SENT = "not_sent"  # refused before anything was looked at (quota, key, scope): may be sent again
REFUSED = "refused"  # the API answered no (4xx): nothing was created
UNKNOWN = "unknown"  # no clear answer after sending (timeout, dropped connection, 5xx): it may have taken effect


def failure_state(exc: ApiError) -> str:
    """NOT_SENT for 429, 401 and 403 (the run stops: every later send would fail the same way), REFUSED
    for any other answered 4xx, UNKNOWN for everything else."""
    if isinstance(exc, (RateLimitedError, AuthError, ForbiddenError)):
        return NOT_SENT
    answered = exc.status is not None and 400 <= exc.status < 500 and not isinstance(exc, AmbiguousOutcomeError)
    if isinstance(exc, (BadRequestError, NotFoundError)) or answered:
        return REFUSED
    return UNKNOWN
