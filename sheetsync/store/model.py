"""The values the state store reads and writes: records, events, notes, actors and locks."""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utc_now() -> str:
    """Now as the store writes times: ISO 8601 in UTC with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def first_line(exc: BaseException) -> str:
    """A database error as one line: the driver's own message (SQLAlchemy's `orig`), URL passwords hidden."""
    from sheetsync.config import redact_url

    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines() or [type(original).__name__]
    return redact_url(lines[0])


def key_fingerprint(api_key: str | None) -> str:
    """A short, stable name for an API key that does not reveal it: `sha256:` + 12 hex digits."""
    if not api_key:
        return ""
    return "sha256:" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Actor:
    """Who does what the store records: the operating-system user, the host, the process and the
    fingerprint of the API key in use (never the key)."""

    user: str
    host: str
    pid: int
    key_fingerprint: str = ""

    @classmethod
    def current(cls, api_key: str | None = None) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no login name (a container running as an unnamed uid)
            user = f"uid {os.getuid()}"
        return cls(user, socket.gethostname(), os.getpid(), key_fingerprint(api_key))

    @property
    def owner(self) -> str:
        """How a lock names its holder: `user@host pid N`."""
        return f"{self.user}@{self.host} pid {self.pid}"


@dataclass(frozen=True)
class Record:
    """The latest state of one thing, keyed by (kind, key).

    kind: the feature's namespace ("payments", "kotis.orders", "schedule.jobs", "statements.sent").
    key: a stable identity within the kind (an AllocationID, a sheet row fingerprint, a job name).
    state: the feature's own state name ("sending", "posted", "sent", ...).
    data: the feature's fields, JSON (money as strings, never floats).
    attempts: how many times `Store.put` set this record (each put is a new intent).
    created_at, updated_at: ISO 8601 UTC text.
    """

    kind: str
    key: str
    state: str
    data: Mapping[str, Any]
    attempts: int
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Note:
    """What an event says about a write besides kind, key and state: the input to the history.

    action: "intent", "outcome", "approve", "run", "sent", ... (the feature's verb).
    source: the workbook, sheet or job the thing came from; row: its row number there.
    external_id: what the API answered (a RequestID, a Kotis order id, a message id).
    run_id: the run that did it. message: one line for a person. data: anything else (JSON).
    """

    action: str
    source: str = ""
    row: int | None = None
    external_id: str = ""
    run_id: str = ""
    message: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """One line of the append-only history: a Note with who, when and the state it led to."""

    id: int
    at: str  # ISO 8601 UTC
    kind: str
    key: str
    action: str
    state: str
    user: str
    host: str
    key_fingerprint: str
    source: str
    row: int | None
    external_id: str
    run_id: str
    message: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class LockInfo:
    """A named lock as the store shows it: who holds it, since when, until when (ISO 8601 UTC)."""

    name: str
    owner: str
    acquired_at: str
    expires_at: str
    token: str = field(default="", repr=False)  # this holder's claim on the row (released by it only)

    def describe(self) -> str:
        return f"held by {self.owner} since {self.acquired_at[:19]}Z, expires {self.expires_at[:19]}Z"
