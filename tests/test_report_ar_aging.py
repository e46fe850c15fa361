"""reports/ar-aging.yaml end to end: `sheetsync run ar-aging --sandbox`, read back, reconciled with /arAging."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from helpers_lo import recalculate_with_libreoffice, soffice
from helpers_reports import kss_all, money, run_cli, table
from helpers_statement import customer_id, page, statements

from sheetsync.cli import cli
from sheetsync.expr import compile_expr

BUCKETS = {
    "Current": ("CurrentDue", "CurrentInvoices"),
    "1-30": ("Due_1_30", "Invoices_1_30"),
    "31-60": ("Due_31_60", "Invoices_31_60"),
    "61-90": ("Due_61_90", "Invoices_61_90"),
    "91+": ("Due_91", "Invoices_91"),
}
BOUNDS = {"Current": (None, 0), "1-30": (1, 30), "31-60": (31, 60), "61-90": (61, 90), "91+": (91, None)}
SANDBOX_TODAY = date(2026, 3, 2)  # the sandbox day; /arAging ages its invoices as of the day before (CloseDate)


# ---------------------------------------------------------------- helpers


def info(ws: Any) -> dict[str, Any]:
    return {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 17) if ws.cell(r, 1).value}


def statement_customer(ws: Any) -> int:
    return customer_id(ws)


@pytest.fixture(scope="module")
def world(sandbox) -> dict[str, Any]:
    aging = kss_all(sandbox, "arAging")
    ids = [ref["InvoiceID"] for row in aging for _, listed in BUCKETS.values() for ref in row[listed]]
    ids += [ref["InvoiceID"] for row in aging for ref in row["CreditInvoices"]]
    invoices: dict[int, dict] = {}
    for i in range(0, len(ids), 200):
        for inv in kss_all(
            sandbox, "invoices", InvoiceIDs=",".join(map(str, ids[i : i + 200])), Statuses="1,2,3,4,5,7"
        ):
            invoices[inv["InvoiceID"]] = inv
    customers = kss_all(sandbox, "customers", AccountStatuses="Active,Inactive,OutOfBus")
    return {
        "aging": {row["CustomerID"]: row for row in aging},
        "invoices": invoices,
        "customers": {c["CustomerID"]: c for c in customers},
    }


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("ar-home")
    path = tmp_path_factory.mktemp("ar") / "ar-aging.xlsx"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHEETSYNC_CACHE_DIR", str(home / "cache"))
        run_cli("run", "ar-aging", "--sandbox", "-o", str(path))
    yield path


@pytest.fixture(scope="module")
def book(workbook: Path) -> Any:
    return openpyxl.load_workbook(workbook)


# ---------------------------------------------------------------- the summary


def test_every_summary_row_reconciles_with_ar_aging(book, world) -> None:
    ws = book["Summary"]
    headers, rows, first, total = table(ws)
    assert headers[:3] == ["Customer", "Customer ID", "State"]
    assert sorted(r["Customer ID"] for r in rows) == sorted(world["aging"])  # every customer, once
    statuses = {world["customers"][r["Customer ID"]]["AccountStatus"] for r in rows}
    assert statuses == {"Active", "Inactive", "OutOfBus"}
    for row in rows:
        aging = world["aging"][row["Customer ID"]]
        customer = world["customers"][row["Customer ID"]]
        assert row["Customer"] == customer["CustomerName"]
        assert row["Sales rep"] == customer["SalesRepName"]
        for header, (field, _) in BUCKETS.items():
            assert money(row[header]) == money(aging[field]), (row["Customer ID"], header)
        assert money(row["Open credit"]) == money(aging["OpenCredit"])
        assert money(row["Total outstanding"]) == money(aging["TotalBalanceOutstanding"])
        assert row["Statement date"].date() == date.fromisoformat(aging["StatementDate"][:10])
    column = headers.index("Total outstanding") + 1
    letter = openpyxl.utils.get_column_letter(column)
    assert ws.cell(total, column).value == f"=SUBTOTAL(109,{letter}{first}:{letter}{total - 1})"
    assert len(ws._charts) == 1 and ws._charts[0].title is not None


# ---------------------------------------------------------------- the statements


def test_each_statement_is_its_customers_open_items_and_totals_to_the_cent(book, world) -> None:
    sheets = statements(book)
    owing = {cid for cid, row in world["aging"].items() if money(row["TotalBalanceOutstanding"]) > 0}
    assert {statement_customer(ws) for ws in sheets} == owing  # a balance owed: a statement
    for ws in sheets:
        cid = statement_customer(ws)
        aging, customer = world["aging"][cid], world["customers"][cid]
        shown = page(ws)
        assert shown["Bill to"][:2] == [customer["CustomerName"], customer["Address"]]
        assert shown["Your representative"] == customer["SalesRepName"]
        assert shown["Statement date"].date().isoformat() == aging["CloseDate"][:10]  # the as-of date: a date cell
        assert money(shown["Amount due"]) == money(aging["TotalBalanceOutstanding"])
        band = {label: money(value) for label, value in shown["band"].items()}
        for label, (field, _) in zip(
            ("Current", "1-30 days", "31-60 days", "61-90 days", "Over 90 days"), BUCKETS.values(), strict=True
        ):
            assert band[label] == money(aging[field]), (cid, label)
        assert band["Credits"] == money(aging["OpenCredit"]) and band["Amount due"] == money(shown["Amount due"])
        headers, lines, first, total = table(ws, "Invoice")
        expected = {ref["InvoiceNum"]: label for label, (_, listed) in BUCKETS.items() for ref in aging[listed]}
        expected |= {ref["InvoiceNum"]: "Credit" for ref in aging["CreditInvoices"]}
        assert {line["Invoice"]: line["Aging"] for line in lines} == expected
        assert len(lines) == len(expected)
        by_num = {inv["InvoiceNum"]: inv for inv in world["invoices"].values()}
        running = Decimal(0)
        for offset, line in enumerate(lines):
            invoice = by_num[line["Invoice"]]
            assert invoice["CustomerID"] == cid  # no one else's rows
            assert money(line["Open balance"]) == money(invoice["OpenBalance"])
            assert (line["Open balance"] < 0) == (line["Aging"] == "Credit")  # credits are negative lines
            running += money(line["Open balance"])
            assert money(line["Running balance"]) == running
            assert "APIKeyID=" in invoice["PDFURL"] and ws.cell(first + offset, 1).hyperlink is None  # never our key
        assert running == money(aging["TotalBalanceOutstanding"]), cid
        assert ws.cell(total, headers.index("Open balance") + 1).value == f"=SUBTOTAL(109,G{first}:G{total - 1})"


def test_run_metadata_is_in_the_properties_and_the_hidden_about_sheet(book) -> None:
    about = next(ws for ws in book.worksheets if ws.title == "About")
    assert about.sheet_state == "hidden"
    rows = {row[0]: row[1] for row in about.iter_rows(values_only=True) if row and row[0]}
    assert rows["Report"] == "AR aging (ar-aging)" and rows["Environment"] == "sandbox"
    assert "burst=false" in rows["Parameters"]
    assert book.properties.title == "AR aging (ar-aging)" and "burst=false" in book.properties.subject
    listed = [
        row for row in about.iter_rows(values_only=True) if row and row[0] in {ws.title for ws in statements(book)}
    ]
    assert len(listed) == len(statements(book))  # each statement's sheet, customer and amount due
    for ws in statements(book):
        text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
        for word in ("Parameters", "Environment", "Generated", "sandbox", "burst="):
            assert word not in text, (ws.title, word)


def test_days_past_due_of_a_known_invoice(book, world) -> None:
    """Default as-of is the aging's CloseDate, the date the sandbox's buckets count to as well."""
    aging = world["aging"][1]
    ref = aging["Invoices_91"][0]
    invoice = world["invoices"][ref["InvoiceID"]]
    due = date.fromisoformat(invoice["DueDate"][:10])
    close = date.fromisoformat(aging["CloseDate"][:10])
    ws = next(ws for ws in statements(book) if statement_customer(ws) == 1)
    line = next(line for line in table(ws, "Invoice")[1] if line["Invoice"] == ref["InvoiceNum"])
    assert line["Days past due"] == (close - due).days > 90
    assert line["Due date"].date() == due
    assert line["Date"].date() == date.fromisoformat(invoice["Date"][:10])


def test_as_of_moves_days_past_due_into_the_bucket_ranges(tmp_path: Path, world) -> None:
    out = tmp_path / "asof.xlsx"
    run_cli(
        "run",
        "ar-aging",
        "--sandbox",
        "-o",
        str(out),
        "-p",
        "customer_ids=1,2,3",
        "-p",
        f"as_of={SANDBOX_TODAY.isoformat()}",
    )
    book = openpyxl.load_workbook(out)
    checked = 0
    for ws in statements(book):
        for line in table(ws, "Invoice")[1]:
            low, high = BOUNDS.get(line["Aging"], (None, None))
            if line["Aging"] == "Credit":
                assert line["Days past due"] is None
                continue
            days = line["Days past due"]
            assert (low is None or days >= low) and (high is None or days <= high), line
            checked += 1
    assert checked > 10
    assert "as_of=2026-03-02" in info(book["Summary"])["Parameters"]


def showcase(world: dict[str, Any]) -> tuple[int, int]:
    """(a customer in credit, a customer whose open items net to zero) of the sandbox."""
    rows = world["aging"].values()
    in_credit = next(r["CustomerID"] for r in rows if money(r["TotalBalanceOutstanding"]) < 0)
    netting = next(r["CustomerID"] for r in rows if money(r["TotalBalanceOutstanding"]) == 0 and r["CreditInvoices"])
    return in_credit, netting


@pytest.mark.parametrize(
    ("flags", "who"),
    [((), {"owing"}), (("include_credit",), {"owing", "in_credit"}), (("include_zero",), {"owing", "netting"})],
)
def test_credit_and_zero_balances_get_a_statement_when_asked(
    tmp_path: Path, world, flags: tuple[str, ...], who: set[str]
) -> None:
    in_credit, netting = showcase(world)
    ids = {"owing": 1, "in_credit": in_credit, "netting": netting}
    out = tmp_path / "s.xlsx"
    args = [
        "-p",
        f"customer_ids={ids['owing']},{in_credit},{netting}",
        *[a for f in flags for a in ("-p", f"{f}=true")],
    ]
    run_cli("run", "ar-aging", "--sandbox", "-o", str(out), *args)
    sheets = {customer_id(ws): ws for ws in statements(openpyxl.load_workbook(out))}
    assert set(sheets) == {ids[name] for name in who}
    for cid, ws in sheets.items():
        assert money(page(ws)["Amount due"]) == money(world["aging"][cid]["TotalBalanceOutstanding"])
    if in_credit in sheets:
        assert page(ws := sheets[in_credit])["Amount due"] < 0 and table(ws, "Invoice")[1][-1]["Aging"] == "Credit"


def test_no_customer_qualifying_warns_and_keeps_the_workbooks_statements(tmp_path: Path, world) -> None:
    in_credit, _ = showcase(world)
    out = tmp_path / "s.xlsx"
    run_cli("run", "ar-aging", "--sandbox", "-o", str(out), "-p", "customer_ids=1")
    before = {
        ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in statements(openpyxl.load_workbook(out))
    }
    result = CliRunner().invoke(
        cli, ["run", "ar-aging", "--sandbox", "-o", str(out), "-p", f"customer_ids={in_credit}"]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "no statement written" in line]
    assert len(lines) == 1 and "CustomerID" in lines[0]
    book = openpyxl.load_workbook(out)
    assert {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in statements(book)} == before
    assert len(before) == 1 and not [ws for ws in book.worksheets if ws.max_row <= 1]  # no blank tab
    assert "no longer in the report" not in result.output  # still the report's: the next run refreshes it
    again = CliRunner().invoke(cli, ["run", "ar-aging", "--sandbox", "-o", str(out), "-p", "customer_ids=1"])
    assert again.exit_code == 0 and "warning" not in again.output, again.output
    assert [ws.title for ws in statements(openpyxl.load_workbook(out))] == list(before)


def test_burst_gives_each_customer_only_their_own_rows(tmp_path: Path, world) -> None:
    run_cli("run", "ar-aging", "--sandbox", "-o", str(tmp_path) + "/", "-p", "customer_ids=1,5", "-p", "burst=true")
    files = sorted(tmp_path.glob("*.xlsx"))
    assert len(files) == 2
    for path in files:
        book = openpyxl.load_workbook(path)
        _, rows, _, _ = table(book["Summary"])
        assert len(rows) == 1
        cid = rows[0]["Customer ID"]
        assert path.stem.endswith(f"-{cid}")
        aging = world["aging"][cid]
        mine = {ref["InvoiceNum"] for _, listed in BUCKETS.values() for ref in aging[listed]}
        mine |= {ref["InvoiceNum"] for ref in aging["CreditInvoices"]}
        sheets = statements(book)
        assert [statement_customer(ws) for ws in sheets] == [cid]
        assert {line["Invoice"] for line in table(sheets[0], "Invoice")[1]} == mine
        assert len(sheets[0]._images) == 1  # the logo


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_recalculates_summary_and_statement_totals(workbook: Path, world, tmp_path: Path) -> None:
    converted = recalculate_with_libreoffice(workbook, tmp_path / "lo")
    book = openpyxl.load_workbook(converted, data_only=True)
    ws = book["Summary"]
    headers, rows, _, total = table(ws)
    for header in (*BUCKETS, "Open credit", "Total outstanding"):
        column = headers.index(header) + 1
        assert money(ws.cell(total, column).value) == sum((money(r[header]) for r in rows), Decimal(0))
    grand = sum((money(row["TotalBalanceOutstanding"]) for row in world["aging"].values()), Decimal(0))
    assert money(ws.cell(total, headers.index("Total outstanding") + 1).value) == grand
    for statement in statements(book)[:3]:
        headers, _lines, _, total = table(statement, "Invoice")
        cid = statement_customer(statement)
        value = statement.cell(total, headers.index("Open balance") + 1).value
        assert money(value) == money(world["aging"][cid]["TotalBalanceOutstanding"])


# ---------------------------------------------------------------- the money() expression function


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("money(1234.5)", "$1,234.50"),
        ("money(-78.785)", "-$78.79"),
        ("money(0)", "$0.00"),
        ("money(null)", None),
        ("money(12, '€')", "€12.00"),
        ("money('1000000.004')", "$1,000,000.00"),
    ],
)
def test_money_formats_amounts_for_header_lines(text: str, expected: str | None) -> None:
    assert compile_expr(text).evaluate({}) == expected


def test_dates_of_kss_timestamps_are_their_utc_calendar_dates() -> None:
    """KSS writes a calendar date as local midnight (07:00Z); date() keeps the calendar date."""
    from datetime import UTC

    stamp = datetime(2026, 1, 25, 7, 0, tzinfo=UTC)
    assert compile_expr("date(CloseDate)").evaluate({"CloseDate": stamp}) == date(2026, 1, 25)
    assert compile_expr("days_between(date(d), date('2026-03-01'))").evaluate({"d": stamp}) == 35
