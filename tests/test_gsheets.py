"""The Google Sheets writer against the in-memory Sheets v4 double (no Google, no network)."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import date
from decimal import Decimal

import pytest
from sheets_double import (
    SERVICE_ACCOUNT,
    FakeServiceAccountCredentials,
    SheetsDouble,
    customers_tab,
    price_tab,
    price_workbook,
)

from sheetsync.errors import (
    AmbiguousOutcomeError,
    AuthError,
    ForbiddenError,
    NotFoundError,
    RenderError,
    ServerError,
    SinkError,
)
from sheetsync.model import ACCOUNTING, Chart, Column, Format, Negatives, Tab, Workbook, money_format
from sheetsync.sinks.gsheets import MAX_PAYLOAD, write_workbooks

SHEET_ID = "SPREADSHEET-1"


@pytest.fixture
def double() -> SheetsDouble:
    double = SheetsDouble()
    double.add_spreadsheet(SHEET_ID)
    return double


@pytest.fixture
def creds() -> FakeServiceAccountCredentials:
    return FakeServiceAccountCredentials()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def refresh(double: SheetsDouble, creds: FakeServiceAccountCredentials, sleeps: list[float]):
    def run(*workbooks: Workbook, **kwargs):
        return write_workbooks(
            SHEET_ID, list(workbooks), credentials=creds, session=double.session(creds), sleep=sleeps.append, **kwargs
        )

    return run


def book(double: SheetsDouble):
    return double.spreadsheets[SHEET_ID]


def test_a_refresh_of_a_multi_tab_workbook_is_one_read_and_one_batch_update(double, refresh) -> None:
    stats = refresh(
        price_workbook(50),
        Workbook(
            "other",
            [
                customers_tab().__class__(
                    name="Extra", key="other:extra", title="Extra", columns=[Column("A")], rows=[["x"]]
                )
            ],
        ),
    )
    assert double.counts() == {"get": 1, "batchUpdate": 1}
    assert stats["api_calls"] == 2 and stats["batch_updates"] == 1 and stats["tabs_added"] == 3
    assert book(double).titles == ["Sheet1", "Prices", "Customers", "Extra"]
    assert all(call.status == 200 for call in double.calls)


def test_values_are_typed_never_parsed(double, refresh) -> None:
    tab = price_tab(2)
    tab.rows = [["0042", "=1+1", Decimal("1.005"), 7, date(2024, 3, 1), True, None, "Kettles"], *tab.rows[1:]]
    refresh(Workbook("price-list", [tab, customers_tab()]))
    sheet = book(double).sheet("Prices")
    cells = sheet.cells
    assert cells[(5, 0)]["userEnteredValue"] == {"stringValue": "0042"}
    assert cells[(5, 1)]["userEnteredValue"] == {"stringValue": "=1+1"}
    assert cells[(5, 2)]["userEnteredValue"] == {"numberValue": 1.01}  # money rounded to cents, as a number
    assert cells[(5, 3)]["userEnteredValue"] == {"numberValue": 7}
    assert cells[(5, 4)]["userEnteredValue"] == {"numberValue": 45352.0}  # days since 1899-12-30
    assert cells[(5, 5)]["userEnteredValue"] == {"boolValue": True}
    assert "userEnteredValue" not in cells[(5, 6)]
    assert cells[(5, 2)]["userEnteredFormat"]["numberFormat"] == {"type": "CURRENCY", "pattern": ACCOUNTING}
    assert cells[(5, 4)]["userEnteredFormat"]["numberFormat"] == {"type": "DATE", "pattern": "yyyy-mm-dd"}
    assert cells[(5, 3)]["userEnteredFormat"]["numberFormat"]["pattern"] == "#,##0"


def test_layout_matches_the_model(double, refresh) -> None:
    refresh(price_workbook(3))
    sheet = book(double).sheet("Prices")
    assert sheet.row_values(1) == ["Price list"]
    assert sheet.cells[(0, 0)]["note"].startswith("Refreshed 2026-01-02")
    assert sheet.cells[(0, 0)]["userEnteredFormat"]["textFormat"] == {"bold": True, "fontSize": 14}
    assert sheet.row_values(2) == ["Customer", "Kettles"]
    assert sheet.row_values(3) == ["Currency", "USD"]
    assert sheet.row_values(4) == []
    assert sheet.row_values(5) == ["Code", "Name", "Price", "Qty", "Since", "Active", "Page", "Customer"]
    assert all(sheet.cells[(4, c)]["userEnteredFormat"]["textFormat"]["bold"] for c in range(8))
    assert sheet.grid == {"rowCount": 9, "columnCount": 8, "frozenRowCount": 5}
    # totals: live SUBTOTAL formulas over the data rows
    assert sheet.cells[(8, 1)]["userEnteredValue"] == {"stringValue": "Total"}
    assert sheet.cells[(8, 2)]["userEnteredValue"] == {"formulaValue": "=SUBTOTAL(109,C6:C8)"}
    assert sheet.cells[(8, 3)]["userEnteredValue"] == {"formulaValue": "=SUBTOTAL(103,D6:D8)"}
    assert sheet.value("C9") == pytest.approx(1.13 + 2.13 + 3.13)
    # clickable link that shows its text
    link = sheet.cells[(5, 6)]
    assert link["userEnteredValue"] == {"stringValue": "page 1"}
    assert link["textFormatRuns"][0]["format"]["link"] == {"uri": "https://example.com/p/1"}
    # filter over header + data, widths in pixels, developer metadata
    assert sheet.basic_filter["range"] == {
        "sheetId": sheet.sheet_id,
        "startRowIndex": 4,
        "endRowIndex": 8,
        "startColumnIndex": 0,
        "endColumnIndex": 8,
    }
    assert sheet.column_pixels[0] == 12 * 7 + 5
    assert set(sheet.column_pixels) == set(range(8))
    metadata = {m["metadataKey"]: m["metadataValue"] for m in sheet.developer_metadata}
    assert metadata["sheetsync.tab"] == "price-list:prices" and set(metadata) == {
        "sheetsync.tab",
        "sheetsync.hash",
        "sheetsync.layout",
    }


def test_conditional_formats_and_validation(double, refresh) -> None:
    refresh(price_workbook(3))
    sheet = book(double).sheet("Prices")
    (rule,) = sheet.conditional_formats
    assert rule["ranges"] == [
        {"sheetId": sheet.sheet_id, "startRowIndex": 5, "endRowIndex": 8, "startColumnIndex": 3, "endColumnIndex": 4}
    ]
    assert rule["booleanRule"]["condition"] == {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": "=$D6<20"}]}
    assert rule["booleanRule"]["format"]["backgroundColor"] == {"red": 1.0, "green": 0.0, "blue": 0.0}
    price_rule = sheet.cells[(5, 2)]["dataValidation"]
    assert price_rule["condition"] == {"type": "NUMBER_GREATER", "values": [{"userEnteredValue": "0"}]}
    assert price_rule["inputMessage"] == "a price above 0"
    customer_rule = sheet.cells[(7, 7)]["dataValidation"]
    assert customer_rule["condition"] == {
        "type": "ONE_OF_RANGE",
        "values": [{"userEnteredValue": "='Customers'!$A$4:$A$5"}],
    }
    assert "dataValidation" not in sheet.cells.get((8, 2), {})  # not on the totals row


def test_refresh_keeps_sheet_ids_user_tabs_and_leaves_no_stale_rows(double, refresh) -> None:
    refresh(price_workbook(40))
    spreadsheet = book(double)
    ids = {s.title: s.sheet_id for s in spreadsheet.sheets}
    user = spreadsheet.sheet("Sheet1")
    user.cells[(0, 0)] = {"userEnteredValue": {"formulaValue": "=SUM(Prices!C6:C45)"}}
    user.cells[(3, 3)] = {"userEnteredValue": {"stringValue": "my notes"}}
    before = {k: dict(v) for k, v in user.cells.items()}
    double.calls.clear()

    stats = refresh(price_workbook(5))
    assert stats["api_calls"] == 2 and stats["tabs_added"] == 0
    assert {s.title: s.sheet_id for s in spreadsheet.sheets} == ids
    assert user.cells == before
    prices = spreadsheet.sheet("Prices")
    assert prices.grid["rowCount"] == 11  # 5 header-block rows + 5 data + totals
    assert prices.used_rows() == 11
    assert prices.row_values(11)[1:4] == ["Total", pytest.approx(sum(i + 0.13 for i in range(1, 6))), 5.0]
    assert len(prices.conditional_formats) == 1  # replaced, not piled up
    assert sorted(m["metadataKey"] for m in prices.developer_metadata) == [  # replaced, not piled up
        "sheetsync.hash",
        "sheetsync.layout",
        "sheetsync.tab",
    ]


def test_a_managed_tab_whose_key_vanished_is_deleted(double, refresh) -> None:
    refresh(price_workbook(3, extra_tabs=(price_tab(2, key="price-list:old", name="Old"),)))
    assert "Old" in book(double).titles
    stats = refresh(price_workbook(3))
    assert "Old" not in book(double).titles and stats["tabs_deleted"] == 1
    assert book(double).titles == ["Sheet1", "Prices", "Customers"]


def test_a_renamed_tab_keeps_its_sheet_id(double, refresh) -> None:
    refresh(price_workbook(3))
    old_id = book(double).sheet("Prices").sheet_id
    renamed = price_tab(3, name="Price list 2026")
    refresh(Workbook("price-list", [renamed, customers_tab()]))
    assert book(double).sheet("Price list 2026").sheet_id == old_id


def test_a_user_tab_with_the_same_name_is_never_overwritten(double, refresh) -> None:
    book(double).sheet("Sheet1").properties["title"] = "Prices"
    with pytest.raises(SinkError, match=r"tab 'Prices' already exists .* not managed by sheetsync"):
        refresh(price_workbook(3))
    assert double.counts() == {"get": 1}


def test_a_429_on_the_first_attempt_is_retried(double, refresh, sleeps) -> None:
    double.fail_next(429, on="batchUpdate")
    stats = refresh(price_workbook(3))
    assert stats["retries"] == 1 and len(sleeps) == 1
    assert [c.status for c in double.calls] == [200, 429, 200]
    assert book(double).sheet("Prices").row_values(1) == ["Price list"]


def test_server_errors_back_off_exponentially_and_give_up(double, refresh, sleeps) -> None:
    double.fail_next(503, times=20)
    with pytest.raises(ServerError, match=r"failed \(503\) on read .* after 5 retries"):
        refresh(price_workbook(3))
    assert len(sleeps) == 5
    assert all(b > a for a, b in itertools.pairwise(sleeps))
    assert max(sleeps) <= 32 * 1.25


def test_a_failure_mid_refresh_leaves_the_previous_contents(double, refresh) -> None:
    refresh(price_workbook(3))
    snapshot = copy.deepcopy([(s.title, s.sheet_id, s.cells, s.grid) for s in book(double).sheets])
    double.fail_mid_batch(after_requests=12, times=10)
    with pytest.raises(ServerError):
        refresh(price_workbook(30, extra_tabs=(price_tab(2, key="price-list:new", name="New"),)))
    assert [(s.title, s.sheet_id, s.cells, s.grid) for s in book(double).sheets] == snapshot


def test_a_cell_over_50000_characters_is_refused_before_sending(double, refresh) -> None:
    tab = price_tab(3)
    tab.rows[1][1] = "x" * 50_001
    with pytest.raises(SinkError, match="tab 'Prices' cell B7 holds 50,001 characters"):
        refresh(Workbook("price-list", [tab, customers_tab()]))
    assert double.calls == []


def test_a_spreadsheet_over_ten_million_cells_is_refused_naming_the_tab(double, refresh) -> None:
    book(double).sheet("Sheet1").grid.update(rowCount=999_999, columnCount=10)
    with pytest.raises(SinkError, match=r"10,000,0.. cells, over Google's limit .* largest tab is 'Prices'"):
        refresh(price_workbook(3))
    assert double.counts() == {"get": 1}


@pytest.mark.parametrize("shared, error", [(False, ForbiddenError), (None, NotFoundError)])
def test_a_sheet_not_shared_with_the_service_account_says_so(double, creds, shared, error) -> None:
    if shared is None:
        del double.spreadsheets[SHEET_ID]
    else:
        double.spreadsheets[SHEET_ID].shared = False
    with pytest.raises(error) as caught:
        write_workbooks(SHEET_ID, [price_workbook(2)], credentials=creds, session=double.session(creds))
    message = str(caught.value)
    assert f"Google Sheet {SHEET_ID} is not shared with the service account {SERVICE_ACCOUNT}" in message
    assert "\n" not in message


def test_duplicate_tab_keys_are_refused(refresh) -> None:
    with pytest.raises(SinkError, match="two tabs share the key 'price-list:prices'"):
        refresh(price_workbook(2, extra_tabs=(price_tab(1, name="Again"),)))


def test_a_validation_naming_a_missing_tab_is_a_render_error(refresh) -> None:
    with pytest.raises(RenderError, match="validation source tab 'Customers' is not in the workbook"):
        refresh(Workbook("price-list", [price_tab(2)]))


def test_an_empty_tab_and_a_tab_without_filter(double, refresh) -> None:
    empty = Tab(
        name="Empty",
        key="x:empty",
        title="Nothing",
        columns=[Column("A", Format.DECIMAL)],
        rows=[],
        autofilter=False,
        freeze_header=False,
    )
    refresh(Workbook("x", [empty]))
    sheet = book(double).sheet("Empty")
    assert sheet.row_values(3) == ["A"] and sheet.basic_filter is None
    assert sheet.grid["frozenRowCount"] == 0


# -- payloads over MAX_PAYLOAD: hidden staging tabs, then one atomic swap ---------------------------
def test_a_payload_over_the_limit_goes_through_staging_tabs(double, refresh) -> None:
    refresh(price_workbook(3))
    ids = {s.title: s.sheet_id for s in book(double).sheets}
    double.calls.clear()
    stats = refresh(price_workbook(400), max_payload=40_000)
    assert stats["staging_batches"] >= 2
    assert double.counts() == {"get": 1, "batchUpdate": stats["staging_batches"] + 1}
    assert stats["payload_bytes"] > 40_000
    assert {s.title: s.sheet_id for s in book(double).sheets} == ids  # staging tabs gone, ids kept
    prices = book(double).sheet("Prices")
    assert prices.row_values(405)[:2] == ["0400", "Kettle 400"]
    assert prices.cells[(404, 0)]["userEnteredValue"] == {"stringValue": "0400"}
    assert prices.cells[(404, 4)]["userEnteredFormat"]["numberFormat"]["type"] == "DATE"
    assert prices.cells[(405, 2)]["userEnteredValue"]["formulaValue"] == "=SUBTOTAL(109,C6:C405)"
    assert prices.cells[(404, 2)]["dataValidation"]["condition"]["type"] == "NUMBER_GREATER"
    assert prices.cells[(0, 0)]["note"].startswith("Refreshed")


def test_a_failed_swap_keeps_the_previous_contents_and_the_next_refresh_cleans_up(double, refresh) -> None:
    refresh(price_workbook(3))
    before = copy.deepcopy(book(double).sheet("Prices").cells)
    double.fail_next(500, on="batchUpdate", after=2)  # the staging batches pass, the swap fails (a POST: never resent)
    with pytest.raises(ServerError):
        refresh(price_workbook(400), max_payload=40_000)
    assert book(double).sheet("Prices").cells == before
    leftovers = [s for s in book(double).sheets if s.properties.get("hidden")]
    assert leftovers
    refresh(price_workbook(4))
    assert not [s for s in book(double).sheets if s.properties.get("hidden")]
    assert book(double).sheet("Prices").row_values(9)[:1] == ["0004"]


@pytest.mark.slow
def test_a_real_two_megabyte_refresh_is_split(double, refresh) -> None:
    stats = refresh(price_workbook(5000))
    assert stats["payload_bytes"] > MAX_PAYLOAD
    assert stats["staging_batches"] == -(-stats["payload_bytes"] // MAX_PAYLOAD)  # one per 2 MB
    assert stats["api_calls"] == 2 + stats["staging_batches"]
    assert max(len(json.dumps(call.body)) for call in double.calls if call.body) <= MAX_PAYLOAD
    assert book(double).sheet("Prices").row_values(5005)[0] == "5000"


def test_a_chart_of_the_totals_row_is_replaced_on_refresh(double, refresh) -> None:
    tab = price_tab(3)
    tab.chart = Chart("Totals", ("Price", "Qty"))
    refresh(Workbook("price-list", [tab, customers_tab()]))
    refresh(Workbook("price-list", [tab, customers_tab()]))
    sheet = book(double).sheet("Prices")
    (chart,) = sheet.charts
    basic = chart["spec"]["basicChart"]
    assert chart["spec"]["title"] == "Totals" and basic["chartType"] == "COLUMN"
    assert [s["startRowIndex"] for s in basic["series"][0]["series"]["sourceRange"]["sources"]] == [8, 8]
    assert [s["startColumnIndex"] for s in basic["domains"][0]["domain"]["sourceRange"]["sources"]] == [2, 3]


def test_a_dropped_read_is_retried_and_a_dropped_write_is_an_unknown_outcome(double, refresh, sleeps) -> None:
    double.drop_next(on="get")
    assert refresh(price_workbook(2))["retries"] == 1
    double.drop_next(on="batchUpdate")
    with pytest.raises(AmbiguousOutcomeError, match="may or may not have been applied; a refresh is safe to run"):
        refresh(price_workbook(3))


def test_credentials_google_refuses_are_one_line(double) -> None:
    from google.auth.exceptions import RefreshError

    class Revoked(FakeServiceAccountCredentials):
        def refresh(self, request) -> None:
            raise RefreshError("invalid_grant: Invalid JWT Signature.", {"error": "invalid_grant"})

    creds = Revoked()
    with pytest.raises(AuthError, match=f"Google refused a token for {SERVICE_ACCOUNT}: invalid_grant"):
        write_workbooks(SHEET_ID, [price_workbook(2)], credentials=creds, session=double.session(creds))
    assert double.calls == []


def test_bursting_workbooks_with_the_same_tab_names_get_unique_titles(double, refresh) -> None:
    def statement(customer: str) -> Workbook:
        prices = price_tab(2, key=f"ar:{customer}:prices", name="Prices")
        customers = customers_tab((customer,))
        customers.key = f"ar:{customer}:customers"
        return Workbook(f"ar-{customer}", [prices, customers])

    refresh(statement("Kettles"), statement("Pots"))
    spreadsheet = book(double)
    assert spreadsheet.titles == ["Sheet1", "Prices", "Customers", "Prices (2)", "Customers (2)"]
    rule = spreadsheet.sheet("Prices (2)").cells[(5, 7)]["dataValidation"]["condition"]
    assert rule["values"] == [{"userEnteredValue": "='Customers (2)'!$A$4:$A$4"}]


def test_staging_that_would_cross_the_cell_limit_is_refused_before_sending(double, refresh) -> None:
    book(double).sheet("Sheet1").grid.update(rowCount=999_600, columnCount=10)
    with pytest.raises(SinkError, match=r"cells while staging a payload over 2 MB, .* largest tab is 'Prices'"):
        refresh(price_workbook(400), max_payload=40_000)
    assert double.counts() == {"get": 1}
    assert refresh(price_workbook(400))["api_calls"] == 2  # fits when sent in one batch


def test_two_reports_sharing_a_spreadsheet_keep_each_others_tabs(double, refresh) -> None:
    refresh(price_workbook(3))
    other = Workbook(
        "aging", [Tab(name="Aging", key="ar-aging/summary", title="Aging", columns=[Column("A")], rows=[["x"]])]
    )
    stats = refresh(other)
    assert stats["tabs_deleted"] == 0
    assert book(double).titles == ["Sheet1", "Prices", "Customers", "Aging"]


def test_negative_money_follows_the_tabs_negatives_option(double, refresh) -> None:
    workbook = price_workbook(3)
    workbook.tabs[0].negatives = Negatives.RED_MINUS
    refresh(workbook)
    cells = book(double).sheet("Prices").cells
    assert cells[(5, 2)]["userEnteredFormat"]["numberFormat"] == {
        "type": "CURRENCY",
        "pattern": money_format(Negatives.RED_MINUS),
    }
    assert "[Red]" in money_format(Negatives.RED_MINUS).split(";")[1]
    assert cells[(5, 3)]["userEnteredFormat"]["numberFormat"]["pattern"] == "#,##0"  # only money changes
