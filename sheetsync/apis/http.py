"""The one HTTP layer of sheetsync: KSS, Kotis and Google Sheets requests all go through it.

Retries, timeouts, pacing, budget, request counting, and the mapping of an error answer to a typed
exception (each API supplies only the function that reads its own error text from a body).
The error mapping is in ``http_errors.py``, the rate-limit and budget pacing in ``quota.py``;
the names they export are importable from here too.

Public API
----------
``RequestStats``
    Thread-safe per-endpoint counters. ``record(endpoint, *, pages=0, retries=0, not_modified=0,
    requests=None)`` adds to the counters; ``requests`` defaults to ``1 + retries`` (every HTTP request
    actually sent). ``as_dict()`` -> ``{"products": {"requests": 3, "pages": 3, "retries": 0,
    "not_modified": 1}}``; ``total_requests`` is the sum over endpoints. ``HttpClient`` records
    requests, retries and 304s itself; the API clients add ``pages`` with ``record(ep, pages=1, requests=0)``.

``RetryPolicy(max_retries=4, base=0.5, cap=30.0, max_wait=60.0)``
    Exponential backoff with jitter built from tenacity's waits: retry n waits ``c/2 + uniform(0, c/2)``
    with ``c = min(cap, base * 2**(n-1))``, and at least the server's ``Retry-After``. A ``Retry-After``
    longer than ``max_wait`` is not waited for: the response is handed back and the caller raises
    ``RateLimitedError`` saying when the quota recovers.

What is retried: an idempotent request (GET/HEAD by default) on 408, 429 and 5xx answers and on
connection errors and timeouts. A non-idempotent request (a POST) is never sent again once it may have
been acted on: only a 429 answer, which says the request was refused before any processing, is
retried; a 5xx, a timeout or a dropped connection after sending is final.

``HttpClient(*, session=None, timeout=30.0, retry=RetryPolicy(), sleep=time.sleep, clock=time.time,
stats=None, requests_per_hour=None, request_id_header=None, secret_headers=())``
    ``standing() -> (remaining, throttled)``: the requests that may still be sent now (the smaller of
    the last ``RateLimit-Remaining`` and the hourly budget left; None when neither is known) and the
    429 answers received so far, for callers that adapt their concurrency (``fetch.py``).
    ``send(method, url, *, endpoint, headers=None, params=None, json=None, data=None, idempotent=None)
    -> Response`` sends one logical request. ``url`` carries its query string (``build_query`` writes
    one with literal commas; requests leaves them alone); ``params`` is for APIs whose queries
    requests may encode (Google's). A non-idempotent request whose connection timed out or dropped
    after sending raises ``AmbiguousOutcomeError``; a connection that could not even be opened raises
    ``ServerError``. Every response's ``RateLimit-Remaining``/``RateLimit-Reset`` are remembered and
    the next request waits for the reset when the quota is spent (or raises ``RateLimitedError``
    when that wait is longer than ``retry.max_wait``); the optional ``requests_per_hour`` budget is
    enforced the same way on the client side. ``sleep`` and ``clock`` are injectable so that replayed
    tests never really sleep. The final response is returned whatever its status: map it with
    ``error_for_response``.

``build_query(pairs) -> str``
    ``[("CustomerIDs", "1,2"), ("States", "CA")]`` -> ``"CustomerIDs=1,2&States=CA"``: values
    percent-encoded except commas (and ``:`` for timestamps), as the KSS document writes them.

``redact_headers(headers, secret_headers=()) -> dict`` and ``redact_url(url) -> str``
    For anything printed or logged: ``x-api-key``, ``Authorization``, cookies and any header or query
    parameter that looks like a key or token become ``****``.

``new_request_id() -> str``: a short alphanumeric id for ``X-Request-Id``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_result,
    retry_never,
    stop_after_attempt,
    wait_exponential,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from sheetsync.apis.http_errors import (
    MessageOf,
    checked_body,
    error_for_response,
    host_of,
    is_transient,
    json_body,
    never_connected,
    parse_retry_after,
    request_label,
    transport_reason,
)
from sheetsync.apis.quota import Pacer
from sheetsync.errors import (
    AmbiguousOutcomeError,
    ApiError,
    ServerError,
)

__all__ = [  # the error mapping lives in http_errors.py; importable from here as before the split
    "HttpClient",
    "MessageOf",
    "RequestStats",
    "RetryPolicy",
    "build_query",
    "checked_body",
    "error_for_response",
    "host_of",
    "json_body",
    "new_request_id",
    "parse_retry_after",
    "redact_headers",
    "redact_url",
    "request_label",
    "transport_reason",
]

log = logging.getLogger("sheetsync.http")

SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_WORDS = ("key", "token", "secret", "password", "auth")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REFUSED_STATUSES = frozenset({429})  # the request was refused before processing: safe to send again, even a POST
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
USER_AGENT = "sheetsync (+https://github.com/sheetsync)"


class RequestStats:
    """Per-endpoint request counters shared by the API clients of one run (thread-safe)."""

    FIELDS = ("requests", "pages", "retries", "not_modified")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = {}

    def record(
        self, endpoint: str, *, pages: int = 0, retries: int = 0, not_modified: int = 0, requests: int | None = None
    ) -> None:
        """Add to the counters of `endpoint`; `requests` defaults to 1 + retries (HTTP requests sent)."""
        sent = 1 + retries if requests is None else requests
        with self._lock:
            counts = self._counts.setdefault(endpoint, dict.fromkeys(self.FIELDS, 0))
            counts["requests"] += sent
            counts["pages"] += pages
            counts["retries"] += retries
            counts["not_modified"] += not_modified

    def as_dict(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {name: dict(counts) for name, counts in sorted(self._counts.items())}

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(counts["requests"] for counts in self._counts.values())

    def __repr__(self) -> str:
        return f"RequestStats({self.as_dict()!r})"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries for idempotent requests: exponential backoff with jitter, >= Retry-After."""

    max_retries: int = 4
    base: float = 0.5  # first backoff in seconds, doubled per attempt
    cap: float = 30.0  # no single backoff longer than this
    max_wait: float = 60.0  # a Retry-After or quota reset longer than this is reported, not waited for

    @property
    def wait(self) -> wait_base:
        """tenacity's wait for retry n: half of c = min(cap, base * 2**(n-1)) fixed, half random."""
        half = {"multiplier": self.base / 2, "max": self.cap / 2}
        return wait_exponential(**half) + wait_random_exponential(**half)

    def backoff(self, attempt: int) -> float:
        """The backoff in seconds before retry number `attempt` (1-based)."""
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = attempt
        return self.wait(state)


