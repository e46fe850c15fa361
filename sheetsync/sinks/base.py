"""What every sheet source offers the reverse path: typed rows by header name, and write-back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class FormulaWithoutValue:
    """A formula cell that has never been calculated, so it has no value to read."""

    cell: str  # "D7"
    formula: str


@dataclass(frozen=True)
class SheetRow:
    """One non-blank data row. `values` maps header -> typed value (str, int, Decimal, date,
    datetime, bool, None or FormulaWithoutValue); `cells` maps header -> A1 reference."""

    row_number: int  # 1-based, as the spreadsheet shows it
    values: dict[str, Any]
    cells: dict[str, str]


class SheetSource(Protocol):
    """An xlsx workbook or a Google Sheet, read and written by header names."""

    def tab_names(self) -> list[str]: ...

    def read_rows(self, tab: str | None = None, required: Sequence[str] = ()) -> list[SheetRow]:
        """Rows of `tab` (default: the first tab), blank rows skipped. The header row is the first
        row holding every name in `required` (matched ignoring case and surrounding spaces); raises
        SinkError naming the tab and the missing headers when there is none."""
        ...

    def headers(self, tab: str | None = None) -> list[str]: ...

    def write_back(self, tab: str | None, updates: dict[int, dict[str, Any]]) -> None:
        """Set named columns of the given rows (row number -> {header: value}) and nothing else.
        A header that is missing is added as a new column at the end of the header row."""
        ...
