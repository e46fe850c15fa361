"""Columns users add to the right of a managed Google Sheets tab, carried through a refresh.

The refresh reads, in one spreadsheets.get with grid data, the key columns and the user's columns of
each managed tab that has grown columns since sheetsync wrote it (its grid is wider than the report's
columns recorded in developer metadata). Each user cell then goes to the row of its key in the new
data (formulas translated so relative references follow the row), widths come along, and cells whose
key vanished become notes for the "Notes without a row" tab. The layout is the one of xlsx_usercols.py;
this module only speaks the Sheets API's shapes (CellData, GridData).
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sheetsync.model import Tab
from sheetsync.sinks.gsheets_render import column_letter
from sheetsync.sinks.xlsx_cells import quote_sheet
from sheetsync.sinks.xlsx_formulas import FormulaMover
from sheetsync.sinks.xlsx_usercols import Layout, block_row, key_text, plan_columns

WRITABLE = ("userEnteredValue", "userEnteredFormat", "note", "textFormatRuns", "dataValidation")
GRID_FIELDS = (
    "sheets(properties(sheetId,title),data(startRow,startColumn,columnMetadata(pixelSize),"
    "rowData(values(userEnteredValue,effectiveValue,userEnteredFormat,note,textFormatRuns,dataValidation))))"
)


@dataclass(frozen=True)
class SheetLayout:
    """Where sheetsync put a tab's table (0-based header row index, report columns, data rows)."""

    header: int
    columns: int
    rows: int
    headers: tuple[str, ...] = ()  # the report's column headers (empty in older records)
    title: str = ""  # the tab's title as the refresh left it
    user_named: bool = False  # the user renamed the tab: every refresh keeps their name

    @classmethod
    def of(cls, tab: Tab, title: str = "", user_named: bool = False) -> SheetLayout:
        headers = tuple(c.header for c in tab.columns)
        return cls(tab.header_row - 1, len(tab.columns), len(tab.rows), headers, title, user_named)

    def dumps(self) -> str:
        data = {"h": self.header, "c": self.columns, "n": self.rows, "hs": list(self.headers), "t": self.title}
        return json.dumps(data | ({"u": 1} if self.user_named else {}))

    @classmethod
    def loads(cls, text: str | None) -> SheetLayout | None:
        try:
            data = json.loads(text or "")
            headers = tuple(str(h) for h in data.get("hs", ()))
            numbers = (int(data["h"]), int(data["c"]), int(data["n"]))
            return cls(*numbers, headers, str(data.get("t", "")), bool(data.get("u")))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def as_xlsx(self) -> Layout:
        """The same layout, 1-based, as xlsx_usercols speaks it."""
        return Layout(self.header + 1, self.columns, self.rows, 1, self.headers)

    @property
    def last_data(self) -> int:
        return self.header + self.rows


