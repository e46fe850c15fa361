"""Customer statements: who gets one, the letterhead from [company], page breaks, text beside numbers."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers_statement import page
from PIL import Image as PILImage
from sheets_double import FakeServiceAccountCredentials, SheetsDouble

from sheetsync.config import PLACEHOLDER_COMPANY, load_settings
from sheetsync.definition import find_definition, resolve_params
from sheetsync.errors import ConfigError
from sheetsync.model import Column, Company, Format, Negatives, Statement, Tab, Total, Workbook
from sheetsync.report import documented_fields, render
from sheetsync.sinks.gsheets import write_workbooks
from sheetsync.sinks.xlsx import write_workbook
from sheetsync.sinks.xlsx_pages import PageSetup, column_pixels, page_breaks

CLOSE = datetime(2026, 3, 1, 8, tzinfo=UTC)


def _aging(cid: int, invoices: list[tuple[int, Decimal]], credits: list[tuple[int, Decimal]]) -> dict[str, Any]:
    owed = sum((amount for _, amount in invoices), Decimal(0))
    credit = sum((amount for _, amount in credits), Decimal(0))
    refs = [{"InvoiceID": i, "InvoiceNum": f"INV-{i}"} for i, _ in invoices]
    return {
        "CustomerID": cid,
        "OpenCredit": credit,
        "CurrentDue": owed,
        "Due_1_30": Decimal(0),
        "Due_31_60": Decimal(0),
        "Due_61_90": Decimal(0),
        "Due_91": Decimal(0),
        "CloseDate": CLOSE,
        "TotalBalanceOutstanding": owed + credit,
        "StatementLink": None,
        "CurrentInvoices": refs,
        "Invoices_1_30": [],
        "Invoices_31_60": [],
        "Invoices_61_90": [],
        "Invoices_91": [],
        "CreditInvoices": [{"InvoiceID": i, "InvoiceNum": f"INV-{i}"} for i, _ in credits],
        "StatementDate": CLOSE,
    }


def _invoice(cid: int, invoice_id: int, amount: Decimal) -> dict[str, Any]:
    return {
        "InvoiceID": invoice_id,
        "InvoiceNum": f"INV-{invoice_id}",
        "CustomerID": cid,
        "Date": datetime(2026, 2, 20, 8, tzinfo=UTC),
        "DueDate": datetime(2026, 3, 5, 8, tzinfo=UTC),
        "InvoiceTotal": abs(amount),
        "OpenBalance": amount,
        "PDFURL": f"https://example.com/i.pdf?InvoiceID={invoice_id}&APIKeyID=1",
    }


Lines = dict[int, tuple[list[tuple[int, Decimal]], list[tuple[int, Decimal]]]]
OWING: Lines = {1: ([(11, Decimal("100.00"))], [])}
IN_CREDIT: Lines = {2: ([], [(21, Decimal("-40.00"))])}
NETTING_TO_ZERO: Lines = {3: ([(31, Decimal("25.00"))], [(32, Decimal("-25.00"))])}


def rendered(lines: Lines, **params: str) -> tuple[list[Workbook], list[Any]]:
    definition = find_definition("ar-aging")
    records = {
        "aging": [_aging(cid, inv, cr) for cid, (inv, cr) in lines.items()],
        "customers": [
            {"CustomerID": cid, "CustomerName": f"Customer {cid}", "Address": "1 Main St", "State": "CA"}
            for cid in lines
        ],
        "invoices": [_invoice(cid, i, a) for cid, (inv, cr) in lines.items() for i, a in inv + cr],
        "states": [{"StateAbbreviation": "CA", "TimeZone": "America/Los_Angeles"}],
    }
    return render(
        definition,
        resolve_params(definition, params),
        records,
        documented_fields(definition),
        environment="sandbox",
        company=PLACEHOLDER_COMPANY,
    )


def books(**params: str) -> dict[str, list[str]]:
    """Which customers get a statement: owing (1), in credit (2), netting to zero (3)."""
    workbooks, _ = rendered({**OWING, **IN_CREDIT, **NETTING_TO_ZERO}, **params)
    return {"statements": [t.statement.customer[0] for t in workbooks[0].tabs if t.statement]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Customer 1"]),
        ({"include_credit": "true"}, ["Customer 1", "Customer 2"]),
        ({"include_zero": "true"}, ["Customer 1", "Customer 3"]),
        ({"include_credit": "true", "include_zero": "true"}, ["Customer 1", "Customer 2", "Customer 3"]),
    ],
)
def test_who_gets_a_statement(params: dict[str, str], expected: list[str]) -> None:
    assert sorted(books(**params)["statements"]) == expected


@pytest.mark.parametrize("burst", ["false", "true"])
def test_no_customer_qualifying_is_one_warning_not_a_blank_tab(burst: str) -> None:
    workbooks, warnings = rendered({**IN_CREDIT, **NETTING_TO_ZERO}, burst=burst)
    assert [t.name for wb in workbooks for t in wb.tabs if t.statement or not t.rows] == []
    assert all(wb.tabs and wb.tabs[0].name == "Summary" for wb in workbooks)
    lines = [str(w) for w in warnings if "statement" in str(w)]
    assert lines == [
        "ar-aging: no statement written (tab 'statement'): no CustomerID passes the tab's `where` "
        "with these parameters; earlier ones are kept"
    ]


def test_a_statement_for_some_customer_is_no_warning() -> None:
    _, warnings = rendered({**OWING, **IN_CREDIT})
    assert not [w for w in warnings if "statement" in str(w)]


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (200, 50), colour).save(out, format="PNG")
    return out.getvalue()


def statement_tab(company: Company | None, n: int = 3) -> Tab:
    columns = [Column("Invoice", total=Total.LABEL), Column("Open", Format.CURRENCY, total=Total.SUM)]
    rows = [[f"INV-{i}", Decimal("10.00")] for i in range(n)]
    band = [("Current", Decimal(n * 10)), ("Credits", Decimal(0))]
    statement = Statement(
        company, ["Kettles Inc", "1 Main St"], [("Statement date", "2026-03-01")], band, Decimal(n * 10)
    )
    return Tab("Kettles", "k", "Kettles", columns, rows, statement=statement, template="statement")


def test_the_company_logo_replaces_the_templates(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png("red"))
    company = Company("Acme", ("1 Road",), ("PO Box 9",), logo=str(logo))
    path = tmp_path / "s.xlsx"
    write_workbook(Workbook("s", [statement_tab(company)]), path)
    ws = openpyxl.load_workbook(path)["Kettles"]
    assert len(ws._images) == 1 and ws._images[0]._data() == logo.read_bytes()
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "Acme" in values and "PO Box 9" in values and "Remit to" in values


def test_the_built_in_templates_placeholder_logo_prints_only_beside_the_placeholder_company(tmp_path: Path) -> None:
    """The shipped template's logo is the sandbox's "Example Distribution": a configured company without a
    `logo` (or no company at all) must not send its customers someone else's letterhead."""
    for company, images in [(Company("Acme", ("1 Road",), ("PO Box 9",)), 0), (None, 0), (PLACEHOLDER_COMPANY, 1)]:
        path = tmp_path / "s.xlsx"
        write_workbook(Workbook("s", [statement_tab(company)]), path)
        assert len(openpyxl.load_workbook(path)["Kettles"]._images) == images, company


