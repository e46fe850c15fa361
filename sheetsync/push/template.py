"""The allocation worksheet: an AR account's payments and open invoices, and a table to allocate them.

The Allocations tab comes first so that `payments push` finds it by default. Each line has a stable
AllocationID (account, the template's creation time and a random part, line number), so the ledger can
tell a line posted before from a new one even across copies of the workbook. `refresh_lists` rewrites only
the Payments and Open invoices tabs of an existing worksheet, so running `payments template` again on a
filled worksheet refreshes the balances without touching a single allocation line.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from sheetsync.errors import PushError, SinkError
from sheetsync.model import Column, Format, Tab, Validation, Workbook
from sheetsync.push.rows import (
    ACCOUNT,
    ALLOCATION_ID,
    AMOUNT,
    MESSAGE,
    PAYMENT,
    REQUEST_ID,
    STATUS,
    TARGET,
    UPDATED,
)
from sheetsync.sinks.base import SheetSource

ALLOCATIONS_TAB, PAYMENTS_TAB, INVOICES_TAB = "Allocations", "Payments", "Open invoices"


def instructions(where: str) -> list[tuple[str, str]]:
    return [
        ("How to", "One line per allocation: choose a payment and an open invoice, type the amount."),
        ("Amounts", "Greater than 0, at most two decimals; a payment's lines may not exceed its available balance."),
        ("Check", f"sheetsync payments push {where}  (shows the plan; nothing is sent)"),
        ("Send", f"sheetsync payments push {where} --apply  (each line is requested once, outcomes appear here)"),
        ("Follow", f"sheetsync payments status {where}  (Pending, Exported, Confirmed or Rejected)"),
        ("Do not", "edit AllocationID, Status or RequestID; to re-post a Rejected line, clear its RequestID"),
    ]


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value not in (None, "") else None


def _day(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    return value


def allocation_ids(ar_account: int, count: int, now: datetime | None = None) -> list[str]:
    """IDs unique across templates: the account, the creation time and a random part (two templates made
    in the same second never share one), then the line number."""
    stamp = f"{now or datetime.now():%y%m%d%H%M%S}"
    batch = secrets.token_hex(3)
    return [f"{ar_account}-{stamp}{batch}-{n:04d}" for n in range(1, count + 1)]


def build_template(
    ar_account: int,
    payments: list[dict],
    invoices: list[dict],
    *,
    lines: int | None = None,
    now: datetime | None = None,
    where: str = "FILE",
) -> Workbook:
    """The workbook for one AR account from its payments and open invoices."""
    usable = [
        p for p in payments if (_money(p.get("AvailableBalance")) or 0) > 0 and p.get("ARAccountID") == ar_account
    ]
    open_ = [i for i in invoices if (_money(i.get("OpenBalance")) or 0) > 0 and i.get("ARAccountID") == ar_account]
    count = lines or max(20, len(open_))
    return Workbook(
        f"allocations-{ar_account}",
        [
            _allocations_tab(ar_account, allocation_ids(ar_account, count, now), where),
            _payments_tab(ar_account, usable),
            _invoices_tab(ar_account, open_),
        ],
    )


def _allocations_tab(ar_account: int, ids: list[str], where: str) -> Tab:
    columns = [
        Column(ALLOCATION_ID, Format.TEXT, 24),
        Column(ACCOUNT, Format.INTEGER, 12),
        Column(PAYMENT, Format.TEXT, 18),
        Column(TARGET, Format.TEXT, 18),
        Column(AMOUNT, Format.DECIMAL, 14),
        Column(STATUS, Format.TEXT, 12),
        Column(REQUEST_ID, Format.INTEGER, 10),
        Column(MESSAGE, Format.TEXT, 50),
        Column(UPDATED, Format.DATETIME, 17),
    ]
    rows = [[ident, ar_account, None, None, None, None, None, None, None] for ident in ids]
    return Tab(
        name=ALLOCATIONS_TAB,
        key="allocations",
        title=f"Payment allocations, AR account {ar_account}",
        columns=columns,
        rows=rows,
        info=instructions(where),
        validations=[
            Validation(PAYMENT, "growing_list", (PAYMENTS_TAB, PAYMENT), "Choose a payment from the Payments tab"),
            Validation(
                TARGET, "growing_list", (INVOICES_TAB, "InvoiceNum"), "Choose an invoice from the Open invoices tab"
            ),
            Validation(AMOUNT, "positive_decimal", None, "An amount greater than 0, at most two decimals"),
        ],
    )


def _payments_tab(ar_account: int, payments: list[dict]) -> Tab:
    columns = [
        Column(PAYMENT, Format.TEXT, 18),
        Column("PaymentTypeName", Format.TEXT, 14),
        Column("PostDate", Format.DATE, 12),
        Column(AMOUNT, Format.CURRENCY, 14),
        Column("AvailableBalance", Format.CURRENCY, 16),
    ]
    rows = [
        [
            str(p.get(PAYMENT)),
            p.get("PaymentTypeName"),
            _day(p.get("PostDate")),
            _money(p.get(AMOUNT)),
            _money(p.get("AvailableBalance")),
        ]
        for p in payments
    ]
    return Tab(
        name=PAYMENTS_TAB,
        key="payments",
        title=f"Payments with an available balance, AR account {ar_account}",
        columns=columns,
        rows=rows,
        info=[("Available", "amount less confirmed applications and pending requests")],
    )


def _invoices_tab(ar_account: int, invoices: list[dict]) -> Tab:
    columns = [
        Column("InvoiceNum", Format.TEXT, 18),
        Column("Date", Format.DATE, 12),
        Column("DueDate", Format.DATE, 12),
        Column("PONum", Format.TEXT, 14),
        Column("InvoiceTotal", Format.CURRENCY, 14),
        Column("OpenBalance", Format.CURRENCY, 14),
    ]
    rows = [
        [
            str(i.get("InvoiceNum")),
            _day(i.get("Date")),
            _day(i.get("DueDate")),
            i.get("PONum"),
            _money(i.get("InvoiceTotal")),
            _money(i.get("OpenBalance")),
        ]
        for i in invoices
    ]
    return Tab(
        name=INVOICES_TAB,
        key="open-invoices",
        title=f"Open invoices, AR account {ar_account}",
        columns=columns,
        rows=rows,
        info=[("Open", "pending requests are not yet deducted")],
    )


def fetch_template(client: Any, ar_account: int, *, where: str = "FILE", lines: int | None = None) -> Workbook:
    """Two listings: the account's payments and its open invoices."""
    payments = client.get_all("payments", {"ARAccountIDs": [ar_account]})
    invoices = client.get_all("payments/openInvoices", {"ARAccountIDs": [ar_account]})
    if not payments and not invoices:
        raise PushError(
            f"AR account {ar_account} has no payments and no open invoices visible to this key; "
            "check the account ID (ARAccountID, not CustomerID)"
        )
    return build_template(ar_account, payments, invoices, where=where, lines=lines)


