"""The one text sanitiser: every string passes it on its way to a sink (xlsx, Google Sheets, CSV).

- Characters no XML file may hold (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+FFFE, U+FFFF and lone
  surrogates) become U+FFFD, so one bad customer name cannot crash a run (openpyxl raises on them).
- Limits are counted in each format's own unit: Excel counts UTF-16 code units (32,767 per cell, 31 per
  sheet name, 255 per header/footer), Google Sheets counts characters (50,000 per cell, 100 per sheet
  name). Longer text is cut, never in the middle of a surrogate pair.
- Sheet names lose the characters Excel forbids (``[]:*?/\\``), their edge quotes, the reserved name
  "History", and stay unique (ignoring case) after they are cut.
- ``csv_cell`` applies the OWASP CSV-injection rule to text a spreadsheet application would run.
- Numbers: spreadsheets hold IEEE doubles, exact to 15 significant digits. A number with more (a 17-digit
  ID, a 22-digit tracking number in a column with a numeric format) is written as its exact digits as
  text, never through a float, and counted per column.

``sanitize_workbook(workbook, limits)`` returns a cleaned copy and one warning per kind of change, with
the count of cells changed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sheetsync.model import Link, RunWarning, Tab, Workbook

XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(\d[\d,]*)?\.?\d+([eE][-+]?\d+)?")
MAX_EXACT_DIGITS = 15  # significant digits a spreadsheet's double keeps exactly


@dataclass(frozen=True)
class TextLimits:
    """What one sink can hold. `utf16`: lengths are UTF-16 code units (Excel), else characters."""

    sink: str
    cell: int
    sheet_name: int
    header_footer: int
    utf16: bool
    reserved_names: tuple[str, ...] = ()


XLSX = TextLimits("xlsx", cell=32_767, sheet_name=31, header_footer=255, utf16=True, reserved_names=("history",))
# "History" is reserved by Excel only; refused in Google Sheets too, so both sinks name a tab alike.
GOOGLE = TextLimits(
    "Google Sheets", cell=50_000, sheet_name=100, header_footer=50_000, utf16=False, reserved_names=("history",)
)


def length(text: str, utf16: bool) -> int:
    """The length of `text` in UTF-16 code units (`utf16`) or in characters."""
    if not utf16:
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def cut(text: str, limit: int, utf16: bool) -> str:
    """`text` cut to at most `limit` units, never splitting a character."""
    if not utf16:
        return text[:limit]
    if len(text) * 2 <= limit:
        return text
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def xml_safe(text: str) -> str:
    """`text` with every character an XML file cannot hold replaced by U+FFFD."""
    return XML_FORBIDDEN.sub(REPLACEMENT, text) if XML_FORBIDDEN.search(text) else text


def clean(text: str, limit: int, utf16: bool) -> str:
    """`text` as a cell can hold it: XML-safe and at most `limit` units."""
    text = xml_safe(text)
    if len(text) * (2 if utf16 else 1) > limit and length(text, utf16) > limit:
        return cut(text, limit, utf16)
    return text


def sheet_name(text: str, limits: TextLimits = XLSX) -> str:
    """A valid sheet name (not yet unique): no []:*?/\\, no edge quotes, not reserved, within the limit."""
    name = SHEET_NAME_FORBIDDEN.sub("_", xml_safe(text)).strip().strip("'").strip() or "Sheet"
    name = cut(name, limits.sheet_name, limits.utf16).strip()
    if name.casefold() in limits.reserved_names:
        name = f"{name} (1)"
    return name or "Sheet"


def unique_sheet_names(names: Iterable[str], limits: TextLimits = XLSX) -> list[str]:
    """Valid names, unique ignoring case (as spreadsheets compare them), each within the limit after
    its " (2)" suffix."""
    used: set[str] = set()
    out = []
    for given in names:
        base = sheet_name(given, limits)
        name, n = base, 2
        while name.casefold() in used:
            suffix = f" ({n})"
            name = cut(base, limits.sheet_name - len(suffix), limits.utf16).rstrip() + suffix
            n += 1
        used.add(name.casefold())
        out.append(name)
    return out


def significant_digits(value: int | Decimal) -> int:
    """Significant digits of an exact number: 12345678901234567 -> 17, Decimal("34604.230000") -> 7."""
    if isinstance(value, Decimal):
        return len(value.normalize().as_tuple().digits) if value.is_finite() else 0
    return len(str(abs(value)).rstrip("0")) or 1


def too_precise(value: Any) -> bool:
    """True for an int or Decimal a spreadsheet would round (more than 15 significant digits)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -(10**15) < value < 10**15 and significant_digits(value) > MAX_EXACT_DIGITS
    if isinstance(value, Decimal):
        return len(value.as_tuple().digits) > MAX_EXACT_DIGITS and significant_digits(value) > MAX_EXACT_DIGITS
    return False


def exact_text(value: int | Decimal) -> str:
    """The digits of an exact number as text (never through a float, never in exponent form)."""
    return str(value) if isinstance(value, int) else format(value, "f")


