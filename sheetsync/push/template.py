"""The allocation worksheet: an AR account's payments and open invoices, and a table to allocate them.

The Allocations tab comes first so that `payments push` finds it by default. Each line has a stable
AllocationID (account, the template's creation time and a random part, line number), so the ledger can
tell a line posted before from a new one even across copies of the workbook.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from sheetsync.errors import PushError
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
            Validation(PAYMENT, "list", (PAYMENTS_TAB, PAYMENT), "Choose a payment from the Payments tab"),
            Validation(TARGET, "list", (INVOICES_TAB, "InvoiceNum"), "Choose an invoice from the Open invoices tab"),
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
