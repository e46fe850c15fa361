"""Helpers for the payments push tests: an account with room to allocate, real xlsx sheets, the POSTs seen."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

from sheetsync.apis.kss import KssClient
from sheetsync.push.ledger import Ledger
from sheetsync.push.payments import PushResult, push_allocations, xlsx_target
from sheetsync.sinks.xlsx_read import XlsxSource

HEADERS = [
    "AllocationID",
    "ARAccountID",
    "PaymentInvoiceNum",
    "TargetInvoiceNum",
    "Amount",
    "Status",
    "RequestID",
    "Message",
    "Updated",
]


@dataclass
class Account:
    ar: int
    payments: list[dict]  # with AvailableBalance > 0, largest first
    invoices: list[dict]  # open, positive balance, largest first


def client_for(sandbox: Any, key: str = "employee") -> KssClient:
    return KssClient(sandbox.info.kss, sandbox.info.keys[key], key_type=key, sleep=lambda s: None, max_retries=0)


def accounts(
    client: KssClient, *, payments: int = 1, invoices: int = 2, minimum: Decimal = Decimal("50")
) -> list[Account]:
    """AR accounts with enough payments and open invoices that pending requests do not already cover."""
    pays = client.get_all("payments")
    invs = client.get_all("payments/openInvoices")
    pending: dict[str, Decimal] = {}
    for r in client.payment_requests(None, ["Pending", "Exported"]):
        pending[r["TargetInvoiceNum"]] = pending.get(r["TargetInvoiceNum"], Decimal(0)) + r["Amount"]
    found = []
    for ar in sorted({p["ARAccountID"] for p in pays}):
        p = sorted(
            (x for x in pays if x["ARAccountID"] == ar and x["AvailableBalance"] >= minimum),
            key=lambda x: -x["AvailableBalance"],
        )
        i = sorted(
            (
                x
                for x in invs
                if x["ARAccountID"] == ar and x["OpenBalance"] - pending.get(x["InvoiceNum"], 0) >= minimum
            ),
            key=lambda x: -x["OpenBalance"],
        )
        if len(p) >= payments and len(i) >= invoices:
            found.append(Account(ar, p, i))
    return found


def write_sheet(path: Path, rows: list[list[Any]], headers: list[str] = HEADERS, *, title: str | None = None) -> Path:
    """A real xlsx: an optional title row, then the header row, then the rows as given."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Allocations"
    if title:
        ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def sheet_rows(path: Path, tab: str = "Allocations") -> dict[int, dict[str, Any]]:
    """row number -> {header: value} of the data rows, as a person would see them."""
    ws = openpyxl.load_workbook(path)[tab]
    header_row = next(
        r
        for r in range(1, 30)
        if ws.cell(r, 1).value == "AllocationID" or "PaymentInvoiceNum" in [c.value for c in ws[r]]
    )
    headers = [c.value for c in ws[header_row]]
    out = {}
    for r in range(header_row + 1, ws.max_row + 1):
        values = {h: ws.cell(r, i + 1).value for i, h in enumerate(headers) if h}
        if any(v is not None for v in values.values()):
            out[r] = values
    return out


def posts(sandbox: Any) -> list[dict]:
    return [e for e in sandbox.requests_log() if e["method"] == "POST"]


def push(client: KssClient, path: Path, ledger_path: Path, *, apply: bool = True, **kw: Any) -> PushResult:
    ledger = Ledger.open(ledger_path)
    try:
        target = xlsx_target(XlsxSource(path), path, "Allocations")
        return push_allocations(client, target, ledger, apply=apply, **kw)
    finally:
        ledger.close()


def requests_for(client: KssClient, ar: int) -> list[tuple[str, str, Decimal]]:
    return sorted((r["PaymentInvoiceNum"], r["TargetInvoiceNum"], r["Amount"]) for r in client.payment_requests([ar]))


def refresh(client: KssClient, path: Path, ledger_path: Path) -> Any:
    from sheetsync.push.payments import refresh_status

    ledger = Ledger.open(ledger_path)
    try:
        return refresh_status(client, xlsx_target(XlsxSource(path), path, "Allocations"), ledger)
    finally:
        ledger.close()
