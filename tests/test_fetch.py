"""Fetching: templated params, dependent IDs batched, identical queries once, empty dependencies skipped."""

from __future__ import annotations

import threading
import time
from datetime import date

from sheetsync.definition import parse_definition
from sheetsync.fetch import Fetcher, batches, resolve_values

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

    def __call__(self, api: str, endpoint: str, params: dict) -> list[dict]:
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
    assert len(product_calls) == 3  # 700 ids -> 300 + 300 + 100
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
    started = time.monotonic()
    run(api)
    assert api.max_active >= 2
    assert time.monotonic() - started < 0.75  # 3 independent + 1 dependent, not 4 x 0.2 in a row


def test_resolve_values_flattens_nested_lists() -> None:
    records = [{"A": [{"ID": 1}, {"ID": 2}], "B": [{"ID": 2}]}, {"A": [], "B": [{"ID": 3}, {"ID": None}]}]
    assert resolve_values(records, ["A.ID", "B.ID"]) == [1, 2, 3]


def test_batches_respect_size_and_characters() -> None:
    assert [len(b) for b in batches(list(range(10)), size=4)] == [4, 4, 2]
    long_ids = [10**9 + i for i in range(1000)]
    assert all(len(",".join(map(str, b))) <= 5000 for b in batches(long_ids))
