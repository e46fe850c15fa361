"""`sheetsync fetch` against the in-process sandbox: formats, limits, path endpoints, refusals."""

from __future__ import annotations

import csv
import io
import json

import pytest

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.cli.fetch import text
from sheetsync.errors import ExitCode


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_safely(cli, ["fetch", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fetch_products_json_limited(capsys):
    code, out, err = run(capsys, "products", "--sandbox", "--limit", "3", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 3 and all(isinstance(r["ProductID"], int) for r in rows)
    assert "3 rows, 1 requests" in err


def test_fetch_csv_keeps_decimal_strings(capsys):
    code, out, _ = run(capsys, "arAging", "--sandbox", "--limit", "2", "--format", "csv", "-p", "CustomerIDs=1,2")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and "." in rows[0]["TotalBalanceOutstanding"]
    assert rows[0]["TotalBalanceOutstanding"].split(".")[1].isdigit()


def test_fetch_single_record_by_path(capsys):
    code, out, _ = run(capsys, "customers/1", "--sandbox", "--format", "json")
    assert code == 0 and json.loads(out)[0]["CustomerID"] == 1
    code, out, _ = run(capsys, "customers/{customerID}", "-p", "customerID=1", "--sandbox", "--format", "json")
    assert code == 0 and json.loads(out)[0]["CustomerID"] == 1


def test_fetch_table(capsys):
    code, out, _ = run(capsys, "states", "--sandbox")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[0] and set(lines[1]) <= {"-", " "}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["products", "-p", "SuplierIDs=1"], ExitCode.USAGE, "did you mean SupplierIDs"),
        (["products", "-p", "SupplierIDs=abc"], ExitCode.USAGE, "expects a number"),
        (["prodcts"], ExitCode.USAGE, "did you mean products"),
        (["arAging", "--sandbox-key", "supplier"], ExitCode.API, "not available to Supplier keys"),
        (["products", "-p", "oops"], ExitCode.USAGE, "expected NAME=VALUE"),
    ],
)
def test_fetch_refusals_are_one_line(capsys, args, code, message):
    got, out, err = run(capsys, *args, "--sandbox")
    assert got == code and message in err and err.count("\n") == 1 and out == ""


def test_fetch_never_posts(capsys):
    code, _, _ = run(capsys, "payments/applications/requested", "--sandbox", "--limit", "1")
    assert code == 0  # the GET of the same path
    from sheetsync.apis import registry

    assert registry.resolve("payments/applications/requested")[0].method == "GET"


def test_fetch_list_and_help(capsys):
    code, out, _ = run(capsys, "--list")
    assert code == 0 and "customerPricing  CustomerIDs*:number[]" in out
    code, out, _ = run(capsys, "--help")
    assert "Example:" in out and "customers/12" in out


def test_text_is_faithful():
    from datetime import date
    from decimal import Decimal

    assert text(Decimal("34604.230000")) == "34604.230000"
    assert text(None) == "" and text(True) == "true" and text(date(2026, 1, 5)) == "2026-01-05"


def test_fetch_names_a_narrowing_default_left_unset(capsys):
    # `fetch invoices` returns only New invoices unless Statuses is given: say so, even when --limit cuts
    code, _, err = run(capsys, "invoices", "--sandbox", "--limit", "2", "--format", "json")
    assert code == 0
    assert "warning:" in err and "Statuses" in err and "only New (1)" in err
    code, _, err = run(capsys, "invoices", "--sandbox", "--limit", "2", "--format", "json", "-p", "Statuses=1,5")
    assert code == 0 and "Statuses" not in err
