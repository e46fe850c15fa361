"""One worksheet's XML: cell references, typed cell values, and the <row>/<c> elements of a parsed
worksheet part, found or created in document order (shared formulas expanded before a member changes).

Values: str (always text, never a formula), int, float, Decimal, bool, date, datetime, `Formula`, None.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from lxml import etree

from sheetsync.errors import SinkError
from sheetsync.sinks.xlsx_xml import NS, q

if TYPE_CHECKING:
    from sheetsync.sinks.xlsx_package import XlsxPackage

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})$")
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037\ufffe\uffff]")
EXCEL_EPOCH = datetime(1899, 12, 30)
MAX_CELL_TEXT = 32767
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384


@dataclass(frozen=True)
class Formula:
    """A formula to store in a cell, e.g. Formula("SUM(B2:B9)") (a leading "=" is optional)."""

    text: str


def column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index


def column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def split_ref(ref: str) -> tuple[int, int]:
    """ "H7" -> (7, 8): 1-based row and column. SinkError on anything that is not one cell."""
    match = _REF.match(ref.strip().upper())
    row, column = (int(match.group(2)), column_index(match.group(1))) if match else (0, 0)
    if not (1 <= row <= MAX_ROWS and 1 <= column <= MAX_COLUMNS):
        raise SinkError(f"{ref!r} is not a cell reference like H7")
    return row, column


def excel_serial(value: date | datetime) -> float | int:
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - EXCEL_EPOCH
        return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    return (value - EXCEL_EPOCH.date()).days


def set_cell_value(cell: Any, value: Any) -> None:
    """Store a typed value in a <c> element that has no value yet."""
    if value is None:
        return
    if isinstance(value, Formula):
        etree.SubElement(cell, q("f")).text = value.text.removeprefix("=")
        return
    if isinstance(value, bool):
        cell.set("t", "b")
        etree.SubElement(cell, q("v")).text = "1" if value else "0"
        return
    if isinstance(value, date):
        etree.SubElement(cell, q("v")).text = _number_text(excel_serial(value))
        return
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if isinstance(value, float | Decimal) and not _finite(value):
            raise SinkError(f"cell {cell.get('r')}: {value} is not a number a spreadsheet can hold")
        etree.SubElement(cell, q("v")).text = _number_text(value)
        return
    set_inline_text(cell, str(value))


def set_inline_text(cell: Any, text: str) -> None:
    text = _ILLEGAL.sub("", text)[:MAX_CELL_TEXT]
    cell.set("t", "inlineStr")
    inline = etree.SubElement(cell, q("is"))
    node = etree.SubElement(inline, q("t"))
    node.text = text
    if text != text.strip():
        node.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


def _finite(value: float | Decimal) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else value == value and abs(value) != float("inf")


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text if text not in ("-0",) else "0"
    if isinstance(value, float):
        return repr(value) if value != int(value) or abs(value) >= 1e15 else str(int(value))
    return str(value)


# -- one worksheet's XML ---------------------------------------------------------------------------

WORKBOOK_ORDER = [
    "fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets", "functionGroups",
    "externalReferences", "definedNames", "calcPr", "oleSize", "customWorkbookViews", "pivotCaches",
    "smartTagPr", "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst",
]  # fmt: skip


class WorksheetXml:
    """Cells of one parsed worksheet part, found or created in document order."""

    def __init__(self, root: Any) -> None:
        self.root = root
        data = root.find(q("sheetData"))
        if data is None:
            raise SinkError("a worksheet without sheetData")
        self.data = data
        self._index: dict[int, Any] | None = None
        self._numbers: list[int] = []

    def rows(self) -> Iterator[tuple[int, Any]]:
        last = 0
        for row in self.data.iterfind(q("row")):
            last = int(row.get("r") or last + 1)
            yield last, row

    def row(self, number: int) -> Any:
        """The <row> element of a 1-based row number, created in order when missing."""
        if self._index is None:
            self._index = dict(self.rows())
            self._numbers = sorted(self._index)
        found = self._index.get(number)
        if found is not None:
            return found
        position = bisect.bisect(self._numbers, number)
        new = etree.SubElement(self.data, q("row"), r=str(number))
        if position < len(self._numbers):
            self._index[self._numbers[position]].addprevious(new)
        self._numbers.insert(position, number)
        self._index[number] = new
        return new

    def cell(self, row_number: int, column: int) -> Any:
        """The <c> element at (row, column), created in column order when missing."""
        row = self.row(row_number)
        row.attrib.pop("spans", None)
        ref = f"{column_letters(column)}{row_number}"
        position = 0
        for cell in row.iterfind(q("c")):
            r = cell.get("r")
            c = split_ref(r)[1] if r else position + 1
            position = c
            if c == column:
                if not r:
                    cell.set("r", ref)
                return cell
            if c > column:
                new = etree.SubElement(row, q("c"), r=ref)
                cell.addprevious(new)
                return new
        new = etree.SubElement(row, q("c"), r=ref)
        if row.get("s") and row.get("customFormat") in ("1", "true"):
            new.set("s", row.get("s"))
        return new

    def include_in_dimension(self, row: int, column: int) -> None:
        dimension = self.root.find(q("dimension"))
        if dimension is None:
            return
        ref = dimension.get("ref", "A1")
        first, _, last = ref.partition(":")
        last = last or first
        try:
            r0, c0 = split_ref(first)
            r1, c1 = split_ref(last)
        except SinkError:
            return
        r0, c0, r1, c1 = min(r0, row), min(c0, column), max(r1, row), max(c1, column)
        dimension.set("ref", f"{column_letters(c0)}{r0}:{column_letters(c1)}{r1}")

    def expand_shared_formula(self, cell: Any) -> None:
        """Before a cell of a shared-formula group changes, give every member its own formula text
        (the group's master holds the only copy of the text)."""
        formula = cell.find(q("f"))
        if formula is None or formula.get("t") != "shared":
            return
        group = formula.get("si")
        expand_shared_group(self, group)


def expand_shared_group(sheet: WorksheetXml, group: str | None) -> None:
    from openpyxl.formula.translate import Translator

    master_text, master_ref = None, None
    members = []
    for _r, row in sheet.rows():
        for cell in row.iterfind(q("c")):
            f = cell.find(q("f"))
            if f is not None and f.get("t") == "shared" and f.get("si") == group:
                members.append((cell, f))
                if f.text:
                    master_text, master_ref = f.text, cell.get("r")
    if master_text is None or master_ref is None:
        return
    for cell, f in members:
        text = f.text or Translator("=" + master_text, origin=master_ref).translate_formula(cell.get("r"))[1:]
        for attribute in ("t", "si", "ref"):
            f.attrib.pop(attribute, None)
        f.text = text


def expand_all_shared(sheet: WorksheetXml) -> None:
    groups = {f.get("si") for f in sheet.data.iter(q("f")) if f.get("t") == "shared"}
    for group in groups:
        expand_shared_group(sheet, group)


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