@dataclass
class Moved:
    """The user's cells of one tab at their new places, and what could not be placed."""

    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # (row, column), 0-based
    widths: dict[int, int] = field(default_factory=dict)  # new column -> pixels
    orphans: list[tuple[str, str, str, Any, str | None, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    column_of: Callable[[int], int] | None = None  # an old user column -> its new column, when they moved

    @property
    def end_row(self) -> int:
        return max((r + 1 for r, _ in self.cells), default=0)

    @property
    def end_column(self) -> int:
        return max((c + 1 for _, c in self.cells), default=0)


def grid_ranges(
    title: str, old: SheetLayout, column_count: int, row_count: int, key_columns: list[int], first_user: int
) -> list[str]:
    """A1 ranges to read: the whole header row, the columns from `first_user` (0-based: the first column
    that may be the user's) and the key columns of the old data rows."""
    sheet = quote_sheet(title)
    last = column_letter(column_count - 1)
    ranges = [f"{sheet}!A{old.header + 1}:{last}{old.header + 1}"]
    ranges.append(f"{sheet}!{column_letter(first_user)}1:{last}{row_count}")
    for column in key_columns:
        letter = column_letter(column)
        ranges.append(f"{sheet}!{letter}{old.header + 1}:{letter}{max(old.last_data, old.header) + 1}")
    return ranges


def grid_cells(sheet: dict[str, Any]) -> tuple[dict[tuple[int, int], dict[str, Any]], dict[int, int]]:
    """(row, column) -> CellData and column -> pixel width, from a sheet of a grid-data response."""
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    widths: dict[int, int] = {}
    for data in sheet.get("data", []):
        r0, c0 = data.get("startRow", 0), data.get("startColumn", 0)
        for r, row in enumerate(data.get("rowData", [])):
            for c, cell in enumerate(row.get("values", [])):
                if cell:
                    cells[(r0 + r, c0 + c)] = cell
        for c, meta in enumerate(data.get("columnMetadata", [])):
            if "pixelSize" in meta:
                widths.setdefault(c0 + c, meta["pixelSize"])
    return cells, widths


def effective(cell: dict[str, Any] | None) -> Any:
    value = (cell or {}).get("effectiveValue") or (cell or {}).get("userEnteredValue") or {}
    return next(iter(value.values()), None) if value else None


class Carrier:
    """Places one tab's user cells by key (see the module docstring). Columns are 0-based here; the
    column plan and the formula mover (xlsx_usercols, xlsx_formulas) are 1-based, as in A1 notation."""

    def __init__(
        self, tab: Tab, title: str, old: SheetLayout, cells: dict, widths: dict[int, int], trailer: int = 0
    ) -> None:
        """`trailer`: how many rows the report writes under its data (totals, notes)."""
        self.tab, self.title, self.old = tab, title, old
        self.old_end = old.last_data + 1 + trailer  # 0-based: the first row under all the report wrote
        self.cells, self.widths = cells, widths
        self.new = SheetLayout.of(tab)
        self.headers = {c: str(effective(cell) or "") for (r, c), cell in cells.items() if r == old.header}
        self.plan = plan_columns({c + 1: t for c, t in self.headers.items()}, old.as_xlsx(), self.new.columns)
        self.mover = FormulaMover(self._new_column, {title.casefold()})
        self.moved = Moved()
        self.rows: dict[int, int] = {}

    def is_user(self, c: int) -> bool:
        return self.plan.is_user(c + 1)

    def user_target(self, c: int) -> int:
        return self.plan.user_target(c + 1) - 1

    def carry(self, key_columns: list[int] | None) -> Moved:
        rows = self.rows = self._row_map(key_columns)
        for (r, c), cell in sorted(self.cells.items()):
            if not self.is_user(c) and r < self.old_end:
                continue
            target = self._target_row(r, rows)
            if target is None:
                self._orphan(r, c, cell, key_columns)
                continue
            column = self.user_target(c) if self.is_user(c) else (self._new_column(c + 1) or c + 1) - 1
            self.moved.cells[(target, column)] = moved_cell(cell, self._formula_mover(r, target))
        self.moved.widths = {self.user_target(c): px for c, px in self.widths.items() if self.is_user(c)}
        if self.plan.inside or self.plan.trailing_shift:
            self.moved.column_of = lambda c: self.user_target(c) if self.is_user(c) else c
        if self.plan.inside:
            names = ", ".join(repr(self.headers.get(c - 1) or column_letter(c - 1)) for c in self.plan.inside)
            self.moved.warnings.append(
                f"tab {self.title!r}: your column(s) {names} between the report's columns now sit to the right of them"
            )
        if self.mover.lost_references:
            self.moved.warnings.append(
                f"tab {self.title!r}: {self.mover.lost_references} reference(s) in the columns you added pointed "
                "at report columns the report no longer has; they now show #REF!"
            )
        if not self.tab.row_key and self.old.rows and self.moved.cells:
            self.moved.warnings.append(
                f"tab {self.title!r} declares no row key: the columns you added are kept by row position"
            )
        return self.moved

    def _formula_mover(self, r: int, target: int) -> Callable[[str], str]:
        return lambda text: self._move_formula(text, r, target)

    def _move_formula(self, text: str, r: int, target: int) -> str:
        """A user's formula ("=...") moved from 0-based row `r` to `target` (see xlsx_usercols)."""
        old, new = self.old.as_xlsx(), self.new.as_xlsx()
        rows = {a + 1: b + 1 for a, b in self.rows.items()}

        def block(row: int, _absolute: bool = True) -> int | None:
            return block_row(row, old, new, rows)

        def copied(row: int, absolute: bool) -> int | None:
            return block(row) if absolute else row + target - r

        if self.old.header < r <= self.old.last_data:
            return "=" + self.mover.move(text.removeprefix("="), copied)
        return "=" + self.mover.move(text.removeprefix("="), block, other_sheets=False)

    def _new_column(self, column: int) -> int | None:
        """1-based: a report column goes where its header went, a user's column where the plan puts it."""
        if self.plan.is_user(column):
            return self.plan.user_target(column)
        header = self.plan.report.get(column, "").strip().casefold()
        new_headers = [c.header.strip().casefold() for c in self.tab.columns]
        return new_headers.index(header) + 1 if header in new_headers else None

    def _target_row(self, r: int, rows: dict[int, int]) -> int | None:
        if r <= self.old.header:
            return r + self.new.header - self.old.header
        if r <= self.old.last_data:
            return rows.get(r)
        return r - self.old.last_data + self.new.last_data

    def _row_map(self, key_columns: list[int] | None) -> dict[int, int]:
        old_rows = range(self.old.header + 1, self.old.last_data + 1)
        first_new = self.new.header + 1
        if not key_columns:
            return {r: first_new + i for i, r in enumerate(old_rows) if i < self.new.rows}
        waiting: dict[tuple[str, ...], deque[int]] = defaultdict(deque)
        for r in old_rows:
            waiting[self._old_key(r, key_columns)].append(r)
        indexes = [self.tab.column_index(h) for h in self.tab.row_key]
        seen: dict[tuple[str, ...], int] = defaultdict(int)
        mapping = {}
        for offset, values in enumerate(self.tab.rows):
            key = tuple(key_text(values[i]) if i < len(values) else "" for i in indexes)
            seen[key] += 1
            if waiting.get(key):
                mapping[waiting[key].popleft()] = first_new + offset
        repeated = ["/".join(k) for k, n in seen.items() if n > 1]
        if repeated:
            self.moved.warnings.append(
                f"tab {self.title!r}: key {'/'.join(self.tab.row_key)} repeats ({', '.join(repeated[:5])}); "
                "those rows keep their order among themselves"
            )
        return mapping

    def _old_key(self, r: int, key_columns: list[int]) -> tuple[str, ...]:
        return tuple(key_text(effective(self.cells.get((r, c)))) for c in key_columns)

    def _orphan(self, r: int, c: int, cell: dict[str, Any], key_columns: list[int] | None) -> None:
        value = effective(cell)
        formula = (cell.get("userEnteredValue") or {}).get("formulaValue")
        note = str(cell.get("note") or "")
        if value in (None, "") and not formula and not note:
            return
        key = " / ".join(str(effective(self.cells.get((r, k))) or "") for k in key_columns or []) or f"row {r + 1}"
        header = self.headers.get(c) or column_letter(c)
        self.moved.orphans.append((self.title, key, header, value, formula, note))


def moved_cell(cell: dict[str, Any], move: Callable[[str], str]) -> dict[str, Any]:
    """The writable part of a cell, its formula moved by `move`."""
    out = {k: v for k, v in cell.items() if k in WRITABLE}
    formula = (out.get("userEnteredValue") or {}).get("formulaValue")
    if formula:
        out["userEnteredValue"] = {"formulaValue": move(formula)}
    return out


def old_key_columns(tab: Tab, report: dict[int, str]) -> list[int] | None:
    """0-based columns of the tab's key in the old sheet (by header text among the report's columns,
    `report`: 1-based column -> header), or None."""
    if not tab.row_key:
        return None
    by_text: dict[str, int] = {}
    for c, text in sorted(report.items()):
        by_text.setdefault(text.strip().casefold(), c - 1)
    columns = [by_text.get(h.strip().casefold()) for h in tab.row_key]
    return None if any(c is None for c in columns) else [c for c in columns if c is not None]


def merge_rows(rows: list[dict[str, Any]], moved: Moved) -> list[dict[str, Any]]:
    """The tab's RowData with the user's cells placed beside the report's."""
    by_row: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for (r, c), cell in moved.cells.items():
        by_row[r][c] = cell
    out = [dict(row) for row in rows]
    while len(out) < moved.end_row:
        out.append({})
    for r, cells in by_row.items():
        values = list(out[r].get("values", []))
        for c, cell in sorted(cells.items()):
            while len(values) <= c:
                values.append({})
            values[c] = cell
        out[r] = {**out[r], "values": values}
    return out


# -- reading the old cells, and the notes tab -------------------------------------------------------
NOTES_KEY = "sheetsync.notes"
NOTES_TITLE = "Notes without a row"
NOTES_HEADERS = ("Tab", "Key", "Column", "Value", "Formula", "Note")
Orphan = tuple[str, str, str, Any, str | None, str]  # ..., the cell's note


def carry_user_cells(client: Any, planned: list[Any], vanished: list[Any]) -> tuple[list[Orphan], list[str]]:
    """Read (one grid-data get) and place the user's cells of every managed tab that has them; sets each
    planned tab's `moved`. Returns the orphans (also every user cell of a vanished tab) and warnings."""
    wanted: dict[str, tuple[Any, SheetLayout]] = {}
    ranges: list[str] = []
    trailers = {p.existing.title: _trailer(p) for p in planned if p.existing is not None}
    for sheet, tab in [(p.existing, p.tab) for p in planned] + [(s, None) for s in vanished]:
        layout = sheet.layout if sheet is not None else None
        if layout is None:
            continue
        end = layout.last_data + 1 + trailers.get(sheet.title, 0)  # 0-based, under all the report wrote
        if sheet.size.columns <= layout.columns and sheet.size.rows <= end:
            continue
        keys = _key_indexes(tab, layout) if tab is not None else []
        ranges += grid_ranges(sheet.title, layout, sheet.size.columns, sheet.size.rows, keys, layout.columns)
        if sheet.size.rows > end:  # rows a user added under the report
            ranges.append(f"{quote_sheet(sheet.title)}!A{end + 1}:{column_letter(sheet.size.columns - 1)}")
        wanted[sheet.title] = (tab, layout)
    if not ranges:
        return [], []
    by_title = _sheets_by_title(client.get_spreadsheet(GRID_FIELDS, ranges=ranges, grid=True))
    inside = _inside_ranges({title: (layout, by_title.get(title, {})) for title, (_, layout) in wanted.items()})
    if inside:  # columns a user inserted between the report's: one more read, only then
        for title, sheet in _sheets_by_title(client.get_spreadsheet(GRID_FIELDS, ranges=inside, grid=True)).items():
            by_title.setdefault(title, {"data": []})["data"] += sheet.get("data", [])
    orphans: list[Orphan] = []
    warnings: list[str] = []
    for p in planned:
        if p.existing is not None and p.existing.title in wanted:
            sheet = by_title.get(p.existing.title, {})
            p.moved = _carry_one(p.tab, p.title, wanted[p.existing.title][1], sheet, trailers[p.existing.title])
            orphans += p.moved.orphans
            warnings += p.moved.warnings
    for sheet in vanished:
        if sheet.title in wanted:
            orphans += _all_orphans(sheet.title, wanted[sheet.title][1], by_title.get(sheet.title, {}))
    return orphans, warnings


def _key_indexes(tab: Tab, layout: SheetLayout) -> list[int]:
    """0-based columns to read the old keys from: where the key's headers were (or, in an older
    record, are now) among the report's columns."""
    headers = list(layout.headers) or [c.header for c in tab.columns]
    indexes = [headers.index(h) for h in tab.row_key if h in headers]
    return [i for i in indexes if i < layout.columns]


def _sheets_by_title(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["properties"]["title"]: s for s in response.get("sheets", [])}


def _inside_ranges(sheets: dict[str, tuple[SheetLayout, dict[str, Any]]]) -> list[str]:
    """A1 ranges of the columns users inserted between the report's (found on the header row read
    first), which the first read left out."""
    out = []
    for title, (layout, sheet) in sheets.items():
        cells, _ = grid_cells(sheet)
        header = {c + 1: str(effective(cell) or "") for (r, c), cell in cells.items() if r == layout.header}
        plan = plan_columns(header, layout.as_xlsx(), layout.columns)
        for column in plan.inside:
            if column <= layout.columns:
                letter = column_letter(column - 1)
                out.append(f"{quote_sheet(title)}!{letter}1:{letter}")
    return out


def _trailer(p: Any) -> int:
    """Rows the report writes under its data (totals, notes), from a planned tab's rendered rows."""
    return max(len(p.rows) - (SheetLayout.of(p.tab).last_data + 1), 0)


def _carry_one(tab: Tab, title: str, layout: SheetLayout, sheet: dict[str, Any], trailer: int) -> Moved:
    cells, widths = grid_cells(sheet)
    carrier = Carrier(tab, title, layout, cells, widths, trailer)
    keys = old_key_columns(tab, carrier.plan.report)
    moved = carrier.carry(keys)
    if tab.row_key and keys is None:
        moved.warnings.append(
            f"tab {title!r}: key column(s) {', '.join(tab.row_key)} not found; "
            "the columns you added are kept by row position"
        )
    return moved


def _all_orphans(title: str, layout: SheetLayout, sheet: dict[str, Any]) -> list[Orphan]:
    cells, _ = grid_cells(sheet)
    headers = {c: str(effective(cell) or "") for (r, c), cell in cells.items() if r == layout.header}
    out: list[Orphan] = []
    for (r, c), cell in sorted(cells.items()):
        formula = (cell.get("userEnteredValue") or {}).get("formulaValue")
        note = str(cell.get("note") or "")
        if r > layout.header and c >= layout.columns and (effective(cell) not in (None, "") or formula or note):
            header = headers.get(c) or column_letter(c)
            out.append((title, f"row {r + 1}", header, effective(cell), formula, note))
    return out


def notes_requests(orphans: list[Orphan], existing: list[Any]) -> list[dict[str, Any]]:
    """Append the orphans to the notes tab (added, with its header row, when missing)."""
    if not orphans:
        return []
    out: list[dict[str, Any]] = []
    notes = next((s for s in existing if NOTES_KEY in s.metadata), None)
    rows = [_text_row([str(v) if v is not None else "" for v in orphan]) for orphan in orphans]
    if notes is None:
        taken = {s.sheet_id for s in existing}
        sheet_id = 1_999_999_999
        while sheet_id in taken:
            sheet_id -= 1
        titles = {s.title.casefold() for s in existing}
        title, n = NOTES_TITLE, 1
        while title.casefold() in titles:
            n += 1
            title = f"{NOTES_TITLE} ({n})"
        out.append({"addSheet": {"properties": {"sheetId": sheet_id, "title": title}}})
        metadata = {"metadataKey": NOTES_KEY, "metadataValue": "1", "visibility": "DOCUMENT"}
        out.append({"createDeveloperMetadata": {"developerMetadata": {**metadata, "location": {"sheetId": sheet_id}}}})
        rows.insert(0, _text_row(list(NOTES_HEADERS)))
    else:
        sheet_id = notes.sheet_id
        header = {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0}  # older notes tabs gain new columns
        out.append(
            {"updateCells": {"start": header, "rows": [_text_row(list(NOTES_HEADERS))], "fields": "userEnteredValue"}}
        )
    out.append({"appendCells": {"sheetId": sheet_id, "rows": rows, "fields": "userEnteredValue"}})
    return out


def _text_row(texts: list[str]) -> dict[str, Any]:
    return {"values": [{"userEnteredValue": {"stringValue": t}} for t in texts]}
