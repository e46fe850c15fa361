"""The queries a definition needs: templated, deduplicated, batched and run concurrently.

A source starts as soon as the sources it depends on are fetched; sources that do not depend on
each other run at the same time. A dependent ID list is split into queries that fit in a URL
(`batches`); identical queries (same API, endpoint and parameters) are sent once per Fetcher,
whichever sources ask for them. A dependent parameter that resolves to no values sends no request
at all (an unfiltered query would return everything). Each query's pages are fetched by
`paging.QueryRun` (predicted pages together), every request through one adaptive `paging.Limiter`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from sheetsync.definition import Definition, FromSource, SourceSpec
from sheetsync.expr import Template
from sheetsync.paging import PAGE_SIZE, Limiter, Page, PriorityPool, QueryRun, QueryTrace, Standing

if TYPE_CHECKING:
    from sheetsync.apis.kotis import KotisClient
    from sheetsync.apis.kss import KssClient

MAX_IDS_PER_REQUEST = PAGE_SIZE  # a lookup by ID answers one page: more IDs would only add pages
MAX_VALUE_CHARS = 5000  # keeps a request URL under about 6 KB with the other parameters
CONCURRENCY = 8  # requests in flight at most (the Limiter lowers it for the quota and after 429s)

QueryKey = tuple[str, str, tuple[tuple[str, Any], ...]]


@dataclass
class FetchResult:
    records: dict[str, list[dict[str, Any]]]
    queries: int  # distinct queries sent
    fetched_at: datetime
    skipped: list[str] = field(default_factory=list)  # sources with an empty dependent parameter
    traces: list[QueryTrace] = field(default_factory=list)  # one per query this run needed

    @property
    def requests(self) -> int:
        """Page requests sent for this run's queries (predicted pages past the end included)."""
        return sum(t.requests for t in self.traces)

    @property
    def minimum_requests(self) -> int:
        """The fewest page requests these queries could take: one per 500 rows, at least one per query."""
        return sum(max(1, -(-t.rows // PAGE_SIZE)) for t in self.traces)


Caller = Callable[[str, str, dict[str, Any], int], Page]  # (api, endpoint, params, page number) -> Page


class ApiClients(Protocol):
    """Where the clients come from: connect.Connections (or a test's stand-in with the same two)."""

    @property
    def kss(self) -> KssClient: ...

    @property
    def kotis(self) -> KotisClient: ...


class ClientCaller:
    """Pages from the KSS or Kotis client of `connections` (clients are built once, under a lock)."""

    def __init__(self, connections: ApiClients) -> None:
        self.connections = connections
        self._lock = threading.Lock()
        self._kss: KssClient | None = None  # once a KSS page was asked for

    def __call__(self, api: str, endpoint: str, params: dict[str, Any], page: int) -> Page:
        if api == "kotis":  # Kotis GETs are not paged
            with self._lock:
                kotis = self.connections.kotis
            return Page(kotis.get_all(endpoint, params), False)
        with self._lock:
            kss = self._kss = self.connections.kss
        rows, has_next = kss.get_page(endpoint, params, page=page, page_size=PAGE_SIZE)
        return Page(rows, has_next)

    def standing(self) -> tuple[int | None, int]:
        """The KSS client's quota left and 429s so far ((None, 0) before a KSS page was asked for)."""
        with self._lock:
            kss = self._kss
        return kss.http.standing() if kss is not None else (None, 0)


def client_caller(connections: ApiClients) -> ClientCaller:
    return ClientCaller(connections)


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

    def __init__(
        self,
        caller: Caller,
        *,
        concurrency: int = CONCURRENCY,
        standing: Standing | None = None,
        progress: bool | None = None,
    ) -> None:
        self.caller = caller
        self.limiter = Limiter(concurrency, standing or getattr(caller, "standing", None))
        self.progress = sys.stderr.isatty() if progress is None else progress
        self._runs: dict[QueryKey, QueryRun] = {}
        self._changed = threading.Condition()
        self.queries = 0

    def run(self, definition: Definition, params: Mapping[str, Any]) -> FetchResult:
        records: dict[str, list[dict[str, Any]]] = {}
        skipped: list[str] = []
        pending = dict(definition.sources)
        running: dict[str, list[QueryRun]] = {}
        used: list[QueryRun] = []
        levels = _levels(definition)
        pool = PriorityPool(self.limiter.limit)
        try:
            with _progress(self.progress, pending) as tick:
                while pending or running:
                    for source in [s for s in pending.values() if s.depends_on <= set(records)]:
                        keys = self._plan(source, params, records)
                        if not keys and any(isinstance(v, FromSource) for v in source.params.values()):
                            skipped.append(source.name)
                        running[source.name] = [self._start(pool, key, levels[source.name]) for key in keys]
                        used += running[source.name]
                        del pending[source.name]
                    if not running:  # the definition validator refuses cycles; this is a guard
                        raise RuntimeError(f"sources depend on each other: {', '.join(pending)}")
                    for name in self._wait_for_any(running):
                        records[name] = [r for run in running.pop(name) for r in run.records()]
                        tick(name, len(records[name]))
        finally:
            pool.shutdown(cancel_futures=True)
            for key in [k for k, run in self._runs.items() if not run.done]:
                del self._runs[key]  # abandoned by an error: a later run() starts it afresh
        traces = list({id(run): run.trace for run in used}.values())
        return FetchResult(records, self.queries, datetime.now().astimezone(), skipped, traces)

    def traces(self) -> list[QueryTrace]:
        """What every query this Fetcher sent cost (all its runs so far)."""
        return [run.trace for run in self._runs.values()]

    def _wait_for_any(self, running: Mapping[str, list[QueryRun]]) -> list[str]:
        """The running sources whose queries are all done (waits until there is one)."""
        with self._changed:
            while True:
                finished = [name for name, runs in running.items() if all(run.done for run in runs)]
                if finished:
                    return finished
                self._changed.wait(timeout=1.0)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _start(self, pool: PriorityPool, key: QueryKey, level: int) -> QueryRun:
        run = self._runs.get(key)
        if run is not None:
            return run
        api, endpoint, frozen = key
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in frozen}

        def fetch(page: int) -> Page:
            return self.caller(api, endpoint, params, page)

        run = QueryRun(fetch, QueryTrace(endpoint, level), _id_param(params), self._notify)
        self._runs[key] = run
        self.queries += 1
        run.start(pool, self.limiter)
        return run

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


def _levels(definition: Definition) -> dict[str, int]:
    """Each source's dependency depth: 0 without dependencies, else one more than its deepest dependency."""
    levels: dict[str, int] = {}

    def level(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name not in levels:
            deps = definition.sources[name].depends_on - seen
            levels[name] = 1 + max((level(d, seen | {name}) for d in deps), default=-1)
        return levels[name]

    for name in definition.sources:
        level(name)
    return levels


def _id_param(params: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    """(record field, IDs) of the longest ID-list parameter (CustomerIDs -> CustomerID), if any."""
    lists = [(name, value) for name, value in params.items() if name.endswith("IDs") and isinstance(value, list)]
    if not lists:
        return None
    name, ids = max(lists, key=lambda item: len(item[1]))
    return (name[:-1], ids) if len(ids) > 1 else None


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