def new_request_id() -> str:
    """A short alphanumeric request id (16 hex characters)."""
    return uuid.uuid4().hex[:16]


def build_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Encode query pairs, keeping commas (list separators) and colons (timestamps) literal."""
    return "&".join(f"{quote(str(name), safe='')}={quote(str(value), safe=',:')}" for name, value in pairs)


def redact_headers(headers: Mapping[str, str] | None, secret_headers: Iterable[str] = ()) -> dict[str, str]:
    """A copy of `headers` safe to print: secret values become ****."""
    extra = {h.lower() for h in secret_headers}
    shown = {}
    for name, value in (headers or {}).items():
        lower = name.lower()
        secret = lower in SECRET_HEADERS or lower in extra or any(w in lower for w in ("key", "token", "secret"))
        shown[name] = "****" if secret else value
    return shown


def redact_url(url: str) -> str:
    """`url` with the values of key/token-like query parameters masked."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(n, "****" if any(w in n.lower() for w in _SECRET_WORDS) else v) for n, v in parse_qsl(parts.query, True)]
    query = urlencode(pairs, safe=",:*")
    return urlunsplit(parts._replace(query=query))


class HttpClient:
    """One requests.Session with timeouts, retries, pacing, request ids and counting. See module doc."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        stats: RequestStats | None = None,
        requests_per_hour: int | None = None,
        request_id_header: str | None = None,
        secret_headers: Iterable[str] = (),
    ) -> None:
        self.session = session or _default_session()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.stats = stats if stats is not None else RequestStats()
        self.request_id_header = request_id_header
        self.secret_headers = tuple(secret_headers)
        self.pacer = Pacer(requests_per_hour=requests_per_hour, max_wait=self.retry.max_wait, sleep=sleep, clock=clock)

    def quota(self) -> tuple[int | None, float | None]:
        """What the last RateLimit-Remaining / RateLimit-Reset headers said: (left, reset epoch second)."""
        return self.pacer.quota()

    def standing(self) -> tuple[int | None, int]:
        """(requests that may still be sent now, None when no limit is known; 429 answers so far)."""
        return self.pacer.remaining(), self.pacer.throttled

    def send(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one logical request (retried as the module doc says) and return the final response."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        attempts = 0
        body = {"params": params, "json": json, "data": data}

        def attempt() -> requests.Response:
            nonlocal attempts
            attempts += 1
            return self._send_once(method, url, endpoint=endpoint, headers=headers, body=body, idempotent=idempotent)

        try:
            response = self._retrying(idempotent, f"{method} {endpoint}", url)(attempt)
        except requests.exceptions.RequestException as exc:  # transient failures that outlived the retries
            self.stats.record(endpoint, retries=max(0, attempts - 1))
            raise self._transport_error(method, endpoint, exc, {}, idempotent, url) from None
        retries = max(0, attempts - 1)
        self.stats.record(endpoint, retries=retries, not_modified=int(response.status_code == 304))
        return response

    def _retrying(self, idempotent: bool, what: str, url: str) -> Retrying:
        policy = self.retry
        statuses = RETRY_STATUSES if idempotent else REFUSED_STATUSES
        transient = retry_if_exception(is_transient) if idempotent else retry_never
        return Retrying(
            stop=stop_after_attempt(policy.max_retries + 1),
            retry=retry_if_result(lambda response: self._should_retry(response, statuses)) | transient,
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=lambda state: self._log_retry(state, what, url),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )

    def _should_retry(self, response: requests.Response, statuses: frozenset[int]) -> bool:
        if response.status_code not in statuses:
            return False
        wait = parse_retry_after(response.headers.get("Retry-After"), now=self.clock())
        return wait is None or wait <= self.retry.max_wait

    def _wait(self, state: RetryCallState) -> float:
        backoff = self.retry.backoff(state.attempt_number)
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            response = outcome.result()
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self.clock())
            if retry_after is not None:
                return max(retry_after, min(backoff, 1.0))
        return backoff

    def _log_retry(self, state: RetryCallState, what: str, url: str) -> None:
        """One short line per retry: what, which host, why, how long the wait."""
        outcome = state.outcome
        reason = "no response"
        if outcome is not None:
            error = outcome.exception()
            reason = transport_reason(error) if error is not None else f"status {outcome.result().status_code}"
        wait = state.next_action.sleep if state.next_action else 0
        retries = self.retry.max_retries
        log.warning(
            "retry %d/%d: %s at %s: %s; waiting %.1f s", state.attempt_number, retries, what, host_of(url), reason, wait
        )

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        headers: Mapping[str, str] | None,
        body: Mapping[str, Any],
        idempotent: bool,
    ) -> requests.Response:
        self.pacer.before_request(endpoint)
        sent_headers = dict(headers or {})
        if self.request_id_header and self.request_id_header not in sent_headers:
            sent_headers[self.request_id_header] = new_request_id()
        log.debug("%s %s headers=%s", method, redact_url(url), redact_headers(sent_headers, self.secret_headers))
        self.pacer.sent()
        try:
            response = self.session.request(
                method, url, headers=sent_headers, **body, timeout=self.timeout, allow_redirects=False
            )
        except requests.exceptions.RequestException as exc:
            if idempotent and is_transient(exc):
                raise
            raise self._transport_error(method, endpoint, exc, sent_headers, idempotent, url) from None
        self.pacer.observe(response.headers, response.status_code)
        return response

    def _transport_error(
        self,
        method: str,
        endpoint: str,
        exc: BaseException,
        headers: Mapping[str, str],
        idempotent: bool,
        url: str = "",
    ) -> ApiError:
        request_id = headers.get(self.request_id_header or "", None)
        reason = transport_reason(exc)
        if not idempotent and not never_connected(exc):
            return AmbiguousOutcomeError(
                f"{request_label(method, endpoint)}: no answer from {host_of(url)} after the request was sent "
                f"({reason}); it may or may not have taken effect: check before sending it again",
                request_id=request_id,
                endpoint=endpoint,
            )
        return ServerError(
            f"{request_label(method, endpoint)}: could not reach {host_of(url)} ({reason})",
            request_id=request_id,
            endpoint=endpoint,
        )


def _default_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session
