"""The pages of one query, fetched concurrently when they can be predicted, within an adaptive limit.

KSS reports no total count, only `HasNextPage`, so a query's pages are sequential unless we can
predict how many there are. A query filtered by an ID list can: KSS answers such a query grouped by
ID, so the IDs on a full first page tell the rows per ID, hence the pages the whole list needs. Those
pages are then requested together; pages past the prediction follow as `HasNextPage` asks, one at a
time and, once a query is past 20 pages, one more per 20 pages (a request past the end costs at most
5% then). Splitting the ID list into smaller queries instead would cost a partly filled last page per
batch (more requests); fetching predicted pages of the one query costs a request only when the
prediction overshoots, so it stops short of the prediction (`PREDICTION_SHARE`).

`PriorityPool` sends the most urgent page first: a page whose answer decides whether more pages follow
(page 1, the last page asked for so far) before the pages in between, so the sequential tail of a
query overlaps its middle instead of coming after it.

`Limiter` caps the requests in flight: at most `limit`, never more than the quota the API's
`RateLimit-Remaining` and the client's hourly budget leave, halved after a 429 and grown back by one
per `limit` answers without one (additive increase, multiplicative decrease).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PAGE_SIZE = 500  # the documented maximum
PREDICTION_SHARE = 0.95  # pages requested ahead: at most this share of the predicted count

Standing = Callable[[], tuple[int | None, int]]  # (requests that may still be sent, 429s so far)


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    has_next: bool


PageFetch = Callable[[int], Page]  # page number (1-based) -> that page of one query
URGENT, LATER = 0, 1  # PriorityPool priorities: a page that decides what follows, any other page


class PriorityPool:
    """Worker threads that run the most urgent task first (lowest priority, then the oldest)."""

    def __init__(self, workers: int, name: str = "sheetsync-fetch") -> None:
        self._queue: list[tuple[int, int, Future[None], Callable[[], None]]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}") for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, task: Callable[[], None], priority: int = LATER) -> Future[None]:
        future: Future[None] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            heapq.heappush(self._queue, (priority, next(self._order), future, task))
            self._cond.notify()
        return future

    def shutdown(self, *, cancel_futures: bool = False) -> None:
        """Stop taking tasks, run (or cancel) the queued ones, and wait for the workers."""
        with self._cond:
            self._closed = True
            if cancel_futures:
                for _, _, future, _ in self._queue:
                    future.cancel()
                self._queue.clear()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                _, _, future, task = heapq.heappop(self._queue)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                task()
            except BaseException as exc:  # handed to whoever waits on the future, as an Executor does
                future.set_exception(exc)
            else:
                future.set_result(None)


class Limiter:
    """Requests in flight at once, adapted to the API's quota and 429s. See the module docstring."""

    def __init__(self, limit: int, standing: Standing | None = None) -> None:
        self.limit = max(1, limit)
        self.standing = standing
        self.window = float(self.limit)
        self.peak = 0  # most requests ever in flight at once
        self._active = 0
        self._throttled_seen = 0
        self._cond = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the request slots while sending one request."""
        with self._cond:
            while not self._may_start():
                self._cond.wait(timeout=0.25)
            self._active += 1
            self.peak = max(self.peak, self._active)
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._adapt()
                self._cond.notify_all()

    def _may_start(self) -> bool:
        if self._active >= int(self.window):
            return False
        remaining = self.standing()[0] if self.standing else None
        # in-flight requests are already off `remaining`; with none left one goes on to wait in the pacer
        return remaining is None or remaining > 0 or self._active == 0

    def _adapt(self) -> None:
        throttled = self.standing()[1] if self.standing else 0
        if throttled > self._throttled_seen:
            self._throttled_seen = throttled
            self.window = max(1.0, self.window / 2)
        else:
            self.window = min(float(self.limit), self.window + 1 / self.limit)


def predicted_pages(rows: int, ids_seen: int, ids: int, page_size: int) -> int:
    """Pages a query over `ids` IDs likely needs, when its first full pages held `rows` rows of
    `ids_seen` of those IDs; 1 when it cannot tell.

    Rows arrive grouped by ID, so rows per ID = rows / IDs seen (the last one seen may go on, so it
    counts half). Rows not grouped show every ID at once, which predicts about two pages: no harm."""
    if not ids_seen or rows < page_size:
        return 1
    per_id = rows / max(1.0, ids_seen - 0.5)
    return max(1, math.ceil(ids * per_id / page_size))


@dataclass
class QueryTrace:
    """What one query cost: pages it needed, requests sent (pages past the end included), timing."""

    endpoint: str
    level: int  # dependency depth of the source that asked first (0 = no dependency)
    rows: int = 0
    pages: int = 0  # pages up to the last one (the minimum for this query: max(1, ceil(rows / 500)))
    requests: int = 0  # page requests sent, including predicted pages that turned out to be past the end
    predicted: int = 1  # pages predicted from page 1 (1 = no prediction: sequential)
    rounds: int = 0  # fewest requests in a row it needs: min(pages, 2) with an ID list, else pages
    started: float = 0.0  # time.monotonic() when its first request was sent
    finished: float = 0.0  # ... and when its last needed answer arrived


@dataclass
class QueryRun:
    """One query's pages: page 1, then the predicted pages together, then the rest as they are known."""

    fetch: PageFetch
    trace: QueryTrace
    id_param: tuple[str, list[Any]] | None  # (record field, requested IDs) when the query has an ID list
    on_done: Callable[[], None]
    page_size: int = PAGE_SIZE
    pages: dict[int, Page] = field(default_factory=dict)
    errors: dict[int, BaseException] = field(default_factory=dict)
    done: bool = False
    _futures: dict[int, Future[None]] = field(default_factory=dict)
    _prefix: int = 0  # full pages received in a row from page 1 ...
    _prefix_rows: int = 0  # ... their rows ...
    _seen: set[Any] = field(default_factory=set)  # ... and the requested IDs seen on them
    _wanted: set[Any] = field(default_factory=set)  # the requested IDs
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, pool: PriorityPool, limiter: Limiter) -> None:
        self._pool, self._limiter = pool, limiter
        self._wanted = {v for v in self.id_param[1] if isinstance(v, int | str)} if self.id_param else set()
        self._submit([1])

    def records(self) -> list[dict[str, Any]]:
        """All records in page order; raises the error of a needed page."""
        for number in range(1, len(self.pages) + len(self.errors) + 1):
            if number in self.errors:
                raise self.errors[number]
            page = self.pages[number]
            if not page.has_next:
                return [row for n in range(1, number + 1) for row in self.pages[n].rows]
        raise RuntimeError("records() before the query finished")

    def _submit(self, numbers: list[int]) -> None:
        """Queue pages; the highest new one decides whether more follow, so it goes first."""
        new = [n for n in numbers if n not in self._futures]
        frontier = max(new, default=0)
        for number in new:
            priority = URGENT if number == frontier else LATER
            self._futures[number] = self._pool.submit(functools.partial(self._fetch_one, number), priority)

    def _fetch_one(self, number: int) -> None:
        with self._limiter.slot():
            if self.done:  # a predicted page past an end found meanwhile: not sent
                return
            sent = time.monotonic()
            try:
                page: Page | None = self.fetch(number)
                error: BaseException | None = None
            except Exception as exc:  # kept, and raised by records() if this page was needed
                page, error = None, exc
            answered = time.monotonic()
        self._arrived(number, page, error, sent, answered)

    def _arrived(self, number: int, page: Page | None, error: BaseException | None, sent: float, at: float) -> None:
        with self._lock:
            if self.done:
                self.trace.requests += 1
                return
            trace = self.trace
            trace.requests += 1
            trace.started = min(trace.started or sent, sent)
            if page is None:
                self.errors[number] = error or RuntimeError("no page")
            else:
                self.pages[number] = page
                trace.finished = max(trace.finished, at)
                self._next(number, page)
            self._check_done()
        if self.done:
            self.on_done()

    def _next(self, number: int, page: Page) -> None:
        """After a page that says more follow: re-predict, then ask for the next page and, past 20
        pages, one more per 20 (at most one request past the end per 20 pages needed: within 5%)."""
        if not page.has_next:
            return
        if self.id_param is not None:
            self._predict()
        spare = int(number * (1 - PREDICTION_SHARE))
        self._submit(list(range(number + 1, number + 2 + spare)))

    def _predict(self) -> None:
        """(Re)predict from the full pages received in a row from page 1; request up to the prediction."""
        field_name = self.id_param[0] if self.id_param else ""
        advanced = False
        while (page := self.pages.get(self._prefix + 1)) is not None and page.has_next:
            self._prefix += 1
            self._prefix_rows += len(page.rows)
            values = (row.get(field_name) for row in page.rows)
            self._seen.update(v for v in values if isinstance(v, int | str) and v in self._wanted)
            advanced = True
        if not advanced:
            return
        predicted = predicted_pages(self._prefix_rows, len(self._seen), len(self._wanted), self.page_size)
        self.trace.predicted = max(self.trace.predicted, predicted)
        self._submit(list(range(2, _ahead(self.trace.predicted) + 1)))

    def _check_done(self) -> None:
        number = 1
        while number in self.pages and self.pages[number].has_next:
            number += 1
        last = self.pages.get(number)
        if last is None and number not in self.errors:
            return
        self.done = True
        for future in self._futures.values():
            future.cancel()  # predicted pages past the end that have not started
        trace = self.trace
        trace.pages = number
        trace.rows = sum(len(self.pages[n].rows) for n in range(1, number + 1) if n in self.pages)
        # the fewest requests in a row this query needs: page 1, then (with an ID list to predict from)
        # every other page at once; without one, each page waits for the one before
        trace.rounds = min(number, 2) if self.id_param is not None else number


def _ahead(predicted: int) -> int:
    """The last page requested together with the others once `predicted` pages are expected."""
    return max(2, int(predicted * PREDICTION_SHARE))
