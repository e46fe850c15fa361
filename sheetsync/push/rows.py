"""Allocation rows read from a sheet: typed exactly, every problem named by row and cell.

Headers are matched by name (case and surrounding spaces ignored), so column order does not matter and
extra columns are left alone. A row whose PaymentInvoiceNum, TargetInvoiceNum and Amount are all empty is
not an allocation (a blank line, or a template line not filled in) and is skipped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sheetsync.push import cells
from sheetsync.sinks.base import FormulaWithoutValue, SheetRow, SheetSource, normalize_header

PAYMENT, TARGET, ACCOUNT, AMOUNT, ALLOCATION_ID = (
    "PaymentInvoiceNum",
    "TargetInvoiceNum",
    "ARAccountID",
    "Amount",
    "AllocationID",
)
STATUS, REQUEST_ID, MESSAGE, UPDATED = "Status", "RequestID", "Message", "Updated"
REPEAT = "Repeat"
REQUIRED = (PAYMENT, TARGET, ACCOUNT, AMOUNT)
KNOWN = (ALLOCATION_ID, *REQUIRED, STATUS, REQUEST_ID, MESSAGE, UPDATED, REPEAT)
YES = frozenset({"yes", "y", "true", "x", "1"})
STATUS_COLUMNS = (STATUS, REQUEST_ID, MESSAGE, UPDATED)


@dataclass
class Allocation:
    """One allocation row. Fields are None when missing or unreadable; `problems` says why."""

    row_number: int
    cells: dict[str, str]
    allocation_id: str | None = None
    ar_account: int | None = None
    payment: str | None = None
    target: str | None = None
    amount: Decimal | None = None
    request_id: int | None = None  # the RequestID already in the sheet
    status: str = ""  # the Status already in the sheet
    problems: list[str] = field(default_factory=list)
    key: str = ""  # the ledger key, set by `keyed`
    hidden: str = ""  # "" when visible, else "hidden" or "filtered out" (SheetRow.hidden)
    repeat: bool = False  # the user marked the row `Repeat: yes`: post it even if it resembles another

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def fingerprint(self) -> tuple[int, str, str, Decimal]:
        assert self.ar_account is not None and self.payment and self.target and self.amount is not None
        return (self.ar_account, self.payment, self.target, self.amount)

    def cell(self, header: str) -> str:
        return self.cells.get(header, f"row {self.row_number}")

    def label(self) -> str:
        ident = f" {self.allocation_id}" if self.allocation_id else ""
        return f"row {self.row_number}{ident}"


def read_allocations(source: SheetSource, tab: str | None) -> list[Allocation]:
    """Read, type and check every allocation row of `tab` (no API involved)."""
    rows = source.read_rows(tab, required=REQUIRED, columns=KNOWN)
    allocations = [a for a in (parse_row(row) for row in rows) if a is not None]
    flag_duplicates(allocations)
    keyed(allocations)
    return allocations


def canonical(row: SheetRow) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Values, cells and merges under the canonical header names (the sheet's may differ in case,
    spaces or underscores)."""
    by_norm = {normalize_header(name): name for name in KNOWN}
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


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_row(row: SheetRow) -> Allocation | None:
    values, cells, merged = canonical(row)
    if all(_empty(values.get(name)) for name in (PAYMENT, TARGET, AMOUNT)):
        return None
    a = Allocation(row.row_number, cells, hidden=row.hidden)
    if ALLOCATION_ID not in merged:
        a.allocation_id = _text(a, values, ALLOCATION_ID, required=False)
    for header, span in merged.items():
        if header in REQUIRED or header == ALLOCATION_ID:
            a.problems.append(
                f"{a.cell(header)}: {header} is inside the merged cell {span}, which holds one value for "
                "several rows; unmerge it and fill each row"
            )
    if a.problems:
        return a
    a.payment = _text(a, values, PAYMENT)
    a.target = _text(a, values, TARGET)
    a.ar_account = _whole(a, values, ACCOUNT, required=True)
    a.amount = _amount(a, values.get(AMOUNT))
    a.request_id = _whole(a, values, REQUEST_ID, required=False)
    status = values.get(STATUS)
    a.status = str(status).strip() if isinstance(status, (str, int)) else ""
    a.repeat = str(values.get(REPEAT) or "").strip().casefold() in YES
    return a


def _formula(a: Allocation, value: Any, header: str) -> bool:
    if isinstance(value, FormulaWithoutValue):
        a.problems.append(
            f"{value.cell}: {header} is a formula ({value.formula}) without a computed value; "
            "open and save the workbook in a spreadsheet program, or type the value"
        )
        return True
    return False


def _filled(a: Allocation, values: dict[str, Any], header: str, *, required: bool) -> Any:
    """The cell's value, or None after noting why when it is an uncalculated formula or (required) empty."""
    value = values.get(header)
    if _formula(a, value, header):
        return None
    if _empty(value):
        if required:
            a.problems.append(f"{a.cell(header)}: {header} is empty")
        return None
    return value


def _text(a: Allocation, values: dict[str, Any], header: str, *, required: bool = True) -> str | None:
    value = _filled(a, values, header, required=required)
    if value is None:
        return None
    if isinstance(value, bool):
        a.problems.append(f"{a.cell(header)}: {header} is {value}, expected text")
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _whole(a: Allocation, values: dict[str, Any], header: str, *, required: bool) -> int | None:
    value = _filled(a, values, header, required=required)
    if value is None:
        return None
    number = cells.whole(value)
    if isinstance(number, cells.Refused):
        a.problems.append(f"{a.cell(header)}: {header} {cells.show(value)} {number.reason}")
        return None
    return number


def _amount(a: Allocation, value: Any) -> Decimal | None:
    if _formula(a, value, AMOUNT):
        return None
    if _empty(value):
        a.problems.append(f"{a.cell(AMOUNT)}: Amount is empty")
        return None
    number = cells.money(value)
    if isinstance(number, cells.Refused):
        a.problems.append(f"{a.cell(AMOUNT)}: Amount {cells.show(value)} {number.reason}")
        return None
    return number


def flag_duplicates(allocations: list[Allocation]) -> None:
    """The same AllocationID on two rows is a mistake (identical rows without IDs are not)."""
    rows_by_id: dict[str, list[Allocation]] = defaultdict(list)
    for a in allocations:
        if a.allocation_id:
            rows_by_id[a.allocation_id].append(a)
    for ident, same in rows_by_id.items():
        if len(same) < 2:
            continue
        for a in same:
            if a.request_id is not None:
                continue  # already requested: the other copies are the mistake
            others = ", ".join(str(o.row_number) for o in same if o is not a)
            a.problems.append(
                f"{a.cell(ALLOCATION_ID)}: AllocationID {ident} is also used in row {others}; "
                "give each allocation its own AllocationID"
            )


def keyed(allocations: list[Allocation]) -> None:
    """Give each row its ledger key: the AllocationID, or a fingerprint with its occurrence count."""
    seen: Counter[tuple[int, str, str, Decimal]] = Counter()
    for a in allocations:
        if a.allocation_id:
            a.key = f"id:{a.allocation_id}"
        elif a.ar_account is not None and a.payment and a.target and a.amount is not None:
            fp = a.fingerprint
            seen[fp] += 1
            a.key = f"fp:{fp[0]}|{fp[1]}|{fp[2]}|{fp[3]}|{seen[fp]}"
