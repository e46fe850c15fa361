"""`fetch --format csv` is safe to open in a spreadsheet application (OWASP CSV-injection rule), read back
with the csv module; `--csv-unescaped` keeps the bytes as sent; numbers are never changed."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from click.testing import CliRunner

from sheetsync.cli import cli
from sheetsync.cli.fetch import write_rows


def fetch_csv(*args: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(cli, ["fetch", *args, "--sandbox", "--format", "csv"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_customer_names_that_look_like_formulas_are_neutralised() -> None:
    names = {int(r["CustomerID"]): r["CustomerName"] for r in fetch_csv("customers", "-p", "CustomerIDs=3,4,5,6,7")}
    assert names[3] == "'=Green Door Dispensary"
    assert names[4] == "'+Plus Wellness" and names[5] == "'-Minus Cannabis Co" and names[6] == "'@Home Remedies"
    assert names[7] == "Café Ñandú Dispensario"


def test_csv_unescaped_keeps_the_text_as_sent() -> None:
    rows = fetch_csv("customers", "-p", "CustomerIDs=3", "--csv-unescaped")
    assert rows[0]["CustomerName"] == "=Green Door Dispensary"


def test_negative_money_and_other_numbers_are_untouched() -> None:
    rows = fetch_csv("arAging", "--limit", "200")
    credits = [r["OpenCredit"] for r in rows if r["OpenCredit"].startswith("-")]
    assert credits and all(Decimal(c) < 0 for c in credits)  # parses: no leading '


def test_write_rows_escapes_text_only() -> None:
    out = io.StringIO()
    rows = [{"Name": "=1+1", "Amount": Decimal("-5.00"), "Code": "-31.05", "Note": "\tTab", "Cmd": "@SUM(A1)"}]
    write_rows(rows, "csv", ["Name", "Amount", "Code", "Note", "Cmd"], out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row == {"Name": "'=1+1", "Amount": "-5.00", "Code": "-31.05", "Note": "'\tTab", "Cmd": "'@SUM(A1)"}
