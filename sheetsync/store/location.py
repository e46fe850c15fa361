"""Where the state store lives: a SQLite file path or a PostgreSQL URL, and how to show it safely.

One setting names the store (`SHEETSYNC_DB`, `[paths] db`): a file path (SQLite, the default) or a
`postgresql://user:password@host:port/database` URL. The password (in the URL or its query string)
is replaced by `***` wherever the location is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sheetsync.config import redact_url
from sheetsync.errors import StoreError

POSTGRES_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class Location:
    """A parsed store location. `url` is for SQLAlchemy only; `shown` is safe to print."""

    backend: str  # "sqlite" or "postgresql"
    url: URL
    path: Path | None  # the SQLite file
    shown: str


def parse_location(text: str | Path) -> Location:
    """A path (or sqlite:///path) -> SQLite; postgresql:// or postgres:// -> PostgreSQL (psycopg 3).
    Raises StoreError naming the redacted location for any other scheme."""
    raw = str(text).strip()
    if not raw:
        raise StoreError("the state store location is empty; set SHEETSYNC_DB to a file path or a postgresql:// URL")
    match = _SCHEME.match(raw)
    if match is None:
        return _sqlite(Path(raw).expanduser())
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        return _sqlite(Path(raw[len("sqlite:///") :]).expanduser())
    if scheme.split("+")[0] not in POSTGRES_SCHEMES:
        raise StoreError(f"the state store location {redact_url(raw)} is neither a file path nor a postgresql:// URL")
    try:
        url = make_url(raw).set(drivername="postgresql+psycopg")
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise StoreError(f"the state store URL {redact_url(raw)} is malformed: {exc}") from None
    return Location("postgresql", url, None, redact_url(raw))


def _sqlite(path: Path) -> Location:
    path = path.absolute()
    return Location("sqlite", URL.create("sqlite", database=str(path)), path, str(path))
