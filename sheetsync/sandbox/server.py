"""The sandbox server: KSS at /kss/api/v1, Kotis at /kotis and /kotis-stores, admin routes at /_admin.

`start_sandbox()` runs a threaded werkzeug server on loopback in a daemon thread and returns a
`RunningSandbox` (a context manager). Everything is deterministic for a seed except wall-clock rate-limit
windows; the payment-request lifecycle moves only when `advance()` is called.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sheetsync.errors import ConfigError
from sheetsync.sandbox.data import Dataset, build_dataset, stable_seed
from sheetsync.sandbox.kss_routes import ROUTES, Route
from sheetsync.sandbox.params import ApiError, Ctx, Key
from sheetsync.sandbox.payments import PaymentBook
from sheetsync.sandbox.quirks import apply_quirks
from sheetsync.sandbox.results import ResultCache, query_key

KSS_BASE = "/kss/api/v1"
KOTIS_BASE = "/api/v1"
DEFAULT_RATE_LIMIT = 100_000
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
WINDOW_SECONDS = 3600
FAULT_FIELDS = ("fault_500_rate", "latency_ms", "burst_429", "drop_after_post", "drop_after_create")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


@dataclass
class SandboxOptions:
    seed: int = 0
    scale: int = 1
    rate_limit: int | None = None  # requests per key per hour; None = DEFAULT_RATE_LIMIT
    payments_revision: str = "2025"  # "2026" serves the newer payments paths only
    live_quirks: bool = False
    fault_500_rate: float = 0.0  # share of requests answered 500
    latency_ms: int = 0
    burst_429: int = 0  # the next N requests answer 429 with Retry-After
    drop_after_post: int = 0  # the next N allocation POSTs are applied, then the connection is dropped
    drop_after_create: int = 0  # the next N Kotis orders/create POSTs are applied, then the connection is dropped


@dataclass
class SandboxInfo:
    kss: str
    kotis: str
    kotis_stores: str
    keys: dict[str, str]


def sandbox_keys(seed: int) -> dict[str, str]:
    """Deterministic keys for a seed: sbx-emp-..., sbx-cust-..., sbx-sup-..., sbx-kotis-..."""

    def make(prefix: str, kind: str) -> str:
        return f"sbx-{prefix}-" + hashlib.sha256(f"sheetsync-sandbox:{seed}:{kind}".encode()).hexdigest()[:24]

    return {
        "employee": make("emp", "employee"),
        "customer": make("cust", "customer"),
        "supplier": make("sup", "supplier"),
        "kotis": make("kotis", "kotis"),
    }


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


class KssApp:
    """The KSS API as a WSGI app, with the live service's headers, limits, quirks and injected faults."""

    def __init__(self, ds: Dataset, book: PaymentBook, options: SandboxOptions, keys: dict[str, str]) -> None:
        self.ds, self.book, self.options = ds, book, options
        self.lock = threading.RLock()
        self.keys = self._scoped_keys(keys)
        self.log: list[dict] = []
        self.windows: dict[str, tuple[float, int]] = {}
        self.fault_rng = random.Random(stable_seed(options.seed, "faults"))
        self.results = ResultCache()
        self.url_map = Map(
            [
                Rule("/" + re.sub(r"\{(\w+)\}", r"<\1>", r.name), endpoint=r.name, methods=["GET", "POST"])
                for r in {r.name: r for r in ROUTES}.values()
            ]
        )
        self.routes: dict[tuple[str, str], Route] = {
            (r.name, r.method): r for r in ROUTES if options.payments_revision in r.revisions
        }

    def _scoped_keys(self, keys: dict[str, str]) -> dict[str, Key]:
        active = [c for c in self.ds.customers if c["AccountStatus"] == "Active"]
        first = active[0]
        same_state = [c for c in active[1:] if c["State"] == first["State"]]
        customers = [first["CustomerID"]] + ([same_state[0]["CustomerID"]] if same_state else [])
        suppliers = [s["SupplierID"] for s in self.ds.suppliers if s["Active"]][:2]
        return {
            keys["employee"]: Key("employee"),
            keys["customer"]: Key("customer", customers=frozenset(customers)),
            keys["supplier"]: Key("supplier", suppliers=frozenset(suppliers)),
        }

    # ---- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        sent = request.headers.get("X-Request-Id", "")
        request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex[:16]
        key = self.keys.get(request.headers.get("x-api-key", ""))
        raw_key = request.headers.get("x-api-key", "") if key else ""
        drop = False
        try:
            response, drop = self._handle(request, key, raw_key)
        except ApiError as exc:
            response = _json(exc.status, {"Error": exc.message})
        response.headers["X-Request-Id"] = request_id
        response.headers["Cache-Control"] = "private"
        self._rate_headers(response, raw_key)
        self._record(request, key, response.status_code)
        if drop:
            self._drop(environ)
        return response(environ, start_response)

    def _handle(self, request: Request, key: Key | None, raw_key: str) -> tuple[Response, bool]:
        opts = self.options
        if opts.latency_ms:
            time.sleep(opts.latency_ms / 1000)
        if key is None:
            raise ApiError(401, "Missing or invalid API key")
        with self.lock:
            if opts.burst_429 > 0:
                opts.burst_429 -= 1
                return _json(429, {"Error": "Rate limit exceeded"}, {"Retry-After": "1"}), False
            start, count = self.windows.get(raw_key, (time.monotonic(), 0))
            if count >= self._limit():
                reset = self._reset(raw_key)
                return _json(429, {"Error": "Rate limit exceeded"}, {"Retry-After": str(reset)}), False
            self.windows[raw_key] = (start, count + 1)
            if opts.fault_500_rate and self.fault_rng.random() < opts.fault_500_rate:
                return _json(500, {"Error": "Unexpected server error. Contact KSS support."}), False
        return self._dispatch(request, key, raw_key)

    def _dispatch(self, request: Request, key: Key, raw_key: str) -> tuple[Response, bool]:
        path = request.path[len(KSS_BASE) :] or "/"
        try:
            name, values = self.url_map.bind("sandbox").match(path, method=request.method)
        except (NotFound, MethodNotAllowed):
            raise ApiError(404, "The endpoint does not exist") from None
        route = self.routes.get((name, request.method))
        if route is None:
            raise ApiError(404, "The endpoint does not exist")
        if key.type in route.denied:
            raise ApiError(403, f"/{name} is not available to {key.type.capitalize()} keys")
        path_id = next(iter(values.values()), None)
        ctx = Ctx(self.ds, self.book, key, request.args, self.options.payments_revision, path_id)
        with self.lock:
            if route.method == "POST":
                try:
                    rows = route.handler(ctx)
                finally:
                    self.results.clear()
                body = {"Data": _public(rows[0])}
                drop = self.options.drop_after_post > 0
                if drop:
                    self.options.drop_after_post -= 1
                return _json(200, body), drop
            query = query_key(request.args, name, path_id, ctx.revision, key)
            rows = self.results.rows_for(query, lambda: route.handler(ctx))
            page, size = self._paging(ctx, route)
            chunk, page, has_next = _page_of(route, rows, page, size)  # lazy rows render here, under the lock
        return self._page_response(request, route, key, raw_key, chunk, (page, size, has_next)), False

    def _paging(self, ctx: Ctx, route: Route) -> tuple[int, int]:
        page = ctx.number("Page", required=False)
        size = ctx.number("PageSize", required=False)
        if page is not None and page < 1:
            raise ApiError(400, "Page must be a positive number")
        if size is not None and size < 1:
            raise ApiError(400, "PageSize must be a positive number")
        return page or 1, min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)

    def _page_response(
        self, request: Request, route: Route, key: Key, raw_key: str, chunk: list[dict], paging: tuple[int, int, bool]
    ) -> Response:
        page, size, has_next = paging
        data = [_public(r) for r in chunk]
        if self.options.live_quirks:
            data = apply_quirks(route.name, data, key.type)
        body = json.dumps({"Data": data, "Page": page, "PageSize": size, "HasNextPage": has_next}, ensure_ascii=False)
        etag = 'W/"' + hashlib.sha256((raw_key + "\0" + body).encode()).hexdigest()[:32] + '"'
        if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, status=200, headers={"ETag": etag}, content_type="application/json; charset=utf-8")

    # ---- limits, logging, faults -----------------------------------------------------------------
    def _limit(self) -> int:
        return self.options.rate_limit or DEFAULT_RATE_LIMIT

    def _reset(self, raw_key: str) -> int:
        start, _ = self.windows.get(raw_key, (time.monotonic(), 0))
        remaining = WINDOW_SECONDS - (time.monotonic() - start)
        if remaining <= 0:
            self.windows.pop(raw_key, None)
            return WINDOW_SECONDS
        return max(1, int(remaining + 0.999))

    def _rate_headers(self, response: Response, raw_key: str) -> None:
        with self.lock:
            reset = self._reset(raw_key) if raw_key in self.windows else WINDOW_SECONDS
            used = self.windows.get(raw_key, (0.0, 0))[1]
        response.headers["RateLimit-Limit"] = str(self._limit())
        response.headers["RateLimit-Remaining"] = str(max(0, self._limit() - used))
        response.headers["RateLimit-Reset"] = str(reset)

    def _record(self, request: Request, key: Key | None, status: int) -> None:
        entry = {
            "api": "kss",
            "method": request.method,
            "path": request.path[len(KSS_BASE) :] or "/",
            "query": {k: ",".join(request.args.getlist(k)) for k in request.args},
            "key_type": key.type if key else None,
            "status": status,
        }
        with self.lock:
            self.log.append(entry)

    def kotis_fault(self, request: Request) -> Response | None:
        """The fault answer for a Kotis request (latency, 429, 500 of the shared options), or None."""
        opts = self.options
        if opts.latency_ms:
            time.sleep(opts.latency_ms / 1000)
        with self.lock:
            if opts.burst_429 > 0:
                opts.burst_429 -= 1
                body = {"errors": [{"status": "429", "title": "Too Many Requests", "detail": "Retry later"}]}
                return _json(429, body, {"Retry-After": "1"})
            if opts.fault_500_rate and self.fault_rng.random() < opts.fault_500_rate:
                return _json(500, {"errors": [{"status": "500", "title": "Internal Server Error", "detail": ""}]})
        return None

    def kotis_drop(self, request: Request, status: list[int]) -> bool:
        """Whether to drop the connection after this (applied) Kotis orders/create."""
        if request.method != "POST" or not request.path.endswith("/orders/create") or status[:1] != [200]:
            return False
        with self.lock:
            if self.options.drop_after_create <= 0:
                return False
            self.options.drop_after_create -= 1
            return True

    def _drop(self, environ: dict) -> None:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _page_of(route: Route, rows: Sequence[dict], page: int, size: int) -> tuple[list[dict], int, bool]:
    """The rows of one page, the page number answered and whether another follows."""
    if route.single:
        return list(rows[:1]), 1, False
    return list(rows[(page - 1) * size : page * size]), page, page * size < len(rows)


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _not_found_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    return _json(404, {"errors": [{"status": "404", "title": "Not Found", "detail": "Kotis sandbox not available"}]})(
        environ, start_response
    )


