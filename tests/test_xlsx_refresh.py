"""Refresh in place: `-o book.xlsx` on an existing workbook replaces only sheetsync's tabs and keeps the
user's sheets, formulas with cached values, names, charts, images, pivot tables, comments and notes."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from helpers_lo import recalculate_with_libreoffice, soffice
from helpers_refresh import add_pivot_table, add_user_work, parts, png
from openpyxl.workbook.defined_name import DefinedName
from sheets_double import customers_tab, price_tab

from sheetsync.errors import SinkError
from sheetsync.model import Workbook
from sheetsync.sinks.xlsx_package import XlsxPackage, rels_name
from sheetsync.sinks.xlsx_refresh import NOTES_TITLE, write_report_xlsx
from sheetsync.sinks.xlsx_transplant import related_closure

needs_lo = pytest.mark.skipif(soffice() is None and not os.environ.get("CI"), reason="LibreOffice is not installed")


def prices(codes: list[int], *, price_bump: int = 0, key: bool = True) -> Workbook:
    """The price workbook with the given product codes, in that order (price = code + bump + 0.125)."""
    tab = price_tab(max(codes))
    by_code = {row[0]: row for row in tab.rows}
    rows = []
    for code in codes:
        row = list(by_code[f"{code:04d}"])
        row[2] = Decimal(code + price_bump) + Decimal("0.125")
        rows.append(row)
    tab.rows = rows
    tab.row_key = ("Code",) if key else ()
    return Workbook("price-list", [tab, customers_tab()])


def cells(path: Path, tab: str, *, data_only: bool = False) -> dict[str, list]:
    """Code -> the row's values (report columns A..H, then the user's J and K)."""
    ws = openpyxl.load_workbook(path, data_only=data_only)[tab]
    return {row[0]: list(row) for row in ws.iter_rows(min_row=6, values_only=True) if row[0]}


def user_workbook(tmp_path: Path) -> Path:
    """The report written by sheetsync, built on by a user, last saved by LibreOffice, plus a pivot table."""
    first = tmp_path / "first" / "book.xlsx"
    first.parent.mkdir()
    assert write_report_xlsx(prices([1, 2, 3, 4, 5]), first).status == "created"
    notes = {6: "call about 0001", 7: "0002 is discontinued", 9: "0004 on promo"}
    add_user_work(first, "Prices", notes=notes, note_column="J", key_column="Code", table="price_list_prices")
    saved = recalculate_with_libreoffice(first, tmp_path / "lo")
    add_pivot_table(saved, "Prices", "A5:C10", "MyAnalysis")
    return saved


def report_parts(book: Path) -> set[str]:
    """The parts of sheetsync's own tabs: the sheets, their relationships and what only they use."""
    package = XlsxPackage.open(book)
    names = set()
    for tab in ("Prices", "Customers"):
        part = package.sheet(tab).part
        names |= {part, rels_name(part), *related_closure(package, part)}
    return names


pytestmark = [pytest.mark.libreoffice, needs_lo]


