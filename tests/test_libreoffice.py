"""A real spreadsheet application opens what the xlsx writer writes and calculates its totals."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from helpers_lo import recalculate_with_libreoffice, soffice

from sheetsync.model import Chart, Column, ConditionalRule, Format, Link, Tab, Total, Validation, Workbook
from sheetsync.sinks.xlsx import XlsxSource, write_workbook

pytestmark = [
    pytest.mark.libreoffice,
    # CI installs LibreOffice, so there a missing soffice fails the tests instead of skipping them
    pytest.mark.skipif(
        soffice() is None and not os.environ.get("CI"), reason="LibreOffice (soffice) is not installed; CI installs it"
    ),
]


def test_libreoffice_recalculates_totals(tmp_path: Path) -> None:
    columns = [
        Column("Invoice"),
        Column("Qty", Format.INTEGER, total=Total.SUM),
        Column("Amount", Format.CURRENCY, total=Total.SUM),
        Column("Days", Format.INTEGER, total=Total.AVERAGE),
        Column("Lines", Format.INTEGER, total=Total.COUNT),
        Column("PDF"),
    ]
    rows = [
        [f"=INV-{i}", i, Decimal(i) + Decimal("0.125"), i * 2, 1, Link(f"https://x.test/{i}", "pdf")]
        for i in range(1, 11)
    ]
    tab = Tab(
        "Open items",
        "open",
        "Open items",
        columns,
        rows,
        info=[("Customer", "Kettles")],
        rules=[ConditionalRule("Qty", "<", 3)],
        validations=[Validation("Amount", "positive_decimal")],
        chart=Chart("Totals", ("Qty", "Amount")),
        note="refreshed",
    )
    source = tmp_path / "in" / "report.xlsx"
    write_workbook(Workbook("report", [tab]), source)

    converted = recalculate_with_libreoffice(source, tmp_path / "out")

    ws = openpyxl.load_workbook(converted, data_only=True).active
    totals = tab.totals_row
    assert ws[f"B{totals}"].value == 55
    # money rounded to cents before writing: 10 x (i + 0.13)
    assert ws[f"C{totals}"].value == pytest.approx(56.30)
    assert ws[f"D{totals}"].value == pytest.approx(11)
    assert ws[f"E{totals}"].value == 10
    assert ws[f"A{tab.first_data_row}"].value == "=INV-1"
    rows_back = XlsxSource(converted).read_rows("Open items", required=["Amount"])
    assert rows_back[-1].values["Amount"] == Decimal("56.3")
    assert rows_back[0].values["Invoice"] == "=INV-1"


def test_libreoffice_opens_a_templated_statement(tmp_path: Path) -> None:
    columns = [Column("Invoice"), Column("Open balance", Format.CURRENCY, total=Total.SUM)]
    rows = [[f"INV-{i}", Decimal(i) * 100 + Decimal("0.10")] for i in range(1, 6)]
    tab = Tab(
        "Kettles",
        "kettles",
        "Statement for Kettles",
        columns,
        rows,
        info=[("Customer", "Kettles")],
        template="statement",
    )
    source = tmp_path / "in" / "statement.xlsx"
    write_workbook(Workbook("statement", [tab]), source)

    converted = recalculate_with_libreoffice(source, tmp_path / "out")

    ws = openpyxl.load_workbook(converted, data_only=True)["Kettles"]
    assert ws["A17"].value == "Invoice"
    assert ws["B23"].value == pytest.approx(1500.50)


def test_libreoffice_opens_every_demo_workbook_and_recalculates_the_same_totals(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sheetsync.cli import cli

    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    written = sorted((tmp_path / "demo").rglob("*.xlsx"))
    assert {p.stem for p in written} >= {"price-list", "ar-aging", "reorder"}
    checked = 0
    for path in written:
        converted = recalculate_with_libreoffice(path, tmp_path / "lo" / path.stem)
        ours = openpyxl.load_workbook(path)
        theirs = openpyxl.load_workbook(converted, data_only=True)
        assert theirs.sheetnames == ours.sheetnames, path.name
        for ws in ours.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith("=SUBTOTAL(109,"):
                        ref = cell.value[len("=SUBTOTAL(109,") : -1]
                        column = [c.value for r in ws[ref] for c in r]
                        expected = sum(Decimal(str(v)) for v in column if isinstance(v, (int, float)))
                        got = theirs[ws.title][cell.coordinate].value
                        checked += 1
                        assert Decimal(str(got)).quantize(Decimal("0.01")) == expected.quantize(Decimal("0.01")), (
                            f"{path.name} {ws.title}!{cell.coordinate}"
                        )
    assert checked >= 10  # the aging summary, statements and reorder tabs carry totals
