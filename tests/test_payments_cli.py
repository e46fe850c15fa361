"""`sheetsync payments` end to end from the command line against a sandbox: template -> fill -> plan ->
apply -> advance -> status, with the outcomes visible in the workbook."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner
from helpers_push import accounts, client_for, posts, sheet_rows

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely


@pytest.fixture
def cli_env(fresh_sandbox, monkeypatch):
    key = fresh_sandbox.info.keys["employee"]
    monkeypatch.setenv("KSS_BASE_URL", fresh_sandbox.info.kss)
    monkeypatch.setenv("KSS_API_KEY", key)
    return fresh_sandbox, key


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_template_fill_plan_apply_advance_status(cli_env, tmp_path) -> None:
    sandbox, key = cli_env
    a = accounts(client_for(sandbox), invoices=2, minimum=Decimal("30"))[0]
    out = tmp_path / "alloc.xlsx"
    made = _run("payments", "template", "--ar-account", str(a.ar), "-o", str(out))
    assert made.exit_code == 0, made.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Allocations", "Payments", "Open invoices"]
    ws = book["Allocations"]
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "AllocationID")
    assert [c.value for c in ws[header]] == [
        "AllocationID",
        "ARAccountID",
        "PaymentInvoiceNum",
        "TargetInvoiceNum",
        "Amount",
        "Status",
        "RequestID",
        "Message",
        "Updated",
    ]
    kinds = sorted(dv.type for dv in ws.data_validations.dataValidation)
    assert kinds == ["decimal", "list", "list"]
    pay = a.payments[0]["PaymentInvoiceNum"]
    for i, inv in enumerate(a.invoices[:2]):  # fill amounts as a person would
        ws.cell(header + 1 + i, 3, pay)
        ws.cell(header + 1 + i, 4, inv["InvoiceNum"])
        ws.cell(header + 1 + i, 5, 10.25 + i)
    book.save(out)

    plan = _run("payments", "push", str(out))
    assert plan.exit_code == 0, plan.output
    assert "2 to post, 0 already requested, 0 rejected" in plan.output
    assert "Nothing was sent" in plan.output
    assert posts(sandbox) == []

    applied = _run("payments", "push", str(out), "--apply")
    assert applied.exit_code == 0, applied.output
    assert len(posts(sandbox)) == 2
    rows = [r for r in sheet_rows(out).values() if r["PaymentInvoiceNum"]]
    assert [r["Status"] for r in rows] == ["Pending", "Pending"]
    assert all(isinstance(r["RequestID"], int) for r in rows)

    sandbox.advance(2)
    status = _run("payments", "status", str(out))
    assert status.exit_code == 0, status.output
    rows = [r for r in sheet_rows(out).values() if r["PaymentInvoiceNum"]]
    assert {r["Status"] for r in rows} <= {"Confirmed", "Rejected"}
    assert all(r["Message"] for r in rows)
    for result in (made, plan, applied, status):
        assert key not in result.output

    again = _run("payments", "push", str(out), "--apply")  # nothing twice
    assert again.exit_code == 0, again.output
    assert len(posts(sandbox)) == 2


def test_plan_with_rejected_rows_exits_partial_and_a_missing_file_is_a_usage_error(cli_env, tmp_path, capsys) -> None:
    sandbox, _ = cli_env
    a = accounts(client_for(sandbox))[0]
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["ARAccountID", "PaymentInvoiceNum", "TargetInvoiceNum", "Amount"])
    ws.append([a.ar, a.payments[0]["PaymentInvoiceNum"], a.invoices[0]["InvoiceNum"], "abc"])
    book.save(tmp_path / "bad.xlsx")
    result = _run("payments", "push", str(tmp_path / "bad.xlsx"), "--apply")
    assert result.exit_code == 1
    assert "D2: Amount 'abc' is not a number" in result.output
    assert posts(sandbox) == []
    assert run_safely(cli, ["payments", "push", str(tmp_path / "nope.xlsx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no such workbook") and err.count("\n") == 1
    (tmp_path / "alloc.csv").write_text("ARAccountID,Amount\n1,2\n")
    assert run_safely(cli, ["payments", "push", str(tmp_path / "alloc.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: input '{tmp_path / 'alloc.csv'}': give an .xlsx or .xlsm workbook")
    assert "output" not in err and err.count("\n") == 1


@pytest.mark.parametrize("path", [["payments"], ["payments", "template"], ["payments", "push"], ["payments", "status"]])
def test_help_has_an_example(path) -> None:
    result = _run(*path, "--help")
    assert result.exit_code == 0 and "Example:" in result.output


def test_template_for_an_account_with_nothing_is_an_error_and_writes_nothing(cli_env, tmp_path, capsys) -> None:
    out = tmp_path / "alloc.xlsx"
    code = run_safely(cli, ["payments", "template", "--ar-account", "1", "-o", str(out)])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: AR account 1 has no payments and no open invoices")
    assert not out.exists()


def _cells(book, name: str) -> dict[str, object]:
    return {c.coordinate: c.value for row in book[name].iter_rows() for c in row}


def test_the_template_again_refreshes_the_lists_and_keeps_every_allocation_line(cli_env, tmp_path, capsys) -> None:
    """`payments template` on a worksheet a person filled and pushed rewrites only the Payments and Open
    invoices tabs: every allocation line (its AllocationID, entries and outcomes), the user's column and
    tab stay. The worksheet of another AR account is refused and left as it was."""
    sandbox, _ = cli_env
    a = accounts(client_for(sandbox), invoices=2, minimum=Decimal("30"))[0]
    out = tmp_path / "alloc.xlsx"
    assert _run("payments", "template", "--ar-account", str(a.ar), "-o", str(out)).exit_code == 0
    book = openpyxl.load_workbook(out)
    ws = book["Allocations"]
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "AllocationID")
    pay = a.payments[0]["PaymentInvoiceNum"]
    for i, inv in enumerate(a.invoices[:2]):
        ws.cell(header + 1 + i, 3, pay)
        ws.cell(header + 1 + i, 4, inv["InvoiceNum"])
        ws.cell(header + 1 + i, 5, 10.25 + i)
    ws.cell(header + 1, 11, "my note")  # a user's column beside the table
    book.create_sheet("Mine")["A1"] = "=SUM(1,2)"
    book.save(out)
    assert _run("payments", "push", str(out), "--apply").exit_code == 0
    before = openpyxl.load_workbook(out)
    balance_before = {r[0]: r[4] for r in before["Payments"].iter_rows(min_row=4, values_only=True) if r[0]}

    again = _run("payments", "template", "--ar-account", str(a.ar), "-o", str(out))
    assert again.exit_code == 0, again.output
    assert "allocation lines were not touched" in again.output
    after = openpyxl.load_workbook(out)
    assert after.sheetnames == ["Allocations", "Payments", "Open invoices", "Mine"]
    for name in ("Allocations", "Mine"):
        assert _cells(after, name) == _cells(before, name), name
    rows = [r for r in sheet_rows(out).values() if r["PaymentInvoiceNum"]]
    assert [r["Status"] for r in rows] == ["Pending", "Pending"]
    balances = {r[0]: r[4] for r in after["Payments"].iter_rows(min_row=4, values_only=True) if r[0]}
    spent = Decimal(str(balance_before[pay])) - Decimal(str(balances.get(pay, 0)))
    assert spent == Decimal("21.50")  # the Payments tab shows the balance left after the two requests

    kept = out.read_bytes()
    other = accounts(client_for(sandbox))
    other_ar = next(x.ar for x in other if x.ar != a.ar)
    code = run_safely(cli, ["payments", "template", "--ar-account", str(other_ar), "-o", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"worksheet of AR account {a.ar}, not {other_ar}" in err and err.count("\n") == 1
    assert out.read_bytes() == kept


def test_a_google_sheet_refresh_rewrites_only_the_payments_and_invoice_tabs(fresh_sandbox) -> None:
    from sheets_double import FakeServiceAccountCredentials, SheetsDouble

    from sheetsync.push.template import fetch_template, refresh_lists
    from sheetsync.sinks.gsheets import GoogleSheetSource, write_workbooks

    sheet = "ALLOC-1"
    client = client_for(fresh_sandbox)
    a = accounts(client, invoices=2)[0]
    double = SheetsDouble()
    double.add_spreadsheet(sheet)
    creds = FakeServiceAccountCredentials()
    session = double.session(creds)
    workbook = fetch_template(client, a.ar, where=f"gsheet://{sheet}", lines=3)
    write_workbooks(sheet, [workbook], credentials=creds, session=session, sleep=lambda s: None)
    allocations = double.spreadsheets[sheet].sheet("Allocations").cells
    ids = {r: v.get("userEnteredValue", {}).get("stringValue", "") for (r, c), v in allocations.items() if c == 0}
    first = min(r for r, text in ids.items() if text.startswith(f"{a.ar}-"))  # the first allocation line
    allocations[(first, 2)] = {"userEnteredValue": {"stringValue": a.payments[0]["PaymentInvoiceNum"]}}
    allocations[(first, 9)] = {"userEnteredValue": {"formulaValue": "=1+1"}}
    kept = {k: dict(v) for k, v in allocations.items()}
    fewer = fetch_template(client, a.ar, lines=3)
    fewer.tabs[2].rows = fewer.tabs[2].rows[:1]
    source = GoogleSheetSource(sheet, credentials=creds, session=session, sleep=lambda s: None)
    assert refresh_lists(source, fewer, sheet) == (len(fewer.tabs[1].rows), 1)
    assert double.spreadsheets[sheet].sheet("Allocations").cells == kept
    rows = source.read_rows("Open invoices", required=("InvoiceNum",), columns=("InvoiceNum", "OpenBalance"))
    assert [r.values["InvoiceNum"] for r in rows] == [fewer.tabs[2].rows[0][0]]
    assert rows[0].values["OpenBalance"] == fewer.tabs[2].rows[0][5]