def _kotis_apps(seed: int, scale: int, api_key: str) -> tuple[Callable, Callable]:
    try:
        from sheetsync.sandbox import kotis  # written separately; may not exist yet
    except ImportError:
        return _not_found_app, _not_found_app
    return kotis.create_kotis_apps(seed, scale, api_key)


class _Logged:
    """Wrap a Kotis WSGI app so its requests appear in the sandbox's request log."""

    def __init__(self, app: Callable, api: str, kss: KssApp, kotis_key: str) -> None:
        self.app, self.api, self.kss, self.kotis_key = app, api, kss, kotis_key

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        status_box: list[int] = []

        def capture(status: str, headers: list, exc_info: Any = None) -> Any:
            status_box.append(int(status.split()[0]))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        fault = self.kss.kotis_fault(request)
        result = fault(environ, capture) if fault is not None else self.app(environ, capture)
        if fault is None and self.kss.kotis_drop(request, status_box):
            self.kss._drop(environ)
        auth = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        path = request.path[len(KOTIS_BASE) :] if request.path.startswith(KOTIS_BASE) else request.path
        entry = {
            "api": self.api,
            "method": request.method,
            "path": path,
            "query": {k: ",".join(request.args.getlist(k)) for k in request.args},
            "key_type": "kotis" if auth == self.kotis_key else None,
            "status": status_box[0] if status_box else None,
        }
        with self.kss.lock:
            self.kss.log.append(entry)
        return result


