"""The sink-neutral tab model: what a report produces and what every sink renders.

A `Tab` is a header block (title and key/value lines), a header row of `Column`s, data rows of typed
Python values, an optional totals row and conditional rules. The xlsx writer and the Google Sheets
writer render the same `Tab` so that a report looks the same in both.

Cell values in `Tab.rows` are already typed: `int`, `Decimal`, `date`, `datetime` (naive, in the
report's time zone), `bool`, `str`, `Link`, `Formula` or `None`. A `str` is always written as text, never
as a formula, whatever it starts with; only a `Formula` (sheetsync's own, never API data) is a formula.

Sheet layout (both sinks follow it, 1-based rows):
  row 1                       title (bold, larger)
  rows 2 .. 1+len(info)       header block: "label" in column A, value in column B
  one blank row
  header_row                  column headers (bold, frozen, filter)
  header_row+1 ..             data rows
  last                        totals row when any column has `total`
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Format(StrEnum):
    """How a column's values are shown. Sinks map each to a number format."""

    TEXT = "text"
    INTEGER = "integer"  # #,##0
    DECIMAL = "decimal"  # #,##0.00
    CURRENCY = "currency"  # accounting: $ 1,234.56 / $ (56.67) / $ - ; money is rounded to cents before writing
    PERCENT = "percent"  # 0.0%  (0.25 shows as 25.0%)
    DATE = "date"  # yyyy-mm-dd
    DATETIME = "datetime"  # yyyy-mm-dd hh:mm
    ID = "id"  # 0 ; an identifier: a number without thousands separators


ACCOUNTING = '_("$"* #,##0.00_);_("$"* (#,##0.00);_("$"* "-"??_);_(@_)'
"""Money on every report: the accounting format (Excel's and Google Sheets' own), negatives in parentheses."""


class Negatives(StrEnum):
    """How negative money (credits) is shown: in parentheses (the accounting default) or with a minus
    sign, in the text colour or in red."""

    PARENTHESES = "parentheses"  # $ (56.67)
    RED = "red"  # $ (56.67) in red
    MINUS = "minus"  # $ -56.67
    RED_MINUS = "red-minus"  # $ -56.67 in red


_NEGATIVE_SECTIONS = {
    Negatives.PARENTHESES: '_("$"* (#,##0.00)',
    Negatives.RED: '[Red]_("$"* (#,##0.00)',
    Negatives.MINUS: '_("$"* -#,##0.00_)',
    Negatives.RED_MINUS: '[Red]_("$"* -#,##0.00_)',
}


def money_format(negatives: Negatives = Negatives.PARENTHESES) -> str:
    """The accounting format with negatives shown as `negatives` says (Excel's and Google Sheets' syntax)."""
    return f'_("$"* #,##0.00_);{_NEGATIVE_SECTIONS[negatives]};_("$"* "-"??_);_(@_)'


def number_format(fmt: Format, negatives: Negatives = Negatives.PARENTHESES) -> str:
    """The number format of a column of format `fmt`; money follows `negatives`."""
    return money_format(negatives) if fmt is Format.CURRENCY else NUMBER_FORMATS[fmt]


NUMBER_FORMATS: dict[Format, str] = {
    Format.TEXT: "@",
    Format.INTEGER: "#,##0",
    Format.DECIMAL: "#,##0.00",
    Format.CURRENCY: ACCOUNTING,
    Format.PERCENT: "0.0%",
    Format.DATE: "yyyy-mm-dd",
    Format.DATETIME: "yyyy-mm-dd hh:mm",
    Format.ID: "0",
}

# The format of a column that gives none, from its field's documented type (registry.field_type).
FORMAT_OF_TYPE: dict[str, Format] = {
    "money": Format.CURRENCY,
    "quantity": Format.DECIMAL,
    "count": Format.INTEGER,
    "id": Format.ID,
    "date": Format.DATE,
    "datetime": Format.DATETIME,
    "bool": Format.TEXT,
    "text": Format.TEXT,
}
NUMERIC_FORMATS = frozenset({Format.INTEGER, Format.DECIMAL, Format.CURRENCY, Format.PERCENT, Format.ID})


