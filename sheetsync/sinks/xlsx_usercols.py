"""Columns users add to the right of a managed tab, carried from the old sheet into its refreshed one.

Each data row's user cells follow the row's key (`Tab.row_key`): the old sheet's key cells are read,
the new rows are matched to them in order (a repeated key keeps its rows' order), and every user cell
is moved to its new row, its formula translated so relative references follow the row. Cells whose key
is gone become `Orphan`s (the refresh writes them to a notes tab). Without a key, rows are matched by
position. Header-row and column-level settings (widths, styles), conditional formats and validations
that lie wholly in the user's columns come along too.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree
from openpyxl.formula.translate import Translator, TranslatorError

from sheetsync.model import Link, Tab
from sheetsync.sinks.xlsx_package import XlsxPackage
from sheetsync.sinks.xlsx_worksheet import WorksheetXml, column_letters, excel_serial, expand_all_shared, split_ref
from sheetsync.sinks.xlsx_xml import NS, SHEET_ORDER, insert_in_order, q

_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?\d*(?::\$?([A-Z]{1,3})\$?\d*)?$")


@dataclass(frozen=True)
class Layout:
    """Where a managed tab's table is on its sheet: the header row, the report's columns from
    `first_column`, and the number of data rows under the header (kept in the workbook)."""

    header_row: int
    columns: int
    rows: int
    first_column: int = 1

    @property
    def last_column(self) -> int:
        return self.first_column + self.columns - 1

    @property
    def last_data_row(self) -> int:
        return self.header_row + self.rows


def find_layout(package: XlsxPackage, part: str, tab: Tab) -> Layout:
    """The layout of a rendered tab: the row holding its headers in consecutive columns (a template
    may move the table), else the model's default position."""
    headers = [c.header for c in tab.columns]
    reader = CellReader(package)
    sheet = WorksheetXml(package.read_xml(part))
    for number, row in sheet.rows():
        texts = {c: str(reader.value(cell) or "") for c, cell in _row_cells(row).items()}
        for column, text in texts.items():
            if text == headers[0] and all(texts.get(column + i) == h for i, h in enumerate(headers)):
                return Layout(number, len(headers), len(tab.rows), column)
    return Layout(tab.header_row, len(headers), len(tab.rows))


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


