"""Columns users add to the right of a managed tab, carried from the old sheet into its refreshed one.

Each data row's user cells follow the row's key (`Tab.row_key`): the old sheet's key cells are read,
the new rows are matched to them in order (a repeated key keeps its rows' order), and every user cell
is moved to its new row, its formula moved along (xlsx_formulas.py: relative references follow the row,
references to report columns follow their header). Cells whose key
is gone become `Orphan`s (the refresh writes them to a notes tab). Without a key, rows are matched by
position. Header-row and column-level settings (widths, styles), conditional formats and validations
that lie wholly in the user's columns come along too.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from sheetsync.model import Link, Tab
from sheetsync.sinks.xlsx_cellextras import Extras, Moves, collect, texts_by_cell
from sheetsync.sinks.xlsx_formulas import FormulaMover
from sheetsync.sinks.xlsx_package import XlsxPackage
from sheetsync.sinks.xlsx_worksheet import (
    MAX_COLUMNS,
    CellReader,
    WorksheetXml,
    column_index,
    column_letters,
    excel_serial,
    expand_all_shared,
    split_ref,
)
from sheetsync.sinks.xlsx_xml import NS, SHEET_ORDER, insert_in_order, q

_END = re.compile(r"^(\$?)([A-Z]{1,3})(\$?)([0-9]*)$")
_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?\d*(?::\$?([A-Z]{1,3})\$?\d*)?$")


@dataclass(frozen=True)
class Layout:
    """Where a managed tab's table is on its sheet: the header row, the report's columns from
    `first_column`, and the number of data rows under the header (kept in the workbook)."""

    header_row: int
    columns: int
    rows: int
    first_column: int = 1
    headers: tuple[str, ...] = ()  # the report's column headers, left to right (empty in older records)
    end_row: int = 0  # the last row the report writes (totals, notes under the data); 0: not recorded

    @property
    def last_column(self) -> int:
        return self.first_column + self.columns - 1

    @property
    def last_data_row(self) -> int:
        return self.header_row + self.rows


@dataclass(frozen=True)
class ColumnPlan:
    """The old sheet's columns: which were the report's (found by header, left to right), which are the
    user's (to the right of the report, or inserted between its columns), and where the user's go: to
    the right of the refreshed report, those inserted between its columns first, in their order."""

    report: dict[int, str]  # old column -> the report's header there
    inside: tuple[int, ...]  # the user's columns between the report's
    first: int  # the old report's first column
    new_last: int  # the refreshed report's last column

    @property
    def old_last(self) -> int:
        return max(self.report, default=self.first - 1)

    @property
    def trailing_shift(self) -> int:
        """How far the user's columns right of the report move."""
        return self.new_last + len(self.inside) - self.old_last

    def is_user(self, column: int) -> bool:
        return column in self.inside or column > self.old_last

    def user_target(self, column: int) -> int:
        if column in self.inside:
            return self.new_last + self.inside.index(column) + 1
        return column + self.trailing_shift


def plan_columns(header: dict[int, str], old: Layout, new_last: int) -> ColumnPlan:
    """Match the report's recorded headers, in their order, against the old header row (`header`:
    column -> text): a header the user deleted is skipped, any other column met before the report's
    last one is the user's, inserted between. Without recorded headers, or when none is found (the
    header row moved), the recorded column positions are the report's."""
    wanted = [h.strip().casefold() for h in old.headers]
    report: dict[int, str] = {}
    others: list[int] = []
    start = 0  # the first recorded header not matched yet
    for column in range(old.first_column, max([*header, old.last_column]) + 1):
        index = _header_position(wanted, header.get(column, "").strip().casefold(), start)
        if index is None:
            others.append(column)
        else:
            report[column], start = old.headers[index], index + 1
    if not report:
        positions = range(old.first_column, old.last_column + 1)
        return ColumnPlan({c: header.get(c, "") for c in positions}, (), old.first_column, new_last)
    inside = tuple(c for c in others if c < max(report))
    return ColumnPlan(report, inside, old.first_column, new_last)


