"""The HTTP side of the Sheets sink: gspread's HTTPClient with bounded backoff, call counting, and
Google errors turned into one-line sheetsync errors.

Tests inject the HTTP session (`session=`) or, for in-process CLI runs, a session factory
(`set_session_factory`) so that every request goes to an in-memory double instead of Google.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from google.auth.credentials import Credentials
from google.auth.exceptions import RefreshError
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL, SPREADSHEET_URL

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
from sheetsync.sinks.google_auth import account_email

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SessionFactory = Callable[[Credentials], requests.Session]
_session_factory: SessionFactory | None = None


def set_session_factory(factory: SessionFactory | None) -> None:
    """Route every Sheets client built without an explicit session through `factory` (tests)."""
    global _session_factory
    _session_factory = factory


def make_session(credentials: Credentials, session: requests.Session | None = None) -> requests.Session:
    if session is not None:
        return session
    if _session_factory is not None:
        return _session_factory(credentials)
    from google.auth.transport.requests import AuthorizedSession

    return AuthorizedSession(credentials)


class SheetsClient(HTTPClient):
    """gspread's HTTP client with bounded exponential backoff on 408/429/5xx and an injectable sleep."""

    def __init__(
        self,
        credentials: Credentials,
        spreadsheet_id: str,
        *,
        session: requests.Session | None = None,
        max_retries: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 32.0,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 120.0,
    ) -> None:
        super().__init__(credentials, session=make_session(credentials, session))
        self.credentials = credentials
        self.spreadsheet_id = spreadsheet_id
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.timeout = timeout
        self.calls: dict[str, int] = {"get": 0, "batchUpdate": 0}
        self.retries = 0

    # -- the three calls the sink makes --------------------------------------------------------
    def get_spreadsheet(self, fields: str, *, ranges: list[str] | None = None, grid: bool = False) -> dict:
        params: dict[str, Any] = {"fields": fields}
        if ranges:
            params["ranges"] = ranges
        if grid:
            params["includeGridData"] = "true"
        self.calls["get"] += 1
        return self.request("get", SPREADSHEET_URL % self.spreadsheet_id, params=params).json()

    def batch_update(self, id: str, body: Mapping[str, Any] | None) -> Any:
        self.calls["batchUpdate"] += 1
        return self.request("post", SPREADSHEET_BATCH_UPDATE_URL % id, json=body).json()

    def update(self, requests_: list[dict]) -> dict:
        return self.batch_update(self.spreadsheet_id, {"requests": requests_, "includeSpreadsheetInResponse": False})

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    # -- retries and errors -------------------------------------------------------------------
    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        attempt = 0
        while True:
            try:
                return super().request(method, endpoint, *args, **kwargs)
            except APIError as exc:
                status = exc.code if isinstance(exc.code, int) else exc.response.status_code
                if status not in RETRY_STATUSES or attempt >= self.max_retries:
                    raise self._error(exc, status, retried=attempt) from None
                self.sleep(self._delay(attempt, exc.response))
            except RefreshError as exc:
                who = account_email(self.credentials) or "the signed-in account"
                raise AuthError(
                    f"Google refused a token for {who}: {_first_line(exc)}; check the credentials "
                    "or run `sheetsync auth login` again"
                ) from None
            except requests.ConnectionError as exc:
                if method.lower() != "get":
                    raise AmbiguousOutcomeError(
                        f"the connection to Google Sheets dropped during a {_what(endpoint)}: it may or may not have "
                        "been applied; a refresh is safe to run again",
                        endpoint=_what(endpoint),
                    ) from exc
                if attempt >= self.max_retries:
                    raise ServerError(f"Google Sheets could not be reached ({exc.__class__.__name__})") from exc
                self.sleep(self._delay(attempt, None))
            attempt += 1
            self.retries += 1

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.max_delay)
        return min(self.base_delay * 2**attempt, self.max_delay) * (1 + random.random() / 4)

    def _error(self, exc: APIError, status: int, *, retried: int) -> ApiError:
        api_message = str(exc.error.get("message", ""))[:300]
        what = _what(exc.response.request.url or "")
        sheet = f"Google Sheet {self.spreadsheet_id}"
        if status in (403, 404):
            email = account_email(self.credentials)
            who = f"the service account {email}" if email else "the signed-in Google account"
            cls = ForbiddenError if status == 403 else NotFoundError
            return cls(
                f"{sheet} is not shared with {who} (or does not exist): share it with "
                f"{email or 'that account'} as an editor",
                status=status,
                endpoint=what,
            )
        if status == 401:
            return AuthError(
                f"Google rejected the credentials for {sheet}: check the credentials file "
                "or run `sheetsync auth login`",
                status=status,
                api_message=api_message,
                endpoint=what,
            )
        if status == 429:
            return RateLimitedError(
                f"Google Sheets quota exceeded for {sheet} after {retried} retries; wait a minute and run again",
                status=status,
                endpoint=what,
            )
        if status >= 500 or status == 408:
            return ServerError(
                f"Google Sheets failed ({status}) on {what} of {sheet} after {retried} retries",
                status=status,
                api_message=api_message,
                endpoint=what,
            )
        return BadRequestError(
            f"Google Sheets refused the {what} of {sheet} ({status})",
            status=status,
            api_message=api_message,
            endpoint=what,
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else exc.__class__.__name__


def _what(url: str) -> str:
    return "batchUpdate" if ":batchUpdate" in url else "read"
