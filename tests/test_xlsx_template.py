"""Templated tabs: the shipped statement template and a custom one with a table that grows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table

from sheetsync.errors import RenderError
from sheetsync.model import ACCOUNTING, Column, Format, Link, Tab, Total, Validation, Workbook
from sheetsync.sinks.xlsx import XlsxSource, write_workbook

COLUMNS = [
    Column("Invoice"),
    Column("Date", Format.DATE),
    Column("Open balance", Format.CURRENCY, total=Total.SUM),
    Column("PDF"),
]


def statement(name: str, n: int, **kw) -> Tab:
    rows = [
        [f"INV-{i}", date(2024, 1, i), Decimal(i) * 10 + Decimal("0.005"), Link(f"https://x.test/{i}", "pdf")]
        for i in range(1, n + 1)
    ]
    return Tab(
        name,
        name,
        f"Statement for {name}",
        COLUMNS,
        rows,
        info=[("Customer", name), ("Statement date", "2024-02-01")],
        template="statement",
        **kw,
    )


def test_shipped_statement_template(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    summary = Tab("Summary", "summary", "AR aging", [Column("Customer")], [["Kettles"], ["Pots"]])
    write_workbook(Workbook("s", [summary, statement("Kettles", 7, note="refreshed"), statement("Pots", 2)]), path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Kettles", "Pots"]
    assert {"Brand Header", "Brand Data", "Brand Title"} <= set(book.named_styles)
    assert not any(name.startswith("sheetsync_") for name in book.defined_names)
    ws = book["Kettles"]
    assert len(ws._images) == 1
    assert ws.oddFooter.right.text == "Page &P of &N" and ws.page_setup.orientation == "portrait"
    assert (ws["C2"].value, ws["C2"].style) == ("Statement for Kettles", "Brand Title")
    assert ws["C2"].comment.text == "refreshed"
    assert [ws["A6"].value, ws["B6"].value, ws["A7"].value] == ["Customer", "Kettles", "Statement date"]
    assert [c.value for c in ws[17]] == ["Invoice", "Date", "Open balance", "PDF"]
    assert ws["A17"].style == "Brand Header" and ws["A18"].style == "Brand Data"
    assert ws["C18"].value == pytest.approx(10.01) and ws["C18"].number_format == ACCOUNTING
    assert ws["D18"].hyperlink.target == "https://x.test/1"
    assert ws["C25"].value == "=SUBTOTAL(109,C18:C24)"
    assert ws.freeze_panes == "A18" and ws.auto_filter.ref == "A17:D24"
    assert [str(cf.sqref) for cf in ws.conditional_formatting] == ["A18:L24"]
    pots = book["Pots"]
    assert len(pots._images) == 1 and pots.oddFooter.right.text == "Page &P of &N"
    assert pots["C20"].value == "=SUBTOTAL(109,C18:C19)"
    assert [str(cf.sqref) for cf in pots.conditional_formatting] == ["A18:L19"]
    rows = XlsxSource(path).read_rows("Kettles", required=["Invoice", "Open balance"])
    assert rows[0].values["Open balance"] == Decimal("10.01") and rows[0].row_number == 18


def custom_template(folder: Path) -> Path:
    """Header row at B5, a table and a validation over the one sample data row, a named range."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Items"
    ws["B2"] = "placeholder title"
    ws.append([])
    for column, header in enumerate(["a", "b", "c", "d"], start=2):
        ws.cell(row=5, column=column, value=header)
        ws.cell(row=6, column=column, value="sample")
    table = Table(displayName="Items", ref="B5:E6")
    ws.add_table(table)
    dv = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    dv.add("D6")
    ws.add_data_validation(dv)
    book.defined_names["sheetsync_data"] = DefinedName("sheetsync_data", attr_text="Items!$B$5")
    book.defined_names["sheetsync_title"] = DefinedName("sheetsync_title", attr_text="Items!$B$2")
    book.defined_names["amounts"] = DefinedName("amounts", attr_text="Items!$D$6:$D$6")
    path = folder / "custom.xlsx"
    book.save(path)
    return path


def test_custom_template_grows_table_validation_and_names(tmp_path: Path) -> None:
    custom_template(tmp_path)
    tab = statement("Kettles", 3, validations=[Validation("Open balance", "positive_decimal")])
    tab.template = "custom"
    out = tmp_path / "out" / "c.xlsx"
    write_workbook(Workbook("c", [tab]), out, templates_dir=tmp_path)
    book = openpyxl.load_workbook(out)
    ws = book["Kettles"]
    assert ws["B2"].value == "Statement for Kettles"
    assert [c.value for c in ws[5]][1:5] == ["Invoice", "Date", "Open balance", "PDF"]
    assert ws["B6"].value == "INV-1" and ws["E8"].value == "pdf"
    table = ws.tables["Items"]
    assert table.ref == "B5:E8"
    assert [c.name for c in table.tableColumns] == ["Invoice", "Date", "Open balance", "PDF"]
    assert ws.auto_filter.ref is None
    assert sorted(str(dv.sqref) for dv in ws.data_validations.dataValidation) == ["D6:D8", "D6:D8"]
    assert book.defined_names["amounts"].attr_text == "'Kettles'!$D$6:$D$8"
    assert ws["D9"].value == "=SUBTOTAL(109,D6:D8)"


def test_template_errors(tmp_path: Path) -> None:
    tab = statement("Kettles", 1)
    tab.template = "nope"
    with pytest.raises(RenderError, match=r"template 'nope' not found.*statement"):
        write_workbook(Workbook("x", [tab]), tmp_path / "x.xlsx")
    other = statement("Pots", 1)
    custom_template(tmp_path)
    other.template = "custom"
    with pytest.raises(RenderError, match="different templates"):
        write_workbook(Workbook("x", [statement("Kettles", 1), other]), tmp_path / "x.xlsx", templates_dir=tmp_path)
    long_info = statement("Kettles", 1)
    long_info.info = [("line", str(i)) for i in range(12)]
    with pytest.raises(RenderError, match="12 header lines do not fit"):
        write_workbook(Workbook("x", [long_info]), tmp_path / "y.xlsx")
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "y.xlsx").exists()