def _header_position(wanted: list[str], text: str, start: int) -> int | None:
    """Where `text` is among the recorded headers from `start` on; None when it is not one of them."""
    return wanted.index(text, start) if text and text in wanted[start:] else None


def block_row(row: int, old: Layout, new: Layout, rows: dict[int, int]) -> int | None:
    """Where old row `row` is after the refresh, as Excel moves references when rows are inserted or
    deleted: the header and rows above stay with the header, rows below stay with the end of the
    data, the first and last data rows stay first and last (so a range over the data grows and
    shrinks with it), any other data row follows its key (`rows`: old data row -> new; None when
    its key is gone). 1-based rows."""
    if row <= old.header_row:
        return row + new.header_row - old.header_row
    if row > old.last_data_row:
        return row - old.last_data_row + new.last_data_row
    if row == old.header_row + 1:
        return new.header_row + 1
    if row == old.last_data_row:
        return new.last_data_row
    return rows.get(row)


def find_layout(package: XlsxPackage, part: str, tab: Tab) -> Layout:
    """The layout of a rendered tab: the row holding its headers in consecutive columns (a template
    may move the table), else the model's default position."""
    headers = tuple(c.header for c in tab.columns)
    sheet = WorksheetXml(package.read_xml(part))
    end = max((number for number, row in sheet.rows() if row.find(q("c")) is not None), default=0)
    found = _header_cell(package, sheet, headers)
    row, column = found or (tab.header_row, 1)
    return Layout(row, len(headers), len(tab.rows), column, headers, end)


def has_header_row(package: XlsxPackage, part: str, tab: Tab) -> bool:
    """Whether the sheet holds the tab's headers side by side (it looks like the report's tab)."""
    headers = tuple(c.header for c in tab.columns)
    return bool(headers) and _header_cell(package, WorksheetXml(package.read_xml(part)), headers) is not None


def _header_cell(package: XlsxPackage, sheet: WorksheetXml, headers: tuple[str, ...]) -> tuple[int, int] | None:
    """(row, column) of the first header of `headers` written in consecutive cells of one row."""
    if not headers:
        return None
    reader = CellReader(package)
    for number, row in sheet.rows():
        texts = {c: str(reader.value(cell) or "") for c, cell in _row_cells(row).items()}
        for column, text in texts.items():
            if text == headers[0] and all(texts.get(column + i) == h for i, h in enumerate(headers)):
                return number, column
    return None


def _row_cells(row: Any) -> dict[int, Any]:
    cells: dict[int, Any] = {}
    position = 0
    for cell in row.iterfind(q("c")):
        ref = cell.get("r")
        position = split_ref(ref)[1] if ref else position + 1
        cells[position] = cell
    return cells


@dataclass(frozen=True)
class Orphan:
    """A user cell whose row's key vanished from the report."""

    tab: str
    key: str
    header: str
    value: Any
    formula: str | None
    note: str = ""  # the cell's comment
    link: str = ""  # the cell's hyperlink


@dataclass
class Carried:
    orphans: list[Orphan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cells: int = 0
    extras: Extras = field(default_factory=Extras)  # notes, links and merges of the moved cells


def key_text(value: Any) -> str:
    """A key as compared between the old sheet's cells and the new rows: 12, 12.0 and "12" agree."""
    if value is None:
        return ""
    if isinstance(value, Link):
        value = value.text
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, date | datetime):
        value = excel_serial(value)
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value)).normalize()
        return format(number, "f")
    return str(value).strip()


def old_cells(sheet: WorksheetXml) -> dict[int, dict[int, Any]]:
    """row -> column -> <c> element of a parsed sheet."""
    return {number: _row_cells(row) for number, row in sheet.rows()}


def carry_user_columns(
    package: XlsxPackage, old_part: str, old: Layout, new: Layout, tab: Tab, new_root: Any, title: str
) -> Carried:
    """Copy the user's columns of the old sheet (part `old_part` of `package`, laid out as `old`) into
    `new_root` (the refreshed sheet, laid out as `new`)."""
    return _Carrier(package, old_part, old, new, tab, title).carry(new_root)


