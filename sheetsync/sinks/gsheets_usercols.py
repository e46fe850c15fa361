"""Columns users add to the right of a managed Google Sheets tab, carried through a refresh.

The refresh reads, in one spreadsheets.get with grid data, the key columns and the user's columns of
each managed tab that has grown columns since sheetsync wrote it (its grid is wider than the report's
columns recorded in developer metadata). Each user cell then goes to the row of its key in the new
data (formulas translated so relative references follow the row), widths come along, and cells whose
key vanished become notes for the "Notes without a row" tab. The layout is the one of xlsx_usercols.py;
this module only speaks the Sheets API's shapes (CellData, GridData).
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from openpyxl.formula.translate import Translator, TranslatorError

from sheetsync.model import Tab
from sheetsync.sinks.gsheets_render import column_letter
from sheetsync.sinks.xlsx_cells import quote_sheet
from sheetsync.sinks.xlsx_usercols import key_text

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

    @classmethod
    def of(cls, tab: Tab) -> SheetLayout:
        return cls(tab.header_row - 1, len(tab.columns), len(tab.rows))

    def dumps(self) -> str:
        return json.dumps({"h": self.header, "c": self.columns, "n": self.rows})

    @classmethod
    def loads(cls, text: str | None) -> SheetLayout | None:
        try:
            data = json.loads(text or "")
            return cls(int(data["h"]), int(data["c"]), int(data["n"]))
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def last_data(self) -> int:
        return self.header + self.rows


@dataclass
class Moved:
    """The user's cells of one tab at their new places, and what could not be placed."""

    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # (row, column), 0-based
    widths: dict[int, int] = field(default_factory=dict)  # new column -> pixels
    orphans: list[tuple[str, str, str, Any, str | None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def end_row(self) -> int:
        return max((r + 1 for r, _ in self.cells), default=0)

    @property
    def end_column(self) -> int:
        return max((c + 1 for _, c in self.cells), default=0)


def grid_ranges(title: str, old: SheetLayout, column_count: int, row_count: int, key_columns: list[int]) -> list[str]:
    """A1 ranges to read: the user's columns, and the key columns of the old data rows."""
    sheet = quote_sheet(title)
    ranges = [f"{sheet}!{column_letter(old.columns)}1:{column_letter(column_count - 1)}{row_count}"]
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
    """Places one tab's user cells by key (see the module docstring)."""

    def __init__(self, tab: Tab, title: str, old: SheetLayout, cells: dict, widths: dict[int, int]) -> None:
        self.tab, self.title, self.old = tab, title, old
        self.cells, self.widths = cells, widths
        self.new = SheetLayout.of(tab)
        self.headers = {c: str(effective(cell) or "") for (r, c), cell in cells.items() if r == old.header}
        self.moved = Moved()

    def carry(self, key_columns: list[int] | None) -> Moved:
        rows = self._row_map(key_columns)
        shift = self.new.columns - self.old.columns
        for (r, c), cell in sorted(self.cells.items()):
            if c < self.old.columns:
                continue
            target = self._target_row(r, rows)
            if target is None:
                self._orphan(r, c, cell, key_columns)
            else:
                self.moved.cells[(target, c + shift)] = moved_cell(cell, (r, c), (target, c + shift))
        self.moved.widths = {c + shift: px for c, px in self.widths.items() if c >= self.old.columns}
        if not self.tab.row_key and self.old.rows and self.moved.cells:
            self.moved.warnings.append(
                f"tab {self.title!r} declares no row key: the columns you added are kept by row position"
            )
        return self.moved

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
        if value in (None, "") and not formula:
            return
        key = " / ".join(str(effective(self.cells.get((r, k))) or "") for k in key_columns or []) or f"row {r + 1}"
        header = self.headers.get(c) or column_letter(c)
        self.moved.orphans.append((self.title, key, header, value, formula))


def moved_cell(cell: dict[str, Any], old: tuple[int, int], new: tuple[int, int]) -> dict[str, Any]:
    """The writable part of a cell, its formula translated from `old` to `new` (0-based row, column)."""
    out = {k: v for k, v in cell.items() if k in WRITABLE}
    formula = (out.get("userEnteredValue") or {}).get("formulaValue")
    if formula and old != new:
        origin = f"{column_letter(old[1])}{old[0] + 1}"
        with contextlib.suppress(TranslatorError):
            out["userEnteredValue"] = {
                "formulaValue": Translator(formula, origin=origin).translate_formula(
                    f"{column_letter(new[1])}{new[0] + 1}"
                )
            }
    return out


def old_key_columns(tab: Tab, old: SheetLayout, header_cells: dict[int, str]) -> list[int] | None:
    """0-based columns of the tab's key in the old sheet (by header text), or None."""
    if not tab.row_key:
        return None
    by_text = {text.strip().casefold(): c for c, text in sorted(header_cells.items()) if c < old.columns}
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
NOTES_HEADERS = ("Tab", "Key", "Column", "Value", "Formula")
Orphan = tuple[str, str, str, Any, str | None]


def carry_user_cells(client: Any, planned: list[Any], vanished: list[Any]) -> tuple[list[Orphan], list[str]]:
    """Read (one grid-data get) and place the user's cells of every managed tab that has them; sets each
    planned tab's `moved`. Returns the orphans (also every user cell of a vanished tab) and warnings."""
    wanted: dict[str, tuple[Any, SheetLayout]] = {}
    ranges: list[str] = []
    for sheet, tab in [(p.existing, p.tab) for p in planned] + [(s, None) for s in vanished]:
        layout = sheet.layout if sheet is not None else None
        if layout is None or sheet.size.columns <= layout.columns:
            continue
        keys = _key_indexes(tab, layout) if tab is not None else []
        header = (
            f"{quote_sheet(sheet.title)}!A{layout.header + 1}:{column_letter(layout.columns - 1)}{layout.header + 1}"
        )
        ranges += [*grid_ranges(sheet.title, layout, sheet.size.columns, sheet.size.rows, keys), header]
        wanted[sheet.title] = (tab, layout)
    if not ranges:
        return [], []
    response = client.get_spreadsheet(GRID_FIELDS, ranges=ranges, grid=True)
    by_title = {s["properties"]["title"]: s for s in response.get("sheets", [])}
    orphans: list[Orphan] = []
    warnings: list[str] = []
    for p in planned:
        if p.existing is not None and p.existing.title in wanted:
            p.moved = _carry_one(p.tab, p.title, wanted[p.existing.title][1], by_title.get(p.existing.title, {}))
            orphans += p.moved.orphans
            warnings += p.moved.warnings
    for sheet in vanished:
        if sheet.title in wanted:
            orphans += _all_orphans(sheet.title, wanted[sheet.title][1], by_title.get(sheet.title, {}))
    return orphans, warnings


def _key_indexes(tab: Tab, layout: SheetLayout) -> list[int]:
    indexes = [tab.column_index(h) for h in tab.row_key]
    return [i for i in indexes if i < layout.columns]


def _carry_one(tab: Tab, title: str, layout: SheetLayout, sheet: dict[str, Any]) -> Moved:
    cells, widths = grid_cells(sheet)
    header = {c: str(effective(cell) or "") for (r, c), cell in cells.items() if r == layout.header}
    carrier = Carrier(tab, title, layout, cells, widths)
    keys = old_key_columns(tab, layout, header)
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
        if r > layout.header and c >= layout.columns and (effective(cell) not in (None, "") or formula):
            out.append((title, f"row {r + 1}", headers.get(c) or column_letter(c), effective(cell), formula))
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
    out.append({"appendCells": {"sheetId": sheet_id, "rows": rows, "fields": "userEnteredValue"}})
    return out


def _text_row(texts: list[str]) -> dict[str, Any]:
    return {"values": [{"userEnteredValue": {"stringValue": t}} for t in texts]}
