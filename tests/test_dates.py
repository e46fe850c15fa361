"""Calendar dates stay calendar dates: the UTC date of KSS's timestamp, in every sink and in date().

KSS writes a calendar date as local midnight: T08:00Z (winter) or T07:00Z (summer) in /invoices, T00:00Z
in /payments/openInvoices and /purchases. Whatever the report's time zone, the cell shows that UTC date;
instants (InvoiceTimeCreated) are shown in the report's zone, which the info block names."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers_sinks import as_date, column_values, read_back

from sheetsync.apis.records import loads, type_record
from sheetsync.cli import cli
from sheetsync.definition import parse_definition
from sheetsync.report import render

DEFINITION = """
name: due
title: Due dates
timezone: ZONE
sources:
  invoices: {endpoint: invoices, params: {Statuses: [1, 2, 3, 4, 5, 7]}}
  open: {endpoint: payments/openInvoices}
  purchases: {endpoint: purchases}
tabs:
  - id: invoices
    from: invoices
    columns:
      - {header: Invoice, field: InvoiceNum}
      - {header: Due, field: DueDate, format: date}
      - {header: Due day, expr: "date(DueDate)", format: date}
      - {header: Date, field: Date, format: date}
      - {header: Created, field: InvoiceTimeCreated, format: datetime}
  - id: open
    from: open
    columns:
      - {header: Invoice, field: InvoiceNum}
      - {header: Due, field: DueDate, format: date}
      - {header: Due day, expr: "date(DueDate)", format: date}
  - id: purchases
    from: purchases
    columns:
      - {header: Purchase, field: PONum}
      - {header: Invoice date, field: InvoiceDate, format: date}
      - {header: Due, field: DueDate, format: date}
"""

# (winter, summer) x (T08/T07 in /invoices, T00 in the other two): every one is the 25th
INVOICES = [
    {"InvoiceNum": "W", "DueDate": "2026-01-25T08:00:00.000Z", "Date": "2025-12-26T08:00:00.000Z",
     "InvoiceTimeCreated": "2026-01-02T06:30:00.000Z"},
    {"InvoiceNum": "W7", "DueDate": "2026-01-25T07:00:00.000Z", "Date": "2025-12-26T07:00:00.000Z",
     "InvoiceTimeCreated": "2026-01-02T06:30:00.000Z"},
    {"InvoiceNum": "S", "DueDate": "2026-07-25T07:00:00.000Z", "Date": "2026-06-25T07:00:00.000Z",
     "InvoiceTimeCreated": "2026-07-02T06:30:00.000Z"},
]  # fmt: skip
OPEN = [
    {"InvoiceNum": "W", "DueDate": "2026-01-25T00:00:00.000Z"},
    {"InvoiceNum": "S", "DueDate": "2026-07-25T00:00:00.000Z"},
]
PURCHASES = [
    {"PONum": "W", "InvoiceDate": "2025-12-26T00:00:00.000Z", "DueDate": "2026-01-25T00:00:00.000Z"},
    {"PONum": "S", "InvoiceDate": "2026-06-25T00:00:00.000Z", "DueDate": "2026-07-25T00:00:00.000Z"},
]
ZONES = ["America/Los_Angeles", "America/New_York", "Pacific/Auckland", "UTC"]


def records() -> dict[str, list[dict]]:
    def typed(rows: list[dict], endpoint: str) -> list[dict]:
        return [type_record(loads(json.dumps(row)), endpoint) for row in rows]

    return {
        "invoices": typed(INVOICES, "invoices"),
        "open": typed(OPEN, "payments/openInvoices"),
        "purchases": typed(PURCHASES, "purchases"),
    }


def workbook(zone: str):
    definition = parse_definition(DEFINITION.replace("ZONE", zone), "due.yaml")
    (book,), _ = render(definition, {}, records(), {}, fetched_at=datetime(2026, 1, 26, 12, tzinfo=UTC))
    return book


@pytest.mark.parametrize("zone", ZONES)
def test_the_tab_model_holds_the_utc_calendar_date_in_every_zone(zone: str) -> None:
    invoices, open_items, purchases = workbook(zone).tabs
    winter, summer = date(2026, 1, 25), date(2026, 7, 25)
    assert [row[1:4] for row in invoices.rows] == [
        [winter, winter, date(2025, 12, 26)],
        [winter, winter, date(2025, 12, 26)],
        [summer, summer, date(2026, 6, 25)],
    ]
    assert [row[1:] for row in open_items.rows] == [[winter, winter], [summer, summer]]
    assert [row[1:] for row in purchases.rows] == [[date(2025, 12, 26), winter], [date(2026, 6, 25), summer]]


def test_every_sink_shows_the_calendar_date_and_instants_in_the_named_zone(tmp_path: Path) -> None:
    book = workbook("America/Los_Angeles")
    views = read_back(book, tmp_path)
    assert set(views) >= {"openpyxl", "calamine", "google"}
    for reader, tabs in views.items():
        invoices, open_items, purchases = tabs["invoices"], tabs["open"], tabs["purchases"]
        due = [as_date(v) for v in column_values(invoices, "Due")]
        assert due == [date(2026, 1, 25), date(2026, 1, 25), date(2026, 7, 25)], reader
        assert [as_date(v) for v in column_values(invoices, "Due day")] == due, reader
        assert [as_date(v) for v in column_values(open_items, "Due")] == [date(2026, 1, 25), date(2026, 7, 25)]
        assert [as_date(v) for v in column_values(purchases, "Invoice date")] == [date(2025, 12, 26), date(2026, 6, 25)]
        if reader != "google":  # the double keeps serial numbers for datetimes
            created = column_values(invoices, "Created")
            # 06:30Z is the evening before in Los Angeles (PST in January, PDT in July)
            assert created == [datetime(2026, 1, 1, 22, 30), datetime(2026, 1, 1, 22, 30), datetime(2026, 7, 1, 23, 30)]
        info = {row[0]: row[1] for row in invoices[1:7] if row and row[0]}
        assert info["Generated"].endswith("(America/Los_Angeles)"), reader


def test_fetch_csv_and_json_print_the_calendar_date() -> None:
    runner = CliRunner()
    args = ["fetch", "invoices", "--sandbox", "--limit", "3", "-p", "Statuses=1,2,3,4,5,7"]
    as_csv = runner.invoke(cli, [*args, "--format", "csv"], catch_exceptions=False)
    as_json = runner.invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert as_csv.exit_code == 0 and as_json.exit_code == 0, as_csv.output
    csv_rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    json_rows = json.loads(as_json.stdout)
    assert csv_rows and all(len(r["DueDate"]) == 10 and len(r["Date"]) == 10 for r in csv_rows)
    assert [r["DueDate"] for r in json_rows] == [r["DueDate"] for r in csv_rows]
    assert all("T" in r["InvoiceTimeCreated"] for r in csv_rows)  # an instant keeps its time