class _Carrier:
    """One managed sheet's user cells: read from the old sheet, placed by key into the new one."""

    def __init__(self, package: XlsxPackage, old_part: str, old: Layout, new: Layout, tab: Tab, title: str) -> None:
        self.old, self.new, self.tab, self.title = old, new, tab, title
        self.package, self.old_part = package, old_part
        self.moves: Moves = {}
        self.texts: dict[tuple[int, int], tuple[str, str]] | None = None
        self.sheet = WorksheetXml(copy.deepcopy(package.read_xml(old_part)))
        expand_all_shared(self.sheet)
        self.cells = old_cells(self.sheet)
        self.reader = CellReader(package)
        self.header = self.cells.get(old.header_row, {})
        texts = {c: str(self.reader.value(cell) or "") for c, cell in self.header.items()}
        self.columns = plan_columns(texts, old, new.last_column)
        self.key_columns = self._old_key_columns()
        self.result = Carried()
        own = {title.casefold(), *(e.name.casefold() for e in package.sheets() if e.part == old_part)}
        trailer = new.end_row - new.last_data_row if new.end_row else 0  # totals and notes under the data
        self.old_end = old.end_row or old.last_data_row + max(trailer, 0)
        self.mover = FormulaMover(self._new_column, own)

    def block_row(self, row: int, absolute: bool = True) -> int | None:
        return block_row(row, self.old, self.new, self.rows)

    def _formula_mover(self, r: int, target: int) -> Callable[[str], str]:
        """A formula of a cell moved from row `r` to `target`: within the data, relative rows follow the
        row (a copied cell) and absolute ones the block; above or below the data, all follow the block."""
        if self.old.header_row < r <= self.old.last_data_row:
            offset = target - r
            return lambda text: self.mover.move(
                text, lambda row, absolute: self.block_row(row) if absolute else row + offset
            )
        return lambda text: self.mover.move(text, lambda row, absolute: self.block_row(row), other_sheets=False)

    def _new_column(self, c: int) -> int | None:
        """Where old column `c` is after the refresh: a report column goes where its header went (None
        when the report dropped it), a user's column where `ColumnPlan` puts it."""
        if self.columns.is_user(c):
            return self.columns.user_target(c)
        if c < self.old.first_column:
            return c
        header = self.columns.report.get(c, "").strip().casefold()
        new_headers = [h.strip().casefold() for h in (self.new.headers or [col.header for col in self.tab.columns])]
        return self.new.first_column + new_headers.index(header) if header in new_headers else None

    def carry(self, new_root: Any) -> Carried:
        old, columns = self.old, self.columns
        hidden_rows = [r for r, row in self.sheet.rows() if old.header_row < r <= old.last_data_row and _hidden(row)]
        users = any(self._users(r, c) for r, row in self.cells.items() for c in row)
        self.rows = self._row_map() if users or hidden_rows else {}
        new_sheet = WorksheetXml(new_root)
        self._hide_again(new_sheet, hidden_rows)
        if not users:
            return self.result
        rows = self.rows
        for r, row in sorted(self.cells.items()):
            for c, cell in sorted(row.items()):
                if not self._users(r, c):
                    continue
                target = self._target_row(r, rows)
                if target is None:
                    self._orphan(r, c, cell)
                    continue
                column = columns.user_target(c) if columns.is_user(c) else (self._new_column(c) or c)
                _place(new_sheet, cell, self._formula_mover(r, target), target, column)
                self.moves[(r, c)] = (target, column)
                self.result.cells += 1
        if columns.inside:
            names = ", ".join(repr(self.columns_header(c)) for c in columns.inside)
            self.result.warnings.append(
                f"tab {self.title!r}: your column(s) {names} between the report's columns now sit to the right of them"
            )
        self.result.extras = collect(self.package, self.old_part, self.sheet.root, self.moves)
        if self.result.extras.dropped:
            self.result.warnings.append(
                f"tab {self.title!r}: {', '.join(self.result.extras.dropped)} in the columns you added could not "
                "follow their rows (they now lie in different rows) and are no longer merged"
            )
        _carry_cols(self.sheet.root, new_root, columns)
        _carry_ranges(self.sheet.root, new_root, self)
        if self.mover.lost_references:
            self.result.warnings.append(
                f"tab {self.title!r}: {self.mover.lost_references} reference(s) in the columns you added pointed "
                "at report columns the report no longer has; they now show #REF!"
            )
        if not self.tab.row_key and old.rows:
            self.result.warnings.append(
                f"tab {self.title!r} declares no row key: the columns you added are kept by row position "
                "(add `key:` to the tab so they follow their rows)"
            )
        return self.result

    def _hide_again(self, new_sheet: WorksheetXml, hidden_rows: list[int]) -> None:
        """Report columns the user hid stay hidden (found by header), and data rows the user hid stay
        hidden (found by key): a view of the report they chose, not the report's formatting."""
        for row in hidden_rows:
            if (target := self.rows.get(row)) is not None:
                new_sheet.row(target).set("hidden", "1")
        old_cols = self.sheet.root.find(q("cols"))
        for col in old_cols.iterfind(q("col")) if old_cols is not None else []:
            if col.get("hidden") not in ("1", "true"):
                continue
            for c in range(int(col.get("min", "0")), min(int(col.get("max", "0")), self.columns.old_last) + 1):
                if c in self.columns.report and (target := self._new_column(c)) is not None:
                    column_element(new_sheet.root, target).set("hidden", "1")

    def _users(self, r: int, c: int) -> bool:
        """Whether the old cell is the user's: in a column of theirs (not in the title rows above the
        report's columns), or anywhere under everything the report wrote (a check total of theirs)."""
        if r > self.old_end:
            return True
        return self.columns.is_user(c) and not (r < self.old.header_row and c <= max(self.columns.old_last, 2))

    def columns_header(self, c: int) -> str:
        return str(self.reader.value(self.header[c]) or "") if c in self.header else column_letters(c)

    def _target_row(self, r: int, rows: dict[int, int]) -> int | None:
        old, new = self.old, self.new
        if r <= old.header_row:
            return r + (new.header_row - old.header_row)
        if r <= old.last_data_row:
            return rows.get(r)
        return r - old.last_data_row + new.last_data_row

    def _row_map(self) -> dict[int, int]:
        """old data row -> new data row: by key, or by position without one."""
        first_old, first_new = self.old.header_row + 1, self.new.header_row + 1
        old_rows = range(first_old, first_old + self.old.rows)
        if self.key_columns is None:
            if self.tab.row_key:
                self.result.warnings.append(
                    f"tab {self.title!r}: key column(s) {', '.join(self.tab.row_key)} not found in the old sheet; "
                    "the columns you added are kept by row position"
                )
            return {r: first_new + i for i, r in enumerate(old_rows) if i < len(self.tab.rows)}
        waiting: dict[tuple[str, ...], deque[int]] = defaultdict(deque)
        for r in old_rows:
            waiting[self._old_key(r)].append(r)
        indexes = [self.tab.column_index(h) for h in self.tab.row_key]
        seen: dict[tuple[str, ...], int] = defaultdict(int)
        mapping = {}
        for offset, values in enumerate(self.tab.rows):
            key = tuple(key_text(values[i]) if i < len(values) else "" for i in indexes)
            seen[key] += 1
            if waiting.get(key):
                mapping[waiting[key].popleft()] = first_new + offset
        self._warn_repeats([k for k, n in seen.items() if n > 1])
        return mapping

    def _warn_repeats(self, repeated: list[tuple[str, ...]]) -> None:
        if repeated:
            shown = ", ".join("/".join(k) for k in repeated[:5])
            self.result.warnings.append(
                f"tab {self.title!r}: key {'/'.join(self.tab.row_key)} repeats ({shown}); "
                "those rows keep their order among themselves"
            )

    def _old_key(self, r: int) -> tuple[str, ...]:
        row = self.cells.get(r, {})
        return tuple(key_text(self.reader.value(row[c])) if c in row else "" for c in self.key_columns or [])

    def _old_key_columns(self) -> list[int] | None:
        if not self.tab.row_key:
            return None
        by_text: dict[str, int] = {}
        for c, text in sorted(self.columns.report.items()):
            by_text.setdefault(text.strip().casefold(), c)
        columns = [by_text.get(h.strip().casefold()) for h in self.tab.row_key]
        return None if any(c is None for c in columns) else [c for c in columns if c is not None]

    def _orphan(self, r: int, c: int, cell: Any) -> None:
        value = self.reader.value(cell)
        formula = cell.find(q("f"))
        if self.texts is None:
            self.texts = texts_by_cell(self.package, self.old_part, self.sheet.root)
        note, link = self.texts.get((r, c), ("", ""))
        if value in (None, "") and formula is None and not note and not link:
            return
        row = self.cells.get(r, {})
        columns = self.key_columns or []
        key = " / ".join(str(self.reader.value(row[k]) if k in row else "") for k in columns) or f"row {r}"
        header = self.columns_header(c)
        text = ("=" + formula.text) if formula is not None and formula.text else None
        self.result.orphans.append(Orphan(self.title, key, header, value, text, note, link))


