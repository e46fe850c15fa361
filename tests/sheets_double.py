"""An in-memory double of the Google Sheets v4 REST API, plugged into requests/gspread as a transport adapter.

Every request body (and query parameter name) is validated against Google's published discovery document
(shipped in google-api-python-client): unknown fields, wrong types and a `Request` with other than exactly
one kind set are answered 400, as Google does. State is modelled for the request types sheetsync sends;
any other kind is answered 400 so that a test notices. batchUpdate is atomic: on any error the whole
spreadsheet is restored. Calls are counted; faults (429/5xx, a failure mid-batch) can be injected.

    double = SheetsDouble()
    double.add_spreadsheet("SHEET1")
    session = double.session(FakeServiceAccountCredentials())
    write_workbooks("SHEET1", [...], credentials=creds, session=session)
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import googleapiclient
import requests
from google.auth import credentials as ga_credentials
from requests.adapters import BaseAdapter

DISCOVERY_PATH = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "sheets.v4.json"
DISCOVERY = json.loads(DISCOVERY_PATH.read_text())
SCHEMAS: dict[str, Any] = DISCOVERY["schemas"]
EXACTLY_ONE = {"Request"}
AT_MOST_ONE = {"ExtendedValue"}
MAX_CELLS = 10_000_000
MAX_CELL_CHARS = 50_000
SERVICE_ACCOUNT = "sheetsync-bot@sheetsync-tests.iam.gserviceaccount.com"


class FakeServiceAccountCredentials(ga_credentials.Credentials):
    """Credentials with a stubbed token refresh: no key, no network."""

    service_account_email = SERVICE_ACCOUNT

    def __init__(self) -> None:
        super().__init__()
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = "fake-access-token"
        self.expiry = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None)


class ApiFault(Exception):
    def __init__(self, status: int, message: str, reason: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


def bad(message: str) -> ApiFault:
    return ApiFault(400, message)


# -- discovery-document validation -------------------------------------------------------------
def validate(value: Any, schema: dict[str, Any], path: str) -> None:
    if "$ref" in schema:
        name = schema["$ref"]
        schema = SCHEMAS[name]
    else:
        name = schema.get("id", "")
    kind = schema.get("type", "any")
    if kind == "object":
        _validate_object(value, schema, name, path)
    elif kind == "array":
        if not isinstance(value, list):
            raise bad(f"Invalid value at '{path}', expected a list")
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{i}]")
    elif kind == "string":
        int64 = schema.get("format") in ("int64", "uint64") and isinstance(value, int) and not isinstance(value, bool)
        if not isinstance(value, str) and not int64:
            raise bad(f"Invalid value at '{path}' (TYPE_STRING), {json.dumps(value)[:40]}")
        if "enum" in schema and value not in schema["enum"]:
            raise bad(f"Invalid value at '{path}', {value!r} is not one of the enum values")
    elif kind == "integer":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise bad(f"Invalid value at '{path}' (TYPE_INT32), {json.dumps(value)[:40]}")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad(f"Invalid value at '{path}' (TYPE_DOUBLE), {json.dumps(value)[:40]}")
    elif kind == "boolean" and not isinstance(value, bool):
        raise bad(f"Invalid value at '{path}' (TYPE_BOOL), {json.dumps(value)[:40]}")


def _validate_object(value: Any, schema: dict[str, Any], name: str, path: str) -> None:
    if not isinstance(value, dict):
        raise bad(f"Invalid value at '{path}', expected an object ({name})")
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in props:
            validate(item, props[key], f"{path}.{key}" if path else key)
        elif extra is not None:
            validate(item, extra, f"{path}.{key}")
        else:
            raise bad(f"Invalid JSON payload received. Unknown name \"{key}\" at '{path}': Cannot find field.")
    set_kinds = [k for k in value if k in props]
    if name in EXACTLY_ONE and len(set_kinds) != 1:
        raise bad(f"Invalid requests at '{path}': exactly one kind of request must be set, got {set_kinds}")
    if name in AT_MOST_ONE and len(set_kinds) > 1:
        raise bad(f"Invalid value at '{path}': only one of {set_kinds} may be set")


def check_params(method: str, query: dict[str, list[str]]) -> None:
    methods = DISCOVERY["resources"]["spreadsheets"]["methods"]
    allowed = set(DISCOVERY["parameters"]) | set(methods[method]["parameters"])
    for name in query:
        if name not in allowed:
            raise bad(f"Unknown query parameter {name!r} for spreadsheets.{method}")


# -- field masks -------------------------------------------------------------------------------
def parse_mask(text: str) -> dict[str, Any] | None:
    """Partial-response / FieldMask syntax -> nested dict (None = everything below)."""
    text = text.replace(" ", "")
    if text in ("*", ""):
        return None
    tree, pos = _parse_list(text, 0)
    if pos != len(text):
        raise bad(f"Invalid field mask {text!r} at {pos}")
    return tree


def _parse_list(text: str, pos: int) -> tuple[dict[str, Any], int]:
    tree: dict[str, Any] = {}
    while pos < len(text):
        match = re.compile(r"[A-Za-z0-9_./*]+").match(text, pos)
        if not match:
            raise bad(f"Invalid field mask {text!r} at {pos}")
        names = re.split(r"[./]", match.group())
        pos = match.end()
        sub: dict[str, Any] | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise bad(f"Invalid field mask {text!r}: missing )")
            pos += 1
        _insert(tree, names, sub)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        break
    return tree, pos


def _insert(tree: dict[str, Any], names: list[str], sub: dict[str, Any] | None) -> None:
    for name in names[:-1]:
        if name in tree and tree[name] is None:
            return
        tree = tree.setdefault(name, {})
    leaf = names[-1]
    if sub is None or tree.get(leaf, {}) is None:
        tree[leaf] = None
    else:
        tree.setdefault(leaf, {}).update(sub)


def check_mask(tree: dict[str, Any] | None, schema_name: str, where: str = "") -> None:
    """Refuse a field mask naming a field the schema does not have (Google answers 400 too)."""
    if tree is None:
        return
    props = SCHEMAS[schema_name].get("properties", {})
    for name, sub in tree.items():
        if name not in props:
            raise bad(f"Invalid field selection {where + name}: no such field in {schema_name}")
        spec = props[name].get("items", props[name])
        if sub is not None:
            if "$ref" not in spec:
                raise bad(f"Invalid field selection {where + name}: it has no sub-fields")
            check_mask(sub, spec["$ref"], f"{where}{name}.")


def mask_for(text: str, schema_name: str) -> dict[str, Any] | None:
    tree = parse_mask(text)
    check_mask(tree, schema_name)
    return tree


def apply_mask(obj: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None:
        return obj
    if isinstance(obj, list):
        return [apply_mask(item, tree) for item in obj]
    if not isinstance(obj, dict):
        return obj
    return {k: apply_mask(obj[k], sub) for k, sub in tree.items() if k in obj}


def masked_set(target: dict[str, Any], source: dict[str, Any], tree: dict[str, Any] | None) -> None:
    """Copy the masked fields from source into target; a masked field absent in source is cleared.

    Only `target` itself is changed: nested dicts are replaced, never edited in place, so cell data may be
    shared between cells and with snapshots."""
    if tree is None:
        target.clear()
        target.update(source)
        return
    for key, sub in tree.items():
        if sub is None:
            if key in source:
                target[key] = source[key]
            else:
                target.pop(key, None)
        else:
            child = dict(target.get(key, {}))
            masked_set(child, source.get(key, {}), sub)
            if child:
                target[key] = child
            else:
                target.pop(key, None)


# -- state -------------------------------------------------------------------------------------
@dataclass
class Sheet:
    properties: dict[str, Any]
    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    basic_filter: dict[str, Any] | None = None
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    developer_metadata: list[dict[str, Any]] = field(default_factory=list)
    column_pixels: dict[int, int] = field(default_factory=dict)
    charts: list[dict[str, Any]] = field(default_factory=list)
    row_metadata: dict[int, dict[str, Any]] = field(default_factory=dict)  # hiddenByUser / hiddenByFilter
    merges: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sheet_id(self) -> int:
        return self.properties["sheetId"]

    @property
    def title(self) -> str:
        return self.properties["title"]

    @property
    def grid(self) -> dict[str, int]:
        return self.properties["gridProperties"]

    def snapshot(self) -> Sheet:
        """A copy that shares cell data (cells are replaced, never edited in place)."""
        return Sheet(
            copy.deepcopy(self.properties),
            dict(self.cells),
            self.basic_filter,
            list(self.conditional_formats),
            list(self.developer_metadata),
            dict(self.column_pixels),
            list(self.charts),
            copy.deepcopy(self.row_metadata),
            copy.deepcopy(self.merges),
        )

    def value(self, a1: str) -> Any:
        """The effective value of one cell, as a test reads it ("B7")."""
        r, c = a1_to_index(a1)
        return effective_value(self, r, c)

    def row_values(self, row: int) -> list[Any]:
        """Effective values of a 1-based row, trailing empties dropped."""
        values = [effective_value(self, row - 1, c) for c in range(self.grid["columnCount"])]
        while values and values[-1] is None:
            values.pop()
        return values

    def used_rows(self) -> int:
        return max((r + 1 for (r, _c), cell in self.cells.items() if cell), default=0)


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    shared: bool = True
    next_metadata_id: int = 1000
    named_ranges: list[dict[str, Any]] = field(default_factory=list)

    def sheet(self, title_or_id: str | int) -> Sheet:
        for sheet in self.sheets:
            if title_or_id in (sheet.title, sheet.sheet_id):
                return sheet
        raise KeyError(title_or_id)

    def by_id(self, sheet_id: int) -> Sheet:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise bad(f"Invalid requests: No grid with id: {sheet_id}")

    @property
    def titles(self) -> list[str]:
        return [s.title for s in self.sheets]


def a1_to_index(a1: str) -> tuple[int, int]:
    match = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", a1)
    if not match:
        raise ValueError(a1)
    column = 0
    for ch in match.group(1):
        column = column * 26 + ord(ch) - 64
    return int(match.group(2)) - 1, column - 1


def effective_value(sheet: Sheet, r: int, c: int) -> Any:
    cell = sheet.cells.get((r, c), {})
    entered = cell.get("userEnteredValue")
    if not entered:
        return None
    if "formulaValue" in entered:
        computed = _evaluate(sheet, entered["formulaValue"])
        return None if computed is None else computed
    return next(iter(entered.values()))


def _evaluate(sheet: Sheet, formula: str) -> Any:
    """The few formulas sheetsync writes: =SUBTOTAL(n,A5:A9)."""
    match = re.fullmatch(r"=SUBTOTAL\((\d+),([A-Z]+\d+):([A-Z]+\d+)\)", formula)
    if not match:
        return None
    (r0, c0), (r1, _c1) = a1_to_index(match.group(2)), a1_to_index(match.group(3))
    values = [effective_value(sheet, r, c0) for r in range(r0, r1 + 1)]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    kind = int(match.group(1))
    if kind == 109:
        return float(sum(numbers))
    if kind == 103:
        return float(sum(1 for v in values if v not in (None, "")))
    if kind == 101:
        return sum(numbers) / len(numbers) if numbers else None
    return None


# -- the adapter -------------------------------------------------------------------------------
@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0


class SheetsDouble(BaseAdapter):
    """The API double. Mount it on a requests session (see `session()`)."""

    def __init__(self) -> None:
        super().__init__()
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.calls: list[Call] = []
        self._faults: list[dict[str, Any]] = []
        self._fail_mid_batch: list[int] = []
        self._drops: list[str | None] = []
        self.token_requests = 0

    # -- setup and faults ----------------------------------------------------------------------
    def add_spreadsheet(
        self,
        spreadsheet_id: str,
        *,
        title: str = "Test sheet",
        shared: bool = True,
        tabs: tuple[str, ...] = ("Sheet1",),
    ) -> Spreadsheet:
        sheets = [
            Sheet(
                {
                    "sheetId": 0 if i == 0 else 100 + i,
                    "title": name,
                    "index": i,
                    "sheetType": "GRID",
                    "gridProperties": {"rowCount": 1000, "columnCount": 26},
                }
            )
            for i, name in enumerate(tabs)
        ]
        book = Spreadsheet(spreadsheet_id, title, sheets, shared=shared)
        self.spreadsheets[spreadsheet_id] = book
        return book

    def fail_next(self, status: int, *, times: int = 1, on: str | None = None, after: int = 0) -> None:
        """Answer `times` calls (of kind "get" / "batchUpdate", or any) with `status`, after letting `after`
        such calls through."""
        self._faults.append({"on": on, "status": status, "times": times, "skip": after})

    def drop_next(self, *, on: str | None = None) -> None:
        """Drop the connection of the next call (of kind "get" / "batchUpdate", or any) before answering."""
        self._drops.append(on)

    def fail_mid_batch(self, after_requests: int, *, times: int = 1) -> None:
        """The next `times` batchUpdates apply `after_requests` requests, then fail with 500 (rolled back)."""
        self._fail_mid_batch = [after_requests] * times

    def session(self, credentials: ga_credentials.Credentials | None = None) -> requests.Session:
        """A session whose Sheets (and OAuth token) traffic goes to this double."""
        from google.auth.transport.requests import AuthorizedSession, Request

        token_session = requests.Session()
        token_session.mount("https://oauth2.googleapis.com/", self)
        if credentials is None:
            session = requests.Session()
            session.headers["Authorization"] = "Bearer fake-access-token"
        else:
            session = AuthorizedSession(credentials, auth_request=Request(token_session))
        session.mount("https://sheets.googleapis.com/", self)
        session.mount("https://oauth2.googleapis.com/", self)
        return session

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for call in self.calls:
            kind = "batchUpdate" if call.path.endswith(":batchUpdate") else "get"
            result[kind] = result.get(kind, 0) + 1
        return result

    # -- transport -----------------------------------------------------------------------------
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        if parts.netloc == "oauth2.googleapis.com":
            self.token_requests += 1
            return self._response(
                request, 200, {"access_token": "fake-access-token", "expires_in": 3600, "token_type": "Bearer"}
            )
        if self._drops and self._drops[0] in (None, "batchUpdate" if ":batchUpdate" in parts.path else "get"):
            self._drops.pop(0)
            self.calls.append(Call(request.method or "GET", unquote(parts.path), {}, None, status=-1))
            raise requests.ConnectionError("Connection aborted: RemoteDisconnected")
        body = json.loads(request.body) if request.body else None
        call = Call(request.method or "GET", unquote(parts.path), parse_qs(parts.query), body)
        self.calls.append(call)
        try:
            status, payload = self._dispatch(call, request.headers.get("Authorization", ""))
        except ApiFault as fault:
            status, payload = (
                fault.status,
                {"error": {"code": fault.status, "message": fault.message, "status": fault.reason}},
            )
        call.status = status
        return self._response(request, status, payload)

    def close(self) -> None:
        pass

    def _response(self, request: requests.PreparedRequest, status: int, payload: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers["Content-Type"] = "application/json; charset=UTF-8"
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def _dispatch(self, call: Call, authorization: str) -> tuple[int, Any]:
        if not authorization.startswith("Bearer "):
            raise ApiFault(401, "Request is missing required authentication credential.", "UNAUTHENTICATED")
        match = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(:batchUpdate)?", call.path)
        if not match:
            raise ApiFault(404, f"The double does not serve {call.method} {call.path}", "NOT_FOUND")
        kind = "batchUpdate" if match.group(2) else "get"
        for fault in self._faults:
            if fault["on"] in (None, kind) and fault["times"] > 0:
                if fault["skip"]:
                    fault["skip"] -= 1
                    break
                fault["times"] -= 1
                status = fault["status"]
                raise ApiFault(status, "Injected fault", "RESOURCE_EXHAUSTED" if status == 429 else "INTERNAL")
        book = self.spreadsheets.get(match.group(1))
        if book is None:
            raise ApiFault(404, "Requested entity was not found.", "NOT_FOUND")
        if not book.shared:
            raise ApiFault(403, "The caller does not have permission", "PERMISSION_DENIED")
        if kind == "get":
            if call.method != "GET":
                raise ApiFault(404, f"{call.method} is not served here", "NOT_FOUND")
            check_params("get", call.query)
            return 200, self._get(book, call.query)
        if call.method != "POST":
            raise ApiFault(404, f"{call.method} is not served here", "NOT_FOUND")
        check_params("batchUpdate", call.query)
        validate(call.body, {"$ref": "BatchUpdateSpreadsheetRequest"}, "")
        return 200, self._batch_update(book, call.body)

    # -- spreadsheets.get ----------------------------------------------------------------------
    def _get(self, book: Spreadsheet, query: dict[str, list[str]]) -> dict[str, Any]:
        grid = query.get("includeGridData", ["false"])[0] == "true"
        ranges = query.get("ranges", [])
        sheets = book.sheets
        if ranges:
            wanted = [_range_title(r) for r in ranges]
            missing = [t for t in wanted if t not in book.titles]
            if missing:
                raise bad(f"Unable to parse range: {missing[0]}")
            sheets = [s for s in sheets if s.title in wanted]
        windows = _windows(book, ranges)
        result = {
            "spreadsheetId": book.spreadsheet_id,
            "properties": {"title": book.title},
            "namedRanges": copy.deepcopy(book.named_ranges),
            "sheets": [render_sheet(s, grid, windows.get(s.title)) for s in sheets],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
        }
        fields = query.get("fields", [""])[0]
        return apply_mask(result, mask_for(fields, "Spreadsheet"))

    # -- spreadsheets.batchUpdate --------------------------------------------------------------
    def _batch_update(self, book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
        snapshot = [s.snapshot() for s in book.sheets], book.next_metadata_id, copy.deepcopy(book.named_ranges)
        fail_after = self._fail_mid_batch.pop(0) if self._fail_mid_batch else None
        replies = []
        try:
            for index, request in enumerate(body.get("requests", [])):
                if fail_after is not None and index == fail_after:
                    raise ApiFault(500, "Internal error encountered.", "INTERNAL")
                ((kind, args),) = request.items()
                handler: Callable[[Spreadsheet, dict], dict] | None = getattr(self, f"_do_{kind}", None)
                if handler is None:
                    raise bad(f"requests[{index}]: the double does not model {kind}")
                try:
                    replies.append(handler(book, args))
                except ApiFault as fault:
                    fault.message = f"Invalid requests[{index}].{kind}: {fault.message}"
                    raise
            _check_limits(book)
        except ApiFault:
            book.sheets, book.next_metadata_id, book.named_ranges = snapshot
            raise
        return {"spreadsheetId": book.spreadsheet_id, "replies": replies}

    def _do_addSheet(self, book: Spreadsheet, args: dict) -> dict:
        props = copy.deepcopy(args.get("properties", {}))
        props.setdefault("sheetId", max((s.sheet_id for s in book.sheets), default=0) + 1)
        props.setdefault("title", f"Sheet{len(book.sheets) + 1}")
        if any(s.sheet_id == props["sheetId"] for s in book.sheets):
            raise bad(f"A sheet with the id {props['sheetId']} already exists.")
        if props["title"].lower() in (t.lower() for t in book.titles):
            raise bad(f'A sheet with the name "{props["title"]}" already exists. Please enter another name.')
        props.setdefault("index", len(book.sheets))
        props["sheetType"] = "GRID"
        grid = props.setdefault("gridProperties", {})
        grid.setdefault("rowCount", 1000)
        grid.setdefault("columnCount", 26)
        _check_frozen(grid)
        book.sheets.insert(min(props["index"], len(book.sheets)), Sheet(props))
        _reindex(book)
        return {"addSheet": {"properties": copy.deepcopy(props)}}

    def _do_deleteSheet(self, book: Spreadsheet, args: dict) -> dict:
        sheet = book.by_id(args["sheetId"])
        book.sheets.remove(sheet)
        if not any(not s.properties.get("hidden") for s in book.sheets):
            raise bad("You can't remove all the visible sheets in a document.")
        _reindex(book)
        return {}

    def _do_updateSheetProperties(self, book: Spreadsheet, args: dict) -> dict:
        props = args["properties"]
        sheet = book.by_id(props.get("sheetId", 0))
        if "fields" not in args:
            raise bad("'fields' is required")
        new_title = props.get("title")
        if new_title and new_title.lower() in (s.title.lower() for s in book.sheets if s is not sheet):
            raise bad(f'A sheet with the name "{new_title}" already exists.')
        masked_set(sheet.properties, props, mask_for(args["fields"], "SheetProperties"))
        grid = sheet.properties.setdefault("gridProperties", {})
        _check_frozen(grid)
        sheet.cells = {
            (r, c): v
            for (r, c), v in sheet.cells.items()
            if r < grid.get("rowCount", 0) and c < grid.get("columnCount", 0)
        }  # as Google does: shrinking the grid deletes the cells (and columns) beyond it
        sheet.column_pixels = {c: px for c, px in sheet.column_pixels.items() if c < grid.get("columnCount", 0)}
        sheet.conditional_formats = [
            rule
            for rule in sheet.conditional_formats
            if all(r.get("startColumnIndex", 0) < grid.get("columnCount", 0) for r in rule.get("ranges", []))
        ]
        return {}

    def _do_appendDimension(self, book: Spreadsheet, args: dict) -> dict:
        sheet = book.by_id(args["sheetId"])
        key = "rowCount" if args["dimension"] == "ROWS" else "columnCount"
        sheet.grid[key] += args["length"]
        return {}

    def _do_updateCells(self, book: Spreadsheet, args: dict) -> dict:
        if "fields" not in args:
            raise bad("'fields' is required")
        mask = mask_for(args["fields"], "CellData")
        rows = args.get("rows", [])
        if "range" in args:
            sheet, r0, r1, c0, c1 = _grid_range(book, args["range"])
            for r in range(r0, r1):
                row = rows[r - r0].get("values", []) if r - r0 < len(rows) else []
                for c in range(c0, c1):
                    _set_cell(sheet, r, c, row[c - c0] if c - c0 < len(row) else {}, mask)
        else:
            start = args.get("start", {})
            sheet = book.by_id(start.get("sheetId", 0))
            r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
            for dr, row in enumerate(rows):
                for dc, data in enumerate(row.get("values", [])):
                    _check_in_grid(sheet, r0 + dr, c0 + dc)
                    _set_cell(sheet, r0 + dr, c0 + dc, data, mask)
        return {}

    def _do_repeatCell(self, book: Spreadsheet, args: dict) -> dict:
        sheet, r0, r1, c0, c1 = _grid_range(book, args["range"])
        mask = mask_for(args["fields"], "CellData")
        for r in range(r0, r1):
            for c in range(c0, c1):
                _set_cell(sheet, r, c, args.get("cell", {}), mask)
        return {}

    def _do_updateDimensionProperties(self, book: Spreadsheet, args: dict) -> dict:
        span = args["range"]
        mask_for(args["fields"], "DimensionProperties")
        sheet = book.by_id(span.get("sheetId", 0))
        if span["dimension"] == "COLUMNS" and "pixelSize" in args["properties"]:
            for c in range(span.get("startIndex", 0), span["endIndex"]):
                sheet.column_pixels[c] = args["properties"]["pixelSize"]
        if span["dimension"] == "ROWS" and "hiddenByUser" in args["properties"]:
            for r in range(span.get("startIndex", 0), span["endIndex"]):
                sheet.row_metadata.setdefault(r, {})["hiddenByUser"] = bool(args["properties"]["hiddenByUser"])
        return {}

    def _do_mergeCells(self, book: Spreadsheet, args: dict) -> dict:
        sheet, *_ = _grid_range(book, args["range"])
        sheet.merges.append(copy.deepcopy(args["range"]))
        return {}

    def _do_setBasicFilter(self, book: Spreadsheet, args: dict) -> dict:
        sheet, *_ = _grid_range(book, args["filter"]["range"])
        sheet.basic_filter = copy.deepcopy(args["filter"])
        return {}

    def _do_clearBasicFilter(self, book: Spreadsheet, args: dict) -> dict:
        book.by_id(args.get("sheetId", 0)).basic_filter = None
        return {}

    def _do_addConditionalFormatRule(self, book: Spreadsheet, args: dict) -> dict:
        rule = args["rule"]
        sheets = {_grid_range(book, r)[0].sheet_id for r in rule["ranges"]}
        if len(sheets) != 1:
            raise bad("All ranges of a conditional format rule must be on the same sheet")
        sheet = book.by_id(sheets.pop())
        if rule.get("booleanRule", {}).get("condition", {}).get("type") == "CUSTOM_FORMULA":
            values = rule["booleanRule"]["condition"].get("values", [])
            if len(values) != 1 or not values[0].get("userEnteredValue", "").startswith("="):
                raise bad("CUSTOM_FORMULA needs exactly one value, a formula")
        sheet.conditional_formats.insert(args.get("index", 0), copy.deepcopy(rule))
        return {}

    def _do_deleteConditionalFormatRule(self, book: Spreadsheet, args: dict) -> dict:
        sheet = book.by_id(args.get("sheetId", 0))
        index = args.get("index", 0)
        if index >= len(sheet.conditional_formats):
            raise bad(f"No conditional format on sheet {sheet.sheet_id} at index {index}")
        del sheet.conditional_formats[index]
        return {}

    def _do_setDataValidation(self, book: Spreadsheet, args: dict) -> dict:
        sheet, r0, r1, c0, c1 = _grid_range(book, args["range"])
        for r in range(r0, r1):
            for c in range(c0, c1):
                _set_cell(
                    sheet, r, c, {"dataValidation": args["rule"]} if "rule" in args else {}, {"dataValidation": None}
                )
        return {}

    def _do_createDeveloperMetadata(self, book: Spreadsheet, args: dict) -> dict:
        metadata = copy.deepcopy(args["developerMetadata"])
        location = metadata.get("location", {})
        if "visibility" not in metadata or "metadataKey" not in metadata:
            raise bad("developerMetadata needs a visibility and a metadataKey")
        if set(location) != {"sheetId"}:
            raise bad("the double models developer metadata on sheets only")
        sheet = book.by_id(location["sheetId"])
        metadata["metadataId"] = book.next_metadata_id
        book.next_metadata_id += 1
        metadata["location"] = {"locationType": "SHEET", "sheetId": sheet.sheet_id}
        sheet.developer_metadata.append(metadata)
        return {"createDeveloperMetadata": {"developerMetadata": metadata}}

    def _do_addChart(self, book: Spreadsheet, args: dict) -> dict:
        chart = copy.deepcopy(args["chart"])
        basic = chart.get("spec", {}).get("basicChart", {})
        for part in ("domains", "series"):
            for item in basic.get(part, []):
                for source in item[part[:-1] if part == "domains" else "series"]["sourceRange"]["sources"]:
                    _grid_range(book, source)
        anchor = chart["position"]["overlayPosition"]["anchorCell"]
        sheet = book.by_id(anchor.get("sheetId", 0))
        _check_in_grid(sheet, anchor.get("rowIndex", 0), anchor.get("columnIndex", 0))
        chart.setdefault("chartId", book.next_metadata_id)
        book.next_metadata_id += 1
        sheet.charts.append(chart)
        return {"addChart": {"chart": chart}}

    def _do_deleteEmbeddedObject(self, book: Spreadsheet, args: dict) -> dict:
        for sheet in book.sheets:
            for chart in sheet.charts:
                if chart["chartId"] == args["objectId"]:
                    sheet.charts.remove(chart)
                    return {}
        raise bad(f"No embedded object with id {args['objectId']}")

    def _do_deleteDeveloperMetadata(self, book: Spreadsheet, args: dict) -> dict:
        wanted = args["dataFilter"].get("developerMetadataLookup", {}).get("metadataId")
        if wanted is None:
            raise bad("the double models deleteDeveloperMetadata by metadataId only")
        for sheet in book.sheets:
            kept = [m for m in sheet.developer_metadata if m["metadataId"] != wanted]
            if len(kept) != len(sheet.developer_metadata):
                sheet.developer_metadata = kept
                return {"deleteDeveloperMetadata": {}}
        raise bad(f"No developer metadata with id {wanted}")

    def _do_addNamedRange(self, book: Spreadsheet, args: dict) -> dict:
        named = copy.deepcopy(args["namedRange"])
        name = named.get("name", "")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) or re.fullmatch(r"[A-Za-z]{1,3}\d+", name):
            raise bad(f"Invalid name for a named range: {name}")
        if any(n["name"].casefold() == name.casefold() for n in book.named_ranges):
            raise bad(f"A named range with the name {name} already exists.")
        _grid_range(book, named["range"])
        named.setdefault("namedRangeId", f"nr{book.next_metadata_id}")
        book.next_metadata_id += 1
        book.named_ranges.append(named)
        return {"addNamedRange": {"namedRange": named}}

    def _do_updateNamedRange(self, book: Spreadsheet, args: dict) -> dict:
        named = args["namedRange"]
        for existing in book.named_ranges:
            if existing["namedRangeId"] == named.get("namedRangeId"):
                _grid_range(book, named.get("range", existing["range"]))
                masked_set(existing, named, mask_for(args["fields"], "NamedRange"))
                return {}
        raise bad(f"No named range with id {named.get('namedRangeId')}")

    def _do_deleteNamedRange(self, book: Spreadsheet, args: dict) -> dict:
        before = len(book.named_ranges)
        book.named_ranges = [n for n in book.named_ranges if n["namedRangeId"] != args["namedRangeId"]]
        if len(book.named_ranges) == before:
            raise bad(f"No named range with id {args['namedRangeId']}")
        return {}

    def _do_appendCells(self, book: Spreadsheet, args: dict) -> dict:
        sheet = book.by_id(args["sheetId"])
        mask = mask_for(args["fields"], "CellData")
        start = sheet.used_rows()
        rows = args.get("rows", [])
        needed = start + len(rows)
        if needed > sheet.grid["rowCount"]:
            sheet.grid["rowCount"] = needed  # appendCells adds rows as needed
        for dr, row in enumerate(rows):
            for c, data in enumerate(row.get("values", [])):
                if c >= sheet.grid["columnCount"]:
                    sheet.grid["columnCount"] = c + 1
                _set_cell(sheet, start + dr, c, data, mask)
        return {}

    def _do_copyPaste(self, book: Spreadsheet, args: dict) -> dict:
        if args.get("pasteType", "PASTE_NORMAL") != "PASTE_NORMAL":
            raise bad("the double models PASTE_NORMAL only")
        source, sr0, sr1, sc0, sc1 = _grid_range(book, args["source"])
        target, tr0, tr1, tc0, tc1 = _grid_range(book, args["destination"])
        if (sr1 - sr0, sc1 - sc0) != (tr1 - tr0, tc1 - tc0):
            raise bad("the double models copyPaste between ranges of the same size only")
        for r in range(sr1 - sr0):
            for c in range(sc1 - sc0):
                _set_cell(target, tr0 + r, tc0 + c, source.cells.get((sr0 + r, sc0 + c), {}), None)
        return {}


def _range_title(a1: str) -> str:
    title = a1.rsplit("!", 1)[0] if "!" in a1 else a1
    if title.startswith("'") and title.endswith("'"):
        title = title[1:-1].replace("''", "'")
    return title


def _reindex(book: Spreadsheet) -> None:
    for i, sheet in enumerate(book.sheets):
        sheet.properties["index"] = i


def _check_frozen(grid: dict[str, int]) -> None:
    if grid.get("frozenRowCount", 0) >= grid.get("rowCount", 0) > 0:
        raise bad("You can't freeze all visible rows on the sheet.")


def _check_in_grid(sheet: Sheet, r: int, c: int) -> None:
    if r >= sheet.grid["rowCount"] or c >= sheet.grid["columnCount"]:
        raise bad(
            f"Range ('{sheet.title}'!R{r + 1}C{c + 1}) exceeds grid limits. "
            f"Max rows: {sheet.grid['rowCount']}, max columns: {sheet.grid['columnCount']}"
        )


def _grid_range(book: Spreadsheet, span: dict[str, int]) -> tuple[Sheet, int, int, int, int]:
    sheet = book.by_id(span.get("sheetId", 0))
    r0, c0 = span.get("startRowIndex", 0), span.get("startColumnIndex", 0)
    r1, c1 = span.get("endRowIndex", sheet.grid["rowCount"]), span.get("endColumnIndex", sheet.grid["columnCount"])
    if r1 > sheet.grid["rowCount"] or c1 > sheet.grid["columnCount"] or r0 > r1 or c0 > c1:
        _check_in_grid(sheet, max(r1, r0) - 1, max(c1, c0) - 1)
        raise bad("Invalid range")
    return sheet, r0, r1, c0, c1


def _set_cell(sheet: Sheet, r: int, c: int, data: dict[str, Any], mask: dict[str, Any] | None) -> None:
    current = dict(sheet.cells.get((r, c), {}))
    masked_set(current, data, mask)
    text = current.get("userEnteredValue", {}).get("stringValue", "")
    if len(text) > MAX_CELL_CHARS:
        raise bad(f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters in a single cell.")
    if current:
        sheet.cells[(r, c)] = current
    else:
        sheet.cells.pop((r, c), None)


def _check_limits(book: Spreadsheet) -> None:
    total = sum(s.grid["rowCount"] * s.grid["columnCount"] for s in book.sheets)
    if total > MAX_CELLS:
        raise bad(
            f"This action would increase the number of cells in the workbook above the limit of {MAX_CELLS} cells."
        )


def _windows(book: Spreadsheet, ranges: list[str]) -> dict[str, list[tuple[int, int, int, int]]]:
    """title -> [(r0, c0, r1, c1)] (0-based, exclusive ends) of A1 ranges like 'Tab'!D1:F20 or 'Tab'!D:D."""
    out: dict[str, list[tuple[int, int, int, int]]] = {}
    for text in ranges:
        if "!" not in text:
            continue
        title, span = _range_title(text), text.rsplit("!", 1)[1]
        sheet = book.sheet(title)
        first, _, last = span.partition(":")
        r0, c0 = _corner(first, 0, 0)
        r1, c1 = _corner(last or first, sheet.grid["rowCount"] - 1, sheet.grid["columnCount"] - 1)
        out.setdefault(title, []).append((r0, c0, r1 + 1, c1 + 1))
    return out


def _corner(a1: str, row_default: int, column_default: int) -> tuple[int, int]:
    match = re.fullmatch(r"\$?([A-Z]*)\$?(\d*)", a1)
    if not match:
        raise bad(f"Unable to parse range: {a1}")
    letters, digits = match.groups()
    column = column_default
    if letters:
        column = 0
        for ch in letters:
            column = column * 26 + ord(ch) - 64
        column -= 1
    return (int(digits) - 1 if digits else row_default), column


def render_sheet(sheet: Sheet, grid: bool, windows: list[tuple[int, int, int, int]] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"properties": copy.deepcopy(sheet.properties)}
    if sheet.basic_filter:
        result["basicFilter"] = copy.deepcopy(sheet.basic_filter)
    if sheet.conditional_formats:
        result["conditionalFormats"] = copy.deepcopy(sheet.conditional_formats)
    if sheet.developer_metadata:
        result["developerMetadata"] = copy.deepcopy(sheet.developer_metadata)
    if sheet.charts:
        result["charts"] = copy.deepcopy(sheet.charts)
    if grid and windows:
        result["data"] = [_window_data(sheet, *window) for window in windows]
    elif grid:
        rows = []
        for r in range(sheet.used_rows()):
            values = [_rendered_cell(sheet, r, c) for c in range(sheet.grid["columnCount"])]
            while values and not values[-1]:
                values.pop()
            rows.append({"values": values} if values else {})
        result["data"] = [{"startRow": 0, "startColumn": 0, "rowData": rows}]
        if sheet.row_metadata:
            used = max(sheet.used_rows(), max(sheet.row_metadata) + 1)
            result["data"][0]["rowMetadata"] = [dict(sheet.row_metadata.get(r, {})) for r in range(used)]
    if sheet.merges:
        result["merges"] = copy.deepcopy(sheet.merges)
    return result


def _window_data(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> dict[str, Any]:
    """One GridData as Google returns it for a range: trailing empty cells and rows dropped."""
    r1, c1 = min(r1, sheet.grid["rowCount"]), min(c1, sheet.grid["columnCount"])
    rows = []
    for r in range(r0, r1):
        values = [_rendered_cell(sheet, r, c) for c in range(c0, c1)]
        while values and not values[-1]:
            values.pop()
        rows.append({"values": values} if values else {})
    while rows and not rows[-1]:
        rows.pop()
    columns = [{"pixelSize": sheet.column_pixels.get(c, 100)} for c in range(c0, c1)]
    return {"startRow": r0, "startColumn": c0, "rowData": rows, "columnMetadata": columns}


def _rendered_cell(sheet: Sheet, r: int, c: int) -> dict[str, Any]:
    cell = copy.deepcopy(sheet.cells.get((r, c), {}))
    value = effective_value(sheet, r, c)
    if value is not None:
        kind = {bool: "boolValue", str: "stringValue"}.get(type(value), "numberValue")
        cell["effectiveValue"] = {kind: value}
    if "userEnteredFormat" in cell:
        cell["effectiveFormat"] = cell["userEnteredFormat"]
    return cell


# -- test data: workbooks built from sheetsync.model directly ---------------------------------
def price_tab(rows: int = 3, *, key: str = "price-list:prices", name: str = "Prices") -> Any:
    from datetime import date
    from decimal import Decimal

    from sheetsync.model import Column, ConditionalRule, Format, Link, Style, Tab, Total, Validation

    columns = [
        Column("Code", width=12),
        Column("Name", total=Total.LABEL),
        Column("Price", Format.CURRENCY, total=Total.SUM),
        Column("Qty", Format.INTEGER, total=Total.COUNT),
        Column("Since", Format.DATE),
        Column("Active"),
        Column("Page"),
        Column("Customer"),
    ]
    data = [
        [
            f"{i:04d}",
            f"Kettle {i}",
            Decimal(i) + Decimal("0.125"),
            i * 10,
            date(2024, 1, 1 + i % 28),
            i % 2 == 0,
            Link(f"https://example.com/p/{i}", f"page {i}"),
            "Kettles",
        ]
        for i in range(1, rows + 1)
    ]
    return Tab(
        name=name,
        key=key,
        title="Price list",
        columns=columns,
        rows=data,
        info=[("Customer", "Kettles"), ("Currency", "USD")],
        note="Refreshed 2026-01-02 10:00; customer_ids=12",
        rules=[ConditionalRule("Qty", "<", 20, columns=("Qty",), style=Style(fill="#FF0000", bold=True))],
        validations=[
            Validation("Price", "positive_decimal", message="a price above 0"),
            Validation("Customer", "list", source=("Customers", "Name")),
        ],
    )


def customers_tab(names: tuple[str, ...] = ("Kettles", "Pots")) -> Any:
    from sheetsync.model import Column, Tab

    return Tab(
        name="Customers",
        key="price-list:customers",
        title="Customers",
        columns=[Column("Name")],
        rows=[[n] for n in names],
    )


def price_workbook(rows: int = 3, *, extra_tabs: tuple[Any, ...] = ()) -> Any:
    from sheetsync.model import Workbook

    return Workbook("price-list", [price_tab(rows), customers_tab(), *extra_tabs])


# -- loopback: the double over real HTTP, for recording vcrpy cassettes without Google ------------
class LoopbackServer:
    """Serves a SheetsDouble on 127.0.0.1 (werkzeug, in a thread). `session()` sends Google URLs there."""

    def __init__(self, double: SheetsDouble) -> None:
        import threading

        from werkzeug.serving import make_server

        self.double = double
        self.server = make_server("127.0.0.1", 0, self._wsgi, threaded=False)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _wsgi(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        prepared = requests.Request(
            environ["REQUEST_METHOD"],
            "https://sheets.googleapis.com"
            + environ.get("PATH_INFO", "")
            + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""),
            headers={"Authorization": environ.get("HTTP_AUTHORIZATION", "")},
            data=environ["wsgi.input"].read(length) if length else None,
        ).prepare()
        response = self.double.send(prepared)
        from http import HTTPStatus

        status = f"{response.status_code} {HTTPStatus(response.status_code).phrase}"
        start_response(status, [("Content-Type", "application/json; charset=UTF-8")])
        return [response.content]

    def session(self, credentials: ga_credentials.Credentials) -> requests.Session:
        from google.auth.transport.requests import AuthorizedSession
        from requests.adapters import HTTPAdapter

        base = self.base

        class Rewrite(HTTPAdapter):
            def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
                request.url = (request.url or "").replace("https://sheets.googleapis.com", base, 1)
                return super().send(request, **kwargs)

        session = AuthorizedSession(credentials)
        session.mount("https://sheets.googleapis.com/", Rewrite())
        return session

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
