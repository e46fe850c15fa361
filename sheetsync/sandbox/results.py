"""Full results of the sandbox's GET queries, computed once per query and sliced per page.

A KSS query's pages differ only in `Page`/`PageSize`, so the server keys a result by everything
else (route, path id, payments revision, the caller's key scope, the other query parameters) and
serves every page from the same list. Any write (a POST, `advance()`) clears the whole cache: the
sandbox is small enough that exact invalidation is not worth its bookkeeping.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, overload

from werkzeug.datastructures import MultiDict

PAGING_PARAMS = frozenset({"Page", "PageSize"})
MAX_QUERIES = 32  # results kept; a run pages at most a few dozen queries at once
MAX_ROWS = 400_000  # rows kept across results (a single larger result is still kept)


def query_key(args: MultiDict, *parts: Hashable) -> tuple:
    """`parts` plus the non-paging parameters as the handlers read them (empty values dropped, repeats joined)."""
    normalised = []
    for name in sorted(set(args.keys()) - PAGING_PARAMS):
        values = [v for v in args.getlist(name) if v != ""]
        if values:
            normalised.append((name, ",".join(values)))
    return (*parts, tuple(normalised))


class ResultCache:
    """A small LRU of full query results (lists of rows), bounded by query count and total rows."""

    def __init__(self, max_queries: int = MAX_QUERIES, max_rows: int = MAX_ROWS) -> None:
        self.max_queries, self.max_rows = max_queries, max_rows
        self._results: OrderedDict[tuple, Sequence[dict]] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()
        self.computed = 0  # results computed since start (misses), for tests and benchmarks

    def rows_for(self, key: tuple, compute: Callable[[], Sequence[dict]]) -> Sequence[dict]:
        """The cached result for `key`, computing (and keeping) it on a miss; errors are not cached."""
        with self._lock:
            rows = self._results.get(key)
            if rows is not None:
                self._results.move_to_end(key)
                return rows
        rows = compute()
        with self._lock:
            self.computed += 1
            replaced = self._results.pop(key, None)
            self._rows -= len(replaced) if replaced is not None else 0
            self._results[key] = rows
            self._rows += len(rows)
            self._evict()
        return rows

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
            self._rows = 0

    def _evict(self) -> None:
        while len(self._results) > 1 and (len(self._results) > self.max_queries or self._rows > self.max_rows):
            _, rows = self._results.popitem(last=False)
            self._rows -= len(rows)


class LazyRows(Sequence[dict]):
    """A result whose rows are rendered when a page asks for them (once each): the first page of a
    large query then costs its filter and one page of rendering, not the rendering of every row."""

    def __init__(self, items: Iterable[Any], render: Callable[[Any], dict]) -> None:
        self._items = list(items)
        self._render = render
        self._rows: dict[int, dict] = {}

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> dict: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict]: ...

    def __getitem__(self, index: int | slice) -> dict | list[dict]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self._items)))]
        return self._row(index if index >= 0 else len(self._items) + index)

    def _row(self, index: int) -> dict:
        row = self._rows.get(index)
        if row is None:
            row = self._rows[index] = self._render(self._items[index])
        return row
