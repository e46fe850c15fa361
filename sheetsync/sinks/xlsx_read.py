"""Read rows of an xlsx workbook by header name, and write values back into it.

The workbook is loaded twice: with `data_only=True` for the values Excel or LibreOffice last
calculated, and without it to tell formula cells apart. A formula cell that has never been
calculated has no cached value and is returned as `FormulaWithoutValue`.
"""

from __future__ import annotations

import re
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
from sheetsync.model import NUMBER_FORMATS, Format
from sheetsync.sinks import xlsx_cells as cells
from sheetsync.sinks.base import FormulaWithoutValue, SheetRow
from sheetsync.sinks.xlsx_write import save_atomically

HEADER_SCAN_ROWS = 50


def normalize(name: Any) -> str:
    """A header as compared: no spaces anywhere, case folded."""
    return "".join(str(name).split()).casefold() if name is not None else ""


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

    def read_rows(self, tab: str | None = None, required: Sequence[str] = ()) -> list[SheetRow]:
        values, formulas = self._books()
        name = self._sheet_name(values, tab)
        ws_values, ws_formulas = values[name], formulas[name]
        header_row, data_start = self._find_header_row(ws_values, required, name)
        keys = column_keys(header_texts(ws_values, header_row), required)
        rows = []
        for row_number in range(data_start, ws_values.max_row + 1):
            row = read_row(ws_values, ws_formulas, row_number, keys)
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
    def rewrite_blockers(self) -> list[str]:
        """Parts of the workbook that openpyxl would drop when saving it (shapes, slicers, ...)."""
        return rewrite_blockers(self.path)

    def write_back(self, tab: str | None, updates: dict[int, dict[str, Any]], *, copy_to: Path | None = None) -> None:
        """Set named columns of named rows, keeping every other cell as it was, and save atomically.
        A workbook holding parts openpyxl cannot keep is only written to `copy_to`."""
        blockers = self.rewrite_blockers()
        if blockers and copy_to is None:
            raise SinkError(
                f"{self.path}: not rewritten, it holds parts openpyxl cannot keep "
                f"({'; '.join(blockers)}); write the outcomes to a copy instead"
            )
        book = self._load(data_only=False)
        ws = book[self._sheet_name(book, tab)]
        header_row = self._header_rows.get(ws.title) or self._find_header_row(ws, (), tab)[0]
        columns = ensure_columns(ws, header_row, [h for values in updates.values() for h in values])
        for row_number, values in updates.items():
            for header, value in values.items():
                set_value(ws.cell(row=row_number, column=columns[normalize(header)]), value)
        save_atomically(book, Path(copy_to) if copy_to is not None else self.path, error=SinkError)
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


def read_row(ws_values: Any, ws_formulas: Any, row: int, keys: dict[int, str]) -> SheetRow | None:
    values: dict[str, Any] = {}
    refs: dict[str, str] = {}
    blank = True
    for column, key in keys.items():
        ref = f"{get_column_letter(column)}{row}"
        value = cell_value(ws_values._cells.get((row, column)), ws_formulas._cells.get((row, column)), ref)
        values[key] = value
        refs[key] = ref
        blank = blank and value is None
    return None if blank else SheetRow(row_number=row, values=values, cells=refs)


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


def ensure_columns(ws: Any, header_row: int, headers: Sequence[str]) -> dict[str, int]:
    """normalized header -> column, adding missing headers at the end of the header row."""
    texts = header_texts(ws, header_row)
    columns: dict[str, int] = {}
    for column, text in texts.items():
        columns.setdefault(normalize(text), column)
    merged_ends = [r.max_col for r in ws.merged_cells.ranges if r.min_row <= header_row <= r.max_row]
    last = max([*texts, *merged_ends], default=0)  # a new header never lands inside a merged cell
    for header in headers:
        key = normalize(header)
        if key in columns:
            continue
        last += 1
        cell = ws.cell(row=header_row, column=last)
        if texts:
            cell._style = ws.cell(row=header_row, column=max(texts))._style.__copy__()
        cells.set_text(cell, header)
        columns[key] = last
    return columns


def set_value(cell: Cell, value: Any) -> None:
    """Write one value: strings stay text, numbers and dates typed, the cell's format kept."""
    if value is None:
        cell._value, cell.data_type = None, "n"
        return
    cells.make_filler(Format.TEXT)(cell, value)
    if cell.data_type == "d" and cell.number_format == "General":
        fmt = Format.DATETIME if isinstance(value, datetime) else Format.DATE
        cell.number_format = NUMBER_FORMATS[fmt]


_SHEET_XML = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_DRAWING_XML = re.compile(r"^xl/drawings/[^/]+\.xml$")
_FOLDERS = {
    "xl/slicers/": "slicers",
    "xl/slicerCaches/": "slicer caches",
    "xl/timelines/": "timelines",
    "xl/pivotCache/": "pivot tables (pivot caches)",
    "xl/ctrlProps/": "form controls",
    "xl/activeX/": "ActiveX controls",
    "xl/embeddings/": "embedded objects",
    "xl/threadedComments/": "threaded comments",
    "xl/diagrams/": "SmartArt diagrams",
}
_SHEET_MARKERS = {
    b"x14:dataValidation": "newer data validation extensions (x14)",
    b"x14:conditionalFormatting": "newer conditional formatting extensions (x14)",
    b"x14:sparklineGroup": "sparklines",
}
_DRAWING_MARKERS = {
    re.compile(rb"<(?:\w+:)?sp[\s>]"): "shapes or text boxes",
    re.compile(rb"<(?:\w+:)?cxnSp[\s>]"): "connector shapes",
    re.compile(rb"AlternateContent"): "controls or newer drawing objects",
}


def rewrite_blockers(path: Path) -> list[str]:
    """Names of the parts of an xlsx that openpyxl does not keep when it saves the workbook."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SinkError(f"{path}: not a readable xlsx workbook ({exc})") from None
    found: list[str] = []
    with archive:
        names = archive.namelist()
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            found.append("VBA macros")
        for folder, label in _FOLDERS.items():
            if any(name.startswith(folder) for name in names):
                found.append(label)
        for name in names:
            if _SHEET_XML.match(name):
                data = archive.read(name)
                found.extend(f"{label} in {name}" for marker, label in _SHEET_MARKERS.items() if marker in data)
            elif _DRAWING_XML.match(name):
                data = archive.read(name)
                found.extend(f"{label} in {name}" for marker, label in _DRAWING_MARKERS.items() if marker.search(data))
    return found
