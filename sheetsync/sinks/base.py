"""What every sheet source offers the reverse path: typed rows by header name, and write-back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
    hidden: str = ""  # "" when visible, else why not: "hidden" or "filtered out"
    merged: dict[str, str] = field(default_factory=dict)  # header -> merged range covering an empty cell


def normalize_header(name: Any) -> str:
    """A header as compared everywhere: case, spaces and underscores ignored ("Payment_Invoice Num")."""
    return "".join(str(name).replace("_", " ").split()).casefold() if name is not None else ""


def duplicate_header_error(where: str, read: Sequence[str], headers: dict[str, str]) -> str | None:
    """The message refusing a header that appears twice among the columns a caller reads, naming both
    cells, or None. `headers` maps each header cell (A1) to its text, in sheet order."""
    wanted = {normalize_header(name) for name in read}
    first: dict[str, str] = {}
    for ref, text in headers.items():
        key = normalize_header(text)
        if key not in wanted:
            continue
        if key in first:
            return (
                f"{where}: header {text!r} in {ref} repeats {headers[first[key]]!r} in {first[key]}; "
                "rename or delete one of them (nothing was read or sent)"
            )
        first[key] = ref
    return None


class SheetSource(Protocol):
    """An xlsx workbook or a Google Sheet, read and written by header names."""

    def tab_names(self) -> list[str]: ...

    def read_rows(
        self, tab: str | None = None, required: Sequence[str] = (), columns: Sequence[str] = ()
    ) -> list[SheetRow]:
        """Rows of `tab` (default: the first tab), blank rows skipped, hidden and filtered-out rows marked.
        The header row is the first row holding every name in `required` (matched by `normalize_header`);
        raises SinkError naming the tab and the missing headers when there is none, and naming both
        cells when a header of `required` or `columns` appears twice."""
        ...

    def headers(self, tab: str | None = None) -> list[str]: ...

    def check_writable(self) -> None:
        """Raise SinkError when outcomes could not be written back (called before anything is sent)."""
        ...

    def write_back(self, tab: str | None, updates: dict[int, dict[str, Any]], *, recalculate: bool = False) -> None:
        """Set named columns of the given rows (row number -> {header: value}) and nothing else.
        A header that is missing is added as a new column at the end of the header row. `recalculate`:
        formulas elsewhere read these cells, so a file-based sheet is flagged to recalculate on open."""
        ...
