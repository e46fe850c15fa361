"""The HTTP side of the Sheets sink: gspread's HTTPClient whose requests go through sheetsync's one HTTP
layer (``apis/http.py``: the same retry policy, request counting and error mapping as the KSS and Kotis
clients), with Google's errors turned into one-line sheetsync errors that name the spreadsheet.

Tests inject the HTTP session (`session=`) or, for in-process CLI runs, a session factory
(`set_session_factory`) so that every request goes to an in-memory double instead of Google;
`http_client=` takes another class of the HTTP layer (as gspread's ``Client(http_client=...)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import requests
from google.auth.credentials import Credentials
from google.auth.exceptions import RefreshError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL, SPREADSHEET_URL

from sheetsync.apis.http import HttpClient, RequestStats, RetryPolicy, error_for_response, json_body
from sheetsync.errors import AmbiguousOutcomeError, ApiError, AuthError, ServerError
from sheetsync.sinks.google_auth import account_email

SessionFactory = Callable[[Credentials], requests.Session]
_session_factory: SessionFactory | None = None
CALLS = {"get": "spreadsheets.get", "batchUpdate": "spreadsheets.batchUpdate"}  # short name -> counter name


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
    """gspread's HTTP client sending through sheetsync's HTTP layer (408/429/5xx retried with backoff,
    a batchUpdate never sent twice unless refused with 429) with an injectable sleep."""

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
        stats: RequestStats | None = None,
        http_client: type[HttpClient] = HttpClient,
    ) -> None:
        super().__init__(credentials, session=make_session(credentials, session))
        self.credentials = credentials
        self.spreadsheet_id = spreadsheet_id
        self.timeout = timeout
        retry = RetryPolicy(max_retries=max_retries, base=base_delay, cap=max_delay)
        self.http = http_client(session=self.session, timeout=timeout, retry=retry, sleep=sleep, stats=stats)
        self.stats = self.http.stats

    # -- the three calls the sink makes --------------------------------------------------------
    def get_spreadsheet(self, fields: str, *, ranges: list[str] | None = None, grid: bool = False) -> dict:
        params: dict[str, Any] = {"fields": fields}
        if ranges:
            params["ranges"] = ranges
        if grid:
            params["includeGridData"] = "true"
        return self.request("get", SPREADSHEET_URL % self.spreadsheet_id, params=params).json()

    def batch_update(self, id: str, body: Mapping[str, Any] | None) -> Any:
        return self.request("post", SPREADSHEET_BATCH_UPDATE_URL % id, json=body).json()

    def update(self, requests_: list[dict]) -> dict:
        return self.batch_update(self.spreadsheet_id, {"requests": requests_, "includeSpreadsheetInResponse": False})

    # -- counting (the HTTP layer's counters) ----------------------------------------------------
    @property
    def calls(self) -> dict[str, int]:
        """Logical calls by kind ("get", "batchUpdate"), retries not counted."""
        counts = self.stats.as_dict()
        return {short: _calls(counts.get(name, {})) for short, name in CALLS.items()}

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def retries(self) -> int:
        counts = self.stats.as_dict()
        return sum(counts.get(name, {}).get("retries", 0) for name in CALLS.values())

    # -- sending and errors -------------------------------------------------------------------
    def request(
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        """One Sheets API call through the shared HTTP layer; a failed answer raises a sheetsync error."""
        if files is not None:
            raise ValueError("SheetsClient does not upload files")
        what = _what(endpoint)
        before = self.retries
        try:
            response = self.http.send(
                method, endpoint, endpoint=CALLS[what], headers=headers, params=params, json=json, data=data
            )
        except RefreshError as exc:
            who = account_email(self.credentials) or "the signed-in account"
            raise AuthError(
                f"Google refused a token for {who}: {_first_line(exc)}; check the credentials "
                "or run `sheetsync auth login` again"
            ) from None
        except AmbiguousOutcomeError as exc:
            raise AmbiguousOutcomeError(
                f"the connection to Google Sheets dropped during a {_label(what)}: it may or may not have "
                "been applied; a refresh is safe to run again",
                endpoint=_label(what),
            ) from exc
        except ServerError as exc:  # the HTTP layer raises it only when no answer came back
            raise ServerError(f"Google Sheets could not be reached ({exc.__cause__ or exc})") from exc
        if response.ok:
            return response
        raise self._error(response, retried=self.retries - before)

    def _error(self, response: requests.Response, *, retried: int) -> ApiError:
        status, what = response.status_code, _label(_what(response.request.url or ""))
        return error_for_response(
            response,
            endpoint=what,
            api_message=google_message(json_body(response)),
            message=self._explain(status, what, retried),
        )

    def _explain(self, status: int, what: str, retried: int) -> str:
        """What a person should do about a failed Sheets call, naming the spreadsheet."""
        sheet = f"Google Sheet {self.spreadsheet_id}"
        if status in (403, 404):
            email = account_email(self.credentials)
            who = f"the service account {email}" if email else "the signed-in Google account"
            return (
                f"{sheet} is not shared with {who} (or does not exist): share it with "
                f"{email or 'that account'} as an editor"
            )
        if status == 401:
            return (
                f"Google rejected the credentials for {sheet}: check the credentials file or run `sheetsync auth login`"
            )
        if status == 429:
            return f"Google Sheets quota exceeded for {sheet} after {retried} retries; wait a minute and run again"
        if status >= 500 or status == 408:
            return f"Google Sheets failed ({status}) on {what} of {sheet} after {retried} retries"
        return f"Google Sheets refused the {what} of {sheet} ({status})"


def google_message(body: Any) -> str | None:
    """Google's own error text: `error.message` of an error body (at most 300 characters)."""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message)[:300] if message else None


def _calls(counts: Mapping[str, int]) -> int:
    return counts.get("requests", 0) - counts.get("retries", 0)


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else exc.__class__.__name__


def _what(url: str) -> str:
    return "batchUpdate" if ":batchUpdate" in url else "get"


def _label(what: str) -> str:
    return "batchUpdate" if what == "batchUpdate" else "read"
