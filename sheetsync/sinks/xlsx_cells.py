"""Cell-level pieces of the xlsx writer: typed value fillers, styles, widths, names and formulas.

The fillers set a cell's value and data type directly (`cell._value`, `cell.data_type`) instead of
going through openpyxl's `Cell.value` setter: that setter turns any string starting with "=" into a
formula, and skipping its type sniffing is also what keeps the writer as fast as plain write-only
mode.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from copy import copy
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from sheetsync.model import ConditionalRule, Format, Formula, Link, Tab, Total, text_after_number
from sheetsync.sinks import text
from sheetsync.sinks.links import safe_link

ILLEGAL_CHARACTERS = text.XML_FORBIDDEN
MAX_CELL_TEXT = text.XLSX.cell  # UTF-16 code units
CENT = Decimal("0.01")


def body_font(**changes: Any) -> Font:
    """The body face (Calibri 11, the workbook's default font) with `changes` (bold, size, colour...).
    Every font names its face and size: an application fills a font without them from its own default
    (LibreOffice: a wider sans), so a bold total sized for Calibri would print as ### there."""
    face: dict[str, Any] = {"name": "Calibri", "family": 2, "size": 11, "scheme": "minor"}
    return Font(**(face | changes))


TITLE_FONT = body_font(bold=True, size=14)
BOLD = body_font(bold=True)
LINK_FONT = body_font(color="0563C1", underline="single")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_BORDER = Border(bottom=Side(style="thin", color="808080"))
TOTALS_BORDER = Border(top=Side(style="thin", color="808080"), bottom=Side(style="double", color="808080"))
WRAP_TOP = Alignment(vertical="top")

MIN_WIDTH = 6.0
HEADER_WRAP_AT = 16  # a longer header wraps onto more lines rather than widening its column
MAX_WIDTH = 60.0
WIDTH_SAMPLE = 1000

Filler = Callable[[Cell, Any], None]
_MISSING_TYPES = ("NaTType", "NAType")  # pandas' missing markers; NaT is also a datetime


def clean_text(value: str) -> str:
    """A string as a cell can hold it (sinks/text.py): XML-safe, at most 32,767 UTF-16 units. The writer's
    last guard: `write_outputs` has already cleaned and counted what it changed."""
    return text.clean(value, text.XLSX.cell, utf16=True)


def set_text(cell: Cell, value: str) -> None:
    """Make `cell` a text cell holding `value`, never a formula, whatever it starts with."""
    cell._value = clean_text(value)
    cell.data_type = "s"


def set_formula(cell: Cell, formula: str) -> None:
    cell._value = formula if formula.startswith("=") else "=" + formula
    cell.data_type = "f"


def make_filler(fmt: Format) -> Filler:
    """A function that stores one typed model value in a cell of a column with format `fmt`."""
    money = fmt is Format.CURRENCY

    def fill(cell: Cell, value: Any) -> None:
        kind = type(value)
        if kind is str:
            if len(value) > MAX_CELL_TEXT // 2 or ILLEGAL_CHARACTERS.search(value):
                value = clean_text(value)
            cell.data_type = "s"
        elif kind is int:
            cell.data_type = "n"
        elif kind is Decimal:
            if money and value.is_finite():
                value = value.quantize(CENT, rounding=ROUND_HALF_UP)
            cell.data_type = "n"
        elif kind is float:
            if money and value == value:
                value = round(value, 2)
            cell.data_type = "n"
        elif kind is date:
            cell.data_type = "d"
        elif kind is datetime:
            if value.tzinfo is not None:
                value = value.replace(tzinfo=None)
            cell.data_type = "d"
        elif kind is bool:
            cell.data_type = "b"
        else:
            fill_other(cell, value, fill)
            return
        cell._value = value

    return fill


def fill_other(cell: Cell, value: Any, fill: Filler) -> None:
    """The rare values: links, sheetsync's own formulas, subclasses (pandas Timestamp, IntEnum), numpy scalars,
    missing markers (None, pandas NaT and NA: an empty cell)."""
    if value is None or type(value).__name__ in _MISSING_TYPES:
        cell._value = None
        cell.data_type = "n"
        return
    if isinstance(value, Formula):
        set_formula(cell, value.text)
        return
    if isinstance(value, Link):
        cell._value = clean_text(value.text)
        cell.data_type = "s"
        url = safe_link(value.url)  # never a link that carries a credential
        if url is not None:
            cell._hyperlink = Hyperlink(ref=cell.coordinate, target=text.xml_safe(url))
        return
    plain_types: tuple[type, ...] = (bool, str, int, Decimal, float, datetime, date)
    for base in plain_types:
        if isinstance(value, base):
            if base is datetime and hasattr(value, "to_pydatetime"):
                value = value.to_pydatetime()
            fill(cell, base(value) if base not in (datetime, date) else value)
            return
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        plain = item()
        if text.too_precise(plain):  # an int64 ID of 16+ digits keeps every digit, as a Python int would
            set_text(cell, text.exact_text(plain))
        else:
            fill(cell, plain)
        return
    set_text(cell, str(value))


def styled_cell(
    ws: Any,
    *,
    number_format: str | None = None,
    font: Font | None = None,
    fill: PatternFill | None = None,
    border: Border | None = None,
    base: Cell | None = None,
) -> Cell:
    """A detached cell carrying a style, used as the prototype of a column's cells."""
    cell = Cell(ws)
    if base is not None and base.has_style:
        cell._style = copy(base._style)
    if number_format is not None:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border
    return cell


def clone(proto: Cell) -> Cell:
    cell = Cell(proto.parent)
    cell._style = copy(proto._style)
    cell.column = proto.column
    return cell


# -- widths ---------------------------------------------------------------------------------------


def display_length(value: Any, fmt: Format) -> int:
    """About how many characters `value` shows as in a column of format `fmt`."""
    if value is None:
        return 0
    if isinstance(value, Link):
        return len(value.text)
    if isinstance(value, str):
        return max((len(line) for line in value.splitlines()), default=0)
    if isinstance(value, bool):
        return 5
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, int | float | Decimal):
        try:
            if fmt is Format.PERCENT:
                return len(f"{float(value) * 100:.1f}%")
            if fmt is Format.INTEGER or (isinstance(value, int) and fmt is not Format.CURRENCY):
                return len(f"{int(value):,}")
            return len(f"{float(value):,.2f}") + (3 if fmt is Format.CURRENCY else 0)  # _("$"* (...)_)
        except (ValueError, OverflowError):
            return 10
    return len(str(value))


