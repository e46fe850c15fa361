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


def test_google_sheet_hidden_filtered_merged_and_duplicate_headers(sheet, store_location) -> None:
    from sheetsync.errors import SinkError
    from sheetsync.push.plan import HIDDEN, REJECTED

    sandbox, client, source = sheet
    book = source.client  # the double behind the source serves both the edits and the reads
    sheet_id = 0
    book.update(
        [
            {
                "updateDimensionProperties": {
                    "range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 1, "endIndex": 2},
                    "properties": {"hiddenByUser": True},
                    "fields": "hiddenByUser",
                }
            },
            {
                "mergeCells": {
                    "range": {
                        "sheetId": sheet_id,
                        "startRowIndex": 2,
                        "endRowIndex": 4,
                        "startColumnIndex": 4,
                        "endColumnIndex": 5,
                    },
                    "mergeType": "MERGE_ALL",
                }
            },
        ]
    )
    source._grids.clear()
    target = SheetTarget(source, "Allocations", f"gsheet://{SHEET_ID}#Allocations", row_by_row=True)
    ledger = Ledger.open(store_location)
    plan = push_allocations(client, target, ledger, apply=False)
    decisions = {d.row.allocation_id: d for d in plan.plan.decisions}
    assert decisions["G-1"].action == HIDDEN and decisions["G-1"].row.hidden == "hidden"
    assert decisions["G-3"].action == REJECTED
    assert decisions["G-3"].reasons[0].startswith("E4: Amount is inside the merged cell E3:E4")

    book.update(
        [
            {
                "updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 6},
                    "rows": [{"values": [{"userEnteredValue": {"stringValue": "account_id"}}]}],
                    "fields": "userEnteredValue",
                }
            },
            {
                "updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 7},
                    "rows": [{"values": [{"userEnteredValue": {"stringValue": "A R Account ID"}}]}],
                    "fields": "userEnteredValue",
                }
            },
        ]
    )
    source._grids.clear()
    with pytest.raises(SinkError, match=r"header 'A R Account ID' in H1 repeats 'ARAccountID' in B1"):
        push_allocations(client, target, ledger, apply=False)
    assert posts(sandbox) == []
    ledger.close()