@dataclass
class Carried:
    orphans: list[Orphan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cells: int = 0


class CellReader:
    """Values of <c> elements of one package (shared strings resolved)."""

    def __init__(self, package: XlsxPackage) -> None:
        self.strings: list[str] = []
        workbook = package.workbook_part()
        for rel in package.relationships(workbook):
            if rel.type.endswith("/sharedStrings"):
                root = package.read_xml(rel.target)
                self.strings = ["".join(si.itertext()) for si in root.iterfind("m:si", NS)]

    def value(self, cell: Any) -> Any:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(q("is"))
            return "".join(inline.itertext()) if inline is not None else ""
        v = cell.find(q("v"))
        text = v.text if v is not None else None
        if text is None:
            return None
        if kind == "s":
            index = int(text)
            return self.strings[index] if index < len(self.strings) else ""
        if kind in ("str", "e"):
            return text
        if kind == "b":
            return text in ("1", "true")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return int(number) if number == number.to_integral_value() and "E" not in text.upper() else number


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
        self.sheet = WorksheetXml(copy.deepcopy(package.read_xml(old_part)))
        expand_all_shared(self.sheet)
        self.cells = old_cells(self.sheet)
        self.reader = CellReader(package)
        self.header = self.cells.get(old.header_row, {})
        self.key_columns = self._old_key_columns()
        self.result = Carried()

    def carry(self, new_root: Any) -> Carried:
        old, first_user = self.old, self.old.last_column + 1
        if not any(c >= first_user for row in self.cells.values() for c in row):
            return self.result
        shift = self.new.last_column - old.last_column
        rows = self._row_map()
        new_sheet = WorksheetXml(new_root)
        for r, row in sorted(self.cells.items()):
            for c, cell in sorted(row.items()):
                if c < first_user or (r < old.header_row and c <= max(old.last_column, 2)):
                    continue
                target = self._target_row(r, rows)
                if target is None:
                    self._orphan(r, c, cell)
                    continue
                _place(new_sheet, cell, r, c, target, c + shift)
                self.result.cells += 1
        _carry_cols(self.sheet.root, new_root, old.last_column, shift)
        if shift == 0:
            _carry_ranges(self.sheet.root, new_root, old.last_column)
        if not self.tab.row_key and old.rows:
            self.result.warnings.append(
                f"tab {self.title!r} declares no row key: the columns you added are kept by row position "
                "(add `key:` to the tab so they follow their rows)"
            )
        return self.result

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
        for c, cell in self.header.items():
            if self.old.first_column <= c <= self.old.last_column:
                by_text.setdefault(str(self.reader.value(cell) or "").strip().casefold(), c)
        columns = [by_text.get(h.strip().casefold()) for h in self.tab.row_key]
        return None if any(c is None for c in columns) else [c for c in columns if c is not None]

    def _orphan(self, r: int, c: int, cell: Any) -> None:
        value = self.reader.value(cell)
        formula = cell.find(q("f"))
        if value in (None, "") and formula is None:
            return
        row = self.cells.get(r, {})
        columns = self.key_columns or []
        key = " / ".join(str(self.reader.value(row[k]) if k in row else "") for k in columns) or f"row {r}"
        header = str(self.reader.value(self.header[c]) or "") if c in self.header else column_letters(c)
        text = ("=" + formula.text) if formula is not None and formula.text else None
        self.result.orphans.append(Orphan(self.title, key, header, value, text))


def _place(sheet: WorksheetXml, cell: Any, r: int, c: int, new_r: int, new_c: int) -> None:
    moved = copy.deepcopy(cell)
    new_ref = f"{column_letters(new_c)}{new_r}"
    formula = moved.find(q("f"))
    if formula is not None and formula.text and (new_r, new_c) != (r, c):
        origin = f"{column_letters(c)}{r}"
        with contextlib.suppress(TranslatorError):
            formula.text = Translator("=" + formula.text, origin=origin).translate_formula(new_ref)[1:]
        if formula.get("ref"):
            formula.set("ref", new_ref)
    moved.set("r", new_ref)
    placeholder = sheet.cell(new_r, new_c)
    placeholder.getparent().replace(placeholder, moved)


def _carry_cols(old_root: Any, new_root: Any, old_columns: int, shift: int) -> None:
    """Column widths and styles of the user's columns."""
    old_cols = old_root.find(q("cols"))
    if old_cols is None:
        return
    kept = []
    for col in old_cols.iterfind(q("col")):
        low, high = int(col.get("min")), int(col.get("max"))
        if high <= old_columns:
            continue
        col = copy.deepcopy(col)
        col.set("min", str(max(low, old_columns + 1) + shift))
        col.set("max", str(high + shift))
        kept.append(col)
    if not kept:
        return
    new_cols = new_root.find(q("cols"))
    if new_cols is None:
        new_cols = etree.SubElement(new_root, q("cols"))
        insert_in_order(new_root, new_cols, SHEET_ORDER)
    first = old_columns + 1 + shift
    for col in list(new_cols):
        if int(col.get("max")) >= first:
            if int(col.get("min")) >= first:
                new_cols.remove(col)
            else:
                col.set("max", str(first - 1))
    for col in kept:
        new_cols.append(col)


def _carry_ranges(old_root: Any, new_root: Any, old_columns: int) -> None:
    """Conditional formats and validations that apply only to the user's columns."""
    priority = max((int(r.get("priority", "0")) for r in new_root.iter(q("cfRule"))), default=0)
    for element in old_root.iterfind(q("conditionalFormatting")):
        if _user_only(element.get("sqref", ""), old_columns):
            copied = copy.deepcopy(element)
            for rule in copied.iter(q("cfRule")):  # priorities are unique within a sheet
                priority += 1
                rule.set("priority", str(priority))
            new_root.append(copied)
            insert_in_order(new_root, copied, SHEET_ORDER)
    validations = [
        v
        for v in old_root.iterfind("m:dataValidations/m:dataValidation", NS)
        if _user_only(v.get("sqref", ""), old_columns)
    ]
    if validations:
        holder = new_root.find(q("dataValidations"))
        if holder is None:
            holder = etree.SubElement(new_root, q("dataValidations"))
            insert_in_order(new_root, holder, SHEET_ORDER)
        for validation in validations:
            holder.append(copy.deepcopy(validation))
        holder.set("count", str(len(holder)))


def _user_only(sqref: str, old_columns: int) -> bool:
    from openpyxl.utils import column_index_from_string

    parts = sqref.split()
    for part in parts:
        match = _RANGE.match(part)
        if not match or column_index_from_string(match.group(1)) <= old_columns:
            return False
    return bool(parts)
