"""`sheetsync fetch --describe ENDPOINT`: the reference an author needs, from the KSS document."""

from __future__ import annotations

import pytest

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely


def describe(capsys: pytest.CaptureFixture[str], endpoint: str) -> tuple[int, str, str]:
    code = run_safely(cli, ["fetch", endpoint, "--describe"])
    out, err = capsys.readouterr()
    return code, out, err


def test_invoices_names_the_statuses_default_and_its_values(capsys) -> None:
    code, out, _ = describe(capsys, "invoices")
    assert code == 0
    statuses = out.split("  Statuses", 1)[1].splitlines()
    assert statuses[0].split() == ["number[]", "default", "New", "(1)"]
    assert "1 New 2 Locked for Routing 3 Loaded 4 Returned 5 Balanced 7 Verified" in statuses[1]
    fields = dict(line.split() for line in out.split("fields:\n", 1)[1].splitlines())
    assert fields["DueDate"] == "date" and fields["InvoiceTimeCreated"] == "datetime"
    assert fields["InvoiceTotal"] == "money" and fields["TotalCases"] == "quantity" and fields["InvoiceID"] == "id"


def test_a_single_record_path_and_key_scopes(capsys) -> None:
    code, out, _ = describe(capsys, "customers/12")
    assert code == 0 and out.startswith("GET /customers/{customerID}") and "customerID" in out
    code, out, _ = describe(capsys, "arAging")
    assert "keys: employee, customer)" in out


def test_an_unknown_endpoint_is_one_line(capsys) -> None:
    code, out, err = describe(capsys, "invoice")
    assert code == 2 and out == "" and err.count("\n") == 1 and "did you mean invoices" in err
