"""Read rows of an xlsx workbook by header name, and write values back into it.

The workbook is loaded twice: with `data_only=True` for the values Excel or LibreOffice last
calculated, and without it to tell formula cells apart. A formula cell that has never been
calculated has no cached value and is returned as `FormulaWithoutValue`.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles.numbers import is_datetime
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from sheetsync.errors import SinkError
from sheetsync.sinks.base import FormulaWithoutValue, SheetRow, duplicate_header_error, normalize_header
from sheetsync.sinks.xlsx_package import CellEdit, CellStyle, XlsxPackage, refuse_unwritable

HEADER_SCAN_ROWS = 50


normalize = normalize_header


class XlsxSource:
    """An xlsx workbook read and written by header names (implements sinks.base.SheetSource)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._values: Any = None
        self._formulas: Any = None
        self._header_rows: dict[str, int] = {}

    # loading
    def _load(self, *, data_only: bool) -> Any:
        if not self.path.exists():
            raise SinkError(f"{self.path}: no such file")
        try:
            return load_workbook(self.path, data_only=data_only)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise SinkError(f"{self.path}: not a readable xlsx workbook ({exc})") from None

    def _books(self) -> tuple[Any, Any]:
        if self._values is None:
            self._values = self._load(data_only=True)
            self._formulas = self._load(data_only=False)
        return self._values, self._formulas

    def _sheet_name(self, book: Any, tab: str | None) -> str:
        if tab is None:
            return book.sheetnames[0]
        if tab in book.sheetnames:
            return tab
        for name in book.sheetnames:
            if normalize(name) == normalize(tab):
                return name
        raise SinkError(f"{self.path}: no tab named {tab!r} (tabs: {', '.join(book.sheetnames)})")

    # reading
    def tab_names(self) -> list[str]:
        return list(self._books()[0].sheetnames)

    def headers(self, tab: str | None = None) -> list[str]:
        values, _ = self._books()
        ws = values[self._sheet_name(values, tab)]
        header_row, _ = self._find_header_row(ws, (), tab)
        return [str(text) for text in header_texts(ws, header_row).values()]

    def read_rows(
        self, tab: str | None = None, required: Sequence[str] = (), columns: Sequence[str] = ()
    ) -> list[SheetRow]:
        values, formulas = self._books()
        name = self._sheet_name(values, tab)
        ws_values, ws_formulas = values[name], formulas[name]
        header_row, data_start = self._find_header_row(ws_values, required, name)
        texts = header_texts(ws_values, header_row)
        refs = {f"{get_column_letter(c)}{header_row}": text for c, text in texts.items()}
        duplicate = duplicate_header_error(f"{self.path} [{name}]", [*required, *columns], refs)
        if duplicate:
            raise SinkError(duplicate)
        keys = column_keys(texts, required)
        merged = merged_cells(ws_values, data_start, keys)
        rows = []
        for row_number in range(data_start, ws_values.max_row + 1):
            row = read_row(ws_values, ws_formulas, row_number, keys, merged)
            if row is not None:
                rows.append(row)
        return rows

    def _find_header_row(self, ws: Any, required: Sequence[str], tab: str | None) -> tuple[int, int]:
        """(header row, first data row): the first row holding every required header."""
        wanted = {normalize(name) for name in required}
        best: tuple[int, int] | None = None
        limit = ws.max_row if wanted else min(ws.max_row, HEADER_SCAN_ROWS)
        by_row = text_cells_by_row(ws, limit)
        for row in range(1, limit + 1):
            texts = header_texts(ws, row, by_row)
            found = {normalize(text) for text in texts.values()}
            if wanted:
                if wanted <= found:
                    best = (row, 0)
                    break
            elif texts and (best is None or len(texts) > best[1]):
                best = (row, len(texts))
        if best is None:
            if wanted:
                raise SinkError(f"{self.path}: tab {ws.title!r} has no header row with {', '.join(sorted(required))}")
            return (self._header_rows.get(ws.title, 1), self._header_rows.get(ws.title, 1) + 1)
        if not wanted and ws.title in self._header_rows:
            row = self._header_rows[ws.title]
        else:
            row = best[0]
            self._header_rows[ws.title] = row
        return row, data_start_after(ws, row)

    # writing back
    def check_writable(self) -> None:
        """Raise SinkError now, before anything is sent, when outcomes could not be written back."""
        XlsxPackage.open(self.path)
        refuse_unwritable(self.path)
        if not os.access(self.path, os.W_OK) or not os.access(self.path.parent, os.W_OK):
            raise SinkError(f"{self.path}: not writable, so outcomes could not be written back; nothing was sent")

    def write_back(self, tab: str | None, updates: dict[int, dict[str, Any]], *, recalculate: bool = False) -> None:
        """Set named columns of named rows and nothing else: the package editor changes only these cells
        (and the header cells of new columns), every other part of the file stays byte-identical, unless
        `recalculate` flags the workbook to recalculate on open (formulas read the cells written)."""
        if not updates:
            return
        values, _ = self._books()
        ws = values[self._sheet_name(values, tab)]
        header_row = self._header_rows.get(ws.title) or self._find_header_row(ws, (), tab)[0]
        texts = header_texts(ws, header_row)
        columns, new_headers = header_columns(ws, header_row, [h for row in updates.values() for h in row])
        like = f"{get_column_letter(max(texts))}{header_row}" if texts else None
        style = None if like else HEADER_STYLE
        edits = [CellEdit(ws.title, f"{get_column_letter(c)}{header_row}", h, style, like) for h, c in new_headers]
        for row_number, row in sorted(updates.items()):
            for header, value in row.items():
                ref = f"{get_column_letter(columns[normalize(header)])}{row_number}"
                edits.append(CellEdit(ws.title, ref, cell_text(value)))
        package = XlsxPackage.open(self.path)
        package.set_cells(edits)
        package.recalculate = package.recalculate or recalculate
        package.save()
        self._values = self._formulas = None


