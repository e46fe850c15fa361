"""Fetching: templated params, dependent IDs batched, identical queries once, empty dependencies skipped."""

from __future__ import annotations

import threading
import time
from datetime import date

from sheetsync.definition import parse_definition
from sheetsync.fetch import Fetcher, batches, resolve_values
from sheetsync.paging import Limiter, Page, predicted_pages

TEXT = """
name: t
params:
  customer_ids: {type: int_list, required: true}
  day: {type: date}
sources:
  pricing:
    endpoint: customerPricing
    params: {CustomerIDs: "{{ params.customer_ids }}", EffectiveDate: "{{ params.day }}"}
  products:
    endpoint: products
    params: {ProductIDs: "{{ sources.pricing.ProductID }}"}
  customers:
    endpoint: customers
    params: {CustomerIDs: "{{ params.customer_ids }}"}
  customers_again:
    endpoint: customers
    params: {CustomerIDs: "{{ params.customer_ids }}"}
  categories: {endpoint: productCategories}
tabs: [{from: pricing, columns: [UnitPrice]}]
"""


class FakeApi:
    def __init__(self, pricing_rows: int = 3, delay: float = 0.0) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.pricing_rows = pricing_rows
        self.delay = delay
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    def __call__(self, api: str, endpoint: str, params: dict, page: int) -> Page:
        return Page(self.records(api, endpoint, params), False)

    def records(self, api: str, endpoint: str, params: dict) -> list[dict]:
        with self.lock:
            self.calls.append((api, endpoint, params))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(self.delay)
        with self.lock:
            self.active -= 1
        if endpoint == "customerPricing":
            return [{"ProductID": 1000 + i, "CustomerID": 1} for i in range(self.pricing_rows)]
        if endpoint == "products":
            return [{"ProductID": i} for i in params["ProductIDs"]]
        return [{"endpoint": endpoint}]


def run(api: FakeApi, params: dict | None = None):
    definition = parse_definition(TEXT, "t.yaml")
    return Fetcher(api, progress=False).run(definition, params or {"customer_ids": [1, 2], "day": None})


def test_templated_params_and_identical_queries_once() -> None:
    api = FakeApi()
    result = run(api)
    endpoints = sorted(c[1] for c in api.calls)
    assert endpoints == ["customerPricing", "customers", "productCategories", "products"]
    pricing = next(c for c in api.calls if c[1] == "customerPricing")
    assert pricing[2] == {"CustomerIDs": [1, 2]}  # a null optional param is not sent
    assert result.records["customers_again"] == result.records["customers"]
    assert result.queries == 4


def test_dependent_ids_are_batched_not_per_row() -> None:
    api = FakeApi(pricing_rows=700)
    result = run(api, {"customer_ids": [1], "day": date(2026, 1, 1)})
    product_calls = [c for c in api.calls if c[1] == "products"]
    assert len(product_calls) == 2  # 700 ids -> 500 + 200: one page each
    assert all(len(",".join(map(str, c[2]["ProductIDs"]))) < 6000 for c in product_calls)
    assert len(result.records["products"]) == 700
    assert next(c for c in api.calls if c[1] == "customerPricing")[2]["EffectiveDate"] == date(2026, 1, 1)


def test_empty_dependency_sends_nothing() -> None:
    api = FakeApi(pricing_rows=0)
    result = run(api)
    assert not [c for c in api.calls if c[1] == "products"]
    assert result.records["products"] == [] and result.skipped == ["products"]


def test_independent_sources_run_concurrently() -> None:
    api = FakeApi(delay=0.2)
    run(api)
    assert api.max_active == 3  # the 3 independent sources in flight together (no wall-clock bound: see benchmarks/)


def test_resolve_values_flattens_nested_lists() -> None:
    records = [{"A": [{"ID": 1}, {"ID": 2}], "B": [{"ID": 2}]}, {"A": [], "B": [{"ID": 3}, {"ID": None}]}]
    assert resolve_values(records, ["A.ID", "B.ID"]) == [1, 2, 3]


