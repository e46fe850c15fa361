"""A column without `format:` takes its format from the field's documented type, so money is a number
whose total a spreadsheet computes; `reports check` refuses a sum over text and a number format on an
identifier, naming file and line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from helpers_sinks import as_date, column_values, read_back

from sheetsync.apis.records import loads, type_record
from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.definition import parse_definition
from sheetsync.model import Format
from sheetsync.report import render

DEFINITION = """
name: open
title: Open invoices
sources:
  invoices: {endpoint: invoices, params: {Statuses: [1, 2, 3, 4, 5, 7]}}
tabs:
  - id: open
    columns:
      - {header: Invoice, field: InvoiceNum, total: label}
      - InvoiceID
      - {header: Due, field: DueDate}
      - {header: Units, field: TotalNumUnits}
      - {header: Cases, field: TotalCases}
      - {header: Total, field: InvoiceTotal, total: sum}
      - {header: Created, field: InvoiceTimeCreated}
"""
RAW = [
    {"InvoiceNum": "0042", "InvoiceID": 9001, "DueDate": "2026-01-25T08:00:00.000Z", "TotalNumUnits": "72",
     "TotalCases": "6.00", "InvoiceTotal": "3959.000000", "InvoiceTimeCreated": "2026-01-02T18:00:00.000Z"},
    {"InvoiceNum": "INV-2", "InvoiceID": 9002, "DueDate": "2026-02-25T08:00:00.000Z", "TotalNumUnits": "1",
     "TotalCases": "0.50", "InvoiceTotal": "-31.050000", "InvoiceTimeCreated": "2026-01-03T18:00:00.000Z"},
]  # fmt: skip


def workbook():
    records = {"invoices": [type_record(loads(json.dumps(r)), "invoices") for r in RAW]}
    (book,), _ = render(parse_definition(DEFINITION, "open.yaml"), {}, records, {}, fetched_at=datetime.now(UTC))
    return book


def test_formats_come_from_the_documented_types() -> None:
    formats = {c.header: c.format for c in workbook().tabs[0].columns}
    assert formats == {
        "Invoice": Format.TEXT,
        "InvoiceID": Format.ID,
        "Due": Format.DATE,
        "Units": Format.DECIMAL,
        "Cases": Format.DECIMAL,
        "Total": Format.CURRENCY,
        "Created": Format.DATETIME,
    }


def test_money_is_a_number_and_its_total_computes_in_every_sink(tmp_path: Path) -> None:
    book = workbook()
    views = read_back(book, tmp_path)
    totals_row = book.tabs[0].totals_row
    assert totals_row is not None
    for reader, tabs in views.items():
        rows = tabs["open"]
        assert column_values(rows, "Invoice", 2) == ["0042", "INV-2"], reader  # codes stay text
        assert column_values(rows, "InvoiceID", 2) == [9001, 9002], reader
        assert [as_date(v) for v in column_values(rows, "Due", 2)] == [date(2026, 1, 25), date(2026, 2, 25)]
        assert [Decimal(str(v)) for v in column_values(rows, "Total", 2)] == [Decimal("3959"), Decimal("-31.05")]
        if reader in ("libreoffice", "google"):  # they compute the formula; the file holds no cached value
            assert float(rows[totals_row - 1][5]) == pytest.approx(3927.95), reader


BAD_TOTAL = """name: bad
title: Bad
sources:
  invoices: {endpoint: invoices}
tabs:
  - id: t
    columns:
      - {header: Number, field: InvoiceNum}
      - {header: Sum, field: CustomerName, total: sum}
"""
BAD_ID = """name: bad
title: Bad
sources:
  invoices: {endpoint: invoices}
tabs:
  - id: t
    columns:
      - {header: PO, field: PONum, format: integer}
"""


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (BAD_TOTAL, 9, "column 'Sum': total: sum over a text column computes 0"),
        (BAD_TOTAL.replace("total: sum", "total: average"), 9, "total: average over a text column"),
        (BAD_ID, 8, "PONum is an identifier"),
    ],
)
def test_reports_check_refuses_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert run_safely(cli, ["reports", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err and message in err


def test_an_explicit_format_wins() -> None:
    text = DEFINITION.replace(
        "{header: Total, field: InvoiceTotal, total: sum}", "{header: Total, field: InvoiceTotal, format: decimal}"
    )
    records = {"invoices": [type_record(loads(json.dumps(r)), "invoices") for r in RAW]}
    (book,), _ = render(parse_definition(text, "open.yaml"), {}, records, {})
    assert {c.header: c.format for c in book.tabs[0].columns}["Total"] is Format.DECIMAL
