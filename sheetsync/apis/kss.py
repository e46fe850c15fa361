"""The KSS API client: every documented endpoint through one registry, politely and typed.

``KssClient(base_url, api_key, *, key_type="employee", cache_dir=None, requests_per_hour=None,
timeout=30.0, max_retries=4, sleep=time.sleep, session=None, stats=None, http_client=HttpClient)``;
``http_client`` is the class of the shared HTTP layer (``apis/http.py``): tests pass a subclass that
records or fakes, as with gspread's ``Client(http_client=...)``.

- ``iter_pages(endpoint, params=None, *, raw_params=None, page_size=500)`` yields typed records page by
  page (a generator: memory stays flat). ``endpoint`` is a registry name (``"products"``,
  ``"customers/{customerID}"``) or a concrete path (``"customers/12"``); path parameters may also be
  given in ``params`` (``{"customerID": 12}``). Paging stops on ``HasNextPage: false`` when the API
  sends it, else at the first page shorter than the page size the API reports.
- ``iter_records``, ``get_all``, ``get_one(endpoint, record_id)``.
- ``get_page(endpoint, params=None, *, page=1, page_size=500) -> (records, has_next)``: one page, so
  that the pages of one query can be fetched concurrently (``fetch.py``).
- ``payment_requests``, ``payment_applications``, ``request_payment_application`` work with either
  payments revision: when a documented payments path answers 404 the newer path is used for the rest
  of the run (``payments_revision`` becomes ``"2026"``), and rows keep the documented field names.

Parameters are validated by ``registry`` before any request (``ParameterError``; ``ForbiddenError``
when the key type may not call the endpoint). Query strings keep literal commas; the POST sends its
parameters in the query string. Every request carries a short ``X-Request-Id``; errors are typed
(``errors.py``) and carry the status, the API's ``Error`` text and the request id, never the key.
With ``cache_dir`` set, GETs send ``If-None-Match`` and a 304 reuses the stored body (per key).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from sheetsync.apis import registry
from sheetsync.apis.cache import EtagCache
from sheetsync.apis.http import HttpClient, RequestStats, RetryPolicy, build_query, checked_body
from sheetsync.apis.records import loads, type_record
from sheetsync.apis.registry import Endpoint
from sheetsync.errors import ApiError, NotFoundError, ParameterError

REQUESTED = "payments/applications/requested"
CONFIRMED = "payments/applications"
MERGED = "payments/applications"  # the newer revision's GET and POST path


class KssClient:
    """A KSS API client for one key. See the module docstring."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        key_type: str = "employee",
        cache_dir: Path | None = None,
        requests_per_hour: int | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        stats: RequestStats | None = None,
        clock: Callable[[], float] = time.time,
        http_client: type[HttpClient] = HttpClient,
    ) -> None:
        if key_type not in registry.KEY_TYPES:
            raise ParameterError(f"key type {key_type!r} is not one of {', '.join(registry.KEY_TYPES)}")
        self.base_url = base_url.rstrip("/")
        self.key_type = key_type
        self._headers = {"x-api-key": api_key, "Accept": "application/json"}
        self.http = http_client(
            session=session,
            timeout=timeout,
            retry=RetryPolicy(max_retries=max_retries),
            sleep=sleep,
            clock=clock,
            stats=stats,
            requests_per_hour=requests_per_hour,
            request_id_header="X-Request-Id",
            secret_headers=("x-api-key",),
        )
        self.stats = self.http.stats
        self.cache = EtagCache(cache_dir, api_key) if cache_dir else None
        self.payments_revision: str | None = None  # learnt from the API: "2025" or "2026"

    def __repr__(self) -> str:
        return f"KssClient({self.base_url!r}, key_type={self.key_type!r})"

    # ---- reading ---------------------------------------------------------------------------------
    def iter_pages(
        self,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        *,
        raw_params: Mapping[str, Any] | None = None,
        page_size: int = 500,
    ) -> Iterator[list[dict]]:
        """Typed records of a GET endpoint, one list per page (validated before any request)."""
        ep, path_values, query_params = _prepare(endpoint, params)
        if page_size < 1:
            raise ParameterError(f"{ep.name}: page size must be at least 1, got {page_size}")
        ep.check_key_type(self.key_type)
        ep.encode_params(query_params, raw_params)  # refuse bad parameters now, not at the first next()
        return self._pages_with_fallback(ep, path_values, query_params, raw_params, page_size)

    def iter_records(self, endpoint: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Iterator[dict]:
        for page in self.iter_pages(endpoint, params, **kw):
            yield from page

    def get_all(self, endpoint: str, params: Mapping[str, Any] | None = None, **kw: Any) -> list[dict]:
        return list(self.iter_records(endpoint, params, **kw))

    def get_page(
        self, endpoint: str, params: Mapping[str, Any] | None = None, *, page: int = 1, page_size: int = 500
    ) -> tuple[list[dict], bool]:
        """One page of a GET endpoint: (typed records, whether the API reports a next page).

        For fetching the pages of one query concurrently. An endpoint with a payments-revision
        fallback, or one without paging, answers page 1 with every record and no next page."""
        ep, path_values, query_params = _prepare(endpoint, params)
        ep.check_key_type(self.key_type)
        if ep.key in registry.FALLBACKS or not ep.paginated:
            return (self.get_all(endpoint, params, page_size=page_size) if page == 1 else []), False
        pairs = ep.encode_params(query_params)
        paging = [("Page", str(page)), ("PageSize", str(page_size))]
        body = self._get(ep, ep.url_path(path_values), [*pairs, *paging])
        rows = _rows(body, ep.key)
        self.stats.record(ep.key, pages=1, requests=0)
        return rows, _has_next(body, rows, page_size)

    def get_one(self, endpoint: str, record_id: int) -> dict:
        """One record of a single-record endpoint ("customers/{customerID}" style, or "customers")."""
        ep = registry.endpoint(endpoint)
        if not ep.path_params:
            ep = _single_for(ep)
        rows = self.get_all(ep.name, {ep.path_params[0]: record_id})
        if not rows:
            raise NotFoundError(f"GET {ep.name}: no record {record_id}", status=404, endpoint=ep.name)
        return rows[0]

    # ---- payments, either revision ---------------------------------------------------------------
    def payment_requests(
        self,
        ar_account_ids: Iterable[int] | int | None,
        statuses: Iterable[str] | None = None,
    ) -> list[dict]:
        """Allocation requests with their Status (documented fields), from either revision."""
        return self.get_all(REQUESTED, {"ARAccountIDs": _ids(ar_account_ids), "Statuses": _opt_list(statuses)})

    def payment_applications(
        self,
        ar_account_ids: Iterable[int] | int | None,
        *,
        payment_invoice_nums: Iterable[str] | None = None,
        target_invoice_nums: Iterable[str] | None = None,
    ) -> list[dict]:
        """Confirmed payment applications (documented fields), from either revision."""
        return self.get_all(
            CONFIRMED,
            {
                "ARAccountIDs": _ids(ar_account_ids),
                "PaymentInvoiceNums": _opt_list(payment_invoice_nums),
                "TargetInvoiceNums": _opt_list(target_invoice_nums),
            },
        )

    def request_payment_application(
        self,
        *,
        payment_invoice_num: str,
        target_invoice_num: str,
        ar_account_id: int,
        amount: Decimal,
        client_request_id: str | None = None,
    ) -> dict:
        """POST an allocation request. Never retried once it may have been sent: a timeout or a dropped
        connection raises AmbiguousOutcomeError (reconcile before sending again)."""
        if client_request_id is not None and not re.fullmatch(r"[A-Za-z0-9]{1,64}", client_request_id):
            raise ParameterError("client_request_id must be 1 to 64 letters or digits")
        params = {
            "PaymentInvoiceNum": payment_invoice_num,
            "TargetInvoiceNum": target_invoice_num,
            "ARAccountID": ar_account_id,
            "Amount": amount,
        }
        documented = registry.endpoint(REQUESTED, "POST")
        documented.check_key_type(self.key_type)
        documented.encode_params(params)
        if self.payments_revision != "2026":
            try:
                return _as_request_row(self._post(documented, params, client_request_id))
            except NotFoundError:  # a 404 means nothing was created: safe to use the newer path
                self.payments_revision = "2026"
        newer = registry.NEWER_REVISION[f"POST {MERGED}"]
        return _as_request_row(self._post(newer, params, client_request_id))

    # ---- internals -------------------------------------------------------------------------------
    def _pages_with_fallback(
        self,
        ep: Endpoint,
        path_values: dict[str, Any],
        params: dict[str, Any],
        raw_params: Mapping[str, Any] | None,
        page_size: int,
    ) -> Iterator[list[dict]]:
        if ep.key in registry.FALLBACKS and self.payments_revision == "2026":
            yield from self._newer_pages(ep, params, raw_params, page_size)
            return
        first = True
        try:
            for rows in self._pages(ep, path_values, params, raw_params, page_size):
                if ep.key == CONFIRMED and rows and "Status" in rows[0]:  # the newer merged list answered
                    self.payments_revision = "2026"
                    rows = [r for r in rows if r.get("Status") == "Confirmed"]
                first = False
                yield rows
        except NotFoundError:
            if not first or ep.key not in registry.FALLBACKS:
                raise
            self.payments_revision = "2026"
            yield from self._newer_pages(ep, params, raw_params, page_size)

    def _newer_pages(
        self, ep: Endpoint, params: dict[str, Any], raw_params: Mapping[str, Any] | None, page_size: int
    ) -> Iterator[list[dict]]:
        newer = registry.NEWER_REVISION[registry.FALLBACKS[ep.key]]
        params = dict(params)
        if ep.key == CONFIRMED:
            params["Statuses"] = ["Confirmed"]
        for rows in self._pages(newer, {}, params, raw_params, page_size):
            if ep.key == REQUESTED:
                rows = [_as_request_row(r) for r in rows if r.get("RequestID") is not None]
            yield rows

    def _pages(
        self,
        ep: Endpoint,
        path_values: dict[str, Any],
        params: Mapping[str, Any],
        raw_params: Mapping[str, Any] | None,
        page_size: int,
    ) -> Iterator[list[dict]]:
        ep.check_key_type(self.key_type)
        pairs = ep.encode_params(params, raw_params)
        path = ep.url_path(path_values)
        if not ep.paginated:
            body = self._get(ep, path, pairs)
            self.stats.record(ep.key, pages=1, requests=0)
            yield _rows(body, ep.key)
            return
        page = 1
        while True:
            body = self._get(ep, path, [*pairs, ("Page", str(page)), ("PageSize", str(page_size))])
            rows = _rows(body, ep.key)
            self.stats.record(ep.key, pages=1, requests=0)
            yield rows
            if not _has_next(body, rows, page_size):
                return
            page += 1

    def _get(self, ep: Endpoint, path: str, pairs: list[tuple[str, str]]) -> Any:
        url = self._url(path, pairs)
        headers = dict(self._headers)
        cached = self.cache.lookup(url) if self.cache else None
        if cached:
            headers["If-None-Match"] = cached[0]
        response = self.http.send("GET", url, endpoint=ep.key, headers=headers)
        if response.status_code == 304 and cached:
            return loads(cached[1])
        body = self._checked(response, ep)
        etag = response.headers.get("ETag")
        if self.cache and etag and response.status_code == 200:
            self.cache.store(url, etag, response.content)
        return body

    def _post(self, ep: Endpoint, params: Mapping[str, Any], request_id: str | None) -> dict:
        url = self._url(ep.path, ep.encode_params(params))
        headers = dict(self._headers)
        if request_id:
            headers["X-Request-Id"] = request_id
        response = self.http.send("POST", url, endpoint=ep.key, headers=headers, idempotent=False)
        body = self._checked(response, ep)
        data = body.get("Data") if isinstance(body, dict) else None
        if isinstance(data, list):
            data = data[0] if data else None
        if not isinstance(data, dict):
            raise ApiError(
                f"POST {ep.name}: the answer carried no record",
                status=response.status_code,
                request_id=response.headers.get("X-Request-Id"),
                endpoint=ep.name,
            )
        return type_record(data, ep.key)

    def _url(self, path: str, pairs: list[tuple[str, str]]) -> str:
        query = build_query(pairs)
        return f"{self.base_url}{path}?{query}" if query else f"{self.base_url}{path}"

    def _checked(self, response: requests.Response, ep: Endpoint) -> Any:
        request_id = response.headers.get("X-Request-Id") or (
            response.request.headers.get("X-Request-Id") if response.request else None
        )
        return checked_body(
            response,
            endpoint=ep.name,
            message_of=kss_message,
            request_id=str(request_id) if request_id else None,
            clock=self.http.clock,
        )


def kss_message(body: Any) -> str | None:
    """The KSS API's own error text: the `Error` member of an error body."""
    return (body.get("Error") or body.get("error")) if isinstance(body, dict) else None


def _prepare(endpoint: str, params: Mapping[str, Any] | None) -> tuple[Endpoint, dict[str, Any], dict[str, Any]]:
    ep, path_values = registry.resolve(endpoint)
    query_params = dict(params or {})
    for name in ep.path_params:
        if name in query_params:
            path_values[name] = query_params.pop(name)
    if "Page" in query_params or "PageSize" in query_params:
        raise ParameterError(f"{ep.name}: Page and PageSize are set by the client (use page_size=)")
    return ep, path_values, query_params


def _single_for(ep: Endpoint) -> Endpoint:
    for candidate in registry.ENDPOINTS.values():
        if candidate.method == "GET" and candidate.single and candidate.name.startswith(ep.name + "/{"):
            return candidate
    raise ParameterError(f"{ep.name} has no single-record endpoint")


def _rows(body: Any, endpoint: str) -> list[dict]:
    data = body.get("Data") if isinstance(body, dict) else body
    if data is None:
        return []
    if isinstance(data, dict):
        data = [data]
    return [type_record(row, endpoint) for row in data]


def _has_next(body: Any, rows: list[dict], page_size: int) -> bool:
    if not rows:
        return False
    has_next = body.get("HasNextPage") if isinstance(body, dict) else None
    if isinstance(has_next, bool):
        return has_next
    reported = body.get("PageSize") if isinstance(body, dict) else None
    size = int(reported) if isinstance(reported, int | Decimal) and reported > 0 else page_size
    return len(rows) >= size


def _as_request_row(row: dict) -> dict:
    """A newer-revision row with the documented field names of an allocation request."""
    if "PaymentApplicationID" in row and "MatchedPaymentApplicationID" not in row:
        row = dict(row)
        row["MatchedPaymentApplicationID"] = row.pop("PaymentApplicationID")
    return row


def _ids(value: Iterable[int] | int | None) -> list[int] | None:
    if value is None:
        return None
    return [value] if isinstance(value, int) else list(value)


def _opt_list(value: Iterable[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)
