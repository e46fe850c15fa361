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