def test_refresh_keeps_everything_the_user_added(tmp_path: Path) -> None:
    book = user_workbook(tmp_path)
    before = parts(book)
    assert openpyxl.load_workbook(book, data_only=True)["MyAnalysis"]["A2"].value == pytest.approx(6.39)
    assert openpyxl.load_workbook(book, data_only=True)["MyAnalysis"]["A4"].value == pytest.approx(15.65)
    may_change = report_parts(book) | {
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "[Content_Types].xml",
        "docProps/custom.xml",
    }

    # 0002 and 0004 gone, 0006 and 0007 new, the order reversed, prices changed
    outcome = write_report_xlsx(prices([7, 5, 3, 6, 1], price_bump=100), book)

    assert outcome.status == "refreshed" and outcome.orphans == 4  # two notes, two formulas
    after = parts(book)
    kept = {n for n in before if n not in may_change}
    assert kept, "nothing to compare"
    assert {n for n in kept if before[n] != after.get(n)} == set()
    assert any(n.startswith("xl/media/") for n in kept)  # the image
    assert {"xl/pivotTables/pivotTable1.xml", "xl/pivotCache/pivotCacheDefinition1.xml"} <= kept
    assert any(n.startswith("xl/charts/") for n in kept)

    rows = cells(book, "Prices")
    assert list(rows) == ["0007", "0005", "0003", "0006", "0001"]
    assert rows["0007"][2] == pytest.approx(107.13) and rows["0001"][2] == pytest.approx(101.13)
    assert rows["0001"][9] == "call about 0001" and rows["0001"][10] == "=C10*2"  # moved from row 6 to row 10
    assert rows["0003"][9] is None and rows["0003"][10] is None
    assert rows["0007"][9] is None and rows["0007"][10] is None
    header = openpyxl.load_workbook(book)["Prices"][5]
    assert (header[9].value, header[10].value) == ("Buyer notes", "Double")
    assert openpyxl.load_workbook(book)["Prices"].column_dimensions["J"].width == pytest.approx(33, abs=1)

    notes = list(openpyxl.load_workbook(book)[NOTES_TITLE].iter_rows(values_only=True))
    assert notes[0][:5] == ("Tab", "Key", "Column", "Value", "Formula")
    moved = {(n[1], n[2]): (n[3], n[4]) for n in notes[1:]}
    assert moved[("0002", "Buyer notes")][0] == "0002 is discontinued"
    assert moved[("0004", "Buyer notes")][0] == "0004 on promo"
    assert moved[("0004", "Double")][1] == "=C9*2"

    book_xml = after["xl/workbook.xml"].decode()
    assert "PriceCells" in book_xml and "pivotCache" in book_xml and 'fullCalcOnLoad="1"' in book_xml
    reopened = recalculate_with_libreoffice(book, tmp_path / "lo2", recalculate_on_load=True)
    values = openpyxl.load_workbook(reopened, data_only=True)
    assert values["MyAnalysis"]["A2"].value == pytest.approx(107.13 + 105.13 + 103.13)
    assert values["MyAnalysis"]["A3"].value == pytest.approx(107.13)
    assert values["MyAnalysis"]["A4"].value == pytest.approx(107.13 + 105.13 + 103.13 + 106.13 + 101.13)
    assert openpyxl.load_workbook(book)["Prices"].tables["price_list_prices"].ref == "A5:H10"
    assert values["Prices"]["K10"].value == pytest.approx(202.26)
    assert "counts the report's rows" in openpyxl.load_workbook(reopened)["MyAnalysis"]["A1"].comment.text


def test_unchanged_data_writes_nothing_and_force_writes(tmp_path: Path) -> None:
    book = user_workbook(tmp_path)
    write_report_xlsx(prices([1, 2, 3]), book)
    stamp, data = book.stat().st_mtime_ns, book.read_bytes()
    again = prices([1, 2, 3])
    again.tabs[0].info = [*again.tabs[0].info, ("Generated", "another time")]
    again.tabs[0].stamps = ("Generated",)
    assert write_report_xlsx(again, book).status == "unchanged"  # run stamps do not count
    assert (book.stat().st_mtime_ns, book.read_bytes()) == (stamp, data)
    assert write_report_xlsx(prices([1, 2, 3]), book, force=True).status == "refreshed"
    assert cells(book, "Prices")["0001"][9] == "call about 0001"
    assert write_report_xlsx(prices([1, 2, 3], price_bump=1), book).status == "refreshed"


def test_a_user_sheet_with_a_report_tab_name_is_a_refusal(tmp_path: Path) -> None:
    book = tmp_path / "mine.xlsx"
    user = openpyxl.Workbook()
    user.active.title = "Customers"
    user.active["A1"] = "my own customers"
    user.save(book)
    data = book.read_bytes()
    with pytest.raises(SinkError, match=r"not refreshed, nothing written: tab 'Customers' belongs to you"):
        write_report_xlsx(prices([1, 2]), book)
    assert book.read_bytes() == data


def test_a_workbook_sheetsync_did_not_write_gets_the_tabs_added(tmp_path: Path) -> None:
    book = tmp_path / "mine.xlsx"
    user = openpyxl.Workbook()
    user.active.title = "Budget"
    user.active["A1"] = 5
    user.active["A2"] = "=A1*2"
    user.save(book)
    saved = recalculate_with_libreoffice(book, tmp_path / "lo")
    before = parts(saved)
    assert write_report_xlsx(prices([1, 2]), saved).status == "refreshed"
    after = parts(saved)
    assert after["xl/worksheets/sheet1.xml"] == before["xl/worksheets/sheet1.xml"]
    values = openpyxl.load_workbook(saved, data_only=True)
    assert values.sheetnames == ["Budget", "Prices", "Customers"]
    assert values["Budget"]["A2"].value == 10
    assert cells(saved, "Prices")["0002"][1] == "Kettle 2"
    assert write_report_xlsx(prices([1, 2]), saved).status == "unchanged"


