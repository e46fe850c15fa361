"""ETag cache for conditional GETs, kept per API key and never shared between keys.

``EtagCache(cache_dir, api_key)`` opens ``<cache_dir>/kss-etags-<sha256(key)[:16]>.sqlite3``: the file
name carries a hash of the key, the key itself is never written. Entries are keyed by the request's
path and query (no host, no headers), and hold the response's ``ETag`` and body.

``lookup(url) -> (etag, body) | None``, ``store(url, etag, body)``. The client sends ``If-None-Match``
with the stored ETag and, on ``304 Not Modified``, reads the stored body instead (counted as
``not_modified`` in ``RequestStats``).

Why not requests-cache: it can leave ``x-api-key`` out of the cache key, but then separating keys
needs one cache per key anyway, and it hides the 304 behind a 200 from the cache, which the request
counting and the replayed tests need to see. This store is small and explicit.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

from sheetsync.errors import ConfigError


def key_fingerprint(api_key: str) -> str:
    """A short, non-reversible name for an API key (sha256 prefix)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def cache_key(url: str) -> str:
    """Path and query of a URL, so that the sandbox's changing port does not matter."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


class EtagCache:
    """A small sqlite store of ETag + body per request, one file per API key."""

    def __init__(self, cache_dir: Path, api_key: str, *, prefix: str = "kss") -> None:
        cache_dir = Path(cache_dir)
        self.path = cache_dir / f"{prefix}-etags-{key_fingerprint(api_key)}.sqlite3"
        self._lock = threading.Lock()
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as db, db:
                db.execute("PRAGMA journal_mode=WAL")  # kept by the file: readers never wait for a writer
                db.execute("CREATE TABLE IF NOT EXISTS etags (url TEXT PRIMARY KEY, etag TEXT NOT NULL, body BLOB)")
        except (OSError, sqlite3.Error) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            kind = "is a file, not a directory" if cache_dir.is_file() else f"cannot be used ({why})"
            raise ConfigError(f"cache directory {cache_dir} {kind} (SHEETSYNC_CACHE_DIR)") from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        # A cache may lose its last entries in a power cut (never its consistency): no fsync per store,
        # which cost 3-20 ms per page and held up the pages fetched concurrently.
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def lookup(self, url: str) -> tuple[str, bytes] | None:
        with self._lock, closing(self._connect()) as db, db:
            row = db.execute("SELECT etag, body FROM etags WHERE url = ?", (cache_key(url),)).fetchone()
        return (row[0], bytes(row[1])) if row else None

    def store(self, url: str, etag: str, body: bytes) -> None:
        with self._lock, closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO etags (url, etag, body) VALUES (?, ?, ?)", (cache_key(url), etag, body))

    def clear(self) -> None:
        with self._lock, closing(self._connect()) as db, db:
            db.execute("DELETE FROM etags")