def _place(sheet: WorksheetXml, cell: Any, move: Callable[[str], str], new_row: int, new_column: int) -> None:
    """Put a copy of the user's `cell` at (`new_row`, `new_column`), its formula moved by `move`."""
    moved = copy.deepcopy(cell)
    new_ref = f"{column_letters(new_column)}{new_row}"
    formula = moved.find(q("f"))
    if formula is not None:
        if formula.text:
            formula.text = move(formula.text)
            if formula.get("ref"):
                formula.set("ref", new_ref)
        _drop_cached_result(moved)
    moved.set("r", new_ref)
    placeholder = sheet.cell(new_row, new_column)
    placeholder.getparent().replace(placeholder, moved)


def _drop_cached_result(cell: Any) -> None:
    """Forget a carried formula's cached result: it was computed from the old rows (the report's values
    beside it changed, or the row moved), so it is wrong until recalculated. Without one, Excel and
    LibreOffice compute the cell on open (LibreOffice keeps stale cached results by default)."""
    cached = cell.find(q("v"))
    if cached is not None:
        cell.remove(cached)
    if cell.get("t") in ("str", "b", "e", "n"):
        del cell.attrib["t"]


def _hidden(row: Any) -> bool:
    return row.get("hidden") in ("1", "true")


def column_element(root: Any, column: int) -> Any:
    """The <col> element of exactly one column of a worksheet, split out of a range or created."""
    cols = root.find(q("cols"))
    if cols is None:
        cols = etree.SubElement(root, q("cols"))
        insert_in_order(root, cols, SHEET_ORDER)
    for col in cols.iterfind(q("col")):
        low, high = int(col.get("min", "0")), int(col.get("max", "0"))
        if low <= column <= high:
            for start, end in ((low, column - 1), (column + 1, high)):
                if start <= end:
                    part = copy.deepcopy(col)
                    part.set("min", str(start))
                    part.set("max", str(end))
                    if start < column:
                        col.addprevious(part)
                    else:
                        col.addnext(part)
            col.set("min", str(column))
            col.set("max", str(column))
            return col
        if low > column:
            new = etree.Element(q("col"), min=str(column), max=str(column))
            col.addprevious(new)
            return new
    return etree.SubElement(cols, q("col"), min=str(column), max=str(column))


