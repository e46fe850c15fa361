"""The one HTTP layer of sheetsync: KSS, Kotis and Google Sheets requests all go through it.

Retries, timeouts, pacing, budget, request counting, and the mapping of an error answer to a typed
exception (each API supplies only the function that reads its own error text from a body).

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

``error_for_response(response, *, endpoint, api_message=None, request_id=None, clock=time.time,
message=None) -> ApiError``
    The one mapping of a final 4xx/5xx to a typed error (401 AuthError, 403 ForbiddenError, 404
    NotFoundError, 400/422 and other 4xx BadRequestError, 429 RateLimitedError with ``recovers_at`` in
    local time, 408 and 5xx ServerError). ``message`` replaces the default wording (the Sheets sink
    names the spreadsheet and the account to share it with).

``checked_body(response, *, endpoint, message_of, request_id=None, clock=time.time) -> Any``
    The JSON body of a successful answer (floats as ``Decimal``), or the typed error for a failed one
    carrying ``message_of(body)``, the API's own error text (``MessageOf``: body -> str or None).
    A successful answer that is not JSON raises ``ApiError``.

``build_query(pairs) -> str``
    ``[("CustomerIDs", "1,2"), ("States", "CA")]`` -> ``"CustomerIDs=1,2&States=CA"``: values
    percent-encoded except commas (and ``:`` for timestamps), as the KSS document writes them.

``redact_headers(headers, secret_headers=()) -> dict`` and ``redact_url(url) -> str``
    For anything printed or logged: ``x-api-key``, ``Authorization``, cookies and any header or query
    parameter that looks like a key or token become ``****``.

``new_request_id() -> str``: a short alphanumeric id for ``X-Request-Id``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
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
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from sheetsync.errors import (
    AmbiguousOutcomeError,
    ApiError,
    AuthError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)

log = logging.getLogger("sheetsync.http")

SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_WORDS = ("key", "token", "secret", "password", "auth")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REFUSED_STATUSES = frozenset({429})  # the request was refused before processing: safe to send again, even a POST
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
USER_AGENT = "sheetsync (+https://github.com/sheetsync)"


def request_label(method: str | None, endpoint: str) -> str:
    """ "POST payments/applications/requested" for messages, whether or not `endpoint` (a registry key)
    already names its method."""
    method = method or "GET"
    return endpoint if endpoint.startswith(f"{method} ") else f"{method} {endpoint}"


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


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


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


def _local_time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch).astimezone()


def _describe_recovery(recovers_at: datetime) -> str:
    return f"quota recovers at {recovers_at:%Y-%m-%d %H:%M:%S %Z}".rstrip()


MessageOf = Callable[[Any], "str | None"]  # an API's error body -> its own error text


def error_for_response(
    response: requests.Response,
    *,
    endpoint: str,
    api_message: str | None = None,
    request_id: str | None = None,
    clock: Callable[[], float] = time.time,
    message: str | None = None,
) -> ApiError:
    """The typed ApiError for a final 4xx/5xx response (never includes a key: the URL is not used)."""
    status = response.status_code
    where = f"{response.request.method if response.request else 'GET'} {endpoint}"
    kwargs: dict[str, Any] = {
        "status": status,
        "api_message": api_message,
        "request_id": request_id,
        "endpoint": endpoint,
    }
    if status == 429:
        recovers_at = _recovery_time(response, clock)
        detail = _describe_recovery(recovers_at) if recovers_at else "try again later"
        text = message or f"{where}: 429 rate limit reached; {detail}"
        return RateLimitedError(text, recovers_at=recovers_at, **kwargs)
    cls, default = _error_kind(status)
    return cls(message or f"{where}: {default}", **kwargs)


def _error_kind(status: int) -> tuple[type[ApiError], str]:
    if status == 401:
        return AuthError, "401 unauthorized (the API key is missing or not valid here)"
    if status == 403:
        return ForbiddenError, "403 forbidden for this key"
    if status == 404:
        return NotFoundError, "404 not found"
    if status in (400, 422):
        return BadRequestError, f"{status} bad request"
    if status == 408:
        return ServerError, "408 request timeout"
    if status >= 500:
        return ServerError, f"{status} server error"
    if status >= 400:
        return BadRequestError, f"{status} refused"
    return ApiError, f"unexpected status {status}"


def _recovery_time(response: requests.Response, clock: Callable[[], float]) -> datetime | None:
    wait = parse_retry_after(response.headers.get("Retry-After"), now=clock())
    if wait is None:
        wait = _float_header(response.headers, "RateLimit-Reset")
    return _local_time(clock() + wait) if wait is not None else None


def json_body(response: requests.Response) -> Any:
    """The parsed JSON of a response (numbers with a point as Decimal), or None when it is not JSON."""
    if not response.content:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return None


def checked_body(
    response: requests.Response,
    *,
    endpoint: str,
    message_of: MessageOf,
    request_id: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Any:
    """The JSON body of a successful answer; the typed error (with the API's own text) otherwise."""
    body = json_body(response)
    if response.status_code >= 400:
        api_message = message_of(body) if body is not None else None
        raise error_for_response(
            response, endpoint=endpoint, api_message=api_message, request_id=request_id, clock=clock
        )
    if body is None:
        method = response.request.method if response.request else "GET"
        raise ApiError(
            f"{request_label(method, endpoint)}: the answer was not JSON (status {response.status_code})",
            status=response.status_code,
            request_id=request_id,
            endpoint=endpoint,
        )
    return body


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, TypeError, ValueError):
        return None