def test_without_a_company_there_is_no_letterhead_but_the_customer_and_amount_due(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    write_workbook(Workbook("s", [statement_tab(None)]), path)
    ws = openpyxl.load_workbook(path)["Kettles"]
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "Remit to" not in values and "Payment instructions" not in values
    assert "Kettles Inc" in values and "Amount due" in values and 30 in values


LETTER_PORTRAIT_MARGINS = (0.5, 0.5, 0.5, 0.75, 0.3, 0.3)


@pytest.mark.parametrize(
    ("widths", "orientation", "scale"),
    [
        ([17, 11, 11, 11, 11, 14, 14, 14], "portrait", 0.99),  # ar-aging's statement: 721 px on 540 pt
        ([17, 11, 11], "portrait", 1.0),  # narrower than the page: never enlarged
        ([30] * 10, "portrait", 0.34),
        ([30] * 10, "landscape", 0.45),  # 2,100 px on 720 pt
    ],
)
def test_the_fit_to_width_scale_follows_the_columns_and_the_paper(
    widths: list[float], orientation: str, scale: float
) -> None:
    assert PageSetup(1, orientation, LETTER_PORTRAIT_MARGINS, widths).scale() == scale


def test_column_widths_turn_into_excels_pixels() -> None:
    assert column_pixels(9.14) == 64  # Excel's default column (8.43 characters shown)
    assert column_pixels(17) == 119


@pytest.mark.parametrize("n_rows", [0, 1, 20, 21, 22, 40, 100, 1000])
@pytest.mark.parametrize("scale", [1.0, 0.7])
def test_page_breaks_fill_every_page_and_never_overfill_it(n_rows: int, scale: float) -> None:
    header_row, tail, body = 24, 6, 702.0 / scale
    heights = {1: 30.0, header_row: 30.0}
    last_item = header_row + n_rows
    breaks = page_breaks(heights, 15.0, header_row, last_item + tail, tail, body)
    edges = [0, *breaks, last_item + tail]
    assert edges == sorted(edges)
    for number, (start, end) in enumerate(itertools.pairwise(edges)):
        rows = range(start + 1, end + 1)
        height = sum(heights.get(r, 15.0) for r in rows) + (30.0 if number else 0)  # + the repeated header
        assert height <= body  # never more than the page holds: no automatic break of its own
        if end != edges[-1] and end != last_item - 1:
            assert height >= body - 3 * 15.0  # full: a page ends within a few rows of the bottom
    if breaks:
        assert breaks[-1] < last_item  # the totals and instructions keep an open item


def test_text_beside_numbers_is_indented_and_long_headers_wrap(tmp_path: Path) -> None:
    columns = [Column("Product ID", Format.INTEGER), Column("Size"), Column("PaymentInvoiceNumber", width=8)]
    tab = Tab("T", "t", "T", columns, [[115, "1g", "X"]])
    path = tmp_path / "t.xlsx"
    write_workbook(Workbook("t", [tab]), path)
    ws = openpyxl.load_workbook(path)["T"]
    header = tab.header_row
    assert ws.cell(header + 1, 2).alignment.indent == 1  # "115 1g", never "1151g"
    # an indent counts only on a left (or right) aligned cell: under "general" alignment LibreOffice
    # ignores it and prints "1151g"
    assert ws.cell(header + 1, 2).alignment.horizontal == "left"
    assert ws.cell(header + 1, 1).alignment.indent == 0
    assert all(ws.cell(header, c).alignment.wrap_text for c in (1, 2, 3))
    assert ws.column_dimensions["C"].width >= len("PaymentInvoiceNumber") + 1  # never cut


def test_a_statement_tab_without_a_page_shows_the_customer_and_never_run_metadata() -> None:
    """Google Sheets has no statement page: the tab's header block is customer-facing."""
    definition = find_definition("ar-aging")
    records = {
        "aging": [_aging(1, [(11, Decimal("100.00"))], [])],
        "customers": [{"CustomerID": 1, "CustomerName": "Customer 1", "Address": "1 Main St", "State": "CA"}],
        "invoices": [_invoice(1, 11, Decimal("100.00"))],
        "states": [],
    }
    workbooks, _ = render(
        definition, resolve_params(definition, {}), records, documented_fields(definition), environment="sandbox"
    )
    tab = next(t for t in workbooks[0].tabs if t.statement)
    info = dict(tab.info)
    assert info["Customer"] == "Customer 1, 1 Main St" and info["Amount due"] == "$100.00"
    assert info["Statement date"] == "2026-03-01" and tab.note is None
    assert not {"Parameters", "Environment", "Generated", "Data as of", "Report"} & set(info)


def test_the_remit_to_block_names_the_payee_when_remit_to_is_unset(tmp_path: Path) -> None:
    env = {"SHEETSYNC_COMPANY_NAME": "Acme Co", "SHEETSYNC_COMPANY_ADDRESS": "1 Road\nOakland, CA 94607"}
    company = load_settings(env, cwd=tmp_path).company()
    path = tmp_path / "s.xlsx"
    write_workbook(Workbook("s", [statement_tab(company)]), path)
    ws = openpyxl.load_workbook(path)["Kettles"]
    assert page(ws)["Remit to"][:3] == ["Acme Co", "1 Road", "Oakland, CA 94607"]


NEGATIVE_SECTIONS = {
    Negatives.PARENTHESES: '_("$"* (#,##0.00)',
    Negatives.RED: '[Red]_("$"* (#,##0.00)',
    Negatives.MINUS: '_("$"* -#,##0.00_)',
    Negatives.RED_MINUS: '[Red]_("$"* -#,##0.00_)',
}


@pytest.mark.parametrize("negatives", list(Negatives))
def test_negative_money_follows_the_negatives_option_on_every_money_cell(tmp_path: Path, negatives: Negatives) -> None:
    tab = statement_tab(PLACEHOLDER_COMPANY)
    tab.rows = [*tab.rows, ["CR-1", Decimal("-5.00")]]
    tab.negatives = negatives
    path = tmp_path / "s.xlsx"
    write_workbook(Workbook("s", [tab]), path)
    ws = openpyxl.load_workbook(path)["Kettles"]
    money = [c for row in ws.iter_rows() for c in row if isinstance(c.value, int | float) and c.column > 1]
    assert -5 in [c.value for c in money] and len(money) >= 5  # open items, total, band, Amount due box
    for cell in money:
        sections = cell.number_format.split(";")
        assert sections[1] == NEGATIVE_SECTIONS[negatives], (cell.coordinate, cell.number_format)


@pytest.mark.parametrize(
    ("env", "definition", "expected"),
    [
        ({}, None, Negatives.PARENTHESES),
        ({"SHEETSYNC_NEGATIVES": "minus"}, None, Negatives.MINUS),
        ({"SHEETSYNC_NEGATIVES": "minus"}, "red", Negatives.RED),
    ],
)
def test_a_definitions_negatives_wins_over_the_configured_one(
    tmp_path: Path, env: dict[str, str], definition: str | None, expected: Negatives
) -> None:
    ar = find_definition("ar-aging").model_copy(update={"negatives": definition and Negatives(definition)})
    negatives = load_settings(env, cwd=tmp_path).negatives
    workbooks, _ = render(
        ar,
        resolve_params(ar, {}),
        {"aging": [], "customers": [], "invoices": [], "states": []},
        documented_fields(ar),
        negatives=negatives,
    )
    assert {t.negatives for t in workbooks[0].tabs} == {expected}


def test_an_unknown_negatives_setting_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"SHEETSYNC_NEGATIVES / negatives is 'purple'.*parentheses, red, minus"):
        load_settings({"SHEETSYNC_NEGATIVES": "purple"}, cwd=tmp_path)


