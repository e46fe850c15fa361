"""The Kotis sandbox: two WSGI apps answering like kwf.kotisdesign.com and stores.kotisdesign.com.

`create_kotis_apps(seed, scale, api_key) -> (kwf_app, stores_app)`. server.py mounts them at `/kotis`
and `/kotis-stores`, so inside each app the paths are the documented `/api/v1/...`. The data comes
from `kotis_data.build_kotis_data` (deterministic for the seed; see that module).

Every request needs `Authorization: <api_key>` (the bare key, as documented); without it, or with
another key: 401 `{"errors": [{"title": "Invalid Api Key", "detail": ""}]}`.

kwf app
-------
``GET /api/v1/skus/quantity``
    JSON:API list of SKUs with `physical_quantity`, `available_quantity`, `sku`.
``POST /api/v1/orders/create`` (JSON body as documented)
    Validates: `skus` is a non-empty list; each sku exists; each quantity is a positive whole number
    (strings like "3" are accepted) not above the SKU's `available_quantity`; `address` has `name`,
    `address1`, `city`, `state`, `zip`. All problems are reported at once, comma-separated, in
    400 `{"errors": [{"title": "Invalid Order", "detail": "Sku 1 does not exist, Sku 2 does not exist"}]}`.
    Success: 200 `{"status": "success", "order_num": "5130081"}`; the order is then `pending`, source
    `api`, dated the sandbox's today, visible in `orders/status` and `orders/by_source`, and its
    quantities are taken off `available_quantity`.
``GET /api/v1/orders/status?order_numbers=a,b``
    JSON:API `data` (orders; some without `attributes`) and `included` (their shipments; some carry
    `status` instead of `delivery_status`). Unknown numbers are left out; none known: `"data": []`
    and no `included`.
``GET /api/v1/orders/by_source``
    `source`, `start_date`, `end_date`, and `portal_name` or `portal` (used only with source `portal`),
    read from the query string, a JSON body or a form body (the query wins). Dates are ISO 8601; the
    range is inclusive of both days and may be at most 60 days long (`end - start <= 60 days`).
    Errors: 400 `{"errors": [{"title": ..., "detail": ..., "status": "400"}, ...]}`, one entry per
    problem (missing/invalid source, missing/invalid start_date or end_date, end before start, more
    than 60 days apart). Success: `{"data": [{"order_number", "order_date" ("2025-08-02T12:30Z"),
    "status", "source", "portal_name" (null unless source is portal)}]}` sorted by order date.

stores app
----------
``POST /api/v1/redemption_codes/create`` with `portal_slug` and `number_to_create` (JSON or form).
    Missing key or a number that is not a positive whole number: 400 errors. A slug that is not an
    active portal of this key: 404 `{"errors": [{"title": "Invalid Portal", ...}]}`.
    Limits: 5,000 codes per portal per day and 50,000 per year. When `number_to_create` exceeds
    what remains, nothing is created and the answer is 422::

        {"errors": [{"title": "Limit Exceeded", "status": "422",
                     "detail": "acme-store can create 250 more codes today (daily limit 5,000); 1,000 requested",
                     "meta": {"allowed_number_to_create": 250, "limit": "daily",
                              "daily_remaining": 250, "yearly_remaining": 32583}}]}

    Success: 200 ``{"status": "success", "portal_slug": ..., "number_created": N, "codes": [...],
    "daily_remaining": .., "yearly_remaining": ..}``. The sandbox day never ends, so the counters
    never reset.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sheetsync.sandbox.kotis_data import (
    DAILY_LIMIT,
    YEARLY_LIMIT,
    KotisData,
    Order,
    Shipment,
    build_kotis_data,
    redemption_code,
)

VALID_SOURCES = ("all", "portal", "api", "csv", "inventory-management")
MAX_RANGE_DAYS = 60
JSONAPI = {"version": "1.0"}
ADDRESS_FIELDS = ("name", "address1", "city", "state", "zip")


class KotisError(Exception):
    """An error answer: HTTP status and the JSON:API `errors` entries."""

    def __init__(self, status: int, errors: list[dict]) -> None:
        super().__init__(errors[0].get("title", ""))
        self.status = status
        self.errors = errors


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")


def _error(status: int, title: str, detail: str, *, with_status: bool = True, **extra: Any) -> KotisError:
    entry: dict[str, Any] = {"title": title, "detail": detail}
    if with_status:
        entry["status"] = str(status)
    entry.update(extra)
    return KotisError(status, [entry])


class _App:
    """Authorization, routing and error handling shared by both apps."""

    rules: tuple[tuple[str, str, str], ...] = ()  # (path, method, handler name)

    def __init__(self, data: KotisData, api_key: str, lock: threading.RLock, seed: int) -> None:
        self.data, self.api_key, self.lock, self.seed = data, api_key, lock, seed
        self.url_map = Map([Rule(path, endpoint=name, methods=[method]) for path, method, name in self.rules])

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._handle(request)
        except KotisError as exc:
            response = _json(exc.status, {"errors": exc.errors})
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        adapter = self.url_map.bind("sandbox")
        try:
            name, _ = adapter.match(request.path, method=request.method)
        except MethodNotAllowed:
            raise _error(405, "Method Not Allowed", f"{request.method} is not allowed on {request.path}") from None
        except (NotFound, HTTPException):
            raise _error(404, "Not Found", f"No route {request.path}") from None
        if not self.api_key or request.headers.get("Authorization", "").strip() != self.api_key:
            raise _error(401, "Invalid Api Key", "", with_status=False)
        with self.lock:
            return getattr(self, name)(request)


def _params(request: Request) -> dict[str, Any]:
    """Parameters from a JSON or form body, overridden by the query string (a GET may carry a body)."""
    params: dict[str, Any] = {}
    raw = request.get_data(cache=True)
    if raw:
        body = request.get_json(force=True, silent=True)
        if isinstance(body, dict):
            params.update(body)
        elif request.form:
            params.update(request.form.to_dict())
    params.update(request.args.to_dict())
    return params


class KwfApp(_App):
    rules = (
        ("/api/v1/skus/quantity", "GET", "sku_quantity"),
        ("/api/v1/orders/create", "POST", "create_order"),
        ("/api/v1/orders/status", "GET", "order_status"),
        ("/api/v1/orders/by_source", "GET", "orders_by_source"),
    )

    def sku_quantity(self, request: Request) -> Response:
        data = [
            {
                "id": s["id"],
                "type": "skus",
                "attributes": {
                    "physical_quantity": s["physical_quantity"],
                    "available_quantity": s["available_quantity"],
                    "sku": s["sku"],
                },
            }
            for s in self.data.skus
        ]
        return _json(200, {"data": data, "jsonapi": JSONAPI})

    # ---- orders/create ---------------------------------------------------------------------------
    def create_order(self, request: Request) -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise _error(400, "Invalid Order", "The body must be a JSON object", with_status=False)
        lines, problems = self._order_lines(body.get("skus"))
        address = body.get("address")
        if not isinstance(address, dict):
            problems.append("Address is missing")
        else:
            problems += [f"Address {f} is missing" for f in ADDRESS_FIELDS if not str(address.get(f) or "").strip()]
        if problems:
            raise _error(400, "Invalid Order", ", ".join(problems), with_status=False)
        number = str(self.data.next_order_number)
        self.data.next_order_number += 1
        created = datetime.now(UTC).replace(microsecond=0)  # when it was sent, as `kotis resolve` matches by time
        for code, quantity in lines:
            sku = self.data.sku(code)
            assert sku is not None
            sku["available_quantity"] -= quantity
        self.data.orders[number] = Order(
            order_number=number,
            order_date=created,
            status="pending",
            source="api",
            portal_name=None,
            lines=lines,
            email=str(body.get("email") or ""),
            order_id=str(body.get("order_id") or ""),
        )
        return _json(200, {"status": "success", "order_num": number})

    def _order_lines(self, skus: Any) -> tuple[list[tuple[str, int]], list[str]]:
        if not isinstance(skus, list) or not skus:
            return [], ["Skus are missing"]
        lines: list[tuple[str, int]] = []
        problems: list[str] = []
        wanted: dict[str, int] = {}
        for item in skus:
            code = str(item.get("sku", "")) if isinstance(item, dict) else ""
            quantity = _whole(item.get("quantity") if isinstance(item, dict) else None)
            sku = self.data.sku(code)
            if sku is None:
                problems.append(f"Sku {code} does not exist")
            elif quantity is None or quantity < 1:
                problems.append(f"Sku {code} quantity must be a positive whole number")
            else:
                wanted[code] = wanted.get(code, 0) + quantity
                lines.append((code, quantity))
        for code, quantity in wanted.items():
            available = self.data.sku(code)["available_quantity"]  # type: ignore[index]
            if quantity > available:
                problems.append(f"Sku {code} has only {available} available ({quantity} ordered)")
        return lines, problems

    def ship_api_orders(self, tracking_digits: int = 22) -> list[str]:
        """Ship every pending API order (one shipment each, a `tracking_digits`-digit tracking number,
        in transit); returns their order numbers. What a warehouse does between two `kotis status`."""
        shipped = []
        for order in self.data.orders.values():
            if order.source != "api" or order.status != "pending":
                continue
            sid = str(max(int(s) for s in self.data.shipments) + 1)
            tracking = str(9_400_000_000_000_000_000_000 + int(order.order_number))[:tracking_digits]
            when = datetime.now(UTC).replace(microsecond=0)
            self.data.shipments[sid] = Shipment(sid, tracking.rjust(tracking_digits, "9"), when, "in_transit")
            order.shipment_ids.append(sid)
            order.status = "shipped"
            shipped.append(order.order_number)
        return shipped

    # ---- orders/status ---------------------------------------------------------------------------
    def order_status(self, request: Request) -> Response:
        numbers = [n.strip() for n in ",".join(request.args.getlist("order_numbers")).split(",") if n.strip()]
        orders = [self.data.orders[n] for n in dict.fromkeys(numbers) if n in self.data.orders]
        body: dict[str, Any] = {"data": [self._order_resource(o) for o in orders]}
        included = [self._shipment_resource(sid) for o in orders for sid in o.shipment_ids]
        if included:
            body["included"] = included
        body["jsonapi"] = JSONAPI
        return _json(200, body)

    @staticmethod
    def _order_resource(order: Order) -> dict:
        resource: dict[str, Any] = {"id": order.order_number, "type": "orders"}
        if order.show_attributes:
            resource["attributes"] = {"status": order.status}
        resource["relationships"] = {
            "shipments": {"data": [{"type": "shipments", "id": sid} for sid in order.shipment_ids]}
        }
        return resource

    def _shipment_resource(self, shipment_id: str) -> dict:
        s = self.data.shipments[shipment_id]
        return {
            "id": s.id,
            "type": "shipments",
            "attributes": {
                "tracking_numbers": s.tracking_numbers,
                "shipment_date": s.shipment_date.isoformat(),
                s.status_key: s.delivery_status,
            },
        }

    # ---- orders/by_source ------------------------------------------------------------------------
    def orders_by_source(self, request: Request) -> Response:
        params = _params(request)
        source, start, end = _by_source_params(params)
        portal = params.get("portal_name") or params.get("portal")
        first = datetime.combine(start, time.min, UTC)
        last = datetime.combine(end + timedelta(days=1), time.min, UTC)
        rows = [
            o
            for o in self.data.orders.values()
            if first <= o.order_date < last
            and (source == "all" or o.source == source)
            and not (source == "portal" and portal and o.portal_name != portal)
        ]
        rows.sort(key=lambda o: (o.order_date, o.order_number))
        return _json(
            200,
            {
                "data": [
                    {
                        "order_number": o.order_number,
                        "order_date": o.order_date.strftime("%Y-%m-%dT%H:%MZ"),
                        "status": o.status,
                        "source": o.source,
                        "portal_name": o.portal_name,
                    }
                    for o in rows
                ]
            },
        )


def _by_source_params(params: dict[str, Any]) -> tuple[str, date, date]:
    """Validate source and dates; every problem found becomes one entry of a 400 answer."""
    errors: list[dict] = []

    def fail(title: str, detail: str) -> None:
        errors.append({"title": title, "detail": detail, "status": "400"})

    source = str(params.get("source") or "").strip()
    if not source:
        fail("Missing source", "source is required. Valid sources: " + ", ".join(VALID_SOURCES))
    elif source not in VALID_SOURCES:
        fail("Invalid source", "Invalid source. Valid sources: " + ", ".join(VALID_SOURCES))
    dates: dict[str, date] = {}
    for name in ("start_date", "end_date"):
        raw = str(params.get(name) or "").strip()
        if not raw:
            fail(f"Missing {name}", f"{name} is required (an ISO 8601 date, e.g. 2025-08-01)")
        elif (parsed := _iso_date(raw)) is None:
            fail(f"Invalid {name}", f"{name} '{raw}' is not a valid ISO 8601 date, e.g. 2025-08-01")
        else:
            dates[name] = parsed
    if len(dates) == 2:
        start, end = dates["start_date"], dates["end_date"]
        if end < start:
            fail("Invalid date range", "end_date must not be before start_date")
        elif (end - start).days > MAX_RANGE_DAYS:
            fail("Invalid date range", f"start_date and end_date must not be more than {MAX_RANGE_DAYS} days apart")
    if errors:
        raise KotisError(400, errors)
    return source, dates["start_date"], dates["end_date"]


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _whole(value: Any) -> int | None:
    """An int from 3 or "3"; None for anything else (floats, "3.5", booleans)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class StoresApp(_App):
    rules = (("/api/v1/redemption_codes/create", "POST", "create_redemption_codes"),)

    def create_redemption_codes(self, request: Request) -> Response:
        params = _params(request)
        missing = [k for k in ("portal_slug", "number_to_create") if str(params.get(k) or "").strip() == ""]
        if missing:
            raise KotisError(
                400, [{"title": f"Missing {k}", "detail": f"{k} is required", "status": "400"} for k in missing]
            )
        slug = str(params["portal_slug"]).strip()
        number = _whole(params["number_to_create"])
        if number is None or number < 1:
            raise _error(400, "Invalid number_to_create", "number_to_create must be a positive whole number")
        portal = self.data.portals.get(slug)
        if portal is None or not portal.active:
            raise _error(404, "Invalid Portal", f"No active portal '{slug}' is associated with this API key")
        daily = DAILY_LIMIT - portal.codes_today
        yearly = YEARLY_LIMIT - portal.codes_this_year
        allowed = max(0, min(daily, yearly))
        if number > allowed:
            limit, period, cap = (
                ("daily", "today", DAILY_LIMIT) if daily <= yearly else ("yearly", "this year", YEARLY_LIMIT)
            )
            detail = f"{slug} can create {allowed:,} more codes {period} ({limit} limit {cap:,}); {number:,} requested"
            raise _error(
                422,
                "Limit Exceeded",
                detail,
                meta={
                    "allowed_number_to_create": allowed,
                    "limit": limit,
                    "daily_remaining": max(0, daily),
                    "yearly_remaining": max(0, yearly),
                },
            )
        codes = [redemption_code(self.seed, slug, portal.codes_created + i) for i in range(number)]
        portal.codes_created += number
        portal.codes_today += number
        portal.codes_this_year += number
        return _json(
            200,
            {
                "status": "success",
                "portal_slug": slug,
                "number_created": number,
                "codes": codes,
                "daily_remaining": DAILY_LIMIT - portal.codes_today,
                "yearly_remaining": YEARLY_LIMIT - portal.codes_this_year,
            },
        )


def create_kotis_apps(seed: int, scale: int, api_key: str) -> tuple[KwfApp, StoresApp]:
    """The kwf and stores WSGI apps over one shared, deterministic data set (see the module doc)."""
    data = build_kotis_data(seed, scale)
    lock = threading.RLock()
    return KwfApp(data, api_key, lock, seed), StoresApp(data, api_key, lock, seed)


__all__ = ["KwfApp", "StoresApp", "create_kotis_apps"]
