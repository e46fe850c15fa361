"""The sandbox computes a query's result once and serves every page from it; writes invalidate it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import requests

from sheetsync.sandbox.results import LazyRows, ResultCache


def _get(sb, path: str, params: dict | str, key: str = "employee") -> dict:
    r = requests.get(f"{sb.info.kss}/{path}", params=params, headers={"x-api-key": sb.info.keys[key]}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def handler_calls(fresh_sandbox) -> Iterator[list[str]]:
    """Records the query string of every customerPricing/customers handler call of `fresh_sandbox`."""
    calls: list[str] = []
    routes = fresh_sandbox.app.kss.routes
    for name in ("customerPricing", "customers"):
        route = routes[(name, "GET")]

        def counting(ctx, _handler=route.handler, _name=name):
            calls.append(f"{_name}?{ctx.args.to_dict(flat=False)}")
            return _handler(ctx)

        routes[(name, "GET")] = dataclasses.replace(route, handler=counting)
    yield calls


def test_pages_of_one_query_are_computed_once(fresh_sandbox, handler_calls) -> None:
    ids = ",".join(str(c) for c in range(1, 41))
    pages, page = [], 1
    while True:
        body = _get(fresh_sandbox, "customerPricing", {"CustomerIDs": ids, "PageSize": 50, "Page": page})
        pages.append(body["Data"])
        if not body["HasNextPage"]:
            break
        page += 1
    assert len(pages) > 3
    assert len(handler_calls) == 1
    rows = [r for p in pages for r in p]
    assert len({(r["CustomerID"], r["ProductID"]) for r in rows}) == len(rows)  # pages do not overlap
    whole = _get(fresh_sandbox, "customerPricing", {"CustomerIDs": ids, "PageSize": 500 * 50})
    assert len(handler_calls) == 1
    assert whole["Data"][:500] == rows[:500]


def test_repeated_parameters_are_the_same_query_and_other_filters_are_not(fresh_sandbox, handler_calls) -> None:
    joined = _get(fresh_sandbox, "customerPricing", "CustomerIDs=1,2&PageSize=5")
    repeated = _get(fresh_sandbox, "customerPricing", "CustomerIDs=1&CustomerIDs=2&PageSize=5&Page=1")
    assert repeated["Data"] == joined["Data"] and len(handler_calls) == 1
    other = _get(fresh_sandbox, "customerPricing", "CustomerIDs=3&PageSize=5")
    assert len(handler_calls) == 2
    assert {r["CustomerID"] for r in other["Data"]} == {3}


def test_key_scopes_do_not_share_results(fresh_sandbox, handler_calls) -> None:
    everyone = _get(fresh_sandbox, "customers", {"PageSize": 500})["Data"]
    mine = _get(fresh_sandbox, "customers", {"PageSize": 500}, key="customer")["Data"]
    assert len(handler_calls) == 2
    assert 0 < len(mine) < len(everyone)


def _requests_of(sb, ar: int) -> list[dict]:
    return _get(sb, "payments/applications/requested", {"ARAccountIDs": ar, "PageSize": 500})["Data"]


def test_posts_and_advance_invalidate_results(fresh_sandbox) -> None:
    sb = fresh_sandbox
    payment = max(_get(sb, "payments", {"PageSize": 500})["Data"], key=lambda p: float(p["AvailableBalance"] or 0))
    ar = payment["ARAccountID"]
    target = next(
        i
        for i in _get(sb, "payments/openInvoices", {"ARAccountIDs": ar, "PageSize": 500})["Data"]
        if float(i["OpenBalance"]) >= 1
    )
    before = _requests_of(sb, ar)
    posted = requests.post(
        f"{sb.info.kss}/payments/applications/requested",
        params={
            "PaymentInvoiceNum": payment["PaymentInvoiceNum"],
            "TargetInvoiceNum": target["InvoiceNum"],
            "ARAccountID": ar,
            "Amount": "1.00",
        },
        headers={"x-api-key": sb.info.keys["employee"]},
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    new_id = posted.json()["Data"]["RequestID"]
    after_post = {r["RequestID"]: r for r in _requests_of(sb, ar)}
    assert len(after_post) == len(before) + 1 and after_post[new_id]["Status"] == "Pending"
    sb.advance()
    assert {r["RequestID"]: r for r in _requests_of(sb, ar)}[new_id]["Status"] == "Exported"


def test_cache_is_bounded_by_queries_and_rows() -> None:
    cache = ResultCache(max_queries=2, max_rows=10)
    computed: list[str] = []

    def rows(name: str, n: int):
        return lambda: computed.append(name) or [{"i": i} for i in range(n)]

    cache.rows_for(("a",), rows("a", 3))
    cache.rows_for(("b",), rows("b", 3))
    cache.rows_for(("a",), rows("a", 3))  # hit; "a" is now the most recent
    cache.rows_for(("c",), rows("c", 3))  # evicts "b" (least recent)
    cache.rows_for(("a",), rows("a", 3))
    cache.rows_for(("b",), rows("b", 3))
    assert computed == ["a", "b", "c", "b"]
    cache.rows_for(("big",), rows("big", 50))  # over max_rows alone: kept, everything else evicted
    cache.rows_for(("big",), rows("big", 50))
    assert computed[-1] == "big" and computed.count("big") == 1


def test_errors_are_not_cached() -> None:
    cache = ResultCache()

    def fail() -> list[dict]:
        raise ValueError("bad")

    with pytest.raises(ValueError):
        cache.rows_for(("q",), fail)
    assert cache.rows_for(("q",), lambda: [{"ok": 1}]) == [{"ok": 1}]


def test_lazy_rows_render_only_the_rows_asked_for_and_once() -> None:
    rendered: list[int] = []

    def render(n: int) -> dict:
        rendered.append(n)
        return {"n": n}

    rows = LazyRows(range(10), render)
    assert len(rows) == 10 and rendered == []
    assert rows[2:4] == [{"n": 2}, {"n": 3}] and rows[-1] == {"n": 9}
    assert rows[3:5] == [{"n": 3}, {"n": 4}]
    assert rendered == [2, 3, 9, 4]
    assert rows[20:30] == []


def test_invoice_pages_match_one_big_page(fresh_sandbox) -> None:
    query = {"Statuses": "1,2,3,4,5,7"}
    whole = _get(fresh_sandbox, "invoices", {**query, "PageSize": 500})["Data"]
    fresh_sandbox.advance(0)
    pages = [_get(fresh_sandbox, "invoices", {**query, "PageSize": 100, "Page": p})["Data"] for p in (1, 2, 3)]
    paged = [row for page in pages for row in page]
    assert paged == whole[:300] and len(whole) > 300
