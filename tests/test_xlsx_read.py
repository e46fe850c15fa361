"""The xlsx reader (XlsxSource): headers by name, typed values, formulas, write-back, blockers."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from sheetsync.errors import SinkError
from sheetsync.model import Column, Format, Tab, Total, Workbook
from sheetsync.sinks.base import FormulaWithoutValue
from sheetsync.sinks.xlsx import XlsxSource, write_workbook


def allocation_sheet(path: Path) -> Path:
    """A hand-made allocation sheet: a note above, merged header, blank rows, formulas, floats."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Allocations"
    ws["A1"] = "Fill in amounts below"
    ws.append([])
    ws.append(["Allocation", None, "Target invoice num", " amount ", "Paid on", "Stamp", "Extra"])
    ws.merge_cells("A3:B3")
    ws.append(["A-1", "P-100", "INV-1", 100.1, date(2024, 5, 1), datetime(2024, 5, 1, 9, 30), "=1+1"])
    ws.append([])
    ws.append(["A-2", "P-101", "INV-2", "=D4*2", None, None, None])
    ws.append([None, None, None, None, None, None, None])
    ws.append(["A-3", "P-102", "0042", 25, None, None, "text"])
    ws["E4"].number_format = "yyyy-mm-dd"
    ws["F4"].number_format = "yyyy-mm-dd hh:mm"
    ws["D4"].font = Font(bold=True)
    ws["D4"].fill = PatternFill("solid", fgColor="FFFF00")
    ws.conditional_formatting.add("D4:D8", FormulaRule(formula=["$D4<0"], fill=PatternFill("solid", bgColor="FF0000")))
    dv = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    dv.add("D4:D8")
    ws.add_data_validation(dv)
    book.save(path)
    return path


def test_headers_matched_by_name_ignoring_case_and_spaces(tmp_path: Path) -> None:
    source = XlsxSource(allocation_sheet(tmp_path / "a.xlsx"))
    rows = source.read_rows("allocations", required=["TargetInvoiceNum", "Amount", "Allocation"])
    assert [r.row_number for r in rows] == [4, 6, 8]
    first = rows[0]
    assert first.values["Amount"] == Decimal("100.1") and isinstance(first.values["Amount"], Decimal)
    assert first.values["TargetInvoiceNum"] == "INV-1"
    assert first.values["Allocation"] == "A-1"  # merged header cell A3:B3 counts once
    assert first.cells == {
        "Allocation": "A4",
        "TargetInvoiceNum": "C4",
        "Amount": "D4",
        "Paid on": "E4",
        "Stamp": "F4",
        "Extra": "G4",
    }
    assert first.values["Paid on"] == date(2024, 5, 1)
    assert first.values["Stamp"] == datetime(2024, 5, 1, 9, 30)
    assert rows[2].values["TargetInvoiceNum"] == "0042" and rows[2].values["Amount"] == 25


def test_formula_without_cached_value_is_reported_by_cell(tmp_path: Path) -> None:
    source = XlsxSource(allocation_sheet(tmp_path / "a.xlsx"))
    rows = source.read_rows(None, required=["amount"])
    assert rows[1].values["amount"] == FormulaWithoutValue(cell="D6", formula="=D4*2")
    assert rows[0].values["Extra"] == FormulaWithoutValue(cell="G4", formula="=1+1")


def test_formula_with_cached_value_reads_the_value(tmp_path: Path) -> None:
    path = allocation_sheet(tmp_path / "a.xlsx")
    # give D6 a cached value, as Excel would after calculating
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    assert "<f>D4*2</f><v></v>" in sheet or "<f>D4*2</f><v />" in sheet
    sheet = sheet.replace("<f>D4*2</f><v></v>", "<f>D4*2</f><v>200.2</v>").replace(
        "<f>D4*2</f><v />", "<f>D4*2</f><v>200.2</v>"
    )
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    rows = XlsxSource(path).read_rows(None, required=["amount"])
    assert rows[1].values["amount"] == Decimal("200.2")


def test_missing_required_header_names_tab_and_headers(tmp_path: Path) -> None:
    source = XlsxSource(allocation_sheet(tmp_path / "a.xlsx"))
    with pytest.raises(SinkError, match=r"Allocations.*Nope"):
        source.read_rows("Allocations", required=["Amount", "Nope"])
    with pytest.raises(SinkError, match="no tab named 'Other'"):
        source.read_rows("Other")