def test_a_picture_on_a_report_tab_is_named_before_anything_is_written(tmp_path: Path) -> None:
    from openpyxl.drawing.image import Image

    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2]), book)
    user = openpyxl.load_workbook(book)
    import io

    user["Prices"].add_image(Image(io.BytesIO(png())), "L2")
    user.save(book)
    data = book.read_bytes()
    with pytest.raises(SinkError, match=r"not refreshed, nothing written: 1 picture\(s\) on tab 'Prices'"):
        write_report_xlsx(prices([1, 3]), book)
    assert book.read_bytes() == data


def test_a_highlight_rule_on_a_user_column_is_kept_with_its_own_priority(tmp_path: Path) -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill

    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2]), book)
    user = openpyxl.load_workbook(book)
    user["Prices"]["J6"] = 5
    fill = PatternFill("solid", fgColor="FF0000")
    user["Prices"].conditional_formatting.add("J6:J20", CellIsRule(operator="greaterThan", formula=["1"], fill=fill))
    user.save(book)
    package = XlsxPackage.open(book)  # as Excel may number them: the user's rule first
    part = package.sheet("Prices").part
    package.put(part, package.parts[part].replace(b'priority="2"', b'priority="1"'))
    package.save()
    write_report_xlsx(prices([2, 1]), book)
    package = XlsxPackage.open(book)
    root = package.read_xml(package.sheet("Prices").part)
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    formats = {cf.get("sqref"): [r.get("priority") for r in cf] for cf in root.iter(main + "conditionalFormatting")}
    assert "J6:J20" in formats
    priorities = [p for rules in formats.values() for p in rules]
    assert len(set(priorities)) == len(priorities)  # as written in the file, unique within the sheet


def test_a_tab_without_a_key_keeps_added_columns_by_position(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2, 3], key=False), book)
    user = openpyxl.load_workbook(book)
    user["Prices"]["J6"] = "first row note"
    user.save(book)
    outcome = write_report_xlsx(prices([3, 2, 1], key=False), book)
    assert any("declares no row key" in w for w in outcome.warnings)
    assert cells(book, "Prices")["0003"][9] == "first row note"


def test_a_repeated_key_is_a_warning_and_rows_keep_their_order(tmp_path: Path) -> None:
    def twice(codes: list[int]) -> Workbook:
        workbook = prices(codes)
        first = next(row for row in workbook.tabs[0].rows if row[0] == "0001")
        workbook.tabs[0].rows = [*workbook.tabs[0].rows, list(first)]
        workbook.tabs[0].rows[-1][1] = "second"
        return workbook

    book = tmp_path / "book.xlsx"
    write_report_xlsx(twice([1, 2]), book)
    user = openpyxl.load_workbook(book)
    user["Prices"]["J6"], user["Prices"]["J8"] = "first 0001", "second 0001"
    user.save(book)
    outcome = write_report_xlsx(twice([2, 1]), book)
    assert any("repeats (0001)" in w for w in outcome.warnings)
    ws = openpyxl.load_workbook(book)["Prices"]
    assert [(ws[f"A{r}"].value, ws[f"B{r}"].value, ws[f"J{r}"].value) for r in (6, 7, 8)] == [
        ("0002", "Kettle 2", None),
        ("0001", "Kettle 1", "first 0001"),
        ("0001", "second", "second 0001"),
    ]