# -- helpers --------------------------------------------------------------------------------------


def text_cells_by_row(ws: Any, limit: int) -> dict[int, dict[int, str]]:
    """row -> column -> stripped text, for the non-blank text cells of rows 1..limit."""
    by_row: dict[int, dict[int, str]] = {}
    for (r, c), cell in ws._cells.items():
        if r <= limit and isinstance(cell.value, str) and cell.value.strip():
            by_row.setdefault(r, {})[c] = cell.value.strip()
    return by_row


def header_texts(ws: Any, row: int, by_row: dict[int, dict[int, str]] | None = None) -> dict[int, str]:
    """column -> header text of one row. A merged cell counts once, at its first column, also on the
    lower rows of a vertically merged header."""
    if by_row is None:
        by_row = text_cells_by_row(ws, row)
    texts = dict(by_row.get(row, {}))
    for merged in ws.merged_cells.ranges:
        if merged.min_row < row <= merged.max_row:
            top = ws.cell(merged.min_row, merged.min_col).value
            if isinstance(top, str) and top.strip():
                texts[merged.min_col] = top.strip()
    return dict(sorted(texts.items()))


def data_start_after(ws: Any, header_row: int) -> int:
    """The first row below the header, past any header cell merged downwards."""
    last = header_row
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= header_row <= merged.max_row:
            last = max(last, merged.max_row)
    return last + 1


def column_keys(texts: dict[int, str], required: Sequence[str]) -> dict[int, str]:
    """column -> key of SheetRow.values: the caller's spelling for required headers, else the sheet's."""
    spelled = {normalize(name): name for name in required}
    keys: dict[int, str] = {}
    used: set[str] = set()
    for column, text in texts.items():
        key = spelled.get(normalize(text), text)
        if normalize(key) not in used:
            used.add(normalize(key))
            keys[column] = key
    return keys


def read_row(
    ws_values: Any, ws_formulas: Any, row: int, keys: dict[int, str], merged: dict[tuple[int, int], str]
) -> SheetRow | None:
    values: dict[str, Any] = {}
    refs: dict[str, str] = {}
    inside: dict[str, str] = {}
    blank = True
    for column, key in keys.items():
        ref = f"{get_column_letter(column)}{row}"
        value = cell_value(ws_values._cells.get((row, column)), ws_formulas._cells.get((row, column)), ref)
        values[key] = value
        refs[key] = ref
        if (row, column) in merged:
            inside[key] = merged[(row, column)]
        blank = blank and value is None
    if blank:
        return None
    return SheetRow(row, values, refs, hidden=row_hidden(ws_values, row), merged=inside)


