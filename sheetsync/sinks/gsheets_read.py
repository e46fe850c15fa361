"""GoogleSheetSource: the SheetSource protocol over a Google Sheet.

Reading one tab is one spreadsheets.get with includeGridData and a fields mask: effective values with
their number formats, so a DATE-formatted serial comes back as a `date`. write_back is one batchUpdate of
typed updateCells requests for exactly the cells named (plus the new header cells it adds).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import requests
from google.auth.credentials import Credentials

from sheetsync.errors import BadRequestError, SinkError
from sheetsync.model import Format, Link
from sheetsync.sinks.base import FormulaWithoutValue, SheetRow, duplicate_header_error, normalize_header
from sheetsync.sinks.gsheets_client import SheetsClient
from sheetsync.sinks.gsheets_render import column_letter, extended_value, number_format
from sheetsync.sinks.xlsx_read import exact_number

TITLES_FIELDS = "sheets.properties(sheetId,title,index)"
GRID_FIELDS = (
    "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),merges,data(startRow,startColumn,"
    "rowMetadata(hiddenByUser,hiddenByFilter),rowData(values(userEnteredValue,effectiveValue,"
    "effectiveFormat.numberFormat))))"
)
ERROR_TEXT = {
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "LOADING": "Loading...",
    "ERROR": "#ERROR!",
}
EPOCH = datetime(1899, 12, 30)
HEADER_SCAN_ROWS = 30


@dataclass
class _Grid:
    sheet_id: int
    title: str
    rows: int
    columns: int
    cells: list[list[Any]]  # typed values, 0-based, ragged
    hidden: dict[int, str] = field(default_factory=dict)  # 0-based row -> "hidden" or "filtered out"
    merged: dict[tuple[int, int], str] = field(default_factory=dict)  # covered cell -> merge range (A1)


class GoogleSheetSource:
    """Rows of a Google Sheet by header name, and write-back of named cells."""

    def __init__(
        self,
        spreadsheet_id: str,
        *,
        credentials: Credentials,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.spreadsheet_id = spreadsheet_id
        self.client = SheetsClient(credentials, spreadsheet_id, session=session, sleep=sleep)
        self._titles: list[str] | None = None
        self._grids: dict[str, _Grid] = {}

    @property
    def api_calls(self) -> int:
        return self.client.total_calls

    def tab_names(self) -> list[str]:
        if self._titles is None:
            meta = self.client.get_spreadsheet(TITLES_FIELDS)
            sheets = sorted(meta.get("sheets", []), key=lambda s: s["properties"].get("index", 0))
            self._titles = [s["properties"]["title"] for s in sheets]
        return list(self._titles)

    def headers(self, tab: str | None = None) -> list[str]:
        grid = self._grid(tab)
        index = _find_header_row(grid, ())
        return [h for h in _header_texts(grid.cells[index]) if h] if index is not None else []

    def check_writable(self) -> None:
        """Google answers a write without permission with 403 at write time; a push claims its rows (a
        write) before sending anything, so nothing is sent to a sheet that cannot take outcomes."""

    def read_rows(
        self, tab: str | None = None, required: Sequence[str] = (), columns: Sequence[str] = ()
    ) -> list[SheetRow]:
        grid = self._grid(tab)
        index = _find_header_row(grid, required)
        where = f"tab {grid.title!r} of Google Sheet {self.spreadsheet_id}"
        if index is None:
            raise SinkError(f"{where} has no header row with {', '.join(repr(r) for r in required)}")
        texts = _header_texts(grid.cells[index])
        refs = {f"{column_letter(c)}{index + 1}": t for c, t in enumerate(texts) if t}
        duplicate = duplicate_header_error(where, [*required, *columns], refs)
        if duplicate:
            raise SinkError(duplicate)
        positions = _columns(grid.cells[index], required)
        result = []
        for r in range(index + 1, len(grid.cells)):
            raw = grid.cells[r]
            if all(v is None or v == "" for v in raw):
                continue
            values = {name: (raw[c] if c < len(raw) else None) for name, c in positions.items()}
            cells = {name: f"{column_letter(c)}{r + 1}" for name, c in positions.items()}
            merged = {name: grid.merged[(r, c)] for name, c in positions.items() if (r, c) in grid.merged}
            hidden = grid.hidden.get(r, "")
            result.append(SheetRow(r + 1, values, cells, hidden=hidden, merged=merged))
        return result

    def write_back(self, tab: str | None, updates: dict[int, dict[str, Any]], *, recalculate: bool = False) -> None:
        if not updates:  # (Google Sheets recalculates by itself: `recalculate` needs nothing here)
            return
        grid = self._grid(tab)
        header_index = _find_header_row(grid, sorted({h for row in updates.values() for h in row}), partial=True)
        if header_index is None:
            raise SinkError(f"tab {grid.title!r} of Google Sheet {self.spreadsheet_id} has no header row")
        texts = _header_texts(grid.cells[header_index])
        positions: dict[str, int] = {}
        for c, t in enumerate(texts):
            if t:
                positions.setdefault(normalize_header(t), c)
        requests_: list[dict[str, Any]] = []
        next_column = len(texts)
        for header in dict.fromkeys(h for row in updates.values() for h in row):
            if normalize_header(header) not in positions:
                positions[normalize_header(header)] = next_column
                requests_.append(_cell_update(grid.sheet_id, header_index, next_column, header))
                next_column += 1
        for row_number, row in sorted(updates.items()):
            for header, value in row.items():
                requests_.append(
                    _cell_update(grid.sheet_id, row_number - 1, positions[normalize_header(header)], value)
                )
        requests_ = _grow(grid, max(updates), next_column) + requests_
        self.client.update(requests_)
        self._grids.pop(grid.title, None)

    # -- reading -------------------------------------------------------------------------------
    def _grid(self, tab: str | None) -> _Grid:
        title = tab if tab is not None else self.tab_names()[0]
        if title not in self._grids:
            quoted = "'" + title.replace("'", "''") + "'"
            try:
                meta = self.client.get_spreadsheet(GRID_FIELDS, ranges=[quoted], grid=True)
            except BadRequestError:
                raise SinkError(f"Google Sheet {self.spreadsheet_id} has no tab {title!r}") from None
            sheet = meta["sheets"][0]
            props = sheet["properties"]
            size = props.get("gridProperties", {})
            cells: list[list[Any]] = []
            hidden: dict[int, str] = {}
            for block in sheet.get("data", []):
                start_row, start_col = block.get("startRow", 0), block.get("startColumn", 0)
                for r, meta in enumerate(block.get("rowMetadata", []), start=start_row):
                    if meta.get("hiddenByFilter"):
                        hidden[r] = "filtered out"
                    elif meta.get("hiddenByUser"):
                        hidden[r] = "hidden"
                for r, row in enumerate(block.get("rowData", []), start=start_row):
                    while len(cells) <= r:
                        cells.append([])
                    cells[r] = [None] * start_col + [
                        _typed(v, f"{column_letter(start_col + c)}{r + 1}") for c, v in enumerate(row.get("values", []))
                    ]
            self._grids[title] = _Grid(
                props["sheetId"],
                props["title"],
                size.get("rowCount", 0),
                size.get("columnCount", 0),
                cells,
                hidden,
                _covered_by_merges(sheet.get("merges", [])),
            )
        return self._grids[title]


def _covered_by_merges(merges: list[dict[str, Any]]) -> dict[tuple[int, int], str]:
    """(row, column) -> merge range in A1 for every cell of a merge but its top-left one (0-based)."""
    covered: dict[tuple[int, int], str] = {}
    for m in merges:
        top, left = m.get("startRowIndex", 0), m.get("startColumnIndex", 0)
        bottom, right = m.get("endRowIndex", top + 1), m.get("endColumnIndex", left + 1)
        a1 = f"{column_letter(left)}{top + 1}:{column_letter(right - 1)}{bottom}"
        for r in range(top, bottom):
            for c in range(left, right):
                if (r, c) != (top, left):
                    covered[(r, c)] = a1
    return covered


def _typed(cell: dict[str, Any], a1: str) -> Any:
    value = cell.get("effectiveValue")
    entered = cell.get("userEnteredValue") or {}
    if value is None:
        return FormulaWithoutValue(a1, entered["formulaValue"]) if "formulaValue" in entered else None
    if "stringValue" in value:
        return value["stringValue"] if value["stringValue"].strip() else None
    if "boolValue" in value:
        return value["boolValue"]
    if "errorValue" in value:
        return ERROR_TEXT.get(value["errorValue"].get("type", "ERROR"), "#ERROR!")
    number = value.get("numberValue")
    if number is None:
        return None
    kind = ((cell.get("effectiveFormat") or {}).get("numberFormat") or {}).get("type")
    if kind == "DATE":
        return (EPOCH + timedelta(days=int(number))).date()
    if kind in ("DATE_TIME", "TIME"):
        moment = EPOCH + timedelta(days=number)
        return moment.replace(microsecond=0) if moment.microsecond < 500 or moment.microsecond > 999_500 else moment
    return exact_number(float(number))


def _header_texts(row: list[Any]) -> list[str]:
    return [v.strip() if isinstance(v, str) else "" for v in row]


def _find_header_row(grid: _Grid, required: Sequence[str], *, partial: bool = False) -> int | None:
    wanted = {normalize_header(r) for r in required}
    if wanted:
        best: tuple[int, int] | None = None
        for index, row in enumerate(grid.cells):
            have = {normalize_header(t) for t in _header_texts(row) if t}
            if wanted <= have:
                return index
            if partial and have & wanted and (best is None or len(have & wanted) > best[0]):
                best = (len(have & wanted), index)
        if best is not None or not partial:
            return best[1] if best else None
    widest: tuple[int, int] | None = None  # the first row with the most cells, all of them text
    for index, row in enumerate(grid.cells[:HEADER_SCAN_ROWS]):
        filled = [v for v in row if v not in (None, "")]
        if filled and all(isinstance(v, str) for v in filled) and (widest is None or len(filled) > widest[0]):
            widest = (len(filled), index)
    return widest[1] if widest else None


def _columns(row: list[Any], required: Sequence[str]) -> dict[str, int]:
    """header -> 0-based column; required names keep the caller's spelling."""
    spelled = {normalize_header(r): r for r in required}
    columns: dict[str, int] = {}
    seen: set[str] = set()
    for c, text in enumerate(_header_texts(row)):
        if text and normalize_header(text) not in seen:
            seen.add(normalize_header(text))
            columns[spelled.get(normalize_header(text), text)] = c
    return columns


def _cell_update(sheet_id: int, row: int, column: int, value: Any) -> dict[str, Any]:
    fields = "userEnteredValue"
    data: dict[str, Any] = {}
    if isinstance(value, Link):
        value = value.text
    typed = extended_value(value, Format.TEXT, f"cell {column_letter(column)}{row + 1}")
    if typed is not None:
        data["userEnteredValue"] = typed
    if isinstance(value, date):
        fields += ",userEnteredFormat.numberFormat"
        data["userEnteredFormat"] = {
            "numberFormat": number_format(Format.DATETIME if isinstance(value, datetime) else Format.DATE)
        }
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": column},
            "rows": [{"values": [data]}],
            "fields": fields,
        }
    }


def _grow(grid: _Grid, last_row: int, columns: int) -> list[dict[str, Any]]:
    requests_ = []
    if last_row > grid.rows:
        requests_.append(
            {"appendDimension": {"sheetId": grid.sheet_id, "dimension": "ROWS", "length": last_row - grid.rows}}
        )
    if columns > grid.columns:
        requests_.append(
            {"appendDimension": {"sheetId": grid.sheet_id, "dimension": "COLUMNS", "length": columns - grid.columns}}
        )
    return requests_