def sample_rows(rows: Sequence[Sequence[Any]], size: int = WIDTH_SAMPLE) -> Sequence[Sequence[Any]]:
    """The first rows and an even spread of the rest: enough to size columns without reading all."""
    if len(rows) <= size:
        return rows
    head = size // 2
    step = max(1, (len(rows) - head) // (size - head))
    return [*rows[:head], *rows[head::step]]


def column_widths(tab: Tab) -> list[float]:
    """The width of every column: the given width, or one fitted to the header and sampled values;
    never narrower than the header's longest word (plus the filter button) or a sampled number, so a
    header wraps instead of being cut and a number never shows as ####."""
    sample = sample_rows(tab.rows)
    widths = []
    button = 2 if tab.autofilter else 1  # the filter button covers the header's right end (on screen)
    for index, column in enumerate(tab.columns):
        longest = min(len(column.header) + button, HEADER_WRAP_AT)
        numbers = 0
        for row in sample:
            if index < len(row):
                shown = display_length(row[index], column.format)
                longest = max(longest, shown)
                if not isinstance(row[index], str):
                    numbers = max(numbers, shown)
        if column.total is Total.SUM:
            numbers = max(numbers, display_length(column_sum(tab.rows, index), column.format) + 1)  # bold
        word = max((len(w) for w in column.header.split()), default=0) + button
        width = float(column.width) if column.width is not None else min(MAX_WIDTH, max(MIN_WIDTH, longest + 2.0))
        widths.append(max(width, word + 1.0, numbers + 0.5))
    return widths


def column_sum(rows: Sequence[Sequence[Any]], index: int) -> Decimal:
    """The sum of a column's numbers (what its totals row will show)."""
    total = Decimal(0)
    for row in rows:
        value = row[index] if index < len(row) else None
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            total += value
    return total


def header_lines(tab: Tab, widths: Sequence[float]) -> int:
    """How many lines the header row needs when each header wraps within its column."""
    button = 2 if tab.autofilter else 1
    lines = [len(textwrap.wrap(c.header, max(1, int(w) - button))) for c, w in zip(tab.columns, widths, strict=False)]
    return max(lines, default=1) or 1


NUMERIC_FORMATS = (Format.INTEGER, Format.DECIMAL, Format.CURRENCY, Format.PERCENT)


def header_alignments(tab: Tab) -> list[Alignment]:
    """Headers wrap; over numbers they sit right, as the numbers do; indented like their data."""
    out = []
    for fmt, data in zip([c.format for c in tab.columns], data_alignments(tab), strict=True):
        numeric = fmt in NUMERIC_FORMATS
        indent = data.indent if data is not None else 0
        horizontal = "right" if numeric else "left"
        out.append(Alignment(wrap_text=True, vertical="bottom", horizontal=horizontal, indent=indent))
    return out


def data_alignments(tab: Tab) -> list[Alignment | None]:
    """A text column beside a number column is indented one step, so a right-aligned number never
    touches left-aligned text ("115 1g"). The cell is aligned left explicitly: an indent under the
    default "general" alignment is ignored by LibreOffice ("1151g" on the printed page)."""
    indented = text_after_number([c.format for c in tab.columns])
    return [Alignment(horizontal="left", indent=1) if indent else None for indent in indented]


# -- names and ranges -----------------------------------------------------------------------------


def sheet_titles(names: Sequence[str]) -> list[str]:
    """Valid, unique (ignoring case) sheet names: no []:*?/\\, no edge quotes, at most 31 UTF-16 units."""
    return text.unique_sheet_names(names, text.XLSX)


def quote_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def col(index: int) -> str:
    """Column letter of a 1-based column index."""
    return get_column_letter(index)


def formula_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal | float):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'


_COMPARISONS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "=", "!=": "<>"}


def rule_formula(rule: ConditionalRule, ref: str) -> str:
    """The formula of a conditional rule for the first data row, e.g. `$H8<10` (ref is `$H8`)."""
    if rule.op in _COMPARISONS:
        return f"{ref}{_COMPARISONS[rule.op]}{formula_literal(rule.value)}"
    if rule.op == "blank":
        return f"LEN({ref})=0"
    if rule.op == "not_blank":
        return f"LEN({ref})>0"
    if rule.op == "true":
        return f"{ref}=TRUE"
    raise ValueError(f"unknown conditional rule operator {rule.op!r}")


def hex_colour(value: str | None) -> str | None:
    return value.lstrip("#").upper() if value else None