def test_batches_respect_size_and_characters() -> None:
    assert [len(b) for b in batches(list(range(10)), size=4)] == [4, 4, 2]
    long_ids = [10**9 + i for i in range(1000)]
    assert all(len(",".join(map(str, b))) <= 5000 for b in batches(long_ids))


# ---- pages: predicted pages together, within the limiter --------------------------------------
PAGED = """
name: paged
params:
  customer_ids: {type: int_list, required: true}
sources:
  pricing:
    endpoint: customerPricing
    params: {CustomerIDs: "{{ params.customer_ids }}"}
tabs: [{from: pricing, columns: [UnitPrice]}]
"""


class PagedApi:
    """customerPricing with `per_id` rows per customer, grouped by customer, in pages of 500."""

    def __init__(self, per_id: int, delay: float = 0.05, fail_page: int | None = None) -> None:
        self.per_id, self.delay, self.fail_page = per_id, delay, fail_page
        self.pages: list[int] = []
        self.active = self.max_active = 0
        self.lock = threading.Lock()

    def __call__(self, api: str, endpoint: str, params: dict, page: int) -> Page:
        with self.lock:
            self.pages.append(page)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(self.delay)
        with self.lock:
            self.active -= 1
        if page == self.fail_page:
            raise RuntimeError(f"page {page} failed")
        rows = [{"CustomerID": c, "ProductID": p} for c in params["CustomerIDs"] for p in range(self.per_id)]
        return Page(rows[(page - 1) * 500 : page * 500], page * 500 < len(rows))


def fetch_paged(api, ids, **kw):
    definition = parse_definition(PAGED, "paged.yaml")
    return Fetcher(api, progress=False, **kw).run(definition, {"customer_ids": ids})


def test_predicted_pages_are_fetched_together_within_five_percent_of_the_minimum() -> None:
    api = PagedApi(per_id=230)
    result = fetch_paged(api, list(range(1, 61)))  # 13,800 rows: 28 pages
    expected = [{"CustomerID": c, "ProductID": p} for c in range(1, 61) for p in range(230)]
    assert result.records["pricing"] == expected  # every row once, in order
    assert len(api.pages) == len(set(api.pages))  # no page twice
    assert set(api.pages) - set(range(1, 29)) <= {29}  # past 20 pages, one spare request past the end at most
    assert result.minimum_requests == 28 and result.requests == len(api.pages) <= 28 * 1.05
    assert 2 < api.max_active <= 8
    assert result.traces[0].predicted >= 26


def test_the_highest_predicted_page_goes_first() -> None:
    """Its answer says whether more pages follow: sent before the pages in between, not after them."""
    api = PagedApi(per_id=230)
    fetch_paged(api, list(range(1, 61)))
    first_batch = api.pages[1:9]  # the eight sent once page 1 predicted the rest
    assert api.pages[1] == max(first_batch) > 9
    assert sorted(first_batch[1:]) == list(range(2, 9))


def test_query_without_id_list_pages_one_by_one() -> None:
    api = PagedApi(per_id=1200)
    result = fetch_paged(api, [7])  # one ID: nothing to predict from
    assert api.pages == [1, 2, 3] and api.max_active == 1
    assert len(result.records["pricing"]) == 1200


def test_a_failed_needed_page_fails_the_fetch() -> None:
    import pytest

    with pytest.raises(RuntimeError, match="page 5 failed"):
        fetch_paged(PagedApi(per_id=230, fail_page=5), list(range(1, 61)))


def test_no_quota_left_means_one_request_at_a_time() -> None:
    api = PagedApi(per_id=230)
    result = fetch_paged(api, list(range(1, 61)), standing=lambda: (0, 0))
    assert api.max_active == 1 and len(result.records["pricing"]) == 13800


def test_limiter_halves_after_a_429_and_grows_back() -> None:
    throttled = [0]
    limiter = Limiter(8, lambda: (None, throttled[0]))
    with limiter.slot():
        throttled[0] = 1
    assert limiter.window == 4
    for _ in range(8 * 4):
        with limiter.slot():
            pass
    assert limiter.window == 8


