"""The queries a definition needs: templated, deduplicated, batched and run concurrently.

Sources run in waves: every source whose dependencies are fetched runs in the same wave, each of
its queries (one per batch of dependent IDs) on a thread pool. Identical queries (same API,
endpoint and parameters) are sent once per run, whichever sources ask for them. A dependent
parameter that resolves to no values sends no request at all (an unfiltered query would return
everything).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sheetsync.definition import Definition, FromSource, SourceSpec
from sheetsync.expr import Template

MAX_IDS_PER_REQUEST = 300
MAX_VALUE_CHARS = 5000  # keeps a request URL under about 6 KB with the other parameters
WORKERS = 4

QueryKey = tuple[str, str, tuple[tuple[str, Any], ...]]


@dataclass
class FetchResult:
    records: dict[str, list[dict[str, Any]]]
    queries: int  # distinct queries sent
    fetched_at: datetime
    skipped: list[str] = field(default_factory=list)  # sources with an empty dependent parameter


Caller = Callable[[str, str, dict[str, Any]], list[dict[str, Any]]]


def client_caller(connections: Any) -> Caller:
    """Call the KSS or Kotis client of `connections` for one query (clients are built once, under a lock)."""
    lock = threading.Lock()

    def call(api: str, endpoint: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with lock:
            client = connections.kotis if api == "kotis" else connections.kss
        if api == "kotis":
            result = getattr(client, endpoint)(**params)
            return list(result.get("Data", [result]) if isinstance(result, dict) else result)
        return list(client.get_all(endpoint, params))

    return call


def resolve_values(records: Iterable[Mapping[str, Any]], paths: Sequence[str]) -> list[Any]:
    """Distinct non-null values at dotted `paths`, lists flattened (Invoices_1_30.InvoiceID), in order."""
    seen: dict[Any, None] = {}
    for record in records:
        for path in paths:
            for value in _walk(record, path.split(".")):
                if value is not None and value != "":
                    seen.setdefault(value, None)
    return list(seen)


def _walk(value: Any, parts: list[str]) -> Iterator[Any]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item, parts)
        return
    if not parts:
        yield value
        return
    if isinstance(value, Mapping):
        yield from _walk(value.get(parts[0]), parts[1:])


def batches(values: Sequence[Any], *, size: int = MAX_IDS_PER_REQUEST, chars: int = MAX_VALUE_CHARS) -> list[list[Any]]:
    """Split values so each batch holds at most `size` values and `chars` characters comma-joined."""
    out: list[list[Any]] = []
    current: list[Any] = []
    length = 0
    for value in values:
        width = len(str(value)) + 1
        if current and (len(current) >= size or length + width > chars):
            out.append(current)
            current, length = [], 0
        current.append(value)
        length += width
    if current:
        out.append(current)
    return out


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, date | Decimal | int | str | bool) or value is None:
        return value
    return str(value)


class Fetcher:
    """Runs the sources of one definition; reuse one Fetcher to share identical queries across reports."""

    def __init__(self, caller: Caller, *, workers: int = WORKERS, progress: bool | None = None) -> None:
        self.caller = caller
        self.workers = workers
        self.progress = sys.stderr.isatty() if progress is None else progress
        self._futures: dict[QueryKey, Future[list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self.queries = 0

    def run(self, definition: Definition, params: Mapping[str, Any]) -> FetchResult:
        records: dict[str, list[dict[str, Any]]] = {}
        skipped: list[str] = []
        pending = dict(definition.sources)
        with ThreadPoolExecutor(max_workers=self.workers) as pool, _progress(self.progress, pending) as tick:
            while pending:
                wave = [s for s in pending.values() if s.depends_on <= set(records)]
                if not wave:  # the definition validator refuses cycles; this is a guard
                    raise RuntimeError(f"sources depend on each other: {', '.join(pending)}")
                planned = {s.name: self._plan(s, params, records) for s in wave}
                futures = {name: [self._submit(pool, key) for key in keys] for name, keys in planned.items()}
                for source in wave:
                    if not planned[source.name] and any(isinstance(v, FromSource) for v in source.params.values()):
                        skipped.append(source.name)
                    records[source.name] = [r for f in futures[source.name] for r in f.result()]
                    tick(source.name, len(records[source.name]))
                    del pending[source.name]
        return FetchResult(records, self.queries, datetime.now().astimezone(), skipped)

    def _plan(
        self,
        source: SourceSpec,
        params: Mapping[str, Any],
        records: Mapping[str, list[dict[str, Any]]],
    ) -> list[QueryKey]:
        """The queries of one source: one, or one per batch of its dependent parameter's values."""
        fixed: dict[str, Any] = {}
        dependent: tuple[str, list[Any]] | None = None
        for name, value in source.params.items():
            if isinstance(value, FromSource):
                values = resolve_values(records[value.source], value.paths)
                if not values:
                    return []
                dependent = (name, values)
            elif isinstance(value, Template):
                rendered = value.render({"params": params})
                if rendered is not None and rendered != [] and rendered != "":
                    fixed[name] = rendered
            else:
                fixed[name] = value
        if dependent is None:
            return [self._key(source, fixed)]
        name, values = dependent
        return [self._key(source, {**fixed, name: batch}) for batch in batches(values)]

    @staticmethod
    def _key(source: SourceSpec, params: Mapping[str, Any]) -> QueryKey:
        return source.api, source.endpoint, tuple(sorted((k, _freeze(v)) for k, v in params.items()))

    def _submit(self, pool: ThreadPoolExecutor, key: QueryKey) -> Future[list[dict[str, Any]]]:
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                api, endpoint, frozen = key
                params = {k: list(v) if isinstance(v, tuple) else v for k, v in frozen}
                future = pool.submit(self.caller, api, endpoint, params)
                self._futures[key] = future
                self.queries += 1
            return future


@contextmanager
def _progress(enabled: bool, sources: Mapping[str, SourceSpec]) -> Iterator[Callable[[str, int], None]]:
    """A rich progress line on a terminal (stderr), nothing otherwise."""
    if not enabled:
        yield lambda name, count: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.monotonic()
    with Progress(
        TextColumn("[bold]fetching[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} sources"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(", ".join(sources), total=len(sources))

        def tick(name: str, count: int) -> None:
            bar.update(task, advance=1, description=f"{name} ({count} records, {time.monotonic() - started:.1f}s)")

        yield tick
