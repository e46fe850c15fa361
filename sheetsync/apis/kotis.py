"""The Kotis Design API client (kwf.kotisdesign.com and stores.kotisdesign.com).

``KotisClient(base_url, stores_base_url, api_key, *, session=None, timeout=30.0, sleep=time.sleep,
stats=None, http_client=HttpClient)``; both base URLs end in ``/api/v1``. Every request carries
``Authorization: <key>`` and goes through the shared HTTP layer (``apis/http.py``: retries, counting).

- ``get_all(endpoint, params=None) -> list[dict]``: the rows of a Kotis GET named as in the endpoint
  registry (``registry.KOTIS``: ``"skus/quantity"``, ``"orders/status"``, ``"orders/by_source"``), its
  parameters checked there first (old names accepted with a ``DeprecatedName`` warning). The methods
  below are the same GETs with typed arguments.
- ``sku_quantities() -> list[dict]``: ``{"id", "sku", "physical_quantity", "available_quantity"}`` rows.
- ``create_order(order) -> dict``: the documented JSON body; returns ``{"status": "success",
  "order_num": ...}``. Sent once: never retried after it may have reached the server (a timeout or a
  dropped connection raises ``AmbiguousOutcomeError``).
- ``order_status(order_numbers) -> list[dict]``: one flat row per order and shipment (an order without
  shipments gives one row with empty shipment fields): ``order_number``, ``order_status`` (None when the
  API leaves out the order's ``attributes``), ``shipment_id``, ``tracking_numbers``, ``shipment_date``
  (aware datetime), ``delivery_status`` (read from ``delivery_status`` or ``status``), plus any other
  shipment attribute. Numbers are de-duplicated and sent in batches of ``STATUS_BATCH`` with literal commas.
- ``orders_by_source(source, start_date, end_date, portal_name=None)`` (the old ``start=``/``end=``
  names are accepted with a ``DeprecatedName`` warning) ``-> list[dict]``: rows
  ``order_number``, ``order_date`` (aware datetime), ``status``, ``source``, ``portal_name``. Parameters go
  in the query string (the portal filter as ``portal_name``). A range longer than the API's 60 days is
  split into consecutive windows ``[start, start+60d], [start+61d, ...]`` (both ends inclusive, as the
  document's month example implies) and the rows de-duplicated by order number. The other documented
  errors (unknown source, missing dates, end before start) and a portal name with a source other than
  ``portal`` raise ``ParameterError`` before anything is sent.
- ``create_redemption_codes(portal_slug, number) -> dict``: refuses a number outside 1..5,000 (the daily
  limit) before sending; when the portal's remaining daily/yearly allowance is smaller, the API answers
  with the allowed number and ``RedemptionLimitError`` (a ``BadRequestError``) carries it as
  ``allowed_number``. Never retried automatically.

A JSON:API ``errors`` array becomes a typed error (``AuthError`` for 401 or "Invalid Api Key",
``BadRequestError`` for 400/422, ... see ``http.error_for_response``; ``kotis_message`` reads the API's
text) with ``title``, ``detail`` and ``errors`` attributes; the key never appears in a message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import requests

from sheetsync.apis import registry
from sheetsync.apis.http import HttpClient, RequestStats, build_query, error_for_response, json_body, request_label
from sheetsync.errors import ApiError, AuthError, BadRequestError, ParameterError

SOURCES = ("all", "portal", "api", "csv", "inventory-management")
MAX_RANGE_DAYS = 60  # end_date - start_date may be at most this many days
DAILY_CODE_LIMIT = 5_000
YEARLY_CODE_LIMIT = 50_000
STATUS_BATCH = 100  # order numbers per orders/status request
SHIPMENT_FIELDS = ("shipment_id", "tracking_numbers", "shipment_date", "delivery_status")


class RedemptionLimitError(BadRequestError):
    """The portal's daily or yearly allowance is smaller than the number asked for; nothing was created."""

    def __init__(self, message: str, *, allowed_number: int | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.allowed_number = allowed_number


class KotisClient:
    """A Kotis API client for one key. See the module docstring."""

    def __init__(
        self,
        base_url: str,
        stores_base_url: str,
        api_key: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        stats: RequestStats | None = None,
        http_client: type[HttpClient] = HttpClient,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.stores_base_url = stores_base_url.rstrip("/")
        self._headers = {"Authorization": api_key, "Accept": "application/json"}
        self.http = http_client(
            session=session, timeout=timeout, sleep=sleep, stats=stats, secret_headers=("Authorization",)
        )
        self.stats = self.http.stats

    def __repr__(self) -> str:
        return f"KotisClient({self.base_url!r}, {self.stores_base_url!r})"

    # ---- public API ------------------------------------------------------------------------------
    def get_all(self, endpoint: str, params: Mapping[str, Any] | None = None) -> list[dict]:
        """The rows of the Kotis GET `endpoint` (a registry name), `params` checked by the registry first."""
        ep = registry.kotis_endpoint(endpoint)
        if ep.method != "GET":
            raise ParameterError(f"{ep.name} is a POST endpoint; get_all only reads")
        query = registry.kotis_params(ep, params)
        if ep.name == "skus/quantity":
            return self.sku_quantities()
        if ep.name == "orders/status":
            return self.order_status(query["order_numbers"])
        return self.orders_by_source(**query)

    def sku_quantities(self) -> list[dict]:
        body = self._get("skus/quantity")
        return [flatten_resource(r) for r in _data(body)]

    def create_order(self, order: dict) -> dict:
        if not isinstance(order, dict) or not isinstance(order.get("skus"), list) or not order["skus"]:
            raise ParameterError("create_order: the order needs a non-empty 'skus' list of {sku, quantity}")
        body = self._post(self.base_url, "orders/create", order)
        return _plain(body)

    def order_status(self, order_numbers: Iterable[str | int] | str | int) -> list[dict]:
        numbers = _order_numbers(order_numbers)
        rows: list[dict] = []
        for start in range(0, len(numbers), STATUS_BATCH):
            batch = numbers[start : start + STATUS_BATCH]
            body = self._get("orders/status", [("order_numbers", ",".join(batch))])
            rows.extend(join_orders_with_shipments(body))
        return rows

    def orders_by_source(
        self,
        source: str,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        portal_name: str | None = None,
        *,
        start: date | str | None = None,
        end: date | str | None = None,
    ) -> list[dict]:
        """Orders of `source` created from `start_date` to `end_date` (both included; see the module doc)."""
        if start is not None:
            registry.deprecated("start", "start_date", "orders_by_source parameter")
            start_date = start_date if start_date is not None else start
        if end is not None:
            registry.deprecated("end", "end_date", "orders_by_source parameter")
            end_date = end_date if end_date is not None else end
        windows = by_source_windows(source, start_date, end_date, portal_name)
        seen: dict[str, dict] = {}
        for first, last in windows:
            pairs = [("source", source), ("start_date", first.isoformat()), ("end_date", last.isoformat())]
            if portal_name:
                pairs.append(("portal_name", portal_name))
            for row in _data(self._get("orders/by_source", pairs)):
                row = _by_source_row(row)
                seen.setdefault(str(row.get("order_number")), row)
        return list(seen.values())

    def create_redemption_codes(self, portal_slug: str, number: int) -> dict:
        if not portal_slug or not str(portal_slug).strip():
            raise ParameterError("create_redemption_codes: portal_slug is required")
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= DAILY_CODE_LIMIT:
            raise ParameterError(
                f"create_redemption_codes: number must be a whole number from 1 to "
                f"{DAILY_CODE_LIMIT:,} (the daily limit; {YEARLY_CODE_LIMIT:,} a year), "
                f"got {number!r}"
            )
        payload = {"portal_slug": str(portal_slug).strip(), "number_to_create": str(number)}
        body = self._post(self.stores_base_url, "redemption_codes/create", payload)
        allowed = allowed_number(body)
        if allowed is not None and allowed < number and not _created(body):
            raise RedemptionLimitError(
                f"POST redemption_codes/create: {number:,} codes asked for, the portal may create {allowed:,} "
                "now (daily limit 5,000, yearly 50,000)",
                allowed_number=allowed,
                api_message=_message(body),
                endpoint="redemption_codes/create",
            )
        return _plain(body)

    # ---- transport -------------------------------------------------------------------------------
    def _get(self, endpoint: str, pairs: list[tuple[str, str]] | None = None) -> Any:
        url = f"{self.base_url}/{endpoint}"
        if pairs:
            url += "?" + build_query(pairs)
        response = self.http.send("GET", url, endpoint=endpoint, headers=self._headers)
        body = self._checked(response, endpoint)
        self.stats.record(endpoint, pages=1, requests=0)
        return body

    def _post(self, base: str, endpoint: str, payload: dict) -> Any:
        response = self.http.send(
            "POST",
            f"{base}/{endpoint}",
            endpoint=endpoint,
            idempotent=False,
            headers={**self._headers, "Content-Type": "application/json"},
            json=payload,
        )
        return self._checked(response, endpoint)

    def _checked(self, response: requests.Response, endpoint: str) -> Any:
        body = json_body(response)
        errors = body.get("errors") if isinstance(body, dict) else None
        if response.status_code < 400 and not errors:
            if body is None:
                raise ApiError(
                    f"{response.request.method} {endpoint}: the answer is not JSON",
                    status=response.status_code,
                    endpoint=endpoint,
                )
            return body
        raise typed_error(response, endpoint, errors)


# ---- errors ----------------------------------------------------------------------------------------
def _error_entries(errors: Any) -> list[dict]:
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def kotis_message(body: Any) -> str | None:
    """The Kotis API's own error text: "title: detail" of each JSON:API `errors` entry, joined by "; "."""
    entries = _error_entries(body.get("errors") if isinstance(body, dict) else None)
    texts = (": ".join(p for p in (str(e.get("title") or ""), str(e.get("detail") or "")) if p) for e in entries)
    return "; ".join(texts) or None


def typed_error(response: requests.Response, endpoint: str, errors: Any) -> ApiError:
    """The ApiError subclass for an error answer, carrying the first error's title and detail."""
    entries = _error_entries(errors)
    first = entries[0] if entries else {}
    title, detail = str(first.get("title") or ""), str(first.get("detail") or "")
    text = kotis_message({"errors": entries})
    method = response.request.method if response.request is not None else "GET"
    allowed = allowed_number({"errors": entries}) if endpoint == "redemption_codes/create" else None
    if allowed is not None:
        error: ApiError = RedemptionLimitError(
            f"{request_label(method, endpoint)}: the redemption code limit allows {allowed:,} more now",
            allowed_number=allowed,
            status=response.status_code,
            api_message=text,
            endpoint=endpoint,
        )
    elif response.status_code >= 400:
        error = error_for_response(response, endpoint=endpoint, api_message=text)
    elif title.lower() == "invalid api key":
        error = AuthError(
            f"{request_label(method, endpoint)}: the API key is not valid",
            status=response.status_code,
            api_message=text,
            endpoint=endpoint,
        )
    else:
        error = BadRequestError(
            f"{request_label(method, endpoint)}: the API refused the request",
            status=response.status_code,
            api_message=text,
            endpoint=endpoint,
        )
    error.title, error.detail, error.errors = title, detail, entries  # type: ignore[attr-defined]
    return error


_ALLOWED_KEYS = ("allowed_number_to_create", "allowed_number", "allowed", "number_allowed")
_ALLOWED_TEXT = re.compile(r"(?:allowed|can create|remaining)\D{0,40}?([\d,]+)", re.IGNORECASE)


def allowed_number(body: Any) -> int | None:
    """The allowed number of codes from a limit answer: a known key at the top, in `meta` or in an
    `errors` entry (or its `meta`), else a number after "allowed"/"can create" in a message."""
    places: list[dict] = []
    if isinstance(body, dict):
        places += [body, body.get("meta") or {}]
        for entry in body.get("errors") or []:
            if isinstance(entry, dict):
                places += [entry, entry.get("meta") or {}]
    for place in places:
        for key in _ALLOWED_KEYS:
            value = place.get(key) if isinstance(place, dict) else None
            if value is not None and str(value).strip().replace(",", "").isdigit():
                return int(str(value).strip().replace(",", ""))
    for place in places:
        for key in ("message", "detail"):
            match = _ALLOWED_TEXT.search(str(place.get(key) or "")) if isinstance(place, dict) else None
            if match and match.group(1).replace(",", "").isdigit():
                return int(match.group(1).replace(",", ""))
    return None


def _created(body: Any) -> bool:
    return isinstance(body, dict) and (bool(body.get("codes")) or bool(body.get("number_created")))


def _message(body: Any) -> str | None:
    return str(body.get("message") or body.get("detail") or "") or None if isinstance(body, dict) else None


# ---- JSON:API flattening ---------------------------------------------------------------------------
def flatten_resource(resource: dict) -> dict:
    """{"id", "type", "attributes": {...}} -> {"id": ..., **attributes}; unknown members kept."""
    row: dict[str, Any] = {"id": resource.get("id")}
    row.update(resource.get("attributes") or {})
    for key, value in resource.items():
        if key not in ("id", "type", "attributes", "relationships", "links"):
            row.setdefault(key, value)
    return _plain(row)


def join_orders_with_shipments(body: Any) -> list[dict]:
    """orders/status: one row per order x shipment; an order without shipments gives one row."""
    shipments = (
        {
            str(s.get("id")): s
            for s in (body.get("included") or [])
            if isinstance(s, dict) and s.get("type", "shipments") == "shipments"
        }
        if isinstance(body, dict)
        else {}
    )
    rows: list[dict] = []
    for order in _data(body):
        order_row = {
            "order_number": _str(order.get("id")),
            "order_status": (order.get("attributes") or {}).get("status"),
        }
        refs = ((order.get("relationships") or {}).get("shipments") or {}).get("data") or []
        joined = [
            _shipment_row(str(ref.get("id")), shipments.get(str(ref.get("id"))))
            for ref in refs
            if isinstance(ref, dict)
        ]
        if not joined:
            joined = [dict.fromkeys(SHIPMENT_FIELDS)]
        rows.extend({**order_row, **shipment} for shipment in joined)
    return rows


def _shipment_row(shipment_id: str, resource: dict | None) -> dict:
    attributes = dict((resource or {}).get("attributes") or {})
    status = attributes.pop("delivery_status", None)
    fallback = attributes.pop("status", None)
    row = {
        "shipment_id": shipment_id,
        "tracking_numbers": attributes.pop("tracking_numbers", None),
        "shipment_date": _timestamp(attributes.pop("shipment_date", None)),
        "delivery_status": status if status is not None else fallback,
    }
    row.update(_plain(attributes))
    return row


def _by_source_row(row: Any) -> dict:
    row = dict(row) if isinstance(row, dict) else {"order_number": row}
    row["order_number"] = _str(row.get("order_number"))
    row["order_date"] = _timestamp(row.get("order_date"))
    row.setdefault("portal_name", None)
    return _plain(row)


def _data(body: Any) -> list[dict]:
    data = body.get("data") if isinstance(body, dict) else None
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def _plain(value: Any) -> Any:
    """A deep copy of dicts and lists (rows never share structure with the parsed body)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _timestamp(value: Any) -> Any:
    """An aware datetime from "2025-08-02T12:30Z" or "2018-10-02T14:50:24-07:00"; other values kept."""
    if not isinstance(value, str) or not value:
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return parsed if parsed.tzinfo else value


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# ---- parameters ------------------------------------------------------------------------------------
def _order_numbers(value: Iterable[str | int] | str | int) -> list[str]:
    items: Iterator[Any] = (
        iter(value.split(",")) if isinstance(value, str) else (iter([value]) if isinstance(value, int) else iter(value))
    )
    numbers = [str(n).strip() for n in items if str(n).strip()]
    bad = [n for n in numbers if not re.fullmatch(r"[A-Za-z0-9_-]+", n)]
    if bad:
        raise ParameterError(f"order_status: not an order number: {bad[0]!r}")
    return list(dict.fromkeys(numbers))


def _as_date(name: str, value: date | str | None) -> date:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ParameterError(f"orders_by_source: {name} is required (an ISO 8601 date, e.g. 2025-08-01)")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ParameterError(f"orders_by_source: {name} {value!r} is not an ISO 8601 date (e.g. 2025-08-01)") from None


def by_source_windows(
    source: str, start_date: date | str | None, end_date: date | str | None, portal_name: str | None = None
) -> list[tuple[date, date]]:
    """Validate the parameters of orders/by_source and split the range into windows of at most 60 days."""
    if not source:
        raise ParameterError(f"orders_by_source: source is required; valid sources: {', '.join(SOURCES)}")
    if source not in SOURCES:
        raise ParameterError(f"orders_by_source: invalid source {source!r}; valid sources: {', '.join(SOURCES)}")
    start, end = _as_date("start_date", start_date), _as_date("end_date", end_date)
    if end < start:
        raise ParameterError(f"orders_by_source: end_date {end} is before start_date {start}")
    if portal_name and source != "portal":
        raise ParameterError(f"orders_by_source: portal_name is only used with source 'portal', not {source!r}")
    windows: list[tuple[date, date]] = []
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=MAX_RANGE_DAYS))
        windows.append((first, last))
        first = last + timedelta(days=1)
    return windows


__all__ = ["KotisClient", "RedemptionLimitError", "by_source_windows", "flatten_resource", "join_orders_with_shipments"]