def test_predicted_pages_formula() -> None:
    assert predicted_pages(500, 3, 60, 500) == 24  # 200 rows per ID
    assert predicted_pages(499, 3, 60, 500) == 1  # a short page is the last
    assert predicted_pages(500, 0, 60, 500) == 1  # the ID field is not in the records


def test_sandbox_price_list_pages_match_a_sequential_read(fresh_sandbox) -> None:
    from types import SimpleNamespace

    from sheetsync.apis.kss import KssClient
    from sheetsync.fetch import client_caller

    info = fresh_sandbox.info
    kss = KssClient(info.kss, info.keys["employee"])
    ids = list(range(1, 41))
    sequential = kss.get_all("customerPricing", {"CustomerIDs": ids})
    before = len(fresh_sandbox.requests_log())
    result = fetch_paged(client_caller(SimpleNamespace(kss=kss, _kss=kss)), ids)
    received = fresh_sandbox.requests_log()[before:]
    assert result.records["pricing"] == sequential
    assert len(received) == result.minimum_requests == -(-len(sequential) // 500) > 2


# ---- the quota, end to end against the sandbox ------------------------------------------------
def _quota_run(rate_limit: int, burst_429: int = 0):
    from types import SimpleNamespace

    from sheetsync.apis.kss import KssClient
    from sheetsync.fetch import client_caller
    from sheetsync.sandbox.server import SandboxOptions, start_sandbox

    options = SandboxOptions(rate_limit=rate_limit, burst_429=burst_429)
    with start_sandbox(options=options) as sb:
        kss = KssClient(sb.info.kss, sb.info.keys["employee"], sleep=lambda s: None)
        caller = client_caller(SimpleNamespace(kss=kss, _kss=kss))
        try:
            result = fetch_paged(caller, list(range(1, 41)))
        except Exception as exc:  # the test inspects it
            result = exc
        return result, sb.requests_log()


def test_a_quota_just_large_enough_is_spent_without_a_429() -> None:
    result, log = _quota_run(rate_limit=10_000)
    needed = len(log)
    result, log = _quota_run(rate_limit=needed)
    assert not isinstance(result, Exception), result
    assert len(log) == needed and all(entry["status"] == 200 for entry in log)


def test_a_quota_too_small_stops_with_a_message_instead_of_hammering() -> None:
    from sheetsync.errors import RateLimitedError

    result, log = _quota_run(rate_limit=2)  # the query needs 3 pages
    assert isinstance(result, RateLimitedError) and "rate limit" in str(result)
    assert len(log) <= 3  # the quota, and at most the one request whose 429 told the reset time


def test_429s_are_retried_and_the_data_is_complete() -> None:
    result, log = _quota_run(rate_limit=10_000, burst_429=3)
    assert not isinstance(result, Exception), result
    assert [entry["status"] for entry in log].count(429) == 3
    assert len(result.records["pricing"]) > 1000


def test_the_client_caller_reads_the_quota_of_real_connections(tmp_path) -> None:
    """The limiter sees RateLimit-Remaining through the Connections a command opens."""
    from sheetsync.config import load_settings
    from sheetsync.connect import open_connections
    from sheetsync.fetch import client_caller
    from sheetsync.sandbox.server import SandboxOptions, start_sandbox

    with start_sandbox(options=SandboxOptions(rate_limit=50)) as sb:
        environ = {"KSS_BASE_URL": sb.info.kss, "KSS_API_KEY": sb.info.keys["employee"]}
        with open_connections(load_settings(environ, cwd=tmp_path)) as connections:
            caller = client_caller(connections)
            assert caller.standing() == (None, 0)  # nothing sent yet
            fetch_paged(caller, [1, 2])
            remaining, throttled = caller.standing()
    assert remaining == 50 - len(sb.requests_log()) and throttled == 0