def _carry_cols(old_root: Any, new_root: Any, columns: ColumnPlan) -> None:
    """Column widths and styles of the user's columns, at their new places."""
    old_cols = old_root.find(q("cols"))
    if old_cols is None:
        return
    kept = []
    for col in old_cols.iterfind(q("col")):
        low, high = int(col.get("min")), int(col.get("max"))
        spans = [(c, c) for c in columns.inside if low <= c <= high]
        if high > columns.old_last:
            spans.append((max(low, columns.old_last + 1), high))
        for first, last in spans:
            start, end = columns.user_target(first), min(columns.user_target(last), MAX_COLUMNS)
            if start <= end:
                kept.append(copy.deepcopy(col))
                kept[-1].set("min", str(start))
                kept[-1].set("max", str(end))
    if not kept:
        return
    new_cols = new_root.find(q("cols"))
    if new_cols is None:
        new_cols = etree.SubElement(new_root, q("cols"))
        insert_in_order(new_root, new_cols, SHEET_ORDER)
    first = columns.new_last + 1
    for col in list(new_cols):
        if int(col.get("max")) >= first:
            if int(col.get("min")) >= first:
                new_cols.remove(col)
            else:
                col.set("max", str(first - 1))
    for col in sorted(kept, key=lambda c: int(c.get("min"))):
        new_cols.append(col)


