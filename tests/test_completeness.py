"""Nothing silently empty: requested IDs the API does not return are structured warnings and exit PARTIAL;
a query or tab that matched nothing is a warning with exit 0. Against the sandbox, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    code = run_safely(cli, ["run", *args, "--sandbox", "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_an_unknown_customer_id_is_named_and_the_run_is_partial(tmp_path: Path, capsys) -> None:
    out = tmp_path / "prices.xlsx"
    code, summary, _ = run(capsys, "price-list", "-p", "customer_ids=1,99999", "-o", str(out))
    assert code == 1  # PARTIAL: the user asked for something that is not there
    missing = [w for w in summary["warnings"] if w["code"] == "id-not-returned"]
    assert {w["subject"] for w in missing} == {"CustomerID=99999"}
    assert all(set(w) == {"code", "message", "subject"} for w in summary["warnings"])
    assert "does not exist" in missing[0]["message"] and "Customer key" in missing[0]["message"]
    assert out.exists()  # what was found is still written


def test_the_run_summary_on_stderr_names_it_too(tmp_path: Path, capsys) -> None:
    code = run_safely(
        cli, ["run", "price-list", "-p", "customer_ids=99999", "--sandbox", "-o", str(tmp_path / "p.xlsx")]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "warning: CustomerID 99999 was not returned by KSS customers" in err
    assert "warning: CustomerID 99999 was not returned by KSS customerPricing" in err
    # a tab split by customer with no customer is one line, and no blank tab is written
    assert "warning: price-list: no tab written (tab 'customer'): no CustomerID has rows" in err
    assert not (tmp_path / "p.xlsx").exists()


def test_a_filter_that_matches_nothing_is_a_warning_with_exit_0(tmp_path: Path, capsys) -> None:
    code, summary, _ = run(capsys, "ar-aging", "-p", "states=ZZ", "-o", str(tmp_path / "aging") + "/")
    codes = {w["code"] for w in summary["warnings"]}
    assert code == 0 and "no-records" in codes and "id-not-returned" not in codes
    assert any("States=ZZ" in w["message"] for w in summary["warnings"])


def test_a_complete_run_has_no_such_warnings(tmp_path: Path, capsys) -> None:
    out = tmp_path / "prices.xlsx"
    code, summary, _ = run(capsys, "price-list", "-p", "customer_ids=1,2", "-o", str(out))
    assert code == 0
    assert not [w for w in summary["warnings"] if w["code"] in ("id-not-returned", "no-records", "no-rows")]
    assert len(openpyxl.load_workbook(out).sheetnames) >= 2


OPEN_INVOICES = """name: open
title: Open invoices
sources:
  invoices:
    endpoint: invoices
    params: {CustomerIDs: [1]}
tabs:
  - id: t
    columns: [InvoiceNum, InvoiceTotal]
"""


def test_reports_check_warns_when_a_narrowing_default_is_left_unset(tmp_path: Path, capsys) -> None:
    path = tmp_path / "open.yaml"
    path.write_text(OPEN_INVOICES)
    assert run_safely(cli, ["reports", "check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ok:")
    assert f"warning: {path}:4: source 'invoices' leaves Statuses unset: only New (1) invoices" in err
    path.write_text(OPEN_INVOICES.replace("{CustomerIDs: [1]}", "{CustomerIDs: [1], Statuses: [1, 2, 3]}"))
    assert run_safely(cli, ["reports", "check", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_missing_invoice_names_the_statuses_default_as_a_cause(tmp_path: Path, capsys) -> None:
    path = tmp_path / "open.yaml"
    path.write_text(OPEN_INVOICES.replace("{CustomerIDs: [1]}", "{InvoiceIDs: [1, 99999999]}"))
    code, summary, _ = run(capsys, str(path), "-o", str(tmp_path / "o.xlsx"))
    assert code == 1
    messages = {w["subject"]: w["message"] for w in summary["warnings"]}
    assert "a default excludes it: only New (1) invoices" in messages["InvoiceID=99999999"]
    assert "invoices.Statuses" in messages


def test_fetch_names_missing_ids_and_exits_partial(capsys) -> None:
    code = run_safely(cli, ["fetch", "customers", "--sandbox", "-p", "CustomerIDs=1,99999", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1 and [r["CustomerID"] for r in json.loads(out)] == [1]
    assert "warning: CustomerID 99999 was not returned by KSS customers" in err


def test_fetch_of_nothing_is_a_warning_with_exit_0(capsys) -> None:
    code = run_safely(cli, ["fetch", "customers", "--sandbox", "-p", "States=ZZ"])
    assert code == 0 and "matched no records" in capsys.readouterr().err
