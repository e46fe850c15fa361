"""One base exception, one subclass per stage, and the exit codes the CLI maps them to.

Every error carries a message a person can act on in one line. API errors also carry the HTTP
status, the API's own `Error` text and the response's `X-Request-Id` (what KSS support asks for).
Secrets never go into a message: build messages from redacted URLs and parameters only.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """The process exit codes, documented in the README. The one list the whole project uses."""

    OK = 0
    PARTIAL = 1  # the command ran, but some rows or items failed (a plan with rejected rows, say)
    USAGE = 2  # usage or input error: bad option, parameter, definition, sheet or credential file
    API = 3  # API, auth or quota error: nothing more could be done
    UNKNOWN_OUTCOME = 4  # a request may or may not have taken effect: reconcile before retrying
    INTERNAL = 70  # a bug in sheetsync (EX_SOFTWARE)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class SheetsyncError(Exception):
    """Base of every error sheetsync raises on purpose."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(SheetsyncError):
    """Settings, keys or credentials are missing or malformed."""


class DefinitionError(SheetsyncError):
    """A report definition is wrong. The message names the file, the line and the key."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}{message}")
        self.file = file
        self.line = line


class DefinitionErrors(DefinitionError):
    """Several mistakes in one definition, each `file:line: message` on a line of its own, in file order."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        SheetsyncError.__init__(self, "\n".join(e.message for e in errors))
        self.file, self.line, self.errors = errors[0].file, errors[0].line, errors


class ParameterError(SheetsyncError):
    """A query or report parameter is unknown, mistyped or missing (refused before any request)."""


class ApiError(SheetsyncError):
    """An API answered with an error, or could not be reached."""

    exit_code = ExitCode.API

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        api_message: str | None = None,
        request_id: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        parts = [message]
        if api_message and api_message not in message:
            parts.append(f"API says: {api_message}")
        if request_id:
            parts.append(f"request id {request_id}")
        super().__init__(" | ".join(parts))
        self.status = status
        self.api_message = api_message
        self.request_id = request_id
        self.endpoint = endpoint


class AuthError(ApiError):
    """401: the key is missing or wrong for this environment."""


class ForbiddenError(ApiError):
    """403, or refused locally because this key type may not call the endpoint."""


class NotFoundError(ApiError):
    """404: no such endpoint or record."""


class BadRequestError(ApiError):
    """400: the API refused a parameter."""


class RateLimitedError(ApiError):
    """429 beyond what a short wait could fix. `recovers_at` says when the quota comes back."""

    def __init__(self, message: str, *, recovers_at: datetime | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.recovers_at = recovers_at


class ServerError(ApiError):
    """5xx after the allowed retries, or a connection that kept failing."""


class AmbiguousOutcomeError(ApiError):
    """A write was sent and no answer came back: it may or may not have taken effect."""

    exit_code = ExitCode.UNKNOWN_OUTCOME


class RenderError(SheetsyncError):
    """A report could not be laid out (bad data for a column format, a tab over a limit)."""


class SinkError(SheetsyncError):
    """A workbook or Google Sheet could not be read or written."""


class PushError(SheetsyncError):
    """The reverse path could not plan or post (a malformed allocation sheet, a held lock)."""


class StoreError(SheetsyncError):
    """The state store (SQLite file or PostgreSQL server) could not be opened, upgraded or written.
    Messages name the store by its redacted location: never a password."""


class OutcomeNotRecordedError(StoreError):
    """A request was sent and answered, but the state store could not record the answer: the next run
    reconciles it against the API before sending anything."""

    exit_code = ExitCode.UNKNOWN_OUTCOME


class LockHeldError(StoreError):
    """A named lock of the state store is held by someone else; the message names the owner and expiry.
    `holder` is the lock's row (a `sheetsync.store.LockInfo`) when the store knows it."""

    holder: Any = None


class DeliveryError(SheetsyncError):
    """An e-mail or an alert webhook could not be delivered (the message names the server, never a password).

    `delivered` is False when the message surely did not go, None when it may have (mailer.deliver);
    `server` is True when the mail server or its settings failed (connection, login), not this message."""

    exit_code = ExitCode.API
    delivered: bool | None = False
    server: bool = False


class ScheduleError(SheetsyncError):
    """The schedule cannot run a job (unknown job, a lock held elsewhere, a store that cannot be opened)."""
