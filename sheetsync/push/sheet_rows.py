"""Reading the rows of a reverse-path sheet (payments, Kotis orders): values under their canonical header
names, and each cell typed exactly or refused with a problem naming its cell.

A problem is appended to the row's `problems` as "<cell>: <header> <why>", the cell as the sheet names
it (`row.cell(header)`); numbers are read by `push/cells.py` (`cells.whole`, `cells.money`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sheetsync.push import cells
from sheetsync.sinks.base import FormulaWithoutValue, SheetRow, normalize_header

N = TypeVar("N", int, Decimal)


class ProblemRow(Protocol):
    """A row being read: where its cells are, and what is wrong with it so far."""

    problems: list[str]

    def cell(self, header: str) -> str: ...


def canonical(row: SheetRow, known: Sequence[str]) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Values, cells and merges under the canonical header names of `known` (the sheet's may differ in
    case, spaces or underscores); the first of two columns with one name wins (the reader refuses those)."""
    by_norm = {normalize_header(name): name for name in known}
    out_values: dict[str, Any] = {}
    out_cells: dict[str, str] = {}
    out_merged: dict[str, str] = {}
    for header, value in row.values.items():
        name = by_norm.get(normalize_header(header))
        if name and name not in out_values:
            out_values[name] = value
            if header in row.cells:
                out_cells[name] = row.cells[header]
            if header in row.merged:
                out_merged[name] = row.merged[header]
    return out_values, out_cells, out_merged


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def filled(row: ProblemRow, values: dict[str, Any], header: str, *, required: bool) -> Any:
    """The cell's value, or None after noting why when it is an uncalculated formula or (required) empty."""
    value = values.get(header)
    if isinstance(value, FormulaWithoutValue):
        row.problems.append(
            f"{value.cell}: {header} is a formula ({value.formula}) without a computed value; "
            "open and save the workbook in a spreadsheet program, or type the value"
        )
        return None
    if is_empty(value):
        if required:
            row.problems.append(f"{row.cell(header)}: {header} is empty")
        return None
    return value


def text(row: ProblemRow, values: dict[str, Any], header: str, *, required: bool) -> str | None:
    """The cell as stripped text (a whole number cell as its digits: 1001.0 is "1001"); true/false refused."""
    value = filled(row, values, header, required=required)
    if value is None:
        return None
    if isinstance(value, bool):
        row.problems.append(f"{row.cell(header)}: {header} is {value}, expected text")
        return None
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def number(
    row: ProblemRow, values: dict[str, Any], header: str, read: Callable[[Any], N | cells.Refused], *, required: bool
) -> N | None:
    """The cell read by `read` (`cells.whole`, `cells.money`), or None after noting why."""
    value = filled(row, values, header, required=required)
    if value is None:
        return None
    result = read(value)
    if isinstance(result, cells.Refused):
        row.problems.append(f"{row.cell(header)}: {header} {cells.show(value)} {result.reason}")
        return None
    return result