def row_hidden(ws: Any, row: int) -> str:
    """ "filtered out" for a row the sheet's filter hides, "hidden" for one hidden by hand, else ""."""
    dimension = ws.row_dimensions.get(row) if hasattr(ws.row_dimensions, "get") else None
    if dimension is None or not dimension.hidden:
        return ""
    ref = ws.auto_filter.ref if ws.auto_filter is not None else None
    if ref:
        try:
            low, high = rows_of(ref)
        except ValueError:
            return "hidden"
        if low < row <= high:
            return "filtered out"
    return "hidden"


def rows_of(ref: str) -> tuple[int, int]:
    """First and last row of an A1 range ("A3:K40")."""
    from openpyxl.utils.cell import range_boundaries

    _, low, _, high = range_boundaries(ref)
    if low is None or high is None:
        raise ValueError(ref)
    return low, high


def merged_cells(ws: Any, first_row: int, keys: dict[int, str]) -> dict[tuple[int, int], str]:
    """(row, column) -> merged range, for the data cells of the read columns that a merge covers (all but
    the merge's top-left cell, which holds its value)."""
    covered: dict[tuple[int, int], str] = {}
    for merged in ws.merged_cells.ranges:
        if merged.max_row < first_row:
            continue
        for column in keys:
            if not merged.min_col <= column <= merged.max_col:
                continue
            for row in range(max(merged.min_row, first_row), merged.max_row + 1):
                if (row, column) != (merged.min_row, merged.min_col):
                    covered[(row, column)] = merged.coord
    return covered


def cell_value(value_cell: Cell | None, formula_cell: Cell | None, ref: str) -> Any:
    if formula_cell is not None and formula_cell.data_type == "f":
        cached = value_cell.value if value_cell is not None else None
        if cached is None:
            formula = formula_cell.value
            text = formula.text if isinstance(formula, ArrayFormula) else str(formula)
            return FormulaWithoutValue(cell=ref, formula=text or "")
    if value_cell is None:
        return None
    return typed(value_cell.value, value_cell.number_format)


def typed(value: Any, number_format: str) -> Any:
    """A cell value as the reverse path wants it: int or exact Decimal, date or datetime, str."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return exact_number(value)
    if isinstance(value, datetime):
        kind = is_datetime(number_format)
        if kind == "date" or (kind is None and value.hour == value.minute == value.second == 0):
            return value.date()
        return value
    if isinstance(value, str):
        return value if value.strip() else None
    return value


def exact_number(value: float) -> int | Decimal | None:
    """The number as a spreadsheet shows it (15 significant digits): 100.1 -> Decimal("100.1")."""
    if value != value or value in (float("inf"), float("-inf")):
        return None
    try:
        number = Decimal(f"{value:.15g}")
    except InvalidOperation:  # pragma: no cover - finite floats always format
        return Decimal(repr(value))
    if number == number.to_integral_value():
        return int(number)
    return number


HEADER_STYLE = CellStyle(bold=True)


def header_columns(ws: Any, header_row: int, headers: Sequence[str]) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """(normalized header -> column, [(new header, column)]): missing headers get columns after the last
    header (never inside a merged header cell)."""
    texts = header_texts(ws, header_row)
    columns: dict[str, int] = {}
    for column, text in texts.items():
        columns.setdefault(normalize(text), column)
    merged_ends = [r.max_col for r in ws.merged_cells.ranges if r.min_row <= header_row <= r.max_row]
    last = max([*texts, *merged_ends], default=0)
    added: list[tuple[str, int]] = []
    for header in headers:
        key = normalize(header)
        if key in columns:
            continue
        last += 1
        columns[key] = last
        added.append((header, last))
    return columns, added


def cell_text(value: Any) -> Any:
    """A value for the package editor: text stays text (a leading "=" is never a formula there)."""
    if isinstance(value, float):
        return exact_number(value)
    return value
