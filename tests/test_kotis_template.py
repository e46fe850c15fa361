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
    assert headers[:6] == ["OrderRef", "Email", "ShippingMethod", "SKU", "Available", "Quantity"]
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
    assert rules["F"].type == "whole"  # Quantity
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
    read = source.read_rows("Orders", required=("OrderRef", "SKU", "Quantity"))
    rows = [r.values for r in read if r.values["OrderRef"]]  # the other lines hold only the Available lookup
    assert len(rows) == 3
    for row in rows:
        assert row["Status"] == "shipped" and row["OrderNum"]
        assert isinstance(row["Tracking"], str) and len(row["Tracking"]) == 22 and row["Tracking"].isdigit()


def _available_by_sku(path) -> dict[str, object]:
    """SKU -> the Available cell beside it, as a spreadsheet application computed it."""
    ws = openpyxl.load_workbook(path, data_only=True)["Orders"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "OrderRef")
    headers = [c.value for c in ws[header]]
    sku, available = headers.index("SKU") + 1, headers.index("Available") + 1
    return {ws.cell(r, sku).value: ws.cell(r, available).value for r in range(header + 1, ws.max_row + 1)}


def test_the_template_again_refreshes_stock_and_keeps_every_order_entry(served, tmp_path, store_location) -> None:
    """Each line shows its SKU's Available quantity (a lookup); `kotis template` on the filled sheet again
    rewrites only the SKUs tab, so every entry, formula and outcome of the Orders tab stays."""
    from helpers_lo import recalculate_with_libreoffice, soffice

    if soffice() is None:
        pytest.skip("LibreOffice is not installed")
    client = kotis_client(served)
    first = tmp_path / "new" / "orders.xlsx"
    first.parent.mkdir()
    made = CliRunner().invoke(cli, ["kotis", "template", "-o", str(first), "--lines", "6"])
    assert made.exit_code == 0, made.output
    book = openpyxl.load_workbook(first)
    ws = book["Orders"]
    headers = [c.value for c in ws[4]]
    chosen = [s["sku"] for s in stocked(client)[:2]]
    for i, values in enumerate(FILLED):
        for name, value in {**values, "SKU": chosen[i % 2]}.items():
            ws.cell(5 + i, headers.index(name) + 1, value)
    ws.cell(8, headers.index("SKU") + 1, "NO-SUCH-SKU")
    ws.cell(5, headers.index("Updated") + 3, "my note")  # a user's column beside the sheet
    book.create_sheet("Mine")["A1"] = "=SUM(1,2)"
    book.save(first)
    path = recalculate_with_libreoffice(first, tmp_path / "saved")  # saved by a spreadsheet application
    stock = {s["sku"]: s["available_quantity"] for s in client.sku_quantities()}
    shown = _available_by_sku(path)
    assert {sku: shown[sku] for sku in chosen} == {sku: stock[sku] for sku in chosen}
    assert shown["NO-SUCH-SKU"] == "not a SKU"

    assert CliRunner().invoke(cli, ["kotis", "push", str(path), "--apply", "--ledger", store_location]).exit_code == 1
    before = openpyxl.load_workbook(path)
    refreshed = CliRunner().invoke(cli, ["kotis", "template", "-o", str(path)])
    assert refreshed.exit_code == 0, refreshed.output
    assert "order lines were not touched" in refreshed.output
    after = openpyxl.load_workbook(path)
    for name in ("Orders", "Instructions", "Mine"):
        old = {c.coordinate: c.value for row in before[name].iter_rows() for c in row}
        assert {c.coordinate: c.value for row in after[name].iter_rows() for c in row} == old, name
    now = {s["sku"]: s["available_quantity"] for s in client.sku_quantities()}
    assert now[chosen[0]] < stock[chosen[0]]  # the push took stock
    listed = {r[0]: r[1] for r in after["SKUs"].iter_rows(min_row=4, values_only=True) if r[0]}
    assert listed == now
    recalculated = recalculate_with_libreoffice(path, tmp_path / "opened", recalculate_on_load=True)
    assert {sku: _available_by_sku(recalculated)[sku] for sku in chosen} == {sku: now[sku] for sku in chosen}


def test_a_google_sheet_refresh_rewrites_only_the_skus_tab(fresh_sandbox) -> None:
    from sheetsync.push.kotis_template import refresh_sku_list

    client = kotis_client(fresh_sandbox)
    double = SheetsDouble()
    double.add_spreadsheet(SHEET_ID)
    creds = FakeServiceAccountCredentials()
    session = double.session(creds)
    skus = client.sku_quantities()
    workbook = build_order_template(skus, lines=3, where=f"gsheet://{SHEET_ID}")
    write_workbooks(SHEET_ID, [workbook], credentials=creds, session=session, sleep=lambda s: None)
    orders = double.spreadsheets[SHEET_ID].sheet("Orders").cells
    orders[(4, 0)] = {"userEnteredValue": {"stringValue": "G-1"}}
    orders[(4, 5)] = {"userEnteredValue": {"formulaValue": "=1+1"}}
    kept = {k: dict(v) for k, v in orders.items()}
    dropdown = orders[(4, 3)]["dataValidation"]["condition"]
    assert dropdown["type"] == "ONE_OF_RANGE" and dropdown["values"][0]["userEnteredValue"].endswith("!$A$4:$A")
    lookup = orders[(4, 4)]["userEnteredValue"]["formulaValue"]
    assert lookup.startswith("=IF(D5=") and "VLOOKUP(D5,SKUs!$A:$B,2,FALSE)" in lookup
    fewer = [{**s, "available_quantity": 1} for s in skus[:-5]]
    source = GoogleSheetSource(SHEET_ID, credentials=creds, session=session, sleep=lambda s: None)
    assert refresh_sku_list(source, fewer) == len(skus) - 5
    assert double.spreadsheets[SHEET_ID].sheet("Orders").cells == kept
    rows = source.read_rows("SKUs", required=("SKU",), columns=("SKU", "Available", "Physical"))
    assert len(rows) == len(skus) - 5 and {r.values["Available"] for r in rows} == {1}
