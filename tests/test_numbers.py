"""Exact numbers: nothing with more than 15 significant digits passes through a float. Such a value in a
numeric column is written as text with every digit (read back by openpyxl, python-calamine, LibreOffice
and the Sheets double) and counted in a warning naming the column."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from helpers_sinks import column_values, read_back, read_xlsx

from sheetsync.apis.records import loads, type_record
from sheetsync.definition import parse_definition
from sheetsync.model import RunWarning
from sheetsync.report import render
from sheetsync.sinks.targets import XlsxTarget, write_outputs
from sheetsync.sinks.text import significant_digits, too_precise

DEFINITION = """
name: refs
title: References
sources:
  invoices: {endpoint: invoices, params: {Statuses: [1, 2, 3, 4, 5, 7]}}
tabs:
  - id: refs
    columns:
      - {header: Invoice, field: InvoiceID, format: integer}
      - {header: Reference, expr: PONum, format: integer}
      - {header: Tracking, expr: Memo, format: decimal}
      - {header: Total, field: InvoiceTotal, format: currency, total: sum}
"""
RAW = [
    {"InvoiceID": "12345678901234567", "PONum": "12345678901234567", "Memo": "9405537897842130146579",
     "InvoiceTotal": "1536.000000"},
    {"InvoiceID": 9001, "PONum": "000123456789012345678", "Memo": "123456789012345", "InvoiceTotal": "0.5"},
]  # fmt: skip


def workbook():
    records = {"invoices": [type_record(loads(json.dumps(r)), "invoices") for r in RAW]}
    definition = parse_definition(DEFINITION, "refs.yaml")
    (book,), _ = render(definition, {}, records, {}, fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    return book


def test_long_digit_strings_keep_every_digit_in_every_sink(tmp_path: Path) -> None:
    views = read_back(workbook(), tmp_path)
    for reader, tabs in views.items():
        rows = tabs["refs"]
        assert column_values(rows, "Invoice", 2) == ["12345678901234567", 9001], reader
        assert column_values(rows, "Reference", 2) == ["12345678901234567", "000123456789012345678"], reader
        tracking = column_values(rows, "Tracking", 2)
        assert tracking[0] == "9405537897842130146579", reader
        assert tracking[1] == 123456789012345, reader  # 15 digits: still a number, exactly
        assert [float(v) for v in column_values(rows, "Total", 2)] == [1536.0, 0.5], reader


def test_the_warning_names_the_column_and_counts() -> None:
    records = {"invoices": [type_record(loads(json.dumps(r)), "invoices") for r in RAW]}
    _, warnings = render(parse_definition(DEFINITION, "refs.yaml"), {}, records, {})
    found = {w.subject: w.message for w in warnings if isinstance(w, RunWarning) and w.code == "number-as-text"}
    assert set(found) == {"Invoice", "Reference", "Tracking"}
    assert "column 'Reference': 2 number(s) have more than 15 significant digits" in found["Reference"]
    assert "column 'Tracking': 1 number(s)" in found["Tracking"]


def test_a_long_number_reaching_a_sink_is_written_as_its_digits(tmp_path: Path) -> None:
    book = workbook()
    book.tabs[0].rows = [[12345678901234567, None, Decimal("1234567890.1234567"), Decimal("1")]]
    warnings: list[RunWarning] = []
    path = tmp_path / "n.xlsx"
    write_outputs([XlsxTarget(path)], [book], warnings=warnings)
    assert column_values(read_xlsx(path)["refs"], "Invoice", 1) == ["12345678901234567"]
    assert column_values(read_xlsx(path)["refs"], "Tracking", 1) == ["1234567890.1234567"]
    assert {w.subject for w in warnings if w.code == "number-as-text"} == {"Invoice", "Tracking"}


def test_a_long_documented_id_stays_text_when_typed() -> None:
    record = type_record(loads(b'{"InvoiceID": "12345678901234567890", "CustomerID": "17"}'), "invoices")
    assert record == {"InvoiceID": "12345678901234567890", "CustomerID": 17}


def test_significant_digits() -> None:
    assert significant_digits(Decimal("34604.230000")) == 7
    assert significant_digits(10**20) == 1 and not too_precise(10**20)
    assert too_precise(12345678901234567) and not too_precise(123456789012345)
    assert too_precise(Decimal("1234567890123.4567")) and not too_precise(Decimal("1536.000000000000000"))
    assert not too_precise(True)