def test_an_xlsm_keeps_its_macros(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsm"
    write_report_xlsx(prices([1, 2]), tmp_path / "plain.xlsx")
    package = XlsxPackage.open(tmp_path / "plain.xlsx")
    package.put("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not really a macro project")
    package.set_content_type("xl/vbaProject.bin", "application/vnd.ms-office.vbaProject")
    package.set_content_type("xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    package.add_relationship(
        "xl/workbook.xml", "http://schemas.microsoft.com/office/2006/relationships/vbaProject", "xl/vbaProject.bin"
    )
    package.save(book)
    write_report_xlsx(prices([2, 3]), book)
    after = XlsxPackage.open(book)
    assert after.parts["xl/vbaProject.bin"] == b"\xd0\xcf\x11\xe0 not really a macro project"
    assert after.content_type("xl/workbook.xml") == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert cells(book, "Prices")["0003"][1] == "Kettle 3"


def test_a_report_tab_that_vanished_is_kept_and_released(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2]), book)
    only_prices = prices([1, 2])
    only_prices.tabs = [only_prices.tabs[0]]
    only_prices.tabs[0].validations = []
    outcome = write_report_xlsx(only_prices, book)
    assert outcome.released == ["Customers"]
    assert openpyxl.load_workbook(book).sheetnames == ["Prices", "Customers"]
    assert write_report_xlsx(only_prices, book).status == "unchanged"


def test_an_xlsm_output_must_exist(tmp_path: Path) -> None:
    from sheetsync.errors import SinkError
    from sheetsync.sinks.targets import XlsxTarget, parse_target

    with pytest.raises(SinkError, match=r"an \.xlsm must already exist"):
        parse_target(str(tmp_path / "book.xlsm"))
    (tmp_path / "book.xlsm").write_bytes(b"x")
    assert parse_target(str(tmp_path / "book.xlsm")) == XlsxTarget(tmp_path / "book.xlsm")


def renamed(workbook: Workbook, name: str) -> Workbook:
    """The same report, its first tab now called `name` (a customer renamed in the API)."""
    workbook.tabs[0].name = name
    return workbook


def test_a_renamed_report_tab_keeps_its_name_while_the_users_formulas_refer_to_it(tmp_path: Path) -> None:
    book = user_workbook(tmp_path)

    outcome = write_report_xlsx(renamed(prices([3, 1, 2], price_bump=100), "Kettle's & Co Prices"), book)

    assert outcome.status == "refreshed"
    assert any("tab 'Prices' keeps its name although the report now calls it" in w for w in outcome.warnings)
    reopened = recalculate_with_libreoffice(book, tmp_path / "lo2", recalculate_on_load=True)
    values = openpyxl.load_workbook(reopened, data_only=True)
    assert values.sheetnames[:2] == ["Prices", "Customers"]
    assert values["MyAnalysis"]["A2"].value == pytest.approx(103.13 + 101.13 + 102.13)
    assert cells(book, "Prices")["0001"][9] == "call about 0001"
    names = openpyxl.load_workbook(book).defined_names
    assert "Prices" in XlsxPackage.open(book).read_xml("xl/workbook.xml").findtext(
        "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}definedNames/"
        "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}definedName[@localSheetId='0']"
    )
    assert "PriceCells" in names


def test_a_report_tab_the_user_renamed_is_still_refreshed_under_their_name(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2]), book)
    user = openpyxl.load_workbook(book)
    user["Prices"].title = "Our kettles"
    user["Our kettles"]["J5"] = "Buyer notes"
    user["Our kettles"]["J7"] = "ask for a discount"
    user.save(book)

    outcome = write_report_xlsx(prices([2, 1, 3], price_bump=5), book)

    assert outcome.status == "refreshed" and not outcome.warnings
    assert openpyxl.load_workbook(book).sheetnames == ["Our kettles", "Customers"]
    rows = cells(book, "Our kettles")
    assert list(rows) == ["0002", "0001", "0003"]
    assert rows["0002"][2] == pytest.approx(7.13) and rows["0002"][9] == "ask for a discount"
    assert write_report_xlsx(prices([2, 1, 3], price_bump=5), book).status == "unchanged"
    assert write_report_xlsx(prices([1, 3], price_bump=6), book).status == "refreshed"  # and the next ones
    assert openpyxl.load_workbook(book).sheetnames[0] == "Our kettles"


def reshaped(workbook: Workbook, *, drop: str | None = None, brand_at: int | None = None) -> Workbook:
    """The report with its column `drop` removed and/or a "Brand" column inserted at index `brand_at`."""
    from sheetsync.model import Column

    tab = workbook.tabs[0]
    if drop is not None:
        index = tab.column_index(drop)
        tab.columns = [c for i, c in enumerate(tab.columns) if i != index]
        tab.rows = [[v for i, v in enumerate(row) if i != index] for row in tab.rows]
        tab.rules = [r for r in tab.rules if drop not in r.columns]
        tab.validations = [v for v in tab.validations if v.column != drop]
    if brand_at is not None:
        tab.columns = [*tab.columns[:brand_at], Column("Brand"), *tab.columns[brand_at:]]
        tab.rows = [[*row[:brand_at], f"Brand of {row[0]}", *row[brand_at:]] for row in tab.rows]
    return workbook


