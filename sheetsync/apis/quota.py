"""Pacing within the API's rate limit and the client's own hourly budget (used by ``http.HttpClient``).

``Pacer.before_request(endpoint)`` waits when the server's last ``RateLimit-Remaining`` says the quota is
spent (until its ``RateLimit-Reset``) or the ``requests_per_hour`` budget is used up, and raises
``RateLimitedError`` instead when that wait is longer than ``max_wait``. ``observe(headers, status)``
remembers each answer's headers (the lowest count of one window wins: answers arrive out of order);
``remaining()`` is what ``fetch.py``'s concurrency limiter adapts to.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping

from sheetsync.apis.http_errors import describe_recovery, float_header, local_time
from sheetsync.errors import RateLimitedError

log = logging.getLogger("sheetsync.http")


class Pacer:
    """Waits before a request when the server's quota or the client-side budget is spent."""

    def __init__(
        self,
        *,
        requests_per_hour: int | None,
        max_wait: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.requests_per_hour = requests_per_hour
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self.throttled = 0  # 429 answers received

    def before_request(self, endpoint: str) -> None:
        wait, why = self._needed_wait()
        if wait <= 0:
            return
        if wait > self.max_wait:
            recovers_at = local_time(self.clock() + wait)
            raise RateLimitedError(
                f"GET {endpoint}: {why}; {describe_recovery(recovers_at)}",
                recovers_at=recovers_at,
                endpoint=endpoint,
                status=429,
            )
        log.info("pacing: waiting %.1fs before %s (%s)", wait, endpoint, why)
        self.sleep(wait)

    def _needed_wait(self) -> tuple[float, str]:
        now = self.clock()
        with self._lock:
            if self._remaining is not None and self._remaining <= 0 and self._reset_at is not None:
                if self._reset_at > now:
                    return self._reset_at - now, "the API rate limit is spent"
                self._remaining = None
            if self.requests_per_hour:
                while self._sent and self._sent[0] <= now - 3600:
                    self._sent.popleft()
                if len(self._sent) >= self.requests_per_hour:
                    return self._sent[0] + 3600 - now, f"the budget of {self.requests_per_hour} requests/hour is spent"
            return 0.0, ""

    def sent(self) -> None:
        with self._lock:
            self._sent.append(self.clock())
            if self._remaining is not None:
                self._remaining -= 1

    def quota(self) -> tuple[int | None, float | None]:
        """The server's quota as last seen: (requests left, epoch second it resets); None where unknown."""
        with self._lock:
            return self._remaining, self._reset_at

    def remaining(self) -> int | None:
        """Requests that may still be sent now (server quota and client budget), None when neither is known."""
        now = self.clock()
        with self._lock:
            left = [] if self._remaining is None else [self._remaining]
            if self._reset_at is not None and self._reset_at <= now:
                left = []
            if self.requests_per_hour:
                left.append(self.requests_per_hour - sum(1 for t in self._sent if t > now - 3600))
            return min(left) if left else None

    def observe(self, headers: Mapping[str, str], status: int = 200) -> None:
        remaining = float_header(headers, "RateLimit-Remaining")
        reset = float_header(headers, "RateLimit-Reset")
        with self._lock:
            self.throttled += status == 429
            reset_at = None if reset is None else self.clock() + reset
            # Concurrent responses arrive out of order: within one window the lowest count is the true one.
            same_window = reset_at is not None and self._reset_at is not None and abs(reset_at - self._reset_at) < 2
            if remaining is not None:
                known = self._remaining if same_window and self._remaining is not None else int(remaining)
                self._remaining = min(known, int(remaining))
            if reset_at is not None:
                self._reset_at = reset_at
