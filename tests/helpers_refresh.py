"""Workbooks as users keep them: a report plus their own sheet, chart, image, pivot table, names,
comments and notes columns, last saved by a real spreadsheet application (LibreOffice)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.workbook.defined_name import DefinedName
from PIL import Image as PILImage

from sheetsync.sinks.xlsx_package import XlsxPackage

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PIVOT_CACHE_TYPE = REL + "/pivotCacheDefinition"
PIVOT_TABLE_TYPE = REL + "/pivotTable"
PIVOT_RECORDS_TYPE = REL + "/pivotCacheRecords"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 20), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def add_user_work(
    path: Path, report_tab: str, *, notes: dict[int, str], note_column: str, key_column: str, table: str | None = None
) -> None:
    """What a user adds with Excel, done with openpyxl: a sheet of formulas into the report (one a
    structured reference to the report's `table`), a chart of report data, an image, a workbook name, a
    comment, and a "Buyer notes" column beside the report's rows (`notes` maps data row -> note; a
    formula column doubles column C beside it)."""
    book = openpyxl.load_workbook(path)
    ws = book[report_tab]
    quoted = "'" + report_tab.replace("'", "''") + "'"
    header = _header_row(ws, key_column)
    ws[f"{note_column}{header}"] = "Buyer notes"
    formula_column = chr(ord(note_column) + 1)
    ws[f"{formula_column}{header}"] = "Double"
    for row, note in notes.items():
        ws[f"{note_column}{row}"] = note
        ws[f"{formula_column}{row}"] = f"=C{row}*2"
    ws.column_dimensions[note_column].width = 33
    mine = book.create_sheet("MyAnalysis")
    mine["A1"] = f"=COUNTA({quoted}!A:A)"
    mine["A2"] = f"=SUM({quoted}!C{header + 1}:C{header + 3})"
    mine["A3"] = "=PriceCells"
    mine["A4"] = f"=SUM({table}[Price])" if table else None
    mine["A1"].comment = Comment("counts the report's rows", "buyer")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=3, min_row=header, max_row=header + 3), titles_from_data=True)
    mine.add_chart(chart, "D2")
    image = Image(io.BytesIO(png()))
    mine.add_image(image, "D20")
    book.defined_names["PriceCells"] = DefinedName("PriceCells", attr_text=f"{quoted}!$C${header + 1}")
    book.save(path)


def _header_row(ws: object, key_column: str) -> int:
    for row in ws.iter_rows(min_row=1, max_row=30):  # type: ignore[attr-defined]
        for cell in row:
            if cell.value == key_column:
                return cell.row
    raise AssertionError(f"no header {key_column!r}")


def add_pivot_table(path: Path, source_tab: str, source_ref: str, on_tab: str) -> list[str]:
    """Hand-build a pivot table (cache definition, records, table) on `on_tab` over a report range,
    as Excel stores one; returns the part names added."""
    package = XlsxPackage.open(path)
    workbook = package.workbook_part()
    cache = "xl/pivotCache/pivotCacheDefinition1.xml"
    records = "xl/pivotCache/pivotCacheRecords1.xml"
    table = "xl/pivotTables/pivotTable1.xml"
    package.put(
        cache,
        (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<pivotCacheDefinition xmlns="{MAIN}" '
            f'xmlns:r="{REL}" r:id="rId1" refreshOnLoad="1" recordCount="0" createdVersion="3" '
            f'refreshedVersion="3" minRefreshableVersion="3"><cacheSource type="worksheet"><worksheetSource '
            f'ref="{source_ref}" sheet="{source_tab}"/></cacheSource><cacheFields count="1"><cacheField '
            f'name="Code" numFmtId="0"><sharedItems/></cacheField></cacheFields></pivotCacheDefinition>'
        ).encode(),
    )
    package.put(
        records,
        f'<?xml version="1.0" encoding="UTF-8"?>\n<pivotCacheRecords xmlns="{MAIN}" count="0"/>'.encode(),
    )
    package.put(
        table,
        (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<pivotTableDefinition xmlns="{MAIN}" '
            'name="PivotTable1" cacheId="7" dataCaption="Values" createdVersion="3" updatedVersion="3" '
            'minRefreshableVersion="3" applyNumberFormats="0" applyBorderFormats="0" applyFontFormats="0" '
            'applyPatternFormats="0" applyAlignmentFormats="0" applyWidthHeightFormats="1" outline="1" '
            'outlineData="1"><location ref="H2:H3" firstHeaderRow="1" firstDataRow="1" firstDataCol="0"/>'
            '<pivotFields count="1"><pivotField showAll="0"/></pivotFields></pivotTableDefinition>'
        ).encode(),
    )
    for part, kind in ((cache, "pivotCacheDefinition"), (records, "pivotCacheRecords"), (table, "pivotTable")):
        package.set_content_type(part, f"{CT}{kind}+xml")
    package.add_relationship(cache, PIVOT_RECORDS_TYPE, records)
    package.add_relationship(table, PIVOT_CACHE_TYPE, cache)
    package.add_relationship(package.sheet(on_tab).part, PIVOT_TABLE_TYPE, table)
    rel_id = package.add_relationship(workbook, PIVOT_CACHE_TYPE, cache)
    root = package.xml(workbook)
    from lxml import etree

    caches = etree.SubElement(root, f"{{{MAIN}}}pivotCaches")
    calc = root.find(f"{{{MAIN}}}calcPr")
    (calc if calc is not None else root.find(f"{{{MAIN}}}sheets")).addnext(caches)
    etree.SubElement(caches, f"{{{MAIN}}}pivotCache", {"cacheId": "7", f"{{{REL}}}id": rel_id})
    package.save()
    return [cache, records, table]