def text_after_number(formats: list[Format]) -> list[bool]:
    """Which columns hold text right of a number column: every sink indents them, so a right-aligned
    number never touches left-aligned text ("115 1g", never "1151g")."""
    return [
        index > 0 and fmt not in NUMERIC_FORMATS and formats[index - 1] in NUMERIC_FORMATS
        for index, fmt in enumerate(formats)
    ]


class Total(StrEnum):
    """What the totals row shows under a column: a live formula over the visible data rows."""

    SUM = "sum"  # SUBTOTAL(109, range)
    COUNT = "count"  # SUBTOTAL(103, range)
    AVERAGE = "average"  # SUBTOTAL(101, range)
    LABEL = "label"  # the text "Total"


SUBTOTAL_FUNCTIONS: dict[Total, int] = {Total.SUM: 109, Total.COUNT: 103, Total.AVERAGE: 101}


@dataclass(frozen=True)
class Link:
    """A clickable cell: shows `text`, opens `url`."""

    url: str
    text: str


@dataclass(frozen=True)
class Formula:
    """A cell the spreadsheet computes: `text` is one of sheetsync's own formulas ("=VLOOKUP(...)"),
    written as `formulaValue` in Google Sheets and as a formula cell in xlsx. Never built from API data."""

    text: str


@dataclass(frozen=True)
class Column:
    header: str
    format: Format = Format.TEXT
    width: float | None = None  # in characters; None lets the sink pick from the content
    total: Total | None = None


@dataclass(frozen=True)
class Style:
    """A highlight: fill colour and font, as #RRGGBB."""

    fill: str | None = "#FFF2CC"
    font_color: str | None = None
    bold: bool = False


@dataclass(frozen=True)
class ConditionalRule:
    """Highlight cells of data rows where `when` column compares true against `value`.

    `columns` lists the headers to colour; empty means the whole data row. Operators: "<", "<=",
    ">", ">=", "==", "!=", "blank", "not_blank", "true" (the `when` cell is TRUE). Sinks render it
    as a formula rule (`=$H8<10` in xlsx, CUSTOM_FORMULA in Google Sheets), so it follows edits.
    """

    when: str
    op: str
    value: Decimal | int | str | None = None
    columns: tuple[str, ...] = ()
    style: Style = field(default_factory=Style)


@dataclass(frozen=True)
class Chart:
    """A clustered bar chart of the totals row over `columns` (e.g. the aging buckets)."""

    title: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Validation:
    """Data validation on the data cells of one column.

    kind "list": a dropdown of the data cells of column `source[1]` in tab `source[0]`.
    kind "growing_list": the same, over the whole column below its header (xlsx: the filled cells of its
    first GROWING_LIST_ROWS), so a longer list written there later (a refreshed SKU list) is offered in full.
    kind "positive_decimal": a number greater than 0 (money: at most two decimals by convention).
    kind "positive_whole": a whole number greater than 0 (quantities).
    kind "one_of": one of `values` (a short fixed list, e.g. US state codes).
    kind "us_zip": a US ZIP code as text, 12345 or 12345-6789.
    """

    column: str
    kind: str
    source: tuple[str, str] | None = None
    message: str = ""
    values: tuple[str, ...] = ()


GROWING_LIST_ROWS = 5_000  # the source rows a "growing_list" validation covers


@dataclass(frozen=True)
class Company:
    """Who sends customer documents (sheetsync.toml `[company]`): the letterhead, remit-to address,
    terms and payment instructions of a statement. Multi-line values are tuples of lines."""

    name: str
    address: tuple[str, ...] = ()
    remit_to: tuple[str, ...] = ()  # where payments go; the address when empty
    phone: str = ""
    email: str = ""
    logo: str | None = None  # a PNG or JPEG file; None keeps the template's logo
    terms: str = ""
    payment_instructions: tuple[str, ...] = ()