def _carry_ranges(old_root: Any, new_root: Any, carrier: _Carrier) -> None:
    """Conditional formats and validations that apply only to the user's columns, moved with them."""
    priority = max((int(r.get("priority", "0")) for r in new_root.iter(q("cfRule"))), default=0)
    for element in old_root.iterfind(q("conditionalFormatting")):
        if _user_only(element.get("sqref", ""), carrier.columns):
            copied = _moved_ranges(element, carrier)
            for rule in copied.iter(q("cfRule")):  # priorities are unique within a sheet
                priority += 1
                rule.set("priority", str(priority))
            new_root.append(copied)
            insert_in_order(new_root, copied, SHEET_ORDER)
    validations = [
        v
        for v in old_root.iterfind("m:dataValidations/m:dataValidation", NS)
        if _user_only(v.get("sqref", ""), carrier.columns)
    ]
    if validations:
        holder = new_root.find(q("dataValidations"))
        if holder is None:
            holder = etree.SubElement(new_root, q("dataValidations"))
            insert_in_order(new_root, holder, SHEET_ORDER)
        for validation in validations:
            holder.append(_moved_ranges(validation, carrier))
        holder.set("count", str(len(holder)))


def _moved_ranges(element: Any, carrier: _Carrier) -> Any:
    """A copy of a conditional format or validation, its ranges moved with the user's columns and the
    block's rows, its formulas (written for the range's first cell) moved along."""
    copied = copy.deepcopy(element)
    ranges = copied.get("sqref", "").split()
    moved = [_moved_range(part, carrier.columns.user_target, carrier.block_row) for part in ranges]
    copied.set("sqref", " ".join(moved))
    offset = _first_row(moved[0]) - _first_row(ranges[0]) if ranges else 0
    for formula in copied.iter(q("formula"), q("formula1"), q("formula2")):
        if formula.text:
            rows = lambda row, absolute: carrier.block_row(row) if absolute else row + offset  # noqa: E731
            formula.text = carrier.mover.move(formula.text, rows, other_sheets=False)
    return copied


def _first_row(text: str) -> int:
    match = re.search(r"[0-9]+", text)
    return int(match.group()) if match else 0


def _moved_range(text: str, column_of: Callable[[int], int], block_row: Callable[[int], int | None]) -> str:
    """ "L11:L52" -> "M11:M55": columns as `column_of` and rows as `block_row` moves them."""
    ends = []
    for end in text.split(":"):
        match = _END.match(end)
        if not match:
            ends.append(end)
            continue
        fixed_column, letters, fixed_row, digits = match.groups()
        row = (block_row(int(digits)) or int(digits)) if digits else None
        column = column_letters(min(column_of(column_index(letters)), MAX_COLUMNS))
        ends.append(f"{fixed_column}{column}{fixed_row}{'' if row is None else row}")
    return ":".join(ends)


def _user_only(sqref: str, columns: ColumnPlan) -> bool:
    """Whether every range of `sqref` lies in the user's columns."""
    parts = sqref.split()
    for part in parts:
        match = _RANGE.match(part)
        if not match:
            return False
        first = column_index(match.group(1))
        last = column_index(match.group(2)) if match.group(2) else first
        if not all(columns.is_user(c) for c in range(first, min(last, columns.old_last + 1) + 1)):
            return False
    return bool(parts)
