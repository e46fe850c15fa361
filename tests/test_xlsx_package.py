"""The xlsx package editor: cells change, every other part of the package stays byte-identical."""

from __future__ import annotations

import os
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from helpers_lo import recalculate_with_libreoffice, soffice
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from python_calamine import CalamineWorkbook

from sheetsync.errors import SinkError
from sheetsync.sinks.xlsx_package import CellEdit, CellStyle, Formula, XlsxPackage, edit_cells

needs_lo = pytest.mark.skipif(soffice() is None and not os.environ.get("CI"), reason="LibreOffice is not installed")


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def changed_parts(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    names = set(before) | set(after)
    return {n for n in names if before.get(n) != after.get(n)}


def user_book(path: Path) -> Path:
    """A workbook as a user keeps it: two sheets, shared strings, a formula, a chart, a comment."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Payments"
    ws.append(["Invoice", "Amount", "Outcome"])
    for i in range(1, 6):
        ws.append([f"INV-{i}", i * 10.5, None])
    ws["B8"] = "=SUM(B2:B6)"
    ws["A1"].comment = Comment("the user's note", "me")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=6), titles_from_data=True)
    ws.add_chart(chart, "E2")
    other = book.create_sheet("Mine")
    other["A1"] = "=Payments!B8*2"
    book.save(path)
    return path


def test_edit_cells_changes_only_the_edited_sheet_and_styles(tmp_path: Path) -> None:
    path = user_book(tmp_path / "book.xlsx")
    before = parts(path)
    edit_cells(
        path,
        [
            CellEdit("Payments", "C2", "posted"),
            CellEdit("payments", "C3", "=1+1"),  # a tab name matches ignoring case; text is never a formula
            CellEdit("Payments", "D2", date(2024, 5, 1)),
            CellEdit("Payments", "E3", Decimal("12.50"), CellStyle(number_format='"$"#,##0.00', bold=True)),
            CellEdit("Payments", "C20", 42),
        ],
    )
    assert changed_parts(before, parts(path)) == {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    ws = openpyxl.load_workbook(path)["Payments"]
    assert ws["C2"].value == "posted"
    assert (ws["C3"].value, ws["C3"].data_type) == ("=1+1", "s")
    assert ws["D2"].value == datetime(2024, 5, 1) and ws["D2"].number_format == "yyyy-mm-dd"
    assert ws["E3"].value == 12.5 and ws["E3"].font.b and ws["E3"].number_format == '"$"#,##0.00'
    assert ws["C20"].value == 42
    assert ws["B8"].value == "=SUM(B2:B6)" and ws["A1"].comment.text.startswith("the user's note")
    values = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Payments").to_python()
    assert values[1][2] == "posted" and values[2][2] == "=1+1"


def test_a_style_is_merged_onto_the_cell_style_and_reused(tmp_path: Path) -> None:
    path = user_book(tmp_path / "book.xlsx")
    package = XlsxPackage.open(path)
    count = len(package.styles.root.find(f"{{{package.styles.root.nsmap[None]}}}cellXfs"))
    bold = CellStyle(bold=True, fill="#FFF2CC")
    package.set_cells([CellEdit("Payments", f"C{r}", "done", bold) for r in range(2, 7)])
    package.save()
    styles = XlsxPackage.open(path).styles
    assert len(styles.root.find(f"{{{styles.root.nsmap[None]}}}cellXfs")) == count + 1
    ws = openpyxl.load_workbook(path)["Payments"]
    assert all(ws[f"C{r}"].font.b and ws[f"C{r}"].fill.fgColor.rgb == "FFFFF2CC" for r in range(2, 7))


def test_a_formula_flags_recalculation_on_open(tmp_path: Path) -> None:
    path = user_book(tmp_path / "book.xlsx")
    edit_cells(path, [CellEdit("Mine", "B1", Formula("=A1+1"))])
    book = openpyxl.load_workbook(path)
    assert book["Mine"]["B1"].value == "=A1+1"
    assert book.calculation.fullCalcOnLoad


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (CellEdit("Nope", "A1", 1), "no tab named 'Nope'"),
        (CellEdit("Payments", "A0", 1), "'A0' is not a cell reference"),
        (CellEdit("Payments", "B2:B3", 1), "is not a cell reference"),
        (CellEdit("Payments", "A1", float("nan")), "not a number"),
    ],
)
def test_a_bad_edit_leaves_the_file_untouched(tmp_path: Path, edit: CellEdit, message: str) -> None:
    path = user_book(tmp_path / "book.xlsx")
    before = path.read_bytes()
    with pytest.raises(SinkError, match=message):
        edit_cells(path, [CellEdit("Payments", "C2", "posted"), edit])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


def test_copy_to_writes_a_copy_and_keeps_the_original(tmp_path: Path) -> None:
    path = user_book(tmp_path / "book.xlsx")
    before = path.read_bytes()
    edit_cells(path, [CellEdit("Payments", "C2", "posted")], copy_to=tmp_path / "copy.xlsx")
    assert path.read_bytes() == before
    assert openpyxl.load_workbook(tmp_path / "copy.xlsx")["Payments"]["C2"].value == "posted"


def test_custom_properties_round_trip_and_keep_others(tmp_path: Path) -> None:
    path = user_book(tmp_path / "book.xlsx")
    package = XlsxPackage.open(path)
    package.set_custom_properties({"owner": "finance", "sheetsync:x": "1"})
    package.save()
    package = XlsxPackage.open(path)
    package.set_custom_properties({"sheetsync:x": None, "sheetsync:y": "2"})
    package.save()
    assert XlsxPackage.open(path).custom_properties() == {"owner": "finance", "sheetsync:y": "2"}
    openpyxl.load_workbook(path)  # still a valid package


def test_a_cell_of_a_shared_formula_group_gets_its_own_formula(tmp_path: Path) -> None:
    path = user_book(tmp_path / "book.xlsx")
    package = XlsxPackage.open(path)
    sheet = package.sheet("Payments").part
    xml = package.parts[sheet].decode()
    shared = '<c r="D2"><f t="shared" ref="D2:D4" si="0">B2*2</f><v>21</v></c>'
    xml = xml.replace('<c r="B2" t="n"><v>10.5</v></c>', '<c r="B2" t="n"><v>10.5</v></c>' + shared)
    xml = xml.replace(
        '<c r="B3" t="n"><v>21</v></c>', '<c r="B3" t="n"><v>21</v></c><c r="D3"><f t="shared" si="0"/><v>42</v></c>'
    )
    xml = xml.replace(
        '<c r="B4" t="n"><v>31.5</v></c>',
        '<c r="B4" t="n"><v>31.5</v></c><c r="D4"><f t="shared" si="0"/><v>63</v></c>',
    )
    package.put(sheet, xml.encode())
    package.save()
    edit_cells(path, [CellEdit("Payments", "D2", "replaced")])
    ws = openpyxl.load_workbook(path)["Payments"]
    assert (ws["D2"].value, ws["D3"].value, ws["D4"].value) == ("replaced", "=B3*2", "=B4*2")


@needs_lo
@pytest.mark.libreoffice
def test_edits_a_workbook_last_saved_by_libreoffice(tmp_path: Path) -> None:
    saved = recalculate_with_libreoffice(user_book(tmp_path / "book.xlsx"), tmp_path / "lo")
    before = parts(saved)
    edit_cells(saved, [CellEdit("Payments", "C2", "posted"), CellEdit("Payments", "C3", date(2024, 1, 31))])
    after = parts(saved)
    assert changed_parts(before, after) == {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    book = openpyxl.load_workbook(saved, data_only=True)
    assert book["Mine"]["A1"].value == pytest.approx(157.5 * 2)  # cached value kept
    assert book["Payments"]["C2"].value == "posted" and book["Payments"]["C3"].value == datetime(2024, 1, 31)
    assert any(name.startswith("xl/charts/chart") for name in after)
    again = recalculate_with_libreoffice(saved, tmp_path / "lo2")
    assert openpyxl.load_workbook(again)["Payments"]["C2"].value == "posted"


def test_a_read_only_workbook_is_refused_untouched(tmp_path: Path) -> None:
    book = user_book(tmp_path / "book.xlsx")
    before = book.read_bytes()
    book.chmod(0o444)
    with pytest.raises(SinkError, match=r"book\.xlsx: the file is read-only; nothing written"):
        edit_cells(book, [CellEdit("Payments", "C2", "posted")])
    assert book.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


@pytest.mark.parametrize(
    ("lock_name", "content", "who"),
    [
        (
            ".~lock.book.xlsx#",
            ",Dana Buyer,finance-pc,30.11.2026 09:12,file:///home/dana/.config/libreoffice/4;",
            "LibreOffice \\(by Dana Buyer",
        ),
        ("~$book.xlsx", "\x05Dana", "Excel"),
    ],
)
def test_a_workbook_open_in_a_spreadsheet_application_is_refused_untouched(
    tmp_path: Path, lock_name: str, content: str, who: str
) -> None:
    book = user_book(tmp_path / "book.xlsx")
    before = book.read_bytes()
    (tmp_path / lock_name).write_text(content)
    with pytest.raises(SinkError, match=f"book\\.xlsx: the workbook is open in {who}.*nothing written"):
        edit_cells(book, [CellEdit("Payments", "C2", "posted")])
    assert book.read_bytes() == before


def test_a_symbolic_link_stays_a_link_to_the_refreshed_file(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    real = user_book(tmp_path / "shared" / "book.xlsx")
    link = tmp_path / "book.xlsx"
    link.symlink_to(real)
    edit_cells(link, [CellEdit("Payments", "C2", "posted")])
    assert link.is_symlink()
    assert openpyxl.load_workbook(real)["Payments"]["C2"].value == "posted"


def test_a_temporary_file_a_killed_write_left_is_removed_by_the_next_write(tmp_path: Path) -> None:
    book = user_book(tmp_path / "book.xlsx")
    stale = tmp_path / ".book.xlsx.k1ll3d.tmp"
    stale.write_bytes(b"PK half a zip")
    os.utime(stale, (0, 0))
    fresh = tmp_path / ".book.xlsx.wr1t1ng.tmp"  # another write, in progress right now
    fresh.write_bytes(b"PK")

    edit_cells(book, [CellEdit("Payments", "C2", "posted")])

    assert sorted(p.name for p in tmp_path.iterdir()) == [".book.xlsx.wr1t1ng.tmp", "book.xlsx"]


KILLED_WRITER = """
import sys, time, zipfile
from pathlib import Path
from sheetsync.sinks.xlsx_package import CellEdit, edit_cells

book, marker = Path(sys.argv[1]), Path(sys.argv[2])
original = zipfile.ZipFile.writestr

def slow_writestr(self, *args, **kwargs):  # half the parts are in the temporary file: now kill me
    original(self, *args, **kwargs)
    if len(self.infolist()) == 3:
        marker.write_text("writing")
        time.sleep(60)

zipfile.ZipFile.writestr = slow_writestr
edit_cells(book, [CellEdit("Payments", "C2", "posted")])
"""


def test_a_write_killed_midway_leaves_the_old_workbook_whole(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    book = user_book(tmp_path / "book.xlsx")
    before = book.read_bytes()
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(book), str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the writer never reached the middle of its write"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)

    assert book.read_bytes() == before  # the old file, whole: never a torn one
    assert openpyxl.load_workbook(book)["Payments"]["A2"].value == "INV-1"
    leftover = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftover) == 1  # the killed write's temporary file, removed by a later write once stale
    os.utime(leftover[0], (0, 0))
    edit_cells(book, [CellEdit("Payments", "C2", "posted")])
    assert not leftover[0].exists() and openpyxl.load_workbook(book)["Payments"]["C2"].value == "posted"