def user_columns_with_formulas(tmp_path: Path) -> Path:
    """Report columns A..H (Price in C, Qty in D), the user's J (notes), K (=C*2), L (=$D+K), a total
    of K under the data, a highlight on K and a list on J; saved by LibreOffice."""
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    first = tmp_path / "first" / "book.xlsx"
    first.parent.mkdir()
    write_report_xlsx(prices([1, 2, 3]), first)
    user = openpyxl.load_workbook(first)
    ws = user["Prices"]
    ws["J5"], ws["K5"], ws["L5"] = "Buyer notes", "Double", "Plus qty"
    for row in (6, 7, 8):
        ws[f"J{row}"] = f"note {row}"
        ws[f"K{row}"] = f"=C{row}*2"
        ws[f"L{row}"] = f"=$D{row}+K{row}"
    ws["K12"] = "=SUM(K6:K8)"
    fill = PatternFill("solid", fgColor="FF0000")
    ws.conditional_formatting.add("K6:K8", CellIsRule(operator="greaterThan", formula=["$C6*3"], fill=fill))
    choices = DataValidation(type="list", formula1='"ok,call"')
    choices.add("J6:J8")
    ws.add_data_validation(choices)
    user.save(first)
    return recalculate_with_libreoffice(first, tmp_path / "lo")


@pytest.mark.parametrize(
    ("change", "columns"),
    [
        ({"drop": "Since", "brand_at": 1}, "JKL"),  # Price C -> D, Qty D -> E, still 8 columns
        ({"brand_at": 7}, "KLM"),  # a ninth column at the end: the user's columns move right by one
        ({"drop": "Customer"}, "IJK"),  # seven columns: they move left by one
    ],
)
def test_user_formulas_follow_the_report_columns_by_header(tmp_path: Path, change: dict, columns: str) -> None:
    book = user_columns_with_formulas(tmp_path)
    notes, double, plus = columns

    outcome = write_report_xlsx(reshaped(prices([3, 1, 2, 4], price_bump=10), **change), book)

    assert outcome.status == "refreshed" and outcome.orphans == 0, outcome.warnings
    ws = openpyxl.load_workbook(book)["Prices"]
    headers = [c.value for c in ws[5]]
    price = openpyxl.utils.get_column_letter(headers.index("Price") + 1)
    qty = openpyxl.utils.get_column_letter(headers.index("Qty") + 1)
    assert (ws[f"{notes}5"].value, ws[f"{double}5"].value, ws[f"{plus}5"].value) == (
        "Buyer notes",
        "Double",
        "Plus qty",
    )
    assert ws[f"{notes}7"].value == "note 6" and ws[f"{double}7"].value == f"={price}7*2"  # 0001 now second
    assert ws[f"{plus}7"].value == f"=${qty}7+{double}7"
    assert ws[f"{notes}9"].value is None and ws[f"{double}9"].value is None  # 0004 is new
    assert ws[f"{double}13"].value == f"=SUM({double}6:{double}9)"  # the total grew with the data
    sqrefs = {str(cf.sqref): [r.formula for r in cf.rules] for cf in ws.conditional_formatting}
    assert sqrefs[f"{double}6:{double}9"] == [[f"${price}6*3"]]
    assert f"{notes}6:{notes}9" in [str(v.sqref) for v in ws.data_validations.dataValidation]
    values = openpyxl.load_workbook(
        recalculate_with_libreoffice(book, tmp_path / "lo2", recalculate_on_load=True), data_only=True
    )["Prices"]
    assert values[f"{double}7"].value == pytest.approx(2 * 11.13)
    assert values[f"{plus}7"].value == pytest.approx(10 + 2 * 11.13)
    assert values[f"{double}13"].value == pytest.approx(2 * (13.13 + 11.13 + 12.13))


def test_a_report_column_that_is_gone_is_ref_in_user_formulas_and_said(tmp_path: Path) -> None:
    book = user_columns_with_formulas(tmp_path)

    outcome = write_report_xlsx(reshaped(prices([1, 2, 3]), drop="Qty"), book)

    assert openpyxl.load_workbook(book)["Prices"]["K6"].value == "=#REF!+J6"
    assert any("3 reference(s) in the columns you added" in w and "#REF!" in w for w in outcome.warnings)