def test_reads_back_what_the_writer_wrote(tmp_path: Path) -> None:
    columns = [
        Column("Invoice"),
        Column("Amount", Format.CURRENCY, total=Total.SUM),
        Column("Due", Format.DATE),
        Column("Count", Format.INTEGER),
    ]
    rows = [["=SUM(A1)", Decimal("10.10"), date(2024, 1, 31), 3], ["0042", Decimal("0.1"), None, None]]
    tab = Tab("Open items", "open", "Open items", columns, rows, info=[("Customer", "Kettles")])
    path = tmp_path / "w.xlsx"
    write_workbook(Workbook("w", [tab]), path)
    source = XlsxSource(path)
    assert source.tab_names() == ["Open items"]
    assert source.headers() == ["Invoice", "Amount", "Due", "Count"]
    read = source.read_rows("Open items", required=["invoice", "AMOUNT"])
    assert [r.values for r in read[:2]] == [
        {"invoice": "=SUM(A1)", "AMOUNT": Decimal("10.1"), "Due": date(2024, 1, 31), "Count": 3},
        {"invoice": "0042", "AMOUNT": Decimal("0.1"), "Due": None, "Count": None},
    ]
    # the totals row is a formula never calculated
    assert read[2].values["AMOUNT"] == FormulaWithoutValue("B7", "=SUBTOTAL(109,B5:B6)")


def test_write_back_sets_only_named_cells(tmp_path: Path) -> None:
    path = allocation_sheet(tmp_path / "a.xlsx")
    source = XlsxSource(path)
    source.read_rows("Allocations", required=["Amount", "Allocation"])
    source.write_back(
        "Allocations",
        {4: {"Status": "=posted", "Amount": Decimal("100.10")}, 8: {"Status": "rejected", "RequestID": 77}},
    )
    ws = openpyxl.load_workbook(path)["Allocations"]
    assert [c.value for c in ws[3]][7:] == ["Status", "RequestID"]
    assert ws["H3"].font.b == ws["G3"].font.b
    assert (ws["H4"].value, ws["H4"].data_type) == ("=posted", "s")
    assert ws["I8"].value == 77 and ws["H8"].value == "rejected"
    assert ws["D4"].value == pytest.approx(100.1) and ws["D4"].font.b and ws["D4"].fill.fgColor.rgb == "00FFFF00"
    assert ws["D6"].value == "=D4*2" and ws["G4"].value == "=1+1"
    assert ws["A1"].value == "Fill in amounts below"
    assert "A3:B3" in {str(r) for r in ws.merged_cells.ranges}
    assert [str(cf.sqref) for cf in ws.conditional_formatting] == ["D4:D8"]
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == ["D4:D8"]
    assert ws["E4"].number_format == "yyyy-mm-dd"
    assert [p.name for p in tmp_path.iterdir()] == ["a.xlsx"]
    rows = XlsxSource(path).read_rows("Allocations", required=["status"])
    assert rows[0].values["status"] == "=posted"


def add_shape(path: Path) -> None:
    """Add a drawing with a text-box shape, as Excel writes one, to an existing workbook."""
    drawing = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><xdr:twoCellAnchor>'
        "<xdr:from><xdr:col>1</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row><xdr:rowOff>0"
        "</xdr:rowOff></xdr:from><xdr:to><xdr:col>3</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>4"
        '</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="" textlink=""><xdr:nvSpPr>'
        '<xdr:cNvPr id="2" name="TextBox 1"/><xdr:cNvSpPr txBox="1"/></xdr:nvSpPr><xdr:spPr/>'
        "</xdr:sp><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>"
    )
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/drawings/drawing1.xml", drawing)


def test_not_an_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_text("hello")
    with pytest.raises(SinkError, match="not a readable xlsx"):
        XlsxSource(path).tab_names()
    with pytest.raises(SinkError, match="no such file"):
        XlsxSource(tmp_path / "missing.xlsx").tab_names()


def test_two_row_header_with_vertically_merged_cell(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["AllocationID", "Money", None])
    ws.append([None, "Amount", "Payment"])
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:C1")
    ws.append(["A-1", 5.5, "P-1"])
    path = tmp_path / "m.xlsx"
    book.save(path)
    source = XlsxSource(path)
    [row] = source.read_rows(None, required=["allocation id", "amount"])
    assert row.row_number == 3
    assert row.values == {"allocation id": "A-1", "amount": Decimal("5.5"), "Payment": "P-1"}
    assert source.headers() == ["AllocationID", "Amount", "Payment"]


def test_write_back_adds_columns_after_a_merged_last_header(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Allocation", "Amount", "Notes", None])
    ws.merge_cells("C1:D1")
    ws.append(["A-1", 5, "x", None])
    book.save(path)
    source = XlsxSource(path)
    source.read_rows(None, required=["Amount"])
    source.write_back(None, {2: {"Status": "posted"}})
    ws = openpyxl.load_workbook(path).active
    assert ws["E1"].value == "Status" and ws["E2"].value == "posted"
    assert "C1:D1" in {str(r) for r in ws.merged_cells.ranges}