def is_allocation_sheet(source: SheetSource) -> bool:
    """Whether `source` already holds an allocation worksheet (its three tabs) to refresh in place."""
    names = source.tab_names()
    return all(name in names for name in (ALLOCATIONS_TAB, PAYMENTS_TAB, INVOICES_TAB))


def worksheet_account(source: SheetSource) -> int | None:
    """The AR account the Allocations lines of an existing worksheet belong to (None when none is filled)."""
    rows = source.read_rows(ALLOCATIONS_TAB, required=(ALLOCATION_ID, ACCOUNT), columns=(ALLOCATION_ID, ACCOUNT))
    accounts = {str(r.values.get(ACCOUNT)).strip() for r in rows if r.values.get(ACCOUNT) not in (None, "")}
    return int(Decimal(accounts.pop())) if len(accounts) == 1 and _is_number(next(iter(accounts))) else None


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def refresh_lists(source: SheetSource, workbook: Workbook, where: str) -> tuple[int, int]:
    """Rewrite the cells of the Payments and Open invoices tabs of an existing worksheet with the tabs of a
    freshly built `workbook` (rows no longer needed are cleared) and nothing else: the Allocations lines,
    their AllocationIDs and outcomes, the user's other tabs and columns stay. Refuses (SinkError, nothing
    written) a worksheet of another AR account. Returns (payments, open invoices) written."""
    allocations, payments, invoices = workbook.tabs
    account = allocations.rows[0][1] if allocations.rows else None
    held = worksheet_account(source)
    if held is not None and held != account:
        raise SinkError(
            f"{where} is the worksheet of AR account {held}, not {account}: nothing was written; "
            f"run `payments template --ar-account {held}` to refresh it, or choose another -o for {account}"
        )
    for tab in (payments, invoices):
        headers = tuple(column.header for column in tab.columns)
        old = source.read_rows(tab.name, required=headers[:1], columns=headers)
        first = min((r.row_number for r in old), default=tab.first_data_row)
        last = max((r.row_number for r in old), default=first - 1)
        updates = {first + i: dict(zip(headers, row, strict=True)) for i, row in enumerate(tab.rows)}
        updates.update({n: dict.fromkeys(headers) for n in range(first + len(tab.rows), last + 1)})
        source.write_back(tab.name, updates, recalculate=True)  # the dropdowns read these cells
    return len(payments.rows), len(invoices.rows)
