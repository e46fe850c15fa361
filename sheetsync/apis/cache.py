"""ETag cache for conditional GETs, kept per API key and never shared between keys.

``EtagCache(cache_dir, api_key)`` opens ``<cache_dir>/kss-etags-<sha256(key)[:16]>.sqlite3``: the file
name carries a hash of the key, the key itself is never written. Entries are keyed by the request's
path and query (no host, no headers), and hold the response's ``ETag`` and body.

``lookup(url) -> (etag, body) | None``, ``store(url, etag, body)``. The client sends ``If-None-Match``
with the stored ETag and, on ``304 Not Modified``, reads the stored body instead (counted as
``not_modified`` in ``RequestStats``). ``store`` only queues the entry: one writer thread commits the
queue in batches, so pages fetched at once never wait for each other's disk writes; ``lookup`` sees
queued entries, ``flush()`` waits for the queue, and the writer is not a daemon thread, so a normal
exit finishes it (a killed process loses only its last entries, which a cache may).

Why not requests-cache: it can leave ``x-api-key`` out of the cache key, but then separating keys
needs one cache per key anyway, and it hides the 304 behind a 200 from the cache, which the request
counting and the replayed tests need to see. This store is small and explicit.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sheetsync.errors import ConfigError

log = logging.getLogger("sheetsync.cache")


def key_fingerprint(api_key: str) -> str:
    """A short, non-reversible name for an API key (sha256 prefix)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def cache_key(url: str) -> str:
    """Path and query of a URL, so that the sandbox's changing port does not matter."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class _Queue:
    """Entries stored but not yet committed to one cache file, and the thread committing them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    entries: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # cache key -> (etag, body)
    writer: threading.Thread | None = None


_QUEUES: dict[Path, _Queue] = {}
_QUEUES_LOCK = threading.Lock()


def _queue_of(path: Path) -> _Queue:
    with _QUEUES_LOCK:
        return _QUEUES.setdefault(path.resolve(), _Queue())


class EtagCache:
    """A small sqlite store of ETag + body per request, one file per API key."""

    def __init__(self, cache_dir: Path, api_key: str, *, prefix: str = "kss") -> None:
        cache_dir = Path(cache_dir)
        self.path = cache_dir / f"{prefix}-etags-{key_fingerprint(api_key)}.sqlite3"
        self._queue = _queue_of(self.path)  # shared by every EtagCache of this file in the process
        self._readers = threading.local()
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            # one setup at a time per file: two threads switching a new file to WAL at once get "database is locked"
            with self._queue.lock, closing(self._connect()) as db, db:
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
        key = cache_key(url)
        queue = self._queue
        with queue.lock:
            queued = queue.entries.get(key)
        if queued is not None:
            return queued
        row = self._reader().execute("SELECT etag, body FROM etags WHERE url = ?", (key,)).fetchone()
        return (row[0], bytes(row[1])) if row else None

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection, kept (opening one costs more than the read itself)."""
        reader: sqlite3.Connection | None = getattr(self._readers, "db", None)
        if reader is None:
            reader = self._readers.db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        return reader

    def store(self, url: str, etag: str, body: bytes) -> None:
        """Queue an entry; the writer thread commits it with the others queued meanwhile."""
        queue = self._queue
        with queue.lock:
            queue.entries[cache_key(url)] = (etag, body)
            if queue.writer is None:
                queue.writer = threading.Thread(target=self._write_queued, name="sheetsync-etags")
                queue.writer.start()

    def flush(self) -> None:
        """Wait until every queued entry is committed."""
        with self._queue.lock:
            writer = self._queue.writer
        if writer is not None:
            writer.join()

    def clear(self) -> None:
        self.flush()
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM etags")

    def _write_queued(self) -> None:
        """Commit the queue in batches until it stays empty, then end (a later store starts a new writer)."""
        queue = self._queue
        while True:
            with queue.lock:
                batch = dict(queue.entries)
                if not batch:
                    queue.writer = None
                    return
            try:
                with closing(self._connect()) as db, db:
                    rows = [(key, etag, body) for key, (etag, body) in batch.items()]
                    db.executemany("INSERT OR REPLACE INTO etags (url, etag, body) VALUES (?, ?, ?)", rows)
            except (sqlite3.Error, OSError) as exc:  # a cache that cannot be written is only slower next time
                log.warning("ETag cache %s not written: %s", self.path, exc)
            finally:
                with queue.lock:
                    for key, entry in batch.items():
                        if queue.entries.get(key) is entry:
                            del queue.entries[key]