class SandboxApp:
    """The root WSGI app: admin routes, KSS, and the mounted Kotis apps."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.keys = sandbox_keys(options.seed)
        self.ds = build_dataset(options.seed, options.scale)
        self.book = PaymentBook(self.ds)
        self.kss = KssApp(self.ds, self.book, options, self.keys)
        kwf, stores = _kotis_apps(options.seed, options.scale, self.keys["kotis"])
        self.kotis_kwf = kwf
        self.wsgi = DispatcherMiddleware(
            self._root,
            {
                "/kotis": _Logged(kwf, "kotis", self.kss, self.keys["kotis"]),
                "/kotis-stores": _Logged(stores, "kotis_stores", self.kss, self.keys["kotis"]),
            },
        )

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self.wsgi(environ, start_response)

    def _root(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == KSS_BASE or path.startswith(KSS_BASE + "/"):
            return self.kss(environ, start_response)
        if path.startswith("/_admin/"):
            return self._admin(Request(environ))(environ, start_response)
        return _json(404, {"Error": "The endpoint does not exist"})(environ, start_response)

    def _admin(self, request: Request) -> Response:
        action = request.path[len("/_admin/") :]
        if action == "advance" and request.method == "POST":
            steps = request.args.get("steps", "1")
            if not steps.isdigit():
                return _json(400, {"Error": "steps must be a number"})
            self.advance(int(steps))
            return _json(200, {"ok": True, "clock": self.book.clock.isoformat()})
        if action == "faults" and request.method == "POST":
            try:
                self.set_faults(**(request.get_json(force=True, silent=False) or {}))
            except (TypeError, ValueError) as exc:
                return _json(400, {"Error": str(exc)})
            return _json(200, {f: getattr(self.options, f) for f in FAULT_FIELDS})
        if action == "ship-kotis" and request.method == "POST":
            return _json(200, {"shipped": self.ship_kotis_orders()})
        if action == "requests" and request.method == "GET":
            return _json(200, self.requests_log())
        return _json(404, {"Error": "Unknown admin route"})

    def advance(self, steps: int = 1) -> None:
        with self.kss.lock:
            self.book.advance(steps)
            self.kss.results.clear()

    def set_faults(self, **faults: Any) -> None:
        unknown = set(faults) - set(FAULT_FIELDS)
        if unknown:
            raise TypeError(f"unknown fault(s): {', '.join(sorted(unknown))}; allowed: {', '.join(FAULT_FIELDS)}")
        with self.kss.lock:
            for name, value in faults.items():
                setattr(self.options, name, float(value) if name == "fault_500_rate" else int(value))

    def ship_kotis_orders(self, tracking_digits: int = 22) -> list[str]:
        """Ship every pending Kotis order created through the API; returns their order numbers."""
        ship = getattr(self.kotis_kwf, "ship_api_orders", None)
        return ship(tracking_digits) if ship is not None else []

    def requests_log(self) -> list[dict]:
        with self.kss.lock:
            return [dict(e) for e in self.kss.log]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any) -> None:
        pass


class RunningSandbox:
    """A sandbox serving in a daemon thread; a context manager that stops it on exit."""

    def __init__(self, app: SandboxApp, server: BaseWSGIServer, info: SandboxInfo) -> None:
        self.app, self.server, self.info = app, server, info
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sheetsync-sandbox", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def advance(self, steps: int = 1) -> None:
        self.app.advance(steps)

    def set_faults(self, **faults: Any) -> None:
        self.app.set_faults(**faults)

    def ship_kotis_orders(self, tracking_digits: int = 22) -> list[str]:
        return self.app.ship_kotis_orders(tracking_digits)

    def requests_log(self) -> list[dict]:
        return self.app.requests_log()

    @property
    def options(self) -> SandboxOptions:
        return self.app.options


def _check_free(host: str, port: int) -> None:
    """ConfigError naming host and port when the address cannot be listened on (werkzeug would print its own
    message and exit 1)."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        reason = "is in use by another program" if exc.errno == errno.EADDRINUSE else f"cannot be used ({why})"
        raise ConfigError(
            f"sandbox: port {port} on {host} {reason}; choose another --port, or 0 for a free one"
        ) from None


def start_sandbox(*, host: str = "127.0.0.1", port: int = 0, options: SandboxOptions | None = None) -> RunningSandbox:
    """Build the data for the options' seed and scale and serve both APIs on host:port (0 = a free port)."""
    options = SandboxOptions(**asdict(options)) if options else SandboxOptions()
    if options.payments_revision not in ("2025", "2026"):
        raise ValueError("payments_revision must be '2025' or '2026'")
    _check_free(host, port)
    app = SandboxApp(options)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    root = f"http://{host}:{server.server_port}"
    info = SandboxInfo(
        kss=root + KSS_BASE,
        kotis=root + "/kotis" + KOTIS_BASE,
        kotis_stores=root + "/kotis-stores" + KOTIS_BASE,
        keys=dict(app.keys),
    )
    return RunningSandbox(app, server, info)


__all__ = ["RunningSandbox", "SandboxInfo", "SandboxOptions", "start_sandbox"]
