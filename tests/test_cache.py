"""The ETag cache: entries queued by store() are seen at once and committed by its writer thread."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sheetsync.apis.cache import EtagCache

URL = "http://127.0.0.1:5000/kss/api/v1/products?Page=1&PageSize=500"


def committed(cache: EtagCache) -> dict[str, tuple[str, bytes]]:
    with closing(sqlite3.connect(cache.path)) as db:
        return {url: (etag, bytes(body)) for url, etag, body in db.execute("SELECT url, etag, body FROM etags")}


def test_a_stored_entry_is_seen_by_every_cache_of_the_file_and_committed(tmp_path: Path) -> None:
    cache = EtagCache(tmp_path, "key-1")
    cache.store(URL, '"v1"', b'{"Data": []}')
    other = EtagCache(tmp_path, "key-1")  # another client of the same key in this process
    assert other.lookup(URL.replace("5000", "6000")) == ('"v1"', b'{"Data": []}')  # the port does not matter
    cache.flush()
    assert committed(cache) == {"/kss/api/v1/products?Page=1&PageSize=500": ('"v1"', b'{"Data": []}')}


def test_the_latest_store_of_a_url_wins_and_keys_stay_apart(tmp_path: Path) -> None:
    cache = EtagCache(tmp_path, "key-1")
    for version in range(20):
        cache.store(URL, f'"v{version}"', b"body %d" % version)
    cache.flush()
    assert EtagCache(tmp_path, "key-1").lookup(URL) == ('"v19"', b"body 19")
    assert EtagCache(tmp_path, "key-2").lookup(URL) is None


def test_clear_empties_queued_and_committed_entries(tmp_path: Path) -> None:
    cache = EtagCache(tmp_path, "key-1")
    cache.store(URL, '"v1"', b"x")
    cache.clear()
    assert cache.lookup(URL) is None and committed(cache) == {}
