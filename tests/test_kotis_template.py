"""The Kotis order template, filled and pushed: an xlsx through the command line, a Google Sheet (the double)."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner
from helpers_kotis_push import creates, kotis_client, read_sheet, stocked
from sheets_double import FakeServiceAccountCredentials, SheetsDouble

from sheetsync.cli import cli
from sheetsync.errors import ExitCode
from sheetsync.push.kotis import CREATE, push_orders
from sheetsync.push.kotis_follow import refresh_order_status
from sheetsync.push.kotis_ledger import KotisLedger
from sheetsync.push.kotis_template import build_order_template
from sheetsync.push.target import SheetTarget
from sheetsync.sinks.gsheets import GoogleSheetSource, write_workbooks

SHEET_ID = "KOTIS-ORDERS-1"
ANN = {"Email": "a@example.com", "Name": "Ann", "Address1": "1 Main St", "City": "Seattle", "State": "WA"}
BO = {"Email": "b@example.com", "Name": "Bo", "Address1": "2 Elm Rd", "City": "Boston", "State": "MA"}
FILLED = [
    {"OrderRef": "T-1", "Quantity": 2, **ANN, "Zip": "98102"},
    {"OrderRef": "T-1", "Quantity": 1, **ANN, "Zip": "98102"},
    {"OrderRef": "T-2", "Quantity": 1, **BO, "Zip": "02134"},
]


@pytest.fixture
def served(fresh_sandbox, monkeypatch):
    info = fresh_sandbox.info
    monkeypatch.setenv("KOTIS_BASE_URL", info.kotis)
    monkeypatch.setenv("KOTIS_STORES_BASE_URL", info.kotis_stores)
    monkeypatch.setenv("KOTIS_API_KEY", info.keys["kotis"])
    return fresh_sandbox


def test_xlsx_template_fill_plan_apply_status(served, tmp_path, store_location) -> None:
    out = tmp_path / "orders.xlsx"
    made = CliRunner().invoke(cli, ["kotis", "template", "-o", str(out), "--lines", "10"])
    assert made.exit_code == 0, made.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Orders", "Instructions", "SKUs"]
    ws = book["Orders"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "OrderRef")
    headers = [c.value for c in ws[header]]
    assert headers[:5] == ["OrderRef", "Email", "ShippingMethod", "SKU", "Quantity"]
    assert headers[-8:] == [
        "Status",
        "OrderNum",
        "Message",
        "Shipments",
        "Tracking",
        "ShippedOn",
        "DeliveryStatus",
        "Updated",
    ]
    rules = {str(v.sqref).split(":")[0][0]: v for v in ws.data_validations.dataValidation}
    assert rules["D"].type == "list" and "SKUs" in rules["D"].formula1  # the SKU dropdown
    assert rules["E"].type == "whole"  # Quantity
    skus = {r[0]: r[1] for r in book["SKUs"].iter_rows(min_row=4, values_only=True) if r[0]}
    client = kotis_client(served)
    assert skus == {s["sku"]: s["available_quantity"] for s in client.sku_quantities()}

    chosen = [s["sku"] for s in stocked(client)[:2]]
    for i, values in enumerate(FILLED):
        for name, value in {**values, "SKU": chosen[i % 2]}.items():
            ws.cell(header + 1 + i, headers.index(name) + 1, value)
    book.save(out)

    plan = CliRunner().invoke(cli, ["kotis", "push", str(out), "--ledger", store_location])
    assert plan.exit_code == 0, plan.output
    assert "2 orders to create (3 lines, 4 units)" in plan.output and creates(served) == []
    applied = CliRunner().invoke(cli, ["kotis", "push", str(out), "--apply", "--ledger", store_location])
    assert applied.exit_code == 0, applied.output
    assert len(creates(served)) == 2
    served.ship_kotis_orders(tracking_digits=24)
    status = CliRunner().invoke(cli, ["kotis", "status", str(out), "--ledger", store_location])
    assert status.exit_code == 0, status.output
    shown = [r for r in read_sheet(out).values() if r["OrderRef"]]
    assert len(shown) == 3
    assert all(r["Status"] == "shipped" and len(r["Tracking"]) == 24 for r in shown)
    assert shown[2]["Zip"] == "02134"


def test_google_sheet_template_fill_plan_apply_status(fresh_sandbox, store_location) -> None:
    client = kotis_client(fresh_sandbox)
    double = SheetsDouble()
    double.add_spreadsheet(SHEET_ID)
    creds = FakeServiceAccountCredentials()
    session = double.session(creds)
    workbook = build_order_template(client.sku_quantities(), lines=5, where=f"gsheet://{SHEET_ID}")
    write_workbooks(SHEET_ID, [workbook], credentials=creds, session=session, sleep=lambda s: None)
    headers = [c.header for c in workbook.tabs[0].columns]
    header_row = next(
        r
        for (r, c), v in double.spreadsheets[SHEET_ID].sheet("Orders").cells.items()
        if c == 0 and v.get("userEnteredValue", {}).get("stringValue") == "OrderRef"
    )
    cells = double.spreadsheets[SHEET_ID].sheet("Orders").cells
    chosen = [s["sku"] for s in stocked(client)[:2]]
    for i, values in enumerate(FILLED):
        for name, value in {**values, "SKU": chosen[i % 2]}.items():
            kind = "numberValue" if isinstance(value, int) else "stringValue"
            cells[(header_row + 1 + i, headers.index(name))] = {"userEnteredValue": {kind: value}}

    source = GoogleSheetSource(SHEET_ID, credentials=creds, session=session, sleep=lambda s: None)
    target = SheetTarget(source, "Orders", f"gsheet://{SHEET_ID}#Orders", row_by_row=True)
    ledger = KotisLedger.open(store_location)
    try:
        plan = push_orders(client, target, ledger, apply=False)
        assert [d.action for d in plan.plan.decisions] == [CREATE, CREATE]
        assert push_orders(client, target, ledger, apply=True).exit_code == ExitCode.OK
        assert push_orders(client, target, ledger, apply=True).exit_code == ExitCode.OK  # nothing twice
        assert len(creates(fresh_sandbox)) == 2
        fresh_sandbox.ship_kotis_orders(tracking_digits=22)
        assert refresh_order_status(client, target, ledger).exit_code == ExitCode.OK
    finally:
        ledger.close()
    rows = [r.values for r in source.read_rows("Orders", required=("OrderRef", "SKU", "Quantity"))]
    assert len(rows) == 3
    for row in rows:
        assert row["Status"] == "shipped" and row["OrderNum"]
        assert isinstance(row["Tracking"], str) and len(row["Tracking"]) == 22 and row["Tracking"].isdigit()
