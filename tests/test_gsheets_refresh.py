"""Refresh in place on Google Sheets (the double): columns users add beside a managed tab stay, with
their rows; unchanged data costs one read and no write; each data block has a named range."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sheets_double import FakeServiceAccountCredentials, SheetsDouble, customers_tab, price_tab

from sheetsync.model import Workbook
from sheetsync.sinks.gsheets import write_workbooks

SHEET_ID = "SPREADSHEET-R"
HEADER = 4  # 0-based row of the price tab's headers (title, two info lines, blank row)


def prices(codes: list[int], *, bump: int = 0, key: bool = True) -> Workbook:
    tab = price_tab(max(codes))
    by_code = {row[0]: row for row in tab.rows}
    rows = []
    for code in codes:
        row = list(by_code[f"{code:04d}"])
        row[2] = Decimal(code + bump) + Decimal("0.125")
        rows.append(row)
    tab.rows = rows
    tab.row_key = ("Code",) if key else ()
    return Workbook("price-list", [tab, customers_tab()])


@pytest.fixture
def double() -> SheetsDouble:
    double = SheetsDouble()
    double.add_spreadsheet(SHEET_ID, tabs=("Mine",))
    return double


@pytest.fixture
def refresh(double: SheetsDouble):
    creds = FakeServiceAccountCredentials()

    def run(workbook: Workbook, **kwargs):
        return write_workbooks(SHEET_ID, [workbook], credentials=creds, session=double.session(creds), **kwargs)

    return run


def text(value: str) -> dict:
    return {"userEnteredValue": {"stringValue": value}}


def add_user_columns(double: SheetsDouble, notes: dict[int, str]) -> None:
    """What a team member does in the browser: two columns added right of the data, a header, notes and
    a formula beside some rows (row -> note, 0-based), a wider column, a highlight rule on it."""
    sheet = double.spreadsheets[SHEET_ID].sheet("Prices")
    sheet.grid["columnCount"] += 2
    sheet.cells[(HEADER, 8)] = text("Buyer notes")
    sheet.cells[(HEADER, 9)] = text("Double")
    for row, note in notes.items():
        sheet.cells[(row, 8)] = {**text(note), "userEnteredFormat": {"textFormat": {"italic": True}}}
        sheet.cells[(row, 9)] = {"userEnteredValue": {"formulaValue": f"=C{row + 1}*2"}}
    sheet.column_pixels[8] = 250
    rule = {"ranges": [{"sheetId": sheet.sheet_id, "startColumnIndex": 8, "endColumnIndex": 9}], "booleanRule": {}}
    sheet.conditional_formats.append(rule)


def by_code(double: SheetsDouble) -> dict[str, list]:
    sheet = double.spreadsheets[SHEET_ID].sheet("Prices")
    out = {}
    for r in range(HEADER + 1, sheet.grid["rowCount"]):
        code = (sheet.cells.get((r, 0), {}).get("userEnteredValue") or {}).get("stringValue")
        if code:
            out[code] = [sheet.cells.get((r, c), {}).get("userEnteredValue") for c in range(sheet.grid["columnCount"])]
    return out


def test_user_columns_follow_their_keys_and_are_never_cut(double, refresh) -> None:
    refresh(prices([1, 2, 3, 4, 5]))
    add_user_columns(double, {5: "call about 0001", 6: "0002 is discontinued", 8: "0004 on promo"})
    double.calls.clear()

    stats = refresh(prices([7, 5, 3, 6, 1], bump=100))  # 2 and 4 gone, 6 and 7 new, order reversed

    assert double.counts() == {"get": 2, "batchUpdate": 1}  # metadata, the user's columns, one atomic write
    sheet = double.spreadsheets[SHEET_ID].sheet("Prices")
    assert sheet.grid["columnCount"] == 10
    rows = by_code(double)
    assert list(rows) == ["0007", "0005", "0003", "0006", "0001"]
    assert rows["0001"][8] == {"stringValue": "call about 0001"}
    assert rows["0001"][9] == {"formulaValue": "=C10*2"}  # row 6 -> row 10, the reference follows
    assert rows["0007"][8] is None and rows["0003"][8] is None
    assert sheet.cells[(9, 8)]["userEnteredFormat"] == {"textFormat": {"italic": True}}
    assert sheet.cells[(HEADER, 8)]["userEnteredValue"] == {"stringValue": "Buyer notes"}
    assert sheet.column_pixels[8] == 250
    assert any(r["ranges"][0].get("startColumnIndex") == 8 for r in sheet.conditional_formats)
    assert stats["kept_cells"] == 4 and stats["notes_without_a_row"] == 4

    notes = double.spreadsheets[SHEET_ID].sheet("Notes without a row")
    assert notes.row_values(1) == ["Tab", "Key", "Column", "Value", "Formula", "Note"]
    moved = {tuple(notes.row_values(r)[1:3]): notes.row_values(r) for r in range(2, 6)}
    assert moved[("0002", "Buyer notes")][3] == "0002 is discontinued"
    assert moved[("0004", "Double")][4] == "=C9*2"
    assert double.spreadsheets[SHEET_ID].sheet("Mine").title == "Mine"


def test_unchanged_data_is_one_read_and_no_write(double, refresh) -> None:
    refresh(prices([1, 2, 3]))
    add_user_columns(double, {5: "note"})
    double.calls.clear()
    stats = refresh(prices([1, 2, 3]))
    assert stats["unchanged"] and double.counts() == {"get": 1}
    stats = refresh(prices([1, 2, 3]), force=True)
    assert double.counts() == {"get": 3, "batchUpdate": 1} and stats["kept_cells"] == 4
    assert by_code(double)["0001"][8] == {"stringValue": "note"}


def test_each_data_block_is_a_named_range_that_follows_the_rows(double, refresh) -> None:
    refresh(prices([1, 2, 3]))
    named = {n["name"]: n for n in double.spreadsheets[SHEET_ID].named_ranges}
    assert set(named) == {"price_list_prices", "price_list_customers"}
    assert (
        named["price_list_prices"]["range"]["startRowIndex"],
        named["price_list_prices"]["range"]["endRowIndex"],
    ) == (4, 8)
    refresh(prices([1, 2, 3, 4, 5]))
    again = {n["name"]: n for n in double.spreadsheets[SHEET_ID].named_ranges}
    assert again["price_list_prices"]["namedRangeId"] == named["price_list_prices"]["namedRangeId"]
    assert again["price_list_prices"]["range"]["endRowIndex"] == 10


def test_without_a_key_added_columns_stay_by_position_and_say_so(double, refresh) -> None:
    refresh(prices([1, 2, 3], key=False))
    add_user_columns(double, {5: "first row"})
    stats = refresh(prices([3, 2, 1], key=False))
    assert any("declares no row key" in w for w in stats["warnings"])
    assert by_code(double)["0003"][8] == {"stringValue": "first row"}


def test_a_chart_users_added_on_a_report_tab_stays_and_ours_is_replaced(double, refresh) -> None:
    from sheetsync.model import Chart

    workbook = prices([1, 2])
    workbook.tabs[0].chart = Chart("Totals", ("Price",))
    refresh(workbook)
    sheet = double.spreadsheets[SHEET_ID].sheet("Prices")
    users = {
        "chartId": 77,
        "spec": {"title": "mine"},
        "position": {"overlayPosition": {"anchorCell": {"sheetId": sheet.sheet_id}}},
    }
    sheet.charts.append(users)
    workbook = prices([1, 2, 3])
    workbook.tabs[0].chart = Chart("Totals", ("Price",))
    refresh(workbook)
    titles = sorted(c["spec"]["title"] for c in double.spreadsheets[SHEET_ID].sheet("Prices").charts)
    assert titles == ["Totals", "mine"]


def with_brand(workbook: Workbook) -> Workbook:
    """The report with a "Brand" column inserted second (Price moves from C to D) and its last column,
    Customer, gone: as many columns as before."""
    from sheetsync.model import Column

    tab = workbook.tabs[0]
    tab.columns = [tab.columns[0], Column("Brand"), *tab.columns[1:-1]]
    tab.rows = [[row[0], f"Brand {row[0]}", *row[1:-1]] for row in tab.rows]
    tab.validations = [v for v in tab.validations if v.column != "Customer"]
    return workbook


def test_user_formulas_follow_report_columns_by_header(double, refresh) -> None:
    refresh(prices([1, 2, 3]))
    add_user_columns(double, {5: "call about 0001"})  # J: =C6*2, C being Price

    stats = refresh(with_brand(prices([2, 1, 3], bump=10)))

    rows = by_code(double)
    assert rows["0001"][8] == {"stringValue": "call about 0001"}
    assert rows["0001"][9] == {"formulaValue": "=D7*2"}  # still Price, now in D, on 0001's new row
    assert double.spreadsheets[SHEET_ID].sheet("Prices").cells[(HEADER, 9)]["userEnteredValue"] == {
        "stringValue": "Double"
    }
    assert stats["kept_cells"] == 4


def test_a_column_inserted_between_the_reports_is_kept_to_their_right(double, refresh) -> None:
    refresh(prices([1, 2, 3]))
    sheet = double.spreadsheets[SHEET_ID].sheet("Prices")
    sheet.grid["columnCount"] += 1  # Insert 1 column left of C, in the browser
    sheet.cells = {(r, c + 1 if c >= 2 else c): cell for (r, c), cell in sheet.cells.items()}
    sheet.cells[(HEADER, 2)] = text("Rating")
    sheet.cells[(6, 2)] = text("good")  # beside 0002
    double.calls.clear()

    stats = refresh(prices([2, 3, 1], bump=1))

    rows = by_code(double)
    assert rows["0002"][1] == {"stringValue": "Kettle 2"}  # the report's cells are the report's again
    assert sheet.cells[(HEADER, 2)]["userEnteredValue"] == {"stringValue": "Price"}
    assert sheet.cells[(HEADER, 8)]["userEnteredValue"] == {"stringValue": "Rating"}
    assert rows["0002"][8] == {"stringValue": "good"} and rows["0001"][8] is None
    assert any("'Rating' between the report's columns now sit to the right" in w for w in stats["warnings"])
    assert double.counts() == {"get": 3, "batchUpdate": 1}  # the inserted column costs one more read


def test_a_users_highlight_rule_moves_with_their_column(double, refresh) -> None:
    from sheetsync.model import Column

    refresh(prices([1, 2]))
    add_user_columns(double, {5: "call about 0001"})  # a rule on column I (index 8)
    grown = prices([1, 2])
    tab = grown.tabs[0]
    tab.columns = [tab.columns[0], Column("Brand"), *tab.columns[1:]]  # nine columns now
    tab.rows = [[row[0], "Brand", *row[1:]] for row in tab.rows]

    refresh(grown)

    sheet = double.spreadsheets[SHEET_ID].sheet("Prices")
    assert sheet.cells[(HEADER, 9)]["userEnteredValue"] == {"stringValue": "Buyer notes"}
    users = [r for r in sheet.conditional_formats if "booleanRule" in r and r["booleanRule"] == {}]
    assert [(r["ranges"][0]["startColumnIndex"], r["ranges"][0]["endColumnIndex"]) for r in users] == [(9, 10)]


def test_a_check_the_user_wrote_under_the_report_is_never_cut(double, refresh) -> None:
    refresh(prices([1, 2, 3]))
    sheet = double.spreadsheets[SHEET_ID].sheet("Prices")
    end = sheet.grid["rowCount"]  # the grid is the report's size: the user adds rows to write under it
    sheet.grid["rowCount"] += 5
    sheet.cells[(end + 1, 0)] = text("My check")
    sheet.cells[(end + 1, 2)] = {"userEnteredValue": {"formulaValue": f"=SUM(C{HEADER + 2}:C{HEADER + 4})"}}

    stats = refresh(prices([5, 4, 3, 2, 1]))  # two more data rows

    assert sheet.cells[(end + 3, 0)]["userEnteredValue"] == {"stringValue": "My check"}
    assert sheet.cells[(end + 3, 2)]["userEnteredValue"] == {"formulaValue": f"=SUM(C{HEADER + 2}:C{HEADER + 6})"}
    assert stats["kept_cells"] == 2


def test_the_note_on_a_cell_whose_row_vanished_is_listed(double, refresh) -> None:
    refresh(prices([1, 2, 3]))
    add_user_columns(double, {6: "0002 is discontinued"})
    sheet = double.spreadsheets[SHEET_ID].sheet("Prices")
    sheet.cells[(6, 8)]["note"] = "asked the rep on Monday"

    refresh(prices([1, 3]))

    notes = double.spreadsheets[SHEET_ID].sheet("Notes without a row")
    rows = [notes.row_values(r) for r in range(2, 4)]
    assert ["Prices", "0002", "Buyer notes", "0002 is discontinued", "", "asked the rep on Monday"] in rows


def test_a_named_range_of_the_users_with_a_blocks_name_is_a_refusal(double, refresh) -> None:
    from sheetsync.errors import SinkError

    mine = double.spreadsheets[SHEET_ID].sheet("Mine")
    double.spreadsheets[SHEET_ID].named_ranges.append(
        {"namedRangeId": "n1", "name": "price_list_prices", "range": {"sheetId": mine.sheet_id, "startRowIndex": 0}}
    )
    double.calls.clear()

    with pytest.raises(SinkError, match=r"nothing written: your named range 'price_list_prices' \(on tab 'Mine'\)"):
        refresh(prices([1, 2]))

    assert double.counts() == {"get": 1}
    assert [s.title for s in double.spreadsheets[SHEET_ID].sheets] == ["Mine"]


def test_a_tab_the_user_renamed_keeps_their_name(double, refresh) -> None:
    refresh(prices([1, 2]))
    double.spreadsheets[SHEET_ID].sheet("Prices").properties["title"] = "Our kettles"  # renamed in the browser

    refresh(prices([2, 1], bump=1))
    refresh(prices([1, 2, 3], bump=2))

    titles = [s.title for s in double.spreadsheets[SHEET_ID].sheets]
    assert "Our kettles" in titles and "Prices" not in titles
    assert list(by_code_on(double, "Our kettles")) == ["0001", "0002", "0003"]


def by_code_on(double: SheetsDouble, title: str) -> dict[str, list]:
    sheet = double.spreadsheets[SHEET_ID].sheet(title)
    return {
        code: r
        for r in range(HEADER + 1, sheet.grid["rowCount"])
        if (code := (sheet.cells.get((r, 0), {}).get("userEnteredValue") or {}).get("stringValue"))
    }