def test_a_column_the_user_inserted_between_the_reports_is_kept_and_moved_right(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2, 3]), book)
    user = openpyxl.load_workbook(book)
    ws = user["Prices"]
    ws.insert_cols(3)  # between Name and Price, as Excel's Insert > Column
    ws["C5"] = "Rating"
    ws["C7"] = "good"  # beside 0002
    ws["K5"], ws["K6"] = "Buyer notes", "call"  # right of the report (now ending in I), beside 0001
    user.save(book)
    saved = recalculate_with_libreoffice(book, tmp_path / "lo")

    outcome = write_report_xlsx(prices([2, 3, 1], price_bump=1), saved)

    ws = openpyxl.load_workbook(saved)["Prices"]
    assert [c.value for c in ws[5]][:8] == [c.header for c in prices([1]).tabs[0].columns]
    rows = cells(saved, "Prices")
    assert rows["0002"][8:11] == ["good", None, None]  # Rating now in I, right of the report
    assert rows["0001"][8:11] == [None, None, "call"]  # the gap and Buyer notes keep their places after it
    assert ws["I5"].value == "Rating" and ws["K5"].value == "Buyer notes"
    assert rows["0003"][:3] == ["0003", "Kettle 3", pytest.approx(4.13)]
    assert any(
        "your column(s) 'Rating' between the report's columns now sit to the right" in w for w in outcome.warnings
    )


def test_a_protected_report_tab_stays_protected(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2]), book)
    user = openpyxl.load_workbook(book)
    user["Prices"].protection.sheet = True
    user["Prices"].protection.password = "finance"
    user.save(book)

    write_report_xlsx(prices([2, 1, 3]), book)

    ws = openpyxl.load_workbook(book)["Prices"]
    assert ws.protection.sheet and ws.protection.password
    assert list(cells(book, "Prices")) == ["0002", "0001", "0003"]


def test_a_workbook_with_a_protected_structure_gets_no_new_or_renamed_tab(tmp_path: Path) -> None:
    from openpyxl.workbook.protection import WorkbookProtection

    book = tmp_path / "book.xlsx"
    write_report_xlsx(Workbook("price-list", [customers_tab()]), book)
    user = openpyxl.load_workbook(book)
    user.security = WorkbookProtection(workbookPassword="finance", lockStructure=True)
    user.save(book)
    data = book.read_bytes()

    with pytest.raises(
        SinkError, match=r"nothing written: the workbook's structure is protected .*'Prices' would be added"
    ):
        write_report_xlsx(prices([1, 2]), book)
    assert book.read_bytes() == data
    with pytest.raises(SinkError, match=r"structure is protected .*tab 'Customers' would be renamed 'Our customers'"):
        write_report_xlsx(renamed(Workbook("price-list", [customers_tab()]), "Our customers"), book)
    assert book.read_bytes() == data
    refreshed = write_report_xlsx(Workbook("price-list", [customers_tab(("Kettles", "Pans"))]), book)
    assert refreshed.status == "refreshed"
    assert [r[0].value for r in openpyxl.load_workbook(book)["Customers"].iter_rows()][-2:] == ["Kettles", "Pans"]


def test_a_tab_a_pivot_table_reads_from_keeps_its_name(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2, 3]), book)
    user = openpyxl.load_workbook(book)
    user.create_sheet("Mine")["A1"] = "my pivot"
    user.save(book)
    add_pivot_table(book, "Prices", "A5:C8", "Mine")

    outcome = write_report_xlsx(renamed(prices([1, 2, 3], price_bump=1), "Kettle prices"), book)

    assert any("tab 'Prices' keeps its name" in w and "pivotCacheDefinition1.xml" in w for w in outcome.warnings)
    assert openpyxl.load_workbook(book).sheetnames[:2] == ["Prices", "Customers"]


