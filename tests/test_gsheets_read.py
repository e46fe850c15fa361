"""GoogleSheetSource: typed rows with row numbers, and write-back in one call, against the Sheets double."""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal

import pytest
from sheets_double import FakeServiceAccountCredentials, SheetsDouble, price_workbook

from sheetsync.errors import SinkError
from sheetsync.sinks.base import FormulaWithoutValue
from sheetsync.sinks.gsheets import GoogleSheetSource, write_workbooks

SHEET_ID = "READ-1"


@pytest.fixture
def double() -> SheetsDouble:
    double = SheetsDouble()
    double.add_spreadsheet(SHEET_ID, tabs=("Allocations",))
    return double


@pytest.fixture
def source(double: SheetsDouble) -> GoogleSheetSource:
    creds = FakeServiceAccountCredentials()
    return GoogleSheetSource(SHEET_ID, credentials=creds, session=double.session(creds), sleep=lambda s: None)


def put(double: SheetsDouble, tab: str, rows: list[list[dict | None]]) -> None:
    """Cells as a person typed them: userEnteredValue (+ number format type)."""
    sheet = double.spreadsheets[SHEET_ID].sheet(tab)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell is not None:
                sheet.cells[(r, c)] = cell


def num(value: float, kind: str | None = None) -> dict:
    cell: dict = {"userEnteredValue": {"numberValue": value}}
    if kind:
        cell["userEnteredFormat"] = {"numberFormat": {"type": kind, "pattern": "x"}}
    return cell


def text(value: str) -> dict:
    return {"userEnteredValue": {"stringValue": value}}


@pytest.fixture
def allocations(double: SheetsDouble) -> None:
    put(
        double,
        "Allocations",
        [
            [text("Allocations for May")],
            [],
            [text(" Invoice "), text("AMOUNT"), text("Paid on"), text("Done"), text("Note")],
            [text("INV-0042"), num(100.1, "CURRENCY"), num(45413, "DATE"), {"userEnteredValue": {"boolValue": True}}],
            [],
            [text("0007"), num(12), num(45413.5, "DATE_TIME"), None, text("late")],
            [text("   "), None, None],
            [text("INV-9"), {"userEnteredValue": {"formulaValue": "=VLOOKUP(A9,X:Y,2)"}}],
        ],
    )


def test_rows_come_back_typed_with_row_numbers(source, allocations, double) -> None:
    rows = source.read_rows("Allocations", required=["invoice", "Amount"])
    assert [r.row_number for r in rows] == [4, 6, 8]  # blank rows skipped, numbers as the sheet shows them
    first, second, third = rows
    assert first.values == {
        "invoice": "INV-0042",
        "Amount": Decimal("100.1"),
        "Paid on": date(2024, 5, 1),
        "Done": True,
        "Note": None,
    }  # ragged row padded
    assert first.cells["Amount"] == "B4"
    assert second.values["invoice"] == "0007" and second.values["Amount"] == 12
    assert second.values["Paid on"] == datetime(2024, 5, 1, 12, 0)
    assert third.values["Amount"] == FormulaWithoutValue("B8", "=VLOOKUP(A9,X:Y,2)")
    assert double.counts() == {"get": 1}
    get = double.calls[0]
    assert get.query["includeGridData"] == ["true"] and get.query["ranges"] == ["'Allocations'"]


def test_missing_headers_name_the_tab(source, allocations) -> None:
    with pytest.raises(SinkError, match=r"tab 'Allocations' .* has no header row with 'Invoice', 'Customer'"):
        source.read_rows("Allocations", required=["Invoice", "Customer"])


def test_an_unknown_tab_is_a_sink_error(source) -> None:
    with pytest.raises(SinkError, match="has no tab 'Nope'"):
        source.read_rows("Nope")


def test_tab_names_and_headers(source, allocations) -> None:
    assert source.tab_names() == ["Allocations"]
    assert source.headers() == ["Invoice", "AMOUNT", "Paid on", "Done", "Note"]


def test_reading_back_what_the_writer_wrote(double) -> None:
    creds = FakeServiceAccountCredentials()
    write_workbooks(SHEET_ID, [price_workbook(3)], credentials=creds, session=double.session(creds))
    rows = GoogleSheetSource(SHEET_ID, credentials=creds, session=double.session(creds)).read_rows(
        "Prices", required=["Code", "Price"]
    )
    assert [r.row_number for r in rows[:3]] == [6, 7, 8]
    assert rows[0].values["Code"] == "0001" and rows[0].values["Price"] == Decimal("1.13")
    assert rows[0].values["Since"] == date(2024, 1, 2) and rows[0].values["Active"] is False
    assert rows[0].values["Page"] == "page 1" and rows[0].values["Qty"] == 10


def test_write_back_sets_named_cells_in_one_call_and_nothing_else(source, allocations, double) -> None:
    rows = source.read_rows("Allocations", required=["Invoice"])
    sheet = double.spreadsheets[SHEET_ID].sheet("Allocations")
    before = copy.deepcopy(sheet.cells)
    double.calls.clear()
    source.write_back(
        "Allocations",
        {
            rows[0].row_number: {"Note": "=posted", "Paid on": date(2024, 6, 3)},
            rows[1].row_number: {"Status": "Posted", "amount": Decimal("12.50")},
        },
    )
    assert double.counts() == {"batchUpdate": 1}
    changed = {k for k in set(before) | set(sheet.cells) if before.get(k) != sheet.cells.get(k)}
    assert changed == {(3, 4), (3, 2), (2, 5), (5, 5), (5, 1)}
    assert sheet.cells[(3, 4)]["userEnteredValue"] == {"stringValue": "=posted"}
    assert sheet.cells[(3, 2)]["userEnteredValue"] == {"numberValue": 45446.0}
    assert sheet.cells[(2, 5)]["userEnteredValue"] == {"stringValue": "Status"}  # new header at the end
    assert sheet.cells[(5, 1)]["userEnteredValue"] == {"numberValue": 12.5}
    reread = source.read_rows("Allocations", required=["Invoice", "Status"])
    assert reread[1].values["Status"] == "Posted" and reread[0].values["Paid on"] == date(2024, 6, 3)


def test_write_back_grows_the_grid_when_needed(source, allocations, double) -> None:
    sheet = double.spreadsheets[SHEET_ID].sheet("Allocations")
    sheet.grid.update(rowCount=8, columnCount=5)
    source.write_back("Allocations", {8: {"Status": "x"}})
    assert sheet.grid["columnCount"] == 6 and sheet.value("F8") == "x"