def csv_cell(text: str) -> str:
    """OWASP CSV-injection rule: text starting with = + - @ tab or CR gets a leading "'"; numbers
    (also negative amounts that arrive as strings, "-31.05") are left as they are."""
    if text.startswith(CSV_TRIGGERS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


# -- whole workbooks ------------------------------------------------------------------------------


@dataclass
class _Counts:
    forbidden: int = 0
    cut: int = 0
    longest: int = 0
    long_numbers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (tab, column) -> cells

    def clean(self, text: str, limit: int, utf16: bool) -> str:
        cleaned = xml_safe(text)
        if cleaned is not text:
            self.forbidden += 1
        if len(cleaned) * (2 if utf16 else 1) > limit:
            size = length(cleaned, utf16)
            if size > limit:
                self.cut += 1
                self.longest = max(self.longest, size)
                cleaned = cut(cleaned, limit, utf16)
        return cleaned


def sanitize_workbook(workbook: Workbook, limits: TextLimits) -> tuple[Workbook, list[RunWarning]]:
    """A copy of `workbook` whose every string fits `limits` (titles, info, headers, cells, links, notes,
    tab names), and a warning per kind of change with the number of cells changed."""
    counts = _Counts()
    tabs = [_sanitize_tab(tab, limits, counts) for tab in workbook.tabs]
    renamed = _rename(tabs, limits)
    return replace(workbook, tabs=tabs), _warnings(workbook.name, limits, counts, renamed)


def _sanitize_tab(tab: Tab, limits: TextLimits, counts: _Counts) -> Tab:
    def text(value: str) -> str:
        return counts.clean(value, limits.cell, limits.utf16)

    return replace(
        tab,
        title=text(tab.title),
        info=[(text(label), text(value) if isinstance(value, str) else value) for label, value in tab.info],
        columns=[replace(c, header=text(c.header)) if isinstance(c.header, str) else c for c in tab.columns],
        rows=_rows(tab, text, limits, counts),
        note=text(tab.note) if tab.note else tab.note,
    )


def _rows(tab: Tab, text: Any, limits: TextLimits, counts: _Counts) -> Sequence[Sequence[Any]]:
    """The rows with cleaned strings and exact long numbers; a row with nothing to change is kept as it is."""
    rows = tab.rows
    out: list[Sequence[Any]] | None = None
    safe = limits.cell // (2 if limits.utf16 else 1)
    headers = [c.header for c in tab.columns]
    for index, row in enumerate(rows):
        if not any(_needs(value, safe) for value in row):
            if out is not None:
                out.append(row)
            continue
        if out is None:
            out = list(rows[:index])
        cleaned = []
        for position, value in enumerate(row):
            if too_precise(value):
                column = headers[position] if position < len(headers) else str(position + 1)
                counts.long_numbers[(tab.name, column)] += 1
                value = exact_text(value)
            cleaned.append(_clean_value(value, text))
        out.append(cleaned)
    return rows if out is None else out


def _needs(value: Any, safe: int) -> bool:
    kind = type(value)
    if kind is str:
        return len(value) > safe or XML_FORBIDDEN.search(value) is not None
    if kind is int or kind is Decimal:
        return too_precise(value)
    if kind is Link:
        return _needs(value.text, safe) or XML_FORBIDDEN.search(value.url) is not None
    return isinstance(value, str | int | Decimal) and not isinstance(value, bool)  # subclasses: checked in full


def _clean_value(value: Any, text: Any) -> Any:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Link):
        return Link(xml_safe(value.url), text(value.text))
    return value


def _rename(tabs: list[Tab], limits: TextLimits) -> list[tuple[str, str]]:
    names = unique_sheet_names([t.name for t in tabs], limits)
    renamed = []
    for tab, name in zip(tabs, names, strict=True):
        if name != tab.name:
            renamed.append((tab.name, name))
            tab.name = name
    return renamed


def _warnings(book: str, limits: TextLimits, counts: _Counts, renamed: list[tuple[str, str]]) -> list[RunWarning]:
    out = []
    if counts.forbidden:
        out.append(
            RunWarning(
                "text-forbidden-characters",
                f"{book}: {counts.forbidden} text value(s) held characters {limits.sink} cannot store "
                "(control characters, U+FFFE/U+FFFF or lone surrogates); they were replaced by U+FFFD",
                book,
            )
        )
    if counts.cut:
        unit = "UTF-16 units" if limits.utf16 else "characters"
        out.append(
            RunWarning(
                "text-truncated",
                f"{book}: {counts.cut} text value(s) were longer than {limits.sink}'s {limits.cell:,} {unit} "
                f"per cell (longest {counts.longest:,}) and were cut",
                book,
            )
        )
    for (tab, column), cells in counts.long_numbers.items():
        out.append(
            RunWarning(
                "number-as-text",
                f"{book}: tab {tab!r}, column {column!r}: {cells} number(s) have more than {MAX_EXACT_DIGITS} "
                f"significant digits, which {limits.sink} would round; written as text with every digit",
                column,
            )
        )
    for old, new in renamed:
        out.append(RunWarning("tab-renamed", f"{book}: tab name {old!r} is shown as {new!r} in {limits.sink}", old))
    return out