InfoValue = str | date | Decimal  # a header-block value: text, a calendar date or money (typed cells in every sink)


@dataclass
class Statement:
    """A customer-facing document page around a tab's rows (the AR statement): the sender's
    letterhead and remit-to block, the customer block, named facts (statement date, account, terms),
    an aging band of labelled amounts, the amount due, and the payment instructions under the total.
    Run metadata never appears on it (see `Workbook.about`)."""

    company: Company | None
    customer: list[str]  # name, account, address lines
    facts: list[tuple[str, str | date]]  # ("Statement date", date(2026, 3, 1)), ("Terms", "Net 30") ...
    band: list[tuple[str, Decimal]]  # ("Current", 10.00), ("1-30", ...), ... ("Credits", -5.00)
    amount_due: Decimal | None
    title: str = "Statement"


@dataclass
class Tab:
    """One formatted sheet. `key` is stable across runs (it names a managed Google Sheets tab)."""

    name: str  # at most 31 characters, no []:*?/\ ; unique within its workbook
    key: str
    title: str
    columns: list[Column]
    rows: Sequence[Sequence[Any]]
    info: Sequence[tuple[str, InfoValue]] = field(default_factory=list)  # header block: (label, value)
    rules: list[ConditionalRule] = field(default_factory=list)
    validations: list[Validation] = field(default_factory=list)
    chart: Chart | None = None
    freeze_header: bool = True
    autofilter: bool = True
    template: str | None = None  # a workbook name in templates/, xlsx only
    note: str | None = None  # refresh time and parameters, shown as a cell note on the title
    statement: Statement | None = None  # a customer-facing page (xlsx): see Statement
    row_key: tuple[str, ...] = ()  # headers whose values identify a row: columns users add follow it
    stamps: tuple[str, ...] = ()  # info labels holding run times, left out of the content hash
    negatives: Negatives = Negatives.PARENTHESES  # how its negative money is shown

    @property
    def header_row(self) -> int:
        """1-based row number of the column headers."""
        return 1 + len(self.info) + 2

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def has_totals(self) -> bool:
        return any(c.total is not None for c in self.columns)

    @property
    def totals_row(self) -> int | None:
        return self.first_data_row + len(self.rows) if self.has_totals else None

    def column_index(self, header: str) -> int:
        """0-based index of the column with this header."""
        for i, column in enumerate(self.columns):
            if column.header == header:
                return i
        raise KeyError(header)


@dataclass(frozen=True)
class RunWarning:
    """Something a person should know about a run that still wrote its output.

    `code` is stable, for a scheduler to decide what to alert on ("id-not-returned", "no-rows",
    "text-truncated", "number-as-text", ...); `message` is one line for a person; `subject` names what
    it is about (an ID, a column, a tab), or None."""

    code: str
    message: str
    subject: str | None = None

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "subject": self.subject}

    @classmethod
    def of(cls, value: RunWarning | str) -> RunWarning:
        """A warning given as plain text (older code paths) becomes code "data"."""
        return value if isinstance(value, RunWarning) else cls("data", str(value))


@dataclass
class Workbook:
    """A set of tabs written together: one xlsx file, or the managed tabs of one spreadsheet.

    `name` is the file stem for xlsx output ("price-list", or "ar-aging-Kettles-12" when bursting).
    """

    name: str
    tabs: list[Tab]
    about: list[tuple[str, str]] = field(default_factory=list)  # run metadata: document properties, "About" sheet
    # key prefixes of split tabs that gave no tab this run ("ar-aging/statement-"): an empty result, so a
    # sink keeps its earlier tabs of them as they were instead of deleting them
    kept_keys: tuple[str, ...] = ()


CellValue = str | int | Decimal | date | datetime | bool | Link | None