def test_a_check_the_user_wrote_under_the_report_moves_with_its_end(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2, 3]), book)  # data in rows 6-8, the report's totals in row 9
    user = openpyxl.load_workbook(book)
    ws = user["Prices"]
    assert ws.max_row == 9
    ws["A12"], ws["C12"] = "My check", "=SUM(C6:C8)"
    user.save(book)

    write_report_xlsx(prices([5, 4, 3, 2, 1]), book)  # data in rows 6-10, totals in row 11

    ws = openpyxl.load_workbook(book)["Prices"]
    assert (ws["A14"].value, ws["C14"].value) == ("My check", "=SUM(C6:C10)")
    assert ws["A12"].value is None and ws["C12"].value is None
    reopened = recalculate_with_libreoffice(book, tmp_path / "lo", recalculate_on_load=True)
    assert openpyxl.load_workbook(reopened, data_only=True)["Prices"]["C14"].value == pytest.approx(15.65)


@pytest.mark.parametrize("name", ["Mary's & Co <West>", 'Ünïcode "Tab" 📈'])
def test_a_referenced_tab_with_quotes_ampersands_or_unicode_keeps_its_name(tmp_path: Path, name: str) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(renamed(prices([1, 2]), name), book)
    user = openpyxl.load_workbook(book)
    user.create_sheet("Mine")["A1"] = "='" + name.replace("'", "''") + "'!C6*2"
    user.save(book)
    saved = recalculate_with_libreoffice(book, tmp_path / "lo")

    outcome = write_report_xlsx(renamed(prices([2, 1], price_bump=1), "Renamed"), saved)

    assert any(f"tab {name!r} keeps its name" in w for w in outcome.warnings)
    reopened = recalculate_with_libreoffice(saved, tmp_path / "lo2", recalculate_on_load=True)
    values = openpyxl.load_workbook(reopened, data_only=True)
    assert values.sheetnames[0] == name
    assert values["Mine"]["A1"].value == pytest.approx(2 * 3.13)


@pytest.mark.parametrize("kind", ["table", "name"])
def test_a_table_or_name_of_the_users_with_the_reports_table_name_is_a_refusal(tmp_path: Path, kind: str) -> None:
    from openpyxl.worksheet.table import Table

    book = tmp_path / "mine.xlsx"
    user = openpyxl.Workbook()
    user.active.title = "Mine"
    user.active.append(["a", "b"])
    user.active.append([1, 2])
    if kind == "table":
        user.active.add_table(Table(displayName="price_list_prices", ref="A1:B2"))
    else:
        user.defined_names["price_list_prices"] = DefinedName("price_list_prices", attr_text="Mine!$A$1")
    user.save(book)
    data = book.read_bytes()

    with pytest.raises(
        SinkError,
        match=r"nothing written: your (table|name) 'price_list_prices'.* has the name the report's table needs",
    ):
        write_report_xlsx(prices([1, 2]), book)
    assert book.read_bytes() == data


def test_a_report_tab_with_its_own_chart_is_renamed_when_nothing_of_the_users_refers_to_it(tmp_path: Path) -> None:
    from sheetsync.model import Chart

    def charted(workbook: Workbook) -> Workbook:
        workbook.tabs[0].chart = Chart("Totals", ("Price",))
        return workbook

    book = tmp_path / "book.xlsx"
    write_report_xlsx(charted(prices([1, 2])), book)

    outcome = write_report_xlsx(charted(renamed(prices([1, 2, 3]), "Kettle prices")), book)

    assert not outcome.warnings
    assert openpyxl.load_workbook(book).sheetnames == ["Kettle prices", "Customers"]
    package = XlsxPackage.open(book)
    charts = [name for name in package.parts if name.startswith("xl/charts/chart")]
    assert charts and all(b"'Kettle prices'!" in package.parts[name] for name in charts)


def test_report_columns_and_rows_the_user_hid_stay_hidden(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2, 3]), book)
    user = openpyxl.load_workbook(book)
    ws = user["Prices"]
    ws.column_dimensions["D"].hidden = True  # Qty
    ws.row_dimensions[7].hidden = True  # 0002
    user.save(book)

    write_report_xlsx(reshaped(prices([2, 3, 1]), brand_at=1), book)  # Qty now in E, 0002 first

    ws = openpyxl.load_workbook(book)["Prices"]
    assert ws["E5"].value == "Qty" and ws.column_dimensions["E"].hidden
    assert not ws.column_dimensions["D"].hidden and not ws.column_dimensions["C"].hidden
    assert ws["A6"].value == "0002" and ws.row_dimensions[6].hidden
    assert not ws.row_dimensions[7].hidden and not ws.row_dimensions[8].hidden


