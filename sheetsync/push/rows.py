"""Allocation rows read from a sheet: typed exactly, every problem named by row and cell.

Headers are matched by name (case and surrounding spaces ignored), so column order does not matter and
extra columns are left alone. A row whose PaymentInvoiceNum, TargetInvoiceNum and Amount are all empty is
not an allocation (a blank line, or a template line not filled in) and is skipped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sheetsync.push.cells import money, whole
from sheetsync.push.sheet_rows import canonical, is_empty, number, text
from sheetsync.sinks.base import SheetRow, SheetSource

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


def parse_row(row: SheetRow) -> Allocation | None:
    values, cells, merged = canonical(row, KNOWN)
    if all(is_empty(values.get(name)) for name in (PAYMENT, TARGET, AMOUNT)):
        return None
    a = Allocation(row.row_number, cells, hidden=row.hidden)
    if ALLOCATION_ID not in merged:
        a.allocation_id = text(a, values, ALLOCATION_ID, required=False)
    for header, span in merged.items():
        if header in REQUIRED or header == ALLOCATION_ID:
            a.problems.append(
                f"{a.cell(header)}: {header} is inside the merged cell {span}, which holds one value for "
                "several rows; unmerge it and fill each row"
            )
    if a.problems:
        return a
    a.payment = text(a, values, PAYMENT, required=True)
    a.target = text(a, values, TARGET, required=True)
    a.ar_account = number(a, values, ACCOUNT, whole, required=True)
    a.amount = number(a, values, AMOUNT, money, required=True)
    a.request_id = number(a, values, REQUEST_ID, whole, required=False)
    status = values.get(STATUS)
    a.status = str(status).strip() if isinstance(status, (str, int)) else ""
    a.repeat = str(values.get(REPEAT) or "").strip().casefold() in YES
    return a


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
