"""Payments push to a Google Sheet (the Sheets double) against the sandbox: row-by-row outcomes and claims."""

from __future__ import annotations

from decimal import Decimal

import pytest
from helpers_push import accounts, client_for, posts
from sheets_double import FakeServiceAccountCredentials, SheetsDouble

from sheetsync.errors import ExitCode
from sheetsync.push.ledger import Ledger
from sheetsync.push.payments import SheetTarget, push_allocations
from sheetsync.push.plan import CLAIMED
from sheetsync.sinks.gsheets import GoogleSheetSource

SHEET_ID = "PUSH-SHEET-1"
HEADERS = ["AllocationID", "ARAccountID", "PaymentInvoiceNum", "TargetInvoiceNum", "Amount", "Status"]


def _cell(value):
    if value is None:
        return None
    kind = "numberValue" if isinstance(value, int | float) else "stringValue"
    return {"userEnteredValue": {kind: value}}


@pytest.fixture
def sheet(fresh_sandbox):
    client = client_for(fresh_sandbox)
    a = accounts(client, invoices=2, minimum=Decimal("20"))[0]
    pay = a.payments[0]["PaymentInvoiceNum"]
    rows = [
        HEADERS,
        ["G-1", a.ar, pay, a.invoices[0]["InvoiceNum"], 2.5, None],
        ["G-2", a.ar, pay, a.invoices[1]["InvoiceNum"], 3, "sending 20990101000000-abcdef"],
        ["G-3", a.ar, pay, a.invoices[1]["InvoiceNum"], 1.25, None],
    ]
    double = SheetsDouble()
    double.add_spreadsheet(SHEET_ID, tabs=("Allocations",))
    cells = double.spreadsheets[SHEET_ID].sheet("Allocations").cells
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if _cell(value):
                cells[(r, c)] = _cell(value)
    creds = FakeServiceAccountCredentials()
    source = GoogleSheetSource(SHEET_ID, credentials=creds, session=double.session(creds), sleep=lambda s: None)
    return fresh_sandbox, client, source


def test_google_sheet_push_writes_row_by_row_and_skips_rows_another_run_claimed(sheet, store_location) -> None:
    sandbox, client, source = sheet
    target = SheetTarget(source, "Allocations", f"gsheet://{SHEET_ID}#Allocations", row_by_row=True)
    ledger = Ledger.open(store_location)
    result = push_allocations(client, target, ledger, apply=True)
    assert result.exit_code == ExitCode.PARTIAL  # one row belongs to another push
    assert [d.row.allocation_id for d in result.plan.of(CLAIMED)] == ["G-2"]
    assert len(posts(sandbox)) == 2
    rows = {r.values["AllocationID"]: r.values for r in source.read_rows("Allocations", required=HEADERS[:5])}
    assert rows["G-1"]["Status"] == "Pending" and rows["G-3"]["Status"] == "Pending"
    assert rows["G-2"]["Status"].startswith("sending ")
    assert isinstance(rows["G-1"]["RequestID"], int)

    again = push_allocations(client, target, ledger, apply=True)  # nothing twice
    assert len(posts(sandbox)) == 2
    assert again.plan.of(CLAIMED)
    ledger.close()
