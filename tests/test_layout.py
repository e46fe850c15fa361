"""Layout: typed cells per format, links, split tabs with stable keys, names, header block, rules, burst."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from sheetsync import model
from sheetsync.definition import parse_definition
from sheetsync.layout import tab_name, typed, unique_tab_names
from sheetsync.report import render

TZ = ZoneInfo("America/Los_Angeles")
TEXT = """
name: inv
title: Invoices
params:
  customer_ids: {type: int_list, required: true}
  alert: {type: decimal, default: 100}
sources:
  invoices: {endpoint: invoices, params: {CustomerIDs: "{{ params.customer_ids }}"}}
transforms:
  - sort: {by: [CustomerID, InvoiceNum]}
tabs:
  - id: customer
    split: CustomerID
    name: "{{ CustomerName }}"
    title: "Invoices for {{ CustomerName }}"
    info: {Customer: "{{ CustomerName }} (#{{ value }})"}
    columns:
      - {header: Invoice, field: InvoiceNum, link: {url: PDFURL}}
      - {header: Date, field: Date, format: date}
      - {header: Total, field: InvoiceTotal, format: currency, total: sum}
      - {header: Units, field: TotalNumUnits, format: integer}
      - {header: Over, expr: "InvoiceTotal > params.alert", format: text}
    rules:
      - {when: Total, op: ">", value: "{{ params.alert }}", fill: "#F4CCCC"}
BURST
"""
RECORDS = {
    "invoices": [
        {
            "InvoiceID": 1,
            "CustomerID": 12,
            "CustomerName": "Kettles [CA]: a very long customer name indeed",
            "InvoiceNum": "=X-1",
            "PDFURL": "https://example.com/1",
            "Date": datetime(2026, 2, 10, 7, tzinfo=UTC),
            "InvoiceTotal": D("1536.005"),
            "TotalNumUnits": "72",
        },
        {
            "InvoiceID": 2,
            "CustomerID": 15,
            "CustomerName": "Pine",
            "InvoiceNum": "X-2",
            "PDFURL": None,
            "Date": datetime(2026, 2, 11, 7, tzinfo=UTC),
            "InvoiceTotal": D("10"),
            "TotalNumUnits": None,
        },
    ]
}


def build(burst: str = "", params: dict | None = None):
    definition = parse_definition(TEXT.replace("BURST", burst), "inv.yaml")
    return render(
        definition,
        params or {"customer_ids": [12, 15], "alert": D(100)},
        RECORDS,
        {},
        environment="sandbox",
        fetched_at=datetime(2026, 2, 12, 18, tzinfo=UTC),
    )


def test_split_tabs_typed_cells_and_header_block() -> None:
    (workbook,), warnings = build()
    codes = [getattr(w, "code", w) for w in warnings]
    assert workbook.name == "inv" and codes == ["narrowing-default", "tab-renamed"]  # "Kettles [CA]: a very..."
    first, second = workbook.tabs
    assert first.key == "inv/customer-12" and second.key == "inv/customer-15"
    assert len(first.name) <= 31 and not set("[]:*?/\\") & set(first.name)
    assert first.rows[0] == [model.Link("https://example.com/1", "=X-1"), date(2026, 2, 9), D("1536.01"), 72, "true"]
    assert second.rows[0][0] == "X-2" and second.rows[0][3] is None  # no URL: plain text
    labels = dict(first.info)
    assert labels["Customer"].endswith("(#12)")
    assert labels["Environment"] == "sandbox" and labels["Parameters"] == "customer_ids=12,15; alert=100"
    assert labels["Data as of"].startswith("2026-02-12 10:00")
    assert first.columns[2] == model.Column("Total", model.Format.CURRENCY, None, model.Total.SUM)
    assert first.rules[0].value == D(100) and first.rules[0].style.fill == "#F4CCCC"


def test_burst_gives_each_value_its_own_rows_only() -> None:
    workbooks, _ = build("burst: {by: CustomerID, name: 'inv-{{ value }}'}")
    assert [w.name for w in workbooks] == ["inv-12", "inv-15"]
    for workbook, customer in zip(workbooks, (12, 15), strict=True):
        assert [t.key for t in workbook.tabs] == [f"inv/customer-{customer}"]


def test_an_empty_split_gives_no_tab_and_one_warning() -> None:
    definition = parse_definition(TEXT.replace("BURST", ""), "inv.yaml")
    (workbook,), warnings = render(definition, {"customer_ids": [1], "alert": D(1)}, {"invoices": []}, {})
    assert workbook.tabs == []  # never a blank tab
    assert [w.code for w in warnings if "no tab written" in str(w)] == ["no-rows"]


def test_typed_values() -> None:
    assert typed("12.50", model.Format.CURRENCY, TZ) == D("12.50")
    assert typed(D("2.345"), model.Format.CURRENCY, TZ) == D("2.35")
    assert typed("50g", model.Format.DECIMAL, TZ) == "50g"  # does not fit: stays text
    assert typed(D("3.0"), model.Format.INTEGER, TZ) == 3
    assert typed(datetime(2026, 1, 25, 7, tzinfo=UTC), model.Format.DATETIME, TZ) == datetime(2026, 1, 24, 23)
    assert typed("2026-01-02", model.Format.DATE, TZ) == date(2026, 1, 2)
    assert typed(7, model.Format.TEXT, TZ) == "7"
    assert typed(["a", "b"], model.Format.TEXT, TZ) == "a, b"
    assert typed("", model.Format.CURRENCY, TZ) is None


def test_tab_names_are_cleaned_and_unique() -> None:
    assert tab_name("a/b:c*d?[e]") == "a_b_c_d__e_"
    tabs = [model.Tab(tab_name("Same name " * 5), f"k{i}", "t", [], []) for i in range(3)]
    unique_tab_names(tabs)
    names = [t.name for t in tabs]
    assert len(set(names)) == 3 and all(len(n) <= 31 for n in names) and names[1].endswith("(2)")
