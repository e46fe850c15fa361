"""The one aging rule (sheetsync/aging.py): pure boundaries, the sandbox's /arAging, and the report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers_reports import kss_all, run_cli, table
from helpers_statement import statements

from sheetsync import aging
from sheetsync.sandbox.data import TERMS, Invoice
from sheetsync.sandbox.kss_routes import _aging_row, aging_close_date

LISTS = {
    "CurrentInvoices": "Current",
    "Invoices_1_30": "1-30",
    "Invoices_31_60": "31-60",
    "Invoices_61_90": "61-90",
    "Invoices_91": "91+",
}
# (days from the due date to the as-of date, days past due, bucket)
BOUNDARIES = [
    (-1, 0, "Current"),  # due tomorrow
    (0, 0, "Current"),  # due on the as-of date
    (1, 1, "1-30"),  # due the day before
    (30, 30, "1-30"),
    (31, 31, "31-60"),
    (60, 60, "31-60"),
    (61, 61, "61-90"),
    (90, 90, "61-90"),
    (91, 91, "91+"),
]


@pytest.mark.parametrize(("offset", "days", "label"), BOUNDARIES)
def test_rule_at_the_boundaries(offset: int, days: int, label: str) -> None:
    as_of = date(2026, 3, 1)
    due = as_of - timedelta(days=offset)
    assert aging.days_past_due(due, as_of) == days
    assert aging.bucket(aging.days_past_due(due, as_of)) == label


@pytest.fixture(scope="module")
def listed(sandbox: Any) -> dict[str, Any]:
    """Every open invoice /arAging lists, with its bucket, due date and the aging's CloseDate."""
    rows = kss_all(sandbox, "arAging")
    where = {ref["InvoiceID"]: (label, row) for row in rows for key, label in LISTS.items() for ref in row[key]}
    invoices = []
    ids = list(where)
    for i in range(0, len(ids), 200):
        invoices += kss_all(
            sandbox, "invoices", InvoiceIDs=",".join(map(str, ids[i : i + 200])), Statuses="1,2,3,4,5,7"
        )
    out = {}
    for inv in invoices:
        label, row = where[inv["InvoiceID"]]
        close = date.fromisoformat(row["CloseDate"][:10])
        due = date.fromisoformat(inv["DueDate"][:10])
        out[inv["InvoiceNum"]] = {
            "bucket": label,
            "offset": (close - due).days,
            "due": due,
            "customer": row["CustomerID"],
        }
    return out


def test_sandbox_buckets_follow_the_rule_as_of_its_close_date(listed: dict[str, Any]) -> None:
    wrong = {num: item for num, item in listed.items() if aging.bucket(max(0, item["offset"])) != item["bucket"]}
    assert not wrong
    offsets = {item["offset"] for item in listed.values()}
    assert {0, 1, 30, 31, 90, 91} <= offsets  # seed 0 lists invoices at these boundaries


@pytest.mark.parametrize(("offset", "days", "label"), BOUNDARIES)
def test_sandbox_aging_row_at_each_boundary(offset: int, days: int, label: str) -> None:
    """/arAging's row for one open invoice due `offset` days before the CloseDate."""
    close = aging_close_date()
    invoice = Invoice(9, 1, close - timedelta(days=offset + TERMS[1]), 7, 1, None, None, 1, 1, datetime.now(UTC))
    invoice.total = 12345
    row = _aging_row(None, 1, [invoice])  # type: ignore[arg-type]
    assert row["CloseDate"][:10] == close.isoformat()
    listed = [LISTS[key] for key in LISTS if row[key]]
    assert listed == [label]


def test_report_as_of_moves_an_invoice_across_every_boundary(listed: dict[str, Any], tmp_path: Path) -> None:
    """One invoice, the report run as of its due date + each boundary offset: the rule's days and bucket."""
    num, item = next((num, item) for num, item in listed.items() if item["offset"] == 0)
    due = item["due"]
    for offset, days, label in BOUNDARIES:
        out = tmp_path / f"aging{offset}.xlsx"
        as_of = (due + timedelta(days=offset)).isoformat()
        customer = f"customer_ids={item['customer']}"
        run_cli("run", "ar-aging", "--sandbox", "-o", str(out), "-p", customer, "-p", f"as_of={as_of}")
        lines = [line for ws in statements(openpyxl.load_workbook(out)) for line in statement_lines(ws)]
        line = next(line for line in lines if line["Invoice"] == num)
        assert (line["Days past due"], line["Aging"]) == (days, label), as_of


def test_report_lines_agree_with_the_api_at_the_boundaries(listed: dict[str, Any], tmp_path: Path) -> None:
    """Default as-of (the CloseDate): each boundary invoice shows the API's bucket and its days past due."""
    picks = {}
    for offset, days, label in BOUNDARIES:
        num = next((num for num, item in listed.items() if item["offset"] == offset), None)
        if num is not None:
            picks[num] = (days, label)
    customers = sorted({listed[num]["customer"] for num in picks})
    out = tmp_path / "aging.xlsx"
    run_cli("run", "ar-aging", "--sandbox", "-o", str(out), "-p", "customer_ids=" + ",".join(map(str, customers)))
    book = openpyxl.load_workbook(out)
    lines = {line["Invoice"]: line for ws in statements(book) for line in statement_lines(ws)}
    assert len(picks) >= 6
    for num, (days, label) in picks.items():
        assert (lines[num]["Days past due"], lines[num]["Aging"]) == (days, label), num
        assert listed[num]["bucket"] == label


def statement_lines(ws: Any) -> list[dict[str, Any]]:
    return table(ws, "Invoice")[1]
