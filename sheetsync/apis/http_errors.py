"""What went wrong with a request, as one typed exception: the mapping of error answers and dropped
connections shared by the KSS, Kotis and Google Sheets clients (``http.py`` sends, this names the failure).

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

``transport_reason(exc) -> str``
    A few words on why a request got no answer ("connection refused", "the host name does not resolve").
    ``is_transient(exc)`` says whether it is worth retrying, ``never_connected(exc)`` whether the request
    certainly did not reach the server (so even a POST may be sent again).
"""

from __future__ import annotations

import email.utils
import json
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from sheetsync.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)


def request_label(method: str | None, endpoint: str) -> str:
    """ "POST payments/applications/requested" for messages, whether or not `endpoint` (a registry key)
    already names its method."""
    method = method or "GET"
    return endpoint if endpoint.startswith(f"{method} ") else f"{method} {endpoint}"


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


def local_time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch).astimezone()


def describe_recovery(recovers_at: datetime) -> str:
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
        detail = describe_recovery(recovers_at) if recovers_at else "try again later"
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
        wait = float_header(response.headers, "RateLimit-Reset")
    return local_time(clock() + wait) if wait is not None else None


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


def float_header(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, TypeError, ValueError):
        return None


def never_connected(exc: BaseException) -> bool:
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


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: a connection or timeout error, but not a name that does not resolve (fails at once)."""
    if any(isinstance(c, NameResolutionError | socket.gaierror) for c in _causes(exc)):
        return False
    return isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout)