def sheets_statement(tab: Tab) -> Any:
    """`tab` written to the Google Sheets double: the sheet as Google would hold it."""
    double = SheetsDouble()
    double.add_spreadsheet("sheet1")
    to_sheets(double, [Workbook("b", [tab])])
    return double.spreadsheets["sheet1"].sheet(tab.name)


def to_sheets(double: SheetsDouble, workbooks: list[Workbook]) -> list[str]:
    """Write to the double's "sheet1"; the titles of its sheets after."""
    creds = FakeServiceAccountCredentials()
    write_workbooks("sheet1", workbooks, credentials=creds, session=double.session(creds), sleep=None)
    return [sheet.title for sheet in double.spreadsheets["sheet1"].sheets]


def test_google_sheets_keeps_the_statements_when_no_customer_qualifies_and_drops_one_that_left() -> None:
    double = SheetsDouble()
    double.add_spreadsheet("sheet1")
    first = to_sheets(double, rendered({**OWING, **IN_CREDIT})[0])
    assert "Customer 1" in first
    assert to_sheets(double, rendered(IN_CREDIT)[0]) == first  # an empty result deletes nothing
    four = {4: ([(41, Decimal("10.00"))], [])}
    assert "Customer 1" not in to_sheets(double, rendered({**four, **IN_CREDIT})[0])  # a customer who left