def _never_connected(exc: BaseException) -> bool:
    """True when the request certainly did not reach the server (connect refused/timed out)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        inner = exc.args[0]
        if isinstance(inner, MaxRetryError) and isinstance(inner.reason, NewConnectionError):
            return True
        if isinstance(inner, NewConnectionError):
            return True
    return False


class _Pacer:
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
            recovers_at = _local_time(self.clock() + wait)
            raise RateLimitedError(
                f"GET {endpoint}: {why}; {_describe_recovery(recovers_at)}",
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
        remaining = _float_header(headers, "RateLimit-Remaining")
        reset = _float_header(headers, "RateLimit-Reset")
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
        self.pacer = _Pacer(requests_per_hour=requests_per_hour, max_wait=self.retry.max_wait, sleep=sleep, clock=clock)

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
        transient = retry_if_exception(_is_transient) if idempotent else retry_never
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
            if idempotent and _is_transient(exc):
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
        if not idempotent and not _never_connected(exc):
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


def host_of(url: str) -> str:
    """The host (and port) of a URL, for messages: "api.kssdata.com", "127.0.0.1:9"."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1] or "the API"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps (args, reason, __cause__, __context__), depth-first, each once."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [*current.args, getattr(current, "reason", None), current.__cause__, current.__context__]
        stack += [n for n in nested if isinstance(n, BaseException)]


def transport_reason(exc: BaseException) -> str:
    """A few words on why a request got no answer: "the host name does not resolve", "connection refused"..."""
    causes = list(_causes(exc))
    if any(isinstance(c, NameResolutionError | socket.gaierror) for c in causes):
        return "the host name does not resolve"
    if any(isinstance(c, requests.exceptions.InvalidHeader) for c in causes):
        return "a header value is not valid (an API key with a line break or space?)"
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "Connection refused" in str(exc):
        return "connection refused"
    if any(isinstance(c, requests.exceptions.SSLError) for c in causes):
        return "TLS/SSL handshake failed"
    if any(isinstance(c, requests.exceptions.ConnectTimeout) for c in causes):
        return "connection timed out"
    if any(isinstance(c, requests.exceptions.ReadTimeout | TimeoutError) for c in causes):
        return "no answer in time"
    if any(isinstance(c, ConnectionResetError) for c in causes):
        return "connection reset"
    return type(exc).__name__


def _is_transient(exc: BaseException) -> bool:
    """Worth retrying: a connection or timeout error, but not a name that does not resolve (fails at once)."""
    if any(isinstance(c, NameResolutionError | socket.gaierror) for c in _causes(exc)):
        return False
    return isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout)


def _default_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session