def test_notes_beside_a_report_whose_column_the_user_deleted_are_kept(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2, 3]), book)
    user = openpyxl.load_workbook(book)
    ws = user["Prices"]
    ws.delete_cols(5)  # "Since": the report now ends in G, as the user sees it
    ws["I5"], ws["I6"] = "Buyer notes", "call about 0001"
    user.save(book)

    outcome = write_report_xlsx(prices([3, 2, 1]), book)

    assert outcome.kept_cells == 2 and not outcome.orphans
    ws = openpyxl.load_workbook(book)["Prices"]
    assert ws["E5"].value == "Since" and ws["H5"].value == "Customer"  # the report's columns, all of them
    assert ws["J5"].value == "Buyer notes" and ws["J8"].value == "call about 0001"  # beside 0001, now last


def test_a_report_tab_that_lost_its_record_is_refused_with_the_likely_reason(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2]), book)
    package = XlsxPackage.open(book)  # as a Google Sheets download keeps it: no custom properties
    package.set_custom_properties({name: None for name in package.custom_properties()})
    package.save()
    data = book.read_bytes()

    with pytest.raises(
        SinkError, match=r"tab 'Prices' has the report's name and columns but the workbook has no record"
    ):
        write_report_xlsx(prices([1, 2, 3]), book)
    assert book.read_bytes() == data


def test_a_column_excel_added_to_the_reports_table_stays_a_table_column(tmp_path: Path) -> None:
    """Typing a header beside a table makes it a table column in Excel (AutoCorrect's "include new
    columns in table"): the refresh keeps it in the table, so `price_list_prices[Buyer notes]` still
    resolves, instead of cutting the table back to the report's columns."""
    from openpyxl.worksheet.table import TableColumn, TableFormula

    book = tmp_path / "book.xlsx"
    write_report_xlsx(prices([1, 2, 3]), book)
    wb = openpyxl.load_workbook(book)
    ws = wb["Prices"]
    table = ws.tables["price_list_prices"]
    assert table.ref == "A5:H8"
    ws["I5"], ws["J5"] = "Buyer notes", "Double"
    for row in (6, 7, 8):
        ws[f"I{row}"] = f"note {ws[f'A{row}'].value}"
        ws[f"J{row}"] = f"=C{row}*2"
    table.ref = table.autoFilter.ref = "A5:J8"
    table.tableColumns.append(TableColumn(id=9, name="Buyer notes"))
    formula = TableFormula(attr_text="price_list_prices[[#This Row],[Price]]*2")
    table.tableColumns.append(TableColumn(id=10, name="Double", calculatedColumnFormula=formula))
    wb.create_sheet("Mine")["A1"] = "=COUNTA(price_list_prices[Buyer notes])"
    wb.save(book)

    write_report_xlsx(prices([3, 4, 1, 5]), book)

    ws = openpyxl.load_workbook(book)["Prices"]
    table = ws.tables["price_list_prices"]
    assert table.ref == table.autoFilter.ref == "A5:J9"
    columns = list(table.tableColumns)
    assert [c.name for c in columns[-3:]] == ["Customer", "Buyer notes", "Double"]
    assert columns[-1].calculatedColumnFormula.attr_text == "price_list_prices[[#This Row],[Price]]*2"
    assert len({c.id for c in columns}) == len(columns) == 10
    assert [ws[f"I{r}"].value for r in range(6, 10)] == ["note 0003", None, "note 0001", None]


def test_a_carried_formula_shows_its_new_value_even_where_cached_values_are_trusted(tmp_path: Path) -> None:
    """LibreOffice's default trusts an xlsx file's cached results: a formula carried beside refreshed
    rows must not keep a result computed from the old ones."""
    book = user_workbook(tmp_path)
    assert cells(book, "Prices", data_only=True)["0001"][10] == pytest.approx(2.26)  # =C6*2
    write_report_xlsx(prices([7, 5, 3, 6, 1], price_bump=100), book)
    assert cells(book, "Prices", data_only=True)["0001"][10] is None  # no stale 2.26 for a reader
    reopened = recalculate_with_libreoffice(book, tmp_path / "lo2")  # default settings: no forced recalculation
    assert cells(reopened, "Prices", data_only=True)["0001"][10] == pytest.approx(202.26)