def test_the_google_sheets_statement_carries_the_letterhead_remit_to_and_aging_band() -> None:
    workbooks, _ = rendered(OWING)
    tab = next(t for t in workbooks[0].tabs if t.statement)
    sheet = sheets_statement(tab)
    rows = [sheet.row_values(r) for r in range(2, tab.header_row - 1)]
    block = {row[0]: row[1] for row in rows}
    company = PLACEHOLDER_COMPANY
    assert block["From"].startswith(company.name) and company.address[0] in block["From"]
    assert block["Remit to"] == ", ".join(company.remit_to)
    assert block["Customer"] == "Customer 1, 1 Main St" and block["Amount due"] == "$100.00"
    band = ("Current", "1-30 days", "31-60 days", "61-90 days", "Over 90 days", "Credits")
    assert [block[label] for label in band] == ["$100.00", "$0.00", "$0.00", "$0.00", "$0.00", "$0.00"]
    assert block["Payment instructions"].startswith(company.payment_instructions[0])
    assert sheet.row_values(tab.header_row)[0] == "Invoice"  # the open items under the block
    assert not {"Parameters", "Environment", "Generated", "Report"} & set(block)


def test_text_beside_numbers_is_padded_in_google_sheets_too() -> None:
    columns = [Column("Product ID", Format.INTEGER), Column("Size"), Column("Name")]
    tab = Tab("T", "t", "T", columns, [[115, "1g", "X"]])
    sheet = sheets_statement(tab)
    formats = [sheet.cells[(tab.header_row, c)].get("userEnteredFormat", {}) for c in range(3)]
    assert formats[1]["horizontalAlignment"] == "LEFT" and formats[1]["padding"]["left"] > 3
    assert "padding" not in formats[0] and "padding" not in formats[2]  # only text right of a number


def test_the_aging_band_labels_have_room_for_two_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    write_workbook(Workbook("s", [statement_tab(PLACEHOLDER_COMPANY)]), path)
    ws = openpyxl.load_workbook(path)["Kettles"]
    band_row = next(c.row for row in ws.iter_rows() for c in row if c.value == "Current")
    assert ws.cell(band_row, 4).alignment.wrap_text  # "31-60 days" wraps in its column
    assert ws.row_dimensions[band_row].height >= 2 * 15  # and is never cut to one line
